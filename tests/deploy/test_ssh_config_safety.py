"""No profile value reaches a shell on the operator's machine. ~/.ssh/config may hold
`Match exec "COMMAND %h"` lines, which paramiko runs in a local shell with the address in
them: an address must be a host name, an IP address or an alias, or it never gets there."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from homelab.deploy.ssh import (
    ADDRESS,
    USER,
    ConnectError,
    Endpoint,
    SshSettings,
    resolve,
    safe_address,
    safe_user,
)
from homelab.patterns import matches
from homelab.profile.schema import profile_schema
from tests.conftest import RunCli

GOOD_ADDRESSES = [
    "web", "web.lan", "WEB-1.example.org.", "my_alias", "192.168.1.10", "fd00::10",
    "fe80::1%eth0", "::1",
]  # fmt: skip
BAD_ADDRESSES = [
    "x$(touch PWNED)", "x`id`", "a;b", "a|b", "a&b", "a>b", "web lan", "web\tlan", "web\n",
    "\nweb", "-oProxyCommand=x", "-web", ".hidden", "a'b", 'a"b', "a\\b", "a/b", "~root",
    "fe80::1%$(id)", "", "x" * 254,
]  # fmt: skip


@pytest.fixture(autouse=True)
def no_input(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """paramiko runs `Match exec` through invoke, which passes our standard input on: give
    it an empty one (pytest's own refuses to be read)."""
    with open(os.devnull) as empty:
        monkeypatch.setattr(sys, "stdin", empty)
        yield


def ssh_home(tmp_path: Path, config: str) -> Path:
    """A HOME whose ~/.ssh/config is `config`."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text(config)
    (home / ".ssh" / "known_hosts").write_text("")
    return home


def test_an_address_with_a_command_is_refused_before_any_ssh_config_sees_it(
    basic_lab: Path, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran = tmp_path / "ran"
    home = ssh_home(tmp_path, f'Match exec "test %h = nothing || touch {ran}"\n  Port 2222\n')
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.chdir(tmp_path)
    evil = basic_lab / "hosts" / "evil"
    evil.mkdir()
    (evil / "profile.yaml").write_text(
        'host: {stateVersion: "24.05"}\ndeploy:\n  address: "x$(touch PWNED)"\n'
    )

    for command in (["validate"], ["apply", "evil", "--yes"]):
        code, out, err = run_cli("--lab", str(basic_lab), *command)

        assert code == 2, out + err
        assert (
            "error: hosts/evil/profile.yaml:3:12: deploy.address: 'x$(touch PWNED)' is not "
            "valid here: A host name, an IP address or a Host alias from ~/.ssh/config"
        ) in err
        assert "no spaces, quotes or shell characters" in err
        assert not ran.exists()
        assert not (tmp_path / "PWNED").exists()
        assert not (basic_lab / "PWNED").exists()


def test_ssh_never_hands_a_name_that_is_not_one_to_the_config(tmp_path: Path) -> None:
    # whoever calls it (a front end that skipped validation, a name typed for adopt)
    ran = tmp_path / "ran"
    home = ssh_home(tmp_path, f'Match exec "test %h = nothing || touch {ran}"\n  Port 2222\n')
    settings = SshSettings.from_home(home)

    for address in ["x$(touch PWNED)", "-oProxyCommand=x", "web\n"]:
        with pytest.raises(ConnectError, match="not a host name, an IP address or an ssh_config"):
            resolve(Endpoint(address), settings)
    with pytest.raises(ConnectError, match="is not a user name"):
        resolve(Endpoint("web", user="root;id"), settings)

    assert not ran.exists()
    assert not (tmp_path / "PWNED").exists()


def test_a_match_exec_line_still_works_and_runs_with_the_checked_name_only(
    tmp_path: Path,
) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    home = ssh_home(tmp_path, f'Match exec "touch {marks}/%h"\n  Port 2222\n  User deployer\n')

    route = resolve(Endpoint("web.lan"), SshSettings.from_home(home))

    assert (route.port, route.user) == (2222, "deployer")
    assert [p.name for p in marks.iterdir()] == ["web.lan"]


def test_the_profile_schema_and_ssh_accept_the_same_addresses_and_users() -> None:
    deploy = profile_schema()["properties"]["deploy"]["properties"]
    assert deploy["address"]["pattern"] == f"^(?:{ADDRESS})$"
    assert deploy["user"]["pattern"] == f"^{USER}$"
    for address in GOOD_ADDRESSES:
        assert safe_address(address), address
        assert matches(deploy["address"]["pattern"], address), address
    for address in BAD_ADDRESSES:
        assert not safe_address(address), address
        assert not matches(deploy["address"]["pattern"], address), address
    for user in ["root", "deployer", "nix_admin", "j.doe", getpass.getuser()]:
        assert safe_user(user) and matches(deploy["user"]["pattern"], user), user
    for user in ["root;id", "a b", "-root", "root\n", "$(id)", "x" * 33, ""]:
        assert not safe_user(user) and not matches(deploy["user"]["pattern"], user), user
