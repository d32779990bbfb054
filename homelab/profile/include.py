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
from homelab.yamlfile import Document, Marks, Path_

# Reads a lab-relative file; returns the document or the problems that stop it.
Fetch = Callable[[str], tuple[Document | None, list[Problem]]]


def _copy(value: Any, src: Marks, src_path: Path_, dst: Marks, dst_path: Path_) -> Any:
    # runs for every value of every fragment of every host: one lookup per mark kind
    place = src.values.get(src_path)
    if place is not None:
        dst.values[dst_path] = place
    place = src.keys.get(src_path)
    if place is not None:
        dst.keys[dst_path] = place
    if src.blocks:
        block = src.blocks.get(src_path)
        if block is not None:
            dst.blocks[dst_path] = block
    if src_path in src.plain:
        dst.plain.add(dst_path)
    if isinstance(value, dict):
        return {k: _copy(v, src, (*src_path, k), dst, (*dst_path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v, src, (*src_path, i), dst, (*dst_path, i)) for i, v in enumerate(value)]
    return value


def _merge(
    lo: Any, lo_m: Marks, lo_p: Path_, hi: Any, hi_m: Marks, hi_p: Path_, out: Marks, p: Path_
) -> Any:
    if isinstance(lo, dict) and isinstance(hi, dict):
        # keep the place of the including file's own map when it has one
        src_m, src_p = (hi_m, hi_p) if hi_p in hi_m.values else (lo_m, lo_p)
        _copy(None, src_m, src_p, out, p)
        merged: dict[str, Any] = {}
        for key in [*lo, *(k for k in hi if k not in lo)]:
            if key in lo and key in hi:
                merged[key] = _merge(
                    lo[key], lo_m, (*lo_p, key), hi[key], hi_m, (*hi_p, key), out, (*p, key)
                )
            elif key in lo:
                merged[key] = _copy(lo[key], lo_m, (*lo_p, key), out, (*p, key))
            else:
                merged[key] = _copy(hi[key], hi_m, (*hi_p, key), out, (*p, key))
        return merged
    if isinstance(lo, list) and isinstance(hi, list):
        _copy(None, hi_m, hi_p, out, p)
        items = [_copy(v, lo_m, (*lo_p, i), out, (*p, i)) for i, v in enumerate(lo)]
        if modules.is_list_path(p):  # `./x.nix` of two files may be two modules
            seen = {_module(v, lo_m, (*lo_p, i)) for i, v in enumerate(lo)}
            for i, v in enumerate(hi):
                if (key := _module(v, hi_m, (*hi_p, i))) not in seen:
                    seen.add(key)
                    items.append(_copy(v, hi_m, (*hi_p, i), out, (*p, len(items))))
            return items
        for i, v in enumerate(hi):
            if v not in items:
                items.append(_copy(v, hi_m, (*hi_p, i), out, (*p, len(items))))
        return items
    return _copy(hi, hi_m, hi_p, out, p)


def _module(entry: Any, marks: Marks, path: Path_) -> Any:
    """A modules: entry as what it names: a file entry by the lab file it resolves to."""
    if isinstance(entry, str) and modules.is_file_entry(entry):
        place = marks.values.get(path)
        if place is not None:
            return ("file", modules.lab_path(entry, place.file) or entry)
    return entry


def merge(low: Document, high: Document) -> Document:
    """`high` on top of `low`, following the rules above."""
    marks = Marks()
    data = _merge(low.data, low.marks, (), high.data, high.marks, (), marks, ())
    return Document(high.file, data, marks)


def resolve(
    doc: Document, fetch: Fetch, chain: tuple[str, ...] = ()
) -> tuple[Document, list[Problem]]:
    """The document with its includes merged under it (recursively)."""
    problems: list[Problem] = []
    if not isinstance(doc.data, dict) or "include" not in doc.data:
        return doc, problems
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
        return own, problems
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
        fragment, inner = resolve(fragment, fetch, (*chain, doc.file))
        problems.extend(inner)
        base = fragment if base is None else merge(base, fragment)
    if base is None:
        return own, problems
    merged = merge(base, own)
    if any(options.sections(base.data)):  # only a fragment's options can be overruled
        merged = _overrule(merged, doc.file)
    return merged, problems


def _overrule(doc: Document, mine: str) -> Document:
    """The merged document without the fragments' options that the profile (`mine`) sets
    again in another spelling: on one option, as on one value, the including file wins."""
    data = doc.data
    for base, section in options.sections(data):
        for where in options.overruled(
            section, base, lambda path: doc.marks.key(path, Place(mine)).file == mine
        ):
            _drop(data, where)
    return doc


def _drop(data: Any, where: Path_) -> None:
    """Delete the value at `where`, and the maps it leaves empty on the way up."""
    chain = [data]
    for part in where[:-1]:
        chain.append(chain[-1][part])
    del chain[-1][where[-1]]
    for node, part in zip(reversed(chain[:-1]), reversed(where[:-1]), strict=True):
        if node[part] == {} and len(where) > 1:
            del node[part]
        else:
            break
