"""`homelab diff [REV] [HOST ...]`: what the working tree would change on each host."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from homelab.history.records import record_deploy
from tests.compiled import copy_lab
from tests.history.tools import edit, git, head, identify, snapshot, write

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


def many_hosts(lab: Path, run_cli: RunCli, count: int = 12) -> list[str]:
    """More hosts beside the three (each with its own port), built and committed."""
    names = [f"box{n:02}" for n in range(count)]
    for n, name in enumerate(names):
        write(
            lab,
            f"hosts/{name}/profile.yaml",
            f'include: [../common/base.yaml]\nhost:\n  stateVersion: "24.11"\n'
            f"services:\n  openssh: {{}}\n  pihole: {{webPort: {8100 + n}}}\n",
        )
    code, _, err = run_cli("--lab", str(lab), "build", "--commit", "-m", "more hosts")
    assert code == 0, err
    return names


def test_in_a_lab_of_many_hosts_only_the_asked_hosts_change_shows(
    lab: Path, run_cli: RunCli
) -> None:
    names = many_hosts(lab, run_cli)
    edit(lab, "hosts/box03/profile.yaml", "webPort: 8103", "webPort: 8203")
    edit(lab, "hosts/box07/profile.yaml", "webPort: 8107", "webPort: 8207")
    out = diff(run_cli, lab, "box03")
    assert out.startswith(
        f"box03: never deployed: everything is new; edits since HEAD {head(lab)[:7]}:\n"
        "  service pihole: webPort 8103 -> 8203\n"
    )
    assert "8203" in out and "8207" not in out
    assert not [n for n in names if n != "box03" and n in out]
    # asked for both: both, in the order asked, each with its own change only
    first, second = diff(run_cli, lab, "box07", "box03").split("\nbox03: ")
    assert first.startswith("box07: ") and "8107 -> 8207" in first and "8103" not in first
    assert "8103 -> 8203" in second and "8107" not in second


def test_a_host_deployed_at_an_older_commit_than_the_others(lab: Path, run_cli: RunCli) -> None:
    many_hosts(lab, run_cli, count=4)
    older = head(lab)
    edit(lab, "hosts/common/base.yaml", "Europe/Berlin", "Europe/Paris")
    edit(lab, "hosts/box01/profile.yaml", "webPort: 8101", "webPort: 8201")
    code, _, err = run_cli("--lab", str(lab), "build", "--commit")
    assert code == 0, err
    newer = head(lab)
    now = datetime.now().astimezone()
    for host in ("box00", "box02", "pi"):
        record_deploy(lab, host, newer, "switch", "ok", now, now)
    record_deploy(lab, "box01", older, "switch", "ok", now, now)
    out = diff(run_cli, lab)
    box01 = out.split("box01: ", 1)[1].split("\nbox02: ", 1)[0]
    assert box01.startswith(f"changes since deployed {older[:7]}\n")
    assert "  host.timezone Europe/Berlin -> Europe/Paris\n" in box01
    assert "  service pihole: webPort 8101 -> 8201\n" in box01
    for host in ("box00", "box02", "pi"):
        assert f"{host}: no changes since deployed {newer[:7]}\n" in out
    # the one host alone says the same as in the whole lab's diff
    assert diff(run_cli, lab, "box01") == f"box01: {box01}\n"


PROXIED = Path(__file__).resolve().parents[1] / "labs" / "proxied"
BOX = """\
host: {name: box, stateVersion: "26.05"}
hardware: {fileSystems: {/: {device: /dev/vda1}}}
networking: {interfaces: {eth0: {addresses: [192.168.1.50/24]}}}
services:
  uptime-kuma: {web: {name: status}}
"""


def test_what_a_new_host_changes_in_the_others_wiring_is_said_in_the_labs_words(
    tmp_path: Path, run_cli: RunCli
) -> None:
    root = copy_lab(PROXIED, tmp_path / "lab")
    git(root, "init", "-q", "-b", "main")
    identify(root)
    with (root / "lab.yaml").open("a", encoding="utf-8") as f:
        f.write("wiring:\n  monitoring: {host: nas}\n")
    edit(root, "hosts/nas/profile.yaml", "services:\n", "services:\n  prometheus: {}\n")
    code, _, err = run_cli("--lab", str(root), "build", "--commit")
    assert code == 0, err
    now = datetime.now().astimezone()
    for host in ("gateway", "ha", "nas"):
        record_deploy(root, host, head(root), "switch", "ok", now, now)
    write(root, "hosts/box/profile.yaml", BOX)
    code, _, err = run_cli("--lab", str(root), "build")  # built, not committed
    assert code == 0, err
    deployed = f"changes since deployed {head(root)[:7]}\n"
    assert diff(run_cli, root, "nas").startswith(
        f"nas: {deployed}  wiring: monitoring scrapes + box\n"
    )
    assert diff(run_cli, root, "gateway").startswith(
        f"gateway: {deployed}  wiring: proxy serves + status.home.example.org\n"
    )
    assert diff(run_cli, root, "ha") == f"ha: no changes since deployed {head(root)[:7]}\n"


def test_a_host_can_be_named_by_its_host_name(lab: Path, run_cli: RunCli) -> None:
    edit(lab, "hosts/lone/profile.yaml", "host:\n", "host:\n  name: jukebox\n")
    out = diff(run_cli, lab, "jukebox")
    assert out.startswith(
        f"lone: never deployed: everything is new; edits since HEAD {head(lab)[:7]}:\n"
    )
    assert "pi:" not in out and "nixos-demo:" not in out


def test_a_clean_lab_deployed_at_head_has_no_changes_and_a_later_edit_shows(
    lab: Path, run_cli: RunCli
) -> None:
    git(lab, "add", "--all")
    git(lab, "commit", "-qm", "everything committed: the working tree holds what HEAD holds")
    deployed = head(lab)
    now = datetime.now().astimezone()
    for host in ("nixos-demo", "pi"):
        record_deploy(lab, host, deployed, "switch", "ok", now, now)
    out = diff(run_cli, lab)
    assert f"nixos-demo: no changes since deployed {deployed[:7]}\n" in out
    assert f"pi: no changes since deployed {deployed[:7]}\n" in out
    assert f"lone: never deployed: everything is new (no edits since HEAD {deployed[:7]})" in out
    # not from a note of the last look: an edit shows at once, though nothing is committed
    assert git(lab, "status", "--porcelain", "--untracked-files=all") == ""
    edit(lab, "hosts/common/base.yaml", "Europe/Berlin", "Europe/Paris")
    out = diff(run_cli, lab, "pi")
    assert out.startswith(
        f"pi: changes since deployed {deployed[:7]}\n"
        "  host.timezone Europe/Berlin -> Europe/Paris\n"
    )


def test_a_clean_lab_whose_committed_nix_is_not_what_homelab_makes_shows_the_difference(
    lab: Path, run_cli: RunCli
) -> None:
    # the committed modules as another homelab wrote them (an older release, a hand edit):
    # the working tree holds what HEAD holds, yet an apply would send other Nix
    edit(
        lab, "hosts/pi/networking.nix", "  networking = {", "  # an older homelab\n  networking = {"
    )
    git(lab, "add", "--all")
    git(lab, "commit", "-qm", "the modules as an older homelab wrote them")
    assert git(lab, "status", "--porcelain", "--untracked-files=all") == ""
    deployed = head(lab)
    now = datetime.now().astimezone()
    record_deploy(lab, "pi", deployed, "switch", "ok", now, now)
    out = diff(run_cli, lab, "pi")
    assert out.startswith(f"pi: changes since deployed {deployed[:7]}\n")
    assert "\n-  # an older homelab\n" in out


def test_a_word_that_names_nothing_in_a_big_lab_gets_a_short_hint(
    lab: Path, run_cli: RunCli
) -> None:
    many_hosts(lab, run_cli, count=20)  # 23 hosts in all
    before = snapshot(lab)
    code, out, err = run_cli("--lab", str(lab), "diff", "qqqq")
    assert (code, out) == (2, "")
    assert "'qqqq' is neither a revision nor a host" in err
    hint = next(line for line in err.splitlines() if "hint:" in line)
    assert hint.strip() == (
        "hint: hosts: box00, box01, box02, box03, box04, box05, box06, box07, box08, box09, "
        "box10, box11 and 11 more (`homelab hosts` lists them)"
    )
    # a near name is offered, for a revision's place as for a host's
    code, _, err = run_cli("--lab", str(lab), "diff", "boxx10")
    assert code == 2 and "did you mean 'box10'?" in err
    code, _, err = run_cli("--lab", str(lab), "diff", "HEAD", "qqqq")
    assert code == 2 and "no host named 'qqqq'" in err and "and 11 more" in err
    assert snapshot(lab) == before
