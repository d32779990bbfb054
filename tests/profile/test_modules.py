"""`modules:` and `home.modules:`: entries that name an input's attribute or a module file
of the lab, resolved relative to the file that names them, checked and parsed before use;
what is refused, at its place, with a hint."""

from __future__ import annotations

import os
from pathlib import Path

from homelab import compile as compiler
from homelab.profile.check_modules import GENERATED_NAMES, HEADER_MARK, input_problems
from homelab.profile.include import resolve
from homelab.profile.model import ModuleEntry
from homelab.yamlfile import load_text
from tests.hosts import PROFILE, problems_of, with_host

HEAD = 'host: {stateVersion: "24.05"}\n'
MODULE = "{ config, pkgs, ... }:\n{\n  services.tlp.enable = true;\n}\n"


def write(lab: Path, rel: str, text: str) -> None:
    (lab / rel).parent.mkdir(parents=True, exist_ok=True)
    (lab / rel).write_text(text)


def test_inputs_and_files_beside_the_profile_and_the_fragment_make_the_profile(
    basic_lab: Path,
) -> None:
    write(basic_lab, "hosts/gamma/tlp.nix", MODULE)
    write(basic_lab, "hosts/gamma/mods/fan.nix", "{ ... }: { }\n")
    write(basic_lab, "hosts/common/net.nix", "{ lib, ... }: { networking.useDHCP = true; }\n")
    write(basic_lab, "hosts/common/mods.yaml", "modules: [./net.nix, agenix.nixosModules.age]\n")
    write(basic_lab, "hosts/gamma/shell.nix", "{ ... }: { programs.bat.enable = true; }\n")
    state = with_host(
        basic_lab,
        "include: [../common/mods.yaml]\n" + HEAD + "modules:\n"
        "  - ./tlp.nix\n  - ./mods/fan.nix\n  - ../common/net.nix\n"
        "  - nixos-hardware.nixosModules.raspberry-pi-4\n"
        "users:\n  ann:\n    home:\n      modules: [./shell.nix, stylix.homeModules.stylix]\n",
    )
    host = state.hosts["gamma"]
    assert host.problems == ()
    assert host.profile is not None
    # the fragment's first; its ./net.nix and the profile's ../common/net.nix are one file
    assert host.profile.modules == (
        ModuleEntry("./net.nix", "hosts/common/net.nix"),
        ModuleEntry("agenix.nixosModules.age"),
        ModuleEntry("./tlp.nix", "hosts/gamma/tlp.nix"),
        ModuleEntry("./mods/fan.nix", "hosts/gamma/mods/fan.nix"),
        ModuleEntry("nixos-hardware.nixosModules.raspberry-pi-4"),
    )
    assert host.profile.modules[1].input == "agenix"
    home = host.profile.users[0].home
    assert home is not None
    assert home.modules == (
        ModuleEntry("./shell.nix", "hosts/gamma/shell.nix"),
        ModuleEntry("stylix.homeModules.stylix"),
    )
    assert host.profile.module_files == (
        "hosts/common/net.nix",
        "hosts/gamma/mods/fan.nix",
        "hosts/gamma/shell.nix",
        "hosts/gamma/tlp.nix",
    )


def test_two_files_of_one_name_in_two_folders_are_two_modules(basic_lab: Path) -> None:
    write(basic_lab, "hosts/gamma/tlp.nix", MODULE)
    write(basic_lab, "hosts/common/tlp.nix", MODULE)
    write(basic_lab, "hosts/common/mods.yaml", "modules: [./tlp.nix]\n")
    state = with_host(
        basic_lab, "include: [../common/mods.yaml]\n" + HEAD + "modules: [./tlp.nix]\n"
    )
    profile = state.hosts["gamma"].profile
    assert profile is not None
    assert [m.file for m in profile.modules] == ["hosts/common/tlp.nix", "hosts/gamma/tlp.nix"]


def test_entries_that_are_not_modules_are_refused_at_the_entry(basic_lab: Path) -> None:
    found = problems_of(
        basic_lab,
        HEAD + "modules:\n"
        "  - agenix\n"  # 3
        "  - tlp.nix\n"  # 4
        "  - /etc/nixos/tlp.nix\n"  # 5
        "  - agenix.nixosModules.\n"  # 6
        "  - '1password.nixosModules.x'\n"  # 7
        "  - ''\n"  # 8
        "  - 42\n",  # 9
    )
    said = {place: (message, hint) for place, message, hint in found}
    assert said[f"{PROFILE}:3:5"][0] == (
        "module 'agenix' is neither a file (./name.nix) nor an attribute of a flake input "
        "(INPUT.attr.path)"
    )
    assert "e.g. agenix.nixosModules.default" in said[f"{PROFILE}:3:5"][1]
    assert said[f"{PROFILE}:4:5"] == (
        "module 'tlp.nix' reads as an attribute of a flake input, not as a file",
        "a file is written with ./ in front: ./tlp.nix",
    )
    assert said[f"{PROFILE}:5:5"][0] == "module '/etc/nixos/tlp.nix' is outside the lab"
    assert "e.g. ./tlp.nix" in said[f"{PROFILE}:5:5"][1]
    assert said[f"{PROFILE}:6:5"][0].startswith("module 'agenix.nixosModules.' is neither")
    assert said[f"{PROFILE}:7:5"][0].startswith("module '1password.nixosModules.x' is neither")
    assert f"{PROFILE}:8:5" in said and f"{PROFILE}:9:5" in said  # the schema's own words


def test_module_files_outside_the_lab_or_in_secrets_are_refused(basic_lab: Path) -> None:
    write(basic_lab, "secrets/mod.nix", MODULE)
    (basic_lab.parent / "outside.nix").write_text(MODULE)
    write(basic_lab, "hosts/gamma/x.txt", "")
    os.symlink(basic_lab.parent / "outside.nix", basic_lab / "hosts" / "link.nix")
    os.symlink("../secrets/mod.nix", basic_lab / "hosts" / "sec.nix")
    found = problems_of(
        basic_lab,
        HEAD + "modules:\n"
        "  - ../../../outside.nix\n"  # 3
        "  - ../../secrets/mod.nix\n"  # 4
        "  - ../link.nix\n"  # 5
        "  - ../sec.nix\n"  # 6
        "  - ./x.txt\n"  # 7
        "  - ./boot.nix\n"  # 8
        "  - ./a b.nix\n",  # 9
    )
    said = {place: (message, hint) for place, message, hint in found}
    assert said[f"{PROFILE}:3:5"][0] == "module '../../../outside.nix': it climbs out of the lab"
    assert said[f"{PROFILE}:4:5"][0] == (
        "module '../../secrets/mod.nix': secrets/mod.nix is under secrets/, which never goes "
        "into the flake"
    )
    assert said[f"{PROFILE}:5:5"] == (
        "module '../link.nix': hosts/link.nix is a link to a file outside the lab",
        "homelab reads no file outside the lab: copy the file in instead of linking to it",
    )
    assert "is a link into secrets/" in said[f"{PROFILE}:6:5"][0]
    assert said[f"{PROFILE}:7:5"][0] == "module './x.txt': hosts/gamma/x.txt is not a .nix file"
    assert said[f"{PROFILE}:8:5"] == (
        "module './boot.nix': hosts/gamma/boot.nix is a file homelab generates, and a build "
        "would write over it",
        "rename the module file, e.g. hosts/gamma/boot-extra.nix",
    )
    assert "characters a Nix path cannot hold" in said[f"{PROFILE}:9:5"][0]


def test_a_missing_module_file_is_said_at_the_entry_that_names_it(basic_lab: Path) -> None:
    write(basic_lab, "hosts/common/mods.yaml", "# shared modules\nmodules: [./gone.nix]\n")
    found = problems_of(basic_lab, "include: [../common/mods.yaml]\n" + HEAD)
    assert found == [
        (
            "hosts/common/mods.yaml:2:11",
            "module './gone.nix': hosts/common/gone.nix does not exist",
            "write the module there, or correct the name (relative to the file that names "
            "it: a fragment's modules are beside the fragment)",
        )
    ]


def test_a_module_file_that_does_not_parse_is_said_at_its_own_line(basic_lab: Path) -> None:
    write(basic_lab, "hosts/gamma/tlp.nix", "{ ... }:\n{\n  services.tlp.enable = true\n}\n")
    write(basic_lab, "hosts/gamma/flat.nix", "services.tlp.enable = true;\n")
    write(basic_lab, "hosts/gamma/empty.nix", "\n")
    write(basic_lab, "hosts/gamma/ours.nix", f"# {HEADER_MARK} 0123456789abcdef\n{{ }}\n")
    write(
        basic_lab,
        "hosts/gamma/pw.nix",
        '{ ... }:\n{\n  users.users.ann.password = "hunter2";\n}\n',
    )
    found = problems_of(
        basic_lab,
        HEAD + "modules: [./tlp.nix, ./flat.nix, ./empty.nix, ./ours.nix, ./pw.nix]\n",
    )
    said = {place: (message, hint) for place, message, hint in found}
    assert said["hosts/gamma/tlp.nix:3:29"][0] == "module file is not valid Nix: missing `;`"
    assert said["hosts/gamma/flat.nix:1:1"] == (
        "module file holds option bindings, not a whole module",
        "wrap them: { config, lib, pkgs, ... }: { <the bindings> }",
    )
    assert said["hosts/gamma/empty.nix"][0] == "module file is empty"
    assert "carries homelab's generated-file header" in said["hosts/gamma/ours.nix:1:1"][0]
    assert said["hosts/gamma/pw.nix:3:19"][0].startswith(
        "a plaintext password in users.users.ann.password is not allowed"
    )
    assert len(found) == 5


def test_a_host_deploying_with_channels_takes_only_files_of_its_folder(basic_lab: Path) -> None:
    write(basic_lab, "hosts/common/net.nix", MODULE)
    write(basic_lab, "hosts/gamma/tlp.nix", MODULE)
    found = problems_of(
        basic_lab,
        HEAD + "deploy: {method: channels}\n"
        "modules: [./tlp.nix, ../common/net.nix, agenix.nixosModules.default]\n",
    )
    messages = [message for _, message, _ in found]
    assert len(found) == 2
    assert "deploys with channels, which sends only hosts/gamma/" in messages[0]
    assert "comes from a flake input, and this host deploys with channels" in messages[1]


def test_an_input_that_lab_yaml_lacks_is_named_with_the_inputs_it_has() -> None:
    doc, _ = load_text(
        "hosts/a/profile.yaml",
        HEAD + "modules: [agenx.nixosModules.default, ./x.nix, nixpkgs.nixosModules.y]\n"
        "users:\n  ann: {home: {modules: [stylix.homeModules.stylix]}}\n",
    )
    assert doc is not None
    doc, _ = resolve(doc, lambda rel: (None, []))
    found = [(str(p.place), p.message, p.hint) for p in input_problems(doc, ["agenix"])]
    assert found == [
        (
            "hosts/a/profile.yaml:2:11",
            "module 'agenx.nixosModules.default' names the input 'agenx', which lab.yaml does "
            "not have",
            "did you mean 'agenix'? add it to lab.yaml: `inputs: {agenx: {url: ...}}`; "
            "inputs now: agenix, home-manager, nixpkgs",
        ),
        (
            "hosts/a/profile.yaml:4:26",
            "module 'stylix.homeModules.stylix' names the input 'stylix', which lab.yaml does "
            "not have",
            "add it to lab.yaml: `inputs: {stylix: {url: ...}}`; "
            "inputs now: agenix, home-manager, nixpkgs",
        ),
    ]
    assert input_problems(doc, ["agenx", "stylix"]) == []


def test_an_input_that_lab_yaml_lacks_is_refused_by_validate(basic_lab: Path) -> None:
    write(
        basic_lab,
        "lab.yaml",
        'release: "26.05"\ninputs:\n  agenix: {url: "github:ryantm/agenix"}\n',
    )
    found = problems_of(
        basic_lab, HEAD + "modules: [agenix.nixosModules.default, sops-nix.nixosModules.sops]\n"
    )
    assert [(place, message) for place, message, _ in found] == [
        (
            f"{PROFILE}:2:40",
            "module 'sops-nix.nixosModules.sops' names the input 'sops-nix', which lab.yaml "
            "does not have",
        )
    ]
    # a lab without lab.yaml keeps its hand-kept flake.nix, whose inputs are not read
    (basic_lab / "lab.yaml").unlink()
    assert problems_of(basic_lab, HEAD + "modules: [sops-nix.nixosModules.sops]\n") == []


def test_the_names_homelab_generates_are_those_the_compiler_writes() -> None:
    made = {file for file, *_ in compiler._CONCERNS} | {"configuration.nix", "extra.nix"}
    assert made == GENERATED_NAMES
    assert compiler.HEADER_MARK == HEADER_MARK
