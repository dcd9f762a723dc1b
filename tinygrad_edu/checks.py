"""Argument checks shared by the whole package: flags, integers, numbers (one, or a sequence of them), significant
digits, text (a title), arrays of real numbers and class labels (``label_numbers``, for cross_entropy and one_hot);
and how an int reads in an error message.

One convention everywhere: a wrong type is a ``TypeError``, a wrong value a ``ValueError``, and the message reads
``"{where}: {name} must be …, got …"``, naming the function (``where``) and the argument (``name``) at fault.
A bool is never taken for a number.  Numpy only; nothing here imports the rest of the package.
"""

from __future__ import annotations

import contextlib
import decimal
import difflib
import dis
import functools
import inspect
import math
import opcode
import os
import re
import sys
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, MappingView, Sequence
from collections.abc import Set as AbstractSet
from numbers import Number, Rational, Real
from types import FrameType
from typing import Any, NoReturn, TypeVar, cast

import numpy as np

__all__ = ["flag", "integer", "number", "numbers", "precision", "real_array", "pytorch_keywords", "readable_int",
           "Absent", "present", "no_attribute", "other_library_name", "minitorch_name", "counted", "listed", "masked",
           "unmasked", "python_ints", "first_index", "label_numbers", "missing_value", "not_a_dataset",
           "not_an_array", "reloaded", "reloaded_error", "same_index",
           "one_argument", "misspelt_keyword", "outside_the_package", "text", "language", "advice_on_import",
           "unpacked_in_two", "unpacked_into", "call_under_way", "looped_over_a_call",
           "naming_the_file", "saved_without_stars"]


def _shown(value: Any) -> str:
    """A value for an error message: its type and its repr, cut to 60 characters."""
    return f"{type(value).__name__} {value!r:.60}"


def _range(least: float | None, most: float | None, above: float | None, below: float | None) -> str:
    """What a number within these bounds must do: ``"be > 0"`` for one bound, ``"lie in [0, 1)"`` for two."""
    # on each side the tighter bound, where both are given (an open one at the same number is the tighter)
    low, low_closed = (above, False) if above is not None and (least is None or above >= least) else (least, True)
    high, high_closed = (below, False) if below is not None and (most is None or below <= most) else (most, True)
    if low is not None and high is not None:
        return f"lie in {'[' if low_closed else '('}{_bound(low)}, {_bound(high)}{']' if high_closed else ')'}"
    if low is not None:
        return f"be {'>=' if low_closed else '>'} {_bound(low)}"
    assert high is not None, "no bounds given"
    return f"be {'<=' if high_closed else '<'} {_bound(high)}"


def _bound(bound: float) -> str:
    """A bound written in full (``123456789``, not ``1.23457e+08``, which a value just below it would seem to pass)."""
    return repr(int(bound)) if float(bound).is_integer() and abs(bound) < 1e16 else repr(float(bound))


def readable_int(value: int, grouped: bool = False) -> str:
    """An int for an error message: its digits (in threes, ``1,000``, if ``grouped``), or ``about 10^N`` for one too
    long to read (or for Python to print).

        >>> readable_int(10**400)
        'about 10^400'
    """
    if abs(value) >= 10**30:
        return f"about {'-' if value < 0 else ''}10^{int(math.log10(abs(value)))}"
    return f"{value:,}" if grouped else repr(value)


def flag(value: Any, name: str, where: str) -> bool:
    """``value`` as a bool if it is True or False (numpy's too), else a TypeError.

        >>> flag(True, "shuffle", "fit")
        True
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{where}: {name} must be True or False, got {_shown(value)}")
    return bool(value)


def integer(value: Any, name: str, where: str, least: int | None = None, most: int | None = None) -> int:
    """``value`` as an int if it is a Python or numpy integer (not a bool, not a float) from ``least`` to ``most``.

        >>> integer(3, "episodes", "fit", least=1)
        3
    """
    # (numpy's timedelta64 is a subclass of its integers)
    if isinstance(value, (bool, np.timedelta64)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{where}: {name} must be an integer, got {_shown(value)}")
    if (least is not None and value < least) or (most is not None and value > most):
        wanted = (f"from {least} to {most}" if least is not None and most is not None
                  else f">= {least}" if least is not None else f"<= {most}")
        raise ValueError(f"{where}: {name} must be an integer {wanted}, got {readable_int(int(value))}")
    return int(value)


def number(value: Any, name: str, where: str, *, least: float | None = None, most: float | None = None,
           above: float | None = None, below: float | None = None) -> float:
    """``value`` as a float if it is a finite real number (not a bool) within the bounds given: ``least`` and
    ``most`` closed, ``above`` and ``below`` open.

        >>> number(0.5, "sigma", "Armijo", above=0, below=1)
        0.5
    """
    if isinstance(value, (bool, np.timedelta64)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where}: {name} must be a number, got {_shown(value)}")
    try:
        converted = float(value)
    except OverflowError:  # an int too large for a float: finite, yet no float holds it
        raise ValueError(f"{where}: {name} must be at most {np.finfo(np.float64).max:.4g} in size, got an int of "
                         f"{readable_int(abs(int(value)))}") from None
    if not math.isfinite(converted):
        raise ValueError(f"{where}: {name} must be finite, got {_number_text(value, converted)}")
    if ((least is not None and converted < least) or (most is not None and converted > most)
            or (above is not None and converted <= above) or (below is not None and converted >= below)):
        raise ValueError(f"{where}: {name} must {_range(least, most, above, below)}, "
                         f"got {_number_text(value, converted)}")
    return converted


def _number_text(value: Any, converted: float) -> str:
    """A number refused by :func:`number`: a numpy one as it prints (np.float32(1.1) as 1.1, not as the float64
    1.100000023841858 it converts to), any other as the float it converts to."""
    return str(value) if isinstance(value, np.generic) else repr(converted)


def numbers(value: Any, name: str, where: str) -> tuple[float, ...]:
    """``value``, a sequence of finite real numbers (a list, a tuple or a 1-d array; the points a function has kinks
    at, say), as a tuple of floats; a single number or anything else is a TypeError suggesting ``name=(x,)``.

        >>> numbers([0, 1.5], "kinks", "OpSpec")
        (0.0, 1.5)
    """
    if (isinstance(value, str | bytes | bytearray) or not isinstance(value, Sequence | np.ndarray)
            or getattr(value, "ndim", 1) != 1):  # (bytes are a sequence of small ints, not of numbers meant)
        example = value if isinstance(value, int | float | np.number) else 0.0
        raise TypeError(f"{where}: {name} must be a sequence of numbers, e.g. {name}=({example!r},), got "
                        f"{_shown(value)}")
    return tuple(number(x, f"{name}[{i}]", where) for i, x in enumerate(value))


def precision(value: Any, where: str) -> int:
    """``value`` as a number of significant digits to show numbers with: an integer from 1 to 17 (17 digits tell
    any two float64 apart).

        >>> precision(4, "draw_graph")
        4
    """
    return integer(value, "precision (significant digits)", where, least=1, most=17)


def text(value: Any, name: str, where: str, meaning: str = "") -> str:
    """``value`` if it is a str with more than white space in it (a page's title), else a TypeError (not a str) or
    a ValueError: ``"{where}: {name} must be a non-empty str{meaning}, got …"``.

        >>> text("Backpropagation, step by step", "title", "backprop_player")
        'Backpropagation, step by step'
    """
    if not isinstance(value, str) or not value.strip():
        kind = TypeError if not isinstance(value, str) else ValueError
        raise kind(f"{where}: {name} must be a non-empty str{meaning}, got {_shown(value)}")
    return value


#: A language tag (BCP 47) as HTML's ``lang`` takes it: a language, then subtags of letters and digits.
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")


def language(value: Any, where: str) -> str:
    """``value`` if it is a language tag for a page's ``lang`` (BCP 47: ``"en"``, ``"ja"``, ``"zh-Hans"``), else a
    TypeError (not a str) or a ValueError naming ``where``.

        >>> language("ja", "backprop_player")
        'ja'
    """
    if not isinstance(value, str) or not _LANGUAGE_TAG.fullmatch(value):
        kind = TypeError if not isinstance(value, str) else ValueError
        joined = value.replace("_", "-") if isinstance(value, str) else ""  # (a locale's en_US, as Python writes it)
        dashes = f"; its parts are joined by '-', not '_': {joined!r}" if _LANGUAGE_TAG.fullmatch(joined) else ""
        raise kind(f"{where}: lang must be a language tag (BCP 47) such as 'en', 'ja', 'zh-Hans' or 'pt-BR', "
                   f"got {_shown(value)}{dashes}")
    return value


def masked(value: Any, _within: frozenset[int] = frozenset()) -> bool:
    """Whether ``value`` is a masked array with masked elements, or a list or tuple holding one (at any depth;
    numpy.ma's ``masked``, which iterating a masked array gives, too): ``np.asarray`` would use the numbers under the
    mask.  (``_within``: the lists walked into, so that a list holding itself ends the walk, for numpy to refuse.)"""
    if isinstance(value, (list, tuple)):
        kinds = set(map(type, value))  # (the types first, in C: a list of a million numbers is not walked in Python)
        if kinds <= _NUMBER_TYPES or not any(issubclass(kind, (list, tuple, np.ma.MaskedArray)) for kind in kinds) \
                or id(value) in _within:
            return False
        return any(masked(part, _within | {id(value)}) for part in value)
    return isinstance(value, np.ma.MaskedArray) and bool(np.ma.is_masked(value))


_NUMBER_TYPES = frozenset({float, int, bool, np.float64, np.float32, np.int64, np.bool_})


def python_ints(array: np.ndarray) -> bool:
    """Whether ``array`` holds objects, all of them Python ints (not bools): ints beyond int64, which numpy keeps as
    objects, where a number of int64 would have made an array of integers."""
    return array.dtype.kind == "O" and array.size > 0 and all(type(x) is int for x in array.flat)


def first_index(mask: np.ndarray) -> tuple[int, ...]:
    """The index of ``mask``'s first true element (in C order), as Python ints, for a message: ``(1, 0)``; ``()`` for
    a 0-d mask.  A ValueError where no element is true."""
    found = np.argwhere(mask)
    if not len(found):
        raise ValueError(f"first_index: no element of the mask of shape {np.shape(mask)} is true")
    return tuple(int(i) for i in found[0])


def label_numbers(labels: Any, array: np.ndarray, func: str, classes: int) -> np.ndarray:
    """``array``, the class labels ``labels`` as numpy read them, as numbers: objects that are all whole numbers
    (Python ints, Decimal('1'), Fraction(2), as ints are), and no labels at all, as int64; objects with floats among
    them as float64; a ValueError naming ``func``, the first label that is not whole or is past int64, and its
    index; a TypeError for labels that are no numbers (text, None, pandas' NA)."""
    if array.dtype.kind in "biufc":
        return array
    if not array.size:  # (no labels, none of them wrong: an empty pandas column of objects, or of text)
        return array.astype(np.int64)
    if array.dtype.kind != "O" or not all(isinstance(x, Real | decimal.Decimal) and not isinstance(x, bool | np.bool_)
                                          for x in array.flat):
        raise _not_numbers(labels, array, func, classes)
    beyond = np.array([_past_int64(x) for x in array.flat]).reshape(array.shape)  # (10**400 among floats too)
    if beyond.any():
        at = first_index(beyond)
        where, label = f"at index {at[0] if len(at) == 1 else at}", array[at]  # (as given: 1E+400, 10**400/3)
        raise ValueError(f"one_hot: label {label} is outside 0..{classes - 1} (classes={classes}), {where} "
                         f"of labels of shape {array.shape}" if func == "one_hot" else
                         f"{func}: labels must lie in 0 … {classes - 1} for {classes} classes, got "
                         f"{label} {where} (labels of shape {array.shape})")
    if not all(isinstance(x, Rational | decimal.Decimal) for x in array.flat):  # floats among them (a pandas column)
        return np.array([math.nan if isinstance(x, decimal.Decimal) and x.is_nan() else float(x)  # (sNaN too)
                         for x in array.flat], dtype=np.float64).reshape(array.shape)
    whole = np.array([_finite(x) and x == int(x) for x in array.flat]).reshape(array.shape)
    if not whole.all():
        at = first_index(~whole)
        raise ValueError(f"{func}: class labels must be whole numbers, got {array[at]!r:.40} at index "
                         f"{at[0] if len(at) == 1 else at} (labels of shape {array.shape}): give class indices, "
                         f"ints in 0 … {classes - 1}")
    return np.array([int(x) for x in array.flat], dtype=np.int64).reshape(array.shape)


def _past_int64(x: Any) -> bool:
    """Whether ``x``, an int, Fraction or Decimal, is past int64 (and float64, at 10**400): no label of any class."""
    return isinstance(x, Rational | decimal.Decimal) and _finite(x) and not -2 ** 63 <= int(cast(Any, x)) < 2 ** 63


def _finite(x: Any) -> bool:
    """Whether the number ``x`` is finite: ints and Fractions always (10**400 too, which no float holds); a Decimal
    unless NaN, sNaN or Infinity, which int() refuses."""
    return x.is_finite() if isinstance(x, decimal.Decimal) else isinstance(x, Rational) or math.isfinite(x)


def _not_numbers(labels: Any, data: np.ndarray, func: str, classes: int) -> TypeError:
    """The TypeError for labels that are not numbers, in the user's terms: what they gave (a list of str), its first
    element that is no number and where, and what to give instead (class indices; class names numbered)."""
    elements = np.asarray(labels, dtype=object) if isinstance(labels, list | tuple) else data.astype(object)
    if elements.shape != data.shape:  # (numpy made ['a', 1] all text: the user's own elements say which is not)
        elements = data.astype(object)
    missing = np.array([missing_value(x) for x in elements.flat], dtype=bool).reshape(elements.shape)
    other = np.array([not isinstance(x, Number) or isinstance(x, bool | np.bool_) for x in elements.flat],
                     dtype=bool).reshape(elements.shape)  # (a bool is no class index: [1.0, True] names the True)
    at = first_index(missing if missing.any() else other) if other.any() else (0,) * elements.ndim
    first = elements[at]  # (a missing label first: np.unique fails on it)
    kind, where = "None" if first is None else type(first).__name__, at[0] if len(at) == 1 else at
    shown = "" if first is None else f"{first!r:.30} "
    texts = [x for x in elements.flat if isinstance(x, str | bytes)]
    rows = " or one-hot rows" if func == "cross_entropy" else ""
    given = type(labels).__name__
    given = f"a{'n' * (given[:1].lower() in tuple('aeiou') or given == 'ndarray')} {given}"  # (an Index)
    held = (f"{given} of {kind} ({shown}first, at index {where})" if len(texts) == elements.size
            else f"{given} holding {kind} {shown}at index {where}")
    if missing_value(first):
        advice = "a missing label? leave that sample out, or give its class index"
    elif texts and (read_as := _read_as(labels)):
        advice = f"numbers written as text? give them as {read_as}s: np.asarray(labels).astype({read_as})"
    elif texts:
        advice = (f"class names? give class indices 0 … {classes - 1} instead: names, indices = np.unique(labels, "
                  "return_inverse=True) numbers them in sorted order (names[i] is class i's name); with the data "
                  "set's own list of class names, class_names, [class_names.index(label) for label in labels]")
    else:
        advice = f"give class indices (ints in 0 … {classes - 1}){rows}"
    return TypeError(f"{func}: the labels must be numbers (class indices{rows}), got {held}: {advice}")


def missing_value(x: Any) -> bool:
    """Whether ``x`` marks a missing value (a label, a sample's number): None, or pandas' pd.NA (of a nullable
    column)."""
    return x is None or type(x).__name__ == "NAType"


def _read_as(labels: Any) -> str:
    """The type that reads ``labels`` written as text as numbers, ``np.asarray(labels).astype(kind)`` (``'3'``,
    ``' 1'``, ``'-1'`` as int, ``'1.0'`` as float), tried as the message gives it; "" where neither does (class
    names, ``'²'``, which str.isdigit passes and int() refuses)."""
    for kind in ("int", "float"):
        try:
            np.asarray(labels).astype(kind)
        except (ValueError, TypeError, OverflowError):
            continue
        return kind
    return ""


def unmasked(value: Any, name: str, where: str, error: type[Exception] = TypeError) -> None:
    """Refuse a masked array with masked elements, whose numbers under the mask ``np.asarray`` would use: an error
    (TypeError, or ``error``) naming ``where`` and ``name``."""
    if masked(value):
        plural = name.endswith("s")  # the labels are, eigenvalues are; x is, entry 'w' is
        what = (f"{'hold' if plural else 'holds'} a masked array (or numpy.ma's masked)"
                if isinstance(value, (list, tuple)) else f"{'are' if plural else 'is'} a masked array")
        raise error(f"{where}: {name} {what} with masked elements, whose numbers numpy would use; "
                    "give m.filled(x) or m.compressed() of the masked array m")


def not_a_dataset(value: Any, name: str, where: str, give: str) -> None:
    """Refuse a ``data.Dataset`` (the tuple of inputs and labels that ``train_test_split`` returns) where one of its
    arrays belongs: numpy stacks the two into one array of shape (2, n, ...), or fails to ("inhomogeneous shape"),
    and what follows never names the Dataset.  A TypeError naming ``where`` and ``name``, saying what to ``give``."""
    if isinstance(value, tuple) and getattr(value, "_fields", None) == ("inputs", "labels"):
        verb = "are" if name.endswith("s") else "is"
        raise TypeError(f"{where}: {name} {verb} a Dataset (inputs and labels together), not one array: {give}")


def not_an_array(value: Any, name: str, where: str) -> None:
    """Refuse samples numpy would not make an array of them from: a mapping (a dict, or ``np.load`` of an .npz file,
    whose arrays go by names), a view of one (a dict's keys in their order), a set (whose order is no order of the
    samples), an iterator (numpy makes one object of each, shape ()), a str (``*np.load(path)`` unpacks an archive's
    names), a PyTorch tensor that requires grad (whose ``__array__`` raises torch's RuntimeError), and records of named
    fields (``np.genfromtxt(..., names=True)``), not columns of numbers.  A TypeError naming ``where`` and ``name``
    (``"the inputs"``), saying what to give."""
    verb = "are" if name.endswith("s") else "is"
    fields = getattr(getattr(value, "dtype", None), "names", None)
    if isinstance(fields, tuple):
        _structured(fields, name, verb, where)
    if getattr(value, "requires_grad", False) is True and type(value).__module__.partition(".")[0] == "torch":
        raise TypeError(f"{where}: {name} {verb} a PyTorch {type(value).__name__} that requires grad, whose numbers "
                        "numpy cannot read: give them, tensor.detach().numpy()")
    if isinstance(value, Mapping):
        names = [repr(key) for key in value]
        give = (f"give one of its arrays by its name ({listed(names)}), such as data[{names[0]}]" if names
                else "it is empty; give an array")
    elif isinstance(value, str | bytes):
        raise TypeError(f"{where}: {name} {verb} the {_shown(value)}, not an array: a file's name? read it first "
                        "(np.loadtxt, np.load); *np.load(path) of an .npz file unpacks the names of its arrays, not "
                        "the arrays: give data[name]")
    elif isinstance(value, AbstractSet | MappingView | Iterator):  # (a set's order is no order; a dict's keys' is)
        given = "sorted(...)" if isinstance(value, AbstractSet) and not isinstance(value, MappingView) else "list(...)"
        give = f"give them as a list or an array, such as {given}"
    else:
        return
    kind = type(value).__name__
    raise TypeError(f"{where}: {name} {verb} a{'n' * kind.startswith(tuple('aeiou'))} {kind}, not an array: {give}")


def _structured(fields: tuple[str, ...], name: str, verb: str, where: str) -> NoReturn:
    """The TypeError for records of named ``fields`` (``np.genfromtxt(path, names=True)`` of a CSV file with a header)
    given as ``name``: how to make columns of them, or (not for the inputs) take one field."""
    shown, bare = ", ".join(repr(field) for field in fields), name.removeprefix("the ")
    one = f"one field by its name, {bare}[{fields[0]!r}], or " if bare != "inputs" else ""
    raise TypeError(f"{where}: {name} {verb} a structured array (fields {shown}), as np.genfromtxt(..., names=True) "
                    f"reads a CSV file with a header, one record per sample, not columns of numbers: give {one}the "
                    f"fields as columns, recfunctions.structured_to_unstructured({bare}[[{shown}]]) (from "
                    f"numpy.lib import recfunctions), or read the file with np.loadtxt(path, delimiter=',', "
                    f"skiprows=1, ndmin=2)")


def same_index(inputs: Any, targets: Any, where: str, name: str = "targets") -> None:
    """Rows are paired by position: refuse two pandas objects (a DataFrame, a Series) whose indexes differ, whose rows
    would be paired wrongly without a word (pandas itself pairs them by label); a ValueError naming ``where``."""
    first: Any = getattr(inputs, "index", None)
    second: Any = getattr(targets, "index", None)
    if hasattr(first, "equals") and hasattr(second, "equals") and not first.equals(second):
        raise ValueError(f"{where}: the inputs and the {name} have different pandas indexes; rows are paired by "
                         f"position, not by label, so row i of one would go with row i of the other: align them "
                         f"first ({name}.loc[inputs.index], or inputs.loc[{name}.index]), or give .to_numpy() of "
                         "both to pair them by position")


def reloaded(value: Any, cls: type) -> bool:
    """Whether ``value`` is an instance of another class of ``cls``'s module and name than ``cls``: one made before
    (or after) an ``importlib.reload`` of that module, which ``isinstance`` tells apart from ``cls``."""
    return any(kind is not cls and kind.__qualname__ == cls.__qualname__ and kind.__module__ == cls.__module__
               for kind in type(value).__mro__)


def reloaded_error(value: Any, cls: type, where: str) -> TypeError:
    """The error for a ``value`` that :func:`reloaded` found: it names the reload, not what the value seems to be."""
    return TypeError(f"{where}: this {type(value).__name__} was made with {cls.__module__} as it was before (or "
                     f"after) an importlib.reload of it, which made a new {cls.__qualname__} class: what was made "
                     "before a reload does not mix with what is made after it; run again the cells that define and "
                     "make it (or restart the kernel)")


def real_array(value: Any, name: str, where: str, *, bools: bool = True) -> np.ndarray:
    """``value`` (an array, a number or nested lists) as a numpy array of real numbers (bool, int or float; not
    copied when it is one already); ragged lists are a ValueError, anything else (complex, strings, None, a list
    of Values, a masked array with masked elements) a TypeError.  ``bools=False`` refuses True and False too, where
    they cannot mean numbers.  Python ints beyond int64 (2**64) become float64; one beyond every float (10**400) is
    a ValueError.

        >>> real_array([[1, 2], [3, 4]], "x", "f").shape
        (2, 2)
    """
    unmasked(value, name, where)
    try:
        array = np.asarray(value)
    except ValueError:
        raise ValueError(f"{where}: {name} is not a rectangular array (ragged nested lists?)") from None
    except TypeError as error:  # a list of Values: a Value refuses to become a numpy array
        raise TypeError(f"{where}: {name} must be real numbers, got {_shown(value)} ({error})") from None
    if array.dtype.kind not in ("biuf" if bools else "iuf"):
        if python_ints(array):
            try:
                return array.astype(np.float64)
            except OverflowError:
                raise ValueError(f"{where}: {name} holds an integer too large for a float (at most about 1.8e308), "
                                 f"{_shown(value)}") from None
        raise TypeError(f"{where}: {name} has dtype {array.dtype} ({type(value).__name__}); give real numbers")
    return array


class Absent:
    """A class attribute that stands for one another library has and the class has not (PyTorch's ``opt.lr``,
    ``v.flatten``; ``whose`` names another owner, the seed's ``NETWORK.BACKWARD()``): reading or setting it on an
    instance is an AttributeError from ``template`` (with the instance's class name ``cls``, the attribute's ``name``
    and the ``advice``), not a new attribute that nothing reads.  A
    descriptor, not ``__getattr__``: CPython looks up every attribute of a class with ``__getattr__`` the slow way
    (measured: the scalar chain 15 % slower with ``Value.__getattr__``).  :func:`present` leaves them out of ``dir()``.
    On an instance of a class of the user's own (``class Net(nn.Module)`` setting ``self.predict`` or ``self.summary``
    in its ``__init__``, an optimizer of one's own setting ``self.lr``), setting it makes an attribute of the
    instance's, which reading it then gives: the name is the user's there, not another library's.
    """

    def __init__(self, name: str, advice: str, template: str = "{cls} has no attribute {name}: {advice}", *,
                 whose: str = "another library's name") -> None:
        self.name, self.advice, self.template = name, advice, template
        # what help(cls) shows under the name, which it lists with the class's real attributes (dir() leaves it out)
        self.__doc__ = f"Not an attribute here ({whose}): {advice}"

    def _error(self, obj: Any) -> AttributeError:
        message = self.template.format(cls=type(obj).__name__, name=self.name, advice=self.advice)
        return AttributeError(message, name=self.name, obj=obj)

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        try:
            return obj.__dict__[self.name]  # set on an instance of a class of the user's own (see __set__)
        except (AttributeError, KeyError):
            raise self._error(obj) from None

    def __set__(self, obj: Any, value: Any) -> None:
        if not _is_users_own(type(obj)) or not hasattr(obj, "__dict__"):
            raise self._error(obj)
        obj.__dict__[self.name] = value

    def __delete__(self, obj: Any) -> None:
        if self.name not in getattr(obj, "__dict__", ()):
            raise self._error(obj)
        del obj.__dict__[self.name]


def _is_users_own(cls: type) -> bool:
    """Whether ``cls`` was defined outside this package (a model or an optimizer of the user's own)."""
    return cls.__module__.partition(".")[0] != __name__.partition(".")[0]


def present(obj: Any, names: Iterable[str]) -> list[str]:
    """``names`` (an object's ``dir()``) without its class's :class:`Absent` attributes (but for those the object
    holds itself, set on an instance of a class of the user's own)."""
    own = getattr(obj, "__dict__", {})
    return [name for name in names if name in own or not isinstance(getattr(type(obj), name, None), Absent)]


#: The message of an :class:`Absent` attribute that is a Keras name (``model.compile``, ``history.history``).
KERAS_ABSENT = "{cls} has no attribute {name} (a Keras name): {advice}"

#: What minitorch's and PyTorch's Parameter is here (``minitorch.Parameter``, ``torch.nn.Parameter``).
PARAMETER_ADVICE = "a parameter is a Value here: self.scale = Value(array)"

#: minitorch's module-level names (``minitorch.Tensor``, ``minitorch.autodiff.topological_sort``…) and what they
#: are here: what the ``__getattr__`` of ``tinygrad_edu``, ``tinygrad_edu.autodiff`` and ``tinygrad_edu.testing`` say.
_MINITORCH_NAMES = {
    **dict.fromkeys(("Tensor", "Scalar"), "one class, Value, holds a number or a numpy array here: "
                                          "from tinygrad_edu import Value"),
    "tensor": "write Value(data) here, data a number, a nested list or a numpy array",
    "Module": "it is tinygrad_edu.nn.Module here",
    "Parameter": PARAMETER_ADVICE,
    "topological_sort": "tinygrad_edu.engine.backward_order(output) lists the Values output.backward() visits, in "
                        "its order",
    "backpropagate": "write output.backward() (output.backward(grad) for an output of more than one number)",
    **dict.fromkeys(("Function", "ScalarFunction"),
                    "an operation of one's own is an Op here, its forward and one vjp per input as functions "
                    "(no ctx, no class): from tinygrad_edu import Op; Op(name, forward, (vjp_a, vjp_b)), called "
                    "as op(x, y) (PyTorch's torch.autograd.Function too)"),
    "central_difference": "tinygrad_edu.testing.numerical_gradient(f, *inputs) gives every input's gradient by "
                          "central differences (minitorch's central_difference(f, *vals, arg=i) is its [i] for one "
                          "number), and check_gradients(f, *inputs) compares it with backward()",
}


def no_attribute(module: str, name: str, where: str = "") -> AttributeError:
    """The AttributeError a module's ``__getattr__`` raises for ``module.name``, ``where`` saying what to write
    instead.  Without it (a typo) the error holds the module, from whose ``dir()`` Python adds "Did you mean:
    'MLP'?" (``nn.mlp``), as for a module without a ``__getattr__``; with it, the advice stands alone."""
    return AttributeError(f"module {module!r} has no attribute {name!r}{where}", name=name,
                          obj=None if where else sys.modules.get(module))


def other_library_name(module: str, name: str, library: str, advice: str | None) -> AttributeError:
    """The AttributeError for ``module.name``, which says what to write here (``advice``) where ``name`` is one of
    another ``library``'s names (None: a name of no library's, a typo)."""
    return no_attribute(module, name, f" (a {library} name); {advice}" if advice else "")


#: The bytecode of ``from module import name``'s look-up of the name.
_IMPORT_FROM = opcode.opmap["IMPORT_FROM"]


def advice_on_import(function: Callable[[str], Any]) -> Callable[[str], Any]:
    """A decorator for a module's ``__getattr__``: ``from module import name`` keeps the advice its AttributeError
    gives (``tinygrad_edu.Normal``'s), where Python would put its bare ImportError "cannot import name" in its place.
    Only a look-up by that statement becomes an ImportError (``getattr``, ``hasattr`` and importlib's own look-ups of
    submodules still get the AttributeError), and only where the error has advice and no submodule of that name is
    being imported (Python then takes it from ``sys.modules``)."""
    @functools.wraps(function)
    def __getattr__(name: str) -> Any:
        try:
            return function(name)
        except AttributeError as error:
            module, caller = function.__module__, sys._getframe(1)  # (the frame whose statement looks the name up)
            bare = f"module {module!r} has no attribute {name!r}"
            if not str(error).startswith(bare) or str(error) == bare or f"{module}.{name}" in sys.modules or \
                    caller.f_lasti < 0 or caller.f_code.co_code[caller.f_lasti] != _IMPORT_FROM:  # (the frame last)
                raise
            path = getattr(sys.modules.get(module), "__file__", None)
            raise ImportError(f"cannot import name {name!r} from {module!r}{str(error).removeprefix(bare)}",
                              name=module, path=path) from None

    return __getattr__


#: For each place in the code (its code object, the offset of the instruction under way) and what is asked of it:
#: the answer read from the bytecode (unpacked_in_two: whether that instruction's result is unpacked into two names
#: there; call_under_way: whether it calls one of the names)
_READ_FROM_BYTECODE: dict[tuple[Any, ...], bool] = {}
#: What the interpreter does between loading a callable and calling it: not the callable itself
_BEFORE_A_CALL = frozenset({"PRECALL", "KW_NAMES", "PUSH_NULL", "CACHE", "NOP", "EXTENDED_ARG"})
#: The instructions that call a callable with arguments of their own (not CALL_FUNCTION_EX's *args)
_CALLS = frozenset({"CALL", "CALL_KW", "CALL_FUNCTION", "CALL_FUNCTION_KW", "CALL_METHOD"})


def unpacked_in_two(frame: FrameType, *, under_way: tuple[str, ...] = (), names: tuple[str, ...] = (),
                    inner: bool = False) -> bool:
    """Whether the instruction under way in ``frame`` (one of the opnames ``under_way``, any if empty) has its
    result unpacked into two names by the next instruction (``x, y = ds[0]``; ``for x, y in ds`` under the loop's
    FOR_ITER, which takes each item); given ``names``, only where the call under way is of one of them (not
    ``list`` in ``a, b = list(map(methodcaller("max", 1), …))``, which called max from C).  PyTorch's pairs (values
    and indices, sample and label) unpacked where ours are not pairs.  ``inner``: the result is a pair whose second
    item is unpacked into two (``for i, (x, y) in enumerate(ds)``).  Read from the bytecode once per place."""
    key = (frame.f_code, frame.f_lasti, under_way, names, inner)
    known = _READ_FROM_BYTECODE.get(key)
    if known is None:
        instructions, at = _under_way(frame)
        current = instructions[at] if at >= 0 else None
        pattern = ("UNPACK_SEQUENCE", "STORE_", "UNPACK_SEQUENCE") if inner else ("UNPACK_SEQUENCE",)
        following = instructions[at + 1: at + 1 + len(pattern)] if at >= 0 else []
        known = (current is not None and (not under_way or current.opname in under_way)
                 and len(following) == len(pattern)
                 and all(i.opname.startswith(start) and (start != "UNPACK_SEQUENCE" or i.arg == 2)
                         and i.opname != "STORE_FAST_STORE_FAST" for i, start in zip(following, pattern))
                 and not (names and _calls_another_name(instructions, at, names)))
        _remember(key, known)
    return known


def unpacked_into(frame: FrameType, count: int) -> bool:
    """Whether the instruction under way in ``frame`` is an ``UNPACK_SEQUENCE`` into ``count`` names of the object
    being iterated itself (``a, b, c, d = pair``, ``= f(...)``), not of an iterator that reaches it only as it is
    unpacked (``a, b, c, d = itertools.chain(pair, other)``, whose items are the pair's and the other's): the caller
    of an object's ``__iter__``, where its iterator would give too few.  Read from the bytecode once per place."""
    key = (frame.f_code, frame.f_lasti, count, "unpacked_into")
    known = _READ_FROM_BYTECODE.get(key)
    if known is None:
        instructions, at = _under_way(frame)
        callee = _callee(instructions, at - 1) if at >= 1 and instructions[at - 1].opname in _CALLS else None
        known = (at >= 0 and instructions[at].opname == "UNPACK_SEQUENCE" and instructions[at].arg == count
                 and not (callee is not None and callee.argval in _LAZY_CHAINS))
        _remember(key, known)
    return known


#: Calls whose iterator takes each of its arguments' iterators only when it gets to it (inside the unpacking)
_LAZY_CHAINS = frozenset({"chain", "from_iterable"})


def call_under_way(frame: FrameType, names: tuple[str, ...], *, looped: bool = False) -> bool:
    """Whether the instruction under way in ``frame`` calls one of ``names`` (the callable loaded last where the
    call's source begins; False where that cannot be told: on Python 3.10, whose bytecode has no columns, a call
    with an argument other than loads, attributes, items and calls of such) and, given ``looped``, a loop goes
    through its result (``for … in enumerate(ds)``, GET_ITER next).  Read from the bytecode once per place."""
    key = (frame.f_code, frame.f_lasti, names, looped, "call")
    known = _READ_FROM_BYTECODE.get(key)
    if known is None:
        instructions, at = _under_way(frame)
        callee = _callee(instructions, at) if at >= 0 and instructions[at].opname in _CALLS else None
        known = (callee is not None and callee.opname.startswith("LOAD_") and callee.argval in names
                 and (not looped or at + 1 < len(instructions) and instructions[at + 1].opname == "GET_ITER"))
        _remember(key, known)
    return known


def looped_over_a_call(frame: FrameType) -> bool:
    """Whether the loop under way in ``frame`` (its FOR_ITER resumed an iterator) goes through what a call made,
    ``zip(it, names)`` or ``enumerate(it)``, which take the iterator's items from C and make pairs of their own, not
    through the iterator itself (``for x, y in it``); in a comprehension too (Python 3.11's runs in a code of its
    own, given the iterator as ``.0`` by the code that made it; 3.12's, inlined, sets its names aside between
    GET_ITER and FOR_ITER)."""
    instructions, at = _under_way(frame)
    at -= 1
    while at >= 0 and instructions[at].opname in _SET_ASIDE:
        at -= 1
    if at >= 0 and instructions[at].opname == "LOAD_FAST" and instructions[at].argval == ".0" and frame.f_back:
        instructions, at = _under_way(frame.f_back)  # (under way there: the comprehension's call)
        at -= 1
        while at >= 0 and instructions[at].opname == "PRECALL":
            at -= 1
    return at >= 1 and instructions[at].opname == "GET_ITER" and instructions[at - 1].opname.startswith("CALL")


#: What an inlined comprehension (Python 3.12 on) does between its GET_ITER and its FOR_ITER.
_SET_ASIDE = frozenset({"LOAD_FAST_AND_CLEAR", "SWAP", "BUILD_LIST", "BUILD_SET", "BUILD_MAP", "NOP"})


def _under_way(frame: FrameType) -> tuple[list[dis.Instruction], int]:
    """The instructions of ``frame``'s code and the position among them of the one under way (-1 if none)."""
    instructions = list(dis.get_instructions(frame.f_code))
    # (f_lasti may be past the instruction, at its last inline cache entry, which dis does not list, or before
    # it, at its EXTENDED_ARG on Python 3.10: a loop's FOR_ITER past a body of a few lines)
    at = next((n for n, i in enumerate(instructions) if i.offset > frame.f_lasti), len(instructions)) - 1
    while 0 <= at < len(instructions) - 1 and instructions[at].opname == "EXTENDED_ARG":
        at += 1
    if 0 <= at < len(instructions) - 1 and instructions[at].opname == "PRECALL" \
            and instructions[at + 1].opname == "CALL":  # (Python 3.11's PRECALL calls a builtin itself, specialized)
        at += 1
    return instructions, at


def _remember(key: tuple[Any, ...], known: bool) -> None:
    if len(_READ_FROM_BYTECODE) >= 4096:  # (code made again and again, by exec in a notebook: kept bounded)
        _READ_FROM_BYTECODE.clear()
    _READ_FROM_BYTECODE[key] = known


#: Python 3.10's instructions that push one value and pop none: a call's arguments made of these (and of attributes,
#: items and calls of these) are counted back to the callable.
_ONE_LOAD = frozenset({"LOAD_FAST", "LOAD_GLOBAL", "LOAD_NAME", "LOAD_DEREF", "LOAD_CONST", "LOAD_CLOSURE"})


def _operands(instruction: dis.Instruction) -> int | None:
    """How many expressions Python 3.10's ``instruction`` takes to push its one value: 0 for a load, 1 for an
    attribute (``h.ds``), 2 for an item (``d["train"]``), the callable and arguments for a call (with
    ``CALL_FUNCTION_KW``'s tuple of names); None for any other instruction."""
    name, arg = instruction.opname, instruction.arg or 0
    counts = {"LOAD_ATTR": 1, "BINARY_SUBSCR": 2, "CALL_FUNCTION": arg + 1, "CALL_FUNCTION_KW": arg + 2}
    return 0 if name in _ONE_LOAD else counts.get(name)


def _start_of(instructions: list[dis.Instruction], end: int) -> int | None:
    """Where the expression ending at ``instructions[end]`` begins, if it is made of loads, attributes, items and
    calls (see ``_operands``); else None."""
    count = _operands(instructions[end]) if end >= 0 else None
    start: int | None = None if count is None else end
    for _ in range(count or 0):
        start = _start_of(instructions, start - 1) if start is not None else None  # the operands, last first
    return start


def _callee(instructions: list[dis.Instruction], at: int) -> dis.Instruction | None:
    """What the call ``instructions[at]`` calls: the instruction that loaded the callable, the last before the call
    where the call's source begins.  What spans the whole call is not the callable, which ends before its
    parentheses (Python 3.13's ``LOAD_CONST ('key',)`` before ``CALL_KW`` of ``sorted(..., key=id)``).  None for a
    call the compiler made, of no source, and on Python 3.10, whose bytecode has no columns, for any call but one
    whose arguments are loads, attributes, items or calls of such (``enumerate(self.ds, start=1)``,
    ``next(iter(ds))``): counted back over them."""
    where: Any = getattr(instructions[at], "positions", None)  # (a Python 3.10 Instruction has none)
    if where is None:
        count = _operands(instructions[at]) if instructions[at].opname.startswith("CALL_FUNCTION") else None
        end: int | None = None if count is None else at - 1
        for _ in range((count or 1) - 1):  # (the arguments, last first)
            start = _start_of(instructions, end) if end is not None else None
            end = None if start is None else start - 1
        return instructions[end] if end is not None and instructions[end].opname in _ONE_LOAD else None
    if where.lineno is None or where.col_offset is None:
        return None
    for instruction in reversed(instructions[:at]):
        its: Any = getattr(instruction, "positions", None)
        if (its.lineno, its.col_offset) == (where.lineno, where.col_offset) \
                and instruction.opname not in _BEFORE_A_CALL and its != where:
            return instruction
    return None


def _calls_another_name(instructions: list[dis.Instruction], at: int, names: tuple[str, ...]) -> bool:
    """Whether the call ``instructions[at]`` calls a name not among ``names``, such as ``list`` in ``a, b =
    list(map(operator.methodcaller("max", 1), [x, y]))`` (see ``_callee``).  False where that cannot be told (a
    callable that a call returned, ``getattr(v, "max")(1)``; on Python 3.10, a call with other arguments than
    loads, attributes, items and calls of such)."""
    callee = _callee(instructions, at)
    return (callee is not None and callee.opname.startswith("LOAD_") and isinstance(callee.argval, str)
            and callee.argval not in names)


def minitorch_name(module: str, name: str) -> AttributeError:
    """The AttributeError for ``module.name``: saying what it is here where it is one of minitorch's names."""
    return other_library_name(module, name, "minitorch", _MINITORCH_NAMES.get(name))


_Function = TypeVar("_Function", bound=Callable[..., Any])


def pytorch_keywords(misplaced: Mapping[str, str] | None = None, unknown: str | None = None, /,
                     **advice: str) -> Callable[[_Function], _Function]:
    """A decorator: a call with a keyword argument that PyTorch (or Keras, JAX) has and the function lacks
    (``dim=``) is a TypeError naming the function and saying what to write here (``advice["dim"]``), not Python's
    bare "unexpected keyword argument".  ``misplaced``: this package's own words given to the wrong function
    (``fit(learning_rate=0.1)``: the learning rate is the optimizer's), with the same kind of advice.  Keywords are
    looked at only once the call has failed, so a good call costs one function call more (about 0.1 µs: not for the
    per-element hot paths).  For functions without ``**kwargs``: a keyword that is not a parameter can only fail the
    call itself.  Slips of the hand that Python refuses get their own words too (``_call_slip``): a keyword a letter
    or two off a parameter (``episode=``: ``did you mean episodes=?``) and keyword-only arguments given by position;
    any other refusal stays Python's own, unless ``unknown`` is given: the advice for any other keyword the function
    lacks (``{key}`` in it is that keyword), such as one meant for the function it is given.

        >>> @pytorch_keywords(dim="it is called axis= here")
        ... def total(x, axis=None):
        ...     return np.sum(x, axis=axis)
        >>> total([[1, 2]], dim=1)
        Traceback (most recent call last):
        TypeError: total: there is no argument dim= (another library's name); it is called axis= here
    """
    misplaced = dict(misplaced or {})

    def decorate(function: _Function) -> _Function:
        @functools.wraps(function)
        def checked(*args: Any, **kwargs: Any) -> Any:
            __tracebackhide__ = True  # pytest: show the caller's line, not this wrapper's
            try:
                return function(*args, **kwargs)
            except TypeError:
                key = next((key for key in kwargs if key in advice or key in misplaced), None)
                name = _called(function)
                if key is None:
                    slip = _call_slip(function, args, kwargs) or _unknown_keyword(function, kwargs, unknown)
                    if not slip:
                        raise
                    raise TypeError(f"{name}: {slip}") from None
                why = f"; {misplaced[key]}" if key in misplaced else f" (another library's name); {advice[key]}"
                raise TypeError(f"{name}: there is no argument {key}={why}") from None

        return cast(_Function, checked)

    return decorate


def _called(function: Callable[..., Any]) -> str:
    """The name a call of ``function`` is written with: its class's for ``__init__`` and ``__new__``."""
    return function.__qualname__.rpartition(".")[0] if function.__name__ in ("__init__", "__new__") \
        else function.__name__


def _call_slip(function: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
    """What a slip of the hand in a call of ``function`` that Python refused was, for an error message: a keyword
    a letter or two off one of its parameters (``there is no argument episode=; did you mean episodes=?``), or
    keyword-only arguments given by position (``fit(net, x, y, opt, 10)``); else ''."""
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return ""
    slip = misspelt_keyword(function, kwargs) or _unpacked_dataset(function, args, kwargs)
    if slip:
        return slip
    kinds = {p.kind for p in parameters.values()}
    positional = [name for name, p in parameters.items() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if positional[:1] == ["self"]:  # (a method or __init__: self is not the caller's to count)
        positional, args = positional[1:], args[1:]
    keywords = [p for name, p in parameters.items() if p.kind is p.KEYWORD_ONLY and name not in kwargs]
    if inspect.Parameter.VAR_POSITIONAL in kinds or not keywords or len(args) <= len(positional):
        return ""
    needed = [p.name for p in keywords if p.default is p.empty] or [p.name for p in keywords[:2]]
    return (f"takes {counted(len(positional), 'positional argument')} ({', '.join(positional)}) but "
            f"{len(args)} were given; the others are keyword-only: write them with their names, e.g. "
            f"{', '.join(f'{name}=...' for name in needed)}")


def _unpacked_dataset(function: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
    """For a call Python refused that was given a ``data.Dataset`` (``train_test_split(data)``: Python's bare
    "missing 1 required positional argument: 'labels'"): that it holds two arguments, to unpack with ``*``; else ''."""
    at = next((i for i, arg in enumerate(args)
               if isinstance(arg, tuple) and getattr(arg, "_fields", None) == ("inputs", "labels")), None)
    if at is None:
        return ""
    try:
        inspect.signature(function).bind(*args, **kwargs)
    except TypeError:  # (the call itself was refused, not a check inside the function)
        names = [name for name in inspect.signature(function).parameters][:at + 1]
        before = [name for name in names[:at] if name not in ("self", "cls")]
        call = ", ".join([*before, "*data", "..."])
        return (f"the {names[-1]} {'are' if names[-1].endswith('s') else 'is'} a Dataset (inputs and labels "
                f"together), one argument for two: give them apart, unpacked with *, {_called(function)}({call})")
    return ""


def _unknown_keyword(function: Callable[..., Any], kwargs: Mapping[str, Any], advice: str | None) -> str:
    """``there is no argument scale=; <advice>`` for the first of ``kwargs`` that is not a parameter of ``function``,
    where ``advice`` is given (``{key}`` in it: that keyword); else ''."""
    names = _keywords(function)
    if advice is None or names is None:
        return ""
    key = next((key for key in kwargs if key not in names), None)
    return "" if key is None else f"there is no argument {key}=; {advice.format(key=key)}"


#: The keyword names :func:`misspelt_keyword` has read from each function's signature, while the function lives:
#: Optimizer.__new__ asks on every construction with keywords (an optimizer built per step), and inspect.signature
#: cost a fifth of the construction.
_KEYWORDS: weakref.WeakKeyDictionary[Any, tuple[str, ...] | None] = weakref.WeakKeyDictionary()


def _keywords(function: Callable[..., Any]) -> tuple[str, ...] | None:
    """The names ``function`` takes by keyword (not ``self``); None where it takes ``**kwargs`` or has no signature
    to read.  Read once while ``function`` lives (if it can be weakly referenced and hashed, as functions can)."""
    try:
        return _KEYWORDS[function]
    except (KeyError, TypeError):  # (not read yet; or no weak reference to it, or unhashable: read each time)
        pass
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        names = None
    else:
        names = None if any(p.kind is p.VAR_KEYWORD for p in parameters.values()) else \
            tuple(name for name, p in parameters.items() if p.kind is not p.POSITIONAL_ONLY and name != "self")
    with contextlib.suppress(TypeError):
        _KEYWORDS[function] = names
    return names


def misspelt_keyword(function: Callable[..., Any], kwargs: Iterable[str]) -> str:
    """``there is no argument episode=; did you mean episodes=?`` for the first of ``kwargs`` that is not a parameter
    of ``function`` but a letter or two off one, or the only one it is with two neighbouring letters swapped
    (``rgn=``) or that it begins or is begun by (``batch=``, ``tolerance=`` for ``tol=``); else '' (and for a
    function taking ``**kwargs``)."""
    names = _keywords(function)
    if names is None:
        return ""
    for key in kwargs:
        meant = difflib.get_close_matches(key, names, n=1, cutoff=0.75) or _swapped_or_cut(key, names) \
            if key not in names else None
        if meant:
            return f"there is no argument {key}=; did you mean {meant[0]}=?"
    return ""


def _swapped_or_cut(key: str, names: tuple[str, ...]) -> list[str]:
    """The one name of ``names`` that ``key`` is with two neighbouring letters swapped (``rgn`` for ``rng``: too
    far for difflib in so short a word), else the one that begins ``key`` or that ``key`` begins, each at least 3
    letters long (``tolerance`` for ``tol``, ``batch`` for ``batch_size``); [] for none, or for two."""
    swapped = [name for name in names if _swapped(key, name)]
    cut = [name for name in names if min(len(name), len(key)) >= 3 and (name.startswith(key) or key.startswith(name))]
    found = swapped or cut
    return found if len(found) == 1 else []


def _swapped(key: str, name: str) -> bool:
    """Whether ``key`` is ``name`` with two neighbouring letters swapped."""
    differ = [i for i, (a, b) in enumerate(zip(key, name)) if a != b]
    return (len(key) == len(name) and len(differ) == 2 and differ[1] == differ[0] + 1
            and key[differ[0]] == name[differ[1]] and key[differ[1]] == name[differ[0]])


def outside_the_package() -> int:
    """The ``stacklevel`` for ``warnings.warn`` of the first line outside tinygrad_edu that led to the caller: the
    user's ``opt.step()`` or ``fit(...)``, however many of the package's functions lie between.  (A line inside the
    package would be warned about once per session: Python, and IPython, show a warning once per place, and only a
    notebook's own places are forgotten between cells.)"""
    package = os.path.join(os.path.dirname(os.path.abspath(__file__)), "")
    frame: FrameType | None = sys._getframe(1)  # the function that warns: stacklevel 1
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def saved_without_stars(state: Mapping[str, Any]) -> bool:
    """Whether ``state`` (what ``np.load`` read, or a dict) holds only ``'arr_0'``, a pickled object: what
    ``np.savez(path, d)`` writes for a dict ``d``, its ``**`` left out (not an array saved by position,
    ``np.savez(path, W)``)."""
    if len(state) != 1 or "arr_0" not in state:
        return False
    try:
        entry = state["arr_0"]
    except ValueError as error:  # (np.load's refusal of a pickled entry, allow_pickle=False)
        return "allow_pickle" in str(error)
    return isinstance(entry, np.ndarray) and entry.dtype == object


@contextlib.contextmanager
def naming_the_file(state: Mapping[str, Any]) -> Iterator[None]:
    """Within it, a TypeError or ValueError of the checks of a ``state`` that ``np.load`` read from a file gets the
    file's name added: ``load_state_dict(np.load(path))`` otherwise names the entry at fault but not the file (a
    model's and an optimizer's files are often loaded side by side: which one is damaged?)."""
    try:
        yield
    except (TypeError, ValueError) as error:
        archive = getattr(state, "zip", None) if isinstance(state, np.lib.npyio.NpzFile) else None
        name = getattr(archive, "filename", None)
        if type(error) not in (TypeError, ValueError) or not isinstance(name, (str, bytes)):
            raise
        raise type(error)(f"{error} (in the file {os.fsdecode(name)!r})") from error.__cause__


def __dir__() -> list[str]:
    """``dir()`` of this module lists its API (``__all__``), not its helpers and imports."""
    return sorted(__all__)


def counted(number: int, noun: str) -> str:
    """``1 episode``, ``2 episodes``: a count for a message."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def listed(names: Sequence[str], most: int = 5) -> str:
    """``a, b, c`` for a message: at most ``most`` names, then how many more there are."""
    shown = ", ".join(names[:most])
    return shown if len(names) <= most else f"{shown} and {len(names) - most} more"


def one_argument(f: Callable[..., Any], where: str, like: str, advice: str) -> None:
    """A TypeError if ``f``, which is called with one Value shaped like ``like``, cannot take one argument: a function
    of several, ``f(w, b)``, fails inside the call with Python's bare "missing 1 required positional argument".
    Returns if ``f`` can take one (its TypeError is then its own) or has no signature to read (its call will tell)."""
    try:
        signature = inspect.signature(f)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(None)
    except TypeError as error:
        raise TypeError(f"{where}: f is called with one Value, shaped like {like}, but f{signature} cannot take it "
                        f"({error}); {advice}") from None
