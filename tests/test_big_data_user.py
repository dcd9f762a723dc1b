"""A user with much more data than the seed's examples: 100,000 samples, mini-batches of 32 to 4096, float32 and
float64, an inputs file of 100,000 lines.  What such a user met: a bare numpy MemoryError where a cost of one's own
pairs flat targets with a column of outputs on many samples (the (n, n) array fit warns about for few samples cannot
be made), and fit's report of NaN inputs that took several times the data's memory to name the first one.  The
guards pin that mini-batch training reads each sample once per episode (no pass over all the samples per episode or
per batch) and that the data helpers keep every sample of a large, tiled data set.

A second pass (60,000 × 784 float32 and float64 samples from .npy and .npz, batches of 32 to 512, an MLP
784-128-10 with SGD and Adam) measured fit's peak memory beside the inputs: the cost on all samples after the last
update (and, full batch, every episode's cost) was computed on Value(inputs), a copy of every sample, 376 MB beside
376 MB of float64 inputs (502 MB peak for one episode of batches of 256; 64 MB once read through a view); and the
progress bar, which counts episodes, stood at 0/2 with no cost for the minute an episode of batches of 32 took."""

import tracemalloc
import types

import numpy as np
import pytest

from tinygrad_edu import Value, losses, nn, optim, training
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


class _Recording:
    """A model that keeps the Value each call gets."""

    def __init__(self, net: nn.MLP) -> None:
        self.net, self.calls = net, []

    def __call__(self, x):
        self.calls.append(x)
        return self.net(x)

    def parameters(self):
        return self.net.parameters()


@pytest.mark.parametrize("batch_size", [None, 64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_cost_on_all_samples_reads_the_inputs_without_copying_them(batch_size, dtype) -> None:
    """Full batch every episode's pass, with mini-batches the pass after the last update: the model gets the
    caller's numbers, read-only, not a copy of them."""
    inputs = np.random.default_rng(0).random((500, 6)).astype(dtype)
    kept = inputs.copy()
    net = nn.MLP([6, 4, 3], activation="tanh", output_activation="identity", rng=0)
    if dtype == np.float32:
        net.float()
    model = _Recording(net)
    fit(model, inputs, np.arange(500) % 3, cost=losses.cross_entropy, optimizer=optim.SGD(net, learning_rate=0.1),
        episodes=3, batch_size=batch_size, seed=0, progress=False)
    whole = [x for x in model.calls if len(x) == len(inputs)]
    assert len(whole) == (4 if batch_size is None else 1)  # 3 episodes and the final cost; the final cost
    for x in whole:
        assert x.dtype == dtype and not x.requires_grad
        assert np.shares_memory(x.data, inputs) and not x.data.flags.writeable
    np.testing.assert_array_equal(inputs, kept)  # (and the caller's numbers are as they were)


def test_mini_batch_training_takes_less_memory_than_the_inputs() -> None:
    """20,000 × 100 float64 inputs (16 MB), batches of 256: batches, the hidden layer of all samples (1.3 MB) and
    fit's NaN check (2 MB of booleans) fit in half the inputs' memory, which a copy of them does not."""
    inputs = np.random.default_rng(1).random((20_000, 100))
    net = nn.MLP([100, 8, 3], activation="relu", output_activation="identity", rng=0)
    optimizer = optim.Adam(net)
    tracemalloc.start()
    try:
        history = fit(net, inputs, np.arange(20_000) % 3, cost=losses.cross_entropy, optimizer=optimizer, episodes=1,
                      batch_size=256, seed=0, progress=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert history.episodes == 1
    assert peak < inputs.nbytes / 2


def test_the_final_cost_read_through_a_view_is_the_cost_on_all_samples() -> None:
    """The cost fit reports after the last update is the cost on every sample, computed again by hand, bit for bit,
    for float32 inputs read from a memory-mapped .npy file (np.load(mmap_mode="r"), read-only already)."""
    import os
    import tempfile
    inputs = np.random.default_rng(2).random((3000, 20)).astype(np.float32)
    labels = np.arange(3000) % 10
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "inputs.npy")
        np.save(path, inputs)
        mapped = np.load(path, mmap_mode="r")
        net = nn.MLP([20, 16, 10], activation="relu", output_activation="identity", rng=0).float()
        history = fit(net, mapped, labels, cost=losses.cross_entropy, optimizer=optim.SGD(net, learning_rate=0.1),
                      episodes=2, batch_size=128, seed=0, progress=False)
        del mapped
    by_hand = losses.cross_entropy(net(Value(inputs, requires_grad=False)), labels).item()
    assert history.final_cost == by_hand


class _Bar:
    """A stand-in for tqdm's bar that remembers the postfixes fit shows and the episodes counted when each came."""

    def __init__(self, total):
        self.total, self.n, self.shown = total, 0, []

    def update(self, n):
        self.n += n

    def set_postfix(self, refresh=True, **values):
        self.shown.append((self.n, values))

    def refresh(self):
        pass

    def clear(self):
        pass

    def close(self):
        pass


def test_the_progress_bar_shows_the_batch_under_way_and_the_cost_so_far(monkeypatch) -> None:
    """One episode of 4 batches on a slow machine (each look at the clock 0.3 s later): the bar shows each batch and
    the average cost of the batches so far (weighted by their sizes) while the episode runs, then the episode's."""
    bars = []
    monkeypatch.setattr(training, "_progress_bar", lambda enabled, episodes, label: bars.append(_Bar(episodes))
                        or bars[-1])
    clock = iter(np.arange(0.0, 1000.0, 0.3))
    monkeypatch.setattr(training, "time", types.SimpleNamespace(perf_counter=lambda: float(next(clock))))
    inputs = np.random.default_rng(3).random((100, 5))
    net = nn.MLP([5, 3], activation="identity", rng=0)
    model = _Recording(net)
    costs = []

    def cost(out, t):
        costs.append((len(t), losses.cross_entropy(out, t)))
        return costs[-1][1]

    history = fit(model, inputs, np.arange(100) % 3, cost=cost, optimizer=optim.SGD(net, learning_rate=0.1),
                  episodes=1, batch_size=30, shuffle=False)
    during = [values for n, values in bars[0].shown if n == 0]
    assert [values["batch"] for values in during] == ["1/4", "2/4", "3/4", "4/4"]
    sizes, numbers = [size for size, _ in costs[:4]], [c.item() for _, c in costs[:4]]
    so_far = [np.dot(sizes[:k], numbers[:k]) / sum(sizes[:k]) for k in range(1, 5)]
    assert [values["cost"] for values in during] == [f"{c:.3g}" for c in so_far]
    assert bars[0].shown[-1] == (1, {"cost": f"{history.cost[-1]:.3g}"})
