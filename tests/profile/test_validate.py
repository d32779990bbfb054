"""Checking a profile: hints, defaults, files it names, patterns that match whole values."""

from __future__ import annotations

from pathlib import Path

from homelab.lab import Lab
from tests.conftest import RunCli
from tests.hosts import PROFILE, problems_of, with_host

# ---- did you mean -------------------------------------------------------------------


def test_did_you_mean_on_keys_services_settings_and_choices(basic_lab: Path) -> None:
    found = problems_of(
        basic_lab,
        "host: {stateVersion: '24.05', timezon: UTC}\n"
        "services:\n  tailscal: {}\n  openssh: {openFirewal: true}\n"
        "hardware: {boot: {loader: grubb, device: /dev/sda}}\n",
    )
    assert (f"{PROFILE}:1:31", "unknown key 'timezon'", "did you mean 'timezone'?") in found
    assert (f"{PROFILE}:3:3", "unknown service 'tailscal'", "did you mean 'tailscale'?") in found
    assert (
        f"{PROFILE}:4:13",
        "unknown key 'openFirewal'",
        "did you mean 'openFirewall'?",
    ) in found
    assert (
        f"{PROFILE}:5:27",
        "'grubb' is not one of: systemd-boot, grub, extlinux",
        "did you mean 'grub'?",
    ) in found


def test_with_nothing_close_the_hint_lists_what_there_is(basic_lab: Path) -> None:
    found = problems_of(
        basic_lab, "host: {stateVersion: '24.05', zzzzz: 1}\nservices: {qqqq: {}}\n"
    )
    hints = {message: hint for _, message, hint in found}
    assert hints["unknown key 'zzzzz'"].startswith("known keys here: keyboard, locale, name")
    assert hints["unknown service 'qqqq'"].startswith("the catalogue has: ")
    assert "openssh" in hints["unknown service 'qqqq'"]


def test_keys_that_are_always_refused_are_not_offered_as_known_keys(basic_lab: Path) -> None:
    found = problems_of(
        basic_lab,
        "host: {stateVersion: '24.05'}\nusers:\n  bob: {zzzzz: 1, passwort: x}\n",
    )
    hints = {message: hint for _, message, hint in found}
    listed = hints["unknown key 'zzzzz'"].removeprefix("known keys here: ").split(", ")
    assert "hashedPassword" in listed
    assert "password" not in listed
    assert "initialPassword" not in listed
    assert "'password'" not in hints["unknown key 'passwort'"]


def test_every_problem_is_reported_at_once_in_file_order(basic_lab: Path) -> None:
    found = problems_of(
        basic_lab,
        "host: {stateVersion: 24.05}\n"
        "users:\n  bob: {password: x, shell: zhs}\n"
        "networking: {firewall: {tcp: [0]}}\n",
    )
    assert len(found) == 4
    state = Lab(basic_lab).load()
    lines = [p.place.line for p in state.all_problems(["gamma"])]
    assert lines == [1, 3, 3, 4]


def test_a_secret_source_may_be_any_bytes(basic_lab: Path) -> None:
    (basic_lab / "secrets").mkdir()
    (basic_lab / "secrets" / "wifi.key").write_bytes(bytes(range(256)))
    state = with_host(
        basic_lab,
        "host: {stateVersion: '24.05'}\n"
        "secrets: {wifi: {source: secrets/wifi.key, target: /var/lib/secrets/wifi.key}}\n",
    )
    assert state.hosts["gamma"].valid


def test_a_hardware_configuration_that_exists_is_accepted(basic_lab: Path) -> None:
    (basic_lab / "hosts" / "gamma").mkdir()
    (basic_lab / "hosts" / "gamma" / "hardware-configuration.nix").write_text("{ }\n")
    state = with_host(
        basic_lab,
        "host: {stateVersion: '24.05'}\nhardware: {configuration: hardware-configuration.nix}\n",
        folder="gamma2",
    )
    # the file is looked for in the host's own folder
    assert [p.message for p in state.hosts["gamma2"].problems] == [
        "hosts/gamma2/hardware-configuration.nix does not exist"
    ]
    (basic_lab / "hosts" / "gamma2" / "hardware-configuration.nix").write_text("{ }\n")
    assert Lab(basic_lab).load().hosts["gamma2"].valid


# ---- the valid profile --------------------------------------------------------------


def test_service_settings_get_the_catalogue_defaults(basic_lab: Path) -> None:
    state = Lab(basic_lab).load()
    beta = state.hosts["beta"].profile
    assert beta is not None
    exporter = beta.service("prometheus-node-exporter")
    assert exporter is not None
    defaults = state.catalog.get("prometheus-node-exporter")
    assert defaults is not None
    expected = {
        key: sub["default"]
        for key, sub in defaults.settings_schema["properties"].items()
        if "default" in sub
    }
    assert expected, "the entry has defaults to fill in"
    assert dict(exporter.settings) == {**expected, "port": 9101}
    openssh = beta.service("openssh")
    assert openssh is not None and openssh.settings["port"] == 22
    assert openssh.settings["passwordAuthentication"] is False


def test_a_default_that_is_a_map_is_filled_in_and_not_shared(basic_lab: Path) -> None:
    state = with_host(basic_lab, "host: {stateVersion: '24.05'}\nservices: {home-assistant: {}}\n")
    profile = state.hosts["gamma"].profile
    assert profile is not None
    settings = profile.service("home-assistant")
    entry = state.catalog.get("home-assistant")
    assert settings is not None and entry is not None
    default = entry.settings_schema["properties"]["config"]["default"]
    assert settings.settings["config"] == default
    assert settings.settings["config"] is not default


def test_the_profile_has_the_host_folder_and_name(basic_lab: Path) -> None:
    state = with_host(basic_lab, "host: {stateVersion: '24.05', name: gamma-box}\n")
    profile = state.hosts["gamma"].profile
    assert profile is not None
    assert (profile.folder, profile.name, profile.file) == ("gamma", "gamma-box", PROFILE)
    assert profile.host.system == "x86_64-linux"
    assert Lab(basic_lab).load().hosts["alpha"].profile.name == "alpha"  # type: ignore[union-attr]


# ---- files a profile names: inside the lab, never into the Nix store -----------------

SECRET = (
    "host: {{stateVersion: '24.05'}}\nsecrets: {{key: {{source: {}, target: /run/keys/key}}}}\n"
)


def home_file(source: str) -> str:
    return (
        "host: {stateVersion: '24.05'}\n"
        f"users: {{alice: {{home: {{files: {{.inputrc: {{source: {source}}}}}}}}}}}\n"
    )


def test_a_secret_source_is_read_in_one_spelling(basic_lab: Path) -> None:
    (basic_lab / "secrets").mkdir()
    (basic_lab / "secrets" / "wifi.key").write_text("psk\n")
    state = with_host(basic_lab, SECRET.format("./secrets/../secrets/wifi.key"))
    profile = state.hosts["gamma"].profile
    assert profile is not None
    # apply compares and reads this spelling: ./hosts/x/f must never pass for another file
    assert [s.source for s in profile.secrets] == ["secrets/wifi.key"]


def test_a_secret_linked_to_a_file_outside_the_lab_is_refused(
    basic_lab: Path, tmp_path: Path
) -> None:
    key = tmp_path / "home" / ".ssh" / "id_ed25519"
    key.parent.mkdir(parents=True)
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (basic_lab / "secrets").mkdir()
    (basic_lab / "secrets" / "deploy.key").symlink_to(key)
    assert problems_of(basic_lab, SECRET.format("secrets/deploy.key")) == [
        (
            f"{PROFILE}:2:25",
            "secrets/deploy.key is a link to a file outside the lab",
            "homelab reads no file outside the lab: copy the file in instead of linking to it",
        )
    ]


def test_a_secret_in_a_folder_linked_out_of_the_lab_is_refused(
    basic_lab: Path, tmp_path: Path
) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "key").write_text("x\n")
    (basic_lab / "secrets").symlink_to(tmp_path / "elsewhere")
    assert [p[1] for p in problems_of(basic_lab, SECRET.format("secrets/key"))] == [
        "secrets/key is a link to a file outside the lab"
    ]


def test_a_link_that_stays_inside_the_lab_is_accepted(basic_lab: Path) -> None:
    (basic_lab / "secrets").mkdir()
    (basic_lab / "secrets" / "wifi-2024.key").write_text("psk\n")
    (basic_lab / "secrets" / "wifi.key").symlink_to("wifi-2024.key")
    assert with_host(basic_lab, SECRET.format("secrets/wifi.key")).hosts["gamma"].valid


def test_a_lab_reached_through_a_link_reads_its_own_secrets(
    basic_lab: Path, tmp_path: Path
) -> None:
    (basic_lab / "secrets").mkdir()
    (basic_lab / "secrets" / "wifi.key").write_text("psk\n")
    linked = tmp_path / "linked-lab"
    linked.symlink_to(basic_lab)
    (basic_lab / "hosts" / "gamma").mkdir()
    (basic_lab / "hosts" / "gamma" / "profile.yaml").write_text(SECRET.format("secrets/wifi.key"))
    assert Lab(linked).load().hosts["gamma"].valid


def test_a_secret_in_a_host_folder_is_refused_with_where_to_move_it(basic_lab: Path) -> None:
    (basic_lab / "hosts" / "gamma").mkdir()
    (basic_lab / "hosts" / "gamma" / "wifi.psk").write_text("psk\n")
    # the reproduction: ./hosts/... was left in the upload, and so in the Nix store
    assert problems_of(basic_lab, SECRET.format("./hosts/gamma/wifi.psk")) == [
        (
            f"{PROFILE}:2:25",
            "secret source './hosts/gamma/wifi.psk' is inside hosts/, which goes to the machine "
            "with the flake and so into its world-readable Nix store",
            "move the file into secrets/ and write `source: secrets/wifi.psk`",
        )
    ]


def test_a_secret_linked_into_a_host_folder_is_refused(basic_lab: Path) -> None:
    # the link is in secrets/, but the bytes live in hosts/gamma/, which is uploaded
    (basic_lab / "hosts" / "gamma").mkdir()
    (basic_lab / "hosts" / "gamma" / "wifi.psk").write_text("psk\n")
    (basic_lab / "secrets").mkdir()
    (basic_lab / "secrets" / "wifi.psk").symlink_to("../hosts/gamma/wifi.psk")
    assert [p[1:] for p in problems_of(basic_lab, SECRET.format("secrets/wifi.psk"))] == [
        (
            "secret source 'secrets/wifi.psk' is a link to hosts/gamma/wifi.psk, inside hosts/, "
            "which goes to the machine with the flake and so into its world-readable Nix store",
            "move the file into secrets/ and write `source: secrets/wifi.psk`",
        )
    ]


def test_a_secret_in_hosts_spelled_with_capitals_is_refused(basic_lab: Path) -> None:
    # a Mac's disk reads Hosts/ as hosts/: the upload would carry the file all the same
    assert [p[1] for p in problems_of(basic_lab, SECRET.format("Hosts/gamma/wifi.psk"))] == [
        "secret source 'Hosts/gamma/wifi.psk' is inside Hosts/, which goes to the machine "
        "with the flake and so into its world-readable Nix store"
    ]


def test_a_home_file_linked_out_of_the_lab_is_refused(basic_lab: Path, tmp_path: Path) -> None:
    (tmp_path / "shadow").write_text("root:*:19000::::::\n")
    (basic_lab / "hosts" / "gamma" / "files").mkdir(parents=True)
    (basic_lab / "hosts" / "gamma" / "files" / "inputrc").symlink_to(tmp_path / "shadow")
    assert [p[1] for p in problems_of(basic_lab, home_file("files/inputrc"))] == [
        "hosts/gamma/files/inputrc is a link to a file outside the lab"
    ]


def test_a_home_file_from_another_host_folder_is_refused(basic_lab: Path) -> None:
    # only the host's own folder goes to its machine: ../alpha/x would not be there
    assert [p[1] for p in problems_of(basic_lab, home_file("../alpha/profile.yaml"))] == [
        "home file source '../alpha/profile.yaml' is not a file in the host folder"
    ]


def test_a_home_file_source_is_read_in_one_spelling(basic_lab: Path) -> None:
    (basic_lab / "hosts" / "gamma" / "files").mkdir(parents=True)
    (basic_lab / "hosts" / "gamma" / "files" / "inputrc").write_text("set bell-style none\n")
    profile = with_host(basic_lab, home_file("./files/inputrc")).hosts["gamma"].profile
    assert profile is not None and profile.users[0].home is not None
    assert [f.source for f in profile.users[0].home.files] == ["files/inputrc"]


def test_a_hardware_configuration_linked_out_of_the_lab_is_refused(
    basic_lab: Path, tmp_path: Path
) -> None:
    (tmp_path / "hw.nix").write_text("{ }\n")
    (basic_lab / "hosts" / "gamma").mkdir()
    (basic_lab / "hosts" / "gamma" / "hardware-configuration.nix").symlink_to(tmp_path / "hw.nix")
    text = "host: {stateVersion: '24.05'}\nhardware: {configuration: hardware-configuration.nix}\n"
    assert [p[1] for p in problems_of(basic_lab, text)] == [
        "hosts/gamma/hardware-configuration.nix is a link to a file outside the lab"
    ]


def test_nothing_outside_the_lab_is_read_by_build(
    basic_lab: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    (tmp_path / "id_ed25519").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (basic_lab / "hosts" / "gamma").mkdir()
    (basic_lab / "hosts" / "gamma" / "profile.yaml").write_text(
        SECRET.format("../id_ed25519") + home_file("../../../../etc/shadow").split("\n", 1)[1]
    )
    code, out, err = run_cli("--lab", str(basic_lab), "build")
    assert (code, out) == (2, "")
    assert f"error: {PROFILE}:2:25: secrets.key.source: secret source '../id_ed25519' is " in err
    assert f"error: {PROFILE}:3:" in err and "'../../../../etc/shadow' is not a file in" in err
    assert not (basic_lab / "hosts" / "gamma" / "configuration.nix").exists()


# ---- patterns match the whole value ---------------------------------------------------


def test_a_catalogue_setting_pattern_matches_the_whole_value(basic_lab: Path) -> None:
    (basic_lab / "services" / "motd.yaml").write_text(
        "description: A greeting\n"
        'nixpkgs: "24.05"\n'
        "settings:\n"
        "  type: object\n"
        "  additionalProperties: false\n"
        "  properties:\n"
        "    greeting: {type: string, pattern: '^[a-z]+$', description: lower-case words}\n"
        "nixos:\n"
        "  users.motd: {setting: greeting}\n"
    )
    good = with_host(basic_lab, "host: {stateVersion: '24.05'}\nservices: {motd: {greeting: hi}}\n")
    assert good.hosts["gamma"].valid
    text = 'host: {stateVersion: "24.05"}\nservices: {motd: {greeting: "hi\\n"}}\n'
    assert problems_of(basic_lab, text) == [
        (
            f"{PROFILE}:2:29",
            "'hi\\n' is not valid here: lower-case words",
            "remove the line break at the end (a YAML `|` block keeps it, `|-` does not)",
        )
    ]


def test_a_host_folder_whose_name_ends_in_a_line_break_is_refused(basic_lab: Path) -> None:
    state = with_host(basic_lab, "host: {stateVersion: '24.05'}\n", folder="web\n")
    assert [p.message for p in state.hosts["web\n"].problems] == [
        "the folder name 'web\n' is not a valid host name"
    ]


def test_a_password_hash_with_a_line_break_is_refused(basic_lab: Path) -> None:
    text = (
        "host: {stateVersion: '24.05'}\n"
        'users: {alice: {hashedPassword: "$6$salt$abcdefghijklmnopqrstuv\\n"}}\n'
    )
    assert [p[1] for p in problems_of(basic_lab, text)] == [
        "hashedPassword does not look like a password hash"
    ]


# ---- groups a service gives, created by the host itself ----------------------------------


def test_a_service_group_the_host_creates_itself_needs_no_service(basic_lab: Path) -> None:
    users = "host: {stateVersion: '24.05'}\nusers:\n  bob: {groups: [docker]}\n"
    (refused,) = problems_of(basic_lab, users)
    assert "group 'docker' exists only with docker" in refused[1]
    for made in (
        "groups: {docker: {}}\n",
        "options: {users.groups.docker.gid: 3000}\n",
        "extraConfig: |\n  users.groups = { docker = { }; };\n",
    ):
        assert problems_of(basic_lab, users + made) == [], made
    # a user raw Nix creates is no group
    made = 'extraConfig: |\n  users.users.docker = { isSystemUser = true; group = "x"; };\n'
    assert len(problems_of(basic_lab, users + made)) == 1


def test_a_system_users_group_is_checked_like_the_others(basic_lab: Path) -> None:
    found = problems_of(
        basic_lab,
        "host: {stateVersion: '24.05'}\nusers:\n  svc: {system: true, group: docker, uid: 900}\n",
    )
    assert [(place, message.split(",")[0]) for place, message, _ in found] == [
        (f"{PROFILE}:3:30", "group 'docker' exists only with docker")
    ]


def test_a_system_users_group_may_be_set_in_options_or_extra_config(basic_lab: Path) -> None:
    users = "host: {stateVersion: '24.05'}\nusers:\n  svc: {system: true, uid: 900}\n"
    (refused,) = problems_of(basic_lab, users)
    assert refused[1].startswith("a system user needs a primary group")
    for given in (
        "options: {users.users.svc.group: nogroup}\n",
        'extraConfig: |\n  users.users = { svc = { group = "nogroup"; }; };\n',
    ):
        assert problems_of(basic_lab, users + given) == [], given
    # another user's group is not svc's
    other = "options: {users.users.other.group: nogroup}\n"
    assert len(problems_of(basic_lab, users + other)) == 1


def test_efi_false_with_extlinux_says_what_extlinux_is(basic_lab: Path) -> None:
    host = "host: {stateVersion: '24.05', system: aarch64-linux}\n"
    assert problems_of(basic_lab, host + "hardware: {boot: {loader: extlinux, efi: false}}\n") == []
    (refused,) = problems_of(basic_lab, host + "hardware: {boot: {loader: extlinux, efi: true}}\n")
    assert refused[1].startswith("extlinux does not use efi")


def test_root_may_say_it_is_no_system_user_and_no_admin(basic_lab: Path) -> None:
    host = "host: {stateVersion: '24.05'}\nusers:\n  root: "
    assert problems_of(basic_lab, host + "{system: false, admin: false, shell: fish}\n") == []
    found = problems_of(basic_lab, host + "{system: true, group: wheel}\n")
    assert sorted(message for _, message, _ in found) == [
        "root is neither a system user nor a normal one: NixOS knows root",
        "root's primary group is always root",
    ]


def test_hosts_giving_a_service_the_same_settings_each_get_their_own_places(
    basic_lab: Path,
) -> None:
    # what a service's settings give is worked out once; each host's problems stay its own
    settings = (
        "  tailscale: {port: {secret: tailscale-port}}\n"
        "  grafana:\n    port: 3300\n    secretKeyFile: {secret: grafana-key, ownr: grafana}\n"
        "  jellyfin: {}\n"
    )
    for folder, pad in (("gamma", ""), ("delta", "\n\n")):
        (basic_lab / "hosts" / folder).mkdir()
        (basic_lab / "hosts" / folder / "profile.yaml").write_text(
            pad + "host: {stateVersion: '24.05'}\nservices:\n" + settings
        )
    state = Lab(basic_lab).load()
    for folder, first in (("gamma", 3), ("delta", 5)):
        found = {(str(p.place), p.message) for p in state.hosts[folder].problems}
        rel = f"hosts/{folder}/profile.yaml"
        assert (f"{rel}:{first}:21", "tailscale does not take a secret here") in found
        assert (f"{rel}:{first + 3}:42", "unknown key 'ownr' in a secret") in found
