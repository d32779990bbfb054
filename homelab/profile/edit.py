"""Change one value of a YAML profile and keep everything else as the person wrote it.

ruamel.yaml round-trips comments, key order, quoting and flow/block style, but it still
normalises a few things on the way out (spacing after ':', `null`, indentation of lines it
never touched). So each edit is done by ruamel, then merged line by line into the original
text: only the lines of the touched entry take ruamel's version, every other line stays
byte for byte. The merged text is parsed again and compared with the intended data; if
the merge went wrong, ruamel's whole output is used, and if even that is wrong, nothing is
returned but an EditError.

Over 500 lines on purpose: the three ways of making an edit (in place in the text, ruamel
merged line by line, ruamel whole) must agree on what an edit means and share the one
read-back check that decides between them; split, that one rule would live in three files.
"""

from __future__ import annotations

import difflib
import io
import json
from collections.abc import Callable, Sequence
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import YAMLError as RuamelError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    LiteralScalarString,
    ScalarString,
)
from ruamel.yaml.tag import Tag

from homelab.errors import format_path
from homelab.profile.options import tag_of
from homelab.yamlfile import LimitError, compose, load_plain

Path = tuple[str | int, ...]

__all__ = ["EditError", "delete_value", "get_value", "rename_key", "set_value"]


class EditError(ValueError):
    """The edit cannot be made: the text is not YAML, or the path does not fit it."""


# ---- public API ---------------------------------------------------------------------


def set_value(text: str, path: Path, value: Any) -> str:
    """text with the value at path set, creating missing maps on the way.

    An int in the path indexes a list; the index one past the end appends.
    """
    if not path:
        raise EditError("the path is empty: name the key to set")

    def edit(doc: Any) -> Any:
        if doc is None:
            doc = CommentedMap()
        created: set[int] = set()
        parent = _walk(doc, path[:-1], create=True, created=created)
        _put(parent, path[-1], value, path, loaded=id(parent) not in created)
        return doc

    def plain_edit(data: Any) -> Any:
        if data is None:
            data = {}
        parent = _walk_plain(data, path[:-1], create=True)
        _put_plain(parent, path[-1], value)
        return data

    quick = _quick(text, path, plain_edit, lambda root: _quick_set(text, root, path, value))
    return quick if quick is not None else _edit(text, path, edit, plain_edit, kind="set")


def delete_value(text: str, path: Path) -> str:
    """text without the entry at path (a missing path is an error)."""
    if not path:
        raise EditError("the path is empty: name the key to delete")

    def edit(doc: Any) -> Any:
        parent = _walk(doc, path[:-1], create=False)
        _check_present(parent, path[-1], path)
        del parent[path[-1]]
        return doc

    def plain_edit(data: Any) -> Any:
        parent = _walk_plain(data, path[:-1], create=False)
        del parent[path[-1]]
        return data

    quick = _quick(text, path, plain_edit, lambda root: _quick_delete(text, root, path))
    return quick if quick is not None else _edit(text, path, edit, plain_edit, kind="delete")


def rename_key(text: str, path: Path, new_name: str) -> str:
    """text with the key at path renamed, keeping its place, value and comments."""
    if not path or not isinstance(path[-1], str):
        raise EditError("only a key of a map can be renamed")
    old = path[-1]

    def edit(doc: Any) -> Any:
        parent = _walk(doc, path[:-1], create=False)
        _check_present(parent, old, path)
        if new_name == old:
            return doc
        if new_name in parent:
            raise EditError(f"{_show((*path[:-1], new_name))} already exists")
        position = list(parent).index(old)
        comment = parent.ca.items.pop(old, None)
        item = parent.pop(old)
        parent.insert(position, _styled(new_name), item)
        if comment is not None:
            parent.ca.items[new_name] = comment
        return doc

    def plain_edit(data: Any) -> Any:
        parent = _walk_plain(data, path[:-1], create=False)
        renamed = {(new_name if k == old else k): v for k, v in parent.items()}
        parent.clear()
        parent.update(renamed)
        return data

    quick = _quick(text, path, plain_edit, lambda root: _quick_rename(text, root, path, new_name))
    return quick if quick is not None else _edit(text, path, edit, plain_edit, kind="rename")


def get_value(text: str, path: Path) -> Any:
    """The plain value at path (KeyError when it is missing)."""
    data = _plain_load(text)
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            raise KeyError(_show(path)) from None
    return data


# ---- quick edits: the few characters that change, no round trip ---------------------
#
# A keystroke in a form changes one scalar, adds one key or removes one line. Those are
# done on the text directly (PyYAML's C parser gives the places), which takes a
# millisecond where the round trip takes a tenth of a second on a big profile. The
# result is parsed again and must hold exactly the intended data; anything else (new
# nested maps, block lists, multi-line values) goes the round-trip way.


def _quick(
    text: str,
    path: Path,
    plain_edit: Callable[[Any], Any],
    change: Callable[[yaml.Node], str | None],
) -> str | None:
    try:
        root = _compose(text)
        if not isinstance(root, yaml.MappingNode):
            return None
        intended = plain_edit(_plain_load(text))
        new = change(root)
    except (yaml.YAMLError, EditError, LookupError, TypeError, ValueError):
        return None
    if new is None or not _same(_try_plain_load(new), intended):
        return None
    return new


def _parent_node(root: yaml.Node, path: Path) -> yaml.Node | None:
    node: yaml.Node | None = root
    for part in path[:-1]:
        node = _child(node, part)
    return node


def _quick_set(text: str, root: yaml.Node, path: Path, value: Any) -> str | None:
    parent = _parent_node(root, path)
    key = path[-1]
    if isinstance(parent, yaml.MappingNode) and isinstance(key, str):
        for k, v in parent.value:
            if k.value == key:
                return _replace_node(text, v, value, flow=bool(parent.flow_style))
        return _append_entry(text, parent, key, value)
    if isinstance(parent, yaml.SequenceNode) and isinstance(key, int):
        items = parent.value
        if -len(items) <= key < len(items):
            return _replace_node(text, items[key], value, flow=bool(parent.flow_style))
    return None


def _quick_delete(text: str, root: yaml.Node, path: Path) -> str | None:
    """Remove an entry that is one line of a block map or list (and not its last one)."""
    parent = _parent_node(root, path)
    key = path[-1]
    if not isinstance(parent, yaml.CollectionNode) or parent.flow_style or len(parent.value) < 2:
        return None
    if isinstance(parent, yaml.MappingNode):
        found = [(k, v) for k, v in parent.value if k.value == key]
        if not found:
            return None
        first, value = found[0]
    elif isinstance(key, int) and -len(parent.value) <= key < len(parent.value):
        first = value = parent.value[key]
    else:
        return None
    line = first.start_mark.line
    if value.end_mark.line != line and not (
        value.end_mark.line == line + 1 and value.end_mark.column == 0
    ):
        return None
    if isinstance(value, yaml.CollectionNode) and not value.flow_style:
        return None
    lines = text.splitlines(keepends=True)
    return "".join(lines[:line] + lines[line + 1 :])


def _quick_rename(text: str, root: yaml.Node, path: Path, new_name: str) -> str | None:
    """A key written on one line, renamed where it stands: its value and comment stay."""
    parent = _parent_node(root, path)
    if not isinstance(parent, yaml.MappingNode):
        return None
    keys = [k for k, _ in parent.value if k.value == path[-1]]
    if len(keys) != 1 or any(k.value == new_name for k, _ in parent.value):
        return None
    key = keys[0]
    start, end = key.start_mark, key.end_mark
    name = _scalar(new_name, None, flow=bool(parent.flow_style))
    if start.line != end.line or name is None or not isinstance(key, yaml.ScalarNode):
        return None
    lines = text.splitlines(keepends=True)
    line = lines[start.line]
    lines[start.line] = line[: start.column] + name + line[end.column :]
    return "".join(lines)


def _replace_node(text: str, node: yaml.Node, value: Any, *, flow: bool) -> str | None:
    start, end = node.start_mark, node.end_mark
    if start.line != end.line:
        return None
    if isinstance(node, yaml.ScalarNode):
        if node.style in ("|", ">"):
            return None
        tag = tag_of(value)
        if tag is not None and node.tag == tag and isinstance(value[tag], str):
            rendered = _scalar(value[tag], node.style, flow=flow)  # its quotes stay
            rendered = None if rendered is None else f"{tag} {rendered}"
        elif tag is not None:
            rendered = _one_line(value, flow=flow)
        else:
            # a tagged scalar's text begins with its tag: the new value replaces both
            rendered = _scalar(value, node.style, flow=flow)
    elif isinstance(node, yaml.CollectionNode) and node.flow_style:
        rendered = _one_line(value, flow=flow) if tag_of(value) else _flow(value)
    else:
        return None
    if rendered is None:
        return None
    lines = text.splitlines(keepends=True)
    line = lines[start.line]
    lines[start.line] = line[: start.column] + rendered + line[end.column :]
    return "".join(lines)


def _append_entry(text: str, parent: yaml.MappingNode, key: str, value: Any) -> str | None:
    """A new `key: value` line after the map's last entry (or inside its `{...}`)."""
    rendered = _one_line(value, flow=bool(parent.flow_style))
    name = _scalar(key, None, flow=True)
    if rendered is None or name is None:
        return None
    lines = text.splitlines(keepends=True)
    if parent.flow_style:
        start, end = parent.start_mark, parent.end_mark
        if start.line != end.line:
            return None
        line = lines[start.line]
        close = end.column - 1
        if line[close] != "}":
            return None
        before = line[:close].rstrip()
        joiner = "" if before.endswith("{") else ", "
        lines[start.line] = before + joiner + f"{name}: {rendered}" + line[close:]
        return "".join(lines)
    if not parent.value:
        return None
    last_key, last_value = parent.value[-1]
    indent = last_key.start_mark.column
    last = _last_line(text, last_key.start_mark.line, last_value)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    lines.insert(last + 1, " " * indent + f"{name}: {rendered}\n")
    new = "".join(lines)
    if not text.endswith("\n") and new.endswith("\n"):
        new = new[:-1]  # the person's file had no final newline: it still has none
    return new


def _last_line(text: str, first: int, value: yaml.Node) -> int:
    """The last line of an entry that holds content (not a blank or a comment after it)."""
    end = value.end_mark
    last = end.line - 1 if end.column == 0 and end.line > first else end.line
    lines = text.splitlines()
    while last > first:
        stripped = lines[last].strip() if last < len(lines) else ""
        if stripped and not stripped.startswith("#"):
            break
        last -= 1
    return last


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _one_line(value: Any, *, flow: bool) -> str | None:
    """A value as the text after `key: ` on one line (None: it needs the round trip)."""
    tag = tag_of(value)
    if tag is None:
        return _scalar(value, None, flow=flow) if _is_scalar(value) else _flow(value)
    inner = value[tag]
    if tag_of(inner) is not None:
        return None  # one tag per value: refused by the round trip
    text = _scalar(inner, None, flow=flow) if _is_scalar(inner) else _flow(inner)
    if text is None or (tag in ("!pkg", "!nix") and not isinstance(inner, str)):
        return None
    return f"{tag} {text}"


def _scalar(value: Any, style: str | None, *, flow: bool) -> str | None:
    """One scalar as YAML text, in the quoting style of the one it replaces."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else None
    if not isinstance(value, str) or "\n" in value or "\r" in value:
        return None
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style == '"' or not _plain_ok(value, flow=flow):
        return json.dumps(value, ensure_ascii=False)
    return value


def _plain_ok(text: str, *, flow: bool) -> bool:
    if not text or text != text.strip() or "\t" in text or _read_back_as_other(text):
        return False
    if text[0] in "?:-" and (len(text) == 1 or text[1] == " "):
        return False
    if text[0] in ",[]{}#&*!|>'\"%@`":
        return False
    if ": " in text or " #" in text or text.endswith(":"):
        return False
    # in a flow collection PyYAML's own scanner (not libyaml) ends a plain scalar at `?`
    # and `:` too: quote those, so every YAML reader sees the same value
    return not (flow and any(c in text for c in ",[]{}?:"))


def _flat(value: Any) -> str | None:
    """One item of a flat list or map: a scalar, or a tagged scalar (`!pkg htop`)."""
    if _is_scalar(value):
        return _scalar(value, None, flow=True)
    tag = tag_of(value)
    return _one_line(value, flow=True) if tag and _is_scalar(value[tag]) else None


def _flow(value: Any) -> str | None:
    """A flat list or map as one line: `[a, b]`, `{k: v}`."""
    if tag_of(value) is not None:
        return None  # never written as a map with the tag as its key
    if isinstance(value, list | tuple):
        items = [_flat(v) for v in value]
        if any(i is None for i in items):
            return None
        return "[" + ", ".join(str(i) for i in items) + "]"
    if isinstance(value, dict):
        pairs = []
        for k, v in value.items():
            name = _scalar(k, None, flow=True) if isinstance(k, str) else None
            item = _flat(v)
            if name is None or item is None:
                return None
            pairs.append(f"{name}: {item}")
        return "{" + ", ".join(pairs) + "}"
    return None


# ---- the edit pipeline --------------------------------------------------------------


def _edit(
    text: str,
    path: Path,
    edit: Callable[[Any], Any],
    plain_edit: Callable[[Any], Any],
    *,
    kind: str,
) -> str:
    try:  # every text read here, ruamel's included, within the loader's limits
        compose("profile", text)
    except LimitError as err:
        raise EditError(f"the YAML cannot be edited: {err.problem}") from None
    except yaml.YAMLError:
        pass  # ruamel says what is wrong in its own words
    yaml_rt, doc = _rt_load(text)
    before = _dump(yaml_rt, doc)
    doc = edit(_rt_load(text)[1])  # checks the path and raises EditError first
    intended = plain_edit(_plain_load(text))
    after = _dump(yaml_rt, doc) if doc or text.strip() else ""
    try:
        entry = _entry_lines(before, _longest_present(before, path))
    except yaml.YAMLError:
        entry = None
    candidates = [after]
    if doc is not None and _rt_load(text)[1] is None and text.strip():
        # a document of comments only: they stay on top of the first keys
        candidates.insert(0, text + ("" if text.endswith("\n") else "\n") + after)
    elif before and text.strip():
        candidates.insert(0, _merge(text, before, after, entry))
    for candidate in candidates:
        if _same(_try_plain_load(candidate), intended):
            return candidate
    raise EditError(f"could not write {_show(path)} without changing other values")


def _dump(yaml_rt: YAML, doc: Any) -> str:
    out = io.StringIO()
    yaml_rt.dump(doc, out)
    return out.getvalue()


def _guess_indent(text: str) -> tuple[int, int]:
    """(mapping indent, offset of '- ' under its key) as the person wrote them."""
    mapping, offset = 0, -1
    previous: tuple[int, str] | None = None  # indentation and text of the last content line
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        col = len(line) - len(line.lstrip(" "))
        if previous is not None and previous[1].endswith(":"):
            if stripped.startswith("- ") or stripped == "-":
                if offset < 0:
                    offset = col - previous[0]
            elif not mapping and col > previous[0]:
                mapping = col - previous[0]
        previous = (col, stripped)
        if mapping and offset >= 0:
            break
    return mapping or 2, max(offset, 0)


def _rt_load(text: str) -> tuple[YAML, Any]:
    indent, block_seq_indent = _guess_indent(text)
    yaml_rt = YAML(typ="rt")
    yaml_rt.preserve_quotes = True
    yaml_rt.width = 4096  # never fold a long line the person wrote on one line
    yaml_rt.indent(
        mapping=indent, sequence=max(indent, block_seq_indent + 2), offset=block_seq_indent
    )
    if text.lstrip().startswith("---"):
        yaml_rt.explicit_start = True
    try:
        return yaml_rt, yaml_rt.load(text)
    except RuamelError as err:
        raise EditError(f"the YAML cannot be read: {err}") from None


def _plain_load(text: str) -> Any:
    try:
        return load_plain(text)
    except yaml.YAMLError as err:
        raise EditError(f"the YAML cannot be read: {err}") from None


_UNREADABLE = object()


def _try_plain_load(text: str) -> Any:
    try:
        return load_plain(text)
    except yaml.YAMLError:
        return _UNREADABLE


def _same(a: Any, b: Any) -> bool:
    # type-strict so that True never passes for 1, nor "1" for 1
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


# ---- walking the round-trip document and the plain data -----------------------------


def _show(path: Path) -> str:
    return format_path(path) or "the document"


def _walk(doc: Any, path: Path, *, create: bool, created: set[int] | None = None) -> Any:
    node = doc
    for i, part in enumerate(path):
        here = path[: i + 1]
        following = path[i + 1] if i + 1 < len(path) else None
        if isinstance(part, str):
            if not isinstance(node, dict):
                raise EditError(f"{_show(path[:i])} is not a map, so it has no key {part!r}")
            if part not in node or (create and node[part] is None):
                if not create:
                    raise EditError(f"{_show(here)} does not exist")
                fresh = CommentedSeq() if isinstance(following, int) else CommentedMap()
                node[_styled(part)] = fresh
                if created is not None:
                    created.add(id(fresh))
        else:
            if not isinstance(node, list):
                raise EditError(f"{_show(path[:i])} is not a list")
            if part == len(node) and create:
                fresh = CommentedSeq() if isinstance(following, int) else CommentedMap()
                node.append(fresh)
                if created is not None:
                    created.add(id(fresh))
            elif not -len(node) <= part < len(node):
                raise EditError(f"{_show(here)} does not exist")
        node = node[part]
    if not isinstance(node, dict | list):
        raise EditError(f"{_show(path)} is a single value, not a map or a list")
    return node


def _walk_plain(data: Any, path: Path, *, create: bool) -> Any:
    node = data
    for i, part in enumerate(path):
        following = path[i + 1] if i + 1 < len(path) else None
        if isinstance(part, str) and (part not in node or (create and node[part] is None)):
            node[part] = [] if isinstance(following, int) else {}
        elif isinstance(part, int) and part == len(node):
            node.append([] if isinstance(following, int) else {})
        node = node[part]
    return node


def _check_present(parent: Any, key: str | int, path: Path) -> None:
    if isinstance(parent, dict):
        if not isinstance(key, str) or key not in parent:
            raise EditError(f"{_show(path)} does not exist")
    elif not isinstance(key, int) or not -len(parent) <= key < len(parent):
        raise EditError(f"{_show(path)} does not exist")


def _put(parent: Any, key: str | int, value: Any, path: Path, *, loaded: bool = True) -> None:
    if isinstance(parent, dict):
        if not isinstance(key, str):
            raise EditError(f"{_show(path[:-1])} is a map: its keys are names, not numbers")
        old = parent.get(key)
        if loaded and not parent and len(path) > 1 and isinstance(parent, CommentedMap):
            parent.fa.set_flow_style()  # an empty map is `{}` in the text: it stays on its line
        if key in parent:
            parent[key] = _styled(value, like=old)
        else:
            parent[_styled(key)] = _styled(value)
    else:
        if not isinstance(key, int):
            raise EditError(f"{_show(path[:-1])} is a list: it is indexed by numbers")
        if key == len(parent):
            parent.append(_styled(value))
        elif -len(parent) <= key < len(parent):
            parent[key] = _styled(value, like=parent[key])
        else:
            raise EditError(f"{_show(path)} is past the end of the list")


def _put_plain(parent: Any, key: str | int, value: Any) -> None:
    if isinstance(parent, list) and key == len(parent):
        parent.append(value)
    else:
        parent[key] = value


# ---- styling new values -------------------------------------------------------------

_resolver = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"


def _read_back_as_other(text: str) -> bool:
    """True when the loader (YAML 1.1) would read this plain string as something else."""
    if text.startswith(("?", ":")):
        return True  # inside [...] the loader reads a leading ? or : as a key or value mark
    tag = _resolver.resolve(yaml.ScalarNode, text, (True, False))  # type: ignore[no-untyped-call]
    return bool(tag != _STR_TAG)


def _styled(value: Any, like: Any = None) -> Any:
    """value made ready for ruamel: strings keep the old quoting, never read back wrong."""
    tag = tag_of(value)
    if tag is not None:
        return _styled_tagged(tag, value[tag], like)
    if isinstance(value, str):
        if isinstance(like, ScalarString) and not isinstance(like, LiteralScalarString):
            return type(like)(value)
        if "\n" in value:
            return LiteralScalarString(value)
        if _read_back_as_other(value):
            return DoubleQuotedScalarString(value)
        return value
    if isinstance(value, dict):
        styled = CommentedMap()
        for k, v in value.items():
            styled[_styled(k)] = _styled(v)
        if not value or (isinstance(like, CommentedMap) and like.fa.flow_style()):
            styled.fa.set_flow_style()  # `{}` as people write it; keys added stay on its line
        return styled
    if isinstance(value, list | tuple):
        seq = CommentedSeq(_styled(v) for v in value)
        if isinstance(like, CommentedSeq) and like.fa.flow_style():
            seq.fa.set_flow_style()
        elif isinstance(like, CommentedSeq):
            seq.fa.set_block_style()
        elif value and all(_short(v) for v in value):
            # short lists of names read best on one line, as people write them
            seq.fa.set_flow_style()
        return seq
    return value


def _short(value: Any) -> bool:
    """A list item that keeps a list on one line: a name, a number, `!pkg htop`."""
    tag = tag_of(value)
    if tag is not None:
        value = value[tag]
        if isinstance(value, str) and "\n" in value:
            return False
    return isinstance(value, str | int | float | bool)


def _styled_tagged(tag: str, inner: Any, like: Any) -> Any:
    """A tagged value ({"!pkg": "htop"} in data) as ruamel writes it: `!pkg htop`,
    `!nix |` and its lines, `!force {a: 1}`."""
    if tag_of(inner) is not None:
        raise EditError(f"a value takes one tag: {tag} cannot hold {tag_of(inner)}")
    same = getattr(like, "tag", None) is not None and str(like.tag.value) == tag
    if _is_scalar(inner):
        if tag in ("!pkg", "!nix") and not isinstance(inner, str):
            raise EditError(f"{tag} takes text")
        if isinstance(inner, str):
            text = inner
            if "\n" in inner:
                style: str | None = "|"
            elif same and isinstance(like, TaggedScalar) and like.style in ("'", '"'):
                style = like.style  # the quotes the person wrote stay
            elif not inner or (tag not in ("!pkg", "!nix") and _read_back_as_other(inner)):
                style = '"'  # `!force "yes"` stays text
            elif inner.startswith(("?", ":")):
                style = '"'  # the tag fixes its type, not how `[!nix ?0]` is read
            else:
                style = None
        else:
            text, style = _scalar(inner, None, flow=False) or repr(inner), None
        return TaggedScalar(text, style=style, tag=tag)
    styled = _styled(inner, like=like if same else None)
    styled.yaml_set_ctag(Tag(suffix=tag))
    return styled


# ---- merging ruamel's output into the original, line by line ------------------------


def _merge(original: str, before: str, after: str, entry: range | None) -> str:
    """original with the lines that the edit changed taken from ruamel's output.

    before is ruamel's dump of the unedited document, after of the edited one: their
    difference is exactly the edit, free of ruamel's own normalisations. Lines equal in
    both are written back as they stand in the original.
    """
    a = original.splitlines(keepends=True)
    if a and not a[-1].endswith("\n"):
        a[-1] += "\n"  # compare like with like: ruamel always ends with a newline
    b0 = before.splitlines(keepends=True)
    b1 = after.splitlines(keepends=True)
    # where each line of before came from: a 1:1 original line, or a block of them
    source: list[tuple[int, int]] = []
    for tag, i1, i2, j1, j2 in _opcodes(a, b0):
        if tag == "equal" or (i2 - i1) == (j2 - j1):
            source.extend((i1 + k, i1 + k + 1) for k in range(j2 - j1))
        else:
            source.extend((i1, i2) for _ in range(j2 - j1))
    out: list[str] = []
    emitted: set[tuple[int, int]] = set()

    def restore(k: int) -> str:
        block = source[k]
        return a[block[0]] if block[1] - block[0] == 1 else b0[k]

    for tag, i1, i2, j1, j2 in _opcodes(b0, b1):
        if tag == "equal":
            for k in range(i1, i2):
                block = source[k]
                if block[1] - block[0] == 1:
                    out.append(a[block[0]])
                elif block not in emitted and _all_kept(source, block, i1, i2):
                    out.extend(a[block[0] : block[1]])
                    emitted.add(block)
                elif block not in emitted:
                    out.append(b0[k])
        elif entry is None:
            out.extend(b1[j1:j2])
        else:
            # comments around the touched entry stay, even where ruamel dropped them
            new = b1[j1:j2]
            outside = [k for k in range(i1, i2) if k not in entry and _is_comment(b0[k])]
            out.extend(restore(k) for k in outside if k < entry.start and b0[k] not in new)
            out.extend(new)
            out.extend(restore(k) for k in outside if k >= entry.stop and b0[k] not in new)
    merged = "".join(out)
    if original and not original.endswith("\n") and merged.endswith("\n"):
        merged = merged[:-1]
    return merged


def _is_comment(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("#")


def _opcodes(a: list[str], b: list[str]) -> Sequence[tuple[str, int, int, int, int]]:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()


def _all_kept(source: list[tuple[int, int]], block: tuple[int, int], i1: int, i2: int) -> bool:
    """True when every line of before that came from this block is inside before[i1:i2]."""
    return all(i1 <= k < i2 for k, s in enumerate(source) if s == block)


def _compose(text: str) -> yaml.Node | None:
    return compose("profile", text)


def _node_at(text: str, path: Path) -> yaml.Node | None:
    node = _compose(text)
    for part in path:
        node = _child(node, part)
        if node is None:
            return None
    return node


def _child(node: yaml.Node | None, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                found: yaml.Node = value
                return found
    elif (
        isinstance(node, yaml.SequenceNode)
        and isinstance(part, int)
        and -len(node.value) <= part < len(node.value)
    ):
        child: yaml.Node = node.value[part]
        return child
    return None


def _longest_present(text: str, path: Path) -> Path:
    """The longest start of path that names an existing entry."""
    for i in range(len(path), 0, -1):
        if _node_at(text, path[:i]) is not None:
            return path[:i]
    return ()


def _entry_lines(text: str, path: Path) -> range | None:
    """0-based lines of the entry at path: its key line through the value's last line."""
    if not path:
        return None
    parent = _node_at(text, path[:-1])
    start_line: int | None = None
    value: yaml.Node | None = None
    if isinstance(parent, yaml.MappingNode):
        for key, item in parent.value:
            if key.value == path[-1]:
                start_line, value = key.start_mark.line, item
    elif isinstance(parent, yaml.SequenceNode):
        value = _child(parent, path[-1])
        start_line = value.start_mark.line if value is not None else None
    if value is None or start_line is None:
        return None
    end = value.end_mark
    last = end.line - 1 if end.column == 0 and end.line > start_line else end.line
    lines = text.splitlines()
    trim_comments = isinstance(value, yaml.CollectionNode)
    while last > start_line and last < len(lines) + 1:
        stripped = lines[last].strip() if last < len(lines) else ""
        if stripped == "" or (trim_comments and stripped.startswith("#")):
            last -= 1
        else:
            break
    return range(start_line, last + 1)
