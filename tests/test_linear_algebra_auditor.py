"""An audit of the linear-algebra and shape operations: matmul (1-D·1-D, 1-D·2-D, 2-D·1-D, batched, broadcast batch
dimensions), transpose/.T, reshape, and in-place matmul, against numpy's rules, float64 central differences and
PyTorch's second derivatives; the layer's formula against the README's convention.

Defects (xfail, strict: each fails on the code before the fix):

- ``w @= v`` with a vector ``v`` under ``no_grad`` broadcast the product over w's rows, silently (numpy refuses it);
- an in-place update that numpy refused named the other operand by its type only (``by ndarray``), not its shape;
- ``broadcast_to``'s error named the input's shape but not the shape it was to be broadcast to;
- ``v.transpose(np.argsort(order))`` and ``v.reshape(np.array(shape))`` (numpy takes both) failed with numpy's
  "only integer scalar arrays can be converted to a scalar index";
- ``np.broadcast_to``, ``np.trace``, ``np.vstack`` and ``np.hstack`` on a Value were refused without saying what to
  write (``np.outer``, ``np.dot`` do say it).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, nn, no_grad, ops
from tinygrad_edu.engine import apply
from tinygrad_edu.testing.strategies import arrays, arrays_for, matmul_shapes, shapes


def central_differences(f: Callable[..., float], arrays_: list[np.ndarray], eps: float = 1e-6) -> list[np.ndarray]:
    """∂f/∂(every element of every input) by central differences in float64."""
    grads = []
    for i, base in enumerate(arrays_):
        grad = np.zeros_like(base)
        for index in np.ndindex(base.shape):
            moved = [a.copy() for a in arrays_]
            moved[i][index] = base[index] + eps
            up = f(*moved)
            moved[i][index] = base[index] - eps
            grad[index] = (up - f(*moved)) / (2 * eps)
        grads.append(grad)
    return grads


def _weights(shape: tuple[int, ...]) -> np.ndarray:
    return np.linspace(-1.0, 1.5, max(int(np.prod(shape)), 1))[:int(np.prod(shape))].reshape(shape)


# ------------------------------------------------------------------------------------------------------ defects

def test_in_place_matmul_by_a_vector_is_refused_not_broadcast() -> None:
    w = Value(np.array([[1.0, 2.0], [3.0, 4.0]]))
    with no_grad(), pytest.raises(ValueError, match=r"matmul in place.*\(2, 2\).*\(2,\)"):
        w @= np.array([1.0, 10.0])  # w @ v is [21, 43], of shape (2,): it cannot be w's new numbers
    np.testing.assert_array_equal(w.data, [[1.0, 2.0], [3.0, 4.0]])


def test_in_place_matmul_error_names_both_shapes() -> None:
    w = Value(np.eye(2))
    with no_grad(), pytest.raises(ValueError) as error:
        w @= np.ones((3, 3))
    assert str(error.value).startswith("matmul in place")
    assert "(2, 2)" in str(error.value) and "(3, 3)" in str(error.value)
    np.testing.assert_array_equal(w.data, np.eye(2))


def test_broadcast_to_error_names_both_shapes() -> None:
    with pytest.raises(ValueError) as error:
        apply(ops.broadcast_to, Value(np.ones(3)), shape=(2, 4))
    message = str(error.value)
    assert message.startswith("broadcast_to:") and "(3,)" in message and "(2, 4)" in message


def test_transpose_takes_an_array_of_axes_as_numpy_does() -> None:
    numbers = np.arange(24.0).reshape(2, 3, 4)
    order = np.argsort([2, 0, 1])  # the inverse of the permutation (2, 0, 1): a common way to get axes
    x = Value(numbers)
    out = x.transpose(order)
    np.testing.assert_array_equal(out.data, numbers.transpose(order))
    upstream = _weights(out.shape)
    out.backward(upstream)
    np.testing.assert_array_equal(x.grad, upstream.transpose(np.argsort(order)))
    assert x.transpose(range(3)).shape == (2, 3, 4)


def test_reshape_takes_an_array_shape_as_numpy_does() -> None:
    numbers = np.arange(24.0).reshape(2, 3, 4)
    x = Value(numbers)
    out = x.reshape(np.array([4, -1]))
    np.testing.assert_array_equal(out.data, numbers.reshape(4, 6))
    out.backward(_weights((4, 6)))
    np.testing.assert_array_equal(x.grad, _weights((4, 6)).reshape(2, 3, 4))


@pytest.mark.parametrize("call", [lambda v: np.broadcast_to(v, (2, 3)), lambda v: np.trace(v.reshape(1, 3)),
                                  lambda v: np.vstack([v, v]), lambda v: np.hstack([v, v])],
                         ids=["broadcast_to", "trace", "vstack", "hstack"])
def test_numpy_shape_functions_refused_say_what_to_write(call: Callable[[Value], object]) -> None:
    with pytest.raises(TypeError, match=r"^np\.\w+: .*\(here: .+\)$"):
        call(Value(np.array([1.0, 2.0, 3.0])))


# ------------------------------------------------------------------------------------------------- guard tests

@given(arrays_for(matmul_shapes(max_batch_dims=2)), st.sampled_from([np.float32, np.float64]))
def test_matmul_forward_and_gradient_over_numpys_shape_rules(pair: tuple[np.ndarray, ...], dtype: type) -> None:
    """1-D·1-D, 1-D·N-D, N-D·1-D and broadcast batches: numpy's numbers and dtype, gradients of the input's dtype
    that match float64 central differences of C = Σ w ⊙ (a @ b)²."""
    a, b = (x.astype(dtype) for x in pair)
    A, B = Value(a), Value(b)
    out = A @ B
    expected = a @ b
    assert out.shape == expected.shape and out.dtype == expected.dtype == dtype
    np.testing.assert_array_equal(out.data, expected)
    w = _weights(expected.shape)
    (out * out * w.astype(dtype)).sum().backward()
    assert A.grad.dtype == B.grad.dtype == dtype
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    numeric = central_differences(lambda x, y: float(np.sum(w * (x @ y) ** 2)), [a64, b64])
    tolerance = {"rtol": 1e-3, "atol": 1e-3} if dtype == np.float32 else {"rtol": 1e-6, "atol": 1e-6}
    np.testing.assert_allclose(A.grad, numeric[0], **tolerance)
    np.testing.assert_allclose(B.grad, numeric[1], **tolerance)


@given(arrays_for(matmul_shapes(max_batch_dims=2)))
def test_matmul_second_derivatives_match_pytorch(pair: tuple[np.ndarray, ...]) -> None:
    """The gradient of ‖∂C/∂a‖² + ‖∂C/∂b‖² (a recorded backward pass differentiated again) as torch.autograd has it."""
    torch = pytest.importorskip("torch")
    a, b = pair
    A, B = Value(a), Value(b)
    w = _weights((a @ b).shape)
    out = A @ B
    (out * out * w).sum().backward(create_graph=True)
    second = (A.grad * A.grad).sum() + (B.grad * B.grad).sum()
    A.zero_grad()
    B.zero_grad()
    second.backward()
    ta = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    tout = ta @ tb
    ga, gb = torch.autograd.grad((tout * tout * torch.tensor(w)).sum(), (ta, tb), create_graph=True)
    ha, hb = torch.autograd.grad((ga * ga).sum() + (gb * gb).sum(), (ta, tb))
    np.testing.assert_allclose(A.grad, ha.numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(B.grad, hb.numpy(), rtol=1e-10, atol=1e-10)


@given(arrays(shapes(min_dims=1, max_dims=4)), st.randoms(use_true_random=False), st.booleans())
def test_transpose_and_reshape_move_the_gradient_back(x: np.ndarray, random, negative: bool) -> None:
    """A permutation (negative axes too) and a reshape with -1: numpy's numbers, and the upstream gradient moved back
    by the inverse permutation and the input's shape (the closed forms)."""
    order = list(range(x.ndim))
    random.shuffle(order)
    axes = [a - x.ndim if negative else a for a in order]
    v = Value(x)
    moved = v.transpose(axes)  # (one list: a matrix's [0, 1] spread out, transpose(0, 1), is refused)
    np.testing.assert_array_equal(moved.data, np.transpose(x, axes))
    flat = moved.reshape(-1, x.shape[-1])
    np.testing.assert_array_equal(flat.data, np.transpose(x, axes).reshape(-1, x.shape[-1]))
    upstream = _weights(flat.shape)
    flat.backward(upstream)
    np.testing.assert_array_equal(v.grad, upstream.reshape(moved.shape).transpose(np.argsort(order)))


@pytest.mark.parametrize("a, b", [((3,), (4,)), ((3,), (4, 5)), ((2, 3), (4,)), ((2, 3), (2, 3)), ((5, 2, 3), (4,)),
                                  ((2, 2, 3), (3, 3, 4)), ((), (3,)), ((3,), ())])
def test_matmul_of_mismatched_shapes_names_the_op_and_both_shapes(a: tuple[int, ...], b: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"^matmul: ") as error:
        Value(np.ones(a)) @ Value(np.ones(b))
    assert str(a) in str(error.value) and str(b) in str(error.value)


def test_a_layer_computes_the_seeds_w_alpha_plus_b_with_its_weights_transposed() -> None:
    """README: forward(α) = σ(α @ W + b), and α @ W is the seed's W·α with the seed's W the transpose of the code's
    (one row per neuron): for one sample and, row by row, for a batch."""
    layer = nn.Layer(4, 3, activation="sigmoid", init="xavier", rng=0)
    alpha = np.array([0.2, -0.5, 1.0, 0.7])
    seed_w = layer.weights.data.T  # shape (out_size, in_size): row j holds neuron j's weights
    expected = 1.0 / (1.0 + np.exp(-(seed_w @ alpha + layer.biases.data)))
    np.testing.assert_allclose(layer(alpha).data, expected, rtol=1e-14)
    batch = np.stack([alpha, -alpha, 2 * alpha])
    np.testing.assert_allclose(layer(batch).data, 1.0 / (1.0 + np.exp(-(batch @ seed_w.T + layer.biases.data))),
                               rtol=1e-14)
    # ∂C/∂W for C = Σ α¹ over the batch, against central differences of the same formula
    layer(batch).sum().backward()
    numeric = central_differences(
        lambda w: float(np.sum(1.0 / (1.0 + np.exp(-(batch @ w + layer.biases.data))))), [layer.weights.data.copy()])
    np.testing.assert_allclose(layer.weights.grad, numeric[0], rtol=1e-7, atol=1e-9)


def test_in_place_matmul_by_a_matrix_keeps_working_under_no_grad() -> None:
    """The fix refuses only a product of another shape: w @= m for a square m changes w's numbers, as numpy's a @= m."""
    numbers = np.array([[1.0, 2.0], [3.0, 4.0]])
    w = Value(numbers.copy())
    swap = np.array([[0.0, 1.0], [1.0, 0.0]])
    with no_grad():
        w @= swap
    np.testing.assert_array_equal(w.data, numbers @ swap)
    v = Value(np.array([1.0, 2.0]))
    with no_grad():
        v @= swap  # a vector times a matrix keeps its shape: allowed, as in numpy
    np.testing.assert_array_equal(v.data, [2.0, 1.0])
    x = Value(numbers.copy())
    y = x @ np.array([1.0, 10.0])  # recorded: a new Value of the product's shape, not a change in place
    assert y.shape == (2,) and y.op == "matmul"
    np.testing.assert_array_equal(x.data, numbers)
