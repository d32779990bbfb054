"""`options:`: any NixOS option as YAML: notation, tags, checks, and what it compiles to."""

from __future__ import annotations

from pathlib import Path

import pytest

from homelab.lab import Lab
from homelab.profile.options import NotAnOptionPath, key_text, parse_key, settings
from homelab.yamlfile import load_plain
from tests.compiled import evaluate_host
from tests.hosts import PROFILE, problems_of, with_host

HEAD = "host: {stateVersion: '24.05'}\n"


def _built(lab: Path, text: str) -> dict[str, object]:
    state = with_host(lab, HEAD + text)
    assert not state.hosts["gamma"].problems, state.hosts["gamma"].problems
    return evaluate_host(Lab(lab), "gamma")


# ---- the notation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "names"),
    [
        ("services.fwupd.enable", ("services", "fwupd", "enable")),
        ('fileSystems."/srv/media".device', ("fileSystems", "/srv/media", "device")),
        ('networking.hosts."10.0.0.2"', ("networking", "hosts", "10.0.0.2")),
        ('systemd.services."getty@tty1"', ("systemd", "services", "getty@tty1")),
        ('"a.b"', ("a.b",)),
        ("services.pihole-ftl.enable", ("services", "pihole-ftl", "enable")),
    ],
)
def test_a_key_is_read_as_nix_reads_an_attribute_path(key: str, names: tuple[str, ...]) -> None:
    assert parse_key(key) == names
    assert parse_key(key_text(names)) == names


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("networking.hosts.10.0.0.2", 'networking.hosts."10.0.0.2"'),
        ("fileSystems./srv/media", 'fileSystems."/srv/media"'),
        ("a..b", "remove a dot"),
        ("a.", "remove the last dot"),
        ('a."b', 'close the name with a "'),
        ('a.b"c"', "quote the whole name"),
    ],
)
def test_ambiguous_or_broken_keys_are_refused_with_the_spelling_to_use(key: str, hint: str) -> None:
    with pytest.raises(NotAnOptionPath) as err:
        parse_key(key)
    assert hint in err.value.hint


def test_dotted_keys_and_nested_maps_are_the_same_settings() -> None:
    dotted, _ = settings({"services.tlp.settings.CPU": "performance"}, ("options",))
    nested, _ = settings({"services": {"tlp": {"settings": {"CPU": "performance"}}}}, ("options",))
    assert [(s.option, s.value) for s in dotted] == [(s.option, s.value) for s in nested]


# ---- checks, at their place --------------------------------------------------------------


def test_an_option_given_twice_names_both_lines(basic_lab: Path) -> None:
    found = problems_of(
        basic_lab,
        HEAD + "options:\n  services.fwupd.enable: true\n  services:\n    fwupd: {enable: false}\n",
    )
    assert (
        f"{PROFILE}:5:13",
        "services.fwupd.enable is set twice",
        "keep one of the two (the other is on line 3)",
    ) in found


def test_a_whole_value_and_a_part_of_it_are_refused(basic_lab: Path) -> None:
    found = problems_of(
        basic_lab,
        HEAD + "options:\n  services.x: !force {enable: true}\n  services.x.port: 1\n",
    )
    messages = [m for _, m, _ in found]
    assert "services.x.port is part of services.x, which is given a whole value" in messages


def test_bad_tags_and_nix_are_refused_at_their_place(basic_lab: Path) -> None:
    found = problems_of(
        basic_lab,
        HEAD
        + "options:\n"
        + "  environment.systemPackages: [!pkg 'htop two']\n"
        + "  boot.kernelPackages: !nix pkgs.linuxPackages_latest +\n"
        + "  environment.etc.a.source: !nix /etc/passwd\n"
        + "  environment.etc.b.source: !nix |\n"
        + "    ../../../outside\n"
        + "  environment.etc.c.source: !nix ../../secrets/tailscale-authkey\n"
        + "packages: [!pkg htop]\n",
    )
    by_place = {place: (message, hint) for place, message, hint in found}
    assert by_place[f"{PROFILE}:3:32"][0] == "!pkg 'htop two' is not a package attribute path"
    assert by_place[f"{PROFILE}:4:24"][0].startswith("!nix value is not one Nix expression")
    assert by_place[f"{PROFILE}:5:29"][0].startswith(
        "!nix path /etc/passwd (line 1, column 1 of the text): an absolute path"
    )
    assert by_place[f"{PROFILE}:7:5"][0] == "!nix path ../../../outside: it climbs out of the lab"
    assert "world-readable Nix store" in by_place[f"{PROFILE}:8:29"][0]
    assert by_place[f"{PROFILE}:9:12"][0] == "the tag !pkg is not read here"


def test_a_plaintext_password_is_refused_in_options_too(basic_lab: Path) -> None:
    found = problems_of(
        basic_lab,
        HEAD
        + "options:\n  users.users.bob.password: x\n"
        + "  users.users: {carol: !force {initialPassword: y}}\n",
    )
    refused = [(place, m) for place, m, hint in found if "mkpasswd" in hint]
    assert refused == [
        (
            f"{PROFILE}:3:3",
            "a plaintext password is not allowed: it would be stored in the "
            "world-readable Nix store",
        ),
        (
            f"{PROFILE}:4:32",
            "a plaintext initialPassword is not allowed: it would be stored in "
            "the world-readable Nix store",
        ),
    ]


def test_a_key_named_like_a_tag_is_refused(basic_lab: Path) -> None:
    found = problems_of(basic_lab, HEAD + "options:\n  x: {'!pkg': htop}\n")
    assert any("'!pkg' cannot be a key" in m for _, m, _ in found)


# ---- double definitions with the profile's sections -------------------------------------------


def test_an_option_also_set_by_a_section_with_another_value_is_an_error(basic_lab: Path) -> None:
    found = problems_of(
        basic_lab,
        "host: {stateVersion: '24.05', timezone: UTC}\noptions:\n  time.timeZone: Europe/Paris\n",
    )
    assert found == [
        (
            f"{PROFILE}:3:3",
            "time.timeZone is set twice with different values: here and by host.timezone (line 1)",
            "keep one of the two; to override on purpose, write the value here with !force",
        )
    ]


def test_the_same_value_twice_a_forced_value_and_a_list_are_not_errors(basic_lab: Path) -> None:
    found = problems_of(
        basic_lab,
        "host: {stateVersion: '24.05', timezone: UTC, locale: en_US.UTF-8}\n"
        "networking: {firewall: {tcp: [22]}}\n"
        "options:\n  time.timeZone: UTC\n  i18n.defaultLocale: !force C.UTF-8\n"
        "  networking.firewall.allowedTCPPorts: [8080]\n",
    )
    assert found == []


# ---- what it compiles to --------------------------------------------------------------------


def test_values_tags_and_quoted_names_arrive_at_their_options(basic_lab: Path) -> None:
    config = _built(
        basic_lab,
        "options:\n"
        "  services.fwupd.enable: true\n"
        "  services.tlp.settings: {CPU_SCALING_GOVERNOR_ON_AC: performance}\n"
        '  systemd.services.backup: {script: "restic backup /srv", startAt: daily}\n'
        '  systemd.tmpfiles.rules: ["d /srv/media 0755 media media -"]\n'
        "  environment.systemPackages: [!pkg htop, !pkg python3Packages.requests]\n"
        "  boot.kernelPackages: !nix pkgs.linuxPackages_latest\n"
        '  fileSystems."/srv/media": {device: /dev/disk/by-label/media, fsType: ext4}\n'
        '  networking.hosts."10.0.0.2": [nas]\n'
        "  services.x.y: !force 1\n"
        "  services.x.z: !default [a]\n"
        "  services.x.t: '${not interpolated}'\n",
    )
    services = config["services"]
    assert isinstance(services, dict)
    assert services["fwupd"] == {"enable": True}
    assert services["tlp"] == {"settings": {"CPU_SCALING_GOVERNOR_ON_AC": "performance"}}
    # the priorities resolve as NixOS resolves them (alone, each value wins)
    assert services["x"] == {"y": 1, "z": ["a"], "t": "${not interpolated}"}
    lab = Lab(basic_lab)
    text = lab.generated(lab.load(), ["gamma"])["hosts/gamma/options.nix"]
    assert "services.x.y = lib.mkForce 1;" in text
    assert 'services.x.z = lib.mkDefault [ "a" ];' in text
    assert config["systemd"] == {
        "services": {"backup": {"script": "restic backup /srv", "startAt": "daily"}},
        "tmpfiles": {"rules": ["d /srv/media 0755 media media -"]},
    }
    assert config["environment"] == {
        "systemPackages": ["pkgs.htop", "pkgs.python3Packages.requests"]
    }
    assert config["boot"] == {"kernelPackages": "pkgs.linuxPackages_latest"}
    assert config["fileSystems"] == {
        "/srv/media": {"device": "/dev/disk/by-label/media", "fsType": "ext4"}
    }
    assert config["networking"]["hosts"] == {"10.0.0.2": ["nas"]}  # type: ignore[index]


def test_dotted_and_nested_keys_compile_to_the_same_configuration(basic_lab: Path) -> None:
    dotted = _built(
        basic_lab, "options:\n  services.tlp.settings.A: 1\n  services.tlp.enable: true\n"
    )
    nested = _built(basic_lab, "options:\n  services:\n    tlp: {settings: {A: 1}, enable: true}\n")
    assert dotted == nested


def test_home_options_go_to_the_users_home_manager(basic_lab: Path) -> None:
    config = _built(
        basic_lab,
        "users:\n  alice:\n    home:\n      options:\n"
        "        programs.bat.config.theme: TwoDark\n"
        "        home.packages: [!pkg ripgrep]\n",
    )
    home = config["home-manager"]["users"]["alice"]  # type: ignore[index]
    assert home["programs"]["bat"] == {"config": {"theme": "TwoDark"}}
    assert "pkgs.ripgrep" in home["home"]["packages"]


def test_the_editor_round_trip_reads_tags_as_validation_does() -> None:
    assert load_plain("options:\n  a: !pkg htop\n  b: !force [1]\n") == {
        "options": {"a": {"!pkg": "htop"}, "b": {"!force": [1]}}
    }


def test_a_password_in_a_nix_value_is_refused(basic_lab: Path) -> None:
    found = problems_of(
        basic_lab,
        HEAD + 'options:\n  users.users: !nix |\n    { bob.password = "x"; }\n',
    )
    assert (
        f"{PROFILE}:4:11",
        "a plaintext password (users.users.bob.password) is not allowed: it would be stored "
        "in the world-readable Nix store",
        "use hashedPassword (make one with `mkpasswd -m yescrypt`) or hashedPasswordFile",
    ) in found


def test_an_unknown_section_points_to_options_with_the_option_spelled_out(
    basic_lab: Path,
) -> None:
    found = problems_of(
        basic_lab,
        HEAD + "boot: {tmp: {cleanOnBoot: true}}\nusers:\n  alice: {linger: true}\n",
    )
    hints = {message: hint for _, message, hint in found}
    assert hints["unknown key 'boot'"].endswith(
        "a NixOS option goes under options: e.g. boot.tmp.cleanOnBoot: true"
    )
    assert hints["unknown key 'linger'"].endswith(
        "a NixOS option goes under options: e.g. users.users.alice.linger: true"
    )


def test_home_manager_users_in_the_host_options_are_sent_to_home_options(basic_lab: Path) -> None:
    found = problems_of(
        basic_lab, HEAD + "options:\n  home-manager.users.alice.programs.bat.enable: true\n"
    )
    assert found == [
        (
            f"{PROFILE}:3:3",
            "a user's home-manager options go under users.alice.home.options",
            "move it there as programs.bat.enable",
        )
    ]


# ---- fragments ---------------------------------------------------------------------------


def test_the_profile_overrules_a_fragments_option_in_any_spelling(basic_lab: Path) -> None:
    common = basic_lab / "hosts" / "common"
    common.mkdir(exist_ok=True)
    (common / "opts.yaml").write_text(
        "options:\n  services.fwupd.enable: true\n  services.tlp.settings.A: 1\n"
        "  systemd.tmpfiles.rules: [d /a]\n"
    )
    config = _built(
        basic_lab,
        "include: [../common/opts.yaml]\n"
        "options:\n  services:\n    fwupd: {enable: false}\n"
        "  services.tlp.settings: {B: 2}\n  systemd.tmpfiles.rules: [d /b]\n",
    )
    assert config["services"] == {"fwupd": {"enable": False}, "tlp": {"settings": {"A": 1, "B": 2}}}
    assert config["systemd"] == {"tmpfiles": {"rules": ["d /a", "d /b"]}}


def test_two_fragments_setting_one_option_in_two_spellings_is_an_error(basic_lab: Path) -> None:
    common = basic_lab / "hosts" / "common"
    common.mkdir(exist_ok=True)
    (common / "a.yaml").write_text("options:\n  services.fwupd.enable: true\n")
    (common / "b.yaml").write_text("options:\n  services:\n    fwupd: {enable: false}\n")
    found = problems_of(basic_lab, HEAD + "include: [../common/a.yaml, ../common/b.yaml]\n")
    assert found == [
        (
            "hosts/common/b.yaml:3:13",
            "services.fwupd.enable is set twice",
            "keep one of the two (the other is in hosts/common/a.yaml, line 2)",
        )
    ]


def test_a_password_given_whole_as_a_nix_value_is_said_once_at_its_key(basic_lab: Path) -> None:
    found = problems_of(basic_lab, HEAD + "options:\n  users.users.bob.password: !nix '\"x\"'\n")
    assert [(place, m) for place, m, _ in found] == [
        (
            f"{PROFILE}:3:3",
            "a plaintext password is not allowed: it would be stored in the world-readable Nix "
            "store",
        )
    ]
