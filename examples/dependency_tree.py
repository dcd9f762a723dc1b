"""The seed's backpropagation dependency tree (section 6.3), drawn from a real forward and backward pass.

A chain network with one neuron per layer: α⁰ = x, zⁱ = Wⁱ·αⁱ⁻¹ + bⁱ, αⁱ = σ(zⁱ) (the seed's w_i and b_i),
cost C = (αᴸ − y′)² with the target y′.  After ``cost.backward()`` every edge of the tree carries its local
derivative, and the product along the path from a weight up to C is ∂C/∂w, the number backpropagation stored
in ``w.grad``.

    python examples/dependency_tree.py [output folder]     (default ./tinygrad-edu-output)

Writes dependency_tree.svg (or dependency_tree.dot with instructions when Graphviz's ``dot`` is missing).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from tinygrad_edu import Value, nn
from tinygrad_edu.cli import output_folder
from tinygrad_edu.notation import pretty
from tinygrad_edu.viz import GraphvizNotFoundError, dependency_tree, draw_dependency_tree, render


def build(layers: int = 3, x: float = 0.5, target: float | None = None) -> tuple[Value, list[Value]]:
    """The cost of a chain network for one sample (x, y′) and its weights, after a backward pass; y′ = x² unless
    ``target`` is given."""
    net = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(layers)])
    y = Value(np.array([x * x if target is None else target]), requires_grad=False, label="y′")
    cost = ((net(np.array([x])) - y) ** 2).sum()
    cost.label = "C"
    cost.backward()
    return cost, [layer.weights for layer in net.layers]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=output_folder, default=Path("tinygrad-edu-output"),
                        help="folder for dependency_tree.svg (default: %(default)s)")
    out = parser.parse_args(argv).folder
    out.mkdir(parents=True, exist_ok=True)
    cost, weights = build()
    tree = dependency_tree(cost)
    print(f"cost C = {cost.item():.6g}")
    for w in weights:
        path = tree.path(w.label)
        product = math.prod(edge.number for edge in path)
        factors = " · ".join(f"{edge.symbol} ({edge.number:.4g})" for edge in path)
        name = pretty(w.label)  # W^1 → W¹, as the factors and the drawing write it
        print(f"∂C/∂{name}: {factors}")
        print(f"    product along the path = {product:.10g}    .grad of {name} = {w.grad.item():.10g}")
    try:
        written = render(draw_dependency_tree(cost), out / "dependency_tree.svg")
    except GraphvizNotFoundError as error:
        print(error)
        return 0
    print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
