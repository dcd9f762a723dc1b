"""A teacher showing the package in Jupyter and on the command line (round 42): what the drawings write for an array
that holds a few NaN among its numbers, and plot_history's refusal of costs no float can hold."""

import numpy as np
import pytest

from tinygrad_edu import History, Value, notation

plots = pytest.importorskip("tinygrad_edu.plots")
pytest.importorskip("matplotlib")


# --- a tensor with some NaN: its drawing said "min nan · mean nan · max nan", as if every number were NaN -----------
def test_summary_of_an_array_with_one_nan_gives_the_others_extremes_and_the_count():
    text = notation.summary(np.array([1.0, np.nan, np.inf, -2.0]))
    assert text == "min -2 · mean nan · max inf (1 of 4 nan)"


def test_summary_of_all_nan_and_of_no_nan_is_unchanged():
    assert notation.summary(np.array([np.nan, np.nan])) == "min nan · mean nan · max nan"
    assert notation.summary(np.array([1.0, 2.0, 6.0])) == "min 1 · mean 3 · max 6"


def test_draw_graph_of_a_log_with_one_negative_input_shows_which_numbers_are_finite():
    viz = pytest.importorskip("tinygrad_edu.viz")
    x = Value(np.array([-1.0, 2.0, 3.0]), label="x")
    with np.errstate(invalid="ignore"):
        y = x.log()
    source = viz.draw_graph(y.sum()).source
    # log(2) = 0.693, log(3) = 1.099: the two numbers that are there, and the one NaN
    assert "min 0.693 · mean nan · max 1.1 (1 of 3 nan)" in source
    assert "max nan" not in source


def test_the_count_is_of_the_whole_array_not_of_a_summary():
    data = np.arange(1000.0)
    data[[3, 500, 999]] = np.nan
    assert notation.summary(data).endswith("(3 of 1000 nan)")
    assert notation.summary(data).startswith("min 0 · mean nan · max 998")


# --- plot_history: a cost of 10**400 (a Python int, which History's repr prints) ended in a bare OverflowError ----
def test_plot_history_refuses_costs_beyond_float64_with_a_clear_error():
    with pytest.raises(ValueError, match=r"plot_history: .*run 1.*too large for a float"):
        plots.plot_history([10 ** 400, 1])


def test_plot_history_refuses_step_sizes_beyond_float64_with_a_clear_error():
    history = History([1.0, 0.5], [1.0, 1.0], [10 ** 400, 0.1], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"plot_history: the step sizes of run 1.*too large for a float"):
        plots.plot_history(history)


# --- predict: outputs that overflowed to NaN printed "class 0", a class no output chose (argmax takes a NaN first) ---
def test_predict_prints_no_class_where_the_outputs_are_nan(capsys, tmp_path):
    from tinygrad_edu import nn
    from tinygrad_edu.cli import main

    path = tmp_path / "three.npz"
    model = nn.MLP([1, 2, 3], activation="identity", output_activation="identity", rng=0)
    model.layers[0].weights.data[:] = [[2.0, -2.0]]  # x = 1e308: z¹ = (inf, -inf), then inf − inf = NaN everywhere
    model.save(path)
    assert main(["predict", str(path), "1e308", "1"]) == 0
    captured = capsys.readouterr()
    first, second = captured.out.splitlines()
    assert first == "1e+308 → [nan, nan, nan]  class nan"
    with np.errstate(all="ignore"):
        outputs = model(np.array([[1.0]])).data[0]
    assert second.endswith(f"class {int(np.argmax(outputs))}")  # a finite sample keeps its class
    assert "overflowed" in captured.err
