"""The random parts, checked as a statistician would: the documented distributions of the initial weights and
biases, of random search's changes, of the x² samples, of shuffles and splits, with large samples and a proper
tolerance, and the streams an int seed gives (the same numbers every time, but not the same numbers for two
different uses the package makes of one seed).

The distribution tests use the Kolmogorov-Smirnov statistic against the documented CDF and a chi-square statistic
against the uniform distribution over permutations or subsets, each with a rejection threshold whose false alarm
probability is below 1e-6 (fixed seeds: the tests are deterministic; the thresholds say the seeds were not chosen).
"""

from __future__ import annotations

import collections
import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Value, cli, nn, optim, training
from tinygrad_edu.data import batches, train_test_split, xsquared

# sqrt(n)·D of the one-sample KS test exceeds 2.7 with probability 2·exp(−2·2.7²) ≈ 9e-7 under the hypothesis
KS_LIMIT = 2.7


def _ks(sample: np.ndarray, cdf) -> float:
    """sqrt(n) times the Kolmogorov-Smirnov distance between the sample and the CDF."""
    x = np.sort(np.ravel(sample))
    n = len(x)
    f = cdf(x)
    d = max(float((np.arange(1, n + 1) / n - f).max()), float((f - np.arange(n) / n).max()))
    return d * math.sqrt(n)


def _uniform_cdf(low: float, high: float):
    return lambda x: np.clip((x - low) / (high - low), 0.0, 1.0)


def _normal_cdf(std: float):
    erf = np.vectorize(math.erf)
    return lambda x: 0.5 * (1.0 + erf(x / (std * math.sqrt(2.0))))


def _chi_square_limit(df: int) -> float:
    """A bound the chi-square statistic of ``df`` degrees of freedom exceeds with probability < 1e-6 (Wilson-Hilferty
    with z = 4.9)."""
    return df * (1 - 2 / (9 * df) + 4.9 * math.sqrt(2 / (9 * df))) ** 3


def _chi_square(counts: collections.Counter, cells: int, total: int) -> float:
    expected = total / cells
    observed = np.array(list(counts.values()) + [0] * (cells - len(counts)), dtype=float)
    return float(((observed - expected) ** 2 / expected).sum())


def _drawn(init: str, shape: tuple[int, int], at_least: int = 20000) -> tuple[np.ndarray, np.ndarray]:
    """The weights and biases of as many layers of this shape (seeds 0, 1, …) as make ``at_least`` weights."""
    layers = [nn.Layer(*shape, init=init, rng=seed) for seed in range(max(1, -(-at_least // math.prod(shape))))]
    return (np.concatenate([layer.weights.data.ravel() for layer in layers]),
            np.concatenate([layer.biases.data.ravel() for layer in layers]))


SHAPES = [(1, 1), (1, 12), (3, 1), (12, 12), (64, 32), (300, 200)]


# --- defects ---------------------------------------------------------------------------------------------------

def test_train_random_search_changes_are_independent_of_the_starting_weights(monkeypatch, tmp_path: Path) -> None:
    """The seed's own set-up on the command line: weights uniform in [0, 1) and random search, one --seed.  The first
    change proposed must not be a function of the start: over the 193 parameters of the 1-12-12-1 network the
    correlation of change and start is about N(0, 1/193) for independent draws (|r| > 0.5 is 7 standard
    deviations); the same numbers drawn twice gave r = 1."""
    captured = {}

    def fake_fit(model, inputs, targets, *, optimizer, **kwargs):
        captured["model"], captured["optimizer"] = model, optimizer
        return training.History(stopped="interrupted")  # (train then saves the model as it is and says so)

    monkeypatch.setattr(cli, "fit", fake_fit)
    for seed in (0, 7):
        cli.main(["train", "--init", "uniform", "--optimizer", "random", "--episodes", "1", "--samples", "50",
                  "--seed", str(seed), "-o", str(tmp_path / f"m{seed}.npz")])
        model, optimizer = captured["model"], captured["optimizer"]
        start = [p.data.copy() for p in model.parameters()]
        costs = iter([1.0, 0.0])  # the change is kept: look at it
        optimizer.step(costs.__next__)
        change = np.concatenate([(p.data - s).ravel() for p, s in zip(model.parameters(), start, strict=True)])
        flat_start = np.concatenate([s.ravel() for s in start])
        assert len(change) == 193 and np.all(np.abs(change) <= 0.1)
        assert abs(np.corrcoef(flat_start, change)[0, 1]) < 0.5


# --- guards: the documented distributions -------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
def test_uniform_init_draws_weights_and_biases_uniform_on_0_1(shape: tuple[int, int]) -> None:
    """Layer docstring and README: init="uniform" is the seed's np.random.rand, weights and biases in [0, 1)."""
    weights, biases = _drawn("uniform", shape)
    assert weights.min() >= 0.0 and weights.max() < 1.0 and biases.min() >= 0.0 and biases.max() < 1.0
    assert _ks(weights, _uniform_cdf(0.0, 1.0)) < KS_LIMIT
    assert _ks(biases, _uniform_cdf(0.0, 1.0)) < KS_LIMIT
    assert abs(weights.var() - 1 / 12) < 6 * math.sqrt(1 / 180 / len(weights))  # var of U² about its mean


@pytest.mark.parametrize("shape", SHAPES)
def test_xavier_init_draws_weights_uniform_within_the_glorot_limit_and_biases_0(shape: tuple[int, int]) -> None:
    """±√(6 / (in + out)): variance 2 / (in + out), Glorot's; biases 0."""
    weights, biases = _drawn("xavier", shape)
    limit = math.sqrt(6.0 / sum(shape))
    assert np.abs(weights).max() <= limit
    assert _ks(weights, _uniform_cdf(-limit, limit)) < KS_LIMIT
    variance = 2.0 / sum(shape)  # limit² / 3
    assert abs(weights.var() / variance - 1) < 6 * math.sqrt(0.8 / len(weights))  # (var of U² is 4/5 var²)
    assert not biases.any()


@pytest.mark.parametrize("shape", SHAPES)
def test_he_init_draws_normal_weights_of_variance_2_over_in_size_and_biases_0(shape: tuple[int, int]) -> None:
    weights, biases = _drawn("he", shape)
    std = math.sqrt(2.0 / shape[0])
    assert _ks(weights, _normal_cdf(std)) < KS_LIMIT
    assert abs(weights.var() / std ** 2 - 1) < 6 * math.sqrt(2 / len(weights))
    assert abs(weights.mean()) < 6 * std / math.sqrt(len(weights))
    assert not biases.any()


@pytest.mark.parametrize("init", nn.INITS)
def test_an_mlp_s_layers_get_independent_draws_and_continue_a_generator(init: str) -> None:
    """rng= seeds all layers of an MLP: not the same numbers in every layer (one stream, continued), and a Generator
    given continues as documented: the MLP is the layers built one after the other from it, and it has moved on."""
    net = nn.MLP([20, 20, 20, 20], init=init, rng=3)
    weights = [layer.weights.data.ravel() for layer in net]
    for a, b in itertools.combinations(weights, 2):
        assert abs(np.corrcoef(a, b)[0, 1]) < 6 / math.sqrt(len(a))
    given = np.random.default_rng(11)
    net = nn.MLP([2, 5, 3], init=init, rng=given)
    same = np.random.default_rng(11)
    layers = [nn.Layer(2, 5, init=init, rng=same), nn.Layer(5, 3, init=init, rng=same)]
    for built, expected in zip(net, layers, strict=True):
        np.testing.assert_array_equal(built.weights.data, expected.weights.data)
        np.testing.assert_array_equal(built.biases.data, expected.biases.data)
    assert given.random() == same.random()  # both moved on by the same draws
    assert not np.array_equal(nn.MLP([2, 5, 3], init=init, rng=given).layers[0].weights.data,
                              net.layers[0].weights.data)


def test_random_search_changes_are_uniform_within_the_scale_and_a_rejected_one_leaves_everything() -> None:
    """RandomSearch docstring: each parameter changes by a uniform amount in [−scale, scale); a change that does not
    lower the cost is undone exactly."""
    w = Value(np.zeros(20000))
    search = optim.RandomSearch([w], scale=0.25, rng=5)
    accepted = iter([1.0, 0.0])
    search.step(lambda: next(accepted))
    assert np.abs(w.data).max() <= 0.25 and _ks(w.data, _uniform_cdf(-0.25, 0.25)) < KS_LIMIT
    kept = w.data.copy()
    rejected = iter([0.0, 1.0])
    search.step(lambda: next(rejected))
    np.testing.assert_array_equal(w.data, kept)
    assert (search.accepted, search.proposals) == (1, 2)


def test_xsquared_draws_x_uniform_on_low_high_and_its_targets_are_the_squares() -> None:
    x, y = xsquared(50000, low=-3.0, high=5.0, seed=1)
    assert x.min() >= -3.0 and x.max() < 5.0
    assert _ks(x, _uniform_cdf(-3.0, 5.0)) < KS_LIMIT
    np.testing.assert_array_equal(y, x * x)


def test_batches_give_every_order_of_the_samples_equally_often_and_lose_none() -> None:
    """A shared Generator gives a new order each pass, uniform over the 4! orders; every sample once per pass."""
    inputs, labels = np.arange(4.0).reshape(4, 1), np.arange(4)
    episodes = batches(inputs, labels, 3, seed=np.random.default_rng(2))
    counts: collections.Counter = collections.Counter()
    passes = 12000
    for _ in range(passes):
        order = np.concatenate([y for _, y in episodes])
        assert sorted(order) == [0, 1, 2, 3]
        counts[tuple(order)] += 1
    assert len(counts) == 24
    assert _chi_square(counts, 24, passes) < _chi_square_limit(23)


def test_train_test_split_picks_every_test_set_equally_often_and_loses_no_sample() -> None:
    inputs, labels = np.arange(6.0).reshape(6, 1), np.arange(6)
    counts: collections.Counter = collections.Counter()
    splits = 6000
    for seed in range(splits):
        train, test = train_test_split(inputs, labels, test_fraction=0.5, seed=seed)
        assert sorted(np.concatenate([train.labels, test.labels])) == list(range(6))
        np.testing.assert_array_equal(train.inputs.ravel(), train.labels)
        counts[tuple(sorted(test.labels))] += 1
    assert _chi_square(counts, math.comb(6, 3), splits) < _chi_square_limit(math.comb(6, 3) - 1)


def test_a_stratified_split_keeps_each_class_s_share_and_draws_its_members_uniformly() -> None:
    """Docstring: each class split separately, its test share round(count · test_fraction) (halves to even)."""
    labels = np.array([0] * 10 + [1] * 30 + [2] * 5)
    inputs = np.arange(45.0).reshape(45, 1)
    chosen = np.zeros(45)
    splits = 3000
    for seed in range(splits):
        train, test = train_test_split(inputs, labels, test_fraction=0.3, seed=seed, stratify=True)
        assert np.bincount(test.labels, minlength=3).tolist() == [3, 9, 2]  # 3, 9 and round(1.5) = 2
        assert sorted(np.concatenate([train.inputs, test.inputs]).ravel()) == list(range(45))
        chosen[test.inputs.ravel().astype(int)] += 1
    for cls, share in ((0, 3 / 10), (1, 9 / 30), (2, 2 / 5)):
        rate = chosen[labels == cls] / splits  # each member of a class equally likely to be in the test part
        assert np.abs(rate - share).max() < 6 * math.sqrt(share * (1 - share) / splits)
