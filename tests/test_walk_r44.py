"""Round 44, the backward walk read at once: ``_backpropagate``'s rare paths (what a vjp that raised gets) moved into
``engine._vjp_raised``, which costs nothing until a vjp raises (counted by callgrind: the scalar chain and the
element-wise chain within 0.2 % of their instructions before the move, the x² update +0.6 %).  What each of its three
branches does is checked here through ``backward``: an underflow that is rounding computed again (against the
closed form by ``math.exp``), a TypeError named by its Op, any other error kept with a note, and the graph of a walk
that failed freed by reference counting alone, as before."""

from __future__ import annotations

import ast
import gc
import inspect
import math
import sys
import textwrap
import weakref

import numpy as np
import pytest

from tinygrad_edu import Op, Value, engine


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


# --- issue 10: the element-wise chain's forward and backward calls (−3.2 % of its instructions, callgrind) ---------

def _comprehension_lines_run(compute: object) -> set[int]:
    """The lines of ``_record`` holding a comprehension (a frame of its own before Python 3.12, a loop inlined
    since) that run while ``compute()`` runs: traced line by line, so the test can fail on every Python version."""
    source, first = inspect.getsourcelines(engine._record)
    tree = ast.parse(textwrap.dedent("".join(source)))
    comprehensions = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
    lines = {node.lineno + first - 1 for node in ast.walk(tree) if isinstance(node, comprehensions)}
    assert lines, "_record holds no comprehension any more: this test has nothing left to check"
    run: set[int] = set()

    def trace(frame, event, arg):  # noqa: ANN001, ANN202
        if frame.f_code is engine._record.__code__:
            run.add(frame.f_lineno)
            return trace
        return None

    sys.settrace(trace)
    try:
        compute()  # type: ignore[operator]
    finally:
        sys.settrace(None)
    assert run, "the trace saw no line of _record: the test would pass for nothing"
    return run & lines


def test_an_operation_of_one_or_two_inputs_runs_no_comprehension_in_record() -> None:
    x, w = Value(np.linspace(-1.0, 1.0, 8)), Value(np.full(8, 0.9))
    assert not _comprehension_lines_run(lambda: ((x * w) + x).tanh().sigmoid())


def test_an_operation_of_three_inputs_is_seen_running_records_comprehension() -> None:
    """The check above can see a comprehension run: a three-input operation takes the general path."""
    add3 = Op("add3", lambda a, b, c: a + b + c, (lambda g, out, a, b, c: g,) * 3)
    x = Value(np.ones(4))
    assert _comprehension_lines_run(lambda: add3(x, x, x))


def test_the_element_wise_chain_matches_central_differences_in_float64() -> None:
    """The chain the cut sped up, y = σ(tanh(y·w + x)) twice, against central differences (float64, h = 1e-6)."""
    rng = np.random.default_rng(44)
    x0, w0 = rng.normal(size=8), rng.normal(size=8)

    def chain(x: np.ndarray, w: np.ndarray) -> float:
        y = x
        for _ in range(2):
            y = 1.0 / (1.0 + np.exp(-np.tanh(y * w + x)))
        return float((y * np.arange(1.0, 9.0)).sum())

    x, w = Value(x0.copy()), Value(w0.copy())
    y = x
    for _ in range(2):
        y = ((y * w) + x).tanh().sigmoid()
    y.backward(np.arange(1.0, 9.0))
    h = 1e-6
    for value, point, other, first in ((x, x0, w0, True), (w, w0, x0, False)):
        numeric = np.empty(8)
        for i in range(8):
            up, down = point.copy(), point.copy()
            up[i] += h
            down[i] -= h
            numeric[i] = ((chain(up, other) - chain(down, other)) if first else
                          (chain(other, up) - chain(other, down))) / (2 * h)
        np.testing.assert_allclose(value.grad, numeric, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_one_two_and_three_input_ops_and_params_keep_their_numbers_and_dtype(dtype: type) -> None:
    """The written-out cases (one input, two) and the general one (three inputs, a parameter) compute as before:
    the closed-form derivatives, in the inputs' dtype."""
    from tinygrad_edu import apply
    fma = Op("fma_r44", lambda a, b, c, k=1.0: k * a * b + c,
             (lambda g, out, a, b, c, k=1.0: g * k * b, lambda g, out, a, b, c, k=1.0: g * k * a,
              lambda g, out, a, b, c, k=1.0: g))
    a, b, c = (Value(np.array([1.5, -2.0], dtype=dtype)) for _ in range(3))
    b.data = np.array([0.5, 0.25], dtype=dtype)
    out = apply(fma, a, b, c, k=3.0).tanh() * a
    assert out.dtype == np.dtype(dtype)
    out.sum().backward()
    t = np.tanh(3.0 * a.data * b.data + c.data)
    slope = 1.0 / np.cosh(3.0 * a.data * b.data + c.data) ** 2  # sech²
    np.testing.assert_allclose(a.grad, t + a.data * slope * 3.0 * b.data, rtol=1e-6 if dtype is np.float32 else 1e-13)
    np.testing.assert_allclose(c.grad, a.data * slope, rtol=1e-6 if dtype is np.float32 else 1e-13)
    assert a.grad.dtype == b.grad.dtype == c.grad.dtype == np.dtype(dtype)
