"""A reviewer of the package's structure after round 34: the three places that print an array "whatever
np.set_printoptions says" (an operation's setting in a drawing, an index in the player, a StationaryPoint's repr)
each pinned a different part of numpy's options, and two of them let precision, nanstr, infstr or linewidth through;
and the functions that grew past 60 lines (backprop_player, dependency_tree) keep what they did once split."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinygrad_edu import Op, Value, losses, nn, viz
from tinygrad_edu.calculus import StationaryPoint
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.engine import apply
from tinygrad_edu.player import pass_gradients

#: print options a notebook or an earlier cell may have set
_ODD_OPTIONS = {"precision": 2, "nanstr": "NA", "infstr": "INF", "linewidth": 20, "sign": "+", "suppress": True}


def _scaled() -> Value:
    """x times a float array given as the Op's setting (as a custom Op takes a constant)."""
    scale = Op("scale", lambda x, s: x * s, lambda g, out, x, s: g * s)
    return apply(scale, Value(np.array([1.0, 2.0, 3.0]), requires_grad=True), s=np.array([np.nan, np.inf, 0.123456]))


# --- defects ------------------------------------------------------------------------------------------------------
def test_a_drawn_ops_float_array_setting_is_written_as_numpy_writes_it_by_default(numpy_default_print_options):
    y = _scaled()
    plain = viz.draw_graph(y).source
    with np.printoptions(**_ODD_OPTIONS):
        odd = viz.draw_graph(y).source
    assert "scale(s=[nan, inf, 0.123456])" in plain  # as np.array2string writes it, on one line
    assert odd == plain


def test_a_stationary_points_repr_prints_alike_whatever_the_print_options(numpy_default_print_options):
    point = StationaryPoint(point=np.array([np.nan, 1.5, -2.0, 0.25, 4.0, 5.0, 6.0]), value=math.nan,
                            gradient_norm=math.nan, eigenvalues=np.array([np.inf, -np.inf, 1.0, 2.0, 3.0, 4.0, 5.0]),
                            kind="not converged", converged=False, iterations=3, path=np.zeros((4, 7)))
    plain = repr(point)
    with np.printoptions(**_ODD_OPTIONS):
        odd = repr(point)
    assert "nan" in plain and "inf" in plain and "\n" not in plain
    assert odd == plain


# --- guards for the split functions --------------------------------------------------------------------------------
def _chain(w1: float = 0.6, b1: float = 0.3, w2: float = 0.5, b2: float = 0.9, x: float = 0.5,
           y: float = 0.25) -> Value:
    net = nn.Network(nn.Layer(1, 1, "sigmoid", rng=0), nn.Layer(1, 1, "sigmoid", rng=1))
    for layer, (w, b) in zip(net.layers, ((w1, b1), (w2, b2)), strict=True):
        layer.weights.data[...] = w
        layer.biases.data[...] = b
    return losses.squared_error(net(np.array([x])), np.array([y]))


def _by_hand(w1: float = 0.6, b1: float = 0.3, w2: float = 0.5, b2: float = 0.9, x: float = 0.5,
             y: float = 0.25) -> dict[str, float]:
    """∂C/∂W and ∂C/∂b of the 1-1-1 sigmoid chain, worked out by the chain rule."""
    a1 = 1 / (1 + math.exp(-(w1 * x + b1)))
    a2 = 1 / (1 + math.exp(-(w2 * a1 + b2)))
    d_z2 = 2 * (a2 - y) * a2 * (1 - a2)
    d_z1 = d_z2 * w2 * a1 * (1 - a1)
    return {"W^2": d_z2 * a1, "b^2": d_z2, "W^1": d_z1 * x, "b^1": d_z1}


def test_a_tree_given_one_pass_gradients_shows_them_after_a_second_backward():
    cost = _chain()
    cost.backward()
    cost.backward()  # .grad now holds two passes
    with pytest.raises(ValueError, match=r"^dependency_tree: .*other backward passes"):
        dependency_tree(cost)
    tree = dependency_tree(cost, gradients=pass_gradients(cost))
    assert {name: tree.nodes[name].grad for name in _by_hand()} == pytest.approx(_by_hand(), rel=1e-12)


def test_a_tree_refuses_gradients_that_are_no_mapping_naming_itself():
    cost = _chain()
    with pytest.raises(TypeError, match=r"^dependency_tree: gradients must map id\(Value\)"):
        dependency_tree(cost, gradients=[1.0, 2.0])  # type: ignore[arg-type]
    assert cost.grad is None  # refused before any backward pass


@pytest.mark.parametrize("layout", ["tree", "auto", "graph"])
def test_the_player_checks_its_arguments_before_any_backward_pass(layout):
    cost = _chain()
    with pytest.raises(ValueError, match=r"^backprop_player: layout must be"):
        viz.backprop_player(cost, layout=layout.upper())
    with pytest.raises(ValueError, match=r"^backprop_player: expected a cost, a single number"):
        viz.backprop_player(Value(np.ones(2), requires_grad=True) * 2, layout=layout)
    assert cost.grad is None


def test_the_tree_player_shows_one_passs_gradients_where_grad_holds_two():
    cost = _chain()
    cost.backward()
    cost.backward()
    player = viz.backprop_player(cost, layout="tree")
    last = player.steps[-1].html
    for name, grad in _by_hand().items():
        symbol = name.replace("^1", "¹").replace("^2", "²")
        assert f"{symbol}" in last
        assert f"{grad:.4g}" in last, (name, grad)
