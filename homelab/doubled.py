"""Options a person sets twice: once in a section of the profile (or a service's
settings) and once in `options:`, with different values.

NixOS would stop the build with "conflicting definitions" (or, for a list, quietly merge
the two); here the mistake is named at both places before anything is built. What
homelab writes at `lib.mkDefault` is not the person's and never counts: `options:` beats
it by design. A value written with `!force` or `!default` in `options:` chose its priority
and does not count either. Lists are not compared: NixOS concatenates them, and adding to
a list from `options:` is a normal thing to do.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from homelab.catalog import Catalog
from homelab.compile import concerns, identity
from homelab.errors import Place, Problem, format_path
from homelab.nix.expr import Apply, Block, Comment, NixValue, NixValueError
from homelab.optionmap import nixos_options
from homelab.profile.model import Profile
from homelab.profile.options import key_text, nix_value
from homelab.yamlfile import TAGS, Document, Path_

Option = tuple[str, ...]

_MERGE = "lib.mkMerge"
_LOWER = ("lib.mkDefault", "lib.mkOptionDefault", "lib.mkForce", "lib.mkOverride")


def _leaves(
    value: NixValue, at: Option, wanted: set[Option] | None = None
) -> Iterator[tuple[Option, NixValue]]:
    """The options a module body sets, one leaf each, without those at another priority;
    with `wanted` (options and their prefixes), only the leaves on the way to those."""
    if isinstance(value, Comment | Block):
        yield from _leaves(value.value, at, wanted)
    elif isinstance(value, Apply):
        if value.fn.name == _MERGE and value.args and isinstance(value.args[0], list | tuple):
            for part in value.args[0]:
                yield from _leaves(part, at, wanted)
        elif value.fn.name not in _LOWER:
            yield at, value
    elif isinstance(value, Mapping) and value:
        for name, item in value.items():
            here = (*at, name)
            if wanted is None or here in wanted:
                yield from _leaves(item, here, wanted)
    else:
        yield at, value


def profile_settings(
    p: Profile, catalog: Catalog, options: set[Option] | None = None
) -> dict[Option, NixValue]:
    """What the profile's sections and services set at normal priority (not options:);
    with `options`, only those options (the modules that cannot set them are not made)."""
    wanted = None if options is None else {o[:i] for o in options for i in range(1, len(o) + 1)}
    found: dict[Option, NixValue] = dict(_leaves(identity(p), (), wanted))
    for name, _title, body in concerns(p, catalog, wanted):
        if body and name != "options.nix":
            # a module's `config = ...` holds options (services.nix: config = lib.mkMerge [..])
            if isinstance(body, Mapping) and set(body) == {"config"}:
                body = body["config"]
            found.update(_leaves(body, (), wanted))
    return found


def _comparable(value: NixValue) -> bool:
    return not isinstance(value, list | tuple)


def doubled(doc: Document, profile: Profile, catalog: Catalog) -> list[Problem]:
    """A problem at each `options:` value that a section of the profile also sets."""
    written = [((), s) for s in profile.options] + [
        (("home-manager", "users", u.name), s)
        for u in profile.users
        if u.home is not None
        for s in u.home.options
    ]
    if not written:
        return []
    top = Place(doc.file)
    mine_by_setting = []
    for prefix, s in written:
        try:
            value = nix_value(s.value)
        except NixValueError:
            continue  # validation reported it
        mine_by_setting.append((s, list(_leaves(value, (*prefix, *s.option)))))
    settings = profile_settings(
        profile, catalog, {option for _, leaves in mine_by_setting for option, _ in leaves}
    )
    problems: list[Problem] = []
    for s, leaves in mine_by_setting:
        for option, mine in leaves:
            theirs = settings.get(option, _MISSING)
            if theirs is _MISSING or not (_comparable(mine) and _comparable(theirs)):
                continue
            if mine == theirs:
                continue
            name = key_text(option)
            where = _field_setting(doc, name, catalog)
            by = f"{format_path(where)} (line {doc.marks.key(where, top).line})" if where else ""
            problems.append(
                Problem(
                    doc.marks.key(s.where, top),
                    f"{name} is set twice with different values: here and by "
                    + (by or "another section of the profile"),
                    format_path(p for p in s.where if p not in TAGS),
                    "keep one of the two; to override on purpose, write the value here with !force",
                )
            )
    return problems


_MISSING: Any = object()


def _field_setting(doc: Document, option: str, catalog: Catalog) -> Path_ | None:
    """The path of the profile field that sets this option, if one does."""
    best: Sequence[str | int] | None = None
    for path in doc.marks.keys:
        if path[:1] == ("options",) or path[2:4] == ("home", "options"):
            continue
        longer = best is None or len(path) > len(best)
        if longer and option in nixos_options(path, catalog):
            best = path
    return tuple(best) if best is not None else None
