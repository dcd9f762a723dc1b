"""Why ``layer.weights = <a Value computed by an operation>`` is not refused at once (only later, by
``parameters()`` and ``save``): ``autodiff.grad`` and ``hessian`` call f with a recorded copy of w, and an f that sets
it as a layer's weights (the cost as a function of the weights) must run and give the right gradient."""
from __future__ import annotations

import numpy as np

from tinygrad_edu import autodiff, nn
from tinygrad_edu.testing import numerical_gradient

X = np.array([[1.0, 2.0], [-0.5, 0.25]])


def test_a_layer_takes_weights_computed_from_the_argument_grad_differentiates() -> None:
    layer = nn.Layer(2, 1, "tanh", rng=0)
    own, biases = layer.weights, layer.biases.data.copy()
    ops = []

    def f(w):
        ops.append(w.op)
        layer.weights = w
        return (layer(X) ** 2).sum()

    try:
        grad = autodiff.grad(f)(own)
    finally:
        layer.weights = own
    assert ops and ops[0] is not None  # (a computed Value, not the leaf itself)
    [expected] = numerical_gradient(lambda w: (np.tanh(X @ w + biases) ** 2).sum(), own.data.copy())
    np.testing.assert_allclose(grad.data, expected, rtol=1e-7, atol=1e-9)
    assert layer.weights is own
