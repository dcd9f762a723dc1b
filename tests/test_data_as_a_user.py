"""The data readers and the CLI's inputs files fed with hand-made files: defects found by an exploratory pass as a
data-minded user, each test failing before its fix."""

from __future__ import annotations

import gzip
import struct
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import nn
from tinygrad_edu.cli import main
from tinygrad_edu.data import load_digits, read_idx


def _idx(shape: tuple[int, ...], payload: bytes = b"") -> bytes:
    """An IDX file of unsigned bytes: two zero bytes, type 0x08, the number of dimensions, the big-endian sizes."""
    return bytes([0, 0, 0x08, len(shape)]) + b"".join(struct.pack(">I", size) for size in shape) + payload


def test_read_idx_names_the_file_when_a_header_declares_no_images_of_an_impossible_size(tmp_path: Path) -> None:
    """A damaged MNIST header declaring 0 images of 4,294,967,295 x 4,294,967,295 pixels holds no values, so the
    MAX_ARRAY_SIZE check lets it through; numpy then refuses the shape with "array is too big; `arr.size *
    arr.dtype.itemsize` is larger than the maximum possible size", which names neither read_idx nor the file.
    A user expects the ValueError every other bad header gives: "read_idx: <file>: ..."."""
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(_idx((0, 0xFFFF_FFFF, 0xFFFF_FFFF)))
    with pytest.raises(ValueError, match=r"read_idx: .*train-images-idx3-ubyte"):
        read_idx(path)


def test_load_digits_reads_the_plain_text_uci_file(tmp_path: Path) -> None:
    """UCI distributes the digits as the plain comma-separated optdigits.tes (ATTRIBUTION.txt names it); the
    bundled digits.csv.gz is that file gzip-compressed. load_digits(path) of the plain copy raises "is damaged, it
    cannot be read: Not a gzipped file", although nothing in it is damaged, while read_idx and load_mnist take plain
    or compressed files alike. A user expects the same 1,797 digits from either copy."""
    bundled = resources.files("tinygrad_edu") / "datasets" / "digits.csv.gz"
    plain = tmp_path / "optdigits.tes"
    plain.write_bytes(gzip.decompress(bundled.read_bytes()))
    inputs, labels = load_digits(plain)
    expected = load_digits()
    np.testing.assert_array_equal(inputs, expected.inputs)
    np.testing.assert_array_equal(labels, expected.labels)


def test_predict_refuses_an_empty_field_in_a_comma_separated_inputs_file(capsys: pytest.CaptureFixture,
                                                                         tmp_path: Path) -> None:
    """A spreadsheet exports a missing cell as an empty field: "0.5,,0.25" holds three fields. predict reads it as
    the two numbers 0.5 and 0.25, so every number after the gap moves one column to the left (a 2-input model
    evaluates [0.5, 0.25] without a word). A user expects the one-line error that a word in the file gets,
    naming the file and the line, and exit status 2."""
    model = tmp_path / "m.npz"
    nn.MLP([2, 3, 1], activation="tanh", output_activation="identity", rng=0).save(model)
    inputs = tmp_path / "inputs.csv"
    inputs.write_text("0.5,,0.25\n", encoding="utf-8")
    status = main(["predict", str(model), "--inputs-file", str(inputs)])
    captured = capsys.readouterr()
    assert status == 2
    assert "inputs.csv" in captured.err and "line 1" in captured.err
    assert "→" not in captured.out
