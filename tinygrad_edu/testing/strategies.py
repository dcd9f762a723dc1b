"""Hypothesis strategies for property tests of gradients: float64 (or float32) arrays kept off kinks,
broadcastable and matmul-compatible shapes, and Values.  Built on :mod:`hypothesis.extra.numpy`.

Needs the ``testing`` extra (``pip install ".[testing]"`` in a clone, or ``pip install hypothesis``).  A typical
property test::

    from hypothesis import given
    from tinygrad_edu.testing import check_gradients
    from tinygrad_edu.testing.strategies import arrays

    @given(arrays(avoid=(0.0,)))              # ReLU has a kink at 0: stay 1e-3 away from it
    def test_relu_gradient(x):
        check_gradients(lambda v: v.relu(), x)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

try:
    import hypothesis.extra.numpy as hnp
    from hypothesis import strategies as st
except ImportError as error:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError("tinygrad_edu.testing.strategies needs hypothesis; install the testing extra: "
                      'pip install hypothesis (or pip install ".[testing]" in the tinygrad_edu folder)') from error

from tinygrad_edu import checks
from tinygrad_edu.engine import Value
from tinygrad_edu.testing.expressions import Expression, OpSpec, expressions

__all__ = ["shapes", "broadcastable_shapes", "matmul_shapes", "arrays", "arrays_for", "values", "expressions",
           "Expression", "OpSpec"]

Shape = tuple[int, ...]
#: The most dimensions an array may have (numpy's limit, which hypothesis keeps too).
MAX_DIMS = 32


def _checked_limits(function: str, most_dims: int = MAX_DIMS, **limits: Any) -> dict[str, int]:
    """The shape limits (``min_dims=…, max_side=…``) as ints >= 0, dims at most ``most_dims``, each ``min_…`` at
    most its ``max_…``; else an error naming ``function`` and the argument (hypothesis's own would name neither)."""
    checked = {name: checks.integer(limit, name, function, least=0) for name, limit in limits.items()}
    for name, low in checked.items():
        if name.endswith("dims") and low > most_dims:
            raise ValueError(f"{function}: {name} must be at most {most_dims}, got {low}")
        high = "max" + name[3:]
        if name.startswith("min") and high in checked and low > checked[high]:
            raise ValueError(f"{function}: {name}={low} is larger than {high}={checked[high]}")
    return checked


def _checked_shape(function: str, shape: Any) -> Shape | st.SearchStrategy | None:
    """``shape`` as :func:`arrays` takes it: None or a strategy as it is, an int as a vector's shape, a sequence of
    ints >= 0 as a tuple; anything else is an error naming ``function``."""
    if shape is None or isinstance(shape, st.SearchStrategy):
        return shape
    sides = (shape,) if _is_int(shape) else shape
    if isinstance(sides, str) or not isinstance(sides, Sequence) or not all(_is_int(n) for n in sides):
        hint = (f"; the dtype goes by name, {function}(shape, dtype=...) (hypothesis.extra.numpy.arrays takes the "
                "dtype first)" if _is_dtype(shape) else "")
        raise TypeError(f"{function}: shape must be a tuple of ints, an int, a strategy of shapes or None, got "
                        f"{type(shape).__name__} {shape!r:.60}{hint}")
    if len(sides) > MAX_DIMS or any(n < 0 for n in sides):
        problem = f"more than {MAX_DIMS} dimensions" if len(sides) > MAX_DIMS else "a negative side"
        raise ValueError(f"{function}: shape {tuple(sides)} has {problem}")
    return tuple(int(n) for n in sides)


def _drawn_shape(drawn: Any) -> Shape:
    """A shape drawn from the strategy given to :func:`arrays`, as a tuple; else an error naming arrays."""
    shape = _checked_shape("arrays", drawn)
    if not isinstance(shape, tuple):
        raise TypeError(f"arrays: the shape strategy drew {type(drawn).__name__} {drawn!r:.60}, not a shape")
    return shape


def _is_dtype(x: Any) -> bool:
    """Whether ``x`` names a numpy dtype (np.float32, "float64", np.dtype("f4")): given where a shape belongs."""
    if not isinstance(x, type | np.dtype | str):
        return False
    try:
        np.dtype(x)
    except TypeError:
        return False
    return True


def _is_int(x: Any) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool)


def shapes(*, min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
           max_side: int = 4) -> st.SearchStrategy[Shape]:
    """Array shapes from ``min_dims``-d to ``max_dims``-d, each side between ``min_side`` and ``max_side``.

    Example: ``@given(arrays(shapes(max_dims=2, max_side=5)))`` draws matrices and vectors up to 5 × 5.
    """
    return hnp.array_shapes(**_checked_limits("shapes", min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                                              max_side=max_side))


def broadcastable_shapes(num_shapes: int = 2, *, min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
                         max_side: int = 4) -> st.SearchStrategy[tuple[Shape, ...]]:
    """Tuples of ``num_shapes`` shapes that broadcast together (numpy's rules), e.g. ``((3, 1), (2, 1, 4))``.

    Example::

        @given(broadcastable_shapes(2))
        def test_mul_broadcasts(shape_pair):
            a_shape, b_shape = shape_pair          # np.broadcast_shapes(a_shape, b_shape) never raises
            check_gradients(lambda a, b: a * b, np.ones(a_shape), np.ones(b_shape))
    """
    count = checks.integer(num_shapes, "num_shapes", "broadcastable_shapes", least=1)
    limits = _checked_limits("broadcastable_shapes", min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                             max_side=max_side)
    shape_sets = hnp.mutually_broadcastable_shapes(num_shapes=count, min_dims=limits["min_dims"],
                                                   max_dims=limits["max_dims"], min_side=limits["min_side"],
                                                   max_side=limits["max_side"])
    return shape_sets.map(lambda s: s.input_shapes)


def matmul_shapes(*, max_batch_dims: int = 1, min_side: int = 1,
                  max_side: int = 4) -> st.SearchStrategy[tuple[Shape, ...]]:
    """Pairs of shapes ``(a, b)`` for which ``a @ b`` works with numpy's matmul semantics: 1-D operands (a
    row on the left, a column on the right), 2-D matrices, and batched stacks of matrices whose batch
    dimensions (at most ``max_batch_dims``) broadcast.

    Example::

        @given(arrays_for(matmul_shapes()))
        def test_matmul_gradient(pair):
            check_gradients(lambda a, b: a @ b, *pair)
    """
    limits = _checked_limits("matmul_shapes", MAX_DIMS - 2, max_batch_dims=max_batch_dims, min_side=min_side,
                             max_side=max_side)  # a matrix takes 2 of the 32 dimensions
    shape_sets = hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=limits["max_batch_dims"],
                                                   min_side=limits["min_side"], max_side=limits["max_side"])
    return shape_sets.map(lambda s: s.input_shapes)


def _kept_off(x: float, avoid: Sequence[float], margin: float, low: float, high: float, dtype: np.dtype) -> float:
    """Move ``x`` to ``margin`` beside a kink in ``avoid`` if it lies closer (staying in [low, high]); in float32,
    to the float32 number just outside the margin."""
    for kink in avoid:
        if abs(x - kink) < margin:
            up, down = _at_least(kink + margin, dtype), _at_most(kink - margin, dtype)
            x = up if (x >= kink and up <= high) or down < low else down
    return x


def _at_least(x: float, dtype: np.dtype) -> float:
    """The smallest number of ``dtype`` (float64 or float32) that is >= x."""
    rounded = dtype.type(x)
    return float(rounded if float(rounded) >= x else np.nextafter(rounded, dtype.type(np.inf)))


def _at_most(x: float, dtype: np.dtype) -> float:
    """The largest number of ``dtype`` (float64 or float32) that is <= x."""
    return -_at_least(-x, dtype)


def arrays(shape: Shape | int | st.SearchStrategy | None = None, *, dtype: Any = np.float64, min_value: float = -3.0,
           max_value: float = 3.0, avoid: Sequence[float] = (), margin: float = 1e-3, min_gap: float | None = None,
           **shape_kwargs: Any) -> st.SearchStrategy[np.ndarray]:
    """float64 (or, with ``dtype=np.float32``, float32) arrays with elements in ``[min_value, max_value]``, at least
    ``margin`` away from every point of ``avoid`` (the kinks of ReLU and abs at 0, a pole of 1/x), where finite
    differences would be wrong.

    ``shape`` is a tuple, an int (a vector), a strategy of shapes, or None to draw one with :func:`shapes`
    (``shape_kwargs`` such as ``max_dims=2`` go to it).  ``min_gap`` asks for elements pairwise at least that far
    apart, so that a maximum is unique and stays so when an element is nudged by ε (any number of elements, as
    long as they fit into the range: drawn shapes are cut down to fit, a given one that does not is a ValueError).
    float32 arrays keep the same promises, checked in float64: every element is a float32 number inside the bounds
    and outside the margins (with ``min_gap``: drawn as float64 with margins and gaps wider by the rounding error,
    then rounded).

    Examples: ``arrays((2, 3), min_value=0.1)`` for ``log`` (positive 2 × 3 matrices);
    ``arrays(avoid=(0.0,), margin=0.01)`` for ``abs`` (any shape, never within 0.01 of 0);
    ``arrays(min_gap=1e-3)`` for ``max``; ``arrays(dtype=np.float32)`` for a float32 network.
    """
    shape = _checked_shape("arrays", shape)
    if isinstance(shape, st.SearchStrategy):  # each drawn shape is read as a given one is (an int: a vector)
        shape = shape.map(_drawn_shape)
    dtype, avoid = _checked_arguments(shape, dtype, min_value, max_value, avoid, margin, min_gap, shape_kwargs)
    low, high = _at_least(min_value, dtype), _at_most(max_value, dtype)
    if low > high:
        raise ValueError(f"arrays: no {dtype} number lies in [{min_value}, {max_value}]")
    if min_gap is None or dtype == np.float64:
        return _drawn_arrays(shape, dtype, low, high, avoid, margin, min_gap, shape_kwargs)
    slack = float(np.spacing(np.float32(max(abs(low), abs(high)))))  # more than rounding moves an element
    spread = _drawn_arrays(shape, np.dtype(np.float64), low, high, avoid, margin + slack, min_gap + 2 * slack,
                           shape_kwargs)
    return spread.map(lambda a: np.asarray(np.clip(a.astype(np.float32), np.float32(low), np.float32(high))))


_SHAPE_KEYWORDS = ("min_dims", "max_dims", "min_side", "max_side")
_ARRAY_KEYWORDS = ("dtype", "min_value", "max_value", "avoid", "margin", "min_gap")  # arrays' own, besides shape


def _checked_arguments(shape: Any, dtype: Any, min_value: Any, max_value: Any, avoid: Any, margin: Any,
                       min_gap: Any, shape_kwargs: dict[str, Any]) -> tuple[np.dtype, tuple[float, ...]]:
    """arrays' arguments, checked: the dtype (float64 or float32) and the kinks as a tuple of floats."""
    unknown = sorted(set(shape_kwargs) - set(_SHAPE_KEYWORDS))
    if unknown:
        raise TypeError(f"arrays: unexpected keyword argument(s) {unknown}; besides its own, arrays takes only "
                        f"{list(_SHAPE_KEYWORDS)} (for the drawn shape)")
    if shape_kwargs and shape is not None:
        raise TypeError(f"arrays: {sorted(shape_kwargs)} only apply when the shape is drawn (shape=None)")
    given = dtype
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        dtype = None
    if dtype not in (np.float64, np.float32):
        hint = ("; to draw the dtype too, draw it first: st.sampled_from([np.float32, np.float64]).flatmap(lambda "
                "d: arrays(..., dtype=d))" if isinstance(given, st.SearchStrategy) else "")
        raise TypeError(f"arrays: dtype must be np.float64 or np.float32, got "
                        f"{given if dtype is None else dtype!r:.80}{hint}")
    kinks = checks.numbers(avoid, "avoid", "arrays")
    for name, x in (("min_value", min_value), ("max_value", max_value), ("margin", margin),
                    *((("min_gap", min_gap),) if min_gap is not None else ())):
        checks.number(x, name, "arrays")
    largest = float(np.finfo(dtype).max)
    if dtype == np.float32 and max(abs(min_value), abs(max_value)) > largest:
        raise ValueError(f"arrays: [{min_value}, {max_value}] reaches beyond float32's largest number {largest:g}")
    if margin < 0:
        raise ValueError(f"arrays: margin must be >= 0, got {margin!r}")
    if not min_value <= max_value:
        raise ValueError(f"arrays: min_value {min_value} is larger than max_value {max_value}")
    if min_gap is not None and not min_gap > 0:
        raise ValueError(f"arrays: min_gap must be positive, got {min_gap}")
    if min_gap is not None and not np.isfinite(float(max_value) - float(min_value)):
        raise ValueError(f"arrays: with min_gap, max_value − min_value must be a finite float, got "
                         f"[{min_value:g}, {max_value:g}]")
    return dtype, kinks


def _drawn_arrays(shape: Shape | st.SearchStrategy | None, dtype: np.dtype, min_value: float, max_value: float,
                  avoid: tuple[float, ...], margin: float, min_gap: float | None,
                  shape_kwargs: dict[str, Any]) -> st.SearchStrategy:
    """arrays from checked arguments, with bounds that are numbers of ``dtype`` (float32 only without min_gap)."""
    if not _allowed_pieces(min_value, max_value, avoid, margin):  # the margins together may cover the range
        raise ValueError(f"arrays: no room in [{min_value}, {max_value}] at distance {margin} from {avoid!r:.60}")
    if shape is None:
        shape = shapes(**shape_kwargs)
        if min_gap is not None:  # drawn shapes are cut down to as many elements as fit
            capacity = _capacity(_allowed_pieces(min_value, max_value, avoid, margin * (1 + 1e-9)), min_gap)
            min_dims, min_side = shape_kwargs.get("min_dims", 0), shape_kwargs.get("min_side", 1)
            if capacity < (least := max(min_side, 1) ** min_dims):
                raise ValueError(f"arrays: min_gap={min_gap} fits at most {capacity} elements in [{min_value}, "
                                 f"{max_value}], fewer than the {least} that min_dims={min_dims}, min_side={min_side} "
                                 "ask for")
            shape = shape.map(lambda s: _fitted(s, capacity, min_dims, min_side))
    if min_gap is not None:
        if not isinstance(shape, st.SearchStrategy):  # a fixed shape: an impossible request fails right here
            return _spread_arrays(tuple(shape), min_value, max_value, avoid, margin, min_gap)
        return shape.flatmap(lambda s: _spread_arrays(tuple(s), min_value, max_value, avoid, margin, min_gap))
    width: Literal[32, 64] = 32 if dtype == np.float32 else 64
    elements = st.floats(min_value, max_value, width=width, allow_nan=False, allow_infinity=False,
                         allow_subnormal=False)
    if avoid:
        elements = (elements.map(lambda x: _kept_off(x, avoid, margin, min_value, max_value, dtype))
                    .filter(lambda x: all(abs(x - k) >= margin for k in avoid)))
    return hnp.arrays(dtype, shape, elements=elements)


def _allowed_pieces(low: float, high: float, avoid: Sequence[float], margin: float) -> list[tuple[float, float]]:
    """[low, high] without the open intervals (kink − margin, kink + margin), as sorted closed pieces."""
    pieces = [(low, high)]
    for kink in sorted(avoid):
        cut_low, cut_high = kink - margin, kink + margin
        pieces = [part for a, b in pieces
                  for part in ((a, min(b, cut_low)), (max(a, cut_high), b)) if part[0] <= part[1]]
    return pieces


def _layout(size: int, pieces: list[tuple[float, float]], min_gap: float) -> tuple[float, float] | None:
    """(gap, room) for ``size`` points at least ``min_gap`` apart on the pieces laid end to end, None if they do
    not fit.  The gap is a hair more than asked for where there is room, so that rounding in the additions never
    makes a gap smaller than min_gap; an exact fit (no room) is laid out here once and checked."""
    length = sum(b - a for a, b in pieces)
    if size and not pieces or size > 1 and (size - 1) * min_gap > length:
        return None
    if size <= 1:
        return 0.0, length
    gap = _padded(min_gap, pieces)
    if (size - 1) * gap <= length:
        return gap, length - (size - 1) * gap
    gap = length / (size - 1)  # an exact fit: one layout only, which must keep the gaps in float64 too
    points = _lay_onto(pieces, np.arange(size) * gap)
    return (gap, 0.0) if np.all(np.diff(points) >= min_gap) else None


def _padded(min_gap: float, pieces: list[tuple[float, float]]) -> float:
    """The gap to lay points out with: min_gap and a hair more, so that rounding in the additions (a few units in
    the last place of the largest point) never makes a gap smaller than min_gap (1e-6 apart near 10 once did)."""
    largest = max((max(abs(a), abs(b)) for a, b in pieces), default=0.0)
    return min_gap * (1 + 1e-9) + 16 * float(np.spacing(largest))


def _capacity(pieces: list[tuple[float, float]], min_gap: float) -> int:
    """The most points at least ``min_gap`` apart that fit on the pieces."""
    if not pieces:
        return 0
    most = int(min(sum(b - a for a, b in pieces) / min_gap, 1e6)) + 1
    most = most if _layout(most, pieces, min_gap) else most - 1
    if len(pieces) > 1:  # a point on each side of a cut gains its width: one more point per cut at most
        most = max(most, len(_packed(pieces, min_gap, most + len(pieces))))
    return most


def _packed(pieces: list[tuple[float, float]], min_gap: float, most: int) -> np.ndarray:
    """Up to ``most`` points at least ``min_gap`` apart, each as far left as it can go (as many as fit on the pieces:
    unlike the layout end to end, a gap may span a cut around a kink).  An exact fit leaves no room for the padding
    against rounding: laid out with min_gap itself, its gaps are checked instead."""
    padded = _packed_with(pieces, _padded(min_gap, pieces), most)
    if len(padded) < most:
        exact = _packed_with(pieces, min_gap, most)
        if len(exact) > len(padded) and np.all(np.diff(exact) >= min_gap):
            return exact
    return padded


def _packed_with(pieces: list[tuple[float, float]], gap: float, most: int) -> np.ndarray:
    """Up to ``most`` points ``gap`` apart or more, each as far left as it can go on the pieces."""
    x, chunks, count = -np.inf, [], 0
    for a, b in pieces:
        x = max(x, a)
        if x > b or count >= most:
            continue
        points = x + np.arange(min(int((b - x) // gap) + 1, most - count)) * gap
        points = points[points <= b]
        chunks.append(points)
        count += len(points)
        x = points[-1] + gap if len(points) else x
    return np.concatenate(chunks) if chunks else np.zeros(0)


def _fitted(shape: Shape, capacity: int, min_dims: int, min_side: int) -> Shape:
    """``shape`` with its largest sides shortened (down to ``min_side``), then its last dims dropped (down to
    ``min_dims``), until it holds at most ``capacity`` elements (as near as those limits allow)."""
    dims = list(shape)
    while int(np.prod(dims)) > capacity:
        largest = int(np.argmax(dims)) if dims else 0
        if dims and dims[largest] > max(min_side, 1):
            dims[largest] -= 1
        elif len(dims) > min_dims:
            dims.pop()
        else:
            break
    return tuple(dims)


def _spread_arrays(shape: Shape, low: float, high: float, avoid: Sequence[float], margin: float,
                   min_gap: float) -> st.SearchStrategy:
    """Arrays whose elements lie pairwise at least ``min_gap`` apart, built directly (no filtering, so any size
    works): sorted points with gaps ≥ min_gap on the allowed length, laid onto the pieces of [low, high] that
    avoid the kinks (which only widens gaps), then shuffled."""
    size = int(np.prod(shape))
    pieces = _allowed_pieces(low, high, avoid, margin * (1 + 1e-9))  # a hair more: rounding stays off the kinks
    layout = _layout(size, pieces, min_gap)
    if layout is None and len(packed := _packed(pieces, min_gap, size)) == size:  # fits only across a cut
        return st.permutations(range(size)).map(lambda order: packed[list(order)].reshape(shape))
    if layout is None:
        raise ValueError(f"arrays: {size} elements at least {min_gap} apart do not fit in [{low}, {high}]"
                         + (f" away from {tuple(avoid)}" if avoid else ""))
    gap, room = layout
    offsets = st.lists(st.floats(0.0, room), min_size=size, max_size=size)

    def build(drawn: tuple[list[float], list[int]]) -> np.ndarray:
        positions, order = drawn
        along = np.sort(np.array(positions, dtype=np.float64)) + np.arange(size) * gap  # along the pieces
        return np.clip(_lay_onto(pieces, along), low, high)[order].reshape(shape)

    return st.tuples(offsets, st.permutations(range(size))).map(build)


def _lay_onto(pieces: list[tuple[float, float]], distances: np.ndarray) -> np.ndarray:
    """The points ``distances`` along the pieces laid end to end (past the end: the last point)."""
    if not pieces:
        return np.zeros(len(distances))
    starts, ends = (np.array(side, dtype=np.float64) for side in zip(*pieces))
    reached = np.cumsum(ends - starts)  # the distance at the end of each piece
    piece = np.minimum(np.searchsorted(reached, distances), len(pieces) - 1)
    return np.minimum(starts[piece] + (distances - (reached[piece] - (ends - starts)[piece])), ends[piece])


def arrays_for(shapes_strategy: st.SearchStrategy[Any],
               **array_kwargs: Any) -> st.SearchStrategy[tuple[np.ndarray, ...]]:
    """A tuple of arrays, one per shape drawn from ``shapes_strategy`` (e.g. :func:`broadcastable_shapes` or
    :func:`matmul_shapes`), each drawn by :func:`arrays` with ``array_kwargs``.

    Example: ``@given(arrays_for(broadcastable_shapes(3)))`` draws three arrays that broadcast together.
    """
    if not isinstance(shapes_strategy, st.SearchStrategy):
        raise TypeError("arrays_for: shapes_strategy must be a hypothesis strategy of shape tuples, such as "
                        f"broadcastable_shapes(2), got {type(shapes_strategy).__name__} {shapes_strategy!r:.60}")
    unknown = sorted(set(array_kwargs) - set(_ARRAY_KEYWORDS))
    if unknown:
        raise TypeError(f"arrays_for: unexpected keyword argument(s) {unknown}; it takes arrays' own "
                        f"{list(_ARRAY_KEYWORDS)} (the shapes, and limits such as max_dims, come from shapes_strategy)")
    try:  # their values checked now, as arrays checks them, not first inside hypothesis's drawing
        arrays((), **array_kwargs)
    except (TypeError, ValueError) as error:
        raise type(error)(f"arrays_for: {str(error).removeprefix('arrays: ')}") from None
    return shapes_strategy.flatmap(lambda shape_tuple: st.tuples(*(arrays(s, **array_kwargs)
                                                                   for s in _shape_tuple(shape_tuple))))


def _shape_tuple(drawn: Any) -> Sequence[Any]:
    """A draw of arrays_for's shapes_strategy, which must be a tuple of shapes: a single shape such as (2, 3), as
    shapes() draws, would be read as the shapes (2,) and (3,) of two vectors."""
    if isinstance(drawn, Sequence) and all(_is_int(n) for n in drawn):
        raise TypeError(f"arrays_for: shapes_strategy drew {tuple(drawn)!r}, a single shape; it must draw tuples of "
                        "shapes, such as broadcastable_shapes(2); for one array, use arrays(shape_strategy)")
    return drawn


def values(shape: Shape | int | st.SearchStrategy | None = None, *, requires_grad: bool = True,
           **array_kwargs: Any) -> st.SearchStrategy[Value]:
    """:class:`~tinygrad_edu.Value` objects holding arrays drawn by :func:`arrays` (same arguments).

    Example::

        @given(values((3,), min_value=0.5))
        def test_log_of_a_value(v):
            v.log().sum().backward()               # v.grad == 1 / v.data
    """
    shape = _checked_shape("values", shape)
    checks.flag(requires_grad, "requires_grad", "values")
    unknown = sorted(set(array_kwargs) - set(_ARRAY_KEYWORDS + _SHAPE_KEYWORDS))
    if unknown:
        raise TypeError(f"values: unexpected keyword argument(s) {unknown}; besides shape and requires_grad, it "
                        f"takes arrays' {list(_ARRAY_KEYWORDS + _SHAPE_KEYWORDS)}")
    try:  # arrays' errors, named after the function called
        drawn = arrays(shape, **array_kwargs)
    except (TypeError, ValueError) as error:
        raise type(error)(f"values: {str(error).removeprefix('arrays: ')}") from None
    return drawn.map(lambda a: Value(a, requires_grad=requires_grad))
