"""The package's structure and style after the thirty-third round, as a reviewer reads it: each module's API is its
``__all__`` (the new write_instead.py too), a check two functions share stays one check, and the functions made
shorter this round (armijo_step, computation_graph, backprop_player) still do what they did."""

from __future__ import annotations

import importlib
import inspect
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, no_grad, viz
from tinygrad_edu.optim import armijo_step
from tinygrad_edu.player import BackpropPlayer

# ---- defects ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["write_instead", "printing"])
def test_a_bottom_layer_module_lists_its_api_in_all(name: str) -> None:
    """Every other module of the package says what its API is (tests/test_public_names.py); these two did not."""
    module = importlib.import_module(f"tinygrad_edu.{name}")
    exported = list(module.__all__)
    defined = {item for item, value in vars(module).items()
               if not item.startswith("_") and (inspect.isfunction(value) or inspect.isclass(value))
               and value.__module__ == module.__name__}
    assert defined <= set(exported), f"public but not in __all__: {sorted(defined - set(exported))}"
    assert all(hasattr(module, item) for item in exported) and len(set(exported)) == len(exported)
    assert dir(module) == sorted(exported)
    namespace: dict = {}
    exec(f"from tinygrad_edu.{name} import *", namespace)  # noqa: S102
    assert set(namespace) - {"__builtins__"} == set(exported)
    assert "np" not in namespace and "annotations" not in namespace


@pytest.fixture(scope="module")
def player() -> BackpropPlayer:
    w = Value(0.5, label="w")
    return viz.backprop_player((w * 2.0 - 1.0) ** 2)


@pytest.mark.parametrize("title", ["", "   "], ids=["empty", "blank"])
def test_the_player_class_refuses_the_empty_title_backprop_player_refuses(player: BackpropPlayer, title: str) -> None:
    with pytest.raises(ValueError, match=r"^backprop_player: title must be a non-empty str"):
        viz.backprop_player((Value(0.5) * 2.0) ** 2, title=title)
    with pytest.raises(ValueError, match=r"^BackpropPlayer: title must be a non-empty str \(the page's heading and "
                                         rf"the frame's name\), got str {title!r}$"):
        BackpropPlayer(player.steps, player.drawing_svg, title=title)


# ---- guards -------------------------------------------------------------------------------------------------------

def test_the_player_class_still_takes_a_title_and_refuses_one_that_is_no_str(player: BackpropPlayer) -> None:
    page = BackpropPlayer(player.steps, player.drawing_svg, title="Lecture 3: w").html()
    assert "<title>Lecture 3: w</title>" in page
    with pytest.raises(TypeError, match=r"^BackpropPlayer: title must be a str, got int 3$"):
        BackpropPlayer(player.steps, player.drawing_svg, title=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^backprop_player: title must be a non-empty str .*got NoneType None$"):
        viz.backprop_player((Value(0.5) * 2.0) ** 2, title=None)  # type: ignore[arg-type]


def _meets(cost: float, f0: float, decrease: float) -> bool:
    """The Armijo condition f(x + t·d) ≤ f(x) + σ·t·∇f(x)ᵀd, and a cost that fell where the decrease rounds away."""
    return cost <= f0 + decrease and (cost < f0 or decrease == 0)


@given(st.lists(st.floats(-3, 3), min_size=1, max_size=4), st.floats(0.05, 0.9), st.floats(0.1, 0.9),
       st.integers(0, 2**32 - 1))
def test_armijo_step_accepts_the_first_step_that_meets_the_condition_for_any_descent_direction(
        point: list[float], sigma: float, alpha: float, seed: int) -> None:
    """The slope ∇f(x)ᵀd in ``f(x + t·d) ≤ f(x) + σ·t·∇f(x)ᵀd``, computed here for f(p) = Σ p⁴ + Σ p² with
    ∇f = 4p³ + 2p, and d = −∇f(x) or another descent direction: every rejected trial fails the condition (or does
    not lower the cost), the accepted one meets it."""
    x = np.array(point)
    gradient = 4 * x**3 + 2 * x
    rng = np.random.default_rng(seed)
    turned = -gradient + 0.3 * np.abs(gradient).max() * rng.uniform(-1, 1, x.shape)
    for direction in (None, turned if gradient @ turned < -1e-6 * (gradient @ gradient) else None):
        d = -gradient if direction is None else direction
        result = armijo_step(lambda p: float((p**4 + p**2).sum()), x, gradient, sigma=sigma, alpha=alpha,
                             direction=direction)
        f0, slope = float((x**4 + x**2).sum()), float(gradient @ d)
        if not gradient.any():  # x + t·d is x: no step, after one trial
            assert result.step is None and len(result.trials) == 1
            continue
        *rejected, last = result.trials
        for k, (t, cost) in enumerate(result.trials):
            assert math.isclose(t, alpha**k) and cost == float(((x + t * d) ** 4 + (x + t * d) ** 2).sum())
        assert not any(_meets(cost, f0, sigma * t * slope) for t, cost in rejected)
        if result.step is not None:
            assert result.step == last[0] and _meets(last[1], f0, sigma * last[0] * slope)


@pytest.mark.parametrize("direction", [[3.0, -1.0], [0.0, 1.0]], ids=["uphill", "orthogonal"])
def test_armijo_step_still_refuses_a_direction_that_does_not_descend(direction: list[float]) -> None:
    with pytest.raises(ValueError, match=r"^armijo_step: direction is no descent direction: ∇f\(x\)ᵀd = "):
        armijo_step(lambda p: float(p @ p), np.array([1.0, 0.0]), np.array([2.0, 0.0]), sigma=0.5, alpha=0.5,
                    direction=np.array(direction))


def _key(drawing: viz.Drawing) -> str:
    return drawing.graph_attr["label"]


def test_the_graph_key_notes_what_its_gradients_and_numbers_show() -> None:
    """computation_graph's key (moved into a helper of its own this round): a note on .grad of another output's
    pass, on passes that add up, on weights changed after the forward pass; none of them for the player, which draws
    the gradients of one pass."""
    w = Value([0.5, -1.0], label="w")
    cost = ((w * 3.0).sum() - 1.0) ** 2
    assert "\n" not in _key(viz.draw_graph(cost))  # only the colours
    other = (w * w).sum()
    other.backward()
    assert "from the backward pass of another output" in _key(viz.draw_graph(cost))
    cost.backward()
    assert "add up over backward passes" in _key(viz.draw_graph(cost))
    assert "add up over backward passes" not in _key(viz.draw_graph(cost, show_grad=False))
    w.zero_grad()
    cost.backward()
    assert "\n" not in _key(viz.draw_graph(cost))
    with no_grad():
        w -= 0.1 * w.grad
    assert "stale: w was changed in place" in _key(viz.draw_graph(cost))
    assert "\n" not in _key(viz.draw_graph(cost, show_data=False))
