"""The pure pieces of apply: what to upload, which checks a host gets, the job script, the
terminal view. No machine needed."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

from homelab.deploy.apply import Event, Generation, HostResult
from homelab.deploy.checks import Check, checks_for
from homelab.deploy.progress import Progress, summary
from homelab.deploy.scripts import MANIFEST, job_script, q
from homelab.deploy.target import changed_files, manifest_text, sha256
from homelab.lab import Lab
from tests.deploy.labs import make_lab


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


def test_checks_come_from_the_catalogue_and_the_profile(tmp_path: Path) -> None:
    lab_root = make_lab(tmp_path / "lab", [], commit=False)
    folder = lab_root / "hosts" / "box"
    folder.mkdir()
    (folder / "profile.yaml").write_text(
        'host: {stateVersion: "24.05"}\n'
        "services:\n  uptime-kuma: {}\n  prometheus-node-exporter: {port: 9101}\n"
        "deploy:\n  checks:\n    units: [extra.service, uptime-kuma.service]\n    tcp: [8443]\n"
    )
    state = Lab(lab_root).load()
    profile = state.hosts["box"].profile
    assert profile is not None, state.hosts["box"].problems
    checks = checks_for(profile, state.catalog)
    assert Check("unit", "uptime-kuma.service") in checks
    assert Check("unit", "prometheus-node-exporter.service") in checks
    assert Check("tcp", "9101") in checks  # the catalogue's template, with the host's setting
    assert Check("http", "http://127.0.0.1:9101/metrics") in checks
    assert Check("unit", "extra.service") in checks and Check("tcp", "8443") in checks
    assert len(checks) == len(set(checks))  # uptime-kuma.service only once


def test_the_job_script_is_valid_shell_and_quotes_every_value(tmp_path: Path) -> None:
    nasty = '/tmp/it\'s a "folder" $(rm -rf x) `y`'
    script = job_script(run=nasty, root=nasty, steps=[f"echo {q(nasty)}"])
    checked = subprocess.run(["sh", "-n"], input=script, text=True, capture_output=True)
    assert checked.returncode == 0, checked.stderr
    run = tmp_path / "run"
    run.mkdir()
    script = job_script(run=str(run), root="", steps=[f"echo {q(nasty)}", "finish 3"])
    done = subprocess.run(["sh", "-c", script], capture_output=True, text=True)
    assert done.returncode == 3
    assert (run / "status").read_text() == "3\n"
    log = (run / "log").read_text().splitlines()
    assert log == [nasty, "@homelab exit 3"]


def _result(host: str, state: str, text: str, **extra: object) -> HostResult:
    return HostResult(host=host, folder=host, state=state, summary=text, **extra)  # type: ignore[arg-type]


def test_plain_progress_prefixes_each_line_with_its_host() -> None:
    out = io.StringIO()
    view = Progress(["web", "database"], out, live=False)
    view.event(Event("web", "connecting", None, 0.0))
    view.event(Event("database", "building", "building the system configuration...", 1.5))
    view.event(Event("web", "done", None, 2.25))
    view.close()
    assert out.getvalue().splitlines() == [
        "web      : connecting (0.0s)",
        "database | building the system configuration...",
        "web      : done (2.2s)",
    ]


def test_live_progress_redraws_one_line_per_host_below_the_output() -> None:
    out = io.StringIO()
    view = Progress(["web", "db"], out, live=True)
    assert view.live
    view.event(Event("web", "building", "building the system configuration...", 1.0))
    view.event(Event("db", "failed", None, 2.0))
    view.close()
    text = out.getvalue()
    assert "web | building the system configuration...\n" in text
    final = text.rsplit("\x1b[J", 1)[-1].splitlines()  # the last drawing of the block
    assert final[0].startswith("web  building")
    assert "building the system configuration..." in final[0]
    assert final[1].startswith("db   FAILED")
    assert "\x1b[2F" in text  # the block of two lines was redrawn in place


def test_summary_says_each_host_and_then_the_reasons() -> None:
    results = [
        _result("web", "done", "generation 1 -> generation 2", after=Generation(2, "/nix/store/x")),
        _result("db", "failed", "connection refused", details=("127.0.0.1:22 refused",)),
        _result("pi", "done", "built", closure_diff=("[A.]  vim  9.1",)),
    ]
    lines = summary(results)
    assert lines[0].split() == ["HOST", "RESULT", "TIME", "WHAT", "HAPPENED"]
    assert lines[1].split()[:2] == ["web", "ok"]
    assert lines[2].split()[:2] == ["db", "FAILED"]
    assert lines[2].endswith("connection refused")
    assert "db:" in lines and "  127.0.0.1:22 refused" in lines
    assert "  [A.]  vim  9.1" in lines
