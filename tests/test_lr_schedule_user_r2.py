"""A student who schedules the learning rate by hand: step, exponential and cosine decay and warm restarts written
as a loop of ``fit(..., episodes=1)``, the rate set to odd values (0, negative, inf, NaN, ints, numpy scalars, a 0-d
array, a Value, a string), optimizers compared when the rate changes mid-run (SGD's velocity and Adam's averages
and step counts go on), and the History read back to plot the rate and the cost per episode.  Every update is
compared with numpy in float64, from the closed-form gradient of a linear model's mean squared error."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, nn, optim, plots
from tinygrad_edu.training import History, fit

matplotlib.use("Agg")

RNG = np.random.default_rng(33)
X = RNG.normal(size=(16, 2))
Y = X @ np.array([[0.5], [-1.5]]) + 0.75 + RNG.normal(0, 0.1, size=(16, 1))


def _linear() -> nn.MLP:
    return nn.MLP([2, 1], activation="identity", output_activation="identity", init="xavier", rng=3)


def _gradient(w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """∇ of the mean over samples of (y' − y)², y' = X·W + b (closed form)."""
    residual = X @ w + b - Y
    return 2 * X.T @ residual / len(X), 2 * residual.sum(axis=0) / len(X)


def _cosine_with_restarts(episode: int, period: int = 4, top: float = 0.2, bottom: float = 0.01) -> float:
    """SGDR by hand: cosine from ``top`` down towards ``bottom`` over ``period`` episodes, then again from the top."""
    return bottom + 0.5 * (top - bottom) * (1 + math.cos(math.pi * (episode % period) / period))


# --- defects --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, word", [(lambda p: optim.Armijo(p), "initial_step"),
                                        (lambda p: optim.RandomSearch(p, rng=0), "scale")])
def test_setting_learning_rate_on_an_optimizer_without_one_names_its_own_word(make, word):
    opt = make([Value([1.0, 2.0])])
    with pytest.raises(AttributeError) as read:
        _ = opt.learning_rate
    with pytest.raises(AttributeError) as written:
        opt.learning_rate = 0.05  # a schedule written for gradient descent, run on Armijo
    assert f"opt.{word} = " in str(read.value)
    assert str(written.value) == str(read.value)
    assert "learning_rate" not in vars(opt)


@pytest.mark.parametrize("name", ["eta", "η", "LR", "step_size"])
@pytest.mark.parametrize("make, word", [(lambda p: optim.GradientDescent(p, 0.1), "learning_rate"),
                                        (lambda p: optim.SGD(p, 0.1, momentum=0.9), "learning_rate"),
                                        (lambda p: optim.Adam(p, 0.1), "learning_rate"),
                                        (lambda p: optim.Armijo(p), "initial_step")])
def test_another_name_for_the_learning_rate_is_refused_with_the_one_to_set(make, word, name):
    x = Value([1.0, 2.0])
    opt = make([x])
    before = getattr(opt, word)
    with pytest.raises(AttributeError, match=rf"has no attribute {name}: .*opt\.{word} = "):
        setattr(opt, name, 0.001)
    assert name not in vars(opt) and getattr(opt, word) == before


def test_a_learning_rate_decaying_over_decades_is_labelled_in_powers_of_ten():
    rates = [0.1 * 10 ** (-4 * e / 59) for e in range(60)]  # 0.1 down to 1e-5
    run = History(cost=list(np.linspace(5.0, 1.0, 60)), gradient_norm=[1.0] * 60, step_size=rates,
                  seconds=[float(e) for e in range(60)], label="exponential decay")
    fig = plots.plot_history(run)
    step_ax = fig.axes[1]
    fig.canvas.draw()
    low, high = step_ax.get_ylim()
    shown = [(label.get_position()[1], label.get_text()) for label in step_ax.get_yticklabels()
             if low <= label.get_position()[1] <= high and label.get_text()]
    assert len(shown) >= 4
    for location, text in shown:
        assert math.isclose(math.log10(location), round(math.log10(location)), abs_tol=1e-9), text
        assert float(text) == pytest.approx(location) and len(text) <= 6, text


# --- guards ---------------------------------------------------------------------------------------------------

def test_sgd_momentum_keeps_its_velocity_across_calls_of_fit_while_the_rate_follows_a_warm_restart_schedule():
    """v ← μv + ∇C, x ← x − η_k v: the velocity goes on from call to call (no reset at a restart), and each
    call's first (and only) update uses the rate set just before it."""
    net = _linear()
    w, b = (p.data.copy() for p in net.parameters())
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    opt = optim.SGD(net, learning_rate=1.0, momentum=0.8)
    pieces = []
    for episode in range(9):
        rate = _cosine_with_restarts(episode)
        opt.learning_rate = rate
        pieces.append(fit(net, X, Y, optimizer=opt, episodes=1, progress=False))
        gw, gb = _gradient(w, b)
        vw, vb = 0.8 * vw + gw, 0.8 * vb + gb
        w, b = w - rate * vw, b - rate * vb
    np.testing.assert_allclose(net.parameters()[0].data, w, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(net.parameters()[1].data, b, rtol=1e-12, atol=1e-14)
    run = sum(pieces)
    assert run.step_size == [_cosine_with_restarts(e) for e in range(9)]
    assert run.episodes == 9 and run.label == "SGD"


def test_adam_bias_correction_counts_on_across_calls_of_fit_under_a_step_decay():
    """Adam's k counts every step of the parameter, not the steps of one call of fit: after a rate change the
    bias correction is 1 − β^k with k the steps so far (a reset would make the next update ≈ η·sign(g) again)."""
    net = _linear()
    w, b = (p.data.copy() for p in net.parameters())
    state = {"w": (0.0, 0.0), "b": (0.0, 0.0)}
    opt = optim.Adam(net, learning_rate=0.1, betas=(0.9, 0.99))
    steps = []
    for k in range(1, 8):
        rate = 0.1 * 0.5 ** ((k - 1) // 3)  # halved every 3 episodes
        opt.learning_rate = rate
        steps += fit(net, X, Y, optimizer=opt, episodes=1, progress=False).step_size
        updated = []
        for name, x, g in (("w", w, _gradient(w, b)[0]), ("b", b, _gradient(w, b)[1])):
            m, v = state[name]
            m, v = 0.9 * m + 0.1 * g, 0.99 * v + 0.01 * g * g
            state[name] = (m, v)
            updated.append(x - rate * (m / (1 - 0.9 ** k)) / (np.sqrt(v / (1 - 0.99 ** k)) + 1e-8))
        w, b = updated
    np.testing.assert_allclose(net.parameters()[0].data, w, rtol=1e-12)
    np.testing.assert_allclose(net.parameters()[1].data, b, rtol=1e-12)
    assert steps == [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025]
    assert int(opt.state_dict()["state.0.step_count"]) == 7


def test_armijo_starts_each_search_from_an_initial_step_changed_between_calls():
    """Armijo's rate is its first trial step: the next search tries it first, and History records the accepted t."""
    net = _linear()
    opt = optim.Armijo(net, initial_step=0.3)
    for first in (0.3, 0.05, 0.8):
        opt.initial_step = first
        history = fit(net, X, Y, optimizer=opt, episodes=1, progress=False)
        assert opt.last_trials[0][0] == first
        assert history.step_size == [opt.last_step_size] == [first * 0.5 ** opt.last_backtracks]


@pytest.mark.parametrize("rate, expected", [(1, 1.0), (np.float32(0.25), 0.25), (np.int64(2), 2.0),
                                            (np.float16(0.5), 0.5)])
def test_an_int_or_a_numpy_scalar_rate_is_kept_and_recorded_as_a_python_float(rate, expected):
    net = _linear()
    w, b = (p.data.copy() for p in net.parameters())
    opt = optim.GradientDescent(net, learning_rate=0.1)
    opt.learning_rate = rate
    history = fit(net, X, Y, optimizer=opt, episodes=1, progress=False)
    assert type(opt.learning_rate) is float and opt.learning_rate == expected
    assert type(history.step_size[0]) is float and history.step_size == [expected]
    gw, gb = _gradient(w, b)
    np.testing.assert_allclose(net.parameters()[0].data, w - expected * gw, rtol=1e-13)
    np.testing.assert_allclose(net.parameters()[1].data, b - expected * gb, rtol=1e-13)


@pytest.mark.parametrize("make", [lambda p: optim.GradientDescent(p, 0.1), lambda p: optim.SGD(p, 0.1),
                                  lambda p: optim.Adam(p, 0.1)])
@pytest.mark.parametrize("bad, error", [(-0.01, ValueError), (math.inf, ValueError), (math.nan, ValueError),
                                        (np.array([0.1, 0.2]), TypeError), (Value([0.1, 0.2]), TypeError),
                                        ("0.1", TypeError), (True, TypeError)])  # (0, a 0-d array, a Value of one
# number: accepted since round 43, a step of 0 changing nothing as in PyTorch; see test_loose_optim.py)
def test_a_rate_that_is_no_positive_finite_number_is_refused_by_name_and_the_next_step_uses_the_old_one(
        make, bad, error):
    x = Value([1.0, -2.0])
    opt = make([x])
    with pytest.raises(error, match=rf"^{type(opt).__name__}: learning_rate must "):
        opt.learning_rate = bad
    assert opt.learning_rate == 0.1
    opt.step(lambda: (x * x).sum())
    assert opt.last_step_size == 0.1


@given(st.lists(st.floats(min_value=1e-3, max_value=0.4), min_size=1, max_size=5))
def test_any_schedule_of_one_episode_fits_records_each_rate_and_makes_numpys_updates(rates):
    net = _linear()
    w, b = (p.data.copy() for p in net.parameters())
    opt = optim.GradientDescent(net, learning_rate=rates[0])
    run = History()
    for rate in rates:
        opt.learning_rate = rate
        run = run + fit(net, X, Y, optimizer=opt, episodes=1, progress=False)
        gw, gb = _gradient(w, b)
        w, b = w - rate * gw, b - rate * gb
    assert run.step_size == rates
    np.testing.assert_allclose(net.parameters()[0].data, w, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(net.parameters()[1].data, b, rtol=1e-12, atol=1e-14)
