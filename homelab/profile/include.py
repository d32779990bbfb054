"""`include:` fragments and the deep merge that puts a profile on top of them.

The merge rules (documented in the README and tested):

- maps merge key by key;
- lists concatenate, the included items first, without repeating an item already there
  (in modules: lists, a file entry is the file it names, relative to the file that wrote it);
- on anything else (a scalar, or two values of different kinds) the including file wins;
- includes apply in the order given, each later one on top of the earlier ones, and the
  profile itself on top of all of them. Fragments may include fragments; a cycle is an error.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any

from homelab.errors import Place, Problem
from homelab.profile import modules, options
from homelab.profile.marktree import Marked, kids_of, tree_of
from homelab.yamlfile import Document, Marks, Path_, copied

# Reads a lab-relative file; returns the document or the problems that stop it.
Fetch = Callable[[str], tuple[Document | None, list[Problem]]]


def _take(
    value: Any, tree: Marked | None, out: Marks, at: Path_ | None = None, *, share: bool = False
) -> Any:
    """`value` with its marks put in `out` (at `at` when it moved): copied, or itself when
    `share` (the including file's own values: its document is read for this merge only;
    a fragment's are every host's, and each host's merged profile has its own copy)."""
    if tree is not None:
        if at is None:
            tree.copy_to(out)
        else:
            tree.move_to(out, at)
    return value if share else copied(value)


def _node(src: Marks, p: Path_, out: Marks) -> None:
    """The marks of the value at p itself (not of what is under it)."""
    place = src.values.get(p)
    if place is not None:
        out.values[p] = place
    place = src.keys.get(p)
    if place is not None:
        out.keys[p] = place
    if src.blocks:
        block = src.blocks.get(p)
        if block is not None:
            out.blocks[p] = block
    if p in src.plain:
        out.plain.add(p)


def _merge(
    lo: Any, lo_m: Marks, lo_t: Marked | None, hi: Any, hi_m: Marks, hi_t: Marked | None,
    out: Marks, p: Path_,
) -> Any:  # fmt: skip
    # the value at p in both files (`lo` under `hi`), with the trees of their marks
    if isinstance(lo, dict) and isinstance(hi, dict):
        # keep the place of the including file's own map when it has one
        _node(hi_m if p in hi_m.values else lo_m, p, out)
        lo_k, hi_k = kids_of(lo_t), kids_of(hi_t)
        merged: dict[str, Any] = {}
        for key in [*lo, *(k for k in hi if k not in lo)]:
            if key in lo and key in hi:
                merged[key] = _merge(
                    lo[key], lo_m, lo_k.get(key), hi[key], hi_m, hi_k.get(key), out, (*p, key)
                )
            elif key in lo:
                merged[key] = _take(lo[key], lo_k.get(key), out)
            else:
                merged[key] = _take(hi[key], hi_k.get(key), out, share=True)
        return merged
    if isinstance(lo, list) and isinstance(hi, list):
        _node(hi_m, p, out)
        lo_k, hi_k = kids_of(lo_t), kids_of(hi_t)
        items = [_take(v, lo_k.get(i), out) for i, v in enumerate(lo)]
        if modules.is_list_path(p):  # `./x.nix` of two files may be two modules
            seen = {_module(v, lo_m, (*p, i)) for i, v in enumerate(lo)}
            for i, v in enumerate(hi):
                if (key := _module(v, hi_m, (*p, i))) not in seen:
                    seen.add(key)
                    items.append(_take(v, hi_k.get(i), out, _moved(p, i, len(items)), share=True))
            return items
        for i, v in enumerate(hi):
            if v not in items:
                items.append(_take(v, hi_k.get(i), out, _moved(p, i, len(items)), share=True))
        return items
    return _take(hi, hi_t, out, share=True)


def _moved(p: Path_, old: int, new: int) -> Path_ | None:
    """Where a list item of the including file lands, None when at the same index."""
    return None if old == new else (*p, new)


def _module(entry: Any, marks: Marks, path: Path_) -> Any:
    """A modules: entry as what it names: a file entry by the lab file it resolves to."""
    if isinstance(entry, str) and modules.is_file_entry(entry):
        place = marks.values.get(path)
        if place is not None:
            return ("file", modules.lab_path(entry, place.file) or entry)
    return entry


def merge(low: Document, high: Document) -> Document:
    """`high` on top of `low`, following the rules above."""
    return _merged(low, _tree(low), high, tree_of(high))


def _merged(low: Document, lo: Marked, high: Document, hi: Marked) -> Document:
    marks = Marks(
        nul_possible=low.marks.nul_possible or high.marks.nul_possible,
        wide_possible=low.marks.wide_possible or high.marks.wide_possible,
    )
    data = _merge(low.data, low.marks, lo, high.data, high.marks, hi, marks, ())
    return Document(high.file, data, marks)


# The lower side of a merge is a fragment, or fragments merged, that every host including
# them shares (one load reads each file once): its marks are split once, and fragments
# merged once, for as long as those documents are alive (they are kept here).
_TREES: dict[int, tuple[Document, Marked]] = {}
_MERGED: dict[tuple[int, int], tuple[Document, Document, Document]] = {}
_MOST = 256


def _tree(doc: Document) -> Marked:
    known = _TREES.get(id(doc))
    if known is not None and known[0] is doc:
        return known[1]
    if len(_TREES) >= _MOST:
        _TREES.clear()
    tree = tree_of(doc)
    _TREES[id(doc)] = (doc, tree)
    return tree


def _merge_fragments(low: Document, high: Document) -> Document:
    """merge(low, high) of two fragments, made once for the hosts that include both."""
    known = _MERGED.get((id(low), id(high)))
    if known is not None and known[0] is low and known[1] is high:
        return known[2]
    if len(_MERGED) >= _MOST:
        _MERGED.clear()
    merged = merge(low, high)
    _MERGED[(id(low), id(high))] = (low, high, merged)
    return merged


def _clean(doc: Document) -> Document:
    """The document with the marks of its values only (none of values dropped since)."""
    marks = Marks(nul_possible=doc.marks.nul_possible, wide_possible=doc.marks.wide_possible)

    def walk(value: Any, path: Path_) -> None:
        _node(doc.marks, path, marks)
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, (*path, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, (*path, i))

    walk(doc.data, ())
    return Document(doc.file, doc.data, marks)


def resolve(
    doc: Document, fetch: Fetch, chain: tuple[str, ...] = ()
) -> tuple[Document, list[Problem]]:
    """The document with its includes merged under it (recursively)."""
    merged, problems, _ = _resolve(doc, fetch, chain)
    return merged, problems


def _resolve(
    doc: Document, fetch: Fetch, chain: tuple[str, ...]
) -> tuple[Document, list[Problem], bool]:
    """resolve, and whether the document has marks of values it no longer has (its
    include: when none was merged, the options _overrule dropped)."""
    problems: list[Problem] = []
    if not isinstance(doc.data, dict) or "include" not in doc.data:
        return doc, problems, False
    includes = doc.data["include"]
    top = Place(doc.file)
    own = Document(doc.file, {k: v for k, v in doc.data.items() if k != "include"}, doc.marks)
    if isinstance(includes, str):
        includes = [includes]
    if not isinstance(includes, list):
        problems.append(
            Problem(
                doc.marks.value(("include",), top),
                "include must be a list of file names",
                path="include",
                hint="e.g. include: [../common/base.yaml]",
            )
        )
        return own, problems, True  # with the marks of its include:
    base: Document | None = None
    for index, name in enumerate(includes):
        where = doc.marks.value(("include", index), top)
        if not isinstance(name, str) or not name.strip():
            empty = name is None or isinstance(name, str)
            problems.append(
                Problem(
                    where,
                    "include entry is empty" if empty else "an include entry must be a file name",
                    path=f"include[{index}]",
                    hint="name a fragment, e.g. ../common/base.yaml, or remove the entry",
                )
            )
            continue
        target = posixpath.normpath(posixpath.join(posixpath.dirname(doc.file), name))
        if target.startswith("../") or target == ".." or posixpath.isabs(name):
            problems.append(
                Problem(
                    where,
                    f"include '{name}' points outside the lab",
                    path=f"include[{index}]",
                    hint="include fragments from hosts/common/, e.g. ../common/base.yaml",
                )
            )
            continue
        if target in chain or target == doc.file:
            cycle = " -> ".join([*chain, doc.file, target])
            problems.append(
                Problem(
                    where,
                    f"include cycle: {cycle}",
                    path=f"include[{index}]",
                    hint="a fragment may not include, directly or not, the file that includes it",
                )
            )
            continue
        fragment, fetch_problems = fetch(target)
        if fragment is None:
            missing = [p for p in fetch_problems if p.place.line == 0]
            if missing:
                problems.append(
                    Problem(
                        where,
                        f"include '{name}': {missing[0].message}",
                        path=f"include[{index}]",
                        hint=missing[0].hint,
                    )
                )
            problems.extend(p for p in fetch_problems if p.place.line != 0)
            continue
        problems.extend(fetch_problems)
        if not isinstance(fragment.data, dict):
            problems.append(
                Problem(
                    fragment.marks.value((), Place(fragment.file)),
                    "a fragment must be a map of profile sections",
                )
            )
            continue
        fragment, inner, stale = _resolve(fragment, fetch, (*chain, doc.file))
        problems.extend(inner)
        if stale:  # a merge takes every mark under a value it takes whole
            fragment = _clean(fragment)
        base = fragment if base is None else _merge_fragments(base, fragment)
    if base is None:
        return own, problems, True  # with the marks of its include:
    # the profile's marks split by its own data: its include: is left out where it stands
    merged = _merged(base, _tree(base), own, tree_of(doc))
    dropped = False
    if any(options.sections(base.data)):  # only a fragment's options can be overruled
        dropped = _overrule(merged, doc.file)
    return merged, problems, dropped


def _overrule(doc: Document, mine: str) -> bool:
    """Drop from the merged document the fragments' options that the profile (`mine`)
    sets again in another spelling: on one option, as on one value, the including file
    wins. True when one was dropped."""
    data = doc.data
    dropped = False
    for base, section in options.sections(data):
        for where in options.overruled(
            section, base, lambda path: doc.marks.key(path, Place(mine)).file == mine
        ):
            _drop(data, where)
            dropped = True
    return dropped


def _drop(data: Any, where: Path_) -> None:
    """Delete the value at `where`, and the maps it leaves empty on the way up. The maps
    and lists on the way are copied first: the merged data shares the profile's own."""
    chain = [data]
    for part in where[:-1]:
        inner = chain[-1][part]
        inner = dict(inner) if isinstance(inner, dict) else list(inner)
        chain[-1][part] = inner
        chain.append(inner)
    del chain[-1][where[-1]]
    for node, part in zip(reversed(chain[:-1]), reversed(where[:-1]), strict=True):
        if node[part] == {} and len(where) > 1:
            del node[part]
        else:
            break
