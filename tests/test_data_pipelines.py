"""tinygrad_edu.data fed to hand-written loops, as a data-pipeline user (coming from PyTorch) writes them.

The demanding user's expectations: nothing silently dropped or repeated, reproducible with seeds, and where the
behaviour differs from PyTorch's ``DataLoader`` the difference is said.  Each test marked xfail pins a defect.
"""

import math

import numpy as np
import pytest

from tinygrad_edu import Value, losses
from tinygrad_edu.data import batches


def _order(passes):
    """The sample numbers in the order a pass over ``passes`` gives them (inputs are the sample numbers)."""
    return np.concatenate([bx[:, 0] for bx, _ in passes])


# -------------------------------------------------------------------------- batches kept in a variable


def test_batches_kept_in_a_variable_give_every_sample_in_every_episode():
    """``loader = batches(...)`` then ``for episode ...: for xb, yb in loader`` (PyTorch's DataLoader habit): each
    pass must visit all 10 samples once, not only the first."""
    x = np.arange(10.0)[:, None]
    loader = batches(x, 10 * x[:, 0], batch_size=4, seed=0)
    for _ in range(3):
        parts = list(loader)
        assert [len(bx) for bx, _ in parts] == [4, 4, 2]
        assert np.array_equal(np.sort(_order(parts)), np.arange(10.0))
        assert all(np.array_equal(by, 10 * bx[:, 0]) for bx, by in parts)  # pairs stay together


def test_a_hand_written_loop_over_kept_batches_updates_in_every_episode():
    """Gradient descent on C = mean((w·x − y)²), y = 2x, in batches of 3 over 3 episodes: 3 × 4 updates, and w keeps
    moving towards 2 after episode 1 (before, episodes 2 and 3 made no update, silently)."""
    x = np.linspace(-1, 1, 10)[:, None]
    loader = batches(x, 2 * x, batch_size=3, seed=1)
    w, updates, after = Value(np.zeros((1, 1))), 0, []
    for _ in range(3):
        for xb, yb in loader:
            w.grad = None
            losses.squared_error(xb @ w, yb).backward()
            w.data -= 0.5 * w.grad
            updates += 1
        after.append(float(w.data.item()))
    assert updates == 3 * 4
    assert abs(after[2] - 2) < abs(after[1] - 2) < abs(after[0] - 2)


def test_kept_batches_reshuffle_each_pass_reproducibly_from_an_int_seed():
    """As DataLoader(shuffle=True) after a manual seed: each pass a new order, the same sequence of orders from the
    same seed; the first pass is the order a fresh call with that seed gives (as before)."""
    x = np.arange(30.0)[:, None]
    first, second = batches(x, x, 7, seed=3), batches(x, x, 7, seed=3)
    orders = [_order(first) for _ in range(3)]
    assert all(np.array_equal(a, _order(second)) for a in orders)
    assert np.array_equal(orders[0], _order(batches(x, x, 7, seed=3)))
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])
    unshuffled = batches(x, x, 7, shuffle=False)
    assert all(np.array_equal(_order(unshuffled), np.arange(30.0)) for _ in range(2))


@pytest.mark.parametrize("n, batch_size", [(10, 4), (12, 4), (3, 50), (1, 1), (0, 3)])
def test_batches_have_a_len_the_number_of_batches_of_a_pass(n, batch_size):
    loader = batches(np.zeros((n, 2)), np.zeros(n), batch_size, seed=0)
    assert len(loader) == math.ceil(n / batch_size) == len(list(loader))


def test_drop_last_advice_offers_a_way_that_drops_other_samples_each_episode():
    """PyTorch's drop_last=True with shuffling leaves out different samples each epoch; the advice given,
    ``inputs[:len(inputs) // b * b]``, leaves out the same last samples in every episode (all of a class, when the
    samples are sorted by class).  The message must say so and give the per-episode way: skip the short batch."""
    x, y = np.zeros((9, 1)), np.arange(9)
    with pytest.raises(TypeError, match="^batches: there is no argument drop_last=") as info:
        batches(x, y, 2, drop_last=True)
    message = str(info.value)
    assert "same samples" in message and "continue" in message
