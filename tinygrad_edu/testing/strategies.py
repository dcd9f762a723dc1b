"""Hypothesis strategies for property tests of gradients: float64 arrays kept off kinks, broadcastable and
matmul-compatible shapes, and Values.  Built on :mod:`hypothesis.extra.numpy`.

Needs the ``testing`` extra (``pip install "tinygrad-edu[testing]"``).  A typical property test::

    from hypothesis import given
    from tinygrad_edu.testing import check_gradients
    from tinygrad_edu.testing.strategies import arrays

    @given(arrays(avoid=(0.0,)))              # ReLU has a kink at 0: stay 1e-3 away from it
    def test_relu_gradient(x):
        check_gradients(lambda v: v.relu(), x)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

try:
    import hypothesis.extra.numpy as hnp
    from hypothesis import strategies as st
except ImportError as error:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError("tinygrad_edu.testing.strategies needs hypothesis; install the testing extra: "
                      'pip install "tinygrad-edu[testing]"') from error

from tinygrad_edu.engine import Value
from tinygrad_edu.testing.expressions import Expression, OpSpec, expressions

__all__ = ["shapes", "broadcastable_shapes", "matmul_shapes", "arrays", "arrays_for", "values", "expressions",
           "Expression", "OpSpec"]

Shape = tuple[int, ...]


def shapes(*, min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
           max_side: int = 4) -> st.SearchStrategy:
    """Array shapes from ``min_dims``-d to ``max_dims``-d, each side between ``min_side`` and ``max_side``.

    Example: ``@given(arrays(shapes(max_dims=2, max_side=5)))`` draws matrices and vectors up to 5 × 5.
    """
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(num_shapes: int = 2, *, min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
                         max_side: int = 4) -> st.SearchStrategy:
    """Tuples of ``num_shapes`` shapes that broadcast together (numpy's rules), e.g. ``((3, 1), (2, 1, 4))``.

    Example::

        @given(broadcastable_shapes(2))
        def test_mul_broadcasts(shape_pair):
            a_shape, b_shape = shape_pair          # np.broadcast_shapes(a_shape, b_shape) never raises
            check_gradients(lambda a, b: a * b, np.ones(a_shape), np.ones(b_shape))
    """
    shape_sets = hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims,
                                                   max_dims=max_dims, min_side=min_side, max_side=max_side)
    return shape_sets.map(lambda s: s.input_shapes)


def matmul_shapes(*, max_batch_dims: int = 1, min_side: int = 1, max_side: int = 4) -> st.SearchStrategy:
    """Pairs of shapes ``(a, b)`` for which ``a @ b`` works with numpy's matmul semantics: 1-D operands (a
    row on the left, a column on the right), 2-D matrices, and batched stacks of matrices whose batch
    dimensions (at most ``max_batch_dims``) broadcast.

    Example::

        @given(arrays_for(matmul_shapes()))
        def test_matmul_gradient(pair):
            check_gradients(lambda a, b: a @ b, *pair)
    """
    shape_sets = hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=max_batch_dims,
                                                   min_side=min_side, max_side=max_side)
    return shape_sets.map(lambda s: s.input_shapes)


def _kept_off(x: float, avoid: Sequence[float], margin: float, low: float, high: float) -> float:
    """Move ``x`` to ``margin`` beside a kink in ``avoid`` if it lies closer (staying in [low, high])."""
    for kink in avoid:
        if abs(x - kink) < margin:
            up, down = kink + margin, kink - margin
            x = up if (x >= kink and up <= high) or down < low else down
    return x


def arrays(shape: Shape | st.SearchStrategy | None = None, *, min_value: float = -3.0, max_value: float = 3.0,
           avoid: Sequence[float] = (), margin: float = 1e-3, min_gap: float | None = None,
           **shape_kwargs: Any) -> st.SearchStrategy:
    """float64 arrays with elements in ``[min_value, max_value]``, at least ``margin`` away from every point
    of ``avoid`` (the kinks of ReLU and abs at 0, a pole of 1/x), where finite differences would be wrong.

    ``shape`` is a tuple, a strategy of shapes, or None to draw one with :func:`shapes` (``shape_kwargs`` such
    as ``max_dims=2`` go to it).  ``min_gap`` asks for elements pairwise at least that far apart, so that a
    maximum is unique and stays so when an element is nudged by ε.

    Examples: ``arrays((2, 3), min_value=0.1)`` for ``log`` (positive 2 × 3 matrices);
    ``arrays(avoid=(0.0,), margin=0.01)`` for ``abs`` (any shape, never within 0.01 of 0);
    ``arrays(min_gap=1e-3)`` for ``max``.
    """
    if not min_value <= max_value:
        raise ValueError(f"arrays: min_value {min_value} is larger than max_value {max_value}")
    for kink in avoid:
        if kink - margin < min_value and kink + margin > max_value:
            raise ValueError(f"arrays: no room in [{min_value}, {max_value}] "
                             f"at distance {margin} from {kink}")
    if shape is None:
        shape = shapes(**shape_kwargs)
    elif shape_kwargs:
        raise TypeError(f"arrays: {sorted(shape_kwargs)} only apply when the shape is drawn (shape=None)")
    elements = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    if avoid:
        avoid = tuple(float(k) for k in avoid)
        elements = (elements.map(lambda x: _kept_off(x, avoid, margin, min_value, max_value))
                    .filter(lambda x: all(abs(x - k) >= margin for k in avoid)))
    if min_gap is None:
        return hnp.arrays(np.float64, shape, elements=elements)

    def gaps_ok(a: np.ndarray) -> bool:
        return a.size < 2 or bool(np.diff(np.sort(a, axis=None)).min() >= min_gap)

    return hnp.arrays(np.float64, shape, elements=elements, unique=True).filter(gaps_ok)


def arrays_for(shapes_strategy: st.SearchStrategy, **array_kwargs: Any) -> st.SearchStrategy:
    """A tuple of arrays, one per shape drawn from ``shapes_strategy`` (e.g. :func:`broadcastable_shapes` or
    :func:`matmul_shapes`), each drawn by :func:`arrays` with ``array_kwargs``.

    Example: ``@given(arrays_for(broadcastable_shapes(3)))`` draws three arrays that broadcast together.
    """
    return shapes_strategy.flatmap(lambda shape_tuple: st.tuples(*(arrays(s, **array_kwargs)
                                                                   for s in shape_tuple)))


def values(shape: Shape | st.SearchStrategy | None = None, *, requires_grad: bool = True,
           **array_kwargs: Any) -> st.SearchStrategy:
    """:class:`~tinygrad_edu.Value` objects holding arrays drawn by :func:`arrays` (same arguments).

    Example::

        @given(values((3,), min_value=0.5))
        def test_log_of_a_value(v):
            v.log().sum().backward()               # v.grad == 1 / v.data
    """
    return arrays(shape, **array_kwargs).map(lambda a: Value(a, requires_grad=requires_grad))
