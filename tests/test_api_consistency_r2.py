"""One concept, one name, one error (an API consistency review, second pass): the public signatures walked by
``inspect`` over each module's ``__all__`` and compared, so that a new function that drifts fails here.

Defects (xfail, strict): the upstream gradient has three words, ``grad=`` (``Value.backward``), ``grad_output=``
(``autodiff.gradients``) and ``upstream=`` (``testing.numerical_gradient``), and one swapped for another was
Python's bare "unexpected keyword" (numerical_gradient even blamed f's keywords); check_gradients' bad seeds got
their own message ("seed must be an integer") and not the rule of every other seed= (seeds.generator);
``classify_stationary_point(zero_tol=)``, stationary_point's word for its ``tol=``, was a bare TypeError.
Guards: every public function and method has type hints and a docstring; a learning rate out of range is the
same error everywhere it is taken.
"""

from __future__ import annotations

import inspect
import typing

import numpy as np
import pytest
from helpers_introspection import public_callables

from tinygrad_edu import Value, calculus, data, nn, optim, plots, seeds, training
from tinygrad_edu.testing import check_gradients

USER_MODULES = ["tinygrad_edu", "tinygrad_edu.data", "tinygrad_edu.nn", "tinygrad_edu.optim", "tinygrad_edu.training",
                "tinygrad_edu.testing", "tinygrad_edu.autodiff", "tinygrad_edu.calculus", "tinygrad_edu.functional",
                "tinygrad_edu.losses", "tinygrad_edu.plots", "tinygrad_edu.viz", "tinygrad_edu.dependency_tree"]


def _callables(modules: list[str]) -> dict[str, typing.Any]:
    """The public functions, and the public methods (with ``__init__``) of the public classes, that this package
    defines (a dataclass's generated ``__init__`` and inherited library methods left out)."""
    found: dict[str, typing.Any] = {}
    for name, obj in public_callables(modules).items():
        if inspect.isfunction(obj):
            found[name] = obj
            continue
        for attribute, member in vars(obj).items():
            member = member.__func__ if isinstance(member, (staticmethod, classmethod)) else member
            if inspect.isfunction(member) and (attribute == "__init__" or not attribute.startswith("_")) \
                    and "tinygrad_edu" in member.__code__.co_filename:
                found[f"{name}.{attribute}"] = member
    return found


def _parameters(obj: typing.Any) -> dict[str, inspect.Parameter]:
    try:
        return dict(inspect.signature(obj).parameters)
    except (TypeError, ValueError):
        return {}


def _refusal(call: typing.Callable[[], typing.Any]) -> str:
    """The message of the TypeError ``call()`` raises ("no TypeError" when it raises none)."""
    try:
        call()
    except TypeError as error:
        return str(error)
    return "no TypeError"


# ---- defects ------------------------------------------------------------------------------------------------------

UPSTREAM_WORDS = {"grad", "grad_output", "upstream"}


def test_the_upstream_gradients_words_swapped_are_refused_saying_which_word_to_use():
    found = {name: obj for name, obj in _callables(USER_MODULES).items()
             if name.startswith(("tinygrad_edu.autodiff.", "tinygrad_edu.testing.", "tinygrad_edu.Value."))
             and UPSTREAM_WORDS & set(_parameters(obj))}
    words = {name: (UPSTREAM_WORDS & set(_parameters(obj))).pop() for name, obj in found.items()}
    assert set(words.values()) == UPSTREAM_WORDS, f"the walk found {words}"
    bare = {}
    for name, obj in found.items():
        right = words[name]
        for wrong in sorted(UPSTREAM_WORDS - {right}):
            if name == "tinygrad_edu.Value.backward":
                call = lambda wrong=wrong: Value(np.array([1.0, 2.0])).backward(**{wrong: np.ones(2)})  # noqa: E731
            else:
                call = lambda obj=obj, wrong=wrong: obj(**{wrong: np.ones(2)})  # noqa: E731
            message = _refusal(call)
            if not (f"there is no argument {wrong}=" in message and f"called {right}= here" in message
                    and "unexpected" not in message):
                bare[f"{name}({wrong}=)"] = message
    assert not bare, bare


def _seeded_calls() -> dict[str, typing.Callable[[typing.Any], typing.Any]]:
    """A small call of each public function or class that takes seed= or rng=, with the seed given."""
    inputs = np.linspace(-1.0, 1.0, 8).reshape(-1, 1)

    def fit(seed: typing.Any) -> typing.Any:
        model = nn.MLP([1, 1], rng=0)
        return training.fit(model, inputs, inputs ** 2, optimizer=optim.SGD(model, 0.1), episodes=1, seed=seed,
                            progress=False)

    return {"tinygrad_edu.data.xsquared": lambda seed: data.xsquared(10, seed=seed),
            "tinygrad_edu.data.train_test_split": lambda seed: data.train_test_split(inputs, inputs.ravel(),
                                                                                     seed=seed),
            "tinygrad_edu.data.batches": lambda seed: list(data.batches(inputs, inputs, 4, seed=seed)),
            "tinygrad_edu.fit": fit,
            "tinygrad_edu.testing.check_gradients": lambda seed: check_gradients(lambda v: v * v,
                                                                                 np.array([1.0, 2.0]), seed=seed),
            "tinygrad_edu.nn.Layer": lambda seed: nn.Layer(1, 1, rng=seed),
            "tinygrad_edu.nn.MLP": lambda seed: nn.MLP([1, 1], rng=seed),
            "tinygrad_edu.optim.RandomSearch": lambda seed: optim.RandomSearch([Value(1.0)], rng=seed)}


def _error(call: typing.Callable[[], typing.Any]) -> tuple[str, str]:
    """(the error's type, what its message says a seed must be) of ``call()``."""
    try:
        call()
    except (TypeError, ValueError) as error:
        return type(error).__name__, str(error).partition("seed must be ")[2]
    return "no error", ""


@pytest.mark.parametrize("bad", [1.5, True, "3", [1, 2], np.random.RandomState(0), -1, np.int64(-2)],
                         ids=["float", "bool", "str", "list", "RandomState", "negative", "negative-int64"])
def test_every_seed_is_refused_with_the_one_seed_rule(bad):
    calls = _seeded_calls()
    seeded = {name for name, obj in public_callables(USER_MODULES).items() if {"seed", "rng"} & set(_parameters(obj))}
    assert seeded == set(calls), f"a seeded function without a call here: {seeded ^ set(calls)}"
    rule = _error(lambda: seeds.generator(bad, "rule"))
    assert rule[0] != "no error" and rule[1].startswith("an int >= 0")
    differ = {name: got for name, call in calls.items() if (got := _error(lambda call=call: call(bad))) != rule}
    assert not differ, f"the rule: {rule}; otherwise: {differ}"


def test_the_eigenvalue_tolerances_word_from_stationary_point_is_refused_saying_which_word_to_use():
    assert "zero_tol" in _parameters(calculus.stationary_point)  # the same concept, under two words in one module
    assert list(_parameters(calculus.classify_stationary_point))[:2] == ["eigenvalues", "tol"]
    assert calculus.classify_stationary_point([1e-3, 2.0], 1e-2) == "inconclusive"  # (tol: |λ| ≤ tol · max |λ|)
    message = _refusal(lambda: calculus.classify_stationary_point([1e-3, 2.0], zero_tol=1e-2))
    assert message.startswith("classify_stationary_point: there is no argument zero_tol=") and "tol=" in \
        message.partition("zero_tol=")[2] and "unexpected" not in message, message


# ---- guards -------------------------------------------------------------------------------------------------------

def test_every_public_function_and_method_has_type_hints_and_a_docstring():
    found = _callables(USER_MODULES + ["tinygrad_edu.notation", "tinygrad_edu.player", "tinygrad_edu.seeds"])
    assert len(found) > 150, f"the walk found only {len(found)} functions"
    missing = {}
    for name, obj in found.items():
        signature = inspect.signature(obj)
        unhinted = [p.name for p in signature.parameters.values()
                    if p.name not in ("self", "cls") and p.annotation is inspect.Parameter.empty]
        if obj.__name__ != "__init__" and signature.return_annotation is inspect.Signature.empty:
            unhinted.append("return")
        if unhinted:
            missing[name] = unhinted
        if obj.__name__ != "__init__" and not (inspect.getdoc(obj) or "").strip():  # (a method may inherit one)
            missing[name] = "no docstring"
    assert not missing, missing


@pytest.mark.parametrize(("bad", "error", "message"), [
    (-0.5, ValueError, "must be >= 0, got -0.5"),  # (η may be 0 since round 43; descent_path's since round 44)
    (float("nan"), ValueError, "must be finite, got nan"), (True, TypeError, "must be a number, got bool True"),
    (None, TypeError, "must be a number, got NoneType None")])
def test_a_learning_rate_out_of_range_is_the_same_error_everywhere(bad, error, message):
    takers = {name: obj for name, obj in public_callables(USER_MODULES).items() if "learning_rate" in _parameters(obj)}
    assert {"tinygrad_edu.optim.SGD", "tinygrad_edu.optim.Adam", "tinygrad_edu.plots.descent_path"} <= set(takers)

    def surface(p: Value) -> Value:
        return (p * p).sum()

    calls = {name: (lambda obj=obj: plots.descent_path(surface, [1.0, 1.0], bad) if obj is plots.descent_path
                    else obj([Value(1.0)], bad)) for name, obj in takers.items()}
    for name, call in calls.items():
        short = name.rsplit(".", 1)[1]
        with pytest.raises(error) as raised:
            call()
        assert str(raised.value) == f"{short}: learning_rate {message}", name
