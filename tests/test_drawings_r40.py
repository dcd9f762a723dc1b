"""Round 40, a teacher drawing the dependency tree of a deep chain network for a lecture."""

import numpy as np

from tinygrad_edu import nn, viz
from tinygrad_edu.dependency_tree import DependencyTree, dependency_tree
from tinygrad_edu.losses import squared_error


def _chain_tree(layers: int) -> DependencyTree:
    net = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(layers)])
    return dependency_tree(squared_error(net(np.array([0.5])), np.array([0.25])))


def test_tree_drawing_walks_the_tree_once_not_once_per_parameter(monkeypatch):
    """tree_drawing asked chain_lines of every node, and each walked the whole tree again for ∂C/∂(every node) and
    built every node's edges up again: time n² for a deep chain (400 layers: 3 s of CPU, a third of it the walks)."""
    tree = _chain_tree(30)
    walks = []
    original = DependencyTree._chain_totals

    def counted(self, magnitudes=False):
        walks.append(magnitudes)
        return original(self, magnitudes)

    monkeypatch.setattr(DependencyTree, "_chain_totals", counted)
    drawing = viz.tree_drawing(tree)
    assert len(walks) <= 1, f"{len(walks)} walks of the tree for one drawing of 30 layers"
    # the chains drawn still multiply out to the gradients (float64 chain rule against .grad)
    net_w1 = tree.nodes["W^1"]
    assert np.isclose(tree.chain_rule("W^1"), net_w1.grad, rtol=1e-12)
    assert "chain:" in drawing.source


def test_chain_lines_follow_an_edge_changed_by_hand():
    """The walk kept between calls is taken again when an edge's number, or the edges, change."""
    tree = _chain_tree(2)
    before = tree.chain_rule("W^1")
    edge = next(e for e in tree.edges if e.parent == "W^1")
    edge.number *= 2.0
    assert np.isclose(tree.chain_rule("W^1"), 2.0 * before, rtol=1e-12)
    line = tree.chain_lines("W^1", precision=6, width=200)[0]
    assert line.split(" ")[1] == f"{edge.number:.6g}", line
    tree.edges.remove(edge)
    assert tree.chain_rule("W^1") == 0.0


def test_tree_player_says_why_a_float32_gradient_is_not_the_product_it_shows():
    """A float32 chain of 60 sigmoid layers: its gradients fall below float32's smallest normal number on the way down.
    The tree player's row multiplied in float64 (2.803e-44 × 0.2233 = 6.259e-45) and then said ∂C/∂z²¹ = 5.605e-45,
    the engine's float32 number, without a word; the tree drawing says "float32 underflow" there.  (Round 42: the row
    now shows the 5.605e-45 it passes down after ≈, as the graph's rows do, and the note says why.)"""
    import html
    import re

    net = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(60)]).float()
    cost = squared_error(net(np.array([0.5], np.float32)), np.array([0.25], np.float32))
    player = viz.backprop_player(cost, max_nodes=1000)
    tiny = float(np.finfo(np.float32).smallest_normal)
    differing = 0
    for step in player.steps:
        if step.phase != "backward":
            continue
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", step.html)).split())
        products = re.findall(r"× \S+ [=≈] (\S+)", text)
        result = re.search(r"∂C/∂\S+ = (\S+)( A parameter.*)?$", text)
        assert result is not None, text
        factors = re.findall(r"(\S+) × \(?(\S+?)\)? [=≈] \S+", text)
        if len(products) == 1:  # (one use: the row shows the gradient it passes down, as the graph's rows do)
            assert float(products[0]) == float(result.group(1)), text
        if len(factors) == 1 and not np.isclose(float(factors[0][0]) * float(factors[0][1]), float(result.group(1)),
                                                rtol=0.01, atol=0):
            differing += 1
            assert abs(float(result.group(1))) < tiny, text  # (only underflow makes them differ)
            assert "underflow" in text and "float32" in text, text
    assert differing > 0  # the network does underflow: the test looks at such steps
    # in float64 nothing underflows and no step has the note
    net64 = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(60)])
    cost64 = squared_error(net64(np.array([0.5])), np.array([0.25]))
    assert "underflow" not in viz.backprop_player(cost64, max_nodes=1000).html()


def test_graph_player_says_why_its_float32_product_is_not_what_the_numbers_multiply_to():
    """The graph player showed the engine's float32 product of an underflowing gradient after ≈ (1.401e-45 × 0.1748 ≈
    0), which its key reserves for the rounding of the printed digits; the step now says the float32 pass lost them."""
    import html
    import re

    net = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(60)]).float()
    cost = squared_error(net(np.array([0.5], np.float32)), np.array([0.25], np.float32))
    player = viz.backprop_player(cost, layout="graph", max_nodes=1000)
    far = 0
    for step in player.steps:
        text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", step.html)).split())
        for arriving, local, product in re.findall(r"(\S+) × \(?(\S+?)\)? ≈ (\S+)", text):
            worked_out = float(arriving) * float(local)
            if not np.isclose(worked_out, float(product), rtol=0.01, atol=0):
                far += 1
                assert "underflow" in text and "float32" in text, text
    assert far > 0
