"""Search an option set by words, ranked as people expect from search.nixos.org: the exact
path first, then paths that start with the words, then paths whose parts hold every word,
then options whose description has words that start with them ("git" finds "GitHub", not
"digit"). A word of four letters or more that no path
holds also matches a path part one typo away (a letter missing, added, changed or two
swapped).

Pure. What a search needs from an option set (lowercased paths, parts, descriptions) is
made once per set and kept, so a query is one pass of substring tests: a few
milliseconds over home-manager's thousands of options (bench/options.py).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from homelab.gcpause import paused
from homelab.optionindex.model import Option, OptionSet

# tiers, best first
EXACT = 0  # the words are the option's path
PREFIX = 1  # the path starts with them
PATH = 2  # every word is in the path's parts
DESCRIPTION = 3  # some word only in the description

# how well a word matches one part of a path, best first
_EQUAL, _START, _INSIDE, _TYPO = 0, 1, 2, 3
_TYPO_MIN = 4  # shorter words match too much one typo away


@dataclass(frozen=True)
class Hit:
    option: Option
    tier: int  # EXACT, PREFIX, PATH or DESCRIPTION
    key: tuple[object, ...]  # the whole order (tier first)


@dataclass(slots=True)  # not frozen: made thousands at a time, and never changed
class _Entry:
    option: Option
    name: str  # the path, lowercased, dotted
    parts: tuple[str, ...]
    description: str  # its words lowercased, each after one space: " whether to enable git"
    live: int  # 0 for an option one can set, 1 for a renamed or removed one
    enable: int  # 0 for an `enable` switch: the way into a module comes first


class _Prepared:
    """An option set made ready for searching: made once, read by every query."""

    def __init__(self, options: OptionSet) -> None:
        self.entries = [
            _Entry(
                o,
                ".".join(o.path).lower(),
                tuple(map(str.lower, o.path)),
                _spaced(o.description),
                int(o.renamed_to is not None or o.removed is not None),
                int(not o.path or o.path[-1] != "enable"),
            )
            for o in options
        ]
        self.all_names = "\n".join(e.name for e in self.entries)
        self.parts: dict[int, set[str]] = {}  # the parts of the paths by their length
        for part in {p for e in self.entries for p in e.parts}:
            self.parts.setdefault(len(part), set()).add(part)
        self._by_length: dict[int, dict[str, set[str]]] = {}

    def near(self, word: str) -> set[str]:
        """The path parts one typo from word (deletion neighbourhoods: two words are one
        edit apart when deleting at most one letter from each makes them equal)."""
        found: set[str] = set()
        for length in (len(word) - 1, len(word), len(word) + 1):
            table = self._deletions(length)
            for variant in _deleted(word):
                found |= table.get(variant, set())
        found.discard(word)
        return found

    def _deletions(self, length: int) -> dict[str, set[str]]:
        """The parts of one length by each of their one-letter deletions, made when first
        asked (a word's typos are among parts one letter shorter, as long, or longer)."""
        table = self._by_length.get(length)
        if table is None:
            table = {}
            for part in self.parts.get(length, ()):
                for variant in _deleted(part):
                    table.setdefault(variant, set()).add(part)
            self._by_length[length] = table
        return table


# what is no part of a word becomes a space (ASCII: descriptions are English and Markdown)
_NOT_WORD = str.maketrans({c: " " for c in map(chr, range(128)) if not c.isalnum()})


def _spaced(text: str) -> str:
    """A text as words that each follow a space: a word's start is a space and it."""
    return " " + text.lower().translate(_NOT_WORD)


_spaced_word = functools.lru_cache(maxsize=256)(_spaced)  # a query's words, again and again


def _deleted(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


# the sets searched lately, by identity (an OptionSet is not hashable: it holds a dict);
# the set itself is kept with its preparation so that its id cannot be reused meanwhile
_prepared: dict[int, tuple[OptionSet, _Prepared]] = {}


def _prepare(options: OptionSet) -> _Prepared:
    kept = _prepared.get(id(options))
    if kept is not None and kept[0] is options:
        return kept[1]
    if len(_prepared) >= 4:
        _prepared.clear()
    with paused():  # many small objects, none in a cycle: a pass frees nothing
        ready = _Prepared(options)
    _prepared[id(options)] = (options, ready)
    return ready


def words_of(text: str | Sequence[str]) -> list[str]:
    """The words of a query, lowercased ("services.openssh port" -> two words)."""
    if not isinstance(text, str):
        text = " ".join(text)
    return [w for w in text.lower().split() if w]


def search(options: OptionSet, words: str | Sequence[str], limit: int | None = 50) -> list[Hit]:
    """The options that match every word, best first (at most limit)."""
    query = words_of(words)
    if not query:
        return []
    with paused():  # many small objects, none in a cycle: a pass frees nothing
        hits = _search(_prepare(options), query, limit)
        if not hits and any("." in w for w in query):
            # no path holds it as written: its names as words, each forgiven a typo
            hits = _search(_prepare(options), words_of(" ".join(query).replace(".", " ")), limit)
    # a path with names put in (users.users.alice.shell) is the option it sets
    raw = words.split() if isinstance(words, str) else list(words)
    if len(raw) == 1 and "." in raw[0] and (not hits or hits[0].tier != EXACT):
        found = options.find(raw[0].split("."))
        if found is not None and not found.rest:
            rest = [h for h in hits if h.option is not found.option]
            hits = [Hit(found.option, EXACT, (EXACT,)), *rest][:limit]
    return hits


def _search(ready: _Prepared, query: list[str], limit: int | None) -> list[Hit]:
    whole = ".".join(query)
    # a word no path holds may be misspelt (one that some path holds is taken as meant)
    typos = {
        w: ready.near(w)
        for w in query
        if len(w) >= _TYPO_MIN and "." not in w and w not in ready.all_names
    }
    hits: list[Hit] = []
    for e in ready.entries:
        key = _rank(e, query, whole, typos)
        if key is not None:
            hits.append(Hit(e.option, key[0], key))  # type: ignore[arg-type]
    hits.sort(key=lambda h: h.key)
    return hits if limit is None else hits[:limit]


def _rank(
    e: _Entry, query: list[str], whole: str, typos: dict[str, set[str]]
) -> tuple[object, ...] | None:
    depth = len(e.parts)
    if e.name == whole:
        return (EXACT, e.live, 0, depth, e.enable, e.name)
    if e.name.startswith(whole):
        whole_part = int(e.name[len(whole)] != ".")  # programs.git: programs.git.* first
        if len(query) == 1 or not whole_part:
            return (PREFIX, e.live, whole_part, depth, e.enable, e.name)
    worst = _EQUAL
    total = 0
    first = depth  # the first part a word matches: programs.git.* before programs.eza.git
    in_description = False
    for word in query:
        graded = _part_grade(e, word, typos.get(word))
        if graded is None:
            if _spaced_word(word) not in e.description:
                return None
            in_description = True
            continue
        grade, at = graded
        worst = max(worst, grade)
        total += grade
        first = min(first, at)
    if in_description:
        return (DESCRIPTION, e.live, total, first, depth, e.enable, e.name)
    return (PATH, e.live, worst * 8 + total, first, depth, e.enable, e.name)


def _part_grade(e: _Entry, word: str, near: set[str] | None) -> tuple[int, int] | None:
    """How well word matches the path (a part equal to it, starting with it, holding it,
    or one typo from it) and at which part; None when not at all."""
    if word in e.name:
        if "." in word:  # a dotted word is a piece of path: it holds parts whole or in part
            return _INSIDE, e.name.count(".", 0, e.name.find(word))
        best = (_INSIDE + 1, 0)
        for at, part in enumerate(e.parts):
            if part == word:
                return _EQUAL, at
            if part.startswith(word):
                best = min(best, (_START, at))
            elif word in part:
                best = min(best, (_INSIDE, at))
        return best if best[0] <= _INSIDE else (_INSIDE, 0)
    if near:
        for at, part in enumerate(e.parts):
            if part in near:
                return _TYPO, at
    return None
