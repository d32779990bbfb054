"""The one place Nix text is made: `NixValue` -> Nix source, in nixfmt's style.

Everything a user typed reaches Nix through `string` (values) or `attr_name` (names), whose
escaping was checked against Nix 2.8 (``nix-instantiate --eval --json --strict``):

- ``"..."``: ``\\`` ``"`` are backslash-escaped; ``$`` is escaped only before ``{``
  (``\\${``; Nix reads ``$${`` as the two characters ``$$`` and a ``{``, no interpolation);
  newline, carriage return and tab become ``\\n`` ``\\r`` ``\\t`` (a raw carriage return
  would be read as a newline: Nix turns CR and CRLF into LF inside ``"..."``).  Other
  control characters have no escape in Nix and are written as they are, which Nix keeps.
- ``''...''`` (used for multi-line text when it is safe): ``''`` -> ``'''``, ``${`` ->
  ``''${``, CR -> ``''\\r``; a lone ``'`` right before an escape or before the closing
  ``''`` is written ``''\\'``.  The text is indented two spaces deeper than the line that
  holds it, which Nix strips again; that only round-trips when some non-blank line starts
  without a space and the last line (when the text does not end with a newline) is not
  all spaces, otherwise the ``"..."`` form is used.
- NUL cannot be in a Nix string (Nix's strings are C strings): `NixValueError`.  So are
  lone surrogates (not encodable as UTF-8).

Over 500 lines: every escape rule and layout rule together, so that the one place Nix
text is made stays one place.
"""

from __future__ import annotations

import functools
import math
import re
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, cast

import tree_sitter

from homelab.nix.expr import (
    Apply,
    Block,
    Comment,
    Let,
    Module,
    NixPath,
    NixValue,
    NixValueError,
    Pkg,
    Raw,
    Ref,
    SearchPath,
    is_identifier,
)
from homelab.nix.syntax import parse

__all__ = ["attr_name", "render", "render_file", "string"]

_INT_MIN = -(2**63)
_INT_MAX = 2**63 - 1
_SHORT = 60  # a one-element list stays on one line up to this width
_INDENT = 2


# ---- strings ---------------------------------------------------------------------------


def _check_text(s: str) -> None:
    if "\x00" in s:
        raise NixValueError("a Nix string cannot contain the NUL character")
    if s.isascii():
        return  # ASCII always encodes: the common case skips making the bytes
    try:
        s.encode("utf-8")
    except UnicodeEncodeError as err:
        raise NixValueError(f"text is not valid Unicode ({err.reason})") from None


# what "..." escapes; most strings hold none of it and are only wrapped in quotes
_NEEDS_ESCAPE = re.compile(r'[\\"\n\r\t]|\$\{')


def _quoted(s: str) -> str:
    if _NEEDS_ESCAPE.search(s) is None:
        return '"' + s + '"'
    # the backslash first, so that the escapes added after it are not escaped again;
    # none of them makes or breaks a "${" (they add no $ and no {)
    s = s.replace("\\", "\\\\").replace('"', '\\"')
    s = s.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return '"' + s.replace("${", "\\${") + '"'


def _indented_line(line: str, closes: bool) -> str:
    """One line of an ``''`` string; `closes` when the closing ``''`` follows it directly."""
    out: list[str] = []
    n = len(line)
    i = 0

    def escaped_at(j: int) -> bool:
        # does the text written for line[j:] start with a quote?
        if j >= n:
            return closes
        return line[j] == "\r" or (line[j] == "$" and j + 1 < n and line[j + 1] == "{")

    while i < n:
        ch = line[i]
        if ch == "'":
            j = i
            while j < n and line[j] == "'":
                j += 1
            run = j - i
            out.append("'''" * (run // 2))
            if run % 2:
                out.append("''\\'" if escaped_at(j) else "'")
            i = j
        elif ch == "$" and i + 1 < n and line[i + 1] == "{":
            out.append("''$")
            i += 1
        elif ch == "\r":
            out.append("''\\r")
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _indented(s: str, indent: int) -> str | None:
    """`s` as an ``''`` string whose lines sit at `indent` + 2, None when unsafe or unfit."""
    if "\n" not in s:
        return None
    ends_with_newline = s.endswith("\n")
    lines = (s[:-1] if ends_with_newline else s).split("\n")
    # Nix strips the smallest indentation of the non-blank lines: ours must be the smallest.
    if not any(line and line[0] != " " for line in lines):
        return None
    # Nix drops a last line made of spaces only.
    if not ends_with_newline and not lines[-1].strip(" "):
        return None
    pad = " " * (indent + _INDENT)
    out = ["''"]
    for i, line in enumerate(lines):
        closes = i == len(lines) - 1 and not ends_with_newline
        out.append(pad + _indented_line(line, closes) if line else "")
    text = "\n".join(out)
    if ends_with_newline:
        return text + "\n" + " " * indent + "''"
    return text + "''"


def string(s: str, indent: int = 0) -> str:
    """`s` as a Nix string literal that evaluates to exactly `s`.

    Text with a newline is written as an indented ``''`` string (its lines at `indent` + 2)
    when that is safe, else as ``"..."``.  Raises `NixValueError` for text containing NUL
    (which Nix strings cannot hold) or lone surrogates; validate user input for NUL first.
    """
    if not isinstance(s, str):
        raise NixValueError(f"expected a string, not {type(s).__name__}")
    _check_text(s)
    return _indented(s, indent) or _quoted(s)


def _string(s: str, indent: int) -> str:
    """`string` of a str: one line of ASCII (nearly every string) the short way."""
    if "\n" in s or "\x00" in s or not s.isascii():
        return string(s, indent)
    return _quoted(s)  # what string() comes to for it: nothing to check, no ''-form


def attr_name(name: str) -> str:
    """An attribute name: bare when an identifier (and not a keyword), else ``"quoted"``."""
    if not isinstance(name, str):
        raise NixValueError(f"attribute names are strings, not {type(name).__name__}")
    return _attr_name(name)


@functools.lru_cache(maxsize=8192)
def _attr_name(name: str) -> str:
    # a lab's modules repeat the same few thousand names (services, enable, users...)
    _check_text(name)
    return name if is_identifier(name) else _quoted(name)


def _comment_text(text: str) -> str:
    """A ``#`` comment line's text: control characters and line breaks become spaces."""
    if type(text) is str:
        return _comment_line(text)
    return _cleaned_comment(str(text))


def _comment_str(text: str) -> str:
    if text.isprintable():  # no control character, line or paragraph separator in it
        cleaned = text.strip()
        return "# " + cleaned if cleaned else "#"
    return _cleaned_comment(text)


# the same service names and notes are said above every host's bindings
_comment_line = functools.lru_cache(maxsize=4096)(_comment_str)


def _cleaned_comment(text: str) -> str:
    cleaned = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in str(text)
    )
    cleaned = cleaned.strip()
    try:
        cleaned.encode("utf-8")
    except UnicodeEncodeError:
        cleaned = cleaned.encode("utf-8", "replace").decode("utf-8")
    return "# " + cleaned if cleaned else "#"


# ---- numbers ---------------------------------------------------------------------------


def _int(v: int) -> str:
    v = int(v)
    if v < _INT_MIN or v > _INT_MAX:
        raise NixValueError(f"integer {v} does not fit Nix's 64-bit integers")
    if v == _INT_MIN:  # 9223372036854775808 is not a valid literal
        return f"({_INT_MIN + 1} - 1)"
    return str(v)


def _float(v: float) -> str:
    v = float(v)
    if not math.isfinite(v):
        raise NixValueError(f"Nix has no {v} float")
    if v != 0 and abs(v) < sys.float_info.min:
        raise NixValueError(f"Nix 2.8 refuses subnormal floats such as {v!r}")
    # repr() round-trips; Nix needs a '.' before an exponent (1e-07 is `1` applied to e-07)
    mantissa, e, exponent = repr(v).partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + e + exponent


# ---- raw Nix ---------------------------------------------------------------------------

_ATOMIC_RAW = frozenset(
    {
        "variable_expression",
        "select_expression",
        "integer_expression",
        "float_expression",
        "string_expression",
        "indented_string_expression",
        "path_expression",
        "hpath_expression",
        "spath_expression",
        "uri_expression",
        "list_expression",
        "attrset_expression",
        "rec_attrset_expression",
        "parenthesized_expression",
    }
)


class _RawInfo:
    """What the renderer needs to know about a Raw: lines, atomicity, trailing comment."""

    def __init__(self, text: str) -> None:
        tree = parse(text)
        root = tree.root_node
        exprs = [c for c in root.children if c.type != "comment"]
        if tree.root_node.has_error or len(exprs) != 1:
            raise NixValueError("raw Nix does not parse as one expression")
        self.atomic = exprs[0].type in _ATOMIC_RAW and all(
            c.type != "comment" for c in root.children
        )
        last = root.children[-1]
        self.ends_with_line_comment = last.type == "comment" and (last.text or b"").startswith(b"#")
        data = text.encode("utf-8")
        self.lines, self.kinds = self._split(data, root)

    @staticmethod
    def _split(data: bytes, root: tree_sitter.Node) -> tuple[list[str], list[str]]:
        """The lines, and for each: "code", "string" (inside an ``''`` string that may
        move) or "frozen" (starts inside a string where spaces count)."""
        frozen: list[tuple[int, int]] = []
        moving: list[tuple[int, int]] = []
        stack = [root]
        while stack:
            n = stack.pop()
            if n.type == "string_expression":
                frozen.append((n.start_byte, n.end_byte))
            elif n.type == "indented_string_expression":
                if re.match(rb"''[ ]*\n", n.text or b""):
                    moving.append((n.start_byte, n.end_byte))
                else:
                    frozen.append((n.start_byte, n.end_byte))
            stack.extend(n.children)
        lines: list[str] = []
        kinds: list[str] = []
        start = 0
        for raw_line in data.split(b"\n"):
            lines.append(raw_line.decode("utf-8"))
            if any(a < start < b for a, b in frozen):
                kinds.append("frozen")
            elif any(a < start < b for a, b in moving):
                kinds.append("string")
            else:
                kinds.append("code")
            start += len(raw_line) + 1
        return lines, kinds

    def reindented(self, indent: int) -> str:
        """The text stripped, its later lines dedented and moved to `indent`.

        Lines that start inside a ``"..."`` string, or inside an ``''`` string whose
        first line is not empty, stay as they are (moving them would change the
        string).  Lines of other ``''`` strings all move by the same amount, which Nix
        strips again.
        """
        # the first line goes after `name = `: its indentation says nothing
        first = next((i for i, line in enumerate(self.lines) if line.strip()), 0)
        common = min(
            (
                _lead(line)
                for line, kind in zip(self.lines[first + 1 :], self.kinds[first + 1 :], strict=True)
                if kind != "frozen" and line.strip()
            ),
            default=0,
        )
        out: list[str] = []
        for line, kind in zip(self.lines, self.kinds, strict=True):
            if kind == "frozen":
                out.append(line)
                continue
            if kind == "code" and not line.strip():
                out.append("")
                continue
            line = line[min(common, _lead(line)) :]
            out.append(" " * indent + line if line else "")
        return "\n".join(out).strip()


def _lead(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


@functools.lru_cache(maxsize=256)
def _raw_info(text: str) -> _RawInfo:
    return _RawInfo(text)


# ---- the renderer ----------------------------------------------------------------------


# The exact types of nearly every value, answered without the isinstance chains below
# (which still answer for subclasses and the rarer values): a lab's build renders
# millions of them.
_ATOMIC = frozenset(
    {str, dict, list, tuple, bool, type(None), Pkg, Ref, NixPath, SearchPath, Block}
)
_SIMPLE = frozenset({str, int, float, bool, type(None), Pkg, Ref, NixPath, SearchPath})
_NOT_MAPPING = frozenset(
    {str, int, float, bool, type(None), list, tuple, Pkg, Ref, NixPath, SearchPath, Apply, Raw}
)


def _is_atomic(v: NixValue) -> bool:
    """Can `v` be a list element or a function argument without parentheses?"""
    kind = type(v)
    if kind in _ATOMIC:
        return True
    if kind is int:
        return v >= 0 or v == _INT_MIN  # type: ignore[operator]
    while isinstance(v, Comment):
        v = v.value
    if isinstance(v, bool) or v is None:
        return True
    if isinstance(v, int):
        return v >= 0 or v == _INT_MIN  # the minimum is written in parentheses
    if isinstance(v, float):
        return not str(v).startswith("-")
    if isinstance(v, Raw):
        info = _raw_info(v.text)
        return info.atomic or info.ends_with_line_comment
    return isinstance(v, str | Pkg | Ref | NixPath | SearchPath | Block | Sequence | Mapping)


def _is_simple(v: NixValue) -> bool:
    """May `v` be the one element of a one-line list or set?"""
    kind = type(v)
    if kind in _SIMPLE:
        return True
    if kind is dict or kind is list or kind is tuple:
        return not v
    while isinstance(v, Comment):
        v = v.value
    return (
        isinstance(v, str | int | float | Pkg | Ref | NixPath | SearchPath)
        or v is None
        or (isinstance(v, Sequence | Mapping) and not isinstance(v, bytes | bytearray) and not v)
    )


def _is_mapping(v: object) -> bool:
    kind = type(v)
    return kind is dict or (kind not in _NOT_MAPPING and isinstance(v, Mapping))


# Sets that many hosts share (a catalogue entry's block for the same settings): their
# text is made once per indentation. Each is kept with its value, so that its id is
# not another's.
_SHARED: dict[int, tuple[object, dict[int, str]]] = {}
_MOST_SHARED = 4096
_Shared = TypeVar("_Shared", bound=Mapping[str, Any])


def shared(value: _Shared) -> _Shared:
    """`value`, which is never changed from now on, written once for all who render it."""
    if len(_SHARED) >= _MOST_SHARED:
        _SHARED.clear()
    _SHARED[id(value)] = (value, {})
    return value


class _Renderer:
    def expr(self, v: NixValue, indent: int) -> str:
        """`v` as an expression whose first line continues the current line at `indent`."""
        kind = type(v)
        if kind is str:
            return _string(v, indent)  # type: ignore[arg-type]
        if kind is dict:
            return self.attrset(v, indent)  # type: ignore[arg-type]
        if kind is list or kind is tuple:
            return self.listing(v, indent)  # type: ignore[arg-type]
        if kind is bool:
            return "true" if v else "false"
        if kind is int:
            return _int(v)  # type: ignore[arg-type]
        if kind is Block:
            return self.attrset(cast(Block, v).value, indent)
        if kind is Pkg:
            return "pkgs." + cast(Pkg, v).attr
        if kind is Ref:
            return cast(Ref, v).name
        if kind is Apply:  # lib.mkDefault x: a quarter of a service's values
            return self.apply(cast(Apply, v), indent)
        if v is None:
            return "null"
        return self.other(v, indent)

    def apply(self, v: Apply, indent: int) -> str:
        return " ".join([v.fn.name] + [self.arg(a, indent) for a in v.args])

    def other(self, v: NixValue, indent: int) -> str:
        """`expr` of any value, subclasses of the plain types included."""
        if isinstance(v, Comment):
            while isinstance(v, Comment):
                v = v.value
            return self.expr(v, indent)
        if isinstance(v, bool):
            return "true" if v else "false"
        if v is None:
            return "null"
        if isinstance(v, int):
            return _int(v)
        if isinstance(v, float):
            return _float(v)
        if isinstance(v, str):
            return string(v, indent)
        if isinstance(v, Pkg):
            return "pkgs." + v.attr
        if isinstance(v, Ref):
            return v.name
        if isinstance(v, NixPath):
            return v.path
        if isinstance(v, SearchPath):
            return "<" + v.path + ">"
        if isinstance(v, Apply):
            return self.apply(v, indent)
        if isinstance(v, Raw):
            return self.raw(v, indent)
        if isinstance(v, Module):
            return self.module(v, indent)
        if isinstance(v, Let):
            return self.let(v, indent)
        if isinstance(v, Block):
            return self.attrset(v.value, indent)
        if isinstance(v, Mapping):
            return self.attrset(v, indent)
        if isinstance(v, Sequence) and not isinstance(v, str | bytes | bytearray):
            return self.listing(v, indent)
        raise NixValueError(f"cannot write a {type(v).__name__} as Nix: {v!r}")

    def arg(self, v: NixValue, indent: int) -> str:
        text = self.expr(v, indent)
        return text if _is_atomic(v) else "(" + text + ")"

    def raw(self, v: Raw, indent: int) -> str:
        info = _raw_info(v.text)
        if info.ends_with_line_comment:
            # (  expr # comment
            # )  so that what follows is not commented out
            inner = info.reindented(indent + _INDENT)
            return "(\n" + " " * (indent + _INDENT) + inner + "\n" + " " * indent + ")"
        return info.reindented(indent)

    def module(self, v: Module, indent: int) -> str:
        body = self.expr(v.body, indent)
        if not v.args:
            return body
        return "{ " + ", ".join([*v.args, "..."]) + " }:\n" + " " * indent + body

    def let(self, v: Let, indent: int) -> str:
        pad = " " * indent
        if not v.bindings:
            return "let\n" + pad + "in\n" + pad + self.expr(v.body, indent)
        lines = "\n".join(self.bindings(v.bindings, indent + _INDENT))
        return "let\n" + lines + "\n" + pad + "in\n" + pad + self.expr(v.body, indent)

    def listing(self, items: Sequence[NixValue], indent: int) -> str:
        if not items:
            return "[ ]"
        if len(items) == 1 and _is_simple(items[0]):
            one = self.arg(items[0], indent)
            if "\n" not in one and len(one) <= _SHORT:
                return "[ " + one + " ]"
        inner = " " * (indent + _INDENT)
        lines = []
        for item in items:
            # a comment above a list element, e.g. naming the service a block came from
            while isinstance(item, Comment):
                lines.append(inner + _comment_text(item.text))
                item = item.value
            lines.append(inner + self.arg(item, indent + _INDENT))
        return "[\n" + "\n".join(lines) + "\n" + " " * indent + "]"

    def attrset(self, d: Mapping[str, NixValue], indent: int) -> str:
        # never on one line: a second attribute would rewrite the first one's line
        if not d:
            return "{ }"
        known = _SHARED.get(id(d))
        if known is not None and known[0] is d:
            text = known[1].get(indent)
            if text is None:
                lines = self.bindings(d, indent + _INDENT)
                text = known[1][indent] = "{\n" + "\n".join(lines) + "\n" + " " * indent + "}"
            return text
        lines = self.bindings(d, indent + _INDENT)
        return "{\n" + "\n".join(lines) + "\n" + " " * indent + "}"

    def bindings(self, d: Mapping[str, NixValue], indent: int) -> list[str]:
        out: list[str] = []
        pad = " " * indent
        for key in self.sorted_keys(d):
            self.binding(attr_name(key), d[key], indent, pad, out)
        return out

    def binding(self, name: str, value: NixValue, indent: int, pad: str, out: list[str]) -> None:
        """`a.b.c = value;` lines onto `out` (`name` is `a.b` written): a plain set is
        written as the dotted paths of its attributes, so that one more attribute beside
        them is only lines more; a `Block` or a set with a comment above it is written as
        a block."""
        kind = type(value)
        if kind is str:
            out.append(pad + name + " = " + _string(value, indent) + ";")  # type: ignore[arg-type]
            return
        if kind is dict and value:
            plain = cast(dict[str, NixValue], value)
            for sub in self.sorted_keys(plain):
                self.binding(name + "." + attr_name(sub), plain[sub], indent, pad, out)
            return
        if isinstance(value, Comment):
            comments: list[str] = []
            while isinstance(value, Comment):
                comments.append(_comment_text(value.text))
                value = value.value
            head = "".join(pad + c + "\n" for c in comments)
            out.append(head + pad + name + " = " + self.expr(value, indent) + ";")
            return
        if _is_mapping(value) and value:
            attrs = cast(Mapping[str, NixValue], value)
            for sub in self.sorted_keys(attrs):
                self.binding(name + "." + attr_name(sub), attrs[sub], indent, pad, out)
            return
        out.append(pad + name + " = " + self.expr(value, indent) + ";")

    @staticmethod
    def sorted_keys(d: Mapping[str, NixValue]) -> list[str]:
        for key in d:
            if not isinstance(key, str):
                raise NixValueError(f"attribute names are strings, not {key!r}")
        return sorted(d)


def render(value: NixValue) -> str:
    """`value` as Nix source (no trailing newline); deterministic, byte for byte.

    Attribute sets are sorted by key and written as dotted paths down to their values
    (``boot.loader.systemd-boot.enable = true;``), except a `Block` or a set under a
    `Comment`, which get ``{ ... }`` of their own: the layout of one binding never depends
    on its siblings, so adding or removing one only adds or removes lines.  Raises
    `NixValueError` for what Nix cannot hold.
    """
    return _Renderer().expr(value, 0)


def comments(lines: Sequence[str]) -> str:
    """Lines as ``#`` comments (newlines and control characters made spaces)."""
    # not remembered: a file's header lines (its hash) are its own
    return "".join(
        (_comment_str(line) if type(line) is str else _comment_text(line)) + "\n" for line in lines
    )


def render_file(module: NixValue, header: Sequence[str]) -> str:
    """A whole ``.nix`` file: `header` lines as ``#`` comments, the value, one newline."""
    if isinstance(header, str):
        raise TypeError("header is a list of lines, not a string")
    lines = [_comment_text(line) for line in header]
    return "".join(line + "\n" for line in lines) + render(module) + "\n"
