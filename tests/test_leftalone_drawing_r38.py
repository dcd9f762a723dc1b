"""Loose ends of the drawings, the dependency tree, the backpropagation player and the plots, as a teacher presenting
them in class meets them.

Defects (each test failed before its fix):

- the tree wrote ∂z²/∂w = x for a labelled constant x that a weight multiplies under z², and did not draw x;
- a leaky ReLU edge of the tree read LeakyReLU′(z) alone, where the graph player's step gives the slope below 0;
- the player's forward step of a sum, mean, max or min with keepdims=True read as the one without it (Σ(x, axis=0),
  beside a result of shape (1, 2));
- draw_graph's key said a frozen Value was frozen "after this backward pass filled its .grad" where an earlier pass
  gave it the same numbers and it was frozen before this one (a re-run cell);
- the player's advice "zero_grad() first" had nothing to call for Values of one's own (no model);
- plot_history(ylabel="") was titled " per episode"; plot_descent drew all the points of a path given with steps=3;
- the player on the seed's tree wrote w_3 in its steps where its own drawing writes w₃, and tree.path("w₃"), the
  name as drawn, was a KeyError ("W¹" is taken for "W^1").
"""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from tinygrad_edu import Value, nn, plots, viz
from tinygrad_edu import functional as F
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.losses import squared_error
from tinygrad_edu.player import forward_formula, local_formula

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


def _text_of(html: str) -> str:
    """The visible text of a step's HTML, roughly as a browser shows it."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'").strip()


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + np.exp(-z))


# --- (b) a labelled constant that a formula names is drawn ------------------------------------------------------
def _layer_with_labelled_input() -> tuple[Value, Value, Value, Value]:
    """z² = w·x + b, α² = σ(z²), C = (α² − 1)², with x = 2 a labelled constant (requires_grad False)."""
    w, b, x = Value(0.3, label="w"), Value(0.1, label="b"), Value(2.0, requires_grad=False, label="x")
    z = w * x + b
    z.label = "z^2"
    a = z.sigmoid()
    a.label = "α^2"
    return (a - 1.0) ** 2, w, b, x


def test_a_labelled_constant_a_weight_multiplies_under_a_layer_sum_is_drawn_since_the_formula_names_it():
    """∂z²/∂w = x: the tree wrote x, and x was no node of the tree (not drawn, not in tree.nodes)."""
    cost, w, b, x = _layer_with_labelled_input()
    tree = dependency_tree(cost)
    edges = {(edge.parent, edge.child): edge for edge in tree.edges}
    assert edges[("w", "z^2")].formula == "x" and edges[("w", "z^2")].number == 2.0
    assert "x" in tree.nodes and tree.nodes["x"].kind == "input" and tree.nodes["x"].grad is None
    assert edges[("x", "z^2")].number == pytest.approx(0.3) and edges[("x", "z^2")].formula == "w"  # ∂z/∂x = w
    a = _sigmoid(0.3 * 2.0 + 0.1)
    assert tree.chain_rule("w") == pytest.approx(2.0 * a * (1 - a) * 2 * (a - 1.0), rel=1e-12)  # closed form
    assert "<B>x</B>" in viz.draw_dependency_tree(cost).source


def test_a_labelled_constant_factor_of_the_activation_below_is_drawn_too():
    """z² = k·α¹ + b: ∂z²/∂α¹ = k, written and drawn (k = 3 needs no gradient: a dashed edge)."""
    w, b, k = Value(0.5, label="w"), Value(-0.2, label="b"), Value(3.0, requires_grad=False, label="k")
    a1 = (w * 0.7).tanh()
    a1.label = "α^1"
    z = k * a1 + b
    z.label = "z^2"
    tree = dependency_tree(z * 1.0)
    edges = {(edge.parent, edge.child): edge for edge in tree.edges}
    assert edges[("α^1", "z^2")].formula == "k" and edges[("α^1", "z^2")].number == 3.0
    assert "k" in tree.nodes and edges[("k", "z^2")].number == pytest.approx(np.tanh(0.35))


# --- (c) leaky ReLU's slope on the tree's edge -------------------------------------------------------------------
@pytest.mark.parametrize("x", [-1.5, 2.0])
def test_a_leaky_relu_edge_of_the_tree_says_its_slope_below_zero_as_the_player_does(x):
    """LeakyReLU′(z) alone did not say that it is 0.2 below 0: the formula is the player's local formula, and it
    evaluates to the edge's number (0.2 at z < 0, 1 above)."""
    w, b = Value(x, label="w"), Value(0.25, label="b")
    z = w * 1.0 + b
    z.label = "z"
    a = F.leaky_relu(z, 0.2)
    a.label = "α"
    cost = a * 3.0
    tree = dependency_tree(cost)
    edge = next(edge for edge in tree.edges if edge.child == "α")
    assert edge.formula == local_formula(a, 0, ["z"]) == "LeakyReLU′(z): 1 where z > 0, else 0.2"
    assert edge.number == (1.0 if x + 0.25 > 0 else 0.2)
    assert "else 0.2" in viz.draw_dependency_tree(cost).source


# --- (d) keepdims in the player's forward steps -------------------------------------------------------------------
@pytest.mark.parametrize("op, written", [("sum", "Σ"), ("mean", "mean"), ("max", "max"), ("min", "min")])
@pytest.mark.parametrize("axis", [None, 0])
def test_a_reduction_that_keeps_its_dimensions_says_so_in_the_forward_step(op, written, axis):
    x = Value(np.array([[1.0, 2.0], [3.0, 5.0]]), label="x")
    kept = getattr(x, op)(axis=axis, keepdims=True)
    dropped = getattr(x, op)(axis=axis)
    assert kept.ndim == 2 and dropped.ndim < 2
    along = "" if axis is None else f", axis={axis}"
    assert forward_formula(kept, ["x"]) == f"{written}(x{along}, keepdims=True)"
    assert "keepdims" not in forward_formula(dropped, ["x"])


def test_the_players_step_of_a_sum_that_keeps_its_dimensions_says_so():
    x = Value(np.array([[1.0, 2.0], [3.0, 4.0]]), label="x")
    s = x.sum(axis=0, keepdims=True)
    s.label = "s"
    player = viz.backprop_player((s * s).sum(), layout="graph")
    step = next(step for step in player.steps if step.title.endswith(": s"))
    assert "s = Σ(x, axis=0, keepdims=True)" in _text_of(step.html) and "shape (1, 2)" in _text_of(step.html)


# --- (e) the key's line for a frozen Value whose old .grad equals this pass's ----------------------------------
def _key(drawing) -> str:
    found = re.search(r'\blabel="\s*(green[^"]*)"', drawing.source, flags=re.S)
    assert found is not None, drawing.source
    return found.group(1).replace("\n", " ")


def test_a_value_frozen_before_a_pass_that_gave_the_same_numbers_is_not_said_to_be_frozen_after_it():
    """A cell run twice: w frozen between the two passes, its .grad the first pass's, equal to the second's.  The
    key said "set after this backward pass filled its .grad", untrue of this pass; it cannot tell the two apart
    (the numbers are the same), and now says either may be."""
    w, v = Value(0.5, label="w"), Value(2.0, label="v")

    def forward() -> Value:
        return (w * v).tanh()

    forward().backward()
    w.requires_grad = False
    v.zero_grad()
    cost = forward()
    cost.backward()
    assert float(w.grad) == pytest.approx(2.0 * (1 - np.tanh(1.0) ** 2))  # the first pass's, = this pass's
    key = _key(viz.draw_graph(cost))
    assert "w needs no gradient" in key and "or after an earlier pass that gave it the same numbers" in key, key


# --- (f) zero_grad advice that runs as written -------------------------------------------------------------------
def _advice(player) -> str:
    found = re.search(r"<code>(.*?)</code>", player.steps[-1].html)
    assert found is not None, player.steps[-1].html
    return _text_of(found.group(1))


@pytest.mark.parametrize("layout", ["graph", "tree"])
def test_the_players_zero_grad_advice_for_values_of_ones_own_runs_as_written(layout):
    """backward() twice on Values of one's own: "zero_grad() first" named nothing to call (there is no zero_grad()
    but the Values' and the model's methods).  The line the result step gives, run, then backward(), makes every
    row "= .grad", with the closed-form gradients."""
    w, b, x = Value(0.8, label="w"), Value(-0.5, label="b"), Value(2.0, requires_grad=False)
    z = w * x + b
    z.label = "z"
    cost = (z - 1.0) ** 2
    cost.backward()
    cost.backward()
    player = viz.backprop_player(cost, layout=layout)
    assert "other backward passes too" in _text_of(player.steps[-1].html)
    exec(_advice(player), {}, {"w": w, "b": b})  # noqa: S102 (the player's own advice, pasted)
    assert w.grad is None and b.grad is None
    cost.backward()
    rows = re.findall(r"<tr><td>(.*?)</td>(.*?)</tr>", viz.backprop_player(cost, layout=layout).steps[-1].html)
    assert rows and all(_text_of(rest).endswith("= .grad") for _, rest in rows), rows
    assert float(w.grad) == pytest.approx(2 * (0.8 * 2.0 - 0.5 - 1.0) * 2.0)  # 0.4
    assert float(b.grad) == pytest.approx(2 * (0.8 * 2.0 - 0.5 - 1.0))  # 0.2


def test_the_players_zero_grad_advice_for_a_model_names_the_models_method():
    net = nn.Network(nn.Layer(1, 1, "sigmoid", rng=0), nn.Layer(1, 1, "sigmoid", rng=1))
    cost = squared_error(net(np.array([0.5])), np.array([0.25]))
    cost.backward()
    cost.backward()
    text = _text_of(viz.backprop_player(cost).steps[-1].html)
    assert "model.zero_grad()" in text and "p.zero_grad()" in text, text


# --- (g) plots --------------------------------------------------------------------------------------------------
def test_an_empty_ylabel_leaves_the_title_the_cost_per_episode():
    """ylabel="" leaves the axis unlabelled; the title was " per episode"."""
    fig = plots.plot_history([1.0, 0.5, 0.2], ylabel="")
    assert fig.axes[0].get_ylabel() == "" and fig.axes[0].get_title() == "cost per episode"
    assert plots.plot_history([0.5, 0.7], ylabel="accuracy").axes[0].get_title() == "accuracy per episode"


def _bowl(p: Value) -> Value:
    return p[0] ** 2 + 10 * p[1] ** 2


def test_plot_descent_draws_at_most_steps_steps_of_a_path_given_as_points():
    """steps=3 with a path of 9 steps drew all 9 and said "after 9 steps"; a path without steps= is drawn whole."""
    path = plots.descent_path(_bowl, [-1.5, 0.8], 0.05, steps=9)
    assert len(path) == 10
    ax = plots.plot_descent(_bowl, [-1.5, 0.8], path, steps=3, resolution=8, levels=3).axes[0]
    line = ax.get_lines()[0]
    assert np.array_equal(np.column_stack([line.get_xdata(), line.get_ydata()]), path[:4])
    assert ax.get_title().endswith(f"cost {float(_bowl(Value(path[3])).data):.3g} after 3 steps"), ax.get_title()
    whole = plots.plot_descent(_bowl, [-1.5, 0.8], path, resolution=8, levels=3).axes[0]
    assert len(whole.get_lines()[0].get_xdata()) == 10 and whole.get_title().endswith("after 9 steps")
    by_rate = plots.plot_descent(_bowl, [-1.5, 0.8], 0.05, resolution=8, levels=3).axes[0]
    assert by_rate.get_title().endswith("after 25 steps")  # (the default, 25, for a learning rate)


# --- (h) the seed's w_3 in the player's steps, as in its drawing ---------------------------------------------
def _seeds_chain() -> Value:
    """The seed's section 6.3: z^L = w_3·α^(L−1) + b_3, α^L = σ(z^L), C = (α^L − 1)²."""
    previous = Value(0.6, requires_grad=False, label="α^(L-1)")
    w3, b3 = Value(0.4, label="w_3"), Value(0.1, label="b_3")
    z = w3 * previous + b3
    z.label = "z^L"
    a = z.sigmoid()
    a.label = "α^L"
    return (a - 1.0) ** 2


def test_the_player_on_the_tree_writes_the_seeds_index_below_the_line_as_its_drawing_does():
    player = viz.backprop_player(_seeds_chain(), layout="tree")
    assert "w₃" in player.drawing_svg and "w_3" not in player.drawing_svg
    titles = [step.title for step in player.steps]
    assert "Backward 5 of 5: ∂C/∂w₃" in titles, titles
    for step in player.steps:
        assert "w_3" not in step.title and "w_3" not in step.html and "b_3" not in step.html, step.title
    forward = _text_of(next(step for step in player.steps if step.title.endswith("zᴸ")).html)
    assert "zᴸ = w₃ · αᴸ⁻¹ + b₃" in forward, forward


@needs_dot
def test_in_chromium_the_step_of_w3_reads_w3_with_its_index_below(browser, tmp_path):
    url = viz.backprop_player(_seeds_chain(), layout="tree").save(tmp_path / "seed.html").resolve().as_uri()
    browser.get(url + "#step=9")
    counter = browser.find_element("css selector", ".counter").text
    text = browser.find_element("css selector", ".explanation").text
    assert counter.startswith("step 9 / ") and "∂C/∂w₃ = " in text and "w_3" not in text, (counter, text)
    errors = [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
    assert errors == []


def test_a_tree_takes_the_name_of_a_node_as_its_drawing_writes_it():
    """The drawing writes w₃; tree.path("w₃") was a KeyError, where "W¹" (as drawn) is taken for "W^1"."""
    tree = dependency_tree(_seeds_chain())
    assert tree.path("w₃") == tree.path("w_3") and [edge.child for edge in tree.path("w₃")] == ["z^L", "α^L", "C"]
    assert tree.chain_rule("b₃") == tree.chain_rule("b_3") == pytest.approx(float(tree.nodes["b_3"].value.grad))
