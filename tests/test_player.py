"""The backpropagation player: its steps against closed forms and the engine, and its page in a real browser."""

from __future__ import annotations

import html
import io
import math
import re
import shutil
import time

import numpy as np
import pytest
from helpers_player import text_of

from tinygrad_edu import Value, nn, ops, viz
from tinygrad_edu import functional as F
from tinygrad_edu.dependency_tree import has_layers
from tinygrad_edu.engine import apply, local_gradients
from tinygrad_edu.graph import nearest_values
from tinygrad_edu.losses import squared_error
from tinygrad_edu.notation import format_number, left_out_note, pretty, summary
from tinygrad_edu.player import BackpropPlayer, forward_formula, local_formula

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _chain(x: float = 0.5, target: float = 0.25, layers: int = 2):
    net = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(layers)])
    cost = squared_error(net(np.array([x])), np.array([target]))
    cost.label = "C"
    return net, cost


def _closed_form_grads(net, x: float, target: float) -> dict[str, float]:
    """∂C/∂W^i and ∂C/∂b^i by the chain rule written out in floats (independent of the engine)."""
    alphas, weights = [x], []
    for layer in net.layers:
        weights.append(float(layer.weights.data[0, 0]))
        alphas.append(_sigmoid(weights[-1] * alphas[-1] + float(layer.biases.data[0])))
    grads, upstream = {}, 2 * (alphas[-1] - target)  # ∂C/∂α^L = 2(α^L − y)
    for i in range(len(weights), 0, -1):
        delta = upstream * alphas[i] * (1 - alphas[i])  # ∂C/∂z^i = ∂C/∂α^i · σ′(z^i)
        grads[f"W^{i}"], grads[f"b^{i}"] = delta * alphas[i - 1], delta
        upstream = delta * weights[i - 1]  # ∂C/∂α^(i−1) = ∂C/∂z^i · w^i
    return grads


def _step_titled(player: BackpropPlayer | list, title_end: str):
    steps = player if isinstance(player, list) else player.steps
    matches = [s for s in steps if s.phase == "backward" and s.title.endswith(title_end)]
    assert len(matches) == 1, [s.title for s in steps]
    return matches[0]


# --- the steps ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("layout", ["graph", "tree"])
def test_backward_steps_give_the_closed_form_gradients_and_the_engines(layout):
    net, cost = _chain()
    cost.backward()
    player = viz.backprop_player(cost, layout=layout)
    expected = _closed_form_grads(net, 0.5, 0.25)
    for name, grad in expected.items():
        pretty = name.replace("^1", "¹").replace("^2", "²")
        text = text_of(_step_titled(player, f"∂C/∂{pretty}").html)
        shown = float(re.search(rf"∂C/∂{pretty} = (\S+)", text).group(1))
        assert shown == pytest.approx(grad, rel=5e-4)  # four significant digits
        parameter = next(p for p in net.parameters() if p.label == name)
        assert f"∂C/∂{pretty} = {format_number(float(parameter.grad.item()))}" in text
    # ∂C/∂W² = arriving · local: the row of the step shows α¹ as the local derivative of the matmul
    row = text_of(_step_titled(player, "∂C/∂W²").html)
    alpha1 = _sigmoid(float(net.layers[0].weights.data[0, 0]) * 0.5 + float(net.layers[0].biases.data[0]))
    assert f"/∂W² = α¹ = {format_number(alpha1)}" in row  # ∂z²/∂W² in the tree, ∂matmul₂/∂W² in the graph
    result = text_of(player.steps[-1].html)
    for p in net.parameters():
        assert f"{format_number(float(p.grad.item()))} = .grad" in result


def test_forward_then_backward_in_the_engines_order():
    _, cost = _chain(layers=3)
    player = viz.backprop_player(cost, layout="graph")
    phases = [s.phase for s in player.steps]
    assert phases[0] == "start" and phases[-1] == "result"
    forward = [s for s in player.steps if s.phase == "forward"]
    backward = [s for s in player.steps if s.phase == "backward"]
    assert phases == ["start"] + ["forward"] * len(forward) + ["backward"] * len(backward) + ["result"]
    assert backward[0].title.endswith("∂C/∂C") and "starts at the cost" in backward[0].html
    # every Value's backward step comes after the steps of all Values that use it (a reverse topological order),
    # and the forward steps are the operations in the opposite order
    kept, _ = nearest_values(cost)
    position = {s.node: k for k, s in enumerate(backward)}
    for i, node in enumerate(kept):
        for parent in node.parents:
            if parent.requires_grad:
                assert position[kept.index(parent)] > position[i]
    assert [s.node for s in forward] == [s.node for s in reversed(backward) if kept[s.node].op is not None]
    assert len(backward) == sum(n.requires_grad for n in kept) == 16  # C, and W, b, W·α, z, α of each layer


def test_the_tree_layout_steps_through_the_seeds_tree_in_the_engines_order():
    net, cost = _chain(layers=3)
    player = viz.backprop_player(cost)  # a chain network: the dependency tree by default
    tree = viz.dependency_tree(cost)
    backward = [s for s in player.steps if s.phase == "backward"]
    names = list(tree.nodes)
    shown = [names[s.node] for s in backward]
    assert shown[0] == "C" and len(shown) == 13  # C, and z, α, W, b of each layer (y and α⁰ are constants)
    for edge in tree.edges:  # every Value comes after the Values it feeds
        if edge.parent in shown:
            assert shown.index(edge.parent) > shown.index(edge.child)
    step = _step_titled(player, "∂C/∂z²")
    assert step.edges == [f"v{names.index('α^2')}->v{names.index('z^2')}"]
    assert "∂α²/∂z² = σ′(z²)" in text_of(step.html)
    forward = [names[s.node] for s in player.steps if s.phase == "forward"]
    assert forward == ["z^1", "α^1", "z^2", "α^2", "z^3", "α^3", "C"]
    assert "z³ = W³ · α² + b³" in text_of(player.steps[5].html)
    wide = nn.MLP([1, 3, 1], rng=0)  # not a chain: the graph layout
    cost = squared_error(wide(np.array([0.5])), np.array([0.2]))
    assert any("matmul" in s.title for s in viz.backprop_player(cost).steps)
    with pytest.raises(ValueError, match="one neuron per layer"):
        viz.backprop_player(cost, layout="tree")
    with pytest.raises(ValueError, match="layout must be"):
        viz.backprop_player(cost, layout="circle")


@pytest.mark.parametrize("layout", ["graph", "auto"])
def test_a_cost_computed_before_a_step_is_refused_as_stale_not_played(layout):
    from tinygrad_edu import no_grad

    w, x = Value([0.5, -1.0], label="w"), Value([2.0, 3.0], requires_grad=False)
    cost = ((w * x).sum() - 1.0) ** 2
    cost.backward()
    with no_grad():
        w -= 0.1 * w.grad  # the player would step through old activations with the new w
    with pytest.raises(ValueError, match=r"the graph is stale: 'w' was changed in place .* after mul used it"):
        viz.backprop_player(cost, layout=layout)


def test_contributions_add_up_where_a_value_is_used_twice():
    w = Value(0.7, label="w")
    a = Value(2.0, requires_grad=False, label="a")
    cost = (w * a + w.tanh()) ** 2  # w splits: ∂C/∂w = 2u·(a + 1 − tanh²w), u = wa + tanh w
    cost.label = "C"
    player = viz.backprop_player(cost)
    text = text_of(_step_titled(player, "∂C/∂w").html)
    u = 0.7 * 2.0 + math.tanh(0.7)
    through_mul, through_tanh = 2 * u * 2.0, 2 * u * (1 - math.tanh(0.7) ** 2)
    assert "used by 2 operations" in text
    assert f"they add up: {format_number(through_tanh)} + {format_number(through_mul)} = " \
           f"{format_number(through_mul + through_tanh)}" in text
    assert "1 − tanh²(w)" in text and "∂mul₁/∂w = a = 2" in text


def test_a_nan_gradient_equals_its_nan_grad_in_the_last_step():
    w = Value(-1.0, label="w")
    with np.errstate(invalid="ignore"):  # (numpy's own warnings for √−1 and log −1, expected here)
        cost = (w.sqrt() + w.log()) ** 2  # NaN all the way: the steps and .grad agree, no zero_grad() advice
    cost.backward()
    text = text_of(viz.backprop_player(cost, layout="graph").steps[-1].html)
    assert "w nan nan = .grad" in text and "≠" not in text


def test_a_power_of_a_name_with_an_exponent_gets_parentheses():
    net = nn.MLP([2, 3, 3, 1], rng=0)
    cost = squared_error(net(np.array([[0.5, -1.0]])), np.array([[0.25]])) + 0.01 * (net.layers[1].weights ** 2).sum()
    steps = viz.backprop_player(cost, layout="graph").steps
    forward = " ".join(text_of(s.html) for s in steps if s.phase == "forward")
    assert "pow₁ = (W²)²" in forward and "²²" not in forward
    assert "∂pow₁/∂W² = 2·(W²)" in text_of(_step_titled(steps, "∂C/∂W²").html)
    w = Value(2.0, label="W^(L-1)")
    inverse = w ** -1.0
    inverse.label = "C"
    steps = viz.backprop_player(inverse, layout="graph").steps
    assert "C = (Wᴸ⁻¹)⁻¹" in text_of(steps[1].html)
    assert "= -1·(Wᴸ⁻¹)⁻²" in text_of(_step_titled(steps, "∂C/∂Wᴸ⁻¹").html)
    assert "(Wᴸ⁻¹)²" in local_formula(Value(1.0) / w, 1, ["1", pretty("W^(L-1)")])


_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")


def _as_python(formula: str) -> str:
    """A formula the player writes (``3·x²``, ``0.5·x^-0.5``, ``x^n · ln x``) as Python, read exactly as written."""
    formula = re.sub("[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+", lambda m: "**(" + m.group(0).translate(_SUPERSCRIPTS) + ")", formula)
    formula = re.sub(r"ln (\w+)", r"log(\1)", formula)
    return formula.replace("·", "*").replace("−", "-").replace("^", "**")


@pytest.mark.parametrize("exponent", [2.0, 3.0, 0.5, -1.0, "n"])
def test_the_power_rule_reads_as_the_number_it_states(exponent):
    x = Value(1.7, label="x")
    n = Value(3.0, label="n")
    power = x ** (n if exponent == "n" else exponent)
    power.label = "C"
    steps = viz.backprop_player(power, layout="graph").steps
    b = 3.0 if exponent == "n" else exponent
    expected = {"x": b * 1.7 ** (b - 1), "n": 1.7 ** b * math.log(1.7)}  # the power rule, and ∂(x^n)/∂n
    for name in (["x", "n"] if exponent == "n" else ["x"]):
        text = text_of(_step_titled(steps, f"∂C/∂{name}").html)
        formula, number = re.search(rf"∂C/∂{name} = (.+?) = (\S+) 1 ×", text).groups()
        assert formula.count("(") == formula.count(")"), formula
        assert float(number) == pytest.approx(expected[name], rel=5e-4)
        shown = eval(_as_python(formula), {"x": 1.7, "n": 3.0, "log": math.log})  # noqa: S307 (our own formula)
        assert shown == pytest.approx(expected[name], rel=1e-3), formula
    if exponent == 2.0:
        assert "∂C/∂x = 2·x = " in text


@pytest.mark.parametrize("label, expected", [("α^2", "α²"), ("W^(L-1)", "Wᴸ⁻¹"), ("x^-1", "x⁻¹"),
                                             ("x^0.5", "x^0.5"), ("x^(2 − 1)", "x^(2 − 1)"),
                                             ("x^(n − 1)", "x^(n − 1)"), ("x^2.5", "x^2.5")])
def test_pretty_writes_only_whole_exponents_as_superscripts(label, expected):
    assert pretty(label) == expected


def test_uses_and_operations_are_counted_apart_and_an_exponent_is_no_input():
    v = Value(3.0, label="v")
    cost = v * v + v
    cost.label = "C"
    player = viz.backprop_player(cost)
    assert "v was used 3 times, by 2 operations" in text_of(_step_titled(player, "∂C/∂v").html)
    assert "∂C/∂v = 7" in text_of(_step_titled(player, "∂C/∂v").html)
    square = Value(0.5, label="w") ** 2
    square.label = "C"
    forward = next(s for s in viz.backprop_player(square).steps if s.phase == "forward")
    assert "C = w²" in text_of(forward.html) and "2 = 2" not in text_of(forward.html)


def test_the_tree_player_writes_an_identity_layers_sum_as_a_sigmoid_layers_z():
    """With the identity activation a layer's α is its z (W·α + b); the forward step read ``(α⁰ @ W¹) + b¹``."""
    net = nn.Network(nn.Layer(1, 1, "identity", rng=0), nn.Layer(1, 1, "sigmoid", rng=1))
    cost = squared_error(net(np.array([0.5])), np.array([0.25]))
    cost.label = "C"
    forward = {s.title.split(": ")[-1]: text_of(s.html) for s in viz.backprop_player(cost, layout="tree").steps
               if s.phase == "forward"}
    assert "α¹ = W¹ · α⁰ + b¹" in forward["α¹"] and "z² = W² · α¹ + b²" in forward["z²"], forward


def test_the_tree_player_writes_an_unlabelled_target_as_its_number():
    net = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(2)])
    cost = squared_error(net(np.array([0.5])), np.array([0.25]))  # a plain array target: no label, no tree node
    cost.label = "C"
    player = viz.backprop_player(cost)
    forward = text_of([s for s in player.steps if s.phase == "forward"][-1].html)
    assert "C = Σ(α² − 0.25)²" in forward
    assert "0.25 constant shape (1,): 0.25" in text_of(player.steps[0].html)
    assert "∂C/∂α² = 2(α² − 0.25) = " in text_of(_step_titled(player, "∂C/∂α²").html)


def test_tensors_are_summarised_like_the_drawings():
    weights = Value(np.arange(6.0).reshape(2, 3) / 10, label="W")
    cost = (Value(np.ones(2), requires_grad=False) @ weights).sigmoid().sum()
    player = viz.backprop_player(cost)
    text = text_of(_step_titled(player, "∂C/∂W").html)
    assert f"∂C/∂W = {summary(weights.grad)}" in text
    assert "shape (2, 3)" in text_of(player.steps[0].html)


def _long_chain(steps: int) -> Value:
    y = Value(0.3, label="x")
    for _ in range(steps):
        y = y * 1.0001  # a result and a constant per step
    return y


def test_large_graph_is_cut_like_draw_graph():
    y = _long_chain(10_000)  # 20,001 Values
    player = viz.backprop_player(y, max_nodes=150)
    note = "… 19,851 more Values left out"  # 20,001 Values, 150 drawn
    assert note in viz.draw_graph(y, max_nodes=150).source and note in player.html()
    assert len(player) == 1 + 76 + 76 + 1  # start, the 76 drawn multiplications forward and backward, result


def test_a_player_of_a_graph_twice_as_large_looks_at_its_values_about_twice_as_often(monkeypatch):
    """The player's work grows with the graph, not with its square (a check once skipped made the 20,001-Value
    chain above take two minutes).  Counted, not timed: how often the player reads a Value's inputs."""
    reads, inputs = [], Value.__dict__["parents"].fget
    counted = property(lambda value: reads.append(1) or inputs(value))
    counts = []
    for steps in (2_000, 4_000):
        y = _long_chain(steps)
        monkeypatch.setattr(Value, "parents", counted)
        reads.clear()
        viz.backprop_player(y, max_nodes=150).html()
        monkeypatch.undo()
        counts.append(len(reads))
    assert counts[0] > 2_000 and counts[1] < 2.5 * counts[0], counts


def test_page_is_self_contained_and_inline_in_jupyter(tmp_path):
    _, cost = _chain()
    player = viz.backprop_player(cost)
    path = player.save(tmp_path / "sub" / "player.html")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "<script" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # nothing fetched from anywhere
    assert "@import" not in page and "url(" not in page
    inline = player._repr_html_()
    assert inline.startswith("<iframe srcdoc=") and "data-hash=&quot;no&quot;" in inline
    with pytest.raises(ValueError, match="ending in .html"):
        player.save(tmp_path / "player.svg")


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="backprop_player: expected a Value"):
        viz.backprop_player(3.0)
    with pytest.raises(ValueError, match="backprop_player: expected a cost"):
        viz.backprop_player(Value([1.0, 2.0]) * 2.0)
    with pytest.raises(ValueError, match="backprop_player: max_nodes"):
        viz.backprop_player(Value(1.0) * 2.0, max_nodes=0)
    with pytest.raises(ValueError, match="backprop_player: precision"):
        viz.backprop_player(Value(1.0) * 2.0, precision=0)
    with pytest.raises(TypeError, match="backprop_player: names must map names to Values"):
        viz.backprop_player(Value(1.0) * 2.0, names=["x"])


def test_a_tree_that_cannot_be_found_and_a_path_that_is_none_name_the_function(tmp_path):
    with pytest.raises(ValueError, match=r"^backprop_player: layout='tree' .*no labelled Values"):
        viz.backprop_player((Value(2.0) * 3.0) ** 2, layout="tree")
    player = viz.backprop_player(Value(2.0, label="x") * 3.0, layout="graph")
    with pytest.raises(TypeError, match="BackpropPlayer.save: expected a file path .* got NoneType None"):
        player.save(None)
    assert player.save(tmp_path / "p.html").is_file()


def test_check_drawn_takes_what_nearest_values_gives_and_names_the_caller():
    from tinygrad_edu.player import check_drawn, display_names  # public: viz checks its drawings with it

    _, cost = _chain()
    kept, total = nearest_values(cost)
    names = display_names(kept)
    assert check_drawn(cost, kept, total, names, "my_drawing") is None
    wrongs = [((3.0, kept, total, names), TypeError, "expected a Value (the output), got float"),
              ((cost, tuple(kept), total, names), TypeError, "kept must be a list of Values"),
              ((cost, kept[1:], total, names), ValueError, "kept must start with the output"),
              ((cost, kept, len(kept) - 1, names), ValueError, f"must be an int of at least len(kept) = {len(kept)}"),
              ((cost, kept, True, names), ValueError, "total (the number of Values, drawn or not) must be an int"),
              ((cost, kept, total, ["C"]), TypeError, "names must map id(Value) to the Value's name"),
              ((cost, kept, total, {"C": "cost"}), TypeError, "(an int) to the Value's name (a str), got the entry "
                                                               "'C': 'cost'"),
              ((cost, kept, total, {id(cost): 3}), TypeError, f"got the entry {id(cost)}: 3")]
    for arguments, error, message in wrongs:
        with pytest.raises(error, match="^my_drawing: .*" + re.escape(message)):
            check_drawn(*arguments, "my_drawing")

def test_gradients_recorded_by_create_graph_are_shown_as_numbers():
    net, cost = _chain()
    cost.backward(create_graph=True)  # every .grad is a Value now
    expected = _closed_form_grads(net, 0.5, 0.25)
    for layout in ("tree", "graph"):
        result = text_of(viz.backprop_player(cost, layout=layout).steps[-1].html)
        assert f"{format_number(expected['W^1'])} {format_number(expected['W^1'])} = .grad" in result
    assert f"∂C/∂W¹ = {format_number(expected['W^1'])}" in viz.draw_dependency_tree(cost).source
    assert f"grad {format_number(expected['W^1'])}" in viz.draw_graph(cost).source


def test_a_cost_that_is_a_parameter_itself_has_one_backward_step():
    w = Value(3.0, label="w")
    player = viz.backprop_player(w)
    assert [s.phase for s in player.steps] == ["start", "backward", "result"]
    assert "3 = .grad" not in text_of(player.steps[-1].html) and "1 = .grad" in text_of(player.steps[-1].html)


def test_without_dot_the_page_has_the_steps_and_the_install_advice(tmp_path, monkeypatch):
    _, cost = _chain()
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    player = viz.backprop_player(cost)
    page = player.html()
    assert "<svg" not in page and "apt-get install graphviz" in page and len(player) > 10


# --- in a real browser -----------------------------------------------------------------------------------------
def _read(driver) -> tuple[str, str]:
    return (driver.find_element("css selector", ".counter").text,
            driver.find_element("css selector", ".explanation").text)


def _errors(driver) -> list:
    return [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]


@needs_dot
def test_the_page_in_chromium_shows_each_step_and_follows_the_keys(browser, tmp_path):
    from selenium.webdriver.common.keys import Keys

    net, cost = _chain()
    player = viz.backprop_player(cost)
    url = player.save(tmp_path / "player.html").resolve().as_uri()
    n = len(player)
    expected = _closed_form_grads(net, 0.5, 0.25)
    for k, step in enumerate(player.steps, start=1):
        if k not in (1, 2, n // 2, n - 1, n) and not step.title.endswith(("∂C/∂W¹", "∂C/∂b²")):
            continue
        browser.get(f"{url}#step={k}")
        counter, text = _read(browser)
        assert counter == f"step {k} / {n}"
        assert step.title in text
        for name, grad in expected.items():  # every gradient the page states is the closed form's
            pretty = name.replace("^1", "¹").replace("^2", "²")
            for shown in re.findall(rf"∂C/∂{pretty} = (-?[\d.e+-]+)", text):
                assert float(shown) == pytest.approx(grad, rel=5e-4), (k, name)
    browser.get(f"{url}#step=3")
    body = browser.find_element("css selector", "body")
    body.send_keys(Keys.ARROW_RIGHT)
    body.send_keys(Keys.ARROW_RIGHT)
    assert _read(browser)[0] == f"step 5 / {n}" and browser.current_url.endswith("#step=5")
    body.send_keys(Keys.ARROW_LEFT)
    assert _read(browser)[0] == f"step 4 / {n}" and browser.current_url.endswith("#step=4")
    browser.find_element("css selector", "[data-go=last]").click()
    counter, text = _read(browser)
    assert counter == f"step {n} / {n}"
    for p in net.parameters():
        assert f"{format_number(float(p.grad.item()))} = .grad" in text
    browser.find_element("css selector", "[data-go=first]").click()
    assert _read(browser)[0] == f"step 1 / {n}"
    browser.execute_script("location.hash = '#step=7'")
    from selenium.webdriver.support.wait import WebDriverWait

    WebDriverWait(browser, 10, poll_frequency=0.05).until(lambda d: _read(d)[0] != f"step 1 / {n}")  # hashchange
    assert _read(browser)[0] == f"step 7 / {n}"
    highlighted = browser.find_elements("css selector", ".drawing g.current")
    assert highlighted and highlighted[0].find_element("css selector", "title").get_attribute("textContent") == \
        f"v{player.steps[6].node}"
    assert _errors(browser) == []


@needs_dot
def test_play_advances_and_the_screenshot_is_not_blank(browser, tmp_path):
    _, cost = _chain()
    url = viz.backprop_player(cost).save(tmp_path / "player.html").resolve().as_uri()
    browser.get(url + "#step=1")
    browser.find_element("css selector", "[data-go=play]").click()
    deadline = time.monotonic() + 20
    while _read(browser)[0].split()[1] != "3" and time.monotonic() < deadline:  # one step per 1.2 s
        time.sleep(0.1)
    browser.find_element("css selector", "[data-go=play]").click()  # pause
    paused = _read(browser)[0]
    assert paused.split()[1] in ("3", "4"), paused
    time.sleep(1.5)
    assert _read(browser)[0] == paused  # pause holds
    image = pytest.importorskip("matplotlib.image").imread(io.BytesIO(browser.get_screenshot_as_png()), format="png")
    pixels = (image[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    colours = np.unique(pixels, axis=0)
    assert len(colours) > 50  # text, boxes in four colours, the red highlight: far from a blank page
    assert (np.abs(pixels.astype(int) - [208, 0, 0]).sum(axis=1) < 60).sum() > 100  # the current Value's red
    assert _errors(browser) == []


@needs_dot
def test_the_inline_frame_works_in_chromium_without_touching_the_address(browser, tmp_path):
    from selenium.webdriver.common.keys import Keys

    _, cost = _chain()
    player = viz.backprop_player(cost)
    notebook = tmp_path / "notebook.html"  # what Jupyter does with _repr_html_: put it into its own page
    notebook.write_text(f"<!DOCTYPE html><html><body><p>a notebook cell</p>{player._repr_html_()}</body></html>",
                        encoding="utf-8")
    browser.get(notebook.resolve().as_uri())
    browser.switch_to.frame(browser.find_element("css selector", "iframe"))
    try:
        assert _read(browser)[0] == f"step 1 / {len(player)}"
        browser.find_element("css selector", "[data-go=next]").click()
        browser.find_element("css selector", "body").send_keys(Keys.ARROW_RIGHT)
        counter, text = _read(browser)
        assert counter == f"step 3 / {len(player)}" and player.steps[2].title in text
    finally:
        browser.switch_to.default_content()
    assert "#" not in browser.current_url  # the notebook's address is left alone
    assert _errors(browser) == []


@needs_dot
def test_a_narrow_window_stacks_the_panels_and_a_big_drawing_keeps_readable_text(browser, tmp_path):
    net, cost = _chain(layers=3)
    url = viz.backprop_player(cost).save(tmp_path / "chain.html").resolve().as_uri()
    rng = np.random.default_rng(0)
    big = squared_error(nn.MLP([4, 16, 16, 3], rng=0)(rng.random((8, 4))), rng.random((8, 3)))
    big_url = viz.backprop_player(big).save(tmp_path / "big.html").resolve().as_uri()
    measure = """var box = function (s) { return document.querySelector(s).getBoundingClientRect(); };
        var heights = Array.from(document.querySelectorAll('.drawing g.node text'))
            .map(function (t) { return t.getBoundingClientRect().height; });
        return {viewport: document.documentElement.clientWidth, page: document.documentElement.scrollWidth,
                counter: box('.counter').right, explanation: box('.explanation'), drawing: box('.drawing'),
                table: box('.explanation table').right, text: Math.min.apply(null, heights)};"""
    try:
        browser.set_window_size(500, 900)
        browser.get(url + "#step=10")  # a backward step with a table
        found = browser.execute_script(measure)
        assert found["page"] <= found["viewport"], found  # no sideways scrolling of the page
        assert found["counter"] <= found["viewport"] and _read(browser)[0].startswith("step 10 / ")
        assert found["explanation"]["top"] >= found["drawing"]["bottom"] - 1, found  # stacked below the drawing
        assert found["table"] <= found["explanation"]["right"], found  # the table wraps inside its panel
        assert found["text"] >= 9, found  # the tree keeps its scale and scrolls inside its box
        browser.set_window_size(1400, 900)
        browser.get(big_url + "#step=20")
        found = browser.execute_script(measure)
        assert found["text"] >= 9, found  # a big network: the drawing scrolls, its text not shrunk to 4 px
        assert found["explanation"]["left"] >= found["drawing"]["right"] - 1, found  # side by side when wide
    finally:
        browser.set_window_size(1200, 900)
    assert _errors(browser) == []


@needs_dot
def test_a_box_the_backward_pass_has_not_reached_says_what_will_appear_and_is_not_wider_than_that(browser, tmp_path):
    """Before the fix the tree's W¹ box was as wide as its hidden "chain: …" line, with nothing in its lower half."""
    net, cost = _chain(layers=3)
    player = viz.backprop_player(cost)
    url = player.save(tmp_path / "chain.html").resolve().as_uri()
    boxes = """return Array.from(document.querySelectorAll('.drawing g.node')).map(function (g) {
            var shown = Array.from(g.querySelectorAll('text')).filter(function (t) {
                return getComputedStyle(t).visibility !== 'hidden' && t.textContent.trim(); });
            return {lines: shown.map(function (t) { return t.textContent; }), box: g.getBBox().width,
                    widest: Math.max.apply(null, shown.map(function (t) { return t.getComputedTextLength(); }))};
        });"""
    w1 = format_number(_closed_form_grads(net, 0.5, 0.25)["W^1"])
    browser.get(url + "#step=2")  # the forward pass: no gradient known yet
    for node in browser.execute_script(boxes):
        assert node["box"] <= 3 * node["widest"], node  # no box much wider than what it shows (W¹: 10 times)
        if node["lines"][0] == "W¹":
            assert node["lines"][-1] == "∂C/∂W¹ = ?", node
    browser.find_element("css selector", "[data-go=last]").click()
    shown = [n["lines"] for n in browser.execute_script(boxes) if n["lines"][0] == "W¹"]
    assert shown == [["W¹", f"= {format_number(float(net.layers[0].weights.data[0, 0]))}", f"∂C/∂W¹ = {w1}"]]
    assert _errors(browser) == []


@needs_dot
def test_a_long_label_wraps_in_the_explanation_and_a_reversing_mark_is_dropped(browser, tmp_path):
    w = Value(1.25, label="w" * 200 + "\u202e")
    cost = (w * 3.0) ** 2
    player = viz.backprop_player(cost)
    page = player.html()
    assert "\u202e" not in page  # it turned "= 22.5" round in the drawing and the steps
    url = player.save(tmp_path / "long.html").resolve().as_uri()
    browser.get(f"{url}#step={len(player) - 1}")  # the backward step of w: its name in the title and the text
    fits = browser.execute_script("""var panel = document.querySelector('.explanation').getBoundingClientRect();
        return Array.from(document.querySelectorAll('.explanation h2, .explanation p')).map(function (e) {
            return e.scrollWidth <= e.clientWidth && e.getBoundingClientRect().right <= panel.right; });""")
    assert fits and all(fits), fits
    assert _read(browser)[1].count("22.5") >= 2 and _errors(browser) == []



@needs_dot
@pytest.mark.parametrize("layout", ["graph", "tree"])
def test_the_last_steps_table_names_the_cost_by_its_own_label(browser, tmp_path, layout):
    """Before the fix the last step's header said ∂C/∂ for a cost labelled L, whose other steps say ∂L/∂."""
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    cost = a * b
    cost.label = "L"
    player = viz.backprop_player(cost, layout=layout)
    browser.get(f"{player.save(tmp_path / 'player.html').resolve().as_uri()}#step={len(player)}")
    header = [th.text for th in browser.find_elements("css selector", ".explanation th")]
    rows = [[td.text for td in tr.find_elements("css selector", "td")]
            for tr in browser.find_elements("css selector", ".explanation tr")][1:]
    assert header[:3] == ["parameter", "∂L/∂· (the steps)", ".grad"], header
    assert rows == [["a", "-3", "-3", "= .grad"], ["b", "2", "2", "= .grad"]], rows  # ∂(ab)/∂a = b, ∂(ab)/∂b = a
    assert "∂C" not in _read(browser)[1] and _errors(browser) == []

def test_the_notation_names_a_negative_count_as_a_value_error():
    with pytest.raises(ValueError, match="^format_number: precision must be an integer from 0 to 17, got -1$"):
        format_number(0.5, precision=-1)
    with pytest.raises(TypeError, match="^format_number: precision must be an integer, got float 2.0$"):
        format_number(0.5, precision=2.0)
    with pytest.raises(ValueError, match="^left_out_note: shown must be an integer >= 0, got -1$"):
        left_out_note(-1, 5)


@needs_dot
def test_both_edges_of_a_value_used_twice_by_one_operation_light_up(browser, tmp_path):
    w = Value(3.0, label="w")
    cost = w * w
    cost.label = "C"
    player = viz.backprop_player(cost, layout="graph")
    k = next(k for k, s in enumerate(player.steps, start=1) if s.title.endswith("∂C/∂w"))
    browser.get(f"{player.save(tmp_path / 'player.html').resolve().as_uri()}#step={k}")
    lit = [g.find_element("css selector", "title").get_attribute("textContent")
           for g in browser.find_elements("css selector", ".drawing g.edge.lit")]
    assert lit.count("v1->op0") == 2 and not _errors(browser), lit


_BOX_LINES = """return Array.from(document.querySelectorAll('.drawing g.node')).map(function (g) {
        return Array.from(g.querySelectorAll('text')).map(function (t) { return t.textContent; }); });"""


@needs_dot
@pytest.mark.parametrize("layout", ["graph", "tree"])
def test_a_label_that_reads_like_a_gradient_line_is_shown_as_given(browser, tmp_path, layout):
    """Before the fix the page took a box's name "grad norm" for its gradient line: "grad ?" until the backward
    pass reached it; "∂ scale" and "chain: x" were blanked."""
    leaves = [Value(1.0, label="grad norm"), Value(0.5, label="∂ scale"), Value(2.0, label="chain: x")]
    cost = ((leaves[0] * leaves[1] + leaves[2]) * 3.0) ** 2
    cost.label = "C"
    player = viz.backprop_player(cost, layout=layout)
    url = player.save(tmp_path / "labels.html").resolve().as_uri()
    gradient = {"graph": "grad {}", "tree": "∂C/∂{label} = {}"}[layout]
    for step, found in ((2, False), (len(player), True)):  # the forward pass, then every gradient known
        browser.get(f"{url}#step={step}")
        boxes = {lines[0]: lines for lines in browser.execute_script(_BOX_LINES)}
        assert {leaf.label for leaf in leaves} <= set(boxes), (step, boxes)  # each name on its box's first line
        for leaf in leaves:
            shown = format_number(float(leaf.grad.item())) if found else "?"
            assert boxes[leaf.label][-1] == gradient.format(shown, label=leaf.label), (step, boxes)
    assert _errors(browser) == []


@needs_dot
@pytest.mark.parametrize("focus", ["body", "input[type=range]", "[data-go=next]"])
def test_the_keys_do_the_same_wherever_the_focus_is(browser, tmp_path, focus):
    """Before the fix space did nothing while the slider had the focus (after a click on it)."""
    from selenium.webdriver.common.keys import Keys

    _, cost = _chain()
    player = viz.backprop_player(cost)
    n = len(player)
    browser.get("about:blank")  # a fresh page: no focus left over from the last run
    browser.get(player.save(tmp_path / "player.html").resolve().as_uri() + "#step=3")
    target = browser.find_element("css selector", focus)
    if focus != "body":
        target.click()  # the slider jumps to where it is clicked, the button to the next step
    assert browser.switch_to.active_element == target
    step = lambda: int(_read(browser)[0].split()[1])  # noqa: E731
    k = step()
    for key, expected in ((Keys.ARROW_RIGHT, k + 1), (Keys.ARROW_LEFT, k), (Keys.END, n), (Keys.HOME, 1)):
        browser.switch_to.active_element.send_keys(key)
        assert step() == expected, (focus, key)  # one step: the slider does not move a second time itself
    play = browser.find_element("css selector", "[data-go=play]")
    browser.switch_to.active_element.send_keys(Keys.SPACE)
    assert play.text == "pause"
    deadline = time.monotonic() + 10
    while step() == 1 and time.monotonic() < deadline:  # one step per 1.2 s
        time.sleep(0.1)
    browser.switch_to.active_element.send_keys(Keys.SPACE)
    paused = step()
    assert play.text == "play" and paused in (2, 3)
    time.sleep(1.5)
    assert step() == paused and browser.current_url.endswith(f"#step={paused}")
    assert browser.switch_to.active_element == target and _errors(browser) == []


@pytest.mark.parametrize("layout", ["graph", "tree"])
def test_a_constant_is_named_by_its_number_at_the_players_precision(layout):
    """With precision=8 the target 0.333333 was still called 0.3333 (format_number's 4 digits): "sub₁ = mul₁ −
    0.3333" next to mul₁ = 0.6369617 and sub₁ = 0.3036287, which 0.3333 does not give."""
    net = nn.Network(nn.Layer(1, 1, "sigmoid", rng=0), nn.Layer(1, 1, "sigmoid", rng=1))
    cost = squared_error(net(np.array([0.5])), np.array([0.333333]))
    cost.label = "C"
    player = viz.backprop_player(cost, layout=layout, precision=8)
    assert "0.333333 constant" in text_of(player.steps[0].html)
    last_forward = text_of([s for s in player.steps if s.phase == "forward"][-1].html)
    assert "C = Σ(α² − 0.333333)²" in last_forward
    alpha2 = _sigmoid(float(net.layers[1].weights.data[0, 0]) * _sigmoid(
        float(net.layers[0].weights.data[0, 0]) * 0.5 + float(net.layers[0].biases.data[0])) +
        float(net.layers[1].biases.data[0]))
    assert f"C = {format_number((alpha2 - 0.333333) ** 2, 8)}" in last_forward


def test_an_exponent_keeps_its_short_name_and_a_number_is_not_listed_as_its_own_input():
    w = Value(0.5, label="w")
    cost = (w * 3.0 - 0.333333) ** 2
    player = viz.backprop_player(cost, layout="graph", precision=8)
    forward = [text_of(s.html) for s in player.steps if s.phase == "forward"]
    assert "sub₁ = mul₁ − 0.333333 from mul₁ = 1.5 sub₁" in forward[1]  # the number is not listed again under "from"
    assert "C = sub₁² from sub₁ = 1.166667" in forward[2]


def _negative_target_cost(target: float = -0.5) -> Value:
    """The seed's chain (one neuron per layer, section 6.3) and its squared-error cost for a negative target."""
    model = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(2)])
    cost = squared_error(model(np.array([0.5])), np.array([target]))
    cost.backward()
    return cost


_DOUBLE_SIGN = re.compile(r"[−+·/-] ?-\d")  # "α² − -0.5", "mul₁ + -0.5", "1/-0.5": two signs in a row


def test_a_negative_number_after_an_operator_is_written_in_parentheses(tmp_path):
    """The player wrote "C = Σ(α² − -0.5)²", "∂C/∂α² = 2(α² − -0.5)" and "add₁ = mul₁ + -0.5": a minus sign and a
    hyphen in a row, which a student copies as a typo; the tree's chain products already wrote a negative factor in
    parentheses, "0.8 · (-0.8)".  Found by an exploratory pass."""
    viz.backprop_player(_negative_target_cost()).save(tmp_path / "tree.html")
    w = Value(2.0, label="w")
    viz.backprop_player((w * 3.0 + -0.5) ** 2, layout="graph").save(tmp_path / "graph.html")
    for page in ("tree.html", "graph.html"):
        text = (tmp_path / page).read_text(encoding="utf-8")
        assert not _DOUBLE_SIGN.findall(text), page
        assert "(-0.5)" in text, page


@pytest.mark.parametrize("make, names, forward, local", [
    (lambda w: w / -0.5, ["w", "-0.5"], "w / (-0.5)", ["1/(-0.5)", "−w/(-0.5)²"]),
    (lambda w: w - -0.5, ["w", "-0.5"], "w − (-0.5)", ["1", "−1"]),
    (lambda w: Value(-2.0) ** w, ["-2", "w"], "(-2)^w", None),
    (lambda w: w ** -1.0, ["w", "-1"], "w^-1", ["-1·w^-2", "w^-1 · ln w"]),  # an exponent needs no parentheses
    (lambda w: -Value(-0.5), ["-0.5"], "−(-0.5)", ["−1"]),
])
def test_formulas_put_a_negative_operand_or_base_in_parentheses(make, names, forward, local):
    """−w/-0.5² read as −w/−(0.5²) and -2^w as −(2^w): a negative number as an operand or as the base of a power is
    written in parentheses, (-0.5)² and (-2)^w."""
    node = make(Value(2.0, label="w"))
    assert forward_formula(node, names) == forward
    if local is not None:
        assert [local_formula(node, i, names) for i in range(len(node.parents))] == local


# --- a teacher's loose ends: backward(inputs=…), a Value frozen after its pass, operations' settings, "auto" ---------
def _linear_cost():
    """C = (3w + b − 1)², w = 0.5, b = 0.2: ∂C/∂w = 6(3w + b − 1) = 4.2 and ∂C/∂b = 2(3w + b − 1) = 1.4."""
    w, b = Value(0.5, label="w"), Value(0.2, label="b")
    cost = (w * 3.0 + b - 1.0) ** 2
    cost.label = "C"
    return w, b, cost


def _result_rows(player: BackpropPlayer) -> dict[str, str]:
    """The last step's table: each parameter's name → the text of its row."""
    rows = re.findall(r"<tr><td>(.*?)</td>(.*?)</tr>", player.steps[-1].html)
    return {html_name: text_of(rest) for html_name, rest in rows}


def test_after_backward_with_inputs_the_result_step_says_to_zero_grad_first_and_that_advice_works():
    """``cost.backward(inputs=[w])`` fills w's .grad and leaves b's None.  The last step said of b "call backward()
    again": done, w's .grad held two passes (8.4, where one pass gives 4.2) and the step then said "≠ .grad".  Where
    another parameter holds the pass, the advice is zero_grad() first, as draw_graph's key says; followed, every
    row reads "= .grad", with the closed-form gradients."""
    w, b, cost = _linear_cost()
    cost.backward(inputs=[w])
    assert b.grad is None and float(w.grad) == pytest.approx(4.2)
    for layout in ("graph", "tree"):
        rows = _result_rows(viz.backprop_player(cost, layout=layout))
        assert rows["w"].endswith("= .grad") and rows["b"].startswith("1.4 – ≠ .grad"), rows
        assert "backward(inputs=…) left it out" in rows["b"], rows
        assert "call zero_grad(), then backward() again" in rows["b"], rows
    for p in (w, b):  # the advice, followed
        p.zero_grad()
    cost.backward()
    rows = _result_rows(viz.backprop_player(cost, layout="graph"))
    assert rows == {"w": "4.2 4.2 = .grad", "b": "1.4 1.4 = .grad"}, rows
    assert (float(w.grad), float(b.grad)) == pytest.approx((6 * 0.7, 2 * 0.7))


def test_after_zero_grad_of_every_parameter_the_result_step_still_says_backward_again():
    """Where no parameter holds the pass (zero_grad() of all of them since), backward() alone is the whole advice."""
    w, b, cost = _linear_cost()
    cost.backward()
    for p in (w, b):
        p.zero_grad()
    rows = _result_rows(viz.backprop_player(cost, layout="graph"))
    assert all(row.endswith("call backward() again)") and "zero_grad(), then" not in row for row in rows.values())


def _graph_key(drawing) -> str:
    found = re.search(r'\blabel="\s*(green[^"]*)"', drawing.source, flags=re.S)
    assert found is not None, drawing.source
    return found.group(1)


def test_a_value_frozen_right_after_the_pass_that_filled_it_is_not_said_to_have_had_none():
    """x frozen (requires_grad = False) right after the backward pass that gave it ∂C/∂x = 2(wx − 1)·w: the key said
    "this pass gave it none: its .grad is kept from a backward pass before requires_grad was set to False", untrue
    of the pass drawn.  It now says the drawn pass filled it before x was frozen."""
    w, x = Value(0.75, label="w"), Value(2.0, label="x")
    cost = (w * x - 1.0) ** 2
    cost.backward()
    x.requires_grad = False
    assert float(x.grad) == pytest.approx(2 * (0.75 * 2.0 - 1.0) * 0.75)  # 0.75, the closed form
    key = _graph_key(viz.draw_graph(cost))
    assert "is not this pass's" not in key, key
    assert "x needs no gradient (requires_grad = False)" in key and "this backward pass filled its .grad" in key, key
    x = Value(0.3, label="x")  # a drawing cut by max_nodes cannot tell which pass filled it, and does not say
    s = Value(0.0)
    for i in range(30):
        s = s + x * float(i)
    s.backward()
    x.requires_grad = False
    assert float(x.grad) == pytest.approx(sum(range(30)))
    key = _graph_key(viz.draw_graph(s, max_nodes=10))
    assert "is not this pass's" not in key and "this one or an earlier one" in key, key


def test_a_value_frozen_before_the_pass_still_has_its_old_grad_named_as_such():
    """The other case, unchanged: x frozen before the pass drawn, its .grad from an earlier pass at other numbers."""
    w, x = Value(0.75, label="w"), Value(2.0, label="x")
    ((w * x - 1.0) ** 2).backward()
    x.requires_grad = False
    w.zero_grad()
    w.data = np.array(0.25)
    cost = (w * x - 1.0) ** 2
    cost.backward()
    key = _graph_key(viz.draw_graph(cost))
    assert "its .grad is not this pass's" in key and "before requires_grad was set to False" in key, key


def _central_difference(f, x: float, h: float = 1e-6) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("make, forward", [
    (lambda v: v.reshape(3, 2), "reshape(W, shape=(3, 2))"),
    (lambda v: v.reshape(6), "reshape(W, shape=(6,))"),
    (lambda v: v.transpose(1, 0), "transpose(W, axes=(1, 0))"),
    (lambda v: v.T, "transpose(W)"),  # (axes=None, numpy's default: every axis reversed)
    (lambda v: apply(ops.broadcast_to, v, shape=(4, 2, 3)), "broadcast_to(W, shape=(4, 2, 3))"),
    (lambda v: F.leaky_relu(v, 0.1), "leaky_relu(W, negative_slope=0.1)"),
])
def test_the_steps_of_operations_with_settings_show_them_as_the_drawing_does(make, forward):
    """reshape, transpose, broadcast_to and leaky_relu steps read "reshape(W)", "transpose(W)", "leaky_relu(W)":
    their shape, axes or slope, which the drawing's oval writes (reshape(shape=(3, 2))), were left out, where
    softmax's axis and astype's dtype were shown."""
    W = Value(np.arange(-2.0, 4.0).reshape(2, 3), label="W")
    node = make(W)
    assert forward_formula(node, ["W"]) == forward
    steps = viz.backprop_player((node * node).sum(), layout="graph").steps
    assert any(f"= {forward}" in text_of(step.html) for step in steps if step.phase == "forward"), forward


def test_leaky_relus_step_writes_its_slope_and_it_is_the_engines_derivative():
    """LeakyReLU′(x) alone did not say what it is below 0 (ReLU′'s says "1 where x > 0, else 0"): the slope, 0.1
    here, against central differences in float64."""
    x = Value(-0.7, label="x")
    node = F.leaky_relu(x, 0.1)
    assert local_formula(node, 0, ["x"]) == "LeakyReLU′(x): 1 where x > 0, else 0.1"
    (_, _, number), = local_gradients(node, np.ones(()))
    finite = _central_difference(lambda t: float(F.leaky_relu(Value(t), 0.1).data), -0.7)
    assert float(number) == pytest.approx(finite, rel=1e-6) == pytest.approx(0.1)
    text = html.unescape(text_of(_step_titled(viz.backprop_player(node * 2.0, layout="graph"), "∂C/∂x").html))
    assert "LeakyReLU′(x): 1 where x > 0, else 0.1 = 0.1 2 × 0.1 = 0.2 ∂C/∂x = 0.2" in text, text  # C = 2·0.1·x


def test_auto_draws_a_single_labelled_number_as_the_graph_not_a_one_edge_tree():
    """z = Value(1.5, label="z^2"), C = z²: "auto" took the label for a layer's pre-activation and played a tree of
    two boxes, C ← z², its edge "through pow" without a formula: no network (nothing computes z², no weight).  It
    plays the graph, with its pow and the exponent 2; a network's tree stays a tree."""
    z = Value(1.5, label="z^2")
    cost = z ** 2
    player = viz.backprop_player(cost)
    assert not has_layers(cost)
    assert "<title>computation_graph</title>" in player.drawing_svg, player.drawing_svg[:300]
    assert f"∂C/∂z² = {format_number(2 * 1.5)}" in text_of(_step_titled(player, "∂C/∂z²").html)
    _, network_cost = _chain()
    assert has_layers(network_cost)
    assert "<title>dependency_tree</title>" in viz.backprop_player(network_cost).drawing_svg


@needs_dot
def test_in_chromium_the_last_step_after_backward_with_inputs_and_a_slope_read_as_they_should(browser, tmp_path):
    """The page, not only the steps' HTML: after ``backward(inputs=[w])`` its last step gives b's row the advice that
    works (zero_grad() first), and the forward step of leaky_relu shows its slope, in the browser's own text."""
    w, b, cost = _linear_cost()
    cost.backward(inputs=[w])
    url = viz.backprop_player(cost, layout="graph").save(tmp_path / "inputs.html").resolve().as_uri()
    browser.get(url)
    browser.find_element("css selector", "[data-go=last]").click()
    text = _read(browser)[1]
    assert "backward(inputs=…) left it out" in text and "call zero_grad(), then backward() again" in text, text
    x = Value(-0.7, label="x")
    url = viz.backprop_player(F.leaky_relu(x, 0.1) * 2.0, layout="graph").save(tmp_path / "slope.html").resolve()
    browser.get("about:blank")
    browser.get(url.as_uri() + "#step=2")
    counter, text = _read(browser)
    assert counter.startswith("step 2 / ") and "leaky_relu(x, negative_slope=0.1)" in text, text
    assert "= -0.07" in text, text  # 0.1 · (−0.7)
    assert _errors(browser) == []
