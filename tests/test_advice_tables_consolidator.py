"""The "what to write instead" tables consolidated: the formula tables that functional held for losses and nn (the
binary, NLL, piecewise and likelihood costs, the convolution, layer norm and clamping formulas, F's own refusals)
live in write_instead, the bottom-layer module whose one concern is advice; functional, losses and nn read them
from there and keep no public advice constants of their own.  One foreign name still says one text, whichever the
route (F.name, losses.Name, nn.Name, fit(cost='Name')).

xfail tests failed before their fix: functional defined ten advice tables (and nn re-exported three of them as
nn.CONVOLUTION, …) that were not its concern; np.matvec's and np.vecmat's advice, ``a @ b``, is wrong for a stack
of vectors (np.vecmat's gives a (3, 3, 5) array where numpy's gives (3, 5); np.matvec's raises in matmul).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses, nn, optim, training
from tinygrad_edu import write_instead as W


def _message(action: Callable[[], object]) -> str:
    with pytest.raises((AttributeError, TypeError)) as caught:
        action()
    return str(caught.value)


def _fit_message(cost: str) -> str:
    model = nn.MLP([2, 1], rng=0)
    return _message(lambda: training.fit(model, np.ones((3, 2)), np.ones((3, 1)), cost=cost,
                                         optimizer=optim.SGD(model, learning_rate=0.1), episodes=1))


# --- defect: advice tables sat in modules whose concern they are not -------------------------------------------------
def _advice_like(value: object) -> bool:
    """A text of advice, or a table of them: a long string, or a dict holding long strings."""
    return (isinstance(value, str) and len(value) >= 60) or (
        isinstance(value, dict) and any(isinstance(text, str) and len(text) >= 40 for text in value.values()))


#: Public advice constants of functional, losses and nn that stay: losses' own Keras names of its costs (training
#: reads them; tests/test_public_api_reviewer.py's SHARED).
_STAYING = {("tinygrad_edu.losses", "KERAS_NAMES")}


def test_functional_losses_and_nn_hold_no_public_advice_tables_and_functional_none_at_all() -> None:
    public = [f"{module.__name__}.{name}" for module in (F, losses, nn) for name, value in vars(module).items()
              if not name.startswith("_") and name not in module.__all__ and _advice_like(value)
              and (module.__name__, name) not in _STAYING]
    assert public == []
    own = [name for name, value in vars(F).items() if not name.startswith("__") and _advice_like(value)]
    assert own == []  # (F's refusals read write_instead's tables)


# --- defect: np.matvec's and np.vecmat's advice is wrong for a stack of vectors ---------------------------------------
_RNG = np.random.default_rng(36)


def _advice(call: Callable[[Value, Value], object], a: np.ndarray, b: np.ndarray) -> str:
    """The formula the refusal of ``call(Value(a), Value(b))`` says to write (after "write ", up to ", the")."""
    message = _message(lambda: call(Value(a), Value(b)))
    return message.split("; write ", 1)[1].split(", the ", 1)[0].split(" (", 1)[0]


@pytest.mark.parametrize("name", ["matvec", "vecmat"])
def test_matvec_and_vecmat_advice_followed_on_stacks_gives_numpys_numbers_and_gradients(name: str) -> None:
    matrices, vectors = _RNG.normal(size=(3, 5, 4)), _RNG.normal(size=(3, 4))
    a, b = (matrices, vectors) if name == "matvec" else (vectors, matrices.swapaxes(-1, -2))
    function = getattr(np, name)
    formula = _advice(function, a, b)
    weights = _RNG.normal(size=(3, 5))
    va, vb = Value(a), Value(b)
    result = eval(formula, {"a": va, "b": vb, "np": np})  # noqa: S307 (the advice's own text)
    np.testing.assert_allclose(result.data, function(a, b), rtol=1e-12)
    (result * weights).sum().backward()
    if name == "matvec":  # r[k, i] = Σ_j a[k, i, j] b[k, j]
        grad_a, grad_b = np.einsum("ki,kj->kij", weights, b), np.einsum("ki,kij->kj", weights, a)
    else:  # r[k, j] = Σ_i a[k, i] b[k, i, j]
        grad_a, grad_b = np.einsum("kj,kij->ki", weights, b), np.einsum("ki,kj->kij", a, weights)
    np.testing.assert_allclose(va.grad, grad_a, rtol=1e-12)
    np.testing.assert_allclose(vb.grad, grad_b, rtol=1e-12)


@pytest.mark.parametrize("name", ["matvec", "vecmat"])
def test_matvec_and_vecmat_advice_still_holds_for_one_vector(name: str) -> None:
    """Guard: for one vector (a 1-D operand) the advice's formula gives numpy's numbers, before the fix and after."""
    matrix, vector = _RNG.normal(size=(5, 4)), _RNG.normal(size=4)
    a, b = (matrix, vector) if name == "matvec" else (_RNG.normal(size=5), matrix)
    function = getattr(np, name)
    result = eval(_advice(function, a, b), {"a": Value(a), "b": Value(b), "np": np})  # noqa: S307
    np.testing.assert_allclose(result.data, function(a, b), rtol=1e-12)


# --- guards: one foreign name, one text, through every route ---------------------------------------------------------
#: torch.nn's cost classes and torch.nn.functional's names of the same costs (written as formulas here).
_FORMULA_COSTS = {"L1Loss": "l1_loss", "HuberLoss": "huber_loss", "SmoothL1Loss": "smooth_l1_loss",
                  "HingeEmbeddingLoss": "hinge_embedding_loss", "GaussianNLLLoss": "gaussian_nll_loss",
                  "PoissonNLLLoss": "poisson_nll_loss"}


def _after(message: str, marker: str) -> str:
    assert marker in message, message
    return message.split(marker, 1)[1]


@pytest.mark.parametrize("cls", sorted(_FORMULA_COSTS))
def test_a_cost_written_as_a_formula_says_one_formula_through_f_losses_nn_and_fit(cls: str) -> None:
    function = _FORMULA_COSTS[cls]
    formula = _after(_message(lambda: getattr(losses, function)), "(a PyTorch name); write the cost, ")
    assert re.match(r"[-(\w]", formula) and ".mean()" in formula  # (a formula of a mean, not a bare name)
    assert _after(_message(lambda: getattr(losses, cls)), "(a PyTorch name); write the cost, ") == formula
    assert _after(_message(lambda: getattr(nn, cls)), "(a PyTorch name); write the cost, ") == formula
    assert _after(_message(lambda: getattr(F, function)), "(a PyTorch name); write ").removeprefix(
        "the cost, ") == formula
    for name in (cls, function):  # (fit says the function to give as cost=, the formula inside it)
        message = _fit_message(name)
        assert f"for PyTorch's {name!r}, import tinygrad_edu.functional as F and give cost=lambda " in message
        assert message.endswith(W.COST_FUNCTIONS[name])


#: torch.nn's layers written as a formula in a forward of one's own, and torch.nn.functional's function for each.
_LAYER_FORMULAS = {"Conv2d": "conv2d", "MaxPool2d": "max_pool2d", "AvgPool2d": "avg_pool2d", "Unfold": "unfold",
                   "ZeroPad2d": "pad", "Hardtanh": "hardtanh", "ReLU6": "relu6", "LayerNorm": "layer_norm"}


@pytest.mark.parametrize("cls", sorted(_LAYER_FORMULAS))
def test_a_layer_written_as_a_formula_says_the_formula_f_says(cls: str) -> None:
    formula = _after(_message(lambda: getattr(F, _LAYER_FORMULAS[cls])), "(a PyTorch name); write ")
    if cls == "LayerNorm":  # (F adds over which axis; nn's sentence names the weight and bias Values first)
        formula = formula.split(", over the last axis")[0]
    assert len(formula) > 30 and ("x" in formula or "v" in formula)
    assert _message(lambda: getattr(nn, cls)).endswith(formula)


@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits", "nll_loss"])
def test_the_binary_and_nll_advice_is_one_text_through_f_losses_nn_and_fit(name: str) -> None:
    text = _after(_message(lambda: getattr(F, name)), "the costs are in tinygrad_edu.losses; use ")
    assert text.startswith("losses.cross_entropy(logits, labels)")
    assert _after(_message(lambda: getattr(losses, name)), "(a PyTorch name); use ") == text
    cls = {"nll_loss": "NLLLoss"}.get(name, "BCEWithLogitsLoss")
    assert _after(_message(lambda: getattr(nn, cls)), "(a PyTorch name); use ") == text
    assert _fit_message(name).endswith(f"for PyTorch's {name!r}, use {text}")
