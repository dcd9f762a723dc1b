"""The seed read once more against the code: section 6.1's second-derivative test and section 6.3's notation.

Expected values come from closed forms (f(x) = x⁴: f′ = 4x³, f″ = 12x², so f′(0) = 0 and f″(0) = 0; the chain
network's ∂C/∂α³ = 2(α³ − y′)), never from the package itself.
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest

import tinygrad_edu.dependency_tree as dependency_tree_module
from tinygrad_edu import Value, nn, ops, viz
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.losses import squared_error


def _marks(f, points: int, x_range: tuple[float, float] = (-3.0, 3.0)) -> list[tuple[str, float]]:
    """(label, x) of every point plot_derivatives marks on f's panel (a legend label repeated is '_child…')."""
    pytest.importorskip("matplotlib")
    from tinygrad_edu import plots

    figure = plots.plot_derivatives(f, order=2, points=points, x_range=x_range)
    return [(line.get_label(), float(line.get_xdata()[0])) for line in figure.axes[0].get_lines()
            if len(line.get_xdata()) == 1]


# x⁴ and −x⁴: f′(0) = 0 and f″(0) = 0 (by hand), so the second-derivative test of seed 6.1 gives no verdict at
# x = 0; f′ = ±4x³ changes sign there.  The grids below do not hold 0 (400 points on [−3, 3]: spacing 6/399;
# 401 points on [−2.2, 3]: spacing 0.013, 0 = −2.2 + 169.23… steps), so a grid point beside 0 has f″ = ±12x² ≠ 0.
@pytest.mark.parametrize(("sign", "points", "x_range", "turn"), [(1.0, 400, (-3.0, 3.0), "minimum"),
                                                                 (-1.0, 400, (-3.0, 3.0), "maximum"),
                                                                 (1.0, 401, (-2.2, 3.0), "minimum")])
def test_plot_derivatives_gives_no_verdict_for_a_flat_fourth_power_wherever_the_grid_lies(sign, points, x_range,
                                                                                          turn):
    assert not np.any(np.linspace(*x_range, points) == 0.0)  # the grid misses the stationary point
    marks = _marks(lambda x: sign * x ** 4, points, x_range)
    assert len(marks) == 1
    label, x = marks[0]
    assert abs(x) < 0.02  # the one sign change of f′ = ±4x³, at 0
    assert label == f"f″ = 0, no verdict; f′ changes sign: a {turn}", label


@pytest.mark.parametrize("points", [400, 401])
def test_plot_derivatives_keeps_the_verdicts_of_a_cubic_whose_roots_the_grid_misses(points):
    """Guard: f(x) = x³ − 3x has f′ = 3x² − 3 = 0 at x = ±1 and f″ = 6x = ±6 there (by hand): a maximum at −1 and
    a minimum at 1, whether or not the grid holds ±1."""
    marks = _marks(lambda x: x ** 3 - 3 * x, points)
    assert [label for label, _ in marks] == ["maximum (f′ = 0, f″ < 0)", "minimum (f′ = 0, f″ > 0)"]
    assert np.allclose([x for _, x in marks], [-1.0, 1.0], atol=0.02)


def test_plot_derivatives_keeps_a_quadratic_minimum_beside_the_grid():
    """Guard: f(x) = x² has f′(0) = 0 and f″ = 2 > 0 everywhere: a minimum, also on a grid without 0."""
    assert [label for label, _ in _marks(lambda x: x ** 2, 400)] == ["minimum (f′ = 0, f″ > 0)"]


def _chain_cost() -> tuple[Value, float]:
    """Notebook 5's chain network (one sigmoid neuron per layer), its cost against the target y′ = 0.25, and
    ∂C/∂α³ = 2(α³ − y′) by hand."""
    network = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(3)])
    target = Value(np.array([0.25]), requires_grad=False, label="y′")
    output = network(np.array([0.5]))
    return squared_error(output, target), 2 * (output.item() - 0.25)


def test_the_tree_writes_the_cost_edge_with_the_target_y_prime():
    """Guard: the drawing's edge from α³ to C is 2(α³ − y′), with the number 2(α³ − 0.25) by hand."""
    cost, by_hand = _chain_cost()
    edge = next(e for e in dependency_tree(cost).edges if e.child == "C")
    assert edge.formula == "2(α³ − y′)"
    assert edge.number == pytest.approx(by_hand, rel=1e-12)


def test_the_documented_cost_edge_names_the_target_as_the_drawing_and_the_seed_do():
    """Seed 5 and 6.3: y is the network's output and y′ the target ("target network output y′"); the edge the tree
    draws is 2(α³ − y′).  With y in its place the documented ∂C/∂α^L = 2(α^L − y) would be 2(α^L − α^L) = 0."""
    cost, _ = _chain_cost()
    drawn = next(e for e in dependency_tree(cost).edges if e.child == "C").formula
    target = re.fullmatch(r"2\(α³ − (.+)\)", drawn).group(1)
    texts = {"viz.draw_dependency_tree": viz.draw_dependency_tree.__doc__ or "",
             "dependency_tree (module)": dependency_tree_module.__doc__ or "",
             "ops (source)": inspect.getsource(ops)}
    for where, text in texts.items():
        documented = re.findall(r"∂C/∂α(?:\^L)? = 2\(α(?:\^L)? − ([^)]+)\)", text)
        assert documented, where
        assert set(documented) == {target}, (where, documented)


def test_armijo_accepts_a_step_that_meets_the_condition_with_equality():
    """Guard, seed 6.2.1 (ii): the condition is f(x + αˡd) ≤ f(x) + σαˡ∇f(x)ᵀd, not strict.  f(x) = x² at x = 1:
    ∇f = 2, d = −2; with σ = α = 1/2, l = 0 gives f(−1) = 1 > 1 − 2 = −1, and l = 1 gives f(0) = 0 = 1 − 1, equal:
    accepted, t = 1/2, and the optimizer lands on the minimum 0."""
    from tinygrad_edu import optim

    w = Value(np.array([1.0]))
    opt = optim.Armijo([w], sigma=0.5, alpha=0.5)
    opt.step(lambda: (w * w).sum())
    assert opt.last_step_size == 0.5 and not opt.last_failed
    assert w.data.tolist() == [0.0]


def test_random_search_keeps_a_change_only_if_the_cost_got_smaller():
    """Guard, seed 5: keep the guess if "the average cost is smaller than the previous cost": a change that leaves
    the cost equal (a cost that does not depend on the parameter) is rejected and the parameter restored."""
    from tinygrad_edu import optim

    w = Value(np.array([0.3]))
    opt = optim.RandomSearch([w], scale=0.1, rng=0)
    for _ in range(3):
        opt.step(lambda: (w * 0.0).sum() + 1.0)
    assert opt.accepted == 0 and opt.proposals == 3
    assert w.data.tolist() == [0.3]
