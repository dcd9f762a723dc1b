"""The command line and the x² demonstration at their edges: numbers at the limits of each option, and what they
print and write checked independently (a numpy forward pass over the arrays read back with ``np.load``, the
tables read back as text, hand-made runs whose goals are known by construction)."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers_cli import error_of, made_run, numpy_forward, read_model

from tinygrad_edu import cli, demo, nn
from tinygrad_edu.cli import build_parser, main
from tinygrad_edu.data import load_digits, train_test_split, xsquared
from tinygrad_edu.training import History

SEED_INPUTS = np.array([[0.1], [0.5], [-1.0], [0.01]])


# --- the numbers of the command line's options ---------------------------------------------------------------
@pytest.mark.parametrize("argv, words", [
    (["train", "--lr", "0"], "must be a positive number, got 0"),
    (["train", "--lr", "inf"], "must be a positive number, got inf"),
    (["train", "--lr", "nan"], "must be a positive number, got nan"),
    (["train", "--lr", "1e400"], "must be a positive number"),  # float() makes it inf
    (["train", "--test-fraction", "1"], "strictly between 0 and 1, got 1"),
    (["train", "--test-fraction", "0"], "strictly between 0 and 1, got 0"),  # ("a positive number": 1 is too)
    (["train", "--test-fraction", "nan"], "strictly between 0 and 1, got nan"),
    (["train", "--test-fraction", "x"], "expected a number, got 'x'"),
    (["train", "--episodes", "1.5"], "expected a whole number, got '1.5'"),
    (["train", "--batch-size", "0"], "must be at least 1, got 0"),
    (["demo", "--seed", "x"], "expected a whole number, got 'x'"),
    # a mistyped long number is cut to 40 characters, not echoed over the screen
    (["train", "--lr", "1" + "0" * 400], f"must be a positive number, got 1{'0' * 39}… (401 characters)"),
    (["train", "--lr", "x" * 50], f"expected a number, got '{'x' * 40}…' (50 characters)"),
    (["train", "--seed", "1a" * 2500], f"expected a whole number, got '{'1a' * 20}…' (5,000 characters)"),
    # all digits, but more than int() reads: said so, rather than "expected a whole number"
    (["train", "--seed", "1" * 5000],
     f"a whole number of 5,000 digits is too long (Python reads at most {sys.get_int_max_str_digits():,})"),
    (["train", "--episodes", "-1" + "0" * 400], "must be at least 1, got about -10^400"),
])
def test_numbers_outside_their_range_are_argument_errors(capsys, argv: list[str], words: str) -> None:
    message = error_of(capsys, argv)
    assert message.startswith(f"tinygrad-edu {argv[0]}: error: argument ") and words in message


def test_numbers_at_the_edge_of_their_range_are_accepted() -> None:
    args = build_parser().parse_args(["train", "--episodes", "1", "--seed", "0", "--test-fraction", "0.999",
                                      "--lr", "5e-324", "--hidden", "1", "1"])
    assert (args.episodes, args.seed, args.test_fraction, args.learning_rate, args.hidden) == \
        (1, 0, 0.999, 5e-324, [1, 1])


@pytest.mark.parametrize("optimizer, shown", [
    ("armijo", "Armijo(sigma=0.0001, alpha=0.5, initial_step=0.0625,"),
    ("random", "RandomSearch(scale=0.0625)"),
    ("sgd", "SGD(learning_rate=0.0625, momentum=0.9)"),
    ("adam", "Adam(learning_rate=0.0625,"),
    ("gd", "GradientDescent(learning_rate=0.0625)"),
])
def test_the_learning_rate_given_reaches_every_optimizer(capsys, tmp_path: Path, optimizer: str, shown: str) -> None:
    """--lr is each optimizer's own step setting (Armijo's first trial step, random search's change size)."""
    assert main(["train", "--optimizer", optimizer, "--lr", "0.0625", "--episodes", "1", "--samples", "5",
                 "--hidden", "2", "-o", str(tmp_path / "m.npz")]) == 0
    assert f" with {shown}" in capsys.readouterr().out.splitlines()[0]


@pytest.mark.skipif(sys.platform != "linux", reason="a name longer than Linux's 255 bytes")
def test_a_folder_name_too_long_is_an_argument_error_not_a_traceback(capsys) -> None:
    """Path.exists raises (ENAMETOOLONG) rather than saying False: the demo's -o check ended in a traceback."""
    message = error_of(capsys, ["demo", "--quick", "-o", "b" * 300])
    assert message.startswith("tinygrad-edu demo: error: argument -o/--output: cannot use the folder bbb")
    assert "File name too long" in message


@pytest.mark.parametrize("suffix", ["/", "/."])
def test_train_refuses_an_output_that_names_a_folder_before_training(capsys, tmp_path: Path, suffix: str) -> None:
    """-o models/ (a folder that does not exist yet) passed the checks, trained, and then failed to save with
    "save: Is a directory", losing the model."""
    output = f"{tmp_path / 'models'}{suffix}"
    message = error_of(capsys, ["train", "--episodes", "1", "--samples", "5", "-o", output])
    assert f"cannot save the model to {output}: that names a folder, not a file" in message
    assert list(tmp_path.iterdir()) == []


# --- train: what it prints, against the file it wrote ---------------------------------------------------------
def test_train_prints_the_costs_and_outputs_that_the_saved_file_gives(capsys, tmp_path: Path) -> None:
    """Every number train prints is recomputed here with numpy: the start cost from the same seed's untrained
    network, the end cost and f(x) from the arrays of the file it saved."""
    path = tmp_path / "m.npz"
    assert main(["train", "--samples", "20", "--hidden", "3", "--episodes", "3", "--seed", "4", "-o", str(path)]) == 0
    out = capsys.readouterr().out
    arrays, activations = read_model(path)
    assert activations == ["leaky_relu", "identity"] and str(arrays.pop("__format__")).startswith("tinygrad_edu")
    x, y = xsquared(20, seed=4)
    untrained = nn.MLP([1, 3, 1], activation="leaky_relu", output_activation="identity", init="he", rng=4)
    start = np.mean((numpy_forward(untrained.state_dict(), activations, x) - y) ** 2)
    end = np.mean((numpy_forward(arrays, activations, x) - y) ** 2)
    printed_start, printed_end = map(float, re.search(r"cost (\S+) at the start, (\S+) at the end", out).groups())
    assert printed_start == pytest.approx(start, rel=5e-4) and printed_end == pytest.approx(end, rel=5e-4)
    assert end < start
    parameters = sum(array.size for array in arrays.values())
    assert parameters == 1 * 3 + 3 + 3 * 1 + 1  # the weights and biases of 1-3-1
    assert "training 1-3-1 (leaky_relu, output identity, 10 parameters) on 20 x² samples" in out
    pairs = re.findall(r"f\((\S+)\) = (\S+) \(x² = (\S+)\)", out)
    assert [float(x) for x, _, _ in pairs] == [0.1, 0.5, -1.0, 0.01]
    assert [float(square) for _, _, square in pairs] == [0.01, 0.25, 1.0, 0.0001]
    np.testing.assert_allclose([float(f) for _, f, _ in pairs], numpy_forward(arrays, activations, SEED_INPUTS)[:, 0],
                               rtol=5e-4)
    # the file loads back exactly, and predict on it prints numpy's outputs
    assert all(np.array_equal(arrays[name], value) for name, value in nn.load(path).state_dict().items())
    assert main(["predict", str(path), "--", "-0.75", "0.3"]) == 0
    printed = [float(line.split("→")[1]) for line in capsys.readouterr().out.splitlines()]
    np.testing.assert_allclose(printed, numpy_forward(arrays, activations, [[-0.75], [0.3]])[:, 0], rtol=1e-5)


def test_digits_with_the_squared_error_aim_at_one_hot_targets(capsys, tmp_path: Path) -> None:
    """Seed section 4: with the squared error, the neuron of the right digit should output 1 and the others 0;
    the start cost is then the mean over the training digits of Σ_j (y_j − [j = label])²."""
    assert main(["train", "--data", "digits", "--cost", "squared_error", "--hidden", "4", "--episodes", "1",
                 "--seed", "3", "-o", str(tmp_path / "m.npz")]) == 0
    printed = float(re.search(r"cost (\S+) at the start", capsys.readouterr().out).group(1))
    train, _ = train_test_split(*load_digits(), test_fraction=0.25, seed=3, stratify=True)
    untrained = nn.MLP([64, 4, 10], activation="leaky_relu", output_activation="identity", init="he", rng=3)
    outputs = numpy_forward(untrained.state_dict(), ["leaky_relu", "identity"], train.inputs)
    one_hot = np.arange(10) == train.labels[:, None]
    assert printed == pytest.approx(np.mean(np.sum((outputs - one_hot) ** 2, axis=1)), rel=5e-4)


def test_a_cost_that_fell_by_less_than_a_millionth_did_not_fall_measurably(capsys, tmp_path: Path) -> None:
    """η = 1e-9 moves the cost by about 1e-9 of itself: lower, but not measurably, so train advises a larger η."""
    assert main(["train", "--optimizer", "gd", "--lr", "1e-9", "--episodes", "1", "--samples", "20", "--hidden", "3",
                 "-o", str(tmp_path / "m.npz")]) == 0
    out = capsys.readouterr().out
    start, end = re.search(r"cost (\S+) at the start, (\S+) at the end", out).groups()
    assert start == end and "the cost did not fall measurably: try a larger learning rate than 1e-09" in out


def test_a_batch_of_exactly_all_samples_is_said_as_all_samples(capsys, tmp_path: Path) -> None:
    assert main(["train", "--episodes", "1", "--samples", "20", "--batch-size", "20", "--hidden", "2",
                 "-o", str(tmp_path / "m.npz")]) == 0
    assert capsys.readouterr().out.splitlines()[0].endswith("1 episode, all samples per update")


def test_the_cross_entropy_on_one_output_neuron_says_to_use_the_squared_error(capsys, tmp_path: Path) -> None:
    message = error_of(capsys, ["train", "--cost", "cross_entropy", "--episodes", "1", "--samples", "5",
                                "-o", str(tmp_path / "m.npz")])
    assert "needs several output neurons; use --cost squared_error" in message
    assert not (tmp_path / "m.npz").exists()


def test_an_interrupted_run_gets_no_advice(capsys, monkeypatch, tmp_path: Path) -> None:
    """η = 1e-300 changes nothing, which a finished run would be told; a run cut short by Ctrl-C is not."""
    from tinygrad_edu import training

    def interrupted_fit(*args, **kwargs):
        history = training.fit(*args, **kwargs)
        history.stopped = "interrupted"
        return history

    argv = ["train", "--optimizer", "gd", "--lr", "1e-300", "--episodes", "1", "--samples", "20", "--hidden", "3",
            "-o", str(tmp_path / "m.npz")]
    assert main(argv) == 0 and "try a larger learning rate" in capsys.readouterr().out
    monkeypatch.setattr(cli, "fit", interrupted_fit)
    assert main(argv) == 130
    out = capsys.readouterr().out
    assert "as it was when interrupted" in out and "learning rate" not in out.split("\n", 1)[1]


# --- predict ------------------------------------------------------------------------------------------------
def test_predict_with_several_inputs_and_outputs_prints_numpy_s_outputs_and_class(capsys, tmp_path: Path) -> None:
    path = tmp_path / "wide.npz"
    nn.MLP([5, 3, 4], activation="tanh", output_activation="identity", rng=1).save(path)
    numbers = np.arange(10) / 7 - 0.6
    assert main(["predict", str(path), "--", *map(str, numbers)]) == 0
    lines = capsys.readouterr().out.splitlines()
    arrays, activations = read_model(path)
    expected = numpy_forward(arrays, activations, numbers.reshape(2, 5))
    assert len(lines) == 2
    for line, sample, outputs in zip(lines, numbers.reshape(2, 5), expected):
        left, right = line.split(" → ")
        assert left == "[" + ", ".join(f"{v:g}" for v in sample[:4]) + ", …]"  # five inputs: the first four shown
        values, chosen = re.fullmatch(r"\[(.*)\]  class (\d)", right).groups()
        np.testing.assert_allclose([float(v) for v in values.split(", ")], outputs, rtol=1e-3)
        assert int(chosen) == int(np.argmax(outputs))


def test_predict_shows_four_inputs_without_an_ellipsis(capsys, tmp_path: Path) -> None:
    path = tmp_path / "four.npz"
    nn.MLP([4, 2], rng=0).save(path)
    assert main(["predict", str(path), "1", "2", "3", "4"]) == 0
    assert capsys.readouterr().out.startswith("[1, 2, 3, 4] → [")


def test_predict_refuses_an_inputs_file_over_the_size_limit(capsys, monkeypatch, tmp_path: Path) -> None:
    """The limit (64 MiB) is lowered here to keep the files small; at the limit the file is still read."""
    model = tmp_path / "m.npz"
    nn.MLP([1, 1], rng=0).save(model)
    monkeypatch.setattr(cli, "MAX_INPUTS_FILE_BYTES", 8)
    inputs = tmp_path / "inputs.txt"
    inputs.write_text("0.5 1.5\n", encoding="utf-8")  # 8 bytes
    assert main(["predict", str(model), "--inputs-file", str(inputs)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    inputs.write_text("0.5 1.25\n", encoding="utf-8")  # 9 bytes
    assert "is larger than" in error_of(capsys, ["predict", str(model), "--inputs-file", str(inputs)])


@pytest.mark.parametrize("inputs, text", [(["nan"], ""), (["0.5", "inf"], ""), ([], "0.5\n1e400\n"),
                                          (["--", "-inf"], "")])
def test_predict_refuses_inputs_that_are_not_finite(capsys, tmp_path: Path, inputs: list[str], text: str) -> None:
    model = tmp_path / "m.npz"
    nn.MLP([1, 1], rng=0).save(model)
    if text:
        (tmp_path / "inputs.txt").write_text(text, encoding="utf-8")
        inputs = ["--inputs-file", str(tmp_path / "inputs.txt")]
    message = error_of(capsys, ["predict", str(model), *inputs])
    if text:  # (a file's number is named with its line)
        assert message == (f"tinygrad-edu: error: predict: {str(tmp_path / 'inputs.txt')!r} line 2: '1e400' is not a "
                           "finite number (NaN, inf, or beyond float64's 1.8e308)\n")
    else:
        assert message == "tinygrad-edu: error: predict: the inputs hold NaN or inf\n"


def test_predict_counts_the_samples_that_overflowed(capsys, tmp_path: Path) -> None:
    """One sample of three overflows (2·1e308 is inf in float64): the warning says 1 sample, not all of them."""
    doubling = nn.MLP([1, 1], activation="identity", output_activation="identity", rng=0)
    doubling.layers[0].weights.data[...] = 2.0
    doubling.layers[0].biases.data[...] = 0.0
    doubling.save(tmp_path / "double.npz")
    assert main(["predict", str(tmp_path / "double.npz"), "1", "1e308", "2"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["1 → 2", "1e+308 → inf", "2 → 4"]
    assert captured.err.startswith("tinygrad-edu: warning: predict: 1 sample gave NaN or inf")


def test_warnings_before_a_ctrl_c_are_still_shown(capsys, monkeypatch, tmp_path: Path) -> None:
    """main shows the warnings of a run that ends with any status but a divergence error (1), so also after
    Ctrl-C (130): here the demo's first training run warns, then is interrupted."""
    import warnings

    from tinygrad_edu import training

    def fit(*args, **kwargs):
        history = training.fit(*args, **kwargs)
        warnings.warn("a warning of the first run", UserWarning, stacklevel=1)
        history.stopped = "interrupted"
        return history

    monkeypatch.setattr(demo, "fit", fit)
    assert main(["demo", "--quick", "-o", str(tmp_path)]) == 130
    err = capsys.readouterr().err.splitlines()
    assert "tinygrad-edu: warning: a warning of the first run" in err
    assert any(line.startswith("tinygrad-edu: interrupted during random search") for line in err)


# --- the demonstration --------------------------------------------------------------------------------------
def table_rows(text: str) -> dict[str, list[str]]:
    """The rows of a Markdown table (cells stripped), by the first cell."""
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in text.splitlines()
            if line.startswith("| ")]
    return {row[0]: row[1:] for row in rows}


def test_quick_demo_table_and_saved_model_agree_with_numpy(capsys, tmp_path: Path) -> None:
    """The saved model is the 1-12-12-1 run with the lowest cost; its row of results.md states its cost on the
    1000 samples and its outputs at the seed's test inputs, as numpy computes them from the file."""
    stream = io.StringIO()
    assert demo.run_demo(tmp_path, seed=1, quick=True, stream=stream) == 0
    assert capsys.readouterr().out == ""  # all of it went to the stream given
    printed = stream.getvalue()
    # (its gradient descent, as a rule, reaches the goal's cost but not its outputs: the goals, not their costs)
    assert "Goals (a quick run's fifth of the episodes is, as a rule, too few to meet them):" in printed
    rows = table_rows((tmp_path / "results.md").read_text(encoding="utf-8"))
    assert rows["method"][2:6] == ["f(0.1) → 0.01", "f(0.5) → 0.25", "f(-1) → 1", "f(0.01) → 0.0001"]
    assert table_rows(printed) == rows
    first_order = {name: rows[name] for name in ("random search", "gradient descent", "Armijo")}
    best = min(first_order, key=lambda name: float(first_order[name][1]))
    arrays, activations = read_model(tmp_path / "model.npz")
    assert arrays["layers.1.weights"].shape == (1, 12) and arrays["layers.2.weights"].shape == (12, 12)
    x, y = xsquared(1000, seed=1)
    cost = np.mean((numpy_forward(arrays, activations, x) - y) ** 2)
    assert float(rows[best][1]) == pytest.approx(cost, rel=6e-3)  # printed with 3 digits
    np.testing.assert_allclose([float(v) for v in rows[best][2:6]],
                               numpy_forward(arrays, activations, SEED_INPUTS)[:, 0], atol=6e-5)
    # the first goal's numbers are those of a row of the table
    detail = re.search(r"within 0.02 of x²: (.+): cost (\S+) after (\d+) episodes, largest \|output − x²\| = (\S+)",
                       printed)
    name, shown_cost, episodes, largest = detail.groups()
    assert rows[name][0] == episodes and float(shown_cost) == pytest.approx(float(rows[name][1]), rel=6e-3)
    errors = [float(v) for v in rows[name][2:6]] - np.array([0.01, 0.25, 1.0, 0.0001])
    assert float(largest) == pytest.approx(np.abs(errors).max(), abs=2e-4)


def test_run_demo_into_a_file_says_it_is_a_file_and_trains_nothing(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x", encoding="utf-8")
    stream = io.StringIO()
    with pytest.raises(ValueError, match=r"^demo: the output folder .*plain is a file; choose another folder"):
        demo.run_demo(tmp_path / "plain", quick=True, stream=stream)
    assert stream.getvalue() == ""


def test_the_first_order_runs_start_from_the_seed_s_network(tmp_path: Path) -> None:
    """Armijo's first recorded cost is the cost of xsquared_network(seed) before any update (numpy's forward pass
    over its own arrays)."""
    (run,) = demo.compare_xsquared(samples=30, seed=5, quick=True, methods=["Armijo"])
    start = nn.MLP([1, 12, 12, 1], activation="leaky_relu", output_activation="identity", init="he", rng=5)
    x, y = xsquared(30, seed=5)
    expected = np.mean((numpy_forward(start.state_dict(), ["leaky_relu"] * 2 + ["identity"], x) - y) ** 2)
    assert run.history.cost[0] == pytest.approx(expected, rel=1e-12)


def test_chain_cost_is_the_squared_error_of_a_chain_of_sigmoid_neurons() -> None:
    """Section 6.3's network: α^l = σ(w^l α^(l−1) + b^l), one neuron per layer, each from its own seed;
    C = (α − x²)²."""
    x, layers, seed = 0.7, 3, 2
    alpha = x
    for i in range(layers):
        layer = nn.Layer(1, 1, "sigmoid", init="uniform", rng=seed + i)
        alpha = 1 / (1 + np.exp(-(alpha * layer.weights.data.item() + layer.biases.data.item())))
    cost = demo.chain_cost(layers, x=x, seed=seed)
    assert cost.item() == pytest.approx((alpha - x * x) ** 2, rel=1e-12)


# --- the goals and the table, from hand-made runs ------------------------------------------------------------
@pytest.mark.parametrize("episodes, final, error, met", [
    (50, 3e-4, 0.019, True),  # at the seed's limits: cost ≤ 3e-4 within 50 episodes, outputs within 0.02
    (51, 1e-5, 0.0, False),
    (50, 3.1e-4, 0.0, False),
    (50, 2e-4, 0.021, False),
    (10, 5e-3, 0.0, False),
    (10, 1e-5, 0.1, False),
])
def test_the_seed_s_goal_at_its_limits(episodes: int, final: float, error: float, met: bool) -> None:
    run = made_run("gradient descent", costs=[1.0] * episodes, final=final, largest_error=error)
    (goal,) = demo.check_goals([run])
    assert goal.text.startswith("a method reaches cost ≤ 0.0003 within 50 episodes") and goal.met is met


def test_the_newton_goal_needs_the_outputs_too() -> None:
    newton = made_run("Newton", costs=[1.0] * 20, final=1e-4, largest_error=0.05)
    newton_goal = [goal for goal in demo.check_goals([newton]) if "(Newton)" in goal.text]
    assert len(newton_goal) == 1 and not newton_goal[0].met
    assert "largest |output − x²| = 0.0500" in newton_goal[0].detail


def test_the_goal_names_a_run_that_met_it_rather_than_a_cheaper_one_that_did_not() -> None:
    cheaper = made_run("random search", costs=[1.0] * 10, final=1e-5, largest_error=0.5)
    reaching = made_run("gradient descent", costs=[1.0] * 10, final=2e-4, largest_error=0.01)
    goal = demo.check_goals([cheaper, reaching])[0]
    assert goal.met and goal.detail.startswith("gradient descent: cost 2.00e-04 after 10 episodes")
    # when none meets it, the detail shows the short run with the lowest cost
    costly = made_run("Armijo", costs=[1.0] * 10, final=5e-2)
    goal = demo.check_goals([costly, cheaper])[0]
    assert not goal.met and goal.detail.startswith("random search: cost 1.00e-05")


def test_a_run_without_a_final_cost_meets_no_goal() -> None:
    """A history with no final cost (None) is an unknown cost: NaN, never a cost that meets the goal."""
    run = made_run("Newton", costs=[1.0] * 5, final=None)
    assert np.isnan(run.final_cost)
    assert not any(goal.met for goal in demo.check_goals([run]))
    assert table_rows(demo.format_table([run]))["Newton"][1] == "nan"


@pytest.mark.parametrize("costs, final, met, detail", [
    ([1.0, 1.0, 0.5], 0.5, True, "3 episodes, cost 1 → 5.00e-01, never rising"),  # a flat step is no rise
    ([1.0, 0.5], 0.625, False, "2 episodes, largest rise 1.25e-01"),  # the rise after the last episode counts
    ([1.0, 1.5, 0.5], 0.25, False, "3 episodes, largest rise 5.00e-01"),
])
def test_armijo_s_goal_reads_every_rise_including_the_last(costs: list[float], final: float, met: bool,
                                                            detail: str) -> None:
    goal = [goal for goal in demo.check_goals([made_run("Armijo", costs=costs, final=final)])
            if goal.text.startswith("Armijo")][0]
    assert (goal.met, goal.detail) == (met, detail)


@pytest.mark.parametrize("seconds, met", [(9.9, True), (10.0, False), (30.0, False)])
def test_the_time_goal_is_under_ten_seconds(seconds: float, met: bool) -> None:
    goal = demo.check_goals([made_run("Armijo", costs=[1.0], final=0.5)], seconds)[-1]
    assert goal.text == "the whole demo runs in under 10 s" and goal.met is met


def test_format_table_states_each_run_s_numbers() -> None:
    run = made_run("Armijo", costs=[1.0] * 7, final=1.234e-4, largest_error=0.002)
    rows = table_rows(demo.format_table([run]))
    assert rows["Armijo"] == ["7", "1.23e-04", "0.0120", "0.2500", "1.0000", "0.0001", "0.50 s"]
    assert rows["method"][2:6] == ["f(0.1) → 0.01", "f(0.5) → 0.25", "f(-1) → 1", "f(0.01) → 0.0001"]
    lines = demo.format_table([run]).splitlines()
    assert len(lines[0]) == len(lines[1]) == len(lines[2]) and set(lines[1]) == {"|", "-"}


# --- sweep of bad input and misuse: the command line ------------------------------------------------------------
def test_predict_refuses_an_inputs_file_whose_lines_do_not_hold_whole_samples(capsys, tmp_path: Path) -> None:
    """Lines of 3 numbers for a 2-input model were read as the samples [1, 2], [3, 4], [5, 6] without a word: a
    model and data of different widths.  Whole samples per line, or one sample over several lines, still work."""
    model = tmp_path / "two.npz"
    nn.MLP([2, 3, 1], activation="tanh", output_activation="identity", rng=0).save(model)
    rows = tmp_path / "rows.txt"
    rows.write_text("1 2 3\n4 5 6\n", encoding="utf-8")
    message = error_of(capsys, ["predict", str(model), "--inputs-file", str(rows)])
    assert "line 1 holds 3 numbers, which do not make whole samples of the model's 2 inputs" in message
    (tmp_path / "ok.txt").write_text("1 2\n3 4 5 6\n7 8\n", encoding="utf-8")
    assert main(["predict", str(model), "--inputs-file", str(tmp_path / "ok.txt")]) == 0
    printed = [float(line.split(" → ")[1]) for line in capsys.readouterr().out.splitlines()]
    arrays, activations = read_model(model)
    np.testing.assert_allclose(printed, numpy_forward(arrays, activations, [[1, 2], [3, 4], [5, 6], [7, 8]])[:, 0],
                               rtol=1e-5)
    # the command line's numbers come first: "9" there shifts the file's, and its line 1 would end mid-sample
    (tmp_path / "shifted.txt").write_text("1 2\n3 4 5\n", encoding="utf-8")
    assert "line 1 holds 2 numbers after the 1 number on the command line, which do not make whole samples" in \
        error_of(capsys, ["predict", str(model), "9", "--inputs-file", str(tmp_path / "shifted.txt")])


def test_predict_takes_a_sample_written_over_several_lines(capsys, tmp_path: Path) -> None:
    """A digit's 64 pixels as 8 lines of 8 (as the image is laid out) is one sample: no line ends one sample and
    starts another."""
    model = tmp_path / "digits.npz"
    nn.MLP([64, 4, 10], rng=1).save(model)
    pixels = np.arange(64).reshape(8, 8) / 64
    (tmp_path / "digit.txt").write_text("\n".join(" ".join(map(str, row)) for row in pixels), encoding="utf-8")
    assert main(["predict", str(model), "--inputs-file", str(tmp_path / "digit.txt")]) == 0
    values = re.search(r"→ \[(.*)\]", capsys.readouterr().out).group(1)
    arrays, activations = read_model(model)
    np.testing.assert_allclose([float(v) for v in values.split(", ")],
                               numpy_forward(arrays, activations, pixels.reshape(1, 64))[0], rtol=1e-3)


def test_predict_evaluates_the_samples_a_part_at_a_time(capsys, monkeypatch, tmp_path: Path) -> None:
    """All of a 20 MB inputs file at once through the default 1-12-12-1 network made arrays of 5,000,000 × 12
    numbers, a MemoryError traceback under a 1.5 GB limit.  The part size is lowered here to 24 numbers: 2 samples
    through a layer of 12."""
    model = tmp_path / "m.npz"
    nn.MLP([1, 12, 1], activation="tanh", output_activation="identity", rng=2).save(model)
    monkeypatch.setattr(cli, "_PREDICT_PART_SIZE", 24, raising=False)
    batches = []
    forward = nn.Network.forward

    def recording(self, data):
        batches.append(len(data))
        return forward(self, data)

    monkeypatch.setattr(nn.Network, "forward", recording)
    numbers = [-1.0, -0.5, 0.0, 0.25, 0.75]
    assert main(["predict", str(model), "--", *map(str, numbers)]) == 0
    assert batches == [2, 2, 1]
    printed = [float(line.split(" → ")[1]) for line in capsys.readouterr().out.splitlines()]
    arrays, activations = read_model(model)
    np.testing.assert_allclose(printed, numpy_forward(arrays, activations, np.c_[numbers])[:, 0], rtol=1e-5)


def test_predict_into_a_pipe_whose_reader_has_gone_ends_quietly(capsys, monkeypatch, tmp_path: Path) -> None:
    """``predict m.npz ... | head -1``: the next line's write fails with EPIPE, which ended in "tinygrad-edu: error:
    [Errno 32] Broken pipe" and status 2; shell tools end quietly, status 141 (128 + SIGPIPE)."""
    class GonePipe(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    model = tmp_path / "m.npz"
    nn.MLP([1, 1], rng=0).save(model)
    monkeypatch.setattr(sys, "stdout", GonePipe())
    assert main(["predict", str(model), "0.5", "1.5"]) == 141
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("argv, hint", [
    (["train", "--epochs", "5"], "; for --epochs, write --episodes"),  # PyTorch's example scripts
    (["train", "--batch_size=5"], "; for --batch_size, write --batch-size"),
    (["predict", "m.npz", "--inputs_file", "f.txt"], "; for --inputs_file, write --inputs-file"),
])
def test_other_scripts_option_names_say_which_option_is_meant(capsys, argv: list[str], hint: str) -> None:
    message = error_of(capsys, argv)
    assert message.startswith(f"tinygrad-edu {argv[0]}: error: unrecognized arguments: ") and hint in message


def test_hidden_given_twice_is_an_argument_error(capsys, tmp_path: Path) -> None:
    """--hidden 4 --hidden 8 (click's multiple=True idiom for two layers) trained a 1-8-1 network without a word."""
    message = error_of(capsys, ["train", "--hidden", "4", "--hidden", "8", "-o", str(tmp_path / "m.npz")])
    assert "argument --hidden: given twice ([4] and [8]); give all the layer sizes after one --hidden" in message
    assert not (tmp_path / "m.npz").exists()


def test_the_quick_demo_s_texts_do_not_say_its_goals_are_out_of_reach(capsys) -> None:
    """Seed 11's quick gradient descent meets the first goal (cost 6e-5 after 10 episodes, outputs within 0.02),
    and Armijo's "never increases the cost" holds in every run: "the goals are then out of reach" and "a quick run
    has too few episodes to meet them" were false.  Likewise "predict: a model saved by Module.save": a Module
    without named activations stores no architecture, and predict cannot rebuild it."""
    (run,) = demo.compare_xsquared(seed=11, quick=True, methods=["gradient descent"])
    assert demo.check_goals([run])[0].met
    assert main(["demo", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert ("--quick a fifth of the episodes, for a fast look (as a rule too few to meet the goals: gradient descent "
            "reaches the cost, not the outputs)") in help_text  # (seed 0: cost 5e-5, an output 0.03 off)
    assert main(["predict", "--help"]) == 0
    assert "Module.save" not in capsys.readouterr().out


# --- sweep of bad input and misuse: the demonstration's functions -------------------------------------------------
def test_run_takes_a_model_s_column_of_outputs_and_keeps_a_copy() -> None:
    """model(x).data is a (4, 1) column: it was compared with the four targets by broadcasting (4 × 4 differences),
    so exact outputs were said to miss by 0.9999 and the goal was not met; format_table failed on it."""
    column = np.square(demo.TEST_INPUTS).reshape(4, 1)
    run = demo.Run("mine", "by hand", demo.xsquared_network(0), History(cost=[1.0] * 5, final_cost=1e-4), column, 1.0)
    column[:] = 5.0  # the caller's array, changed afterwards
    np.testing.assert_array_equal(run.errors, np.zeros(4))
    goal = demo.check_goals([run])[0]
    assert goal.met and goal.detail.endswith("largest |output − x²| = 0.0000")
    assert table_rows(demo.format_table([run]))["mine"][2:6] == ["0.0100", "0.2500", "1.0000", "0.0001"]
    with pytest.raises(ValueError, match=r"^Run: outputs must be the model's 4 outputs at TEST_INPUTS.*\(3,\)"):
        demo.Run("mine", "by hand", demo.xsquared_network(0), History(), np.zeros(3), 1.0)


@pytest.mark.parametrize("costs, final, detail", [
    ([1.0, 0.5, float("nan")], 0.4, "3 episodes, the cost became NaN"),  # max() passed over the NaN rise
    ([1.0, 0.5], float("nan"), "2 episodes, the cost became NaN"),
    ([], None, "0 episodes: no cost was recorded, so there is nothing to judge"),  # Ctrl-C twice: IndexError
])
def test_armijo_s_goal_is_not_met_by_a_nan_or_an_empty_history(costs: list[float], final: float,
                                                                 detail: str) -> None:
    goal = [goal for goal in demo.check_goals([made_run("Armijo", costs=costs, final=final)])
            if goal.text.startswith("Armijo")][0]
    assert (goal.met, goal.detail) == (False, detail)


def test_the_goal_detail_passes_over_a_run_whose_cost_is_nan() -> None:
    """min() kept a NaN cost that came first: the detail showed "random search: cost nan" beside a run of 1e-3."""
    diverged = made_run("random search", costs=[1.0] * 10, final=float("nan"))
    finite = made_run("Armijo", costs=[1.0] * 10, final=1e-3)
    assert demo.check_goals([diverged, finite])[0].detail.startswith("Armijo: cost 1.00e-03")


def test_run_demo_refuses_a_stream_it_cannot_print_to_before_making_anything(tmp_path: Path) -> None:
    """A writer without flush ended in AttributeError, a binary stream in "a bytes-like object is required", a
    closed one in "I/O operation on closed file", none naming run_demo, and each after making the folder."""
    class WriteOnly:
        def write(self, text):
            return len(text)

    closed = io.StringIO()
    closed.close()
    for stream, error in ((WriteOnly(), TypeError), (io.BytesIO(), TypeError), (closed, ValueError)):
        with pytest.raises(error, match=r"^run_demo: stream "):
            demo.run_demo(tmp_path / "out", quick=True, stream=stream)
    assert not (tmp_path / "out").exists()


def test_an_empty_folder_name_or_a_file_is_refused_by_the_demo_s_writers(monkeypatch, tmp_path: Path) -> None:
    """run_demo("") (an unset variable) wrote the demo into the current folder, which the command line refuses;
    write_artefacts into a file said only "[Errno 17] File exists"."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=r"^run_demo: the folder name is empty; give '.' for the current folder"):
        demo.run_demo("", quick=True, stream=io.StringIO())
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "plain").write_text("x", encoding="utf-8")
    runs = [made_run("Armijo", costs=[1.0], final=0.5)]
    with pytest.raises(ValueError, match=r"^write_artefacts: the folder plain is a file; choose another folder"):
        demo.write_artefacts(runs, "plain")


def test_a_folder_name_with_a_nul_character_is_named_as_such(capsys, tmp_path: Path) -> None:
    """Path.exists says False for it, so the demo went on to mkdir and ended with "error: embedded null byte",
    naming neither the option nor the name."""
    message = error_of(capsys, ["demo", "--quick", "-o", "out\0put"])
    assert message.startswith("tinygrad-edu demo: error: argument -o/--output: the folder name 'out\\x00put' holds a "
                              "NUL character")
    with pytest.raises(ValueError, match=r"^run_demo: the folder name 'out\\x00put' holds a NUL character"):
        demo.run_demo("out\0put", quick=True, stream=io.StringIO())


def test_compare_xsquared_refuses_samples_whose_activations_pass_the_array_limit(monkeypatch) -> None:
    """The command line refuses them (train --samples); compare_xsquared took 10**8 samples on to arrays of
    1.2e9 numbers.  The limit is lowered here to 120: 10 samples through a layer of 12."""
    monkeypatch.setattr(demo, "MAX_ARRAY_SIZE", 120, raising=False)
    with pytest.raises(ValueError, match=r"^compare_xsquared: samples=11 through a layer of 12 neurons would make "
                                         r"arrays of 132 numbers; the limit is 120"):
        demo.compare_xsquared(samples=11, quick=True, methods=["Armijo"])
    assert demo.compare_xsquared(samples=10, quick=True, methods=["Armijo"])[0].episodes == 100
