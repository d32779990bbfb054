"""A list of hosts to pick, and a yes/no box, readable without colour: `[x]` for picked,
`[ ]` for not, and `›` on the highlighted row (Textual draws `▐X▌` on every row and lets
colour alone tell them apart)."""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.content import Content
from textual.strip import Strip
from textual.widgets import Checkbox, OptionList, SelectionList
from textual.widgets.option_list import OptionDoesNotExist

PICKED, NOT_PICKED = "[x]", "[ ]"
HERE, NOT_HERE = "› ", "  "


def tick(on: bool) -> str:
    return PICKED if on else NOT_PICKED


class PickList(SelectionList[str]):
    """A SelectionList that draws its marks as text: `› [x] name`."""

    def _get_left_gutter_width(self) -> int:
        return len(HERE + PICKED + " ")

    def render_line(self, y: int) -> Strip:
        line = OptionList.render_line(self, y)  # the prompt alone, without Textual's button
        index = self.scroll_offset.y + y
        try:
            option = self.get_option_at_index(index)
        except OptionDoesNotExist:
            return line
        picked = option.value in self._selected
        style = next(iter(line)).style or self.rich_style or Style()  # the row's own colours
        where = Style(meta={"option": index})  # a click on the mark toggles its row
        here = HERE if self.highlighted == index else NOT_HERE
        return Strip(
            [
                Segment(here, style=style + where),
                Segment(tick(picked), style=style + Style(bold=picked) + where),
                Segment(" ", style=style),
                *line,
            ]
        )


class TickBox(Checkbox):
    """A Checkbox drawn `[x] label` / `[ ] label`."""

    @property
    def _button(self) -> Content:
        return Content(tick(self.value))
