"""Ctrl-C pressed at a chosen moment (SIGINT sent to this process, as a terminal or Jupyter's ■ sends it): what the
tests of training's interruptions and of the notebooks' cells share.  A helper module, not a test module: no test
module imports another.  The tests need Python's own SIGINT handler (tests/conftest.py sets it).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable
from typing import Any

import pytest

from tinygrad_edu import engine


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
