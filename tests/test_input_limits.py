"""YAML that would explode is refused in a blink, with its place, by every reader of
YAML: validate and build (profiles), includes (fragments), the catalogue, the editor and
its round-trip edits. A few hundred bytes of aliases used to keep homelab busy past a
minute while memory grew to gigabytes; 50 MB of keys took ten seconds to refuse."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

import pytest
import yaml
from conftest import RunCli, tree_hash

from homelab import yamlfile as load
from homelab.editing.session import Session
from homelab.lab import Lab
from homelab.profile import edit
from homelab.source import MAX_BYTES, Unreadable, read_file
from homelab.yamlfile import MAX_ALIASED, load_plain, load_text

F = "hosts/bad/profile.yaml"
P = ParamSpec("P")
T = TypeVar("T")
BLINK = 2.0  # seconds: each refusal here takes a few milliseconds


def bomb(first_line: int = 3) -> str:
    """An alias bomb of 9 anchors, each repeating the one before 9 times: 9^9 values in
    under 500 bytes. The anchors start at first_line."""
    lines = ["x:" if first_line == 2 else 'host: {stateVersion: "24.05"}\nx:']
    lines.append('  a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]')
    for before, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"  {name}: &{name} [" + ", ".join([f"*{before}"] * 9) + "]")
    return "\n".join(lines) + "\n"


BOMB = bomb()
D_LINE = 6  # &d: where the repeated values run over the limit


def quickly(work: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    started = time.monotonic()
    result = work(*args, **kwargs)
    assert time.monotonic() - started < BLINK
    return result


# ---- the loader ------------------------------------------------------------------------


def test_an_alias_bomb_is_refused_at_its_anchor_in_a_blink() -> None:
    assert len(BOMB.encode()) < 500
    doc, problems = quickly(load_text, F, BOMB)
    assert doc is None
    [problem] = problems
    assert (problem.place.file, problem.place.line, problem.place.column) == (F, D_LINE, 6)
    assert "aliases repeat too much" in problem.message and "&d" in problem.message
    assert f"{MAX_ALIASED:,}" in problem.message
    assert "write the values out" in problem.hint


def test_an_alias_inside_its_own_anchor_is_refused() -> None:
    _, [problem] = load_text(F, 'host: {stateVersion: "24.05"}\nusers: &u {bob: {x: *u}}\n')
    assert (problem.place.line, problem.place.column) == (2, 8)
    assert "the anchor &u is used by an alias inside itself" in problem.message


def test_values_shared_by_aliases_within_the_limit_are_read() -> None:
    keys = "keys: &keys [" + ", ".join(f"ssh-ed25519 AAAA{i} k{i}" for i in range(20)) + "]\n"
    users = "".join(f"  u{i}: {{sshKeys: *keys}}\n" for i in range(200))
    doc, problems = load_text(F, keys + "users:\n" + users)
    assert problems == [] and doc is not None
    assert doc.data["users"]["u199"]["sshKeys"][19] == "ssh-ed25519 AAAA19 k19"


def test_values_nested_deeper_than_any_profile_are_refused_at_their_line() -> None:
    _, [problem] = load_text(F, "a: 1\nb: " + "[" * 70 + "]" * 70 + "\n")
    assert problem.place.line == 2
    assert "nested more than 64 levels deep" in problem.message
    # deeper than the parser itself allows: the same words, never a RecursionError
    _, [problem] = load_text(F, "a: 1\nb: " + "[" * 5000 + "]" * 5000 + "\n")
    assert problem.place.line == 2
    assert "nested more than 64 levels deep" in problem.message


def test_nesting_that_aliases_make_too_deep_is_refused() -> None:
    deep = "[" * 40 + "]" * 40
    text = f"a: &a {deep}\nb: {'[' * 30}*a{']' * 30}\n"
    _, [problem] = load_text(F, text)
    assert problem.place.line == 1  # the anchor whose repetition goes too deep
    assert "nested more than 64 levels deep" in problem.message


def test_a_text_over_1_MiB_is_refused_before_it_is_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("a text over the limit was parsed")

    monkeypatch.setattr(load.yaml, "compose", never)
    text = "".join(f"k{i}: {i}\n" for i in range(5_000_000 // 10))
    doc, [problem] = quickly(load_text, F, text)
    assert doc is None and problem.place == load.Place(F)
    assert f"the file is {len(text):,} bytes" in problem.message
    assert "up to 1 MiB" in problem.message
    # counted in bytes as on disk, not in characters
    doc, [problem] = load_text(F, "é" * (MAX_BYTES // 2 + 1))
    assert "up to 1 MiB" in problem.message


def test_a_file_over_1_MiB_is_refused_without_being_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "hosts/bad/profile.yaml"
    big.parent.mkdir(parents=True)
    with big.open("wb") as handle:
        handle.truncate(50_000_000)

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("a file over the limit was opened")

    monkeypatch.setattr(os, "open", never)
    with pytest.raises(Unreadable) as refused:
        read_file(tmp_path, "hosts/bad/profile.yaml")
    assert "50,000,000 bytes" in refused.value.reason


def test_plain_loading_keeps_yaml_meaning_within_the_same_limits() -> None:
    text = "a: 2024-01-01\n80: x\nb: &b [1, 2]\nc: *b\n"
    assert load_plain(text) == yaml.safe_load(text)
    with pytest.raises(load.LimitError):
        quickly(load_plain, BOMB)
    with pytest.raises(yaml.YAMLError):  # what callers of yaml.safe_load already catch
        load_plain("x: " + "y" * MAX_BYTES)


# ---- every reader ----------------------------------------------------------------------


def put(lab: Path, rel: str, text: str) -> None:
    (lab / rel).parent.mkdir(parents=True, exist_ok=True)
    (lab / rel).write_text(text)


def test_validate_refuses_an_alias_bomb_in_a_profile(basic_lab: Path, run_cli: RunCli) -> None:
    put(basic_lab, F, BOMB)
    code, _, err = quickly(run_cli, "--lab", str(basic_lab), "validate")
    assert code == 2
    assert f"error: {F}:{D_LINE}:6: aliases repeat too much" in err


def test_build_refuses_an_alias_bomb_and_writes_nothing(basic_lab: Path, run_cli: RunCli) -> None:
    put(basic_lab, F, BOMB)
    before = tree_hash(basic_lab)
    code, out, err = quickly(run_cli, "--lab", str(basic_lab), "build")
    assert (code, out) == (2, "")
    assert f"{F}:{D_LINE}:6: aliases repeat too much" in err
    assert tree_hash(basic_lab) == before


def test_hosts_lists_a_host_with_an_alias_bomb_as_invalid(basic_lab: Path, run_cli: RunCli) -> None:
    put(basic_lab, F, BOMB)
    code, out, _ = quickly(run_cli, "--lab", str(basic_lab), "hosts")
    assert code == 0
    assert any(line.startswith("bad ") and "(invalid)" in line for line in out.splitlines())


def test_a_50_MB_profile_is_refused_on_its_size_in_a_blink(
    basic_lab: Path, run_cli: RunCli
) -> None:
    keys = "".join(f"key{i}: value\n" for i in range(100_000)).encode()
    with (basic_lab / "hosts/alpha/profile.yaml").open("ab") as handle:
        for _ in range(50_000_000 // len(keys)):
            handle.write(keys)
    code, _, err = quickly(run_cli, "--lab", str(basic_lab), "validate")
    assert code == 2
    assert "error: hosts/alpha/profile.yaml: the file is" in err
    assert "up to 1 MiB" in err


def test_an_alias_bomb_in_a_fragment_is_refused_at_its_anchor(
    basic_lab: Path, run_cli: RunCli
) -> None:
    put(basic_lab, "hosts/common/users.yaml", bomb(first_line=2))
    code, _, err = quickly(run_cli, "--lab", str(basic_lab), "validate")
    assert code == 2
    assert f"error: hosts/common/users.yaml:{D_LINE - 1}:6: aliases repeat too much" in err


def test_a_fragment_over_1_MiB_is_refused_at_the_include(basic_lab: Path, run_cli: RunCli) -> None:
    put(basic_lab, "hosts/common/users.yaml", "# big\n" + "x" * MAX_BYTES)
    code, _, err = run_cli("--lab", str(basic_lab), "validate")
    assert code == 2
    # the entry that names it, in the profile that includes it
    assert "error: hosts/alpha/profile.yaml:2:" in err
    assert "include '../common/users.yaml': the file is" in err and "up to 1 MiB" in err


def test_an_alias_bomb_in_a_catalogue_entry_is_refused_at_its_anchor(
    basic_lab: Path, run_cli: RunCli
) -> None:
    entry = "description: a bomb\nnixpkgs: hello\nnixos:\n" + bomb(first_line=2).replace(
        "x:\n", "  x:\n"
    ).replace("\n  ", "\n    ")
    put(basic_lab, "services/bomb.yaml", entry)
    code, _, err = quickly(run_cli, "--lab", str(basic_lab), "validate")
    assert code == 2
    assert f"error: services/bomb.yaml:{D_LINE + 2}:8: aliases repeat too much" in err


def test_the_editor_opens_a_profile_with_an_alias_bomb_as_a_broken_host(
    basic_lab: Path,
) -> None:
    put(basic_lab, F, BOMB)
    session = Session(Lab(basic_lab))
    assert quickly(session.data, "bad") == {}
    check = quickly(session.check, "bad")
    assert any("aliases repeat too much" in p.message for p in check.problems)


def test_the_editor_checks_an_unsaved_alias_bomb_in_a_blink(basic_lab: Path) -> None:
    session = Session(Lab(basic_lab))
    session.replace_text("alpha", BOMB)
    check = quickly(session.check, "alpha")
    assert [p.place.line for p in check.problems] == [D_LINE]


def test_edits_refuse_an_alias_bomb_instead_of_expanding_it() -> None:
    with pytest.raises(edit.EditError, match="aliases repeat too much"):
        quickly(edit.set_value, BOMB, ("packages",), ["git"])
    with pytest.raises(edit.EditError):
        quickly(edit.get_value, BOMB, ("x", "i"))
    with pytest.raises(edit.EditError, match="aliases repeat too much"):
        quickly(edit.rename_key, BOMB, ("x",), "y")


def test_edits_refuse_a_text_over_1_MiB() -> None:
    text = 'host: {stateVersion: "24.05"}\nextraConfig: "' + "x" * MAX_BYTES + '"\n'
    with pytest.raises(edit.EditError, match="up to 1 MiB"):
        quickly(edit.set_value, text, ("packages",), ["git"])
