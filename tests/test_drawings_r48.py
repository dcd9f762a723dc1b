"""Round 48, drawings and the backprop player: the problems last round noticed and left alone.

- draw_graph's key had no-break spaces around its lines (room for a viewer's wider font), which a reader copied with
  its text, and which widened the drawing also where this machine's Graphviz already measures the wide font.
"""

import re
import shutil
import subprocess

import pytest

from tinygrad_edu import Value, viz

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


def _width(graph) -> float:
    """The width in points of ``graph`` as Graphviz lays it out here (its SVG's)."""
    svg = subprocess.run(["dot", "-Tsvg"], input=graph.source.encode(), capture_output=True, check=True).stdout
    return float(re.search(rb'<svg width="([\d.]+)pt"', svg).group(1))


# --- the key's room for a wider font: no characters, and none where Graphviz measures that font ------------------
def test_the_keys_text_is_the_key_with_no_added_characters() -> None:
    drawing = viz.draw_graph(Value(2.0, label="x") * 3.0)
    assert drawing.graph_attr["label"].startswith("green: parameter (thick frame)")
    assert "\u00a0" not in drawing.source


@needs_dot
def test_where_graphviz_measures_the_wide_font_the_key_gets_no_room(monkeypatch) -> None:
    """The drawing is as wide as with Graphviz's default pad of 4 points (no room kept for a wider font)."""
    monkeypatch.setattr(viz, "_wider_viewer", lambda: 0.0)
    drawing = viz.draw_graph(Value(2.0, label="x") * 3.0)
    bare = drawing.copy()
    bare.graph_attr.pop("pad", None)
    assert _width(drawing) == pytest.approx(_width(bare), abs=1.0)


@needs_dot
def test_where_graphviz_measures_a_narrow_font_the_drawing_widens_by_the_keys_overflow(monkeypatch) -> None:
    """14 % of the key's longest line (about 98 letters of 4.9 points), half on each side."""
    monkeypatch.setattr(viz, "_wider_viewer", lambda: 0.14)
    drawing = viz.draw_graph(Value(2.0, label="x") * 3.0)
    bare = drawing.copy()
    bare.graph_attr.pop("pad", None)
    longest = max(map(len, drawing.graph_attr["label"].split("\n")))
    assert _width(drawing) - _width(bare) == pytest.approx(0.14 * 4.9 * longest, abs=2.0)


@needs_dot
@pytest.mark.skipif(shutil.which("fc-match") is None or "DejaVu Sans" not in subprocess.run(
    ["fc-match", "DejaVu Sans"], capture_output=True, text=True).stdout, reason="needs the font DejaVu Sans")
def test_the_wider_font_is_measured_as_graphviz_measures_it() -> None:
    assert viz._wider_viewer("DejaVu Sans") == 0.0
    assert 0.1 <= viz._wider_viewer("Liberation Sans") <= 0.15 or "Liberation" not in subprocess.run(
        ["fc-match", "Liberation Sans"], capture_output=True, text=True).stdout


# --- a drawing too large for a quick layout says so before the wait ------------------------------------------------
def _long_sum(n: int) -> Value:
    total = Value(0.0)
    for i in range(n):
        total = total + Value(float(i), requires_grad=True)
    return total


def test_drawing_over_a_thousand_values_warns_of_the_slow_layout_naming_the_count_and_the_faster_ways() -> None:
    """A scalar network's 2,000 Values kept dot busy 32-45 s with no word: the warning comes when the drawing is made
    (the layout runs when it is shown), from the caller's line."""
    with pytest.warns(UserWarning, match=r"draw_graph: 1,201 Values to draw, more than 1,000") as caught:
        viz.draw_graph(_long_sum(600), max_nodes=2000)  # 600 parameters, 600 sums, the start
    message = str(caught[0].message)
    assert "max_nodes=" in message and "draw_network(model)" in message
    assert caught[0].filename == __file__


def test_the_default_drawing_and_a_thousand_values_draw_without_a_warning() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        viz.draw_graph(_long_sum(600))
        viz.draw_graph(_long_sum(600), max_nodes=1000)


# --- player: the names the user gave are in the page's language, also in Latin letters -----------------------------
def _german_cost() -> Value:
    gewicht = Value(0.5, requires_grad=True, label="Gewicht")
    a = Value(2.0, label="a")
    kosten = ((gewicht * a - 1.5) ** 2).sum()
    kosten.label = "Kosten"
    return kosten


def test_on_a_german_page_the_users_latin_names_are_marked_german_and_the_prose_stays_english() -> None:
    """Gewicht was read in an English voice with the prose around it; a single letter (a: also the article) and the
    player's own words (from, product) stay English."""
    page = viz.backprop_player(_german_cost(), lang="de").html().replace("<\\/", "</")  # (the steps' JSON)
    assert '<span lang=\\"de\\">Gewicht</span>' in page and '<span lang=\\"de\\">Kosten</span>' in page
    assert not re.search(r'<span lang=\\"de\\">(a|from|product|pow₁)</span>', page)


def test_a_japanese_page_marks_latin_and_japanese_names_alike_and_an_english_page_marks_none() -> None:
    w = Value(0.5, requires_grad=True, label="重み")
    cost = ((w * Value(2.0, label="Eingabe")) ** 2).sum()
    page = viz.backprop_player(cost, lang="ja").html().replace("<\\/", "</")
    assert '<span lang=\\"ja\\">重み</span>' in page and '<span lang=\\"ja\\">Eingabe</span>' in page
    assert "<span lang=" not in viz.backprop_player(cost, lang="en").html()


def test_a_layers_notation_is_not_a_name_the_user_gave() -> None:
    from tinygrad_edu.player import _in_page_language

    assert viz._user_names(["W^1", "α^2", "x", "Gewicht", None]) == ("Gewicht",)
    assert _in_page_language("<p>∂C/∂Gewicht, Gewichte = 2</p>", "de", ("Gewicht",)) == (
        '<p>∂C/∂<span lang="de">Gewicht</span>, Gewichte = 2</p>')
