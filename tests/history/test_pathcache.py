"""`homelab history HOST` remembers which paths the host is made from, and uses them again
only while the files they came from read the same: a change to what the host includes, or
to a fragment it includes, still shows in its history."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from homelab.history import pathcache
from homelab.history.sketch import host_pathspec, sketch_hosts
from homelab.source import DiskSource
from tests.history.tools import edit, git, head, write

RunCli = Callable[..., tuple[int, str, str]]


def commit(root: Path, what: str) -> str:
    git(root, "add", "--all")
    git(root, "commit", "-q", "-m", what)
    return head(root)[:7]


def shown(run_cli: RunCli, lab: Path, host: str) -> list[str]:
    code, out, err = run_cli("--lab", str(lab), "history", host)
    assert code == 0, err
    return [line.split()[0] for line in out.splitlines()]


def entry(lab: Path, host: str) -> Path:
    return lab / ".homelab" / "history" / host


def sketched(lab: Path, host: str) -> list[str]:
    return host_pathspec(sketch_hosts(DiskSource(lab), only=host), host)


def test_the_paths_are_remembered_and_are_the_sketchs_own(lab: Path, run_cli: RunCli) -> None:
    for host in ("pi", "nixos-demo", "lone"):
        assert pathcache.recall(lab, host) is None
        first = shown(run_cli, lab, host)
        assert entry(lab, host).is_file()
        assert pathcache.recall(lab, host) == sketched(lab, host)
        assert shown(run_cli, lab, host) == first  # the second run, from the note
    assert pathcache.recall(lab, "pi") == [
        "hosts/common/base.yaml",
        "hosts/pi/",
        "services/openssh.yaml",
    ]


def test_a_fragment_newly_included_shows_in_the_history(lab: Path, run_cli: RunCli) -> None:
    write(lab, "hosts/common/media.yaml", "host:\n  timezone: Europe/Paris\n")
    before = commit(lab, "a media fragment")
    shown(run_cli, lab, "lone")  # remembered without it
    edit(lab, "hosts/lone/profile.yaml", "host:\n", "include: [../common/media.yaml]\nhost:\n")
    included = commit(lab, "lone includes media")
    edit(lab, "hosts/common/media.yaml", "Paris", "Rome")
    rome = commit(lab, "media: Rome")
    assert shown(run_cli, lab, "lone")[:3] == [rome, included, before]


def test_a_change_inside_an_included_fragment_is_followed(lab: Path, run_cli: RunCli) -> None:
    shown(run_cli, lab, "pi")
    # the shared fragment now brings a service and includes another fragment
    write(lab, "hosts/common/more.yaml", "services:\n  docker: {}\n")
    edit(lab, "hosts/common/base.yaml", "host:\n", "include: [more.yaml]\nhost:\n")
    both = commit(lab, "base includes more")
    edit(lab, "services/docker.yaml", "Docker (test entry)", "Docker")
    docker = commit(lab, "docker: its words")
    assert pathcache.recall(lab, "pi") is None  # base.yaml reads otherwise
    assert shown(run_cli, lab, "pi")[:2] == [docker, both]
    assert pathcache.recall(lab, "pi") == [
        "hosts/common/base.yaml",
        "hosts/common/more.yaml",
        "hosts/pi/",
        "services/docker.yaml",
        "services/openssh.yaml",
    ]


def test_a_missing_fragment_that_appears_is_followed(lab: Path, run_cli: RunCli) -> None:
    edit(lab, "hosts/lone/profile.yaml", "host:\n", "include: [../common/later.yaml]\nhost:\n")
    commit(lab, "lone includes a fragment not written yet")
    shown(run_cli, lab, "lone")
    assert "hosts/common/later.yaml" in (pathcache.recall(lab, "lone") or [])
    write(lab, "hosts/common/later.yaml", "services:\n  openssh: {}\n")
    later = commit(lab, "the fragment, with openssh")
    assert pathcache.recall(lab, "lone") is None  # it was missing when remembered
    edit(lab, "services/openssh.yaml", "OpenSSH (test entry)", "OpenSSH")
    ssh = commit(lab, "openssh: its words")
    assert shown(run_cli, lab, "lone")[:2] == [ssh, later]


@pytest.mark.parametrize(
    "note",
    [
        b"",
        b"not a note at all",
        b"homelab history paths 1\0other code\x002\0hosts/pi/\0services/jellyfin.yaml"
        b"\0hosts/pi/profile.yaml\0-",
        b"homelab history paths 1\0KEY\x009\0hosts/pi/",  # cut short
        b"homelab history paths 1\0KEY\0x\0hosts/pi/",
    ],
)
def test_a_note_of_other_code_or_unreadable_is_not_used(
    lab: Path, run_cli: RunCli, note: bytes
) -> None:
    right = shown(run_cli, lab, "pi")
    entry(lab, "pi").write_bytes(note.replace(b"KEY", pathcache._code_key()))
    assert pathcache.recall(lab, "pi") is None
    assert shown(run_cli, lab, "pi") == right
    assert pathcache.recall(lab, "pi") == sketched(lab, "pi")  # written anew


def test_a_lab_where_no_note_can_be_written_still_has_its_history(
    lab: Path, run_cli: RunCli
) -> None:
    right = shown(run_cli, lab, "pi")
    import shutil

    shutil.rmtree(lab / ".homelab")
    (lab / ".homelab").write_text("a file where the folder would be\n")
    assert shown(run_cli, lab, "pi") == right
    assert pathcache.recall(lab, "pi") is None


def test_a_file_holding_nul_is_never_remembered(lab: Path, run_cli: RunCli) -> None:
    (lab / "hosts/lone/profile.yaml").write_bytes(b"host:\n  stateVersion: '24.05'\n# \0\n")
    shown(run_cli, lab, "lone")
    assert not entry(lab, "lone").exists()
