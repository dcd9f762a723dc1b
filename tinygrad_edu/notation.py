"""How the pictures write numbers and the seed's symbols, shared by the drawings and the backpropagation player.

    >>> format_number(0.123456), summary([1.0, 2.0, 6.0]), pretty("α^2"), pretty("W^(L-1)"), pretty("x^0.5")
    ('0.1235', 'min 1 · mean 3 · max 6', 'α²', 'Wᴸ⁻¹', 'x^0.5')
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import numpy as np

from tinygrad_edu import checks, printing

__all__ = ["format_number", "summary", "value_summary", "array_line", "param_text", "numbers_of", "smallest_normal",
           "pretty", "indexed", "operand", "exponent", "printable", "shortened", "left_to_right", "left_out_note",
           "LAYER_LABEL", "RIGHT_TO_LEFT"]

#: The labels nn.Layer gives its Values: ``W^i``, ``b^i``, ``z^i``, ``α^i`` (``w`` for hand-made graphs).
LAYER_LABEL = re.compile(r"^(W|w|b|z|α)(?:\^(\d+))?$")
_SUPERSCRIPT = str.maketrans("0123456789-−L", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁻ᴸ")
#: An exponent written as superscripts: a whole integer or L (``^2``, ``^-1``, ``^L``, not the ``^0`` of ``^0.5``),
#: or an integer expression of L in parentheses (``^(L-1)``); any other exponent keeps its ``^``, and so does one
#: raised again (``x^2^3`` written ``x²³`` would read as x^23).
#: Control characters, and the invisible marks that make text run right to left: inside a label they would reverse
#: what follows it on the line ("∂C/∂w = 22.5" shown as "∂C/∂w5.22 =").
#: (C1 controls such as NEL, and the line and paragraph separators, break the line as a newline would.)
#: (with the lone surrogates, which UTF-8 cannot hold, and U+FFFE, U+FFFF, which XML and so SVG cannot)
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")
_EXPONENT = re.compile(r"\^(?:\(([0-9L]+(?:[-−][0-9]+)?)\)|([-−]?[0-9]+|L)(?![\w.]))(?!\^)")
#: A run of right-to-left words (Hebrew, Arabic, Syriac, Thaana, N'Ko...): each word starts with a letter of such a
#: script and goes on to the next space or formula sign, the words of a two-word label one run.
_RTL = "\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefe\U00010800-\U00010fff\U0001e800-\U0001efff"
RIGHT_TO_LEFT = re.compile(f"[{_RTL}][^\\s=∂/·×+−*(),;:]*(?:\\s+[{_RTL}][^\\s=∂/·×+−*(),;:]*)*")


def format_number(x: float, precision: int = 4) -> str:
    """A number with ``precision`` significant digits (up to 17, which tell any two float64 apart), as every drawing
    writes it; -0.0 is written ``0``."""
    if isinstance(x, int) and not isinstance(x, bool):  # a Python int of any size (numpy has no dtype for 10**20)
        x = checks.number(x, "x", "format_number")
    elif isinstance(x, bool) or not isinstance(x, (float, np.number, np.ndarray)) or np.ndim(x) \
            or np.asarray(x).dtype.kind not in "iuf":
        raise TypeError(f"format_number: x must be a real number, got {type(x).__name__} {x!r:.60}")
    if x == 0:
        x = abs(x)  # -0.0 (a dead ReLU's gradient) means 0: "-0" would read as a small negative number
    return f"{x:.{_digits(precision, 'format_number')}g}"


def _digits(precision: Any, where: str) -> int:
    """``precision`` checked: 0 to 17 significant digits (0 shows 1, as Python's format does)."""
    return checks.integer(precision, "precision", where, least=0, most=17)


def summary(array: Any, precision: int = 4) -> str:
    """A number for a single element (``precision`` significant digits), ``min · mean · max`` for a tensor (at most
    3 digits each, to keep the line short; where some of its numbers are NaN, the others' min and max and how many are
    NaN), ``–`` for None (no gradient).  A Value (a gradient recorded by
    ``backward(create_graph=True)``) is summarised by its numbers."""
    if array is None:
        return "–"
    precision = _digits(precision, "summary")
    array = _numbers(array, "summary")
    if array.size == 1:
        return format_number(float(array.reshape(())), precision)
    if array.size == 0:
        return "empty"
    digits = min(precision, 3)
    nan = np.isnan(array) if array.dtype.kind == "f" else None
    if nan is None or not nan.any() or nan.all():
        return (f"min {format_number(float(array.min()), digits)} · mean {format_number(_mean(array), digits)} · "
                f"max {format_number(float(array.max()), digits)}")
    # a few NaN among numbers (log of one negative input): "min nan · mean nan · max nan" read as all NaN
    others = array[~nan]
    return (f"min {format_number(float(others.min()), digits)} · mean nan · "
            f"max {format_number(float(others.max()), digits)} ({int(nan.sum())} of {array.size} nan)")


def value_summary(array: Any, precision: int = 4) -> str:
    """:func:`summary` of a Value's numbers (its data), as the drawings and the player show them, but a single number
    never rounded to a whole number it is not: σ(20.24) = 0.9999999984 is written 0.999999998, not ``1`` (from which
    a reader works out 2(α − 1) = 0 and σ(1 − σ) = 0, where the drawing shows -3.2e-09 and 1.6e-09), with the
    digits it takes (up to 17) to show it is not whole."""
    precision = _digits(precision, "value_summary")
    if array is None or _numbers(array, "value_summary").size != 1:
        return summary(array, precision)
    x = float(_numbers(array, "value_summary").reshape(()))
    text = format_number(x, precision)
    while float(text) != x and float(text).is_integer() and abs(x) < 10 ** precision and precision < 17:
        precision += 1  # (above 10^precision every number is written whole: 123457 for 123456.7 is no surprise)
        text = format_number(x, precision)
    return text


def array_line(array: np.ndarray, precision: int = 8) -> str:
    """``array`` on one line, as numpy prints it by default (``[[0, 1], [2, 3]]``, ``[nan, 0.25]``, a long one
    shortened with ``...``), whatever np.set_printoptions says (sign="+" wrote an index [+1, +3], precision=2 a
    setting 0.12, nanstr="NA" a NaN NA); ``precision`` digits after the point at most."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"array_line: array must be a numpy array, got {type(array).__name__} {array!r:.40}")
    precision = _digits(precision, "array_line")
    with np.printoptions(nanstr="nan", infstr="inf"):  # (array2string takes the others, not these two)
        text = np.array2string(array, precision=precision, separator=", ", threshold=8, edgeitems=3, sign="-",
                               floatmode="maxprec", suppress_small=False, formatter={}, legacy=False)
    return " ".join(text.split()).replace("[ ", "[").replace(" ]", "]")


def param_text(value: Any) -> str:
    """An operation's setting as it is written in Python: ``axis=0``, not ``axis=np.int64(0)``; ``key=(:, [0, 2])``,
    not ``(slice(None, None, None), array([0, 2]))``; an array on one line, as the player writes it, whatever
    np.set_printoptions says (:func:`array_line`).  The engine's errors write settings alike (printing.param_text)."""
    return printing.param_text(value, array_line)


def _mean(array: np.ndarray) -> float:
    """The mean of finite numbers even where their sum overflows (1e308 and 1e308: 1e308, not inf); NaN where they
    hold NaN or both infinities (a diverged gradient), without numpy's warning."""
    with np.errstate(over="ignore", invalid="ignore"):
        mean = float(array.mean())
        if not np.isfinite(mean) and not np.isnan(array).any():  # (an overflow, and maybe one kind of infinity)
            mean = float((array / array.size).sum())
    return mean


def numbers_of(array: Any) -> np.ndarray:
    """The numbers of an array, a number or a Value (whose ``.data`` holds them)."""
    return _numbers(array, "numbers_of")


def smallest_normal(array: Any) -> float:
    """The smallest normal number of ``array``'s float dtype (float64's for any other): the absolute tolerance with
    which the drawings compare two gradients.  Below it numbers lose digits, while a vanishing gradient of 1e-20 is
    as exact as one of 1, and twice it is no rounding error."""
    dtype = _numbers(array, "smallest_normal").dtype
    return float(np.finfo(dtype if dtype.kind == "f" else np.float64).smallest_normal)


def _numbers(array: Any, where: str) -> np.ndarray:
    if not isinstance(array, np.ndarray) and hasattr(array, "requires_grad"):
        array = array.data
    return checks.real_array(array, "array", where)  # (the argument's name in summary, numbers_of, smallest_normal)


def pretty(label: str) -> str:
    """``α^2`` → ``α²``, ``W^(L-1)`` → ``Wᴸ⁻¹``: the seed's superscript layer indices and integer powers.  Other
    exponents (``x^0.5``, ``x^(n − 1)``) are left as they are, so the result always reads as the input did."""
    if not isinstance(label, str):
        raise TypeError(f"pretty: label must be a str, got {type(label).__name__}")
    return _EXPONENT.sub(lambda m: (m.group(1) or m.group(2)).translate(_SUPERSCRIPT), label)


#: The seed's index below the line (section 6.3's ``w_3``, ``b_3``; ``z_1^1``), after a letter and before no other
#: letter, digit or decimal point: the tree drawing and the player's steps on it write it ``w₃``, as they write ``W^1``
#: as ``W¹``.  Graphviz sets a label's lines one font size apart, and the underscore of ``w_3`` ran into the number
#: below it (``= 0̄.7``).
_SEED_INDEX = re.compile(r"(?<=[^\W\d_])_(\d+)(?![^\W⁰¹²³⁴⁵⁶⁷⁸⁹ᴸ]|\.\d)")
_SUBSCRIPT_DIGITS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def indexed(text: str) -> str:
    """``text`` with the seed's indices below the line written as subscripts: ``∂zᴸ/∂w_3`` → ``∂zᴸ/∂w₃`` (not
    ``w_3b``, ``w_3.5`` or ``layer_2_w``)."""
    if not isinstance(text, str):
        raise TypeError(f"indexed: text must be a str, got {type(text).__name__}")
    return _SEED_INDEX.sub(lambda match: match.group(1).translate(_SUBSCRIPT_DIGITS), text)


def operand(name: str) -> str:
    """``name`` as the right-hand operand of +, −, · or /: a negative number in parentheses, so that a formula reads
    ``α − (-0.5)``, as the chain products write a negative factor, not ``α − -0.5``."""
    if not isinstance(name, str):
        raise TypeError(f"operand: name must be a str, got {type(name).__name__}")
    return f"({name})" if name.startswith(("-", "−")) else name


#: The marks of a name that has an exponent already (``z²``, ``αᴸ⁻¹``, ``x^0.5``).
_RAISED = set("^⁰¹²³⁴⁵⁶⁷⁸⁹⁻ᴸ")


def exponent(name: str) -> str:
    """``name`` as an exponent, after ``^``: in parentheses where it has an exponent of its own or more than one term,
    ``e^(z²)`` (``e^z²`` reads as (e^z)², while the ² is layer 2's, as in ``σ(z²)``), ``e^(ln x)``; a single name or
    number as it is, ``e^z``, and so is one group in parentheses already, ``e^(w · x)``."""
    if not isinstance(name, str):
        raise TypeError(f"exponent: name must be a str, got {type(name).__name__}")
    if not (_RAISED & set(name) or " " in name) or _one_group(name):
        return name
    return f"({name})"


def _one_group(text: str) -> bool:
    """Whether ``text`` is one group in parentheses: ``(w − y²)``, not ``(a)·(b²)``."""
    depth = 0
    for i, char in enumerate(text):
        depth += (char == "(") - (char == ")")
        if depth == 0 and i < len(text) - 1:  # closed before the end (or never opened)
            return False
    return text.endswith(")")


def printable(text: Any) -> str:
    """``text`` as a picture shows it: control characters and the marks that reorder text (bidi controls) blanked."""
    return _UNPRINTABLE.sub(" ", str(text))


def shortened(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, the last one "…", between two characters a reader sees apart:
    never inside an accented letter written with a combining accent, an emoji with its skin tone, a family of
    emoji joined by U+200D or a flag (cut after ``limit - 1`` code points they lost their accent, tone or half)."""
    if not isinstance(text, str):
        raise TypeError(f"shortened: text must be a str, got {type(text).__name__}")
    limit = checks.integer(limit, "limit", "shortened", least=1)
    if len(text) <= limit:
        return text
    end = limit - 1
    while end > 0 and _continues(text, end):
        end -= 1
    return text[:(end or limit - 1)] + "…"  # (a single character with more marks than the limit is cut in it)


def _continues(text: str, i: int) -> bool:
    """Whether ``text[i]`` belongs to the character ``text[i - 1]`` ends (Unicode's grapheme clusters, simplified)."""
    char, before = text[i], text[i - 1]
    if unicodedata.category(char) in ("Mn", "Mc", "Me") or "\u200d" in (char, before):
        return True
    if "\ufe00" <= char <= "\ufe0f" or "\U0001f3fb" <= char <= "\U0001f3ff" or "\U000e0020" <= char <= "\U000e007f":
        return True  # a variation selector, a skin tone, the tags of a subdivision flag
    flags = 0  # regional indicators pair up into flags: a second one joins the first
    while flags < i and "\U0001f1e6" <= text[i - 1 - flags] <= "\U0001f1ff":
        flags += 1
    return "\U0001f1e6" <= char <= "\U0001f1ff" and flags % 2 == 1


def left_to_right(text: str) -> str:
    """A line of a drawing laid out left to right, a right-to-left label in it kept whole: a left-to-right mark
    (U+200E) at its start and after each run of right-to-left words that more text follows.  Without them a number
    after such a label moved into it: ``∂C/∂وزن = -0.2115`` was shown as ``∂C/∂0.2115- = وزن``."""
    if not isinstance(text, str):
        raise TypeError(f"left_to_right: text must be a str, got {type(text).__name__}")
    marked = RIGHT_TO_LEFT.sub(lambda run: run.group() + ("\u200e" if text[run.end():].strip() else ""), text)
    return text if marked == text else "\u200e" + marked


def left_out_note(shown: int, total: int) -> tuple[str, str]:
    """The two lines that say a drawing was cut: how many Values are left out, and how to see more."""
    for name, count in (("shown", shown), ("total", total)):
        checks.integer(count, name, "left_out_note", least=0)
    if shown > total:
        raise ValueError(f"left_out_note: shown={shown} is more than total={total}, the Values there are")
    return (f"… {total - shown:,} more Values left out",
            f"(showing the {shown:,} nearest the output; raise max_nodes to see more)")


def __dir__() -> list[str]:
    return sorted(__all__)
