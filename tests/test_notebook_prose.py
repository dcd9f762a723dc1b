"""The notebooks' prose checked against what their cells compute, as a careful reader would: each test failed
before its notebook's text was mended."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import nn, no_grad, optim
from tinygrad_edu.autodiff import gradient_and_hessian
from tinygrad_edu.data import xsquared
from tinygrad_edu.losses import squared_error
from tinygrad_edu.training import fit

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def cells(name: str) -> list[tuple[str, str]]:
    """(cell type, source) of every cell of ``notebooks/name.ipynb``."""
    notebook = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))
    return [(cell["cell_type"], "".join(cell["source"])) for cell in notebook["cells"]]


def prose_after(name: str, code: str) -> str:
    """The markdown right after the code cell containing ``code``, on one line."""
    found = cells(name)
    index = next(i for i, (kind, source) in enumerate(found) if kind == "code" and code in source)
    return " ".join(found[index + 1][1].split())


def operations(value) -> int:
    """How many Values the graph of ``value`` has: the operations one backward pass walks through."""
    seen, stack = set(), [value]
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            stack.extend(node.parents)
    return len(seen)


def test_06_explains_the_times_of_the_network_sizes_by_their_layers():
    """06's last cell prints, on every run, about 1.2, 1.2, 1.7 and 2.1 s for the four sizes: the deeper networks
    clearly take longer.  Its prose says the difference "is small next to the noise of a shared machine (run the
    cell twice: the times may even come out in the wrong order)", and explains it by the fixed cost of each
    operation.  That explanation predicts what is printed: the time follows the number of operations, the same for
    the two one-hidden-layer networks and larger with each extra layer, whatever the number of weights."""
    inputs, targets = xsquared(32, seed=0)
    counts, weights = [], []
    for sizes in ([1, 3, 1], [1, 12, 1], [1, 12, 12, 1], [1, 12, 12, 12, 1]):
        net = nn.MLP(sizes, activation="tanh", output_activation="identity", init="xavier", rng=0)
        counts.append(operations(squared_error(net(inputs), targets)))
        weights.append(net.num_parameters())
    assert counts[0] == counts[1] and weights[1] > 3 * weights[0]  # more weights, the same operations
    assert counts[1] < counts[2] < counts[3] and counts[3] >= 1.5 * counts[0]  # each layer adds operations
    prose = prose_after("06_training", "for sizes in")
    assert "wrong order" not in prose and "small next to the noise" not in prose, prose
    assert "layer" in prose, prose


@pytest.fixture(scope="module")
def trained_07():
    """07's "A network's cost" cell, run as it is: the network, its samples, the gradient and the Hessian."""
    source = next(source for kind, source in cells("07_second_derivatives")
                  if kind == "code" and "gradient_and_hessian(cost" in source)
    namespace = {"np": np, "nn": nn, "optim": optim, "fit": fit, "squared_error": squared_error,
                 "gradient_and_hessian": gradient_and_hessian, "print": lambda *args, **kwargs: None}
    exec(source, namespace)
    return namespace


def test_07_does_not_use_the_second_derivative_test_where_the_gradient_is_not_zero(trained_07):
    """07 says the second-derivative test needs ∇f = 0, then applies it where ‖∇C‖ = 2.3e-3: "Where gradient
    descent stopped, the gradient is (nearly) zero and the eigenvalues say what kind of point it is", and "this
    point ... is no minimum at all: along the directions of the negative eigenvalues the cost still falls".  Along
    the eigenvector of the most negative eigenvalue the cost rises on one side (the gradient's term outweighs the
    curvature's), and the point is no minimum for the plain reason that training had not stopped: more episodes
    lower its cost several times."""
    net, x = trained_07["net"], trained_07["x"]
    gradient, hessian = trained_07["gradient"], trained_07["H"]
    values, vectors = np.linalg.eigh(hessian)
    assert values[0] < 0 and np.linalg.norm(gradient) > 1e-3
    parameters = net.parameters()
    start = [p.data.copy() for p in parameters]

    def cost_at(step: float) -> float:
        offset = 0
        for p, data in zip(parameters, start):
            p.data[...] = data + step * vectors[offset:offset + data.size, 0].reshape(data.shape)
            offset += data.size
        with no_grad():
            return squared_error(net(x), x ** 2).item()

    here = cost_at(0.0)
    sides = [cost_at(step) - here for step in (0.01, -0.01)]
    cost_at(0.0)
    assert max(sides) > 0 > min(sides)  # only the gradient's side falls, as along any direction
    more = fit(net, x, x ** 2, optimizer=optim.Armijo(net), episodes=2000, progress=False)
    assert more.final_cost < here / 4  # not where gradient descent stops: it goes on lowering the cost
    prose = " ".join(" ".join(source.split()) for kind, source in cells("07_second_derivatives")
                     if kind == "markdown")
    assert "the eigenvalues say what kind of point it is" not in prose
    assert not re.search(r"along the directions of the negative eigenvalues the cost still falls", prose)
