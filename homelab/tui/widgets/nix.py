"""Nix highlighting for text areas, from Pygments' Nix lexer.

Not the tree-sitter grammar the checker uses: tree-sitter 0.26's query captures, which
TextArea's built-in highlighting runs after every edit, corrupt memory (the app
crashes). Lexing the text with Pygments is as fast for profile-sized Nix and has no
native code.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache
from typing import Any

from pygments.lexers import NixLexer  # type: ignore[import-untyped, unused-ignore]
from pygments.token import Token, _TokenType  # type: ignore[import-untyped, unused-ignore]
from textual.widgets import TextArea

_LEXER = NixLexer(stripnl=False, ensurenl=False)

_STYLES: list[tuple[_TokenType, str]] = [
    (Token.Comment, "comment"),
    (Token.Keyword, "keyword"),
    (Token.Literal.String.Symbol, "yaml.field"),  # attribute names
    (Token.Literal.String.Escape, "string"),
    (Token.Literal.String, "string"),
    (Token.Literal.Number, "number"),
    (Token.Name.Constant, "boolean"),
    (Token.Name.Builtin, "function"),
    (Token.Operator, "operator"),
    (Token.Punctuation, "punctuation.bracket"),
]
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*")
_ATTRIBUTE = re.compile(r"\s*(=|\.[A-Za-z_\"])")
_NAMESPACES = {"pkgs", "lib", "config", "builtins"}


def _style(kind: _TokenType) -> str | None:
    for token, name in _STYLES:
        if kind in token:
            return name
    return None


Highlight = tuple[int, int | None, str]


def highlights(text: str) -> dict[int, list[Highlight]]:
    """Highlights per line: (start byte, end byte, theme name), as TextArea draws them.

    The preview holds several files, each under a `# ==> path <==` line: each is lexed on
    its own and remembered, so a keystroke that changes one file re-lexes only that one."""
    out: dict[int, list[Highlight]] = defaultdict(list)
    row = 0
    for block in _blocks(text):
        for line, found in _block_highlights(block):
            out[row + line].extend(found)
        row += block.count("\n") + 1
    return out


def _blocks(text: str) -> list[str]:
    blocks: list[list[str]] = [[]]
    for line in text.split("\n"):
        if line.startswith("# ==> ") and blocks[-1]:
            blocks.append([])
        blocks[-1].append(line)
    return ["\n".join(lines) for lines in blocks]


@lru_cache(maxsize=512)
def _block_highlights(text: str) -> tuple[tuple[int, tuple[Highlight, ...]], ...]:
    out: dict[int, list[Highlight]] = defaultdict(list)
    row, column = 0, 0  # column in bytes, as TextArea expects
    for kind, value in _LEXER.get_tokens(text):
        name = _style(kind)
        for i, part in enumerate(value.split("\n")):
            if i:
                row, column = row + 1, 0
            size = len(part.encode("utf-8"))
            if part and name is not None:
                out[row].append((column, column + size, name))
            elif part and kind in Token.Text:
                _words(part, row, column, out)
            column += size
    return tuple((line, tuple(found)) for line, found in sorted(out.items()))


def _words(part: str, row: int, column: int, out: dict[int, list[Highlight]]) -> None:
    """Attribute names (before `=` or `.`) and pkgs/lib/config in plain text."""
    for match in _WORD.finditer(part):
        start = column + len(part[: match.start()].encode("utf-8"))
        end = start + len(match.group().encode("utf-8"))
        if match.group() in _NAMESPACES:
            out[row].append((start, end, "variable.builtin"))
        elif _ATTRIBUTE.match(part, match.end()):
            out[row].append((start, end, "yaml.field"))


class LazyHighlights(dict[int, list[Highlight]]):
    """Highlights that lex a file only when one of its lines is drawn: a big preview
    shows at once, and scrolling lexes what comes into view (each file once)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.starts: list[tuple[int, str]] = []
        row = 0
        for block in _blocks(text):
            self.starts.append((row, block))
            row += block.count("\n") + 1
        self.rows = row

    def __len__(self) -> int:
        return self.rows  # never "empty": TextArea skips highlighting when it is

    def __missing__(self, row: int) -> list[Highlight]:
        start, block = 0, ""
        for first, text in self.starts:
            if first > row:
                break
            start, block = first, text
        for line in range(start, start + block.count("\n") + 1):
            dict.__setitem__(self, line, [])
        for line, found in _block_highlights(block):
            dict.__setitem__(self, start + line, list(found))
        value: list[Highlight] = dict.__getitem__(self, row) if row in self else []
        return value


class NixArea(TextArea):
    """A TextArea that highlights Nix (re-lexed after each edit, as it is drawn)."""

    def _build_highlight_map(self) -> None:
        self._line_cache.clear()
        self._highlights = LazyHighlights(self.text)


def nix_area(text: str = "", *, read_only: bool = False, **kwargs: Any) -> TextArea:
    return NixArea(text, read_only=read_only, show_line_numbers=True, **kwargs)
