"""Round 47's mutation pass: each test kills hand mutants of the round's diff that the round's own tests let live (the
mutant's id in the docstring: the round's report lists them).  Messages by the words that matter; markup by the
spans a screen reader and the fonts follow."""

from __future__ import annotations

import json
import operator
import re
import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import strategies as st

from tinygrad_edu import Op, Value, viz
from tinygrad_edu.engine import backward_order
from tinygrad_edu.player import _in_page_language
from tinygrad_edu.testing import check_gradients
from tinygrad_edu.testing.strategies import OpSpec, expressions


# --- ops: a callable object's vjp is read from its signature --------------------------------------------------------
class _GAndOut:
    """A vjp as a callable object that forgot the input: ``__call__(self, g, out)``, one argument short."""

    def __call__(self, g: object, out: object) -> object:
        return g


def test_a_callable_vjp_one_argument_short_is_refused() -> None:
    """O2 (bound with count + 1 arguments): (g, out) for a one-input op lacks the input itself."""
    with pytest.raises(TypeError, match=r"Op 'twice': a vjp is called as vjp\(g, out, \*inputs, \*\*params\), "
                                        r"3 arguments for this op's 1 input\(s\); _GAndOut takes fewer"):
        Op("twice", lambda x: 2 * x, _GAndOut())


# --- engine: of several frozen computed inputs, the one backward meets first ------------------------------------------
def test_of_two_frozen_computed_inputs_the_walk_setup_names_the_one_backward_names() -> None:
    """E15 (the frozen edges' choice flipped to the other end): a, older and near the output, and d, newer and
    further from it; backward meets d first, and backward_order must name d too."""
    u, w = Value(1.0, label="u"), Value(2.0, label="w")
    a, d = u * 2.0, w * 3.0
    a.label, d.label = "a", "d"
    a.requires_grad = d.requires_grad = False
    out = a * Value(1.0) + d * Value(1.0) * 1.0
    with pytest.raises(ValueError, match=r"^backward: 'd' was computed by mul, but its requires_grad was set to False"):
        out.backward()
    with pytest.raises(ValueError, match=r"^backward_order: 'd' was computed by mul, but its requires_grad was set"):
        backward_order(out)


# --- check_gradients: the saved= note ---------------------------------------------------------------------------------
def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


#: saves σ, where σ(1 − σ) was meant
_WRONGLY_SAVING = Op("my_sigmoid", _sigmoid,
                     lambda g, out, z, saved=None: g * (out * (1 - out) if saved is None else saved),
                     saving=lambda z: (_sigmoid(z), _sigmoid(z)))


def test_the_saved_note_says_what_is_wrong_with_saved() -> None:
    """T8 (the note's last sentence changed): it must say the saved thing is not what the vjp needs."""
    with pytest.raises(AssertionError) as caught:
        check_gradients(lambda z: _WRONGLY_SAVING(z), np.array([0.5, -1.0, 2.0]))
    flat = " ".join(str(caught.value).split())
    assert ("in f's Op with saving= ('my_sigmoid'), what the saving forward returns as saved (out, saved) is not "
            "what its vjp needs, or the vjp reads it wrongly.") in flat


def test_no_saved_note_where_no_op_saves() -> None:
    """T2 (every Op named, not only those with saving=), T6 (the recorded pass compared with no Op saving): a vjp
    whose array path alone is wrong (3x² on Values, 2x² on arrays) fails, and saved= has nothing to do with it."""
    cube = Op("cube", lambda x: x ** 3,
              lambda g, out, x: g * 3 * x * x if isinstance(x, Value) else g * 2 * x * x)
    with pytest.raises(AssertionError, match="disagree with finite differences") as caught:
        check_gradients(lambda z: cube(z), np.array([0.5, -1.0, 2.0]))
    assert "saved=" not in str(caught.value) and "saving=" not in str(caught.value)


# --- expressions: an extra op is refused only where every shape tried fails -----------------------------------------
def _domain_checked_log(x: np.ndarray) -> np.ndarray:
    if np.any(x <= 0):
        raise ValueError("log of a number <= 0")
    return np.log(x)


@pytest.mark.parametrize(("forward", "vjp"), [
    (lambda x: np.asarray(float(x) ** 2), lambda g, out, x: g * 2 * x),  # X6: 0-d only (float() of an array raises)
    (lambda x: np.asarray(np.linalg.det(x)), lambda g, out, x: g * out * np.linalg.inv(x).T),  # X7: (3, 3) only
    (_domain_checked_log, lambda g, out, x: g / x),  # X9: positive numbers only
], ids=["scalar_only", "square_only", "positive_only"])
def test_an_op_that_takes_one_of_the_tried_shapes_is_accepted(forward, vjp) -> None:
    """X6 (() no longer tried), X7 ((2, 3) and (3, 3) no longer tried), X9 (numbers from -0.5, outside a log's
    domain): the op works on one shape or domain the docstring promises, and expressions() must not refuse it."""
    expressions(extra_ops=[Op("picky", forward, vjp)], only_extra=True).validate()


@pytest.mark.parametrize(("forward", "error"), [(lambda x: x[5], "IndexError"),
                                                (lambda x: x * (1 // int(0 * x.size)), "ZeroDivisionError")])
def test_an_op_whose_forward_always_raises_index_or_zero_division_is_refused(forward, error: str) -> None:
    """X8 (only ValueError and TypeError caught): Graph.add leaves these out too, so the op must be refused, not
    let numpy's or Python's bare error out of expressions()."""
    with pytest.raises(ValueError, match=rf"forward of your Op 'broken' raised {error} .* on inputs of every shape"):
        expressions(extra_ops=[Op("broken", forward, lambda g, out, x: g)]).validate()


def test_an_op_with_params_is_not_tried_without_them() -> None:
    """X2 (an OpSpec with params tried as well, without its params): shift's forward needs by=, which its default
    None cannot stand in for, and the params given supply it."""
    shift = Op("shift", lambda x, by=None: x + by, lambda g, out, x, by=None: g)
    expressions(extra_ops=[OpSpec(shift, params=st.just({"by": 1.0}))], only_extra=True).validate()


def test_a_forward_without_a_signature_is_tried_too() -> None:
    """X10 (a forward inspect cannot read, such as operator.itemgetter, taken as one needing keywords and not tried):
    itemgetter(5) raises IndexError on every shape tried, and must be refused as a function would be."""
    with pytest.raises(ValueError, match=r"forward of your Op 'pick' raised IndexError \(index 5 is out of bounds"):
        expressions(extra_ops=[Op("pick", operator.itemgetter(5), lambda g, out, x: g)]).validate()


# --- viz: a PNG whose dot failed says so ---------------------------------------------------------------------------
def test_a_png_whose_dot_failed_is_the_failure_not_an_empty_picture(monkeypatch: pytest.MonkeyPatch) -> None:
    """V2 (the return code no longer checked): dot's error would be shown as an empty PNG."""
    def failing(source: str, engine: str, fmt: str, timeout: float | None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.CompletedProcess(["dot"], 1, b"", b"Error: syntax error in line 3")

    monkeypatch.setattr(viz, "_dot", failing)
    drawing = viz.draw_graph(Value(2.0, label="x") * 3.0)
    with pytest.raises(subprocess.CalledProcessError):
        drawing._repr_image_png()
    bundle = drawing._repr_mimebundle_(include=["image/png"])
    assert "image/png" not in bundle
    assert "failed to draw this graph (exit status 1): Error: syntax error in line 3" in bundle["text/plain"]


def test_the_inline_svg_fits_its_drawing_into_its_view_box() -> None:
    """V6 (the SVG Jupyter shows without _exact_scale): Graphviz's two-decimal scale, 0.01 for 0.0099, drew a long
    chain 0.6 units past the bottom of its viewBox, cutting the output off."""
    y = Value(0.5, label="x")
    for _ in range(30):
        y = (y * 1.01).tanh()
    svg = viz.draw_graph(y, size="1.3,1.3")._repr_image_svg_xml()
    view = [float(v) for v in re.search(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"', svg).groups()]
    scale = re.search(r'transform="scale\(([\d.]+) [\d.]+\)[^"]*">\s*<title>[^<]*</title>\s*<polygon [^>]*'
                      r'points="([^"]+)"', svg)
    corners = np.array([[float(c) for c in point.split(",")] for point in scale.group(2).split()])
    extent = float(scale.group(1)) * np.ptp(corners, axis=0)
    assert np.all(extent <= np.array(view) + 1e-3), (extent, view)


def _key_lines(source: str) -> list[str]:
    """The lines of the last graph-level label of a drawing's DOT source (``graph [... label=...]`` or, set later,
    ``label=...``: the key Graphviz draws)."""
    labels = re.findall(r'^\t(?:graph \[[^\]]*?)?label="((?:[^"\\]|\\.)*)"', source, re.M)
    return labels[-1].replace("\\n", "\n").split("\n")


def test_each_line_of_the_key_has_room_on_both_sides_also_with_the_repeated_boxes_note(monkeypatch) -> None:
    """V9, V11 (the key of a drawing with boxes drawn again left without room).  Round 48: the room is the
    drawing's pad, for the key's longest line, no longer no-break spaces in the key's text."""
    monkeypatch.setattr(viz, "_wider_viewer", lambda: 0.15)
    rng = np.random.default_rng(0)
    ps = [Value(float(v), requires_grad=True) for v in rng.normal(size=20)]
    out = Value(0.0)
    for t in range(120):  # 20 parameters, each used 12 times along a long chain of adds: boxes drawn again
        out = out + ps[t % 20] * ps[(t * 7 + 3) % 20]
    for drawing in (viz.draw_graph(Value(2.0, label="x") * 3.0), viz.draw_graph(out, max_nodes=1000)):
        lines = _key_lines(drawing.source)
        assert "\u00a0" not in drawing.source
        pads = re.findall(r'pad="([\d.]+),', drawing.source)
        assert float(pads[-1]) == pytest.approx((4 + 0.15 * 2.45 * max(map(len, lines))) / 72, abs=1e-3), pads
    assert "drawn more than once" in " ".join(lines)


# --- player: what is marked as the page's language ----------------------------------------------------------------
def test_a_devanagari_name_with_its_vowel_signs_is_one_span() -> None:
    """P7 (combining marks judged as letters of their own): the vowel sign ा is not a letter, and the name was cut
    into two spans with the sign between them, read in an English voice."""
    assert _in_page_language("<p>∂C/∂नाम = 2</p>", "hi") == '<p>∂C/∂<span lang="hi">नाम</span> = 2</p>'


@pytest.mark.parametrize("notation", ["α", "Wᵀ", "ℓ", "x", "é"])
def test_the_notations_latin_greek_modifier_and_script_letters_stay_english(notation: str) -> None:
    """P8 (GREEK), P9 (MODIFIER), P10 (SCRIPT) dropped from the kept scripts: α^0, Wᵀ and ℓ are the notation, read
    with the English prose, not names in Japanese."""
    assert _in_page_language(f"<p>∂C/∂{notation} = 2, 重み</p>", "ja") == (
        f'<p>∂C/∂{notation} = 2, <span lang="ja">重み</span></p>')


def test_a_name_at_the_end_of_the_text_is_closed() -> None:
    """P12 (no closing tag when the text ends inside a name): the span ran on into the next element."""
    assert _in_page_language("weight 重み", "ja") == 'weight <span lang="ja">重み</span>'


def test_the_heading_is_escaped_before_its_names_are_marked() -> None:
    """P14 (the title not escaped): a label with < made the heading's markup."""
    w = Value(0.5, label="重<み>")
    steps = viz.backprop_player((w * 2.0) ** 2, lang="ja").steps
    page = viz.BackpropPlayer(steps, None, lang="ja").html()
    shown = json.loads(re.search(r'<script type="application/json" id="steps">(.*?)</script>', page, re.S).group(1))
    assert shown[-2]["title"] == "Backward 3 of 3: ∂C/∂重<み>"  # (the text the slider reads out)
    assert shown[-2]["heading"] == 'Backward 3 of 3: ∂C/∂<span lang="ja">重</span>&lt;<span lang="ja">み</span>&gt;'


def test_tags_are_left_as_they_are_and_an_english_page_in_capitals_too() -> None:
    """P6 (the tags' text marked as well: a span inside an attribute's value), P5 (lang "EN-US" not lowercased: an
    English page's names marked)."""
    assert _in_page_language('<b title="重み">x</b> 重み', "ja") == '<b title="重み">x</b> <span lang="ja">重み</span>'
    assert _in_page_language("<p>weight 重み</p>", "EN-US") == "<p>weight 重み</p>"


def test_the_graph_layouts_header_keeps_its_slash_with_the_dot() -> None:
    """P1 (the graph layout's table header without the unbroken span): "arriving ∂C/" over "∂·" there."""
    w = Value(0.5, label="w")
    steps = viz.backprop_player(w * w * 2.0, layout="graph").steps
    headers = [s.html for s in steps if "arriving" in s.html]
    assert headers and all("<th>arriving ∂C<span class='unbroken'>/∂·</span></th>" in h for h in headers)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_the_heading_a_browser_shows_is_the_escaped_title_its_name_marked(browser, tmp_path) -> None:
    """H3 (the page's script building the heading from the title): 重<み> was parsed as a tag, the name unmarked."""
    w = Value(0.5, label="重<み>")
    player = viz.backprop_player((w * 2.0) ** 2, lang="ja")
    step = next(k for k, s in enumerate(player.steps, start=1) if s.title.endswith("重<み>"))
    browser.get(player.save(tmp_path / "ja.html").as_uri() + f"#step={step}")
    browser.refresh()
    shown = browser.execute_script("""
        var h2 = document.querySelector('.explanation h2');
        return [h2.textContent, Array.from(h2.querySelectorAll('span')).map(function (s) {
            return s.textContent + ':' + s.matches(':lang(ja)'); }), h2.matches(':lang(en)')];""")
    # (round 48: the name the user gave is one span, its < and > in it, where the letters were two)
    assert shown == ["Backward 3 of 3: ∂C/∂重<み>", ["重<み>:true"], True]
