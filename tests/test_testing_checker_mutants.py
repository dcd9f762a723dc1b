"""The gradient checker (``tinygrad_edu/testing/__init__.py``: numerical_gradient, check_gradients, the report, the
failure table and its notes) under a mutation run: each test pins a behaviour that a hand-made mutant (a tolerance
loosened or tightened, a comparison flipped, a note given where its claim is false, a check or a message dropped)
changed while the existing tests passed.

151 mutants of the checker (screened with test_testing, test_testing_edges, test_gradients and the module's
doctests; the survivors that change what passes or what an argument error says also with the checker's tests in
test_api_misuse, test_composition, test_autodiff, test_losses and test_nn): 104 killed before these tests, 142
after.  Most of the 38 newly killed ones loosen or bend what the check says: a tolerance that takes the larger of
atol and rtol·|numeric| (or either) instead of their sum, or ``<`` for ``≤``; a note that excuses a wrong derivative
(the step's, a kink's, the rounding's) given where its claim is false; the rows, their order and digits; the upstream
of a one-element output; order 1's step at order 2.

The run found two defects, each fixed with the test here that failed before:

- a smooth but large f (Σ(3x² + 10⁴) with a slope wrong by 3e-2) had rows marked as sitting at a kink, "so no
  derivative exists to check": the one-sided slopes differ by f's rounding over the step, which the kink test took
  for a jump in slope (72 of 111 such failures in a random sample were marked so; none since the kink test allows
  for f's rounding);
- the float32-input warning points at checks.py (the keyword-checking wrapper around check_gradients), not at the
  caller's line: stacklevel=3 did not count the wrapper's frame, as fit's warning does (stacklevel=4, now both).

Mutants left alive:

- ``_real_array`` without its copy (np.asarray): equivalent; the arrays are never written, every use copies them
  (Value() copies its data, ``_moved`` and numerical_gradient's evaluate copy too).
- ``_output`` without its float32 refusal: equivalent for any f whose output dtype does not depend on the input
  values; order 1's finite differences, run first, refuse a float32 output with the same message.
- the report's ``order`` taken from the order requested: equivalent; the report returned is always the last
  order's, which is the one requested.
- ``_backprop`` returning zeros rather than None for a constant output: equivalent; a None counts as zeros both in
  the analytic derivative and in the weighted sum differenced at higher orders.
- the same random weights at every order (instead of fresh ones per order): a wrong order-3 derivative that this
  misses must be antisymmetric in the two weighted slots while its recorded value and slope are 0; for an error
  recorded in one vjp (a function of x beside .data) the symmetry of mixed partials rules that out: no test found.
- the rounding resolution computed as |Σ w·(C₊ + C₋)| instead of Σ|w|·(|C₊| + |C₋|): differs only where the
  random upstream's weighted outputs cancel, so a test would depend on the draws; the note only explains a
  failure, it never passes one.
- the rounding note tried before the step note: both apply only when the disagreement is within f's rounding
  bound, where the halved step's difference is itself at rounding level; neither note is more right there.
- the no-graph note at orders 2 and up: reached only when order 1 passed for an input f's output does not reach
  (f nearly flat in it), and the note would then be true; no promise either way.
- the float32 warning's stacklevel=2 (or the old 3): killed by the warning's test since the fix (4).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Op, Value, is_grad_enabled, no_grad
from tinygrad_edu.testing import GradientCheckError, check_gradients, numerical_gradient

# At powers of two (and x = 1, 1.5, -3) every value of x² a step of 2⁻²⁰ away is exact in float64, so the central
# difference of x² is exactly 2x: the tolerances can be tested at their bounds, with no rounding to blur them.
EXACT_EPS = 2.0 ** -20


def square_off_by(error: float) -> Op:
    """x² whose vjp is (2x + error)·g: a derivative wrong by exactly ``error``."""
    return Op("square_off_by", lambda x: x * x, lambda g, out, x: g * (2 * x + error))


def half_square() -> Op:
    """x² with a derivative that forgot the factor 2."""
    return Op("half_square", lambda x: x * x, lambda g, out, x: g * x)


def failure(f, *inputs, **settings) -> str:
    """The message of the GradientCheckError that ``check_gradients`` must raise."""
    with pytest.raises(GradientCheckError) as raised:
        check_gradients(f, *inputs, **settings)
    return str(raised.value)


# --- the tolerance: |analytic − numeric| ≤ atol + rtol·|numeric| ------------------------------------------------------
def test_the_central_difference_of_x_squared_is_exactly_2x_at_the_points_used_below():
    x = np.array([1.0, 1.5, -3.0])
    assert np.all(numerical_gradient(lambda v: v * v, x, eps=EXACT_EPS, upstream=np.ones(3))[0] == 2 * x)


@pytest.mark.parametrize("error, passes", [(0.75, True), (-1.0, True), (1.0, True), (1.25, False), (-1.25, False)])
def test_atol_and_rtol_add_up_and_the_bound_itself_passes(error, passes):
    """atol=0.5, rtol=0.25 at numeric 2: the bound is 0.5 + 0.25·2 = 1.  An error of 0.75 is beyond each tolerance
    alone (a check by the larger of the two, or by either one, would fail it); an error of exactly 1 is within
    (≤, not <); 1.25 is not."""
    f = square_off_by(error)
    if passes:
        report = check_gradients(f, np.array(1.0), eps=EXACT_EPS, atol=0.5, rtol=0.25)
        assert report.max_abs_error == (abs(error),)
    else:
        with pytest.raises(GradientCheckError, match=r"1 of 1 gradient elements disagree .*\(atol=0.5, rtol=0.25\)"):
            check_gradients(f, np.array(1.0), eps=EXACT_EPS, atol=0.5, rtol=0.25)


@pytest.mark.parametrize("error, passes", [(0.5, True), (0.75, False)])
def test_with_rtol_0_atol_alone_is_the_bound(error, passes):
    """atol=0.5, rtol=0: an error of 0.5 passes and 0.75 fails (a doubled atol would pass it)."""
    f = square_off_by(error)
    if passes:
        check_gradients(f, np.array(1.0), eps=EXACT_EPS, atol=0.5, rtol=0.0)
    else:
        with pytest.raises(GradientCheckError):
            check_gradients(f, np.array(1.0), eps=EXACT_EPS, atol=0.5, rtol=0.0)


def test_the_reports_relative_error_is_over_the_larger_of_the_two_derivatives():
    """Analytic 1.5 against numeric 2 (passing with rtol=0.25, at its bound): the relative error is 0.5/2 = 0.25,
    over max(|analytic|, |numeric|), not 0.5/1.5 over the analytic one."""
    report = check_gradients(square_off_by(-0.5), np.array(1.0), eps=EXACT_EPS, atol=0.0, rtol=0.25)
    assert report.max_abs_error == (0.5,) and report.max_rel_error == (0.25,)
    row = failure(square_off_by(1.0), np.array(1.0), eps=EXACT_EPS, atol=0.0, rtol=0.25).splitlines()[3].split()
    assert row[2:] == ["3", "2", "1.00e+00", "3.33e-01"]  # in the table too: 1/3, over the analytic 3 here


# --- the notes: which element they speak of, and that their claims hold -----------------------------------------------
def test_the_notes_speak_of_the_worst_disagreeing_element_of_any_input():
    """Input 0's slope is wrong by 1e-3, input 1 sits where f jumps (its difference, 1/2ε, is the worst): the note
    is about the jump at input 1, not about the first input that disagrees."""
    message = failure(lambda a, b: square_off_by(1e-3)(a).sum() + F.where(b.data > 0.0, b * 0.0 + 1.0, b * 0.0).sum(),
                      np.array([1.0]), np.array([0.0]), eps=1e-5)
    assert "doubles when the step is halved" in message and "jumps there" in message


def test_the_worst_element_is_a_disagreeing_one_not_a_larger_error_within_its_tolerance():
    """Input 0 agrees with an error of 1e-2 (a relative 1e-6 of a slope of 1e4, within rtol); input 1 disagrees by
    the kinked-slope error 3ε of x·|x|·3 at 0, which halves with the step: that note, about input 1, is given."""
    steep = Op("steep", lambda x: x * 1e4, lambda g, out, x: g * 1e4 * (1 + 1e-6))
    message = failure(lambda a, b: steep(a).sum() + (b * b.abs() * 3.0).sum(), np.array([1.0]), np.array([0.0]),
                      eps=1e-5)
    assert "1 of 2 gradient elements disagree" in message
    assert re.search(r"disagreement halves when the step is halved \(3e-05, then 1\.\d*e-05\)", message)


def test_a_wrong_slope_at_a_kink_in_the_slope_is_not_excused_as_the_steps_error():
    """x·|x|·3 at 0 has slope 0; a vjp that says −3e-5 is wrong.  With ε = 1e-5 the difference is 3e-5, then 1.5e-5
    with half the step: the disagreement goes from 6e-5 to 4.5e-5, which is not halving, so no note says the
    derivative is not shown to be wrong."""
    shifted = Op("x_abs_x", lambda x: x * np.abs(x) * 3.0, lambda g, out, x: g * (6.0 * np.abs(x) - 3e-5))
    message = failure(lambda v: shifted(v).sum(), np.array([0.0]), eps=1e-5)
    assert "halves" not in message and "not shown to be wrong" not in message


def test_a_difference_that_grows_by_half_with_half_the_step_is_not_said_to_double():
    """f = x + 2ε·[x > 0] at 0 (ε = 1e-6): the difference is 1 + 1 = 2, then 1 + 2 = 3 with half the step; the note
    that the difference doubles is only for a ratio of about 2."""
    message = failure(lambda v: F.where(v.data > 0.0, v + 2e-6, v).sum(), np.array([0.0]))
    assert "doubles" not in message


def test_a_difference_of_0_against_a_wrong_slope_is_not_said_to_double():
    """x² at 0 with a vjp of 2x + 1: the difference is 0, and 0 with half the step; 0 does not "double"."""
    message = failure(lambda v: square_off_by(1.0)(v).sum(), np.array([0.0]))
    assert "doubles" not in message and "jumps" not in message


def test_a_halved_step_lost_on_one_side_gives_no_note_about_halving():
    """3·relu(x − 1) at x = 1 with ε = 2⁻⁵²: 1 + ε/2 rounds back to 1 while 1 − ε/2 does not, so no central
    difference with half the step exists; the kink is named, and no note compares the step with its half."""
    assert 1.0 + 2.0 ** -53 == 1.0 and 1.0 - 2.0 ** -53 != 1.0
    message = failure(lambda v: (v - 1.0).relu() * 3.0, np.array(1.0), eps=2.0 ** -52)
    assert "kink: slopes left | right" in message
    assert "step is halved" not in message and "halves" not in message


def test_a_wrong_slope_of_a_large_cost_is_not_excused_by_the_rounding_note():
    """Σ(3x² + 10⁴) with x ≈ 1e-3 and a slope wrong by 3e-2: f's rounding over the step is about 1e-4, far under
    the disagreement, so the note that the difference cannot resolve it is not given."""
    message = failure(lambda v: (square_off_by(1e-2)(v) * 3.0 + 1e4).sum(), np.linspace(1e-3, 2e-3, 20))
    assert "20 of 20 gradient elements disagree" in message
    assert "within the rounding" not in message and "not shown to be wrong" not in message


def test_the_data_note_needs_an_analytic_0_at_every_disagreeing_element():
    """x³/3 whose vjp is x² in value for both elements, but reads .data for element 0 (its second derivative seen as
    0, not 2x) and is recorded as 1.5x² − 0.5·x.data² for element 1 (seen as 3x): both disagree at order 2, but
    element 1's analytic value is not 0, so the note that the analytic derivative is 0 wherever it disagrees (a vjp
    that reads .data) is not given."""
    mask = np.array([1.0, 0.0])

    def vjp(g, out, x):
        raw = x.data if isinstance(x, Value) else x
        return g * (raw ** 2 * mask + (x * x * 1.5 - raw ** 2 * 0.5) * (1 - mask))
    cube = Op("third_cube", lambda x: x ** 3 / 3, vjp)
    x = np.array([1.0, 2.0])
    check_gradients(lambda v: cube(v).sum(), x)  # the first derivative is right
    message = failure(lambda v: cube(v).sum(), x, order=2)
    assert "2 of 2 second-order elements" in message
    assert "analytic derivative is 0 wherever it disagrees" not in message
    only_data = failure(lambda v: cube(v).sum(), x * mask + mask, order=2)  # (x = [2, 0]: element 1's 3x is 0 too)
    assert "analytic derivative is 0 wherever it disagrees" in only_data


def test_under_no_grad_a_wrong_derivative_gets_no_note_that_f_holds_no_graph():
    """Inside no_grad() the check records f for itself; its look at whether f's output reaches the inputs must
    record too, or every failure there would blame f for using .data."""
    with no_grad():
        message = failure(lambda v: half_square()(v).sum(), np.array([1.0, 2.0]))
    assert "no graph" not in message and ".data" not in message


def test_an_input_f_does_not_use_is_not_named_in_the_note_on_other_inputs_failure():
    """Input 0 is unused (gradient 0, numeric 0: it agrees); input 1's derivative is wrong, with a graph: no note
    that f's output holds no graph from input 0."""
    message = failure(lambda a, b: half_square()(b).sum(), np.array([1.0]), np.array([1.0, 2.0]))
    assert "no graph" not in message


def test_an_f_that_is_nan_at_the_point_is_not_called_random():
    """f = x·NaN gives NaN every time: the same values twice (NaN equal to NaN), so f is deterministic; the table
    shows the NaN rather than blaming random numbers inside f."""
    message = failure(lambda v: (v * np.nan).sum(), np.array([1.0, 2.0]))
    assert "2 of 2 gradient elements disagree" in message and "nan" in message
    assert "not deterministic" not in message


def test_a_nan_derivative_of_a_finite_f_is_not_blamed_on_f_leaving_its_domain():
    """A vjp that returns NaN: the numeric column is finite (f is finite all around), so the note about f not
    being finite a step away would be false."""
    nan_op = Op("nan_op", lambda x: x * 1.0, lambda g, out, x: g * np.nan)
    message = failure(lambda v: nan_op(v).sum(), np.ones(2))
    assert "2 of 2 gradient elements disagree" in message and "not finite a step away" not in message


# --- kinks ------------------------------------------------------------------------------------------------------------
def test_a_small_kink_is_still_named_as_one():
    """1e-4·relu at 0: the one-sided slopes 0 and 1e-4 differ by far more than the tolerance there (about 1e-6)."""
    message = failure(lambda v: v.relu() * 1e-4, np.array(0.0))
    assert message.splitlines()[3].split()[-3:] == ["0", "|", "0.0001"]


def test_the_kink_verdict_uses_the_checks_own_step():
    """x² with a slope wrong by 1, plus 3·relu(x − 5e-6), at x = 0: the kink is 5ε away, beyond the step, so the
    one-sided slopes over ε agree and the row is not marked as sitting at a kink."""
    message = failure(lambda v: (v - 5e-6).relu() * 3.0 + square_off_by(1.0)(v), np.array(0.0))
    assert "1 of 1 gradient elements disagree" in message and "kink" not in message


@pytest.mark.parametrize("constant", [3e2, 1e3, 1e4, 1e5, 1e6])
def test_a_wrong_slope_of_a_large_smooth_cost_is_not_said_to_sit_at_a_kink(constant):
    """Σ(3x² + c) is smooth, and its slope here is wrong by 3e-2.  Where c is large, the one-sided slopes over
    ε = 1e-6 differ by f's rounding over the step (one unit in the last place of 20c over 1e-6: 3.6e-6 at
    c = 10³, 2.9e-5 at c = 10⁴), and by another random amount with half the step: beyond ten times the tolerance
    (1e-5), rows were marked as sitting at a kink, "so no derivative exists to check", excusing a derivative that
    is simply wrong."""
    message = failure(lambda v: (square_off_by(1e-2)(v) * 3.0 + constant).sum(), np.linspace(1e-3, 2e-3, 20))
    assert "20 of 20 gradient elements disagree" in message
    assert "kink" not in message


# --- the table --------------------------------------------------------------------------------------------------------
def test_the_table_has_exactly_the_given_rows_then_how_many_more():
    """12 wrong elements (x against 2x) with rows=3: the sentence, the header, a rule, the 3 worst rows (the
    largest x) and "... and 9 more"."""
    lines = failure(lambda v: half_square()(v).sum(), np.arange(1.0, 13.0), rows=3).splitlines()
    assert lines[0].startswith("check_gradients: 12 of 12 gradient elements disagree")
    assert [line.split()[1] for line in lines[3:6]] == ["(11,)", "(10,)", "(9,)"]
    assert lines[6:] == ["... and 9 more"]


def test_a_table_of_exactly_the_given_rows_has_no_line_of_more():
    """3 wrong elements with rows=3: all are shown, and no "... and 0 more" follows."""
    lines = failure(lambda v: half_square()(v).sum(), np.array([1.0, 2.0, 3.0]), rows=3).splitlines()
    assert len(lines) == 6 and "more" not in lines[-1]


def test_rows_are_ordered_by_how_far_they_lie_beyond_their_tolerance():
    """rtol=0.5, atol=0 at x = 1, 3, 0.25 (numeric 2, 6, 0.5; tolerances 1, 3, 0.25) with errors 1.5, 3.25, 1:
    beyond the tolerance by 0.5, 0.25, 0.75.  Element 2 comes first though its error is the smallest, then 0, then
    1, whose error is the largest."""
    errors = np.array([1.5, 3.25, 1.0])
    off = Op("square_off", lambda x: x * x, lambda g, out, x: g * (2 * x + errors))
    lines = failure(lambda v: off(v).sum(), np.array([1.0, 3.0, 0.25]), eps=EXACT_EPS, atol=0.0, rtol=0.5).splitlines()
    assert [line.split()[1] for line in lines[3:]] == ["(2,)", "(0,)", "(1,)"]
    assert [float(line.split()[4]) for line in lines[3:]] == [1.0, 1.5, 3.25]


def test_an_element_without_a_finite_difference_heads_the_table():
    """Input 0 is off by 10⁶ (half of (10³x)²'s slope), input 1 = 1e-7 has no difference (√ leaves its domain
    within the step): with rows=1 the one row shown is the one that cannot be checked at all."""
    lines = failure(lambda a, b: half_square()(a * 1e3).sum() + b.sqrt().sum(), np.array([1.0, 2.0]),
                    np.array([1e-7]), rows=1).splitlines()
    assert lines[3].split()[:2] == ["1", "(0,)"] and lines[3].split()[3:] == ["nan", "nan", "nan"]
    assert lines[4] == "... and 2 more"


def test_the_table_gives_six_significant_digits():
    """x = 1.234567 with x²'s slope halved: the analytic column reads 1.23457 and the numeric one 2.46913."""
    row = failure(lambda v: half_square()(v).sum(), np.array([1.234567])).splitlines()[3].split()
    assert float(row[2]) == pytest.approx(1.234567, abs=6e-6) and float(row[3]) == pytest.approx(2.469134, abs=6e-6)


# --- arguments, and what f is given -----------------------------------------------------------------------------------
@pytest.mark.parametrize("check", [check_gradients, numerical_gradient])
def test_a_tuple_among_several_inputs_gets_no_hint_about_one_tuple(check):
    """Two inputs given, the first a tuple: the count is the problem, not a tuple given for all the inputs."""
    x = np.array([1.0, 2.0])
    with pytest.raises(TypeError, match=re.escape(f"{check.__name__}: f <lambda>(a) cannot be called with the 2 "
                                                  "input(s) given") + "$"):
        check(lambda a: (a * a).sum(), (x, x), x)


@pytest.mark.parametrize("result, name", [(None, "NoneType"), ("nope", "str"), ({"a": 1}, "dict")])
def test_numerical_gradient_names_the_type_f_returned(result, name):
    with pytest.raises(TypeError, match=rf"^numerical_gradient: f must return a Value or an array of real numbers, "
                                        rf"got {name}$"):
        numerical_gradient(lambda x: result, np.ones(2))


def test_an_output_of_no_elements_needs_an_upstream_gradient():
    """Only an output of size 1 may go without upstream (∂C/∂output): size 0 is not size 1."""
    with pytest.raises(ValueError, match=r"^numerical_gradient: f returned shape \(0,\); give upstream"):
        numerical_gradient(lambda x: x[:0], np.array([1.0, 2.0]))
    assert np.all(numerical_gradient(lambda x: x[:0], np.array([1.0, 2.0]), upstream=np.ones(0))[0] == 0.0)


@pytest.mark.parametrize("check", [check_gradients, numerical_gradient])
def test_an_output_that_keeps_its_size_but_not_its_shape_within_the_step_is_refused(check):
    """(1, 2) at the point and (2, 1) a step away: the same 2 numbers, but a difference of the two would broadcast
    to 2 × 2 and mean nothing."""
    def f(v):
        data = v.data if isinstance(v, Value) else v
        return v.reshape((2, 1) if data[0] > 1.0 else (1, 2))
    settings = {"upstream": np.ones((1, 2))} if check is numerical_gradient else {}
    with pytest.raises(ValueError, match=rf"^{check.__name__}: f returned shape \(2, 1\) for inputs moved by ±eps "
                                         r"but \(1, 2\) for the inputs given"):
        check(f, np.array([1.0, 2.0]), **settings)


def test_numerical_gradient_calls_f_under_no_grad_for_values_and_arrays():
    """As documented: Values reach f as Values evaluated under no_grad() (so f records no graph), even when
    numerical_gradient itself is called with gradients enabled; for Values, once more recorded at the inputs (the
    comparison that finds an f computing other numbers under no_grad), never at a point a step away."""
    modes, kinds = [], []

    def f(v):
        modes.append(is_grad_enabled())
        kinds.append(type(v))
        return (v * v).sum()
    numerical_gradient(f, Value(np.array([1.0, 2.0])))
    assert modes == [False, True, False, False, False, False] and set(kinds) == {Value}
    modes.clear(), kinds.clear()
    numerical_gradient(f, np.array([1.0, 2.0]))
    assert modes and not any(modes) and set(kinds) == {np.ndarray}


def test_the_finite_differences_of_check_gradients_record_no_graph():
    """f runs with gradients on for the backward pass (and for its output's shape), and under no_grad() for each of
    the 2·n values a step away, which need no graph."""
    modes = []

    def f(v):
        modes.append(is_grad_enabled())
        return (v * v).sum()
    check_gradients(f, np.array([1.0, 2.0, 3.0]))
    assert modes.count(False) == 6 and modes.count(True) >= 1


def test_f_gets_its_inputs_with_the_labels_given():
    """The Values check_gradients builds for the backward pass carry the labels of the Values given."""
    labels = []

    def f(v):
        labels.append(v.label)
        return (v * v).sum()
    check_gradients(f, Value(np.array([1.0, 2.0]), label="w"))
    assert "w" in labels


def test_a_float32_input_is_named_by_its_place_in_the_call():
    """A held-fixed Value first, the float32 array second: the warning names input 1, as the table would."""
    mask = Value(np.array([1.0, 0.5]), requires_grad=False)
    with pytest.warns(UserWarning, match=r"^check_gradients: input 1 is float32"):
        check_gradients(lambda m, a: (m * a * a).sum(), mask, np.array([1.0, 2.0], dtype=np.float32))


def test_the_float32_warning_points_at_the_line_that_called_check_gradients():
    """A warning is shown at the caller's line (and filtered by the caller's module), as fit's DivergenceWarning is
    through the same keyword-checking wrapper."""
    with pytest.warns(UserWarning, match="input 0 is float32") as caught:
        check_gradients(lambda a: (a * a).sum(), np.ones(2, dtype=np.float32))
    assert caught[0].filename == __file__


# --- the upstream gradient and the orders -----------------------------------------------------------------------------
def test_a_vjp_that_drops_the_sign_of_the_upstream_gradient_fails():
    """|g|·2x is right for a positive upstream gradient only: the random upstream has both signs."""
    abs_upstream = Op("abs_upstream", lambda x: x * x, lambda g, out, x: np.abs(g) * 2 * x)
    with pytest.raises(GradientCheckError):
        check_gradients(abs_upstream, np.array([1.0, 2.0, 3.0]))


def test_an_output_of_one_element_in_any_shape_is_backpropagated_with_upstream_1():
    """f returns shape (1,) or (1, 1): a single number, so ∂C/∂output is 1 and the report's gradient of Σx² is 2x,
    not 2x times a random number."""
    x = np.array([1.0, 2.0])
    for shape in ((1,), (1, 1)):
        report = check_gradients(lambda v, s=shape: (v * v).sum().reshape(s), x)
        assert np.all(report.analytic[0] == 2 * x) and np.allclose(report.numeric[0], 2 * x, rtol=1e-9)


def test_order_2_checks_the_first_derivative_with_the_first_orders_step():
    """10⁵x³ at 0: the gradient 3·10⁵x² is 0, and its central difference is ε²·10⁵: 1e-7 with order 1's ε = 1e-6
    (passes), but 1e-5 with order 2's ε = 1e-5 (would fail).  Its second derivative is checked with 1e-5, exact
    for the quadratic gradient."""
    report = check_gradients(lambda v: v ** 3 * 1e5, 0.0, order=2)
    assert report.order == 2 and report.eps == 1e-5
