"""A teacher stepping through the backprop player in headless Chromium after round 36: min, maximum, softmax,
log_softmax, astype, broadcast_to, scatter, an Op of one's own; each forward step's formula says what the drawing's
operation says, and the backward steps' numbers are checked against closed forms and central differences."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from tinygrad_edu import Value, ops, viz
from tinygrad_edu import functional as F
from tinygrad_edu.engine import apply

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


def _text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _forward_text(player, name: str) -> str:
    return _text_of(next(s for s in player.steps if s.phase == "forward" and s.title.endswith(name)).html)


# --- defects -------------------------------------------------------------------------------------------------------
def test_a_forward_step_writes_the_settings_that_change_its_numbers():
    x = Value(np.array([[0.1, 0.5], [-0.3, 0.2]]), label="x")
    soft = F.softmax(x, axis=0)
    soft.label = "s"
    w = Value(np.array([0.5, 1.5]), label="w")
    placed = apply(ops.scatter, w, shape=(4,), key=np.array([0, 2]))
    placed.label = "p"
    cast = w.astype(np.float32)
    cast.label = "c"
    cost = (soft * np.array([[1.0, 0.0], [0.0, 1.0]])).sum() + (placed * np.arange(1.0, 5.0)).sum() + cast.sum()
    player = viz.backprop_player(cost, layout="graph")
    assert _forward_text(player, "s").startswith("s = softmax(x, axis=0) from")
    assert _forward_text(player, "p").startswith("p = scatter(w, shape=(4,), key=[0, 2]) from")
    assert _forward_text(player, "c").startswith("c = astype(w, dtype=float32) from")


# --- guards ----------------------------------------------------------------------------------------------------------
def test_guard_the_softmax_and_min_steps_numbers_are_the_closed_forms():
    """C = s₁ + 3·min(2v), s = softmax(x): the step for x gives ∂C/∂x = s₁(δ₁ⱼ − sⱼ) (min · mean · max), the step for
    v gives 6 at the minimum and 0 elsewhere; both checked against central differences."""
    x_data, v_data = np.array([0.1, 0.5, -0.3]), np.array([0.5, -1.5, 2.0])

    def cost_at(xs: np.ndarray, vs: np.ndarray) -> float:
        s = np.exp(xs) / np.exp(xs).sum()
        return float(s[1] + 3 * (2 * vs).min())

    x, v = Value(x_data.copy(), label="x"), Value(v_data.copy(), label="v")
    cost = (F.softmax(x) * np.array([0.0, 1.0, 0.0])).sum() + (v * 2.0).min() * 3.0
    player = viz.backprop_player(cost, layout="graph")
    s = np.exp(x_data) / np.exp(x_data).sum()
    closed = {"x": s[1] * (np.eye(3)[1] - s), "v": np.array([0.0, 6.0, 0.0])}
    for name, data in (("x", x_data), ("v", v_data)):
        numeric = np.zeros(3)
        for j in range(3):
            step = np.eye(3)[j] * 1e-6
            args = (data + step, v_data) if name == "x" else (x_data, data + step)
            back = (data - step, v_data) if name == "x" else (x_data, data - step)
            numeric[j] = (cost_at(*args) - cost_at(*back)) / 2e-6
        assert numeric == pytest.approx(closed[name], abs=1e-6)
        text = _text_of(next(st for st in player.steps if st.title.endswith(f"∂C/∂{name}")).html)
        shown = re.search(rf"∂C/∂{name} = min (\S+) · mean (\S+) · max (\S+)", text).groups()
        expected = (closed[name].min(), closed[name].mean(), closed[name].max())
        assert [float(n) for n in shown] == pytest.approx(expected, rel=2e-3, abs=1e-12), text


@needs_dot
def test_guard_in_the_browser_each_step_outlines_the_value_it_names_and_the_formula_matches_the_drawing(
        browser, tmp_path):
    """The scatter page, stepped with → and the next button by turns: the outlined box is the one the step's title
    names (none at the start and the result), the operation's oval with it at its forward step."""
    from selenium.webdriver.common.action_chains import ActionChains

    w = Value(np.array([0.5, 1.5]), label="w")
    placed = apply(ops.scatter, w, shape=(4,), key=np.array([0, 2]))
    placed.label = "p"
    cost = (placed * np.arange(1.0, 5.0)).sum()
    player = viz.backprop_player(cost, layout="graph")
    browser.get("about:blank")
    browser.get(player.save(tmp_path / "scatter.html").resolve().as_uri())
    for k, step in enumerate(player.steps):
        outlined = browser.execute_script(
            "return Array.from(document.querySelectorAll('.drawing g.node.current')).map("
            "g => g.querySelector('text').textContent);")
        name = re.split(r": (?:∂C/∂)?", step.title)[-1]
        if step.node < 0:
            assert outlined == [], (k, outlined)
        else:
            assert outlined[0] == name, (k, step.title, outlined)
        if step.phase == "forward" and name == "p":
            assert outlined[1] == "scatter(shape=(4,), key=[0, 2])"  # the operation's oval, outlined with it
        if k % 2:
            browser.find_element("css selector", "[data-go=next]").click()
        else:
            ActionChains(browser).send_keys("\ue014").perform()
    assert browser.find_element("css selector", ".counter").text == f"step {len(player)} / {len(player)}"
    assert [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "ERROR")] == []
