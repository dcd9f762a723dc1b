"""Mutation tester, round 34: tests that kill the mutants of this round's changed code that survived its tests.

Each test pins behaviour a user can see, with numbers worked out by hand or in closed form: Newton's step where the
Hessian has flat or weakly curved directions and its warning for many parameters, the stationary point of a cost of
large x, and how the drawings' numbers are written (``notation.value_summary``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings

import numpy as np
import pytest

from tinygrad_edu import Value, calculus, losses, nn, no_grad, notation, optim
from tinygrad_edu.training import fit

# --- Newton: flat and weakly curved directions -------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_newton_on_softmax_logits_leaves_their_mean_alone(seed: int) -> None:
    """Adding one number to every logit changes no softmax: H's eigenvalue along (1, …, 1) is 0 but for rounding
    (+3.6e-17 for seed 0), so the shortest Newton step has no part along it and the logits' mean stays put (a solve
    through that rounding moved it by O(1))."""
    z0 = np.random.default_rng(seed).standard_normal(4)
    z = Value(z0.copy())
    opt = optim.Newton([z], damping=0)
    cost = lambda: losses.cross_entropy(z.reshape(1, 4), np.array([1]))  # noqa: E731
    before = float(cost())
    opt.step(cost)
    assert not opt.last_fallback
    assert abs(z.data.mean() - z0.mean()) < 1e-9
    assert float(cost()) < before


def test_newton_falls_back_to_minus_g_where_the_cost_is_linear_along_a_flat_direction() -> None:
    """C = (x + y)²/2 + x: H = [[1, 1], [1, 1]] (eigenvalue 0 along (1, −1)), and at (0, 0) g = (1, 0) has a part
    along it (C falls without end there): no Newton step exists, so d = −g = (−1, 0) and y stays 0."""
    x, y = Value(0.0), Value(0.0)
    opt = optim.Newton([x, y], damping=0)
    opt.step(lambda: (x + y) ** 2 / 2 + x)
    assert opt.last_fallback
    assert y.data == 0.0 and x.data < 0.0


def test_newton_falls_back_to_minus_g_at_a_weak_saddle() -> None:
    """C = (x − 1)² − 1e-11·y² at (0, 1): H = diag(2, −2e-11) is not positive definite (its negative eigenvalue is
    small, but far above rounding), so with damping=0 the step is −g = (2, 2e-11): y grows, never towards the saddle's
    y = 0 where the Newton step (1, −1) would go."""
    x, y = Value(0.0), Value(1.0)
    opt = optim.Newton([x, y], damping=0)
    opt.step(lambda: (x - 1.0) ** 2 - 1e-11 * y ** 2)
    assert opt.last_fallback
    assert y.data >= 1.0


def test_newton_minimises_an_ill_conditioned_quadratic_in_one_step() -> None:
    """C = (x − 1)² + 1e-11·(y − 3)² (condition number 1e11, far from rounding): one Newton step lands on (1, 3)."""
    x, y = Value(0.0), Value(0.0)
    opt = optim.Newton([x, y], damping=0)
    opt.step(lambda: (x - 1.0) ** 2 + 1e-11 * (y - 3.0) ** 2)
    assert not opt.last_fallback and opt.last_step_size == 1.0
    np.testing.assert_allclose([x.data, y.data], [1.0, 3.0], rtol=1e-9)


# --- Newton: the warning for many parameters -----------------------------------------------------------------------


def test_newton_warns_above_many_parameters_not_at_them_and_once_per_count() -> None:
    """MANY_PARAMETERS is the most that passes without a word; the warning comes once per number of parameters."""
    w = Value(np.zeros(3))
    opt = optim.Newton([w])
    opt.MANY_PARAMETERS = 3
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        opt.step(lambda: ((w - 1.0) ** 2).sum())  # 3 parameters: no warning
    np.testing.assert_allclose(w.data, 1.0)
    opt.MANY_PARAMETERS = 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        opt.step(lambda: ((w - 2.0) ** 2).sum())
        opt.step(lambda: ((w - 3.0) ** 2).sum())  # the same 3 parameters: said once
    messages = [str(c.message) for c in caught if issubclass(c.category, RuntimeWarning)]
    assert len(messages) == 1 and messages[0].startswith("Newton.step: 3 parameters"), messages
    np.testing.assert_allclose(w.data, 3.0)


def test_newton_warning_gives_the_hessians_size_in_megabytes() -> None:
    """2,000 parameters: H holds 2,000² float64 numbers, 8 · 4e6 bytes = 32 MB."""
    w = Value(np.zeros(2000))
    opt = optim.Newton([w])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(RuntimeWarning, match=r"2,000 × 2,000 numbers \(32 MB"):
            opt.step(lambda: ((w - 1.0) ** 2).sum())
    assert not w.data.any()


# --- stationary_point far from 0 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("c", [1e13, 7.3e15])
def test_stationary_point_converges_at_a_minimum_far_out(c: float) -> None:
    """f(x) = 1e6 · (e^(x/c) − e·x/c): f′ = 0 at x = c, f″ = 1e6·e/c² > 0.  Near x = 1e13 the last Newton steps are
    a few roundings of x (spacing 0.002, or 1 at 7.3e15), above 1e-3: still converged, a minimum at c."""
    point = calculus.stationary_point(lambda x: ((x * (1 / c)).exp() - math.e * x * (1 / c)).sum() * 1e6, [1.1 * c])
    assert point.kind == "minimum"
    assert abs(float(point.point[0]) - c) <= 1e-12 * c


# --- notation.value_summary ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("x", [0.123456789, -2.718281828, 123456.7, 99999.99999, 3.0])
def test_value_summary_is_summary_for_a_number_not_rounded_to_a_whole_one_it_is_not(x: float) -> None:
    """Only a number written as a whole number it is not (below 10^precision) gets more digits: the others read as
    summary writes them (0.1235, not 0.123456789)."""
    assert notation.value_summary(x) == notation.summary(x)


@pytest.mark.parametrize("x", [1 - 2 ** -52, 1 + 2 ** -52, -(1 - 2 ** -53), 0.9999999984, 41.99999999999])
def test_value_summary_writes_a_number_next_to_a_whole_one_with_the_digits_it_takes(x: float) -> None:
    """1 − 2⁻⁵² is written with 16 digits, 0.9999999999999998, which reads back as itself: never 1."""
    text = notation.value_summary(x)
    assert not float(text).is_integer(), text
    assert len(text.lstrip("-").replace(".", "").lstrip("0")) <= 17
    if abs(x - round(x)) < 1e-12:
        assert float(text) == x, text


# --- fit: an optimizer of one's own whose last_step_size is a Value or a numpy integer --------------------------------


class _Halving(optim.GradientDescent):
    """Its rate is a Value halved in place after every step, and reported as the step size."""

    def step(self, closure: object = None, *, cost: object = None) -> object:
        out = super().step(closure, cost=cost)  # type: ignore[arg-type]
        with no_grad():
            self.rate *= 0.5
        self.last_step_size = self.rate
        return out


class _Counting(optim.GradientDescent):
    """Reports the number of its steps so far, a numpy integer, as the step size."""

    def step(self, closure: object = None, *, cost: object = None) -> object:
        out = super().step(closure, cost=cost)  # type: ignore[arg-type]
        self.count = getattr(self, "count", 0) + 1
        self.last_step_size = np.int64(self.count)
        return out


def test_fit_records_each_episodes_own_step_size_of_a_value_changed_in_place() -> None:
    """The rate 0.8 halved after each step: 0.4, 0.2, 0.1 (full batch); 5 samples in batches of 2 are 3 steps an
    episode, so 0.1 / 2³ and 0.1 / 2⁶ next.  Each a float, not the one Value, changed in place, three times over."""
    x = np.linspace(-1.0, 1.0, 5).reshape(-1, 1)
    net = nn.MLP([1, 1], activation="identity", rng=0)
    opt = _Halving(net.parameters(), learning_rate=0.1)
    opt.rate = Value(0.8, requires_grad=False)
    history = fit(net, x, 2 * x, optimizer=opt, episodes=3, progress=False)
    assert history.step_size == [0.4, 0.2, 0.1] and all(type(s) is float for s in history.step_size)
    history = fit(net, x, 2 * x, optimizer=opt, episodes=2, batch_size=2, progress=False)
    assert history.step_size == [0.1 / 8, 0.1 / 64] and all(type(s) is float for s in history.step_size)


def test_fit_records_a_numpy_integer_step_size_as_a_float_that_json_saves() -> None:
    x = np.linspace(-1.0, 1.0, 4).reshape(-1, 1)
    net = nn.MLP([1, 1], activation="identity", rng=0)
    history = fit(net, x, x, optimizer=_Counting(net.parameters(), learning_rate=0.1), episodes=3, progress=False)
    assert history.step_size == [1.0, 2.0, 3.0] and all(type(s) is float for s in history.step_size)
    assert json.loads(json.dumps(dataclasses.asdict(history)))["step_size"] == [1.0, 2.0, 3.0]


# --- fit: NaN in whole columns ------------------------------------------------------------------------------------


def _fit_error(inputs: np.ndarray) -> str:
    net = nn.MLP([inputs.shape[1], 1], activation="identity", rng=0)
    with pytest.raises(ValueError) as caught:
        fit(net, inputs, np.zeros((len(inputs), 1)), optimizer=optim.GradientDescent(net.parameters(), 0.1),
            episodes=1, progress=False)
    return str(caught.value)


def test_fit_names_one_nan_column_in_the_singular_and_many_by_their_first_five() -> None:
    one = np.ones((4, 3))
    one[:, 1] = np.nan
    assert "; column 1 holds them in every sample: " in _fit_error(one)
    seven = np.ones((4, 9))
    seven[:, 1:8] = np.nan
    assert "; columns 1, 2, 3, 4, 5 and 2 more hold them in every sample: " in _fit_error(seven)


def test_fit_says_to_leave_out_the_sample_when_there_is_only_one() -> None:
    """One sample whose numbers are all NaN: no column is NaN in every sample of several; the sample is at fault."""
    message = _fit_error(np.full((1, 3), np.nan))
    assert "leave those samples out" in message and "every sample" not in message


# --- nn: the uniform init's biases, model.requires_grad ---------------------------------------------------------------


def test_uniform_init_draws_the_biases_as_the_seeds_layer_does() -> None:
    """The seed's Layer: weights and biases both np.random.rand, uniform in [0, 1): no bias is 0."""
    biases = nn.Layer(3, 50, init="uniform", rng=0).biases.data
    assert ((biases > 0) & (biases < 1)).all() and len(np.unique(biases)) == 50


def test_setting_requires_grad_on_a_module_is_refused_and_freezes_nothing() -> None:
    net = nn.MLP([2, 3, 1], rng=0)
    with pytest.raises(AttributeError, match=r"requires_grad_\(False\)"):
        net.requires_grad = False  # type: ignore[misc]
    assert all(p.requires_grad for p in net.parameters()) and len(net.parameters()) == 4
