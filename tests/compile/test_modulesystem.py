"""The demo lab through the real module system: nixpkgs' ``lib.evalModules`` with
``_module.check = true``, NixOS options declared with nixpkgs' types
(tests/nixos-options.nix) and home-manager's own modules for each home-manager user.

Every option a host's files define is merged and type-checked (``DEFINED``); one
nix-instantiate run evaluates all the cases of this file (see `evaluated`).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from homelab.lab import Lab
from tests.compiled import REPO, copy_lab, host_files
from tests.modulesystem import DEFINED, Case, eval_home, eval_many, eval_nixos, home_case

HOSTS = ("homeserver", "nixos-demo", "pi")
#: the test labs of tests/labs/ that evaluate here too (each host and home-manager user)
LABS = ("basic", "full")


def _demo_copy(root: Path) -> Lab:
    root.mkdir(parents=True)
    for name in ("hosts", "services", "secrets", "flake.nix"):
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("*.nix"))
        else:
            shutil.copy(src, root / name)
    # hardware-configuration.nix comes from the machine and is imported as it is
    shutil.copy(
        REPO / "hosts/nixos-demo/hardware-configuration.nix",
        root / "hosts/nixos-demo/hardware-configuration.nix",
    )
    return Lab(root)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    return _demo_copy(tmp_path_factory.mktemp("demo") / "lab")


@pytest.fixture(scope="module")
def settings_only(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    """The demo lab where demouser lists git with settings and no `enable`."""
    lab = _demo_copy(tmp_path_factory.mktemp("settings-only") / "lab")
    profile = lab.root / "hosts/nixos-demo/profile.yaml"
    text = profile.read_text()
    assert "        bash: {enable: true}\n" in text
    profile.write_text(
        text.replace(
            "        bash: {enable: true}\n",
            "        bash: {enable: true}\n"
            "        git:\n"
            "          settings: {user: {name: Demo User, email: demo@example.org}}\n",
        )
    )
    return lab


def _home_users(lab: Lab) -> list[tuple[str, str]]:
    state = lab.load()
    found = []
    for folder in sorted(state.hosts):
        profile = state.hosts[folder].profile
        if profile is not None:
            found += [(folder, user.name) for user in profile.users if user.home is not None]
    return found


@pytest.fixture(scope="module")
def labs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Lab]:
    root = tmp_path_factory.mktemp("labs")
    return {name: Lab(copy_lab(REPO / "tests/labs" / name, root / name)) for name in LABS}


def _cases(lab: Lab, prefix: str = "") -> dict[str, Case]:
    """{"host": every option its files define, "host/user": the same for each home}"""
    state = lab.load()
    hosts = [f for f in sorted(state.hosts) if state.hosts[f].profile is not None]
    files = {folder: host_files(lab, folder) for folder in hosts}
    cases = {prefix + folder: Case(files[folder], [DEFINED]) for folder in hosts}
    for folder, user in _home_users(lab):
        cases[f"{prefix}{folder}/{user}"] = home_case(files[folder], user, [DEFINED])
    return cases


@pytest.fixture(scope="module")
def evaluated(demo: Lab, settings_only: Lab, labs: dict[str, Lab]) -> dict[str, dict[str, Any]]:
    """Every case of this file in one run: {case name: {attribute: value}}."""
    cases = _cases(demo)
    for name, lab in labs.items():
        cases.update(_cases(lab, f"{name}:"))
    cases["settings-only"] = home_case(
        host_files(settings_only, "nixos-demo"),
        "demouser",
        [DEFINED, "programs.git.enable", "programs.git.settings"],
    )
    values = eval_many(list(cases.values()))
    return dict(zip(cases, values, strict=True))


def defined(evaluated: dict[str, dict[str, Any]], case: str) -> dict[str, Any]:
    (values,) = (v for k, v in evaluated[case].items() if k.endswith(DEFINED))
    return values  # type: ignore[no-any-return]


def test_the_demo_lab_has_home_manager_users(demo: Lab) -> None:
    assert _home_users(demo) == [("nixos-demo", "demouser")]


def test_every_host_and_home_of_the_test_labs_evaluates(
    evaluated: dict[str, dict[str, Any]],
) -> None:
    assert sorted(k for k in evaluated if ":" in k) == [
        "basic:alpha",
        "basic:beta",
        "full:alpha",
        "full:alpha/alice",
        "full:alpha/bob",
        "full:beta",
        "full:gamma",
        "full:gamma/dave",
    ]
    for name in evaluated:
        if name != "settings-only":
            assert defined(evaluated, name), f"{name} defines no option"


def test_the_full_labs_values_arrive_at_their_options(
    evaluated: dict[str, dict[str, Any]],
) -> None:
    alpha = defined(evaluated, "full:alpha")
    assert alpha["boot.kernelPackages"] == "pkgs.linuxPackages_latest"
    assert alpha["fileSystems"]["/data"]["options"] == ["noatime", "nofail"]
    assert alpha["environment.shells"] == ["pkgs.nushell"]
    alice = alpha["users.users"]["alice"]
    assert (alice["uid"], alice["shell"]) == (1001, "pkgs.zsh")
    assert "pkgs.python3Packages.requests" in alice["packages"]
    assert alpha["environment.etc"]["motd"]["text"] == "Welcome to alpha\n"  # raw Nix
    home = defined(evaluated, "full:alpha/alice")
    assert home["programs.git.settings"]["user"] == {
        "email": "alice@example.org",
        "name": "Alice",
    }
    assert home["programs.fish.enable"] is False
    assert home["home.sessionVariables"]["HISTSIZE"] == 10000
    assert home["home.file"][".config/hello.txt"]["text"] == "hello\nworld\n"
    bob = defined(evaluated, "full:alpha/bob")
    assert bob["programs.starship.settings"] == {"add_newline": False}
    beta = defined(evaluated, "full:beta")
    assert beta["networking.interfaces"]["end0"]["ipv6"]["addresses"] == [
        {"address": "fd00::2", "prefixLength": 64}
    ]
    assert beta["services.syncthing.settings"]["gui"] == {"user": "admin"}


@pytest.mark.parametrize("host", HOSTS)
def test_every_host_evaluates_with_every_option_declared_and_typed(
    evaluated: dict[str, dict[str, Any]], host: str
) -> None:
    c = defined(evaluated, host)
    assert c["networking.hostName"] == host
    assert c["time.timeZone"] == "America/Los_Angeles"
    assert c["i18n.defaultLocale"] == "en_US.UTF-8"
    assert c["services.openssh.enable"] is True
    assert c["services.openssh.settings"]["PasswordAuthentication"] is False
    assert c["nix.settings"]["experimental-features"] == ["nix-command", "flakes"]
    assert c["nix.gc.automatic"] is True
    for user in c["users.users"].values():  # the submodule's own defaults filled in
        assert {"isNormalUser", "extraGroups", "home", "group", "shell"} <= set(user)


def test_nixos_demo_values_arrive_at_their_options(evaluated: dict[str, dict[str, Any]]) -> None:
    c = defined(evaluated, "nixos-demo")
    assert c["services.fwupd.enable"] is True
    assert c["boot.loader.systemd-boot.enable"] is True
    assert c["boot.loader.efi.canTouchEfiVariables"] is True
    assert c["networking.firewall.allowedTCPPorts"] == [80, 443]
    assert c["environment.systemPackages"] == ["pkgs.git", "pkgs.vim"]
    assert c["nixpkgs.config"] == {"allowUnfree": True}
    user = c["users.users"]["demouser"]
    assert user["isNormalUser"] is True
    assert user["home"] == "/home/demouser"
    assert user["group"] == "users"
    assert user["extraGroups"] == ["networkmanager", "wheel", "docker"]
    assert user["openssh"]["authorizedKeys"]["keys"][0].endswith("demouser@laptop")
    # home-manager installs the user's home through users.users.<name>.packages
    assert user["packages"][0] == "home-manager-path"
    assert "pkgs.discord" in user["packages"]
    assert c["home-manager.useGlobalPkgs"] is True


def test_homeserver_values_arrive_at_their_options(evaluated: dict[str, dict[str, Any]]) -> None:
    c = defined(evaluated, "homeserver")
    media = c["fileSystems"]["/srv/media"]
    assert (media["device"], media["fsType"], media["options"]) == (
        "/dev/disk/by-label/media",
        "ext4",
        ["nofail"],
    )
    assert c["swapDevices"][0]["device"] == "/dev/disk/by-label/swap"
    assert c["networking.defaultGateway"]["address"] == "192.168.1.1"  # coerced from a string
    assert c["networking.interfaces"]["enp3s0"]["ipv4"]["addresses"] == [
        {"address": "192.168.1.10", "prefixLength": 24}
    ]
    containers = c["virtualisation.oci-containers.containers"]
    assert containers["whoami"]["environment"] == {"WHOAMI_NAME": "homeserver"}
    assert c["systemd.services"]["wiki-js"]["after"] == ["postgresql.target"]
    assert set(c["services.caddy.virtualHosts"]) == {
        "home-assistant.home.arpa",
        "jellyfin.home.arpa",
        "syncthing.home.arpa",
        "wikijs.home.arpa",
    }


def test_pi_values_arrive_at_their_options(evaluated: dict[str, dict[str, Any]]) -> None:
    c = defined(evaluated, "pi")
    assert c["boot.kernelPackages"] == "pkgs.linuxPackages_rpi4"
    assert c["boot.loader.generic-extlinux-compatible.enable"] is True
    assert c["boot.loader.grub.enable"] is False
    assert c["fileSystems"]["/"]["options"] == ["noatime"]
    assert c["swapDevices"][0]["size"] == 1024
    assert c["nixpkgs.hostPlatform"] == "aarch64-linux"


def test_demouser_evaluates_against_home_managers_own_modules(
    evaluated: dict[str, dict[str, Any]],
) -> None:
    home = defined(evaluated, "nixos-demo/demouser")
    assert home["home.stateVersion"] == "23.11"
    for program in ("bash", "nushell", "starship"):
        assert home[f"programs.{program}.enable"] is True
    assert home["programs.starship.settings"]["directory"]["truncation_length"] == 3
    assert {"pkgs.atool", "pkgs.httpie"} <= set(home["home.packages"])


def test_a_program_listed_with_settings_only_is_enabled(
    evaluated: dict[str, dict[str, Any]],
) -> None:
    """The schema says a program's `enable` defaults to true: settings alone turn it on."""
    values = evaluated["settings-only"]
    assert values["home-manager.users.demouser.programs.git.settings"]["user"] == {
        "name": "Demo User",
        "email": "demo@example.org",
    }
    assert values["home-manager.users.demouser.programs.git.enable"] is True


# ---- the harness itself: the module system's own messages reach the test ---------------


def test_an_option_nobody_declared_fails_with_the_module_systems_message(demo: Lab) -> None:
    files = dict(host_files(demo, "pi"))
    files["hosts/pi/system.nix"] = "{ services.nosuch.enable = true; }\n"
    with pytest.raises(AssertionError, match=r"The option `services\.nosuch' does not exist"):
        eval_nixos(files, ["networking.hostName"])


def test_a_value_of_the_wrong_type_fails_with_the_module_systems_message(demo: Lab) -> None:
    files = dict(host_files(demo, "pi"))
    files["hosts/pi/system.nix"] = '{ networking.firewall.allowedTCPPorts = [ "ssh" ]; }\n'
    with pytest.raises(
        AssertionError, match=r"allowedTCPPorts.*is not of type `16 bit unsigned integer"
    ):
        eval_nixos(files, [DEFINED])


def test_home_manager_refuses_an_option_it_does_not_have_and_a_wrong_type() -> None:
    with pytest.raises(
        AssertionError, match=r"The option `home-manager\.users\.alice\.programs\.gti' does not"
    ):
        eval_home("{ programs.gti.enable = true; }", "alice", ["programs.bash.enable"])
    with pytest.raises(AssertionError, match=r"programs\.git\.enable' is not of type `boolean'"):
        eval_home('{ programs.git.enable = "yes"; }', "alice", [DEFINED])


def test_a_home_manager_module_given_alone() -> None:
    values = eval_home(
        "{ pkgs, ... }: { programs.git.enable = true; home.packages = [ pkgs.ripgrep ]; }",
        "alice",
        ["programs.git.enable", "home.packages", "home.homeDirectory"],
    )
    assert values["programs.git.enable"] is True
    assert "pkgs.ripgrep" in values["home.packages"]
    assert values["home.homeDirectory"] == "/home/alice"
