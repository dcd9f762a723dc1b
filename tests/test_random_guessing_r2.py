"""A teacher of the seed's section 5 (training by randomly guessing the parameters), second pass: runs random search
on x² with fit and with a loop of one's own, rewinds to a checkpoint, plots the cost of every guess as the seed's
figure does, counts the cost evaluations for a comparison with gradient descent on the same budget, and shows that
guessing needs more guesses the more parameters there are."""

import contextlib
import io
import json
import re
from pathlib import Path

import numpy as np

from tinygrad_edu import Value, fit, nn, no_grad, optim, seeds
from tinygrad_edu.data import xsquared
from tinygrad_edu.losses import squared_error

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "03_cost_and_random_guessing.ipynb"


def _network() -> nn.Network:
    return nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=2)


# ------------------------------------------------------------------------------------------------ defects (xfail)


def test_a_search_rewound_to_a_checkpoint_goes_on_as_the_run_it_left() -> None:
    x, y = xsquared(32, seed=1)
    net = _network()
    search = optim.RandomSearch(net, scale=0.3, rng=seeds.second_stream(4))

    def closure() -> Value:
        return squared_error(net(x), y)

    for _ in range(10):
        search.step(closure, cost=search.last_cost)
    model_state = {name: array.copy() for name, array in net.state_dict().items()}
    search_state, kept_before = search.state_dict(), search.accepted
    for _ in range(10):
        search.step(closure, cost=search.last_cost)
    straight, counts = [p.data.copy() for p in net.parameters()], (search.accepted, search.proposals)
    assert search.accepted > kept_before  # (the steps after the checkpoint kept changes: its cost is not the last)

    net.load_state_dict(model_state)  # back to the checkpoint, both of them, and the same ten steps again
    search.load_state_dict(search_state)
    with no_grad():
        at_checkpoint = closure().item()
    assert search.last_cost is None or search.last_cost == at_checkpoint
    for _ in range(10):
        search.step(closure, cost=search.last_cost)
    assert (search.accepted, search.proposals) == counts
    for a, p in zip(straight, net.parameters(), strict=True):
        np.testing.assert_array_equal(a, p.data)


def test_the_cost_of_every_guess_is_reported_kept_or_not() -> None:
    x, y = xsquared(64, seed=0)
    net = _network()
    search = optim.RandomSearch(net, scale=0.3, rng=seeds.second_stream(7))
    returned: list[float] = []

    def closure() -> Value:
        cost = squared_error(net(x), y)
        returned.append(cost.item())
        return cost

    proposed, kept = [], []
    for _ in range(30):
        search.step(closure, cost=search.last_cost)
        proposed.append(search.last_proposal_cost)
        kept.append(search.last_cost)
    # the closure's first call is the start's cost, each later one a guess's: the numbers the seed's figure draws
    assert proposed == returned[1:]
    assert all((p == k) if a else (p >= k) for p, k, a in zip(proposed, kept, np.diff([returned[0], *kept]) < 0))
    assert max(proposed[10:]) > kept[0] > kept[-1]  # late guesses cost more than the start, as in the seed's figure
    assert type(proposed[0]) is float and json.dumps(proposed)


def test_notebook_3_counts_every_episode_s_guess() -> None:
    cells = [cell for cell in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"] if cell["cell_type"] == "code"]
    count = "".join(cells[-1]["source"])
    x, y = xsquared(64, seed=0)
    net = _network()
    search = optim.RandomSearch(net, scale=0.2, rng=seeds.second_stream(0))
    history = fit(net, x, y, optimizer=search, episodes=30, progress=False)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(count, {"np": np, "history": history, "search": search})  # noqa: S102 (the notebook's own cell)
    found = re.search(r"(\d+) of (\d+) episodes improved the cost, (\d+) raised it", printed.getvalue())
    assert found is not None
    assert tuple(map(int, found.groups())) == (search.accepted, search.proposals, 0) == (search.accepted, 30, 0)


# ------------------------------------------------------------------------------------------------------ guards


def test_fit_evaluates_the_cost_twice_per_guess_and_once_at_the_end() -> None:
    """The budget of a comparison with gradient descent: fit's random search calls the model once for the cost at
    the start of each episode and once for the guess; gradient descent once per episode; both once more for
    final_cost."""
    x, y = xsquared(64, seed=0)
    calls = {"random": 0, "gd": 0}

    def counted(name: str, net: nn.Network):
        def model(inputs: Value) -> Value:
            calls[name] += 1
            return net(inputs)
        return model

    random_net, descent_net = _network(), _network()
    search = optim.RandomSearch(random_net, scale=0.2, rng=seeds.second_stream(1))
    fit(counted("random", random_net), x, y, optimizer=search, episodes=20, progress=False)
    fit(counted("gd", descent_net), x, y, optimizer=optim.GradientDescent(descent_net, learning_rate=0.1),
        episodes=20, progress=False)
    assert calls == {"random": 2 * 20 + 1, "gd": 20 + 1}
    assert search.proposals == 20 and 0 < search.accepted < 20


def test_guessing_needs_more_guesses_the_more_parameters_it_guesses() -> None:
    """The lesson of section 5, measured: from w = 1 to a mean square of 0.1 with changes of ±0.1 per number, the
    median number of guesses grows with the number of parameters (2, 10, 50), and so does the share rejected."""
    def guesses(n: int, seed: int) -> tuple[int, float]:
        w = Value(np.ones(n))
        search = optim.RandomSearch([w], scale=0.1, rng=seed)
        while search.last_cost is None or search.last_cost > 0.1:
            search.step(lambda: (w * w).mean(), cost=search.last_cost)
            assert search.proposals < 5000
        return search.proposals, 1 - search.accepted / search.proposals

    runs = {n: [guesses(n, seed) for seed in range(5)] for n in (2, 10, 50)}
    median = {n: float(np.median([proposals for proposals, _ in found])) for n, found in runs.items()}
    rejected = {n: float(np.mean([share for _, share in found])) for n, found in runs.items()}
    assert median[2] < median[10] < median[50] and median[50] > 3 * median[2]
    assert rejected[2] < rejected[10] < rejected[50]
