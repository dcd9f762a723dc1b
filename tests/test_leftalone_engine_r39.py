"""Loose ends of an engineer who writes Ops and uses the engine directly, each failing before its fix: an Op of no
inputs was accepted (nothing it computes can have a gradient); ``_, idx = v.max(1)`` (PyTorch's values and indices)
unpacked two rows' maxima silently; ``m.transpose(0, 1)`` of a matrix was numpy's "change nothing", where PyTorch
exchanges the axes; and the second derivatives of log_softmax and cross_entropy raised numpy's underflow under
np.errstate(all="raise") where the first derivative did not."""

import numpy as np
import pytest

from tinygrad_edu import Op, Value, losses, no_grad
from tinygrad_edu import functional as F
from tinygrad_edu.autodiff import grad, hessian


# --- (c) an Op of no inputs ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("vjps", [(), []])
def test_an_op_of_no_inputs_is_refused_where_it_is_built(vjps) -> None:
    with pytest.raises(TypeError, match=r"^Op 'constant': .*no input.*one vjp per input"):
        Op("constant", lambda: np.ones(3), vjps)


# --- (e) PyTorch's values and indices from max(1) --------------------------------------------------------------------
@pytest.mark.parametrize("rows", [2, 3])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_over_an_axis_unpacked_into_two_names_is_refused(rows: int, name: str) -> None:
    """``_, idx = v.max(1)``: for 2 rows the two maxima came out as "values" and "indices" (wrong numbers, no
    error); for 3 rows Python's "too many values to unpack" named nothing."""
    v = Value(np.arange(rows * 3.0).reshape(rows, 3))
    with pytest.raises(TypeError, match=rf"{name}\(1\).*v\.data\.arg{name}\(axis=1\)"):
        _, idx = getattr(v, name)(1)
    with no_grad(), pytest.raises(TypeError, match=rf"arg{name}"):  # (PyTorch's evaluation of an accuracy)
        _, idx = getattr(v, name)(1, True)
    with pytest.raises(TypeError, match=rf"v\.{name}\(-1, keepdims=True\)"):  # (the call as given: its values)
        values, indices = getattr(v, name)(axis=-1, keepdims=True)


def test_iterating_over_maxima_and_unpacking_other_values_still_work() -> None:
    v = Value(np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]]))
    assert [float(m.data) for m in v.max(1)] == [5.0, 7.0]
    assert [float(m.data) for m in list(v.min(axis=1))] == [1.0, 0.0]
    first, second = v  # the rows of a Value
    assert first.data.tolist() == [1.0, 5.0, 2.0] and second.data.tolist() == [7.0, 0.0, 3.0]
    a, b = v.sum(1)
    assert (float(a.data), float(b.data)) == (8.0, 10.0)
    a, b, c = Value(np.ones((3, 2))).max(1)  # three names: no pair of values and indices
    assert float(c.data) == 1.0
    values, indices = v.max(1), v.data.argmax(axis=1)  # the advice
    assert values.data.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]


# --- (f) transpose(0, 1) of a matrix ---------------------------------------------------------------------------------
@pytest.mark.parametrize("axes", [(0, 1), (-2, -1), (0, -1), (-2, 1)])
def test_transpose_of_a_matrix_by_two_axes_in_order_is_refused(axes) -> None:
    """numpy's m.transpose(0, 1) leaves m as it is, PyTorch's exchanges the axes: a 3 × 3 W came back untransposed,
    silently."""
    with pytest.raises(ValueError, match=r"swapaxes\(0, 1\).*\.T"):
        Value(np.arange(9.0).reshape(3, 3)).transpose(*axes)


def test_the_transposes_that_agree_with_pytorch_and_numpy_still_work() -> None:
    m = np.arange(6.0).reshape(2, 3)
    for moved in (Value(m).transpose(1, 0), Value(m).transpose(-1, 0), Value(m).swapaxes(0, 1), Value(m).T):
        assert moved.data.tolist() == m.T.tolist()
    assert Value(m).transpose((0, 1)).data.tolist() == m.tolist()  # numpy's permutation, given as one tuple
    assert np.transpose(Value(m), (0, 1)).data.tolist() == m.tolist()
    with pytest.raises(ValueError, match=r"swapaxes\(0, 1\)"):  # a stack: numpy refuses two axes of three
        Value(np.zeros((2, 3, 4))).transpose(0, 1)


# --- (h) second derivatives under np.errstate(all="raise") -----------------------------------------------------------
@pytest.mark.parametrize(("logits", "dtype"), [([-745.0, 0.0, -30.0], np.float64), ([700.0, 0.0, -30.0], np.float64),
                                               ([-100.0, 0.0, -30.0], np.float32), ([60.0, 0.0, -30.0], np.float32)])
def test_the_hessian_of_cross_entropy_raises_no_underflow(logits, dtype) -> None:
    """The Hessian of −0.3·ln softmax(z)[1] is 0.3·(diag(p) − p·pᵀ) (p = softmax(z)); its gradient raised no
    underflow, the Hessian numpy's "underflow encountered in multiply", from log_softmax's own derivative."""
    z = np.array(logits, dtype=dtype)
    cost = lambda v: losses.cross_entropy(v, np.array(1)) * 0.3  # noqa: E731
    with np.errstate(all="raise"):
        grad(cost)(z)
        computed = hessian(cost)(z).data
    shifted = np.exp(np.array(logits) - max(logits))
    p = shifted / shifted.sum()
    tolerance = 1e-12 if dtype is np.float64 else 1e-6
    np.testing.assert_allclose(computed, 0.3 * (np.diag(p) - np.outer(p, p)), rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize(("logits", "dtype"), [([-745.0, 0.0, -30.0], np.float64), ([90.0, 0.0, -30.0], np.float32)])
def test_the_hessian_of_a_batch_cross_entropy_raises_no_underflow(logits, dtype) -> None:
    """The mean over 3 samples of one row z (labels 1, 0, 2), as optim.Newton's Hessian of a classifier's cost: each
    sample's Hessian is diag(p) − p·pᵀ whatever its label, so the mean is that too."""
    z = np.array(logits, dtype=dtype)
    cost = lambda v: losses.cross_entropy(v.reshape(1, -1) * np.ones((3, 1), dtype=dtype), [1, 0, 2])  # noqa: E731
    with np.errstate(all="raise"):
        computed = hessian(cost)(z).data
    shifted = np.exp(np.array(logits) - max(logits))
    p = shifted / shifted.sum()
    tolerance = 1e-12 if dtype is np.float64 else 1e-6
    np.testing.assert_allclose(computed, np.diag(p) - np.outer(p, p), rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize(("logits", "dtype"), [([700.0, 0.0, -30.0], np.float64), ([-745.0, 0.0, -30.0], np.float64),
                                               ([-100.0, 0.0, -30.0], np.float32), ([60.0, 0.0, -30.0], np.float32)])
def test_a_weighted_second_derivative_of_log_softmax_raises_no_underflow(logits, dtype) -> None:
    """∂/∂z of Σ c·∇(Σ w·log_softmax(z)) = −(Σw)·p ⊙ (c − c·p), p = softmax(z): its products of p far out, 1e-300
    and less, were generic ones (exp, mul, tanh(x/2)'s ·0.5) and raised "underflow" under np.errstate(all="raise");
    the first derivative w − p·Σw raised nothing."""
    w, c = np.array([0.3, -0.7, 1.1], dtype=dtype), np.array([1.0, -2.0, 0.5], dtype=dtype)
    first = grad(lambda u: (F.log_softmax(u) * w).sum())
    with np.errstate(all="raise"):
        computed = grad(lambda v: (first(v) * c).sum())(np.array(logits, dtype=dtype)).data
    shifted = np.exp(np.array(logits) - max(logits))
    p = shifted / shifted.sum()
    expected = -w.astype(float).sum() * p * (c - c @ p)
    tolerance = 1e-12 if dtype is np.float64 else 1e-6
    np.testing.assert_allclose(computed, expected, rtol=tolerance, atol=tolerance)


def test_an_underflow_of_ones_own_arithmetic_still_raises_in_a_second_derivative() -> None:
    """1e-10 · ln x at x = 1e160: its derivative 1e-170 is a normal number, its second −1e-330 underflows in
    arithmetic of one's own (ln and a product, no activation), which numpy's errstate raises as it did."""
    f = lambda v: F.log(v) * 1e-10  # noqa: E731
    with np.errstate(all="raise"):
        assert float(grad(f)(1e160).data) == pytest.approx(1e-170)
        with pytest.raises(FloatingPointError, match="underflow"):
            grad(grad(f))(1e160)
