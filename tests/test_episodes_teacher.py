"""Training as a teacher of the seed's section 7 would show it: one episode's update is η times the gradient
averaged over the batch, batch size 1 is SGD and the whole set is gradient descent, the learning rate scales the
steps, and fit's History reports what its docstring says.  Every number is checked against a numpy loop written
out by hand (float64, closed-form gradients of a linear model)."""

import warnings

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tinygrad_edu import Value, losses, optim
from tinygrad_edu.training import DIVERGENCE_FACTOR, DivergenceWarning, fit


def _linear_data(n: int, features: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, features)), rng.normal(size=(n, 1)), rng.normal(size=(features, 1)),
            rng.normal(size=(1,)))


def _cost_and_gradient(w, b, x, y):
    """C = (1/m) Σ_s (x_s·w + b − y_s)² on a batch of m samples, and its gradient (2/m)·(xᵀr, Σr): closed forms."""
    r = x @ w + b - y
    m = len(x)
    return float((r ** 2).sum() / m), 2 * x.T @ r / m, 2 * r.sum(axis=0) / m


def _by_hand(x, y, w, b, eta, episodes, batch_size, seed):
    """The seed's 7.1 loop with batches, in numpy: for each episode a new order rng.permutation(n) from
    default_rng(seed) (the whole set in order without batch_size), one update η·(average gradient) per batch; the
    History fit documents: cost and ‖∇C‖ before each update, averaged over the batches weighted by their sizes."""
    n, rng = len(x), np.random.default_rng(seed)
    costs, norms = [], []
    for _ in range(episodes):
        order = np.arange(n) if batch_size is None else rng.permutation(n)
        size = n if batch_size is None else batch_size
        total = norm_total = 0.0
        for start in range(0, n, size):
            batch = order[start:start + size]
            cost, gw, gb = _cost_and_gradient(w, b, x[batch], y[batch])
            total += cost * len(batch)
            norm_total += np.sqrt((gw ** 2).sum() + (gb ** 2).sum()) * len(batch)
            w, b = w - eta * gw, b - eta * gb
        costs.append(total / n)
        norms.append(norm_total / n)
    return w, b, costs, norms


@given(n=st.integers(1, 9), features=st.integers(1, 3), batch_size=st.one_of(st.none(), st.integers(1, 11)),
       eta=st.floats(1e-3, 0.2), episodes=st.integers(1, 3), seed=st.integers(0, 2 ** 16))
@example(n=1, features=3, batch_size=4, eta=0.17818205357841907, episodes=3, seed=12838)  # (diverges)
def test_each_update_is_eta_times_the_batch_average_and_history_reports_it(n, features, batch_size, eta, episodes,
                                                                          seed):
    """Batch size 1 is SGD, batch size ≥ n (or None) is gradient descent, a smaller last batch is averaged over its
    own samples and weighs by its size in the History; the shuffles are default_rng(seed).permutation(n), one per
    episode (fit's docstring: reproducibly from seed).  A few draws overshoot (one sample of 3 large inputs at
    η = 0.2: each step multiplies the residual by 1 − 2η(‖x‖² + 1) < −1): fit's DivergenceWarning is then right,
    and it is checked against the numbers by hand, not left to leak into the test run."""
    x, y, w0, b0 = _linear_data(n, features, seed)
    w, b = Value(w0.copy()), Value(b0.copy())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(lambda inputs: inputs @ w + b, x, y, optimizer=optim.SGD([w, b], eta), episodes=episodes,
                      batch_size=batch_size, seed=seed, progress=False)
    w_hand, b_hand, costs, norms = _by_hand(x, y, w0, b0, eta, episodes, batch_size, seed)
    start = _cost_and_gradient(w0, b0, x, y)[0]
    grown = max(*costs, _cost_and_gradient(w_hand, b_hand, x, y)[0]) > DIVERGENCE_FACTOR * start
    diverging = [w for w in caught if issubclass(w.category, DivergenceWarning)]
    assert len(diverging) == int(grown) and len(caught) == len(diverging), [str(w.message) for w in caught]
    np.testing.assert_allclose(w.data, w_hand, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(b.data, b_hand, rtol=1e-12, atol=1e-12)
    assert history.episodes == episodes and history.stopped == "episodes"
    np.testing.assert_allclose(history.cost, costs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(history.gradient_norm, norms, rtol=1e-12, atol=1e-15)
    assert history.step_size == [eta] * episodes
    assert history.final_cost == pytest.approx(_cost_and_gradient(w_hand, b_hand, x, y)[0], rel=1e-12, abs=1e-15)
    assert len(history.seconds) == episodes and all(np.diff([0.0, *history.seconds]) >= 0)


def test_one_full_batch_episode_moves_the_parameters_in_proportion_to_the_learning_rate():
    """The lesson's 7.2 picture: the same start, η and 3η; the first step is three times as long, along −∇C."""
    x, y, w0, b0 = _linear_data(12, 2, seed=4)
    moves = []
    for eta in (0.01, 0.03):
        w, b = Value(w0.copy()), Value(b0.copy())
        fit(lambda inputs, w=w, b=b: inputs @ w + b, x, y, optimizer=optim.GradientDescent([w, b], eta),
            episodes=1, progress=False)
        moves.append(np.concatenate([(w.data - w0).ravel(), b.data - b0]))
    _, gw, gb = _cost_and_gradient(w0, b0, x, y)
    np.testing.assert_allclose(moves[0], -0.01 * np.concatenate([gw.ravel(), gb]), rtol=1e-12)
    np.testing.assert_allclose(moves[1], 3 * moves[0], rtol=1e-12)


@pytest.mark.parametrize("rate, error, message", [
    (-0.1, ValueError, r"learning_rate must be >= 0, got -0\.1$"),  # (0 is a step that changes nothing, as in PyTorch)
    (float("nan"), ValueError, r"learning_rate must be finite, got nan$"),
    (float("inf"), ValueError, r"learning_rate must be finite, got inf$"),
    (lambda episode: 0.1 / episode, TypeError, r"learning_rate must be a number, got function"),
])
@pytest.mark.parametrize("kind", [optim.GradientDescent, optim.SGD])
def test_a_learning_rate_that_is_no_positive_number_is_refused_by_name_when_made_and_when_set(kind, rate, error,
                                                                                              message):
    """A learning-rate schedule set between calls of fit goes through the same check as the constructor's; a
    refused one leaves the rate and the parameters as they were."""
    with pytest.raises(error, match=rf"^{kind.__name__}: {message}"):
        kind([Value([1.0])], rate)
    w = Value([1.0])
    opt = kind([w], 0.1)
    with pytest.raises(error, match=rf"^{kind.__name__}: {message}"):
        opt.learning_rate = rate
    assert opt.learning_rate == 0.1
    fit(lambda inputs: inputs * w, np.ones((2, 1)), np.zeros((2, 1)), optimizer=opt, episodes=1, progress=False)
    assert w.data[0] == pytest.approx(1.0 - 0.1 * 2.0)  # C = w², ∇C = 2w: the rate of 0.1 still in force


# --- defects ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("batch_size", [None, 3])
def test_one_number_per_sample_as_a_flat_array_is_not_silently_summed(batch_size):
    """fit's docstring: 'each episode computes the cost averaged over all samples, its gradient (the average of the
    samples' gradients)'.  squared_error takes a flat (n,) as one sample of n outputs and sums them: fit trained
    with n times the learning rate and reported the sum as the cost.  The flat layout is refused, saying how to
    give one row per sample."""
    x = np.linspace(-1, 1, 8)
    y = 3 * x + 1
    w, b = Value(0.0), Value(0.0)
    with pytest.raises(ValueError, match=r"^fit: targets of shape \(8,\) .*squared_error.* sum .*"
                                         r"targets\.reshape\(-1, 1\)"):
        fit(lambda inputs: w * inputs + b, x, y, optimizer=optim.GradientDescent([w, b], 0.1), episodes=1,
            batch_size=batch_size, progress=False)
    assert w.data == 0.0 and b.data == 0.0  # refused before any update


def test_one_number_per_sample_as_a_column_gives_the_average_and_other_costs_keep_flat_targets():
    """The fix's other side: the same data as columns trains by the averaged gradient; a flat (n,) is still fine
    for costs that average it (mean_squared_error) and for class labels (cross_entropy), and for one sample."""
    x = np.linspace(-1, 1, 8)
    y = 3 * x + 1
    w, b = Value(0.0), Value(0.0)
    fit(lambda inputs: w * inputs + b, x.reshape(-1, 1), y.reshape(-1, 1),
        optimizer=optim.GradientDescent([w, b], 0.1), episodes=1, progress=False)
    r = -y  # the residual at w = b = 0
    assert float(w.data) == pytest.approx(-0.1 * 2 * np.mean(r * x), rel=1e-12)
    assert float(b.data) == pytest.approx(-0.1 * 2 * np.mean(r), rel=1e-12)
    v = Value(0.0)
    history = fit(lambda inputs: v * inputs, x, y, cost=losses.mean_squared_error,
                  optimizer=optim.GradientDescent([v], 0.1), episodes=1, progress=False)
    assert history.cost[0] == pytest.approx(np.mean(y ** 2), rel=1e-12)
    logits = Value(np.zeros((1, 3)))
    fit(lambda inputs: inputs @ logits, np.ones((4, 1)), np.array([0, 1, 2, 2]), cost=losses.cross_entropy,
        optimizer=optim.GradientDescent([logits], 0.1), episodes=1, progress=False)
    one = Value(0.0)
    fit(lambda inputs: one * inputs, np.array([2.0]), np.array([4.0]), optimizer=optim.GradientDescent([one], 0.1),
        episodes=1, progress=False)
    assert float(one.data) == pytest.approx(0.1 * 2 * 4.0 * 2.0)  # −η·2(0·2 − 4)·2


@pytest.mark.parametrize("batching", [{}, {"batch_size": 2, "shuffle": False}])
def test_fit_that_shuffles_nothing_leaves_numpys_global_random_state_alone(batching):
    x = np.linspace(-1, 1, 6).reshape(-1, 1)
    saved = np.random.get_state()
    try:
        np.random.seed(0)
        expected = np.random.rand()
        np.random.seed(0)
        w = Value(np.zeros((1, 1)))
        fit(lambda inputs: inputs @ w, x, x ** 2, optimizer=optim.GradientDescent([w], 0.1), episodes=2,
            progress=False, **batching)
        assert np.random.rand() == expected
    finally:
        np.random.set_state(saved)


def test_fit_that_shuffles_with_seed_none_follows_numpys_global_seed():
    """The other side of that fix: shuffled mini-batches with seed=None still take their order from numpy's global
    random state (seeds.generator's rule), so np.random.seed(0) repeats them, and another seed changes them."""
    x, y, w0, b0 = _linear_data(7, 1, seed=2)
    saved = np.random.get_state()
    finals = []
    try:
        for global_seed in (0, 0, 1):
            np.random.seed(global_seed)
            w = Value(w0.copy())
            fit(lambda inputs, w=w: inputs @ w, x, y, optimizer=optim.SGD([w], 0.05), episodes=2, batch_size=2,
                progress=False)
            finals.append(w.data.copy())
    finally:
        np.random.set_state(saved)
    np.testing.assert_array_equal(finals[0], finals[1])
    assert not np.array_equal(finals[0], finals[2])
