"""Costs (seed, section 5): one number that says how far the network's outputs are from the targets.

    >>> import numpy as np
    >>> from tinygrad_edu import Value, losses
    >>> y = Value([[0.5, 1.0], [0.0, 0.0]])              # two samples, two outputs each
    >>> float(losses.squared_error(y, np.array([[0.0, 1.0], [1.0, 0.0]])))   # (0.25 + 1) / 2
    0.625

Each cost returns a :class:`~tinygrad_edu.Value` of size 1, so ``cost.backward()`` fills the gradients.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import tinygrad_edu.functional as F
from tinygrad_edu import ops
from tinygrad_edu.engine import Value, apply

__all__ = ["squared_error", "mean_squared_error", "cross_entropy", "COSTS"]


def _as_value(x: Any) -> Value:
    return x if isinstance(x, Value) else Value(x, requires_grad=False)


def _matching(name: str, prediction: Any, target: Any) -> tuple[Value, Value]:
    prediction, target = _as_value(prediction), _as_value(target)
    if prediction.shape != target.shape:
        raise ValueError(f"{name}: prediction has shape {prediction.shape} but target has shape "
                         f"{target.shape}; they must be equal")
    if not prediction.size:
        raise ValueError(f"{name}: the batch is empty (shape {prediction.shape})")
    return prediction, target


def squared_error(prediction: Any, target: Any) -> Value:
    """The seed's cost ``C = Σ_j (y_j − y'_j)²`` for one sample, **averaged over the samples** of a batch.

    A single sample ``(k,)`` (or a scalar) gives the plain sum over its ``k`` outputs.  A batch ``(n, k)``
    gives ``(1/n) Σ_s Σ_j (y_sj − y'_sj)²``, so that its gradient is the average of the samples' gradients, as
    in the learning algorithm of seed section 7.1.  For one output per sample (``k = 1``) this equals
    :func:`mean_squared_error`.
    """
    prediction, target = _matching("squared_error", prediction, target)
    return apply(ops.squared_error, prediction, target)  # the formula and its derivative: tinygrad_edu/ops.py


def mean_squared_error(prediction: Any, target: Any) -> Value:
    """The mean of ``(y − y')²`` over all elements (samples and outputs)."""
    prediction, target = _matching("mean_squared_error", prediction, target)
    difference = prediction - target
    return (difference * difference).mean()


def cross_entropy(logits: Any, labels: Any) -> Value:
    """``−(1/n) Σ_s ln softmax(logits_s)[label_s]``: the cost of classification (seed section 4's digits).

    ``logits`` are the raw outputs, shape ``(n, k)`` for ``n`` samples of ``k`` classes (or ``(k,)`` for one).
    ``labels`` are class indices (ints in ``0 … k−1``, shape ``(n,)``) or one-hot rows of the same shape as
    ``logits`` (ints, bools or floats; rows of probabilities work too).  Computed through ``log_softmax``, so
    logits of ±1000 are fine.
    """
    logits = _as_value(logits)
    data = labels.data if isinstance(labels, Value) else np.asarray(labels)
    if logits.ndim not in (1, 2) or not logits.shape[-1]:
        raise ValueError(f"cross_entropy: logits must have shape (n, k) or (k,), got {logits.shape}")
    if not logits.size:
        raise ValueError(f"cross_entropy: the batch is empty (logits of shape {logits.shape})")
    classes = logits.shape[-1]
    if data.shape == logits.shape and data.dtype.kind == "f":
        one_hot = data
    elif data.shape == logits.shape and data.dtype.kind in "iub":
        if data.min() < 0 or not np.all(data.sum(axis=-1) == 1):
            raise ValueError("cross_entropy: integer one-hot rows must hold a single 1 and zeros elsewhere")
        one_hot = data.astype(logits.dtype)
    elif data.shape == logits.shape[:-1]:
        if data.dtype.kind not in "iu" and not (data.dtype.kind == "f" and np.all(data == np.round(data))):
            raise ValueError(f"cross_entropy: class indices must be integers, got dtype {data.dtype}")
        indices = data.astype(np.intp)
        if indices.size and (indices.min() < 0 or indices.max() >= classes):
            raise ValueError(f"cross_entropy: labels must lie in 0 … {classes - 1} for {classes} classes, "
                             f"got values from {indices.min()} to {indices.max()}")
        one_hot = np.eye(classes, dtype=logits.dtype)[indices]
    else:
        raise ValueError(f"cross_entropy: labels of shape {data.shape} do not fit logits of shape "
                         f"{logits.shape}; give class indices of shape {logits.shape[:-1]} or one-hot "
                         f"rows of shape {logits.shape}")
    samples = logits.shape[0] if logits.ndim == 2 else 1
    return (F.log_softmax(logits, axis=-1) * one_hot).sum() * (-1.0 / samples)


#: Costs by name, for command lines and configuration files.
COSTS = {"squared_error": squared_error, "mean_squared_error": mean_squared_error,
         "cross_entropy": cross_entropy}
