"""Round 50's engineer, property-testing the gradients of their own Ops: an Op's rules changed after it was made,
a vjp given only its own input, which element a failed check's header names, and when expressions() calls a forward."""

import math

import numpy as np
import pytest
from hypothesis import given, settings

from tinygrad_edu import Op, Value
from tinygrad_edu.testing import GradientCheckError, check_gradients
from tinygrad_edu.testing.expressions import Expression
from tinygrad_edu.testing.strategies import expressions


def _mul() -> Op:
    return Op("mul", lambda a, b: a * b, (lambda g, out, a, b: g * b, lambda g, out, a, b: g * a))


# --- item 2: op.vjps reassigned shorter -------------------------------------------------------------------------------
def test_vjps_reassigned_shorter_is_refused_at_assignment_naming_the_op_and_counts() -> None:
    """A Value recorded with two parents, then op.vjps = op.vjps[:1]: backward() was a bare IndexError."""
    mul = _mul()
    a, b = Value(2.0), Value(3.0)
    y = mul(a, b)
    with pytest.raises(ValueError, match=r"Op 'mul': vjps must stay one per input, 2, got 1"):
        mul.vjps = mul.vjps[:1]
    y.backward()  # the op is untouched: its gradients are b and a
    assert (float(a.grad), float(b.grad)) == (3.0, 2.0)


def test_vjps_reassigned_are_checked_as_the_constructor_checks_them() -> None:
    mul = _mul()
    with pytest.raises(TypeError, match="Op 'mul': every vjp must be callable, got int"):
        mul.vjps = (mul.vjps[0], 3)
    with pytest.raises(TypeError, match="Op 'mul': a vjp is called as vjp"):
        mul.vjps = (mul.vjps[0], lambda g, out: g)
    with pytest.raises(TypeError, match="Op 'mul': forward must be callable, got str"):
        mul.forward = "a * b"
    with pytest.raises(TypeError, match="Op 'mul': forward must be callable, got NoneType"):
        mul.forward = None
    with pytest.raises(TypeError, match="with saving=, every vjp must take the keyword saved"):
        mul.saving = lambda a, b: (a * b, None)
    doubled = [lambda g, out, a, b: 2 * g * b, lambda g, out, a, b: 2 * g * a]
    mul.vjps = doubled  # the same count: taken, as a tuple (a list changed later cannot shorten it)
    assert mul.vjps == tuple(doubled)
    a, b = Value(2.0), Value(3.0)
    mul(a, b).backward()
    assert (float(a.grad), float(b.grad)) == (6.0, 4.0)


# --- item 3: two vjps of three arguments ------------------------------------------------------------------------------
def test_a_vjp_given_only_its_own_input_is_told_every_vjp_gets_all_inputs() -> None:
    with pytest.raises(TypeError) as caught:
        Op("mul", lambda a, b: a * b, (lambda g, out, a: g, lambda g, out, b: g))
    message = str(caught.value)
    assert "takes fewer (it takes g, out and one input: every vjp is given all 2 inputs, vjp(g, out, a, b)" in message
    assert "an Op of one input takes its vjp alone, Op('mul', forward, vjp)" in message
    with pytest.raises(TypeError) as other:  # a vjp of two arguments (no input at all): no such hint
        Op("mul", lambda a, b: a * b, (lambda g, out: g, lambda g, out: g))
    assert "every vjp is given" not in str(other.value)


# --- item 4: the header names the element of a single input ---------------------------------------------------------
def test_the_header_of_a_single_array_input_names_the_elements_index() -> None:
    wrong = Op("square", lambda x: x ** 2, lambda g, out, x: g * 3 * x)  # 3x, not 2x
    x = np.array([[0.5, 1.0], [2.0, -0.25]])
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(lambda v: wrong(v).sum(), x)
    header = str(caught.value).splitlines()[0]
    assert header.endswith("; x[1, 0] = 2.0 in the first row:")  # the worst: |3x - 2x| = |x| largest at x = 2
    assert x[1, 0] == 2.0
    with pytest.raises(GradientCheckError) as scalar:  # a 0-d input: no index to name
        check_gradients(lambda v: wrong(v), np.array(2.0))
    assert str(scalar.value).splitlines()[0].endswith("; x = 2.0 in the first row:")


# --- item 5: making the strategy calls no forward ---------------------------------------------------------------------
def test_making_the_strategy_calls_no_forward_and_its_first_use_probes_once() -> None:
    """A matrix-only op was called on (3,), (), (2,), (2, 3) when expressions() was called (at a test module's
    import, where a print or counter in it showed); now nothing runs until the strategy is used, and once."""
    shapes: list[tuple[int, ...]] = []
    probes = []  # the calls on the probe's numbers, 0.1 to 0.5

    def forward(x: np.ndarray) -> np.ndarray:
        shapes.append(x.shape)
        probes.append(x.size > 0 and np.array_equal(x.ravel(), np.linspace(0.1, 0.5, x.size)))
        if x.ndim != 2:
            raise ValueError("matrices only")
        return 2 * x

    twice = Op("twice", forward, lambda g, out, x: 2 * g)
    strategy = expressions(extra_ops=[twice], only_extra=True, max_nodes=4)
    assert shapes == []
    strategy.validate()
    assert shapes == [(3,), (), (2,), (2, 3)]
    strategy.validate()
    assert sum(probes) == 4

    @settings(max_examples=5, deadline=None, database=None, derandomize=True)
    @given(strategy)
    def property_test(expr) -> None:
        pass

    property_test()
    assert len(shapes) > 4 and sum(probes) == 4  # the graphs' own calls only: no probe again


def test_an_unusable_op_is_refused_at_the_strategys_first_use_every_time() -> None:
    calls = []
    broken = Op("broken", lambda x: calls.append(1) or x[9], lambda g, out, x: g)
    strategy = expressions(extra_ops=[broken])
    assert calls == []
    for _ in range(2):
        with pytest.raises(ValueError, match=r"forward of your Op 'broken' raised IndexError .* every shape tried"):
            strategy.validate()
    assert len(calls) == 6  # the six shapes, once

    @settings(max_examples=3, deadline=None, database=None)
    @given(strategy)
    def property_test(expr) -> None:
        pass

    with pytest.raises(ValueError, match="forward of your Op 'broken'"):
        property_test()


# --- item 1: the printed program defines an Op of a function ----------------------------------------------------------
def _program(op: Op, name: str) -> str:
    return Expression((np.array([0.3, -0.7]),), {}, (f"v1 = {name}(x0)",), {name: op}).program()


def test_the_program_defines_an_op_made_inside_a_function_so_that_it_runs_when_pasted() -> None:
    """It printed '# cube = Op('cube', ...)  # your own Op', and the pasted program was a NameError."""
    cube = Op("cube", lambda x: x ** 3,
              lambda g, out, x: g * 3 * x ** 2)
    program = _program(cube, "cube")
    assert "\ncube = Op(\"cube\", lambda x: x ** 3,\n              lambda g, out, x: g * 3 * x ** 2)\n" in program
    exec(program, {"__name__": "pasted"})  # a fresh namespace: the program alone; order 3 checked, right
    wrong = Op("cube", lambda x: x ** 3, lambda g, out, x: g * 2 * x ** 2)
    with pytest.raises(GradientCheckError):
        exec(_program(wrong, "cube"), {"__name__": "pasted"})


def test_the_program_copies_defs_the_numbers_and_modules_they_read() -> None:
    alpha = 0.5

    def forward(x):
        return alpha * math.pi * np.tanh(x)

    def vjp(g, out, x):
        return g * alpha * math.pi * (1 - np.tanh(x) ** 2)

    program = _program(Op("tanh_scaled", forward, vjp), "tanh_scaled")
    assert "\nimport math\ndef _define_tanh_scaled():" in program
    assert "\n    alpha = 0.5\n    def forward(x):\n" in program
    assert "\n    return Op('tanh_scaled', forward, (vjp,))\ntanh_scaled = _define_tanh_scaled()\n" in program
    exec(program, {"__name__": "pasted"})  # alone: checked to order 3 against finite differences
    f = lambda x: x * scale  # noqa: E731 (a lambda bound to a name, as users write it)
    v = lambda g, out, x: g * scale  # noqa: E731
    scale = np.array([2.0, 3.0])  # an array: named, not written
    program = _program(Op("scale", f, v), "scale_op")
    assert "# it reads scale, defined where your Op is: define it here, before running\n" in program
    assert "f = lambda x: x * scale  # noqa" not in program and "\nf = lambda x: x * scale\n" in program
    exec(program.replace("# it reads scale", "scale = np.array([2.0, 3.0])  #"), {"__name__": "pasted"})


def test_an_op_without_source_is_a_comment_saying_what_to_paste() -> None:
    made: dict = {"Op": Op}
    exec("double = Op('double', lambda x: 2 * x, lambda g, out, x: 2 * g)", made)
    program = _program(made["double"], "double")
    assert ("# double = Op('double', ...)  # your own Op, given in extra_ops: its source was not found, so paste its "
            "definition here, as double = Op('double', forward, vjps), before running\n") in program
    pasted = program.replace("# double = Op('double', ...)", "double = Op('double', lambda x: 2 * x, "
                                                            "lambda g, out, x: 2 * g)\n#")
    exec(pasted, {"__name__": "pasted"})


def _power(p: float) -> Op:
    return Op(f"pw{p:g}", lambda x: x ** p, lambda g, out, x: g * p * x ** (p - 1))


def test_two_ops_of_one_factory_keep_their_own_numbers_in_the_program() -> None:
    """Ops made by a factory close over its argument: each keeps its own p (not the last one written, for both)."""
    squared, cubed = _power(2.0), _power(3.0)
    program = Expression((np.array([0.3, 0.7]),), {}, ("v1 = pw2(x0)", "v2 = pw3(v1)"),
                         {"pw2": squared, "pw3": cubed}).program()
    assert "\n    p = 2.0\n" in program and "\n    p = 3.0\n" in program
    pasted: dict = {"__name__": "pasted"}
    exec(program, pasted)  # checked to order 3 against finite differences
    assert np.allclose(pasted["f"](np.array([0.3, 0.7])), np.array([0.3, 0.7]) ** 6, rtol=1e-15, atol=0)


def test_a_non_callable_saving_set_later_is_refused_as_the_constructor_refuses_it() -> None:
    """The check for saving= read the vjps first and let saving = 3 through (reached only at the next forward)."""
    op = Op("twice", lambda x: 2 * x, lambda g, out, x, saved=None: 2 * g)
    with pytest.raises(TypeError, match="Op 'twice': saving must be callable, got int"):
        op.saving = 3
    assert op.saving is None


def test_an_op_whose_forward_is_a_numpy_function_is_defined_by_its_call() -> None:
    """np.sin has no source of its own: the Op(...) call holding the vjp's lambda names it, and the program runs."""
    mysin = Op("mysin", np.sin, lambda g, out, x: g * np.cos(x))
    program = _program(mysin, "mysin")
    assert '\nmysin = Op("mysin", np.sin, lambda g, out, x: g * np.cos(x))\n' in program
    with pytest.raises(TypeError, match=r"mysin: its vjp cannot be differentiated.*np\.cos: not supported on Values"):
        exec(program, {"__name__": "pasted"})  # orders 1 and 2 reached: its own limit, said by name
