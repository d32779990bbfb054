"""`homelab diff [REV] [HOST ...]`: what the working tree would change on each host."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from homelab.history.records import record_deploy
from tests.history.tools import edit, head, snapshot, write

RunCli = Callable[..., tuple[int, str, str]]
DEMO = "hosts/nixos-demo/profile.yaml"


def diff(run_cli: RunCli, lab: Path, *args: str) -> str:
    code, out, err = run_cli("--lab", str(lab), "diff", "--color", "never", *args)
    assert code == 0, err
    return out


def test_an_unbuilt_uncommitted_edit_shows_as_profile_changes_and_nix(
    lab: Path, run_cli: RunCli
) -> None:
    edit(lab, DEMO, "  openssh: {}\n", "  openssh: {}\n  pihole: {webPort: 8053}\n")
    out = diff(run_cli, lab)
    assert (
        f"nixos-demo: never deployed: everything is new; edits since HEAD {head(lab)[:7]}:\n"
        "  service pihole added\n"
    ) in out
    assert "--- a/hosts/nixos-demo/services.nix\n+++ b/hosts/nixos-demo/services.nix\n" in out
    assert any(line.startswith("+") and "8053" in line for line in out.splitlines())
    never = "never deployed: everything is new (no edits since HEAD"
    assert f"pi: {never} {head(lab)[:7]})" in out
    assert f"lone: {never} {head(lab)[:7]})" in out
    assert "no changes since HEAD" not in out
    # nothing was built or written by looking
    assert "8053" not in (lab / "hosts/nixos-demo/services.nix").read_text()


def test_the_default_base_is_the_last_deploy(lab: Path, run_cli: RunCli) -> None:
    deployed = head(lab)
    now = datetime.now().astimezone()
    record_deploy(lab, "nixos-demo", deployed, "switch", "ok", now, now)
    edit(lab, DEMO, "groups: [wheel]", "groups: [wheel, audio]")
    code, _, err = run_cli("--lab", str(lab), "build", "--commit")
    assert code == 0, err
    # committed, so HEAD has it; the machine does not: diff says so
    out = diff(run_cli, lab, "nixos-demo")
    assert out.startswith(
        f"nixos-demo: changes since deployed {deployed[:7]}\n  user demouser: groups + audio\n"
    )
    assert diff(run_cli, lab, "pi") == (
        f"pi: never deployed: everything is new (no edits since HEAD {head(lab)[:7]})\n"
    )


def test_a_revision_and_hosts_can_be_named(lab: Path, run_cli: RunCli) -> None:
    first = head(lab)
    edit(lab, "hosts/common/base.yaml", "Europe/Berlin", "Europe/Paris")
    code, _, err = run_cli("--lab", str(lab), "build", "--commit")
    assert code == 0, err
    out = diff(run_cli, lab, first, "pi")
    assert out.startswith(
        f"pi: changes since {first[:7]}\n  host.timezone Europe/Berlin -> Europe/Paris\n"
    )
    assert "nixos-demo" not in out
    assert diff(run_cli, lab, "HEAD", "pi") == "pi: no changes since " + head(lab)[:7] + "\n"


def test_a_new_host_in_the_working_tree(lab: Path, run_cli: RunCli) -> None:
    write(lab, "hosts/nas/profile.yaml", 'host:\n  stateVersion: "24.11"\n')
    out = diff(run_cli, lab, "nas")
    assert out.startswith(
        f"nas: never deployed: everything is new; edits since HEAD {head(lab)[:7]}:\n  new host\n"
    )
    assert "--- /dev/null\n+++ b/hosts/nas/configuration.nix\n" in out


def test_colour_when_asked(lab: Path, run_cli: RunCli) -> None:
    edit(lab, DEMO, "groups: [wheel]", "groups: [wheel, audio]")
    code, out, _ = run_cli("--lab", str(lab), "diff", "--color", "always", "nixos-demo")
    assert code == 0
    assert "\033[32m+" in out and "\033[31m-" in out and "\033[36m@@" in out
    code, out, _ = run_cli("--lab", str(lab), "diff", "--color", "never", "nixos-demo")
    assert "\033[" not in out


@pytest.mark.parametrize(
    ("words", "says"),
    [
        (["no-such-rev"], "'no-such-rev' is neither a revision nor a host"),
        (["HEAD", "ghost"], "no host named 'ghost'"),
    ],
)
def test_bad_words_are_refused(lab: Path, run_cli: RunCli, words: list[str], says: str) -> None:
    before = snapshot(lab)
    code, out, err = run_cli("--lab", str(lab), "diff", *words)
    assert (code, out) == (2, "")
    assert says in err
    assert snapshot(lab) == before


def test_a_revision_before_the_host_existed_is_refused(lab: Path, run_cli: RunCli) -> None:
    first = head(lab)
    write(lab, "hosts/nas/profile.yaml", 'host:\n  stateVersion: "24.11"\n')
    code, _, err = run_cli("--lab", str(lab), "build", "--commit")
    assert code == 0, err
    before = snapshot(lab)
    code, out, err = run_cli("--lab", str(lab), "diff", first, "nas")
    assert (code, out) == (2, "")
    assert f"host 'nas' did not exist at {first[:7]}" in err
    assert snapshot(lab) == before
