"""The marks of a document split by value, as a merge of two documents takes them: the
marks of one value and of everything under it are copied in one update, not looked up
path by path (homelab.profile.include merges every host's profile with its fragments).

Marks are kept in the order of a walk of the data (the builder of homelab.yamlfile writes
them so, and so does the merge): the marks under one value are then one slice of each
kind, found by where its children's paths stand."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import accumulate, compress
from typing import Any

from homelab.errors import Place
from homelab.yamlfile import Document, Marks, Path_


class Tree:
    """The marks of one value and of everything under it, each kind in the order written
    (the order of a walk of the data), split by child when first asked. A fragment's are
    split once and shared by every host that includes it; a value taken whole from one
    file has its marks copied in one update, not looked up path by path."""

    __slots__ = ("_kids", "blocks", "depth", "keys", "plain", "values")

    def __init__(
        self,
        depth: int,
        values: list[tuple[Path_, Place]],
        keys: list[tuple[Path_, Place]],
        blocks: list[tuple[Path_, tuple[int, int]]],
        plain: list[Path_],
    ) -> None:
        self.depth = depth
        self.values, self.keys, self.blocks, self.plain = values, keys, blocks, plain
        self._kids: dict[Any, Tree] | None = None

    @classmethod
    def of(cls, marks: Marks) -> Tree:
        return cls(
            0,
            list(marks.values.items()),
            list(marks.keys.items()),
            list(marks.blocks.items()),
            list(marks.plain),
        )

    def kids(self) -> dict[Any, Tree]:
        if self._kids is None:
            n = self.depth
            kids: dict[Any, Tree] = {}

            def kid(name: Any) -> Tree:
                tree = kids.get(name)
                if tree is None:
                    tree = kids[name] = Tree(n + 1, [], [], [], [])
                return tree

            for item in self.values:
                if len(item[0]) > n:
                    kid(item[0][n]).values.append(item)
            for item in self.keys:
                if len(item[0]) > n:
                    kid(item[0][n]).keys.append(item)
            for block in self.blocks:
                if len(block[0]) > n:
                    kid(block[0][n]).blocks.append(block)
            for path in self.plain:
                if len(path) > n:
                    kid(path[n]).plain.append(path)
            self._kids = kids
        return self._kids

    def copy_to(self, out: Marks) -> None:
        """Every mark of this value into `out`, at the same paths."""
        out.values.update(self.values)
        out.keys.update(self.keys)
        if self.blocks:
            out.blocks.update(self.blocks)
        out.plain.update(self.plain)

    def move_to(self, out: Marks, at: Path_) -> None:
        """Every mark of this value into `out`, moved to `at` (a list item that moved)."""
        cut = self.depth
        for path, place in self.values:
            out.values[at + path[cut:]] = place
        for path, place in self.keys:
            out.keys[at + path[cut:]] = place
        for path, block in self.blocks:
            out.blocks[at + path[cut:]] = block
        out.plain.update(at + path[cut:] for path in self.plain)


class Order:
    """A document's marks as lists in the order written, with where each path stands:
    the marks of one value and of everything under it are then one slice of each list.
    None (see of) when the marks are not one walk of the data, e.g. a key whose value
    was too deep to read has a key mark and no value mark."""

    __slots__ = ("bc", "blocks", "kc", "keys", "kflags", "paths", "places", "plain")

    def __init__(self, marks: Marks) -> None:
        paths = self.paths = list(marks.values)
        self.places = list(marks.values.values())
        # how many key marks (block marks) come before each value mark
        self.kflags = list(map(marks.keys.__contains__, paths))
        self.kc = [0, *accumulate(self.kflags)]
        self.keys = list(marks.keys.items())
        self.bc = [0, *accumulate(map(marks.blocks.__contains__, paths))] if marks.blocks else []
        self.blocks = list(marks.blocks.items())
        self.plain = list(map(marks.plain.__contains__, paths))

    @classmethod
    def of(cls, marks: Marks) -> Order | None:
        order = cls(marks)
        paths = order.paths
        if (
            not paths
            or paths[0] != ()
            or order.kc[-1] != len(marks.keys)
            or sum(order.plain) != len(marks.plain)
            or list(compress(paths, order.kflags)) != list(marks.keys)
        ):
            return None
        if marks.blocks and (
            order.bc[-1] != len(marks.blocks)
            or list(compress(paths, map(marks.blocks.__contains__, paths))) != list(marks.blocks)
        ):
            return None
        return order


class Span:
    """The marks of one value and of everything under it: slices of its document's
    Order, found by the paths of its children (their data says which)."""

    __slots__ = ("_kids", "data", "depth", "end", "order", "start")

    def __init__(self, order: Order, data: Any, depth: int, start: int, end: int) -> None:
        self.order, self.data, self.depth, self.start, self.end = order, data, depth, start, end
        self._kids: Mapping[Any, Marked] | None = None

    def kids(self) -> Mapping[Any, Marked]:
        if self._kids is None:
            self._kids = self._split()
        return self._kids

    def _split(self) -> Mapping[Any, Marked]:
        data, order = self.data, self.order
        names: Any = ()
        if isinstance(data, dict):
            names = list(data)
        elif isinstance(data, list):
            names = range(len(data))
        path, paths, at = order.paths[self.start], order.paths, self.start
        starts = []
        for name in names:  # in the order written: each one after the one before
            try:
                at = paths.index((*path, name), at + 1, self.end)
            except ValueError:
                at = -1
            starts.append(at)
        ends = [*starts[1:], self.end]
        if any(s <= b for b, s in zip([self.start, *starts], [*starts, self.end], strict=True)):
            return self.tree().kids()  # not in order: child by child
        depth = self.depth + 1
        return {
            name: Span(order, data[name], depth, s, e)
            for name, s, e in zip(names, starts, ends, strict=True)
        }

    def tree(self) -> Tree:
        order, s, e = self.order, self.start, self.end
        return Tree(
            self.depth,
            list(zip(order.paths[s:e], order.places[s:e], strict=True)),
            order.keys[order.kc[s] : order.kc[e]],
            order.blocks[order.bc[s] : order.bc[e]] if order.blocks else [],
            list(compress(order.paths[s:e], order.plain[s:e])),
        )

    def copy_to(self, out: Marks) -> None:
        order, s, e = self.order, self.start, self.end
        out.values.update(zip(order.paths[s:e], order.places[s:e], strict=True))
        out.keys.update(order.keys[order.kc[s] : order.kc[e]])
        if order.blocks:
            out.blocks.update(order.blocks[order.bc[s] : order.bc[e]])
        out.plain.update(compress(order.paths[s:e], order.plain[s:e]))

    def move_to(self, out: Marks, at: Path_) -> None:
        self.tree().move_to(out, at)


Marked = Span | Tree


def tree_of(doc: Document) -> Marked:
    """The marks of the whole document, split as a merge needs them."""
    order = Order.of(doc.marks)
    if order is None:
        return Tree.of(doc.marks)
    return Span(order, doc.data, 0, 0, len(order.paths))


def kids_of(tree: Marked | None) -> Mapping[Any, Marked]:
    return tree.kids() if tree is not None else {}
