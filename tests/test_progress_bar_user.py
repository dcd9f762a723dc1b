"""A student who watches training: ``fit(..., progress=True)``'s tqdm bar on a terminal (a stream that says it is a
tty), what a warning shown mid-run looks like next to it, Ctrl-C and a diverging run with a bar, tqdm missing, and how
often the bar is drawn in a long run (counted, not timed)."""

from __future__ import annotations

import io
import os
import signal
import sys
import warnings

import numpy as np
import pytest

from tinygrad_edu import Value, engine, fit, nn, optim, training
from tinygrad_edu.training import DivergenceWarning


class _Terminal(io.StringIO):
    """stderr on a terminal: a tty, which counts its writes."""

    writes = 0

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def _screen(text: str) -> list[str]:
    """The lines a terminal shows for ``text``: a carriage return goes back to the start of the line, and what is
    written then overwrites what was there."""
    lines = []
    for raw in text.split("\n"):
        line: list[str] = []
        column = 0
        for char in raw:
            if char == "\r":
                column = 0
                continue
            if column < len(line):
                line[column] = char
            else:
                line.append(char)
            column += 1
        lines.append("".join(line).rstrip())
    return lines


def _xsquared(n: int = 30) -> tuple[np.ndarray, np.ndarray]:
    x = np.linspace(-1, 1, n).reshape(-1, 1)
    return x, x**2


def _on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> _Terminal:
    pytest.importorskip("tqdm")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    return terminal


# --- defects --------------------------------------------------------------------------------------------------------

def _shown_on_stderr(message, category, filename, lineno, file=None, line=None) -> None:
    """Python's own way of showing a warning, outside pytest."""
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _diverging_run() -> str:
    x, y = _xsquared()
    net = nn.MLP([1, 8, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    fit(net, x, y, optimizer=optim.GradientDescent(net, 3.0), episodes=20)
    return "DivergenceWarning: fit: the cost grew"


def _armijo_without_a_step() -> str:
    x, y = _xsquared()
    net = nn.MLP([1, 2, 1], rng=0)
    armijo = optim.Armijo(net, sigma=0.999, initial_step=1e6, alpha=0.5, max_backtracks=0)
    history = fit(net, x, y, optimizer=armijo, episodes=20)
    assert history.stopped == "no descent step"
    return "Warning: Armijo.step: no step size"


@pytest.mark.parametrize("run", [_diverging_run, _armijo_without_a_step], ids=["divergence", "armijo"])
def test_a_warning_during_training_starts_on_a_line_of_its_own_not_after_the_bar(monkeypatch, run):
    """On a terminal the student saw ``GradientDescent:   0%|   | 0/20 [00:00<?, ?episode/s]/home/…/train.py:10:
    DivergenceWarning: fit: the cost grew …``: the bar's line ends in no newline, and the warning went on after it
    (in Jupyter's text bar too)."""
    terminal = _on_a_terminal(monkeypatch)
    with warnings.catch_warnings():  # shown on sys.stderr, the terminal, as Python shows them (pytest records them)
        warnings.simplefilter("always")
        warnings.showwarning = _shown_on_stderr
        words = run()
    [line] = [line for line in _screen(terminal.getvalue()) if words in line]
    assert line.startswith(f"{__file__}:"), line  # nothing of the bar before the warning
    last = _screen(terminal.getvalue())[-2]  # the bar is drawn again, below the warning, and closed
    assert "/20 [" in last and words not in last, last


def test_fits_docstring_says_what_progress_shows_and_when_it_shows_nothing():
    doc = " ".join(fit.__doc__.split())
    assert "``progress=True``" in doc or "``progress``" in doc
    assert "tqdm" in doc and "terminal" in doc and "Jupyter" in doc
    assert "without tqdm" in doc and "redirected" in doc


# --- guards ---------------------------------------------------------------------------------------------------------

def test_without_tqdm_fit_trains_silently_on_a_terminal_as_documented(monkeypatch):
    """No tqdm (``pip install .`` without the progress extra): the same training, nothing written, no error."""
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    for name in ("tqdm", "tqdm.auto", "tqdm.std"):
        monkeypatch.setitem(sys.modules, name, None)
    x, y = _xsquared()
    runs = []
    for progress in (True, False):
        net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
        runs.append(fit(net, x, y, optimizer=optim.Armijo(net), episodes=5, progress=progress))
    assert terminal.getvalue() == ""
    assert runs[0].cost == runs[1].cost and runs[0].final_cost == runs[1].final_cost


def test_ctrl_c_with_a_bar_closes_it_at_the_episode_reached_and_keeps_the_history(monkeypatch):
    terminal = _on_a_terminal(monkeypatch)
    x, y = _xsquared()
    net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    changed, in_place = [], engine._in_place

    def changing(*args):  # Ctrl-C in the middle of the fourth update (optimizers change parameters one by one)
        changed.append(1)
        if len(changed) == 3 * len(net.parameters()) + 2:
            os.kill(os.getpid(), signal.SIGINT)
        return in_place(*args)

    monkeypatch.setattr(engine, "_in_place", changing)
    history = fit(net, x, y, optimizer=optim.GradientDescent(net, 0.1), episodes=50)
    assert history.stopped == "interrupted" and history.episodes == 4 and history.final_cost is not None
    assert terminal.getvalue().endswith("\n")  # closed: the next output starts on a line of its own
    last = _screen(terminal.getvalue())[-2]
    assert " 4/50 [" in last and f"cost={history.cost[-1]:.3g}" in last, last


def test_a_cost_that_becomes_inf_closes_the_bar_before_the_error_reaches_the_student(monkeypatch):
    terminal = _on_a_terminal(monkeypatch)
    x, y = _xsquared()
    net = nn.MLP([1, 8, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    with warnings.catch_warnings(), pytest.raises(FloatingPointError, match=r"^fit: in episode \d+ of 400") as caught:
        warnings.simplefilter("ignore", DivergenceWarning)
        fit(net, x, y, optimizer=optim.GradientDescent(net, 30.0), episodes=400)
    history = caught.value.history
    assert history.stopped == "not finite" and np.isfinite(history.cost).all()
    assert terminal.getvalue().endswith("\n")
    last = _screen(terminal.getvalue())[-2]
    assert f" {history.episodes}/400 [" in last, last


@pytest.mark.parametrize("episodes", [1, 3000])
def test_the_bar_is_drawn_a_bounded_number_of_times_however_many_episodes(monkeypatch, episodes):
    """tqdm draws at most every 0.1 s and fit sets the cost at most every 0.2 s: a long run of fast episodes writes
    a few dozen times, not once per episode; one episode draws a full bar with its cost."""
    terminal = _on_a_terminal(monkeypatch)
    shown, show = [], training._show_progress
    monkeypatch.setattr(training, "_show_progress", lambda *args: shown.append(1) or show(*args))
    w = Value(np.zeros((1, 1)))
    history = fit(lambda x: x @ w, np.ones((4, 1)), np.ones((4, 1)), optimizer=optim.GradientDescent([w], 1e-9),
                  episodes=episodes)
    assert history.episodes == episodes == len(shown)
    assert terminal.writes <= 10 + episodes // 100, terminal.writes
    last = _screen(terminal.getvalue())[-2]
    assert "100%" in last and f"{episodes}/{episodes} [" in last and f"cost={history.cost[-1]:.3g}" in last, last
