"""Round 42, optimizers against their formulas and PyTorch: what a reviewer-fixer found wrong, each checked here."""

import math
import warnings

import numpy as np
import pytest

from tinygrad_edu import Value, detect_anomaly, optim


@pytest.mark.parametrize("make", [
    lambda p: optim.GradientDescent(p, learning_rate=1e300),
    lambda p: optim.SGD(p, learning_rate=1e300, momentum=0.5),
    lambda p: optim.Adam(p, learning_rate=1e300, eps=1e-300),
], ids=["GradientDescent", "SGD", "Adam"])
def test_a_step_refused_under_detect_anomaly_is_no_step_the_retry_repeats(make):
    # under detect_anomaly an update to inf is refused and undone; the same gradients with a smaller learning rate
    # (what the error advises) are then a first step, not "the gradients the previous step used"
    a, b = Value([1.0]), Value([1.0])
    opt = make([a, b])
    a.grad, b.grad = np.array([1.0]), np.array([1e10])
    with detect_anomaly(), pytest.raises(FloatingPointError):
        opt.step()
    assert a.data.tolist() == [1.0] and b.data.tolist() == [1.0]
    opt.learning_rate = 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
    assert a.data[0] < 1.0 and b.data[0] < 1.0


def test_newton_with_every_parameter_frozen_says_they_are_frozen():
    # as Armijo's and SGD's closures say it: not "computed outside no_grad", which the cost was
    x = Value([1.0, 2.0])
    opt = optim.Newton([x])
    x.requires_grad = False
    with pytest.raises(TypeError, match=r"^Newton\.step: .*depends on the parameters, .*; 1 of them are frozen "
                                        r"\(requires_grad=False\)$"):
        opt.step(lambda: (x * x).sum())
    assert x.data.tolist() == [1.0, 2.0]
    x.requires_grad = True
    with pytest.raises(TypeError, match=r"from numbers such as a parameter's \.data instead of the parameter$"):
        opt.step(lambda: Value((x.data * x.data).sum(), requires_grad=False))
    with pytest.raises(TypeError, match=r"a Value of size 1 .*, got Value \(2,\)$"):
        opt.step(lambda: x * x)


@pytest.mark.parametrize("cls", [optim.Armijo, optim.Newton])
def test_max_backtracks_is_one_a_state_file_can_hold(cls):
    # 10**30 ("no limit") was taken, and state_dict() then refused it as "not a number, a bool, text or a tuple"
    x = Value([1.0])
    with pytest.raises(ValueError, match=rf"^{cls.__name__}: max_backtracks must be an integer from 0 to "
                                         r"9223372036854775807, got "):
        cls([x], max_backtracks=10**30)
    opt = cls([x], max_backtracks=2**63 - 1)  # the largest a state file holds: saved and loaded exactly
    opt.step(lambda: (x * x).sum())
    state = opt.state_dict()
    again = cls([x])
    again.load_state_dict(state)
    assert again.max_backtracks == 2**63 - 1
    with pytest.raises(ValueError, match="max_backtracks"):
        opt.max_backtracks = 2**63
    assert opt.max_backtracks == 2**63 - 1


def _largest_armijo_step_for_exp_at_400(sigma, alpha, max_backtracks):
    """f(x) = eˣ at x = 400 along d = −f′(x) = −e⁴⁰⁰: with u = t·e⁴⁰⁰ the condition e^(400 − u) ≤ e⁴⁰⁰ − σ·t·e⁸⁰⁰ is
    e^(−u) ≤ 1 − σu (both sides divided by e⁴⁰⁰), which no float overflows in; the largest t = αˡ meeting it."""
    for backtracks in range(max_backtracks + 1):
        t = alpha**backtracks
        u = t * math.exp(400.0)
        if math.exp(-u) <= 1 - sigma * u:
            return t
    return None


def test_armijo_finds_its_step_where_the_slope_overflows_a_float():
    # ‖∇f‖² = e⁸⁰⁰ overflows: σ·t·∇fᵀd was −inf for every t, so no step was ever accepted ("none decreased the cost
    # enough"), where t ≈ 1.7e-170 meets the condition with room to spare; numpy's overflow warnings leaked too
    expected = _largest_armijo_step_for_exp_at_400(1e-4, 0.5, 1000)
    assert expected is not None and 1e-171 < expected < 1e-169
    found = optim.armijo_step(lambda p: float(np.exp(p[0])), np.array([400.0]), np.array([math.exp(400.0)]),
                              sigma=1e-4, alpha=0.5, max_backtracks=1000)
    assert found.step == expected
    x = Value([400.0])
    opt = optim.Armijo([x], max_backtracks=1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step(lambda: x.exp().sum())
    assert opt.last_step_size == expected and not opt.last_failed
    assert x.data[0] == 400.0 - expected * math.exp(400.0)
    assert opt.last_cost == math.exp(x.data[0]) < math.exp(400.0)


def test_adams_update_that_underflows_is_no_error_under_a_callers_errstate_raise():
    # η·g of a gradient of 1e-310 (σ′(z) of a sigmoid saturated at z ≈ −710) underflows: Adam's update ignores it
    # under np.errstate(all="raise") too, now with one errstate instead of two (gradient descent and SGD keep the
    # caller's error state: an errstate per step would cost the x² update about 1 %)
    a, b = Value([1.0]), Value([1.0, 2.0])
    opt, twin = optim.Adam([a, b], learning_rate=0.1), optim.Adam([Value([1.0]), Value([1.0, 2.0])], learning_rate=0.1)
    a.grad, b.grad = np.array([0.5]), np.array([1e-310, 1.0])
    twin.params[0].grad, twin.params[1].grad = a.grad.copy(), b.grad.copy()
    with np.errstate(all="raise"):
        opt.step()
    with np.errstate(under="ignore"):
        twin.step()
    assert a.data.tolist() == twin.params[0].data.tolist() and a.data[0] < 1.0
    assert b.data.tolist() == twin.params[1].data.tolist() and b.data[1] < 2.0


@pytest.mark.parametrize("make", [
    lambda p: optim.GradientDescent(p, learning_rate=0.1),
    lambda p: optim.SGD(p, learning_rate=0.1, momentum=0.9),
    lambda p: optim.Adam(p, learning_rate=0.1),
], ids=["GradientDescent", "SGD", "Adam"])
def test_a_read_only_parameter_is_refused_before_anything_changes(make):
    # p.data = a keeps a read-only a: the update of the first parameter was made, then the second failed, and Adam
    # had counted a step (and kept averages) for the parameter that did not move
    a, b = Value([1.0]), Value([1.0, 2.0])
    opt = make([a, b])
    b.data = np.broadcast_to(np.array([1.0, 2.0]), (2,))
    a.grad, b.grad = np.array([0.5]), np.array([1.0, 1.0])
    with pytest.raises(ValueError, match=r"^\w+\.step: parameter 1 \(shape \(2,\)\) holds read-only numbers .*"
                                         r"p\.data = p\.data\.copy\(\); the parameters are unchanged$"):
        opt.step()
    assert a.data.tolist() == [1.0] and b.data.tolist() == [1.0, 2.0]
    assert opt.state_dict().keys() == make([Value([1.0]), Value([1.0, 2.0])]).state_dict().keys()  # no state kept
    b.data = b.data.copy()  # what the message says
    opt.step()
    assert a.data[0] < 1.0 and (b.data < [1.0, 2.0]).all()


def test_armijo_takes_a_gradient_whose_squares_underflow_under_a_callers_errstate_raise():
    # ‖∇f‖² = 2e-320 underflows: under np.errstate(all="raise") Armijo.step failed with numpy's bare "underflow
    # encountered in matmul" before trying a step, though the step t = 1e160 lands on the minimum: f(0) = 0 and
    # f(x) + σ·t·∇fᵀd = 2e-160 − 1e-4·1e160·2e-320 = 1.9998e-160
    x = Value([1.0, 1.0])
    opt = optim.Armijo([x], initial_step=1e160)
    with np.errstate(all="raise"):
        opt.step(lambda: (x * 1e-160).sum())
    assert opt.last_step_size == 1e160 and not opt.last_failed
    assert x.data.tolist() == [0.0, 0.0]
    with np.errstate(all="raise"):
        found = optim.armijo_step(lambda p: float(p.sum() * 1e-160), np.array([1.0, 1.0]), np.array([1e-160, 1e-160]),
                                  sigma=1e-4, alpha=0.5, initial_step=1e160)
    assert found.step == 1e160
