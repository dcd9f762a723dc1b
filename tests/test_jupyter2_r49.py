"""A student in Jupyter around training (round 49, second pass): what a cell shows after fit and its History.

Defects: a ``fit(..., progress=False)`` stopped by Ctrl-C (Jupyter's stop button) returned quietly, so the cell did
not say it was interrupted; a call refused by the first pass's checks (targets of the wrong shape) left a progress
bar "0/30" above its traceback; a History as a cell's last expression showed only its text repr; a Step of the
backprop player showed its raw HTML as text.
"""

from __future__ import annotations

import os
import signal
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers_interrupts import Terminal, fit_interrupted_at, screen

from tinygrad_edu import fit, nn, optim
from tinygrad_edu.training import History


def _data() -> tuple[np.ndarray, np.ndarray]:
    x = np.linspace(-1, 1, 20).reshape(-1, 1)
    return x, x**2


def _same_parameters(a: nn.MLP, b: nn.MLP) -> bool:
    return all(np.array_equal(p.data, q.data) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_an_interrupted_fit_says_so_once_and_what_it_keeps() -> None:
    """Ctrl-C in episode 13's forward pass: the model keeps episode 12's update (the parameters of a run of 12
    episodes, bit for bit), the History 12 episodes, and one warning says so."""
    net, history, said = fit_interrupted_at(interrupt_at=13)
    assert history.stopped == "interrupted" and history.episodes == 12
    reference = nn.MLP([1, 4, 1], rng=0)
    x, y = _data()
    fit(reference, x, y, optimizer=optim.SGD(reference, learning_rate=0.1), episodes=12, progress=False)
    assert _same_parameters(net, reference)
    assert said == ["fit: interrupted in episode 13 of 30, before its update: the model keeps the parameters of "
                    "episode 12's update, the History its 12 episodes"], said


def test_a_first_ctrl_c_is_said_to_end_after_the_update() -> None:
    """SIGINT during episode 13's pass: fit makes that update, records the episode, and says so."""
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("needs Python's own SIGINT handler (see tests/conftest.py)")
    net, history, said = fit_interrupted_at(interrupt_at=13, how="press")
    reference = nn.MLP([1, 4, 1], rng=0)
    x, y = _data()
    fit(reference, x, y, optimizer=optim.SGD(reference, learning_rate=0.1), episodes=13, progress=False)
    assert history.episodes == 13 and _same_parameters(net, reference)
    assert said == ["fit: interrupted in episode 13 of 30, after its update: the model keeps the parameters of that "
                    "update, the History its 13 episodes"], said


def test_interrupted_at_the_start_and_in_the_last_pass() -> None:
    """Before any update, and in the pass for final_cost (call 31: after the 30 episodes' passes)."""
    _, history, said = fit_interrupted_at(interrupt_at=1)
    assert history.episodes == 0 and said == ["fit: interrupted in episode 1 of 30, before its update: the model "
                                              "keeps the parameters it started with, the History no episodes"]
    _, history, said = fit_interrupted_at(interrupt_at=31)
    assert history.final_cost is None and history.episodes == 30
    assert said == ["fit: interrupted in the pass for final_cost, after 30 episodes of 30: the model keeps the "
                    "parameters of the last update, the History its 30 episodes, final_cost None"], said


def test_interrupted_mini_batches_keep_the_batches_made() -> None:
    """Batches of 5 (4 a episode): the 6th pass is episode 2's second batch; the episode is recorded with one."""
    _, history, said = fit_interrupted_at(interrupt_at=6, batch_size=5, seed=0)
    assert history.episodes == 2 and said == [
        "fit: interrupted in episode 2 of 30, after a batch update: the model keeps the parameters of that update, "
        "the History its 2 episodes, the last with the batches it made"], said


def test_an_uninterrupted_fit_says_nothing() -> None:
    assert fit_interrupted_at()[2] == []


def test_the_warning_raised_as_an_error_carries_the_history() -> None:
    x, y = _data()
    net = nn.MLP([1, 4, 1], rng=0)

    def cost(out: Any, t: Any) -> Any:  # (in every pass, the one for final_cost too)
        raise KeyboardInterrupt

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="after 0 episodes of 3: the model keeps the parameters it") as caught:
            fit(net, x, y, cost=cost, optimizer=optim.SGD(net, learning_rate=0.1), episodes=3, progress=False)
    assert caught.value.history.stopped == "interrupted"  # type: ignore[attr-defined]


def test_a_refused_call_leaves_no_progress_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    """Targets of the wrong shape, refused by the first pass: the bar drawn meanwhile is taken away (the terminal's
    line is blank), not left at 0/30 above the traceback."""
    pytest.importorskip("tqdm")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    x, _ = _data()
    net = nn.MLP([1, 4, 1], rng=0)
    with pytest.raises(ValueError, match="shape"):
        fit(net, x, np.zeros((20, 3)), optimizer=optim.SGD(net, learning_rate=0.1), episodes=30)
    assert "0/30" not in screen(terminal.getvalue()) and "\n" not in terminal.getvalue(), repr(terminal.getvalue())


def test_an_interrupted_bar_stays_and_the_warning_says_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a bar, Ctrl-C in episode 4: the bar stays at 3/30 and the warning alone says it was interrupted."""
    pytest.importorskip("tqdm")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    _, history, said = fit_interrupted_at(interrupt_at=4, progress=True)
    assert "3/30" in terminal.getvalue() and "interrupt" not in terminal.getvalue().lower()
    assert len(said) == 1 and "interrupted in episode 4 of 30" in said[0]


def test_a_history_shows_in_jupyter_as_a_small_table() -> None:
    """The cell's view: episodes, the first and final cost, why training stopped (glossed), and how to draw the
    curve; the label escaped; the text repr as before."""
    history = History([4.0, 2.0], [4.0, 2.0], [0.1, 0.1], [0.5, 1.0], "<SGD> & co", "interrupted", 1.5)
    page = history._repr_html_()
    assert "&lt;SGD&gt; &amp; co" in page and "<SGD>" not in page
    for row, shown in (("episodes", "2"), ("cost in episode 1", "4"), ("cost after the last update", "1.5"),
                       ("stopped", "interrupted (Ctrl-C or the stop button)")):
        assert f"<th style='text-align:left'>{row}</th><td style='text-align:left'>{shown}</td>" in page, page
    assert "<code>plots.plot_history(history)</code>" in page and len(page) < 1000
    assert repr(history) == ("History(label='<SGD> & co', episodes=2, first_cost=4, final_cost=1.5, "
                             "stopped='interrupted')")


def test_a_history_filled_by_hand_still_shows() -> None:
    """Fields that are no list of numbers show as the text repr shows them, rather than the view raising."""
    assert "cost=None" in History(cost=None)._repr_html_()  # type: ignore[arg-type]
    assert "<td style='text-align:left'>none</td>" in History()._repr_html_()


def test_the_view_of_a_history_loads_no_matplotlib() -> None:
    import subprocess

    code = ("import sys; from tinygrad_edu import History; History([1.0], [1.0], [0.1], [0.1])._repr_html_(); "
            "print('matplotlib' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert done.stdout.strip() == "False", done.stderr


def _steps() -> list[Any]:
    from tinygrad_edu import Value, viz

    w = Value(0.5, requires_grad=True, label="<b>w</b>")
    x = Value(2.0, label="x&y")
    return viz.backprop_player(((w * x - 1.5) ** 2).sum()).steps


def test_a_step_prints_as_text_not_as_its_html() -> None:
    """A step of the player as a cell's last expression (text/plain): its phase, Value and title, then the
    explanation with the tags taken out and the names as the user wrote them."""
    step = next(step for step in _steps() if step.title.endswith("∂C/∂<b>w</b>"))
    text = repr(step)
    assert text.startswith(f"Step(backward, Value {step.node}): Backward ") and "∂C/∂<b>w</b>\n" in text, text
    assert "<p" not in text and "<td" not in text and "&lt;" not in text and "&amp;" not in text, text
    assert "∂mul₁/∂<b>w</b> = x&y = 2 | -1 × 2 = -2" in text, text
    assert text.endswith(f"highlights {', '.join(step.edges)}"), text


def test_a_step_made_by_hand_of_other_types_prints_its_fields() -> None:
    from tinygrad_edu.player import Step

    assert repr(Step("forward", 0, 5, "<p>")) == ("Step(phase='forward', node=0, title=5, html='<p>', "  # type: ignore[arg-type]
                                                  "edges=[])")


def test_a_step_shows_in_jupyter_as_the_player_shows_it() -> None:
    """The HTML view: the title escaped (the user's names in it are no tags), the step's own HTML below it."""
    step = next(step for step in _steps() if step.title.endswith("∂C/∂<b>w</b>"))
    page = step._repr_html_()
    assert "<b>w</b>" not in page and "∂C/∂&lt;b&gt;w&lt;/b&gt;" in page
    assert step.html in page and page.startswith("<div>") and page.endswith("</div>")
