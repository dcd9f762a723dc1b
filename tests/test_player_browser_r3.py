"""A student stepping through backprop players in real headless Chromium, from file:// with no network: a tiny
expression, a node shared by several operations, a graph of arrays, a graph with a part computed under no_grad; steps
read against closed forms and finite differences, forward and back with the keys, then a reload."""

from __future__ import annotations

import math
import re
import shutil

import numpy as np
import pytest

from tinygrad_edu import Value, no_grad, viz
from tinygrad_edu.notation import format_number

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


def _text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _open(driver, url: str) -> None:
    driver.get("about:blank")
    driver.get(url)


def _counter(driver) -> int:
    return int(driver.find_element("css selector", ".counter").text.split()[1])


def _press(driver, key: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(key).perform()


def _errors(driver) -> list:
    return [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]


def _box_of(driver, name: str) -> list[str]:
    """The text lines of the drawn box whose first line is ``name``."""
    return driver.execute_script("""
        var found = null;
        document.querySelectorAll('.drawing g.node').forEach(function (g) {
          var lines = Array.prototype.map.call(g.querySelectorAll('text'), function (t) { return t.textContent; });
          if (lines[0] === arguments[0]) { found = lines; }
        }.bind(null));
        return found;""".replace("arguments[0]", repr(name)))


def _three_thirds():
    """w used by three operations, each through k = 1/3: ∂C/∂w = 3 · 1/3 = 1, each contribution 0.3333 printed."""
    w = Value(0.5, label="w")
    k = Value(1 / 3, requires_grad=False, label="k")
    cost = w * k + w * k + w * k
    cost.label = "C"
    return w, cost


# --- defects -------------------------------------------------------------------------------------------------------
def test_a_sum_whose_printed_terms_do_not_add_up_to_the_printed_total_says_approximately():
    w, cost = _three_thirds()
    player = viz.backprop_player(cost, layout="graph")
    text = _text_of(player.steps[-2].html)
    third = format_number(1 / 3)
    assert float(third) * 3 != float(format_number(1.0))  # the rounding shows in the printed sum
    assert f"they add up: {third} + {third} + {third} ≈ 1" in text


@needs_dot
def test_the_page_in_the_browser_shows_approximately_for_a_rounded_sum(browser, tmp_path):
    _, cost = _three_thirds()
    player = viz.backprop_player(cost, layout="graph")
    _open(browser, player.save(tmp_path / "thirds.html").resolve().as_uri())
    _press(browser, "\ue010")  # End: the result
    _press(browser, "\ue012")  # ←: the last backward step, ∂C/∂w
    line = browser.find_element("css selector", ".explanation .sum").text
    assert line.endswith("0.3333 + 0.3333 + 0.3333 ≈ 1"), line
    assert _errors(browser) == []


def test_the_tree_steps_sum_line_says_equals_only_where_the_printed_terms_add_up():
    """A chain network with an L2 term on W¹: W¹ feeds two nodes of the tree (z¹ and C); whether the sum line says
    = or ≈ follows from the numbers it prints, added up and printed the same way."""
    from tinygrad_edu import nn
    from tinygrad_edu.losses import squared_error

    net = nn.Network(nn.Layer(1, 1, "sigmoid", rng=0), nn.Layer(1, 1, "sigmoid", rng=1))
    first = net.parameters()[0]
    cost = squared_error(net(np.array([0.5])), np.array([0.25])) + 0.1 * (first ** 2).sum()
    cost.label = "C"
    player = viz.backprop_player(cost, layout="tree")
    text = _text_of(next(s for s in player.steps if s.title.endswith("∂C/∂W¹")).html)
    first_term, second_term, sign, total = re.search(
        r"they add up: (-?[\d.]+) \+ (-?[\d.]+) ([=≈]) (-?[\d.]+)", text).groups()
    assert float(total) == pytest.approx(float(first.grad.reshape(())), rel=1e-3)
    adds_up = format_number(float(first_term) + float(second_term)) == total
    assert sign == ("=" if adds_up else "≈"), text


# --- guards ----------------------------------------------------------------------------------------------------------
def test_guard_a_sum_that_adds_up_as_printed_still_says_equals():
    """a·b + a at a = 2, b = −3: ∂C/∂a = 1 + b = −2, exactly as printed."""
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    cost = a * b + a
    player = viz.backprop_player(cost, layout="graph")
    step = next(s for s in player.steps if s.title.endswith("∂C/∂a"))  # (a before b: mul's inputs first to last)
    assert "they add up: 1 + (-3) = -2" in _text_of(step.html)


def test_guard_the_shared_nodes_step_adds_up_to_the_finite_difference_derivative():
    """C = tanh(w·w) + 3w: w is used three times by two operations; ∂C/∂w = 2w(1 − tanh²(w²)) + 3 (closed form),
    checked against central differences too, and every contribution row's product against its own factors."""
    def cost_at(value: float) -> float:
        return math.tanh(value * value) + 3 * value

    w = Value(0.7, label="w")
    cost = (w * w).tanh() + w * 3.0
    player = viz.backprop_player(cost, layout="graph")
    step = next(s for s in player.steps if s.title.endswith("∂C/∂w"))
    text = _text_of(step.html)
    closed = 2 * 0.7 * (1 - math.tanh(0.49) ** 2) + 3
    h = 1e-6
    assert (cost_at(0.7 + h) - cost_at(0.7 - h)) / (2 * h) == pytest.approx(closed, rel=1e-8)
    assert "used 3 times, by 2 operations" in text
    assert text.endswith(f"∂C/∂w = {format_number(closed)} A parameter: its gradient is final (backward() stores it "
                         "in its .grad).")
    products = re.findall(r"(-?[\d.]+) × \(?(-?[\d.]+)\)? [=≈] (-?[\d.]+)", text)
    assert len(products) == 3
    for arriving, factor, product in products:
        assert float(product) == pytest.approx(float(arriving) * float(factor), rel=2e-3)
    assert sum(float(p) for _, _, p in products) == pytest.approx(closed, rel=2e-3)


@needs_dot
def test_guard_stepping_back_by_keys_hides_the_gradients_again_and_a_reload_keeps_the_step_not_the_playing(
        browser, tmp_path):
    """The shared-node page: End, then ← back to the start; w's box says grad ? before its backward step and its
    number from there on, whatever way the student came; a reload while playing shows the address's step, paused."""
    w = Value(0.7, label="w")
    cost = (w * w).tanh() + w * 3.0
    player = viz.backprop_player(cost, layout="graph")
    closed = 2 * 0.7 * (1 - math.tanh(0.49) ** 2) + 3
    found_at = next(k for k, s in enumerate(player.steps, start=1) if s.title.endswith("∂C/∂w"))
    _open(browser, player.save(tmp_path / "shared.html").resolve().as_uri())
    driver = browser
    _press(driver, "\ue010")  # End
    assert _counter(driver) == len(player)
    for k in range(len(player), 0, -1):
        assert _counter(driver) == k
        line = _box_of(driver, "w")[-1]
        if k >= found_at:
            assert line.startswith("grad ") and float(line[5:]) == pytest.approx(closed, rel=1e-3), (k, line)
        else:
            assert line == "grad ?", (k, line)
        _press(driver, "\ue012")  # ←
    assert _counter(driver) == 1
    for _ in range(3):
        _press(driver, "\ue014")  # → three times: step 4
    driver.find_element("css selector", "[data-go=play]").click()
    assert driver.find_element("css selector", "[data-go=play]").text == "pause"
    driver.refresh()
    step = _counter(driver)
    assert step >= 4 and driver.current_url.endswith(f"#step={step}")
    assert driver.find_element("css selector", "[data-go=play]").text == "play"
    assert _errors(driver) == []


@needs_dot
def test_guard_the_arrays_page_result_matches_finite_differences_and_the_page_stands_alone(browser, tmp_path):
    """C = Σ tanh(x @ W)², x a constant: the result step's summary of ∂C/∂W (min · mean · max) against central
    differences of C in each element of W; the saved page loads nothing from outside itself."""
    x_data = np.array([1.0, 2.0])
    w_data = np.array([[0.1, -0.2], [0.3, 0.4]])

    def cost_at(weights: np.ndarray) -> float:
        return float(np.sum(np.tanh(x_data @ weights) ** 2))

    numeric = np.zeros_like(w_data)
    for index in np.ndindex(w_data.shape):
        step = np.zeros_like(w_data)
        step[index] = 1e-6
        numeric[index] = (cost_at(w_data + step) - cost_at(w_data - step)) / 2e-6
    W = Value(w_data.copy(), label="W")
    x = Value(x_data, requires_grad=False, label="x")
    with no_grad():
        shift = x * 0.0  # a part computed under no_grad: a constant in the graph, no step of its own
    cost = (((x + shift) @ W).tanh() ** 2).sum()
    path = viz.backprop_player(cost, layout="graph").save(tmp_path / "arrays.html")
    page = path.read_text(encoding="utf-8")
    assert re.findall(r"(?:src|href)=\"([^\"]*)\"", page) == ["data:,"]
    assert "https://" not in page and "http://" not in page.replace("http://www.w3.org/", "")
    _open(browser, path.resolve().as_uri())
    _press(browser, "\ue010")  # End
    rows = browser.find_elements("css selector", ".explanation table tr")
    cells = [cell.text for cell in rows[1].find_elements("css selector", "td")]
    assert cells[0] == "W" and cells[3] == "= .grad"
    numbers = [float(n) for n in re.findall(r"-?[\d.]+(?:e-?\d+)?", cells[1])]
    assert numbers == [float(f"{v:.3g}") for v in (numeric.min(), numeric.mean(), numeric.max())]  # 3 digits
    assert _errors(browser) == []
