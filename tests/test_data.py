"""tinygrad_edu.data: x² samples, the bundled digits, splitting/one-hot/batches, the IDX reader and the
MNIST download (served from a local HTTP server on 127.0.0.1; these tests never touch the internet)."""

import gzip
import hashlib
import os
import socket
import threading
import warnings
from importlib import resources

import numpy as np
import pytest
from helpers_data_files import Server, digits_text, fake_mnist, idx_bytes, make_mnist_dir, write_file, write_gz
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import data
from tinygrad_edu.data import (
    MNIST_URL_ENV,
    Dataset,
    DownloadError,
    batches,
    download_mnist,
    load_digits,
    load_mnist,
    one_hot,
    read_idx,
    train_test_split,
    xsquared,
)

# ------------------------------------------------------------------------------------------------- x squared


def test_xsquared_shapes_range_and_targets():
    x, y = xsquared()
    assert x.shape == y.shape == (1000, 1) and x.dtype == y.dtype == np.float64
    assert np.all((x >= -1.0) & (x <= 1.0))
    assert np.array_equal(y, x * x)
    # the whole interval of the seed's f : [-1, 1] -> R is covered, both signs and near the ends
    assert x.min() < -0.95 and x.max() > 0.95 and (x < 0).mean() > 0.4


def test_xsquared_custom_interval_and_reproducibility():
    x, y = xsquared(50, low=2.0, high=3.0, seed=7)
    assert np.all((x >= 2.0) & (x <= 3.0)) and np.array_equal(y, x ** 2)
    again, _ = xsquared(50, low=2.0, high=3.0, seed=7)
    other, _ = xsquared(50, low=2.0, high=3.0, seed=8)
    assert np.array_equal(x, again) and not np.array_equal(x, other)
    x_rng, _ = xsquared(50, low=2.0, high=3.0, seed=np.random.default_rng(7))
    assert np.array_equal(x, x_rng)


@pytest.mark.parametrize("kwargs, error, words", [
    ({"n": 0}, ValueError, "xsquared: n must be an integer >= 1, got 0"),
    ({"n": 2.5}, TypeError, "integer"),
    ({"n": True}, TypeError, "integer"),
    ({"low": 1.0, "high": 1.0}, ValueError, "low < high"),
    ({"low": 1.0, "high": -1.0}, ValueError, "low < high"),
    ({"high": float("nan")}, ValueError, "finite"),
    ({"low": "a"}, TypeError, "xsquared: low must be a number, got str"),
    ({"seed": "x"}, TypeError, "seed"),
])
def test_xsquared_rejects_bad_arguments(kwargs, error, words):
    with pytest.raises(error, match="xsquared") as info:
        xsquared(**kwargs)
    assert words in str(info.value)


# ---------------------------------------------------------------------------------------------------- digits


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def test_digits_shape_range_and_labels(digits):
    assert isinstance(digits, Dataset)
    x, labels = digits  # unpacks like a tuple
    assert x.shape == (1797, 64) and x.dtype == np.float64
    assert labels.shape == (1797,) and np.issubdtype(labels.dtype, np.integer)
    assert x.min() == 0.0 and x.max() == 1.0
    counts = np.bincount(labels, minlength=10)
    assert len(counts) == 10 and counts.sum() == 1797
    assert np.all((counts >= 170) & (counts <= 190))  # about 180 of each digit


def test_digit_pixels_are_sixteenths(digits):
    # each pixel counts the "on" pixels of a 4x4 block, 0..16, scaled by 1/16
    assert np.array_equal(digits.inputs * 16, np.round(digits.inputs * 16))
    # the border columns of the 8x8 images are mostly dark, the centre is not
    images = digits.inputs.reshape(-1, 8, 8)
    assert images[:, :, 0].mean() < images[:, 3:5, 3:5].mean()


def test_digit_labels_belong_to_their_images(digits):
    # nearest class mean on a held-out part: far above the 10 % of guessing only if images and labels agree
    train, test = train_test_split(*digits, test_fraction=0.3, seed=1)
    means = np.stack([train.inputs[train.labels == c].mean(axis=0) for c in range(10)])
    distances = ((test.inputs[:, None, :] - means[None]) ** 2).sum(axis=2)
    assert (distances.argmin(axis=1) == test.labels).mean() > 0.85


def test_digits_equal_scikit_learns_copy(digits):
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    reference = sklearn_datasets.load_digits()
    assert np.array_equal(digits.inputs * 16, reference.data)
    assert np.array_equal(digits.labels, reference.target)


def test_digits_come_with_attribution():
    text = (resources.files("tinygrad_edu") / "datasets" / "ATTRIBUTION.txt").read_text(encoding="utf-8")
    for fact in ("Alpaydin", "Kaynak", "CC BY 4.0", "archive.ics.uci.edu"):
        assert fact in text


def test_load_digits_reads_a_valid_copy(tmp_path):
    x, labels = load_digits(write_gz(tmp_path / "d.csv.gz", digits_text(pixel=4, label=7)))
    assert np.all(x == 0.25) and np.all(labels == 7)


@pytest.mark.parametrize("text, words", [
    (digits_text(rows=1796), "shape"),
    (digits_text(columns=64), "shape"),
    (digits_text(label=10), "labels"),
    (digits_text(pixel=17), "pixel"),
    (digits_text().replace("5,", "x,", 1), "cannot be read"),
])
def test_load_digits_rejects_damaged_files(tmp_path, text, words):
    path = write_gz(tmp_path / "d.csv.gz", text)
    with pytest.raises(ValueError, match="load_digits.*damaged") as info:
        load_digits(path)
    assert words in str(info.value) and "d.csv.gz" in str(info.value)


@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_load_digits_of_a_file_without_numbers_is_a_clear_error_without_numpys_warning(tmp_path, text):
    path = write_gz(tmp_path / "empty.csv.gz", text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"load_digits: .*empty.csv.gz.* holds no numbers: it is empty"):
            load_digits(path)


def test_load_digits_rejects_truncated_and_non_gzip_files(tmp_path):
    good = write_gz(tmp_path / "good.csv.gz", digits_text()).read_bytes()
    (tmp_path / "cut.csv.gz").write_bytes(good[: len(good) // 2])
    (tmp_path / "plain.csv.gz").write_text(digits_text())
    for name in ("cut.csv.gz", "plain.csv.gz"):
        with pytest.raises(ValueError, match="load_digits.*damaged"):
            load_digits(tmp_path / name)
    with pytest.raises(FileNotFoundError, match="load_digits"):
        load_digits(tmp_path / "missing.csv.gz")


# ------------------------------------------------------------------------------------ split, one-hot, batches


def test_split_partitions_the_samples_and_keeps_pairs():
    ids = np.arange(101)
    inputs, labels = np.stack([ids, -ids], axis=1), ids % 3
    train, test = train_test_split(inputs, labels, test_fraction=0.2, seed=3)
    assert len(test.inputs) == 21 and len(train.inputs) == 80  # ceil(20.2), as scikit-learn's test_size=0.2
    seen = np.concatenate([train.inputs[:, 0], test.inputs[:, 0]])
    assert np.array_equal(np.sort(seen), ids)  # each sample exactly once
    for part in (train, test):
        assert np.array_equal(part.inputs[:, 1], -part.inputs[:, 0])
        assert np.array_equal(part.labels, part.inputs[:, 0] % 3)


def test_split_is_reproducible():
    x, y = np.arange(50.0)[:, None], np.arange(50)
    first, second = train_test_split(x, y, seed=5), train_test_split(x, y, seed=5)
    other = train_test_split(x, y, seed=6)
    assert all(np.array_equal(a.inputs, b.inputs) for a, b in zip(first, second, strict=True))
    assert not np.array_equal(first[1].inputs, other[1].inputs)


def test_split_stratified_keeps_class_proportions(digits):
    train, test = train_test_split(*digits, test_fraction=0.25, seed=0, stratify=True)
    full = np.bincount(digits.labels, minlength=10)
    assert np.array_equal(np.bincount(test.labels, minlength=10), np.round(full * 0.25).astype(int))
    assert np.array_equal(np.bincount(train.labels, minlength=10) + np.bincount(test.labels, minlength=10),
                          full)


@pytest.mark.parametrize("args, kwargs, error, words", [
    ((np.zeros((5, 2)), np.zeros(4)), {}, ValueError, "(5, 2) and (4,)"),
    ((np.zeros((5, 2)), np.zeros(5)), {"test_fraction": 0.0}, ValueError, "test_fraction must lie in (0, 1)"),
    ((np.zeros((5, 2)), np.zeros(5)), {"test_fraction": 1.0}, ValueError, "test_fraction must lie in (0, 1)"),
    ((np.zeros((5, 2)), np.zeros(5)), {"test_fraction": "0.2"}, TypeError, "number"),
    ((np.zeros((2, 2)), np.zeros(2)), {"test_fraction": 0.6}, ValueError, "at least 1"),  # ceil(1.2): 0 left
    ((np.zeros((5, 2)), np.zeros((5, 2))), {"stratify": True}, ValueError, "1-D"),
    ((np.float64(1.0), np.zeros(1)), {}, ValueError, "first axis"),
])
def test_split_rejects_bad_arguments(args, kwargs, error, words):
    with pytest.raises(error, match="train_test_split") as info:
        train_test_split(*args, **kwargs)
    assert words in str(info.value)


@given(st.lists(st.integers(0, 9), min_size=1, max_size=30))
def test_one_hot_activates_exactly_the_labels_neuron(labels):
    targets = one_hot(np.array(labels))
    assert targets.shape == (len(labels), 10)
    assert np.array_equal(targets.sum(axis=1), np.ones(len(labels)))
    assert np.array_equal(targets.argmax(axis=1), labels)
    assert set(np.unique(targets)) <= {0.0, 1.0}


def test_one_hot_nine_is_the_tenth_neuron_and_other_class_counts():
    assert one_hot([9])[0, 9] == 1.0 and one_hot([9])[0, :9].sum() == 0.0
    assert one_hot(np.array([[0, 2]]), classes=3).shape == (1, 2, 3)


@pytest.mark.parametrize("labels, classes, error, words", [
    ([0, 10], 10, ValueError, "label 10"),
    ([-1], 10, ValueError, "label -1"),
    ([2], 2, ValueError, "0..1"),
    ([0.0, 1.0], 10, TypeError, "integers"),
    ([True], 10, TypeError, "integers"),
    ([0], 0, ValueError, "classes"),
])
def test_one_hot_rejects_bad_labels(labels, classes, error, words):
    with pytest.raises(error, match="one_hot") as info:
        one_hot(np.array(labels), classes=classes)
    assert words in str(info.value)


@given(n=st.integers(1, 40), batch_size=st.integers(1, 50), shuffle=st.booleans(), seed=st.integers(0, 99))
def test_batches_visit_every_sample_once_per_episode(n, batch_size, shuffle, seed):
    x, y = np.arange(n)[:, None] * 1.0, np.arange(n) * 10
    parts = list(batches(x, y, batch_size, shuffle=shuffle, seed=seed))
    sizes = [len(bx) for bx, _ in parts]
    assert sizes == [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    order = np.concatenate([bx[:, 0] for bx, _ in parts])
    assert np.array_equal(np.sort(order), np.arange(n))
    for bx, by in parts:
        assert np.array_equal(by, bx[:, 0] * 10)  # pairs stay together
    if not shuffle:
        assert np.array_equal(order, np.arange(n))


def test_batches_shuffle_reproducibly():
    x = np.arange(30)[:, None]

    def order(**kw):
        return np.concatenate([bx[:, 0] for bx, _ in batches(x, x, 7, **kw)])

    assert np.array_equal(order(seed=4), order(seed=4))
    assert not np.array_equal(order(seed=4), order(seed=5))
    # one Generator shared across episodes: a new order each episode, the same sequence from the same seed
    rng_a, rng_b = np.random.default_rng(1), np.random.default_rng(1)
    episodes_a = [order(seed=rng_a) for _ in range(3)]
    episodes_b = [order(seed=rng_b) for _ in range(3)]
    assert all(np.array_equal(a, b) for a, b in zip(episodes_a, episodes_b, strict=True))
    assert not np.array_equal(episodes_a[0], episodes_a[1])


@pytest.mark.parametrize("args, kwargs, error, words", [
    ((np.zeros((4, 1)), np.zeros(3), 2), {}, ValueError, "(4, 1) and (3,)"),
    ((np.zeros((4, 1)), np.zeros(4), 0), {}, ValueError, "batch_size must be an integer >= 1"),
    ((np.zeros((4, 1)), np.zeros(4), 2.0), {}, TypeError, "integer"),
    ((np.zeros((4, 1)), np.zeros(4), True), {}, TypeError, "integer"),
    ((np.zeros((4, 1)), np.zeros(4), 2), {"seed": 1.5}, TypeError, "seed"),
])
def test_batches_reject_bad_arguments_when_called(args, kwargs, error, words):
    with pytest.raises(error, match="batches") as info:
        batches(*args, **kwargs)  # no iteration needed: checked at the call
    assert words in str(info.value)


# ------------------------------------------------------------------------------------------------------- IDX


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_read_idx_round_trip(tmp_path, suffix):
    images, labels = fake_mnist(5, seed=0, rows=3, cols=4)
    got_images = read_idx(write_file(tmp_path / f"i{suffix}", idx_bytes(images)), ndim=3)
    got_labels = read_idx(write_file(tmp_path / f"l{suffix}", idx_bytes(labels)), ndim=1)
    assert got_images.dtype == np.uint8 and np.array_equal(got_images, images)
    assert np.array_equal(got_labels, labels)


def test_read_idx_magic_numbers_are_mnists():
    images, labels = fake_mnist(2, seed=0)
    assert idx_bytes(images)[:4] == (0x00000803).to_bytes(4, "big")
    assert idx_bytes(labels)[:4] == (0x00000801).to_bytes(4, "big")


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("make, words", [
    (lambda im: idx_bytes(im, zero=b"\x1f\x8b"), "bad magic number 0x1f8b0803"),
    (lambda im: idx_bytes(im, dtype_byte=0x0D), "data type byte 0x0d"),
    (lambda im: idx_bytes(im.reshape(-1)), "expected 0x00000803"),
    (lambda im: idx_bytes(im)[:-1], "truncated"),
    (lambda im: idx_bytes(im)[:10], "header"),
    (lambda im: idx_bytes(im)[:3], "too short"),
    (lambda im: idx_bytes(im) + b"\x00", "longer than its header"),
])
def test_read_idx_rejects_bad_files(tmp_path, suffix, make, words):
    images, _ = fake_mnist(3, seed=1, rows=4, cols=4)
    path = write_file(tmp_path / f"bad-images{suffix}", make(images))
    with pytest.raises(ValueError, match="read_idx") as info:
        read_idx(path, ndim=3)
    assert words in str(info.value) and "bad-images" in str(info.value)


def test_read_idx_rejects_a_cut_gzip_stream(tmp_path):
    images, _ = fake_mnist(3, seed=1)
    raw = gzip.compress(idx_bytes(images))
    path = tmp_path / "cut.gz"
    path.write_bytes(raw[: len(raw) - 20])
    with pytest.raises(ValueError, match="read_idx.*cut.gz"):
        read_idx(path)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_load_mnist_reads_both_splits(tmp_path, suffix):
    splits = make_mnist_dir(tmp_path, suffix=suffix)
    for kind, (images, labels) in splits.items():
        x, y = load_mnist(tmp_path, kind=kind)
        assert x.shape == (len(images), 784) and x.dtype == np.float32
        assert np.allclose(x, images.reshape(len(images), -1) / 255.0, rtol=0, atol=1e-7)
        assert 0.0 <= x.min() and x.max() <= 1.0
        assert np.array_equal(y, labels) and np.issubdtype(y.dtype, np.integer)
    x3, _ = load_mnist(tmp_path, kind="test", flatten=False, dtype=np.float64)
    assert x3.shape == (4, 28, 28) and x3.dtype == np.float64
    assert np.array_equal(x3, splits["test"][0] / 255.0)


def test_load_mnist_of_files_without_images_is_empty(tmp_path):
    """Reshaping 0 images with -1 failed in numpy (cannot reshape array of size 0), naming nothing."""
    make_mnist_dir(tmp_path, n_train=0)
    x, y = load_mnist(tmp_path)
    assert x.shape == (0, 784) and y.shape == (0,)
    assert load_mnist(tmp_path, flatten=False).inputs.shape == (0, 28, 28)


def test_load_mnist_rejects_mismatched_and_bad_files(tmp_path):
    make_mnist_dir(tmp_path)
    images, labels = fake_mnist(5, seed=4)
    write_file(tmp_path / "train-labels-idx1-ubyte.gz", idx_bytes(labels[:4]))
    write_file(tmp_path / "train-images-idx3-ubyte.gz", idx_bytes(images))
    with pytest.raises(ValueError, match="5 images.*4 labels"):
        load_mnist(tmp_path)
    write_file(tmp_path / "train-labels-idx1-ubyte.gz", idx_bytes(np.r_[labels[:4], 10]))
    with pytest.raises(ValueError, match="label 10"):
        load_mnist(tmp_path)
    # the label file where the image file should be: its magic number says 1 dimension, not 3
    write_file(tmp_path / "train-images-idx3-ubyte.gz", idx_bytes(labels))
    with pytest.raises(ValueError, match="train-images.*0x00000801.*0x00000803"):
        load_mnist(tmp_path)


def test_load_mnist_missing_files_and_bad_kind(tmp_path):
    with pytest.raises(FileNotFoundError, match="download=True"):
        load_mnist(tmp_path)
    with pytest.raises(ValueError, match="kind"):
        load_mnist(tmp_path, kind="validation")


# -------------------------------------------------------------------------------------------------- download


@pytest.fixture
def server(tmp_path):
    """A server holding four small MNIST-like .gz files, and their md5 checksums."""
    srv = Server()
    source = tmp_path / "source"
    srv.splits = make_mnist_dir(source, n_train=7, n_test=3)
    srv.files = {p.name: p.read_bytes() for p in source.iterdir()}
    srv.md5 = {name: hashlib.md5(body).hexdigest() for name, body in srv.files.items()}
    yield srv
    srv.close()


def test_download_verifies_and_caches(tmp_path, server):
    root = tmp_path / "cache"
    paths = download_mnist(root, url=server.url, checksums=server.md5)
    assert sorted(p.name for p in paths) == sorted(server.files)
    assert all(p.read_bytes() == server.files[p.name] for p in paths)
    assert len(server.requests) == 4 and all(r.startswith("/mnist/") for r in server.requests)
    x, y = load_mnist(root, kind="train", download=True, url=server.url, checksums=server.md5)
    assert len(server.requests) == 4  # cache hit: nothing fetched again
    assert np.array_equal(y, server.splits["train"][1]) and x.shape == (7, 784)
    assert sorted(p.name for p in root.iterdir()) == sorted(server.files)  # no temporary files left


def test_download_one_split_from_the_environment_url(tmp_path, server, monkeypatch):
    monkeypatch.setenv(MNIST_URL_ENV, server.url.rstrip("/"))
    sha256 = {name: hashlib.sha256(body).hexdigest() for name, body in server.files.items()}
    x, y = load_mnist(tmp_path / "cache", kind="test", download=True, checksums=sha256)
    assert sorted(server.requests) == ["/mnist/t10k-images-idx3-ubyte.gz", "/mnist/t10k-labels-idx1-ubyte.gz"]
    assert np.array_equal(y, server.splits["test"][1]) and x.shape == (3, 784)


def test_download_replaces_a_corrupt_cached_file(tmp_path, server):
    root = tmp_path / "cache"
    download_mnist(root, kind="test", url=server.url, checksums=server.md5)
    target = root / "t10k-labels-idx1-ubyte.gz"
    target.write_bytes(b"garbage")
    server.requests.clear()
    download_mnist(root, kind="test", url=server.url, checksums=server.md5)
    assert server.requests == ["/mnist/t10k-labels-idx1-ubyte.gz"]
    assert target.read_bytes() == server.files[target.name]


def test_checksum_mismatch_fails_clearly_and_leaves_no_file(tmp_path, server):
    root = tmp_path / "cache"
    wrong = {**server.md5, "train-images-idx3-ubyte.gz": "0" * 32}
    with pytest.raises(DownloadError, match="train-images-idx3-ubyte.gz.*checksum.*0{32}"):
        download_mnist(root, kind="train", url=server.url, checksums=wrong)
    assert list(root.iterdir()) == []


def test_default_checksums_are_the_published_ones(tmp_path, server):
    # the served files are not the real MNIST, so the built-in md5s must reject them
    with pytest.raises(DownloadError, match="checksum"):
        download_mnist(tmp_path / "cache", kind="test", url=server.url)
    assert list((tmp_path / "cache").iterdir()) == []
    assert data.MNIST_MD5["train-images-idx3-ubyte.gz"] == "f68b3c2dcbeaaa9fbdd348bbdeb94873"


def test_http_404_fails_clearly_and_leaves_no_file(tmp_path, server):
    del server.files["t10k-images-idx3-ubyte.gz"]
    with pytest.raises(DownloadError, match="t10k-images-idx3-ubyte.gz.*HTTP 404"):
        download_mnist(tmp_path / "cache", kind="test", url=server.url, checksums=server.md5)
    assert list((tmp_path / "cache").iterdir()) == []


def test_cut_transfer_fails_even_without_a_checksum(tmp_path, server):
    server.short.add("t10k-images-idx3-ubyte.gz")
    unchecked = dict.fromkeys(server.files)
    with pytest.raises(DownloadError, match="t10k-images-idx3-ubyte.gz.*stopped after"):
        download_mnist(tmp_path / "cache", kind="test", url=server.url, checksums=unchecked)
    assert list((tmp_path / "cache").iterdir()) == []


def test_unreachable_server_and_bad_arguments(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError, match="fetching http://127.0.0.1"):
        download_mnist(tmp_path, kind="test", url=f"http://127.0.0.1:{port}/", timeout=5)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="kind"):
        download_mnist(tmp_path, kind="everything")
    with pytest.raises(ValueError, match="md5.*sha256"):
        download_mnist(tmp_path, kind="test", url="http://127.0.0.1:1/",
                       checksums={"t10k-images-idx3-ubyte.gz": "abc"})


# --- issue 11: hostile paths, sizes and arguments -------------------------------------------------------------

@pytest.mark.parametrize("read", [read_idx, load_digits])
@pytest.mark.parametrize("path", [0, 3.5, ["digits.csv.gz"]])
def test_readers_take_paths_only_never_a_file_descriptor(read, path):
    with pytest.raises(TypeError, match=rf"{read.__name__}: expected a file path"):
        read(path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
@pytest.mark.parametrize("read", [read_idx, load_digits])
def test_readers_refuse_a_named_pipe_at_once(tmp_path, read):
    pipe = tmp_path / "pipe.gz"
    os.mkfifo(pipe)
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(pytest.raises(ValueError, read, pipe)), daemon=True)
    worker.start()
    worker.join(timeout=10)
    if worker.is_alive():
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail(f"{read.__name__} waited on a named pipe")
    assert "named pipe" in str(outcome[0].value)


def test_read_idx_reads_no_more_than_its_header_promises(tmp_path):
    """A 100 KB gzip bomb behind a header that promises 12 bytes is refused after reading 13."""
    header = bytes([0, 0, 8, 1]) + (12).to_bytes(4, "big")
    path = write_file(tmp_path / "bomb.gz", header + bytes(100 << 20))
    assert path.stat().st_size < 200_000
    with pytest.raises(ValueError, match=r"longer than its header says.*20 bytes, found more"):
        read_idx(path)


def test_read_idx_with_a_huge_declared_shape_does_not_allocate_it(tmp_path):
    header = bytes([0, 0, 8, 3]) + b"".join((60_000).to_bytes(4, "big") for _ in range(3))
    path = write_file(tmp_path / "huge", header + bytes(100))
    with pytest.raises(ValueError, match=r"read_idx: .*huge.*\(60000, 60000, 60000\).*216,000,000,000,000 numbers"):
        read_idx(path)


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_read_idx_refuses_a_header_above_the_size_limit_before_reading_the_values(tmp_path, suffix):
    """One value more than MAX_ARRAY_SIZE: refused from the header alone, so the (missing) values are never read."""
    header = bytes([0, 0, 8, 1]) + (data.MAX_ARRAY_SIZE + 1).to_bytes(4, "big")
    path = write_file(tmp_path / f"over-limit{suffix}", header)
    with pytest.raises(ValueError, match=r"read_idx: .*over-limit.*\(100000001,\) would make 100,000,001 numbers; "
                                         r"the limit is 100,000,000"):
        read_idx(path)


def test_read_idx_reads_up_to_the_size_limit_and_no_further(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "MAX_ARRAY_SIZE", 12)
    at_limit = write_file(tmp_path / "twelve.gz", idx_bytes(np.arange(12).reshape(3, 4)))
    assert np.array_equal(read_idx(at_limit), np.arange(12).reshape(3, 4))
    over = write_file(tmp_path / "thirteen.gz", idx_bytes(np.arange(13)))
    with pytest.raises(ValueError, match=r"read_idx: .*thirteen.gz.*13 numbers; the limit is 12"):
        read_idx(over)


def test_load_mnist_refuses_an_image_file_above_the_size_limit(tmp_path):
    make_mnist_dir(tmp_path)
    header = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in (1, 10_001, 10_000))
    write_file(tmp_path / "train-images-idx3-ubyte.gz", header + bytes(1000))
    with pytest.raises(ValueError, match=r"read_idx: .*train-images-idx3-ubyte.gz.*100,010,000 numbers.*limit"):
        load_mnist(tmp_path)


def test_load_digits_refuses_a_file_unpacking_to_too_much(tmp_path):
    path = tmp_path / "digits.csv.gz"
    path.write_bytes(gzip.compress(b"0," * (3 << 20)))
    with pytest.raises(ValueError, match="load_digits.*damaged.*more than 4,194,304 bytes"):
        load_digits(path)


@pytest.mark.parametrize("call, pattern", [
    (lambda: one_hot([1], classes=10 ** 6 * 1000), "1 labels of 1,000,000,000 classes"),
    (lambda: one_hot(np.zeros(20_000, dtype=int), classes=10 ** 4), "200,000,000 numbers"),
    (lambda: xsquared(10 ** 12), "n=1000000000000 samples"),
])
def test_sizes_above_the_limit_are_refused_up_front(call, pattern):
    with pytest.raises(ValueError, match=rf"{pattern}.*limit is 100,000,000"):
        call()


def test_one_hot_allocates_only_its_result():
    """np.eye(classes) would take classes² numbers: 80 GB for 100,000 classes, for a single label."""
    targets = one_hot([99_999, 3], classes=100_000)
    assert targets.shape == (2, 100_000) and targets.sum() == 2 and targets[0, 99_999] == targets[1, 3] == 1
    assert one_hot([], classes=3).shape == (0, 3)
    assert one_hot([[1], [2]], classes=3).shape == (2, 1, 3)


@pytest.mark.parametrize("call, error, pattern", [
    (lambda: one_hot([[1], [1, 2]]), ValueError, "one_hot: the labels are not an array"),
    (lambda: train_test_split([[1.0], [1.0, 2.0]], [1, 2]), ValueError, "train_test_split: the inputs are not"),
    (lambda: list(batches(np.zeros((3, 1)), [[1], []], 2)), ValueError, "batches: the targets are not"),
    (lambda: train_test_split(np.zeros((5, 2)), np.array([np.nan] * 5), stratify=True), ValueError, "NaN"),
    (lambda: xsquared(3, low=-1e308, high=1e308), ValueError, "so that its square is a float64"),
    (lambda: xsquared(3, low=0.0, high=1e200), ValueError, "xsquared: high must be finite and at most"),
    (lambda: batches(np.zeros((3, 1)), np.zeros(3), 1, shuffle="no"), TypeError, "shuffle must be True or False"),
    (lambda: load_mnist("/nonexistent", kind=["train"]), ValueError, "kind must be"),
    (lambda: read_idx(__file__, ndim="3"), TypeError, "read_idx: ndim must be an integer, got str"),
    (lambda: load_mnist("/nonexistent", dtype="bogus"), TypeError, "load_mnist: dtype must be a floating-point"),
    (lambda: load_mnist("/nonexistent", dtype=np.uint8), TypeError, "load_mnist: dtype .*got uint8"),
    (lambda: download_mnist("/nonexistent", timeout=0), ValueError, "download_mnist: timeout must be > 0"),
    (lambda: download_mnist("/nonexistent", timeout="5"), TypeError, "download_mnist: timeout must be a number"),
    (lambda: train_test_split(np.zeros((4, 1)), [0, 0, 1, 1], stratify="no"), TypeError,
     "train_test_split: stratify must be True or False"),
])
def test_misuse_is_named(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


@pytest.mark.parametrize("root", ["a_file", "a_file/sub"])
def test_download_into_a_file_names_it(tmp_path, root):
    (tmp_path / "a_file").write_text("x", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"download_mnist: cannot make the folder .*{root}: .*a_file is a file"):
        download_mnist(tmp_path / root, kind="test", url="http://127.0.0.1:1/")


def test_a_download_larger_than_any_mnist_file_is_cut_off(tmp_path, server, monkeypatch):
    monkeypatch.setattr(data, "MAX_DOWNLOAD_BYTES", 100)
    unchecked = dict.fromkeys(server.files)
    with pytest.raises(DownloadError, match=r"sent more than 100 bytes"):
        download_mnist(tmp_path / "cache", kind="test", url=server.url, checksums=unchecked)
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_missing_digits_file_of_ones_own_is_not_blamed_on_the_installation(tmp_path):
    """load_digits("my_copy.csv.gz") of a missing file said "(reinstall the package?)"."""
    with pytest.raises(FileNotFoundError, match=r"load_digits: digits file '.*my_copy\.csv\.gz' does not exist$"):
        load_digits(tmp_path / "my_copy.csv.gz")
