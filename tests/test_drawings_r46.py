"""Round 46, drawings, the backprop player and the gradient checker: the problems last round noticed and left alone.

- a drawing shown in Jupyter ran Graphviz with no time limit: a big graph hung the notebook for tens of seconds;
- the gradient checker's in-place note moved the inputs by 0.75 and −1.5, both multiples of 0.75: a change periodic
  in 0.75 was taken for a shift (x += c) and the note left out;
- the backprop player's page was lang="en" whatever the language of its title and names (a CJK title);
- the dependency tree's edge labels began on their (straight) edges, the first character crossed by the line.
"""

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from helpers_drawings import recurrent_chain

from tinygrad_edu import Op, Value, checks, losses, nn, no_grad, viz
from tinygrad_edu.player import Step
from tinygrad_edu.testing import GradientCheckError, check_gradients

_SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


# --- a drawing shown in Jupyter has a time limit -----------------------------------------------------------------
@needs_dot
def test_a_slow_drawing_in_jupyter_stops_and_says_what_to_do(monkeypatch):
    monkeypatch.setattr(viz, "_LONG_EDGES", 10 ** 12)  # drawn as before round 45: minutes of dot at 150 Values
    monkeypatch.setattr(viz, "INLINE_TIMEOUT", 0.05)  # (the limit small, not the machine's speed, makes it time out)
    bundle = viz.draw_graph(recurrent_chain(200))._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    text = bundle["text/plain"]
    assert "more than 0.05 s" in text and "viz.INLINE_TIMEOUT" in text
    assert "draw_graph(value, max_nodes=50)" in text and 'render(<the drawing>, "graph.svg", timeout=None)' in text
    assert "render(&lt;the drawing&gt;" in bundle["text/html"]


@needs_dot
@pytest.mark.parametrize(("mimetype", "start"), [("image/svg+xml", "<svg"), ("image/png", b"\x89PNG"),
                                                 ("image/jpeg", b"\xff\xd8")])
def test_a_drawing_in_jupyter_runs_dot_with_the_limit(monkeypatch, mimetype, start):
    """dot runs under subprocess.run's timeout, which kills it past the limit (not left running beside the kernel),
    in each format Jupyter may ask for (PNG and JPEG since round 47: they went through graphviz's own pipe)."""
    started = []
    run = subprocess.run

    def recording_run(*args, **kwargs):
        started.append(kwargs.get("timeout"))
        return run(*args, **kwargs)

    monkeypatch.setattr(viz.subprocess, "run", recording_run)
    monkeypatch.setattr(viz, "INLINE_TIMEOUT", 7.5)
    picture = viz.draw_graph(Value(2.0, label="x") * 3.0)._repr_mimebundle_(include=[mimetype])[mimetype]
    assert start in picture[:400] and started == [7.5]


# --- the in-place note's two moves are incommensurate ------------------------------------------------------------
#: 3x with a vjp 10 % too large: a failure that has nothing to do with the inputs' changes.
BAD_TRIPLE = Op("bad_triple", lambda x: 3.0 * x, lambda g, out, x: 3.3 * g)


@pytest.mark.parametrize("period", [0.75, 1.5, 0.25])
def test_an_in_place_change_periodic_in_the_moves_is_still_noted(period):
    """x.data += 0.1·sin(2πx/p): a change that depends on x, so the table says nothing about f's derivative.  Both
    moves were multiples of 0.75 (0.75 and −1.5): at a period of 0.75 (or one dividing it) the change was the same
    at both, taken for a shift (x += c) and the note left out."""
    def f(v: Value) -> Value:
        v.data += 0.1 * np.sin(2 * np.pi * v.data / period)
        return BAD_TRIPLE(v).sum()

    with pytest.raises(GradientCheckError) as caught:
        check_gradients(f, np.array([0.3, -1.2]), eps=1e-6)
    assert "f changes its input(s) 0 in place" in str(caught.value), str(caught.value)


def test_a_shift_is_still_not_noted():
    def f(v: Value) -> Value:
        with no_grad():
            v += 0.5
        return BAD_TRIPLE(v).sum()

    with pytest.raises(GradientCheckError) as caught:
        check_gradients(f, np.array([0.3, -1.2]), eps=1e-6)
    assert "in place" not in str(caught.value) and "bad_triple" in str(caught.value)


# --- the player's page says the language of its title and names ---------------------------------------------------
def _cost() -> Value:
    w = Value(0.5, requires_grad=True, label="重み")
    return ((w * 2.0 - 1.5) ** 2).sum()


@needs_dot
def test_a_player_in_japanese_is_a_japanese_page_in_a_browser(browser, tmp_path):
    """lang="ja": the browser takes the title (and the names in the drawing and the steps) for Japanese, and picks
    its fonts and voices by that; the controls, the library's own English words, stay English."""
    path = viz.backprop_player(_cost(), title="逆伝播の再生", lang="ja").save(tmp_path / "ja.html")
    browser.get(path.as_uri())
    found = browser.execute_script(
        "return [document.documentElement.lang, document.querySelector('h1').matches(':lang(ja)'), "
        "document.querySelector('.controls button').matches(':lang(en)'), "
        "document.querySelector('.counter').matches(':lang(en)'), document.title]")
    assert found == ["ja", True, True, True, "逆伝播の再生"]
    browser.save_screenshot(str(tmp_path / "ja.png"))


def test_the_players_language_is_english_unless_given():
    steps = [Step("forward", 0, "t", "<p>")]
    assert '<html lang="en">' in viz.BackpropPlayer(steps, None).html()
    assert '<html lang="zh-Hans">' in viz.BackpropPlayer(steps, None, lang="zh-Hans").html()


@pytest.mark.parametrize(("lang", "error"), [("", ValueError), ("ja jp", ValueError), ('en"><script>', ValueError),
                                             (None, TypeError), (1, TypeError)])
def test_a_wrong_language_is_refused_naming_the_function(lang, error):
    with pytest.raises(error, match=r"^backprop_player: lang must be a language tag \(BCP 47\)"):
        viz.backprop_player(_cost(), lang=lang)
    with pytest.raises(error, match=r"^f: lang must be"):
        checks.language(lang, "f")


# --- the dependency tree's edge labels stand clear of their edges -------------------------------------------------
@needs_dot
def test_a_tree_edge_label_starts_clear_of_its_straight_edge(tmp_path):
    """Graphviz puts an edge label's left side on a straight edge: the bare text began on the line, ∂C/∂α³'s ∂
    crossed by it (README's tree, the demo's); padded, each line starts at least 3 points to the right of it."""
    model = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(3)])
    cost = losses.squared_error(model(np.array([0.5])), np.array([1.0]))
    svg = ET.parse(viz.render(viz.draw_dependency_tree(cost), tmp_path / "tree.svg")).getroot()
    straight = 0
    for group in svg.iter(f"{_SVG}g"):
        if group.get("class") != "edge":
            continue
        xs = {float(x) for x in re.findall(r"[MC ]([-\d.]+),", group.find(f"{_SVG}path").get("d"))}
        if len(xs) == 1:  # a vertical edge: α³ above z³, z³ above α², ...
            straight += 1
            starts = [float(t.get("x")) for t in group.iter(f"{_SVG}text") if t.get("text-anchor") == "start"]
            assert starts and min(starts) >= xs.pop() + 3, (group.find(f"{_SVG}title").text, starts)
    assert straight >= 5
