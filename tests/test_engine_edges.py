"""Edges of the engine a user from PyTorch, micrograd, JAX or MyGrad runs into: copies of deep graphs, and the
other corners found by an exploratory round, each checked against its closed form or against numpy/PyTorch."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from tinygrad_edu import Op, Value, apply, detect_anomaly, no_grad, ops
from tinygrad_edu.engine import backward_order


def test_a_deep_graph_is_deep_copied_without_recursion_and_gets_its_own_gradients() -> None:
    x = Value(1.0)
    y = x
    for _ in range(3000):  # 6000 operations: Python's own deepcopy walk recursed into each input
        y = y * 1.001 + 0.5
    twin = copy.deepcopy(y)
    twin.backward()
    assert x.grad is None  # the twin has a leaf of its own
    leaf = twin
    while leaf.op is not None:
        leaf = leaf.parents[0]
    assert leaf is not x and np.isclose(leaf.grad, 1.001 ** 3000)
    assert twin.data.item() == y.data.item()


def test_a_deep_copy_keeps_what_the_graph_shares_shared() -> None:
    x = Value([1.0, 2.0])
    y = (x * x).sum()
    y.backward(create_graph=True)  # x.grad = 2x, a Value whose graph reaches x again
    twin_y, twin_x = copy.deepcopy([y, x])  # one memo: the twin graph is made of the twin leaf
    assert twin_x is not x and twin_y.parents[0].parents[0] is twin_x and twin_y.parents[0].parents[1] is twin_x
    np.testing.assert_array_equal(twin_x.grad.data, [2.0, 4.0])
    slope = twin_x.grad
    twin_x.zero_grad()
    slope.sum().backward()  # d(Σ 2x)/dx = 2, reaching the twin leaf through the copied gradient's graph
    np.testing.assert_array_equal(twin_x.grad, [2.0, 2.0])
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])  # the original is untouched


@pytest.mark.parametrize("compare", [np.array_equal, np.array_equiv])
def test_numpys_equality_tests_refuse_a_value_instead_of_answering_false(compare) -> None:
    # they turn any error converting their inputs into False: np.array_equal(v, v) said False for a Value and itself
    v = Value([1.0, 2.0])
    for pair in ((v, v), (v, [1.0, 2.0]), ([1.0, 2.0], v)):
        with pytest.raises(TypeError, match=rf"^np.{compare.__name__}: a Value is not converted to a numpy array"):
            compare(*pair)
    assert compare(v.data, [1.0, 2.0])  # what the message points to


def test_detect_anomaly_decorates_as_no_grad_does_bare_and_on_generators() -> None:
    @detect_anomaly  # as @no_grad: it was a bare "takes 0 positional arguments" TypeError here
    def log_of(x):
        return Value(x).log()

    with pytest.raises(FloatingPointError, match=r"^log: the forward output holds NaN or inf"):
        log_of(0.0)
    with np.errstate(divide="ignore"):
        assert np.isinf(Value(0.0).log().data)  # the mode ends with the call: numpy's -inf again

    @detect_anomaly()
    def logs(*numbers):
        for x in numbers:
            yield Value(x).log()  # each step in the mode, not only making the generator

    steps = logs(1.0, 0.0)
    assert next(steps).item() == 0.0
    with pytest.raises(FloatingPointError, match=r"^log: the forward output holds NaN or inf"):
        next(steps)
    with pytest.raises(TypeError, match=r"^detect_anomaly: function must be a function to decorate"):
        detect_anomaly(3)
    with pytest.raises(RuntimeError, match=r"^detect_anomaly: __exit__ without a matching __enter__"):
        detect_anomaly().__exit__(None, None, None)


def test_a_label_that_is_not_text_is_shown_in_jupyter_too() -> None:
    w = Value(1.0, label=3)  # repr showed it; the Jupyter table raised AttributeError from html.escape
    assert "label=3" in repr(w) and ">3</td>" in w._repr_html_()
    w.label = "<w>"
    assert "&lt;w&gt;" in w._repr_html_()


def test_backward_names_itself_for_a_bad_grad_or_create_graph() -> None:
    x = Value([1.0, 2.0])
    y = x * 2.0
    for grad, kind, words in (("a", TypeError, "cannot make a Value from str 'a'"),
                              ([1.0, 1j], TypeError, "dtype complex128"),
                              ([[1.0], [1.0, 2.0]], ValueError, "cannot make an array")):
        with pytest.raises(kind, match=rf"^backward: grad: .*{words}"):  # it said "Value: …", not backward
            y.backward(grad)
    for flag in ("yes", 1, [True]):  # taken as True before, where Value(requires_grad=) and zero_grad refuse them
        with pytest.raises(TypeError, match=r"^backward: create_graph must be True or False, got "):
            y.backward([1.0, 1.0], create_graph=flag)
    assert x.grad is None
    y.backward([1.0, 1.0], create_graph=np.True_)  # numpy's own bool is a flag
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


def test_pickle_refuses_a_deep_graph_by_name_not_by_recursion_error() -> None:
    x = Value(1.0)
    y = x
    for _ in range(500):  # 1000 operations: pickle recursed into the inputs before it met an operation
        y = y * 1.001 + 0.5
    with pytest.raises(TypeError, match=r"^pickle: the operation 'add' .* pickle value.detach\(\)"):
        pickle.dumps(y)
    assert pickle.loads(pickle.dumps(y.detach())).data == y.data  # what the message points to


def test_a_value_as_an_ops_parameter_is_refused_in_the_forward_not_blamed_on_the_vjp() -> None:
    scale = Op("scale", lambda x, s: x * s, lambda g, out, x, s: g * s)
    x, s = Value([1.0, 2.0]), Value(3.0)
    # it ran, dropping s's gradient, and the backward pass then blamed the vjp ("returned Value …")
    with pytest.raises(TypeError, match=r"^scale: its forward returned a Value, not an array: .* apply\(op, x, w\)"):
        apply(scale, x, s=s)
    w = Value(2.0)
    kept = Op("kept", lambda x: x * w, lambda g, out, x: g * w.data)  # a Value in the closure
    with pytest.raises(TypeError, match=r"^kept: its forward returned a Value"):
        kept(x)
    times = Op("times", np.multiply, (lambda g, out, a, b: g * b, lambda g, out, a, b: g * a))
    (times(x, s) * 1.0).sum().backward()  # as inputs, both get their gradients
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    assert s.grad.item() == 3.0


# --- backward(inputs=...): PyTorch's way to ask for some gradients only ----------------------------------------

def _counted_history() -> tuple[Value, Value, list[int]]:
    """A leaf ``w`` and ``h = 3w`` through an Op whose vjp counts its calls: the history a later Value comes from."""
    calls = [0]

    def vjp(g, out, x):
        calls[0] += 1
        return 3 * g

    w = Value(np.array([0.5, -1.0]))
    return w, apply(Op("counted", lambda x: 3 * x, vjp), w), calls


def test_backward_with_inputs_fills_only_their_gradients_and_walks_no_further_back() -> None:
    """Before, backward() took no inputs= (PyTorch's backward(inputs=...)), and autodiff's grad of a Value late in a
    long graph walked the whole history before it on every call."""
    w, h, calls = _counted_history()
    x = h * 1.0  # made after the history: the input asked for
    b = Value(2.0)
    cost = (x * x).sum() * b
    cost.backward(inputs=[x])
    np.testing.assert_array_equal(x.grad, 2 * x.data * b.data)  # ∂C/∂x = 2x·b
    assert b.grad is None and w.grad is None  # not asked for
    assert calls == [0]  # the history before x was not walked
    cost.backward()
    assert calls == [1]  # (the whole walk goes through it)
    np.testing.assert_array_equal(w.grad, 2 * x.data * b.data * 3.0)
    assert b.grad == (x.data * x.data).sum()


def test_backward_with_inputs_gives_the_total_derivative_through_an_input_computed_from_another() -> None:
    """b = 3a, C = a·b: with inputs [a, b] the leaf a gets ∂C/∂a through b too, 6a (12 at 2), as PyTorch's."""
    a = Value(2.0)
    b = a * 3.0
    c = Value(5.0)
    cost = a * b * c
    cost.backward(inputs=[b, a])
    assert a.grad == 6 * 2.0 * 5.0 and b.grad == 2.0 * 5.0 and c.grad is None
    cost.backward(inputs=a)  # one Value is fine; a leaf accumulates, as in PyTorch
    assert a.grad == 2 * 6 * 2.0 * 5.0


def test_backward_with_an_input_changed_in_place_still_finds_the_stale_graph() -> None:
    w = Value([1.0, 2.0], label="w")
    cost = (w * w).sum()
    with no_grad():
        w -= 0.1
    with pytest.raises(ValueError, match=r"^backward: the graph is stale: 'w' was changed in place"):
        cost.backward(inputs=[w])


def test_backward_order_with_inputs_lists_what_that_walk_visits() -> None:
    w, h, _ = _counted_history()
    x = h * 1.0
    cost = (x * x).sum()
    whole = backward_order(cost)
    assert [id(n) for n in whole[-2:]] == [id(h), id(w)]
    assert [id(n) for n in backward_order(cost, [x])] == [id(n) for n in whole[:-2]]
    assert backward_order(cost, [x])[-1] is x


@pytest.mark.parametrize("inputs, error, message", [
    ([], ValueError, r"^backward: inputs is empty; leave it out"),
    ([3.0], TypeError, r"^backward: inputs\[0\] must be a Value, got float 3\.0"),
    ("w", TypeError, r"^backward: inputs must be a Value or a list of Values, got str 'w'"),
    ([Value(1.0, requires_grad=False)], ValueError,
     r"^backward: inputs\[0\] \(shape \(\)\) does not require a gradient"),
])
def test_backward_inputs_that_are_not_values_needing_gradients_are_named(inputs, error, message) -> None:
    w = Value(1.0)
    cost = w * w
    with pytest.raises(error, match=message):
        cost.backward(inputs=inputs)
    assert w.grad is None


def _stale_graph():
    """y = h·x with h = 2x recorded before x changed in place (under no_grad): h's path back to x is stale."""
    x = Value(3.0, label="x")
    h = x * 2
    with no_grad():
        x -= 1.0
    return x, h * x


def test_backward_with_inputs_refuses_a_graph_stale_through_that_input():
    """A review's counterexample: the walk left out h (older than x's new number), so x.grad came out 6 (the
    direct path only; over the recorded graph h + 2x = 10), silently."""
    x, y = _stale_graph()
    with pytest.raises(ValueError, match="stale"):
        y.backward(inputs=[x])
    assert x.grad is None
    with pytest.raises(ValueError, match="stale"):
        backward_order(y, [x])


def test_asking_for_the_changed_parameter_raises_as_asking_for_another_does():
    w, b = Value(np.array([1.0, 2.0]), label="w"), Value(0.5, label="b")
    features = w * 3
    with no_grad():
        w -= 0.1  # an optimizer's step between the forward pass and backward
    cost = (features * w).sum() + b
    for inputs in ([b], [w]):
        with pytest.raises(ValueError, match="stale"):
            cost.backward(inputs=inputs)


# --- assigning .data (micrograd's update `p.data += -lr * p.grad`, PyTorch's `p.data = t`) ---------------------------


def test_a_number_assigned_to_data_becomes_the_values_numbers_in_its_dtype() -> None:
    v = Value(2.0)
    v.data = 0.5  # before, a bare float in the slot: the next operation failed with "'float' has no attribute 'dtype'"
    assert isinstance(v.data, np.ndarray) and v.data.dtype == np.float64 and (v * 3.0).item() == 1.5
    v32 = Value(np.array([1.0, 2.0], dtype=np.float32))
    v32.data = 3  # a Python number takes the Value's dtype, as it does in arithmetic
    assert v32.dtype == np.float32 and v32.shape == () and v32.item() == 3.0
    v32.data = [[1, 2], [3, 4]]  # a list as Value() takes it: float64, its own shape
    assert v32.dtype == np.float64 and v32.shape == (2, 2)
    numbers = np.array([1.0, -1.0], dtype=np.float32)
    v.data = numbers  # an array of floats is used as it is, as PyTorch's p.data = t shares t
    assert v.data is numbers
    v.data = np.array([7.0], dtype=">f8")  # big-endian, as from a file: the same number in this machine's order
    assert v.data.dtype.isnative and v.data.tolist() == [7.0]


def test_micrograds_update_on_data_trains_and_leaves_the_old_graph_stale() -> None:
    """micrograd's loop: forward, backward, ``p.data += -lr * p.grad``.  The update gives the numbers of gradient
    descent on (w·x − 1)², whose derivative is 2x(w·x − 1); the cost computed before it no longer describes w."""
    w, x, learning_rate = Value(0.0, label="w"), 2.0, 0.1
    for _ in range(3):
        cost = (w * x - 1.0) ** 2
        w.zero_grad()
        cost.backward()
        expected = w.data.item() - learning_rate * 2 * x * (w.data.item() * x - 1.0)
        w.data += -learning_rate * w.grad
        assert w.data.item() == pytest.approx(expected, rel=1e-15)
    with pytest.raises(ValueError, match=r"^backward: the graph is stale: 'w' was changed in place .*\.data = "):
        cost.backward()  # before, it silently mixed the new w with the activations of the old one
    assert w.grad is not None and w.data.item() == pytest.approx(0.5 - 0.5 * (1 - 0.8) ** 3)


def test_assigning_data_is_refused_for_a_computed_value_and_for_what_is_not_numbers() -> None:
    w = Value(np.ones(3))
    y = (w * w).sum()
    with pytest.raises(ValueError, match=r"^Value.data: this Value was computed by sum, .*\.detach\(\)"):
        y.data = 3.0  # its backward would use the new number with the old inputs (a quotient's rule uses it)
    assert y.data.item() == 3.0  # unchanged
    for bad, error, message in (("abc", TypeError, "from str 'abc'"), (None, TypeError, "from NoneType"),
                                (1j, TypeError, "dtype complex128"), ([[1.0], [2.0, 3.0]], ValueError, "array")):
        with pytest.raises(error, match=rf"^Value.data: .*{message}"):
            w.data = bad
        assert w.data.tolist() == [1.0, 1.0, 1.0]  # a refused assignment changes nothing
    y.backward()
    assert w.grad.tolist() == [2.0, 2.0, 2.0]  # nor does it make the graph stale


def test_a_broadcast_view_computes_the_same_bits_under_no_grad_as_recorded():
    """The thorough fuzzer's graph: c0 @ broadcast_to(−x, (1, 2, 1)).  Under no_grad the view was copied into a
    contiguous array, with which numpy's matmul takes another path: −1.53 against the recorded −1.5299999999999998."""
    c0 = np.array([[1.88, 1.0], [0.0, 0.0]])
    x = Value(np.array(0.53125))

    def f() -> Value:
        return c0 @ ops.broadcast_to(-x, shape=(1, 2, 1))

    recorded = f()
    with no_grad():
        plain = f()
    np.testing.assert_array_equal(plain.data, recorded.data)
    assert plain.data.tobytes() == recorded.data.tobytes()


def test_a_read_only_view_made_under_no_grad_refuses_changes_in_place_by_name():
    with no_grad():
        view = ops.broadcast_to(Value(np.array([1.0, 2.0])), shape=(3, 2))
        with pytest.raises(ValueError, match=r"^sub in place: .*read-only"):
            view -= 1.0
