"""How fast the TUI feels on big synthetic labs (headless, as in the tests).

For 200 and 1000 hosts, each measured in a fresh process (its imports count):

- open: from the process's start to the host list laid out with every host, and to the
  first host's editor laid out (mounted is not enough: Textual arranges, then draws, a
  form some hundred milliseconds after mounting it); the floor is a bare Textual app
  showing the same host list;
- host switches while the full load runs in the background, then after it: a key sent
  from another thread (as a terminal's input thread does) every SWITCH_GAP seconds, and
  the time from the key to the editor and the preview showing the next host;
- the time until every host's marks are in.

With --before TREE, the same is measured for another checkout of homelab (the code before
a change), interleaved with this one, and both are printed side by side. With --typing,
the 200-host lab also gets the first visit of each tab and keystroke -> preview figures.
Aims: open <= 0.5 s at 1000 hosts; no switch over 100 ms, during the load or after it.
Measured as a user's install runs: children without PYTHONDONTWRITEBYTECODE, after a warm-up.

    .venv/bin/python bench/tui.py [N ...] [--rounds R] [--before TREE] [--typing] [-v]
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthlab import make_lab

HERE = Path(__file__).resolve().parents[1]
SIZE = (160, 48)
SWITCH_GAP = 0.15  # seconds between host switches: a person holding no key down
SWITCHES_AFTER = 15
KEYS = 10
STARTED = time.perf_counter()  # a measuring process's start, before any import of Textual


async def wait_for(check, limit: float = 120.0) -> float:  # type: ignore[no-untyped-def]
    """Seconds until check() is true, looking after every turn of the event loop."""
    start = time.perf_counter()
    while not check():
        if time.perf_counter() - start > limit:
            raise SystemExit("gave up waiting")
        await asyncio.sleep(0)
    return time.perf_counter() - start


# ---- the floor: a bare Textual app with the same host list ---------------------------------


def floor(root: Path) -> dict[str, Any]:
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Header, OptionList

    names = sorted(p.name for p in (root / "hosts").iterdir() if p.name != "common")

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield OptionList(*names)
            yield Footer()

    async def run() -> float:
        app = Bare()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            return time.perf_counter() - STARTED

    return {"open": asyncio.run(run())}


# ---- the editor ----------------------------------------------------------------------------


class Switcher(threading.Thread):
    """Sends the host list a down key every SWITCH_GAP seconds, from its own thread (a
    terminal's keys arrive so, whatever the event loop is doing); the loop says when each
    switch is shown, and the time from the key to then is the switch's time."""

    def __init__(self, app: Any, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(daemon=True)
        self.app, self.loop = app, loop
        self.sent: list[float] = []
        self.shown = threading.Event()
        self.done = threading.Event()

    def run(self) -> None:
        from textual import events

        while not self.done.is_set():
            time.sleep(SWITCH_GAP)
            self.shown.clear()
            key = events.Key("down", None)
            key.set_sender(self.app)
            self.sent.append(time.perf_counter())
            self.loop.call_soon_threadsafe(self.app._driver.send_message, key)
            while not self.shown.wait(0.01):
                if self.done.is_set():
                    return


async def switches(app: Any, until: Any, at_least: int = 0) -> list[float]:
    """Host switches (down key) until until() is true and at_least were made."""
    from homelab.tui.widgets.hostlist import HostList
    from homelab.tui.widgets.preview import Preview

    main = app.main
    hosts = main.query_one(HostList)
    preview = main.query_one(Preview)
    hosts.focus()
    folders = list(hosts.rows)
    switcher = Switcher(app, asyncio.get_running_loop())
    times: list[float] = []
    switcher.start()
    try:
        while not until() or len(times) < at_least:
            before = len(switcher.sent)
            await wait_for(lambda before=before: len(switcher.sent) > before)
            sent = switcher.sent[-1]
            index = folders.index(main.folder) + 1 if main.folder in folders else 0
            target = folders[min(index, len(folders) - 1)]

            def shown(target: str = target) -> bool:
                return (
                    main.folder == target
                    and preview.folder == target
                    and "system" not in main.host_editor.stale
                )

            await wait_for(shown)
            times.append(time.perf_counter() - sent)
            switcher.shown.set()
            if index >= len(folders) - 1:
                hosts.highlighted = 0
    finally:
        switcher.done.set()
        switcher.join()
    return times


async def editor(root: Path, typing: bool) -> dict[str, Any]:
    from homelab.tui.app import HomelabApp

    hosts = len([p for p in (root / "hosts").iterdir() if p.name != "common"])
    app = HomelabApp(root)
    figures: dict[str, Any] = {}
    async with app.run_test(size=SIZE) as pilot:
        # imported once the app has them, as under `homelab tui`: not before it starts
        from homelab.tui.widgets import fields as f
        from homelab.tui.widgets.hostlist import HostList

        main = app.main

        def editor_shown() -> bool:
            # laid out, not only mounted: a form is mounted some hundred milliseconds
            # before Textual has arranged it (and draws it in the same refresh)
            shown = main.host_editor.editors.get("system")
            return bool(
                shown is not None
                and shown.is_mounted
                and any(x.is_mounted and x.region.height for x in shown.query(f.TextField))
                and main.query_one(HostList).option_count == hosts
            )

        listed = main.query_one(HostList)
        await wait_for(lambda: listed.option_count == hosts and listed.size.height > 0)
        figures["list"] = time.perf_counter() - STARTED
        await wait_for(editor_shown)
        figures["open"] = time.perf_counter() - STARTED
        figures["during"] = await switches(app, lambda: main.loaded)
        figures["marks"] = time.perf_counter() - STARTED
        await pilot.pause(0.5)
        figures["after"] = await switches(app, lambda: True, SWITCHES_AFTER)
        if typing:
            figures.update(await typing_figures(app, pilot))
    return figures


# ---- tabs' first visits and keystrokes (--typing) ------------------------------------------


async def first_visit(app, pilot, key: str, tab: str) -> float:  # type: ignore[no-untyped-def]
    """Seconds from the tab's key, as a terminal sends it, to its editor shown."""
    from textual import events

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

    await wait_for(shown)
    await pilot._wait_for_screen()
    return time.perf_counter() - t0


async def typing_figures(app, pilot) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from textual import events

    from homelab.tui.widgets import fields as f
    from homelab.tui.widgets.hosteditor import TABS

    main = app.main
    editors = main.host_editor.editors
    await wait_for(lambda: len(editors) == len(TABS))  # made ahead in a pause
    await pilot.pause(0.2)
    visits = {}
    for number, (tab, title, _) in enumerate(TABS, start=1):
        if tab != "system":
            visits[title] = await first_visit(app, pilot, f"alt+{number}", tab)
            await pilot.pause(0.1)
    main.action_tab("system")
    await pilot.pause(0.2)
    system = editors["system"]
    timezone = next(x for x in system.query(f.TextField) if x.spec.rel == ("host", "timezone"))
    timezone.control.focus()
    await pilot.pause(0.3)
    area = main.query_one("#preview-nix")

    async def keystroke(char: str) -> float:
        expected = timezone.control.value + char
        key = events.Key(char, char)
        key.set_sender(app)
        t0 = time.perf_counter()
        app._driver.send_message(key)
        await wait_for(lambda: f'time.timeZone = "{expected}";' in area.text)
        return time.perf_counter() - t0

    timezone.control.value = "Europe/Paris"
    await pilot.pause(0.5)
    after_pause = []
    for char in "abcdefghij"[:KEYS]:
        after_pause.append(await keystroke(char))
        await pilot.pause(0.4)
    fast = [await keystroke(char) for char in "klmnopqrst"[:KEYS]]
    return {"visits": visits, "after_pause": after_pause, "typing": fast}


# ---- running and printing ------------------------------------------------------------------


def one(kind: str, root: Path, typing: bool) -> None:
    """In a fresh process: one measure, printed as JSON on the last line."""
    figures = floor(root) if kind == "floor" else asyncio.run(editor(root, typing))
    print(json.dumps(figures))


def measured(tree: Path, kind: str, root: Path, typing: bool = False) -> dict[str, Any]:
    # as installed: modules compiled once (.pyc), not from source in every run
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [sys.executable, __file__, "--one", kind, str(root)]
    done = subprocess.run(
        command + (["--typing"] if typing else []),
        env=env,
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{kind} on {tree} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def fresh_copy(root: Path, tmp: Path) -> Path:
    """A copy of the lab never opened before: no drafts to offer."""
    fresh = tmp / "open"
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(root, fresh, symlinks=True)
    return fresh


def lab(tmp: Path, hosts: int) -> Path:
    root = make_lab(tmp / f"lab{hosts}", hosts)
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
    return root


def ms(values: list[float]) -> str:
    if not values:
        return "   (no switch: the load ended first)      "
    values = sorted(values)
    return (
        f"median {statistics.median(values) * 1000:5.0f} ms, "
        f"max {values[-1] * 1000:5.0f} ms ({len(values):3d})"
    )


def report(hosts: int, trees: dict[str, list[dict[str, Any]]], floors: list[float]) -> None:
    floor_open = statistics.median(floors)
    print(f"\nlab: {hosts} hosts   (median of {len(floors)} rounds; switches: all rounds)")
    print(f"  bare Textual app, same host list:  open {floor_open * 1000:6.0f} ms (the floor)")
    for name, runs in trees.items():
        opened = statistics.median(r["open"] for r in runs)
        listed = statistics.median(r.get("list", r["open"]) for r in runs)
        marks = statistics.median(r["marks"] for r in runs)
        during = [s for r in runs for s in r["during"]]
        after = [s for r in runs for s in r["after"]]
        print(
            f"  {name:<7} host list {listed * 1000:6.0f} ms = {listed / floor_open:4.2f}x floor;"
            f" first host's editor {opened * 1000:6.0f} ms = {opened / floor_open:4.2f}x"
            f"   (aim <= 500 ms)"
        )
        print(f"          every host's marks in at {marks * 1000:6.0f} ms")
        print(f"          switch during the load: {ms(during)}   aim: max <= 100 ms")
        print(f"          switch after the load:  {ms(after)}")
        if "-v" in sys.argv:
            print("          during:", " ".join(f"{s * 1000:.0f}" for s in during))


def typing_report(runs: dict[str, dict[str, Any]]) -> None:
    print("\nfirst visit of each tab (alt+N -> its editor shown), 200 hosts: aim < 150 ms")
    names = list(runs)
    print("    " + " " * 12 + "".join(f"{n:>10}" for n in names))
    for title in next(iter(runs.values()))["visits"]:
        line = "".join(f"{runs[n]['visits'][title] * 1000:7.0f} ms" for n in names)
        print(f"    {title + ':':<12}{line}")
    for key, said in (("after_pause", "after a pause"), ("typing", "typing fast")):
        for name in names:
            print(f"keystroke -> preview ({said}), {name}: {ms(runs[name][key])}")


def main() -> None:
    args = sys.argv[1:]
    if "--one" in args:
        at = args.index("--one")
        one(args[at + 1], Path(args[at + 2]), "--typing" in args)
        return
    sizes = [int(a) for a in args if a.isdigit() and args[args.index(a) - 1] != "--rounds"]
    rounds = int(args[args.index("--rounds") + 1]) if "--rounds" in args else 3
    trees = {"after": HERE}
    if "--before" in args:
        trees = {"before": Path(args[args.index("--before") + 1]).resolve(), "after": HERE}
    with tempfile.TemporaryDirectory() as tmp:
        for hosts in sizes or [200, 1000]:
            root = lab(Path(tmp), hosts)
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
            floors = []
            for tree in trees.values():  # a warm-up: each tree's modules compiled, disk warm
                measured(tree, "editor", fresh_copy(root, Path(tmp)))
            for _ in range(rounds):  # interleaved: the machine's noise falls on each alike
                floors.append(measured(HERE, "floor", root)["open"])
                for name, tree in trees.items():
                    runs[name].append(measured(tree, "editor", fresh_copy(root, Path(tmp))))
            report(hosts, runs, floors)
            if "--typing" in args and hosts == (sizes or [200])[0]:
                typing_report(
                    {n: measured(t, "editor", root, typing=True) for n, t in trees.items()}
                )


if __name__ == "__main__":
    main()
