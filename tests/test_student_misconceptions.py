"""A teacher's list of the misconceptions students bring to backpropagation, each acted on as a student would.

For each: the numbers are checked against the correct math (closed forms, finite differences), and the package's
errors and docstrings must steer the student to the truth.  The xfail tests were defects: the error of a vector
cost's ``backward()`` did not say to reduce it first, a matmul written in the seed's order ``W·α`` did not say the
order is ``α @ W`` here, a parameter replaced by its update ``w = w - lr * w.grad`` got the advice for a module's
kept output, and ``nn.Layer``'s docstring credited ``α @ W`` to the seed, which writes ``W·α``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, losses, nn, no_grad, optim
from tinygrad_edu.testing import GradientCheckError, check_gradients


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _chain(rng: int = 0) -> nn.Network:
    """The seed's chain network of section 6.3: one sigmoid neuron per layer, two layers."""
    return nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=rng + i) for i in range(2)])


def _chain_gradients(model: nn.Network, x: np.ndarray, y: np.ndarray, derivative_at_activation: bool = False
                     ) -> dict[str, np.ndarray]:
    """∂C/∂W², ∂C/∂b², ∂C/∂W¹, ∂C/∂b¹ of the chain by the seed's chain rule, written out with numpy; with
    ``derivative_at_activation`` σ' is taken at α instead of z (the misconception)."""
    (w1, b1), (w2, b2) = [(layer.weights.data.item(), layer.biases.data.item()) for layer in model]
    z1 = x * w1 + b1
    a1 = _sigmoid(z1)
    z2 = a1 * w2 + b2
    a2 = _sigmoid(z2)
    slope = (lambda z, a: _sigmoid(a) * (1 - _sigmoid(a))) if derivative_at_activation else (
        lambda z, a: _sigmoid(z) * (1 - _sigmoid(z)))
    dz2 = 2 * (a2 - y) * slope(z2, a2)
    dz1 = dz2 * w2 * slope(z1, a1)
    return {"W2": dz2 * a1, "b2": dz2, "W1": dz1 * x, "b1": dz1}


# --- defects ---------------------------------------------------------------------------------------------------

def test_backward_on_a_vector_cost_says_to_sum_or_average_it_first() -> None:
    prediction = Value(np.array([0.2, 0.7, 0.9]))
    with pytest.raises(ValueError, match=r"^backward: an output of shape \(3,\).*\.sum\(\).*\.mean\(\)"):
        ((prediction - np.array([0.0, 1.0, 1.0])) ** 2).backward()
    assert prediction.grad is None  # nothing was filled


def test_the_seeds_order_w_alpha_is_answered_with_alpha_at_w() -> None:
    layer = nn.Layer(3, 2, "sigmoid", rng=0)
    for alpha in (np.array([[0.1, 0.2, 0.3]]), np.array([0.1, 0.2, 0.3])):
        with pytest.raises(ValueError, match=r"^matmul: shapes \(3, 2\) and \(1?,? ?3,?\) are not aligned .*α @ W"):
            layer.weights @ alpha
        # and the order it names is right: σ(α @ W + b) is the layer's output
        np.testing.assert_allclose(layer(alpha).data, _sigmoid(alpha @ layer.weights.data + layer.biases.data),
                                   rtol=1e-14)


def test_a_parameter_replaced_by_its_update_is_told_to_update_in_place() -> None:
    model = nn.MLP([1, 3, 1], rng=0)
    x = np.array([[0.1], [0.5]])
    losses.squared_error(model(x), x ** 2).backward()
    for layer in model:
        layer.weights = layer.weights - 0.1 * layer.weights.grad  # the student's update
    with pytest.raises(TypeError, match=r"'layers\.1\.weights' holds a Value computed by an operation \(sub\).*"
                                        r"with no_grad\(\): w -= lr \* w\.grad") as caught:
        model.zero_grad()
    assert "self._output" not in str(caught.value)  # not the advice for an output kept on a module


def test_the_layer_docstring_relates_alpha_at_w_to_the_seeds_w_alpha() -> None:
    doc = nn.Layer.__doc__ or ""
    first = doc.split("\n\n")[0]
    assert "W·α" in first and "transpose of the seed's" in first


# --- guards ------------------------------------------------------------------------------------------------------

def test_grad_accumulates_over_backward_passes_until_zero_grad() -> None:
    """Misconception: each backward() starts .grad afresh.  Two passes give twice the chain rule's gradient."""
    model, x, y = _chain(), np.array([0.5]), np.array([1.0])
    expected = _chain_gradients(model, 0.5, 1.0)
    for _ in range(2):
        losses.squared_error(model(x), y).backward()
    np.testing.assert_allclose(model[1].weights.grad.item(), 2 * expected["W2"], rtol=1e-12)
    np.testing.assert_allclose(model[0].biases.grad.item(), 2 * expected["b1"], rtol=1e-12)
    model.zero_grad()
    losses.squared_error(model(x), y).backward()
    np.testing.assert_allclose(model[1].weights.grad.item(), expected["W2"], rtol=1e-12)


def test_the_sigmoid_slope_is_taken_at_z_not_at_the_activation() -> None:
    """Misconception: σ'(α) = σ(α)(1 − σ(α)).  The engine's gradients follow σ'(z); the other rule differs."""
    model = _chain(3)
    losses.squared_error(model(np.array([0.8])), np.array([0.2])).backward()
    right = _chain_gradients(model, 0.8, 0.2)
    wrong = _chain_gradients(model, 0.8, 0.2, derivative_at_activation=True)
    got = {"W2": model[1].weights.grad.item(), "b2": model[1].biases.grad.item(),
           "W1": model[0].weights.grad.item(), "b1": model[0].biases.grad.item()}
    for name, value in got.items():
        np.testing.assert_allclose(value, right[name], rtol=1e-12)
        assert abs(value - wrong[name]) > 1e-3 * abs(right[name])


def test_check_gradients_catches_a_sigmoid_op_whose_slope_is_taken_at_the_activation() -> None:
    from tinygrad_edu import Op

    at_activation = Op("sigmoid_at_alpha", _sigmoid,
                       lambda g, out, z: g * _sigmoid(out) * (1 - _sigmoid(out)))
    with pytest.raises(GradientCheckError, match="sigmoid_at_alpha"):
        check_gradients(lambda z: at_activation(z).sum(), np.array([-1.0, 0.3, 2.0]))


@given(st.integers(1, 6), st.integers(0, 2**16))
def test_biases_have_the_averaged_gradient_of_a_batch(n: int, seed: int) -> None:
    """Misconception: biases get no gradient.  ∂C/∂b is the mean over the samples of 2(α − y')σ'(z)."""
    rng = np.random.default_rng(seed)
    layer = nn.Layer(2, 3, "sigmoid", rng=seed)
    x, y = rng.normal(size=(n, 2)), rng.uniform(size=(n, 3))
    losses.squared_error(layer(x), y).backward()
    z = x @ layer.weights.data + layer.biases.data
    delta = 2 * (_sigmoid(z) - y) * _sigmoid(z) * (1 - _sigmoid(z))
    np.testing.assert_allclose(layer.biases.grad, delta.mean(axis=0), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(layer.weights.grad, x.T @ delta / n, rtol=1e-10, atol=1e-15)


def test_squared_error_already_averages_so_one_sample_repeated_has_that_samples_gradient() -> None:
    """Misconception: the cost must be averaged by hand.  A batch of k copies of one sample has that sample's
    cost and gradient; the student's extra /k makes both k times too small."""
    model, sample, target = _chain(1), np.array([[0.4]]), np.array([[0.9]])
    losses.squared_error(model(sample), target).backward()
    alone = model[0].weights.grad.copy()
    model.zero_grad()
    batch, targets = np.repeat(sample, 4, axis=0), np.repeat(target, 4, axis=0)
    cost = losses.squared_error(model(batch), targets)
    np.testing.assert_allclose(float(cost), float(np.sum((model(sample).data - target) ** 2)), rtol=1e-14)
    cost.backward()
    np.testing.assert_allclose(model[0].weights.grad, alone, rtol=1e-14)
    model.zero_grad()
    (losses.squared_error(model(batch), targets) / 4).backward()  # averaged twice
    np.testing.assert_allclose(model[0].weights.grad, alone / 4, rtol=1e-14)


def test_the_learning_rate_is_not_divided_by_the_batch_size() -> None:
    """Misconception: η must be divided by the batch size.  One SGD step moves by η times the averaged gradient,
    so a batch repeated 4 times moves exactly as far as the batch itself."""
    x = np.array([[0.1], [-0.6], [0.8]])
    steps = []
    for copies in (1, 4):
        model = nn.MLP([1, 4, 1], rng=2)
        start = model[0].weights.data.copy()
        opt = optim.SGD(model, learning_rate=0.5)
        batch = np.repeat(x, copies, axis=0)
        losses.squared_error(model(batch), batch ** 2).backward()
        gradient = model[0].weights.grad.copy()
        opt.step()
        np.testing.assert_allclose(model[0].weights.data, start - 0.5 * gradient, rtol=1e-14)
        steps.append(model[0].weights.data - start)
    np.testing.assert_allclose(steps[0], steps[1], rtol=1e-12)


def test_an_update_under_no_grad_changes_the_parameter_itself_and_one_without_makes_a_new_value() -> None:
    """Misconception: no_grad is optional for updates.  Under no_grad the leaf is changed in place (same object,
    label, no op); outside, w -= ... is w = w - ...: a new Value recorded from the old one, the old left as it was."""
    w = Value(2.0, label="w")
    ((w - 1.0) ** 2).backward()
    with no_grad():
        same = w
        w -= 0.1 * w.grad
    assert w is same and w.op is None and w.label == "w" and w.item() == pytest.approx(2.0 - 0.1 * 2.0, abs=1e-15)
    old = w
    ((w - 1.0) ** 2).backward()
    w -= 0.1 * w.grad
    assert w is not old and w.op == "sub" and w.parents[0] is old
    assert old.item() == pytest.approx(1.8, abs=1e-15)  # the parameter itself did not move


def test_gradient_descent_written_without_no_grad_still_follows_the_closed_form() -> None:
    """The recorded updates give the right numbers (only the graph grows): w_k of (w − 1)² with η = 0.1 is
    1 + (w₀ − 1)·0.8ᵏ, and the gradient the student reads each time is 2(w_k − 1)."""
    w = Value(2.0)
    for k in range(5):
        ((w - 1.0) ** 2).backward()
        assert float(w.grad) == pytest.approx(2 * 0.8 ** k, rel=1e-12)
        w -= 0.1 * w.grad
    assert w.item() == pytest.approx(1 + 0.8 ** 5, rel=1e-12)
