"""The backpropagation player used by keyboard alone, with a screen reader and on a phone, in real headless Chromium:
accessible names, keys (and the browser's own shortcuts left alone), the address, the first and last step, narrow
and zoomed windows, and pages that cannot work refused in Python instead of failing in the browser."""

from __future__ import annotations

import shutil
import time

import pytest
from helpers_player import chain_network_cost

from tinygrad_edu import viz
from tinygrad_edu.player import BackpropPlayer, Step

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The pages of one chain network, tree and graph layout: (url, number of steps, the steps' titles)."""
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    folder = tmp_path_factory.mktemp("keyboard")
    cost = chain_network_cost()
    cost.backward()
    found = {}
    for layout in ("tree", "graph"):
        player = viz.backprop_player(cost, layout=layout)
        found[layout] = (player.save(folder / f"{layout}.html").resolve().as_uri(), len(player),
                         [s.title for s in player.steps])
    return found


def _open(driver, url: str) -> None:
    driver.get("about:blank")  # a fresh page: no focus or history entry left over from the last test
    driver.get(url)
    driver.get_log("browser")  # (drop what about:blank logged)


def _step(driver) -> int:
    counter = driver.find_element("css selector", ".counter").text.split()
    return int(counter[1])


def _wait_for_step(driver, expected: int) -> int:
    """The step shown once the page has followed a change of address (an event, handled a moment later), waiting up
    to 10 s for ``expected``: a fixed sleep failed on a busy machine."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.wait import WebDriverWait

    try:
        WebDriverWait(driver, 10, poll_frequency=0.05).until(lambda d: _step(d) == expected)
    except TimeoutException:
        pass
    return _step(driver)


def _errors(driver) -> list:
    return [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]


def _press(driver, *keys: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    chain = ActionChains(driver)
    for key in keys[:-1]:
        chain.key_down(key)
    chain.send_keys(keys[-1])
    for key in reversed(keys[:-1]):
        chain.key_up(key)
    chain.perform()


# --- defects -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("layout", ["tree", "graph"])
def test_every_control_has_a_name_that_says_what_it_does(browser, pages, layout):
    url, n, _ = pages[layout]
    _open(browser, url)
    names = {b.get_attribute("data-go"): b.accessible_name for b in browser.find_elements("css selector", "button")}
    assert set(names) == {"first", "prev", "play", "next", "last"}
    for go, word in (("first", "first"), ("prev", "previous"), ("play", "play"), ("next", "next"), ("last", "last")):
        assert word in names[go].lower(), names  # a word a screen reader can say, not a triangle
    slider = browser.find_element("css selector", "input[type=range]")
    assert slider.accessible_name == "step" and _errors(browser) == []


@pytest.mark.parametrize("layout", ["tree", "graph"])
def test_the_drawing_has_an_accessible_name(browser, pages, layout):
    url, _, _ = pages[layout]
    _open(browser, url)
    svg = browser.find_element("css selector", ".drawing svg")
    assert svg.accessible_name.strip(), svg.get_attribute("outerHTML")[:200]
    assert svg.aria_role == "image"  # one picture (the panel reads out each step), not Graphviz's shapes and titles
    assert _errors(browser) == []


def test_keys_held_with_alt_ctrl_or_meta_stay_the_browsers(browser, pages):
    from selenium.webdriver.common.keys import Keys

    url, n, _ = pages["tree"]
    _open(browser, url + "#step=5")
    # (headless Chromium has no Back key of its own: whether the page cancelled the key is what decides it)
    browser.execute_script("window.cancelled = []; window.addEventListener('keydown', function (event) {"
                           "  window.cancelled.push(event.defaultPrevented); });")
    for modifier, key in ((Keys.ALT, Keys.ARROW_LEFT), (Keys.ALT, Keys.ARROW_RIGHT), (Keys.CONTROL, Keys.HOME),
                          (Keys.CONTROL, Keys.END), (Keys.META, Keys.ARROW_LEFT)):
        _press(browser, modifier, key)
        assert _step(browser) == 5 and browser.current_url.endswith("#step=5"), (modifier, key)
    assert browser.execute_script("return window.cancelled") == [False] * 10  # (the modifier's own keydown too)
    _press(browser, Keys.ARROW_LEFT)  # without a modifier the key is still the player's
    assert _step(browser) == 4 and browser.execute_script("return window.cancelled.slice(-1)") == [True]


def test_a_player_of_no_steps_is_refused_clearly():
    with pytest.raises(ValueError, match=r"BackpropPlayer: steps .*at least one"):
        BackpropPlayer([], None)


def test_a_step_of_an_unknown_phase_is_refused_by_name(browser, tmp_path):
    steps = [Step("intro", -1, "The leaves", "<p>x</p>"), Step("result", -1, "Every gradient", "<p>y</p>")]
    try:
        player = BackpropPlayer(steps, None)
    except ValueError as error:
        assert "steps[0].phase" in str(error) and "'intro'" in str(error)
        return
    _open(browser, player.save(tmp_path / "odd.html").resolve().as_uri())
    phase = browser.find_element("css selector", ".explanation .phase").text
    assert "undefined" not in phase.lower(), phase


# --- guards: right today, to be kept -------------------------------------------------------------------------------
def test_the_player_still_checks_the_title_before_the_number_of_steps():
    with pytest.raises(TypeError, match="title must be a str"):
        BackpropPlayer([], None, title=3)


def test_one_step_of_each_phase_is_a_player():
    steps = [Step(phase, -1, phase, "<p>") for phase in ("start", "forward", "backward", "result")]
    assert len(BackpropPlayer(steps, None)) == 4


@needs_dot
def test_tab_reaches_every_control_in_order_with_a_visible_focus_and_enter_presses_it(browser, pages):
    from selenium.webdriver.common.keys import Keys

    url, n, _ = pages["tree"]
    _open(browser, url + "#step=3")
    order = []
    for _ in range(6):
        _press(browser, Keys.TAB)
        active = browser.switch_to.active_element
        order.append(active.get_attribute("data-go") or active.get_attribute("type"))
        outline = browser.execute_script("var s = getComputedStyle(arguments[0]); return [s.outlineStyle, "
                                         "parseFloat(s.outlineWidth)]", active)
        assert outline[0] != "none" and outline[1] > 0, (order[-1], outline)  # the browser's focus ring is kept
    assert order == ["first", "prev", "play", "next", "last", "range"]
    for go, expected in (("next", 4), ("prev", 3), ("last", n), ("first", 1)):
        browser.execute_script("arguments[0].focus()", browser.find_element("css selector", f"[data-go={go}]"))
        _press(browser, Keys.ENTER)
        assert _step(browser) == expected and browser.current_url.endswith(f"#step={expected}"), go
    slider = browser.find_element("css selector", "input[type=range]")
    browser.execute_script("arguments[0].focus()", slider)
    _press(browser, Keys.ARROW_UP)  # ↑ stays the slider's own: one step on
    assert _step(browser) == 2 and slider.get_attribute("value") == "2"
    assert _errors(browser) == []


@needs_dot
def test_the_steps_stop_at_the_first_and_the_last_whatever_the_address_or_keys_say(browser, pages):
    from selenium.webdriver.common.keys import Keys

    url, n, titles = pages["graph"]
    for fragment, expected in (("#step=0", 1), ("#step=-1", 1), (f"#step={n + 1}", n), ("#step=99999999999", n),
                               ("#step=abc", 1), ("", 1)):
        _open(browser, url + fragment)
        assert _step(browser) == expected, fragment
        assert browser.current_url.endswith(f"#step={expected}"), fragment
        assert titles[expected - 1] in browser.find_element("css selector", ".explanation").text
    _press(browser, Keys.ARROW_LEFT)
    assert _step(browser) == 1
    _press(browser, Keys.END)
    _press(browser, Keys.ARROW_RIGHT)
    assert _step(browser) == n and browser.find_element("css selector", "input[type=range]").get_attribute("value") \
        == str(n)
    assert _errors(browser) == []


@needs_dot
def test_back_and_forward_between_linked_steps_show_the_step_in_the_address(browser, pages):
    url, n, titles = pages["tree"]
    _open(browser, url + "#step=3")
    browser.execute_script("location.hash = '#step=7'")  # a link to a step within the page
    assert _wait_for_step(browser, 7) == 7
    for go, expected in ((browser.back, 3), (browser.forward, 7)):
        go()
        assert _wait_for_step(browser, expected) == expected and browser.current_url.endswith(f"#step={expected}")
        assert titles[expected - 1] in browser.find_element("css selector", ".explanation").text
    assert _errors(browser) == []


@needs_dot
def test_the_step_text_is_in_a_live_region_and_changes_with_the_step(browser, pages):
    from selenium.webdriver.common.keys import Keys

    url, _, titles = pages["tree"]
    _open(browser, url + "#step=2")
    panel = browser.find_element("css selector", ".explanation")
    assert panel.get_attribute("aria-live") == "polite"
    _press(browser, Keys.ARROW_RIGHT)
    assert panel.find_element("css selector", "h2").text == titles[2]


@needs_dot
@pytest.mark.parametrize("layout", ["tree", "graph"])
@pytest.mark.parametrize("width, height, scale", [(375, 667, 2), (600, 450, 2)])  # a phone; 1200×900 zoomed to 200 %
def test_a_phone_and_a_200_percent_zoom_cut_off_nothing(browser, pages, tmp_path, layout, width, height, scale):
    url, n, _ = pages[layout]
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": width < 400})
    try:
        _open(browser, url + f"#step={n // 2}")
        time.sleep(0.2)
        browser.save_screenshot(str(tmp_path / f"{layout}_{width}.png"))
        outside, overlapping = browser.execute_script("""
            var out = [], overlap = [], w = document.documentElement.clientWidth;
            var parts = Array.prototype.slice.call(document.querySelectorAll(
              'header h1, .controls button, .controls input, .counter, .drawing, .explanation'));
            parts.forEach(function (e) {
              var r = e.getBoundingClientRect();
              if (r.left < -0.5 || r.right > w + 0.5 || r.width === 0) { out.push(e.className || e.tagName); }
            });
            parts.forEach(function (a, i) { parts.slice(i + 1).forEach(function (b) {
              var p = a.getBoundingClientRect(), q = b.getBoundingClientRect();
              if (p.left < q.right - 1 && q.left < p.right - 1 && p.top < q.bottom - 1 && q.top < p.bottom - 1) {
                overlap.push((a.className || a.tagName) + ' / ' + (b.className || b.tagName));
              }
            }); });
            return [out, overlap];""")
        assert outside == [] and overlapping == []
        assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert _errors(browser) == []


@needs_dot
def test_the_page_needs_no_network_and_does_not_animate(pages):
    for layout in ("tree", "graph"):
        page = open(pages[layout][0][len("file://"):], encoding="utf-8").read()
        assert "http://" not in page.replace("http://www.w3.org/", "") and "https://" not in page
        assert "transition" not in page and "@keyframes" not in page and "smooth" not in page
