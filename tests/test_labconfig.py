"""lab.yaml: read and checked (tests/bad-lab/), the flake.nix homelab generates from it
(parsed by the real nix-instantiate), written by `homelab build` as every generated file
(a hand edit kept and named, --force overwrites), made by `homelab init`, and the release
a new host's stateVersion starts from. A lab without lab.yaml keeps its flake.nix."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from homelab import labconfig
from homelab.compile import body_hash_matches
from homelab.lab import Lab
from homelab.labconfig.flake import flake_text
from homelab.tui.screens.newhost import NewHost
from tests.conftest import REPO, RunCli, copy_lab, tree_hash
from tests.nixtools import nix_parse, nix_parse_all

BAD = Path(__file__).resolve().parent / "bad-lab"
_DIRECTIVE = re.compile(r"^#\s*([a-z-]+):\s*(.*?)\s*$")
FULL = """\
release: "26.05"
inputs:
  agenix: {url: "github:ryantm/agenix"}
  nixos-hardware: {url: "github:NixOS/nixos-hardware", follows: false}
overlays:
  - agenix.overlays.default
  - ./overlays/tools.nix
"""


@pytest.fixture
def flaked(tmp_path: Path) -> Path:
    return copy_lab("flaked", tmp_path / "lab")


def _parse(text: str, files: dict[str, str] | None = None) -> labconfig.LabConfig:
    config, problems = labconfig.parse(text, (files or {}).get)
    assert problems == [] and config is not None
    return config


# ---- the model ----------------------------------------------------------------------


def test_lab_yaml_reads_as_its_model() -> None:
    config = _parse(FULL, {"overlays/tools.nix": "final: prev: { }\n"})
    assert config == labconfig.LabConfig(
        "26.05",
        "github:NixOS/nixpkgs/nixos-26.05",
        "github:nix-community/home-manager/release-26.05",
        (
            labconfig.Input("agenix", "github:ryantm/agenix"),
            labconfig.Input("nixos-hardware", "github:NixOS/nixos-hardware", follows=False),
        ),
        (
            labconfig.Overlay("agenix.overlays.default", input="agenix"),
            labconfig.Overlay("./overlays/tools.nix", file="overlays/tools.nix"),
        ),
    )


def test_nixpkgs_and_home_manager_urls_override_the_release() -> None:
    config = _parse(
        'release: "26.11"\n'
        'nixpkgs: {url: "github:NixOS/nixpkgs/nixos-unstable"}\n'
        'home-manager: {url: "github:nix-community/home-manager"}\n'
    )
    assert (config.release, config.nixpkgs_url, config.home_manager_url) == (
        "26.11",
        "github:NixOS/nixpkgs/nixos-unstable",
        "github:nix-community/home-manager",
    )


def test_no_lab_yaml_is_no_config() -> None:
    assert labconfig.load(lambda rel: None) == (None, [])


# ---- the generated flake ------------------------------------------------------------


def test_the_generated_flake_has_the_inputs_the_overlays_and_the_skeletons_shape() -> None:
    text = flake_text(_parse(FULL, {"overlays/tools.nix": "final: prev: { }\n"}))
    assert body_hash_matches(text) is True
    assert 'url = "github:ryantm/agenix";' in text
    # agenix follows the lab's nixpkgs, nixos-hardware was told not to
    agenix = text.split("agenix = {", 1)[1].split("};", 1)[0]
    hardware = text.split("nixos-hardware = {", 1)[1].split("};", 1)[0]
    assert 'inputs.nixpkgs.follows = "nixpkgs";' in agenix
    assert "follows" not in hardware
    assert "specialArgs = { inherit inputs; };" in text
    assert "home-manager.nixosModules.home-manager" in text
    assert (
        "nixpkgs.overlays = [\n"
        "              inputs.agenix.overlays.default\n"
        "              (import ./overlays/tools.nix)\n"
        "            ];"
    ) in text
    nix_parse(text)


def test_the_generated_flake_fetches_nixpkgs_and_home_manager_from_their_overrides() -> None:
    text = flake_text(
        _parse(
            'release: "26.11"\n'
            'nixpkgs: {url: "github:NixOS/nixpkgs/nixos-unstable"}\n'
            'home-manager: {url: "github:nix-community/home-manager"}\n'
        )
    )
    nixpkgs = text.split("    nixpkgs = {", 1)[1].split("};", 1)[0]
    home_manager = text.split("    home-manager = {", 1)[1].split("};", 1)[0]
    assert 'url = "github:NixOS/nixpkgs/nixos-unstable";' in nixpkgs
    assert 'url = "github:nix-community/home-manager";' in home_manager
    assert 'inputs.nixpkgs.follows = "nixpkgs";' in home_manager  # the overridden nixpkgs
    assert "26.11" not in text  # the release's urls are gone, not kept beside
    nix_parse(text)


def test_every_generated_flake_parses_with_nix() -> None:
    """The fewest words, every kind of input and overlay, and URLs Nix strings must escape
    (a URL is never pasted: it is a string literal, whatever it holds)."""
    files = {"overlays/tools.nix": "final: prev: { }\n", "o/a-b_c+1.nix": "_: _: { }\n"}
    texts = [
        'release: "26.05"\n',
        FULL,
        'release: "24.11"\ninputs: {x: {url: "path:./vendor/x?dir=a&b=c#frag"}}\n'
        "overlays: [x.overlays.default, nixpkgs.lib.id, ./o/a-b_c+1.nix]\n",
        'release: "26.05"\ninputs: {a\'b: {url: "github:o/r", follows: true}}\n',
    ]
    flakes = [flake_text(_parse(t, files)) for t in texts]
    assert nix_parse_all(flakes) == [None] * len(flakes)


def test_a_lab_without_inputs_or_overlays_gets_the_skeletons_flake() -> None:
    """The generated flake says what the skeleton's hand-kept one says: the same inputs
    and the same outputs, token for token."""
    ours = flake_text(_parse('release: "26.05"\n'))
    skeleton = (REPO / "homelab" / "skeleton" / "flake.nix").read_text()

    def outputs(text: str) -> list[str]:
        return text.split("outputs =", 1)[1].split()

    def urls(text: str) -> list[str]:
        return re.findall(r'url = "([^"]*)"', text)

    assert outputs(ours) == outputs(skeleton)
    assert sorted(urls(ours)) == sorted(urls(skeleton))


# ---- bad lab.yaml files (tests/bad-lab/) --------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    lab_yaml: Path
    extras: Path | None
    file: str
    line: int
    column: int | None
    message: str
    hint: str


def _case(path: Path) -> Case:
    lab_yaml = path / "lab.yaml" if path.is_dir() else path
    found: dict[str, str] = {}
    for text in lab_yaml.read_text(encoding="utf-8").splitlines():
        if not text.startswith("#"):
            break
        if match := _DIRECTIVE.match(text):
            found[match[1]] = match[2]
    return Case(
        path.name.removesuffix(".yaml"),
        lab_yaml,
        path if path.is_dir() else None,
        found.get("expect-file", "lab.yaml"),
        int(found["expect-line"]),
        int(found["expect-column"]) if "expect-column" in found else None,
        found["expect"],
        found.get("expect-hint", ""),
    )


CASES = [_case(p) for p in sorted(BAD.iterdir()) if p.suffix == ".yaml" or p.is_dir()]


def test_the_bad_lab_corpus_is_there() -> None:
    assert len(CASES) >= 9
    assert len({c.name.split("-")[0] for c in CASES}) == len(CASES), "case numbers must be unique"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_lab_yaml_is_refused_with_its_place(case: Case, flaked: Path, run_cli: RunCli) -> None:
    shutil.copyfile(case.lab_yaml, flaked / "lab.yaml")
    if case.extras is not None:
        for src in sorted(case.extras.rglob("*")):
            rel = src.relative_to(case.extras)
            if src.is_file() and rel != Path("lab.yaml"):
                (flaked / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, flaked / rel)
    before = tree_hash(flaked)
    for command in ("validate", "build"):
        code, out, err = run_cli("--lab", str(flaked), command)
        assert code == 2, out + err
        where = f"error: {case.file}:{case.line}:" + (f"{case.column}:" if case.column else "")
        blocks = err.split("\nerror: ")
        assert any(
            ("error: " + b if i else b).startswith(where)
            and case.message in b.split("\n")[0]
            and case.hint in b
            for i, b in enumerate(blocks)
        ), f"expected {where} {case.message!r} (hint {case.hint!r}); got:\n{err}"
        assert "Traceback" not in err
        assert tree_hash(flaked) == before


# ---- homelab build ------------------------------------------------------------------


def test_build_writes_the_flake_then_keeps_a_hand_edit_until_force(
    flaked: Path, run_cli: RunCli
) -> None:
    code, out, err = run_cli("--lab", str(flaked), "build")
    assert code == 0, err
    assert "wrote flake.nix" in out
    flake = (flaked / "flake.nix").read_text()
    assert flake == flake_text(Lab(flaked).load().config)  # type: ignore[arg-type]
    nix_parse(flake)
    assert run_cli("--lab", str(flaked), "build")[1].strip().startswith("nothing to do")

    edited = flake.replace("nixos-26.05", "nixos-unstable")
    (flaked / "flake.nix").write_text(edited)
    (flaked / "lab.yaml").write_text(
        (flaked / "lab.yaml").read_text().replace("follows: false", "follows: true")
    )
    code, out, err = run_cli("--lab", str(flaked), "build")
    assert code == 2
    assert "error: flake.nix: this generated file was edited by hand" in err
    assert "move your change into lab.yaml" in err
    assert (flaked / "flake.nix").read_text() == edited  # kept

    code, out, err = run_cli("--lab", str(flaked), "build", "--force")
    assert code == 0, err
    rebuilt = (flaked / "flake.nix").read_text()
    assert "nixos-unstable" not in rebuilt
    assert body_hash_matches(rebuilt) is True
    hardware = rebuilt.split("nixos-hardware = {", 1)[1].split("};", 1)[0]
    assert 'inputs.nixpkgs.follows = "nixpkgs";' in hardware


def test_an_edit_of_lab_yaml_alone_is_built(flaked: Path, run_cli: RunCli) -> None:
    """The quick "nothing to do" check knows lab.yaml too (it is no host's file)."""
    assert run_cli("--lab", str(flaked), "build")[0] == 0
    lab_yaml = flaked / "lab.yaml"
    lab_yaml.write_text(lab_yaml.read_text().replace('"26.05"', '"26.11"'))
    code, out, err = run_cli("--lab", str(flaked), "build")
    assert (code, out.strip()) == (0, "wrote flake.nix"), err
    assert "nixos-26.11" in (flaked / "flake.nix").read_text()


def test_a_hand_kept_flake_is_not_replaced_when_lab_yaml_arrives(
    flaked: Path, run_cli: RunCli
) -> None:
    mine = (REPO / "homelab" / "skeleton" / "flake.nix").read_text() + "# mine\n"
    (flaked / "flake.nix").write_text(mine)
    code, _, err = run_cli("--lab", str(flaked), "build")
    assert code == 2
    assert "error: flake.nix: " in err
    assert (flaked / "flake.nix").read_text() == mine


def test_a_lab_without_lab_yaml_keeps_its_flake_byte_for_byte(
    basic_lab: Path, run_cli: RunCli
) -> None:
    mine = "# a person's flake, never regenerated\n{ outputs = _: { }; }\n"
    (basic_lab / "flake.nix").write_text(mine)
    for args in (("build",), ("build", "--force")):
        code, out, err = run_cli("--lab", str(basic_lab), *args)
        assert code == 0, err
        assert "flake.nix" not in out
    assert (basic_lab / "flake.nix").read_text() == mine
    assert Lab(basic_lab).release() == "26.05"


def test_the_product_repositorys_flake_is_never_generated() -> None:
    assert not (REPO / "lab.yaml").exists()
    assert body_hash_matches((REPO / "flake.nix").read_text()) is None


# ---- homelab init and new hosts -----------------------------------------------------


def test_init_writes_lab_yaml_and_its_flake(tmp_path: Path, run_cli: RunCli) -> None:
    lab = tmp_path / "new"
    assert run_cli("init", str(lab))[0] == 0
    config, problems = labconfig.load(
        lambda rel: (lab / rel).read_text() if (lab / rel).is_file() else None
    )
    assert problems == [] and config is not None and config.release == "26.05"
    flake = (lab / "flake.nix").read_text()
    assert flake == flake_text(config)
    nix_parse(flake)
    _, out, err = run_cli("--lab", str(lab), "build", "--check")
    assert "flake.nix" not in out + err  # up to date: only the example's modules are to build


def test_a_new_hosts_state_version_is_the_labs_release(flaked: Path) -> None:
    lab_yaml = flaked / "lab.yaml"
    lab_yaml.write_text(lab_yaml.read_text().replace('"26.05"', '"25.11"'))
    lab = Lab(flaked)
    assert lab.release() == "25.11"
    start = NewHost("fresh", "x86_64-linux", "uefi", "fresh.lan").profile(
        includes=(), release=lab.release()
    )
    assert 'stateVersion: "25.11"' in lab.new_profile(start)


def test_a_whole_lab_commit_takes_lab_yaml_its_flake_and_overlays(
    flaked: Path, run_cli: RunCli
) -> None:
    """The generated flake.nix is committed with what it is made from."""
    from tests.history.tools import files_in, git, identify

    git(flaked, "init", "-q", "-b", "main")
    identify(flaked)
    (flaked / "notes.txt").write_text("mine\n")
    code, out, err = run_cli("--lab", str(flaked), "build", "--commit")
    assert code == 0, out + err
    committed = files_in(flaked, "HEAD")
    assert {"lab.yaml", "flake.nix", "overlays/tools.nix"} <= committed
    assert "notes.txt" not in committed


def test_a_hand_kept_flake_is_never_committed_by_homelab(basic_lab: Path, run_cli: RunCli) -> None:
    from tests.history.tools import files_in, git, identify

    git(basic_lab, "init", "-q", "-b", "main")
    identify(basic_lab)
    (basic_lab / "flake.nix").write_text("{ outputs = _: { }; }\n")
    code, out, err = run_cli("--lab", str(basic_lab), "build", "--commit")
    assert code == 0, out + err
    assert "flake.nix" not in files_in(basic_lab, "HEAD")


def test_a_hosts_commit_takes_the_flake_it_is_built_with(flaked: Path, run_cli: RunCli) -> None:
    """apply sends the flake from git: a change of lab.yaml goes with any host's commit."""
    from tests.history.tools import git, identify

    git(flaked, "init", "-q", "-b", "main")
    identify(flaked)
    assert run_cli("--lab", str(flaked), "build", "--commit")[0] == 0
    lab_yaml = flaked / "lab.yaml"
    lab_yaml.write_text(lab_yaml.read_text().replace('"26.05"', '"26.11"'))
    code, out, err = run_cli("--lab", str(flaked), "build", "box", "--commit")
    assert code == 0, out + err
    assert "nixos-26.11" in git(flaked, "show", "HEAD:flake.nix")
    assert git(flaked, "status", "--porcelain", "lab.yaml", "flake.nix") == ""


def test_a_lab_yaml_that_cannot_be_read_is_said(flaked: Path, run_cli: RunCli) -> None:
    (flaked / "lab.yaml").write_bytes(b'release: "26.05"\n# caf\xe9\n')
    code, _, err = run_cli("--lab", str(flaked), "validate")
    assert code == 2
    assert "error: lab.yaml:2:6: not UTF-8 text" in err
