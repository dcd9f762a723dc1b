"""Edges of autodiff's transforms and calculus's Newton search that the other tests left open (found by mutation
testing): each expected number is a closed form worked out by hand, not the code's own output."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu.autodiff import grad, gradients, hessian, hvp, jacobian, value_and_grad
from tinygrad_edu.calculus import classify_stationary_point, stationary_point
from tinygrad_edu.engine import Value


def test_a_negative_argnums_as_far_back_as_the_first_argument_picks_it() -> None:
    """argnums=-2 of a call with two arguments is the first (as a Python index), not out of range."""
    slope = grad(lambda a, b: a * a * b, argnums=-2)(3.0, 5.0)  # ∂(a²b)/∂a = 2ab
    assert float(slope) == pytest.approx(30.0)


@pytest.mark.parametrize("grad_output", [[2.0], [[2.0]]])
def test_gradients_names_a_grad_output_of_the_wrong_shape_as_its_own_error(grad_output) -> None:
    """A grad_output of a different shape than the output (even of the same size) is gradients' error, naming
    grad_output and both shapes, not one of the backward pass it calls."""
    x = Value([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"^gradients: grad_output has shape .* but the output has shape \(\)"):
        gradients((x * x).sum(), [x], grad_output)


def test_grad_of_a_function_with_an_empty_result_is_refused_as_not_a_single_number() -> None:
    """An empty result is not a cost: grad says so in its own words, as for a result of several numbers."""
    with pytest.raises(ValueError, match=r"^grad: f must return a single number .*shape \(0,\)"):
        grad(lambda x: x[:0])([1.0, 2.0])


def test_a_gradient_that_is_infinite_is_reported_as_infinite() -> None:
    """√x at 0 has slope 1/(2√x) = inf: the run stops there, not converged, and says the gradient is inf (not 0)."""
    found = stationary_point(lambda x: x ** 0.5, 0.0)
    assert not found.converged and found.kind == "not converged"
    assert found.gradient_norm == np.inf


def test_hessian_with_respect_to_a_later_argument() -> None:
    """hessian(f, argnums=1) differentiates twice by the second argument: ∂²(a·b²)/∂b² = 2a."""
    curvature = hessian(lambda a, b: a * b * b, argnums=1)(2.0, 3.0)
    assert float(curvature) == pytest.approx(4.0)


def test_hvp_refuses_a_direction_of_another_shape_in_its_own_words() -> None:
    with pytest.raises(ValueError, match=r"^hvp: v has shape \(3,\) but x has shape \(2,\)"):
        hvp(lambda p: (p ** 2).sum(), [1.0, 2.0], [1.0, 2.0, 3.0])


def test_transforms_of_plain_arrays_return_constants() -> None:
    """With only numbers and arrays nothing of the caller's needs the result's graph: the value and derivatives are
    constants.  (f = Σp³: ∇f = 3p², H·v = 6p·v.)"""
    value, slope = value_and_grad(lambda p: (p ** 3).sum())([1.0, 2.0])
    curvature = hvp(lambda p: (p ** 3).sum(), [1.0, 2.0], [1.0, 1.0])
    np.testing.assert_allclose(slope.data, [3.0, 12.0])
    np.testing.assert_allclose(curvature.data, [6.0, 12.0])
    assert not (value.requires_grad or slope.requires_grad or curvature.requires_grad)


def test_hvp_of_a_value_can_be_differentiated_again() -> None:
    """hvp of f = Σp³ at a Value x along v = (1, 1) is 6x; its sum's gradient with respect to x is (6, 6)."""
    x = Value([1.0, 2.0])
    curvature = hvp(lambda p: (p ** 3).sum(), x, [1.0, 1.0])
    np.testing.assert_allclose(curvature.data, [6.0, 12.0])
    np.testing.assert_allclose(gradients(curvature.sum(), [x])[0].data, [6.0, 6.0])


def test_gradients_refuses_a_create_graph_that_is_not_a_flag_in_its_own_words() -> None:
    y = Value(3.0)
    with pytest.raises(TypeError, match=r"^gradients: create_graph must be True or False"):
        gradients(y * y, [y], create_graph="yes")


@pytest.mark.parametrize("tol", [1, 1.0, 2.5])
def test_a_tolerance_of_one_or_more_is_refused(tol) -> None:
    """At tol = 1 every eigenvalue would count as 0 (|λ| ≤ max |λ|), and every point would be inconclusive."""
    with pytest.raises(ValueError, match=r"classify_stationary_point: tol .* must be < 1"):
        classify_stationary_point([1.0, 2.0], tol=tol)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_eigenvalues_that_are_not_finite_are_refused(bad) -> None:
    with pytest.raises(ValueError, match=r"classify_stationary_point: needs finite eigenvalues"):
        classify_stationary_point([bad, 1.0])


def test_an_exact_zero_eigenvalue_is_flat_even_at_tolerance_zero() -> None:
    """x⁴ + y² and x³ + y² both have eigenvalues (0, 2) at the origin: the test cannot tell them apart."""
    assert classify_stationary_point([0.0, 2.0], tol=0.0) == "inconclusive"
    assert classify_stationary_point([0.0, -2.0], tol=0.0) == "inconclusive"


def test_an_eigenvalue_that_changed_by_less_than_half_its_size_is_not_flat() -> None:
    """The rule is a change of more than half: 4e-5 → 3e-5 changed by a third of 3e-5, so it counts."""
    assert classify_stationary_point([3e-5, 2.0], previous=[4e-5, 2.0]) == "minimum"
    assert classify_stationary_point([3e-5, 2.0], previous=[7e-5, 2.0]) == "inconclusive"


@pytest.mark.parametrize("eigenvalues, previous", [([1.0, 2.0], [2.0, 1.0]), ([2.0, 1.0], [1.0, 2.0]),
                                                  ([-3.0, 1.0], [1.0, -3.0])])
def test_the_same_eigenvalues_in_another_order_one_step_earlier_have_not_changed(eigenvalues, previous) -> None:
    expected = "saddle" if min(eigenvalues) < 0 else "minimum"
    assert classify_stationary_point(eigenvalues, previous=previous) == expected


def test_one_flat_eigenvalue_among_others_of_one_sign_is_inconclusive() -> None:
    """(0, 1, 3): a minimum if the flat direction rises (x⁴), not if it falls (−x⁴): inconclusive, not minimum."""
    assert classify_stationary_point([0.0, 1.0, 3.0]) == "inconclusive"
    assert classify_stationary_point([-3.0, -1.0, 1e-12]) == "inconclusive"


def test_a_singular_hessian_takes_the_least_squares_step_to_the_valley() -> None:
    """f = (x + y − 1)²: H = [[2, 2], [2, 2]] is singular.  The least-squares Newton step from (0, 0) is the
    shortest s with H·s = ∇f = (−2, −2): s = (−½, −½), landing at (½, ½) on the valley x + y = 1, where ∇f = 0;
    H's eigenvalues there are 0 and 4, so the test is inconclusive."""
    found = stationary_point(lambda p: (p[0] + p[1] - 1.0) ** 2, [0.0, 0.0])
    assert found.converged and found.iterations == 1
    np.testing.assert_allclose(found.point, [0.5, 0.5], atol=1e-12)
    np.testing.assert_allclose(found.eigenvalues, [0.0, 4.0], atol=1e-12)
    assert found.kind == "inconclusive"


def test_tolerance_zero_is_met_by_an_exact_stationary_point() -> None:
    """Newton on the quadratic (x − 3)² lands on 3 exactly in one step, where the gradient 2(x − 3) is exactly 0."""
    found = stationary_point(lambda x: (x - 3.0) ** 2, 1.0, tol=0.0)
    assert found.converged and found.kind == "minimum" and found.iterations == 1
    assert found.point.tolist() == [3.0] and found.gradient_norm == 0.0


def test_a_value_that_is_nan_is_not_converged_even_with_a_zero_gradient() -> None:
    found = stationary_point(lambda x: x * 0.0 + float("nan"), 1.0)
    assert not found.converged and found.kind == "not converged"


@pytest.mark.parametrize("f, start", [(lambda x: x ** 3, 1.0), (lambda x: x ** 4, 0.5)], ids=["x³", "x⁴"])
def test_a_degenerate_point_at_zero_converges_by_the_absolute_step_floor(f, start) -> None:
    """Near 0 the steps halve (x³) or shrink by a third (x⁴): they never fall below 1e-3·‖x‖, so convergence
    must come from the floor max(1, ‖x‖) of the step test: the run converges near 0, inconclusive."""
    found = stationary_point(f, start)
    assert found.converged and found.kind == "inconclusive"
    assert abs(found.point[0]) < 1e-3


def test_a_degenerate_point_ends_at_the_step_test_not_at_max_iterations() -> None:
    """f = x³ − x⁴ has f′ = 3x² − 4x³, a double root at 0: Newton's steps shrink linearly (by about ½), never by
    the factor 10 of quadratic convergence, so the run ends as soon as ‖∇f‖ = 3x² ≤ 1e-10, at |x| ≤ 5.8e-6:
    about log₂(0.2 / 5.8e-6) ≈ 15 halvings from 0.2, far from the 50 allowed."""
    found = stationary_point(lambda x: x ** 3 - x ** 4, 0.2)
    assert found.converged and found.kind == "inconclusive"
    assert 0 < found.point[0] <= 5.8e-6 and found.iterations <= 20


@pytest.mark.parametrize("transform", [grad, value_and_grad, jacobian, hessian])
def test_the_point_given_where_argnums_goes_says_how_to_call_the_transform(transform) -> None:
    """PyTorch's jacobian(f, x) passes x as argnums here: the error said only "argnums must be one int, got
    array(...)", and grad(f, x) gave back a function, failing only when called."""
    name = transform.__name__
    with pytest.raises(TypeError, match=rf"^{name}: argnums must be .*, got array\(\[1\., 2\.\]\); .*"
                                        rf"{name}\(f\)\(x\), not {name}\(f, x\)"):
        transform(lambda p: (p * p).sum(), np.array([1.0, 2.0]))


def test_a_value_given_to_grad_points_to_gradients() -> None:
    """torch.autograd.grad(y, x) differentiates a computed Value; here that is autodiff.gradients(y, [x])."""
    x = Value(3.0)
    with pytest.raises(TypeError, match=r"^grad: f must be a function, got Value; .*autodiff\.gradients\(y, \[x\]\)"):
        grad(x * x, [x])
