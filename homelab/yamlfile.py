"""YAML text -> plain data, with the place of every key and value, within limits.

PyYAML's C composer builds the node tree (fast, with marks); we turn nodes into data
ourselves so that duplicate keys are refused (YAML allows them silently) and every value
keeps its file, line and column for error messages.

Every YAML text homelab reads goes through here (profiles, fragments, catalogue entries,
the editor's round trips), because YAML can be made to explode: a file is refused over
MAX_BYTES before it is parsed, and its node tree is measured before it becomes data, so
that aliases repeating an anchor that repeats an anchor (an "alias bomb": a few hundred
bytes that stand for billions of values) or nesting deeper than any profile needs are
refused at the anchor's or value's line instead of eating time and memory.

Over 500 lines: the limits, the walk of the node tree and the scalar constructors are one
pass over every YAML text homelab reads, the hot path of every load.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

from homelab.errors import Place, Problem, format_path
from homelab.gcpause import paused
from homelab.source import too_large

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
        # called for every scalar: a scalar's tag depends on its text alone, and a quoted
        # or block one is text (SafeLoader has no path resolvers)
        if kind is _SCALAR_NODE and not self.yaml_path_resolvers:
            if not implicit[0]:
                return _STR
            tag = _TAGS.get(value)
            if tag is None:
                tag = _resolve(self, kind, value, implicit)
                if len(value) <= 64 and len(_TAGS) < 20_000:
                    _TAGS[value] = tag
            return tag
        return _resolve(self, kind, value, implicit)


_SCALAR_NODE = yaml.ScalarNode

Path_ = tuple[str | int, ...]

MAX_BYTES = 1 << 20  # a big profile is a few KiB; the catalogue's largest entry is 3 KiB
MAX_DEPTH = 64  # profiles nest 6 deep; service settings a few more
MAX_ALIASED = 10_000  # values that aliases may repeat in one file, all aliases together

_constructor = yaml.constructor.SafeConstructor()
_YAML_TAG = "tag:yaml.org,2002:"
_STR = _YAML_TAG + "str"
_TIMESTAMP = _YAML_TAG + "timestamp"
_SCALAR_TAGS = {_YAML_TAG + t for t in ("null", "bool", "int", "float")}

#: Local tags a profile may put before a value under `options:` (see profile/options.py).
#: A tagged value becomes the one-key map {tag: value}; a key written as one of these
#: names is refused, so such a map can only come from a tag.
TAGS = ("!pkg", "!nix", "!force", "!default")
#: Where tags are read: a predicate on the path of the value (None: nowhere).
TagsAllowed = Callable[[tuple[str | int, ...]], bool]


@dataclass
class Marks:
    """Where each value (and each mapping key) of a document stands."""

    values: dict[Path_, Place] = field(default_factory=dict)
    keys: dict[Path_, Place] = field(default_factory=dict)
    # block scalars (| or >): path -> (line of the first content line, indentation)
    blocks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    # scalars written without quotes, so a hint can say "put it in quotes"
    plain: set[Path_] = field(default_factory=set)
    # False when no text or key can hold a NUL (the text has no backslash to escape one
    # with), or no number is beyond what Nix holds: validation then skips looking
    nul_possible: bool = field(default=True, compare=False)
    wide_possible: bool = field(default=True, compare=False)

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


def copied(value: Any) -> Any:
    """A copy of plain data: new maps and lists, the same scalars (and other values)."""
    if isinstance(value, dict):
        return {k: copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copied(v) for v in value]
    return value


def _place(file: str, mark: Any) -> Place:
    return Place(file, mark.line + 1, mark.column + 1)


def _place_of_offset(file: str, text: str, offset: int) -> Place:
    before = text[:offset]
    return Place(file, before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1)


def _reader_problem(file: str, text: str, err: yaml.reader.ReaderError) -> Problem:
    # the reader gives an offset (in bytes, from the C parser): a person needs the line
    char = chr(err.character) if isinstance(err.character, int) else str(err.character)
    offset = text.find(char)
    place = _place_of_offset(file, text, offset) if offset >= 0 else Place(file)
    if char == "\x00":
        return Problem(
            place,
            "the text has a NUL byte here",
            hint="remove it (a NUL after every letter: the file was saved as UTF-16, save "
            "it as UTF-8)",
        )
    return Problem(
        place,
        f"the text has the control character U+{ord(char):04X} here, which YAML does not allow",
        hint="remove it (it is invisible in most editors: retype the line)",
    )


def _problem_from_yaml_error(file: str, text: str, err: yaml.YAMLError) -> Problem:
    if isinstance(err, yaml.reader.ReaderError):
        return _reader_problem(file, text, err)
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
    if "maximum nesting depth" in what and mark is not None:
        return _too_deep(_place(file, mark))  # the parser's own limit (1000): ours is lower
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


_INT_RANGE = (-(2**63), 2**63 - 1)  # Nix's integers
_INFINITE = (float("inf"), float("-inf"))
# a boolean, number or null by its tag and text: the same few come back all the time
_SCALARS: dict[tuple[str, str], Any] = {}
_UNKNOWN: Any = object()
_SET_FILE = Place.__dict__["file"].__set__
_SET_LINE = Place.__dict__["line"].__set__
_SET_COLUMN = Place.__dict__["column"].__set__


def _new_place(file: str, line: int, column: int) -> Place:
    """Place(file, line, column), made without the frozen dataclass's __init__ (which
    sets each field through object.__setattr__): a lab's load makes one per value."""
    place = object.__new__(Place)
    _SET_FILE(place, file)
    _SET_LINE(place, line)
    _SET_COLUMN(place, column)
    return place


class _Builder:
    def __init__(self, file: str, text: str, tags: TagsAllowed | None = None) -> None:
        self.file = file
        self.tags = tags
        self.lines = text.splitlines()
        # a NUL comes only from an escape (the reader refuses the character itself)
        self.marks = Marks(nul_possible="\\" in text, wide_possible=False)
        self.values = self.marks.values
        self.problems: list[Problem] = []
        self.too_deep = False

    def build(self, node: yaml.Node, path: Path_) -> Any:
        if len(path) >= MAX_DEPTH:
            if not self.too_deep:
                self.too_deep = True
                self.problems.append(_too_deep(_place(self.file, node.start_mark)))
            return None
        mark = node.start_mark
        self.values[path] = _new_place(self.file, mark.line + 1, mark.column + 1)
        tag = node.tag
        if isinstance(node, yaml.ScalarNode):  # most nodes: the cheapest way first
            if tag == _STR:
                style = node.style
                if not style:  # plain: None, or "" from the C parser
                    self.marks.plain.add(path)
                elif style in ("|", ">"):
                    first = mark.line + 1
                    line = self.lines[first] if first < len(self.lines) else ""
                    self.marks.blocks[path] = (first + 1, len(line) - len(line.lstrip(" ")))
                return node.value
            if tag in TAGS:
                return self._tagged(node, path)
            return self._scalar(node, path)
        if tag in TAGS:
            return self._tagged(node, path)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        assert isinstance(node, yaml.SequenceNode)
        return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]

    def _scalar(self, node: yaml.ScalarNode, path: Path_) -> Any:
        """A scalar that is not text: a boolean, a number, null (or a tag refused)."""
        if not node.style:
            self.marks.plain.add(path)
        tag = node.tag
        if tag == _TIMESTAMP:
            # YAML 1.1 reads 2024-01-01 as a date; a profile has no dates, only text
            return node.value
        if tag not in _SCALAR_TAGS:
            shown = tag.replace(_YAML_TAG, "!!")
            self.problems.append(
                Problem(
                    _place(self.file, node.start_mark),
                    f"cannot read this value: the tag {shown} is not used in profiles",
                    hint="remove the tag, or put the value in quotes to keep it as text",
                )
            )
            return None
        key = (tag, node.value)
        value = _SCALARS.get(key, _UNKNOWN)
        if value is _UNKNOWN:
            try:
                # its constructor alone: construct_object would keep every node it saw
                value = _constructor.yaml_constructors[tag](_constructor, node)
            except (yaml.YAMLError, ValueError) as err:  # e.g. !!int abc
                what = getattr(err, "problem", None) or str(err)
                self.problems.append(
                    Problem(_place(self.file, node.start_mark), f"cannot read this value: {what}")
                )
                return None
            if len(node.value) <= 64 and len(_SCALARS) < 20_000:
                _SCALARS[key] = value
        if type(value) is int:
            if not _INT_RANGE[0] <= value <= _INT_RANGE[1]:
                self.marks.wide_possible = True
        elif type(value) is float and (value != value or value in _INFINITE):
            self.marks.wide_possible = True
        return value

    def _tagged(self, node: yaml.Node, path: Path_) -> Any:
        tag = node.tag
        if self.tags is None or not self.tags(path):
            self.problems.append(
                Problem(
                    _place(self.file, node.start_mark),
                    f"the tag {tag} is not read here",
                    path=format_path(path),
                    hint=f"tags ({', '.join(TAGS)}) mark values under options: only; "
                    "remove the tag",
                )
            )
            return self.build(_retagged(node), path)  # one problem, not one more per check
        if tag in ("!pkg", "!nix") and not isinstance(node, yaml.ScalarNode):
            kind = "list" if isinstance(node, yaml.SequenceNode) else "map"
            example = "htop" if tag == "!pkg" else "pkgs.linuxPackages_latest"
            hint = f"e.g. {tag} {example}"
            items = node.value if isinstance(node, yaml.SequenceNode) else []
            names = [i.value for i in items[:3] if isinstance(i, yaml.ScalarNode)]
            if tag == "!pkg" and names and len(names) == len(items[:3]):
                # a list of packages: one tag each, as written
                more = ", …" if len(items) > 3 else ""
                hint = "one tag per package: [" + ", ".join(f"!pkg {n}" for n in names) + more + "]"
            self.problems.append(
                Problem(
                    _place(self.file, node.start_mark),
                    f"{tag} takes text, not a {kind}",
                    path=format_path(path),
                    hint=hint,
                )
            )
            return None
        # build the inner value as if untagged (a tagged scalar is always text for !pkg/!nix)
        inner_path = (*path, tag)
        if isinstance(node, yaml.ScalarNode) and tag in ("!pkg", "!nix"):
            self.marks.values[inner_path] = _place(self.file, node.start_mark)
            if node.style in ("|", ">"):
                first = node.start_mark.line + 1
                line = self.lines[first] if first < len(self.lines) else ""
                self.marks.blocks[inner_path] = (first + 1, len(line) - len(line.lstrip(" ")))
            return {tag: node.value}
        untagged = _retagged(node)
        return {tag: self.build(untagged, inner_path)}

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        out: dict[str, Any] = {}
        keys = self.marks.keys
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
            if key in TAGS:
                self.problems.append(
                    Problem(
                        _place(self.file, key_node.start_mark),
                        f"'{key}' cannot be a key: it is the name of a tag",
                        path=format_path(child),
                        hint=f"write the tag before the value without quotes: `name: {key} value`",
                    )
                )
                continue
            if key in out:
                first = self.marks.keys[child]
                self.problems.append(
                    Problem(
                        _place(self.file, key_node.start_mark),
                        f"duplicate key '{key}' (first given on line {first.line})",
                        path=format_path(child),
                        hint="YAML would silently keep only the last one: remove or merge one",
                    )
                )
                continue
            mark = key_node.start_mark
            keys[child] = _new_place(self.file, mark.line + 1, mark.column + 1)
            out[key] = self.build(value_node, child)
        return out


_RESOLVER = yaml.resolver.Resolver()


def _retagged(node: yaml.Node) -> yaml.Node:
    """The node as if written without its tag (a scalar's tag resolved from its text)."""
    if isinstance(node, yaml.ScalarNode):
        tag: str = _RESOLVER.resolve(  # type: ignore[no-untyped-call]
            yaml.ScalarNode, node.value, (True, False)
        )
        if node.style:  # quoted or block: text
            tag = _STR
        return yaml.ScalarNode(tag, node.value, node.start_mark, node.end_mark, node.style)
    if isinstance(node, yaml.SequenceNode):
        return yaml.SequenceNode(
            _YAML_TAG + "seq", node.value, node.start_mark, node.end_mark, node.flow_style
        )
    assert isinstance(node, yaml.MappingNode)
    return yaml.MappingNode(
        _YAML_TAG + "map", node.value, node.start_mark, node.end_mark, node.flow_style
    )


class _Mark(NamedTuple):
    line: int  # 0-based, as PyYAML's marks
    column: int


class LimitError(yaml.YAMLError):
    """A YAML text refused before it becomes data: too big, too deep, or an alias bomb.
    It carries `problem` and `problem_mark` as PyYAML's own errors do, so that code that
    shows those shows this too; `found` is the Problem with its place."""

    def __init__(self, found: Problem) -> None:
        super().__init__(found.message)
        self.found = found
        self.problem = found.message
        line, column = found.place.line, found.place.column
        self.problem_mark = _Mark(line - 1, max(column - 1, 0)) if line else None


def size_problem(file: str, text: str) -> Problem | None:
    """The problem of a text over MAX_BYTES (counted in UTF-8, as on disk)."""
    if len(text) * 4 <= MAX_BYTES:  # the common case, without encoding anything
        return None
    size = len(text.encode("utf-8", "surrogatepass"))
    if size <= MAX_BYTES:
        return None
    reason, hint = too_large(size)
    return Problem(Place(file), reason, hint=hint)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _anchor_name(text: str, mark: Any) -> str:
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    match = re.match(r"&(\S+)", line[mark.column :])
    return f" &{match[1]}" if match else ""


def _measure(file: str, text: str, root: yaml.Node) -> Problem | None:
    """The problem that stops turning this node tree into data, if any: nesting deeper
    than MAX_DEPTH, an alias inside its own anchor (endless), or aliases that repeat more
    than MAX_ALIASED values. Each node is walked once, an alias counted with what its
    anchor measured, so an alias bomb is found in the time of its few hundred nodes."""
    sizes: dict[int, int] = {}  # node -> values it stands for, aliases expanded
    heights: dict[int, int] = {}  # node -> levels of nesting under it
    aliased = 0
    # a walk without recursion (a deep document would overflow Python's stack): one
    # frame per open map or list, with its children still to see, its size and height
    frames: list[tuple[yaml.Node, list[yaml.Node], list[int]]] = [
        (root, _children(root)[::-1], [1, 0])
    ]
    open_nodes = {id(root)}
    while frames:
        node, todo, acc = frames[-1]
        if not todo:
            frames.pop()
            open_nodes.discard(id(node))
            sizes[id(node)], heights[id(node)] = acc
            if frames:
                parent = frames[-1][2]
                parent[0] += acc[0]
                parent[1] = max(parent[1], acc[1] + 1)
            continue
        child = todo.pop()
        key = id(child)
        if key in sizes:  # an alias: its anchor was measured where it was written
            aliased += sizes[key]
            if aliased > MAX_ALIASED:
                return Problem(
                    _place(file, child.start_mark),
                    f"aliases repeat too much: with the aliases of the anchor"
                    f"{_anchor_name(text, child.start_mark)} the file stands for more than "
                    f"{MAX_ALIASED:,} repeated values",
                    hint="write the values out, or share them between hosts with include:",
                )
            if len(frames) + heights[key] > MAX_DEPTH:
                return _too_deep(_place(file, child.start_mark))
            acc[0] += sizes[key]
            acc[1] = max(acc[1], heights[key] + 1)
        elif isinstance(child, yaml.ScalarNode):  # most nodes: no frame of their own
            sizes[key], heights[key] = 1, 0
            acc[0] += 1
        elif key in open_nodes:
            return Problem(
                _place(file, child.start_mark),
                f"the anchor{_anchor_name(text, child.start_mark)} is used by an alias inside "
                "itself: its value would never end",
                hint="an alias can only repeat a value that is complete before it",
            )
        elif len(frames) >= MAX_DEPTH:
            return _too_deep(_place(file, child.start_mark))
        else:
            frames.append((child, _children(child)[::-1], [1, 0]))
            open_nodes.add(key)
    return None


def _too_deep(at: Place) -> Problem:
    return Problem(
        at,
        f"the values are nested more than {MAX_DEPTH} levels deep here",
        hint="a profile needs a few levels: look for brackets that are never closed",
    )


def compose(file: str, text: str) -> yaml.Node | None:
    """The node tree of one YAML document, refused (LimitError) when it is over the
    limits; other YAML errors are raised as they are."""
    problem = size_problem(file, text)
    if problem is not None:
        raise LimitError(problem)
    node = yaml.compose(text, Loader=_Loader)
    if node is not None:
        problem = _measure(file, text, node)
        if problem is not None:
            raise LimitError(problem)
    return node


class _PlainConstructor(yaml.constructor.SafeConstructor):
    """safe_load's constructor, reading TAGS as load_text does: {tag: value}."""


def _construct_tagged(loader: _PlainConstructor, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode) and node.tag in ("!pkg", "!nix"):
        return {node.tag: node.value}
    return {node.tag: loader.construct_object(_retagged(node), deep=True)}


for _tag in TAGS:
    _PlainConstructor.add_constructor(_tag, _construct_tagged)  # type: ignore[type-var]


def load_plain(text: str, file: str = "<text>") -> Any:
    """What yaml.safe_load gives, within the same limits as load_text (for code that needs
    plain YAML semantics, such as the round-trip edits); raises yaml.YAMLError. Tags of
    TAGS are read wherever they are (the validation of the result says where they belong)."""
    node = compose(file, text)
    if node is None:
        return None
    return _PlainConstructor().construct_document(node)


def load_text(
    file: str, text: str, tags: TagsAllowed | None = None
) -> tuple[Document | None, list[Problem]]:
    """Parse one YAML document; on a syntax error, or a text over the limits, return no
    document and the problem. Tags of TAGS are read where `tags(path)` says so."""
    # The node tree and the marks are many small objects that all stay alive: the
    # garbage collector would walk them again and again for nothing (no cycles are made
    # here), which doubled the time of loading a lab. It is paused, and put back as found.
    with paused():
        problem = size_problem(file, text)
        if problem is not None:
            return None, [problem]
        try:
            node = yaml.compose(text, Loader=_Loader)
        except yaml.YAMLError as err:
            return None, [_problem_from_yaml_error(file, text, err)]
        # without an anchor there is no alias (the parser refuses an undefined one), and
        # the builder watches the depth itself: most files skip the measuring walk
        if node is not None and "&" in text and (problem := _measure(file, text, node)):
            return None, [problem]
        builder = _Builder(file, text, tags)
        if node is None:  # nothing but comments: an empty map, placed at the top
            builder.marks.values[()] = Place(file, 1, 1)
            return Document(file, {}, builder.marks), []
        data = builder.build(node, ())
        return Document(file, data, builder.marks), builder.problems
