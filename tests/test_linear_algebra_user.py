"""An engineer doing linear algebra on Values: a linear system, an inverse, a determinant and its log, norms (1, 2,
max, Frobenius), outer products, a Gram matrix XᵀX, trace, kron, einsum and least squares by the normal equations.
The package has no such operations: numpy's functions on a Value are refused, named, and say what to write; each
formula said is run here and checked against numpy's numbers, closed forms (d det A/dA = det(A)·A⁻ᵀ, d‖x‖/dx =
x/‖x‖, d tr(AᵀA)/dA = 2A) and float64 central differences, to the second order where the engine goes.

Defects (xfail, strict: each fails on the code before the fix):

- the trace and diagonal-matrix formulas (``v.trace()``, ``np.trace``, ``np.diag``) and ``np.add.accumulate``'s
  multiplied a float32 Value by a float64 ``np.eye``/``np.ones``: the result was float64;
- ``np.linalg.norm`` with ``ord=1``, ``inf``, ``-inf`` or a p (vectors and matrices) said nothing to write, though
  each is a short formula (``abs(v).sum()``, ``abs(v).max()``, a matrix's largest column sum);
- numpy 2's ``np.linalg.vector_norm``, ``matrix_norm``, ``outer``, ``vecdot``, ``matrix_transpose`` and ``np.inner``,
  ``np.kron``, ``np.vecdot``, ``np.matvec`` said nothing to write (``np.outer``, ``np.linalg.norm`` do);
- ``np.linalg.inv``, ``det``, ``slogdet``, ``solve`` and ``lstsq`` said to use "tinygrad_edu operations on the Value",
  of which there is none: now they give the ``Op`` to write (inv, then det and solve through it);
- the 2-norm's formula ``(v ** 2).sum().sqrt()`` has a NaN gradient at v = 0 (0/0; PyTorch's norm gives 0), which
  neither ``np.linalg.norm`` nor ``v.norm`` said.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from helpers_gradients import central_difference
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Op, Value
from tinygrad_edu.autodiff import hessian
from tinygrad_edu.testing import check_gradients


def _message(call: Callable[[], Any]) -> str:
    with pytest.raises((TypeError, AttributeError)) as raised:
        call()
    return str(raised.value)


def _code(text: str) -> str:
    """The code at the start of ``text``, as a reader copies it out of the message: up to the first ", ", " for ",
    " and " or " (" and a word outside brackets, or the bracket that closes the one around it."""
    depth = 0
    for i, char in enumerate(text):
        depth += (char in "([") - (char in ")]")
        if depth < 0 or depth == 0 and re.match(r", | for | and | \([a-z]{2,}[^a-z(.]", text[i:]):
            return text[:i]
    return text


def _formula(call: Callable[[], Any]) -> str:
    """The formula a refusal suggests: after ``(here: `` (numpy's functions) or ``write `` (ufuncs, methods)."""
    message = _message(call)
    start = "(here: " if "(here: " in message else "write "
    assert start in message, message
    return _code(message[message.index(start) + len(start):])


def _run(formula: str, **names: Any) -> Value:
    return eval(formula, {"np": np, "functional": F, "F": F, "Op": Op}, names)  # noqa: S307 - the package's advice


def _definition(message: str, name: str) -> str:
    """The line ``name = Op(...)`` that a message gives, brackets balanced."""
    assert f"{name} = Op(" in message, message
    start = message.index(f"{name} = Op(")
    return message[start:start + len(_code(message[start:] + " ("))]


def _ops_as_advised(message: str, *names: str) -> dict[str, Any]:
    """The Ops the message says to write, defined as written (``inv`` first: ``det`` and ``solve`` use it)."""
    scope: dict[str, Any] = {"np": np, "Op": Op}
    for name in names:
        exec(_definition(message, name), scope)  # noqa: S102 - the package's advice, to check it
    return scope


_RNG = np.random.default_rng(20261205)
A = _RNG.normal(size=(3, 3)) + 3 * np.eye(3)  # well away from singular
X = _RNG.normal(size=(8, 3))
Y = _RNG.normal(size=8)


# --------------------------------------------------------------------------------------------------------- defects

@pytest.mark.parametrize("call", [lambda v: v.trace(), lambda v: np.trace(v), lambda v: np.diag(v[0]),
                                  lambda v: np.add.accumulate(v, axis=1)], ids=["v.trace", "np.trace", "np.diag",
                                                                                "add.accumulate"])
def test_the_trace_diag_and_cumsum_formulas_keep_a_float32_value_float32(call: Callable[[Value], Any]) -> None:
    v = Value(A.astype(np.float32))
    message = _message(lambda: call(v))
    start = "(here: " if "(here: " in message else "write "
    text = message[message.index(start) + len(start):]
    if "np.diag" in message:  # its second formula: the matrix with the vector v on its diagonal
        text = text[text.index("square v, ") + len("square v, "):]
    formula = _code(text)
    result = _run(formula, v=v[0] if "np.diag" in message else v, n=3)
    assert result.dtype == np.float32, formula
    np.testing.assert_allclose(result.data, call(v.data), rtol=1e-6)  # (numpy's own, on the numbers)


@pytest.mark.parametrize(("ndim", "order"), [(1, 1), (1, np.inf), (1, -np.inf), (1, 3), (1, 2), (1, -1), (2, 1),
                                             (2, np.inf), (2, -np.inf), (2, -1)])  # (a matrix's 2-norm: no formula)
def test_np_linalg_norm_of_every_order_with_a_formula_says_it_and_it_gives_numpys_norm(ndim: int, order: float) -> None:
    x = A if ndim == 2 else A[0] - 1.0
    formula = _formula(lambda: np.linalg.norm(Value(x), order))
    v = Value(x)
    out = _run(formula, v=v)
    np.testing.assert_allclose(out.data, np.linalg.norm(x, order), rtol=1e-12)
    out.backward()
    np.testing.assert_allclose(v.grad, central_difference(lambda a: np.linalg.norm(a, order), x), atol=1e-7)


@pytest.mark.parametrize("order", [1, np.inf])
def test_np_linalg_norm_along_an_axis_of_other_orders_says_a_formula_along_that_axis(order: float) -> None:
    for axis in (0, 1):
        formula = _formula(lambda: np.linalg.norm(Value(A), order, axis))  # noqa: B023
        np.testing.assert_allclose(_run(formula, v=Value(A), axis=axis).data, np.linalg.norm(A, order, axis),
                                   rtol=1e-12)


@pytest.mark.parametrize(("call", "x"), [
    (lambda v: np.linalg.vector_norm(v), A), (lambda v: np.linalg.vector_norm(v, ord=1), A[0]),
    (lambda v: np.linalg.vector_norm(v, ord=np.inf), A), (lambda v: np.linalg.vector_norm(v, axis=1), A),
    (lambda v: np.linalg.matrix_norm(v), A), (lambda v: np.linalg.matrix_norm(v, ord=1), A),
    (lambda v: np.linalg.matrix_norm(v, ord=np.inf), np.stack([A, A.T ** 2]))])
def test_numpy_2s_vector_and_matrix_norms_say_a_formula_giving_their_numbers(call: Callable[[Any], Any],
                                                                            x: np.ndarray) -> None:
    formula = _formula(lambda: call(Value(x)))
    np.testing.assert_allclose(_run(formula, v=Value(x), axis=1).data, call(x), rtol=1e-12)


@pytest.mark.parametrize(("call", "a", "b"), [
    (lambda a, b: np.linalg.outer(a, b), A[0], Y[:4]), (lambda a, b: np.linalg.vecdot(a, b), A, A.T),
    (lambda a, b: np.vecdot(a, b), A, A.T), (lambda a, b: np.inner(a, b), A[0], A[1]),
    (lambda a, b: np.linalg.matrix_transpose(a), X, None),  # (np.matvec, numpy 2.2, is above the floor)
    (lambda a, b: np.kron(a, b), A, X[:2, :2])],
    ids=["linalg.outer", "linalg.vecdot", "vecdot", "inner", "matrix_transpose", "kron"])
def test_numpys_products_say_a_formula_giving_their_numbers_and_gradient(call: Callable[..., Any], a: np.ndarray,
                                                                        b: np.ndarray | None) -> None:
    formula = _formula(lambda: call(Value(a), b if b is None else Value(b)))
    v = Value(a)
    m, n = a.shape if a.ndim == 2 else (len(a), 1)
    p, q = b.shape if b is not None and b.ndim == 2 else (0, 0)
    out = _run(formula, v=v, a=v, b=b, m=m, n=n, p=p, q=q)
    expected = call(a, b)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    weights = np.linspace(-1.0, 2.0, expected.size).reshape(expected.shape)
    (out * weights).sum().backward()
    np.testing.assert_allclose(v.grad, central_difference(lambda x: float((call(x, b) * weights).sum()), a),
                               atol=1e-7)


def test_np_linalg_det_gives_an_op_with_det_a_times_a_inverse_transposed_for_gradient_to_second_order() -> None:
    ops = _ops_as_advised(_message(lambda: np.linalg.det(Value(A))), "inv", "det")
    a = Value(A)
    out = ops["det"](a)
    np.testing.assert_allclose(out.data, np.linalg.det(A), rtol=1e-12)
    out.backward()
    np.testing.assert_allclose(a.grad, np.linalg.det(A) * np.linalg.inv(A).T, rtol=1e-10)  # det(A)·A⁻ᵀ
    assert check_gradients(lambda m: ops["det"](m), A, order=2).order == 2  # (or it raises)
    assert check_gradients(lambda m: ops["inv"](m), A, order=2).order == 2  # (or it raises)


def test_np_linalg_slogdet_gives_log_det_with_a_inverse_transposed_for_gradient() -> None:
    message = _message(lambda: np.linalg.slogdet(Value(A)))
    scope = _ops_as_advised(message, "inv", "det")
    a = Value(-A)  # a negative determinant: log|det|
    out = _run(_formula(lambda: np.linalg.slogdet(Value(A))), a=a, det=scope["det"])
    np.testing.assert_allclose(out.data, np.linalg.slogdet(-A)[1], rtol=1e-12)
    out.backward()
    np.testing.assert_allclose(a.grad, np.linalg.inv(-A).T, rtol=1e-10)  # d log|det A|/dA = A⁻ᵀ


@pytest.mark.parametrize("least_squares", [False, True], ids=["solve", "lstsq"])
def test_np_linalg_solve_and_lstsq_give_a_formula_whose_gradient_is_the_closed_forms(least_squares: bool) -> None:
    call = (lambda a, b: np.linalg.lstsq(a, b)) if least_squares else (lambda a, b: np.linalg.solve(a, b))
    message = _message(lambda: call(Value(X if least_squares else A), Value(Y if least_squares else A[0])))
    scope = _ops_as_advised(message, "inv")
    matrix, target = (X, Y) if least_squares else (A, A[0])
    a = Value(matrix)
    out = _run(_formula(lambda: call(Value(matrix), Value(target))), a=a, b=target, inv=scope["inv"])
    solution = np.linalg.lstsq(matrix, target, rcond=None)[0]
    np.testing.assert_allclose(out.data, solution, rtol=1e-10)
    (out ** 2).sum().backward()

    def squared(m: np.ndarray) -> float:
        return float((np.linalg.lstsq(m, target, rcond=None)[0] ** 2).sum())

    np.testing.assert_allclose(a.grad, central_difference(squared, matrix), atol=1e-7)


@pytest.mark.parametrize("call", [lambda v: np.linalg.norm(v), lambda v: v.norm()], ids=["np.linalg.norm", "v.norm"])
def test_the_norm_advice_says_its_gradient_at_zero_is_nan_and_what_to_write_then(call: Callable[[Value], Any]) -> None:
    message = _message(lambda: call(Value(A[0])))
    assert "NaN" in message and "at v = 0" in message
    safe = _code(message[message.index("if v can be 0, ") + len("if v can be 0, "):])
    zero = Value(np.zeros(3))
    out = _run(safe, v=zero)
    out.backward()
    assert abs(out.item()) < 1e-12 and np.array_equal(zero.grad, np.zeros(3))  # PyTorch's subgradient
    x = A[0]
    v = Value(x)
    _run(safe, v=v).backward()
    np.testing.assert_allclose(v.grad, x / np.linalg.norm(x), rtol=1e-12)  # d‖x‖/dx = x/‖x‖


# ------------------------------------------------------------------------------------------------------------- guards

_LINALG_CALLS = {
    "solve": (A, A[0]), "inv": (A,), "det": (A,), "slogdet": (A,), "cholesky": (A @ A.T,), "norm": (A,),
    "lstsq": (X, Y), "pinv": (A,), "qr": (A,), "svd": (A,), "svdvals": (A,), "eig": (A,), "eigh": (A,),
    "eigvals": (A,), "eigvalsh": (A,), "matrix_power": (A, 2), "matrix_rank": (A,), "cond": (A,),
    "tensorsolve": (A, A[0]), "vector_norm": (A,), "matrix_norm": (A,), "outer": (A[0], A[1]), "vecdot": (A, A),
    "trace": (A,), "diagonal": (A,), "cross": (A, A), "matrix_transpose": (A,), "matmul": (A, A),
    "tensordot": (A, A), "multi_dot": ([A, A, A],)}


@pytest.mark.parametrize("name", sorted(_LINALG_CALLS))
def test_guard_np_linalg_on_values_gives_a_value_with_numpys_numbers_or_a_named_refusal(name: str) -> None:
    """No function of np.linalg returns a plain array (the graph dropped) or fails with numpy's own words."""
    function = getattr(np.linalg, name)
    arguments = _LINALG_CALLS[name]
    valued = [[Value(m) for m in x] if isinstance(x, list) else Value(x) if isinstance(x, np.ndarray) else x
              for x in arguments]
    try:
        result = function(*valued)
    except TypeError as error:
        assert str(error).startswith(f"np.linalg.{name}: "), str(error)
        return
    assert isinstance(result, Value), type(result)
    np.testing.assert_allclose(result.data, function(*arguments), rtol=1e-12)


@given(st.lists(st.floats(-10, 10).filter(lambda t: abs(t) > 1e-3), min_size=1, max_size=6),
       st.sampled_from([1, 2, np.inf]))
def test_guard_vector_norms_as_advised_have_the_closed_form_gradients(numbers: list[float], order: float) -> None:
    x = np.array(numbers)
    v = Value(x)
    formula = {1: "abs(v).sum()", 2: "(v ** 2).sum().sqrt()", np.inf: "abs(v).max()"}[order]
    out = _run(formula, v=v)
    np.testing.assert_allclose(out.data, np.linalg.norm(x, order), rtol=1e-12)
    out.backward()
    if order == np.inf:
        top = np.abs(x) == np.abs(x).max()
        expected = np.sign(x) * top / top.sum()  # the largest |x_i|'s sign, split between ties
    else:
        expected = np.sign(x) if order == 1 else x / np.linalg.norm(x)
    np.testing.assert_allclose(v.grad, expected, rtol=1e-12, atol=1e-15)


def test_guard_the_hessian_of_the_two_norm_is_the_projection_over_the_norm() -> None:
    x = A[1]
    h = np.asarray(getattr(H := hessian(lambda v: (v ** 2).sum().sqrt())(x), "data", H))
    r = np.linalg.norm(x)
    np.testing.assert_allclose(h, (np.eye(3) - np.outer(x, x) / r ** 2) / r, rtol=1e-10, atol=1e-14)


def test_guard_frobenius_norm_and_trace_of_gram_matrix_have_their_closed_form_gradients() -> None:
    a = Value(A)
    (a ** 2).sum().sqrt().backward()
    np.testing.assert_allclose(a.grad, A / np.linalg.norm(A), rtol=1e-12)  # d‖A‖_F/dA = A/‖A‖_F
    a = Value(A)
    ((a.T @ a) * np.eye(3)).sum().backward()  # tr(AᵀA), the trace as the refusal of np.trace writes it
    np.testing.assert_allclose(a.grad, 2 * A, rtol=1e-12)
    assert check_gradients(lambda m: ((m.T @ m) * np.eye(3)).sum(), A, order=2).order == 2  # (or it raises)


def test_guard_the_outer_and_einsum_advice_give_numpys_numbers_and_gradients() -> None:
    x, y = A[0], X[0]
    a = Value(x)
    out = _run(_formula(lambda: np.outer(Value(x), Value(y))), a=a, b=y)
    np.testing.assert_array_equal(out.data, np.outer(x, y))
    (out * X[:3]).sum().backward()
    np.testing.assert_allclose(a.grad, X[:3] @ y, rtol=1e-12)  # ∂Σ W∘(x yᵀ)/∂x = W y
    a = Value(A)
    ((a * A.T).sum(1) ** 2).sum().backward()  # np.einsum('ij,ij->i', a, b) is (a * b).sum(1), the advice says
    np.testing.assert_allclose(a.grad, central_difference(
        lambda m: float((np.einsum("ij,ij->i", m, A.T) ** 2).sum()), A), atol=1e-7)


def test_guard_a_custom_solve_op_gives_least_squares_by_the_normal_equations_at_second_order() -> None:
    inv = Op("inv", np.linalg.inv, lambda g, out, a: -(out.T @ g @ out.T))

    def residual(x: Any) -> Any:
        w = inv(x.T @ x) @ (x.T @ Y)  # the normal equations, XᵀX w = Xᵀy
        return ((x @ w - Y) ** 2).sum()

    np.testing.assert_allclose(residual(Value(X)).item(), np.linalg.lstsq(X, Y, rcond=None)[1][0], rtol=1e-10)
    assert check_gradients(residual, X, order=2).order == 2  # (or it raises)
