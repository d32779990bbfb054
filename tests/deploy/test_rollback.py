"""`rollback` goes through the apply workflow: nothing built or committed for it, but the
connection, the pinning of an accepted host key and the deploy records are an apply's."""

from __future__ import annotations

from pathlib import Path

import git
import pytest

from homelab.deploy.models import ApplyOptions
from homelab.errors import InvalidInput
from homelab.history.records import deploy_log
from homelab.lab import Lab
from tests.deploy.labs import make_lab
from tests.deploy.test_apply import run_api
from tests.deploy.tidy import assert_tidy
from tests.sshd.rig import Rig


def test_a_rollback_pins_an_accepted_key_and_records_on_head_as_an_apply_does(
    rig: Rig, tmp_path: Path
) -> None:
    machine = rig.add("web", known=False)
    lab = make_lab(tmp_path / "lab", [machine])
    accepting = rig.settings(accept_new=True)
    [applied] = run_api(lab, rig, ssh=accepting)
    assert applied.ok, applied
    assert machine.generation() == 2
    # the pin taken out again (a profile rewritten by hand): the key is unknown once more
    profile = lab / "hosts" / "web" / "profile.yaml"
    pin = f"  hostKey: {machine.host_key}\n"
    profile.write_text(profile.read_text().replace(pin, ""))
    repo = git.Repo(lab)
    repo.index.add(["hosts/web/profile.yaml"])
    before = repo.index.commit("web: no pin").hexsha
    notes: list[str] = []

    outcome = Lab(lab).rollback("web", ApplyOptions(ssh=accepting), on_note=notes.append)  # type: ignore[arg-type]

    [result] = outcome.results
    assert result.ok, result
    assert machine.current() == machine.system_of(1)
    assert result.summary == "generation 2 -> generation 1 (rolled back)"
    assert pin in profile.read_text()
    head = repo.head.commit
    assert "host key pinned" in head.message and head.parents[0].hexsha == before
    assert any(n.startswith("pinned the host key of web") for n in notes), notes
    records = {(r.mode, r.result, r.commit) for r in deploy_log(lab, "web")}
    assert ("rollback", "rolled-back", before) in records
    assert outcome.commit == before
    assert_tidy(lab)


def test_a_rollback_of_a_host_that_is_not_there_is_refused_before_any_connection(
    rig: Rig, tmp_path: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    options = ApplyOptions(ssh=rig.settings())  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="nope"):
        Lab(lab).rollback("nope", options)
    assert machine.lines("commands.log") == []
