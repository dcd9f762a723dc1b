"""A statistician fitting probabilistic models by maximum likelihood: a Gaussian with a learned variance (exp and
softplus parameterisations), logistic regression written with softplus, Poisson regression with an exp link, a
mixture of two Gaussians through log-sum-exp, and the Laplace approximation (the Hessian of the negative
log-likelihood at the optimum, inverted, against σ²(XᵀX)⁻¹).

The xfail tests hold that the doors such a user knocks on lead somewhere: PyTorch's gaussian_nll_loss and
poisson_nll_loss say what to write, the refusals of log1p and expm1 give formulas that keep the digits those
functions exist for, and the README says how to maximise a likelihood with optimizers that minimise.  The guard
tests pin gradients and Hessians against closed forms and central differences in float64."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses, optim
from tinygrad_edu.autodiff import gradient_and_hessian, hessian
from tinygrad_edu.testing import check_gradients

README = Path(__file__).resolve().parent.parent / "README.md"


def _expressions(text: str) -> list[str]:
    """Every longest piece of ``text`` that parses as a Python expression other than a tuple, from each word or
    bracket on (the formulas an advice offers, whatever words surround them)."""
    found = []
    starts = [m.start() for m in re.finditer(r"(?<![\w.])[\w(\-]", text)]
    for start in starts:
        for end in range(len(text), start, -1):
            if end < len(text) and text[end] not in ",; ":
                continue
            piece = text[start:end].strip()
            try:
                tree = ast.parse(piece, mode="eval")
            except SyntaxError:
                continue
            if not isinstance(tree.body, ast.Tuple):  # ("formula, the words after it" parses as a tuple)
                found.append(piece)
                break
    return found


def _message(call: Callable[[], object]) -> str:
    try:
        call()
    except (AttributeError, TypeError) as error:
        return str(error)
    raise AssertionError("no error")


def _accurate(formula: str, names: dict, expected: np.ndarray, rtol: float) -> bool:
    """Whether ``formula``, run on ``names``, gives ``expected`` (False where it does not run)."""
    try:
        with np.errstate(all="ignore"):
            out = eval(formula, {"np": np, "F": F, "functional": F, "abs": abs}, dict(names))  # noqa: S307
        got = np.asarray(getattr(out, "data", out), dtype=float)
    except Exception:  # noqa: BLE001 (a piece of prose that parses, or a formula for other names)
        return False
    return got.shape == np.shape(expected) and bool(np.allclose(got, expected, rtol=rtol, atol=0))


# ------------------------------------------------------------------------------------------------ defects


@pytest.mark.parametrize("module, name", [(losses, "gaussian_nll_loss"), (losses, "GaussianNLLLoss"),
                                          (F, "gaussian_nll_loss")])
def test_gaussian_nll_loss_names_a_formula_that_computes_it(module, name) -> None:
    rng = np.random.default_rng(0)
    mean, target, var = rng.normal(size=(5, 1)), rng.normal(size=(5, 1)), rng.uniform(0.1, 3.0, size=(5, 1))
    names = {"input": Value(mean), "prediction": Value(mean), "mean": Value(mean), "target": target,
             "var": Value(var)}
    expected = np.mean(0.5 * (np.log(var) + (mean - target) ** 2 / var))  # PyTorch's, full=False
    message = _message(lambda: getattr(module, name))
    assert any(_accurate(f, names, np.float64(expected), 1e-12) for f in _expressions(message)), message


@pytest.mark.parametrize("module, name", [(losses, "poisson_nll_loss"), (losses, "PoissonNLLLoss"),
                                          (F, "poisson_nll_loss")])
def test_poisson_nll_loss_names_a_formula_that_computes_it(module, name) -> None:
    rng = np.random.default_rng(1)
    log_rate, counts = rng.normal(size=6), rng.poisson(2.0, size=6).astype(float)
    names = {"input": Value(log_rate), "log_input": Value(log_rate), "log_rate": Value(log_rate), "target": counts}
    expected = np.mean(np.exp(log_rate) - counts * log_rate)  # PyTorch's, log_input=True, full=False
    message = _message(lambda: getattr(module, name))
    assert any(_accurate(f, names, np.float64(expected), 1e-12) for f in _expressions(message)), message


_EXPM1_POINTS = np.array([1e-20, -3e-12, 1e-6, 0.5, -3.0, 30.0, -40.0])


@pytest.mark.parametrize("call", [lambda v: v.expm1(), lambda v: np.expm1(v)], ids=["Value.expm1", "np.expm1"])
def test_expm1_refusal_gives_a_formula_that_keeps_the_digits(call) -> None:
    message = _message(lambda: call(Value(_EXPM1_POINTS)))
    good = [f for f in _expressions(message)
            if _accurate(f, {"v": Value(_EXPM1_POINTS)}, np.expm1(_EXPM1_POINTS), 1e-14)]
    assert good, message
    v = Value(_EXPM1_POINTS)  # and its gradient is eᵛ
    eval(good[0], {"np": np, "functional": F, "F": F}, {"v": v}).sum().backward()  # noqa: S307
    np.testing.assert_allclose(v.grad, np.exp(_EXPM1_POINTS), rtol=1e-13)


@pytest.mark.parametrize("call", [lambda v: v.log1p(), lambda v: np.log1p(v)], ids=["Value.log1p", "np.log1p"])
def test_log1p_refusal_gives_a_formula_that_keeps_the_digits_of_a_small_positive_v(call) -> None:
    points = np.array([1e-20, 3e-9, 1e-3, 0.5, 7.0])
    message = _message(lambda: call(Value(points)))
    good = [f for f in _expressions(message) if _accurate(f, {"v": Value(points)}, np.log1p(points), 1e-12)]
    assert good, message
    v = Value(points)  # and its gradient is 1/(1 + v)
    eval(good[0], {"np": np, "functional": F, "F": F}, {"v": v}).sum().backward()  # noqa: S307
    np.testing.assert_allclose(v.grad, 1 / (1 + points), rtol=1e-12)


_README_BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.MULTILINE | re.DOTALL)


def test_readme_shows_a_maximum_likelihood_fit_with_standard_errors(capsys) -> None:
    text = README.read_text(encoding="utf-8")
    assert re.search(r"negative\s+log-likelihood", text), "no word of the negative log-likelihood"
    blocks = [b for b in _README_BLOCKS if "hessian" in b and "optim." in b and "-ln L" in b.replace("−", "-")]
    assert blocks, "no README block fits a likelihood with an optimizer and takes its Hessian"
    namespace: dict = {"__name__": "readme"}
    exec(compile(blocks[0], "README.md", "exec"), namespace)  # noqa: S102
    printed = capsys.readouterr().out
    assert "nan" not in printed and "inf" not in printed and printed.strip()


# ------------------------------------------------------------------------------------------------ guard tests


def _regression(n: int = 120, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    return x, x @ np.array([0.5, -1.0, 2.0]) + rng.normal(scale=0.7, size=n)


def test_laplace_standard_errors_of_linear_regression_are_the_closed_form() -> None:
    """The Hessian of −ln L = Σ(y − Xb)²/2σ² at the least-squares b, inverted, is σ²(XᵀX)⁻¹ exactly."""
    x, y = _regression()
    b = np.linalg.lstsq(x, y, rcond=None)[0]
    sigma2 = np.sum((y - x @ b) ** 2) / (len(y) - x.shape[1])
    information = hessian(lambda w: 0.5 * ((y - x @ w) ** 2).sum() / sigma2)(b).data
    np.testing.assert_allclose(np.linalg.inv(information), sigma2 * np.linalg.inv(x.T @ x), rtol=1e-10)


def test_gaussian_with_log_variance_has_the_closed_form_information_at_the_mle() -> None:
    """−ln L(μ, s) = Σ ½s + ½(y − μ)²e⁻ˢ, at μ̂ = ȳ, ŝ = ln σ̂²: gradient 0 and Hessian diag(n/σ̂², n/2)."""
    y = np.random.default_rng(4).normal(2.0, 3.0, size=150)
    mle = np.array([y.mean(), np.log(y.var())])
    point = Value(mle)
    slope, matrix = gradient_and_hessian((0.5 * point[1] + 0.5 * (y - point[0]) ** 2 * (-point[1]).exp()).sum(),
                                         [point])
    np.testing.assert_allclose(slope, 0.0, atol=1e-9)
    np.testing.assert_allclose(matrix, np.diag([len(y) / y.var(), len(y) / 2]), rtol=1e-12, atol=1e-9)


def test_softplus_variance_nll_has_right_second_derivatives() -> None:
    y = np.random.default_rng(5).normal(size=40)

    def nll(p):
        variance = F.softplus(p[1])
        return (0.5 * variance.log() + 0.5 * (y - p[0]) ** 2 / variance).sum()

    check_gradients(nll, np.array([0.3, -2.0]), order=2)
    check_gradients(nll, np.array([-0.1, 25.0]), order=2)


def test_poisson_regression_by_newton_matches_irls_and_its_information() -> None:
    rng = np.random.default_rng(6)
    x = np.column_stack([np.ones(200), rng.normal(size=(200, 2))])
    counts = rng.poisson(np.exp(x @ np.array([0.2, 0.3, -0.1])))
    w = Value(np.zeros(3))
    opt = optim.Newton([w])
    for _ in range(5):  # (quadratic convergence: one more finds no step that lowers the cost, and warns)
        opt.step(lambda: ((x @ w).exp() - counts * (x @ w)).sum())
    irls = np.zeros(3)  # iteratively reweighted least squares, in numpy
    for _ in range(40):
        rate = np.exp(x @ irls)
        irls = irls + np.linalg.solve(x.T @ (x * rate[:, None]), x.T @ (counts - rate))
    np.testing.assert_allclose(w.data, irls, rtol=1e-9, atol=1e-12)
    _, matrix = gradient_and_hessian(((x @ w).exp() - counts * (x @ w)).sum(), [w])
    np.testing.assert_allclose(matrix, x.T @ (x * np.exp(x @ irls)[:, None]), rtol=1e-8)


def _logsumexp(c: Value, axis: int = -1) -> Value:
    """ln Σ e^c along axis, as the refusal of v.logsumexp() writes it."""
    return c.max(axis) + (c - c.max(axis, keepdims=True)).exp().sum(axis).log()


@given(st.lists(st.floats(-700, 700), min_size=2, max_size=5), st.floats(-1e3, 1e3))
def test_logsumexp_formula_has_softmax_gradient_and_its_hessian(values, shift) -> None:
    """∇ ln Σ eᶜ = softmax(c), ∇² = diag(s) − ssᵀ, at every magnitude (ties between maxima too)."""
    c = np.array(values) + shift
    shares = np.exp(c - c.max()) / np.exp(c - c.max()).sum()
    slope, matrix = gradient_and_hessian(_logsumexp(point := Value(c)), [point])
    np.testing.assert_allclose(slope, shares, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(matrix, np.diag(shares) - np.outer(shares, shares), rtol=1e-10, atol=1e-15)


def test_two_gaussian_mixture_nll_is_finite_far_from_a_component_and_checks() -> None:
    z = np.r_[np.random.default_rng(7).normal(-2.0, 1.0, 30), [400.0, -400.0]]  # points where a density rounds to 0

    def nll(p):
        c1 = -F.softplus(-p[0]) - p[3] - 0.5 * ((z - p[1]) * (-p[3]).exp()) ** 2
        c2 = -F.softplus(p[0]) - p[4] - 0.5 * ((z - p[2]) * (-p[4]).exp()) ** 2
        return -_logsumexp(F.stack([c1, c2], axis=1), axis=1).sum()

    start = np.array([0.2, -1.5, 2.5, 0.1, -0.3])
    assert np.isfinite(nll(Value(start)).data)  # (−ln L is about 1e5 there: differences of a larger step)
    check_gradients(nll, start, order=2, eps=1e-3, rtol=1e-4)
