"""The gradient rules: every differentiable operation as its forward and its local derivatives, side by side.

This module is the math of backpropagation (seed, section 6.3) and nothing else: it knows numpy, not the graph.
An :class:`Op` is a forward function on numpy arrays plus one *vector-Jacobian product* (vjp) per input::

    vjp(g, out, *inputs, **params) -> ∂C/∂input

where ``g = ∂C/∂out`` is the gradient arriving from above and ``out`` the forward result.  The chain rule
``∂C/∂x = ∂C/∂out · ∂out/∂x`` is exactly "``g`` times the local derivative".  A vjp may return a gradient of the
broadcast shape; the engine sums it back to the input's shape, so the rules below stay as short as the math.

The rules use operators (``+ - * / @``), ``.reshape``, ``.sum`` and ``.swapaxes`` wherever they can, so that they
could also be evaluated on :class:`~tinygrad_edu.Value` objects (for derivatives of derivatives).

Define your own differentiable operation the same way::

    >>> import numpy as np
    >>> from tinygrad_edu import Op, Value
    >>> cube = Op("cube", lambda x: x**3, vjps=(lambda g, out, x: g * 3 * x**2,))
    >>> y = cube(Value(2.0)); y.backward(); y.parents[0].grad
    array(12.)
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Op"]


@dataclass(frozen=True)
class Op:
    """A differentiable operation: ``forward(*arrays, **params)`` and one vjp per input (see module docstring).

    Calling an ``Op`` on Values (or numbers, or arrays) records it in the computation graph.
    """

    name: str
    forward: Callable[..., np.ndarray]
    vjps: Sequence[Callable[..., Any]]

    def __post_init__(self) -> None:
        if not callable(self.forward):
            raise TypeError(f"Op {self.name!r}: forward must be callable, got {type(self.forward).__name__}")
        if callable(self.vjps):  # a single vjp for a one-input op
            object.__setattr__(self, "vjps", (self.vjps,))
        object.__setattr__(self, "vjps", tuple(self.vjps))
        for vjp in self.vjps:
            if not callable(vjp):
                raise TypeError(f"Op {self.name!r}: every vjp must be callable, got {type(vjp).__name__}")

    def __call__(self, *inputs: Any, **params: Any):
        from tinygrad_edu.engine import apply

        return apply(self, *inputs, **params)

    def __repr__(self) -> str:
        return f"Op({self.name!r}, inputs={len(self.vjps)})"


def _swap(x):
    """Swap the last two axes (the transpose inside a batched matmul)."""
    return x.swapaxes(-1, -2)


def _keepdims_shape(shape: tuple[int, ...], axis) -> tuple[int, ...]:
    """The shape of ``x.sum(axis, keepdims=True)`` for an ``x`` of ``shape``."""
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand(g, shape: tuple[int, ...], axis):
    """Spread a reduced gradient ``g`` back over the axes a reduction removed."""
    g = g.reshape(_keepdims_shape(shape, axis))
    return np.broadcast_to(g, shape) if isinstance(g, np.ndarray) else g + np.zeros(shape, g.dtype)


# ---------------------------------------------------------------------------------------------------------------
# Arithmetic.  z = a ∘ b  with  ∂z/∂a, ∂z/∂b.
# ---------------------------------------------------------------------------------------------------------------
add = Op("add", np.add, (lambda g, out, a, b: g,
                         lambda g, out, a, b: g))
sub = Op("sub", np.subtract, (lambda g, out, a, b: g,
                              lambda g, out, a, b: -g))
mul = Op("mul", np.multiply, (lambda g, out, a, b: g * b,
                              lambda g, out, a, b: g * a))
div = Op("div", np.divide, (lambda g, out, a, b: g / b,
                            lambda g, out, a, b: -g * out / b))


def _power(a, b):
    """aᵇ; a single-number exponent goes to numpy as a Python number, which takes its fast paths (a**2 = a·a)."""
    return a ** (b.item() if b.ndim == 0 else b)


def _pow_vjp_base(g, out, a, b):
    """b·aᵇ⁻¹; where b = 0, a⁰ = 1 is constant, so its slope is 0 even at a = 0 (where b·aᵇ⁻¹ is 0·∞ = NaN)."""
    if b.ndim == 0:  # the common x ** n: no masking needed
        return g * 0 if b == 0 else g * b * _power(a, b - 1)
    with np.errstate(divide="ignore", invalid="ignore"):  # the NaNs at b = 0 are replaced just below
        return g * np.where(b == 0, 0.0, b * _power(a, b - 1))


def _pow_vjp_exponent(g, out, a, b):
    """aᵇ·ln a; where a = 0 (and b > 0) aᵇ = 0 for every b, so the slope is 0, not 0·(−∞) = NaN."""
    return g * out * np.log(np.where(a == 0, 1.0, a))


# d(a^b)/da = b·a^(b-1),  d(a^b)/db = a^b·ln a
pow = Op("pow", _power, (_pow_vjp_base, _pow_vjp_exponent))
neg = Op("neg", np.negative, (lambda g, out, a: -g,))


def _matmul_vjp(g, a, b, wrt_a: bool):
    """∂(a@b)/∂a = g @ bᵀ and ∂(a@b)/∂b = aᵀ @ g, with 1-D operands treated as numpy does (a row, a column)."""
    a_was_vector, b_was_vector = a.ndim == 1, b.ndim == 1
    if a_was_vector:
        a, g = a.reshape(1, -1), g.reshape(g.shape[:-1] + (1,) + g.shape[-1:])
    if b_was_vector:
        b, g = b.reshape(-1, 1), g.reshape(g.shape + (1,))
    if wrt_a:
        grad = g @ _swap(b)
        return grad.reshape(grad.shape[:-2] + grad.shape[-1:]) if a_was_vector else grad
    grad = _swap(a) @ g
    return grad.reshape(grad.shape[:-1]) if b_was_vector else grad


matmul = Op("matmul", np.matmul, (lambda g, out, a, b: _matmul_vjp(g, a, b, wrt_a=True),
                                  lambda g, out, a, b: _matmul_vjp(g, a, b, wrt_a=False)))

# ---------------------------------------------------------------------------------------------------------------
# Element-wise functions, including the activation functions of seed section 3.1.  y = f(x), ∂y/∂x = f'(x).
# ---------------------------------------------------------------------------------------------------------------
exp = Op("exp", np.exp, lambda g, out, x: g * out)                        # (eˣ)' = eˣ
log = Op("log", np.log, lambda g, out, x: g / x)                          # (ln x)' = 1/x
sqrt = Op("sqrt", np.sqrt, lambda g, out, x: g / (2 * out))               # (√x)' = 1/(2√x)
abs = Op("abs", np.abs, lambda g, out, x: g * np.sign(x))                 # |x|' = sign(x)


#: From this many elements on, exp's speed outweighs the fixed cost of np.errstate (measured; see benchmarks/).
_LARGE = 4096


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e⁻ˣ), computed in place on one fresh array and without overflow warnings for any x."""
    if x.size < _LARGE:  # small: the same function as (1 + tanh(x/2)) / 2, in the fewest numpy calls
        y = np.multiply(x, 0.5, out=np.empty_like(x))
        np.tanh(y, out=y)
        y += 1
        y *= 0.5
        return y
    y = np.negative(x)
    with np.errstate(over="ignore"):  # e⁻ˣ = inf for x < −709 gives 1/(1 + inf) = 0, the right limit
        np.exp(y, out=y)
    y += 1
    return np.reciprocal(y, out=y)


def _sigmoid_vjp(g, out, x):
    """σ'(x) = σ(x)(1 − σ(x)), so ∂C/∂x = g · out · (1 − out) (in place on one fresh temporary)."""
    local = 1 - out
    local *= out
    local *= g
    return local


def _tanh_vjp(g, out, x):
    """tanh'(x) = 1 − tanh²(x), so ∂C/∂x = g · (1 − out²) (in place on one fresh temporary)."""
    local = out * out
    local *= -1
    local += 1
    local *= g
    return local


tanh = Op("tanh", np.tanh, _tanh_vjp)
sigmoid = Op("sigmoid", _sigmoid, _sigmoid_vjp)
relu = Op("relu", lambda x: np.maximum(x, 0), lambda g, out, x: g * (x > 0))  # relu' = [x > 0]
leaky_relu = Op("leaky_relu",
                lambda x, negative_slope=0.01: np.where(x > 0, x, x * negative_slope),
                lambda g, out, x, negative_slope=0.01: g * np.where(x > 0, 1.0, negative_slope).astype(x.dtype))
# softplus(x) = ln(1 + eˣ), computed as logaddexp(0, x) so that large x do not overflow; softplus' = σ
softplus = Op("softplus", lambda x: np.logaddexp(0, x), lambda g, out, x: g * _sigmoid(x))

# ---------------------------------------------------------------------------------------------------------------
# The seed's cost (section 5): C = Σ_j (y_j − y'_j)² per sample, averaged over the n samples of a batch,
# and its derivative ∂C/∂y = 2(y − y')/n, the "∂C/∂α^L = 2(α^L − y)" of section 6.3.
# ---------------------------------------------------------------------------------------------------------------
def _samples(prediction) -> int:
    """How many samples a prediction holds: rows of a batch ``(n, k)``, else one."""
    return prediction.shape[0] if prediction.ndim >= 2 else 1


def _squared_error(prediction: np.ndarray, target: np.ndarray) -> np.ndarray:
    difference = prediction - target
    return np.sum(difference * difference) / _samples(prediction)


def _squared_error_vjp(sign: float):
    def vjp(g, out, prediction, target):  # ±2(y − y')/n · g, in place on one fresh temporary
        local = prediction - target
        local *= sign * 2 / _samples(prediction)
        local *= g
        return local

    return vjp


squared_error = Op("squared_error", _squared_error, (_squared_error_vjp(1.0), _squared_error_vjp(-1.0)))

# ---------------------------------------------------------------------------------------------------------------
# Reductions.  The gradient of a sum is spread back evenly over what was summed.
# ---------------------------------------------------------------------------------------------------------------
sum = Op("sum", lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims),
         lambda g, out, x, axis=None, keepdims=False: _expand(g, x.shape, axis))


def _mean_vjp(g, out, x, axis=None, keepdims=False):
    count = x.size // builtins.max(out.size, 1) if x.size else 1
    return _expand(g, x.shape, axis) / count


mean = Op("mean", lambda x, axis=None, keepdims=False: np.mean(x, axis=axis, keepdims=keepdims), _mean_vjp)


def _max_vjp(g, out, x, axis=None, keepdims=False):
    """The gradient goes to the maximal elements (split evenly between ties)."""
    is_max = x == _expand(out, x.shape, axis)
    return _expand(g, x.shape, axis) * is_max / is_max.sum(axis=axis, keepdims=True)


max = Op("max", lambda x, axis=None, keepdims=False: np.max(x, axis=axis, keepdims=keepdims), _max_vjp)


def _log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """log softmax(x) = x − max − ln Σ exp(x − max): subtracting the max keeps exp from overflowing."""
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


# softmax: ∂C/∂x = s ⊙ (g − Σ g⊙s);   log_softmax: ∂C/∂x = g − softmax(x) · Σ g
softmax = Op("softmax", _softmax,
             lambda g, out, x, axis=-1: out * (g - (g * out).sum(axis=axis, keepdims=True)))
log_softmax = Op("log_softmax", _log_softmax,
                 lambda g, out, x, axis=-1: g - np.exp(out) * g.sum(axis=axis, keepdims=True))

# ---------------------------------------------------------------------------------------------------------------
# Shape operations: they only move numbers, so the gradient is moved back the same way.
# ---------------------------------------------------------------------------------------------------------------
reshape = Op("reshape", lambda x, shape: np.reshape(x, shape), lambda g, out, x, shape: g.reshape(x.shape))
transpose = Op("transpose", lambda x, axes=None: np.transpose(x, axes),
               lambda g, out, x, axes=None: np.transpose(g, None if axes is None else np.argsort(axes)))


def _index_vjp(g, out, x, key):
    """Scatter the gradient back to where the elements came from; an element picked twice gets both parts."""
    grad = np.zeros(x.shape, dtype=g.dtype)
    np.add.at(grad, key, g)
    return grad


index = Op("index", lambda x, key: x[key], _index_vjp)
maximum = Op("maximum", np.maximum, (lambda g, out, a, b: g * (a >= b),
                                     lambda g, out, a, b: g * (a < b)))


def where(condition: np.ndarray) -> Op:
    """``where(c)(a, b)`` picks ``a`` where ``c`` holds, else ``b``; the gradient follows the same choice."""
    condition = np.asarray(condition, dtype=bool)
    return Op("where", lambda a, b: np.where(condition, a, b), (lambda g, out, a, b: g * condition,
                                                                lambda g, out, a, b: g * ~condition))


def _piece(i: int, axis: int, stacked: bool):
    """The vjp of input ``i`` of a concatenate/stack: cut its own piece out of the incoming gradient."""

    def vjp(g, out, *inputs):
        if stacked:
            return np.take(g, i, axis=axis)
        start = int(np.sum([x.shape[axis] for x in inputs[:i]], dtype=int))
        return np.take(g, np.arange(start, start + inputs[i].shape[axis]), axis=axis)

    return vjp


def concatenate(count: int, axis: int = 0) -> Op:
    """An Op joining ``count`` arrays along an existing ``axis``."""
    return Op("concatenate", lambda *xs: np.concatenate(xs, axis=axis),
              tuple(_piece(i, axis, stacked=False) for i in range(count)))


def stack(count: int, axis: int = 0) -> Op:
    """An Op joining ``count`` arrays of one shape along a new ``axis``."""
    return Op("stack", lambda *xs: np.stack(xs, axis=axis), tuple(_piece(i, axis, stacked=True) for i in range(count)))
