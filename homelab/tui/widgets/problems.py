"""The problems panel: every problem of the selected host, errors first, then warnings
(which never block saving); enter jumps to its field."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from homelab.errors import Problem
from homelab.tui.plain import plain


def line(problem: Problem) -> Text:
    text = Text(no_wrap=False)
    text.append(str(problem.place), style="dim")
    text.append("  ")
    if problem.warning:  # said in words: the colour alone would not tell it
        text.append("warning: ", style="bold yellow")
    if problem.path:
        text.append(problem.path + ": ", style="bold")
    text.append(problem.message, style="yellow" if problem.warning else "red")
    if problem.hint:
        text.append(f"\n  hint: {problem.hint}", style="italic dim")
    return text


def title(problems: Sequence[Problem]) -> str:
    """Problems (2), Problems (1) and 1 warning, Problems: none, 1 warning."""
    warnings = sum(1 for p in problems if p.warning)
    errors = len(problems) - warnings
    text = f"Problems ({errors})" if errors else "Problems: none"
    if warnings:
        text += f"{' and' if errors else ','} {warnings} warning{'s' if warnings != 1 else ''}"
    return text


class ProblemsPanel(OptionList):
    """The list is empty when all is well; its border title counts the problems."""

    class Jump(Message):
        def __init__(self, problem: Problem) -> None:
            super().__init__()
            self.problem = problem

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.problems: list[Problem] = []
        self.border_title = "Problems: none"

    def show(self, problems: Sequence[Problem]) -> None:
        problems = list(problems)
        if problems == self.problems:
            return
        self.problems = problems
        highlighted = self.highlighted
        self.clear_options()
        self.add_options([Option(line(p), id=str(i)) for i, p in enumerate(problems)])
        if problems and highlighted is not None:
            self.highlighted = min(highlighted, len(problems) - 1)
        self.border_title = plain(title(problems))
        errors = [p for p in problems if not p.warning]
        self.set_class(bool(errors), "-has-problems")
        self.set_class(len(errors) < len(problems), "-has-warnings")

    def on_focus(self) -> None:
        # the first problem is chosen as the panel is reached: enter jumps to it at once
        if self.highlighted is None and self.option_count:
            self.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        index = int(event.option.id or 0)
        if index < len(self.problems):
            self.post_message(self.Jump(self.problems[index]))
