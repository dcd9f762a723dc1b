"""Costs (seed, section 5): one number that says how far the network's outputs are from the targets.

    >>> import numpy as np
    >>> from tinygrad_edu import Value, losses
    >>> y = Value([[0.5, 1.0], [0.0, 0.0]])              # two samples, two outputs each
    >>> float(losses.squared_error(y, np.array([[0.0, 1.0], [1.0, 0.0]])))   # (0.25 + 1) / 2
    0.625

Each cost returns a :class:`~tinygrad_edu.Value` of size 1, so ``cost.backward()`` fills the gradients.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

import tinygrad_edu.functional as F
from tinygrad_edu import checks, ops, write_instead
from tinygrad_edu.engine import Value, apply

__all__ = ["squared_error", "mean_squared_error", "cross_entropy", "COSTS", "pytorch_cost_advice"]


def _as_value(x: Any, cost: str, what: str) -> Value:
    if isinstance(x, Value):
        return x
    if callable(x):  # (a model, a layer, a function: numpy's "dtype object")
        verb, second = "are" if what.endswith("s") else "is", "labels" if cost == "cross_entropy" else "targets"
        raise TypeError(f"{cost}: {what} {verb} the {type(x).__name__} itself (a model or a function), not its "
                        f"outputs: call the model on the inputs, {cost}(model(inputs), {second})")
    checks.unmasked(x, what, cost)  # (as cross_entropy's labels: not "must be an array of real numbers")
    checks.not_a_dataset(x, what, cost, "call the model on its inputs, model(data.inputs)")
    try:
        return Value(x, requires_grad=False)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{cost}: {what} must be an array of real numbers ({error})") from None


def _as_target(target: Any, prediction: Value, cost: str) -> Value:
    """The target as a Value of the dtype numpy's rule gives ``prediction − target``: a Python number, or an array
    of bools, small integers or float16, keeps a float32 prediction's cost float32 (as in PyTorch)."""
    checks.not_a_dataset(target, "the target", cost, "give its .labels (one_hot(data.labels) for several outputs)")
    value, dtype = _as_value(target, cost, "the target"), prediction.data.dtype
    if value.data.dtype is not dtype and target is not value and (  # (`is`: the common case decided at once)
            target.__class__ in (int, float, bool) or np.result_type(np.asarray(target).dtype, dtype) == dtype):
        with np.errstate(over="ignore"):  # (1e300 in float32 is inf: the caller names it)
            return Value(value.data.astype(dtype), requires_grad=False)
    return value


def _column_hint(prediction: tuple[int, ...], target: tuple[int, ...], given: Any = None,
                 numbers: np.ndarray | None = None) -> str:
    """How to fit one target per sample, (n,) or a row (1, n), to a network's one output per sample, (n, 1), or
    back; or class labels, (n,), to k output neurons, (n, k); or one number per sample that is no class label (a
    regression's target of one output) to k outputs; or one sample's target, a column (k, 1) as the seed writes it
    or flat, to its prediction, a row (1, k); or one-hot rows of a column of labels, (n, 1, k), to (n, k); or one
    number, shape (), to several.  ``given``: the targets as given (pandas' Series has no reshape); ``numbers``:
    their numbers (None: taken for class labels)."""
    if (not target and prediction[:-1] in ((), (1,)) and numbers is not None  # (one sample, or a batch of one)
            and not isinstance(given, (bool, np.bool_)) and _class_labels(numbers, prediction[-1])):
        label = int(numbers) if len(prediction) == 1 else [int(numbers)]
        return (f" (the class label {int(numbers)} of {prediction[-1]} output neurons? its target is a one-hot row: "
                f"data.one_hot({label}, classes={prediction[-1]}); np.full({prediction}, y) where all are y)")
    if not target and math.prod(prediction) > 1:
        return (f" (one number as the target of {math.prod(prediction)} predicted numbers: give a target for each, "
                f"an array of shape {prediction}; np.full({prediction}, y) where they are all y)")
    if len(target) == 1 and prediction == (*target, 1):
        column = "targets.to_numpy().reshape(-1, 1)" if hasattr(given, "to_numpy") else "targets.reshape(-1, 1)"
        return f" (one target per sample: give them as a column, {column})"
    if len(prediction) == 2 and prediction[1] == 1 < prediction[0] and target == (1, prediction[0]):
        return (f" (targets of shape {target} are one row: one target per sample is a column here, as the "
                f"predictions are: targets.T, or targets.reshape(-1, 1))")
    # (not targets.ravel(): a flat prediction is one sample of n outputs, and squared_error's cost their sum)
    if len(prediction) == 1 and target == (*prediction, 1):
        return " (one output per sample: make the prediction a column too, prediction.reshape(-1, 1))"
    if len(prediction) == 2 and prediction[1] > 1 and target in ((prediction[0],), (prediction[0], 1)):
        if numbers is not None and not _class_labels(numbers, prediction[1]):
            return (f" (one number per sample, but the model gives {prediction[1]} outputs per sample: give "
                    f"{prediction[1]} targets per sample, shape {prediction}, or a model with one output)")
        return (f" (one class label per sample? the targets of {prediction[1]} output neurons are one-hot rows: "
                f"data.one_hot(labels, classes={prediction[1]}))")
    if len(prediction) == 2 and prediction[0] == 1 < prediction[1] and target in ((prediction[1], 1), prediction[1:]):
        given_as = "as a column, as the seed writes y'" if len(target) == 2 else "flat"
        return (f" (one sample of {prediction[1]} outputs is a row here, and its targets were given {given_as}: "
                "give them as a row too, targets.reshape(1, -1))")
    return (_one_hot_column(prediction, target) or _transposed(prediction, target, "targets", "prediction has")
            or _one_hot_width(prediction, target, numbers))


def _transposed(prediction: tuple[int, ...], target: tuple[int, ...], name: str, outputs: str) -> str:
    """For targets ``(k, n)`` against a prediction ``(n, k)``, n ≠ k: a column per sample, not a row."""
    if len(prediction) != 2 or prediction[0] == prediction[1] or target != prediction[::-1]:
        return ""
    return f" ({name} of shape {target} hold a column per sample, but the {outputs} a row per sample: {name}.T)"


def _one_hot_width(prediction: tuple[int, ...], target: tuple[int, ...], numbers: np.ndarray | None,
                   labels: str = "labels") -> str:
    """For one-hot rows (n, m) against a prediction (n, k) of k > 1 outputs, m ≠ k: ``data.one_hot`` of other
    classes than the model's outputs (its default, 10, for 3 classes); ``labels``: the class labels, as the advice
    writes them (cross_entropy, whose labels are these rows: their argmax)."""
    if (numbers is None or len(prediction) != 2 or prediction[1] < 2 or len(target) != 2 or target[0] != prediction[0]
            or not np.isin(numbers, (0, 1)).all() or not (numbers.sum(axis=1) == 1).all()):
        return ""
    k, largest = prediction[1], int(numbers.argmax(axis=1).max()) if len(numbers) else 0
    if largest < k:
        return f" (one-hot rows of {target[1]} classes for {k} outputs: data.one_hot({labels}, classes={k}))"
    return f" (one-hot rows of {target[1]} classes, with labels up to {largest}: a model of {largest + 1} outputs)"


def _one_hot_column(prediction: tuple[int, ...], target: tuple[int, ...]) -> str:
    """For targets (n, 1, k) against a prediction (n, k) of k > 1 classes: ``data.one_hot`` of a column of labels,
    (n, 1), which gives one row more per label (its shape is the labels' shape and k)."""
    if len(prediction) != 2 or prediction[1] < 2 or target != (prediction[0], 1, prediction[1]):
        return ""
    return (f" (one-hot rows of a column of labels, shape (n, 1)? give the labels flat: "
            f"data.one_hot(labels.reshape(-1), classes={prediction[1]}))")


def _class_labels(numbers: np.ndarray, classes: int) -> bool:
    """Whether ``numbers`` could be class labels of ``classes`` classes: whole numbers in 0 … classes − 1."""
    with np.errstate(invalid="ignore"):
        return bool(np.all((numbers >= 0) & (numbers < classes) & (numbers == np.round(numbers))))


def _matching(name: str, prediction: Any, target: Any) -> tuple[Value, Value]:
    given_target = target
    prediction = _as_value(prediction, name, "the prediction")
    target = _as_target(target, prediction, name)
    shape = prediction.data.shape  # (read once through .data, a C-level property; .shape and .size are Python's)
    if shape != target.data.shape and prediction.data.size == target.data.size == 1:  # one number for one: the seed's
        target = target.reshape(shape)  # C = (α^L − y')² of one output, y' a number (not an array of it)
    if shape != target.data.shape:
        hint = _column_hint(prediction.shape, target.shape, given_target, target.data)
        raise ValueError(f"{name}: prediction has shape {prediction.shape} but target has shape "
                         f"{target.shape}; they must be equal{hint}")
    if not prediction.data.size:
        raise ValueError(f"{name}: the batch is empty (shape {prediction.shape})")
    # (Σt² first, one call, as the optimizers' finite check: inf or NaN for any NaN or inf, and without numpy's
    # warning for finite numbers whose squares overflow, which only the element-wise test below then tells apart)
    if not isinstance(given_target, Value) and not math.isfinite(np.vdot(target.data, target.data)) and \
            not np.isfinite(target.data).all():
        raise ValueError(f"{name}: the target holds NaN or inf (at index "
                         f"{checks.first_index(~np.isfinite(target.data))})")
    return prediction, target


def _sample_weights(cost: str) -> str:
    """The advice for scikit-learn's ``sample_weight=`` (and ``weight=``, ``weights=``): ``cost`` weighted, written
    out with weights ``w`` of one per sample, and how to give them to fit."""
    return (f"no cost here takes weights; with weights w of shape (n, 1), one per sample, the weighted cost is "
            f"{cost} (a flat w of shape (n,) would pair every sample with every weight: w.reshape(-1, 1)); to fit, "
            "give w as another column of the targets (see fit's sample_weight= advice)")


# the weighted costs: squared_error's sum over the k outputs, mean_squared_error's mean over them too
_WEIGHTED_SUM = _sample_weights("(w * (prediction - target) ** 2).sum() / w.sum()")
_WEIGHTED_MEAN = _sample_weights("(w * (prediction - target) ** 2).sum() / (w.sum() * k) for k outputs")


@checks.pytorch_keywords(input="it is called prediction= here",
                         reduction="it is the seed's cost, the sum over the outputs averaged over the samples; "
                                   "mean_squared_error is PyTorch's reduction='mean'",
                         sample_weight=_WEIGHTED_SUM, weight=_WEIGHTED_SUM, weights=_WEIGHTED_SUM)
def squared_error(prediction: Any, target: Any) -> Value:
    """The seed's cost ``C = Σ_j (y_j − y'_j)²`` for one sample, **averaged over the samples** of a batch.

    A single sample ``(k,)`` (or a scalar) gives the plain sum over its ``k`` outputs.  A batch ``(n, k)``
    gives ``(1/n) Σ_s Σ_j (y_sj − y'_sj)²``, so that its gradient is the average of the samples' gradients, as
    in the learning algorithm of seed section 7.1.  A column ``(k, 1)``, the seed's column vector of one sample, is
    read as ``k`` samples of one output each, so its cost is the mean of the ``k`` squares, not the seed's sum:
    give one sample as ``(k,)`` or as a row ``(1, k)``.  For one output per sample (``k = 1``) this equals
    :func:`mean_squared_error`; for ``k`` outputs it is ``k`` times it.  In PyTorch's words it is
    ``MSELoss(reduction='sum')`` divided by the number of samples ``n`` (``reduction='sum'`` alone for one sample).
    A target of one number for a prediction of one number, the seed's ``(α^L − y')²`` with ``y'`` a number, is
    taken in the prediction's shape (here and in :func:`mean_squared_error`); one number for several is refused.
    It is finite wherever its value is, though the squares or their sum overflow (two samples 1e154 off cost 1e308;
    numpy still warns of that overflow, as the fast sum is tried first); under ``np.errstate(all="raise")`` it raises
    only where the cost itself overflows.
    """
    prediction, target = _matching("squared_error", prediction, target)
    return apply(ops.squared_error, prediction, target)  # the formula and its derivative: tinygrad_edu/ops.py


@checks.pytorch_keywords(input="it is called prediction= here",
                         reduction="it is always the mean (PyTorch's reduction='mean'); for the sum, multiply by "
                                   "the number of elements",
                         sample_weight=_WEIGHTED_MEAN, weight=_WEIGHTED_MEAN, weights=_WEIGHTED_MEAN)
def mean_squared_error(prediction: Any, target: Any) -> Value:
    """The mean of ``(y − y')²`` over all elements (samples and outputs): PyTorch's ``MSELoss()``
    (``reduction='mean'``).  For a batch ``(n, k)`` it is :func:`squared_error` divided by ``k``.  It is that op
    with each element taken for a sample of one output, so it is finite wherever its value is, as squared_error."""
    prediction, target = _matching("mean_squared_error", prediction, target)
    if prediction.size > 1 and prediction.shape != (prediction.size, 1):  # (one number, or a column: as they are)
        prediction, target = prediction.reshape(-1, 1), target.reshape(-1, 1)
    return apply(ops.squared_error, prediction, target)  # Σ(y − y')² / (n·k)


@checks.pytorch_keywords({"targets": "it is called labels= here (class labels, or rows of probabilities)"},
                         input="it is called logits= here", target="it is called labels= here",
                         reduction="it is always the mean over the samples (PyTorch's reduction='mean'); for the "
                                   "sum, multiply by the number of samples; each sample's cost (reduction='none', "
                                   "to weigh by advantages, say) is -F.log_softmax(logits)[np.arange(n), labels]",
                         ignore_index="every label counts here; leave those samples out instead: "
                                      "keep = labels != -100, then cross_entropy(logits[keep], labels[keep])",
                         sample_weight="no sample is weighted here; with weights w of shape (n,), one per sample, "
                                       "compute -(w * F.log_softmax(logits)[np.arange(n), labels]).sum() / w.sum()",
                         weight="the classes are not weighted here; compute "
                                "-(w[labels] * F.log_softmax(logits)[np.arange(n), labels]).sum() / w[labels].sum()",
                         label_smoothing="give the smoothed rows as labels instead (rows of probabilities): "
                                         "(1 - eps) * data.one_hot(labels, classes=k).astype(logits.dtype) + eps / k")
def cross_entropy(logits: Any, labels: Any) -> Value:
    """``−(1/n) Σ_s ln softmax(logits_s)[label_s]``: the cost of classification (seed section 4's digits).

    ``logits`` are the raw outputs, shape ``(n, k)`` for ``n`` samples of ``k`` classes (or ``(k,)`` for one):
    those of an output layer with ``activation='identity'``, for a sigmoid's outputs, all in (0, 1), keep the cost
    above ln(1 + (k − 1)/e), 1.46 for the 10 digits (``fit`` warns of it, and of a tanh's floor).
    ``labels`` are class indices (ints in ``0 … k−1``, shape ``(n,)``) or one-hot rows of the same shape as
    ``logits`` (ints, bools or floats; rows of probabilities work too).  Computed through ``log_softmax``, so
    logits of ±1000 are fine.  Rows of probabilities given as a Value get their gradient too (soft targets from
    another network), as in PyTorch; class indices and one-hot rows of ints have none.  Class indices and integer
    one-hot rows take only the labelled classes' log probabilities, so a logit of −inf (a class ruled out)
    elsewhere in the row costs nothing, as in PyTorch; rows of floats weigh every class, and 0 · (−inf) is NaN.
    A row with no possible class (every logit −inf) or with a logit of +inf has no softmax: its cost is NaN, as in
    PyTorch.  Logits of one class (one output neuron, as scikit-learn's binary classifiers have) have a softmax of
    1, so label 0 would cost 0 with a gradient of 0 and train nothing: every label (class indices, even all 0, and
    targets of the logits' shape given as data, a column of 0/1 or of only 1s) is refused with the advice to give
    the network 2 output neurons (soft targets given as a Value, such as ``F.softmax(u)`` of one class, cost 0, as in
    PyTorch).  With one output ``z`` (no sigmoid on it) and targets
    ``y`` of its shape, the binary cross-entropy
    ``−[y·ln σ(z) + (1 − y)·ln(1 − σ(z))]`` is ``(y * F.softplus(-z) + (1 - y) * F.softplus(z)).mean()``, exact for
    every ``z``, with gradient ``(σ(z) − y)/n``; written with ``z.sigmoid().log()`` it is NaN once σ rounds to 0 or 1.
    It is this function's cost on the logits ``[0, z]``, so both routes draw the same decision boundary.
    One class index for logits ``(1, k)``, one sample, is that sample's label, as for logits ``(k,)``.
    """
    logits = _as_value(logits, "cross_entropy", "the logits")
    if logits.ndim not in (1, 2) or not logits.shape[-1]:
        k = logits.shape[-1] if logits.ndim > 2 else 0  # (batch, positions, classes): each position a sample
        given = _shape_of(labels)  # labels that fit one layout only: the advice for that one alone
        by_position = given in (logits.shape[:-1], logits.shape)
        by_axis_1 = logits.ndim > 2 and given == (logits.shape[0], *logits.shape[2:])
        rows = (f"; for logits of {k} classes at each position, take each position for a sample: cross_entropy("
                f"logits.reshape(-1, {k}), labels.reshape(-1)) (one-hot rows: labels.reshape(-1, {k}))"
                if k > 1 and not (by_axis_1 and not by_position) else "")
        if logits.ndim > 2 and logits.shape[1] > 1 and not (by_position and not by_axis_1):
            n, k = logits.shape[:2]  # (PyTorch's layout (n, k, d1, …), a convolution's output)
            rows += ("; with the classes on axis 1, as a convolution gives them (PyTorch's (n, k, d1, …)): "
                     + (f"cross_entropy(logits.reshape({n}, {k}), labels)" if logits.size == n * k else
                        f"cross_entropy(np.moveaxis(logits, 1, -1).reshape(-1, {k}), labels.reshape(-1))"))
        raise ValueError(f"cross_entropy: logits must have shape (n, k) or (k,), got {logits.shape}{rows}")
    if not logits.size:
        raise ValueError(f"cross_entropy: the batch is empty (logits of shape {logits.shape})")
    data = _labels_array(labels, logits.shape[-1])
    if not data.ndim and logits.shape[0] == 1 < logits.ndim:  # one label for one sample, as for logits of shape (k,)
        data = data.reshape(1)
    targets = _targets_of_classes(data, logits.shape, given_as_value=isinstance(labels, Value))
    samples = logits.shape[0] if logits.ndim == 2 else 1
    log_probabilities = F.log_softmax(logits, axis=-1)
    if targets.dtype.kind == "f":  # rows of probabilities: a Value of them keeps its graph (∂C/∂q = −ln softmax / n)
        picked = log_probabilities * (labels if isinstance(labels, Value) else targets)
    else:  # class indices
        picked = log_probabilities[np.arange(samples), targets] if logits.ndim == 2 else log_probabilities[int(targets)]
    return (0.0 - picked.sum()) / samples  # (0 − Σ, not −1 · Σ: a sure right answer costs 0.0, not −0.0)


def _targets_of_classes(data: np.ndarray, shape: tuple[int, ...], given_as_value: bool) -> np.ndarray:
    """:func:`_targets`, where logits of one class (``shape`` (n, 1)) refuse every label: their softmax is 1, so
    the cost is 0 with a gradient of 0 for labels 0 (class indices, or a column of 1s), and a binary problem's column
    of 0/1 targets, or a batch of only negatives, trained nothing.  Soft targets of their shape ``given_as_value``
    (another network's one-class softmax) are kept: a cost of 0, as in PyTorch (under ``no_grad`` as with recording
    on, where a computed Value and a Value of numbers cannot be told apart)."""
    if shape[-1] == 1 and data.shape in (shape, shape[:-1]) and not (given_as_value and data.shape == shape):
        raise ValueError(f"cross_entropy: logits of shape {shape} hold one class (one output neuron), whose softmax "
                         "is always 1: label 0 costs 0 with a gradient of 0, so nothing trains, and there is no "
                         "other label; two classes need 2 output neurons, with labels 0 and 1 (or one sigmoid "
                         f"output, targets of shape {shape} and losses.squared_error; or one output z without a "
                         "sigmoid and the binary cross-entropy (y * F.softplus(-z) + (1 - y) * "
                         "F.softplus(z)).mean())")
    return _targets(data, shape)


def _shape_of(labels: Any) -> tuple[int, ...] | None:
    """The shape of ``labels`` as given (a Value, an array, a list), or None where they have none (ragged lists)."""
    try:
        return tuple(np.shape(labels.data if isinstance(labels, Value) else labels))
    except (TypeError, ValueError):
        return None


def _labels_array(labels: Any, classes: int) -> np.ndarray:
    if isinstance(labels, Value):
        return labels.data
    checks.unmasked(labels, "the labels", "cross_entropy")
    checks.not_a_dataset(labels, "the labels", "cross_entropy", "give its .labels")
    checks.not_an_array(labels, "the labels", "cross_entropy")  # (a torch tensor that requires grad: torch's error)
    try:
        data = np.asarray(labels)
    except (ValueError, TypeError) as error:  # ragged nested lists
        raise ValueError(f"cross_entropy: the labels are not an array of numbers: {error}") from None
    return checks.label_numbers(labels, data, "cross_entropy", classes)


def _targets(data: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The labels as class indices (shape ``shape[:-1]``: integer one-hot rows become indices), or as rows of
    target probabilities (floats of ``shape``)."""
    if data.shape == shape:
        if data.dtype.kind == "f":
            return _probability_rows(data, _one_sample(shape, data.shape, "row of probabilities"))
        if data.dtype.kind not in "iub":
            raise ValueError(f"cross_entropy: one-hot rows must be integers or floats, got dtype {data.dtype}")
        if data.min() < 0 or data.max() > 1 or not np.all(data.sum(axis=-1) == 1):  # (0/1: no sum wraps to 1)
            raise ValueError("cross_entropy: integer one-hot rows must hold a single 1 and zeros elsewhere"
                             + _one_sample(shape, data.shape, "one-hot row"))
        return data.argmax(axis=-1)
    if data.shape == shape[:-1]:
        return _class_indices(data, shape[-1])
    raise ValueError(f"cross_entropy: labels of shape {data.shape} do not fit logits of shape {shape}; give "
                     f"class indices of shape {shape[:-1]} or one-hot rows of shape {shape}"
                     + (_one_hot_column(shape, data.shape) or _transposed(shape, data.shape, "labels", "logits hold")
                        or _flat_labels(shape, data.shape) or _one_sample(shape, data.shape)
                        or _one_hot_width(shape, data.shape, data if data.dtype.kind in "biuf" else None,
                                          "np.argmax(labels, axis=-1)")))


def _one_sample(shape: tuple[int, ...], given: tuple[int, ...], read_as: str = "") -> str:
    """For logits ``(k,)``, one sample, met by labels ``given`` of n > 0 rows (of their shape, ``read_as`` its one-hot
    row or row of probabilities): likely n samples' logits, one number each, given with their n class labels."""
    if len(shape) != 1 or not given or not given[0]:
        return ""
    n = given[0]
    read = f", so labels of shape {shape} are read as its {read_as}" if given == shape else ""
    return (f"; logits of shape {shape} are one sample with {shape[0]} classes{read}: for {n} samples, give logits "
            f"of shape ({n}, classes), a row of one logit per class for each sample (an output layer of one neuron "
            f"per class), and labels of shape ({n},), each sample's class index")


def _flat_labels(shape: tuple[int, ...], given: tuple[int, ...]) -> str:
    """For class labels as a column ``(n, 1)`` or a row ``(1, n)`` against logits ``(n, k)`` of k > 1 classes."""
    if len(shape) != 2 or shape[1] < 2 or given not in ((shape[0], 1), (1, shape[0])):
        return ""
    return f" (class labels as a {'column' if given[1] == 1 else 'row'}? give them flat: labels.reshape(-1))"


def _class_indices(data: np.ndarray, classes: int) -> np.ndarray:
    """Whole numbers in ``0 … classes − 1`` (ints, or floats holding whole numbers) as indices; checked before
    any conversion, so that 1e20 is reported as 1e20."""
    if data.dtype.kind not in "iuf":
        two = ("; for the two classes False and True, np.asarray(labels).astype(int) (and logits of 2 columns)"
               if data.dtype.kind == "b" else "")
        raise ValueError(f"cross_entropy: class indices must be integers, got dtype {data.dtype}{two}")
    if data.dtype.kind == "f" and not np.all(whole := np.isfinite(data) & (data == np.round(data))):
        at = checks.first_index(~whole)
        missing = "; a missing label? leave that sample out" if np.isnan(data[at]) else ""
        raise ValueError(f"cross_entropy: class indices must be integers, got {data[at]} at index "
                         f"{at[0] if len(at) == 1 else at} (labels of shape {data.shape}, dtype {data.dtype}): give "
                         f"whole numbers, ints in 0 … {classes - 1}{missing}")
    if data.size and (data.min() < 0 or data.max() >= classes):
        at = checks.first_index((data < 0) | (data >= classes))
        low, high = data.min(), data.max()
        if low >= 1 and high == classes:
            advice = f"counted from 1? give np.asarray(labels) - 1, for 0 … {classes - 1}"
        elif low < 0:
            advice = ("a negative label is no class (PyTorch's ignore_index, -100?): leave those samples out, "
                      "labels = np.asarray(labels); keep = labels >= 0; cross_entropy(logits[keep], labels[keep])")
        elif float(high) < 1 << 16:  # (float: 1 << 16 is inf in float16, with numpy's warning)
            advice = (f"the logits have {classes} columns, one per class: {int(high) + 1} classes need an output "
                      f"layer of {int(high) + 1} neurons")
        else:
            advice = f"class indices count the classes: give ints in 0 … {classes - 1}"
        raise ValueError(f"cross_entropy: labels must lie in 0 … {classes - 1} for {classes} classes, got "
                         f"{data[at]} at index {at[0] if len(at) == 1 else at} (values from {low} to {high}); "
                         f"{advice}")
    return data.astype(np.intp)


def _probability_rows(data: np.ndarray, hint: str = "") -> np.ndarray:
    """Float targets must be distributions: finite, non-negative, each row summing to 1 (within 1e-3); ``hint``
    ends the error."""
    if not np.isfinite(data).all() or data.min() < 0:
        raise ValueError("cross_entropy: float target rows must be probabilities, but they hold a negative "
                         f"number, NaN or inf{hint}")
    sums = data.sum(axis=-1)
    if not np.all(np.abs(sums - 1) <= 1e-3):
        raise ValueError(f"cross_entropy: float target rows must be probabilities summing to 1; a row sums to "
                         f"{sums.flat[np.argmax(np.abs(sums - 1))]:g}{hint}")
    return data


#: Costs by name, for command lines and configuration files.
COSTS = {"squared_error": squared_error, "mean_squared_error": mean_squared_error,
         "cross_entropy": cross_entropy}


# the binary cross-entropy here, for PyTorch's and Keras's names of it
_BINARY = write_instead.BINARY_ADVICE

# the seed's cost, beside the mean squared error of the other libraries' names
_SEED_COST = ("the seed's cost, summed over the outputs and averaged over the samples, is "
              "squared_error(prediction, target)")
# Keras's cross-entropies on the raw outputs
_FROM_LOGITS = ("on the raw outputs (an output layer with activation='identity': it takes the softmax itself, Keras's "
                "from_logits=True)")

# PyTorch's names for the costs (torch.nn.functional's and torch.nn's), and what they are here
_PYTORCH_NAMES = {
    **dict.fromkeys(("mse_loss", "MSELoss"), f"mean_squared_error(prediction, target), the mean over every element; "
                                             f"{_SEED_COST}"),
    "CrossEntropyLoss": "cross_entropy(logits, labels), on the raw outputs (it takes the log_softmax itself)",
    **dict.fromkeys(("nll_loss", "NLLLoss"), write_instead.NLL_ADVICE),
    **dict.fromkeys(("binary_cross_entropy", "binary_cross_entropy_with_logits", "BCELoss", "BCEWithLogitsLoss"),
                    _BINARY),
}

# torch.nn's classes of the costs with a kink, by torch.nn.functional's names (write_instead.PIECEWISE_COSTS)
_PIECEWISE_CLASSES = {"L1Loss": "l1_loss", "HuberLoss": "huber_loss", "SmoothL1Loss": "smooth_l1_loss",
                      "HingeEmbeddingLoss": "hinge_embedding_loss"}

# Keras's names for the costs (as strings to compile's loss=, and as keras.losses' functions and classes), and what
# they are here: fit's error for cost='mse' and this module's __getattr__ say them
KERAS_NAMES = {
    **dict.fromkeys(("mse", "MSE", "mean_squared_error", "MeanSquaredError"),
                    "mean_squared_error(prediction, target), the mean over every element as Keras's mse; "
                    + _SEED_COST),
    **dict.fromkeys(("categorical_crossentropy", "CategoricalCrossentropy"),
                    f"cross_entropy(logits, labels) with one-hot rows as labels, {_FROM_LOGITS}"),
    **dict.fromkeys(("sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"),
                    f"cross_entropy(logits, labels) with class indices as labels, {_FROM_LOGITS}"),
    **dict.fromkeys(("binary_crossentropy", "BinaryCrossentropy"), _BINARY),
}


def pytorch_cost_advice(name: str) -> str | None:
    """What to write for PyTorch's cost ``name`` (torch.nn.functional's ``mse_loss``, torch.nn's ``MSELoss``), as
    ``losses.name`` and ``nn.name`` say it; None for a name that is not one of PyTorch's costs."""
    if not isinstance(name, str):
        raise TypeError(f"pytorch_cost_advice: name must be a str, got {type(name).__name__}")
    # a cost with a kink or a negative log-likelihood: one's own, written with F = tinygrad_edu.functional
    formula = (write_instead.PIECEWISE_COSTS.get(_PIECEWISE_CLASSES.get(name, name))
               or write_instead.LIKELIHOOD_ADVICE.get(name)
               or write_instead.PYTORCH_COSTS.get(write_instead.PYTORCH_COST_CLASSES.get(name, name)))
    if formula is not None:
        return f"write the cost, {formula}"
    return f"use losses.{_PYTORCH_NAMES[name]}" if name in _PYTORCH_NAMES else None


if not TYPE_CHECKING:  # (hidden from type checkers, which would otherwise take losses.any_typo for valid)
    @checks.advice_on_import
    def __getattr__(name: str) -> Any:
        """``losses.mse_loss``, ``losses.MSELoss``, Keras's ``losses.mse`` and ``losses.mae``: an AttributeError saying
        what the cost is called here, or its formula."""
        if name in KERAS_NAMES:
            raise checks.other_library_name(__name__, name, "Keras", f"use losses.{KERAS_NAMES[name]}")
        if name in write_instead.KERAS_COSTS:  # (mae, huber, hinge: a cost of one's own)
            raise checks.other_library_name(__name__, name, "Keras",
                                            f"write the cost, {write_instead.KERAS_COSTS[name]}")
        raise checks.other_library_name(__name__, name, "PyTorch", pytorch_cost_advice(name))


def __dir__() -> list[str]:
    """``dir()`` of this module lists its API (``__all__``), not its helpers and imports."""
    return sorted(__all__)
