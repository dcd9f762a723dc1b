"""A student who reads whole tracebacks: for common mistakes, is the chain of exceptions (``__cause__``,
``__context__``, ``__suppress_context__``) worth reading, and does the top line say what is wrong?

An error of the package's own that names the op and the shapes should stand alone where the error it replaces was
raised in numpy's or the package's code (that chain only repeats the message), and keep that error as its cause
where it was raised in the user's own code (a custom Op's forward or vjp): there the cause's traceback is the only
place that shows the user's line, as PyTorch's traceback of a custom Function does."""

from __future__ import annotations

import math
import traceback

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Op, Value, losses, nn, optim


def _user_lines(error: BaseException) -> list[str]:
    """The source lines of this file in ``error``'s traceback."""
    return [frame.line or "" for frame in traceback.extract_tb(error.__traceback__) if frame.filename == __file__]


def _stands_alone(error: BaseException) -> bool:
    """Whether the traceback prints ``error`` alone: no "direct cause", no "During handling of the above"."""
    return error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


# --- defects -----------------------------------------------------------------------------------------------------
def _forward_with_a_slip(z: np.ndarray) -> np.ndarray:
    doubled = z * 2.0
    return doubled @ np.ones((7, 7))  # the user's slip: (3,) @ (7, 7)


def test_a_custom_forward_that_fails_keeps_its_own_line_as_the_cause():
    op = Op("slipped", _forward_with_a_slip, lambda g, out, z: g)
    with pytest.raises(ValueError, match=r"^slipped: matmul: .*\(input shapes \(3,\)\)") as raised:
        op(Value(np.ones(3)))
    cause = raised.value.__cause__
    assert isinstance(cause, ValueError) and "matmul" in str(cause)
    assert any("doubled @ np.ones((7, 7))" in line for line in _user_lines(cause))


@pytest.mark.parametrize(("kind", "forward"), [(TypeError, lambda z: z + "text"),
                                               (IndexError, lambda z: z[np.array([0, 9])])])
def test_a_custom_forward_that_fails_with_other_errors_keeps_its_line(kind, forward):
    op = Op("own", forward, lambda g, out, z: g)
    with pytest.raises(kind, match=r"^own: ") as raised:
        op(Value(np.ones(3)))
    assert isinstance(raised.value.__cause__, kind)
    assert any("lambda z" in line for line in _user_lines(raised.value.__cause__))  # the forward's own line


def test_a_vjp_that_fails_under_create_graph_keeps_its_own_line_as_the_cause():
    def vjp(g, out, z):
        slope = -np.sin(z)  # numpy's sin has no rule for Values
        return g * slope

    op = Op("raw_cos", np.cos, vjp)
    x = Value(np.linspace(0.1, 0.9, 3))
    with pytest.raises(TypeError, match=r"^raw_cos: its vjp cannot be differentiated: .*np\.sin") as raised:
        op(x).sum().backward(create_graph=True)
    cause = raised.value.__cause__
    assert isinstance(cause, TypeError) and str(cause).startswith("np.sin:")
    assert any("slope = -np.sin(z)" in line for line in _user_lines(cause))


@pytest.mark.parametrize(("activation", "op"), [(lambda z: F.softmax(z, axis=2), "softmax"),
                                                (lambda z: z.reshape(5), "reshape"),
                                                (lambda z: z @ np.ones((4, 4)), "matmul")])
def test_an_activation_failing_on_values_is_not_told_to_use_values(activation, op):
    with pytest.raises(ValueError, match=rf"^layer: the activation <lambda> failed on a Value of shape \(2, 3\) "
                                         rf"\({op}: ") as raised:
        nn.Layer(3, 3, activation=activation)(np.ones((2, 3)))
    assert "function of Values" not in str(raised.value)
    assert isinstance(raised.value.__cause__, ValueError)  # its traceback shows the activation's line
    assert any("lambda z" in line for line in _user_lines(raised.value.__cause__))


# --- guards ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("activation", "kind"), [(math.tanh, TypeError), (np.sin, TypeError),
                                                  (lambda z: Value(float(z)), TypeError)])
def test_an_activation_that_leaves_the_values_is_told_to_use_values(activation, kind):
    with pytest.raises(kind, match=r"^layer: the activation .* failed .*; use a function of Values") as raised:
        nn.Layer(3, 3, activation=activation)(np.ones((2, 3)))
    assert isinstance(raised.value.__cause__, kind)


@pytest.mark.parametrize(("mistake", "kind", "message"), [
    (lambda: Value(np.ones((2, 3))).reshape(4, 2), ValueError, r"^reshape: cannot reshape .*\(input shapes \(2, 3\)"),
    (lambda: Value(np.ones((2, 3))) @ Value(np.ones((2, 3))), ValueError, r"^matmul: shapes \(2, 3\) and \(2, 3\)"),
    (lambda: Value(np.ones((2, 3))).sum(axis=2), ValueError, r"^sum: axis 2 is out of bounds"),
    (lambda: Value(np.ones((2, 3))) + np.ones(4), ValueError, r"^add: shapes \(2, 3\) and \(4,\) cannot be broadcast"),
    (lambda: Value(np.arange(3.0))[5], IndexError, r"^index: index 5 is out of bounds for axis 0 with size 3"),
    (lambda: Value(np.ones(3)).reshape(2, "a"), TypeError, r"^reshape: "),
    (lambda: nn.MLP([2, 3, 1], rng=0)(np.ones((4, 3))), ValueError, r"^layer 1 \(2 → 3\): expects 2 inputs"),
    (lambda: losses.squared_error(Value(np.ones((4, 1))), np.ones(4)), ValueError,
     r"^squared_error: prediction has shape \(4, 1\) but target has shape \(4,\)"),
    (lambda: Value(np.ones(3)).backward(), ValueError, r"^backward: an output of shape \(3,\) needs an explicit grad"),
])
def test_a_mistake_in_the_packages_own_operations_stands_alone(mistake, kind, message):
    """numpy's error inside a built-in op only repeats the message: no chain to read past."""
    with pytest.raises(kind, match=message) as raised:
        mistake()
    assert _stands_alone(raised.value)


def test_a_custom_forward_that_is_numpys_own_function_stands_alone():
    """A forward that is numpy's (np.linalg.inv of a matrix that is not square) has no line of the user's to show."""
    inverse = Op("inverse", np.linalg.inv, lambda g, out, a: -(out.T @ g @ out.T))
    with pytest.raises(ValueError, match=r"^inverse: .*square") as raised:
        inverse(Value(np.ones((2, 3))))
    assert _stands_alone(raised.value)


def test_a_first_order_vjp_that_fails_keeps_its_own_line_as_the_cause():
    def vjp(g, out, z):
        return g @ np.ones((5, 5))  # the user's slip

    op = Op("slipped_vjp", lambda z: z * 2.0, vjp)
    with pytest.raises(ValueError, match=r"^slipped_vjp: its vjp raised ValueError: matmul") as raised:
        op(Value(np.ones(3))).sum().backward()
    assert any("g @ np.ones((5, 5))" in line for line in _user_lines(raised.value.__cause__))


def test_a_stale_graph_after_a_step_stands_alone_and_names_the_parameter():
    net = nn.MLP([2, 3, 1], rng=0)
    opt = optim.GradientDescent(net, learning_rate=0.1)
    cost = losses.squared_error(net(np.ones((4, 2))), np.ones((4, 1)))
    cost.backward()
    opt.step()
    with pytest.raises(ValueError, match=r"^backward: the graph is stale: '[Wb]\^\d' was changed in place") as raised:
        cost.backward()
    assert _stands_alone(raised.value)


def test_pytorch_keywords_stand_alone():
    """`lr=` and `epochs=` name the right words, without Python's own TypeError behind them."""
    net = nn.MLP([2, 1], rng=0)
    with pytest.raises(TypeError, match=r"^SGD: there is no argument lr=.*learning_rate=") as raised:
        optim.SGD(net, lr=0.1)
    assert _stands_alone(raised.value)
    with pytest.raises(TypeError, match=r"^backward: there is no argument retain_graph=") as raised:
        (Value(2.0) * 3.0).backward(retain_graph=True)
    assert _stands_alone(raised.value)
