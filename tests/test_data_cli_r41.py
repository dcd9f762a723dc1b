"""Round 41, data and command line: an optimizer's .npz whose zip directory was damaged so that np.load left
entries out (a parameter's Adam averages, loaded as if it never had a gradient); a digits or MNIST file compressed
twice (called damaged, or told to be named *.gz, which it is); PyTorch's loops and unpackings of a Dataset's
samples through enumerate, next(iter(ds)) and reversed(ds)."""

from __future__ import annotations

import gzip
import io
import struct

import numpy as np
import pytest

from tinygrad_edu import data, nn, optim
from tinygrad_edu.data import Dataset


def _adam_file() -> tuple[optim.Adam, bytes]:
    model = nn.MLP([2, 3, 1])
    opt = optim.Adam(model, learning_rate=0.01)
    (model(np.random.default_rng(0).normal(size=(5, 2))) ** 2).sum().backward()
    opt.step()
    file = io.BytesIO()
    np.savez(file, **opt.state_dict())
    return opt, file.getvalue()


def _directory_cut_after(archive: bytes, name: str) -> bytes:
    """``archive`` with the comment length of ``name``'s entry in the zip directory made large (a flipped bit): zipfile
    stops reading the directory there, and the entries after it are left out without a word."""
    header = archive.index(b"PK\x01\x02")
    while archive[header + 46: header + 46 + len(name)] != name.encode():
        header = archive.index(b"PK\x01\x02", header + 4)
    damaged = bytearray(archive)
    damaged[header + 32: header + 34] = struct.pack("<H", 0x1000)
    return bytes(damaged)


def test_an_optimizer_file_whose_directory_lost_entries_is_refused_and_changes_nothing() -> None:
    opt, archive = _adam_file()
    damaged = _directory_cut_after(archive, "state.2.squared_gradient_average.npy")
    loaded = np.load(io.BytesIO(damaged), allow_pickle=False)
    assert "state.3.step_count" not in loaded.files and "state.2.step_count" in loaded.files  # (what numpy does)
    fresh = optim.Adam(opt.params, learning_rate=0.5)
    before = fresh.state_dict()
    with pytest.raises(ValueError, match=r"Adam\.load_state_dict: .*damaged: np\.load left out 3 of its 17 entries"):
        fresh.load_state_dict(loaded)
    assert fresh.state_dict().keys() == before.keys() and float(fresh.learning_rate) == 0.5
    fresh.load_state_dict(np.load(io.BytesIO(archive), allow_pickle=False))  # the whole file loads
    assert fresh.state_dict()["state.3.step_count"] == 1
    miscounted = bytearray(archive)  # a flipped bit in the end record's count alone: every entry is read, and loads
    miscounted[archive.rindex(b"PK\x05\x06") + 10] ^= 2
    again = optim.Adam(opt.params)
    again.load_state_dict(np.load(io.BytesIO(bytes(miscounted)), allow_pickle=False))
    assert again.state_dict()["state.3.step_count"] == 1


def test_a_digits_file_compressed_twice_is_said_so(tmp_path) -> None:
    source = gzip.compress(b"0,1\n")
    path = tmp_path / "digits.csv.gz"
    path.write_bytes(gzip.compress(source))
    with pytest.raises(ValueError, match=r"compressed twice, unpack it once \(gzip -dc"):
        data.load_digits(path)


def test_an_idx_file_compressed_twice_is_not_told_to_be_named_gz(tmp_path) -> None:
    idx = bytes([0, 0, 8, 1]) + (3).to_bytes(4, "big") + bytes([1, 2, 3])
    path = tmp_path / "labels.idx1-ubyte.gz"
    path.write_bytes(gzip.compress(gzip.compress(idx)))
    with pytest.raises(ValueError, match=r"compressed twice") as caught:
        data.read_idx(path)
    assert "name it *.gz" not in str(caught.value)
    once = tmp_path / "labels.idx1-ubyte"
    once.write_bytes(gzip.compress(idx))
    with pytest.raises(ValueError, match=r"name it \*\.gz"):  # compressed once, named without .gz: as before
        data.read_idx(once)


def _digits() -> Dataset:
    return Dataset(np.arange(12.0).reshape(6, 2), np.arange(6))


def test_pytorchs_enumerate_loop_over_samples_is_refused_with_advice() -> None:
    ds = _digits()
    with pytest.raises(TypeError, match=r"^Dataset: for i, \(x, y\) in enumerate\(ds\) goes through the pair "
                                        r".*for i, \(x, y\) in enumerate\(zip\(ds\.inputs, ds\.labels\)\)"):
        for i, (x, y) in enumerate(ds):  # noqa: B007
            pass
    with pytest.raises(TypeError, match=r"enumerate\(zip\(ds\.inputs"):
        [x for i, (x, y) in enumerate(ds, 1)]  # noqa: B018  (a comprehension's loop, enumerate's start too)
    pairs = Dataset(np.arange(4.0).reshape(2, 2), np.array([[0, 1], [1, 0]]))  # 2 samples: it unpacked silently
    with pytest.raises(TypeError, match=r"enumerate\(ds\) goes through the pair"):
        for i, (x, y) in enumerate(pairs):  # noqa: B007
            pass
    advice = [(i, x, y) for i, (x, y) in enumerate(zip(ds.inputs, ds.labels))]  # the advice works
    assert len(advice) == 6 and advice[5][2] == 5


def test_the_legitimate_loops_over_a_datasets_arrays_still_work() -> None:
    ds = _digits()
    assert [i for i, array in enumerate(ds)] == [0, 1]
    assert [name for name, array in zip(["inputs", "labels"], ds)] == ["inputs", "labels"]
    assert [array.shape for (p, q), array in zip([(1, 2), (3, 4)], ds)] == [(6, 2), (6,)]
    inputs, labels = ds
    first, second = list(ds)
    assert first is inputs and second is labels
    a, b = tuple(iter(ds))
    assert a is inputs and b is labels
    it = iter(ds)
    assert next(it) is inputs and next(it) is labels
    backwards, forwards = reversed(ds)
    assert backwards is labels and forwards is inputs
    assert [array.ndim for array in reversed(ds)] == [1, 2]
    assert [i for i, array in enumerate(reversed(ds))] == [0, 1]


def test_pytorchs_first_sample_by_next_iter_is_refused_with_advice() -> None:
    ds = _digits()
    with pytest.raises(TypeError, match=r"^Dataset: x, y = next\(iter\(ds\)\) unpacks the inputs, .*"
                                        r"x, y = ds\.inputs\[0\], ds\.labels\[0\]"):
        x, y = next(iter(ds))
    batches = iter(ds)  # PyTorch's tutorial: dataiter = iter(loader); images, labels = next(dataiter)
    with pytest.raises(TypeError, match=r"next\(iter\(ds\)\) unpacks the inputs"):
        images, labels = next(batches)
    x, y = ds.inputs[0], ds.labels[0]  # the advice
    assert x.tolist() == [0.0, 1.0] and y == 0


def test_pytorchs_reversed_loop_is_refused_as_the_loop_is() -> None:
    ds = _digits()
    with pytest.raises(TypeError, match=r"^Dataset: for x, y in reversed\(ds\) goes through the pair"):
        for x, y in reversed(ds):  # noqa: B007
            pass
    with pytest.raises(TypeError, match=r"^Dataset: for x, y in reversed\(ds\) goes through the pair"):
        [x for x, y in reversed(ds)]  # noqa: B018


def test_predict_says_that_quoted_numbers_are_quoted_not_a_header(tmp_path, capsys) -> None:
    """A CSV file that quotes every field ("0.1","0.5") was told it had a header line above the samples."""
    from tinygrad_edu.cli import main

    model = tmp_path / "m.npz"
    assert main(["train", "--episodes", "1", "--samples", "5", "--hidden", "2", "-o", str(model)]) == 0
    inputs = tmp_path / "quoted.csv"
    inputs.write_bytes(b'"0.1","0.5"\r\n"-1","0.01"\r\n')
    capsys.readouterr()
    assert main(["predict", str(model), "--inputs-file", str(inputs)]) != 0
    message = capsys.readouterr().err
    assert "line 1: '\"0.1\"' is not a number; a number in quotes" in message and "header" not in message
    inputs.write_bytes(b'"x"\r\n0.1\r\n')  # a quoted column name is still a header
    assert main(["predict", str(model), "--inputs-file", str(inputs)]) != 0
    assert "a header line above the samples?" in capsys.readouterr().err
