"""Option search and `homelab options` over the REAL home-manager index (made by the
product's index.nix from ../shared/upstream with the real nix-instantiate), and
`homelab catalogue check` of the real openssh entry against NixOS options declared with
the real lib (sshd.nix's declarations of the options the entry sets)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from homelab.lab import Lab
from homelab.optionindex.model import OptionIndex
from homelab.optionindex.search import EXACT, search
from tests.conftest import REPO, RunCli
from tests.optionindex import home_manager_index, nixos_index


@pytest.fixture(scope="module")
def index() -> OptionIndex:
    return home_manager_index()


def names(index: OptionIndex, words: str, limit: int = 50) -> list[str]:
    return [h.option.name for h in search(index.home, words, limit)]


def test_git_finds_programs_git_enable_first_then_the_rest_of_programs_git(
    index: OptionIndex,
) -> None:
    assert len(index.home) > 5000  # every module of the snapshot
    found = names(index, "git", limit=None)  # type: ignore[arg-type]
    assert found[0] == "programs.git.enable"
    git = [n for n in found if n.startswith("programs.git.")]
    # programs.git.* (with a part that is git) before options that only hold the word
    first_other = next(i for i, n in enumerate(found) if not n.startswith("programs.git."))
    assert first_other >= 10 and found[:first_other] == git[:first_other]
    assert "programs.lazygit.enable" in found


def test_an_exact_path_a_prefix_and_several_words(index: OptionIndex) -> None:
    hits = search(index.home, "programs.zsh.enable")
    assert hits[0].option.name == "programs.zsh.enable" and hits[0].tier == EXACT
    assert all(n.startswith("programs.zsh.history") for n in names(index, "programs.zsh.history"))
    assert names(index, "git signing key")[0] == "programs.git.signing.key"
    assert names(index, "starship")[0] == "programs.starship.enable"


def test_a_typo_still_finds_the_module(index: OptionIndex) -> None:
    assert names(index, "firefx")[0] == "programs.firefox.enable"
    assert names(index, "syncthnig")[0] == "services.syncthing.enable"


def test_the_cli_searches_and_shows_real_home_manager_options(
    index: OptionIndex, basic_lab: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Lab, "option_index", lambda self: index, raising=False)
    code, out, _ = run_cli("--lab", str(basic_lab), "options", "search", "--home", "git")
    assert code == 0
    assert out.splitlines()[1].split()[:4] == ["programs.git.enable", "Whether", "to", "enable"]
    code, out, _ = run_cli(
        "--lab", str(basic_lab), "options", "show", "--home", "programs.git.enable"
    )
    assert code == 0
    assert out.splitlines() == [
        "programs.git.enable  (home-manager)",
        "type: boolean",
        "default: false",
        "example: true",
        "declared in: modules/programs/git.nix",
        "",
        "Whether to enable Git.",
    ]


# the options services/openssh.yaml sets, declared as nixpkgs' sshd.nix declares them
# (nixos/modules/services/networking/ssh/sshd.nix, nixos-26.05)
SSHD = """\
{ lib, ... }:
let inherit (lib) mkOption types; in
{
  options.services.openssh = {
    enable = mkOption { type = types.bool; default = false; };
    ports = mkOption { type = types.listOf types.port; default = [ 22 ]; };
    openFirewall = mkOption { type = types.bool; default = true; };
    settings = mkOption {
      default = { };
      type = types.submodule {
        freeformType = types.attrsOf (types.either types.str (types.either types.int types.bool));
        options = {
          PasswordAuthentication = mkOption { type = types.bool; default = true; };
          KbdInteractiveAuthentication = mkOption { type = types.bool; default = true; };
          PermitRootLogin = mkOption {
            default = "prohibit-password";
            type = types.enum [ "yes" "without-password" "prohibit-password"
                                "forced-commands-only" "no" ];
          };
        };
      };
    };
  };
}
"""


def test_catalogue_check_of_the_real_openssh_entry_against_real_lib_types(
    basic_lab: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    sshd = nixos_index(SSHD)
    monkeypatch.setattr(Lab, "option_index", lambda self: sshd, raising=False)
    shutil.rmtree(basic_lab / "services")
    (basic_lab / "services").mkdir()
    entry = (REPO / "services" / "openssh.yaml").read_text()
    (basic_lab / "services" / "openssh.yaml").write_text(entry)
    release = Lab(basic_lab).release()
    code, out, _ = run_cli("--lab", str(basic_lab), "catalogue", "check")
    wrong_release = f'nixpkgs: "{release}"' not in entry
    assert code == (2 if wrong_release else 0), out
    assert "not an option" not in out and "takes" not in out
    assert out.splitlines()[-1].startswith("1 entry setting 6 options: ")
    # one typo in the entry is named at its line, with the option it meant (a key of the
    # freeform settings is no typo: sshd takes any, and so does NixOS)
    typo = entry.replace("services.openssh.openFirewall", "services.openssh.openFirewal")
    (basic_lab / "services" / "openssh.yaml").write_text(typo)
    code, out, _ = run_cli("--lab", str(basic_lab), "catalogue", "check")
    assert code == 2
    line = 1 + typo.splitlines().index("  services.openssh.openFirewal: {setting: openFirewall}")
    assert f"services/openssh.yaml:{line}:3: services.openssh.openFirewal" in out
    assert "did you mean services.openssh.openFirewall" in out
