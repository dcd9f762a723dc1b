"""The batching arithmetic of fit, checked as a statistician would: on a linear model whose gradients have closed
forms in numpy, every episode visits a permutation of the samples in ceil(n/b) batches, each update is the mean of
its batch's per-sample gradients, SGD with momentum and Adam under fit are a numpy loop over the same batches, and
the History's per-episode numbers are the batch averages weighted by the batches' sizes (fit's docstring), finite
where every batch's number is, and those of the full batch where one batch holds every sample."""

import math
import os
import signal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, optim
from tinygrad_edu.training import fit


def _data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """n samples of 3 inputs and 2 targets, and a start (W, b) for the linear model x @ W + b."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)), rng.normal(size=(n, 2)), rng.normal(size=(3, 2)), rng.normal(size=(2,))


def _gradient(w: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """The squared error C = (1/m) Σ_s Σ_j (x_s @ W + b − y_s)_j² on a batch of m samples and its gradient, the mean of
    the per-sample gradients 2·x_sᵀ r_s and 2·r_s: closed forms."""
    r = x @ w + b - y
    m = len(x)
    return float((r ** 2).sum() / m), 2 * x.T @ r / m, 2 * r.sum(axis=0) / m


def _batches_by_hand(n: int, batch_size: int, episodes: int, seed: int) -> list[list[np.ndarray]]:
    """Each episode's batches of sample indices: a new default_rng(seed).permutation(n) per episode, cut in pieces of
    batch_size, the last one smaller."""
    rng = np.random.default_rng(seed)
    return [[order[i:i + batch_size] for i in range(0, n, batch_size)]
            for order in (rng.permutation(n) for _ in range(episodes))]


@pytest.mark.parametrize("n", [1, 2, 7, 10])
@pytest.mark.parametrize("batch_size", ["1", "n-1", "n", "n+1"])
def test_each_episode_visits_a_new_permutation_in_ceil_n_over_b_batches(n, batch_size):
    """The model sees ceil(n/b) batches per episode (no drop-last), which together hold every sample exactly once, the
    last one smaller; the order is default_rng(seed).permutation(n) anew in each episode; the same int seed repeats
    it all."""
    b = max(1, {"1": 1, "n-1": n - 1, "n": n, "n+1": n + 1}[batch_size])
    x = np.arange(n, dtype=float).reshape(-1, 1)  # the sample's number as its input
    w = Value(np.zeros((1, 1)))

    def seen_by(calls: list[np.ndarray]):
        def model(inputs: Value) -> Value:
            calls.append(inputs.data[:, 0].astype(int))
            return inputs @ w
        return model

    runs = []
    for _ in range(2):
        calls: list[np.ndarray] = []
        fit(seen_by(calls), x, np.zeros((n, 1)), optimizer=optim.SGD([w], 1e-3), episodes=3, batch_size=b, seed=5,
            progress=False)
        runs.append(calls[:-1])  # (the last call: the final cost, on all samples in order)
    steps = math.ceil(n / b)
    expected = _batches_by_hand(n, b, 3, seed=5)
    assert len(runs[0]) == 3 * steps
    for episode in range(3):
        batches = runs[0][episode * steps:(episode + 1) * steps]
        assert [len(batch) for batch in batches] == [b] * (steps - 1) + [n - b * (steps - 1)]
        assert sorted(np.concatenate(batches).tolist()) == list(range(n))
        assert all(np.array_equal(got, want) for got, want in zip(batches, expected[episode], strict=True))
    if n >= 7:  # (n! orders: three equal ones in a row are all but impossible)
        orders = [np.concatenate(runs[0][e * steps:(e + 1) * steps]).tolist() for e in range(3)]
        assert orders[0] != orders[1] != orders[2]
    assert all(np.array_equal(a, b) for a, b in zip(runs[0], runs[1], strict=True))


@given(n=st.integers(1, 9), batch_size=st.integers(1, 11), seed=st.integers(0, 2 ** 16),
       which=st.sampled_from(["momentum", "adam"]))
def test_momentum_and_adam_under_fit_are_a_numpy_loop_over_the_same_batches(n, batch_size, seed, which):
    """SGD with momentum (v ← μv + g, x ← x − ηv) and Adam (bias-corrected averages, one step count for all batches)
    under fit: the updates of a numpy loop over default_rng(seed)'s batches, g the mean of the batch's per-sample
    gradients (a smaller last batch averaged over its own size), the History's cost the size-weighted mean."""
    x, y, w0, b0 = _data(n, seed)
    w, b = Value(w0.copy()), Value(b0.copy())
    opt = optim.SGD([w, b], 0.05, momentum=0.9) if which == "momentum" else optim.Adam([w, b], 0.01)
    history = fit(lambda inputs: inputs @ w + b, x, y, optimizer=opt, episodes=2, batch_size=batch_size, seed=seed,
                  progress=False)
    params, state, k, costs = [w0, b0], [None, None], 0, []
    for episode in _batches_by_hand(n, batch_size, 2, seed):
        total = 0.0
        for batch in episode:
            cost, *grads = _gradient(*params, x[batch], y[batch])
            total += cost * len(batch) / n
            k += 1
            for i, g in enumerate(grads):
                if which == "momentum":
                    state[i] = g if state[i] is None else 0.9 * state[i] + g
                    params[i] = params[i] - 0.05 * state[i]
                else:
                    m, v = state[i] or (0.0, 0.0)
                    m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
                    state[i] = (m, v)
                    params[i] = params[i] - 0.01 * (m / (1 - 0.9 ** k)) / (np.sqrt(v / (1 - 0.999 ** k)) + 1e-8)
        costs.append(total)
    np.testing.assert_allclose(w.data, params[0], rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(b.data, params[1], rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(history.cost, costs, rtol=1e-12)


def test_an_episode_cut_short_by_ctrl_c_records_the_weighted_mean_of_the_batches_it_made():
    """Ctrl-C during the second batch's update: the episode ends after it, and its cost is the mean of the two batch
    costs weighted by their sizes (3 and 3 of the 7 samples), the last batch left out (fit's History docstring)."""
    x, y, w0, b0 = _data(7)
    w, b = Value(w0.copy()), Value(b0.copy())

    class Interrupted(optim.SGD):
        steps = 0

        def step(self, closure=None, *, cost=None):
            self.steps += 1
            if self.steps == 2:
                os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C: fit's handler lets this update finish
            return super().step(closure, cost=cost)

    history = fit(lambda inputs: inputs @ w + b, x, y, optimizer=Interrupted([w, b], 0.1), episodes=3, batch_size=3,
                  seed=2, progress=False)
    assert history.stopped == "interrupted" and history.episodes == 1
    params, costs = [w0, b0], []
    for batch in _batches_by_hand(7, 3, 1, seed=2)[0][:2]:
        cost, *grads = _gradient(*params, x[batch], y[batch])
        costs.append(cost)
        params = [p - 0.1 * g for p, g in zip(params, grads, strict=True)]
    assert history.cost[0] == pytest.approx((3 * costs[0] + 3 * costs[1]) / 6, rel=1e-12)
    np.testing.assert_allclose(w.data, params[0], rtol=1e-12)


def test_the_weighted_mean_of_finite_batch_gradient_norms_is_finite():
    """Batch gradient norms of 3.2e307, all finite, in batches of 5: their weighted mean is about the same number (a
    mean lies between the smallest and the largest), as the full batch records it, not inf.  (The cost, 1.6e307 per
    sample, stays finite either way: squared_error's sum over the 10 samples is 1.6e308.)"""
    x, y = np.full((10, 1), 4e153), np.zeros((10, 1))
    costs, norms = [], []
    for batch_size in (None, 5):
        w = Value(1.0)
        history = fit(lambda inputs, w=w: inputs * w, x, y, optimizer=optim.SGD([w], 1e-320), episodes=1,
                      batch_size=batch_size, shuffle=False, progress=False)
        costs.append(history.cost[0])
        norms.append(history.gradient_norm[0])
    # C(w) = mean (x·w)² = 1.6e307·w², |∇C| = 2·1.6e307·w; w moves by 1e-320·3.2e307 ≈ 3e-13 per update
    assert costs == pytest.approx([1.6e307, 1.6e307], rel=1e-9)
    assert norms == pytest.approx([3.2e307, 3.2e307], rel=1e-9)


def test_one_batch_of_all_samples_in_order_records_what_the_full_batch_records():
    """batch_size ≥ n without shuffling is gradient descent: the same updates and the same History, bit for bit (the
    weighted mean of one number is that number)."""
    x, y, w0, b0 = _data(10, seed=1)
    histories, finals = [], []
    for batch_size in (None, 10, 13):
        w, b = Value(w0.copy()), Value(b0.copy())
        history = fit(lambda inputs, w=w, b=b: inputs @ w + b, x, y, optimizer=optim.GradientDescent([w, b], 0.1),
                      episodes=12, batch_size=batch_size, shuffle=False, progress=False)
        histories.append((history.cost, history.gradient_norm, history.step_size, history.final_cost))
        finals.append((w.data.copy(), b.data.copy()))
    assert all(np.array_equal(finals[0][i], other[i]) for other in finals[1:] for i in range(2))
    assert histories[1] == histories[0] and histories[2] == histories[0]


def test_drop_last_given_to_fit_says_every_sample_is_used_and_how_to_leave_some_out():
    x, y, w0, b0 = _data(7)
    w, b = Value(w0.copy()), Value(b0.copy())
    with pytest.raises(TypeError, match=r"fit: there is no argument drop_last=.*every sample.*len\(inputs\) // b"):
        fit(lambda inputs: inputs @ w + b, x, y, optimizer=optim.SGD([w, b], 0.1), episodes=1, batch_size=3,
            drop_last=True, progress=False)
    assert np.array_equal(w.data, w0)
