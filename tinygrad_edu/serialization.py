"""The model file format: named arrays and an architecture in an ``.npz`` file, read back exactly, without pickle.

A model file is a zip archive of ``.npy`` entries, the layout ``numpy.savez`` writes:

* ``__format__.npy``: the text :data:`FORMAT` (``"tinygrad_edu.state/2"``);
* ``__architecture__.npy`` (networks of named activations only): JSON text
  ``{"layers": [{"in_size": 1, "out_size": 12, "activation": "relu", "name": null}, ...]}``; a layer whose
  weights or biases are frozen (``requires_grad = False``) also has ``"frozen": ["weights"]`` (optional: readers
  that do not know it ignore it);
* one float32 or float64 array per parameter (frozen ones too), named as :meth:`Module.state_dict` names it:
  ``layers.1.weights``, ``layers.1.biases`` for the first layer.  Layers count from 1, as ``W¹`` in the seed's
  figures (``α⁰`` is the input).  Files of format ``tinygrad_edu.state/1`` counted list positions from 0
  (``layers.0.weights``); they are still read, each number in a name moved up by one.

Reading trusts nothing in the file.  Entries are checked from the zip directory and the ``.npy`` headers against
what is expected (the stored architecture, or the model being loaded into) before their data is read; entries
that are not needed are refused unread; nothing larger than :data:`MAX_PARAMETERS` numbers is ever allocated.
Any damage is a :class:`ModelFileError` (a ``ValueError``) naming the file; no pickle is ever loaded.

    >>> import numpy as np, os, tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     save(os.path.join(folder, "layer.npz"), {"weights": np.ones((2, 1)), "biases": np.zeros(1)})
    ...     state, architecture = read(os.path.join(folder, "layer.npz"))
    >>> state["weights"].tolist(), architecture
    ([[1.0], [1.0]], None)
"""

from __future__ import annotations

import errno
import io
import json
import math
import os
import zipfile
import zlib
from collections.abc import Callable, Mapping
from typing import IO, Any

import numpy as np

from tinygrad_edu import checks
from tinygrad_edu.files import PathLike, checked_path, home_advice, open_regular_file, replacing
from tinygrad_edu.functional import ACTIVATIONS

__all__ = ["FORMAT", "MAX_PARAMETERS", "ModelFileError", "save", "read", "parameter_shapes",
           "check_parameter_count", "counted_from_1"]

#: The marker entry that says a file holds a tinygrad_edu model; layers count from 1.
FORMAT = "tinygrad_edu.state/2"
#: The first format, whose parameter names counted list positions from 0; read, never written.
FORMAT_1 = "tinygrad_edu.state/1"
#: The most numbers (weights and biases) a model may hold: 10**8, 800 MB in float64.  Larger layers are
#: refused when they are built and when a file declares them.
MAX_PARAMETERS = 100_000_000
_FORMAT_KEY, _ARCHITECTURE_KEY = "__format__", "__architecture__"
_MAX_MARKER_BYTES, _MAX_ARCHITECTURE_BYTES = 1024, 1 << 20  # declared sizes above these are refused unread
_MAX_HEADER_BYTES = 10_000
Architecture = dict[str, Any]  # {"layers": [{"in_size": ..., "out_size": ..., "activation": ..., "name": ...}]}
_PARAMETERS = ("weights", "biases")  # what a layer's "frozen" entry may list
# Why a format-1 file may lack entries its own architecture lists, and what can still read it.
_FORMAT_1_FROZEN = (f"if they were frozen (requires_grad = False): files of format {FORMAT_1!r} left frozen parameters "
                    "out but listed them in the architecture, so no version loads them whole; numpy.load(path) reads "
                    "the arrays that are there, named counting layers from 0 (its layers.0.biases is layers.1.biases)")
_COMPRESSIONS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
# What reading a damaged zip or .npy can raise; each becomes a ModelFileError.
_DAMAGE = (ValueError, TypeError, KeyError, EOFError, OSError, OverflowError, SyntaxError, RuntimeError,
           NotImplementedError, zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error)


class ModelFileError(ValueError):
    """A model file that is not ours, damaged, or does not fit what it is loaded into."""


def check_parameter_count(count: int, what: str) -> None:
    """Refuse a model of more than :data:`MAX_PARAMETERS` numbers, naming ``what`` and the size."""
    checks.integer(count, "the parameter count", what)
    if count > MAX_PARAMETERS:
        raise ValueError(f"{what} would hold {checks.readable_int(count, grouped=True)} parameters; the limit is "
                         f"{MAX_PARAMETERS:,} (tinygrad_edu.serialization.MAX_PARAMETERS)")


# --- the architecture -------------------------------------------------------------------------------------

def _short(value: Any) -> str:
    return repr(value)[:40]


def _is_size(n: Any) -> bool:
    return isinstance(n, int) and not isinstance(n, bool) and n >= 1


def _layer_problem(i: int, spec: Any, previous: Any) -> str | None:
    """What is wrong with the ``i``-th layer (counting from 1) of a stored architecture, or None."""
    if not isinstance(spec, dict):
        return f"layer {i} is {_short(spec)}, not a mapping"
    sizes = spec.get("in_size"), spec.get("out_size")
    if not all(map(_is_size, sizes)):
        return f"layer {i} has sizes {_short(sizes[0])} → {_short(sizes[1])}; expected positive ints"
    activation = spec.get("activation")
    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        return f"layer {i} has unknown activation {_short(activation)}"
    if not isinstance(spec.get("name"), (str, type(None))):
        return f"layer {i} has name {_short(spec.get('name'))}; expected a string"
    frozen = spec.get("frozen", [])
    if not isinstance(frozen, list) or not all(name in _PARAMETERS for name in frozen) or (
            len(set(frozen)) < len(frozen)):
        return f"layer {i} has frozen {_short(frozen)}; expected a list of 'weights' and 'biases'"
    if previous is not None and sizes[0] != previous["out_size"]:
        return f"layer {i - 1} gives {previous['out_size']} outputs but layer {i} takes {sizes[0]}"
    return None


def parameter_shapes(architecture: Any) -> dict[str, tuple[int, ...]]:
    """The parameter shapes a stored architecture describes, ``{"layers.1.weights": (1, 12), ...}``.

    Raises ``ValueError`` if the architecture is malformed, its layers do not fit one another, or it would hold
    more than :data:`MAX_PARAMETERS` numbers, so that nothing is built from a damaged description.

        >>> parameter_shapes({"layers": [{"in_size": 2, "out_size": 3, "activation": "relu", "name": None}]})
        {'layers.1.weights': (2, 3), 'layers.1.biases': (3,)}
    """
    return _described_shapes(architecture, "parameter_shapes: the architecture")


def _described_shapes(architecture: Any, whose: str) -> dict[str, tuple[int, ...]]:
    """:func:`parameter_shapes`, its errors naming ``whose`` architecture ("the stored architecture" of a file)."""
    damaged = f"{whose} is damaged:"
    layers = architecture.get("layers") if isinstance(architecture, dict) else None
    if not isinstance(layers, list) or not layers:
        raise ValueError(f"{damaged} expected {{'layers': [...]}} with at least one layer, "
                         f"got {_short(architecture)}")
    shapes: dict[str, tuple[int, ...]] = {}
    for i, spec in enumerate(layers, start=1):
        problem = _layer_problem(i, spec, layers[i - 2] if i > 1 else None)
        if problem:
            raise ValueError(f"{damaged} {problem}")
        shapes[f"layers.{i}.weights"] = (spec["in_size"], spec["out_size"])
        shapes[f"layers.{i}.biases"] = (spec["out_size"],)
    sizes = "-".join(map(checks.readable_int, [layers[0]["in_size"]] + [spec["out_size"] for spec in layers]))
    check_parameter_count(sum(math.prod(shape) for shape in shapes.values()), f"{whose} {sizes}")
    return shapes


# --- writing ----------------------------------------------------------------------------------------------

def _checked_state(state: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The arrays to write: names that are strings and not the format's own, finite float32/float64 data."""
    if not isinstance(state, Mapping):
        raise TypeError(f"save: state must map parameter names to arrays, got {type(state).__name__}")
    arrays = {}
    for name, value in state.items():
        problem = _name_problem(name)
        if problem is not None:
            raise ValueError(f"save: {name!r:.60} cannot name a parameter{problem}")
        checks.unmasked(value, f"parameter {name!r}", "save", ValueError)  # (.data is the numbers under the mask)
        try:
            array = np.asarray(getattr(value, "data", value))
        except (ValueError, TypeError, RuntimeError) as error:  # ragged lists; a tensor that requires grad
            raise ValueError(f"save: parameter {name!r} is not an array of numbers: {error}") from None
        if array.dtype.kind != "f" or array.dtype.itemsize not in (4, 8):  # either byte order: read() takes both
            raise ValueError(f"save: parameter {name!r} has dtype {array.dtype}; expected float32 or float64")
        if not np.isfinite(array).all():
            raise ValueError(f"save: parameter {name!r} holds NaN or inf; such a model cannot be loaded back")
        arrays[name] = array
    if not arrays:
        raise ValueError("save: the state holds no parameters; the file would be an empty model")
    return arrays


def _name_problem(name: Any) -> str | None:
    """Why ``name`` cannot name a parameter, as the end of a sentence ("" if it is not a name at all), or None: a
    zip entry's name ends at a NUL, is UTF-8 and holds at most 65,535 bytes (``.npy`` included)."""
    if not isinstance(name, str) or not name or name in (_FORMAT_KEY, _ARCHITECTURE_KEY):
        return ""
    if "\0" in name:
        return ": it holds a NUL character, where a zip entry's name ends"
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        return ": it cannot be written as UTF-8 (it holds a lone surrogate)"
    if size > 0xFFFF - len(".npy"):
        return f": it is too long ({size:,} bytes in UTF-8; a zip entry's name holds at most 65,531 and .npy)"
    return None


def _architecture_text(architecture: Architecture) -> np.ndarray:
    """The architecture as the JSON text entry, refused if :func:`read` would refuse the entry for its size."""
    try:
        text = np.array(json.dumps(architecture))
    except (TypeError, ValueError) as error:  # an object json cannot write; a circular reference
        raise type(error)(f"save: the architecture cannot be written as JSON: {error}") from None
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(text))
    size = header.tell() + text.nbytes
    if size > _MAX_ARCHITECTURE_BYTES:
        raise ValueError(f"save: the architecture takes {size:,} bytes as text (long layer names?); a model file "
                         f"holds at most {_MAX_ARCHITECTURE_BYTES:,}")
    return text


def save(path: PathLike, state: Mapping[str, Any], architecture: Architecture | None = None) -> None:
    """Write ``state`` (names to arrays) and ``architecture`` to ``path`` in the format above.

    The file is written next to its destination and then renamed, so an interrupted save never leaves a
    half-written model behind (the data reaches the disk before the rename); a file saved over keeps its
    permissions, and a read-only one is refused, as ``open`` would.  Anything :func:`read` would refuse (NaN
    weights, an architecture that does not describe the arrays) is refused here, before writing.
    """
    name = checked_path(path, "save")
    suffix = os.path.splitext(os.fsdecode(name))[1].lower()
    if suffix in (".h5", ".hdf5", ".keras"):  # (Keras's model.save('m.h5'): no HDF5 reader could open the archive)
        raise ValueError(f"save: {os.fsdecode(name)!r} names a Keras (HDF5) file, but the file written is a numpy "
                         f".npz archive, which Keras and h5py cannot open: give it a name ending in .npz, e.g. "
                         f"save({os.fsdecode(name)[:-len(suffix)] + '.npz'!r})")
    arrays = _checked_state(state)
    entries: dict[str, np.ndarray] = {_FORMAT_KEY: np.array(FORMAT)}
    if architecture is not None:
        shapes = _described_shapes(architecture, "save: the architecture")
        if shapes != {key: array.shape for key, array in arrays.items()}:
            raise ValueError("save: the architecture does not describe the parameters")
        entries[_ARCHITECTURE_KEY] = _architecture_text(architecture)
    entries.update(arrays)
    _destination(name)
    with replacing(name, "save") as temporary, open(temporary, "xb") as file:
        with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED) as archive:
            for key, array in entries.items():  # the usual permissions (umask), unlike mkstemp's 0600
                with archive.open(f"{key}.npy", "w", force_zip64=True) as member:
                    np.lib.format.write_array(member, array, allow_pickle=False)


def _destination(name: str | bytes) -> None:
    """Refuse, in save's own words, a place it must not write to (:func:`tinygrad_edu.files.replacing` writes the
    file a symbolic link points to; the link stays): a missing folder, a folder, pipe or device (renaming onto
    ``/dev/null`` would replace the device), a read-only file or disk, a loop of links; a name ending in a
    separator is a folder's, as for ``open``."""
    text = os.fsdecode(name)
    if text.endswith(tuple(filter(None, (os.sep, os.altsep)))):
        raise IsADirectoryError(errno.EISDIR, f"save: {os.strerror(errno.EISDIR)}", text)
    destination = os.path.realpath(text)
    if os.path.islink(destination):  # realpath stops at a loop of links
        raise OSError(errno.ELOOP, f"save: {os.strerror(errno.ELOOP)}", text)
    folder = os.path.dirname(destination)
    if not os.path.isdir(folder):
        folder = os.fsdecode(folder)
        why = f"{folder!r} is not a folder" if os.path.exists(folder) else f"the folder {folder!r} does not exist"
        raise FileNotFoundError(f"save: cannot write {text!r}: {why}{home_advice(text)}")
    if os.path.isdir(destination):
        raise IsADirectoryError(errno.EISDIR, f"save: {os.strerror(errno.EISDIR)}", os.fsdecode(name))
    if not os.path.exists(destination):
        return
    if not os.path.isfile(destination):
        raise ValueError(f"save: {os.fsdecode(name)!r} exists and is not a regular file; it is left alone")
    if not os.access(destination, os.W_OK):  # open(name, "wb") would refuse it too
        if hasattr(os, "statvfs") and os.statvfs(destination).f_flag & os.ST_RDONLY:  # not the file: the disk
            raise OSError(errno.EROFS, f"save: {os.strerror(errno.EROFS)}", text)
        raise PermissionError(errno.EACCES, f"save: {os.strerror(errno.EACCES)}; the file is read-only", text)


# --- reading ----------------------------------------------------------------------------------------------

def read(path: PathLike, shapes: Mapping[str, tuple[int, ...]] | None = None, *, operation: str = "read",
         aliases: Callable[[str], str | None] | None = None) -> tuple[dict[str, np.ndarray], Architecture | None]:
    """The parameters (by name) and the architecture (or None) stored in a model file.

    ``shapes`` are the parameter shapes of the model being loaded into, if any: the file must hold exactly
    those.  ``aliases`` gives, for a name that is not in ``shapes``, the name in ``shapes`` of the parameter it is
    another name of (a tied one: ``dec.weights``, the Value that is also ``enc.weights``), else None: such an
    entry is read with that parameter's shape, and then stands in for it.  A stored architecture must describe
    exactly the stored entries.  Raises :class:`ModelFileError`
    (a ``ValueError``) for a file that is not ours, damaged or does not fit, ``ValueError`` for a pipe or
    device, ``TypeError`` for something that is not a path; ``FileNotFoundError`` etc. as ``open`` does.
    Every message starts with ``operation``, the function the caller called (``nn.load`` passes ``"load"``).
    """
    if shapes is not None and not isinstance(shapes, Mapping):
        raise TypeError(f"{operation}: shapes must map parameter names to shapes, got {type(shapes).__name__}")
    for name, shape in (shapes or {}).items():  # (the caller's mistake, not the file's damage)
        if not isinstance(name, str):
            raise TypeError(f"{operation}: shapes must map parameter names (str) to shapes, got the key {_short(name)}")
        if not isinstance(shape, (tuple, list)) or not all(
                isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in shape):
            raise TypeError(f"{operation}: shapes[{name!r}] must be a tuple of sizes like (2, 3), got {_short(shape)}")
        if any(n < 0 for n in shape):
            raise ValueError(f"{operation}: shapes[{name!r}] must hold sizes >= 0, got {_short(shape)}")
    where = f"{operation}: {os.fsdecode(checked_path(path, operation))!r}"
    with _open_model_file(path, operation) as file:
        try:
            return _read_archive(file, shapes, where, aliases)
        except ModelFileError:
            raise
        except RecursionError:
            raise ModelFileError(f"{where}: the stored architecture is damaged: nested too deeply") from None
        except _DAMAGE as error:
            raise ModelFileError(f"{where} is not a readable tinygrad_edu model file (.npz): "
                                 f"{type(error).__name__}: {error}") from None


def _open_model_file(path: PathLike, operation: str) -> IO[bytes]:
    """:func:`open_regular_file`; a missing ``model.npz`` points at a file ``model`` (``save("model")`` keeps the name
    it is given, as ``torch.save`` does, while ``numpy.savez`` adds ``.npz``), and a missing ``model`` at
    ``model.npz``."""
    try:
        return open_regular_file(path, operation)
    except FileNotFoundError as error:
        name = os.fsdecode(os.fspath(path))
        stem = name[:-4] if name.lower().endswith(".npz") else None
        other = stem or f"{name}.npz"
        if not os.path.isfile(other):
            raise
        why = " without .npz: save(path) keeps the name it is given" if stem else ""
        raise FileNotFoundError(error.errno, f"{error.strerror} (there is a file {other!r}{why})", name) from None


def _read_archive(file: IO[bytes], shapes: Mapping[str, tuple[int, ...]] | None, where: str,
                  aliases: Callable[[str], str | None] | None = None
                  ) -> tuple[dict[str, np.ndarray], Architecture | None]:
    start = file.read(6)
    if start == b"\x93NUMPY":
        raise ModelFileError(f"{where} holds a single array (.npy), not a set of named arrays")
    if not start:
        raise ModelFileError(f"{where} is empty (0 bytes), not an .npz archive")
    if start[:4] != b"PK\x03\x04":
        raise ModelFileError(f"{where} is not an .npz archive (it lacks the zip header)")
    if not _has_zip_end(file):  # (zipfile says "File is not a zip file" of a file that starts as one)
        raise ModelFileError(f"{where} is not a readable tinygrad_edu model file (.npz): it is cut short, it starts "
                             "as a zip archive but lacks the end of one, the directory of its entries (a copy or "
                             "download that stopped before the end?)")
    file.seek(0)
    with zipfile.ZipFile(file) as archive:
        members = _members(archive, where)
        if _FORMAT_KEY not in members and {"optimizer", "parameter_count"} <= members.keys():
            raise ModelFileError(f"{where} is not a tinygrad_edu model file but an optimizer's state, as "
                                 "numpy.savez(path, **optimizer.state_dict()) writes it: load it with "
                                 "optimizer.load_state_dict(numpy.load(path, allow_pickle=False)), and the model from "
                                 "its own file")
        marker = _read_text(archive, members.pop(_FORMAT_KEY, None), _MAX_MARKER_BYTES, "format", where)
        if marker not in (FORMAT, FORMAT_1):
            raise ModelFileError(f"{where} has format {marker[:60]!r}; this version reads {FORMAT!r}")
        architecture_entry = members.pop(_ARCHITECTURE_KEY, None)
        if marker == FORMAT_1:
            members = _counted_from_1(members, where)
        architecture = None
        if architecture_entry is not None:
            text = _read_text(archive, architecture_entry, _MAX_ARCHITECTURE_BYTES, "architecture", where)
            architecture = _parsed_architecture(text, where)
        if shapes is not None and aliases is not None:
            shapes = _with_aliases(shapes, members, aliases)
        expected = _expected_shapes(architecture, shapes, members, where, marker)
        state = {name: _read_parameter(archive, info, name, None if expected is None else expected[name], where)
                 for name, info in members.items()}
        return state, architecture


def _has_zip_end(file: IO[bytes]) -> bool:
    """Whether the last 64 kB (and 22 bytes) of ``file`` hold a zip archive's end record (22 bytes from its signature,
    which a comment of at most 65,535 bytes may follow); a file cut short has none, or only its start."""
    size = file.seek(0, os.SEEK_END)
    file.seek(max(0, size - 0xFFFF - 22))
    tail = file.read()
    return 0 <= tail.rfind(b"PK\x05\x06") <= len(tail) - 22


def _with_aliases(shapes: Mapping[str, tuple[int, ...]], members: Mapping[str, zipfile.ZipInfo],
                  aliases: Callable[[str], str | None]) -> dict[str, tuple[int, ...]]:
    """``shapes`` with the entries that are a tied parameter's other names (``aliases`` gives its own name), each of
    its shape; the parameter's own name need then not be in the file (as ``Module.load_state_dict`` takes them)."""
    found = {name: aliases(name) for name in members if name not in shapes}
    found = {name: own for name, own in found.items() if own in shapes}
    kept = {name: shape for name, shape in shapes.items() if name in members or name not in found.values()}
    return kept | {name: shapes[own] for name, own in found.items() if own is not None}


def counted_from_1(name: str) -> str:
    """A format-1 name with its list positions counted from 1: ``layers.0.weights`` → ``layers.1.weights``."""
    if not isinstance(name, str):
        raise TypeError(f"counted_from_1: name must be a str, got {type(name).__name__}")
    # (a part of 20 digits or more is no list position, and int() would refuse one of more than 4300)
    return ".".join(str(int(part) + 1) if part.isascii() and part.isdigit() and len(part) < 20 else part
                    for part in name.split("."))


def _counted_from_1(members: dict[str, zipfile.ZipInfo], where: str) -> dict[str, zipfile.ZipInfo]:
    """A format-1 file's entries by their names counted from 1; two that become one name (``t.0`` and ``t.00``) are
    an error, not an entry lost."""
    renamed: dict[str, zipfile.ZipInfo] = {}
    for name, info in members.items():
        new = counted_from_1(name)
        if new in renamed:
            raise ModelFileError(f"{where}: entries {renamed[new].filename[:-4][:60]!r} and {name[:60]!r} both "
                                 f"become {new[:60]!r} when counted from 1")
        renamed[new] = info
    return renamed


def _members(archive: zipfile.ZipFile, where: str) -> dict[str, zipfile.ZipInfo]:
    """The archive's entries by name (without ``.npy``), after checking the directory: no foreign, duplicate,
    encrypted or oddly compressed entries.  Nothing is read."""
    names = archive.namelist()
    nested = [name for name in names if name.replace("\\", "/").endswith(f"/{_FORMAT_KEY}.npy")]
    if nested and f"{_FORMAT_KEY}.npy" not in names:  # a model file unpacked and its folder zipped again
        folder = nested[0][:-len(f"{_FORMAT_KEY}.npy")]
        raise ModelFileError(f"{where}: its entries lie in the folder {folder[:60]!r} inside the archive (the folder "
                             "of an unpacked model file, zipped again?); a model file holds them at its top level: "
                             "zip the .npy files themselves, not their folder")
    members: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        name = info.filename
        if name.endswith("/data.pkl"):  # (torch.save's archive: "model/data.pkl", "model/version", ...)
            raise ModelFileError(f"{where} is not a tinygrad_edu model file but a PyTorch one, as torch.save writes "
                                 f"it (its entry {name[:60]!r} is pickled, and no pickle is loaded here): read it with "
                                 "torch.load(path) where PyTorch is installed and give its state_dict to "
                                 "model.load_state_dict, which says how its names and shapes map to this model's")
        if not name.endswith(".npy") or name[:-4] in members:
            what = "appears twice" if name.endswith(".npy") else "is not an .npy array"
            raise ModelFileError(f"{where} is not a tinygrad_edu model file: its entry {name[:60]!r} {what}")
        if info.flag_bits & 0x1:
            raise ModelFileError(f"{where}: entry {name[:60]!r} is encrypted")
        if info.compress_type not in _COMPRESSIONS:
            raise ModelFileError(f"{where}: entry {name[:60]!r} uses zip compression method "
                                 f"{info.compress_type}; only stored (0) and deflated (8) are read")
        members[name[:-4]] = info
    return members


def _parsed_architecture(text: str, where: str) -> Architecture:
    try:
        architecture: Architecture = json.loads(text)
    except ValueError as error:
        raise ModelFileError(f"{where}: the stored architecture is damaged: {error}") from None
    try:
        _described_shapes(architecture, "the stored architecture")
    except ValueError as error:
        raise ModelFileError(f"{where}: {error}") from None
    return architecture


def _same_names(wanted: Mapping[str, Any], members: Mapping[str, Any], whose: str, where: str,
                when_only_missing: str = "") -> None:
    missing = [name for name in wanted if name not in members]
    # (a file's own names quoted where they hold what a terminal would obey: escape sequences, new lines)
    extra = [name[:60] if name[:60].isprintable() else repr(name[:60]) for name in members if name not in wanted]
    if missing or extra:
        parts = ([f"missing {checks.listed(missing)}"] if missing else []) + (
            [f"unexpected {checks.listed(extra)}"] if extra else []) + (
            [when_only_missing] if when_only_missing and not extra else [])
        raise ModelFileError(f"{where} does not fit {whose}: {'; '.join(parts)}")


def _expected_shapes(architecture: Architecture | None, shapes: Mapping[str, tuple[int, ...]] | None,
                     members: Mapping[str, zipfile.ZipInfo], where: str, marker: str
                     ) -> dict[str, tuple[int, ...]] | None:
    """The shape every entry must have, from the stored architecture and the model loaded into (None if there
    is neither); the entries must be exactly the expected ones."""
    expected = None
    if architecture is not None:
        expected = _described_shapes(architecture, "the stored architecture")
        _same_names(expected, members, f"the stored architecture ({len(architecture['layers'])} layer(s))", where,
                    _FORMAT_1_FROZEN if marker == FORMAT_1 else "")
    if shapes is not None:
        _same_names(shapes, members, "the model", where)
        model = {name: tuple(shape) for name, shape in shapes.items()}
        for name in model:
            if expected is not None and model[name] != expected[name]:
                raise ModelFileError(f"{where}: entry {name!r} has shape {expected[name]} in the stored "
                                     f"architecture but {model[name]} in the model")
        expected = model
    if expected is None and sum(info.file_size for info in members.values()) > 8 * MAX_PARAMETERS + (
            _MAX_HEADER_BYTES * len(members)):
        raise ModelFileError(f"{where}: its entries declare more than {MAX_PARAMETERS:,} numbers")
    return expected


def _npy_header(member: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype]:
    """Shape, Fortran order and dtype from an ``.npy`` header (version 1.0 or 2.0), parsed without pickle."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(member, max_header_size=_MAX_HEADER_BYTES)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(member, max_header_size=_MAX_HEADER_BYTES)
    raise ValueError(f".npy format version {version} is not read")


def _read_data(archive: zipfile.ZipFile, info: zipfile.ZipInfo, check: Any, where: str) -> np.ndarray:
    """Open one entry, let ``check(shape, dtype)`` judge its header, then read exactly its data.

    The entry's declared size must be the header plus the data the header promises, so no more is ever read
    or allocated than the header (already checked) says; the zip's CRC is verified at the end."""
    with archive.open(info) as member:
        shape, fortran, dtype = _npy_header(member)
        check(shape, dtype)
        size = math.prod(shape) * dtype.itemsize
        if info.file_size != member.tell() + size:
            raise ModelFileError(f"{where}: entry {info.filename[:60]!r} declares {info.file_size} bytes but its "
                                 f"header describes {member.tell() + size}")
        data = member.read(size)
        if len(data) != size or member.read(1):
            raise ModelFileError(f"{where}: entry {info.filename[:60]!r} is truncated")
    array = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
    # one copy, in C order and the machine's byte order: writable, as numpy.load gives it (not a view of the file)
    return np.array(array, dtype=dtype.newbyteorder("="), order="C")


def _read_text(archive: zipfile.ZipFile, info: zipfile.ZipInfo | None, limit: int, what: str, where: str) -> str:
    """The text of the format marker or the architecture entry, a 0-d unicode array of at most ``limit`` bytes."""
    if info is None:  # numpy.savez(path, **model.state_dict()) writes such files, PyTorch's way of saving a model
        raise ModelFileError(f"{where} is not a tinygrad_edu model file: its {what} entry "
                             f"{'__' + what + '__'!r} is missing; arrays written with numpy.savez(path, "
                             "**model.state_dict()) are loaded with model.load_state_dict(numpy.load(path))")

    def check(shape: tuple[int, ...], dtype: np.dtype) -> None:
        if shape != () or dtype.kind != "U":
            raise ModelFileError(f"{where}: the {what} entry is not a text (shape {shape}, dtype {dtype})")

    if info.file_size > limit:
        raise ModelFileError(f"{where}: the {what} entry declares {info.file_size} bytes; at most {limit} are read")
    return str(_read_data(archive, info, check, where).item())


def _read_parameter(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, shape: tuple[int, ...] | None,
                    where: str) -> np.ndarray:
    def check(found: tuple[int, ...], dtype: np.dtype) -> None:
        if dtype.kind != "f" or dtype.itemsize not in (4, 8):
            raise ModelFileError(f"{where}: entry {name!r} has dtype {dtype}; expected float32 or float64")
        if shape is not None and found != shape:
            raise ModelFileError(f"{where}: entry {name!r} has shape {found} but {shape} is expected")
        if shape is None and math.prod(found) > MAX_PARAMETERS:
            raise ModelFileError(f"{where}: entry {name!r} declares shape {found}, more than "
                                 f"{MAX_PARAMETERS:,} numbers")

    if shape is not None and info.file_size > _MAX_HEADER_BYTES + 16 + 8 * math.prod(shape):
        raise ModelFileError(f"{where}: entry {name!r} declares {info.file_size} bytes, more than an array of "
                             f"shape {shape} needs")
    array = _read_data(archive, info, check, where)
    if not np.isfinite(array).all():
        raise ModelFileError(f"{where}: entry {name!r} holds NaN or inf")
    return array


def __dir__() -> list[str]:
    """``dir()`` of this module lists its API (``__all__``), not its helpers and imports."""
    return sorted(__all__)
