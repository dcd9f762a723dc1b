"""The x² demonstration's second-order row (Newton's method, seed 6.1 and 6.2) meets the seed's goal.

Its settings were chosen on seeds 0-19; seeds 100-119 were held out (20 of 20 met the goal there, see README).
Three held-out seeds are checked here; time is not (the machine running the tests may be busy).
"""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import demo


@pytest.mark.parametrize("seed", [101, 108, 111])
def test_newton_meets_the_seeds_goal_within_50_episodes(seed: int) -> None:
    (run,) = demo.compare_xsquared(seed=seed, methods=["Newton"])
    assert run.name == "Newton" and run.episodes <= demo.GOAL_EPISODES
    assert run.final_cost <= demo.SEED_COST
    assert float(np.abs(run.outputs - np.square(demo.TEST_INPUTS)).max()) <= demo.TOLERANCE
    assert all(after <= before for before, after in zip(run.history.cost, run.history.cost[1:]))
    goals = {goal.text: goal.met for goal in demo.check_goals([run])}
    assert goals["the second-order method (Newton) reaches the same goal within 50 episodes"]


def test_methods_must_be_known_names() -> None:
    with pytest.raises(ValueError, match="compare_xsquared: methods must be a list of names"):
        demo.compare_xsquared(methods=["newton"])
