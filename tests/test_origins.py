"""The profile line behind Nix's errors (homelab.origins).

Each error is Nix's own: the host's compiled files evaluated by the real module system
with the real nix-instantiate (tests/nixerrors.py), named as a machine's Nix names the lab
it copied (/nix/store/HASH-source/...). The line map itself is checked on the same files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from homelab.compile import compile_host
from homelab.labfiles import LabFiles, LabState
from homelab.origins import Origin, explain, lab_path, line_map
from tests.deploy.labs import make_lab
from tests.nixerrors import real_error

HARDWARE = "hosts/web/hardware-configuration.nix"


class _Machine:
    name = "web"


def _lab(tmp_path: Path, extra: str) -> tuple[Path, LabState]:
    root = make_lab(tmp_path / "lab", [_Machine()], extra={"web": extra}, commit=False)  # type: ignore[list-item]
    return root, LabFiles(root).load()


def _files(root: Path, state: LabState) -> dict[str, str]:
    """What goes to the machine: the generated files and the hand-written hardware file."""
    host = state.hosts["web"]
    assert host.profile is not None, host.problems
    files = compile_host(host.profile, state.catalog)
    files[HARDWARE] = (root / HARDWARE).read_text()
    return files


def _line_of(root: Path, text: str, file: str = "hosts/web/profile.yaml") -> int:
    lines = (root / file).read_text().split("\n")
    return next(i for i, line in enumerate(lines, 1) if text in line)


def _explained(root: Path, state: LabState, said: str, files: dict[str, str]) -> list[str]:
    found = explain(said, "web", files, state.hosts["web"].document, state.catalog)
    return [f.line() for f in found]


def test_a_wrong_type_in_options_points_at_its_key(tmp_path: Path) -> None:
    root, state = _lab(tmp_path, 'options:\n  services.fwupd.enable: "yes"\n')
    files = _files(root, state)
    said = real_error(files)
    assert "/nix/store/" in said and "-source/hosts/web/options.nix" in said
    line = _line_of(root, "services.fwupd.enable")
    assert _explained(root, state, said, files) == [
        f"hosts/web/profile.yaml:{line}:3: services.fwupd.enable: A definition for option"
        " `services.fwupd.enable' is not of type `boolean'."
    ]


def test_an_option_that_does_not_exist_points_at_its_name(tmp_path: Path) -> None:
    root, state = _lab(tmp_path, "options:\n  services:\n    nosuch:\n      enable: true\n")
    files = _files(root, state)
    said = real_error(files)
    line = _line_of(root, "nosuch:")
    assert _explained(root, state, said, files) == [
        f"hosts/web/profile.yaml:{line}:5: services.nosuch:"
        " The option `services.nosuch' does not exist."
    ]


def test_a_line_and_column_in_a_generated_file(tmp_path: Path) -> None:
    root, state = _lab(tmp_path, 'options:\n  services.fwupd.enable: !nix "builtins.head []"\n')
    files = _files(root, state)
    said = real_error(files)
    assert "-source/hosts/web/options.nix:" in said  # Nix gave the line and column
    line = _line_of(root, "services.fwupd.enable")
    assert _explained(root, state, said, files) == [
        f"hosts/web/profile.yaml:{line}:3: options.services.fwupd.enable:"  # the key, not its value
        " list index 0 is out of bounds"
    ]


def test_a_users_home_option(tmp_path: Path) -> None:
    extra = (
        'users:\n  alice:\n    home:\n      stateVersion: "24.05"\n'
        '      options:\n        programs.git.enable: "yes"\n'
    )
    root, state = _lab(tmp_path, extra)
    files = _files(root, state)
    said = real_error(files, attrs=["home-manager.users.alice.*"])
    line = _line_of(root, "programs.git.enable")
    assert _explained(root, state, said, files) == [
        f"hosts/web/profile.yaml:{line}:9: home-manager.users.alice.programs.git.enable:"
        " A definition for option `home-manager.users.alice.programs.git.enable'"
        " is not of type `boolean'."
    ]


CATALOGUE_ENTRY = """\
description: A service whose NixOS module this nixpkgs does not have
nixpkgs: "26.11"
module: nixos/modules/services/misc/gone.nix
settings:
  type: object
  additionalProperties: false
  properties: {}
nixos:
  services.gone.enable: true
"""


def test_a_catalogue_service_points_at_the_hosts_services_entry(tmp_path: Path) -> None:
    root = make_lab(
        tmp_path / "lab", [_Machine()], extra={"web": "services:\n  gone: {}\n"}, commit=False
    )  # type: ignore[list-item]
    (root / "services" / "gone.yaml").write_text(CATALOGUE_ENTRY)
    state = LabFiles(root).load()
    files = _files(root, state)
    said = real_error(files)
    assert "-source/hosts/web/services.nix" in said
    line = _line_of(root, "gone: {}")
    assert _explained(root, state, said, files) == [
        f"hosts/web/profile.yaml:{line}:3: services.gone:"
        " The option `services.gone' does not exist."
    ]


def test_a_section_field_with_conflicting_definitions(tmp_path: Path) -> None:
    root, state = _lab(tmp_path, "networking:\n  domain: lab.example\n")
    files = _files(root, state)
    # a hand-written module of the lab sets the domain too
    files[HARDWARE] = files[HARDWARE].replace(
        "boot.initrd", 'networking.domain = "elsewhere.example";\n  boot.initrd'
    )
    said = real_error(files)
    assert "conflicting definition values" in said
    line = _line_of(root, "domain: lab.example")
    assert _explained(root, state, said, files) == [
        f"hosts/web/profile.yaml:{line}:3: networking.domain:"
        " The option `networking.domain' has conflicting definition values:"
    ]


def test_a_mistake_in_a_hand_written_module_is_shown_at_that_file(tmp_path: Path) -> None:
    root, state = _lab(tmp_path, "")
    files = _files(root, state)
    files[HARDWARE] = files[HARDWARE].replace("boot.initrd", "boot.nosuch = 1;\n  boot.initrd")
    said = real_error(files)
    assert _explained(root, state, said, files) == [
        f"{HARDWARE}: boot.nosuch: The option `boot.nosuch' does not exist."
    ]


def test_an_error_with_no_place_and_an_unknown_option_is_shown_as_it_is(tmp_path: Path) -> None:
    root, state = _lab(tmp_path, "")
    files = _files(root, state)
    said = "error: The option `foo.bar' does not exist.\n"
    assert _explained(root, state, said, files) == ["foo.bar: The option `foo.bar' does not exist."]
    assert _explained(root, state, "error: out of memory\n", files) == ["out of memory"]
    assert _explained(root, state, "nothing went wrong\n", files) == []


def test_failed_assertions_at_the_option_they_name(tmp_path: Path) -> None:
    root, state = _lab(tmp_path, "users:\n  bob: {description: Bob}\n")
    files = _files(root, state)
    said = (
        "error:\n       Failed assertions:\n"
        "       - users.users.bob.isNormalUser and isSystemUser are mutually exclusive\n"
        "       - something else went wrong\n"
    )
    line = _line_of(root, "bob:")
    assert _explained(root, state, said, files) == [
        f"hosts/web/profile.yaml:{line}:3: users.users.bob.isNormalUser: failed assertion:"
        " users.users.bob.isNormalUser and isSystemUser are mutually exclusive",
        "failed assertion: something else went wrong",
    ]


def test_the_line_map_of_each_kind_of_file(tmp_path: Path) -> None:
    extra = (
        "services:\n  jellyfin: {openFirewall: true}\n"
        "options:\n  services.fwupd.enable: true\n"
        "extraConfig: |\n  services.avahi.enable = true;\n  services.avahi.nssmdns4 = true;\n"
    )
    root, state = _lab(tmp_path, extra)
    files = _files(root, state)
    document = state.hosts["web"].document
    assert document is not None
    lines = line_map(files, document, state.catalog)
    assert HARDWARE not in lines  # hand-written: no profile line behind it

    def at(file: str, text: str) -> Origin:
        number = next(i for i, t in enumerate(files[file].split("\n"), 1) if text in t)
        return lines[file][number]

    profile = "hosts/web/profile.yaml"
    assert at("hosts/web/options.nix", "services.fwupd.enable").place.line == _line_of(
        root, "services.fwupd.enable"
    )
    firewall = at("hosts/web/services.nix", "openFirewall = true")
    assert (firewall.path, firewall.place.line) == (
        "services.jellyfin.openFirewall",
        _line_of(root, "jellyfin:"),
    )
    # what the catalogue writes on its own belongs to the host's entry
    assert at("hosts/web/services.nix", "enable = true").path == "services.jellyfin"
    avahi = at("hosts/web/extra.nix", "nssmdns4")
    assert (str(avahi.place), avahi.path) == (
        f"{profile}:{_line_of(root, 'nssmdns4')}:3",
        "extraConfig",
    )
    hw = at("hosts/web/boot.nix", "systemd-boot.enable")
    assert (hw.path, hw.place.line) == ("hardware.boot.loader", _line_of(root, "loader:"))


@pytest.mark.parametrize(
    ("file", "expected"),
    [
        (
            "/nix/store/m6pmx5b7j6crhq8h5d0aa9473hzds2nq-source/hosts/web/options.nix",
            "hosts/web/options.nix",
        ),
        ("/var/lib/homelab/config/hosts/web/options.nix", "hosts/web/options.nix"),
        ("/etc/nixos/options.nix", "hosts/web/options.nix"),  # the channels method
        ("/nix/store/aiv01710wqn2b7hms2253d1cq89kdzh8-source/lib/modules.nix", None),
        ("/home/someone/options.nix", None),
    ],
)
def test_paths_on_the_machine(file: str, expected: str | None) -> None:
    known = {"hosts/web/options.nix": "", "flake.nix": ""}
    assert lab_path(file, "web", known) == expected
