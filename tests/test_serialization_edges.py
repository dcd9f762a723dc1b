"""Model files at their edges, found by a mutation run of serialization.py and files.py: every bit of a parameter
back (checked by reading the file with zipfile and numpy, not with the code under test), entries in the layouts
numpy itself writes (Fortran order, big-endian, .npy version 2.0), a failed save that leaves the good file in place,
names and architectures that save must refuse because load would, forged files (an architecture contradicting the
entries or the model, NaN, sizes beyond the limit) refused by every load with the model left as it was, arrays
that can be changed like numpy.load's, and descriptors closed after a refusal."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from helpers_model_files import layer_entry, npz_file

from tinygrad_edu import Value, nn, serialization
from tinygrad_edu.files import open_regular_file

# Values whose every bit matters: −0.0, the smallest subnormals, the largest finite numbers.
EDGE_64 = np.array([[-0.0, 5e-324, -5e-324], [np.finfo(np.float64).max, -np.finfo(np.float64).max, 0.0]])
EDGE_32 = np.array([-0.0, np.finfo(np.float32).smallest_subnormal, -np.finfo(np.float32).max], dtype=np.float32)


def _network() -> nn.Network:
    """2 → 3 → 3 (tanh, identity) whose parameters hold the edge values above."""
    net = nn.MLP([2, 3, 3], activation="tanh", output_activation="identity", rng=0)
    net.layers[0].weights.data = EDGE_64.copy()
    net.layers[1].biases.data = EDGE_32.copy()
    return net


def _entries(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a model file, read with zipfile and numpy alone."""
    with zipfile.ZipFile(path) as archive:
        return {info.filename[:-4]: np.lib.format.read_array(io.BytesIO(archive.read(info)), allow_pickle=False)
                for info in archive.infolist()}


def _bits(state: dict) -> dict[str, tuple]:
    """Name → (dtype, shape, bytes) of every array (or Value) of a state: equal only if equal bit for bit."""
    arrays = {name: np.asarray(getattr(value, "data", value)) for name, value in state.items()}
    return {name: (array.dtype.str, array.shape, array.tobytes()) for name, array in arrays.items()}


def _snapshot(model: nn.Network) -> list[tuple]:
    """Each parameter's identity, requires_grad, dtype and bits: what a refused load must leave as it was."""
    values = [value for layer in model.layers for value in (layer.weights, layer.biases)]
    return [(id(value), value.requires_grad, value.data.dtype.str, value.data.tobytes()) for value in values]


# --- every bit back ----------------------------------------------------------------------------------------------

def test_negative_zero_subnormals_and_float32_are_written_and_read_back_bit_for_bit(tmp_path: Path) -> None:
    net = _network()
    path = tmp_path / "edges.npz"
    net.save(path)
    written = _entries(path)
    assert str(written.pop("__format__")) == serialization.FORMAT
    assert json.loads(str(written.pop("__architecture__"))) == net.config()
    assert _bits(written) == _bits(net.state_dict())  # the file itself holds the exact bits, dtypes and shapes
    assert written["layers.1.weights"].tobytes() == EDGE_64.tobytes()
    assert written["layers.2.biases"].dtype == np.float32 and written["layers.2.biases"].tobytes() == EDGE_32.tobytes()
    assert np.signbit(written["layers.1.weights"][0, 0])  # −0.0 is not +0.0
    other = nn.MLP([2, 3, 3], activation="tanh", output_activation="identity", rng=5)
    for loaded in (nn.load_state(path), nn.load(path).state_dict(), other.load(path).state_dict()):
        assert _bits(loaded) == _bits(written)


@pytest.mark.parametrize("array", [np.arange(3), np.ones(3, dtype=np.complex128), np.ones(3, dtype=np.float16),
                                   np.ones(3, dtype=bool), np.ones(3, dtype=np.longdouble)],
                         ids=["int64", "complex128", "float16", "bool", "longdouble"])
def test_save_refuses_an_array_that_load_would_refuse_and_writes_nothing(tmp_path: Path, array) -> None:
    if array.dtype == np.float64:  # longdouble is float64 on some platforms, and saved as such
        pytest.skip("longdouble is float64 here")
    with pytest.raises(ValueError, match=rf"save: parameter 'w' has dtype {array.dtype}; expected float32 or float64"):
        serialization.save(tmp_path / "m.npz", {"w": array})
    assert list(tmp_path.iterdir()) == []


def test_a_big_endian_state_is_saved_and_read_back_in_the_machines_byte_order(tmp_path: Path) -> None:
    """np.load of a file from a big-endian machine gives '>f8' arrays; save refused them with "has dtype >f8;
    expected float32 or float64", a contradiction."""
    state = {"w": EDGE_64.astype(">f8"), "b": EDGE_32.astype(">f4")}
    serialization.save(tmp_path / "be.npz", state)
    read, _ = serialization.read(tmp_path / "be.npz")
    assert [read[name].dtype.str for name in ("w", "b")] == [np.dtype("=f8").str, np.dtype("=f4").str]
    assert read["w"].tobytes() == EDGE_64.tobytes() and read["b"].tobytes() == EDGE_32.tobytes()


# --- entries in the layouts numpy writes ------------------------------------------------------------------------

def _network_entries(convert=lambda array: array) -> dict[str, np.ndarray]:
    """The entries a saved ``_network()`` holds, its parameters passed through ``convert``: to forge a file from."""
    net = _network()
    return {"__format__": np.array(serialization.FORMAT), "__architecture__": np.array(json.dumps(net.config())),
            **{name: convert(array) for name, array in net.state_dict().items()}}


@pytest.mark.parametrize("convert, version", [
    (np.asfortranarray, None),                                  # fortran_order: True in the header
    (lambda array: array.astype(array.dtype.newbyteorder(">")), None),  # '>f8' in the header
    (lambda array: array, (2, 0)),                              # .npy format version 2.0
], ids=["Fortran order", "big-endian", "npy version 2.0"])
def test_entries_in_every_layout_numpy_writes_load_exactly(tmp_path: Path, convert, version) -> None:
    path = npz_file(tmp_path / "numpy.npz", _network_entries(convert), version)
    expected = _bits(_network().state_dict())
    assert _bits(nn.load_state(path)) == expected
    assert _bits(nn.load(path).state_dict()) == expected
    assert _bits(nn.MLP([2, 3, 3], activation="tanh", output_activation="identity", rng=5).load(path)
                 .state_dict()) == expected


def test_a_transposed_parameter_is_saved_and_loaded_in_its_own_order(tmp_path: Path) -> None:
    """A weight that is a transposed view is written in Fortran order; read in C order it would come back
    transposed in place: [[1, 2, 3], [4, 5, 6]] read as [[1, 4, 2], [5, 3, 6]]."""
    net = nn.MLP([2, 3], activation="identity", rng=0)
    net.layers[0].weights.data = np.array([[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]).T
    net.save(tmp_path / "t.npz")
    other = nn.MLP([2, 3], activation="identity", rng=1).load(tmp_path / "t.npz")
    assert other.layers[0].weights.data.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


# --- a failed save leaves the good file ---------------------------------------------------------------------------

@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()],
                         ids=["disk full", "Ctrl-C"])
def test_a_save_that_fails_half_way_leaves_the_model_saved_before(tmp_path: Path, monkeypatch, failure) -> None:
    path = tmp_path / "model.npz"
    _network().save(path)
    good = path.read_bytes()
    write_array, written = np.lib.format.write_array, []

    def failing(*args, **kwargs):
        written.append(1)
        if len(written) == 3:  # the marker and the architecture are written, the parameters not all
            raise failure
        write_array(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing)
    with pytest.raises(type(failure)):
        nn.MLP([2, 3, 3], rng=1).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == good
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]  # no temporary file left behind


# --- names and architectures that load would refuse -----------------------------------------------------------------

@pytest.mark.parametrize("name, why", [("w\0x", "NUL"), ("w\udc80", "UTF-8"), ("w" * 70_000, "long")],
                         ids=["NUL", "lone surrogate", "70,000 characters"])
def test_save_refuses_a_name_no_zip_entry_can_hold(tmp_path: Path, name: str, why: str) -> None:
    """A NUL ended the entry's name ('w\\0x' became 'w', which load refused as not an .npy); a lone surrogate was a
    bare UnicodeEncodeError, a very long name a struct.error."""
    with pytest.raises(ValueError, match=rf"^save: .* cannot name a parameter.*{why}"):
        serialization.save(tmp_path / "m.npz", {name: np.ones(2)})
    assert list(tmp_path.iterdir()) == []


def test_a_parameter_named_with_a_nul_in_a_dict_key_is_refused_by_module_save(tmp_path: Path) -> None:
    class Table(nn.Module):
        def __init__(self) -> None:
            self.table = {"a\0b": Value(np.ones(2))}

    with pytest.raises(ValueError, match="cannot name a parameter"):
        Table().save(tmp_path / "t.npz")
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_an_architecture_that_load_would_refuse_for_its_size(tmp_path: Path) -> None:
    """A layer name of 300,000 characters made an architecture entry of 1.2 MB: saved, then refused by load."""
    net = nn.Network(nn.Layer(2, 1, name="x" * 300_000, rng=0))
    with pytest.raises(ValueError, match=r"save: the architecture .* bytes.* at most 1,048,576"):
        net.save(tmp_path / "long.npz")
    assert list(tmp_path.iterdir()) == []
    nn.Network(nn.Layer(2, 1, name="x" * 200_000, rng=0)).save(tmp_path / "fits.npz")  # 800 kB: loads
    assert nn.load(tmp_path / "fits.npz").layers[0].name == "x" * 200_000


# --- the stored architecture --------------------------------------------------------------------------------------

@pytest.mark.parametrize("layers, pattern", [
    ([layer_entry(0, 3)], "sizes 0"),
    ([layer_entry(2, 0)], "sizes 2 → 0"),
    ([layer_entry(True, 3)], "sizes True"),
    ([layer_entry(2, 3), layer_entry(4, 1)], "layer 1 gives 3 outputs but layer 2 takes 4"),
    ([layer_entry(2, 3, frozen=["weights", "weights"])], "frozen"),
    ([layer_entry(2, 3, frozen=["W"])], "frozen"),
    ([layer_entry(2, 3, activation="relu6")], "unknown activation 'relu6'"),
])
def test_parameter_shapes_refuses_a_malformed_architecture(layers, pattern) -> None:
    with pytest.raises(ValueError, match=pattern):
        serialization.parameter_shapes({"layers": layers})


def test_parameter_shapes_of_a_well_formed_architecture() -> None:
    """Worked out by hand: W¹ is in × out, b¹ has out numbers."""
    shapes = serialization.parameter_shapes({"layers": [layer_entry(4, 3), layer_entry(3, 2, frozen=["biases"])]})
    assert shapes == {"layers.1.weights": (4, 3), "layers.1.biases": (3,), "layers.2.weights": (3, 2),
                      "layers.2.biases": (2,)}


def test_the_parameter_limit_admits_exactly_max_parameters() -> None:
    """1 → 5·10⁷ holds 5·10⁷ weights and 5·10⁷ biases: exactly the limit, so allowed; one more is refused."""
    limit = serialization.MAX_PARAMETERS
    serialization.check_parameter_count(limit, "a model")
    shapes = serialization.parameter_shapes({"layers": [layer_entry(1, limit // 2)]})
    assert shapes["layers.1.weights"] == (1, limit // 2)
    with pytest.raises(ValueError, match="100,000,001 parameters"):
        serialization.check_parameter_count(limit + 1, "a model")


def test_a_file_whose_architecture_contradicts_its_entries_is_refused_by_module_load(tmp_path: Path) -> None:
    """The entries fit a 3 → 2 → 1 model, the stored architecture says 2 → 3 → 1: nn.load refuses the file, and so
    must model.load, leaving the model as it was."""
    source = nn.MLP([3, 2, 1], activation="tanh", output_activation="identity", rng=0)
    lying = nn.MLP([2, 3, 1], activation="tanh", output_activation="identity", rng=0).config()
    entries = {"__format__": np.array(serialization.FORMAT), "__architecture__": np.array(json.dumps(lying)),
               **source.state_dict()}
    path = npz_file(tmp_path / "lying.npz", entries)
    with pytest.raises(ValueError, match="lying.npz"):
        nn.load(path)
    model = nn.MLP([3, 2, 1], activation="tanh", output_activation="identity", rng=1)
    model.layers[0].biases.requires_grad = False
    before = _snapshot(model)
    with pytest.raises(ValueError, match=r"shape \(2, 3\) in the stored architecture but \(3, 2\) in the model"):
        model.load(path)
    assert _snapshot(model) == before


# --- files.py -------------------------------------------------------------------------------------------------

def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not (os.path.isdir("/proc/self/fd") and hasattr(os, "mkfifo")), reason="needs Linux /proc")
def test_a_refused_pipe_device_or_folder_leaves_no_descriptor_open(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    before = _open_descriptors()
    for _ in range(20):
        for path, error in ((pipe, ValueError), ("/dev/zero", ValueError), (tmp_path, IsADirectoryError)):
            with pytest.raises(error, match="open_regular_file test"):
                open_regular_file(path, "open_regular_file test")
    assert _open_descriptors() == before


def test_an_empty_file_name_is_refused_by_name() -> None:
    for load in (nn.load, nn.load_state):
        with pytest.raises(ValueError, match=f"^{load.__name__}: the file name is empty$"):
            load("")
    with pytest.raises(ValueError, match="^save: the file name is empty$"):
        nn.MLP([1, 1], rng=0).save("")


def test_the_arrays_read_from_a_file_can_be_changed_like_those_numpy_load_gives(tmp_path: Path) -> None:
    """They were read-only views of the file's bytes: halving a weight before load_state_dict raised "assignment
    destination is read-only"."""
    path = tmp_path / "model.npz"
    _network().save(path)
    state = nn.load_state(path)
    state["layers.2.weights"] *= 0.5
    state["layers.1.biases"][0] = 7.0
    expected = dict(np.load(path, allow_pickle=False))
    np.testing.assert_array_equal(state["layers.2.weights"], expected["layers.2.weights"] * 0.5)
    assert state["layers.1.biases"][0] == 7.0 and all(array.flags.writeable for array in state.values())
    assert nn.load_state(path)["layers.1.biases"].tobytes() == expected["layers.1.biases"].tobytes()


def _refused_by_every_load(path: Path, pattern: str) -> None:
    """nn.load_state, nn.load and Module.load all refuse ``path`` with ``pattern``; the model is left as it was."""
    for load in (nn.load_state, nn.load):
        with pytest.raises(ValueError, match=pattern):
            load(path)
    model = nn.MLP([2, 3, 3], activation="tanh", output_activation="identity", rng=1)
    before = _snapshot(model)
    with pytest.raises(ValueError, match=pattern):
        model.load(path)
    assert _snapshot(model) == before


def test_an_entry_of_another_shape_than_the_stored_architecture_says_is_refused_by_every_load(tmp_path: Path) -> None:
    """W¹ stored as 3 × 2 where the architecture says 2 × 3 (the same six numbers): nn.load_state returned it as it
    was only if the entry's shape went unchecked; every load must refuse the file, naming it and the entry."""
    entries = _network_entries()
    entries["layers.1.weights"] = entries["layers.1.weights"].T.copy()
    _refused_by_every_load(npz_file(tmp_path / "transposed.npz", entries),
                           r"transposed\.npz.*'layers\.1\.weights' has shape \(3, 2\) but \(2, 3\)")


def test_without_an_architecture_an_entry_above_the_parameter_limit_is_refused(tmp_path: Path, monkeypatch) -> None:
    """With the limit lowered to 10 numbers, an entry of 11 (and no architecture or model to compare with) is
    refused from its header; one of 10 is read."""
    monkeypatch.setattr(serialization, "MAX_PARAMETERS", 10)
    path = npz_file(tmp_path / "bare.npz", {"__format__": np.array(serialization.FORMAT), "w": np.arange(11.0)})
    with pytest.raises(ValueError, match=r"bare\.npz.*'w' declares shape \(11,\), more than 10 numbers"):
        nn.load_state(path)
    path = npz_file(tmp_path / "fits.npz", {"__format__": np.array(serialization.FORMAT), "w": np.arange(10.0)})
    assert nn.load_state(path)["w"].tolist() == list(range(10))


def test_without_an_architecture_entries_above_the_limit_together_are_refused_unread(tmp_path: Path,
                                                                                      monkeypatch) -> None:
    """Each entry within the limit, both together twice over it (limit lowered to 10,000 numbers): refused from the
    zip directory, as the file's entries are read only if all together fit."""
    monkeypatch.setattr(serialization, "MAX_PARAMETERS", 10_000)
    marker = {"__format__": np.array(serialization.FORMAT)}
    path = npz_file(tmp_path / "two.npz", {**marker, "a": np.zeros(10_000), "b": np.zeros(10_000)})
    with pytest.raises(ValueError, match=r"two\.npz': its entries declare more than 10,000 numbers"):
        nn.load_state(path)
    assert nn.load_state(npz_file(tmp_path / "one.npz", {**marker, "a": np.zeros(10_000)}))["a"].shape == (10_000,)


def test_a_nan_in_a_forged_file_is_refused_by_every_load_naming_the_file(tmp_path: Path) -> None:
    entries = _network_entries()
    entries["layers.2.biases"] = np.array([0.0, np.nan, 1.0], dtype=np.float32)
    _refused_by_every_load(npz_file(tmp_path / "nan.npz", entries),
                           r"nan\.npz': entry 'layers\.2\.biases' holds NaN or inf")


def test_a_deflated_entry_whose_stream_is_damaged_is_a_model_file_error(tmp_path: Path) -> None:
    """A zlib.error from inside zipfile is damage like any other: a ModelFileError naming the file."""
    path = tmp_path / "deflated.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, array in {"__format__": np.array(serialization.FORMAT), "w": np.arange(50.0)}.items():
            out = io.BytesIO()
            np.lib.format.write_array(out, array, allow_pickle=False)
            archive.writestr(f"{name}.npy", out.getvalue())
        info = archive.getinfo("w.npy")
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)  # the compressed stream
    data[start:start + 8] = b"\xff" * 8  # deflate block type 3: invalid
    path.write_bytes(bytes(data))
    with pytest.raises(serialization.ModelFileError, match=r"deflated\.npz' is not a readable.*error"):
        nn.load_state(path)



# --- a bad-input sweep of the public functions -------------------------------------------------------------------

def test_a_name_with_a_number_too_long_for_int_is_no_list_position() -> None:
    """``counted_from_1("layers.<5000 digits>.w")`` raised Python's bare "Exceeds the limit (4300 digits) for integer
    string conversion", and load_state_dict of a state holding such a name did too, naming neither."""
    huge = "layers." + "9" * 5000 + ".weights"
    assert serialization.counted_from_1(huge) == huge  # no list has that many entries: left as it is
    assert serialization.counted_from_1("layers.0.weights") == "layers.1.weights"
    assert serialization.counted_from_1("layers.1234567890123456789.weights") == "layers.1234567890123456790.weights"
    model = nn.MLP([2, 1], rng=0)
    with pytest.raises(ValueError, match=r"^load_state_dict: the state does not fit this MLP: .*unexpected layers\.9"):
        model.load_state_dict({**model.state_dict(), huge: np.zeros(1)})


def test_save_names_a_parameter_given_as_ragged_lists_and_writes_nothing(tmp_path: Path) -> None:
    """numpy's own "setting an array element with a sequence…" came out of serialization.save, naming nothing."""
    path = tmp_path / "ragged.npz"
    with pytest.raises(ValueError, match=r"^save: parameter 'w' is not an array of numbers"):
        serialization.save(path, {"w": [[1.0], [1.0, 2.0]]})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("shape, error, pattern", [
    (2, TypeError, r"must be a tuple of sizes like \(2, 3\), got 2$"),
    (None, TypeError, r"must be a tuple of sizes like \(2, 3\), got None$"),
    ("ab", TypeError, r"must be a tuple of sizes like \(2, 3\), got 'ab'$"),
    ((2.0,), TypeError, r"must be a tuple of sizes like \(2, 3\), got \(2\.0,\)$"),
    ((-1,), ValueError, r"must hold sizes >= 0, got \(-1,\)$"),
])
def test_shapes_that_are_not_shapes_are_the_callers_error_not_a_damaged_file(tmp_path: Path, shape, error,
                                                                             pattern) -> None:
    """``read(path, {"w": 2})`` said the (good) file "is not a readable tinygrad_edu model file: TypeError: 'int'
    object is not iterable"; (2.0,) passed as the shape (2,); (-1,) blamed the file for not having that shape."""
    path = tmp_path / "good.npz"
    serialization.save(path, {"w": np.ones(2)})
    with pytest.raises(error, match=rf"^read: shapes\['w'\] {pattern}") as raised:
        serialization.read(path, {"w": shape})
    assert not isinstance(raised.value, serialization.ModelFileError)
    assert serialization.read(path, {"w": [2]})[0]["w"].tolist() == [1.0, 1.0]
