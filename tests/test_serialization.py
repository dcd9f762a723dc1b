"""Model files under attack (issue 11): damaged, forged and hostile files, paths that are not files, and the
layer numbering of parameter names.  Every failure must be a ValueError (or TypeError for a non-path) that
names the file, read nothing it does not need, and change nothing in the model loaded into."""

from __future__ import annotations

import ast
import io
import json
import os
import stat
import threading
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from helpers_model_files import npy_bytes, state_copy, stored_entry, tiny_mlp, unchanged_since, zip_by_hand
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import nn, serialization

PACKAGE = Path(serialization.__file__).parent


# --- helpers -------------------------------------------------------------------------------------------------

def _entries_of(path: Path) -> list[tuple]:
    """The entries of a saved model, as stored entries for :func:`zip_by_hand`."""
    with zipfile.ZipFile(path) as archive:
        return [stored_entry(info.filename, archive.read(info)) for info in archive.infolist()]


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "model.npz"
    tiny_mlp().save(path)
    return path


def _refused(path: Path, pattern: str) -> None:
    """``nn.load``, ``nn.load_state`` and ``Module.load`` all refuse ``path`` with a ValueError matching
    ``pattern`` and naming the file; the model loaded into is unchanged."""
    for load in (nn.load, nn.load_state):
        with pytest.raises(ValueError, match=pattern) as raised:
            load(path)
        assert path.name in str(raised.value)
    model = nn.MLP([2, 3, 1], rng=1)
    before = state_copy(model)
    with pytest.raises(ValueError, match=pattern):
        model.load(path)
    assert unchanged_since(model, before)


# --- random damage -------------------------------------------------------------------------------------------

def _load_or_refuse(path: Path, original: dict, into_a_model: bool = True) -> None:
    """Either the file loads exactly as saved, or every way of loading it raises ValueError and changes
    nothing."""
    try:
        rebuilt = nn.load(path)
    except ValueError:
        pass
    else:
        assert unchanged_since(rebuilt, original)
    if into_a_model:
        model = nn.MLP([2, 3, 1], rng=1)
        before = state_copy(model)
        try:
            model.load(path)
        except ValueError:
            assert unchanged_since(model, before)
        else:
            assert unchanged_since(model, original)


def test_every_single_byte_change_loads_exactly_or_fails_with_value_error(tmp_path: Path, saved: Path) -> None:
    """Each byte of a saved model replaced in turn (by its complement, by 0 or by 99, a zip compression method
    that Python cannot read)."""
    original, data = state_copy(tiny_mlp()), saved.read_bytes()
    path = tmp_path / "damaged.npz"
    for position in range(len(data)):
        damaged = bytearray(data)
        damaged[position] = (data[position] ^ 0xFF, 0, 99)[position % 3]
        path.write_bytes(bytes(damaged))
        _load_or_refuse(path, original, into_a_model=position % 4 == 0)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, dict, Path]:
    """The bytes and the state of the saved model (the same for every example), and the path to write damage to."""
    folder = tmp_path_factory.mktemp("fuzz")
    tiny_mlp().save(folder / "model.npz")
    return (folder / "model.npz").read_bytes(), state_copy(tiny_mlp()), folder / "damaged.npz"


@settings(max_examples=300, deadline=None)
@given(changes=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=3),
       cut=st.one_of(st.none(), st.floats(0, 1)))
def test_random_damage_loads_exactly_or_fails_with_value_error(fuzzed, changes, cut) -> None:
    saved, original, path = fuzzed
    damaged = bytearray(saved)
    for where, value in changes:
        damaged[int(where * len(damaged))] = value
    if cut is not None:
        damaged = damaged[: int(cut * len(damaged))]
    path.write_bytes(bytes(damaged))
    _load_or_refuse(path, original)


# --- forged archives ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("method, flags, pattern", [(99, 0, "compression method 99"), (0, 1, "encrypted"),
                                                   (12, 0, "compression method 12")])
def test_unusual_compression_and_encryption_are_value_errors(tmp_path: Path, saved: Path, method, flags,
                                                             pattern) -> None:
    entries = _entries_of(saved)
    name, content, *_ = entries[-1]
    entries[-1] = stored_entry(name, content, method=method, flags=flags)
    _refused(zip_by_hand(tmp_path / "odd.npz", entries), pattern)


def test_the_hand_made_zip_of_a_model_loads(tmp_path: Path, saved: Path) -> None:
    """The forging helper itself writes loadable files, so the refusals above are about the forged field."""
    path = zip_by_hand(tmp_path / "copy.npz", _entries_of(saved))
    assert unchanged_since(nn.load(path), state_copy(tiny_mlp()))


@pytest.mark.parametrize("entry, pattern", [
    (("notes.txt", b"hello"), "notes.txt.*not an .npy"),
    (("layers.1.biases.npy", b"\x80\x04\x95" + b"pickled"), "layers.1.biases|not a readable"),
    (("layers.1.biases.npy", b"raw bytes, no header"), "not a readable"),
    (("__format__.npy", serialization.FORMAT.encode()), "not a readable"),
    (("__format__.npy", npy_bytes(np.array(serialization.FORMAT.encode()))), "format entry is not a text"),
    (("__format__.npy", npy_bytes(np.array([serialization.FORMAT]))), "format entry is not a text"),
    (("layers.1.biases.npy", npy_bytes(np.zeros(3, dtype=np.complex128))), "complex128"),
    (("layers.1.biases.npy", npy_bytes(np.zeros(3, dtype=np.float16))), "float16"),
    (("layers.1.biases.npy", npy_bytes(np.zeros(3, dtype=[("a", "<f8")]))), "dtype"),
])
def test_entries_that_are_not_float_arrays_are_refused(tmp_path: Path, saved: Path, entry, pattern) -> None:
    entries = [e for e in _entries_of(saved) if e[0] != entry[0]] + [stored_entry(*entry)]
    _refused(zip_by_hand(tmp_path / "forged.npz", entries), pattern)


def test_a_pickled_parameter_is_never_unpickled(tmp_path: Path, saved: Path, monkeypatch) -> None:
    import pickle

    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("pickle.loads was called"))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: pytest.fail("pickle.load was called"))
    out = io.BytesIO()
    np.lib.format.write_array(out, np.array([None, 1, 2], dtype=object), allow_pickle=True)
    entries = [e for e in _entries_of(saved) if e[0] != "layers.1.biases.npy"]
    _refused(zip_by_hand(tmp_path / "pickled.npz", entries + [stored_entry("layers.1.biases.npy", out.getvalue())]),
             "dtype object")


def test_duplicate_entries_are_refused(tmp_path: Path, saved: Path) -> None:
    entries = _entries_of(saved)
    _refused(zip_by_hand(tmp_path / "twice.npz", entries + [entries[-1]]), "appears twice")


def _with_architecture_text(tmp_path: Path, saved: Path, text: str) -> Path:
    entries = [e for e in _entries_of(saved) if e[0] != "__architecture__.npy"]
    architecture = stored_entry("__architecture__.npy", npy_bytes(np.array(text)))
    return zip_by_hand(tmp_path / "architecture.npz", entries + [architecture])


@pytest.mark.parametrize("text, pattern", [
    (json.dumps({"layers": [{"in_size": 2, "out_size": 3, "activation": ["relu"]},
                            {"in_size": 3, "out_size": 1, "activation": "identity"}]}), r"unknown activation.*relu"),
    (json.dumps({"layers": [{"in_size": 2, "out_size": 3, "activation": {"a": 1}},
                            {"in_size": 3, "out_size": 1, "activation": "identity"}]}), "unknown activation"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply|damaged"),
    ('{"layers": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply|damaged"),
    (json.dumps({"layers": [{"in_size": 10 ** 30, "out_size": 1, "activation": "relu"}]}), "parameters"),
    (json.dumps({"layers": [{"in_size": 2, "out_size": 3, "activation": "tanh", "name": 5},
                            {"in_size": 3, "out_size": 1, "activation": "identity"}]}), "name 5"),
    ('{"layers": [{"in_size": 1' + "0" * 5000 + "}]}", "damaged"),
    (json.dumps({"layers": [{"in_size": 2, "out_size": 3, "activation": "tanh", "frozen": ["weights", "W"]},
                            {"in_size": 3, "out_size": 1, "activation": "identity"}]}), "layer 1 has frozen"),
    (json.dumps({"layers": [{"in_size": 2, "out_size": 3, "activation": "tanh"},
                            {"in_size": 3, "out_size": 1, "activation": "identity", "frozen": "biases"}]}),
     "layer 2 has frozen 'biases'; expected a list"),
])
def test_hostile_architectures_are_value_errors(tmp_path: Path, saved: Path, text, pattern) -> None:
    path = _with_architecture_text(tmp_path, saved, text)
    with pytest.raises(ValueError, match=pattern):
        nn.load(path)
    model = nn.MLP([2, 3, 1], rng=1)
    before = state_copy(model)
    with pytest.raises(ValueError, match=pattern):
        model.load(path)
    assert unchanged_since(model, before)


def test_an_architecture_entry_larger_than_a_megabyte_is_refused_unread(tmp_path: Path, saved: Path) -> None:
    path = _with_architecture_text(tmp_path, saved, " " * (1 << 20))
    with pytest.raises(ValueError, match="architecture entry declares"):
        nn.load(path)


# --- sizes: declared versus needed -----------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(10 ** 12,), (10 ** 6, 10 ** 6), (2 ** 62, 2 ** 62)])
def test_a_header_declaring_a_huge_shape_is_refused_before_allocating(tmp_path: Path, saved: Path, shape) -> None:
    forged = npy_bytes(header={"descr": "<f8", "fortran_order": False, "shape": shape}, data=bytes(24))
    for name in ("layers.1.biases.npy", "extra.npy"):
        entries = [e for e in _entries_of(saved) if e[0] != name] + [stored_entry(name, forged)]
        _refused(zip_by_hand(tmp_path / "huge.npz", entries), r"shape|unexpected extra|declares")
    # without an architecture or a model, the limit of MAX_PARAMETERS still holds
    no_architecture = [e for e in _entries_of(saved) if e[0] != "__architecture__.npy"]
    path = zip_by_hand(tmp_path / "bare.npz", no_architecture + [stored_entry("extra.npy", forged)])
    with pytest.raises(ValueError, match=r"numbers|declares"):
        nn.load_state(path)


def _zip_bomb_entry(name: str, megabytes: int) -> tuple:
    """A deflated entry of ``megabytes`` MiB of zeros, about 1 KB per MiB: a zip bomb."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    zeros = bytes(1 << 20)
    chunk = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)  # byte-aligned, repeatable
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(zeros, crc)
    return name, chunk * megabytes + compressor.flush(), zipfile.ZIP_DEFLATED, crc, megabytes << 20, 0


@pytest.mark.parametrize("name", ["padding.npy", "layers.2.weights.npy"])
def test_a_zip_bomb_is_refused_without_reading_it(tmp_path: Path, saved: Path, monkeypatch, name) -> None:
    """1.6 GB of zeros in a 1.7 MB file, as an unused entry or in place of a parameter: refused from the zip
    directory alone, the entry is never opened."""
    entries = [e for e in _entries_of(saved) if e[0] != name] + [_zip_bomb_entry(name, 1600)]
    path = zip_by_hand(tmp_path / "bomb.npz", entries)
    assert path.stat().st_size < 2_000_000
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, member, *a, **k: (
        opened.append(getattr(member, "filename", member)), real_open(self, member, *a, **k))[1])
    _refused(path, "unexpected padding|declares|shape")
    assert name not in opened


# --- paths that are not model files ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [None, 3, 1.5, b"".join, io.BytesIO(b"PK")])
def test_loading_from_something_that_is_not_a_path_is_a_type_error(path) -> None:
    for load in (nn.load, nn.load_state, nn.MLP([2, 3, 1], rng=0).load):
        with pytest.raises(TypeError, match=rf"{load.__name__}: expected a file path"):
            load(path)
    with pytest.raises(TypeError, match=r"save: expected a file path"):
        nn.MLP([2, 3, 1], rng=0).save(path)


def test_a_file_descriptor_is_refused_and_left_open(saved: Path) -> None:
    with open(saved, "rb") as file:
        descriptor = file.fileno()
        with pytest.raises(TypeError, match="file descriptors"):
            nn.load(descriptor)
        os.fstat(descriptor)  # still open
        assert file.read(2) == b"PK"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_a_named_pipe_nobody_writes_to_is_refused_at_once(tmp_path: Path) -> None:
    pipe = tmp_path / "pipe.npz"
    os.mkfifo(pipe)
    outcome: list = []

    def load() -> None:
        try:
            nn.load(pipe)
        except Exception as error:  # noqa: BLE001 - the outcome is inspected below
            outcome.append(error)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(timeout=10)
    if worker.is_alive():  # unblock the reader so the test run can go on, then fail
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(timeout=10)
        pytest.fail("nn.load waited on a named pipe")
    assert len(outcome) == 1 and isinstance(outcome[0], ValueError)
    assert "named pipe" in str(outcome[0]) and "pipe.npz" in str(outcome[0])


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_device_is_refused() -> None:
    with pytest.raises(ValueError, match="character device"):
        nn.load("/dev/zero")


@pytest.mark.parametrize("where, error", [(".", IsADirectoryError), ("model.npz/inner.npz", NotADirectoryError)],
                         ids=["a folder", "a file taken for a folder"])
def test_a_path_that_cannot_be_opened_is_an_os_error_naming_the_load_and_the_path(saved: Path, where: str,
                                                                                   error: type) -> None:
    """nn.load(".") said only "[Errno 21] Is a directory: '.'", not which operation had failed."""
    path = saved.parent / where
    model = nn.MLP([2, 3, 1], rng=1)
    before = state_copy(model)
    for operation, load in (("load", nn.load), ("load_state", nn.load_state), ("load", model.load)):
        with pytest.raises(error, match=rf"^\[Errno \d+\] {operation}: ") as raised:
            load(path)
        assert raised.value.filename == str(path)
    assert unchanged_since(model, before)


def test_a_missing_model_npz_points_at_the_file_model_that_save_wrote(tmp_path: Path) -> None:
    """save("model") writes model (as torch.save does, unlike numpy.savez); load("model.npz") then said only that
    there was no such file."""
    tiny_mlp().save(tmp_path / "model")
    with pytest.raises(FileNotFoundError, match=r"^\[Errno \d+\] load: No such file or directory \(there is a "
                                                r"file '.*model' without \.npz"):
        nn.load(tmp_path / "model.npz")
    tiny_mlp().save(tmp_path / "other.npz")
    with pytest.raises(FileNotFoundError, match=r"there is a file '.*other\.npz'"):
        nn.MLP([2, 3, 1]).load(tmp_path / "other")
    with pytest.raises(FileNotFoundError) as raised:  # no such hint without such a file
        nn.load_state(tmp_path / "third.npz")
    assert "there is" not in str(raised.value) and raised.value.filename == str(tmp_path / "third.npz")


# --- what save writes ------------------------------------------------------------------------------------------

def test_save_refuses_what_load_would_refuse_and_writes_nothing(tmp_path: Path) -> None:
    model = tiny_mlp()
    model.layers[0].weights.data[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"layers.1.weights.*NaN"):
        model.save(tmp_path / "nan.npz")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="architecture does not describe"):
        serialization.save(tmp_path / "x.npz", {"layers.1.weights": np.zeros((2, 2))},
                           {"layers": [{"in_size": 2, "out_size": 3, "activation": "relu", "name": None}]})
    with pytest.raises(ValueError, match="cannot name a parameter"):
        serialization.save(tmp_path / "x.npz", {"__format__": np.zeros(1)})
    with pytest.raises(ValueError, match="save: the state holds no parameters"):  # as Module.save refuses
        serialization.save(tmp_path / "x.npz", {})
    assert list(tmp_path.iterdir()) == []


def test_a_parameter_named_file_is_saved_like_any_other(tmp_path: Path) -> None:
    """np.savez(file, **entries) would clash with an entry named 'file'; the format has no such names."""
    class Odd(nn.Module):
        def __init__(self) -> None:
            self.file = nn.Layer(1, 1, rng=0)
            self.allow_pickle = nn.Layer(1, 1, rng=1)

    model = Odd()
    model.save(tmp_path / "odd.npz")
    other = Odd()
    for layer in (other.file, other.allow_pickle):
        layer.weights.data = np.zeros((1, 1))
    assert unchanged_since(other.load(tmp_path / "odd.npz"), state_copy(model))


def test_layer_names_must_be_strings_so_that_saved_files_load(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"Layer: name must be a string.*int 5"):
        nn.Layer(2, 1, name=5)
    network = nn.Network(nn.Layer(2, 3, name="hidden", rng=0), nn.Layer(3, 1, name="output α", rng=1))
    network.save(tmp_path / "named.npz")
    assert [layer.name for layer in nn.load(tmp_path / "named.npz").layers] == ["hidden", "output α"]


# --- layer numbering --------------------------------------------------------------------------------------------

def test_parameter_names_count_layers_from_1_like_the_drawings() -> None:
    net = nn.MLP([1, 4, 1], rng=0)
    names = [name for name, _ in net.named_parameters()]
    assert names == ["layers.1.weights", "layers.1.biases", "layers.2.weights", "layers.2.biases"]
    for layer in net.layers:
        assert f"(layers.{layer.index}): Layer" in repr(net)  # as the parameters are named
        assert layer.weights.label == f"W^{layer.index}"
        assert dict(net.named_parameters())[f"layers.{layer.index}.weights"] is layer.weights


def _format_1_file(path: Path, model: nn.Network) -> Path:
    """A file as tinygrad_edu 0.1 wrote it: format 1, names counting from 0."""
    entries = {"__format__": np.array(serialization.FORMAT_1),
               "__architecture__": np.array(json.dumps(model.config()))}
    for i, layer in enumerate(model.layers):
        entries[f"layers.{i}.weights"], entries[f"layers.{i}.biases"] = layer.weights.data, layer.biases.data
    with open(path, "wb") as file:
        np.savez(file, **entries)
    return path


def test_files_of_format_1_counting_from_0_still_load(tmp_path: Path) -> None:
    model = tiny_mlp()
    path = _format_1_file(tmp_path / "old.npz", model)
    assert unchanged_since(nn.load(path), state_copy(model))
    assert sorted(nn.load_state(path)) == sorted(model.state_dict())
    other = nn.MLP([2, 3, 1], activation="tanh", output_activation="identity", rng=5)
    assert unchanged_since(other.load(path), state_copy(model))


def test_an_in_memory_state_counting_from_0_is_refused_with_the_reason() -> None:
    model = tiny_mlp()
    old = {f"layers.{i}.{kind}": getattr(layer, kind).data for i, layer in enumerate(model.layers)
           for kind in ("weights", "biases")}
    before = state_copy(model)
    with pytest.raises(ValueError, match=r"count layers from 0.*layers.1.weights is W¹"):
        model.load_state_dict(old)
    assert unchanged_since(model, before)


# --- the rule: no pickle anywhere ----------------------------------------------------------------------------------

def test_no_module_of_the_package_can_unpickle() -> None:
    """No ``import pickle``, and every ``np.load`` says ``allow_pickle=False``."""
    for source in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [alias.name for alias in node.names] + [getattr(node, "module", None) or ""]
                assert not any(name.split(".")[0] in ("pickle", "dill", "cloudpickle", "shelve", "marshal")
                               for name in names), f"{source.name} imports pickle"
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "load" and \
                    getattr(node.func.value, "id", None) in ("np", "numpy"):
                keywords = {k.arg: getattr(k.value, "value", None) for k in node.keywords}
                assert keywords.get("allow_pickle") is False, f"{source.name}:{node.lineno} np.load may unpickle"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes need POSIX")
def test_save_never_replaces_a_pipe_or_device(tmp_path: Path) -> None:
    """Renaming the new file onto the destination would replace a named pipe or, as root, /dev/null itself."""
    pipe = tmp_path / "pipe.npz"
    os.mkfifo(pipe)
    with pytest.raises(ValueError, match="pipe.npz' exists and is not a regular file"):
        tiny_mlp().save(pipe)
    assert stat.S_ISFIFO(os.stat(pipe).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.npz"]
    with pytest.raises(IsADirectoryError, match=r"^\[Errno \d+\] save: Is a directory: ") as raised:  # named its caller
        tiny_mlp().save(tmp_path)
    assert raised.value.filename == str(tmp_path)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_save_through_a_symbolic_link_writes_its_target(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    target, link = tmp_path / "models" / "model.npz", tmp_path / "link.npz"
    target.write_bytes(b"old")
    link.symlink_to(target)
    tiny_mlp().save(link)
    assert link.is_symlink() and unchanged_since(nn.load(target), state_copy(tiny_mlp()))


def test_a_network_with_parameters_of_its_own_saves_without_an_architecture(tmp_path: Path) -> None:
    from tinygrad_edu import Value

    class Scaled(nn.Network):
        def __init__(self) -> None:
            super().__init__(nn.Layer(2, 1, rng=0))
            self.scale = Value(np.array([2.5]))

    model = Scaled()
    model.save(tmp_path / "scaled.npz")
    assert sorted(nn.load_state(tmp_path / "scaled.npz")) == ["layers.1.biases", "layers.1.weights", "scale"]
    other = Scaled()
    other.scale.data = np.array([0.0])
    assert unchanged_since(other.load(tmp_path / "scaled.npz"), state_copy(model))
    with pytest.raises(ValueError, match="no architecture"):
        nn.load(tmp_path / "scaled.npz")


def test_a_single_number_parameter_loads_back_as_a_single_number(tmp_path: Path) -> None:
    """A 0-d parameter (a temperature, a scale) keeps its shape () through a file, bit for bit."""
    from tinygrad_edu import Value

    class Tempered(nn.Module):
        def __init__(self) -> None:
            self.layer = nn.Layer(2, 1, activation="identity", rng=0)
            self.temperature = Value(np.float64(-0.0) - 2.0 ** -1074)  # −(smallest subnormal): every bit counts

    model = Tempered()
    model.save(tmp_path / "tempered.npz")
    assert nn.load_state(tmp_path / "tempered.npz")["temperature"].shape == ()
    other = Tempered()
    other.temperature.data = np.array(7.0)
    other.load(tmp_path / "tempered.npz")
    assert other.temperature.shape == ()
    assert other.temperature.data.tobytes() == model.temperature.data.tobytes()


@pytest.mark.parametrize("name", ["model\0.npz", b"model\0.npz"], ids=["str", "bytes"])
def test_a_file_name_holding_nul_is_named_by_save_and_load(tmp_path: Path, name: str | bytes) -> None:
    net = nn.MLP([1, 2], rng=0)
    path = os.path.join(os.fsencode(tmp_path) if isinstance(name, bytes) else str(tmp_path), name)
    with pytest.raises(ValueError, match=r"save: the file name .*model\\x00\.npz.* holds a NUL character"):
        net.save(path)
    with pytest.raises(ValueError, match=r"load: the file name .*model\\x00\.npz.* holds a NUL character"):
        nn.load(path)
    assert list(tmp_path.iterdir()) == []


def test_a_save_that_cannot_write_names_the_users_file(tmp_path, monkeypatch):
    """It named the hidden temporary file (rodir/.m.npz.<uuid>.tmp) or called a file a missing folder."""
    model = nn.MLP([1, 2, 1], rng=0)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(FileNotFoundError, match=r"^save: cannot write '.*afile/m\.npz': '.*afile' is not a folder$"):
        model.save(tmp_path / "afile" / "m.npz")

    def refused(file, mode="r", *args, **kwargs):  # a read-only folder, as a user who is not root meets it
        raise PermissionError(13, "Permission denied", file)

    monkeypatch.setattr(serialization, "open", refused, raising=False)
    with pytest.raises(PermissionError, match=r"^\[Errno 13\] save: cannot write '.*m\.npz': Permission denied$"):
        model.save(tmp_path / "m.npz")
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["afile"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_saving_over_a_file_keeps_its_permissions(tmp_path: Path) -> None:
    """A model kept private (0600) became readable by everyone (0644) once saved over."""
    path = tmp_path / "private.npz"
    tiny_mlp().save(path)
    path.chmod(0o600)
    nn.MLP([2, 3, 1], rng=1).save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert unchanged_since(nn.load(path), state_copy(nn.MLP([2, 3, 1], rng=1)))


def test_saving_over_a_read_only_file_is_refused(tmp_path: Path, monkeypatch) -> None:
    """The rename replaced a read-only file that open(path, "wb") would refuse.  (os.access is faked where the
    tests run as root, for whom every file is writable.)"""
    path = tmp_path / "kept.npz"
    tiny_mlp().save(path)
    path.chmod(0o444)
    if os.access(path, os.W_OK):
        real = os.access
        monkeypatch.setattr(os, "access", lambda name, mode, **kw: (mode & os.W_OK == 0) and real(name, mode, **kw))
    with pytest.raises(PermissionError, match=r"save: .*read-only") as raised:
        nn.MLP([2, 3, 1], rng=1).save(path)
    assert raised.value.filename == str(path)
    assert unchanged_since(nn.load(path), state_copy(tiny_mlp())) and sorted(tmp_path.iterdir()) == [path]


def test_save_puts_the_data_on_disk_before_the_rename(tmp_path: Path, monkeypatch) -> None:
    """Without fsync a crash just after the rename can leave an empty file where the model was."""
    calls: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda *args: (calls.append("replace"), real_replace(*args))[1])
    tiny_mlp().save(tmp_path / "model.npz")
    assert calls == ["fsync", "replace"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_names_open_would_refuse_are_refused(tmp_path: Path) -> None:
    """"model.npz/" wrote a file "model.npz", and a loop of symbolic links was replaced by the model."""
    with pytest.raises(IsADirectoryError, match="save"):
        tiny_mlp().save(str(tmp_path / "model.npz") + os.sep)
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(OSError, match="save: Too many levels of symbolic links"):
        tiny_mlp().save(tmp_path / "a")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"] and (tmp_path / "a").is_symlink()
