"""Edges found by mutation testing of ``autodiff.py`` (second pass) and ``calculus.py``: each test pins a behaviour
that a hand-made mutant (a flipped comparison, a dropped check, a lost dtype or label, a wrong position in a
message, an ignored setting) changed while the other tests passed.  94 mutants (55 of ``autodiff.py``, 39 of
``calculus.py``); 66 killed before these tests, 90 after: three of the four left are equivalent.  No defect was
found.

Equivalent mutants, left without a test:

- ``_pull``: ``wanted = inputs`` instead of the inputs that require a gradient: every input reaching it requires
  one (``gradients`` and ``gradient_and_hessian`` refuse the others first; the transforms make fresh leaves or
  recorded copies).
- ``_units``: the unit rows in float64 instead of the output's dtype: the backward pass casts the upstream gradient
  to the output's dtype, and 0 and 1 are exact in every float type.
- ``_still_gaining``: ``True`` instead of ``False`` when no step was taken yet: the run can only be settled before
  its first step where ∇f(start) = 0, whose Newton step is 0 and ends the run as a step that changes nothing.

One mutant survives without a test: ``stationary_point`` not raising ``reach`` (the largest ‖x‖ of the path) as
the path goes out.  It only matters for a point at 0 reached by a path that went farther out than its start,
where it can add a step of rounding noise; a search over a few functions found no start where the result differs.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import nn
from tinygrad_edu.autodiff import grad, gradient_and_hessian, gradients, hessian, hvp, jacobian, value_and_grad
from tinygrad_edu.calculus import classify_stationary_point, stationary_point
from tinygrad_edu.engine import Value

# ------------------------------------------------------------------------------------------ gradients, its checks


def test_gradients_without_create_graph_returns_constants():
    """dy/dx of y = x² at 3 is 6, a constant (no graph) by default; with create_graph it is recorded, and its own
    derivative is d(2x)/dx = 2."""
    x = Value(3.0)
    plain = gradients(x * x, [x])[0]
    assert float(plain) == 6.0 and not plain.requires_grad and plain.parents == ()
    recorded = gradients(x * x, [x], create_graph=True)[0]
    assert float(recorded) == 6.0 and recorded.requires_grad
    assert float(gradients(recorded, [x])[0]) == 2.0


def test_gradients_of_an_empty_output_without_grad_output_is_refused():
    """Only an output of size 1 gets the default grad_output of 1: an empty output (size 0) needs one too."""
    x = Value([1.0, 2.0])
    with pytest.raises(ValueError, match=r"^gradients: the output has shape \(0,\), so it needs grad_output"):
        gradients(x[:0], [x])


def test_gradients_refuses_inputs_given_as_a_string():
    """A string is a sequence, but not of Values: named as the wrong type of ``inputs``."""
    x = Value(2.0)
    with pytest.raises(TypeError, match=r"^gradients: inputs must be a list of Values, got str$"):
        gradients(x * x, "x")


def test_gradients_of_no_inputs_is_an_empty_list():
    """∂y/∂() is nothing: an empty list, and the graph's .grad are left alone."""
    x = Value(2.0)
    assert gradients(x * x, []) == []
    assert x.grad is None


def test_an_input_the_output_does_not_reach_gets_zeros_of_its_own_dtype():
    """The zeros of an input the output does not depend on are of the input's shape and dtype (float32 here), as
    the derivative of a reached float32 input is."""
    w, z = Value([1.0, 2.0]), Value(np.array([1.0, 2.0, 3.0], dtype=np.float32))
    slope_w, slope_z = gradients((w * w).sum(), [w, z])
    np.testing.assert_array_equal(slope_w.data, [2.0, 4.0])
    assert slope_z.data.dtype == np.float32 and slope_z.shape == (3,) and not slope_z.data.any()


# ----------------------------------------------------------------------------------------- gradient_and_hessian


def test_gradient_and_hessian_refuses_an_empty_output():
    """A cost is a single number: an output of size 0 is refused like one of size 2."""
    x = Value([1.0, 2.0])
    with pytest.raises(ValueError, match=r"^gradient_and_hessian: the output must hold a single number .*\(0,\)"):
        gradient_and_hessian(x[:0].sum() * x[:0], [x])


def test_gradient_and_hessian_are_float64_for_float32_parameters():
    """The docstring promises a float64 vector and matrix: for C = Σx³ at x = (1, 2) in float32, ∇ = 3x² = (3, 12)
    and H = diag(6x) = diag(6, 12), exact in both precisions."""
    x = Value(np.array([1.0, 2.0], dtype=np.float32))
    slope, curvature = gradient_and_hessian((x ** 3).sum(), [x])
    assert slope.dtype == np.float64 and curvature.dtype == np.float64
    np.testing.assert_array_equal(slope, [3.0, 12.0])
    np.testing.assert_array_equal(curvature, [[6.0, 0.0], [0.0, 12.0]])


# --------------------------------------------------------------------------------------------- the transforms


def test_value_and_grad_with_a_tuple_of_argnums_returns_a_tuple():
    """∇ is "a tuple of them when argnums is a tuple": for C = a·b at (2, 5), (∂C/∂a, ∂C/∂b) = (5, 2)."""
    value, slopes = value_and_grad(lambda a, b: a * b, argnums=(0, 1))(2.0, 5.0)
    assert isinstance(slopes, tuple) and [float(s) for s in slopes] == [5.0, 2.0]
    assert float(value) == 10.0


@pytest.mark.parametrize("argnums", [(), True, (0, False)], ids=["empty", "True", "False-in-tuple"])
def test_argnums_that_is_empty_or_a_bool_is_refused_at_once(argnums):
    """argnums must be an int or a non-empty tuple of ints: () would differentiate nothing, and True is not a
    position (it passed as 1)."""
    with pytest.raises(TypeError, match=r"^grad: argnums must be an int or a non-empty tuple of ints, got "):
        grad(lambda a, b: a * b, argnums=argnums)


@pytest.mark.parametrize("transform", [jacobian, hessian])
def test_a_bool_argnums_of_jacobian_and_hessian_is_refused(transform):
    name = transform.__name__
    with pytest.raises(TypeError, match=rf"^{name}: argnums must be one int, got True"):
        transform(lambda a, b: (a * b).sum(), argnums=True)


def test_a_list_of_argnums_for_jacobian_is_told_to_call_it_once_per_argument():
    """A list of positions is several arguments, not a point given as argnums: the advice is to call jacobian once
    per argument, not how to pass a point."""
    with pytest.raises(TypeError) as raised:
        jacobian(lambda a, b: a * b, argnums=[0, 1])
    message = str(raised.value)
    assert message.startswith("jacobian: argnums must be one int, got [0, 1]")
    assert message.endswith("(for several arguments, call jacobian once per argument)")
    assert "jacobian(f)(x)" not in message


@pytest.mark.parametrize("argnums", [2, -3, (0, 2)])
def test_argnums_as_large_as_the_number_of_arguments_is_out_of_range(argnums):
    """With two arguments the positions are 0, 1 (or −2, −1): 2 is out of range, not wrapped round to 0."""
    with pytest.raises(ValueError, match=r"^grad: argnums .* is out of range for a call with 2 positional"):
        grad(lambda a, b: a * b * b, argnums=argnums)(3.0, 5.0)


@pytest.mark.parametrize("argnums", [(0, 0), (1, -1)])
def test_an_argument_named_twice_in_argnums_is_refused(argnums):
    with pytest.raises(ValueError, match=r"^value_and_grad: argnums .* names an argument twice$"):
        value_and_grad(lambda a, b: a * b, argnums=argnums)(3.0, 5.0)


def test_the_value_f_receives_carries_the_label_of_the_value_given():
    """f sees the caller's label on the copy it differentiates (a drawing of f's graph names it), for a Value that
    requires a gradient and for one that does not."""
    seen = []

    def f(v):
        seen.append(v.label)
        return v * v

    grad(f)(Value(2.0, label="w"))
    grad(f)(Value(2.0, label="b", requires_grad=False))
    assert seen == ["w", "b"]


def test_the_jacobian_of_an_empty_output_has_the_dtype_of_x():
    """jacobian of f(x) = x[:0] at a float32 x of length 2: an empty (0, 2) Value, float32 as x (and as a non-empty
    Jacobian of float32 numbers is)."""
    x = np.array([1.0, 2.0], dtype=np.float32)
    empty = jacobian(lambda p: p[:0])(x)
    assert empty.shape == (0, 2) and empty.data.dtype == np.float32
    assert jacobian(lambda p: p * p)(x).data.dtype == np.float32


def test_hvp_stays_connected_to_a_direction_given_as_a_value():
    """H·v is linear in v: for f = Σp³ at x = (1, 2), H = diag(6x) = diag(6, 12), so ∂Σ(H·v)/∂v = Hᵀ·1 = (6, 12)."""
    v = Value([1.0, -1.0])
    product = hvp(lambda p: (p ** 3).sum(), [1.0, 2.0], v)
    np.testing.assert_array_equal(product.data, [6.0, -12.0])
    assert product.requires_grad
    np.testing.assert_array_equal(gradients(product.sum(), [v])[0].data, [6.0, 12.0])


def test_hvp_names_a_bad_direction_as_its_argument_2():
    """hvp(f, x, v): v is argument 2 (x is 1), in the error for a v that is not numbers."""
    with pytest.raises(TypeError, match=r"^hvp: argument 2 must be a number"):
        hvp(lambda p: (p ** 2).sum(), [1.0, 2.0], object())


def test_hvp_does_not_advise_argnums_for_a_tuple_given_as_x():
    """hvp has no argnums: its error for an x that is a tuple of arrays does not send the user to them."""
    with pytest.raises((TypeError, ValueError)) as raised:
        hvp(lambda p: (p ** 2).sum(), (np.ones(2), np.ones(3)), [1.0, 1.0])
    assert str(raised.value).startswith("hvp: argument 1 must be a number")
    assert "argnums" not in str(raised.value)

# ------------------------------------------------------------------------------------- classify_stationary_point


def test_an_eigenvalue_that_changed_by_exactly_half_its_size_is_not_flat():
    """The rule is "more than half its size": 1.5 → 1.0 changed by 0.5, exactly half of 1.0, so 1.0 counts."""
    assert classify_stationary_point([1.0, 2.0], previous=[1.5, 2.0]) == "minimum"


def test_the_change_of_an_eigenvalue_is_measured_against_its_new_size():
    """1.2 → 2.0 changed by 0.8, less than half of the new 2.0 (but more than half of the old 1.2): not flat."""
    assert classify_stationary_point([2.0, 5.0], previous=[1.2, 5.0]) == "minimum"


# ---------------------------------------------------------------------------------------------- stationary_point


def _square(x):
    """f = x²: ∇f = 2x, H = 2, so the Newton step at x is exactly x."""
    return x ** 2


def test_a_next_step_of_exactly_one_thousandth_counts_as_converged():
    """Converged means a next step of *at most* 1e-3 · max(1, ‖x‖): with no step taken (max_iterations=0), f = x² at
    x = 1e-3 has the next step 1e-3 exactly and ‖∇f‖ = 2e-3 ≤ tol = 1."""
    found = stationary_point(_square, 1e-3, tol=1.0, max_iterations=0)
    assert found.converged and found.kind == "minimum" and found.iterations == 0
    assert found.path.tolist() == [[1e-3]]


def test_a_next_step_above_one_thousandth_is_not_converged():
    """The same at x = 2e-3: the next step 2e-3 is more than 1e-3 · max(1, 0.002) = 1e-3, though ‖∇f‖ ≤ tol."""
    found = stationary_point(_square, 2e-3, tol=1.0, max_iterations=0)
    assert not found.converged and found.kind == "not converged" and found.iterations == 0


def test_max_iterations_zero_evaluates_the_start_only():
    """max_iterations=0 is allowed (an int ≥ 0): f = x² at its minimum 0 is converged there with no step."""
    found = stationary_point(_square, 0.0, max_iterations=0)
    assert found.converged and found.kind == "minimum" and found.iterations == 0
    assert found.point.tolist() == [0.0] and found.value == 0.0


def test_the_run_takes_a_step_from_a_start_that_already_meets_the_test():
    """f = 1e-6·(x − 1)² at 0.9999: ‖∇f‖ = 2e-10 ≤ tol = 1e-6 and the next step 1e-4 ≤ 1e-3, but the run takes at
    least one step unless ∇f(start) = 0: Newton's one step on a quadratic lands on 1."""
    found = stationary_point(lambda x: 1e-6 * (x - 1.0) ** 2, 0.9999, tol=1e-6)
    assert found.converged and found.iterations == 1
    assert found.point[0] == pytest.approx(1.0, abs=1e-12)


def test_zero_tol_is_checked_like_tol():
    with pytest.raises(ValueError, match=r"^stationary_point: zero_tol is relative .* must be < 1"):
        stationary_point(_square, 1.0, zero_tol=1.0)


def test_zero_tol_reaches_the_second_derivative_test():
    """f = ½x² + 50y² has eigenvalues 1 and 100 at its minimum 0: with zero_tol = 0.5, |1| ≤ 0.5 · 100 counts as
    0, so the verdict is inconclusive; with the default 1e-6 it is a minimum."""
    f = lambda p: 0.5 * p[0] ** 2 + 50.0 * p[1] ** 2
    assert stationary_point(f, [1.0, 1.0]).kind == "minimum"
    found = stationary_point(f, [1.0, 1.0], zero_tol=0.5)
    assert found.converged and found.kind == "inconclusive"
    np.testing.assert_allclose(found.eigenvalues, [1.0, 100.0])


def test_a_transform_of_a_network_takes_its_name_not_its_attributes():
    """grad(net) is named after the network's type and wraps it, but is a function: the network's own attributes
    (its layers) are not copied onto it (update_wrapper would share the instance's __dict__)."""
    net = nn.MLP([1, 1], rng=0)
    transformed = grad(net)
    assert transformed.__name__ == "MLP" and transformed.__wrapped__ is net
    assert not hasattr(transformed, "layers")


def test_a_hessian_that_is_not_finite_ends_the_run_without_a_linear_algebra_error():
    """f = 0·x + y^1.5 at (1, 0): ∇f = (0, 1.5·√y) = (0, 0), but ∂²f/∂y² = 0.75/√y is inf there (and ∂²f/∂x² = 0):
    numpy's solve finds that Hessian singular, and its least squares fail on inf with a LinAlgError.  The run
    stops at the start instead, not converged."""
    found = stationary_point(lambda p: p[0] * 0.0 + p[1] ** 1.5, [1.0, 0.0])
    assert not found.converged and found.kind == "not converged" and found.iterations == 0
    assert found.gradient_norm == 0.0 and np.isnan(found.eigenvalues).all()
