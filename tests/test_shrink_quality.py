"""What a property test shows when it fails: planted bugs in custom Ops, found with the package's strategies, and
the counterexample hypothesis shrinks them to, compared with the smallest one written by hand.

Each search uses ``find`` (the same search and shrinking as ``@given``), derandomized, with the default
``max_examples`` (100) unless a test says otherwise.
"""

import numpy as np
import pytest
from hypothesis import find, given, settings

from tinygrad_edu import Op, Value
from tinygrad_edu.testing import GradientCheckError, check_gradients
from tinygrad_edu.testing.strategies import Expression, arrays, arrays_for, broadcastable_shapes, expressions, values

SEARCH = settings(database=None, derandomize=True, deadline=None)
#: The package's documented profiles (tests/conftest.py) as far as finding goes: ci/dev draw 40, thorough 500.
PROFILES = {"ci/dev": 40, "default": 100, "thorough": 500}


def _fails(f, *inputs, order: int = 1) -> bool:
    try:
        check_gradients(f, *inputs, order=order)
    except GradientCheckError:
        return True
    return False


def _raw(x):
    return x.data if isinstance(x, Value) else x


#: x² whose vjp is 2|x|: right for x ≥ 0, wrong for every negative x (smallest counterexample: one element, -1).
NEG_SQUARE = Op("neg_square", lambda x: x * x, lambda g, out, x: g * 2 * abs(x))
#: x² whose vjp adds 1 once the array has more than 3 elements (smallest: 4 zeros).
BIG_SQUARE = Op("big_square", lambda x: x * x, lambda g, out, x: g * (2 * x + (np.size(x) > 3)))
#: a·b whose vjp for a doubles when a is broadcast against b (smallest: a 0-d and a 1-element array).
BROADCAST_MUL = Op("broadcast_mul", lambda a, b: a * b,
                   (lambda g, out, a, b: g * b * (1 if np.shape(a) == np.shape(b) else 2),
                    lambda g, out, a, b: g * a))
#: x² whose vjp reads .data: right at order 1, second derivative 0 instead of 2 (smallest: one element, 0).
DATA_SQUARE = Op("data_square", lambda x: x * x, lambda g, out, x: g * 2 * _raw(x))
#: x² whose vjp is 3x in float32 only (smallest: one element, 1).
F32_SQUARE = Op("f32_square", lambda x: x * x,
                lambda g, out, x: g * (3 if np.asarray(_raw(x)).dtype == np.float32 else 2) * x)
#: a leaky ReLU whose vjp has slope 0.2 where the forward has 0.1 (x < 0): tested with avoid=(0.0,).
LEAKY = Op("leaky", lambda x: np.where(x > 0, x, 0.1 * x), lambda g, out, x: g * ((x > 0) + 0.2 * (x <= 0)))
#: max whose vjp goes to the first element, not the largest (smallest: two elements, the larger second).
FIRST_MAX = Op("first_max", lambda x: x.max(), lambda g, out, x: g * (x == x.flat[0]))


def _float32_grad_differs(v: Value) -> bool:
    wide = Value(v.data.astype(np.float64))
    F32_SQUARE(wide).sum().backward()
    F32_SQUARE(v).sum().backward()
    return not np.allclose(v.grad, wide.grad, rtol=1e-4, atol=1e-4)


# --- defects ------------------------------------------------------------------------------------------------------
def test_only_extra_shrinks_a_failing_unary_op_to_its_one_line():
    """Hand-minimal: ``v = neg_square(x)`` with x = -1 (unused 0-d inputs aside, as min_nodes=3 asks): one line.
    The room kept for helper nodes made the shrunk graph ``neg_square(x2); v3 + v3; neg_square(v4)``."""
    expr = find(expressions(extra_ops=[NEG_SQUARE], only_extra=True, max_nodes=6),
                lambda e: _fails(e, *e.inputs), settings=SEARCH)
    assert len(expr.lines) == 1 and expr.lines[0].split(" = ")[1].startswith("neg_square(x"), expr.lines
    assert sorted(float(x.sum()) for x in expr.inputs)[0] == -1.0 and all(x.size == 1 for x in expr.inputs)


# --- guards: planted bugs that are found and shrink well today ----------------------------------------------------
@pytest.mark.parametrize("examples", PROFILES.values(), ids=list(PROFILES))
def test_a_bug_for_negative_inputs_shrinks_to_minus_one(examples):
    found = find(arrays(), lambda x: _fails(NEG_SQUARE, x), settings=settings(SEARCH, max_examples=examples))
    assert found.size == 1 and found.ravel()[0] == -1.0
    value = find(values(), lambda v: _fails(NEG_SQUARE, v.data), settings=settings(SEARCH, max_examples=examples))
    assert value.data.size == 1 and value.data.ravel()[0] == -1.0


def test_a_bug_for_more_than_three_elements_shrinks_to_four_zeros():
    found = find(arrays(), lambda x: _fails(BIG_SQUARE, x), settings=SEARCH)
    assert found.size == 4 and not found.any()


def test_a_bug_when_broadcast_shrinks_to_two_single_elements():
    a, b = find(arrays_for(broadcastable_shapes()), lambda p: _fails(BROADCAST_MUL, *p), settings=SEARCH)
    assert a.shape != b.shape and a.size == b.size == 1 and {float(a.sum()), float(b.sum())} <= {0.0, 1.0}


def test_a_bug_at_second_order_only_shrinks_to_a_zero():
    found = find(arrays(), lambda x: _fails(DATA_SQUARE, x, order=2), settings=SEARCH)
    assert found.shape == () and found == 0.0


def test_a_bug_in_float32_only_shrinks_to_one():
    found = find(values(dtype=np.float32), _float32_grad_differs, settings=SEARCH)
    assert found.dtype == np.float32 and found.data.size == 1 and found.data.ravel()[0] == 1.0


def test_a_kink_kept_off_does_not_push_the_counterexample_off_simple_numbers():
    found = find(arrays(avoid=(0.0,)), lambda x: _fails(LEAKY, x), settings=SEARCH)
    assert found.size == 1 and found.ravel()[0] == -1.0


def test_a_bug_needing_two_elements_shrinks_to_two_even_with_min_gap():
    found = find(arrays(min_gap=1e-2), lambda x: _fails(FIRST_MAX, x), settings=SEARCH)
    assert found.size == 2


def test_a_shrunk_expression_prints_as_a_program_that_fails_the_same_way():
    expr = find(expressions(extra_ops=[NEG_SQUARE], only_extra=True, max_nodes=4), lambda e: _fails(e, *e.inputs),
                settings=SEARCH)
    assert "neg_square(" in expr.lines[0], expr.lines
    program = repr(expr)
    assert program == expr.program() and f"from {__name__} import NEG_SQUARE as neg_square\n" in program
    with pytest.raises(GradientCheckError):
        exec(program, {"print": lambda *args: None})


def test_given_reports_the_shrunk_expression_as_its_program_with_a_blob():
    """Under @given (no profile's settings, no health check suppressed) the failure notes show the program and a
    @reproduce_failure blob."""
    @settings(database=None, derandomize=True, deadline=None, print_blob=True,
              suppress_health_check=[])
    @given(expressions(extra_ops=[NEG_SQUARE], only_extra=True, max_nodes=4))
    def fuzz(expr: Expression) -> None:
        check_gradients(expr, *expr.inputs)

    with pytest.raises(GradientCheckError) as caught:
        fuzz()
    notes = "\n".join(getattr(caught.value, "__notes__", []))
    assert "def f(x0" in notes and "= neg_square(" in notes and "@reproduce_failure(" in notes
