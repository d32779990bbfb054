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


def test_a_new_host_names_the_dns_server_an_apply_of_the_new_host_leaves_out(
    tmp_path: Path,
) -> None:
    lab = lab_copy(tmp_path / "lab")
    with (lab.root / "lab.yaml").open("a", encoding="utf-8") as f:
        f.write("wiring:\n  dns: {host: gateway}\n")
    gateway = lab.root / "hosts/gateway/profile.yaml"
    text = gateway.read_text(encoding="utf-8")
    gateway.write_text(text.replace("services:\n", "services:\n  blocky: {}\n", 1))
    state = lab.load()
    assert state.all_problems() == [], state.all_problems()
    lab.build(state, sorted(state.hosts))
    (lab.root / "hosts/box").mkdir()
    (lab.root / "hosts/box/profile.yaml").write_text(
        'host: {name: box, stateVersion: "26.05"}\n'
        "hardware: {fileSystems: {/: {device: /dev/vda1}}}\n"
        "networking: {interfaces: {eth0: {addresses: [192.168.1.50/24]}}}\n",
        encoding="utf-8",
    )
    state = lab.load()
    # the server answers box's name once it is applied; nas and ha ask it as before
    assert _also(lab, state, ["box"]) == ("gateway",)
