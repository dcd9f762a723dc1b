"""An error-message reader's pass over this round's new and changed messages: each one triggered as a user would,
its advice formula run on a small example and checked against numpy (values) and finite differences (gradients)."""

import re

import numpy as np
import pytest

from tinygrad_edu import Op, Value, losses, nn
from tinygrad_edu import functional as F
from tinygrad_edu.testing import numerical_gradient

RNG = np.random.default_rng(36)


def _message(get) -> str:
    with pytest.raises((AttributeError, ValueError, TypeError)) as caught:
        get()
    return str(caught.value)


# --- defects ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "torch_like"), [
    ("LeakyReLU", lambda z: np.where(z > 0, z, 0.01 * z)),
    ("Softplus", lambda z: np.log1p(np.exp(z))),
    ("Tanh", np.tanh),
    ("Sigmoid", lambda z: 1 / (1 + np.exp(-z))),
    ("ReLU", lambda z: np.maximum(z, 0))])
def test_an_activation_modules_advice_names_that_activation(name: str, torch_like) -> None:
    message = _message(lambda: getattr(nn, name))
    activation = re.search(r"activation='(\w+)'", message).group(1)
    layer = nn.Layer(2, 3, activation=activation, rng=0)
    x = RNG.normal(size=(4, 2)) * 3
    z = x @ layer.weights.data + layer.biases.data
    np.testing.assert_allclose(layer(x).data, torch_like(z), rtol=1e-12, atol=1e-15)


def test_cross_entropys_advice_for_a_convolutions_logits_runs_with_its_labels() -> None:
    logits, labels = Value(RNG.normal(size=(2, 3, 4, 5))), RNG.integers(0, 3, size=(2, 4, 5))
    message = _message(lambda: losses.cross_entropy(logits, labels))
    formulas = re.findall(r"(cross_entropy\((?:[^()]|\([^()]*\))*\))", message)
    assert formulas, message
    for formula in formulas:  # every formula offered runs with these labels, and gives PyTorch's number
        cost = eval(formula, {"cross_entropy": losses.cross_entropy, "np": np,  # noqa: S307
                              "logits": logits, "labels": labels})
        moved = np.moveaxis(logits.data, 1, -1).reshape(-1, 3)
        log_p = moved - moved.max(1, keepdims=True)
        log_p -= np.log(np.exp(log_p).sum(1, keepdims=True))
        np.testing.assert_allclose(cost.data, -log_p[np.arange(40), labels.reshape(-1)].mean(), rtol=1e-12)


@pytest.mark.parametrize("name", ["clamp_min", "clamp_max"])
def test_clamp_min_and_max_advice_says_what_the_formula_passes_at_the_bound(name: str) -> None:
    v = Value(np.array([-2.0, 0.5, 1.0, 3.0]))
    message = _message(lambda: getattr(v, name))
    low = high = 1.0
    formula = re.search(r"write (\S*functional\.maximum\([^)]*\))", message).group(1)
    out = eval(formula, {"functional": F, "v": v, "low": low, "high": high})  # noqa: S307
    out.backward(np.ones(4))
    assert v.grad[2] == 0.5  # the tie at the bound (v == 1.0): the message must say so
    assert "½" in message and "PyTorch" in message, message


def test_conv2d_module_advice_states_the_shapes_once() -> None:
    message = _message(lambda: nn.Conv2d)
    assert message.count("(out_channels, C, k, k)") == 1, message


def test_a_vjp_returning_a_value_is_told_in_english() -> None:
    w = Value(np.array([2.0, 3.0]))
    scale = Op("scale", lambda a: a * w.data, (lambda g, out, a: g * w,))
    x = Value(np.array([0.5, -1.0]))
    message = _message(lambda: scale(x).sum().backward())
    assert "scale" in message and "apply(op, x, w)" in message
    assert "gives a vjp arrays" not in message and "a vjp is given arrays" in message, message


# --- guard tests: the formulas this round's messages advise, run as written ----------------------------------------

def test_expm1_advice_is_exp_minus_one_and_its_gradient_everywhere() -> None:
    formula = re.search(r"write (.*?), eᵛ - 1", _message(lambda: Value(1.0).expm1)).group(1)
    for x in (1e-20, -1e-20, 1e-8, -3.0, 0.0, 2.5, -700.0):
        v = Value(x)
        out = eval(formula, {"functional": F, "v": v})  # noqa: S307
        out.backward()
        assert out.data == pytest.approx(np.expm1(x), rel=1e-14, abs=0)
        assert v.grad == pytest.approx(np.exp(x), rel=1e-13)


def test_the_piecewise_costs_advice_matches_their_definitions_and_gradients() -> None:
    p0, y = RNG.normal(size=7), RNG.normal(size=7) * 2
    d = p0 - y
    expected = {"huber_loss": np.where(abs(d) <= 1, 0.5 * d ** 2, abs(d) - 0.5).mean(),
                "smooth_l1_loss": np.where(abs(d) < 1, 0.5 * d ** 2, abs(d) - 0.5).mean(),
                "l1_loss": abs(d).mean()}
    for name, value in expected.items():
        formula = re.search(r"write (?:the cost, )?(.*?), for a prediction p",
                            _message(lambda n=name: getattr(F, n))).group(1)

        def cost(p, formula=formula):
            return eval(formula, {"F": F, "abs": abs, "p": p, "y": y, "delta": 1.0, "beta": 1.0})  # noqa: S307
        p = Value(p0.copy())
        out = cost(p)
        out.backward()
        assert out.data == pytest.approx(value, rel=1e-12)
        np.testing.assert_allclose(p.grad, numerical_gradient(cost, p0)[0], rtol=1e-6, atol=1e-9)


def test_the_gaussian_nll_advice_is_pytorchs_number_and_its_log_variance_form_agrees() -> None:
    message = _message(lambda: losses.GaussianNLLLoss)
    first, second = re.search(r"write the cost, (.*?), the Gaussian.*?log-variance s, (.*?) needs", message).groups()
    mean, target, var = RNG.normal(size=5), RNG.normal(size=5), RNG.uniform(0.3, 2.0, size=5)
    reference = np.mean(0.5 * (np.log(var) + (mean - target) ** 2 / var))  # torch's full=False, var above eps
    got = eval(first, {"input": Value(mean), "target": target, "var": Value(var)})  # noqa: S307
    s = Value(np.log(var))
    other = eval(second, {"mean": Value(mean), "target": target, "s": s})  # noqa: S307
    other.backward()
    assert got.data == pytest.approx(reference, rel=1e-12) and other.data == pytest.approx(reference, rel=1e-12)
    closed = 0.5 * (1 - (target - mean) ** 2 / var) / 5  # ∂/∂s of the mean
    np.testing.assert_allclose(s.grad, closed, rtol=1e-12)


def test_the_axis_1_cross_entropy_advice_has_pytorchs_gradient() -> None:
    labels = RNG.integers(0, 3, size=(2, 2, 3))
    message = _message(lambda: losses.cross_entropy(Value(np.zeros((2, 3, 2, 3))), labels))
    formula = re.search(r"(cross_entropy\(np\.moveaxis.*?\), labels\.reshape\(-1\)\))", message).group(1)

    def cost(logits):
        return eval(formula, {"cross_entropy": losses.cross_entropy, "np": np,  # noqa: S307
                              "logits": logits, "labels": labels})
    start = RNG.normal(size=(2, 3, 2, 3))
    logits = Value(start.copy())
    cost(logits).backward()
    np.testing.assert_allclose(logits.grad, numerical_gradient(cost, start)[0], rtol=1e-6, atol=1e-10)
