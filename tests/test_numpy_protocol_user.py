"""A numpy power user calling numpy on Values (second pass on numpy interop): ufuncs with keywords, ufunc methods,
numpy's functions with axis/keepdims, numpy scalars on the left, object arrays of Values and np.matrix.

Each call gives a Value with the right gradient (checked against central differences or a closed form), a plain array
where no gradient is meant, or a TypeError naming the numpy function and what to write, whose advice, run, gives
numpy's numbers."""
import numpy as np
import pytest
from helpers_gradients import central_difference  # float64 central differences, independent of the engine
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value

DATA = np.array([[0.5, -1.25, 2.0], [1.5, 0.25, -0.75]])


def _check_gradient(build, x0: np.ndarray) -> Value:
    """``build(Value)`` is a Value whose weighted sum's gradient matches central differences on ``build``'s numbers."""
    x = Value(x0.copy())
    out = build(x)
    assert isinstance(out, Value) and out.requires_grad
    weights = np.arange(1.0, out.size + 1).reshape(out.shape)
    (out * weights).sum().backward()
    expected = central_difference(lambda a: float((build(Value(a)).data * weights).sum()), x0, 1e-6)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-6, atol=1e-7)
    return out


def _advice(call, start: str) -> str:
    """The code a TypeError suggests after ``start``, up to ", for", ", on" or the end."""
    with pytest.raises(TypeError) as raised:
        call()
    text = str(raised.value)
    assert start in text, text
    code = text[text.index(start) + len(start):]
    for end in (", for ", ", on "):
        code = code.split(end)[0]
    return code[:-1] if code.count(")") > code.count("(") else code


def _run(code: str, **names):
    result = eval(code, {"np": np, "F": F, "functional": F, **names})  # noqa: S307
    return getattr(result, "data", result)


# --- defects ----------------------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # (np.matrix's own)
@pytest.mark.parametrize("combine", [lambda m, v: m * v, lambda m, v: v * m], ids=["m * v", "v * m"])
def test_np_matrix_times_a_value_is_refused_not_an_element_wise_product(combine):
    m = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    numbers = np.array([[1.0, 0.5], [-1.0, 2.0]])
    assert not np.array_equal(np.asarray(combine(m, numbers)), m.A * numbers)  # (numpy's: the matrix product)
    with pytest.raises(TypeError, match=r"^mul: np\.matrix \* is a matrix product.*np\.asarray\(m\)"):
        combine(m, Value(numbers))


@pytest.mark.parametrize("method, call, expected", [
    ("add.reduce", lambda v: np.add.reduce(v), lambda a: np.add.reduce(a)),
    ("maximum.reduce", lambda v: np.maximum.reduce(v), lambda a: np.maximum.reduce(a)),
    ("add.accumulate", lambda v: np.add.accumulate(v), lambda a: np.add.accumulate(a)),
    ("multiply.outer", lambda v: np.multiply.outer(v[0], v[1]), lambda a: np.multiply.outer(a[0], a[1])),
    ("subtract.outer", lambda v: np.subtract.outer(v[0], v[1]), lambda a: np.subtract.outer(a[0], a[1]))],
    ids=["add.reduce", "maximum.reduce", "add.accumulate", "multiply.outer", "subtract.outer"])
def test_a_ufunc_method_names_itself_and_its_advice_gives_numpys_numbers(method, call, expected):
    v = Value(DATA)
    with pytest.raises(TypeError, match=rf"^np\.{method}: ") as raised:
        call(v)
    assert "supported: np." not in str(raised.value)  # (a list with np.add in it, for np.add.reduce)
    code = _advice(lambda: call(v), "write ")
    result = _run(code, v=v, a=v[0], b=v[1], n=len(DATA))
    np.testing.assert_allclose(result, expected(DATA), rtol=1e-12)


def test_ufuncs_without_a_gradient_take_numpys_keywords():
    v = Value(DATA)
    out = np.zeros(DATA.shape, dtype=bool)
    result = np.isfinite(v, out=out)
    assert result is out and out.all()
    mask = DATA > 0
    given, expected = np.zeros(DATA.shape, bool), np.zeros(DATA.shape, bool)
    np.greater(v, 1.0, where=mask, out=given)
    np.greater(DATA, 1.0, where=mask, out=expected)
    np.testing.assert_array_equal(given, expected)


@pytest.mark.parametrize("keyword, value, advice", [
    ("dtype", np.float32, "v.astype(dtype)"), ("where", DATA > 0, "functional.where(mask, np.add(")],
    ids=["dtype", "where"])
def test_a_refused_ufunc_keyword_says_what_to_write_for_it(keyword, value, advice):
    with pytest.raises(TypeError, match=rf"^np\.add: {keyword}= not supported on Values") as raised:
        np.add(Value(DATA), 1.0, **{keyword: value})
    assert advice in str(raised.value)
    assert "a += v" not in str(raised.value)


@pytest.mark.parametrize("call, expected", [
    (lambda a, b: np.round(a), lambda a, b: np.round(a)), (lambda a, b: np.around(a), lambda a, b: np.around(a)),
    (lambda a, b: np.allclose(a, b), lambda a, b: np.allclose(a, b)),
    (lambda a, b: np.isclose(a, b), lambda a, b: np.isclose(a, b))],
    ids=["round", "around", "allclose", "isclose"])
def test_refused_numbers_only_functions_say_what_to_write(call, expected):
    a, b = DATA * 3.3, DATA * 3.3 + np.array([0.0, 1e-12, 1.0])
    code = _advice(lambda: call(Value(a), Value(b)), "(here: ")
    np.testing.assert_array_equal(_run(code, v=Value(a), a=Value(a), b=Value(b)), expected(a, b))


# --- guards -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("build", [
    lambda v: np.float64(2) * v, lambda v: np.float32(2) ** v, lambda v: np.float64(2.5) ** v,
    lambda v: np.int64(3) - v, lambda v: np.float64(2) / v, lambda v: v ** np.float32(3),
    lambda v: np.power(np.float64(1.5), v)],
    ids=["f64*v", "f32**v", "f64**v", "i64-v", "f64/v", "v**f32", "np.power(f64, v)"])
def test_numpy_scalars_on_the_left_give_values_with_the_right_gradient(build):
    _check_gradient(build, DATA.copy())


@pytest.mark.parametrize("combine", [lambda s, x: s * x, lambda s, x: s ** x, lambda s, x: s - x],
                         ids=["*", "**", "-"])
@pytest.mark.parametrize("scalar", [np.float64(2), np.float32(2), np.int64(2), np.float16(2)],
                         ids=["float64", "float32", "int64", "float16"])
def test_numpy_scalars_on_the_left_follow_numpys_dtype_rule(scalar, combine):
    data = np.array([1.0, 2.0], np.float32)
    assert combine(scalar, Value(data)).dtype == combine(scalar, data).dtype


@given(st.floats(0.1, 5.0), st.lists(st.floats(-3.0, 3.0), min_size=1, max_size=4))
def test_a_numpy_scalar_to_the_power_of_a_value_has_the_closed_form_gradient(base, exponents):
    v = Value(np.array(exponents))
    (np.float64(base) ** v).sum().backward()
    np.testing.assert_allclose(v.grad, np.float64(base) ** np.array(exponents) * np.log(base), rtol=1e-12)


@pytest.mark.parametrize("call", [
    lambda v: np.sum(v, axis=0, keepdims=True), lambda v: np.sum(v, axis=(0, 1)), lambda v: np.mean(v, axis=1),
    lambda v: np.mean(v, axis=-1, keepdims=True), lambda v: np.max(v, axis=0), lambda v: np.min(v, axis=1),
    lambda v: np.transpose(v, (1, 0)), lambda v: np.reshape(v, (3, 2)), lambda v: np.swapaxes(v, 0, 1),
    lambda v: np.matmul(v, DATA.T), lambda v: np.maximum(0.3, v), lambda v: np.abs(v)],
    ids=["sum keepdims", "sum axes", "mean", "mean keepdims", "max", "min", "transpose", "reshape", "swapaxes",
         "matmul", "maximum", "abs"])
def test_numpys_functions_with_axis_and_keepdims_give_numpys_numbers_and_the_right_gradient(call):
    out = _check_gradient(call, DATA.copy())
    np.testing.assert_array_equal(out.data, call(DATA))


def test_an_object_array_of_values_keeps_every_elements_gradient():
    xs = np.empty(3, dtype=object)
    for i, number in enumerate([1.0, -2.0, 2.0]):
        xs[i] = Value(number)  # (numpy stores the reference)
    (xs @ xs + np.linalg.norm(xs)).backward()
    numbers = np.array([1.0, -2.0, 2.0])
    expected = 2 * numbers + numbers / np.linalg.norm(numbers)
    np.testing.assert_allclose([x.grad for x in xs], expected, rtol=1e-12)


def test_ufuncs_without_a_gradient_give_plain_arrays_of_numpys_numbers():
    data = np.array([1.0, -np.inf, np.nan, 0.0])
    for ufunc in (np.isfinite, np.isnan, np.sign):
        with np.errstate(invalid="ignore"):
            result = ufunc(Value(data))
        assert type(result) is np.ndarray
        np.testing.assert_array_equal(result, ufunc(data))


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_np_multiply_and_matmul_of_an_np_matrix_and_a_value_are_numpys():
    m = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(np.multiply(m, Value(DATA[:, :2])).data, np.multiply(m, DATA[:, :2]))
    out = _check_gradient(lambda v: m @ v, DATA.copy())
    np.testing.assert_array_equal(out.data, m @ DATA)
