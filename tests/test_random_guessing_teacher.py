"""A teacher of the seed's section 5 (training by randomly guessing the parameters) uses optim.RandomSearch, fit, the
demo and the CLI to show a class that guessing works for a tiny network: the guesses must be what the docstring says,
a guess kept only when it lowers the cost, the History true, and the errors say what is really wrong."""

import math
import re
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Value, demo, fit, nn, no_grad, optim
from tinygrad_edu.cli import main
from tinygrad_edu.data import xsquared
from tinygrad_edu.losses import squared_error

README = Path(__file__).resolve().parent.parent / "README.md"


def _proposal(params: list[Value], scale: float, rng: int) -> list[np.ndarray]:
    """The change one accepted step of RandomSearch made to each of ``params``."""
    before = [p.data.copy() for p in params]
    costs = iter([1.0, 0.0])  # the change lowers the cost: kept
    search = optim.RandomSearch(params, scale=scale, rng=rng)
    search.step(lambda: next(costs))
    assert search.last_accepted and search.accepted == 1
    return [p.data.astype(np.float64) - b.astype(np.float64) for p, b in zip(params, before)]


# ------------------------------------------------------------------------------------------------ defects (xfail)


def test_a_nan_cost_to_start_from_is_not_blamed_on_a_learning_rate() -> None:
    w = Value([1.0, 2.0])
    search = optim.RandomSearch([w], scale=0.1, rng=0)
    with pytest.raises(FloatingPointError, match=r"^RandomSearch\.step: the cost is nan") as caught:
        search.step(lambda: (w * w).sum() * float("nan"))
    message = str(caught.value)
    assert "learning rate" not in message and "step size" not in message
    assert "finite" in message
    assert w.data.tolist() == [1.0, 2.0] and search.proposals == 0


def test_a_guess_whose_cost_is_minus_infinity_is_not_kept() -> None:
    w = Value([1.0, 2.0])
    search = optim.RandomSearch([w], scale=0.1, rng=0)
    costs = iter([5.0, -math.inf])
    search.step(lambda: next(costs))
    assert search.last_accepted is False and search.accepted == 0 and search.proposals == 1
    assert w.data.tolist() == [1.0, 2.0] and search.last_cost == 5.0
    search.step(lambda: (w * w).sum())  # the next step starts from a finite cost again


def test_a_step_with_every_parameter_frozen_is_refused() -> None:
    net = nn.MLP([1, 3, 1], rng=0).requires_grad_(False)
    frozen = [p for layer in net for p in (layer.weights, layer.biases)]
    search = optim.RandomSearch(frozen, scale=0.1, rng=0)
    x = np.array([[0.5]])
    with pytest.raises(ValueError, match=r"^RandomSearch\.step: every parameter is frozen"):
        search.step(lambda: squared_error(net(x), np.array([[0.25]])))
    assert search.proposals == 0


def test_train_advice_does_not_say_random_search_kept_nothing_when_it_kept_changes(
        capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    assert main(["train", "--samples", "20", "--hidden", "3", "--optimizer", "random", "--learning-rate", "1e-9",
                 "--episodes", "20", "-o", str(path)]) == 0
    out = capsys.readouterr().out
    start = nn.MLP([1, 3, 1], activation="leaky_relu", output_activation="identity", init="he", rng=0)
    trained = nn.load(path)
    moved = sum(not np.array_equal(a.data, b.data) for a, b in zip(start.parameters(), trained.parameters()))
    assert moved > 0  # so at least one change was kept
    assert "kept none" not in out
    kept = re.search(r"random search kept (\d+) of its 20 changes", out)
    assert kept is not None and int(kept.group(1)) >= 1


# ------------------------------------------------------------------------------------------------------ guards


def test_guesses_of_a_float32_model_are_uniform_in_the_scale_and_stay_float32() -> None:
    """Docstring: every parameter changes by a uniform amount in [−scale, scale): mean 0, standard deviation
    scale/√3 (generous margins, fixed seed); a float32 parameter stays float32."""
    w, b = Value(np.zeros((200, 100), dtype=np.float32)), Value(np.zeros(20000, dtype=np.float32))
    changes = _proposal([w, b], scale=0.3, rng=11)
    assert w.dtype == b.dtype == np.float32
    for change in changes:
        assert abs(change.mean()) < 0.01
        assert abs(change.std() - 0.3 / math.sqrt(3)) < 0.01
        assert np.abs(change).max() <= 0.3 * (1 + 1e-6) and np.abs(change).max() > 0.29
    # each parameter gets guesses of its own, not the same numbers again
    assert abs(np.corrcoef(changes[0].ravel(), changes[1])[0, 1]) < 0.05


def test_a_shared_parameter_gets_one_guess_and_a_frozen_one_none() -> None:
    """A Value given twice is changed once (the sum of two uniform draws would spread √2 times wider); a frozen
    Value is left alone while the others change."""
    shared, frozen = Value(np.zeros(20000)), Value(np.ones(5), requires_grad=False)
    (change, _, frozen_change) = _proposal([shared, shared, frozen], scale=0.2, rng=3)
    assert abs(change.std() - 0.2 / math.sqrt(3)) < 0.01 and np.abs(change).max() < 0.2
    assert not frozen_change.any()


def test_a_tie_is_no_improvement_and_is_undone_bit_for_bit() -> None:
    w = Value(np.array([0.1, -0.7, 3.3]))
    before = w.data.copy()
    search = optim.RandomSearch([w], scale=0.5, rng=2)
    for _ in range(5):
        search.step(lambda: 4.0)
    assert (search.accepted, search.proposals, search.last_accepted, search.last_cost) == (0, 5, False, 4.0)
    np.testing.assert_array_equal(w.data, before)


def test_the_guesses_repeat_with_a_seed_whatever_else_draws_random_numbers() -> None:
    def changes(draw_elsewhere: bool) -> np.ndarray:
        w = Value(np.zeros(50))
        search = optim.RandomSearch([w], scale=0.1, rng=8)
        kept = iter([1.0, 0.0, 0.0, -1.0])
        if draw_elsewhere:
            np.random.rand(7)
            nn.MLP([1, 4, 1], rng=8)
        search.step(lambda: next(kept))
        if draw_elsewhere:
            np.random.default_rng(8).random(3)
        search.step(lambda: next(kept))
        return w.data.copy()

    first = changes(False)
    np.testing.assert_array_equal(first, changes(True))
    expected = np.random.default_rng(8).uniform(-0.1, 0.1, (2, 50)).sum(axis=0)  # both guesses kept
    np.testing.assert_allclose(first, expected, rtol=0, atol=1e-15)


def test_fit_history_of_random_search_is_true() -> None:
    """History.cost is the cost before each episode's guess, non-increasing; it falls exactly where a guess was kept;
    final_cost is the cost of the parameters left; step_size is None."""
    x, y = xsquared(64, seed=1)
    net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=2)
    with no_grad():
        start = squared_error(net(x), y).item()
    search = optim.RandomSearch(net, scale=0.2, rng=9)
    history = fit(net, x, y, optimizer=search, episodes=40, progress=False)
    with no_grad():
        end = squared_error(net(x), y).item()
    costs = [*history.cost, history.final_cost]
    assert history.cost[0] == start and history.final_cost == end == search.last_cost
    assert all(later <= earlier for earlier, later in zip(costs, costs[1:]))
    assert sum(later < earlier for earlier, later in zip(costs, costs[1:])) == search.accepted
    assert search.proposals == 40 and 0 < search.accepted < 40
    assert history.step_size == [None] * 40


def test_the_readme_s_random_search_row_is_what_the_demo_gives() -> None:
    """README's table: random search, 500 episodes, its final cost and the four test outputs."""
    row = next(line for line in README.read_text(encoding="utf-8").splitlines()
               if line.startswith("| random search"))
    cells = [cell.strip().replace("\u2212", "-") for cell in row.strip("|").split("|")]  # README writes − for -
    (run,) = demo.compare_xsquared(methods=["random search"])
    assert cells[1] == str(run.episodes) == "500"
    assert cells[2] == f"{run.final_cost:.2e}"
    assert cells[3:7] == [f"{y:.4f}" for y in run.outputs]
    readme_descent = next(line for line in README.read_text(encoding="utf-8").splitlines()
                          if line.startswith("| gradient descent"))
    assert float(readme_descent.split("|")[3]) < run.final_cost  # the comparison the table shows
