"""A host added to a wired lab changes the other hosts' modules in the same build, and the
commit says how in the lab's words: the proxy serves its name, the monitoring host scrapes
it (not "generated files rebuilt")."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.compiled import copy_lab
from tests.conftest import RunCli
from tests.history.tools import git, identify

PROXIED = Path(__file__).resolve().parents[1] / "labs" / "proxied"

BOX = """\
host: {name: box, stateVersion: "26.05"}
hardware: {fileSystems: {/: {device: /dev/vda1}}}
networking: {interfaces: {eth0: {addresses: [192.168.1.50/24]}}}
services:
  uptime-kuma: {web: {name: status}}
"""


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout


def test_a_fourth_host_rewires_the_others_and_the_commit_says_so(
    tmp_path: Path, run_cli: RunCli
) -> None:
    root = copy_lab(PROXIED, tmp_path / "lab")
    if not (root / ".git").exists():
        git(root, "init", "-q", "-b", "main")
    identify(root)
    with (root / "lab.yaml").open("a", encoding="utf-8") as f:
        f.write("wiring:\n  monitoring: {host: nas}\n")
    nas = root / "hosts/nas/profile.yaml"
    nas.write_text(
        nas.read_text(encoding="utf-8").replace("services:\n", "services:\n  prometheus: {}\n")
    )
    code, _, err = run_cli("--lab", str(root), "build", "--commit")
    assert code == 0, err
    (root / "hosts/box").mkdir()
    (root / "hosts/box/profile.yaml").write_text(BOX, encoding="utf-8")
    code, out, err = run_cli("--lab", str(root), "build", "--commit")
    assert code == 0, err
    for written in ("hosts/gateway/web.nix", "hosts/nas/wiring.nix", "hosts/box/wiring.nix"):
        assert f"wrote {written}" in out.splitlines()
    body = _git(root, "log", "-1", "--format=%B")
    assert "gateway:\n- wiring: proxy serves + status.home.example.org" in body
    assert "nas:\n- wiring: monitoring scrapes + box" in body
    assert "generated files rebuilt" not in body
    scrape = (root / "hosts/nas/wiring.nix").read_text(encoding="utf-8")
    assert '"192.168.1.50:9100"' in scrape
