"""The package's inline pictures on a dark notebook theme (JupyterLab or VS Code dark, dark slides): outputs with no
background of their own are shown on the theme's dark grey (#1e1e1e) with light text."""

from __future__ import annotations

import io
import re
import shutil

import numpy as np
import pytest

from tinygrad_edu import Value, nn, viz
from tinygrad_edu.losses import squared_error

matplotlib = pytest.importorskip("matplotlib")
from tinygrad_edu import plots  # noqa: E402  (after the skip: the plots need matplotlib)

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
DARK = np.array([0x1E, 0x1E, 0x1E]) / 255


def _on_dark(png: bytes) -> np.ndarray:
    """The PNG as a dark theme shows it: composited over #1e1e1e; the luminance of each pixel (0 black, 1 white)."""
    import matplotlib.image

    rgba = matplotlib.image.imread(io.BytesIO(png), format="png")
    alpha = rgba[..., 3:4] if rgba.shape[2] == 4 else 1.0
    rgb = rgba[..., :3] * alpha + DARK * (1 - alpha)
    return rgb @ np.array([0.2126, 0.7152, 0.0722])


def _title_strip_contrast(figure) -> tuple[float, float]:
    """The lightest and the darkest luminance in the strip holding the title, on the dark theme."""
    shown = _on_dark(figure._repr_png_())
    strip = shown[:25]
    return float(strip.max()), float(strip.min())


def _quadratic(p):
    return (p[0] - 1) ** 2 + 3 * (p[1] + 0.5) ** 2


def test_inline_figures_stay_opaque_when_the_matplotlibrc_saves_transparent():
    with matplotlib.rc_context({"savefig.transparent": True}):  # a common setting for slides
        figure = plots.plot_descent(_quadratic, [2.0, 1.0], title="descent")
        lightest, darkest = _title_strip_contrast(figure)
    assert lightest > 0.9 and darkest < 0.3  # black text on its own white, not black on the theme's dark grey


def test_inline_figures_stay_opaque_when_the_figure_face_is_see_through():
    with matplotlib.rc_context({"figure.facecolor": (1, 1, 1, 0)}):  # matplotlib-inline < 0.1.4 set this
        figure = plots.plot_activations(["relu", "sigmoid"])
        png = figure._repr_png_()
    shown = _on_dark(png)
    assert shown.min() < 0.3 and np.median(shown) > 0.9  # a white picture with dark text and lines on it
    lightest, darkest = _title_strip_contrast(figure)
    assert lightest > 0.9 and darkest < 0.3


# --- guards: what is fine on a dark theme stays so, and the light theme is unchanged -----------------------
def test_inline_figures_look_as_before_on_a_light_theme():
    figure = plots.plot_activations(["tanh"])
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    assert figure._repr_png_() == buffer.getvalue()


def test_a_dark_matplotlib_style_keeps_its_dark_face_inline():
    with matplotlib.rc_context({"figure.facecolor": "black", "text.color": "white"}):
        figure = plots.plot_activations(["relu"])
        shown = _on_dark(figure._repr_png_())
    assert shown[0, 0] < 0.1 and shown[-1, -1] < 0.1  # the figure's face is not painted white under white text


def test_value_tables_take_the_themes_colours():
    w = Value(np.arange(6.0).reshape(2, 3), label="w")
    (w * 2).sum().backward()
    page = w._repr_html_()
    assert not re.search(r"background|color", page)  # no background of its own, so no white text on white


def _chain() -> tuple[nn.MLP, Value]:
    net = nn.MLP([1, 1, 1])
    cost = squared_error(net(Value([[0.5]], requires_grad=False)), [[1.0]])
    cost.backward()
    return net, cost


@needs_dot
@pytest.mark.parametrize("draw", ["graph", "tree", "network"])
def test_drawings_bring_their_own_white_background(draw):
    net, cost = _chain()
    drawing = {"graph": lambda: viz.draw_graph(cost), "tree": lambda: viz.draw_dependency_tree(cost),
               "network": lambda: viz.draw_network(net)}[draw]()
    svg = drawing._repr_mimebundle_()["image/svg+xml"]
    first_shape = re.search(r'<g id="graph0" class="graph"[^>]*>\s*<title>[^<]*</title>\s*<polygon fill="([^"]+)"',
                            svg)
    assert first_shape and first_shape.group(1).lower() in ("white", "#ffffff")  # black text on white, any theme


@pytest.mark.parametrize("how", ["emulated", "forced"])
def test_the_player_page_stays_readable_in_dark_mode(how, tmp_path, new_browser):
    player = viz.backprop_player(_chain()[1])
    url = player.save(tmp_path / "player.html").resolve().as_uri()
    driver = new_browser(*(["--force-dark-mode"] if how == "forced" else []))
    if how == "emulated":
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                               {"features": [{"name": "prefers-color-scheme", "value": "dark"}]})
    driver.get(url)
    assert driver.execute_script("return matchMedia('(prefers-color-scheme: dark)').matches")
    pairs = driver.execute_script("""
        const rgb = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
        const back = e => { for (; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor;
                              if (!c.startsWith('rgba(0, 0, 0, 0')) return rgb(c); } return [255, 255, 255]; };
        return ['h1', 'button', '.counter', '.explanation h2', '.explanation td', '.explanation th']
            .map(s => document.querySelector(s)).filter(e => e)
            .map(e => [rgb(getComputedStyle(e).color), back(e)]);""")

    def luminance(rgb):
        c = np.array(rgb) / 255
        c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return float(c @ [0.2126, 0.7152, 0.0722])

    assert len(pairs) >= 5
    for text, background in pairs:
        light, dark = sorted((luminance(text), luminance(background)), reverse=True)
        assert (light + 0.05) / (dark + 0.05) >= 4.5, (text, background)  # WCAG AA
