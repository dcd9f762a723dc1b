"""Reading the advice tables' formulas (tinygrad_edu.write_instead) out of their prose, and running them against
finite differences and PyTorch, for the tests that check them. A helper module, not a test module: no test module
imports another.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from helpers_gradients import weighted_difference

from tinygrad_edu import Value


def advice_code(text: str) -> str:
    """The formula a piece of advice (a table entry, or a message's advice) begins with: up to the first ", ", "; ",
    " for " or bracketed prose (" (the …") outside brackets."""
    depth = 0
    for i, char in enumerate(text):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(char, 0)
        if depth == 0 and (text[i:i + 2] in (", ", "; ") or re.match(r" for | \((?=[a-z']{2,}[ ,:)])", text[i:])):
            return text[:i]
    return text


#: torch.nn.functional's activations by name: PyTorch's function of a tensor t, and the names the advice's formula
#: needs bound (F.name's advice and v.name's say the same formula).
PYTORCH_ACTIVATION_CALLS: dict[str, tuple[Callable[[Any, Any], Any], dict[str, Any]]] = {
    "gelu": (lambda torch, t: torch.nn.functional.gelu(t), {}),
    "silu": (lambda torch, t: torch.nn.functional.silu(t), {}),
    "mish": (lambda torch, t: torch.nn.functional.mish(t), {}),
    "elu": (lambda torch, t: torch.nn.functional.elu(t), {}),
    "selu": (lambda torch, t: torch.nn.functional.selu(t), {}),
    "softsign": (lambda torch, t: torch.nn.functional.softsign(t), {}),
    "hardsigmoid": (lambda torch, t: torch.nn.functional.hardsigmoid(t), {}),
    "hardswish": (lambda torch, t: torch.nn.functional.hardswish(t), {}),
    "tanhshrink": (lambda torch, t: torch.nn.functional.tanhshrink(t), {}),
    "glu": (lambda torch, t: torch.nn.functional.glu(t), {}),
    "softmin": (lambda torch, t: torch.nn.functional.softmin(t, dim=1), {"axis": 1}),
    "threshold": (lambda torch, t: torch.nn.functional.threshold(t, 0.3, -2.0), {"threshold": 0.3, "value": -2.0}),
    "prelu": (lambda torch, t: torch.nn.functional.prelu(t, torch.tensor(np.linspace(0.1, 0.6, 6))),
              {"weight": Value(np.linspace(0.1, 0.6, 6))}),
}


class _SkipOnUse:
    """PyTorch where it is not installed (CI installs none): a test runs its own checks first (a formula against
    central differences) and is skipped where it first reaches for PyTorch, not before those checks."""

    def __getattr__(self, name: str) -> Any:
        pytest.skip(f"could not import 'torch' (torch.{name}): the comparison with PyTorch needs it")


def one_thread_torch() -> Any:
    """PyTorch with one thread (two stall on a busy 2-core machine), or, where it is not installed, a stand-in that
    skips the test at its first use."""
    try:
        import torch
    except ImportError:
        return _SkipOnUse()
    torch.set_num_threads(1)
    return torch


def check_formula(formula: str, name: str, x: np.ndarray, theirs: Callable[[Any], Any], names: dict[str, Any], *,
                  seed: int, grad_rtol: float = 1e-10) -> None:
    """``formula`` (advice's code, with ``names`` bound) run on a Value ``name`` = x: the gradient of a weighted sum of
    its outputs against central differences of the formula in float64 (first: it needs no PyTorch), then its numbers
    and that gradient against PyTorch's (``theirs`` of a float64 tensor)."""
    v = Value(x)
    out = eval(formula, {**names, name: v})  # noqa: S307 (the advice is code)
    weights = np.random.default_rng(seed).normal(size=out.shape)
    (out * weights).sum().backward()
    numeric = weighted_difference(lambda y: eval(formula, {**names, name: Value(y)}).data, x, weights)  # noqa: S307
    np.testing.assert_allclose(v.grad, numeric, rtol=1e-6, atol=1e-7)
    torch = one_thread_torch()
    t = torch.tensor(x, requires_grad=True)
    want = theirs(t)
    np.testing.assert_allclose(out.data, want.detach().numpy(), rtol=1e-12, atol=1e-14)
    (want * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=grad_rtol, atol=1e-12)
