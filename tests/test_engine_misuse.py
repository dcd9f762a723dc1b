"""What an engineer coming from micrograd, PyTorch or MyGrad gets wrong with Values, and the errors that say so by
name (the operation, the shapes or values at fault), plus the number summaries the drawings print."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Op, Value, apply, detect_anomaly, enable_grad, is_grad_enabled, no_grad
from tinygrad_edu.autodiff import gradients
from tinygrad_edu.engine import local_gradients
from tinygrad_edu.notation import left_out_note, summary


@pytest.mark.parametrize("op", [np.exp, Value(2.0), "exp", None])
def test_apply_refuses_what_is_not_an_op_by_name(op) -> None:
    with pytest.raises(TypeError, match=r"^apply: op must be an Op \(tinygrad_edu.Op\), got "):
        apply(op, Value(1.0))


def test_an_op_is_named_by_a_str() -> None:
    with pytest.raises(TypeError, match=r"^Op: name must be a str, got int 3"):
        Op(3, lambda x: x, lambda g, out, x: g)  # type: ignore[arg-type]


@pytest.mark.parametrize(("compare", "symbol", "described"), [
    (lambda v: v < None, "<", "NoneType None"),
    (lambda v: v >= "a", ">=", "str 'a'"),
    (lambda v: None > v, "<", "NoneType None"),  # Python turns it around: v < None
])
def test_a_comparison_with_what_is_not_numbers_names_the_comparison_and_the_value(compare, symbol, described) -> None:
    with pytest.raises(TypeError, match=rf"^comparison {symbol}: a Value of shape \(2,\) cannot be compared with "
                                        rf"{described}"):
        compare(Value([1.0, 2.0]))


def test_an_in_place_update_to_nan_or_inf_under_detect_anomaly_is_refused_and_undone() -> None:
    w = Value([1.0, 4.0])
    with warnings.catch_warnings(), detect_anomaly(), no_grad():
        warnings.simplefilter("error")  # the error names the update; numpy's warning is not given
        with pytest.raises(FloatingPointError, match=r"^div in place: the new numbers hold NaN or inf .*\(2,\)"):
            w /= np.array([0.0, 2.0])
        np.testing.assert_array_equal(w.data, [1.0, 4.0])
        w -= 1.0  # a finite update goes through, as without detect_anomaly
    np.testing.assert_array_equal(w.data, [0.0, 3.0])


def test_create_graph_under_detect_anomaly_names_the_operation_whose_backward_failed() -> None:
    # d√x/dx = 1/(2√x) is inf at 0: the error names sqrt's backward, as without create_graph, not the division
    # inside its recorded vjp as if it were a forward operation of the user's
    for create_graph in (False, True):
        x = Value([0.0, 1.0])
        with detect_anomaly(), pytest.raises(FloatingPointError,
                                             match=r"^sqrt: the backward gradient holds NaN or inf"):
            x.sqrt().sum().backward(create_graph=create_graph)
        assert x.grad is None


@pytest.mark.parametrize(("make", "where"), [
    (lambda a, b: Value([a, b]), "Value"),
    (lambda a, b: Value([[a], [b]]), "Value"),
    (lambda a, b: Value((a, b)), "Value"),
    (lambda a, b: a * [a, 2.0], "mul"),
])
def test_a_list_of_values_made_a_value_says_to_stack_them(make, where) -> None:
    with pytest.raises(TypeError, match=rf"^{where}: .*holding Values: their graphs would be lost; join Values with "
                                        r"F.stack"):
        make(Value(1.0), Value(2.0))
    a, b = Value(1.0), Value(2.0)
    stacked = F.stack([a, b])  # what the message points to: a vector whose gradient reaches a and b
    (stacked * np.array([3.0, 5.0])).sum().backward()
    assert (a.grad, b.grad) == (3.0, 5.0)


@pytest.mark.parametrize(("keyword", "advice"), [
    ("gradient", "it is called grad= here"),
    ("retain_graph", "it is not needed here"),
])
def test_backward_says_what_pytorchs_keywords_are_called_here(keyword, advice) -> None:
    x = Value([1.0, 2.0])
    y = x * x
    with pytest.raises(TypeError, match=rf"^backward: there is no argument {keyword}= .*{advice}"):
        y.backward(np.ones(2), **{keyword: True})
    y.backward(grad=np.array([1.0, 10.0]))  # this package's word works as before: ∂/∂x of Σ g·x² = 2gx
    np.testing.assert_array_equal(x.grad, [2.0, 40.0])


def test_the_mean_a_drawing_prints_is_the_mean_where_the_sum_overflows_and_nan_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert summary([1e308, 1e308]) == "min 1e+308 · mean 1e+308 · max 1e+308"
        assert summary([-1e308, -1e308, 5.0]) == "min -1e+308 · mean -6.67e+307 · max 5"  # (−2e308 + 5) / 3
        assert summary(np.array([3e38, 3e38], dtype=np.float32)) == "min 3e+38 · mean 3e+38 · max 3e+38"
        assert summary([np.inf, -np.inf]) == "min -inf · mean nan · max inf"  # ∞ − ∞ has no mean


def test_a_note_of_values_left_out_refuses_more_shown_than_there_are() -> None:
    assert left_out_note(3, 3)[0] == "… 0 more Values left out"
    with pytest.raises(ValueError, match=r"^left_out_note: shown=4 is more than total=3"):
        left_out_note(4, 3)


def test_an_op_whose_vjp_takes_too_few_arguments_is_refused_when_made_not_inside_backward() -> None:
    with pytest.raises(TypeError, match=r"^Op 'cube': a vjp is called as vjp\(g, out, \*inputs, \*\*params\), 3 "):
        Op("cube", lambda x: x ** 3, lambda g: 3 * g)  # (micrograd's _backward takes no arguments)
    with pytest.raises(TypeError, match=r"^Op 'scale': .* 4 arguments for this op's 2 input\(s\)"):
        Op("scale", np.multiply, (lambda g, out, a, b: g * b, lambda g, out: g))
    cube = Op("cube", lambda x: x ** 3, lambda g, out, x: 3 * g * x ** 2)  # right: works as before
    joined = Op("first", lambda *xs: xs[0], lambda g, out, *xs: g)  # any number of inputs
    x = Value(2.0)
    (cube(x) + joined(x)).backward()
    assert float(x.grad) == 13.0  # 3x² + 1


def test_vjps_given_one_by_one_are_told_to_come_as_one_sequence() -> None:
    """Op("mul", f, vjp_a, vjp_b) put vjp_b in saving= and blamed the vjps for not taking the keyword saved."""
    vjp_a, vjp_b = (lambda g, out, a, b: g * b), (lambda g, out, a, b: g * a)
    with pytest.raises(TypeError, match=r"^Op 'mul': give the vjps as one sequence, one per input"):
        Op("mul", np.multiply, vjp_a, vjp_b)
    a, b = Value(3.0), Value(4.0)
    Op("mul", np.multiply, (vjp_a, vjp_b))(a, b).backward()  # the sequence works: ∂ab/∂a = b, ∂ab/∂b = a
    assert (float(a.grad), float(b.grad)) == (4.0, 3.0)


def test_an_op_called_on_arrays_with_an_input_too_many_is_refused_and_changes_nothing() -> None:
    """Op("e", np.exp, vjp)(a, b) handed b to np.exp as its out= and overwrote the caller's array with exp(a);
    through Values apply already refused it."""
    e = Op("e", np.exp, lambda g, out, x: g * out)
    a, b = np.array([0.0, 1.0]), np.array([5.0, 6.0])
    with pytest.raises(TypeError, match=r"^e: takes 1 input\(s\), got 2$"):
        e(a, b)
    np.testing.assert_array_equal(b, [5.0, 6.0])
    np.testing.assert_array_equal(e(a), np.exp(a))  # one input works


@pytest.mark.parametrize("flag", [True, np.bool_(False)])
def test_local_gradients_refuses_a_bool_for_the_upstream_gradient(flag) -> None:
    """local_gradients(z, True) took the flag for the number 1 (False for 0), as PyTorch's backward does not."""
    x, w = Value([1.0, 2.0]), Value([5.0, 7.0])
    with pytest.raises(TypeError, match=rf"^local_gradients: upstream must be numbers, not the bool {flag!r}"):
        local_gradients(x * w, flag)
    (i, parent, grad), _ = local_gradients(x * w, np.array([True, False]))  # a boolean array is numbers: g·w
    assert i == 0 and parent is x
    np.testing.assert_array_equal(grad, [5.0, 0.0])


@pytest.mark.parametrize("flag", [False, True, np.bool_(False)])
def test_backward_refuses_a_bool_for_its_grad(flag) -> None:
    """backward(False), a flag given in grad's place, seeded the walk with 0 and silently zeroed every gradient
    (PyTorch refuses a bool there too); autodiff.gradients(grad_output=False) the same."""
    x = Value([1.0, 2.0])
    cost = (x * 3.0).sum()
    with pytest.raises(TypeError, match=rf"^backward: grad must be numbers, not the bool {flag!r}"):
        cost.backward(flag)
    assert x.grad is None
    with pytest.raises(TypeError, match=rf"^gradients: grad_output must be numbers, not the bool {flag!r}"):
        gradients(cost, [x], grad_output=flag)
    (x * 3.0).backward(np.array([True, False]))  # a boolean array is numbers (a bool tensor in PyTorch): ∂3x/∂x = 3
    np.testing.assert_array_equal(x.grad, [3.0, 0.0])


@pytest.mark.parametrize("mode", [no_grad, enable_grad, detect_anomaly])
def test_a_mode_used_without_parentheses_says_to_call_it(mode) -> None:
    """`with no_grad:` was Python's "'type' object does not support the context manager protocol"."""
    name = mode.__name__
    with pytest.raises(TypeError, match=rf"^{name}: write `with {name}\(\):`, with parentheses"):
        with mode:
            pass
    assert is_grad_enabled()
    with mode():  # the block itself works as before
        y = Value(2.0) * 3.0
    assert y.requires_grad == (mode is not no_grad)


def test_a_float_beside_an_integer_beyond_int64_is_taken_and_one_beyond_float_named() -> None:
    """numpy keeps [0.5, 10**30] as objects; only all-int lists were converted, so this one was refused as 'dtype
    object', and [1.5, 10**400] was not said to be too large."""
    np.testing.assert_array_equal(Value([0.5, 10**30]).data, [0.5, 1e30])  # float(10**30) == 1e30 exactly
    with pytest.raises(ValueError, match=r"^Value: an integer of 401 digits is too large for a float"):
        Value([1.5, 10**400])
    with pytest.raises(TypeError, match=r"^Value: data of dtype object"):
        Value([1.5, None])  # what is not a number stays refused


@pytest.mark.parametrize("view", [lambda w: w[0:1], lambda w: w.reshape(2, 1), lambda w: w.T])
def test_a_view_made_under_no_grad_has_numbers_of_its_own(view) -> None:
    """``with no_grad(): v = w[0:1]; v += 10`` wrote into w's numbers unseen: a cost recorded from w then
    backpropagated with the new numbers, silently (w.grad [22, 4] for (w·w).sum() at w = [1, 2]).  Now the view is a
    copy: w, its graph and its gradient 2w stay as they were, and v alone changes.  (``w[0:1] += 10`` changes w, which
    the graph then sees: test_engine's index assignment tests.)"""
    w = Value([1.0, 2.0])
    cost = (w * w).sum()
    with no_grad():
        v = view(w)
        v += 10
    cost.backward()
    np.testing.assert_array_equal(w.data, [1.0, 2.0])
    np.testing.assert_array_equal(w.grad, [2.0, 4.0])  # 2w at the numbers the cost was computed from
    assert v.data.ravel()[0] == 11.0


def test_a_leaf_with_a_read_only_array_says_so_when_changed_in_place() -> None:
    """p.data = a read-only array (a memory map opened for reading), then an optimizer's p -= …: numpy's words
    alone did not say where the read-only array came from."""
    p = Value([1.0, 2.0])
    numbers = np.array([3.0, 4.0])
    numbers.flags.writeable = False
    p.data = numbers
    with no_grad(), pytest.raises(ValueError, match=r"^sub in place: .*; its numbers are read-only: an array given "
                                                    r"as its data \(give it a copy, v\.data = v\.data\.copy\(\)\)"):
        p -= 1.0
    np.testing.assert_array_equal(p.data, [3.0, 4.0])


# --- another framework's method names ------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "advice"), [
    ("flatten", "v.reshape(-1)"), ("view", "v.reshape(shape)"), ("clamp", "functional.maximum(v, low)"),
    ("pow", "v ** exponent"), ("argmax", "v.data.argmax()"), ("requires_grad_", "v.requires_grad = True"),
    ("is_leaf", "v.op is None"), ("grad_fn", "v.op"), ("_prev", "v.parents"), ("softmax", "functional.softmax(v)"),
    ("square", "v ** 2"), ("mT", "v.swapaxes(-1, -2)"), ("prod", "v.log().sum().exp() for positive numbers"),
])
def test_a_method_written_differently_here_says_what_to_write(name, advice) -> None:
    """v.flatten(), v.is_leaf (PyTorch), v._prev (micrograd): the AttributeError names the attribute and the
    expression to write instead; hasattr still answers False (duck typing sees no such method)."""
    v = Value([[1.0, 2.0]])
    with pytest.raises(AttributeError, match=rf"^'Value' object has no attribute '{name}'; write ") as raised:
        getattr(v, name)
    assert advice in str(raised.value) and raised.value.name == name and raised.value.obj is v
    assert not hasattr(v, name)


def test_the_advice_is_out_of_dir_and_of_the_attribute_lookup_of_every_value() -> None:
    """Tab completion does not offer v.flatten; and the advice is class attributes, not Value.__getattr__, with which
    CPython looks up every attribute of every Value the slow way (the scalar chain measured 15 % slower)."""
    assert "flatten" not in dir(Value(1.0)) and "reshape" in dir(Value(1.0))
    assert not hasattr(Value, "__getattr__")


def test_a_name_nothing_here_stands_for_is_a_plain_attribute_error() -> None:
    """v.lgamma(): no advice to give (no library's name for small networks; v.sin() says to write an Op of one's own
    since tests/test_tensormethods_r38.py), so Python's own message, word for word."""
    with pytest.raises(AttributeError, match=r"^'Value' object has no attribute 'lgamma'$"):
        Value(1.0).lgamma()  # type: ignore[attr-defined]


@pytest.mark.parametrize(("name", "expected"), [
    ("var", np.var), ("std", np.std), ("flatten", np.ravel), ("numel", np.size), ("dim", np.ndim),
    ("double", lambda a: a.astype(np.float64)), ("float", lambda a: a.astype(np.float32)),
    ("square", np.square), ("mT", lambda a: np.swapaxes(a, -1, -2)),
])
def test_the_advised_formula_computes_what_the_missing_method_would(name, expected) -> None:
    """The advice is code that runs, and gives numpy's (PyTorch's) answer: the population variance and standard
    deviation, the flattened numbers, the element count and dimensions, the other float dtype."""
    from tinygrad_edu.write_instead import WRITE_INSTEAD

    data = np.array([[1.0, 2.0, 4.0], [8.0, -3.0, 0.5]])
    computed = eval(WRITE_INSTEAD[name], {"v": Value(data), "np": np})  # noqa: S307
    computed = getattr(computed, "data", computed)
    assert np.asarray(computed).dtype == np.asarray(expected(data)).dtype
    np.testing.assert_allclose(computed, expected(data), rtol=1e-15)


def test_numpy_functions_of_those_names_give_the_same_advice() -> None:
    """np.clip(v, 0, 1) and np.var(v) need the numbers; the refusal names what to write on the Value."""
    v = Value([1.0, 2.0])
    with pytest.raises(TypeError, match=r"^np\.clip: a Value is not .*\(here: functional\.maximum\(v, low\)"):
        np.clip(v, 0, 1)
    variance = re.escape("(here: ((v - v.mean()) ** 2).mean())")
    with pytest.raises(TypeError, match=rf"^np\.var: a Value is not .*{variance}$"):
        np.var(v)
    with pytest.raises(TypeError, match=r"^np\.dot: a Value is not .*\(here: a @ b\)$"):
        np.dot(v, v)


@pytest.mark.parametrize("method", ["sum", "mean", "max", "min"])
def test_a_second_positional_axis_is_not_taken_as_keepdims(method):
    """x.sum(0, 1), meant as a sum over axes 0 and 1, quietly took the 1 as keepdims=True and gave column sums of
    shape (1, 3); numpy refuses it (its second argument is dtype), as PyTorch does.  Found by an exploratory pass."""
    x = Value(np.arange(6.0).reshape(2, 3))
    with pytest.raises(TypeError, match=rf"^{method}: keepdims must be True or False, got int 1; over several axes, "
                                        r"give them as a tuple: axis=\(0, 1\)$"):
        getattr(x, method)(0, 1)
    assert getattr(x, method)(0, True).shape == (1, 3) and getattr(x, method)(0, np.False_).shape == (3,)
    assert getattr(x, method)(axis=(0, 1)).shape == ()


def test_a_value_made_of_a_value_that_requires_a_gradient_is_refused():
    """Value(h) of a computed h (micrograd's habit of wrapping whatever comes in) made a new leaf of h's numbers:
    backward() stopped there and x.grad stayed None, without a word (torch.tensor(t) warns).  Value([a, b]) was
    already refused, as their graphs would be lost.  A copy without the graph is still there, asked for by name.
    Found by an exploratory pass."""
    x = Value([1.0, 2.0])
    hidden = x * 2.0
    for wrapped in (hidden, x):
        with pytest.raises(TypeError, match=r"^Value: data is a Value that requires a gradient \(shape \(2,\)\): a "
                                            r"new leaf of its numbers would stop the gradients"):
            Value(wrapped)
    constant = Value(hidden, requires_grad=False)
    assert not constant.requires_grad and constant.data.tolist() == [2.0, 4.0]
    assert Value(constant).requires_grad and Value(constant).data.tolist() == [2.0, 4.0]  # a constant's numbers
