"""Round 48, the lead's own: ``train --cost-goal`` that the episodes end before says so (it read "all episodes run",
as if no goal had been given)."""

from __future__ import annotations

from pathlib import Path

from tinygrad_edu.cli import main


def test_train_whose_episodes_end_above_the_cost_goal_says_the_goal_was_not_reached(capsys, tmp_path: Path) -> None:
    assert main(["train", "--samples", "50", "--episodes", "3", "--cost-goal", "1e-9",
                 "-o", str(tmp_path / "m.npz")]) == 0
    report = capsys.readouterr().out.splitlines()[1]
    assert report.startswith("3 episodes in ")
    assert "(all episodes run, no episode's cost at or below --cost-goal 1e-09, the last's " in report


def test_train_without_a_cost_goal_still_says_only_that_all_episodes_ran(capsys, tmp_path: Path) -> None:
    assert main(["train", "--samples", "50", "--episodes", "3", "-o", str(tmp_path / "m.npz")]) == 0
    assert "(all episodes run): cost " in capsys.readouterr().out.splitlines()[1]
