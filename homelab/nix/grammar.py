"""Where Nix's own parser is stricter than tree-sitter-nix.

tree-sitter-nix reads some texts that ``nix-instantiate --parse`` refuses: keywords used as
names (``x = or;``, ``a.if``), paths with a trailing slash or an empty part (``./a/``,
``./a//b``), chained comparisons (``a == b == c``), integers beyond 64 bits and floats
beyond double precision, names computed in ``let`` or ``inherit`` (``let ${x} = 1;``) and a
function argument named twice through ``@``.  `stricter_rules` finds these in an
error-free tree, so that what homelab accepts is what Nix accepts.  The rules follow the
lexer and grammar of Nix (src/libexpr/lexer.l and parser.y); each was found by comparing
tree-sitter-nix with ``nix-instantiate --parse`` on the same text.

`static_name` is shared with the scope check: the name of an attribute as Nix knows it
while parsing, or None when it is computed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import tree_sitter
import tree_sitter_nix

__all__ = [
    "KEYWORDS",
    "LANGUAGE",
    "MAX_DEPTH",
    "Finding",
    "static_name",
    "stricter_rules",
    "too_deep",
    "unparen",
]

LANGUAGE = tree_sitter.Language(tree_sitter_nix.language())


@dataclass(frozen=True)
class Finding:
    """One problem at a byte offset of the parsed text."""

    byte: int
    message: str
    hint: str = ""


#: Nix's keywords; `or` is special: a name in attribute paths, a keyword elsewhere.
KEYWORDS = frozenset({"if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or"})

#: Nix's `expr_simple`: what may stand before a lone `or` (``map or [ ]`` is ``map (or) [ ]``).
_SIMPLE = frozenset(
    {
        "variable_expression",
        "integer_expression",
        "float_expression",
        "string_expression",
        "indented_string_expression",
        "path_expression",
        "hpath_expression",
        "spath_expression",
        "uri_expression",
        "parenthesized_expression",
        "attrset_expression",
        "rec_attrset_expression",
        "let_attrset_expression",
        "list_expression",
    }
)

_EQUALITY = frozenset({"==", "!="})
_ORDER = frozenset({"<", ">", "<=", ">="})

# Nix's lexer (lexer.l): what a path is made of
_CHAR = r"[a-zA-Z0-9._\-+]"
_PATH = re.compile(rf"{_CHAR}*(?:/{_CHAR}+)+/?")
_HPATH = re.compile(rf"~(?:/{_CHAR}+)+/?")
_SEGMENT = re.compile(rf"{_CHAR}*/")  # `./` or `a/` right before `${`
_CHARS = re.compile(rf"{_CHAR}+")
_UPDATE = re.compile(r"([A-Za-z_][A-Za-z0-9_'-]*)?//")

_INT_MAX = 2**63 - 1
_DBL_MIN = 2.2250738585072014e-308


def _text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def unparen(node: tree_sitter.Node) -> tree_sitter.Node:
    """The expression inside parentheses (Nix keeps no node for them)."""
    while node.type == "parenthesized_expression":
        inner = [c for c in node.named_children if c.type != "comment"]
        if len(inner) != 1:
            break
        node = inner[0]
    return node


def _plain_string(node: tree_sitter.Node) -> str | None:
    """The text of a string literal without interpolation, None otherwise."""
    if node.type not in ("string_expression", "indented_string_expression"):
        return None
    parts: list[str] = []
    for c in node.named_children:
        if c.type == "string_fragment":
            parts.append(_text(c))
        elif c.type == "escape_sequence":
            esc = _text(c)
            if esc == "'''":  # in ''...'': ''' ''$ ''\n
                parts.append("''")
                continue
            esc = esc.removeprefix("''").removeprefix("\\")
            parts.append({"n": "\n", "r": "\r", "t": "\t"}.get(esc, esc))
        elif c.type == "dollar_escape":
            continue  # the `$` follows as a fragment of its own
        elif c.type != "comment":
            return None
    return "".join(parts)


def static_name(node: tree_sitter.Node) -> str | None:
    """The name of one attribute-path element as Nix fixes it while parsing (``a``,
    ``"a b"``, ``${"a"}``), or None when it is computed (``${x}``, ``"${x}"``)."""
    if node.type == "identifier":
        return _text(node)
    if node.type == "string_expression":
        return _plain_string(node)
    if node.type == "interpolation":
        inner = [c for c in node.named_children if c.type != "comment"]
        if len(inner) == 1:
            value = unparen(inner[0])
            if value.type == "string_expression" or (
                value.type == "indented_string_expression" and value.named_children
            ):
                return _plain_string(value)
    return None


#: How deeply a text may nest.  Nix's own parser gives up near 5,000 levels ("memory
#: exhausted"); homelab's checks look up and down the tree, so it stops far earlier.
MAX_DEPTH = 300


def too_deep(root: tree_sitter.Node, limit: int = MAX_DEPTH) -> Finding | None:
    """The first node nested more than `limit` levels deep, as a finding."""
    if root.end_byte - root.start_byte < limit // 2:  # too short to nest so deep
        return None
    cursor = root.walk()
    depth = 0
    while True:
        if cursor.goto_first_child():
            depth += 1
            if depth > limit:
                return Finding(
                    cursor.node.start_byte if cursor.node else root.start_byte,
                    f"this nests more than {limit} levels deep",
                    "homelab checks at most that many: flatten it with `let` bindings",
                )
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return None
            depth -= 1


#: Where the rules below may apply (a query runs in tree-sitter, not in Python).
_SUSPECTS = tree_sitter.Query(
    LANGUAGE,
    """
    ((identifier) @node
      (#any-of? @node "if" "then" "else" "assert" "with" "let" "in" "rec" "inherit" "or"))
    [
      (path_expression) (hpath_expression) (integer_expression) (float_expression)
      (binary_expression) (let_expression) (inherit) (inherit_from)
    ] @node
    """,
)


def stricter_rules(root: tree_sitter.Node) -> list[Finding]:
    """What Nix refuses in a tree that tree-sitter-nix read without error."""
    out: list[Finding] = []
    for node in tree_sitter.QueryCursor(_SUSPECTS).captures(root).get("node", []):
        out.extend(_check(node))
    return sorted(out, key=lambda f: f.byte)


def _check(node: tree_sitter.Node) -> Iterator[Finding]:
    kind = node.type
    if kind == "identifier":
        yield from _keyword(node)
    elif kind in ("path_expression", "hpath_expression"):
        found = _path(node)
        if found:
            yield found
    elif kind == "integer_expression":
        if int(_text(node)) > _INT_MAX:
            yield Finding(
                node.start_byte,
                f"invalid integer `{_text(node)}`",
                "Nix's integers are 64-bit: at most 9223372036854775807",
            )
    elif kind == "float_expression":
        if not _float_fits(_text(node)):
            yield Finding(
                node.start_byte,
                f"invalid float `{_text(node)}`",
                "Nix's floats are 64-bit: between 2.2e-308 and 1.8e308 (or 0)",
            )
    elif kind == "binary_expression":
        found = _chained_comparison(node)
        if found:
            yield found
    elif kind == "let_expression":
        yield from _dynamic_in_let(node)
    elif kind in ("inherit", "inherit_from"):
        yield from _dynamic_in_inherit(node)


def _keyword(node: tree_sitter.Node) -> Iterator[Finding]:
    name = _text(node)
    if name not in KEYWORDS:
        return
    parent = node.parent
    where = parent.type if parent is not None else ""
    if name == "or":
        # a name in attribute paths and inherit; `f or` applies f to a variable `or`
        if where in ("attrpath", "inherited_attrs"):
            return
        if where == "variable_expression" and parent is not None and _or_after_simple(parent):
            return
        yield Finding(
            node.start_byte,
            "`or` is a keyword of Nix: it cannot be a value or an argument name here",
            'for the text "or", write it in quotes'
            if where == "variable_expression"
            else "choose another name",
        )
        return
    if where in ("attrpath", "inherited_attrs"):
        hint = f'quote it to use it as an attribute name: `"{name}"`'
    else:
        hint = "choose another name"
    yield Finding(node.start_byte, f"`{name}` is a keyword of Nix: it cannot be a name", hint)


def _or_after_simple(var: tree_sitter.Node) -> bool:
    """Is this lone `or` an argument right after a simple expression (``f x or``)?"""
    parent = var.parent
    if parent is None:
        return False
    before: tree_sitter.Node | None = None
    if parent.type == "apply_expression":
        if parent.child_by_field_name("argument") != var:
            return False
        before = parent.child_by_field_name("function")
        while before is not None and before.type == "apply_expression":
            before = before.child_by_field_name("argument")
    elif parent.type == "list_expression":
        elements = [c for c in parent.named_children if c.type != "comment"]
        i = elements.index(var)
        before = elements[i - 1] if i else None
    # `x.y or z or`: the second `or` belongs to z, the default of the first
    while before is not None and before.type == "select_expression":
        before = before.child_by_field_name("default")
    if before is None or before.type not in _SIMPLE:
        return False
    return not (before.type == "variable_expression" and _text(before) == "or")


def _path(node: tree_sitter.Node) -> Finding | None:
    """Nix's lexer run over a path that tree-sitter-nix read as one."""
    parts = [c for c in node.children if c.type != "comment"]
    if not parts or parts[0].type != "path_fragment":
        return None
    shown = _text(node)
    first = _text(parts[0])
    home = node.type == "hpath_expression"
    tokens: list[str] = []  # "s" for a piece of text after the start, "i" for ${...}
    if len(parts) > 1 and parts[1].type == "interpolation" and _SEGMENT.fullmatch(first):
        offset, slash = len(first), True
    else:
        match = (_HPATH if home else _PATH).match(first)
        if match is None:
            if _UPDATE.match(first):  # `a//b`, `{ }//b`: Nix reads `a // b`
                return Finding(
                    node.start_byte + first.index("//"),
                    "Nix reads this `//` as the update operator, not as part of a path",
                    "write spaces around it: `a // b`",
                )
            return Finding(node.start_byte, f"Nix cannot read the path `{shown}`", _PATH_HINT)
        offset, slash = match.end(), match.group().endswith("/")
    text = first
    index = 0
    while True:
        if offset < len(text):
            ends = [m.end() for r in (_PATH, _SEGMENT, _CHARS) if (m := r.match(text, offset))]
            if not ends:
                break  # the path ends before this text: Nix reads the rest as something else
            end = max(ends)
            tokens.append("s")
            slash = text[end - 1] == "/"
            offset = end
            continue
        index += 1
        if index >= len(parts):
            break
        part = parts[index]
        if part.type == "interpolation":
            tokens.append("i")
            slash = False
            text, offset = "", 0
        else:
            text, offset = _text(part), 0
    if slash:
        return Finding(node.start_byte, "path has a trailing slash", "remove the `/` at the end")
    if offset < len(text) or index < len(parts) - 1:
        return Finding(node.start_byte, f"Nix cannot read the path `{shown}`", _PATH_HINT)
    # after the start, text pieces need a `${...}` first or second (parser.y)
    if tokens and "i" not in tokens[:2]:
        return Finding(node.start_byte, f"Nix cannot read the path `{shown}`", _PATH_HINT)
    return None


_PATH_HINT = "a path is `/name` parts with no empty part (`//`); or write it as a string"


def _float_fits(text: str) -> bool:
    """Does Nix's strtod read this float without a range error?"""
    value = float(text)
    if value in (float("inf"), float("-inf")):
        return False
    mantissa = re.split(r"[eE]", text)[0]
    nonzero = any(c in "123456789" for c in mantissa)
    return not (nonzero and abs(value) < _DBL_MIN)


def _operator(node: tree_sitter.Node) -> str:
    op = node.child_by_field_name("operator")
    return op.type if op is not None else ""


def _chained_comparison(node: tree_sitter.Node) -> Finding | None:
    op = _operator(node)
    group = _EQUALITY if op in _EQUALITY else _ORDER if op in _ORDER else None
    if group is None:
        return None
    for side in ("left", "right"):
        child = node.child_by_field_name(side)
        if child is not None and child.type == "binary_expression" and _operator(child) in group:
            second = node.child_by_field_name("operator") if side == "left" else None
            if second is None:
                inner = child.child_by_field_name("operator")
                second = inner if inner is not None else child
            return Finding(
                second.start_byte,
                f"comparisons do not chain in Nix: `{_operator(child)}` then `{op}`",
                "add parentheses, e.g. `(a == b) == c`, or join the tests with `&&`",
            )
    return None


def _dynamic_in_let(node: tree_sitter.Node) -> Iterator[Finding]:
    for binding_set in node.named_children:
        if binding_set.type != "binding_set":
            continue
        for binding in binding_set.named_children:
            if binding.type != "binding":
                continue
            path = binding.child_by_field_name("attrpath")
            first = (
                next((c for c in path.named_children if c.type != "comment"), None)
                if path
                else None
            )
            if first is not None and static_name(first) is None:
                yield Finding(
                    first.start_byte,
                    "dynamic attributes not allowed in let",
                    "a name bound by `let` is written as is; build a set "
                    "(`{ ${…} = …; }`) to compute names",
                )


def _dynamic_in_inherit(node: tree_sitter.Node) -> Iterator[Finding]:
    attrs = node.child_by_field_name("attrs")
    for name in attrs.named_children if attrs is not None else ():
        if name.type != "comment" and static_name(name) is None:
            yield Finding(
                name.start_byte,
                "dynamic attributes not allowed in inherit",
                "inherit names as they are written; for a computed name write "
                "`${…} = set.${…};` instead",
            )
