"""Round 38's loose ends, tidied.

* ``nn.MLP(sizes, bias=False)`` and ``nn.Network(..., bias=False)`` (Keras's ``use_bias=False`` too) gave Python's bare
  "unexpected keyword argument" where ``nn.Layer(..., bias=False)`` said what to write: the builders say it too, for
  every layer of the network, and the advice is run here;
* the backprop player's zero_grad line for Values of one's own, ``for p in (w, w): p.zero_grad()`` for two parameters
  labelled w, reset one of them twice and left the other's gradient: no line of labels is written where two share one;
* the dependency tree wrote ``∂z²/∂w = x`` for a labelled constant x that feeds two products (w·x + v·x), a name its
  drawing does not show (drawing it makes the tree refuse the graph): the number is written, as for an unlabelled
  constant.
"""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

from tinygrad_edu import Value, nn, optim, viz
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.losses import mean_squared_error


# --- (a) the network builders' bias=False ------------------------------------------------------------------------
@pytest.mark.parametrize("keyword", ["bias", "use_bias"])
@pytest.mark.parametrize("build", [
    lambda **kw: nn.MLP([2, 3, 1], init="xavier", rng=0, **kw),
    lambda **kw: nn.Network(nn.Layer(2, 3, init="xavier", rng=0), nn.Layer(3, 1, init="xavier", rng=1), **kw),
], ids=["MLP", "Network"])
def test_a_network_builder_given_bias_false_says_how_and_the_advice_keeps_every_bias_at_0(build, keyword):
    with pytest.raises(TypeError, match=rf"^(MLP|Network): there is no argument {keyword}=") as caught:
        build(**{keyword: False})
    message = str(caught.value)
    assert "unexpected keyword" not in message
    code = message.split("keeps them there: ", 1)[1]
    net = build()
    exec(code, {}, {"net": net})  # noqa: S102 (the message's own advice, pasted)
    assert all(not layer.biases.requires_grad for layer in net)
    x, y = np.array([[0.5, -1.0], [2.0, 0.3], [-0.7, 1.1]]), np.array([[1.0], [0.0], [0.5]])
    weights = [layer.weights.data.copy() for layer in net]
    opt = optim.SGD(net, learning_rate=0.5)
    for _ in range(3):
        net.zero_grad()
        mean_squared_error(net(x), y).backward()
        opt.step()
    assert all(np.array_equal(layer.biases.data, np.zeros(layer.out_size)) for layer in net)  # held at 0
    assert any(not np.array_equal(layer.weights.data, w) for layer, w in zip(net, weights))  # and it trained


def test_a_layer_keeps_its_own_advice_and_an_unknown_keyword_stays_pythons():
    with pytest.raises(TypeError, match=r"^Layer: there is no argument bias=.*layer\.biases\.requires_grad = False$"):
        nn.Layer(2, 3, bias=False)
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'colour'"):
        nn.MLP([2, 1], colour="red")


# --- (b) the player's zero_grad line where two parameters share a label ------------------------------------------
def _text(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def test_the_players_zero_grad_line_resets_both_parameters_labelled_alike():
    first, second, x = Value(0.8, label="w"), Value(-0.5, label="w"), Value(2.0, requires_grad=False)
    cost = (first * x + second - 1.0) ** 2
    cost.backward()
    cost.backward()
    result = viz.backprop_player(cost).steps[-1].html
    assert "other backward passes too" in _text(result)
    line = _text(re.search(r"<code>(.*?)</code>", result).group(1))
    assert "(w, w)" not in line
    for p in (first, second):  # "for each parameter of your own", each bound to p (the line's only name)
        exec(line, {}, {"p": p})  # noqa: S102 (the player's own advice, pasted)
    assert first.grad is None and second.grad is None
    cost.backward()
    rows = re.findall(r"<tr><td>(.*?)</td>(.*?)</tr>", viz.backprop_player(cost).steps[-1].html)
    assert len(rows) == 2 and all(_text(rest).endswith("= .grad") for _, rest in rows), rows
    assert float(first.grad) == pytest.approx(2 * (0.8 * 2.0 - 0.5 - 1.0) * 2.0)  # 0.4
    assert float(second.grad) == pytest.approx(2 * (0.8 * 2.0 - 0.5 - 1.0))  # 0.2


def test_the_players_zero_grad_line_still_names_parameters_labelled_once():
    w, b, x = Value(0.8, label="w"), Value(-0.5, label="b"), Value(2.0, requires_grad=False)
    cost = (w * x + b - 1.0) ** 2
    cost.backward()
    cost.backward()
    line = _text(re.search(r"<code>(.*?)</code>", viz.backprop_player(cost).steps[-1].html).group(1))
    assert re.fullmatch(r"for p in \((w, b|b, w)\): p\.zero_grad\(\)", line), line


# --- (e) a labelled constant the tree does not draw ---------------------------------------------------------------
@pytest.mark.parametrize("x_number", [3.0, -0.25])
def test_the_tree_writes_the_number_of_a_constant_it_does_not_draw(x_number):
    w, v = Value(0.5, label="w"), Value(-1.5, label="v")
    x = Value(x_number, label="x", requires_grad=False)
    z = w * x + v * x
    z.label = "z^2"
    tree = dependency_tree(z)
    assert "x" not in tree.nodes  # not drawn: its name is nowhere in the drawing
    source = viz.tree_drawing(tree).source
    assert not re.search(r"= x\b", source), source
    for name, parameter in (("w", w), ("v", v)):
        edge = next(e for e in tree.edges if e.parent == name)
        assert float(edge.formula.replace("−", "-")) == x_number == edge.number  # ∂z/∂w = x, the closed form
        assert float(parameter.grad) == x_number
        assert f"∂z²/∂{name} = {edge.formula}<BR/>" in source


def test_a_constant_drawn_under_one_product_keeps_its_name():
    w, b = Value(0.5, label="w"), Value(0.1, label="b")
    x = Value(3.0, label="x", requires_grad=False)
    z = w * x + b
    z.label = "z^2"
    tree = dependency_tree(z)
    assert "x" in tree.nodes and next(e for e in tree.edges if e.parent == "w").formula == "x"
