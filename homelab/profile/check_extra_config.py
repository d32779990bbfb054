"""The checks of `extraConfig`: Nix that parses as a module body, no plaintext password
in it, and (with the lab's option index) options that exist."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homelab.errors import Place, Problem
from homelab.nix.attrs import option_bindings, plaintext_passwords
from homelab.nix.syntax import check_module_body
from homelab.optionindex.check import Checked, check_path
from homelab.optionindex.model import OptionIndex
from homelab.profile.check_users import PASSWORD_HINT
from homelab.yamlfile import Document, Path_

# names a module may bind that set no option
_NOT_OPTIONS = frozenset({"imports", "options", "disabledModules", "meta", "_file", "key"})


def extra_config_problems(
    doc: Document,
    data: Mapping[str, Any],
    index: OptionIndex | None = None,
    tally: Checked | None = None,
) -> list[Problem]:
    """Where extraConfig does not parse, sets a plaintext password, or (with the lab's
    option index) sets an option that does not exist."""
    top = Place(doc.file)
    problems: list[Problem] = []

    def at(path: Path_) -> Place:
        return doc.marks.value(path, top)

    extra = data.get("extraConfig")
    if isinstance(extra, str):
        kind, errors = check_module_body(extra)
        block = doc.marks.blocks.get(("extraConfig",))

        def in_extra(line: int, column: int) -> tuple[Place, str]:
            if block:
                return Place(top.file, block[0] + line - 1, block[1] + column), ""
            # a quoted or plain scalar: say where in its text
            return at(("extraConfig",)), f" (line {line}, column {column} of the text)"

        for e in errors:
            place, in_text = in_extra(e.line, e.column)
            problems.append(
                Problem(
                    place,
                    f"extraConfig is not valid Nix{in_text}: {e.message}",
                    path="extraConfig",
                    hint=e.hint or "write NixOS options as `name = value;` lines",
                )
            )
        for line, column, option in [] if errors else plaintext_passwords(extra, kind):
            place, in_text = in_extra(line, column)
            problems.append(
                Problem(
                    place,
                    f"a plaintext password in {option}{in_text} is not allowed: "
                    "it would be stored in the world-readable Nix store",
                    path="extraConfig",
                    hint=PASSWORD_HINT,
                )
            )
        if index is None and tally is not None:
            tally.unchecked += 1  # raw Nix no index read
        if errors or index is None:
            return problems
        for b in option_bindings(extra, kind):
            path = b.path[1:] if b.path[0] == "config" else b.path
            if not b.value or not path or path[0] in _NOT_OPTIONS:
                continue  # a name that leads to a set: its leaves are read on their own
            home = path[:2] == ("home-manager", "users") and len(path) > 3
            found = check_path(index.home, path[3:]) if home else check_path(index.nixos, path)
            if tally is not None:
                tally.unchecked += found.unchecked  # the path is known; Nix checks the value
            for wrong in found.problems:
                place, in_text = in_extra(b.line, b.column)
                problems.append(
                    Problem(
                        place,
                        f"extraConfig{in_text}: "
                        + (f"{path[2]}'s home-manager options: " if home else "")
                        + wrong.message,
                        path="extraConfig",
                        hint=wrong.hint,
                        warning=wrong.warning,
                    )
                )
    return problems
