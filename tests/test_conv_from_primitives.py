"""An engineer who builds convolutions and pooling out of the package's primitives: an im2col written with fancy
indexing, a 1-D convolution from stacked slices, max and average pooling from reshape and max/mean over axes, as a
Module with weight and bias, trained for a few episodes on the 8×8 digits.  Every gradient is checked against float64
central differences and against the closed forms of a hand-written numpy convolution (the gradient of a correlation
is a correlation)."""

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, nn
from tinygrad_edu.autodiff import hvp
from tinygrad_edu.data import load_digits
from tinygrad_edu.engine import backward_order
from tinygrad_edu.losses import cross_entropy
from tinygrad_edu.optim import Adam
from tinygrad_edu.testing import check_gradients
from tinygrad_edu.training import fit
from tinygrad_edu.viz import draw_graph


def _im2col(height: int, width: int, k: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Row and column index arrays (k·k, oh·ow) of every k×k window, stride 1."""
    oh, ow = height - k + 1, width - k + 1
    rows = np.repeat(np.arange(k), k)[:, None] + np.repeat(np.arange(oh), ow)[None, :]
    cols = np.tile(np.arange(k), k)[:, None] + np.tile(np.arange(ow), oh)[None, :]
    return rows, cols, oh, ow


def conv2d(x: Value, w: Value, b: Value) -> Value:
    """x (N, C, H, W), w (F, C, k, k), b (F,) → (N, F, oh, ow): a correlation, as PyTorch's conv2d."""
    n, c, height, width = x.shape
    filters, _, k, _ = w.shape
    rows, cols, oh, ow = _im2col(height, width, k)
    windows = x[:, :, rows, cols].reshape(n, c * k * k, oh * ow)
    return (w.reshape(filters, c * k * k) @ windows + b.reshape(1, filters, 1)).reshape(n, filters, oh, ow)


def conv1d(x: Value, w: Value, b: Value) -> Value:
    """x (N, L), w (k,), b () → (N, L − k + 1), from k stacked slices."""
    k, length = w.shape[0], x.shape[1]
    return F.stack([x[:, i:length - k + 1 + i] for i in range(k)], axis=-1) @ w + b


def max_pool(x: Value) -> Value:
    n, c, height, width = x.shape
    return x.reshape(n, c, height // 2, 2, width // 2, 2).max(axis=(3, 5))


def avg_pool(x: Value) -> Value:
    n, c, height, width = x.shape
    return x.reshape(n, c, height // 2, 2, width // 2, 2).mean(axis=(3, 5))


class Conv2d(nn.Module):
    def __init__(self, channels_in: int, channels_out: int, k: int, rng: np.random.Generator) -> None:
        self.weight = Value(rng.normal(size=(channels_out, channels_in, k, k)) / np.sqrt(channels_in * k * k))
        self.bias = Value(np.zeros(channels_out))

    def forward(self, x: Value) -> Value:
        return conv2d(x, self.weight, self.bias)


class TinyConvNet(nn.Module):
    def __init__(self, rng: np.random.Generator) -> None:
        self.conv = Conv2d(1, 4, 3, rng)
        self.out_weight = Value(rng.normal(size=(36, 10)) / 6)
        self.out_bias = Value(np.zeros(10))

    def forward(self, x: Value) -> Value:
        n = x.shape[0]
        pooled = max_pool(self.conv(x.reshape(n, 1, 8, 8)).relu())
        return pooled.reshape(n, 36) @ self.out_weight + self.out_bias


def _numpy_correlation(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    k = w.shape[-1]
    oh, ow = x.shape[2] - k + 1, x.shape[3] - k + 1
    out = np.empty((x.shape[0], w.shape[0], oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = np.einsum("ncab,fcab->nf", x[:, :, i:i + k, j:j + k], w)
    return out + b[None, :, None, None]


def _advised_code(message: str) -> str:
    """The code after "(here: " in ``message``: up to the first space outside brackets, or the bracket closing it."""
    text = message[message.index("(here: ") + len("(here: "):]
    depth = 0
    for i, char in enumerate(text):
        depth += (char in "([") - (char in ")]")
        if depth < 0 or (depth == 0 and char == " "):
            return text[:i]
    return text


# --- defects ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["out of range", "mismatched arrays"])
def test_an_im2col_index_error_names_its_arrays_by_shape_in_one_short_line(case: str) -> None:
    x = Value(np.zeros((64, 1, 8, 8)))
    rows, cols, _, _ = _im2col(8, 8, 3)
    key = (slice(None), slice(None), rows + 1, cols) if case == "out of range" else \
        (slice(None), slice(None), rows, cols[:, :35])
    with pytest.raises(IndexError) as raised:
        x[key]
    message = str(raised.value)
    assert message.startswith("index: ")
    assert "(64, 1, 8, 8)" in message and "(9, 36)" in message  # the input's shape, the index arrays' shapes
    assert "\n" not in message and len(message) < 400, message


@pytest.mark.parametrize("axis", [1, 2, -1, -2])
def test_the_advice_for_np_take_along_an_axis_gives_np_takes_numbers(axis: int) -> None:
    data = np.arange(24.0).reshape(2, 3, 4)
    v, indices = Value(data), [1, 1, 0]
    with pytest.raises(TypeError, match=r"^np\.take: ") as raised:
        np.take(v, indices, axis=axis)
    code = _advised_code(str(raised.value))
    result = eval(code, {"v": v, "indices": indices})  # noqa: S307  (the advice, followed to the letter)
    np.testing.assert_array_equal(result.data, np.take(data, indices, axis=axis))


# --- guards -----------------------------------------------------------------------------------------------------
def test_guard_im2col_conv2d_matches_numpy_and_the_closed_form_gradients_of_a_correlation() -> None:
    rng = np.random.default_rng(0)
    x, w, b = (Value(rng.normal(size=shape)) for shape in ((3, 2, 6, 5), (4, 2, 3, 3), (4,)))
    y = conv2d(x, w, b)
    np.testing.assert_allclose(y.data, _numpy_correlation(x.data, w.data, b.data), rtol=1e-12, atol=1e-12)
    upstream = rng.normal(size=y.shape)
    (y * upstream).sum().backward()
    # ∂C/∂w: the input correlated with the upstream gradient; ∂C/∂x: the upstream gradient fully convolved with w
    dw, dx = np.zeros(w.shape), np.zeros(x.shape)
    for i in range(3):
        for j in range(3):
            dw[:, :, i, j] = np.einsum("nfab,ncab->fc", upstream, x.data[:, :, i:i + 4, j:j + 3])
    for i in range(4):
        for j in range(3):
            dx[:, :, i:i + 3, j:j + 3] += np.einsum("nf,fcab->ncab", upstream[:, :, i, j], w.data)
    np.testing.assert_allclose(w.grad, dw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.grad, dx, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.grad, upstream.sum(axis=(0, 2, 3)), rtol=1e-12, atol=1e-12)


def test_guard_conv_and_pooling_gradients_to_second_order_match_central_differences() -> None:
    rng = np.random.default_rng(1)
    x, w, b = rng.normal(size=(2, 1, 6, 6)), rng.normal(size=(2, 1, 3, 3)), rng.normal(size=2)
    check_gradients(lambda x, w, b: (max_pool(conv2d(x, w, b)).tanh() ** 2).sum(), x, w, b, order=2)
    check_gradients(lambda x, w, b: (avg_pool(conv2d(x, w, b)).tanh() ** 3).sum(), x, w, b, order=2)


def test_guard_conv1d_from_stacked_slices_matches_np_correlate_and_its_gradients() -> None:
    rng = np.random.default_rng(2)
    x, w, b = Value(rng.normal(size=(3, 9))), Value(rng.normal(size=4)), Value(0.25)
    y = conv1d(x, w, b)
    np.testing.assert_allclose(y.data, np.stack([np.correlate(row, w.data, "valid") for row in x.data]) + 0.25,
                               rtol=1e-12)
    upstream = rng.normal(size=y.shape)
    (y * upstream).sum().backward()
    np.testing.assert_allclose(w.grad, [np.sum(upstream * x.data[:, i:i + 6]) for i in range(4)], rtol=1e-12)
    np.testing.assert_allclose(x.grad, np.stack([np.convolve(u, w.data, "full") for u in upstream]), rtol=1e-12)
    np.testing.assert_allclose(b.grad, upstream.sum(), rtol=1e-12)


def test_guard_max_pooling_splits_the_gradient_evenly_between_ties_of_a_window_as_documented() -> None:
    x = Value(np.array([[[[1.0, 1.0, 5.0, 0.0],
                          [0.0, 1.0, 5.0, 5.0],
                          [2.0, 2.0, 3.0, 4.0],
                          [2.0, 2.0, 4.0, 4.0]]]]))
    max_pool(x).sum().backward()
    expected = [[1 / 3, 1 / 3, 1 / 3, 0], [0, 1 / 3, 1 / 3, 1 / 3], [1 / 4] * 2 + [0, 1 / 3], [1 / 4] * 2 + [1 / 3] * 2]
    np.testing.assert_allclose(x.grad[0, 0], expected, rtol=1e-15)
    assert "split between ties" in Value.max.__doc__


@given(st.lists(st.integers(-5, 4), min_size=1, max_size=12))
def test_guard_repeated_fancy_indices_add_up_as_np_add_at_not_overwrite(picks: list[int]) -> None:
    x = Value(np.linspace(-1.0, 1.0, 5))
    weights = np.arange(1.0, len(picks) + 1)
    (x[picks] * weights).sum().backward()
    expected = np.zeros(5)
    np.add.at(expected, picks, weights)  # -1 and 4 are the same element: both parts are added
    np.testing.assert_allclose(x.grad, expected, rtol=1e-15)


@given(st.integers(-8, 8) | st.none(), st.integers(-8, 8) | st.none(), st.sampled_from([-3, -2, -1, 1, 2, 3]))
def test_guard_strided_and_negative_step_slices_scatter_their_gradient_back(start: Any, stop: Any, step: int) -> None:
    data = np.arange(7.0) * 0.5
    x = Value(data)
    key = slice(start, stop, step)
    picked = x[key]
    np.testing.assert_array_equal(picked.data, data[key])
    upstream = np.arange(1.0, picked.size + 1)
    (picked * upstream).sum().backward()
    expected = np.zeros(7)
    expected[np.arange(7)[key]] = upstream
    np.testing.assert_array_equal(x.grad if x.grad is not None else np.zeros(7), expected)


def test_guard_hessian_vector_product_through_the_im2col_index_matches_central_differences() -> None:
    rng = np.random.default_rng(3)
    w, b = Value(rng.normal(size=(2, 1, 3, 3)), requires_grad=False), Value(rng.normal(size=2), requires_grad=False)
    x, direction = rng.normal(size=(2, 1, 5, 5)), rng.normal(size=(2, 1, 5, 5))

    def cost(x: Value) -> Value:
        return (conv2d(x, w, b).tanh() ** 2).sum()

    def gradient(at: np.ndarray) -> np.ndarray:
        point = Value(at)
        cost(point).backward()
        return point.grad

    eps = 1e-5
    numeric = (gradient(x + eps * direction) - gradient(x - eps * direction)) / (2 * eps)
    np.testing.assert_allclose(hvp(cost, x, direction).data, numeric, rtol=1e-6, atol=1e-7)


def test_guard_the_conv_net_graph_does_not_grow_with_the_batch() -> None:
    """One im2col index per batch, not one node per image or window: the same number of nodes for 8 and 64 images,
    and each leaf's gradient once, of its own shape."""
    net = TinyConvNet(np.random.default_rng(4))
    sizes = []
    for n in (8, 64):
        images = Value(np.random.default_rng(n).random((n, 64)), requires_grad=False)
        cost = cross_entropy(net(images), np.arange(n) % 10)
        sizes.append(len(backward_order(cost)))
        cost.backward()
    assert sizes[0] == sizes[1] < 40, sizes
    assert [p.grad.shape for p in net.parameters()] == [(4, 1, 3, 3), (4,), (36, 10), (10,)]


def test_guard_a_tiny_conv_net_trains_on_the_digits_and_its_file_loads_back_exactly(tmp_path: Any) -> None:
    digits = load_digits()
    net = TinyConvNet(np.random.default_rng(0))
    history = fit(net, digits.inputs[:512], digits.labels[:512], cost=cross_entropy,
                  optimizer=Adam(net.parameters(), learning_rate=0.01), episodes=5, batch_size=64, seed=0,
                  progress=False)
    assert history.final_cost < 0.7 * history.cost[0]
    net.save(tmp_path / "conv.npz")
    other = TinyConvNet(np.random.default_rng(9))
    other.load_state_dict(nn.load_state(tmp_path / "conv.npz"))
    for mine, theirs in zip(net.parameters(), other.parameters(), strict=True):
        np.testing.assert_array_equal(mine.data, theirs.data)


def test_guard_the_drawing_of_a_tiny_conv_graph_names_its_index_and_pooling_operations() -> None:
    rng = np.random.default_rng(5)
    x = Value(rng.normal(size=(1, 1, 4, 4)), label="x")
    w, b = Value(rng.normal(size=(1, 1, 3, 3)), label="w"), Value(np.zeros(1), label="b")
    cost = max_pool(conv2d(x, w, b)).sum()
    cost.backward()
    source = draw_graph(cost).source
    assert "index(key=(:, :, [[0, 0, 1, 1]," in source and "max(axis=(3, 5))" in source
    assert all(f"<B>{name}</B>" in source for name in "xwb")
