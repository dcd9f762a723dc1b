"""The optimizers at their edges, as a training engineer pushes them: frozen parameters in Newton's method, a flat
search direction for the Armijo rule, a damaged RandomSearch state, and PyTorch's ways of passing parameters.

Every number expected here is worked out by hand (closed forms), never taken from the code's own output."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import Value, nn, optim


def test_newton_leaves_a_frozen_parameter_alone_as_the_other_optimizers_do():
    """C = Σ(xᵢ − 1)² + Σxᵢ·y with y = 2 frozen: H = 2I, g = 2(x − 1) + 2, so one undamped Newton step lands on the
    minimum x = 0; y, which needs no gradient, stays 2 (GradientDescent and Armijo skip it)."""
    x, y = Value([3.0, 0.5]), Value([2.0], requires_grad=False)
    opt = optim.Newton([y, x])
    opt.step(lambda: ((x - 1.0) ** 2).sum() + (x * y).sum())
    np.testing.assert_allclose(x.data, [0.0, 0.0], atol=1e-12)
    np.testing.assert_array_equal(y.data, [2.0])
    assert y.grad is None and opt.last_step_size == 1.0


@pytest.mark.parametrize("direction", [[0.0, 1.0], [0.0, 0.0]], ids=["orthogonal", "zero"])
def test_armijo_step_refuses_a_flat_direction_where_the_gradient_is_not_zero(direction):
    """f(p) = p₀² at x = (1, 0): ∇f = (2, 0).  Along d = (0, 1) f stays 1, and the condition f(x + td) ≤ f(x) + σt·0
    held with no decrease at all: t = 1 was reported as an Armijo step.  Like an uphill d, it is no descent
    direction."""
    with pytest.raises(ValueError, match=r"^armijo_step: direction is no descent direction: ∇f\(x\)ᵀd = 0"):
        optim.armijo_step(lambda p: float(p[0] ** 2), np.array([1.0, 0.0]), np.array([2.0, 0.0]), sigma=0.5,
                          alpha=0.5, direction=np.array(direction))


def test_armijo_step_along_the_negative_gradient_is_unchanged_by_the_flat_direction_check():
    """Without a direction given, d = −∇f: at ∇f = 0 the search still ends with no step (x + t·d = x), and at
    x = 1 of f = x² the step is the closed form's."""
    found = optim.armijo_step(lambda p: float(p @ p), np.array([0.0]), np.array([0.0]), sigma=0.5, alpha=0.5)
    assert found.step is None and found.trials == [(1.0, 0.0)]
    found = optim.armijo_step(lambda p: float(p @ p), np.array([1.0]), np.array([2.0]), sigma=0.25, alpha=0.5)
    assert found.step == 0.5  # φ(1) = 1 > 1 − 0.25·4, φ(½) = 0 ≤ 1 − 0.125·4


def test_a_random_search_state_keeping_more_changes_than_it_tried_is_refused_and_changes_nothing():
    x = Value([1.0])
    saved = optim.RandomSearch([x], rng=0)
    saved.step(lambda: (x * x).sum())
    state = {**saved.state_dict(), "accepted": np.array(5), "proposals": np.array(1)}
    opt = optim.RandomSearch([x], scale=0.5, rng=1)
    before = opt.rng.bit_generator.state
    with pytest.raises(ValueError, match=r"^RandomSearch\.load_state_dict: 'accepted' is 5, more than 'proposals'"):
        opt.load_state_dict(state)
    assert (opt.accepted, opt.proposals, opt.scale) == (0, 0, 0.5) and opt.rng.bit_generator.state == before


@pytest.mark.parametrize("given, says", [
    (lambda net: net.named_parameters(), r"params holds \(name, Value\) pairs, as named_parameters\(\) gives: pass "
                                         r"model\.parameters\(\)"),
    (lambda net: dict(net.named_parameters()), r"params is a dict of 2 entries; pass its Values, "
                                               r"list\(params\.values\(\)\)"),
], ids=["named_parameters", "dict"])
def test_named_parameters_and_a_dict_of_them_are_told_what_to_pass(given, says):
    """A PyTorch user's SGD(model.named_parameters(), ...) was told there are no parameter groups (it passed
    none), and a dict of the parameters "every parameter must be a Value, got str" (its keys)."""
    net = nn.Layer(2, 1, activation="identity", rng=0)
    with pytest.raises(TypeError, match=rf"^SGD: {says}"):
        optim.SGD(given(net), 0.1)


def test_adam_counts_steps_per_parameter_in_float32_against_the_closed_form():
    """Adam's bias correction uses each parameter's own k (PyTorch's state['step']): b has a gradient only from the
    second step, so its first update is η·g/(|g| + ε); a is float32 and follows the closed form to float32
    precision."""
    a, b = Value(np.array([1.0, -2.0], dtype=np.float32)), Value([2.0])
    opt = optim.Adam([a, b], learning_rate=0.1, betas=(0.8, 0.99), eps=1e-6)
    opt.step(lambda: (a * a * a).sum())
    opt.step(lambda: (a * a * a).sum() + (b * b).sum())
    xa, m, v = np.array([1.0, -2.0]), 0.0, 0.0
    for k in (1, 2):
        g = 3 * xa ** 2
        m, v = 0.8 * m + 0.2 * g, 0.99 * v + 0.01 * g * g
        xa = xa - 0.1 * (m / (1 - 0.8 ** k)) / (np.sqrt(v / (1 - 0.99 ** k)) + 1e-6)
    np.testing.assert_allclose(a.data, xa, rtol=1e-6)
    assert a.dtype == np.float32
    np.testing.assert_allclose(b.data, [2.0 - 0.1 * 4.0 / (4.0 + 1e-6)], rtol=1e-14)


def test_armijo_stops_by_the_rule_only_at_a_zero_gradient_not_at_one_whose_square_underflows():
    """C = 1e-170·x: ∇C = 1e-170 ≠ 0, but −‖∇C‖² underflows to 0, and that was taken for the STOP ‖∇f‖ = 0: no
    step, no failure, and fit ran every episode doing nothing.  x − t·1e-170 rounds to x for every t ≤ 1, so the
    search fails honestly (a warning, last_failed), and fit stops with 'no descent step'."""
    x = Value([1.0])
    opt = optim.Armijo([x])
    with pytest.warns(RuntimeWarning, match=r"changes no parameter"):
        opt.step(lambda: (x * 1e-170).sum())
    assert opt.last_failed and opt.last_slope == 0.0 and x.data.tolist() == [1.0]
    y = Value([0.0])
    opt = optim.Armijo([y])
    opt.step(lambda: (y * y).sum())  # ∇C = 2y = 0 exactly: the seed's STOP, no warning
    assert not opt.last_failed and opt.last_step_size == 0.0


def test_a_gradient_whose_slope_underflows_is_no_stop_and_no_flat_direction():
    """∇f = 1e-170, d = −∇f: ∇fᵀd = −1e-340 underflows to 0.  armijo_step took d for a flat direction (a ValueError),
    and Newton for the STOP ∇f = 0; both now search, and x − t·1e-170 rounds to x: no step, said so."""
    found = optim.armijo_step(lambda p: float(1e-170 * p[0]), np.array([1.0]), np.array([1e-170]), sigma=0.5,
                              alpha=0.5, direction=np.array([-1e-170]))
    assert found.step is None and len(found.trials) == 1
    x = Value([1.0])
    opt = optim.Newton([x])
    with pytest.warns(RuntimeWarning, match=r"changes no parameter"):
        opt.step(lambda: (x * 1e-170).sum())  # H = 0: the direction falls back to −∇C
    assert opt.last_failed and x.data.tolist() == [1.0]
    with pytest.raises(ValueError, match=r"∇f\(x\)ᵀd = 0 where ∇f\(x\) ≠ 0"):  # a flat direction is still refused
        optim.armijo_step(lambda p: float(p @ p), np.array([1.0, 0.0]), np.array([1e-170, 0.0]), sigma=0.5,
                          alpha=0.5, direction=np.array([0.0, 1e-170]))
