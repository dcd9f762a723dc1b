"""A user preparing data sets for training: two Datasets put together, an .npz archive of samples, a CSV file with a
header read by numpy, and UCI's other digits file.  Each case was a silent wrong result or a message that said
something untrue; the errors now name the function, what was given, and what to write instead (run here)."""

from __future__ import annotations

import gzip
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from numpy.lib import recfunctions

from tinygrad_edu import nn, optim
from tinygrad_edu.data import Dataset, batches, load_digits, one_hot, train_test_split
from tinygrad_edu.losses import squared_error
from tinygrad_edu.training import fit


def _two_datasets() -> tuple[Dataset, Dataset]:
    first = Dataset(np.arange(6.0).reshape(3, 2), np.array([0, 1, 2]))
    second = Dataset(np.arange(6.0, 10.0).reshape(2, 2), np.array([3, 4]))
    return first, second


# ------------------------------------------------------------------------------------------- Dataset + Dataset


@pytest.mark.parametrize("combine", [
    lambda a, b: a + b,  # PyTorch's ConcatDataset idiom, train + extra
    lambda a, b: sum([a, b], start=()),
    lambda a, b: (a.inputs, a.labels) + b,  # a plain pair on the left
    lambda a, b: a * 2,  # each sample twice
    lambda a, b: 2 * a,
], ids=["a+b", "sum", "pair+b", "a*2", "2*a"])
def test_adding_or_repeating_datasets_is_refused_not_a_tuple_of_four_arrays(combine) -> None:
    """A Dataset is a pair (inputs, labels): ``a + b`` made the 4-tuple (a.inputs, a.labels, b.inputs, b.labels) and
    ``a * 2`` another, without a word, where PyTorch's ``a + b`` joins the samples; ``inputs, labels = a + b`` then
    failed with Python's "too many values to unpack", and ``fit(model, *(a + b))`` took the wrong arrays."""
    a, b = _two_datasets()
    with pytest.raises(TypeError, match=r"^Dataset: .*not their samples.*np\.concatenate") as info:
        combine(a, b)
    assert "Dataset(np.concatenate([a.inputs, b.inputs]), np.concatenate([a.labels, b.labels]))" in str(info.value)
    joined = Dataset(np.concatenate([a.inputs, b.inputs]), np.concatenate([a.labels, b.labels]))  # (the advice)
    assert joined.inputs.shape == (5, 2) and joined.labels.tolist() == [0, 1, 2, 3, 4]


def test_a_dataset_still_unpacks_compares_and_splits() -> None:
    a, _ = _two_datasets()
    inputs, labels = a
    assert inputs is a.inputs and labels is a.labels and a == (a.inputs, a.labels)
    assert tuple(a) + ("x",) == (a.inputs, a.labels, "x")  # (a tuple made of it is a plain tuple again)


# ----------------------------------------------------------------------------------------- an .npz archive


def _archive(tmp_path: Path) -> Path:
    path = tmp_path / "digits.npz"
    np.savez(path, inputs=np.arange(8.0).reshape(4, 2), labels=np.array([0, 1, 0, 1]))
    return path


def test_fit_names_an_npz_archive_and_its_arrays_not_numbers_to_encode(tmp_path: Path) -> None:
    """``np.load`` of an .npz file is a mapping of names to arrays: fit made an array of its names and said "index
    (0,) holds str_ np.str_('inputs'): encode it as numbers first", of numbers that are numbers already."""
    model = nn.MLP([2, 3, 1], rng=0)
    with np.load(_archive(tmp_path)) as archive:
        with pytest.raises(TypeError, match=r"^fit: the inputs are a NpzFile, not an array: give one of its arrays "
                                            r"by its name \('inputs', 'labels'\), such as data\['inputs'\]$"):
            fit(model, archive, np.ones((4, 1)), optimizer=optim.GradientDescent(model, learning_rate=0.1),
                episodes=1, progress=False)
        history = fit(model, archive["inputs"], archive["labels"].reshape(-1, 1).astype(float),
                      optimizer=optim.GradientDescent(model, learning_rate=0.1), episodes=1, progress=False)
    assert history.episodes == 1


@pytest.mark.parametrize("call", [
    lambda given: train_test_split(given, [0, 1, 0, 1]),
    lambda given: batches(given, [0, 1, 0, 1], 2),
    lambda given: Dataset(given, [0, 1, 0, 1]),
    lambda given: one_hot(given),
], ids=["train_test_split", "batches", "Dataset", "one_hot"])
@pytest.mark.parametrize("kind", ["NpzFile", "dict"])
def test_data_helpers_name_the_arrays_of_a_mapping(tmp_path: Path, call, kind: str) -> None:
    """A mapping was told "give them as a list or an array, such as a list", of no use for an archive of arrays."""
    with np.load(_archive(tmp_path)) as archive:
        given = archive if kind == "NpzFile" else {"inputs": archive["inputs"], "labels": archive["labels"]}
        with pytest.raises(TypeError, match=rf"^\w+: the (inputs|labels) are a {kind}, not an array: give one of "
                                            r"its arrays by its name \('inputs', 'labels'\), such as "
                                            r"data\['inputs'\]$"):
            call(given)


def test_an_unpacked_archive_gives_names_which_are_named_as_such(tmp_path: Path) -> None:
    """``train_test_split(*np.load(path))``, as ``*load_digits()`` is written, unpacks the archive's names: the error
    said "inputs and labels need a first axis of samples, got shapes () and ()" of the strings it never named."""
    with np.load(_archive(tmp_path)) as archive:
        with pytest.raises(TypeError, match=r"^train_test_split: the inputs are the str 'inputs', not an array: "
                                            r".*np\.load.*data\[name\]"):
            train_test_split(*archive)
        train, test = train_test_split(archive["inputs"], archive["labels"], test_fraction=0.25, seed=0)
    assert len(train.labels) == 3 and len(test.labels) == 1


# --------------------------------------------------------------------------- a CSV file with a header, read by numpy


def test_fit_names_a_structured_array_and_its_fields(tmp_path: Path) -> None:
    """``np.genfromtxt(path, delimiter=",", names=True)`` reads a CSV file with a header as records: fit said
    "index (0,) holds void np.void((0.1, 0.2), dtype={'names': ['a': encode it as numbers first", cut off in the
    middle, of numbers; the advice it gives now runs, and trains on the right columns."""
    path = tmp_path / "samples.csv"
    path.write_text("a,b,y\n0.1,0.2,0.05\n0.3,0.4,0.25\n0.5,0.6,0.61\n", encoding="ascii")
    table = np.genfromtxt(path, delimiter=",", names=True)
    model = nn.MLP([2, 3, 1], rng=0)
    with pytest.raises(TypeError, match=r"^fit: the inputs are a structured array \(fields 'a', 'b'\), .* "
                                        r"recfunctions\.structured_to_unstructured\(inputs\[\['a', 'b'\]\]\)"):
        fit(model, table[["a", "b"]], table["y"].reshape(-1, 1), optimizer=optim.GradientDescent(model, 0.1),
            episodes=1, progress=False)
    columns = recfunctions.structured_to_unstructured(table[["a", "b"]])  # (the advice)
    np.testing.assert_array_equal(columns, [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    np.testing.assert_array_equal(columns, np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)[:, :2])
    before = squared_error(model(columns), table["y"].reshape(-1, 1)).item()
    history = fit(model, columns, table["y"].reshape(-1, 1), optimizer=optim.GradientDescent(model, 0.1),
                  episodes=1, progress=False)
    assert history.cost[0] == pytest.approx(before, rel=1e-12)


# ---------------------------------------------------------------------------------------- UCI's training part


def test_uci_training_file_is_not_called_damaged_and_the_advice_reads_it(tmp_path: Path) -> None:
    """UCI's digits come as optdigits.tes (the bundled 1,797) and optdigits.tra (3,823 more, same format): the
    second was said to be damaged.  It is another file: the error says so and how to read it, and that reading
    gives the file's numbers exactly."""
    bundled = gzip.decompress((resources.files("tinygrad_edu") / "datasets" / "digits.csv.gz").read_bytes())
    lines = bundled.decode("ascii").splitlines()
    path = tmp_path / "optdigits.tra"
    path.write_text("\n".join((lines * 3)[:3823]) + "\n", encoding="ascii")
    with pytest.raises(ValueError, match=r"^load_digits: digits file '.*optdigits\.tra' holds a table of shape "
                                         r"\(3823, 65\), not the \(1797, 65\) of the digits file") as info:
        load_digits(path)
    message = str(info.value)
    assert "is damaged:" not in message and "damaged, or another file" in message
    advice = "table = np.loadtxt(path, delimiter=',', ndmin=2); inputs, labels = table[:, :64] / 16, " \
             "table[:, 64].astype(int)"
    assert advice in message
    scope = {"np": np, "path": path}
    exec(advice, scope)  # the advice as pasted
    expected = load_digits()
    np.testing.assert_array_equal(scope["inputs"][:1797], expected.inputs)
    np.testing.assert_array_equal(scope["labels"][:1797], expected.labels)
    assert scope["inputs"].shape == (3823, 64)
