"""Round 29, dead code: what the deletions rely on, and branches found reachable but untested.

* ``optim._armijo_on_parameters`` no longer handles an empty list of parameters: Armijo and Newton stop before the
  line search when the gradient is 0, so the search always has a parameter to move.  The tests below pin that stop.
* ``plots._vector_text`` lost its ``shown`` parameter (always 6) and ``plots._draw_path`` its ``color`` (always the
  same red): the messages and the picture must look as before.
* Newton's fallback when ``H + λI`` is exactly singular in floating point (``np.linalg.solve`` raises), and
  ``graph.ancestors`` meeting a Value twice on its stack (a diamond), were reachable but reached by no test.
"""

import warnings

import numpy as np
import pytest

from tinygrad_edu import Value
from tinygrad_edu.graph import ancestors
from tinygrad_edu.optim import Armijo, Newton


# --- the line search is never entered without a gradient ---------------------------------------------------------
def test_armijo_at_a_zero_gradient_stops_before_any_trial():
    w = Value([0.0, 0.0])
    opt = Armijo([w])
    calls = []

    def closure():
        calls.append(1)
        return (w * w).sum()

    opt.step(closure)
    assert calls == [1]  # the forward pass of the step only: no trial of the line search
    assert opt.last_trials == [] and opt.last_backtracks == 0 and opt.last_step_size == 0.0
    assert not opt.last_failed
    np.testing.assert_array_equal(w.data, [0.0, 0.0])


def test_armijo_with_an_empty_parameter_beside_a_real_one_moves_the_real_one():
    empty, w = Value(np.zeros(0)), Value([2.0])
    opt = Armijo([empty, w])
    opt.step(lambda: (w * w).sum() + empty.sum())
    assert opt.last_step_size is not None and opt.last_step_size > 0
    assert abs(w.data[0]) < 2.0 and empty.shape == (0,)


def test_newton_at_a_zero_gradient_stops_before_any_trial():
    w = Value([0.0, 0.0])
    opt = Newton([w])
    opt.step(lambda: (w * w).sum())
    assert opt.last_step_size == 0.0 and not opt.last_failed and not opt.last_fallback
    np.testing.assert_array_equal(w.data, [0.0, 0.0])


# --- reachable but untested ------------------------------------------------------------------------------------
def test_newton_falls_back_to_minus_the_gradient_where_h_plus_damping_is_singular_in_floats():
    # H = [[2, 2], [2, 2]] has the eigenvalues 0 and 4: λ = 1e-300 vanishes next to 2, so H + λI is singular as
    # numpy computes it and solve raises LinAlgError; the step goes along −g instead
    w = Value([1.0, 2.0])
    opt = Newton([w], damping=1e-300)

    def cost():
        s = w[0] + w[1]
        return s * s

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step(cost)
    assert opt.last_fallback and opt.last_damping == 1e-300
    assert opt.last_step_size is not None and opt.last_step_size > 0
    assert float(cost().item()) < 9.0
    assert w.data[0] - 1.0 == pytest.approx(w.data[1] - 2.0)  # moved along −g = −(6, 6)


def test_ancestors_of_a_diamond_lists_each_value_once():
    x = Value(2.0)
    a, b = x * 3.0, x + 1.0
    top = a * b
    nodes = [top, a, b, x]
    found = ancestors(top, {id(n) for n in nodes}, set())
    assert sorted(map(id, found)) == sorted(map(id, nodes))
    assert len(found) == 4


# --- the same messages and the same picture after the parameters always given one value went ---------------------
def test_a_long_point_is_cut_after_five_numbers_in_messages():
    from tinygrad_edu.plots import plot_armijo

    with pytest.raises(ValueError, match=r"at x = \(1, 2, 3, 4, 5, …, 8\);"):
        plot_armijo(lambda p: (p * 0.0).sum(), np.arange(1.0, 9.0))
    with pytest.raises(ValueError, match=r"at x = \(1, 2, 3, 4, 5, 6\);"):
        plot_armijo(lambda p: (p * 0.0).sum(), np.arange(1.0, 7.0))


def test_a_descent_path_is_drawn_in_the_same_red():
    import matplotlib.colors as colors

    from tinygrad_edu.plots import plot_descent

    fig = plot_descent(lambda p: (p * p).sum(), [1.0, -1.0], 0.1, steps=3)
    path = [line for ax in fig.axes for line in ax.get_lines() if line.get_marker() == "o"]
    assert path and colors.to_hex(path[0].get_color()) == "#ff5050"


def test_dataset_not_equal_is_the_negation_of_equal_array_by_array():
    # __ne__ looks redundant (Python derives != from ==) but is not: Dataset is a tuple, and tuple's own __ne__
    # would ask numpy for the truth of an array
    from tinygrad_edu.data import Dataset

    a = Dataset([[1.0, 2.0], [3.0, 4.0]], [0, 1])
    same = Dataset([[1.0, 2.0], [3.0, 4.0]], [0, 1])
    other = Dataset([[1.0, 2.0], [3.0, 5.0]], [0, 1])
    assert (a != same) is False and (a != other) is True
    assert (a != 3) is True and (a != (a.inputs,)) is True  # not comparable: NotImplemented, then identity
