"""Names a Nix text uses that nothing binds: Nix refuses them while parsing.

``nix-instantiate --parse`` of ``{ config, lib, pkgs, ... }: { x.y = b.c; }`` fails with
"undefined variable 'b'".  `undefined_names` finds such names in a tree-sitter-nix tree,
the way Nix resolves variables (ExprVar::bindVars): a name is bound by the arguments
given, by Nix's global builtins, a function's argument or ``{ a, b ? x, ... }@args``
pattern, ``let``, ``rec { }`` and ``let { }``.  A plain ``inherit a;`` looks ``a`` up
outside the set it is in; ``inherit (e) a;`` names no variable.  Inside the body of a
``with`` any name may come from the set it opens, so none is reported there.
"""

from __future__ import annotations

import bisect
import difflib
from collections.abc import Iterable

import tree_sitter

from homelab.nix.grammar import LANGUAGE, Finding, static_name

__all__ = [
    "BUILTINS",
    "GLOBALS",
    "MODULE_ARGUMENTS",
    "NEWER_GLOBALS",
    "SHOWN",
    "report",
    "undefined_names",
]


def _words(*lines: str) -> frozenset[str]:
    return frozenset(word for line in lines for word in line.split())


#: Global in Nix versions after 2.8 (the one tests run); machines run newer ones.
NEWER_GLOBALS = _words(
    "break __addDrvOutputDependencies __convertHash __fetchClosure __flakeRefToString",
    "__getFlake __outputOf __parseFlakeRef __traceVerbose __warn",
)
#: Names Nix binds in every file without ``builtins.``: Nix 2.8's base environment and
#: the newer ones.  (A variable ``__curPos`` is syntax, but ``inherit __curPos;`` is not.)
GLOBALS = (
    _words(
        "abort baseNameOf builtins derivation derivationStrict dirOf false fetchGit",
        "fetchMercurial fetchTarball fetchTree fromTOML import isNull map null placeholder",
        "removeAttrs scopedImport throw toString true",
        "__add __addErrorContext __all __any __appendContext __attrNames __attrValues __bitAnd",
        "__bitOr __bitXor __catAttrs __ceil __compareVersions __concatLists __concatMap",
        "__concatStringsSep __currentSystem __currentTime __deepSeq __div __elem __elemAt",
        "__fetchurl __filter __filterSource __findFile __floor __foldl' __fromJSON",
        "__functionArgs __genList __genericClosure __getAttr __getContext __getEnv __groupBy",
        "__hasAttr __hasContext __hashFile __hashString __head __intersectAttrs __isAttrs",
        "__isBool __isFloat __isFunction __isInt __isList __isPath __isString __langVersion",
        "__length __lessThan __listToAttrs __mapAttrs __match __mul __nixPath __nixVersion",
        "__parseDrvName __partition __path __pathExists __readDir __readFile __replaceStrings",
        "__seq __sort __split __splitVersion __storeDir __storePath __stringLength __sub",
        "__substring __tail __toFile __toJSON __toPath __toXML __trace __tryEval __typeOf",
        "__unsafeDiscardOutputDependency __unsafeDiscardStringContext __unsafeGetAttrPos",
        "__zipAttrsWith",
    )
    | NEWER_GLOBALS
)

#: ``builtins.<name>`` that are not global (``filter`` is ``builtins.filter``).
BUILTINS = frozenset(name[2:] for name in GLOBALS if name.startswith("__"))

#: How many unbound names are reported one by one.
SHOWN = 50

#: What NixOS gives a module function (with homelab's flake: ``inputs``).
MODULE_ARGUMENTS = ("config", "lib", "pkgs", "options", "modulesPath", "specialArgs", "inputs")


def _text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def _bound_by_set(node: tree_sitter.Node) -> set[str]:
    """The names a `let`, `rec { }` or `let { }` binds: the first part of each binding's
    path, and every inherited name."""
    names: set[str] = set()
    for binding_set in node.named_children:
        if binding_set.type != "binding_set":
            continue
        for b in binding_set.named_children:
            if b.type == "binding":
                path = b.child_by_field_name("attrpath")
                parts = path.named_children if path is not None else []
                first = next((c for c in parts if c.type != "comment"), None)
                if first is not None and (name := static_name(first)) is not None:
                    names.add(name)
            elif b.type in ("inherit", "inherit_from"):
                attrs = b.child_by_field_name("attrs")
                for a in attrs.named_children if attrs is not None else ():
                    if (name := static_name(a)) is not None:
                        names.add(name)
    return names


def _bound_by_function(node: tree_sitter.Node) -> set[str]:
    names: set[str] = set()
    universal = node.child_by_field_name("universal")
    if universal is not None:
        names.add(_text(universal))
    formals = node.child_by_field_name("formals")
    for formal in formals.named_children if formals is not None else ():
        name = formal.child_by_field_name("name") if formal.type == "formal" else None
        if name is not None:
            names.add(_text(name))
    return names


#: Everything the resolution needs, found by tree-sitter (no walk up or down in Python).
_QUERY = tree_sitter.Query(
    LANGUAGE,
    """
    [
      (function_expression) (let_expression) (rec_attrset_expression) (let_attrset_expression)
    ] @binder
    (with_expression body: (_) @with_body)
    (variable_expression) @variable
    (_ (binding_set (inherit) @inherit)) @owner
    """,
)


class _Spans:
    """A union of byte ranges [start, end): is an offset inside one of them?"""

    def __init__(self, ranges: list[tuple[int, int]]) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        for start, end in sorted(ranges):
            if self.ends and start <= self.ends[-1]:
                self.ends[-1] = max(self.ends[-1], end)
            else:
                self.starts.append(start)
                self.ends.append(end)

    def __contains__(self, byte: int) -> bool:
        i = bisect.bisect_right(self.starts, byte) - 1
        return i >= 0 and byte < self.ends[i]


def undefined_names(
    root: tree_sitter.Node, arguments: Iterable[str]
) -> list[tuple[str, int, frozenset[str]]]:
    """Each name that nothing binds, once: (name, byte offset of its first use, the names
    visible there), in text order.  `arguments` are bound around the whole text (a
    module's arguments).

    A name is bound at an offset when a node that binds it (function, let, rec set)
    spans the offset; nodes nest, so this is Nix's lexical scope without walking the tree.
    """
    known = GLOBALS | set(arguments)
    cursor = tree_sitter.QueryCursor(_QUERY)
    spans: dict[str, list[tuple[int, int]]] = {}
    with_bodies: list[tuple[int, int]] = []
    uses: list[tuple[str, int]] = []
    lookups: dict[int, int] = {}  # where an inherited name is looked up
    for _, match in cursor.matches(root):
        for binder in match.get("binder", []):
            names = (
                _bound_by_function(binder)
                if binder.type == "function_expression"
                else _bound_by_set(binder)
            )
            for name in names:
                # (from its second byte: where the set that inherits starts is outside it)
                spans.setdefault(name, []).append((binder.start_byte + 1, binder.end_byte))
        for body in match.get("with_body", []):
            with_bodies.append((body.start_byte, body.end_byte))
        for var in match.get("variable", []):
            name = _text(var)
            if name not in known and name != "__curPos":  # (that one is syntax)
                uses.append((name, var.start_byte))
        for owner in match.get("owner", []):
            # `inherit a;` looks a up outside the set (or let) it is in: where it starts
            for inherit in match.get("inherit", []):
                attrs = inherit.child_by_field_name("attrs")
                for a in attrs.named_children if attrs is not None else ():
                    inherited = static_name(a)
                    if inherited is not None and inherited not in known:
                        uses.append((inherited, a.start_byte))
                        lookups[a.start_byte] = owner.start_byte
    under_with = _Spans(with_bodies)
    bound = {name: _Spans(ranges) for name, ranges in spans.items()}
    first: dict[str, tuple[int, int]] = {}
    for name, byte in sorted(uses, key=lambda u: u[1]):
        at = lookups.get(byte, byte)
        if name in first or at in under_with or (name in bound and at in bound[name]):
            continue
        first[name] = (byte, at)
    # (what is visible only matters for a did-you-mean, shown for the first few names)
    return [
        (name, byte, frozenset(known | {n for n, s in bound.items() if at in s}))
        if i < SHOWN
        else (name, byte, frozenset())
        for i, (name, (byte, at)) in enumerate(first.items())
    ]


def report(root: tree_sitter.Node, arguments: tuple[str, ...], bindings: bool) -> list[Finding]:
    """A finding per name that nothing binds (at its first use), with a hint; past
    `SHOWN` names, one finding that says how many more there are.

    `bindings` says the text is extraConfig's bindings, around which homelab writes a
    module head with `arguments`; otherwise the text is a whole module of its own.
    """
    found = undefined_names(root, arguments)
    out = [
        Finding(byte, f"undefined variable `{name}`", _hint(name, visible, arguments, bindings))
        for name, byte, visible in found[:SHOWN]
    ]
    if len(found) > SHOWN:
        out.append(
            Finding(
                found[SHOWN][1],
                f"and {len(found) - SHOWN} more names that nothing binds",
                "bind them, or prefix them with the set they come from",
            )
        )
    return out


def _hint(name: str, visible: frozenset[str], arguments: tuple[str, ...], bindings: bool) -> str:
    if name in MODULE_ARGUMENTS:
        if bindings:
            given = ", ".join(arguments[:-1]) + " and " + arguments[-1]
            return (
                f"extraConfig lines see only {given}: to use {name}, write a whole module, "
                f"`{{ config, {name}, ... }}: {{ … }}`"
            )
        return f"add {name} to the module's arguments: `{{ {name}, ... }}: {{ … }}`"
    if name == "or":
        return (
            "Nix reads this `or` as a variable, given to what stands before it; "
            "for a default, write `set.name or default`"
        )
    if name in BUILTINS:
        return f"write `builtins.{name}`: only some of Nix's builtins are global"
    known = sorted({*visible, *MODULE_ARGUMENTS} - {g for g in GLOBALS if g[:2] == "__"})
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"did you mean `{close[0]}`?"
    where = "`pkgs.`, `lib.` or `config.`" if bindings else "a module argument such as `pkgs.`"
    return f"bind it with `let {name} = …; in …` or a function argument, or prefix it with {where}"
