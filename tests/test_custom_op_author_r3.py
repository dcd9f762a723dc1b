"""An engineer's own Ops (a stable softplus, a where-like select by a mask, a sort whose gradient is a permutation),
used in a network, checked to third order, drawn, copied, run under no_grad and in float32, composed with built-ins
inside grad/hessian; and the errors a wrongly written vjp, or a PyTorch autograd.Function habit, meets.

xfail tests failed before their fix: a vjp returning integers had g's fractions silently truncated (0.6 became 0),
one vjp given for a two-input forward was told the second input is a parameter to give by name, PyTorch's and
minitorch's names of the extension API (tinygrad_edu.Function, op.apply) said nothing of the Op, a vjp returning a
Value in an ordinary pass was not told why, and the player wrote an Op of one's own without its parameters."""

import copy
import pickle

import numpy as np
import pytest
from hypothesis import given

import tinygrad_edu
from tinygrad_edu import Op, Value, nn, no_grad, viz
from tinygrad_edu.autodiff import grad, hessian
from tinygrad_edu.testing import check_gradients
from tinygrad_edu.testing.strategies import arrays


# --- the author's Ops ------------------------------------------------------------------------------------------
def _stable_sigmoid(x):
    return np.exp(-np.logaddexp(0, -x))


my_sigmoid = Op("my_sigmoid", _stable_sigmoid, lambda g, out, x: g * out * (1 - out))
# ln(1 + eˣ) = max(x, 0) + ln(1 + e^−|x|), never overflowing; its slope σ is an Op too, so it differentiates again
my_softplus = Op("my_softplus", lambda x: np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))),
                 lambda g, out, x: g * my_sigmoid(x))
my_where = Op("my_where", lambda a, b, mask: np.where(mask, a, b),
              (lambda g, out, a, b, mask: g * mask, lambda g, out, a, b, mask: g * ~mask))


def _numbers(x):
    return x.data if isinstance(x, Value) else x  # (a permutation is a constant: its derivative is 0)


def _sort_vjp(g, out, x):
    """The gradient goes back to where each sorted element came from: the inverse permutation, row by row."""
    inverse = np.argsort(np.argsort(_numbers(x), axis=-1, kind="stable"), axis=-1)
    rows = tuple(np.indices(inverse.shape)[:-1])
    return g[(*rows, inverse)]


my_sort = Op("my_sort", lambda x: np.sort(x, axis=-1, kind="stable"), _sort_vjp)

X = np.array([0.3, -1.2, 2.0, 0.9])
MASK = np.array([True, False, True, False])


def _sigma(x):
    return 1 / (1 + np.exp(-x))


# --- the defects ------------------------------------------------------------------------------------------------
def test_a_vjp_returning_integers_is_refused_not_truncated() -> None:
    twice = Op("twice", lambda x: 2 * x, lambda g, out, x: (g * 2).astype(np.int64))
    x = Value(X)
    cost = (twice(x) * 0.3).sum()
    with pytest.raises(TypeError, match=r"^twice: its vjp returned int64 for an input of dtype float64"):
        cost.backward()
    assert x.grad is None or not np.any(x.grad)  # (the truncated gradient was all zeros)


def test_one_vjp_for_two_inputs_is_told_an_op_has_one_vjp_per_input() -> None:
    scaled = Op("scaled", lambda a, b: a * b, lambda g, out, a, b: (g * b, g * a))
    with pytest.raises(TypeError, match=r"^scaled: takes 1 input\(s\), got 2; an Op takes one input per vjp") as info:
        scaled(Value(X), Value(X))
    assert "given by name" not in str(info.value)
    assert "Op('scaled', forward, (vjp_a, vjp_b))" in str(info.value)


def test_the_function_of_minitorch_and_pytorch_points_at_op() -> None:
    with pytest.raises(AttributeError, match=r"'Function' \(a minitorch name\); an operation of one's own is an Op"):
        tinygrad_edu.Function  # noqa: B018


@pytest.mark.parametrize(("name", "advice"), [("apply", "call the Op itself, op(x, y)"),
                                              ("backward", "its vjps, one per input"),
                                              ("save_for_backward", "saving=")])
def test_pytorch_function_names_on_an_op_say_what_they_are_here(name: str, advice: str) -> None:
    with pytest.raises(AttributeError, match=r"a torch.autograd.Function name") as info:
        getattr(my_softplus, name)
    assert advice in str(info.value)
    assert not hasattr(my_softplus, "no_such_thing")  # other names: the plain AttributeError, as before


def test_a_vjp_computing_with_a_value_in_its_closure_is_told_why() -> None:
    w = Value(2.0)
    scale = Op("scale", lambda x: 2 * x, lambda g, out, x: g * w)
    x = Value(X)
    with pytest.raises(TypeError, match=r"^scale: its vjp returned Value of dtype float64, not an array of real "
                                        r"gradients; .*kept in its closure.*give every Value as an input"):
        scale(x).sum().backward()


def test_the_players_formula_for_my_op_shows_its_parameters() -> None:
    from tinygrad_edu.player import forward_formula

    log_base = Op("log_base", lambda x, base: np.log(x) / np.log(base), lambda g, out, x, base: g / (x * np.log(base)))
    x = Value(np.array([1.0, 4.0]), label="x")
    assert forward_formula(log_base(x, base=2.0), ["x"]) == "log_base(x, base=2.0)"
    assert forward_formula(log_base(x, base=10.0), ["x"]) == "log_base(x, base=10.0)"
    s = my_softplus(x)
    s.label = "s"
    w = my_where(s, 0.0, mask=np.array([True, False]))
    w.label = "w"
    steps = viz.backprop_player(w.sum()).steps
    assert any("w = my_where(s, 0, mask=[True, False])" in step.html for step in steps)
    # the built-in operations keep their forms, with the settings the step needs (reshape's shape)
    assert forward_formula(x.reshape(2, 1), ["x"]) == "reshape(x, shape=(2, 1))"


# --- guards: what the author relies on --------------------------------------------------------------------------
_FUNCTIONS = {
    "softplus": (lambda v: my_softplus(v * v.tanh()), (X,)),
    "where": (lambda a, b: my_where(a * a, b.tanh(), mask=MASK) * a, (X, X[::-1].copy())),
    "where_broadcast": (lambda a, b: my_where(a.exp(), b, mask=MASK), (X, np.outer([1.0, -2.0], X))),
    "sort": (lambda v: my_sort(v * v * v) * np.arange(1.0, 5.0), (X,)),
    "sort_rows": (lambda v: my_sort(my_softplus(v) * v), (np.stack([X, X[::-1] * 0.7]),)),
}


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("name", list(_FUNCTIONS))
def test_my_ops_agree_with_finite_differences_to_order_3(name: str, order: int) -> None:
    f, inputs = _FUNCTIONS[name]
    check_gradients(f, *inputs, order=order)


def test_the_sorts_gradient_and_hessian_are_the_closed_forms() -> None:
    """f(x) = Σᵢ cᵢ·sort(x³)ᵢ: ∂f/∂xⱼ = 3xⱼ²·c_rank(j), and the Hessian is diagonal, 6xⱼ·c_rank(j)."""
    c = np.array([1.0, -2.0, 3.0, 0.5])
    f = lambda v: (my_sort(v * v * v) * c).sum()  # noqa: E731
    rank = np.argsort(np.argsort(X ** 3))
    np.testing.assert_allclose(grad(f)(X).data, 3 * X ** 2 * c[rank], rtol=1e-13)
    np.testing.assert_allclose(hessian(f)(X).data, np.diag(6 * X * c[rank]), rtol=1e-13, atol=1e-15)


def test_my_softplus_is_stable_and_its_derivatives_are_sigma_and_sigma_prime() -> None:
    x = np.array([-800.0, -30.0, 0.0, 30.0, 800.0])
    tail = np.log1p(np.exp(-30.0))  # ln(1 + e⁻³⁰), below 30's last digit only in part
    np.testing.assert_allclose(my_softplus(Value(x)).data, [0.0, tail, np.log(2.0), 30.0 + tail, 800.0],
                               rtol=1e-15, atol=1e-300)
    point = np.array(0.7)
    first = grad(lambda v: my_softplus(v))(point)
    second = grad(grad(lambda v: my_softplus(v)))(point)
    third = grad(grad(grad(lambda v: my_softplus(v))))(point)
    s = _sigma(0.7)
    np.testing.assert_allclose([first.data, second.data, third.data], [s, s * (1 - s), s * (1 - s) * (1 - 2 * s)],
                               rtol=1e-13)


@given(arrays(min_value=-20.0, max_value=20.0))
def test_my_softplus_at_order_2_on_drawn_arrays(x) -> None:
    check_gradients(lambda v: my_softplus(v), x, order=2)


def test_my_ops_in_a_network_train_to_the_closed_form_gradient() -> None:
    """One layer with my softplus as its activation, a where and a sort after it: the weights' gradient is the
    chain rule worked out by hand."""
    net = nn.MLP([2, 3], activation=my_softplus, rng=0)
    inputs = np.array([[0.1, 0.2], [0.5, -0.3]])
    mask = np.array([[True, False, True], [False, True, True]])
    out = net(inputs)
    cost = (my_sort(my_where(out, out * 0.5, mask=mask)) * np.array([1.0, 2.0, 3.0])).sum()
    cost.backward()
    layer = net.layers[0]
    z = inputs @ layer.weights.data + layer.biases.data
    a = np.logaddexp(0, z)
    picked = np.where(mask, a, 0.5 * a)
    weights = np.array([1.0, 2.0, 3.0])[np.argsort(np.argsort(picked, axis=-1), axis=-1)]
    dz = weights * np.where(mask, 1.0, 0.5) * _sigma(z)
    np.testing.assert_allclose(layer.weights.grad, inputs.T @ dz, rtol=1e-12)
    np.testing.assert_allclose(layer.biases.grad, dz.sum(axis=0), rtol=1e-12)


def test_a_mask_changed_after_the_forward_pass_changes_no_gradient() -> None:
    mask = MASK.copy()
    a, b = Value(X), Value(X * 2)
    out = my_where(a, b, mask=mask)
    mask[:] = ~mask  # (the Op's parameters are copied when it is recorded)
    out.sum().backward()
    np.testing.assert_array_equal(a.grad, MASK.astype(float))
    np.testing.assert_array_equal(b.grad, (~MASK).astype(float))


def test_my_ops_keep_float32_and_record_nothing_under_no_grad() -> None:
    x = Value(X.astype(np.float32))
    out = my_sort(my_where(my_softplus(x), x * 2, mask=MASK))
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32
    expected = np.where(MASK, _sigma(X), 2.0)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-6)
    with no_grad():
        quiet = my_sort(my_where(my_softplus(x), x * 2, mask=MASK))
    assert quiet.parents == () and quiet.op is None and not quiet.requires_grad
    np.testing.assert_array_equal(quiet.data, out.data)


def test_a_deep_copy_of_my_graph_backpropagates_alike_and_pickle_names_my_op() -> None:
    x = Value(X)
    cost = (my_sort(my_where(my_softplus(x), x * 2, mask=MASK)) * np.arange(4.0)).sum()
    twin = copy.deepcopy(cost)
    twin.backward()
    cost.backward()
    (twin_x,) = [v for v in _leaves(twin) if v.data.shape == (4,) and v.requires_grad]
    np.testing.assert_array_equal(twin_x.grad, x.grad)
    assert twin_x is not x and twin.op == cost.op == "sum"
    with pytest.raises(TypeError, match=r"pickle: the operation '(sum|mul|my_sort)'"):
        pickle.dumps(cost)
    with pytest.raises(TypeError, match=r"pickle: the operation 'my_softplus'"):
        pickle.dumps(my_softplus(x))
    assert pickle.loads(pickle.dumps(cost.detach())).data == cost.data


def _leaves(value: Value) -> list[Value]:
    seen, stack, leaves = set(), [value], []
    while stack:
        node = stack.pop()
        if id(node) in seen or not isinstance(node, Value):
            continue
        seen.add(id(node))
        if node.op is None:
            leaves.append(node)
        stack.extend(node.parents)
    return leaves


def test_a_model_with_my_op_copies_and_saves_its_numbers_exactly(tmp_path) -> None:
    net = nn.MLP([2, 3, 1], activation=my_softplus, rng=0)
    inputs = np.array([[0.1, 0.2], [0.5, -0.3]])
    twin = copy.deepcopy(net)
    np.testing.assert_array_equal(twin(inputs).data, net(inputs).data)
    assert twin.layers[0].activation is my_softplus
    with pytest.raises(TypeError, match="my_softplus"):
        pickle.dumps(net)
    net.save(tmp_path / "net.npz")
    other = nn.MLP([2, 3, 1], activation=my_softplus, rng=5)
    other.load(tmp_path / "net.npz")
    np.testing.assert_array_equal(other(inputs).data, net(inputs).data)


def test_draw_graph_labels_my_ops_with_their_parameters() -> None:
    x = Value(X, label="x")
    cost = my_sort(my_where(my_softplus(x), 0.0, mask=MASK)).sum()
    source = viz.draw_graph(cost).source
    assert "label=my_softplus" in source and "label=my_sort" in source
    assert 'label="my_where(mask=[True, False, True, False…"' in source  # (cut at 40 characters)
