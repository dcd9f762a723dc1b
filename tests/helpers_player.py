"""The costs the drawing and player tests draw, and the player's steps and their text as the tests read them.  A
helper module, not a test module: no test module imports another.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from tinygrad_edu import Value, nn
from tinygrad_edu.graph import nearest_values
from tinygrad_edu.losses import squared_error
from tinygrad_edu.player import backprop_steps, display_names

# --- costs to draw --------------------------------------------------------------------------------------------------
W, A = 0.7, 2.0  # C = (w·a + tanh w)², w used twice


def split_cost() -> Value:
    """C = (w·a + tanh w)² at w = W, a = A (a constant): w's path splits in two."""
    w = Value(W, label="w")
    a = Value(A, requires_grad=False, label="a")
    cost = (w * a + w.tanh()) ** 2
    cost.label = "C"
    return cost


def two_uses() -> Value:
    """C = (w·a + tanh w)², w's two uses labelled m and t."""
    w, a = Value(0.7, label="w"), Value(2.0, requires_grad=False, label="a")
    m, t = w * a, w.tanh()
    m.label, t.label = "m", "t"
    cost = (m + t) ** 2
    cost.label = "C"
    return cost


def chain_network_cost() -> Value:
    """The squared error of a chain network of two sigmoid neurons (rng 0 and 1) at input 0.5, target 0.25."""
    net = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(2)])
    cost = squared_error(net(np.array([0.5])), np.array([0.25]))
    cost.label = "C"
    return cost


# --- the player's steps ---------------------------------------------------------------------------------------------
def player_steps(cost: Value) -> tuple[list[Value], Any]:
    """(the Values kept by nearest_values, the player's backprop steps of ``cost``)."""
    kept, total = nearest_values(cost)
    return kept, backprop_steps(cost, kept, total, display_names(kept))


def text_of(html: str) -> str:
    """The visible text of a step's HTML, roughly as a browser shows it."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'").strip()
