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


@checks.pytorch_keywords(inplace=write_instead.PYTORCH_ACTIVATION_KEYWORDS["inplace"])
def relu(x: Any) -> Value:
    """ReLU(x) = max(x, 0), with derivative 1 for x > 0 and 0 otherwise.

    Its second derivative is 0 (wherever it has one): a derivative of a ReLU network with respect to its input is
    a constant in that input, so a cost of second derivatives (a physics-informed u″) cannot train it; tanh,
    sigmoid and softplus have second derivatives."""
    return apply(ops.relu, x)


@checks.pytorch_keywords(inplace=write_instead.PYTORCH_ACTIVATION_KEYWORDS["inplace"],
                         alpha="it is called negative_slope= here (PyTorch's word; Keras's and TensorFlow's alpha=)")
def leaky_relu(x: Any, negative_slope: float = 0.01) -> Value:
    """x for x > 0, ``negative_slope``·x otherwise: ReLU that keeps a small gradient for negative inputs.

    As ReLU's, its second derivative is 0 (wherever it has one).

    ``negative_slope`` is one finite real number (any sign, as in PyTorch); NaN or inf, which would make every
    output at x ≤ 0 NaN, and True/False are errors naming it."""
    if negative_slope.__class__ is not float or not math.isfinite(negative_slope):  # (a float: checked at no cost)
        negative_slope = checks.number(negative_slope, "negative_slope", "leaky_relu")
    return apply(ops.leaky_relu, x, negative_slope=negative_slope)


@checks.pytorch_keywords(beta=write_instead.PYTORCH_ACTIVATION_KEYWORDS["beta"],
                         threshold=write_instead.PYTORCH_ACTIVATION_KEYWORDS["threshold"])
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
    number; its axis is then None (numpy reduces a 0-d array over axis=0, but not over axis=(0,)).  ``axis=()`` is
    refused for an input with axes (numpy's max and sum over no axes would make each entry a distribution of its own,
    all ones); a number's is its one axis, as above."""
    if axis is None:
        return None
    axes = axis if isinstance(axis, tuple) else (axis,)
    if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes):
        raise TypeError(f"{name}: axis must be an int, a tuple of ints or None, got {axis!r}")
    shape = _shape(x)
    if shape is None:  # not an array: apply says what is wrong with it
        return axis
    if not axes and shape:  # (numpy's max and sum over no axes are the identity: all ones, a log_softmax of 0s)
        raise ValueError(f"{name}: axis=() names no axis of the input of shape {shape} to normalize over (each "
                         "entry alone would be a distribution, all ones); give one (axis=-1), several "
                         "(axis=(0, 1)), or None for all of them")
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
        return apply(ops.concatenate(len(values)), *values, axis=axis)
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
    return apply(ops.stack(len(values)), *values, axis=axis)


#: The most inputs one recorded join takes.  The backward pass hands each input's vjp all the inputs of its operation
#: (``vjp(g, out, *inputs)``), so one join of n Values took time n² to differentiate (16,000 Values: 4 s); a tree of
#: joins of at most this many takes time n·_FAN_IN.
_FAN_IN = 32


def _recorded(values: list[Any]) -> bool:
    """Whether a join of ``values`` goes into the graph (else one join is faster, and there is no backward pass)."""
    return is_grad_enabled() and any(isinstance(v, Value) and v.requires_grad for v in values)


def _in_a_tree(values: list[Any], join: Callable[[int], ops.Op], axis: int | None) -> Value:
    """``apply(join(len(values)), *values, axis=axis)`` (one join of them all) made as a balanced tree: ``join`` of
    groups of at most ``_FAN_IN`` values, then concatenations of their results along ``axis``, each of at most
    ``_FAN_IN``, down to one.  Joining only copies numbers, so each comes out as one join gives it, to the bit.
    Python numbers take the dtype of the other values together as in one join (numpy's rule); what one join refuses
    is refused, with the one join's error."""
    try:
        dtype = np.result_type(*[v.dtype if isinstance(v, Value) else np.asarray(v).dtype
                                 for v in values if v.__class__ not in (int, float, bool)])
        parts: list[Any] = [np.asarray(v, dtype) if v.__class__ in (int, float, bool) else v for v in values]
        first = join
        while len(parts) > _FAN_IN:
            size = -(-len(parts) // -(-len(parts) // _FAN_IN))  # groups of (nearly) equal size
            parts = [apply(first(len(group)), *group, axis=axis)
                     for group in (parts[i:i + size] for i in range(0, len(parts), size))]
            first = ops.concatenate
        return apply(first(len(parts)), *parts, axis=axis)
    except (TypeError, ValueError, IndexError, FloatingPointError):
        # the error of the one join (or, should it work, its result)
        return apply(join(len(values)), *values, axis=axis)


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
    """Element-wise max(a, b); the gradient goes to the larger input, split evenly at a tie (as PyTorch's).  A NaN
    propagates, and the gradient goes to it (split where both are NaN), as ``Value.max`` and PyTorch send it."""
    return apply(ops.maximum, a, b)


def where(condition: Any, a: Any, b: Any) -> Value:
    """``a`` where ``condition`` holds, ``b`` elsewhere; the gradient flows only to the chosen side.  A condition of
    numbers holds where they are not 0; a NaN in it is refused (numpy would take it for true).

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
    if condition.dtype.kind == "f" and np.isnan(condition).any():  # (numpy reads NaN as true: a silent choice)
        at = checks.first_index(np.isnan(condition))
        raise ValueError(f"where: the condition holds NaN (at index {at} of shape {condition.shape}), which is neither "
                         "true nor false; compare first (x > 0, ~np.isnan(x))")
    shapes = [condition.shape, _shape(a), _shape(b)]
    try:
        np.broadcast_shapes(*(shape for shape in shapes if shape is not None))  # (a non-array: apply says why)
    except ValueError:
        raise ValueError(f"where: condition, a and b of shapes {' and '.join(map(str, shapes))} "
                         "cannot be broadcast together") from None
    return apply(ops.where, a, b, condition=np.asarray(condition, dtype=bool))  # (the engine keeps a copy)


#: Activation functions by name, for ``Layer(..., activation="relu")``.
ACTIVATIONS = {"sigmoid": sigmoid, "relu": relu, "tanh": tanh, "leaky_relu": leaky_relu, "softplus": softplus,
               "identity": identity}



if not _typing.TYPE_CHECKING:  # (hidden from type checkers, which would otherwise take F.any_typo for a valid name)
    @checks.advice_on_import
    def __getattr__(name: str) -> Any:
        """``F.cross_entropy``, ``F.mse_loss``: an AttributeError saying where the costs are (``F.cat``: what to
        write, from :mod:`tinygrad_edu.write_instead`'s tables)."""
        likelihoods, costs = write_instead.LIKELIHOOD_ADVICE, write_instead.FUNCTIONAL_COSTS
        own = (likelihoods.get(name) or write_instead.PIECEWISE_COSTS.get(name)
               or write_instead.PYTORCH_COSTS.get(name))
        if own is not None:  # (in neither module: a cost of one's own, as losses.name says it)
            raise checks.other_library_name(__name__, name, "PyTorch", f"write the cost, {own}")
        where = f": the costs are in tinygrad_edu.losses; use {costs[name]}" if name in costs else next(
            (f" (a {library} name); write {names[name]}"
             for library, names in (("PyTorch", write_instead.PYTORCH_FUNCTIONAL),
                                    ("PyTorch", write_instead.PYTORCH_ACTIVATIONS),  # (F.gelu)
                                    ("PyTorch", write_instead.PYTORCH_FUNCTIONS),  # (F.dropout, F.normalize)
                                    ("PyTorch", write_instead.PYTORCH_IN_PLACE),
                                    ("JAX", write_instead.JAX_FUNCTIONAL)) if name in names), "")
        if name.lower() in ("sigma", "σ"):  # the seed's letter, too far from "sigmoid" for Python's "Did you mean"
            where = f" ({write_instead.SEED_SIGMA}: F.sigmoid here)"  # (as nn's activation="sigma" says it)
        raise checks.no_attribute(__name__, name, where)


def __dir__() -> list[str]:
    """``dir()`` of this module (and ``F.`` tab completion) lists its API (``__all__``), not its helpers and imports."""
    return sorted(__all__)
