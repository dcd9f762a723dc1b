"""Memory, measured as an engineer would: tracemalloc's current and peak bytes of fit on the bundled digits
(1797 × 64, an MLP 64-32-10), of a backward pass, of the Hessian of a ~100-parameter network, of check_gradients on
1000 numbers and of a drawing, compared with the arrays that must exist (inputs, activations, gradients).
Ratios are generous; every number compared is a count of bytes, never a time."""

import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import Value, autodiff, nn, no_grad, optim, viz
from tinygrad_edu import functional as F
from tinygrad_edu.data import load_digits, one_hot
from tinygrad_edu.losses import squared_error
from tinygrad_edu.testing import check_gradients
from tinygrad_edu.training import fit

INPUTS, LABELS = load_digits()
TARGETS = one_hot(LABELS, 10)
PIXELS = np.rint(INPUTS * 16).astype(np.int64)  # the digits' pixels as the integers 0 … 16
SAMPLES = len(INPUTS)
# the arrays one forward pass of the 64-32-10 network on all samples must hold: per layer x @ W, + b, activation
ACTIVATIONS = 3 * SAMPLES * (32 + 10) * 8


@pytest.fixture
def traced() -> Iterator[Callable[[], int]]:
    """tracemalloc on; the fixture gives the bytes allocated since it started."""
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    try:
        yield lambda: tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()


def peak_of(call: Callable[[], Any]) -> tuple[int, Any]:
    """The peak bytes above those held before ``call``, and its result."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        result = call()
        return tracemalloc.get_traced_memory()[1] - base, result
    finally:
        tracemalloc.stop()


def network() -> nn.MLP:
    return nn.MLP([64, 32, 10], init="xavier", rng=0)


def held_during_training(inputs: np.ndarray, batch_size: int | None, held: Callable[[], int]) -> int:
    """The most bytes held (above those before fit) when the model is called on a batch of training, not on all
    samples for the final cost."""
    net = network()
    seen: list[int] = []

    def model(x: Value) -> Value:
        if batch_size is None or len(x) < SAMPLES:
            seen.append(held())
        return net(x)

    fit(model, inputs, TARGETS, optimizer=optim.GradientDescent(net, 0.1), episodes=2, batch_size=batch_size,
        seed=0, progress=False)
    return max(seen[1:])  # (from the second call: the first update's gradients exist then)


def test_mini_batch_fit_holds_no_copy_of_all_the_inputs_while_training(traced: Callable[[], int]) -> None:
    held = held_during_training(INPUTS, 64, traced)
    assert held < 0.5 * INPUTS.nbytes, f"{held} bytes held while training on batches of 64"


def test_full_batch_fit_on_integer_inputs_holds_one_float64_copy(traced: Callable[[], int]) -> None:
    held = held_during_training(PIXELS, None, traced)  # (the caller's array: allocated before tracing started)
    assert held < 1.5 * INPUTS.nbytes, f"{held} bytes held for {INPUTS.nbytes} bytes of float64 inputs"


def test_integer_inputs_train_bit_for_bit_as_their_float64_copy() -> None:
    histories = []
    for inputs in (PIXELS, PIXELS.astype(np.float64)):
        net = network()
        histories.append(fit(net, inputs, TARGETS, optimizer=optim.GradientDescent(net, 0.01), episodes=3,
                             progress=False))
    assert histories[0].cost == histories[1].cost
    assert histories[0].final_cost == histories[1].final_cost


@pytest.mark.parametrize("batch_size", [None, 500])
def test_the_final_cost_is_the_cost_on_all_samples_after_training(batch_size: int | None) -> None:
    net = network()
    history = fit(net, INPUTS, TARGETS, optimizer=optim.GradientDescent(net, 0.5), episodes=2,
                  batch_size=batch_size, seed=0, progress=False)
    with no_grad():
        assert history.final_cost == float(squared_error(net(Value(INPUTS, requires_grad=False)), TARGETS).item())


def test_full_batch_fit_peak_is_a_few_times_the_arrays_it_needs_and_does_not_grow_with_episodes() -> None:
    peaks = []
    for episodes in (1, 8):
        net = network()
        peak, _ = peak_of(lambda net=net, episodes=episodes: fit(
            net, INPUTS, TARGETS, optimizer=optim.GradientDescent(net, 0.5), episodes=episodes, progress=False))
        peaks.append(peak)
    needed = INPUTS.nbytes + 2 * ACTIVATIONS  # a copy of the inputs, the forward pass and its gradients
    assert peaks[0] < 2 * needed, (peaks, needed)
    assert peaks[1] < 1.05 * peaks[0], peaks


def test_mini_batch_fit_peak_is_below_full_batch_fit_peak() -> None:
    peaks = []
    for batch_size in (None, 64):
        net = network()
        peak, _ = peak_of(lambda net=net, batch_size=batch_size: fit(
            net, INPUTS, TARGETS, optimizer=optim.GradientDescent(net, 0.5), episodes=2, batch_size=batch_size,
            seed=0, progress=False))
        peaks.append(peak)
    assert peaks[1] < 0.75 * peaks[0], peaks


def test_one_backward_pass_holds_about_one_gradient_per_forward_array() -> None:
    net = network()
    x = Value(INPUTS, requires_grad=False)

    def forward_backward() -> Value:
        cost = squared_error(net(x), TARGETS)
        cost.backward()
        return cost

    peak, cost = peak_of(forward_backward)
    assert peak < 2.5 * ACTIVATIONS, (peak, ACTIVATIONS)
    assert net.parameters()[0].grad.shape == (64, 32) and np.isfinite(cost.item())


def test_the_hessian_of_a_hundred_parameters_takes_memory_of_order_n_squared() -> None:
    net = nn.MLP([3, 10, 5], init="xavier", rng=0)  # 95 parameters
    params = net.parameters()
    n = sum(p.size for p in params)
    x = Value(INPUTS[:50, :3], requires_grad=False)
    peak, (gradient, hessian) = peak_of(
        lambda: autodiff.gradient_and_hessian(squared_error(net(x), TARGETS[:50, :5]), params))
    assert hessian.shape == (n, n) and np.allclose(hessian, hessian.T, atol=1e-10)
    assert peak < 16 * n * n * 8, (peak, n)  # (n passes each keeping its graph would be n times a graph)


def test_check_gradients_on_a_thousand_numbers_builds_no_thousand_by_thousand_matrix() -> None:
    a = np.random.default_rng(0).normal(size=1000)
    peak, report = peak_of(lambda: check_gradients(lambda v: (F.tanh(v) * v).sum(), a))
    assert report.elements == 1000
    assert peak < 0.1 * a.size * a.size * 8, peak


def test_drawing_the_graph_of_the_network_on_all_samples_holds_no_copy_of_its_inputs() -> None:
    net = network()
    cost = squared_error(net(Value(INPUTS, requires_grad=False)), TARGETS)
    cost.backward()
    peak, drawing = peak_of(lambda: viz.draw_graph(cost))
    assert "matmul" in drawing.source
    assert peak < INPUTS.nbytes, peak
