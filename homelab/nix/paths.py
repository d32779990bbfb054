"""The path literals of a Nix text (`./x`, `../x`, `/x`, `~/x`), with their places.

A path literal copies the file it names into the Nix store when the configuration is
built: what a profile's Nix may name is the lab's business (profile/check_options.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from homelab.nix.syntax import _Positions, parse

_KINDS = {"path_expression", "hpath_expression"}


@dataclass(frozen=True)
class PathLiteral:
    line: int  # 1-based, in the text given
    column: int  # 1-based, in characters
    text: str  # as written; with an interpolation (`./a/${x}`), up to it
    interpolated: bool  # `./a/${x}`: where it points is only known when Nix runs
    home: bool  # `~/x`: a file of the person's home folder


def path_literals(text: str) -> list[PathLiteral]:
    """Every path literal of `text` (which should parse; parts that do not are skipped)."""
    tree = parse(text)
    pos = _Positions(text)
    found: list[PathLiteral] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type in _KINDS:
            fragments = [c for c in node.children if c.type == "path_fragment"]
            written = b"".join(c.text or b"" for c in fragments).decode("utf-8", "replace")
            line, column = pos.at(node.start_byte)
            found.append(
                PathLiteral(
                    line,
                    column,
                    written,
                    interpolated=any(c.type != "path_fragment" for c in node.children),
                    home=node.type == "hpath_expression",
                )
            )
            continue
        stack.extend(reversed(node.children))
    return found
