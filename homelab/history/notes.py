"""What a new homelab's generated Nix turns on or off on a machine although the person's
profile did not change: said in `homelab diff` and in the commit message.

Pure: two texts of one generated file in, lines out. Read from the Nix itself (the file
as committed and as now compiled), so a lab built by an older homelab says it once, at the
commit or deploy that changes the machine, and never again.
"""

from __future__ import annotations

from homelab.nix.attrs import OptionBinding, option_bindings


def has_notes(path: str) -> bool:
    """Whether `generated_notes` may have something to say about this file (the others
    need not be read)."""
    return path.endswith("/home.nix")


def generated_notes(path: str, old: str | None, new: str | None) -> list[str]:
    """Lines about a generated file that changed from `old` to `new` (None: not there)."""
    if old is None or new is None or not has_notes(path):
        return []
    return programs_turned_on(old, new)


def _programs(text: str) -> dict[tuple[str, str], dict[str, str]]:
    """(user, program) -> its settings written directly (`enable` -> "true"), from the
    `home-manager.users.USER.programs.PROGRAM` of a generated home.nix."""
    found: dict[tuple[str, str], dict[str, str]] = {}
    bindings: list[OptionBinding] = option_bindings(text, "module")
    for b in bindings:
        p = b.path
        if len(p) >= 5 and p[:2] == ("home-manager", "users") and p[3] == "programs":
            own = found.setdefault((p[2], p[4]), {})
            if len(p) == 6:
                own[p[5]] = b.value.strip()
    return found


def programs_turned_on(old: str, new: str) -> list[str]:
    """`home-manager: programs.git for alice is now enabled (it was silently off before)`
    for each program an older homelab listed without `enable` (so home-manager left it
    off) and that is now written with `enable = true`."""
    before = _programs(old)
    lines = []
    for (user, program), settings in _programs(new).items():
        was = before.get((user, program))
        if was is not None and "enable" not in was and settings.get("enable") == "true":
            lines.append(
                f"home-manager: programs.{program} for {user} is now enabled "
                "(it was silently off before)"
            )
    return lines
