"""Bad arguments found by fuzzing the upper modules (optim, training, data, serialization, viz, plots, player,
dependency_tree) one argument at a time with values test_api_misuse.py does not try: a string where a flag is
meant, complex numbers, huge ints, settings that a call ignores.  Each must be a TypeError/ValueError naming the
function and the argument at fault, at once: not accepted silently, cut to its real part or run for ever."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import matplotlib
import numpy as np
import pytest

from tinygrad_edu import Value, plots, viz
from tinygrad_edu.calculus import stationary_point
from tinygrad_edu.losses import squared_error
from tinygrad_edu.nn import Layer, Network

matplotlib.use("Agg")


def quadratic(x: Any) -> Any:
    return (x * x).sum()


def chain_cost() -> Value:
    net = Network(Layer(1, 1, "sigmoid", rng=0), Layer(1, 1, "sigmoid", rng=1))
    cost = squared_error(net(np.array([0.5])), np.array([0.25]))
    cost.backward()
    return cost


@pytest.fixture(autouse=True)
def close_figures() -> Any:
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


def fails_by_name(call: Callable[[], Any], error: type[Exception], *words: str) -> None:
    """``call()`` raises ``error`` (no warning first) and its message holds every one of ``words``."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(error) as raised:
            call()
    assert all(word in str(raised.value) for word in words), str(raised.value)


@pytest.mark.parametrize("wrong", ["no", 0, None, np.array([])], ids=["'no'", "0", "None", "empty array"])
def test_player_html_use_hash_must_be_a_flag(wrong: Any) -> None:
    player = viz.backprop_player(chain_cost())
    fails_by_name(lambda: player.html(use_hash=wrong), TypeError, "BackpropPlayer.html", "use_hash")


@pytest.mark.parametrize(("function", "call"), [
    ("descent_path", lambda name, wrong: plots.descent_path(quadratic, [1.0, -1.0], 0.1, steps=2, **{name: wrong})),
    ("plot_descent", lambda name, wrong: plots.plot_descent(quadratic, [1.0, -1.0], 0.1, steps=2, resolution=4,
                                                            levels=3, **{name: wrong})),
    ("plot_learning_rates", lambda name, wrong: plots.plot_learning_rates(
        quadratic, [1.0, -1.0], {"slow": 0.1}, steps=2, armijo=False, resolution=4, **{name: wrong})),
], ids=["descent_path", "plot_descent", "plot_learning_rates"])
@pytest.mark.parametrize(("name", "wrong", "error"), [
    ("sigma", "abc", TypeError), ("sigma", float("nan"), ValueError), ("alpha", 2.0, ValueError),
], ids=["sigma='abc'", "sigma=nan", "alpha=2"])
def test_armijo_constants_are_checked_with_a_fixed_learning_rate(function: str, call: Callable[..., Any], name: str,
                                                                 wrong: Any, error: type[Exception]) -> None:
    fails_by_name(lambda: call(name, wrong), error, function, name)


@pytest.mark.parametrize(("function", "name", "call"), [
    ("plot_activations", "x_range", lambda: plots.plot_activations(["relu"], x_range=np.array([-1 + 1j, 1 + 0j]))),
    ("plot_derivatives", "x_range", lambda: plots.plot_derivatives(lambda x: x * x, 1, points=11,
                                                                   x_range=np.array([-1 + 1j, 1 + 0j]))),
    ("plot_descent", "bounds", lambda: plots.plot_descent(quadratic, [1.0, -1.0], steps=2, resolution=4, levels=3,
                                                          bounds=np.array([-2, 2, -2, 2 + 1j]))),
    ("plot_descent", "optimizer_or_steps", lambda: plots.plot_descent(
        quadratic, [1.0, -1.0], np.array([[1.0, -1.0], [0.5 + 1j, -0.5]]), resolution=4, levels=3)),
    ("plot_history", "run 1", lambda: plots.plot_history(np.array([3.0 + 1j, 2.0, 1.0]))),
], ids=["plot_activations-x_range", "plot_derivatives-x_range", "plot_descent-bounds",
        "plot_descent-path", "plot_history-costs"])
def test_complex_numbers_are_refused_not_cut_to_their_real_part(function: str, name: str,
                                                                call: Callable[[], Any]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises((TypeError, ValueError)) as raised:
            call()
    assert function in str(raised.value) and name in str(raised.value), str(raised.value)


@pytest.mark.parametrize(("function", "name", "call"), [
    ("plot_descent", "resolution", lambda: plots.plot_descent(quadratic, [1.0, -1.0], steps=1, resolution=10**5)),
    ("plot_descent", "levels", lambda: plots.plot_descent(quadratic, [1.0, -1.0], steps=1, resolution=4,
                                                          levels=10**7)),
    ("plot_stationary_points", "resolution", lambda: plots.plot_stationary_points(
        quadratic, [stationary_point(quadratic, [1.0, -1.0])], resolution=2**70)),
    ("plot_derivatives", "points", lambda: plots.plot_derivatives(lambda x: x * x, 1, points=10**9)),
], ids=["plot_descent-resolution", "plot_descent-levels", "plot_stationary_points-resolution",
        "plot_derivatives-points"])
def test_sizes_beyond_a_picture_are_refused_at_once(function: str, name: str, call: Callable[[], Any],
                                                   three_seconds: None) -> None:
    fails_by_name(call, ValueError, function, name)
