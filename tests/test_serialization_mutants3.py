"""Edges found by mutation testing of ``serialization.py`` (third pass, after tests/test_serialization_edges.py and
test_serialization_seeds_mutants.py): each test pins a behaviour that a hand-made mutant (a dropped ``from None``, a
narrower ``except``, a shorter quote of a bad value, an off-by-one list of missing names, a size check loosened from
``!=`` to ``>``, a dropped preamble allowance, the architecture's size limit on the format marker, a ValueError for
the caller's TypeError) changed while the other tests passed.

65 mutants of ``tinygrad_edu/serialization.py``; 53 killed before these tests, 65 after.  (Screened with
tests/test_serialization.py, test_serialization_edges.py, test_serialization_seeds_mutants.py and ``--doctest-modules
tinygrad_edu/serialization.py``; survivors were then run against test_resume.py, test_nn.py, test_nn_edges.py,
test_api_misuse.py, test_cli.py, test_state_files_printing_edges.py and test_nn_mutants2.py, which killed seven more.)

No equivalent mutants this pass.  Note: the second pass found dropping ``member.read(1)`` in ``_read_data``
equivalent; dropping the other half, ``len(data) != size``, is not: an entry whose stored bytes end before its
declared size then failed as "cannot reshape" instead of "is truncated".  No defect found.
"""

from __future__ import annotations

import errno
import struct
from pathlib import Path

import numpy as np
import pytest
from helpers_model_files import npy_bytes, npz_file, stored_entry, zip_by_hand

from tinygrad_edu import serialization

MARKER = {"__format__": np.array(serialization.FORMAT)}
ONE_LAYER = {"layers": [{"in_size": 2, "out_size": 1, "activation": "relu", "name": None}]}
ONE_STATE = {"layers.1.weights": np.ones((2, 1)), "layers.1.biases": np.zeros(1)}


def _no_context(error: BaseException) -> bool:
    """The error was raised ``from None``: no chained traceback of the exception it replaced."""
    return error.__cause__ is None and error.__suppress_context__


# --- writing -----------------------------------------------------------------------------------------------------

class _Refusing:
    """An array-like whose conversion fails with a RuntimeError, as a tensor that requires grad does."""

    def __array__(self, *args, **kwargs):
        raise RuntimeError("cannot be converted while it requires grad")


def test_save_names_a_parameter_whose_conversion_raises_runtime_error(tmp_path: Path):
    """A RuntimeError while converting a parameter is save's ValueError naming it, and nothing is written."""
    path = tmp_path / "m.npz"
    with pytest.raises(ValueError, match=r"^save: parameter 'w' is not an array of numbers: cannot be converted"):
        serialization.save(path, {"w": _Refusing()})
    assert list(tmp_path.iterdir()) == []


def test_a_write_error_names_the_users_file_without_a_chained_traceback(tmp_path: Path, monkeypatch):
    """An OSError writing the temporary file names the user's file, raised from None (no inner traceback)."""
    def failing_open(name, mode="r", *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", name)

    monkeypatch.setattr(serialization, "open", failing_open, raising=False)
    path = tmp_path / "m.npz"
    pattern = r"^\[Errno 28\] save: cannot write '.*m\.npz': No space left on device$"
    with pytest.raises(OSError, match=pattern) as raised:
        serialization.save(path, ONE_STATE)
    assert _no_context(raised.value)
    assert list(tmp_path.iterdir()) == []


# --- reading -----------------------------------------------------------------------------------------------------

def test_an_architecture_that_is_not_json_is_refused_without_a_chained_traceback(tmp_path: Path):
    """Damaged JSON is a ModelFileError naming the file and json's complaint, raised from None."""
    path = npz_file(tmp_path / "m.npz", {**MARKER, "__architecture__": np.array("{"), **ONE_STATE})
    with pytest.raises(serialization.ModelFileError, match=r"m\.npz'?: the stored architecture is damaged: "
                                                           r"Expecting property name") as raised:
        serialization.read(path)
    assert _no_context(raised.value)


def test_a_file_missing_many_parameters_names_the_first_five(tmp_path: Path):
    """Of six missing names the message lists the first five and says one more is missing, then what is
    unexpected."""
    path = npz_file(tmp_path / "m.npz", {**MARKER, "q": np.zeros(1)})
    shapes = {f"p{i}": (1,) for i in range(6)}
    with pytest.raises(serialization.ModelFileError, match=r"does not fit the model: missing p0, p1, p2, p3, p4 "
                                                           r"and 1 more; unexpected q$"):
        serialization.read(path, shapes)


def test_an_entry_declaring_fewer_bytes_than_its_header_describes_is_refused_with_both_sizes(tmp_path: Path):
    """An entry shorter than its header promises is refused by its sizes before any data is read."""
    header = {"descr": "<f8", "fortran_order": False, "shape": (2,)}
    content = npy_bytes(header=header, data=b"\0" * 8)
    path = zip_by_hand(tmp_path / "m.npz", [stored_entry("__format__.npy", npy_bytes(np.array(serialization.FORMAT))),
                                     stored_entry("w.npy", content)])
    with pytest.raises(serialization.ModelFileError, match=rf"entry 'w\.npy' declares {len(content)} bytes but its "
                                                           rf"header describes {len(content) + 8}$"):
        serialization.read(path)


def test_an_entry_with_a_header_of_ten_thousand_bytes_loads_into_a_model_of_its_shape(tmp_path: Path):
    """The longest header read (10,000 bytes after the 10-byte preamble) is within an entry's size limit."""
    text = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }".ljust(9_999) + "\n"
    content = b"\x93NUMPY\x01\x00" + struct.pack("<H", 10_000) + text.encode() + np.array([1.5, -2.0]).tobytes()
    path = zip_by_hand(tmp_path / "m.npz", [stored_entry("__format__.npy", npy_bytes(np.array(serialization.FORMAT))),
                                     stored_entry("w.npy", content)])
    state, architecture = serialization.read(path, {"w": (2,)})
    assert state["w"].tolist() == [1.5, -2.0] and architecture is None


def test_a_bad_value_in_an_architecture_is_quoted_in_its_first_forty_characters():
    """A long unknown activation is quoted as the first 40 characters of its repr, not in full."""
    layer = {**ONE_LAYER["layers"][0], "activation": "x" * 50}
    with pytest.raises(ValueError, match=r"layer 1 has unknown activation '" + "x" * 39 + "$"):
        serialization.parameter_shapes({"layers": [layer]})


def test_a_name_too_long_for_a_zip_entry_is_quoted_in_its_first_sixty_characters(tmp_path: Path):
    """A 70,000-character name is quoted shortened (60 characters of its repr), with its size in bytes."""
    with pytest.raises(ValueError, match=r"^save: '" + "a" * 59 + r" cannot name a parameter: it is too long "
                                         r"\(70,000 bytes in UTF-8"):
        serialization.save(tmp_path / "m.npz", {"a" * 70_000: np.zeros(1)})


def test_a_missing_file_pointing_at_the_npz_beside_it_has_no_chained_traceback(tmp_path: Path):
    """read("model") with only model.npz there says so in one FileNotFoundError, raised from None."""
    serialization.save(tmp_path / "model.npz", ONE_STATE)
    with pytest.raises(FileNotFoundError, match=r"there is a file '.*model\.npz'\)") as raised:
        serialization.read(tmp_path / "model")
    assert raised.value.filename == str(tmp_path / "model") and _no_context(raised.value)


def test_a_format_marker_above_1024_bytes_is_refused_unread(tmp_path: Path):
    """The marker may take at most 1,024 bytes (the architecture's larger limit is not the marker's)."""
    path = npz_file(tmp_path / "m.npz", {"__format__": np.array("x" * 300), **ONE_STATE})
    with pytest.raises(serialization.ModelFileError, match=r": the format entry declares \d+ bytes; at most 1024 "
                                                           r"are read$"):
        serialization.read(path)


def test_shapes_that_are_not_a_mapping_are_a_type_error_naming_the_operation(tmp_path: Path):
    """shapes given as a list of pairs is the caller's TypeError, named for the operation, before the file is read."""
    with pytest.raises(TypeError, match=r"^load: shapes must map parameter names to shapes, got list$"):
        serialization.read(tmp_path / "absent.npz", [("w", (2,))], operation="load")


def test_an_entry_whose_stored_bytes_end_before_its_declared_size_is_truncated(tmp_path: Path):
    """Stored data shorter than the entry's declared (and header-consistent) size is refused as truncated."""
    content = npy_bytes(header={"descr": "<f8", "fortran_order": False, "shape": (2,)}, data=b"\0" * 8)
    name, stored, method, crc, _, flags = stored_entry("w.npy", content)
    path = zip_by_hand(tmp_path / "m.npz", [stored_entry("__format__.npy", npy_bytes(np.array(serialization.FORMAT))),
                                     (name, stored, method, crc, len(content) + 8, flags)])
    with pytest.raises(serialization.ModelFileError, match=r"entry 'w\.npy' is truncated$"):
        serialization.read(path)
