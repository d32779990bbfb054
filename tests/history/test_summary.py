"""The profile-level change lines: what a person reads in a commit message."""

from __future__ import annotations

from typing import Any

from homelab.history.summary import host_changes, setting_changes

DEMO: dict[str, Any] = {
    "host": {"stateVersion": "24.11", "timezone": "Europe/Berlin"},
    "users": {"demouser": {"groups": ["wheel"], "home": {"programs": {"bash": {"enable": True}}}}},
    "services": {"openssh": {}, "pihole": {"webPort": 8080}},
    "packages": ["git", "vim"],
    "extraConfig": "services.fwupd.enable = true;\n",
}


def changed(**edits: Any) -> dict[str, Any]:
    import copy

    data = copy.deepcopy(DEMO)
    for dotted, value in edits.items():
        *parents, last = dotted.split("__")
        node = data
        for key in parents:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(last)
        else:
            node[last] = value
    return data


def test_the_same_data_is_no_change_whatever_the_order_of_keys() -> None:
    reordered = dict(reversed(list(DEMO.items())))
    assert host_changes(DEMO, reordered) == []


def test_a_service_added_and_one_removed_are_named() -> None:
    new = changed(services={"openssh": {}, "docker": {}})
    assert host_changes(DEMO, new) == ["service docker added", "service pihole removed"]


def test_a_group_given_to_a_user_reads_as_in_the_issue() -> None:
    new = changed(users__demouser__groups=["wheel", "docker"])
    assert host_changes(DEMO, new) == ["user demouser: groups + docker"]


def test_settings_inside_a_service_are_said_under_its_name() -> None:
    new = changed(services__pihole={"webPort": 8081, "upstreams": ["1.1.1.1"]})
    assert host_changes(DEMO, new) == [
        "service pihole: webPort 8080 -> 8081",
        "service pihole: upstreams + 1.1.1.1",
    ]


def test_things_inside_things_keep_both_names() -> None:
    new = changed(users__demouser__home={"programs": {"bash": {"enable": False}, "starship": {}}})
    assert host_changes(DEMO, new) == [
        "user demouser: program bash: enable true -> false",
        "user demouser: program starship added",
    ]


def test_plain_values_show_before_and_after() -> None:
    new = changed(host__timezone="America/Los_Angeles", host__locale="en_US.UTF-8")
    assert host_changes(DEMO, new) == [
        "host.timezone Europe/Berlin -> America/Los_Angeles",
        "host.locale set to en_US.UTF-8",
    ]


def test_removing_a_value_says_what_it_was() -> None:
    assert host_changes(DEMO, changed(host__timezone=None)) == [
        "host.timezone removed (was Europe/Berlin)"
    ]


def test_lists_say_what_came_and_went() -> None:
    assert host_changes(DEMO, changed(packages=["git", "htop"])) == ["packages + htop - vim"]
    assert host_changes(DEMO, changed(packages=["vim", "git"])) == ["packages reordered"]


def test_long_text_is_only_said_to_have_changed() -> None:
    new = changed(extraConfig="services.fwupd.enable = false;\nboot.tmp.cleanOnBoot = true;\n")
    assert host_changes(DEMO, new) == ["extraConfig changed"]


def test_a_section_added_lists_its_values() -> None:
    new = changed(networking={"firewall": {"tcp": [80, 443]}})
    assert host_changes(DEMO, new) == ["networking.firewall.tcp + 80 + 443"]


def test_hosts_that_come_and_go() -> None:
    assert host_changes(None, DEMO) == ["new host"]
    assert host_changes(DEMO, None) == ["host removed"]
    assert host_changes(None, None) == []


def test_values_that_need_quotes_get_them() -> None:
    new = changed(host__timezone="a b")
    assert host_changes(DEMO, new) == ['host.timezone Europe/Berlin -> "a b"']


def test_the_body_names_each_setting_by_its_path_with_old_and_new() -> None:
    new = changed(
        services__syncthing={"guiPort": 8385, "folders": {"docs": {"path": "/srv/docs"}}},
        services__pihole={"webPort": 8081},
        users__alice={"groups": ["wheel", "audio"], "shell": "zsh"},
        host__timezone=None,
        extraConfig="a\nb\n",
    )
    assert setting_changes(DEMO, new) == [
        "host.timezone: removed (was Europe/Berlin)",
        "users.alice: added",
        "    groups: [wheel, audio]",
        "    shell: zsh",
        "services.pihole.webPort: 8080 -> 8081",
        "services.syncthing: added",
        "    guiPort: 8385",
        "    folders.docs.path: /srv/docs",
        "extraConfig: changed",
    ]
    assert setting_changes(DEMO, DEMO) == []
    assert setting_changes(None, DEMO) == ["new host"]


def test_tagged_options_read_as_written() -> None:
    old = changed(options={"boot.kernelPackages": {"!nix": "pkgs.linuxPackages"}})
    new = changed(
        options={
            "boot.kernelPackages": {"!nix": "pkgs.linuxPackages_latest"},
            "environment.systemPackages": [{"!pkg": "htop"}],
            "services.x": {"!force": {"enable": True}},
        }
    )
    assert setting_changes(old, new) == [
        "options.boot.kernelPackages: !nix pkgs.linuxPackages -> !nix pkgs.linuxPackages_latest",
        "options.environment.systemPackages: [!pkg htop]",
        "options.services.x: !force {enable: true}",
    ]
    assert host_changes(old, new)[0] == (
        "options.boot.kernelPackages !nix pkgs.linuxPackages -> !nix pkgs.linuxPackages_latest"
    )
