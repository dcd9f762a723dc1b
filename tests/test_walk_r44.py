"""Round 44, the backward walk read at once: ``_backpropagate``'s rare paths (what a vjp that raised gets) moved into
``engine._vjp_raised``, which costs nothing until a vjp raises (counted by callgrind: the scalar chain, the
element-wise chain and the x² update within 0.2 % of their instructions before the move).  What each of its three
branches does is checked here through ``backward``: an underflow that is rounding computed again (against the
closed form by ``math.exp``), a TypeError named by its Op, any other error kept with a note, and the graph of a walk
that failed freed by reference counting alone, as before."""

from __future__ import annotations

import ast
import gc
import inspect
import math
import weakref

import numpy as np
import pytest

from tinygrad_edu import Op, Value, engine


def _handlers(function: object) -> list[ast.ExceptHandler]:
    tree = ast.parse(inspect.getsource(function))  # type: ignore[arg-type]
    return [node for node in ast.walk(tree) if isinstance(node, ast.ExceptHandler)]


def test_the_walk_has_one_handler_which_hands_the_error_to_vjp_raised() -> None:
    """The walk's loop reads at once: a vjp's error goes to one call, ``_vjp_raised`` (before: three handlers of
    eight lines inside the loop)."""
    handlers = _handlers(engine._backpropagate)
    assert len(handlers) == 1
    handler = handlers[0]
    assert isinstance(handler.type, ast.Name) and handler.type.id == "Exception"
    calls = [node.func.id for node in ast.walk(handler)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)]
    assert calls == ["_vjp_raised"]


def test_vjp_raised_deletes_the_error_it_was_given_however_it_leaves() -> None:
    """Its frame is in the error's traceback: the name is deleted in a ``finally`` (no reference cycle)."""
    tree = ast.parse(inspect.getsource(engine._vjp_raised))
    tries = [node for node in ast.walk(tree) if isinstance(node, ast.Try)]
    assert len(tries) == 1
    deleted = [target.id for node in tries[0].finalbody if isinstance(node, ast.Delete) for target in node.targets
               if isinstance(target, ast.Name)]
    assert deleted == ["error"]


@pytest.mark.parametrize("create_graph", [False, True])
def test_an_underflow_that_is_rounding_is_computed_again_under_errstate_raise(create_graph: bool) -> None:
    """σ'(−720) = e⁻⁷²⁰/(1 + e⁻⁷²⁰)² is subnormal: numpy's vjp raises "underflow" under ``under="raise"``, and the
    walk computes it again without (σ is in ``ops.UNDERFLOW_IS_ROUNDING``), in an ordinary and a recorded pass."""
    x = Value(np.array([-720.0, 0.0]))
    with np.errstate(under="raise"):
        x.sigmoid().sum().backward(create_graph=create_graph)
    got = x.grad.data if create_graph else x.grad
    e = math.exp(-720.0)
    expected = np.array([e / (1.0 + e) ** 2, 0.25])
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=0)
    assert got[0] > 0.0  # (not flushed to 0)


def test_an_underflow_of_an_op_whose_underflow_is_no_rounding_still_raises() -> None:
    tiny = Op("tiny_slope", lambda x: x * 1.0, lambda g, out, x: g * np.exp(-720.0 + 0.0 * x))
    x = Value(np.array([1.0]))
    with np.errstate(under="raise"), pytest.raises(FloatingPointError, match="underflow"):
        tiny(x).sum().backward()
    assert x.grad is None


def test_a_vjps_type_error_is_named_by_its_op() -> None:
    bad = Op("bad_vjp", lambda x: x * 2.0, lambda g, out, x: g * len(3))
    x = Value(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"^bad_vjp: its vjp raised TypeError: object of type .int. has no len"):
        bad(x).sum().backward()
    assert x.grad is None


def test_another_error_is_kept_with_a_note_and_the_graph_is_freed_without_the_collector() -> None:
    lookup = Op("lookup_r44", lambda x: x * 2.0, lambda g, out, x: g * {"two": 2.0}["2"])
    gc.collect()
    gc.disable()
    try:
        x = Value(np.array([1.0, 2.0]))
        cost = lookup(x).sum()
        node = weakref.ref(cost)
        caught = None
        try:
            cost.backward()
        except KeyError as error:
            caught = "\n".join(getattr(error, "__notes__", []))
        assert caught is not None and "lookup_r44: raised by its vjp in the backward pass" in caught
        assert x.grad is None
        del cost
        assert node() is None  # dropped at once: no cycle through the error's traceback
    finally:
        gc.enable()
