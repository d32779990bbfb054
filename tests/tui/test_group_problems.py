"""A group of fields (Hardware › Boot) shows the problems about the group itself on a
line at its top, in the error colour; the line is there only while it has some."""

from __future__ import annotations

from pathlib import Path

from homelab.tui.widgets.fields.form import Group
from tests.tui.pilot import choose_host, run, running, settle

PI = "hosts/pi/profile.yaml"


def boot(app: object) -> Group:
    groups = [g for g in app.main.query(Group) if g.path == ("hardware", "boot")]  # type: ignore[attr-defined]
    assert len(groups) == 1
    return groups[0]


def line(group: Group) -> str:
    said = [w for w in group.children if w.has_class("group-error")]
    if not said or not group.has_class("-problem"):
        return ""
    return str(said[0].render())


def test_a_group_s_own_problem_is_shown_at_its_top_until_mended(lab: Path) -> None:
    profile = lab / PI
    text = profile.read_text()
    boot_line = "  boot: {loader: extlinux, configurationLimit: 5}"
    assert boot_line in text
    profile.write_text(text.replace(boot_line, "  boot: 3"))  # not a map: the group's own

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "pi")
            await settle(pilot)
            group = boot(app)
            assert line(group) == "expected a map, got a number (3)"
            assert group.children[0].has_class("group-error")  # above its fields
            assert group.children[0].display

            await choose_host(pilot, "homeserver")  # no problem there: no line shown
            await settle(pilot)
            assert line(boot(app)) == ""
            assert not any(w.has_class("group-error") and w.display for w in boot(app).children)

    run(scenario)
