"""Round 42's review: defects found in the round's change, each test failing before its fix."""

import re

import numpy as np
import pytest

from tinygrad_edu import Value, functional, ops

# --- defect: the softmax Op on unsigned or small integers --------------------------------------------------------
# Round 42 made softmax on booleans compute in float64 ("on integer or boolean arrays compute in floats"), but
# integers still went through numpy's own arithmetic: x − max x of uint8 [2, 1] wraps around to [0, 255], whose
# exponential overflows, so the softmax was [0, nan]; int8 took float16's exp (0.731, 0.2688).  log_softmax already
# computes them in float64.

@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint64, np.int8, np.int16, np.int64, bool])
@pytest.mark.parametrize("axis", [-1, 0, None])
def test_the_softmax_op_on_integers_is_the_float64_softmax_of_their_numbers(dtype, axis):
    x = np.array([[2, 1, 0], [1, 1, 3]]).astype(dtype)
    numbers = x.astype(np.float64)
    e = np.exp(numbers - numbers.max(axis=axis, keepdims=True))
    expected = e / e.sum(axis=axis, keepdims=True)
    out = ops.softmax(x, axis=axis)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, expected, rtol=1e-15)
    np.testing.assert_allclose(out, np.exp(ops.log_softmax(x, axis=axis)), rtol=1e-15)


def test_the_softmax_op_of_an_empty_integer_array_is_an_empty_float_array():
    # as log_softmax's: an empty float64 array, not an int array that claims to hold probabilities
    out = ops.softmax(np.zeros((0, 3), dtype=np.int64))
    assert out.shape == (0, 3) and out.dtype == np.float64
    assert ops.log_softmax(np.zeros((0, 3), dtype=np.int64)).dtype == np.float64


# --- defect: v.softmax(dim=0), PyTorch's method, was told "write functional.softmax(v)" -----------------------------
# Pasted, that is the softmax over the last axis: for torch's x.softmax(0) (or dim=0) each column's shares became
# each row's, silently, the very mistake the round's dim=/keepdim= advice was changed to avoid.

@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_the_softmax_methods_advice_carries_pytorchs_dim_over_as_axis(name):
    torch = pytest.importorskip("torch")
    data = np.arange(6.0).reshape(2, 3) ** 1.5
    v = Value(data)
    with pytest.raises(AttributeError) as raised:
        getattr(v, name)
    message = str(raised.value)
    call = f"functional.{name}(v, axis=dim)"
    assert call in message, message
    for dim in (0, 1, -1):
        pasted = eval(call, {"functional": functional, "v": v, "dim": dim})  # noqa: S307 (the message's own code)
        np.testing.assert_allclose(pasted.data, getattr(torch.tensor(data), name)(dim=dim).numpy(), rtol=1e-12)


# --- defect: PyTorch's dim=[2, 3] (a list, as global average pooling writes it) got advice that is refused ----------
# v.mean(dim=[0, 1], keepdim=True) was told "write v.mean(axis=[0, 1], keepdims=True)", and that, pasted, is refused:
# "axis must be an int or a tuple of ints, got the list [0, 1]".

@pytest.mark.parametrize("reduction", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize("kwargs", [{"dim": [0, 1]}, {"dim": [1], "keepdim": True}, {"dim": [-1, 0], "keepdim": True}])
def test_dim_given_as_a_list_is_advised_as_a_tuple_that_pasted_computes_pytorchs_numbers(reduction, kwargs):
    torch = pytest.importorskip("torch")
    data = np.arange(6.0).reshape(2, 3) ** 1.5
    v = Value(data)
    with pytest.raises(TypeError) as raised:
        getattr(v, reduction)(**kwargs)
    message = str(raised.value)
    written = re.search(rf"(v\.{reduction}\((?:[^()]|\([^()]*\))*\))", message)
    assert written, message
    pasted = eval(written.group(1), {"v": v})  # noqa: S307 (the message's own code)
    tensor = torch.tensor(data)
    if reduction in ("max", "min"):  # (torch's max/min take one dim: its amax/amin take several)
        expected = getattr(torch, f"a{reduction}")(tensor, **kwargs).numpy()
    else:
        expected = getattr(torch, reduction)(tensor, **kwargs).numpy()
    np.testing.assert_allclose(pasted.data, expected, rtol=1e-15)


# --- defect: leaky_relu's new integer branch recursed forever on complex or object arrays --------------------------
# Round 42 sent every dtype that is not a float to "compute in floats": np.result_type(x, 1.0) of a complex or object
# array is that dtype again, so a slope outside (0, 1] (0.0, 1.5, −0.5) ended in RecursionError, where the Op gave
# the definition's numbers before (x for x > 0, as numpy orders them, else s·x).

COMPLEX, OBJECTS = np.array([1 + 1j, -2, 3j]), np.array([1, -2, 3], dtype=object)


@pytest.mark.parametrize(("x", "slope"), [(COMPLEX, 0.0), (COMPLEX, 1.5), (COMPLEX, -0.5), (COMPLEX, 0.5),
                                          (OBJECTS, 1.5), (OBJECTS, -0.5), (OBJECTS, 0.5)])  # (objects at 0.0: finfo)
def test_the_leaky_relu_op_on_complex_or_object_arrays_is_its_definition(x, slope):
    expected = np.where(x > 0, x, x * slope)
    out = ops.leaky_relu(x, negative_slope=slope)
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out, expected)


def test_the_softmax_op_keeps_a_complex_array_complex():
    # float64 is for integers and booleans: a complex array's softmax was complex at the round's start, and is so
    z = np.array([1 + 1j, 0.5, -1j])
    e = np.exp(z - z.max())
    np.testing.assert_allclose(ops.softmax(z), e / e.sum(), rtol=1e-14)
