"""The backpropagation player as a blind or low-vision student uses it, in real headless Chromium: what the
accessibility tree (the screen reader's view) holds, what the live region reads out at a step, the WCAG reflow width
(320 px: a 1280 px window at 400 % zoom), text contrast computed from the computed styles, the language and title,
and no animation.  Gradients are checked against closed forms."""

from __future__ import annotations

import math
import re
import shutil

import pytest
from helpers_player import A, W, chain_network_cost, split_cost  # C = (w·a + tanh w)², and a 2-layer chain

from tinygrad_edu import viz


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The saved pages: the chain network as a tree and as a graph, and the split cost: (url, player)."""
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    folder = tmp_path_factory.mktemp("accessibility")
    found = {}
    for name, cost, layout in (("tree", chain_network_cost(), "tree"), ("graph", chain_network_cost(), "graph"),
                               ("split", split_cost(), "graph")):
        player = viz.backprop_player(cost, layout=layout)
        found[name] = (player.save(folder / f"{name}.html").resolve().as_uri(), player)
    return found


def _open(driver, url: str) -> None:
    driver.get("about:blank")
    driver.get(url)


def _narrow(driver, width: int = 320, height: int = 640) -> None:
    """A desktop window 1280 px wide at 400 % zoom: 320 CSS px, with the page's own (classic) scroll bar."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})


# --- defects -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("layout", ["tree", "graph"])
def test_the_drawing_is_one_image_to_a_screen_reader_not_graphvizs_groups(browser, pages, layout):
    url, _ = pages[layout]
    _open(browser, url + "#step=5")
    browser.execute_cdp_cmd("Accessibility.enable", {})
    try:
        nodes = browser.execute_cdp_cmd("Accessibility.getFullAXTree", {})["nodes"]
    finally:
        browser.execute_cdp_cmd("Accessibility.disable", {})
    by_id = {node["nodeId"]: node for node in nodes}
    images = [node for node in nodes if not node.get("ignored") and node.get("role", {}).get("value") == "image"]
    assert len(images) == 1 and images[0]["name"]["value"].startswith("the drawing of the computation")
    exposed, stack = [], list(images[0].get("childIds", []))
    while stack:  # every node under the image that a screen reader would reach
        node = by_id.get(stack.pop())
        if node is None:
            continue
        if not node.get("ignored") and node.get("role", {}).get("value") not in ("InlineTextBox",):
            exposed.append((node.get("role", {}).get("value"), node.get("name", {}).get("value")))
        stack.extend(node.get("childIds", []))
    assert exposed == [], exposed[:8]


_TABLE_FITS = """var panel = document.querySelector('.explanation'), right = panel.getBoundingClientRect().right;
    var cut = Array.from(panel.querySelectorAll('th, td')).filter(function (cell) {
      return cell.getBoundingClientRect().right > right + 0.5; }).map(function (cell) { return cell.textContent; });
    var split = [];  // a number broken over two lines (4.021e-15 as 4.021e- over 15)
    panel.querySelectorAll('td, th').forEach(function (cell) {
      var walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT), node;
      while ((node = walker.nextNode())) {
        var words = /\\S+/g, m;
        while ((m = words.exec(node.data))) {
          if (!/^[(]?-?[\\d.]+(e[-+]\\d+)?[)]?$/.test(m[0])) { continue; }
          var range = document.createRange();
          range.setStart(node, m.index);
          range.setEnd(node, m.index + m[0].length);
          var tops = {};
          Array.from(range.getClientRects()).forEach(function (r) { tops[Math.round(r.top)] = true; });
          if (Object.keys(tops).length > 1) { split.push(m[0]); }
        }
      }
    });
    return [panel.scrollWidth - panel.clientWidth, cut, split, document.documentElement.scrollWidth -
            document.documentElement.clientWidth];"""


def test_at_320_px_every_steps_table_stays_inside_the_panel(browser, pages):
    url, player = pages["graph"]
    found = {}
    _narrow(browser)
    try:
        for k in range(1, len(player) + 1):
            _open(browser, f"{url}#step={k}")
            sideways, cut, split, page = browser.execute_script(_TABLE_FITS)
            if sideways > 0 or cut or split or page > 0:
                found[k] = (sideways, cut, split, page)
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert found == {}, found


# --- guards: right today, to be kept -------------------------------------------------------------------------------
def test_the_live_region_reads_out_the_local_derivatives_and_the_gradient_of_the_step(browser, pages):
    """What a screen reader says at the backward step of w in C = (w·a + tanh w)²: both uses of w, each with its
    local derivative, and ∂C/∂w, the same numbers as the closed form (4 significant digits on the page)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    url, player = pages["split"]
    k = next(k for k, step in enumerate(player.steps, start=1) if step.title.endswith("∂C/∂w"))
    _open(browser, f"{url}#step={k - 1}")
    live = browser.find_elements("css selector", "[aria-live]")
    assert len(live) == 1 and live[0].get_attribute("aria-live") in ("polite", "assertive")
    assert browser.execute_script("return arguments[0].closest('[aria-hidden=true]')", live[0]) is None
    before = live[0].get_attribute("textContent")
    ActionChains(browser).send_keys(Keys.ARROW_RIGHT).perform()
    said = re.sub(r"\s+", " ", live[0].get_attribute("innerText"))  # (cells apart, as read out)
    assert said != before and "Backward" in said and "∂C/∂w" in said
    u = W * A + math.tanh(W)
    expected = {"total": 2 * u * (A + 1 - math.tanh(W) ** 2), "tanh": 1 - math.tanh(W) ** 2, "mul": A}
    total = re.findall(r"∂C/∂w = (-?[\d.]+(?:e[-+]\d+)?)", said)
    tanh = re.search(r"∂tanh₁/∂w = 1 − tanh²\(w\) = (-?[\d.]+)", said)
    mul = re.search(r"∂mul₁/∂w = a = (-?[\d.]+)", said)
    assert total and tanh and mul, said
    assert float(total[-1]) == pytest.approx(expected["total"], rel=1e-3)
    assert float(tanh.group(1)) == pytest.approx(expected["tanh"], rel=1e-3)
    assert float(mul.group(1)) == pytest.approx(expected["mul"], rel=1e-3)


_CONTRAST = """function rgba(text) { return (text.match(/[\\d.]+/g) || []).map(Number); }
    function luminance(c) {
      return [0, 1, 2].map(function (i) { var v = c[i] / 255;
        return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); })
        .reduce(function (sum, v, i) { return sum + [0.2126, 0.7152, 0.0722][i] * v; }, 0);
    }
    function background(e) {  // the first opaque background behind e (white: the canvas)
      for (; e; e = e.parentElement) {
        var c = rgba(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] === 1)) { return c; }
      }
      return [255, 255, 255];
    }
    var low = [];
    document.querySelectorAll('body *').forEach(function (e) {
      if (e.closest('svg, script, style') || !e.getClientRects().length) { return; }
      var text = Array.from(e.childNodes).filter(function (n) { return n.nodeType === 3 && n.data.trim(); });
      if (!text.length) { return; }
      var style = getComputedStyle(e), fg = rgba(style.color), bg = background(e);
      var a = luminance(fg), b = luminance(bg), ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      var size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight, 10) >= 700;
      var needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
      if (ratio < needed || parseFloat(style.opacity) < 1) {
        low.push([e.tagName, e.className, text[0].data.trim().slice(0, 20), ratio.toFixed(2)]);
      }
    });
    return low;"""


@pytest.mark.parametrize("layout", ["tree", "graph"])
def test_every_text_of_the_page_meets_wcag_aa_contrast_as_computed(browser, pages, layout):
    """Each phase's step (the leaves, a forward, a backward and the last step) and the controls, from the browser's
    computed colours: 4.5:1, or 3:1 for large text."""
    url, player = pages[layout]
    firsts = {}
    for k, step in enumerate(player.steps, start=1):
        firsts.setdefault(step.phase, k)
    for k in firsts.values():
        _open(browser, f"{url}#step={k}")
        assert browser.execute_script(_CONTRAST) == [], k


def test_the_page_has_a_language_a_title_and_a_heading_for_each_step(browser, pages):
    url, player = pages["tree"]
    _open(browser, url + "#step=3")
    lang, title, h1, h2 = browser.execute_script(
        "return [document.documentElement.lang, document.title, document.querySelector('h1').textContent, "
        "document.querySelector('.explanation h2').textContent]")
    assert lang == "en" and title == player.title == h1 and title.strip()
    assert h2 == player.steps[2].title


def test_the_slider_says_which_step_of_how_many_and_its_title(browser, pages):
    """A screen reader read the slider as a bare number ("3"): its value text says "step 3 of n: <title>"."""
    url, player = pages["tree"]
    for step in (1, 3, len(player.steps)):
        _open(browser, url + f"#step={step}")
        text = browser.execute_script("return document.querySelector('input[type=range]').getAttribute("
                                      "'aria-valuetext')")
        assert text == f"step {step} of {len(player.steps)}: {player.steps[step - 1].title}"


def test_nothing_moves_by_itself_when_motion_is_reduced(browser, pages):
    """No animation or transition runs while stepping (the drawing jumps to the step's Value, it does not glide),
    whether or not the student asked for reduced motion."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    url, player = pages["graph"]
    cost_step = next(k for k, step in enumerate(player.steps, start=1) if step.phase == "backward")
    for motion in ("reduce", "no-preference"):
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia",
                                {"features": [{"name": "prefers-reduced-motion", "value": motion}]})
        try:
            _narrow(browser, 600, 450)  # the drawing scrolls to follow the steps
            _open(browser, url + "#step=2")
            box = browser.find_element("css selector", ".drawing")
            before = browser.execute_script("return arguments[0].scrollTop", box)
            ActionChains(browser).send_keys(Keys.ARROW_RIGHT * (cost_step - 2)).perform()  # from an input to C
            state = browser.execute_script(
                "return [document.getAnimations().length, getComputedStyle(arguments[0]).scrollBehavior, "
                "arguments[0].scrollTop]", box)
            assert state[0] == 0 and state[1] == "auto" and state[2] != before, (motion, state, before)
        finally:
            browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
            browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
