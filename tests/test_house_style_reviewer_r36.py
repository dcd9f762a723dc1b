"""The package's structure and style after the thirty-sixth round, as a reviewer reads it: an operation's setting is
written one way, whether a drawing shows it (``notation.param_text``, new this round) or an error names it (the
engine's message said ``axis=np.int64(3)`` and ``key=(slice(None, None, None), …)`` where the drawing says ``axis=3``
and ``key=(:, …)``: two helpers for one job, now one); ``ops.sum_to``, the broadcasting rule the engine shares, has
its type hints; and this round's new notation helpers keep what their docstrings say."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import Value, notation, ops

PACKAGE = Path(tinygrad_edu.__file__).parent


def _message(action) -> str:
    with pytest.raises((IndexError, ValueError)) as caught:
        action()
    return str(caught.value)


# ---- defects ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("action", "written", "not_written"), [
    (lambda v: v.sum(axis=np.int64(3)), "axis=3,", "np.int64"),
    (lambda v: v[np.int64(4)], "key=4)", "np.int64"),
    (lambda v: v.reshape(np.int64(4), np.int64(2)), "shape=(4, 2))", "np.int64"),
    (lambda v: v[:, np.array([0, 5])], "key=(:, ", "slice(None"),
    (lambda v: v[..., 7], "key=(..., 7))", "Ellipsis"),
], ids=["axis", "index", "shape", "slice", "ellipsis"])
def test_an_error_writes_an_ops_settings_as_the_drawings_do(action, written, not_written) -> None:
    message = _message(lambda: action(Value(np.ones((2, 3)))))
    assert written in message and not_written not in message, message


def test_every_public_function_of_ops_has_type_hints() -> None:
    tree = ast.parse((PACKAGE / "ops.py").read_text(encoding="utf-8"))
    unhinted = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            if node.returns is None or any(argument.annotation is None for argument in arguments):
                unhinted.append(node.name)
    assert "inputs_error" in {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}  # (the walk sees them)
    assert not unhinted, unhinted


# ---- guards -------------------------------------------------------------------------------------------------------


def test_an_error_still_shows_a_big_index_array_by_its_shape_even_inside_a_key() -> None:
    v = Value(np.ones((3, 3)))
    message = _message(lambda: v[:, np.arange(20) % 4])
    assert "array of shape (20,)" in message and "0, 1, 2, 3, 0" not in message, message


@pytest.mark.parametrize(("value", "text"), [
    (np.int64(0), "0"), (np.float32(0.1), "0.1"), (slice(None), ":"), (slice(1, None, 2), "1::2"),
    (slice(None, None, -1), "::-1"), ((1,), "(1,)"), ([np.int64(1), 2], "[1, 2]"), (Ellipsis, "..."),
    ((slice(None), np.array([0, 2])), "(:, [0, 2])"), ((Ellipsis, None), "(..., None)"), ("mean", "'mean'")])
def test_param_text_writes_a_setting_as_python_writes_it(value, text) -> None:
    assert notation.param_text(value) == text


def test_param_text_of_a_slice_is_what_indexes_alike() -> None:
    """Each slice written by param_text, put back in brackets, picks what the slice itself picks."""
    array = np.arange(10)
    for part in (slice(None), slice(2, None), slice(None, 7), slice(1, 8, 3), slice(None, None, -2), slice(-3, None)):
        assert np.array_equal(eval(f"array[{notation.param_text(part)}]"), array[part])  # noqa: S307


def test_param_text_keeps_one_line_whatever_numpys_print_options() -> None:
    with np.printoptions(precision=2, sign="+", threshold=3, linewidth=10):
        assert notation.param_text(np.array([0, 1, 2, 3])) == "[0, 1, 2, 3]"
        assert notation.param_text(np.array([0.123456, 2.0])) == "[0.123456, 2.]"


@pytest.mark.parametrize(("name", "written"), [
    ("z", "z"), ("3", "3"), ("z²", "(z²)"), ("αᴸ⁻¹", "(αᴸ⁻¹)"), ("ln x", "(ln x)"), ("(w · x)", "(w · x)"),
    ("(a)·(b²)", "((a)·(b²))"), ("x^0.5", "(x^0.5)")])
def test_exponent_groups_what_would_read_otherwise(name, written) -> None:
    assert notation.exponent(name) == written


def test_exponent_refuses_a_name_that_is_no_str() -> None:
    with pytest.raises(TypeError, match="^exponent: name must be a str, got int$"):
        notation.exponent(3)  # type: ignore[arg-type]


def test_sum_to_sums_a_broadcast_gradient_back_to_its_shape() -> None:
    g = np.arange(24.0).reshape(2, 3, 4)
    for shape in [(3, 4), (1, 4), (3, 1), (1, 1), (2, 1, 4), (4,), ()]:
        expected = g.sum(axis=tuple(range(g.ndim - len(shape))))
        expected = expected.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)
        assert np.array_equal(ops.sum_to(g, shape), expected.reshape(shape)), shape
    assert inspect.signature(ops.sum_to).parameters.keys() == {"g", "shape"}
