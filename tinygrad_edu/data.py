"""Samples to train on: the seed's x² task, handwritten digits, MNIST, and the helpers around them.

Everything here is plain numpy; nothing imports the engine.

* :func:`xsquared` -- the seed's section 5 task, samples of ``f : [-1, 1] -> R, x -> x²``.
* :func:`load_digits` -- the seed's section 4 example, images of handwritten digits, shipped with the package
  (1,797 UCI 8x8 digits, CC BY 4.0, see ``datasets/ATTRIBUTION.txt``); no download needed.
* :func:`load_mnist`, :func:`download_mnist`, :func:`read_idx` -- the 28x28 MNIST digits, from IDX files.
* :func:`train_test_split`, :func:`one_hot`, :func:`batches` -- splitting samples, targets for the 10 output
  neurons, and the batches of an episode (seed section 7).

    >>> from tinygrad_edu.data import load_digits, train_test_split, one_hot
    >>> train, test = train_test_split(*load_digits(), test_fraction=0.25, seed=0)
    >>> train.inputs.shape, test.inputs.shape
    ((1347, 64), (450, 64))
    >>> one_hot(train.labels[:1]).shape
    (1, 10)
"""

from __future__ import annotations

import contextlib
import dis
import gzip
import hashlib
import io
import math
import numbers
import os
import sys
import urllib.parse
import uuid
import zlib
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn, Protocol

import numpy as np
import numpy.typing as npt

from tinygrad_edu import checks, printing
from tinygrad_edu.files import checked_path, decoded_text, home_advice, open_regular_file
from tinygrad_edu.seeds import GENERATOR_AS_SEED, USE_SEED, Seed, generator

#: The most numbers one array made here may hold (800 MB of float64); larger requests are refused up front.
MAX_ARRAY_SIZE = 100_000_000

__all__ = [
    "MAX_ARRAY_SIZE", "Dataset", "xsquared", "load_digits", "train_test_split", "one_hot", "batches",
    "read_idx", "load_mnist", "download_mnist", "DownloadError",
    "MNIST_FILES", "MNIST_MD5", "DEFAULT_MNIST_URL", "MNIST_URL_ENV", "MAX_DOWNLOAD_BYTES", "DIGITS_SAMPLES",
    "DIGITS_PIXELS",
]


#: The samples' second array is ``labels`` where it is kept with the inputs (Dataset, train_test_split, one_hot) and
#: ``targets`` where the model learns it (batches, fit): advice for checks.pytorch_keywords when the two are swapped.
USE_TARGETS = {"labels": "it is called targets= here (what the model should output), as for batches and fit"}
USE_LABELS = {"targets": "it is called labels= here, as for Dataset, train_test_split and one_hot"}


class _Fields(NamedTuple):
    inputs: np.ndarray
    labels: np.ndarray


class Dataset(_Fields):
    """Samples and their labels: ``inputs`` of shape ``(n, features)``, ``labels`` of shape ``(n,)``.

    A tuple, so ``inputs, labels = load_digits()`` works as well as ``load_digits().inputs``; as a pair it is indexed
    by 0 and 1 only: samples are picked from its arrays, ``Dataset(ds.inputs[idx], ds.labels[idx])``, and joined from
    them, ``np.concatenate`` of each (a tuple's ``a + b`` and ``a * 2`` are refused: 4 arrays; so are ``a < b``, which
    compared the inputs, and ``np.array(a)``, which stacked the inputs on the labels, and so ``np.array_equal(a, b)``:
    ``a == b`` compares).  ``len(a)`` is 2, a pair's length: its samples are ``len(a.inputs)``, and PyTorch's
    ``x, y = ds[0]`` and ``for x, y in ds`` (a comprehension's too; ``iter(ds)``'s, ``reversed(ds)``'s, ``for i,
    (x, y) in enumerate(ds)`` and ``x, y = next(iter(ds))`` as well) are refused, saying how to
    take samples.  Made by hand, ``Dataset(inputs, labels)`` takes arrays or nested lists (kept as numpy arrays) with
    the same number of samples (first axis); two Datasets are equal when their arrays are (NaN where NaN is).
    """

    __slots__ = ()

    @checks.pytorch_keywords(USE_LABELS, data="scikit-learn's .data is called inputs here: Dataset(inputs, labels)",
                             target="scikit-learn's .target is called labels here: Dataset(inputs, labels)")
    def __new__(cls, inputs: object, labels: object) -> Dataset:
        return super().__new__(cls, *_paired("Dataset", inputs, labels, "labels"))

    def __setattr__(self, name: str, value: object) -> None:
        """Refused for its arrays with advice (a tuple's fields cannot be set: Python's bare "can't set attribute",
        for ``train.inputs = train.inputs / 255``, say)."""
        if name in self._fields:
            raise AttributeError(f"Dataset: a Dataset is a tuple, whose arrays cannot be replaced: make another, "
                                 f"ds = ds._replace({name}=...), or change the numbers in place, ds.{name}[...] = ...",
                                 name=name, obj=self)
        super().__setattr__(name, value)

    @classmethod
    def _make(cls, iterable: Iterable[Any]) -> Dataset:  # type: ignore[override]  # (mypy's own NamedTuple rule)
        """As ``Dataset(inputs, labels)``, checked: ``ds._replace(labels=...)`` makes its Dataset here (namedtuple's
        own took anything, labels of another number of samples, or lists kept as lists)."""
        return cls(*iterable)

    def __eq__(self, other: object) -> bool:
        """Equal arrays, element by element, NaN where NaN is (a tuple's == asked numpy for the truth of an array and
        raised; a Dataset with a missing value equals itself and its copies)."""
        if not isinstance(other, tuple) or len(other) != len(self):
            return NotImplemented
        return all(_same_numbers(mine, theirs) for mine, theirs in zip(self, other, strict=True))

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = None  # type: ignore[assignment]  # (arrays: not hashable)

    def __add__(self, other: object) -> NoReturn:
        """Refused: a tuple's + made the 4-tuple ``(a.inputs, a.labels, b.inputs, b.labels)``, without a word, where
        PyTorch's ``a + b`` joins the samples; so did ``a * 2``.  A TypeError saying how to join the samples."""
        raise TypeError("Dataset: + and * of a Dataset, the pair (inputs, labels), would join or repeat the pairs "
                        "as a tuple of 4 arrays, not their samples; for the samples of a and then b: Dataset("
                        "np.concatenate([a.inputs, b.inputs]), np.concatenate([a.labels, b.labels]))")

    __radd__ = __mul__ = __rmul__ = __add__  # ((inputs, labels) + ds and sum(datasets, start=()) too)

    def __getitem__(self, index: Any) -> Any:
        """``ds[0]`` is the inputs and ``ds[1]`` the labels, as in a tuple; samples are picked from the arrays (a
        slice or indices gave the tuple's own answers: ``ds[:10]`` both arrays whole, ``ds[idx]`` numpy's "only
        integer scalar arrays" error, ``ds[5]`` "tuple index out of range")."""
        samples = "index its arrays: Dataset(ds.inputs[idx], ds.labels[idx])"
        if isinstance(index, slice) or not isinstance(index, (int, np.integer)) or isinstance(index, bool):
            raise TypeError(f"Dataset: a Dataset is the pair (inputs, labels), indexed by 0 or 1, got "
                            f"{type(index).__name__}; for some of its samples (a bootstrap sample, the first 10) "
                            f"{samples}")
        if not -2 <= index <= 1:
            raise IndexError(f"Dataset: a Dataset is the pair (inputs, labels), indexed by 0 or 1, got {index}; "
                             f"for sample {index}, ds.inputs[{index}] and ds.labels[{index}], or for some samples "
                             f"{samples}")
        if _unpacked_in_two(under_way=("BINARY_SUBSCR", "BINARY_OP")):  # x, y = ds[0], PyTorch's sample 0
            raise TypeError(f"Dataset: ds[{index}] is the {self._fields[index]}, all of them (a Dataset is the pair "
                            f"(inputs, labels)), not sample {index}: for sample {index} and its label, as PyTorch's "
                            f"dataset[{index}], x, y = ds.inputs[{index}], ds.labels[{index}]; for the arrays, "
                            "inputs, labels = ds")
        return super().__getitem__(index)

    def __iter__(self) -> Iterator[np.ndarray]:
        """The pair's two arrays, as a tuple's (``inputs, labels = ds``); ``for x, y in ds``, PyTorch's loop over
        samples, is refused (in a comprehension too, ``[f(x) for x, y in ds]``): it went through the pair, two
        samples' inputs (rows 0 and 1) and then their two labels, silently, or raised Python's bare "too many values
        to unpack"; so are ``for x, y in iter(ds)``, ``for i, (x, y) in enumerate(ds)`` and ``x, y =
        next(iter(ds))`` (the bytecode tells the call).  Told when the loop (or next) takes the
        first array (a comprehension's loop runs in a code of its own)."""
        arrays = super().__iter__()
        frame = _caller()
        if frame is None:
            return arrays
        # (iter(ds) in a loop's GET_ITER, or just before it, for x, y in iter(ds); not in zip(names, ds) or
        # enumerate(ds), whose loops unpack their own pairs: there only the second of enumerate's, for i, (x, y) in
        # enumerate(ds); and next(iter(ds)) unpacked in two)
        if frame.f_code.co_code[frame.f_lasti] == _GET_ITER or checks.call_under_way(frame, ("iter",), looped=True):
            return _refused_in_pairs(arrays)
        if checks.call_under_way(frame, ("enumerate",), looped=True):
            return _refused_in_pairs(arrays, inner=True)
        return _refused_in_pairs(arrays, by_next=True) if checks.call_under_way(frame, ("iter",)) else arrays

    def __reversed__(self) -> Iterator[np.ndarray]:
        """The labels, then the inputs; ``for x, y in reversed(ds)`` is refused as ``for x, y in ds`` is (its advice
        going through the samples from the last)."""
        arrays = iter((self.labels, self.inputs))
        frame = _caller()
        if frame is None:
            return arrays
        looped = checks.call_under_way(frame, ("reversed",), looped=True)
        return _refused_in_pairs(arrays, backwards=True) if looped else arrays

    def __lt__(self, other: object) -> NoReturn:
        """Refused, as ``<=``, ``>`` and ``>=`` are: a tuple's compared the inputs element-wise and gave numpy's array
        of booleans (one sample each: ``[[True]]``, which passes for true), or raised numpy's "truth value ... is
        ambiguous" or its broadcasting error.  A TypeError saying what to compare."""
        raise TypeError("Dataset: a Dataset is the pair (inputs, labels), which has no order: compare its arrays, "
                        "or their numbers of samples, len(a.inputs) < len(b.inputs); a == b says whether two Datasets "
                        "hold the same numbers")

    __le__ = __gt__ = __ge__ = __lt__

    def __array__(self, dtype: object = None, copy: object = None) -> NoReturn:
        """Refused: numpy made one array of the pair, inputs and labels stacked as if they were samples (shape
        ``(2, n, k)`` where the labels are ``(n, k)`` too, an autoencoder's, say), without a word, or raised its
        "inhomogeneous shape" error.  A TypeError saying which array to take, and how to join two
        Datasets (np.concatenate([a, b]) comes here)."""
        raise TypeError(f"Dataset: a Dataset is the pair (inputs, labels), not one array (np.array would stack the "
                        f"inputs {self.inputs.shape} and the labels {self.labels.shape}): give ds.inputs or "
                        "ds.labels, or unpack the pair, inputs, labels = ds; to join the samples of a and b (not "
                        "np.concatenate([a, b])), Dataset(np.concatenate([a.inputs, b.inputs]), "
                        "np.concatenate([a.labels, b.labels]))")

    def __array_function__(self, func: Any, types: object, args: object, kwargs: object) -> NoReturn:
        """Refused, as ``np.array(ds)`` is: ``np.array_equal`` and ``np.array_equiv`` caught that refusal and
        answered False, even for a Dataset and itself.  Other functions get the refusal of ``np.array(ds)``."""
        name = getattr(func, "__name__", "")
        if name in ("array_equal", "array_equiv"):
            raise TypeError(f"np.{name}: a Dataset is the pair (inputs, labels), not one array: a == b says whether "
                            f"two Datasets hold the same numbers (NaN where NaN is); for one of their arrays, "
                            f"np.{name}(a.inputs, b.inputs)")
        self.__array__()

    def __contains__(self, sample: object) -> NoReturn:
        """Refused, as ``count`` and ``index`` are: a tuple's compared the two arrays with ``sample`` and raised
        numpy's "truth value ... is ambiguous" or its broadcasting error.  A TypeError saying how to look for a
        sample or a label."""
        raise TypeError("Dataset: a Dataset is the pair (inputs, labels), not its samples: to look for a sample "
                        "among the inputs, np.count_nonzero((ds.inputs == x).all(axis=1)) counts its rows, "
                        "np.flatnonzero(...) of the same gives their positions; for a label, "
                        "np.count_nonzero(ds.labels == label)")

    def count(self, sample: object) -> NoReturn:  # (refused, see __contains__)
        """Refused: see ``__contains__``."""
        self.__contains__(sample)

    def index(self, sample: object, *bounds: object) -> NoReturn:  # (refused, see __contains__)
        """Refused: see ``__contains__``."""
        self.__contains__(sample)

    def __repr__(self) -> str:
        """One line, the arrays summarized as a Value's are, with their shapes once summarized (the NamedTuple's repr
        printed every number of 1,000 samples: 17,000 characters)."""
        def shown(array: np.ndarray) -> str:
            text = printing.array_text(array, printing.TEXT_SUMMARY).replace("\n", "")
            return f"{text} of shape {array.shape}" if "..." in text or not array.size else text

        return f"Dataset(inputs={shown(self.inputs)}, labels={shown(self.labels)})"

    if not TYPE_CHECKING:  # (hidden from type checkers, which would otherwise take dataset.target for a name)
        def __getattr__(self, name: str) -> NoReturn:
            """Only called for a missing attribute: scikit-learn's Bunch names get their names here."""
            ours = {"data": "inputs", "target": "labels", "images": _images_of(self.inputs)}.get(name)
            hint = f"; scikit-learn's .{name} is .{ours} here" if ours else ""
            if name == "images" and not ours:
                hint = f"; scikit-learn's .images are pictures, and inputs of shape {self.inputs.shape} hold none"
            if name == "targets":  # (fit's and batches' word: class labels and regression targets alike)
                hint = "; the targets (fit's and batches' word) are .labels here, class labels or any targets"
            raise AttributeError(f"'Dataset' object has no attribute {name!r}{hint}")


_GET_ITER = dis.opmap["GET_ITER"]


def _caller() -> Any:
    """The frame that called the Dataset method calling this (``iter(ds)``, ``reversed(ds)``), None where there is
    none ("call stack is not deep enough": called back from C alone)."""
    try:
        return sys._getframe(2)
    except ValueError:
        return None


def _refused_in_pairs(arrays: Iterator[np.ndarray], *, inner: bool = False, by_next: bool = False,
                      backwards: bool = False) -> Iterator[np.ndarray]:
    """A Dataset's arrays for a loop over it, refused where the loop unpacks each into two names (``for x, y in
    ds``), as PyTorch's samples are: the loop is told by its FOR_ITER, in the code that takes the first array.
    ``inner``: each is the second of enumerate's pairs, refused where that is unpacked (``for i, (x, y) in
    enumerate(ds)``); ``by_next``: taken by next(), refused where its result is (``x, y = next(iter(ds))``);
    ``backwards``: of ``reversed(ds)``, whose samples PyTorch's loop takes from the last."""
    for array in arrays:
        if by_next and _unpacked_in_two(under_way=(), called=("next",)):
            raise TypeError("Dataset: x, y = next(iter(ds)) unpacks the inputs, the first of the pair (inputs, "
                            "labels), not the first sample and its label: for those, as PyTorch's next(iter(ds)), "
                            "x, y = ds.inputs[0], ds.labels[0]; for the arrays, inputs, labels = ds")
        # (by_next too: it = iter(ds) kept, then for x, y in it; not zip(it, names) or enumerate(it), whose loops
        # unpack their own pairs; frame 1: the loop that resumed this generator)
        if _unpacked_in_two(under_way=("FOR_ITER",), inner=inner) and not (
                by_next and checks.looped_over_a_call(sys._getframe(1))):
            spelled = "for i, (x, y) in enumerate(ds)" if inner else "for x, y in reversed(ds)" if backwards \
                else "for x, y in iter(ds)" if by_next else "for x, y in ds"
            fix = "for i, (x, y) in enumerate(zip(ds.inputs, ds.labels))" if inner else \
                "for x, y in zip(ds.inputs[::-1], ds.labels[::-1])" if backwards else \
                "for x, y in zip(ds.inputs, ds.labels)"
            pair = "the pair (inputs, labels) backwards, labels first" if backwards else "the pair (inputs, labels)"
            raise TypeError(f"Dataset: {spelled} goes through {pair}, not through the samples: for sample and "
                            f"label, as in PyTorch, {fix}")
        yield array


def _unpacked_in_two(*, under_way: tuple[str, ...], called: tuple[str, ...] = (), inner: bool = False) -> bool:
    """Whether the code that called Dataset.__getitem__ (the instruction under way ``ds[0]``, BINARY_SUBSCR, or
    BINARY_OP from Python 3.14 on) or resumed its loop's iterator (FOR_ITER) unpacks the result into two names, as
    PyTorch's sample and label are: ``x, y = ds[0]``, ``for x, y in ds`` (see ``checks.unpacked_in_two``; ``inner``:
    the second of a pair, ``for i, (x, y) in enumerate(ds)``; ``called``: names one of which the call under way
    calls, ``next``).  ``inputs, labels = ds`` unpacks at the instruction itself, which is not looked at.  False
    where the method has no Python caller, or was called from C (``operator.itemgetter(0)``, ``list(ds)``)."""
    try:
        frame: Any = sys._getframe(2)  # (0: this function, 1: the method or iterator, 2: its caller or resumer)
    except ValueError:  # ("call stack is not deep enough": called back from C alone)
        return False
    return checks.unpacked_in_two(frame, under_way=under_way, inner=inner) and (
        not called or checks.call_under_way(frame, called))  # (a call of one of these)


def _images_of(inputs: np.ndarray) -> str | None:
    """How a Dataset's inputs become square pictures: themselves when they are ``(n, rows, cols)`` already
    (``load_mnist(flatten=False)``), rows of ``side²`` pixels reshaped (8x8 digits, 28x28 MNIST), else None (also
    for rows of 4, 9, … 49 numbers: a table's columns, no pictures)."""
    if inputs.ndim == 3:
        return "inputs"
    side = math.isqrt(inputs.shape[1]) if inputs.ndim == 2 else 0
    return f"inputs.reshape(-1, {side}, {side})" if side >= 8 and side * side == inputs.shape[1] else None


def _same_numbers(mine: np.ndarray, theirs: object) -> bool:
    """``np.array_equal``, with NaN equal to NaN where both hold floating-point numbers."""
    try:
        theirs = np.asarray(theirs)
    except (TypeError, ValueError):  # (ragged lists, a Value: no array, so not equal, as np.array_equal says)
        return False
    return np.array_equal(mine, theirs, equal_nan=mine.dtype.kind in "fc" and theirs.dtype.kind in "fc")


# ---------------------------------------------------------------------------------------------- validation

def _check_size(func: str, count: int, what: str) -> None:
    """Refuse to make an array of more than :data:`MAX_ARRAY_SIZE` numbers, naming its size."""
    if count > MAX_ARRAY_SIZE:
        raise ValueError(f"{func}: {what} would make {checks.readable_int(count, grouped=True)} numbers; the limit "
                         f"is {MAX_ARRAY_SIZE:,} (tinygrad_edu.data.MAX_ARRAY_SIZE)")


def _array(func: str, what: str, data: object) -> np.ndarray:
    checks.unmasked(data, what, func)
    checks.not_a_dataset(data, what, func, f"give its arrays apart, {func}(data.inputs, data.labels, ...)"
                         if what == "the inputs" else "give its labels, data.labels")
    checks.not_an_array(data, what, func)
    try:
        return np.asarray(data)
    except (ValueError, TypeError) as error:  # ragged nested lists
        raise ValueError(f"{func}: {what} are not an array: {error}") from None


def _real(func: str, what: str, array: np.ndarray, given: object = None) -> None:
    """Refuse samples a model cannot read: complex numbers, text, dates, or objects other than real numbers (None,
    a missing value).  A TypeError naming ``func``, ``what``, the dtype found and the first element at fault, saying
    what is expected and what to write; ``given``: what the user gave, whose own elements say which is text (numpy
    made all of ``[['a', 1]]`` text)."""
    kind = array.dtype.kind
    own = np.asarray(given, dtype=object) if kind in "US" and isinstance(given, list | tuple) else None
    elements = (own if own is not None and own.shape == array.shape else array).ravel().tolist() \
        if kind in "OUS" else []
    text = kind in "US" or bool(elements) and all(isinstance(x, str | bytes) for x in elements)
    if kind in "biuf" or (kind == "O" and all(isinstance(x, numbers.Real) for x in elements)):
        return
    at = checks.first_index(np.array([not isinstance(x, numbers.Real) for x in elements]).reshape(array.shape)) \
        if elements else ()
    found = elements[int(np.ravel_multi_index(at, array.shape))] if elements else None
    missing = checks.missing_value(found)  # (None, or pandas' pd.NA of a nullable column)
    shown = repr(found) if missing or repr(found).startswith(type(found).__name__) else \
        f"{type(found).__name__} {found!r:.30}"  # (not "Decimal Decimal('1')")
    first = f" holding {shown:.40} at index {at[0] if len(at) == 1 else at}" if elements else ""
    if kind == "c":
        advice = "give the real and imaginary parts as two columns, np.stack([z.real, z.imag], axis=-1), or np.abs(z)"
    elif text:
        advice = "numbers read as text? np.asarray(x, dtype=float)" + (
            "" if what == "the inputs" else "; class names? number them, np.unique(names, return_inverse=True)[1]")
    elif elements and missing:
        advice = "a missing value? fill it in, or leave that sample out (pandas: dropna(), fillna())"
    else:
        advice = "give an array of numbers"
    raise TypeError(f"{func}: {what} must be real numbers (bool, int or float), got dtype {array.dtype}{first}: "
                    f"{advice}")


def _paired(func: str, inputs: object, targets: object, name: str = "targets") -> tuple[np.ndarray, np.ndarray]:
    """Both as arrays with at least one dimension and the same number of samples (first axis); ``name``: what the
    second is called in messages."""
    x, y = _array(func, "the inputs", inputs), _array(func, f"the {name}", targets)
    _real(func, "the inputs", x, inputs)
    if name != "labels":  # (train_test_split's labels are only carried along: class names, and stratify's own)
        _real(func, f"the {name}", y, targets)
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"{func}: inputs and {name} need a first axis of samples, "
                         f"got shapes {x.shape} and {y.shape}")
    if len(x) != len(y):
        raise ValueError(f"{func}: inputs and {name} hold different numbers of samples, "
                         f"shapes {x.shape} and {y.shape}")
    checks.same_index(inputs, targets, func, name)
    return x, y


# ------------------------------------------------------------------------------------------------- x squared

_LARGEST_SQUARABLE = 1e154  # (1e154)² = 1e308 is still a float64; the targets x² must not overflow


@checks.pytorch_keywords(USE_SEED, **GENERATOR_AS_SEED)
def xsquared(n: int = 1000, low: float = -1.0, high: float = 1.0, seed: Seed = 0
             ) -> tuple[np.ndarray, np.ndarray]:
    """``n`` samples of the seed's ``f(x) = x²`` (section 5): ``x ~ Uniform[low, high)``, target ``x²``.

    Returns ``(inputs, targets)``, both float64 of shape ``(n, 1)``. The seed defines ``f`` on ``[-1, 1]`` and
    tests the network at ``x = -1``, so the default interval is the whole ``[-1, 1]`` (its section 5 drew its
    samples between 0 and 1, as its companion code does, from ``[0, 1)``, which makes ``x = -1`` an
    extrapolation). The same ``seed`` gives the same samples.

        >>> x, y = xsquared(4, seed=1)
        >>> bool((y == x ** 2).all()), x.shape
        (True, (4, 1))
    """
    n = checks.integer(n, "n", "xsquared", least=1)
    _check_size("xsquared", n, f"n={checks.readable_int(n)} samples")
    for name, value in (("low", low), ("high", high)):
        if not abs(checks.number(value, name, "xsquared")) <= _LARGEST_SQUARABLE:
            raise ValueError(f"xsquared: {name} must be finite and at most {_LARGEST_SQUARABLE:.0e} in size, so "
                             f"that its square is a float64, got {value}")
    if not low < high:
        raise ValueError(f"xsquared: need low < high, got low={low}, high={high}")
    x = generator(seed, "xsquared").uniform(float(low), float(high), size=(n, 1))
    return x, x ** 2


# ----------------------------------------------------------------------------------------------------- digits

DIGITS_SAMPLES, DIGITS_PIXELS = 1797, 64
_DIGITS_MAX_BYTES = 4 << 20  # the real table is 265 kB of text; more is a damaged (or hostile) file


@checks.pytorch_keywords(return_X_y="load_digits() returns (inputs, labels) already: inputs, labels = load_digits()",
                         as_frame="the digits come as numpy arrays only",
                         n_class="keep the digits you want: inputs[labels < n], labels[labels < n]")
def load_digits(path: str | os.PathLike | None = None) -> Dataset:
    """The 1,797 UCI handwritten digits bundled with the package (the seed's section 4 example).

    Returns ``Dataset(inputs, labels)``: ``inputs`` float64 of shape ``(1797, 64)``, each row an 8x8 image
    read row by row with brightness in ``[0, 1]`` (the file's counts 0..16 divided by 16); ``labels`` int64
    of shape ``(1797,)`` holding the digit 0..9. ``inputs[i].reshape(8, 8)`` is the picture.

    Data: E. Alpaydin and C. Kaynak, "Optical Recognition of Handwritten Digits", UCI Machine Learning
    Repository (1998), CC BY 4.0; see ``tinygrad_edu/datasets/ATTRIBUTION.txt``.
    ``path`` reads another copy of the file in the same format instead, gzip-compressed if its name ends in
    ``.gz``, else plain text (UCI's own ``optdigits.tes``; saved by a Windows editor too, with a byte order mark
    or as UTF-16). A damaged file raises ``ValueError``.
    """
    count: object = path  # (the type hint says a path; a count is the mistake caught here)
    if isinstance(count, (int, np.integer)) and not isinstance(count, bool) and count > 0:  # load_digits(100)
        classes = (f", or inputs[labels < {count}], labels[labels < {count}] for the digits 0 to {count - 1} "
                   "(scikit-learn's n_class)") if count <= 10 else ""
        raise TypeError(f"load_digits: path is a file's name, got int {count}; it takes no count: inputs, labels = "
                        f"load_digits(), then inputs[:{count}], labels[:{count}] for the first {count} samples"
                        f"{classes}")
    if path is None:
        source = resources.files("tinygrad_edu") / "datasets" / "digits.csv.gz"
        where = "the bundled digits file tinygrad_edu/datasets/digits.csv.gz"
    else:
        where = f"digits file {os.fsdecode(checked_path(path, 'load_digits'))!r}"
    try:
        raw = source.open("rb") if path is None else open_regular_file(path, "load_digits")
    except FileNotFoundError:
        fix = " (reinstall the package?)" if path is None else ""  # the user's own path: its name says enough
        raise FileNotFoundError(f"load_digits: {where} does not exist{fix}") from None
    try:
        with raw, (gzip.open(raw, "rb") if path is None or _gzipped(path) else contextlib.nullcontext(raw)) as unpacked:
            text = _read_up_to(unpacked, _DIGITS_MAX_BYTES + 1)
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"load_digits: {where} is damaged, it cannot be read: {error}") from None
    if path is not None and not _gzipped(path) and text.startswith(_GZIP_MAGIC):  # (not damaged: named without .gz)
        raise ValueError(f"load_digits: {where} is gzip-compressed, but its name does not end in .gz, which says "
                         "so: name it *.gz (as the bundled digits.csv.gz), or unpack it")
    if path is not None and text.startswith(_GZIP_MAGIC):  # (not damaged either)
        raise ValueError(f"load_digits: {where}: {_TWICE.removeprefix('; ')}")
    _numpy_file(text, where)
    try:
        if len(text) > _DIGITS_MAX_BYTES:
            raise ValueError(f"it unpacks to more than {_DIGITS_MAX_BYTES:,} bytes")
        lines = decoded_text(text)  # (with a byte order mark or as UTF-16 too, as Windows editors save it)
        # a file without data (numpy would warn): the shape check below says so.  Not by silencing numpy's warning:
        # warnings.catch_warnings() swaps the whole process's filters, another thread's too
        empty = not any(line.split("#", 1)[0].strip() for line in lines.splitlines())
        table = np.zeros((0, 1)) if empty else np.loadtxt(io.StringIO(lines), delimiter=",", ndmin=2)
    except ValueError as error:  # (a UnicodeDecodeError too)
        raise ValueError(f"load_digits: {where} is damaged, it cannot be read: {error}") from None
    if empty:  # (no numbers at all: an empty file, or a .gz of one, is no damaged digits file; numpy: "Empty input")
        unpacks = " or unpacks to nothing" if path is not None and _gzipped(path) else ""
        raise ValueError(f"load_digits: {where} holds no numbers: it is empty{unpacks} (blank lines and comments at "
                         f"most), where the digits file holds {DIGITS_SAMPLES} rows of {DIGITS_PIXELS + 1} numbers")
    expected = (DIGITS_SAMPLES, DIGITS_PIXELS + 1)
    if table.shape[1:] == expected[1:] and table.shape != expected:  # UCI's training part, optdigits.tra, say
        raise ValueError(f"load_digits: {where} holds a table of shape {table.shape}, not the {expected} of the "
                         f"digits file (UCI's optdigits.tes, bundled): it is damaged, or another file; for another "
                         f"file of this format (UCI's optdigits.tra holds 3,823 digits): table = np.loadtxt(path, "
                         f"delimiter=',', ndmin=2); inputs, labels = table[:, :64] / 16, table[:, 64].astype(int)")
    if table.shape != expected:
        raise ValueError(f"load_digits: {where} is damaged: expected a table of shape {expected}, found "
                         f"{table.shape}")
    pixels, labels = table[:, :DIGITS_PIXELS], table[:, DIGITS_PIXELS]
    if not (np.all(pixels == np.round(pixels)) and pixels.min() >= 0 and pixels.max() <= 16):
        raise ValueError(f"load_digits: {where} is damaged: pixel values must be whole numbers 0..16")
    if not (np.all(labels == np.round(labels)) and labels.min() >= 0 and labels.max() <= 9):
        raise ValueError(f"load_digits: {where} is damaged: labels (last column) must be whole numbers 0..9")
    return Dataset(pixels / 16.0, labels.astype(np.int64))


def _numpy_file(text: bytes, where: str) -> None:
    """Refuse a numpy file given for the digits' text table (digits saved with np.save or np.savez): not damaged,
    as a failed UTF-8 decoding said, but another format."""
    kinds = {b"\x93NUMPY": ("a numpy .npy file", ""), b"PK\x03\x04": ("a zip archive (a numpy .npz file?)",
                                                                      ", and its arrays by name (.files)")}
    for start, (kind, arrays) in kinds.items():
        if text.startswith(start):
            raise ValueError(f"load_digits: {where} is {kind}, not the digits' text table (rows of 64 pixels and a "
                             f"label, as UCI's optdigits.tes): read it with np.load(path){arrays}")


# --------------------------------------------------------------------------------------------------- helpers

_SPLIT_ADVICE = {"test_size": "it is called test_fraction= here (a fraction; no sample counts)",
                 "train_size": "give test_fraction= (the rest is for training)",
                 "shuffle": "the samples are always shuffled here; to split a time series by time (the future kept "
                            "out of training, no window in both parts), slice it instead: inputs[:k], inputs[k:]"}


class _Split(tuple[Dataset, Dataset]):
    """train_test_split's ``(train, test)``, a tuple, which unpacked into four names, scikit-learn's ``X_train,
    X_test, y_train, y_test = ...``, says how to write that here (Python said only "expected 4, got 2")."""

    __slots__ = ()

    def __iter__(self) -> Iterator[Dataset]:
        frame = _caller()
        if frame is not None and checks.unpacked_into(frame, 4):
            raise ValueError("train_test_split: gives two Datasets, (train, test), not scikit-learn's four arrays "
                             "X_train, X_test, y_train, y_test: write (X_train, y_train), (X_test, y_test) = "
                             "train_test_split(X, y)")
        return super().__iter__()


@checks.pytorch_keywords({**USE_SEED, **USE_LABELS}, **GENERATOR_AS_SEED, **_SPLIT_ADVICE)
def train_test_split(inputs: npt.ArrayLike, labels: npt.ArrayLike, test_fraction: float = 0.2, seed: Seed = 0,
                     stratify: bool = False) -> tuple[Dataset, Dataset]:
    """Split the samples at random into ``(train, test)``, two :class:`Dataset` s; same seed, same split.
    (scikit-learn's function of this name returns ``X_train, X_test, y_train, y_test`` instead; unpacked so, this
    one says to write ``(X_train, y_train), (X_test, y_test) = train_test_split(X, y)``.)

    The test part holds ``ceil(n * test_fraction)`` samples, as scikit-learn's ``test_size=`` (the product taken
    in floating point, as there: 25 × 0.28 gives 7.000000000000001, so 8); each part needs at least 1.  Both
    parts come in random order.  For a time series, slice instead (``inputs[:k]``, ``inputs[k:]``): a random
    split puts samples of the future in the training part, and overlapping windows in both parts.
    ``labels`` may be class labels or any targets with one row per sample. With ``stratify=True`` (1-D labels)
    each class is split separately, so both parts keep the class proportions; the test part then holds the
    sum of each class's share rounded to the nearest (halves to even), which must leave every class at least one
    sample in each part (scikit-learn instead shares ``ceil(n * test_size)`` out among the classes).
    """
    x, y = _paired("train_test_split", inputs, labels, "labels")
    try:
        checks.flag(stratify, "stratify", "train_test_split")
    except TypeError as error:
        given: object = stratify  # (declared a bool, but a scikit-learn habit passes the labels)
        hint = " (scikit-learn's stratify=labels is stratify=True here)" if isinstance(given, list | np.ndarray) else ""
        raise TypeError(f"{error}{hint}") from None
    test_fraction = checks.number(test_fraction, "test_fraction", "train_test_split", above=0, below=1)
    n, rng = len(x), generator(seed, "train_test_split")
    if stratify:
        parts = _stratified_test_parts(y, test_fraction, rng)  # (none for no samples: the check below says so)
        test_idx = rng.permutation(np.concatenate([np.empty(0, dtype=np.intp), *parts]))
    else:
        test_idx = rng.permutation(n)[:math.ceil(n * test_fraction)]
    if not 1 <= len(test_idx) <= n - 1:
        raise ValueError(f"train_test_split: test_fraction={test_fraction} of {checks.counted(n, 'sample')} leaves "
                         f"{len(test_idx)} test and {n - len(test_idx)} training samples; "
                         f"each needs at least 1")
    in_test = np.zeros(n, dtype=bool)
    in_test[test_idx] = True
    train_idx = rng.permutation(np.flatnonzero(~in_test))
    return _Split((Dataset(x[train_idx], y[train_idx]), Dataset(x[test_idx], y[test_idx])))


def _labels_hint(y: np.ndarray) -> str:
    """For targets that are not 1-D: how to get the class labels from a column of them, or from one-hot rows."""
    if y.ndim == 2 and y.shape[1] == 1:
        return "; give a column of labels flat, labels.reshape(-1)"
    if y.ndim == 2 and y.dtype.kind in "biuf" and np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all():
        return ("; these are one-hot rows: split the labels, rows.argmax(axis=1), and make the targets "
                "one_hot(train.labels) after the split")
    return ""


def _stratified_test_parts(y: np.ndarray, test_fraction: float, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """For each class, the indices of its ``round(count * test_fraction)`` samples drawn for the test part."""
    if y.ndim != 1:
        raise ValueError(f"train_test_split: stratify needs 1-D class labels, got shape {y.shape}{_labels_hint(y)}")
    if y.dtype.kind in "fc" and not np.isfinite(y).all():
        raise ValueError("train_test_split: stratify needs class labels, but the labels hold NaN or inf")
    try:
        classes, of_class = np.unique(y, return_inverse=True)
    except TypeError:  # labels numpy cannot sort: None, or a mix of numbers and strings
        raise TypeError(f"train_test_split: stratify needs class labels that can be sorted (numbers or strings), "
                        f"got labels such as {y[:3].tolist()!r:.80}") from None
    # each class's samples in order, grouped once: comparing all labels with each class took time n² for n/5 classes
    grouped, sizes = np.argsort(of_class, kind="stable"), np.bincount(of_class, minlength=classes.size)
    for shown, end, size in zip(classes.tolist(), np.cumsum(sizes), sizes, strict=True):
        members = rng.permutation(grouped[end - size:end])
        in_test = round(len(members) * test_fraction)
        if not 0 < in_test < len(members):
            raise ValueError(f"train_test_split: with stratify=True every class needs samples in both parts, but "
                             f"class {shown!r:.60} ({len(members)} of the {len(y)} samples) would get {in_test} test "
                             f"and {len(members) - in_test} training samples at test_fraction={test_fraction}; change "
                             f"test_fraction, leave out classes this small, or give stratify=False")
        yield members[:in_test]


_ONE_HOT_ADVICE = {"num_classes": "it is called classes= here (10 unless given)"}


@checks.pytorch_keywords(USE_LABELS, **_ONE_HOT_ADVICE)
def one_hot(labels: npt.ArrayLike, classes: int = 10) -> np.ndarray:
    """Targets for the seed's output neurons: a 1.0 at the label's neuron, 0.0 at the others.

    Shape ``labels.shape + (classes,)``, float64 (so a column of labels, (n, 1), gives (n, 1, classes): give them
    flat, ``labels.reshape(-1)``, for rows (n, classes)). For a 9 the 10th neuron is fully activated (seed section 4):

        >>> one_hot([9])[0].tolist()
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    """
    classes = checks.integer(classes, "classes", "one_hot", least=1)
    y = _array("one_hot", "the labels", labels)
    if y.dtype.kind in "OUS":  # objects (ints beyond int64, a pandas column, Decimal('1')), or text
        y = checks.label_numbers(labels, y, "one_hot", classes)
    if y.size == 0 and y.dtype.kind == "f":  # an empty list
        y = y.astype(np.int64)
    if y.dtype.kind not in "iu":  # (not bool, and not timedelta64, which numpy counts among its integers)
        hint = "; for the two classes False and True (0 and 1), one_hot(labels.astype(int), classes=2)" \
            if y.dtype.kind == "b" else _float_labels_hint(y)
        raise TypeError(f"one_hot: labels must be integers, got dtype {y.dtype}{hint}")
    _check_size("one_hot", y.size * classes,
                f"{y.size:,} labels of {checks.readable_int(classes, grouped=True)} classes")
    if y.size and (y.min() < 0 or y.max() >= classes):
        at = checks.first_index((y < 0) | (y >= classes))
        raise ValueError(f"one_hot: label {y[at]} is outside 0..{classes - 1} (classes={classes}), at index "
                         f"{at[0] if len(at) == 1 else at} of labels of shape {y.shape}")
    if y.ndim >= 2 and 1 < y.shape[-1] == classes and np.isin(y, (0, 1)).all() and (y.sum(axis=-1) == 1).all():
        raise ValueError(f"one_hot: the labels of shape {y.shape} are one-hot rows already (targets), whose labels "
                         "are rows.argmax(axis=-1); give class indices, one per sample (class indices that only look "
                         f"so, a grid of 0s and 1s: one_hot(np.ravel(labels), {classes}).reshape({y.shape} + "
                         f"({classes},)))")
    targets = np.zeros((y.size, classes))
    targets[np.arange(y.size), y.ravel()] = 1.0
    return targets.reshape(y.shape + (classes,))


def _float_labels_hint(y: np.ndarray) -> str:
    """For float labels: their shape, and what they look like: one-hot rows already, or whole numbers as floats."""
    if y.dtype.kind != "f":
        return ""
    if y.ndim >= 2 and y.shape[-1] > 1 and np.isin(y, (0.0, 1.0)).all() and (y.sum(axis=-1) == 1).all():
        return (f" of shape {y.shape}; these are one-hot rows already (targets), whose labels are "
                f"rows.argmax(axis=-1)")
    if np.isnan(y).any():  # (pandas' Int64 labels with pd.NA become floats with NaN)
        where = checks.first_index(np.isnan(y))
        return f" of shape {y.shape}, holding NaN (missing labels?) at index {where}"
    whole = np.isfinite(y) & (y == np.round(y))
    if not whole.all():
        where = checks.first_index(~whole)
        return f" of shape {y.shape}, holding {y[where]} at index {where}: give class indices"
    return f" of shape {y.shape}; whole numbers given as floats: labels.astype(int)"


_BATCHES_ADVICE = {
    "drop_last": "every sample is used; to drop the smaller last batch skip it in the loop, `if len(x) < b: continue` "
                 "(other samples each episode when shuffled, as PyTorch's), or pass inputs[:len(inputs) // b * b] "
                 "(the same samples left out in every episode)",
    "num_workers": "the batches are slices of numpy arrays, made in this process",
}


class _Batches:
    """What :func:`batches` returns: each pass over it is one episode, as with PyTorch's ``DataLoader``."""

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator | None) -> None:
        self._x, self._y, self._batch_size, self._rng = x, y, batch_size, rng
        self._order = None if rng is None else rng.permutation(len(x))  # the first pass's, drawn at the call

    def __len__(self) -> int:
        """The number of batches of a pass."""
        return -(-len(self._x) // self._batch_size)

    def __repr__(self) -> str:
        return (f"<batches: {checks.counted(len(self._x), 'sample')} in {len(self)} "
                f"{'batch' if len(self) == 1 else 'batches'} of up to {self._batch_size}, "
                f"{'shuffled' if self._rng is not None else 'in order'}>")

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        order, self._order = self._order, None
        if order is None and self._rng is not None:  # a later pass: a new order from the same generator
            order = self._rng.permutation(len(self._x))
        return _Pass(self._x, self._y, self._batch_size, order)


class _Pass:
    """One pass over the batches (an episode): an iterator that pickle and ``copy.deepcopy`` can take half way (a
    generator cannot), for a training loop copied or sent to another process, which then goes on from there."""

    def __init__(self, x: np.ndarray, y: np.ndarray, size: int, order: np.ndarray | None) -> None:
        self._x, self._y, self._size, self._order, self._start = x, y, size, order, 0
        # rows taken by ndarray.take, a third of x[idx]'s cost for a batch of 5 (1 % of the x² update): the same
        # C-ordered copy up to 2-D; x[idx] keeps the layout of a 3-D array's rows (Fortran order), take would not
        self._take = x.ndim < 3, y.ndim < 3

    def __iter__(self) -> _Pass:
        return self

    def __next__(self) -> tuple[np.ndarray, np.ndarray]:
        x, y, size, start = self._x, self._y, self._size, self._start
        if start >= len(x):
            raise StopIteration
        self._start = start + size
        if self._order is None:  # copies, as the shuffled batches are: changing one leaves the caller's arrays be
            return x[start:start + size].copy(), y[start:start + size].copy()
        idx, (take_x, take_y) = self._order[start:start + size], self._take
        return x.take(idx, 0) if take_x else x[idx], y.take(idx, 0) if take_y else y[idx]


@checks.pytorch_keywords({**USE_SEED, **USE_TARGETS}, **GENERATOR_AS_SEED, **_BATCHES_ADVICE)
def batches(inputs: npt.ArrayLike, targets: npt.ArrayLike, batch_size: int, shuffle: bool = True,
            seed: Seed = None) -> _Batches:
    """The batches of an episode (seed section 7): ``(inputs, targets)`` pairs of ``batch_size`` samples.

    Every sample lands in exactly one batch; the last batch is smaller when ``batch_size`` does not divide the
    number of samples. ``shuffle`` draws a new order from ``seed``: an int repeats the same order on every
    call, a shared ``numpy.random.Generator`` gives a different order each episode, reproducibly.
    The result may be iterated again, as PyTorch's ``DataLoader``: each pass is another episode, shuffled anew
    from the same generator (reproducibly for an int ``seed``); ``len()`` is the number of batches.
    Arguments are checked when ``batches`` is called, not when iteration starts.

        >>> [len(x) for x, _ in batches(np.zeros((10, 2)), np.zeros(10), batch_size=4)]
        [4, 4, 2]
    """
    x, y = _paired("batches", inputs, targets)
    batch_size = checks.integer(batch_size, "batch_size", "batches", least=1)
    shuffle = checks.flag(shuffle, "shuffle", "batches")
    rng = generator(seed, "batches") if shuffle or seed is not None else None  # (None unshuffled: no draw made)
    return _Batches(x, y, batch_size, rng if shuffle else None)


# ------------------------------------------------------------------------------------------------------- IDX

_IDX_UBYTE = 0x08
_GZIP_MAGIC = b"\x1f\x8b"  # how a gzip file starts (an IDX file starts with two zero bytes)
#: What a .gz file is whose content starts as a gzip file again (gzip run on a .gz file, a download saved as sent)
_TWICE = "; unpacked, it starts as a gzip file again: it is compressed twice, unpack it once (gzip -dc FILE > ONCE.gz)"


class _Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


def _read_up_to(stream: _Readable, size: int) -> bytes:
    """At most ``size`` bytes, read in pieces, so that a size declared by a damaged header allocates nothing
    the stream does not hold."""
    pieces, left = [], size
    while left > 0:
        piece = stream.read(min(left, 1 << 22))
        if not piece:
            break
        pieces.append(piece)
        left -= len(piece)
    return b"".join(pieces)


def _gzipped(path: str | os.PathLike) -> bool:
    """Whether a file is read as gzip-compressed: by its name, ``.gz`` (``.GZ`` too: a name from Windows)."""
    return os.fsdecode(os.fspath(path)).lower().endswith(".gz")


def read_idx(path: str | os.PathLike, ndim: int | None = None) -> np.ndarray:
    """Read an IDX file (MNIST's format), plain or gzip-compressed (``.gz``, ``.GZ``), as a uint8 array.

    Layout: two zero bytes, a data-type byte (only ``0x08``, unsigned byte, is supported), a byte with the
    number of dimensions, each dimension as a big-endian uint32, then the values. MNIST's magic numbers are
    ``0x00000803`` for images ``(n, rows, cols)`` and ``0x00000801`` for labels ``(n,)``; pass ``ndim`` to
    require one. A file whose header is wrong or whose size does not match its header raises ``ValueError``;
    no more is read (or decompressed) than the header promises, plus one byte. A header declaring more than
    :data:`MAX_ARRAY_SIZE` values is refused before anything else is read.
    """
    if ndim is not None:
        ndim = checks.integer(ndim, "ndim", "read_idx", least=1)
    file = open_regular_file(path, "read_idx")
    name = Path(os.fsdecode(os.fspath(path)))
    try:
        with file, (gzip.open(file, "rb") if _gzipped(path) else contextlib.nullcontext(file)) as stream:
            head = _read_up_to(stream, 4)
            shape = _idx_shape(name, head, _read_up_to(stream, 4 * head[3]) if len(head) == 4 else b"", ndim,
                               _gzipped(path))
            header, expected = 4 + 4 * len(shape), math.prod(shape)
            _check_size("read_idx", expected, f"{name}: its header's dimensions {shape}")
            _check_size("read_idx", math.prod(size for size in shape if size),  # (0, 2³², 2³²): no array can be made
                        f"{name}: its header's dimensions {shape}, zeros aside,")
            raw = _read_up_to(stream, expected + 1)
    except (OSError, EOFError, zlib.error) as error:
        raise ValueError(f"read_idx: {name}: cannot decompress/read the file ({error})") from None
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "longer than its header says"
        found = f"found {header + len(raw)}" if len(raw) < expected else "found more"
        raise ValueError(f"read_idx: {name}: file is {what}: dimensions {shape} need {header + expected} bytes, "
                         f"{found}")
    return np.frombuffer(raw, dtype=np.uint8).reshape(shape).copy()


def _idx_shape(path: Path, head: bytes, dims: bytes, ndim: int | None, unpacked: bool) -> tuple[int, ...]:
    """The shape an IDX header declares, after checking its magic number (``unpacked``: of a .gz file's content)."""
    if len(head) < 4:
        raise ValueError(f"read_idx: {path}: {len(head)} bytes is too short for an IDX header")
    magic = int.from_bytes(head, "big")
    if head[0] or head[1]:
        packed = "" if head[:2] != _GZIP_MAGIC else _TWICE if unpacked else \
            "; it starts as a gzip file does: if it is compressed, name it *.gz"
        raise ValueError(f"read_idx: {path}: bad magic number 0x{magic:08x}, not an IDX file "
                         f"(the first two bytes must be zero){packed}")
    if head[2] != _IDX_UBYTE:
        raise ValueError(f"read_idx: {path}: data type byte 0x{head[2]:02x} is not supported "
                         f"(expected 0x08, unsigned byte; magic number 0x{magic:08x})")
    if ndim is not None and head[3] != ndim:
        raise ValueError(f"read_idx: {path}: magic number 0x{magic:08x} says {checks.counted(head[3], 'dimension')}, "
                         f"expected 0x{0x800 + ndim:08x} ({checks.counted(ndim, 'dimension')})")
    if head[3] == 0 or len(dims) < 4 * head[3]:
        raise ValueError(f"read_idx: {path}: header for {head[3]} dimensions is incomplete or empty")
    return tuple(int.from_bytes(dims[4 * i: 4 * i + 4], "big") for i in range(head[3]))


# ----------------------------------------------------------------------------------------------------- MNIST

DEFAULT_MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
"""A public mirror of the MNIST files; override with the ``url`` argument or ``$TINYGRAD_EDU_MNIST_URL``."""
MNIST_URL_ENV = "TINYGRAD_EDU_MNIST_URL"

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
"""Base names (without ``.gz``) of the image and label files of each split."""

MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
"""The published md5 checksums of the four standard compressed MNIST files."""


#: The most bytes one download may bring (the largest MNIST file has 9.9 MB; EMNIST-sized mirrors fit too).
MAX_DOWNLOAD_BYTES = 256 << 20


class DownloadError(OSError):
    """A file could not be fetched, or what arrived does not match its checksum."""


def _digest(path: Path, expected: str) -> str:
    """md5 (32 hex digits) or sha256 (64 hex digits) of a file, whichever ``expected`` is."""
    h = hashlib.md5(usedforsecurity=False) if len(expected) == 32 else hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _unwritable(error: OSError, what: Path) -> OSError:
    """``error`` of making or writing the cache, naming ``download_mnist`` and ``what`` (not a temporary file)."""
    return type(error)(error.errno, f"download_mnist: cannot write {what}: {error.strerror or error}; give another "
                                    f"root, a folder you may write in")


def _fetch(url: str, target: Path, checksum: str | None, timeout: float, mirror: str) -> None:
    """Download ``url`` to a temporary file next to ``target``, check it, then rename it into place; ``mirror`` says
    where the base URL came from, for the advice a failure gives."""
    # the network's modules are imported here, by the one function that uses them: at the top, http.client, ssl,
    # email and urllib.request took an eighth of every `import tinygrad_edu` (the CLI's start-up too), 20-35 ms
    import http.client
    import urllib.error
    import urllib.request

    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.part"
    # the umask's permissions, as every other file the package writes (mkstemp's 0600 left a teacher's shared copy of
    # MNIST unreadable to the students); its data is public
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as error:
        raise _unwritable(error, target) from None
    failed = (f"download_mnist: cannot download from {mirror} (try again, or give another mirror with url= or "
              f"${MNIST_URL_ENV})")
    try:
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                received, announced = 0, response.headers.get("Content-Length")
                kind = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    out.write(chunk)
                    received += len(chunk)
                    if received > MAX_DOWNLOAD_BYTES:
                        raise DownloadError(f"download_mnist: {url} sent more than {MAX_DOWNLOAD_BYTES:,} bytes "
                                            "(the largest MNIST file has 9.9 MB); the download was deleted")
        except DownloadError:
            raise
        except urllib.error.HTTPError as error:
            error.close()
            raise DownloadError(f"{failed}: fetching {url} failed: HTTP {error.code} {error.reason}") from None
        except (OSError, http.client.HTTPException) as error:
            slow = ""  # a stall: after the connection (TimeoutError), or while connecting (in a URLError)
            if isinstance(error, TimeoutError) or isinstance(getattr(error, "reason", None), TimeoutError):
                slow = f" (nothing came for timeout={timeout:g} s; on a slow network give a larger timeout=)"
            raise DownloadError(f"{failed}: fetching {url} failed: {error}{slow}") from None
        if announced is not None and announced.isdigit() and received != int(announced):
            raise DownloadError(f"{failed}: fetching {url} stopped after {received} of "
                                f"{announced} bytes; the partial file was deleted")
        with tmp.open("rb") as got:  # an error page sent with status 200 (MNIST's files are gzip-compressed)
            start = got.read(512)
        if not start.startswith(_GZIP_MAGIC) and (kind == "text/html" or start.lstrip().startswith(b"<")):
            raise DownloadError(f"{failed}: {url} sent a web page ({kind or 'no Content-Type'}), not a gzip file; "
                                f"the download was deleted")
        if checksum is not None and (found := _digest(tmp, checksum)) != checksum:
            raise DownloadError(f"download_mnist: {url} does not match its checksum: expected {checksum}, "
                                f"got {found}; the download was deleted "
                                f"(a wrong mirror or a broken transfer?)")
        try:
            os.replace(tmp, target)
        except OSError as error:
            raise _unwritable(error, target) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _check_download_arguments(root: str | os.PathLike, kind: object, timeout: object) -> Path:
    """``download_mnist``'s arguments, checked before anything is made or fetched; returns ``root`` as a Path."""
    if not isinstance(kind, str) or kind not in ("train", "test", "all"):
        raise ValueError(f"download_mnist: kind must be 'train', 'test' or 'all', got {kind!r}")
    checks.number(timeout, "timeout", "download_mnist", above=0)
    folder = Path(os.fsdecode(checked_path(root, "download_mnist")))
    if folder.parts[:1] == ("~",) and not Path("~").is_dir():  # (torchvision's MNIST(root="~/data") expands it)
        raise ValueError(f"download_mnist: root {os.fsdecode(root)!r} would make a folder named '~' in the current "
                         f"folder{home_advice(folder, 'root')}")
    blocking = next((path for path in (folder, *folder.parents) if path.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise ValueError(f"download_mnist: cannot make the folder {folder}: {blocking} is a file, not a folder")
    return folder


def _base_url(url: object) -> str:
    """The base URL the file names are appended to: ``url``, else ``$TINYGRAD_EDU_MNIST_URL``, else the default."""
    if url is not None and not isinstance(url, str):
        raise TypeError(f"download_mnist: url must be a str such as {DEFAULT_MNIST_URL!r}, got "
                        f"{type(url).__name__} {url!r:.60}")
    base = url if url is not None else os.environ.get(MNIST_URL_ENV) or DEFAULT_MNIST_URL
    if not urllib.parse.urlsplit(base).scheme:  # urlopen's own "unknown url type" names no function
        where = "url" if url is not None else f"${MNIST_URL_ENV}"
        raise ValueError(f"download_mnist: {where} must be a URL with a scheme, such as {DEFAULT_MNIST_URL!r} or "
                         f"'file:///path/to/folder/', got {base!r:.100}")
    return base


def _checked_checksums(checksums: object, names: list[str]) -> dict[str, str | None]:
    """The checksum of each of ``names`` (lower case; None: not checked): ``checksums`` over :data:`MNIST_MD5`."""
    if checksums is not None and not isinstance(checksums, Mapping):
        raise TypeError(f"download_mnist: checksums must map file names to hex digests, "
                        f"got {type(checksums).__name__}")
    unknown = [name for name in (checksums or {}) if name not in MNIST_MD5]
    if unknown:  # a misspelt name would leave its file's check as it was, silently
        raise ValueError(f"download_mnist: checksums names {unknown[0]!r}, which is not one of the MNIST files "
                         f"{', '.join(MNIST_MD5)}")
    sums = {**MNIST_MD5, **(checksums or {})}
    checked: dict[str, str | None] = {}
    for name in names:
        checksum = sums.get(name)
        if checksum is not None and not (isinstance(checksum, str) and len(checksum) in (32, 64)
                                         and all(c in "0123456789abcdefABCDEF" for c in checksum)):
            raise ValueError(f"download_mnist: checksum for {name} must be an md5 (32 hex digits), a sha256 "
                             f"(64 hex digits) or None, got {type(checksum).__name__} {checksum!r:.80}")
        checked[name] = None if checksum is None else checksum.lower()
    return checked


def download_mnist(root: str | os.PathLike, kind: str = "all", url: str | None = None,
                   checksums: Mapping[str, str | None] | None = None, timeout: float = 60.0) -> list[Path]:
    """Fetch the compressed MNIST files into ``root`` (created if needed) and return their paths.

    ``kind`` is ``"train"``, ``"test"`` or ``"all"`` (the four files). Files come from ``url`` (a base URL
    the file names are appended to), else ``$TINYGRAD_EDU_MNIST_URL``, else :data:`DEFAULT_MNIST_URL`.
    Each download goes to a temporary file that is renamed into place only after its checksum matched;
    ``checksums`` maps file names (those of :data:`MNIST_MD5`) to md5 or sha256 hex digests and overrides
    :data:`MNIST_MD5` (a ``None`` value skips the check). A file already present with the right checksum is not
    fetched again; one with a wrong checksum is replaced. ``timeout`` is how many seconds to wait for the server
    to answer and then for each piece of a file (a slow but steady download is not cut off). HTTP or network
    failure, a file that is not gzip-compressed (a mirror's error page) or a checksum mismatch raises
    :class:`DownloadError` and leaves no partial file; a ``root`` that cannot be written raises the ``OSError``.
    """
    root = _check_download_arguments(root, kind, timeout)
    base = _base_url(url)
    mirror = ("the mirror given as url=" if url is not None else
              f"the mirror set by ${MNIST_URL_ENV}" if os.environ.get(MNIST_URL_ENV) else "the default mirror")
    names = [f"{stem}.gz" for split in (("train", "test") if kind == "all" else (kind,))
             for stem in MNIST_FILES[split]]
    sums = _checked_checksums(checksums, names)  # all of them before anything is made or fetched
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise _unwritable(error, root) from None
    paths = []
    for name in names:
        target, checksum = root / name, sums[name]
        cached = target.is_file() and (checksum is None or _digest(target, checksum) == checksum)
        if not cached:
            _fetch(base.rstrip("/") + "/" + name, target, checksum, timeout, mirror)
        paths.append(target)
    return paths


def _present(root: Path, stem: str) -> Path | None:
    """The file of ``stem`` in ``root``, the first found of: ``stem.gz``, ``stem``, the names with a dot that some
    copies use (``train-images.idx3-ubyte``), and ``stem/stem`` (each file in a folder of its name, as some copies
    unpack); None for none."""
    dotted = stem.replace("-idx", ".idx", 1)
    for candidate in (root / f"{stem}.gz", root / stem, root / f"{dotted}.gz", root / dotted, root / stem / stem):
        if candidate.is_file():
            return candidate
    return None


def _find(root: Path, stem: str) -> Path:
    found = _present(root, stem)
    if found is not None:
        return found
    if not root.is_dir():
        problem = (f"{root} is a file, not a folder" if root.exists()
                   else f"the folder {root} does not exist{home_advice(root, 'root')}")
        raise FileNotFoundError(f"load_mnist: {problem}; root is the folder holding the MNIST files "
                                f"(download=True fetches them there)")
    raise FileNotFoundError(f"load_mnist: neither {stem}.gz nor {stem} (nor {stem.replace('-idx', '.idx', 1)}) is "
                            f"in {root}; pass download=True to fetch them")


def _float_dtype(dtype: object) -> np.dtype:
    """``load_mnist``'s ``dtype``, which must be a floating-point type: brightness lies in [0, 1]."""
    try:
        checked = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError:
        checked = None
    if checked is None or checked.kind != "f":
        given = repr(dtype) if checked is None else str(checked)
        raise TypeError(f"load_mnist: dtype must be a floating-point type such as np.float32 (brightness lies in "
                        f"[0, 1]), got {given}")
    return checked


def load_mnist(root: str | os.PathLike, kind: str = "train", download: bool = False, url: str | None = None,
               checksums: Mapping[str, str | None] | None = None, flatten: bool = True,
               dtype: type | np.dtype = np.float32, timeout: float = 60.0) -> Dataset:
    """One split of MNIST (``kind="train"``: 60,000 images, ``"test"``: 10,000) from IDX files in ``root``.

    Returns ``Dataset(inputs, labels)``: ``inputs`` with brightness in ``[0, 1]`` (bytes divided by 255) of
    shape ``(n, rows * cols)`` (``(n, 784)`` for MNIST), or ``(n, rows, cols)`` with ``flatten=False``;
    ``dtype`` a floating-point type, float32 by default (the 60,000 training images take 188 MB, twice that as
    float64); ``labels`` int64.
    Files may be gzip-compressed (``train-images-idx3-ubyte.gz``, preferred) or plain, and named with a dot
    (``train-images.idx3-ubyte``) or each in a folder of its name, as some copies are. With ``download=True``
    missing files of that split are fetched first (a ``.gz`` of download_mnist's names is fetched again unless its
    checksum holds; a file found under another of the names above is not missing), see :func:`download_mnist` for
    ``url``, ``checksums`` and ``timeout``.
    Bad files (wrong magic number, truncated, image and label counts that differ) raise ``ValueError``.
    """
    if not isinstance(kind, str) or kind not in MNIST_FILES:
        raise ValueError(f"load_mnist: kind must be 'train' or 'test', got {kind!r}")
    dtype = _float_dtype(dtype)
    root = Path(os.fsdecode(checked_path(root, "load_mnist")))
    checks.flag(download, "download", "load_mnist")
    checks.flag(flatten, "flatten", "load_mnist")
    stems = MNIST_FILES[kind]
    if download and not all(_present(root, stem) not in (None, root / f"{stem}.gz") for stem in stems):
        download_mnist(root, kind, url=url, checksums=checksums, timeout=timeout)
    images_path, labels_path = (_find(root, stem) for stem in stems)
    images, labels = read_idx(images_path, ndim=3), read_idx(labels_path, ndim=1)
    if len(images) != len(labels):
        raise ValueError(f"load_mnist: {images_path.name} holds {len(images)} images but {labels_path.name} "
                         f"holds {len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise ValueError(f"load_mnist: {labels_path}: label {labels.max()} is not a digit 0..9")
    inputs = images.reshape(len(images), int(np.prod(images.shape[1:]))) if flatten else images  # (0 images too)
    return Dataset(inputs.astype(dtype) / np.asarray(255, dtype=dtype), labels.astype(np.int64))


#: torch.utils.data's names, and what to write here.
_PYTORCH_NAMES = {
    "DataLoader": "data.batches(inputs, targets, batch_size, shuffle=True, seed=0) is DataLoader(TensorDataset(inputs, "
                  "targets), batch_size, shuffle=True): for xb, yb in loader, each pass an episode, shuffled anew",
    "TensorDataset": "the arrays themselves are the data here: data.batches(inputs, targets, batch_size) takes them",
}

if not TYPE_CHECKING:  # (hidden from type checkers, which would otherwise take data.any_typo for a valid name)
    @checks.advice_on_import
    def __getattr__(name: str) -> Any:
        """``data.DataLoader``, ``data.TensorDataset``: an AttributeError saying what to write."""
        raise checks.other_library_name(__name__, name, "PyTorch", _PYTORCH_NAMES.get(name))


def __dir__() -> list[str]:
    """``dir()`` of this module lists its API (``__all__``), not its helpers and imports."""
    return sorted(__all__)
