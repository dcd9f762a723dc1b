"""Round 44's review: what a demanding reading of the round's change found, each with the test that failed."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pytest

from tinygrad_edu import checks


# --- Python 3.10: the call counted back over attributes, items and keywords, as later Pythons tell it ---------------
class _Instruction(NamedTuple):
    """Python 3.10's dis.Instruction as _callee reads it: no ``positions`` (its bytecode has no columns)."""

    opname: str
    arg: int | None
    argval: Any


def _py310(*listing: tuple[str, Any]) -> list[Any]:
    """Python 3.10's instructions from (opname, arg or argval) pairs, as ``dis.dis`` lists them on 3.10."""
    return [_Instruction(name, value if name.startswith("CALL") else 0, value) for name, value in listing]


@pytest.mark.parametrize(("listing", "called"), [
    # enumerate(h.ds)
    ([("LOAD_NAME", "enumerate"), ("LOAD_NAME", "h"), ("LOAD_ATTR", "ds"), ("CALL_FUNCTION", 1)], "enumerate"),
    # enumerate(h.ds, start=0)
    ([("LOAD_NAME", "enumerate"), ("LOAD_NAME", "h"), ("LOAD_ATTR", "ds"), ("LOAD_CONST", 0),
      ("LOAD_CONST", ("start",)), ("CALL_FUNCTION_KW", 2)], "enumerate"),
    # iter(d["train"])
    ([("LOAD_NAME", "iter"), ("LOAD_NAME", "d"), ("LOAD_CONST", "train"), ("BINARY_SUBSCR", None),
      ("CALL_FUNCTION", 1)], "iter"),
    # enumerate(ds)
    ([("LOAD_GLOBAL", "enumerate"), ("LOAD_FAST", "ds"), ("CALL_FUNCTION", 1)], "enumerate")])
def test_python_310s_call_is_told_through_attributes_items_and_keywords(listing: list, called: str) -> None:
    """On Python 3.11+, ``for i, (x, y) in enumerate(self.ds)`` and ``enumerate(ds, start=1)`` are refused (the
    columns tell the call); 3.10's counting back stopped at an attribute or a keyword and let them run silently."""
    instructions = _py310(*listing)
    callee = checks._callee(instructions, len(instructions) - 1)
    assert callee is not None and callee.argval == called, callee


def test_python_310s_call_of_what_a_call_or_an_attribute_returned_is_not_told() -> None:
    """``f(g)(ds)`` and ``obj.enumerate(ds)``: the callable is no name loaded, so nothing is said."""
    made = _py310(("LOAD_NAME", "f"), ("LOAD_NAME", "g"), ("CALL_FUNCTION", 1), ("LOAD_NAME", "ds"),
                  ("CALL_FUNCTION", 1))
    attribute = _py310(("LOAD_NAME", "obj"), ("LOAD_ATTR", "enumerate"), ("LOAD_NAME", "ds"), ("CALL_FUNCTION", 1))
    assert checks._callee(made, 4) is None and checks._callee(attribute, 3) is None


@pytest.mark.parametrize("code", ["for i, (x, y) in enumerate(h.ds): pass", "x, y = next(iter(h.ds))",
                                  "for i, (x, y) in enumerate(ds, start=0): pass",
                                  "for i, (x, y) in enumerate(d['train']): pass"])
def test_pytorchs_loops_over_a_dataset_held_elsewhere_are_refused(code: str) -> None:
    """The same on every Python (this one's bytecode, whichever it is)."""
    from tinygrad_edu.data import Dataset

    ds = Dataset(np.arange(4.0).reshape(2, 2), np.array([[0, 1], [1, 0]]))
    holder = type("Holder", (), {"ds": ds})()
    with pytest.raises(TypeError, match=r"goes through the pair|unpacks the inputs"):
        exec(code, {"ds": ds, "h": holder, "d": {"train": ds}})


# --- predict: the advice for a file's name given where a number goes, whatever its quotes --------------------------
@pytest.mark.parametrize("name", ["it's.csv", "back\\slash.csv", 'say "hi".txt'])
def test_the_inputs_file_advice_names_the_file_and_runs_when_pasted(capsys, tmp_path, monkeypatch, name):
    """argparse shows the name as Python's repr: "it's.csv" in double quotes, a backslash doubled.  The advice was
    left out for the first and named another file for the second; pasted, it now reads the file."""
    import shlex

    from helpers_cli import error_of, uniform_model

    from tinygrad_edu.cli import main

    monkeypatch.chdir(tmp_path)
    model = uniform_model(tmp_path / "m.npz", [1, 1], weight=2.0)
    (tmp_path / name).write_text("0.5\n", encoding="utf-8")
    error = error_of(capsys, ["predict", str(model), name])
    advice = error.split("; to read the input numbers from a file, write ", 1)
    assert len(advice) == 2, error
    words = shlex.split(advice[1].split(" (see ", 1)[0])
    assert words == ["--inputs-file", name], words
    assert main(["predict", str(model), *words]) == 0
    assert "1" in capsys.readouterr().out  # (2 · 0.5)


# --- plot_descent: a learning rate of 0 given as a number or as an optimizer draws the same path -----------------
@pytest.mark.parametrize("rate", [0.0, 1e-30])
def test_an_optimizer_whose_steps_change_nothing_draws_the_path_descent_path_gives(rate: float) -> None:
    """descent_path's path ends where a step changes no number (round 44); the optimizer's path drew 25 steps on
    the same point and said "after 25 steps" where the number η said "after 0 steps"."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tinygrad_edu import optim, plots

    def f(p: Any) -> Any:
        return p[0] ** 2 + 3 * p[1] ** 2

    drawn = []
    for way in (rate, lambda p: optim.GradientDescent(p, rate), lambda p: optim.SGD(p, rate)):
        figure = plots.plot_descent(f, [1.0, 1.0], way)
        axes = figure.axes[0]
        drawn.append((axes.get_title().split(", cost ")[1], np.asarray(axes.get_lines()[0].get_xydata())))
        plt.close(figure)
    assert [title for title, _ in drawn] == ["4 after 0 steps"] * 3, drawn
    np.testing.assert_array_equal(plots.descent_path(f, [1.0, 1.0], rate), [[1.0, 1.0]])
    for _, path in drawn:
        np.testing.assert_array_equal(path, [[1.0, 1.0]])


# --- an optimizer's repeated-step warning, after its finiteness check became a sum of squares ----------------------
def _step_warnings(change: Any) -> list[str]:
    import warnings

    from tinygrad_edu import Value, optim

    w = Value(np.array([1.0, -2.0]))
    optimizer = optim.SGD([w], 0.1)
    (w * w).sum().backward()
    optimizer.step()
    change(w)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        optimizer.step()
    return [str(warning.message) for warning in caught]


def test_a_gradient_negated_in_place_is_no_repeated_step() -> None:
    """w.grad *= -1 (ascent by hand) holds other numbers of the same squares: the step is no repeat (it warned)."""
    def negate(w: Any) -> None:
        w.grad *= -1

    assert _step_warnings(negate) == []


def test_the_same_gradients_again_are_still_a_repeated_step() -> None:
    said = _step_warnings(lambda w: None)
    assert len(said) == 1 and "repeats it" in said[0], said


# --- the player's page says which order its backward steps take, and it is true ----------------------------------
def test_the_players_first_page_does_not_say_the_engine_takes_inputs_first_to_last() -> None:
    """The steps take p, q, r of concatenate([p, q, r]) first to last; the engine, r, q, p.  The page said "in the
    order the engine uses (the inputs of one operation first to last)", which the engine does not do."""
    from tinygrad_edu import Value
    from tinygrad_edu import functional as F
    from tinygrad_edu.engine import backward_order
    from tinygrad_edu.graph import nearest_values
    from tinygrad_edu.player import backprop_steps, display_names, reading_order

    p, q, r = (Value(np.array(v), label=n) for v, n in (([1.0, 2.0], "p"), ([3.0], "q"), ([4.0, 5.0], "r")))
    cost = (F.concatenate([p, q, r]) ** 2).sum()
    engine = [n.label for n in backward_order(cost) if n.label in ("p", "q", "r")]
    shown = [n.label for n in reading_order(cost) if n.label in ("p", "q", "r")]
    assert engine == ["r", "q", "p"] and shown == ["p", "q", "r"]  # (what the page must say)
    kept, total = nearest_values(cost)
    start = backprop_steps(cost, kept, total, display_names(kept))[0].html
    assert "the engine takes them last to first" in start and "first to last" in start, start
