"""A training script as a code base checked with ``mypy --strict`` writes it, the README's way.

Checked by tests/test_mypy_strict_user.py: mypy --strict reports no error here, and run as a program it holds (each
``assert isinstance(assert_type(expr, T), T)`` checks the static type and the type at run time at once).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # (typing.assert_type is Python 3.11's; at run time it only hands its value back)
    from typing_extensions import assert_type
else:
    T = TypeVar("T")

    def assert_type(value: T, _type: object) -> T:
        return value

import numpy as np
import numpy.typing as npt

import tinygrad_edu.functional as F
from tinygrad_edu import History, Value, autodiff, losses, nn, no_grad, optim, plots, viz
from tinygrad_edu.calculus import StationaryPoint, stationary_point
from tinygrad_edu.data import Dataset, batches, load_digits, one_hot, train_test_split, xsquared
from tinygrad_edu.testing import GradientReport, check_gradients
from tinygrad_edu.training import fit


def run(folder: Path) -> float:
    # --- Value arithmetic: numbers, numpy scalars and arrays on either side
    v = Value(np.arange(1.0, 4.0))
    a: npt.NDArray[np.float64] = np.ones(3)
    for result in (1.0 + v, v + 1, 2 * v, 1.0 - v, 1.0 / v, 2.0 ** v, v ** 2, -v, abs(v), pow(v, 2), a + v, a - v,
                   a * v, a / v, a ** v, v @ a, np.ones((3, 3)) @ v, np.float64(2.0) * v, v * np.float32(2.0),
                   np.int64(2) - v, v[0], v[1:], v[np.array([0, 2])], v[None], v.T, v.sum(axis=0, keepdims=True)):
        assert isinstance(assert_type(result, Value), Value)
    assert isinstance(assert_type(float(v[0]), float), float)
    assert isinstance(assert_type(int(v[2]), int), int)
    assert isinstance(assert_type(round(v[0]), int), int)
    assert isinstance(assert_type(v.sum().item(), float), float)
    assert isinstance(assert_type(math.exp(v[0]), float), float)
    assert isinstance(assert_type(v.numpy(), np.ndarray), np.ndarray)
    assert isinstance(assert_type(list(v), list[Value])[0], Value)
    if v[0] > 0 and 0.5 < v[1] and not v[2] == 0.0:  # comparisons decide as for numbers
        assert isinstance(v > 1.0, np.ndarray)

    # --- a gradient, checked, and derivatives of derivatives
    w, b = Value(0.5, label="w"), Value(-0.3, label="b")
    cost = ((w * 2.0 + b).sigmoid() - 1.0) ** 2
    cost.backward()
    slope: float = float(w.grad)
    assert isinstance(assert_type(autodiff.gradients(cost, [w, b]), list[Value]), list)  # before w changes
    with no_grad():
        w -= 0.1 * w.grad
    assert isinstance(assert_type(w, Value), Value)
    report = check_gradients(lambda w, b: ((w * 2.0 + b).sigmoid() - 1.0) ** 2, 0.5, -0.3)
    assert isinstance(assert_type(report, GradientReport), GradientReport)

    def two_parameters(p: Value) -> Value:
        return p[0] ** 3 - 3 * p[0] + p[1] ** 2

    assert isinstance(assert_type(autodiff.grad(F.tanh)(0.5), Value), Value)
    assert isinstance(assert_type(autodiff.hessian(two_parameters)([1.0, 0.0]), Value), Value)
    assert isinstance(assert_type(autodiff.hvp(two_parameters, [1.0, 0.0], [1.0, 1.0]), Value), Value)
    found = stationary_point(two_parameters, [0.8, 0.3])
    assert isinstance(assert_type(found, StationaryPoint), StationaryPoint)
    assert isinstance(assert_type(found.kind, str), str)

    # --- a regression network, trained and saved
    x, y = xsquared(64, seed=0)
    net = nn.MLP([1, 8, 1], activation="relu", output_activation="identity", init="he", rng=0)
    adam = optim.Adam(net, learning_rate=0.004, betas=(0.9, 0.99))
    fit(net, x, y, optimizer=adam, episodes=2, batch_size=16, seed=0, progress=False)
    history = fit(net, x, y, optimizer=optim.Armijo(net), episodes=2, progress=False)
    assert isinstance(assert_type(history, History), History)
    assert isinstance(assert_type(history.cost, list[float]), list)
    assert isinstance(assert_type(history + history, History), History)
    final: float | None = history.final_cost
    assert final is not None
    assert isinstance(assert_type(net(np.array([[0.1], [0.5]])), Value), Value)
    assert isinstance(assert_type(net.parameters(), list[Value])[0], Value)
    assert isinstance(assert_type(net.layers[0], nn.Layer), nn.Layer)
    assert isinstance(assert_type(net.eval(), nn.MLP), nn.MLP)
    net.save(folder / "net.npz")
    assert isinstance(assert_type(nn.load(folder / "net.npz"), nn.Network), nn.Network)
    assert isinstance(assert_type(adam.state_dict(), dict[str, np.ndarray]), dict)
    adam.learning_rate = 0.001  # a schedule: the setting, between steps

    def closure() -> Value:  # the cost only: the optimizers call backward() themselves
        return losses.squared_error(net(x), y)

    for opt in (optim.SGD(net, learning_rate=0.1, momentum=0.9), optim.GradientDescent(net, learning_rate=0.1),
                optim.Newton(net)):
        opt.step(closure)

    # --- a classifier on the digits, in mini-batches
    train, test = train_test_split(*load_digits(), test_fraction=0.25, seed=3)
    assert isinstance(assert_type(train, Dataset), Dataset)
    assert isinstance(assert_type(train.inputs, np.ndarray), np.ndarray)
    clf = nn.MLP([64, 16, 10], activation="relu", rng=0)
    fit(clf, train.inputs, train.labels, cost=losses.cross_entropy, optimizer=optim.SGD(clf, learning_rate=1),
        episodes=1, batch_size=64, progress=False)
    for xb, yb in batches(test.inputs, test.labels, 128, shuffle=False):
        assert isinstance(assert_type(xb, np.ndarray), np.ndarray)
        assert isinstance(assert_type(losses.cross_entropy(clf(xb), yb), Value), Value)
        assert isinstance(assert_type(losses.mean_squared_error(F.softmax(clf(xb)), one_hot(yb)), Value), Value)

    # --- drawings and plots (not rendered: the types are what is checked here)
    chain = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(3)])
    tree_cost = losses.squared_error(chain(np.array([0.5])), np.array([1.0]))
    tree_cost.backward()
    assert isinstance(assert_type(viz.draw_graph(tree_cost, names=locals()), viz.Drawing), viz.Drawing)
    assert isinstance(assert_type(viz.draw_dependency_tree(tree_cost), viz.Drawing), viz.Drawing)
    assert isinstance(assert_type(viz.draw_network(chain), viz.Drawing), viz.Drawing)
    figure = plots.plot_history([history, history])
    figure.clear()
    return slope


if __name__ == "__main__":
    import sys

    print(run(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")))
