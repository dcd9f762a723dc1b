"""A student who changes the training settings while training: a learning-rate schedule written as a loop of
``fit(..., episodes=1)`` or of hand steps, settings changed between steps (learning rate, momentum, betas, scale,
damping), optimizers switched on the same model, parameters frozen and unfrozen between fits, and the Histories
of the pieces joined into one run.  Every update is compared with numpy in float64."""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pytest

from tinygrad_edu import Value, nn, optim, plots
from tinygrad_edu.training import History, fit

matplotlib.use("Agg")

RNG = np.random.default_rng(7)
X = RNG.normal(size=(24, 2))
Y = X @ np.array([[1.5], [-2.0]]) + 0.25 + RNG.normal(0, 0.1, size=(24, 1))  # (no exact fit)


def _linear(seed: int = 0) -> nn.MLP:
    return nn.MLP([2, 1], activation="identity", output_activation="identity", init="xavier", rng=seed)


def _gradient(w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """∇ of the seed's cost, mean over samples of Σ_j (y'_j − y_j)², for y' = X·W + b (closed form)."""
    residual = X @ w + b - Y
    return 2 * X.T @ residual / len(X), 2 * residual.sum(axis=0) / len(X)


# --- defects --------------------------------------------------------------------------------------------------

def test_sgd_momentum_set_to_0_and_back_keeps_no_velocity_from_before():
    """The docstring's v ← μv + ∇C with μ = 0 keeps no velocity (test_optim_mutants: momentum switched on later
    starts from the gradient): 0.9 for one step, 0 for three, 0.9 again must start afresh from v = ∇C, as the
    very first step does, not from the velocity of the first step.  C = x², x₀ = 1, η = 0.1."""
    x = Value([1.0])
    opt = optim.SGD([x], learning_rate=0.1, momentum=0.9)
    f = lambda: (x * x).sum()  # noqa: E731
    expected = 1.0
    opt.step(f)
    expected -= 0.1 * 2 * expected
    opt.momentum = 0.0
    for _ in range(3):
        opt.step(f)
        expected -= 0.1 * 2 * expected
    assert x.data.tolist() == [pytest.approx(expected, rel=1e-15)]
    assert "state.0.velocity" not in opt.state_dict()
    opt.momentum = 0.9
    opt.step(f)
    expected -= 0.1 * 2 * expected  # v = ∇C = 2x
    np.testing.assert_allclose(x.data, [expected], rtol=1e-15)


def test_the_histories_of_the_pieces_join_into_one_run_that_plots_as_one_curve():
    net = nn.MLP([2, 3, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    gd = optim.GradientDescent(net, learning_rate=0.1)
    pieces = []
    for k in range(3):  # a schedule: η halved every episode
        gd.learning_rate = 0.1 * 0.5 ** k
        pieces.append(fit(net, X, Y, optimizer=gd, episodes=1, progress=False))
    pieces.append(fit(net, X, Y, optimizer=optim.Armijo(net), episodes=2, progress=False))
    joined = sum(pieces, History())
    assert joined == pieces[0] + pieces[1] + pieces[2] + pieces[3]  # (the same, however it is summed)
    for name in ("cost", "gradient_norm", "step_size"):
        assert getattr(joined, name) == [v for piece in pieces for v in getattr(piece, name)]
    assert joined.step_size[:3] == [0.1, 0.05, 0.025]
    assert joined.episodes == 5 and joined.final_cost == pieces[-1].final_cost
    assert joined.label == "GradientDescent + Armijo" and joined.stopped == "episodes"
    assert all(a < b for a, b in zip(joined.seconds, joined.seconds[1:], strict=False))  # time counts on
    ends = np.cumsum([piece.seconds[-1] for piece in pieces])
    assert joined.seconds[-1] == pytest.approx(ends[-1], rel=1e-12)
    for before, after in zip(pieces, pieces[1:], strict=False):  # each piece goes on where the one before stopped
        assert after.cost[0] == pytest.approx(before.final_cost, rel=1e-12)
    fig = plots.plot_history(joined)
    lines = [line for line in fig.axes[0].get_lines() if len(line.get_xdata()) > 1]
    assert len(lines) == 1 and list(lines[0].get_ydata()) == joined.cost
    assert list(lines[0].get_xdata()) == [1, 2, 3, 4, 5]


# --- guards ---------------------------------------------------------------------------------------------------

def test_a_schedule_of_one_episode_fits_makes_the_updates_numpy_makes():
    """``fit(..., episodes=1)`` in a loop, the learning rate changed before each call: every update is
    w ← w − η_k ∇C(w), with the closed-form gradient in float64."""
    net = _linear()
    w, b = (p.data.copy() for p in net.parameters())
    opt = optim.GradientDescent(net, learning_rate=0.2)
    for rate in (0.2, 0.1, 0.3, 0.05, 0.01):
        opt.learning_rate = rate
        history = fit(net, X, Y, optimizer=opt, episodes=1, progress=False)
        gw, gb = _gradient(w, b)
        w, b = w - rate * gw, b - rate * gb
        assert history.step_size == [rate]
    np.testing.assert_allclose(net.parameters()[0].data, w, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(net.parameters()[1].data, b, rtol=1e-13, atol=1e-15)


def test_adam_settings_changed_between_steps_are_used_and_its_averages_go_on():
    """Adam's docs: the averages and step counts go on when the settings change, the next step uses them."""
    a, c = np.array([[3.0, 1.0], [1.0, 2.0]]), np.array([1.0, -1.0])
    x = Value([2.0, -3.0])
    opt = optim.Adam([x], learning_rate=0.1)
    point, k, m, v = np.array([2.0, -3.0]), 0, 0.0, 0.0
    for rate, beta1, beta2, eps in ((0.1, 0.9, 0.999, 1e-8), (0.05, 0.8, 0.99, 1e-3), (0.2, 0.0, 0.5, 1e-8),
                                    (0.3, 0.95, 0.9, 1.0)):
        opt.learning_rate, opt.betas, opt.eps = rate, (beta1, beta2), eps
        opt.step(lambda: 0.5 * (x * (Value(a, requires_grad=False) @ x)).sum() - (x * c).sum())
        g = a @ point - c
        k, m, v = k + 1, beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
        point = point - rate * (m / (1 - beta1 ** k)) / (np.sqrt(v / (1 - beta2 ** k)) + eps)
        np.testing.assert_allclose(x.data, point, rtol=1e-14)
    assert int(opt.state_dict()["state.0.step_count"]) == 4


_OPTIMIZERS = [lambda p: optim.GradientDescent(p, 0.1), lambda p: optim.SGD(p, 0.1, momentum=0.5),
               lambda p: optim.Adam(p), lambda p: optim.Armijo(p), lambda p: optim.RandomSearch(p, rng=0),
               lambda p: optim.Newton(p)]


@pytest.mark.parametrize("make", _OPTIMIZERS)
@pytest.mark.parametrize("bad, error", [(float("nan"), ValueError), (-1.0, ValueError), ("0.1", TypeError),
                                        (None, TypeError)])
def test_every_setting_set_to_nonsense_between_steps_is_refused_by_name_and_kept(make, bad, error):
    opt = make([Value([1.0, 2.0])])
    for name in opt._settings:
        before = getattr(opt, name)
        with pytest.raises((ValueError, TypeError)) as caught:
            setattr(opt, name, (bad, 0.5) if name == "betas" and error is ValueError else bad)
        assert type(opt).__name__ in str(caught.value) and name in str(caught.value)
        assert caught.type is error or name in ("betas", "max_backtracks")  # (a pair; an int: TypeError for -1.0)
        assert getattr(opt, name) == before


def test_random_search_uses_a_scale_changed_between_steps():
    """Each change is uniform in [−scale, scale): the same draws as a numpy Generator of the same seed."""
    x = Value([0.5, -0.5])
    opt = optim.RandomSearch([x], scale=0.1, rng=3)
    draws = np.random.default_rng(3)
    for scale in (0.1, 2.0, 1e-3):
        opt.scale = scale
        before = x.data.copy()
        opt.step(lambda: ((x - 5.0) ** 2).sum())  # uphill from 5 on both sides only where it overshoots
        proposal = before + draws.uniform(-scale, scale, 2)
        kept = ((proposal - 5.0) ** 2).sum() < ((before - 5.0) ** 2).sum()
        np.testing.assert_array_equal(x.data, proposal if kept else before)
        assert opt.last_accepted == kept


def test_a_layer_frozen_between_fits_stays_put_and_trains_again_when_unfrozen():
    """The optimizer made before freezing keeps the parameter: frozen it is left alone (Adam counts no step for
    it), unfrozen it trains again with the same optimizer and its own step count goes on."""
    net = nn.MLP([2, 3, 1], activation="tanh", output_activation="identity", init="xavier", rng=1)
    opt = optim.Adam(net, learning_rate=0.01)
    first = net.parameters()[0]
    fit(net, X, Y, optimizer=opt, episodes=2, progress=False)
    first.requires_grad = False
    held = first.data.copy()
    others = [p.data.copy() for p in opt.params[1:]]
    fit(net, X, Y, optimizer=opt, episodes=3, progress=False)
    np.testing.assert_array_equal(first.data, held)
    assert all(not np.array_equal(p.data, o) for p, o in zip(opt.params[1:], others, strict=True))
    counts = opt.state_dict()
    assert int(counts["state.0.step_count"]) == 2 and int(counts["state.1.step_count"]) == 5
    first.requires_grad = True
    fit(net, X, Y, optimizer=opt, episodes=1, progress=False)
    assert not np.array_equal(first.data, held) and int(opt.state_dict()["state.0.step_count"]) == 3


def test_gradient_descent_then_armijo_then_newton_go_on_from_each_other():
    """Optimizers switched on one model: each fit starts from where the last stopped, and Newton's first step
    solves H d = −∇C for the model as the others left it (a linear model: C is quadratic, one step to the minimum)."""
    net = _linear(2)
    first = fit(net, X, Y, optimizer=optim.GradientDescent(net, 0.05), episodes=3, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optim.LineSearchWarning)
        second = fit(net, X, Y, optimizer=optim.Armijo(net), episodes=3, progress=False)
    assert second.cost[0] == pytest.approx(first.final_cost, rel=1e-12)
    fit(net, X, Y, optimizer=optim.Newton(net), episodes=1, progress=False)
    design = np.hstack([X, np.ones((len(X), 1))])
    best = np.linalg.lstsq(design, Y, rcond=None)[0]
    np.testing.assert_allclose(net.parameters()[0].data, best[:2], rtol=1e-9)
    np.testing.assert_allclose(net.parameters()[1].data, best[2], rtol=1e-9)


def test_sum_of_histories_starts_from_zero_as_for_numbers() -> None:
    """sum(pieces) gave Python's bare "unsupported operand type(s) for +: 'int' and 'History'"."""
    a = History([4.0, 2.0], [4.0, 2.0], [0.1, 0.1], [0.5, 1.0], "SGD", "episodes", 1.5)
    b = History([1.5], [1.0], [0.5], [0.25], "Armijo", "episodes", 1.0)
    assert sum([a, b]) == a + b == sum([a, b], History())
    assert sum([a]) == a and sum([a]) is not a
    with pytest.raises(TypeError):
        1 + a  # noqa: B018
