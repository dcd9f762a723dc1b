"""The examples run as a user runs them (a subprocess), and what they print is checked independently."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from tinygrad_edu import nn
from tinygrad_edu.data import xsquared

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
    # the saved model (the run with the lowest cost) checked here, independently of the example's own numbers
    model = nn.load(tmp_path / "pictures" / "model.npz")
    x, y = xsquared(1000, seed=0)
    cost = float(np.mean((model(x).data - y) ** 2))
    assert np.isclose(cost, min(float(c) for _, _, c in rows), rtol=0.01)
    assert cost <= 3e-4
    tests = np.array([[0.1], [0.5], [-1.0], [0.01]])
    assert np.abs(model(tests).data - tests ** 2).max() <= 0.02


def test_digits_example_reaches_95_percent_and_draws_mistakes() -> None:
    out = run_example("digits.py")
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
