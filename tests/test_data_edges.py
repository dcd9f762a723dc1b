"""A scikit-learn, PyTorch and numpy user's round with the data helpers, the file opening and the notation: edges
(a class of one sample, sizes too long to print, unusual dtypes) and other libraries' argument names."""

from __future__ import annotations

import gzip
import os
import re

import numpy as np
import pytest

from tinygrad_edu.data import (
    batches,
    download_mnist,
    load_digits,
    load_mnist,
    one_hot,
    read_idx,
    train_test_split,
    xsquared,
)
from tinygrad_edu.files import open_regular_file
from tinygrad_edu.notation import format_number, pretty, printable, summary

# ------------------------------------------------------------------------------------------ train_test_split


@pytest.mark.parametrize("labels, fraction, cls, test, train", [
    ([0] * 9 + [1], 0.2, 1, 0, 1),  # a class of one sample (scikit-learn refuses it too)
    ([0] * 9 + [1], 0.5, 1, 0, 1),  # round(0.5) = 0
    ([0] * 8 + [1] * 2, 0.2, 1, 0, 2),  # round(2 × 0.2) = 0: the test part would lack class 1
    ([0] * 5 + [1] * 5, 0.95, 0, 5, 0),  # round(4.75) = 5: no class 0 left for training
    (["cat"] * 9 + ["dog"], 0.3, "dog", 0, 1),  # string labels are named as they are
])
def test_stratify_refuses_a_class_that_would_miss_a_part(labels, fraction, cls, test, train):
    """A class of one sample went to training without a word: the test part lacked it, and the docstring promised
    both parts keep the class proportions."""
    x = np.arange(len(labels))[:, None]
    with pytest.raises(ValueError, match=rf"^train_test_split: with stratify=True every class needs samples in both "
                                         rf"parts, but class {cls!r} \({test + train} of the {len(labels)} samples\) "
                                         rf"would get {test} test and {train} training samples"):
        train_test_split(x, np.array(labels), test_fraction=fraction, stratify=True)


def test_stratify_still_splits_every_class_where_it_can():
    labels = np.array(["a"] * 4 + ["b"] * 6)
    train, test = train_test_split(np.arange(10)[:, None], labels, test_fraction=0.5, stratify=True, seed=1)
    assert sorted(test.labels.tolist()) == ["a", "a", "b", "b", "b"]
    assert sorted(train.labels.tolist()) == ["a", "a", "b", "b", "b"]
    assert np.array_equal(labels[np.concatenate([train.inputs, test.inputs]).ravel()],
                          np.concatenate([train.labels, test.labels]))


def test_stratify_of_no_samples_says_so():
    """It ended in numpy's bare "need at least one array to concatenate"."""
    with pytest.raises(ValueError, match=r"^train_test_split: test_fraction=0.2 of 0 samples leaves 0 test"):
        train_test_split(np.zeros((0, 1)), np.zeros(0), stratify=True)


def _split_sizes(n: int, fraction: float) -> tuple[int, int] | None:
    """(training, test) sizes of an unstratified split of ``n`` samples, or None when it is refused."""
    try:
        train, test = train_test_split(np.arange(n)[:, None], np.arange(n), test_fraction=fraction, seed=0)
    except ValueError as error:
        assert "each needs at least 1" in str(error)
        return None
    return len(train.labels), len(test.labels)


@pytest.mark.parametrize("sixteenths", range(1, 16))
def test_the_test_part_is_the_fraction_rounded_up_as_scikit_learns_test_size(sixteenths):
    """Before, round(n × fraction), halves to even: 7 samples at 0.3 gave 2 test samples where scikit-learn's
    test_size=0.3 gives 3.  k/16 is exact in floating point, so ceil(n·k/16) is the whole-number division."""
    for n in range(1, 70):
        test = -(-n * sixteenths // 16)  # the smallest whole number ≥ n·k/16
        expected = (n - test, test) if 1 <= test <= n - 1 else None
        assert _split_sizes(n, sixteenths / 16) == expected, n


@pytest.mark.parametrize("n, fraction, test", [
    (7, 0.3, 3),  # 2.1
    (101, 0.2, 21),  # 20.2
    (10, 0.25, 3),  # 2.5 (round gave 2, to even)
    (30, 0.1, 3),  # 3.0: 0.1 × 30 is exactly 3.0 in floating point
    (25, 0.28, 8),  # 7.000000000000001 in floating point, as scikit-learn computes it
    (2, 0.2, 1),  # 0.4: one sample each
])
def test_the_test_part_of_decimal_fractions(n, fraction, test):
    assert _split_sizes(n, fraction) == (n - test, test)


def test_the_split_sizes_equal_scikit_learns():
    model_selection = pytest.importorskip("sklearn.model_selection")
    for n in range(1, 60):
        for fraction in (0.1, 0.15, 0.2, 0.25, 0.28, 0.3, 1 / 3, 0.5, 0.56, 0.7, 0.75, 0.9, 0.95):
            try:
                train, test = model_selection.train_test_split(np.arange(n), test_size=fraction, random_state=0)
                expected: tuple[int, int] | None = (len(train), len(test))
            except ValueError:  # the training part would be empty
                expected = None
            assert _split_sizes(n, fraction) == expected, (n, fraction)


def test_stratify_labels_that_cannot_be_sorted_are_a_named_error():
    with pytest.raises(TypeError, match=r"^train_test_split: stratify needs class labels that can be sorted"):
        train_test_split(np.zeros((4, 1)), np.array([None, None, 1, 1], dtype=object), stratify=True)


@pytest.mark.parametrize("call, advice", [
    (lambda x, y: train_test_split(x, y, test_size=0.25), "it is called test_fraction= here"),
    (lambda x, y: train_test_split(x, y, train_size=0.75), "give test_fraction="),
    (lambda x, y: train_test_split(x, y, random_state=0), "it is called seed= here"),
    (lambda x, y: train_test_split(x, y, shuffle=False), "always shuffled"),
    (lambda x, y: one_hot(y, num_classes=2), "it is called classes= here"),
    (lambda x, y: batches(x, y, 2, drop_last=True), r"inputs\[:len\(inputs\) // b \* b\]"),
    (lambda x, y: batches(x, y, 2, generator=np.random.default_rng(0)), "as seed= here"),
    (lambda x, y: load_digits(return_X_y=True), r"inputs, labels = load_digits\(\)"),
])
def test_other_libraries_argument_names_get_ours(call, advice):
    x, y = np.zeros((8, 1)), np.array([0, 1] * 4)
    with pytest.raises(TypeError, match=rf"^\w+: there is no argument \w+= \(another library's name\); .*{advice}"):
        call(x, y)


def test_scikit_learns_stratify_equals_labels_is_pointed_to_stratify_true():
    y = np.array([0, 1] * 4)
    with pytest.raises(TypeError, match=r"stratify must be True or False, .*scikit-learn's stratify=labels is "
                                        r"stratify=True here"):
        train_test_split(np.zeros((8, 1)), y, stratify=y)
    with pytest.raises(TypeError, match=r"stratify must be True or False, got str 'no'$"):
        train_test_split(np.zeros((8, 1)), y, stratify="no")


@pytest.mark.parametrize("name, ours", [("data", "inputs"), ("target", "labels"), ("images", "inputs.reshape")])
def test_scikit_learns_bunch_names_are_pointed_to_ours(name, ours):
    digits = load_digits()
    with pytest.raises(AttributeError, match=rf"no attribute '{name}'; scikit-learn's \.{name} is \.{ours}"):
        getattr(digits, name)
    assert not hasattr(digits, "nonsense") and digits.inputs.shape == (1797, 64)


# ------------------------------------------------------------------------------------------ one_hot, batches


def test_one_hot_of_timedeltas_is_a_named_type_error():
    """numpy counts timedelta64 among its integers: one_hot ended in a bare IndexError from the indexing."""
    with pytest.raises(TypeError, match=r"^one_hot: labels must be integers, got dtype timedelta64\[s\]$"):
        one_hot(np.array([1, 2], dtype="m8[s]"))


def test_batches_checks_the_seed_even_without_shuffling():
    """The docstring says arguments are checked when batches is called; seed="x" passed with shuffle=False."""
    with pytest.raises(TypeError, match=r"^batches: the seed must be an int >= 0, a numpy Generator or None"):
        batches(np.zeros((4, 1)), np.zeros(4), 2, shuffle=False, seed="x")
    state = np.random.get_state()
    list(batches(np.zeros((4, 1)), np.zeros(4), 2, shuffle=False))
    after = np.random.get_state()
    assert np.array_equal(state[1], after[1]) and state[2] == after[2]  # seed=None unshuffled draws nothing


@pytest.mark.parametrize("call, shown", [
    (lambda: xsquared(10 ** 5000), "n=about 10^5000 samples would make about 10^5000 numbers"),
    (lambda: one_hot([1], classes=10 ** 5000), "1 labels of about 10^5000 classes"),
])
def test_sizes_too_long_to_print_are_refused_by_name(call, shown):
    """Python cannot print an int of 5,000 digits: the refusal itself failed with 'Exceeds the limit (4300 digits)
    for integer string conversion', naming no function."""
    with pytest.raises(ValueError, match=rf"^\w+: {re.escape(shown)}.*limit is 100,000,000"):
        call()


# --------------------------------------------------------------------------------------------------- files


def test_load_mnist_names_a_root_that_is_no_folder(tmp_path):
    (tmp_path / "a_file").write_text("x", encoding="utf-8")
    with pytest.raises(FileNotFoundError, match=r"^load_mnist: .*a_file is a file, not a folder"):
        load_mnist(tmp_path / "a_file")
    with pytest.raises(FileNotFoundError, match=r"^load_mnist: the folder .*missing does not exist"):
        load_mnist(tmp_path / "missing")


def test_a_path_object_that_gives_no_name_is_named():
    class BadPath(os.PathLike):
        def __fspath__(self):
            return 3

    with pytest.raises(TypeError, match=r"^read_idx: expected BadPath.__fspath__\(\) to return str or bytes"):
        open_regular_file(BadPath(), "read_idx")


# ------------------------------------------------------------------------------------------------- notation


@pytest.mark.parametrize("x, shown", [(10 ** 20, "1e+20"), (-(10 ** 20), "-1e+20"), (2 ** 64 + 1, "1.845e+19"),
                                      (12345, "1.234e+04"), (7, "7")])
def test_format_number_takes_python_ints_of_any_size_that_a_float_holds(x, shown):
    """10**20 is no int64: format_number called it "not a real number"."""
    assert format_number(x) == shown == f"{float(x):.4g}"


def test_format_number_names_an_int_beyond_float64_and_a_precision_beyond_17():
    with pytest.raises(ValueError, match=r"^format_number: x must be at most 1.798e\+308 in size"):
        format_number(2 ** 1100)
    with pytest.raises(ValueError, match=r"^format_number: precision must be an integer from 0 to 17, got 10{10}$"):
        format_number(0.1, precision=10 ** 10)  # Python's bare "precision too big" before


def test_summary_of_a_tensor_honours_a_precision_below_three_and_checks_it():
    """precision was ignored for tensors (always 3 digits) and not checked at all."""
    assert summary([1.23456, 2.5], precision=2) == "min 1.2 · mean 1.9 · max 2.5"
    assert summary([1.23456, 2.5], precision=8) == "min 1.23 · mean 1.87 · max 2.5"  # (at most 3, as documented)
    with pytest.raises(TypeError, match=r"^summary: precision must be an integer, got str 'x'$"):
        summary([1.0, 2.0], precision="x")


@pytest.mark.parametrize("label, expected", [("x^2^3", "x^2³"), ("W^(L-1)^2", "W^(L-1)²"), ("W^10", "W¹⁰"),
                                             ("x^-12", "x⁻¹²"), ("e^x^2", "e^x²")])
def test_pretty_never_merges_two_exponents_into_one(label, expected):
    """x^2^3 was written x²³, which reads as x^23; W^(L-1)^2 as Wᴸ⁻¹², which reads as W^(L-12)."""
    assert pretty(label) == expected


@pytest.mark.parametrize("mark", ["\x85", "\x9b", "\u2028", "\u2029", "\u061c"])
def test_printable_blanks_c1_controls_line_separators_and_the_arabic_letter_mark(mark):
    """NEL, the C1 escape, the line and paragraph separators break a label's line; U+061C reorders it like
    U+200F, which was blanked already."""
    assert printable(f"w{mark}1") == "w 1"


@pytest.mark.parametrize("stratify", [False, True])
def test_both_parts_of_a_split_come_in_random_order(stratify):
    """Documented: both parts come in random order, not sorted by index nor grouped by class (a sorted run of 20 or
    80 out of a random draw has probability below 1/20!)."""
    x, labels = np.arange(100), np.repeat([0, 1], 50)
    train, test = train_test_split(x, labels, test_fraction=0.2, seed=3, stratify=stratify)
    for part, size in ((train, 80), (test, 20)):
        assert len(part.inputs) == size and sorted(part.inputs.tolist()) != part.inputs.tolist()
        assert (part.labels == labels[part.inputs]).all()
    if stratify:  # the classes are mixed, not one class's samples and then the other's
        assert (np.diff(test.labels) != 0).sum() > 1 and (np.diff(train.labels) != 0).sum() > 1
        assert (test.labels == 0).sum() == (test.labels == 1).sum() == 10


def test_xsquared_draws_from_a_continuous_interval_not_a_grid():
    """x ~ Uniform[low, high): full float64 draws, so no sample lies on a 10⁻⁶ grid (within 10⁻¹² of it, each
    with probability 2·10⁻⁶; a seeded draw), and the targets are their exact squares."""
    x, y = xsquared(200, low=-1.0, high=1.0, seed=4)
    on_grid = np.isclose(x * 1e6, np.round(x * 1e6), rtol=0, atol=1e-6)
    assert on_grid.sum() == 0 and (y == x * x).all() and ((-1 <= x) & (x < 1)).all()


# ------------------------------------------------------------------------------------------ bad-input sweep


def test_unshuffled_batches_are_copies_that_leave_the_callers_arrays_alone():
    """They were views of the caller's arrays (the shuffled ones were copies): a training loop that scales a batch
    in place changed its data set for every later episode, and only when shuffle=False."""
    x, y = np.arange(6.0)[:, None], np.arange(6)
    for xb, yb in batches(x, y, 4, shuffle=False):
        xb *= 100.0
        yb[:] = -1
    assert np.array_equal(x, np.arange(6.0)[:, None]) and np.array_equal(y, np.arange(6))


@pytest.mark.parametrize("checksum, shown", [(5, "int 5"), ("z" * 32, "str 'zzzz"), ("abc", "str 'abc'")])
def test_download_checks_every_checksum_before_it_makes_or_fetches_anything(tmp_path, checksum, shown):
    """A checksum that is no hex digest failed late: an int with AttributeError ('int' object has no attribute
    'lower'), 32 letters after the download (as a checksum mismatch), the labels' after the images had come."""
    checksums = {"train-images-idx3-ubyte.gz": None, "train-labels-idx1-ubyte.gz": checksum}
    with pytest.raises(ValueError, match=rf"^download_mnist: checksum for train-labels-idx1-ubyte.gz must be an md5 "
                                         rf"\(32 hex digits\), a sha256 \(64 hex digits\) or None, got {shown}"):
        download_mnist(tmp_path / "cache", kind="train", url="http://127.0.0.1:1/", checksums=checksums)
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("name", ["train-images-idx3-ubyte", "TRAIN-LABELS-IDX1-UBYTE.GZ", 3])
def test_download_refuses_a_checksum_for_a_file_it_does_not_know(tmp_path, name):
    """A misspelt name (here without .gz, in capitals, not a name at all) was silently ignored: the file it meant
    kept its published checksum, and a mirror's own file then failed as a mismatch, or was not checked at all."""
    with pytest.raises(ValueError, match=rf"^download_mnist: checksums names {re.escape(repr(name))}, which is not "
                                         r"one of the MNIST files train-images-idx3-ubyte.gz, "):
        download_mnist(tmp_path / "cache", kind="train", url="http://127.0.0.1:1/", checksums={name: None})
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("url, error, words", [
    (5, TypeError, "url must be a str such as 'https://"),  # 'int' object has no attribute 'rstrip'
    (b"http://x/", TypeError, "url must be a str"),  # bytes: "a bytes-like object is required, not 'str'"
    ("example.com/mnist", ValueError, "url must be a URL with a scheme"),  # urllib's bare "unknown url type"
])
def test_download_names_a_url_that_is_none(tmp_path, url, error, words):
    with pytest.raises(error, match=rf"^download_mnist: {re.escape(words)}"):
        download_mnist(tmp_path / "cache", kind="test", url=url, checksums={})
    assert not (tmp_path / "cache").exists()


def _idx_gz(path, labels):
    """An IDX file of uint8 labels, gzip-compressed, written by hand: 0, 0, 0x08, 1 dimension, its length."""
    with gzip.open(path, "wb") as f:
        f.write(bytes([0, 0, 8, 1]) + len(labels).to_bytes(4, "big") + bytes(labels))
    return path


def test_read_idx_reads_a_gz_suffix_in_capitals_and_names_gzip_without_the_suffix(tmp_path):
    """labels.GZ (a Windows name) was read as a plain file: "bad magic number 0x1f8b0808", no hint of gzip."""
    assert read_idx(_idx_gz(tmp_path / "labels.GZ", [3, 0, 255])).tolist() == [3, 0, 255]
    with pytest.raises(ValueError, match=r"bad magic number 0x1f8b08..,.*it starts as a gzip file does: if it is "
                                         r"compressed, name it \*\.gz$"):
        read_idx(_idx_gz(tmp_path / "labels", [3]))
