"""The comments near a resource (where inline suppressions and approvals are read), found by line.

Every reader gives each resource the comments from a little above its declaration to its end.
Finding them with a pass over every comment of the file, once per resource, is quadratic: one
2.6 MB file of 20,000 buckets, each with a comment above it, took 30 s, and a file within the
default size limit would hold a CI runner for half an hour. A ``CommentWindow`` sorts a file's
comments by line once and answers each resource with two binary searches.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Hashable, Iterable


class CommentWindow:
    """A file's ``(line, text)`` comments, by line: ``between`` gives what a filter would give."""

    __slots__ = ("_items", "_lines", "_order")

    def __init__(self, items: Iterable[tuple[int, str]]) -> None:
        self._items = tuple(items)
        order = sorted(range(len(self._items)), key=lambda i: self._items[i][0])  # stable
        self._lines = [self._items[i][0] for i in order]
        # None: the comments are in line order already (a reader's usual output), so a window is
        # one slice; otherwise the positions, by line, to give a window back in the file's order.
        self._order = None if all(i == n for n, i in enumerate(order)) else order

    def between(self, first: int, last: int) -> tuple[tuple[int, str], ...]:
        """The comments on lines ``first`` to ``last`` (inclusive), in the order they were given."""
        start = bisect_left(self._lines, first)
        stop = bisect_right(self._lines, last)
        if start >= stop:
            return ()
        if self._order is None:
            return self._items[start:stop]
        return tuple(self._items[i] for i in sorted(self._order[start:stop]))


class CommentWindows:
    """One ``CommentWindow`` per file, made when the first resource of that file asks for it."""

    __slots__ = ("_made",)

    def __init__(self) -> None:
        # key -> (what the key's ids name, kept alive so that no id is reused; its window)
        self._made: dict[Hashable, tuple[object, CommentWindow]] = {}

    def window(
        self, key: Hashable, keep: object, comments: Callable[[], Iterable[tuple[int, str]]]
    ) -> CommentWindow:
        found = self._made.get(key)
        if found is None:
            found = self._made[key] = (keep, CommentWindow(comments()))
        return found[1]
