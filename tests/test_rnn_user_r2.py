"""An engineer building an Elman RNN, h_t = tanh(h_{t−1} W_h + x_t W_x + b), from the package's primitives: batches
of sequences of different lengths with masks, many-to-many and many-to-one costs, truncated BPTT across episodes,
gradient clipping by global norm by hand, ``fit`` on sequences, the Hessian of a 2-step RNN, and drawings of a long
unroll.  Gradients are checked against central finite differences or closed forms."""

import gc
import re
import shutil
import weakref
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, nn, optim
from tinygrad_edu.autodiff import grad, hessian
from tinygrad_edu.testing import check_gradients
from tinygrad_edu.training import fit
from tinygrad_edu.viz import draw_graph, render

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")

H, D = 3, 1


def _weights(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(H, H)) * 0.5, rng.normal(size=(D, H)) * 0.5, rng.normal(size=H) * 0.1,
            rng.normal(size=(H, 1)) * 0.5]


def _masked_outputs(w_h, w_x, b, v, x, mask):
    """Outputs ``(n, steps, 1)`` of a batch of sequences ``x`` ``(n, steps, D)``; where ``mask`` ``(n, steps)`` is
    False (past a sequence's end) the hidden state is carried on unchanged."""
    h = Value(np.zeros((x.shape[0], H)), requires_grad=False)
    outputs = []
    for t in range(x.shape[1]):
        h = F.where(mask[:, t:t + 1], (h @ w_h + x[:, t, :] @ w_x + b).tanh(), h)
        outputs.append(h @ v)
    return F.stack(outputs, axis=1)


def _masked_cost(w_h, w_x, b, v, x, y, mask):
    """The many-to-many squared error averaged over the steps inside the sequences."""
    return ((((_masked_outputs(w_h, w_x, b, v, x, mask) - y) ** 2)[..., 0]) * mask).sum() / mask.sum()


def _batch(seed: int, n: int, steps: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, steps + 1, size=n)
    mask = np.arange(steps)[None, :] < lengths[:, None]
    return rng.normal(size=(n, steps, D)), rng.normal(size=(n, steps, 1)), mask


def _unrolled_cost(steps: int, label_states: bool = False) -> Value:
    rng = np.random.default_rng(0)
    w_h, w_x = Value(rng.normal(size=(H, H)) * 0.5, label="W_h"), Value(rng.normal(size=(D, H)) * 0.5, label="W_x")
    b, v = Value(np.zeros(H), label="b"), Value(rng.normal(size=H), label="v")
    xs = np.sin(np.arange(steps + 1) * 0.3)
    h = Value(np.zeros(H), requires_grad=False, label="h_0")
    cost: Value | int = 0
    for t in range(steps):
        h = (h @ w_h + np.array([xs[t]]) @ w_x + b).tanh()
        if label_states:
            h.label = f"h_{t + 1}"
        cost = cost + (h @ v - xs[t + 1]) ** 2
    assert isinstance(cost, Value)
    cost = cost / steps
    cost.backward()
    return cost


def _overflow(svg: str) -> tuple[float, float]:
    """How far (in points) the scaled drawing reaches past the SVG's viewBox, to the right and at the bottom."""
    width, height = map(float, re.search(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"', svg).groups())
    scale = float(re.search(r'transform="scale\(([\d.]+) ', svg).group(1))
    page = re.search(r'<g id="graph0"[^>]*>\s*<title>[^<]*</title>\s*<polygon [^>]*points="([^"]+)"', svg).group(1)
    points = [tuple(map(float, point.split(","))) for point in page.split()]
    drawn_width = (max(x for x, _ in points) - min(x for x, _ in points)) * scale
    drawn_height = (max(y for _, y in points) - min(y for _, y in points)) * scale
    return drawn_width - width, drawn_height - height


# --- defects ---------------------------------------------------------------------------------------------------

@needs_dot
@pytest.mark.parametrize("where", ["render", "jupyter"])
def test_a_long_unroll_drawn_at_the_default_size_fits_inside_its_svg(where: str, tmp_path: Path) -> None:
    drawing = draw_graph(_unrolled_cost(200, label_states=True))
    if where == "render":
        svg = render(drawing, tmp_path / "unrolled.svg").read_text(encoding="utf-8")
    else:
        svg = drawing._repr_mimebundle_()["image/svg+xml"]
    assert 'transform="scale(1 1)' not in svg  # the drawing was shrunk to fit 9 inches
    right, bottom = _overflow(svg)
    assert right <= 0.05 and bottom <= 0.05, f"the drawing reaches {right:.1f} pt right and {bottom:.1f} pt below"
    assert "gold: output" in svg  # the legend is still in it


@pytest.mark.parametrize("name", ["RNN", "RNNCell", "LSTM", "LSTMCell", "GRU", "GRUCell", "SimpleRNN"])
def test_recurrent_layers_of_pytorch_and_keras_say_how_to_unroll_one(name: str) -> None:
    with pytest.raises(AttributeError, match=rf"^module 'tinygrad_edu\.nn' has no attribute '{name}' \(a .*name\); "
                                             r"there are no recurrent layers here; unroll .*h = h\.detach\(\)"):
        getattr(nn, name)
    assert name not in dir(nn)


def test_an_output_layer_given_all_the_hidden_states_says_how_to_reshape_them() -> None:
    layer = nn.Layer(H, 2, activation="identity", init="xavier", rng=0)
    states = Value(np.random.default_rng(0).normal(size=(4, 5, H)))
    with pytest.raises(ValueError, match=rf"got data of shape \(4, 5, {H}\); .*x\.reshape\(-1, {H}\), and the "
                                         r"outputs back with \.reshape\(4, 5, -1\)"):
        layer(states)
    outputs = layer(states.reshape(-1, H)).reshape(4, 5, -1)  # the advice, followed: each step's own output
    for t in range(5):
        np.testing.assert_allclose(outputs.data[:, t], states.data[:, t] @ layer.weights.data + layer.biases.data,
                                   rtol=1e-12)


# --- guards ----------------------------------------------------------------------------------------------------

@given(seed=st.integers(0, 2**16), n=st.integers(1, 3), steps=st.integers(1, 5))
def test_masked_batch_of_ragged_sequences_has_the_gradient_of_central_differences(seed: int, n: int,
                                                                                   steps: int) -> None:
    x, y, mask = _batch(seed, n, steps)
    check_gradients(lambda w_h, w_x, b, v: _masked_cost(w_h, w_x, b, v, x, y, mask), *_weights(seed))


def test_steps_past_a_sequences_end_change_neither_its_cost_nor_its_gradient() -> None:
    x, y, mask = _batch(3, 4, 6)
    noisy_x, noisy_y = x.copy(), y.copy()
    rng = np.random.default_rng(1)
    noisy_x[~mask] = rng.normal(size=(~mask).sum())[:, None] * 100
    noisy_y[~mask] = rng.normal(size=(~mask).sum())[:, None] * 100
    assert (~mask).any()
    results = []
    for inputs, targets in ((x, y), (noisy_x, noisy_y)):
        params = [Value(a) for a in _weights(3)]
        cost = _masked_cost(*params, inputs, targets, mask)
        cost.backward()
        results.append((cost.item(), [p.grad.copy() for p in params]))
    assert results[0][0] == results[1][0]
    for first, second in zip(results[0][1], results[1][1], strict=True):
        np.testing.assert_array_equal(first, second)


def test_the_hessian_of_a_two_step_rnn_equals_differences_of_its_gradient() -> None:
    rng = np.random.default_rng(1)
    xs, ys = rng.normal(size=(2, 1)), rng.normal(size=2)

    def cost(p: Value) -> Value:  # p: W_h (2×2), W_x (1×2), b (2), v (2), flattened
        w_h, w_x, b, v = p[0:4].reshape(2, 2), p[4:6].reshape(1, 2), p[6:8], p[8:10]
        h = Value(np.zeros(2), requires_grad=False)
        total: Value | int = 0
        for t in range(2):
            h = (h @ w_h + xs[t] @ w_x + b).tanh()
            total = total + (h @ v - ys[t]) ** 2
        assert isinstance(total, Value)
        return total

    p0, eps = rng.normal(size=10) * 0.7, 1e-5
    slope = grad(cost)
    differences = np.stack([(slope(p0 + eps * e).data - slope(p0 - eps * e).data) / (2 * eps) for e in np.eye(10)],
                           axis=1)
    np.testing.assert_allclose(hessian(cost)(p0).data, differences, atol=1e-7)


def test_truncated_bptt_over_many_episodes_frees_each_chunks_graph() -> None:
    params = [Value(a) for a in _weights(0)]
    w_h, w_x, b, v = params
    opt = optim.SGD(params, learning_rate=0.01)
    series = np.sin(np.arange(1001) * 0.1)
    h = Value(np.zeros(H), requires_grad=False)
    chunks: list[weakref.ref] = []
    for chunk in range(100):
        h = h.detach()
        cost: Value | int = 0
        for t in range(10 * chunk, 10 * chunk + 10):
            h = (h @ w_h + np.array([[series[t]]]) @ w_x + b).tanh()
            cost = cost + ((h @ v - series[t + 1]) ** 2).sum()
        assert isinstance(cost, Value)
        opt.zero_grad()
        cost.backward()
        opt.step()
        chunks.append(weakref.ref(cost))
        del cost
    gc.collect()
    assert sum(ref() is not None for ref in chunks) == 0  # the carried state h is detached: no chunk is kept
    seen, stack, tanhs = set(), [h], 0  # the state carried on holds the graph of its own chunk only
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            tanhs += node.op == "tanh"
            stack.extend(node.parents)
    assert tanhs == 10


def test_clipping_by_global_norm_as_nn_utils_advises_scales_the_sgd_step() -> None:
    x, y, mask = _batch(5, 3, 6)
    params = [Value(a * 4) for a in _weights(5)]  # large weights: a large gradient
    cost = _masked_cost(*params, x, y, mask)
    cost.backward()
    before = [p.data.copy() for p in params]
    gradients = [p.grad.copy() for p in params]
    norm = optim.gradient_norm(params)
    expected_norm = np.sqrt(sum((g ** 2).sum() for g in gradients))
    assert norm == pytest.approx(expected_norm, rel=1e-12) and norm > 1.0
    for p in params:  # the advice of nn.utils: p.grad *= c / norm
        p.grad *= 1.0 / norm
    assert optim.gradient_norm(params) == pytest.approx(1.0, rel=1e-12)
    optim.SGD(params, learning_rate=0.5).step()
    for p, start, g in zip(params, before, gradients, strict=True):
        np.testing.assert_allclose(p.data, start - 0.5 * g / norm, rtol=1e-12, atol=1e-15)


class _SineRNN(nn.Module):
    def __init__(self, weights: list[np.ndarray]) -> None:
        self.w_h, self.w_x, self.b, self.v = (Value(a.copy()) for a in weights)

    def forward(self, x: Value) -> Value:  # x: (n, steps, D)
        return _masked_outputs(self.w_h, self.w_x, self.b, self.v, x, np.ones(x.shape[:2], dtype=bool))


def test_fit_on_sequences_with_the_mask_as_a_target_column_takes_the_masked_gradient_step() -> None:
    x, y, mask = _batch(7, 5, 6)
    targets = np.concatenate([y, mask[..., None].astype(float)], axis=2)  # (n, steps, 2): target, mask

    def cost(outputs: Value, t: np.ndarray) -> Value:
        return (((outputs - t[..., :1]) ** 2) * t[..., 1:]).sum() / t[..., 1:].sum()

    weights = _weights(7)
    model = _SineRNN(weights)
    fit(model, x, targets, optimizer=optim.SGD(model, learning_rate=0.1), episodes=1, cost=cost, progress=False)
    # by hand: the hidden state runs on past the ends (no where), only the cost is masked
    params = [Value(a.copy()) for a in weights]
    outputs = _masked_outputs(*params, x, np.ones_like(mask))
    by_hand = ((((outputs - y) ** 2)[..., 0]) * mask).sum() / mask.sum()
    by_hand.backward()
    for trained, p, start in zip((model.w_h, model.w_x, model.b, model.v), params, weights, strict=True):
        np.testing.assert_allclose(trained.data, start - 0.1 * p.grad, rtol=1e-10, atol=1e-13)


def test_a_rnn_trained_with_adam_on_a_sine_beats_repeating_the_last_value() -> None:
    series = np.sin(0.4 * np.arange(130))
    x = np.stack([series[i:i + 12] for i in range(0, 115, 3)])[..., None]
    y = np.stack([series[i + 1:i + 13] for i in range(0, 115, 3)])[..., None]
    model = _SineRNN(_weights(0))
    history = fit(model, x, y, optimizer=optim.Adam(model, learning_rate=0.05), episodes=60, batch_size=10, seed=0,
                  cost=lambda out, t: ((out - t) ** 2).mean(), progress=False)
    naive = float(((x - y) ** 2).mean())  # predict x_{t+1} = x_t
    assert history.final_cost < naive / 4
