"""Gradients in composition: random expression graphs (``strategies.expressions``) of 3 to ~25 nodes.

Each operation is tested alone in test_gradients.py; here they meet: fan-out, broadcasting both ways, reductions
over negative axes of reshaped transposes, indexing, numbers and arrays on either side of every operator.
Every drawn graph is checked in float64: each node's value against plain numpy (an independent reference) and
every input's gradient against central finite differences (``check_gradients``).  Further properties: float32
stays float32, a second backward doubles the leaves' gradients, ``no_grad`` computes the same numbers and records
nothing, changing a constant array after the forward pass changes no gradient, and second and third derivatives
match finite differences of the order below.

A failing graph is printed as a short runnable program.  CI draws ``20 × max_examples`` graphs for the main
property and the second derivatives (800 with the ``ci`` profile, derandomized), half that for the third
derivatives (their graphs are small, and the small order-3 samples left ops out) and a quarter for the others;
``HYPOTHESIS_PROFILE=thorough`` draws 20 × 500 = 10,000.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers_strategies import op_names
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from tinygrad_edu import Op, Value, no_grad, ops
from tinygrad_edu.testing import GradientCheckError, check_gradients
from tinygrad_edu.testing.strategies import Expression, OpSpec, expressions

GRAPHS = 20 * settings.default.max_examples
FUZZ = settings(max_examples=GRAPHS, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FEWER = settings(max_examples=GRAPHS // 4, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.data_too_large])
FIRST_FOUND = settings(database=None, phases=[Phase.generate], derandomize=True, max_examples=3000,
                       suppress_health_check=list(HealthCheck))


def leaves(expr: Expression, dtype=np.float64) -> list[Value]:
    return [Value(x.astype(dtype)) for x in expr.inputs]


def upstream(out: Value) -> np.ndarray:
    """A random ∂C/∂output (a uniform one would hide a gradient sent to the wrong element)."""
    return np.random.default_rng(0).standard_normal(out.shape).astype(out.dtype)


def gradients(values: list[Value]) -> list[np.ndarray | None]:
    return [None if v.grad is None else np.array(v.grad) for v in values]


@FUZZ
@given(expressions())
def test_values_match_numpy_and_gradients_match_finite_differences(expr: Expression) -> None:
    nodes = expr.run(*leaves(expr))
    expected = expr.run(*expr.inputs, reference=True)
    for name, node in nodes.items():
        np.testing.assert_allclose(node.data, expected[name], rtol=1e-9, atol=1e-12, err_msg=f"the value of {name}")
    check_gradients(expr, *expr.inputs)


@FEWER
@given(expressions())
def test_float32_inputs_stay_float32_end_to_end(expr: Expression) -> None:
    nodes = expr.run(*leaves(expr, np.float32), dtype=np.float32)
    assert {name: node.dtype for name, node in nodes.items() if node.dtype != np.float32} == {}
    out = nodes[expr.output_name]
    out.backward(upstream(out))
    wrong = {name: node.grad.dtype for name, node in nodes.items()
             if node.grad is not None and node.grad.dtype != np.float32}
    assert wrong == {}, "gradients that are not float32"


@FEWER
@given(expressions(), st.data())
def test_dtypes_follow_numpy_where_float32_and_float64_meet(expr: Expression, data: st.DataObject) -> None:
    """Each node's dtype is the one numpy gives for the same expression on arrays of the same dtypes."""
    floats = st.sampled_from([np.float32, np.float64])
    dtypes = [data.draw(floats, label=f"dtype of {x}") for x in expr.input_names]
    constants = data.draw(floats, label="dtype of the constants")
    arrays = [x.astype(dtype) for x, dtype in zip(expr.inputs, dtypes)]
    nodes = expr.run(*[Value(a) for a in arrays], dtype=constants)
    expected = expr.run(*arrays, reference=True, dtype=constants)
    wrong = {name: f"{node.dtype}, numpy gives {np.asarray(expected[name]).dtype}" for name, node in nodes.items()
             if node.dtype != np.asarray(expected[name]).dtype}
    assert wrong == {}


@FEWER
@given(expressions())
def test_a_second_backward_accumulates_on_the_leaves(expr: Expression) -> None:
    values = leaves(expr)
    nodes = expr.run(*values)
    out = nodes[expr.output_name]
    out.backward(upstream(out))
    for name, node in nodes.items():  # every gradient on the way is an array like its Value, never a numpy scalar
        if node.grad is not None:
            assert type(node.grad) is np.ndarray, f"{name}.grad is a {type(node.grad).__name__}"
            assert (node.grad.shape, node.grad.dtype) == (node.shape, node.dtype), f"{name}.grad"
    first = gradients(values)
    out.backward(upstream(out))
    for x, once, twice in zip(expr.input_names, first, gradients(values)):
        if once is None:
            assert twice is None, f"{x} got a gradient only the second time"
        else:
            np.testing.assert_array_equal(twice, 2 * once, err_msg=f"the gradient of {x} after two backwards")


@FEWER
@given(expressions())
def test_no_grad_computes_the_same_numbers_and_records_no_graph(expr: Expression) -> None:
    recorded = expr.run(*leaves(expr))
    with no_grad():
        unrecorded = expr.run(*leaves(expr))
    for name, node in unrecorded.items():
        np.testing.assert_array_equal(node.data, recorded[name].data, err_msg=name)
        if name.startswith("v"):
            assert not node.requires_grad and node.parents == (), f"{name} was recorded under no_grad"


@FEWER
@given(expressions())
def test_changing_a_constant_after_the_forward_pass_changes_no_gradient(expr: Expression) -> None:
    """Constant operands, index arrays and where-masks are the caller's arrays: scribbling on them between the
    forward and the backward pass must not change the gradients (issue 7, defect 8)."""
    values = leaves(expr)
    out = expr(*values)
    out.backward(upstream(out))
    expected = gradients(values)
    values = leaves(expr)
    constants = expr.constants_as(np.float64)
    out = expr(*values, constants=constants)
    for array in constants.values():
        array[...] = 0 if array.dtype.kind in "iu" else (~array if array.dtype == bool else 7.0)
    out.backward(upstream(out))
    for x, want, got in zip(expr.input_names, expected, gradients(values)):
        np.testing.assert_array_equal(got, want, err_msg=f"the gradient of {x} after its constants changed")


@FUZZ
@given(expressions(max_nodes=12))
def test_second_derivatives_match_finite_differences_of_the_gradient(expr: Expression) -> None:
    """backward(create_graph=True) records the backward pass; differentiating it again must match central
    differences of the ordinary gradient."""
    check_gradients(expr, *expr.inputs, order=2)


@settings(FEWER, max_examples=GRAPHS // 2)
@given(expressions(max_nodes=8))
def test_third_derivatives_match_finite_differences_of_the_second(expr: Expression) -> None:
    """The engine differentiates to any order: three passes, the first two recorded, against central differences
    of the second derivative (itself checked above)."""
    check_gradients(expr, *expr.inputs, order=3)


# --- the strategy itself -----------------------------------------------------------------------------------------
def test_the_graphs_use_every_registered_op() -> None:
    registered = {op.name for op in vars(ops).values() if isinstance(op, Op)}
    registered |= {ops.concatenate(1).name, ops.stack(1).name}  # (where is an Op of the module)
    seen: set[str] = set()

    def covers_all(expr: Expression) -> bool:
        try:
            seen.update(op_names(expr(*leaves(expr))))
        except Exception:  # noqa: BLE001 - a forward defect is reported by the properties above
            pass
        return registered <= seen

    try:
        find(expressions(), covers_all, settings=FIRST_FOUND)
    except Exception:  # noqa: BLE001 - hypothesis gave up: report what is missing
        pass
    assert registered - seen == set()


@settings(max_examples=30, deadline=None)
@given(expressions())
def test_the_graphs_have_3_to_25_nodes_and_their_program_runs_as_printed(expr: Expression) -> None:
    assert 3 <= len(expr.inputs) + len(expr.lines) <= 25
    program = expr.program()
    assert program == repr(expr)
    namespace: dict = {}
    exec(program.split("\nprint(")[0], namespace)  # up to the printing and checking at the end
    for given_input, printed in zip(expr.inputs, namespace["inputs"]):
        np.testing.assert_array_equal(printed, given_input)
    try:
        want = expr(*leaves(expr)).data
    except (IndexError, TypeError, ValueError):  # a forward defect: the printed program must raise it too
        with pytest.raises((IndexError, TypeError, ValueError)):
            namespace["f"](*leaves(expr))
        return
    np.testing.assert_array_equal(namespace["f"](*leaves(expr)).data, want)


def cube() -> Op:
    return Op("cube", lambda x: x ** 3, lambda g, out, x: 3 * g * x ** 2)


@settings(max_examples=25, deadline=None)
@given(expressions(extra_ops=[cube(), OpSpec(Op("my_log", np.log, lambda g, out, x: g / x), domain="positive"),
                              OpSpec(Op("scaled_mul", lambda a, b, scale: a * b * scale,
                                        (lambda g, out, a, b, scale: g * b * scale,
                                         lambda g, out, a, b, scale: g * a * scale)),
                                     params=st.fixed_dictionaries({"scale": st.sampled_from([0.5, 2.0])}))],
                   only_extra=True, max_nodes=8))
def test_custom_ops_are_fuzzed_in_composition(expr: Expression) -> None:
    check_gradients(expr, *expr.inputs)


def test_a_wrong_custom_op_is_found_and_printed_as_a_program_that_fails() -> None:
    half_square = Op("half_square", lambda x: x * x, lambda g, out, x: g * x)  # forgot the 2

    def wrong(expr: Expression) -> bool:
        try:
            check_gradients(expr, *expr.inputs)
        except GradientCheckError:
            return True
        return False

    expr = find(expressions(extra_ops=[half_square], only_extra=True), wrong, settings=FIRST_FOUND)
    program = expr.program()
    assert "half_square(" in program
    assert 'half_square = Op("half_square", lambda x: x * x, lambda g, out, x: g * x)' in program  # (round 50)
    with pytest.raises(GradientCheckError):
        exec(program, {"print": lambda *a: None})  # the program alone: it defines the Op


def test_kinked_custom_ops_stay_off_their_kinks_and_domains_are_kept() -> None:
    step = Op("step_abs", np.abs, lambda g, out, x: g * np.sign(x))
    arcsine = Op("arcsine", np.arcsin, lambda g, out, x: g / np.sqrt(1 - x * x))
    specs = [OpSpec(step, kinks=(0.0,)), OpSpec(arcsine, domain="unit")]

    @settings(max_examples=20, deadline=None, database=None)
    @given(expressions(extra_ops=specs, only_extra=True, max_nodes=6))
    def check(expr: Expression) -> None:
        check_gradients(expr, *expr.inputs)

    check()


def test_bad_arguments_are_named() -> None:
    with pytest.raises(TypeError, match="OpSpec: op must be a tinygrad_edu Op"):
        OpSpec(np.exp)
    with pytest.raises(ValueError, match="domain must be one of"):
        OpSpec(cube(), domain="complex")
    with pytest.raises(ValueError, match="a tuple of 1"):
        OpSpec(cube(), domain=("real", "real"))
    with pytest.raises(ValueError, match="min_nodes"):
        expressions(min_nodes=1)
    with pytest.raises(ValueError, match="only_extra=True needs extra_ops"):
        expressions(only_extra=True)
