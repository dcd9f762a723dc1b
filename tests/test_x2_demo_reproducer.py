"""A teacher reproducing the seed's x² demonstration (section 7.3) with ``python -m tinygrad_edu demo``: other
seeds, the goals it prints, and how each method really trains (the seed: episodes, batches of 5, learning rate)."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import demo, optim
from tinygrad_edu.training import History

SQUARES = np.square(demo.TEST_INPUTS)


def made_run(name: str, *, episodes: int, final: float, error_at_minus_one: float) -> demo.Run:
    """A Run of ``episodes`` episodes ending at cost ``final``, its output at x = −1 off by ``error_at_minus_one``."""
    outputs = SQUARES + np.array([0.0, 0.0, error_at_minus_one, 0.0])
    return demo.Run(name, "by hand", demo.xsquared_network(0), History(cost=[1.0] * episodes, final_cost=final),
                    outputs, 0.5)


# --- the first goal is the seed's three methods', not Newton's a second time -------------------------------------
def test_the_first_goal_is_not_met_by_newton_when_gradient_descent_misses_it() -> None:
    descent = made_run("gradient descent", episodes=50, final=3.5e-5, error_at_minus_one=-0.025)
    newton = made_run("Newton", episodes=50, final=5e-6, error_at_minus_one=-0.0095)
    first, *others = demo.check_goals([descent, newton])
    assert first.text.startswith("a method reaches cost ≤ 0.0003 within 50 episodes")
    assert not first.met and first.detail.startswith("gradient descent: cost 3.50e-05 after 50 episodes")
    assert "0.0250" in first.detail
    (newton_goal,) = [goal for goal in others if "(Newton)" in goal.text]
    assert newton_goal.met


def test_seed_1_gradient_descent_misses_the_goal_at_minus_one_and_the_goals_say_so() -> None:
    """README's honest limits: with seed 1 fixed-η gradient descent ends 0.025 low at x = −1.  The miss is checked
    on the trained model itself, then the goals must not call the seed's goal met."""
    (descent,) = demo.compare_xsquared(seed=1, methods=["gradient descent"])
    newton = made_run("Newton", episodes=50, final=5.45e-6, error_at_minus_one=-0.0095)  # seed 1's Newton run
    at_minus_one = float(descent.model(np.array([[-1.0]])).data.reshape(-1)[0])
    assert 1.0 - at_minus_one > demo.TOLERANCE  # the miss itself, from the model (README: 0.025–0.054 low)
    assert descent.final_cost <= demo.SEED_COST  # its cost alone would meet the goal
    first = demo.check_goals([descent, newton])[0]
    assert not first.met, first.detail
    assert first.detail.startswith("gradient descent:")


def test_a_newton_run_alone_still_gets_its_own_goal_judged() -> None:
    """Guard: Newton's goal is judged from its run (met at cost 5e-6 and error 0.0095, not met at error 0.03)."""
    for error, met in ((-0.0095, True), (-0.03, False)):
        goals = demo.check_goals([made_run("Newton", episodes=50, final=5e-6, error_at_minus_one=error)])
        (newton_goal,) = [goal for goal in goals if "(Newton)" in goal.text]
        assert newton_goal.met is met


# --- how each method really trains (not fit's arguments: the optimizers' steps counted) --------------------------
def test_each_method_makes_the_updates_the_seed_describes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guard: gradient descent makes one update per batch of 5 samples (20 samples: 4 updates an episode, η = 0.15
    each); random search one proposal per episode, Armijo and Newton one step per episode, on all samples."""
    steps: dict[str, list[int]] = {}
    for cls in (optim.RandomSearch, optim.GradientDescent, optim.Armijo, optim.Newton):
        original = cls.step

        def counted(self, *args, _original=original, _name=cls.__name__, **kwargs):  # type: ignore[no-untyped-def]
            steps.setdefault(_name, []).append(1)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "step", counted)
    runs = demo.compare_xsquared(samples=20, seed=3, quick=True)
    episodes = {run.name: run.episodes for run in runs}
    assert episodes == {"random search": 100, "gradient descent": 10, "Armijo": 100, "Newton": 10}
    assert len(steps["GradientDescent"]) == 10 * (20 // 5)
    assert len(steps["RandomSearch"]) == 100
    assert len(steps["Armijo"]) == runs[2].episodes and len(steps["Newton"]) == runs[3].episodes
    assert runs[1].history.step_size == [0.15] * 10
