"""A reader of the error messages added or changed in round 33: each message triggered for real, its advice followed.

Defects (xfail, strict: each fails on the code before the fix):

- the refusal of ``np.linalg.norm(v, axis=1)`` (and the other 2-norms) said "the gradient of the formula below is
  NaN" (it now says "the formula at the end", where the refusal's "(here: …)" is), and its formula for a v that can
  be 0, ``((v ** 2).sum() + 1e-30).sqrt()``, dropped the axis: followed, it gave one number instead of a norm per
  row;
- ``predict`` with unbuffered output (``PYTHONUNBUFFERED=1``, ``python -u``) on a full disk said only
  "error: No space left on device", not that standard output could not be written (the model file is fine);
- ``predict --inputs-file`` with a header line said "the file holds only numbers" of a file that does not;
- ``grad(value_and_grad(f))`` and ``grad(grad(f, argnums=(0, 1)))`` advised ``grad(lambda *args: g(*args)[i])``,
  with a ``g`` the user never wrote, which fails for the gradient (not a single number).

Guards: the advice of other new messages works when followed (``numerical_gradient``'s keyword meant for f,
pandas' ``df @ v``, a closure taking du/dx with backward(create_graph=True), fit's optimizer of another model).
"""

from __future__ import annotations

import copy
import functools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Value, autodiff, cli, fit, nn, optim
from tinygrad_edu.testing import numerical_gradient

ROOT = Path(__file__).resolve().parents[1]


def _message(call) -> str:
    with pytest.raises((TypeError, ValueError)) as error:
        call()
    return str(error.value)


# --- defects ------------------------------------------------------------------------------------------------------

def test_the_norm_refusal_formula_for_zero_keeps_the_axis_and_works() -> None:
    rows = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, -2.0]])
    message = _message(lambda: np.linalg.norm(Value(rows), axis=1))
    assert message.endswith("(here: (v ** 2).sum(axis).sqrt())")  # the formula at the end, as the note says
    safe = "((v ** 2).sum(axis) + 1e-30).sqrt()"
    assert safe in message
    v = Value(rows)
    norms = eval(safe, {"v": v, "axis": 1})  # the advice, followed
    np.testing.assert_allclose(norms.data, np.linalg.norm(rows, axis=1), atol=1e-14)
    norms.sum().backward()
    expected = np.divide(rows, np.linalg.norm(rows, axis=1, keepdims=True), out=np.zeros_like(rows),
                         where=rows != 0)  # x/‖x‖ per row, 0 for the zero row
    np.testing.assert_allclose(v.grad, expected, atol=1e-12)


@pytest.mark.skipif(sys.platform == "win32" or not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_unbuffered_output_on_a_full_disk_names_standard_output(tmp_path: Path) -> None:
    nn.MLP([1, 3, 1], rng=0).save(tmp_path / "model.npz")
    env = {**os.environ, "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    with open("/dev/full", "wb") as full:
        done = subprocess.run([sys.executable, "-m", "tinygrad_edu", "predict", "model.npz", "0.5"], cwd=tmp_path,
                              env=env, stdout=full, stderr=subprocess.PIPE, timeout=120)
    err = done.stderr.decode()
    assert done.returncode == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "standard output" in err and os.strerror(28) in err


def test_a_header_line_is_told_to_be_removed_without_claiming_the_file_holds_only_numbers(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nn.MLP([1, 3, 1], rng=0).save(tmp_path / "model.npz")
    (tmp_path / "inputs.txt").write_text("x\n0.5\n-1\n")
    assert cli.main(["predict", str(tmp_path / "model.npz"), "--inputs-file", str(tmp_path / "inputs.txt")]) == 2
    err = capsys.readouterr().err
    assert "line 1: 'x' is not a number" in err and "remove the line" in err
    assert "holds only numbers" not in err
    (tmp_path / "inputs.txt").write_text("0.5\n-1\n")  # the advice, followed
    assert cli.main(["predict", str(tmp_path / "model.npz"), "--inputs-file", str(tmp_path / "inputs.txt")]) == 0
    assert capsys.readouterr().out.count("→") == 2


def test_differentiating_a_transform_that_returns_a_tuple_gives_advice_that_works() -> None:
    f = lambda x: (x ** 3).sum()  # noqa: E731
    x = np.array([1.0, -2.0])
    message = _message(lambda: autodiff.grad(autodiff.value_and_grad(f))(x))
    assert "g(*args)" not in message and "hessian(f)" in message and "jacobian(grad(f))" in message
    np.testing.assert_allclose(autodiff.jacobian(autodiff.grad(f))(x).data, np.diag(6 * x))  # d²/dx² Σx³ = 6x
    cost = lambda a, b: (a * b * b).sum()  # noqa: E731
    a, b = np.array([1.0, 2.0]), np.array([3.0, -4.0])
    message = _message(lambda: autodiff.grad(autodiff.grad(cost, argnums=(0, 1)))(a, b))
    assert "g(*args)" not in message and "jacobian(grad(f, argnums=i), argnums=j)" in message
    mixed = autodiff.jacobian(autodiff.grad(cost, argnums=0), argnums=1)(a, b)  # ∂/∂b of b² = diag(2b)
    np.testing.assert_allclose(mixed.data, np.diag(2 * b))


# --- guards -------------------------------------------------------------------------------------------------------

def test_numerical_gradient_keyword_meant_for_f_is_named_and_the_partial_it_advises_works() -> None:
    f = lambda x, scale=1.0: (x * scale).sum()  # noqa: E731
    with pytest.raises(TypeError, match=r"^numerical_gradient: there is no argument scale=; .*functools\.partial"):
        numerical_gradient(f, np.array([1.0, 2.0]), scale=2.0)
    (slope,) = numerical_gradient(functools.partial(f, scale=2.0), np.array([1.0, 2.0]))
    np.testing.assert_allclose(slope, [2.0, 2.0], rtol=1e-8)


def test_pandas_matrix_product_refusal_and_its_advice() -> None:
    pd = pytest.importorskip("pandas")
    table = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    w = Value([0.5, -1.0])
    with pytest.raises(TypeError, match=r"Value\(df\) @ v"):
        pd.DataFrame(table) @ w
    out = Value(pd.DataFrame(table)) @ w  # the advice, followed: the graph is kept
    np.testing.assert_allclose(out.data, table @ w.data)
    out.sum().backward()
    np.testing.assert_allclose(w.grad, table.sum(axis=0))  # ∂Σ(Tw)/∂w = Tᵀ1


def test_a_closure_taking_du_dx_by_backward_is_told_and_gradients_works() -> None:
    x, p = Value([0.5, 1.0]), Value([2.0])

    def by_backward() -> Value:
        u = (p * x ** 2).sum()
        u.backward(create_graph=True)
        return (x.grad ** 2).sum()

    with pytest.raises(ValueError, match=r"autodiff\.gradients\(u, \[x\], create_graph=True\)"):
        optim.GradientDescent([p], 0.1).step(by_backward)
    assert p.data.tolist() == [2.0]  # unchanged, as it says

    def by_gradients() -> Value:
        (du,) = autodiff.gradients((p * x ** 2).sum(), [x], create_graph=True)
        return (du ** 2).sum()

    p.grad = x.grad = None
    cost = optim.GradientDescent([p], 0.1).step(by_gradients)
    s = float((4 * x.data ** 2).sum())  # C = Σ(2px)² = p²·Σ4x², dC/dp = 2p·Σ4x²
    assert cost.item() == pytest.approx(4.0 * s)
    assert p.data.item() == pytest.approx(2.0 - 0.1 * 2 * 2.0 * s)


def test_fit_with_another_models_optimizer_is_refused_and_copying_them_together_works() -> None:
    rng = np.random.default_rng(0)
    inputs, targets = rng.normal(size=(6, 2)), rng.normal(size=(6, 1))
    model = nn.MLP([2, 3, 1], rng=0)
    with pytest.raises(ValueError, match=r"copy\.deepcopy\(\(model, optimizer\)\)"):
        fit(model, inputs, targets, optimizer=copy.deepcopy(optim.Adam(model)), episodes=1)
    copied, its_optimizer = copy.deepcopy((model, optim.Adam(model)))
    before = [p.data.copy() for p in copied.parameters()]
    fit(copied, inputs, targets, optimizer=its_optimizer, episodes=1)
    assert any(not np.array_equal(p.data, b) for p, b in zip(copied.parameters(), before, strict=True))
