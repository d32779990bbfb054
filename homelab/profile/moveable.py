"""Which settings of a host's extraConfig could move into `options:` (`homelab show HOST
--extra`), for people who start from raw Nix.

Each binding of extraConfig (`name = value;` lines, or the set a whole module returns) is
one of three things:

- a plain value (text, number, true/false/null, a list or set of them, `pkgs.NAME`,
  `with pkgs; [ NAME ]`, `lib.mkForce`/`lib.mkDefault` of one): it moves as YAML, tags
  included;
- Nix that uses nothing but `config`, `lib` and `pkgs`: it can move as a `!nix` value
  (inside a list or set, only the item that needs Nix is one);
- anything else stays: a module's own keys (`imports`, `options`, ...), names bound by a
  `let`, `with` or argument around the module, paths (Nix reads them relative to the
  file), computed names, `inherit`, and what `options:` would refuse (a plaintext password).

A binding moves whole, never split, so what moves means in options.nix what it meant in
extraConfig (NixOS joins the definitions of the two modules).  Every entry is checked
before it is offered: its YAML is read back the way a profile is read, must give the same
value, and must pass the checks of `options:`.

Nix's strings are read by homelab.nix.strings, the entries written by
homelab.profile.options_yaml.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Literal

import tree_sitter

from homelab.errors import Place
from homelab.nix.expr import NixValueError
from homelab.nix.grammar import static_name, unparen
from homelab.nix.meaning import same_meaning
from homelab.nix.scope import GLOBALS, undefined_names
from homelab.nix.strings import NotLiteral, double_quoted, indented
from homelab.nix.syntax import NixSyntaxError, check_module_body, parse
from homelab.profile.check_options import option_problems
from homelab.profile.options import (
    SECTION,
    key_text,
    nix_value,
    parse_key,
    settings,
    tag_of,
    tags_allowed,
)
from homelab.profile.options_yaml import dump
from homelab.yamlfile import load_text

__all__ = ["Move", "Moves", "Stay", "moves"]

#: Names of a module that are not options (NixOS's unifyModuleSyntax).
_MODULE_KEYS = frozenset(
    {"imports", "options", "disabledModules", "meta", "_file", "key", "_class", "freeformType"}
)
_ARGS = ("config", "lib", "pkgs")  # what options.nix's module takes
_PATHS = frozenset({"path_expression", "hpath_expression", "spath_expression"})


@dataclass(frozen=True)
class Move:
    """One binding that can move: extraConfig lines `first`..`last`, the option path and
    its value as `options:` reads it (tags as {tag: value}); `as_nix` says why the value
    is a `!nix` expression rather than plain YAML ("" when it is plain YAML)."""

    first: int
    last: int
    option: tuple[str, ...]
    value: Any
    as_nix: str = ""
    text: str = ""  # the binding's first line, as written
    already: str = ""  # the key in the profile's options: that sets it (or a part) already

    @property
    def key(self) -> str:
        return key_text(self.option)

    @property
    def lines(self) -> str:
        return _lines(self.first, self.last)


@dataclass(frozen=True)
class Stay:
    """One binding (or the whole module) that must stay Nix, and why."""

    first: int
    last: int
    text: str  # its first line, as written
    reason: str

    @property
    def lines(self) -> str:
        return _lines(self.first, self.last)


@dataclass(frozen=True)
class Moves:
    """What of one extraConfig can move into `options:`."""

    form: Literal["bindings", "module"]
    moves: tuple[Move, ...] = ()
    stays: tuple[Stay, ...] = ()
    errors: tuple[NixSyntaxError, ...] = ()  # extraConfig does not parse: nothing else
    where: Place | None = None  # where extraConfig is written, when known
    has_options: bool = False  # the profile has an options: section already

    def yaml(self, header: bool = True) -> str:
        """The YAML to paste at a profile's top level: `options:` (`header`) and the
        entries under it, each after a comment naming its extraConfig lines ("" when
        nothing moves)."""
        if not self.to_paste:
            return ""
        return (f"{SECTION}:\n" if header else "") + "".join(_entry(m) for m in self.to_paste)

    @property
    def to_paste(self) -> tuple[Move, ...]:
        """The moves that the profile's options: do not set yet."""
        return tuple(m for m in self.moves if not m.already)

    @property
    def already(self) -> tuple[Move, ...]:
        """The moves whose options the profile's options: set already."""
        return tuple(m for m in self.moves if m.already)


def _lines(first: int, last: int) -> str:
    return f"line {first}" if first == last else f"lines {first}-{last}"


# ---- YAML ------------------------------------------------------------------------------


def _entry(m: Move) -> str:
    said = f"extraConfig {m.lines}"
    if m.as_nix:
        said += f", {'as' if tag_of(m.value) == '!nix' else 'partly as'} Nix: {m.as_nix}"
    return f"  # {said}\n" + dump(m.key, m.value)


def _reads_back(m: Move) -> str:
    """Why the entry's YAML would not mean what the binding meant ("" when it does)."""
    text = f"{SECTION}:\n" + dump(m.key, m.value)
    doc, problems = load_text("<moved>", text, tags_allowed)
    if doc is None or problems:
        return "homelab cannot write this value as YAML"
    found, problems_ = settings(doc.data.get(SECTION), (SECTION,))
    if problems_:
        return "homelab cannot write this value as YAML"
    expected, _ = settings({m.key: m.value}, (SECTION,))
    if [(s.option, s.value) for s in found] != [(s.option, s.value) for s in expected]:
        return "homelab cannot write this value as YAML"
    refused = option_problems(doc, "host", lambda rel: rel)  # (no paths: they stay)
    if refused:
        said = re.sub(r" \(line -?\d+, column -?\d+ of the text\)", "", refused[0].message)
        return f"{said}; {refused[0].hint}" if refused[0].hint else said
    for s in found:
        try:
            nix_value(s.value)
        except NixValueError as err:
            return f"homelab cannot write this value: {err}"
    return ""


# ---- reading the Nix -------------------------------------------------------------------


def _text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def _short_text(node: tree_sitter.Node, limit: int = 30) -> str:
    text = " ".join(_text(node).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _NotPlain(Exception):
    """A value that is not plain YAML; the message says what it is."""


@dataclass
class _Scope:
    """What the names around the bindings are."""

    args: frozenset[str]  # of config, lib and pkgs: those that are the module's arguments
    bound: dict[str, str]  # other names bound around the bindings -> by what
    around_with: str = ""  # the `with X;` around the bindings, when there is one
    line_offset: int = 1  # extraConfig line = tree-sitter row + line_offset
    used: frozenset[str] = frozenset()  # (a `rec` set) its names its own values use


def moves(extra_config: str, written: Any = None) -> Moves:
    """What of `extra_config` (a profile's extraConfig) can move into `options:`;
    `written` is the profile's options: section, if it has one."""
    found = _moves(extra_config)
    if not isinstance(written, dict) or not written:
        return found
    existing = [s.option for s in settings(written, (SECTION,))[0]]
    marked = []
    for m in found.moves:
        mine = [s.option for s in settings({m.key: m.value}, (SECTION,))[0]]
        clash = next(
            (o for o in existing for n in mine if o[: len(n)] == n or n[: len(o)] == o), None
        )
        marked.append(dataclasses.replace(m, already=key_text(clash)) if clash else m)
    return dataclasses.replace(found, moves=tuple(marked), has_options=True)


def _moves(extra_config: str) -> Moves:
    form, errors = check_module_body(extra_config)
    if errors:
        return Moves(form, errors=tuple(errors))
    if not extra_config.strip():
        return Moves(form)
    if form == "bindings":
        tree = parse("{\n" + extra_config + "\n}")
        body = tree.root_node.named_children[0]
        scope = _Scope(frozenset(_ARGS), {}, line_offset=0)
    else:
        tree = parse(extra_config)
        top = next(c for c in tree.root_node.named_children if c.type != "comment")
        found = _module_body(top)
        if isinstance(found, str):
            return Moves(form, stays=(_stay(top, _Scope(frozenset(), {}), found),))
        body, scope = found
    out: list[Move | Stay] = []
    _bindings(body, (), scope, out)
    each = _once(out)
    return Moves(
        form,
        moves=tuple(m for m in each if isinstance(m, Move)),
        stays=tuple(s for s in each if isinstance(s, Stay)),
    )


def _once(found: list[Move | Stay]) -> list[Move | Stay]:
    """Each key once: Nix joins `a = { x = 1; }; a = { y = 2; };`, a YAML map would not
    (the second `a:` is a duplicate key), so the second one's names are spelled out."""
    seen: dict[str, Move] = {}
    out: list[Move | Stay] = []
    for m in found:
        if isinstance(m, Stay) or m.key not in seen:
            if isinstance(m, Move):
                seen[m.key] = m
            out.append(m)
            continue
        first = seen[m.key]
        if tag_of(first.value) is None and tag_of(m.value) is None and isinstance(m.value, dict):
            parts = [
                Move(m.first, m.last, (*m.option, *parse_key(k)), v, m.as_nix, m.text)
                for k, v in m.value.items()
            ]
            if not any(p.key in seen for p in parts):
                seen.update((p.key, p) for p in parts)
                out.extend(parts)
                continue
        out.append(
            Stay(
                m.first,
                m.last,
                m.text,
                f"`{m.key}` is set on {first.lines} too, and Nix joins the two: move them "
                "together by hand",
            )
        )
    return out


def _module_body(node: tree_sitter.Node) -> tuple[tree_sitter.Node, _Scope] | str:
    """The set a whole module returns and the names around it, or why there is none."""
    args: set[str] = set()
    bound: dict[str, str] = {}
    around_with = ""
    node = unparen(node)
    if node.type == "function_expression":
        formals = node.child_by_field_name("formals")
        universal = node.child_by_field_name("universal")
        if universal is not None:
            bound[_text(universal)] = "the module's argument set"
        for formal in formals.named_children if formals is not None else ():
            name = formal.child_by_field_name("name") if formal.type == "formal" else None
            if name is None:
                continue
            if _text(name) in _ARGS:
                args.add(_text(name))
            else:
                bound[_text(name)] = "an argument of the whole module"
        body = node.child_by_field_name("body")
        if body is None:
            return "the module has no body"
        node = unparen(body)
    while node.type in ("let_expression", "with_expression"):
        if node.type == "let_expression":
            for word in _names_of_set(node):
                bound[word] = "the `let` around the bindings"
                args.discard(word)
        else:
            env = node.child_by_field_name("environment")
            around_with = f"with {_short_text(env) if env is not None else '…'};"
        body = node.child_by_field_name("body")
        if body is None:
            return "the module has no body"
        node = unparen(body)
    used: set[str] = set()
    if node.type == "rec_attrset_expression":
        own = _names_of_set(node)
        for word in own:
            bound.setdefault(word, "a binding of the `rec` set")
        # a binding the others use cannot leave the set: they would no longer find it
        values = [
            v
            for binding_set in node.named_children
            if binding_set.type == "binding_set"
            for b in binding_set.named_children
            if (v := b.child_by_field_name("expression")) is not None
        ]
        used = {name for v in values for name, _, _ in undefined_names(v, ())} & set(own)
    elif node.type != "attrset_expression":
        return f"the module returns `{_short_text(node)}`, not a set of bindings"
    return node, _Scope(frozenset(args), bound, around_with, used=frozenset(used))


def _names_of_set(node: tree_sitter.Node) -> list[str]:
    names: list[str] = []
    for binding_set in (c for c in node.named_children if c.type == "binding_set"):
        for b in binding_set.named_children:
            if b.type == "binding":
                path = b.child_by_field_name("attrpath")
                first = path.named_children[0] if path is not None else None
                name = static_name(first) if first is not None else None
            elif b.type in ("inherit", "inherit_from"):
                attrs = b.child_by_field_name("attrs")
                for a in attrs.named_children if attrs is not None else ():
                    if (n := static_name(a)) is not None:
                        names.append(n)
                continue
            else:
                continue
            if name is not None:
                names.append(name)
    return names


def _first_line(node: tree_sitter.Node) -> str:
    return _text(node).split("\n", 1)[0].rstrip()


def _stay(node: tree_sitter.Node, scope: _Scope, reason: str) -> Stay:
    return Stay(
        node.start_point[0] + scope.line_offset,
        node.end_point[0] + scope.line_offset,
        _first_line(node),
        reason,
    )


def _bindings(
    node: tree_sitter.Node, prefix: tuple[str, ...], scope: _Scope, out: list[Move | Stay]
) -> None:
    for binding_set in (c for c in node.named_children if c.type == "binding_set"):
        for b in binding_set.named_children:
            if b.type == "comment":
                continue
            if b.type != "binding":
                out.append(_stay(b, scope, "an `inherit`: it names no option"))
                continue
            out.extend(_binding(b, prefix, scope))


def _binding(b: tree_sitter.Node, prefix: tuple[str, ...], scope: _Scope) -> list[Move | Stay]:
    path = b.child_by_field_name("attrpath")
    value = b.child_by_field_name("expression")
    if path is None or value is None:
        return [_stay(b, scope, "homelab cannot read this binding")]
    names = [static_name(e) for e in path.named_children if e.type != "comment"]
    if any(n is None for n in names):
        return [_stay(b, scope, "its name is computed (`${…}`)")]
    option = (*prefix, *(n for n in names if n is not None))
    if not prefix and option[0] in _MODULE_KEYS:
        why = f"`{option[0]}` belongs to the module itself, it is no option"
        if option[0] == "imports":  # what it imports has a place of its own in a profile
            why += ": list the modules under modules: instead"
        return [_stay(b, scope, why)]
    if not prefix and option[0] in scope.used:
        return [_stay(b, scope, f"other bindings of the `rec` set use `{option[0]}`")]
    if not prefix and option[0] == "config":
        # a module's explicit `config = { ... };` (or config.a.b = ...): its options
        if len(option) > 1:
            option = option[1:]
        elif unparen(value).type == "attrset_expression":
            out: list[Move | Stay] = []
            _bindings(unparen(value), (), scope, out)
            return out
        else:
            return [_stay(b, scope, "it sets the whole config at once (move its parts)")]
    first = b.start_point[0] + scope.line_offset
    last = b.end_point[0] + scope.line_offset
    stays = _why_stays(value, scope)
    if stays:
        return [_stay(b, scope, stays)]
    plain = _Plain(scope)
    try:
        move = Move(first, last, option, plain.value(value), plain.why, _first_line(b))
    except _NotPlain as why:
        move = Move(first, last, option, {"!nix": _nix_text(value)}, str(why), _first_line(b))
    problem = _reads_back(move)
    if problem:
        return [_stay(b, scope, problem)]
    return [move]


def _why_stays(value: tree_sitter.Node, scope: _Scope) -> str:
    """Why the value cannot leave its module ("" when it can, as YAML or as `!nix`)."""
    stack = [value]
    while stack:
        n = stack.pop()
        if n.type in _PATHS:
            return (
                f"it holds a path (`{_short_text(n)}`), which Nix reads relative to the "
                "file it is written in"
            )
        stack.extend(n.children)
    for name, _, _ in undefined_names(value, ()):
        if name in scope.args:
            continue
        if name in scope.bound:
            return f"it uses `{name}`, bound by {scope.bound[name]}"
        if scope.around_with:
            return f"it uses `{name}`, from the `{scope.around_with}` around the bindings"
        if name in _ARGS:
            return f"it uses `{name}`, which the module does not take as an argument"
        return f"it uses `{name}`, which options: cannot see"
    return ""


def _nix_text(value: tree_sitter.Node) -> str:
    """The value's text, its lines after the first shifted left as far as the indentation
    of the line it starts on goes (when that changes nothing Nix reads)."""
    text = _text(value)
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    root = value
    while root.parent is not None:
        root = root.parent
    first = _text(root).split("\n")[value.start_point[0]]
    cut = min(
        [len(first) - len(first.lstrip(" "))]
        + [len(line) - len(line.lstrip(" ")) for line in lines[1:] if line.strip()]
    )
    if cut == 0:
        return text
    shifted = "\n".join([lines[0], *(line[cut:] if line.strip() else "" for line in lines[1:])])
    return shifted if same_meaning(text, shifted) else text


class _Plain:
    """A value as plain YAML (raises _NotPlain saying what Nix it is)."""

    def __init__(self, scope: _Scope) -> None:
        self.scope = scope
        self.why = ""  # why a part of the value is written as `!nix`, when one is

    def _item(self, node: tree_sitter.Node) -> Any:
        """A list item or a set's value: as `!nix` when it is not plain (the containers
        around it bind no names, so its text means the same on its own)."""
        try:
            return self.value(node)
        except _NotPlain as why:
            self.why = self.why or str(why)
            return {"!nix": _nix_text(unparen(node))}

    def _is_arg(self, node: tree_sitter.Node, name: str) -> bool:
        return (
            node.type == "variable_expression" and _text(node) == name and name in self.scope.args
        )

    def _word(self, name: str) -> bool:
        """`true`, `false`, `null` as Nix's own (not bound to something else)."""
        return name not in self.scope.bound

    def value(self, node: tree_sitter.Node) -> Any:
        node = unparen(node)
        kind = node.type
        if kind == "integer_expression":
            return int(_text(node))
        if kind == "float_expression":
            return float(_text(node))
        if kind == "unary_expression" and node.children[0].type == "-":
            arg = unparen(node.children[-1])
            if arg.type in ("integer_expression", "float_expression"):
                return -self.value(arg)
            raise _NotPlain("an operator (`-`)")
        if kind in ("string_expression", "indented_string_expression"):
            read = double_quoted if kind == "string_expression" else indented
            try:
                return read(node)
            except NotLiteral as why:
                raise _NotPlain(str(why)) from None
        if kind == "variable_expression":
            name = _text(node)
            words: dict[str, Any] = {"true": True, "false": False, "null": None}
            if name in words and self._word(name):
                return words[name]
            raise _NotPlain(f"uses `{name}`")
        if kind == "select_expression":
            pkg = self._pkg(node)
            if pkg is not None:
                return {"!pkg": pkg}
            raise _NotPlain(f"uses `{_short_text(node)}`")
        if kind == "list_expression":
            return [self._item(c) for c in node.named_children if c.type != "comment"]
        if kind == "attrset_expression":
            return self._set(node)
        if kind == "apply_expression":
            return self._apply(node)
        if kind == "with_expression":
            return self._with_pkgs(node)
        raise _NotPlain(_described(node))

    def _pkg(self, node: tree_sitter.Node) -> str | None:
        """`pkgs.a.b` -> "a.b"."""
        target = node.child_by_field_name("expression")
        path = node.child_by_field_name("attrpath")
        if (
            target is None
            or path is None
            or node.child_by_field_name("default") is not None
            or not self._is_arg(target, "pkgs")
        ):
            return None
        return _dotted(path)

    def _set(self, node: tree_sitter.Node) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for binding_set in (c for c in node.named_children if c.type == "binding_set"):
            for b in binding_set.named_children:
                if b.type == "comment":
                    continue
                path = b.child_by_field_name("attrpath")
                value = b.child_by_field_name("expression")
                if b.type != "binding" or path is None or value is None:
                    raise _NotPlain("an `inherit`")
                names = [static_name(e) for e in path.named_children if e.type != "comment"]
                if any(n is None for n in names):
                    raise _NotPlain("a computed name (`${…}`)")
                key = key_text([n for n in names if n is not None])
                if key in out:  # (`a = { b = 1; }; a = { c = 2; };`: Nix merges them)
                    raise _NotPlain(f"`{key}` given twice")
                out[key] = self._item(value)
        return out

    def _apply(self, node: tree_sitter.Node) -> Any:
        function = node.child_by_field_name("function")
        argument = node.child_by_field_name("argument")
        head = function
        while head is not None and head.type == "apply_expression":
            head = head.child_by_field_name("function")
        shown = _short_text(head) if head is not None else "a function"
        if function is not None and argument is not None and function.type == "select_expression":
            target = function.child_by_field_name("expression")
            path = function.child_by_field_name("attrpath")
            name = _dotted(path) if path is not None else None
            tag = {"mkForce": "!force", "mkDefault": "!default"}.get(name or "")
            if tag and target is not None and self._is_arg(target, "lib"):
                inner = self.value(argument)
                if tag_of(inner) is None:
                    return {tag: inner}
        raise _NotPlain(f"calls `{shown}`")

    def _with_pkgs(self, node: tree_sitter.Node) -> list[Any]:
        """`with pkgs; [ htop git ]` -> [!pkg htop, !pkg git]."""
        env = node.child_by_field_name("environment")
        body = node.child_by_field_name("body")
        if env is None or body is None or not self._is_arg(unparen(env), "pkgs"):
            raise _NotPlain("a `with`")
        body = unparen(body)
        if body.type != "list_expression":
            raise _NotPlain("a `with`")
        # a name bound outside the `with` is not looked up in pkgs: Nix prefers it
        lexical = GLOBALS | self.scope.args | set(self.scope.bound)
        out: list[Any] = []
        for item in (c for c in body.named_children if c.type != "comment"):
            item = unparen(item)
            name = None
            if item.type == "variable_expression" and _text(item) not in lexical:
                name = _text(item)
            elif item.type == "select_expression":
                name = self._pkg(item)
                target = item.child_by_field_name("expression")
                path = item.child_by_field_name("attrpath")
                if (
                    name is None
                    and target is not None
                    and path is not None
                    and item.child_by_field_name("default") is None
                    and target.type == "variable_expression"
                    and _text(target) not in lexical
                    and (rest := _dotted(path)) is not None
                ):
                    name = f"{_text(target)}.{rest}"
            if name is None:
                raise _NotPlain("a `with`")
            out.append({"!pkg": name})
        return out


def _dotted(path: tree_sitter.Node) -> str | None:
    """An attribute path of plain names as "a.b", None otherwise."""
    names = [e for e in path.named_children if e.type != "comment"]
    if not all(e.type == "identifier" for e in names):
        return None
    return ".".join(_text(e) for e in names)


_DESCRIBED = {
    "function_expression": "a function",
    "let_expression": "a `let`",
    "with_expression": "a `with`",
    "if_expression": "an `if`",
    "assert_expression": "an `assert`",
    "rec_attrset_expression": "a `rec` set",
    "has_attr_expression": "a `?` test",
    "let_attrset_expression": "a `let { }`",
}


def _described(node: tree_sitter.Node) -> str:
    if node.type in ("binary_expression", "unary_expression"):
        op = node.child_by_field_name("operator")
        return f"an operator (`{_text(op)}`)" if op is not None else "an operator"
    return _DESCRIBED.get(node.type, f"`{_short_text(node)}`")
