"""Transforms of functions given numbers and arrays, not Values: each argument's fresh leaf is copied by a recorded
operation (as a Value argument is), so a result is a constant and a backward pass stops at the argument.  Found by
an exploratory pass as an autodiff power user; each test failed before."""

import numpy as np

from tinygrad_edu import Op, Value
from tinygrad_edu.autodiff import grad, hessian


def test_a_nested_transform_of_numbers_returns_a_constant():
    """grad(f)(5.0), numbers only, is a constant.  When f itself calls grad (d/dx [d/dy x·y²] at y = 1 = d/dx 2x
    = 2), the leaf the inner grad made for y, whose transform had returned, made the outer grad record its pass and
    return a Value that requires a gradient; a loop x = x − η·g(x) then chained every step to all the earlier ones
    (300 steps took 10 s, the later ones 40× slower than the first)."""
    result = grad(lambda x: grad(lambda y: x * y * y)(1.0))(5.0)
    assert float(result) == 2.0 and not result.requires_grad
    h = hessian(lambda p: grad(lambda q: (p * p * q * q).sum())(np.ones(2)).sum())([1.0, 2.0])
    assert np.array_equal(h.data, 4 * np.eye(2)) and not h.requires_grad  # Σ 2p²q at q = 1: the Hessian 4I
    slope = grad(lambda x: (grad(lambda y: x * y * y)(1.0) - 3.0) ** 2)  # d/dx (2x − 3)² = 4(2x − 3)
    x = 0.0
    for _ in range(60):
        x = x - 0.05 * slope(x)
        assert not x.requires_grad  # each step a constant, as on numbers
    assert abs(float(x) - 1.5) < 1e-9


def test_a_pass_from_a_number_stops_at_it_and_does_not_walk_a_closures_history():
    """grad(lambda x: x * h)(2.0) is h, one multiplication away from x; the pass walked the whole history of h
    (its leaf needs a gradient), 0.3 s a call for 20,000 operations, where with x given as a Value it stopped at
    x's copy.  A vjp in h's history counts how often a pass goes through it."""
    calls = []
    spy = Op("spy", lambda a: a, lambda g, out, a: calls.append(1) or g)
    h = spy(Value(1.0))
    for _ in range(20):
        h = h * 1.5
    assert float(grad(lambda x: x * h)(2.0)) == 1.5 ** 20
    assert float(grad(lambda x: x * h)(Value(2.0))) == 1.5 ** 20
    # f = h·Σx·Σx²: ∂²f/∂xᵢ∂xⱼ = h(2xᵢ + 2xⱼ + 2Σx·δᵢⱼ), at x = (1, 1, 1) h(4 + 6δᵢⱼ), by hand
    np.testing.assert_allclose(hessian(lambda x: (x * h).sum() * (x * x).sum())(np.ones(3)).data,
                               1.5 ** 20 * (4 * np.ones((3, 3)) + 6 * np.eye(3)), rtol=1e-14)
    assert calls == []
