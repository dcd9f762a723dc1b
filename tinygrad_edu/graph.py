"""Walks over a computation graph through the public ``Value.parents``, iterative (no recursion), so graphs a
million operations deep are fine.

    >>> from tinygrad_edu import Value
    >>> x = Value(2.0, label="x")
    >>> y = (x * 3.0).exp()
    >>> kept, total = nearest_values(y, limit=2)
    >>> [v.op for v in kept], total
    (['exp', 'mul'], 4)
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from collections.abc import Set as AbstractSet

import numpy as np

from tinygrad_edu import checks
from tinygrad_edu.engine import Value

__all__ = ["nearest_values", "ancestors"]


def nearest_values(root: Value, limit: int | None = None) -> tuple[list[Value], int]:
    """Breadth-first from ``root`` over parents: the first ``limit`` Values (nearest the output; all of them
    without a limit) and how many Values there are in all.  Linear in the size of the graph."""
    if not isinstance(root, Value):
        raise TypeError(f"nearest_values: root must be a Value, got {type(root).__name__}")
    if limit is not None:
        checks.integer(limit, "limit", "nearest_values", least=0)
    seen = {id(root)}
    queue = deque([root])
    kept: list[Value] = []
    total = 0
    while queue:
        node = queue.popleft()
        total += 1
        if limit is None or len(kept) < limit:
            kept.append(node)
        for parent in node.parents:
            if id(parent) not in seen:
                seen.add(id(parent))
                queue.append(parent)
    return kept, total


def ancestors(starts: Value | Iterable[Value], allowed: AbstractSet[int], stop: AbstractSet[int]) -> list[Value]:
    """``starts`` (a Value or several) and everything they depend on, among the ids in ``allowed``, not entering ids
    in ``stop``."""
    starts = _values(starts)
    for name, ids in (("allowed", allowed), ("stop", stop)):
        if not isinstance(ids, AbstractSet):
            raise TypeError(f"ancestors: {name} must be a set of ids (id(value)), got {type(ids).__name__}")
    found: list[Value] = []
    seen: set[int] = set()
    stack = [n for n in starts if id(n) in allowed and id(n) not in stop]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        found.append(node)
        for parent in node.parents:
            key = id(parent)
            if key in allowed and key not in stop and key not in seen:
                stack.append(parent)
    return found


def _values(starts: Value | Iterable[Value]) -> list[Value]:
    """``starts`` as a list of Values (a single Value is a list of one), else a TypeError naming ``ancestors``."""
    if isinstance(starts, Value):
        return [starts]
    if not isinstance(starts, Iterable) or isinstance(starts, (str, bytes, np.ndarray)):
        raise TypeError(f"ancestors: starts must be a Value or a list of Values, got {type(starts).__name__}")
    starts = list(starts)
    for x in starts:
        if not isinstance(x, Value):
            raise TypeError(f"ancestors: starts must be a Value or a list of Values, got a {type(x).__name__} in it")
    return starts


def __dir__() -> list[str]:
    return sorted(__all__)
