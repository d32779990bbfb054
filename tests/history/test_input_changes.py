"""The flake's inputs changing, said in the lab's words: `homelab diff` shows
`nixpkgs: 26.05 → 26.11`, `agenix added` under each host (every host builds from the lab's
flake), and commits of lab.yaml or flake.lock say the same in their body."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from homelab.history.commit import commit_paths, state_at
from homelab.history.records import record_deploy
from homelab.history.repo import open_repository
from homelab.lab import Lab
from tests.history.tools import git, head, message, write
from tests.test_lab_lock import ALL_PINNED, github, lock

RunCli = Callable[..., tuple[int, str, str]]

LAB_YAML = """\
release: "26.05"
inputs:
  agenix: {url: "github:ryantm/agenix"}
  nixos-hardware: {url: "github:NixOS/nixos-hardware", follows: false}
"""

NEWER = """\
release: "26.11"
inputs:
  agenix: {url: "github:someone/agenix"}
  stylix: {url: "github:danth/stylix"}
"""


def committed(lab: Path, files: dict[str, str], subject: str) -> str:
    for rel, text in files.items():
        write(lab, rel, text)
    git(lab, "add", "--all")
    git(lab, "commit", "-q", "-m", subject)
    return head(lab)


def diff(run_cli: RunCli, lab: Path, *args: str) -> str:
    code, out, err = run_cli("--lab", str(lab), "diff", "--color", "never", *args)
    assert code == 0, err
    return out


def test_diff_says_the_release_and_inputs_that_changed(lab: Path, run_cli: RunCli) -> None:
    deployed = committed(lab, {"lab.yaml": LAB_YAML}, "lab.yaml")
    now = datetime.now().astimezone()
    record_deploy(lab, "nixos-demo", deployed, "switch", "ok", now, now)
    write(lab, "lab.yaml", NEWER)

    out = diff(run_cli, lab, "nixos-demo")

    assert out == (
        f"nixos-demo: changes since deployed {deployed[:7]}\n"
        "  nixpkgs: 26.05 → 26.11\n"
        "  home-manager: 26.05 → 26.11\n"
        "  agenix: url github:ryantm/agenix → github:someone/agenix\n"
        "  stylix added\n"
        "  nixos-hardware removed\n"
    )
    # a host never deployed is compared with HEAD: the same edit
    assert "  stylix added\n" in diff(run_cli, lab, "pi")


def test_diff_says_an_override_of_nixpkgs_that_changed(lab: Path, run_cli: RunCli) -> None:
    base = committed(
        lab,
        {"lab.yaml": LAB_YAML + 'nixpkgs: {url: "github:NixOS/nixpkgs/nixos-unstable"}\n'},
        "nixpkgs from nixos-unstable",
    )
    write(lab, "lab.yaml", LAB_YAML + 'nixpkgs: {url: "github:NixOS/nixpkgs/nixpkgs-unstable"}\n')

    out = diff(run_cli, lab, base, "lone")

    assert out == (
        f"lone: changes since {base[:7]}\n"
        "  nixpkgs: url github:NixOS/nixpkgs/nixos-unstable → "
        "github:NixOS/nixpkgs/nixpkgs-unstable\n"
    )
    write(lab, "lab.yaml", LAB_YAML)  # back to the release's
    assert "  nixpkgs: github:NixOS/nixpkgs/nixos-unstable → 26.05\n" in diff(
        run_cli, lab, base, "lone"
    )


def test_diff_says_an_input_pinned_anew_in_flake_lock(lab: Path, run_cli: RunCli) -> None:
    base = committed(
        lab, {"lab.yaml": LAB_YAML, "flake.lock": lock(ALL_PINNED)}, "lab.yaml, locked"
    )
    newer = {**ALL_PINNED, "agenix": (github("ryantm", "agenix"), "9" * 40)}
    write(lab, "flake.lock", lock(newer, when=1_790_000_000))

    out = diff(run_cli, lab, base, "lone")

    assert out == (
        f"lone: changes since {base[:7]}\n"
        "  agenix pinned anew: ccccccc (2026-05-28) → 9999999 (2026-09-21)\n"
    )


def test_nothing_about_inputs_when_lab_yaml_and_flake_lock_are_unchanged(
    lab: Path, run_cli: RunCli
) -> None:
    committed(lab, {"lab.yaml": LAB_YAML, "flake.lock": lock(ALL_PINNED)}, "lab.yaml")
    write(lab, "lab.yaml", "# the lab\n" + LAB_YAML)  # a comment changes no input

    out = diff(run_cli, lab, "lone")

    assert "changes" not in out, out
    assert "lone: never deployed: everything is new (no edits since HEAD" in out


def test_homelab_lock_s_commit_says_which_inputs_were_pinned(lab: Path) -> None:
    committed(lab, {"lab.yaml": LAB_YAML}, "lab.yaml, not yet locked")
    write(lab, "flake.lock", lock(ALL_PINNED))

    sha = Lab(lab).commit_lock("flake.lock locked")

    assert sha is not None
    assert message(lab, sha) == (
        "flake.lock locked\n\n"
        "lab:\n"
        "- nixpkgs pinned at aaaaaaa (2026-05-28)\n"
        "- home-manager pinned at bbbbbbb (2026-05-28)\n"
        "- agenix pinned at ccccccc (2026-05-28)\n"
        "- nixos-hardware pinned at ddddddd (2026-05-28)\n"
    )
    pins = {k: v for k, v in ALL_PINNED.items() if k != "nixos-hardware"}
    write(lab, "flake.lock", lock(pins))
    sha = Lab(lab).commit_lock("flake.lock locked")
    assert sha is not None
    assert message(lab, sha).endswith("lab:\n- nixos-hardware no longer pinned\n")


def test_a_commit_of_lab_yaml_says_its_inputs_in_the_body(lab: Path) -> None:
    committed(lab, {"lab.yaml": LAB_YAML}, "lab.yaml")
    write(lab, "lab.yaml", NEWER)
    labfiles = Lab(lab)
    lr = open_repository(lab)
    before = head(lab)

    done = commit_paths(
        labfiles,
        lr,
        {"lab.yaml"},
        state_at(labfiles, lr, before),
        labfiles.load(),
        before,
        subject=lambda _: "lab: release 26.11",
    )

    assert done is not None
    assert message(lab, done[0]) == (
        "lab: release 26.11\n\n"
        "lab:\n"
        "- nixpkgs: 26.05 → 26.11\n"
        "- home-manager: 26.05 → 26.11\n"
        "- agenix: url github:ryantm/agenix → github:someone/agenix\n"
        "- stylix added\n"
        "- nixos-hardware removed\n"
    )


def test_build_commit_of_a_new_release_says_it(lab: Path, run_cli: RunCli) -> None:
    (lab / "flake.nix").unlink()  # a person's: lab.yaml's is generated instead
    write(lab, "lab.yaml", LAB_YAML)
    code, out, err = run_cli("--lab", str(lab), "build", "--commit")
    assert code == 0, out + err
    write(lab, "lab.yaml", NEWER)

    code, out, err = run_cli("--lab", str(lab), "build", "--commit")

    assert code == 0, out + err
    said = message(lab)
    assert said.startswith("lab: nixpkgs: 26.05 → 26.11"), said
    assert said.endswith(
        "lab:\n"
        "- nixpkgs: 26.05 → 26.11\n"
        "- home-manager: 26.05 → 26.11\n"
        "- agenix: url github:ryantm/agenix → github:someone/agenix\n"
        "- stylix added\n"
        "- nixos-hardware removed\n"
    ), said
