"""repr of an object whose __init__ raised part way, or that holds odd entries, must not raise: a debugger, a
traceback display or Jupyter shows that repr, and a second error there hides the first one."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_introspection import half_built

from tinygrad_edu import History, Value, nn
from tinygrad_edu.player import BackpropPlayer


class _Scaled(Value):
    """A Value of a user's whose own check comes before Value.__init__."""

    def __init__(self, data, scale):
        if scale <= 0:
            raise ValueError("scale must be positive")
        super().__init__(np.asarray(data) * scale)


@pytest.mark.parametrize("make", [lambda: _Scaled(1.0, -1.0), lambda: Value("abc")],
                         ids=["subclass raised before Value.__init__", "Value.__init__ raised"])
def test_a_value_whose_init_raised_says_it_is_not_initialised(make):
    value = half_built(make, (TypeError, ValueError), Value)  # was AttributeError: no attribute '_data'
    assert repr(value) == "Value(<not initialised>)"
    assert "not initialised" in value._repr_html_()


class _Named(nn.Layer):
    """A layer of a user's that checks its own argument before calling Layer.__init__."""

    def __init__(self, in_size, out_size, tag):
        if not tag:
            raise ValueError("tag must not be empty")
        super().__init__(in_size, out_size, name=tag)


@pytest.mark.parametrize("make", [lambda: _Named(2, 3, ""), lambda: nn.Layer(2, 3, init="bogus")],
                         ids=["subclass raised before Layer.__init__", "Layer.__init__ raised"])
def test_a_layer_whose_init_raised_says_it_is_not_initialised(make):
    layer = half_built(make, ValueError, nn.Layer)  # was AttributeError: no attribute '_name'
    assert repr(layer) == "Layer(<not initialised>)"


@pytest.mark.parametrize("make, name", [
    (lambda: nn.MLP([2, 3], activation="bogus"), "MLP"),
    (lambda: nn.Network(nn.Layer(2, 3), nn.Layer(4, 1)), "Network"),
], ids=["MLP with an unknown activation", "Network of layers that do not fit"])
def test_a_network_whose_init_raised_does_not_pass_for_an_empty_one(make, name):
    network = half_built(make, ValueError, nn.Network)
    assert repr(network) == f"{name}(<not initialised>)"  # was "MLP()  # 0 parameters": a network has layers


def test_a_well_built_layer_and_network_print_as_before():
    layer = nn.Layer(2, 3, activation="relu", name="hidden")
    assert repr(layer) == "Layer(2 → 3, activation='relu', name='hidden')"
    assert repr(nn.Network(layer)) == (  # 2·3 weights + 3 biases = 9 parameters
        "Network(\n  (layers.1): Layer(2 → 3, activation='relu', name='hidden')\n)  # 9 parameters")


def test_a_player_whose_init_raised_says_it_is_not_initialised():
    player = half_built(lambda: BackpropPlayer([], None, title=3), TypeError, BackpropPlayer)  # checks before setting
    assert repr(player) == "<BackpropPlayer: not initialised>"  # was AttributeError: no attribute 'steps'
    assert "not initialised" in player._repr_html_()


@pytest.mark.parametrize("history, shown", [
    (History(cost=["a"]), "episodes=1, first_cost='a', final_cost=None"),  # was ValueError: format code 'g'
    (History(cost=[None], final_cost="x"), "episodes=1, first_cost=None, final_cost='x'"),
    (History(cost=np.array([0.5, 0.25])), "episodes=2, first_cost=0.5, final_cost=None"),  # was: truth value
    (History(cost=None), "cost=None, final_cost=None"),  # was: NoneType has no len()
    (History(cost=[Value([1.0, 2.0])]), "episodes=1, first_cost=Value(data=[1. 2.], grad=None), final_cost=None"),
])
def test_a_history_with_odd_entries_prints_them_as_they_are(history, shown):
    """History is a plain record checked where it is used (plot_history refuses non-numbers), so its repr copes."""
    assert repr(history) == f"History(label='', {shown}, stopped='')"


@pytest.mark.parametrize("cost, shown", [(float("nan"), "nan"), (np.float32(1.5), "1.5"), (Value(2.0), "2"),
                                         (np.int64(3), "3"), (1 / 3, "0.3333")])
def test_a_history_of_single_numbers_prints_them_to_4_digits(cost, shown):
    assert repr(History(cost=[cost], final_cost=cost)) == (
        f"History(label='', episodes=1, first_cost={shown}, final_cost={shown}, stopped='')")


@pytest.mark.parametrize("grad, shown", [("not computed", "'not computed'"),
                                         (np.array([0.5, None], dtype=object), "[0.5 None]")])
def test_a_gradient_set_by_hand_to_no_numbers_is_shown_as_it_is(grad, shown):
    value = Value([1.0, 2.0])
    value.grad = grad  # was ValueError / TypeError from formatting it as numbers
    assert repr(value) == f"Value(data=[1. 2.], grad={shown})"
    assert "<th style='text-align:left'>grad</th>" in value._repr_html_()


@pytest.mark.parametrize("data, shown", [(np.nan, "nan"), (-np.inf, "-inf"), (1e308, "1e+308"),
                                         (np.float32(0.1), "0.1, grad=None, dtype=float32")])
def test_odd_numbers_in_a_value_print_as_themselves(data, shown):
    value = Value(0.0)
    value.data = np.asarray(data)  # replaced after it was made, as an update can
    assert repr(value).startswith(f"Value(data={shown}")
    assert f"<pre style='margin:0'>{shown.split(',')[0]}</pre>" in value._repr_html_()
