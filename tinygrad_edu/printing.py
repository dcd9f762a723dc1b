"""How a Value's numbers print, in its one-line repr and in Jupyter's table: as numpy prints them, summarized past a
size, never so rounded that different numbers look equal or one looks like a whole number it is not, and saying how
many NaN and inf a summary hides.

    >>> import numpy as np
    >>> array_text(np.array([1.00001, 1.00002]), TEXT_SUMMARY)   # at numpy's default 4 digits: [1. 1.]
    '[1.00001 1.00002]'
    >>> hidden_non_finite(np.r_[np.zeros(5), np.nan, np.zeros(4)], None, TEXT_SUMMARY)  # shown: [0. 0. ... 0. 0.]
    'data holds 1 NaN'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["TEXT_SUMMARY", "HTML_SUMMARY", "array_text", "hidden_non_finite", "param_text"]

#: How many numbers an array may have before its print is summarized with "...", and how many are kept at each end
#: of a long axis: in the one-line repr, and in Jupyter's table.
TEXT_SUMMARY = (6, 2)
HTML_SUMMARY = (20, 3)


def _shown_part(array: np.ndarray, summary: tuple[int, int]) -> np.ndarray:
    """The elements numpy prints of ``array``: all of them, or, once it has more than ``threshold``, the first and
    last ``edgeitems`` along each longer axis."""
    threshold, edgeitems = summary
    if array.size <= threshold:
        return array
    for axis, length in enumerate(array.shape):
        if length > 2 * edgeitems:
            array = array.take(np.r_[0:edgeitems, length - edgeitems:length], axis=axis)
    return array


def _fitted(array: np.ndarray, summary: tuple[int, int]) -> tuple[int, int]:
    """``summary`` with fewer numbers kept at each end of a long axis where, past 3 axes, it would still show more
    numbers than a summarized 3-d array, ``(2 · edgeitems)³``: numpy keeps ``edgeitems`` of every axis longer than
    twice that, so a (4, 4, 4, 4, 4) Value printed all its 1,024 numbers on one line of 15,000 characters."""
    threshold, edgeitems = summary
    while edgeitems > 1 and _shown_part(array, (threshold, edgeitems)).size > (2 * summary[1]) ** 3:
        edgeitems -= 1
    return threshold, edgeitems


def _flattened(array: np.ndarray, summary: tuple[int, int]) -> bool:
    """Whether ``array`` prints flat, its axes in one (C order): where, past the threshold, even one number kept at each
    end of every long axis shows more than a summarized 3-d array, ``(2 · edgeitems)³``; numpy elides nothing of an
    axis of 2, so a (2,)*12 Value printed all its 4,096 numbers (39,000 characters), and a (3,)*8 one 5,000."""
    return array.size > summary[0] and _shown_part(array, _fitted(array, summary)).size > (2 * summary[1]) ** 3


def _distinguishing_precision(array: np.ndarray, summary: tuple[int, int]) -> int:
    """The fewest digits (at least 4) with which the different numbers shown print differently, and none as a whole
    number it is not (as a single number prints): at 4 digits, ``[1.00001, 1.00002]`` printed as ``[1. 1.]``, and
    ``[0.99999, 2.5]`` as ``[1. 2.5]``."""
    shown = _shown_part(array, summary)
    distinct = np.unique(shown[np.isfinite(shown)])
    if distinct.size == 0:
        return 4
    for precision in range(4, 17):  # (split at a separator: numpy pads inside complex numbers, "0.1   +1.j")
        text = np.array2string(distinct, precision=precision, separator="|", threshold=distinct.size + 1,
                               suppress_small=False)
        printed = [number.strip() for number in text.strip("[]").split("|")]
        if len(set(printed)) == distinct.size and not _whole_but_not(printed, distinct):
            return precision
    return 17


def _whole_but_not(printed: list[str], numbers: np.ndarray) -> bool:
    """Whether one of the real ``numbers`` is ``printed`` as a whole number that it is not (0.99999 as ``1.``, and
    99999.99999 as ``1.e+05`` in scientific notation, beside 0.5; ``1.4286e+05``, with digits after the point, reads
    as rounded)."""
    if numbers.dtype.kind != "f":
        return False
    for text, number in zip(printed, numbers):
        try:
            shown, leading = float(text), float(text.partition("e")[0])
        except ValueError:  # (np.set_printoptions(formatter=...) of the user's: "<1.0>")
            return False
        # (compared in the array's dtype: float32's 1e20 is 100000002004087734272, which 1.e+20 shows exactly)
        if leading.is_integer() and shown.is_integer() and numbers.dtype.type(shown) != number:
            return True
    return False


def array_text(array: np.ndarray, summary: tuple[int, int]) -> str:
    """``array`` printed as numpy prints it, summarized past ``summary``; one number with 6 significant digits,
    as a float (``3.0``, not ``3``, which reads as an integer), or all its digits where 6 would make it a whole
    number it is not (``1.0000001``, not ``1.0``; ``9.999995e+05``, not ``1e+06``); anything else (a gradient set
    by hand to text or to objects) as numpy prints it, so that a repr never raises on it."""
    if _flattened(array, summary):  # (its ends only: reshape(-1) copied a broadcast view of 10⁸ numbers whole)
        ends = np.concatenate((array.flat[:summary[0]], array.flat[-summary[0]:]))  # (still summarized: as long)
        return f"{array_text(ends, summary)} (flattened)"
    threshold, edgeitems = summary = _fitted(array, summary)
    if array.dtype.kind not in "biufc":
        return repr(array.item()) if array.ndim == 0 else np.array2string(array, threshold=threshold,
                                                                           edgeitems=edgeitems)
    if array.ndim == 0:
        number = f"{array.item():.6g}"
        if array.dtype.kind == "f" and "e" in number and float(number) != array.item() and float(number).is_integer():
            # rounded to a whole number that it is not (999999.5 as 1e+06): all the digits it needs
            return np.format_float_scientific(array.dtype.type(array.item()), unique=True, trim="-")
        if not number.lstrip("-").isdigit():
            return number
        if float(number) == array.item():
            return f"{number}.0"
        # rounded to a whole number that it is not (1.0000001 as 1.0, like Value(1.0)): all the digits it needs
        return np.format_float_positional(array.dtype.type(array.item()), unique=True, trim="0")
    # (never suppress_small, whatever np.set_printoptions says: suppress=True printed a gradient of 1e-27 as 0., and
    # [1e-27, 5e-28] as [0. 0.], at any precision)
    return np.array2string(array, precision=_distinguishing_precision(array, summary), threshold=threshold,
                           edgeitems=edgeitems, suppress_small=False)


def hidden_non_finite(data: np.ndarray, grad: np.ndarray | None, summary: tuple[int, int]) -> str:
    """How many NaN and inf ``data`` and ``grad`` hold, when their print is summarized (it may not show them)."""
    notes = []
    for name, array in (("data", data), ("grad", grad)):
        if array is None or array.dtype.kind not in "fc":
            continue  # (only floats hold NaN and inf)
        if not _flattened(array, summary) and _shown_part(array, _fitted(array, summary)).size == array.size:
            continue  # (all of it printed: nothing hidden; flattened, a few of its many numbers are)
        counts = [f"{count} {kind}" for count, kind in ((int(np.isnan(array).sum()), "NaN"),
                                                          (int(np.isinf(array).sum()), "inf")) if count]
        if counts:
            notes.append(f"{name} holds {' and '.join(counts)}")
    return "; ".join(notes)


def param_text(value: Any, array: Callable[[np.ndarray], str] = repr) -> str:
    """An operation's setting as it is written in Python: ``axis=0``, not ``axis=np.int64(0)``; ``key=(:, [0, 2])``,
    not ``(slice(None, None, None), array([0, 2]))``; each array in it written by ``array`` (the drawings write it on
    one line, notation.array_line; the engine's errors a big one by its shape)."""
    if isinstance(value, np.generic | np.dtype):
        return str(value)  # (a float32 as a float32 prints: 0.1, not 0.10000000149011612; dtype=float32)
    if isinstance(value, np.ndarray):
        return array(value)
    if isinstance(value, slice):
        parts = ["" if part is None else param_text(part, array) for part in (value.start, value.stop, value.step)]
        return ":".join(parts if parts[2] else parts[:2])
    if isinstance(value, (tuple, list)):
        inner = ", ".join(param_text(item, array) for item in value)
        inner += "," if isinstance(value, tuple) and len(value) == 1 else ""
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    return "..." if value is Ellipsis else repr(value)


def __dir__() -> list[str]:
    """``dir()`` of this module lists its API (``__all__``), not its helpers and imports."""
    return sorted(__all__)
