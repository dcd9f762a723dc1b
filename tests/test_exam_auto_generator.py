"""A teacher generating exam exercises: for random seeds, a tiny sigmoid network with weights rounded to one
decimal, one sample, the squared-error cost; the answer key comes from the package's text outputs (the dependency
tree's ``chain_lines``, the player's steps, ``format_number``).  The key must be right, its numbers must round as
asked, a printed chain must work out to its printed total (or say ``≈``), and a seed must give the same sheet."""

from __future__ import annotations

import html
import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import nn
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.losses import squared_error
from tinygrad_edu.notation import format_number, pretty
from tinygrad_edu.player import tree_steps

SEEDS = range(50)


def _exercise(seed: int, sizes: tuple[int, ...]) -> tuple[nn.Network, np.ndarray, np.ndarray]:
    """The seed's exercise: weights and biases in [−2, 2] to one decimal, input in [−1, 1], target in [0, 1]."""
    rng = np.random.default_rng(seed)
    layers = [nn.Layer(n_in, n_out, "sigmoid", rng=seed) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    for layer in layers:
        layer.weights.data[...] = np.round(rng.uniform(-2, 2, layer.weights.shape), 1)
        layer.biases.data[...] = np.round(rng.uniform(-2, 2, layer.biases.shape), 1)
    x, y = np.round(rng.uniform(-1, 1, sizes[0]), 1), np.round(rng.uniform(0, 1, sizes[-1]), 1)
    return nn.Network(*layers), x, y


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def _split_total(text: str) -> tuple[str, str, str]:
    """``a · b · c = t`` (or ``≈ t``) → (``a · b · c``, the sign, ``t``)."""
    head, sign, total = re.fullmatch(r"(.*) ([=≈]) (\S+)", text).groups()
    return head, sign, total


def _number(text: str) -> float:
    return float(text.strip("()"))


def test_a_chain_line_says_equals_only_where_its_printed_factors_work_out_to_its_printed_total() -> None:
    checked = approximate = 0
    for seed in SEEDS:
        net, x, y = _exercise(seed, (1, 1, 1, 1))
        tree = dependency_tree(squared_error(net(x), y))
        for precision in (2, 3, 4):
            for name in ("W^1", "b^1", "W^2", "b^2", "W^3"):
                (line,) = tree.chain_lines(name, precision, width=400)
                factors, sign, total = _split_total(line.removeprefix("chain: "))
                assert total == format_number(tree.chain_rule(name), precision)
                worked_out = format_number(math.prod(_number(f) for f in factors.split(" · ")), precision)
                assert (worked_out == total) == (sign == "="), (seed, precision, line, worked_out)
                checked += 1
                approximate += sign == "≈"
    assert checked == 750 and 0 < approximate < checked  # both kinds of line were met


def test_a_player_product_says_equals_only_where_its_printed_numbers_work_out() -> None:
    products = approximate = 0
    for seed in range(10):
        net, x, y = _exercise(seed, (1, 1, 1))
        cost = squared_error(net(x), y)
        tree = dependency_tree(cost)
        for step in tree_steps(cost, tree, precision=3):
            text = html.unescape(re.sub(r"<[^>]+>", " ", step.html))
            for a, b, sign, c in re.findall(r"(\S+) × (\S+) ([=≈]) (\S+)", text):
                worked_out = format_number(_number(a) * _number(b), 3)
                assert (worked_out == c) == (sign == "="), (seed, step.title, a, b, sign, c)
                products += 1
                approximate += sign == "≈"
    assert products > 50 and approximate > 0


# --- guards: what the answer key relies on -------------------------------------------------------------------------
@pytest.mark.parametrize("sizes", [(2, 2, 1), (1, 2, 1)])
def test_guard_the_answer_key_matches_a_hand_written_forward_and_backward_pass(sizes: tuple[int, ...]) -> None:
    """α¹ = σ(α⁰W¹ + b¹), α² = σ(α¹W² + b²), C = (α² − y′)², and the chain rule written out by hand."""
    for seed in SEEDS:
        net, x, y = _exercise(seed, sizes)
        cost = squared_error(net(x), y)
        cost.backward()
        (w1, b1), (w2, b2) = [(layer.weights.data, layer.biases.data) for layer in net]
        a1 = _sigmoid(x @ w1 + b1)
        a2 = _sigmoid(a1 @ w2 + b2)
        delta2 = 2 * (a2 - y) * a2 * (1 - a2)
        delta1 = (w2 @ delta2) * a1 * (1 - a1)
        assert cost.item() == pytest.approx(float(((a2 - y) ** 2).sum()), rel=1e-14)
        expected = {"W^1": np.outer(x, delta1), "b^1": delta1, "W^2": np.outer(a1, delta2), "b^2": delta2}
        for parameter in net.parameters():
            np.testing.assert_allclose(parameter.grad, expected[parameter.label], rtol=1e-12, atol=1e-300)


def test_guard_the_trees_totals_are_the_hand_written_gradients_and_its_names_are_the_drawings() -> None:
    for seed in range(20):
        net, x, y = _exercise(seed, (1, 1, 1))
        tree = dependency_tree(squared_error(net(x), y))
        (w1, b1), (w2, b2) = [(float(layer.weights.data.item()), float(layer.biases.data.item())) for layer in net]
        a1 = _sigmoid(w1 * x.item() + b1)
        a2 = _sigmoid(w2 * a1 + b2)
        delta2 = 2 * (a2 - y.item()) * a2 * (1 - a2)
        delta1 = w2 * delta2 * a1 * (1 - a1)
        for name, grad in {"W^2": a1 * delta2, "b^2": delta2, "W^1": x.item() * delta1, "b^1": delta1}.items():
            assert tree.chain_rule(name) == pytest.approx(grad, rel=1e-12)
            _, _, total = _split_total(tree.chain_lines(name, 4)[-1])
            assert total == format_number(grad, 4) or abs(float(total) - grad) <= 5e-4 * abs(grad)
        symbols = {edge.symbol for edge in tree.edges}
        assert {"∂z¹/∂W¹", "∂α¹/∂z¹", "∂z²/∂α¹", "∂α²/∂z²", "∂C/∂α²", "∂z²/∂b²"} <= symbols
        assert [pretty(name) for name in ("W^1", "b^2", "α^1", "z^2")] == ["W¹", "b²", "α¹", "z²"]


@pytest.mark.parametrize(("x", "precision", "text"), [
    (-0.0, 2, "0"), (-0.0, 6, "0"), (0.0005, 2, "0.0005"), (0.0005, 6, "0.0005"), (1e-7, 3, "1e-07"),
    (2.5e10, 2, "2.5e+10"), (2.5e10, 1, "2e+10"), (0.125, 3, "0.125"), (0.45, 1, "0.5"), (0.0125, 2, "0.013"),
    (0.99995, 4, "1"), (-0.125, 3, "-0.125"),
])
def test_guard_format_number_at_the_precisions_an_exam_asks(x: float, precision: int, text: str) -> None:
    """0.45 and 0.0125 are a little above their decimal ties (0.45000000000000001, 0.012500000000000001)."""
    assert format_number(x, precision) == text


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False).filter(lambda x: x == 0 or abs(x) > 1e-300),
       st.integers(min_value=2, max_value=6))
def test_guard_format_number_is_within_half_a_unit_of_its_last_digit(x: float, precision: int) -> None:
    shown = float(format_number(x, precision))
    if x == 0:
        assert shown == 0
        return
    unit = 10.0 ** (math.floor(math.log10(abs(x))) - precision + 1)
    assert abs(shown - x) <= unit / 2 * (1 + 1e-9) + 1e-300


def test_guard_the_same_seed_gives_the_same_sheet_text() -> None:
    def sheet(seed: int) -> list[str]:
        net, x, y = _exercise(seed, (1, 1, 1))
        cost = squared_error(net(x), y)
        tree = dependency_tree(cost)
        lines = [line for name in tree.nodes for line in tree.chain_lines(name, 3)]
        return lines + [step.html for step in tree_steps(cost, tree, precision=3)]

    for seed in (0, 7, 49):
        assert sheet(seed) == sheet(seed)
    assert sheet(0) != sheet(1)
