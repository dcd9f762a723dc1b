"""Data files written independently of tinygrad_edu's readers, and a local server to download them from: what the
tests of tinygrad_edu.data share (IDX and MNIST files, digits CSVs).  A helper module, not a test module: no test
module imports another.
"""

from __future__ import annotations

import gzip
import http.server
import threading
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_edu.data import MNIST_FILES


# --- the digits' CSV ------------------------------------------------------------------------------------------------
def write_gz(path: Path, text: str) -> Path:
    with gzip.open(path, "wt", encoding="ascii") as f:
        f.write(text)
    return path


def digits_text(rows: int = 1797, label: int = 3, pixel: int = 5, columns: int = 65) -> str:
    """A digits CSV of ``rows`` equal lines: ``columns − 1`` pixels ``pixel``, then ``label``."""
    line = ",".join([str(pixel)] * (columns - 1) + [str(label)])
    return "\n".join([line] * rows) + "\n"


# --- IDX files and MNIST --------------------------------------------------------------------------------------------
def idx_bytes(array: Any, dtype_byte: int = 0x08, ndim: int | None = None, zero: bytes = b"\x00\x00") -> bytes:
    """An IDX file written independently of the reader: header per the format, then the bytes."""
    array = np.asarray(array, dtype=np.uint8)
    ndim = array.ndim if ndim is None else ndim
    header = zero + bytes([dtype_byte, ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def write_file(path: Path | str, raw: bytes) -> Path:
    """``raw`` written to ``path``, gzipped where its name ends in .gz."""
    path = Path(path)
    path.write_bytes(gzip.compress(raw) if path.suffix == ".gz" else raw)
    return path


def fake_mnist(n: int, seed: int, rows: int = 28, cols: int = 28) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random images (uint8, rows × cols) and labels 0-9, from ``seed``."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, rows, cols), dtype=np.uint8)
    return images, rng.integers(0, 10, size=n, dtype=np.uint8)


def make_mnist_dir(root: Path, n_train: int = 6, n_test: int = 4,
                   suffix: str = ".gz") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """MNIST's four files (fake images and labels) in ``root``; the splits written, by name."""
    root.mkdir(parents=True, exist_ok=True)
    splits = {"train": fake_mnist(n_train, seed=2), "test": fake_mnist(n_test, seed=3)}
    for kind, (images, labels) in splits.items():
        image_name, label_name = MNIST_FILES[kind]
        write_file(root / f"{image_name}{suffix}", idx_bytes(images))
        write_file(root / f"{label_name}{suffix}", idx_bytes(labels))
    return splits


class Server:
    """Serves ``files`` (name -> bytes) from 127.0.0.1 on an ephemeral port and counts the requests."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        self.short: set[str] = set()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
                name = self.path.rsplit("/", 1)[-1]
                server.requests.append(self.path)
                if name not in server.files:
                    self.send_error(404, "Not Found")
                    return
                body = server.files[name]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body) + (100 if name in server.short else 0)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/mnist/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()
