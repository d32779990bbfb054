"""What changed between two states of a lab, per host, and the commit message saying it.

Pure: the two loaded states and the set of changed files go in, lines of text come out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from homelab.history.labwiring import lab_wiring_lines
from homelab.history.notes import generated_notes, has_notes
from homelab.history.paths import host_folder, host_inputs
from homelab.history.summary import THINGS, host_changes, setting_changes
from homelab.labconfig import LAB_YAML, lock
from homelab.labfiles import COMMON, PROFILE, HostState, LabState

SUBJECT_WIDTH = 72


@dataclass(frozen=True)
class Changes:
    """Change lines per host folder (only hosts that changed) and for the lab itself;
    `details`: per host, each changed setting by its path (the commit body)."""

    hosts: dict[str, list[str]] = field(default_factory=dict)
    lab: list[str] = field(default_factory=list)
    details: dict[str, list[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.hosts or self.lab)

    def lines(self) -> list[str]:
        """One line per host, as in a commit body: `pi: service pihole added; ...`."""
        out = [f"{folder}: {'; '.join(_joined(lines))}" for folder, lines in self.hosts.items()]
        if self.lab:
            out.append(f"lab: {'; '.join(self.lab)}")
        return out

    def body(self) -> list[str]:
        """The commit body: per host its name, then a line per changed setting
        (`- services.syncthing.guiPort: 8384 -> 8385`, what an added thing holds beneath
        it); the lab's own lines last."""
        out: list[str] = []
        for folder, lines in self.hosts.items():
            details = self.details.get(folder) or lines
            out.append(f"{folder}:")
            out.extend(line if line.startswith(" ") else f"- {line}" for line in details)
        if self.lab:
            out.append("lab:")
            out.extend(f"- {line}" for line in self.lab)
        return out


def _joined(lines: list[str]) -> list[str]:
    """`user demouser: groups + audio, shell set to zsh` for two lines about one thing."""
    kinds = tuple(f"{kind} " for kind in THINGS.values())
    out: list[str] = []
    last = ""
    for line in lines:
        thing, sep, rest = line.partition(": ")
        if sep and line.startswith(kinds) and " " in thing and thing == last:
            out[-1] += f", {rest}"
            continue
        out.append(line)
        last = thing if sep and line.startswith(kinds) else ""
    return out


def _data(host: HostState | None) -> object:
    return host.document.data if host is not None and host.document is not None else None


def _file_change(path: str, old: LabState, new: LabState) -> tuple[str, str, str]:
    """(kind, name, verb): ("catalogue entry", "pihole", "changed")."""
    was, now = path in old.texts, path in new.texts
    verb = "added" if now and not was else "removed" if was and not now else "changed"
    if path.startswith("services/") and path.endswith(".yaml"):
        return "catalogue entry", path.removeprefix("services/").removesuffix(".yaml"), verb
    if path.startswith(f"hosts/{COMMON}/"):
        return "fragment", path, verb
    return "", path, verb


def _file_lines(paths: Iterable[str], old: LabState, new: LabState) -> list[str]:
    """`catalogue entry pihole changed`; several of a kind at once: `catalogue entries
    a, b added`."""
    groups: dict[tuple[str, str], list[str]] = {}
    for path in paths:
        kind, name, verb = _file_change(path, old, new)
        groups.setdefault((kind, verb), []).append(name)
    out = []
    for (kind, verb), names in groups.items():
        plural = {"catalogue entry": "catalogue entries", "fragment": "fragments"}.get(kind, kind)
        out.append(
            " ".join(w for w in (plural if len(names) > 1 else kind, ", ".join(names), verb) if w)
        )
    return out


def input_lines(path: str, old_text: str | None, new_text: str | None) -> list[str] | None:
    """lab.yaml and flake.lock said as the inputs they change (`nixpkgs: 26.05 → 26.11`,
    `agenix added`, `nixpkgs pinned anew: ...`); None for another file, or a change
    that touches no input (a comment): then the file is named."""
    if path == LAB_YAML:
        return lock.input_changes(old_text, new_text) or None
    if path == lock.FLAKE_LOCK:
        return lock.pin_changes(old_text, new_text) or None
    return None


def _lab_lines(
    paths: Iterable[str],
    old: LabState,
    new: LabState,
    texts: Callable[[str], tuple[str | None, str | None]] | None,
) -> list[str]:
    """The lab's own changed files: named, the flake's inputs said in the lab's words
    (lab.yaml's, then flake.lock's pins). The flake.nix lab.yaml makes goes unsaid when
    lab.yaml changed: its change is lab.yaml's."""
    paths = list(paths)
    if LAB_YAML in paths:
        paths = [p for p in paths if p != "flake.nix"]
    order = {LAB_YAML: 0, lock.FLAKE_LOCK: 1}
    named: list[str] = []
    said: list[str] = []
    for path in sorted(paths, key=lambda p: order.get(p, -1)):
        lines = input_lines(path, *texts(path)) if texts is not None else None
        if lines is None:
            named.append(path)
        else:
            said.extend(lines)
    return [*_file_lines(named, old, new), *said]


LAYOUT_ONLY = "generated Nix: new layout, same meaning"


def describe(
    old: LabState,
    new: LabState,
    changed: Iterable[str],
    folders: Iterable[str] | None = None,
    layout_only: Callable[[str], bool] | None = None,
    generated: Callable[[str], tuple[str | None, str | None]] | None = None,
) -> Changes:
    """Per host: profile-level changes (from the merged documents), then catalogue entries
    it uses that changed; a host whose only change is its generated files says so, and
    says when `layout_only` finds each of them the same Nix laid out anew (a newer
    homelab's layout). Changed files that belong to no host are the lab's own lines.
    `generated(path)` gives a generated file's old and new text, for what a change of
    homelab itself turns on (`generated_notes`)."""
    changed = sorted(set(changed))
    everyone = sorted(set(old.hosts) | set(new.hosts))
    scope = everyone if folders is None else [f for f in everyone if f in set(folders)]
    inputs = {f: host_inputs(old, f) | host_inputs(new, f) for f in everyone}
    claimed: set[str] = set()
    hosts: dict[str, list[str]] = {}
    details: dict[str, list[str]] = {}
    for folder in everyone:
        mine = [p for p in changed if p.startswith(host_folder(folder)) or p in inputs[folder]]
        claimed.update(mine)
        if folder not in scope:
            continue
        o, n = old.hosts.get(folder), new.hosts.get(folder)
        unreadable = (o is not None and o.document is None) or (
            n is not None and n.document is None
        )
        lines = [] if unreadable else host_changes(_data(o), _data(n))
        settings = [] if unreadable else setting_changes(_data(o), _data(n))
        said = len(lines)  # what follows is not a setting: say it in the body too
        if unreadable and f"hosts/{folder}/{PROFILE}" in mine:
            lines.append("profile changed (a version of it is not valid YAML)")
        if o is not None and n is not None:
            gone = [i for i in o.includes if i not in n.includes]
            came = [i for i in n.includes if i not in o.includes]
            if gone or came:
                lines.append(
                    "include " + " ".join([*(f"+ {i}" for i in came), *(f"- {i}" for i in gone)])
                )
            lines.extend(_file_lines([p for p in mine if p.startswith("services/")], old, new))
        if any(p.endswith(("/web.nix", "/wiring.nix")) for p in mine):
            lines.extend(lab_wiring_lines(old, new, folder))
        if lines:  # a secret it reads changed too: said with the rest, not only alone
            lines.extend(_file_lines([p for p in mine if p.startswith("encrypted/")], old, new))
        if not lines and mine:
            own = [
                p
                for p in mine
                if p.startswith(host_folder(folder))
                and p.endswith(".nix")
                and p not in inputs[folder]
            ]
            others = [p for p in mine if p not in own]
            lines.extend(_file_lines(others, old, new))
            if own and layout_only is not None and all(layout_only(p) for p in own):
                lines.append(LAYOUT_ONLY)
            elif own:
                lines.append("generated files rebuilt")
        if generated is not None:
            for path in mine:
                if (
                    has_notes(path)
                    and path.startswith(host_folder(folder))
                    and path not in inputs[folder]
                ):
                    lines.extend(generated_notes(path, *generated(path)))
        if lines:
            hosts[folder] = lines
            details[folder] = [*settings, *lines[said:]]
    lab = _lab_lines([p for p in changed if p not in claimed], old, new, generated)
    return Changes(hosts, lab, details)


def subject_of(changes: Changes, words: str = "") -> str:
    """`nixos-demo: service pihole added`, `homeserver, pi: host.timezone ...`; with the
    person's words, their first line after the hosts."""
    names = list(changes.hosts)
    who = ", ".join(names)
    if not names:
        who = "lab"
    elif len(who) > 40:
        who = f"{len(names)} hosts"
    if words.strip():
        return f"{who}: {words.strip().splitlines()[0].strip()}"
    distinct: list[str] = []
    for line in [*(line for lines in changes.hosts.values() for line in lines), *changes.lab]:
        if line not in distinct:
            distinct.append(line)
    text = f"{who}: {'; '.join(distinct)}"
    if len(text) <= SUBJECT_WIDTH:
        return text
    first = f"{who}: {distinct[0]}"
    more = f", and {len(distinct) - 1} more change{'s' if len(distinct) > 2 else ''}"
    if len(first + more) <= SUBJECT_WIDTH:
        return first + more
    if (
        len(distinct) == 1
        and len(names) > 1
        and len(f"{len(names)} hosts: {distinct[0]}") <= SUBJECT_WIDTH
    ):
        return f"{len(names)} hosts: {distinct[0]}"
    return f"{who}: {len(distinct)} change{'s' if len(distinct) > 1 else ''}"


def commit_message(changes: Changes, words: str | None = None, subject: str | None = None) -> str:
    """Subject naming the hosts (the person's first line after them, when they gave
    words); the rest of their words on top of the body; then, per host, each changed
    setting with its old and new value."""
    words = (words or "").strip()
    if subject is None:
        subject = subject_of(changes, words)
        words = "\n".join(words.splitlines()[1:]).strip()
    parts = [subject, words, "\n".join(changes.body())]
    return "\n\n".join(p for p in parts if p) + "\n"
