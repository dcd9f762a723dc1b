"""Return types, audited: every public function and method (each module's ``__all__``) called with typical arguments,
and what it returns held to its type hint (``typing.get_type_hints``), strictly: a ``float`` is a Python float, not
an ``np.float64`` (json.dumps fails on np.float32, numpy 2's repr shows ``np.float64(…)``), an ``int`` a Python int
(not a bool or an ``np.int64``), a list a list and a tuple a tuple, element by element; the fields of what comes back
(dataclasses, NamedTuples: History, GradientReport, ArmijoStep, Run, StationaryPoint, …) are held to their own hints.

A function added to a module's ``__all__`` fails :func:`test_every_public_function_is_walked` until it is given a
typical call in :func:`_calls` (or a reason in :data:`NOT_CALLED`); then its result is checked as the others are.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import importlib
import inspect
import io
import json
import struct
import sys
import types
import typing
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import Value, data, losses, nn, optim

MODULES = ["tinygrad_edu", "tinygrad_edu.engine", "tinygrad_edu.grad_mode", "tinygrad_edu.autodiff",
           "tinygrad_edu.calculus", "tinygrad_edu.checks", "tinygrad_edu.cli", "tinygrad_edu.data", "tinygrad_edu.demo",
           "tinygrad_edu.dependency_tree", "tinygrad_edu.files", "tinygrad_edu.functional", "tinygrad_edu.graph",
           "tinygrad_edu.losses", "tinygrad_edu.nn", "tinygrad_edu.notation", "tinygrad_edu.optim",
           "tinygrad_edu.optim_state", "tinygrad_edu.player", "tinygrad_edu.plots", "tinygrad_edu.seeds",
           "tinygrad_edu.serialization", "tinygrad_edu.training", "tinygrad_edu.viz", "tinygrad_edu.testing",
           "tinygrad_edu.testing.expressions", "tinygrad_edu.testing.strategies"]


# --- the strict check of a value against a hint ---------------------------------------------------------------
def _hints(obj: Any) -> dict[str, Any]:
    """``typing.get_type_hints``, with matplotlib's Figure and Axes (plots imports them for type checkers only)."""
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    return typing.get_type_hints(obj, localns={"Figure": Figure, "Axes": Axes})


def _mismatch(value: Any, hint: Any, where: str = "result") -> str | None:
    """None when ``value`` is of type ``hint`` (strictly: see the module's docstring), else what is wrong."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any or isinstance(hint, typing.TypeVar):
        return None
    if hint is None or hint is type(None):
        return None if value is None else f"{where}: {type(value).__name__} {value!r:.60}, not None"
    if origin in (typing.Union, types.UnionType):
        problems = [_mismatch(value, arg, where) for arg in args]
        return None if None in problems else f"{where}: {type(value).__name__} {value!r:.60}, not {hint}"
    if hint is typing.BinaryIO:  # (no class: a file opened in binary mode)
        return None if isinstance(value, io.BufferedIOBase) else f"{where}: {type(value).__name__}, not a binary file"
    if hint in (float, int, bool, str):  # exactly: np.float64 is a float subclass, bool an int one
        return None if type(value) is hint else f"{where}: {type(value).__name__} {value!r:.60}, not {hint.__name__}"
    if origin is list:
        if type(value) is not list:
            return f"{where}: {type(value).__name__}, not a list"
        return next(filter(None, (_mismatch(v, args[0], f"{where}[{i}]") for i, v in enumerate(value))), None)
    if origin is tuple:
        if not isinstance(value, tuple):
            return f"{where}: {type(value).__name__}, not a tuple"
        if len(args) == 2 and args[1] is Ellipsis:
            args = (args[0],) * len(value)
        elif len(args) != len(value):
            return f"{where}: a tuple of {len(value)}, not of {len(args)}"
        problems = (_mismatch(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=True)))
        return next(filter(None, problems), None) or _fields_mismatch(value, where)
    if origin is dict:
        if type(value) is not dict:
            return f"{where}: {type(value).__name__}, not a dict"
        problems = (_mismatch(k, args[0], f"{where} key") or _mismatch(v, args[1], f"{where}[{k!r}]")
                    for k, v in value.items())
        return next(filter(None, problems), None)
    if origin is collections.abc.Iterator:
        if not isinstance(value, collections.abc.Iterator):
            return f"{where}: {type(value).__name__}, not an iterator"
        return next(filter(None, (_mismatch(v, args[0], f"{where} item") for v in value)), None)
    if origin is collections.abc.Callable:
        return None if callable(value) else f"{where}: {type(value).__name__}, not callable"
    if origin is not None:  # SearchStrategy[...], type[...]: the class alone
        hint = origin
    if not isinstance(value, hint):
        return f"{where}: {type(value).__name__} {value!r:.60}, not {getattr(hint, '__name__', hint)}"
    return _fields_mismatch(value, where)


def _fields_mismatch(value: Any, where: str) -> str | None:
    """A dataclass's or NamedTuple's fields against their own hints."""
    cls = type(value)
    if dataclasses.is_dataclass(value):
        names = [field.name for field in dataclasses.fields(value)]
    elif isinstance(value, tuple) and hasattr(cls, "_fields"):
        names = list(cls._fields)
    else:
        return None
    hints = _hints(cls)
    problems = (_mismatch(getattr(value, name), hints[name], f"{where}.{name}") for name in names if name in hints)
    return next(filter(None, problems), None)


@dataclasses.dataclass(frozen=True)
class Documented:
    """The type a docstring gives a result whose function has no return hint (the transforms of autodiff)."""

    hint: Any


def _checked(function: Callable[..., Any] | Documented, result: Any) -> str | None:
    hint = function.hint if isinstance(function, Documented) else _hints(function)["return"]
    return _mismatch(result, hint)


# --- typical calls ------------------------------------------------------------------------------------------
def _chain() -> tuple[nn.MLP, Value]:
    """A 1-1-1 chain network's cost at one sample, backpropagated (the seed's dependency tree)."""
    model = nn.MLP([1, 1, 1], rng=0)
    cost = losses.squared_error(model(Value(np.array([[0.5]]), requires_grad=False)), np.array([[0.25]]))
    cost.backward()
    return model, cost


def _trained(optimizer: str = "armijo", **settings: Any) -> tuple[nn.MLP, optim.Optimizer, tinygrad_edu.History]:
    x, y = data.xsquared(20, seed=0)
    model = nn.MLP([1, 3, 1], rng=0)
    opt = optim.OPTIMIZERS[optimizer](model.parameters(), **settings) if optimizer != "newton" else \
        optim.Newton(model.parameters())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = tinygrad_edu.fit(model, x, y, optimizer=opt, episodes=2, progress=False)
    return model, opt, history


def _entered(manager: Any) -> Any:
    """What a context manager yields (``checks.naming_the_file``: None)."""
    with manager as given:
        return given


def _replaced(replacing: Callable[..., Any], path: Path) -> Any:
    """The temporary file name ``files.replacing`` yields, written to as its body must."""
    with replacing(path, "f") as name:
        Path(name).write_text("hello")
    return name


def _closed(file: Any) -> Any:
    file.close()  # (still the same object, of the same type)
    return file


def _quadratic(p: Any) -> Value:
    return (p * p).sum() + p[0] * p[1]


def _pytorch_like_cost() -> Any:
    """A stand-in for ``torch.nn.functional.mse_loss`` (no PyTorch needed): a function of that name whose module is
    torch's."""
    def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Any:
        raise AssertionError("not called")

    mse_loss.__module__ = "torch.nn.functional"
    return mse_loss


def _calls(tmp: Path) -> dict[str, Callable[[], Any]]:
    """``module.name`` (or ``module.Class.method``) → a typical call, which returns (the function, its result)."""
    from tinygrad_edu import (
        autodiff,
        calculus,
        checks,
        cli,
        demo,
        dependency_tree,
        engine,
        files,
        functional,
        graph,
        notation,
        optim_state,
        player,
        plots,
        seeds,
        serialization,
        testing,
        viz,
        write_instead,
    )
    from tinygrad_edu.testing import expressions, strategies

    def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[], tuple[Any, Any]]:
        return lambda: (function, function(*args, **kwargs))

    def on(make: Callable[[], Any], method: str, *args: Any) -> Callable[[], tuple[Any, Any]]:
        def run() -> tuple[Any, Any]:
            obj = make()
            unbound = inspect.getattr_static(obj, method)
            function = unbound.fget if isinstance(unbound, property) else getattr(unbound, "__func__", unbound)
            return function, getattr(obj, method) if isinstance(unbound, property) else getattr(obj, method)(*args)
        return run

    x = np.array([1.0, 2.0])
    v = lambda: Value(np.array([1.0, -2.0, 3.0]))  # noqa: E731
    cost = lambda: _chain()[1]  # noqa: E731
    model = lambda: _chain()[0]  # noqa: E731
    tree = lambda: dependency_tree.dependency_tree(cost())  # noqa: E731
    kept = lambda: graph.nearest_values(cost())  # noqa: E731
    saved = tmp / "model.npz"
    nn.MLP([1, 2, 1], rng=0).save(saved)
    mnist = tmp / "mnist"
    mnist.mkdir()
    images = bytes([0, 0, 8, 3]) + struct.pack(">III", 4, 2, 2) + bytes(range(0, 255, 16))  # 4 images of 2 × 2
    labels = bytes([0, 0, 8, 1]) + struct.pack(">I", 4) + bytes([0, 3, 9, 1])
    for stem, content in zip(data.MNIST_FILES["test"], (images, labels), strict=True):
        (mnist / stem).write_bytes(content)
    runs = lambda: demo.compare_xsquared(samples=40, quick=True)  # noqa: E731
    expression = expressions.Expression((np.array([0.5, 1.5]),), {}, ("v1 = x0 * x0", "v2 = v1.sum()"))

    def names_of(output: Value) -> tuple[Value, list[Value], int, dict[int, str]]:
        shown, total = graph.nearest_values(output)
        return output, shown, total, player.display_names(shown)

    calls: dict[str, Callable[[], tuple[Any, Any]]] = {
        # engine and Value
        "tinygrad_edu.engine.apply": call(engine.apply, functional.ops.exp, Value(1.0)),
        "tinygrad_edu.grad_mode.is_grad_enabled": call(engine.is_grad_enabled),
        "tinygrad_edu.grad_mode.is_anomaly_enabled": call(engine.is_anomaly_enabled),
        "tinygrad_edu.engine.backward_order": lambda: (engine.backward_order, engine.backward_order(cost())),
        "tinygrad_edu.engine.backward_reach": lambda: (engine.backward_reach, engine.backward_reach(
            *(lambda x: (x * x, [x]))(Value(2.0)))),
        "tinygrad_edu.engine.local_gradients": lambda: (engine.local_gradients, engine.local_gradients(
            Value(0.5) * Value(2.0, requires_grad=False), 1.0)),
        "tinygrad_edu.engine.held_by_a_walk": call(engine.held_by_a_walk, np.ones(2)),
        **{f"tinygrad_edu.engine.Value.{name}": on(v, name) for name in
           ("shape", "ndim", "size", "dtype", "op", "op_params", "parents", "numpy", "detach", "__len__", "T")},
        "tinygrad_edu.engine.Value.item": on(lambda: Value(np.float32(2.5)), "item"),
        "tinygrad_edu.engine.Value.__float__": on(lambda: Value(np.float32(2.5)), "__float__"),
        "tinygrad_edu.engine.Value.__int__": on(lambda: Value(np.float32(2.5)), "__int__"),
        "tinygrad_edu.engine.Value.__round__": on(lambda: Value(np.float32(2.5)), "__round__"),
        "tinygrad_edu.engine.Value.astype": on(v, "astype", np.float32),
        "tinygrad_edu.engine.Value.__iter__": on(v, "__iter__"),
        **{f"tinygrad_edu.engine.Value.{name}": on(lambda: Value(3.0), name, 2.0)
           for name in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__")},
        **{f"tinygrad_edu.engine.Value.{name}[array]": on(v, name, 2.0)
           for name in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__")},
        # autodiff, calculus
        "tinygrad_edu.autodiff.grad": call(autodiff.grad, _quadratic),
        "tinygrad_edu.autodiff.grad()": lambda: (Documented(Value), autodiff.grad(_quadratic)(x)),
        "tinygrad_edu.autodiff.value_and_grad": call(autodiff.value_and_grad, _quadratic),
        "tinygrad_edu.autodiff.value_and_grad()": lambda: (Documented(tuple[Value, Value]),
                                                           autodiff.value_and_grad(_quadratic)(x)),
        "tinygrad_edu.autodiff.jacobian": call(autodiff.jacobian, lambda p: p * p),
        "tinygrad_edu.autodiff.hessian": call(autodiff.hessian, _quadratic),
        "tinygrad_edu.autodiff.hvp": call(autodiff.hvp, _quadratic, x, np.array([1.0, 0.0])),
        "tinygrad_edu.autodiff.gradients": lambda: (lambda w: (autodiff.gradients, autodiff.gradients(w * w, [w])))(
            Value(2.0)),
        "tinygrad_edu.autodiff.gradient_and_hessian": lambda: (lambda w: (
            autodiff.gradient_and_hessian, autodiff.gradient_and_hessian(_quadratic(w), [w])))(
            Value(np.array([1.0, 2.0], dtype=np.float32))),
        "tinygrad_edu.calculus.stationary_point": call(calculus.stationary_point, _quadratic,
                                                       np.array([1.0, 2.0], dtype=np.float32)),
        "tinygrad_edu.calculus.stationary_point[not converged]": call(
            calculus.stationary_point, lambda p: (p ** 4).sum() - p[0], np.array([3.0, 1.0]), max_iterations=2),
        "tinygrad_edu.calculus.classify_stationary_point": call(calculus.classify_stationary_point,
                                                                np.array([1.0, -1.0], dtype=np.float32)),
        # checks
        "tinygrad_edu.checks.flag": call(checks.flag, np.True_, "x", "f"),
        "tinygrad_edu.checks.integer": call(checks.integer, np.int64(3), "n", "f"),
        "tinygrad_edu.checks.number": call(checks.number, np.float32(0.5), "x", "f"),
        "tinygrad_edu.checks.numbers": call(checks.numbers, [np.float32(0.5), np.int64(2)], "x", "f"),
        "tinygrad_edu.checks.precision": call(checks.precision, np.int64(3), "f"),
        "tinygrad_edu.checks.text": call(checks.text, "a title", "title", "f"),
        "tinygrad_edu.checks.language": call(checks.language, "zh-Hans", "f"),
        "tinygrad_edu.checks.real_array": call(checks.real_array, [1, 2], "x", "f"),
        "tinygrad_edu.checks.pytorch_keywords": call(checks.pytorch_keywords, lr="say learning_rate="),
        "tinygrad_edu.checks.looped_over_a_call": call(checks.looped_over_a_call, sys._getframe()),
        "tinygrad_edu.checks.saved_without_stars": call(checks.saved_without_stars, {"arr_0": np.zeros(2)}),
        "tinygrad_edu.checks.naming_the_file": lambda: (Documented(type(None)), _entered(checks.naming_the_file({}))),
        "tinygrad_edu.checks.readable_int": call(checks.readable_int, 10 ** 30),
        "tinygrad_edu.checks.present": call(checks.present, Value(1.0), ["data", "grad"]),
        "tinygrad_edu.checks.other_library_name": call(checks.other_library_name, "m", "Tensor", "PyTorch", "say x"),
        "tinygrad_edu.checks.no_attribute": call(checks.no_attribute, "tinygrad_edu.nn", "mlp"),
        "tinygrad_edu.checks.minitorch_name": call(checks.minitorch_name, "tinygrad_edu", "Tensor"),
        "tinygrad_edu.checks.counted": call(checks.counted, 2, "episode"),
        "tinygrad_edu.checks.listed": call(checks.listed, ["a", "b"]),
        "tinygrad_edu.checks.masked": call(checks.masked, np.ma.masked_array([1.0], mask=[True])),
        "tinygrad_edu.checks.unmasked": call(checks.unmasked, np.ones(2), "x", "f"),
        "tinygrad_edu.checks.not_a_dataset": call(checks.not_a_dataset, np.ones(2), "x", "f", "give its .labels"),
        "tinygrad_edu.checks.not_an_array": call(checks.not_an_array, np.ones(2), "x", "f"),
        "tinygrad_edu.checks.python_ints": call(checks.python_ints, np.array([10 ** 30], dtype=object)),
        "tinygrad_edu.checks.first_index": call(checks.first_index, np.array([False, True])),
        "tinygrad_edu.checks.label_numbers": call(checks.label_numbers, [1], np.array([1], dtype=object), "f", 2),
        "tinygrad_edu.checks.missing_value": call(checks.missing_value, None),
        "tinygrad_edu.checks.reloaded": call(checks.reloaded, Value(1.0), Value),
        "tinygrad_edu.checks.reloaded_error": call(checks.reloaded_error, Value(1.0), Value, "f"),
        "tinygrad_edu.checks.same_index": call(checks.same_index, np.ones(2), np.ones(2), "f"),
        "tinygrad_edu.checks.one_argument": call(checks.one_argument, lambda x: x, "f", "x", "join them"),
        "tinygrad_edu.checks.misspelt_keyword": call(checks.misspelt_keyword, lambda episodes: 0, ["episode"]),
        "tinygrad_edu.checks.outside_the_package": call(checks.outside_the_package),
        "tinygrad_edu.checks.advice_on_import": call(checks.advice_on_import, lambda name: name),
        "tinygrad_edu.checks.unpacked_in_two": call(checks.unpacked_in_two, sys._getframe()),
        "tinygrad_edu.checks.unpacked_into": call(checks.unpacked_into, sys._getframe(), 4),
        "tinygrad_edu.checks.call_under_way": call(checks.call_under_way, sys._getframe(), ("iter",)),
        # command line
        "tinygrad_edu.cli.build_parser": call(cli.build_parser),
        "tinygrad_edu.cli.whole_number": call(cli.whole_number, 1),
        "tinygrad_edu.cli.whole_number()": lambda: (lambda parse: (parse, parse("7")))(cli.whole_number(1)),
        "tinygrad_edu.cli.output_folder": call(cli.output_folder, str(tmp / "out")),
        "tinygrad_edu.cli.main": call(cli.main, ["predict", str(saved), "0.5"]),
        # data
        "tinygrad_edu.data.xsquared": call(data.xsquared, 5, seed=np.int64(0)),
        "tinygrad_edu.data.load_digits": call(data.load_digits),
        "tinygrad_edu.data.train_test_split": call(data.train_test_split, np.ones((10, 2), np.float32),
                                                   np.arange(10)),
        "tinygrad_edu.data.one_hot": call(data.one_hot, np.array([0, 2], np.int32), 3),
        "tinygrad_edu.data.batches": call(data.batches, np.ones((5, 2)), np.ones((5, 1)), 2),
        "tinygrad_edu.data.read_idx": call(data.read_idx, mnist / data.MNIST_FILES["test"][0], ndim=3),
        "tinygrad_edu.data.load_mnist": call(data.load_mnist, mnist, "test", dtype=np.float64),
        # demo
        "tinygrad_edu.demo.xsquared_network": call(demo.xsquared_network),
        "tinygrad_edu.demo.newton_network": call(demo.newton_network),
        "tinygrad_edu.demo.compare_xsquared": lambda: (demo.compare_xsquared, runs()),
        "tinygrad_edu.demo.check_goals": lambda: (demo.check_goals, demo.check_goals(runs(), seconds=1.0)),
        "tinygrad_edu.demo.format_table": lambda: (demo.format_table, demo.format_table(runs())),
        "tinygrad_edu.demo.chain_cost": call(demo.chain_cost),
        "tinygrad_edu.demo.write_artefacts": lambda: (demo.write_artefacts, demo.write_artefacts(runs(), tmp / "a")),
        **{f"tinygrad_edu.demo.Run.{name}": on(lambda: runs()[0], name) for name in ("episodes", "final_cost",
                                                                                      "errors")},
        # dependency tree, drawings, player
        "tinygrad_edu.dependency_tree.dependency_tree": lambda: (dependency_tree.dependency_tree, tree()),
        "tinygrad_edu.dependency_tree.has_layers": lambda: (dependency_tree.has_layers,
                                                            dependency_tree.has_layers(cost())),
        "tinygrad_edu.dependency_tree.built_in_op": lambda: (dependency_tree.built_in_op,
                                                             dependency_tree.built_in_op(cost())),
        "tinygrad_edu.dependency_tree.network_input": lambda: (dependency_tree.network_input,
                                                               dependency_tree.network_input(kept()[0])),
        "tinygrad_edu.dependency_tree.unrecorded_product": lambda: (dependency_tree.unrecorded_product,
                                                                    dependency_tree.unrecorded_product(tree(), "z^1")),
        "tinygrad_edu.dependency_tree.DependencyTree.path": on(tree, "path", "W^1"),
        "tinygrad_edu.dependency_tree.DependencyTree.chain_rule": on(tree, "chain_rule", "W^1"),
        "tinygrad_edu.dependency_tree.DependencyTree.chain_lines": on(tree, "chain_lines", "W^1"),
        "tinygrad_edu.dependency_tree.TreeEdge.symbol": on(lambda: tree().edges[0], "symbol"),
        "tinygrad_edu.viz.draw_graph": lambda: (viz.draw_graph, viz.draw_graph(cost())),
        "tinygrad_edu.viz.draw_dependency_tree": lambda: (viz.draw_dependency_tree, viz.draw_dependency_tree(cost())),
        "tinygrad_edu.viz.draw_network": lambda: (viz.draw_network, viz.draw_network(model())),
        "tinygrad_edu.viz.computation_graph": lambda: (lambda o, s, t, n: (
            viz.computation_graph, viz.computation_graph(o, s, t, names=n)))(*names_of(cost())),
        "tinygrad_edu.viz.tree_drawing": lambda: (viz.tree_drawing, viz.tree_drawing(tree())),
        "tinygrad_edu.viz.backprop_player": lambda: (viz.backprop_player, viz.backprop_player(cost())),
        "tinygrad_edu.viz.render": lambda: (viz.render, viz.render(viz.draw_graph(cost()), tmp / "g.dot")),
        "tinygrad_edu.player.BackpropPlayer.__len__": on(lambda: viz.backprop_player(cost()), "__len__"),
        "tinygrad_edu.player.BackpropPlayer.html": on(lambda: viz.backprop_player(cost()), "html"),
        "tinygrad_edu.player.BackpropPlayer.save": on(lambda: viz.backprop_player(cost()), "save", tmp / "p.html"),
        "tinygrad_edu.player.backprop_steps": lambda: (player.backprop_steps, player.backprop_steps(
            *names_of(cost()))),
        "tinygrad_edu.player.tree_steps": lambda: (lambda c: (player.tree_steps, player.tree_steps(
            c, dependency_tree.dependency_tree(c))))(cost()),
        "tinygrad_edu.player.display_names": lambda: (player.display_names, player.display_names(kept()[0])),
        "tinygrad_edu.player.local_formula": lambda: (player.local_formula, player.local_formula(
            cost(), 0, ["a", "b"])),
        "tinygrad_edu.player.forward_formula": lambda: (player.forward_formula, player.forward_formula(
            cost(), ["a", "b"])),
        "tinygrad_edu.player.check_drawn": lambda: (lambda o, s, t, n: (
            player.check_drawn, player.check_drawn(o, s, t, n, "f")))(*names_of(cost())),
        "tinygrad_edu.player.pass_gradients": lambda: (player.pass_gradients, player.pass_gradients(cost())),
        "tinygrad_edu.player.reading_order": lambda: (player.reading_order, player.reading_order(cost())),
        # files
        "tinygrad_edu.files.checked_path": call(files.checked_path, tmp / "f.txt", "f"),
        "tinygrad_edu.files.open_regular_file": lambda: (files.open_regular_file, _closed(
            files.open_regular_file(saved, "f"))),
        "tinygrad_edu.files.write_text": call(files.write_text, tmp / "t.txt", "hello", "f"),
        "tinygrad_edu.files.decoded_text": call(files.decoded_text, b"\xef\xbb\xbf0.5"),
        "tinygrad_edu.files.home_advice": call(files.home_advice, "~/model.npz"),
        "tinygrad_edu.files.replacing": lambda: (Documented(str), _replaced(files.replacing, tmp / "r.txt")),
        # functional, losses
        **{f"tinygrad_edu.functional.{name}": call(getattr(functional, name), Value(np.array([0.5, 1.5])))
           for name in ("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "leaky_relu", "softplus",
                        "identity", "softmax", "log_softmax")},
        "tinygrad_edu.functional.concatenate": call(functional.concatenate, [Value(x), Value(x)]),
        "tinygrad_edu.functional.stack": call(functional.stack, [Value(x), Value(x)]),
        "tinygrad_edu.functional.maximum": call(functional.maximum, Value(x), 1.5),
        "tinygrad_edu.functional.where": call(functional.where, x > 1, Value(x), 0.0),
        "tinygrad_edu.losses.squared_error": call(losses.squared_error, Value(np.array([[0.5]])), [[1.0]]),
        "tinygrad_edu.losses.mean_squared_error": call(losses.mean_squared_error, Value(np.array([[0.5]])), [[1.0]]),
        "tinygrad_edu.losses.pytorch_cost_advice": call(losses.pytorch_cost_advice, "MSELoss"),
        "tinygrad_edu.write_instead.cost_function": call(write_instead.cost_function, "huber_loss"),
        "tinygrad_edu.write_instead.pytorch_cost_refusal": call(write_instead.pytorch_cost_refusal,
                                                                _pytorch_like_cost(), losses.pytorch_cost_advice),
        "tinygrad_edu.losses.cross_entropy": call(losses.cross_entropy, Value(np.array([[0.5, 1.0]])), [1]),
        # graph
        "tinygrad_edu.graph.nearest_values": lambda: (graph.nearest_values, graph.nearest_values(cost(), 3)),
        "tinygrad_edu.graph.ancestors": lambda: (lambda c: (graph.ancestors, graph.ancestors(
            c, {id(n) for n in graph.nearest_values(c)[0]}, set())))(cost()),
        # nn
        "tinygrad_edu.nn.load_state": call(nn.load_state, saved),
        "tinygrad_edu.nn.load": call(nn.load, saved),
        **{f"tinygrad_edu.nn.Module.{name}": on(lambda: nn.MLP([1, 2, 1], rng=0), name) for name in
           ("named_parameters", "parameters", "named_children", "children", "named_modules", "modules", "train",
            "eval", "float", "double", "zero_grad", "requires_grad_", "num_parameters", "state_dict")},
        "tinygrad_edu.nn.Module.forward": on(lambda: nn.MLP([1, 2, 1], rng=0), "forward", Value([[0.5]])),
        "tinygrad_edu.nn.Module.__call__": on(lambda: nn.MLP([1, 2, 1], rng=0), "__call__", Value([[0.5]])),
        "tinygrad_edu.nn.Module.apply": on(lambda: nn.MLP([1, 2, 1], rng=0), "apply", lambda module: None),
        "tinygrad_edu.nn.Module.load_state_dict": on(lambda: nn.MLP([1, 2, 1], rng=0), "load_state_dict",
                                                     nn.load_state(saved)),
        "tinygrad_edu.nn.Module.save": on(lambda: nn.MLP([1, 2, 1], rng=0), "save", tmp / "m2.npz"),
        "tinygrad_edu.nn.Module.load": on(lambda: nn.MLP([1, 2, 1], rng=0), "load", saved),
        **{f"tinygrad_edu.nn.Layer.{name}": on(lambda: nn.Layer(np.int64(2), np.int64(3), rng=0), name)
           for name in ("activation", "activation_name", "index", "name", "config")},
        **{f"tinygrad_edu.nn.Network.{name}": on(lambda: nn.MLP(np.array([1, 3, 1]), rng=0), name)
           for name in ("__len__", "__iter__", "sizes", "config")},
        "tinygrad_edu.nn.Network.__getitem__": on(lambda: nn.MLP([1, 3, 1], rng=0), "__getitem__", 0),
        # notation
        "tinygrad_edu.notation.format_number": call(notation.format_number, np.float32(0.1)),
        "tinygrad_edu.notation.summary": call(notation.summary, np.ones(3, np.float32)),
        "tinygrad_edu.notation.value_summary": call(notation.value_summary, np.float32(0.9999999)),
        "tinygrad_edu.notation.array_line": call(notation.array_line, np.ones(3, np.float32)),
        "tinygrad_edu.notation.param_text": call(notation.param_text, (slice(None), np.int64(2))),
        "tinygrad_edu.notation.shortened": call(notation.shortened, "a label", 4),
        "tinygrad_edu.notation.left_to_right": call(notation.left_to_right, "∂C/∂وزن = 3"),
        "tinygrad_edu.notation.numbers_of": call(notation.numbers_of, Value(2.0)),
        "tinygrad_edu.notation.smallest_normal": call(notation.smallest_normal, Value(2.0)),
        "tinygrad_edu.notation.pretty": call(notation.pretty, "W^1"),
        "tinygrad_edu.notation.indexed": call(notation.indexed, "w_3"),
        "tinygrad_edu.notation.operand": call(notation.operand, "a + b"),
        "tinygrad_edu.notation.exponent": call(notation.exponent, "z²"),
        "tinygrad_edu.notation.printable": call(notation.printable, "x\x00"),
        "tinygrad_edu.notation.left_out_note": call(notation.left_out_note, np.int64(3), np.int64(5)),
        # optim
        "tinygrad_edu.optim.armijo_step": call(optim.armijo_step, lambda p: np.float32(p @ p),
                                               np.array([1.0], np.float32), np.array([2.0], np.float32),
                                               sigma=0.25, alpha=0.5),
        "tinygrad_edu.optim.checked_learning_rate": call(optim.checked_learning_rate, np.float32(0.5), "eta", "f"),
        "tinygrad_edu.optim.cost_with_gradient": lambda: (lambda m: (optim.cost_with_gradient, optim.cost_with_gradient(
            lambda: losses.squared_error(m(Value([[0.5]], requires_grad=False)), [[0.25]]), m.parameters(), "f")))(
            nn.MLP([1, 2, 1], rng=0).float()),
        "tinygrad_edu.optim.gradient_norm": lambda: (optim.gradient_norm, optim.gradient_norm(
            _trained("gd", learning_rate=0.1)[0].float().parameters())),
        "tinygrad_edu.optim.Optimizer.zero_grad": on(lambda: _trained("adam")[1], "zero_grad"),
        "tinygrad_edu.optim.Optimizer.state_dict": on(lambda: _trained("adam")[1], "state_dict"),
        "tinygrad_edu.optim.Optimizer.load_state_dict": lambda: (lambda o: (
            optim.Optimizer.load_state_dict, o.load_state_dict(o.state_dict())))(_trained("sgd", learning_rate=0.1)[1]),
        "tinygrad_edu.optim_state.state_dict": lambda: (optim_state.state_dict, optim_state.state_dict(
            _trained("random")[1])),
        "tinygrad_edu.optim_state.load_state_dict": lambda: (lambda o: (
            optim_state.load_state_dict, optim_state.load_state_dict(o, o.state_dict())))(_trained("random")[1]),
        # plots
        "tinygrad_edu.plots.descent_path": call(plots.descent_path, _quadratic, np.array([1.0, 1.0], np.float32),
                                                "armijo", steps=3),
        "tinygrad_edu.plots.plot_history": lambda: (plots.plot_history, plots.plot_history(_trained()[2])),
        "tinygrad_edu.plots.plot_activations": call(plots.plot_activations, ["relu"]),
        "tinygrad_edu.plots.plot_descent": call(plots.plot_descent, _quadratic, [1.0, 1.0], steps=3, resolution=10,
                                                levels=5),
        "tinygrad_edu.plots.plot_learning_rates": call(plots.plot_learning_rates, _quadratic, [1.0, 1.0],
                                                       {"small": 0.1}, steps=3, resolution=10),
        "tinygrad_edu.plots.plot_armijo": call(plots.plot_armijo, _quadratic, [1.0, 1.0]),
        "tinygrad_edu.plots.plot_derivatives": call(plots.plot_derivatives, lambda p: p * p * p, 2, points=21),
        "tinygrad_edu.plots.plot_stationary_points": lambda: (
            plots.plot_stationary_points, plots.plot_stationary_points(
                _quadratic, [calculus.stationary_point(_quadratic, [1.0, 2.0])], resolution=10, levels=5)),
        # seeds, serialization
        "tinygrad_edu.seeds.generator": call(seeds.generator, np.int64(0), "f"),
        "tinygrad_edu.seeds.second_stream": call(seeds.second_stream, 0),
        "tinygrad_edu.serialization.save": call(serialization.save, tmp / "s.npz", {"w": np.ones(2)}),
        "tinygrad_edu.serialization.read": call(serialization.read, saved),
        "tinygrad_edu.serialization.parameter_shapes": call(serialization.parameter_shapes,
                                                            nn.MLP([1, 2, 1], rng=0).config()),
        "tinygrad_edu.serialization.check_parameter_count": call(serialization.check_parameter_count, 3, "f"),
        "tinygrad_edu.serialization.counted_from_1": call(serialization.counted_from_1, "layers.0.weights"),
        # testing
        "tinygrad_edu.testing.numerical_gradient": call(testing.numerical_gradient, _quadratic,
                                                        np.array([1.0, 2.0], np.float32)),
        "tinygrad_edu.testing.check_gradients": call(testing.check_gradients, _quadratic, [1.0, 2.0],
                                                     atol=np.float32(1e-5), rtol=np.float64(1e-3)),
        "tinygrad_edu.testing.check_gradients[order 2]": call(testing.check_gradients, lambda p: p * p * p, 2.0,
                                                              order=2),
        "tinygrad_edu.testing.expressions.expressions": call(expressions.expressions),
        "tinygrad_edu.testing.expressions.Expression.input_names": on(lambda: expression, "input_names"),
        "tinygrad_edu.testing.expressions.Expression.output_name": on(lambda: expression, "output_name"),
        "tinygrad_edu.testing.expressions.Expression.run": on(lambda: expression, "run", Value([0.5, 1.5])),
        "tinygrad_edu.testing.expressions.Expression.constants_as": on(lambda: expression, "constants_as",
                                                                       np.float32),
        "tinygrad_edu.testing.expressions.Expression.__call__": on(lambda: expression, "__call__", Value([0.5, 1.5])),
        "tinygrad_edu.testing.expressions.Expression.program": on(lambda: expression, "program"),
        "tinygrad_edu.testing.expressions.OpSpec.arity": on(lambda: expressions.OpSpec(functional.ops.exp), "arity"),
        "tinygrad_edu.testing.strategies.shapes": call(strategies.shapes),
        "tinygrad_edu.testing.strategies.broadcastable_shapes": call(strategies.broadcastable_shapes),
        "tinygrad_edu.testing.strategies.matmul_shapes": call(strategies.matmul_shapes),
        "tinygrad_edu.testing.strategies.arrays": call(strategies.arrays, 3),
        "tinygrad_edu.testing.strategies.arrays_for": call(strategies.arrays_for, strategies.broadcastable_shapes()),
        "tinygrad_edu.testing.strategies.values": call(strategies.values, 3),
        # training
        "tinygrad_edu.training.fit": lambda: (tinygrad_edu.fit, _trained()[2]),
        "tinygrad_edu.training.History.episodes": on(lambda: _trained()[2], "episodes"),
        "tinygrad_edu.training.History.__add__": on(lambda: _trained()[2], "__add__", _trained("gd",
                                                                                                learning_rate=0.1)[2]),
        "tinygrad_edu.training.History.concatenate": on(lambda: tinygrad_edu.History, "concatenate",
                                                        [tinygrad_edu.History([1.0], [1.0], [0.1], [0.5], "GD")] * 2),
        "tinygrad_edu.training.History.plot": on(lambda: tinygrad_edu.History([1.0], [1.0], [0.1], [0.5]), "plot"),
    }
    for name in list(optim.OPTIMIZERS) + ["newton"]:  # fit with each, full batch: History's lists
        settings = {"learning_rate": np.float64(0.1)} if name in ("gd", "sgd", "adam") else {}
        calls[f"tinygrad_edu.training.fit[{name}]"] = lambda name=name, settings=settings: (
            tinygrad_edu.fit, _trained(name, **settings)[2])
    return calls


NOT_CALLED = {
    "tinygrad_edu.data.download_mnist": "downloads (tests/test_download_user.py); returns the paths",
    "tinygrad_edu.demo.run_demo": "the whole demonstration, seconds of training (tests/test_demo*.py)",
}


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Callable[[], tuple[Any, Any]]]:
    return _calls(tmp_path_factory.mktemp("returns"))


def _public_functions() -> set[str]:
    """Every function in a walked module's ``__all__`` (under the module that defines it, each once)."""
    found = set()
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj) and obj.__module__ == module_name:
                found.add(f"{module_name}.{name}")
    return found


def test_every_public_function_is_walked(calls):
    walked = {name.partition("[")[0].removesuffix("()") for name in calls}
    missing = _public_functions() - walked - set(NOT_CALLED)
    assert len(_public_functions()) > 100, "the walk found too few public functions"
    assert not missing, f"public functions without a typical call here (add one to _calls): {sorted(missing)}"


def test_every_result_has_the_type_its_hint_says(calls):
    wrong = {}
    for name, make in calls.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            function, result = make()  # (a typical call must work: an error fails the test as it is)
        problem = _checked(function, result)
        if problem:
            wrong[name] = problem
    assert not wrong, "\n".join(f"{name}: {problem}" for name, problem in wrong.items())


@pytest.mark.parametrize("name", ["__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"])
def test_comparisons_give_what_their_hint_says_for_a_single_number_and_an_array(name):
    compare = getattr(Value, name)
    single, array = compare(Value(3.0), 2.0), compare(Value(np.array([1.0, 3.0])), 2.0)
    assert type(single) is np.bool_ and isinstance(array, np.ndarray) and array.dtype == bool
    assert bool(single) == getattr(3.0, name)(2.0)  # the truth numpy gives the number
    assert _checked(compare, single) is None and _checked(compare, array) is None


# --- guards -------------------------------------------------------------------------------------------------
@dataclasses.dataclass
class _Report:
    cost: float
    steps: list[float | None]
    shape: tuple[int, ...]


def _gives(value: Any) -> Any:
    return value


def _gives_float(value: Any) -> float:
    return value


def _gives_list(value: Any) -> list[int]:
    return value


def _gives_report(value: Any) -> _Report:
    return value


@pytest.mark.parametrize(("function", "value"), [
    (_gives_float, np.float64(0.5)), (_gives_float, np.float32(0.5)), (_gives_float, 1), (_gives_float, None),
    (_gives_list, [1, np.int64(2)]), (_gives_list, [1, True]), (_gives_list, (1, 2)), (_gives_list, np.array([1])),
    (_gives_report, _Report(np.float64(1.0), [0.1], (1,))), (_gives_report, _Report(1.0, [0.1, np.float32(1)], (1,))),
    (_gives_report, _Report(1.0, [None], [1])), (_gives_report, _Report(1.0, [None], (np.int64(1),))),
])
def test_the_check_tells_numpy_scalars_bools_and_lists_from_what_the_hint_says(function, value):
    """The walk above would pass anything if the check let numpy's scalars (float subclasses), bools (an int
    subclass) or a list for a tuple through, at the top or in a dataclass's fields."""
    assert _checked(function, value) is not None
    assert _checked(_gives, value) is None  # Any takes anything


def test_the_check_passes_what_the_hint_says():
    assert _checked(_gives_float, 0.5) is None and _checked(_gives_list, [1, 2]) is None
    assert _checked(_gives_report, _Report(1.0, [None, 0.5], (2, 3))) is None


def test_arrays_have_the_dtypes_their_docstrings_give(tmp_path):
    """float64 where the docstrings say so, whatever the dtype given (a float32 model's numbers included); a float32
    model's own arrays stay float32."""
    from tinygrad_edu import autodiff, calculus, testing

    x32 = np.array([1.0, 2.0], np.float32)
    inputs, targets = data.xsquared(5)
    digits = data.load_digits()
    assert inputs.dtype == targets.dtype == np.float64
    assert (digits.inputs.dtype, digits.labels.dtype) == (np.float64, np.int64)
    assert data.one_hot(np.array([1, 0], np.int8), 2).dtype == np.float64
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (check_gradients says it checks float32 in float64)
        report = testing.check_gradients(_quadratic, x32)
    assert [a.dtype for a in report.analytic + report.numeric] == [np.float64] * 2
    assert testing.numerical_gradient(_quadratic, x32)[0].dtype == np.float64
    w = Value(x32)
    assert [a.dtype for a in autodiff.gradient_and_hessian(_quadratic(w), [w])] == [np.float64] * 2
    found = calculus.stationary_point(_quadratic, x32)
    assert found.point.dtype == found.path.dtype == found.eigenvalues.dtype == np.float64
    model = nn.MLP([1, 2, 1], rng=0).float()
    assert {a.dtype for a in model.state_dict().values()} == {np.dtype(np.float32)}
    model.save(tmp_path / "m.npz")
    assert {a.dtype for a in nn.load_state(tmp_path / "m.npz").values()} == {np.dtype(np.float32)}
    assert autodiff.grad(_quadratic)(x32).dtype == np.float32  # a Value keeps its dtype


#: The reports each optimizer's docstring lists, and their types after a step.
REPORTS = {
    "gd": {"last_step_size": float}, "sgd": {"last_step_size": float}, "adam": {"last_step_size": float},
    "random": {"last_step_size": type(None), "last_accepted": bool, "last_cost": float, "accepted": int,
               "proposals": int},
    "armijo": {"last_step_size": float, "last_backtracks": int, "last_trials": list, "last_cost_before": float,
               "last_cost": float, "last_slope": float, "last_failed": bool},
    "newton": {"last_step_size": float, "last_cost": float, "last_fallback": bool, "last_failed": bool,
               "last_damping": float},
}


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_the_optimizers_reports_are_python_numbers_for_a_float32_model_too(name):
    inputs, targets = data.xsquared(10, seed=0)
    model = nn.MLP([1, 3, 1], rng=0).float()
    settings = {"learning_rate": np.float32(0.1)} if name in ("gd", "sgd", "adam") else {}
    optimizer = optim.Newton(model.parameters()) if name == "newton" else \
        optim.OPTIMIZERS[name](model.parameters(), **settings)
    tinygrad_edu.fit(model, inputs.astype(np.float32), targets.astype(np.float32), optimizer=optimizer, episodes=2,
                     progress=False)
    reports = {key: getattr(optimizer, key) for key in REPORTS[name]}
    assert {key: type(value) for key, value in reports.items()} == REPORTS[name]
    if name == "armijo":  # every (t, f(x + t·d)) tried
        assert reports["last_trials"] and all(type(t) is float and type(cost) is float
                                              for t, cost in reports["last_trials"])
    json.dumps(reports)  # (np.float32 would fail here)
