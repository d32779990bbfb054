"""Checking profiles through the Lab: finding the lab, choosing hosts, hints, defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import RunCli

from homelab.errors import InvalidInput, Place
from homelab.lab import Lab, LabNotFound, LabState, find_lab

PROFILE = "hosts/gamma/profile.yaml"


def with_host(lab: Path, text: str, folder: str = "gamma") -> LabState:
    """The lab loaded with one more host whose profile is `text`."""
    (lab / "hosts" / folder).mkdir(exist_ok=True)
    (lab / "hosts" / folder / "profile.yaml").write_text(text)
    return Lab(lab).load()


def problems_of(lab: Path, text: str) -> list[tuple[str, str, str]]:
    """(place, message, hint) of every problem of a new host gamma."""
    state = with_host(lab, text)
    return [(str(p.place), p.message, p.hint) for p in state.hosts["gamma"].problems]


# ---- finding the lab ----------------------------------------------------------------


def test_the_lab_option_comes_first(basic_lab: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    (other / "hosts").mkdir(parents=True)
    env = {"HOMELAB_LAB": str(other)}
    assert find_lab(str(basic_lab), env=env, cwd=other) == basic_lab.resolve()


def test_then_the_environment(basic_lab: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert find_lab(None, env={"HOMELAB_LAB": str(basic_lab)}, cwd=elsewhere) == basic_lab


def test_then_the_current_folder_or_a_parent(basic_lab: Path) -> None:
    deep = basic_lab / "hosts" / "alpha"
    assert find_lab(None, env={}, cwd=deep) == basic_lab
    assert find_lab(None, env={}, cwd=basic_lab) == basic_lab


def test_no_lab_is_said_with_the_way_out(tmp_path: Path) -> None:
    with pytest.raises(LabNotFound) as err:
        find_lab(None, env={}, cwd=tmp_path)
    assert str(tmp_path) in str(err.value)
    assert "homelab init" in str(err.value)
    assert "--lab" in str(err.value) and "HOMELAB_LAB" in str(err.value)


def test_a_lab_option_that_is_no_lab_is_refused(tmp_path: Path, basic_lab: Path) -> None:
    with pytest.raises(LabNotFound, match="has no hosts/ folder"):
        find_lab(str(tmp_path), env={}, cwd=basic_lab)
    with pytest.raises(LabNotFound, match="HOMELAB_LAB="):
        find_lab(None, env={"HOMELAB_LAB": str(tmp_path)}, cwd=basic_lab)


def test_the_cli_says_when_there_is_no_lab(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: RunCli
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HOMELAB_LAB", raising=False)
    code, out, err = run_cli("validate")
    assert code == 2 and out == ""
    assert err.startswith("error: no lab found in")


def test_the_cli_reads_homelab_lab(
    basic_lab: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: RunCli
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOMELAB_LAB", str(basic_lab))
    code, out, _ = run_cli("validate")
    assert code == 0 and "alpha, beta" in out


# ---- choosing hosts -----------------------------------------------------------------


def test_all_hosts_when_none_are_named(basic_lab: Path) -> None:
    lab = Lab(basic_lab)
    assert lab.select(lab.load(), []) == ["alpha", "beta"]


def test_hosts_by_folder_name_and_by_host_name(basic_lab: Path) -> None:
    state = with_host(basic_lab, "host: {stateVersion: '24.05', name: gamma-box}\n")
    lab = Lab(basic_lab)
    assert lab.select(state, ["beta", "gamma-box", "gamma", "beta"]) == ["beta", "gamma"]


def test_hosts_by_tag(basic_lab: Path) -> None:
    lab = Lab(basic_lab)
    state = lab.load()
    assert lab.select(state, ["@media"]) == ["alpha"]
    assert lab.select(state, ["@lab"]) == ["alpha", "beta"]
    assert lab.select(state, ["beta", "@lab"]) == ["beta", "alpha"]


def test_an_unknown_host_gets_a_did_you_mean(basic_lab: Path) -> None:
    lab = Lab(basic_lab)
    with pytest.raises(InvalidInput) as err:
        lab.select(lab.load(), ["alpah", "@nope", "zzz"])
    messages = [(p.message, p.hint) for p in err.value.problems]
    assert ("no host named 'alpah'", "did you mean 'alpha'?") in messages
    assert ("no host has the tag 'nope'", "") in messages
    assert ("no host named 'zzz'", "hosts: alpha, beta") in messages


def test_validate_one_tag_from_the_cli(basic_lab: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("--lab", str(basic_lab), "validate", "@board")
    assert (code, out, err) == (0, "1 host valid: beta\n", "")
    code, out, err = run_cli("--lab", str(basic_lab), "validate", "@nope")
    assert code == 2 and "no host has the tag 'nope'" in err


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


def test_problems_of_several_hosts_sorted_by_file_and_line(basic_lab: Path) -> None:
    (basic_lab / "hosts" / "delta").mkdir()
    (basic_lab / "hosts" / "delta" / "profile.yaml").write_text("host: {}\nnope: 1\n")
    state = with_host(basic_lab, "host: {stateVersion: 1}\n")
    places = [p.place for p in state.all_problems()]
    delta = "hosts/delta/profile.yaml"
    assert [p.file for p in places] == [delta, delta, PROFILE]
    assert places == sorted(places)


def test_two_hosts_with_one_name_are_refused(basic_lab: Path) -> None:
    state = with_host(basic_lab, "host: {stateVersion: '24.05', name: alpha}\n")
    assert [(str(p.place), p.message) for p in state.problems] == [
        (PROFILE, "host name 'alpha' is also used by hosts/alpha")
    ]


def test_a_file_that_is_not_utf8(basic_lab: Path) -> None:
    (basic_lab / "hosts" / "gamma").mkdir()
    (basic_lab / "hosts" / "gamma" / "profile.yaml").write_bytes(b"host: {name: caf\xe9}\n")
    state = Lab(basic_lab).load()
    assert [(str(p.place), p.message) for p in state.hosts["gamma"].problems] == [
        (f"{PROFILE}:1:17", "not UTF-8 text")  # the place of the first bad byte
    ]


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


def test_unsaved_texts_are_checked_without_touching_the_disk(basic_lab: Path) -> None:
    rel = "hosts/beta/profile.yaml"
    before = (basic_lab / rel).read_text()
    edited = before.replace("tailscale: {}", "tailscale: {prot: 1}")
    state = Lab(basic_lab).load(texts={rel: edited})
    assert [p.message for p in state.hosts["beta"].problems] == ["unknown key 'prot'"]
    assert state.hosts["alpha"].valid
    assert (basic_lab / rel).read_text() == before
    assert Lab(basic_lab).load().hosts["beta"].valid


def test_an_unsaved_new_host_is_loaded(basic_lab: Path) -> None:
    state = Lab(basic_lab).load(texts={PROFILE: "host: {stateVersion: '24.05'}\n"})
    assert state.hosts["gamma"].valid
    assert not (basic_lab / "hosts" / "gamma").exists()


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


def test_an_invalid_host_has_no_profile_but_keeps_its_document(basic_lab: Path) -> None:
    state = with_host(basic_lab, "host: {stateVersion: 24.05}\n")
    gamma = state.hosts["gamma"]
    assert gamma.profile is None and not gamma.valid
    assert gamma.document is not None
    assert gamma.document.marks.values[("host", "stateVersion")] == Place(PROFILE, 1, 22)


def test_the_demo_lab_of_the_repository_is_valid(run_cli: RunCli) -> None:
    repo = Path(__file__).resolve().parents[1]
    code, out, err = run_cli("--lab", str(repo), "validate")
    assert (code, err) == (0, "")
    assert out.startswith(f"{len(Lab(repo).host_folders())} hosts valid")


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
