"""A teacher draws the same chain network (1-1-1, sigmoid) three ways, ``viz.draw_graph``, ``viz.draw_dependency_tree``
and ``viz.backprop_player``, in every state its gradients can be in, and checks that each drawing tells the truth about
``.grad`` in each (same situation, same advice).

Defects (xfail, strict):

* after the default ``zero_grad()`` (grads None) the tree drew the intermediates' ∂C/∂z and the parameters' ``chain:``
  lines but silently left out the parameters' ∂C/∂W lines; ``zero_grad(set_to_none=False)`` is refused with the advice
  to call ``backward()`` again, and the player says "zero_grad() reset it… call backward() again";
* after ``backward(inputs=[W²])`` the tree showed ∂C/∂W² alone and silently left out ∂C/∂b², ∂C/∂W¹, ∂C/∂b¹;
* ``draw_graph``'s key said nothing in those two states, where its boxes show "grad –" on the parameters beside
  the intermediates' gradients of the pass (its key explains the zeros of ``zero_grad(set_to_none=False)``);
* ``draw_graph`` drew a frozen bias (``requires_grad = False``, grey: a constant) with the ``.grad`` it kept from
  before it was frozen, without a word, where the tree and the player say a constant needs no gradient;
* with the first layer's W¹ frozen the engine records no W¹·α⁰ (none of its inputs needs a gradient): the tree drew
  z¹ = 0.5883 with one input, b¹ = 0.2698, through ∂z¹/∂b¹ = 1, and nowhere the 0.3185 the player shows
  (``z¹ = 0.3185 + b¹``).

Guards: in the states where the drawings draw, their ∂C/∂· are those of central differences; in the others, the three
give the same advice (two backward passes, zeros, an optimizer's step, ``p.data =`` of the same or another shape); a
frozen last layer or bias is drawn as a constant with no ∂C/∂ line, even with an old ``.grad``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest

from tinygrad_edu import Value, nn, optim, viz
from tinygrad_edu.losses import squared_error

X, Y = np.array([0.5]), np.array([0.25])


def _network() -> nn.Network:
    return nn.Network(nn.Layer(1, 1, "sigmoid", rng=0), nn.Layer(1, 1, "sigmoid", rng=1))


def _cost(network: nn.Network) -> Value:
    return squared_error(network(X), Y)


def _parameters(network: nn.Network) -> dict[str, Value]:
    return {name: getattr(layer, attribute) for i, layer in enumerate(network.layers, 1)
            for name, attribute in ((f"W{'¹²'[i - 1]}", "weights"), (f"b{'¹²'[i - 1]}", "biases"))}


def _central_difference(network: nn.Network, parameter: Value, eps: float = 1e-6) -> float:
    """∂C/∂(parameter) by central differences, computed without the engine's backward pass."""
    saved = parameter.data.copy()
    costs = []
    for step in (eps, -eps):
        parameter.data = saved + step
        costs.append(_cost(network).item())
    parameter.data = saved
    return (costs[0] - costs[1]) / (2 * eps)


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def _drawn_gradients(source: str) -> dict[str, float]:
    """The ∂C/∂(name) = number lines of a tree drawing, by name."""
    return {name: float(number) for name, number in re.findall(r"∂C/∂(\w+[¹²⁰]?) = (-?[\d.]+(?:e-?\d+)?)<", source)}


def _key(drawing: viz.Drawing) -> str:
    found = re.search(r'\blabel="\s*(green[^"]*)"', drawing.source, flags=re.S)
    assert found is not None, drawing.source
    return found.group(1)


# --- the states where the three draw ------------------------------------------------------------------------------

@pytest.mark.parametrize("backward_first", [False, True], ids=["never backpropagated", "after one backward"])
def test_the_tree_and_the_player_show_the_gradients_of_central_differences(backward_first: bool) -> None:
    network = _network()
    expected = {name: _central_difference(network, p) for name, p in _parameters(network).items()}
    cost = _cost(network)
    if backward_first:
        cost.backward()
    drawn = _drawn_gradients(viz.draw_dependency_tree(cost).source)
    for name, value in expected.items():
        assert drawn[name] == pytest.approx(value, rel=1e-3), (name, drawn)
    result = _text(viz.backprop_player(cost).steps[-1].html)
    assert result.count("= .grad") == 4 and "≠" not in result, result
    assert "grad:" not in _key(viz.draw_graph(cost))  # nothing to explain


@pytest.mark.parametrize("frozen", ["W²", "b¹"])
@pytest.mark.parametrize("old_grad", [False, True], ids=["fresh", "with an old .grad"])
def test_a_frozen_last_weight_or_bias_is_a_constant_in_the_tree(frozen: str, old_grad: bool) -> None:
    network = _network()
    parameters = _parameters(network)
    if old_grad:
        _cost(network).backward()
    parameters[frozen].requires_grad = False
    for p in network.parameters():  # (the frozen one is not among them: it keeps its old .grad)
        p.zero_grad()
    expected = {name: _central_difference(network, p) for name, p in parameters.items() if name != frozen}
    cost = _cost(network)
    source = viz.draw_dependency_tree(cost).source
    drawn = _drawn_gradients(source)
    assert frozen not in drawn, drawn  # needs no gradient, whatever .grad it kept
    for name, value in expected.items():
        assert drawn[name] == pytest.approx(value, rel=1e-3), (name, drawn)
    assert "(a constant: needs no gradient)" in source
    assert "is frozen" not in source  # the note for an unrecorded W·α is not for these
    result = _text(viz.backprop_player(cost).steps[-1].html)
    assert frozen not in result and result.count("= .grad") == 3, result


# --- the states where they refuse or warn: the same advice -------------------------------------------------------

def test_after_two_backward_passes_all_three_say_the_grads_add_up() -> None:
    network = _network()
    cost = _cost(network)
    cost.backward()
    cost.backward()
    with pytest.raises(ValueError, match=r"other backward passes; call zero_grad\(\)"):
        viz.draw_dependency_tree(cost)
    assert "add up over backward passes" in _key(viz.draw_graph(cost))
    assert _text(viz.backprop_player(cost).steps[-1].html).count("other backward passes too: zero_grad() first") == 4


def test_after_zero_grad_set_to_none_false_all_three_say_call_backward_again() -> None:
    network = _network()
    cost = _cost(network)
    cost.backward()
    network.zero_grad(set_to_none=False)
    with pytest.raises(ValueError, match=r"zero_grad\(set_to_none=False\) reset it.*call cost.backward\(\) again"):
        viz.draw_dependency_tree(cost)
    assert "call backward() again" in _key(viz.draw_graph(cost))
    assert _text(viz.backprop_player(cost).steps[-1].html).count("zero_grad() reset it") == 4


def test_after_the_default_zero_grad_the_player_says_call_backward_again() -> None:
    network = _network()
    cost = _cost(network)
    cost.backward()
    network.zero_grad()
    assert _text(viz.backprop_player(cost).steps[-1].html).count("zero_grad() reset it") == 4


def test_after_the_default_zero_grad_the_tree_says_call_backward_again() -> None:
    network = _network()
    cost = _cost(network)
    cost.backward()
    network.zero_grad()
    with pytest.raises(ValueError, match=r"\.grad is None.*zero_grad\(\) reset it.*call cost.backward\(\) again"):
        viz.draw_dependency_tree(cost)
    assert all(p.grad is None for p in network.parameters())  # the refusal changed nothing


def test_after_a_partial_backward_the_tree_says_what_left_the_grads_out() -> None:
    network = _network()
    cost = _cost(network)
    cost.backward(inputs=[network.layers[1].weights])
    with pytest.raises(ValueError, match=r"\.grad is None.*backward\(inputs=…\) left it out.*zero_grad\(\)"):
        viz.draw_dependency_tree(cost)
    assert _text(viz.backprop_player(cost).steps[-1].html).count("zero_grad() reset it") == 3


@pytest.mark.parametrize("state", ["zero_grad()", "backward(inputs=[W²])"])
def test_draw_graphs_key_explains_the_parameters_missing_grads(state: str) -> None:
    network = _network()
    cost = _cost(network)
    if state == "zero_grad()":
        cost.backward()
        network.zero_grad()
    else:
        cost.backward(inputs=[network.layers[1].weights])
    key = _key(viz.draw_graph(cost))
    assert ".grad is None" in key and "zero_grad()" in key and "call backward() again" in key, key


def test_draw_graphs_key_says_nothing_of_missing_grads_before_any_backward() -> None:
    """Before any backward pass no Value has a gradient: no pass to compare with, nothing to explain."""
    key = _key(viz.draw_graph(_cost(_network())))
    assert "grad:" not in key, key


def test_draw_graphs_key_says_a_frozen_bias_grad_is_from_before_it_was_frozen() -> None:
    network = _network()
    bias = network.layers[0].biases
    _cost(network).backward()
    bias.requires_grad = False
    for p in network.parameters():
        p.zero_grad()
    network.layers[0].weights.data = network.layers[0].weights.data + 1.0  # (the old .grad is now no pass's)
    cost = _cost(network)
    cost.backward()
    key = _key(viz.draw_graph(cost))
    assert "b¹ needs no gradient (requires_grad = False)" in key and "before requires_grad was set" in key, key


def test_a_frozen_first_layers_product_is_noted_in_the_tree() -> None:
    network = _network()
    weights = network.layers[0].weights
    weights.requires_grad = False
    product = float(weights.data.reshape(-1)[0] * X[0])  # W¹·α⁰, computed here
    cost = _cost(network)
    forward = _text(viz.backprop_player(cost).steps[1].html)
    assert f"z¹ = {product:.4g} + b¹" in forward, forward  # what the player shows
    source = viz.draw_dependency_tree(cost).source
    assert f"+ {product:.4g} = W¹·α⁰" in source and "W¹ is frozen" in source, source
    expected = _central_difference(network, network.layers[0].biases)
    assert _drawn_gradients(source)["b¹"] == pytest.approx(expected, rel=1e-3)


def _stepped(network: nn.Network) -> None:
    optim.SGD(network.parameters(), learning_rate=0.1).step()


def _same_shape(network: nn.Network) -> None:
    network.layers[0].weights.data = np.array([[0.9]])


def _other_shape(network: nn.Network) -> None:
    network.layers[0].weights.data = np.array([[0.9, 0.1]])


@pytest.mark.parametrize("change", [_stepped, _same_shape, _other_shape], ids=["step", "same shape", "other shape"])
def test_a_stale_graph_is_refused_by_the_tree_and_the_player_and_noted_by_the_graph(change: Callable) -> None:
    network = _network()
    cost = _cost(network)
    cost.backward()
    change(network)
    for draw in (viz.draw_dependency_tree, viz.backprop_player):
        with pytest.raises(ValueError, match="the graph is stale: .* compute the cost again"):
            draw(cost)
    assert "stale:" in _key(viz.draw_graph(cost)) and "compute it again" in _key(viz.draw_graph(cost))
