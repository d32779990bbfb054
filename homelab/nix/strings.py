"""String literals read as Nix reads them: the value of a `"…"` or `''…''` string in a
tree-sitter-nix tree, escapes and the indentation of `''…''` included."""

from __future__ import annotations

import tree_sitter

__all__ = ["NotLiteral", "double_quoted", "indented"]


class NotLiteral(Exception):
    """A string whose value only evaluation gives (`${…}`); the message says what it holds."""


def _text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def _short_text(node: tree_sitter.Node, limit: int = 30) -> str:
    text = " ".join(_text(node).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_ESCAPED = {"n": "\n", "r": "\r", "t": "\t"}


def double_quoted(node: tree_sitter.Node) -> str:
    """A "…" string's value: its escapes read as Nix reads them."""
    parts: list[str] = []
    for c in node.named_children:
        if c.type == "string_fragment":
            parts.append(_text(c))
        elif c.type == "escape_sequence":
            char = _text(c)[1:]
            parts.append(_ESCAPED.get(char, char))
        elif c.type == "dollar_escape":
            continue  # `\$`: the `$` follows as a fragment
        elif c.type == "interpolation":
            raise NotLiteral("string interpolation (`${…}`)")
        elif c.type != "comment":
            raise NotLiteral(f"`{_short_text(c)}` in a string")
    return "".join(parts)


def indented(node: tree_sitter.Node) -> str:
    """An ''…'' string's value: Nix's lexer and stripIndentation (nix/src/libexpr/parser.y)
    on the pieces tree-sitter-nix reads.  A piece is (text, indented?): escapes are text
    that is not indentation."""
    pieces: list[tuple[str, bool]] = []
    after_dollar = False
    opening_end = node.start_byte + 2
    for c in node.named_children:
        if c.type == "string_fragment":
            text = _text(c)
            if c.start_byte == opening_end:  # `''` swallows spaces and a line break after it
                stripped = text.lstrip(" ")
                if stripped.startswith("\n"):
                    text = stripped[1:]
            if after_dollar and text.startswith("$"):
                pieces.append(("$", False))
                text = text[1:]
            after_dollar = False
            if text:
                if pieces and pieces[-1][1]:
                    pieces[-1] = (pieces[-1][0] + text, True)
                else:
                    pieces.append((text, True))
        elif c.type == "escape_sequence":
            raw = _text(c)
            if raw == "'''":
                pieces.append(("''", False))
            else:
                char = raw[3:]
                pieces.append((_ESCAPED.get(char, char), False))
        elif c.type == "dollar_escape":
            after_dollar = True
        elif c.type == "interpolation":
            raise NotLiteral("string interpolation (`${…}`)")
        elif c.type != "comment":
            raise NotLiteral(f"`{_short_text(c)}` in a string")
    return _strip_indentation(pieces)


def _strip_indentation(pieces: list[tuple[str, bool]]) -> str:
    if not pieces:
        return ""
    at_start, min_indent, indent = True, 1_000_000, 0
    for text, indented in pieces:
        if not indented:
            if at_start:
                at_start = False
                min_indent = min(min_indent, indent)
            continue
        for ch in text:
            if at_start:
                if ch == " ":
                    indent += 1
                elif ch == "\n":
                    indent = 0
                else:
                    at_start = False
                    min_indent = min(min_indent, indent)
            elif ch == "\n":
                at_start, indent = True, 0
    out: list[str] = []
    at_start, dropped = True, 0
    for i, (text, _) in enumerate(pieces):  # (escapes are trimmed like text here)
        kept: list[str] = []
        for ch in text:
            if at_start:
                if ch == " ":
                    if dropped >= min_indent:
                        kept.append(ch)
                    dropped += 1
                elif ch == "\n":
                    dropped = 0
                    kept.append(ch)
                else:
                    at_start, dropped = False, 0
                    kept.append(ch)
            else:
                kept.append(ch)
                if ch == "\n":
                    at_start = True
        s = "".join(kept)
        if i == len(pieces) - 1:  # a last line of spaces only goes
            cut = s.rfind("\n")
            if cut >= 0 and not s[cut + 1 :].strip(" "):
                s = s[: cut + 1]
        out.append(s)
    return "".join(out)
