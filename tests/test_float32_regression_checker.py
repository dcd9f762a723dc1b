"""Float32 end to end through this round's changes, as an engineer who trains ``model.float()`` on float32 inputs and
targets meets them: the ln 0 advice of a NaN cost, detect_anomaly's new sum checks, fit's integer inputs, the
mini-batch blame and averages, the optimizers' dtype advice, the dependency tree of a vanishing float32 gradient and
the binary cross-entropy through softplus.  Numbers are checked against float64 runs and closed forms."""

import math
import re
import warnings

import numpy as np
import pytest

from tinygrad_edu import Value, detect_anomaly, nn, optim
from tinygrad_edu import functional as F
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.losses import squared_error
from tinygrad_edu.training import fit
from tinygrad_edu.viz import draw_dependency_tree


def _naive_binary_cross_entropy(z: Value, y: np.ndarray) -> Value:
    s = z.sigmoid()
    return -(y * s.log() + (1 - y) * (1 - s).log()).mean()


def _ln0_message(dtype: type, logit: float) -> str:
    """fit's error for a naive binary cross-entropy whose σ rounds to 1 at z = ±logit (one identity neuron)."""
    net = nn.Layer(1, 1, "identity", rng=0)
    net.weights.data[...], net.biases.data[...] = 1.0, 0.0
    if dtype is np.float32:
        net.float()
    x = np.array([[logit], [-logit]], dtype)
    y = np.array([[0.0], [1.0]], dtype)
    with pytest.raises(FloatingPointError) as raised:
        fit(net, x, y, cost=_naive_binary_cross_entropy, optimizer=optim.SGD(net, 0.1), episodes=1, progress=False)
    return str(raised.value)


# --- defects ------------------------------------------------------------------------------------------------------

def test_the_ln0_advice_of_a_float32_model_gives_float32s_rounding_points() -> None:
    sigma = Value(np.array([16.5, 17.0, 20.0, -103.5, -104.5], np.float32)).sigmoid().data
    assert sigma[0] < 1 and sigma[1] == sigma[2] == 1 and sigma[3] > 0 and sigma[4] == 0  # the points, in float32
    message = _ln0_message(np.float32, 20.0)
    assert "ln 0" in message
    assert "37" not in message and "745" not in message, message
    assert re.search(r"above about 17 or below about −104\b", message), message


def test_the_sigmoid_docs_say_where_a_float32_sigma_rounds() -> None:
    doc = " ".join((F.sigmoid.__doc__ or "").split())
    assert "float32" in doc and "17" in doc and "−104" in doc
    sigma = Value(np.array([16.5, 17.0, -103.5, -104.5], np.float32)).sigmoid().data
    assert sigma[0] < 1 and sigma[1] == 1 and sigma[2] > 0 and sigma[3] == 0


def test_detect_anomaly_sees_a_float32_sum_with_a_float64_grad_overflow() -> None:
    x = Value(np.array([1e-30], np.float32), label="x")
    x.grad = np.array([3e38])  # float64, by hand; the README: gradients have the dtype of their Value
    with pytest.raises(FloatingPointError, match=r"gradient of 'x' \(a leaf\) holds NaN or inf once added to its "
                                                 r"\.grad"), detect_anomaly():
        (x * np.float32(3e38)).sum().backward()  # ∂/∂x = 3e38, finite; 3e38 + 3e38 overflows float32
    np.testing.assert_array_equal(x.grad, [3e38])  # left as it was


class _Spy:
    """A model that records the dtypes of the inputs it gets and the outputs it gives."""

    def __init__(self, net: nn.Module) -> None:
        self.net, self.seen = net, set()

    def __call__(self, inputs: Value) -> Value:
        out = self.net(inputs)
        self.seen.add((inputs.dtype, out.dtype))
        return out

    def parameters(self) -> list[Value]:
        return self.net.parameters()


def test_fit_trains_a_float32_model_on_integer_inputs_in_float32() -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(16, 4)).astype(np.uint8)
    targets = np.eye(2, dtype=np.float32)[rng.integers(0, 2, 16)]
    spy = _Spy(nn.MLP([4, 3, 2], rng=0).float())
    assert spy.net(pixels).dtype == np.float32  # the model called on them itself computes in float32
    history = fit(spy, pixels, targets, optimizer=optim.SGD(spy.net, 1e-4), episodes=2, progress=False)
    assert spy.seen == {(np.dtype(np.float32), np.dtype(np.float32))}
    # the same numbers as the inputs converted by hand
    again = nn.MLP([4, 3, 2], rng=0).float()
    expected = fit(again, pixels.astype(np.float32), targets, optimizer=optim.SGD(again, 1e-4), episodes=2,
                   progress=False)
    assert history.cost == expected.cost and history.final_cost == expected.final_cost


# --- guards -------------------------------------------------------------------------------------------------------

def test_the_ln0_advice_of_a_float64_model_keeps_float64s_rounding_points() -> None:
    message = _ln0_message(np.float64, 40.0)
    assert "above about 37 or below about −745" in message, message
    sigma = Value(np.array([36.0, 37.5, -745.0, -745.2])).sigmoid().data
    assert sigma[0] < 1 and sigma[1] == 1 and sigma[2] > 0 and sigma[3] == 0


class _Still:
    """An optimizer that makes no change: every batch of an episode is at the same parameters."""

    def __init__(self, params: list[Value]) -> None:
        self.params = params

    def step(self, closure: object = None, *, cost: object = None) -> None:
        return None

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None


def test_a_float32_mini_batch_episode_averages_cost_and_gradient_norm_by_batch_share() -> None:
    """History's cost and ‖∇C‖ with mini-batches: the batches' numbers weighted by their share of the samples (a
    last batch of 2 of 10 counts 1/5), plain Python floats, against the closed form of y = w·x in float64."""
    x = np.linspace(-1, 1, 10, dtype=np.float32).reshape(-1, 1)
    y = (3 * x + 0.5).astype(np.float32)
    w = Value(np.array([[0.7]], np.float32))
    history = fit(lambda v: v @ w, x, y, cost=squared_error, optimizer=_Still([w]), episodes=1, batch_size=4,
                  shuffle=False, progress=False)
    xs, ys, w0 = x.astype(np.float64), y.astype(np.float64), 0.7
    costs, norms, shares = [], [], []
    for rows in (slice(0, 4), slice(4, 8), slice(8, 10)):
        error = xs[rows] * np.float64(np.float32(w0)) - ys[rows]
        costs.append(np.mean(error ** 2))
        norms.append(abs(np.mean(2 * error * xs[rows])))
        shares.append(len(xs[rows]) / 10)
    assert type(history.cost[0]) is float and type(history.gradient_norm[0]) is float
    assert math.isclose(history.cost[0], float(np.dot(shares, costs)), rel_tol=1e-6)
    assert math.isclose(history.gradient_norm[0], float(np.dot(shares, norms)), rel_tol=1e-6)
    assert w.dtype == np.float32 and w.grad.dtype == np.float32


def test_float32_mini_batch_training_keeps_float32_and_follows_the_float64_run() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 2)).astype(np.float32)
    y = (x[:, :1] * 2 - x[:, 1:]).astype(np.float32)
    runs = {}
    for dtype in (np.float32, np.float64):
        net = nn.MLP([2, 4, 1], rng=0)
        if dtype is np.float32:
            net.float()
        history = fit(net, x.astype(dtype), y.astype(dtype), optimizer=optim.Adam(net, 0.01), episodes=3,
                      batch_size=16, seed=0, progress=False)
        assert all(p.dtype == dtype and p.grad.dtype == dtype for p in net.parameters())
        runs[dtype] = history
    np.testing.assert_allclose(runs[np.float32].cost, runs[np.float64].cost, rtol=1e-5)
    np.testing.assert_allclose(runs[np.float32].gradient_norm, runs[np.float64].gradient_norm, rtol=1e-4)


def test_the_mini_batch_blame_puts_float32_parameters_back_bit_for_bit() -> None:
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(-1, 1)
    observed = np.ones((12, 1), np.float32)
    observed[4:8] = 0.0  # batch 2 of 3 (in order) has no observed target: 0/0

    def masked(outputs: Value, targets: np.ndarray) -> Value:
        targets = np.asarray(targets)
        return (((outputs - targets[:, :1]) ** 2) * targets[:, 1:]).sum() / targets[:, 1:].sum()

    net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=0).float()
    optimizer = optim.SGD(net, learning_rate=0.1)
    after: list[np.ndarray] = []
    step = optimizer.step

    def recording_step(*args: object, **kwargs: object) -> object:
        done = step(*args, **kwargs)
        after[:] = [p.data.copy() for p in net.parameters()]
        return done

    optimizer.step = recording_step  # type: ignore[method-assign]
    with pytest.raises(FloatingPointError, match="on batch 2 of 3, as it does on this batch at the parameters before "
                                                 "any update: its samples, not the steps"):
        fit(net, x, np.concatenate([x ** 2, observed], axis=1), cost=masked, optimizer=optimizer, episodes=2,
            batch_size=4, shuffle=False, progress=False)
    assert after  # one update was made (batch 1) before the blame looked at the start
    for p, kept in zip(net.parameters(), after, strict=True):
        assert p.dtype == np.float32
        np.testing.assert_array_equal(p.data, kept)  # (bit for bit: the start was put in and taken out again)


@pytest.mark.parametrize("kind", [optim.Adam, optim.SGD])
def test_optimizer_state_moves_between_float32_and_float64_as_its_advice_says(kind: type) -> None:
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(-1, 1)
    settings = {"learning_rate": 0.01} if kind is optim.Adam else {"learning_rate": 0.1, "momentum": 0.9}
    net = nn.MLP([1, 3, 1], rng=0).float()
    optimizer = kind(net, **settings)
    fit(net, x, x ** 2, optimizer=optimizer, episodes=2, progress=False)
    saved = optimizer.state_dict()
    doubled = nn.MLP([1, 3, 1], rng=0)
    with pytest.raises(ValueError, match="saved while the model was float32: load it into the model in float32, "
                                         "then convert the model to float64"):
        kind(doubled, **settings).load_state_dict(saved)
    following = nn.MLP([1, 3, 1], rng=0).float()  # the advice: load in float32, then convert
    resumed = kind(following, **settings)
    resumed.load_state_dict(saved)
    following.double()
    back = resumed.state_dict()
    arrays = [k for k in saved if k.startswith("state.") and saved[k].dtype.kind == "f"]
    assert arrays and all(back[k].dtype == np.float64 for k in arrays)
    for k in arrays:  # float32 → float64 is exact
        np.testing.assert_array_equal(back[k], saved[k].astype(np.float64))
    with pytest.raises(ValueError, match="saved while the model was float64"):
        kind(nn.MLP([1, 3, 1], rng=0).float(), **settings).load_state_dict(back)


def _vanishing_chain(dtype: type, layers: int = 20) -> tuple[nn.Network, Value]:
    """A chain of sigmoid neurons with weights 0.05: each layer scales the gradient by about 0.05 · 0.2, so the
    first layers' gradients are below float32's smallest normal number (1.2e-38)."""
    net = nn.Network(*(nn.Layer(1, 1, "sigmoid", rng=i) for i in range(layers)))
    for layer in net.layers:
        layer.weights.data[...] = 0.05
    if dtype is np.float32:
        net.float()
    cost = squared_error(net(np.array([0.5], dtype)), np.array([0.25], dtype))
    cost.backward()
    return net, cost


def test_a_vanishing_float32_gradient_in_a_20_layer_chain_is_drawn_with_the_underflow_note() -> None:
    net32, cost32 = _vanishing_chain(np.float32)
    net64, _ = _vanishing_chain(np.float64)
    tree = dependency_tree(cost32)  # one pass: no "other backward passes" alarm, subnormal gradients and all
    tiny = float(np.finfo(np.float32).smallest_normal)
    for i, (layer32, layer64) in enumerate(zip(net32.layers, net64.layers, strict=True), start=1):
        grad32, grad64 = layer32.weights.grad.item(), layer64.weights.grad.item()
        assert layer32.weights.grad.dtype == np.float32
        if abs(grad64) >= tiny:  # normal float32 numbers keep float32's digits
            assert math.isclose(grad32, grad64, rel_tol=1e-5), (i, grad32, grad64)
            assert math.isclose(tree.chain_rule(f"W^{i}"), grad32, rel_tol=1e-5)
    assert abs(net64.layers[0].weights.grad.item()) < tiny  # the chain does reach below float32's normal numbers
    source = draw_dependency_tree(cost32).source
    notes = [line for line in source.splitlines() if "float32 underflow" in line]
    assert notes and all(re.search(r"∂C/∂[Wb]¹ = ", line) for line in notes), notes
    assert "underflow" not in draw_dependency_tree(_vanishing_chain(np.float64)[1]).source


def test_a_second_backward_pass_of_the_float32_chain_is_still_called_mixed() -> None:
    net, _ = _vanishing_chain(np.float32)
    cost = squared_error(net(np.array([0.5], np.float32)), np.array([0.25], np.float32))
    cost.backward()  # .grad now holds two passes: twice the chain rule
    with pytest.raises(ValueError, match="holds contributions from other backward passes"):
        dependency_tree(cost)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_cross_entropy_through_softplus_at_plus_minus_100_matches_the_closed_form(dtype: type) -> None:
    z0 = np.array([100.0, -100.0, 100.0, -100.0, 0.0, 20.0, -20.0])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0])
    z = Value(z0.astype(dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow on the way
        cost = (y.astype(dtype) * F.softplus(-z) + (1 - y.astype(dtype)) * F.softplus(z)).mean()
        cost.backward()
    signed = np.where(y == 1, -z0, z0)
    expected = np.mean(np.maximum(signed, 0) + np.log1p(np.exp(-np.abs(signed))))
    slope = np.where(y == 1, -1 / (1 + np.exp(z0)), 1 / (1 + np.exp(-z0)))  # σ(z) − y, as −σ(−z) where y = 1
    assert cost.dtype == dtype and z.grad.dtype == dtype
    rtol = 1e-6 if dtype is np.float32 else 1e-12
    np.testing.assert_allclose(cost.item(), expected, rtol=rtol)
    # (σ(z) − y)/n; at z = ±100 with the right label it is about 5e-45, a few float32 subnormal steps
    np.testing.assert_allclose(z.grad, slope / len(y), rtol=rtol, atol=float(np.finfo(dtype).smallest_normal))


def test_detect_anomaly_sees_3e38_plus_3e38_summed_over_two_float32_uses() -> None:
    x = Value(np.array([1e-30], np.float32), label="x")
    with pytest.raises(FloatingPointError, match=r"'x' \(a leaf\) holds NaN or inf once summed over the operations"), \
            detect_anomaly():
        (x * np.float32(3e38) + x * np.float32(3e38)).sum().backward()  # each part 3e38, finite
    assert x.grad is None
    y = Value(np.array([1e-30], np.float32))
    (y * np.float32(1e38) + y * np.float32(1e38)).sum().backward()  # 2e38 fits: no alarm without the block either
    np.testing.assert_array_equal(y.grad, np.array([2e38], np.float32))
