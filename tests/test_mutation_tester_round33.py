"""Mutation tester, round 33: tests that kill mutants of this round's changed code which survived the existing tests.

Each test pins behaviour a user can see; expected numbers are worked out by hand or by closed forms.
"""
from __future__ import annotations

import copy
import os
import signal

import numpy as np
import pytest

from tinygrad_edu import Value, optim
from tinygrad_edu import functional as F
from tinygrad_edu.autodiff import hvp, value_and_grad
from tinygrad_edu.nn import Layer
from tinygrad_edu.player import forward_formula


def test_ctrl_c_during_gradient_descent_updates_every_parameter_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Ctrl-C arriving while GradientDescent.step updates: KeyboardInterrupt only after every parameter moved
    (kills: the hold skipped, the held Ctrl-C never raised, the first Ctrl-C raised at once)."""
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("Ctrl-C is not Python's own KeyboardInterrupt here")
    class PressedWhileUpdated(Value):  # (the first parameter's update p -= η·g: Ctrl-C arrives in the update)
        def __isub__(self, other):
            os.kill(os.getpid(), signal.SIGINT)
            return super().__isub__(other)

    a, b = PressedWhileUpdated([1.0, 2.0]), Value(3.0)
    opt = optim.GradientDescent([a, b], learning_rate=0.1)
    with pytest.raises(KeyboardInterrupt):
        opt.step(lambda: (a * a).sum() + b * b)  # gradients 2a = [2, 4], 2b = 6
    np.testing.assert_allclose(a.data, [1.0 - 0.2, 2.0 - 0.4])
    np.testing.assert_allclose(b.data, 3.0 - 0.6)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


def test_newton_learning_rate_under_another_name_is_refused() -> None:
    """Newton has no learning rate: opt.eta = 0.1 is an AttributeError saying so, not an attribute no step reads."""
    x = Value([1.0, 2.0])
    opt = optim.Newton([x])
    with pytest.raises(AttributeError, match="no learning rate"):
        opt.eta = 0.1
    assert "eta" not in vars(opt)


def test_armijo_accepts_a_step_whose_decrease_underflows_to_zero() -> None:
    """σ·t·∇fᵀd underflowing to 0 (a gradient of 1e-200): a trial of equal cost is judged by the rule as written,
    f(x + t·d) <= f(x) + 0, and accepted (the docstring: 'one that underflows to 0 is judged as before')."""
    gradient = np.array([1e-200])
    step = optim.armijo_step(lambda p: 1.0, np.array([0.0]), gradient, sigma=1e-4, alpha=0.5)
    assert step.step == 1.0


def test_sgd_momentum_switched_off_then_on_restarts_the_velocity() -> None:
    """SGD with momentum 0 keeps no velocity (v ← 0·v + ∇C), so switched back on it starts from the gradient.
    C = x²/2, ∇C = x; η = 0.1, μ = 0.5: x 1 → 0.9 (v = 1) → 0.81 (μ = 0) → v = 0.81 (fresh), x = 0.729."""
    x = Value(1.0)
    opt = optim.SGD([x], learning_rate=0.1, momentum=0.5)

    def cost() -> Value:
        return x * x * 0.5

    opt.step(cost)
    assert x.data == pytest.approx(0.9)
    opt.momentum = 0.0
    opt.step(cost)
    assert x.data == pytest.approx(0.81)
    opt.momentum = 0.5
    opt.step(cost)
    assert x.data == pytest.approx(0.81 - 0.1 * 0.81)  # a kept velocity of 1 would give 0.81 - 0.1 * 1.31


def test_functional_minimum_advice_is_a_formula_that_gives_the_minimum() -> None:
    """F.minimum is refused with a formula; that formula, evaluated, is the elementwise minimum."""
    with pytest.raises(AttributeError) as info:
        F.minimum  # noqa: B018
    assert "-F.maximum(-a, -b)" in str(info.value)
    a, b = Value([1.0, 5.0, -2.0]), Value([3.0, 4.0, -7.0])
    np.testing.assert_array_equal((-F.maximum(-a, -b)).data, [1.0, 4.0, -7.0])


def test_player_writes_an_ellipsis_index_as_python_does() -> None:
    x = Value(np.arange(6.0).reshape(2, 3))
    assert forward_formula(x[..., 1], ["x"]) == "x[..., 1]"


def test_hvp_of_value_and_grad_says_the_tuple_is_the_transforms() -> None:
    """hvp(value_and_grad(f), x, v): the pair is value_and_grad's, not a has_aux pair of f's own."""
    f = value_and_grad(lambda x: (x * x).sum())
    with pytest.raises(TypeError, match=r"the pair \(value, gradient\) that value_and_grad\(f\) returns"):
        hvp(f, np.array([1.0, 2.0]), np.array([1.0, 0.0]))


class _TaggedLayer(Layer):
    __slots__ = ("tag",)


def test_a_layer_subclass_with_slots_copies_its_slots() -> None:
    layer = _TaggedLayer(2, 1, activation="tanh")
    layer.tag = "encoder"
    for copied in (copy.copy(layer), copy.deepcopy(layer)):
        assert copied.tag == "encoder"
        assert copied.activation_name == "tanh"


def test_step_sizes_that_are_powers_of_two_over_decades_keep_a_base_2_axis() -> None:
    """Armijo's steps 2⁰ … 2⁻¹² (many, over three decades) are labelled in base 2; other rates over decades, 10."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from tinygrad_edu import plots

    for steps, base in ((2.0 ** -np.arange(13), 2), (0.1 * 0.7 ** np.arange(20), 10)):
        ax = Figure().add_subplot()
        ax.plot(np.arange(steps.size), steps)
        plots._step_size_axis(ax, steps)
        assert ax.yaxis.get_transform().base == base
