"""A student on a flaky network downloading MNIST: a local server on 127.0.0.1 (random port) serves small MNIST-like
.gz files and misbehaves on demand (HTML error pages with status 200, 404, redirects, stalls, cut transfers, more
bytes than promised); the cache folder may be unwritable, shared by two processes, or hold the files uncompressed.
No test touches the internet.
"""

import errno
import gzip
import hashlib
import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu.data import MNIST_FILES, MNIST_URL_ENV, DownloadError, download_mnist, load_mnist

TEST_NAMES = [f"{stem}.gz" for stem in MNIST_FILES["test"]]


def _idx(array: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes, written by hand (magic number, big-endian dimensions, values)."""
    head = bytes([0, 0, 8, array.ndim]) + b"".join(size.to_bytes(4, "big") for size in array.shape)
    return head + array.astype(np.uint8).tobytes()


def _mnist_like() -> tuple[dict[str, bytes], dict[str, tuple[np.ndarray, np.ndarray]]]:
    rng = np.random.default_rng(7)
    files, splits = {}, {}
    for kind, n in (("train", 5), ("test", 3)):
        images, labels = rng.integers(0, 256, (n, 28, 28)), rng.integers(0, 10, n)
        splits[kind] = images, labels
        image_name, label_name = MNIST_FILES[kind]
        files[f"{image_name}.gz"] = gzip.compress(_idx(images), mtime=0)
        files[f"{label_name}.gz"] = gzip.compress(_idx(labels), mtime=0)
    return files, splits


class _Mirror:
    """A mirror on 127.0.0.1 whose ``mode`` says how it answers; ``requests`` records the paths asked for."""

    def __init__(self) -> None:
        self.files, self.splits = _mnist_like()
        self.md5 = {name: hashlib.md5(body).hexdigest() for name, body in self.files.items()}
        self.mode, self.delay, self.requests = "ok", 0.0, []
        self.release = threading.Event()  # ends a stall at teardown
        mirror = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                mirror.requests.append(self.path)
                time.sleep(mirror.delay)
                body, mode = mirror.files.get(self.path.rsplit("/", 1)[-1]), mirror.mode
                if mode == "redirect" and not self.path.startswith("/moved/"):
                    self.send_response(302)
                    self.send_header("Location", "/moved/" + self.path.rsplit("/", 1)[-1])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if body is None or mode == "404":
                    self.send_error(404, "Not Found")
                    return
                if mode == "html":  # a captive portal or a rate limiter: an error page with status 200
                    body = b"<!DOCTYPE html><html><body><h1>Too many requests</h1></body></html>"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if mode == "stall_body":  # headers and a few bytes, then nothing
                    self.wfile.write(body[:10])
                    self.wfile.flush()
                    mirror.release.wait(20)
                    return
                self.wfile.write(body + (b"EXTRA BYTES" * 50 if mode == "more" else b""))

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/mnist/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def mirror():
    srv = _Mirror()
    yield srv
    srv.close()


def _left_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ------------------------------------------------------------------------------------------------- defects

@pytest.mark.parametrize("checked", [True, False])
def test_an_html_page_with_status_200_is_named_and_not_cached(tmp_path, mirror, checked):
    mirror.mode = "html"
    cache = tmp_path / "cache"
    sums = mirror.md5 if checked else dict.fromkeys(mirror.md5)
    with pytest.raises(DownloadError, match=r"^download_mnist: .*http://127\.0\.0\.1:\d+/mnist/t10k-images-idx3-"
                                            r"ubyte\.gz sent a web page \(text/html\), not a gzip file; the download "
                                            r"was deleted$"):
        download_mnist(cache, kind="test", url=mirror.url, checksums=sums)
    assert _left_in(cache) == []


def test_uncompressed_files_are_not_missing(tmp_path):
    files, splits = _mnist_like()
    for name in TEST_NAMES:
        (tmp_path / name.removesuffix(".gz")).write_bytes(gzip.decompress(files[name]))
    x, y = load_mnist(tmp_path, kind="test", download=True, url="http://127.0.0.1:1/")  # nobody listens on port 1
    images, labels = splits["test"]
    assert np.array_equal(y, labels) and np.allclose(x, images.reshape(3, 784) / 255.0, rtol=0, atol=1e-7)


def test_load_mnist_passes_the_timeout_on(tmp_path, mirror):
    mirror.mode = "stall_body"
    start = time.monotonic()
    with pytest.raises(DownloadError, match="timed out"):
        load_mnist(tmp_path / "cache", kind="test", download=True, url=mirror.url, checksums=mirror.md5,
                   timeout=0.5)
    assert time.monotonic() - start < 5
    assert _left_in(tmp_path / "cache") == []


def test_a_stalled_server_is_named_with_the_timeout(tmp_path, mirror):
    mirror.mode = "stall_body"
    start = time.monotonic()
    with pytest.raises(DownloadError, match=r"fetching http://127\.0\.0\.1:\d+/mnist/t10k-images-idx3-ubyte\.gz "
                                            r"failed: timed out.*timeout=0\.5.*larger timeout="):
        download_mnist(tmp_path / "cache", kind="test", url=mirror.url, checksums=mirror.md5, timeout=0.5)
    assert time.monotonic() - start < 5  # the timeout held
    assert _left_in(tmp_path / "cache") == []


def test_a_failing_mirror_names_where_its_address_came_from(tmp_path, mirror, monkeypatch):
    mirror.mode = "404"
    monkeypatch.setenv(MNIST_URL_ENV, mirror.url)
    with pytest.raises(DownloadError, match=r"^download_mnist: cannot download from the mirror set by "
                                            r"\$TINYGRAD_EDU_MNIST_URL \(try again, or give another mirror with url= "
                                            r"or \$TINYGRAD_EDU_MNIST_URL\): fetching http://127\.0\.0\.1:\d+/mnist/"
                                            r"t10k-images-idx3-ubyte\.gz failed: HTTP 404 Not Found$"):
        download_mnist(tmp_path / "cache", kind="test", checksums=mirror.md5)
    assert _left_in(tmp_path / "cache") == []


def _refuse_writing_in(folder: Path, monkeypatch) -> None:
    """Make ``folder`` read-only; as root (who may write anyway) the OS's refusal is imitated."""
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):
        real_open, real_mkdir = os.open, os.mkdir

        def refuse(path, *args, real, **kwargs):
            if os.path.dirname(os.path.abspath(path)) == str(folder) and (real is real_mkdir or args[0] & os.O_CREAT):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
            return real(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", lambda path, *a, **k: refuse(path, *a, real=real_open, **k))
        monkeypatch.setattr(os, "mkdir", lambda path, *a, **k: refuse(path, *a, real=real_mkdir, **k))


@pytest.mark.parametrize("where", ["the cache", "its parent"])
def test_an_unwritable_cache_is_named_by_download_mnist(tmp_path, mirror, monkeypatch, where):
    locked = tmp_path / "locked"
    locked.mkdir()
    cache = locked if where == "the cache" else locked / "cache"
    _refuse_writing_in(locked, monkeypatch)
    try:
        with pytest.raises(PermissionError) as caught:
            download_mnist(cache, kind="test", url=mirror.url, checksums=mirror.md5)
    finally:
        locked.chmod(0o755)
    message = str(caught.value)
    assert f"download_mnist: cannot write {cache}" in message and "Permission denied" in message, message
    assert ".part" not in message and "another root" in message, message
    assert mirror.requests == [] and _left_in(locked) == []


# --------------------------------------------------------------------------------------------- guard tests

def test_an_interrupted_download_leaves_nothing_and_a_retry_fetches_only_what_is_missing(tmp_path, mirror):
    cache = tmp_path / "cache"
    mirror.mode = "stall_body"  # Ctrl-C while the first file arrives

    def ctrl_c(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, ctrl_c)
    signal.setitimer(signal.ITIMER_REAL, 0.5)
    try:
        with pytest.raises(KeyboardInterrupt):
            download_mnist(cache, kind="test", url=mirror.url, checksums=mirror.md5, timeout=10)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert _left_in(cache) == []  # no half-written file, not even a hidden one
    mirror.mode, mirror.requests[:] = "ok", []
    (cache / TEST_NAMES[1]).write_bytes(mirror.files[TEST_NAMES[1]])  # one file had arrived before
    paths = download_mnist(cache, kind="test", url=mirror.url, checksums=mirror.md5)
    assert mirror.requests == [f"/mnist/{TEST_NAMES[0]}"]
    assert {p.name: p.read_bytes() for p in paths} == {name: mirror.files[name] for name in TEST_NAMES}


@pytest.mark.parametrize("mode", ["redirect", "more"])
def test_redirects_are_followed_and_extra_bytes_are_not_kept(tmp_path, mirror, mode):
    mirror.mode = mode
    paths = download_mnist(tmp_path / "cache", kind="test", url=mirror.url, checksums=dict.fromkeys(TEST_NAMES))
    assert {p.name: p.read_bytes() for p in paths} == {name: mirror.files[name] for name in TEST_NAMES}
    assert _left_in(tmp_path / "cache") == sorted(TEST_NAMES)


def test_the_url_argument_wins_over_the_environment(tmp_path, mirror, monkeypatch):
    monkeypatch.setenv(MNIST_URL_ENV, "http://127.0.0.1:1/nobody-listens/")
    x, y = load_mnist(tmp_path / "cache", kind="test", download=True, url=mirror.url.rstrip("/"),
                      checksums=mirror.md5)
    assert sorted(mirror.requests) == sorted(f"/mnist/{name}" for name in TEST_NAMES)
    assert np.array_equal(y, mirror.splits["test"][1]) and x.shape == (3, 784)


def test_two_processes_downloading_into_one_cache(tmp_path, mirror):
    mirror.delay = 0.3  # slow enough that both are fetching at once
    cache = tmp_path / "cache"
    script = ("import sys; from tinygrad_edu.data import download_mnist; "
              "print(len(download_mnist(sys.argv[1], kind='test', url=sys.argv[2], checksums=eval(sys.argv[3]))))")
    env = {**os.environ, "PYTHONPATH": str(Path(tinygrad_edu.__file__).parent.parent)}
    env.pop(MNIST_URL_ENV, None)
    runs = [subprocess.Popen([sys.executable, "-c", script, str(cache), mirror.url, repr(mirror.md5)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [run.communicate(timeout=60) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], results
    assert [out.strip() for out, _ in results] == ["2", "2"]
    assert _left_in(cache) == sorted(TEST_NAMES)
    assert all((cache / name).read_bytes() == mirror.files[name] for name in TEST_NAMES)
