"""The Secrets screen (f9): the lab's encrypted secrets with the hosts that use them and who
can open each (read from the real age files), stale ones marked; a value set from its
masked dialog opens with the real `age`; a value is on screen only once asked for; a
missing admin key is said with its hint, never a crash."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from homelab.secrets.crypt import encrypt
from homelab.secrets.keys import Recipient, parse_recipient
from homelab.secrets.store import write_encrypted
from homelab.tui.app import HomelabApp
from homelab.tui.screens.secretforms import Passphrase, SecretValueForm, ShownValue
from homelab.tui.screens.secrets import SecretsScreen, SecretsTable
from tests.secrets.keyfiles import age, age_fails, age_key, ssh_key
from tests.tui.conftest import REPO, commit_all, git
from tests.tui.pilot import run, running, screen_text, settle

FLAKED = REPO / "tests" / "labs" / "flaked"
OPS = b"correct horse battery staple"
WIFI = b"wifi-pass-0451"


@dataclass(frozen=True)
class SecretsLab:
    root: Path
    admin_key: Path  # alice's age identity
    host_key: Path  # box's SSH host private key (what the machine decrypts with)
    old_host_key: Path  # the key box had before it was reinstalled


def recipient(line: str) -> Recipient:
    key = parse_recipient(" ".join(line.split()[:2]))
    assert not isinstance(key, str), key
    return key


@pytest.fixture
def secrets_lab(tmp_path: Path, git_env: None) -> SecretsLab:
    """tests/labs/flaked with an admin (alice, an age key) and box's ed25519 host key pinned;
    box's user ops has its password hash in secret ops-password (encrypted to box and alice)
    and its user guest in secret wifi, encrypted to box's old host key and alice: stale."""
    if shutil.which("git") is None:
        pytest.skip("git is missing")
    keys = tmp_path / "keys"
    keys.mkdir()
    admin, admin_pub = age_key(keys, "alice")
    host, host_pub = ssh_key(keys, "box_host")
    old, old_pub = ssh_key(keys, "box_old_host")
    root = tmp_path / "flaked"
    shutil.copytree(FLAKED, root)
    shutil.copytree(REPO / "services", root / "services")
    lab_yaml = root / "lab.yaml"
    lab_yaml.write_text(lab_yaml.read_text() + f"admins:\n  alice: {admin_pub}\n")
    profile = root / "hosts" / "box" / "profile.yaml"
    text = profile.read_text()
    text = text.replace(
        "  address: box.lan\n",
        f'  address: box.lan\n  hostKey: "{" ".join(host_pub.split()[:2])}"\n',
    )
    text = text.replace(
        "    admin: true\n",
        "    admin: true\n    hashedPasswordFile: {secret: ops-password}\n",
    )
    text += "  guest:\n    hashedPasswordFile: {secret: wifi}\n"
    profile.write_text(text)
    write_encrypted(root, "ops-password", encrypt(OPS, [recipient(host_pub), recipient(admin_pub)]))
    write_encrypted(root, "wifi", encrypt(WIFI, [recipient(old_pub), recipient(admin_pub)]))
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "a lab with encrypted secrets")
    return SecretsLab(root, admin, host, old)


@pytest.fixture
def identity(secrets_lab: SecretsLab, monkeypatch: pytest.MonkeyPatch) -> Path:
    """alice's key is the admin key the editor opens."""
    monkeypatch.setenv("HOMELAB_AGE_IDENTITY", str(secrets_lab.admin_key))
    return secrets_lab.admin_key


def row_of(text: str, name: str) -> str:
    """The table's row of a secret."""
    return next(line for line in text.splitlines() if line.startswith(f"  {name} "))


async def seen(pilot) -> str:  # type: ignore[no-untyped-def]
    """The screen's text, once the table shows each row it holds (a table is drawn anew
    a frame after it is filled)."""
    text = screen_text(pilot.app)
    for _ in range(100):
        screen = pilot.app.screen
        if not isinstance(screen, SecretsScreen):
            return text
        names = [str(key.value) for key in screen.query_one(SecretsTable).rows]
        lines = text.splitlines()
        # the columns are as wide as their cells once the table has measured them
        head = next((line for line in lines if "  Secret " in line), "")
        wide = head.find("Used by") - head.find("Secret") > max(map(len, names), default=0)
        if wide and all(any(line.startswith(f"  {n} ") for line in lines) for n in names):
            return text
        await pilot.pause(0.05)
        text = screen_text(pilot.app)
    return text


async def open_secrets(pilot) -> SecretsScreen:  # type: ignore[no-untyped-def]
    await pilot.press("f9")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, SecretsScreen)
    return screen


async def choose(pilot, name: str) -> None:  # type: ignore[no-untyped-def]
    table = pilot.app.screen.query_one(SecretsTable)
    table.move_cursor(row=table.get_row_index(name))
    await settle(pilot)


def test_the_table_shows_secrets_their_hosts_and_who_can_open_them(
    secrets_lab: SecretsLab,
) -> None:
    async def scenario() -> None:
        async with running(secrets_lab.root) as (app, pilot):
            await open_secrets(pilot)
            text = await seen(pilot)
            ops = next(line for line in text.splitlines() if "ops-password" in line)
            assert "box" in ops and "✓ box" in ops and "? alice (admin)" in ops, ops
            assert ops.rstrip().endswith("ok"), ops
            wifi = next(line for line in text.splitlines() if " wifi " in line)
            assert "✗ box" in wifi and "+1 not the lab's" in wifi and "STALE" in wifi, wifi
            # the details of the highlighted (first) secret: its setting at its place
            assert "hosts/box/profile.yaml:21" in text, text
            assert "users.ops.hashedPasswordFile" in text
            assert "Problems" in text and "  none" in text
            await choose(pilot, "wifi")
            text = await seen(pilot)
            assert "users.guest.hashedPasswordFile" in text
            assert "✗ box (host): CANNOT open it" in text
            assert "1 key(s) that are no longer the lab's can still open it" in text
            assert "is not encrypted to box's current host key" in text
            assert "hint: run `homelab secrets rekey`" in text
            # the values are nowhere on it
            assert OPS.decode() not in text and WIFI.decode() not in text
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is app.main

    run(scenario)


def test_its_keys_are_in_the_help_and_the_palette_opens_it(secrets_lab: SecretsLab) -> None:
    async def scenario() -> None:
        async with running(secrets_lab.root) as (app, pilot):
            await pilot.press("ctrl+p")
            await settle(pilot)
            await pilot.press(*"Secrets")
            await pilot.pause(0.5)  # the palette searches as you type
            await settle(pilot)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, SecretsScreen)
            await pilot.press("f1")
            await settle(pilot)
            text = await seen(pilot)
            for said in ("Set value", "New secret", "Show value", "Rekey all stale"):
                assert said in text, said
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, SecretsScreen)

    run(scenario)


def test_a_value_set_in_its_masked_dialog_opens_with_the_real_age(
    secrets_lab: SecretsLab,
) -> None:
    new = "n3w [value] of ops"
    head = git(secrets_lab.root, "rev-parse", "HEAD")

    async def scenario() -> None:
        async with running(secrets_lab.root) as (app, pilot):
            await open_secrets(pilot)
            await pilot.press("s")  # the first row, ops-password, is highlighted
            await settle(pilot)
            form = app.screen
            assert isinstance(form, SecretValueForm)
            field = form.query_one("#secret-value", Input)
            assert field.password and app.focused is field
            await pilot.press(*new)
            await pilot.pause()
            assert new not in await seen(pilot)  # masked as it is typed
            assert new in app._sensitive()  # and left out of a crash report
            await pilot.press("enter")
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, SecretsScreen)
            assert field.value == ""  # not left in the dialog's field
            text = await seen(pilot)
            assert "Secret ops-password" in text or "ops-password" in text
            assert new not in text
            assert app.focused is screen.query_one(SecretsTable)
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is app.main

    run(scenario)
    data = (secrets_lab.root / "encrypted" / "ops-password.age").read_bytes()
    assert new.encode() not in data
    assert age("-d", "-i", str(secrets_lab.admin_key), data=data) == new.encode()
    assert age("-d", "-i", str(secrets_lab.host_key), data=data) == new.encode()
    age_fails("-d", "-i", str(secrets_lab.old_host_key), data=data)
    assert git(secrets_lab.root, "rev-parse", "HEAD^") == head  # one commit, on top
    assert "encrypted/ops-password.age" in git(
        secrets_lab.root, "show", "--name-only", "--format=", "HEAD"
    )
    assert git(secrets_lab.root, "status", "--porcelain") == ""


def test_a_new_secret_by_its_name_and_masked_value(secrets_lab: SecretsLab) -> None:
    async def scenario() -> None:
        async with running(secrets_lab.root) as (app, pilot):
            screen = await open_secrets(pilot)
            await pilot.press("n")
            await settle(pilot)
            await pilot.press(*"wifi", "enter")
            await pilot.press(*"abc", "enter")
            await settle(pilot)
            assert "wifi exists already" in await seen(pilot)  # said, nothing written
            name = app.screen.query_one("#secret-name", Input)
            assert app.focused is name
            await pilot.press("end", "ctrl+u", *"tailscale-key", "enter")
            await pilot.press(*"tskey-auth-123", "enter")
            await settle(pilot)
            assert app.screen is screen
            text = await seen(pilot)
            assert "tailscale-key" in row_of(text, "tailscale-key")
            assert "unused" in row_of(text, "tailscale-key")
            assert "tskey-auth-123" not in text

    run(scenario)
    data = (secrets_lab.root / "encrypted" / "tailscale-key.age").read_bytes()
    assert age("-d", "-i", str(secrets_lab.admin_key), data=data) == b"tskey-auth-123"


def test_a_value_is_shown_only_when_asked_for_and_dropped_after(
    secrets_lab: SecretsLab, identity: Path
) -> None:
    async def scenario() -> None:
        async with running(secrets_lab.root) as (app, pilot):
            screen = await open_secrets(pilot)
            assert OPS.decode() not in await seen(pilot)
            await pilot.press("v")
            await settle(pilot)
            assert "Show the value of ops-password?" in await seen(pilot)
            assert OPS.decode() not in await seen(pilot)
            await pilot.press("enter")  # Cancel has the focus: nothing is shown
            await settle(pilot)
            assert app.screen is screen and OPS.decode() not in await seen(pilot)
            await pilot.press("v")
            await settle(pilot)
            await pilot.press("tab", "enter")  # Show it
            await settle(pilot)
            shown = app.screen
            assert isinstance(shown, ShownValue)
            assert OPS.decode() in await seen(pilot)
            assert OPS.decode() in app._sensitive()  # never in a crash report
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is screen
            assert OPS.decode() not in await seen(pilot)
            assert shown.value == ""
            assert OPS.decode() not in repr(vars(screen))
            assert app.focused is screen.query_one(SecretsTable)

    run(scenario)


def test_rekeying_the_stale_secret_makes_it_open_for_the_host(
    secrets_lab: SecretsLab, identity: Path
) -> None:
    async def scenario() -> None:
        async with running(secrets_lab.root) as (_app, pilot):
            await open_secrets(pilot)
            assert "STALE" in row_of(await seen(pilot), "wifi")
            await pilot.press("R")
            await settle(pilot)
            text = await seen(pilot)
            assert "Secret wifi rekeyed" in text, text
            assert "STALE" not in row_of(text, "wifi") and "✓ box" in row_of(text, "wifi")
            assert "+1" not in row_of(text, "wifi")

    run(scenario)
    data = (secrets_lab.root / "encrypted" / "wifi.age").read_bytes()
    assert age("-d", "-i", str(secrets_lab.host_key), data=data) == WIFI
    age_fails("-d", "-i", str(secrets_lab.old_host_key), data=data)


def test_without_an_admin_key_the_screen_says_why_and_what_to_do(
    secrets_lab: SecretsLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMELAB_AGE_IDENTITY", str(secrets_lab.root / "no-such.key"))
    before = (secrets_lab.root / "encrypted" / "wifi.age").read_bytes()

    async def scenario() -> None:
        async with running(secrets_lab.root) as (app, pilot):
            screen = await open_secrets(pilot)
            await pilot.press("down", "r")
            await settle(pilot)
            text = await seen(pilot)
            assert "no age identity at" in text and "no-such.key" in text, text
            assert "hint: make one with `age-keygen -o" in text
            assert app.screen is screen and "STALE" in row_of(text, "wifi")
            await pilot.press("v", "tab", "enter")
            await settle(pilot)
            assert app.screen is screen
            assert "no age identity at" in await seen(pilot)
            assert app.focused is screen.query_one(SecretsTable)

    run(scenario)
    assert (secrets_lab.root / "encrypted" / "wifi.age").read_bytes() == before


async def asked(pilot) -> None:  # type: ignore[no-untyped-def]
    """Wait for the passphrase dialog (settle would wait for the worker that asks)."""
    for _ in range(200):
        if isinstance(pilot.app.screen, Passphrase):
            await pilot.pause()
            return
        await pilot.pause(0.05)
    raise AssertionError("no passphrase was asked for")


def test_an_admin_ssh_key_with_a_passphrase_is_unlocked_from_a_masked_dialog(
    secrets_lab: SecretsLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = secrets_lab.root
    bob, bob_pub = ssh_key(root.parent / "keys", "bob", passphrase="bobs passphrase")
    lab_yaml = root / "lab.yaml"
    lab_yaml.write_text(lab_yaml.read_text() + f"  bob: {' '.join(bob_pub.split()[:2])}\n")
    write_encrypted(root, "bobs", encrypt(b"only bob reads this", [recipient(bob_pub)]))
    commit_all(root, "bob, an admin with an SSH key")
    monkeypatch.setenv("HOMELAB_AGE_IDENTITY", str(bob))

    async def scenario() -> None:
        async with running(root) as (app, pilot):
            screen = await open_secrets(pilot)
            await choose(pilot, "bobs")
            await pilot.press("v", "tab", "enter")
            await asked(pilot)
            field = app.screen.query_one("#passphrase", Input)
            assert field.password and app.focused is field
            await pilot.press("escape")
            await settle(pilot)
            assert app.screen is screen
            assert "cancelled: the key's passphrase was not given" in await seen(pilot)
            await pilot.press("v", "tab", "enter")
            await asked(pilot)
            await pilot.press(*"bobs passphrase")
            assert "bobs passphrase" in app._sensitive()
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ShownValue)
            assert "only bob reads this" in await seen(pilot)
            assert "bobs passphrase" not in await seen(pilot)

    run(scenario)


def test_a_secret_a_setting_names_but_that_does_not_exist_is_set_from_the_screen(
    secrets_lab: SecretsLab,
) -> None:
    (secrets_lab.root / "encrypted" / "ops-password.age").unlink()
    commit_all(secrets_lab.root, "ops-password lost")

    async def scenario() -> None:
        async with running(secrets_lab.root) as (app, pilot):
            screen = await open_secrets(pilot)
            text = await seen(pilot)
            assert "MISSING" in row_of(text, "ops-password")
            assert "box, alice (admin)" in row_of(text, "ops-password")
            assert "secret ops-password does not exist" in text
            assert screen.check_action("show_value", ()) is None  # greyed: no file
            await pilot.press("enter")  # Enter on a row sets its value, as s
            await settle(pilot)
            assert isinstance(app.screen, SecretValueForm)
            await pilot.press(*"back again", "enter")
            await settle(pilot)
            assert app.screen is screen
            assert row_of(await seen(pilot), "ops-password").rstrip().endswith("ok")

    run(scenario)
    data = (secrets_lab.root / "encrypted" / "ops-password.age").read_bytes()
    assert age("-d", "-i", str(secrets_lab.host_key), data=data) == b"back again"


def test_snapshot(secrets_lab: SecretsLab, snap_compare: Any) -> None:
    """The screen as drawn, a stale secret chosen (the keys are made anew each run; the
    screen shows none of them)."""

    async def ready(pilot: Pilot[None]) -> None:
        await settle(pilot)
        await open_secrets(pilot)
        await choose(pilot, "wifi")
        await seen(pilot)

    assert snap_compare(HomelabApp(secrets_lab.root), terminal_size=(140, 42), run_before=ready)
