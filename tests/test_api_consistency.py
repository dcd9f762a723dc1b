"""One concept, one name: the public signatures of the package's modules, walked and compared (an API consistency
review).  The package keeps two words for a seed (``seed=`` for the data, fit and check_gradients, ``rng=`` for
layers, networks and RandomSearch) and two for the samples' second array (``labels`` where it is kept with the
inputs, ``targets`` where the model learns it); a word swapped between its functions is a TypeError saying which
word to use here, as PyTorch's words are (``checks.pytorch_keywords``), never Python's bare "unexpected keyword"."""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
import typing
from pathlib import Path

import numpy as np
import pytest
from helpers_introspection import public_callables
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, functional, optim, plots, seeds
from tinygrad_edu.testing import check_gradients

ROOT = Path(__file__).resolve().parent.parent
# The modules a user calls: the demo (whose seed is the int printed in its report) and seeds (the rule itself) are
# left out.
USER_MODULES = ["tinygrad_edu", "tinygrad_edu.data", "tinygrad_edu.nn", "tinygrad_edu.optim", "tinygrad_edu.training",
                "tinygrad_edu.testing", "tinygrad_edu.autodiff", "tinygrad_edu.calculus", "tinygrad_edu.functional",
                "tinygrad_edu.losses", "tinygrad_edu.plots", "tinygrad_edu.viz"]


def _parameters(obj: typing.Any) -> dict[str, inspect.Parameter]:
    try:
        return dict(inspect.signature(obj).parameters)
    except (TypeError, ValueError):
        return {}


def _with_parameter(words: set[str], modules: list[str], classes: bool = True) -> list[tuple[str, typing.Any, str]]:
    return [(name, obj, word) for name, obj in public_callables(modules).items()
            if classes or inspect.isfunction(obj) for word in words & set(_parameters(obj))]


def _refused_with_advice(obj: typing.Any, wrong: str, right: str) -> str | None:
    """None when ``obj(wrong=0)`` is a TypeError naming ``right=`` (and not Python's bare message), else the
    message or what happened."""
    try:
        obj(**{wrong: 0})
    except TypeError as error:
        message = str(error)
        if f"there is no argument {wrong}=" in message and f"{right}=" in message and "unexpected" not in message:
            return None
        return message
    return "no TypeError"


SEED_WORDS = {"seed": ("rng", "generator"), "rng": ("seed", "generator")}


def test_every_seed_and_rng_parameter_is_annotated_with_the_one_seed_type():
    found = _with_parameter(set(SEED_WORDS), USER_MODULES)
    assert {word for _, _, word in found} == {"seed", "rng"}, "the walk found no seed= or no rng= parameter"
    wrong = {}
    for name, obj, word in found:
        target = obj.__init__ if inspect.isclass(obj) else obj
        hint = typing.get_type_hints(target)[word]
        if set(typing.get_args(hint)) != set(typing.get_args(seeds.Seed)):
            wrong[f"{name}({word}=)"] = hint
    assert not wrong, f"annotated otherwise than seeds.Seed: {wrong}"


def _rows_and_upstream(seed: typing.Any) -> list[np.ndarray]:
    """check_gradients of the elementwise x·x (a non-scalar output: a random upstream gradient g drawn from the
    seed): the analytic gradient, which must be g·2x."""
    return check_gradients(lambda v: v * v, np.array([1.0, -2.0, 3.0]), seed=seed).analytic


def test_check_gradients_takes_a_generator_and_none_as_seed():
    x = np.array([1.0, -2.0, 3.0])
    first, again = _rows_and_upstream(np.random.default_rng(7)), _rows_and_upstream(np.random.default_rng(7))
    np.testing.assert_array_equal(first[0], again[0])  # the same Generator state: the same upstream gradient
    upstream = first[0] / (2 * x)  # d(x·x)/dx = 2x, times the upstream gradient
    assert np.all(np.isfinite(upstream)) and not np.allclose(upstream, 1.0)  # a random g, not ones
    shared = np.random.default_rng(7)
    assert not np.array_equal(_rows_and_upstream(shared)[0], _rows_and_upstream(shared)[0])  # a shared one goes on
    assert _rows_and_upstream(None)[0].shape == x.shape


def test_the_other_seed_words_are_refused_saying_which_word_to_use():
    found = _with_parameter(set(SEED_WORDS), USER_MODULES)
    assert len(found) >= 5, "the walk found too few seeded functions"
    bare = {}
    for name, obj, word in found:
        for wrong in SEED_WORDS[word]:
            if wrong not in _parameters(obj):
                message = _refused_with_advice(obj, wrong, word)
                if message is not None:
                    bare[f"{name}({wrong}=)"] = message
    assert not bare, bare


LABEL_WORDS = {"labels": "targets", "targets": "labels"}


def test_labels_and_targets_swapped_are_refused_saying_which_word_to_use():
    # plots are left out: plot_history's labels= are the legend's texts, another concept
    found = _with_parameter(set(LABEL_WORDS), ["tinygrad_edu.data", "tinygrad_edu.training", "tinygrad_edu.losses"],
                            classes=False)
    assert {word for _, _, word in found} == {"labels", "targets"}, "the walk found no labels= or no targets="
    bare = {}
    for name, obj, word in found:
        wrong = LABEL_WORDS[word]
        message = _refused_with_advice(obj, wrong, word)
        if message is not None:
            bare[f"{name}({wrong}=)"] = message
    assert not bare, bare


def test_plot_descent_says_where_the_learning_rate_goes():
    assert list(_parameters(plots.descent_path))[2] == "learning_rate"
    assert list(_parameters(plots.plot_descent))[2] == "optimizer_or_steps"
    message = _message(lambda: plots.plot_descent(lambda p: (p * p).sum(), [1.0, 1.0], learning_rate=0.1))
    assert message.startswith("plot_descent: there is no argument learning_rate=") and "optimizer_or_steps" in message


def _message(call: typing.Callable[[], typing.Any]) -> str:
    with pytest.raises(TypeError) as caught:
        call()
    return str(caught.value)


def test_the_plots_other_word_for_the_point_is_refused_saying_which_word_to_use():
    points = {name: (obj, list(_parameters(obj))[1]) for name, obj in public_callables(["tinygrad_edu.plots"]).items()
              if list(_parameters(obj))[:1] == ["f"] and list(_parameters(obj))[1] in ("start", "x")}
    starts = [name for name, (_, word) in points.items() if word == "start"]
    assert len(starts) >= 3, "start= is no longer the plots' word for the point"
    bare = {}
    for name, (obj, word) in points.items():
        if word == "x":  # the odd one out (armijo_step's word) must say so when given the others' word
            message = _message(lambda obj=obj: obj(lambda p: (p * p).sum(), start=[1.0, 1.0]))
            if "unexpected" in message or "x=" not in message:
                bare[f"{name}(start=)"] = message
    assert not bare, bare


# ---- guards: what is consistent now, walked so that a new function that breaks it fails -------------------------

def test_keepdims_always_follows_axis_with_numpys_defaults():
    found = [(name, _parameters(method)) for name, method in inspect.getmembers(Value, inspect.isfunction)
             if "keepdims" in _parameters(method)]
    assert {name for name, _ in found} >= {"sum", "mean", "max", "min"}
    for name, parameters in found:
        names = list(parameters)
        assert names[1:3] == ["axis", "keepdims"], (name, names)
        assert (parameters["axis"].default, parameters["keepdims"].default) == (None, False), name
    for name, obj in public_callables(USER_MODULES).items():  # no other spelling of numpy's words
        assert not {"dim", "keepdim", "axes"} & set(_parameters(obj)), name


@given(st.sampled_from(["sum", "mean", "max", "min"]), st.sampled_from([None, 0, 1, (0, 1), -1]), st.booleans())
def test_reductions_take_axis_and_keepdims_positionally_as_numpy_does(method, axis, keepdims):
    data = np.arange(6.0).reshape(2, 3) ** 1.5  # distinct numbers: max and min have one winner per slice
    x = Value(data)
    got = getattr(x, method)(axis, keepdims)
    np.testing.assert_allclose(got.data, getattr(np, method)(data, axis, keepdims=keepdims))
    got.sum().backward()  # d(Σ reduced)/dx in closed form: 1, 1/count, or 1 at each slice's winner
    if method in ("sum", "mean"):
        expected = np.full(data.shape, 1.0 if method == "sum" else got.data.size / data.size)
    else:
        expected = (data == getattr(np, method)(data, axis, keepdims=True)).astype(float)
    np.testing.assert_allclose(x.grad, expected)


LINE_SEARCH = ("sigma", "alpha", "initial_step", "max_backtracks")


def test_line_search_settings_have_the_optimizers_defaults_everywhere():
    reference = {word: parameter.default for word, parameter in _parameters(optim.Armijo).items()
                 if word in LINE_SEARCH}
    assert set(reference) == set(LINE_SEARCH)
    found = _with_parameter(set(LINE_SEARCH), ["tinygrad_edu.optim", "tinygrad_edu.plots"])
    assert len(found) >= 12
    differ = {f"{name}({word}=)": _parameters(obj)[word].default for name, obj, word in found
              if _parameters(obj)[word].default not in (reference[word], inspect.Parameter.empty)}
    # plot_armijo's sigma is larger so that its line visibly slopes, and its docstring says so
    assert differ == {"tinygrad_edu.plots.plot_armijo(sigma=)": 0.25}
    assert "the optimizer's default 1e-4" in " ".join(plots.plot_armijo.__doc__.split())


def test_optimizers_with_a_learning_rate_call_it_learning_rate_and_refuse_lr():
    classes = [obj for obj in public_callables(["tinygrad_edu.optim"]).values()
               if inspect.isclass(obj) and issubclass(obj, optim.Optimizer) and obj is not optim.Optimizer]
    with_rate = [cls for cls in classes if "learning_rate" in _parameters(cls)]
    assert len(with_rate) >= 3
    for cls in classes:
        assert not {"lr", "step_size", "eta"} & set(_parameters(cls)), cls.__name__
        assert "there is no argument lr=" in _message(lambda cls=cls: cls([Value(1.0)], lr=0.1))
    for cls in with_rate:
        assert list(_parameters(cls))[:2] == ["params", "learning_rate"], cls.__name__


def _quoted_calls() -> list[tuple[str, str]]:
    """Each ``name(...)`` quoted in backticks in README.md and the notebooks' text, with the file it is in."""
    texts = {"README.md": (ROOT / "README.md").read_text(encoding="utf-8")}
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        texts[notebook.name] = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")
    return [(where, code) for where, text in texts.items() for code in re.findall(r"`+([^`\n]+?\([^`\n]*\))`+", text)]


def test_keywords_the_readme_and_notebooks_quote_exist_in_the_signatures():
    from tinygrad_edu import autodiff, calculus, data, losses, nn, testing, viz
    names: dict[str, typing.Any] = {"Value": Value, "F": functional, "functional": functional, "plots": plots,
                                    "optim": optim, "nn": nn, "data": data, "losses": losses, "viz": viz,
                                    "autodiff": autodiff, "calculus": calculus, "testing": testing}
    for module in (autodiff, calculus, testing, viz, plots, data, nn, optim, losses, functional):
        for item in module.__all__:
            names.setdefault(item, getattr(module, item))
    names["fit"] = importlib.import_module("tinygrad_edu").fit
    checked, wrong = 0, []
    for where, code in _quoted_calls():
        try:
            tree = ast.parse(code.strip(), mode="eval")
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            dotted = ast.unparse(node.func).split(".")
            obj = names.get(dotted[0])
            for part in dotted[1:]:
                obj = getattr(obj, part, None)
            parameters = _parameters(obj) if obj is not None else {}
            if not parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
                continue
            checked += 1
            wrong += [f"{where}: {code} ({keyword.arg}=)" for keyword in node.keywords
                      if keyword.arg and keyword.arg not in parameters]
    assert checked >= 20, f"only {checked} quoted calls were checked"
    assert not wrong, wrong
