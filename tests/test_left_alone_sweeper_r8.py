"""Items earlier passes noticed and left alone (round 8): the seed's cost with a number as its target, the logsumexp
advice written twice, two numerics test files' copied helpers, and the second-derivative test's flat eigenvalue
inside stationary_point.

Decided: a target of one number for a prediction of one number (the seed's 6.3 C = (α^L − y')², y' a number) is
taken in the prediction's shape by squared_error and mean_squared_error, and one class index for logits of one
sample, (1, k), by cross_entropy (as for logits (k,)); one number for several is refused, with the hint np.full.
stationary_point counts an eigenvalue as 0 only within its rounding, 100·n·ε·max|λ| (Newton's singular test is
n·ε): x³, x⁴ and valleys of minima stay inconclusive; classify_stationary_point keeps its documented 1e-6 for
eigenvalues of unknown provenance.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses, nn, viz, write_instead
from tinygrad_edu.calculus import classify_stationary_point, stationary_point

EPS = float(np.finfo(np.float64).eps)


def _message(read) -> str:
    with pytest.raises(AttributeError) as caught:
        read()
    return str(caught.value)


# --- (1) the seed's cost with a number as its target ----------------------------------------------------------------
@pytest.mark.parametrize("cost", [losses.squared_error, losses.mean_squared_error])
@pytest.mark.parametrize("shape, target", [
    pytest.param(shape, target, id=f"{shape}-{name}") for shape in [(1,), (1, 1), ()]
    for name, target in [("float", 0.25), ("np.float64", np.float64(0.25)), ("0-d array", np.array(0.25)),
                         ("(1,) array", np.array([0.25])), ("0-d Value", Value(0.25))]
    if np.shape(getattr(target, "data", target)) != shape])  # (shapes alike were accepted before)
def test_one_number_is_the_target_of_one_output(cost, shape, target) -> None:
    """C = (α − y')² and ∂C/∂α = 2(α − y'), closed forms, for α = 0.7 and y' = 0.25."""
    alpha = Value(np.full(shape, 0.7))
    c = cost(alpha, target)
    c.backward()
    assert float(c) == pytest.approx((0.7 - 0.25) ** 2, rel=1e-15)
    assert alpha.grad.shape == shape and float(np.asarray(alpha.grad).item()) == pytest.approx(2 * (0.7 - 0.25))


def test_the_seeds_chain_cost_with_a_number_target_draws_its_tree() -> None:
    net = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(3)])
    out = net(np.array([0.5]))
    c = losses.squared_error(out, 0.25)
    c.backward()
    assert float(c) == pytest.approx((float(out.data[0]) - 0.25) ** 2, rel=1e-15)
    assert "∂C/∂C = 1" in viz.draw_dependency_tree(c).source


@pytest.mark.parametrize("cost", [losses.squared_error, losses.mean_squared_error])
@pytest.mark.parametrize("shape", [(3,), (2, 1), (1, 4)])
def test_one_number_for_several_outputs_is_refused_with_the_fix(cost, shape) -> None:
    with pytest.raises(ValueError, match=rf"^{cost.__name__}: prediction has shape .* target has shape \(\); they "
                                         rf"must be equal \(.*{re.escape(f'np.full({shape}, y)')}") as caught:
        cost(Value(np.zeros(shape)), 0.25)
    hint = str(caught.value).split("np.full(", 1)[1].split(", y)")[0]
    following = cost(Value(np.zeros(shape)), np.full(eval(hint), 0.25))  # noqa: S307  (the hint's shape, followed)
    assert float(following) == pytest.approx(0.0625 * (shape[-1] if cost is losses.squared_error else 1))


@pytest.mark.parametrize("label", [2, np.int64(2), np.array(2), 2.0])
def test_cross_entropy_takes_one_label_for_one_sample(label) -> None:
    """−ln softmax(z)[2], its gradient softmax(z) − e₂: closed forms in numpy."""
    row = np.array([0.3, -1.0, 0.2])
    z = Value(row.reshape(1, 3))
    c = losses.cross_entropy(z, label)
    c.backward()
    p = np.exp(row - row.max()) / np.exp(row - row.max()).sum()
    assert float(c) == pytest.approx(-np.log(p[2]), rel=1e-14)
    np.testing.assert_allclose(z.grad, (p - np.eye(3)[2]).reshape(1, 3), rtol=1e-13, atol=1e-16)


def test_one_label_for_several_samples_is_still_refused_with_the_shapes_to_give() -> None:
    with pytest.raises(ValueError, match=r"^cross_entropy: labels of shape \(\) do not fit logits of shape \(2, 3\); "
                                         r"give class indices of shape \(2,\)"):
        losses.cross_entropy(Value(np.zeros((2, 3))), 2)


def test_a_one_number_target_keeps_its_graph_and_its_dtype() -> None:
    """A Value target of shape () (a soft target from another network) gets its gradient, −2(α − y'), and a float32
    prediction's cost stays float32 with a Python number as target."""
    y = Value(np.array(0.25))
    alpha = Value(np.array([0.7]))
    losses.squared_error(alpha, y).backward()
    assert y.grad is not None and float(np.asarray(y.grad)) == pytest.approx(-2 * (0.7 - 0.25))
    single = Value(np.array([[0.7]], dtype=np.float32))
    assert losses.squared_error(single, 0.25).dtype == np.float32


# --- (2) the logsumexp advice, one source -----------------------------------------------------------------------------
def test_the_logsumexp_advice_has_one_source() -> None:
    source = write_instead.LOGSUMEXP
    assert source.format(v="x", functional="F") in _message(lambda: F.logsumexp)
    assert source.format(v="v", functional="functional") in _message(lambda: Value(np.ones(3)).logsumexp)


@pytest.mark.parametrize("read, name, prefix", [(lambda: F.logsumexp, "x", "F"),
                                                (lambda: Value(np.ones(3)).logsumexp, "v", "functional")])
def test_the_logsumexp_advice_computes_log_sum_exp_and_names_log_softmax(read, name, prefix) -> None:
    """Both messages, evaluated as written (all of it and along axis 1), give ln Σ eˣ of a row whose plain eˣ
    overflows; the remark names log_softmax under the module name the caller uses."""
    message = _message(read)
    assert f"{name} minus it is {prefix}.log_softmax({name}, axis))" in message
    whole = message.split("; write ", 1)[1].split(", finite", 1)[0]
    along = message.split("along an axis, ", 1)[1].split(f" ({name} minus", 1)[0]
    rows = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 800.0]])
    exact = rows.max(1) + np.log(np.exp(rows - rows.max(1, keepdims=True)).sum(1))
    np.testing.assert_allclose(eval(along, {name: Value(rows), "axis": 1}).data, exact, rtol=1e-15)  # noqa: S307
    assert eval(whole, {name: Value(rows[1])}).item() == pytest.approx(exact[1], rel=1e-15)  # noqa: S307


# --- (3) the numerics tests' helpers, shared ----------------------------------------------------------------------
def test_the_numerics_helpers_are_defined_once() -> None:
    """Both numerics files take them from tests/helpers_numerics.py (no test module imports another) and define
    none of their own (read with ast: importing a test module runs it)."""
    names = {"derivatives", "sigma", "ulps", "compare_with_mpmath"}
    for test_file in ("test_numerical_extremes_r3.py", "test_numerics_mpmath.py"):
        tree = ast.parse((Path(__file__).parent / test_file).read_text(encoding="utf-8"))
        imported = {alias.name for node in tree.body if isinstance(node, ast.ImportFrom)
                    and node.module == "helpers_numerics" for alias in node.names}
        defined = {node.name.lstrip("_") for node in tree.body if isinstance(node, ast.FunctionDef)}
        assert imported == names and not defined & names, (test_file, imported, defined & names)


def test_the_shared_derivatives_helper_gives_f_and_two_derivatives() -> None:
    """(what both numerics files rely on) x³ at 0.5, −2: x³, 3x², 6x."""
    pytest.importorskip("mpmath")
    derivatives = importlib.import_module("helpers_numerics").derivatives
    x = np.array([0.5, -2.0])
    value, slope, curvature = derivatives(lambda v: v ** 3, x)
    np.testing.assert_allclose(value, x ** 3, rtol=1e-15)
    np.testing.assert_allclose(slope, 3 * x ** 2, rtol=1e-15)
    np.testing.assert_allclose(curvature, 6 * x, rtol=1e-15)


# --- (4) stationary_point's flat eigenvalue -----------------------------------------------------------------------
@pytest.mark.parametrize("scale", [1e6, 1e9, 1e12])
def test_an_ill_conditioned_minimum_is_a_minimum(scale) -> None:
    found = stationary_point(lambda p: scale * (p[0] - 0.1) ** 2 + (p[1] - 0.7) ** 2, [0.0, 0.0])
    np.testing.assert_allclose(found.point, [0.1, 0.7], rtol=1e-12)
    np.testing.assert_allclose(found.eigenvalues, [2.0, 2.0 * scale], rtol=1e-12)  # the Hessian diag(2·scale, 2)
    assert found.kind == "minimum"


def test_a_polynomial_fits_least_squares_minimum_is_a_minimum() -> None:
    x = np.linspace(0.0, 30.0, 20)
    design, y = x[:, None] ** np.arange(4), np.sin(x)
    found = stationary_point(lambda p: ((design @ p - y) ** 2).sum(), np.zeros(4))
    np.testing.assert_allclose(found.point, np.linalg.lstsq(design, y, rcond=None)[0], rtol=1e-6)
    np.testing.assert_allclose(found.eigenvalues, np.linalg.eigvalsh(2 * design.T @ design), rtol=1e-9)
    assert found.kind == "minimum"


@pytest.mark.parametrize("f, start", [
    (lambda p: p[0] ** 3, [0.5]), (lambda p: p[0] ** 4, [-2.0]), (lambda p: 1e-6 * p[0] ** 3, [1.0]),
    (lambda p: p[0] ** 3 + 1e8 * p[1] ** 2, [0.5, 0.3]), (lambda p: 1e8 * p[0] ** 4 + p[1] ** 2, [0.5, 0.3]),
    (lambda p: p[0] ** 4 - p[1] ** 2, [0.5, 0.3]), (lambda p: p[0] ** 5 + p[1] ** 2, [0.5, 0.3]),
    (lambda p: p[0] ** 4 + (p[1] - 1) ** 2, [0.0, 5.0]),  # (lands on the point: its eigenvalue exactly 0)
], ids=["x3", "x4", "1e-6x3", "x3+1e8y2", "1e8x4+y2", "x4-y2", "x5+y2", "x4 landed"])
def test_degenerate_points_stay_inconclusive(f, start) -> None:
    """f″ = 0 at 0: the eigenvalue Newton's creeping steps keep shrinking (or a computed 0) says so at any scale."""
    found = stationary_point(f, start)
    assert found.converged and found.kind == "inconclusive", found


@pytest.mark.parametrize("f, start", [
    (lambda p: (p[0] - p[1]) ** 2, [3.0, -7.0]), (lambda p: (p[0] * p[1] - 1) ** 2, [2.0, 0.7]),
    (lambda p: (p[0] ** 2 + p[1] ** 2 - 1) ** 2, [0.5, 0.3]),
    (lambda p: ((np.array([[1.0, 2, 3], [2, 4, 6], [1, 1, 1], [0, 1, 2]]) @ p - np.array([1.0, 2, 3, 4])) ** 2).sum(),
     [5.0, -3.0, 1.0]),
], ids=["x=y", "xy=1", "circle", "collinear least squares"])
def test_valleys_of_minima_stay_inconclusive(f, start) -> None:
    """A line or circle of minima has a Hessian eigenvalue that is 0 and computed as rounding (up to 0.5ε·max|λ|,
    with either sign): counted as 0, not read as a minimum or a saddle."""
    found = stationary_point(f, start)
    assert found.converged and found.kind == "inconclusive", found
    assert np.abs(found.eigenvalues).min() <= 100 * len(start) * EPS * np.abs(found.eigenvalues).max()


def test_classify_keeps_its_coarse_default() -> None:
    """classify_stationary_point's 1e-6 (documented: eigenvalues of a point known to a few digits) is unchanged; with
    stationary_point's tol, 100·n·ε, only a rounding counts as 0."""
    assert classify_stationary_point([2.0, 2e6]) == "inconclusive"
    assert classify_stationary_point([1e-9, 1e3]) == "inconclusive"
    assert classify_stationary_point([2.0, 2e6], tol=200 * EPS) == "minimum"
    assert classify_stationary_point([1e-14, 2e6], tol=200 * EPS) == "inconclusive"


def test_an_ill_conditioned_saddle_is_a_saddle() -> None:
    """x² − 1e7·y² at 0: Hessian diag(2, −2e7); the verdict is classify's with tol 100·n·ε."""
    found = stationary_point(lambda p: p[0] ** 2 - 1e7 * p[1] ** 2, [0.3, -0.2])
    np.testing.assert_allclose(found.eigenvalues, [-2e7, 2.0], rtol=1e-12)
    assert found.kind == classify_stationary_point(found.eigenvalues, 200 * EPS) == "saddle"


def test_an_explicit_zero_tol_still_reaches_the_test() -> None:
    """zero_tol=1e-6, the old default, gives the old verdict; a zero_tol of 1 or more is still refused."""
    f = lambda p: 1e6 * (p[0] - 0.1) ** 2 + (p[1] - 0.7) ** 2
    assert stationary_point(f, [0.0, 0.0], zero_tol=1e-6).kind == "inconclusive"
    with pytest.raises(ValueError, match=r"^stationary_point: zero_tol is relative .* must be < 1"):
        stationary_point(f, [0.0, 0.0], zero_tol=1.0)
