"""What hypothesis draws, derandomized (the same examples every run), for the tests of the strategies and of the
composition fuzzer's generator: every example of a strategy, a measure of each, the first one that meets a
condition, a pool of 1000 drawn graphs and its lines, and the ops a graph uses.  A helper module, not a test
module: no test module imports another.

(Each ``given(...)(lambda ...)`` below is drawn from a seed hypothesis takes from the lambda's source line: a
changed line draws other examples, and the tests that count what a pool holds count other numbers.)
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis.strategies import SearchStrategy

from tinygrad_edu import Value
from tinygrad_edu.testing.expressions import Expression, expressions

# --- every example, a measure of each, the first one -----------------------------------------------------------
DRAWS = settings(database=None, derandomize=True, max_examples=60, deadline=None)
FIRST = settings(database=None, derandomize=True, max_examples=200, deadline=None)
POOL = settings(database=None, derandomize=True, max_examples=300, deadline=None, phases=[Phase.generate],
                suppress_health_check=list(HealthCheck))


def drawn(strategy: SearchStrategy, measure: Callable[[Any], Any], draws: settings = DRAWS) -> list:
    """``measure`` of every example hypothesis draws from ``strategy`` (derandomized)."""
    seen = []
    draws(given(strategy)(lambda example: seen.append(measure(example))))()
    return seen


def first(strategy: SearchStrategy, condition: Callable[[Any], bool] = lambda example: True) -> Any:
    """The first example of ``strategy`` that meets ``condition`` (derandomized: the same one every run)."""
    return find(strategy, condition, settings=FIRST)


def drawn_graphs(strategy: SearchStrategy, examples: int = 300) -> list:
    """The graphs hypothesis draws from ``strategy`` (derandomized: the same ones every run)."""
    seen: list = []
    settings(POOL, max_examples=examples)(given(strategy)(lambda e: seen.append(e)))()
    return seen


# --- a pool of drawn graphs, and their lines ------------------------------------------------------------------------
@functools.cache
def pool() -> tuple[Expression, ...]:
    """1000 graphs (~10 s): hypothesis favours small ones, 7 lines on average."""
    return tuple(drawn_graphs(expressions(), examples=1000))


@functools.cache
def references() -> tuple[dict, ...]:
    """Every node of every pooled graph, evaluated with plain numpy."""
    return tuple(e.run(*e.inputs, reference=True) for e in pool())


def lines_matching(pattern: str) -> list[tuple[Expression, dict, re.Match]]:
    """(graph, its nodes by numpy, the match) for every line ``vN = pattern`` of the pooled graphs."""
    found = []
    for expr, nodes in zip(pool(), references()):
        for line in expr.lines:
            match = re.fullmatch(r"(v\d+) = " + pattern, line)
            if match:
                found.append((expr, nodes, match))
    return found


NODE = r"([xv]\d+)"


def op_names(out: Value) -> set[str]:
    """The names of the operations ``out`` was computed by (each Value of its graph walked once)."""
    names, stack, seen = set(), [out], set()
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            names |= {node.op} if node.op else set()
            stack.extend(node.parents)
    return names
