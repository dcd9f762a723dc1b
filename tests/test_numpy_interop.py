"""A numpy power user mixing Values with numpy: masked arrays, and the refusals of numpy functions that a Value
cannot go through (each should name the function the user called and, where there is one, what to write)."""
import numpy as np
import pytest

from tinygrad_edu import Value


def _vector() -> Value:
    return Value(np.array([1.0, -2.0, 3.0]))


@pytest.mark.parametrize("combine", [lambda m, v: m + v, lambda m, v: m * v, lambda m, v: m - v],
                         ids=["add", "mul", "sub"])
@pytest.mark.parametrize("mask", [[False, False, False], [False, True, False]], ids=["unmasked", "masked"])
def test_masked_array_on_the_left_of_a_value_is_refused_not_a_masked_array(combine, mask):
    masked = np.ma.array([1.0, 2.0, 3.0], mask=mask)
    with pytest.raises(TypeError, match=r"numpy\.ma: a masked array and a Value do not mix"):
        combine(masked, _vector())


@pytest.mark.parametrize("use", [lambda m: Value(m), lambda m: _vector() + m, lambda m: np.multiply(m, _vector())],
                         ids=["Value(m)", "v + m", "np.multiply(m, v)"])
def test_masked_numbers_are_refused_not_used(use):
    masked = np.ma.array([1.0, 99.0, 3.0], mask=[False, True, False])
    with pytest.raises(TypeError, match=r"a masked array and a Value do not mix.*filled"):
        use(masked)


def test_a_masked_array_without_masked_numbers_is_numbers():
    """(the fix refuses only masked numbers: v + np.ma.array(x) with nothing masked is v + x, gradient and all)"""
    v = _vector()
    out = v * np.ma.array([2.0, 3.0, 4.0])
    assert isinstance(out, Value)
    out.sum().backward()
    np.testing.assert_array_equal(v.grad, [2.0, 3.0, 4.0])


@pytest.mark.parametrize("call, name", [
    (lambda v: np.allclose(v, [1.0, -2.0, 3.0]), "np.allclose"),
    (lambda v: np.zeros_like(v), "np.zeros_like"),
    (lambda v: np.ones_like(v), "np.ones_like"),
    (lambda v: np.hstack([v, v]), "np.hstack"),
    (lambda v: np.vstack([v, v]), "np.vstack"),
    (lambda v: np.all(v), "np.all"),
    (lambda v: np.any(v), "np.any"),
    (lambda v: np.ptp(v), "np.ptp")],
    ids=["allclose", "zeros_like", "ones_like", "hstack", "vstack", "all", "any", "ptp"])
def test_a_refused_numpy_function_names_itself(call, name):
    with pytest.raises(TypeError, match=rf"^{name}: a Value is not converted to a numpy array implicitly"):
        call(_vector())


def test_np_prod_says_what_v_prod_says():
    with pytest.raises(AttributeError) as method:
        _vector().prod()
    advice = str(method.value).split("; write ")[1]
    with pytest.raises(TypeError, match=r"^np\.prod: ") as function:
        np.prod(_vector())
    assert advice in str(function.value)


def test_np_square_says_to_write_v_squared():
    with pytest.raises(TypeError, match=r"^np\.square: not supported on Values .*write v \*\* 2$"):
        np.square(_vector())


@pytest.mark.parametrize("call, advice", [
    (lambda v: np.minimum(v, 0.0), "-functional.maximum(-a, -b)"), (lambda v: np.positive(v), "+v"),
    (lambda v: np.fabs(v), "abs(v)"), (lambda v: np.take(v, [0]), "v[indices]"),
    (lambda v: np.outer(v, v), "a.reshape(-1, 1) * b.reshape(1, -1)"),
    (lambda v: np.linalg.norm(v), "(v ** 2).sum().sqrt()"), (lambda v: v.norm(), "(v ** 2).sum().sqrt()"),
    (lambda v: v.any(), "v.data.any(), on the numbers"), (lambda v: v.all(), "v.data.all(), on the numbers")],
    ids=["minimum", "positive", "fabs", "take", "outer", "linalg.norm", "v.norm", "v.any", "v.all"])
def test_a_refusal_says_what_to_write_where_there_is_a_formula(call, advice):
    with pytest.raises((TypeError, AttributeError)) as raised:
        call(_vector())
    assert advice in str(raised.value)
