"""`homelab build --commit`: one commit of profiles and generated files, said for people,
and nothing of the person's other work touched."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from homelab.history import commit_lab
from homelab.lab import Lab
from tests.history.tools import (
    count,
    edit,
    files_in,
    git,
    head,
    identify,
    make_lab,
    message,
    show,
    touched,
    write,
)

RunCli = Callable[..., tuple[int, str, str]]
DEMO = "hosts/nixos-demo/profile.yaml"


def build_commit(run_cli: RunCli, root: Path, *args: str) -> str:
    code, out, err = run_cli("--lab", str(root), "build", "--commit", *args)
    assert code == 0, err
    return out


def test_the_first_commit_holds_profiles_generated_files_and_catalogue(lab: Path) -> None:
    files = files_in(lab, "HEAD")
    assert {"hosts/nixos-demo/profile.yaml", "hosts/common/base.yaml"} <= files
    assert "hosts/nixos-demo/configuration.nix" in files
    assert "services/pihole.yaml" in files
    assert "flake.nix" not in files  # the person's file: not ours to commit
    assert message(lab).splitlines()[0] == "lone, nixos-demo, pi: a new lab"


def test_message_names_the_changed_host_and_says_what_changed(lab: Path, run_cli: RunCli) -> None:
    edit(lab, DEMO, "  openssh: {}\n", "  openssh: {}\n  pihole: {}\n  docker: {}\n")
    edit(lab, DEMO, "groups: [wheel]", "groups: [wheel, docker]")
    before = head(lab)
    out = build_commit(run_cli, lab)
    text = message(lab)
    subject, _, body = text.partition("\n\n")
    assert subject.startswith("nixos-demo: ")
    assert "pi" not in subject.split(":")[0].split(", ") and "lone" not in subject
    assert body.strip() == (
        "nixos-demo:\n"
        "- users.demouser.groups: + docker\n"
        "- services.pihole: added\n"
        "- services.docker: added"
    )
    # profile and generated files in one commit, on top of the last one
    assert git(lab, "rev-parse", "HEAD^").strip() == before
    assert touched(lab, "HEAD") >= {
        DEMO,
        "hosts/nixos-demo/services.nix",
        "hosts/nixos-demo/users.nix",
    }
    assert not any(p.startswith(("hosts/pi/", "hosts/lone/")) for p in touched(lab, "HEAD"))
    assert f"committed {head(lab)[:7]} {subject}" in out


def test_the_persons_words_come_first(lab: Path, run_cli: RunCli) -> None:
    edit(lab, DEMO, "  openssh: {}\n", "  openssh: {}\n  pihole: {}\n")
    build_commit(run_cli, lab, "-m", "block ads for the whole house\n\nthe kids' tablets too")
    assert message(lab) == (
        "nixos-demo: block ads for the whole house\n\n"
        "the kids' tablets too\n\n"
        "nixos-demo:\n"
        "- services.pihole: added\n"
    )


def test_a_fragment_change_names_every_host_that_includes_it(lab: Path, run_cli: RunCli) -> None:
    edit(lab, "hosts/common/base.yaml", "Europe/Berlin", "Europe/Paris")
    build_commit(run_cli, lab)
    lines = message(lab).splitlines()
    assert lines[0] == "nixos-demo, pi: host.timezone Europe/Berlin -> Europe/Paris"
    assert "lone:" not in message(lab)
    assert "hosts/common/base.yaml" in touched(lab, "HEAD")


def test_a_catalogue_change_is_said_for_the_hosts_using_the_entry(
    lab: Path, run_cli: RunCli
) -> None:
    edit(
        lab,
        "services/jellyfin.yaml",
        "enable: true",
        "enable: true\n  services.jellyfin.user: media",
    )
    build_commit(run_cli, lab)
    assert message(lab) == (
        "lone: catalogue entry jellyfin changed\n\nlone:\n- catalogue entry jellyfin changed\n"
    )
    assert touched(lab, "HEAD") == {"services/jellyfin.yaml", "hosts/lone/services.nix"}


def test_what_the_person_staged_elsewhere_stays_staged_and_unchanged(
    lab: Path, run_cli: RunCli
) -> None:
    git(lab, "add", "flake.nix")
    git(lab, "commit", "-q", "-m", "the flake, by hand")
    write(lab, "README.md", "first draft\n")
    git(lab, "add", "README.md")
    write(lab, "README.md", "second draft, not staged\n")  # staged and worktree differ
    edit(lab, "flake.nix", "_: { }", "_: { x = 1; }")  # changed, not staged
    write(lab, "hosts/pi/notes.md", "a person's notes beside the profile\n")
    staged_before = git(lab, "diff", "--cached", "--name-status")
    blob_before = git(lab, "ls-files", "--stage", "README.md")
    edit(lab, DEMO, "groups: [wheel]", "groups: [wheel, audio]")
    build_commit(run_cli, lab)
    assert touched(lab, "HEAD") == {DEMO, "hosts/nixos-demo/users.nix"}
    assert git(lab, "diff", "--cached", "--name-status") == staged_before == "A\tREADME.md\n"
    assert git(lab, "ls-files", "--stage", "README.md") == blob_before
    assert (lab / "README.md").read_text() == "second draft, not staged\n"
    status = git(lab, "status", "--porcelain")
    assert "AM README.md" in status and " M flake.nix" in status
    assert "?? hosts/pi/notes.md" in status
    # and the committed paths are clean in the index too
    assert DEMO not in status


def test_nothing_changed_makes_no_commit(lab: Path, run_cli: RunCli) -> None:
    before = head(lab)
    out = build_commit(run_cli, lab)
    assert "nothing to commit" in out
    assert head(lab) == before


def test_building_one_host_commits_only_that_host(lab: Path, run_cli: RunCli) -> None:
    edit(lab, DEMO, "groups: [wheel]", "groups: [wheel, audio]")
    edit(lab, "hosts/pi/profile.yaml", "24.05", "24.11")
    build_commit(run_cli, lab, "pi")
    assert touched(lab, "HEAD") == {"hosts/pi/profile.yaml", "hosts/pi/configuration.nix"}
    assert message(lab).splitlines()[0] == "pi: host.stateVersion 24.05 -> 24.11"
    assert " M " + DEMO in git(lab, "status", "--porcelain")


def test_a_removed_host_is_committed_as_removed(lab: Path, run_cli: RunCli) -> None:
    (lab / "hosts/lone/profile.yaml").unlink()
    build_commit(run_cli, lab)
    assert message(lab).splitlines()[0] == "lone: host removed"
    assert not any(p.startswith("hosts/lone/") for p in files_in(lab, "HEAD"))
    assert not (lab / "hosts/lone/configuration.nix").exists()


def test_a_lab_that_is_not_a_repository_gets_one(tmp_path: Path, run_cli: RunCli) -> None:
    root = make_lab(tmp_path / "lab", repository=False)
    code, _, err = run_cli("--lab", str(root), "build")
    assert code == 0, err
    # git knows no one here: refused before a repository is made
    code, _, err = run_cli("--lab", str(root), "build", "--commit")
    assert code == 2
    assert "git does not know who you are" in err
    assert not (root / ".git").exists()
    # with an identity: a repository, and the lab's files in a first commit
    home = tmp_path / "home"
    home.mkdir()
    git(home, "config", "--file", os.environ["GIT_CONFIG_GLOBAL"], "user.name", "Lab Owner")
    git(home, "config", "--file", os.environ["GIT_CONFIG_GLOBAL"], "user.email", "o@example.org")
    commit = commit_lab(Lab(root))
    assert commit is not None
    assert count(root) == 1
    assert show(root, "HEAD", DEMO) == (root / DEMO).read_text()
    assert "flake.nix" not in files_in(root, "HEAD")
    assert commit_lab(Lab(root)) is None  # nothing changed since


def test_a_lab_in_a_folder_of_a_bigger_repository(tmp_path: Path, run_cli: RunCli) -> None:
    outer = tmp_path / "dotfiles"
    outer.mkdir()
    git(outer, "init", "-q", "-b", "main")
    identify(outer)
    write(outer, "vimrc", "set number\n")
    git(outer, "add", "vimrc")
    root = make_lab(outer / "lab", repository=False)
    build_commit(run_cli, root)
    files = files_in(outer, "HEAD")
    assert "lab/hosts/pi/profile.yaml" in files and "lab/hosts/pi/configuration.nix" in files
    assert "vimrc" not in files  # staged by the person, still only staged
    assert git(outer, "diff", "--cached", "--name-only") == "vimrc\n"
    edit(root, "hosts/pi/profile.yaml", "24.05", "24.11")
    build_commit(run_cli, root)
    assert message(outer).startswith("pi: host.stateVersion 24.05 -> 24.11\n")
    code, out, err = run_cli("--lab", str(root), "history", "pi")
    assert code == 0, err
    assert len(out.splitlines()) == 2


def _older_layout(lab: Path, rel: str, old: str, new: str) -> None:
    """The generated file as an older homelab laid it out (its header's hash made to
    match, as that homelab wrote it), committed."""
    lines = (lab / rel).read_text().split("\n")
    mark = next(i for i, line in enumerate(lines) if "homelab-hash:" in line)
    body = "\n".join(lines[mark + 1 :])
    assert old in body
    body = body.replace(old, new, 1)
    digest = hashlib.sha256(body.encode()).hexdigest()[:16]
    write(lab, rel, "\n".join([*lines[:mark], f"# homelab-hash: {digest}", body]))
    git(lab, "commit", "-q", "-m", "built by an older homelab", "--", rel)


def test_a_new_layout_of_the_same_nix_is_said_once(lab: Path, run_cli: RunCli) -> None:
    rel = "hosts/nixos-demo/configuration.nix"
    zone = '  time.timeZone = "Europe/Berlin";\n'
    _older_layout(lab, rel, zone, '  time = {\n    timeZone = "Europe/Berlin";\n  };\n')
    code, out, _ = run_cli("--lab", str(lab), "build", "--check")
    assert code == 1 and rel in out
    build_commit(run_cli, lab)
    subject, _, body = message(lab).partition("\n\n")
    assert subject == "nixos-demo: generated Nix: new layout, same meaning"
    assert "generated Nix: new layout, same meaning" in body
    assert zone in show(lab, "HEAD", rel)
    assert run_cli("--lab", str(lab), "build", "--check")[0] == 0


def test_generated_nix_that_means_something_else_is_not_called_a_new_layout(
    lab: Path, run_cli: RunCli
) -> None:
    rel = "hosts/nixos-demo/configuration.nix"
    _older_layout(lab, rel, '"Europe/Berlin"', '"UTC"')
    build_commit(run_cli, lab)
    subject = message(lab).partition("\n\n")[0]
    assert subject == "nixos-demo: generated files rebuilt"


def test_the_body_lists_each_setting_with_its_old_and_new_value(lab: Path, run_cli: RunCli) -> None:
    edit(lab, DEMO, "services:\n", "  alice:\n    groups: [wheel, audio]\nservices:\n")
    edit(lab, DEMO, "  openssh: {}\n", "  openssh: {}\n  pihole: {webPort: 8385}\n")
    build_commit(run_cli, lab)
    subject, _, body = message(lab).partition("\n\n")
    assert subject == "nixos-demo: user alice added; service pihole added"
    assert body == (
        "nixos-demo:\n"
        "- users.alice: added\n"
        "    groups: [wheel, audio]\n"
        "- services.pihole: added\n"
        "    webPort: 8385\n"
    )
    edit(lab, DEMO, "webPort: 8385", "webPort: 8386")
    edit(lab, DEMO, "groups: [wheel, audio]", "groups: [wheel]")
    build_commit(run_cli, lab)
    body = message(lab).partition("\n\n")[2]
    assert body == (
        "nixos-demo:\n- users.alice.groups: - audio\n- services.pihole.webPort: 8385 -> 8386\n"
    )
