"""A misuse fuzzer over the public API: every public function and class of every module, called with wrong arguments
of every kind, one argument at a time.

For each callable the table below gives one good call (the arguments a user would pass); ``inspect.signature`` says
which arguments there are, and each in turn is replaced by every value of :data:`WRONG` while the others stay good.
Every such call must either work or fail with a ``TypeError``/``ValueError`` (or the module's documented error, such
as ``FileNotFoundError`` for a missing file) whose message names the function or class called.  Warnings are errors,
so a leaked numpy or matplotlib warning fails; a call that takes longer than :data:`SECONDS_PER_CALL` fails as a hang.
Nothing touches the network (sockets are switched off) and files are written only below ``tmp_path``.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import importlib
import inspect
import io
import math
import signal
import socket
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import Value, nn
from tinygrad_edu.losses import squared_error
from tinygrad_edu.ops import Op

matplotlib.use("Agg")

#: The wrong arguments: every kind of value a caller gets wrong, by a name that reads well in a failure.
WRONG: dict[str, Any] = {
    "None": None, "a string": "x", "NaN": math.nan, "inf": math.inf, "-1": -1, "0": 0, "1e308": 1e308,
    "[]": [], "a ragged list": [[1], [1, 2]], "an object()": object(), "a Value": Value(2.0), "a float": 2.5,
    "True": True, "False": False, "a (2, 3, 4) array": np.zeros((2, 3, 4)),
}
SECONDS_PER_CALL = 5.0


class Hang(BaseException):
    """A call ran longer than SECONDS_PER_CALL (a BaseException, so that no ``except Exception`` swallows it)."""


class Accepted(BaseException):
    """Raised by a stand-in for expensive work (training): the arguments were accepted, which counts as working."""


@dataclass
class Case:
    """One public callable: ``good(tmp_path)`` gives the keyword arguments of a call that works (``*`` the
    positional ones of ``*args``); ``then`` uses the result (a lazy function whose errors come later);
    ``errors`` are the documented error types besides TypeError/ValueError; ``names`` what a message may name."""

    target: Callable[..., Any]
    good: Callable[[Path], dict[str, Any]] = lambda tmp: {}
    then: Callable[[Any], Any] | None = None
    errors: tuple[type[BaseException], ...] = ()
    names: tuple[str, ...] = ()

    @property
    def qualname(self) -> str:
        return f"{self.target.__module__.removeprefix('tinygrad_edu.')}.{self.target.__qualname__}"


# --- small things the good calls are made of --------------------------------------------------------------------
def chain_cost() -> Value:
    """The cost of a 1-1-1 sigmoid network at x = 0.5, with its gradients filled in."""
    net = nn.Network(nn.Layer(1, 1, "sigmoid", rng=0), nn.Layer(1, 1, "sigmoid", rng=1))
    cost = squared_error(net(np.array([0.5])), np.array([0.25]))
    cost.backward()
    return cost


def double_op() -> Op:
    return Op("double", lambda x: 2 * x, lambda g, out, x: 2 * g)


def model_file(tmp: Path) -> Path:
    path = tmp / "model.npz"
    if not path.exists():
        nn.MLP([1, 2, 1], rng=0).save(path)
    return path


def idx_file(path: Path, array: np.ndarray) -> Path:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))
    return path


def mnist_folder(tmp: Path) -> Path:
    """A tiny MNIST look-alike: 3 images of 2x2 pixels per split, gzip-compressed IDX files."""
    folder = tmp / "mnist"
    if not folder.exists():
        folder.mkdir()
        for stem in ("train", "t10k"):
            idx_file(folder / f"{stem}-images-idx3-ubyte.gz", np.arange(12).reshape(3, 2, 2))
            idx_file(folder / f"{stem}-labels-idx1-ubyte.gz", np.array([1, 2, 3]))
    return folder


def no_checksums() -> dict[str, None]:
    from tinygrad_edu.data import MNIST_MD5
    return dict.fromkeys(MNIST_MD5)


def xsquared_inputs() -> tuple[np.ndarray, np.ndarray]:
    x = np.linspace(-1, 1, 6).reshape(-1, 1)
    return x, x ** 2


def quadratic(x: Any) -> Any:
    return (x * x).sum()


@functools.cache
def demo_runs() -> list[Any]:
    from tinygrad_edu import demo
    return demo.compare_xsquared(samples=10, quick=True, methods=["gradient descent"])


def sample_history() -> Any:
    from tinygrad_edu.training import History
    return History(cost=[1.0, 0.5], gradient_norm=[1.0, 0.4], step_size=[None, None], seconds=[0.1, 0.2])


def lazy(module: str, name: str) -> Callable[..., Any]:
    return getattr(importlib.import_module(f"tinygrad_edu.{module}"), name)


# --- the table: every public callable with one good call --------------------------------------------------------
from tinygrad_edu import (  # noqa: E402  (after the helpers above, which the table uses)
    autodiff,
    calculus,
    cli,
    data,
    demo,
    dependency_tree,
    engine,
    files,
    functional,
    graph,
    losses,
    notation,
    ops,
    optim,
    player,
    plots,
    seeds,
    serialization,
    testing,
    training,
    viz,
)
from tinygrad_edu.testing import expressions, strategies  # noqa: E402


def x_value(tmp: Path) -> dict[str, Any]:
    return {"x": Value(np.array([0.25, 0.5, 2.0]))}


def enter_and_leave(context: Any) -> None:
    """Use a context manager (``no_grad()``): entering alone would leave recording off for every later call."""
    with context:
        pass


def a_function_and_start(tmp: Path) -> dict[str, Any]:
    return {"f": quadratic, "start": np.array([1.0, -1.0])}


def draw_strategy(strategy: Any) -> Any:
    """One example of a hypothesis strategy, deterministically (its arguments are checked when it is drawn from)."""
    from hypothesis import HealthCheck, Phase, find, settings
    return find(strategy, lambda _: True, settings=settings(database=None, derandomize=True, phases=[Phase.generate],
                                                            suppress_health_check=list(HealthCheck)))


def kept_values(tmp: Path) -> dict[str, Any]:
    cost = chain_cost()
    kept, total = graph.nearest_values(cost)
    return {"kept": kept, "total": total, "names": player.display_names(kept)}


CASES = [
    # engine and ops
    Case(engine.Value, lambda tmp: {"data": [1.0, 2.0], "label": "x"}),
    Case(engine.apply, lambda tmp: {"op": double_op(), "*": [Value(1.0)]}),
    Case(engine.no_grad, then=enter_and_leave),
    Case(engine.is_grad_enabled),
    Case(engine.detect_anomaly),
    Case(engine.backward_order, lambda tmp: {"output": chain_cost()}),
    Case(engine.local_gradients, lambda tmp: {"node": chain_cost(), "upstream": np.array(1.0)}),
    Case(ops.Op, lambda tmp: {"name": "double", "forward": lambda x: 2 * x, "vjps": lambda g, out, x: 2 * g}),
    Case(seeds.generator, lambda tmp: {"seed": 0, "where": "somewhere"}, names=("somewhere", "generator")),
    Case(files.checked_path, lambda tmp: {"path": str(tmp / "f"), "operation": "reading"}, names=("reading",)),
    Case(files.open_regular_file, lambda tmp: {"path": str(model_file(tmp)), "operation": "reading"},
         then=lambda file: file.close(), errors=(FileNotFoundError,), names=("reading",)),
    # functions and layers
    *[Case(getattr(functional, name), x_value) for name in
      ("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "softplus", "identity")],
    Case(functional.leaky_relu, lambda tmp: {**x_value(tmp), "negative_slope": 0.1}),
    Case(functional.softmax, lambda tmp: {"x": Value(np.ones((2, 3))), "axis": -1}),
    Case(functional.log_softmax, lambda tmp: {"x": Value(np.ones((2, 3))), "axis": -1}),
    Case(functional.concatenate, lambda tmp: {"values": [Value([1.0]), Value([2.0, 3.0])], "axis": 0}),
    Case(functional.stack, lambda tmp: {"values": [Value([1.0]), Value([2.0])], "axis": 0}),
    Case(functional.maximum, lambda tmp: {"a": Value([1.0, 3.0]), "b": Value([2.0, 2.0])}),
    Case(functional.where, lambda tmp: {"condition": [True, False], "a": Value([1.0, 2.0]), "b": Value([3.0, 4.0])}),
    Case(autodiff.grad, lambda tmp: {"f": quadratic, "argnums": 0}, then=lambda g: g(np.array([1.0, 2.0]))),
    Case(autodiff.value_and_grad, lambda tmp: {"f": quadratic, "argnums": 0}, then=lambda g: g(np.array([1.0]))),
    Case(autodiff.jacobian, lambda tmp: {"f": lambda x: x * 2.0, "argnums": 0}, then=lambda j: j(np.ones(2))),
    Case(autodiff.hessian, lambda tmp: {"f": quadratic, "argnums": 0}, then=lambda h: h(np.ones(2))),
    Case(autodiff.hvp, lambda tmp: {"f": quadratic, "x": np.ones(2), "v": np.array([1.0, 0.0])}),
    Case(autodiff.gradients, lambda tmp: (lambda x: {"output": quadratic(x), "inputs": [x]})(Value([1.0, 2.0]))),
    Case(autodiff.gradient_and_hessian,
         lambda tmp: (lambda x: {"output": quadratic(x), "inputs": [x]})(Value([1.0, 2.0]))),
    Case(nn.Module),
    Case(nn.Layer, lambda tmp: {"in_size": 2, "out_size": 3, "rng": 0}),
    Case(nn.Network, lambda tmp: {"*": [nn.Layer(1, 2, rng=0), nn.Layer(2, 1, rng=1)]}),
    Case(nn.MLP, lambda tmp: {"sizes": [1, 2, 1], "rng": 0}),
    Case(nn.load_state, lambda tmp: {"path": model_file(tmp)}, errors=(FileNotFoundError, IsADirectoryError)),
    Case(nn.load, lambda tmp: {"path": model_file(tmp)}, errors=(FileNotFoundError, IsADirectoryError)),
    Case(serialization.save, lambda tmp: {"path": tmp / "saved.npz", "state": {"w": np.zeros(2)}}),
    Case(serialization.read, lambda tmp: {"path": model_file(tmp)}, errors=(FileNotFoundError, IsADirectoryError)),
    Case(serialization.parameter_shapes,
         lambda tmp: {"architecture": serialization.read(model_file(tmp))[1]}),
    Case(serialization.check_parameter_count, lambda tmp: {"count": 5, "what": "a model"}, names=("a model",)),
    Case(serialization.counted_from_1, lambda tmp: {"name": "layers.0.weights"}),
    Case(losses.squared_error, lambda tmp: {"prediction": Value(np.zeros((2, 1))), "target": np.ones((2, 1))}),
    Case(losses.mean_squared_error, lambda tmp: {"prediction": Value(np.zeros((2, 1))), "target": np.ones((2, 1))}),
    Case(losses.cross_entropy, lambda tmp: {"logits": Value(np.zeros((2, 3))), "labels": [0, 2]}),
    # training, data, drawing
    Case(optim.Optimizer, lambda tmp: {"params": [Value(1.0)]}),
    Case(optim.GradientDescent, lambda tmp: {"params": [Value(1.0)], "learning_rate": 0.1}),
    Case(optim.Armijo, lambda tmp: {"params": [Value(1.0)]}),
    Case(optim.RandomSearch, lambda tmp: {"params": [Value(1.0)], "rng": 0}),
    Case(optim.SGD, lambda tmp: {"params": [Value(1.0)], "learning_rate": 0.1, "momentum": 0.5}),
    Case(optim.Adam, lambda tmp: {"params": [Value(1.0)]}),
    Case(optim.Newton, lambda tmp: {"params": [Value(1.0)], "damping": 1e-3}),
    Case(optim.ArmijoStep, lambda tmp: {"step": 0.5, "trials": [(1.0, 2.0)]}),
    Case(optim.armijo_step, lambda tmp: {"f": lambda x: float(x @ x), "x": np.ones(2), "gradient": 2 * np.ones(2),
                                         "sigma": 1e-4, "alpha": 0.5}),
    Case(optim.cost_with_gradient, lambda tmp: (lambda x: {"closure": lambda: quadratic(x), "params": [x],
                                                           "where": "stepping"})(Value([1.0, 2.0])),
         names=("stepping",)),
    Case(optim.gradient_norm, lambda tmp: {"params": [Value(1.0)]}),
    Case(calculus.StationaryPoint, lambda tmp: vars(calculus.stationary_point(quadratic, [1.0]))),
    Case(calculus.stationary_point, a_function_and_start),
    Case(calculus.classify_stationary_point, lambda tmp: {"eigenvalues": [1.0, 2.0]}),
    Case(training.History),
    Case(training.fit, lambda tmp: (lambda net: {
        "model": net, "inputs": xsquared_inputs()[0], "targets": xsquared_inputs()[1],
        "optimizer": optim.GradientDescent(net, 0.1), "episodes": 2, "progress": False})(nn.MLP([1, 2, 1], rng=0))),
    Case(data.Dataset, lambda tmp: {"inputs": np.zeros((2, 1)), "labels": np.zeros(2)}),
    Case(data.xsquared, lambda tmp: {"n": 4}),
    Case(data.load_digits, errors=(FileNotFoundError, IsADirectoryError)),
    Case(data.train_test_split, lambda tmp: {"inputs": np.zeros((10, 2)), "labels": np.arange(10) % 2}),
    Case(data.one_hot, lambda tmp: {"labels": [1, 2], "classes": 3}),
    Case(data.batches, lambda tmp: {"inputs": np.zeros((5, 2)), "targets": np.zeros(5), "batch_size": 2},
         then=list),
    Case(data.read_idx, lambda tmp: {"path": idx_file(tmp / "labels.gz", np.arange(3))},
         errors=(FileNotFoundError, IsADirectoryError)),
    Case(data.load_mnist, lambda tmp: {"root": mnist_folder(tmp), "checksums": no_checksums()},
         errors=(FileNotFoundError, data.DownloadError)),
    Case(data.download_mnist, lambda tmp: {"root": tmp / "fetched", "url": mnist_folder(tmp).as_uri(),
                                           "checksums": no_checksums()}, errors=(data.DownloadError,)),
    Case(viz.draw_graph, lambda tmp: {"value": chain_cost()}),
    Case(viz.draw_dependency_tree, lambda tmp: {"cost": chain_cost()}),
    Case(viz.draw_network, lambda tmp: {"model": nn.MLP([1, 2, 1], rng=0)}),
    Case(viz.render, lambda tmp: {"graph": viz.draw_network(nn.MLP([1, 1], rng=0)), "path": tmp / "net.svg"},
         errors=(viz.GraphvizNotFoundError,)),
    Case(viz.Drawing),
    Case(viz.computation_graph, lambda tmp: (lambda kept: {"value": kept["kept"][0], "kept": kept["kept"],
                                                           "total": kept["total"], "names": kept["names"]})(
        kept_values(tmp))),
    Case(viz.tree_drawing, lambda tmp: {"tree": dependency_tree.dependency_tree(chain_cost())}),
    Case(viz.backprop_player, lambda tmp: {"value": chain_cost()}),
    Case(dependency_tree.dependency_tree, lambda tmp: {"cost": chain_cost()}),
    Case(dependency_tree.DependencyTree, lambda tmp: {"cost": "C"}),
    Case(dependency_tree.TreeNode, lambda tmp: {"name": "w", "value": Value(1.0), "data": 1.0, "grad": None,
                                                "kind": "parameter"}),
    Case(dependency_tree.TreeEdge, lambda tmp: {"parent": "C", "child": "w", "number": 1.0}),
    Case(dependency_tree.network_input, lambda tmp: {"nodes": kept_values(tmp)["kept"]}),
    Case(player.Step, lambda tmp: {"phase": "forward", "node": 0, "title": "t", "html": "<p>"}),
    Case(player.BackpropPlayer, lambda tmp: {"steps": [player.Step("forward", 0, "t", "<p>")],
                                             "drawing_svg": None}),
    Case(player.backprop_steps, lambda tmp: (lambda kept: {"output": kept["kept"][0], **kept})(kept_values(tmp))),
    Case(player.tree_steps, lambda tmp: (lambda cost: {"cost": cost, "tree": dependency_tree.dependency_tree(cost)})(
        chain_cost())),
    Case(player.display_names, lambda tmp: {"kept": kept_values(tmp)["kept"]}),
    Case(player.local_formula, lambda tmp: {"node": chain_cost(), "i": 0, "names": ["α", "y"]}),
    Case(player.forward_formula, lambda tmp: {"node": chain_cost(), "names": ["α", "y"]}),
    Case(graph.nearest_values, lambda tmp: {"root": chain_cost(), "limit": 3}),
    Case(graph.ancestors, lambda tmp: (lambda cost: {"starts": cost, "allowed": {id(cost)}, "stop": set()})(
        chain_cost())),
    Case(notation.format_number, lambda tmp: {"x": 0.5}),
    Case(notation.summary, lambda tmp: {"array": [1.0, 2.0]}),
    Case(notation.numbers_of, lambda tmp: {"array": [1.0, 2.0]}),
    Case(notation.pretty, lambda tmp: {"label": "α^2"}),
    Case(notation.printable, lambda tmp: {"text": "α"}),
    Case(notation.left_out_note, lambda tmp: {"shown": 1, "total": 2}),
    Case(plots.plot_history, lambda tmp: {"history": sample_history()}),
    Case(plots.plot_activations, lambda tmp: {"names": ["relu"]}),
    Case(plots.plot_descent, lambda tmp: {**a_function_and_start(tmp), "steps": 3, "resolution": 10, "levels": 3}),
    Case(plots.plot_learning_rates, lambda tmp: {**a_function_and_start(tmp), "steps": 3, "resolution": 10}),
    Case(plots.plot_armijo, lambda tmp: {"f": quadratic, "x": np.array([1.0, -1.0])}),
    Case(plots.descent_path, lambda tmp: {**a_function_and_start(tmp), "steps": 3}),
    Case(plots.plot_derivatives, lambda tmp: {"f": lambda x: x * x, "order": 2, "points": 11}),
    Case(plots.plot_stationary_points, lambda tmp: {"f": quadratic, "found": [np.zeros(2)], "resolution": 10,
                                                    "levels": 3}),
    Case(testing.numerical_gradient, lambda tmp: {"f": quadratic, "*": [np.array([1.0, 2.0])]}),
    Case(testing.check_gradients, lambda tmp: {"f": quadratic, "*": [np.array([1.0, 2.0])]}),
    Case(testing.GradientReport, lambda tmp: vars(testing.check_gradients(quadratic, np.array([1.0])))),
    Case(strategies.shapes, then=draw_strategy),
    Case(strategies.broadcastable_shapes, then=draw_strategy),
    Case(strategies.matmul_shapes, then=draw_strategy),
    Case(strategies.arrays, lambda tmp: {"shape": (2,)}, then=draw_strategy),
    Case(strategies.arrays_for, lambda tmp: {"shapes_strategy": strategies.shapes()}, then=draw_strategy),
    Case(strategies.values, lambda tmp: {"shape": (2,)}, then=draw_strategy),
    Case(expressions.expressions, lambda tmp: {"max_nodes": 4}, then=draw_strategy),
    Case(expressions.Expression, lambda tmp: {"inputs": (np.ones(2),), "constants": {}, "lines": ("v1 = x0 * 2",)},
         then=lambda expression: expression(Value(np.ones(2)))),
    Case(expressions.OpSpec, lambda tmp: {"op": double_op()}),
    # on top
    Case(demo.Run, lambda tmp: dict(vars(demo_runs()[0]))),
    Case(demo.Goal, lambda tmp: {"text": "a goal", "met": True, "detail": "met"}),
    Case(demo.Artefacts),
    Case(demo.xsquared_network, lambda tmp: {"seed": 0}),
    Case(demo.newton_network, lambda tmp: {"seed": 0}),
    Case(demo.compare_xsquared, lambda tmp: {"samples": 10, "quick": True}),
    Case(demo.check_goals, lambda tmp: {"runs": demo_runs(), "seconds": 1.0}),
    Case(demo.format_table, lambda tmp: {"runs": demo_runs()}),
    Case(demo.chain_cost, lambda tmp: {"layers": 2}),
    Case(demo.write_artefacts, lambda tmp: {"runs": demo_runs(), "folder": tmp / "artefacts"}),
    Case(demo.run_demo, lambda tmp: {"output": tmp / "demo", "quick": True, "stream": io.StringIO()}),
    Case(cli.main, lambda tmp: {"argv": ["--version"]}),
    Case(cli.build_parser),
    Case(cli.whole_number, lambda tmp: {"minimum": 1}, then=lambda parse: parse("3")),
    Case(cli.output_folder, lambda tmp: {"text": str(tmp / "out")}),
]


#: Known failures, each with its first wrong outcome, as ``"module.function-parameter": reason``.
KNOWN_FAILURES: dict[str, str] = {
    "engine.no_grad-function":
        "engine.py: engine.no_grad(function=a string): TypeError not naming no_grad: 'function' object does no",
    "engine.backward_order-output":
        "engine.py: engine.backward_order(output=None): AttributeError: 'NoneType' object has no attribute '_first'",
    "engine.local_gradients-node":
        "engine.py: engine.local_gradients(node=None): AttributeError: 'NoneType' object has no attribute '_op'",
    "engine.local_gradients-upstream":
        "engine.py: engine.local_gradients(upstream=None): TypeError not naming local_gradients: Value: cannot",
    "engine.local_gradients-constants":
        "engine.py: engine.local_gradients(constants=None): TypeError not naming local_gradients: 'NoneType' o",
    "ops.Op-vjps": "ops.py: ops.Op(vjps=None): TypeError not naming Op: 'NoneType' object is not iterable",
    "functional.exp-x": "ops.py forward: functional.exp(x=1e308): RuntimeWarning: overflow encountered in exp",
    "functional.log-x": "ops.py forward: functional.log(x=-1): RuntimeWarning: invalid value encountered in log",
    "functional.sqrt-x": "ops.py forward: functional.sqrt(x=-1): RuntimeWarning: invalid value encountered in sqrt",
    "functional.softplus-x":
        "ops.py forward: functional.softplus(x=NaN): RuntimeWarning: invalid value encountered in logaddexp",
    "functional.leaky_relu-negative_slope":
        "ops.py forward: functional.leaky_relu(negative_slope=1e308): RuntimeWarning: overflow encountered in multiply",
    "functional.softmax-x":
        "ops.py forward: functional.softmax(x=inf): RuntimeWarning: invalid value encountered in subtract",
    "functional.log_softmax-x":
        "ops.py forward: functional.log_softmax(x=inf): RuntimeWarning: invalid value encountered in subtract",
    "autodiff.gradients-grad_output":
        "not fixed yet: autodiff.gradients(grad_output=a string): TypeError not naming gradients: Value: canno",
    "autodiff.gradients-create_graph":
        "not fixed yet: autodiff.gradients(create_graph=a (2, 3, 4) array): ValueError not naming gradients: T",
    "nn.MLP-activation":
        "nn.py: nn.MLP(activation=None): TypeError not naming MLP: Layer: activation must be a name or a funct",
    "nn.MLP-output_activation":
        "nn.py: nn.MLP(output_activation=a string): ValueError not naming MLP: Layer: unknown activation 'x'; ",
    "nn.MLP-init":
        "nn.py: nn.MLP(init=None): ValueError not naming MLP: Layer: unknown init None; choose one of uniform,",
    "nn.load_state-path":
        "nn.py: nn.load_state(path=None): TypeError not naming load_state: load: expected a file path (str or ",
    "serialization.save-architecture":
        "not fixed yet: serialization.save(architecture=a string): ValueError not naming save: the stored arch",
    "serialization.read-path":
        "not fixed yet: serialization.read(path=None): TypeError not naming read: load: expected a file path (",
    "serialization.read-shapes":
        "not fixed yet: serialization.read(shapes=a string): ModelFileError not naming read: load: '<tmp> does",
    "serialization.parameter_shapes-architecture":
        "not fixed yet: serialization.parameter_shapes(architecture=None): ValueError not naming parameter_sha",
    "optim.cost_with_gradient-closure":
        "optim.py: optim.cost_with_gradient(closure=None): TypeError not naming stepping: 'NoneType' object is",
    "optim.cost_with_gradient-params":
        "optim.py: optim.cost_with_gradient(params=None): TypeError not naming stepping: 'NoneType' object is ",
    "calculus.stationary_point-zero_tol":
        "not fixed yet: calculus.stationary_point(zero_tol=1e308): RuntimeWarning: overflow encountered in sca",
    "calculus.classify_stationary_point-tol":
        "not fixed yet: calculus.classify_stationary_point(tol=1e308): RuntimeWarning: overflow encountered in",
    "viz.draw_graph-rankdir":
        "viz.py: viz.draw_graph(rankdir=a (2, 3, 4) array): ValueError not naming draw_graph: The truth value ",
    "viz.draw_graph-show_data":
        "viz.py: viz.draw_graph(show_data=a (2, 3, 4) array): ValueError not naming draw_graph: The truth valu",
    "viz.draw_graph-show_grad":
        "viz.py: viz.draw_graph(show_grad=a (2, 3, 4) array): ValueError not naming draw_graph: The truth valu",
    "viz.draw_dependency_tree-cost":
        "viz.py: viz.draw_dependency_tree(cost=None): TypeError not naming draw_dependency_tree: dependency_tr",
    "viz.render-path":
        "viz.py: viz.render(path=None): TypeError not naming render: expected str, bytes or os.PathLike object",
    "viz.render-timeout":
        "viz.py: viz.render(timeout=a string): TypeError not naming render: unsupported operand type(s) for +:",
    "viz.Drawing-filename":
        "viz.py: viz.Drawing(filename=NaN): TypeError not naming Drawing: expected str, bytes or os.PathLike o",
    "viz.Drawing-directory":
        "viz.py: viz.Drawing(directory=NaN): TypeError not naming Drawing: expected str, bytes or os.PathLike ",
    "viz.Drawing-format":
        "viz.py: viz.Drawing(format=a string): ValueError not naming Drawing: unknown format: 'x' (must be one",
    "viz.Drawing-engine":
        "viz.py: viz.Drawing(engine=a string): ValueError not naming Drawing: unknown engine: 'x' (must be one",
    "viz.Drawing-encoding": "viz.py: viz.Drawing(encoding=a string): LookupError: unknown encoding: x",
    "viz.Drawing-graph_attr":
        "viz.py: viz.Drawing(graph_attr=a string): ValueError not naming Drawing: dictionary update sequence e",
    "viz.Drawing-node_attr":
        "viz.py: viz.Drawing(node_attr=a string): ValueError not naming Drawing: dictionary update sequence el",
    "viz.Drawing-edge_attr":
        "viz.py: viz.Drawing(edge_attr=a string): ValueError not naming Drawing: dictionary update sequence el",
    "viz.Drawing-body": "viz.py: viz.Drawing(body=NaN): TypeError not naming Drawing: 'float' object is not iterable",
    "viz.Drawing-renderer":
        "viz.py: viz.Drawing(renderer=a string): ValueError not naming Drawing: unknown renderer: 'x' (must be",
    "viz.Drawing-formatter":
        "viz.py: viz.Drawing(formatter=a string): ValueError not naming Drawing: unknown formatter: 'x' (must ",
    "viz.computation_graph-kept":
        "viz.py: viz.computation_graph(kept=None): TypeError not naming computation_graph: network_input: node",
    "viz.computation_graph-total":
        "viz.py: viz.computation_graph(total=None): TypeError not naming computation_graph: '>' not supported ",
    "viz.computation_graph-names":
        "viz.py: viz.computation_graph(names=None): TypeError not naming computation_graph: 'NoneType' object ",
    "viz.computation_graph-show_data":
        "viz.py: viz.computation_graph(show_data=a (2, 3, 4) array): ValueError not naming computation_graph: ",
    "viz.computation_graph-show_grad":
        "viz.py: viz.computation_graph(show_grad=a (2, 3, 4) array): ValueError not naming computation_graph: ",
    "viz.tree_drawing-tree":
        "viz.py: viz.tree_drawing(tree=None): AttributeError: 'NoneType' object has no attribute 'nodes'",
    "viz.tree_drawing-chains":
        "viz.py: viz.tree_drawing(chains=a (2, 3, 4) array): ValueError not naming tree_drawing: The truth val",
    "viz.backprop_player-layout":
        "viz.py: viz.backprop_player(layout=a (2, 3, 4) array): ValueError not naming backprop_player: The tru",
    "player.backprop_steps-output":
        "player.py: player.backprop_steps(output=None): AttributeError: 'NoneType' object has no attribute 'shape'",
    "player.backprop_steps-kept":
        "player.py: player.backprop_steps(kept=None): TypeError not naming backprop_steps: 'NoneType' object i",
    "player.backprop_steps-total":
        "player.py: player.backprop_steps(total=None): TypeError not naming backprop_steps: '>' not supported ",
    "player.backprop_steps-names":
        "player.py: player.backprop_steps(names=None): AttributeError: 'NoneType' object has no attribute 'get'",
    "player.backprop_steps-precision":
        "player.py: player.backprop_steps(precision=None): TypeError not naming backprop_steps: format_number:",
    "player.tree_steps-cost":
        "player.py: player.tree_steps(cost=None): AttributeError: 'NoneType' object has no attribute 'shape'",
    "player.tree_steps-tree":
        "player.py: player.tree_steps(tree=None): AttributeError: 'NoneType' object has no attribute 'nodes'",
    "player.tree_steps-precision":
        "player.py: player.tree_steps(precision=None): TypeError not naming tree_steps: format_number: precisi",
    "player.display_names-kept":
        "player.py: player.display_names(kept=None): TypeError not naming display_names: network_input: nodes ",
    "player.display_names-names":
        "player.py: player.display_names(names=a string): ValueError not naming display_names: dictionary upda",
    "player.local_formula-node":
        "player.py: player.local_formula(node=None): AttributeError: 'NoneType' object has no attribute 'op'",
    "player.local_formula-i":
        "player.py: player.local_formula(i=None): TypeError not naming local_formula: unsupported operand type",
    "player.local_formula-names":
        "player.py: player.local_formula(names=None): TypeError not naming local_formula: object of type 'None",
    "player.forward_formula-node":
        "player.py: player.forward_formula(node=None): AttributeError: 'NoneType' object has no attribute 'op'",
    "player.forward_formula-names":
        "player.py: player.forward_formula(names=None): TypeError not naming forward_formula: object of type '",
    "plots.plot_history-log_scale":
        "plots.py: plots.plot_history(log_scale=a (2, 3, 4) array): ValueError not naming plot_history: The tr",
    "plots.plot_history-labels":
        "plots.py: plots.plot_history(labels=NaN): TypeError not naming plot_history: object of type 'float' h",
    "plots.plot_history-step_sizes":
        "plots.py: plots.plot_history(step_sizes=a (2, 3, 4) array): ValueError not naming plot_history: The t",
    "plots.plot_history-title":
        "plots.py: plots.plot_history(title=a (2, 3, 4) array): ValueError not naming plot_history: The truth ",
    "plots.plot_activations-names":
        "plots.py: plots.plot_activations(names=NaN): TypeError not naming plot_activations: 'float' object is",
    "plots.plot_activations-negative_slope":
        "plots.py: plots.plot_activations(negative_slope=None): TypeError not naming plot_activations: unsuppo",
    "plots.plot_descent-f":
        "plots.py: plots.plot_descent(f=None): TypeError not naming plot_descent: descent_path: f must be a fu",
    "plots.plot_descent-start":
        "plots.py: plots.plot_descent(start=a string): ValueError not naming plot_descent: could not convert s",
    "plots.plot_descent-optimizer_or_steps":
        "plots.py: plots.plot_descent(optimizer_or_steps=a string): ValueError not naming plot_descent: descen",
    "plots.plot_descent-steps":
        "plots.py: plots.plot_descent(steps=None): ValueError not naming plot_descent: descent_path: steps mus",
    "plots.plot_descent-bounds":
        "plots.py: plots.plot_descent(bounds=a string): ValueError not naming plot_descent: could not convert ",
    "plots.plot_descent-title":
        "plots.py: plots.plot_descent(title=a (2, 3, 4) array): ValueError not naming plot_descent: The truth ",
    "plots.plot_learning_rates-start":
        "plots.py: plots.plot_learning_rates(start=a string): ValueError not naming plot_learning_rates: could",
    "plots.plot_learning_rates-learning_rates":
        "plots.py: plots.plot_learning_rates(learning_rates=a string): AttributeError: 'str' object has no att",
    "plots.plot_learning_rates-steps":
        "plots.py: plots.plot_learning_rates(steps=None): ValueError not naming plot_learning_rates: descent_p",
    "plots.plot_learning_rates-armijo":
        "plots.py: plots.plot_learning_rates(armijo=a (2, 3, 4) array): ValueError not naming plot_learning_ra",
    "plots.plot_learning_rates-sigma":
        "plots.py: plots.plot_learning_rates(sigma=None): TypeError not naming plot_learning_rates: unsupporte",
    "plots.plot_learning_rates-alpha":
        "plots.py: plots.plot_learning_rates(alpha=None): TypeError not naming plot_learning_rates: unsupporte",
    "plots.plot_learning_rates-bounds":
        "plots.py: plots.plot_learning_rates(bounds=a string): ValueError not naming plot_learning_rates: coul",
    "plots.plot_armijo-x":
        "plots.py: plots.plot_armijo(x=a string): ValueError not naming plot_armijo: could not convert string ",
    "plots.plot_armijo-sigma":
        "plots.py: plots.plot_armijo(sigma=None): TypeError not naming plot_armijo: '<' not supported between ",
    "plots.plot_armijo-alpha":
        "plots.py: plots.plot_armijo(alpha=None): TypeError not naming plot_armijo: '<' not supported between ",
    "plots.plot_armijo-initial_step":
        "plots.py: plots.plot_armijo(initial_step=None): ValueError not naming plot_armijo: armijo_step: initi",
    "plots.plot_armijo-max_backtracks":
        "plots.py: plots.plot_armijo(max_backtracks=None): ValueError not naming plot_armijo: armijo_step: max",
    "plots.plot_armijo-t_max":
        "plots.py: plots.plot_armijo(t_max=1e308): RuntimeWarning: overflow encountered in multiply",
    "plots.descent_path-start":
        "plots.py: plots.descent_path(start=a string): ValueError not naming descent_path: could not convert s",
    "plots.descent_path-learning_rate":
        "plots.py: plots.descent_path(learning_rate=1e308): RuntimeWarning: overflow encountered in multiply",
    "plots.plot_derivatives-f":
        "plots.py: plots.plot_derivatives(f=None): TypeError not naming plot_derivatives: 'NoneType' object is",
    "plots.plot_derivatives-title":
        "plots.py: plots.plot_derivatives(title=a (2, 3, 4) array): ValueError not naming plot_derivatives: Th",
    "plots.plot_stationary_points-found":
        "plots.py: plots.plot_stationary_points(found=None): TypeError not naming plot_stationary_points: 'Non",
    "testing.strategies.shapes-min_dims":
        "not fixed yet: testing.strategies.shapes(min_dims=None): InvalidArgument not naming shapes: Expected ",
    "testing.strategies.shapes-max_dims":
        "not fixed yet: testing.strategies.shapes(max_dims=a string): InvalidArgument not naming shapes: Expec",
    "testing.strategies.shapes-min_side":
        "not fixed yet: testing.strategies.shapes(min_side=None): InvalidArgument not naming shapes: Expected ",
    "testing.strategies.shapes-max_side":
        "not fixed yet: testing.strategies.shapes(max_side=a string): InvalidArgument not naming shapes: Expec",
    "testing.strategies.broadcastable_shapes-num_shapes":
        "not fixed yet: testing.strategies.broadcastable_shapes(num_shapes=None): InvalidArgument not naming b",
    "testing.strategies.broadcastable_shapes-min_dims":
        "not fixed yet: testing.strategies.broadcastable_shapes(min_dims=None): InvalidArgument not naming bro",
    "testing.strategies.broadcastable_shapes-max_dims":
        "not fixed yet: testing.strategies.broadcastable_shapes(max_dims=a string): InvalidArgument not naming",
    "testing.strategies.broadcastable_shapes-min_side":
        "not fixed yet: testing.strategies.broadcastable_shapes(min_side=None): InvalidArgument not naming bro",
    "testing.strategies.broadcastable_shapes-max_side":
        "not fixed yet: testing.strategies.broadcastable_shapes(max_side=a string): InvalidArgument not naming",
    "testing.strategies.matmul_shapes-max_batch_dims":
        "not fixed yet: testing.strategies.matmul_shapes(max_batch_dims=a string): InvalidArgument not naming ",
    "testing.strategies.matmul_shapes-min_side":
        "not fixed yet: testing.strategies.matmul_shapes(min_side=None): InvalidArgument not naming matmul_sha",
    "testing.strategies.matmul_shapes-max_side":
        "not fixed yet: testing.strategies.matmul_shapes(max_side=a string): InvalidArgument not naming matmul",
    "testing.strategies.arrays-shape":
        "not fixed yet: testing.strategies.arrays(shape=a string): InvalidArgument not naming arrays: Array sh",
    "testing.strategies.arrays-min_value":
        "not fixed yet: testing.strategies.arrays(min_value=None): TypeError not naming arrays: '<=' not suppo",
    "testing.strategies.arrays-max_value":
        "not fixed yet: testing.strategies.arrays(max_value=None): TypeError not naming arrays: '<=' not suppo",
    "testing.strategies.arrays-avoid":
        "not fixed yet: testing.strategies.arrays(avoid=None): TypeError not naming arrays: 'NoneType' object ",
    "testing.strategies.arrays-margin":
        "not fixed yet: testing.strategies.arrays(margin=None): TypeError not naming arrays: '<' not supported",
    "testing.strategies.arrays_for-shapes_strategy":
        "not fixed yet: testing.strategies.arrays_for(shapes_strategy=None): AttributeError: 'NoneType' object",
    "testing.strategies.values-shape":
        "not fixed yet: testing.strategies.values(shape=a string): InvalidArgument not naming values: Array sh",
    "testing.strategies.values-requires_grad":
        "not fixed yet: testing.strategies.values(requires_grad=None): TypeError not naming values: Value: req",
    "testing.expressions.expressions-extra_ops":
        "not fixed yet: testing.expressions.expressions(extra_ops=None): TypeError not naming expressions: 'No",
    "testing.expressions.expressions-min_nodes":
        "not fixed yet: testing.expressions.expressions(min_nodes=None): TypeError not naming expressions: '<=",
    "testing.expressions.expressions-max_nodes":
        "not fixed yet: testing.expressions.expressions(max_nodes=None): TypeError not naming expressions: '<=",
    "testing.expressions.expressions-max_inputs":
        "not fixed yet: testing.expressions.expressions(max_inputs=None): TypeError not naming expressions: '<",
    "testing.expressions.expressions-only_extra":
        "not fixed yet: testing.expressions.expressions(only_extra=a (2, 3, 4) array): ValueError not naming e",
    "testing.expressions.Expression-inputs":
        "not fixed yet: testing.expressions.Expression(inputs=None): TypeError not naming Expression: object o",
    "testing.expressions.Expression-constants":
        "not fixed yet: testing.expressions.Expression(constants=None): AttributeError: 'NoneType' object has ",
    "testing.expressions.Expression-lines":
        "not fixed yet: testing.expressions.Expression(lines=None): TypeError not naming Expression: can only ",
    "testing.expressions.Expression-custom":
        "not fixed yet: testing.expressions.Expression(custom=None): AttributeError: 'NoneType' object has no ",
    "testing.expressions.OpSpec-domain":
        "not fixed yet: testing.expressions.OpSpec(domain=None): TypeError not naming OpSpec: 'NoneType' objec",
    "demo.xsquared_network-seed":
        "not fixed yet: demo.xsquared_network(seed=a string): TypeError not naming xsquared_network: MLP: the ",
    "demo.newton_network-seed":
        "not fixed yet: demo.newton_network(seed=a string): TypeError not naming newton_network: MLP: the seed",
    "demo.compare_xsquared-samples":
        "not fixed yet: demo.compare_xsquared(samples=None): TypeError not naming compare_xsquared: xsquared: ",
    "demo.compare_xsquared-seed":
        "not fixed yet: demo.compare_xsquared(seed=a string): TypeError not naming compare_xsquared: xsquared:",
    "demo.compare_xsquared-quick":
        "not fixed yet: demo.compare_xsquared(quick=a (2, 3, 4) array): ValueError not naming compare_xsquared",
    "demo.compare_xsquared-methods":
        "not fixed yet: demo.compare_xsquared(methods=NaN): TypeError not naming compare_xsquared: 'float' obj",
    "demo.check_goals-runs":
        "not fixed yet: demo.check_goals(runs=None): TypeError not naming check_goals: 'NoneType' object is no",
    "demo.check_goals-seconds":
        "not fixed yet: demo.check_goals(seconds=a string): TypeError not naming check_goals: '<' not supporte",
    "demo.format_table-runs":
        "not fixed yet: demo.format_table(runs=None): TypeError not naming format_table: 'NoneType' object is ",
    "demo.chain_cost-layers":
        "not fixed yet: demo.chain_cost(layers=None): TypeError not naming chain_cost: 'NoneType' object canno",
    "demo.chain_cost-x":
        "not fixed yet: demo.chain_cost(x=None): TypeError not naming chain_cost: matmul: cannot use ndarray a",
    "demo.chain_cost-seed":
        "not fixed yet: demo.chain_cost(seed=None): TypeError not naming chain_cost: unsupported operand type(",
    "demo.write_artefacts-runs":
        "not fixed yet: demo.write_artefacts(runs=None): TypeError not naming write_artefacts: 'NoneType' obje",
    "demo.write_artefacts-folder":
        "not fixed yet: demo.write_artefacts(folder=None): TypeError not naming write_artefacts: expected str,",
    "demo.run_demo-output":
        "not fixed yet: demo.run_demo(output=None): TypeError not naming run_demo: expected str, bytes or os.P",
    "demo.run_demo-seed":
        "not fixed yet: demo.run_demo(seed=a string): TypeError not naming run_demo: xsquared: the seed must b",
    "demo.run_demo-quick":
        "not fixed yet: demo.run_demo(quick=a (2, 3, 4) array): ValueError not naming run_demo: The truth valu",
    "demo.run_demo-stream":
        "not fixed yet: demo.run_demo(stream=a string): AttributeError: 'str' object has no attribute 'write'",
    "cli.main-argv": "not fixed yet: cli.main(argv=NaN): TypeError not naming main: 'float' object is not iterable",
    "cli.whole_number-minimum":
        "not fixed yet: cli.whole_number(minimum=None): TypeError not naming whole_number: '<' not supported b",
    "cli.output_folder-text":
        "not fixed yet: cli.output_folder(text=None): ArgumentTypeError: the folder name is empty",
}


# --- the fuzzer -------------------------------------------------------------------------------------------------
def fuzzed_parameters(case: Case) -> list[inspect.Parameter]:
    """The parameters of the callable (of ``__init__`` where a class's ``__new__`` hides them)."""
    signature = inspect.signature(case.target)
    parameters = list(signature.parameters.values())
    if inspect.isclass(case.target) and all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters):
        parameters = list(inspect.signature(case.target.__init__).parameters.values())[1:]
    return [p for p in parameters if p.kind != p.VAR_KEYWORD]


def call(case: Case, arguments: dict[str, Any]) -> Any:
    """Call the case's target with ``arguments`` (``*`` holds the positional ones of ``*args``)."""
    positional, keywords = [], dict(arguments)
    for parameter in fuzzed_parameters(case):
        if parameter.kind == parameter.VAR_POSITIONAL:
            positional += list(keywords.pop("*", []))
        elif parameter.kind == parameter.POSITIONAL_ONLY or (positional and parameter.name in keywords):
            positional.append(keywords.pop(parameter.name))
    result = case.target(*positional, **keywords)
    if case.then is not None:
        case.then(result)
    return result


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def stop(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {seconds} s")
    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def outcome(case: Case, arguments: dict[str, Any]) -> str | None:
    """None if the call worked or failed well; else what went wrong."""
    names = case.names or (case.target.__name__,)
    try:
        with warnings.catch_warnings(), time_limit(SECONDS_PER_CALL):
            warnings.simplefilter("error")
            call(case, arguments)
    except Accepted:
        return None
    except (TypeError, ValueError, *case.errors) as error:
        if not any(name in str(error) for name in names):
            return f"{type(error).__name__} not naming {' or '.join(names)}: {str(error)[:300]}"
    except BaseException as error:  # noqa: BLE001 (any other exception is the finding)
        if isinstance(error, KeyboardInterrupt):
            raise
        return f"{type(error).__name__}: {str(error)[:300]}"
    finally:
        import matplotlib.pyplot as plt
        plt.close("all")
    return None


def parameter_cases() -> Iterator[Any]:
    for case in CASES:
        for parameter in fuzzed_parameters(case):
            key = f"{case.qualname}-{parameter.name}"
            marks = [pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[key])] if key in KNOWN_FAILURES else []
            yield pytest.param(case, parameter.name, id=key, marks=marks)


@pytest.fixture(autouse=True)
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Work in tmp_path, with no network and no real downloads: sockets refuse, MNIST 'downloads' are local files,
    ``cli.main(None)`` reads a harmless sys.argv, and training in the demo stops as soon as it would begin."""
    monkeypatch.chdir(tmp_path)

    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the misuse fuzzer must not touch the network")
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setenv(data.MNIST_URL_ENV, mnist_folder(tmp_path).as_uri())
    monkeypatch.setattr(sys, "argv", ["tinygrad-edu", "--version"])
    yield


def accept_training(*args: Any, **kwargs: Any) -> None:
    raise Accepted


@pytest.mark.parametrize(("case", "name"), list(parameter_cases()))
def test_wrong_arguments_fail_by_name(case: Case, name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if case.target in (demo.compare_xsquared, demo.run_demo):
        monkeypatch.setattr(demo, "fit", accept_training)  # the arguments were checked; training is not fuzzed
    good = case.good(tmp_path)
    assert outcome(case, good) is None, f"the good call {case.qualname}(**{good}) must work"
    failures = []
    for label, wrong in WRONG.items():
        arguments = case.good(tmp_path)
        key = "*" if fuzzed_parameters(case)[[p.name for p in fuzzed_parameters(case)].index(name)].kind == \
            inspect.Parameter.VAR_POSITIONAL else name
        arguments[key] = [wrong] if key == "*" else wrong
        problem = outcome(case, arguments)
        if problem is not None:
            failures.append(f"{case.qualname}({name}={label}): {problem}")
    assert not failures, "\n".join(failures)


def test_every_public_callable_is_in_the_table() -> None:
    modules = [tinygrad_edu, engine, ops, seeds, files, functional, autodiff, nn, serialization, losses, optim,
               calculus, training, data, viz, dependency_tree, player, graph, notation, plots, testing, strategies,
               expressions, demo, cli]
    covered = {case.target for case in CASES}
    missing = [f"{module.__name__}.{name}" for module in modules for name in module.__all__
               if callable(thing := getattr(module, name)) and not inspect.ismodule(thing)
               and not (inspect.isclass(thing) and issubclass(thing, BaseException)) and thing not in covered]
    assert not missing, f"add these to CASES: {missing}"
