"""A teacher drawing derivatives of derivatives: the graph that backward(create_graph=True) records, drawn with
draw_graph, the dependency tree and the backpropagation player; autodiff.grad(grad(f)) for x³, tanh and σ(w·x + b);
the seed's network at one sample.  Every number is checked against a closed form or a central difference."""

from __future__ import annotations

import html
import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, nn, viz
from tinygrad_edu import functional as F
from tinygrad_edu.autodiff import grad
from tinygrad_edu.losses import squared_error
from tinygrad_edu.notation import format_number

pytestmark = pytest.mark.skipif(viz.shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _grad_rows(source: str) -> list[str]:
    """The ``grad …`` rows of a drawing's boxes, in the order of its source."""
    return re.findall(r"<TD>grad ([^<]*)</TD>", source)


def _text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _seed_chain():
    """The seed's chain network at one sample: 1-1-1, sigmoid then identity, cost (α² − x²)² at x = 0.5."""
    net = nn.MLP([1, 1, 1], activation="sigmoid", output_activation="identity", rng=0)
    x = np.array([[0.5]])
    return net, squared_error(net(x), x ** 2)


# --- defects -------------------------------------------------------------------------------------------------------
def test_the_tree_refuses_a_recorded_gradient_and_leaves_every_grad_as_it_was():
    net, cost = _seed_chain()
    cost.backward(create_graph=True)
    w1 = net.layers[0].weights
    before = [p.grad for p in net.parameters()]
    with pytest.raises(ValueError, match=r"draw_dependency_tree: .*create_graph=True.*draw_graph"):
        viz.draw_dependency_tree(w1.grad)
    assert all(p.grad is g for p, g in zip(net.parameters(), before))  # nothing backpropagated
    with pytest.raises(ValueError, match=r"layout='tree'.*create_graph=True"):
        viz.backprop_player(w1.grad, layout="tree")
    assert all(p.grad is g for p, g in zip(net.parameters(), before))


def test_the_tree_of_a_transform_says_it_is_a_derivative_not_a_relabelled_value():
    x = Value(0.5, label="x")
    second = grad(grad(lambda v: v ** 3))(x)
    assert float(second.data) == pytest.approx(6 * 0.5)  # f″ = 6x
    with pytest.raises(ValueError) as caught:
        viz.draw_dependency_tree(second)
    message = str(caught.value)
    assert "label each Value once" not in message and "derivative" in message and "draw_graph" in message


def test_a_drawing_of_a_gradient_says_whose_grads_its_rows_show():
    x = Value(3.0, label="x")
    (x ** 3).backward(create_graph=True)
    source = viz.draw_graph(x.grad).source
    assert "27" in _grad_rows(source)  # x's row: x.grad = 3x² from the cost's pass, not d(3x²)/dx = 18
    assert "another output" in source


# --- guards --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("at", [-1.3, 0.5, 3.0])
def test_the_recorded_graph_of_x_cubed_holds_the_numbers_of_3x_squared(at):
    """x.grad = copy(3 · x²): each box's data is the hand computation, and x's row holds x.grad itself."""
    x = Value(at, label="x")
    (x ** 3).backward(create_graph=True)
    source = viz.draw_graph(x.grad).source
    operations = set(re.findall(r'op\d+ \[label="?([a-z_]+)', source))
    assert operations == {"pow", "mul", "copy"}
    data = re.findall(r"<TD>data ([^<]*)</TD>", source)
    for number in (at, at * at, 3 * at * at):
        assert format_number(number) in data
    assert f"<B>x</B></TD></TR><TR><TD>data {format_number(at)}</TD></TR><TR><TD>grad {format_number(3 * at * at)}" \
        in source


def test_drawing_a_gradient_twice_gives_one_picture_and_changes_no_grad():
    x = Value(0.5, label="x")
    z = x * 2.0
    z.label = "z"
    F.tanh(z).backward(create_graph=True)
    g, zg = x.grad, z.grad
    first, second = viz.draw_graph(g).source, viz.draw_graph(g).source
    assert first == second and x.grad is g and z.grad is zg and g.grad is None


@pytest.mark.parametrize("name, f, second", [
    ("x³", lambda v: v ** 3, lambda x: 6 * x),
    ("tanh", F.tanh, lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2)),
    ("σ(2x + 1)", lambda v: F.sigmoid(v * 2.0 + 1.0),
     lambda x: 4 * _sigmoid(2 * x + 1) * (1 - _sigmoid(2 * x + 1)) * (1 - 2 * _sigmoid(2 * x + 1))),
])
def test_the_player_on_a_recorded_gradient_ends_at_the_second_derivative(name, f, second):
    """backprop_player(x.grad) after zero_grad: its last backward step and its drawing give f″(x), equal to .grad."""
    at = 0.7
    x = Value(at, label="x")
    f(x).backward(create_graph=True)
    slope = x.grad
    slope.label = "s"
    x.zero_grad()
    player = viz.backprop_player(slope)
    expected = format_number(second(at))
    last = [s for s in player.steps if s.phase == "backward"][-1]
    assert last.title.endswith("∂s/∂x") and f"∂s/∂x = {expected}" in _text_of(last.html)
    assert f"{expected} {expected} = .grad" in _text_of(player.steps[-1].html)
    assert float(np.asarray(x.grad)) == pytest.approx(second(at), rel=1e-12)
    assert f"grad {expected}" in html.unescape(player.html())  # the drawing's box of x (SVG writes - as &#45;)


def test_the_players_drawing_shows_its_own_pass_not_the_accumulated_grad():
    """Without zero_grad, x.grad ends as 27 + 18 = 45 (PyTorch's accumulation); the player's boxes show its pass: 18."""
    x = Value(3.0, label="x")
    (x ** 3).backward(create_graph=True)
    player = viz.backprop_player(x.grad)
    assert float(x.grad.data) == pytest.approx(27 + 18)
    page = player.html()
    assert "grad 18" in page and "grad 45" not in page
    assert "≠ .grad" in _text_of(player.steps[-1].html)


def test_the_seed_network_second_derivative_drawn_matches_a_central_difference():
    """grad(grad(C))(W¹) at one sample: the drawn output's data is ∂²C/∂(W¹)², checked by a central difference."""
    net, _ = _seed_chain()
    (w1, b1), (w2, b2) = [(layer.weights, layer.biases) for layer in net.layers]
    x = np.array([[0.5]])

    def cost_of(w):
        return squared_error(F.sigmoid(x @ w + b1) @ w2 + b2, x ** 2)

    drawn = viz.draw_graph(grad(grad(cost_of))(w1)).source
    output = re.search(r'v0 \[label=<.*?<TD>data ([^<]*)</TD>', drawn).group(1)

    def c(w: float) -> float:
        a = _sigmoid(0.5 * w + float(b1.data[0]))
        return (float(w2.data[0, 0]) * a + float(b2.data[0]) - 0.25) ** 2

    w, h = float(w1.data[0, 0]), 1e-4
    assert float(output) == pytest.approx((c(w + h) - 2 * c(w) + c(w - h)) / h ** 2, rel=1e-3)


@given(st.floats(-2.0, 2.0))
def test_the_tanh_slope_box_holds_one_minus_tanh_squared(at):
    """In the recorded graph of tanh's derivative, the tanh_slope result is 1 − tanh²(x) and the output is it."""
    x = Value(at, label="x")
    F.tanh(x).backward(create_graph=True)
    assert float(x.grad.data) == pytest.approx(1 - math.tanh(at) ** 2, rel=1e-12, abs=1e-15)
    source = viz.draw_graph(x.grad, show_grad=False).source
    assert "tanh_slope" in source
    assert f"data {format_number(1 - math.tanh(at) ** 2)}" in source
