"""The core loads no Textual: scripts, CI and the command line use it without the editor's
weight. Each check runs in a new Python, so that nothing an earlier test imported hides an
import (that the command line starts light is tested in tests/cli/test_main.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import copy_lab

CORE = ["homelab.lab", "homelab.compile", "homelab.deploy.workflow", "homelab.labfiles"]

_LOADED = (
    "import json, sys\n"
    "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & {'textual'})))\n"
)


def textual_loaded_by(code: str, *args: str) -> list[str]:
    """The Textual modules a new Python has loaded after running `code`."""
    result = subprocess.run(
        [sys.executable, "-c", code + _LOADED, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_the_check_sees_textual_when_it_is_loaded() -> None:
    assert textual_loaded_by("import textual.app\n") == ["textual"]


@pytest.mark.parametrize("module", CORE)
def test_importing_the_core_loads_no_textual(module: str) -> None:
    assert textual_loaded_by(f"import {module}\n") == []


def test_loading_checking_and_building_a_lab_loads_no_textual(tmp_path: Path) -> None:
    lab = copy_lab("basic", tmp_path / "lab")
    code = (
        "import sys\n"
        "from homelab.lab import Lab\n"
        "lab = Lab(sys.argv[1])\n"
        "state = lab.load()\n"
        "assert not state.all_problems(), state.all_problems()\n"
        "lab.build(state, sorted(state.hosts))\n"
    )
    assert textual_loaded_by(code, str(lab)) == []
    assert (lab / "hosts" / "alpha" / "configuration.nix").exists()
