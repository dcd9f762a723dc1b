"""What to write instead: the formulas a Value's refusals give, for numpy's functions and ufunc methods that would
need its numbers (``np.var(v, axis=1)``, ``np.linalg.norm(v, 1)``, ``np.add.reduce(v)``) and for the methods other
libraries have under other names (PyTorch's ``v.flatten()``, micrograd's ``v._prev``), and for ``v % m`` and ``v // m``
(:data:`DIVISIONS`, moved here from the engine, which keeps only the refusals).  The engine refuses those
by name (:class:`tinygrad_edu.engine.Value`'s ``__array_function__``, ``__array_ufunc__`` and the class attributes
set from :data:`WRITE_INSTEAD`); these tables are what it says.  So are the tables of other libraries' module-level
names (PyTorch's ``F.conv2d``, ``nn.LayerNorm``, ``losses.L1Loss``, ``optim.AdamW``, JAX's ``F.logsumexp``) that the
``__getattr__`` of :mod:`tinygrad_edu.functional`, :mod:`~tinygrad_edu.losses`, :mod:`~tinygrad_edu.nn` and
:mod:`~tinygrad_edu.optim` read, and what ``fit`` says of a cost of PyTorch's given as its ``cost=``
(:func:`pytorch_cost_refusal`: ``HuberLoss(delta=0.5)`` as a formula that keeps the setting).  Each formula is
code that runs on a Value ``v`` (``a``, ``b`` for two; ``x`` in the tables of module-level names), and the tests
run them.

    >>> numpy_advice("np.var", "var", (np.zeros((2, 3)),), {"axis": 1})
    '((v - v.mean(axis, keepdims=True)) ** 2).mean(axis)'
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["NUMPY_INSTEAD", "WRITE_INSTEAD", "METHOD_ADVICE", "UFUNC_METHODS", "IN_PLACE", "LOGSUMEXP", "CLAMP",
           "DISTRIBUTIONS", "NO_DEVICES", "BINARY_ADVICE", "NLL_ADVICE", "PIECEWISE_COSTS", "LIKELIHOOD_ADVICE",
           "KERAS_COSTS", "COST_FUNCTIONS", "SETTINGS_KEPT", "SUMMED", "SMOOTHED_LABELS", "FUNCTIONAL_COSTS",
           "LAYER_NORM", "CONVOLUTION", "CLAMPED", "PYTORCH_FUNCTIONAL", "JAX_FUNCTIONAL", "SEED_NETWORK_METHODS",
           "PYTORCH_MODULE_METHODS", "PYTORCH_LOAD_KEYWORDS",
           "SAVED_WITHOUT_STARS",
           "SEED_TRAIN", "SEED_SIGMA", "DIVISIONS", "DIVISIONS_REFLECTED", "numpy_advice", "ufunc_advice", "norm_note",
           "cost_function", "pytorch_cost_refusal"]

#: Why ``v % m``, ``v // m`` and ``divmod(v, m)`` are refused (they jump: no derivative to speak of) and what to
#: write instead (``{m}``: the other operand), for the engine's refusals of % and // and numpy's remainder.
DIVISIONS = {
    "%": ("takes a remainder, which jumps at every multiple of m", "v - m * np.floor(v.data / {m}) (the derivative 1 "
          "between the jumps, as PyTorch's remainder), or np.mod(v.data, {m}) on the numbers (no gradient)"),
    "//": ("is a floor division, constant between its jumps (its derivative is 0 wherever it has one)",
           "np.floor_divide(v.data, {m}) on the numbers (no gradient), or v / m for a division with a derivative"),
    "divmod": ("is a floor division and a remainder, which jump at every multiple of m",
               "(np.floor_divide(v.data, {m}), v - m * np.floor(v.data / {m})), the first on the numbers (no "
               "gradient)")}
#: The same for a Value on the right (``m % v``, ``m // v``, ``divmod(m, v)``).
DIVISIONS_REFLECTED = {
    "%": ("takes a remainder, which jumps wherever m / v is a whole number", "m - v * np.floor({m} / v.data) (the "
          "derivative −floor(m / v) between the jumps, as PyTorch's remainder), or np.mod({m}, v.data) on the "
          "numbers (no gradient)"),
    "//": (DIVISIONS["//"][0],  # (the same words: a floor division is flat between its jumps either way round)
           "np.floor_divide({m}, v.data) on the numbers (no gradient), or m / v for a division with a derivative"),
    "divmod": ("is a floor division and a remainder, which jump wherever m / v is a whole number",
               "(np.floor_divide({m}, v.data), m - v * np.floor({m} / v.data)), the first on the numbers (no "
               "gradient)")}

#: np.rot90(v, k) of a matrix by k % 4: k quarter turns (counterclockwise).
_QUARTER_TURNS = ("v (no turn)", "v[:, ::-1].T (a quarter turn of a matrix: its columns reversed, then transposed)",
                  "v[::-1, ::-1] (a half turn of a matrix: its rows and its columns reversed)",
                  "v[::-1].T (three quarter turns of a matrix, one back: its rows reversed, then transposed)")

#: np.linalg.inv and det as Ops of one's own (for a square matrix A): inv's vjp is −A⁻ᵀ·g·A⁻ᵀ, det's g·det(A)·A⁻ᵀ,
#: written with inv itself and operators, so that a backward pass through them is recorded too (any order).
_INV = "inv = Op('inv', np.linalg.inv, lambda g, out, a: -(out.T @ g @ out.T))"
_DET = "det = Op('det', np.linalg.det, lambda g, out, a: g * out * inv(a).T)"
#: log|det A| from numpy's slogdet, whose vjp is g·A⁻ᵀ: det(A) itself under- or overflows for a large matrix (a
#: 200×200 kernel matrix's is about 1e-380, 0.0 in float64), where its logarithm is an ordinary number.
_LOGDET = "logdet = Op('logdet', lambda a: np.linalg.slogdet(a)[1], lambda g, out, a: g * inv(a).T)"
_UNDERFLOWS = ("where det(a) under- or overflows (a large matrix: a 200×200 kernel matrix's det is about 1e-380, 0.0 "
               "in floats, whose log is -inf and gradient NaN), logdet(a), with " + _LOGDET)
_OWN_OPS = "Ops of your own for square matrices, recorded to any order (from tinygrad_edu import Op)"

#: A time series' windows of k numbers (sliding_window_view's, PyTorch's unfold) and its shift by s (np.roll), indexed.
_WINDOWS = ("v[np.arange(len(v) - k + 1)[:, None] + np.arange(k)], the windows of k numbers of a 1-D v, one a row "
            "(the gradient adds up where they overlap; for a step s between windows, np.arange(0, len(v) - k + 1, s))")
_ROLL = ("functional.concatenate([v[-s:], v[:-s]]) for a 1-D v shifted by s, 0 < s < len(v) (along axis 1: "
         "functional.concatenate([v[:, -s:], v[:, :-s]], axis=1))")

#: A matrix's lower (tril) or upper (triu) triangle, of each matrix of a stack, the rest zeros; and the causal mask of
#: attention scores, which is a where, not a product (a masked score must be −inf, not 0, before the softmax).
_TRIANGLE = ("v * np.{kept}(np.ones(v.shape[-2:], v.dtype)), zeros {masked} the diagonal of each matrix; to mask "
             "attention scores before a softmax, functional.where(np.triu(np.ones(v.shape[-2:], bool), 1), -np.inf, "
             "v)")

#: ln Σ eᵛ written so that it stays finite, for v.logsumexp() and for JAX's F.logsumexp(x): ``{v}`` the Value's
#: name, ``{functional}`` the functional module's (``F`` where functional's own refusal says it).
LOGSUMEXP = ("{v}.max() + ({v} - {v}.max()).exp().sum().log(), finite for every finite {v}; along an axis, "
             "{v}.max(axis) + ({v} - {v}.max(axis, keepdims=True)).exp().sum(axis).log() ({v} minus it is "
             "{functional}.log_softmax({v}, axis))")

#: PyTorch's clamp written with maximum, as v.clamp's and F.clamp's refusals say it (``{functional}``: the functional
#: module's name there).  At a bound itself the two inputs of maximum tie, and a tie splits the gradient (½); PyTorch's
#: clamp (of number bounds) passed all of it there up to version 2.12 and passes none of it in 2.14, as its relu6 and
#: hardtanh: a where gives either.
CLAMP = ("{functional}.maximum(v, low) for a floor, -{functional}.maximum(-v, -high) for a ceiling (where v is at a "
         "bound exactly, they tie there and pass ½ of the gradient; PyTorch's clamp passed all of it up to version "
         "2.12, as {functional}.where((v >= low) & (v <= high), v, np.clip(v.data, low, high)) does, and passes none "
         "of it in 2.14, as its relu6 and hardtanh do and {functional}.where((v > low) & (v < high), v, "
         "np.clip(v.data, low, high)) does)")

#: PyTorch's torch.distributions (Normal(mu, sigma).log_prob(x), Categorical): the log-probabilities written out, as
#: v.log_prob's refusal and tinygrad_edu.distributions', .Normal's and .Categorical's say them.
DISTRIBUTIONS = ("the log-probability itself, as there are no distribution objects here: Normal(mu, sigma).log_prob(x) "
                 "is -((x - mu) / sigma) ** 2 / 2 - sigma.log() - 0.5 * np.log(2 * np.pi), Categorical(logits="
                 "logits).log_prob(a) is functional.log_softmax(logits)[np.arange(len(a)), a]; samples come from a "
                 "numpy Generator on the numbers, rng.normal(mu.data, sigma.data) (rsample(), which the gradient "
                 "goes through, is mu + sigma * rng.standard_normal(mu.shape))")
#: PyTorch's devices (v.cpu(), v.cuda(), v.to(device), model.to(device)): there are none here.
NO_DEVICES = "{v} itself: there are no devices here, its numbers are numpy arrays in the computer's memory"


def _rounding(name: str) -> str:
    """What to write instead of rounding a Value with numpy's ``name`` (np.round, np.floor, …, PyTorch's v.round())."""
    return (f"np.{name}(v.data), on the numbers: a rounded number is constant between its jumps, so its derivative is "
            "0 wherever it has one (PyTorch's round, floor, ceil and trunc give 0); for a straight-through estimator "
            f"(the rounded numbers forward, v's gradient back), v + (np.{name}(v.data) - v.data)")


#: A whole number made of a Value inside a vjp that create_graph=True runs (refused there): what to write, which is
#: right as a constant (its derivative is 0 between the jumps) and reads the array an ordinary pass hands the vjp too.
WHOLE_NUMBER_IN_A_VJP = {"int(x)": "np.trunc(x.data)", "round(x)": "np.round(x.data)", "trunc(x)": "np.trunc(x.data)"}

#: The recorded operation to use instead of a numpy function that needs a Value's numbers.
NUMPY_INSTEAD = {"np.dot": "a @ b", "np.matmul": "a @ b", "np.concatenate": "functional.concatenate",
                 "np.stack": "functional.stack", "np.where": "functional.where", "np.positive": "+v",
                 "np.fabs": "abs(v)", "np.minimum": "-functional.maximum(-a, -b)",
                 **{f"np.{name}": f"{formula} where neither holds NaN; where one of them is NaN, np.{name} gives the "
                                  f"other number: functional.where(np.isnan(a), b, functional.where(np.isnan(b), a, "
                                  f"{formula}))"
                    for name, formula in (("fmax", "functional.maximum(a, b)"),
                                          ("fmin", "-functional.maximum(-a, -b)"))},
                 "np.heaviside": "np.heaviside(v.data, h), on the numbers (h its value at 0): a step is constant on "
                                 "either side of its jump, so its derivative is 0 wherever it has one; for a "
                                 "straight-through estimator (the step forward, v's gradient back), v + "
                                 "(np.heaviside(v.data, h) - v.data)",
                 "np.median": "v[np.argsort(v.data)[(len(v) - 1) // 2:len(v) // 2 + 1]].mean(), the middle number of "
                              "a 1-D v (of an even length, the mean of the middle two: the gradient goes to them); "
                              "along axis 1 of a matrix, v[np.arange(len(v))[:, None], np.argsort(v.data, axis=1)[:, "
                              "(m - 1) // 2:m // 2 + 1]].mean(1) with m = v.shape[1]",
                 "np.take": "v.reshape(-1)[indices] (np.take flattens v; along axis 0: v[indices])",
                 **dict.fromkeys(("np.outer", "np.linalg.outer"), "a.reshape(-1, 1) * b.reshape(1, -1)"),
                 "np.diag": "v[np.arange(len(v)), np.arange(len(v))] for the diagonal of a square v, v * "
                            "np.eye(len(v), dtype=v.dtype) for the matrix with a vector v on its diagonal",
                 "np.logaddexp": "functional.maximum(a, b) + functional.softplus(-abs(a - b)), exact for finite a and "
                                 "b (np.logaddexp(0, v) is functional.softplus(v))",
                 "np.vstack": "functional.stack(values) for 1-D Values, functional.concatenate(values) for 2-D",
                 "np.hstack": "functional.concatenate(values) for 1-D Values, functional.concatenate(values, "
                              "axis=1) for 2-D",
                 **dict.fromkeys(("np.round", "np.around"), _rounding("round")),
                 **{f"np.{name}": _rounding(name) for name in ("rint", "fix")},
                 **{f"np.{name}": f"np.{name}(a.data, b.data), on the numbers" for name in ("allclose", "isclose")},
                 "np.nansum": "v[~np.isnan(v)].sum(); along an axis, functional.where(np.isnan(v), 0.0, v).sum(axis)",
                 "np.nanmean": "v[~np.isnan(v)].mean(); along an axis, functional.where(np.isnan(v), 0.0, v)"
                               ".sum(axis) / (~np.isnan(v)).sum(axis)",
                 "np.einsum": "@ for products of matrices, with v.transpose(...) and (a * b).sum(axis) for the rest: "
                              "np.einsum('ij,jk->ik', a, b) is a @ b, np.einsum('ij,ij->i', a, b) is (a * b).sum(1)",
                 "np.pad": "functional.concatenate([np.zeros(before), v, np.zeros(after)], axis), zeros of v's "
                           "shape but for that axis",
                 "np.rot90": _QUARTER_TURNS[1],
                 "np.fliplr": "v[:, ::-1] (its columns reversed)", "np.flipud": "v[::-1] (its rows reversed)",
                 "np.lib.stride_tricks.sliding_window_view": _WINDOWS,
                 "np.roll": _ROLL,
                 "np.diff": "v[..., 1:] - v[..., :-1], the differences along the last axis (numpy's default; along "
                            "axis 0, v[1:] - v[:-1]); for n=2 and more, take the differences of the differences",
                 "np.tensordot": "a @ b for np.tensordot(a, b, 1) (a's last axis with b's first); (a * b).sum() for "
                                 "numpy's default axes=2 between two matrices of one shape",
                 **dict.fromkeys(("np.vecdot", "np.linalg.vecdot"), "(a * b).sum(-1)"),
                 "np.inner": "(a * b).sum() for vectors a and b (a @ b.T for matrices: np.inner sums over the last "
                             "axes)",
                 **{f"np.{name}": _TRIANGLE.format(kept=name, masked=masked)
                    for name, masked in (("tril", "above"), ("triu", "below"))},
                 # (a stack of vectors is a matrix to @, whose rows would each meet every matrix: one axis added)
                 "np.matvec": "(a @ b[..., None])[..., 0], the matrices a times the vectors b (a @ b for one vector b)",
                 "np.vecmat": "(a[..., None, :] @ b)[..., 0, :], the vectors a times the matrices b (a @ b for one "
                              "vector a)",
                 "np.linalg.matrix_transpose": "v.swapaxes(-1, -2)",
                 "np.kron": "(a.reshape(m, 1, n, 1) * b.reshape(1, p, 1, q)).reshape(m * p, n * q) for an m×n a and "
                            "a p×q b",
                 "np.linalg.inv": f"inv(a), with {_INV}, {_OWN_OPS}",
                 "np.linalg.det": f"det(a), with {_DET} and {_INV}, {_OWN_OPS}",
                 "np.linalg.slogdet": f"abs(det(a)).log() (log|det a|; its sign is np.sign(det(a).data)), with {_DET} "
                                      f"and {_INV}, {_OWN_OPS}; {_UNDERFLOWS}",
                 "np.linalg.cholesky": f"none for the factor itself; what it is used for, a Gaussian process's K⁻¹y "
                                       f"and log det K (2 Σ ln Lᵢᵢ), is inv(a) @ b and logdet(a), with {_LOGDET} and "
                                       f"{_INV}, {_OWN_OPS}",
                 "np.linalg.solve": f"inv(a) @ b, with {_INV}, {_OWN_OPS}",
                 "np.linalg.lstsq": f"inv(a.T @ a) @ (a.T @ b) (the normal equations: np.linalg.lstsq's first result "
                                    f"for an a of full column rank), with {_INV}, {_OWN_OPS}"}
#: numpy's functions that change their first argument in place, and how a leaf's numbers change so under no_grad()
#: (index assignment, which a Value takes there; elsewhere a new Value is made instead).
IN_PLACE = {"np.fill_diagonal": "v[np.diag_indices(min(v.shape), v.ndim)] = value", "np.place": "v[mask] = values",
            "np.putmask": "v[mask] = values", "np.put": "v[np.unravel_index(indices, v.shape)] = values",
            "np.copyto": "v[...] = numbers"}
#: numpy's functions whose results have no derivative, and why: the advice is the same call on the numbers, with the
#: arguments it was given (``np.round(v, 2)``: ``np.round(v.data, 2)``).
_NO_DERIVATIVE = {**dict.fromkeys(("round", "around"), "a rounded number has no derivative"),
                  **dict.fromkeys(("argmax", "argmin"), "an index has no derivative"),
                  **dict.fromkeys(("any", "all"), "a truth value has no derivative"),
                  **dict.fromkeys(("isclose", "allclose"), "a truth value has no derivative")}
#: The product of all the numbers written out, which keeps no axis: np.prod(v, keepdims=True)'s advice leaves it out.
_WRITTEN_OUT = "v[0] * v[1] * … written out, or "
#: The advice for numpy's reductions called with an axis (np.var(v, axis=1)): the formula without one reduces it all.
_ALONG_AN_AXIS = {"np.var": "((v - v.mean(axis, keepdims=True)) ** 2).mean(axis)",
                  "np.std": "((v - v.mean(axis, keepdims=True)) ** 2).mean(axis).sqrt()",
                  "np.prod": "v.log().sum(axis).exp() for positive numbers"}

#: A vector's norm for numpy's ord (None: the 2-norm) along ``{axis}`` (empty: of all the numbers); another number p
#: is (Σ|v|ᵖ)^(1/p).
_VECTOR_NORMS = {None: "(v ** 2).sum({axis}).sqrt()", 2: "(v ** 2).sum({axis}).sqrt()", 1: "abs(v).sum({axis})",
                 np.inf: "abs(v).max({axis})", -np.inf: "abs(v).min({axis})"}
#: A matrix's norm for numpy's ord, over its last two axes: Frobenius's, the largest or smallest sum of a column's or
#: a row's |numbers|; none for 2, -2 and "nuc", of its singular values.
_MATRIX_NORMS = {"fro": "(v ** 2).sum((-2, -1)).sqrt()", 1: "abs(v).sum(-2).max(-1)", -1: "abs(v).sum(-2).min(-1)",
                 np.inf: "abs(v).sum(-1).max(-1)", -np.inf: "abs(v).sum(-1).min(-1)"}
#: What the refusal of a norm whose formula has a square root adds before it (the refusal ends with the formula in
#: brackets, "(here: …)"): its gradient at 0 is 0/0, and the formula ``{safe}`` with a small number under the root
#: (along the same axes).
_NORM_AT_ZERO = ("; at v = 0, where a 2-norm has no derivative, the gradient of the formula at the end is NaN (0/0; "
                 "PyTorch's norm gives 0): if v can be 0, {safe}")


def _norm_advice(name: str, args: tuple, kwargs: dict) -> str | None:
    """The formula for numpy's norm ``name`` (np.linalg.norm, vector_norm or matrix_norm) with the ``ord``, ``axis``
    and ``keepdims`` it was called with: a vector's 1-, 2-, max-, min- or p-norm, of all the numbers or along an
    axis, and a matrix's Frobenius norm or largest column or row sum; none for a matrix's norms of singular values
    (2, -2, "nuc"), nor a matrix norm that keeps its dimensions."""
    ndim = np.ndim(args[0]) if args else 0
    if name == "np.linalg.matrix_norm":
        order, axis, matrix = kwargs.get("ord", "fro"), None, True
    elif name == "np.linalg.vector_norm":
        order, axis, matrix = kwargs.get("ord", 2), kwargs.get("axis"), False
    else:  # norm(x, ord=None, axis=None, keepdims=False): a matrix's norm for a matrix with an ord, or two axes
        order = kwargs.get("ord", args[1] if len(args) > 1 else None)
        axis = kwargs.get("axis", args[2] if len(args) > 2 else None)
        if axis is None and order is not None and ndim > 2:  # (numpy refuses it)
            return None
        matrix = axis is None and order is not None and ndim == 2 or isinstance(axis, tuple) and len(axis) == 2
    keepdims = kwargs.get("keepdims", args[3] if name == "np.linalg.norm" and len(args) > 3 else False)
    if matrix:
        if keepdims or axis is not None and order not in (None, "fro"):
            return None
        return "(v ** 2).sum(axis).sqrt()" if axis is not None else _MATRIX_NORMS.get(order)
    where = ", ".join((["axis"] if axis is not None else []) + (["keepdims=True"] if keepdims else []))
    if order in _VECTOR_NORMS:
        return _VECTOR_NORMS[order].format(axis=where)
    if isinstance(order, int | float | np.integer | np.floating) and order:  # (ord=0 counts: no derivative)
        return f"(abs(v) ** {float(order):g}).sum({where}) ** (1 / {float(order):g})"
    return None


def norm_note(name: str, instead: str | None) -> str:
    """What the refusal of numpy's function ``name`` says before the formula ``instead``: for a norm with a square
    root, that its gradient at 0 is NaN, and what to write if v can be 0 (1e-30 under the root, along the same
    axes: ``((v ** 2).sum(axis) + 1e-30).sqrt()``); else nothing."""
    if "norm" not in name or instead is None or not instead.endswith(".sqrt()"):
        return ""
    return _NORM_AT_ZERO.format(safe=f"({instead.removesuffix('.sqrt()')} + 1e-30).sqrt()")


def ufunc_advice(name: str) -> str | None:
    """What to write instead of calling numpy's ufunc ``name`` that a Value does not support (``np.square``:
    ``v ** 2``, as for ``v.square()``; ``np.sin``: an Op of one's own, as for ``v.sin()``), if there is a formula."""
    return NUMPY_INSTEAD.get(f"np.{name}", MATH_FUNCTIONS.get(name, WRITE_INSTEAD.get(name)))


def _argument_text(x: object) -> str:
    """An argument as the advice writes it: a number, an axis or a flag as itself, an array as ``…``."""
    return repr(x) if x is None or isinstance(x, int | float | tuple | str | np.number) else "…"


def _compared(args: tuple) -> list[str]:
    """isclose's and allclose's two operands as the advice writes them: a number as itself (``np.isclose(v.data,
    0.1)``, not ``b.data`` of the 0.1), the numbers of a Value or an array as ``v.data``, of two as ``a.data``,
    ``b.data``."""
    numbers = [isinstance(x, int | float | np.number) for x in args[:2]]
    names = iter(["v.data"] if numbers.count(False) == 1 else ["a.data", "b.data"])
    return [repr(x) if number else next(names) for x, number in zip(args[:2], numbers, strict=True)]


def _on_the_numbers(short: str, args: tuple, kwargs: dict) -> str:
    """numpy's call ``short`` on the numbers, with the arguments it was given: ``np.argmax(v.data, axis=1)``."""
    first = _compared(args) if short in ("isclose", "allclose") else ["v.data"]
    given = [_argument_text(x) for x in args[len(first):]] + [f"{k}={_argument_text(x)}" for k, x in kwargs.items()]
    return f"np.{short}({', '.join(first + given)}), on the numbers: {_NO_DERIVATIVE[short]}"


def _keeping_dims(formula: str) -> str:
    """``formula`` with keepdims=True in its last sum or mean (``.mean(axis)``: ``.mean(axis, keepdims=True)``), for
    numpy's reduction called with keepdims=True, whose result keeps the reduced axes as 1s."""
    *_, last = re.finditer(r"\.(sum|mean)\((axis)?\)", formula)
    kept = f".{last[1]}({'axis, ' if last[2] else ''}keepdims=True)"
    return formula[:last.start()] + kept + formula[last.end():]


def numpy_advice(name: str, short: str, args: tuple, kwargs: dict) -> str | None:
    """What to write instead of numpy's function ``name`` (``np.var``; ``short``: ``var``) called with ``args``: the
    formula for an axis (``np.var(v, axis=1)``), for ``keepdims`` and ``ddof`` (``np.std(v, ddof=1)``) or for a
    single number (``np.dot(v, 2.0)``) where it needs one; a norm's for its ``ord`` (:func:`_norm_advice`); the same
    call on the numbers for a result without a derivative (``np.argmax(v.data, axis=1)``)."""
    if name in ("np.linalg.norm", "np.linalg.vector_norm", "np.linalg.matrix_norm"):
        return _norm_advice(name, args, kwargs)
    compared = "close" in short and any(isinstance(x, int | float | np.number) for x in args[:2])  # (v with 0.1)
    if short in _NO_DERIVATIVE and name == f"np.{short}" and (kwargs or compared
                                                              or len(args) > (2 if "close" in short else 1)):
        return _on_the_numbers(short, args, kwargs)
    at = 4 if short == "prod" else 5  # (keepdims: prod's 5th argument, var's and std's 6th)
    if short in ("var", "std", "prod") and kwargs.get("keepdims", args[at] if len(args) > at else False):
        formula = numpy_advice(name, short, args[:at], {**kwargs, "keepdims": False})
        return None if formula is None else _keeping_dims(formula.removeprefix(_WRITTEN_OUT))
    at = 2 if name == "np.take" else 1  # (take(v, indices, axis); else the 2nd argument)
    axis = kwargs.get("axis", args[at] if len(args) > at else None)
    ddof = kwargs.get("ddof", kwargs.get("correction", args[4] if len(args) > 4 else 0))  # (var's 5th argument)
    if short in ("var", "std") and ddof:  # (PyTorch's default 1: divided by n − 1, not by n as mean() divides)
        if axis is None:
            variance = f"((v - v.mean()) ** 2).sum() / (v.size - {ddof})"
        else:
            variance = f"((v - v.mean(axis, keepdims=True)) ** 2).sum(axis) / (n - {ddof})"
        formula = f"({variance}).sqrt()" if short == "std" else variance
        return formula if axis is None else f"{formula}, n the numbers along axis"
    if name in _ALONG_AN_AXIS and axis is not None:
        return _ALONG_AN_AXIS[name]
    if name == "np.take" and isinstance(axis, (int, np.integer)):  # (one index array at that axis)
        return "v[" + ":, " * axis + "indices]" if axis >= 0 else "v[..., indices" + ", :" * (-axis - 1) + "]"
    if name == "np.rot90" and isinstance(k := kwargs.get("k", args[1] if len(args) > 1 else 1), (int, np.integer)):
        axes = kwargs.get("axes", args[2] if len(args) > 2 else (0, 1))
        return _rot90_advice(_ndim(args[0] if args else kwargs.get("m")), int(k), axes)
    if name == "np.dot" and any(isinstance(x, int | float) or getattr(x, "ndim", 1) == 0 for x in args[:2]):
        return "a * b (np.dot of a single number multiplies; @ needs arrays)"
    if name in ("np.dot", "np.tensordot") and len(args) > 1 and _ndim(args[1]) > 2:  # (b a stack of matrices)
        return _contraction_of_a_stack(name, args, kwargs)
    if name == "np.where" and len(args) == 1:  # (numpy's np.nonzero: indices, no Values)
        return ("np.where(v.data), on the numbers: an index has no derivative (with three arguments, "
                "functional.where(condition, a, b) picks between Values)")
    return NUMPY_INSTEAD.get(name, WRITE_INSTEAD.get(short))


def _rot90_advice(ndim: int, k: int, axes: Any) -> str | None:
    """np.rot90(v, k, axes) written with indexing, np.flip and swapaxes (all recorded): the matrix forms of
    ``_QUARTER_TURNS`` for a matrix turned in the plane (0, 1), or k turned the other way for axes (1, 0); for other
    axes or more than 2 dimensions, numpy's own steps with those axes; none for axes numpy refuses."""
    if not (isinstance(axes, (tuple, list)) and len(axes) == 2
            and all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes)
            and all(-ndim <= a < ndim for a in axes) and axes[0] % ndim != axes[1] % ndim):
        return None
    first, second = int(axes[0]), int(axes[1])
    if ndim == 2:  # (0, 1) turns counterclockwise, (1, 0) the other way
        return _QUARTER_TURNS[(k if first % 2 == 0 else -k) % 4]
    return ("v (no turn)", f"np.flip(v, {second}).swapaxes({first}, {second})",
            f"np.flip(np.flip(v, {first}), {second})", f"np.flip(v.swapaxes({first}, {second}), {second})")[k % 4]


def _ndim(x: Any) -> int:
    """``x``'s number of axes, 0 for what is no array (a list holding Values)."""
    try:
        return np.ndim(x)
    except (TypeError, ValueError):
        return 0


def _contraction_of_a_stack(name: str, args: tuple, kwargs: dict) -> str:
    """np.dot(a, b) and np.tensordot(a, b, 1) of a stack of matrices ``b`` (3-D or more): a @ b pairs a's last axis
    with b's second to last and broadcasts the stacks, np.dot keeps every axis of both (the same numbers only for a
    vector a), np.tensordot pairs it with b's first; so the formula reshapes them into one matrix product."""
    if name == "np.dot":
        if _ndim(args[0]) < 2:
            return "a @ b"
        return ("(a.reshape(-1, a.shape[-1]) @ np.moveaxis(b, -2, 0).reshape(a.shape[-1], -1)).reshape(a.shape[:-1] "
                "+ b.shape[:-2] + b.shape[-1:]) for a stack of matrices b (np.dot pairs a's last axis with b's second "
                "to last and keeps every other axis of both, in order; a @ b would pair a with each matrix of b)")
    axes = kwargs.get("axes", args[2] if len(args) > 2 else 2)
    if not (isinstance(axes, int | np.integer) and axes == 1):
        return NUMPY_INSTEAD[name]
    return ("(a.reshape(-1, b.shape[0]) @ b.reshape(b.shape[0], -1)).reshape(a.shape[:-1] + b.shape[1:]) for "
            "np.tensordot(a, b, 1) (a's last axis with b's first: a @ b pairs it with b's second to last, the same "
            "only for a vector or a matrix b)")


#: Where a Value's graph is: PyTorch's grad_fn, minitorch's history.
_OP_AND_PARENTS = "v.op for the operation's name and v.parents for its inputs"

#: Methods a PyTorch, numpy or micrograd user reaches for that a Value has under another name or as a formula, and
#: what to write instead: each a class attribute of Value (checks.Absent, set in engine.py below the class, unseen by
#: type checkers), so ``v.flatten()`` says it; numpy's function of the same name, ``np.clip(v, …)``, says it too.
WRITE_INSTEAD = {
    **dict.fromkeys(("flatten", "ravel"), "v.reshape(-1)"),
    **dict.fromkeys(("view", "squeeze", "unsqueeze", "expand_dims"), "v.reshape(shape), the 1s taken out or put in"),
    **dict.fromkeys(("broadcast_to", "expand"), "v + np.zeros(shape, v.dtype) (the gradient sums the copies back)"),
    "expand_as": "v + np.zeros(other.shape, v.dtype) (the gradient sums the copies back)",
    "pow": "v ** exponent", "square": "v ** 2", "mT": "v.swapaxes(-1, -2)",
    "prod": _WRITTEN_OUT + "v.log().sum().exp() for positive numbers",
    **dict.fromkeys(("dot", "mm", "matmul"), "v @ other"), "bmm": "v @ other (@ multiplies stacks of matrices too)",
    "masked_fill": "functional.where(mask, value, v)",
    "masked_fill_": "v = functional.where(mask, value, v), a new Value: a Value's numbers do not change in place",
    "baddbmm": "beta * v + alpha * (batch1 @ batch2) (@ multiplies stacks of matrices)",
    "tril": _TRIANGLE.format(kept="tril", masked="above"), "triu": _TRIANGLE.format(kept="triu", masked="below"),
    "chunk": "np.split(v, chunks, axis=axis), a list of Values (chunks must divide the length along axis): "
             "the q, k and v of attention are np.split(qkv, 3, axis=-1)",
    "split": "np.split(v, range(size, v.shape[axis], size), axis=axis), a list of Values, for v.split(size, axis)",
    "index_select": "v[indices] for v.index_select(0, indices) (v[:, indices] along axis 1)",
    "take": "v.reshape(-1)[indices] (take flattens v; along axis 0: v[indices])",
    "gather": "v[np.arange(len(indices))[:, None], indices] for v.gather(1, indices) of a matrix (v[indices, "
              "np.arange(indices.shape[1])] for v.gather(0, indices))",
    "var": "((v - v.mean()) ** 2).mean()", "std": "((v - v.mean()) ** 2).mean().sqrt()",
    "norm": "(v ** 2).sum().sqrt() (at v = 0, where a 2-norm has no derivative, its gradient is NaN, 0/0; PyTorch's "
            "norm gives 0: if v can be 0, ((v ** 2).sum() + 1e-30).sqrt()); along an axis, (v ** 2).sum(axis).sqrt(); "
            "the 1-norm abs(v).sum(), the max-norm abs(v).max()",
    "trace": "(v * np.eye(len(v), dtype=v.dtype)).sum() for a square v",
    "diagonal": "v[np.arange(len(v)), np.arange(len(v))] for a square v",
    "log1p": "(1 + v).log(), which loses the digits of a small v (ln(1 + 1e-20) comes out 0); for v > 0, "
             "functional.softplus(v.log()) keeps them (ln(1 + v) = softplus(ln v)); for ln(1 + eᵛ), "
             "functional.softplus(v), exact for every v",
    # (eᵛ − 1 = 2t/(1 − t) for t = tanh(v/2), written 2t·e^max(v, 0)/(1 + |t|): no cancellation on either side of 0)
    "expm1": "2 * (v * 0.5).tanh() * functional.maximum(v, 0).exp() / (1 + abs((v * 0.5).tanh())), eᵛ - 1 to a few "
             "roundings for every v, where v.exp() - 1 loses the digits of a small v (e^1e-20 - 1 comes out 0)",
    "log2": "v.log() / np.log(2)", "log10": "v.log() / np.log(10)", "exp2": "2 ** v",
    **{name: f"v.data.{name}(), on the numbers: a truth value has no derivative" for name in ("any", "all")},
    **dict.fromkeys(("clip", "clamp"), CLAMP.format(functional="functional")),
    # (PyTorch 2.14's clamp_min and clamp_max pass none of the gradient at the bound, as its clamp: see CLAMP)
    "clamp_min": "functional.maximum(v, low) (where v is at low exactly, it passes ½ of the gradient; PyTorch's "
                 "clamp_min passes none of it in 2.14, as functional.where(v > low, v, low) does)",
    "clamp_max": "-functional.maximum(-v, -high) (where v is at high exactly, it passes ½ of the gradient; PyTorch's "
                 "clamp_max passes none of it in 2.14, as functional.where(v < high, v, high) does)",
    **{name: _rounding(name) for name in ("round", "floor", "ceil", "trunc")},
    "sign": "np.sign(v), an array: sign is constant between its jumps, so its derivative is 0 wherever it has one "
            "(PyTorch's sign gives 0)",
    "sort": "v[np.argsort(v.data)] for a 1-D v (each row of a matrix: v[np.arange(len(v))[:, None], np.argsort(v.data, "
            "axis=1)]): indexing, whose gradient goes back to where each number came from",
    "topk": "v[np.argsort(-v.data, kind='stable')[:k]], the k largest of a 1-D v (their indices "
            "np.argsort(-v.data, kind='stable')[:k]); the gradient goes back to them",
    **{name: f"functional.{name}(v)" for name in ("leaky_relu", "softplus")},
    # (PyTorch's v.softmax(dim) names its axis, which functional.softmax(v) pasted would leave at the last one)
    **{name: f"functional.{name}(v) over the last axis; PyTorch's {name}(dim) is functional.{name}(v, axis=dim)"
       for name in ("softmax", "log_softmax")},
    **{name: f"v.data.{name}(), on the numbers: an index has no derivative; along an axis (PyTorch's {name}(dim=1), "
             f"one index per row), v.data.{name}(axis=1)" for name in ("argmax", "argmin")},
    "multinomial": "rng.choice(v.size, p=v.data) for a vector of probabilities, rng = np.random.default_rng(seed), on "
                   "the numbers: a sampled index has no derivative (a batch: one call per row); its ln probability is "
                   "functional.log_softmax(logits)[index]",
    "logsumexp": LOGSUMEXP.format(v="v", functional="functional"),
    "tolist": "v.data.tolist(), or v.item() for one number", "numel": "v.size", "nelement": "v.size", "dim": "v.ndim",
    "permute": "v.transpose(axes), the new order as one tuple (permute(2, 0, 1): v.transpose((2, 0, 1)))",
    "t": "v.T", "amax": "v.max(axis=...)", "amin": "v.min(axis=...)",
    "clone": "v * 1.0 (a new Value on the graph), or v.detach() for its numbers without the graph",
    "detach_": "v = v.detach(), a new Value: a Value is not cut from its graph in place",
    "retain_grad": "nothing: after backward() every Value on the way holds its .grad (of the latest pass)",
    "float": "v.astype(np.float32)", "double": "v.astype(np.float64)",
    "requires_grad_": "v.requires_grad = True (or False), an attribute here; a Value made by hand requires a gradient "
                      "already (Value(data), requires_grad=True by default), so PyTorch's "
                      "torch.randn(3).requires_grad_() is Value(np.random.randn(3)) (a model's "
                      "model.requires_grad_(flag) is a method)", "is_leaf": "v.op is None",
    "grad_fn": _OP_AND_PARENTS, "_prev": "v.parents, micrograd's _prev",
    "_backward": "v.backward(); each operation's derivative is in tinygrad_edu.ops",
    "register_hook": "v.grad to read v's gradient: after backward() every Value on the way holds its .grad (of the "
                     "latest pass); to change the gradient that flows back through v, put an Op of your own on the "
                     "way, v = Op('hook', lambda x: x.copy(), lambda g, out, x: fn(g))(v) (from tinygrad_edu import "
                     "Op), fn returning the gradient to pass on (g itself, where PyTorch's hook returns None)",
    "unfold": _WINDOWS.replace("], the", "] for v.unfold(0, k, 1), the", 1), "roll": _ROLL,
    "flip": "np.flip(v, axis), which is recorded (v[::-1] reverses axis 0, v[:, ::-1] axis 1)",
    "cumsum": "v @ np.triu(np.ones((n, n), v.dtype)), the running sums along the last axis (of length n); along "
              "another axis, swap it to the end and back with v.swapaxes(axis, -1); of all the numbers in a row "
              "(numpy's cumsum without an axis), v.reshape(-1) first",
    "cumprod": "(v.log() @ np.triu(np.ones((n, n), v.dtype))).exp() for positive numbers, the running products along "
               "the last axis (of length n); with zeros or negative numbers, of a 1-D v, "
               "functional.stack(list(itertools.accumulate(v, operator.mul)))",
    "neg": "-v", **dict.fromkeys(("cpu", "cuda"), NO_DEVICES.format(v="v")),
    "to": "v.astype(np.float32) for a dtype (PyTorch's to(torch.float32)); for a device, " + NO_DEVICES.format(v="v"),
    "log_prob": DISTRIBUTIONS,
    # minitorch's Scalar, Tensor and Parameter
    "derivative": "v.grad (minitorch's derivative), filled by v.backward()",
    "zero_grad_": "v.zero_grad()", "dims": "v.ndim",
    "contiguous": "v itself: any Value can be reshaped, so none needs making contiguous",
    "is_constant": "not v.requires_grad", "history": _OP_AND_PARENTS,
    "chain_rule": "engine.local_gradients(v, upstream), the step backward() takes at each Value",
    "accumulate_derivative": "v.backward(), which adds to the .grad of every leaf",
    "value": "v.data for its numbers (v.item() for a single number): a parameter is the Value itself here, not a "
             "Parameter holding one",
    "update": "with no_grad(): v -= learning_rate * v.grad (or v.data = numbers) to change a parameter",
}


#: v.var(axis=0) and v.std(axis=0) (a batch norm's statistics) are read before their arguments: the advice names the
#: formula along an axis too, and PyTorch's default (x.var() divides by n − 1, where numpy's and mean() divide by n).
_UNBIASED = "((v - v.mean(axis, keepdims=True)) ** 2).sum(axis) / (n - 1)"
METHOD_ADVICE = {name: f"{WRITE_INSTEAD[name]}; along an axis, {_ALONG_AN_AXIS['np.' + name]} (keepdims=True in "
                        "the last mean keeps the axis, to broadcast against v); that divides by n, as numpy's does, "
                        f"where PyTorch's x.{name}() divides by n - 1: {unbiased}, n the numbers along axis"
                  for name, unbiased in (("var", _UNBIASED), ("std", f"({_UNBIASED}).sqrt()"))}
#: v.flatten(1), PyTorch's flatten of a batch (a CNN's features before its Linear head), keeps the first axis.
METHOD_ADVICE["flatten"] = (f"{WRITE_INSTEAD['flatten']}; v.flatten(1), which keeps the first axis (a batch's, as "
                            "PyTorch's flatten(x, 1)), is v.reshape(len(v), -1)")

#: What to write instead of a ufunc's method (np.add.reduce(v)) on Values, along the axis it was given (numpy passes
#: it as the keyword axis; its default is 0) and with keepdims=True where it was given (``{keepdims}``).
UFUNC_METHODS = {"add.reduce": "v.sum(axis={axis}{keepdims})", "maximum.reduce": "v.max(axis={axis}{keepdims})",
                 "minimum.reduce": "v.min(axis={axis}{keepdims})",
                 "multiply.reduce": "v.log().sum(axis={axis}{keepdims}).exp() for positive numbers",
                 # (the running sum along the last axis is v @ U, U the upper triangle of ones: any number of axes)
                 "add.accumulate": "(v.swapaxes({axis}, -1) @ np.triu(np.ones((n, n), v.dtype))).swapaxes({axis}, "
                                   "-1), for the n numbers along axis {axis}",
                 **{f"{ufunc.__name__}.outer": f"a.reshape(-1, 1) {symbol} b.reshape(1, -1), for 1-d a and b"
                    for ufunc, symbol in ((np.add, "+"), (np.subtract, "-"), (np.multiply, "*"),
                                          (np.divide, "/"), (np.power, "**"))}}


# --- other libraries' module-level names (F.conv2d, losses.L1Loss, nn.LayerNorm): what the __getattr__ of
# tinygrad_edu.functional, losses and nn say to write

#: What PyTorch's and Keras's binary cross-entropy is here, after "losses." (as F.name's, losses.Name's and
#: nn.Name's refusals say it).
BINARY_ADVICE = ("cross_entropy(logits, labels) with 2 output neurons; for one output z (no sigmoid on it) and "
                 "targets y of its shape, write the binary cross-entropy through softplus, exact for every z: "
                 "(y * F.softplus(-z) + (1 - y) * F.softplus(z)).mean(), as ln σ(z) = -softplus(-z) and "
                 "ln(1 - σ(z)) = -softplus(z) (the log of a sigmoid output is -inf, the cost NaN, once σ rounds to 0 "
                 "or 1)")

#: What PyTorch's nll_loss and NLLLoss are here, after "losses." (as F.name's, losses.Name's and nn.Name's
#: refusals say it).
NLL_ADVICE = ("cross_entropy(logits, labels) on the raw outputs (it takes the log_softmax itself); on "
              "log-probabilities, -log_probs[np.arange(n), labels].mean(), and without .mean() each sample's "
              "(reduction='none'; a policy gradient's ln π(a) is F.log_softmax(logits)[np.arange(n), actions])")

#: The costs with a kink written out, for a prediction p and a target y of one shape (x and labels y of 1 or -1 for
#: the hinges): the mean of |p − y|, Huber's (½d² within delta of the target, linear beyond), its smooth L1 form
#: (divided by beta) and the hinges; each runs as written with F = tinygrad_edu.functional.
_L1 = "abs(p - y).mean()"
_HUBER = "F.where(abs(p - y) <= delta, 0.5 * (p - y) ** 2, delta * (abs(p - y) - 0.5 * delta)).mean()"
_SMOOTH_L1 = "F.where(abs(p - y) < beta, 0.5 * (p - y) ** 2 / beta, abs(p - y) - 0.5 * beta).mean()"
_HINGE_EMBEDDING = "F.where(y == 1, x, (margin - x).relu()).mean()"
_HINGE = "(1 - y * p).relu().mean()"
#: PyTorch's Poisson negative log-likelihood of counts target under rates e^input, less a constant.
_POISSON = "(input.exp() - target * input).mean()"
#: PyTorch's costs with a kink (|d| at d = 0, a hinge at its margin), for a prediction p and a target y of one shape
#: (reduction='mean': the mean over every element), written with abs, where and relu, as F.name's,
#: losses.Name's and nn.Name's refusals say them.
PIECEWISE_COSTS = {
    "l1_loss": f"{_L1}, for a prediction p and a target y (its gradient at p = y is 0, |x|'s at 0)",
    "huber_loss": f"{_HUBER}, for a prediction p and a target y (PyTorch's delta=1.0)",
    "smooth_l1_loss": f"{_SMOOTH_L1}, for a prediction p and a target y (PyTorch's beta=1.0: huber_loss's numbers)",
    "hinge_embedding_loss": f"{_HINGE_EMBEDDING}, for x and labels y of 1 or -1 (PyTorch's margin=1.0); a linear SVM's "
                            "hinge loss of scores s and labels y of 1 or -1 is (1 - y * s).relu().mean()"}
#: Keras's costs with a kink, by compile(loss=...)'s names and keras.losses' functions and classes (Keras takes the
#: mean over the last axis, then over the samples: the mean over every element), as losses.name's refusal says them.
KERAS_COSTS = {
    **dict.fromkeys(("mae", "MAE", "mean_absolute_error", "MeanAbsoluteError"), PIECEWISE_COSTS["l1_loss"]),
    **dict.fromkeys(("huber", "Huber"), f"{_HUBER}, for a prediction p and a target y (Keras's delta=1.0)"),
    **dict.fromkeys(("hinge", "Hinge"), f"{_HINGE}, for scores p and labels y of -1 or 1 (Keras turns labels 0 and 1 "
                                        "into -1 and 1 itself; here write 2 * y - 1 for them)"),
}
#: PyTorch's negative log-likelihoods, which are a cost of one's own here (every optimizer minimises, as PyTorch's
#: do): the formula, in PyTorch's names of the arguments (as F.name's, losses.Name's and nn.Name's refusals say it).
LIKELIHOOD_ADVICE = {
    **dict.fromkeys(("gaussian_nll_loss", "GaussianNLLLoss"),
                    "(0.5 * (var.log() + (input - target) ** 2 / var)).mean(), the Gaussian negative log-likelihood "
                    "of the targets under means input and variances var, less 0.5·ln 2π (PyTorch's full=False; it "
                    "also raises var to at least eps=1e-6); for a network whose outputs are a mean and a log-variance "
                    "s, (0.5 * (s + (target - mean) ** 2 * (-s).exp())).mean() needs no positive var"),
    **dict.fromkeys(("poisson_nll_loss", "PoissonNLLLoss"),
                    f"{_POISSON}, the Poisson negative log-likelihood of the counts target under rates e^input, less "
                    "the mean of ln(target!), a constant (PyTorch's log_input=True, full=False)"),
}

#: The costs written as formulas above, as fit's cost= takes them: a function (outputs, targets) → Value, with F =
#: tinygrad_edu.functional (what fit(cost='huber_loss') says), by PyTorch's names and Keras's.
COST_FUNCTIONS = {
    **dict.fromkeys(("l1_loss", "L1Loss", "mae", "MAE", "mean_absolute_error", "MeanAbsoluteError"),
                    f"lambda p, y: {_L1}"),
    **dict.fromkeys(("huber_loss", "HuberLoss", "huber", "Huber"), f"lambda p, y, delta=1.0: {_HUBER}"),
    **dict.fromkeys(("smooth_l1_loss", "SmoothL1Loss"), f"lambda p, y, beta=1.0: {_SMOOTH_L1}"),
    **dict.fromkeys(("hinge_embedding_loss", "HingeEmbeddingLoss"), f"lambda x, y, margin=1.0: {_HINGE_EMBEDDING}, "
                                                                    "for targets y of 1 or -1"),
    **dict.fromkeys(("hinge", "Hinge"), f"lambda p, y: {_HINGE}, for targets y of -1 or 1 (labels 0 and 1: 2 * y - 1)"),
    **dict.fromkeys(("poisson_nll_loss", "PoissonNLLLoss"), f"lambda input, target: {_POISSON}, for counts as targets"),
    **dict.fromkeys(("gaussian_nll_loss", "GaussianNLLLoss"),
                    "lambda out, y: (0.5 * (out[:, 1:] + (y - out[:, :1]) ** 2 * (-out[:, 1:]).exp())).mean(), for "
                    "a network of 2 outputs, a mean and a log-variance, and targets y of shape (n, 1)"),
}

#: The mean squared error and the cross-entropy as fit's cost= with PyTorch's settings kept, as fit's refusal of
#: PyTorch's own cost says them: ``{labels}`` the labels given to cross_entropy (y, or rows of probabilities for
#: label_smoothing, SMOOTHED_LABELS), ``{total}`` empty for reduction='mean' and SUMMED's entry for reduction='sum'.
SETTINGS_KEPT = {"mse_loss": "lambda p, y: losses.mean_squared_error(p, y){total}",
                 "cross_entropy": "lambda z, y: losses.cross_entropy(z, {labels}){total}"}
#: reduction='sum' as the mean times the number of numbers averaged: every element's, or every sample's.
SUMMED = {"mse_loss": " * p.size", "cross_entropy": " * len(y)"}
#: PyTorch's label_smoothing=eps for class indices y: the rows of probabilities it compares the softmax with, in the
#: logits' dtype (one_hot's float64 rows made a float32 model's cost float64, where PyTorch's stays float32).
SMOOTHED_LABELS = "(1 - {eps}) * data.one_hot(y, classes=z.shape[-1]).astype(z.dtype) + {eps} / z.shape[-1]"

# --- PyTorch's cost objects given as fit's cost= (torch.nn.MSELoss(), partial(F.huber_loss, delta=0.5)): what they are
# here, with their settings kept where a formula above can keep them

def pytorch_cost_refusal(cost: Any, fallback: Callable[[str], str | None]) -> str | None:
    """What fit says of a cost of PyTorch's given as ``cost=`` (``torch.nn.MSELoss()``, its class,
    ``torch.nn.functional.mse_loss``, one in a ``functools.partial``: ``partial(F.huber_loss, delta=0.5)``), which
    computes with torch tensors, not Values: what it is here, keeping its settings where a formula can
    (``reduction='sum'``, ``label_smoothing``, ``delta``), else ``fallback(name)``'s advice, and which settings are
    not carried over.  None for a cost that is not PyTorch's."""
    inner = cost
    while isinstance(inner, functools.partial):
        inner = inner.func
    owner = inner if isinstance(inner, type) or inspect.isroutine(inner) else type(inner)
    if str(getattr(owner, "__module__", "")).partition(".")[0] != "torch":
        return None
    name = getattr(owner, "__name__", type(inner).__name__)
    settings = _pytorch_settings(cost, inner)  # (reduction='sum', label_smoothing=0.1: kept, or said to be left out)
    advice, kept = _settings_kept(name, cost, settings)
    advice = advice or fallback(name)
    if advice is None:  # (no cost here to say its settings are left out of: they are the user's to write)
        keeping = f" (keeping its {_shown_settings(settings)})" if settings else ""
        advice, kept = (f"write it with Value operations{keeping}, a function (outputs, targets) → Value such as "
                        "losses.squared_error"), set(settings)
    kept |= {key for key, value in settings.items() if f"{key}={value!r}" in advice}  # (KLDivLoss's 'batchmean')
    partial = " (in a functools.partial)" if inner is not cost else ""
    return f"cost is PyTorch's {name}{partial}, which computes with torch tensors, not Values; {advice}" + \
        _left_out(settings, kept)


def cost_function(name: str, given: Any = None) -> str:
    """The function to give fit as ``cost=`` for a cost written as a formula (COST_FUNCTIONS), with the settings
    of PyTorch's cost ``given`` (``partial(F.huber_loss, delta=0.5)``, ``HuberLoss(delta=0.5)``) as its
    defaults: with PyTorch's defaults (delta=1.0) it computed another cost than the one given.

        >>> cost_function("l1_loss")
        'import tinygrad_edu.functional as F and give cost=lambda p, y: abs(p - y).mean()'
    """
    if not isinstance(name, str) or name not in COST_FUNCTIONS:
        raise ValueError(f"cost_function: name must be one of the costs written as formulas (COST_FUNCTIONS: "
                         f"'l1_loss', 'HuberLoss', 'mae', …), got {name!r:.40}")
    header, formula = COST_FUNCTIONS[name].split(":", 1)
    for setting in re.findall(r"(\w+)=", header):  # (delta=1.0, beta=1.0, margin=1.0)
        value = _setting_of(given, setting)
        if value is not None:
            header = re.sub(rf"\b{setting}=[^,]+", f"{setting}={value!r}", header)
    return f"import tinygrad_edu.functional as F and give cost={header}:{formula}"


def _setting_of(given: Any, setting: str) -> float | None:
    """The number ``setting`` of PyTorch's cost ``given``: a keyword of its ``functools.partial`` (the outermost
    one's), or an attribute of a module (``HuberLoss(delta=0.5).delta``); None where it has none."""
    value = _given_setting(given, setting)
    if isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_)):
        return float(value)
    return None


#: A setting not given (a partial without that keyword, a module without that attribute), for _given_setting.
_NOT_GIVEN = object()


def _given_setting(given: Any, setting: str) -> Any:
    """``setting`` of PyTorch's cost ``given`` as :func:`_setting_of` finds it, any value; _NOT_GIVEN where it has
    none."""
    while isinstance(given, functools.partial):
        if setting in given.keywords:
            return given.keywords[setting]
        given = given.func
    return _NOT_GIVEN if isinstance(given, type) or inspect.isroutine(given) else getattr(given, setting, _NOT_GIVEN)


def _pytorch_settings(given: Any, inner: Any) -> dict[str, Any]:
    """The settings of PyTorch's cost ``given`` (``inner`` inside its partials) that are not PyTorch's defaults
    (``reduction='sum'``, ``label_smoothing=0.1``, a ``weight``), by name, in the order of its signature."""
    try:
        parameters = inspect.signature(inner if isinstance(inner, type) or inspect.isroutine(inner) else type(inner))
    except (TypeError, ValueError):  # (no signature to read)
        return {}
    found = {}
    for name, parameter in parameters.parameters.items():
        default, value = parameter.default, _given_setting(given, name)
        if default is parameter.empty or value is _NOT_GIVEN or value is None is default:
            continue
        simple = (bool, int, float, str, type(None))
        if not (isinstance(value, simple) and isinstance(default, simple)) or value != default:
            found[name] = value
    return found


def _settings_kept(name: str, given: Any, settings: dict[str, Any]) -> tuple[str | None, set[str]]:
    """The advice for PyTorch's cost ``name`` that keeps its ``settings`` where it can (reduction='sum', and a
    cross-entropy's label_smoothing), and the names of the settings it keeps; (None, no names) where the usual
    advice (fit's ``fallback``, losses.pytorch_cost_advice) keeps them all (it has none to keep)."""
    summed = settings.get("reduction") == "sum"
    if name in COST_FUNCTIONS:  # (delta=, beta=, margin=: cost_function keeps them)
        advice = cost_function(name, given)
        kept = set(re.findall(r"(\w+)=", COST_FUNCTIONS[name].split(":", 1)[0]))
        if summed and advice.count(".mean()") == 1:
            return advice.replace(".mean()", ".sum()") + " (PyTorch's reduction='sum')", kept | {"reduction"}
        return advice, kept
    base = {"mse_loss": "mse_loss", "MSELoss": "mse_loss", "cross_entropy": "cross_entropy",
            "CrossEntropyLoss": "cross_entropy"}.get(name)
    smoothing = settings.get("label_smoothing") if base == "cross_entropy" else None
    if base is None or not (summed or isinstance(smoothing, (int, float))):
        return None, set()
    kept = {"reduction"} if summed else set()
    labels = "y"
    if isinstance(smoothing, (int, float)):
        labels = SMOOTHED_LABELS.format(eps=smoothing)
        kept.add("label_smoothing")
    function = SETTINGS_KEPT[base].format(labels=labels, total=SUMMED[base] if summed else "")
    shown = ", ".join(f"{key}={settings[key]!r}" for key in settings if key in kept)
    imports = "data, losses" if "data." in function else "losses"
    return (f"from tinygrad_edu import {imports} and give cost={function} (PyTorch's {name} with {shown}"
            + (", for class indices y)" if base == "cross_entropy" else ")")), kept


def _shown_settings(settings: dict[str, Any]) -> str:
    """PyTorch's cost's ``settings`` as written in its call: ``reduction='sum'``, ``weight=… (a Tensor)``."""
    return ", ".join(f"{key}={value!r}" if isinstance(value, (bool, int, float, str)) else
                     f"{key}=… (a {type(value).__name__})" for key, value in settings.items())


def _left_out(settings: dict[str, Any], kept: set[str]) -> str:
    """What the advice says of the settings of PyTorch's cost that it does not keep (reduction='none', a weight)."""
    left = [key for key in settings if key not in kept]
    if not left:
        return ""
    shown = _shown_settings({key: settings[key] for key in left})
    if settings.get("reduction") == "none":  # (one cost per element: fit takes one number)
        return (f"; its {shown} {'is' if len(left) == 1 else 'are'} not carried over: fit minimises one number, and "
                "reduction='none' gives one per element (the cost above is their mean, PyTorch's reduction='mean')")
    return (f"; its {shown} {'is' if len(left) == 1 else 'are'} not carried over: the cost above is PyTorch's "
            f"without {'it' if len(left) == 1 else 'them'}")


#: torch.nn.functional's costs, and this package's, looked for as F.name: they are in tinygrad_edu.losses.
FUNCTIONAL_COSTS = {
    "cross_entropy": "losses.cross_entropy(logits, labels)",
    **dict.fromkeys(("binary_cross_entropy", "binary_cross_entropy_with_logits"), "losses." + BINARY_ADVICE),
    "mse_loss": "losses.mean_squared_error(prediction, target), the mean over every element as mse_loss is; "
                "the seed's cost, summed over the outputs and averaged over the samples, is losses.squared_error",
    "nll_loss": "losses." + NLL_ADVICE,
    "mean_squared_error": "losses.mean_squared_error(prediction, target)",
    "squared_error": "losses.squared_error(prediction, target)"}

#: ln σ(x), PyTorch's F.logsigmoid and JAX's log_sigmoid.
_LOG_SIGMOID = "-F.softplus(-x), which is ln σ(x) exact for every x (x.sigmoid().log() is -inf below about -745)"
#: The scores of scaled dot-product attention (q, k, v of shape (..., T, d)), scaled by a Python number so that a
#: float32 block stays float32, and PyTorch's is_causal=True mask: True above the diagonal, the future.
_SCORES = "q @ k.swapaxes(-1, -2) / q.shape[-1] ** 0.5"
_FUTURE = "np.triu(np.ones((q.shape[-2], k.shape[-2]), bool), 1)"
#: PyTorch's layer_norm over the last axis (LayerNorm((d,)), eps=1e-5), as F.layer_norm and nn.LayerNorm say it.
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
#: torch.nn.functional's functions with another name here or written as a formula, looked for as F.cat
#: (torch.cat, as F.concatenate), F.clamp, …: what F's refusals say to write.
PYTORCH_FUNCTIONAL = {
    "cat": "F.concatenate(values, axis=0)", "concat": "F.concatenate(values, axis=0)", **CONVOLUTION,
    "scaled_dot_product_attention": f"F.softmax({_SCORES}) @ v; for is_causal=True, "
                                    f"F.softmax(F.where({_FUTURE}, -np.inf, {_SCORES})) @ v (an attn_mask of "
                                    "booleans, True where a query may look: F.where(~attn_mask, -np.inf, "
                                    "scores))",
    "layer_norm": f"{LAYER_NORM}, over the last axis (normalized_shape=(d,)), whose variance divides by d "
                  "as PyTorch's does",
    "linear": "x @ weight.T + bias, for PyTorch's weight of shape (out_features, in_features)",
    "embedding": "weight[ids], an integer array of token ids indexing the rows (the gradient adds up where "
                 "an id repeats)",
    **dict.fromkeys(("clamp", "clip"), CLAMP.format(functional="F")),
    **CLAMPED,
    "minimum": "-F.maximum(-a, -b)",
    "one_hot": "np.eye(num_classes)[indices], an array (an index has no derivative); a policy's ln π(a) is "
               "F.log_softmax(logits)[np.arange(n), actions], no one-hot product needed",
    "logsigmoid": _LOG_SIGMOID}
#: jax.nn's and jax.numpy's functions looked for as F.name, and what to write.
JAX_FUNCTIONAL = {"log_sigmoid": _LOG_SIGMOID,  # (jax.nn's)
                  "logsumexp": LOGSUMEXP.format(v="x", functional="F")}


#: PyTorch's Module methods for dtypes, buffers and lookups by name that a Module lacks: what to write here
#: (nn.Module's checks.Absent attributes say them).
PYTORCH_MODULE_METHODS = {
    "half": "there is no float16 here (a Value holds float32 or float64): model.float() converts every weight to "
            "float32 in place, model.double() to float64",
    **dict.fromkeys(("buffers", "named_buffers"),
                    "numbers kept but not trained (PyTorch's buffers, a batch norm's running mean) are Values with "
                    "requires_grad=False here, kept as attributes (model.norm.running_mean); state_dict() holds "
                    "copies of their numbers by name beside the parameters', and parameters() leaves them out"),
    "get_submodule": "dict(model.named_modules())['layers.1'] (or the attribute itself, model.layers[0], net[0])",
    "get_parameter": "dict(model.named_parameters())['layers.1.weights'] (or the attribute itself, "
                     "model.layers[0].weights; a frozen one is only the attribute, as named_parameters() leaves it "
                     "out)",
}


#: torch.load's keywords and load_state_dict's assign=, given to the loaders here (nn.load, nn.load_state,
#: model.load, model.load_state_dict): what they are here (the call without them works).
PYTORCH_LOAD_KEYWORDS = {
    "map_location": "there are no devices here: a file's numbers are read into numpy arrays in the computer's memory, "
                    "so nothing is mapped; leave map_location= out (model.float() or model.double() sets the dtype)",
    "weights_only": "a model file here holds only named arrays and is read without pickle, so every load is weights "
                    "only; leave weights_only= out",
    "assign": "load_state_dict here always gives each weight the state's numbers and dtype, in the model's own Values "
              "(an optimizer built before keeps training them); leave assign= out",
}

#: What a state saved as np.savez(path, state), without ** (its dict pickled as one entry, arr_0), is, and how to
#: save it and read the file back ({who}: model or opt).
SAVED_WITHOUT_STARS = ("its one entry 'arr_0' is what np.savez(path, {who}.state_dict()) writes, the ** left out: "
                       "the dict pickled whole; save it with np.savez(path, **{who}.state_dict()), and read this "
                       "file, if you trust it (pickle runs code), with {who}.load_state_dict(np.load(path, "
                       "allow_pickle=True)['arr_0'].item())")

# --- the seed's own words for what a network does: its learning algorithm (section 7.1) and its footnote 7's code

#: The seed's learning algorithm (section 7.1) calls NETWORK.FORWARD(S), NETWORK.BACKWARD() and
#: NETWORK.UPDATE_PARAMETERS(η, ∇C_all), and the code of its footnote 7 trains with n.train and n.train_random: what
#: the names a model lacks are here (nn.Module's refusals say them; its forward is the seed's FORWARD).
SEED_NETWORK_METHODS = {
    "backward": "the seed's NETWORK.BACKWARD() (section 7.1) is the cost's here: cost = "
                "losses.squared_error(model(inputs), targets), then cost.backward() sets each parameter's .grad to "
                "∂C/∂(it), the seed's ∇C averaged over the samples (model.zero_grad() before it: gradients add up)",
    "update_parameters": "the seed's NETWORK.UPDATE_PARAMETERS(η, ∇C_all) (section 7.1) is an optimizer's step here: "
                         "opt = optim.GradientDescent(model, learning_rate=η), then opt.step() after cost.backward() "
                         "sets p to p − η·p.grad for every parameter (squared_error averages over the samples "
                         "already, as the seed's update divides by their number); training.fit(model, inputs, "
                         "targets, optimizer=opt, episodes=50) runs the whole algorithm",
    "train_random": "the seed's n.train_random (random guessing, section 5) is training.fit(model, inputs, targets, "
                    "optimizer=optim.RandomSearch(model), episodes=500), which keeps a random change only if the "
                    "cost fell",
}
#: The seed's n.train(...) (its footnote 7) given samples, where a model's train(mode) is PyTorch's training flag.
SEED_TRAIN = ("train(mode) only sets the training flag, as PyTorch's does; the seed's n.train(...) (gradient descent "
              "over episodes, section 7.1) is training.fit(model, inputs, targets, "
              "optimizer=optim.GradientDescent(model, learning_rate=η), episodes=50)")
#: The seed's σ given as the name of a layer's activation: in its formulas σ stands for any activation function.
SEED_SIGMA = ("σ is the seed's name for any activation function, not one of them: name the one meant, 'sigmoid' "
              "(σ(z) = 1 / (1 + e^(−z)), the seed's default) or another")


# --- torch.nn's, torch.nn.functional's and torch.optim's names for small networks (activations, norms, dropout,
# containers, costs, optimizers) that have none here: what the __getattr__ of tinygrad_edu.functional, nn, losses and
# optim say to write (each formula runs on a Value x, or a and b, with F = tinygrad_edu.functional)

#: An error function of one's own, for PyTorch's exact GELU: numpy has none (math.erf takes one number); its
#: derivative 2/√π·e^(−a²) is written with np.exp, which gives a Value where a is one (a second derivative).
_ERF = ("Op('erf', lambda a: np.vectorize(math.erf, otypes=[a.dtype])(a), lambda g, out, a: g * 2 / np.pi ** 0.5 * "
        "np.exp(-a * a))")
#: e to the power min(x, 0), less 1: the negative side of ELU and SELU, which overflows for no x (x.exp() does,
#: for x above about 709, and a where passes its NaN gradient on).
_EXP_BELOW_0 = "((-(-x).relu()).exp() - 1)"
#: PyTorch's Hardsigmoid, x/6 + ½ clamped to [0, 1], with its gradient at -3 and 3 themselves (none, as PyTorch's).
_HARD_SIGMOID = "F.where(x >= 3, 1.0, (x / 6 + 0.5).relu())"
#: PyTorch's activations by torch.nn.functional's names, written on a Value x, as F.name's refusals say them (and
#: torch.nn's classes of them, PYTORCH_LAYERS).
PYTORCH_ACTIVATIONS = {
    "gelu": f"x * 0.5 * (1 + erf(x / 2 ** 0.5)), with erf = {_ERF}, an Op of your own (import math; from "
            "tinygrad_edu import Op); PyTorch's approximate='tanh' is 0.5 * x * (1 + ((2 / np.pi) ** 0.5 * (x + "
            "0.044715 * x ** 3)).tanh())",
    "silu": "x * x.sigmoid()",
    "mish": "x * F.softplus(x).tanh()",
    "elu": f"x.relu() + {_EXP_BELOW_0}, for PyTorch's alpha=1.0 (another alpha multiplies the second term; e to the "
           "power min(x, 0) overflows for no x)",
    "selu": f"1.0507009873554805 * (x.relu() + 1.6732632423543772 * {_EXP_BELOW_0})",
    "softsign": "x / (1 + abs(x))",
    "hardsigmoid": f"{_HARD_SIGMOID}, x / 6 + 1/2 clamped to [0, 1]",
    "hardswish": f"x * {_HARD_SIGMOID}",
    "tanhshrink": "x - x.tanh()",
    "glu": "x[..., :x.shape[-1] // 2] * x[..., x.shape[-1] // 2:].sigmoid(), the first half of the last axis gated by "
           "the second (PyTorch's dim=-1)",
    "softmin": "F.softmax(-x, axis), for PyTorch's dim=axis",
    "threshold": "F.where(x > threshold, x, value)",
    "prelu": "x.relu() - weight * (-x).relu(), weight a Value of the slopes, trained as the weights are (one, or one "
             "per column of an x of shape (N, C))",
}
#: torch.nn.functional's in-place activations (F.relu_), and its inplace=True: what is written here instead.
_NEW_VALUE = ("every function here makes a new Value, none changes its input in place (PyTorch's in-place forms save "
              "memory, nothing else)")
PYTORCH_IN_PLACE = {"relu_": "x = F.relu(x): " + _NEW_VALUE,
                    "leaky_relu_": "x = F.leaky_relu(x, negative_slope): " + _NEW_VALUE}
#: PyTorch's keywords of F.relu, F.leaky_relu and F.softplus that these have not.
PYTORCH_ACTIVATION_KEYWORDS = {"inplace": "leave it out: " + _NEW_VALUE,
                               "beta": "F.softplus(beta * x) / beta, PyTorch's softplus(x, beta)",
                               "threshold": "leave it out: F.softplus is exact for every x, where PyTorch's turns "
                                            "into x above the threshold"}

#: Dropout, of single numbers or of whole channels (x of shape (N, C, …)), drawn while training from a numpy
#: Generator rng: the mask is numbers, with no gradient, and the kept numbers are scaled by 1/(1 − p).
_DROPOUT = "x * ((rng.random({shape}) >= p) / (1 - p))"
_DROPPED = (", while training (rng a numpy Generator, p the probability of dropping; the mask has no gradient), x "
            "itself in evaluation (training=False)")
#: Batch norm of x of shape (N, C) (BatchNorm1d) or (N, C, H, W) (BatchNorm2d, ``{shape}`` a reshape of the
#: per-channel Values): by the batch's own mean and (biased) variance in training, by the running averages in
#: evaluation; the running variance is the unbiased one, as PyTorch's (momentum=0.1, eps=1e-5).
_BATCH_NORM = ("(x - x.mean({axes}, keepdims=True)) / (((x - x.mean({axes}, keepdims=True)) ** 2).mean({axes}, "
               "keepdims=True) + 1e-5).sqrt() * weight{shape} + bias{shape}")
_RUNNING_NORM = "(x - running_mean{shape}) / np.sqrt(running_var{shape} + 1e-5) * weight{shape} + bias{shape}"
_RUNNING_UPDATE = ("running_mean *= 0.9; running_mean += 0.1 * x.data.mean({axes}); running_var *= 0.9; "
                   "running_var += 0.1 * x.data.var({axes}, ddof=1)")
_PER_CHANNEL = ".reshape(1, -1, 1, 1)"


def _batch_norm_layer(axes: str, shape: str) -> str:
    """What torch.nn's BatchNorm1d (``axes`` '0') and BatchNorm2d (``axes`` '(0, 2, 3)') are here."""
    return ("there is no batch norm here; on a Module of your own with Values weight = Value(np.ones(C)) and bias = "
            "Value(np.zeros(C)), and running_mean = Value(np.zeros(C), requires_grad=False) and running_var = "
            "Value(np.ones(C), requires_grad=False), which the state keeps and no optimizer changes, its forward is, "
            f"while self.training, {_BATCH_NORM.format(axes=axes, shape=shape)}, with under no_grad(): "
            f"{_RUNNING_UPDATE.format(axes=axes)} (PyTorch's momentum=0.1; eps=1e-5); and in eval(), "
            f"{_RUNNING_NORM.format(shape=shape)}")


#: PyTorch's RMSNorm over the last axis (eps=None: the dtype's machine epsilon, as PyTorch's).
_RMS_NORM = "x / ((x ** 2).mean(-1, keepdims=True) + np.finfo(x.dtype).eps).sqrt() * weight"
#: torch.nn.functional's other functions for small networks, written on Values, as F.name's refusals say them.
PYTORCH_FUNCTIONS = {
    "dropout": _DROPOUT.format(shape="x.shape") + _DROPPED,
    **dict.fromkeys(("dropout1d", "dropout2d"), _DROPOUT.format(shape="x.shape[:2] + (1,) * (x.ndim - 2)")
                    + ", whole channels of x (N, C, …) at a time" + _DROPPED),
    "batch_norm": f"{_BATCH_NORM.format(axes=0, shape='')}, by the batch's own mean and variance (training=True) for "
                  f"x of shape (N, C); PyTorch's default training=False is {_RUNNING_NORM.format(shape='')}",
    "rms_norm": f"{_RMS_NORM}, over the last axis (normalized_shape=(d,), weight = Value(np.ones(d)); PyTorch's "
                "eps=None is np.finfo(x.dtype).eps)",
    "normalize": "x / F.maximum((x ** 2).sum(1, keepdims=True), 1e-24).sqrt(), each row of x scaled to length 1 "
                 "(PyTorch's p=2, dim=1, eps=1e-12: a row shorter than eps is divided by eps)",
    "cosine_similarity": "(a * b).sum(1) / (F.maximum((a ** 2).sum(1), 1e-16).sqrt() * F.maximum((b ** 2).sum(1), "
                         "1e-16).sqrt()), the cosine of the angle between each row of a and b (PyTorch's dim=1, "
                         "eps=1e-8)",
    "pairwise_distance": "((a - b + 1e-6) ** 2).sum(-1).sqrt(), the distance between each row of a and b (PyTorch's "
                         "p=2 adds eps=1e-6 to the difference)",
}
#: torch.nn's activation classes, and the functions they stand for: a Layer's activation may be a function of Values.
_LAYER_ACTIVATIONS = {"GELU": "gelu", "SiLU": "silu", "Mish": "mish", "ELU": "elu", "SELU": "selu",
                      "Softsign": "softsign", "Hardsigmoid": "hardsigmoid", "Hardswish": "hardswish",
                      "Tanhshrink": "tanhshrink"}
#: An activation class of torch.nn's, which is a function of Values given as a Layer's activation here.
_AS_ACTIVATION = ("there is no {} layer here; a Layer takes a function of Values as its activation: nn.Layer(in_size, "
                  "out_size, activation=act), with act = lambda x: ")
#: A module of torch.nn's that is a formula in a forward here (``{}``: the class's name).
_IN_A_FORWARD = "there is no {} module here; in a forward of your own, "
#: torch.nn's (and Keras's) dropout layers: none here, but a forward of one's own may drop numbers.
_DROPOUT_LAYER = ("there is no dropout here (no layer computes differently in training); leave it out, or, in the "
                    "forward of a Module of your own, ")
#: torch.nn's classes of the functions above, and its other modules for small networks: what nn.Name's refusals say.
PYTORCH_LAYERS = {
    **{name: _AS_ACTIVATION.format(name) + PYTORCH_ACTIVATIONS[function]
       for name, function in _LAYER_ACTIVATIONS.items()},
    "LogSigmoid": _AS_ACTIVATION.format("LogSigmoid") + _LOG_SIGMOID,
    **{name: _IN_A_FORWARD.format(name) + PYTORCH_ACTIVATIONS[function]
       for name, function in (("Softmin", "softmin"), ("Threshold", "threshold"), ("GLU", "glu"))},  # (GLU halves x)
    "PReLU": "there is no PReLU module here; on a Module of your own with a Value weight = Value(np.full(1, 0.25)) "
             "(PyTorch's start; np.full(C, 0.25) for one slope per column), its forward is "
             + PYTORCH_ACTIVATIONS["prelu"],
    "Dropout": _DROPOUT_LAYER + PYTORCH_FUNCTIONS["dropout"],  # (nn's advice for torch.nn's and Keras's Dropout)
    **{name: _DROPOUT_LAYER + PYTORCH_FUNCTIONS["dropout2d"] for name in ("Dropout1d", "Dropout2d")},
    "BatchNorm1d": _batch_norm_layer("0", ""),
    "BatchNorm2d": _batch_norm_layer("(0, 2, 3)", _PER_CHANNEL),
    "RMSNorm": "there is no RMSNorm here; on a Module of your own, its forward is " + PYTORCH_FUNCTIONS["rms_norm"],
    "CosineSimilarity": _IN_A_FORWARD.format("CosineSimilarity") + PYTORCH_FUNCTIONS["cosine_similarity"],
    "PairwiseDistance": _IN_A_FORWARD.format("PairwiseDistance") + PYTORCH_FUNCTIONS["pairwise_distance"],
    "Identity": "there is no Identity module here; leave it out (a Network calls its layers in turn), or write x "
                "itself where it stood; a layer without an activation is nn.Layer(in_size, out_size, "
                "activation='identity')",
    "Unflatten": "x.reshape(len(x), *sizes) in a forward of your own (Unflatten(1, sizes): the batch's first axis "
                 "kept, the next one split)",
    "LazyLinear": "there are no lazy layers here: nn.Layer(in_size, out_size, activation='identity') is given its "
                  "number of inputs, x.shape[1], when it is made",
    "init": "there is no init module here: a Layer draws its own weights, nn.Layer(in_size, out_size, init='he') "
            "(PyTorch's kaiming_normal_), init='xavier' (xavier_uniform_) or 'uniform', and starts its biases at 0 "
            "for 'he' and 'xavier'; numbers of your own go in under no_grad(): layer.weights[...] = array",
}

#: torch.nn.functional's costs (and torch.nn's classes of them, PYTORCH_COST_CLASSES) for small networks, written
#: on Values, as F.name's, losses.name's and nn.Name's refusals say them (reduction='mean', PyTorch's default).
PYTORCH_COSTS = {
    "kl_div": "(target * (np.log(np.where(target > 0, target, 1)) - input)).sum() / len(input), for "
              "log-probabilities input and probabilities target, an array (a network's: its .data), PyTorch's "
              "reduction='batchmean', the divergence per sample; its default reduction='mean' divides the same sum "
              "by target.size instead",
    "soft_margin_loss": "F.softplus(-y * x).mean(), for scores x and labels y of 1 or -1: ln(1 + e^(−yx)), averaged",
    "margin_ranking_loss": "(margin - y * (x1 - x2)).relu().mean(), for labels y of 1 (x1 should rank above x2) or "
                           "-1 (PyTorch's margin=0.0)",
    "multilabel_soft_margin_loss": "(y * F.softplus(-x) + (1 - y) * F.softplus(x)).mean(), for scores x and targets "
                                   "y of 0 or 1, both of shape (N, C)",
    "multi_margin_loss": "((1 - x[np.arange(len(x)), y][:, None] + x).relu() * (np.arange(x.shape[1]) != y[:, "
                         "None])).sum(1).mean() / x.shape[1], for scores x (N, C) and class labels y, the multi-class "
                         "SVM's hinge (PyTorch's margin=1)",
}
#: torch.nn's classes of the costs above, by their torch.nn.functional names.
PYTORCH_COST_CLASSES = {"KLDivLoss": "kl_div", "SoftMarginLoss": "soft_margin_loss",
                        "MarginRankingLoss": "margin_ranking_loss",
                        "MultiLabelSoftMarginLoss": "multilabel_soft_margin_loss",
                        "MultiMarginLoss": "multi_margin_loss"}

#: A rule of one's own, stepped by hand after cost.backward() (every parameter the cost reached has a .grad).
_BY_HAND = ("its step by hand after cost.backward(), with {state} = [np.zeros_like(p.data) for p in "
            "model.parameters()] made once, under no_grad(): for p, s in zip(model.parameters(), {state}): {rule} ")
#: torch.optim's optimizers that are not here, and what to write instead, as optim.Name's refusals say it.
PYTORCH_OPTIMIZERS = {
    "AdamW": "there is no AdamW here; write optim.Adam(model, learning_rate=lr) and, before each opt.step(), AdamW's "
             "decay by hand under no_grad(): for p in model.parameters(): p *= 1 - lr * weight_decay (PyTorch's "
             "weight_decay=0.01; the decay is not in the gradient, as PyTorch's Adam(weight_decay=) puts it)",
    "RMSprop": "there is no RMSprop here; write " + _BY_HAND.format(
        state="squares", rule="s *= alpha; s += (1 - alpha) * p.grad ** 2; p -= lr * p.grad / (np.sqrt(s) + eps)")
        + "(PyTorch's alpha=0.99, eps=1e-8; optim.Adam(model, learning_rate=lr, betas=(0.0, alpha)) differs from it "
          "only by Adam's bias correction)",
    "Adagrad": "there is no Adagrad here; write " + _BY_HAND.format(
        state="sums", rule="s += p.grad ** 2; p -= lr * p.grad / (np.sqrt(s) + eps)") + "(PyTorch's lr=0.01, "
        "eps=1e-10)",
    **{name: f"there is no {name} here; optim.Adam(model, learning_rate=lr) (plain Adam) or optim.SGD(model, "
             "learning_rate=lr, momentum=0.9) takes its place, or write its rule by hand after cost.backward(), under "
             "no_grad(): p -= … for p in model.parameters()"
       for name in ("Adamax", "NAdam", "RAdam", "Adadelta", "ASGD", "Rprop", "SparseAdam")},
    "LBFGS": "there is no L-BFGS here; for a small full-batch problem optim.Newton(model) (the Hessian itself, with "
             "Armijo's line search) or optim.Armijo(model) (gradient descent with Armijo's steps) takes a closure as "
             "LBFGS does, opt.step(closure), whose closure returns the cost without calling backward()",
}

# (this section's names, listed here beside it)
__all__ += ["PYTORCH_ACTIVATIONS", "PYTORCH_IN_PLACE", "PYTORCH_ACTIVATION_KEYWORDS", "PYTORCH_FUNCTIONS",
            "PYTORCH_LAYERS", "PYTORCH_COSTS", "PYTORCH_COST_CLASSES", "PYTORCH_OPTIMIZERS"]


# --- torch.Tensor's methods for small networks that a Value has not (v.add, v.eq, v.add_, v.gelu, v.sin, v.repeat):
# what the checks.Absent attributes engine.py sets on Value say, as WRITE_INSTEAD's do (each formula runs on v)

#: sine and cosine as Ops of one's own, each written with the other, so that a recorded backward pass records them too.
_SIN_COS = ("sin = Op('sin', np.sin, lambda g, out, a: g * cos(a)) and cos = Op('cos', np.cos, lambda g, out, a: "
            "-g * sin(a)), Ops of your own (from tinygrad_edu import Op), each the other's derivative, so that "
            "derivatives of derivatives work too")
_YOUR_OWN = "an Op of your own (from tinygrad_edu import Op), its derivative written with operators (any order)"
#: numpy's ufuncs (and scipy.special's erf) that the engine has not, as Ops of one's own: what np.sin(v) says
#: (ufunc_advice reads this table) and what v.sin(), PyTorch's method, says.
MATH_FUNCTIONS = {
    "sin": f"sin(v), with {_SIN_COS}", "cos": f"cos(v), with {_SIN_COS}",
    "tan": f"tan(v), with tan = Op('tan', np.tan, lambda g, out, a: g * (1 + out * out)), {_YOUR_OWN}",
    "arctan": f"atan(v), with atan = Op('atan', np.arctan, lambda g, out, a: g / (1 + a * a)), {_YOUR_OWN}",
    "erf": f"erf(v), with erf = {_ERF}, an Op of your own (import math; from tinygrad_edu import Op)",
}

#: The README's rule for a Value changed in place: under no_grad() a leaf's numbers change; elsewhere a new Value.
_CHANGED = ("; with no_grad(), that changes a leaf (a parameter) in place, as PyTorch's {name}_ does (w -= lr * "
            "w.grad); elsewhere it makes a new Value, v = v {op} other, and a graph recorded before is unchanged")
#: A leaf's numbers set under no_grad() by index assignment (a Value elsewhere is never changed element by element).
_SET = "with no_grad(): v[...] = {}, which changes a leaf (a parameter) in place"
_DRAWN = f"{_SET}, with rng = np.random.default_rng(seed)"
#: PyTorch's in-place arithmetic (v.add_(other, alpha=a)), its numbers set in place (v.zero_(), v.copy_(src)) and
#: its in-place functions (v.relu_(), F.relu_'s method form): what the code is here.
_IN_PLACE_METHODS = {
    **{f"{name}_": f"v {op}= other{alpha}" + _CHANGED.format(name=name, op=op)
       for name, op, alpha in (("add", "+", " (PyTorch's alpha=a: v += a * other)"),
                               ("sub", "-", " (PyTorch's alpha=a: v -= a * other)"), ("mul", "*", ""),
                               ("div", "/", ""))},
    "zero_": _SET.format("0") + " (PyTorch's v.grad.zero_() is v.zero_grad() here, .grad being a numpy array; "
                                "model.zero_grad() for every parameter)",
    "fill_": _SET.format("value") + " (a new Value of one number everywhere: Value(np.full(v.shape, value)))",
    "copy_": _SET.format("numbers") + ", numbers an array of v's shape (another Value's: other.data; a PyTorch "
                                      "tensor's: t.detach().numpy()); a whole model's: model.load_state_dict(state)",
    "normal_": _DRAWN.format("rng.normal(mean, std, v.shape)"),
    "uniform_": _DRAWN.format("rng.uniform(low, high, v.shape)"),
    "clamp_": "v = -functional.maximum(-functional.maximum(v, low), -high), a new Value (at a bound itself it passes "
              "½ of the gradient, see clamp); to clip a parameter after a step, "
              + _SET.format("np.clip(v.data, low, high)"),
    **{f"{name}_": f"v = v.{name}(): {_NEW_VALUE}" for name in ("relu", "sigmoid", "tanh", "exp", "log", "sqrt")},
    "abs_": f"v = abs(v): {_NEW_VALUE}", "neg_": f"v = -v: {_NEW_VALUE}",
    "pow_": f"v = v ** exponent: {_NEW_VALUE}", "square_": f"v = v ** 2: {_NEW_VALUE}",
}
#: An activation of torch.nn.functional's (PYTORCH_ACTIVATIONS, written on x with F) written on v with functional, as
#: the rest of a Value's advice is: its method form (v.gelu()) says the same as F.gelu.
_ON_V = ((r"\ban x\b", "a v"), (r"\bx\b", "v"), (r"\bF\.", "functional."))


def _on_v(formula: str) -> str:
    """``formula``, written on x with F, written on v with functional."""
    for pattern, replacement in _ON_V:
        formula = re.sub(pattern, replacement, formula)
    return formula


_INV_OF_V = f"with {_INV}, {_OWN_OPS}"
#: torch.Tensor's methods (and torch.nn.functional's activations as methods) a small network's author writes, which a
#: Value has not: what to write here (engine.py sets them on Value as checks.Absent attributes, as WRITE_INSTEAD's).
TENSOR_METHODS = {
    # the operators' method forms
    "add": "v + other (PyTorch's alpha=a: v + a * other)", "sub": "v - other (PyTorch's alpha=a: v - a * other)",
    "mul": "v * other", "div": "v / other", "reciprocal": "1 / v", "rsqrt": "1 / v.sqrt()",
    "maximum": "functional.maximum(v, other)", "minimum": "-functional.maximum(-v, -other)",
    "addmm": "v + mat1 @ mat2 (PyTorch's beta and alpha: beta * v + alpha * (mat1 @ mat2))",
    "outer": "v.reshape(-1, 1) * other.reshape(1, -1), for a 1-D v and other", "mv": "v @ vector",
    # comparisons: boolean arrays, as numpy's
    **{name: f"v {symbol} other, a boolean array (a comparison has no gradient)"
       for name, symbol in (("eq", "=="), ("ne", "!="), ("gt", ">"), ("lt", "<"), ("ge", ">="), ("le", "<="))},
    "equal": "np.array_equal(v.data, other.data), on the numbers: True where the shapes and all the numbers agree (a "
             "truth value has no derivative)",
    **{name: f"np.{name}(v), a boolean array (it has no gradient)" for name in ("isnan", "isinf", "isfinite")},
    "allclose": "np.allclose(v.data, other.data), on the numbers: a truth value has no derivative",
    **_IN_PLACE_METHODS,
    **{name: _on_v(formula) for name, formula in PYTORCH_ACTIVATIONS.items()},
    **{name: MATH_FUNCTIONS[name] for name in ("sin", "cos", "tan", "erf")}, "atan": MATH_FUNCTIONS["arctan"],
    # reshapes
    **dict.fromkeys(("repeat", "tile"),
                    "functional.concatenate([v] * n), n copies of a 1-D v one after another, PyTorch's repeat(n) (of a "
                    "matrix, functional.concatenate([v] * n, axis=1) for repeat(1, n) and functional.concatenate([v] "
                    "* n) for repeat(n, 1)); the gradient adds the copies up"),
    "repeat_interleave": "v[np.repeat(np.arange(len(v)), n)], each number of a 1-D v n times in a row, PyTorch's "
                         "repeat_interleave(n) (along axis 1 of a matrix: v[:, np.repeat(np.arange(v.shape[1]), n)]); "
                         "the gradient adds the copies up",
    **dict.fromkeys(("view_as", "reshape_as"), "v.reshape(other.shape)"),
    "unbind": "list(v), the Values v[0], v[1], … along axis 0 (along axis 1: [v[:, i] for i in range(v.shape[1])])",
    "movedim": "np.moveaxis(v, source, destination), which is recorded (a transpose)",
    "unflatten": "v.reshape(v.shape[:axis] + sizes + v.shape[axis + 1:]), for PyTorch's unflatten(axis, sizes) with "
                 "a tuple sizes and axis >= 0",
    # reductions, orders, matrices
    "diff": NUMPY_INSTEAD["np.diff"],
    "median": "v[np.argsort(v.data)[(len(v) - 1) // 2]], the middle number of a 1-D v; of an even length the lower "
              "of the middle two, as PyTorch's median (numpy's averages them: see np.median); the gradient goes to it",
    "argsort": "np.argsort(v.data), on the numbers: an index has no derivative (v[np.argsort(v.data)] is a 1-D v "
               "sorted, its gradient going back; each row of a matrix: np.argsort(v.data, axis=1))",
    "inverse": f"inv(v), {_INV_OF_V}", "det": f"det(v), with {_DET} and {_INV}, {_OWN_OPS}",
    "where": "functional.where(condition, v, other), v where condition holds and other elsewhere (PyTorch's "
             "where(condition, other))",
    "masked_select": "v[mask], a 1-D Value of the numbers where mask holds (the gradient goes back to them)",
    # dtypes, devices, new arrays
    "type_as": "v.astype(other.dtype)",
    "type": "v.astype(np.float32) for a dtype (PyTorch's type(torch.float32)); v.dtype is the one it has",
    "half": "v.astype(np.float32): a Value holds float32 or float64, there is no float16 here",
    **dict.fromkeys(("int", "long"), "v.data.astype(np.int64), on the numbers: an integer has no derivative"),
    "device": "nothing: there are no devices here, a Value's numbers are numpy arrays in the computer's memory "
              "(PyTorch's x.to(v.device) is x itself)",
    "is_cuda": "False: there are no devices here, a Value's numbers are numpy arrays in the computer's memory (a "
               "branch on v.is_cuda keeps its CPU side)",
    **{f"new_{name}": f"np.{name}(shape, v.dtype), a constant of v's dtype (Value(np.{name}(shape, v.dtype)) for a "
                      "parameter)" for name in ("zeros", "ones")},
    "new_full": "np.full(shape, value, v.dtype), a constant of v's dtype (Value(np.full(shape, value, v.dtype)) for a "
                "parameter)",
    # numpy's own array method, where v.detach() would share the numbers
    "copy": "v * 1.0, a new Value on the graph with numbers of its own, or Value(v.data.copy()), a new leaf of the "
            "same numbers (v.detach() and v.numpy() share v's numbers, they do not copy them)",
}
__all__ += ["MATH_FUNCTIONS", "TENSOR_METHODS", "WHOLE_NUMBER_IN_A_VJP"]


def __dir__() -> list[str]:
    """``dir()`` of this module lists its API (``__all__``), not its helpers and imports."""
    return sorted(__all__)
