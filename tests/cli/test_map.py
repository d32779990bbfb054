"""`homelab map`: the lab drawn as SVG (map.svg, a file given, or standard output) and as
Mermaid text, every host and link on it; a folder it cannot write to is said, not a crash."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import RunCli
from tests.test_labmap import PROXIED_NAMES, SERVICES, SVG, WIRED, wired_lab


def links_in(svg_text: str) -> set[tuple[str | None, ...]]:
    root = ET.fromstring(svg_text.encode("utf-8"))
    return {
        (g.get("data-from"), g.get("data-to"), g.get("data-kind"))
        for g in root.iter(f"{SVG}g")
        if g.get("data-kind")
    }


EXPECTED = {(a, b, "proxy") for a, b, _ in PROXIED_NAMES} | WIRED


def test_map_writes_map_svg_here_with_every_host_and_link(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab = wired_lab(tmp_path / "lab")
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("--lab", str(lab.root), "map")
    assert code == 0, err
    assert out == "wrote map.svg: 3 hosts, 12 links\n"
    text = (tmp_path / "map.svg").read_text(encoding="utf-8")
    root = ET.fromstring(text.encode("utf-8"))
    assert {g.get("data-host") for g in root.iter(f"{SVG}g") if g.get("data-host")} == set(SERVICES)
    assert links_in(text) == EXPECTED


def test_map_to_a_file_or_to_standard_output(tmp_path: Path, run_cli: RunCli) -> None:
    lab = wired_lab(tmp_path / "lab")
    target = tmp_path / "drawn" / "lab.svg"
    target.parent.mkdir()
    code, out, err = run_cli("--lab", str(lab.root), "map", "-o", str(target))
    assert code == 0, err
    assert out == f"wrote {target}: 3 hosts, 12 links\n"
    code, out, err = run_cli("--lab", str(lab.root), "map", "-o", "-")
    assert code == 0, err
    assert out == target.read_text(encoding="utf-8")


def test_map_mermaid_prints_a_flowchart(tmp_path: Path, run_cli: RunCli) -> None:
    lab = wired_lab(tmp_path / "lab")
    code, out, err = run_cli("--lab", str(lab.root), "map", "--mermaid")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "flowchart LR"
    assert [line.split("[")[0] for line in lines if "subgraph" in line] == [
        "  subgraph h_gateway",
        "  subgraph h_ha",
        "  subgraph h_nas",
    ]
    assert '  h_gateway ==>|"https vault.home.example.org"| h_nas__vaultwarden' in lines
    assert '  h_nas__prometheus -.->|"scrape"| h_ha__prometheus_2d_node_2d_exporter' in lines
    assert '  h_ha -->|"backup"| h_nas__backup_20_repository' in lines
    assert sum('|"' in line for line in lines) == 12


def test_a_host_with_mistakes_is_drawn_and_said(tmp_path: Path, run_cli: RunCli) -> None:
    lab = wired_lab(tmp_path / "lab")
    profile = lab.root / "hosts/ha/profile.yaml"
    profile.write_text(profile.read_text(encoding="utf-8").replace("host: {name: ha,", "host: ["))
    code, out, err = run_cli("--lab", str(lab.root), "map", "-o", "-")
    assert code == 0, err
    assert 'data-host="ha"' in out
    assert "ha drawn without services (its profile has mistakes): run `homelab validate`" in err


def test_a_map_it_cannot_write_is_refused(tmp_path: Path, run_cli: RunCli) -> None:
    lab = wired_lab(tmp_path / "lab")
    code, _, err = run_cli("--lab", str(lab.root), "map", "-o", str(tmp_path / "none" / "m.svg"))
    assert code == 2
    assert "cannot write the map: No such file or directory" in err
