"""Another thread at a chosen moment: what the tests of a walk's read-only hold under ``detect_anomaly`` and of the
transforms' put-back of ``.grad`` share.  A helper module, not a test module: no test module imports another."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import numpy as np

from tinygrad_edu import Value, apply, detect_anomaly
from tinygrad_edu.ops import Op


@contextlib.contextmanager
def a_walk_held_in_another_thread(w: Value) -> Iterator[None]:
    """Inside the block, another thread's backward pass through ``w`` under ``detect_anomaly`` waits in a vjp, so
    that its walk holds ``w``'s numbers read-only; it ends (and the thread is joined) when the block is left."""
    inside, release = threading.Event(), threading.Event()

    def waiting(g: np.ndarray, out: np.ndarray, x: np.ndarray) -> np.ndarray:
        inside.set()
        release.wait(30)
        return g
    slow = Op("slow", lambda x: x * 1.0, waiting)

    def walk() -> None:
        with detect_anomaly():
            apply(slow, w).sum().backward()
    thread = threading.Thread(target=walk)
    thread.start()
    try:
        assert inside.wait(30)
        yield
    finally:
        release.set()
        thread.join()


@contextlib.contextmanager
def another_thread_writing(w: Value, grad: np.ndarray) -> Iterator[tuple[threading.Event, threading.Event]]:
    """Another thread that, once ``inside`` is set, writes ``w.grad = grad`` and then sets ``written``: the block gets
    ``(inside, written)``, and the thread is joined when it is left."""
    inside, written = threading.Event(), threading.Event()

    def trainer() -> None:
        assert inside.wait(10)
        w.grad = grad
        written.set()
    thread = threading.Thread(target=trainer)
    thread.start()
    try:
        yield inside, written
    finally:
        thread.join()
