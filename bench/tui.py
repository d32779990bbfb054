"""How fast the TUI feels on the 200-host synthetic lab (headless, as in the tests).

Prints the time until the host list and the first host's editor are shown, the time
until every host's marks are in (the full load runs in a worker meanwhile), the time to
switch to another host, the time from a tab's key (alt+N) to its editor shown on its
first visit (its editor made ahead in a pause, as in a terminal; and made on the key),
and the time from a keystroke in a field to the preview showing it (a first keystroke
after a pause, and keystrokes while typing fast). Aims: open under 1 s, first visit of
a tab under 150 ms, switch and preview under 100 ms.

    .venv/bin/python bench/tui.py [N]
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from textual import events

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthlab import make_lab

SIZE = (160, 48)
SWITCHES = 20
KEYS = 10


async def wait_for(pilot, check, limit: float = 30.0) -> float:  # type: ignore[no-untyped-def]
    """Seconds until check() is true, looking after every turn of the event loop."""
    start = time.perf_counter()
    while not check():
        if time.perf_counter() - start > limit:
            raise SystemExit("gave up waiting")
        await asyncio.sleep(0)
    return time.perf_counter() - start


async def first_visit(app, pilot, key: str, tab: str) -> float:  # type: ignore[no-untyped-def]
    """Seconds from the tab's key, as a terminal sends it, to its editor shown: made
    (unless it was made ahead), mounted with everything in it, and every event that made
    handled."""
    editors = app.main.host_editor.editors
    event = events.Key(key, None)
    event.set_sender(app)
    t0 = time.perf_counter()
    app._driver.send_message(event)

    def shown() -> bool:
        editor = editors.get(tab)
        return bool(
            editor is not None
            and editor.is_mounted
            and editor.children
            and all(w.is_mounted for w in editor.walk_children())
        )

    await wait_for(pilot, shown)
    await pilot._wait_for_screen()  # and every event it made (layout, paint) handled
    return time.perf_counter() - t0


async def visit_tabs(app, pilot) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The first visit of each tab but the first, by its key, and back to the first."""
    from homelab.tui.widgets.hosteditor import TABS

    visits: dict[str, float] = {}
    for number, (tab, title, _) in enumerate(TABS, start=1):
        if tab != "system":  # shown at start
            visits[title] = await first_visit(app, pilot, f"alt+{number}", tab)
            await pilot.pause(0.1)
    app.main.action_tab("system")
    await pilot.pause(0.2)
    return visits


async def visits_at_once(root: Path) -> dict[str, float]:
    """First visits with each tab's editor made on its key (none made ahead in a pause),
    as a person who presses the tabs' keys without a pause sees them; once every host's
    marks are in, as the visits above."""
    from homelab.tui import app as tui_app
    from homelab.tui.widgets import hosteditor

    hosteditor.AHEAD_QUIET = float("inf")
    try:
        app = tui_app.HomelabApp(root)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.main.loaded, limit=120)
            await pilot.pause(0.2)
            return await visit_tabs(app, pilot)
    finally:
        hosteditor.AHEAD_QUIET = 0.5


def ms(values: list[float]) -> str:
    if "-v" in sys.argv:
        print(" ".join(f"{v * 1000:.0f}" for v in values))
    values = sorted(values)
    return (
        f"median {statistics.median(values) * 1000:6.1f} ms, "
        f"max {values[-1] * 1000:6.1f} ms ({len(values)} runs)"
    )


async def measure(root: Path, hosts: int, fresh: Path) -> None:
    start = time.perf_counter()
    from homelab.tui.app import HomelabApp
    from homelab.tui.widgets import fields as f
    from homelab.tui.widgets import hosteditor
    from homelab.tui.widgets.hostlist import HostList
    from homelab.tui.widgets.preview import Preview

    imported = time.perf_counter() - start
    hosteditor.AHEAD_HEADLESS = True  # as in a terminal: tabs' editors made in a pause
    app = HomelabApp(root)
    async with app.run_test(size=SIZE) as pilot:
        main = app.main

        def editor_shown() -> bool:
            editor = main.host_editor.editors.get("system")
            return bool(
                editor is not None
                and editor.is_mounted
                and any(x.is_mounted for x in editor.query(f.TextField))
                and main.query_one(HostList).option_count == hosts
            )

        await wait_for(pilot, editor_shown)
        opened = time.perf_counter() - start
        await wait_for(pilot, lambda: main.loaded, limit=120)
        marks = time.perf_counter() - start
        # the pause a person makes before a first visit: every tab's editor made ahead
        editors = main.host_editor.editors
        ahead = await wait_for(pilot, lambda: len(editors) == len(hosteditor.TABS))
        await pilot.pause(0.2)

        first_visits = await visit_tabs(app, pilot)

        host_list = main.query_one(HostList)
        switches = []
        folders = list(host_list.rows)
        preview = main.query_one(Preview)
        for i in range(1, SWITCHES + 1):
            target = folders[i * 7 % hosts]
            t0 = time.perf_counter()
            host_list.highlighted = host_list.get_option_index(target)

            def switched(target: str = target) -> bool:
                # the editor shows the host's data and the preview its Nix
                return (
                    main.folder == target
                    and preview.folder == target
                    and "system" not in main.host_editor.stale
                )

            await wait_for(pilot, switched)
            switches.append(time.perf_counter() - t0)
            await pilot.pause(0.05)

        system = main.host_editor.editors["system"]  # other tabs have fields named so too
        timezone = next(x for x in system.query(f.TextField) if x.spec.rel == ("host", "timezone"))
        timezone.control.focus()
        await pilot.pause(0.3)
        area = main.query_one("#preview-nix")

        async def keystroke(char: str) -> float:
            expected = timezone.control.value + char
            key = events.Key(char, char)
            key.set_sender(app)
            t0 = time.perf_counter()
            app._driver.send_message(key)  # as a terminal sends it

            def shown() -> bool:
                return f'time.timeZone = "{expected}";' in area.text  # type: ignore[attr-defined]

            await wait_for(pilot, shown)
            return time.perf_counter() - t0

        timezone.control.value = "Europe/Paris"
        await pilot.pause(0.5)
        after_pause = []
        for char in "abcdefghij"[:KEYS]:
            after_pause.append(await keystroke(char))
            await pilot.pause(0.4)  # a person pausing: the next check may run at once
        typing = []
        for char in "klmnopqrst"[:KEYS]:
            typing.append(await keystroke(char))  # no pause: checks are spaced out

    print(f"lab: {hosts} hosts")
    print(f"import of the app:                  {imported * 1000:7.1f} ms")
    print(f"open (host list + first editor):    {opened * 1000:7.1f} ms   aim < 1000 ms")
    print(f"every host's marks in (worker):     {marks * 1000:7.1f} ms")
    print(f"then every tab's editor made ahead: {ahead * 1000:7.1f} ms later")
    print(f"switch host:                        {ms(switches)}   aim < 100 ms")
    at_once = await visits_at_once(fresh)
    print("first visit of each tab (alt+N -> its editor shown):   aim < 150 ms")
    print("    (its editor made ahead, in a pause / made on the key, no pause before it)")
    for title, seconds in first_visits.items():
        print(f"    {title + ':':<12} {seconds * 1000:7.1f} ms / {at_once[title] * 1000:7.1f} ms")
    print(f"keystroke -> preview (after pause): {ms(after_pause)}   aim < 100 ms")
    print(f"keystroke -> preview (typing fast): {ms(typing)}")


def main() -> None:
    numbers = [a for a in sys.argv[1:] if a.isdigit()]
    hosts = int(numbers[0]) if numbers else 200
    with tempfile.TemporaryDirectory() as tmp:
        root = make_lab(Path(tmp) / "lab", hosts)
        env = {
            "GIT_AUTHOR_NAME": "bench",
            "GIT_AUTHOR_EMAIL": "bench@example.org",
            "GIT_COMMITTER_NAME": "bench",
            "GIT_COMMITTER_EMAIL": "bench@example.org",
            "PATH": "/usr/bin:/bin:/usr/local/bin",
        }
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        subprocess.run(["git", "add", "--all"], cwd=root, check=True)
        subprocess.run(["git", "commit", "-qm", "synthetic lab"], cwd=root, check=True, env=env)
        fresh = Path(tmp) / "fresh"  # the same lab, never opened (no unsaved edits to offer)
        shutil.copytree(root, fresh, symlinks=True)
        asyncio.run(measure(root, hosts, fresh))


if __name__ == "__main__":
    main()
