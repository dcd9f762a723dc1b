"""The forty-sixth round's cut on the scalar chain: ``_binary`` takes a Python float constant's number from the float
itself (``y * 1.001``), no longer read back from its shared array.  No behaviour is meant to move; the tests pin what
that path decides: numpy's bits, warnings and errors for every float (zeros, subnormals, inf, NaN), the shared
read-only array kept as the node's input (what drawings and ``parents`` show), float32 and arrays left to numpy's
rules, and the chain's gradients against the closed form, central differences and second derivatives."""

from __future__ import annotations

import operator
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value
from tinygrad_edu.autodiff import grad

OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv]
FLOATS = st.one_of(st.floats(), st.sampled_from([0.0, -0.0, 5e-324, 2.2250738585072014e-308, 1e308, -1e308]))


def _outcome(compute):
    """What ``compute()`` gives (its array's bits, dtype and shape, or the error) and numpy's warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = compute()
            got = (result.dtype, result.shape, result.tobytes())
        except (FloatingPointError, ZeroDivisionError) as error:
            got = (type(error), str(error))
    return got, [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize("errstate", [{}, {"all": "raise"}, {"under": "warn"}])
@pytest.mark.parametrize("function", OPERATORS, ids=lambda f: f.__name__)
@given(a=FLOATS, b=FLOATS)
def test_a_value_and_a_python_float_give_numpys_bits_warnings_and_errors(function, errstate, a, b) -> None:
    with np.errstate(**errstate):
        ours = _outcome(lambda: function(Value(a), b).data)
        numpys = _outcome(lambda: np.asarray(function(np.array(a), np.array(b))))
    assert ours == numpys


def test_the_float_constant_is_kept_as_one_shared_read_only_array() -> None:
    x = Value(2.0)
    first, second = x * 1.001, (x + 0.5) * 1.001
    constant = first.parents[1]
    assert second.parents[1].data is constant.data  # one array for every use of the number
    assert constant.data.dtype == np.float64 and constant.data.shape == () and float(constant.data) == 1.001
    assert not constant.data.flags.writeable and not constant.requires_grad


@pytest.mark.parametrize("b", [0.0, -0.0, float("nan")])
def test_a_float_constant_that_is_not_shared_still_becomes_the_nodes_input(b: float) -> None:
    x = Value(3.0)
    with np.errstate(all="ignore"):
        y = x * b
    assert y.parents[1].data.tobytes() == np.array(b).tobytes()
    y.backward()
    assert x.grad.tobytes() == np.array(b).tobytes()  # ∂(x·b)/∂x = b, its sign and NaN too


def test_float32_and_arrays_keep_numpys_rules_with_a_python_float() -> None:
    x32 = Value(np.float32(1.5))
    assert (x32 * 1.001).data.dtype == np.float32
    assert (x32 * 1.001).data == np.float32(1.5) * np.float32(1.001)
    row = Value(np.array([1.0, -2.0]))
    assert np.array_equal((row * 1.001 + 0.5).data, np.array([1.0, -2.0]) * 1.001 + 0.5)


@given(factor=st.floats(0.5, 1.5), shift=st.floats(-2.0, 2.0), turns=st.integers(1, 40))
def test_the_scalar_chain_gradient_is_its_closed_form(factor: float, shift: float, turns: int) -> None:
    x = y = Value(0.7)
    for _ in range(turns):
        y = y * factor + shift
    y.backward()
    # y = x·fⁿ + s·(fⁿ⁻¹ + … + 1): dy/dx = fⁿ; the intermediate y's gradients, f^k, are kept for the drawings
    assert x.grad == pytest.approx(factor ** turns, rel=1e-12)


def test_the_chains_gradient_matches_central_differences_and_its_second_derivative() -> None:
    def chain(x):
        y = x
        for _ in range(5):
            y = y * 1.001 + 0.5
            y = y * y / 3.0 - 0.25
        return y

    def numbers(t: float) -> float:
        return float(chain(Value(t)).data)

    h, point = 1e-6, 0.3
    slope = grad(chain)(Value(point))
    assert float(slope.data) == pytest.approx((numbers(point + h) - numbers(point - h)) / (2 * h), rel=1e-6)
    curvature = grad(lambda x: grad(chain)(x))(Value(point))  # derivatives of derivatives still recorded
    first = grad(chain)
    central = (float(first(Value(point + h)).data) - float(first(Value(point - h)).data)) / (2 * h)
    assert float(curvature.data) == pytest.approx(central, rel=1e-5)
