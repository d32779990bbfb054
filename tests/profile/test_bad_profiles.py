"""The corpus of bad profiles (tests/bad/, see its README): each one is refused with exit
code 2, a message naming the right file and line, and not one byte of the lab changed."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import RunCli, tree_hash

BAD = Path(__file__).resolve().parents[1] / "bad"
_DIRECTIVE = re.compile(r"^#\s*([a-z-]+):\s*(.*?)\s*$")


@dataclass(frozen=True)
class Case:
    name: str
    profile: Path  # becomes hosts/<folder>/profile.yaml
    extras: Path | None  # a folder whose other files go under hosts/
    folder: str
    file: str
    line: int | None  # None: the problem is about a file as a whole
    column: int | None
    message: str
    hint: str


def _case(path: Path) -> Case:
    profile = path / "profile.yaml" if path.is_dir() else path
    found: dict[str, str] = {}
    for text in profile.read_text(encoding="utf-8").splitlines():
        match = _DIRECTIVE.match(text)
        if not text.startswith("#"):
            break
        if match:
            found[match[1]] = match[2]
    folder = found.get("folder", "bad")
    line = found.get("expect-line", "")
    assert "expect" in found and line, f"{profile}: needs `# expect:` and `# expect-line:`"
    return Case(
        name=path.name.removesuffix(".yaml"),
        profile=profile,
        extras=path if path.is_dir() else None,
        folder=folder,
        file=found.get("expect-file", f"hosts/{folder}/profile.yaml"),
        line=None if line == "none" else int(line),
        column=int(found["expect-column"]) if "expect-column" in found else None,
        message=found["expect"],
        hint=found.get("expect-hint", ""),
    )


CASES = [_case(p) for p in sorted(BAD.iterdir()) if p.suffix == ".yaml" or p.is_dir()]


def install(case: Case, lab: Path, folder: str | None = None) -> None:
    """Put the case into the lab as hosts/<folder>/profile.yaml (plus its extra files)."""
    hosts = lab / "hosts"
    target = hosts / (folder or case.folder)
    target.mkdir(parents=True)
    shutil.copyfile(case.profile, target / "profile.yaml")
    if case.extras is not None:
        for src in sorted(case.extras.rglob("*")):
            rel = src.relative_to(case.extras)
            if src.is_file() and rel != Path("profile.yaml"):
                (hosts / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, hosts / rel)


def problems(stderr: str) -> list[str]:
    """The reported problems, each with its hint lines."""
    blocks: list[str] = []
    for text in stderr.splitlines():
        if text.startswith("error: "):
            blocks.append(text)
        elif blocks and text.startswith("    "):
            blocks[-1] += "\n" + text
    return blocks


def reported(case: Case, stderr: str) -> bool:
    where = f"error: {case.file}:{case.line}:" if case.line else f"error: {case.file}: "
    if case.line and case.column:
        where += f"{case.column}: "
    return any(
        block.startswith(where) and case.message in block.split("\n")[0] and case.hint in block
        for block in problems(stderr)
    )


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 45
    assert len({c.name.split("-")[0] for c in CASES}) == len(CASES), "case numbers must be unique"


def test_the_fixture_lab_itself_is_valid(basic_lab: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("--lab", str(basic_lab), "validate")
    assert (code, err) == (0, "")
    assert "2 hosts valid: alpha, beta" in out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_profile_is_refused_with_its_place(
    case: Case, basic_lab: Path, run_cli: RunCli
) -> None:
    install(case, basic_lab)
    before = tree_hash(basic_lab)
    code, out, err = run_cli("--lab", str(basic_lab), "validate")
    assert code == 2, out + err
    assert reported(case, err), (
        f"expected {case.file}:{case.line}: ... {case.message!r} (hint {case.hint!r}); got:\n{err}"
    )
    assert "Traceback" not in err
    assert tree_hash(basic_lab) == before


def test_every_bad_host_is_reported_in_one_run(basic_lab: Path, run_cli: RunCli) -> None:
    movable = [c for c in CASES if not c.extras and c.folder == "bad" and "hosts/" not in c.message]
    chosen = movable[::9]
    assert len(chosen) >= 5
    for i, case in enumerate(chosen):
        install(case, basic_lab, folder=f"bad{i}")
    code, _, err = run_cli("--lab", str(basic_lab), "validate")
    assert code == 2
    for i, case in enumerate(chosen):
        moved = Case(**{**case.__dict__, "file": f"hosts/bad{i}/profile.yaml"})
        assert reported(moved, err), f"{case.name} missing from:\n{err}"
    files = {block.removeprefix("error: ").split(":")[0] for block in problems(err)}
    assert {f"hosts/bad{i}/profile.yaml" for i in range(len(chosen))} <= files


def test_a_bad_host_only_is_reported_when_named(basic_lab: Path, run_cli: RunCli) -> None:
    install(CASES[1], basic_lab)
    code, out, err = run_cli("--lab", str(basic_lab), "validate", "alpha")
    assert (code, err) == (0, "")
    assert "alpha" in out


@pytest.mark.parametrize("case", CASES[::15], ids=[c.name for c in CASES[::15]])
def test_build_of_a_bad_lab_writes_nothing(case: Case, basic_lab: Path, run_cli: RunCli) -> None:
    install(case, basic_lab)
    before = tree_hash(basic_lab)
    code, out, err = run_cli("--lab", str(basic_lab), "build")
    assert code == 2, out + err
    assert reported(case, err)
    assert out == ""
    assert tree_hash(basic_lab) == before
