# ruff: noqa: E501
"""`homelab validate` with the REAL home-manager option index (made by the product's
index.nix from ../shared/upstream with the real nix-instantiate): a copy of the demo lab
(scripts/demo-lab) whose user sets home-manager options under `home.options:`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from homelab.errors import Problem
from homelab.lab import Lab
from homelab.optionindex.model import OptionIndex
from tests.conftest import REPO, RunCli
from tests.optionindex import home_manager_index

PROFILE = "hosts/nixos-demo/profile.yaml"

GOOD = """\
      options:
        programs.git:
          enable: true
          settings.user.name: Demo User
        programs.eza: {enable: true, colors: auto}
        services.mpd.network.port: 6600
        home.sessionVariables.EDITOR: vim
        programs.bash.shellAliases: {ll: ls -l}
        xdg.configFile."demo/hello.txt".text: hello
        programs.firefox.profiles.default.containers.work: {id: 1, color: pink}
        home.packages: [!pkg htop]
        programs.zsh.enable: !force true
"""


@pytest.fixture(scope="module")
def index() -> OptionIndex:
    return home_manager_index()


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    folder = tmp_path / "demo"
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "demo-lab"), str(folder)],
        check=True,
        capture_output=True,
    )
    return folder


def with_home_options(demo: Path, block: str) -> int:
    """Put an options: block under the demo user's home:; the line its first key is on."""
    profile = demo / PROFILE
    text = profile.read_text(encoding="utf-8")
    head = "    home:\n"
    assert text.count(head) == 1
    profile.write_text(text.replace(head, head + block), encoding="utf-8")
    return text[: text.index(head)].count("\n") + 3  # home:, options:, the first key


def problems(lab: Lab, index: OptionIndex) -> list[Problem]:
    """The problems of the lab's profiles. (The NixOS side of this index is only what
    home-manager's NixOS module and the tests declare, not NixOS's modules: the options
    the catalogue entries set are mostly not in it.)"""
    return [p for p in lab.load(index=index).all_problems() if p.place.file.startswith("hosts/")]


def test_the_demo_labs_users_pass(demo: Path, index: OptionIndex) -> None:
    assert len(index.home) > 5000
    assert problems(Lab(demo), index) == []
    assert Lab(demo).load(index=index).options_not_checked == 0
    with_home_options(demo, GOOD)
    assert problems(Lab(demo), index) == []


def test_a_misspelt_home_option_gets_the_right_did_you_mean(demo: Path, index: OptionIndex) -> None:
    line = with_home_options(demo, "      options:\n        programs.gti.enable: true\n")
    (p,) = problems(Lab(demo), index)
    assert (p.place.file, p.place.line, p.place.column) == (PROFILE, line, 9)
    assert p.message == "programs.gti.enable is not an option"
    assert p.hint == "did you mean programs.git.enable?"
    assert p.path == 'users.demouser.home.options."programs.gti.enable"'  # the key as written


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("programs.git.enable", '"yes"', "programs.git.enable takes true or false, not the text 'yes'"),
        ("programs.eza.colors", "sometimes",
         'programs.eza.colors takes one of null, "auto", "always", "never", not the text \'sometimes\''),
        ("services.mpd.network.port", "70000",
         "services.mpd.network.port takes a whole number from 0 to 65535, not 70000, which is out of range"),
    ],
)  # fmt: skip
def test_wrong_values_are_refused_at_the_profile_line(
    demo: Path, index: OptionIndex, key: str, value: str, message: str
) -> None:
    line = with_home_options(demo, f"      options:\n        {key}: {value}\n")
    (p,) = problems(Lab(demo), index)
    column = 9 + len(key) + 2  # the value, after "key: "
    assert (p.place.file, p.place.line, p.place.column) == (PROFILE, line, column)
    assert p.message == message


def test_homelab_validate_names_the_line_and_the_option_it_may_be(
    demo: Path, index: OptionIndex, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = with_home_options(
        demo, "      options:\n        programs.gti.enable: true\n        programs.git.enable: 1\n"
    )
    monkeypatch.setattr(Lab, "option_index", lambda self: index, raising=False)
    code, out, err = run_cli("--lab", str(demo), "validate")
    assert code == 2 and out == ""
    assert (
        f'{PROFILE}:{line}:9: users.demouser.home.options."programs.gti.enable": '
        "programs.gti.enable is not an option\n    hint: did you mean programs.git.enable?"
    ) in err
    assert (
        f'{PROFILE}:{line + 1}:30: users.demouser.home.options."programs.git.enable": '
        "programs.git.enable takes true or false, not the number 1"
    ) in err
    assert "note:" not in err  # the index was there: nothing went unchecked for want of it


def test_extra_config_home_manager_users_are_read_against_the_home_options(
    demo: Path, index: OptionIndex
) -> None:
    profile = demo / PROFILE
    text = profile.read_text(encoding="utf-8")
    assert "extraConfig" not in text
    profile.write_text(
        text
        + "extraConfig: |\n"
        + "  home-manager.useGlobalPkgs = true;\n"
        + "  home-manager.users.demouser = {\n"
        + "    programs.git.enable = true;\n"
        + "    programs.gti.enable = true;\n"
        + "  };\n",
        encoding="utf-8",
    )
    line = text.count("\n") + 5
    (p,) = problems(Lab(demo), index)
    assert (p.place.line, p.place.column) == (line, 18)  # at `enable`
    assert p.message == (
        "extraConfig: demouser's home-manager options: programs.gti.enable is not an option"
    )
    assert p.hint == "did you mean programs.git.enable?"
