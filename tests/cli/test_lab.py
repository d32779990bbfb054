"""The lab's commands (homelab.cli.lab): init, hosts, schema, validate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import git
import jsonschema
import pytest

from homelab.lab import Lab
from tests.conftest import REPO, RunCli, tree_hash


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m homelab ARGS` in a new process, as a person's shell would run it."""
    env = {k: v for k, v in os.environ.items() if k != "HOMELAB_LAB"}
    return subprocess.run(
        [sys.executable, "-m", "homelab", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


# ---- init ---------------------------------------------------------------------------


def test_init_makes_a_lab_that_validates(tmp_path: Path) -> None:
    lab = tmp_path / "mylab"
    result = run("init", str(lab))
    assert result.returncode == 0, result.stderr
    assert (lab / "flake.nix").is_file()
    assert (lab / ".gitignore").is_file()
    assert (lab / "hosts" / "common").is_dir()
    assert (lab / "hosts" / "example" / "profile.yaml").is_file()
    catalogue = sorted(p.name for p in (REPO / "services").glob("*.yaml"))
    assert catalogue, "the repository has a catalogue"
    assert sorted(p.name for p in (lab / "services").glob("*.yaml")) == catalogue
    for name in catalogue:
        assert (lab / "services" / name).read_bytes() == (REPO / "services" / name).read_bytes()
    assert not list(tmp_path.glob(".*")), "no staging folder left behind"

    repo = git.Repo(lab)
    assert len(list(repo.iter_commits())) == 1
    assert not repo.is_dirty(untracked_files=True)
    tracked = {item.path for item in repo.head.commit.tree.traverse()}  # type: ignore[union-attr]
    assert {"flake.nix", ".gitignore", "hosts/example/profile.yaml"} <= tracked

    check = run("validate", cwd=lab / "hosts")
    assert check.returncode == 0, check.stderr
    assert check.stdout == "1 host valid: example\n"


def test_init_refuses_a_folder_with_something_in_it(tmp_path: Path, run_cli: RunCli) -> None:
    lab = tmp_path / "mine"
    lab.mkdir()
    (lab / "notes.txt").write_text("my notes\n")
    before = tree_hash(tmp_path)
    code, out, err = run_cli("init", str(lab))
    assert code == 2 and out == ""
    assert "not empty" in err and str(lab) in err
    assert tree_hash(tmp_path) == before


def test_init_refuses_a_file(tmp_path: Path, run_cli: RunCli) -> None:
    target = tmp_path / "lab"
    target.write_text("a file\n")
    before = tree_hash(tmp_path)
    code, _, err = run_cli("init", str(target))
    assert code == 2 and "error:" in err
    assert tree_hash(tmp_path) == before


# ---- hosts --------------------------------------------------------------------------


def test_hosts_prints_a_table(basic_lab: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("--lab", str(basic_lab), "hosts")
    assert (code, err) == (0, "")
    header, *rows = out.splitlines()
    assert header.split() == ["HOST", "SYSTEM", "ADDRESS", "TAGS", "SERVICES"]
    assert [r.split()[:4] for r in rows] == [
        ["alpha", "x86_64-linux", "192.168.1.30", "lab,server,media"],
        ["beta", "aarch64-linux", "beta.lan", "lab,board"],
    ]
    assert rows[0].endswith("openssh, jellyfin, docker")
    # columns line up
    column = header.index("ADDRESS")
    assert all(r[column - 2 : column] == "  " and r[column] != " " for r in rows)


def test_hosts_shows_an_invalid_host_and_says_so(basic_lab: Path, run_cli: RunCli) -> None:
    profile = basic_lab / "hosts" / "beta" / "profile.yaml"
    profile.write_text(profile.read_text().replace('"23.11"', "23.11"))
    code, out, err = run_cli("--lab", str(basic_lab), "hosts")
    assert code == 0
    assert [r.split()[:2] for r in out.splitlines()[1:]] == [
        ["alpha", "x86_64-linux"],
        ["beta", "(invalid)"],
    ]
    assert "1 invalid host(s)" in err and "homelab validate" in err


def test_hosts_after_a_build_lists_the_same_table(basic_lab: Path, run_cli: RunCli) -> None:
    before = run_cli("--lab", str(basic_lab), "hosts")
    assert run_cli("--lab", str(basic_lab), "build")[0] == 0
    assert run_cli("--lab", str(basic_lab), "hosts") == before


def hosts_column(run_cli: RunCli, lab: Path) -> tuple[list[list[str]], str]:
    code, out, err = run_cli("--lab", str(lab), "hosts")
    assert code == 0
    return [r.split()[:2] for r in out.splitlines()[1:]], err


def test_hosts_shows_a_host_broken_since_the_last_build(basic_lab: Path, run_cli: RunCli) -> None:
    assert run_cli("--lab", str(basic_lab), "build")[0] == 0
    profile = basic_lab / "hosts" / "beta" / "profile.yaml"
    profile.write_text(profile.read_text().replace('"23.11"', "23.11"))
    rows, err = hosts_column(run_cli, basic_lab)
    assert rows == [["alpha", "x86_64-linux"], ["beta", "(invalid)"]]
    assert "1 invalid host(s)" in err


def test_hosts_shows_hosts_broken_by_a_fragment_since_the_last_build(
    basic_lab: Path, run_cli: RunCli
) -> None:
    assert run_cli("--lab", str(basic_lab), "build")[0] == 0
    base = basic_lab / "hosts" / "common" / "base.yaml"
    base.write_text(base.read_text().replace("automatic: true", "automatic: sometimes"))
    rows, err = hosts_column(run_cli, basic_lab)
    assert rows == [["alpha", "(invalid)"], ["beta", "(invalid)"]]
    assert "2 invalid host(s)" in err


def test_hosts_shows_a_host_whose_service_left_the_catalogue_since_the_last_build(
    basic_lab: Path, run_cli: RunCli
) -> None:
    assert run_cli("--lab", str(basic_lab), "build")[0] == 0
    (basic_lab / "services" / "tailscale.yaml").unlink()  # beta's
    rows, err = hosts_column(run_cli, basic_lab)
    assert rows == [["alpha", "x86_64-linux"], ["beta", "(invalid)"]]
    assert "1 invalid host(s)" in err


# ---- schema -------------------------------------------------------------------------


def schema_from_cli(run_cli: RunCli) -> dict[str, object]:
    code, out, err = run_cli("schema")
    assert (code, err) == (0, "")
    schema: dict[str, object] = json.loads(out)
    return schema


def test_schema_is_a_valid_json_schema(run_cli: RunCli) -> None:
    schema = schema_from_cli(run_cli)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"


def test_the_demo_profiles_validate_against_the_schema(run_cli: RunCli) -> None:
    validator = jsonschema.Draft202012Validator(schema_from_cli(run_cli))
    state = Lab(REPO).load()
    assert state.hosts, "the repository has demo hosts"
    for folder, host in state.hosts.items():
        assert host.document is not None
        errors = [e.message for e in validator.iter_errors(host.document.data)]
        assert errors == [], folder


def test_the_schema_refuses_what_validate_refuses(run_cli: RunCli) -> None:
    validator = jsonschema.Draft202012Validator(schema_from_cli(run_cli))
    assert not validator.is_valid({"host": {"stateVersion": 23.11}})
    assert not validator.is_valid({"host": {"stateVersion": "23.11"}, "netwroking": {}})
    assert validator.is_valid({"host": {"stateVersion": "23.11"}})


# ---- validate -----------------------------------------------------------------------


def test_validate_all_then_one_tag(basic_lab: Path, run_cli: RunCli) -> None:
    assert run_cli("--lab", str(basic_lab), "validate") == (0, "2 hosts valid: alpha, beta\n", "")
    code, out, _ = run_cli("--lab", str(basic_lab), "validate", "@server")
    assert (code, out) == (0, "1 host valid: alpha\n")


def test_validate_a_tag_checks_only_its_hosts(basic_lab: Path, run_cli: RunCli) -> None:
    profile = basic_lab / "hosts" / "beta" / "profile.yaml"
    profile.write_text(profile.read_text().replace("tailscale: {}", "tailscal: {}"))
    code, out, _ = run_cli("--lab", str(basic_lab), "validate", "@media")
    assert (code, out) == (0, "1 host valid: alpha\n")
    code, out, err = run_cli("--lab", str(basic_lab), "validate", "@board")
    assert code == 2 and out == ""
    assert "error: hosts/beta/profile.yaml:12:3: services.tailscal: unknown service" in err
    assert err.splitlines()[-1] == "1 problem in 1 file"


def test_validate_prints_warnings_and_still_succeeds(basic_lab: Path, run_cli: RunCli) -> None:
    alpha = basic_lab / "hosts" / "alpha" / "profile.yaml"
    alpha.write_text(alpha.read_text().replace("groups: [docker]", "groups: [docker, nosuchgroup]"))
    beta = basic_lab / "hosts" / "beta" / "profile.yaml"
    beta.write_text(beta.read_text().replace("/: {device", "/data: {device"))
    code, out, err = run_cli("--lab", str(basic_lab), "validate")
    assert (code, out) == (0, "2 hosts valid: alpha, beta\n")
    lines = err.splitlines()
    assert lines[0] == (
        "warning: hosts/alpha/profile.yaml:18:22: users.alice.groups[1]: "
        "unknown group 'nosuchgroup'"
    )
    assert lines[1].startswith("    hint: did you mean 'nogroup'?")
    assert lines[2].startswith("warning: hosts/beta/profile.yaml:")
    assert "hardware.fileSystems: no root file system" in lines[2]
    assert "homelab adopt" in lines[3]
    assert "error" not in err
    code, out, _ = run_cli("--lab", str(basic_lab), "build")
    assert code == 0 and "wrote hosts/alpha/users.nix" in out


def test_validate_says_warnings_beside_errors(basic_lab: Path, run_cli: RunCli) -> None:
    alpha = basic_lab / "hosts" / "alpha" / "profile.yaml"
    alpha.write_text(alpha.read_text().replace("groups: [docker]", "groups: [docker, nosuchgroup]"))
    beta = basic_lab / "hosts" / "beta" / "profile.yaml"
    beta.write_text(beta.read_text().replace("tailscale: {}", "tailscal: {}"))
    code, out, err = run_cli("--lab", str(basic_lab), "validate")
    assert code == 2 and out == ""
    assert err.startswith("warning: hosts/alpha/profile.yaml:18:22: users.alice.groups[1]")
    assert "error: hosts/beta/profile.yaml:12:3: services.tailscal: unknown service" in err
    assert err.splitlines()[-1] == "1 problem in 1 file"


@pytest.mark.parametrize("word", ["alpah", "@nope"])
def test_validate_an_unknown_host_or_tag(basic_lab: Path, run_cli: RunCli, word: str) -> None:
    code, out, err = run_cli("--lab", str(basic_lab), "validate", word)
    assert code == 2 and out == ""
    assert err.startswith("error: hosts/: no ")
