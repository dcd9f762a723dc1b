"""An engineer explains a digits classifier by gradients with respect to its INPUT: saliency |∂logit_c/∂x| by
``backward(grad=one_hot)`` on ``Value(x, requires_grad=True)``, ``autodiff.grad`` / ``jacobian`` of a (1, 64)
input, gradient × input, integrated gradients (a midpoint Riemann sum over 50 scaled inputs, one batch), SmoothGrad
(noise averaged, one batch) and occlusion, on pixels given as floats or as the file's whole numbers 0..16.

Every derivative is checked against the closed form of a one-hidden-layer tanh network written in numpy alone,
∂logit/∂x = (W¹ ⊙ (1 − tanh²(z¹))) W², or against central differences of that numpy forward pass."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_edu import Value, nn, no_grad
from tinygrad_edu.autodiff import grad, gradients, jacobian
from tinygrad_edu.data import load_digits

DIGITS = load_digits()
IMAGES, LABELS = DIGITS.inputs[:6], DIGITS.labels[:6]


def _network() -> nn.MLP:
    return nn.MLP([64, 16, 10], activation="tanh", output_activation="identity", init="xavier", rng=0)


def _numbers(net: nn.MLP) -> tuple[np.ndarray, ...]:
    (w1, b1), (w2, b2) = [(layer.weights.data.copy(), layer.biases.data.copy()) for layer in net]
    return w1, b1, w2, b2


def _logits(net: nn.MLP, x: np.ndarray) -> np.ndarray:
    """The forward pass in numpy alone."""
    w1, b1, w2, b2 = _numbers(net)
    return np.tanh(x @ w1 + b1) @ w2 + b2


def _input_jacobian(net: nn.MLP, x: np.ndarray) -> np.ndarray:
    """∂logit_k/∂x_i of one sample in closed form, shape (10, 64)."""
    w1, b1, w2, _ = _numbers(net)
    slope = 1 - np.tanh(x @ w1 + b1) ** 2
    return ((w1 * slope) @ w2).T


def _central_differences(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    steps = np.eye(x.size).reshape(x.size, *x.shape) * eps
    return np.array([(f(x + step) - f(x - step)) / (2 * eps) for step in steps]).reshape(x.shape)


def test_one_hot_backward_on_a_1x64_input_is_the_finite_difference_saliency():
    net, x, c = _network(), IMAGES[:1], int(LABELS[0])
    image = Value(x, requires_grad=True)
    out = net(image)
    out.backward(grad=np.eye(10)[[c]])
    assert image.grad.shape == (1, 64) and image.grad.dtype == np.float64
    numeric = _central_differences(lambda v: _logits(net, v)[0, c], x)
    np.testing.assert_allclose(image.grad, numeric, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(image.grad[0], _input_jacobian(net, x[0])[c], rtol=1e-10, atol=1e-12)


def test_jacobian_of_a_1x64_input_is_shaped_output_then_input_and_touches_no_grad():
    net, x = _network(), IMAGES[:1]
    image = Value(x, requires_grad=True)
    jac = jacobian(net)(image)
    assert jac.shape == (1, 10, 1, 64)  # f(x).shape + x.shape, as torch.autograd.functional.jacobian's
    np.testing.assert_allclose(jac.data[0, :, 0, :], _input_jacobian(net, x[0]), rtol=1e-10, atol=1e-12)
    slope = grad(lambda v: net(v)[0, 3])(image)
    np.testing.assert_allclose(slope.data[0], _input_jacobian(net, x[0])[3], rtol=1e-10, atol=1e-12)
    assert image.grad is None and all(p.grad is None for p in net.parameters())


def test_backward_with_inputs_leaves_the_weights_alone_and_adds_up_on_the_input():
    net, x, c = _network(), IMAGES[0], int(LABELS[0])
    image = Value(x, requires_grad=True)
    net(image)[c].backward(inputs=[image])
    first = image.grad.copy()
    assert all(p.grad is None for p in net.parameters())
    net(image)[c].backward(inputs=[image])  # documented: a leaf's gradient adds up until zero_grad()
    np.testing.assert_allclose(image.grad, 2 * first, rtol=1e-12)
    image.zero_grad()
    (again,) = gradients(net(image)[c], [image])  # leaves .grad as it was
    np.testing.assert_allclose(again.data, _input_jacobian(net, x)[c], rtol=1e-10, atol=1e-12)
    assert image.grad is None


def test_integrated_gradients_from_one_batch_are_complete_up_to_the_riemann_error():
    net, x, c = _network(), IMAGES[1], int(LABELS[1])
    baseline, m = np.zeros(64), 50
    alphas = (np.arange(m) + 0.5) / m
    path = baseline + alphas[:, None] * (x - baseline)
    slopes = grad(lambda v: net(v)[:, c].sum())(path).data
    exact = np.array([_input_jacobian(net, p)[c] for p in path])
    np.testing.assert_allclose(slopes, exact, rtol=1e-10, atol=1e-12)
    attributions = (x - baseline) * slopes.mean(axis=0)
    gained = _logits(net, x)[c] - _logits(net, baseline)[c]
    assert abs(attributions.sum() - gained) <= 1e-4 * max(1.0, abs(gained))  # the midpoint rule: O(1/m²)


def test_a_batch_and_its_samples_one_at_a_time_get_the_same_saliency():
    net = _network()
    batch = Value(IMAGES, requires_grad=True)
    net(batch).backward(grad=np.eye(10)[LABELS])
    for i, (x, c) in enumerate(zip(IMAGES, LABELS, strict=True)):
        single = Value(x, requires_grad=True)
        net(single)[int(c)].backward()
        np.testing.assert_allclose(batch.grad[i], single.grad, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(single.grad, _input_jacobian(net, x)[c], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.int64, np.uint8])
def test_pixels_as_whole_numbers_0_to_16_differentiate_as_floats(dtype):
    net, c = _network(), int(LABELS[2])
    counts = np.rint(IMAGES[2] * 16).astype(dtype)
    slope = grad(lambda v: net(v / 16)[c])(counts)
    assert slope.dtype == np.float64 and slope.shape == (64,)
    np.testing.assert_allclose(slope.data, _input_jacobian(net, IMAGES[2])[c] / 16, rtol=1e-10, atol=1e-12)
    image = Value(counts, requires_grad=True)
    net(image / 16)[c].backward()
    np.testing.assert_allclose(image.grad, slope.data, rtol=1e-12)
    np.testing.assert_allclose(jacobian(lambda v: net(v / 16))(counts).data[c], slope.data, rtol=1e-12)


def test_smoothgrad_from_one_noisy_batch_is_the_mean_of_the_samples_gradients():
    net, x, c = _network(), IMAGES[3], int(LABELS[3])
    noisy = x + np.random.default_rng(0).normal(0.0, 0.15, (20, 64))
    averaged = grad(lambda v: net(v)[:, c].sum())(noisy).data.mean(axis=0)
    expected = np.mean([_input_jacobian(net, p)[c] for p in noisy], axis=0)
    np.testing.assert_allclose(averaged, expected, rtol=1e-10, atol=1e-12)


def test_occlusion_equals_gradient_times_input_and_integrated_gradients_for_a_linear_model():
    layer = nn.Layer(64, 10, activation="identity", init="xavier", rng=1)
    x, c = IMAGES[4], int(LABELS[4])
    slope = grad(lambda v: layer(v)[c])(x).data
    np.testing.assert_allclose(slope, layer.weights.data[:, c], rtol=1e-12)  # a linear logit's gradient is W[:, c]
    occluded = np.where(np.eye(64, dtype=bool), 0.0, x)  # row i: pixel i set to the baseline 0
    with no_grad():
        drops = layer(x).data[c] - layer(occluded).data[:, c]
    np.testing.assert_allclose(drops, slope * x, rtol=1e-9, atol=1e-12)
    path = np.linspace(0.01, 1.0, 50)[:, None] * x
    integrated = x * grad(lambda v: layer(v)[:, c].sum())(path).data.mean(axis=0)
    np.testing.assert_allclose(integrated, slope * x, rtol=1e-9, atol=1e-12)


@given(hnp.arrays(np.int64, (1, 64), elements=st.integers(0, 16)), st.integers(0, 9))
def test_jacobian_of_any_1x64_image_of_counts_is_the_closed_form(counts, c):
    net = _network()
    jac = jacobian(lambda v: net(v / 16))(counts)
    assert jac.shape == (1, 10, 1, 64)
    np.testing.assert_allclose(jac.data[0, c, 0], _input_jacobian(net, counts[0] / 16)[c] / 16, rtol=1e-9,
                               atol=1e-12)


def test_eval_and_train_mode_give_the_same_saliency_as_no_layer_computes_differently():
    net, x, c = _network(), IMAGES[5], int(LABELS[5])
    in_eval = grad(lambda v: net.eval()(v)[c])(x).data
    assert not any(module.training for module in net.modules())
    in_training = grad(lambda v: net.train()(v)[c])(x).data
    assert all(module.training for module in net.modules())
    np.testing.assert_array_equal(in_eval, in_training)
    np.testing.assert_allclose(in_eval, _input_jacobian(net, x)[c], rtol=1e-10, atol=1e-12)
