"""The examples run as a user runs them (a subprocess), and what they print is checked independently."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import nn
from tinygrad_edu.data import load_digits, train_test_split, xsquared

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, *args: str, cwd: Path | None = None) -> str:
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True,
                            timeout=300, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout


def array_after(label: str, text: str) -> np.ndarray:
    """The numbers inside the brackets that follow ``label`` (possibly over several lines)."""
    start = text.index(label) + len(label)
    body = text[text.index("[", start):]
    depth = 0
    for index, char in enumerate(body):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if depth == 0:
            return np.array([float(v) for v in re.findall(r"-?\d+\.\d+", body[:index])])
    raise AssertionError(f"no closing bracket after {label!r}")


def test_forward_propagation_loops_and_layer_agree_with_the_formula() -> None:
    out = run_example("forward_propagation.py")
    x = array_after("input α⁰ =", out)
    weights = array_after("neuron):", out).reshape(4, 3)
    biases = array_after("biases b =", out)
    by_loops = array_after("nested loops      α¹ =", out)
    by_layer = array_after("Layer.forward     α¹ =", out)
    # the seed's formula, computed here from the printed numbers: α¹_j = σ(Σ_k α⁰_k w_{k;j} + b_j)
    expected = 1 / (1 + np.exp(-(x @ weights + biases)))
    np.testing.assert_allclose(by_loops, expected, atol=2e-6)
    np.testing.assert_allclose(by_layer, expected, atol=2e-6)
    assert "-> they agree" in out
    assert "each row agrees with the loops" in out
    assert "DISAGREE" not in out


def test_xsquared_example_meets_the_goals(tmp_path: Path) -> None:
    out = run_example("xsquared.py", "--output", str(tmp_path / "pictures"))
    # the first two goals do not depend on the machine's speed
    assert re.search(r"^\[met\] a method reaches cost ≤ 0.0003 within 50 episodes", out, re.MULTILINE), out
    assert re.search(r"^\[met\] Armijo never increases the cost between episodes", out, re.MULTILINE), out
    rows = re.findall(r"^\| (random search|gradient descent|Armijo)\s+\| (\d+)\s+\| (\S+)", out, re.MULTILINE)
    assert [name for name, _, _ in rows] == ["random search", "gradient descent", "Armijo"]
    assert [int(episodes) for _, episodes, _ in rows] == [500, 50, 500]
    # "the first three start from the same weights": the full-batch runs' first costs agree, and the lower first
    # cost of gradient descent on batches is explained (it was printed as if it were the cost at the start)
    starts = dict(re.findall(r"^(random search|gradient descent|Armijo): \d+ episodes, cost (\S+) in episode 1 ", out,
                             re.MULTILINE))
    assert starts["random search"] == starts["Armijo"] and float(starts["gradient descent"]) < float(starts["Armijo"])
    assert "gradient descent on batches:\n there it is the mean of the episode's batch costs" in out
    # the saved model (the run with the lowest cost) checked here, independently of the example's own numbers
    model = nn.load(tmp_path / "pictures" / "model.npz")
    x, y = xsquared(1000, seed=0)
    cost = float(np.mean((model(x).data - y) ** 2))
    assert np.isclose(cost, min(float(c) for _, _, c in rows), rtol=0.01)
    assert cost <= 3e-4
    tests = np.array([[0.1], [0.5], [-1.0], [0.01]])
    assert np.abs(model(tests).data - tests ** 2).max() <= 0.02


def test_dependency_tree_example_multiplies_the_printed_factors_into_the_gradient(tmp_path: Path) -> None:
    out = run_example("dependency_tree.py", str(tmp_path / "pictures"))
    paths = re.findall(r"^∂C/∂(W[¹²³]): (.*)\n +product along the path = (\S+) +\.grad of (W[¹²³]) = (\S+)$", out,
                       re.MULTILINE)
    assert [name for name, *_ in paths] == ["W¹", "W²", "W³"] and "^" not in out, out  # the drawing's notation
    for name, factors, product, again, grad in paths:
        printed = [float(number) for number in re.findall(r"\((\S+)\)", factors)]
        assert again == name and np.isclose(np.prod(printed), float(grad), rtol=2e-3), (name, factors, grad)
        assert np.isclose(float(product), float(grad), rtol=1e-9)


def test_digits_example_reaches_95_percent_and_draws_mistakes() -> None:
    out = run_example("digits.py")
    # the cost before training, recomputed with numpy from the same start (it printed episode 1's batch mean,
    # 0.848 where the start is 3.07, as if it were the cost before training)
    start, end = map(float, re.search(r"cost C on all training images: (\S+) before training → (\S+) after",
                                      out).groups())
    train, _ = train_test_split(*load_digits(), test_fraction=0.25, seed=0, stratify=True)
    (w1, b1), (w2, b2) = [(layer.weights.data, layer.biases.data) for layer in
                          nn.MLP([64, 64, 10], activation="sigmoid", init="xavier", rng=0).layers]
    sigmoid = lambda z: 1 / (1 + np.exp(-z))
    outputs = sigmoid(sigmoid(train.inputs @ w1 + b1) @ w2 + b2)
    expected = np.mean(np.sum((outputs - np.eye(10)[train.labels]) ** 2, axis=1))  # seed's C, mean over samples
    assert np.isclose(start, expected, atol=5e-4) and end < start / 50
    accuracy = float(re.search(r"test accuracy: ([\d.]+)%", out).group(1))
    assert accuracy >= 95.0
    right, total = map(int, re.search(r"\((\d+) of (\d+) held-back", out).groups())
    assert total == 450 and abs(right / total * 100 - accuracy) < 0.06
    labels = re.findall(r"is (\d), seen as (\d)", out)
    assert labels and all(a != b for a, b in labels)
    art = out.split("misclassified digits:\n")[1].splitlines()[1:9]
    assert len(art) == 8 and all(len(line) == len(labels) * 16 + (len(labels) - 1) * 3 for line in art)


def test_digits_example_rejects_bad_counts() -> None:
    for args, option in ((["--episodes", "0"], "--episodes"), (["--show", "-1"], "--show")):
        result = subprocess.run([sys.executable, str(EXAMPLES / "digits.py"), *args], capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 2 and option in result.stderr and "Traceback" not in result.stderr


ROOT = EXAMPLES.parent
BAD_ARGUMENTS = [  # (script, arguments, what the one-line error must name); "FILE" is an existing file
    ("examples/dependency_tree.py", ["--bogus"], "--bogus"),
    ("examples/dependency_tree.py", ["a", "b"], "unrecognized arguments: b"),
    ("examples/dependency_tree.py", ["FILE"], "argument folder"),
    ("scripts/make_readme_figures.py", ["FILE"], "argument folder"),
    ("examples/xsquared.py", ["--seed", "-1"], "argument --seed"),
    ("examples/xsquared.py", ["--output", "FILE"], "argument --output"),
    ("examples/second_derivative.py", ["--output", "FILE"], "argument --output"),
    ("examples/second_derivative.py", ["--output", "FILE/pictures"], "argument --output"),
    ("benchmarks/bench_xsquared_seeds.py", ["--first", "-1"], "argument --first"),
    ("benchmarks/bench_xsquared_seeds.py", ["--methods", "Bogus"], "argument --methods"),
    ("benchmarks/bench_xsquared_seeds.py", ["--count", "0"], "argument --count"),
    ("benchmarks/bench_second_order.py", ["--rounds", "0"], "argument --rounds"),
]


def run_script(script: str, args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """``script`` run from ``cwd`` (a scratch folder) with this checkout's package; a minute at most."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, str(ROOT / script), *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd, env=env)


@pytest.mark.parametrize("script, args, named", BAD_ARGUMENTS)
def test_scripts_reject_bad_arguments_in_one_line_before_any_work(tmp_path: Path, script: str, args: list[str],
                                                                    named: str) -> None:
    (tmp_path / "FILE").write_text("not a folder")
    result = run_script(script, args, tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""  # nothing computed or printed before the error
    *_, last = result.stderr.splitlines()
    assert last.startswith(f"{Path(script).name}: error: ") and named in last, result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["FILE"] and (tmp_path / "FILE").is_file()


@pytest.mark.parametrize("script", ["examples/dependency_tree.py", "scripts/make_readme_figures.py"])
def test_folder_scripts_show_help_without_doing_the_work(tmp_path: Path, script: str) -> None:
    result = run_script(script, ["--help"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: {Path(script).name} [-h] [folder]") and "folder" in result.stdout
    assert "wrote" not in result.stdout and "cost C" not in result.stdout
    assert list(tmp_path.iterdir()) == []  # no folder named --help, no pictures


@pytest.mark.parametrize("script", sorted(path.name for path in EXAMPLES.glob("*.py")))
def test_every_example_explains_itself_with_help_and_refuses_unknown_options(tmp_path: Path, script: str) -> None:
    shown = run_script(f"examples/{script}", ["--help"], tmp_path)
    assert shown.returncode == 0 and shown.stdout.startswith(f"usage: {script} [-h]"), shown.stdout[:300]
    description = shown.stdout.split("\n\n")[1]
    assert description.rstrip().endswith("."), description  # a whole sentence, not a docstring's first line cut
    assert list(tmp_path.iterdir()) == []  # --help did none of the work
    refused = run_script(f"examples/{script}", ["--bogus"], tmp_path)
    assert refused.returncode == 2 and refused.stdout == "", refused.stdout[:300]
    assert refused.stderr.splitlines()[-1] == f"{script}: error: unrecognized arguments: --bogus"


def test_digits_example_draws_many_mistakes_in_rows_a_terminal_can_show() -> None:
    out = run_example("digits.py", "--show", "12")
    assert len(re.findall(r"is \d, seen as \d", out)) == 12  # every one asked for is drawn
    assert max(len(line) for line in out.splitlines()) <= 100, out


def test_second_derivative_pictures_name_the_function_they_differentiate(tmp_path: Path, monkeypatch) -> None:
    import runpy

    from tinygrad_edu import plots

    titles = []
    draw = plots.plot_derivatives

    def recording(*args, **kwargs):
        figure = draw(*args, **kwargs)
        titles.append(figure.axes[0].get_title())
        return figure

    monkeypatch.setattr(plots, "plot_derivatives", recording)
    monkeypatch.setattr(plots, "plot_stationary_points", lambda *args, **kwargs: None)  # not this test's picture
    runpy.run_path(str(EXAMPLES / "second_derivative.py"))["pictures"]([], tmp_path)
    assert len(titles) == 2 and "tanh" in titles[0] and "x³ − 3x" in titles[1], titles
