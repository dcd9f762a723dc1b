"""An engineer using non-smooth and piecewise operations: relu, abs, leaky_relu, maximum, max/min with ties, clipping
by the advised formulas, rounding, sorting by indexing, hinge and Huber losses written by hand; the derivative the
engine gives at each kink, to first and second order, and check_gradients' words there.

xfail tests failed before their fix: PyTorch's costs with a kink (l1_loss, huber_loss, smooth_l1_loss,
hinge_embedding_loss), looked for in functional or losses, said nothing of what to write; v.round(), v.floor(),
np.floor(v), … named no formula (np.round's none for a gradient to pass: the straight-through estimator), v.sign()
nothing; the clamp advice did not say that its maximum passes ½ of the gradient at a bound, where PyTorch's clamp
passes all of it; F.hardtanh, F.relu6, v.sort() and v.topk() said nothing."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses
from tinygrad_edu.autodiff import grad, hessian
from tinygrad_edu.testing import GradientCheckError, check_gradients


def _message(action) -> str:
    with pytest.raises((AttributeError, TypeError)) as caught:
        action()
    return str(caught.value)


def _call_from(text: str, start: str) -> str:
    """The call in ``text`` beginning with ``start`` (which ends with its opening bracket), to its closing bracket."""
    at = text.index(start)
    depth = 0
    for end in range(at + len(start) - 1, len(text)):
        depth += {"(": 1, ")": -1}.get(text[end], 0)
        if depth == 0:
            return text[at:end + 1]
    raise AssertionError(f"unbalanced brackets after {start!r} in {text!r}")


def _gradient(f, x) -> np.ndarray:
    v = Value(np.array(x, dtype=float))
    out = f(v)
    (out.sum() if out.size > 1 else out).backward()
    return v.grad


# --- PyTorch's costs with a kink: l1_loss, huber_loss, smooth_l1_loss, hinge_embedding_loss --------------------
PREDICTION = np.array([0.3, -2.0, 1.6, 0.9, -0.2])
TARGET = np.array([0.0, 0.5, -1.1, 0.75, 1.5])
LABELS = np.array([1.0, -1.0, -1.0, 1.0, -1.0])
D = PREDICTION - TARGET  # [0.3, -2.5, 2.7, 0.15, -1.7]: in and out of huber's |d| ≤ 1, none at a kink


def _costs() -> dict:
    """Each cost's value and gradient in the prediction, written out from PyTorch's documented formulas."""
    n, x = len(D), PREDICTION
    inside = np.abs(D) <= 1
    hinge = np.where(LABELS == 1, x, np.maximum(0.0, 1.0 - x))
    return {"l1_loss": (np.abs(D).mean(), np.sign(D) / n),
            "huber_loss": (np.where(inside, 0.5 * D ** 2, np.abs(D) - 0.5).mean(), np.where(inside, D, np.sign(D)) / n),
            "smooth_l1_loss": (np.where(inside, 0.5 * D ** 2, np.abs(D) - 0.5).mean(),
                               np.where(inside, D, np.sign(D)) / n),
            "hinge_embedding_loss": (hinge.mean(), np.where(LABELS == 1, 1.0, np.where(x < 1.0, -1.0, 0.0)) / n)}


@pytest.mark.parametrize("name", ["l1_loss", "huber_loss", "smooth_l1_loss", "hinge_embedding_loss"])
@pytest.mark.parametrize("where", ["F", "losses", "losses class"])
def test_pytorchs_costs_with_a_kink_name_a_formula_that_gives_their_numbers(name, where) -> None:
    classes = {"l1_loss": "L1Loss", "huber_loss": "HuberLoss", "smooth_l1_loss": "SmoothL1Loss",
               "hinge_embedding_loss": "HingeEmbeddingLoss"}
    module, attribute = {"F": (F, name), "losses": (losses, name), "losses class": (losses, classes[name])}[where]
    message = _message(lambda: getattr(module, attribute))
    assert "(a PyTorch name); write " in message
    formula = message.split("; write ", 1)[1].removeprefix("the cost, ").split(", for ", 1)[0]
    p = Value(PREDICTION.copy())
    names = {"F": F, "np": np, "p": p, "x": p, "y": LABELS if name == "hinge_embedding_loss" else TARGET,
             "delta": 1.0, "beta": 1.0, "margin": 1.0}
    cost = eval(formula, names)  # noqa: S307  (the advice is code that runs)
    cost.backward()
    expected, slope = _costs()[name]
    np.testing.assert_allclose(cost.item(), expected, rtol=1e-12)
    np.testing.assert_allclose(p.grad, slope, rtol=1e-12, atol=1e-15)


# --- rounding and sign: what to write, and a gradient that passes (the straight-through estimator) -------------
ROUNDINGS = [("round", lambda v: v.round), ("floor", lambda v: v.floor), ("ceil", lambda v: v.ceil),
             ("trunc", lambda v: v.trunc), ("floor", lambda v: np.floor(v)), ("ceil", lambda v: np.ceil(v)),
             ("trunc", lambda v: np.trunc(v)), ("rint", lambda v: np.rint(v)), ("round", lambda v: np.round(v))]


@pytest.mark.parametrize(("name", "call"), ROUNDINGS, ids=[f"{i}-{name}" for i, (name, _) in enumerate(ROUNDINGS)])
def test_rounding_a_value_names_the_straight_through_estimator(name, call) -> None:
    data = np.array([1.7, -2.3, 0.4, -0.6, 3.0])
    message = _message(lambda: call(Value(data)))
    assert "derivative is 0" in message  # (what PyTorch's round, floor, ceil and trunc give)
    found = re.search(rf"v \+ \(np\.{name}\(v\.data\) - v\.data\)", message)
    assert found, message
    v = Value(data.copy())
    rounded = eval(found[0], {"v": v, "np": np})  # noqa: S307
    (rounded * np.arange(1.0, 6.0)).sum().backward()
    np.testing.assert_array_equal(rounded.data, getattr(np, name)(data))
    np.testing.assert_array_equal(v.grad, np.arange(1.0, 6.0))  # passed straight through


def test_sign_names_np_sign_and_its_zero_derivative() -> None:
    data = np.array([-1.5, 0.0, 2.0])
    message = _message(lambda: Value(data).sign())
    assert "np.sign(v)" in message and "derivative is 0" in message
    np.testing.assert_array_equal(np.sign(Value(data)), np.sign(data))


# --- clamp at its bounds, hardtanh and relu6 -----------------------------------------------------------------
@pytest.mark.parametrize(("where", "call"), [
    ("F.where(", lambda v: F.clamp), ("functional.where(", lambda v: v.clamp),
    ("functional.where(", lambda v: np.clip(v, 0.0, 1.0))], ids=["F.clamp", "v.clamp", "np.clip"])
def test_the_clamp_advice_says_the_gradient_at_a_bound_and_gives_pytorchs(where, call) -> None:
    data = np.array([-0.5, 0.0, 0.25, 1.0, 1.5])  # at both bounds, inside and outside
    message = _message(lambda: call(Value(data)))
    floor = Value(data.copy())
    F.maximum(floor, 0.0).sum().backward()  # the floor the advice names first: ½ at the bound, a tie's, as it says
    assert floor.grad[1] == 0.5 and "½" in message
    formula = _call_from(message, where)
    v = Value(data.copy())
    clamped = eval(formula, {"F": F, "functional": F, "np": np, "v": v, "low": 0.0, "high": 1.0})  # noqa: S307
    clamped.sum().backward()
    np.testing.assert_array_equal(clamped.data, np.clip(data, 0.0, 1.0))
    np.testing.assert_array_equal(v.grad, ((data >= 0.0) & (data <= 1.0)).astype(float))  # torch.clamp's mask


@pytest.mark.parametrize(("name", "low", "high"), [("hardtanh", -1.0, 1.0), ("relu6", 0.0, 6.0)])
def test_hardtanh_and_relu6_name_a_clamp_formula(name, low, high) -> None:
    message = _message(lambda: getattr(F, name))
    assert "(a PyTorch name); write " in message
    formula = message.split("; write ", 1)[1].split(", v clamped", 1)[0]
    data = np.array([-7.0, -0.5, 0.5, 3.0, 6.5])  # off both bounds
    v = Value(data.copy())
    out = eval(formula, {"F": F, "np": np, "v": v})  # noqa: S307
    out.sum().backward()
    np.testing.assert_array_equal(out.data, np.clip(data, low, high))
    np.testing.assert_array_equal(v.grad, ((data > low) & (data < high)).astype(float))


# --- sorting and top-k by indexing ---------------------------------------------------------------------------
@pytest.mark.parametrize("call", [lambda v: v.sort, lambda v: np.sort(v)], ids=["v.sort", "np.sort"])
def test_sort_names_indexing_by_argsort(call) -> None:
    data = np.array([3.0, -1.0, 2.0, 0.5])
    message = _message(lambda: call(Value(data)))
    found = re.search(r"v\[np\.argsort\(v\.data\)\]", message)
    assert found, message
    formula = found[0]
    v = Value(data.copy())
    ordered = eval(formula, {"v": v, "np": np})  # noqa: S307
    (ordered * np.array([1.0, 10.0, 100.0, 1000.0])).sum().backward()
    np.testing.assert_array_equal(ordered.data, np.sort(data))
    np.testing.assert_array_equal(v.grad, [1000.0, 1.0, 100.0, 10.0])  # each weight back where its number was


def test_topk_names_indexing_by_argsort() -> None:
    data = np.array([3.0, -1.0, 3.0, 0.5])  # a tie among the largest
    message = _message(lambda: Value(data).topk)
    assert "; write " in message
    formula = message.split("; write ", 1)[1].split(", the k largest", 1)[0]
    v = Value(data.copy())
    top = eval(formula, {"v": v, "np": np, "k": 2})  # noqa: S307
    (top * np.array([1.0, 10.0])).sum().backward()
    np.testing.assert_array_equal(top.data, [3.0, 3.0])
    np.testing.assert_array_equal(v.grad, [1.0, 0.0, 10.0, 0.0])  # the first of a tie first, as torch.topk's order


# --- guards: the derivative at each kink, its convention and its second order ---------------------------------
# Each op's one-sided slopes at its kink (left, right) and the derivative the engine documents there.
KINKS = {
    "relu": (lambda v: v.relu(), 0.0, (0.0, 1.0), 0.0),                      # [x > 0]: 0 at 0, as PyTorch's
    "abs": (lambda v: abs(v), 0.0, (-1.0, 1.0), 0.0),                       # sign(x): 0 at 0
    "leaky_relu": (lambda v: F.leaky_relu(v, 0.2), 0.0, (0.2, 1.0), 0.2),   # 1 for x > 0, else s
    "leaky_relu_steep": (lambda v: F.leaky_relu(v, 3.0), 0.0, (3.0, 1.0), 3.0),
    "maximum": (lambda v: F.maximum(v, 0.75), 0.75, (0.0, 1.0), 0.5),       # a tie splits evenly
    "minimum": (lambda v: -F.maximum(-v, -0.75), 0.75, (1.0, 0.0), 0.5),
    "max": (lambda v: F.stack([v, Value(0.75, requires_grad=False)]).max(), 0.75, (0.0, 1.0), 0.5),
    "min": (lambda v: F.stack([v, Value(0.75, requires_grad=False)]).min(), 0.75, (1.0, 0.0), 0.5),
}


@given(name=st.sampled_from(sorted(KINKS)),
       offset=st.one_of(st.just(0.0), st.just(-0.0), st.floats(-1e-3, 1e-3, allow_subnormal=True)))
def test_the_derivative_near_and_at_each_kink_is_its_sides_slope_or_its_documented_convention(name, offset) -> None:
    f, kink, (left, right), at_kink = KINKS[name]
    x = kink + offset
    slope = _gradient(f, x)
    expected = right if x > kink else left if x < kink else at_kink
    assert slope == expected, (name, x, slope)
    assert min(left, right) <= slope <= max(left, right)  # (never outside the one-sided slopes)


@pytest.mark.parametrize(("f", "expected", "slopes"), [
    (lambda v: v.relu() ** 2, 0.0, [0.0, 2.0]),                        # 2·relu'(0)² = 0; 2·relu(x)
    (lambda v: F.leaky_relu(v, 0.2) ** 2, 2 * 0.2 ** 2, [-0.08, 2.0]),  # 2·s²; 2s²x for x < 0
    (lambda v: F.maximum(v, 0.0) ** 2, 0.5, [0.0, 2.0]),               # 2·(½)²
    (lambda v: v * abs(v), 0.0, [2.0, 2.0]),                           # 2|x|' + x·0 = 0; 2|x|
    (lambda v: v.relu() * v, 0.0, [0.0, 2.0]),                         # 2·relu'(0) = 0; 2·relu(x)
])
def test_second_derivatives_at_a_kink_follow_the_chain_rule_of_the_first_order_conventions(f, expected,
                                                                                           slopes) -> None:
    assert hessian(lambda v: f(v).sum())(np.array([0.0])).data[0, 0] == expected
    # and the first derivative off the kink, at -1 and 1, against its closed form
    np.testing.assert_allclose(grad(lambda v: f(v).sum())(np.array([-1.0, 1.0])).data, slopes, rtol=1e-15)


@given(st.floats(-3.0, 3.0).filter(lambda m: abs(abs(m) - 1.0) > 1e-3 and abs(m) > 1e-3))
def test_hand_written_hinge_and_huber_losses_have_their_closed_form_gradients(margin) -> None:
    """Off their kinks: the hinge max(0, 1 − y·s) of a score s and label y, Huber's d²/2 inside |d| ≤ 1, |d| − ½
    outside."""
    score = np.array([margin])
    labels = np.array([1.0])
    hinge = _gradient(lambda s: (1 - labels * s).relu().sum(), score)
    np.testing.assert_array_equal(hinge, np.where(labels * score < 1, -labels, 0.0))
    huber = _gradient(lambda d: F.where(abs(d) <= 1.0, 0.5 * d ** 2, abs(d) - 0.5).sum(), score)
    np.testing.assert_allclose(huber, np.clip(score, -1.0, 1.0), rtol=1e-15)


def test_hinge_at_its_margin_is_a_kink_for_check_gradients_and_gets_relus_zero() -> None:
    score = np.array([1.0, 0.25])
    hinge = (lambda s: (1 - s).relu().sum())
    np.testing.assert_array_equal(_gradient(hinge, score), [0.0, -1.0])  # relu'(0) = 0 at the margin
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(hinge, score)
    table = str(caught.value)
    assert "kink: slopes left | right" in table and re.search(r"\(0,\).*-1 \| 0", table), table
    assert "no derivative exists to check" in table


def test_a_three_way_tie_splits_the_gradient_in_thirds_and_check_gradients_calls_it_a_kink() -> None:
    """max over a tie of three: each gets ⅓ (split evenly, as documented); the central difference, ½ each, is not
    the derivative of anything there, and the check says so instead of blaming the engine."""
    x = np.array([2.0, 2.0, 2.0, -1.0])
    np.testing.assert_allclose(_gradient(lambda v: v.max(), x), [1 / 3, 1 / 3, 1 / 3, 0.0], rtol=1e-15)
    with pytest.raises(GradientCheckError, match="no derivative exists to check") as caught:
        check_gradients(lambda v: v.max(), x)
    assert str(caught.value).count("0 | 1") == 3  # (each tied one: the max stays as it falls, follows it up)
