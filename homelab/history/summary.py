"""What changed in a host, in profile terms: two merged profile documents -> change lines.

Pure: no git, no files. The lines read like a person's changelog
(`service pihole added`, `user demouser: groups + docker`), computed from the data of the
two profile versions (includes applied), never from a text diff, so moving a key or
reformatting YAML is not a change and a change through a fragment is one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from homelab.profile.options import tag_of

# Maps whose keys are things a person names (a service, a user): their keys are added or
# removed as a whole, and changes inside them are said under the thing's name.
# "*" stands for any key.
THINGS: dict[tuple[str, ...], str] = {
    ("services",): "service",
    ("users",): "user",
    ("groups",): "group",
    ("containers",): "container",
    ("secrets",): "secret",
    ("hardware", "fileSystems"): "file system",
    ("networking", "interfaces"): "interface",
    ("users", "*", "home", "programs"): "program",
    ("users", "*", "home", "files"): "file",
}

SHORT = 40  # longer values (and any with a line break) are only said to have changed


def host_changes(old: Any, new: Any) -> list[str]:
    """Change lines between two merged profile documents' data (None: no such host)."""
    if old is None and new is None:
        return []
    if old is None:
        return ["new host"]
    if new is None:
        return ["host removed"]
    lines: list[str] = []
    _compare(old, new, (), (), lines)
    return lines


def _thing(path: tuple[str, ...]) -> str | None:
    for pattern, label in THINGS.items():
        if len(pattern) == len(path) and all(
            p in ("*", q) for p, q in zip(pattern, path, strict=True)
        ):
            return label
    return None


def _say(label: tuple[str, ...], where: tuple[str, ...], text: str) -> str:
    """`user demouser: groups + docker`: the thing's name, then the key inside it."""
    key = ".".join(where)
    head = ": ".join(label)
    if not key:  # the thing itself: `service pihole added`
        return f"{head} {text}" if head else text
    return f"{head}: {key} {text}" if head else f"{key} {text}"


def _compare(
    old: Any, new: Any, path: tuple[str, ...], label: tuple[str, ...], lines: list[str]
) -> None:
    # `where` is the path below the innermost named thing (what the line shows).
    where = path[_label_depth(path) :]
    if old == new:
        return
    if _map(old) and _map(new):
        kind = _thing(path)
        for key in [*new, *(k for k in old if k not in new)]:
            child = (*path, str(key))
            if kind is not None:
                name = (*label, f"{kind} {key}")
                if key not in old:
                    lines.append(_say(name, (), "added"))
                elif key not in new:
                    lines.append(_say(name, (), "removed"))
                else:
                    _compare(old[key], new[key], child, name, lines)
            elif key not in old:
                _added(new[key], child, label, lines)
            elif key not in new:
                was = f" (was {_render(old[key])})" if _short(old[key]) else ""
                lines.append(_say(label, (*where, str(key)), "removed" + was))
            else:
                _compare(old[key], new[key], child, label, lines)
        return
    if isinstance(old, list) and isinstance(new, list):
        lines.append(_say(label, where, _list_change(old, new)))
        return
    if _short(old) and _short(new):
        lines.append(_say(label, where, f"{_render(old)} -> {_render(new)}"))
    else:
        lines.append(_say(label, where, "changed"))


def _label_depth(path: tuple[str, ...]) -> int:
    """How much of `path` the innermost named thing takes (its key included)."""
    depth = 0
    for i in range(len(path)):
        if _thing(path[:i]) is not None:
            depth = i + 1
    return depth


def _added(value: Any, path: tuple[str, ...], label: tuple[str, ...], lines: list[str]) -> None:
    where = path[_label_depth(path) :]
    if _map(value) and value and _thing(path) is None:
        for key, item in value.items():
            _added(item, (*path, str(key)), label, lines)
        return
    if isinstance(value, Mapping) and _thing(path) is not None:
        kind = _thing(path)
        for key in value:
            lines.append(_say((*label, f"{kind} {key}"), (), "added"))
        return
    if isinstance(value, list) and value and all(_short(v) for v in value):
        lines.append(_say(label, where, _list_change([], value)))
        return
    lines.append(_say(label, where, f"set to {_render(value)}" if _short(value) else "set"))


def _list_change(old: Sequence[Any], new: Sequence[Any]) -> str:
    added = [v for v in new if v not in old]
    removed = [v for v in old if v not in new]
    if not added and not removed:
        return "reordered"
    if not all(_short(v) for v in [*added, *removed]):
        return "changed"
    return " ".join([*(f"+ {_render(v)}" for v in added), *(f"- {_render(v)}" for v in removed)])


def _short(value: Any) -> bool:
    text = _render(value)
    return "\n" not in text and len(text) <= SHORT


def _render(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        plain = value and value.strip() == value and not any(c in value for c in " ,:[]{}'\"#")
        return value if plain else '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    if isinstance(value, Mapping):
        tag = tag_of(value)
        if tag is not None:
            return f"{tag} {_render(value[tag])}"
        return "{" + ", ".join(f"{k}: {_render(v)}" for k, v in value.items()) + "}"
    return str(value)


def _map(value: Any) -> bool:
    """A map of settings (a tagged value, `!pkg htop`, is one value)."""
    return isinstance(value, Mapping) and tag_of(value) is None


# ---- the commit body: every setting by its path ----------------------------------------


def setting_changes(old: Any, new: Any) -> list[str]:
    """One line per changed setting, named by its full path in the profile, for a commit
    body: `services.syncthing.guiPort: 8384 -> 8385`, `users.demouser.groups: + docker`;
    a thing added (a user, a service) is `users.alice: added`, with what it holds on the
    lines beneath it (`    groups: [wheel, audio]`)."""
    if old is None and new is None:
        return []
    if old is None:
        return ["new host"]
    if new is None:
        return ["host removed"]
    lines: list[str] = []
    _detail(old, new, (), lines)
    return lines


def _detail(old: Any, new: Any, path: tuple[str, ...], lines: list[str]) -> None:
    if old == new:
        return
    name = ".".join(path)
    if _map(old) and _map(new):
        kind = _thing(path)
        for key in [*new, *(k for k in old if k not in new)]:
            child = (*path, str(key))
            if key not in old:
                if kind is not None:
                    lines.append(f"{'.'.join(child)}: added")
                    lines.extend(f"    {line}" for line in _held(new[key], ()))
                else:
                    lines.extend(_held(new[key], child))
            elif key not in new:
                was = f" (was {_render(old[key])})" if _short(old[key]) else ""
                lines.append(f"{'.'.join(child)}: removed{was if kind is None else ''}")
            else:
                _detail(old[key], new[key], child, lines)
        return
    if isinstance(old, list) and isinstance(new, list):
        lines.append(f"{name}: {_list_change(old, new)}")
        return
    if _short(old) and _short(new):
        lines.append(f"{name}: {_render(old)} -> {_render(new)}")
    else:
        lines.append(f"{name}: changed")


def _held(value: Any, path: tuple[str, ...]) -> list[str]:
    """`groups: [wheel, audio]`: each setting in a value, by its path below `path`."""
    if _map(value) and value:
        return [line for k, v in value.items() for line in _held(v, (*path, str(k)))]
    if not path and isinstance(value, Mapping):
        return []  # `pihole: {}`: nothing more to say than that it was added
    shown = _render(value) if _short(value) else _size(value)
    return [f"{'.'.join(path)}: {shown}" if path else shown]


def _size(value: Any) -> str:
    if isinstance(value, list):
        return f"({len(value)} items)"
    if isinstance(value, str):
        return f"(text, {value.count(chr(10)) + 1} lines)" if "\n" in value else "(long text)"
    return "(set)"
