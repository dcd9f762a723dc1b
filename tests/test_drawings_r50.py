"""Round 50, drawings and the backprop player, as a student who learns backpropagation by drawing the seed's figures.

- backprop_player walked the whole graph twice before drawing: once for the max_nodes Values nearest the output,
  once more in its tree player to count the labelled Values of them all (one walk gives both).
"""

import shutil

import numpy as np
import pytest

from tinygrad_edu import Value, losses, nn, viz

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


def _chain_cost() -> Value:
    """The seed's section 6.3 network, two sigmoid neurons in a chain, and its squared error at input 0.5, target 1."""
    model = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(2)])
    return losses.squared_error(model(np.array([0.5])), np.array([1.0]))


# --- backprop_player walks the graph once ----------------------------------------------------------------------------
@pytest.mark.parametrize("layout", ["auto", "graph", "tree"])
def test_the_player_walks_the_whole_graph_once(monkeypatch, layout) -> None:
    """viz's walks of the graph from the cost: one, whose first max_nodes Values are the ones drawn."""
    walks: list[object] = []
    walk = viz.nearest_values

    def counted(root, limit=None):
        walks.append(limit)
        return walk(root, limit)

    monkeypatch.setattr(viz, "nearest_values", counted)
    player = viz.backprop_player(_chain_cost(), layout=layout)
    assert len(walks) == 1
    assert len(player.steps) > 3  # (the page was made: its steps)
