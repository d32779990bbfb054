"""The checks of `extraConfig`: Nix that parses as a module body, and no plaintext
password in it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homelab.errors import Place, Problem
from homelab.nix.attrs import plaintext_passwords
from homelab.nix.syntax import check_module_body
from homelab.profile.check_users import PASSWORD_HINT
from homelab.yamlfile import Document, Path_


def extra_config_problems(doc: Document, data: Mapping[str, Any]) -> list[Problem]:
    """Where extraConfig does not parse, or sets a plaintext password."""
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
    return problems
