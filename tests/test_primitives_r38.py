"""An engineer who builds small networks from the autograd primitives (layer and batch norm, GRU/LSTM cells, pooling
with ties, embedding lookups with repeated ids, gates with where and argmax masks, contractions by reshape, transpose
and @, batched matmul, cumulative sums by a triangular matrix, gathers by fancy indexing) and checks their gradients
against float64 central differences, and the messages of their shape mistakes.

The defects, each test failing before its fix: a matmul whose shapes do not align said the operands swapped "would
align" where their batch dimensions cannot broadcast (that product fails too); ``np.dot(a, b)`` and
``np.tensordot(a, b, 1)`` of a stack of matrices ``b`` advised ``a @ b``, which pairs other axes (the same shape and
other numbers, silently, or an error); ``np.where(v)``, numpy's one-argument form (the indices of the nonzero
elements), advised ``functional.where``, which needs three; and ``check_gradients(f, E, ids)`` with an integer or
boolean array among the inputs (the ids of an embedding lookup, a gather's rows, a mask) made it a float64 Value to
differentiate at, as every input, so ``E[ids]`` in ``f`` failed with the index refusal "not with a Value", of which
the call held none (``numerical_gradient``, which hands f arrays, with numpy's bare "arrays used as indices must be of
integer (or boolean) type"): both now say which input it was, and that indices go in f's closure.

The guard tests pin what the role relies on, none of it covered by the conv, attention and RNN tests: each building
block's gradient (and, where it has one, its second derivative through ``autodiff.hessian``) against float64 central
differences of a numpy reference, in float64 and float32."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, no_grad
from tinygrad_edu.autodiff import grad, hessian
from tinygrad_edu.testing import check_gradients, numerical_gradient


def _refusal(call: Callable[[], Any], kind: type[Exception] = TypeError) -> str:
    with pytest.raises(kind) as caught:
        call()
    return str(caught.value)


def _here(message: str) -> str:
    """The formula a numpy refusal ends with, "(here: …)"."""
    return message.split("(here: ", 1)[1][:-1]


# --- defect: a matmul mismatch's "would align" ---------------------------------------------------------------------
_ALIGN = re.compile(r"(\((?:\d+, )*\d*,?\)),? @ (\((?:\d+, )*\d*,?\)),? would align")


def _aligns(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.matmul(np.zeros(a), np.zeros(b))
    except ValueError:
        return False
    return True


def test_operands_swapped_are_not_said_to_align_where_their_batch_dimensions_do_not_broadcast() -> None:
    """(2, 3, 4) @ (7, 5, 3): the swapped product (7, 5, 3) @ (2, 3, 4) meets 3 with 3, but its batch dimensions 7
    and 2 do not broadcast, so it fails too; the message said it would align."""
    message = _refusal(lambda: Value(np.ones((2, 3, 4))) @ Value(np.ones((7, 5, 3))), ValueError)
    assert message.startswith("matmul: shapes (2, 3, 4) and (7, 5, 3) are not aligned (4 != 5)"), message
    assert "would align" not in message, message
    assert not _aligns((7, 5, 3), (2, 3, 4))
    swapped = _refusal(lambda: Value(np.ones((2, 3, 4))) @ Value(np.ones((2, 5, 3))), ValueError)
    assert "(2, 5, 3) @ (2, 3, 4) would align" in swapped  # (batch dimensions that broadcast: still said)


_SHAPES = st.lists(st.integers(1, 3), min_size=1, max_size=4).map(tuple)


@given(_SHAPES, _SHAPES)
@example((2, 3, 4), (7, 5, 3))  # (the case above: drawn shapes find it only now and then)
@example((3, 1, 1), (2, 2, 1))
def test_every_product_a_matmul_refusal_says_would_align_does(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    """Whatever the shapes, a product the message offers as one that would align is one numpy computes."""
    if _aligns(a, b):
        return
    message = _refusal(lambda: Value(np.ones(a)) @ Value(np.ones(b)), ValueError)
    assert message.startswith("matmul: "), message
    for left, right in _ALIGN.findall(message):
        assert _aligns(eval(left), eval(right)), message


# --- defect: np.dot and np.tensordot of a stack of matrices ----------------------------------------------------------
_RNG = np.random.default_rng(38)
_A = _RNG.normal(size=(2, 4))


@pytest.mark.parametrize("b_shape", [(2, 4, 2), (3, 4, 5), (2, 2, 4, 3)])
def test_np_dots_advice_for_a_stack_of_matrices_computes_np_dot(b_shape: tuple[int, ...]) -> None:
    """np.dot(a, b) of a matrix a and a stack b pairs a's last axis with b's second to last, and keeps every other
    axis of both, a's first: (2, 4) with (2, 4, 2) gives (2, 2, 2), as a @ b does, with other numbers (a @ b puts
    b's stack first).  The advice was a @ b; the formula given now is np.dot's, recorded."""
    a, b = Value(_A.copy()), Value(_RNG.normal(size=b_shape))
    formula = _here(_refusal(lambda: np.dot(a, b)))
    ours = eval(formula.split(" for a stack of matrices b")[0], {"a": a, "b": b, "np": np})
    assert isinstance(ours, Value)
    np.testing.assert_allclose(ours.data, np.dot(a.data, b.data), rtol=1e-12, atol=1e-14)
    ours.sum().backward()  # (recorded: the gradient reaches both)
    np.testing.assert_allclose(a.grad, np.dot(np.ones(ours.shape).reshape(2, -1), np.moveaxis(b.data, -2, 0)
                                              .reshape(4, -1).T), rtol=1e-12)


def test_a_at_b_is_not_np_dot_of_a_matrix_and_a_stack() -> None:
    """Why the old advice was wrong: the same shape, other numbers."""
    a, b = _A, _RNG.normal(size=(2, 4, 2))
    assert (a @ b).shape == np.dot(a, b).shape and not np.allclose(a @ b, np.dot(a, b))


@pytest.mark.parametrize("a_shape, b_shape", [((2, 4), (4,)), ((2, 4), (4, 3)), ((3, 2, 4), (4, 3)), ((4,), (4, 3)),
                                              ((4,), (2, 4, 3))])
def test_np_dots_advice_stays_a_at_b_where_that_is_np_dot(a_shape, b_shape) -> None:
    a, b = Value(_RNG.normal(size=a_shape)), Value(_RNG.normal(size=b_shape))
    assert _here(_refusal(lambda: np.dot(a, b))) == "a @ b"
    np.testing.assert_allclose((a @ b).data, np.dot(a.data, b.data), rtol=1e-12)


@pytest.mark.parametrize("a_shape, b_shape", [((3, 4), (4, 4, 4)), ((2, 4), (4, 2, 3)), ((4,), (4, 2, 3)),
                                              ((2, 3, 4), (4, 5, 2))])
def test_np_tensordots_advice_of_one_axis_for_a_stack_computes_tensordot(a_shape, b_shape) -> None:
    """np.tensordot(a, b, 1) pairs a's last axis with b's first; a @ b pairs it with b's second to last, the same
    only for a vector or a matrix b: (3, 4) with (4, 4, 4) gave a @ b's (4, 3, 4), other numbers and shape."""
    a, b = Value(_RNG.normal(size=a_shape)), Value(_RNG.normal(size=b_shape))
    for call in (lambda: np.tensordot(a, b, 1), lambda: np.tensordot(a, b, axes=1)):
        formula = _here(_refusal(call))
        ours = eval(formula.split(" for np.tensordot")[0], {"a": a, "b": b, "np": np})
        np.testing.assert_allclose(ours.data, np.tensordot(a.data, b.data, 1), rtol=1e-12, atol=1e-14)


# --- defect: np.where(v), numpy's nonzero ----------------------------------------------------------------------------
def test_np_where_of_one_value_advises_the_indices_on_the_numbers() -> None:
    """np.where(v) alone is np.nonzero(v): the indices of v's nonzero elements (a gate's chosen experts).  The advice
    was functional.where, which takes a condition and two Values, and fails given one; it is now numpy's call on the
    numbers, which gives numpy's indices (they have no derivative)."""
    v = Value(np.array([[0.0, 0.7], [0.3, 0.0]]))
    formula = _here(_refusal(lambda: np.where(v)))
    code = formula.split(", on the numbers")[0]
    assert "functional.where" not in code, formula
    got = eval(code, {"v": v, "np": np})
    for ours, theirs in zip(got, np.where(v.data), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    with pytest.raises(TypeError):
        F.where(v)  # type: ignore[call-arg]  # (what the advice said)
    chosen = _refusal(lambda: np.where(v.data > 0.5, v, 0.0))  # (three arguments: functional.where, as before)
    assert _here(chosen) == "functional.where"


# --- defect: integer and boolean arrays given to check_gradients and numerical_gradient ------------------------------
_TABLE = _RNG.normal(size=(5, 3))
_IDS = np.array([0, -1, -1, 2])


def _lookup(table: Value, ids: Any) -> Value:
    return (table[ids] ** 2).sum()


def test_check_gradients_given_ids_says_it_made_them_a_float_value_to_differentiate_at() -> None:
    """The natural call check_gradients(f, E, ids) makes ids a float64 Value (every input given is a point to
    differentiate at), and E[ids] is refused "not with a Value": the call held no Value.  The refusal now says which
    input it was, given as integers, and how to hold it fixed; the closure it advises passes."""
    message = _refusal(lambda: check_gradients(_lookup, _TABLE, _IDS))
    assert message.startswith("index: index with ints"), message
    assert "check_gradients: input 1 was given as an int64 array" in message, message
    assert "check_gradients(lambda x: f(x, ids), x)" in message, message
    report = check_gradients(lambda table: _lookup(table, _IDS), _TABLE)
    np.testing.assert_allclose(report.analytic[0], numerical_gradient(lambda t: _lookup(t, _IDS), _TABLE)[0],
                               rtol=1e-6)
    mask = _TABLE > 0
    message = _refusal(lambda: check_gradients(lambda x, m: (x[m] ** 2).sum(), _TABLE, mask))
    assert "input 1 was given as a bool array" in message, message


def test_numerical_gradient_given_ids_says_which_input_became_floats() -> None:
    """numerical_gradient hands f arrays: t[ids] with ids made float64 was numpy's bare "arrays used as indices
    must be of integer (or boolean) type", of an array given as integers."""
    message = _refusal(lambda: numerical_gradient(lambda t, ids: (t[ids] ** 2).sum(), _TABLE, _IDS), IndexError)
    assert message.startswith("arrays used as indices must be of integer"), message
    assert "numerical_gradient: input 1 was given as an int64 array" in message, message


def test_check_gradients_of_an_integer_point_still_checks_it() -> None:
    """An integer array as the point itself (x ** 3 at 0, 1, 2) is checked as before, with no note."""
    report = check_gradients(lambda x: (x ** 3).sum(), np.arange(3))
    np.testing.assert_allclose(report.analytic[0], 3.0 * np.arange(3) ** 2, rtol=1e-12)


# --- guards: the building blocks against float64 central differences --------------------------------------------------
def _central(f: Callable[..., float], arrays: list[np.ndarray], eps: float = 1e-6) -> list[np.ndarray]:
    """∂f/∂(each array) by central differences in float64, of a function on numpy arrays (no Value, no engine)."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    slopes = []
    for k, x in enumerate(arrays):
        slope = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            moved = [[a.copy() for a in arrays] for _ in range(2)]
            moved[0][k][i] += eps
            moved[1][k][i] -= eps
            slope[i] = (float(f(*moved[0])) - float(f(*moved[1]))) / (2 * eps)
        slopes.append(slope)
    return slopes


def _backward(f: Callable[..., Any], arrays: list[np.ndarray], dtype: type) -> list[np.ndarray]:
    """The engine's gradients of the single number f(*Values), the Values of ``dtype``; each of that dtype."""
    values = [Value(np.array(a, dtype=dtype)) for a in arrays]
    out = f(*values)
    assert out.size == 1
    out.backward()
    for v in values:
        assert v.grad is not None and v.grad.dtype == dtype, (v.grad, dtype)
    return [v.grad for v in values]


def _agrees(f: Callable[..., Any], arrays: list[np.ndarray], f_numpy: Callable[..., Any] | None = None) -> None:
    """f's gradients in float64 and float32 against central differences of ``f_numpy`` (f itself on arrays, where
    the same code runs on both) in float64: to 1e-6 in float64, to float32's rounding in float32."""
    numeric = _central(f_numpy or f, arrays)
    for dtype, rtol, atol in ((np.float64, 1e-6, 1e-7), (np.float32, 2e-3, 2e-4)):
        for ours, theirs in zip(_backward(f, arrays, dtype), numeric, strict=True):
            np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol * max(1.0, np.abs(theirs).max()))


def _hessian_agrees(f: Callable[[Value], Value], x: np.ndarray, rtol: float = 1e-6) -> None:
    """hessian(f) at x (float64) against central differences of the gradient, which _agrees holds to f's own."""
    gradient = grad(f)
    numeric = np.zeros(x.shape + x.shape)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += 1e-5
        down[i] -= 1e-5
        numeric[(Ellipsis, *i)] = (gradient(up).data - gradient(down).data) / 2e-5
    ours = hessian(f)(x)
    np.testing.assert_allclose(ours.data, numeric, rtol=rtol, atol=rtol * max(1.0, np.abs(numeric).max()))
    np.testing.assert_allclose(ours.data, np.swapaxes(ours.data.reshape(x.size, x.size), 0, 1).reshape(ours.shape),
                               rtol=1e-9, atol=1e-12)  # (symmetric)


def _join(values: list[Any], axis: int, stacked: bool = False) -> Any:
    """F.concatenate / F.stack on Values, numpy's on arrays: one formula for both."""
    if any(isinstance(v, Value) for v in values):
        return (F.stack if stacked else F.concatenate)(values, axis=axis)
    return (np.stack if stacked else np.concatenate)(values, axis=axis)


def _sigmoid(z: Any) -> Any:
    return 1 / (1 + np.exp(-z))


_X = _RNG.normal(size=(4, 5))
_UPSTREAM = _RNG.normal(size=(4, 5))


def _layer_norm(x: Any, gamma: Any, beta: Any) -> Any:
    centred = x - x.mean(axis=-1, keepdims=True)
    return centred / ((centred ** 2).mean(axis=-1, keepdims=True) + 1e-5) ** 0.5 * gamma + beta


def test_layer_norm_gradients_agree_with_central_differences_to_second_order() -> None:
    _agrees(lambda x, g, b: (_layer_norm(x, g, b) * _UPSTREAM).sum(), [_X, _RNG.normal(size=5), _RNG.normal(size=5)])
    _hessian_agrees(lambda x: (_layer_norm(x, 1.5, 0.2) * _UPSTREAM[:2, :3]).sum(), _X[:2, :3].copy())


def test_batch_norm_trains_on_the_batchs_statistics_and_evaluates_on_the_running_ones() -> None:
    """In training the statistics are the batch's (their gradient flows back through every sample); the running
    averages are updated under no_grad and reach no gradient; in evaluation the map is affine in x, with slope
    γ/√(σ²_running + ε), and the batch's other samples do not matter."""
    gamma, beta = _RNG.normal(size=5), _RNG.normal(size=5)
    running_mean, running_var = Value(np.zeros(5), requires_grad=False), Value(np.ones(5), requires_grad=False)

    def train(x: Any, g: Any, b: Any) -> Any:
        mean = x.mean(axis=0)
        variance = ((x - mean) ** 2).mean(axis=0)
        return ((x - mean) / (variance + 1e-5) ** 0.5 * g + b) * _UPSTREAM

    _agrees(lambda x, g, b: train(x, g, b).sum(), [_X, gamma, beta])
    x = Value(_X.copy())
    cost = train(x, Value(gamma), Value(beta)).sum()
    with no_grad():
        running_mean.data = 0.9 * running_mean.data + 0.1 * x.data.mean(axis=0)
        running_var.data = 0.9 * running_var.data + 0.1 * x.data.var(axis=0, ddof=1)
    cost.backward()
    assert running_mean.grad is None and running_var.grad is None
    np.testing.assert_allclose(running_mean.data, 0.1 * _X.mean(axis=0), rtol=1e-12)

    def evaluate(x: Any, g: Any) -> Any:
        return (((x - running_mean) / (running_var + 1e-5) ** 0.5 * g + beta) * _UPSTREAM).sum()

    slope = gamma * _UPSTREAM / np.sqrt(running_var.data + 1e-5)
    _agrees(evaluate, [_X, gamma], lambda x, g: evaluate(x, g).item())
    np.testing.assert_allclose(_backward(evaluate, [_X, gamma], np.float64)[0], slope, rtol=1e-12)


_H, _IN = 3, 2


def _lstm_cell(x: Any, h: Any, c: Any, w: Any, u: Any, b: Any) -> tuple[Any, Any]:
    z = x @ w + h @ u + b
    i, f, o = _sigmoid(z[:, :_H]), _sigmoid(z[:, _H:2 * _H]), _sigmoid(z[:, 2 * _H:3 * _H])
    c = f * c + i * np.tanh(z[:, 3 * _H:])
    return o * np.tanh(c), c


def _gru_cell(x: Any, h: Any, w: Any, u: Any, b: Any) -> Any:
    zx, zh = x @ w + b, h @ u
    r, update = _sigmoid(zx[:, :_H] + zh[:, :_H]), _sigmoid(zx[:, _H:2 * _H] + zh[:, _H:2 * _H])
    candidate = np.tanh(zx[:, 2 * _H:] + r * zh[:, 2 * _H:])
    return (1 - update) * candidate + update * h


def test_lstm_and_gru_cells_unrolled_two_steps_agree_with_central_differences() -> None:
    xs = _RNG.normal(size=(2, 2, _IN))  # two steps of a batch of 2
    h0, c0 = _RNG.normal(size=(2, _H)), _RNG.normal(size=(2, _H))
    w, u, b = (_RNG.normal(size=(_IN, 4 * _H)) * 0.7, _RNG.normal(size=(_H, 4 * _H)) * 0.7,
               _RNG.normal(size=4 * _H) * 0.3)

    def lstm(xs: Any, w: Any, u: Any, b: Any) -> Any:
        h, c = h0, c0
        for t in range(2):
            h, c = _lstm_cell(xs[t], h, c, w, u, b)
        return (h * _UPSTREAM[:2, :_H]).sum() + (c ** 2).sum()

    def gru(xs: Any, w: Any, u: Any, b: Any) -> Any:
        h = h0
        for t in range(2):
            h = _gru_cell(xs[t], h, w, u, b)
        return (h * _UPSTREAM[:2, :_H]).sum()

    _agrees(lstm, [xs, w, u, b])
    _agrees(gru, [xs, w[:, :3 * _H], u[:, :3 * _H], b[:3 * _H]])
    _hessian_agrees(lambda b: gru(xs, w[:, :3 * _H], u[:, :3 * _H], b), b[:3 * _H].copy())


def _pool(x: Any) -> Any:
    """2×2 max pooling of stride 2 of a 4×4 image: its windows as the last axis, and their maxima."""
    return x.reshape(2, 2, 2, 2).swapaxes(1, 2).reshape(2, 2, 4).max(axis=-1)


def test_max_pooling_splits_a_tie_evenly_which_is_the_central_difference_of_two() -> None:
    """Away from ties the gradient goes to each window's maximum, as central differences say; where two elements tie,
    each gets half, the central difference (one-sided slopes 0 and 1); where k tie, 1/k each (no derivative exists;
    the shares still add up to the slope of moving the whole window, 1)."""
    image = _RNG.permutation(16).astype(float).reshape(4, 4)
    weights = _RNG.normal(size=(2, 2))
    _agrees(lambda x: (_pool(x) * weights).sum(), [image])
    tied = image.copy()
    tied[0, 1] = tied[0, 0] = 20.0  # two tie in the first window
    tied[2:, 2:] = 30.0  # all four in the last
    ours = _backward(lambda x: (_pool(x) * weights).sum(), [tied], np.float64)[0]
    numeric = _central(lambda x: (_pool(x) * weights).sum(), [tied])[0]
    np.testing.assert_allclose(ours[:2, :2], numeric[:2, :2], rtol=1e-7)
    np.testing.assert_allclose(ours[:2, :2], [[weights[0, 0] / 2] * 2, [0.0, 0.0]], rtol=1e-12)
    np.testing.assert_allclose(ours[2:, 2:], np.full((2, 2), weights[1, 1] / 4), rtol=1e-12)
    window = np.zeros((4, 4))
    window[2:, 2:] = 1.0
    whole = _central(lambda shift: (_pool(tied + shift[0] * window) * weights).sum(), [np.zeros(1)])[0]
    assert ours[2:, 2:].sum() == pytest.approx(whole[0], rel=1e-7)


def test_an_embedding_lookup_with_repeated_and_negative_ids_adds_up_each_rows_gradient() -> None:
    """E[ids]: each row's gradient is the sum over the places its id appears (scatter-add); -1 is the last row; a row
    not looked up gets 0.  The second derivative of Σ E[ids]³ is diagonal, 6·(count of the id)·E."""
    table = _RNG.normal(size=(6, 3))
    ids = np.array([[1, 1, -1], [5, 0, 1]])
    upstream = _RNG.normal(size=(2, 3, 3))
    _agrees(lambda e: (e[ids] * upstream).sum(), [table])
    ours = _backward(lambda e: (e[ids] * upstream).sum(), [table], np.float64)[0]
    expected = np.zeros_like(table)
    for place, row in np.ndenumerate(ids):
        expected[row] += upstream[place]
    np.testing.assert_allclose(ours, expected, rtol=1e-12)
    assert not ours[2:5].any()
    counts = np.bincount(ids.ravel() % 6, minlength=6)
    second = hessian(lambda e: (e[ids] ** 3).sum())(table).data.reshape(18, 18)
    np.testing.assert_allclose(second, np.diag((6 * counts[:, None] * table).ravel()), rtol=1e-12, atol=1e-12)


def test_a_top_one_gate_of_experts_by_an_argmax_mask_and_where_agrees_with_central_differences() -> None:
    """Each sample goes to the expert of its largest gate logit (an argmax mask, a constant), weighted by its softmax
    share; F.where takes the chosen expert's output.  Away from a tie of logits the mask stays put within the step."""
    x = _RNG.normal(size=(4, 3))
    gate, experts = _RNG.normal(size=(3, 2)), _RNG.normal(size=(2, 3, 2))
    chosen = (x @ gate).argmax(axis=1)
    mask = np.arange(2) == chosen[:, None]

    def moe(x: Any, gate: Any, experts: Any) -> Any:
        logits = x @ gate
        shares = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        outputs = np.tanh(x[:, None, None, :] @ experts)[:, :, 0, :]  # (4, 2 experts, 2)
        picked = F.where(mask[:, :, None], outputs, 0.0) if isinstance(x, Value) else np.where(
            mask[:, :, None], outputs, 0.0)
        return ((picked.sum(axis=1) * (shares * mask).sum(axis=1, keepdims=True)) ** 2).sum()

    assert np.sort(np.abs(np.diff(np.sort(x @ gate, axis=1), axis=1)).ravel())[0] > 1e-3
    _agrees(moe, [x, gate, experts])
    _hessian_agrees(lambda g: moe(x, g, experts), gate.copy())


def test_a_residual_block_of_concatenate_split_and_stack_agrees_to_second_order() -> None:
    w = _RNG.normal(size=(3, 3)) * 0.5

    def block(x: Any) -> Any:
        joined = _join([x, np.tanh(x @ w)], axis=1)  # (4, 6)
        left, right = np.split(joined, 2, axis=1)
        stacked = _join([left, right * 2.0], axis=-1, stacked=True)  # (4, 3, 2)
        return ((stacked.sum(axis=-1) + x) ** 2 * _UPSTREAM[:len(x), :3]).sum()

    _agrees(block, [_X[:, :3]])
    _hessian_agrees(block, _X[:2, :3].copy())


@pytest.mark.parametrize("subscripts, shapes, contraction", [
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 2)], lambda a, b: a @ b),
    ("bhqd,bhkd->bhqk", [(1, 2, 3, 4), (1, 2, 5, 4)], lambda q, k: q @ k.swapaxes(-1, -2)),
    ("ijk,ikl->jl", [(2, 3, 4), (2, 4, 5)],
     lambda a, b: a.transpose(1, 0, 2).reshape(3, 8) @ b.reshape(8, 5)),
    ("ij,ij->i", [(3, 4), (3, 4)], lambda a, b: (a * b).sum(axis=1)),
    ("i,j->ij", [(3,), (4,)], lambda a, b: a.reshape(-1, 1) * b.reshape(1, -1)),
    ("ii->i", [(4, 4)], lambda a: a[np.arange(4), np.arange(4)]),
])
def test_einsum_contractions_written_with_reshape_transpose_and_matmul(subscripts, shapes, contraction) -> None:
    arrays = [_RNG.normal(size=shape) for shape in shapes]
    expected = np.einsum(subscripts, *arrays)
    ours = contraction(*[Value(a) for a in arrays])
    np.testing.assert_allclose(ours.data, expected, rtol=1e-12, atol=1e-14)
    upstream = _RNG.normal(size=expected.shape)
    _agrees(lambda *xs: (contraction(*xs) * upstream).sum(), arrays,
            lambda *xs: (np.einsum(subscripts, *xs) * upstream).sum())


@pytest.mark.parametrize("a_shape, b_shape", [((2, 1, 3, 4), (5, 4, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,)),
                                              ((3, 4), (2, 1, 4, 2)), ((1, 3, 4), (2, 4, 3))])
def test_batched_matmul_broadcasting_leading_dimensions_sums_each_gradient_back(a_shape, b_shape) -> None:
    a, b = _RNG.normal(size=a_shape), _RNG.normal(size=b_shape)
    upstream = _RNG.normal(size=np.matmul(a, b).shape)
    _agrees(lambda a, b: (np.tanh(a @ b) * upstream).sum(), [a, b])
    _hessian_agrees(lambda x: (np.tanh(x @ b) * upstream).sum(), a)


def test_a_cumulative_sum_by_a_triangular_matrix_and_its_reversed_gradient() -> None:
    """x @ U, U the upper triangle of ones, is np.cumsum along the last axis, in x's dtype; its gradient is the
    reversed running sum of the upstream gradient."""
    x, upstream = _RNG.normal(size=(3, 5)), _RNG.normal(size=(3, 5))
    for dtype in (np.float64, np.float32):
        v = Value(x.astype(dtype))
        running = v @ np.triu(np.ones((5, 5), dtype))
        assert running.dtype == dtype
        np.testing.assert_allclose(running.data, np.cumsum(x, axis=1), rtol=1e-5 if dtype == np.float32 else 1e-12)
        running.backward(upstream.astype(dtype))
        np.testing.assert_allclose(v.grad, np.cumsum(upstream[:, ::-1], axis=1)[:, ::-1], rtol=1e-5, atol=1e-6)
    _agrees(lambda x: ((x @ np.triu(np.ones((5, 5)))) ** 2 * upstream).sum(), [x],
            lambda x: (np.cumsum(x, axis=1) ** 2 * upstream).sum())
    _hessian_agrees(lambda x: (np.tanh(x @ np.triu(np.ones((5, 5)))) * upstream[0]).sum(), x[0].copy())


@pytest.mark.parametrize("gather", [
    lambda x: x[[0, -1, -1, 2], [-2, 3, 3, 0]],
    lambda x: x[np.array([[0, 0], [-1, 2]]), -1],
    lambda x: x[[0, 0, -1]][:, [1, -1, 1]],
    lambda x: np.take_along_axis(x, np.array([[0, -1, -1]] * 4), axis=1),
    lambda x: x[np.arange(4)[:, None], np.array([[4, -1], [0, 0], [-5, 2], [1, 1]])],
], ids=["pairs", "rows-then-last", "rows-then-columns", "take_along_axis", "per-row-gather"])
def test_gathers_with_negative_and_repeated_indices_agree_to_second_order(gather) -> None:
    upstream = _RNG.normal(size=np.shape(gather(_X)))
    _agrees(lambda x: (gather(x) ** 3 * upstream).sum(), [_X])
    _hessian_agrees(lambda x: (gather(x) ** 3 * upstream).sum(), _X.copy())
