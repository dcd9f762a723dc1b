"""The engine: :class:`Value` records the computation graph, :meth:`Value.backward` walks it backwards.

Forward propagation (seed, section 3) builds the graph: every operation on Values makes a new Value that remembers
its ``parents`` and its ``op``.  Backpropagation (seed, section 6.3) walks that dependency tree from the cost back
to the weights, multiplying local derivatives by the chain rule.  The math of each operation lives in
:mod:`tinygrad_edu.ops`; this module only keeps the books.

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
import heapq
import itertools
from collections.abc import Iterator
from numbers import Number
from typing import Any

import numpy as np

from tinygrad_edu import ops
from tinygrad_edu.ops import Op

__all__ = ["Value", "apply", "no_grad", "is_grad_enabled", "detect_anomaly"]

_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
#: Every Value gets the next (more negative) number of this count when it is made.  A Value is always made after
#: the Values it is computed from, so the smallest number is the most recent: popping Values from a min-heap of
#: these numbers visits every node after all the nodes that use it (a topological order, found without recursion).
_creation = itertools.count(0, -1)


class _Mode:
    """Global switches: whether operations are recorded, and whether NaN/inf are hunted."""

    grad_enabled = True
    detect_anomaly = False


def is_grad_enabled() -> bool:
    """True unless inside :func:`no_grad`."""
    return _Mode.grad_enabled


class no_grad(contextlib.ContextDecorator):
    """Inside ``with no_grad():`` (or a function decorated ``@no_grad()`` or ``@no_grad``) nothing is recorded.

    Use it for evaluation and for parameter updates, which must not become part of the graph.  Nesting and
    recursion are fine: each exit restores the state of its own entry.
    """

    def __new__(cls, function: Any = None) -> Any:
        instance = super().__new__(cls)
        instance._saved = []
        return instance if function is None else instance(function)  # @no_grad without parentheses

    def __enter__(self) -> no_grad:
        self._saved.append(_Mode.grad_enabled)
        _Mode.grad_enabled = False
        return self

    def __exit__(self, *exc: object) -> None:
        _Mode.grad_enabled = self._saved.pop()


@contextlib.contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise ``FloatingPointError`` at the first operation whose output or gradient holds NaN or inf."""
    previous = _Mode.detect_anomaly
    _Mode.detect_anomaly = True
    try:
        yield
    finally:
        _Mode.detect_anomaly = previous


def _to_array(data: Any, dtype: np.dtype | None = None) -> np.ndarray:
    """Convert user data to a float array: float32/float64 arrays keep their dtype, everything else is float64."""
    if isinstance(data, Value):
        return data.data
    if isinstance(data, int) and not isinstance(data, bool) and abs(data) > 2 ** 62:
        data = float(data)  # numpy would make an object array of a Python int this large
    if data is None or isinstance(data, (str, bytes)):
        raise TypeError(f"Value: cannot make a Value from {type(data).__name__} {data!r}; give a number, "
                        "a nested list or a numpy array")
    try:
        array = np.asarray(data)
    except ValueError as error:  # ragged nested lists
        raise ValueError(f"Value: cannot make an array from the given data: {error}") from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"Value: data of dtype {array.dtype} ({type(data).__name__}) is not supported; "
                        "use real numbers (int, float or bool)")
    if dtype is not None:
        return array.astype(dtype, copy=False)
    return array if array.dtype in _FLOAT_DTYPES else array.astype(np.float64)


def _shapes(values: tuple[Value, ...]) -> str:
    return " and ".join(str(v.data.shape) for v in values)


def _forward_error(op: Op, values: tuple[Value, ...], params: dict, error: Exception) -> ValueError:
    """A readable error for a forward that numpy refused, naming the operation and the shapes."""
    message = str(error)
    if op.name == "matmul" and len(values) == 2:
        a, b = (v.data.shape for v in values)
        if not a or not b:
            return ValueError(f"matmul: shapes {a} and {b}: matmul needs at least 1-D operands (use * for scalars)")
        inner_b = b[0] if len(b) == 1 else b[-2]
        if a[-1] != inner_b:
            return ValueError(f"matmul: shapes {a} and {b} are not aligned ({a[-1]} != {inner_b})")
        return ValueError(f"matmul: batch dimensions of shapes {a} and {b} cannot be broadcast together")
    if "broadcast" in message:
        return ValueError(f"{op.name}: shapes {_shapes(values)} cannot be broadcast together")
    details = ", ".join(f"{k}={v!r}" for k, v in params.items())
    return ValueError(f"{op.name}: {message} (input shapes {_shapes(values)}{'; ' + details if details else ''})")


def apply(op: Op, *inputs: Any, **params: Any) -> Value:
    """Run ``op`` forward on the inputs' data and, when gradients are wanted, record it in the graph.

    Inputs that are not Values (numbers, arrays) are constants.  Python numbers take the dtype of the first Value
    input, so ``x * 0.5`` keeps a float32 ``x`` in float32.
    """
    if len(inputs) != len(op.vjps):
        raise TypeError(f"{op.name}: takes {len(op.vjps)} input(s), got {len(inputs)}")
    dtype = None
    for x in inputs:
        if x.__class__ is Value:
            dtype = x.data.dtype
            break
    values = tuple(x if x.__class__ is Value else _operand(op, x, dtype) for x in inputs)
    return _record(op, values, params)


def _record(op: Op, values: tuple[Value, ...], params: dict) -> Value:
    """The forward pass of one operation on Values, and its entry in the graph."""
    try:
        if _Mode.detect_anomaly:
            with np.errstate(all="ignore"):  # the check below names the op; numpy's warning would only echo it
                out = op.forward(*[v.data for v in values], **params)
        else:
            out = op.forward(*[v.data for v in values], **params)
    except ValueError as error:  # first: numpy's AxisError (a bad axis) is a ValueError and an IndexError
        raise _forward_error(op, values, params, error) from None
    except IndexError as error:  # out-of-range indices stay IndexErrors, so iteration over a Value stops
        raise IndexError(f"{op.name}: {error} (input shapes {_shapes(values)}, params {params})") from None
    except TypeError as error:  # e.g. reshape(2, "a"), sum(axis=1.0)
        details = f", params {params}" if params else ""
        raise TypeError(f"{op.name}: {error} (input shapes {_shapes(values)}{details})") from None
    if out.__class__ is not np.ndarray or out.dtype not in _FLOAT_DTYPES:
        out = _to_array(out)
    if _Mode.detect_anomaly and not np.isfinite(out).all():
        raise FloatingPointError(f"{op.name}: the forward output holds NaN or inf (input shapes {_shapes(values)})")
    node = _new_value(Value)
    node.data, node.grad, node.label, node._order = out, None, None, next(_creation)
    for v in values:
        if v.requires_grad and _Mode.grad_enabled:
            node.requires_grad, node._parents, node._op, node._params = True, values, op, params or None
            return node
    node.requires_grad, node._parents, node._op, node._params = False, (), None, None
    return node


def _binary(op: Op, a: Value, b: Any) -> Value:
    """``apply`` for the arithmetic operators, where ``a`` is known to be a Value (the hot path)."""
    if b.__class__ is not Value:
        b = _operand(op, b, a.data.dtype)
    return _record(op, (a, b), _NO_PARAMS)


def _binary_reflected(op: Op, b: Value, a: Any) -> Value:
    """``a ∘ b`` for a constant ``a`` on the left (``2 * x``)."""
    return _record(op, (_operand(op, a, b.data.dtype), b), _NO_PARAMS)


def _operand(op: Op, x: Any, dtype: np.dtype | None) -> Value:
    """A constant operand of ``op``; what cannot be one is a TypeError naming the operation."""
    if isinstance(x, Value):  # a subclass of Value (the fast paths test for Value itself)
        return x
    try:
        return Value._constant(x, dtype)
    except (TypeError, ValueError) as error:
        raise type(error)(f"{op.name}: cannot use {type(x).__name__} {x!r:.40} as an operand ({error})") from None


_NO_PARAMS: dict = {}
_new_value = object.__new__


def _unbroadcast(grad: Any, shape: tuple[int, ...], op: Op) -> np.ndarray:
    """Sum a gradient of a broadcast shape back to the input ``shape`` (undoing numpy broadcasting)."""
    if not isinstance(grad, (np.ndarray, np.number, float, int)):
        raise TypeError(f"{op.name}: its vjp returned {type(grad).__name__}, not an array of gradients")
    grad = np.asarray(grad)
    extra = grad.ndim - len(shape)
    if extra < 0:
        raise ValueError(f"{op.name}: its vjp returned a gradient of shape {grad.shape} for an input of shape "
                         f"{shape}")
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    if grad.shape != shape:
        raise ValueError(f"{op.name}: its vjp returned a gradient of shape {grad.shape} for an input of shape "
                         f"{shape}")
    return grad


class Value:
    """A number or a numpy array that remembers how it was computed, so that it can backpropagate.

    ``Value(data, requires_grad=True, label=None)``: ``data`` is a number, a nested list or a numpy array, kept
    as float64 (float32 arrays stay float32).  After ``backward()`` each Value on the way holds ``.grad``,
    the derivative of the output with respect to it, of the same shape as ``.data``.
    """

    __slots__ = ("data", "grad", "requires_grad", "label", "_parents", "_op", "_params", "_order", "__weakref__")
    __array_ufunc__ = None  # numpy defers to Value's operators: np_array * value is a Value

    def __init__(self, data: Any, requires_grad: bool = True, label: str | None = None) -> None:
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError(f"Value: requires_grad must be True or False, got {requires_grad!r}")
        self.data: np.ndarray = np.array(_to_array(data), copy=True)
        self.grad: np.ndarray | None = None
        self.requires_grad: bool = bool(requires_grad)
        self.label: str | None = label
        self._parents: tuple[Value, ...] = ()
        self._op: Op | None = None
        self._params: dict | None = None
        self._order: int = next(_creation)

    @classmethod
    def _constant(cls, data: Any, dtype: np.dtype | None = None) -> Value:
        """A constant (no gradient) made without copying; Python numbers take ``dtype``."""
        node = _new_value(cls)
        if data.__class__ is float and dtype is not None:
            node.data = np.array(data, dtype)
        else:
            node.data = _to_array(data, dtype if isinstance(data, Number) else None)
        node.grad, node.requires_grad, node.label, node._parents, node._op, node._params, node._order = (
            None, False, None, (), None, None, next(_creation))
        return node

    # --- introspection -------------------------------------------------------------------------------------------
    shape = property(lambda self: self.data.shape, doc="The shape of ``data``.")
    ndim = property(lambda self: self.data.ndim, doc="The number of dimensions of ``data``.")
    size = property(lambda self: self.data.size, doc="The number of elements of ``data``.")
    dtype = property(lambda self: self.data.dtype, doc="float64, or float32 if made from a float32 array.")
    parents = property(lambda self: self._parents, doc="The Values this one was computed from.")
    op = property(lambda self: None if self._op is None else self._op.name,
                  doc='Name of the operation that made this Value (``"mul"``, ``"matmul"``, …); None for a leaf.')

    def item(self) -> float:
        """The single number held by a Value of size 1."""
        if self.data.size != 1:
            raise ValueError(f"item: only a Value of size 1 has one number; this one has shape {self.shape}")
        return self.data.item()

    def numpy(self) -> np.ndarray:
        """The data as a numpy array (shared, not copied)."""
        return self.data

    def detach(self) -> Value:
        """The same data as a constant: no parents, no gradient."""
        return Value._constant(self.data)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (``grad`` becomes None)."""
        self.grad = None

    def __float__(self) -> float:
        return float(self.item())

    def __bool__(self) -> bool:
        """As numpy: the truth of a single number; for more, say ``(v > 0).any()`` or ``.all()``."""
        if self.data.size != 1:
            raise ValueError(f"bool: the truth of a Value of shape {self.shape} is ambiguous; "
                             "compare its elements with .any() or .all() of a comparison")
        return bool(self.data)

    def __len__(self) -> int:
        if not self.data.ndim:
            raise TypeError("len: a 0-d Value (a single number) has no length")
        return len(self.data)

    def __iter__(self) -> Iterator[Value]:
        """The Values along the first axis (each one recorded as an indexing operation)."""
        if not self.data.ndim:
            raise TypeError("iter: a 0-d Value (a single number) cannot be iterated")
        return (self[i] for i in range(len(self.data)))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError("a Value is not converted to a numpy array implicitly (that would drop its graph); "
                        "use .data or .numpy() for the numbers, or tinygrad_edu operations on the Value")

    def __repr__(self) -> str:
        def brief(array: np.ndarray | None) -> str:
            if array is None:
                return "None"
            if array.size == 1:
                return f"{array.item():.6g}"
            return np.array2string(array, precision=4, threshold=6, edgeitems=2).replace("\n", "")

        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={brief(self.data)}, grad={brief(self.grad)}{label})"

    # --- backpropagation -----------------------------------------------------------------------------------------
    def backward(self, grad: Any = None) -> None:
        """Backpropagate: fill ``.grad`` of every Value this one depends on with ∂self/∂(that Value).

        ``grad`` is the upstream gradient ∂C/∂self; it defaults to 1 for an output of size 1 (a cost).
        Leaves (parameters) accumulate gradients over calls until ``zero_grad()``, each in an array of its own;
        every other Value on the way holds the gradient of the latest call, for looking at (drawings): it is the
        array the backward pass used, which may be shared with other intermediates or read-only, so copy it
        before changing it.
        """
        if not self.requires_grad:
            raise ValueError("backward: this Value does not require a gradient (it was made only from constants, "
                             "or under no_grad)")
        if grad is None:
            if self.data.size != 1:
                raise ValueError(f"backward: an output of shape {self.shape} needs an explicit grad of that shape; "
                                 "only an output of size 1 (like a cost) gets the default grad of 1")
            seed = np.ones(self.shape, dtype=self.dtype)
        else:
            seed = np.array(_to_array(grad, self.dtype), copy=True)
            if seed.shape != self.shape:
                raise ValueError(f"backward: grad has shape {seed.shape} but the output has shape {self.shape}")
        anomaly = _Mode.detect_anomaly
        pending: dict[int, np.ndarray] = {id(self): seed}  # gradients summed so far, by node
        waiting: list[tuple[int, Value]] = [(self._order, self)]  # nodes with a gradient, newest first
        while waiting:
            node = heapq.heappop(waiting)[1]
            g = pending.pop(id(node))  # complete: every node that uses this one was made later, so came first
            op = node._op
            if op is None:  # a leaf: accumulate, in an array of its own
                node.grad = np.array(g, copy=True) if node.grad is None else np.asarray(node.grad + g)
                continue
            node.grad = g
            parents = node._parents
            inputs = [p.data for p in parents]
            params = node._params
            for parent, vjp in zip(parents, op.vjps):
                if not parent.requires_grad:
                    continue
                grad_in = vjp(g, node.data, *inputs, **params) if params else vjp(g, node.data, *inputs)
                shape = parent.data.shape
                if grad_in.__class__ is not np.ndarray or grad_in.shape != shape:
                    grad_in = _unbroadcast(grad_in, shape, op)
                if grad_in.dtype != parent.data.dtype:
                    grad_in = grad_in.astype(parent.data.dtype)
                if anomaly and not np.isfinite(grad_in).all():
                    raise FloatingPointError(f"{op.name}: the backward gradient holds NaN or inf "
                                             f"(input shapes {_shapes(parents)})")
                key = id(parent)
                previous = pending.get(key)
                if previous is None:
                    pending[key] = grad_in
                    heapq.heappush(waiting, (parent._order, parent))
                else:
                    pending[key] = np.asarray(previous + grad_in)  # 0-d sums come back as numpy scalars

    # --- arithmetic (numpy broadcasting, numbers and arrays on either side) ------------------------------------
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

    def __pow__(self, other: Any) -> Value:
        return _binary(ops.pow, self, other)

    def __rpow__(self, other: Any) -> Value:
        return _binary_reflected(ops.pow, self, other)

    def __matmul__(self, other: Any) -> Value:
        return _binary(ops.matmul, self, other)

    def __rmatmul__(self, other: Any) -> Value:
        return _binary_reflected(ops.matmul, self, other)

    def __neg__(self) -> Value:
        return _record(ops.neg, (self,), _NO_PARAMS)

    # Comparisons give plain boolean arrays: they have no gradient.
    def __lt__(self, other: Any) -> np.ndarray:
        return self.data < _data_of(other)

    def __le__(self, other: Any) -> np.ndarray:
        return self.data <= _data_of(other)

    def __gt__(self, other: Any) -> np.ndarray:
        return self.data > _data_of(other)

    def __ge__(self, other: Any) -> np.ndarray:
        return self.data >= _data_of(other)

    def __eq__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        return self.data == _data_of(other)

    def __ne__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        return self.data != _data_of(other)

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
        """|x|"""
        return _record(ops.abs, (self,), _NO_PARAMS)

    def tanh(self) -> Value:
        """tanh x"""
        return _record(ops.tanh, (self,), _NO_PARAMS)

    def sigmoid(self) -> Value:
        """σ(x) = 1 / (1 + e⁻ˣ), the seed's activation function."""
        return _record(ops.sigmoid, (self,), _NO_PARAMS)

    def relu(self) -> Value:
        """max(x, 0)"""
        return _record(ops.relu, (self,), _NO_PARAMS)

    # --- reductions and shapes ---------------------------------------------------------------------------------
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Value:
        """Σ over ``axis`` (all elements by default)."""
        return apply(ops.sum, self, axis=axis, keepdims=keepdims)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Value:
        """The average over ``axis`` (all elements by default)."""
        return apply(ops.mean, self, axis=axis, keepdims=keepdims)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Value:
        """The largest element over ``axis``; the gradient goes to the maximum (split between ties)."""
        return apply(ops.max, self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape: int | tuple[int, ...]) -> Value:
        """The same numbers in a new shape: ``v.reshape(2, 3)`` or ``v.reshape((2, 3))``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return apply(ops.reshape, self, shape=shape)

    def transpose(self, *axes: int | tuple[int, ...]) -> Value:
        """Axes reversed (no arguments) or permuted: ``v.transpose(1, 0, 2)``."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return apply(ops.transpose, self, axes=axes or None)

    @property
    def T(self) -> Value:
        """The transpose (all axes reversed, as in numpy)."""
        return apply(ops.transpose, self, axes=None)

    def swapaxes(self, axis1: int, axis2: int) -> Value:
        """Exchange two axes."""
        for axis in (axis1, axis2):
            if not -self.ndim <= axis < self.ndim:
                raise ValueError(f"swapaxes: axis {axis} is out of bounds for shape {self.shape}")
        axes = list(range(self.ndim))
        axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
        return apply(ops.transpose, self, axes=tuple(axes))

    def __getitem__(self, key: Any) -> Value:
        """Basic slicing and integer-array indexing; the gradient is scattered back (repeats add up)."""
        if isinstance(key, Value) or (isinstance(key, tuple) and any(isinstance(k, Value) for k in key)):
            raise TypeError("index: index with ints, slices, or numpy arrays/lists of ints or bools, not with a "
                            "Value (Values hold floats, so a mask or an index would have to be guessed)")
        if isinstance(key, list):
            key = np.asarray(key)
        return apply(ops.index, self, key=key)


def _data_of(x: Any) -> Any:
    return x.data if isinstance(x, Value) else x
