"""Model files made byte by byte, independently of tinygrad_edu's writer (``.npy`` entries, zips with every field
chosen, ``.npz`` archives from numpy and zipfile), and a model's state to tell that a refused load changed nothing:
what the tests of tinygrad_edu.serialization share.  A helper module, not a test module: no test module imports
another.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_edu import nn


# --- files ----------------------------------------------------------------------------------------------------------
def npy_bytes(array: np.ndarray | None = None, header: dict | None = None, data: bytes = b"") -> bytes:
    """The bytes of an ``.npy`` file: an array, or a forged ``header`` followed by ``data``."""
    out = io.BytesIO()
    if header is None:
        np.lib.format.write_array(out, array, allow_pickle=False)
    else:
        np.lib.format.write_array_header_1_0(out, header)
        out.write(data)
    return out.getvalue()


def zip_by_hand(path: Path, entries: list[tuple]) -> Path:
    """Write a zip by hand: entries are ``(name, stored_bytes, method, crc, size, flags)``, so that the test
    controls every field (a compression method, a flag, a declared size) exactly."""
    body, directory = bytearray(), bytearray()
    for name, stored, method, crc, size, flags in entries:
        encoded = name.encode()
        offset = len(body)
        body += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, method, 0, 0x21, crc, len(stored), size,
                            len(encoded), 0) + encoded + stored
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, method, 0, 0x21, crc,
                                 len(stored), size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(directory), len(body), 0)
    path.write_bytes(bytes(body + directory + end))
    return path


def stored_entry(name: str, content: bytes, method: int = 0, flags: int = 0) -> tuple:
    """An entry for :func:`zip_by_hand`: ``content`` stored as it is, with its true CRC and size."""
    return name, content, method, zlib.crc32(content), len(content), flags


def npz_file(path: Path, entries: dict[str, np.ndarray], version: tuple[int, int] | None = None) -> Path:
    """A stored zip of .npy entries, written with numpy and zipfile (``version``: of every .npy header)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in entries.items():
            out = io.BytesIO()
            np.lib.format.write_array(out, array, version=version, allow_pickle=False)
            archive.writestr(f"{name}.npy", out.getvalue())
    return path


def layer_entry(in_size: int, out_size: int, **more: Any) -> dict:
    """One layer of a saved architecture (relu, unnamed), with ``more`` keys."""
    return {"in_size": in_size, "out_size": out_size, "activation": "relu", "name": None, **more}


# --- models and their state -----------------------------------------------------------------------------------------
def tiny_mlp() -> nn.MLP:
    """A 2-3-1 MLP (tanh, then identity), Xavier's numbers from rng 0."""
    return nn.MLP([2, 3, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)


def state_copy(model: nn.Module) -> dict:
    """Each array of ``model.state_dict()`` copied, with its dtype."""
    return {name: (array.copy(), array.dtype) for name, array in model.state_dict().items()}


def unchanged_since(model: nn.Module, before: dict) -> bool:
    """``model`` holds the same names, numbers and dtypes as the :func:`state_copy` ``before``."""
    now = model.state_dict()
    return now.keys() == before.keys() and all(
        np.array_equal(now[k], before[k][0]) and now[k].dtype == before[k][1] for k in now)
