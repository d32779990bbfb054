"""Edits of lab.yaml that keep everything else as the person wrote it: comments, key order,
quoting, flow or block style.

Each edit is one of homelab.profile.edit's (ruamel, merged line by line, read back), or,
where that would read worse, a line written here: a new `inputs:` or `overlays:` section
at the end of the file, an overlay added after the list's last item (not after a comment
that follows it), two overlays swapped with their own lines (a comment stays with its
overlay). Lines written here are read back too, and fall back to profile.edit when they do
not give the intended data. These functions only edit; labconfig.parse says whether the
result is a valid lab.yaml.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import yaml

from homelab.profile.edit import EditError, delete_value, rename_key, set_value
from homelab.yamlfile import LimitError, compose, load_plain

__all__ = [
    "EditError",
    "add_overlay",
    "move_overlay",
    "remove_input",
    "remove_overlay",
    "set_input",
    "set_overlay",
    "set_release",
]

INPUTS = "inputs"
OVERLAYS = "overlays"
# a scalar written as it is: names, flake references and overlay paths mostly are
_PLAIN = re.compile(r"[A-Za-z0-9_./+-][A-Za-z0-9_./+:'-]*")


def _data(text: str) -> dict[str, Any]:
    try:
        data = load_plain(text, "lab.yaml")
    except (yaml.YAMLError, LimitError) as err:
        raise EditError(f"lab.yaml is not YAML that can be edited here: {err}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise EditError("lab.yaml is not a mapping of settings (release:, inputs:, overlays:)")
    return data


def _scalar(value: str) -> str:
    """A string as YAML: plain when it reads back as itself, else double-quoted."""
    if _PLAIN.fullmatch(value) and not value.endswith(":"):
        try:
            if yaml.safe_load(value) == value:
                return value
        except yaml.YAMLError:
            pass
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML one


def _checked(text: str, new: str | None, want: Callable[[dict[str, Any]], bool]) -> str | None:
    """`new` when it is YAML whose data is what was meant, else None."""
    if new is None:
        return None
    try:
        return new if want(_data(new)) else None
    except EditError:
        return None


def _append_section(text: str, lines: list[str]) -> str:
    body = text if not text or text.endswith("\n") else text + "\n"
    return body + "".join(line + "\n" for line in lines)


def set_release(text: str, release: str) -> str:
    """lab.yaml with `release:` set (a string: "26.05" stays quoted). The comment on its
    line, when it names the old release's branches (`nixpkgs nixos-26.05`, as a new lab's
    does), names the new one's."""
    was = _data(text).get("release")
    new = set_value(text, ("release",), release)
    if not isinstance(was, str) or not was or not release or was == release:
        return new
    try:
        root = compose("lab.yaml", new)
    except (yaml.YAMLError, LimitError):
        return new
    if not isinstance(root, yaml.MappingNode):
        return new
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "release":
            lines = new.splitlines(keepends=True)
            row = lines[value.end_mark.line]
            at = row.find("#", value.end_mark.column)
            if value.start_mark.line != value.end_mark.line or at < 0:
                return new
            said = row[at:]
            for branch in ("nixos-", "release-"):
                said = said.replace(branch + was, branch + release)
            lines[value.end_mark.line] = row[:at] + said
            checked = _checked(new, "".join(lines), lambda d: d.get("release") == release)
            return checked if checked is not None else new
    return new


def _input_value(url: str, follows: bool) -> dict[str, Any]:
    return {"url": url} if follows else {"url": url, "follows": False}


def set_input(
    text: str, name: str, url: str, follows: bool = True, *, was: str | None = None
) -> str:
    """lab.yaml with the input `name` (its url, and `follows: false` when it keeps its own
    nixpkgs); `was` names the input being edited (renamed in place when it differs)."""
    data = _data(text)
    inputs = data.get(INPUTS)
    value = _input_value(url, follows)
    if was is not None and was != name:
        if isinstance(inputs, dict) and name in inputs:
            raise EditError(f"there is already an input named {name}")
        if isinstance(inputs, dict) and was in inputs:
            text = rename_key(text, (INPUTS, was), name)
            inputs = _data(text).get(INPUTS)
    elif was is None and isinstance(inputs, dict) and name in inputs:
        raise EditError(f"there is already an input named {name}")
    if not isinstance(inputs, dict):
        if INPUTS not in data:
            line = f"  {_scalar(name)}: {{url: {json.dumps(url, ensure_ascii=False)}"
            line += "}" if follows else ", follows: false}"
            new = _checked(
                text,
                _append_section(text, [f"{INPUTS}:", line]),
                lambda d: d.get(INPUTS) == {name: value},
            )
            if new is not None:
                return new
        return set_value(text, (INPUTS,), {name: value})
    old = inputs.get(name)
    if not isinstance(old, dict):
        return set_value(text, (INPUTS, name), value)
    if old.get("url") != url:
        text = set_value(text, (INPUTS, name, "url"), url)
    if not follows and old.get("follows") is not False:
        text = set_value(text, (INPUTS, name, "follows"), False)
    elif follows and "follows" in old:
        text = delete_value(text, (INPUTS, name, "follows"))  # following is the default
    return text


def remove_input(text: str, name: str) -> str:
    """lab.yaml without the input `name` (without `inputs:` when it was the last)."""
    inputs = _data(text).get(INPUTS)
    if not isinstance(inputs, dict) or name not in inputs:
        raise EditError(f"lab.yaml has no input named {name}")
    if len(inputs) == 1:
        return delete_value(text, (INPUTS,))
    return delete_value(text, (INPUTS, name))


def _overlays(text: str) -> tuple[dict[str, Any], list[Any]]:
    data = _data(text)
    found = data.get(OVERLAYS)
    if found is not None and not isinstance(found, list):
        raise EditError("overlays: in lab.yaml is not a list")
    return data, list(found or [])


def _list_node(text: str) -> yaml.SequenceNode | None:
    try:
        root = compose("lab.yaml", text)
    except (yaml.YAMLError, LimitError):
        return None
    if not isinstance(root, yaml.MappingNode):
        return None
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == OVERLAYS:
            return value if isinstance(value, yaml.SequenceNode) else None
    return None


def add_overlay(text: str, overlay: str) -> str:
    """lab.yaml with `overlay` last in `overlays:` (the section made when missing)."""
    data, overlays = _overlays(text)
    if overlay in overlays:
        raise EditError(f"{overlay} is already an overlay")
    want = [*overlays, overlay]

    def meant(d: dict[str, Any]) -> bool:
        return d.get(OVERLAYS) == want

    if OVERLAYS not in data:
        lines = [f"{OVERLAYS}:", f"  - {_scalar(overlay)}"]
        new = _checked(text, _append_section(text, lines), meant)
        if new is not None:
            return new
    node = _list_node(text)
    if node is not None and not node.flow_style and node.value:
        last = node.value[-1]
        if last.start_mark.line == last.end_mark.line:  # one line: `- item  # comment`
            lines = text.splitlines(keepends=True)
            row = lines[last.start_mark.line]
            dash = row.rfind("-", 0, last.start_mark.column)
            if dash >= 0 and not row[:dash].strip():
                if not row.endswith("\n"):
                    lines[last.start_mark.line] = row + "\n"
                item = row[: dash + 1] + row[dash + 1 : last.start_mark.column].rstrip(" ")
                lines.insert(last.start_mark.line + 1, f"{item} {_scalar(overlay)}\n")
                new = _checked(text, "".join(lines), meant)
                if new is not None:
                    return new
    return set_value(text, (OVERLAYS, len(overlays)), overlay)


def set_overlay(text: str, index: int, overlay: str) -> str:
    """lab.yaml with the overlay at `index` changed."""
    _, overlays = _overlays(text)
    if not 0 <= index < len(overlays):
        raise EditError(f"lab.yaml has no overlay {index + 1}")
    if overlay in overlays and overlays.index(overlay) != index:
        raise EditError(f"{overlay} is already an overlay")
    return set_value(text, (OVERLAYS, index), overlay)


def remove_overlay(text: str, index: int) -> str:
    """lab.yaml without the overlay at `index` (without `overlays:` when it was the last)."""
    _, overlays = _overlays(text)
    if not 0 <= index < len(overlays):
        raise EditError(f"lab.yaml has no overlay {index + 1}")
    if len(overlays) == 1:
        return delete_value(text, (OVERLAYS,))
    return delete_value(text, (OVERLAYS, index))


def move_overlay(text: str, index: int, by: int) -> str:
    """lab.yaml with the overlay at `index` moved `by` places (-1: up, 1: down); the
    text unchanged when it cannot move further."""
    _, overlays = _overlays(text)
    other = index + by
    if not 0 <= index < len(overlays) or not 0 <= other < len(overlays) or by == 0:
        return text
    want = list(overlays)
    want[index], want[other] = want[other], want[index]
    node = _list_node(text)
    if node is not None and not node.flow_style:
        a, b = node.value[min(index, other)], node.value[max(index, other)]
        rows = (a.start_mark.line, b.start_mark.line)
        if all(n.start_mark.line == n.end_mark.line for n in (a, b)) and rows[0] != rows[1]:
            lines = text.splitlines(keepends=True)
            first, second = lines[rows[0]], lines[rows[1]]
            ending = "\n" if second.endswith("\n") else ""  # the last line may have none
            lines[rows[0]] = second.rstrip("\n") + "\n"
            lines[rows[1]] = first.rstrip("\n") + ending
            new = _checked(text, "".join(lines), lambda d: d.get(OVERLAYS) == want)
            if new is not None:
                return new
    # the items' own places: their values swapped
    text = set_value(text, (OVERLAYS, index), want[index])
    return set_value(text, (OVERLAYS, other), want[other])
