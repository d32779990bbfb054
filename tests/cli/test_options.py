"""`homelab options search`, `options show` and `catalogue check` over a small hand-made
index, and what they say when the lab has no index."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from homelab.deploy.optionupdate import lock_pair, write_cached
from homelab.lab import Lab
from homelab.optionindex import model as m
from tests.conftest import RunCli

BOOL = m.OptionType(m.BOOL, "bool", "boolean")
PORT = m.OptionType(
    m.INT,
    "port",
    "16 bit unsigned integer; between 0 and 65535 (both inclusive)",
    low=0,
    high=65535,
)
LEVEL = m.OptionType(m.ENUM, "enum", values=("info", "debug"))


def option(path: str, kind: m.OptionType = BOOL, description: str = "", **more: Any) -> m.Option:
    return m.Option(tuple(path.split(".")), kind, description, **more)


def option_set(*options: m.Option) -> m.OptionSet:
    return m.OptionSet({o.path: o for o in options})


INDEX = m.OptionIndex(
    "nixpkgs-test",
    "home-manager-test",
    option_set(
        option("services.demo.enable", description="Whether to enable the demo service."),
        option(
            "services.demo.port",
            PORT,
            "The port the demo listens on.",
            default="8080",
            example="9090",
            declared_in=("nixos/modules/services/misc/demo.nix",),
        ),
        option("services.demo.level", LEVEL, "How much it logs."),
        option("services.other.enable", description="Whether to enable another demo."),
        option("services.old.enable", removed="The old service is unmaintained."),
        option("services.other.openPorts", renamed_to=("services", "other", "openFirewall")),
        option("services.other.openFirewall", description="Open the ports."),
    ),
    option_set(
        option("programs.git.enable", description="Whether to enable Git."),
        option("programs.git.userName", m.OptionType(m.STR, description="string")),
    ),
)


@pytest.fixture
def indexed(monkeypatch: pytest.MonkeyPatch) -> m.OptionIndex:
    """The lab's index is INDEX (as Lab.option_index reads it from the lab)."""
    monkeypatch.setattr(Lab, "option_index", lambda self: INDEX, raising=False)
    return INDEX


@pytest.fixture
def no_index(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Lab, "option_index", lambda self: None, raising=False)


def test_search_lists_the_best_match_first_with_its_description(
    basic_lab: Path, run_cli: RunCli, indexed: m.OptionIndex
) -> None:
    code, out, err = run_cli("--lab", str(basic_lab), "options", "search", "demo")
    assert code == 0
    rows = out.splitlines()
    assert rows[0].split() == ["OPTION", "DESCRIPTION"]
    assert rows[1].startswith("services.demo.enable ")
    assert "Whether to enable the demo service." in rows[1]
    assert [r.split()[0] for r in rows[1:]] == [
        "services.demo.enable",
        "services.demo.level",
        "services.demo.port",
        "services.other.enable",  # "demo" only in its description
    ]
    assert "4 of 4 matching NixOS options" in err


def test_search_home_searches_home_manager_s_options(
    basic_lab: Path, run_cli: RunCli, indexed: m.OptionIndex
) -> None:
    code, out, _ = run_cli("--lab", str(basic_lab), "options", "search", "--home", "git")
    assert code == 0
    assert out.splitlines()[1].startswith("programs.git.enable ")
    path = "home-manager.users.alice.programs.git"
    code, out, _ = run_cli("--lab", str(basic_lab), "options", "search", path)
    assert code == 0
    assert out.splitlines()[1].startswith("programs.git.enable ")
    code, _, err = run_cli("--lab", str(basic_lab), "options", "search", "git")
    assert code == 1  # nothing found, as grep says it
    assert "no NixOS option matches 'git' (try --home)" in err


def test_search_with_a_limit_says_how_many_more_there_are(
    basic_lab: Path, run_cli: RunCli, indexed: m.OptionIndex
) -> None:
    code, out, err = run_cli("--lab", str(basic_lab), "options", "search", "enable", "--limit", "1")
    assert code == 0
    assert len(out.splitlines()) == 2
    assert "1 of 3 matching NixOS options; --limit 3 shows all" in err


def test_show_prints_the_option_s_page(
    basic_lab: Path, run_cli: RunCli, indexed: m.OptionIndex
) -> None:
    code, out, _ = run_cli("--lab", str(basic_lab), "options", "show", "services.demo.port")
    assert code == 0
    assert out.splitlines() == [
        "services.demo.port  (NixOS)",
        "type: 16 bit unsigned integer; between 0 and 65535 (both inclusive)",
        "default: 8080",
        "example: 9090",
        "declared in: nixos/modules/services/misc/demo.nix",
        "",
        "The port the demo listens on.",
    ]
    code, out, _ = run_cli("--lab", str(basic_lab), "options", "show", "services.old.enable")
    assert out.splitlines()[1] == "removed: The old service is unmaintained."


def test_show_finds_a_user_s_home_manager_option(
    basic_lab: Path, run_cli: RunCli, indexed: m.OptionIndex
) -> None:
    for path in ("programs.git.enable", "home-manager.users.alice.programs.git.enable"):
        code, out, _ = run_cli("--lab", str(basic_lab), "options", "show", path)
        assert code == 0
        assert out.splitlines()[0] == "programs.git.enable  (home-manager)"


def test_show_of_a_path_above_options_lists_them(
    basic_lab: Path, run_cli: RunCli, indexed: m.OptionIndex
) -> None:
    code, out, _ = run_cli("--lab", str(basic_lab), "options", "show", "services.demo")
    assert code == 0
    assert out.splitlines() == [
        "services.demo holds 3 NixOS options:",
        "  services.demo.enable",
        "  services.demo.level",
        "  services.demo.port",
    ]


def test_show_of_no_option_is_bad_input_with_the_closest_paths(
    basic_lab: Path, run_cli: RunCli, indexed: m.OptionIndex
) -> None:
    code, out, err = run_cli("--lab", str(basic_lab), "options", "show", "services.demo.prot")
    assert code == 2
    assert out == ""
    assert "services.demo.prot: no NixOS option has this path" in err
    assert "did you mean services.demo.port" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["options", "search", "git"],
        ["options", "show", "programs.git.enable"],
        ["catalogue", "check"],
    ],
)
def test_without_an_index_the_commands_say_how_to_make_one(
    basic_lab: Path, run_cli: RunCli, no_index: None, argv: list[str]
) -> None:
    code, out, err = run_cli("--lab", str(basic_lab), *argv)
    # 1, not 2: nothing typed was wrong; the lab lacks what the command reads
    assert code == 1
    assert out == ""
    assert "no option index yet" in err
    assert "homelab options update" in err


def test_options_alone_lists_its_commands(basic_lab: Path, run_cli: RunCli) -> None:
    code, out, _ = run_cli("--lab", str(basic_lab), "options")
    assert code == 0
    assert "search" in out and "show" in out


DEMO = """\
description: A demo service
nixpkgs: "26.05"
settings:
  type: object
  properties:
    port: {type: integer, default: 8080}
    level: {type: string, default: verbose}
    keyFile: {type: string}
nixos:
  services.demo.enable: true
  services.demo.port: {setting: port}
  services.demo.level: {setting: level}
  services.demo.keyFile: {setting: keyFile}
"""

OTHER = """\
description: Another demo, written for an older release
nixpkgs: "25.11"
nixos:
  services.other.enable: true
"""


def catalogue(lab: Path, entries: dict[str, str]) -> None:
    shutil.rmtree(lab / "services")
    (lab / "services").mkdir()
    for name, text in entries.items():
        (lab / "services" / f"{name}.yaml").write_text(text)


def test_catalogue_check_names_each_entry_line_and_option_at_fault(
    basic_lab: Path, run_cli: RunCli, indexed: m.OptionIndex
) -> None:
    catalogue(basic_lab, {"demo": DEMO, "other": OTHER})
    code, out, _ = run_cli("--lab", str(basic_lab), "catalogue", "check")
    assert code == 2
    lines = out.splitlines()
    # the index has no services.demo.keyFile; the default level is no member of its enum;
    # other.yaml says another release than the lab's (26.05, the skeleton's: no lab.yaml)
    problems = [line for line in lines if line.startswith("services/")]
    assert len(problems) == 3
    assert problems[0].startswith("services/demo.yaml:12:3: ")
    assert "services.demo.level" in problems[0] and "'verbose'" in problems[0]
    assert problems[1].startswith("services/demo.yaml:13:3: ")
    assert "services.demo.keyFile" in problems[1]
    assert problems[2].startswith("services/other.yaml:2:")
    assert "written for NixOS 25.11; the lab follows 26.05" in problems[2]
    assert lines[-1].startswith("2 entries setting 5 options: 3 problems in 2 entries;")


def test_catalogue_check_passes_a_true_catalogue(
    basic_lab: Path, run_cli: RunCli, indexed: m.OptionIndex
) -> None:
    catalogue(
        basic_lab,
        {
            "demo": DEMO.replace("verbose", "debug").replace(
                "  services.demo.keyFile: {setting: keyFile}\n", ""
            )
        },
    )
    code, out, _ = run_cli("--lab", str(basic_lab), "catalogue", "check")
    assert code == 0
    assert out.splitlines() == [
        "1 entry setting 3 options: no problems; 3 values checked, 0 not checked "
        "(set by a setting without a default, or of a type homelab cannot check)"
    ]


def test_catalogue_check_warns_of_a_renamed_option_without_failing(
    basic_lab: Path, run_cli: RunCli, indexed: m.OptionIndex
) -> None:
    renamed = OTHER.replace("25.11", "26.05") + "  services.other.openPorts: true\n"
    catalogue(basic_lab, {"other": renamed})
    code, out, _ = run_cli("--lab", str(basic_lab), "catalogue", "check")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("warning: services/other.yaml:5:3: services.other.openPorts ")
    assert "renamed to services.other.openFirewall" in lines[0]
    assert lines[-1].startswith("1 entry setting 2 options: no problems (1 warning);")


def pin(lab: Path) -> None:
    """A flake.lock pinning nixpkgs and home-manager, as `homelab lock` writes it."""
    nodes: dict[str, Any] = {"root": {"inputs": {"nixpkgs": "nixpkgs", "home-manager": "hm"}}}
    for node, repo in (("nixpkgs", "NixOS/nixpkgs"), ("hm", "nix-community/home-manager")):
        owner, name = repo.split("/")
        nodes[node] = {
            "locked": {"type": "github", "owner": owner, "repo": name, "rev": f"{node}0123"},
            "original": {"type": "github", "owner": owner, "repo": name},
        }
    (lab / "flake.lock").write_text(json.dumps({"nodes": nodes, "root": "root", "version": 7}))


def test_the_commands_read_the_index_that_options_update_keeps_for_the_pinned_pair(
    basic_lab: Path, run_cli: RunCli
) -> None:
    code, _, err = run_cli("--lab", str(basic_lab), "options", "search", "demo")
    assert code == 1 and "no option index yet" in err
    pin(basic_lab)
    pair = lock_pair(basic_lab)
    assert pair is not None
    write_cached(basic_lab, pair, INDEX)
    code, out, _ = run_cli("--lab", str(basic_lab), "options", "search", "demo")
    assert code == 0
    assert out.splitlines()[1].startswith("services.demo.enable ")


BRANCHES = """\
description: A demo whose other settings write other values
nixpkgs: "26.05"
settings:
  type: object
  properties:
    verbose: {type: boolean, default: false}
    level: {type: string, enum: [info, debug, trace], default: info}
nixos:
  services.demo.enable: true
  services.demo.port: {if: verbose, then: 70000, else: 8080}
  services.demo.level: {setting: level}
"""


def test_catalogue_check_also_writes_the_entry_with_each_switch_turned_and_enum_member(
    basic_lab: Path, run_cli: RunCli, indexed: m.OptionIndex
) -> None:
    catalogue(basic_lab, {"demo": BRANCHES})
    code, out, _ = run_cli("--lab", str(basic_lab), "catalogue", "check")
    assert code == 2
    problems = out.splitlines()[:-1]
    assert len(problems) == 2, out
    assert problems[0].startswith("services/demo.yaml:10:3: with verbose: true, ")
    assert "70000" in problems[0]
    assert problems[1].startswith("services/demo.yaml:11:3: with level: trace, ")
    assert "'trace'" in problems[1]
    # the three with the defaults, then port with verbose: true, level with debug and trace
    assert "6 values checked" in out.splitlines()[-1]
