"""Generated files on disk: which files are ours, and writing one whole."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from homelab.compile import with_header
from homelab.nix.expr import Module
from homelab.source import DiskSource
from homelab.write import atomic_write, generated_files, plan


def generated(title: str) -> str:
    return with_header("hosts/box/profile.yaml", title, Module(("lib",), {"a": {"b": True}}))


def test_ours_are_the_files_with_the_header_edited_or_not(tmp_path: Path) -> None:
    folder = tmp_path / "hosts/box"
    folder.mkdir(parents=True)
    (folder / "users.nix").write_text(generated("Users"))
    edited = generated("Services").replace("a.b = true;", "a.b = false;")
    (folder / "services.nix").write_text(edited)
    (folder / "mine.nix").write_text("{ ... }: { }\n")  # a person's module
    (folder / "notes.txt").write_text(generated("Users"))

    ours = generated_files(DiskSource(tmp_path), "box")

    assert sorted(ours) == ["hosts/box/services.nix", "hosts/box/users.nix"]
    # the edited one is ours still: a build refuses to replace it and says why
    the_plan = plan(tmp_path, {"hosts/box/services.nix": generated("Services")}, ["box"])
    assert the_plan.edited == ("hosts/box/services.nix",)
    assert the_plan.delete == ("hosts/box/users.nix",)  # unchanged since built: no refusal
    assert "hosts/box/mine.nix" not in the_plan.delete


def test_a_rebuild_plans_only_what_differs(tmp_path: Path) -> None:
    folder = tmp_path / "hosts/box"
    folder.mkdir(parents=True)
    (folder / "users.nix").write_text(generated("Users"))
    wanted = {"hosts/box/users.nix": generated("Users"), "hosts/box/boot.nix": generated("Boot")}

    the_plan = plan(tmp_path, wanted, ["box"])

    assert list(the_plan.write) == ["hosts/box/boot.nix"]
    assert the_plan.delete == () and the_plan.edited == ()


def test_a_file_named_without_a_folder_is_written_in_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    atomic_write(Path("flake.nix"), "{ }\n")
    atomic_write(Path("flake.nix"), "{ outputs = _: { }; }\n")
    assert (tmp_path / "flake.nix").read_text() == "{ outputs = _: { }; }\n"
    assert os.listdir(tmp_path) == ["flake.nix"]  # no temporary file left beside it
    assert (tmp_path / "flake.nix").stat().st_mode & 0o777 == 0o644


def test_a_file_in_a_missing_folder_is_written_with_its_folder(tmp_path: Path) -> None:
    target = tmp_path / "hosts/new/configuration.nix"
    atomic_write(target, "é\n")
    assert target.read_bytes() == "é\n".encode()
    assert os.listdir(target.parent) == ["configuration.nix"]
