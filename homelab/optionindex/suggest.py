"""Did you mean: the options closest to a path that is none, from the index."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from homelab.optionindex.model import ITEM, NAME, Option, OptionSet, concrete, show_path


def suggestions(options: OptionSet, path: Sequence[str], limit: int = 3) -> list[str]:
    """The options closest to a path that is none: among the options below the longest
    prefix that exists, by edit distance of the remaining names; then options whose last
    names are the path's (a prefix left out). Nothing rather than a list of guesses."""
    path = tuple(path)
    found: list[str] = []

    def add(candidate: Sequence[str]) -> None:
        shown = show_path(concrete(candidate, path))
        if shown not in found and len(found) < limit:
            found.append(shown)

    def same_last_names() -> None:  # `git.enable` for programs.git.enable
        n = len(path)
        for p in sorted((o.path for o in options if o.path[-n:] == path), key=len):
            if len(p) > n:
                add(p)

    first_known = len(path) == 1 or bool(below_written(options, path[:1]))
    if not first_known:
        same_last_names()  # a prefix left out is likelier than a misspelt first name
    # the longest prefix that holds options, and the closest options below it
    for depth in range(len(path) - 1, -1, -1):
        if found:
            break
        if depth == 0:
            _first_name_mended(options, path, add)
            break
        below = below_written(options, path[:depth])
        if not below:
            continue
        tail = ".".join(path[depth:])
        scored = []
        for option in below:
            rest = option.path[depth:]
            text = ".".join(rest[: len(path) - depth])
            d = _distance(tail, text, max(2, len(tail) // 4))
            if d is not None:
                scored.append((d, len(rest), option.path))
        best = min((s[0] for s in scored), default=None)
        for d, _, p in sorted(scored):
            if d == best:  # only the closest: a longer list is noise
                add(p[: len(path)] if len(p) > len(path) else p)
        if depth <= 1:
            break
    if first_known and len(found) < limit:
        same_last_names()
    return found


def _first_name_mended(
    options: OptionSet, path: tuple[str, ...], add: Callable[[Sequence[str]], None]
) -> None:
    """A misspelt first name: the closest first names (a few hundred, not every option),
    each with the rest of the path mended below it."""
    firsts = {o.path[0] for o in options}
    scored = [(d, f) for f in firsts if (d := _distance(path[0], f, 2)) is not None]
    best = min((d for d, _ in scored), default=None)
    for d, first in sorted(scored):
        if d != best:
            continue
        mended = (first, *path[1:])
        if len(path) == 1 or options.find(mended) is not None or below_written(options, mended):
            add(mended)
        else:
            for guess in suggestions(options, mended):
                add(tuple(guess.split(".")))  # shown names: quoted ones stay whole


def below_written(options: OptionSet, prefix: tuple[str, ...]) -> list[Option]:
    """The options below a written prefix, placeholders matched (the tree holds `<name>`
    where the person wrote a name)."""
    if not prefix:
        return list(options)
    found = options.find(prefix)
    if found is not None and found.rest == ():
        return [o for o in options.below(found.option.path) if o.path != found.option.path]
    direct = options.below(prefix)
    if direct:
        return direct
    for i in range(len(prefix)):
        for holder in (NAME, ITEM):
            swapped = (*prefix[:i], holder, *prefix[i + 1 :])
            if options.below(swapped):
                return below_written(options, swapped)
    return []


def _distance(a: str, b: str, limit: int) -> int | None:
    """Edit distance with transpositions (optimal string alignment), None above limit."""
    if abs(len(a) - len(b)) > limit:
        return None
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return None
        prev2, prev = prev, cur
    return prev[-1] if prev[-1] <= limit else None
