"""`homelab status --live` says, beside what each machine runs, how the lab's backup job
last ran there (lab.yaml wiring: backups): read over the SSH connection status already
opens, from systemd's own record of the unit. Hosts the lab does not back up say nothing
of backups."""

from __future__ import annotations

import re
from pathlib import Path

import git
import pytest

from homelab.deploy.lastbackup import last_backup
from tests.conftest import RunCli
from tests.deploy.labs import make_lab
from tests.sshd.rig import Machine, Rig

UNIT = "restic-backups-lab.service"
LAB_YAML = """\
release: "26.05"
wiring:
  backups: {host: nas, password: {secret: restic}}
"""
STATEFUL = "services:\n  uptime-kuma: {}\n"  # its folder is state: the lab backs it up


def ran(machine: Machine, **properties: str) -> None:
    """What systemd keeps of the backup unit on the machine (the stand-in's systemctl)."""
    units = machine.root / ".rig" / "units"
    units.mkdir(parents=True, exist_ok=True)
    lines = [f"{k}={v}" for k, v in {"LoadState": "loaded", **properties}.items()]
    (units / f"{UNIT}.show").write_text("\n".join(lines) + "\n")


def test_status_live_shows_each_backed_up_hosts_last_backup(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    nas, app, new, pi = rig.add("nas"), rig.add("app"), rig.add("new"), rig.add("pi")
    stateful = {"nas": STATEFUL, "app": STATEFUL, "new": STATEFUL}
    lab = make_lab(tmp_path / "lab", [nas, app, new, pi], extra=stateful)
    (lab / "lab.yaml").write_text(LAB_YAML)
    repo = git.Repo(lab)
    repo.git.add("lab.yaml")
    repo.index.commit("backups to nas")
    ok = "Mon 2026-11-30 03:00:12 UTC"
    ran(nas, ActiveState="inactive", Result="success", ExecMainExitTimestamp=ok)
    ran(app, ActiveState="failed", Result="exit-code", ExecMainExitTimestamp=ok)
    ran(new, ActiveState="inactive", Result="success", ExecMainExitTimestamp="")

    code, out, err = run_cli("--lab", str(lab), "status", "--live")

    assert code == 0, out + err
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert rows["nas"].endswith("; last backup: 2026-11-30 03:00 ok"), out
    assert rows["app"].endswith("; last backup: 2026-11-30 03:00 failed (exit-code)"), out
    assert rows["new"].endswith("; last backup: never"), out
    assert "backup" not in rows["pi"], out  # no state: the lab does not back it up
    for machine in (nas, app, new):
        assert f"systemctl show {UNIT} -p" in "\n".join(machine.lines("commands.log"))
    assert not any(c.startswith("systemctl show") for c in pi.lines("commands.log"))
    assert not re.search(r"unreachable", out)


@pytest.mark.parametrize(
    ("said", "words"),
    [
        ({}, ""),  # no systemctl on the machine
        (
            {"LoadState": "not-found"},
            "last backup: no backup job on the machine (not applied yet?)",
        ),
        ({"LoadState": "loaded", "ExecMainExitTimestamp": ""}, "last backup: never"),
        ({"LoadState": "loaded", "ExecMainExitTimestamp": "n/a"}, "last backup: never"),
        (
            {"LoadState": "loaded", "ActiveState": "activating", "ExecMainExitTimestamp": ""},
            "last backup: never (one running now)",
        ),
        (
            {
                "LoadState": "loaded",
                "Result": "success",
                "ExecMainExitTimestamp": "Sun 2026-11-29 03:00:41 CET",
            },
            "last backup: 2026-11-29 03:00 CET ok",
        ),
        (
            {
                "LoadState": "loaded",
                "Result": "timeout",
                "ExecMainExitTimestamp": "Mon 2026-11-30 03:00:12 UTC",
            },
            "last backup: 2026-11-30 03:00 failed (timeout)",
        ),
    ],
)
def test_the_last_backup_in_words(said: dict[str, str], words: str) -> None:
    assert last_backup(said) == words
