"""Keys that work in every terminal: tabs by `[` `]`, 1-9 and ctrl+pgup/pgdn (alt+1-9
type `¢` and the like into inputs in tmux and xterm), tab order without invisible stops
or jumps, text boxes that say that tab indents and escape leaves them, and escape that
goes one step up everywhere. Read on the screen's characters, driven by keys; the last
test drives a real editor in tmux."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import TextArea

from homelab.tui.app import HomelabApp
from homelab.tui.widgets.textbox import HINT
from tests.tui.pilot import run, running, screen_text, settle

# words only each tab's content shows (the demo lab's first host, homeserver)
# (the titles of boxes, in a border drawn as ─, or as ▔ when the box has focus)
ON_TAB = {
    "System": r"[─▔] Host [─▔]",
    "Network": r"[─▔] Networking [─▔]",
    "Users": r"[─▔] Users [─▔]",
    "Home": r"Home of user",
    "Services": r"[─▔] Catalogue [─▔]",
    "Containers": r"[─▔] Containers [─▔]",
    "Options": r"[─▔] Options [─▔]",
    "Raw Nix": r"Raw NixOS options \(extraConfig\)",
    "YAML": r"The profile as written",
}


def on_tab(text: str) -> list[str]:
    """The tabs whose content the screen shows."""
    return [title for title, words in ON_TAB.items() if re.search(words, text)]


def shown_tab(text: str) -> str:
    """The tab the tab bar marks: the title above the bright part of its underline
    (drawn from ╸ to ╺), checked against what only that tab's content shows."""
    lines = text.splitlines()
    at = next(n for n, line in enumerate(lines) if "System Network Users" in line)
    underline = lines[at + 1]
    start = underline.index("╸")
    title = lines[at][start : underline.index("╺", start) + 1].strip()
    assert on_tab(text) == [title], f"{title} marked, the content of {on_tab(text)} shown"
    return title


def footer(text: str) -> str:
    return text.splitlines()[-1]


async def keys(pilot: Pilot[None], *names: str) -> str:
    """Press the keys, wait for what they started (a tab shown the first time makes its
    form on the next refreshes); the screen's text then."""
    await pilot.press(*names)
    for _ in range(20):
        await settle(pilot)
        await pilot.wait_for_scheduled_animations()
        text = screen_text(pilot.app)
        if len(on_tab(text)) == 1:
            break
    return text


def focused_words(app: HomelabApp) -> str:
    """What the focused widget shows (its characters on the screen)."""
    focused = app.focused
    assert focused is not None
    lines = screen_text(app).splitlines()
    region = focused.region
    return "\n".join(
        line[region.x : region.right] for line in lines[region.y : region.bottom]
    ).strip()


def test_brackets_numbers_and_ctrl_page_keys_switch_tabs(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            assert shown_tab(screen_text(app)) == "System"
            assert app.focused is app.main.query_one("#hosts")
            assert shown_tab(await keys(pilot, "right_square_bracket")) == "Network"
            assert shown_tab(await keys(pilot, "right_square_bracket")) == "Users"
            assert shown_tab(await keys(pilot, "left_square_bracket")) == "Network"
            assert shown_tab(await keys(pilot, "9")) == "YAML"
            assert shown_tab(await keys(pilot, "7")) == "Options"
            assert shown_tab(await keys(pilot, "9")) == "YAML"
            assert shown_tab(await keys(pilot, "right_square_bracket")) == "System"  # round
            assert shown_tab(await keys(pilot, "left_square_bracket")) == "YAML"
            assert shown_tab(await keys(pilot, "ctrl+pagedown")) == "System"
            assert shown_tab(await keys(pilot, "ctrl+pageup")) == "YAML"
            assert shown_tab(await keys(pilot, "4")) == "Home"
            assert shown_tab(await keys(pilot, "5")) == "Services"
            # the keys are for the tabs, and the host list keeps the focus
            assert app.focused is app.main.query_one("#hosts")
            assert "[ ] Tab" in footer(screen_text(app))

    run(scenario)


def test_in_a_text_input_brackets_and_digits_are_typed_and_ctrl_page_keys_switch(
    lab: Path,
) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            text = await keys(pilot, "tab", "tab")  # the tab bar, then the Name field
            assert "^pgup ^pgdn Tab" in footer(text)  # what switches tabs while typing
            assert "[ ] Tab" not in footer(text)
            text = await keys(pilot, *"box[2]3")
            assert shown_tab(text) == "System"
            assert "box[2]3" in focused_words(app)
            text = await keys(pilot, "ctrl+pagedown")
            assert shown_tab(text) == "Network"
            # focus left the hidden tab for the tab bar: the next ] is not typed
            text = await keys(pilot, "right_square_bracket")
            assert shown_tab(text) == "Users"
            assert "[ ] Tab" in footer(text)
            assert "box[2]3" in app.main.session.text("homeserver")

    run(scenario)


def test_a_tab_of_the_palette_is_shown_when_focus_is_in_a_form(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await keys(pilot, "tab", "tab")  # the Name field of the System tab
            assert focused_words(app) == ""
            await keys(pilot, "ctrl+p", *"Tab: Users")
            await pilot.pause(0.5)  # the palette searches as you type
            await settle(pilot)
            # the command says the keys that do the same
            assert "Show the Users tab (3 outside a text input;" in screen_text(app)
            text = await keys(pilot, "enter")
            assert shown_tab(text) == "Users"
            text = await keys(pilot, "tab")  # into the Users tab: its list
            assert shown_tab(text) == "Users"
            # the focus is in the tab shown, not left in the hidden form: ] is no text
            assert shown_tab(await keys(pilot, "right_square_bracket")) == "Home"

    run(scenario)


@pytest.mark.parametrize(("tab", "first_line"), [("9", "# yaml-language-server"), ("8", "")])
def test_a_text_box_says_tab_indents_and_escape_leaves_it(
    lab: Path, tab: str, first_line: str
) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            text = await keys(pilot, tab)
            assert HINT not in text
            text = await keys(pilot, "tab", "tab")  # the tab bar, then the text box
            assert isinstance(app.focused, TextArea)
            assert HINT in text
            assert "esc Back" in footer(text)
            await keys(pilot, "tab", *"x")  # an indent, not the next field
            assert isinstance(app.focused, TextArea)
            indented = app.focused.text.split("\n")[0]
            assert indented.lstrip(" ").startswith("x" + first_line)
            assert indented.startswith("  ")
            text = await keys(pilot, "escape")
            assert HINT not in text
            assert app.focused is app.main.query_one("#tabs").query_one("Tabs")
            await keys(pilot, "escape")
            assert app.focused is app.main.query_one("#hosts")
            assert "▶" in screen_text(app).splitlines()[2][:4]  # the hosts' marker

    run(scenario)


def test_escape_climbs_from_a_field_to_its_list_the_tab_bar_and_the_hosts(lab: Path) -> None:
    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            await keys(pilot, "5", "tab", "tab")  # Services: the tab bar, the catalogue
            services = app.main.query_one(".service-list")
            assert app.focused is services
            await keys(pilot, *"vaultwarden", "space")  # type-ahead, then enable it
            await keys(pilot, "enter")  # into its settings
            assert app.focused is not services
            field = app.focused
            assert field is not None and services not in field.ancestors_with_self
            await keys(pilot, "escape")
            assert app.focused is services
            await keys(pilot, "escape")
            assert app.focused is app.main.query_one("#tabs").query_one("Tabs")
            await keys(pilot, "escape")
            assert app.focused is app.main.query_one("#hosts")
            text = await keys(pilot, "escape")  # nowhere further up: nothing moves
            assert app.focused is app.main.query_one("#hosts")
            assert "esc Back" not in footer(text)
            # a dialog closes with escape, from its input too
            await keys(pilot, "ctrl+n", *"web")
            assert app.screen is not app.main
            await keys(pilot, "escape")
            assert app.screen is app.main
            assert "web" not in app.main.session.folders()

    run(scenario)


def test_tab_order_has_no_invisible_stop_and_nothing_moves_when_focus_arrives(
    lab: Path,
) -> None:
    """Every stop of tab in the System and Network forms (lists of items among them,
    empty ones too) is on screen, and focus arriving moves nothing of the form."""

    async def scenario() -> None:
        async with running(lab) as (app, pilot):
            for tab in ("1", "2"):
                app.main.query_one("#hosts").focus()
                await keys(pilot, tab, "tab", "tab")  # the tab bar, the form's first field
                form = app.main.host_editor.editors[app.main.host_editor.active_tab]
                seen: list[object] = []
                while app.focused not in seen and form in app.focused.ancestors:
                    focused = app.focused
                    seen.append(focused)
                    assert focused.region.height > 0, f"{focused} is not on screen"
                    before = {id(w): w.virtual_region for w in form.query("*") if w.display}
                    if isinstance(focused, TextArea):
                        await keys(pilot, "escape")  # a text box keeps tab: leave it
                        focused.focus()
                        await pilot.pause()
                        app.main.focus_next()
                        await settle(pilot)
                    else:
                        await keys(pilot, "tab")
                    after = {id(w): w.virtual_region for w in form.query("*") if w.display}
                    moved = [k for k in before if k in after and before[k] != after[k]]
                    assert not moved, f"focus on {app.focused} moved the form"
                assert len(seen) > 10

    run(scenario)


# ---- a real terminal ------------------------------------------------------------------


def tmux_path() -> str:
    """tmux (Debian's tmux, which `make test` installs); skips (fails when CI=true)
    without it."""
    found = shutil.which("tmux")
    if found:
        return found
    why = "tmux is missing: install Debian's tmux"
    if os.environ.get("CI") == "true":
        pytest.fail(why)
    pytest.skip(why)


class Tmux:
    """A tmux server of the test's own (its socket in a temporary folder) running the
    editor in a 160×48 window."""

    def __init__(self, tmux: str, socket: Path, command: list[str]) -> None:
        self.base = [tmux, "-S", str(socket)]
        self.command = command

    def __enter__(self) -> Tmux:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX")}
        self.env = {**env, "TERM": "xterm-256color"}
        subprocess.run(
            [*self.base, "-f", os.devnull, "new-session", "-d", "-s", "keys",
             "-x", "160", "-y", "48", shlex.join(self.command)],
            env=self.env, check=True, cwd=Path(__file__).resolve().parents[2],
        )  # fmt: skip
        return self

    def send(self, *names: str) -> None:
        for name in names:  # one at a time: tmux sends each as its own keystroke
            subprocess.run([*self.base, "send-keys", "-t", "keys", name], check=True)
            time.sleep(0.15)

    def screen(self) -> str:
        done = subprocess.run(
            [*self.base, "capture-pane", "-p", "-t", "keys"],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return done.stdout

    def wait_for(self, check: object, within: float = 60) -> str:
        deadline = time.monotonic() + within
        while True:
            text = self.screen()
            try:
                assert callable(check)
                if check(text):
                    return text
            except (AssertionError, ValueError, StopIteration):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {within} s; the terminal showed:\n{text}")
            time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        subprocess.run([*self.base, "kill-server"], capture_output=True)


def test_tabs_switch_by_the_documented_keys_in_a_real_terminal(lab: Path, tmp_path: Path) -> None:
    tmux = tmux_path()
    editor = [sys.executable, "-m", "homelab", "--lab", str(lab), "tui"]
    with Tmux(tmux, tmp_path / "tmux.sock", editor) as term:
        term.wait_for(lambda text: "homeserver" in text and "^q Quit" in text)

        def on(title: str) -> str:
            return term.wait_for(lambda text: shown_tab(text) == title, within=20)

        on("System")
        for key, title in [
            ("]", "Network"),
            ("]", "Users"),
            ("[", "Network"),
            ("9", "YAML"),
            ("]", "System"),
            ("C-NPage", "Network"),
            ("C-PPage", "System"),
            ("5", "Services"),
            ("3", "Users"),
        ]:
            term.send(key)
            on(title)

        # in a text input ] is typed; ctrl+pgdn still switches
        def name_field(text: str) -> str:
            return next(line for line in text.splitlines() if "│ Name " in line)

        term.send("1", "Tab", "Tab", "]")
        # typed, and the tab bar still on System (read once the bar is drawn whole: a
        # screen caught mid-redraw has no underline to read)
        term.wait_for(
            lambda text: "]" in name_field(text).split("Name", 1)[1] and shown_tab(text) == "System"
        )
        term.send("C-NPage")
        on("Network")
        term.send("C-PPage")
        on("System")
        # escape leaves the field: ] then switches again
        term.send("Tab", "Escape")
        time.sleep(0.5)  # a terminal's escape waits to be no start of a longer key
        term.send("]")
        on("Network")
