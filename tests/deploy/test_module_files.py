"""Module files a profile imports (`modules:`) travel with the host: committed with the
profile, sent to the machine from the commit wherever in the lab they are (beside the
profile, in a sub-folder of it, in hosts/common/), never from the working tree."""

from __future__ import annotations

import os
import re
from pathlib import Path

import git
import pytest

from homelab.deploy.outgoing import files_at, read_sets
from homelab.errors import InvalidInput
from homelab.history.repo import GitSource, open_repository
from tests.conftest import RunCli
from tests.deploy.labs import make_lab
from tests.deploy.test_upload_set import commit_all, shipped
from tests.deploy.tidy import assert_record_holds_what_runs, assert_tidy
from tests.sshd.rig import Rig

MODULES = "modules: [./mods/tlp.nix, ../common/net.nix]\n"
TLP = "{ ... }: { services.tlp.enable = true; }\n"
NET = "{ lib, ... }: { networking.firewall.enable = lib.mkDefault true; }\n"


def _modules(lab: Path) -> None:
    (lab / "hosts" / "web" / "mods").mkdir()
    (lab / "hosts" / "web" / "mods" / "tlp.nix").write_text(TLP)
    (lab / "hosts" / "common").mkdir(exist_ok=True)
    (lab / "hosts" / "common" / "net.nix").write_text(NET)


def test_module_files_are_committed_with_the_profile_and_sent_to_the_machine(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine], extra={"web": MODULES}, commit=False)
    _modules(lab)
    repo = _repository(lab)
    repo.git.add("flake.nix", "services")
    repo.index.commit("the flake and catalogue")  # the profile and its modules are not

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes")

    assert code == 0, out + err
    committed = {item.path for item in repo.head.commit.tree.traverse()}
    assert {"hosts/web/mods/tlp.nix", "hosts/common/net.nix"} <= committed
    sent = shipped(machine)
    assert sent["hosts/web/mods/tlp.nix"] == TLP.encode()
    assert sent["hosts/common/net.nix"] == NET.encode()
    conf = sent["hosts/web/configuration.nix"].decode()
    assert "./mods/tlp.nix" in conf and "../common/net.nix" in conf
    assert_record_holds_what_runs(lab, machine)
    assert_tidy(lab)


def test_a_module_file_changed_but_not_committed_stops_an_apply_without_commit(
    rig: Rig, tmp_path: Path, run_cli: RunCli, home: Path
) -> None:
    machine = rig.add("web")
    lab = make_lab(tmp_path / "lab", [machine], extra={"web": MODULES}, commit=False)
    _modules(lab)
    _repository(lab)
    code, out, err = run_cli("--lab", str(lab), "build")
    assert code == 0, out + err
    commit_all(lab, "a lab with module files")
    (lab / "hosts" / "common" / "net.nix").write_text(NET.replace("true", "false"))

    code, out, err = run_cli("--lab", str(lab), "apply", "--yes", "--no-commit")

    assert code == 2, out + err
    assert re.search(r"^error: hosts/common/net\.nix: changed but not committed", err, re.M)
    assert machine.lines("commands.log") == []


def _repository(lab: Path) -> git.Repo:
    repo = git.Repo.init(lab)
    with repo.config_writer() as config:
        config.set_value("user", "name", "Test")
        config.set_value("user", "email", "test@example.org")
    return repo


def test_the_upload_set_holds_the_module_files_as_the_commit_has_them(tmp_path: Path) -> None:
    lab = make_lab(tmp_path / "lab", [], commit=False)
    (lab / "hosts" / "web").mkdir()
    (lab / "hosts" / "web" / "configuration.nix").write_text("{ ... }: { }\n")
    _modules(lab)
    repo = _repository(lab)
    repo.git.add("--all")
    commit = repo.index.commit("module files").hexsha
    (lab / "hosts" / "common" / "net.nix").write_text("# changed, not committed\n")
    modules = ("hosts/common/net.nix", "hosts/web/mods/tlp.nix")

    files = files_at(open_repository(lab), commit, "web", flake=True, modules=modules)

    assert files["hosts/common/net.nix"] == NET.encode()  # the commit's, not the disk's
    assert files["hosts/web/mods/tlp.nix"] == TLP.encode()
    # without modules: a sub-folder or hosts/common never goes
    plain = files_at(open_repository(lab), commit, "web", flake=True)
    assert "hosts/common/net.nix" not in plain and "hosts/web/mods/tlp.nix" not in plain


def test_a_module_file_the_commit_lacks_or_holds_as_a_link_is_refused(tmp_path: Path) -> None:
    lab = make_lab(tmp_path / "lab", [], commit=False)
    (lab / "hosts" / "web").mkdir()
    (lab / "hosts" / "web" / "configuration.nix").write_text("{ ... }: { }\n")
    (lab / "hosts" / "common").mkdir()
    os.symlink("../web/configuration.nix", lab / "hosts" / "common" / "link.nix")
    repo = _repository(lab)
    repo.git.add("--all")
    commit = repo.index.commit("a link").hexsha

    with pytest.raises(InvalidInput) as refused:
        files_at(
            open_repository(lab), commit, "web", flake=True,
            modules=("hosts/common/link.nix", "hosts/common/missing.nix"),
        )  # fmt: skip

    assert [str(p).split("\n")[0] for p in refused.value.problems] == [
        "hosts/common/link.nix: is a symbolic link: homelab never sends what a link points to",
        f"hosts/common/missing.nix: is a module web imports, but commit {commit[:7]} does not "
        "hold it",
    ]


def test_hosts_planned_together_each_get_only_their_own_files(tmp_path: Path) -> None:
    """The hosts of one apply share one reading of the commit: what one imports never
    goes to the other, and each gets what it would get alone."""
    lab = make_lab(tmp_path / "lab", [], commit=False)
    for host in ("web", "db"):
        (lab / "hosts" / host).mkdir()
        (lab / "hosts" / host / "configuration.nix").write_text(f"# {host}\n{{ ... }}: {{ }}\n")
    _modules(lab)
    repo = _repository(lab)
    repo.git.add("--all")
    commit = repo.index.commit("two hosts").hexsha
    lr = open_repository(lab)
    web_modules = ("hosts/common/net.nix", "hosts/web/mods/tlp.nix")
    at = GitSource(lr, commit)
    read_sets(at, [("web", True, web_modules, ()), ("db", True, (), ())])

    web = files_at(lr, commit, "web", flake=True, modules=web_modules, at=at)
    db = files_at(lr, commit, "db", flake=True, at=at)

    assert web == files_at(lr, commit, "web", flake=True, modules=web_modules)
    assert db == files_at(lr, commit, "db", flake=True)
    assert db["hosts/db/configuration.nix"] == b"# db\n{ ... }: { }\n"
    assert not any(rel.startswith(("hosts/web/", "hosts/common/")) for rel in db)
    assert "hosts/common/net.nix" in web and "hosts/db/configuration.nix" not in web
