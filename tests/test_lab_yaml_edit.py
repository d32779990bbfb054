"""Editing lab.yaml (the Lab screen's core): each change keeps the person's comments and
layout; saving checks the whole file before anything is written, writes lab.yaml and the
flake.nix it makes, and commits them in the lab's words, in a real git repository."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from homelab import labconfig
from homelab.editing.labyaml import change_lines, subject
from homelab.errors import InvalidInput
from homelab.lab import Lab
from homelab.labconfig import edit
from homelab.labconfig.flake import flake_text
from tests.conftest import REPO, copy_lab, tree_hash

COMMENTED = """\
# the lab as a whole
release: "26.05"  # the release
inputs:
  # secrets
  agenix: {url: "github:ryantm/agenix"}  # age
overlays:
  - agenix.overlays.default  # first
  - ./overlays/tools.nix # second
# the end
"""


def _data(text: str) -> object:
    from homelab.yamlfile import load_plain

    return load_plain(text)


# ---- the edits -----------------------------------------------------------------------


def test_release_changes_on_its_line_and_stays_a_string() -> None:
    out = edit.set_release(COMMENTED, "26.11")
    assert out == COMMENTED.replace('"26.05"  # the release', '"26.11"  # the release')


def test_a_new_labs_release_comment_follows_the_release() -> None:
    out = edit.set_release(labconfig.lab_yaml_text("26.05"), "26.11")
    assert 'release: "26.11"  # nixpkgs nixos-26.11, home-manager release-26.11\n' in out


def test_an_input_is_added_after_the_others_in_their_style() -> None:
    out = edit.set_input(COMMENTED, "disko", "github:nix-community/disko", follows=False)
    assert out == COMMENTED.replace(
        "  # age\n", '  # age\n  disko: {url: "github:nix-community/disko", follows: false}\n'
    )


def test_an_input_is_edited_and_renamed_in_place_with_its_comments() -> None:
    out = edit.set_input(COMMENTED, "age", "github:me/agenix", follows=False, was="agenix")
    assert '  # secrets\n  age: {url: "github:me/agenix", follows: false}  # age\n' in out
    back = edit.set_input(out, "age", "github:me/agenix", follows=True, was="age")
    # following is the default; ruamel keeps the comment in its column
    assert re.search(r'\n  age: \{url: "github:me/agenix"\} +# age\n', back), back


def test_a_new_section_goes_at_the_end_of_a_new_lab_yaml() -> None:
    text = labconfig.lab_yaml_text("26.05")
    out = edit.add_overlay(edit.set_input(text, "agenix", "github:ryantm/agenix"), "x.y")
    assert out.startswith(text)  # every example comment kept, in its place
    assert out[len(text) :] == (
        'inputs:\n  agenix: {url: "github:ryantm/agenix"}\noverlays:\n  - x.y\n'
    )


def test_removing_the_last_input_or_overlay_removes_its_section() -> None:
    out = edit.remove_input(COMMENTED, "agenix")
    assert "inputs" not in out and "# the lab as a whole" in out and "# first" in out
    out = edit.remove_overlay(edit.remove_overlay(COMMENTED, 0), 0)
    assert "overlays" not in out and "  agenix: {" in out and "# the end" in out


def test_an_overlay_is_added_after_the_last_one_not_after_a_comment() -> None:
    out = edit.add_overlay(COMMENTED, "./overlays/more.nix")
    assert "  - ./overlays/tools.nix # second\n  - ./overlays/more.nix\n# the end\n" in out


def test_moving_an_overlay_moves_its_comment_with_it() -> None:
    out = edit.move_overlay(COMMENTED, 1, -1)
    assert "  - ./overlays/tools.nix # second\n  - agenix.overlays.default  # first\n" in out
    assert edit.move_overlay(out, 0, 1) == COMMENTED
    assert edit.move_overlay(COMMENTED, 0, -1) == COMMENTED  # the first stays first


def test_overlays_in_flow_style_are_moved_too() -> None:
    text = 'release: "26.05"\noverlays: [a.b, ./c.nix]  # two\n'
    assert _data(edit.move_overlay(text, 0, 1)) == {
        "release": "26.05",
        "overlays": ["./c.nix", "a.b"],
    }


def test_an_input_or_overlay_named_twice_is_refused() -> None:
    with pytest.raises(edit.EditError, match="already an input named agenix"):
        edit.set_input(COMMENTED, "agenix", "github:x/y")
    with pytest.raises(edit.EditError, match="already an overlay"):
        edit.add_overlay(COMMENTED, "agenix.overlays.default")
    with pytest.raises(edit.EditError, match="no input named nope"):
        edit.remove_input(COMMENTED, "nope")


def test_change_lines_say_the_release_once() -> None:
    new = edit.set_release(COMMENTED, "26.11")
    assert change_lines(COMMENTED, new) == ["release 26.05 → 26.11"]
    assert subject(change_lines(COMMENTED, new)) == "lab: release 26.05 → 26.11"
    added = edit.set_input(COMMENTED, "disko", "github:nix-community/disko")
    assert subject(change_lines(COMMENTED, added)) == "lab: disko added"
    assert change_lines(None, COMMENTED)[0] == "lab.yaml created (release 26.05)"
    moved = edit.move_overlay(COMMENTED, 0, 1)
    assert change_lines(COMMENTED, moved) == ["overlays reordered"]
    gone = edit.remove_overlay(COMMENTED, 1)
    assert change_lines(COMMENTED, gone) == ["overlay ./overlays/tools.nix removed"]
    many = ["release 26.05 → 26.11", "sops-nix added", "overlay ./overlays/tools.nix removed"]
    assert subject(many) == "lab: release 26.05 → 26.11; sops-nix added and 1 more"
    assert change_lines(COMMENTED, COMMENTED.replace("# the end", "# fin")) == ["lab.yaml edited"]


# ---- saving and committing ---------------------------------------------------------------


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture
def flaked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tests/labs/flaked with its flake.nix built, committed in a git repository."""
    if shutil.which("git") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("git is not installed")
        pytest.skip("git is not installed")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name, value in (("NAME", "Ada Lovelace"), ("EMAIL", "ada@example.org")):
        monkeypatch.setenv(f"GIT_AUTHOR_{name}", value)
        monkeypatch.setenv(f"GIT_COMMITTER_{name}", value)
    root = copy_lab("flaked", tmp_path / "flaked")
    lab = Lab(root)
    lab.build(lab.load(), [])
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "--all")
    _git(root, "commit", "-q", "-m", "the flaked lab")
    return root


def _flake_of(root: Path) -> str:
    config, problems = labconfig.load(
        lambda rel: (root / rel).read_text() if (root / rel).is_file() else None
    )
    assert config is not None, problems
    return flake_text(config)


def test_saving_writes_lab_yaml_and_its_flake_then_commits_them(flaked: Path) -> None:
    (flaked / "notes.txt").write_text("a person's file\n")
    draft = Lab(flaked).open_lab_yaml()
    draft.set_input("sops-nix", "github:Mic92/sops-nix", follows=True)
    draft.remove_overlay(1)
    assert draft.dirty
    saved = draft.save()
    assert saved.written == ("lab.yaml", "flake.nix")
    assert saved.to_lock == ("sops-nix",)
    assert not draft.dirty
    text = (flaked / "lab.yaml").read_text()
    assert text.startswith("# A lab whose flake.nix homelab generates")  # its comment kept
    assert '  sops-nix: {url: "github:Mic92/sops-nix"}\n' in text
    assert "./overlays/tools.nix" not in text
    flake = (flaked / "flake.nix").read_text()
    assert flake == _flake_of(flaked) and "sops-nix" in flake
    pending = draft.pending()
    assert pending is not None
    assert pending.subject == "lab: sops-nix added; overlay ./overlays/tools.nix removed"
    done = draft.commit()
    assert done is not None and done.subject == pending.subject
    assert _git(flaked, "show", "--name-only", "--format=", "HEAD").split() == [
        "flake.nix",
        "lab.yaml",
    ]
    assert "notes.txt" in _git(flaked, "status", "--porcelain")  # not the lab's to commit
    assert draft.pending() is None


def test_a_new_release_is_committed_as_the_release(flaked: Path) -> None:
    draft = Lab(flaked).open_lab_yaml()
    draft.set_release("26.11")
    assert draft.save().to_lock == ("nixpkgs", "home-manager")
    assert "nixos-26.11" in (flaked / "flake.nix").read_text()
    done = draft.commit()
    assert done is not None and done.subject == "lab: release 26.05 → 26.11"


@pytest.mark.parametrize(
    ("name", "url", "said"),
    [
        ("agenix2", "github:has space", "lab.yaml:6:"),
        ("2fa", "github:a/b", "'2fa' cannot name an input"),
    ],
)
def test_a_bad_input_is_refused_with_its_place_and_nothing_is_written(
    flaked: Path, name: str, url: str, said: str
) -> None:
    draft = Lab(flaked).open_lab_yaml()
    draft.set_input(name, url, follows=True)
    assert any(said in str(p) for p in draft.summary().problems)
    before = tree_hash(flaked)
    with pytest.raises(InvalidInput) as refused:
        draft.save()
    assert any(said in str(p) for p in refused.value.problems), refused.value
    assert tree_hash(flaked) == before
    assert draft.dirty  # the person's change stays, to be fixed


def test_a_hand_edited_flake_nix_is_kept_and_lab_yaml_not_written(flaked: Path) -> None:
    flake = flaked / "flake.nix"
    flake.write_text(flake.read_text() + "# mine\n")
    draft = Lab(flaked).open_lab_yaml()
    draft.set_release("26.11")
    before = tree_hash(flaked)
    with pytest.raises(InvalidInput, match="edited by hand"):
        draft.save()
    assert tree_hash(flaked) == before


def test_lab_yaml_changed_on_disk_is_not_saved_over(flaked: Path) -> None:
    draft = Lab(flaked).open_lab_yaml()
    draft.set_release("26.11")
    (flaked / "lab.yaml").write_text((flaked / "lab.yaml").read_text() + "# theirs\n")
    with pytest.raises(InvalidInput, match="changed on disk"):
        draft.save()
    assert (flaked / "lab.yaml").read_text().endswith("# theirs\n")


def test_a_lab_without_lab_yaml_is_offered_one_only_without_a_kept_flake(tmp_path: Path) -> None:
    root = copy_lab("basic", tmp_path / "lab")
    (root / "flake.nix").write_text("{ outputs = _: { }; }\n")
    assert Lab(root).open_lab_yaml().release_offer() is None  # its flake.nix is a person's
    (root / "flake.nix").unlink()
    draft = Lab(root).open_lab_yaml()
    assert draft.release_offer() == labconfig.DEFAULT_RELEASE
    draft.create(labconfig.DEFAULT_RELEASE)
    assert draft.summary().present
    assert all(p.warning for p in draft.summary().problems)  # only: nothing pinned yet
    assert draft.save().written == ("lab.yaml", "flake.nix")
    assert (root / "flake.nix").read_text() == _flake_of(root)


def test_a_lab_with_the_skeletons_flake_is_offered_lab_yaml_which_replaces_it(
    tmp_path: Path,
) -> None:
    """A lab made before lab.yaml has the skeleton's flake.nix: homelab's, not a person's."""
    root = copy_lab("basic", tmp_path / "lab")
    skeleton = REPO / "homelab" / "skeleton" / "flake.nix"
    shutil.copy(skeleton, root / "flake.nix")
    draft = Lab(root).open_lab_yaml()
    assert draft.release_offer() == labconfig.DEFAULT_RELEASE
    draft.create(labconfig.DEFAULT_RELEASE)
    assert draft.save().written == ("lab.yaml", "flake.nix")
    assert (root / "flake.nix").read_text() == _flake_of(root)
    (root / "lab.yaml").unlink()
    (root / "flake.nix").write_text(skeleton.read_text() + "# mine\n")  # now a person's
    assert Lab(root).open_lab_yaml().release_offer() is None
