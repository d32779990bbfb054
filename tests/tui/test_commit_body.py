"""The editor's commit: the dialog lists each changed setting (a new user with its groups,
a port with its old and new value), and the commit's message says the same."""

from __future__ import annotations

from pathlib import Path

from homelab.tui.screens.commit import CommitDialog
from tests.tui.conftest import git
from tests.tui.pilot import (
    choose_host,
    run,
    running,
    screen_text,
    settle,
    type_in_yaml_before,
)

ALICE = "  alice: {groups: [wheel, audio]}"


def test_the_commit_dialog_and_message_list_the_settings_changed(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "nixos-demo")
            await type_in_yaml_before(pilot, "  demouser:", ALICE)
            await pilot.press("ctrl+s")
            # the save and the commit's summary run in a worker settle does not wait for
            # (it waits for the person's answer): wait for the dialog itself
            for _ in range(200):
                await settle(pilot)
                if isinstance(app.screen, CommitDialog):
                    break
            text = screen_text(app)
            said = [n.message for n in app._notifications]  # what the person was told
            assert "- users.alice: added" in text, said
            assert "    groups: [wheel, audio]" in text
            await pilot.press("ctrl+s")  # commit
            await settle(pilot)

    run(scenario)
    message = git(lab, "log", "-1", "--format=%B")
    subject, _, body = message.partition("\n\n")
    assert subject == "nixos-demo: user alice added"
    assert body.strip() == "nixos-demo:\n- users.alice: added\n    groups: [wheel, audio]"
