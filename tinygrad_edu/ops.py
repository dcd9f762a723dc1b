"""The gradient rules: every differentiable operation as its forward and its local derivatives, side by side.

This module is the math of backpropagation (seed, section 6.3) and nothing else: it knows numpy, not the graph.
An :class:`Op` is a forward function on numpy arrays plus one *vector-Jacobian product* (vjp) per input::

    vjp(g, out, *inputs, **params) -> ∂C/∂input

where ``g = ∂C/∂out`` is the gradient arriving from above and ``out`` the forward result.  The chain rule
``∂C/∂x = ∂C/∂out · ∂out/∂x`` is exactly "``g`` times the local derivative".  A vjp may return a gradient of the
broadcast shape; the engine sums it back to the input's shape, so the rules below stay as short as the math.  (It
returns floats: integers and booleans other than a Python int written in the vjp are refused, ``g * 0.0`` where the
rule is flat.)

Every rule is written with operators (``+ - * / @``), array methods (``.reshape``, ``.sum``, ``.swapaxes``,
``.transpose``, indexing) and other Ops, so that the same line works on numpy arrays (an ordinary backward pass)
and on :class:`~tinygrad_edu.Value` objects (``backward(create_graph=True)``, where the backward pass is itself
recorded and can be differentiated again).  An Op called on arrays or numbers just computes; called on Values it is
recorded in the graph.

Define your own differentiable operation the same way::

    >>> import numpy as np
    >>> from tinygrad_edu import Op, Value
    >>> cube = Op("cube", lambda x: x**3, lambda g, out, x: g * 3 * x**2)
    >>> y = cube(Value(2.0)); y.backward(); y.parents[0].grad
    array(12.)
    >>> cube(np.array([1.0, 2.0]))          # on arrays: just the forward
    array([1., 8.])
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Collection, Sequence
from itertools import accumulate
from typing import Any

import numpy as np

from tinygrad_edu import checks

# Op.__call__ (tanh's vjp calls tanh_slope(x)) reads this name: numpy's module has a __getattr__, with which
# CPython looks np.ndarray up the slow way, 30-40 ns a read
_ndarray = np.ndarray
_FLOAT64 = np.dtype(np.float64)  # (leaky ReLU's _max_form: a float64 array's dtype is this one object)

__all__ = ["Op", "BUILT_IN"]

Vjp = Callable[..., Any]


class Op:
    """A differentiable operation: ``forward(*arrays, **params)`` and one vjp per input.

    ``vjps`` is a sequence with one vjp per input, or a single vjp for a one-input operation.  A vjp is called as
    ``vjp(g, out, *inputs, **params)`` with ``g = ∂C/∂out`` and returns ∂C/∂(its input): ``g`` times the local
    derivative (see the module docstring, and write it with operators so that derivatives of derivatives work).
    Under ``create_graph=True`` (``hessian``, ``grad(grad(f))``) it gets Values (a constant input stays its array,
    as in an ordinary pass), and one that reads ``x.data`` makes a constant of it there, silently: ``g * 2 * x.data``
    for x² gives the second derivative 0, which ``check_gradients(f, x, order=2)`` finds.  Write ``x`` itself (an
    ordinary pass hands it arrays, whose ``.data`` is a memoryview).

    ``saving``, optional: a forward that also returns what the backward pass will need, ``(out, saved)``, where
    computing both at once is cheaper (σ and σ' from one exponential).  The engine uses it for operations it
    records and hands ``saved`` to the vjps of an ordinary backward pass as the keyword ``saved``; a recorded pass
    (``create_graph=True``) leaves it out (it holds no graph), so there the vjp computes it again, on Values.
    Its ``out`` must be forward's own (a Value recorded holds it, the same call under ``no_grad`` forward's), and
    ``saved`` is handed to every ``backward()`` of the graph: like its other arguments, a vjp reads it and never
    writes into it (``saved * g``, not ``saved *= g``).  ``check_gradients`` checks both.

    Its attributes set later (``op.vjps = (my_vjp,)``, a rule swapped in a test) are checked as the constructor
    checks them, and ``vjps`` keeps its count: Values recorded with the op have one parent per vjp.
    """

    __slots__ = ("name", "forward", "vjps", "saving")
    name: str
    forward: Callable[..., Any]
    vjps: tuple[Vjp, ...]
    saving: Callable[..., tuple[Any, Any]] | None

    def __init__(self, name: str, forward: Callable[..., Any], vjps: Vjp | Sequence[Vjp], *more_vjps: Vjp,
                 saving: Callable[..., tuple[Any, Any]] | None = None) -> None:
        if not isinstance(name, str):  # (every error about the op starts with it)
            raise TypeError(f"Op: name must be a str, got {type(name).__name__} {name!r:.40}")
        if not name or name.isspace():  # (an error reading ": its vjp raised …" names nothing)
            raise ValueError(f"Op: name must be a non-empty str (every error, drawing and gradient check names the "
                             f"operation by it), got {name!r}")
        if more_vjps:  # Op("mul", f, vjp_a, vjp_b), as MyGrad's and micrograd's users may write it
            raise TypeError(f"Op {name!r}: give the vjps as one sequence, one per input: "
                            f"Op({name!r}, forward, (vjp_a, vjp_b, …)); saving= is given by name")
        if not callable(forward):
            raise TypeError(f"Op {name!r}: forward must be callable, got {type(forward).__name__}")
        if not (saving is None or callable(saving)):
            raise TypeError(f"Op {name!r}: saving must be callable, got {type(saving).__name__}")
        rules = Op._checked_vjps(name, vjps, saving)
        setting = object.__setattr__  # (checked above: not again in __setattr__)
        setting(self, "name", name), setting(self, "forward", forward), setting(self, "vjps", rules)
        setting(self, "saving", saving)

    @staticmethod
    def _checked_vjps(name: str, vjps: Any, saving: Callable[..., Any] | None) -> tuple[Vjp, ...]:
        """``vjps`` as a tuple, one callable per input, each taking ``g, out`` and every input (and ``saved=``)."""
        if not (callable(vjps) or isinstance(vjps, Sequence)):
            raise TypeError(f"Op {name!r}: vjps must be a vjp function or a sequence of them (one per input), "
                            f"got {type(vjps).__name__}")
        rules = (vjps,) if callable(vjps) else tuple(vjps)
        if not rules:  # (it could never be recorded: a call on a Value was refused only then, far from here)
            raise TypeError(f"Op {name!r}: got no vjps, so no input: an Op has one vjp per input, and at least one "
                            "input (a function of no inputs has no gradient to pass on: use its array as a constant)")
        for vjp in rules:
            if not callable(vjp):
                raise TypeError(f"Op {name!r}: every vjp must be callable, got {type(vjp).__name__}")
            if not _takes_inputs(vjp, len(rules)):
                raise TypeError(f"Op {name!r}: a vjp is called as vjp(g, out, *inputs, **params), {len(rules) + 2} "
                                f"arguments for this op's {len(rules)} input(s); {_described(vjp)} takes fewer"
                                + Op._own_input_hint(name, vjp, len(rules)))
            if saving is not None and not _takes_saved(vjp):
                raise TypeError(f"Op {name!r}: with saving=, every vjp must take the keyword saved, with a default "
                                "(it gets what the saving forward saved, and nothing in a recorded backward pass)")
        return rules

    @staticmethod
    def _own_input_hint(name: str, vjp: Vjp, count: int) -> str:
        """Where ``vjp`` takes ``g, out`` and one input, for an op of more: each vjp is given them all."""
        code = getattr(vjp, "__code__", None)
        if code is None or count < 2 or code.co_argcount - inspect.ismethod(vjp) != 3:
            return ""
        inputs = ", ".join("abcdefgh"[i] if i < 8 else f"x{i}" for i in range(count))
        return (f" (it takes g, out and one input: every vjp is given all {count} inputs, vjp(g, out, {inputs}), "
                f"and the k-th returns the gradient of the k-th; an Op of one input takes its vjp alone, "
                f"Op({name!r}, forward, vjp))")

    def __setattr__(self, attribute: str, value: Any) -> None:
        """A rule changed after construction is checked as the constructor checks it; ``vjps`` keeps its count
        (Values already recorded with the op have one parent per vjp)."""
        if not callable(value) and (attribute == "forward" or attribute == "saving" and value is not None):
            raise TypeError(f"Op {self.name!r}: {attribute} must be callable, got {type(value).__name__}")
        if attribute == "vjps":
            value = Op._checked_vjps(self.name, value, self.saving)
            if len(value) != len(self.vjps):
                raise ValueError(f"Op {self.name!r}: vjps must stay one per input, {len(self.vjps)}, got {len(value)} "
                                 f"(Values already recorded with it have {len(self.vjps)} parents): for another "
                                 "number of inputs make a new Op")
        elif attribute == "saving" and value is not None:
            Op._checked_vjps(self.name, self.vjps, value)
        elif attribute == "name" and not (isinstance(value, str) and value.strip()):  # (the constructor's errors)
            raise (ValueError if isinstance(value, str) else TypeError)(
                f"Op {self.name!r}: name must be a non-empty str, got {value!r:.40}")
        object.__setattr__(self, attribute, value)

    def __call__(self, *inputs: Any, **params: Any) -> Any:
        """On Values: the recorded operation (a new Value).  On arrays and numbers: just ``forward``."""
        for x in inputs:
            if x.__class__ is _ndarray:  # (the common case in a backward pass, decided without a failed lookup)
                continue
            record = getattr(x, "_apply_op", None)  # a Value: let the engine record it (no import needed here)
            if record is not None:
                return record(self, *inputs, **params)
        if len(inputs) != len(self.vjps):  # (one more would reach a ufunc forward as its out=, overwritten)
            raise inputs_error(self, len(inputs), params=params)
        return self.forward(*inputs, **params)

    def __repr__(self) -> str:
        return f"Op({self.name!r}, inputs={len(self.vjps)})"

    def __copy__(self) -> Op:
        return self  # a fixed rule: copies of a graph (copy.deepcopy) share it

    def __deepcopy__(self, memo: dict) -> Op:
        return self

    def __reduce__(self) -> Any:
        raise TypeError(f"pickle: the operation {self.name!r} (its forward and vjps are functions, often lambdas) "
                        "cannot be pickled, nor a Value it made; pickle value.detach() (the numbers, no graph) or "
                        "value.data.  A Value whose .grad was made by backward(create_graph=True) holds such a "
                        "graph too: zero_grad() it first, or set .grad = .grad.detach().  A model whose layer has "
                        "it as its activation cannot be pickled either: save its numbers with model.save(path), and "
                        "load them into a model built again with the activation (model.load(path))")


#: torch.autograd.Function's names, what they are for an Op: each a class attribute of Op that says so when read
#: (checks.Absent; a __getattr__ would make every attribute of an Op, op.vjps in the backward walk, a slow lookup).
_FUNCTION_NAMES = {
    "apply": "call the Op itself, op(x, y), or apply(op, x, y) (from tinygrad_edu import apply)",
    "backward": "an Op's backward rule is its vjps, one per input, vjp(g, out, *inputs, **params): op.vjps",
    "save_for_backward": "a vjp is given the forward's output and inputs, vjp(g, out, *inputs); to keep more from "
                         "the forward pass, give Op(..., saving=forward_and_saved), whose saved= the vjps get"}
for _name, _advice in _FUNCTION_NAMES.items():
    setattr(Op, _name, checks.Absent(_name, _advice, "{cls!r} object has no attribute {name!r} (a "
                                                     "torch.autograd.Function name); {advice}"))


def inputs_error(op: Op, given: int, inputs: Sequence[Any] = (), params: Collection[str] = ()) -> TypeError:
    """The error for ``op`` called with ``given`` inputs, not one per vjp; where there are too many and its forward
    has parameters after its inputs (``relu6(x, 0.0, 1.0)`` for ``lambda x, lo, hi``), it says they go by name; where
    one of those is a Value (an input, given one vjp for all, as PyTorch's backward returns all gradients), it says
    an Op has one vjp per input; where too few, and an input's name is among the keywords ``params``, that inputs go
    by position."""
    count = len(op.vjps)
    code = getattr(op.forward, "__code__", None)
    names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount] if code is not None else ()
    hint = ""
    if given < count and not set(names[given:count]).isdisjoint(params):  # (weighted(a=x, b=y))
        rest = ", ".join(names[count:code.co_argcount] if code is not None else ())
        hint = (f"; the inputs go by position, not by name: {op.name}({', '.join(names[:count])}"
                f"{', ' + rest.replace(', ', '=…, ') + '=…' if rest else ''})")
    elif given > count and any(hasattr(x, "_apply_op") for x in inputs[count:]):  # (a Value: no parameter)
        vjps = ", ".join(f"vjp_{name}" for name in names[:given]) if len(names) >= given else "vjp_a, vjp_b, …"
        hint = (f"; an Op takes one input per vjp, and it has {count}: a vjp returns the gradient of its own input, "
                f"so give one for each, Op({op.name!r}, forward, ({vjps})) (not one returning them all, as PyTorch's "
                "backward does)")
    elif given > count and names[count:]:  # (the inputs by the forward's own names: a, b, not x, x)
        hint = (f"; its parameters ({', '.join(names[count:])}) are given by name, after the inputs: "
                f"{op.name}({', '.join(names[:count])}, {names[count]}=…)")
    return TypeError(f"{op.name}: takes {count} input(s), got {given}{hint}")


def _takes_inputs(vjp: Vjp, count: int) -> bool:
    """Whether ``vjp`` can be called as ``vjp(g, out, *inputs)`` with ``count`` inputs, read from its code (cheap:
    some Ops are made per call), or where it has none (a callable object, a functools.partial) from its signature;
    True where it has neither (a builtin)."""
    code = getattr(vjp, "__code__", None)
    if code is None:
        try:
            inspect.signature(vjp).bind_partial(*(None,) * (count + 2))  # (params come as keywords)
        except TypeError:
            return False
        except ValueError:  # (no signature to read)
            pass
        return True
    # (a bound method's code counts its self, which the call does not pass)
    return bool(code.co_flags & inspect.CO_VARARGS) or (
        code.co_argcount >= count + 2 + inspect.ismethod(vjp))


def _described(vjp: Vjp) -> str:
    return getattr(vjp, "__qualname__", type(vjp).__name__)


def _takes_saved(vjp: Vjp) -> bool:
    """Whether ``vjp`` can be called with and without the keyword ``saved`` (True where its signature is unknown)."""
    try:
        parameters = inspect.signature(vjp).parameters.values()
    except (TypeError, ValueError):  # (a builtin without a signature)
        return True
    return any(p.kind is p.VAR_KEYWORD or (p.name == "saved" and p.kind is not p.POSITIONAL_ONLY
                                            and p.default is not p.empty) for p in parameters)


def _swap(x):
    """Swap the last two axes (the transpose inside a batched matmul)."""
    return x.swapaxes(-1, -2)


def _axes(axis, ndim: int) -> tuple[int, ...]:
    """The axes a reduction over ``axis`` removes, as non-negative numbers (a 0-d input has none)."""
    if axis is None or ndim == 0:
        return tuple(range(ndim))
    return tuple(a % ndim for a in (axis if isinstance(axis, tuple) else (axis,)))


def sum_to(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``g`` back to ``shape`` over the axes that numpy broadcasting added or stretched."""
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    if 1 not in shape:  # (the common bias gradient, decided without the loop below)
        return g
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=stretched, keepdims=True) if stretched else g


# broadcast_to's gradient sums the copies back: the rule every broadcasting operation shares.
broadcast_to = Op("broadcast_to", lambda x, shape: np.broadcast_to(x, shape),
                  lambda g, out, x, shape: sum_to(g, x.shape))


def _expand(g, shape: tuple[int, ...], axis):
    """Spread a reduced gradient ``g`` back over the axes a reduction removed."""
    removed = _axes(axis, len(shape))
    kept = tuple(1 if i in removed else n for i, n in enumerate(shape))
    return broadcast_to(g.reshape(kept), shape=shape)


# where(a, b, condition=c): a where c holds, else b; the gradient follows the same choice.  The condition (booleans) is
# a setting, as an index's key is, so that drawings and the player's steps show it (the engine keeps a copy); numbers
# or a list are read as np.where reads them, not 0: holds (g times the numbers themselves would scale it, ~ flip bits).
where = Op("where", lambda a, b, condition: np.where(condition, a, b),
           (lambda g, out, a, b, condition: g * np.asarray(condition, dtype=bool),
            lambda g, out, a, b, condition: g * ~np.asarray(condition, dtype=bool)))


# ---------------------------------------------------------------------------------------------------------------
# Arithmetic.  z = a ∘ b  with  ∂z/∂a, ∂z/∂b.
# ---------------------------------------------------------------------------------------------------------------
add = Op("add", np.add, (lambda g, out, a, b: g,
                         lambda g, out, a, b: g))
sub = Op("sub", np.subtract, (lambda g, out, a, b: g,
                              lambda g, out, a, b: -g))
mul = Op("mul", np.multiply, (lambda g, out, a, b: g * b,
                              lambda g, out, a, b: g * a))
div = Op("div", np.divide, (lambda g, out, a, b: g / b,
                            lambda g, out, a, b: -g * out / b))
neg = Op("neg", np.negative, lambda g, out, a: -g)


def _power(a, b):
    """aᵇ; a single-number exponent of a's own dtype goes to numpy as a Python number (its fast path a**2 = a·a)."""
    if b.__class__ is np.ndarray and b.ndim == 0 and b.dtype == a.dtype:
        return a ** b.item()
    return a ** b


def _pow_vjp_base(g, out, a, b):
    """b·aᵇ⁻¹.  Where b = 0 it is written (b/a)·aᵇ instead (b·aᵇ at a = 0): the same value (0) and, to every order,
    the same derivatives in b (1/a, then 2·ln(a)/a, …), but no aᵇ⁻¹, whose 0·∞ at a = 0 (or overflow at a tiny a)
    would make this slope or the next derivative NaN.  (b/a alone, without aᵇ = 1, has the first of them only.)"""
    if b.dtype != out.dtype:  # a float32 exponent of a float64 base: b − 1 in float64, as aᵇ was computed
        b = b.astype(out.dtype)
    if _squared(a, b):  # the common x ** 2 (decided first: any() of a 0-d comparison takes numpy ~4 µs)
        return g * b * a
    zero = b == 0
    if not zero.any():  # x ** n
        return g * b * power(a, b - 1)
    general = b * power(where(1.0, a, condition=zero), b - 1)
    at_zero = (where(b, 0.0, condition=zero) / where(1.0, a, condition=a == 0)
               * where(out, 1.0, condition=zero))  # no 0·∞ where b ≠ 0 either
    return g * where(at_zero, general, condition=zero)


def _squared(a, b) -> bool:
    """Whether aᵇ is a square of arrays, whose slope b·a¹ is b·a, without the pass that computes a¹.  Not on Values
    (a recorded pass): there a¹ stays a recorded power, whose own derivatives in a and b are needed."""
    return a.__class__ is np.ndarray and b.size == 1 and b.item() == 2


def _pow_vjp_exponent(g, out, a, b):
    """aᵇ·ln a, with ln a in the output's precision; where a = 0 (and b > 0) aᵇ = 0 for every b, so the slope is
    0, not 0·(−∞) = NaN."""
    if a.dtype != out.dtype:  # a float32 base under a float64 exponent: ln a in float64, as aᵇ was computed
        a = a.astype(out.dtype)
    return g * out * log(where(1.0, a, condition=a == 0))


# d(a^b)/da = b·a^(b-1),  d(a^b)/db = a^b·ln a
power = Op("pow", _power, (_pow_vjp_base, _pow_vjp_exponent))


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return np.matmul(a, b)
    except ValueError:
        raise ValueError(_matmul_mismatch(a.shape, b.shape)) from None


def _matmul_mismatch(a: tuple[int, ...], b: tuple[int, ...]) -> str:
    """Why numpy refused ``a @ b``, in the words of the shapes."""
    if not a or not b:
        return f"matmul: shapes {a} and {b}: matmul needs at least 1-D operands (use * for scalars)"
    inner_b = b[0] if len(b) == 1 else b[-2]
    if a[-1] != inner_b:
        swapped = len(a) > 1 and b[-1] == a[-2] and _batches_broadcast(b, a)  # (b @ a would align: W @ α for α @ W)
        order = (f"; {b} @ {a} would align: a layer's W is (in_size, out_size), as the seed's Layer stores it, the "
                 "transpose of the W in its formula W·α, so the seed's W·α is α @ W here") if swapped else ""
        if not order and len(a) == 2 and a[-2] == inner_b:  # (W.T @ α would align: the seed's code's W, its column α)
            order = (f"; the first transposed, {a[::-1]} @ {b}, would align: a W of shape (in_size, out_size), as the "
                     "seed's Layer code stores it, is the transpose of the W in its formula W·α (one row per neuron), "
                     "so with α a column (in_size, 1) the seed's W·α is W.T @ α; a layer here takes α as a row, α @ W")
        elif not order and len(a) == 2 and len(b) == 2 and a[-1] == b[-1]:  # (a @ b.T would align)
            order = (f"; the second transposed, {a} @ {b[::-1]}, would align: the seed's W·α takes α as a column "
                     "(n, 1), where a row (1, n) was given, or a batch of rows meets a W of one row per neuron, as in "
                     "the seed's formula (PyTorch's Linear.weight too): rows @ W.T")
        return f"matmul: shapes {a} and {b} are not aligned ({a[-1]} != {inner_b}){order or _stack_reversed(a, b)}"
    return f"matmul: batch dimensions of shapes {a} and {b} cannot be broadcast together{_stack_reversed(a, b)}"


def _batches_broadcast(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """Whether the stacks of matrices of shapes ``a`` and ``b`` (a vector or a matrix: none) broadcast in ``a @ b``: a
    product offered as one that would align must not fail on them instead."""
    try:
        np.broadcast_shapes(a[:-2], b[:-2])
    except ValueError:
        return False
    return True


def _stack_reversed(a: tuple[int, ...], b: tuple[int, ...]) -> str:
    """For ``q @ k.T`` with ``k`` a stack of matrices (batch, T, d): numpy's .T reverses all its axes, (d, T, batch),
    where each matrix transposed, (batch, d, T), would fit ``a``."""
    if len(b) < 3:
        return ""
    stack = b[::-1]
    each = stack[:-2] + stack[:-3:-1]
    try:
        np.broadcast_shapes(a[:-2], each[:-2])
    except ValueError:
        return ""
    if a[-1] != each[-2]:
        return ""
    return (f"; if the second is k.T, k a stack of matrices of shape {stack}, that .T reversed all {len(b)} axes "
            f"(numpy's .T does): k.swapaxes(-1, -2) transposes each matrix, giving shape {each}")


def _matmul_vjp(g, a, b, wrt_a: bool):
    """∂(a@b)/∂a = g @ bᵀ and ∂(a@b)/∂b = aᵀ @ g, with 1-D operands treated as numpy does (a row, a column)."""
    a_was_vector, b_was_vector = a.ndim == 1, b.ndim == 1
    if a_was_vector:
        a, g = a.reshape(1, -1), g.reshape(g.shape[:-1] + (1,) + g.shape[-1:])
    if b_was_vector:
        b, g = b.reshape(-1, 1), g.reshape(g.shape + (1,))
    if wrt_a:
        grad = g @ _swap(b)
        return grad.reshape(grad.shape[:-2] + grad.shape[-1:]) if a_was_vector else grad
    grad = _swap(a) @ g
    return grad.reshape(grad.shape[:-1]) if b_was_vector else grad


# (two matrices, a layer's α @ W, written out: g @ bᵀ and aᵀ @ g without a call of _matmul_vjp, the same bits)
matmul = Op("matmul", _matmul, (
    lambda g, out, a, b: g @ b.swapaxes(-1, -2) if a.ndim > 1 and b.ndim > 1 else _matmul_vjp(g, a, b, wrt_a=True),
    lambda g, out, a, b: a.swapaxes(-1, -2) @ g if a.ndim > 1 and b.ndim > 1 else _matmul_vjp(g, a, b, wrt_a=False)))

# ---------------------------------------------------------------------------------------------------------------
# Element-wise functions, including the activation functions of seed section 3.1.  y = f(x), ∂y/∂x = f'(x).
# ---------------------------------------------------------------------------------------------------------------
# (ln x)' = 1/x and (√x)' = 1/(2√x) are +∞ at x = 0 from either zero: the "+ 0.0" turns −0 (and √−0 = −0) into +0,
# so that the slope at −0 is +∞, not −∞ (which would send ln(−x) and √(−x) the wrong way at x = 0).
exp = Op("exp", np.exp, lambda g, out, x: g * out)                        # (eˣ)' = eˣ
log = Op("log", np.log, lambda g, out, x: g / (x + 0.0))                  # (ln x)' = 1/x
sqrt = Op("sqrt", np.sqrt, lambda g, out, x: g / (2 * out + 0.0))         # (√x)' = 1/(2√x)
absolute = Op("abs", np.abs, lambda g, out, x: g * np.sign(x))            # |x|' = sign(x), a constant


def _exp_minus_abs(x: np.ndarray) -> np.ndarray:
    """e^−|x| ≤ 1 (never overflowing), in a fresh array (out=: a 0-d array stays an array, not a scalar)."""
    e = np.abs(x, out=np.empty_like(x))
    try:
        e *= -1.0
    except TypeError:  # integers or booleans (an Op called on them directly): in floats, as np.exp computes them
        return _exp_minus_abs(np.asarray(x, dtype=np.result_type(x, 1.0)))
    return np.exp(e, out=e)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1 / (1 + e⁻ˣ) = eˣ / (1 + eˣ).  With e = e^−|x| it is 1 / (1 + e) for x ≥ 0 and e / (1 + e) for x < 0:
    accurate to the last digits for every x.  Computed as max(e, [x ≥ 0]) / (1 + e) (the numerator is exactly 1 or
    e), in passes over two fresh arrays, without numpy's slow masked writes."""
    e = _exp_minus_abs(x)
    denominator = np.add(e, 1.0, out=np.empty_like(e))
    return np.divide(np.maximum(e, x >= 0, out=e), denominator, out=denominator)


def _slope_from(e: np.ndarray) -> np.ndarray:
    """e / (1 + e)², into a fresh array: σ'(x) with e = e^−|x|."""
    square = np.add(e, 1.0, out=np.empty_like(e))
    square *= square
    return np.divide(e, square, out=square)


def _sigmoid_slope(x: np.ndarray) -> np.ndarray:
    """σ'(x) = σ(x)·σ(−x) = e / (1 + e)² with e = e^−|x|: one exponential, never overflowing, and keeping the
    digits that σ(1 − σ) would lose where σ is close to 1."""
    return _slope_from(_exp_minus_abs(x))


def _sigmoid_and_slope(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """σ(x) and σ'(x), as the two above compute them (the same digits), from one exponential: a recorded σ keeps σ'
    for the backward pass instead of computing e again there."""
    e = _exp_minus_abs(x)
    square = np.add(e, 1.0, out=np.empty_like(e))
    sigma = np.maximum(e, x >= 0, out=np.empty_like(e))
    np.divide(sigma, square, out=sigma)
    square *= square
    return sigma, np.divide(e, square, out=square)


def _tanh_slope(x: np.ndarray) -> np.ndarray:
    """tanh'(x) = 1 − tanh²(x) = 4σ'(2x) = 4e / (1 + e)² with e = e^−2|x| = (e^−|x|)²: squared, not 2|x| (which
    overflows at |x| above half the largest float; e is 0 there either way)."""
    e = _exp_minus_abs(x)
    e *= e
    slope = _slope_from(e)
    slope *= 4
    return slope


# The slopes of the two S-shaped activations are Ops of their own, so that derivatives of derivatives stay exact:
# σ'(x) = σ(x)(1 − σ(x)), with  σ''(x) = σ'(x)(1 − 2σ(x)) = −σ'(x)·tanh(x/2)
sigmoid_slope: Op = Op("sigmoid_slope", _sigmoid_slope, lambda g, out, x: -g * out * tanh(x * 0.5))
# A recorded σ keeps σ'(x) from its forward pass (saved); a recorded backward pass computes it again, on Values.
sigmoid: Op = Op("sigmoid", _sigmoid, lambda g, out, x, saved=None: g * (sigmoid_slope(x) if saved is None else saved),
                 saving=_sigmoid_and_slope)
# tanh'(x) = 1 − tanh²(x) = sech²(x) = 4σ'(2x), with  (sech²)'(x) = −2·sech²(x)·tanh(x)
tanh_slope: Op = Op("tanh_slope", _tanh_slope, lambda g, out, x: -2 * g * out * tanh(x))
tanh: Op = Op("tanh", np.tanh, lambda g, out, x: g * tanh_slope(x))
relu = Op("relu", lambda x: np.maximum(x, 0), lambda g, out, x: g * (x > 0))  # relu' = [x > 0]


def _max_form(slope, dtype: np.dtype) -> bool:
    """Whether leaky ReLU's slope s, as x's dtype makes it, lies in (0, 1]: there x for x > 0, else s·x, is the same
    as max(x, s·x), and its slope, 1 for x > 0, else s, is max(sign x, s) (fmax: s where x is NaN).  numpy computes
    these maxima twice as fast as the np.where of the definition.  x must be floats and s lie there in x's dtype too:
    an integer dtype (an Op called on such arrays directly) makes 1.5 a 1 (max(x, 1.5x) is not leaky ReLU) and 0.01
    a 0, and booleans have no np.sign.  (A float64
    x takes s as it is, decided without making a numpy number of it.)"""
    return isinstance(slope, float) and 0 < slope <= 1 and (dtype is _FLOAT64 or dtype.kind == "f" and
                                                             dtype.type(slope) > 0)


def _leaky_relu(x, negative_slope=0.01):
    if _max_form(negative_slope, x.dtype):
        return np.maximum(x, x * negative_slope)
    if x.dtype.kind in "iub":  # integers or booleans (the Op called on them directly), whose dtype rounds the slope
        return _leaky_relu(np.asarray(x, dtype=np.result_type(x, 1.0)), negative_slope)  # to a whole number
    if x.dtype.type(negative_slope) == 0:  # s·x is ±0 below 0, at −∞ too (0·(−∞) would be NaN)
        return np.where(x > 0, x, np.maximum(x, np.finfo(x.dtype).min) * negative_slope)
    return np.where(x > 0, x, x * negative_slope)


def _leaky_relu_vjp(g, out, x, negative_slope=0.01):
    if _max_form(negative_slope, x.dtype):
        slope = np.fmax(np.sign(x), negative_slope)
    elif x.dtype.kind in "iub":  # integers or booleans (the Op called on them directly): as the forward, in floats,
        return _leaky_relu_vjp(g, out, np.asarray(x, dtype=np.result_type(x, 1.0)), negative_slope)  # not s as 0
    else:
        slope = np.where(x > 0, 1.0, negative_slope)
    return g * (slope if slope.dtype is x.dtype else slope.astype(x.dtype))  # (`is`: float64 and float32 at once)


# leaky_relu(x) = x for x > 0, else s·x;  leaky_relu'(x) = 1 for x > 0, else s
leaky_relu = Op("leaky_relu", _leaky_relu, _leaky_relu_vjp)


def _softplus(x: np.ndarray) -> np.ndarray:
    """ln(1 + eˣ) = max(x, 0) + ln(1 + e^−|x|): no overflow for large x; np.logaddexp(0, x)'s own formula, at a
    quarter of its time, and NaN for NaN without logaddexp's "invalid value" warning."""
    return np.maximum(x, 0) + np.log1p(_exp_minus_abs(x))


# softplus(x) = ln(1 + eˣ);  softplus' = σ
softplus = Op("softplus", _softplus, lambda g, out, x: g * sigmoid(x))

# ---------------------------------------------------------------------------------------------------------------
# The seed's cost (section 5): C = Σ_j (y_j − y'_j)² per sample, averaged over the n samples of a batch,
# and its derivative ∂C/∂y = 2(y − y')/n: section 6.3's ∂C/∂α^L = 2(α^L − y′) (y′ the target; misprinted there
# as 2(α^(L−1))).
# ---------------------------------------------------------------------------------------------------------------
def _samples(prediction) -> int:
    """How many samples a prediction holds: rows of a batch ``(n, k)``, else one."""
    return prediction.shape[0] if prediction.ndim >= 2 else 1


def _squared_error(prediction: np.ndarray, target: np.ndarray) -> np.ndarray:
    difference = prediction - target
    try:
        # (np.add.reduce, what np.sum calls, without its Python layers: the same numbers and errors)
        cost = np.add.reduce(difference * difference, axis=None) / _samples(prediction)
    except FloatingPointError as error:  # np.errstate(over="raise"): perhaps only the squares overflowed, not the cost
        return _scaled_squared_error(difference, _samples(prediction), error)
    return _scaled_squared_error(difference, _samples(prediction)) if cost == np.inf else cost


def _scaled_squared_error(difference: np.ndarray, samples: int, error: FloatingPointError | None = None) -> Any:
    """Σd²/n where d² or its sum overflowed, as (Σ(d/m)²/n)·m·m with m the largest |d|: finite wherever the cost is
    (1e154 off in two samples: 1e308).  Where the cost itself overflows (or d holds inf), inf, as numpy gave it (with
    its warning), or numpy's error (``error``)."""
    largest = np.max(np.abs(difference))
    if np.isfinite(largest):
        with np.errstate(all="ignore"):  # (the squares of the small ones underflow to 0: no error)
            scaled = difference / largest
            cost = np.sum(scaled * scaled) / samples * largest * largest
        if cost != np.inf:
            return cost
    if error is not None:
        raise error
    return np.asarray(np.inf, dtype=difference.dtype)


def _squared_error_vjp(sign: float):
    def vjp(g, out, prediction, target):  # ±2(y − y')/n · g, in place on one fresh temporary
        local = prediction - target
        local *= sign * 2 / _samples(prediction)
        local *= g
        return local

    return vjp


squared_error = Op("squared_error", _squared_error, (_squared_error_vjp(1.0), _squared_error_vjp(-1.0)))

# ---------------------------------------------------------------------------------------------------------------
# Reductions.  The gradient of a sum is spread back evenly over what was summed.
# ---------------------------------------------------------------------------------------------------------------
# (np.add.reduce is what np.sum calls, without its Python layers: the same numbers and errors.)
reduce_sum = Op("sum", lambda x, axis=None, keepdims=False: np.add.reduce(x, axis=axis, keepdims=keepdims),
                lambda g, out, x, axis=None, keepdims=False: _expand(g, x.shape, axis))


def _mean_vjp(g, out, x, axis=None, keepdims=False):
    count = x.size // max(out.size, 1) if x.size else 1
    return _expand(g, x.shape, axis) / count


def _mean(x: np.ndarray, axis=None, keepdims: bool = False) -> np.ndarray:
    """The average over ``axis``; over no numbers at all it is an error (numpy would warn and give NaN)."""
    if x.size == 0:
        total = np.sum(x, axis=axis, keepdims=keepdims)  # (checks the axis)
        if total.size:
            raise ValueError(f"mean: the mean of no numbers is undefined (input shape {x.shape}, axis={axis!r})")
        return total
    return np.mean(x, axis=axis, keepdims=keepdims)


reduce_mean = Op("mean", _mean, _mean_vjp)


def _extreme_vjp(g, out, x, axis=None, keepdims=False):
    """The gradient goes to the maximal (minimal) elements, split evenly between ties; which ones is a constant mask.
    Where the result is NaN (max and min propagate it, as in numpy) it goes to the NaNs, as in PyTorch."""
    spread = _expand(out, x.shape, axis)
    is_extreme = (x == spread) | (np.isnan(x) & np.isnan(spread))
    return _expand(g, x.shape, axis) * (is_extreme / is_extreme.sum(axis=_axes(axis, x.ndim), keepdims=True))


reduce_max = Op("max", lambda x, axis=None, keepdims=False: np.max(x, axis=axis, keepdims=keepdims), _extreme_vjp)
reduce_min = Op("min", lambda x, axis=None, keepdims=False: np.min(x, axis=axis, keepdims=keepdims), _extreme_vjp)


def _shifted(x: np.ndarray, axis: int | tuple[int, ...] | None) -> np.ndarray:
    """``x − max x`` along ``axis``.  A row of only −inf (no class possible) or holding +inf has no softmax: it
    becomes NaN (∞ − ∞), as in PyTorch, without numpy's "invalid value" warning.  ``x − max x`` ≤ 0 can overflow
    only to −inf (−1e308 − 1e308), whose share is exactly 0: no "overflow" warning either."""
    with np.errstate(invalid="ignore", over="ignore"):
        return x - np.max(x, axis=axis, keepdims=True)


def _log_softmax(x: np.ndarray, axis: int | tuple[int, ...] | None = -1) -> np.ndarray:
    """log softmax(x) = s − ln Σ eˢ with s = x − max x (so exp cannot overflow).  The sum is k (the eᵐᵃˣ⁻ᵐᵃˣ = 1 of
    the k maxima) plus the rest, and ln(k + rest) is taken as log1p(k − 1 + rest): it keeps its digits when one
    input dominates."""
    if x.dtype.kind != "f":  # integers or booleans (the Op called on them directly): in float64, as softmax's exp
        x = x.astype(np.float64)
    if x.size == 0:
        return np.zeros_like(x)
    shifted = _shifted(x, axis)
    is_max = shifted == 0
    rest = np.sum(np.exp(shifted, where=~is_max, out=np.zeros_like(shifted)), axis=axis, keepdims=True)
    return shifted - np.log1p(np.sum(is_max, axis=axis, keepdims=True, dtype=x.dtype) - 1 + rest)


def _softmax(x: np.ndarray, axis: int | tuple[int, ...] | None = -1) -> np.ndarray:
    if x.dtype.kind in "iub":  # integers or booleans (the Op called on them directly): in float64, as log_softmax
        x = x.astype(np.float64)  # (x − max x of uint8 wraps around, bools do not subtract, int8's exp is float16's)
    if x.size == 0:
        return np.empty_like(x)
    e = np.exp(_shifted(x, axis))
    return e / np.sum(e, axis=axis, keepdims=True)


# softmax: ∂C/∂x = s ⊙ (g − Σ g⊙s), the same for g − c, any c of the slice (Σ s = 1).  With c the g of a share above
# ½, where a slice has one, Σ g⊙s holds only the other, small shares, and that share's own slope keeps its digits
# (g − Σ g⊙s took its 1 − s from a sum near 1: 1e-3 off at logits (30, 0), 0 in float32)
def _softmax_vjp(g, out, x, axis=-1):
    sure = out > 0.5  # (a constant mask: at most one share per slice)
    if sure.any():
        g = g - (g * sure).sum(axis=axis, keepdims=True)
    return out * (g - (g * out).sum(axis=axis, keepdims=True))


softmax = Op("softmax", _softmax, _softmax_vjp)


# log_softmax: ∂C/∂x = g − p · Σ g, with p = softmax(x) = e^out, written p·(g − Σg) − g·(p − 1): the same number, but
# p − 1 = expm1(out) keeps its digits where a class is nearly sure (there p rounds to 1, and g − p·Σg kept only the
# digits left over from 1: a confident right answer's cross-entropy slope p − 1 came out 0 at a margin of 40)
def _log_softmax_grad(g, out, axis=-1):
    return np.exp(out) * (g - np.sum(g, axis=axis, keepdims=True)) - g * np.expm1(out)


def _expm1(x):
    """eˣ − 1, exact where eˣ is near 1: numpy's expm1 on arrays; on Values (a recorded backward pass) 2t/(1 − t)
    with t = tanh(x/2), the same number to a few ulps, made of Ops that have derivatives."""
    if x.__class__ is np.ndarray:
        return np.expm1(x)
    t = tanh(x * 0.5)
    return 2 * t / (1 - t)


# That vjp is an Op of its own in a recorded pass (create_graph=True), as σ′ and tanh′ are, with its own vjps for g and
# out: ∂/∂g of g − p·Σg is (h − Σh) − Σ h·(p − 1) (the transpose, written with p − 1 for its digits again) and ∂/∂out
# is −h·p·Σg.  So the second derivative's products of e^(x − max x), which far out underflow as rounding, are this
# Op's and count as such (see UNDERFLOW_IS_ROUNDING): as exp and mul of the formula they raised numpy's "underflow"
# under np.errstate(all="raise"), where the first derivative raised nothing
log_softmax_grad = Op("log_softmax_grad", _log_softmax_grad,
                      (lambda h, r, g, out, axis=-1: (h - h.sum(axis=axis, keepdims=True)
                                                      - (h * _expm1(out)).sum(axis=axis, keepdims=True)),
                       lambda h, r, g, out, axis=-1: -h * exp(out) * g.sum(axis=axis, keepdims=True)))


def _log_softmax_vjp(g, out, x, axis=-1):
    if g.__class__ is np.ndarray and out.__class__ is np.ndarray:  # (an ordinary backward pass: the formula itself)
        return _log_softmax_grad(g, out, axis)
    return log_softmax_grad(g, out, axis=axis)


log_softmax = Op("log_softmax", _log_softmax, _log_softmax_vjp)

# ---------------------------------------------------------------------------------------------------------------
# Shape operations: they only move numbers, so the gradient is moved back the same way.
# ---------------------------------------------------------------------------------------------------------------
copy = Op("copy", np.copy, lambda g, out, x: g)  # a new array of the same numbers (a leaf's own gradient Value)
astype = Op("astype", lambda x, dtype: x.astype(dtype), lambda g, out, x, dtype: g.astype(x.dtype))
reshape = Op("reshape", lambda x, shape: np.reshape(x, shape), lambda g, out, x, shape: g.reshape(x.shape))


def _transpose_vjp(g, out, x, axes=None):
    """Move the axes back: the inverse permutation of ``axes`` (negative axes counted from the end)."""
    order = range(x.ndim)[::-1] if axes is None else [a % x.ndim for a in axes]
    return g.transpose(tuple(int(i) for i in np.argsort(order)))


transpose = Op("transpose", lambda x, axes=None: np.transpose(x, axes), _transpose_vjp)


def _scatter(g: np.ndarray, shape: tuple[int, ...], key: Any) -> np.ndarray:
    """Zeros of ``shape`` with ``g`` added at ``key``: an element picked twice gets both parts."""
    grad = np.zeros(shape, dtype=g.dtype)
    np.add.at(grad, key, g)
    return grad


# Indexing picks elements; its gradient scatters them back.  The two are each other's vjp.
scatter = Op("scatter", _scatter, lambda g, out, x, shape, key: g[key])
index = Op("index", lambda x, key: x[key], lambda g, out, x, key: scatter(g, shape=x.shape, key=key))


def _larger_share(a, b, dtype: np.dtype):
    """∂max(a, b)/∂a: 1 where a > b, ½ at a tie (split evenly, as ``Value.max``, PyTorch and JAX do, and as the
    central difference finds), 0 where a < b.  NaN propagates, so the result is the NaN input: the gradient goes to
    it (1, ½ where both are NaN), as ``Value.max`` sends it to the NaNs."""
    share = np.add(a > b, a >= b, dtype=dtype) / 2
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    if nan_a.any() or nan_b.any():  # (a > b and a >= b are False at a NaN)
        share = where(1.0 - nan_b * 0.5, share, condition=nan_a)
    return share


maximum = Op("maximum", np.maximum, (lambda g, out, a, b: g * _larger_share(a, b, out.dtype),
                                     lambda g, out, a, b: g * _larger_share(b, a, out.dtype)))


def _starts(inputs, axis: int | None) -> list[int]:
    """Where each input's piece begins in a concatenation along ``axis`` (``None``: flattened), and the last ends."""
    return [0, *accumulate(x.size if axis is None else x.shape[axis] for x in inputs)]


def _recorded_starts(last: list, out, inputs, axis: int | None) -> list[int]:
    """``_starts`` for a recorded backward pass (``create_graph=True``, no ``saved``), found once per output Value
    ``out`` and kept in ``last`` (a weak reference to it, and its starts) for the vjps of its other inputs."""
    if out.__class__ is np.ndarray:  # (a vjp called by hand on arrays)
        return _starts(inputs, axis)
    known, starts = last
    if known is None or known() is not out:
        starts = _starts(inputs, axis)
        last[:] = weakref.ref(out), starts
    return starts


def _piece(i: int, stacked: bool, last: list):
    """The vjp of input ``i`` of a concatenate/stack: cut its own piece out of the incoming gradient.  The pieces'
    places are found once, by the forward pass (``saved``; in a recorded pass, by the first vjp: ``last``), not by
    each vjp again: that made the backward pass of a join of n inputs take time n² (10,000 pieces: 7 s)."""

    def vjp(g, out, *inputs, axis=0, saved=None):
        if stacked:
            return g[(slice(None),) * (axis % g.ndim) + (i,)]
        starts = saved or _recorded_starts(last, out, inputs, axis)
        if axis is None:  # the inputs were flattened, then joined
            return g[starts[i]:starts[i + 1]].reshape(inputs[i].shape)
        return g[(slice(None),) * (axis % g.ndim) + (slice(starts[i], starts[i + 1]),)]

    return vjp


# The joins take their axis as a setting (op(*xs, axis=1); 0 if not given), so that drawings and the player's steps
# show it; an Op is made per number of inputs (one vjp each), all sharing these forwards (BUILT_IN holds one of each).
def _concatenate(*xs, axis: int | None = 0):
    return np.concatenate(xs, axis=axis)


def _concatenate_and_starts(*xs, axis: int | None = 0):
    return np.concatenate(xs, axis=axis), _starts(xs, axis)


def _stack(*xs, axis: int = 0):
    return np.stack(xs, axis=axis)


def _count(name: str, count: Any) -> int:
    """The number of inputs of a join's Op, an int of at least 1; ``ops.stack([a, b])``, numpy's ``np.stack`` read
    into this factory, is a TypeError saying what joins Values (Python's own named no function)."""
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)):
        given = (f"a {type(count).__name__} of {len(count)}" if isinstance(count, (list, tuple))
                 else f"{type(count).__name__} {count!r:.40}")  # (not the Values' text, cut off halfway)
        raise TypeError(f"ops.{name}(count) makes the Op that joins count inputs, and takes that number, not "
                        f"{given}; to join Values, write F.{name}([a, b]) (from "
                        f"tinygrad_edu import functional as F), or the Op itself: ops.{name}(2)(a, b)")
    if count < 1:
        raise ValueError(f"ops.{name}: count must be at least 1 (the number of inputs its Op joins), got {count}")
    return int(count)


def concatenate(count: int) -> Op:
    """An Op joining ``count`` arrays along an existing axis, its setting ``axis`` (``None``: flattened first, as
    numpy does)."""
    count = _count("concatenate", count)
    last: list = [None, None]  # the output of the last recorded pass's vjps (a weak reference), and its starts
    return Op("concatenate", _concatenate, tuple(_piece(i, stacked=False, last=last) for i in range(count)),
              saving=_concatenate_and_starts)


def stack(count: int) -> Op:
    """An Op joining ``count`` arrays of one shape along a new axis, its setting ``axis``."""
    count = _count("stack", count)
    return Op("stack", _stack, tuple(_piece(i, stacked=True, last=[]) for i in range(count)))


#: The operations whose formulas take e^−|x| or e^(x − max x), which far out underflows to 0 (σ(800) = 1/(1 + e⁻⁸⁰⁰),
#: exactly 1): there the underflow is rounding, the right answer, and no error of the caller's.  Where numpy raised it
#: (np.errstate(under="raise"), or all="raise"), the engine computes such an operation, or its vjp, again with
#: underflows ignored; an overflow, a division by 0 or an invalid value stays numpy's error, as does the underflow of
#: an exp of one's own (F.exp(-800)).
UNDERFLOW_IS_ROUNDING: frozenset[Op] = frozenset({sigmoid, sigmoid_slope, tanh, tanh_slope, softplus, softmax,
                                                  log_softmax, log_softmax_grad, squared_error})

#: The built-in operations by name (drawings write formulas for these, not for an Op of one's own of the same name);
#: for the joins, made per call, one of each: an Op with its forward and vjps made here is that join.
BUILT_IN: dict[str, Op] = {**{value.name: value for value in list(globals().values()) if isinstance(value, Op)},
                           "concatenate": concatenate(1), "stack": stack(1)}
