"""What the command line draws (homelab.cli.output and .live): on a terminal (tables fitted
to its width, the live view of an apply redrawn in place) and elsewhere (plain lines, no
escape codes)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from homelab import cli
from homelab.cli import output
from homelab.cli.live import Progress
from homelab.deploy.models import ApplyState, Event, HostResult
from homelab.lab import Lab

ESCAPE = "\x1b"


def screen(text: str) -> list[str]:
    """What a terminal shows after `text`, without colours: the few controls a live view
    uses (cursor up, erase the line, carriage return) are played as a terminal would."""
    rows, row, home = [""], 0, False
    for token in re.split(r"(\x1b\[[0-9;?]*[A-Za-z]|\r|\n)", text):
        if token == "\n":
            row += 1
            rows += [""] * (row + 1 - len(rows))
        elif token == "\r":
            home = True
        elif token.startswith("\x1b["):
            if token.endswith("A"):
                row -= int(token[2:-1] or 1)
            elif token.endswith("K"):
                rows[row] = ""
        elif token:
            rows[row] = token + rows[row][len(token) :] if home else rows[row] + token
            home = False
    while rows and not rows[-1].strip():
        rows.pop()
    return [r.rstrip() for r in rows]


class TerminalOut(io.StringIO):
    """Standard output that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Callable[[], TerminalOut]:
    """Makes stdout a terminal 60 columns wide that wants colours (called in the test:
    pytest sets its own stdout again once the fixtures are made)."""
    monkeypatch.setenv("COLUMNS", "60")
    monkeypatch.setenv("LINES", "40")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)

    def become() -> TerminalOut:
        out = TerminalOut()
        monkeypatch.setattr("sys.stdout", out)
        return out

    return become


# ---- the live view of an apply ----------------------------------------------------------


def test_plain_progress_prefixes_each_line_with_its_host() -> None:
    out = io.StringIO()
    view = Progress(["web", "database"], out, live=False)
    view.event(Event("web", ApplyState.CONNECTING, None, 0.0))
    view.event(Event("database", ApplyState.BUILDING, "building the system configuration...", 1.5))
    view.event(Event("web", ApplyState.DONE, None, 2.25))
    view.close()
    assert out.getvalue().splitlines() == [
        "web      : connecting (0.0s)",
        "database | building the system configuration...",
        "web      : done (2.2s)",
    ]


def test_live_progress_redraws_one_line_per_host_below_the_output() -> None:
    out = io.StringIO()
    view = Progress(["web", "db"], out, live=True, width=80)
    assert view.live
    view.event(Event("web", ApplyState.BUILDING, "building the system configuration...", 1.0))
    view.event(Event("db", ApplyState.FAILED, None, 2.0))
    view.note("pinned the host key of web")
    view.close()
    shown = screen(out.getvalue())
    # the machine's output and the apply's notes scroll above; one line per host below
    assert shown[:2] == ["web | building the system configuration...", "pinned the host key of web"]
    assert len(shown) == 4, shown
    assert shown[2].split()[0] == "web" and "building" in shown[2]
    assert shown[2].endswith("building the system configuration...")
    assert shown[3].split()[:3] == ["db", "FAILED", "2.0s"]
    assert "\x1b[1A" in out.getvalue()  # redrawn in place, not printed again below


def test_the_live_view_fits_a_narrow_terminal() -> None:
    out = io.StringIO()
    view = Progress(["web"], out, live=True, width=40)
    long = "copying path '/nix/store/" + "x" * 80 + "-glibc-2.40' from 'https://cache.nixos.org'"
    view.event(Event("web", ApplyState.BUILDING, long, 3.0))
    view.close()
    shown = screen(out.getvalue())
    assert len(shown) == 2, shown  # the long line is cut, not wrapped over the view
    assert all(len(line) <= 40 for line in shown), shown
    assert shown[0].startswith("web | copying path") and shown[0].endswith("…")
    assert shown[1].startswith("web") and "building" in shown[1] and shown[1].endswith("…")


@pytest.mark.parametrize("live", [False, True])
def test_a_machines_escape_codes_never_reach_the_terminal(live: bool) -> None:
    out = io.StringIO()
    view = Progress(["web"], out, live=live, width=80)
    view.event(
        Event("web", ApplyState.BUILDING, "\x1b[2J\x1b]0;owned\x07build\x1b[31ming\x07", 1.0)
    )
    view.close()
    text = out.getvalue()
    assert "\x1b[2J" not in text and "\x1b]0" not in text and "\x07" not in text
    assert "web | building" in screen(text)


# ---- tables and colours ------------------------------------------------------------------


def test_tables_on_a_terminal_fit_its_width(
    terminal: Callable[[], TerminalOut], basic_lab: Path
) -> None:
    out = terminal()
    assert cli.main(["--lab", str(basic_lab), "hosts"]) == 0
    shown = screen(out.getvalue())
    assert ESCAPE in out.getvalue()  # the header is bold
    assert shown[0].split() == ["HOST", "SYSTEM", "ADDRESS", "TAGS", "SERVICES"]
    assert all(len(line) <= 60 for line in shown), shown
    words = " ".join(shown).split()
    for word in ["alpha", "x86_64-linux", "192.168.1.30", "beta", "aarch64-linux", "beta.lan"]:
        assert word in words
    assert "jellyfin," in words  # the services wrap within their column, none is lost


def test_an_invalid_host_stands_out_on_a_terminal(
    terminal: Callable[[], TerminalOut], basic_lab: Path
) -> None:
    profile = basic_lab / "hosts" / "beta" / "profile.yaml"
    profile.write_text(profile.read_text().replace('"23.11"', "23.11"))
    out = terminal()
    assert cli.main(["--lab", str(basic_lab), "hosts"]) == 0
    assert "\x1b[1;31m(invalid)" in out.getvalue()
    assert [r.split()[:2] for r in screen(out.getvalue())[1:]] == [
        ["alpha", "x86_64-linux"],
        ["beta", "(invalid)"],
    ]


def test_no_color_on_a_terminal_gives_plain_lines(
    terminal: Callable[[], TerminalOut], basic_lab: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    out = terminal()
    assert cli.main(["--lab", str(basic_lab), "hosts"]) == 0
    assert ESCAPE not in out.getvalue()
    assert out.getvalue().splitlines()[0].split() == [
        "HOST",
        "SYSTEM",
        "ADDRESS",
        "TAGS",
        "SERVICES",
    ]


def test_a_pipe_gets_whole_rows_without_escape_codes(
    basic_lab: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "30")  # a pipe has no width: rows are never cut
    assert cli.main(["--lab", str(basic_lab), "hosts"]) == 0
    out = capsys.readouterr().out
    assert ESCAPE not in out
    assert out.splitlines()[1].split()[:4] == [
        "alpha",
        "x86_64-linux",
        "192.168.1.30",
        "lab,server,media",
    ]


# ---- the summary of an apply -------------------------------------------------------------


def _results() -> list[HostResult]:
    return [
        HostResult("web", "web", ApplyState.DONE, "generation 1 -> generation 2", elapsed=4.0),
        HostResult(
            "db",
            "db",
            ApplyState.FAILED,
            "connection refused",
            details=("127.0.0.1:22 refused",),
            elapsed=0.5,
        ),
    ]


def test_the_summary_on_a_terminal_is_a_table_then_the_reasons(
    terminal: Callable[[], TerminalOut],
) -> None:
    out = terminal()
    output.report(Lab.apply_report(_results()))
    text = out.getvalue()
    shown = screen(text)
    assert shown[0].split() == ["HOST", "RESULT", "TIME", "WHAT", "HAPPENED"]
    assert shown[1].split()[:3] == ["web", "ok", "4.0s"]
    assert shown[2].split()[:3] == ["db", "FAILED", "0.5s"]
    assert shown[2].endswith("connection refused")
    assert shown[3:] == ["", "db:", "  127.0.0.1:22 refused"]
    assert "\x1b[1;31mFAILED" in text  # a failure stands out


def test_the_summary_on_a_pipe_is_plain_lines(capsys: pytest.CaptureFixture[str]) -> None:
    output.report(Lab.apply_report(_results()))
    out = capsys.readouterr().out
    assert ESCAPE not in out
    assert out.splitlines()[2] == "db    FAILED  0.5s  connection refused"
