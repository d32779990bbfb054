"""Only what the recorded commit holds goes to a machine: read from git, never from the
working tree; never an untracked or ignored file, never what a link points to, never a
secret; and no apply while a file that goes out has changes the commit would not take."""

from __future__ import annotations

import os
import re
from pathlib import Path

import git
import pytest

from homelab.deploy.outgoing import files_at, secret_paths
from homelab.errors import InvalidInput
from homelab.history.records import deploy_log
from homelab.history.repo import open_repository
from tests.conftest import RunCli
from tests.deploy.labs import make_lab
from tests.deploy.tidy import assert_record_holds_what_runs, assert_tidy
from tests.sshd.rig import Machine, Rig

SECRET = "psk=correct-horse-battery-staple"


def shipped(machine: Machine) -> dict[str, bytes]:
    """Every file in the configuration homelab put in place on the machine."""
    config = machine.state() / "config"
    return {
        str(p.relative_to(config)): p.read_bytes()
        for p in config.rglob("*")
        if p.is_file() and not p.name.startswith(".homelab")
    }


def everything_on(machine: Machine) -> str:
    """All the bytes of the machine's store and of homelab's state folder."""
    found = []
    for base in (machine.root / "nix", machine.state()):
        for p in base.rglob("*"):
            if p.is_file() and not p.is_symlink():
                found.append(p.read_text(errors="replace"))
    return "\n".join(found)


def commit_all(lab: Path, message: str) -> None:
    repo = git.Repo(lab)
    repo.git.add("--all")
    repo.index.commit(message)


def test_untracked_and_ignored_files_never_go_and_the_record_names_what_went(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    folder = lab / "hosts" / "web"
    (lab / ".gitignore").write_text("*.key\n")
    commit_all(lab, "keys stay out of git")
    (folder / "notes.nix").write_text(f"# {SECRET} (a draft, never added)\n{{ }}\n")
    (folder / "wifi.key").write_text(SECRET + "\n")  # ignored by git

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")

    assert code == 0, out + err
    files = shipped(machine)
    assert "hosts/web/notes.nix" not in files
    assert "hosts/web/wifi.key" not in files
    assert SECRET not in everything_on(machine)
    head = git.Repo(lab).head.commit
    for rel, data in files.items():
        assert head.tree[rel].data_stream.read() == data, rel
    assert [r.commit for r in deploy_log(lab, "web")] == [head.hexsha]
    assert_record_holds_what_runs(lab, machine)
    (folder / "notes.nix").unlink()  # the person's draft: all that git does not know
    assert_tidy(lab)


def test_a_link_in_the_host_folder_is_refused_and_its_target_never_read(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    outside = tmp_path / "id_ed25519"
    outside.write_text(SECRET + "\n")
    link = lab / "hosts" / "web" / "keys.nix"
    os.symlink(outside, link)
    commit_all(lab, "a link to a file outside the lab")
    before = git.Repo(lab).head.commit.hexsha

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")

    assert code == 2, out + err
    assert "hosts/web/keys.nix: is a symbolic link: homelab never sends what a link points" in err
    assert "hint: put the file itself in its place" in err
    assert git.Repo(lab).head.commit.hexsha == before  # refused before any commit
    assert machine.lines("commands.log") == []
    assert SECRET not in everything_on(machine)


def test_an_untracked_link_is_not_sent_and_not_refused(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    outside = tmp_path / "id_ed25519"
    outside.write_text(SECRET + "\n")
    os.symlink(outside, lab / "hosts" / "web" / "keys.nix")
    (lab / ".git" / "info" / "exclude").write_text("hosts/web/keys.nix\n")

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")

    assert code == 0, out + err
    assert "hosts/web/keys.nix" not in shipped(machine)
    assert SECRET not in everything_on(machine)
    assert_tidy(lab)


def test_a_changed_file_the_commit_would_not_take_stops_the_apply(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    extra = lab / "hosts" / "web" / "extra.nix"
    extra.write_text("{ ... }: { }\n")
    commit_all(lab, "a module of the person's")
    extra.write_text("{ ... }: { networking.firewall.enable = false; }\n")
    flake = lab / "flake.nix"
    flake.write_text(flake.read_text() + "# an edit not committed\n")
    before = git.Repo(lab).head.commit.hexsha

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")

    assert code == 2, out + err
    assert re.search(r"^error: hosts/web/extra\.nix: changed but not committed", err, re.M)
    assert re.search(r"^error: flake\.nix: changed but not committed", err, re.M)
    assert "hint: commit it (git add hosts/web/extra.nix && git commit)" in err
    assert git.Repo(lab).head.commit.hexsha == before  # nothing committed
    assert machine.lines("commands.log") == []
    # once committed, it goes out as committed
    commit_all(lab, "the person's change")
    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")
    assert code == 0, out + err
    assert b"firewall" in shipped(machine)["hosts/web/extra.nix"]
    assert_record_holds_what_runs(lab, machine)
    assert_tidy(lab)


def test_profile_changes_are_committed_and_sent_as_committed(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    profile = lab / "hosts" / "web" / "profile.yaml"
    profile.write_text(profile.read_text().replace("packages: [hello]", "packages: [hello, vim]"))

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")

    assert code == 0, out + err
    head = git.Repo(lab).head.commit
    assert "hosts/web/profile.yaml" in head.stats.files
    assert b"vim" in b"".join(shipped(machine).values())
    assert deploy_log(lab, "web")[0].commit == head.hexsha
    assert_record_holds_what_runs(lab, machine)
    assert_tidy(lab)


def test_no_commit_sends_head_and_refuses_what_head_does_not_hold(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine])
    code, out, err = run_cli("--lab", str(lab), "build", "--commit")
    assert code == 0, out + err
    profile = lab / "hosts" / "web" / "profile.yaml"
    profile.write_text(profile.read_text().replace("packages: [hello]", "packages: [git]"))

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", "--no-commit")

    assert code == 2, out + err
    assert "hosts/web/system.nix: changed but not committed" in err
    assert "without --no-commit homelab commits its own files" in err
    assert machine.lines("commands.log") == []
    git.Repo(lab).git.checkout("--", ".")  # the person undoes the change
    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", "--no-commit")
    assert code == 0, out + err
    head = git.Repo(lab).head.commit.hexsha
    assert deploy_log(lab, "web")[0].commit == head
    assert b"pkgs.git" not in b"".join(shipped(machine).values())
    assert_record_holds_what_runs(lab, machine)
    assert_tidy(lab)


def test_a_secret_source_stays_out_of_the_flake_however_it_is_spelled(tmp_path: Path) -> None:
    lab = make_lab(tmp_path / "lab", [], commit=False)
    folder = lab / "hosts" / "web"
    folder.mkdir()
    (folder / "configuration.nix").write_text("{ ... }: { }\n")
    (folder / "wifi.psk").write_text(SECRET + "\n")
    repo = git.Repo.init(lab)
    repo.git.add("--all")
    commit = repo.index.commit("a secret inside the host folder").hexsha
    lr = open_repository(lab)

    for spelled in ("hosts/web/wifi.psk", "./hosts/web/wifi.psk", "hosts//web/../web/wifi.psk",
                    str(lab / "hosts" / "web" / "wifi.psk")):  # fmt: skip
        files = files_at(lr, commit, "web", flake=True, secrets=secret_paths(lab, [spelled]))
        assert "hosts/web/wifi.psk" not in files, spelled
        assert "hosts/web/configuration.nix" in files
    # a link elsewhere that points at it names it too
    (lab / "secrets").mkdir()
    os.symlink(folder / "wifi.psk", lab / "secrets" / "wifi")
    files = files_at(lr, commit, "web", flake=True, secrets=secret_paths(lab, ["secrets/wifi"]))
    assert "hosts/web/wifi.psk" not in files


def test_a_host_folder_that_is_a_link_in_the_commit_sends_nothing(tmp_path: Path) -> None:
    lab = make_lab(tmp_path / "lab", [], commit=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "configuration.nix").write_text(f"# {SECRET}\n{{ ... }}: {{ }}\n")
    os.symlink(elsewhere, lab / "hosts" / "web")
    repo = git.Repo.init(lab)
    repo.git.add("--all")
    commit = repo.index.commit("a host folder that is a link").hexsha

    with pytest.raises(InvalidInput) as refused:
        files_at(open_repository(lab), commit, "web", flake=True)

    assert [str(p) for p in refused.value.problems] == [
        "hosts/web: is a symbolic link: homelab never sends what a link points to\n"
        "    hint: put the file itself in its place (and commit it), or remove the link"
    ]
