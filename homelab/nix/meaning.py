"""Do two Nix texts mean the same, whatever their layout?

`a.b = { c = 1; };` and `a = { b.c = 1; };` are the same attribute set written two ways;
so are two texts that differ only in spaces, line breaks, comments or the indentation of
an ``''`` string (which Nix strips).  Used to tell a rebuild that only lays generated Nix
out anew from one that changes it.  Conservative: anything it does not understand is
compared as its exact text, so "same" is only said when it is.
"""

from __future__ import annotations

from typing import Any

import tree_sitter

from homelab.nix.grammar import static_name
from homelab.nix.syntax import parse

__all__ = ["same_meaning"]


def same_meaning(a: str, b: str) -> bool:
    """True when `a` and `b` parse and are the same expression up to layout."""
    if a == b:
        return True
    ta, tb = parse(a), parse(b)
    if ta.root_node.has_error or tb.root_node.has_error:
        return False
    return bool(_canon(ta.root_node) == _canon(tb.root_node))


def _text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def _canon(node: tree_sitter.Node) -> Any:
    kind = node.type
    if kind == "attrset_expression":
        return ("set", _attrs(node))
    if kind == "indented_string_expression":
        return ("''", _dedented(_text(node)))
    if kind == "string_expression" or node.child_count == 0:
        return (kind, _text(node))
    return (kind, tuple(_canon(c) for c in node.children if c.type != "comment"))


def _attrs(node: tree_sitter.Node) -> Any:
    """The set's bindings with their paths spelled out, nested sets merged in."""
    tree: dict[str, Any] = {}
    other: list[Any] = []
    for binding_set in (c for c in node.children if c.type == "binding_set"):
        for binding in binding_set.named_children:
            path = binding.child_by_field_name("attrpath")
            value = binding.child_by_field_name("expression")
            if binding.type != "binding" or path is None or value is None:
                other.append(_canon(binding))
                continue
            names = [static_name(p) for p in path.named_children if p.type != "comment"]
            if any(n is None for n in names):
                other.append(_canon(binding))
                continue
            _put(tree, [n for n in names if n is not None], value)
    return (_frozen(tree), tuple(sorted(map(repr, other))))


def _put(tree: dict[str, Any], path: list[str], value: tree_sitter.Node) -> None:
    node = tree
    for name in path[:-1]:
        node = node.setdefault(name, {})
        if not isinstance(node, dict):  # set twice: Nix refuses, so this stays different
            node = {"\0twice": node}
    last = path[-1]
    if value.type == "attrset_expression":
        inner = node.setdefault(last, {})
        if not isinstance(inner, dict):
            node[last] = ("twice", inner)
            return
        for binding_set in (c for c in value.children if c.type == "binding_set"):
            for binding in binding_set.named_children:
                sub = binding.child_by_field_name("attrpath")
                expr = binding.child_by_field_name("expression")
                names = (
                    [static_name(p) for p in sub.named_children if p.type != "comment"]
                    if binding.type == "binding" and sub is not None and expr is not None
                    else [None]
                )
                if expr is None or any(n is None for n in names):
                    inner.setdefault("\0other", []).append(repr(_canon(binding)))
                    continue
                _put(inner, [n for n in names if n is not None], expr)
        return
    node[last] = ("twice", node[last]) if last in node else _canon(value)


def _frozen(tree: Any) -> Any:
    if isinstance(tree, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in tree.items()))
    if isinstance(tree, list):
        return tuple(sorted(tree))
    return tree


def _dedented(text: str) -> str:
    """An ``''`` string's text with the indentation Nix strips taken away."""
    body = text[2:-2]
    lines = body.split("\n")
    if len(lines) > 1 and not lines[0].strip(" "):
        lines = lines[1:]
    indents = [len(line) - len(line.lstrip(" ")) for line in lines if line.strip(" ")]
    cut = min(indents, default=0)
    return "\n".join(line[cut:] for line in lines)
