"""Catch a wrong derivative with check_gradients: a custom sigmoid Op, first with the companion code's bug.

The assignment's companion code differentiates its sigmoid layer as σ(a)(1 − σ(a)) where ``a`` already is σ(z),
i.e. σ(σ(z))·(1 − σ(σ(z))) instead of σ'(z) = σ(z)(1 − σ(z)).  Training still runs and the cost falls, so
nothing looks wrong (with its all-positive start the output sigmoid is saturated, and with the right derivative
that network would not learn at all: its published result depends on the bug).  A gradient check compares
backpropagation with the central difference (C(w + ε) − C(w − ε)) / 2ε and finds it at once.

Run:  python examples/custom_op_gradient_check.py
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from tinygrad_edu import Op, Value
from tinygrad_edu.testing import GradientCheckError, check_gradients


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e⁻ᶻ), the activation function of seed section 3.1."""
    return 1.0 / (1.0 + np.exp(-z))


# A custom Op is a forward and one vector-Jacobian product per input: vjp(g, out, z) = g · ∂out/∂z.
# `out` is the forward result σ(z).  The companion code applies σ to it once more before differentiating:
wrong_sigmoid = Op("sigmoid_wrong", sigmoid, lambda g, out, z: g * sigmoid(out) * (1 - sigmoid(out)))
right_sigmoid = Op("sigmoid_right", sigmoid, lambda g, out, z: g * out * (1 - out))


def main() -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()  # --help; no options
    rng = np.random.default_rng(0)
    inputs = rng.uniform(0, 1, size=(4, 3))  # 4 samples, 3 input activations
    targets = inputs[:, :2] ** 2  # 2 outputs to learn
    weights = rng.normal(size=(3, 2))
    biases = rng.normal(size=2)

    def cost_with(activation: Op):
        """The seed's cost: the mean over samples of (σ(a·w + b) − y)², as a function of the weights and biases."""
        def cost(w: Value, b: Value) -> Value:
            return ((activation(inputs @ w + b) - targets) ** 2).sum(axis=1).mean()
        return cost

    print("1) The sigmoid derivative as the companion code writes it: σ(σ(z))·(1 − σ(σ(z)))")
    try:
        check_gradients(cost_with(wrong_sigmoid), Value(weights, label="w"), Value(biases, label="b"))
    except GradientCheckError as error:
        print("   check_gradients caught the wrong derivative (GradientCheckError):\n")
        print("   " + str(error).replace("\n", "\n   ") + "\n")
    else:
        print("   ERROR: the wrong derivative was not caught")
        return 1

    print("2) The right derivative: σ'(z) = σ(z)·(1 − σ(z))")
    try:
        report = check_gradients(cost_with(right_sigmoid), Value(weights, label="w"), Value(biases, label="b"))
    except GradientCheckError as error:
        print(f"   ERROR: the right derivative failed the check:\n{error}")
        return 1
    print(f"   the right derivative passes: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
