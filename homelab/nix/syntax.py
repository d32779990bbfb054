"""Checking user-written Nix without Nix installed, with tree-sitter-nix.

`check_expression` says whether a text is one Nix expression; `check_module_body` whether a
profile's ``extraConfig`` is a list of bindings or a whole module.  Errors carry a 1-based
line and column (in characters) relative to the text given.

Besides syntax, the checks report what Nix itself refuses while parsing: an attribute
defined twice in one set (with Nix's own merging rules for ``a.b = ...; a.c = ...;``), a
function argument given twice, and what Nix's grammar forbids although tree-sitter-nix
reads it (`homelab.nix.grammar`: ``x = or;``, ``./a/``, ``a == b == c``, ...).
`check_module_body` also reports names nothing binds (`homelab.nix.scope`): Nix refuses
``x.y = b.c;`` in a module whose arguments are config, lib and pkgs.  `check_expression`
does not, as the names around an expression depend on where it is used.
"""

from __future__ import annotations

import bisect
import functools
import re
import threading
from array import array
from dataclasses import dataclass
from typing import Literal

import tree_sitter

from homelab.nix import grammar, scope
from homelab.nix.names import is_identifier

__all__ = ["MODULE_ARGS", "NixSyntaxError", "check_expression", "check_module_body", "parse"]

#: The arguments of the module homelab writes around extraConfig's bindings.
MODULE_ARGS = ("config", "lib", "pkgs")


@dataclass(frozen=True)
class NixSyntaxError:
    """One problem; `line` and `column` are 1-based, the column counts characters; `hint`
    says how to fix it when there is more to say than the message."""

    line: int
    column: int
    message: str
    hint: str = ""

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.message}"


_local = threading.local()

#: Expressions accepted as a whole module in extraConfig.
_MODULE_TYPES = frozenset(
    {"function_expression", "attrset_expression", "rec_attrset_expression", "let_expression"}
)
_ATTRSET_TYPES = frozenset({"attrset_expression", "rec_attrset_expression"})

_BINDINGS_PREFIX = "{\n"
_BINDINGS_SUFFIX = "\n}"


def parse(text: str) -> tree_sitter.Tree:
    """The tree-sitter-nix tree of `text` (one parser per thread)."""
    parser: tree_sitter.Parser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = tree_sitter.Parser(grammar.LANGUAGE)
        _local.parser = parser
    return parser.parse(text.encode("utf-8", "surrogatepass"))


class _Positions:
    """Byte offsets of a text to 1-based (line, character column), shifted by a prefix."""

    def __init__(self, text: str, prefix_lines: int = 0) -> None:
        self.data = text.encode("utf-8", "surrogatepass")
        self.prefix_lines = prefix_lines
        self._starts: array[int] | None = None  # where each line starts, once asked
        self._follow = array("Q")  # where UTF-8 continuation bytes are

    def at(self, byte: int) -> tuple[int, int]:
        if self._starts is None:
            self._starts = array("Q", [0, *(m.end() for m in re.finditer(b"\n", self.data))])
            if not self.data.isascii():
                self._follow.extend(m.start() for m in re.finditer(b"[\x80-\xbf]", self.data))
        line = bisect.bisect_right(self._starts, byte) - 1
        start = self._starts[line]
        column = byte - start + 1  # in characters: continuation bytes do not count
        if self._follow:
            column -= bisect.bisect_left(self._follow, byte) - bisect.bisect_left(
                self._follow, start
            )
        return line + 1 - self.prefix_lines, column


def _show(token: bytes) -> str:
    text = token.decode("utf-8", "replace")
    text = " ".join(text.split())
    if len(text) > 20:
        text = text[:20] + "…"
    return f"`{text}`"


def _first_leaf(node: tree_sitter.Node) -> tree_sitter.Node:
    while node.child_count:
        node = node.children[0]
    return node


def _error_nodes(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    """ERROR and MISSING nodes, outermost only."""
    out: list[tree_sitter.Node] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if n.is_error or n.is_missing:
            out.append(n)
            continue
        if n.has_error:
            stack.extend(reversed(n.children))
    return out


_CLOSERS = {"[": "]", "(": ")", "{": "}", "${": "}", "let": "in"}


def _missing_name(node: tree_sitter.Node) -> tuple[str, str] | None:
    """What and how to fix, for a name missing where Nix 2.8 itself needs none (a `,`
    before the `}` of a function's arguments, an empty `inherit`): homelab cannot write
    such text back, so it is refused with a fix."""
    parent = node.parent
    if node.type != "identifier" or parent is None:
        return None
    before = parent.prev_sibling
    if parent.type == "formal" and before is not None and before.type == ",":
        return "a `,` with no argument after it", "remove the `,` before `}`"
    if parent.type == "inherited_attrs":
        return "`inherit` names nothing", "name what to inherit, e.g. `inherit (pkgs) hello;`"
    return None


def _problem(node: tree_sitter.Node) -> tuple[int, str, str]:
    """Where (byte), what and how to fix (or ""), for one ERROR or MISSING node."""
    if node.is_missing:
        kind = node.type
        known = _missing_name(node)
        if known is not None:
            return node.start_byte, *known
        if node.is_named:
            return node.start_byte, f"missing {kind.replace('_', ' ')}", ""
        return node.start_byte, f"missing `{kind}`", ""
    children = node.children
    if [c.type for c in children] == [","] and (parent := node.parent) and parent.type == "formals":
        return node.start_byte, "a `,` with no argument after it", "remove the `,` before `}`"
    for i, child in enumerate(children):
        if (
            child.text == b"~/"
            and i + 1 < len(children)
            and children[i + 1].type == "${"
            and children[i + 1].start_byte == child.end_byte
        ):  # Nix reads `~/${x}`; tree-sitter-nix does not
            return (
                child.start_byte,
                "homelab cannot check a path that starts with `~/${`",
                "put a name before the `${` (`~/.config/${…}`), or write the path as a string",
            )
        # a quote or comment start the error swallowed: nothing closed it
        if child.type in ('"', "''"):
            return child.start_byte, "unterminated string", ""
        if (
            child.type == "/"
            and i + 1 < len(children)
            and children[i + 1].type == "*"
            and children[i + 1].start_byte == child.end_byte
        ):
            return child.start_byte, "unterminated comment", ""
    # an opening bracket the error swallowed without its closing one
    stack: list[tree_sitter.Node] = []
    for child in children:
        if child.type in _CLOSERS:
            stack.append(child)
        elif stack and child.type == _CLOSERS[stack[-1].type]:
            stack.pop()
    if stack:
        opener = stack[0]
        return (
            opener.start_byte,
            f"`{opener.type}` is never closed (missing `{_CLOSERS[opener.type]}`)",
            "",
        )
    leaf = _first_leaf(node)
    if leaf.type in ('"', "''") and leaf.text in (b'"', b"''"):
        return leaf.start_byte, "unterminated string", ""
    if leaf.start_byte == leaf.end_byte or not leaf.text:
        return node.start_byte, "syntax error", ""
    return leaf.start_byte, f"unexpected {_show(leaf.text)}", ""


def _syntax_errors(tree: tree_sitter.Tree, pos: _Positions) -> list[NixSyntaxError]:
    out: list[NixSyntaxError] = []
    for node in _error_nodes(tree.root_node):
        byte, message, hint = _problem(node)
        line, column = pos.at(byte)
        out.append(NixSyntaxError(line, column, message, hint))
    return sorted(set(out), key=lambda e: (e.line, e.column, e.message))


def _expressions(root: tree_sitter.Node) -> list[tree_sitter.Node]:
    return [c for c in root.children if c.type != "comment"]


# ---- what Nix reports while parsing: attributes defined twice, duplicate formals --------


_SETS = tree_sitter.Query(
    grammar.LANGUAGE,
    """
    [
      (attrset_expression) (rec_attrset_expression) (let_expression) (let_attrset_expression)
    ] @set
    (formals) @formals
    """,
)


def _start(node: tree_sitter.Node) -> int:
    return int(node.start_byte)


class _Attrs:
    """Nix's view of a set literal while parsing, to find attributes defined twice."""

    def __init__(self) -> None:
        # name -> (nested set or None when the value is not a set literal, inherited?, node)
        self.attrs: dict[str, tuple[_Attrs | None, bool, tree_sitter.Node]] = {}


class _Duplicates:
    def __init__(self, pos: _Positions) -> None:
        self.pos = pos
        self.errors: list[NixSyntaxError] = []

    def report(self, node: tree_sitter.Node, name: str, first: tree_sitter.Node) -> None:
        line, column = self.pos.at(node.start_byte)
        fline, fcolumn = self.pos.at(first.start_byte)
        where = f"line {fline}, column {fcolumn}" if fline >= 1 else "above"
        self.errors.append(
            NixSyntaxError(line, column, f"attribute `{name}` already defined at {where}")
        )

    def walk(self, node: tree_sitter.Node) -> None:
        """Check every set literal, let and function head in the tree."""
        found = tree_sitter.QueryCursor(_SETS).captures(node)
        for n in sorted(found.get("set", []) + found.get("formals", []), key=_start):
            if n.type == "formals":
                self.formals(n)
            else:
                self.attrset(n)

    def formals(self, node: tree_sitter.Node) -> None:
        seen: set[str] = set()
        for formal in node.named_children:
            if formal.type != "formal":
                continue
            names = [c for c in formal.named_children if c.type == "identifier"]
            if not names:
                continue
            name = (names[0].text or b"").decode("utf-8", "replace")
            if name in seen:
                line, column = self.pos.at(names[0].start_byte)
                self.errors.append(
                    NixSyntaxError(line, column, f"function argument `{name}` given twice")
                )
            seen.add(name)
        # `{ a }@a:` names the same argument twice, too
        universal = node.parent.child_by_field_name("universal") if node.parent else None
        name = (universal.text or b"").decode("utf-8", "replace") if universal else ""
        if universal is not None and name in seen:
            line, column = self.pos.at(universal.start_byte)
            self.errors.append(
                NixSyntaxError(
                    line,
                    column,
                    f"function argument `{name}` given twice",
                    f"`@{name}` names the whole set: give it another name",
                )
            )

    def attrset(self, node: tree_sitter.Node) -> _Attrs:
        attrs = _Attrs()
        for binding_set in node.named_children:
            if binding_set.type == "binding_set":
                self.bindings(attrs, binding_set)
        return attrs

    def value_attrs(self, value: tree_sitter.Node | None) -> _Attrs | None:
        if value is None:
            return None
        value = grammar.unparen(value)
        if value.type in _ATTRSET_TYPES:
            # (nested sets are checked on their own by walk(); no reports twice)
            saved = self.errors
            self.errors = []
            attrs = self.attrset(value)
            self.errors = saved
            return attrs
        return None

    def bindings(self, attrs: _Attrs, binding_set: tree_sitter.Node) -> None:
        for b in binding_set.named_children:
            if b.type == "binding":
                path = b.child_by_field_name("attrpath")
                value = b.child_by_field_name("expression")
                if path is None:
                    continue
                elements = [c for c in path.named_children if c.type != "comment"]
                self.add(attrs, elements, value, b)
            elif b.type in ("inherit", "inherit_from"):
                ids = b.child_by_field_name("attrs")
                if ids is None:
                    continue
                for name_node in ids.named_children:
                    key = grammar.static_name(name_node)
                    if key is None:
                        continue
                    if key in attrs.attrs:
                        self.report(name_node, key, attrs.attrs[key][2])
                    else:
                        attrs.attrs[key] = (None, True, name_node)

    def add(
        self,
        attrs: _Attrs,
        elements: list[tree_sitter.Node],
        value: tree_sitter.Node | None,
        binding: tree_sitter.Node,
    ) -> None:
        """Nix's addAttr: `a.b.c = value` into `attrs`."""
        keys = [grammar.static_name(e) for e in elements]
        shown = ".".join("${…}" if k is None else _display(k) for k in keys)
        for key in keys[:-1]:
            if key is None:  # a computed name: a set of its own that nothing else reaches
                attrs = _Attrs()
                continue
            existing = attrs.attrs.get(key)
            if existing is None:
                nested = _Attrs()
                attrs.attrs[key] = (nested, False, binding)
                attrs = nested
            elif existing[0] is None or existing[1]:
                self.report(binding, shown, existing[2])
                return
            else:
                attrs = existing[0]
        key = keys[-1]
        if key is None:
            return  # Nix checks computed names when evaluating
        existing = attrs.attrs.get(key)
        new = self.value_attrs(value)
        if existing is None:
            attrs.attrs[key] = (new, False, binding)
        elif existing[0] is not None and not existing[1] and new is not None:
            # Nix merges `a = { b = 1; }; a = { c = 2; };` (one level deep)
            for name, entry in new.attrs.items():
                if name in existing[0].attrs:
                    self.report(binding, shown + "." + _display(name), existing[0].attrs[name][2])
                else:
                    existing[0].attrs[name] = entry
        else:
            self.report(binding, shown, existing[2])


def _display(key: str) -> str:
    """An attribute name as shown in messages (quoted when not an identifier)."""
    if is_identifier(key):
        return key
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _parse_time_errors(
    tree: tree_sitter.Tree,
    pos: _Positions,
    arguments: tuple[str, ...] | None = None,
    bindings: bool = False,
) -> list[NixSyntaxError]:
    """What Nix refuses while parsing a text that tree-sitter-nix read without error;
    with `arguments` (the names bound around the text) also the names nothing binds."""
    root = tree.root_node

    def at(finding: grammar.Finding) -> NixSyntaxError:
        line, column = pos.at(finding.byte)
        return NixSyntaxError(line, column, finding.message, finding.hint)

    deep = grammar.too_deep(root)
    if deep is not None:  # (the checks below would take too long, or recurse too deep)
        return [at(deep)]
    errors = [at(f) for f in grammar.stricter_rules(root)]
    if arguments is not None and not errors:  # (`x = or;` is not also an undefined `or`)
        errors = [at(f) for f in scope.report(root, arguments, bindings)]
    d = _Duplicates(pos)
    d.walk(root)
    errors.extend(d.errors)
    return sorted(set(errors), key=lambda e: (e.line, e.column, e.message))


# ---- public checks ----------------------------------------------------------------------


def check_expression(text: str) -> list[NixSyntaxError]:
    """Problems that stop `text` from being exactly one Nix expression ([] when it is)."""
    if len(text) > _LONGEST_REMEMBERED:
        return _expression_errors(text)
    return list(_checked_expression(text))


# Remembered by text: a build checks the same text when validating the profile, when
# making its Raw value and when compiling (and hosts share fragments' Nix), and the parse
# is most of a check's cost.
_REMEMBERED = 2048
# texts longer than this are checked each time: the editor checks each draft, and a few
# thousand drafts of a large text would be kept for nothing
_LONGEST_REMEMBERED = 16 * 1024


@functools.lru_cache(maxsize=_REMEMBERED)
def _checked_expression(text: str) -> tuple[NixSyntaxError, ...]:
    return tuple(_expression_errors(text))


def _expression_errors(text: str) -> list[NixSyntaxError]:
    tree = parse(text)
    pos = _Positions(text)
    errors = _syntax_errors(tree, pos)
    if errors:
        return errors
    exprs = _expressions(tree.root_node)
    if not exprs:
        line, column = pos.at(len(pos.data))
        return [NixSyntaxError(line, column, "expected a Nix expression")]
    if len(exprs) > 1:
        line, column = pos.at(exprs[1].start_byte)
        return [NixSyntaxError(line, column, f"unexpected {_show(exprs[1].text or b'')}")]
    return _parse_time_errors(tree, pos)


_NOT_A_MODULE = (
    "expected NixOS option bindings (`name = value;` lines) or a whole module"
    " (`{ ... }` or `{ config, pkgs, ... }: { ... }`)"
)


def _looks_like_module(tree: tree_sitter.Tree) -> bool:
    exprs = _expressions(tree.root_node)
    if not exprs:
        return False
    first = exprs[0]
    if first.type in _MODULE_TYPES:
        return True
    leaf = _first_leaf(first)
    # bindings never start with `{`, `let` or `rec`
    return leaf.type in ("{", "let", "rec")


def _check_bindings(text: str) -> list[NixSyntaxError]:
    wrapped = _BINDINGS_PREFIX + text + _BINDINGS_SUFFIX
    tree = parse(wrapped)
    pos = _Positions(wrapped, prefix_lines=_BINDINGS_PREFIX.count("\n"))
    size = len(pos.data)
    last_line = text.count("\n") + 1
    end_column = len(text.rsplit("\n", 1)[-1]) + 1

    def place(byte: int, message: str, hint: str = "") -> NixSyntaxError:
        line, column = pos.at(byte)
        if line < 1:  # our `{`: the text opened one more set than it closed
            return NixSyntaxError(last_line, end_column, "missing `}`")
        if line > last_line:  # our `}`
            return NixSyntaxError(last_line, end_column, message, hint)
        return NixSyntaxError(line, column, message, hint)

    # Did the text close our `{`?  Find the node our `{` opens and the `}` closing it.
    opener = tree.root_node
    while opener.child_count and opener.children[0].child_count:
        opener = opener.children[0]
    if opener.child_count and opener.children[0].type == "{" and opener.children[0].start_byte == 0:
        closer = opener.children[-1]
        if closer.type == "}" and not closer.is_missing and closer.end_byte < size:
            return [place(closer.start_byte, "unexpected `}`: it would close the set of bindings")]

    errors: list[NixSyntaxError] = []
    for node in _error_nodes(tree.root_node):
        errors.append(place(*_problem(node)))
    if errors:
        return sorted(set(errors), key=lambda e: (e.line, e.column, e.message))
    exprs = _expressions(tree.root_node)
    if not (
        len(exprs) == 1
        and exprs[0].type == "attrset_expression"
        and exprs[0].start_byte == 0
        and exprs[0].end_byte == size
    ):
        return [NixSyntaxError(1, 1, _NOT_A_MODULE)]
    return _parse_time_errors(tree, pos, MODULE_ARGS, bindings=True)


def check_module_body(text: str) -> tuple[Literal["bindings", "module"], list[NixSyntaxError]]:
    """Classify and check a profile's ``extraConfig``.

    Returns ``("bindings", errors)`` for a list of bindings such as
    ``services.fwupd.enable = true;`` (checked inside ``{`` ``}``; the text may not close
    that set early, e.g. ``a = 1; } // { b = 2;`` is refused), or ``("module", errors)``
    for a whole module: a function (``{ config, pkgs, ... }: { ... }``), a set
    (``{ ... }``) or a ``let ... in`` of one.  Empty text is valid bindings.  When the text
    is neither, the errors are those of the reading it looks closer to.
    """
    if len(text) > _LONGEST_REMEMBERED:
        return _module_body_errors(text)
    kind, errors = _checked_module_body(text)
    return kind, list(errors)


@functools.lru_cache(maxsize=_REMEMBERED)
def _checked_module_body(
    text: str,
) -> tuple[Literal["bindings", "module"], tuple[NixSyntaxError, ...]]:
    kind, errors = _module_body_errors(text)
    return kind, tuple(errors)


def _module_body_errors(
    text: str,
) -> tuple[Literal["bindings", "module"], list[NixSyntaxError]]:
    if not text.strip():
        return "bindings", []
    tree = parse(text)
    pos = _Positions(text)
    if _looks_like_module(tree):
        errors = _syntax_errors(tree, pos)
        exprs = _expressions(tree.root_node)
        if not errors and len(exprs) > 1:
            line, column = pos.at(exprs[1].start_byte)
            errors = [NixSyntaxError(line, column, f"unexpected {_show(exprs[1].text or b'')}")]
        if not errors and exprs[0].type not in _MODULE_TYPES:
            line, column = pos.at(exprs[0].start_byte)
            errors = [NixSyntaxError(line, column, _NOT_A_MODULE)]
        if not errors:
            errors = _parse_time_errors(tree, pos, arguments=())
        return "module", errors
    errors = _check_bindings(text)
    if errors and not _syntax_errors(tree, pos):
        # a whole expression, but not a module (e.g. `42` or `lib.mkIf x { }`)
        exprs = _expressions(tree.root_node)
        if len(exprs) == 1:
            line, column = pos.at(exprs[0].start_byte)
            return "module", [NixSyntaxError(line, column, _NOT_A_MODULE)]
    return "bindings", errors
