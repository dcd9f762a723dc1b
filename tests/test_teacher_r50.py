"""A teacher preparing two lessons from the seed after round 49: 6.1 and 6.2.1 (the school method, gradient descent
with Armijo steps, the stopping rule ‖∇f‖ = 0) and the x² demonstration at x = 0.1, 0.5, −1, 0.01.

Gaps (each test below failed before its fix):
- notebook 4 printed only φ(t) of each Armijo trial, not the right-hand side f(x⁰) − σt‖∇f(x⁰)‖² it is compared
  with, nor ∇f(x⁰): a student could not check by hand which trial passes and why;
- notebook 4 said only that the gradient "almost never becomes exactly 0" in floating point: it now runs the seed's
  rule (tol=0) and shows where and why the run stalls, and the gradient at the float next to the minimum;
- notebook 7 never applied the school method to the seed's own function x² at the seed's test inputs.

Cells run in this process from their committed source (matplotlib's Agg backend), their printed lines read back.
"""

from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

import matplotlib
import numpy as np

from tinygrad_edu import demo
from tinygrad_edu.optim import armijo_step

matplotlib.use("Agg")

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _cells(stem: str) -> list[tuple[str, str]]:
    book = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text("utf-8"))
    return [(cell["cell_type"], "".join(cell["source"])) for cell in book["cells"]]


def _code(stem: str, marker: str) -> str:
    return next(source for kind, source in _cells(stem) if kind == "code" and marker in source)


def _prose(stem: str) -> str:
    return " ".join(" ".join(source.split()) for kind, source in _cells(stem) if kind == "markdown")


def _run(sources: list[str]) -> tuple[dict, str]:
    """Run ``sources`` as cells of one kernel; the namespace and everything they printed."""
    printed: list[str] = []
    namespace: dict = {"print": lambda *args, **kwargs: printed.append(" ".join(map(str, args)))}
    try:
        for source in sources:
            exec(compile(source, "<cell>", "exec"), namespace)
    finally:
        import matplotlib.pyplot as plt
        plt.close("all")
    return namespace, "\n".join(printed)


def _valley(p) -> float:
    """Notebook 4's f, written again: (p₀ − 1)² + 10 (p₁ − p₀²)²."""
    return (p[0] - 1) ** 2 + 10 * (p[1] - p[0] ** 2) ** 2


def _valley_gradient(p0, p1):
    """∇f by hand: (2(p₀ − 1) − 40 p₀ (p₁ − p₀²), 20 (p₁ − p₀²))."""
    return 2 * (p0 - 1) - 40 * p0 * (p1 - p0 ** 2), 20 * (p1 - p0 ** 2)


ARMIJO_04 = "04_gradient_descent_and_armijo"
TRIAL = re.compile(r"^ +t = 2\^(-?\d+) +φ\(t\) = (\S+) +([≤>]) f\(x⁰\) − σt‖∇f\(x⁰\)‖² = (\S+) +(accepted|rejected)$",
                   re.MULTILINE)


def test_04_prints_each_armijo_trial_with_the_bound_it_is_compared_with_and_the_verdict() -> None:
    setup = next(source for kind, source in _cells(ARMIJO_04) if kind == "code")
    _, printed = _run([setup, _code(ARMIJO_04, "armijo_step")])
    grad = _valley_gradient(-1.2, 0.8)  # (−35.12, −12.8): ‖∇f‖² = 1397.2544
    gradient_line = re.search(r"∇f\(x⁰\) = \[(\S+), (\S+)\], ‖∇f\(x⁰\)‖² = (\S+)$", printed, re.MULTILINE)
    assert gradient_line, printed
    assert [float(v) for v in gradient_line.groups()] == [round(grad[0], 2), round(grad[1], 2),
                                                          round(grad[0] ** 2 + grad[1] ** 2, 2)]
    blocks = re.split(r"^σ = ", printed, flags=re.MULTILINE)[1:]
    assert [block.split(":")[0] for block in blocks] == ["0.0001", "0.25"]
    fx, squared = _valley((-1.2, 0.8)), grad[0] ** 2 + grad[1] ** 2
    for sigma, block in zip((1e-4, 0.25), blocks, strict=True):
        trials = TRIAL.findall(block)
        assert [int(row[0]) for row in trials] == list(range(0, -len(trials), -1)), block  # t = 1, 1/2, 1/4, …
        for exponent, phi, sign, bound, _ in trials:
            t = 2.0 ** int(exponent)
            assert float(phi) == float(f"{_valley((-1.2 - t * grad[0], 0.8 - t * grad[1])):.4g}")
            assert float(bound) == float(f"{fx - sigma * t * squared:.4g}")
            assert (sign == "≤") == (_valley((-1.2 - t * grad[0], 0.8 - t * grad[1])) <= fx - sigma * t * squared)
        verdicts = [row[4] for row in trials]
        assert verdicts == ["rejected"] * (len(trials) - 1) + ["accepted"] and trials[-1][2] == "≤"
        assert all(row[2] == ">" for row in trials[:-1])
    assert [len(TRIAL.findall(block)) for block in blocks] == [5, 8]  # accepted 2^-4 and 2^-7, as the prose says


def test_04_runs_the_seeds_stopping_rule_and_its_numbers_are_those_of_the_prose() -> None:
    code = [source for kind, source in _cells(ARMIJO_04) if kind == "code"]
    descent = _code(ARMIJO_04, "def armijo_descent")
    namespace, printed = _run([code[0], descent, _code(ARMIJO_04, "tol=0")])
    found = re.search(r"tol=0: not stopped after (\d+) more steps; x last moved at step (\d+) of them, to "
                      r"x − \(1, 1\) = \[(\S+) (\S+)\] × (\S+); since then ‖∇f‖ = (\S+), t = 2\^(-?\d+)$",
                      printed, re.MULTILINE)
    assert found, printed
    steps, moved, gaps_0, gaps_1, gap, norm, exponent = (float(v) for v in found.groups())
    assert steps == 2500 and 2000 <= moved <= 2200 and moved < steps  # "about 2,100 more steps"; then no move
    assert (gaps_0, gaps_1, gap) == (15.0, 30.0, 2.22e-16) and exponent == -43 and norm == 6.66e-15
    # the stall, checked at the point itself: x + t·d rounds to x and the bound to f(x), so the condition holds
    x, t = namespace["more_xs"][-1], namespace["more_ts"][-1]
    fx, gradient = namespace["value_and_gradient"](x)
    assert np.array_equal(x + t * -gradient, x) and fx + 1e-4 * t * gradient @ -gradient == fx > 0
    assert np.linalg.norm(gradient) > 0
    assert armijo_step(_valley, x, gradient, sigma=1e-4, alpha=0.5).step is None  # "refuses such a step"
    # the gradient at the float next to the minimum, against the closed form in exact arithmetic
    at = re.search(r"the float next to the minimum: ∇f = \((\S+), (\S+)\), ‖∇f‖ = (\S+)$", printed, re.MULTILINE)
    assert at, printed
    exact = _valley_gradient(Fraction(1 + np.spacing(1.0)), Fraction(1))
    assert [float(v) for v in at.groups()[:2]] == [float(f"{float(part):.2e}") for part in exact]
    assert float(at.group(3)) == float(f"{float(np.hypot(*map(float, exact))):.2e}") == 2.03e-14
    words = _prose(ARMIJO_04)
    for claim in ("the run never stops by itself", "about 2,100 more steps", "comes to 15 and 30 floating-point",
                  r"$\|\nabla f\| \approx 6.7 \cdot 10^{-15}$", "down to $2^{-43}$", r"about $2 \cdot 10^{-14}$"):
        assert claim in words, claim


def test_07_applies_the_school_method_to_x_squared_at_the_seeds_test_inputs() -> None:
    stem = "07_second_derivatives"
    setup = next(source for kind, source in _cells(stem) if kind == "code")
    _, printed = _run([setup, _code(stem, "square = lambda x: x ** 2")])
    rows = re.findall(r"^x = (\S+): f\(x\) = (\S+), f'\(x\) = 2x = (\S+), f''\(x\) = (\S+)$", printed, re.MULTILINE)
    assert [float(row[0]) for row in rows] == [*demo.TEST_INPUTS, 0.0]
    for x, value, slope, curvature in rows:
        x = float(x)
        assert float(value) == float(f"{x * x:g}") and float(slope) == 2 * x and float(curvature) == 2
    words = _prose(stem)
    assert "$x = 0.1, 0.5, -1, 0.01$" in words and "$f''(x) = 2 > 0$ everywhere, so $x = 0$ is its minimum" in words
