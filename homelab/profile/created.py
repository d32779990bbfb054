"""The groups a host's `options:` and raw Nix create, so that a user may be put in them.

They count as existing for the checks of users' groups only: homelab does not otherwise
reason about what raw Nix does. Raw Nix is read with tree-sitter-nix
(`homelab.nix.attrs`): `users.groups.media = { };` in any spelling of nested sets.
"""

from __future__ import annotations

from collections.abc import Iterable

from homelab.nix.attrs import created_names, option_bindings
from homelab.profile.options import Setting

_GROUP_SETS = (("users", "groups"), ("users", "extraGroups"))


def groups_in_options(found: Iterable[Setting]) -> set[str]:
    """The NAMEs of `users.groups.NAME...` settings in an `options:` section."""
    return {s.option[2] for s in found if len(s.option) >= 3 and s.option[:2] in _GROUP_SETS}


def groups_in_raw_nix(texts: Iterable[str]) -> set[str]:
    """The groups raw Nix (extraConfig, a hardware configuration) creates. Text that does
    not parse creates nothing (validation says what is wrong with it)."""
    found: set[str] = set()
    for text in texts:
        if text.strip():
            found |= created_names(text, "auto")[0]
    return found


_USER_SETS = (("users", "users"), ("users", "extraUsers"))


def users_given_a_group(found: Iterable[Setting], texts: Iterable[str]) -> set[str]:
    """The users whose primary group `options:` or raw Nix sets
    (`users.users.NAME.group`): a system user of the profile may take its group there."""
    named = {
        s.option[2]
        for s in found
        if len(s.option) == 4 and s.option[:2] in _USER_SETS and s.option[3] == "group"
    }
    for text in texts:
        if text.strip():
            named |= {
                b.path[2]
                for b in option_bindings(text, "auto")
                if len(b.path) == 4 and b.path[:2] in _USER_SETS and b.path[3] == "group"
            }
    return named
