"""A user with much more data than the seed's examples: 100,000 samples, mini-batches of 32 to 4096, float32 and
float64, an inputs file of 100,000 lines.  What such a user met: a bare numpy MemoryError where a cost of one's own
pairs flat targets with a column of outputs on many samples (the (n, n) array fit warns about for few samples cannot
be made), and fit's report of NaN inputs that took several times the data's memory to name the first one.  The
guards pin that mini-batch training reads each sample once per episode (no pass over all the samples per episode or
per batch) and that the data helpers keep every sample of a large, tiled data set."""

import tracemalloc

import numpy as np
import pytest

from tinygrad_edu import Value, losses, nn, optim
from tinygrad_edu.data import load_digits, one_hot, train_test_split
from tinygrad_edu.training import fit

# (n, n) float64 for this n is about 182 TiB, beyond any machine's address space: numpy's allocation always fails
_TOO_MANY_PAIRS = 5_000_000


def test_flat_targets_paired_with_a_column_on_many_samples_get_the_advice_not_a_memory_error() -> None:
    """For 50 samples fit warns that outputs (n, 1) minus targets (n,) made (n, n); for millions numpy cannot
    allocate (n, n) at all, and its MemoryError ("Unable to allocate 182 TiB") named neither fit, the cost nor the
    targets' shape.  The samples here are broadcast views (no memory of their own) so that only the pairing is big."""
    n = _TOO_MANY_PAIRS
    w = Value([1.0])
    inputs, targets = np.broadcast_to(np.zeros(1), (n, 1)), np.broadcast_to(np.zeros(1), (n,))

    def my_cost(out, t):
        return ((out - t) ** 2).mean()

    with pytest.raises(ValueError, match=rf"^fit: in episode 1 of 1, the cost function my_cost .*\({n}, {n}\).*"
                                         rf"targets of shape \({n},\).*targets\.reshape\(-1, 1\)") as caught:
        fit(lambda x: x * w, inputs, targets, cost=my_cost, optimizer=optim.GradientDescent([w], 0.1), episodes=1,
            progress=False)
    assert isinstance(caught.value.__cause__, MemoryError)  # numpy's own error stays readable as the cause
    assert w.data.tolist() == [1.0]  # no update was made


def test_a_memory_error_of_another_shape_is_left_as_it_is() -> None:
    """Only numpy's failure to make the (n, n) pairs gets the advice; another MemoryError is not put down to it."""
    w = Value([1.0])

    def my_cost(out, t):
        raise MemoryError("something else")

    with pytest.raises(MemoryError, match="^something else$"):
        fit(lambda x: x * w, np.zeros((6, 1)), np.zeros(6), cost=my_cost, optimizer=optim.GradientDescent([w], 0.1),
            episodes=1, progress=False)


def test_naming_the_first_nan_of_the_inputs_takes_less_memory_than_the_inputs() -> None:
    """A column read as all NaN (a failed parse) in 100,000 × 64 samples: the error peaked at 213 MB beside 51 MB of
    data, argwhere's two int64 indices per NaN.  Here 20,000 × 64 (10 MB): the check needs a few booleans per
    number, not 16 bytes per NaN."""
    inputs = np.full((20_000, 64), np.nan)
    net = nn.MLP([64, 3], activation="identity", rng=0)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"^fit: the inputs hold NaN or inf \(the first at index \(0, 0\): nan\) "
                                             r"in 20000 samples of 20000 \(rows 0, 1, 2, 3, 4 and 19995 more\)"):
            fit(net, inputs, np.zeros((20_000, 3)), optimizer=optim.SGD(net, learning_rate=0.1), episodes=1,
                progress=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < inputs.nbytes


def test_the_first_nan_named_is_the_first_in_row_order() -> None:
    """The index named is the first non-finite number reading row by row, in a float32 array too."""
    inputs = np.zeros((300, 5), dtype=np.float32)
    inputs[120, 3], inputs[7, 4], inputs[7, 2] = np.nan, np.inf, -np.inf
    net = nn.MLP([5, 2], activation="identity", rng=0).float()
    with pytest.raises(ValueError, match=r"^fit: the inputs hold NaN or inf \(the first at index \(7, 2\): -inf\) "
                                         r"in 2 samples of 300 \(rows 7, 120\)"):
        fit(net, inputs, np.zeros((300, 2)), optimizer=optim.SGD(net, learning_rate=0.1), episodes=1, progress=False)


class _CountingRows:
    """A model that records how many samples each call gets."""

    def __init__(self, net: nn.MLP) -> None:
        self.net, self.rows = net, []

    def __call__(self, x):
        self.rows.append(len(x))
        return self.net(x)

    def parameters(self):
        return self.net.parameters()


@pytest.mark.parametrize("make", [lambda net: optim.SGD(net, learning_rate=0.01), lambda net: optim.Adam(net)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mini_batches_read_each_sample_once_per_episode_and_all_samples_once_at_the_end(make, dtype) -> None:
    """5 episodes of batches of 64 over 1,000 samples: the model sees 16 batches (15 of 64, one of 40) per episode
    and all the samples once, for the final cost; no pass over all the samples per episode or per batch."""
    net = nn.MLP([8, 4, 3], activation="tanh", output_activation="identity", rng=0)
    if dtype == np.float32:
        net.float()
    model = _CountingRows(net)
    inputs = np.random.default_rng(0).random((1000, 8)).astype(dtype)
    history = fit(model, inputs, np.arange(1000) % 3, cost=losses.cross_entropy, optimizer=make(net), episodes=5,
                  batch_size=64, progress=False)
    assert history.episodes == 5
    assert model.rows == ([64] * 15 + [40]) * 5 + [1000]
    with_all = losses.cross_entropy(net(Value(inputs, requires_grad=False)), np.arange(1000) % 3).item()
    assert history.final_cost == with_all


def test_tiled_digits_split_and_one_hot_keep_every_sample() -> None:
    """load_digits tiled 10 times (17,970 samples): a stratified split is a partition of the rows that keeps each
    class's share (to the nearest sample), and one_hot puts each label's 1 where np.eye does."""
    digits = load_digits()
    inputs = np.tile(digits.inputs, (10, 1))
    labels = np.tile(digits.labels, 10)
    ids = np.arange(len(labels), dtype=np.float64)
    train, test = train_test_split(np.c_[ids, inputs], labels, test_fraction=0.2, seed=3, stratify=True)
    seen = np.concatenate([train.inputs[:, 0], test.inputs[:, 0]]).astype(int)
    assert sorted(seen.tolist()) == list(range(len(labels)))
    np.testing.assert_array_equal(np.r_[train.inputs, test.inputs][:, 1:], inputs[seen])
    np.testing.assert_array_equal(np.r_[train.labels, test.labels], labels[seen])
    for digit in range(10):
        count = int((labels == digit).sum())
        assert int((test.labels == digit).sum()) == round(count * 0.2)
    np.testing.assert_array_equal(one_hot(labels), np.eye(10)[labels])
