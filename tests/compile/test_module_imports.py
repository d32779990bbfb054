"""modules: in the generated files: configuration.nix imports each module (an input's as
`inputs.NAME...`, a file as a path from the host folder), a user's home modules go into
home-manager.users.NAME.imports; read back with the real nix-instantiate."""

from __future__ import annotations

from pathlib import Path

from homelab.lab import Lab
from tests.conftest import RunCli
from tests.nixtools import nix_eval, nix_parse

PROFILE = """\
include: [../common/mods.yaml]
host: {stateVersion: "24.05"}
modules: [./tlp.nix, nixos-hardware.nixosModules.common-pc-ssd]
users:
  ann:
    home:
      modules: [./shell.nix, ../common/git.nix, stylix.homeModules.stylix]
"""
MODULE = "{ ... }: { }\n"

# configuration.nix and home.nix called with stand-in inputs: the imports as text
CALL = """
let
  inputs = {
    agenix.nixosModules.default = "agenix module";
    nixos-hardware.nixosModules.common-pc-ssd = "ssd module";
    stylix.homeModules.stylix = "stylix module";
  };
  args = { config = { }; lib = { mkDefault = x: x; }; pkgs = { }; inherit inputs; };
  shown = map (m: if builtins.isPath m then toString m else m);
  entry = import HOST/configuration.nix args;
  home = import HOST/home.nix args;
in {
  imports = shown entry.imports;
  home = shown home.home-manager.users.ann.imports;
}
"""


def _lab(basic_lab: Path) -> Lab:
    for rel in ("hosts/gamma/tlp.nix", "hosts/gamma/shell.nix", "hosts/common/git.nix",
                "hosts/common/ssh.nix"):  # fmt: skip
        (basic_lab / rel).parent.mkdir(parents=True, exist_ok=True)
        (basic_lab / rel).write_text(MODULE)
    (basic_lab / "hosts/common/mods.yaml").write_text(
        "modules: [agenix.nixosModules.default, ./ssh.nix]\n"
    )
    (basic_lab / "hosts/gamma/profile.yaml").write_text(PROFILE)
    return Lab(basic_lab)


def test_the_host_imports_its_modules_and_a_user_their_home_modules(basic_lab: Path) -> None:
    lab = _lab(basic_lab)
    state = lab.load()
    assert state.hosts["gamma"].problems == ()
    lab.build(state, ["gamma"])
    host = basic_lab / "hosts" / "gamma"
    conf = (host / "configuration.nix").read_text()
    home = (host / "home.nix").read_text()
    nix_parse(conf)
    nix_parse(home)
    assert "{ config, lib, pkgs, inputs, ... }:" in conf
    assert "{ config, lib, pkgs, inputs, ... }:" in home

    found = nix_eval(CALL.replace("HOST", str(host)))

    assert found["imports"][-4:] == [
        "agenix module",
        str(basic_lab / "hosts/common/ssh.nix"),
        str(host / "tlp.nix"),
        "ssd module",
    ]
    assert found["home"] == [
        str(host / "shell.nix"),
        str(basic_lab / "hosts/common/git.nix"),
        "stylix module",
    ]
    # written as a person would: paths from the host folder, inputs by name
    assert "../common/ssh.nix" in conf and "inputs.agenix.nixosModules.default" in conf
    # the module files are the person's: a build never writes or deletes them
    assert lab.build(lab.load(), ["gamma"]).written == ()
    assert (host / "tlp.nix").read_text() == MODULE


def test_without_input_modules_the_arguments_stay_as_they_were(basic_lab: Path) -> None:
    (basic_lab / "hosts/gamma").mkdir()
    (basic_lab / "hosts/gamma/tlp.nix").write_text(MODULE)
    (basic_lab / "hosts/gamma/profile.yaml").write_text(
        'host: {stateVersion: "24.05"}\nmodules: [./tlp.nix]\n'
    )
    lab = Lab(basic_lab)
    lab.build(lab.load(), ["gamma"])
    conf = (basic_lab / "hosts/gamma/configuration.nix").read_text()
    nix_parse(conf)
    assert "{ config, lib, pkgs, ... }:" in conf
    assert "    ./tlp.nix\n" in conf


def test_a_module_file_that_breaks_after_a_build_is_found_by_the_next(
    basic_lab: Path, run_cli: RunCli
) -> None:
    _lab(basic_lab)
    code, out, err = run_cli("--lab", str(basic_lab), "build")
    assert code == 0, out + err
    (basic_lab / "hosts/common/git.nix").write_text("{ ... }: { programs.git.enable = true }\n")

    code, out, err = run_cli("--lab", str(basic_lab), "build")

    assert code == 2, out + err
    assert "hosts/common/git.nix:1:38: users.ann.home.modules[1]: module file is not valid" in err
