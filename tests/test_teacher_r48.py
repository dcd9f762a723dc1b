"""A teacher preparing a lesson on the seed after round 47 (sections 7.1 to 7.4: the learning algorithm, when to
stop, batches; the x² demonstration; notebook 7's cost of a Hessian).

Defects (each test below failed before its fix):
- the seed's 7.1 says "the number of episodes can be hard-coded or related to the cost value", but fit stopped only
  on ``episodes`` and on ``‖∇C‖ ≤ tol``: it now takes ``cost_goal`` and stops at the first episode whose cost is at
  or below it (``stopped`` "cost goal"); full batch before that episode's update, mini-batches after the episode's
  updates, on its average cost, as ``tol`` is checked; ``train --cost-goal C`` on the command line;
- the demo's batches-of-5 run was described as "(assignment §7.1, §7.4)", where 7.1's gradient descent takes all
  samples at once: its fixed η is 7.2's learning rate and its batches 7.4's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import demo, nn, optim
from tinygrad_edu.cli import main
from tinygrad_edu.training import History, fit

X = np.linspace(-1, 1, 50).reshape(-1, 1)
ROOT = Path(__file__).resolve().parent.parent


def _net() -> nn.MLP:
    return nn.MLP([1, 8, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)


def _train(episodes: int = 40, batch_size: int | None = None, **options: float) -> tuple[History, nn.MLP]:
    net = _net()
    history = fit(net, X, X**2, optimizer=optim.GradientDescent(net, learning_rate=0.1), episodes=episodes,
                  batch_size=batch_size, seed=0, progress=False, **options)
    return history, net


def _first_at_or_below(costs: list[float], goal: float) -> int:
    return next(i for i, cost in enumerate(costs) if cost <= goal)


@pytest.mark.parametrize("shift", [0.0, 1e-9], ids=["goal equal to a cost", "goal just below a cost"])
def test_full_batch_stops_at_the_first_episode_at_or_below_the_cost_goal_before_its_update(shift) -> None:
    plain, _ = _train()
    goal = plain.cost[15] - shift
    k = _first_at_or_below(plain.cost, goal)  # 15 where the goal is that cost, 16 just below it
    stopped, net = _train(cost_goal=goal)
    assert stopped.stopped == "cost goal" and stopped.episodes == k + 1
    assert stopped.cost == plain.cost[:k + 1]  # not before, and the same episodes
    assert stopped.step_size[-1] is None and stopped.final_cost == stopped.cost[-1] <= goal  # no update made
    _, fewer = _train(episodes=k)  # the parameters of the run whose last update was episode k's
    for p, q in zip(net.parameters(), fewer.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_mini_batches_stop_after_the_first_episode_whose_average_cost_is_at_or_below_the_goal() -> None:
    plain, _ = _train(batch_size=10)
    goal = plain.cost[15]
    k = _first_at_or_below(plain.cost, goal)
    stopped, net = _train(batch_size=10, cost_goal=goal)
    assert stopped.stopped == "cost goal" and stopped.episodes == k + 1
    assert stopped.cost == plain.cost[:k + 1] and stopped.step_size[-1] == 0.1
    _, same = _train(episodes=k + 1, batch_size=10)  # that episode's updates all happen
    for p, q in zip(net.parameters(), same.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_a_goal_never_reached_runs_all_episodes_and_one_met_at_the_start_makes_no_update() -> None:
    never, _ = _train(episodes=5, cost_goal=1e-12)
    assert never.stopped == "episodes" and never.episodes == 5
    at_once, net = _train(episodes=5, cost_goal=10.0)
    assert at_once.stopped == "cost goal" and at_once.episodes == 1
    for p, q in zip(net.parameters(), _net().parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_cost_goal_and_tol_stop_at_whichever_comes_first_the_cost_named_when_both_hold() -> None:
    plain, _ = _train()
    both, _ = _train(cost_goal=plain.cost[10], tol=plain.gradient_norm[10])
    assert both.episodes == _first_at_or_below(plain.cost, plain.cost[10]) + 1 and both.stopped == "cost goal"
    tol_first, _ = _train(cost_goal=plain.cost[30], tol=plain.gradient_norm[5])
    assert tol_first.stopped == "tol" and tol_first.episodes < 31


def test_ctrl_c_ends_training_before_a_goal_met_later_and_wins_over_one_met_by_the_interrupted_episode(
        monkeypatch) -> None:
    from helpers_interrupts import press_ctrl_c_at_the_first_step

    plain, _ = _train()
    press_ctrl_c_at_the_first_step(monkeypatch, [optim.GradientDescent])
    full, _ = _train(cost_goal=plain.cost[1])  # full batch: met in episode 2; Ctrl-C in episode 1's update
    assert full.stopped == "interrupted" and full.episodes == 1
    press_ctrl_c_at_the_first_step(monkeypatch, [optim.GradientDescent])
    batches, _ = _train(batch_size=10, cost_goal=10.0)  # the first batch's cost alone is below 10
    assert batches.stopped == "interrupted" and batches.episodes == 1 and batches.cost[0] <= 10.0


@pytest.mark.parametrize(("goal", "error", "words"), [
    (float("nan"), ValueError, "fit: cost_goal must be finite, got nan"),
    (float("inf"), ValueError, "fit: cost_goal must be finite, got inf"),
    ("0.01", TypeError, "fit: cost_goal must be a number, got str '0.01'"),
    (True, TypeError, "fit: cost_goal must be a number, got bool True"),
])
def test_a_bad_cost_goal_is_refused_naming_fit_and_the_value(goal, error, words) -> None:
    with pytest.raises(error) as caught:
        _train(episodes=2, cost_goal=goal)
    assert str(caught.value) == words


def test_a_negative_cost_goal_is_allowed_for_a_cost_of_ones_own_that_goes_below_zero() -> None:
    def shifted(goal: float | None) -> History:
        net = _net()
        return fit(net, X, X**2, cost=lambda out, t: ((out - t) ** 2).mean() - 1.0,
                   optimizer=optim.GradientDescent(net, learning_rate=0.1), episodes=30, cost_goal=goal,
                   progress=False)

    plain = shifted(None)
    assert plain.cost[10] < 0
    history = shifted(plain.cost[10])
    assert history.stopped == "cost goal" and history.cost == plain.cost[:11]


def test_the_command_line_trains_to_a_cost_goal_and_says_why_it_stopped(capsys, tmp_path) -> None:
    assert main(["train", "--samples", "50", "--episodes", "300", "--cost-goal", "0.05",
                 "-o", str(tmp_path / "m.npz")]) == 0
    out = capsys.readouterr().out
    assert "300 episodes at most, until the cost is at or below 0.05, all samples per update" in out.splitlines()[0]
    assert "(stopped: cost at or below --cost-goal)" in out
    episodes = int(out.splitlines()[1].split(" episode")[0])
    assert 1 < episodes < 300


@pytest.mark.parametrize("given", ["0", "-1", "nan", "inf"])
def test_the_command_line_refuses_a_cost_goal_that_is_not_a_positive_number(capsys, given) -> None:
    assert main(["train", f"--cost-goal={given}"]) == 2
    assert "--cost-goal: must be a positive number" in capsys.readouterr().err


def test_the_demos_batch_run_cites_the_learning_rate_and_batches_not_71s_all_samples() -> None:
    description = dict((run[0], run[1]) for run in demo._METHODS)["gradient descent"]
    assert "§7.1," not in description and "§7.2" in description and "§7.4" in description
    assert "batches of 5 samples" in description


def test_the_hessian_tests_docstring_gives_the_multiple_notebook_7_says() -> None:
    notebook = json.loads((ROOT / "notebooks" / "07_second_derivatives.ipynb").read_text(encoding="utf-8"))
    prose = " ".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "markdown")
    assert "about three times $n$" in " ".join(prose.split())
    docstring = (ROOT / "tests" / "test_hessian_r41.py").read_text(encoding="utf-8").split('"""')[1]
    assert "2-3 n" not in docstring and "about 3 n" in docstring


def test_notebook_06_shows_the_cost_goal_where_it_teaches_71_and_its_cell_stops_there() -> None:
    cells = json.loads((ROOT / "notebooks" / "06_training.ipynb").read_text(encoding="utf-8"))["cells"]
    sources = ["".join(cell["source"]) for cell in cells]
    start = next(i for i, s in enumerate(sources) if s.startswith("## The learning algorithm (7.1)"))
    end = next(i for i, s in enumerate(sources) if s.startswith("## The learning rate (7.2)"))
    [cell] = [i for i in range(start, end) if "cost_goal=" in sources[i] and cells[i]["cell_type"] == "code"]
    assert "related to the cost value" in sources[cell - 1]
    shown: list[str] = []
    namespace: dict = {"print": lambda *args: shown.append(" ".join(map(str, args)))}
    exec(sources[1], namespace)  # the notebook's imports, samples and network()
    exec(sources[cell], namespace)
    history = namespace["to_goal"]
    assert history.stopped == "cost goal" and history.cost[-1] <= 0.005 < min(history.cost[:-1])
    assert shown == [f"stopped: 'cost goal' in episode {history.episodes} of at most 1000; cost "
                     f"{history.cost[-2]:.5f} in the episode before, {history.cost[-1]:.5f} in the last (no update "
                     "made there)"]
