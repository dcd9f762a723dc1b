"""Edges found by mutation testing of ``serialization.py`` (second pass) and ``seeds.py``: each test pins a behaviour
that a hand-made mutant (a flipped comparison, an off-by-one limit, a dropped check, a swapped or shortened message)
changed while the other tests passed.  104 mutants, 16 of ``tinygrad_edu/seeds.py`` and 88 of
``tinygrad_edu/serialization.py``; 61 killed before these tests, 94 after: all but the 10 equivalent ones.  The run
also found three defects, fixed with the tests at the end of this file (each failed before): a format-1 file whose
names collide once counted from 1 (``t.0`` and ``t.00`` both become ``t.1``) lost an entry without a word; a key of
``shapes`` that is not a name blamed the good file; an architecture JSON cannot write gave json's bare TypeError.

Equivalent mutants, left without a test:

- ``seeds.generator``: ``None`` seeded from ``randint(0, 2**31 - 1)`` instead of ``2**63 - 1``: still the same after
  ``np.random.seed`` and different on each call, the only promises; which int seeds the Generator is not one.
- ``_checked_state``: ``hasattr(state, "items")`` instead of ``isinstance(state, Mapping)``: only an object that
  imitates a mapping without being one differs, and it is then saved as the mapping it imitates.
- ``save``: the temporary file opened with ``"wb"`` instead of ``"xb"``: its name holds a fresh uuid4, so no file
  of that name exists already.
- ``save``: ``force_zip64=False``: an entry holds at most 10**8 float64 numbers (800 MB), below the 2 GiB at which
  zipfile needs zip64 for an entry.
- ``_destination``: the permissions kept as the whole ``st_mode`` instead of ``S_IMODE(st_mode)``: ``chmod`` ignores
  the file-type bits.
- ``_read_archive``: no ``file.seek(0)`` after reading the first 6 bytes: ``zipfile`` finds its directory from the
  end of the file and seeks to every entry itself.
- ``_npy_header``: ``max_header_size`` left out for a version 1.0 header: numpy's default is 10,000 too.
- ``_read_data``: no ``member.read(1)`` check for data beyond the header's: the declared size is already checked to
  be exactly header plus data, and zipfile reads no more than the declared size.
- ``_read_data``: the copy kept in the entry's memory order instead of C order: the same values, shape, dtype and
  writability (``np.load`` keeps a Fortran-order entry in Fortran order too).
- ``save``: the parameters written before the marker and the architecture: ``read`` finds entries by name, and their
  order in the zip is not part of the format.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from helpers_model_files import (
    layer_entry,
    npy_bytes,
    npz_file,
    state_copy,
    stored_entry,
    tiny_mlp,
    unchanged_since,
    zip_by_hand,
)

from tinygrad_edu import nn, seeds, serialization

MARKER = {"__format__": np.array(serialization.FORMAT)}


def _bare(path: Path, **arrays: np.ndarray) -> Path:
    """A model file of ``arrays`` and the format marker, no architecture, written with numpy and zipfile."""
    return npz_file(path, {**MARKER, **arrays})


# ------------------------------------------------------------------------------------------------------------- seeds

@pytest.mark.parametrize("seed", [2**32, 2**40 + 7, 2**100])
def test_an_int_seed_beyond_32_bits_is_numpys_default_rng_of_that_very_seed(seed):
    """``default_rng`` takes any int >= 0; a seed is not cut to 32 bits (2**32 would then be seed 0)."""
    np.testing.assert_array_equal(seeds.generator(seed, "f").random(4), np.random.default_rng(seed).random(4))
    assert not np.array_equal(seeds.generator(seed, "f").random(4), seeds.generator(0, "f").random(4))


# ---------------------------------------------------------------------------------------------- the architecture

def test_an_architecture_without_layers_is_refused_by_name():
    """No layer, no model: a ValueError naming parameter_shapes, not an IndexError from the first layer's size."""
    with pytest.raises(ValueError, match=r"^parameter_shapes: the architecture is damaged: expected \{'layers': "
                                         r"\[\.\.\.\]\} with at least one layer, got \{'layers': \[\]\}$"):
        serialization.parameter_shapes({"layers": []})


def test_frozen_must_be_a_list_not_a_mapping_of_the_names():
    """{"weights": true} holds the right name as a key, but the format says a list."""
    with pytest.raises(ValueError, match=r"layer 1 has frozen \{'weights': True\}; expected a list of 'weights' "
                                         r"and 'biases'$"):
        serialization.parameter_shapes({"layers": [layer_entry(2, 3, frozen={"weights": True})]})


# -------------------------------------------------------------------------------------------------------- saving

def test_a_state_of_values_as_named_parameters_gives_them_is_saved_as_their_numbers(tmp_path: Path):
    """``dict(model.named_parameters())`` maps names to Values, which load_state_dict takes too; save writes their
    numbers (a Value refuses to become an array implicitly)."""
    model = tiny_mlp()
    serialization.save(tmp_path / "values.npz", dict(model.named_parameters()))
    assert unchanged_since(nn.MLP([2, 3, 1], activation="tanh", output_activation="identity", rng=1)
                      .load(tmp_path / "values.npz"), state_copy(model))


@pytest.mark.parametrize("bad", [np.inf, -np.inf])
def test_save_refuses_infinity_as_it_refuses_nan_and_writes_nothing(tmp_path: Path, bad: float):
    """load refuses inf as it refuses NaN, so save must refuse both ("such a model cannot be loaded back")."""
    with pytest.raises(ValueError, match=r"^save: parameter 'w' holds NaN or inf"):
        serialization.save(tmp_path / "m.npz", {"w": np.array([1.0, bad])})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["", "__architecture__"])
def test_save_refuses_an_empty_name_and_the_architectures_own_name(tmp_path: Path, name: str):
    """An entry named '.npy' or a second '__architecture__.npy' would make a file load cannot read back."""
    with pytest.raises(ValueError, match=rf"^save: {name!r} cannot name a parameter$"):
        serialization.save(tmp_path / "m.npz", {name: np.ones(2)})
    assert list(tmp_path.iterdir()) == []


def test_a_name_of_exactly_65531_utf8_bytes_is_the_longest_saved(tmp_path: Path):
    """A zip entry's name holds at most 65,535 bytes, and '.npy' takes 4 of them: 65,531 bytes save and load back,
    65,532 are refused before writing."""
    longest = "w" * 65_531
    serialization.save(tmp_path / "long.npz", {longest: np.array([1.5])})
    assert serialization.read(tmp_path / "long.npz")[0][longest].tolist() == [1.5]
    with pytest.raises(ValueError, match=r"too long \(65,532 bytes in UTF-8"):
        serialization.save(tmp_path / "longer.npz", {longest + "w": np.array([1.5])})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.npz"]


def _architecture_entry_bytes(config: dict) -> int:
    """The size of the architecture's ``.npy`` entry, as numpy writes it: header and UTF-32 text."""
    out = io.BytesIO()
    np.lib.format.write_array(out, np.array(json.dumps(config)), allow_pickle=False)
    return len(out.getvalue())


def _named_network(length: int) -> nn.Network:
    return nn.Network(nn.Layer(2, 1, name="x" * length, rng=0))


def _network_with_architecture_of(size: int) -> nn.Network:
    """A 2 → 1 network whose architecture entry takes exactly ``size`` bytes, by the length of its layer's name."""
    base = _architecture_entry_bytes(_named_network(0).config())
    length = (size - base) // 4  # each character of the name takes 4 bytes of UTF-32 text
    for guess in range(length - 40, length + 40):  # the header grows with the number of digits in its dtype
        if _architecture_entry_bytes(_named_network(guess).config()) == size:
            return _named_network(guess)
    raise AssertionError(f"no name gives an architecture entry of {size} bytes")


def test_an_architecture_entry_of_exactly_one_mebibyte_saves_and_loads(tmp_path: Path):
    """The limit is 1,048,576 bytes, header included, on both sides: exactly that much is written and read back;
    one character more (4 bytes) is refused by save, not left for load to refuse."""
    net = _network_with_architecture_of(1 << 20)
    net.save(tmp_path / "mebibyte.npz")
    with zipfile.ZipFile(tmp_path / "mebibyte.npz") as archive:
        assert archive.getinfo("__architecture__.npy").file_size == 1 << 20
    assert nn.load(tmp_path / "mebibyte.npz").layers[0].name == net.layers[0].name
    longer = _named_network(len(net.layers[0].name) + 1)
    with pytest.raises(ValueError, match=r"^save: the architecture takes 1,048,580 bytes as text"):
        longer.save(tmp_path / "more.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mebibyte.npz"]


def test_save_refuses_an_architecture_naming_the_parameters_but_with_other_shapes(tmp_path: Path):
    """W¹ of a 2 → 3 layer is 2 × 3; a 3 × 2 array under the right name does not fit it."""
    state = {"layers.1.weights": np.zeros((3, 2)), "layers.1.biases": np.zeros(3)}
    with pytest.raises(ValueError, match=r"^save: the architecture does not describe the parameters$"):
        serialization.save(tmp_path / "m.npz", state, {"layers": [layer_entry(2, 3)]})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_saving_over_a_file_of_mode_000_keeps_mode_000(tmp_path: Path):
    """A file that nobody may read or write keeps mode 0 when its owner (here root, for whom it is writable) saves
    over it; mode 0 is a mode to keep, not "no mode"."""
    path = tmp_path / "locked.npz"
    tiny_mlp().save(path)
    path.chmod(0)
    if not os.access(path, os.W_OK):
        pytest.skip("only root may write a file of mode 000")
    nn.MLP([2, 3, 1], rng=1).save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0


def test_an_os_error_naming_no_file_is_said_to_be_about_the_users_file(tmp_path: Path, monkeypatch):
    """A full disk (errno 28, no file name in the error) names the user's file, as an error naming the temporary
    file does, keeps its errno, and leaves no temporary file; other errors (a bug's) are not rewritten."""
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np.lib.format, "write_array", full)
    path = tmp_path / "m.npz"
    with pytest.raises(OSError, match=rf"^\[Errno 28\] save: cannot write {re.escape(repr(str(path)))}: No space "
                                      "left on device$") as raised:
        tiny_mlp().save(path)
    assert raised.value.errno == 28 and os.listdir(tmp_path) == []
    failure = ZeroDivisionError("a bug")

    def broken(*args, **kwargs):
        raise failure

    monkeypatch.setattr(np.lib.format, "write_array", broken)
    with pytest.raises(ZeroDivisionError) as raised:
        tiny_mlp().save(path)
    assert raised.value is failure and os.listdir(tmp_path) == []


# ----------------------------------------------------------------------------------------------- reading: arguments

@pytest.fixture
def two_numbers(tmp_path: Path) -> Path:
    """A file holding one parameter 'w' = [1.0, 1.0]."""
    path = tmp_path / "good.npz"
    serialization.save(path, {"w": np.ones(2)})
    return path


def test_a_bool_in_a_shape_is_the_callers_error(two_numbers: Path):
    """True == 1, but (True, 2) is no shape: a TypeError, as for a bool anywhere a size is expected."""
    with pytest.raises(TypeError, match=r"^read: shapes\['w'\] must be a tuple of sizes like \(2, 3\), got "
                                        r"\(True, 2\)$"):
        serialization.read(two_numbers, {"w": (True, 2)})


def test_numpy_integers_are_sizes(two_numbers: Path):
    """Shapes computed with numpy, (np.int64(2),), are as good as (2,)."""
    assert serialization.read(two_numbers, {"w": (np.int64(2),)})[0]["w"].tolist() == [1.0, 1.0]


def test_an_empty_parameter_is_saved_and_read_back_with_its_shape(tmp_path: Path):
    """Sizes >= 0: a 0 × 3 array (no numbers) is a parameter like any other."""
    serialization.save(tmp_path / "empty.npz", {"w": np.zeros((0, 3))})
    assert serialization.read(tmp_path / "empty.npz", {"w": (0, 3)})[0]["w"].shape == (0, 3)


# ------------------------------------------------------------------------------------------ reading: what the file is

def test_a_format_from_a_later_version_is_refused_with_exactly_the_format_read(tmp_path: Path):
    """'tinygrad_edu.state/3' is ours but not readable here; the ModelFileError says so, once, not wrapped in "is not
    a readable ... file: ModelFileError: ..."."""
    path = npz_file(tmp_path / "future.npz", {"__format__": np.array("tinygrad_edu.state/3"), "w": np.ones(2)})
    with pytest.raises(serialization.ModelFileError, match=r"^load_state: '[^']*future\.npz' has format "
                                                           r"'tinygrad_edu\.state/3'; this version reads "
                                                           r"'tinygrad_edu\.state/2'$"):
        nn.load_state(path)


def test_a_missing_model_npz_in_capitals_points_at_the_file_model(tmp_path: Path):
    """'.NPZ' is '.npz' in other letters: load("model.NPZ") of a missing file points at the file "model" that
    save wrote."""
    tiny_mlp().save(tmp_path / "model")
    with pytest.raises(FileNotFoundError, match=r"there is a file '.*model' without \.npz"):
        nn.load(tmp_path / "model.NPZ")


def test_a_folder_named_like_the_model_is_not_pointed_at(tmp_path: Path):
    """Only a file is a model file: with a folder "model" beside it, a missing model.npz gets no hint."""
    (tmp_path / "model").mkdir()
    with pytest.raises(FileNotFoundError) as raised:
        nn.load(tmp_path / "model.npz")
    assert "there is" not in str(raised.value)


def test_a_file_starting_with_pk_but_not_a_zip_entry_lacks_the_zip_header(tmp_path: Path):
    """A zip starts with the local header signature PK\\x03\\x04, not just the letters PK."""
    (tmp_path / "PKG-INFO").write_text("PKG-INFO: not a model\n")
    with pytest.raises(serialization.ModelFileError, match=r"is not an \.npz archive \(it lacks the zip header\)$"):
        nn.load_state(tmp_path / "PKG-INFO")


# ------------------------------------------------------------------------------ reading: entries against the model

def test_an_encrypted_entry_is_refused_from_the_zip_directory_by_name(tmp_path: Path):
    """Bit 0 of an entry's flags marks it encrypted: refused as such by tinygrad_edu, naming the entry, not left for
    zipfile to fail on when it is opened ("password required for extraction")."""
    entries = [stored_entry("__format__.npy", npy_bytes(MARKER["__format__"])),
               stored_entry("w.npy", npy_bytes(np.ones(2)), flags=1)]
    with pytest.raises(serialization.ModelFileError, match=r"^load_state: '[^']*locked\.npz': entry 'w\.npy' is "
                                                           r"encrypted$"):
        nn.load_state(zip_by_hand(tmp_path / "locked.npz", entries))


def test_a_file_that_does_not_fit_the_model_names_what_is_missing_and_what_is_unexpected(tmp_path: Path):
    """A bare file (no architecture) of a 2 → 3 layer and an entry 'extra', loaded into a 2 → 3 → 1 MLP: refused
    from the zip directory, naming both lists, and the model is left as it was."""
    source = nn.MLP([2, 3], rng=0).state_dict()
    path = _bare(tmp_path / "partial.npz", **source, extra=np.ones(1))
    model = nn.MLP([2, 3, 1], rng=1)
    before = state_copy(model)
    with pytest.raises(serialization.ModelFileError, match=r"^load: '[^']*partial\.npz' does not fit the model: "
                                                           r"missing layers\.2\.weights, layers\.2\.biases; "
                                                           r"unexpected extra$"):
        model.load(path)
    assert unchanged_since(model, before)


def test_each_entry_may_declare_a_header_of_up_to_ten_thousand_bytes(tmp_path: Path, monkeypatch):
    """Limit lowered to 10,000 numbers: three entries of 3,000 float64 (9,000 numbers, within the limit) with 9,000-
    byte headers declare 3 · (9,000 + 24,000) = 99,000 bytes, within 8 · 10,000 + 3 · 10,000 = 110,000, so the file
    is read; the allowance is one header per entry, not one for the file (80,000 + 10,000 = 90,000)."""
    monkeypatch.setattr(serialization, "MAX_PARAMETERS", 10_000)

    def padded(array: np.ndarray) -> bytes:  # an .npy of version 1.0 whose header, spaces and all, is 9,000 bytes
        header = repr({"descr": array.dtype.str, "fortran_order": False, "shape": array.shape})
        header += " " * (9_000 - 10 - len(header) - 1) + "\n"
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + array.tobytes()

    arrays = {name: np.full(3_000, float(i)) for i, name in enumerate("abc")}
    entries = [stored_entry("__format__.npy", npy_bytes(MARKER["__format__"]))]
    entries += [stored_entry(f"{name}.npy", padded(array)) for name, array in arrays.items()]
    assert [len(content) for _, content, *_ in entries[1:]] == [33_000] * 3
    state = nn.load_state(zip_by_hand(tmp_path / "padded.npz", entries))
    assert {name: array.tolist() for name, array in state.items()} == {k: v.tolist() for k, v in arrays.items()}


def test_a_large_layer_loads_into_a_model(tmp_path: Path):
    """A 100 → 100 layer: W¹ takes 128 + 8 · 10,000 = 80,128 bytes, within the bound of 10,016 + 8 · 10,000 bytes
    that an entry of its shape may declare."""
    layer = nn.Layer(100, 100, rng=0)
    layer.save(tmp_path / "big.npz")
    other = nn.Layer(100, 100, rng=1).load(tmp_path / "big.npz")
    assert other.weights.data.tobytes() == layer.weights.data.tobytes()


def test_an_entry_longer_than_its_header_says_is_refused_with_both_sizes(tmp_path: Path):
    """np.ones(2) as .npy is a 128-byte header and 2 · 8 bytes of data, 144 bytes; 8 bytes more are not ours."""
    entries = [stored_entry("__format__.npy", npy_bytes(MARKER["__format__"])),
               stored_entry("w.npy", npy_bytes(np.ones(2)) + bytes(8))]
    with pytest.raises(serialization.ModelFileError, match=r"entry 'w\.npy' declares 152 bytes but its header "
                                                           r"describes 144$"):
        nn.load_state(zip_by_hand(tmp_path / "long.npz", entries))


def test_an_infinite_entry_is_refused_like_nan(tmp_path: Path):
    """save refuses inf as it refuses NaN ("such a model cannot be loaded back"); a forged file holding one is refused
    by load too."""
    path = _bare(tmp_path / "inf.npz", w=np.array([1.0, -np.inf]))
    with pytest.raises(serialization.ModelFileError, match=r"inf\.npz': entry 'w' holds NaN or inf$"):
        nn.load_state(path)


# ---------------------------------------------------------------------------------------------------- counted_from_1

@pytest.mark.parametrize("name", ["layers.٣.weights", "W.¹", "layers." + "1" * 20 + ".weights"],
                         ids=["Arabic-Indic digit", "superscript one", "20 digits"])
def test_only_ascii_numbers_of_at_most_19_digits_are_list_positions(name: str):
    """'٣' and '¹' are digits to str.isdigit (int('¹') even fails) but not list positions, nor is a number of 20
    digits (no list has 10**19 entries): such names are left as they are."""
    assert serialization.counted_from_1(name) == name


# ------------------------------------------------------------------------------------- defects the run found


def test_a_format_1_file_whose_names_collide_once_counted_from_1_is_refused(tmp_path):
    """'t.0' and 't.00' both become 't.1': one entry was silently dropped ({'t.1': [0.0]} came back)."""
    path = tmp_path / "old.npz"
    with open(path, "wb") as file:
        np.savez(file, __format__=np.array(serialization.FORMAT_1), **{"t.0": np.ones(1), "t.00": np.zeros(1)})
    with pytest.raises(serialization.ModelFileError, match=r"old\.npz.*'t\.0' and 't\.00' both .*'t\.1'"):
        nn.load_state(path)


def test_a_shapes_key_that_is_not_a_name_is_the_callers_error(tmp_path):
    """read(path, {1: (2,)}) said the good file "is not a readable tinygrad_edu model file: TypeError: sequence item
    0: expected str instance, int found"."""
    path = tmp_path / "good.npz"
    serialization.save(path, {"w": np.ones(2)})
    with pytest.raises(TypeError, match=r"^read: shapes must map parameter names \(str\) to shapes, got the key 1$"):
        serialization.read(path, {1: (2,)})


def test_an_architecture_json_cannot_hold_is_refused_by_name(tmp_path):
    """A layer with an extra entry holding an object: json's bare "Object of type object is not JSON serializable"
    named neither save nor the architecture."""
    state = {"layers.1.weights": np.ones((1, 1)), "layers.1.biases": np.ones(1)}
    layer = {"in_size": 1, "out_size": 1, "activation": "relu", "name": None, "note": object()}
    with pytest.raises(TypeError, match=r"^save: the architecture cannot be written as JSON: Object of type object"):
        serialization.save(tmp_path / "m.npz", state, {"layers": [layer]})
    assert list(tmp_path.iterdir()) == []
