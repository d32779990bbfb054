"""A setting that takes a secret, in the editor's forms: a path on the machine or one of
the lab's encrypted secrets, chosen with keys, written back as YAML with its comments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from homelab.tui.screens.commit import CommitDialog
from homelab.tui.widgets import fields as f
from tests.secrets import seclab
from tests.tui.conftest import commit_all, git
from tests.tui.pilot import choose_host, field, focus, open_tab, run, running, screen_text, settle

COMMENT = "# the tailnet's key, rotated every 90 days"


@pytest.fixture
def lab(tmp_path: Path, git_env: None) -> seclab.SecretsLab:
    """The secrets lab (host dns: tailscale, grafana and user ops each name a secret), a
    comment on the tailscale line, one more secret `other`, in a git repository."""
    made = seclab.make(tmp_path)
    made.edit("hosts/dns/profile.yaml", "  tailscale:\n", f"  tailscale:  {COMMENT}\n")
    made.encrypt("other")
    git(made.root, "init", "-q", "-b", "main")
    commit_all(made.root, "a lab with secrets")
    return made


async def services_of(pilot: Pilot[Any], name: str) -> None:
    await open_tab(pilot, "services")
    services = pilot.app.main.query_one(".service-list")
    services.focus()
    services.highlighted = services.get_option_index(name)  # type: ignore[attr-defined]
    await settle(pilot)


async def choose(pilot: Pilot[Any], secret: f.SecretField, label: str) -> None:
    """Open the field's choices and move to the one that reads label, by keys only."""
    await focus(pilot, secret.control)
    await pilot.press("enter")
    await settle(pilot)
    labels = [str(text) for text, _ in secret.control._options]
    here = secret.control.query_one("SelectOverlay").highlighted or 0  # type: ignore[attr-defined]
    there = labels.index(label)
    await pilot.press(*(["down"] * (there - here) if there > here else ["up"] * (here - there)))
    await pilot.press("enter")
    await settle(pilot)


async def save(pilot: Pilot[Any]) -> None:
    await pilot.press("ctrl+s")
    await settle(pilot)
    assert isinstance(pilot.app.screen, CommitDialog)
    await pilot.click("#not-now")
    await settle(pilot)


def note(secret: f.SecretField) -> str:
    """The note under the field."""
    return str(secret.query_one(".field-note").render())


def preview(app: Any) -> str:
    return str(app.main.query_one("#preview-nix").text)


AUTHKEY = ("services", "tailscale", "authKeyFile")


def test_a_secret_shows_by_name_and_another_is_chosen(lab: seclab.SecretsLab) -> None:
    async def scenario() -> None:
        async with running(lab.root) as (app, pilot):
            await choose_host(pilot, "dns")
            await services_of(pilot, "tailscale")
            secret = field(app, AUTHKEY, f.SecretField)
            assert secret.control.value == "secret:tailscale-authkey"
            assert secret.problems == []
            assert not app.session.dirty()  # showing the secret writes nothing
            text = screen_text(app)
            # the choice is cut to the narrow form; the note under it has the file whole
            assert "secret tailscale-auth…" in text
            assert "encrypted/tailscale-authk" in text
            assert note(secret) == "encrypted/tailscale-authkey.age"
            assert '{"secret"' not in text and "is not a secret-path" not in text
            await choose(pilot, secret, "secret other")
            assert "config.age.secrets.other.path" in preview(app)
            assert app.session.dirty() == ["dns"]
            # another secret for grafana's key: its owner stays
            await services_of(pilot, "grafana")
            grafana = field(app, ("services", "grafana", "secretKeyFile"), f.SecretField)
            assert note(grafana) == "encrypted/grafana-key.age; owner grafana"
            await choose(pilot, grafana, "secret tailscale-authkey")
            await save(pilot)

    run(scenario)
    text = lab.profile.read_text()
    assert f"  tailscale:  {COMMENT}\n    authKeyFile: {{secret: other}}\n" in text
    assert "secretKeyFile: {secret: tailscale-authkey, owner: grafana}" in text


def test_switching_to_a_path_writes_a_path(lab: seclab.SecretsLab) -> None:
    async def scenario() -> None:
        async with running(lab.root) as (app, pilot):
            await choose_host(pilot, "dns")
            await services_of(pilot, "tailscale")
            secret = field(app, AUTHKEY, f.SecretField)
            await choose(pilot, secret, "a path on the machine")
            # the secret stays until a path is typed in its place
            assert not app.session.dirty()
            assert secret.path_input.display
            assert "secret tailscale-authkey stays" in secret.path_input.placeholder
            await pilot.press("tab")
            assert app.focused is secret.path_input
            await pilot.press(*"/var/lib/tailscale/key")
            await settle(pilot)
            assert secret.problems == []
            assert not secret.query_one(".field-note").display  # no empty line under a path
            assert "config.age.secrets.tailscale-authkey" not in preview(app)
            assert 'authKeyFile = "/var/lib/tailscale/key";' in preview(app)
            await save(pilot)

    run(scenario)
    text = lab.profile.read_text()
    assert f"  tailscale:  {COMMENT}\n    authKeyFile: /var/lib/tailscale/key\n" in text


def test_a_new_secret_by_name_is_missing_until_set(lab: seclab.SecretsLab) -> None:
    async def scenario() -> None:
        async with running(lab.root) as (app, pilot):
            await choose_host(pilot, "dns")
            await services_of(pilot, "tailscale")
            secret = field(app, AUTHKEY, f.SecretField)
            await choose(pilot, secret, "new secret…")
            assert app.focused is secret.new_input
            await pilot.press(*"tailnet-2", "enter")
            await settle(pilot)
            assert secret.control.value == "secret:tailnet-2"
            messages = [p.message for p in secret.problems]
            missing = "secret tailnet-2 does not exist: there is no encrypted/tailnet-2.age"
            assert messages == [missing]
            assert "homelab secrets set tailnet-2" in (secret.problems[0].hint or "")
            assert note(secret) == "encrypted/tailnet-2.age (missing)"
            assert "homelab secrets set tailnet-2" in screen_text(app)

    run(scenario)


def test_a_users_hashed_password_file(lab: seclab.SecretsLab) -> None:
    async def scenario() -> None:
        async with running(lab.root) as (app, pilot):
            await choose_host(pilot, "dns")
            await open_tab(pilot, "users")
            password = field(app, ("users", "ops", "hashedPasswordFile"), f.SecretField)
            assert password.control.value == "secret:ops-password"
            assert password.problems == []
            await focus(pilot, password.control)
            # the help under the form says what it takes, not "any YAML value"
            assert "a path on the machine, or {secret: NAME}" in screen_text(app)
            await choose(pilot, password, "secret other")
            assert "config.age.secrets.other.path" in preview(app)
            await save(pilot)
            await choose(pilot, password, "a path on the machine")
            await pilot.press("tab", *"/etc/ops.hash")
            await settle(pilot)
            await save(pilot)

    run(scenario)
    assert "    hashedPasswordFile: /etc/ops.hash\n" in lab.profile.read_text()


def test_a_missing_secret_shows_the_problem(lab: seclab.SecretsLab) -> None:
    lab.edit("hosts/dns/profile.yaml", "{secret: tailscale-authkey}", "{secret: nope}")
    commit_all(lab.root, "a secret never set")

    async def scenario() -> None:
        async with running(lab.root) as (app, pilot):
            await choose_host(pilot, "dns")
            await services_of(pilot, "tailscale")
            secret = field(app, AUTHKEY, f.SecretField)
            assert secret.control.value == "secret:nope"
            assert note(secret) == "encrypted/nope.age (missing)"
            shown = str(secret.error.render()) if secret.error else ""
            assert shown.startswith(
                "secret nope does not exist: there is no encrypted/nope.age "
                "(homelab secrets set nope"
            )
            assert secret.has_class("-problem") and not secret.has_class("-warning")

    run(scenario)


def test_a_path_typed_into_an_unset_secret_setting(lab: seclab.SecretsLab) -> None:
    lab.edit("hosts/dns/profile.yaml", "    authKeyFile: {secret: tailscale-authkey}\n", "")
    commit_all(lab.root, "no auth key")

    async def scenario() -> None:
        async with running(lab.root) as (app, pilot):
            await choose_host(pilot, "dns")
            await services_of(pilot, "tailscale")
            secret = field(app, AUTHKEY, f.SecretField)
            assert secret.control.value == secret.control.NULL
            assert not app.session.dirty()
            await focus(pilot, secret.control)
            await pilot.press("tab")
            assert app.focused is secret.path_input
            await pilot.press(*"relative")
            await settle(pilot)
            assert secret.control.value == "path"
            assert secret.problems, "a path that is not absolute is refused as before"
            assert isinstance(secret.path_input, Input)

    run(scenario)
