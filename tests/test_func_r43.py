"""Round 43, a torch.func user's pass over the function transforms: a ``backward()`` that f calls itself (the
penalty (∂(p³)/∂p)² of tests/test_higher_order_r4.py) must not leave gradients in the ``.grad`` of the Values given
to the transform as arguments, differentiated or not ("Nothing is mutated"; hvp's one argument is x); the numbers
are the closed forms."""

import numpy as np
import pytest

from tinygrad_edu import Value
from tinygrad_edu.autodiff import grad, hessian, hvp, jacobian, value_and_grad


def _penalty(p: Value, w: Value) -> Value:
    """(∂(w·p³)/∂p)² summed = Σ 9w²p⁴, by a recorded backward pass inside f (it writes w's .grad and p's)."""
    (w * p ** 3).sum().backward(create_graph=True)
    return (p.grad * p.grad).sum()


@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "hessian", "jacobian", "hvp"])
def test_a_backward_pass_inside_f_leaves_the_arguments_grad_as_it_was(transform: str) -> None:
    x, w = Value([0.5, -1.0]), Value(2.0)
    kept = np.array([7.0, 7.0])
    x.grad = kept
    calls = {"grad": lambda: grad(_penalty)(x, w),
             "value_and_grad": lambda: value_and_grad(_penalty)(x, w)[1],
             "hessian": lambda: hessian(_penalty)(x, w),
             "jacobian": lambda: jacobian(_penalty)(x, w),
             "hvp": lambda: hvp(lambda p: _penalty(p, Value(2.0, requires_grad=False)), x, [1.0, 0.0])}
    result = calls[transform]().data
    p = x.data
    expected = {"grad": 36 * 4 * p ** 3, "value_and_grad": 36 * 4 * p ** 3, "jacobian": 36 * 4 * p ** 3,
                "hessian": np.diag(36 * 12 * p ** 2), "hvp": np.array([36 * 12 * p[0] ** 2, 0.0])}[transform]
    np.testing.assert_allclose(result, expected, rtol=1e-13)
    assert x.grad is kept and w.grad is None
