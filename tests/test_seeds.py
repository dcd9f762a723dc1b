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
