"""The round's review, midway: what the round's changes left untrue, each test failing before its fix.

- ``from tinygrad_edu.testing import central_difference`` (minitorch's name) still gave Python's bare "cannot import
  name": the one module-level ``__getattr__`` of the package that ``checks.advice_on_import`` did not wrap, and
  ``advice_on_import`` itself, used by ten modules, was missing from ``checks.__all__``;
- a custom vjp that takes no parameter of a keyword the call gave (``k=3.0``) was told to "give the vjp's parameters
  the forward's defaults", which does not help: it needs the parameter;
- ``a + b`` of two Histories took a's ``final_cost`` where b's is None because Ctrl-C stopped fit's pass after b's
  last update (new this round): the cost before all of b's updates, presented as the cost after them;
- a drawing of a Value inside a larger graph (a residual ``v`` of ``C = v + h``), after one backward pass, said its
  intermediates' .grad were "from another backward pass", where other Values of that one pass use them.
"""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import Op, Value, apply, checks, viz
from tinygrad_edu import functional as F
from tinygrad_edu.training import History


# --- from tinygrad_edu.testing import central_difference -----------------------------------------------------------
def test_from_import_of_minitorchs_central_difference_keeps_the_advice() -> None:
    import tinygrad_edu.testing as testing

    with pytest.raises(AttributeError) as attribute:
        testing.central_difference  # noqa: B018
    with pytest.raises(ImportError, match=r"^cannot import name 'central_difference' from 'tinygrad_edu.testing'") \
            as caught:
        from tinygrad_edu.testing import central_difference  # noqa: F401
    advice = str(attribute.value).partition(" (a minitorch name)")[2]
    assert "numerical_gradient" in advice and advice in str(caught.value), str(caught.value)
    assert getattr(testing, "central_difference", None) is None  # (getattr and hasattr: still an AttributeError)


def test_every_module_getattr_of_the_package_keeps_its_advice_on_import() -> None:
    """(guard) each module-level ``__getattr__`` is wrapped by checks.advice_on_import, which is public API."""
    assert "advice_on_import" in checks.__all__
    names = [info.name for info in pkgutil.walk_packages(tinygrad_edu.__path__, "tinygrad_edu.")]
    lookups = {name: vars(module)["__getattr__"] for name in ["tinygrad_edu", *names]
               if "__getattr__" in vars(module := importlib.import_module(name))}
    assert len(lookups) >= 10
    assert [name for name, lookup in lookups.items() if not hasattr(lookup, "__wrapped__")] == []


# --- a vjp without the keyword the call gave -------------------------------------------------------------------------
def test_a_vjp_lacking_a_keyword_of_the_call_is_told_to_take_it() -> None:
    scaled = Op("scaled", lambda x, k=2.0: x * k, (lambda g, out, x: g * 2.0,))
    x = Value(np.array([1.0, 2.0]))
    with pytest.raises(TypeError) as caught:
        apply(scaled, x, k=3.0).sum().backward()
    message = str(caught.value)
    assert "unexpected keyword argument 'k'" in message
    assert "vjp(g, out, x, k=2.0)" in message, message  # (the signature to write, k among its parameters)


def test_a_vjp_lacking_a_default_keeps_the_defaults_advice_and_the_advice_works() -> None:
    """(guard) the call gave no k: the vjp needs k's default, as the forward has it; given it, the gradient is k."""
    bare = Op("scaled", lambda x, k=2.0: x * k, (lambda g, out, x, k: g * k,))
    with pytest.raises(TypeError, match=r"with its defaults: vjp\(g, out, x, k=2\.0\)"):
        apply(bare, Value(np.array([1.0, 2.0]))).sum().backward()
    fixed = Op("scaled", lambda x, k=2.0: x * k, (lambda g, out, x, k=2.0: g * k,))
    x = Value(np.array([1.0, 2.0]))
    apply(fixed, x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])  # ∂(Σ 2x)/∂x


# --- History + History -----------------------------------------------------------------------------------------------
def test_a_sum_of_histories_keeps_no_earlier_final_cost_for_a_run_interrupted_after_its_updates() -> None:
    before = History([4.0, 2.0], [4.0, 2.0], [0.1, 0.1], [0.5, 1.0], "SGD", "episodes", 1.5)
    interrupted = History([1.0, 0.5], [1.0, 0.5], [0.1, 0.1], [0.25, 0.5], "SGD", "interrupted", None)
    joined = before + interrupted
    assert joined.final_cost is None  # not 1.5, the cost before the second run's two updates
    assert joined.stopped == "interrupted" and joined.cost == [4.0, 2.0, 1.0, 0.5]
    empty = History(label="SGD")
    assert (before + empty).final_cost == 1.5  # (guard) a run of no episodes changes nothing
    assert sum([before, interrupted, empty]).final_cost is None


# --- a drawing inside a larger graph ---------------------------------------------------------------------------------
def test_a_drawing_inside_a_larger_graph_does_not_call_one_pass_two() -> None:
    x = Value(0.5, label="x")
    h = x * 2.0
    v = F.tanh(h) * 3.0
    cost = v + h  # h is used by v, and by the cost outside v's drawing
    cost.backward()
    assert h.grad == pytest.approx(1.0 + 3.0 * (1.0 - np.tanh(1.0) ** 2))  # one pass: ∂C/∂h by hand
    key = viz.draw_graph(v).source
    assert "larger graph" in key, key
    assert "from another backward pass than" not in key


# --- a list holding itself ---------------------------------------------------------------------------------------
def test_a_list_holding_itself_is_refused_clearly_not_by_a_recursion_error() -> None:
    """checks.masked looks inside lists for masked arrays (this round); a list that holds itself must end that walk
    and reach numpy's own refusal, named by Value, as before, not a RecursionError."""
    looped: list = [1.0, 2.0]
    looped.append(looped)
    with pytest.raises((TypeError, ValueError)) as caught:
        Value(looped)
    assert not isinstance(caught.value, RecursionError) and str(caught.value).startswith("Value"), caught.value
    assert checks.masked([[np.ma.masked_array([1.0, 2.0], mask=[False, True])], looped])
