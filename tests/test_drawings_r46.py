"""Round 46, drawings, the backprop player and the gradient checker: the problems last round noticed and left alone.

- a drawing shown in Jupyter ran Graphviz with no time limit: a big graph hung the notebook for tens of seconds;
"""

import shutil
import subprocess

import pytest

from tinygrad_edu import Value, viz

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")


def _recurrent_chain(steps: int) -> Value:
    """``s = tanh(s * w + b)`` ``steps`` times: w and b are used by every step (slow for dot, drawn as it is)."""
    w, b = Value(0.9, label="w"), Value(0.1, label="b")
    s = Value(1.0, requires_grad=False, label="x")
    for _ in range(steps):
        s = (s * w + b).tanh()
    return s


# --- a drawing shown in Jupyter has a time limit -----------------------------------------------------------------
@needs_dot
def test_a_slow_drawing_in_jupyter_stops_and_says_what_to_do(monkeypatch):
    monkeypatch.setattr(viz, "_LONG_EDGES", 10 ** 12)  # drawn as before round 45: minutes of dot at 150 Values
    monkeypatch.setattr(viz, "INLINE_TIMEOUT", 0.05)  # (the limit small, not the machine's speed, makes it time out)
    bundle = viz.draw_graph(_recurrent_chain(200))._repr_mimebundle_()
    assert "image/svg+xml" not in bundle
    text = bundle["text/plain"]
    assert "more than 0.05 s" in text and "viz.INLINE_TIMEOUT" in text
    assert "draw_graph(value, max_nodes=150)" in text and 'render(<the drawing>, "graph.svg", timeout=None)' in text
    assert "render(&lt;the drawing&gt;" in bundle["text/html"]


@needs_dot
def test_a_drawing_in_jupyter_runs_dot_with_the_limit(monkeypatch):
    """dot runs under subprocess.run's timeout, which kills it past the limit (not left running beside the kernel)."""
    started = []
    run = subprocess.run

    def recording_run(*args, **kwargs):
        started.append(kwargs.get("timeout"))
        return run(*args, **kwargs)

    monkeypatch.setattr(viz.subprocess, "run", recording_run)
    monkeypatch.setattr(viz, "INLINE_TIMEOUT", 7.5)
    assert "<svg" in viz.draw_graph(Value(2.0, label="x") * 3.0)._repr_mimebundle_()["image/svg+xml"]
    assert started == [7.5]
