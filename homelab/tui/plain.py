"""Text shown as it is: homelab writes no content markup, so `[` in a host name, a
filter, a commit subject or a machine's output is a bracket, never a style tag (a tag
that does not parse would crash the editor; one that does would swallow the text).

Use these Static and Label (the ruff config bans Textual's own), and `plain` for border
titles and anything else that parses a str as markup; `title_of` to read a title back.
"""

from __future__ import annotations

from textual import widgets
from textual.content import Content
from textual.dom import DOMNode
from textual.visual import VisualType
from textual.widgets._label import LabelVariant


def plain(text: str) -> Content:
    """The text as content, never parsed as markup."""
    return Content(text)


def title_of(widget: DOMNode) -> str:
    """A widget's border title as shown (Textual's `border_title` gives it as markup,
    `[` escaped)."""
    title: Content | None = getattr(widget, "_border_title", None)
    return title.plain if title is not None else ""


def subtitle_of(widget: DOMNode) -> str:
    """A widget's border subtitle as shown."""
    subtitle: Content | None = getattr(widget, "_border_subtitle", None)
    return subtitle.plain if subtitle is not None else ""


class Static(widgets.Static):  # noqa: TID251 (the one place it is used)
    """Textual's Static, showing a str as plain text."""

    def __init__(
        self,
        content: VisualType = "",
        *,
        expand: bool = False,
        shrink: bool = False,
        markup: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            content,
            expand=expand,
            shrink=shrink,
            markup=markup,
            name=name,
            id=id,
            classes=classes,
            disabled=disabled,
        )


class Label(widgets.Label):  # noqa: TID251 (the one place it is used)
    """Textual's Label, showing a str as plain text."""

    def __init__(
        self,
        content: VisualType = "",
        *,
        variant: LabelVariant | None = None,
        expand: bool = False,
        shrink: bool = False,
        markup: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            content,
            variant=variant,
            expand=expand,
            shrink=shrink,
            markup=markup,
            name=name,
            id=id,
            classes=classes,
            disabled=disabled,
        )
