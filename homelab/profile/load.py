"""YAML text -> plain data, with the place of every key and value.

PyYAML's C composer builds the node tree (fast, with marks); we turn nodes into data
ourselves so that duplicate keys are refused (YAML allows them silently) and every value
keeps its file, line and column for error messages.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from homelab.errors import Place, Problem

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

# plain scalar -> its tag (str, int, bool, ...): the same words, keys above all, come back
# thousands of times in a lab, and PyYAML resolves each one with regular expressions
_TAGS: dict[str, str] = {}


_resolve: Callable[..., str] = _BaseLoader.resolve


class _Loader(_BaseLoader):
    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        # a plain scalar's tag depends on its text alone (SafeLoader has no path resolvers)
        if kind is not yaml.ScalarNode or not implicit[0] or self.yaml_path_resolvers:
            return _resolve(self, kind, value, implicit)
        tag = _TAGS.get(value)
        if tag is None:
            tag = _resolve(self, kind, value, implicit)
            if len(value) <= 64 and len(_TAGS) < 20_000:
                _TAGS[value] = tag
        return tag


Path_ = tuple[str | int, ...]

_constructor = yaml.constructor.SafeConstructor()
_YAML_TAG = "tag:yaml.org,2002:"
_STR = _YAML_TAG + "str"
_TIMESTAMP = _YAML_TAG + "timestamp"
_SCALAR_TAGS = {_YAML_TAG + t for t in ("null", "bool", "int", "float")}


@dataclass
class Marks:
    """Where each value (and each mapping key) of a document stands."""

    values: dict[Path_, Place] = field(default_factory=dict)
    keys: dict[Path_, Place] = field(default_factory=dict)
    # block scalars (| or >): path -> (line of the first content line, indentation)
    blocks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    # scalars written without quotes, so a hint can say "put it in quotes"
    plain: set[Path_] = field(default_factory=set)

    def value(self, path: Path_, fallback: Place) -> Place:
        """The place of the value at path, or of its nearest ancestor."""
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path, fallback)

    def key(self, path: Path_, fallback: Place) -> Place:
        return self.keys.get(path) or self.value(path, fallback)


@dataclass
class Document:
    file: str  # as shown to the person, relative to the lab
    data: Any
    marks: Marks


def _place(file: str, mark: Any) -> Place:
    return Place(file, mark.line + 1, mark.column + 1)


def _problem_from_yaml_error(file: str, text: str, err: yaml.YAMLError) -> Problem:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    what = getattr(err, "problem", None) or str(err)
    context = getattr(err, "context", None)
    message = f"YAML syntax: {what}" + (f" ({context})" if context else "")
    hint = "check the indentation and the ':' after each key"
    quoted = context in ("while scanning a quoted scalar", "while parsing a quoted scalar")
    opened = getattr(err, "context_mark", None)
    if quoted and opened is not None and "unexpected" in what:
        # the scanner stops where the file (or document) ends; the mistake is where the
        # quote opened
        mark = opened
        message = "YAML syntax: this quoted text is never closed"
        hint = "add the closing quote, or escape a quote inside with \\\" (or '' in '...')"
    elif quoted and "escape" in what:
        hint = "inside \"...\" a backslash starts an escape: use '...' or write \\\\"
    if context == "expected a single document in the stream":
        message = "YAML syntax: a second document starts here"
        hint = "a profile is one YAML document: remove this '---' line"
    place = _place(file, mark) if mark is not None else Place(file)
    if mark is not None:
        lines = text.splitlines()
        line = lines[mark.line] if mark.line < len(lines) else ""
        if "\t" in line[: mark.column + 1] or "'\\t'" in what:
            message = "YAML syntax: a tab is used for indentation"
            hint = "YAML indents with spaces only: replace the tab with spaces"
    if "found character '@'" in what or "found character '`'" in what:
        hint = "a value starting with @ or ` must be put in quotes"
    if "mapping values are not allowed" in what:
        hint = "a value containing ': ' must be put in quotes, or a key is missing its indentation"
    return Problem(place, message, hint=hint)


class _Builder:
    def __init__(self, file: str, text: str) -> None:
        self.file = file
        self.lines = text.splitlines()
        self.marks = Marks()
        self.problems: list[Problem] = []

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.marks.values[path] = _place(self.file, node.start_mark)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        if node.tag == _STR:
            if node.style in ("|", ">"):
                first = node.start_mark.line + 1
                line = self.lines[first] if first < len(self.lines) else ""
                self.marks.blocks[path] = (first + 1, len(line) - len(line.lstrip(" ")))
            elif not node.style:  # plain: None, or "" from the C parser
                self.marks.plain.add(path)
            return node.value
        if not node.style:
            self.marks.plain.add(path)
        if node.tag == _TIMESTAMP:
            # YAML 1.1 reads 2024-01-01 as a date; a profile has no dates, only text
            return node.value
        if node.tag not in _SCALAR_TAGS:
            shown = node.tag.replace(_YAML_TAG, "!!")
            self.problems.append(
                Problem(
                    _place(self.file, node.start_mark),
                    f"cannot read this value: the tag {shown} is not used in profiles",
                    hint="remove the tag, or put the value in quotes to keep it as text",
                )
            )
            return None
        try:
            return _constructor.construct_object(node)
        except (yaml.YAMLError, ValueError) as err:  # e.g. !!int abc
            what = getattr(err, "problem", None) or str(err)
            self.problems.append(
                Problem(_place(self.file, node.start_mark), f"cannot read this value: {what}")
            )
            return None

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.problems.append(
                    Problem(
                        _place(self.file, key_node.start_mark),
                        "YAML merge keys (<<) are not supported",
                        hint="use `include:` to share settings between hosts",
                    )
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(
                    Problem(_place(self.file, key_node.start_mark), "a key must be plain text")
                )
                continue
            key = key_node.value  # keys are names: 80 and "80" are the same name
            child = (*path, key)
            if key in out:
                first = self.marks.keys[child]
                self.problems.append(
                    Problem(
                        _place(self.file, key_node.start_mark),
                        f"duplicate key '{key}' (first given on line {first.line})",
                        path=_fmt(child),
                        hint="YAML would silently keep only the last one: remove or merge one",
                    )
                )
                continue
            self.marks.keys[child] = _place(self.file, key_node.start_mark)
            out[key] = self.build(value_node, child)
        return out


def _fmt(path: Path_) -> str:
    from homelab.errors import format_path

    return format_path(path)


def load_text(file: str, text: str) -> tuple[Document | None, list[Problem]]:
    """Parse one YAML document; on a syntax error return no document and the problem."""
    # The node tree and the marks are many small objects that all stay alive: the
    # garbage collector would walk them again and again for nothing (no cycles are made
    # here), which doubled the time of loading a lab. It is paused, and put back as found.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        try:
            node = yaml.compose(text, Loader=_Loader)
        except yaml.YAMLError as err:
            return None, [_problem_from_yaml_error(file, text, err)]
        builder = _Builder(file, text)
        data = {} if node is None else builder.build(node, ())
        return Document(file, data, builder.marks), builder.problems
    finally:
        if was_enabled:
            gc.enable()
