"""numpy's functions on Values, as a numpy user calls them: each is a recorded Value with the gradient of finite
differences, or a refusal naming the function whose advice, followed as written, gives numpy's numbers and shape."""

import numpy as np
import pytest

from tinygrad_edu import Value, functional, no_grad

RNG = np.random.default_rng(7)
SQUARE = RNG.normal(size=(3, 3)) + 0.1  # (square: a reduced axis lost would broadcast silently along the other)
MATRIX = np.array([[0.123, -0.456, 0.789], [0.111, 0.999, -0.5]])
ZEROS_IN_ROW_0 = MATRIX - MATRIX[0]  # (np.any and np.all along an axis differ from all the numbers' any and all)


def _advice(call, v, marker="(here: "):
    """The formula a refusal of ``call(v)`` gives (after ``marker``)."""
    with pytest.raises(TypeError) as caught:
        call(v)
    text = str(caught.value)
    assert marker in text, text
    formula = text.rsplit(marker, 1)[1]
    return formula[:-1] if marker == "(here: " else formula


def _finite_differences(f, x, eps=1e-6):
    """The gradient of Σ cos(k)·f(x)ₖ (weights that tell the outputs apart) by central differences."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        fu, fd = np.asarray(f(up)), np.asarray(f(down))
        weights = np.cos(np.arange(fu.size)).reshape(fu.shape)
        grad[i] = ((fu * weights).sum() - (fd * weights).sum()) / (2 * eps)
    return grad


@pytest.mark.parametrize("call, numpys", [
    (lambda v: np.var(v, axis=1, keepdims=True), lambda x: np.var(x, axis=1, keepdims=True)),
    (lambda v: np.std(v, axis=0, keepdims=True), lambda x: np.std(x, axis=0, keepdims=True)),
    (lambda v: np.var(v, keepdims=True), lambda x: np.var(x, keepdims=True)),
    (lambda v: np.std(v, 1, None, None, 1, True), lambda x: np.std(x, 1, None, None, 1, True)),
    (lambda v: np.prod(v, axis=1, keepdims=True), lambda x: np.prod(x, axis=1, keepdims=True)),
])
def test_a_reductions_advice_keeps_the_axes_numpy_keeps(call, numpys):
    x = np.abs(SQUARE) + 0.5  # (positive: the advice for prod is for positive numbers)
    v = Value(x)
    formula = _advice(call, v).split(" for positive numbers")[0].split(", n the numbers")[0]
    axis, n = (1 if numpys(x).shape == (3, 1) else 0), 3  # noqa: F841  (the names the formula uses)
    result = eval(formula)
    assert result.shape == numpys(x).shape
    np.testing.assert_allclose(result.data, numpys(x))


@pytest.mark.parametrize("ufunc", [np.add, np.maximum, np.minimum])
@pytest.mark.parametrize("axis", [0, 1, None])
def test_a_ufunc_reduce_advice_keeps_the_axes_numpy_keeps(ufunc, axis):
    v = Value(SQUARE)
    formula = _advice(lambda v: ufunc.reduce(v, axis=axis, keepdims=True), v, marker="write ")
    result = eval(formula)
    expected = ufunc.reduce(SQUARE, axis=axis, keepdims=True)
    assert result.shape == expected.shape
    np.testing.assert_allclose(result.data, expected)


@pytest.mark.parametrize("x, call", [
    (MATRIX, lambda v: np.round(v, 2)), (MATRIX, lambda v: np.argmax(v, axis=1)),
    (MATRIX, lambda v: np.argmin(v, 0)), (ZEROS_IN_ROW_0, lambda v: np.any(v, axis=0)),
    (ZEROS_IN_ROW_0, lambda v: np.all(v, axis=1, keepdims=True)), (MATRIX, lambda v: np.isclose(v, 0.1, atol=0.05)),
])
def test_the_advice_for_a_result_without_a_derivative_keeps_the_arguments(x, call):
    v = a = Value(x)
    b = Value(np.full_like(x, 0.1))  # noqa: F841  (isclose's advice names a and b)
    formula = _advice(call, v).split(", on the numbers")[0]
    assert a is v
    result = eval(formula)
    expected = call(x)
    assert np.shape(result) == np.shape(expected)
    np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("call, numpys", [
    (lambda v: np.fill_diagonal(v, 0.0), lambda x: np.fill_diagonal(x, 0.0)),
    (lambda v: np.place(v, SQUARE > 0, 0.0), lambda x: np.place(x, SQUARE > 0, 0.0)),
    (lambda v: np.putmask(v, SQUARE > 0, 0.0), lambda x: np.putmask(x, SQUARE > 0, 0.0)),
    (lambda v: np.put(v, [1, 5], 0.0), lambda x: np.put(x, [1, 5], 0.0)),
    (lambda v: np.copyto(v, np.zeros((3, 3))), lambda x: np.copyto(x, np.zeros((3, 3)))),
])
def test_numpys_in_place_functions_are_refused_by_name_with_advice_that_works(call, numpys):
    v = Value(SQUARE.copy())
    with pytest.raises(TypeError, match=r"^np\.\w+: changes its first argument in place") as caught:
        call(v)
    statement = str(caught.value).split("(here: ")[1].rsplit("); else", 1)[0]
    mask, indices, value, values, numbers = SQUARE > 0, [1, 5], 0.0, 0.0, np.zeros((3, 3))  # noqa: F841
    with no_grad():
        exec(statement)
    expected = SQUARE.copy()
    numpys(expected)
    np.testing.assert_array_equal(v.data, expected)


# --- guards: the paths that work give recorded Values with finite differences' gradients -------------------------
OTHER = RNG.normal(size=(2, 3))


@pytest.mark.parametrize("call", [
    lambda v: np.add(OTHER, v), lambda v: np.subtract(OTHER, v), lambda v: np.divide(OTHER, v * v + 1.0),
    lambda v: np.power(np.abs(OTHER) + 0.5, v), lambda v: np.maximum(OTHER, v), lambda v: np.sqrt(np.abs(v)),
    lambda v: np.matmul(v, OTHER.T), lambda v: OTHER.T @ v, lambda v: np.moveaxis(v[None], 0, -1),
    lambda v: np.flip(v, axis=1), lambda v: np.take_along_axis(v, np.array([[2, 0], [1, 1]]), 1),
    lambda v: np.swapaxes(v, 0, 1), lambda v: np.max(v, axis=1, keepdims=True), lambda v: np.mean(v, axis=(0, 1)),
    lambda v: np.float32(2.0) ** v, lambda v: np.array(3.0) / (v * v + 1.0), lambda v: np.int64(2) - v,
])
def test_numpys_functions_on_values_are_recorded_with_the_gradient_of_finite_differences(call):
    v = Value(MATRIX.copy())
    out = call(v)
    assert isinstance(out, Value) and out.dtype == call(MATRIX).dtype
    np.testing.assert_allclose(out.data, call(MATRIX))
    (out * np.cos(np.arange(out.size)).reshape(out.shape)).sum().backward()
    np.testing.assert_allclose(v.grad, _finite_differences(call, MATRIX), rtol=1e-5, atol=1e-7)


def test_np_split_gives_values_whose_gradients_add_up_to_finite_differences():
    v = Value(MATRIX.copy())
    parts = np.split(v, 3, axis=1)
    assert all(isinstance(p, Value) for p in parts)
    sum((p * (i + 1.0)).sum() for i, p in enumerate(parts)).backward()
    expected = _finite_differences(lambda x: sum((p * (i + 1.0)).sum() for i, p in enumerate(np.split(x, 3, 1))),
                                   MATRIX)
    np.testing.assert_allclose(v.grad, expected, rtol=1e-6)


def test_the_where_advice_of_a_ufunc_followed_gives_finite_gradients_that_match_finite_differences():
    x = MATRIX.copy()
    mask = x > 0
    v = Value(x)
    with pytest.raises(TypeError, match="np.log: where= not supported"):
        np.log(v, where=mask)
    out = functional.where(mask, np.log(functional.where(mask, v, 1.0)), 0.0)
    (out * np.cos(np.arange(6)).reshape(2, 3)).sum().backward()
    expected = _finite_differences(lambda y: np.where(mask, np.log(np.where(mask, y, 1.0)), 0.0), x)
    assert np.isfinite(v.grad).all()
    np.testing.assert_allclose(v.grad, expected, rtol=1e-5, atol=1e-8)
