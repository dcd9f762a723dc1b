"""Round 45's loose ends in the gradient checker and the drawings."""

from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_edu.testing as checker
from tinygrad_edu import Op, Value, no_grad
from tinygrad_edu.testing import GradientCheckError, check_gradients

# --- 2: the in-place note's shift test at large inputs, and how often it calls f -----------------------------------
#: 3x with a vjp 10 % too large: a failure that has nothing to do with the inputs' changes.
BAD_TRIPLE = Op("bad_triple", lambda x: 3.0 * x, lambda g, out, x: 3.3 * g)


def _message(f, x: np.ndarray) -> str:
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(f, x, eps=1e-6 * float(np.abs(x).max()))
    return str(caught.value)


@pytest.mark.parametrize("x", [[2.0 ** 40 + 1.0, 1e12], [2.0 ** 50 + 1.0, -1e15]])
def test_a_shift_of_large_inputs_is_not_called_a_hidden_change(x):
    """x += 0.1 near 2⁴⁰: x + 0.1 rounds to a multiple of 2⁻¹², x − 1.5 + 0.1 to one of 2⁻¹³, so the shift measured at
    the two places differs by ~1e-3 of itself, float64's rounding of x, not another slope."""
    def f(v: Value) -> Value:
        with no_grad():
            v += 0.1
        return BAD_TRIPLE(v).sum()

    message = _message(f, np.array(x))
    assert "in place" not in message and "bad_triple" in message, message


@pytest.mark.parametrize(("change", "calls"), [("none", 1), ("scale", 2), ("shift", 3)])
def test_the_in_place_note_calls_f_only_as_often_as_it_needs(monkeypatch, change, calls):
    """No change: one call tells; a scale: one call elsewhere shows another change; a shift: both moves agree."""
    seen = []
    original = checker._changes

    def counted(f, arrays):
        seen.append(1)
        return original(f, arrays)

    monkeypatch.setattr(checker, "_changes", counted)

    def f(v: Value) -> Value:
        with no_grad():
            if change == "scale":
                v *= 2.0
            elif change == "shift":
                v += 0.5
        return BAD_TRIPLE(v).sum()

    message = _message(f, np.array([0.3, -1.2]))
    assert len(seen) == calls, (len(seen), message)
    assert ("f changes its input(s) 0 in place" in message) == (change == "scale"), message


# --- 3: the kink and coarse-values tests share their one-sided slopes -----------------------------------------------
def test_the_coarse_values_test_evaluates_each_quarter_step_once():
    """(x + 10⁷) − 10⁷ squared: the kink test at the worst element, its coarse-values test, and the note's own
    coarse-values test all ask for the slopes over ε/4 at x = 1.7; f at x ± ε/4 is evaluated once each (was 3)."""
    seen: dict[float, int] = {}

    def forward(x: np.ndarray) -> np.ndarray:
        seen[float(x[0])] = seen.get(float(x[0]), 0) + 1
        return ((x + 1e7) - 1e7) ** 2

    square = Op("square_after_cancelling", forward, lambda g, out, x: g * 2 * x)
    with pytest.raises(GradientCheckError, match="doubles each time the step is halved"):
        check_gradients(lambda v: square(v).sum(), np.array([1.7]), eps=1e-6)
    quarter = {k: n for k, n in seen.items() if abs(abs(k - 1.7) - 2.5e-7) < 1e-12}
    assert sorted(quarter.values()) == [1, 1], seen


# --- 1: a drawing where Values are used 2-19 times far apart is laid out in seconds ---------------------------------
def _reused_sum(terms: int = 1500, k: int = 150) -> Value:
    """Σ p[a]·p[b] over many terms, k parameters each used a few times along one long chain of adds."""
    rng = np.random.default_rng(0)
    ps = [Value(float(v), requires_grad=True) for v in rng.normal(size=k)]
    out = Value(0.0)
    for t in range(terms):
        out = out + ps[t % k] * ps[(t * 7 + 3) % k]
    out.backward()
    return out


def _edges(source: str) -> list[tuple[str, str]]:
    return re.findall(r"^\s*(\w+) -> (\w+)", source, re.M)


def _ranks_passed(source: str) -> list[int]:
    """For each edge of a drawing, how many ranks it passes when every node is ranked as far from the output as its
    longest path to it (Graphviz gives the edge a node of its helper graph for each)."""
    edges = _edges(source)
    users: dict[str, list[str]] = {}
    for a, b in edges:
        users.setdefault(a, []).append(b)
    depth: dict[str, int] = {}

    def rank(node: str) -> int:
        stack = [node]
        while stack:
            top = stack[-1]
            pending = [u for u in users.get(top, []) if u not in depth]
            if pending:
                stack.extend(pending)
                continue
            depth[top] = 1 + max((depth[u] for u in users.get(top, [])), default=-1)
            stack.pop()
        return depth[node]

    return [rank(a) - rank(b) - 1 for a, b in edges if a != "truncated"]


def test_a_large_drawing_of_values_reused_far_apart_draws_them_again_beside_their_uses():
    """The chain of 750 Values passed ~90,000 ranks in all (dot placed the nodes for minutes); each far use gets
    the Value drawn again beside it: no edge passes more than a few ranks, and dot lays it out."""
    from tinygrad_edu import viz

    cost = _reused_sum()
    drawing = viz.draw_graph(cost, max_nodes=750)
    passed = _ranks_passed(drawing.source)
    assert max(passed) <= 8 and sum(passed) < 10_000, (max(passed), sum(passed))
    assert "drawn again beside each far use" in drawing.source
    labels = dict(re.findall(r"^\s*(v\d+(?:_\d+)?) \[label=(<.*?>>)", drawing.source, re.M))
    repeats = [name for name in labels if "_" in name]
    assert repeats and all(labels[name] == labels[name.split("_")[0]] for name in repeats)
    svg = viz._laid_out(drawing.source, "dot", "svg", 120, "test", "the reused sum")  # (minutes before; ~0.4 s)
    assert svg.count(b'class="node"') == drawing.source.count(" [label=")


def test_a_default_drawing_of_the_same_sum_is_drawn_as_before(monkeypatch):
    """The 150 Values nearest the output pass a few thousand ranks: no repeats, the source as it was."""
    from tinygrad_edu import viz

    cost = _reused_sum()
    source = viz.draw_graph(cost).source
    monkeypatch.setattr(viz, "_LONG_EDGES", 10 ** 12)
    assert viz.draw_graph(cost).source == source and "drawn again" not in source
