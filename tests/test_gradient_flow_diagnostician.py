"""A teacher showing vanishing and exploding gradients in deep sigmoid and tanh networks: the .grad of every
activation and pre-activation against finite differences and the numpy product σ'(z)·W, per-layer norms, and how the
drawings and the player show gradients of 1e-20 to 1e-45."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from tinygrad_edu import Value, losses, nn, viz
from tinygrad_edu.notation import format_number
from tinygrad_edu.optim import gradient_norm


def _chain(depth: int, dtype: type = np.float64) -> nn.Network:
    """The seed's chain network: one sigmoid neuron per layer, uniform [0, 1) start (gradients vanish fast)."""
    model = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(depth)])
    return model.float() if dtype is np.float32 else model


def _chain_cost(model: nn.Network, dtype: type = np.float64, scale: float = 1.0) -> Value:
    cost = losses.squared_error(model(np.array([0.5], dtype)), np.array([1.0], dtype))
    return cost * scale if scale != 1.0 else cost


def _forward_keeping(net: nn.Network, x: np.ndarray) -> tuple[list[Value], list[Value], Value]:
    """Forward layer by layer, keeping each layer's z^l and α^l (the Values the drawings label)."""
    zs, alphas, a = [], [], Value(x, requires_grad=False)
    for layer in net:
        a = layer(a)
        alphas.append(a)
        zs.append(a.parents[0])
    return zs, alphas, a


def _slope(name: str, z: np.ndarray) -> np.ndarray:
    s = 1 / (1 + np.exp(-z))
    return s * (1 - s) if name == "sigmoid" else 1 - np.tanh(z) ** 2


# --- defects ------------------------------------------------------------------------------------------------------
def test_player_result_step_tells_a_doubled_vanishing_gradient_from_one_pass() -> None:
    model = _chain(30)
    cost = _chain_cost(model)
    cost.backward()
    cost.backward()  # every parameter's .grad is now twice one pass's
    tiny = [p for p in model.parameters() if abs(p.grad.item()) < 1e-15]
    assert len(tiny) > 10  # (the first layers' gradients vanish: the point of the test)
    rows = [re.sub("<[^>]+>", " ", row) for row in re.findall(r"<tr><td>(.*?)</tr>", viz.backprop_player(cost)
                                                                 .steps[-1].html)]
    assert rows and not [row for row in rows if "= .grad" in row]


def test_draw_graph_key_says_passes_mixed_when_every_gradient_is_tiny() -> None:
    model = _chain(12)
    cost = _chain_cost(model, scale=1e-13)  # a cost nearly met: every gradient below 1e-13
    cost.backward()
    assert "chain rule" not in viz.draw_graph(cost, max_nodes=1000).graph_attr["label"]  # one pass: nothing to say
    cost.backward()
    assert max(abs(p.grad.item()) for p in model.parameters()) < 1e-12
    assert "do not follow by the chain rule" in viz.draw_graph(cost, max_nodes=1000).graph_attr["label"]


def test_dependency_tree_refuses_doubled_tiny_gradients() -> None:
    model = _chain(12)
    cost = _chain_cost(model, scale=1e-13)
    cost.backward()
    viz.draw_dependency_tree(cost)  # one pass: drawn
    cost.backward()
    with pytest.raises(ValueError, match="other backward passes"):
        viz.draw_dependency_tree(cost)


def test_tree_says_when_a_float32_gradient_underflowed() -> None:
    model = _chain(60, np.float32)
    cost = _chain_cost(model, np.float32)
    cost.backward()
    w1 = model[0].weights
    assert w1.grad.dtype == np.float32 and w1.grad.item() == 0.0  # underflowed
    tree = viz.dependency_tree(cost)
    assert 0 < abs(tree.chain_rule("W^1")) < 1e-45  # in float64 the product of the local derivatives is not 0
    label = next(line for line in viz.draw_dependency_tree(cost).source.splitlines() if "<B>W¹</B>" in line)
    assert "∂C/∂W¹ = 0" in label and "underflow" in label
    top = next(line for line in viz.draw_dependency_tree(cost).source.splitlines() if "<B>W⁶⁰</B>" in line)
    assert "underflow" not in top  # a normal float32 gradient: no note


# --- guards -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_every_activation_grad_is_the_central_difference_of_the_rest_of_the_network(activation: str) -> None:
    """Perturb α^l's own numbers and run layers l+1 … L again by hand: (C(α+h) − C(α−h)) / 2h = α^l.grad."""
    net = nn.MLP([3] + [4] * 10 + [2], activation=activation, init="xavier", rng=1)
    x = np.random.default_rng(2).normal(size=(5, 3))
    y = np.random.default_rng(3).uniform(size=(5, 2))
    zs, alphas, out = _forward_keeping(net, x)
    losses.squared_error(out, y).backward()

    def cost_from(layer: int, a: np.ndarray) -> float:
        for later in net.layers[layer + 1:]:
            a = later(a).data
        return float(np.mean(np.sum((a - y) ** 2, axis=1)))

    for layer in (0, 4, 9, 10):
        base = alphas[layer].data
        for index in [(0, 0), (2, 1), (4, base.shape[1] - 1)]:
            h = 1e-4
            up, down = base.copy(), base.copy()
            up[index] += h
            down[index] -= h
            numeric = (cost_from(layer, up) - cost_from(layer, down)) / (2 * h)
            assert alphas[layer].grad[index] == pytest.approx(numeric, rel=1e-4, abs=1e-12)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_per_layer_gradients_decay_as_the_numpy_product_of_slopes_and_weights(activation: str) -> None:
    """Back-propagated in plain numpy, δ^l = σ'(z^l) ⊙ (δ^(l+1) @ W^(l+1)ᵀ): every z, α, W and b gradient of a
    30-layer network, down to 1e-20 and below, agrees to 1e-10 relative, and so do their per-layer norms."""
    net = nn.MLP([2] + [6] * 29 + [1], activation=activation, init="uniform" if activation == "sigmoid" else "xavier",
                 rng=4)
    x = np.random.default_rng(5).normal(size=(4, 2))
    y = np.full((4, 1), 0.2)
    zs, alphas, out = _forward_keeping(net, x)
    losses.squared_error(out, y).backward()
    a = [x] + [alpha.data for alpha in alphas]
    grad_alpha = 2 * (a[-1] - y) / len(x)
    named = dict(net.named_parameters())
    for i in range(len(net) - 1, -1, -1):
        layer = net[i]
        grad_z = _slope(activation, zs[i].data) * grad_alpha
        np.testing.assert_allclose(alphas[i].grad, grad_alpha, rtol=1e-10, atol=0)
        np.testing.assert_allclose(zs[i].grad, grad_z, rtol=1e-10, atol=0)
        np.testing.assert_allclose(layer.weights.grad, a[i].T @ grad_z, rtol=1e-10, atol=0)
        np.testing.assert_allclose(layer.biases.grad, grad_z.sum(axis=0), rtol=1e-10, atol=0)
        assert gradient_norm([named[f"layers.{i + 1}.weights"]]) == pytest.approx(
            np.linalg.norm(a[i].T @ grad_z), rel=1e-10)
        grad_alpha = grad_z @ layer.weights.data.T
    if activation == "sigmoid":  # the uniform start of the seed: the first layer's gradient has all but vanished
        assert gradient_norm([net[0].weights]) < 1e-12 * gradient_norm([net[-1].weights])


def test_gradient_norm_per_layer_keeps_vanishing_and_exploding_scales() -> None:
    """gradient_norm of one layer whose squares underflow (1e-170) or overflow (1e200) float64, and of an inf."""
    for scale in (1e-170, 1e-30, 1e200):
        w = Value(np.ones((3, 4)))
        (w * scale).sum().backward()
        assert gradient_norm([w]) == pytest.approx(scale * math.sqrt(12), rel=1e-12)
    w = Value(np.array([1.0, 2.0]))
    (w * np.array([np.inf, 1.0])).sum().backward()
    assert gradient_norm([w]) == math.inf


def test_draw_graph_and_player_show_a_gradient_of_1e30_scale_with_its_digits() -> None:
    """A vanishing ∂C/∂W¹ of about 1e-31 is written with its digits in the graph's box and the player's last step,
    never as 0."""
    model = _chain(40)
    cost = _chain_cost(model)
    cost.backward()
    w1 = model[0].weights
    assert 0 < abs(w1.grad.item()) < 1e-30
    written = format_number(w1.grad.item(), 4)
    assert "e-" in written and float(written) == pytest.approx(w1.grad.item(), rel=1e-3)
    graph = viz.draw_graph(cost, max_nodes=10_000).source
    assert f"grad {written}" in graph
    player = viz.backprop_player(cost, max_nodes=10_000)
    assert written in player.steps[-1].html
