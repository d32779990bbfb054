"""What a failed apply leaves for `homelab status`: the last attempt that did not succeed,
with when, how and why, until a later apply to that host succeeds."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import RunCli
from tests.deploy.labs import make_lab, set_markers
from tests.sshd.rig import Rig


def status(run_cli: RunCli, lab: Path) -> str:
    code, out, err = run_cli("--lab", str(lab), "status")
    assert code == 0, err
    return out


def test_status_shows_the_last_failed_attempt_and_why(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machines = {n: rig.add(n) for n in ("web", "broken", "down")}
    lab = make_lab(tmp_path / "lab", list(machines.values()))
    set_markers(lab, "broken", "fail-build")
    machines["down"].stop()

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")
    assert code == 1, out + err
    assert "web: never deployed: everything is new" in out  # not "nothing changed since HEAD"
    assert "nothing changed since" not in out

    out = status(run_cli, lab)
    when = r"\d{4}-\d\d-\d\d \d\d:\d\d"
    assert re.search(
        rf"^broken: last attempt failed {when} \(switch\): build failed \(exit \d+\)", out, re.M
    ), out
    assert re.search(
        rf"^down: last attempt failed {when} \(switch\): connection refused$", out, re.M
    ), out
    assert "web: last attempt" not in out
    assert re.search(r"^broken\s+never\s+not deployed", out, re.M), out

    # once the host is fixed and applied, its failure is history
    set_markers(lab, "broken", "")
    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", "broken")
    assert code == 0, out + err
    out = status(run_cli, lab)
    assert "broken: last attempt" not in out
    assert "down: last attempt failed" in out
