"""Gradient checking: compare the gradients backpropagation computes with finite differences.

Backpropagation (seed, section 6.3) is the chain rule applied node by node; one wrong local derivative
silently gives wrong weight updates, and gradient descent still "runs".  The cure is to measure the derivative
directly: the central difference ``∂C/∂x ≈ (C(x + ε) − C(x − ε)) / 2ε`` for every element of every input, in
float64, and compare it with what :meth:`~tinygrad_edu.Value.backward` says.

    >>> import numpy as np
    >>> from tinygrad_edu.testing import check_gradients
    >>> report = check_gradients(lambda w, a: (w @ a).sigmoid().sum(), np.ones((2, 3)), np.arange(3.0))
    >>> max(report.max_rel_error) < 1e-6      # a report means every element agreed; a mismatch raises
    True

``check_gradients(f, *inputs, order=2)`` checks derivatives of derivatives the same way (the gradient recorded
with ``backward(create_graph=True)``, differentiated again, against central differences of the gradient), and
``order=3`` and up one derivative further each; every order below the one asked for is checked first.

Hypothesis strategies for property tests of your own operations live in :mod:`tinygrad_edu.testing.strategies`
(needs the ``testing`` extra: ``pip install ".[testing]"`` in a clone, or ``pip install hypothesis``).
"""

from __future__ import annotations

import inspect
import itertools
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu import checks
from tinygrad_edu.autodiff import gradients
from tinygrad_edu.engine import Value, backward_order, enable_grad, no_grad
from tinygrad_edu.ops import BUILT_IN, Op
from tinygrad_edu.seeds import GENERATOR_AS_SEED, USE_SEED, Seed, generator

__all__ = ["numerical_gradient", "check_gradients", "GradientReport", "GradientCheckError"]


def _check_arity(f: Callable[..., Any], inputs: Sequence[Any], where: str) -> None:
    """f must take one positional argument per input; else a TypeError naming ``where`` and f's parameters (the
    error f itself would raise names neither), with a hint when a tuple of inputs was given as one, as
    torch.autograd.gradcheck takes them.  A tuple or list of arrays or Values given as the only input is a TypeError
    too where f takes one: ``(W,)`` would be checked as one array of shape ``(1, *W.shape)``, not as ``W``."""
    together = len(inputs) == 1 and isinstance(inputs[0], tuple | list)
    kind = type(inputs[0]).__name__ if together else ""
    hint = (f"; give the inputs one by one, {where}(f, x, y), not as one {kind} (torch.autograd.gradcheck's "
            "tuple of inputs)" if together else "")
    if isinstance(f, Op):  # (its signature, (*inputs, **params), takes any number: its vjps count them)
        if len(inputs) != len(f.vjps):
            raise TypeError(f"{where}: f {f!r} cannot be called with the {len(inputs)} input(s) given{hint}")
    else:
        try:
            signature = inspect.signature(f)
            signature.bind(*inputs)
        except ValueError:  # (no signature to read: f's own error will have to do)
            pass
        except TypeError:
            name = getattr(f, "__name__", type(f).__name__)
            raise TypeError(f"{where}: f {name}{signature} cannot be called with the {len(inputs)} input(s) "
                            f"given{hint}") from None
    if together and any(isinstance(x, Value | np.ndarray) for x in inputs[0]):
        raise TypeError(f"{where}: the only input is a {kind} of {checks.counted(len(inputs[0]), 'array')}, "
                        "which would be checked as one array with a new first axis, not as the arrays themselves; "
                        f"give the inputs one by one, {where}(f, x) or {where}(f, x, y), not as one {kind} "
                        "(torch.autograd.gradcheck's tuple of inputs), or np.stack(...) for one array made of them")


def _real_array(name: str, what: str, x: Any) -> np.ndarray:
    """A float64 copy of ``x`` (a Value, an array, a number or nested lists); anything but real numbers (complex,
    strings, None, ragged lists) is a TypeError or ValueError naming ``name`` and ``what``."""
    array = checks.real_array(x.data if isinstance(x, Value) else x, what, name)
    return np.array(array, dtype=np.float64, copy=True)


def _output_data(out: Any, name: str) -> np.ndarray:
    _refuse_float32_output(out, name)
    try:
        return _real_array(name, "f's output", out)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: f must return a Value or an array of real numbers, "
                        f"got {type(out).__name__}") from None


def _refuse_float32_output(out: Any, name: str) -> None:
    """f gets float64 inputs; a float32 output means f rounds to float32 inside, where a step of ε is lost."""
    dtype = getattr(out.data if isinstance(out, Value) else out, "dtype", None)
    if _narrow_float(dtype):
        raise TypeError(f"{name}: f returned {dtype} for float64 inputs, so it rounds to {dtype} inside (an "
                        f"astype or a {dtype} forward), where a finite-difference step is lost in rounding; "
                        "check f in float64")


def _narrow_float(dtype: Any) -> bool:
    """Whether ``dtype`` is a float type coarser than float64 (float32, float16)."""
    return isinstance(dtype, np.dtype) and dtype.kind == "f" and dtype.itemsize < 8


def _unrecorded(f: Callable[..., Any], arguments: Callable[[], list[Any]]) -> Any:
    """``f`` at fresh ``arguments()`` under ``no_grad`` (a value a step away needs no graph).  An ``f`` that
    differentiates inside (``autodiff.gradients`` or ``backward(create_graph=True)`` on its own Values: a
    hypergradient, a gradient penalty) needs its graph, and fails there with an error naming no_grad: it is
    evaluated again with recording on, as the backward pass evaluates it.  If it fails that way too, the first error
    is raised; any other error at once."""
    __tracebackhide__ = True
    try:
        with no_grad():
            return f(*arguments())
    except ValueError as error:
        if "no_grad" not in str(error):  # (an error of f's own: f is not evaluated twice)
            raise
        try:
            with enable_grad():
                return f(*arguments())
        except ValueError:
            raise error from None


#: What a keyword argument meant for f, check_gradients(f, x, scale=2.0), is told (check_gradients has no **kwargs).
_F_KEYWORDS = ("f's own keyword arguments are not passed on to it: fix them first, with functools.partial(f, "
               "{key}=...) or lambda x: f(x, {key}=...)")


#: The step of the central differences under other libraries' names (MyGrad's h=, minitorch's epsilon=).
_STEP_NAMES = dict.fromkeys(("h", "epsilon"), "the step of the central differences is called eps= here")


@checks.pytorch_keywords(dict.fromkeys(("grad", "grad_output", "grad_outputs", "back_grad"),
                                       "the upstream gradient is called upstream= here"),
                         _F_KEYWORDS, **_STEP_NAMES)
def numerical_gradient(f: Callable[..., Any], *inputs: Any, eps: float = 1e-6,
                       upstream: Any = None) -> list[np.ndarray]:
    """The gradient of ``Σ upstream · f(*inputs)`` with respect to each input: central differences, float64.

    Every element ``x`` of every input is moved to ``x + ε`` and ``x − ε`` in turn and
    ``∂C/∂x ≈ Σ upstream · (f(…, x + ε, …) − f(…, x − ε, …)) / 2ε``.  Inputs given as Values reach ``f`` as
    Values (float64, evaluated under :func:`~tinygrad_edu.no_grad`, or with recording on where ``f`` needs it: an
    ``f`` that differentiates inside, a hypergradient; once more recorded at the inputs, so that an ``f`` whose
    ``h += x`` on a Value it uses again computes other numbers under no_grad is a ValueError, not another slope),
    arrays and numbers as float64 arrays.
    ``upstream`` (∂C/∂output) may be left out only when ``f`` returns a single number.
    Returns one float64 array per input, of that input's shape, all finite.  ``eps`` must be a finite number > 0,
    the inputs and ``upstream`` finite; an element where ``x ± ε`` rounds back to ``x`` (a step too small for
    ``|x|``) is a ``ValueError`` that suggests a larger ``eps``, one where ``x ± ε`` overflows one that suggests a
    smaller ``eps``.  Where no finite difference comes out (f overflows or leaves its domain within the step, or the
    difference is beyond float64) a ``ValueError`` says which and what to change.

    >>> numerical_gradient(lambda x: (x ** 3).sum(), np.array([1.0, 2.0]))   # 3x²
    [array([ 3., 12.])]
    """
    __tracebackhide__ = True  # pytest: show the caller's line, not this library's source
    if not callable(f):
        raise TypeError(f"numerical_gradient: f must be callable, got {type(f).__name__}")
    eps = checks.number(eps, "eps", "numerical_gradient", above=0)
    bases = [_real_array("numerical_gradient", f"input {i}", x) for i, x in enumerate(inputs)]
    _check_steps("numerical_gradient", bases, [str(i) for i in range(len(bases))], eps)
    _check_arity(f, inputs, "numerical_gradient")
    as_value = [isinstance(x, Value) for x in inputs]
    evaluate = _evaluator(f, as_value)
    try:
        out = evaluate(bases)
        if any(as_value):
            _check_alike_recorded(f, bases, out, evaluate)
        weights = _upstream_weights(upstream, out)
        grads = _central_differences(evaluate, bases, weights, eps)  # (class labels moved by eps refused: 1e-06)
    except (TypeError, IndexError, ValueError) as error:
        _name_integer_inputs(error, inputs, "numerical_gradient")
        raise
    _refuse_non_finite(evaluate, bases, weights, eps, grads)
    return grads


Evaluate = Callable[[list[np.ndarray]], np.ndarray]


def _evaluator(f: Callable[..., Any], as_value: list[bool]) -> Evaluate:
    """:func:`numerical_gradient`'s f at a point, as a float64 array: each input a Value where ``as_value`` says
    so, else an array, copied either way; every output the shape of the first, or a ValueError."""
    shape: list[tuple[int, ...]] = []  # f's output shape at the inputs: the same a step away, or no difference

    def evaluate(arrays: list[np.ndarray]) -> np.ndarray:
        __tracebackhide__ = True
        # copies: an f that changes its argument in place (x -= x.mean()) must not move the points differenced
        def args() -> list[Any]:
            return [Value(a) if wrap else a.copy() for a, wrap in zip(arrays, as_value, strict=True)]
        try:
            out = _output_data(_unrecorded(f, args), "numerical_gradient")
        except AttributeError as error:  # (f written for Values, v.relu(), given an array)
            if not isinstance(getattr(error, "obj", None), np.ndarray):
                raise
            raise TypeError(f"numerical_gradient: f failed on a float64 array ({error}): inputs given as arrays or "
                            "numbers reach f as arrays, Values as Values; for an f written with Value methods, give "
                            "the inputs as Values, numerical_gradient(f, Value(x))") from None
        _check_same_shape(out, shape, "numerical_gradient")
        return out

    return evaluate


def _upstream_weights(upstream: Any, out: np.ndarray) -> np.ndarray:
    """:func:`numerical_gradient`'s ``upstream``, checked against f's output ``out``, as float64 (ones where it is
    left out, which only an output of size 1 may be)."""
    __tracebackhide__ = True
    if upstream is None:
        if out.size != 1:
            raise ValueError(f"numerical_gradient: f returned shape {out.shape}; give upstream (∂C/∂output) "
                             "of that shape, only an output of size 1 needs none")
        return np.ones(out.shape)
    weights = _real_array("numerical_gradient", "upstream", upstream)
    if weights.shape != out.shape:
        raise ValueError(f"numerical_gradient: upstream has shape {weights.shape} but f returned shape "
                         f"{out.shape}")
    if not np.isfinite(weights).all():
        raise ValueError(f"numerical_gradient: upstream must be finite, got {weights[~np.isfinite(weights)][0]}")
    return weights

#: Why f can compute other numbers under no_grad() than recorded, as backpropagation differentiates it.
_IN_PLACE_OPERATOR = ("an in-place operator (h += x, h *= 2) on a Value f made itself changes that Value's numbers "
                      "under no_grad(), where recording makes a new Value: if f uses it again after (y = h; h += x; "
                      "… y …), the finite differences measure another function than backpropagation does. Write "
                      "h = h + x")


def _recorded_differs(f: Callable[..., Any], arrays: list[np.ndarray], unrecorded: np.ndarray) -> str:
    """``f``'s output recorded at ``arrays`` as ``"x (recorded) and y (under no_grad())"`` where it differs from
    ``unrecorded`` (f evaluated under no_grad, as finite differences evaluate it); "" where they agree, or where f
    fails or returns another shape when recorded (said elsewhere)."""
    __tracebackhide__ = True
    try:
        with enable_grad(), np.errstate(all="ignore"):
            recorded = np.asarray(getattr(out := f(*[Value(a) for a in arrays]), "data", out), dtype=np.float64)
    except Exception:  # noqa: BLE001 - an f that needs no_grad says so in its own words elsewhere
        return ""
    if recorded.shape != unrecorded.shape or np.array_equal(recorded, unrecorded, equal_nan=True):
        return ""
    k = int(np.argmax(~((recorded == unrecorded) | np.isnan(recorded) & np.isnan(unrecorded))))
    return f"{float(recorded.ravel()[k])!r} (recorded) and {float(unrecorded.ravel()[k])!r} (under no_grad())"


def _check_alike_recorded(f: Callable[..., Any], bases: list[np.ndarray], out: np.ndarray,
                          evaluate: Evaluate) -> None:
    """A ValueError when ``f`` at the inputs gives other numbers recorded than under no_grad (``out``): its finite
    differences would be those of another function than the one backpropagation differentiates.  An f that gives
    other numbers under no_grad too, called again (``evaluate``), is random, not in place, and told so."""
    __tracebackhide__ = True
    if not (differs := _recorded_differs(f, bases, out)):
        return
    if not _computed_again(lambda: [evaluate(bases)], [out]):
        raise ValueError("numerical_gradient: f is not deterministic: calls with the same inputs returned different "
                         "values (random numbers inside f, such as dropout or noise?), so its finite differences "
                         "would measure the noise, not a slope; make f deterministic (fixed noise, dropout off)")
    raise ValueError(f"numerical_gradient: f gives other numbers recorded than under no_grad(), where its finite "
                     f"differences are taken: {differs} at the inputs; {_IN_PLACE_OPERATOR} (or f draws random "
                     "numbers: make it deterministic)")


def _check_same_shape(out: np.ndarray, first: list[tuple[int, ...]], name: str) -> None:
    """f's output must keep the shape it has at the inputs (kept in ``first``, set by the first call) when an input
    moves by ε: outputs of two shapes would broadcast into a difference that means nothing."""
    if not first:
        first.append(out.shape)
    elif out.shape != first[0]:
        raise ValueError(f"{name}: f returned shape {out.shape} for inputs moved by ±eps but {first[0]} for the "
                         "inputs given; its output must keep one shape near the point (f selects elements by "
                         "value, x[x > 0]?), or no finite difference exists")


def _check_steps(name: str, bases: list[np.ndarray], names: Sequence[str], eps: float) -> None:
    """Every element must be finite and move when ε is added and subtracted, or its difference means nothing."""
    for base, label in zip(bases, names, strict=True):
        with np.errstate(over="ignore", invalid="ignore"):  # (inf − inf in the step of an inf input)
            plus, minus = base + eps, base - eps
            step = plus - minus
        problems = ((~np.isfinite(base), "is not finite; finite differences need finite numbers"),
                    (~np.isfinite(plus) | ~np.isfinite(minus) | ~np.isfinite(step),
                     f"overflows when moved by eps={eps:g} (x ± eps, or the step of 2·eps between them, is beyond "
                     f"float64's {np.finfo(np.float64).max:.3g}); give a smaller eps"),
                    ((plus == base) | (minus == base), f"does not move by eps={eps:g}: x ± eps rounds back to x in "
                     "float64, so the difference has no step; give a larger eps, about 1e-6·|x|"))
        for bad, problem in problems:
            if bad.any():
                index = checks.first_index(bad)
                raise ValueError(f"{name}: input {label}, element {index} = {base[index]:g} {problem}")


def _refuse_non_finite(evaluate: Evaluate, bases: list[np.ndarray], weights: np.ndarray, eps: float,
                       grads: list[np.ndarray]) -> None:
    """numerical_gradient's differences, which must be finite: at the first that is not, a ValueError saying why
    (f not finite a step away from x, or a difference beyond float64) and what to change."""
    __tracebackhide__ = True
    for i, grad in enumerate(grads):
        if np.isfinite(grad).all():
            continue
        index = checks.first_index(~np.isfinite(grad))
        where = f"numerical_gradient: input {i}, element {index} = {bases[i][index]:g}"
        with np.errstate(all="ignore"):
            ends = [evaluate(_moved(bases, i, index, step)) for step in (eps, -eps)]
        if not all(np.isfinite(end).all() for end in ends):
            raise ValueError(f"{where}: f is not finite at x + eps or x − eps (eps={eps:g}): it overflows or leaves "
                             "its domain within the step, so there is no difference to take; give a smaller eps or "
                             "a point where f is finite around it")
        size = max(float(np.abs(end).max(initial=0.0)) for end in ends)
        raise ValueError(f"{where}: Σ upstream · (f(x + eps) − f(x − eps)) / 2·eps is beyond float64's "
                         f"{np.finfo(np.float64).max:.3g} (upstream up to {float(np.abs(weights).max()):g} in size, "
                         f"f(x ± eps) up to {size:.3g}): scale upstream (or f) down")


def _moved(bases: list[np.ndarray], i: int, index: tuple[int, ...], step: float) -> list[np.ndarray]:
    """The inputs with element ``index`` of input ``i`` moved by ``step``."""
    moved = bases[i].copy()
    moved[index] += step
    return bases[:i] + [moved] + bases[i + 1:]


def _central_differences(evaluate: Evaluate, bases: list[np.ndarray], weights: np.ndarray,
                         eps: float) -> list[np.ndarray]:
    """∂/∂x of Σ weights · evaluate(inputs) for every element x of every input: (C(x + ε) − C(x − ε)) / 2ε."""
    __tracebackhide__ = True
    grads = []
    for i, base in enumerate(bases):
        grad = np.zeros(base.shape)
        for index in np.ndindex(base.shape):
            grad[index] = _difference_at(evaluate, bases, weights, i, index, eps)
        grads.append(grad)
    return grads


def _difference_at(evaluate: Evaluate, bases: list[np.ndarray], weights: np.ndarray, i: int, index: tuple[int, ...],
                   eps: float) -> float:
    """The central difference (C(x + ε) − C(x − ε)) / 2ε for element ``index`` of input ``i``; NaN where x ± ε
    rounds back to x (only a halved step can: the given one is checked first)."""
    __tracebackhide__ = True
    plus, minus = _moved(bases, i, index, eps), _moved(bases, i, index, -eps)
    if plus[i][index] == bases[i][index] or minus[i][index] == bases[i][index]:
        return math.nan
    step = float(plus[i][index] - minus[i][index])  # exactly representable, unlike 2ε (and finite: checked first)
    with np.errstate(all="ignore"):  # f not finite a step away, or a difference beyond float64: NaN or inf, which
        change = float(np.sum(weights * (evaluate(plus) - evaluate(minus))))  # the callers explain
    return change / step


def _resolution(evaluate: Evaluate, bases: list[np.ndarray], weights: np.ndarray, i: int, index: tuple[int, ...],
                eps: float) -> float:
    """About the least disagreement the central difference at an element can show: the rounding of the values of f
    it subtracts (two units in the last place of Σ|w|·(|C(x + ε)| + |C(x − ε)|)) over the step.  For a note only:
    it depends on how f computes, so it excuses nothing."""
    __tracebackhide__ = True
    plus, minus = _moved(bases, i, index, eps), _moved(bases, i, index, -eps)
    with np.errstate(all="ignore"):
        size = float(np.sum(np.abs(weights) * (np.abs(evaluate(plus)) + np.abs(evaluate(minus)))))
    return 2 * float(np.finfo(np.float64).eps) * size / float(plus[i][index] - minus[i][index])


def _one_sided_slope(evaluate: Evaluate, bases: list[np.ndarray], weights: np.ndarray, here: np.ndarray, i: int,
                     index: tuple[int, ...], step: float) -> float:
    """(C(x + step) − C(x)) / step for element ``index`` of input ``i``; ``here`` is C(x).  NaN where x + step
    rounds back to x."""
    __tracebackhide__ = True
    moved = _moved(bases, i, index, step)
    if moved[i][index] == bases[i][index]:
        return math.nan
    with np.errstate(all="ignore"):  # (as in _difference_at; Python floats from here: inf or NaN, never a warning)
        change = float(np.sum(weights * (evaluate(moved) - here)))
    return change / float(moved[i][index] - bases[i][index]) + 0.0  # a flat side is 0, not -0 (0 / −step)


class _Slopes:
    """The one-sided slopes (C(x ± h) − C(x)) / ±h of the check's f at its elements, each element and step evaluated
    once (and C(x), ``here``, once): the kink test asks for the table's rows and the worst element again, and the
    coarse-values test for the same steps ε, ε/2, ε/4."""

    def __init__(self, evaluate: Evaluate, bases: list[np.ndarray], weights: np.ndarray, eps: float) -> None:
        self.evaluate, self.bases, self.weights, self.eps = evaluate, bases, weights, eps
        self.known: dict[tuple[int, tuple[int, ...], float], float] = {}
        self.values: np.ndarray | None = None

    def here(self) -> np.ndarray:
        if self.values is None:
            self.values = self.evaluate(self.bases)
        return self.values

    def at(self, i: int, index: tuple[int, ...], step: float) -> float:
        if (i, index, step) not in self.known:
            self.known[i, index, step] = _one_sided_slope(self.evaluate, self.bases, self.weights, self.here(), i,
                                                          index, step)
        return self.known[i, index, step]

    def rounding(self) -> float:
        """How far float64's rounding of f's values moves the gap between two slopes over ε: see _slope_rounding."""
        return _slope_rounding(self.weights, self.here(), self.eps)


def _at_a_kink(slopes: _Slopes, i: int, index: tuple[int, ...], atol: float,
               rtol: float) -> tuple[float, float] | None:
    """The two one-sided slopes at an element, if they disagree as at a kink (ReLU or abs at 0, a tie in a max).

    On a smooth function the slopes over a step ε to the left and to the right differ by about ε·C'', which can
    exceed the tolerance (ε = 1e-4 from order 3), and over a step ε/2 by half as much; at a kink they differ by
    the jump in slope, whatever the step, and no derivative exists to check.  A kink a distance d < ε away (relu at
    x = 3e-7 with ε = 1e-6) is within the step too: the gap is J·(1 − d/h) for a step h > d, and 0 once h < d, which
    halves from ε to ε/2 where d is 0.23ε to 0.41ε; so a gap that halved must halve again from ε/2 to ε/4, as
    curvature's does, to be called curvature.  Nor is a gap a kink where rounding alone makes it: a large f's last
    digits (8 units in the last place of Σ|w·C| over ε, for the two slopes).
    """
    __tracebackhide__ = True
    eps = slopes.eps
    left, right = (slopes.at(i, index, step) for step in (-eps, eps))
    gap = right - left
    if not abs(gap) > max(10 * (atol + rtol * max(abs(right), abs(left))), slopes.rounding()):
        return None
    smaller = [slopes.at(i, index, step) - slopes.at(i, index, -step) for step in (eps / 2, eps / 4)]
    # a kink's gap is J·(1 − d/h), which a smaller step h leaves as it is or shrinks, never grows or turns round: a
    # gap that does is f's rounding (a vjp in float32 at order 2), however it halved on the way
    shrinks = not any(later * earlier < 0 or abs(later) > 1.3 * abs(earlier)  # (NaN, a step lost in rounding:
                      for earlier, later in zip([gap, *smaller], smaller))  # no sign of rounding)
    for halved in smaller:  # halved with each step: curvature (NaN: a kink)
        if not 0.3 <= halved / gap <= 0.7:  # (a gap that doubles twice is f's coarse rounding: no kink's grows so)
            return None if not shrinks or _coarse_values(slopes, i, index) else (left, right)
        gap = halved
    return None


def _coarse_values(slopes: _Slopes, i: int, index: tuple[int, ...]) -> list[float]:
    """The gaps between the one-sided slopes at an element over the steps ε, ε/2 and ε/4 where each is about twice
    the one before (of either sign), as a fixed rounding of f's values over a smaller step is, and more than float64's
    rounding of f makes them (see :func:`_at_a_kink`), yet less than the slope: f's values are rounded far more
    coarsely than float64 (a forward computed in float32 and cast back, or cancelling in float64); else [].  A
    kink's gap never grows as the step shrinks, curvature's halves; a jump's grows too, but as the slope on one side,
    not beside it (the one-sided slopes 0 and J/ε of a step of height J: see :func:`_jump_note`)."""
    __tracebackhide__ = True
    pairs = [(slopes.at(i, index, step), slopes.at(i, index, -step)) for step in (slopes.eps, slopes.eps / 2,
                                                                                   slopes.eps / 4)]
    gaps = [right - left for right, left in pairs]
    grown = all(1.5 <= abs(later / earlier) <= 2.5 for earlier, later in zip(gaps, gaps[1:]) if earlier)
    beside = all(abs(right - left) < 0.5 * abs(right + left) for right, left in pairs)  # (less than the slope)
    return gaps if gaps[0] and abs(gaps[0]) > slopes.rounding() and grown and beside else []


def _slope_rounding(weights: np.ndarray, here: np.ndarray, eps: float) -> float:
    """How far float64's rounding of f's values (``here``, weighted) moves the gap between two one-sided slopes
    over ``eps``: 8 units in the last place of Σ|w·C| over ε."""
    with np.errstate(all="ignore"):
        return 8 * float(np.finfo(np.float64).eps) * float(np.sum(np.abs(weights * here))) / eps


@dataclass(frozen=True)
class GradientReport:
    """What :func:`check_gradients` found when every element agreed (otherwise it raises): per input the largest
    absolute and relative difference.

    ``analytic`` and ``numeric`` hold the two gradients (float64 arrays, one per input) for a closer look;
    ``order`` is 1 for gradients, 2 for derivatives of the gradient, 3 for derivatives of those, and so on.
    ``atol_only`` counts the elements that agree only within ``atol``, their error being above ``rtol·|numeric|``:
    derivatives smaller than about atol/rtol are not checked relatively (a vjp off by a factor 2 passes where they are
    1e-8), and the report says so.
    """

    max_abs_error: tuple[float, ...]
    max_rel_error: tuple[float, ...]
    elements: int
    atol: float
    rtol: float
    eps: float
    analytic: list[np.ndarray] = field(repr=False, compare=False)
    numeric: list[np.ndarray] = field(repr=False, compare=False)
    order: int = 1
    atol_only: int = 0

    def __repr__(self) -> str:
        pairs = zip(self.max_abs_error, self.max_rel_error, strict=True)
        errors = ", ".join(f"{a:.1e}/{r:.1e}" for a, r in pairs)
        what = "" if self.order == 1 else f"order {self.order}, "
        loose = (f"; {self.atol_only} element(s) agree only within atol (relative error above rtol): derivatives "
                 "this small are not checked relatively, give a smaller atol to check them" if self.atol_only else "")
        return (f"GradientReport(ok, {what}{len(self.max_abs_error)} input(s), {self.elements} element(s) checked; "
                f"max abs/rel error per input: {errors}; "
                f"atol={self.atol:g}, rtol={self.rtol:g}, eps={self.eps:g}{loose})")


class GradientCheckError(AssertionError):
    """Backpropagation and finite differences disagree; the message is a table of the worst elements."""

    def __init__(self, message: str, analytic: list[np.ndarray], numeric: list[np.ndarray]) -> None:
        super().__init__(message)
        self.analytic = analytic
        self.numeric = numeric

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its gradients: a check failing in a worker process (multiprocessing, concurrent.futures)
        reaches the parent whole, where an error that cannot be built again from its message hangs the pool.  Made
        again without ``__init__`` (a subclass may take other arguments) and given back its attributes, notes too."""
        return _unpickled_error, (type(self), self.args), self.__dict__


def _unpickled_error(cls: type[GradientCheckError], args: tuple[Any, ...]) -> GradientCheckError:
    """A pickled GradientCheckError (or subclass) made again with its ``args``; ``__dict__`` is set after."""
    return cls.__new__(cls, *args)


def _input_name(i: int, x: Any) -> str:
    label = x.label if isinstance(x, Value) else None
    return f"{i} ({label})" if label else str(i)


def _disagreeing(abs_err: np.ndarray, numeric: np.ndarray, atol: float, rtol: float) -> np.ndarray:
    """Where a derivative and its finite difference disagree: beyond ``atol + rtol·|numeric|``, NaN on either side, or
    a numeric value that is not finite (an infinite one would pass, its tolerance being infinite too)."""
    return ~(abs_err <= atol + rtol * np.abs(numeric)) | ~np.isfinite(numeric)


def _failure_table(names: Sequence[str], analytic: list[np.ndarray], numeric: list[np.ndarray],
                   errors: list[np.ndarray], disagreeing: list[np.ndarray], atol: float, rtol: float, eps: float,
                   rows: int, kink: Callable[[int, tuple[int, ...]], tuple[float, float] | None], what: str,
                   finite_here: bool = True, about: str = "") -> str:
    """The worst ``disagreeing`` elements, worst first (by how far their ``errors`` |analytic − numeric| exceed the
    tolerance atol + rtol·|numeric|; NaN first), as a fixed-width text table; elements at a kink are marked.
    The header gives the tolerances and the step ``eps`` of the central differences.
    ``finite_here``: whether what is differenced is finite at the inputs themselves (else no step can help);
    ``about``: more for the header (order, dtype, f's Ops, the first row's input element)."""
    __tracebackhide__ = True
    failures = []
    for i, (a, n, abs_err, bad) in enumerate(zip(analytic, numeric, errors, disagreeing, strict=True)):
        for index in zip(*np.nonzero(bad)) if a.ndim else ([()] if bad else []):
            index = tuple(int(k) for k in index)
            err, a_i, n_i = float(abs_err[index]), float(a[index]), float(n[index])  # (Python floats: inf − inf is
            scale = max(abs(a_i), abs(n_i))                                         # nan, never a numpy warning)
            excess = err - (atol + rtol * abs(n_i))
            failures.append((np.inf if np.isnan(excess) else excess, i, index, a_i, n_i, err,
                             math.nan if not np.isfinite(err) else err / scale if scale else 0.0))
    failures.sort(key=lambda row: -row[0])
    header = ("input", "index", "analytic", "numeric", "abs error", "rel error", "kink: slopes left | right")
    lines: list[tuple[str, ...]] = [header]
    kinks = 0
    for _, i, index, a_i, n_i, err, rel in failures[:rows]:
        slopes = kink(i, index)
        kinks += slopes is not None
        note = "" if slopes is None else f"{slopes[0]:.3g} | {slopes[1]:.3g}"
        lines.append((names[i], str(index), f"{a_i:.6g}", f"{n_i:.6g}", f"{err:.2e}", f"{rel:.2e}", note))
    if not kinks:
        lines = [line[:-1] for line in lines]
    widths = [max(len(line[c]) for line in lines) for c in range(len(lines[0]))]
    text = ["  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    text.insert(1, "  ".join("-" * w for w in widths))
    more = f"\n... and {len(failures) - rows} more" if len(failures) > rows else ""
    total = sum(a.size for a in analytic)
    note = ("\nThe rows with slopes sit at a kink, or within the step of one: the one-sided differences disagree "
            "there (ReLU's or abs's 0, a tie in a max), so no derivative exists to check, or the difference reaches "
            "across the kink. Keep test inputs away from kinks, e.g. with strategies.arrays(avoid=(0.0,)) (and "
            "min_gap= against ties)." if kinks else "")
    if any(not np.isfinite(row[4]) for row in failures):  # (f not finite at the inputs: no step helps)
        note += ("\nWhere the numeric column is nan or inf, f is not finite at the inputs given (f itself at order 1, "
                 "the derivative below at higher orders), so no finite difference exists around them, whatever the "
                 "step: choose inputs where f is finite, in its domain." if not finite_here else
                 "\nWhere the numeric column is nan or inf, f is not finite a step away from the point (it overflows "
                 "or leaves its domain within ±eps), so finite differences cannot check those elements: choose a "
                 "point where f is finite around it, or a smaller eps.")
        if any(not np.isfinite(row[4]) and np.isinf(row[3]) for row in failures):  # (√x at 0: both at the edge)
            note += (" Where the analytic column is inf too, the slope itself is infinite there (√x at 0, the edge "
                     "of its domain): no finite derivative exists to check, and no step helps; choose a point "
                     "inside the domain.")
    return (f"check_gradients: {len(failures)} of {total} {what} disagree with finite differences of step "
            f"eps={eps:g} (atol={atol:g}, rtol={rtol:g}){about}:\n" + "\n".join(text) + more + note)


def _held_fixed(f: Callable[..., Any], inputs: Sequence[Any]) -> tuple[Callable[..., Any], list[Any], list[int]]:
    """f as a function of the inputs to check, with every Value of ``requires_grad=False`` (labels, a mask) passed
    to it as it is, never moved (as torch.autograd.gradcheck holds such inputs); also those inputs and their
    positions."""
    positions = [i for i, x in enumerate(inputs) if not (isinstance(x, Value) and not x.requires_grad)]
    if len(positions) == len(inputs):
        return f, list(inputs), positions

    def checked(*values: Any) -> Any:
        __tracebackhide__ = True
        arguments = list(inputs)
        for i, v in zip(positions, values, strict=True):
            arguments[i] = v
        return f(*arguments)
    return checked, [inputs[i] for i in positions], positions


def _checked_inputs(inputs: Sequence[Any], positions: Sequence[int]) -> list[np.ndarray]:
    """float64 copies of the inputs (at ``positions`` in the call); complex or other non-real data is a TypeError,
    float32 a warning."""
    arrays = []
    for i, x in zip(positions, inputs, strict=True):
        arrays.append(_real_array("check_gradients", f"input {i}", x))
        dtype = np.asarray(x.data if isinstance(x, Value) else x).dtype
        if _narrow_float(dtype):
            warnings.warn(f"check_gradients: input {i} is {dtype}; it is checked in float64 (finite "
                          f"differences are too coarse in {dtype})", UserWarning,
                          stacklevel=checks.outside_the_package())  # the line calling check_gradients
    return arrays


# The default step by order: each order differences a derivative that carries the rounding errors of its own passes.
_EPS = {1: 1e-6, 2: 1e-5, 3: 1e-4}
# The highest order checked: the recorded graph, and the time, grow about threefold per order (order 16 of x³ takes
# over a minute, order 20 hours).
_MAX_ORDER = 10


def _checked_settings(eps: Any, atol: Any, rtol: Any, seed: Any, rows: Any, order: Any) -> tuple[float | None, float,
                                                                                               float, int, int, int]:
    """check_gradients' keyword arguments, validated: (eps, atol, rtol, seed, rows, order); eps None: each order's
    default; a Generator or None seed: an int drawn from it (the rule of every seed= here, seeds.generator)."""
    name = "check_gradients"
    order = checks.integer(order, "order", name, least=1, most=_MAX_ORDER)
    eps = None if eps is None else checks.number(eps, "eps", name, above=0)
    atol, rtol = checks.number(atol, "atol", name, least=0), checks.number(rtol, "rtol", name, least=0, below=1)
    if seed is None or isinstance(seed, np.random.Generator):
        seed = int(generator(seed, name).integers(2**62))
    else:
        generator(seed, name, name="seed")  # (a bad seed: the rule of every seed=, named as atol and rows are)
        seed = int(seed)
    rows = checks.integer(rows, "rows", name, least=1)
    return eps, atol, rtol, seed, rows, order


def _output(f: Callable[..., Value], values: list[Value]) -> Value:
    __tracebackhide__ = True
    out = f(*values)
    if not isinstance(out, Value):
        raise TypeError(f"check_gradients: f must return a Value, got {type(out).__name__}")
    _refuse_float32_output(out, "check_gradients")
    return out


def _upstream(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """∂C/∂output: 1 for a single number, else random (a uniform one would hide gradients sent astray)."""
    return np.ones(shape) if int(np.prod(shape)) == 1 else np.random.default_rng(seed).standard_normal(shape)


def _backprop(f: Callable[..., Value], arrays: list[np.ndarray], labels: Sequence[str | None], seed: int,
              weights: Sequence[list[np.ndarray]] = (), scale: float = 1.0, record: bool = False) -> list[Any]:
    """The gradients of q_k on fresh float64 leaves, k = ``len(weights)``: q₀ = Σ upstream · f(leaves) and
    q_j = Σ_i weights[j − 1]_i · ∇_i q_{j−1}, one backward pass per order, each but the last recorded
    (``create_graph``; the last too with ``record``) so that the next one can differentiate it; zeros where a
    gradient never reached, all None where f's output (or a q_j) is a constant.  The ``.grad`` of Values f closes
    over stays as it was."""
    __tracebackhide__ = True
    values = [Value(a, label=label) for a, label in zip(arrays, labels, strict=True)]
    with enable_grad():  # recorded even when check_gradients is called inside no_grad() (a no_grad inside f is kept)
        out = _output(f, values)
        if not out.requires_grad:
            return [None] * len(values)
        # autodiff.gradients, not backward(): the .grad of Values f closes over (a model's parameters) stays as is
        grads = gradients(out, values, _upstream(out.shape, seed) * scale, create_graph=bool(weights) or record)
        for j, weight in enumerate(weights):
            terms = [(g * w).sum() for g, w in zip(grads, weight, strict=True) if g.requires_grad]
            if not terms:  # q_j is a constant: its gradient is 0
                return [None] * len(values)
            grads = gradients(sum(terms[1:], terms[0]), values, create_graph=j < len(weights) - 1)
    return [g.data for g in grads]


_GRADCHECK_ADVICE = {
    "raise_exception": "a disagreement always raises GradientCheckError (an AssertionError); for True/False, catch "
                       "it: try: check_gradients(f, x) except GradientCheckError: ...",
    "nondet_tol": "f must be deterministic here (a failure says when it is not); fix its noise or dropout",
    "fast_mode": "every element of every input is checked",
    "modes": "only reverse mode (backpropagation) is checked; order= works as in jax's check_grads",
    "check_grad_dtypes": "inputs are checked in float64 (float32 ones with a warning)",
    # torch's other gradcheck and gradgradcheck settings: not f's keywords, though taken for them before
    "grad_outputs": "the upstream gradient is drawn from seed= (a single number's is 1, then −2); "
                    "order=2 checks derivatives of the gradient, as gradgradcheck does",
    "gen_non_contig_grad_outputs": "the upstream gradient is drawn from seed=; numpy arrays need no "
                                   "non-contiguous check",
    "check_undefined_grad": "an input the gradient never reaches counts as zeros, and is checked as such",
    "check_batched_grad": "there is no vmap here: f is checked on its inputs as given",
    "check_batched_forward_grad": "there is no vmap here: f is checked on its inputs as given",
    "check_forward_ad": "only reverse mode (backpropagation) is checked",
    "check_backward_ad": "reverse mode (backpropagation) is always checked",
    "check_fwd_over_rev": "only reverse mode is checked; order=2 checks derivatives of the gradient",
    "check_rev_over_rev": "order=2 checks derivatives of the gradient (reverse over reverse)",
    "masked": "inputs are dense arrays: every element of every input is checked",
    "check_sparse_nnz": "inputs are dense arrays: every element of every input is checked",
}


@checks.pytorch_keywords(USE_SEED, _F_KEYWORDS, **GENERATOR_AS_SEED, **_GRADCHECK_ADVICE, **_STEP_NAMES)
def check_gradients(f: Callable[..., Value], *inputs: Any, eps: float | None = None, atol: float = 1e-6,
                    rtol: float = 1e-5, seed: Seed = 0, rows: int = 10, order: int = 1) -> GradientReport:
    """Check ``f``'s backpropagated gradients against :func:`numerical_gradient`.

    ``f`` is called on float64 Values made from ``inputs`` (Values, arrays or numbers) and must return a
    Value.  A non-scalar output is backpropagated with a random upstream gradient (drawn from a generator
    seeded with ``seed``: an int, a numpy Generator or None, as everywhere in the package), which checks every
    output at once; a single number with 1, and again with −2, which must double every gradient and flip its sign
    (a vjp that forgets its ``g`` passes with 1; a failure names the Op and input of a vjp that does not scale
    with ``g``).  An Op in f whose forward changes the array it is given in place
    fails too, by name, even where the gradients agree: the Value it was called on would hold other numbers; so does
    one whose vjp returns float32 for a float64 input (cast back to float64, it holds float32's digits only).
    Inputs the gradient never reaches count as zeros, but an f that computes from a Value given as an input itself
    (a model's weight it closes over) rather than from its argument is a ``ValueError``.  A Value with
    ``requires_grad=False`` (class labels, a mask) is passed to ``f`` as it is and not checked, as in
    ``torch.autograd.gradcheck``: the report covers the other inputs, the table names inputs by their position in the
    call (with no other input, or none at all, there is nothing to check: a ``ValueError``; empty arrays, as property
    tests draw them, give a report of 0 elements checked).  Give the inputs one by one, ``check_gradients(f, x, y)``,
    not as one tuple.  Every other input is a point to differentiate at, made float64, an array of integers or
    booleans too: the ids of a lookup or a mask that ``f`` indexes with go in its closure,
    ``check_gradients(lambda x: f(x, ids), x)`` (f's error on such an input says so).
    Each element must satisfy ``|analytic − numeric| ≤ atol + rtol·|numeric|``, with ``rtol`` below 1 (from 1 on,
    an analytic 0 would pass against any finite difference); where derivatives are smaller than about atol/rtol
    (inputs near 1e-8, f nearly flat) atol alone decides, and the report counts such elements (give a smaller
    atol).  Where f is large and its slope small, f moves by less than its own rounding over the step and no
    difference can resolve the slope: a failure there says so in a note (check at a point where f is smaller, or
    with the larger eps it suggests: only one with which the disagreeing elements pass, or resolve a slope that a
    wrong derivative disagrees with, and with which the other orders checked pass, as eps= sets the step of each).
    A failure's header names the step eps used.

    With ``order=2`` the derivatives of the gradient are checked: the gradient is recorded with
    ``backward(create_graph=True)``, weighted by random numbers, summed and backpropagated again, and compared
    with central differences of the (ordinary, first-order) gradient.  Each higher ``order`` does the same once more:
    ``order=3`` differentiates the randomly weighted second derivative (two recorded passes and a third) and
    compares it with central differences of that second derivative.  Since each order is measured against the
    engine's own derivative of the order below, ``order=k`` checks orders 1 to k in turn and raises at the first
    that fails (a wrong second derivative would otherwise make a wrong third one look right).  The step ``eps``
    (unless given) is 1e-6 at order 1, 1e-5 at order 2 and 1e-4 from order 3, where the differenced derivative
    carries rounding errors of its own.  At every order an element that disagrees is taken again before it is
    reported, as a fixed step is too coarse wherever f varies on a scale near it (−25x/(625x² + 0.5) at 0 with the
    step 1e-4 of order 3; −s·x/(s²x² + 0.5) with s ≥ 1000 at order 1): its differences with steps ε and ε/2, then
    ε/10 and ε/20, are Richardson-extrapolated, and it passes only where an extrapolation agrees and the
    disagreement fell with the step (a wrong derivative's does not); a failure names the steps tried.  From order 2
    every element is differenced with both ε and ε/2 (about 1.7 times the work of those orders), and agrees only
    where both do or an extrapolation does: a step's own error (exp(150x)‴ is 3.75e-5 high with ε = 1e-4) would
    otherwise cancel a wrong derivative of its size.  Order 1 differences once where all agree, so there a
    derivative can still pass that is off by about the step's own error, (k·ε)²/6 relative where f varies on a
    scale 1/k (1e-4 at 1/k = 4e-5 with ε = 1e-6: give a smaller eps for such f).  ``order`` is at most 10: the work
    grows about threefold per order.  As in
    :func:`numerical_gradient`, NaN or inf inputs, an ``eps`` that is not a finite number > 0, and an element
    where ``x ± ε`` rounds back to ``x`` or overflows raise ``ValueError``: these are not gradient mismatches.

    Returns a :class:`GradientReport` of order ``order`` when all agree, otherwise raises
    :class:`GradientCheckError` (an ``AssertionError``) with a table of the ``rows`` worst elements of the order
    that failed; an element where the one-sided differences disagree (and their gap does not halve with the step
    and halve again, as curvature's does) is marked as sitting at a kink, or within the step of one.  Warns
    (``UserWarning``) about float32 inputs: they are checked in float64, as finite differences need.

    >>> from tinygrad_edu import Op
    >>> square = Op("square", lambda x: x * x, lambda g, out, x: g * x)   # forgot the 2
    >>> try:
    ...     check_gradients(square, np.array([1.0, 2.0]))
    ... except GradientCheckError as error:
    ...     print(str(error).splitlines()[0].split("); ")[1])   # the header after the tolerances: where to look
    order 1, in float64; f's Ops: square; x[1] = 2.0 in the first row:
    >>> check_gradients(lambda x: (x ** 3).sum(), np.array([1.0, 2.0]), order=2)  # (3x²)' = 6x  # doctest: +ELLIPSIS
    GradientReport(ok, order 2, 1 input(s), 2 element(s) checked; ...)
    """
    __tracebackhide__ = True  # pytest: a failed check shows the test's line and the table, not this source
    eps, atol, rtol, seed, rows, order = _checked_call(f, inputs, eps, atol, rtol, seed, rows, order)
    task, checked = _gradient_task(f, inputs, atol, rtol, seed, rows)
    try:
        report = _check_orders(task, eps, order)
    except (TypeError, IndexError, ValueError) as error:
        _name_integer_inputs(error, inputs, "check_gradients")
        raise
    _refuse_closed_over(task, checked, report)
    return report


def _name_integer_inputs(error: Exception, inputs: Sequence[Any], where: str) -> None:
    """``error``, raised where ``f`` was called on the inputs made float64, raised again with a note where one of them
    was given as integers or booleans (the ids of a lookup, a gather's rows, a mask, class labels): f may have used it
    as an index, and the refusal ("not with a Value", numpy's "must be of integer type", cross_entropy's "class
    indices must be integers, got 1e-06" of a label moved by the step) named nothing the call held.  Returns where
    there is no such input, or the error is of another class (its own arguments) or a ValueError not about integers."""
    __tracebackhide__ = True
    given = [(i, x) for i, x in enumerate(inputs) if not isinstance(x, Value | np.generic | int | float | bool)
             and np.ndim(x) and np.asarray(x).dtype.kind in "biu"]
    if not given or type(error) not in (TypeError, IndexError, ValueError) or \
            type(error) is ValueError and "integer" not in str(error):
        return
    i, x = given[0]
    dtype = np.asarray(x).dtype
    kind = f"a{'n' * (dtype.kind != 'b')} {dtype} array" if isinstance(x, np.ndarray) else f"a list of {dtype}"
    note = (f"; {where}: input {i} was given as {kind}, and made float64 to differentiate at, as every input given "
            f"is: indices, labels and masks go in f's closure instead, {where}(lambda x: f(x, ids), x)")
    raise type(error)(f"{error}{note}").with_traceback(error.__traceback__) from None


def _checked_call(f: Any, inputs: Sequence[Any], eps: Any, atol: Any, rtol: Any, seed: Any, rows: Any, order: Any
                  ) -> tuple[float | None, float, float, int, int, int]:
    """:func:`check_gradients`'s ``f`` (callable, taking as many inputs as given) and settings, checked."""
    __tracebackhide__ = True
    if not callable(f):
        raise TypeError(f"check_gradients: f must be callable, got {type(f).__name__}")
    settings = _checked_settings(eps, atol, rtol, seed, rows, order)
    _check_arity(f, inputs, "check_gradients")
    return settings


def _gradient_task(f: Callable[..., Any], inputs: Sequence[Any], atol: float, rtol: float, seed: int, rows: int
                   ) -> tuple[_Task, list[Any]]:
    """What :func:`check_gradients` checks, and the inputs it checks as given (not those held fixed); a ValueError
    when there are none."""
    __tracebackhide__ = True
    f, checked, positions = _held_fixed(f, inputs)
    if not checked:  # a report of 0 elements would pass whatever f's derivatives are
        raise ValueError("check_gradients: nothing to check: " + (
            f"all {len(inputs)} input(s) are Values with requires_grad=False, which are held fixed (as "
            "torch.autograd.gradcheck holds them); give the ones to check as arrays, numbers or Values that "
            "require a gradient" if inputs else "no inputs given; give f's inputs after it, check_gradients(f, x, y)"))
    arrays = _checked_inputs(checked, positions)
    task = _Task(f, arrays, [x.label if isinstance(x, Value) else None for x in checked],
                 [_input_name(i, x) for i, x in zip(positions, checked, strict=True)], atol, rtol, seed, rows,
                 [(_input_name(i, x), x) for i, x in enumerate(inputs) if i not in positions])
    return task, checked


def _check_orders(task: _Task, eps: float | None, order: int) -> GradientReport:
    """Orders 1 to ``order`` checked in turn (each against differences of the one below: that one first), the
    derivatives of the gradient weighted by random numbers drawn from ``seed + 1``; the last order's report."""
    __tracebackhide__ = True
    rng = np.random.default_rng(task.seed + 1)
    gradient_weights = [[rng.standard_normal(a.shape) for a in task.arrays] for _ in range(order - 1)]

    def at_other_orders(failed: int) -> Callable[[float], str]:
        def fails(step: float) -> str:  # why a step a failure of order `failed` suggests fails another order: eps=
            for k in (k for k in range(1, order + 1) if k != failed):  # sets the step of every order checked
                try:
                    _check_order(task, step, gradient_weights[:k - 1], order)
                except Exception:  # noqa: BLE001 - a GradientCheckError, a step rounded away (ValueError), f failing
                    return f"fails the check of order {k}, which order={order} runs with the same eps"
            return ""
        return fails
    for k in range(1, order + 1):  # a derivative is checked against differences of the one below: check that first
        report = _check_order(task, _EPS.get(k, _EPS[3]) if eps is None else eps, gradient_weights[:k - 1], order,
                              at_other_orders(k))
    return report


def _refuse_closed_over(task: _Task, given: Sequence[Any], report: GradientReport) -> None:
    """A ValueError when f computes from a Value it was given as itself, closed over (a model's weight, as in
    ``check_gradients(lambda w: cost(model), model[0].weights)``), not from its argument: f is called on copies,
    so both sides are 0 and the check would pass whatever the derivatives.  Looked for only where an input given as
    a Value got zeros on both sides, with one more call of f."""
    __tracebackhide__ = True
    suspects = [i for i, x in enumerate(given) if isinstance(x, Value) and not report.analytic[i].any()
                and not report.numeric[i].any()]
    if not suspects:
        return
    values = [Value(a) for a in task.arrays]
    with enable_grad():
        out = _output(task.f, values)
    reached = {id(node) for node in backward_order(out)} if out.requires_grad else set()
    closed = [task.names[i] for i in suspects if id(given[i]) in reached and id(values[i]) not in reached]
    if closed:
        raise ValueError(f"check_gradients: f computes its result from the Value given as input {closed[0]} itself "
                         "(closed over, as a model's weight is), not from the argument it is called with: f is called "
                         "on float64 copies of its inputs, so the gradient and the finite differences are both 0 and "
                         "the check would pass whatever the derivatives are. Compute f from its arguments (for a "
                         "layer's weight: set it in f, net[0].weights = w, and put the model's own Value back after "
                         "the check)")


@dataclass(frozen=True)
class _Task:
    """What check_gradients checks: f, the float64 inputs with their labels and names, tolerances and settings."""

    f: Callable[..., Value]
    arrays: list[np.ndarray]
    labels: list[str | None]
    names: list[str]
    atol: float
    rtol: float
    seed: int
    rows: int
    held: list[tuple[str, Value]] = field(default_factory=list)  # the Values held fixed, with their names


def _check_order(task: _Task, eps: float, gradient_weights: list[list[np.ndarray]], requested: int,
                 elsewhere: Callable[[float], str] = lambda step: "") -> GradientReport:
    """One order, ``len(gradient_weights) + 1``, of a check of orders 1 to ``requested``: the report, or raise
    (``elsewhere``: why a step that a failure's note would suggest fails the other orders, "" where it passes)."""
    __tracebackhide__ = True
    f, arrays, labels, seed = task.f, task.arrays, task.labels, task.seed
    order = len(gradient_weights) + 1
    _check_steps("check_gradients", arrays, task.names, eps)
    analytic = _gradient_arrays(arrays, _backprop(f, arrays, labels, seed, gradient_weights))
    if order == 1:
        with enable_grad():  # (recorded: _check_recorded_pass looks for saving Ops in its graph)
            output = _output(f, [Value(a) for a in arrays])
        weights = _upstream(output.shape, seed)
        shape = [weights.shape]

        def evaluate(moved: list[np.ndarray]) -> np.ndarray:  # (a step out of f's domain: nan in the table, which
            __tracebackhide__ = True                          # says so, not a RuntimeWarning from deep inside f)
            with np.errstate(all="ignore"):
                out = _output_data(_unrecorded(f, lambda: [Value(a) for a in moved]), "check_gradients")
            _check_same_shape(out, shape, "check_gradients")
            return out
        what = "gradient elements"
    else:
        weights = np.ones(())

        def evaluate(moved: list[np.ndarray]) -> np.ndarray:  # q_{order−1}, by order − 1 backward passes
            __tracebackhide__ = True
            with np.errstate(all="ignore"):
                grads = _backprop(f, moved, labels, seed, gradient_weights[:-1])
            return np.array(sum(float(np.sum(w * g)) for g, w in zip(grads, gradient_weights[-1], strict=True)
                                if g is not None))
        what = ("second-order elements (∂/∂x of the randomly weighted gradient)" if order == 2 else
                f"order-{order} elements (∂/∂x of the randomly weighted derivative of order {order - 1})")

    def at_step(i: int, index: tuple[int, ...], step: float) -> float:
        __tracebackhide__ = True
        return _difference_at(evaluate, arrays, weights, i, index, step)
    numeric = _central_differences(evaluate, arrays, weights, eps)
    # from order 2 every element is differenced with half the step too (see _retaken); order 1 keeps one step
    halved = _central_differences(evaluate, arrays, weights, eps / 2) if order > 1 else None
    numeric, retaken, steps = _retaken(task, analytic, numeric, at_step, eps, halved)

    def repeatable(bad: list[np.ndarray]) -> bool:  # f's values, its gradients and the table's differences again
        __tracebackhide__ = True
        return (_repeatable(evaluate, arrays)
                and _computed_again(lambda: _gradient_arrays(arrays, _backprop(f, arrays, labels, seed,
                                                                               gradient_weights)), analytic)
                and _differences_again(evaluate, arrays, weights, eps, numeric, bad, task.rows, steps))
    slopes = _Slopes(evaluate, arrays, weights, eps)  # (asked again for the same elements: kept)
    report = _report(task, analytic, numeric, eps, order, requested, what,
                     lambda i, index: _at_a_kink(slopes, i, index, task.atol, task.rtol),
                     lambda i, index: _difference_at(evaluate, arrays, weights, i, index, eps / 2),
                     lambda i, index: _resolution(evaluate, arrays, weights, i, index, eps),
                     repeatable,
                     lambda: bool(np.isfinite(evaluate(arrays)).all()),
                     (lambda: evaluate(arrays)) if order == 1 else None, at_step, retaken, elsewhere,
                     lambda i, index: _coarse_values(slopes, i, index))
    if order == 1:
        _check_first_order(task, output, weights, analytic, numeric)
    return report


def _check_first_order(task: _Task, output: Value, weights: np.ndarray, analytic: list[np.ndarray],
                       numeric: list[np.ndarray]) -> None:
    """Order 1's checks of what the differences cannot show, each naming what it finds: gradients scale with the
    upstream gradient, forwards and vjps leave their inputs alone, saving forwards return forward's output, vjps
    compute in the input's precision, and a recorded pass agrees too."""
    __tracebackhide__ = True
    if weights.size == 1:
        _check_scales_with_upstream(task, analytic, numeric)
    _check_forwards_keep_inputs(output, analytic, numeric)  # (where f's gradients disagree, _report says so)
    _check_vjps_and_saving(output, analytic, numeric)
    _check_vjp_precision(task, analytic, numeric)
    # last: a saving forward whose out is not forward's makes a recorded pass differ too, but it is named above
    _check_recorded_pass(task, output, analytic, numeric)


#: Where a check took an element's difference with another step than its eps: (input, index) → that step.
_Steps = dict[tuple[int, tuple[int, ...]], float]


def _retaken(task: _Task, analytic: list[np.ndarray], numeric: list[np.ndarray],
             difference: Callable[[int, tuple[int, ...], float], float], eps: float,
             halved: list[np.ndarray] | None = None) -> tuple[list[np.ndarray], str, _Steps]:
    """``numeric`` with each disagreeing element taken again before it is reported (at every order: the
    differenced function is steep wherever f varies on a scale near ε, −s·x/(s²x² + 0.5) with s ≥ 1000 at order 1,
    and a central difference's own error, about ε²·C‴/6, then exceeds the tolerance of a right derivative).  Its
    differences with steps ε and ε/2 are Richardson-extrapolated, (4·D(ε/2) − D(ε))/3, which cancels that ε² error;
    where the disagreement fell with the step but the extrapolation still disagrees, ε/10 and ε/20 are tried the
    same way.  An element is cleared only where an extrapolation agrees and the disagreement fell with the step, to
    at most 0.35 of it (the step's own error falls fourfold; 0.35 leaves room for rounding), or vanished (a wrong
    derivative's stays, whatever the step); it then holds the extrapolation.

    ``halved``: D(ε/2) of every element, taken from order 2 (where ε is 1e-5 or 1e-4): there the step's own error
    can cancel a wrong derivative of its size (exp(150x)‴ off by +3e-5 agreed with D(1e-4)), so an element agrees
    only where both steps agree (or an extrapolation clears it); one that agreed with ε but not with ε/2 holds
    D(ε/2), and its step goes into the third value returned, for the table's repeatability check.  A derivative off
    by more than 5/3 of the tolerance then fails whatever the step's error (leaving rounding and ε⁴ terms aside).
    Also what was tried, for a failure's message: '' where every element agreed, and at order 1 where no
    disagreement fell with the step (a plainly wrong vjp needs no word on steps).  Costs nothing where every
    element agrees."""
    __tracebackhide__ = True
    with np.errstate(invalid="ignore", over="ignore"):  # (inf − inf: nan, which disagrees, even under "raise")
        bad = [_disagreeing(np.abs(a - n), n, task.atol, task.rtol) for a, n in zip(analytic, numeric, strict=True)]
        if halved is not None:  # (a step lost in rounding, NaN, tells nothing: the element keeps its verdict)
            bad = [b | (_disagreeing(np.abs(a - h), h, task.atol, task.rtol) & np.isfinite(h))
                   for a, h, b in zip(analytic, halved, bad, strict=True)]
    if not any(b.any() for b in bad):
        return numeric, "", {}
    numeric, steps, fell = [n.copy() for n in numeric], {}, False
    for i, b in enumerate(bad):
        for index in (tuple(int(k) for k in index) for index in np.argwhere(b)):
            first = float(halved[i][index]) if halved is not None else difference(i, index, eps / 2)
            value, step, fallen = _retake(task, float(analytic[i][index]), float(numeric[i][index]), first,
                                          lambda step: difference(i, index, step), eps)  # noqa: B023 (called at once)
            numeric[i][index], fell = value, fell or fallen
            if step is not None:
                steps[(i, index)] = step
    if not (halved is not None or fell):
        return numeric, "", steps
    masked = (f" Rows whose difference with eps={eps:g} agreed show the one with {eps / 2:g}, which does not: "
              f"from order 2 every element is differenced with both steps, as the step's own error (about "
              "eps²·C‴/6, a quarter as large with half the step) can cancel a wrong derivative of its size; a right "
              "derivative's difference comes closer when the step is halved, these went further away." if steps
              else "")
    return numeric, (f"\nThe disagreeing elements were taken again with the steps eps={eps:g} and {eps / 2:g}, and "
                     f"where the disagreement fell with the step also {eps / 10:g} and {eps / 20:g} (the central "
                     "differences of each pair Richardson-extrapolated, which cancels their own error of order "
                     f"eps²): the rows above still disagree.{masked}"), steps


def _retake(task: _Task, a: float, coarse: float, fine: float, difference: Callable[[float], float],
            eps: float) -> tuple[float, float | None, bool]:
    """One element of :func:`_retaken`, whose derivative is ``a`` and central differences D(ε) = ``coarse`` and
    D(ε/2) = ``fine``: (the number to report, the step it was taken with where that is not ε (None: ε, or an
    extrapolation), whether the disagreement fell with the step).  Python floats: inf − inf is nan, no warning."""
    __tracebackhide__ = True
    fell, original = False, coarse
    for step in (eps, eps / 10):
        if step != eps:
            coarse, fine = difference(step), difference(step / 2)
        agrees = [_agrees(task, a, coarse), _agrees(task, a, fine)]
        if step == eps and agrees[0] and not agrees[1]:  # came closer with its own error's help
            return fine, step / 2, False
        if not (agrees[1] or abs(a - fine) <= 0.35 * abs(a - coarse)):
            break  # the disagreement does not fall with the step: not the step's
        fell = True
        extrapolated = fine + (fine - coarse) / 3
        if _agrees(task, a, extrapolated):
            return extrapolated, None, True
    return original, None, fell


def _agrees(task: _Task, a: float, difference: float) -> bool:
    """Whether a derivative ``a`` and a finite ``difference`` agree within the task's tolerances (an infinite one
    never does: its tolerance would be infinite too)."""
    return math.isfinite(difference) and abs(a - difference) <= task.atol + task.rtol * abs(difference)


def _gradient_arrays(arrays: list[np.ndarray], grads: list[Any]) -> list[np.ndarray]:
    """The gradients of :func:`_backprop` as float64 arrays, zeros where a gradient never reached."""
    return [np.zeros(a.shape) if g is None else np.asarray(g, dtype=np.float64)
            for a, g in zip(arrays, grads, strict=True)]


def _check_recorded_pass(task: _Task, out: Value, analytic: list[np.ndarray], numeric: list[np.ndarray]) -> None:
    """A recorded pass (``backward(create_graph=True)``) hands its vjps no ``saved=`` (an Op's saving forward holds no
    graph), so where f uses an Op with ``saving=`` a vjp computes it again there, on another path: the gradients of
    that pass must agree with the differences too (``out``: f's recorded output at the inputs)."""
    __tracebackhide__ = True
    if not any(node._op is not None and node._op.saving is not None for node in backward_order(out)):
        return  # no saving Op: a recorded pass computes the same gradients the same way
    try:
        recorded = _backprop(task.f, task.arrays, task.labels, task.seed, record=True)
    except TypeError:  # a vjp that cannot run on Values (np.cos): order=2 says so, it is no first-order mismatch
        return
    for name, a, r, n in zip(task.names, analytic, recorded, numeric, strict=True):
        r = np.zeros(a.shape) if r is None else np.asarray(r, dtype=np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            bad = _disagreeing(np.abs(r - n), n, task.atol, task.rtol)
        if bad.any():
            where, k = _first_of(name, bad)
            raise GradientCheckError(
                f"check_gradients: {where}: backward(create_graph=True) gave {r.ravel()[k:k + 1]}, but backward() "
                f"gave {a.ravel()[k:k + 1]}, as the finite differences {n.ravel()[k:k + 1]} do: a vjp computes "
                "differently when it gets no saved= (a recorded pass hands its vjps none, so an Op with saving= "
                "computes what it saved again, on Values); make that path agree", analytic, numeric)


def _check_scales_with_upstream(task: _Task, analytic: list[np.ndarray], numeric: list[np.ndarray]) -> None:
    """A single number is backpropagated with ∂C/∂output = 1, where a vjp that forgets to multiply by g looks right:
    with −2 instead, every gradient must be −2 times as large (within the check's tolerances)."""
    __tracebackhide__ = True
    scaled = _backprop(task.f, task.arrays, task.labels, task.seed, scale=-2.0)
    for name, a, s in zip(task.names, analytic, scaled, strict=True):
        s = np.zeros(a.shape) if s is None else np.asarray(s, dtype=np.float64)
        bad = ~np.isclose(s, -2 * a, rtol=task.rtol, atol=task.atol, equal_nan=True)
        if bad.any() and not (_gradients_again(task, _gradient_arrays(task.arrays, scaled), scale=-2.0)
                              and _gradients_again(task, analytic)):
            raise GradientCheckError("check_gradients: backward() with ∂C/∂output = −2 did not give −2 times the "
                                     "gradient it gives with 1, and the gradients came out otherwise when computed "
                                     "again: f is not deterministic (random numbers inside f, such as dropout or "
                                     "noise?), so the two passes cannot be compared. Make f deterministic (fixed "
                                     "noise, dropout off) and check again.", analytic, numeric)
        if bad.any():
            where, k = _first_of(name, bad)
            raise GradientCheckError(
                f"check_gradients: {where}: backward() with ∂C/∂output = −2 gave {s.ravel()[k:k + 1]}, not −2 "
                f"times the gradient {a.ravel()[k:k + 1]} it gives with 1: a vjp does not multiply by its upstream "
                "gradient g (vjp(g, out, *inputs) must return g times the local derivative)"
                + (f"; it is {culprit}" if (culprit := _unscaled_vjp(task)) else ""),
                analytic, numeric)


def _gradients_again(task: _Task, first: list[np.ndarray], scale: float = 1.0) -> bool:
    """Whether f's first-order gradients, backpropagated with ∂C/∂output times ``scale``, come out as ``first``
    again (see :func:`_computed_again`)."""
    __tracebackhide__ = True
    return _computed_again(lambda: _gradient_arrays(task.arrays, _backprop(task.f, task.arrays, task.labels, task.seed,
                                                                           scale=scale)), first)


def _first_of(name: str, bad: np.ndarray) -> tuple[str, int]:
    """``input 0, element (5,) (1 of 6 elements)`` for the first element of input ``name`` where ``bad`` (just
    ``input 0`` for an input of one element), and its flat position: the element a message shows."""
    k = int(np.flatnonzero(bad)[0])
    if bad.size == 1:
        return f"input {name}", k
    index = tuple(int(i) for i in np.unravel_index(k, bad.shape))
    return f"input {name}, element {index} ({np.count_nonzero(bad)} of {bad.size} elements)", k


def _recorded_ops(out: Value) -> list[tuple[Any, list[np.ndarray], dict, np.ndarray]]:
    """Each Op of the graph of ``out`` (backward's order) with copies of its inputs' numbers, its params and its
    output's numbers: what a forward or a vjp of it can be called with again."""
    try:
        nodes = backward_order(out)
    except ValueError:  # a stale graph (f changed a Value in place after using it): no Op can be called again
        return []
    return [(node._op, [np.array(p.data, copy=True) for p in node.parents], node.op_params, node.data.copy())
            for node in nodes if node._op is not None]


def _check_forwards_keep_inputs(out: Value, analytic: list[np.ndarray], numeric: list[np.ndarray]) -> None:
    """An Op whose forward writes into the array it is given (``x /= …``, ``np.tanh(x, out=x)``) changes the numbers
    of the Value it was called on without a trace in the graph: every other use of that Value then sees other numbers.
    Its gradients may still agree (a vjp written with ``out``), so this is checked on its own, by calling each forward
    again on copies of its inputs (their numbers, already changed, and others: ``x[:] = 0`` leaves zeros alone) and
    naming the first Op and input it changes."""
    __tracebackhide__ = True
    for op, inputs, params, _ in _recorded_ops(out):
        for shift in (0.0, 0.25):
            given = [x + shift if x.dtype.kind == "f" else x for x in inputs]  # (index arrays kept as they are)
            changed = _written_into(lambda xs: op.forward(*xs, **params), given)  # noqa: B023 (called at once)
            if changed is not None:
                k, x = changed
                before = given[k]
                raise GradientCheckError(
                    f"check_gradients: the forward of Op {op.name!r} changes its input {k} (shape {x.shape}) in "
                    f"place: called on {before.ravel()[:4]}, it left {x.ravel()[:4]} there, so the Value it is "
                    "called on holds other numbers afterwards (forwards get the Values' own arrays); return a new "
                    "array (y = x / (1 + np.abs(x)), not x /= …, x[...] = … or out=x)", analytic, numeric)


def _written_into(call: Callable[[list[Any]], Any], given: list[Any]) -> tuple[int, np.ndarray] | None:
    """Which of the arrays ``given`` ``call`` changes in place, called on copies of them: its position and the
    changed copy (None: none, or the call failed, which f has said already, or is no concern here)."""
    copies = [x.copy() if isinstance(x, np.ndarray) else x for x in given]
    try:
        with np.errstate(all="ignore"):
            call(copies)
    except Exception:  # noqa: BLE001 - see above
        return None
    return next(((k, x) for k, (x, before) in enumerate(zip(copies, given, strict=True))
                 if isinstance(x, np.ndarray) and not np.array_equal(x, before, equal_nan=True)), None)


def _check_vjps_and_saving(out: Value, analytic: list[np.ndarray], numeric: list[np.ndarray]) -> None:
    """Two contracts whose breach the gradients do not show.  A saving forward must return forward's own output
    beside what it saves: a recorded Value holds the first, the same call under ``no_grad`` (and every finite
    difference) the second.  A vjp must not write into what it is given (``x *= 2``, ``saved *= g``): an ordinary
    backward pass hands it the Values' own arrays, so the Value it is for would hold other numbers afterwards, and
    ``saved`` is handed to every ``backward()`` of the graph, so the next one gets another gradient."""
    __tracebackhide__ = True
    for op, inputs, params, data in _recorded_ops(out):
        saved: dict[str, Any] = {}
        if op.saving is not None:
            try:
                with np.errstate(all="ignore"):
                    plain, (saving, saved["saved"]) = op.forward(*inputs, **params), op.saving(*inputs, **params)
            except Exception:  # noqa: BLE001 - a forward that fails here has said so in f already
                continue
            if not np.array_equal(np.asarray(saving), np.asarray(plain), equal_nan=True):
                raise GradientCheckError(
                    f"check_gradients: the saving forward of Op {op.name!r} returns {np.ravel(saving)[:4]} where its "
                    f"forward returns {np.ravel(plain)[:4]}: a recorded Value holds the first, the same call under "
                    "no_grad() (and the finite differences) the second; saving= must return (forward's output, "
                    "saved)", analytic, numeric)
        g, count = np.full(data.shape, 0.5), 2 + len(inputs)
        names = ["g", "out", *(f"input {i}" for i in range(len(inputs))), *("saved=" for _ in saved)]
        given = [g, data, *inputs, *saved.values()]
        for k, vjp in enumerate(op.vjps):
            changed = _written_into(  # (called at once: the loop's vjp is the one meant)
                lambda xs: vjp(*xs[:count], **params, **dict(zip(saved, xs[count:], strict=True))), given)  # noqa: B023
            if changed is not None:
                i, x = changed
                raise GradientCheckError(
                    f"check_gradients: the vjp for input {k} of Op {op.name!r} changes its argument {names[i]} in "
                    f"place (shape {x.shape}): given {np.ravel(given[i])[:4]}, it left {np.ravel(x)[:4]} there; an "
                    "ordinary backward pass hands a vjp the Values' own arrays (and saved= again at every "
                    "backward()), so compute into a new array (g * 2 * x, not x *= 2 or saved *= g)",
                    analytic, numeric)


def _check_vjp_precision(task: _Task, analytic: list[np.ndarray], numeric: list[np.ndarray]) -> None:
    """A vjp that computes in float32 for a float64 input (``g * w32``, ``.astype(np.float32)``): the engine casts its
    result to the input's dtype, so the gradient looks like float64 but holds 7 digits, which the tolerances let
    pass; each vjp of f's Ops is called once at the inputs, and the first such one is named."""
    __tracebackhide__ = True
    for op, k, x, _, (result,) in _vjp_results(task, (1.0,)):
        dtype = getattr(result, "dtype", None)
        if x.dtype == np.float64 and isinstance(dtype, np.dtype) and dtype.kind == "f" and dtype.itemsize < 8:
            raise GradientCheckError(
                f"check_gradients: the vjp for input {k} of Op {op.name!r} returns {dtype} for a float64 input: the "
                "engine casts it to float64, but it holds only that dtype's digits; compute in the input's dtype "
                "(no .astype(np.float32), no float32 copy of g)", analytic, numeric)


def _unscaled_vjp(task: _Task) -> str:
    """Which vjp forgets g ("the vjp for input 1 of Op 'scale'"; "" where none is found): each Op of f's graph at the
    inputs has its vjps called with a random g and with −2·g, whose results must scale the same way."""
    __tracebackhide__ = True
    for op, k, _, _, results in _vjp_results(task, (1.0, -2.0)):
        try:
            once, twice = (np.asarray(result, dtype=np.float64) for result in results)
        except (TypeError, ValueError):  # (not numbers: not the one to name)
            continue
        if once.shape == twice.shape and not np.allclose(twice, -2 * once, rtol=task.rtol, atol=task.atol,
                                                         equal_nan=True):
            return f"the vjp for input {k} of Op {op.name!r}"
    return ""


def _vjp_results(task: _Task, scales: tuple[float, ...]
                 ) -> Iterator[tuple[Op, int, np.ndarray, np.ndarray, list[Any]]]:
    """For each vjp of each Op in f's graph at the inputs: ``(op, k, input k, the Op's output, [the vjp's result for
    s·g for each s of scales])``, g random (drawn from the task's seed, one per Op); numpy's warnings off, and a vjp
    that cannot be called this way left out (it is not the one to name)."""
    __tracebackhide__ = True
    rng = np.random.default_rng(task.seed)
    for op, inputs, params, data in _recorded_ops(_graph_at_inputs(task)):
        g = rng.standard_normal(data.shape)
        for k, vjp in enumerate(op.vjps):
            try:
                with np.errstate(all="ignore"):
                    results = [vjp(s * g, data, *inputs, **params) for s in scales]
            except Exception:  # noqa: BLE001 - a vjp that cannot be called this way is not the one to name
                continue
            yield op, k, inputs[k], data, results


def _repeatable(evaluate: Evaluate, arrays: list[np.ndarray]) -> bool:
    """Whether f gives the same values twice at the same inputs, as finite differences assume."""
    __tracebackhide__ = True  # (evaluate ignores numpy's floating-point warnings itself)
    return bool(np.array_equal(evaluate(arrays), evaluate(arrays), equal_nan=True))


def _computed_again(compute: Callable[[], list[np.ndarray]], first: list[np.ndarray], times: int = 3) -> bool:
    """Whether numbers of a failed check (``first``) come out the same, bit for bit, each of ``times`` times
    ``compute`` makes them again, as they do for a deterministic f.  Two calls of f giving the same values do not
    show an f that is random only now and then (dropout with a small p over few units keeps every unit in most
    calls): the one call whose draw differed, which made the numbers disagree, is then not made again."""
    __tracebackhide__ = True
    return all(all(np.array_equal(a, b, equal_nan=True) for a, b in zip(compute(), first, strict=True))
               for _ in range(times))


def _differences_again(evaluate: Evaluate, arrays: list[np.ndarray], weights: np.ndarray, eps: float,
                       numeric: list[np.ndarray], bad: list[np.ndarray], rows: int, steps: _Steps | None = None
                       ) -> bool:
    """Whether the central differences of the table's first ``rows`` disagreeing elements come out the same when
    taken again (see :func:`_computed_again`), each with its step: ``eps``, or the one ``steps`` holds for it."""
    __tracebackhide__ = True
    shown = [(i, tuple(int(k) for k in index)) for i, b in enumerate(bad) for index in np.argwhere(b)][:rows]
    steps = steps or {}
    return all(_computed_again(lambda: [np.array(_difference_at(evaluate, arrays, weights, i, index,  # noqa: B023
                                                                steps.get((i, index), eps)))],  # noqa: B023
                               [numeric[i][index]]) for i, index in shown)


_NOT_REPEATABLE = ("\nf is not deterministic: calls with the same inputs returned different values (random "
                   "numbers inside f, such as dropout or noise?), so its finite differences measure the noise, not "
                   "a slope, and the table says nothing about the derivative. Make f deterministic (fixed noise, "
                   "dropout off) and check again.")


def _report(task: _Task, analytic: list[np.ndarray], numeric: list[np.ndarray], eps: float, order: int,
            requested: int, what: str, kink: Callable[[int, tuple[int, ...]], tuple[float, float] | None],
            finer: Callable[[int, tuple[int, ...]], float], resolution: Callable[[int, tuple[int, ...]], float],
            repeatable: Callable[[list[np.ndarray]], bool], finite_here: Callable[[], bool] = lambda: True,
            at_inputs: Callable[[], np.ndarray] | None = None,
            at_step: Callable[[int, tuple[int, ...], float], float] | None = None,
            retaken: str = "", elsewhere: Callable[[float], str] = lambda step: "",
            coarse: Callable[[int, tuple[int, ...]], list[float]] = lambda i, index: []) -> GradientReport:
    """The report when every element agrees; else raise GradientCheckError with the table (which, when f is not
    ``repeatable`` where the elements ``bad`` disagree, blames f's randomness instead of kinks, the step or rounding;
    ``at_inputs``: f's output at the inputs as the differences evaluate it, for order 1; ``at_step``: the central
    difference at an element with another step, to try the one a note suggests; ``retaken``: which steps
    :func:`_retaken` tried, for the message; ``elsewhere``: why such a step fails at the other orders checked;
    ``coarse``: :func:`_coarse_values` at an element)."""
    __tracebackhide__ = True
    errors, abs_errors, rel_errors, bad, atol_only = [], [], [], [], 0
    for a, n in zip(analytic, numeric, strict=True):
        with np.errstate(invalid="ignore", over="ignore"):  # inf − inf and inf/inf (infinite derivatives): nan, and
            errors.append(err := np.abs(a - n))               # a tolerance beyond float64: inf, even under "raise"
            scale = np.maximum(np.abs(a), np.abs(n))
            rel = np.divide(err, scale, out=np.zeros_like(err), where=scale > 0)
            bad.append(_disagreeing(err, n, task.atol, task.rtol))
            atol_only += int(np.count_nonzero(~(err <= task.rtol * np.abs(n)) & ~bad[-1]))
        abs_errors.append(float(err.max(initial=0.0)))
        rel_errors.append(float(rel.max(initial=0.0)))
    if any(b.any() for b in bad):
        in_place = _in_place_note(task)
        if not repeatable(bad):
            table = _failure_table(task.names, analytic, numeric, errors, bad, task.atol, task.rtol, eps, task.rows,
                                   lambda i, index: None, what)
            raise GradientCheckError(table + _failure_notes(analytic, bad, order, requested,
                                                            in_place or _NOT_REPEATABLE), analytic, numeric)
        worst = _worst(errors, numeric, bad, task.atol, task.rtol)
        x = float(task.arrays[worst[0]][worst[1]])  # the first row's element, named by its input where there are more
        at = (f"input {task.names[worst[0]]} at {worst[1]}" if len(task.names) > 1 else
              f"x[{', '.join(map(str, worst[1]))}]" if worst[1] else "x")  # (x[1, 2], as it is written)
        about = f"; order {order}, in float64; f's Ops: {_ops_of(task)}; {at} = {x!r} in the first row"
        table = _failure_table(task.names, analytic, numeric, errors, bad, task.atol, task.rtol, eps, task.rows,
                               kink, what, finite_here(), about)
        halved = float(finer(*worst[:2]))  # the central difference at the worst element with half the step
        tolerance = task.atol + task.rtol * abs(float(numeric[worst[0]][worst[1]]))
        at_kink = kink(*worst[:2]) is not None  # (the table's first row says so already: no step or slope to blame)
        note = (in_place or _unrecorded_note(task, at_inputs)
                or (_no_graph_note(task, bad) or _rounded_forward_note(task) or _unscaled_note(task)
                    or _saved_note(task, numeric, bad) if order == 1 else "")
                or ("" if at_kink else _step_note(analytic, worst, halved, eps, tolerance, at_step,
                                                  lambda: resolution(*worst[:2]), elsewhere))
                or _rounding_note(worst, resolution, eps, tolerance, _passes_with(task, analytic, worst, bad,
                                                                                   at_step, elsewhere))
                or _coarse_values_note(coarse(*worst[:2]), worst[2])
                or _lost_digits_note(worst, resolution)
                or ("" if at_kink else _kinked_slope_note(analytic, worst, halved, eps, at_step, tolerance,
                                                          elsewhere))
                or _jump_note(numeric, worst, halved)  # (after rounding: noise of one ulp over ε can double too)
                or (_summed_vjp_note(task) if order == 1 else ""))
        raise GradientCheckError(table + retaken + _failure_notes(analytic, bad, order, requested, note, at_kink),
                                 analytic, numeric)
    return GradientReport(tuple(abs_errors), tuple(rel_errors), sum(a.size for a in analytic), task.atol, task.rtol,
                          eps, analytic, numeric, order, atol_only)


def _in_place_note(task: _Task) -> str:
    """A note when f changes the numbers of its arguments in place (``x.data *= 2``): the engine records no such
    change, so backpropagation differentiates another function than f, and each call sees the last one's changes."""
    __tracebackhide__ = True
    held = [(name, x, x.data.copy()) for name, x in task.held]
    first = _changes(task.f, task.arrays) or [None] * len(task.arrays)
    moved: dict[float, list[np.ndarray | None] | None] = {}  # f's changes at the inputs moved, each move once

    def changes_moved(move: float) -> list[np.ndarray | None] | None:
        if move not in moved:
            moved[move] = _changes(task.f, [a + move for a in task.arrays])
        return moved[move]

    changed = [name for k, (name, change) in enumerate(zip(task.names, first, strict=True))
               if change is not None and not _a_shift(task.arrays[k], k, change, changes_moved)]
    changed += [name for name, x, before in held if not np.array_equal(x.data, before, equal_nan=True)]
    if not changed:
        return ""
    return (f"\nf changes its input(s) {', '.join(changed)} in place (their .data differ after a call): "
            "backpropagation does not see changes made to .data (and a Value held fixed keeps them from one call "
            "to the next), so the table says nothing about f's derivative. Compute f without changing its "
            "arguments (x = x * 2, not x.data *= 2).")


def _a_shift(base: np.ndarray, k: int, change: np.ndarray,
             changes_moved: Callable[[float], list[np.ndarray | None] | None]) -> bool:
    """Whether f changes its argument ``k`` (numbers ``base``) by the same numbers at the inputs moved by 0.75 and
    by −√2 (``changes_moved``: ``_changes`` there, asked only while they agree) as at the inputs: ``x += c`` under
    no_grad, c the same wherever the inputs are, a slope of 1, and the table holds (``x *= 2`` changes x by another
    amount elsewhere).  The moves are incommensurate: a change periodic in 0.75 agreed at 0.75 and at −1.5, the moves
    before; only a constant one repeats at both 0.75 and −√2.  The same up to the rounding of x + c: a few units in
    the last place of |x|."""
    rounding = 1e-12 + 16 * float(np.finfo(np.float64).eps) * (np.abs(base) + 1.5)
    return all((m := changes_moved(move)) is not None and (other := m[k]) is not None
               and np.allclose(other, change, rtol=1e-9, atol=rounding) for move in (0.75, -math.sqrt(2)))


def _changes(f: Callable[..., Any], arrays: list[np.ndarray]) -> list[np.ndarray | None] | None:
    """How much a call of ``f`` under no_grad changes the numbers of each of its arguments, Values of ``arrays``
    (None: unchanged; None for all: f failed there)."""
    values = [Value(a) for a in arrays]
    try:
        with no_grad(), np.errstate(all="ignore"):
            f(*values)
    except Exception:  # noqa: BLE001 - at the inputs it ran; elsewhere it may not, and nothing is known there
        return None
    return [None if np.array_equal(x.data, a, equal_nan=True) else np.asarray(x.data - a)
            for x, a in zip(values, arrays, strict=True)]


def _unrecorded_note(task: _Task, at_inputs: Callable[[], np.ndarray] | None) -> str:
    """A note when f gives other numbers under no_grad (``at_inputs()``, as the finite differences evaluate it)
    than recorded, as backpropagation differentiates it: an in-place operator on a Value f uses again."""
    __tracebackhide__ = True
    if at_inputs is None or not (differs := _recorded_differs(task.f, task.arrays, at_inputs())):
        return ""
    return (f"\nf gives other numbers recorded than under no_grad(), where the finite differences are taken: "
            f"{differs} at the inputs; {_IN_PLACE_OPERATOR}.")


def _worst(errors: list[np.ndarray], numeric: list[np.ndarray], bad: list[np.ndarray], atol: float,
           rtol: float) -> tuple[int, tuple[int, ...], float]:
    """The disagreeing element the table puts first, furthest beyond its tolerance atol + rtol·|numeric| (NaN
    first): (input, index, error)."""
    with np.errstate(invalid="ignore"):  # (inf − inf: NaN, ranked first as in the table)
        excess = [np.where(b, np.nan_to_num(e - (atol + rtol * np.abs(n)), nan=np.inf, posinf=np.inf), -np.inf)
                  for e, n, b in zip(errors, numeric, bad, strict=True)]
    i = max(range(len(excess)), key=lambda k: float(excess[k].max(initial=-np.inf)))
    index = tuple(int(k) for k in np.unravel_index(int(np.argmax(excess[i])), excess[i].shape))
    return i, index, float(errors[i][index])


def _graph_at_inputs(task: _Task) -> Value:
    """f at the inputs once more, recorded: its Ops for a failure's header and notes."""
    with enable_grad():
        return _output(task.f, [Value(a) for a in task.arrays])


def _ops_of(task: _Task) -> str:
    """The names of the Ops in f's graph at the inputs, each once, in the order backward() visits them."""
    names = dict.fromkeys(op.name for op, *_ in _recorded_ops(_graph_at_inputs(task)))
    return ", ".join(names) or "none"


def _no_graph_note(task: _Task, bad: list[np.ndarray]) -> str:
    """A note when f's output holds no graph from inputs whose gradients disagree: backpropagation cannot reach
    them, so their analytic gradient is 0 whatever f computes (f used ``.data``, a detached Value or no_grad)."""
    __tracebackhide__ = True
    values = [Value(a) for a in task.arrays]
    with enable_grad():
        out = _output(task.f, values)
    reached = {id(node) for node in backward_order(out)} if out.requires_grad else set()
    cut = [task.names[i] for i, (x, b) in enumerate(zip(values, bad, strict=True)) if b.any() and id(x) not in reached]
    if not cut:
        return ""
    inputs, them = (f"input {cut[0]}", "it") if len(cut) == 1 else (f"inputs {', '.join(cut)}", "them")
    return (f"\nf's output holds no graph from {inputs}, so backpropagation cannot reach {them} and the analytic "
            "gradient is 0: f computed its result from .data (or from a detached Value, or under no_grad()) instead "
            "of from its arguments. Compute f with operations on the Values it is given.")


def _saved_note(task: _Task, numeric: list[np.ndarray], bad: list[np.ndarray]) -> str:
    """A note where f uses an Op with ``saving=`` and a recorded pass, whose vjps get no ``saved=``, agrees with the
    differences where backward() does not: what the saving forward saves, or how a vjp reads it, is wrong."""
    __tracebackhide__ = True
    names = dict.fromkeys(op.name for op, *_ in _recorded_ops(_graph_at_inputs(task))
                          if op.saving is not None and BUILT_IN.get(op.name) is not op)  # (the package's are tested)
    if not names:
        return ""
    try:
        recorded = _backprop(task.f, task.arrays, task.labels, task.seed, record=True)
    except Exception:  # (a vjp that cannot run on Values, or needs its saved=: nothing to compare, the table stands)
        return ""
    for r, n, b in zip(recorded, numeric, bad, strict=True):
        r = np.zeros(n.shape) if r is None else np.asarray(r, dtype=np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            if _disagreeing(np.abs(r - n), n, task.atol, task.rtol)[b].any():
                return ""
    return ("\nbackward(create_graph=True), whose vjps get no saved= and compute it again, agrees with the "
            f"differences: in f's Op with saving= ({checks.listed([repr(name) for name in names])}), what the saving "
            "forward returns as saved (out, saved) is not what its vjp needs, or the vjp reads it wrongly.")


def _rounded_forward_note(task: _Task) -> str:
    """A note naming the first Op whose forward returns integers or a float narrower than its float64 inputs
    (``np.zeros(x.shape, dtype=int)`` filled in, ``.astype(np.float16)``): the Value it makes holds them as floats,
    already rounded, so f is a staircase whose differences are 0 or jumps, and the table blames kinks or the step."""
    __tracebackhide__ = True
    for op, inputs, params, _ in _recorded_ops(_graph_at_inputs(task)):
        floats = [x for x in inputs if x.dtype.kind == "f"]
        if not floats or any(x.dtype != np.float64 for x in floats):
            continue
        try:
            with np.errstate(all="ignore"):
                dtype = np.asarray(op.forward(*inputs, **params)).dtype
        except Exception:  # noqa: BLE001 - a forward that fails here has said so in f already
            continue
        if dtype.kind in "biu" or _narrow_float(dtype):
            return (f"\nThe forward of Op {op.name!r} returns {dtype} for float64 inputs: the Value it makes holds "
                    "those numbers rounded, so f moves in steps, and its finite differences are 0 or jumps (which "
                    "the table may take for kinks); compute the forward in floats of its inputs' dtype (np.zeros("
                    "x.shape), not dtype=int; no astype).")
    return ""


def _summed_vjp_note(task: _Task) -> str:
    """A note naming the first vjp that returns a shape neither its input's nor one its Op's output could broadcast
    it to (``g[:, None] * b`` where ``g * b`` was meant): backward() sums it down to the input's shape, as for an
    input the forward broadcasts, so its wrong shape shows only as wrong numbers.  The built-in Ops are left out:
    matmul's vjp for a matrix shared by a stack (``W @ columns``, a convolution by im2col) is rightly of the stack's
    batch shape, which its output's shape is not."""
    __tracebackhide__ = True
    for op, k, given, data, (result,) in _vjp_results(task, (1.0,)):
        shape = np.shape(result)
        if shape != given.shape and BUILT_IN.get(op.name) is not op and not _broadcasts_to(shape, data.shape):
            return (f"\nThe vjp for input {k} of Op {op.name!r} returns shape {shape} for an input of shape "
                    f"{given.shape} (g has shape {data.shape}): backward() sums it down to the input's "
                    "shape, as for an input the forward broadcasts; if the forward does not broadcast this input "
                    "to that shape, the vjp's shape is the mistake (an outer product, g[:, None] * …, where an "
                    "element-wise one was meant?).")
    return ""


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether an array of ``shape`` broadcasts to ``target`` (a gradient of the output's shape, or less, is one a
    broadcast input's vjp may return)."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def _unscaled_note(task: _Task) -> str:
    """A note naming the vjp that does not multiply by its upstream gradient g, if one does not (wherever its Op sits
    in f, the table only shows the gradients it spoils)."""
    __tracebackhide__ = True
    culprit = _unscaled_vjp(task)
    return (f"\n{culprit[0].upper()}{culprit[1:]} does not multiply by its upstream gradient g (called with −2·g it "
            "does not give −2 times what it gives with g): vjp(g, out, *inputs) must return g times the local "
            "derivative." if culprit else "")


def _rounding_note(worst: tuple[int, tuple[int, ...], float], resolution: Callable[[int, tuple[int, ...]], float],
                   eps: float, tolerance: float, fails: Callable[[float], str]) -> str:
    """A note when the worst disagreement is within what the difference can resolve: where f is large and its
    slope small, f moves by less than its own rounding over the step (C ≈ 10⁴ over a step of 10⁻⁶).  The rounding
    falls as 1/ε: the step suggested (a power of ten) brings it to a quarter of the element's ``tolerance``, if the
    disagreeing elements pass with it or resolve their slopes (``fails``: why one does not, else ""): a step chosen
    for rounding alone can be far too large for f's curvature (eps=10000 for 10⁻²·tanh(x) + 10¹² at x = 1) or its
    domain (for 10⁻²·ln x + 10¹²), and is then not suggested."""
    __tracebackhide__ = True
    i, index, error = worst
    rounding = resolution(i, index)
    # (NaN: an error or a rounding that is not a number explains nothing; nor does an infinite one: f is not finite
    # a step away there, which the table says, not too large to resolve a slope)
    if not (error <= rounding and math.isfinite(rounding)):
        return ""
    wanted = eps * 4 * rounding / tolerance if tolerance > 0 else math.inf  # (NaN and inf: no step to suggest)
    larger = 10.0 ** math.ceil(math.log10(wanted)) if 0 < wanted < 1e300 else math.inf
    if not eps < larger < math.inf:
        advice = "or with a larger eps"
    elif not (why := fails(larger)):
        advice = f"or with a larger eps, e.g. eps={larger:g}"
    else:
        advice = f"a larger eps does not help: the step that rounding would need, eps={larger:g}, {why}"
    return (f"\nAt the worst element the disagreement, {error:.3g}, is within the rounding of f's values over the "
            f"step ({rounding:.3g}): f is too large for finite differences to resolve slopes this small. Check at "
            f"a point where f is smaller ({advice}); the derivative is not shown to be wrong.")


def _lost_digits_note(worst: tuple[int, tuple[int, ...], float],
                      resolution: Callable[[int, tuple[int, ...]], float]) -> str:
    """A note when the worst disagreement is more than the rounding of f's values over the step (else
    :func:`_rounding_note` speaks) but within a few times it: f is large beside its change over the step (1e10 +
    exp(3e4·x) at 0), so the difference keeps few digits, and the step's own error (about ε²·C‴/6) can make up the
    rest; a smaller step loses more to rounding.  Nothing is shown either way, which the note says."""
    i, index, error = worst
    rounding = resolution(i, index)
    if not (math.isfinite(rounding) and rounding < error <= 4 * rounding):  # (NaN: nothing to compare)
        return ""
    return (f"\nAt the worst element the disagreement, {error:.3g}, is within a few times the rounding of f's "
            f"values over the step ({rounding:.3g}): f is large beside its change over the step (its large terms "
            "cancel in the difference), so the finite difference keeps few digits there, and the step's own error "
            "(about eps²·f‴/6) can make up the rest: a smaller step loses more digits to rounding, a larger one "
            "more to the step. The derivative is shown neither wrong nor right; check at a point where f is smaller "
            "beside its change (without its large constant part).")


def _passes_with(task: _Task, analytic: list[np.ndarray], worst: tuple[int, tuple[int, ...], float],
                 bad: list[np.ndarray], at_step: Callable[[int, tuple[int, ...], float], float] | None,
                 elsewhere: Callable[[float], str], most: int = 32) -> Callable[[float], str]:
    """Why the worst element, or another disagreeing one (``bad``; the first ``most`` of them), would not agree in a
    check with another step ("" where all would, or where the step and its half give one slope, which a wrong
    derivative does not match: that check shows it), as that check takes a disagreeing element again (:func:`_retake`:
    Richardson-extrapolated with its half, then a tenth of it): for a step a note suggests.  The worst alone is not
    enough: a step that resolves x² + 10⁸ can be too coarse for a tanh beside it, which the check then blamed on a
    kink.  f not finite, or failing, that step away is outside its domain, not bent.  A step these pass must also
    pass the check of every other order (``elsewhere``: why not), as ``eps=`` sets the step of each."""
    outside = "reaches where f is not finite or fails (outside its domain)"
    others = ((i, tuple(int(k) for k in index)) for i, b in enumerate(bad) for index in np.argwhere(b))  # (0-d too)
    elements = [worst[:2], *itertools.islice((element for element in others if element != worst[:2]), most - 1)]

    def fails_at(i: int, index: tuple[int, ...], step: float) -> str:
        assert at_step is not None
        a = float(analytic[i][index])
        difference = at_step(i, index, step)
        if _agrees(task, a, difference):
            return ""
        if not math.isfinite(difference):
            return outside
        half = at_step(i, index, step / 2)
        value, _, _ = _retake(task, a, difference, half, lambda smaller: at_step(i, index, smaller), step)
        # (differences that halving the step leaves as they are, to rtol, resolved the slope, which the derivative
        # does not match: not f's curvature, but a wrong derivative, which the check with that step shows)
        resolved = math.isfinite(half) and abs(half - difference) <= task.rtol * abs(half)
        return "" if _agrees(task, a, value) or resolved else "is too coarse for f's curvature at these inputs"

    def fails(step: float) -> str:
        if at_step is None:
            return ""
        try:
            why = next((why for i, index in elements if (why := fails_at(i, index, step))), "")
        except Exception:  # noqa: BLE001 - f fails that far away (out of its domain): no step to suggest
            return outside
        return why or elsewhere(step)
    return fails


def _step_note(analytic: list[np.ndarray], worst: tuple[int, tuple[int, ...], float], halved: float,
               eps: float, tolerance: float = math.inf,
               at_step: Callable[[int, tuple[int, ...], float], float] | None = None,
               rounding: Callable[[], float] = lambda: math.inf,
               elsewhere: Callable[[float], str] = lambda step: "") -> str:
    """A note when the worst disagreement is the step's, not the derivative's: a central difference's own error
    (about ε²·C‴/6) falls fourfold when the step is halved (``halved``: the difference then); a wrong derivative's
    disagreement does not fall.  The step suggested is the power of ten that the ε² law puts within a quarter of the
    element's ``tolerance``, if the difference with it (``at_step``) agrees there: a step that fails too is not
    suggested (rounding then outgrows the step's error before it is small enough), and where the disagreement there
    is more than the rounding of f's values over that step (``rounding()``: over ε; it grows as 1/step), nothing is
    said: the disagreement stopped falling, as a wrong derivative's does beside a step's larger error (exp(1e5·x)
    with a slope off by 1e-4).  A step that agrees there but fails another order checked (``elsewhere``: why) is
    not suggested either."""
    i, index, error = worst
    finer_error = abs(float(analytic[i][index]) - halved)  # (Python floats: inf − inf is nan)
    if not (math.isfinite(error) and finer_error <= 0.35 * error):  # (NaN where the halved step is lost in rounding;
        return ""                                                      # an infinite error falls by no step)
    wanted = eps * math.sqrt(tolerance / (4 * error)) if error > 0 else eps / 10
    smaller = min(eps / 10, 10.0 ** math.floor(math.log10(wanted))) if wanted > 0 else 0.0
    there = abs(float(analytic[i][index]) - at_step(i, index, smaller)) if at_step and smaller > 0 else math.nan
    works = at_step is None or there <= tolerance
    if not works and not there <= rounding() * eps / smaller:  # (NaN: no step to try, nothing shown either way)
        return ""
    other = elsewhere(smaller) if works else ""
    advice = (f"eps={smaller:g}, which agrees there, {other}; check at a point where f varies more slowly" if other
              else f"try eps={smaller:g}" if works else "no smaller step agrees either there: rounding outgrows the "
              "step's error first; check at a point where f varies more slowly")
    return (f"\nAt the worst element the disagreement falls from {error:.3g} to {finer_error:.3g} when the step is "
            f"halved, as a central difference's own error does: the step eps={eps:g} is too large for these inputs "
            f"({advice}); the derivative is not shown to be wrong.")


def _coarse_values_note(gaps: list[float], error: float) -> str:
    """A note where the worst element's one-sided slopes drift apart as the step shrinks (``gaps``: see
    :func:`_coarse_values`), which no kink or curvature does: f's values are rounded coarsely (in float32, or by
    a cancellation in float64: the note cannot tell which).  Only where the disagreement (``error``) is within
    what that rounding moves a slope by, about the gap over the step (twice it, for margin): a larger one is the
    derivative's, which the table then shows."""
    if not (gaps and error <= 2 * abs(gaps[0])):
        return ""
    return (f"\nAt the worst element the gap between the one-sided slopes doubles each time the step is halved "
            f"({', '.join(f'{gap:.3g}' for gap in gaps)}), as a fixed rounding over a smaller step does: what is "
            "differenced (f itself at order 1, the derivative below at higher orders) is rounded far more coarsely "
            "than float64 rounds numbers of its size (a forward or vjp that computes in float32 or float16 and "
            "casts back, or rounds its result, or a float64 one whose large terms cancel: (x + 1e7) - 1e7 keeps x "
            "to 2e-9 only), so the differences measure that rounding, not a slope; compute in float64 throughout "
            "(no astype(np.float32) inside an Op), without such cancellation. No kink is shown, and the derivative "
            f"is shown neither wrong nor right: one off by up to about {2 * abs(gaps[0]):.2g} would disagree as "
            "much here; check it where f's values are not rounded so.")


def _kinked_slope_note(analytic: list[np.ndarray], worst: tuple[int, tuple[int, ...], float], halved: float,
                       eps: float, at_step: Callable[[int, tuple[int, ...], float], float] | None = None,
                       tolerance: float = math.inf, elsewhere: Callable[[float], str] = lambda step: "") -> str:
    """A note when the worst disagreement halves with the step (``halved``: the difference then): a central
    difference's own error is about ε·(C″₊ − C″₋)/4 where the slope has a kink (x·|x| at 0), not ε²·C‴/6.  That
    error is then a tenth as large with the step ε/10 it suggests (``at_step``: the difference with another step);
    where it is not, the halving was chance (rounding beside the step's own error: 1e10 + exp(3e4·x) at 0), and no
    kink is named.  The step suggested is the power of ten that the ε law puts within half the element's
    ``tolerance``, if the element agrees with it and the other orders checked pass with it too (``elsewhere``: why
    not), as with :func:`_step_note`."""
    i, index, error = worst
    a = float(analytic[i][index])
    finer_error = abs(a - halved)
    if not (math.isfinite(error) and 0.4 * error <= finer_error <= 0.6 * error):  # (NaN fails the test: no note)
        return ""
    if at_step is not None and not abs(a - at_step(i, index, eps / 10)) <= 0.2 * error:
        return ""
    wanted = eps * tolerance / (2 * error) if math.isfinite(tolerance) else eps / 10
    smaller = min(eps / 10, 10.0 ** math.floor(math.log10(wanted))) if wanted > 0 else 0.0
    there = abs(a - at_step(i, index, smaller)) if at_step is not None and smaller > 0 else 0.0
    why = "" if not there <= tolerance else elsewhere(smaller)
    advice = (f", or give a smaller eps (try eps={smaller:g})" if there <= tolerance and not why else
              f" (a smaller eps shrinks the disagreement with the step, but eps={smaller:g} "
              f"{why or 'still disagrees there'})")
    return (f"\nAt the worst element the disagreement halves when the step is halved ({error:.3g}, then "
            f"{finer_error:.3g}), as a central difference's own error does where the slope of what is differenced "
            "has a kink (x·|x| at 0): the derivative is not shown to be wrong. Keep test inputs away from such "
            f"points{advice}.")


def _jump_note(numeric: list[np.ndarray], worst: tuple[int, tuple[int, ...], float], halved: float) -> str:
    """A note when the worst element's central difference doubles with half the step (``halved``), as
    (g(x + ε) − g(x − ε)) / 2ε does where g jumps: g is f at order 1, the derivative below at higher orders (|x|′ =
    sign x at 0).  No derivative exists there; the analytic one is not shown to be wrong.  A kink a distance d < ε/4
    away doubles it too (|x| at d: d/ε, then 2d/ε), where g is continuous: the note says either."""
    i, index, _ = worst
    difference = float(numeric[i][index])
    if not (difference and 1.8 <= halved / difference <= 2.2):  # (NaN and inf fail the test: no note)
        return ""
    return (f"\nAt the worst element the difference doubles when the step is halved ({difference:.3g}, then "
            f"{halved:.3g}): what is differenced jumps there, or bends within the step (f itself at order 1, as |x| "
            "does within eps of 0; at a higher order the derivative below it, as |x|′ = sign x jumps at 0), so no "
            "derivative exists to check, or the step reaches across the bend. Keep test inputs away from such "
            "points.")


def _failure_notes(analytic: list[np.ndarray], bad: list[np.ndarray], order: int, requested: int,
                   difference_note: str, at_kink: bool = False) -> str:
    """What a failure at this order suggests: the orders checked, then a difference that cannot tell
    (``difference_note``: a step too large, or f too large for its rounding) or else, where the derivative is 0
    wherever it disagrees and the worst element is not ``at_kink`` (where no derivative exists: relu(x)² at 0 at
    order 2), a vjp that may have stepped out of the graph."""
    notes = f"\n(order={requested} checks orders 1 to {requested} in turn; order {order} failed.)" * (requested > 1)
    if difference_note:
        return notes + difference_note
    if order > 1 and not at_kink and all(np.all(a[b] == 0) for a, b in zip(analytic, bad, strict=True)):
        notes += ("\nThe analytic derivative is 0 wherever it disagrees. If that is not the true derivative, a vjp "
                  "may read .data (np.cos(x.data)) or call an Op whose vjp does: that steps out of the recorded "
                  "graph, so create_graph=True differentiates it as a constant; write vjps with operators, array "
                  "methods and Ops on their arguments.")
    return notes


if not TYPE_CHECKING:  # (hidden from type checkers, which would otherwise take testing.any_typo for a name)
    @checks.advice_on_import
    def __getattr__(name: str) -> Any:
        """minitorch's ``central_difference``: an AttributeError saying what it is here."""
        raise checks.minitorch_name(__name__, name)


def __dir__() -> list[str]:
    """``dir()`` of this package (and tab completion) lists its API (``__all__``) and the submodules imported so far
    (``strategies`` after ``import tinygrad_edu.testing.strategies``), not its helpers and imports."""
    return sorted([*__all__, *(name for name in ("expressions", "strategies") if name in globals())])
