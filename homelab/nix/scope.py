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

import difflib
from collections.abc import Iterable

import tree_sitter

from homelab.nix.grammar import LANGUAGE, Finding, static_name

__all__ = ["BUILTINS", "GLOBALS", "MODULE_ARGUMENTS", "NEWER_GLOBALS", "report", "undefined_names"]


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

#: What NixOS gives a module function (with homelab's flake: ``inputs``).
MODULE_ARGUMENTS = ("config", "lib", "pkgs", "options", "modulesPath", "specialArgs", "inputs")

_RECURSIVE = frozenset({"let_expression", "rec_attrset_expression", "let_attrset_expression"})


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


_USES = tree_sitter.Query(LANGUAGE, "(variable_expression) @variable (inherit) @inherit")


class _Binders:
    """The names each enclosing node binds, each node's looked at once."""

    def __init__(self) -> None:
        self.cache: dict[int, set[str]] = {}

    def of(self, node: tree_sitter.Node) -> set[str]:
        names = self.cache.get(node.id)
        if names is None:
            if node.type == "function_expression":
                names = _bound_by_function(node)
            elif node.type in _RECURSIVE:
                names = _bound_by_set(node)
            else:
                names = set()
            self.cache[node.id] = names
        return names

    def bound(self, name: str, child: tree_sitter.Node, node: tree_sitter.Node | None) -> bool:
        """Is `name`, used in `child` of `node`, bound by `node` or a node around it (or
        anything at all, under a `with`)?"""
        while node is not None:
            if node.type == "with_expression":
                env = node.child_by_field_name("environment")
                if env is None or env.id != child.id:
                    return True  # in the body: the set `with` opens may have any name
            elif name in self.of(node):
                return True
            child, node = node, node.parent
        return False

    def visible(self, node: tree_sitter.Node | None) -> set[str]:
        out: set[str] = set()
        while node is not None:
            out |= self.of(node)
            node = node.parent
        return out


def undefined_names(
    root: tree_sitter.Node, arguments: Iterable[str]
) -> list[tuple[str, int, frozenset[str]]]:
    """Each name that nothing binds, once: (name, byte offset of its first use, the names
    visible there), in text order.  `arguments` are bound around the whole text (a
    module's arguments)."""
    known = GLOBALS | set(arguments)
    binders = _Binders()
    first: dict[str, tuple[int, tree_sitter.Node | None]] = {}

    def use(name: str, byte: int, child: tree_sitter.Node, node: tree_sitter.Node | None) -> None:
        if name in known or (name in first and first[name][0] < byte):
            return
        if not binders.bound(name, child, node):
            first[name] = (byte, node)

    found = tree_sitter.QueryCursor(_USES).captures(root)
    for var in found.get("variable", []):
        name = _text(var)
        if name != "__curPos":  # the place where it stands, not a variable
            use(name, var.start_byte, var, var.parent)
    for inherit in found.get("inherit", []):
        # `inherit a;` looks a up outside the set (or let) it is in
        binding_set = inherit.parent
        owner = binding_set.parent if binding_set is not None else None
        if owner is None:
            continue
        attrs = inherit.child_by_field_name("attrs")
        for a in attrs.named_children if attrs is not None else ():
            inherited = static_name(a)
            if inherited is not None:
                use(inherited, a.start_byte, owner, owner.parent)
    return sorted(
        (
            (name, byte, frozenset(known | binders.visible(node)))
            for name, (byte, node) in first.items()
        ),
        key=lambda f: f[1],
    )


def report(root: tree_sitter.Node, arguments: tuple[str, ...], bindings: bool) -> list[Finding]:
    """A finding per name that nothing binds (at its first use), with a hint.

    `bindings` says the text is extraConfig's bindings, around which homelab writes a
    module head with `arguments`; otherwise the text is a whole module of its own.
    """
    return [
        Finding(byte, f"undefined variable `{name}`", _hint(name, visible, arguments, bindings))
        for name, byte, visible in undefined_names(root, arguments)
    ]


def _hint(name: str, visible: frozenset[str], arguments: tuple[str, ...], bindings: bool) -> str:
    if name in MODULE_ARGUMENTS:
        if bindings:
            given = ", ".join(arguments[:-1]) + " and " + arguments[-1]
            return (
                f"extraConfig lines see only {given}: to use {name}, write a whole module, "
                f"`{{ config, {name}, ... }}: {{ … }}`"
            )
        return f"add {name} to the module's arguments: `{{ {name}, ... }}: {{ … }}`"
    if name in BUILTINS:
        return f"write `builtins.{name}`: only some of Nix's builtins are global"
    known = sorted({*visible, *MODULE_ARGUMENTS} - {g for g in GLOBALS if g[:2] == "__"})
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"did you mean `{close[0]}`?"
    where = "`pkgs.`, `lib.` or `config.`" if bindings else "a module argument such as `pkgs.`"
    return f"bind it with `let {name} = …; in …` or a function argument, or prefix it with {where}"
