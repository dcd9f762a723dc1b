"""Round 47's lead: a constant array is kept in its own layout, so products with a transposed constant give numpy's
bits, and a recorded pass (create_graph=True), whose vjps now get the constants as arrays, the plain pass's bits."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import Value

A = np.array([[3.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 0.5]])
X = np.array([1.0, -2.0, 0.5]) * 0.7064  # a point where a C-ordered copy of A.T rounds differently (1 ulp)


@pytest.mark.parametrize("constant", [A.T, A.swapaxes(-1, -2), np.asfortranarray(A)], ids=["T", "swapaxes", "F"])
def test_a_product_with_a_constant_in_any_layout_is_numpys_to_the_bit(constant):
    np.testing.assert_array_equal((constant @ Value(X)).data, constant @ X)


def test_the_kept_constant_has_the_layout_it_was_given_and_is_a_copy():
    given = A.copy()
    product = given.T @ Value(X)
    kept = product._first
    assert kept.flags.f_contiguous and not np.shares_memory(kept, given)
    given[0, 0] = 100.0  # changing the user's array afterwards changes nothing recorded
    np.testing.assert_array_equal(kept, A.T)


def test_a_recorded_pass_gives_the_plain_passs_gradient_bit_for_bit():
    """∇(½xᵀAx − b·x) = Ax − b (A symmetric) by both passes; the recorded one's vjp of A @ x takes A as its array."""
    b = np.array([1.0, -2.0, 0.5])
    grads = []
    for create_graph in (False, True):
        x = Value(X.copy())
        ((x @ (A @ x)) * 0.5 - (x * b).sum()).backward(create_graph=create_graph)
        grads.append(x.grad.data if create_graph else x.grad)
    np.testing.assert_allclose(grads[0], A @ X - b, rtol=1e-15, atol=1e-15)
    np.testing.assert_array_equal(grads[1], grads[0])
