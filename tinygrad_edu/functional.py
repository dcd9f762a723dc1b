"""Differentiable functions on Values, imported as ``F`` (as in PyTorch): ``import tinygrad_edu.functional as F``.

The element-wise ones are the activation functions of seed section 3.1; ``softmax``/``log_softmax`` turn the 10
output activations of the digits example (section 4) into probabilities.  Each is one :class:`~tinygrad_edu.Op`
from :mod:`tinygrad_edu.ops`, where its derivative stands beside it.

    >>> import tinygrad_edu.functional as F
    >>> from tinygrad_edu import Value
    >>> F.softmax(Value([1000.0, 1000.0])).data   # no overflow
    array([0.5, 0.5])
"""

from __future__ import annotations

import math
import typing as _typing  # (private: dir(F) lists what it did before)
from collections.abc import Callable, Iterable, Mapping, Set
from typing import Any

import numpy as np

from tinygrad_edu import checks, ops, write_instead
from tinygrad_edu.engine import Value, apply, is_grad_enabled

__all__ = ["exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "leaky_relu", "softplus", "identity",
           "softmax", "log_softmax", "concatenate", "stack", "maximum", "where", "ACTIVATIONS"]

_AXIS = "it is called axis= here (numpy's word)"


def exp(x: Any) -> Value:
    """eˣ"""
    return apply(ops.exp, x)


def log(x: Any) -> Value:
    """ln x"""
    return apply(ops.log, x)


def sqrt(x: Any) -> Value:
    """√x"""
    return apply(ops.sqrt, x)


def abs(x: Any) -> Value:
    """|x|"""
    return apply(ops.absolute, x)


def tanh(x: Any) -> Value:
    """tanh x = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ), with derivative 1 − tanh² x."""
    return apply(ops.tanh, x)


def sigmoid(x: Any) -> Value:
    """σ(x) = 1 / (1 + e⁻ˣ), with derivative σ(x)(1 − σ(x)); never overflows.

    σ(x) rounds to 1 for x above about 37 and to 0 below about −745 (in float32 above about 17 and below about −104),
    so its logarithm is then 0 or −inf (a binary cross-entropy of NaN or inf): ln σ(x) = −softplus(−x) and
    ln(1 − σ(x)) = −softplus(x) are exact for every x."""
    return apply(ops.sigmoid, x)


def relu(x: Any) -> Value:
    """ReLU(x) = max(x, 0), with derivative 1 for x > 0 and 0 otherwise.

    Its second derivative is 0 (wherever it has one): a derivative of a ReLU network with respect to its input is
    a constant in that input, so a cost of second derivatives (a physics-informed u″) cannot train it; tanh,
    sigmoid and softplus have second derivatives."""
    return apply(ops.relu, x)


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Value:
    """x for x > 0, ``negative_slope``·x otherwise: ReLU that keeps a small gradient for negative inputs.

    As ReLU's, its second derivative is 0 (wherever it has one).

    ``negative_slope`` is one finite real number (any sign, as in PyTorch); NaN or inf, which would make every
    output at x ≤ 0 NaN, and True/False are errors naming it."""
    if negative_slope.__class__ is not float or not math.isfinite(negative_slope):  # (a float: checked at no cost)
        negative_slope = checks.number(negative_slope, "negative_slope", "leaky_relu")
    return apply(ops.leaky_relu, x, negative_slope=negative_slope)


def softplus(x: Any) -> Value:
    """ln(1 + eˣ), a smooth ReLU whose derivative is σ(x); stable for large x.

    The log of a sigmoid, without its overflow: ln σ(x) = −softplus(−x) and ln(1 − σ(x)) = −softplus(x) (the binary
    cross-entropy of logits z and targets y is ``(y * softplus(-z) + (1 - y) * softplus(z)).mean()``)."""
    return apply(ops.softplus, x)


def identity(x: Any) -> Value:
    """x itself: the "no activation" of a linear output layer."""
    if isinstance(x, Value):
        return x
    try:
        return Value(x, requires_grad=False)
    except (TypeError, ValueError) as error:
        raise type(error)(f"identity: {error}") from None


@checks.pytorch_keywords(dim=_AXIS)
def softmax(x: Any, axis: int | tuple[int, ...] | None = -1) -> Value:
    """softmax(x)_i = e^{x_i} / Σ_j e^{x_j} along ``axis`` (an int, a tuple of ints, or None: all of them, as in
    ``np.sum``; a 0-d input counts as one axis); stable for inputs of any size.

    An entry of −inf (masked out, as in causal attention) gets probability exactly 0 and gradient 0.  A row of only
    −inf (every entry masked), or one holding +inf, has no softmax, as in PyTorch: its probabilities are NaN, and so
    is its gradient, even where nothing uses the row, and through it every gradient before it.  Leave such rows out,
    or mask with a large negative number instead (``F.where(mask, -1e9, scores)``): a fully masked row is then
    uniform.

    A probability rounds to exactly 0 once its entry is about 745 below the row's largest (104 in float32), and its
    logarithm ``softmax(x).log()`` is then −inf, its gradient NaN (a policy's ln π(a), an entropy −Σ p ln p):
    :func:`log_softmax` computes ln softmax(x) exactly for every x (the entropy is
    ``-(softmax(x) * log_softmax(x)).sum()``)."""
    return apply(ops.softmax, x, axis=_softmax_axis("softmax", x, axis))


@checks.pytorch_keywords(dim=_AXIS)
def log_softmax(x: Any, axis: int | tuple[int, ...] | None = -1) -> Value:
    """ln softmax(x) along ``axis`` (as in :func:`softmax`), computed without overflow (x − max − ln Σ e^{x − max}).

    An entry of −inf gives −inf; a row of only −inf, or one holding +inf, gives NaN (and NaN gradients), as
    :func:`softmax` does."""
    return apply(ops.log_softmax, x, axis=_softmax_axis("log_softmax", x, axis))


def _softmax_axis(name: str, x: Any, axis: Any) -> int | tuple[int, ...] | None:
    """``axis`` if it is None, an int or a tuple of distinct ints within ``x``'s dimensions, else an error naming
    ``name``, the axis and the shape.  A 0-d input counts as one axis (0, -1, (0,) …), so the default -1 works on a
    number; its axis is then None (numpy reduces a 0-d array over axis=0, but not over axis=(0,))."""
    if axis is None:
        return None
    axes = axis if isinstance(axis, tuple) else (axis,)
    if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes):
        raise TypeError(f"{name}: axis must be an int, a tuple of ints or None, got {axis!r}")
    shape = _shape(x)
    if shape is None:  # not an array: apply says what is wrong with it
        return axis
    ndim = max(len(shape), 1)
    if not all(-ndim <= a < ndim for a in axes) or len({int(a) % ndim for a in axes}) != len(axes):
        raise ValueError(f"{name}: axis {axis!r} does not fit an input of shape {shape}: the axes must be distinct "
                         f"and between {-ndim} and {ndim - 1}")
    return axis if shape else None


def _shape(x: Any) -> tuple[int, ...] | None:
    """``x``'s shape, or None where it has none (ragged lists, lists holding Values): apply then says why."""
    try:
        return np.shape(x.data if isinstance(x, Value) else x)
    except (TypeError, ValueError):
        return None


@checks.pytorch_keywords(dim=_AXIS)
def concatenate(values: Iterable[Any], axis: int | None = 0) -> Value:
    """Join Values along an existing axis (``np.concatenate``; ``axis=None`` flattens them first).

    More than ``_FAN_IN`` (32) Values, where the join is recorded (one of them needs a gradient), are joined in a
    balanced tree of smaller joins (see :func:`_in_a_tree`): the same numbers, dtype and errors, and a backward pass
    that takes time linear in their number."""
    if axis is not None:
        _check_axis("concatenate", axis, "an int or None")
    values = _joined("concatenate", values)
    try:
        if len(values) > _FAN_IN and _recorded(values):
            return _in_a_tree(values, ops.concatenate, axis)
        return apply(ops.concatenate(len(values), axis), *values)
    except ValueError as error:  # (numpy's "zero-dimensional arrays cannot be concatenated": say what joins numbers)
        if axis is None or not all(_shape(v) == () for v in values):
            raise
        raise ValueError(f"{error}; numbers (0-d Values, such as the ln π(a) of each step) have no axis to join "
                         "along: F.stack(values) makes them a vector (torch.cat of 1-element tensors)") from None


@checks.pytorch_keywords(dim=_AXIS)
def stack(values: Iterable[Any], axis: int = 0) -> Value:
    """Join Values of one shape along a new axis (``np.stack``).

    More than ``_FAN_IN`` (32) Values, where the join is recorded (one of them needs a gradient), are stacked in
    groups, which are then concatenated in a balanced tree (see :func:`_in_a_tree`; the result's ``op`` is then
    ``"concatenate"``): the same numbers, dtype and errors, and a backward pass that takes time linear in their
    number."""
    _check_axis("stack", axis)
    values = _joined("stack", values)
    if len(values) > _FAN_IN and _recorded(values):
        return _in_a_tree(values, ops.stack, axis)
    return apply(ops.stack(len(values), axis), *values)


#: The most inputs one recorded join takes.  The backward pass hands each input's vjp all the inputs of its operation
#: (``vjp(g, out, *inputs)``), so one join of n Values took time n² to differentiate (16,000 Values: 4 s); a tree of
#: joins of at most this many takes time n·_FAN_IN.
_FAN_IN = 32


def _recorded(values: list[Any]) -> bool:
    """Whether a join of ``values`` goes into the graph (else one join is faster, and there is no backward pass)."""
    return is_grad_enabled() and any(isinstance(v, Value) and v.requires_grad for v in values)


def _in_a_tree(values: list[Any], join: Callable[[int, Any], ops.Op], axis: int | None) -> Value:
    """``apply(join(len(values), axis), *values)`` (one join of them all) made as a balanced tree: ``join`` of groups
    of at most ``_FAN_IN`` values, then concatenations of their results along ``axis``, each of at most ``_FAN_IN``,
    down to one.  Joining only copies numbers, so each comes out as one join gives it, to the bit.  Python numbers
    take the dtype of the other values together as in one join (numpy's rule); what one join refuses is refused,
    with the one join's error."""
    try:
        dtype = np.result_type(*[v.dtype if isinstance(v, Value) else np.asarray(v).dtype
                                 for v in values if v.__class__ not in (int, float, bool)])
        parts: list[Any] = [np.asarray(v, dtype) if v.__class__ in (int, float, bool) else v for v in values]
        first = join
        while len(parts) > _FAN_IN:
            size = -(-len(parts) // -(-len(parts) // _FAN_IN))  # groups of (nearly) equal size
            parts = [apply(first(len(group), axis), *group)
                     for group in (parts[i:i + size] for i in range(0, len(parts), size))]
            first = ops.concatenate
        return apply(first(len(parts), axis), *parts)
    except (TypeError, ValueError, IndexError, FloatingPointError):
        return apply(join(len(values), axis), *values)  # the error of the one join (or, should it work, its result)


def _check_axis(name: str, axis: Any, wanted: str = "an int") -> None:
    """An int axis, else a TypeError naming it: numpy's own words ("integer argument expected, got float") name no
    argument, and its stack takes True for 1."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}: axis must be {wanted}, got {axis!r}")


def _joined(name: str, values: Iterable[Any]) -> list[Any]:
    """The Values to join, as a list (a generator is fine); none at all is an error naming the function."""
    if isinstance(values, (Value, np.ndarray, str, bytes, Set, Mapping)) or not isinstance(values, Iterable):
        raise TypeError(f"{name}: give a list or tuple of Values/arrays, not {type(values).__name__}"
                        + (" (it has no order)" if isinstance(values, (Set, Mapping)) else ""))
    values = list(values)
    if not values:
        raise ValueError(f"{name}: needs at least one Value")
    return values


def maximum(a: Any, b: Any) -> Value:
    """Element-wise max(a, b); the gradient goes to the larger input, split evenly at a tie (as PyTorch's)."""
    return apply(ops.maximum, a, b)


def where(condition: Any, a: Any, b: Any) -> Value:
    """``a`` where ``condition`` holds, ``b`` elsewhere; the gradient flows only to the chosen side.

    The side not chosen gets a gradient of 0, but 0 · NaN is NaN: where it was computed from a NaN or inf (a missing
    target, the square root or logarithm of a number ≤ 0), the operations that made it pass NaN back, so the inputs'
    gradients hold NaN there although the result does not (as in PyTorch and JAX; an index, ``v[mask]``, taken
    after the NaN met the outputs, does the same).  Leave the NaN out before it meets anything with a gradient: fill
    or pick the targets first, or put a harmless number in with a second ``where`` inside
    (``where(x > 0, sqrt(where(x > 0, x, 1.0)), 0.0)``).

        >>> targets = np.array([1.0, np.nan]); observed = ~np.isnan(targets)
        >>> outputs = Value([0.0, 0.0])
        >>> where(observed, (outputs - targets) ** 2, 0.0).sum().backward()
        >>> outputs.grad                                               # the NaN target is not in the cost, yet
        array([-2., nan])
        >>> outputs.zero_grad()
        >>> filled = np.where(observed, targets, 0.0)                  # no NaN left to meet the outputs
        >>> where(observed, (outputs - filled) ** 2, 0.0).sum().backward()
        >>> outputs.grad
        array([-2.,  0.])
    """
    checks.unmasked(condition, "the condition", "where")
    given = condition
    try:
        condition = condition.data if isinstance(condition, Value) else np.asarray(condition)
    except (TypeError, ValueError) as error:  # ragged lists, lists holding Values
        raise type(error)(f"where: the condition must be an array of booleans ({error})") from None
    if condition.dtype.kind not in "biuf":
        raise TypeError(f"where: the condition must be booleans (or numbers), not {condition.dtype} "
                        f"({type(given).__name__})")
    shapes = [condition.shape, _shape(a), _shape(b)]
    try:
        np.broadcast_shapes(*(shape for shape in shapes if shape is not None))  # (a non-array: apply says why)
    except ValueError:
        raise ValueError(f"where: condition, a and b of shapes {' and '.join(map(str, shapes))} "
                         "cannot be broadcast together") from None
    return apply(ops.select(condition), a, b)


#: Activation functions by name, for ``Layer(..., activation="relu")``.
ACTIVATIONS = {"sigmoid": sigmoid, "relu": relu, "tanh": tanh, "leaky_relu": leaky_relu, "softplus": softplus,
               "identity": identity}


#: What PyTorch's and Keras's binary cross-entropy is here, after "losses." (said here and by tinygrad_edu.losses).
BINARY_ADVICE = ("cross_entropy(logits, labels) with 2 output neurons; for one output z (no sigmoid on it) and "
                 "targets y of its shape, write the binary cross-entropy through softplus, exact for every z: "
                 "(y * F.softplus(-z) + (1 - y) * F.softplus(z)).mean(), as ln σ(z) = -softplus(-z) and "
                 "ln(1 - σ(z)) = -softplus(z) (the log of a sigmoid output is -inf, the cost NaN, once σ rounds to 0 "
                 "or 1)")

#: What PyTorch's nll_loss and NLLLoss are here, after "losses." (said here and by tinygrad_edu.losses).
NLL_ADVICE = ("cross_entropy(logits, labels) on the raw outputs (it takes the log_softmax itself); on "
              "log-probabilities, -log_probs[np.arange(n), labels].mean(), and without .mean() each sample's "
              "(reduction='none'; a policy gradient's ln π(a) is F.log_softmax(logits)[np.arange(n), actions])")

#: PyTorch's costs with a kink (|d| at d = 0, a hinge at its margin), for a prediction p and a target y of one shape
#: (reduction='mean': the mean over every element), written with abs, where and relu; said here and by
#: tinygrad_edu.losses.
PIECEWISE_COSTS = {
    "l1_loss": "abs(p - y).mean(), for a prediction p and a target y (its gradient at p = y is 0, |x|'s at 0)",
    "huber_loss": "F.where(abs(p - y) <= delta, 0.5 * (p - y) ** 2, delta * (abs(p - y) - 0.5 * delta)).mean(), for "
                  "a prediction p and a target y (PyTorch's delta=1.0)",
    "smooth_l1_loss": "F.where(abs(p - y) < beta, 0.5 * (p - y) ** 2 / beta, abs(p - y) - 0.5 * beta).mean(), for a "
                      "prediction p and a target y (PyTorch's beta=1.0: huber_loss's numbers)",
    "hinge_embedding_loss": "F.where(y == 1, x, (margin - x).relu()).mean(), for x and labels y of 1 or -1 "
                            "(PyTorch's margin=1.0); a linear SVM's hinge loss of scores s and labels y of 1 or -1 "
                            "is (1 - y * s).relu().mean()"}
#: PyTorch's negative log-likelihoods, which are a cost of one's own here (every optimizer minimises, as PyTorch's
#: do): the formula, in PyTorch's names of the arguments (said here and by tinygrad_edu.losses).
LIKELIHOOD_ADVICE = {
    **dict.fromkeys(("gaussian_nll_loss", "GaussianNLLLoss"),
                    "(0.5 * (var.log() + (input - target) ** 2 / var)).mean(), the Gaussian negative log-likelihood "
                    "of the targets under means input and variances var, less 0.5·ln 2π (PyTorch's full=False; it "
                    "also raises var to at least eps=1e-6); for a network whose outputs are a mean and a log-variance "
                    "s, (0.5 * (s + (target - mean) ** 2 * (-s).exp())).mean() needs no positive var"),
    **dict.fromkeys(("poisson_nll_loss", "PoissonNLLLoss"),
                    "(input.exp() - target * input).mean(), the Poisson negative log-likelihood of the counts target "
                    "under rates e^input, less the mean of ln(target!), a constant (PyTorch's log_input=True, "
                    "full=False)"),
}

# torch.nn.functional's costs, and this package's looked for here: they are in tinygrad_edu.losses
_COSTS = {"cross_entropy": "losses.cross_entropy(logits, labels)",
          **dict.fromkeys(("binary_cross_entropy", "binary_cross_entropy_with_logits"), "losses." + BINARY_ADVICE),
          "mse_loss": "losses.mean_squared_error(prediction, target), the mean over every element as mse_loss is; "
                      "the seed's cost, summed over the outputs and averaged over the samples, is losses.squared_error",
          "nll_loss": "losses." + NLL_ADVICE,
          "mean_squared_error": "losses.mean_squared_error(prediction, target)",
          "squared_error": "losses.squared_error(prediction, target)"}

# torch's functions with another name here, looked for as F.cat (torch.cat, as F.concatenate), F.clamp, …
_LOG_SIGMOID = "-F.softplus(-x), which is ln σ(x) exact for every x (x.sigmoid().log() is -inf below about -745)"
#: The scores of scaled dot-product attention (q, k, v of shape (..., T, d)), scaled by a Python number so that a
#: float32 block stays float32, and PyTorch's is_causal=True mask: True above the diagonal, the future.
_SCORES = "q @ k.swapaxes(-1, -2) / q.shape[-1] ** 0.5"
_FUTURE = "np.triu(np.ones((q.shape[-2], k.shape[-2]), bool), 1)"
#: PyTorch's layer_norm over the last axis (LayerNorm((d,)), eps=1e-5), said here and by tinygrad_edu.nn.
LAYER_NORM = ("(x - x.mean(-1, keepdims=True)) / (((x - x.mean(-1, keepdims=True)) ** 2).mean(-1, keepdims=True) "
              "+ 1e-5).sqrt() * weight + bias")
#: A convolution's windows by im2col, for x of shape (N, C, H, W) and k×k windows of stride 1 (for a stride s, each
#: window's corner np.arange(oh).repeat(ow) * s, with oh = (H - k) // s + 1): each window one column, an index that
#: adds the gradient up where windows overlap; conv2d is the weights (out_channels, C·k·k) @ these columns.
_WINDOWS_2D = ("x[:, :, r, c].reshape(N, C * k * k, oh * ow), the k×k windows of x (N, C, H, W) as columns, with "
               "oh, ow = H - k + 1, W - k + 1, r = np.arange(k).repeat(k)[:, None] + np.arange(oh).repeat(ow) and c = "
               "np.tile(np.arange(k), k)[:, None] + np.tile(np.arange(ow), oh) (the gradient adds up where windows "
               "overlap; for a stride s, np.arange(oh).repeat(ow) * s and np.tile(np.arange(ow), oh) * s, with oh = "
               "(H - k) // s + 1)")
#: 2×2 pooling of x (N, C, H, W), H and W even, by a reshape and a reduction over the two window axes.
_POOLING = "x.reshape(N, C, H // 2, 2, W // 2, 2).{}(axis=(3, 5)), for 2×2 windows of stride 2 of x (N, C, H, W)"
#: What PyTorch's convolution, pooling and padding are here, written with indexing, reshape, reductions and @.
CONVOLUTION = {"conv2d": f"(weight.reshape(len(weight), -1) @ windows + bias.reshape(1, -1, 1)).reshape(N, -1, oh, "
                         f"ow), for weight (out_channels, C, k, k) and bias (out_channels,), where windows = "
                         f"{_WINDOWS_2D}",
               "unfold": _WINDOWS_2D,
               "max_pool2d": _POOLING.format("max") + " (ties split the gradient evenly)",
               "avg_pool2d": _POOLING.format("mean"),
               "pad": "np.eye(H + 2 * p, H, k=-p) @ x @ np.eye(W, W + 2 * p, k=p), p zeros on each side of the last "
                      "two axes of x (N, C, H, W), F.pad(x, (p, p, p, p)); along one axis, F.concatenate([zeros, x, "
                      "zeros], axis) with zeros = np.zeros(shape) of x's shape but p along that axis"}
#: PyTorch's clamping activations (F.hardtanh, F.relu6; torch.nn's Hardtanh and ReLU6 say them too), with maximum.
CLAMPED = {"hardtanh": "-F.maximum(-F.maximum(v, -1.0), -1.0), v clamped to [-1, 1] (PyTorch's hardtanh passes no "
                       "gradient at a bound itself, this formula ½)",
           "relu6": "-F.maximum(-v.relu(), -6.0), v clamped to [0, 6] (PyTorch's relu6 passes no gradient at 6 "
                    "itself, this formula ½)"}
_RENAMED = {"cat": "F.concatenate(values, axis=0)", "concat": "F.concatenate(values, axis=0)", **CONVOLUTION,
            "scaled_dot_product_attention": f"F.softmax({_SCORES}) @ v; for is_causal=True, "
                                            f"F.softmax(F.where({_FUTURE}, -np.inf, {_SCORES})) @ v (an attn_mask of "
                                            "booleans, True where a query may look: F.where(~attn_mask, -np.inf, "
                                            "scores))",
            "layer_norm": f"{LAYER_NORM}, over the last axis (normalized_shape=(d,)), whose variance divides by d "
                          "as PyTorch's does",
            "linear": "x @ weight.T + bias, for PyTorch's weight of shape (out_features, in_features)",
            "embedding": "weight[ids], an integer array of token ids indexing the rows (the gradient adds up where "
                         "an id repeats)",
            **dict.fromkeys(("clamp", "clip"), write_instead.CLAMP.format(functional="F")),
            **CLAMPED,
            **PIECEWISE_COSTS,
            "minimum": "-F.maximum(-a, -b)",
            "one_hot": "np.eye(num_classes)[indices], an array (an index has no derivative); a policy's ln π(a) is "
                       "F.log_softmax(logits)[np.arange(n), actions], no one-hot product needed",
            "logsigmoid": _LOG_SIGMOID}
_RENAMED_BY_JAX = {"log_sigmoid": _LOG_SIGMOID,  # (jax.nn's)
                   "logsumexp": write_instead.LOGSUMEXP.format(v="x", functional="F")}

if not _typing.TYPE_CHECKING:  # (hidden from type checkers, which would otherwise take F.any_typo for a valid name)
    def __getattr__(name: str) -> Any:
        """``F.cross_entropy``, ``F.mse_loss``: an AttributeError saying where the costs are (``F.cat``: what to
        write)."""
        if name in LIKELIHOOD_ADVICE:  # (in neither module: a cost of one's own)
            raise checks.other_library_name(__name__, name, "PyTorch", f"write the cost, {LIKELIHOOD_ADVICE[name]}")
        where = f": the costs are in tinygrad_edu.losses; use {_COSTS[name]}" if name in _COSTS else next(
            (f" (a {library} name); write {names[name]}"
             for library, names in (("PyTorch", _RENAMED), ("JAX", _RENAMED_BY_JAX)) if name in names), "")
        raise checks.no_attribute(__name__, name, where)


def __dir__() -> list[str]:
    """``dir()`` of this module (and ``F.`` tab completion) lists its API (``__all__``), not its helpers and imports."""
    return sorted(__all__)
