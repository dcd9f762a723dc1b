"""Ctrl-C pressed at a chosen moment (SIGINT sent to this process, as a terminal or Jupyter's ■ sends it): what the
tests of training's interruptions and of the notebooks' cells share.  A helper module, not a test module: no test
module imports another.  The tests need Python's own SIGINT handler (tests/conftest.py sets it).
"""

from __future__ import annotations

import io
import os
import signal
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import engine, fit, losses, nn, optim
from tinygrad_edu.training import History


def press_ctrl_c_at_the_first_step(monkeypatch: pytest.MonkeyPatch, kinds: Iterable[type]) -> None:
    """SIGINT as the first optimizer step (of any of the optimizer classes ``kinds``) begins: fit ends that run
    after the update, with ``stopped == "interrupted"``, and returns."""
    pressed: list[bool] = []
    for kind in kinds:
        def step(self: Any, *args: Any, _original: Any = kind.step, **kwargs: Any) -> Any:
            if not pressed:
                pressed.append(True)
                os.kill(os.getpid(), signal.SIGINT)
            return _original(self, *args, **kwargs)
        monkeypatch.setattr(kind, "step", step)


def interrupting_updates(monkeypatch: pytest.MonkeyPatch, at: int, signals: int = 1) -> None:
    """Send Ctrl-C (SIGINT) ``signals`` times in the middle of an update: when the ``at``-th parameter of the run is
    being changed in place (optimizers change their parameters one by one with ``-=``)."""
    changed, in_place = [], engine._in_place

    def changing(*args: Any) -> Any:
        changed.append(1)
        if len(changed) == at:
            for _ in range(signals):
                os.kill(os.getpid(), signal.SIGINT)
        return in_place(*args)

    monkeypatch.setattr(engine, "_in_place", changing)


def fit_interrupted_at(interrupt_at: int | None = None, how: str = "raise", **settings: Any
                       ) -> tuple[nn.MLP, History, list[str]]:
    """fit a small MLP 30 episodes with a cost of one's own that, at its ``interrupt_at``-th call, raises
    KeyboardInterrupt (``how="raise"``: a second Ctrl-C, at once) or sends SIGINT (``"press"``: a first Ctrl-C,
    handled by fit after the update under way); returns the model, the History and the warnings' texts."""
    x = np.linspace(-1, 1, 20).reshape(-1, 1)
    y = x**2
    net, calls = nn.MLP([1, 4, 1], rng=0), [0]

    def cost(out: Any, t: Any) -> Any:
        calls[0] += 1
        if calls[0] == interrupt_at:
            if how == "raise":
                raise KeyboardInterrupt
            os.kill(os.getpid(), signal.SIGINT)
        return losses.squared_error(out, t)

    settings.setdefault("progress", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(net, x, y, cost=cost, optimizer=optim.SGD(net, learning_rate=0.1), episodes=30, **settings)
    return net, history, [str(w.message) for w in caught]


class Terminal(io.StringIO):
    """stderr on a terminal (a tty)."""

    def isatty(self) -> bool:
        return True


def screen(text: str) -> str:
    """What a terminal line shows at the end: each carriage return starts the line again, overwriting it."""
    shown: list[str] = []
    for piece in text.split("\r"):
        shown[: len(piece)] = piece
    return "".join(shown).strip()
