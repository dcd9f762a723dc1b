"""Round 46's loose ends in detect_anomaly's hold, the optimizers and training, each test failing before its fix:

- An optimizer's step refused because a walk under ``detect_anomaly`` holds the parameters read-only said "in
  another thread" also for a step a vjp of that walk runs, in the same thread.
- Two threads walking one graph under ``detect_anomaly``: the first to end made the arrays writeable again while the
  other still walked; the hold now counts its walks, and the last one out lets go.
- Under ``np.errstate(invalid="raise")`` an Adam update whose m̂/(√v̂ + ε) is inf/inf (NaN) is refused before any
  parameter changes, and the error named no parameter; it names the one being updated.
- Random search's x + u overflowing under a caller's errstate said "the steps diverged", as if it took gradient
  steps; it says what happened in its terms: the numbers grew, each change kept because the cost fell.
- ``sum(histories)`` copies the run so far at each ``+`` (quadratic); ``History.concatenate`` gives the same History
  in one pass, and ``+`` is made of it.
- ``nn.MLP([64, 32, 10])`` from the seed's uniform start saturates its sigmoids on the digits (z of tens), and fit
  trained almost nothing without a word; it warns once, at training's start, naming the layer and init='xavier'.
"""
from __future__ import annotations

import contextlib
import math
import warnings

import numpy as np
import pytest
from helpers_threads import a_walk_held_in_another_thread

from tinygrad_edu import Op, Value, apply, data, detect_anomaly, engine, fit, nn, optim
from tinygrad_edu.losses import squared_error
from tinygrad_edu.training import History


def test_a_step_in_a_vjp_of_the_walk_holding_its_parameters_names_this_thread_not_another() -> None:
    w = Value(np.ones(3))
    w.grad = np.full(3, 0.5)
    optimizer = optim.SGD([w], 0.1)
    refused: list[BaseException] = []

    def stepping(g: np.ndarray, out: np.ndarray, x: np.ndarray) -> np.ndarray:
        assert engine.held_by_a_walk(x, in_this_thread=True) and not engine.held_by_a_walk(x, in_this_thread=False)
        with pytest.raises(ValueError) as e:
            optimizer.step()
        refused.append(e.value)
        return g
    with detect_anomaly():
        (apply(Op("stepping", lambda x: x * 1.0, stepping), w).sum()).backward()
    message = str(refused[0])
    assert "in another thread" not in message, message
    assert "detect_anomaly in this thread, whose vjp or hook runs this step" in message, message
    assert "step after backward() returns; the parameters are unchanged" in message, message
    np.testing.assert_array_equal(w.data, np.ones(3))


def test_held_by_a_walk_of_another_thread_is_not_held_in_this_one() -> None:
    w = Value(np.ones(2))
    with a_walk_held_in_another_thread(w):
        assert engine.held_by_a_walk(w.data) and engine.held_by_a_walk(w.data, in_this_thread=False)
        assert not engine.held_by_a_walk(w.data, in_this_thread=True)
    assert not engine.held_by_a_walk(w.data) and w.data.flags.writeable


def test_held_by_a_walk_refuses_an_in_this_thread_that_is_not_a_bool() -> None:
    with pytest.raises(TypeError, match="held_by_a_walk: in_this_thread must be None, True or False, got"):
        engine.held_by_a_walk(np.ones(2), in_this_thread="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize("view", [False, True], ids=["array", "a view of it in the first walk only"])
def test_the_first_of_two_threads_walking_one_graph_to_end_leaves_it_read_only_for_the_other(view: bool) -> None:
    """This thread's walk freezes w; in its vjp another thread starts walking through w and waits there; this walk
    ends first, and w stays read-only (and held) until the other one ends."""
    w = Value(np.ones(4))
    others = contextlib.ExitStack()

    def starting_the_other(g: np.ndarray, out: np.ndarray, x: np.ndarray) -> np.ndarray:
        others.enter_context(a_walk_held_in_another_thread(w))
        return g
    start = Op("start the other", lambda x: x * 1.0, starting_the_other)
    with others:
        with detect_anomaly():
            first = w.reshape(2, 2) if view else w  # (reshape's numbers: a view of w's, held by this walk only)
            apply(start, first).sum().backward()
        assert not w.data.flags.writeable and engine.held_by_a_walk(w.data, in_this_thread=False)
        with pytest.raises(ValueError, match="in another thread"):
            w.grad = np.ones(4)
            optim.SGD([w], 0.1).step()
    assert w.data.flags.writeable and not engine.held_by_a_walk(w.data)
    if view:
        assert first.data.flags.writeable and not engine.held_by_a_walk(first.data)
    np.testing.assert_array_equal(w.data, np.ones(4))


def test_adams_update_refused_as_nan_before_any_parameter_changed_names_its_parameter_and_rule() -> None:
    """|g| = the largest float64: v = g² overflows (inf, ignored, as Adam does), and at the second step m̂ overflows
    too, so m̂/(√v̂ + ε) = inf/inf, which numpy refuses under invalid="raise" before writing into w."""
    other, w = Value(np.ones(3)), Value(np.zeros(2), label="w")
    optimizer = optim.Adam([other, w], 0.1)
    huge = np.full(2, np.finfo(np.float64).max)
    other.grad, w.grad = np.full(3, 0.5), huge
    with pytest.warns(RuntimeWarning, match="overflowed"):
        optimizer.step()
    other.grad, w.grad = np.full(3, 0.5), huge
    numbers, state = (other.data.copy(), w.data.copy()), optimizer.state_dict()
    with np.errstate(invalid="raise"), pytest.raises(FloatingPointError) as e:
        optimizer.step()
    message = str(e.value)
    assert message.startswith("Adam.step: the update x ← x − η·m̂/(√v̂ + ε) gave numbers that are not finite for "
                              "parameter 1 ('w', shape (2,)) (invalid value encountered in divide"), message
    assert message.endswith("the parameters are unchanged"), message
    np.testing.assert_array_equal(other.data, numbers[0])
    np.testing.assert_array_equal(w.data, numbers[1])
    assert repr(optimizer.state_dict()) == repr(state)  # the averages and step counts as they were


def test_random_search_overflowing_says_what_happened_in_its_terms_not_that_steps_diverged() -> None:
    w = Value(np.full(2, 1e307), label="w")
    search = optim.RandomSearch([w], scale=8e307, rng=0)
    with np.errstate(over="raise"), pytest.raises(FloatingPointError) as e:
        for _ in range(200):  # a cost that keeps falling as w grows: the kept changes carry w to float64's edge
            search.step(lambda: -(w * 1e-300).sum())
    message = str(e.value)
    assert "diverged" not in message, message
    assert ("the parameter's numbers are near the largest its dtype holds (random search keeps every change that "
            "lowers the cost: one that keeps falling as they grow leads them there), or they started there; or the "
            "scale is too large: try a smaller one; the parameters are unchanged") in message, message
    assert search.accepted > 0 and np.isfinite(w.data).all()


def test_gradient_descents_overflow_still_says_the_steps_diverged() -> None:
    w = Value(np.full(2, 1e308))
    w.grad = np.full(2, -1e308)
    with np.errstate(over="raise"), pytest.raises(FloatingPointError, match="the steps diverged; or the learning "
                                                                          "rate is too large: try a smaller one"):
        optim.GradientDescent([w], 1.0).step()
    np.testing.assert_array_equal(w.data, np.full(2, 1e308))


def _pieces() -> list[History]:
    """Pieces as fit and hand-made ones give: labels repeated, empty, joined already; a piece of no episodes; a
    final cost None after episodes (Ctrl-C in fit's last pass); int seconds, -0.0."""
    return [History([4.0, 2.0], [4.0, 2.0], [0.1, 0.1], [0.5, 1.0], "SGD", "episodes", 1.5),
            History([1.5], [1.0], [None], [0.25], "SGD", "tol", 1.25),
            History(label="", stopped="", final_cost=None),
            History([1.0], [0.5], [0.5], [-0.0], "", "interrupted", None),
            History([0.9, 0.8], [0.4, 0.3], [1.0, 0.5], [1, 2], "SGD + Armijo", "episodes", 0.7),
            History([0.7], [0.2], [0.5], [0.125], "Armijo", "no descent step", 0.65),
            History(label="Adam", stopped="", final_cost=0.6)]


@pytest.mark.parametrize("start", range(7))
def test_history_concatenate_gives_what_sum_gives(start: int) -> None:
    import dataclasses
    pieces = _pieces()[start:] + _pieces()[:start]
    joined, summed = History.concatenate(pieces), sum(pieces)
    assert dataclasses.asdict(joined) == dataclasses.asdict(summed)
    assert [type(s) for s in joined.seconds] == [type(s) for s in summed.seconds]  # (1 stays an int, as sum has it)
    assert [math.copysign(1, s) for s in joined.seconds] == [math.copysign(1, s) for s in summed.seconds]
    assert dataclasses.asdict(pieces[0] + pieces[1]) == dataclasses.asdict(History.concatenate(pieces[:2]))
    assert all(dataclasses.asdict(a) == dataclasses.asdict(b) for a, b in zip(pieces, _pieces()[start:] +
                                                                               _pieces()[:start], strict=True))


def test_history_concatenate_of_many_pieces_counts_the_seconds_on_and_refuses_what_is_no_history() -> None:
    run = History.concatenate(History([1.0 / k], [1.0], [0.1], [0.5], "SGD", "episodes", 0.5) for k in range(1, 3001))
    assert run.episodes == 3000 and run.seconds[-1] == 1500.0 and run.label == "SGD" and run.cost[-1] == 1 / 3000
    assert History.concatenate([]) == History()
    with pytest.raises(TypeError, match="History.concatenate: piece 1 is dict, not a History"):
        History.concatenate([History(), {"cost": [1.0]}])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="History.concatenate: pieces must be a list of Histories"):
        History.concatenate(History())  # type: ignore[arg-type]


def _digits_fit(network: nn.MLP, optimizer: optim.Optimizer | None = None) -> History:
    digits = data.load_digits()
    inputs, targets = digits.inputs[:200], data.one_hot(digits.labels[:200])
    return fit(network, inputs, targets, cost=squared_error, episodes=1, batch_size=50, seed=0, progress=False,
               optimizer=optimizer or optim.GradientDescent(network, learning_rate=1.0))


def test_fit_warns_once_of_sigmoids_saturated_at_the_start_naming_the_layer_and_xavier() -> None:
    network = nn.MLP([64, 32, 10], init="uniform", rng=0)  # the seed's np.random.rand: every z of the digits tens
    with pytest.warns(UserWarning) as caught:
        history = _digits_fit(network)
    said = [str(w.message) for w in caught if "saturated" in str(w.message)]
    assert len(said) == 1, said
    assert said[0].startswith("fit: 32 of the 32 sigmoid units of layer 1 are saturated at the start (|z| above 5 "
                              "on 90 % of the samples"), said[0]
    assert "init='xavier'" in said[0]
    assert history.cost[0] > 8.9  # (and indeed: nine outputs wrong by almost 1, after the episode too)


@pytest.mark.parametrize("make", [lambda: nn.MLP([64, 32, 10], init="xavier", rng=0),
                                  lambda: nn.MLP([64, 32, 10], activation="tanh", init="xavier", rng=0),
                                  lambda: nn.MLP([64, 64, 10], activation="leaky_relu", output_activation="identity",
                                                 init="he", rng=0)],
                         ids=["sigmoid xavier", "tanh xavier", "leaky_relu he"])
def test_fit_does_not_warn_of_saturation_for_a_network_that_starts_well(make) -> None:
    network = make()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning at all (η = 0.1: at 1.0 the ReLU network diverges, and says so)
        _digits_fit(network, optim.GradientDescent(network, learning_rate=0.1))


def test_saturation_is_looked_at_only_at_trainings_start_not_after_earlier_steps() -> None:
    network = nn.MLP([64, 32, 10], init="uniform", rng=0)
    optimizer = optim.GradientDescent(network, learning_rate=1.0)
    with pytest.warns(UserWarning, match="saturated at the start"):
        _digits_fit(network, optimizer)
    with warnings.catch_warnings():  # the next call of a loop of fit(episodes=1): already said, and not looked at
        warnings.filterwarnings("error", message=".*saturated")
        _digits_fit(network, optimizer)


def test_the_demos_network_is_not_said_to_be_saturated() -> None:
    from tinygrad_edu import demo
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*saturated")
        demo.compare_xsquared(samples=10, quick=True, methods=["gradient descent"])
