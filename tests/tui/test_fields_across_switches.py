"""A host switch shows each host's own values, in every kind of field, whether or not the
last host's were the same: list fields keep their items when they would show the same ones
(remaking them cost each switch a layout), and YAML fields do not read a text again that
they have read (every field's text is asked for at each switch). Neither may show the last
host's value, or lose or invent an edit."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from homelab.tui.widgets import fields as f
from homelab.tui.widgets.fields.list import ItemList
from tests.tui.pilot import choose_host, field, open_tab, run, running, settle, type_into

NAMESERVERS = ("networking", "nameservers")
SWAP = ("hardware", "swap")


def items(app, path: tuple[str, ...]) -> list[str]:  # type: ignore[no-untyped-def]
    shown = field(app, path, f.ListField).query_one(ItemList)
    return [str(shown.get_option_at_index(i).prompt) for i in range(shown.option_count)]


def test_a_list_field_shows_each_hosts_own_items_across_switches(lab: Path) -> None:
    # pi and the laptop (nixos-demo) are given the same name servers as the server: a
    # switch between them keeps the list as it is, and must still be right after it
    for folder in ("pi", "nixos-demo"):
        profile = lab / "hosts" / folder / "profile.yaml"
        text = profile.read_text()
        if folder == "pi":
            text = text.replace("nameservers: [127.0.0.1, 1.1.1.1]", "nameservers: [192.168.1.2]")
        else:
            text = text.replace(
                "  networkmanager: true\n", "  networkmanager: true\n  nameservers: [192.168.1.2]\n"
            )
        profile.write_text(text)

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "homeserver")
            await open_tab(pilot, "networking")
            assert items(app, NAMESERVERS) == ["192.168.1.2"]
            add = field(app, NAMESERVERS, f.ListField).query_one(".list-add", Input)
            await type_into(pilot, add, "9.9.9.9")
            await pilot.press("enter")
            await settle(pilot)
            assert items(app, NAMESERVERS) == ["192.168.1.2", "9.9.9.9"]
            await choose_host(pilot, "pi")
            assert items(app, NAMESERVERS) == ["192.168.1.2"]
            await choose_host(pilot, "nixos-demo")
            assert items(app, NAMESERVERS) == ["192.168.1.2"]
            await choose_host(pilot, "homeserver")
            assert items(app, NAMESERVERS) == ["192.168.1.2", "9.9.9.9"]
            assert "9.9.9.9" in app.session.text("homeserver")
            assert "9.9.9.9" not in app.session.text("pi")
            assert "9.9.9.9" not in app.session.text("nixos-demo")

    run(scenario)


def test_a_yaml_field_takes_a_typed_edit_once_and_shows_each_hosts_value(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await choose_host(pilot, "homeserver")
            swap = field(app, SWAP, f.YamlField)
            assert "/dev/disk/by-label/swap" in swap.control.text
            swap.control.load_text("- device: /dev/sdb2\n")
            await choose_host(pilot, "pi")  # the switch takes the typed edit
            assert "/dev/sdb2" in app.session.text("homeserver")
            swap = field(app, SWAP, f.YamlField)
            assert "/var/lib/swapfile" in swap.control.text
            assert swap.pending() == []  # shown, not typed: no edit
            # pi's swap, typed as the server's is now: an edit of pi's own, taken once
            swap.control.load_text("- device: /dev/sdb2\n")
            assert len(swap.pending()) == 1
            assert swap.pending() == []  # the same text again: nothing new
            swap.control.load_text("- device: [unclosed\n")
            assert swap.pending() == []
            await settle(pilot)
            assert "YAML: line 2" in str(swap.query_one(".field-error").render())
            swap.control.load_text("- device: /dev/sdc1\n")
            await choose_host(pilot, "homeserver")  # the switch takes pi's edit
            assert "/dev/sdc1" in app.session.text("pi")
            assert "/dev/sdb2" in field(app, SWAP, f.YamlField).control.text
            await choose_host(pilot, "pi")
            swap = field(app, SWAP, f.YamlField)
            assert "/dev/sdc1" in swap.control.text
            assert "YAML" not in str(swap.query_one(".field-error").render())
            await choose_host(pilot, "nixos-demo")
            assert field(app, SWAP, f.YamlField).control.text.strip() == ""
            assert "/dev/sdb2" in app.session.text("homeserver")

    run(scenario)
