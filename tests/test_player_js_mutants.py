"""The backpropagation player's script, in real headless Chromium, against small mutants of it: what the drawing
shows at each step (the faded Values the forward pass has not computed, the one red outline, the purple Values the
backward pass has found, each box's gradient, the lit edges), that a step reached by keys, buttons, the slider or
the address is the same page, and how play runs, pauses and stops.  Gradients are checked against closed forms."""

from __future__ import annotations

import math
import shutil
import time

import numpy as np
import pytest
from helpers_player import A, W, chain_network_cost, split_cost

from tinygrad_edu import Value, nn, viz
from tinygrad_edu.losses import squared_error

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")

def _split_grads() -> dict[str, float]:
    """∂C/∂· of every Value with a backward step, by the chain rule written out in floats."""
    u = W * A + math.tanh(W)
    return {"C": 1.0, "add₁": 2 * u, "mul₁": 2 * u, "tanh₁": 2 * u, "w": 2 * u * (A + 1 - math.tanh(W) ** 2)}


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """url, the steps, and the player of the graph of a Value used twice and of a chain network's tree."""
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    folder = tmp_path_factory.mktemp("js_mutants")
    found = {}
    for layout, cost in (("graph", split_cost()), ("tree", chain_network_cost())):
        player = viz.backprop_player(cost, layout=layout)
        found[layout] = (player.save(folder / f"{layout}.html").resolve().as_uri(), player.steps)
    return found


def _open(driver, url: str) -> None:
    driver.get("about:blank")  # a fresh page: no timer, focus or history left over
    driver.get(url)
    driver.get_log("browser")


def _errors(driver) -> list:
    return [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]


def _step(driver) -> int:
    return int(driver.find_element("css selector", ".counter").text.split()[1])


def _press(driver, key: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(key).perform()


def _play_label(driver) -> str:
    return driver.find_element("css selector", "[data-go=play]").text


# everything a step shows: each shape of the drawing (title, classes, text lines), the counter, the slider, the
# panel, the play button and the address
_STATE = """var shapes = Array.from(document.querySelectorAll('.drawing g.node, .drawing g.edge')).map(function (g) {
    return [g.querySelector('title').textContent, Array.from(g.classList).sort().join(' '),
            Array.from(g.querySelectorAll('text')).map(function (t) { return t.textContent; })]; });
  return {shapes: shapes, counter: document.querySelector('.counter').textContent,
          slider: document.querySelector('input[type=range]').value,
          panel: document.querySelector('.explanation').innerHTML,
          play: document.querySelector('[data-go=play]').textContent, hash: location.hash};"""


def _with_class(driver, cls: str) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('.drawing g.' + arguments[0])).map(function (g) {"
        "  return g.querySelector('title').textContent; });", cls)


def _box_lines(driver) -> dict[str, list[str]]:
    return driver.execute_script(
        "var found = {}; document.querySelectorAll('.drawing g.node').forEach(function (g) {"
        "  found[g.querySelector('title').textContent] = Array.from(g.querySelectorAll('text')).map("
        "    function (t) { return t.textContent; }); }); return found;")


# --- guards: what the drawing shows at each step --------------------------------------------------------------------
@needs_dot
@pytest.mark.parametrize("layout", ["graph", "tree"])
def test_a_step_reached_by_keys_forward_or_back_is_the_step_the_address_opens(browser, pages, layout):
    """Stepping back restores the drawing exactly (no edge left lit, no box left purple or red, no gradient left
    shown), and stepping on gives the page the step's own link opens."""
    from selenium.webdriver.common.keys import Keys

    url, steps = pages[layout]
    fresh = []
    for k in range(1, len(steps) + 1):
        _open(browser, f"{url}#step={k}")
        fresh.append(browser.execute_script(_STATE))
    assert len({str(state["shapes"]) for state in fresh}) == len(steps)  # every step draws something of its own
    _open(browser, f"{url}#step=1")
    for k in range(2, len(steps) + 1):
        _press(browser, Keys.ARROW_RIGHT)
        assert browser.execute_script(_STATE) == fresh[k - 1], ("→ to", k)
    for k in range(len(steps) - 1, 0, -1):
        _press(browser, Keys.ARROW_LEFT)
        assert browser.execute_script(_STATE) == fresh[k - 1], ("← to", k)
    for go, k in (("last", len(steps)), ("first", 1)):
        browser.find_element("css selector", f"[data-go={go}]").click()
        assert browser.execute_script(_STATE) == fresh[k - 1], go
    assert _errors(browser) == []


@needs_dot
@pytest.mark.parametrize("layout", ["graph", "tree"])
def test_the_forward_pass_fades_exactly_the_values_not_computed_yet(browser, pages, layout):
    url, steps = pages[layout]
    forward = [(k, s.node) for k, s in enumerate(steps, start=1) if s.phase == "forward"]
    for k in range(1, len(steps) + 1):
        _open(browser, f"{url}#step={k}")
        pending = set(_with_class(browser, "pending"))
        later = {node for j, node in forward if j > k}  # the step's own Value is computed: drawn in full
        expected = {f"v{node}" for node in later}
        if layout == "graph":
            expected |= {f"op{node}" for node in later}
        assert pending == expected, (k, steps[k - 1].title)
    assert _errors(browser) == []


@needs_dot
@pytest.mark.parametrize("layout", ["graph", "tree"])
def test_one_red_outline_for_the_steps_value_and_purple_for_those_found_before(browser, pages, layout):
    """A forward step outlines its Value and (graph) its operation; a backward step its Value only; the Values of the
    earlier backward steps are purple; the start and the result outline nothing."""
    url, steps = pages[layout]
    for k, step in enumerate(steps, start=1):
        _open(browser, f"{url}#step={k}")
        current = sorted(_with_class(browser, "current"))
        expected = [] if step.node < 0 else [f"v{step.node}"]
        if step.phase == "forward" and layout == "graph":
            expected = sorted(expected + [f"op{step.node}"])
        assert current == expected, (k, step.title)
        done = {f"v{s.node}" for s in steps[:k - 1] if s.phase == "backward"}
        assert set(_with_class(browser, "done")) == done, (k, step.title)
        assert sorted(_with_class(browser, "lit")) == sorted(step.edges), (k, step.title)
    assert _errors(browser) == []


@needs_dot
def test_each_box_shows_its_closed_form_gradient_from_its_own_backward_step_on(browser, pages):
    url, steps = pages["graph"]
    expected = _split_grads()
    reached: set[str] = set()
    for k, step in enumerate(steps, start=1):
        _open(browser, f"{url}#step={k}")
        boxes = {lines[0]: lines for lines in _box_lines(browser).values()}
        if step.phase == "backward":
            reached.add(step.title.rsplit("∂", 1)[1])  # "Backward 5 of 5: ∂C/∂w": w
        if step.phase == "result":
            assert reached == set(expected)
        for name, grad in expected.items():
            line = boxes[name][-1]
            if name in reached:
                assert line.startswith("grad ") and float(line[5:]) == pytest.approx(grad, rel=5e-4), (k, name)
            else:
                assert line == "grad ?", (k, name)
        assert boxes["a"][-1] == "grad –"  # a constant has no gradient to wait for
    assert _errors(browser) == []


@needs_dot
def test_the_trees_box_of_the_steps_value_states_the_steps_result(browser, pages):
    url, steps = pages["tree"]
    for k, step in enumerate(steps, start=1):
        if step.phase != "backward":
            continue
        _open(browser, f"{url}#step={k}")
        panel = browser.find_element("css selector", ".explanation .result").text  # "∂C/∂W¹ = 0.01065"
        lines = _box_lines(browser)
        assert lines[f"v{step.node}"][-1] == panel, (k, lines)
        later = {s.node for s in steps[k:] if s.phase == "backward"}
        for node in later:
            assert lines[f"v{node}"][-1].endswith(" = ?"), (k, node, lines)
    assert _errors(browser) == []


@needs_dot
@pytest.mark.parametrize("layout", ["graph", "tree"])
def test_the_panel_names_the_phase_and_the_steps_own_title(browser, pages, layout):
    url, steps = pages[layout]
    said = {"start": "forward pass", "forward": "forward pass", "backward": "backward pass", "result": "result"}
    for k, step in enumerate(steps, start=1):
        _open(browser, f"{url}#step={k}")
        assert browser.find_element("css selector", ".explanation .phase").get_attribute("textContent") == \
            said[step.phase]
        assert browser.find_element("css selector", ".explanation h2").text == step.title
    assert _errors(browser) == []


@needs_dot
def test_the_current_value_of_a_big_drawing_is_scrolled_into_the_drawings_box(browser, tmp_path):
    rng = np.random.default_rng(0)
    big = squared_error(nn.MLP([4, 16, 16, 3], rng=0)(rng.random((8, 4))), rng.random((8, 3)))
    player = viz.backprop_player(big)
    url = player.save(tmp_path / "big.html").resolve().as_uri()
    inside = """var g = document.querySelector('.drawing g.node.current');
        var at = g.getBoundingClientRect(), box = document.querySelector('.drawing').getBoundingClientRect();
        var x = at.left + at.width / 2, y = at.top + at.height / 2;
        return [box.scrollHeight > box.height || document.querySelector('.drawing').scrollHeight >
                document.querySelector('.drawing').clientHeight,
                x >= box.left && x <= box.right && y >= box.top && y <= box.bottom];"""
    backward = [k for k, s in enumerate(player.steps, start=1) if s.phase == "backward"]
    for k in (backward[0], backward[len(backward) // 2], backward[-1]):
        _open(browser, f"{url}#step={k}")
        scrolls, seen = browser.execute_script(inside)
        assert scrolls and seen, k  # a drawing taller than its box, and the red box in view
    assert _errors(browser) == []


# --- guards: play, pause and the controls --------------------------------------------------------------------------
@needs_dot
@pytest.mark.parametrize("control", ["prev", "next", "first", "last", "key ←", "key →", "key Home", "key End",
                                     "slider"])
def test_any_other_control_pauses_the_play(browser, pages, control):
    from selenium.webdriver.common.keys import Keys

    url, steps = pages["tree"]
    _open(browser, f"{url}#step=4")
    browser.find_element("css selector", "[data-go=play]").click()
    assert _play_label(browser) == "pause"
    expected = {"prev": 3, "next": 5, "first": 1, "last": len(steps), "key ←": 3, "key →": 5, "key Home": 1,
                "key End": len(steps), "slider": 9}[control]
    if control.startswith("key "):
        _press(browser, {"←": Keys.ARROW_LEFT, "→": Keys.ARROW_RIGHT, "Home": Keys.HOME,
                         "End": Keys.END}[control[4:]])
    elif control == "slider":
        browser.execute_script("var s = arguments[0]; s.value = '9'; s.dispatchEvent(new Event('input'));",
                               browser.find_element("css selector", "input[type=range]"))
    else:
        browser.find_element("css selector", f"[data-go={control}]").click()
    assert _step(browser) == expected and _play_label(browser) == "play", control
    time.sleep(1.5)  # longer than one tick of play
    assert _step(browser) == expected and browser.current_url.endswith(f"#step={expected}"), control
    assert _errors(browser) == []


@needs_dot
def test_play_goes_one_step_at_a_time_stops_at_the_last_and_starts_again_from_the_first(browser, pages):
    url, steps = pages["graph"]
    n = len(steps)
    _open(browser, f"{url}#step={n - 2}")
    browser.find_element("css selector", "[data-go=play]").click()
    seen = [_step(browser)]
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and not (seen[-1] == n and _play_label(browser) == "play"):
        time.sleep(0.05)
        if _step(browser) != seen[-1]:
            seen.append(_step(browser))
    assert seen == [n - 2, n - 1, n] and _play_label(browser) == "play", seen  # stopped by itself at the last
    time.sleep(1.5)
    assert _step(browser) == n and _play_label(browser) == "play"
    browser.find_element("css selector", "[data-go=play]").click()  # play at the last: from the first again
    assert _step(browser) == 1 and _play_label(browser) == "pause"
    browser.find_element("css selector", "[data-go=play]").click()
    assert _play_label(browser) == "play" and _step(browser) in (1, 2)
    assert _errors(browser) == []


# --- defects --------------------------------------------------------------------------------------------------------
@needs_dot
def test_a_box_the_backward_pass_reaches_shows_the_steps_gradient_not_an_older_grad(browser, tmp_path):
    w = Value(0.5, label="w")
    (w * 10.0).backward()  # another cost's backward pass first: w.grad = 10
    cost = (w * 3.0 - 1.0) ** 2  # ∂C/∂sub = 2(3w − 1) = 1, ∂C/∂mul = 1, ∂C/∂w = 2(3w − 1)·3 = 3
    cost.label = "C"
    player = viz.backprop_player(cost, layout="graph")  # (it calls cost.backward(): w.grad = 13)
    assert float(w.grad) == pytest.approx(13.0)
    url = player.save(tmp_path / "stale.html").resolve().as_uri()
    k = next(k for k, s in enumerate(player.steps, start=1) if s.title.endswith("∂C/∂w"))
    for step in (k, len(player)):  # w's backward step, and the last step (which lists w.grad = 13 apart)
        _open(browser, f"{url}#step={step}")
        boxes = {lines[0]: lines for lines in _box_lines(browser).values()}
        assert boxes["w"][-1] == "grad 3", (step, boxes)
        assert boxes["sub₁"][-1] == "grad 1" and boxes["mul₁"][-1] == "grad 1", (step, boxes)
        if step == k:
            assert browser.find_element("css selector", ".explanation .result").text == "∂C/∂w = 3"
    assert _errors(browser) == []
