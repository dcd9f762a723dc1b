"""Behaviour of the engine (engine.py) that the other tests left open, found by a third round of mutation testing.

Mutation-tested: tinygrad_edu/engine.py, 109 new hand-made mutants (none of the second round's): the grad modes
(saving and restoring per thread, ``as``, decorators, generators), _to_array's dtype rules and refusals, apply's and
_record's checks and messages, saving forwards, unrecorded views, the fast path's guards, _shared_operand's cache,
_operand's copies, _fit, _differentiable_vjp, backward's arguments and seed, the walk (limits, pending sums, leaves'
accumulation, stale graphs), backward_order, local_gradients, and Value's methods (item, format, bool, len, iter,
numpy's protocols, repr and HTML, pickling and deepcopy, astype, zero_grad, in-place operators, comparisons,
indexing, reshape, transpose, swapaxes).  Screened first with tests/test_engine.py, test_engine_edges.py,
test_engine_misuse.py, test_engine_ops_mutants.py, test_fast_paths.py and test_modes_per_thread.py, the survivors
then with test_autodiff*.py, test_gradients.py, test_api_misuse.py, test_functional_edges.py,
test_expressions_edges.py, test_composition.py and engine.py's doctests.  Killed before this file: 88; with it: 107.

Equivalent mutants (no input tells them apart from the original):
- a mode's __exit__ leaving its thread's emptied list of saved switches in place: the next entry in that thread
  appends to it as to a new one (the only difference is a list kept per thread that used the block).
- deepcopy's walk not following Values' gradients: the state copied afterwards meets each gradient, whose own
  __deepcopy__ walks its graph the same way, with the same memo (so the same sharing, and no recursion).

Defect found, and fixed with the test at the end: an operand that is not numbers (``v * "a"``) was refused with
Value()'s message and its "Value: " prefix, which every other wrapper of that message strips.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from tinygrad_edu import Op, Value, apply, is_grad_enabled, no_grad
from tinygrad_edu.engine import backward_order


# --- the grad modes ----------------------------------------------------------------------------------------------
def test_a_block_entered_with_as_is_the_block_and_can_be_entered_again():
    """``with no_grad() as block`` names the block itself; entering it again inside is nesting, each exit restoring
    what its own entry found."""
    with no_grad() as block:
        assert isinstance(block, no_grad)
        with block:
            assert not (Value(1.0) * 2.0).requires_grad
        assert not (Value(1.0) * 2.0).requires_grad
    assert (Value(1.0) * 2.0).requires_grad


# --- what becomes a Value's numbers ------------------------------------------------------------------------------
def test_an_empty_array_of_python_objects_is_refused_as_every_object_array_is():
    """Object arrays are not numbers (only Python ints too large for int64 are read from them), empty ones too."""
    with pytest.raises(TypeError, match=r"^Value: data of dtype object \(ndarray\) is not supported"):
        Value(np.array([], dtype=object))


def test_a_negative_integer_too_large_for_a_float_is_named_by_its_digits():
    """−10⁴⁰⁰ has 401 digits (its minus sign is not a digit)."""
    with pytest.raises(ValueError, match=r"^Value: an integer of 401 digits is too large for a float"):
        Value([1.0, -(10**400)])


# --- apply and the forward pass ----------------------------------------------------------------------------------
def test_an_ops_own_error_message_is_passed_on_as_it_is():
    """matmul explains itself (its message starts with its name): it is not wrapped in a second "matmul:"."""
    with pytest.raises(ValueError, match=r"^matmul: shapes \(2, 3\) and \(2, 3\) are not aligned") as caught:
        Value(np.ones((2, 3))) @ Value(np.ones((2, 3)))
    assert "matmul: matmul" not in str(caught.value) and "input shapes" not in str(caught.value)


def test_an_op_given_more_inputs_than_it_has_vjps_is_refused_by_name():
    negate = Op("negate", lambda x: -x, lambda g, out, x: -g)
    with pytest.raises(TypeError, match=r"^negate: takes 1 input\(s\), got 2; an Op takes one input per vjp"):
        apply(negate, Value(1.0), Value(2.0))


def test_an_op_without_a_saving_forward_may_have_a_parameter_called_saved():
    """Only an Op with a saving forward reserves ``saved=`` (for what that forward keeps); any other takes it as a
    parameter like any: d(saved·x)/dx = saved."""
    scale = Op("scale", lambda x, saved: saved * x, lambda g, out, x, saved: g * saved)
    x = Value([1.0, 2.0])
    y = apply(scale, x, saved=3.0)
    np.testing.assert_array_equal(y.data, [3.0, 6.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_a_view_taken_under_no_grad_computes_as_the_view_to_the_bit():
    """An unrecorded view (w.T) gets numbers of its own laid out as the view's, so numpy sums them in the view's
    order: the same bits as summing ``w.data.T`` (a C-ordered copy would add in another order, off in the last
    bits for these numbers)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 200)) * 10.0 ** rng.integers(-8, 8, (3, 200))
    w = Value(a)
    with no_grad():
        t = w.T
    assert not np.shares_memory(t.data, a) and t.data.flags.f_contiguous
    assert t.sum().data.tobytes() == a.T.sum().tobytes()


# --- what a vjp may return ---------------------------------------------------------------------------------------
def test_a_vjp_may_return_a_python_int_but_not_an_integer_array():
    """A flat step's vjp returning 0 (dstep/dx = 0) is a gradient, made the input's dtype; a doubling's returning an
    int array 2·g is refused, naming the op: integers hold no fractions of g (g·0.6 would have become 0)."""
    step = Op("step", np.floor, lambda g, out, x: 0)
    x = Value(2.5)
    step(x).backward()
    assert x.grad.dtype == np.float64 and x.grad.shape == () and x.grad == 0.0
    double = Op("double", lambda x: 2 * x, lambda g, out, x: (2 * g).astype(np.int64))
    x = Value(np.array([1.0, 3.0], dtype=np.float32))
    with pytest.raises(TypeError, match=r"^double: .*returned int64 for an input of dtype float32"):
        double(x).sum().backward()
    assert x.grad is None


def test_numpys_floating_point_error_in_a_recorded_backward_pass_is_numpys_own():
    """Outside detect_anomaly, an overflow that numpy raises (errstate over="raise") in a vjp is numpy's error as in
    an ordinary pass: d(eˣ)/dx · 10¹⁰ at x = 700 is about 10³¹⁴, beyond float64."""
    for create_graph in (False, True):
        y = Value(700.0).exp()
        with np.errstate(over="raise"), pytest.raises(FloatingPointError, match=r"^overflow encountered in multiply$"):
            y.backward(np.array(1e10), create_graph=create_graph)


def test_a_vjp_that_fails_on_values_by_a_missing_method_is_named_under_create_graph():
    """create_graph=True runs the vjp on Values; one calling an array method a Value lacks is a TypeError naming the
    op and the vjp, as one failing with a TypeError is."""
    copied = Op("copied", lambda x: x.copy(), lambda g, out, x: g.copy())  # (a Value has no .copy())
    y = copied(Value([0.5, 2.0])).sum()
    y.backward()  # on arrays, fine
    with pytest.raises(TypeError, match=r"^copied: its vjp cannot be differentiated: create_graph=True runs it on "
                                        r"Values and it failed \(AttributeError: "):
        y.backward(create_graph=True)


# --- Value's methods ---------------------------------------------------------------------------------------------
def test_item_of_more_than_one_number_is_an_error_naming_item_and_the_shape():
    with pytest.raises(ValueError, match=r"^item: only a Value of size 1 has one number; this one has shape \(2,\)"):
        Value([1.0, 2.0]).item()


def test_swapaxes_refuses_a_bool_for_an_axis():
    """True is not axis 1: numpy's axes are integers, and a bool there is a mistake named."""
    with pytest.raises(TypeError, match=r"^swapaxes: axes must be integers, got True$"):
        Value(np.ones((2, 3))).swapaxes(True, 0)


def test_reshape_takes_the_new_shape_as_a_list_too():
    """As numpy's: ``v.reshape([3, 2])`` is ``v.reshape(3, 2)``, and the gradient goes back to the old shape."""
    x = Value(np.arange(6.0))
    y = x.reshape([3, 2])
    assert y.shape == (3, 2)
    (y * np.array([1.0, 2.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0, 1.0, 2.0, 1.0, 2.0])


def test_reshape_refuses_numpys_copy_argument_by_name():
    """Only copy=None is supported: copy=False (which numpy can refuse) or True is not silently ignored."""
    for copying in (False, True):
        with pytest.raises(ValueError, match=r"^reshape: only numpy's default order='C' and copy=None are supported"):
            Value(np.ones(4)).reshape(2, 2, copy=copying)


def test_a_value_inside_an_index_tuple_is_refused_as_a_value_alone_is():
    with pytest.raises(TypeError, match=r"^index: index with ints, slices, or numpy arrays/lists of ints or bools, not "
                                        r"with a Value"):
        Value(np.ones((2, 3)))[0, Value(1.0)]


# --- backward's arguments ----------------------------------------------------------------------------------------
def test_backward_refuses_an_array_for_inputs_by_name():
    """inputs is a Value or a list of Values: a numpy array (of numbers, or of Values) is refused as a whole."""
    x = Value([1.0, 2.0])
    y = (x * 2.0).sum()
    of_values = np.empty(1, dtype=object)
    of_values[0] = x
    for inputs in (np.array([1.0, 2.0]), of_values):
        with pytest.raises(TypeError, match=r"^backward: inputs must be a Value or a list of Values, got ndarray of "
                                            r"shape \(\d,\)$"):
            y.backward(inputs=inputs)
    assert x.grad is None


def test_a_vjp_runs_in_the_same_grad_mode_whether_or_not_backward_is_given_inputs():
    """An ordinary (not recorded) backward pass leaves the grad mode as it found it, with ``inputs=`` too: a vjp
    sees what the caller's code sees."""
    seen = []
    probe = Op("probe", lambda x: x, lambda g, out, x: seen.append(is_grad_enabled()) or g)
    x = Value(2.0)
    probe(x).backward()
    probe(x).backward(inputs=[x])
    assert seen == [True, True]
    np.testing.assert_array_equal(x.grad, 2.0)


# --- backward_order ----------------------------------------------------------------------------------------------
def test_backward_order_lists_deep_copies_sharing_creation_numbers_in_the_order_backward_visits_them():
    """Deep copies keep their creation numbers, so a graph joining a node and its copies has ties; backward_order
    promises the order backward visits them in (its heap breaks ties by identity), ties included."""
    visited = []
    tag = Op("tag", lambda x: x * 1.0, lambda g, out, x: visited.append(id(out)) or g)
    y = tag(Value(1.0))
    z = y
    for twin in [copy.deepcopy(y) for _ in range(6)]:
        z = z + twin
    listed = [id(node.data) for node in backward_order(z) if node.op == "tag"]
    z.backward()
    assert len(visited) == 7 and visited == listed



# --- a defect (fixed) --------------------------------------------------------------------------------------------
def test_an_operand_that_is_not_numbers_is_named_by_the_operation_alone():
    """``v * "a"`` is mul's error: the message does not speak as Value(), which the caller did not call."""
    for operand, reason in (("a", r"cannot make a Value from str 'a'"),
                            (np.array(["x"]), r"data of dtype <U1 \(ndarray\) is not supported")):
        with pytest.raises(TypeError, match=r"^mul: cannot use .* as an operand \(" + reason) as caught:
            Value([1.0]) * operand
        assert "Value: " not in str(caught.value)
