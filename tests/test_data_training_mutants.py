"""Edges found by mutation testing of data.py and training.py: each test kills a hand-made mutant (a flipped
comparison, a dropped check or shuffle, a swapped preference) that the other tests let pass.

Equivalent mutants, left without a test:

* data.read_idx, ``len(raw) < expected`` → ``<=`` in the message of a file of the wrong size: that branch is only
  reached when ``len(raw) != expected``, where the two agree.
* training._check_gradient, ``if first and not grads`` → ``if not grads``: after the first pass it is only called
  for a norm that is not finite, which needs a gradient (parameters without one count as 0 in the norm).
"""

import gzip
import hashlib
import warnings

import numpy as np
import pytest
from helpers_data_files import idx_bytes  # an IDX file written independently of the reader
from helpers_models import Scripted  # an optimizer that sets scripted values: every cost known by hand

from tinygrad_edu import Value, nn, optim
from tinygrad_edu.data import download_mnist, load_digits, load_mnist, read_idx, train_test_split, xsquared
from tinygrad_edu.training import DivergenceWarning, fit

# --------------------------------------------------------------------------------------------------------- data


def test_xsquared_takes_an_interval_of_size_exactly_1e154():
    """The message says "at most 1e+154 in size" and (1e154)² = 1e308 < 1.797e308 is a float64, yet ±1e154 was
    refused; the next float above it still is."""
    x, y = xsquared(5, low=-1e154, high=1e154, seed=0)
    assert np.isfinite(y).all() and (y == x * x).all() and ((-1e154 <= x) & (x < 1e154)).all()
    with pytest.raises(ValueError, match=r"^xsquared: high must be finite and at most 1e\+154 in size"):
        xsquared(5, high=np.nextafter(1e154, np.inf))


def _digits_file(path, pixel):
    """A digits table in the bundled file's layout (1797 rows of 64 pixels and a label), gzip-compressed."""
    line = ",".join([pixel] + ["3"] * 63 + ["7"])
    with gzip.open(path, "wt", encoding="ascii") as f:
        f.write("\n".join([line] * 1797) + "\n")
    return path


def test_load_digits_refuses_a_pixel_that_is_no_whole_number(tmp_path):
    """The counts are whole numbers 0..16; a 2.5 is damage, though it lies in range (the range alone let it in)."""
    with pytest.raises(ValueError, match=r"damaged: pixel values must be whole numbers 0\.\.16"):
        load_digits(_digits_file(tmp_path / "half.csv.gz", "2.5"))
    assert load_digits(_digits_file(tmp_path / "whole.csv.gz", "2")).inputs[0, 0] == 2 / 16


def test_stratified_test_samples_are_drawn_at_random_within_each_class():
    """Each class's test samples are a random draw, not its first ones: 10 of the 50 of class 0 are its first
    10 with probability 1 / C(50, 10) ≈ 1e-10 (a seeded draw)."""
    x, labels = np.arange(100), np.repeat([0, 1], 50)
    _, test = train_test_split(x, labels, test_fraction=0.2, seed=0, stratify=True)
    assert sorted(test.inputs[test.labels == 0].tolist()) != list(range(10))
    assert sorted(test.inputs[test.labels == 1].tolist()) != list(range(50, 60))


def test_read_idx_refuses_a_nonzero_second_magic_byte(tmp_path):
    """Both leading bytes must be zero; only the first was checked, so 00 01 08 01 was read as labels."""
    path = tmp_path / "labels"
    path.write_bytes(b"\x00\x01\x08\x01" + (3).to_bytes(4, "big") + bytes([1, 2, 3]))
    with pytest.raises(ValueError, match=r"bad magic number 0x00010801, not an IDX file"):
        read_idx(path)


def test_a_cached_file_matches_a_checksum_given_in_capitals(tmp_path):
    """Hex digests are case-blind: a file already present whose md5 is given in capitals is kept, not fetched
    again (from a folder that is empty here, so a fetch would fail)."""
    root, empty = tmp_path / "cache", tmp_path / "empty"
    root.mkdir()
    empty.mkdir()
    body = b"not really MNIST"
    (root / "t10k-labels-idx1-ubyte.gz").write_bytes(body)
    sums = {"t10k-images-idx3-ubyte.gz": None, "t10k-labels-idx1-ubyte.gz": hashlib.md5(body).hexdigest().upper()}
    (root / "t10k-images-idx3-ubyte.gz").write_bytes(b"kept as it is")
    paths = download_mnist(root, kind="test", url=empty.as_uri() + "/", checksums=sums)
    assert [p.read_bytes() for p in paths] == [b"kept as it is", body]


def test_load_mnist_prefers_the_gz_file_to_a_plain_one_of_the_same_name(tmp_path):
    """Documented: the .gz files are preferred; both present with different labels, the .gz ones are read."""
    images = np.zeros((2, 2, 2), dtype=np.uint8)
    for stem, plain, packed in (("t10k-images-idx3-ubyte", images, images),
                                ("t10k-labels-idx1-ubyte", [1, 2], [8, 9])):
        (tmp_path / stem).write_bytes(idx_bytes(plain))
        (tmp_path / f"{stem}.gz").write_bytes(gzip.compress(idx_bytes(packed)))
    assert load_mnist(tmp_path, kind="test").labels.tolist() == [8, 9]


# ----------------------------------------------------------------------------------------------------- training


@pytest.mark.parametrize("batch_size", [None, 2])
def test_float32_inputs_reach_the_model_as_float32(batch_size):
    """Only inputs that are not float32 or float64 are converted: a float32 data set (load_mnist's default) trains
    in float32, not in a float64 copy of twice the size."""
    seen = set()
    w = Value(np.array([[0.5]], dtype=np.float32))

    def model(inputs):
        seen.add(inputs.data.dtype)
        return inputs @ w

    x = np.linspace(-1, 1, 4, dtype=np.float32).reshape(-1, 1)
    fit(model, x, 2 * x, optimizer=optim.GradientDescent([w], 0.1), episodes=2, batch_size=batch_size,
        progress=False)
    assert seen == {np.dtype(np.float32)}


def test_an_optimizer_of_another_model_is_named_as_such():
    """The check that the optimizer's parameters belong to the model comes first, with its own advice; without it
    the error is the later, vaguer one that the cost does not depend on them."""
    x = np.linspace(-1, 1, 5).reshape(-1, 1)
    net, other = nn.MLP([1, 2, 1], rng=0), nn.MLP([1, 2, 1], rng=1)
    with pytest.raises(ValueError, match=r"^fit: none of the optimizer's parameters belong to the model; build the "
                                         r"optimizer from this model's parameters"):
        fit(net, x, x, optimizer=optim.GradientDescent(other, 0.1), episodes=2, progress=False)


def test_a_gradient_norm_above_float64_of_finite_gradients_is_no_error():
    """C = x·w with x = (1.5e308, −1.5e308), w = (1, 1): C = 0 and ∇C = x, finite, though ‖∇C‖ = 1.5e308·√2
    exceeds float64 (inf).  One step of η = 1e-310 makes w = (0.985, 1.015), C = 1.5e308·(−0.03) = −4.5e306."""
    w = Value(np.array([[1.0], [1.0]]))
    history = fit(lambda inputs: inputs @ w, np.array([[1.5e308, -1.5e308]]), np.zeros((1, 1)),
                  cost=lambda outputs, targets: outputs.sum(), optimizer=optim.GradientDescent([w], 1e-310),
                  episodes=1, progress=False)
    assert history.gradient_norm == [np.inf] and history.cost == [0.0]
    assert history.final_cost == pytest.approx(-4.5e306, rel=1e-9)


def test_a_zero_gradient_update_that_moves_one_parameter_goes_on():
    """C = (w + b)² at w = b = 0: ∇C = 0, but the update moves w to 1 (b stays): only an update that changes no
    parameter stops training.  Then C = 1 twice (the script has no more updates)."""
    w, b = Value(np.array([0.0])), Value(np.array([0.0]))
    history = fit(lambda inputs: inputs * w + b, np.ones((1, 1)), np.zeros((1, 1)),
                  optimizer=Scripted([w, b], [[1.0, 0.0]]), episodes=3, progress=False)
    assert history.gradient_norm[0] == 0.0 and history.cost == [0.0, 1.0, 1.0]
    assert history.stopped == "episodes"


def test_a_cost_that_grows_from_exactly_zero_is_no_divergence():
    """C = w²: 0 at w = 0, then 25 at w = 5.  Growth from 0 is no factor of DIVERGENCE_FACTOR, so no warning
    (in an episode or after the last update)."""
    w = Value(np.array([0.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        history = fit(lambda inputs: inputs * w, np.ones((1, 1)), np.zeros((1, 1)),
                      optimizer=Scripted([w], [[5.0]]), episodes=2, progress=False)
    assert history.cost == [0.0, 25.0] and history.final_cost == 25.0
