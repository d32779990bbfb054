"""What goes to a machine, decided against its manifest. No machine needed."""

from __future__ import annotations

import json

from homelab.deploy.scripts import MANIFEST
from homelab.deploy.target import sha256
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
