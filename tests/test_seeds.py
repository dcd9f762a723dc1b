"""Every seed=/rng= argument follows one rule (tinygrad_edu.seeds): ints >= 0, Generators, None."""

import numpy as np
import pytest

from tinygrad_edu import Value, data, nn, optim

CALLS = {
    "Layer": lambda seed: nn.Layer(2, 2, rng=seed),
    "MLP": lambda seed: nn.MLP([1, 2], rng=seed),
    "xsquared": lambda seed: data.xsquared(4, seed=seed),
    "train_test_split": lambda seed: data.train_test_split(np.zeros((4, 1)), np.zeros(4), seed=seed),
    "batches": lambda seed: data.batches(np.zeros((4, 1)), np.zeros(4), 2, seed=seed),
    "RandomSearch": lambda seed: optim.RandomSearch([Value(1.0)], rng=seed),
}


@pytest.mark.parametrize("where", CALLS)
def test_bad_seeds_are_named_errors_and_good_ones_work(where):
    call = CALLS[where]
    with pytest.raises(ValueError, match=rf"^{where}: the seed must be an int >= 0, got -1$"):
        call(-1)
    with pytest.raises(TypeError, match=rf"^{where}: .*got str$"):
        call("x")
    for seed in (0, np.int64(3), None, np.random.default_rng(1)):
        call(seed)



def _flat(*arrays):
    return np.concatenate([np.ravel(a) for a in arrays])


#: What each call draws at random, as one flat array.
DRAWS = {
    "Layer": lambda seed: _flat(*(p.data for p in nn.Layer(2, 2, rng=seed).parameters())),
    "MLP": lambda seed: _flat(*(p.data for p in nn.MLP([1, 2], rng=seed).parameters())),
    "xsquared": lambda seed: _flat(*data.xsquared(4, seed=seed)),
    "train_test_split": lambda seed: _flat(data.train_test_split(np.arange(8.0).reshape(8, 1), np.arange(8.0),
                                                                 seed=seed)[0].inputs),
    "batches": lambda seed: _flat(*(x for x, _ in data.batches(np.arange(8.0).reshape(8, 1), np.arange(8.0), 2,
                                                                seed=seed))),
}


@pytest.mark.parametrize("where", DRAWS)
def test_none_follows_numpys_global_seed_as_scikit_learn_does(where):
    """rng=None drew fresh entropy, so a notebook starting with np.random.seed(0) (the seed's np.random.rand habit)
    got other networks and other shuffles every run; now None is seeded from numpy's global random state."""
    state = np.random.get_state()
    try:
        np.random.seed(0)
        first, second = DRAWS[where](None), DRAWS[where](None)
        np.random.seed(0)
        again = DRAWS[where](None)
    finally:
        np.random.set_state(state)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, second)  # not one fixed seed: the global state moves on
