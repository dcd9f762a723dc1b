"""Round 48's review: what the round's changes left wrong, each checked here (see the report).

- grad_mode keeps its switches through an ``importlib.reload`` of itself: a reloaded module's block set new switches
  that the engine (not reloaded) never read, so ``with grad_mode.no_grad():`` recorded while ``is_grad_enabled()``
  said False;
- ``Value(tensor)`` of a bfloat16 tensor that requires grad advises ``tensor.detach().float().numpy()``, the call
  that works when pasted (``.detach().numpy()`` fails on bfloat16 the same way).
"""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tinygrad_edu import Value

ROOT = Path(__file__).resolve().parent.parent


def _run(code: str) -> subprocess.CompletedProcess:
    """``code`` in a fresh Python (a reload here would change the modules every other test sees)."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_a_block_of_a_reloaded_grad_mode_stops_the_engine_recording() -> None:
    done = _run("""
        import importlib
        import tinygrad_edu.grad_mode as grad_mode
        from tinygrad_edu import Value
        importlib.reload(grad_mode)
        with grad_mode.no_grad():
            print(grad_mode.is_grad_enabled(), (Value(2.0) * Value(3.0)).op)
        with grad_mode.detect_anomaly():
            try:
                Value(-1.0).log()
            except FloatingPointError:
                print("caught")
        print(grad_mode.is_grad_enabled(), (Value(2.0) * Value(3.0)).op)
        """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "None", "caught", "True", "mul"]


def test_a_bfloat16_tensor_that_requires_grad_gets_advice_that_works_when_pasted() -> None:
    torch = pytest.importorskip("torch")
    tensor = torch.ones(2, dtype=torch.bfloat16, requires_grad=True)
    with pytest.raises(TypeError, match=r"^Value: cannot make an array from Tensor") as caught:
        Value(tensor)
    advice = str(caught.value).rsplit("e.g. ", 1)[1]
    assert advice == "tensor.detach().float().numpy()"
    assert Value(eval(advice, {"tensor": tensor})).data.tolist() == [1.0, 1.0]  # the advice, pasted


def test_a_float32_tensor_that_requires_grad_is_still_told_detach_numpy() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"e\.g\. tensor\.detach\(\)\.numpy\(\)$"):
        Value(torch.ones(2, requires_grad=True))


def test_labels_with_a_missing_one_are_not_told_to_number_class_names_with_np_unique() -> None:
    """np.unique(names, return_inverse=True) raises on [None, 1, 0] (None and int do not compare): the advice is for
    class names only."""
    import numpy as np

    from tinygrad_edu import losses

    labels = np.array([None, 1, 0], dtype=object)
    with pytest.raises(TypeError) as caught:
        losses.cross_entropy(Value(np.zeros((3, 2))), labels)
    assert "np.unique" not in str(caught.value) and "holding None at index 0: a missing label?" in str(caught.value)
    with pytest.raises(TypeError, match=r"np\.unique\(labels, return_inverse=True\) numbers them"):
        losses.cross_entropy(Value(np.zeros((3, 2))), np.array(["cat", "dog", "cat"], dtype=object))


def test_a_user_name_gt_or_amp_leaves_the_pages_escaped_characters_whole() -> None:
    """The user's names are marked in the page's language; one spelled as an escaped character's name (gt in the
    ReLU step's &gt;, amp) was marked inside it, &<span lang="de">gt</span>;, which a browser shows as "&gt;"."""
    from tinygrad_edu import viz
    from tinygrad_edu.player import _in_page_language

    assert _in_page_language("x &gt; 0 &amp; y &#x27;", "de", ("gt", "amp", "x27")) == "x &gt; 0 &amp; y &#x27;"
    gt = Value(-1.0, label="gt")
    out = (gt * Value(2.0, label="Gewicht")).relu()
    page = viz.backprop_player(out, lang="de").html()
    assert "&gt;" in page and "&<span" not in page
    assert 'lang=\\"de\\">gt<\\/span>' in page  # the name is still marked where the prose names it (in the JSON)


class _Python310:
    """sys as Python 3.10 shows it to the engine (no BaseException.add_note there)."""

    version_info = (3, 10, 0)

    def __getattr__(self, name: str) -> object:
        return getattr(sys, name)


@pytest.mark.parametrize("python_310", [False, True], ids=["3.11+", "3.10"])
def test_a_forwards_and_a_vjps_own_error_each_get_one_note_naming_the_op(monkeypatch, python_310) -> None:
    """One helper adds both notes (the forward's, new this round, and the vjp's): each error keeps its type and gets
    one note, in ``__notes__`` on 3.10 as on 3.11."""
    import numpy as np

    from tinygrad_edu import Op, apply, engine

    if python_310:
        monkeypatch.setattr(engine, "sys", _Python310())
    forward_fails = Op("lookup", lambda x: {}["k"], (lambda g, out, x: g,))
    with pytest.raises(KeyError) as caught:
        apply(forward_fails, Value(np.ones(2)))
    assert caught.value.__notes__ == ["lookup: raised by its forward (input shapes (2,))"]
    vjp_fails = Op("halve", lambda x: x / 2, (lambda g, out, x: 1 / 0,))
    with pytest.raises(ZeroDivisionError) as caught:
        apply(vjp_fails, Value(np.ones(2))).sum().backward()
    [note] = caught.value.__notes__
    assert note.startswith("halve: raised by ") and note.endswith("in the backward pass (g has shape (2,))")


def test_train_whose_end_cost_is_below_a_goal_no_episode_met_does_not_call_it_above(capsys, tmp_path) -> None:
    """With batches the goal is checked on each episode's average cost; the cost after the last update can lie below
    a goal that no episode met: the report said "the cost still above --cost-goal 0.0023" beside "0.002225 at the
    end".  It names the episode's cost the goal was checked on."""
    from tinygrad_edu.cli import main

    assert main(["train", "--samples", "50", "--episodes", "20", "--batch-size", "10", "--optimizer", "gd",
                 "--cost-goal", "0.0023", "-o", str(tmp_path / "m.npz")]) == 0
    report = capsys.readouterr().out.splitlines()[1]
    end = float(report.rsplit(", ", 1)[1].split()[0])
    last = float(report.split("the last's ")[1].split(")")[0])
    assert end < 0.0023 < last  # (the case: the end below the goal, the last episode's cost above it)
    assert "still above" not in report and "no episode's cost at or below --cost-goal 0.0023" in report
