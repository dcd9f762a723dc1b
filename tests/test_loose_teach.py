"""Loose ends of the teaching material: what the prose says of the seed, notebook cells after an unfinished run,
pictures of extreme costs and step sizes, the activations' picture, and the command line's and data's messages."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from helpers_cli import error_of, uniform_model

from tinygrad_edu import data, demo, plots
from tinygrad_edu.cli import main
from tinygrad_edu.training import History

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
SEED = Path("/work/shared/seed/000_b766e8f2b2b866db.txt")


def _cells(name: str, kind: str) -> list[str]:
    notebook = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
    return ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == kind]


def _sentences(text: str) -> list[str]:
    return re.split(r"(?<=[.:;])\s+(?=[A-Za-z])", " ".join(text.split()))


# --- (1) the seed's 1000 samples are section 5's ------------------------------------------------------------------

def _readme_comparison() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("For comparison, the assignment's companion code")
    return readme[start:readme.index("\n\n", start)]


@pytest.mark.parametrize("text", [demo.COMPANION_NOTE, _readme_comparison()], ids=["COMPANION_NOTE", "README"])
def test_the_seeds_1000_samples_are_cited_to_section_5(text):
    """"with the seed's 1000 samples it ends at 4e-3 to 5e-3" named no section: the seed gives 1000 only in section 5
    (its random guessing, "an array with 1000 randomly generated sample values"), section 7.3 none."""
    if SEED.exists():
        seed = SEED.read_text(encoding="utf-8")
        section_5 = seed[seed.index("## 5 Making the Network Learn"):seed.index("## 6 Cost Function")]
        assert "1000 randomly generated sample values" in section_5
    said = [s for s in _sentences(text) if "seed" in s and re.search(r"\b1000\b", s)]
    assert said and all("section 5" in sentence for sentence in said), said


# --- (2) notebook 6's reason for 0.03 at x = −1 is our measurement ------------------------------------------------

def test_notebook_6_says_its_reason_for_the_answer_at_minus_1_is_a_measurement_of_the_companion_code():
    """"0.03 at x = −1 ... because its samples lay between 0 and 1 only": the seed's 7.3 gives no reason and no sample
    range; the reason comes from running its companion code (companion-code.md). The prose must say so."""
    cell = next(text for text in _cells("06_training", "markdown") if "0.0003" in text)
    paragraph = " ".join(next(part for part in cell.split("\n\n") if "0.0003" in part).split())
    reasons = [s for s in re.split(r"(?<=\.)\s+(?=[A-Z])", paragraph) if "between 0 and 1" in s]
    assert reasons and all("companion code" in s and "measurement" in s for s in reasons), reasons


# --- (3) notebook cells after an unfinished run -------------------------------------------------------------------

def _fit_cells() -> list[tuple[str, int]]:
    found = []
    for name in ("03_cost_and_random_guessing", "06_training", "07_second_derivatives"):
        for i, source in enumerate(_cells(name, "code")):
            if re.search(r"\bfit\(", source) and "def " not in source.split("fit(")[0][-40:]:
                found.append((name, i))
    return found


def _run_cell_with_fit_stopping(name: str, index: int, stopped: str) -> tuple[bool, str]:
    """Run the notebook's first code cell, then cell ``index`` with a fit that trains one episode and returns a
    History whose ``stopped`` is ``stopped``; whether the cell raised KeyboardInterrupt, and what it printed."""
    from tinygrad_edu.training import fit

    code = _cells(name, "code")
    printed: list[str] = []
    namespace: dict = {"print": lambda *args, **kwargs: printed.append(" ".join(map(str, args)))}
    exec(compile(code[0], "<cell 1>", "exec"), namespace)

    def stopping(*args, **kwargs):
        kwargs["episodes"] = 1
        history = fit(*args, **kwargs)
        history.stopped = stopped
        return history

    namespace["fit"] = stopping
    namespace["plots"] = type("NoPlots", (), {"__getattr__": lambda self, attribute: lambda *a, **k: None})()
    namespace["plt"] = namespace["plots"]
    try:
        exec(compile(code[index], f"<cell {index + 1}>", "exec"), namespace)
    except KeyboardInterrupt:
        return True, "\n".join(printed)
    return False, "\n".join(printed)


@pytest.mark.parametrize(("name", "index"), _fit_cells())
def test_a_notebook_cell_after_ctrl_c_in_fit_stops_or_says_so(name, index):
    """Notebooks 3, 6 and 7 went on after fit as if its run were done: drew or compared an unfinished run (Ctrl-C
    returns the history so far, stopped == "interrupted"). Each such cell now stops, or prints what happened."""
    raised, printed = _run_cell_with_fit_stopping(name, index, "interrupted")
    assert raised or "interrupted" in printed, (name, index, printed)


@pytest.mark.parametrize(("name", "index"), [(n, i) for n, i in _fit_cells()
                                              if "optim.Armijo(" in _cells(n, "code")[i]])
def test_a_notebook_cell_whose_armijo_run_ended_by_the_stopping_rule_says_so(name, index):
    """Full-batch Armijo can end early (no descent step): the cell printed final costs or a Hessian "where gradient
    descent slowed down" without a word of it."""
    raised, printed = _run_cell_with_fit_stopping(name, index, "no descent step")
    assert not raised and "no descent step" in printed, (name, index, printed)


# --- (4) truthful axes ----------------------------------------------------------------------------------------------

def test_subnormal_costs_get_tick_labels_that_name_their_decades():
    """Costs near 1e-322 (subnormal) got decade ticks without a single label: matplotlib's formatter took
    10.0 ** -322 = 9.88e-323 for no power of 10."""
    fig = plots.plot_history([1e-322, 5e-323, 1e-321])
    fig.canvas.draw()
    ax = fig.axes[0]
    labels = {float(t.get_position()[1]): t.get_text() for t in ax.get_yticklabels() if t.get_text()}
    low, high = ax.get_ylim()
    shown = {position: text for position, text in labels.items() if low <= position <= high}
    assert shown, labels
    for position, text in shown.items():
        assert abs(np.log10(float(text)) - np.log10(position)) < 0.01, (text, position)
    matplotlib.pyplot.close(fig)


@pytest.mark.parametrize("steps", [[0.0, 0.0], [None, 0.0]])
def test_step_sizes_all_zero_draw_no_negative_step_sizes(steps):
    """An Armijo history whose only step sizes are 0 (‖∇C‖ = 0) drew a linear axis from −0.05 to 0.05, labelled
    −0.04 and −0.02: step sizes that cannot be."""
    history = History(cost=[1.0, 0.5], gradient_norm=[0.0, 0.0], step_size=steps, seconds=[0.0, 0.0])
    fig = plots.plot_history(history)
    fig.canvas.draw()
    ax_steps = fig.axes[1]
    low, high = ax_steps.get_ylim()
    ticks = [t for t in ax_steps.get_yticks() if low <= t <= high]
    assert ticks and min(ticks) >= 0, ticks
    assert [t.get_text() for t in ax_steps.get_yticklabels() if t.get_text()] == ["0"]
    matplotlib.pyplot.close(fig)


# --- (7) the leaky ReLU drawn and the layers' leaky ReLU --------------------------------------------------------

def test_plot_activations_says_which_slope_the_layers_use_and_draws_the_slope_it_names():
    """The panel said "leaky ReLU (slope 0.1)", the slope drawn, where every layer's activation="leaky_relu" has
    0.01: a student took 0.1 for the network's."""
    from tinygrad_edu import functional as F

    fig = plots.plot_activations(["leaky_relu"])
    ax = fig.axes[0]
    title = ax.get_title()
    x, y = ax.lines[0].get_data()
    drawn = float(y[0] / x[0])  # x[0] = −5 < 0
    assert f"slope {drawn:g}" in title
    layer = F.leaky_relu(np.array([-1.0])).data.item() / -1.0
    assert layer != drawn and f"{layer:g} in layers" in title, title
    matplotlib.pyplot.close(fig)


# --- (5), (6) and (8): the command line's messages --------------------------------------------------------------

def test_predict_overflow_advice_fits_the_cause(capsys, tmp_path):
    """"give smaller inputs" was the advice also for a model whose own weights overflow at an input of 1."""
    big = uniform_model(tmp_path / "big.npz", [1, 1, 1, 1, 1], weight=1e100)
    assert main(["predict", str(big), "1"]) == 0
    error = capsys.readouterr().err
    assert "overflowed" in error and "give smaller inputs" not in error and "weights" in error, error
    small = uniform_model(tmp_path / "small.npz", [1, 1, 1], weight=2.0)
    assert main(["predict", str(small), "1e308"]) == 0
    error = capsys.readouterr().err
    assert "give smaller inputs" in error, error


def test_a_short_pandas_header_is_quoted_as_it_is(capsys, tmp_path):
    """The header "0,1,2" was called "0, 1, …, 2"."""
    model = uniform_model(tmp_path / "m.npz", [3, 1])
    inputs = tmp_path / "x.csv"
    inputs.write_text("0,1,2\n0.5,0.25,1.5\n", encoding="utf-8")
    error = error_of(capsys, ["predict", str(model), "--inputs-file", str(inputs)])
    assert "holds 0, 1, 2, the header" in error and "…" not in error, error
    inputs.write_text("0,1,2,3,4,5\n0.5,0.25,1.5,1,2,3\n", encoding="utf-8")
    model = uniform_model(tmp_path / "m6.npz", [6, 1])
    assert "holds 0, 1, …, 5, the header" in error_of(capsys, ["predict", str(model), "--inputs-file", str(inputs)])


def test_predict_refuses_pythons_digit_separators_in_a_file_as_numpy_does(capsys, tmp_path):
    """float("1_000") is 1000.0, so a file's 1_000 was read as a thousand; numpy.loadtxt refuses it."""
    with pytest.raises(ValueError):
        np.loadtxt(["1_000"])
    model = uniform_model(tmp_path / "m.npz", [1, 1])
    inputs = tmp_path / "x.txt"
    inputs.write_text("0.5\n1_000\n", encoding="utf-8")
    error = error_of(capsys, ["predict", str(model), "--inputs-file", str(inputs)])
    assert "line 2" in error and "'1_000' is not a number" in error and "1000" in error, error
    inputs.write_text("0.5, 1_0.5\n", encoding="utf-8")  # a line of numbers read at once
    assert "'1_0.5' is not a number" in error_of(capsys, ["predict", str(model), "--inputs-file", str(inputs)])


def test_predict_names_a_dos_end_of_file_character(capsys, tmp_path):
    """A file ending in Ctrl-Z (\\x1a) was told "'\\x1a' is not a number", which says nothing of where it came
    from or what to do."""
    model = uniform_model(tmp_path / "m.npz", [1, 1])
    inputs = tmp_path / "x.txt"
    inputs.write_bytes(b"0.5\r\n0.25\r\n\x1a")
    error = error_of(capsys, ["predict", str(model), "--inputs-file", str(inputs)])
    assert "line 3" in error and "Ctrl-Z" in error and "end-of-file" in error and "remove it" in error, error
    inputs.write_bytes(b"0.5\n0.25\x1a")  # right after the last number
    assert "Ctrl-Z" in error_of(capsys, ["predict", str(model), "--inputs-file", str(inputs)])


@pytest.mark.parametrize("content", [b"", gzip.compress(b"")], ids=["zero bytes", "a gzip of nothing"])
def test_load_digits_calls_an_empty_gz_file_empty_not_damaged(tmp_path, content):
    path = tmp_path / "digits.csv.gz"
    path.write_bytes(content)
    with pytest.raises(ValueError) as caught:
        data.load_digits(path)
    message = str(caught.value)
    assert "empty" in message and "damaged" not in message, message


def test_a_datasets_iterator_kept_and_then_looped_over_in_pairs_is_refused():
    """it = iter(ds), then for x, y in it: the loop went through the pair (inputs, labels), as for x, y in ds did
    before that was refused: two samples' inputs, then their labels, or Python's bare "too many values"."""
    ds = data.Dataset(np.zeros((2, 3)), np.arange(2))
    it = iter(ds)
    with pytest.raises(TypeError, match=r"zip\(ds.inputs, ds.labels\)"):
        for x, y in it:  # noqa: B007
            pass
    inputs, labels = ds  # unpacking the pair still works
    assert inputs.shape == (2, 3) and [a.shape for a in iter(ds)] == [(2, 3), (2,)]
