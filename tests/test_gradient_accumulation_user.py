"""A PyTorch user who accumulates gradients: backward() on several mini-batch costs before one optimizer step, zero_grad
on the optimizer, the model and single Values, backward twice on one graph, backward(inputs=...), steps taken with
gradients added up by hand, and what fit leaves in ``.grad``.  Gradients are checked against closed forms (a linear
model under the squared error) and, for the optimizers, against PyTorch's trajectories."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, fit, losses, nn, optim, viz


def linear_gradient(x: np.ndarray, y: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """∂C/∂W and ∂C/∂b, in closed form, of C = (1/n) Σ_s ‖x_s W + b − y_s‖² (the seed's squared error)."""
    residual = x @ w + b - y
    return 2 * x.T @ residual / len(x), 2 * residual.sum(axis=0) / len(x)


def linear_problem(seed: int, samples: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(samples, 3)), rng.normal(size=(samples, 2)), rng.normal(size=(3, 2)),
            rng.normal(size=(2,)))


def batch_cost(w: Value, b: Value, x: np.ndarray, y: np.ndarray) -> Value:
    return losses.squared_error(Value(x, requires_grad=False) @ w + b, y)


# --- defects ---------------------------------------------------------------------------------------------------

def test_draw_graph_says_when_the_grads_come_from_several_passes() -> None:
    net = nn.MLP([1, 1, 1], rng=0)
    x = Value(np.array([[0.5]]), requires_grad=False)
    for target in (1.0, 0.0):  # two micro-batches, accumulated
        cost = losses.squared_error(net(x), np.array([[target]]))
        cost.backward()
    key = viz.draw_graph(cost).graph_attr["label"]
    assert "zero_grad()" in key and "chain rule" in key


# --- guards: gradient accumulation -----------------------------------------------------------------------------

@given(seed=st.integers(0, 2**32 - 1), batches=st.sampled_from([1, 2, 3, 4, 6]))
def test_batch_means_over_the_batch_count_add_up_to_the_full_batch_gradient(seed: int, batches: int) -> None:
    x, y, w0, b0 = linear_problem(seed)
    w, b = Value(w0), Value(b0)
    size = len(x) // batches
    for k in range(batches):
        (batch_cost(w, b, x[k * size:(k + 1) * size], y[k * size:(k + 1) * size]) / batches).backward()
    expected_w, expected_b = linear_gradient(x, y, w0, b0)
    np.testing.assert_allclose(w.grad, expected_w, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b.grad, expected_b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cost", [losses.mean_squared_error, losses.cross_entropy])
def test_the_other_costs_accumulate_to_their_full_batch_gradient(cost) -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(12, 3))
    targets = rng.integers(0, 2, 12) if cost is losses.cross_entropy else rng.normal(size=(12, 2))
    w = Value(rng.normal(size=(3, 2)))
    cost(Value(x, requires_grad=False) @ w, targets).backward()
    full = w.grad.copy()
    w.zero_grad()
    for k in range(3):
        (cost(Value(x[4 * k:4 * k + 4], requires_grad=False) @ w, targets[4 * k:4 * k + 4]) / 3).backward()
    np.testing.assert_allclose(w.grad, full, rtol=1e-12, atol=1e-15)


def test_backward_twice_on_one_graph_adds_again_and_intermediates_keep_the_latest() -> None:
    x, y, w0, b0 = linear_problem(1)
    w, b = Value(w0), Value(b0)
    prediction = Value(x, requires_grad=False) @ w + b
    cost = losses.squared_error(prediction, y)
    cost.backward()
    cost.backward()  # no retain_graph= needed: the graph is kept
    expected_w, _ = linear_gradient(x, y, w0, b0)
    np.testing.assert_allclose(w.grad, 2 * expected_w, rtol=1e-12)
    np.testing.assert_allclose(prediction.grad, 2 * (x @ w0 + b0 - y) / len(x), rtol=1e-12)  # once, not twice
    with pytest.raises(TypeError, match="retain_graph.*not needed"):
        cost.backward(retain_graph=True)


def test_two_costs_sharing_parameters_add_up_as_their_sum_does() -> None:
    x, y, w0, b0 = linear_problem(2)
    w, b = Value(w0), Value(b0)
    batch_cost(w, b, x[:6], y[:6]).backward()
    batch_cost(w, b, x[6:], y[6:] * 3).backward()
    first, second = linear_gradient(x[:6], y[:6], w0, b0), linear_gradient(x[6:], y[6:] * 3, w0, b0)
    np.testing.assert_allclose(w.grad, first[0] + second[0], rtol=1e-12)
    np.testing.assert_allclose(b.grad, first[1] + second[1], rtol=1e-12)


def test_backward_with_inputs_adds_only_to_those() -> None:
    x, y, w0, b0 = linear_problem(3)
    w, b = Value(w0), Value(b0)
    batch_cost(w, b, x, y).backward(inputs=[b])
    assert w.grad is None
    before = np.full(w.shape, 7.0)
    w.grad = before.copy()
    batch_cost(w, b, x, y).backward(inputs=b)
    np.testing.assert_array_equal(w.grad, before)
    np.testing.assert_allclose(b.grad, 2 * linear_gradient(x, y, w0, b0)[1], rtol=1e-12)


@pytest.mark.parametrize("set_to_none", [True, False])
@pytest.mark.parametrize("who", ["optimizer", "model", "value"])
def test_zero_grad_set_to_none_or_zeros_of_its_own(who: str, set_to_none: bool) -> None:
    net = nn.MLP([2, 3, 1], rng=0)
    params = list(net.parameters())
    losses.squared_error(net(Value(np.ones((4, 2)), requires_grad=False)), np.zeros((4, 1))).backward()
    params[-1].grad = None  # one never reached: it stays None, as in PyTorch
    if who == "optimizer":
        optim.SGD(net, learning_rate=0.1).zero_grad(set_to_none=set_to_none)
    elif who == "model":
        net.zero_grad(set_to_none=set_to_none)
    else:
        for p in params:
            p.zero_grad(set_to_none=set_to_none)
    assert params[-1].grad is None
    for p in params[:-1]:
        if set_to_none:
            assert p.grad is None
        else:
            np.testing.assert_array_equal(p.grad, np.zeros(p.shape))
            assert p.grad.dtype == p.dtype
    if not set_to_none:  # each an array of its own: a write into one changes no other
        params[0].grad += 1
        assert not params[1].grad.any()


@pytest.mark.parametrize("kind", ["GradientDescent", "SGD", "Adam"])
def test_steps_on_gradients_accumulated_by_hand_follow_pytorch(kind: str) -> None:
    torch = pytest.importorskip("torch")
    x, y, w0, b0 = linear_problem(4)
    w, b = Value(w0), Value(b0)
    tw, tb = (torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True))
    ours, theirs = {
        "GradientDescent": (optim.GradientDescent([w, b], 0.05), torch.optim.SGD([tw, tb], lr=0.05)),
        "SGD": (optim.SGD([w, b], 0.05, momentum=0.9), torch.optim.SGD([tw, tb], lr=0.05, momentum=0.9)),
        "Adam": (optim.Adam([w, b], 0.05), torch.optim.Adam([tw, tb], lr=0.05)),
    }[kind]
    for _ in range(4):
        ours.zero_grad()
        theirs.zero_grad()
        for k in range(3):
            xb, yb = x[4 * k:4 * k + 4], y[4 * k:4 * k + 4]
            (batch_cost(w, b, xb, yb) / 3).backward()
            ((((torch.tensor(xb) @ tw + tb - torch.tensor(yb)) ** 2).sum(dim=1)).mean() / 3).backward()
        ours.step()
        theirs.step()
    np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.data, tb.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_a_step_uses_the_grad_as_it_is() -> None:
    w = Value([1.0, -2.0])
    w.grad = np.array([0.5, 4.0])  # accumulated (or set) by hand
    optim.GradientDescent([w], learning_rate=0.1).step()
    np.testing.assert_allclose(w.data, [1.0 - 0.05, -2.0 - 0.4])


# --- guards: fit's own zero_grad habits --------------------------------------------------------------------------

def test_fit_ignores_gradients_from_before_and_leaves_the_last_episodes() -> None:
    x, y, w0, b0 = linear_problem(6)
    rate = 0.05
    w, b = Value(w0), Value(b0)
    w.grad, b.grad = np.full(w.shape, 1e6), np.full(b.shape, -1e6)  # accumulated before the call
    fit(lambda inputs: inputs @ w + b, x, y, optimizer=optim.GradientDescent([w, b], rate), episodes=2,
        progress=False)
    gw0, gb0 = linear_gradient(x, y, w0, b0)
    w1, b1 = w0 - rate * gw0, b0 - rate * gb0
    gw1, gb1 = linear_gradient(x, y, w1, b1)
    np.testing.assert_allclose(w.grad, gw1, rtol=1e-10)  # the last episode's, at the parameters before its update
    np.testing.assert_allclose(b.grad, gb1, rtol=1e-10)
    np.testing.assert_allclose(w.data, w1 - rate * gw1, rtol=1e-10)


def test_fit_with_mini_batches_leaves_the_last_batchs_gradient() -> None:
    x, y, w0, b0 = linear_problem(7, samples=10)
    rate = 0.05
    w, b = Value(w0), Value(b0)
    fit(lambda inputs: inputs @ w + b, x, y, optimizer=optim.GradientDescent([w, b], rate), episodes=1,
        batch_size=4, shuffle=False, progress=False)
    wk, bk = w0, b0
    for start in (0, 4, 8):  # batches of 4, 4 and 2
        gw, gb = linear_gradient(x[start:start + 4], y[start:start + 4], wk, bk)
        wk, bk = wk - rate * gw, bk - rate * gb
    np.testing.assert_allclose(w.grad, gw, rtol=1e-10)
    np.testing.assert_allclose(b.grad, gb, rtol=1e-10)
    np.testing.assert_allclose(w.data, wk, rtol=1e-10)


# --- guards: drawings after one pass ----------------------------------------------------------------------------

def test_draw_graph_after_one_pass_or_a_step_adds_no_word_on_passes() -> None:
    net = nn.MLP([1, 1, 1], rng=0)
    x = Value(np.array([[0.5]]), requires_grad=False)
    cost = losses.squared_error(net(x), np.array([[1.0]]))
    cost.backward()
    assert "chain rule" not in viz.draw_graph(cost).graph_attr["label"]
    optim.GradientDescent(net, 0.1).step()  # the graph is stale now: its .grad are still one pass's
    assert "chain rule" not in viz.draw_graph(cost).graph_attr["label"]
    w = Value(np.array([1.0, 2.0], dtype=np.float32))
    y = (w * w * w).sum() + w.exp().mean()
    y.backward()
    assert "chain rule" not in viz.draw_graph(y).graph_attr["label"]
