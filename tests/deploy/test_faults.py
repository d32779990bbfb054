"""Every fault of one apply at once: each failing host stays on its old generation with a
clear line in the summary, and every other host is deployed all the same."""

from __future__ import annotations

import re
from pathlib import Path

from homelab.history.records import deploy_log, deployed
from tests.conftest import RunCli
from tests.deploy.labs import make_lab, set_markers
from tests.sshd.rig import Rig, keygen

BIG = "# " + "x" * 120 + "\n"


def summary_line(out: str, host: str) -> str:
    found = re.search(rf"^{re.escape(host)}\s+(ok|FAILED)\s+\S+\s+(.*)$", out, re.M)
    assert found, f"no summary line for {host} in:\n{out}"
    return found.group(1) + " " + found.group(2)


def test_every_fault_fails_only_its_own_host(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    names = [
        "good1", "good2", "refused", "wrongkey", "unknownkey", "changedkey", "buildfail",
        "activatefail", "hang", "sudo", "cutupload", "cutactivate", "unhealthy",
    ]  # fmt: skip
    machines = {n: rig.add(n, known=n != "unknownkey", systemd=n != "good2") for n in names}
    extra = {
        "sudo": "  sudo: true\n",
        "unhealthy": "  checks:\n    units: [rig-web.service]\n",
    }
    lab = make_lab(tmp_path / "lab", list(machines.values()), extra=extra)
    for name, markers in {
        "buildfail": "fail-build",
        "activatefail": "fail-activation",
        "hang": "hang",
        "cutactivate": "cut-connection",
    }.items():
        set_markers(lab, name, markers)
    # a big file, so that the cut falls in the middle of the upload
    hardware = lab / "hosts" / "cutupload" / "hardware-configuration.nix"
    hardware.write_text(BIG * 800 + hardware.read_text())
    machines["refused"].stop()
    other = keygen(tmp_path / "other_key", "someone-else")
    machines["wrongkey"].authorized = other
    machines["wrongkey"].write_config()
    machines["changedkey"].new_host_key()
    machines["sudo"].fault("sudo-password", "hunter2")
    machines["cutupload"].fault("cut-upload-after", "40000")
    machines["unhealthy"].fault("failed-units", "rig-web.service")

    code, out, err = run_cli(
        "--lab", str(lab), "apply", "--yes", "--timeout", "4", "--check-timeout", "1",
        "--rollback-on-failure", "--reconnect", "20",
    )  # fmt: skip

    assert code == 1, out + err
    expected = {
        "good1": r"^ok generation 1 -> generation 2",
        "good2": r"^ok generation 1 -> generation 2",
        "cutactivate": r"^ok generation 1 -> generation 2 .*reconnected after the connection drop",
        "refused": r"^FAILED connection refused$",
        "wrongkey": r"^FAILED login refused for root \(wrong key\?\)",
        "unknownkey": r"^FAILED unknown host key SHA256:\S+ \(check it, then --accept-new\)",
        "changedkey": r"^FAILED HOST KEY CHANGED \(SHA256:\S+\): refused",
        "buildfail": r"^FAILED build failed \(exit 1\): error: builder .* still on generation 1",
        "activatefail": r"^FAILED activation failed \(exit 4\); switched back to generation 1",
        "hang": r"^FAILED timed out after 4 s; the rebuild was stopped; still on generation 1",
        "sudo": r"^FAILED sudo needs a password: run again with --ask-sudo-password; not touched",
        "cutupload": r"^FAILED connection lost during upload; nothing installed$",
        "unhealthy": r"^FAILED health check failed: unit rig-web.service: failed; "
        r"switched back to generation 1",
    }
    for name, pattern in expected.items():
        line = summary_line(out, name)
        assert re.search(pattern, line), f"{name}: {line!r} does not match {pattern!r}"

    for name, machine in machines.items():
        if name in ("good1", "good2", "cutactivate"):
            assert machine.generation() == 2, name
            assert machine.current() == machine.system_of(2), name
            text = machine.running_config(f"hosts/{name}/configuration.nix")
            assert f"hosts/{name}/profile.yaml" in text
        else:
            assert machine.generation() == 1, name
            assert machine.current() == machine.system_of(1), name
        assert machine.staging_leftovers() == [], name

    # the reasons are said in full below the table
    assert "refused our keys" in out
    assert "HOST KEY CHANGED for changedkey" in out
    # the fingerprint shown is the machine's own
    from homelab.deploy.ssh import fingerprint

    assert fingerprint(machines["unknownkey"].host_key) in summary_line(out, "unknownkey")
    # the half-switched machine was put back by activating its old system
    back = machines["activatefail"].lines("activations.log")
    assert back[-1] == f"switch {machines['activatefail'].system_of(1)}"
    # nothing of the cut upload went into place, and nothing was built
    assert not (machines["cutupload"].state() / "config").exists()
    assert machines["cutupload"].lines("commands.log") == []
    # ...and the staging folder was removed as soon as homelab got back in
    assert re.search(r"staging folder /var/lib/homelab/uploads/\S+\.partial removed", out)
    # the hung build was stopped, not left running
    assert machines["hang"].processes() == []
    # the health check that failed is named
    assert "check unit rig-web.service: FAILED (failed)" in out

    # every host has a deploy record with its result
    records = deployed(lab)
    assert sorted(records) == ["cutactivate", "good1", "good2"]
    results = {r.host: r.result for r in deploy_log(lab)}
    assert results["buildfail"] == "failed"
    assert results["activatefail"] == "rolled-back"
    assert results["unhealthy"] == "rolled-back"
