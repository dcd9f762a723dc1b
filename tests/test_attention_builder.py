"""An engineer builds single-head causal self-attention from the package's primitives: Q = X Wq, K = X Wk, V = X Wv,
scores = Q Kᵀ / √d, a causal mask (−inf above the diagonal), softmax over the last axis, output = softmax(scores) V;
for one sequence (T × d) and for a batch (B × T × d).

Every number is checked against a plain-numpy reference of the same block (float64) and its central differences,
or against a closed form; none is taken from the code under test.
"""

import math
import re

import numpy as np
import pytest
from helpers_gradients import central_differences
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value
from tinygrad_edu.autodiff import hvp

# ---------------------------------------------------------------------------------------------------------------
# The reference: the same block in plain numpy (float64), and central differences of it
# ---------------------------------------------------------------------------------------------------------------


def _causal(T: int) -> np.ndarray:
    """True above the diagonal: the positions a token may not look at (the future)."""
    return np.triu(np.ones((T, T), dtype=bool), 1)


def _reference(X: np.ndarray, Wq: np.ndarray, Wk: np.ndarray, Wv: np.ndarray) -> np.ndarray:
    """Causal attention in numpy: for X of shape (..., T, d)."""
    d, T = X.shape[-1], X.shape[-2]
    scores = (X @ Wq) @ np.swapaxes(X @ Wk, -1, -2) / np.sqrt(d)
    scores = np.where(_causal(T), -np.inf, scores)
    shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return (shifted / shifted.sum(axis=-1, keepdims=True)) @ (X @ Wv)


def _attention(X, Wq, Wk, Wv, masking: str = "where"):
    """The block written with the package, as the engineer writes it (two ways of masking)."""
    d, T = X.shape[-1], X.shape[-2]
    Q, K, V = X @ Wq, X @ Wk, X @ Wv
    scores = Q @ K.swapaxes(-1, -2) / math.sqrt(d)  # (a Python number: a float32 block stays float32)
    if masking == "where":
        scores = F.where(_causal(T), -np.inf, scores)
    else:
        scores = scores + np.where(_causal(T), -np.inf, 0.0)
    return F.softmax(scores, axis=-1) @ V


def _inputs(seed: int, shape: tuple[int, ...], d: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape + (d,))] + [rng.normal(size=(d, d)) for _ in range(3)]


def _check_block(arrays: list[np.ndarray], masking: str) -> None:
    """Forward against the numpy reference; the gradients of X, Wq, Wk, Wv against its central differences."""
    upstream = np.random.default_rng(99).normal(size=arrays[0].shape)  # a cost Σ upstream ⊙ output
    values = [Value(a) for a in arrays]
    out = _attention(*values, masking=masking)
    np.testing.assert_allclose(out.data, _reference(*arrays), rtol=1e-12, atol=1e-12)
    (out * upstream).sum().backward()
    numeric = central_differences(lambda a: float(np.sum(_reference(*a) * upstream)), arrays)
    for name, value, expected in zip(("X", "Wq", "Wk", "Wv"), values, numeric):
        assert value.grad is not None and np.isfinite(value.grad).all(), name
        np.testing.assert_allclose(value.grad, expected, rtol=1e-6, atol=1e-7, err_msg=name)


# ---------------------------------------------------------------------------------------------------------------
# Defects (marked xfail, strict: each fails on the code before the fix)
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "arguments", "expected"), [
    ("masked_fill", (np.array([[False, True], [False, False]]), -np.inf),
     lambda v, mask, value: np.where(mask, value, v)),
    ("bmm", (np.arange(8.0).reshape(2, 2, 2),), lambda v, other: np.matmul(v, other)),
])
def test_pytorch_attention_methods_say_what_to_write(name, arguments, expected) -> None:
    """The advice is code that runs and gives what PyTorch's method gives."""
    data = np.array([[[1.0, 2.0], [3.0, 4.0]], [[-1.0, 0.5], [2.0, 0.0]]])
    data = data[0] if name == "masked_fill" else data  # one matrix, or a stack of two
    v = Value(data)
    with pytest.raises(AttributeError) as caught:
        getattr(v, name)
    match = re.search(r"; write (.+?)(?: \(.*)?$", str(caught.value))
    assert match, str(caught.value)
    names = {"masked_fill": ("mask", "value"), "bmm": ("other",)}[name]
    computed = eval(match.group(1), {"v": v, "functional": F, "np": np,  # noqa: S307
                                     **dict(zip(names, arguments))})
    np.testing.assert_array_equal(computed.data, expected(data, *arguments))


def test_pytorch_style_transpose_of_a_batch_points_to_swapaxes() -> None:
    K = Value(np.arange(24.0).reshape(2, 4, 3))
    with pytest.raises(ValueError, match=r"^transpose: .*\(2, 4, 3\).*swapaxes\(-2, -1\)") as caught:
        K.transpose(-2, -1)
    advice = re.search(r"v\.swapaxes\(-2, -1\)", str(caught.value))
    assert advice is not None
    np.testing.assert_array_equal(eval(advice.group(0), {"v": K}).data, np.swapaxes(K.data, -2, -1))  # noqa: S307


def test_softmax_docstrings_say_what_a_fully_masked_row_gives() -> None:
    for function in (F.softmax, F.log_softmax):
        doc = " ".join((function.__doc__ or "").split())
        assert "only −inf" in doc and "NaN" in doc, function.__name__
    assert "probability exactly 0 and gradient 0" in " ".join((F.softmax.__doc__ or "").split())
    # and what they say holds: a row of only −inf is NaN, forward and backward, even unused
    scores = Value(np.array([[0.0, -np.inf], [-np.inf, -np.inf]]))
    probabilities = F.softmax(scores)
    assert np.isnan(probabilities.data[1]).all()
    probabilities[0].sum().backward()
    assert np.isnan(scores.grad[1]).all() and np.array_equal(scores.grad[0], [0.0, 0.0])


# ---------------------------------------------------------------------------------------------------------------
# Guards: what the engineer relies on
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("masking", ["where", "add"])
def test_one_sequence_gradients_match_central_differences(masking: str) -> None:
    _check_block(_inputs(0, (4,), 3), masking)


@given(batch=st.integers(1, 3), T=st.integers(1, 4), d=st.integers(1, 3), seed=st.integers(0, 2**16),
       masking=st.sampled_from(["where", "add"]))
def test_batched_gradients_match_central_differences(batch: int, T: int, d: int, seed: int, masking: str) -> None:
    """matmul broadcasts over the batch axis (a weight's gradient is summed over it), swapaxes(-1, -2) transposes
    each sequence's K."""
    _check_block(_inputs(seed, (batch, T), d), masking)


def test_masked_entries_get_probability_zero_and_gradient_zero() -> None:
    raw = np.array([[0.3, 1.2, -0.7], [2.0, -1.0, 0.5], [0.1, 0.2, 0.3]])
    scores = Value(raw)
    probabilities = F.softmax(F.where(_causal(3), -np.inf, scores))
    upstream = np.arange(9.0).reshape(3, 3)
    (probabilities * upstream).sum().backward()
    assert np.array_equal(probabilities.data[_causal(3)], np.zeros(3))
    assert np.array_equal(scores.grad[_causal(3)], np.zeros(3)) and np.isfinite(scores.grad).all()
    # the kept entries: the softmax of the kept scores alone, and its closed-form vjp s ⊙ (g − Σ g s)
    for row in range(3):
        kept = raw[row, : row + 1]
        s = np.exp(kept - kept.max()) / np.exp(kept - kept.max()).sum()
        g = upstream[row, : row + 1]
        np.testing.assert_allclose(probabilities.data[row, : row + 1], s, rtol=1e-15)
        np.testing.assert_allclose(scores.grad[row, : row + 1], s * (g - (g * s).sum()), rtol=1e-12, atol=1e-15)


def test_a_row_fully_masked_with_a_large_negative_number_is_uniform_and_passes_no_gradient() -> None:
    scores = Value(np.array([[0.5, 2.0, -1.0], [0.5, 2.0, -1.0]]))
    mask = np.array([[True, True, True], [False, True, True]])
    probabilities = F.softmax(F.where(mask, -1e9, scores))
    np.testing.assert_allclose(probabilities.data, [[1 / 3] * 3, [1.0, 0.0, 0.0]], rtol=1e-15)
    (probabilities * np.array([1.0, 2.0, 3.0])).sum().backward()
    assert np.array_equal(scores.grad, np.zeros((2, 3)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_of_scores_of_1e3_is_the_closed_form(dtype) -> None:
    """[1000, 999, −1000]: (1, e⁻¹, e⁻²⁰⁰⁰) / (1 + e⁻¹), and its gradient s ⊙ (g − Σ g s); no overflow."""
    scores = Value(np.array([1000.0, 999.0, -1000.0], dtype=dtype))
    probabilities = F.softmax(scores)
    g = np.array([1.0, -2.0, 0.5], dtype=dtype)
    (probabilities * g).sum().backward()
    e = np.exp(-1.0)
    s = np.array([1 / (1 + e), e / (1 + e), 0.0])
    tolerance = 1e-6 if dtype is np.float32 else 1e-15
    assert probabilities.dtype == dtype and scores.grad.dtype == dtype
    np.testing.assert_allclose(probabilities.data, s, rtol=tolerance, atol=1e-300)
    np.testing.assert_allclose(scores.grad, s * (g - (g * s).sum()), rtol=tolerance, atol=1e-7)


def test_hessian_vector_product_through_softmax_and_matmul_matches_second_differences() -> None:
    """H·v of a cost of the block in Wq (X, Wk, Wv fixed), element i as the mixed second difference of the reference:
    [f(w + εeᵢ + εv) − f(w + εeᵢ − εv) − f(w − εeᵢ + εv) + f(w − εeᵢ − εv)] / 4ε²."""
    X, Wq, Wk, Wv = _inputs(5, (2, 3), 2)
    upstream = np.random.default_rng(6).normal(size=X.shape)

    def cost(Wq):
        return (_attention(X, Wq, Wk, Wv) ** 2 * upstream).sum()

    def reference(Wq: np.ndarray) -> float:
        return float(np.sum(_reference(X, Wq, Wk, Wv) ** 2 * upstream))

    direction = np.random.default_rng(7).normal(size=Wq.shape)
    product = hvp(cost, Wq, direction)
    eps, expected = 1e-4, np.zeros_like(Wq)
    for index in np.ndindex(Wq.shape):
        unit = np.zeros_like(Wq)
        unit[index] = eps
        expected[index] = (reference(Wq + unit + eps * direction) - reference(Wq + unit - eps * direction)
                           - reference(Wq - unit + eps * direction) + reference(Wq - unit - eps * direction)) / (
            4 * eps * eps)
    np.testing.assert_allclose(product.data, expected, rtol=1e-5, atol=1e-6)


def test_float32_block_stays_float32_and_agrees_with_float64() -> None:
    arrays = _inputs(8, (2, 4), 3)
    values = [Value(a.astype(np.float32)) for a in arrays]
    out = _attention(*values)
    (out * 1.0).sum().backward()
    assert out.dtype == np.float32
    assert all(v.grad.dtype == np.float32 for v in values)
    np.testing.assert_allclose(out.data, _reference(*[v.data.astype(np.float64) for v in values]), rtol=1e-4,
                               atol=1e-5)
    numeric = central_differences(lambda a: float(np.sum(_reference(*a))),
                                  [v.data.astype(np.float64) for v in values])
    for value, expected in zip(values, numeric):
        np.testing.assert_allclose(value.grad, expected, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize(("a", "b", "said"), [
    ((2, 4, 3), (3, 3, 4), "batch dimensions"),
    ((2, 4, 3), (2, 4, 3), r"not aligned \(3 != 4\)"),
    ((2, 5, 4, 3), (3, 3, 4), "batch dimensions"),
])
@pytest.mark.parametrize("constant_first", [False, True])
def test_batched_matmul_shape_errors_name_both_shapes(a, b, said, constant_first: bool) -> None:
    first = np.ones(a) if constant_first else Value(np.ones(a))
    with pytest.raises(ValueError, match=rf"^matmul: (?=.*{said}).*shapes {re.escape(str(a))} and {re.escape(str(b))}"):
        first @ Value(np.ones(b))

