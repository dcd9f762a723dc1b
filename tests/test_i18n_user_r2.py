"""A teacher in a non-English classroom: labels in German, Greek, Chinese, Arabic (right to left) and emoji with skin
tones, cut by the drawings' length limits and mixed with numbers on one line of a drawing or of the player."""

from __future__ import annotations

import html
import re
import shutil

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import viz
from tinygrad_edu.engine import Value

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")

LRM = "\u200e"


def _labelled_cost(label: str) -> Value:
    w = Value(np.array(0.5), label=label, requires_grad=True)
    cost = (w * 2.0 - 1.5) ** 2
    cost.label = "C"
    cost.backward()
    return cost


def _arabic_chain() -> Value:
    """The seed's one-neuron chain C = (σ(w·2) − 1)², its weight labelled in Arabic."""
    w = Value(np.array(0.5), label="وزن", requires_grad=True)
    z = w * 2.0
    z.label = "z"
    a = z.sigmoid()
    a.label = "α"
    cost = (a - 1.0) ** 2
    cost.label = "C"
    cost.backward()
    return cost


# --- defects ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cluster", ["👍🏽", "e\u0301", "👨\u200d👩\u200d👧", "🇩🇪"])
def test_a_long_label_is_cut_between_characters_not_inside_one(cluster: str) -> None:
    label = "x" * 58 + cluster + "yyyy"  # the cut (60 characters, the last "…") falls inside the cluster
    source = viz.draw_graph(_labelled_cost(label)).source
    shown = re.search(r"<B>(x{50,}[^<]*)</B>", source).group(1)  # type: ignore[union-attr]
    assert shown.endswith("…") and len(shown) <= 60
    kept = shown.removesuffix("…")
    assert label.startswith(kept) and kept in ("x" * 58, "x" * 58 + cluster)  # all of the cluster or none of it


@needs_dot
def test_a_number_after_an_arabic_name_in_the_tree_stays_after_it() -> None:
    source = viz.draw_dependency_tree(_arabic_chain()).source
    lines = [line for line in re.split(r"<BR/>|[<>]", source) if "∂C/∂" in line and "وزن" in line and "=" in line]
    assert lines
    for line in lines:  # a left-to-right mark ends the name, so "= number" reads after it, left to right
        assert "وزن" + LRM in line and line.startswith(LRM), repr(line)


@needs_dot
def test_a_number_after_an_arabic_name_in_the_player_stays_after_it() -> None:
    w = Value(np.array(0.5), label="وزن", requires_grad=True)
    b = Value(np.array(-0.25), label="انحياز معلمة", requires_grad=True)  # a name of two words
    cost = (w * 2.0 + b) ** 2
    cost.backward()
    steps = viz.backprop_player(cost, layout="graph").steps
    bodies = "".join(step.html for step in steps)
    assert "∂C/∂<bdi>وزن</bdi> = 3" in bodies
    assert "∂C/∂<bdi>انحياز معلمة</bdi> = 1.5" in bodies  # the two words one isolated run, in their order
    assert not re.search("[\u0600-\u06ff][^<]* = ", bodies)  # every Arabic name isolated before its "="


# --- guards ----------------------------------------------------------------------------------------------------------

@given(st.lists(st.sampled_from(["a", "é", "e\u0301", "👍🏽", "🇩🇪", "👨\u200d👩\u200d👧", "权", "و", " "]), min_size=1,
                max_size=40).map("".join))
def test_a_drawn_label_is_its_start_within_sixty_characters(label: str) -> None:
    source = viz.draw_graph(_labelled_cost("~" + label)).source  # ("~": a label of spaces only is a label too)
    shown = html.unescape(re.search("<B>(\u200e?~[^<]*)</B>", source).group(1)).replace(LRM, "")  # type: ignore[union-attr]
    assert len(shown) <= 60
    if len("~" + label) <= 60:
        assert shown == "~" + label
    else:
        assert shown.endswith("…") and ("~" + label).startswith(shown.removesuffix("…"))


@needs_dot
def test_left_to_right_labels_and_a_label_ending_a_line_are_drawn_unchanged(tmp_path) -> None:
    """Marks are added only where text follows a right-to-left run: German, Greek, Chinese and an Arabic label on a
    line of its own reach the SVG as written, saved under a path with spaces, umlauts and CJK."""
    labels = ["Gewicht ä", "βάρος", "权重 👍🏽", "وزن الإدخال"]
    values = [Value(np.array(1.0 + i), label=label, requires_grad=True) for i, label in enumerate(labels)]
    cost = values[0] * values[1] + values[2] * values[3]
    cost.backward()
    path = viz.render(viz.draw_graph(cost), tmp_path / "Grafik ü 图" / "graph 图.svg")
    text = path.read_text(encoding="utf-8")
    assert all(f">{label}<" in text for label in labels) and LRM not in text
