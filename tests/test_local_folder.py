"""The lab's local `.homelab/` folder, made by whichever command needs it first."""

from __future__ import annotations

from pathlib import Path

import pytest

from homelab.localstate import local_folder


def test_a_second_command_making_the_folder_at_the_same_moment_is_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_mkdir = Path.mkdir

    def another_command_got_there_first(self: Path, *args: object, **kwargs: object) -> None:
        if self.name == ".homelab" and not self.exists():
            real_mkdir(self, mode=0o700)  # the other `homelab apply`, a moment earlier
        real_mkdir(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "mkdir", another_command_got_there_first)
    folder = local_folder(tmp_path, "drafts")
    assert folder.is_dir()
    assert (tmp_path / ".homelab" / ".gitignore").read_text() == "*\n"


def test_the_folder_is_its_owners_alone_and_ignores_itself_in_git(tmp_path: Path) -> None:
    local = local_folder(tmp_path)
    assert local.stat().st_mode & 0o777 == 0o700
    assert (local / ".gitignore").read_text() == "*\n"
