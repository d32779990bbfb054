"""The options a piece of NixOS Nix sets, read from its text with tree-sitter-nix.

`option_bindings` lists every attribute path a module's text defines, with the nested set
literals spelled out (`users = { users.alice = { password = ...; }; }` defines
`users.users.alice.password`), looking through what only wraps a set: `lib.mkIf c { ... }`,
`lib.mkMerge [ { ... } ]`, `lib.mkForce { ... }`, a `let ... in`, the module's function
head, and an explicit `config = { ... };` beside `options`. Conservative: a name that Nix
computes (`${x}`) or a set made by a function is not seen. Used to refuse what must never
be written as Nix (plaintext passwords) and to see which groups and users raw Nix creates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import tree_sitter

from homelab.nix.grammar import static_name, unparen
from homelab.nix.names import is_identifier
from homelab.nix.syntax import _Positions, parse

__all__ = [
    "PASSWORD_WORDS",
    "OptionBinding",
    "created_names",
    "option_bindings",
    "plaintext_passwords",
]

#: NixOS user attributes that hold a password in plain text, stored in the world-readable
#: Nix store (nixos/modules/config/users-groups.nix: `password`, `initialPassword`).
PASSWORD_WORDS = ("password", "initialPassword")

_SETS = frozenset({"attrset_expression", "rec_attrset_expression"})
_BINDINGS_PREFIX = "{\n"


@dataclass(frozen=True)
class OptionBinding:
    """One attribute path the text defines; `line` and `column` (1-based, in characters,
    relative to the text given) are those of the path's last name."""

    path: tuple[str, ...]
    line: int
    column: int
    value: str  # the Nix text of the value ("" for a path that only leads to a set)


def option_bindings(
    text: str, kind: str = "bindings", at: tuple[str, ...] = ()
) -> list[OptionBinding]:
    """Every attribute path `text` defines: `kind` "bindings" for `name = value;` lines
    (as extraConfig holds them), "module" for a whole module, "auto" for either (what
    extraConfig's check would call it), "value" for an expression that is the value of the
    option path `at` (a `!nix` value: `{ password = "x"; }` at users.users.alice defines
    users.users.alice.password; a value that is no set defines `at` itself)."""
    if kind == "auto":
        kind = _kind_of(text)
    return list(_bindings(text, kind, at))


# a module starts with `{`, `let`, `rec`, `(` or a function's argument (`args:`,
# `args@{`); bindings with a name and `.` or `=`
_MODULE_START = re.compile(r"(?:\{|\(|let\b|rec\b|[A-Za-z_][\w'-]*\s*[:@])")
_COMMENTS = re.compile(r"(?:\s+|#[^\n]*|/\*.*?\*/)*", re.S)


def _kind_of(text: str) -> str:
    """ "module" or "bindings", as extraConfig's check would call the text, told from its
    first token (parsing bindings without their braces is slow)."""
    start = _COMMENTS.match(text)
    rest = text[start.end() if start else 0 :]
    return "module" if _MODULE_START.match(rest) else "bindings"


@lru_cache(maxsize=32)
def _bindings(text: str, kind: str, at: tuple[str, ...]) -> tuple[OptionBinding, ...]:
    """option_bindings, once per text: validation and advice each ask of extraConfig."""
    if kind == "bindings":
        wrapped = _BINDINGS_PREFIX + text + "\n}"
        pos = _Positions(wrapped, prefix_lines=1)
    else:
        wrapped = text
        pos = _Positions(wrapped)
    tree = parse(wrapped)
    exprs = [c for c in tree.root_node.children if c.type != "comment"]
    if not exprs:
        return ()
    out: list[OptionBinding] = []
    if kind == "value":
        sets = list(_through_wrappers(exprs[0]))
        if not sets and at:
            line, column = pos.at(exprs[0].start_byte)
            out.append(OptionBinding(at, line, column, text.strip()))
        for value in sets:
            _walk(value, at, pos, out)
        return tuple(out)
    top = _module_body(exprs[0])
    for value in _through_wrappers(top):
        _walk(value, (), pos, out, top_level=True)
    return tuple(out)


def _module_body(node: tree_sitter.Node) -> tree_sitter.Node:
    """The set a module returns: through `{ config, ... }:` heads and `let ... in`."""
    node = unparen(node)
    while node.type in ("function_expression", "let_expression"):
        body = node.child_by_field_name("body")
        if body is None:
            break
        node = unparen(body)
    return node


def _through_wrappers(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    """The set literals a value stands for: itself, or those inside `lib.mkIf c { }`,
    `lib.mkMerge [ { } { } ]`, `lib.mkDefault { }` and the like."""
    node = unparen(node)
    if node.type in _SETS:
        yield node
    elif node.type == "apply_expression":
        argument = node.child_by_field_name("argument")
        if argument is not None:
            yield from _through_wrappers(argument)
    elif node.type == "list_expression":
        for item in node.named_children:
            if item.type != "comment":
                yield from _through_wrappers(item)
    elif node.type == "let_expression":
        body = node.child_by_field_name("body")
        if body is not None:
            yield from _through_wrappers(body)


def _walk(
    node: tree_sitter.Node,
    prefix: tuple[str, ...],
    pos: _Positions,
    out: list[OptionBinding],
    top_level: bool = False,
) -> None:
    explicit = top_level and _has_config_and_options(node)
    for binding_set in node.named_children:
        if binding_set.type != "binding_set":
            continue
        for b in binding_set.named_children:
            if b.type != "binding":
                continue
            attrpath = b.child_by_field_name("attrpath")
            value = b.child_by_field_name("expression")
            if attrpath is None or value is None:
                continue
            elements = [e for e in attrpath.named_children if e.type != "comment"]
            names = [static_name(e) for e in elements]
            if not names or any(n is None for n in names):
                continue  # a computed name: Nix decides it when evaluating
            path = (*prefix, *(str(n) for n in names))
            if explicit:
                if path[0] != "config":
                    continue  # `options`, `imports`, `meta`: they set no option
                path = path[1:]
                if not path:
                    for inner in _through_wrappers(value):
                        _walk(inner, (), pos, out)
                    continue
            line, column = pos.at(elements[-1].start_byte)
            sets = list(_through_wrappers(value))
            shown = "" if sets else (value.text or b"").decode("utf-8", "replace")
            out.append(OptionBinding(path, line, column, shown))
            for inner in sets:
                _walk(inner, path, pos, out)


def _has_config_and_options(node: tree_sitter.Node) -> bool:
    """A module written out in full (`{ options = ...; config = ...; }`): its options are
    under `config`."""
    firsts = set()
    for binding_set in node.named_children:
        if binding_set.type != "binding_set":
            continue
        for b in binding_set.named_children:
            attrpath = b.child_by_field_name("attrpath") if b.type == "binding" else None
            if attrpath is not None and attrpath.named_children:
                firsts.add(static_name(attrpath.named_children[0]))
    return "config" in firsts and bool(firsts & {"options", "imports"})


def _user_attribute(path: tuple[str, ...]) -> tuple[str, str] | None:
    """(user, attribute) for `users.users.NAME.ATTR` and `users.extraUsers.NAME.ATTR`."""
    if len(path) == 4 and path[0] == "users" and path[1] in ("users", "extraUsers"):
        return path[2], path[3]
    return None


def plaintext_passwords(
    text: str, kind: str = "bindings", at: tuple[str, ...] = ()
) -> list[tuple[int, int, str]]:
    """(line, column, attribute path) of each plaintext password `text` gives a user:
    `users.users.NAME.password` or `initialPassword` (also under users.extraUsers), in any
    spelling of nested sets. A `null` is no password. `kind` and `at` as for
    `option_bindings` (kind "value" with `at` for a `!nix` value at an option path)."""
    found = []
    for b in option_bindings(text, kind, at):
        user = _user_attribute(b.path)
        if user is not None and user[1] in PASSWORD_WORDS and b.value.strip() != "null":
            found.append((b.line, b.column, ".".join(_shown(p) for p in b.path)))
    return found


def created_names(text: str, kind: str = "bindings") -> tuple[set[str], set[str]]:
    """(groups, users) the text creates: the NAMEs of `users.groups.NAME` and of
    `users.users.NAME` (or `users.extraUsers.NAME`), in any spelling of nested sets."""
    groups: set[str] = set()
    users: set[str] = set()
    for b in option_bindings(text, kind):
        p = b.path
        if len(p) >= 3 and p[0] == "users":
            if p[1] in ("groups", "extraGroups"):
                groups.add(p[2])
            elif p[1] in ("users", "extraUsers"):
                users.add(p[2])
    return groups, users


def _shown(name: str) -> str:
    return name if is_identifier(name) else '"' + name.replace('"', '\\"') + '"'
