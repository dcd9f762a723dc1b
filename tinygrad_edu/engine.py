"""The engine: :class:`Value` records the computation graph, :meth:`Value.backward` walks it backwards.

Forward propagation (seed, section 3) builds the graph: every operation on Values makes a new Value that remembers
its ``parents`` and its ``op``.  Backpropagation (seed, section 6.3) walks that dependency tree from the cost back
to the weights, multiplying local derivatives by the chain rule.  The math of each operation lives in
:mod:`tinygrad_edu.ops`; this module only keeps the books.  With ``backward(create_graph=True)`` the walk records
its own operations, so every gradient is again a Value that can be differentiated (derivatives of derivatives).

    >>> from tinygrad_edu import Value
    >>> w, a = Value(0.5, label="w"), Value(2.0, label="a")
    >>> z = w * a + 1.0
    >>> cost = (z.sigmoid() - 1.0) ** 2
    >>> cost.backward()
    >>> round(float(w.grad), 6)
    -0.050062
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import functools
import heapq
import html
import inspect
import itertools
import math
import operator
import os
import secrets
import sys
import threading
import weakref
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, MappingView
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any, NoReturn, overload

import numpy as np

from tinygrad_edu import checks, ops, printing, write_instead
from tinygrad_edu.grad_mode import (
    DETECT_ANOMALY,
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
)
from tinygrad_edu.grad_mode import GRAD_ENABLED as _GRAD_ENABLED
from tinygrad_edu.ops import Op

__all__ = ["Value", "apply", "no_grad", "enable_grad", "is_grad_enabled", "is_anomaly_enabled", "detect_anomaly",
           "backward_order", "backward_reach", "local_gradients", "held_by_a_walk"]

# float64 first: `dtype in` finds the common dtype by identity, without comparing it with float32's (30 ns a test)
_FLOAT_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
# numpy's module defines __getattr__ (for its lazily imported submodules and removed names), and CPython does not
# specialise attribute reads on such a module: each `np.ndarray` costs a generic lookup (30-40 ns) where a global
# name costs a few.  The arithmetic fast path, _record and the backward walk read these names instead (the scalar
# chain and the 1,000,000-op chain about 4 % faster).
_ndarray, _asarray = np.ndarray, np.asarray
#: Every Value gets the next (more negative) number of this count when it is made.  A Value is always made after
#: the Values it is computed from, so the smallest number is the most recent: popping Values from a min-heap of
#: these numbers visits every node after all the nodes that use it (a topological order, found without recursion).
#: A leaf changed in place (under ``no_grad``) takes a new number: a node recorded from it before is then older than
#: its input, and the backward walk refuses that stale graph instead of mixing old and new numbers.
_creation = itertools.count(0, -1)
#: This run of Python, for pickled Values' creation numbers (see ``Value.__setstate__``); a fork's child shares it
#: and is told apart by its process id.
_RUN = secrets.token_hex(8)


#: The two switches of grad mode (tinygrad_edu.grad_mode), read as fast as a class attribute.
_grad_enabled, _anomaly_mode = _GRAD_ENABLED.get, DETECT_ANOMALY.get
#: While set (to a dict) in this thread or asyncio task, a backward pass given ``inputs`` puts the leaves' gradients
#: there, by ``id``, instead of adding them to their ``.grad``: autodiff's passes set it, so that a parameter's
#: ``.grad`` that a training loop in another thread is filling and reading is never touched by them.
CAPTURED_GRADIENTS: contextvars.ContextVar[dict[int, Any] | None] = contextvars.ContextVar(
    "tinygrad_edu.captured_gradients", default=None)
#: While set (to a list) in this thread or asyncio task, every ``.grad`` that a backward pass writes, a leaf's or a
#: computed Value's, is noted there, as ``(value, the .grad before, the .grad after)``: autodiff sets it around ``f``,
#: and after ``f`` puts back those still in place, so that a ``backward()`` that ``f`` calls itself leaves no gradient
#: in a model's weights nor in a Value computed outside ``f``, and another thread's write meanwhile (not noted: the
#: variable is this thread's) is kept.
LEAF_WRITES: contextvars.ContextVar[list[tuple[Any, Any, Any]] | None] = contextvars.ContextVar(
    "tinygrad_edu.leaf_writes", default=None)
#: While set in this thread or asyncio task to a list ``[output, inputs, order]`` (by autodiff, for the rows of a
#: Jacobian or Hessian: one pass per row, over a graph that does not change between them; ``order`` holds the Values
#: of ``backward_order(output, inputs)``, which autodiff has walked already, ``backward_reach``), a backward pass
#: from that output given those inputs finds which Values lie on a path to them (``_leading``) from ``order`` once,
#: appends it to the list, and the next passes reuse it: walking the graph again for every row took a fifth of a
#: Hessian's time, and once more for a gradient a tenth of ``value_and_grad``'s.  Any other pass finds its own.
WALK_SETUP: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar("tinygrad_edu.walk_setup", default=None)
#: While a recorded backward pass (``create_graph=True``) runs a vjp, in this thread or asyncio task: its Op.  A Python
#: number made there of a Value that requires a gradient (``float(x)``, ``x.item()``, ``math.cos(x)``) is a constant
#: to the pass, so every derivative taken of the vjp's result through it would be a silent 0: it is refused
#: (``Value._number``), and the vjp's error names the Op.
_RECORDED_VJP: contextvars.ContextVar[Op | None] = contextvars.ContextVar("tinygrad_edu.recorded_vjp", default=None)


#: The arrays a backward pass under detect_anomaly made read-only for its walk (``_read_only_for_the_walk``), by id,
#: each with the threads of the walks holding it (one entry a walk: two threads may walk one graph), until the last
#: of them ends; a step refused on them asks ``held_by_a_walk`` why they are read-only.  A view whose last walk ended
#: while its owner was still held waits in ``_UNHELD_VIEWS``, read-only as its owner, until that owner is let go.
_HELD: dict[int, list[int]] = {}
_UNHELD_VIEWS: dict[int, np.ndarray] = {}
_HELD_LOCK = threading.Lock()


def held_by_a_walk(array: np.ndarray, in_this_thread: bool | None = None) -> bool:
    """Whether ``array`` (or the array it is a view of) is read-only because a backward pass under
    :func:`detect_anomaly` holds it so for its walk (it is writeable again when the last such pass ends); False for
    an array made read-only otherwise (a view of a broadcast, ``flags.writeable = False``).  ``in_this_thread``:
    None for a walk in any thread, True for one in the calling thread (a step run by a vjp or hook of that walk),
    False for one in another thread."""
    if not isinstance(array, np.ndarray):  # (a Value: its .data is the array asked about)
        raise TypeError(f"held_by_a_walk: array must be a numpy array (a Value's .data), got {_described(array)}")
    if in_this_thread is not None and not isinstance(in_this_thread, bool):
        raise TypeError(f"held_by_a_walk: in_this_thread must be None, True or False, got {_described(in_this_thread)}")
    me = threading.get_ident()
    held: Any = array
    with _HELD_LOCK:
        while isinstance(held, np.ndarray):  # (the array, then what it is a view of)
            holders = _HELD.get(id(held), ())
            if any(in_this_thread is None or (thread == me) == in_this_thread for thread in holders):
                return True
            held = held.base
    return False


def _to_array(data: Any, dtype: np.dtype | None = None, partner: np.dtype | None = None) -> np.ndarray:
    """Convert user data to a float array: float32/float64 arrays keep their dtype, ``dtype`` is forced, and other
    arrays (bool, integers, float16) become what numpy makes of them beside a ``partner`` dtype (float64 alone)."""
    if data.__class__ is _ndarray and dtype is None and data.dtype in _FLOAT_DTYPES:  # a fast path: what the checks
        return data  # below keep as it is, at once (fit's batch: Value(np.zeros(0)), .data = batch; a cost's target)
    if isinstance(data, Value):  # (its numbers, in ``dtype`` where given: a Value as backward's grad, say)
        return data.data if dtype is None else data.data.astype(dtype, copy=False)
    if data is None or isinstance(data, (str, bytes, bytearray)) or (
            isinstance(data, memoryview) and isinstance(data.obj, (bytes, bytearray))):  # (text's bytes, not numbers)
        raise TypeError(f"Value: cannot make a Value from {type(data).__name__} {data!r}; give a number, "
                        "a nested list or a numpy array")
    if data.__class__ is not np.ndarray and checks.masked(data):
        if isinstance(data, (list, tuple)):  # (rows of a masked array, or its elements: m[1] is numpy.ma's masked)
            raise TypeError(f"Value: the {type(data).__name__} holds a masked array (or numpy.ma's masked) with "
                            "masked elements, whose numbers numpy would use; give m.filled(x) or m.compressed() of "
                            "the masked array m")
        raise TypeError(f"Value: {_MASKED.removeprefix('numpy.ma: ')}")
    try:
        array = np.asarray(data)
    except ValueError as error:  # ragged nested lists
        raise ValueError(f"Value: cannot make an array from the given data: {error}") from None
    except RuntimeError as error:  # a PyTorch tensor that requires grad will not give its numbers
        raise TypeError(f"Value: cannot make an array from {type(data).__name__} ({error}); give its numbers, "
                        f"e.g. {_tensor_numbers(data)}") from None
    except TypeError as error:  # a list holding Values (which refuse to become arrays), or numpy's own error
        if str(error) != _NOT_AN_ARRAY and type(data).__module__.startswith("torch"):  # (bfloat16: no numpy dtype)
            raise TypeError(f"Value: cannot make an array from {type(data).__name__} ({error}); give its numbers as "
                            f"floats, e.g. {_tensor_numbers(data)}") from None
        if str(error) != _NOT_AN_ARRAY:
            raise
        if checks.reloaded(data, Value):  # (a Value of the class before importlib.reload of this module)
            raise checks.reloaded_error(data, Value, "Value") from None
        raise TypeError(f"Value: cannot make an array from a {type(data).__name__} holding Values: their graphs "
                        "would be lost; join Values with F.stack (along a new axis) or F.concatenate, as "
                        "torch.stack does, or give their .data") from None
    if array.dtype.kind == "O" and array.size and all(isinstance(x, (int, float)) for x in array.flat):
        array = _large_integers(array)  # Python ints beyond int64 (among floats too), which numpy keeps as objects
    if array.dtype.kind not in "biuf":
        raise TypeError(f"Value: data of dtype {array.dtype} ({type(data).__name__}) is not supported; "
                        f"use real numbers (int, float or bool){_foreign_values(array)}")
    if not array.dtype.isnative:  # (big-endian data from a file: the same numbers in this machine's order)
        array = array.astype(array.dtype.newbyteorder("="))
    if dtype is not None:
        return array.astype(dtype, copy=False)
    if array.dtype in _FLOAT_DTYPES:
        return array
    promoted = np.float64 if partner is None else np.promote_types(array.dtype, partner)
    return array.astype(promoted if promoted in _FLOAT_DTYPES else np.float64)


def _tensor_numbers(tensor: Any) -> str:
    """What gives a PyTorch ``tensor``'s numbers to numpy: ``.float()`` first where numpy has no dtype for its own
    (bfloat16, the float8s), whether or not it requires grad."""
    numpy_has_none = str(getattr(tensor, "dtype", "")).startswith(("torch.bfloat16", "torch.float8"))
    return f"tensor.detach(){'.float()' if numpy_has_none else ''}.numpy()"


def _foreign_values(array: np.ndarray) -> str:
    """What to write when ``array`` (of objects) holds another library's Values, such as micrograd's: they have a
    ``.data`` and a ``.grad`` but are not this package's (their type's name alone, "Value", would read as nonsense);
    or exact numbers, a Fraction or a Decimal, which "use real numbers" alone would deny being; or a None, which a
    list read from a file holds for a missing number."""
    if array.dtype.kind != "O":
        return ""
    missing = next((index for index, x in np.ndenumerate(array) if x is None), None)
    if missing is not None:
        return (f"; it holds None at index {missing} (a missing number?): put float('nan') there, which a Value "
                "keeps, or leave that sample out")
    exact = next((x for x in array.flat if type(x).__module__ in ("fractions", "decimal")), None)  # (not imported)
    if exact is not None:
        return (f"; {type(exact).__name__} numbers are exact, a Value's are floats: give float(x) of each, "
                "Value(float(x)), or np.array(numbers, dtype=float) of a list (nested too) or array of them")
    other = next((x for x in array.flat if hasattr(x, "data") and hasattr(x, "grad") and not isinstance(x, Value)),
                 None)
    if other is None:
        return ""
    kind = f"{type(other).__module__}.{type(other).__qualname__}"
    return (f"; it holds {kind} objects, another library's Values: make them with tinygrad_edu's Value "
            "(from tinygrad_edu import Value), or give their numbers (.data)")


#: What ``Value.__array__`` says when numpy asks a Value for its numbers (``np.dot(v, w)``, ``np.asarray([v, w])``).
_NOT_AN_ARRAY = ("a Value is not converted to a numpy array implicitly (that would drop its graph); use .data or "
                 ".numpy() for the numbers, or tinygrad_edu operations on the Value (on a list of Values: "
                 "sum(values), functional.stack(values), which keep the graph)")
#: What it says when pandas asks: ``df @ v`` (DataFrame.dot) converts its right operand before any Value method runs,
#: where ``df * v`` and ``series + v`` leave the operation to the Value (``__pandas_priority__``).
_PANDAS_NOT_AN_ARRAY = ("pandas turns a Value into a numpy array here, which would drop its graph: for df @ v (or "
                        "df.dot(v), series @ v) write Value(df) @ v or df.to_numpy() @ v, which keep it, as v @ df, "
                        "df * v and series + v do; to put the numbers into a DataFrame or Series, give it v.data")


#: What a masked array met by a Value hears: numpy.ma reads any object's ``_data`` (a Value's numbers) and ``_mask``.
_MASKED = ("numpy.ma: a masked array and a Value do not mix (its masked numbers would be used, or the Value's graph "
           "dropped); give the Value m.filled(x) or m.compressed() of the masked array m")

#: The start of __array_ufunc__'s refusal of a ufunc that a Value does not support, and of a ufunc's method.
_UNSUPPORTED = "not supported on Values (supported: "
_UNSUPPORTED_METHOD = "is not supported on Values, only calling the ufunc"


def _uneven_split(ary: Value, indices_or_sections: int, axis: int = 0) -> str:
    """What np.split(v, n, axis) says where n does not divide v's length along axis (PyTorch's chunk would not mind);
    its parameters are np.split's, which may be given by name (np.split(ary=v, indices_or_sections=3))."""
    n, length = indices_or_sections, ary.shape[axis]
    return (f"np.split: a Value of shape {ary.shape} cannot be split into {n} equal parts along axis {axis}, of length "
            f"{length}, not a multiple of {n}; np.array_split(v, {n}, axis={axis}) gives parts whose lengths differ by "
            f"at most one, np.split(v, [i, j], axis={axis}) the three parts before index i, from i to j and from j on")


def _split_refusal(name: str, ary: Any, indices_or_sections: Any, axis: Any = 0) -> Exception | None:
    """What np.split or np.array_split (``name``) says, before it runs, of an axis that ``ary`` lacks, or of 0 parts
    (or fewer, or a fraction of one, which numpy takes for 0), where numpy's own words were "tuple index out of
    range", "integer modulo by zero" and "number sections must be larger than 0." (np.split of a list of indices runs
    np.array_split: the error names the function called); None for what numpy says well itself.  Its parameters are
    numpy's, which may be given by name."""
    if not isinstance(ary, Value):  # (a Value among the indices of an array's split: numpy's words stand)
        return None
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):  # (True is not axis 1: as swapaxes)
        return TypeError(f"{name}: axis must be an int, got {type(axis).__name__} {axis!r:.40}")
    dimensions = f"{ary.ndim} dimension{'s' * (ary.ndim != 1)}"
    if not -ary.ndim <= axis < ary.ndim:
        return np.exceptions.AxisError(f"{name}: axis {axis} is out of bounds for a Value of shape {ary.shape} "
                                       f"({dimensions}){'; a number has no axis to split' * (ary.ndim == 0)}")
    sections = indices_or_sections
    if isinstance(sections, (int, float, np.number, np.ndarray)) and np.ndim(sections) == 0 and sections < 1:
        parts = int(sections) if float(sections).is_integer() else sections  # (False: 0; np.int64(-2): -2)
        return ValueError(f"{name}: a Value of shape {ary.shape} cannot be split into {parts} parts along axis "
                          f"{axis}: give the number of parts, at least 1, or a list of the indices to split at")
    return None


def _refused_for_numpy(error: TypeError) -> bool:
    """Whether ``error`` is a Value's refusal to be a numpy array, or numpy's ufunc, inside a numpy function: the
    function the user called (``np.allclose``, ``np.prod``) names itself, not the helper it called."""
    return _NOT_AN_ARRAY in str(error) or _UNSUPPORTED in str(error) or _UNSUPPORTED_METHOD in str(error)


def _own_method_error(refusal: TypeError, method: str) -> TypeError | None:
    """The TypeError a Value's own method ``method`` raised inside numpy's function of that name (``np.reshape(v, (2,
    6 / 2))`` calls ``v.reshape``), if that is what led to ``refusal``: numpy takes any TypeError of the method for a
    cue to convert the Value instead, so the refusal to convert hid the method's error, which names what is wrong."""
    cause = refusal.__context__
    if isinstance(cause, TypeError) and str(cause).startswith(f"{method}:"):
        return cause
    return None


#: numpy functions that answer False to any error converting their inputs: a Value is refused before they run.
_FALSE_ON_ERROR = {np.array_equal, np.array_equiv}
#: numpy's functions that split a Value by its own indexing, whose errors _split_refusal words.
_SPLITS = {np.split, np.array_split}

def _large_integers(array: np.ndarray) -> np.ndarray:
    """Python integers too large for int64 (numpy keeps them as objects) as floats, or an error naming the largest."""
    try:
        return array.astype(np.float64)
    except OverflowError:
        largest = max(abs(x) for x in array.flat)
        # (Python refuses to print an int of more than 4300 digits: one that long is written about 10^N)
        size = f"{len(str(largest))} digits" if largest.bit_length() < 14000 else checks.readable_int(largest)
        raise ValueError(f"Value: an integer of {size} is too large for a float (at most about 1.8e308)") from None


def _shapes(values: tuple[Any, ...]) -> str:
    """The inputs' shapes for an error message, a run of one shape written once with its count (``() ×999``): a join
    of 16,000 Values listed them all, a message of 100,000 characters."""
    runs = ((shape, len(list(run))) for shape, run in itertools.groupby(_data_of(v).shape for v in values))
    return " and ".join(f"{shape} ×{count}" if count > 3 else " and ".join([str(shape)] * count)
                        for shape, count in runs)


#: Where numpy's code and this package's are: frames a traceback need not show again under an error of our own.
_LIBRARY_FOLDERS = tuple(os.path.dirname(os.path.abspath(file)) + os.sep for file in (__file__, np.__file__))


def _helpful_cause(error: BaseException) -> BaseException | None:
    """``error``, to keep as the cause (``raise … from``) of the error naming the op, where it was raised in code of
    the user's (a custom Op's forward or vjp), whose line its traceback shows; None where it was raised in numpy's
    or this package's own code only, whose frames would only repeat its message."""
    frame = error.__traceback__.tb_next if error.__traceback__ is not None else None  # (the first caught it)
    while frame is not None:
        if not frame.tb_frame.f_code.co_filename.startswith(_LIBRARY_FOLDERS):
            return error
        frame = frame.tb_next
    return None


def _param_text(param: Any) -> str:
    """An operation's parameter for an error message, as the drawings write it (``axis=3``, ``key=(:, 0)``), but an
    array of more than one row or a few numbers (an im2col's index arrays) by its shape and dtype, not thousands of
    characters of its numbers over many lines."""
    return printing.param_text(param, _array_param)


def _array_param(array: np.ndarray) -> str:
    """An array among an operation's parameters, in an error message (see :func:`_param_text`)."""
    if array.ndim > 1 or array.size > 8:
        return f"<{array.dtype} array of shape {array.shape}>"
    return printing.param_text(array.tolist())  # (a few numbers as the drawings write them: [0, 2], not array([0, 2]))


def _params_text(params: dict) -> str:
    """``key=…, axis=…`` for an error message (see :func:`_param_text`)."""
    return ", ".join(f"{k}={_param_text(v)}" for k, v in params.items())


def _forward_error(op: Op, values: tuple[Any, ...], params: dict, error: Exception) -> Exception:
    """A readable error for a forward that numpy refused, naming the operation and the shapes; an error of another
    kind than ValueError and OverflowError (a user's forward's KeyError) is ``error`` itself, with a note saying so
    (code catching it keeps working; the traceback shows the user's line)."""
    message = str(error)
    details = _params_text(params)
    if not isinstance(error, ValueError | OverflowError):
        _add_note(error, f"{op.name}: raised by its forward (input shapes {_shapes(values)}"
                         f"{'; ' + details if details else ''})")
        return error
    if message.startswith(f"{op.name}:"):  # the op explained itself (matmul does)
        return ValueError(message)
    if "broadcast" in message:  # (broadcast_to's target shape is a parameter: named with the input's)
        return ValueError(f"{op.name}: shapes {_shapes(values)}{' and ' + details if details else ''} cannot be "
                          f"broadcast together{_flat_against_columns(values)}")
    return ValueError(f"{op.name}: {message} (input shapes {_shapes(values)}{'; ' + details if details else ''})")


def _float_indices(op: Op, error: IndexError, values: tuple[Any, ...]) -> str:
    """For numpy's "arrays used as indices must be of integer (or boolean) type" in a forward of several inputs: the
    engine made each of them floats (an input has a gradient), whatever the integers given; an index array goes by
    name, as a parameter, which keeps its dtype and has no vjp (an Op has one per input).  The Op to build and the
    call, in the forward's own names, for its last input of whole numbers (the index, most likely)."""
    if "must be of integer" not in str(error) or len(values) < 2:
        return ""
    code = getattr(op.forward, "__code__", None)
    names = code.co_varnames[:len(values)] if code is not None and code.co_argcount >= len(values) else ()
    with np.errstate(all="ignore"):  # (inf or NaN among the numbers: no whole number, and no warning)
        whole = [k for k in range(1, len(values)) if np.all(np.mod(values[k], 1) == 0)] or [len(values) - 1]
    if not names:
        return ("; an array given as an input is made a float constant (an input has a gradient): give index arrays "
                "by name, as parameters without a vjp of their own, which keep their integers")
    inputs = [name for k, name in enumerate(names) if k != whole[-1]]
    return (f"; an array given as an input is made a float constant (an input has a gradient): give index arrays by "
            f"name, as parameters without a vjp of their own, which keep their integers: Op({op.name!r}, forward, "
            f"({', '.join(f'vjp_{name}' for name in inputs)},)), then {op.name}({', '.join(inputs)}, "
            f"{names[whole[-1]]}=…)")


def _flat_against_columns(values: tuple[Any, ...]) -> str:
    """For a flat vector ``(n,)`` that met ``(n, k)`` (a bias ``b`` of the seed's ``W·α + b`` after an earlier
    ``(n, 1) + (n,)`` made ``(n, n)``): numpy lines it up with the last axis; how to make it a column."""
    shapes = [_data_of(v).shape for v in values]
    if len(shapes) != 2 or {len(shape) for shape in shapes} != {1, 2}:
        return ""
    flat, rows = sorted(shapes, key=len)
    if flat[0] != rows[0] or rows[1] == flat[0]:
        return ""
    return (f"; numpy lines a flat {flat} up with the last axis of {rows}, not the first: as a column, "
            f"v.reshape(-1, 1); a column and a flat vector together, (n, 1) and (n,), make (n, n) silently, every "
            "entry paired with every other: keep the seed's vectors all columns (n, 1) or all flat (n,)")


def apply(op: Op, *inputs: Any, **params: Any) -> Value:
    """Run ``op`` forward on the inputs' data and, when gradients are wanted, record it in the graph.

    Inputs that are not Values (numbers, arrays) are constants.  Python numbers take the dtype of the first Value
    input, so ``x * 0.5`` keeps a float32 ``x`` in float32, or float64 where a float64 Value or array (or an int64
    one) is among the inputs (numpy's rule: ``np.stack([x32, 0.1, x64])`` holds 0.1 itself).  Arrays among the inputs
    and ``params`` are copied: changing them afterwards cannot change a gradient.  The graph keeps a constant input as
    just its array (see ``Value.parents``).
    """
    try:
        count = len(op.vjps)
    except AttributeError:  # (not an Op: found on this error path, so a good call pays nothing for the test)
        raise TypeError(f"apply: op must be an Op (tinygrad_edu.Op), got {_described(op)}") from None
    if len(inputs) != count:
        raise ops.inputs_error(op, len(inputs), inputs, params)
    if params:
        if op.saving is not None and "saved" in params:
            raise TypeError(f"{op.name}: saved= is not a parameter of an Op with a saving forward: the engine hands "
                            "its vjps what that forward saved under this name")
        params = {name: _own(value) for name, value in params.items()}
    for x in inputs:
        if x.__class__ is not Value:  # a constant among the inputs: made its array (the common case has none)
            return _record(op, _constants(op, inputs), params)
    return _record(op, inputs, params)


def _constants(op: Op, inputs: tuple[Any, ...]) -> tuple[Any, ...]:
    """``op``'s inputs with each constant made its array, Python numbers in the dtype of the first Value, promoted
    with the others' as numpy promotes them (numpy's rule: a number adapts to all it meets, so ``stack([x32, 0.1,
    x64])`` and ``stack([x32, ints, 0.1])`` hold 0.1 in float64, not float32's 0.10000000149)."""
    dtype = None
    for x in inputs:
        if isinstance(x, Value):
            dtype = x._data.dtype
            break
    if dtype is not None and dtype is not _FLOAT64:  # (a float32 Value first: one look at the others)
        for x in inputs:
            other = getattr(getattr(x, "_data", x), "dtype", None)
            if isinstance(other, np.dtype) and other is not dtype and other.kind in "iuf":
                dtype = np.promote_types(dtype, other)  # (an int64 array, a big-endian float64 one: float64)
    return tuple([x if isinstance(x, Value) else _operand(op, x, dtype) for x in inputs])


#: The reductions that take an ``axis``: where one fails, an axis given as a list is named (see _listed_axes).
_REDUCTIONS = (ops.reduce_sum, ops.reduce_mean, ops.reduce_max, ops.reduce_min)


def _record(op: Op, values: tuple[Any, ...], params: dict) -> Value:
    """The forward pass of one operation on Values (and constants' arrays), and its entry in the graph."""
    # the inputs' arrays: one or two (most operations) written out, without a comprehension's frame (Python 3.11)
    if len(values) == 2:
        a, b = values
        arrays: Any = (a if a.__class__ is _ndarray else a._data, b if b.__class__ is _ndarray else b._data)
    elif len(values) == 1:
        arrays = (values[0] if values[0].__class__ is _ndarray else values[0]._data,)
    else:
        arrays = [v if v.__class__ is _ndarray else v._data for v in values]
    saving = op.saving is not None and _recorded(values)  # where recorded, σ computes σ' too (see ops.Op)
    forward: Any = op.saving if saving else op.forward
    anomaly = _anomaly_mode()  # (read once, for the errstate and the check of the output below)
    try:
        if anomaly:
            with np.errstate(all="ignore"):  # the check below names the op; numpy's warning would only echo it
                out = forward(*arrays, **params)
        else:
            out = forward(*arrays, **params) if params else forward(*arrays)  # (no dict built for no params)
    except (ValueError, OverflowError) as error:  # first: numpy's AxisError is a ValueError and an IndexError
        raise _forward_error(op, values, params, error) from _helpful_cause(error)
    except IndexError as error:  # out-of-range indices stay IndexErrors, so iteration over a Value stops
        details = f"; {_params_text(params)}" if params else ""  # (as _forward_error writes them)
        raise IndexError(f"{op.name}: {error} (input shapes {_shapes(values)}{details})"
                         f"{_float_indices(op, error, values)}") from _helpful_cause(error)
    except TypeError as error:  # e.g. reshape(2, "a"), sum(axis=1.0)
        if op in _REDUCTIONS and (listed := _listed_axes(params.get("axis"), op.name)) is not None:
            raise listed from None  # (sum(axis=[0, 1]): found here, where a good call pays nothing for the test)
        details = f"; {_params_text(params)}" if params else ""  # (as _forward_error writes them)
        raise TypeError(f"{op.name}: {error} (input shapes {_shapes(values)}{details})") from _helpful_cause(error)
    except FloatingPointError as error:  # np.errstate(under="raise"): σ(800)'s e⁻⁸⁰⁰ rounding to 0 is no error
        out = _without_underflow(op, error, forward, *arrays, **params)
    except Exception as error:  # a forward's own KeyError, ZeroDivisionError, …: raised as it is, with a note
        _forward_error(op, values, params, error)
        raise
    if saving:
        if out.__class__ is not tuple or len(out) != 2:
            raise TypeError(f"{op.name}: its saving forward must return a pair (out, saved), got "
                            f"{_described(out)}")
        out, saved = out
        params = {**params, "saved": saved}  # handed to the vjps with the params (see _given_params)
    if out.__class__ is not _ndarray or out.dtype not in _FLOAT_DTYPES:  # (reductions give numpy scalars)
        out = _asarray(out) if out.__class__ in _NUMPY_FLOATS else _forward_output(op, out)
    if anomaly and not np.isfinite(out).all():
        raise FloatingPointError(f"{op.name}: the forward output holds NaN or inf (input shapes {_shapes(values)})"
                                 f"{_log_of_a_probability(op, values)}")
    return _result(op, values, params, out)


def _without_underflow(op: Op, error: FloatingPointError, function: Callable[..., Any], *args: Any,
                       **kwargs: Any) -> Any:
    """``function(*args, **kwargs)`` (``op``'s forward or one of its vjps, which raised ``error``) again with
    underflows ignored, where ``op`` is one whose underflows are rounding (``ops.UNDERFLOW_IS_ROUNDING``: e^−|x| far
    out) and ``error`` is numpy's underflow; else ``error`` itself.  Only a FloatingPointError gets here (under a
    caller's errstate that raises): the common call pays nothing."""
    if op not in ops.UNDERFLOW_IS_ROUNDING or not str(error).startswith("underflow"):
        raise error
    with np.errstate(under="ignore"):
        return function(*args, **kwargs)


def _log_of_a_probability(op: Op, values: tuple[Any, ...]) -> str:
    """For ``detect_anomaly``'s error at ln of a probability that rounded to 0 (a softmax's or a sigmoid's output):
    the function that computes the logarithm exactly; else nothing."""
    x = values[0]
    made_by = x._op if op is ops.log and x.__class__ is not np.ndarray and (x._data == 0).any() else None
    if made_by is ops.softmax:
        return ("; ln of a probability that rounded to 0: ln softmax(x) is functional.log_softmax(x), exact for "
                "every x")
    if made_by is ops.sigmoid:
        return "; ln of a probability that rounded to 0: ln σ(x) is -functional.softplus(-x), exact for every x"
    return ""


def _forward_output(op: Op, out: Any) -> np.ndarray:
    """What ``op``'s forward returned, as a float array; what is not real numbers is an error naming ``op``."""
    if isinstance(out, Value):  # (_to_array would take its numbers, and quietly lose the gradient it should get)
        raise TypeError(f"{op.name}: its forward returned a Value, not an array: it computed with a Value given as a "
                        "parameter or kept in its closure, whose gradient an Op cannot follow; give every Value as "
                        "an input, apply(op, x, w), with a vjp for each")
    if isinstance(out, tuple) and any(isinstance(part, (np.ndarray, Value)) for part in out):
        # (numpy would stack them into one array of a new shape, silently)
        raise TypeError(f"{op.name}: its forward returned a tuple of {len(out)}, not one array: an Op has one output; "
                        "for a forward that also returns what its vjps need, (out, saved), give it as saving=")
    try:
        return _to_array(out)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{op.name}: its forward returned {_described(out)}, not real numbers "
                          f"({str(error).removeprefix('Value: ')})") from None


def _recorded(values: tuple[Any, ...]) -> bool:
    """Whether an operation on ``values`` goes into the graph: gradients are wanted and an input needs one."""
    if _grad_enabled():
        for v in values:  # (a loop, not any() of a generator: 0.14 µs against 0.75 µs, on each σ recorded)
            if v.__class__ is not _ndarray and v.requires_grad:
                return True
    return False


def _result(op: Op, values: tuple[Any, ...], params: dict, out: np.ndarray) -> Value:
    """The Value holding ``out``, in the graph if ``_recorded(values)`` (written out here: the hot path)."""
    if _grad_enabled():
        for v in values:
            if v.__class__ is not _ndarray and v.requires_grad:
                return _node(Value, out, True, values, op, params or None)
    # Not recorded, the result is a leaf, which -= changes in place under no_grad: a view (w[0:1], w.T) would write
    # into w's numbers unseen, under a graph recorded from w.  So it gets numbers of its own, laid out as the view's
    # (order "K": numpy then computes with it as with the view, to the bit).  (w[0] += 1 still changes w: Python
    # writes the changed copy back with w[0] = …, which is seen.)  A read-only view (broadcast_to's) is kept: nothing
    # writes into it (-= is refused, as PyTorch refuses it on an expanded tensor), and no copy keeps its zero strides,
    # with which numpy's matmul takes another path than on a copy, to another last bit than the recorded result's.
    # So does an input's own array, which a custom Op's forward may return (a straight-through lambda x: x).
    if out.base is None:
        for v in values:
            if out is (v if v.__class__ is _ndarray else v._data):
                out = out.copy()
                break
    elif out.flags.writeable:
        out = _laid_out_as(out)
    return _node(Value, out, False, (), None, None)


def _laid_out_as(view: np.ndarray) -> np.ndarray:
    """A copy of ``view`` laid out as it is, reversed axes too: numpy computes along a negative stride (``x[::-1]``)
    with other loops than along a positive one, to another last bit (``np.exp`` of −1.19e-7), and order "K" copies
    a reversed axis forwards."""
    reversed_axes = tuple(axis for axis, stride in enumerate(view.strides) if stride < 0)
    if not reversed_axes:
        return view.copy(order="K")
    return np.flip(np.flip(view, reversed_axes).copy(order="K"), reversed_axes)


def _given_params(node: Value) -> dict:
    """The keyword parameters ``node``'s operation was given: its params without what its forward saved for the
    backward pass (``saved``, see ``ops.Op``), which a recorded backward pass computes again on Values."""
    params = node._params or _NO_PARAMS
    if node._op is not None and node._op.saving is not None:
        params = {name: value for name, value in params.items() if name != "saved"}
    return params


def _node(cls: type[Value], data: np.ndarray, requires_grad: bool, parents: tuple[Any, ...], op: Op | None,
          params: dict | None) -> Value:
    """Where a Value is filled in: its data and, for a recorded operation, where it came from (the arithmetic fast
    path, ``_binary``, fills in the same fields itself)."""
    node = _new_value(cls)  # (one statement per field: faster than tuple assignment, and this runs for every node)
    node._data = data
    node.grad = None
    node.requires_grad = requires_grad
    node.label = None
    if len(parents) == 2:  # most operations
        node._first, node._second = parents
        node._rest = ()
    elif len(parents) == 1:  # σ, tanh, exp…: no call of _split (with the walk's case: element-wise chain 0.96×)
        node._first = parents[0]
        node._second = None
        node._rest = ()
    else:
        node._first, node._second, node._rest = _split(parents)
    node._op = op
    node._params = params
    node._order = next(_creation)
    return node


def _reachable(value: Value, memo: dict) -> list[Value]:
    """``value`` and the Values its graph reaches through inputs and Value gradients, but not those in ``memo``
    (already copied by ``copy.deepcopy``), found without recursion."""
    found: dict[int, Value] = {}
    waiting = [value]
    while waiting:
        node = waiting.pop()
        if id(node) in found or id(node) in memo:
            continue
        found[id(node)] = node
        waiting.extend(x for x in (*_inputs(node), node.grad) if isinstance(x, Value))
    return list(found.values())


def _renumbered(copies: list[tuple[Value, Value]]) -> None:
    """New creation numbers for the copies in ``copies``, ``(original, copy)`` pairs (made by copy.copy or
    copy.deepcopy in this process), oldest first, so each stays newer than its inputs.  Sharing the original's
    number, a copy tied with it in the backward walk, whose ties went by identity (memory addresses): the order
    gradients were summed in, and so their last bits, and the player's names changed from run to run.  A copy of a
    stale node keeps its number: it stays stale.  Stale is judged on the original: a copy's inputs may have been
    copied, and numbered afresh, before it (``copy.deepcopy((model, cost))`` copies the model first)."""
    fresh = [twin for original, twin in copies
             if not any(p.__class__ is not np.ndarray and p._order <= original._order for p in _inputs(original))]
    for v in sorted(fresh, key=lambda v: -v._order):
        v._order = next(_creation)


#: What copy.deepcopy returns as it is (its "atomic" types), met in a Value's slots.
_ATOMIC = (type(None), bool, int, float, str)


def _deepcopied_state(packed: Any, memo: dict) -> Any:
    """``copy.deepcopy(packed, memo)`` for the state ``Value.__reduce_ex__`` gives, ``((None, slots), made_here)``:
    each slot's value deep-copied (a number, a string, None or a flag as it is, as copy.deepcopy leaves them), without
    copy.deepcopy's walk through the tuples and the dict around them (28 calls of it per Value, where the slots take
    ~5): a chain of 200,000 Values took 5.9 s to copy, now 3.6 s.  Any other state (a subclass's, a detached
    Value's) goes to copy.deepcopy."""
    if not (packed.__class__ is tuple and len(packed) == 2 and packed[0].__class__ is tuple and len(packed[0]) == 2
            and packed[0][0] is None and packed[0][1].__class__ is dict):
        return copy.deepcopy(packed, memo)
    (_, slots), made = packed
    deepcopy = copy.deepcopy
    return (None, {name: x if x.__class__ in _ATOMIC else deepcopy(x, memo) for name, x in slots.items()}), made


def _split(inputs: tuple[Any, ...]) -> tuple[Any, Any, tuple[Any, ...]]:
    """An operation's inputs as a node keeps them: the first, the second (None where there is none) and the rest."""
    return inputs[0] if inputs else None, inputs[1] if len(inputs) > 1 else None, inputs[2:]


def _made_here() -> tuple[str, int, str]:
    """What a pickled Value carries to tell where its creation number was counted: this process of this run."""
    return "tinygrad_edu.Value", os.getpid(), _RUN


def _constant_input(array: np.ndarray, node: Value) -> Value:
    """A constant input of ``node``, kept in the graph as its array, made a Value: numbered as older than ``node``,
    as every input is (``_creation``)."""
    array.flags.writeable = False  # (the graph's own copy: writing into it would change the gradients unseen)
    constant = _node(Value, array, False, (), None, None)
    constant._order = node._order + 1
    return constant


def _stale(node: Value, parent: Value, where: str, output: Value | None = None) -> ValueError:
    """The error for a graph whose input ``parent`` of ``node`` was changed in place after ``node`` was computed.
    Where the ``output`` walked from was itself computed after that change, the cost is new but reaches a Value
    kept from before it (a recurrent network's hidden state carried into the next chunk, a ``W.T`` made once):
    computing the cost again would not help, so the error says what does."""
    if node._order == parent._order and node._op is not None:  # (only _changed_with numbers a node as its input)
        return _changed_through_detached(node, where)
    name = repr(parent.label) if parent.label else f"an input of shape {parent.shape}"
    advice = ("compute the cost again (a new forward pass) and call backward() on that"
              if output is None or output._order > parent._order else
              "this output was computed after that change, but from a Value kept from before it (a hidden state "
              "carried over from the previous chunk, a W.T made once): compute that Value again after each step, or "
              "cut the graph there with h = h.detach() (truncated backpropagation through time)")
    if _has_detached(parent):  # (h = h.detach(); h *= 0 changed the numbers of the h the cost was computed from)
        advice += ("; if the change was to a Value made by its .detach() (h = h.detach(), then h *= 0 to start a new "
                   "sequence), call backward() before that change, or make a new Value instead: h = h.detach() * 0")
    error = ValueError(f"{where}: the graph is stale: {name} was changed in place (an optimizer's step, "
                       f"load_state_dict, .data = …, or -= or [...] = under no_grad) after {node.op} used it, so the "
                       f"numbers recorded from it are out of date; {advice}")
    error.changed = parent  # type: ignore[attr-defined]  # (the Value changed: a drawing's key names it)
    return error


def _changed_through_detached(node: Value, where: str) -> ValueError:
    """The stale-graph error for a computed Value whose numbers were changed in place through a Value made by its
    ``.detach()`` (``h = x.exp(); d = h.detach(); d *= 0``): they no longer follow from its inputs, so neither a
    graph recorded from it before nor one recorded after can be differentiated (PyTorch's version counter raises)."""
    name = repr(node.label) if node.label else f"a Value of shape {node.shape}"
    error = ValueError(f"{where}: the graph is stale: {name}, computed by {node.op}, was changed in place through a "
                       "Value made by its .detach() (-=, *= or [...] = under no_grad, or d.data *= …), so its numbers "
                       f"no longer follow from its inputs and {node.op}'s derivative would be out of date; call "
                       "backward() before that change (or compute it again: a new forward pass), or make a new Value "
                       "instead: h = h.detach() * 0")
    error.changed = node  # type: ignore[attr-defined]  # (the Value changed: a drawing's key names it)
    return error


def _unflagged(value: Value, where: str) -> ValueError:
    """The error for a Value computed by an operation whose ``requires_grad`` was set to False by hand: only a leaf's
    flag means something (PyTorch refuses the assignment); the walk would silently cut every gradient behind it."""
    name = repr(value.label) if value.label else f"a Value of shape {value.shape}"
    return ValueError(f"{where}: {name} was computed by {value.op}, but its requires_grad was set to False by hand, "
                      "which would cut the gradients of everything it was computed from; only a leaf (a parameter) "
                      "can be frozen, as in PyTorch: set it back to True, and use .detach() for its numbers "
                      "without the graph")


def _unflagged_or_stale(node: Value, parent: Value, where: str, output: Value) -> ValueError:
    """The error for ``node``'s frozen computed input ``parent``; the stale-graph error first if another of its
    inputs was changed in place (the walks test each input in turn: a frozen one before a stale one is seen)."""
    _check_fresh(node, _inputs(node), where, output)
    return _unflagged(parent, where)


def _check_fresh(node: Value, inputs: tuple[Any, ...], where: str, output: Value | None = None) -> None:
    """The stale-graph error if one of ``node``'s inputs was changed in place after ``node`` was computed (the
    backward walk makes the same test inline, on each edge it takes); ``output``: the Value walked from."""
    for parent in inputs:
        if parent.__class__ is not np.ndarray and parent._order <= node._order:
            raise _stale(node, parent, where, output)


def _inputs(node: Value) -> tuple[Any, ...]:
    """The inputs of the operation that made ``node``, in order (Values, and constants as their arrays)."""
    first, second = node._first, node._second
    if second is None:
        return () if first is None else (first,)
    return (first, second, *node._rest) if node._rest else (first, second)


def _binary(op: Op, a: Any, b: Any) -> Value:
    """``a ∘ b`` for the arithmetic operators: ``a`` a Value or, from ``_binary_reflected`` (``2 * x``), a constant's
    array; ``b`` anything (a constant becomes its array: ``_shared_operand``).  Fast path: + − × ÷ of two single
    float64 numbers by Python floats, IEEE double arithmetic like numpy's, so the same bits at a fraction of the cost
    of numpy's 0-d path, with the node filled in right here (``_result`` and ``_node`` written out: a fifth off an
    operation of a scalar graph, which spends most of its time here).  A result that is not a normal finite number
    (or a division by 0) goes to ``_record``: numpy computes it, with its warnings, errors and errstate."""
    ndarray = _ndarray  # (a local name: this function is the hot path)
    x = a if a.__class__ is ndarray else a._data
    # (arrays: the first test; by the op's forward: one set by hand, op.forward = f, is called as it is)
    function = None if x.ndim or x.dtype is not _FLOAT64 else _FLOAT_ARITHMETIC.get(op.forward)
    if b.__class__ is float and function is not None:
        # a Python float (y * 1.001) is its own number: its shared float64 array (see _shared_operand), the node's
        # input, is not read back (its ndim, dtype and item(): the scalar chain by 6.7 % of its instructions)
        number, b = b, _NUMBER_ARRAYS.get(b)
        if b is None:
            b = _shared_operand(op, number, _FLOAT64)
    else:
        if b.__class__ is not Value:  # (a Value subclass stays itself)
            # a float's shared float64 array looked up here first, saving the call (an array times 0.5)
            shared = _NUMBER_ARRAYS.get(b) if b.__class__ is float and x.dtype is _FLOAT64 else None
            b = _shared_operand(op, b, x.dtype) if shared is None else shared
        y = b if b.__class__ is ndarray else b._data
        if function is None or y.ndim or y.dtype is not _FLOAT64:
            return _record(op, (a, b), _NO_PARAMS)
        number = y.item()
    try:
        result = function(float(x), number)  # (float() of a 0-d array: its number, as .item(), without a method lookup)
    except ZeroDivisionError:
        result = math.nan
    if not _NORMAL_MIN <= abs(result) <= _NORMAL_MAX:  # (NaN fails both comparisons)
        return _record(op, (a, b), _NO_PARAMS)
    node = _new_value(Value)  # (one statement per field, as in _node: faster than tuple assignment)
    node._data = _asarray(result)
    node.grad = None
    node.label = None
    if _grad_enabled() and (a.__class__ is not ndarray and a.requires_grad
                            or b.__class__ is not ndarray and b.requires_grad):
        node.requires_grad = True
        node._first = a
        node._second = b
        node._op = op
    else:
        node.requires_grad = False
        node._first = node._second = node._op = None
    node._rest = ()
    node._params = None
    node._order = next(_creation)
    return node


def _binary_reflected(op: Op, b: Value, a: Any) -> Value:
    """``a ∘ b`` for a constant ``a`` on the left (``2 * x``)."""
    return _binary(op, _shared_operand(op, a, b._data.dtype), b)


_FLOAT_ARITHMETIC: dict[Any, Callable[[float, float], float]] = {
    np.add: operator.add, np.subtract: operator.sub, np.multiply: operator.mul, np.divide: operator.truediv}
_FLOAT64 = np.dtype(np.float64)
# The normal float64 numbers, np.finfo(np.float64).tiny to .max: the fast paths' results (forward and backward)
_NORMAL_MIN, _NORMAL_MAX = 2.2250738585072014e-308, 1.7976931348623157e308
# The built-in rules of the product and the sum, for the fast path of the walk backwards: an op whose vjps are
# these very ones (op.vjps set to rules of one's own, checked by ops.Op, are called as they are)
_MUL, _MUL_RULES, _ADD_RULES = ops.mul, ops.mul.vjps, ops.add.vjps
_MUL_BY_FIRST = _MUL_RULES[0]


def _shared_operand(op: Op, x: Any, dtype: np.dtype | None) -> Any:
    """The constant operand of an arithmetic operator, as its array.  A Python number's array (the 1.001 of
    ``y * 1.001``) is made once per number and dtype and shared, read-only, by every use: this saves making an array
    per operation.  The operators always compute new arrays, so no result is a read-only view of a shared number."""
    if x.__class__ is not float and x.__class__ is not int:
        if op is _MUL and x.__class__ is not _ndarray and isinstance(x, np.matrix):
            raise TypeError(_MATRIX_TIMES)
        return _operand(op, x, dtype)  # arrays are never shared: the caller may change them later
    key = x if dtype is _FLOAT64 else (x, dtype)  # (float64's by the number alone: no tuple to build and hash)
    array = _NUMBER_ARRAYS.get(key)
    if array is None:
        array = _operand(op, x, dtype)
        if x and math.isfinite(array):  # not zero (0.0 and -0.0 are the same key), nor one that overflowed in
            # float32: numpy warns (or raises, under np.errstate) about that cast at every use, as it would here
            if len(_NUMBER_ARRAYS) >= 1024:
                _NUMBER_ARRAYS.clear()
            array.flags.writeable = False
            _NUMBER_ARRAYS[key] = array
    return array


_NUMBER_ARRAYS: dict[Any, np.ndarray] = {}  # by number (float64), or by (number, dtype)

#: What ``m * v`` and ``v * m`` say for an np.matrix ``m``: numpy's ``*`` of a matrix is its matrix product.
_MATRIX_TIMES = ("mul: np.matrix * is a matrix product, a Value's * multiplies element by element; give "
                 "np.asarray(m), and write m @ v for the matrix product or np.multiply(m, v) element by element")


def _operand(op: Op, x: Any, dtype: np.dtype | None) -> Any:
    """An input of ``op`` that is not a Value: a constant, kept as its own array (a Value subclass stays itself).
    Python numbers take ``dtype`` (numpy's rule: they adapt, arrays and numpy scalars do not); an array is copied, so
    changing it later cannot change a gradient.  What cannot be a constant is an error naming the operation."""
    if isinstance(x, Value):  # a subclass of Value (the fast paths test for Value itself)
        return x
    if x.__class__ is _ndarray and x.dtype in _FLOAT_DTYPES:  # (the common case, what _to_array keeps as it is)
        return x.copy("K")  # (in x's layout: a product with a transposed constant, A.T @ v, gives numpy's bits)
    try:
        if x.__class__ is float and dtype is not None:
            return np.array(x, dtype)
        weak = x.__class__ in (int, float, bool)
        array = _to_array(x, dtype if weak else None, partner=dtype)
        # copied unless the conversion made a new array: x itself, or a view of another's memory (a memmap, a
        # PyTorch tensor, any ndarray subclass)
        return array.copy() if array is x or not array.flags.owndata else array
    except (TypeError, ValueError) as error:
        raise type(error)(f"{op.name}: cannot use {_described(x)} as an operand "
                          f"({str(error).removeprefix('Value: ')})") from None


_NO_PARAMS: dict = {}
_new_value = object.__new__


def _its_vjp(parents: tuple[Any, ...], parent: Value) -> str:
    """How messages name the vjp for ``parent``: "its vjp", and which input it is for when there are several."""
    if len(parents) < 2:
        return "its vjp"
    places = [str(i) for i, p in enumerate(parents) if p is parent]  # (op(x, x): either vjp, not only the first)
    return f"its vjp for input {places[0]}" if len(places) == 1 else (
        f"its vjp for input {' or '.join(places)} (one Value, given {len(places)} times)")


def _vjp_failed(op: Op, parents: tuple[Any, ...], parent: Value, error: Exception, node: Value) -> NoReturn:
    """A vjp's own TypeError or ValueError (a custom Op's, or numpy's inside it) raised again with the operation and
    the input it is for named in front, as ``_forward_error`` does for a forward, and for a ValueError the shapes of
    ``g`` (the output ``node``'s) and of the inputs, which numpy's own words leave out (``g @ b`` where ``g @ b.T``
    was meant), and for a vjp that cannot be called with the call's keywords (one the forward takes by default), that
    the vjps get those keywords only; one naming the operation as is."""
    if str(error).startswith(f"{op.name}:"):
        try:
            raise error
        finally:  # the error's traceback holds this frame: without the del, a reference cycle that kept the graph of
            del error  # the walk's frames alive after the error was dropped, until the cyclic collector ran
    kind = TypeError if isinstance(error, TypeError) else ValueError
    written = "read-only" in str(error)  # (numpy's words for a write into g, which the walk shares)
    shared = ("; a vjp must not write into its arguments (g, out, the inputs, saved=), which the backward pass "
              "shares with other Values: compute a new array (g * 2 * x, not g *= 2 * x)") if written else ""
    if "memoryview" in str(error):  # (x.data in a vjp: an ordinary pass gives it arrays, whose .data is their buffer)
        shared = ("; an ordinary backward pass gives a vjp numpy arrays, whose .data is a memoryview of their bytes, "
                  "not numbers: use the argument itself (3 * x ** 2, not 3 * x.data ** 2), which create_graph=True "
                  "also records, so that the second derivative is right")
    vjp = op.vjps[next(i for i, p in enumerate(parents) if p is parent)]
    if kind is TypeError and _refuses_call(vjp, (None,) * (2 + len(parents)), node._params or _NO_PARAMS):
        given = ", ".join(_given_params(node)) or "none"
        shared = (f"; a vjp is called as vjp(g, out, *inputs, **params) with the keywords the call gave ({given}), "
                  f"not the forward's defaults: {_vjp_signature(op)}")
    inputs = ", ".join(str(np.shape(_data_of(p))) for p in parents)
    inputs = f"the input has shape {inputs}" if len(parents) == 1 else f"the inputs have shapes {inputs}"
    shapes = "" if written or kind is TypeError else f" (g has shape {node.shape}; {inputs})"
    message = f"{op.name}: {_its_vjp(parents, parent)} raised {type(error).__name__}: {error}{shared}{shapes}"
    raise kind(message) from error


def _name_in_a_note(error: BaseException, op: Op, parents: tuple[Any, ...], parent: Value, node: Value) -> None:
    """A note naming ``op``'s vjp for ``parent`` added to ``error`` (a vjp's own KeyError, ZeroDivisionError, …,
    which the walk raises again as it is, so that code catching it still does): the traceback shows the user's line
    in the vjp, the note which Op's vjp that is."""
    _add_note(error, f"{op.name}: raised by {_its_vjp(parents, parent)} in the backward pass (g has shape "
                     f"{node.shape})")


def _add_note(error: BaseException, note: str) -> None:
    """``error.add_note(note)``; Python 3.10 has no ``add_note``: there the note is kept where 3.11 keeps it, in
    ``__notes__``, which 3.10's own traceback does not print."""
    if sys.version_info >= (3, 11):
        error.add_note(note)
    else:
        error.__notes__ = [*getattr(error, "__notes__", ()), note]  # type: ignore[attr-defined]


#: The words of :func:`_number_in_a_vjp`'s refusal that the error naming the Op looks for: that refusal says all there
#: is to say (the general advice added to other failures, "not on .data", would read as a ban on the print it advises)
_LEFT_THE_GRAPH = "grad(grad(f)), hessian and create_graph=True run the vjp on Values"


def _number_in_a_vjp(call: str) -> TypeError:
    """A Python number (or array) made of a Value that requires a gradient, by ``call``, inside a vjp that a recorded
    pass runs (see ``_RECORDED_VJP``): refused, where the pass would take it as a constant.  What it says works at
    both orders, on the arrays of an ordinary pass too: a comparison (a plain boolean), and a Value's text."""
    numbers = write_instead.WHOLE_NUMBER_IN_A_VJP.get(call)
    whole = (f"; {call} is flat between whole numbers (its derivative is 0), so a constant is right for it: take it "
             f"from the numbers, {numbers}, which works at both orders (an ordinary pass hands the vjp arrays, whose "
             ".data numpy reads as the array)") if numbers else ""
    return TypeError(f"{call}: {_LEFT_THE_GRAPH}, and a Python number made of one that requires a gradient (float(x), "
                     "x.item(), math.cos(x), x.numpy()) leaves the graph, which would differentiate it as a constant: "
                     "a silent 0 in this derivative's derivative; compute with the Value (math.cos as an Op of its "
                     "own); to decide, compare it (if x > 0:, g * (x > 0)); to print it, print(x) or f'{x:.4g}'"
                     + whole)


def _vjp_signature(op: Op) -> str:
    """What to give a vjp that refused the call's keywords (lacking one, or its default): the forward's parameters
    with their defaults, ``vjp(g, out, x, k=2.0)`` (and ``saved=None`` with a saving forward)."""
    try:
        written = str(inspect.signature(op.forward))[1:-1]
    except (TypeError, ValueError):  # (a builtin without a signature)
        return "give each vjp the forward's keyword parameters, with its defaults"
    saved = ", saved=None" if op.saving is not None else ""
    return f"give each vjp the forward's keyword parameters, with its defaults: vjp(g, out, {written}{saved})"


def _fit(grad: Any, parent: Value, op: Op, parents: tuple[Any, ...], recorded: bool = False) -> Any:
    """A vjp's result made into ∂C/∂parent: summed back from a broadcast shape (``ops.sum_to``), of the parent's
    dtype, and an array of real numbers (a Value in a ``recorded`` pass, ``create_graph``); anything else is an error
    naming the operation and, among its inputs ``parents``, the one whose vjp is at fault.

    Integers: a Python int is a number written in the vjp (``return 0`` for a flat piece), taken as that number; a
    numpy integer or boolean, an array or a single one (np.int64 from a count, np.True_, ``x > 0``), and a Python
    bool (``x.item() > 0``), were computed from integers or truth values and hold none of g's fractions: refused."""
    if not (recorded and isinstance(grad, Value)):
        array = np.asarray(grad) if isinstance(grad, (np.ndarray, np.number, np.bool_, float, int)) else None
        if array is None or array.dtype.kind not in "biuf":  # (a Value in an ordinary pass, None, complex, …)
            its = _its_vjp(parents, parent)
            dtype = f" of dtype {grad.dtype}" if hasattr(grad, "dtype") else ""
            why = ("; in an ordinary backward pass a vjp is given arrays, so it computed with a Value kept in its "
                   "closure or given as a parameter, whose gradient an Op cannot follow: give every Value as an input, "
                   "apply(op, x, w), with a vjp for each") if isinstance(grad, Value) else ""  # (as _forward_output)
            if grad is None:  # (a function that only looks at g, as a PyTorch hook returning None leaves it)
                why = ": a vjp returns g times the local derivative, g itself for one that only looks at g (a hook)"
            raise TypeError(f"{op.name}: {its} returned {type(grad).__name__}{dtype}, not an array of real "
                            f"gradients{why}")
        if array.dtype.kind in "biu" and grad.__class__ is not int:  # (g is floats: integers lost its fractions)
            raise _integer_gradient(op, parents, parent, array.dtype)
        grad = array
    shape = parent._data.shape
    if grad.shape != shape:
        returned = grad.shape
        if grad.ndim >= len(shape):
            grad = ops.sum_to(grad, shape)  # a shape that broadcasting cannot have made stays wrong: refused below
            if not isinstance(grad, Value):
                grad = np.asarray(grad)  # a sum over every axis gives a numpy scalar
        if grad.shape != shape:
            its = _its_vjp(parents, parent)
            raise ValueError(f"{op.name}: {its} returned a gradient of shape {returned} for an input of shape {shape}")
    if grad.dtype != parent._data.dtype:
        grad = grad.astype(parent._data.dtype)
    if _anomaly_mode() and not np.isfinite(_data_of(grad)).all():
        raise FloatingPointError(f"{op.name}: the backward gradient holds NaN or inf "
                                 f"(input shape {parent._data.shape}){_root_of_zero(op, parents, parent)}")
    return grad


def _integer_gradient(op: Op, parents: tuple[Any, ...], parent: Value, dtype: np.dtype) -> TypeError:
    """The refusal of a vjp's result of integers or booleans (see ``_fit``)."""
    return TypeError(f"{op.name}: {_its_vjp(parents, parent)} returned {dtype} for an input of dtype "
                     f"{parent._data.dtype}: integers or booleans hold no fractions of g; return g times the local "
                     "derivative in floats (g * (x > 0), not (x > 0) alone; no .astype(int); g * 0.0 where it is "
                     "flat); only a Python int written in the vjp (return 0, outside create_graph=True) is taken as "
                     "that number, not a numpy integer or a bool")


def _root_of_zero(op: Op, parents: tuple[Any, ...], parent: Value) -> str:
    """For ``detect_anomaly``'s error at the gradient of √x (or x ** p, 0 < p < 1) where x = 0, whose slope is
    infinite there (a distance ‖xᵢ − xⱼ‖ on a distance matrix's diagonal): why, and what to write; else nothing."""
    if parent is not parents[0] or not (op is ops.sqrt or op is ops.power and (
            (exponent := _data_of(parents[1])).size and ((exponent > 0) & (exponent < 1)).all())):
        return ""
    zeros = int(np.count_nonzero(parent._data == 0))
    if not zeros:
        return ""
    return (f"; {zeros} of its {parent._data.size} inputs {'is' if zeros == 1 else 'are'} 0, where √x "
            "(x ** p, p < 1) has the slope +inf (0·inf = NaN on a distance matrix's diagonal); if x can be 0, write "
            "(x + 1e-30).sqrt() or (x + 1e-30) ** p, whose slope there is finite")


def _differentiable_vjp(op: Op, vjp: Any, g: Value, node: Value, params: dict, parent: Value,
                        inputs: tuple[Any, ...]) -> Value:
    """The vjp for ``parent`` evaluated on Values (``create_graph=True``), given ``node``'s ``inputs`` (found once per
    node: for each input again, a join of n inputs took time n²), constants as their arrays, as an ordinary pass
    hands them (``g`` is a Value, so what the vjp computes from it is): its result must itself be a recorded Value."""
    token = _RECORDED_VJP.set(op)
    try:
        grad = vjp(g, node, *inputs, **params)
    except FloatingPointError as error:  # detect_anomaly, in an operation of the vjp: name this op, not that one
        if not _anomaly_mode():
            raise
        raise FloatingPointError(f"{op.name}: the backward gradient holds NaN or inf (input shape {parent.shape}; "
                                 f"found in {_its_vjp(inputs, parent)}, create_graph=True: {error})"
                                 f"{_root_of_zero(op, inputs, parent)}") from None
    except (TypeError, AttributeError) as error:
        if _refuses_call(vjp, (g, node, *inputs), params):  # (a parameter it does not take: Values are not at fault)
            raise
        its = _its_vjp(inputs, parent)
        if _LEFT_THE_GRAPH in str(error):  # (float(x) in it: that refusal says what to write)
            raise TypeError(f"{op.name}: {its} cannot be differentiated: {error}") from _helpful_cause(error)
        unsaved = " with saved=None (it computes what its saving forward kept from the inputs)" if op.saving else ""
        if any(i.__class__ is np.ndarray for i in inputs):  # (as an ordinary pass: a Value's method fails on both)
            unsaved += ", a constant input as its array, as an ordinary pass gives it,"
        raise TypeError(f"{op.name}: {its} cannot be differentiated: create_graph=True runs it on Values{unsaved} and "
                        f"it failed ({type(error).__name__}: {error}); write it with operators, array methods and "
                        "Ops (a function Values lack, such as np.cos, as an Op of its own; not on .data, which "
                        "create_graph=True would take as a constant)") from _helpful_cause(error)
    finally:
        _RECORDED_VJP.reset(token)
    if not isinstance(grad, Value):
        its = _its_vjp(inputs, parent)
        if isinstance(grad, (bool, np.bool_, np.integer)) or isinstance(grad, np.ndarray) and grad.dtype.kind in "biu":
            raise _integer_gradient(op, inputs, parent, np.asarray(grad).dtype)  # (x > 0 of a Value: g forgotten)
        if not isinstance(grad, (np.ndarray, np.generic)):  # (a number or a list: nothing computed from g)
            raise TypeError(f"{op.name}: {its} returned {type(grad).__name__} on Values, not a Value: a vjp returns "
                            "g times the local derivative, computed from g (g * 2.0, not 2.0), with operators, "
                            "array methods and Ops")
        raise TypeError(f"{op.name}: {its} returned {type(grad).__name__} on Values, not a Value: it computes on "
                        "raw arrays, so create_graph=True cannot differentiate it again; write it with operators, "
                        "array methods and Ops")
    return grad


def _refuses_call(function: Any, args: tuple[Any, ...], kwargs: dict) -> bool:
    """Whether ``function``'s signature refuses ``function(*args, **kwargs)`` (False where it cannot be read)."""
    try:
        inspect.signature(function).bind(*args, **kwargs)
    except TypeError:
        return True
    except ValueError:  # (a builtin without a signature)
        return False
    return False


def _set_data(value: Value, numbers: Any) -> None:
    """``v.data = numbers``: new numbers for a leaf, taken as Value() takes them, except that a Python number keeps
    v's dtype and a float32 or float64 array is used as it is, not copied (PyTorch's ``p.data = t``).  micrograd's
    update ``p.data += -lr * p.grad`` changes the array in place, then assigns it: either way the leaf's numbers are
    new, so a graph recorded from the old ones is stale and its backward raises, as after ``w -= …`` under no_grad.
    Numbers of another shape leave no ``.grad``: the old one was of the old shape."""
    if value._op is not None:
        raise ValueError(f"Value.data: this Value was computed by {value._op.name}, so its numbers follow from its "
                         "inputs; change a leaf's numbers (a parameter), or assign to a Value made by .detach()")
    weak = numbers.__class__ in (int, float, bool)
    try:
        numbers = _to_array(numbers, value._data.dtype if weak else None)  # (a float array comes back as it is)
    except (TypeError, ValueError) as error:
        raise type(error)(f"Value.data: {str(error).removeprefix('Value: ')}") from None
    value._data = numbers
    grad = value.grad
    if getattr(grad, "shape", numbers.shape) != numbers.shape:  # the old numbers' gradient fits no new shape (the
        value.grad = None  # repr showed data=0.3, grad=[[-0.0005]], and an optimizer's step blamed the gradient)
    elif grad.__class__ is np.ndarray and grad.dtype != numbers.dtype:  # a gradient has its Value's dtype (as
        value.grad = grad.astype(numbers.dtype)  # model.float() and load_state_dict convert it)
    value._order = next(_creation)  # new numbers: graphs recorded from the old ones are stale (_creation)
    if _DETACHED_FROM:  # (d.data *= 0 on a Value made by detach() changed the numbers it shares, then assigned them;
        _changed_with(value)  # a fast path: while no Value was detached, no call)


class _Shown(str):
    """The text of ``f"{x:.3f}"``, of a Value ``x`` that requires a gradient, inside a vjp that a recorded pass runs:
    text for a print, which refuses to be read back as a number there, ``float(f"{x:.3f}")``, as ``float(x)`` is
    refused (``_number_in_a_vjp``): the number would be a constant to the pass, a silent 0 at the next order.  The
    text that str's methods make of it (``.strip()``, ``.replace(",", "")``, ``[1:]``, ``+``, ``.split()``'s parts)
    stays _Shown; ``complex(text)``, ``Decimal(text)`` and ``Fraction(text)`` cannot be refused (they parse a str's
    subclass without asking it), nor ``str(text)``, ``"".join(text)`` or ``text.encode()`` (plain copies, bytes that
    ``float`` parses): the README says so where custom Ops are explained."""

    def __float__(self) -> float:
        return float(self._read("float"))

    def __int__(self) -> int:
        return int(self._read("int"))

    def _read(self, where: str) -> str:
        if _RECORDED_VJP.get() is not None:
            raise _number_in_a_vjp(f"{where}(f'{{x:…}}')")
        return str(self)  # (outside the vjp, later: read as the text it is)


def _kept_shown(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` of str on a _Shown text, its result (a text, or a list or tuple of texts) _Shown too."""
    def kept(self: _Shown, *args: Any, **kwargs: Any) -> Any:
        result = method(self, *args, **kwargs)
        if isinstance(result, (list, tuple)):  # (split, partition: every part a text)
            return type(result)(map(_Shown, result))
        return _Shown(result) if isinstance(result, str) else result
    return functools.wraps(method)(kept)


for _name in ("capitalize", "casefold", "center", "expandtabs", "ljust", "lower", "lstrip", "partition",
              "removeprefix", "removesuffix", "replace", "rjust", "rpartition", "rsplit", "rstrip", "split",
              "splitlines", "strip", "swapcase", "title", "translate", "upper", "zfill", "__getitem__", "__add__",
              "__mul__", "__rmul__", "__mod__", "__format__"):
    setattr(_Shown, _name, _kept_shown(getattr(str, _name)))
_Shown.__radd__ = lambda self, other: _Shown(other + str(self))  # type: ignore[attr-defined]  # ("x" + text)
del _name  # (the loop's name: not one of the module's)


#: micrograd's ``Value(data, _children, _op)``, by which its operations make their results: what it is here.
_MICROGRAD_CHILDREN = ("micrograd's Value(data, _children, _op) is how its operations make their results; here an "
                       "operation records its inputs itself: write the operation on Values (a * b, x.tanh()), or an "
                       "Op of your own for a new one, Op(name, forward, vjp) (from tinygrad_edu import Op); a Value "
                       "made by hand is a leaf, Value(data, label=...)")


def _requires_grad_flag(requires_grad: Any) -> bool:
    """``Value``'s ``requires_grad`` given as something other than True or False: as a bool if numpy's, else a
    TypeError; micrograd's children in its place (``Value(data, (a, b), '+')``) say what to write here."""
    if isinstance(requires_grad, (tuple, list, set, frozenset)):
        raise TypeError(f"Value: requires_grad must be True or False, got {type(requires_grad).__name__} "
                        f"{requires_grad!r:.60}: {_MICROGRAD_CHILDREN}")
    return checks.flag(requires_grad, "requires_grad", "Value")


class Value:
    """A number or a numpy array that remembers how it was computed, so that it can backpropagate.

    ``Value(data, requires_grad=True, label=None)``: ``data`` is a number, a nested list or a numpy array, kept
    as float64 (float32 arrays stay float32).  After ``backward()`` each Value on the way holds ``.grad``,
    the derivative of the output with respect to it, of the same shape as ``.data``.

    ``v += x`` (and ``-= *= /= **= @=``) is ``v = v + x``, a new Value, except under ``no_grad()`` on a leaf, which
    changes its own numbers (PyTorch's update ``with no_grad(): w -= lr * w.grad``), as ``v[i] = x`` does there
    (refused elsewhere).  A graph recorded from the old numbers is then stale: its ``backward()`` raises; so it is
    after ``v.data = x`` (a leaf's new numbers; micrograd's update ``p.data += -lr * p.grad``).

    Comparisons (``v == w``, ``v < 0``) compare the numbers element by element, as numpy's do, and give a numpy
    boolean array (no gradient).  A Value hashes by identity, as a PyTorch tensor does: as a dict key or in a set it
    is found by being the same Value, not an equal one.  ``v in a_list`` (and ``list.index``, ``sorted``, ``max``
    of a list) compares with ``==``/``<``, which for Values of several numbers is ambiguous (numpy's ValueError):
    test ``any(v is w for w in a_list)``, or sort by a key (``key=lambda v: v.item()``).
    """

    # The inputs of the operation that made a Value are kept in slots, the first two in slots of their own, not in
    # a tuple: a tuple per node would double the objects that Python's cyclic garbage collector walks again and
    # again while a graph grows (measured: the 1,000,000-op chain spent twice as long in the collector).
    # _op comes first: pickle, which saves the slots in this order, meets an operation's refusal (Op.__reduce__) before
    # it recurses into the inputs (and a gradient's graph) of a deep graph, to Python's recursion limit.
    # (a dict: its strings are the public slots' docstrings, which help(Value) shows)
    __slots__ = {"_op": None, "_data": None,
                 "grad": "The derivative of the output of backward() with respect to this Value, of its shape (None "
                         "before any): a leaf's adds up until zero_grad(); a Value with backward(create_graph=True).",
                 "requires_grad": "Whether backward() gives this Value a gradient: False for a constant; a computed "
                                  "Value's is True where one of its inputs' is (False under no_grad).",
                 "label": "The name drawings and reprs show for this Value (``W^1``, ``z``), or None.",
                 "_first": None, "_second": None, "_rest": None, "_params": None, "_order": None, "__weakref__": None}

    # (a repr pasted back, Value(data=2.0, grad=None), and torch.tensor's dtype=: said what to write, not Python's
    # bare "unexpected keyword"; the operations make their Values without __init__, so they pay nothing for it)
    @checks.pytorch_keywords(
        {"grad": "a Value's repr shows grad=, which backward() fills in: give the numbers alone, Value(data, "
                 "label=...) (or set v.grad = array afterwards)",
         "shape": "a Value's repr shows shape= (and grad=, which backward() fills in); the shape is the numbers' "
                  "own: Value(np.zeros(shape)) for a Value of zeros of that shape"},
        dtype="the dtype is the numbers' own here: Value(np.asarray(data, dtype=np.float32)), or "
              "Value(data).astype(np.float32) (float32 or float64)",
        **dict.fromkeys(("_children", "_op"), _MICROGRAD_CHILDREN))
    def __init__(self, data: Any, requires_grad: bool = True, label: str | None = None) -> None:
        self.requires_grad: bool = requires_grad if requires_grad.__class__ is bool else _requires_grad_flag(
            requires_grad)  # (a fast path: True or False itself needs no call to check it)
        if not (label is None or isinstance(label, (str, int, float, np.number))):
            # (a number is shown as text; a list failed later, in a drawing, naming nothing)
            raise TypeError(f"Value: label must be a string (or a number, shown as text) or None, got "
                            f"{type(label).__name__} {label!r:.40}")
        if requires_grad and isinstance(data, Value) and data.requires_grad:
            raise TypeError(f"Value: data is a Value that requires a gradient (shape {data.shape}): a new leaf of "
                            "its numbers would stop the gradients that should reach it; use it as it is, or "
                            ".detach() (or Value(v, requires_grad=False)) for its numbers without the graph")
        array = _to_array(data)
        # copied unless the array is new: a list's, or an integer array's numbers as floats (a second copy of a batch)
        new = array is not data and (isinstance(data, (list, tuple)) or (  # (a fast path: a float array is not new,
            data.__class__ is _ndarray and array.dtype != data.dtype))  # decided without comparing dtypes)
        self._data: np.ndarray = array if new else np.array(array, copy=True)
        self.grad: Any = None  # an array of data's shape; a Value after backward(create_graph=True)
        self.label: str | None = label
        self._first: Any = None  # the inputs (see __slots__): Values, and a constant input as just its array
        self._second: Any = None
        self._rest: tuple[Any, ...] = ()
        self._op: Op | None = None
        self._params: dict | None = None
        self._order: int = next(_creation)

    # --- introspection -------------------------------------------------------------------------------------------
    # The numbers are kept in the slot _data, which the engine reads; ``data`` is a property so that assigning it
    # is seen (_set_data).  (Reading it through attrgetter takes ~40 ns against the slot's ~10.)
    if TYPE_CHECKING:  # (type checkers see no types in property(...))
        @property
        def data(self) -> np.ndarray: ...
        @data.setter
        def data(self, numbers: Any) -> None: ...
    else:
        data = property(operator.attrgetter("_data"), _set_data,
                        doc="The numbers, a numpy array: float64, or float32 if made from a float32 array.  "
                            "Shared, not copied: ``v.data = a`` with a float array ``a`` keeps ``a`` itself (as "
                            "PyTorch's ``p.data = t``), so a later step that changes ``v`` in place changes ``a``, "
                            "and a change of ``a`` changes ``v``; writes into the array (``v.data[0] = 1``, "
                            "``v.data.fill(0)``) are not seen by the graphs recorded from ``v`` (``backward``).  "
                            "Numbers of another shape set ``.grad`` to None (it was a gradient of the old shape).")

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of ``data``."""
        return self._data.shape

    @property
    def ndim(self) -> int:
        """The number of dimensions of ``data``."""
        return self._data.ndim

    @property
    def size(self) -> int:
        """The number of elements of ``data``, numpy's (PyTorch's ``x.numel()``): an int, not PyTorch's method, so
        ``v.size(0)`` fails with Python's "'int' object is not callable"; PyTorch's ``x.size(0)`` is ``v.shape[0]``
        here, and its ``x.size()`` is ``v.shape``."""
        return self._data.size

    @property
    def dtype(self) -> np.dtype:
        """float64, or float32 if made from a float32 array."""
        return self._data.dtype

    @property
    def op(self) -> str | None:
        """Name of the operation that made this Value (``"mul"``, ``"matmul"``, …); None for a leaf."""
        return None if self._op is None else self._op.name

    @property
    def op_params(self) -> dict[str, Any]:
        """The keyword parameters of that operation (``{'axis': 0, 'keepdims': False}``): copies (an index's arrays,
        a custom Op's lists too), so changing what this returns cannot change the graph."""
        return {name: _own(value) for name, value in _given_params(self).items()}

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Values this one was computed from.  The graph keeps a constant input (the 1.001 of ``y * 1.001``) as
        just its array, which saves a Value per operation; here it becomes a Value, once (later looks see the same),
        whose numbers are read-only: they are the graph's own."""
        inputs = _inputs(self)
        if any(p.__class__ is np.ndarray for p in inputs):
            inputs = tuple(_constant_input(p, self) if p.__class__ is np.ndarray else p for p in inputs)
            self._first, self._second, self._rest = _split(inputs)
        return inputs

    def item(self) -> float:
        """The single number held by a Value of size 1 (outside the graph, as ``float(v)`` is)."""
        if self._data.size != 1:
            raise ValueError(f"item: only a Value of size 1 has one number; this one has shape {self.shape}")
        if self.requires_grad and _RECORDED_VJP.get() is not None:
            raise _number_in_a_vjp("x.item()")
        return self._data.item()

    def numpy(self) -> np.ndarray:
        """The data as a numpy array (shared, not copied; outside the graph, as ``float(v)`` is)."""
        if self.requires_grad and _RECORDED_VJP.get() is not None:
            raise _number_in_a_vjp("x.numpy()")
        return self._data

    # A creation number only means something in the process that made it (each process counts from 0 again, and a
    # fork's child counts on from its parent's count), so a pickled Value carries its process, and one unpickled in
    # another process (or pickled without it: before this rule, or by a subclass's own rule) is numbered afresh: it
    # is then older than every node made from it there.  Only leaves can be pickled (an operation refuses).  Copies
    # in the same process (copy.deepcopy, copy.copy) are numbered afresh in the order of the graph they copy
    # (_renumbered): a copy sharing its original's number tied with it in the walk, which broke ties by identity.
    def __reduce_ex__(self, protocol: Any) -> Any:
        reduced = super().__reduce_ex__(max(protocol, 2))  # (protocols 0 and 1 refuse __slots__)
        assert isinstance(reduced, tuple)  # (a string names a global: not for instances)
        if len(reduced) < 3 or type(self).__setstate__ is not Value.__setstate__:
            return reduced  # a subclass that pickles its own way
        constructor, arguments, state, *rest = reduced
        shared = _shared_leaves(self) if _DETACHED_FROM else ()  # (a Value made by detach(): the leaves it shares)
        return (constructor, arguments, (state, _made_here(), *([shared] if shared else [])), *rest)

    def __setstate__(self, packed: Any) -> None:
        made = _made_here()
        tagged = isinstance(packed, tuple) and len(packed) in (2, 3) and isinstance(packed[1], tuple) and (
            packed[1][:1] == made[:1])
        state = packed[0] if tagged else packed
        attributes, slots = state if isinstance(state, tuple) else (state, {})
        for name, value in {**(attributes or {}), **slots}.items():
            if name == "_parents":  # pickled before the inputs were kept in slots of their own (a leaf's are ())
                self._first, self._second, self._rest = _split(tuple(value))
                continue
            setattr(self, "_data" if name == "data" else name, value)  # (pickled before data was a property)
        if not (tagged and packed[1] == made):
            self._order = next(_creation)
        if tagged and len(packed) == 3:  # made by detach() from these leaves, copied or pickled with it
            _link_detached(self, tuple(weakref.ref(original) for original in packed[2]))

    def __deepcopy__(self, memo: dict) -> Value:
        """``copy.deepcopy``: every Value of the graph (inputs and Value gradients, found by a loop) is made first,
        then filled in from the state pickle would take, so copying a deep graph does not recurse into it (Python's
        own walk of a chain of 100 operations exceeded its recursion limit)."""
        made = []
        for node in _reachable(self, memo):
            constructor, arguments, *state = node.__reduce_ex__(4)
            memo[id(node)] = twin = constructor(*arguments)
            made.append((node, twin, state[0] if state else None))
        for _, twin, state in made:  # its inputs and gradient are in memo now: copy.deepcopy goes no deeper
            if state is not None:
                twin.__setstate__(_deepcopied_state(state, memo))
        if _DETACHED_FROM:
            _link_detached_copies(made, memo)
        _renumbered([(node, twin) for node, twin, _ in made])
        return memo[id(self)]

    def __copy__(self) -> Value:
        """``copy.copy``: the same inputs, numbers and gradient (shared), under a creation number of its own."""
        constructor, arguments, *state = self.__reduce_ex__(4)  # (as __deepcopy__, without copying the state)
        twin = constructor(*arguments)
        if state and state[0] is not None:
            twin.__setstate__(state[0])
        _renumbered([(self, twin)])
        return twin

    def __dir__(self) -> list[str]:
        """Its attributes, without other libraries' names that are only there to say what to write
        (``write_instead.WRITE_INSTEAD``), nor ``as_integer_ratio`` and ``_mask``, which are there only to refuse
        ``statistics.mean`` and ``numpy.ma`` by name (tab completion offers nothing that always raises)."""
        return [name for name in checks.present(self, super().__dir__()) if name not in ("as_integer_ratio", "_mask")]

    def detach(self) -> Value:
        """The same data as a constant: no parents, no gradient.  The numbers are shared, as in PyTorch: a change
        in place of one changes the other.  A change of the detached Value under ``no_grad`` (``h = h.detach()``,
        then ``h *= 0`` to start a new sequence, or micrograd's ``h.data *= 0``) makes the graphs recorded from this
        one stale, as PyTorch's shared version counter does: their backward raises, where it would use the changed
        numbers; a change of this one is unseen by the graphs recorded from the detached Value (see ``backward``)."""
        detached = _node(Value, self._data, False, (), None, None)
        earlier = _DETACHED_FROM.get(id(self))  # (a detached Value detached again: h.detach().detach() shares h's)
        _link_detached(detached, (weakref.ref(self), *(earlier[0] if earlier is not None else ())))
        return detached

    def astype(self, dtype: Any) -> Value:
        """The same numbers in another float dtype (float32 or float64); the gradient is converted back.  A byte
        order of its own (``'>f8'``, big-endian float64) is taken for the native one: the same numbers."""
        try:
            understood = np.dtype(dtype)
        except TypeError:  # numpy's "data type 'foo' not understood"
            raise TypeError(f"astype: a Value holds float32 or float64, not {dtype!r:.40}") from None
        if understood.kind == "f" and not understood.isnative:  # ('>f8' on a little-endian machine)
            understood = understood.newbyteorder("=")
        if understood not in _FLOAT_DTYPES:
            raise TypeError(f"astype: a Value holds float32 or float64, not {understood}")
        dtype = understood
        return apply(ops.astype, self, dtype=dtype)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the accumulated gradient: ``grad`` becomes None, or with ``set_to_none=False`` (as in PyTorch) an
        array of zeros where there was a gradient."""
        checks.flag(set_to_none, "set_to_none", "zero_grad")
        self.grad = None if set_to_none or self.grad is None else np.zeros_like(self._data)

    def __float__(self) -> float:
        """``float(v)`` of a single number: a Python float, outside the graph (as ``v.item()``; ``int(v)`` and
        ``round(v)`` too, and the ``math`` module's functions, which call this).  Fine for deciding
        (``if float(cost) < tol``); what is computed from it is a constant to ``backward``: ``x * math.exp(x)`` gets
        the derivative ``e^x``, silently, where ``x * x.exp()`` gets ``(1 + x)e^x``, as in PyTorch.
        ``check_gradients`` finds such a slip.  Inside a vjp that ``backward(create_graph=True)`` runs on Values it
        is refused for a Value that requires a gradient (``math.cos(x)`` in a custom Op's rule): the recorded pass
        would take the number for a constant, a silent 0 in the derivative of that derivative."""
        return float(self._number("float"))

    def __int__(self) -> int:
        """``int(v)`` of a single number, truncated toward 0 as Python's ``int(2.7)`` is (PyTorch's ``int(t)`` too);
        outside the graph, as ``float(v)`` is."""
        return int(self._integral("int"))

    def __complex__(self) -> complex:
        """``complex(v)`` of a single number; outside the graph, as ``float(v)`` is."""
        return complex(self._number("complex"))

    def as_integer_ratio(self) -> NoReturn:
        """Refused: what ``statistics.mean`` (``variance``, ``stdev``, ``harmonic_mean``) asks of each number, for an
        exact fraction outside the graph; its own error did not say what to write."""
        raise TypeError("statistics.mean (and variance, stdev, harmonic_mean) computes with exact fractions, outside "
                        "the graph, and a Value is none (as_integer_ratio); write sum(values) / len(values) for a mean "
                        "with a gradient, or statistics.mean(v.item() for v in values) for the number alone")

    def __trunc__(self) -> int:
        """``math.trunc(v)``, as ``int(v)``."""
        return int(self._integral("trunc"))

    def __floor__(self) -> int:
        """``math.floor(v)``: the largest int ≤ v; NaN and ±inf are refused as ``int(v)`` refuses them."""
        return math.floor(self._integral("floor"))

    def __ceil__(self) -> int:
        """``math.ceil(v)``: the smallest int ≥ v; NaN and ±inf are refused as ``int(v)`` refuses them."""
        return math.ceil(self._integral("ceil"))

    @overload
    def __round__(self, ndigits: None = None) -> int: ...
    @overload
    def __round__(self, ndigits: int) -> float: ...
    def __round__(self, ndigits: int | None = None) -> float | int:
        """``round(v)`` and ``round(v, 2)`` of a single number, as Python rounds a float (halves to even); outside
        the graph, as ``float(v)`` is."""
        return round(self._number("round") if ndigits is not None else self._integral("round"), ndigits)

    def _integral(self, where: str) -> float:
        """The single number, for a conversion to an int: NaN and ±inf have none, an error naming ``where`` (Python's
        own, "cannot convert float NaN to integer", named no Value, and inf's was an OverflowError)."""
        number = self._number(where)
        if not math.isfinite(number):
            raise ValueError(f"{where}: this Value holds {number}, which is no integer; test it first "
                             f"(math.isfinite(v), np.isfinite(v.data))")
        return number

    def _number(self, where: str) -> float:
        """The single number, for Python's conversions; a Value of any other size is an error naming ``where``, and
        so is one that requires a gradient inside a vjp of a recorded pass (``_RECORDED_VJP``)."""
        if self._data.size != 1:
            raise TypeError(f"{where}: only a Value of size 1 is one number; this one has shape {self.shape} "
                            "(take one element, or convert its .data)")
        if self.requires_grad and _RECORDED_VJP.get() is not None:
            raise _number_in_a_vjp(f"{where}(x)")
        return self._data.item()

    def __format__(self, spec: str) -> str:
        """``f"{cost:.4f}"`` formats a single number, as a 0-d tensor does in PyTorch; ``f"{v}"`` is the repr.  In a
        vjp that a recorded pass runs, the text is for a print: ``float(f"{x:.3f}")`` is refused, as ``float(x)``."""
        if not spec:
            return repr(self)
        if self._data.size != 1:
            raise TypeError(f"format: {spec!r} formats a single number; this Value has shape {self.shape}: "
                            "format its .data, or one element")
        text = format(self._data.item(), spec)
        return _Shown(text) if self.requires_grad and _RECORDED_VJP.get() is not None else text

    def __bool__(self) -> bool:
        """As numpy: the truth of a single number; for more, say ``(v > 0).any()`` or ``.all()``."""
        if self._data.size != 1:
            raise ValueError(f"bool: the truth of a Value of shape {self.shape} is ambiguous; "
                             "compare its elements with .any() or .all() of a comparison")
        return bool(self._data)

    def __len__(self) -> int:
        if not self._data.ndim:
            raise TypeError("len: a 0-d Value (a single number) has no length")
        return len(self._data)

    def __iter__(self) -> Iterator[Value]:
        """The Values along the first axis (each one recorded as an indexing operation)."""
        if not self._data.ndim:
            raise TypeError("iter: a 0-d Value (a single number) cannot be iterated")
        return (self[i] for i in range(len(self._data)))

    def __reversed__(self) -> Iterator[Value]:
        """The Values along the first axis, last first (Python's own reversed() said 'len: …' for a single number)."""
        if not self._data.ndim:
            raise TypeError("reversed: a 0-d Value (a single number) cannot be reversed")
        return (self[i] for i in reversed(range(len(self._data))))

    def __contains__(self, item: Any) -> bool:
        """``x in v``, as numpy answers it: whether any element equals ``x`` (``(v == x).any()``), for a Value of any
        shape; a truth value, outside the graph.  (Python's own ``in`` compared ``x`` with each row, one indexing
        operation each: numpy's "ambiguous" error for a matrix, a TypeError for a single number.)"""
        return bool(np.any(_compare(operator.eq, "in", self, item)))

    if not TYPE_CHECKING:  # (hidden from type checkers: a Value is no array-like, and `array + v` is a Value)
        def __array__(self, dtype: Any = None, copy: Any = None) -> NoReturn:
            asker = str(sys._getframe(1).f_globals.get("__name__", ""))  # pandas' df @ v needs other advice
            raise TypeError(_PANDAS_NOT_AN_ARRAY if asker.startswith("pandas.") else _NOT_AN_ARRAY)

    def __array_function__(self, function: Any, types: Any, args: Any, kwargs: Any) -> Any:
        """numpy's functions run as numpy runs them: ``np.sum(v)`` and ``np.reshape(v, …)`` call the Value's own
        methods; one that needs the numbers (``np.clip(v, 0, 1)``, ``np.linalg.norm(v)``) is refused, named."""
        name = f"{function.__module__}.{function.__name__}".replace("numpy.", "np.", 1)
        if name in write_instead.IN_PLACE and args and isinstance(args[0], Value):  # (numpy's errors named no Value)
            raise TypeError(f"{name}: changes its first argument in place, and a Value's numbers cannot change under "
                            "a recorded graph; under no_grad(), a leaf's numbers change by index assignment (here: "
                            f"{write_instead.IN_PLACE[name]}); else build a new Value, "
                            "functional.where(mask, values, v)")
        if function in _SPLITS:  # (an axis the Value lacks, 0 parts: numpy's words named neither)
            refusal = _split_refusal(name, *args, **kwargs)
            if refusal is not None:
                raise refusal
        try:
            if function in _FALSE_ON_ERROR:  # (the refusal below, raised inside them, would become a silent False)
                raise TypeError(_NOT_AN_ARRAY)
            return function._implementation(*args, **kwargs)
        except ValueError as error:  # (numpy's own words name neither the shape nor the axis)
            if function is not np.split or "equal division" not in str(error):
                raise
            raise ValueError(_uneven_split(*args, **kwargs)) from None
        except TypeError as error:
            if not _refused_for_numpy(error):
                raise
            own = _own_method_error(error, function.__name__)
            if own is not None:
                raise own from None
        instead = write_instead.numpy_advice(name, function.__name__, tuple(_data_of(x) for x in args), kwargs)
        note = write_instead.norm_note(name, instead)
        raise TypeError(f"{name}: {_NOT_AN_ARRAY}{note}" + (f" (here: {instead})" if instead else "")) from None

    def __repr__(self) -> str:
        """``Value(data=…, grad=…)``: numbers shown briefly but never so rounded that different ones look equal,
        brackets kept (``[2.5]`` is not ``2.5``), the shape of an array shown in part, a float32 dtype, a frozen
        Value, a gradient that is itself a Value (``create_graph=True``) and the label named.  micrograd's form, for
        reading, not for pasting back (numpy prints no commas, and a new Value takes no ``grad=``, which ``Value``
        says): the same Value anew is ``Value(v.data, requires_grad=v.requires_grad, label=v.label)`` (a copy)."""
        if not hasattr(self, "_data"):  # Value.__new__ alone, or a subclass whose __init__ raised before Value's
            return "Value(<not initialised>)"
        data = printing.array_text(self._data, printing.TEXT_SUMMARY).replace("\n", "")
        shape = f", shape={self.shape}" if "..." in data or not self._data.size else ""  # [] is (0,) or (0, 3)
        numbers = None if self.grad is None else _grad_array(self.grad)
        grad = "None" if numbers is None else printing.array_text(numbers, printing.TEXT_SUMMARY).replace("\n", "")
        grad = f"Value({grad})" if isinstance(self.grad, Value) else grad
        dtype = "" if self.dtype == np.float64 else f", dtype={self.dtype}"
        frozen = "" if self.requires_grad else ", requires_grad=False"
        label = f", label={self.label!r}" if self.label not in (None, "") else ""
        notes = printing.hidden_non_finite(self._data, numbers, printing.TEXT_SUMMARY)
        return f"Value(data={data}{shape}, grad={grad}{dtype}{frozen}{label})" + (f"  # {notes}" if notes else "")

    def _repr_html_(self) -> str:
        """A small table for Jupyter: data, grad, shape, dtype, the operation that made it and its label; the
        numbers as the text form shows them."""
        if not hasattr(self, "_data"):  # (as in __repr__)
            return "<b>Value</b> &lt;not initialised&gt;"

        def cell(array: np.ndarray) -> str:
            return f"<pre style='margin:0'>{html.escape(printing.array_text(array, printing.HTML_SUMMARY))}</pre>"

        numbers = None if self.grad is None else _grad_array(self.grad)
        grad = "None" if numbers is None else cell(numbers)
        if isinstance(self.grad, Value):
            grad += ("<i>a Value with a graph of its own (create_graph=True): backward() through it "
                     "differentiates again</i>")
        rows = [("data", cell(self._data)), ("grad", grad), ("shape", str(self.shape)),
                ("dtype", str(self.dtype)), ("op", html.escape(self.op or "leaf")),
                ("requires_grad", str(self.requires_grad))]
        if self.label not in (None, ""):  # (as in __repr__: a label of 0 is a label)
            rows.insert(0, ("label", html.escape(str(self.label))))  # (set by hand, it may be a number)
        notes = printing.hidden_non_finite(self._data, numbers, printing.HTML_SUMMARY)
        if notes:
            rows.append(("note", f"<b>{html.escape(notes)}</b> (counting all the numbers, not only those the summary "
                                 "above shows)"))
        body = "".join(f"<tr><th style='text-align:left'>{k}</th><td style='text-align:left'>{v}</td></tr>"
                       for k, v in rows)
        return f"<table><caption style='text-align:left'><b>Value</b></caption>{body}</table>"

    def _apply_op(self, op: Op, *inputs: Any, **params: Any) -> Value:
        """What an :class:`Op` called on Values does: record it (``cube(x)`` is ``apply(cube, x)``)."""
        return apply(op, *inputs, **params)

    @property
    def _mask(self) -> NoReturn:
        """What numpy.ma reads beside ``_data`` (which it takes as the numbers) of whatever it meets: refused, so
        ``masked_array + v`` is an error, not a masked array without the Value's graph."""
        raise TypeError(_MASKED)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """numpy's functions on Values: ``np.exp(v)`` is ``v.exp()`` and ``array * v`` is a Value; comparisons,
        ``np.sign``, ``np.isfinite``, ``np.isnan`` and ``np.isinf`` give plain arrays (they have no gradient, and take
        numpy's keywords: ``out=``, ``where=``); anything else, and a ufunc's methods (``np.add.reduce``), is refused
        by name, saying what to write where there is a formula."""
        if method == "__call__" and not kwargs:
            op = _UFUNC_OPS.get(ufunc)
            if op is not None:
                return apply(op, *inputs)
        if method == "__call__" and ufunc in _CONSTANT_UFUNCS and not any(
                isinstance(x, Value) for x in kwargs.get("out", ())):  # (no gradient: numpy's keywords apply)
            try:
                return ufunc(*(_data_of(x) for x in inputs), **kwargs)
            except TypeError:  # (numpy's words name dtypes, not the Value: strings < v, datetimes, None in objects)
                kinds = " and ".join(f"{type(x).__name__} of dtype {np.asarray(_data_of(x)).dtype}" for x in inputs)
                raise TypeError(f"np.{ufunc.__name__}: not defined between {kinds}; a Value compares with numbers "
                                "(a number, an array or a Value)") from None
        name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        if method == "__call__" and ufunc in _UFUNC_OPS and all(map(_numpy_default, kwargs.items())):
            return apply(_UFUNC_OPS[ufunc], *inputs)  # (numpy's defaults written out: where=True, casting='same_kind')
        if method == "__call__" and (ufunc in _UFUNC_OPS or ufunc in _CONSTANT_UFUNCS):
            key = next(key for key, value in kwargs.items() if not _numpy_default((key, value)))
            raise TypeError(f"np.{name}: {key}= not supported on Values ("
                            + _UFUNC_KEYWORDS.get(key, "call np.{name} with its inputs only").format(name=name) + ")")
        if method != "__call__":
            instead = write_instead.UFUNC_METHODS.get(name)
            if instead:  # along the axis given (numpy's default: 0), keeping it where numpy would
                instead = instead.format(axis=kwargs.get("axis", 0),
                                         keepdims=", keepdims=True" if kwargs.get("keepdims") else "")
            raise TypeError(f"np.{name}: a ufunc's .{method} {_UNSUPPORTED_METHOD}; "
                            + (f"write {instead}" if instead else "compute with Value methods and "
                               "tinygrad_edu.functional, or on .data (no gradient)"))
        instead = (_division_advice(_NUMPY_DIVISIONS[name], inputs) if name in _NUMPY_DIVISIONS else
                   write_instead.ufunc_advice(name))
        raise TypeError(f"np.{name}: {_UNSUPPORTED}np.{', np.'.join(_UFUNC_NAMES)} and comparisons); "
                        + (f"write {instead}" if instead else "compute with Value methods and "
                           "tinygrad_edu.functional, or on .data (no gradient)"))

    # --- backpropagation -----------------------------------------------------------------------------------------
    @checks.pytorch_keywords(
        dict.fromkeys(("grad_output", "upstream"), "the upstream gradient is called grad= here: backward(grad)"),
        gradient="it is called grad= here: backward(grad) or backward(grad=...)",
        retain_graph="it is not needed here: the graph is kept, and backward() can be called on it again")
    def backward(self, grad: Any = None, *, create_graph: bool = False, inputs: Any = None) -> None:
        """Backpropagate: fill ``.grad`` of every Value this one depends on with ∂self/∂(that Value).

        ``grad`` is the upstream gradient ∂C/∂self; it defaults to 1 for an output of size 1 (a cost).
        Leaves (parameters) accumulate gradients over calls until ``zero_grad()``, each in an array of its own;
        the graph is kept, so ``backward()`` on the same graph again adds its gradients once more (PyTorch frees the
        graph unless ``retain_graph=True``, which is not needed here).
        Every other Value on the way holds the gradient of the latest call, for looking at (drawings): it is the
        array the backward pass used, which may be shared with other intermediates or read-only, so copy it
        before changing it.  If a leaf was changed in place since this Value was computed (an optimizer's step,
        ``-=`` or ``[...] =`` under ``no_grad``, ``.data = …``), the graph is stale and backward raises ``ValueError``:
        compute the cost again.  Writes into a leaf's array itself (``w.data[0] = 1``) are not seen, as in PyTorch:
        the gradient then mixes the new numbers with the old ones recorded.  A backward pass that
        raises changes no leaf's gradient.

        A leaf's ``requires_grad`` is read when backward runs, not when the graph was recorded: a leaf frozen after
        the cost was computed gets no gradient, and one unfrozen after it gets its gradient from that cost (when the
        cost was recorded: another of its inputs required a gradient), where PyTorch's graph, fixed when it was
        recorded, gives it none.  Only a leaf's flag can be changed: a Value computed by an operation whose
        ``requires_grad`` was set to False by hand makes backward raise (PyTorch refuses the assignment itself).

        With ``create_graph=True`` the backward pass is itself recorded: every ``.grad`` it sets is a Value, whose
        own ``backward()`` gives second derivatives (and so on, to any order).  Without it ``.grad`` is a numpy
        array, so ``x.grad.backward()`` is numpy's AttributeError: run the pass again with ``create_graph=True``.

        ``inputs`` (a Value or a list of them), as in PyTorch: only these leaves accumulate a gradient (a computed
        Value among them holds the latest call's, as every other Value on the way does, where PyTorch accumulates
        it too).  The walk leaves out every Value from which no path leads to one of them, as PyTorch's does (its
        ``.grad`` stays as it was, None or another pass's, as a retained ``.grad`` does in PyTorch): its gradient is
        not needed (a weight's, for ∂u/∂x of a network u(x)), and one that is NaN (the slope of xⁿ in a
        Value n that requires a gradient, xⁿ·ln x, at x < 0) gives no numpy warning and no ``detect_anomaly``
        error.  When they are all computed Values (not leaves), the walk does not even look at what was made before
        all of them (it cannot lead to one), so that a gradient with respect to Values made late in a long graph
        does not walk its history.

        >>> x = Value(3.0)
        >>> y = x ** 3
        >>> y.backward(create_graph=True)     # dy/dx = 3x² = 27, as a Value
        >>> slope = x.grad
        >>> x.zero_grad(); slope.backward()   # d²y/dx² = 6x = 18
        >>> x.grad
        array(18.)
        """
        if not self.requires_grad:
            if self._op is not None:
                raise _unflagged(self, "backward")
            raise ValueError("backward: this Value does not require a gradient (it was made only from constants, "
                             "such as parameters frozen with requires_grad=False, or under no_grad; or from a "
                             "derivative taken without create_graph=True, by backward() or autodiff.gradients(), "
                             "which is a constant: take it again with create_graph=True; or it is a "
                             "derivative that came out constant, as backward(create_graph=True) gives for 3 * x, "
                             "relu(x), leaky_relu(x) or abs(x): its own derivative is 0, which autodiff.grad of a "
                             "function gives)")
        seed = self._seed_gradient(grad, create_graph)
        writes = LEAF_WRITES.get()  # (inside a transform's f: the computed Values' .grad are noted, see there)
        if not (create_graph or _anomaly_mode() or inputs is not None or writes is not None):  # the common case
            _backpropagate(self, seed, graph=False)
            return
        create_graph = checks.flag(create_graph, "create_graph", "backward")  # (here: the common call pays nothing)
        wanted = None if inputs is None else _wanted_inputs(inputs, "backward")
        computed = () if writes is None else _computed_grads(self, wanted)
        before = _GRAD_ENABLED.set(_grad_enabled() or create_graph)  # a recorded pass records even inside no_grad
        frozen = _read_only_for_the_walk(self) if _anomaly_mode() else []
        try:  # under detect_anomaly the walk names the op that made a NaN or inf; numpy's warning would echo it
            with np.errstate(all="ignore") if _anomaly_mode() else contextlib.nullcontext():
                _backpropagate(self, seed, graph=create_graph, only=wanted, writes=writes)
        finally:  # (noted also when the walk raised partway, having written some of them: f's caller gets them back)
            _GRAD_ENABLED.reset(before)
            if frozen:  # (only under detect_anomaly: no lock taken by a recorded pass, a Hessian's rows)
                _let_go(frozen)
            if computed:
                writes.extend((node, grad, node.grad) for node, grad in computed)  # type: ignore[union-attr]

    def _seed_gradient(self, grad: Any, create_graph: bool) -> Any:
        """∂C/∂self to start from: 1 for a single number, else the given ``grad`` (a Value under create_graph)."""
        if grad is None:
            if self._data.size != 1:
                raise ValueError(f"backward: an output of shape {self.shape} needs an explicit grad of that shape; "
                                 "only an output of size 1 (like a cost) gets the default grad of 1: to "
                                 "differentiate a cost, make it one number first (.sum(), .mean(), or "
                                 "losses.squared_error, which averages over the samples)")
            seed: Any = np.ones(self.shape, dtype=self.dtype)
        elif isinstance(grad, Value) and create_graph:
            # in the output's dtype, as an array given is (recorded: the seed's own gradient is converted back)
            seed = grad if grad._data.dtype == self._data.dtype else grad.astype(self._data.dtype)
        else:
            _check_not_bool(grad, "backward: grad")  # (backward(False) seeded 0: every gradient silently zero)
            try:
                seed = np.array(_to_array(grad, self.dtype), copy=True)
            except (TypeError, ValueError) as error:
                raise type(error)(f"backward: grad: {str(error).removeprefix('Value: ')}") from None
        if seed.shape != self.shape:
            raise ValueError(f"backward: grad has shape {seed.shape} but the output has shape {self.shape}")
        return _node(Value, seed, False, (), None, None) if create_graph and not isinstance(seed, Value) else seed

    # --- arithmetic (numpy broadcasting, numbers and arrays on either side) ------------------------------------
    # pandas leaves an operation to an operand of a higher priority than its own (a DataFrame's is 4000):
    # `series + v` and `df * v` then call the Value's reflected methods, by position, as `array + v` does (pandas'
    # own attempt asked the Value for an array and failed)
    __pandas_priority__ = 5000

    def __add__(self, other: Any) -> Value:
        return _binary(ops.add, self, other)

    def __radd__(self, other: Any) -> Value:
        return _binary_reflected(ops.add, self, other)

    def __sub__(self, other: Any) -> Value:
        return _binary(ops.sub, self, other)

    def __rsub__(self, other: Any) -> Value:
        return _binary_reflected(ops.sub, self, other)

    def __mul__(self, other: Any) -> Value:
        return _binary(ops.mul, self, other)

    def __rmul__(self, other: Any) -> Value:
        return _binary_reflected(ops.mul, self, other)

    def __truediv__(self, other: Any) -> Value:
        return _binary(ops.div, self, other)

    def __rtruediv__(self, other: Any) -> Value:
        return _binary_reflected(ops.div, self, other)

    def __pow__(self, other: Any, modulo: None = None) -> Value:
        if modulo is not None:  # pow(v, 2, 5): Python passes a third argument only then
            raise TypeError(f"pow: pow(v, exponent, {modulo!r}) takes a remainder, which has no derivative and is not "
                            "supported on Values; write v ** exponent, or pow(v.item(), exponent, modulo) for a "
                            "number outside the graph")
        return _binary(ops.power, self, other)

    def __rpow__(self, other: Any) -> Value:
        return _binary_reflected(ops.power, self, other)

    def __matmul__(self, other: Any) -> Value:
        return _binary(ops.matmul, self, other)

    def __rmatmul__(self, other: Any) -> Value:
        return _binary_reflected(ops.matmul, self, other)

    # % and // (and divmod) are refused by name: a remainder and a floor division jump (see _no_derivative)
    def __mod__(self, other: Any) -> NoReturn:
        raise _no_derivative("%", self, other)

    def __rmod__(self, other: Any) -> NoReturn:
        raise _no_derivative("%", self, other, reflected=True)

    def __floordiv__(self, other: Any) -> NoReturn:
        raise _no_derivative("//", self, other)

    def __rfloordiv__(self, other: Any) -> NoReturn:
        raise _no_derivative("//", self, other, reflected=True)

    def __divmod__(self, other: Any) -> NoReturn:
        raise _no_derivative("divmod", self, other)

    def __rdivmod__(self, other: Any) -> NoReturn:
        raise _no_derivative("divmod", self, other, reflected=True)

    def __neg__(self) -> Value:
        return _record(ops.neg, (self,), _NO_PARAMS)

    def __pos__(self) -> Value:
        return self

    # In-place operators: see _in_place.
    def __iadd__(self, other: Any) -> Value:
        return _in_place(ops.add, self, other)

    def __isub__(self, other: Any) -> Value:
        return _in_place(ops.sub, self, other)

    def __imul__(self, other: Any) -> Value:
        return _in_place(ops.mul, self, other)

    def __itruediv__(self, other: Any) -> Value:
        return _in_place(ops.div, self, other)

    def __ipow__(self, other: Any) -> Value:  # type: ignore[misc]  # (pow's modulo has no in-place form: v **= 2)
        return _in_place(ops.power, self, other)

    def __imatmul__(self, other: Any) -> Value:
        if not _grad_enabled() and self._op is None:  # (changed in place: see _check_matrix_operand)
            _check_matrix_operand(self, other)
        return _in_place(ops.matmul, self, other)

    # Comparisons give plain boolean arrays (numpy's np.True_ or np.False_ for a single number, as numpy's own
    # comparisons do): they have no gradient.
    def __lt__(self, other: Any) -> np.ndarray | np.bool_:
        return _compare(operator.lt, "<", self, other)

    def __le__(self, other: Any) -> np.ndarray | np.bool_:
        return _compare(operator.le, "<=", self, other)

    def __gt__(self, other: Any) -> np.ndarray | np.bool_:
        return _compare(operator.gt, ">", self, other)

    def __ge__(self, other: Any) -> np.ndarray | np.bool_:
        return _compare(operator.ge, ">=", self, other)

    def __eq__(self, other: Any) -> np.ndarray | np.bool_:  # type: ignore[override]
        return _compare(operator.eq, "==", self, other)

    def __ne__(self, other: Any) -> np.ndarray | np.bool_:  # type: ignore[override]
        return _compare(operator.ne, "!=", self, other)

    __hash__ = object.__hash__  # Values are identified by who they are, as graph nodes

    # --- element-wise functions ----------------------------------------------------------------------------------
    def exp(self) -> Value:
        """eˣ"""
        return _record(ops.exp, (self,), _NO_PARAMS)

    def log(self) -> Value:
        """ln x"""
        return _record(ops.log, (self,), _NO_PARAMS)

    def sqrt(self) -> Value:
        """√x"""
        return _record(ops.sqrt, (self,), _NO_PARAMS)

    def abs(self) -> Value:
        """|x|, whose derivative is sign(x): 0 at x = 0, as in PyTorch (so an L1 penalty λ·Σ|w| adds λ·sign(w) to
        the gradient, and nothing for a weight at 0)."""
        return _record(ops.absolute, (self,), _NO_PARAMS)

    __abs__ = abs  # abs(v), as for numbers

    def tanh(self) -> Value:
        """tanh x"""
        return _record(ops.tanh, (self,), _NO_PARAMS)

    def sigmoid(self) -> Value:
        """σ(x) = 1 / (1 + e⁻ˣ), the seed's activation function.  Its logarithm, for a cross-entropy:
        ln σ(x) = −softplus(−x) and ln(1 − σ(x)) = −softplus(x) (``functional.softplus``), exact where
        ``x.sigmoid().log()`` is 0 or −inf (σ rounds to 1 above about 37, to 0 below about −745; in float32 above
        about 17 and below about −104)."""
        return _record(ops.sigmoid, (self,), _NO_PARAMS)

    def relu(self) -> Value:
        """max(x, 0)"""
        return _record(ops.relu, (self,), _NO_PARAMS)

    # --- reductions and shapes ---------------------------------------------------------------------------------
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, **numpy: Any) -> Value:
        """Σ over ``axis`` (all elements by default).  ``np.sum(v)`` works too."""
        if numpy:
            _numpy_defaults("sum", numpy, self, axis, keepdims)
        keepdims = _keepdims(keepdims, "sum", axis)
        return apply(ops.reduce_sum, self, axis=axis, keepdims=keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, **numpy: Any) -> Value:
        """The average over ``axis`` (all elements by default).  ``np.mean(v)`` works too."""
        if numpy:
            _numpy_defaults("mean", numpy, self, axis, keepdims)
        keepdims = _keepdims(keepdims, "mean", axis)
        return apply(ops.reduce_mean, self, axis=axis, keepdims=keepdims)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, **numpy: Any) -> Value:
        """The largest element over ``axis``; the gradient goes to the maximum (split between ties).  The values
        alone, as numpy's: PyTorch's ``_, idx = v.max(1)`` is refused (the indices: ``v.data.argmax(axis=1)``)."""
        if numpy:
            _numpy_defaults("max", numpy, self, axis, keepdims)
        keepdims = _keepdims(keepdims, "max", axis)
        result = apply(ops.reduce_max, self, axis=axis, keepdims=keepdims)
        _refuse_values_and_indices("max", axis, result, self.ndim, keepdims)
        return result

    def min(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False, **numpy: Any) -> Value:
        """The smallest element over ``axis``; the gradient goes to the minimum (split between ties).  The values
        alone, as ``max`` gives them."""
        if numpy:
            _numpy_defaults("min", numpy, self, axis, keepdims)
        keepdims = _keepdims(keepdims, "min", axis)
        result = apply(ops.reduce_min, self, axis=axis, keepdims=keepdims)
        _refuse_values_and_indices("min", axis, result, self.ndim, keepdims)
        return result

    def reshape(self, *shape: int | tuple[int, ...], order: str = "C", copy: bool | None = None) -> Value:
        """The same numbers in a new shape: ``v.reshape(2, 3)`` or ``v.reshape((2, 3))``; ``np.reshape(v, …)`` too."""
        if order != "C" or copy is not None:  # (a ValueError: numpy would take a TypeError as a cue to convert v)
            raise ValueError(f"reshape: only numpy's default order='C' and copy=None are supported, got "
                             f"order={order!r}, copy={copy!r}")
        shape = _listed(shape)
        try:
            return apply(ops.reshape, self, shape=shape)
        except ValueError as error:
            if "newaxis" not in str(error):  # (numpy's word for the -1 of a shape)
                raise
            raise ValueError(_reshape_mismatch(self.shape, shape)) from None

    @checks.pytorch_keywords(**dict.fromkeys(
        ("dim0", "dim1"), "numpy's transpose takes all the axes in their new order, by position; "
        "PyTorch's transpose(dim0, dim1), which exchanges two, is v.swapaxes(dim0, dim1) here (v.T for a matrix)"))
    def transpose(self, *axes: int | tuple[int, ...] | None) -> Value:
        """Axes reversed (no arguments, or None) or permuted: ``v.transpose(1, 0, 2)``; ``np.transpose(v)`` too.
        As in numpy, the axes are all of them in their new order; PyTorch's ``transpose(dim0, dim1)``, which
        exchanges two, is ``v.swapaxes(dim0, dim1)`` here.  ``m.transpose(0, 1)`` of a matrix, which numpy reads
        as "change nothing" and PyTorch as "exchange the two", is refused (numpy's is ``m.transpose((0, 1))``)."""
        if len(axes) == 1 and axes[0] is None:
            axes = ()
        if len(axes) == 2 and self.ndim == 2 and _axis_in(axes[0], (0, -2)) and _axis_in(axes[1], (1, -1)):
            raise ValueError(f"transpose: m.transpose({axes[0]}, {axes[1]}) of a matrix means two things: in numpy "
                             "(and here) the axes in their new order, which leaves it as it is, and in PyTorch the "
                             "two axes exchanged; to exchange them write m.swapaxes(0, 1) or m.T, and to leave it as "
                             "it is, leave the transpose out (or give numpy's order as one tuple, m.transpose((0, 1)))")
        axes = _listed(axes)
        try:
            return apply(ops.transpose, self, axes=axes or None)
        except ValueError as error:
            if len(axes) == 2 and self.ndim > 2:  # PyTorch's k.transpose(-2, -1), on a batch
                raise ValueError(f"{error}: numpy's transpose takes all {self.ndim} axes in their new order; to "
                                 f"exchange two, as PyTorch's transpose(dim0, dim1) does, write "
                                 f"v.swapaxes({axes[0]}, {axes[1]})") from None
            raise

    @property
    def T(self) -> Value:
        """The transpose (all axes reversed, as in numpy)."""
        return apply(ops.transpose, self, axes=None)

    def swapaxes(self, axis1: int, axis2: int) -> Value:
        """Exchange two axes."""
        for axis in (axis1, axis2):
            if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
                raise TypeError(f"swapaxes: axes must be integers, got {axis!r}")
            if not -self.ndim <= axis < self.ndim:
                raise ValueError(f"swapaxes: axis {axis} is out of bounds for shape {self.shape}")
        axes = list(range(self.ndim))
        axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
        return apply(ops.transpose, self, axes=tuple(axes))

    def __getitem__(self, key: Any) -> Value:
        """numpy's indexing (slices, ``...``, ``None``, integer arrays and boolean masks, or numpy arrays or lists of
        them); the gradient is scattered back (repeats add up).  An index that is no integer (a float, a Value) is a
        TypeError, an index out of range an IndexError."""
        return apply(ops.index, self, key=_index(key, self.shape))

    def __setitem__(self, key: Any, value: Any) -> None:
        """Under ``no_grad()`` a leaf's numbers changed in place, by numpy's rules: ``with no_grad(): w[0] = 1.0``
        (as in PyTorch); anywhere else refused, since a recorded graph cannot follow such a change."""
        if _grad_enabled() or self._op is not None:
            raise TypeError("index assignment: a Value cannot be changed element by element (v[...] = ...) where "
                            "its graph is recorded; build a new Value (F.where, F.concatenate), or change a leaf "
                            "(a parameter) under no_grad()")
        try:
            self._data[_index(key, self.shape)] = _to_array(value)  # real numbers only, as Value() takes them
        except (TypeError, ValueError, IndexError) as error:
            raise _refused(error, f"index assignment: cannot set [{key!r:.40}] of a Value of shape {self.shape} "
                                  f"to {_described(value)}") from None
        self._order = next(_creation)  # changed in place: graphs recorded from it are stale (_creation)
        _changed_with(self)


for _name, _advice in {**write_instead.WRITE_INSTEAD, **write_instead.METHOD_ADVICE,
                       **write_instead.TENSOR_METHODS}.items():  # (PyTorch's v.add, v.eq, v.add_, v.sin, …)
    setattr(Value, _name, checks.Absent(_name, _advice, "{cls!r} object has no attribute {name!r}; write {advice}"))


def __dir__() -> list[str]:
    """``dir()`` of this module lists its API (``__all__``), not its helpers and imports."""
    return sorted(__all__)


def _keepdims(keepdims: Any, where: str, axis: Any = None) -> bool:
    """A reduction's ``keepdims``, True or False: ``v.sum(0, 1)`` is no sum over axes 0 and 1 (numpy refuses it).  The
    tuple to write is offered only where an int followed an int axis (``keepdims=1``, ``keepdims="yes"``: no axis)."""
    try:
        return checks.flag(keepdims, "keepdims", where)
    except TypeError as error:
        axes = (axis, keepdims)
        if not all(isinstance(a, (int, np.integer)) and not isinstance(a, (bool, np.bool_)) for a in axes):
            raise
        raise TypeError(f"{error}; over several axes, give them as a tuple: axis={tuple(map(int, axes))!r}") from None


def _listed_axes(axis: Any, where: str) -> TypeError | None:
    """The error for a reduction's ``axis`` given as a list (PyTorch's ``dim=[0, 1]``) or an array of axes, with the
    tuple to write, where numpy said only "'list' object cannot be interpreted as an integer" ("only integer scalar
    arrays can be converted to a scalar index"); None for any other ``axis``."""
    if isinstance(axis, list) or isinstance(axis, np.ndarray) and axis.ndim:
        axes = axis.tolist() if isinstance(axis, np.ndarray) else axis
        kind = "list" if axes is axis else "array"
        return TypeError(f"{where}: axis must be an int or a tuple of ints, got the {kind} {axes!r}; over several "
                         f"axes, give them as a tuple: axis={tuple(axes)!r}")
    return None


def _listed(given: tuple[Any, ...]) -> tuple[Any, ...]:
    """The shape or axes given to reshape or transpose, as numpy takes them: several ints, or one tuple, list, range
    or array of them (``v.transpose(np.argsort(order))``, ``v.reshape(np.array(shape))``)."""
    if len(given) != 1:
        return given
    if isinstance(given[0], np.ndarray):
        return tuple(given[0].ravel().tolist())
    return tuple(given[0]) if isinstance(given[0], (tuple, list, range)) else given


def _reshape_mismatch(shape: tuple[int, ...], wanted: tuple[Any, ...]) -> str:
    """Why a Value of ``shape`` cannot take the shape ``wanted`` holding a -1: numpy's message writes the -1 as
    "newaxis" (the name of another thing) and says nothing of its length.  The other axes' product does not divide
    the size (the heads of an attention that do not divide its width: ``x.reshape(B, T, heads, -1)``)."""
    wanted = tuple(int(n) for n in wanted)  # (np.int64(3) as 3)
    size, known = math.prod(shape), math.prod(n for n in wanted if n >= 0)
    why = (f"the -1 would have to be {size} / {known}, not a whole number" if known else
           f"the other axes hold no numbers, so no length of the -1 can be found from {size}")
    return f"reshape: cannot reshape {size} numbers into shape {wanted}: {why} (input shapes {shape})"


def _shaped(x: Any) -> str:
    """``x`` in the message of an in-place update: its type, and its shape where it has one (an array, a Value, a
    nested list; not its repr: a Python int can be too long to print)."""
    try:
        shape = np.shape(_data_of(x))
    except (TypeError, ValueError):  # (a ragged list, a list holding Values)
        shape = ()
    return f"{type(x).__name__} of shape {shape}" if shape else type(x).__name__


def _check_matrix_operand(value: Value, other: Any) -> None:
    """``value @= other`` changing a leaf's own numbers (under ``no_grad``) needs a matrix ``other``, as numpy's
    ``a @= b`` does: with a vector (or a number) the product has another shape than ``value``, and numpy's matmul
    would repeat it over the rows of ``value``, silently."""
    try:
        ndim = np.ndim(_data_of(other))
    except (TypeError, ValueError):  # (not numbers: _update says so)
        return
    if ndim < 2:
        raise ValueError(f"matmul in place: cannot change a Value of shape {value.shape} by {_shaped(other)}: "
                         "w @= m needs a matrix m (at least 2-D, as numpy's a @= b): w @ v with a vector v has "
                         "another shape than w; write w = w @ v for a new Value")


def _grad_array(grad: Any) -> np.ndarray:
    """The numbers of a gradient: an array, or a Value's data (after ``backward(create_graph=True)``)."""
    return grad._data if isinstance(grad, Value) else np.asarray(grad)


#: numpy's functions of % and // (``array % v`` and ``np.float64(2) % v`` reach np.remainder).
_NUMPY_DIVISIONS = {"remainder": "%", "floor_divide": "//", "divmod": "divmod"}


def _division_advice(symbol: str, operands: tuple[Any, ...], reflected: bool | None = None) -> str:
    """What to write instead of the division ``symbol`` of ``operands`` (v ∘ m or, ``reflected``, m ∘ v; None: the
    first operand that is no Value is m)."""
    if reflected is None:
        reflected = not isinstance(operands[0], Value)
    other = operands[0] if reflected else (operands[1] if len(operands) > 1 else None)
    instead = (write_instead.DIVISIONS_REFLECTED if reflected else write_instead.DIVISIONS)[symbol][1]
    return instead.format(m="m.data" if isinstance(other, Value) else "m")


def _no_derivative(symbol: str, value: Value, other: Any, reflected: bool = False) -> TypeError:
    """The error for ``value % other``, ``value // other`` or ``divmod(value, other)`` (``other ∘ value`` if
    ``reflected``): Python's own ("unsupported operand type(s)") said neither why nor what to write."""
    what = (write_instead.DIVISIONS_REFLECTED if reflected else write_instead.DIVISIONS)[symbol][0]
    call = f"divmod({'m, v' if reflected else 'v, m'})" if symbol == "divmod" else (
        f"m {symbol} v" if reflected else f"v {symbol} m")
    instead = _division_advice(symbol, (other, value) if reflected else (value, other), reflected)
    return TypeError(f"{symbol}: {call} {what} and is not supported on Values (here v is a Value of shape "
                     f"{value.shape}, m {_described(other)}); write {instead}")


def _compare(compare: Any, symbol: str, value: Value, other: Any) -> np.ndarray | np.bool_:
    """``value ∘ other`` for a comparison ∘, on the numbers; shapes that do not broadcast, or what is not numbers
    (``v < None``), are an error naming it."""
    try:
        return compare(value._data, _data_of(other))
    except ValueError as error:
        raise ValueError(f"comparison {symbol}: {str(error).strip()} (a Value of shape {value.shape})") from None
    except TypeError:  # (numpy's words would name a float, not the Value)
        raise TypeError(f"comparison {symbol}: a Value of shape {value.shape} cannot be compared with "
                        f"{_described(other)}; compare it with numbers (a number, an array or a Value)") from None


def _in_place(op: Op, value: Value, other: Any) -> Value:
    """``value ∘= other``.  Under ``no_grad()`` a leaf changes its own numbers, keeping its label and gradient: the
    parameter update ``with no_grad(): w -= lr * w.grad`` of PyTorch (numpy's in-place rules: the shape and dtype
    stay; a graph recorded from ``value`` before is stale, and its backward raises).  Everywhere else it is
    ``value = value ∘ other``, a new Value: a recorded graph never changes under it."""
    if _grad_enabled() or value._op is not None:
        return _binary(op, value, other)
    if _anomaly_mode():
        _checked_update(op, value, other)
    elif other.__class__ is _ndarray:  # an array (an optimizer's η·g): numpy's in-place ufunc without _update's call,
        try:  # 2 % of the x² update; what numpy refuses (before it writes) goes to _update for the error naming it
            _IN_PLACE_UFUNCS[op](value._data, other, value._data)
        except (TypeError, ValueError, OverflowError):
            _update(op, value, other)
    else:
        _update(op, value, other)
    value._order = next(_creation)  # changed in place: graphs recorded from it are stale (_creation)
    if _DETACHED_FROM:  # (and those of the Values it shares its numbers with: none while nothing was detached)
        _changed_with(value)
    return value


#: The Values made by ``detach()``, by id, with the Values each shares its numbers with: the one it was detached from
#: and, where that was detached too, theirs (weakly: a detached hidden state must not keep its chunk's graph alive;
#: all of them, so that a link gone in between, h.detach().detach(), breaks no chain), and the weak reference that
#: removes the entry when the detached one goes.
_DETACHED_FROM: dict[int, tuple[tuple[weakref.ref[Value], ...], weakref.ref[Value]]] = {}


def _link_detached(detached: Value, sharing: tuple[weakref.ref[Value], ...]) -> None:
    """``detached``'s entry: it shares its numbers with the Values ``sharing`` refers to."""
    key = id(detached)  # (the entry goes when the detached Value does, before its id can be reused)
    _DETACHED_FROM[key] = (sharing, weakref.ref(detached, functools.partial(_forget_detached, key)))


def _shared_leaves(value: Value) -> tuple[Value, ...]:
    """The leaves (parameters) alive that ``value``, made by ``detach()``, still shares its numbers with: a copy or a
    pickle of it carries them, so that copies made together (``copy.deepcopy((model, d))``, which share one array as
    the originals do) stay linked; a computed Value, or a leaf whose gradient is a Value, is left out (its graph would
    be copied, or pickling refused, with it; copy.deepcopy links the copies of both: _link_detached_copies)."""
    entry = _DETACHED_FROM.get(id(value))
    if entry is None:
        return ()
    return tuple(original for original in (reference() for reference in entry[0])
                 if original is not None and original._op is None and original._data is value._data
                 and not isinstance(original.grad, Value))


#: Whose id is the key under which a deep copy keeps, in copy.deepcopy's memo (as copy keeps its own list there under
#: id(memo)), the copies of Values made by detach() whose computed original is not copied yet: id(original) →
#: (original, [copies]), linked when it is.
_AWAITING_ORIGINALS = object()


def _link_detached_copies(copies: list[tuple[Value, Value, Any]], memo: dict) -> None:
    """Copies made by one copy.deepcopy of a Value made by ``h.detach()`` and of the computed ``h`` it shares its
    numbers with (``copies``: the ``(original, copy, state)`` made now; the other may be copied before or after):
    linked as the originals are, so that the detached copy changed in place makes the graphs through ``h``'s copy
    stale.  Unlinked, the two shared their numbers silently: a copied cost differentiated exp with the changed ones.
    The same for a leaf whose ``.grad`` is a Value (after ``backward(create_graph=True)``); any other leaf's link is in
    the state pickle takes (Value.__reduce_ex__)."""
    awaiting = memo.setdefault(id(_AWAITING_ORIGINALS), {})
    for node, twin, _ in copies:
        if awaiting and id(node) in awaiting:  # an original that detached copies made before wait for
            _link_copy(awaiting.pop(id(node))[1], twin)
        if node._op is not None:
            continue
        entry = _DETACHED_FROM.get(id(node))  # a detached Value: linked to its original's copy, or waiting for it
        for original in () if entry is None else (reference() for reference in entry[0]):
            # (the originals the state leaves out, _shared_leaves: a computed one, a leaf whose .grad is a Value)
            if original is not None and (original._op is not None or isinstance(original.grad, Value)) and (
                    original._data is node._data):
                awaiting.setdefault(id(original), (original, []))[1].append(twin)
                if id(original) in memo:
                    _link_copy(awaiting.pop(id(original))[1], memo[id(original)])


def _link_copy(detached_copies: list[Value], original_copy: Value) -> None:
    """Link each of ``detached_copies`` to ``original_copy`` where they still share its numbers."""
    for detached in detached_copies:
        if detached._data is original_copy._data:  # (numbers given to one of them since: not shared)
            entry = _DETACHED_FROM.get(id(detached))
            _link_detached(detached, (*(entry[0] if entry is not None else ()), weakref.ref(original_copy)))


def _forget_detached(key: int, _: weakref.ref[Value]) -> None:
    """The entry of a Value made by ``detach()``, removed when it goes."""
    _DETACHED_FROM.pop(key, None)


def _has_detached(value: Value) -> bool:
    """Whether a Value made by ``value.detach()`` is alive, which shares its numbers (for a stale graph's error)."""
    return any(detached() is not None and any(original() is value for original in sharing)
               for sharing, detached in list(_DETACHED_FROM.values()))


def _changed_with(value: Value) -> None:
    """After ``value`` changed in place: the Values it was detached from (and theirs) share its numbers, so the
    graphs recorded from them are stale too (PyTorch's shared version counter); not one given new numbers since, or
    where ``value`` was (``d.data = np.zeros(n)``): it shares them no more."""
    entry = _DETACHED_FROM.get(id(value))
    if entry is None:
        return
    for reference in entry[0]:
        original = reference()
        if original is not None and original._data is value._data:
            # A computed Value (h = x.exp()) is numbered as its newest input: its numbers no longer follow from its
            # inputs (exp's vjp g·out would read the changed ones), so it is stale to them too, and every graph
            # through it raises (_stale says what changed)
            inputs = [p._order for p in _inputs(original) if p.__class__ is not np.ndarray]
            original._order = min(inputs) if inputs else next(_creation)


def _update(op: Op, value: Value, other: Any) -> None:
    """``value.data ∘= other``, by numpy's in-place rules; what they refuse is an error naming the operation."""
    data = value._data
    if other.__class__ is not np.ndarray and checks.masked(other):  # (numpy's ufunc would use the masked numbers)
        raise TypeError(f"{op.name} in place: {_MASKED}")
    try:
        _IN_PLACE_UFUNCS[op](data, other._data if isinstance(other, Value) else other, data)  # (out=data)
    except (TypeError, ValueError, OverflowError) as error:  # (OverflowError: a Python int beyond float)
        shared = "" if data.flags.writeable else (  # (an array given read-only, or a view of a broadcast)
            "; its numbers are read-only: an array given as its data (give it a copy, v.data = v.data.copy()) or a "
            "view of a broadcast, which PyTorch refuses in place too (write v = v ∘ b, a new Value)")
        raise _refused(error, f"{op.name} in place: cannot change a Value of shape {value.shape} and dtype "
                              f"{value.dtype} by {_shaped(other)}{shared}") from None


def _checked_update(op: Op, value: Value, other: Any) -> None:
    """``_update`` under ``detect_anomaly``: an update that leaves NaN or inf (an optimizer's step that diverged) is
    an error naming it, as an operation's output is, and the numbers are put back as they were."""
    before = value._data.copy()
    with np.errstate(all="ignore"):  # the error below names the update; numpy's warning would only echo it
        _update(op, value, other)
    if not np.isfinite(value._data).all():
        value._data[...] = before
        raise FloatingPointError(f"{op.name} in place: the new numbers hold NaN or inf (a Value of shape "
                                 f"{value.shape}); they are left as they were")


def _refused(error: Exception, what: str) -> Exception:
    """``error`` (numpy's, or Value()'s) as a plain TypeError, IndexError or ValueError that says ``what`` failed."""
    kind = next((k for k in (TypeError, IndexError) if isinstance(error, k)), ValueError)
    return kind(f"{what} ({str(error).removeprefix('Value: ')})")


def _described(x: Any) -> str:
    """``x`` in a message: an array by its type and shape, anything else by its type and (the start of) its repr."""
    return f"{type(x).__name__} of shape {np.shape(x)}" if hasattr(x, "shape") else f"{type(x).__name__} {x!r:.40}"


_INDEX_WITH = "index: index with ints, slices, or numpy arrays/lists of ints or bools, not with "


def _index(key: Any, shape: tuple[int, ...]) -> Any:
    """An index as numpy takes it (see ``_index_part``) into a Value of ``shape``; a Value in it is refused."""
    if isinstance(key, Value) or (isinstance(key, tuple) and any(isinstance(k, Value) for k in key)):
        raise TypeError(f"{_INDEX_WITH}a Value (Values hold floats, so a mask or an index would have to be guessed)")
    return tuple(_index_part(k, shape) for k in key) if isinstance(key, tuple) else _index_part(key, shape)


_INT64_MIN, _INT64_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)  # (iinfo's are properties)
_BEYOND_INT64 = (np.dtype(object), np.dtype(np.uint64))  # the index arrays that may hold numbers beyond int64


def _check_int64(part: Any, shape: tuple[int, ...]) -> None:
    """An index beyond int64 is out of bounds (numpy's own error said that only integers are indices, or that a
    Python int is too large for C)."""
    for n in np.ravel(part) if isinstance(part, np.ndarray) else (part,):
        if isinstance(n, (int, np.integer)) and not _INT64_MIN <= n <= _INT64_MAX:
            raise IndexError(f"index: index {checks.readable_int(int(n))} is out of bounds for a Value of shape "
                             f"{shape} (an index lies within the shape, and numpy's are 64-bit integers)")


def _index_part(key: Any, shape: tuple[int, ...]) -> Any:
    """One part of an index, as numpy takes it: lists and array-likes (a pandas Series) become arrays, an empty list
    an empty integer array; a set, a dict or an iterator is refused (it has no order of its own, or is read once).  What
    numpy refuses for its kind (a float, a string, an array of floats) is a TypeError naming it, never rounded: an
    IndexError is for an index out of range (iteration over a Value ends on one), also one beyond int64
    (:func:`_check_int64`)."""
    checks.unmasked(key, "the index", "index")
    if isinstance(key, (int, slice, np.ndarray, np.generic)) or key is None or key is Ellipsis:  # (the usual ones)
        part: Any = key
    elif isinstance(key, list):
        try:
            array = np.asarray(key)
        except TypeError:  # a list holding Values (which refuse to become an array)
            raise TypeError(f"{_INDEX_WITH}a list holding Values, got {_described(key)}") from None
        except ValueError as error:  # ragged nested lists
            raise ValueError(f"index: the list {key!r:.40} is not an array of indices ({error})") from None
        if array.size == 0 and array.dtype.kind == "f":
            return array.astype(np.intp)
        part = array
    elif isinstance(key, (AbstractSet, Mapping, MappingView, Iterator)):  # (numpy's IndexError says only what it takes)
        given = "list(ids)" if isinstance(key, Iterator) else "sorted(ids)"  # (a set's order is no order of yours)
        raise TypeError(f"{_INDEX_WITH}{_described(key)}: give the indices as a list, such as {given}")
    elif hasattr(key, "__array__"):
        part = np.asarray(key)  # a pandas Series: its numbers, copied into the graph as an array's are (_own)
    else:
        part = key
    array_like = isinstance(part, np.ndarray)
    if (isinstance(part, (int, np.uint64)) and not _INT64_MIN <= part <= _INT64_MAX) or (
            array_like and part.dtype in _BEYOND_INT64):
        _check_int64(part, shape)  # (Python ints beyond int64, alone or in an array of objects; uint64s)
    if isinstance(part, (float, complex, str, bytes, np.inexact)) or (array_like and part.dtype.kind not in "biu"):
        dtype = f" (an array of dtype {part.dtype})" if array_like else ""
        floats = isinstance(part, (float, np.floating)) or (array_like and part.dtype.kind == "f")
        advice = "; a float is not rounded to an index: give whole numbers as integers (.astype(int))" if floats else ""
        if floats and array_like and part.ndim > 1 and np.isin(part, (0.0, 1.0)).all():
            advice += (", but this one holds only 0s and 1s: a one-hot matrix picks rows by a product, one_hot @ w "
                       "(or give the labels themselves, w[labels]), a mask by .astype(bool)")
        raise TypeError(f"{_INDEX_WITH}{_described(key)}{dtype}{advice}")
    return part


def _own(param: Any) -> Any:
    """An operation's parameter as the graph keeps it: arrays (also inside tuples, as in an index) copied, and lists
    and dicts (a custom Op's weights=[1.0, 2.0]), which the caller may change after the forward pass."""
    if param.__class__ is float:  # (leaky ReLU's slope, at every call: decided before four isinstance tests)
        return param
    if isinstance(param, np.ndarray):
        return param.copy()
    if isinstance(param, tuple):
        return tuple(_own(part) for part in param)
    if isinstance(param, list):
        return [_own(part) for part in param]
    if isinstance(param, dict):
        return {key: _own(part) for key, part in param.items()}
    return param


def _backpropagate(output: Value, seed: Any, graph: bool, only: list[Value] | None = None,
                   writes: list[tuple[Any, Any, Any]] | None = None) -> None:
    """The walk of :meth:`Value.backward`: every node after all the nodes that use it (newest first, see ``_creation``),
    its gradient ``g`` complete when it is reached; ``graph``: on Values, recorded.  Leaves' gradients are
    accumulated at the end: a walk that fails (a stale graph, a vjp's error) changes none of them.  Given ``only`` (the
    ``inputs`` of ``backward``), only they accumulate, and ``_walk_limit`` and ``_leading`` say which nodes are left
    out.  ``writes``: ``LEAF_WRITES`` as ``backward()`` read it (one look per pass).  The loop below is the hot path,
    written out in one piece (a call per node or per input costs the scalar chain 11–14 % of its instructions); what
    runs only when something is wrong is in ``_vjp_raised``."""
    checked = _anomaly_mode() or graph
    oldest = _walk_limit(output, only)
    # given only, the Values on a path to one of them (see _leading); None: every Value (the common backward())
    leading = None if only is None else _leading_once(output, only)
    pending: dict[int, Any] = {id(output): seed}  # gradients summed so far, by node
    leaves: list[tuple[Value, Any]] = []  # and the leaves' complete ones
    # Nodes with a gradient, newest first.  No two computed nodes the walk takes share a creation number (copies are
    # numbered afresh: _renumbered); two leaves may (a leaf unpickled in the process that pickled it keeps its number),
    # and the identity breaks such a tie, so that the heap never compares two Values.
    waiting: list[tuple[int, int, Value]] = [(output._order, id(output), output)]
    pop, push, ndarray, asarray = heapq.heappop, heapq.heappush, _ndarray, _asarray  # local names: the hot path
    while waiting:
        _, node_id, node = pop(waiting)
        g = pending.pop(node_id)
        op = node._op
        if op is None:
            leaves.append((node, g))
            continue
        node.grad = g
        # _inputs(node), written out for the one or two inputs of most operations (a recorded node has at least one)
        first, second = node._first, node._second
        parents = (first,) if second is None else _inputs(node) if node._rest else (first, second)
        params = node._params
        # The inputs' arrays (a constant input is kept as its array; a recorded pass hands the vjps Values).  Two
        # inputs are passed by name: Python runs a comprehension and *inputs slower (the scalar chain by 12 %).
        if graph:  # (the vjps get the Values and the constants' arrays, as backward_reach reads them: g is a Value)
            inputs: Any = parents
            params = _given_params(node)  # (without what a saving forward kept: a recorded pass computes it again)
        elif len(parents) == 2:
            inputs = (first if first.__class__ is ndarray else first._data,
                      second if second.__class__ is ndarray else second._data)
        elif second is None:  # one input (σ, tanh…): no comprehension (with _node's case: element-wise chain 0.96×)
            inputs = (first if first.__class__ is ndarray else first._data,)
        else:
            inputs = [p if p.__class__ is ndarray else p._data for p in parents]
        out, pair = node._data, len(inputs) == 2
        # A product of single float64 numbers: its rules g·b and g·a by Python floats, as in _binary's forward (the
        # same bits; a result that is not a normal number goes to numpy): the scalar chain by 7 %.
        # A sum's rule is g itself, which for a 0-d float64 sum is a 0-d float64 array: handed on as it is, with no
        # call of the rule and no checks (the scalar chain by 1.1 % of its instructions).
        vjps = op.vjps
        floats = ((vjps is _MUL_RULES or vjps is _ADD_RULES) and not graph and not out.ndim and out.dtype is _FLOAT64
                  and g.dtype is _FLOAT64)
        for i in range(len(parents)):  # (indices, not zip(), which makes five objects a node: the scalar chain −1.6 %)
            parent = parents[i]
            if parent.__class__ is ndarray:
                continue
            vjp = vjps[i]
            order = parent._order
            if order <= node._order:  # changed in place after this node was computed from it (_creation)
                raise _stale(node, parent, "backward", output)
            # (older than every input asked for, or on no path to one: leads to none)
            if order > oldest or not parent.requires_grad or (leading is not None and id(parent) not in leading):
                if not parent.requires_grad and parent._op is not None:  # (a frozen leaf pays one more look)
                    raise _unflagged_or_stale(node, parent, "backward", output)
                continue
            grad_in: Any  # an array; a Value when the pass is recorded
            try:  # (free in Python 3.11+ until something raises)
                if graph:
                    grad_in = _differentiable_vjp(op, vjp, g, node, params or _NO_PARAMS, parent, inputs)
                elif params:
                    grad_in = vjp(g, out, *inputs, **params)
                elif floats and vjps is _ADD_RULES:
                    grad_in = g
                elif floats:  # (the first input's rule is g·b, the second's g·a)
                    product = float(g) * float(inputs[1] if vjp is _MUL_BY_FIRST else inputs[0])
                    grad_in = asarray(product) if _NORMAL_MIN <= abs(product) <= _NORMAL_MAX else vjp(g, out, *inputs)
                elif pair:
                    grad_in = vjp(g, out, inputs[0], inputs[1])
                elif second is None:  # (one input, tanh: a call Python specializes, not one of *inputs)
                    grad_in = vjp(g, out, inputs[0])
                else:
                    grad_in = vjp(g, out, *inputs)
            except Exception as error:  # (the handler is a call: the walk's code reads at once)
                grad_in = _vjp_raised(error, op, vjp, g, node, parent, parents, inputs, params, graph)
            if grad_in.__class__ is not ndarray and grad_in.__class__ in _NUMPY_FLOATS:  # numpy's 0-d arithmetic
                grad_in = asarray(grad_in)  # gives numpy scalars
            data = parent._data
            if floats and not checked and data.dtype is _FLOAT64:
                pass  # g·b by floats above, or g: a 0-d float64 array, as is the parent (a 0-d result's inputs are 0-d)
            elif checked or grad_in.__class__ is not ndarray or grad_in.dtype is not data.dtype:
                grad_in = _fit(grad_in, parent, op, parents, graph)  # `is`: an equal dtype, another object, too
            elif grad_in.shape != data.shape:
                # A bias's gradient, a batch of rows summed to one row (_fit's sum_to, to the bit, without the
                # checks that this array of the parent's dtype passes): 5–7 % off the x² update
                grad_in = _ADD_REDUCE(grad_in, 0) if data.ndim and grad_in.shape[1:] == data.shape else _fit(
                    grad_in, parent, op, parents, graph)
            key = id(parent)
            previous = pending.get(key)
            if previous is None:
                pending[key] = grad_in
                push(waiting, (order, key, parent))
            else:
                total = previous + grad_in
                if checked and not graph and not np.isfinite(total).all():  # (a recorded sum is an add, checked)
                    raise _non_finite_sum(parent, "summed over the operations that use it (each part finite)")
                # 0-d sums come back as numpy scalars
                pending[key] = total if graph or total.__class__ is ndarray else asarray(total)
    _accumulate(leaves, only, graph, writes)


def _computed_grads(output: Value, only: list[Value] | None) -> list[tuple[Value, Any]]:
    """The computed Values a walk from ``output`` may write the ``.grad`` of, with the ``.grad`` each has before it
    (noted in ``LEAF_WRITES`` after the walk: a transform puts them back, as it puts back the leaves')."""
    return [(node, node.grad) for node in _visited(output, only, "backward")[0] if node._op is not None]


def _vjp_raised(error: Exception, op: Op, vjp: Any, g: Any, node: Value, parent: Value, parents: tuple[Any, ...],
                inputs: Any, params: dict | None, graph: bool) -> Any:
    """What the walk does when ``node``'s vjp for ``parent`` raised ``error``: a TypeError or ValueError is raised
    again naming the operation (``_vjp_failed``); numpy's underflow, under a caller's ``np.errstate(under="raise")``,
    is computed again without it where it is rounding, as in ``_record`` (``_without_underflow``, which returns the
    gradient); any other error (a KeyError, an assert of its own) is kept as it is, with a note naming the Op."""
    try:
        if isinstance(error, (TypeError, ValueError)):
            _vjp_failed(op, parents, parent, error, node)
        if isinstance(error, FloatingPointError):
            if graph:
                return _without_underflow(op, error, _differentiable_vjp, op, vjp, g, node, params or _NO_PARAMS,
                                          parent, inputs)
            return _without_underflow(op, error, vjp, g, node._data, *inputs, **(params or _NO_PARAMS))
        _name_in_a_note(error, op, parents, parent, node)
        raise error
    finally:  # the error's traceback holds this frame: without the del, a reference cycle would keep the walk's
        del error  # graph alive after the error was dropped, until the cyclic collector ran (as in _vjp_failed)


def _read_only_for_the_walk(output: Value) -> list[np.ndarray]:
    """Under ``detect_anomaly`` (the debugging mode, whose walk checks every gradient): the arrays that the vjps are
    handed (every Value's of ``output``'s graph, its constant inputs and array parameters, ``saved=`` too) made
    read-only for the walk, so that a vjp writing into x or out in place (``x *= 2``) raises, naming its Op, where
    an ordinary pass cannot afford to look; returned: those it changed, to make writeable again."""
    changed: list[np.ndarray] = []
    seen: set[int] = set()
    waiting = [output]
    while waiting:
        node = waiting.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        arrays = [node._data]
        given = list((node._params or _NO_PARAMS).values())
        while given:  # (saved= may be a tuple of arrays, (out, (a, b)) of a saving forward)
            x = given.pop()
            if isinstance(x, np.ndarray):
                arrays.append(x)
            elif isinstance(x, (tuple, list)):
                given.extend(x)
        for parent in _inputs(node):
            if parent.__class__ is np.ndarray:
                arrays.append(parent)
            else:
                waiting.append(parent)
        with _HELD_LOCK:  # (registered before it is frozen: a step that finds it read-only finds it held too)
            for array in arrays:
                if id(array) in _HELD or _UNHELD_VIEWS.pop(id(array), None) is not None:  # another walk's: share it
                    _HELD.setdefault(id(array), []).append(threading.get_ident())
                    changed.append(array)
                elif array.flags.writeable:
                    _HELD[id(array)] = [threading.get_ident()]
                    array.flags.writeable = False
                    changed.append(array)
    return changed


def _let_go(frozen: list[np.ndarray]) -> None:
    """The end of a walk that held ``frozen`` (``_read_only_for_the_walk``'s): each array held by no other walk is
    writeable again, an owner before its views; a view whose owner another walk still holds waits for it."""
    me = threading.get_ident()
    with _HELD_LOCK:
        for array in sorted(frozen, key=lambda array: array.base is not None):
            holders = _HELD[id(array)]
            holders.remove(me)
            if not holders:
                del _HELD[id(array)]
                _UNHELD_VIEWS[id(array)] = array
        for key, array in sorted(_UNHELD_VIEWS.items(), key=lambda item: item[1].base is not None):
            try:
                array.flags.writeable = True
            except ValueError:  # (its owner is read-only: held by a walk still going)
                continue
            del _UNHELD_VIEWS[key]


def _walk_limit(output: Value, inputs: list[Value] | None) -> int:
    """How far back a walk from ``output`` towards ``inputs`` goes: to the creation number of the oldest input (they
    count down), since a Value made before it cannot have been computed from any of them.  Only computed inputs set
    a limit (autodiff's copies of its arguments): a leaf may have been changed in place since the graph used it,
    which gave it a new number, and the walk must reach that use to find the stale graph.  1, older than every
    Value, leaves nothing out."""
    if inputs is None or any(x._op is None or x._order < output._order for x in inputs):
        return 1
    return max(x._order for x in inputs)


def _wanted_inputs(inputs: Any, where: str) -> list[Value]:
    """The ``inputs`` of ``backward`` (or of ``backward_order``, ``where``): a Value or a non-empty list of Values
    that require a gradient."""
    values = [inputs] if isinstance(inputs, Value) else inputs
    if isinstance(values, (str, bytes, np.ndarray)) or not isinstance(values, Iterable):
        raise TypeError(f"{where}: inputs must be a Value or a list of Values, got {_described(inputs)}")
    values = list(values)
    if not values:
        raise ValueError(f"{where}: inputs is empty; leave it out for the gradients of every leaf")
    for i, x in enumerate(values):
        if not isinstance(x, Value):
            raise TypeError(f"{where}: inputs[{i}] must be a Value, got {_described(x)}")
        if not x.requires_grad:
            raise ValueError(f"{where}: inputs[{i}] (shape {x.shape}) does not require a gradient")
    return values


_NUMPY_FLOATS = (np.float64, np.float32)
_ADD_REDUCE = np.add.reduce  # (the walk's sum of a bias's gradient over the batch)


def _check_own_grad(leaf: Value) -> None:
    """A ``.grad`` the next backward pass adds to must be numbers of the leaf's shape (it may have been set by
    hand); else, before any gradient changes, an error: numpy would broadcast a wrong shape silently."""
    grad = leaf.grad
    if not isinstance(grad, (np.ndarray, Value)) or grad.shape != leaf._data.shape:
        described = f"shape {grad.shape}" if isinstance(grad, (np.ndarray, Value)) else _described(grad)
        raise ValueError(f"backward: a leaf of shape {leaf._data.shape} has a .grad of {described}, which its "
                         "gradient cannot be added to; set .grad to None (zero_grad()) or to an array of its shape")


def _accumulate(leaves: list[tuple[Value, Any]], only: list[Value] | None, graph: bool,
                writes: list[tuple[Any, Any, Any]] | None = None) -> None:
    """The end of a walk: each leaf's gradient added to its ``.grad`` (at first a copy of its own, then the sum);
    given ``only``, just theirs, and no other leaf's ``.grad`` is read (another thread may be changing it).  Each
    write is noted in ``writes``, ``LEAF_WRITES`` where a transform has set it."""
    if only is not None:
        wanted = {id(x) for x in only}
        leaves = [(leaf, g) for leaf, g in leaves if id(leaf) in wanted]
        captured = CAPTURED_GRADIENTS.get()
        if captured is not None:  # an autodiff pass: no .grad changes (see CAPTURED_GRADIENTS)
            captured.update((id(leaf), ops.copy(g) if graph else np.array(g, copy=True)) for leaf, g in leaves)
            return
    with _ACCUMULATING:  # (read .grad, add, write it back: two threads' passes would each add to the same old one)
        for leaf, _ in leaves:
            if leaf.grad is not None:
                _check_own_grad(leaf)  # all of them before any leaf's gradient changes
        if _anomaly_mode():  # (the walk checked each gradient and their sums, not what they add up to with .grad)
            _check_finite_leaves(leaves)
        kept = [leaf.grad for leaf, _ in leaves]  # (new arrays are assigned, never added into: these stay as they are)
        try:
            for leaf, g in leaves:
                if leaf.grad is None:
                    leaf.grad = ops.copy(g) if graph else np.array(g, copy=True)
                else:
                    total = leaf.grad + g  # (a .grad set by hand in another dtype, np.zeros(shape): the leaf's again)
                    if not isinstance(total, Value):
                        total = np.asarray(total, dtype=leaf._data.dtype)
                    elif total._data.dtype != leaf._data.dtype:  # (a Value .grad of another dtype: model.float())
                        total = total.astype(leaf._data.dtype)
                    leaf.grad = total
        except BaseException:  # Ctrl-C halfway, some leaves' .grad added to and others not: none, as in any pass
            for (leaf, _), grad in zip(leaves, kept, strict=True):  # that raises
                leaf.grad = grad
            raise
        if writes is not None:  # (inside a transform's f: see LEAF_WRITES)
            writes.extend((leaf, grad, leaf.grad) for (leaf, _), grad in zip(leaves, kept, strict=True))


#: Held while a backward pass adds its gradients to the leaves' ``.grad``: passes in several threads through shared
#: parameters (a batch split between threads, each calling backward) add up as they would one after the other, as
#: PyTorch's do, instead of losing one thread's gradient to another's write.  Reentrant: a ``.grad`` of one's own
#: whose ``+`` runs a backward pass waits for nothing.
_ACCUMULATING = threading.RLock()


def _check_finite_leaves(leaves: list[tuple[Value, Any]]) -> None:
    """Under ``detect_anomaly``, before any ``.grad`` changes: a leaf's gradient that overflows when added to the
    finite ``.grad`` it has is an error naming the leaf (a ``.grad`` that was NaN or inf before is not this pass's).
    The sum is checked in the leaf's dtype, as ``.grad`` keeps it: a float64 ``.grad`` set by hand on a float32 leaf
    adds up to 6e38 there, inf in float32."""
    for leaf, g in leaves:
        if leaf.grad is None:
            continue
        old = _data_of(leaf.grad)
        with np.errstate(all="ignore"):
            if not np.isfinite(old).all() or np.isfinite((old + _data_of(g)).astype(leaf._data.dtype)).all():
                continue
        raise _non_finite_sum(leaf, "added to its .grad")


def _non_finite_sum(value: Value, how: str) -> FloatingPointError:
    """``detect_anomaly``'s error for a gradient of ``value`` that became NaN or inf in a sum of finite ones (which
    no operation computed, so ``_fit``, which checks each operation's, did not see it)."""
    name = repr(value.label) if value.label else f"a Value of shape {value.shape}"
    made = f"computed by {value.op}" if value.op else "a leaf"
    return FloatingPointError(f"backward: the gradient of {name} ({made}) holds NaN or inf once {how}")


def backward_order(output: Value, inputs: Any = None) -> list[Value]:
    """The Values ``output.backward()`` visits, in the order it visits them: ``output`` first, then every Value
    that needs a gradient after all the Values that use it (the order a backprop player steps through); given
    ``inputs``, those that ``output.backward(inputs=inputs)`` looks at, of which it visits ``output`` and the ones on
    a path to one of ``inputs``.  What backward refuses it refuses, with backward's error: a stale graph, a computed
    Value whose ``requires_grad`` was set to False by hand."""
    _check_value(output, "output", "backward_order")
    wanted = None if inputs is None else _wanted_inputs(inputs, "backward_order")
    return _in_backward_order(_visited(output, wanted, "backward_order")[0])


def backward_reach(output: Value, inputs: Any) -> tuple[list[Value], bool, bool]:
    """``(values, others, leading)`` from one walk: ``values``, those of ``backward_order(output, inputs)`` in the
    order the walk found them (not sorted into backward's); ``others``, whether they use a Value that needs a
    gradient other than ``inputs`` (a leaf, or a Value made before all of them, where a walk towards computed inputs
    stops); ``leading``, when not, whether each of them leads to one of ``inputs`` (so that ``backward()`` walks
    the same Values as ``backward(inputs=inputs)``).  A graph's constant inputs stay arrays (``Value.parents``
    would make them Values).

    >>> x = Value(2.0)
    >>> y = x * x
    >>> backward_reach(y * Value(3.0), [y])[1:]    # the 3 is another leaf: others
    (True, False)
    """
    _check_value(output, "output", "backward_reach")
    wanted = _wanted_inputs(inputs, "backward_reach")
    order, beyond, bare = _visited(output, wanted, "backward_reach")
    own = {id(x) for x in wanted}
    others = beyond or any(node._op is None and id(node) not in own for node in bare)
    return order, others, not others and all(id(node) in own for node in bare)


def _visited(output: Value, wanted: list[Value] | None, where: str) -> tuple[list[Value], bool, list[Value]]:
    """The Values of :func:`backward_order`, in the order the walk finds them (:func:`_in_backward_order` sorts
    them), with errors naming ``where``; and for :func:`backward_reach`, whether an input that needs a gradient lies
    beyond the walk's limit, and the Values visited that have no input needing one.  The walk is breadth-first,
    backward's newest first: of several stale (or frozen computed) inputs it names the one backward meets first,
    that of the newest Value."""
    oldest = _walk_limit(output, wanted)
    found = {id(output): output}
    stack = [output]
    beyond, bare, ndarray, bad = False, [], np.ndarray, None
    for node in stack:  # (the list grows as the loop goes: each Value once)
        fed, first, second = False, node._first, node._second  # (_inputs(node) written out: a call per node)
        inputs = () if first is None else (first,) if second is None else (first, second, *node._rest)
        for parent in inputs:  # (one loop over the inputs, _check_fresh's test in it: a fifth of the walk)
            if parent.__class__ is ndarray:
                continue
            order = parent._order
            if order <= node._order:  # as backward would raise, at the newest such node (its first such input)
                bad = (node, parent) if bad is None or node._order < bad[0]._order else bad
                break
            if not parent.requires_grad:
                if parent._op is not None:  # (as backward would raise: it cuts the walk)
                    bad = (node, parent) if bad is None or node._order < bad[0]._order else bad
                    break
                continue
            fed = True
            if order > oldest:
                beyond = True
            elif (key := id(parent)) not in found:
                found[key] = parent
                stack.append(parent)
        if not fed:
            bare.append(node)
    if bad is not None:
        node, parent = bad
        raise _stale(node, parent, where, output) if parent.requires_grad else _unflagged_or_stale(
            node, parent, where, output)
    return stack, beyond, bare


def _in_backward_order(nodes: list[Value]) -> list[Value]:
    """``nodes`` in the order backward visits them: newest first (the heap's order, ties between leaves by id)."""
    return sorted(nodes, key=lambda node: (node._order, id(node)))


def _leading(output: Value, wanted: list[Value], order: list[Value] | None = None) -> set[int]:
    """The ids of ``wanted`` and of the Values from which a path leads to one of them, among those a walk from
    ``output`` looks at (refusing what backward refuses): the only ones whose gradients ``backward(inputs=wanted)``
    needs.  It leaves the others out, as PyTorch does: computed, one that is NaN (the slope of xⁿ in a Value n that
    requires a gradient, xⁿ·ln x, at x < 0) made numpy warn and ``detect_anomaly`` stop a pass whose result is
    finite.  ``order``: the Values of ``backward_order(output, wanted)``, in any order, if the caller has them (see
    ``WALK_SETUP``)."""
    leading = {id(x) for x in wanted}
    order = _in_backward_order(_visited(output, wanted, "backward")[0] if order is None else order)
    for node in reversed(order):  # (oldest first: a node's inputs are older)
        if not leading.isdisjoint(map(id, _inputs(node))):
            leading.add(id(node))
    return leading


def _leading_once(output: Value, wanted: list[Value]) -> set[int]:
    """``_leading(output, wanted)``, found once for the passes ``WALK_SETUP`` names (see there)."""
    setup = WALK_SETUP.get()
    if setup is None or setup[0] is not output or len(setup[1]) != len(wanted) or any(
            x is not y for x, y in zip(setup[1], wanted)):
        return _leading(output, wanted)
    if len(setup) == 3:
        setup.append(_leading(output, wanted, setup[2]))
    return setup[3]


def local_gradients(node: Value, upstream: Any, *,
                    constants: Collection[Value] = ()) -> list[tuple[int, Value, np.ndarray]]:
    """One step of backpropagation at ``node``, as :meth:`Value.backward` takes it: given ``upstream`` = ∂C/∂node,
    for each input ``i`` that needs a gradient, ``(i, parent, ∂C/∂parent through this edge)`` (the chain rule:
    upstream times the local derivative, summed back over broadcasting), each an array of its own (not ``upstream``
    itself nor a view: summing them with ``+=`` is safe).  Inputs listed in ``constants`` are differentiated too
    although they need no gradient (a drawing's edge to the target y; backward skips them).  What backward refuses
    it refuses, with backward's error: a stale graph, an input whose ``requires_grad`` was set to False by hand.

    >>> w, a = Value(0.5), Value(2.0, requires_grad=False)
    >>> z = w * a
    >>> local_gradients(z, 1.0)    # ∂z/∂w = a
    [(0, Value(data=0.5, grad=None), array(2.))]
    """
    _check_value(node, "node", "local_gradients")
    wanted = {id(c) for c in _values(constants, "constants", "local_gradients")}
    if node._op is None:
        return []
    _check_not_bool(upstream, "local_gradients: upstream")
    try:
        g = _to_array(upstream, node.dtype)
    except (TypeError, ValueError) as error:
        raise type(error)(f"local_gradients: upstream: {str(error).removeprefix('Value: ')}") from None
    if g.shape != node.shape:
        raise ValueError(f"local_gradients: upstream has shape {g.shape} but the node has shape {node.shape}")
    parents = node.parents
    _check_fresh(node, parents, "local_gradients")
    for parent in parents:
        if not parent.requires_grad and parent._op is not None:
            raise _unflagged(parent, "local_gradients")  # (as backward would: it cuts the walk there)
    inputs = [p._data for p in parents]
    params = node._params or _NO_PARAMS
    op = node._op
    found: list[tuple[int, Value, np.ndarray]] = []
    for i, (parent, vjp) in enumerate(zip(parents, op.vjps)):
        if parent.requires_grad or id(parent) in wanted:
            grad = _fit(_local_vjp(op, vjp, g, node, inputs, params, parent), parent, op, parents)
            if grad is g or not grad.flags.owndata or any(grad is other for _, _, other in found):  # (shared)
                grad = grad.copy()  # (copied only then: a drawing of a large batch holds no second copy of one)
            found.append((i, parent, grad))
    return found


def _local_vjp(op: Op, vjp: Any, g: np.ndarray, node: Value, inputs: list[np.ndarray], params: dict,
               parent: Value) -> Any:
    """``vjp`` for ``parent`` at ``node``, on arrays; its error names the operation (``_vjp_failed``)."""
    try:
        return vjp(g, node._data, *inputs, **params)
    except (TypeError, ValueError) as error:
        _vjp_failed(op, node.parents, parent, error, node)
    except Exception as error:  # any other (a KeyError of its own): kept, with backward's note naming the Op
        _name_in_a_note(error, op, node.parents, parent, node)
        raise


def _check_not_bool(grad: Any, where: str) -> None:
    """An upstream gradient given as True or False is an error (as in PyTorch), not a seed of 1 or 0."""
    if isinstance(grad, (bool, np.bool_)):
        raise TypeError(f"{where} must be numbers, not the bool {grad!r}")


def _check_value(x: Any, name: str, where: str) -> None:
    if not isinstance(x, Value):
        raise TypeError(f"{where}: {name} must be a Value, got {type(x).__name__} {x!r:.60}")


def _values(values: Any, name: str, where: str) -> list[Value]:
    """``values`` (a list, tuple or set of Values) as a list; anything else is a TypeError naming ``where``."""
    if isinstance(values, (Value, np.ndarray)) or not isinstance(values, Iterable):
        raise TypeError(f"{where}: {name} must be a collection of Values, got {type(values).__name__}")
    values = list(values)
    for x in values:
        _check_value(x, f"every entry of {name}", where)
    return values


def _axis_in(axis: Any, numbers: tuple[int, ...]) -> bool:
    """Whether ``axis`` is an integer (not a bool) among ``numbers``."""
    return isinstance(axis, (int, np.integer)) and not isinstance(axis, bool) and int(axis) in numbers


def _refuse_values_and_indices(name: str, axis: Any, result: Value, ndim: int, keepdims: bool) -> None:
    """PyTorch's ``_, idx = v.max(1)``, refused (see ``_values_and_indices``) where Value.max or min (``name``) over
    one integer ``axis`` (PyTorch's max takes one dim) has its ``result`` unpacked into two names by its caller."""
    if axis is not None and axis.__class__ is not tuple:
        spelling = _unpacked_in_two()
        if spelling is not None:
            raise _values_and_indices(name, axis, spelling, result.shape, ndim, keepdims)


def _unpacked_in_two() -> str | None:
    """How the call of Value.max or min under way was written where its result is unpacked into two names, ``"v"``
    for ``_, idx = v.max(1)`` and numpy's function's name for ``_, idx = np.max(v, 1)`` (PyTorch's
    ``torch.max(x, 1)``): ``"max"``, ``"amax"`` for np.amax, "" where it is not found.  None where it is not unpacked
    (see ``checks.unpacked_in_two``), and where the method has no Python caller (called back from C alone, by a
    thread of ``_thread``)."""
    try:
        frame: Any = sys._getframe(3)  # (0: this function, 1: the refusal, 2: Value.max or min, 3: its caller)
    except ValueError:  # ("call stack is not deep enough")
        return None
    through, spelling = None, "v"  # (np.max(v, 1): the frame of __array_function__, which knows numpy's function)
    if frame.f_globals.get("__name__", "").startswith("numpy."):  # np.max(v, 1): numpy's frames, __array_function__
        spelling = ""
        while frame is not None and (frame.f_globals.get("__name__", "").startswith("numpy.")
                                     or frame.f_code is Value.__array_function__.__code__):
            through = frame if frame.f_code is Value.__array_function__.__code__ else through
            frame = frame.f_back
        if frame is None:
            return None
    if not checks.unpacked_in_two(frame, names=("max", "min", "amax", "amin")):
        return None
    return spelling if through is None else getattr(through.f_locals.get("function"), "__name__", "")


def _values_and_indices(name: str, axis: Any, spelling: str, shape: tuple[int, ...], ndim: int,
                        keepdims: bool) -> TypeError:
    """The refusal of ``_, idx = v.max(1)`` (of a Value with ``ndim`` axes, its result of ``shape``): two names would
    get two of the maxima, silently, where there are two (a matrix of two rows' maxima over axis 1; over axis 0, of
    two columns'), and else fail in Python's unpacking (a vector's one maximum, three rows' three)."""
    what = "maxima" if name == "max" else "minima"
    given = f"{axis!r}" + (", keepdims=True" if keepdims else "")
    call = f"v.{name}({given})" if spelling == "v" else f"np.{spelling or name}(v, {given})"
    if not shape:
        taken = f"a single number, which does not unpack ({what[:-1]}um of a vector)"
    elif shape[0] != 2:
        taken = f"{shape[0]} {what}, which do not unpack into two"
    elif ndim == 2 and not keepdims:
        taken = f"the {what} of its two {'rows' if int(axis) % 2 else 'columns'}, silently"
    else:
        taken = f"the {what} split in two along their first axis, silently"
    both = f"; to unpack the two {what}, index them (m = {call}; m[0], m[1])" if shape[:1] == (2,) else ""
    return TypeError(f"{name}: {call} gives the {what} alone (numpy's meaning), not PyTorch's pair of values and "
                     f"indices, so two names would get {taken}: the indices are v.data.arg{name}(axis={axis!r}) (an "
                     f"index has no derivative), the values {call}{both}")


def _numpy_defaults(name: str, keywords: dict[str, Any], own: Value, axis: Any = None,
                    keepdims: Any = False) -> None:
    """``np.sum(v)`` and its kind call ``v.sum(axis=..., out=None, dtype=None)``: numpy's defaults are fine, and so is
    the dtype of ``own`` (the Value: ``np.sum(v, dtype=v.dtype)`` computes what numpy's default does); anything else
    (an ``out=`` array, another dtype) is refused by name.  PyTorch's ``dim=`` and ``keepdim=`` are refused with the
    whole call to write, ``axis`` and ``keepdims`` (the call's own) included: ``v.sum(dim=1, keepdim=True)`` is
    ``v.sum(axis=1, keepdims=True)``, where naming one keyword alone would drop the other's meaning."""
    if "dim" in keywords or "keepdim" in keywords:  # (PyTorch's and minitorch's words for numpy's)
        _refuse_pytorch_words(name, keywords, axis, keepdims)
    for key, value in keywords.items():
        if key == "dtype" and value is not None:  # (np.mean(v, dtype=np.float64): to average float32 in float64)
            try:
                wanted: np.dtype | None = np.dtype(value)
            except TypeError:
                wanted = None
            if wanted == own._data.dtype:  # (the sum or mean numpy computes without it)
                continue
            if wanted is not None and wanted in _FLOAT_DTYPES:  # (not `None in`: numpy takes None for float64)
                raise TypeError(f"{name}: dtype=np.{wanted} is not supported on Values; convert the Value instead, "
                                f"v.astype(np.{wanted}).{name}(), which computes in {wanted} (its gradient is "
                                "converted back)")
        if key not in ("out", "dtype", "initial", "where") or value is not None:
            raise TypeError(f"{name}: {key}={value!r} is not supported on Values (only axis and keepdims)")


def _refuse_pytorch_words(name: str, keywords: dict[str, Any], axis: Any, keepdims: Any) -> None:
    """The TypeError of ``v.sum(dim=1, keepdim=True)`` and its kind: the whole call in numpy's words to write."""
    axis, keepdims = keywords.get("dim", axis), keywords.get("keepdim", keepdims)
    axis = tuple(axis) if isinstance(axis, list) else axis  # (PyTorch's dim=[2, 3]: axis takes a tuple)
    # (PyTorch's dim=() reduces every axis, numpy's axis=() none; an axis=() given with keepdim= is numpy's)
    every = "dim" in keywords and isinstance(axis, tuple) and not axis
    axis = None if every else axis
    note = f" (PyTorch's dim={keywords.get('dim')!r} reduces every axis, numpy's axis=() none)" if every else ""
    written = ", ".join([f"axis={axis!r}"] * (axis is not None) + [f"keepdims={keepdims!r}"] * (keepdims is not False))
    if "dim" in keywords and name in ("max", "min"):  # (PyTorch's x.max(dim=1) is a pair: values and indices)
        if every or isinstance(axis, tuple) and len(axis) != 1:  # (PyTorch's amax; numpy's argmax: one axis)
            raise TypeError(f"{name}: there is no dim= here; v.{name}({written}) gives the values alone (PyTorch's "
                            f"a{name}: its {name} takes one dim, with indices along it){note}")
        one = ", ".join([f"axis={axis[0] if isinstance(axis, tuple) else axis!r}"] * (axis is not None)
                        + [f"keepdims={keepdims!r}"] * (keepdims is not False))  # (argmax takes no tuple, (1,) too)
        raise TypeError(f"{name}: there is no dim= here; v.{name}({written}) gives the values alone, and "
                        f"PyTorch's indices are v.data.arg{name}({one}) (an index has no derivative)")
    keys = [key for key in ("dim", "keepdim") if key in keywords]
    words = " and ".join(f"{'axis' if key == 'dim' else 'keepdims'}=" for key in keys)
    are = "they are" if len(keys) == 2 else "it is"
    raise TypeError(f"{name}: there is no {' and no '.join(f'{key}=' for key in keys)} here, {are} called {words} "
                    f"(numpy's word{'s' * (len(keys) == 2)}): write v.{name}({written}){note}")


def _data_of(x: Any) -> Any:
    return x._data if isinstance(x, Value) else x


_UFUNC_OPS = {np.add: ops.add, np.subtract: ops.sub, np.multiply: ops.mul, np.divide: ops.div, np.power: ops.power,
              np.matmul: ops.matmul, np.negative: ops.neg, np.exp: ops.exp, np.log: ops.log, np.sqrt: ops.sqrt,
              np.absolute: ops.absolute, np.tanh: ops.tanh, np.maximum: ops.maximum}
_UFUNC_NAMES = sorted(u.__name__ for u in _UFUNC_OPS)
_IN_PLACE_UFUNCS = {op: ufunc for ufunc, op in _UFUNC_OPS.items()}  # the ufunc of ops.add …, for v += x
#: Why np.add(a, v, key=...) is refused, and what to write, for each ufunc keyword ``key`` that has a reason.
_UFUNC_KEYWORDS = {
    "out": "an array cannot hold a graph: `a += v` is refused, `a = a + v` is a new Value; drop out=",
    "dtype": "convert the Value instead, v.astype(dtype), and np.{name} computes in its dtype",
    "where": "numpy would leave the other elements unset; write functional.where(mask, np.{name}(…), other), with "
             "the masked-out inputs replaced first, functional.where(mask, v, 1.0) (else a NaN they give there makes "
             "the gradient NaN: 0 · NaN)"}
#: numpy's keywords of a ufunc call at their defaults (which numpy passes on as given): what they ask is what a Value's
#: operation does anyway, so ``np.exp(v, where=True)`` is ``np.exp(v)``.
_UFUNC_DEFAULTS: dict[str, Any] = {"where": True, "casting": "same_kind", "order": "K", "dtype": None, "subok": True,
                                   "signature": None}


def _numpy_default(keyword: tuple[str, Any]) -> bool:
    """Whether a ufunc's keyword argument ``(name, value)`` is numpy's default (the very object: ``where=True``,
    not ``where=1`` or an array)."""
    name, value = keyword
    default = _UFUNC_DEFAULTS.get(name, ...)
    return value is default if default in (None, True) else type(value) is str and value == default


_CONSTANT_UFUNCS = {np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal, np.sign,
                    np.isfinite, np.isnan, np.isinf}
