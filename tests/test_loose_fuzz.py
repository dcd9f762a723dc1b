"""Loose ends of the fuzzer and the gradient checker: in-place operators in drawn graphs, and the notes of
check_gradients where finite differences cannot tell (an infinite slope, a vjp rounded to float32 at order 2, a
kinked slope, coarse values, a cancellation)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, find, settings

import tinygrad_edu.functional as F
from tinygrad_edu import Op, Value
from tinygrad_edu.testing import GradientCheckError, check_gradients
from tinygrad_edu.testing.strategies import Expression, expressions

FIRST_FOUND = settings(database=None, phases=[Phase.generate], derandomize=True, max_examples=3000,
                       suppress_health_check=list(HealthCheck))
CHANGED = re.compile(r"(with no_grad\(\): )?([xv]\d+) (\*\*|[-+*/])= ")


def _in_place_lines(expr: Expression) -> list[tuple[bool, str, str, bool]]:
    """(under no_grad, name, operator, whether an earlier line used the name) of each in-place line."""
    found = []
    for k, line in enumerate(expr.lines):
        change = CHANGED.match(line)
        if change:
            used = any(re.search(rf"=.*\b{change[2]}\b", earlier) for earlier in expr.lines[:k])
            found.append((bool(change[1]), change[2], change[3], used))
    return found


@pytest.mark.parametrize("max_nodes", [25, 12])  # the graphs of the first and of the second-order checks
def test_the_fuzzer_draws_every_in_place_operator_on_used_nodes_and_on_leaves_under_no_grad(max_nodes: int) -> None:
    seen: set[tuple[bool, str]] = set()
    wanted = {(False, symbol) for symbol in ("+", "-", "*", "/", "**")} | {(True, "+"), (True, "-"), (False, "used")}

    def covers(expr: Expression) -> bool:
        for no_grad, _, symbol, used in _in_place_lines(expr):
            seen.update({(no_grad, symbol)} | ({(False, "used")} if used and not no_grad else set()))
        return wanted <= seen

    try:
        find(expressions(max_nodes=max_nodes), covers, settings=FIRST_FOUND)
    except Exception:  # noqa: BLE001 - hypothesis gave up: report what is missing
        pass
    assert wanted - seen == set()


def test_an_in_place_line_leaves_the_old_node_to_its_users_and_a_leaf_changes_under_no_grad() -> None:
    x0, x1 = np.array([0.3, -1.2]), np.array([0.7, 0.4])
    expr = Expression((x0, x1), {"c0": np.array([0.5, -0.25])},
                      ("with no_grad(): x0 += c0", "v2 = x0 * x1", "v3 = F.tanh(v2)", "v2 *= x1", "v2 **= 2",
                       "v6 = v2 * v3 + (v2 / 2.0).sum()"))
    a = x0 + np.array([0.5, -0.25])  # the leaf's numbers after its change
    product = a * x1
    want = (product * x1) ** 2 * np.tanh(product) + ((product * x1) ** 2 / 2.0).sum()
    np.testing.assert_allclose(expr(Value(x0), Value(x1)).data, want, rtol=1e-12)
    np.testing.assert_allclose(expr.run(x0.copy(), x1.copy(), reference=True)["v6"], want, rtol=1e-12)
    leaf = Value(x0)
    expr(leaf, Value(x1))
    np.testing.assert_array_equal(leaf.data, a)  # the caller's leaf changed in place, as under PyTorch's no_grad
    check_gradients(expr, x0, x1, order=2)
    namespace: dict = {}
    exec(expr.program().split("\nprint(")[0], namespace)
    np.testing.assert_allclose(namespace["f"](Value(x0), Value(x1)).data, want, rtol=1e-12)


def _message(f, *inputs, **settings_) -> str:
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(f, *inputs, **settings_)
    return str(caught.value)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # (numpy's, of 1/(2√0) in the rule itself)
def test_an_infinite_slope_at_the_edge_of_the_domain_is_explained() -> None:
    message = _message(F.sqrt, np.array([0.0, 1.0]))
    assert re.search(r"\(0,\)\s+inf\s+nan", message)
    assert "analytic column is inf too, the slope itself is infinite there" in message


#: x² whose vjp rounds its result to float32: at order 2 the gradient differenced is rounded coarsely.
SQUARE_ROUNDED = Op("square_rounded", lambda x: x * x,
                    lambda g, out, x: (2 * g * x).astype(np.float32).astype(np.float64))


def test_a_vjp_rounded_to_float32_is_not_called_a_kink_at_order_2() -> None:
    message = _message(SQUARE_ROUNDED, np.array([0.37, -0.81, 1.9]), order=2)
    assert "order 2 failed" in message
    assert "kink: slopes" not in message and "sit at a kink" not in message


def test_the_step_the_kinked_slope_note_suggests_passes_every_order_checked() -> None:
    def f(x: Value) -> Value:
        return 100 * x * abs(x) + x ** 3

    message = _message(f, np.array([0.0]), order=2)
    assert "halves when the step is halved" in message
    suggested = re.search(r"try eps=([0-9.e+-]+)\)", message)
    if suggested:
        check_gradients(f, np.array([0.0]), order=2, eps=float(suggested[1]))


def test_a_wrong_derivative_hidden_in_coarse_values_is_not_called_right() -> None:
    """(x + 1e7) − 1e7 keeps x to 2e-9: its slopes over 1e-6 are rounded to 2e-3, and a derivative off by 2e-3 (a
    real bug: 1.002, not 1) cannot be told from a right one there; the note must say so, not excuse it."""
    shifted = Op("shifted", lambda x: (x + 1e7) - 1e7, lambda g, out, x: g * 1.002)
    message = _message(shifted, np.array([0.3]))
    assert "gap between the one-sided slopes doubles" in message
    bound = re.search(r"off by up to about ([0-9.e+-]+)", message)
    assert bound and float(bound[1]) >= 0.002, message
    assert "shown neither wrong nor right" in message


def test_a_cancellation_that_loses_the_digits_of_the_difference_is_explained() -> None:
    message = _message(lambda x: 1e10 + F.exp(3e4 * x), np.array([0.0]))
    assert "keeps few digits" in message and "shown neither wrong nor right" in message
