"""An engineer building a small convolutional network for the 8×8 digits out of the package's primitives: im2col by
fancy indexing (stride 1 and 2, zero padding), a matmul with the filters, a bias broadcast, ReLU, 2×2 max pooling by
reshape + max over axes, flatten, a Layer head, cross-entropy and squared error; trained with Adam via ``fit`` and
with SGD by hand.  The defects are in what a PyTorch user is told on reaching for ``F.conv2d``, ``F.max_pool2d``,
``F.pad``, ``F.unfold``, ``nn.Conv2d``, ``x.flatten(1)``, and in cross_entropy's advice for a convolution's
``(n, k, 1, 1)`` output: each piece of advice is followed to the letter here and checked against numpy and against
central finite differences in float64."""

import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Op, Value, nn
from tinygrad_edu.data import load_digits, one_hot
from tinygrad_edu.losses import cross_entropy, squared_error
from tinygrad_edu.optim import SGD, Adam
from tinygrad_edu.testing import GradientCheckError, check_gradients
from tinygrad_edu.training import fit


def _windows(height: int, width: int, k: int, stride: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Row and column index arrays (k·k, oh·ow) of every k×k window with the given stride."""
    oh, ow = (height - k) // stride + 1, (width - k) // stride + 1
    rows = np.repeat(np.arange(k), k)[:, None] + stride * np.repeat(np.arange(oh), ow)[None, :]
    cols = np.tile(np.arange(k), k)[:, None] + stride * np.tile(np.arange(ow), oh)[None, :]
    return rows, cols, oh, ow


def conv2d(x: Any, w: Any, b: Any, stride: int = 1, padding: int = 0) -> Value:
    """x (N, C, H, W), w (F, C, k, k), b (F,) → (N, F, oh, ow), a correlation as PyTorch's conv2d."""
    if padding:
        x = F.concatenate([np.zeros(x.shape[:3] + (padding,)), x, np.zeros(x.shape[:3] + (padding,))], axis=3)
        x = F.concatenate([np.zeros(x.shape[:2] + (padding, x.shape[3])), x,
                           np.zeros(x.shape[:2] + (padding, x.shape[3]))], axis=2)
    n, c, height, width = x.shape
    filters, _, k, _ = w.shape
    rows, cols, oh, ow = _windows(height, width, k, stride)
    columns = x[:, :, rows, cols].reshape(n, c * k * k, oh * ow)
    return (w.reshape(filters, c * k * k) @ columns + b.reshape(1, filters, 1)).reshape(n, filters, oh, ow)


def max_pool(x: Value) -> Value:
    n, c, height, width = x.shape
    return x.reshape(n, c, height // 2, 2, width // 2, 2).max(axis=(3, 5))


def _numpy_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, padding: int = 0) -> np.ndarray:
    """The correlation written as loops over the output positions."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    k = w.shape[-1]
    oh, ow = (x.shape[2] - k) // stride + 1, (x.shape[3] - k) // stride + 1
    out = np.empty((x.shape[0], w.shape[0], oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = x[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            out[:, :, i, j] = np.einsum("ncab,fcab->nf", window, w)
    return out + b[None, :, None, None]


def _code(message: str, start: str, end: str) -> str:
    """The code in ``message`` between ``start`` and the first ``end`` after it."""
    match = re.search(re.escape(start) + r"(.+?)" + re.escape(end), message)
    assert match is not None, f"no code between {start!r} and {end!r} in: {message}"
    return match[1]


def _refusal(module: Any, name: str) -> str:
    with pytest.raises(AttributeError) as raised:
        getattr(module, name)
    return str(raised.value)


def _windows_from_the_advice(message: str, x: Any, k: int) -> Value:
    """The im2col columns as the advice writes them, for x (N, C, H, W) and k×k windows of stride 1."""
    n, c, height, width = x.shape
    names: dict[str, Any] = {"np": np, "x": x, "k": k, "N": n, "C": c, "H": height, "W": width,
                             "oh": height - k + 1, "ow": width - k + 1}
    names["r"] = eval(_code(message, "r = ", " and c = "), names)  # noqa: S307  (the advice, to the letter)
    names["c"] = eval(_code(message, "and c = ", " (the gradient"), names)  # noqa: S307
    return eval(_code(message, "windows = " if "windows = " in message else "write ", ", the k×k"), names)  # noqa: S307


# --- defects ----------------------------------------------------------------------------------------------------
def test_the_advice_for_f_conv2d_followed_to_the_letter_is_a_correlation_with_the_right_gradients() -> None:
    message = _refusal(F, "conv2d")
    assert "(a PyTorch name)" in message
    rng = np.random.default_rng(0)
    x, weight, bias = rng.normal(size=(2, 2, 5, 6)), rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)

    def advised(x: Value, weight: Value, bias: Value) -> Value:
        windows = _windows_from_the_advice(message, x, 3)
        formula = _code(message, "write ", ", for weight")
        return eval(formula, {"weight": weight, "bias": bias, "windows": windows,  # noqa: S307
                              "N": 2, "oh": 3, "ow": 4})

    np.testing.assert_allclose(advised(Value(x), Value(weight), Value(bias)).data, _numpy_conv(x, weight, bias),
                               rtol=1e-12, atol=1e-12)
    check_gradients(lambda x, w, b: (advised(x, w, b).tanh() ** 2).sum(), x, weight, bias)


def test_the_advice_for_f_unfold_gives_pytorchs_im2col_columns() -> None:
    message = _refusal(F, "unfold")
    x = np.arange(2 * 2 * 4 * 5, dtype=float).reshape(2, 2, 4, 5)
    columns = _windows_from_the_advice(message, Value(x), 3)
    # PyTorch's unfold: column l = (i, j) holds x[:, c, i:i+3, j:j+3] flattened, the channel first
    expected = np.stack([x[:, :, i:i + 3, j:j + 3].reshape(2, -1) for i in range(2) for j in range(3)], axis=-1)
    np.testing.assert_array_equal(columns.data, expected)


@pytest.mark.parametrize("name, reduce", [("max_pool2d", np.max), ("avg_pool2d", np.mean)])
def test_the_advice_for_f_pooling_followed_to_the_letter_pools_2x2_windows(name: str, reduce: Any) -> None:
    message = _refusal(F, name)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 3, 4, 6))
    formula = _code(message, "write ", ", for 2×2")

    def advised(x: Value) -> Value:
        return eval(formula, {"x": x, "N": 2, "C": 3, "H": 4, "W": 6})  # noqa: S307

    expected = reduce(x.reshape(2, 3, 2, 2, 3, 2), axis=(3, 5))
    np.testing.assert_allclose(advised(Value(x)).data, expected, rtol=1e-15)
    check_gradients(lambda x: (advised(x) ** 3).sum(), x, order=2)


def test_the_advice_for_f_pad_followed_to_the_letter_pads_the_last_two_axes_with_zeros() -> None:
    message = _refusal(F, "pad")
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 1, 3, 4))
    formula = _code(message, "write ", ", p zeros")

    def advised(x: Value) -> Value:
        return eval(formula, {"np": np, "x": x, "H": 3, "W": 4, "p": 2})  # noqa: S307

    np.testing.assert_array_equal(advised(Value(x)).data, np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2))))
    check_gradients(lambda x: (advised(x) ** 2 * np.arange(7 * 8.0).reshape(7, 8)).sum(), x)


@pytest.mark.parametrize("name, start, end, expected", [
    ("Conv2d", "its forward is ", ", for weight",
     lambda x, w, b: _numpy_conv(x, w, b)),
    ("MaxPool2d", "in a forward of your own, ", ", for 2×2",
     lambda x, w, b: x.reshape(2, 2, 2, 2, 3, 2).max(axis=(3, 5))),
    ("Flatten", None, " in a forward",
     lambda x, w, b: x.reshape(2, -1)),
])
def test_pytorchs_cnn_layer_classes_say_what_to_write_and_it_computes_theirs(name: str, start: Any, end: str,
                                                                             expected: Any) -> None:
    message = _refusal(nn, name)
    assert "(a PyTorch name); " in message
    rng = np.random.default_rng(3)
    x, weight, bias = rng.normal(size=(2, 2, 4, 6)), rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
    formula = _code(message, "(a PyTorch name); " if name == "Flatten" else start, end)
    names = {"x": Value(x), "weight": Value(weight), "bias": Value(bias), "N": 2, "C": 2, "H": 4, "W": 6,
             "oh": 2, "ow": 4}
    if "windows" in formula:
        names["windows"] = _windows_from_the_advice(message, names["x"], 3)
    np.testing.assert_allclose(eval(formula, names).data, expected(x, weight, bias),  # noqa: S307
                               rtol=1e-12, atol=1e-12)


def test_the_advice_for_flatten_says_how_to_keep_the_batch_axis_as_flatten_1_does() -> None:
    x = Value(np.arange(2 * 3 * 2 * 2, dtype=float).reshape(2, 3, 2, 2))
    with pytest.raises(AttributeError) as raised:
        x.flatten(1)
    codes = re.findall(r"v\.reshape\((?:[^()]|\([^()]*\))*\)", str(raised.value))
    shapes = [eval(code, {"v": x}).shape for code in codes]  # noqa: S307
    assert (2, 12) in shapes, (str(raised.value), shapes)


def test_cross_entropy_on_a_conv_heads_n_k_1_1_output_advises_the_k_classes_of_axis_1() -> None:
    rng = np.random.default_rng(4)
    logits, labels = rng.normal(size=(4, 10, 1, 1)), np.array([3, 0, 9, 3])
    with pytest.raises(ValueError) as raised:
        cross_entropy(Value(logits), labels)
    message = str(raised.value)
    assert "1 classes" not in message, message
    code = re.search(r"cross_entropy\(logits\.reshape\([^)]*\), labels\)", message)
    assert code is not None, message
    cost = eval(code[0], {"cross_entropy": cross_entropy, "logits": Value(logits), "labels": labels})  # noqa: S307
    rows = logits.reshape(4, 10)
    log_probabilities = rows - rows.max(1, keepdims=True)
    log_probabilities -= np.log(np.exp(log_probabilities).sum(1, keepdims=True))
    np.testing.assert_allclose(cost.data, -log_probabilities[np.arange(4), labels].mean(), rtol=1e-12)


def test_a_failed_check_of_a_shared_weight_matmul_does_not_blame_the_built_in_matmul() -> None:
    columns = np.random.default_rng(8).normal(size=(3, 2, 4))  # a batch of 3 images' im2col columns
    with pytest.raises(GradientCheckError) as raised:
        check_gradients(lambda w: (w @ columns).relu().sum(), np.zeros((1, 2)))  # at ReLU's kink: a real failure
    assert "kink" in str(raised.value)
    assert "Op 'matmul'" not in str(raised.value), str(raised.value)


# --- guards -----------------------------------------------------------------------------------------------------
@given(st.integers(1, 3), st.integers(1, 2), st.integers(0, 1), st.integers(4, 7), st.integers(4, 7))
def test_guard_strided_and_padded_im2col_conv_matches_numpy_loops(k: int, stride: int, padding: int,
                                                                   height: int, width: int) -> None:
    rng = np.random.default_rng(k * 100 + stride * 10 + padding + height * width)
    x, w, b = rng.normal(size=(2, 2, height, width)), rng.normal(size=(3, 2, k, k)), rng.normal(size=3)
    y = conv2d(Value(x), Value(w), Value(b), stride=stride, padding=padding)
    np.testing.assert_allclose(y.data, _numpy_conv(x, w, b, stride, padding), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 0), (1, 1), (2, 1)])
def test_guard_overlapping_strided_and_padded_windows_have_central_difference_gradients(stride: int,
                                                                                        padding: int) -> None:
    rng = np.random.default_rng(5)
    x, w, b = rng.normal(size=(2, 1, 5, 5)), rng.normal(size=(2, 1, 3, 3)), rng.normal(size=2)
    check_gradients(lambda x, w, b: (conv2d(x, w, b, stride, padding).tanh() ** 2).sum(), x, w, b, order=2)


def test_guard_max_pool_at_two_way_ties_agrees_with_central_differences_and_a_three_way_tie_is_named_a_kink() -> None:
    # a two-way tie: the even split, ½ each, is what the central difference measures (one side 1, the other 0)
    two = np.array([[[[1.0, 1.0, 2.0, -1.0], [0.0, -3.0, 2.0, 0.5]]]])
    check_gradients(lambda x: (max_pool(x) * np.array([[[[2.0, -3.0]]]])).sum(), two)
    # three of four: the split gives ⅓, central differences ½; the checker says why, not just "disagree"
    three = np.array([[[[1.0, 1.0], [1.0, 0.0]]]])
    with pytest.raises(GradientCheckError, match="kink"):
        check_gradients(lambda x: max_pool(x).sum(), three)


def test_guard_a_custom_ops_outer_product_vjp_is_still_named_by_the_report() -> None:
    wrong = Op("scale", lambda a, b: a * b, (lambda g, out, a, b: g * b, lambda g, out, a, b: g[:, None] * a))
    with pytest.raises(GradientCheckError, match=r"vjp for input 1 of Op 'scale' returns shape \(3, 3\)"):
        check_gradients(lambda a, b: wrong(a, b).sum(), np.arange(1.0, 4.0), np.arange(2.0, 5.0))


class TinyCNN(nn.Module):
    def __init__(self, rng: np.random.Generator) -> None:
        self.filters = Value(rng.normal(size=(6, 1, 3, 3)) / 3)
        self.filter_biases = Value(np.zeros(6))
        self.head = nn.Layer(6 * 4 * 4, 10, activation="identity", init="xavier", rng=rng)

    def forward(self, x: Value) -> Value:
        n = x.shape[0]
        features = max_pool(conv2d(x.reshape(n, 1, 8, 8), self.filters, self.filter_biases, padding=1).relu())
        return self.head(features.reshape(n, -1))


def test_guard_the_whole_cnn_costs_have_central_difference_gradients_for_every_parameter() -> None:
    rng = np.random.default_rng(6)
    images, labels = rng.random((3, 64)), np.array([1, 7, 7])  # (the digits' blank borders would tie in the pooling)
    parameters = [p.data.copy() for p in TinyCNN(rng).parameters()]
    parameters[1] = rng.normal(size=6) * 0.1  # (biases of 0 would put blank windows on ReLU's kink)

    def cost(kind: Any) -> Any:
        def f(filters: Value, filter_biases: Value, weights: Value, biases: Value) -> Value:
            n = images.shape[0]
            x = Value(images, requires_grad=False).reshape(n, 1, 8, 8)
            features = max_pool(conv2d(x, filters, filter_biases, padding=1).relu()).reshape(n, -1)
            return kind(features @ weights + biases)
        return f

    check_gradients(cost(lambda logits: cross_entropy(logits, labels)), *parameters)
    check_gradients(cost(lambda logits: squared_error(logits, one_hot(labels, 10))), *parameters)


def test_guard_the_cnn_learns_the_digits_with_adam_in_fit_and_with_sgd_by_hand() -> None:
    digits = load_digits()
    images, labels = digits.inputs[:256], digits.labels[:256]
    net = TinyCNN(np.random.default_rng(7))
    history = fit(net, images, labels, cost=cross_entropy, optimizer=Adam(net, learning_rate=0.02), episodes=4,
                  batch_size=64, seed=0, progress=False)
    assert history.final_cost < 0.8 * history.cost[0], history.cost
    targets = one_hot(labels, 10)
    optimizer = SGD(net, learning_rate=0.02)
    before = float(squared_error(net(images), targets).item())
    for _ in range(3):
        for start in range(0, 256, 64):
            optimizer.zero_grad()
            squared_error(net(images[start:start + 64]), targets[start:start + 64]).backward()
            optimizer.step()
    assert float(squared_error(net(images), targets).item()) < 0.9 * before
