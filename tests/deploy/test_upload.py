"""What goes to a machine, decided against its manifest. No machine needed."""

from __future__ import annotations

import json
from typing import Any

from homelab.deploy.scripts import MANIFEST
from homelab.deploy.target import Target, sha256
from homelab.deploy.upload import changed_files, manifest_text


def test_only_changed_files_are_sent_and_gone_ones_removed() -> None:
    files = {"flake.nix": b"a", "hosts/x/configuration.nix": b"b", "hosts/x/new.nix": b"c"}
    remote = json.loads(manifest_text({"flake.nix": b"a", "hosts/x/configuration.nix": b"old",
                                        "hosts/x/gone.nix": b"d"}, {}))  # fmt: skip
    send, remove = changed_files(files, remote)
    assert send == ["hosts/x/configuration.nix", "hosts/x/new.nix"]
    assert remove == ["hosts/x/gone.nix"]
    assert changed_files(files, {}) == (sorted(files), [])
    assert changed_files(files, {"files": "not a map"}) == (sorted(files), [])
    manifest = json.loads(manifest_text(files, {"host": "x"}))
    assert manifest["files"]["flake.nix"] == sha256(b"a")
    assert manifest["host"] == "x"
    assert MANIFEST.startswith(".")


class _FakeSftp:
    """What make_dirs asks of the SFTP server, each ask a round trip on a real one."""

    def __init__(self, existing: set[str]) -> None:
        self.existing = existing
        self.asked: list[str] = []

    def stat(self, path: str) -> None:
        self.asked.append(path)
        if path not in self.existing:
            raise FileNotFoundError(path)

    def mkdir(self, path: str, mode: int) -> None:
        self.asked.append(f"mkdir {path}")
        self.existing.add(path)


class _FakeTarget(Target):
    def __init__(self, sftp: _FakeSftp) -> None:
        super().__init__("fake", opener=lambda: None)  # type: ignore[arg-type,return-value]
        self.fake = sftp

    def sftp(self) -> Any:
        return self.fake

    def connection_alive(self) -> bool:
        return True


def test_folders_are_made_below_the_deepest_known_one_without_asking_about_its_parents() -> None:
    sftp = _FakeSftp({"/", "/srv", "/srv/state", "/srv/state/staging", "/srv/state/staging/a"})
    known = {"/srv/state/staging"}
    _FakeTarget(sftp).make_dirs("/srv/state/staging/a/b/c", known)
    assert sftp.asked == [
        "/srv/state/staging/a",
        "/srv/state/staging/a/b",
        "mkdir /srv/state/staging/a/b",
        "/srv/state/staging/a/b/c",
        "mkdir /srv/state/staging/a/b/c",
    ]
    assert {"/srv/state/staging/a/b", "/srv/state/staging/a/b/c"} <= known
    sftp.asked.clear()  # a sibling asks only for what is not known yet
    _FakeTarget(sftp).make_dirs("/srv/state/staging/a/b/d", known)
    assert sftp.asked == ["/srv/state/staging/a/b/d", "mkdir /srv/state/staging/a/b/d"]


def test_with_nothing_known_every_folder_from_the_top_is_looked_at() -> None:
    sftp = _FakeSftp({"/srv"})
    _FakeTarget(sftp).make_dirs("/srv/new", set())
    assert sftp.asked == ["/srv", "/srv/new", "mkdir /srv/new"]
