"""A reviewer of this round's new API and behaviour: misused as a student or an engineer would misuse it.

Defects (xfail, strict): the advice of ``m % v`` and ``m // v`` (v the divisor) gave the formula of ``v % m``, and
that of ``v % w`` (both Values) did not run; ``backward_order``, the player and the dependency tree walked a graph
that backward refuses (a computed Value whose requires_grad was set to False by hand), cutting its gradients
silently; ``layer.activation = a_module`` was refused as an attribute "hiding" Layer.activation.
Guards: frozen parameters holding a gradient under the closure optimizers, a History joined in pieces, the
drawing's stale note only for a stale graph.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from tinygrad_edu import History, Value, fit, losses, nn, no_grad, optim, player, seeds, viz
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.engine import backward_order

_FORMULA = re.compile(r"write (.+?)(?: \(the derivative|,? on the numbers|, or )")


def _advised(error: BaseException) -> str:
    """The formula an error about % or // says to write."""
    found = _FORMULA.search(str(error))
    assert found, str(error)
    return found.group(1)


def _numbers(result: object) -> np.ndarray:
    return result.data if isinstance(result, Value) else np.asarray(result)


V_DATA = np.array([1.5, 2.5, -0.7, 5.0])
M_ARRAY = np.array([3.0, 1.0, 2.0, 7.0])


@pytest.mark.parametrize(("expression", "m", "expected"), [
    (lambda v: 2.0 % v, 2.0, np.mod(2.0, V_DATA)),
    (lambda v: 2.0 // v, 2.0, np.floor_divide(2.0, V_DATA)),
    (lambda v: M_ARRAY % v, M_ARRAY, np.mod(M_ARRAY, V_DATA)),
    (lambda v: np.float64(2.0) // v, 2.0, np.floor_divide(2.0, V_DATA)),
])
def test_following_the_advice_of_a_reflected_division_gives_its_numbers(expression, m, expected):
    v = Value(V_DATA.copy())
    with pytest.raises(TypeError, match="not supported on Values") as raised:
        expression(v)
    np.testing.assert_allclose(_numbers(eval(_advised(raised.value), {"np": np, "v": v, "m": m})), expected)


def test_the_advice_for_a_remainder_by_a_value_runs():
    v, m = Value(V_DATA.copy()), Value(np.array([2.0, 0.7, 3.0, 1.5]))
    with pytest.raises(TypeError) as raised:
        v % m
    result = eval(_advised(raised.value), {"np": np, "v": v, "m": m})
    np.testing.assert_allclose(result.data, np.mod(v.data, m.data))
    (result * np.arange(1.0, 5.0)).sum().backward()  # as PyTorch's remainder: 1 for v, −floor(v/m) for m
    np.testing.assert_allclose(v.grad, np.arange(1.0, 5.0))
    np.testing.assert_allclose(m.grad, -np.floor(v.data / m.data) * np.arange(1.0, 5.0))


@pytest.mark.parametrize("expression", [lambda v: v % 2.0, lambda v: v // 2.0])
def test_following_the_advice_of_a_division_by_a_number_gives_its_numbers(expression):
    v = Value(V_DATA.copy())
    with pytest.raises(TypeError, match="not supported on Values") as raised:
        expression(v)
    expected = np.mod(V_DATA, 2.0) if "%" in str(raised.value)[:2] else np.floor_divide(V_DATA, 2.0)
    np.testing.assert_allclose(_numbers(eval(_advised(raised.value), {"np": np, "v": v, "m": 2.0})), expected)


def _unflagged_graph() -> tuple[Value, Value, Value, Value]:
    """out = tanh(2·(x·w) + x), with y = x·w set to requires_grad=False by hand after out was computed."""
    x, w = Value(0.2, label="x"), Value(0.3, label="w")
    y = x * w
    y.label = "y"
    out = (y * 2 + x).tanh()
    y.requires_grad = False
    return x, w, y, out


def test_backward_order_and_the_player_refuse_what_backward_refuses():
    _, _, _, out = _unflagged_graph()
    with pytest.raises(ValueError, match=r"^backward: 'y' was computed by mul, but its requires_grad was set"):
        out.backward()
    with pytest.raises(ValueError, match=r"^backward_order: 'y' was computed by mul, but its requires_grad was set"):
        backward_order(out)
    with pytest.raises(ValueError, match="requires_grad was set to False by hand"):
        player.pass_gradients(out)


def test_the_dependency_tree_refuses_a_graph_cut_by_hand_after_a_refused_backward():
    net = nn.MLP([1, 1, 1], rng=0)
    cost = losses.squared_error(net(np.array([[0.5]])), np.array([[1.0]]))
    hidden = next(node for node in backward_order(cost) if node.label == "α^1")
    hidden.requires_grad = False
    with pytest.raises(ValueError, match="requires_grad was set to False by hand"):
        cost.backward()
    assert cost.grad is not None  # (what the refused pass left: the tree took it for a pass made)
    with pytest.raises(ValueError, match=r"^dependency_tree: 'α\^1' was computed by sigmoid, but its requires_grad"):
        dependency_tree(cost)


def test_the_drawing_of_a_graph_cut_by_hand_is_not_called_stale():
    """The key's stale note is for a parameter changed in place, not for any refusal of the walk."""
    _, w, _, out = _unflagged_graph()
    assert "stale" not in viz.draw_graph(out).source
    x = Value(0.2, label="x")
    stale = (x * w).tanh()
    with no_grad():
        w -= 0.1
    assert "stale: w was changed in place" in viz.draw_graph(stale).source


def test_setting_a_module_as_activation_gives_the_activations_advice():
    layer = nn.Layer(2, 2, rng=0)
    with pytest.raises(TypeError, match=r"activation is a Module \(Layer\); a layer's activation is a function"):
        layer.activation = nn.Layer(2, 2)
    with pytest.raises(TypeError, match=r"activation must be a name or a function, got Value"):
        layer.activation = Value(1.0)
    assert layer.activation_name == "sigmoid"
    with pytest.raises(TypeError, match="would hide Layer.parameters"):  # (a method is still guarded)
        layer.parameters = [Value(1.0)]


@pytest.mark.parametrize("make", [optim.Armijo, optim.Newton,
                                  lambda net: optim.RandomSearch(net, scale=0.1, rng=seeds.second_stream(0))],
                         ids=["Armijo", "Newton", "RandomSearch"])
def test_closure_optimizers_leave_a_frozen_layer_holding_a_gradient_alone(make):
    inputs = np.linspace(-1, 1, 8).reshape(-1, 1)
    targets = inputs ** 2
    net = nn.MLP([1, 3, 1], init="xavier", rng=0)
    optimizer = make(net)

    def closure() -> Value:
        return losses.squared_error(net(inputs), targets)

    closure().backward()  # every layer holds a gradient, then the first is frozen
    first, last = net.layers
    first.requires_grad_(False)
    frozen = [first.weights.data.copy(), first.biases.data.copy()]
    trained = last.weights.data.copy()
    before = float(closure().item())
    with warnings.catch_warnings():  # Newton: the cost is quadratic in the last layer, whose minimum one step
        warnings.simplefilter("ignore", optim.LineSearchWarning)  # reaches; the later steps find no decrease
        for _ in range(10):
            optimizer.zero_grad()
            optimizer.step(closure)
    np.testing.assert_array_equal(first.weights.data, frozen[0])
    np.testing.assert_array_equal(first.biases.data, frozen[1])
    assert not np.array_equal(last.weights.data, trained)
    assert float(closure().item()) < before


def test_a_run_joined_from_pieces_is_the_run_in_one_history():
    inputs = np.linspace(-1, 1, 10).reshape(-1, 1)
    targets = inputs ** 2
    net = nn.MLP([1, 4, 1], init="xavier", rng=0)
    pieces = [fit(net, inputs, targets, optimizer=optim.SGD(net, 0.1), episodes=2, progress=False),
              fit(net, inputs, targets, optimizer=optim.RandomSearch(net, rng=1), episodes=2, progress=False),
              fit(net, inputs, targets, optimizer=optim.Armijo(net), episodes=1, progress=False)]
    joined = sum(pieces, History())
    assert joined.cost == [c for piece in pieces for c in piece.cost]
    assert joined.step_size == [s for piece in pieces for s in piece.step_size]
    assert joined.label == "SGD + RandomSearch + Armijo"
    assert joined.final_cost == pieces[-1].final_cost
    assert joined.seconds == sorted(joined.seconds) and joined.seconds[:2] == pieces[0].seconds
    assert joined.seconds[-1] == pytest.approx(sum(piece.seconds[-1] for piece in pieces))
    assert (pieces[0] + pieces[1]) + pieces[2] == pieces[0] + (pieces[1] + pieces[2])
