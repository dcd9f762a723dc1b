"""The round's lead: backprop_player warns before a slow layout, as draw_graph does (one wording, the user's line)."""
from __future__ import annotations

import warnings

import pytest

from tinygrad_edu import viz
from tinygrad_edu.engine import Value


def _long_sum(n: int) -> Value:
    total = Value(0.0)
    for i in range(n):
        total = total + Value(float(i), requires_grad=True)
    return total


def test_the_player_warns_of_a_slow_layout_before_it_starts_naming_the_count_and_a_smaller_drawing(monkeypatch) -> None:
    """Over 1,000 drawn Values the player's page waited up to its 60 s timeout with no word; now it says so first, from
    the caller's line, and stops at nothing: the test stops the work right after the warning."""
    class Stop(Exception):
        pass

    def stop(*args, **kwargs):
        raise Stop

    monkeypatch.setattr(viz, "_user_names", stop)  # (the first call after the warning: no layout is made)
    with pytest.warns(UserWarning, match=r"^backprop_player: 1,201 Values to draw, more than 1,000: ") as caught:
        with pytest.raises(Stop):
            viz.backprop_player(_long_sum(600), max_nodes=2000)
    message = str(caught[0].message)
    assert "max_nodes=" in message and "one sample's cost" in message and "draw_network" not in message
    assert caught[0].filename == __file__


def test_the_player_of_a_thousand_values_or_fewer_does_not_warn(monkeypatch) -> None:
    class Stop(Exception):
        pass

    def stop(*args, **kwargs):
        raise Stop

    monkeypatch.setattr(viz, "_user_names", stop)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(Stop):
            viz.backprop_player(_long_sum(499), max_nodes=2000)  # 499 parameters, 499 sums, the start: 999 Values


def test_draw_graph_keeps_its_warning_from_the_callers_line() -> None:
    with pytest.warns(UserWarning, match=r"^draw_graph: 1,201 Values to draw, more than 1,000: .*draw_network\(model\)$"
                      ) as caught:
        viz.draw_graph(_long_sum(600), max_nodes=2000)
    assert caught[0].filename == __file__
