"""`homelab history [HOST]`: the commits that touched a host, through its own files, the
fragments it includes and the catalogue entries it uses, and where each is deployed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from homelab.history.records import record_deploy
from tests.history.tools import edit, git, head, make_lab, snapshot, write

RunCli = Callable[..., tuple[int, str, str]]


def hand_commit(root: Path, what: str) -> str:
    """A commit made with plain git, as people do."""
    git(root, "add", "--all")
    git(root, "commit", "-q", "-m", what)
    return head(root)[:7]


def build_commit(run_cli: RunCli, root: Path) -> str:
    code, _, err = run_cli("--lab", str(root), "build", "--commit")
    assert code == 0, err
    return head(root)[:7]


@pytest.fixture
def past(lab: Path, run_cli: RunCli) -> dict[str, str]:
    """A short past: which commit did what (short hashes)."""
    c = {"first": head(lab)[:7]}
    edit(lab, "hosts/pi/profile.yaml", "24.05", "24.11")
    c["pi"] = build_commit(run_cli, lab)
    edit(lab, "hosts/common/base.yaml", "Europe/Berlin", "Europe/Paris")
    c["fragment"] = build_commit(run_cli, lab)
    edit(
        lab, "services/openssh.yaml", "enable: true", "enable: true\n  services.openssh.ports: [22]"
    )
    c["openssh"] = build_commit(run_cli, lab)
    edit(lab, "services/pihole.yaml", "8080", "8081")  # no host uses pihole
    c["pihole"] = hand_commit(lab, "pihole: another port")
    write(lab, "README.md", "our lab\n")
    c["readme"] = hand_commit(lab, "a readme")
    edit(lab, "hosts/lone/profile.yaml", "jellyfin: {}", "jellyfin: {}\n  openssh: {}")
    c["lone"] = build_commit(run_cli, lab)
    edit(lab, "hosts/nixos-demo/profile.yaml", "groups: [wheel]", "groups: [wheel, audio]")
    c["demo"] = build_commit(run_cli, lab)
    return c


def shown(run_cli: RunCli, lab: Path, *args: str) -> list[str]:
    code, out, err = run_cli("--lab", str(lab), "history", *args)
    assert code == 0, err
    return [line.split()[0] for line in out.splitlines()]


def test_a_hosts_history_has_its_commits_newest_first_and_no_others(
    lab: Path, past: dict[str, str], run_cli: RunCli
) -> None:
    demo = shown(run_cli, lab, "nixos-demo")
    assert demo == [past["demo"], past["openssh"], past["fragment"], past["first"]]
    pi = shown(run_cli, lab, "pi")
    assert pi == [past["openssh"], past["fragment"], past["pi"], past["first"]]
    # lone uses openssh since its own commit; the paths of today decide, so the openssh
    # change shows in its history too
    assert shown(run_cli, lab, "lone") == [past["lone"], past["openssh"], past["first"]]


def test_the_lab_history_has_every_lab_commit_but_none_outside_it(
    lab: Path, past: dict[str, str], run_cli: RunCli
) -> None:
    every = shown(run_cli, lab)
    assert past["readme"] not in every
    assert every == [
        past[k] for k in ("demo", "lone", "pihole", "openssh", "fragment", "pi", "first")
    ]


def test_limit_keeps_the_newest(lab: Path, past: dict[str, str], run_cli: RunCli) -> None:
    assert shown(run_cli, lab, "pi", "--limit", "2") == [past["openssh"], past["fragment"]]


def test_each_line_has_date_author_subject(
    lab: Path, past: dict[str, str], run_cli: RunCli
) -> None:
    code, out, _ = run_cli("--lab", str(lab), "history", "nixos-demo", "--limit", "1")
    assert code == 0
    date = git(lab, "log", "-1", "--format=%ad", "--date=format-local:%Y-%m-%d %H:%M")
    assert (
        out
        == f"{past['demo']}  {date.strip()}  Lab Owner  nixos-demo: user demouser: groups + audio\n"
    )


def test_deployed_commits_are_marked_with_their_hosts(
    lab: Path, past: dict[str, str], run_cli: RunCli
) -> None:
    now = datetime.now().astimezone()
    full = git(lab, "rev-parse", past["fragment"]).strip()
    record_deploy(lab, "pi", full, "switch", "ok", now - timedelta(minutes=2), now)
    record_deploy(lab, "nixos-demo", head(lab), "switch", "failed", now, now)  # not deployed
    code, out, _ = run_cli("--lab", str(lab), "history", "nixos-demo")
    assert code == 0
    marks = {line.split()[0]: line.endswith("[deployed: pi]") for line in out.splitlines()}
    assert marks == {
        past["demo"]: False,
        past["openssh"]: False,
        past["fragment"]: True,
        past["first"]: True,
    }


def test_show_gives_the_profile_changes_and_the_nix_diff(
    lab: Path, past: dict[str, str], run_cli: RunCli
) -> None:
    code, out, err = run_cli(
        "--lab", str(lab), "history", "pi", "--show", past["fragment"], "--color", "never"
    )
    assert code == 0, err
    assert f"commit {git(lab, 'rev-parse', past['fragment']).strip()}" in out
    assert "\npi:\n  host.timezone Europe/Berlin -> Europe/Paris\n" in out
    assert "--- a/hosts/pi/configuration.nix\n+++ b/hosts/pi/configuration.nix\n" in out
    assert any(line.startswith("+") and "Europe/Paris" in line for line in out.splitlines())
    assert any(line.startswith("-") and "Europe/Berlin" in line for line in out.splitlines())
    assert "nixos-demo/" not in out  # only this host's files


def test_show_in_colour_colours_the_diff(lab: Path, past: dict[str, str], run_cli: RunCli) -> None:
    code, out, _ = run_cli(
        "--lab", str(lab), "history", "pi", "--show", past["pi"], "--color", "always"
    )
    assert code == 0
    assert "\033[32m+" in out and "\033[31m-" in out


def test_a_host_removed_from_the_lab_keeps_its_history(
    lab: Path, past: dict[str, str], run_cli: RunCli
) -> None:
    (lab / "hosts/lone/profile.yaml").unlink()
    gone = build_commit(run_cli, lab)
    # no profile today: its folder is followed
    assert shown(run_cli, lab, "lone") == [gone, past["lone"], past["first"]]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["nixos-demo", "--show", "no-such-rev"], "unknown revision 'no-such-rev'"),
        (["ghost"], "no host named 'ghost'"),
        (["--show", "HEAD"], "--show REV needs a HOST"),
        (["pi", "--limit", "0"], "--limit must be 1 or more"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    lab: Path, run_cli: RunCli, args: list[str], says: str
) -> None:
    before = snapshot(lab)
    code, out, err = run_cli("--lab", str(lab), "history", *args)
    assert code == 2
    assert says in err
    assert out == ""
    assert snapshot(lab) == before


def test_an_unknown_host_is_refused_after_one_read_of_each_profile(
    lab: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the search by host.name and the refusal's hint share one read of the lab: on a lab
    # of 1000 hosts each read is over a second
    import homelab.yamlfile as yamlfile

    real = yamlfile.load_text
    reads: Counter[str] = Counter()

    def counting(name: str, *rest: Any, **named: Any) -> Any:
        reads[name] += 1
        return real(name, *rest, **named)

    monkeypatch.setattr(yamlfile, "load_text", counting)
    code, _, err = run_cli("--lab", str(lab), "history", "ghost")
    assert code == 2 and "no host named 'ghost'" in err
    profiles = {str(p.relative_to(lab)) for p in lab.glob("hosts/*/profile.yaml")}
    assert profiles and {n for n in reads if n.endswith("/profile.yaml")} == profiles
    assert set(reads.values()) == {1}


def test_show_at_a_revision_before_the_host_existed(lab: Path, run_cli: RunCli) -> None:
    first = head(lab)
    write(lab, "hosts/nas/profile.yaml", 'host:\n  stateVersion: "24.11"\n')
    build_commit(run_cli, lab)
    before = snapshot(lab)
    code, _, err = run_cli("--lab", str(lab), "history", "nas", "--show", first)
    assert code == 2
    assert f"host 'nas' did not exist at {first[:7]}" in err
    assert f"its profile was added in {head(lab)[:7]}" in err
    assert snapshot(lab) == before


def test_a_tag_follows_every_host_that_has_it(
    lab: Path, past: dict[str, str], run_cli: RunCli
) -> None:
    edit(lab, "hosts/lone/profile.yaml", "host:\n", "deploy: {tags: [media]}\nhost:\n")
    edit(lab, "hosts/pi/profile.yaml", "host:\n", "deploy: {tags: [media]}\nhost:\n")
    tagged = build_commit(run_cli, lab)
    assert shown(run_cli, lab, "@media") == [
        tagged,
        *(past[k] for k in ("lone", "openssh", "fragment", "pi", "first")),
    ]


def test_a_host_is_found_by_its_name_as_well_as_its_folder(
    lab: Path, past: dict[str, str], run_cli: RunCli
) -> None:
    edit(lab, "hosts/lone/profile.yaml", "host:\n", "host:\n  name: jukebox\n")
    named = build_commit(run_cli, lab)
    assert shown(run_cli, lab, "jukebox") == shown(run_cli, lab, "lone")
    assert shown(run_cli, lab, "jukebox")[:2] == [named, past["lone"]]


def test_a_lab_with_no_commit_yet_has_no_history(tmp_path: Path, run_cli: RunCli) -> None:
    root = make_lab(tmp_path / "lab")
    for word in ("pi", "ghost", "@media"):
        code, out, err = run_cli("--lab", str(root), "history", word)
        assert (code, out, err) == (0, f"no commits yet touching {word}\n", "")


def test_a_lab_in_a_folder_of_a_bigger_repository_follows_its_own_paths(
    tmp_path: Path, run_cli: RunCli
) -> None:
    top = tmp_path / "top"
    root = make_lab(top / "infra" / "lab", repository=False)
    git(top, "init", "-q", "-b", "main")
    git(top, "config", "user.name", "Lab Owner")
    git(top, "config", "user.email", "owner@example.org")
    write(top, "hosts/pi/profile.yaml", "not the lab's\n")  # the same paths, outside the lab
    first = hand_commit(top, "everything")
    edit(root, "hosts/pi/profile.yaml", "24.05", "24.11")
    pi = hand_commit(top, "pi: 24.11")
    write(top, "hosts/pi/profile.yaml", "still not the lab's\n")
    hand_commit(top, "outside the lab")
    for _ in range(2):  # its paths found, then remembered
        assert shown(run_cli, root, "pi") == [pi, first]
    assert shown(run_cli, root)[:2] == [pi, first]
