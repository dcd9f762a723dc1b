"""The float64 numpy shadow both stateful fuzzers check an nn.MLP against (tests/test_stateful_fuzzer.py and
tests/test_stateful_fuzzer_r2.py), and the checks they share: a helper module, not a test module, so that neither
test file imports the other.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator, Mapping

import numpy as np

from tinygrad_edu import Value

NAMES = ("layers.1.weights", "layers.1.biases", "layers.2.weights", "layers.2.biases")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    small = np.exp(-np.abs(z))  # (never overflows)
    return np.where(z >= 0, 1.0 / (1.0 + small), small / (1.0 + small))


def _sigmoid_slope(z: np.ndarray) -> np.ndarray:
    """σ′(z) = e^−|z| / (1 + e^−|z|)²: σ(z)(1 − σ(z)) is 0 wherever σ(z) rounds to 1 (z > 37), where the slope is
    e^−z, and the engine's gradients keep it (9.26e-157 for a shadow's 0 after a Newton step saturated the chain)."""
    small = np.exp(-np.abs(z))
    return small / (1.0 + small) ** 2


class Shadow:
    """The MLP (2-3-1, or 1-1-1: sigmoid layers) and its squared error, in float64 numpy: forward and gradient by
    hand."""

    def __init__(self, params: Mapping[str, np.ndarray]) -> None:
        self.p = {name: np.array(array, dtype=np.float64) for name, array in params.items()}

    def cost(self, x: np.ndarray, y: np.ndarray, p: dict[str, np.ndarray] | None = None) -> float:
        p = self.p if p is None else p
        out = _sigmoid(_sigmoid(x @ p[NAMES[0]] + p[NAMES[1]]) @ p[NAMES[2]] + p[NAMES[3]])
        return float(np.mean(np.sum((out - y) ** 2, axis=1)))

    def gradient(self, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
        """∂C/∂θ for C = (1/n) Σ_s Σ_j (out_sj − y_sj)², by the chain rule written out."""
        p = self.p
        z1 = x @ p[NAMES[0]] + p[NAMES[1]]
        a1 = _sigmoid(z1)
        z2 = a1 @ p[NAMES[2]] + p[NAMES[3]]
        dz2 = 2 * (_sigmoid(z2) - y) / len(x) * _sigmoid_slope(z2)
        dz1 = dz2 @ p[NAMES[2]].T * _sigmoid_slope(z1)
        return {NAMES[0]: x.T @ dz1, NAMES[1]: dz1.sum(0), NAMES[2]: a1.T @ dz2, NAMES[3]: dz2.sum(0)}


def gradient_array(grad: object) -> np.ndarray | None:
    """A parameter's ``.grad`` (an array, a recorded Value or None) as float64 numbers, or None."""
    if grad is None:
        return None
    return np.asarray(grad.data if isinstance(grad, Value) else grad, dtype=np.float64)


def assert_gradients_accumulated(values: Mapping[str, Value], grads: Mapping[str, np.ndarray | None],
                                 rtol: float, atol: float) -> None:
    """Each parameter's ``.grad`` is what the shadow accumulated since its last zero_grad: none where it has none."""
    for name, value in values.items():
        expected, got = grads[name], gradient_array(value.grad)
        assert (got is None) == (expected is None), f"{name}: grad {got} where the shadow has {expected}"
        if expected is not None:
            np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, err_msg=name)


@contextlib.contextmanager
def stray_steps() -> Iterator[None]:
    """The sessions step with no gradient, with every parameter frozen, or with the previous step's gradients again,
    on purpose: the optimizers' warnings for these (a step that changes nothing or repeats the last) are checked in
    test_stale_bindings_user.py and test_gan_user_r2.py; here the numbers are."""
    with warnings.catch_warnings():
        for message in ("no parameter has a gradient", "are frozen", "previous step used"):
            warnings.filterwarnings("ignore", message=f".*{message}", category=RuntimeWarning)
        yield
