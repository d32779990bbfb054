"""Which profile line wrote each line of a host's generated Nix, and what Nix's errors
mean in the profile's words.

The map is made from the generated text itself (the files that went to the machine,
parsed with tree-sitter-nix) and the host's profile document (the place of every key),
so it is always in step with what the machine evaluated:

- services.nix: each block sits under a `# services.NAME` comment (compile.py writes
  it); a line of the block maps to the entry's setting when its option reads one
  (`services.jellyfin.openFirewall`), else to the entry itself: what a catalogue template
  writes on its own was not written by the person, who named the service.
- extra.nix: line for line, the profile's `extraConfig` text.
- the other generated files: the option each line assigns, and the profile key that sets
  that option (homelab.optionmap: the sections, `options:`, `users.NAME.home.options:`).

`explain` reads a failed evaluation (homelab.nix.messages) and names the profile place:
``hosts/web/profile.yaml:14:5: services.foo: The option `services.foo' does not exist.``
Pure: no file is read here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from homelab.catalog import Catalog
from homelab.compile import body_hash_matches
from homelab.errors import Place
from homelab.nix.attrs import option_bindings
from homelab.nix.messages import NixError, Spot, read_error
from homelab.optionmap import nixos_options
from homelab.profile.options import NotAnOptionPath, key_text, parse_key
from homelab.yamlfile import TAGS, Document

__all__ = ["Located", "Origin", "explain", "lab_path", "line_map", "option_origins"]

Path_ = tuple[str | int, ...]
Option = tuple[str, ...]


@dataclass(frozen=True)
class Origin:
    """A profile key: where it stands (file, line, column) and its path in the profile."""

    place: Place
    path: str  # as the person reads it: "options.services.foo.enable", "services.jellyfin"


@dataclass(frozen=True)
class Located:
    """One thing Nix refused, at its profile place when one was found."""

    origin: Origin | None
    option: str | None
    message: str
    spot: str = ""  # the generated (or hand-written) file and line Nix named, lab-relative

    def line(self) -> str:
        about = self.option or (self.origin.path if self.origin else "")
        head = f"{self.origin.place}: " if self.origin else (f"{self.spot}: " if self.spot else "")
        return head + (f"{about}: " if about else "") + self.message


def _shown(path: Path_) -> str:
    """A profile path as a person reads it; an `options:` key as written."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def _option(text: str) -> Option | None:
    try:
        return parse_key(text)
    except NotAnOptionPath:
        return None


def _walk(data: Any, at: Path_) -> Iterator[Path_]:
    yield at
    if isinstance(data, dict):
        for key, value in data.items():
            if key not in TAGS:  # `!nix`, `!pkg`...: the value of the key above
                yield from _walk(value, (*at, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _walk(value, (*at, i))


def option_origins(document: Document, catalog: Catalog | None = None) -> dict[Option, Origin]:
    """Each NixOS option the profile sets -> the profile key that sets it (the deepest
    key, so `users.alice.uid` wins over `users.alice` for users.users.alice.uid)."""
    out: dict[Option, tuple[int, Origin]] = {}
    fallback = Place(document.file)
    for path in _walk(document.data, ()):
        if not path or any(isinstance(p, int) for p in path):
            continue
        for text in nixos_options(path, catalog):
            option = _option(text)
            if option is None:
                continue
            known = out.get(option)
            if known is None or known[0] < len(path):
                origin = Origin(document.marks.key(path, fallback), _shown(path))
                out[option] = (len(path), origin)
    return {option: origin for option, (_, origin) in out.items()}


def find_option(origins: Mapping[Option, Origin], option: Option) -> Origin | None:
    """The profile key of an option: exact, else the first one below it (`services.foo`
    when the profile sets `services.foo.enable`), else the nearest above it (a set
    written whole)."""
    found = origins.get(option)
    if found is not None:
        return found
    below = [o for opt, o in origins.items() if opt[: len(option)] == option]
    if below:
        return min(below, key=lambda o: (o.place.file, o.place.line, o.place.column))
    for n in range(len(option) - 1, 0, -1):
        found = origins.get(option[:n])
        if found is not None:
            return found
    return None


_SERVICE_COMMENT = re.compile(r"^\s*# services\.([^\s:]+)")


def line_map(
    files: Mapping[str, str], document: Document, catalog: Catalog | None = None
) -> dict[str, dict[int, Origin]]:
    """{generated file: {line: the profile key that wrote it}} for one host's files (lab-
    relative paths). Hand-written files and lines no profile key wrote are not in it."""
    origins = option_origins(document, catalog)
    out: dict[str, dict[int, Origin]] = {}
    for path, text in files.items():
        if not path.endswith(".nix") or body_hash_matches(text) is None:
            continue
        name = path.rsplit("/", 1)[-1]
        if name == "services.nix":
            lines = _service_lines(text, document, _option_lines(text, origins))
        elif name == "extra.nix":
            lines = _extra_lines(text, document)
        else:
            lines = _option_lines(text, origins)
        if lines:
            out[path] = lines
    return out


def _service_lines(
    text: str, document: Document, options: Mapping[int, Origin]
) -> dict[int, Origin]:
    """The service entry of each block, or the entry's setting when the line's option
    reads one (`services.pihole.webPort`)."""
    out: dict[int, Origin] = {}
    current: Origin | None = None
    fallback = Place(document.file)
    for number, line in enumerate(text.split("\n"), start=1):
        m = _SERVICE_COMMENT.match(line)
        if m:
            path = ("services", m.group(1))
            current = Origin(document.marks.key(path, fallback), _shown(path))
        if current is not None:
            setting = options.get(number)
            inside = setting is not None and setting.path.startswith(current.path + ".")
            out[number] = setting if setting is not None and inside else current
    return out


def _extra_lines(text: str, document: Document) -> dict[int, Origin]:
    """extra.nix holds extraConfig stripped (a module) or between two lines of its own
    (bindings): its body lines follow extraConfig's lines one for one."""
    data = document.data if isinstance(document.data, dict) else {}
    extra = data.get("extraConfig")
    if not isinstance(extra, str) or not extra.strip():
        return {}
    path = ("extraConfig",)
    block = document.marks.blocks.get(path)
    if block is None:  # a quoted scalar: its lines are not the file's lines
        whole = Origin(document.marks.value(path, Place(document.file)), "extraConfig")
    skipped = len(extra) - len(extra.lstrip("\n"))
    first = extra[skipped:].split("\n", 1)[0].strip()
    lines = text.split("\n")
    at = next((i for i, line in enumerate(lines) if line.strip() == first), None)
    if at is None:
        return {}
    out: dict[int, Origin] = {}
    for i in range(at, len(lines)):
        if block is None:
            out[i + 1] = whole
        else:  # a block scalar's mark is its first content line
            line = block[0] + extra[:skipped].count("\n") + (i - at)
            out[i + 1] = Origin(Place(document.file, line, block[1] + 1), "extraConfig")
    return out


def _option_lines(text: str, origins: Mapping[Option, Origin]) -> dict[int, Origin]:
    """Each line -> the origin of the option assigned on it or above it (a value over
    several lines belongs to the assignment it started in); after an assignment no
    profile key made (`imports`, a catalogue's own option), none."""
    try:
        bindings = option_bindings(text, "module")
    except (ValueError, RecursionError):
        return {}
    longest: dict[int, tuple[str, ...]] = {}
    for b in bindings:
        path = b.path[1:] if b.path[:1] == ("config",) else b.path
        if len(path) >= len(longest.get(b.line, ())):
            longest[b.line] = path
    out: dict[int, Origin] = {}
    current: Origin | None = None
    for number in range(1, text.count("\n") + 2):
        if number in longest:
            current = find_option(origins, longest[number]) if longest[number] else None
        if current is not None:
            out[number] = current
    return out


# ---- paths on the machine ------------------------------------------------------------

_STORE = re.compile(r"^/nix/store/[0-9a-z]{32}-[^/]+/(.+)$")
_UPLOADED = re.compile(r"^(?:.*)/var/lib/homelab/(?:config|uploads/[^/]+)/(.+)$")
_ETC_NIXOS = re.compile(r"^(?:.*)/etc/nixos/(.+)$")


def lab_path(file: str, folder: str, known: Mapping[str, Any]) -> str | None:
    """A path as Nix named it on the machine -> the lab-relative path of an uploaded file
    (`known`: the lab paths that went), None when it is none of them (nixpkgs' own)."""
    for pattern, prefix in ((_STORE, ""), (_UPLOADED, ""), (_ETC_NIXOS, f"hosts/{folder}/")):
        m = pattern.match(file)
        if m:
            rel = prefix + m.group(1)
            if rel in known:
                return rel
            if prefix == "" and f"hosts/{folder}/{m.group(1)}" in known:
                return f"hosts/{folder}/{m.group(1)}"
    return None


# ---- what Nix said, in the profile's words -------------------------------------------


def explain(
    text: str,
    folder: str,
    files: Mapping[str, str],
    document: Document | None,
    catalog: Catalog | None = None,
) -> tuple[Located, ...]:
    """The profile places of the evaluation error in `text` (a failed rebuild's output)
    for the host `folder`, whose uploaded files (lab paths) were `files`. Empty when the
    text holds no error; an error that no place was found for comes back as it is."""
    error = read_error(text)
    if error is None:
        return ()
    if document is None:
        return (Located(None, error.option, error.message),)
    origins = option_origins(document, catalog)
    lines = line_map(files, document, catalog)
    if error.assertions:
        return tuple(_assertion(a, origins) for a in error.assertions)
    return (_locate(error, folder, files, lines, origins),)


def _locate(
    error: NixError,
    folder: str,
    files: Mapping[str, str],
    lines: Mapping[str, Mapping[int, Origin]],
    origins: Mapping[Option, Origin],
) -> Located:
    ours = [(s, rel) for s in error.spots if (rel := lab_path(s.file, folder, files))]
    spot = _spot_text(ours[0]) if ours else ""
    option = _option(error.option) if error.option else None
    # the option's own key first (what the person wrote), when a generated file Nix named
    # holds it; then the line Nix named; else the file as Nix named it
    found = find_option(origins, option) if option is not None else None
    if found is not None and _in_files(ours, lines):
        return Located(found, error.option, error.message, spot)
    for s, rel in ours:
        if s.line is not None and s.line in lines.get(rel, {}):
            return Located(lines[rel][s.line], error.option, error.message, spot)
    return Located(None, error.option, error.message, spot)


def _in_files(ours: list[tuple[Spot, str]], lines: Mapping[str, Mapping[int, Origin]]) -> bool:
    """Did Nix name a generated file (or no file)? A definition that only a hand-written
    module makes is that module's, not the profile's."""
    return not ours or any(rel in lines for _, rel in ours)


def _spot_text(spot: tuple[Spot, str]) -> str:
    s, rel = spot
    if s.line is None:
        return rel
    return f"{rel}:{s.line}:{s.column}" if s.column else f"{rel}:{s.line}"


_NAMED = re.compile(r"[A-Za-z_][\w'-]*(?:\.(?:[A-Za-z_][\w'-]*|\"[^\"]*\"))+")


def _assertion(message: str, origins: Mapping[Option, Origin]) -> Located:
    """A failed assertion, at the profile key of the first option its message names."""
    for m in _NAMED.finditer(message):
        option = _option(m.group(0))
        if option is None or len(option) < 2:
            continue
        found = find_option(origins, option)
        if found is not None and option[:2] in {k[:2] for k in origins}:
            return Located(found, key_text(list(option)), "failed assertion: " + message)
    return Located(None, None, "failed assertion: " + message)
