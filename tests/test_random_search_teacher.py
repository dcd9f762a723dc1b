"""A teacher of the seed's section 5 (training by randomly guessing the parameters) runs optim.RandomSearch on x² and
a small network, with fit and with a hand loop in a notebook: counts the closure's calls against the docstring,
interrupts a loop, saves and resumes the search, and reads what the docs promise about its steps and its state."""

import inspect
import io
import re
import signal
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Value, autodiff, fit, nn, no_grad, optim, seeds
from tinygrad_edu.data import xsquared
from tinygrad_edu.losses import squared_error

README = Path(__file__).resolve().parent.parent / "README.md"


def _network() -> nn.MLP:
    return nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", rng=0)


# ------------------------------------------------------------------------------------------------ defects (fixed)


def test_ctrl_c_while_a_rejected_guess_is_undone_takes_effect_once_every_parameter_is_back(monkeypatch) -> None:
    a, b = Value(np.zeros(3)), Value(np.ones(2))
    search = optim.RandomSearch([a, b], scale=0.5, rng=0)

    def restore_pressing_ctrl_c(params: list[Value], start: list[np.ndarray]) -> None:
        """optim._restore, with Ctrl-C pressed (Jupyter's interrupt) after the first parameter is back."""
        with no_grad():
            for i, (p, x) in enumerate(zip(params, start, strict=True)):
                p[...] = x
                if i == 0:
                    signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(optim, "_restore", restore_pressing_ctrl_c)
    costs = iter([1.0, 2.0])  # the guess is worse: undone
    with pytest.raises(KeyboardInterrupt):
        search.step(lambda: next(costs))
    np.testing.assert_array_equal(a.data, np.zeros(3))
    np.testing.assert_array_equal(b.data, np.ones(2))
    assert (search.proposals, search.accepted, search.last_accepted, search.last_cost) == (1, 0, False, 1.0)


def test_a_closure_that_needs_recording_is_tried_without_it_once_per_step() -> None:
    """Docstring: the costs before and after are two calls of the closure; one that needs recording is tried under
    no_grad first (where it fails): one call more per step, not one more for each of the two costs."""
    w = Value([[0.5]])
    x = np.linspace(-1.0, 1.0, 5).reshape(-1, 1)
    calls = 0

    def closure() -> Value:  # a physics-informed cost: du/dx should be 1
        nonlocal calls
        calls += 1
        xx = Value(x)
        (du,) = autodiff.gradients((xx * w).tanh().sum(), [xx], create_graph=True)
        return ((du - 1.0) ** 2).mean()

    search = optim.RandomSearch([w], scale=0.1, rng=0)
    for _ in range(5):
        search.step(closure)
    assert calls == 5 * 3
    assert "one call more per step" in inspect.getdoc(optim.RandomSearch)
    calls = 0
    search.step(closure, cost=search.last_cost)  # cost= given: only the change's cost, tried once without recording
    assert calls == 2


def test_the_docs_say_random_search_changes_parameters_that_hold_no_gradient() -> None:
    w, frozen = Value(np.zeros(4)), Value(np.zeros(2), requires_grad=False)
    costs = iter([1.0, 0.0])  # the guess is kept
    optim.RandomSearch([w, frozen], scale=0.1, rng=1).step(lambda: next(costs))
    assert w.grad is None and np.all(w.data != 0)  # changed without any gradient
    assert not frozen.data.any()
    text = " ".join(optim.__doc__.split())
    where = text.index("whose ``grad`` is None")  # the sentence saying what updates leave alone
    sentence = text[text.rindex(". ", 0, where):text.index(". ", where)]
    assert "random search" in sentence, sentence


def test_readme_says_which_states_are_refused_for_parameters_of_another_shape() -> None:
    small, wide = _network(), nn.MLP([2, 7, 3], rng=0).float()
    saved = optim.RandomSearch(small, rng=seeds.second_stream(0)).state_dict()
    other = optim.RandomSearch(wide, rng=5)
    other.load_state_dict(saved)  # 4 parameters each: it loads, and the search goes on with the saved stream
    assert other.rng.random() == seeds.second_stream(0).random()
    text = " ".join(README.read_text(encoding="utf-8").split())
    claim = re.search(r"a state of another kind of optimizer, .*?changing nothing", text)
    assert claim is not None
    assert "shape or dtype" not in claim.group(0) or "velocit" in claim.group(0), claim.group(0)


# ------------------------------------------------------------------------------------------------------ guards


def test_a_hand_loop_passing_last_cost_makes_fit_s_steps_with_one_call_each() -> None:
    """The hand loop of a notebook, ``step(closure, cost=search.last_cost)``: one call of the closure per step
    after the first (two), and the same guesses, kept and undone, as fit's episodes: the same network bit for bit."""
    x, y = xsquared(64, seed=0)
    by_fit, by_hand = _network(), _network()
    fitted = optim.RandomSearch(by_fit, scale=0.2, rng=seeds.second_stream(3))
    fit(by_fit, x, y, optimizer=fitted, episodes=25, progress=False)
    search = optim.RandomSearch(by_hand, scale=0.2, rng=seeds.second_stream(3))
    calls = 0

    def closure() -> Value:
        nonlocal calls
        calls += 1
        return squared_error(by_hand(x), y)

    for _ in range(25):
        search.step(closure, cost=search.last_cost)
    assert calls == 2 + 24
    assert (search.accepted, search.proposals) == (fitted.accepted, fitted.proposals) and 0 < search.accepted < 25
    for p, q in zip(by_fit.parameters(), by_hand.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)
    with no_grad():
        assert squared_error(by_hand(x), y).item() == search.last_cost


def test_a_search_saved_mid_run_resumes_with_the_guesses_of_the_run_it_left(tmp_path: Path) -> None:
    """Save the network and the search after 10 of 20 steps, load both into new objects: the last 10 steps make
    the uninterrupted run's network; another seed guesses otherwise."""
    x, y = xsquared(32, seed=1)

    def run(seed: int, stop_after: int | None = None) -> list[np.ndarray]:
        net = _network()
        search = optim.RandomSearch(net, scale=0.3, rng=seeds.second_stream(seed))
        for step in range(20):
            if step == stop_after:
                net.save(tmp_path / "net.npz")
                file = io.BytesIO()
                np.savez(file, **search.state_dict())
                file.seek(0)
                net = nn.load(tmp_path / "net.npz")
                search = optim.RandomSearch(net, rng=99)  # its own scale and stream, replaced by the saved ones
                search.load_state_dict(np.load(file, allow_pickle=False))
            search.step(lambda model=net: squared_error(model(x), y))
        assert search.proposals == 20
        return [p.data.copy() for p in net.parameters()]

    straight = run(4)
    for a, b in zip(straight, run(4, stop_after=10), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not all(np.array_equal(a, b) for a, b in zip(straight, run(5), strict=True))
