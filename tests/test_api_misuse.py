"""A misuse fuzzer over the public API: every public function and class of every module, called with wrong arguments
of every kind, one argument at a time.

For each callable the table below gives one good call (the arguments a user would pass); ``inspect.signature`` says
which arguments there are, and each in turn is replaced by every value of :data:`WRONG` while the others stay good.
Every such call must either work or fail with a ``TypeError``/``ValueError`` (or the module's documented error, such
as ``FileNotFoundError`` for a missing file) whose message names the function or class called.  Warnings are errors,
so a leaked numpy or matplotlib warning fails (except numpy's own from the element-wise functions, which the engine
keeps on purpose); a call that takes longer than :data:`SECONDS_PER_CALL` fails as a hang.
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
import shutil
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
#: The engine follows numpy's warnings and errstate on purpose (log(−1) is NaN with numpy's RuntimeWarning), so
#: for its element-wise functions such a warning is the documented behaviour, not a leak.
NUMPY_WARNINGS = (RuntimeWarning,)


class Hang(BaseException):
    """A call ran longer than SECONDS_PER_CALL (a BaseException, so that no ``except Exception`` swallows it)."""


class Accepted(BaseException):
    """Raised by a stand-in for expensive work (training): the arguments were accepted, which counts as working."""


@dataclass
class Case:
    """One public callable: ``good(tmp_path)`` gives the keyword arguments of a call that works (``*`` the
    positional ones of ``*args``); ``then`` uses the result (a lazy function whose errors come later);
    ``errors`` are the documented error types besides TypeError/ValueError; ``names`` what a message may name;
    ``warns`` the warnings that are documented behaviour; ``fuzzed=False``: only the good call is made."""

    target: Callable[..., Any]
    good: Callable[[Path], dict[str, Any]] = lambda tmp: {}
    then: Callable[[Any], Any] | None = None
    errors: tuple[type[BaseException], ...] = ()
    names: tuple[str, ...] = ()
    warns: tuple[type[Warning], ...] = ()
    fuzzed: bool = True

    @property
    def qualname(self) -> str:
        return f"{self.target.__module__.removeprefix('tinygrad_edu.')}.{self.target.__qualname__}"


# --- small things the good calls are made of --------------------------------------------------------------------
def write_through(replacing: Any) -> None:
    """Use what ``files.replacing`` returns: write a byte to the temporary file it names."""
    with replacing as temporary, open(temporary, "xb") as file:
        file.write(b"x")


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
    grad_mode,
    graph,
    losses,
    notation,
    ops,
    optim,
    optim_state,
    player,
    plots,
    seeds,
    serialization,
    testing,
    training,
    viz,
    write_instead,
)
from tinygrad_edu.testing import expressions, strategies  # noqa: E402


def pytorch_like_cost() -> Any:
    """A stand-in for ``partial(torch.nn.functional.huber_loss, delta=0.5)`` (no PyTorch needed): a function of that
    name and signature whose module is torch's."""
    def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Any:
        raise AssertionError("not called")

    huber_loss.__module__ = "torch.nn.functional"
    return functools.partial(huber_loss, delta=0.5)


def x_value(tmp: Path) -> dict[str, Any]:
    return {"x": Value(np.array([0.25, 0.5, 2.0]))}


def enter_and_leave(context: Any) -> None:
    """Use a context manager (``no_grad()``, ``enable_grad()``): entering alone would change recording for every
    later call."""
    with context:
        pass


def a_function_and_start(tmp: Path) -> dict[str, Any]:
    return {"f": quadratic, "start": np.array([1.0, -1.0])}


def draw_strategy(strategy: Any) -> Any:
    """One example of a hypothesis strategy, deterministically (its arguments are checked when it is drawn from)."""
    from hypothesis import HealthCheck, Phase, find, settings
    return find(strategy, lambda _: True, settings=settings(database=None, derandomize=True, phases=[Phase.generate],
                                                            suppress_health_check=list(HealthCheck)))


def stepped_adam() -> optim.Adam:
    """An Adam optimizer after one step: it has settings and a parameter's state to save."""
    x = Value([1.0, 2.0])
    adam = optim.Adam([x])
    adam.step(lambda: quadratic(x))
    return adam


def kept_values(tmp: Path) -> dict[str, Any]:
    cost = chain_cost()
    kept, total = graph.nearest_values(cost)
    return {"kept": kept, "total": total, "names": player.display_names(kept)}


CASES = [
    # engine and ops
    Case(engine.Value, lambda tmp: {"data": [1.0, 2.0], "label": "x"}),
    # apply's inputs are the op's: an error about them names the op ("double"); 2 · 1e308 overflows, as numpy warns
    Case(engine.apply, lambda tmp: {"op": double_op(), "*": [Value(1.0)]}, names=("apply", "double"),
         warns=NUMPY_WARNINGS),
    Case(engine.no_grad, then=enter_and_leave),
    Case(engine.enable_grad, then=enter_and_leave),
    Case(engine.is_grad_enabled),
    Case(engine.is_anomaly_enabled),
    Case(engine.detect_anomaly),
    Case(engine.backward_order, lambda tmp: {"output": chain_cost()}),
    Case(engine.backward_reach, lambda tmp: (lambda x: {"output": x * x, "inputs": [x]})(Value(2.0))),
    Case(engine.local_gradients, lambda tmp: {"node": chain_cost(), "upstream": np.array(1.0)}),
    Case(engine.held_by_a_walk, lambda tmp: {"array": np.ones(2)}),
    Case(ops.Op, lambda tmp: {"name": "double", "forward": lambda x: 2 * x, "vjps": lambda g, out, x: 2 * g}),
    Case(seeds.generator, lambda tmp: {"seed": 0, "where": "somewhere"}, names=("somewhere", "generator")),
    Case(seeds.second_stream, lambda tmp: {"seed": 0, "where": "somewhere"}, names=("somewhere", "second_stream")),
    Case(files.checked_path, lambda tmp: {"path": str(tmp / "f"), "operation": "reading"}, names=("reading",)),
    Case(files.open_regular_file, lambda tmp: {"path": str(model_file(tmp)), "operation": "reading"},
         then=lambda file: file.close(), errors=(FileNotFoundError,), names=("reading",)),
    Case(files.write_text, lambda tmp: {"path": str(tmp / "f.txt"), "text": "x", "operation": "writing"},
         errors=(OSError,), names=("writing",)),
    Case(files.decoded_text, lambda tmp: {"data": b"\xef\xbb\xbf0.5"}),
    Case(files.home_advice, lambda tmp: {"path": "~/model.npz"}, names=("home_advice",)),
    Case(files.replacing, lambda tmp: {"path": str(tmp / "f.bin"), "operation": "writing"}, then=write_through,
         errors=(OSError,), names=("writing",)),
    # functions and layers
    *[Case(getattr(functional, name), x_value, warns=NUMPY_WARNINGS) for name in
      ("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "softplus", "identity")],
    Case(functional.leaky_relu, lambda tmp: {**x_value(tmp), "negative_slope": 0.1}, warns=NUMPY_WARNINGS),
    Case(functional.softmax, lambda tmp: {"x": Value(np.ones((2, 3))), "axis": -1}, warns=NUMPY_WARNINGS),
    Case(functional.log_softmax, lambda tmp: {"x": Value(np.ones((2, 3))), "axis": -1}, warns=NUMPY_WARNINGS),
    Case(functional.concatenate, lambda tmp: {"values": [Value([1.0]), Value([2.0, 3.0])], "axis": 0}),
    Case(functional.stack, lambda tmp: {"values": [Value([1.0]), Value([2.0])], "axis": 0}),
    Case(functional.maximum, lambda tmp: {"a": Value([1.0, 3.0]), "b": Value([2.0, 2.0])}),
    Case(functional.where, lambda tmp: {"condition": [True, False], "a": Value([1.0, 2.0]), "b": Value([3.0, 4.0])}),
    Case(autodiff.grad, lambda tmp: {"f": quadratic, "argnums": 0}, then=lambda g: g(np.array([1.0, 2.0]))),
    Case(autodiff.value_and_grad, lambda tmp: {"f": quadratic, "argnums": 0}, then=lambda g: g(np.array([1.0]))),
    Case(autodiff.jacobian, lambda tmp: {"f": lambda x: x * 2.0, "argnums": 0}, then=lambda j: j(np.ones(2))),
    Case(autodiff.hessian, lambda tmp: {"f": quadratic, "argnums": 0}, then=lambda h: h(np.ones(2))),
    Case(autodiff.hvp, lambda tmp: {"f": quadratic, "x": np.ones(2), "v": np.array([1.0, 0.0])}),
    Case(autodiff.gradients, lambda tmp: (lambda x: {"output": quadratic(x), "inputs": [x]})(Value([1.0, 2.0])),
         warns=NUMPY_WARNINGS),  # grad_output=1e308: 2 · 1e308 overflows, with numpy's warning
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
    Case(losses.pytorch_cost_advice, lambda tmp: {"name": "HuberLoss"}),
    Case(write_instead.cost_function, lambda tmp: {"name": "HuberLoss", "given": pytorch_like_cost()}),
    Case(write_instead.pytorch_cost_refusal,
         lambda tmp: {"cost": pytorch_like_cost(), "fallback": losses.pytorch_cost_advice}),
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
    Case(optim.checked_learning_rate, lambda tmp: {"value": 0.1, "name": "eta", "where": "stepping"},
         names=("stepping", "eta")),
    Case(optim.cost_with_gradient, lambda tmp: (lambda x: {"closure": lambda: quadratic(x), "params": [x],
                                                           "where": "stepping"})(Value([1.0, 2.0])),
         names=("stepping",)),
    Case(optim.gradient_norm, lambda tmp: {"params": [Value(1.0)]}),
    Case(optim_state.state_dict, lambda tmp: {"optimizer": stepped_adam()}),
    Case(optim_state.load_state_dict,
         lambda tmp: (lambda adam: {"optimizer": adam, "state": adam.state_dict()})(stepped_adam())),
    Case(calculus.StationaryPoint, lambda tmp: vars(calculus.stationary_point(quadratic, [1.0]))),
    Case(calculus.stationary_point, a_function_and_start),
    Case(calculus.classify_stationary_point, lambda tmp: {"eigenvalues": [1.0, 2.0]}),
    Case(training.History),
    Case(training.History.concatenate, lambda tmp: {"pieces": [sample_history(), sample_history()]}),
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
    Case(viz.Drawing, fuzzed=False),  # graphviz's own constructor, with graphviz's own messages
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
    Case(dependency_tree.built_in_op, lambda tmp: {"node": chain_cost()}),
    Case(dependency_tree.has_layers, lambda tmp: {"cost": chain_cost()}),
    Case(dependency_tree.unrecorded_product, lambda tmp: {"tree": dependency_tree.dependency_tree(chain_cost()),
                                                          "name": "z^1"}),
    Case(player.Step, lambda tmp: {"phase": "forward", "node": 0, "title": "t", "html": "<p>"}),
    Case(player.BackpropPlayer, lambda tmp: {"steps": [player.Step("forward", 0, "t", "<p>")],
                                             "drawing_svg": None}),
    Case(player.backprop_steps, lambda tmp: (lambda kept: {"output": kept["kept"][0], **kept})(kept_values(tmp))),
    Case(player.tree_steps, lambda tmp: (lambda cost: {"cost": cost, "tree": dependency_tree.dependency_tree(cost)})(
        chain_cost())),
    Case(player.display_names, lambda tmp: {"kept": kept_values(tmp)["kept"]}),
    Case(player.pass_gradients, lambda tmp: {"output": chain_cost()}),
    Case(player.reading_order, lambda tmp: {"output": chain_cost()}),
    Case(player.check_drawn, lambda tmp: (lambda kept: {"output": kept["kept"][0], **kept, "where": "check_drawn"})(
        kept_values(tmp))),
    Case(player.local_formula, lambda tmp: {"node": chain_cost(), "i": 0, "names": ["α", "y"]}),
    Case(player.forward_formula, lambda tmp: {"node": chain_cost(), "names": ["α", "y"]}),
    Case(graph.nearest_values, lambda tmp: {"root": chain_cost(), "limit": 3}),
    Case(graph.ancestors, lambda tmp: (lambda cost: {"starts": cost, "allowed": {id(cost)}, "stop": set()})(
        chain_cost())),
    Case(notation.format_number, lambda tmp: {"x": 0.5}),
    Case(notation.summary, lambda tmp: {"array": [1.0, 2.0]}),
    Case(notation.value_summary, lambda tmp: {"array": [1.0, 2.0]}),
    Case(notation.array_line, lambda tmp: {"array": np.array([1.0, 2.0])}),
    Case(notation.param_text, lambda tmp: {"value": (slice(None), np.array([0, 2]))}),
    Case(notation.shortened, lambda tmp: {"text": "abc", "limit": 2}),
    Case(notation.left_to_right, lambda tmp: {"text": "abc"}),
    Case(notation.numbers_of, lambda tmp: {"array": [1.0, 2.0]}),
    Case(notation.smallest_normal, lambda tmp: {"array": np.ones(2, dtype=np.float32)}),
    Case(notation.pretty, lambda tmp: {"label": "α^2"}),
    Case(notation.indexed, lambda tmp: {"text": "∂C/∂w_3"}),
    Case(notation.operand, lambda tmp: {"name": "-0.5"}),
    Case(notation.exponent, lambda tmp: {"name": "z²"}),
    Case(notation.printable, lambda tmp: {"text": "α"}),
    Case(notation.left_out_note, lambda tmp: {"shown": 1, "total": 2}),
    Case(plots.plot_history, lambda tmp: {"history": sample_history()}),
    Case(plots.plot_activations, lambda tmp: {"names": ["relu"]}),
    Case(plots.plot_descent, lambda tmp: {**a_function_and_start(tmp), "steps": 3, "resolution": 10, "levels": 3,
                                          "parameter_names": ("w", "b")}),
    Case(plots.plot_learning_rates, lambda tmp: {**a_function_and_start(tmp), "steps": 3, "resolution": 10}),
    Case(plots.plot_armijo, lambda tmp: {"f": quadratic, "x": np.array([1.0, -1.0])}),
    Case(plots.descent_path, lambda tmp: {**a_function_and_start(tmp), "steps": 3}),
    Case(plots.plot_derivatives, lambda tmp: {"f": lambda x: x * x, "order": 2, "points": 11}),
    Case(plots.plot_stationary_points, lambda tmp: {"f": quadratic, "resolution": 10, "levels": 3,
                                                    "parameter_names": ["w", "b"],
                                                    "found": [calculus.stationary_point(quadratic, [1.0, -1.0])]}),
    Case(testing.numerical_gradient, lambda tmp: {"f": quadratic, "*": [np.array([1.0, 2.0])]}),
    Case(testing.check_gradients, lambda tmp: {"f": quadratic, "*": [np.array([1.0, 2.0])]}),
    Case(testing.GradientReport, lambda tmp: vars(testing.check_gradients(quadratic, np.array([1.0])))),
    Case(strategies.shapes, then=draw_strategy),
    Case(strategies.broadcastable_shapes, then=draw_strategy),
    Case(strategies.matmul_shapes, then=draw_strategy),
    Case(strategies.arrays, lambda tmp: {"shape": (2,)}, then=draw_strategy),
    Case(strategies.arrays_for, lambda tmp: {"shapes_strategy": strategies.broadcastable_shapes(2)},
         then=draw_strategy),
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


# --- the fuzzer -------------------------------------------------------------------------------------------------
def fuzzed_parameters(case: Case) -> list[inspect.Parameter]:
    """The parameters of the callable (of ``__init__`` where a class's ``__new__`` hides them)."""
    signature = inspect.signature(case.target)
    parameters = list(signature.parameters.values())
    if inspect.isclass(case.target) and all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in parameters):
        parameters = list(inspect.signature(case.target.__init__).parameters.values())[1:]
    return [p for p in parameters if p.kind != p.VAR_KEYWORD]


def call(case: Case, arguments: dict[str, Any]) -> Any:
    """Call the case's target with ``arguments`` (``*`` holds the positional ones of ``*args``; the parameters
    before ``*args`` are then given by position too, as ``apply(op, x)`` is called)."""
    positional, keywords = [], dict(arguments)
    parameters = fuzzed_parameters(case)
    starred = "*" in keywords and any(p.kind == p.VAR_POSITIONAL for p in parameters)
    for parameter in parameters:
        if parameter.kind == parameter.VAR_POSITIONAL:
            positional += list(keywords.pop("*", []))
            starred = False
        elif parameter.name in keywords and (parameter.kind == parameter.POSITIONAL_ONLY or starred):
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


def outcome(case: Case, arguments: dict[str, Any], must_work: bool = False) -> str | None:
    """None if the call worked or failed well (``must_work``: if it worked); else what went wrong."""
    names = case.names or (case.target.__name__,)
    try:
        with warnings.catch_warnings(), time_limit(SECONDS_PER_CALL):
            warnings.simplefilter("error")
            for warning in case.warns:
                warnings.simplefilter("ignore", warning)
            call(case, arguments)
    except Accepted:
        return None
    except (TypeError, ValueError, *case.errors) as error:
        if must_work:
            return f"{type(error).__name__}: {str(error)[:300]}"
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
        for parameter in fuzzed_parameters(case) if case.fuzzed else []:
            yield pytest.param(case, parameter.name, id=f"{case.qualname}-{parameter.name}")


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
    if case.target is viz.render and shutil.which("dot") is None:
        pytest.skip("viz.render's good call draws with Graphviz's dot program, which is not installed")
    good = case.good(tmp_path)
    problem = outcome(case, good, must_work=True)
    assert problem is None, f"the good call {case.qualname}(**{good}) must work: {problem}"
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
    modules = [tinygrad_edu, engine, grad_mode, ops, seeds, files, functional, autodiff, nn, serialization, losses,
               optim, optim_state, calculus, training, data, viz, dependency_tree, player, graph, notation, plots,
               testing, strategies, expressions, demo, cli]
    covered = {case.target for case in CASES}
    missing = [f"{module.__name__}.{name}" for module in modules for name in module.__all__
               if callable(thing := getattr(module, name)) and not inspect.ismodule(thing)
               and not (inspect.isclass(thing) and issubclass(thing, BaseException)) and thing not in covered]
    assert not missing, f"add these to CASES: {missing}"
