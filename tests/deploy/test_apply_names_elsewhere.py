"""An apply that leaves out a host whose modules the lab's names change says so: a name
added on a backend is served once the proxy host is applied too."""

from __future__ import annotations

from pathlib import Path

from homelab.deploy.workflow import _also
from tests.compile.test_lab_proxy import lab_copy, rename_vault


def test_a_renamed_service_names_the_proxy_host_an_apply_of_its_backend_leaves_out(
    tmp_path: Path,
) -> None:
    lab = lab_copy(tmp_path / "lab")
    state = lab.load()
    lab.build(state, sorted(state.hosts))
    assert _also(lab, lab.load(), ["nas"]) == ()  # built and unchanged: nothing to say
    rename_vault(lab)
    state = lab.load()
    assert _also(lab, state, ["nas"]) == ("gateway",)
    assert _also(lab, state, ["nas", "gateway"]) == ()
    assert _also(lab, state, ["ha"]) == ("gateway", "nas")  # nas's own web.nix is stale too
