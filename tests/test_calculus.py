"""The school method of seed 6.1 (calculus.stationary_point), its pictures and its example; the drawing of a
derivative's own graph."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value, viz
from tinygrad_edu.autodiff import grad, hessian
from tinygrad_edu.calculus import KINDS, classify_stationary_point, stationary_point

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "second_derivative.py"


def surface(p):
    """w³ − 3w + b³ − 3b: minimum (1, 1), maximum (−1, −1), saddles (1, −1) and (−1, 1)."""
    return p[0] ** 3 - 3 * p[0] + p[1] ** 3 - 3 * p[1]


@pytest.mark.parametrize("start, point, kind", [
    ((0.6, 1.7), (1, 1), "minimum"), ((-0.5, -1.8), (-1, -1), "maximum"),
    ((1.4, -0.3), (1, -1), "saddle"), ((-1.6, 0.5), (-1, 1), "saddle"),
])
def test_newton_finds_each_kind_of_stationary_point(start, point, kind) -> None:
    found = stationary_point(surface, start)
    assert found.converged and found.kind == kind
    np.testing.assert_allclose(found.point, point, atol=1e-12)
    assert found.gradient_norm <= 1e-10
    np.testing.assert_allclose(sorted(found.eigenvalues), sorted([6.0 * point[0], 6.0 * point[1]]), atol=1e-9)
    assert found.path[0].tolist() == list(start) and len(found.path) == found.iterations + 1
    assert found.value == pytest.approx(point[0] ** 3 - 3 * point[0] + point[1] ** 3 - 3 * point[1])


def test_a_quadratic_takes_one_newton_step() -> None:
    found = stationary_point(lambda p: (p[0] - 2.0) ** 2 + 3.0 * (p[1] + 1.0) ** 2 + p[0] * p[1], [10.0, 10.0])
    assert found.iterations == 1 and found.kind == "minimum"
    np.testing.assert_allclose(found.point, np.linalg.solve([[2.0, 1.0], [1.0, 6.0]], [4.0, -6.0]), atol=1e-12)


@pytest.mark.parametrize("f, kind", [(lambda x: x ** 4, "inconclusive"), (lambda x: x ** 3, "inconclusive"),
                                     (lambda x: x * x, "minimum"), (lambda x: -(x * x), "maximum")])
def test_flat_second_derivatives_are_inconclusive(f, kind) -> None:
    assert stationary_point(f, 0.0).kind == kind


#: Functions whose only stationary point is 0, what the second-derivative test says there, and how many variables.
AT_ZERO = {
    "x²": (lambda x: x * x, "minimum", 1), "−x²": (lambda x: -(x * x), "maximum", 1),
    "x³": (lambda x: x ** 3, "inconclusive", 1), "x⁴": (lambda x: x ** 4, "inconclusive", 1),
    "−x⁴": (lambda x: -(x ** 4), "inconclusive", 1), "1000·x³": (lambda x: 1000.0 * x ** 3, "inconclusive", 1),
    "1e-6·x³": (lambda x: 1e-6 * x ** 3, "inconclusive", 1), "1e9·x⁴": (lambda x: 1e9 * x ** 4, "inconclusive", 1),
    "1e-3·x²": (lambda x: 1e-3 * x * x, "minimum", 1), "1e-9·x²": (lambda x: 1e-9 * x * x, "minimum", 1),
    "x² − y²": (lambda p: p[0] ** 2 - p[1] ** 2, "saddle", 2),
    "w³ + b²": (lambda p: p[0] ** 3 + p[1] ** 2, "inconclusive", 2),
    "x² − y² + z³": (lambda p: p[0] ** 2 - p[1] ** 2 + p[2] ** 3, "saddle", 3),
}


@pytest.mark.parametrize("name", AT_ZERO)
@pytest.mark.parametrize("start", [-3.0, -0.5, -1e-7, 1e-7, 0.5, 1.0])
def test_the_kind_is_right_from_any_start_at_any_scale(name, start) -> None:
    """Near a degenerate point Newton stops where the eigenvalue that tends to 0 is still small but not tiny
    (2e-5 for x³ from 1, 1000 times more for 1000·x³): no fixed threshold can tell it from a true curvature."""
    f, kind, n = AT_ZERO[name]
    found = stationary_point(f, start if n == 1 else [start, -2 * start, 0.5 * start][:n])
    assert found.converged and found.kind == kind
    np.testing.assert_allclose(found.point, 0.0, atol=1e-2)


def test_the_readme_surface_from_many_starts_against_the_closed_form() -> None:
    """C = w³ − 3w + b³ − 3b: ∇C = 0 at w, b = ±1, H = diag(6w, 6b): a minimum at (1, 1), a maximum at
    (−1, −1), saddles where the signs differ."""
    kinds = {(1, 1): "minimum", (-1, -1): "maximum", (1, -1): "saddle", (-1, 1): "saddle"}
    seen = set()
    for start in np.random.default_rng(0).uniform(-3.0, 3.0, size=(300, 2)):
        found = stationary_point(surface, start)
        corner = tuple(int(v) for v in np.sign(found.point))
        assert found.converged and found.kind == kinds[corner], start
        np.testing.assert_allclose(found.point, corner, atol=1e-12)
        seen.add(corner)
    assert seen == set(kinds)


def test_a_run_that_does_not_converge_says_so() -> None:
    found = stationary_point(lambda x: F.softplus(x), 0.0, max_iterations=5)  # ∇ = σ(x) > 0 everywhere
    assert not found.converged and found.kind == "not converged" and found.iterations == 5


@pytest.mark.parametrize("f, start", [
    (lambda x: x.log(), -1.0), (lambda x: 1 / x, 0.0), (lambda x: (x * x).exp(), 30.0),  # NaN, inf, overflow
    (lambda x: x.exp(), 0.0),  # ∇ = eˣ dies out as x runs off to −∞, one Newton step of 1 at a time
    (lambda p: p[0].exp() + p[1] ** 2, [0.0, 1.0]),
])
def test_nan_inf_and_a_run_away_are_not_converged(f, start) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nor does numpy warn about the NaN: the result says it
        found = stationary_point(f, start)
    assert not found.converged and found.kind == "not converged"


def test_classification_tolerance_is_relative_to_the_largest_eigenvalue() -> None:
    assert classify_stationary_point([1e-9, 1e3]) == "inconclusive"
    assert classify_stationary_point([1e-2, 1e3], tol=1e-6) == "minimum"
    assert classify_stationary_point([-1.0, 0.0, 1.0]) == "saddle"
    assert classify_stationary_point([2e-9]) == "minimum" and classify_stationary_point([-2e-9, -1e-8]) == "maximum"
    assert set(KINDS) >= {"minimum", "maximum", "saddle", "inconclusive"}


def test_an_eigenvalue_still_shrinking_with_the_steps_counts_as_zero() -> None:
    """x³ + 2.5y²: 6x halves with each step, the other eigenvalue stays 5.  The two are compared smallest with
    smallest, so 5 lies outside 2·scale … 4·scale at every scale: an eigenvalue that passes another in one step
    cannot be told from two that swapped."""
    for scale in (1e-6, 1.0, 1e6):
        assert classify_stationary_point([2 * scale, 5.0], previous=[4 * scale, 5.0]) == "inconclusive"
        assert classify_stationary_point([-2 * scale], previous=[-4 * scale]) == "inconclusive"
        assert classify_stationary_point([2 * scale], previous=[2 * scale * (1 + 1e-6)]) == "minimum"  # settled
    assert classify_stationary_point([-3.0, 1e-5], previous=[-3.0, 2e-5]) == "inconclusive"
    assert classify_stationary_point([-3.0, -1e-5, 2.0], previous=[-3.0, -2e-5, 2.0]) == "saddle"


@pytest.mark.parametrize("f, kind", [
    (lambda p: 3.0 * p[0] ** 2 + p[1] ** 2, "minimum"),      # H = diag(6, 2)
    (lambda p: 2.0 * p[0] ** 2 - p[1] ** 2, "saddle"),       # H = diag(4, −2)
    (lambda p: -(p[0] ** 2) - 3.0 * p[1] ** 2, "maximum"),   # H = diag(−2, −6)
])
def test_eigenvalues_in_any_order_give_the_kind(f, kind) -> None:
    """np.linalg.eig does not sort.  Matched by position with the ascending eigvalsh of the same Hessian, each
    eigenvalue seemed to have changed by more than half in the step, so all counted as 0: 'inconclusive'."""
    matrix = hessian(f)([0.0, 0.0]).data
    unsorted, ascending = np.linalg.eig(matrix)[0], np.linalg.eigvalsh(matrix)
    assert not np.array_equal(unsorted, ascending)  # (else this test would test nothing)
    assert classify_stationary_point(ascending, previous=unsorted) == kind
    assert classify_stationary_point(unsorted, previous=ascending) == kind
    assert classify_stationary_point(unsorted, previous=unsorted[::-1]) == kind
    # and a halving eigenvalue is still seen, in any order: x³ + 1.5y² near 0
    assert classify_stationary_point([3.0, 1e-5], previous=[2e-5, 3.0]) == "inconclusive"


@pytest.mark.parametrize("previous", [None, [1.0, 2.0]])
def test_a_hessian_given_in_place_of_its_eigenvalues_is_refused_not_misread(previous) -> None:
    """diag(1, 2) is a minimum; read as the eigenvalues 1, 0, 0, 2 it looked 'inconclusive'."""
    hessian_matrix = np.array([[1.0, 0.0], [0.0, 2.0]])
    with pytest.raises(ValueError) as raised:
        classify_stationary_point(hessian_matrix, previous=previous)
    assert "classify_stationary_point: eigenvalues must be a vector" in str(raised.value)
    assert "(2, 2)" in str(raised.value) and "eigvalsh" in str(raised.value)
    with pytest.raises(ValueError, match="previous eigenvalues must be a vector"):
        classify_stationary_point([1.0, 2.0, 3.0, 4.0], previous=hessian_matrix)
    assert classify_stationary_point(np.linalg.eigvalsh(hessian_matrix)) == "minimum"
    assert classify_stationary_point(2.0) == "minimum"  # a single number: f of one variable


@pytest.mark.parametrize("call, error, words", [
    (lambda: stationary_point(3.0, [0.0]), TypeError, "stationary_point: f must be a function"),
    (lambda: stationary_point(surface, [[0.0, 1.0]]), ValueError, "stationary_point: start must be"),
    (lambda: stationary_point(surface, [np.nan, 1.0]), ValueError, "stationary_point: start must be"),
    (lambda: stationary_point(surface, [0.0, 1.0], max_iterations=-1), ValueError, "max_iterations"),
    (lambda: classify_stationary_point([]), ValueError, "classify_stationary_point: needs finite"),
    (lambda: stationary_point(surface, "ab"), TypeError, "stationary_point: start has dtype <U2 (str); give real"),
    (lambda: stationary_point(surface, ["1", "2"]), TypeError, "stationary_point: start has dtype <U1 (list)"),
    (lambda: stationary_point(surface, [True, False]), TypeError, "stationary_point: start has dtype bool (list)"),
    (lambda: stationary_point(surface, [[0.0], [0.0, 1.0]]), ValueError,
     "stationary_point: start is not a rectangular array (ragged nested lists?)"),
    (lambda: stationary_point(surface, [Value(0.0), Value(1.0)]), TypeError,
     "stationary_point: start must be real numbers, got list [Value"),
    (lambda: stationary_point(surface, [0.0, 1.0], max_iterations=5.0), TypeError, "max_iterations must be an int"),
    (lambda: stationary_point(surface, [0.0, 1.0], tol="a"), TypeError, "stationary_point: tol must be a number"),
    (lambda: stationary_point(surface, [0.0, 1.0], tol=-1), ValueError, "stationary_point: tol must be >= 0"),
    (lambda: stationary_point(surface, [0.0, 1.0], tol=np.nan), ValueError, "tol must be finite, got nan"),
    (lambda: stationary_point(surface, [0.0, 1.0], zero_tol=-1e-6), ValueError, "stationary_point: zero_tol must"),
    (lambda: classify_stationary_point([1.0], tol="a"), TypeError, "classify_stationary_point: tol must be a num"),
    (lambda: classify_stationary_point(["a"]), TypeError, "classify_stationary_point: eigenvalues has dtype <U1"),
    (lambda: classify_stationary_point([1.0], previous=True), TypeError,
     "classify_stationary_point: previous eigenvalues has dtype bool (bool); give real numbers"),
    (lambda: classify_stationary_point([1.0], previous=[1.0, 2.0]), ValueError, "classify_stationary_point: prev"),
    (lambda: stationary_point(lambda p: p * p, [1.0, 2.0]), ValueError,
     "stationary_point: f must return a single number (a cost), got a Value of shape (2,)"),
    (lambda: stationary_point(lambda p: None, [1.0, 2.0]), TypeError, "stationary_point: f must return a Value"),
])
def test_bad_input_is_a_named_error(call, error, words) -> None:
    with pytest.raises(error) as raised:
        call()
    assert words in str(raised.value)


def test_numpy_integers_are_iteration_counts() -> None:
    found = stationary_point(surface, [0.6, 1.7], max_iterations=np.int64(2))
    assert found.iterations == 2 and not found.converged


# --- pictures ----------------------------------------------------------------------------------------------------
def test_plot_derivatives_draws_the_engines_derivatives(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from tinygrad_edu import plots

    fig = plots.plot_derivatives(lambda x: x ** 3 - 3 * x, order=3, x_range=(-2.0, 2.0), path=tmp_path / "d.png")
    assert (tmp_path / "d.png").stat().st_size > 0
    axes = fig.get_axes()
    assert len(axes) == 4
    grid = axes[0].get_lines()[0].get_xdata()
    curves = [ax.get_lines()[0].get_ydata() for ax in axes]
    np.testing.assert_allclose(curves[1], 3 * grid ** 2 - 3, atol=1e-12)
    np.testing.assert_allclose(curves[2], 6 * grid, atol=1e-12)
    np.testing.assert_allclose(curves[3], 6.0, atol=1e-12)
    marks = {line.get_label(): (line.get_xdata()[0], line.get_ydata()[0]) for line in axes[0].get_lines()[1:]}
    assert marks["minimum (f′ = 0, f″ > 0)"][0] == pytest.approx(1.0, abs=0.01)
    assert marks["maximum (f′ = 0, f″ < 0)"][0] == pytest.approx(-1.0, abs=0.01)
    with pytest.raises(ValueError, match="plot_derivatives: order must be"):
        plots.plot_derivatives(F.tanh, order=0)
    with pytest.raises(ValueError, match="plot_derivatives: f must act element by element"):
        plots.plot_derivatives(lambda x: x.sum())
    with pytest.raises(TypeError, match=r"plot_derivatives: f must return a Value .* got ndarray \(401,\)"):
        plots.plot_derivatives(lambda x: np.sin(x.data))  # numbers, which the engine cannot differentiate


def test_plot_stationary_points_marks_each_kind(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from tinygrad_edu import plots

    found = [stationary_point(surface, s) for s in ((0.6, 1.7), (-0.5, -1.8), (1.4, -0.3), (-1.6, 0.5))]
    fig = plots.plot_stationary_points(surface, found, resolution=20, path=tmp_path / "s.png")
    ax = fig.get_axes()[0]
    labelled = {line.get_label(): (round(line.get_xdata()[0], 9), round(line.get_ydata()[0], 9))
                for line in ax.get_lines() if not line.get_label().startswith("_")}
    assert labelled["minimum"] == (1.0, 1.0) and labelled["maximum"] == (-1.0, -1.0)
    assert labelled["saddle"] in ((1.0, -1.0), (-1.0, 1.0))
    with pytest.raises(ValueError, match="plot_stationary_points: found holds no points"):
        plots.plot_stationary_points(surface, [])


def test_the_example_finds_and_names_the_four_points(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    root = str(EXAMPLE.parent.parent)  # this checkout's package, installed or not
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, str(EXAMPLE), "--output", str(tmp_path)], capture_output=True,
                            text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    kinds = sorted(line.split()[-2] for line in result.stdout.splitlines() if line.strip().startswith("("))
    assert kinds == ["maximum", "minimum", "saddle", "saddle"]
    assert "-> minimum" in result.stdout and "-> maximum" in result.stdout
    for name in ("stationary_points.png", "tanh_derivatives.png", "cubic_derivatives.png"):
        assert (tmp_path / name).stat().st_size > 1000


# --- the graph of a derivative -----------------------------------------------------------------------------------
def _operations(source: str) -> set[str]:
    return set(re.findall(r"label=\"?([a-z_]+)[\s\"(]", source))


def test_draw_graph_of_a_gradient_shows_the_graph_of_the_derivative() -> None:
    """d/dx σ(x³) = σ'(x³)·3x²: the drawing holds the operations of that formula, not of σ(x³) alone."""
    x = Value(2.0, label="x")
    slope = grad(lambda v: (v ** 3).sigmoid())(x)
    slope.label = "dy/dx"
    source = viz.draw_graph(slope).source
    assert "dy/dx" in source and "x" in source
    assert _operations(source) == {"pow", "sigmoid_slope", "mul", "reshape"}  # σ'(x³)·3x², not σ(x³) itself


def test_draw_graph_after_backward_with_create_graph() -> None:
    x = Value(2.0, label="x")
    (x ** 3).sigmoid().backward(create_graph=True)
    assert "sigmoid" in viz.draw_graph(x.grad).source


def test_a_stationary_point_reads_verdict_first_and_its_path_by_length() -> None:
    """In a notebook the result shows its kind first; the path of every Newton iterate is only counted."""
    found = stationary_point(lambda p: (p ** 4).sum(), [3.0, 2.0])
    text = repr(found)
    assert text.startswith("StationaryPoint(kind='inconclusive'")
    assert f"path=<{len(found.path)} points>" in text and len(found.path) > 10 and len(text) < 300


@pytest.mark.parametrize("scale", [1.0, 1e-6, 1e-10, 1e-20])
@pytest.mark.parametrize("start, point, kind", [(0.5, 1 / 3, "maximum"), (2.0, 1.0, "minimum")])
def test_a_cost_of_any_scale_gives_its_point_to_full_precision(scale, start, point, kind) -> None:
    """f = scale·((x − 1)² + (x − 1)³): f′ = scale·(x − 1)(3x − 1) is 0 at 1 (f″ = 2·scale > 0) and at 1/3
    (f″ = −2·scale).  Newton's steps do not depend on the scale, but ‖∇f‖ ≤ tol holds everywhere for a small one:
    the run stopped at the first step under 1e-3 and returned a point 1e-4 short (1.5e-8 at scale 1e-6)."""
    found = stationary_point(lambda x: scale * ((x - 1.0) ** 2 + (x - 1.0) ** 3), start)
    assert found.converged and found.kind == kind
    assert found.point[0] == pytest.approx(point, rel=1e-14, abs=1e-15)


@pytest.mark.parametrize("f, start", [
    (lambda w: (F.sigmoid(w) - 0.5) ** 2 + w * w, 1.0),
    (lambda p: (F.sigmoid(p[0]) - 0.5) ** 2 + p[0] ** 2 + p[1] ** 2 + p[0] * p[1], [1.0, -2.0]),
], ids=["1 weight", "2 weights"])
def test_a_point_at_zero_ends_the_run_where_the_steps_reach_rounding(f, start) -> None:
    """(σ(w) − ½)² + w² (+ b² + wb): ∇ = 0 at 0, where H = 2 + 2σ′(0)² = 2.125 (H = [[2.125, 1], [1, 2]]): a
    minimum.  Newton's steps shrink quadratically to |w| ≈ 1e-17, where σ(w) − ½ rounds to 0; each step after that
    only divided w by 17 (or 13), under a tenth of the one before, and the run went on to w ≈ 1e-75 and
    max_iterations (50 Hessians for a point found in 3 or 4)."""
    found = stationary_point(f, start)
    assert found.converged and found.kind == "minimum"
    assert found.iterations <= 5  # digits double with each step: 1 → 3e-2 → 8e-7 → 6e-18
    assert np.abs(found.point).max() <= 1e-15 and found.gradient_norm <= 1e-10
    np.testing.assert_allclose(sorted(found.eigenvalues),
                               [2.125] if found.point.size == 1 else np.linalg.eigvalsh([[2.125, 1.0], [1.0, 2.0]]),
                               rtol=1e-12)


@pytest.mark.parametrize("point, start", [(1e-3, 1e3), (1e-12, 10.0), (-2.5, 100.0)])
def test_a_point_near_zero_found_from_far_away_keeps_full_precision(point, start) -> None:
    """(x − c)² + (x − c)⁴ + tanh²(x − c): a minimum at c.  Newton's last steps are far below ε times the start,
    yet each still gains digits of a small c: the run must not stop at the scale of where it began."""
    found = stationary_point(lambda x: (x - point) ** 2 + (x - point) ** 4 + F.tanh(x - point) ** 2, start)
    assert found.converged and found.kind == "minimum"
    assert found.point[0] == pytest.approx(point, rel=1e-14)


@pytest.mark.parametrize("f, slope", [(lambda x: 2.0 * x + 1.0, 2.0), (lambda x: F.abs(x), 1.0)],
                         ids=["linear", "|x|"])
def test_a_step_that_changes_nothing_ends_the_run(f, slope) -> None:
    """A zero Hessian gives the least-squares step 0: x never moves, and the run used to repeat it max_iterations
    times (20,000 of them took 12 s), with as many copies of the start in its path."""
    found = stationary_point(f, 1.0, max_iterations=1000)
    assert not found.converged and found.kind == "not converged"
    assert found.iterations == 0 and found.path.tolist() == [[1.0]] and found.gradient_norm == slope


@pytest.mark.parametrize("f, start, norm", [
    (lambda p: (p * 1e300).sum(), [1.0, 1.0], np.sqrt(2.0) * 1e300),  # ∇ = (1e300, 1e300)
    (lambda x: x ** 2, 1e300, 2e300),                                  # f(x) = inf, ∇ = 2e300
])
def test_a_gradient_norm_beyond_the_square_root_of_the_largest_float_is_not_inf(f, start, norm) -> None:
    """np.linalg.norm squares first: ‖∇f‖ of 1.4e300 came out inf, with numpy's overflow warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        found = stationary_point(f, start)
    assert not found.converged and found.kind == "not converged"
    assert found.gradient_norm == pytest.approx(norm, rel=1e-12)


@pytest.mark.parametrize("f, words", [
    (lambda w, b: (w - 1.0) ** 2 + (b + 2.0) ** 2, "f(w, b) cannot take it (missing a required argument: 'b')"),
    (lambda w, *, c: (w - c) ** 2, "f(w, *, c) cannot take it (missing a required argument: 'c')"),
    (lambda: Value(1.0), "f() cannot take it (too many positional arguments)"),
], ids=["f(w, b)", "keyword-only", "no argument"])
def test_a_function_of_several_arguments_is_named_before_the_run(f, words) -> None:
    """JAX's grad takes f(w, b); stationary_point calls f with one Value, and the run failed inside with Python's
    bare "<lambda>() missing 1 required positional argument: 'b'", naming neither stationary_point nor a fix."""
    with pytest.raises(TypeError) as raised:
        stationary_point(f, [0.0, 0.0])
    assert str(raised.value).startswith("stationary_point: f is called with one Value, shaped like start")
    assert words in str(raised.value) and "lambda p: f(p[0], p[1])" in str(raised.value)
