"""Function transforms: derivatives of functions, as JAX, HIPS autograd and ``torch.func`` spell them.

``grad(f)`` is a new function that returns ∇f; because the engine can record its own backward pass
(``backward(create_graph=True)``), that function can be differentiated again: ``grad(grad(f))`` is f″, and the
seed's "second derivative" test of section 6.1 becomes one line.

- :func:`grad`, :func:`value_and_grad`: ``f`` returns a single number (a cost); ``argnums`` picks the arguments.
- :func:`jacobian`: every partial derivative of a Value-valued ``f``, shape ``f(x).shape + x.shape``.
- :func:`hessian`: the matrix of second derivatives, ``jacobian(grad(f))``.
- :func:`hvp`: the Hessian-vector product ``H·v`` from two backward passes, without forming ``H``; it returns
  ``H·v`` alone, not PyTorch's pair ``(f(x), H·v)``.
- :func:`gradients`: the building block, ∂output/∂inputs for Values you already have (``torch.autograd.grad``).

They accept numbers, nested lists, numpy arrays and Values, and return Values; keyword arguments go to ``f``
as they are, not differentiated (as in JAX and ``torch.func``).  ``f`` must return a Value: a plain number or
array (``float(x)``, ``x.item()``, ``x.data``, ``math.sin(x)``) has left the graph, and is refused rather than
given a derivative of 0.  As in ``torch.func``, a transform differentiates inside ``no_grad()`` too, and returns
detached Values there (connected to nothing); unlike it, a tuple argument is one array, not a tuple of arguments (a
pytree), and a dict of arrays is refused: pick several arguments with ``argnums`` (for a model's parameters, there is
no ``functional_call``: ``gradients(cost, list(params.values()))`` with ``params = dict(model.named_parameters())``).

**Nothing is mutated**: the ``.grad`` of your Values (and of every Value in the graph) is the same after a call as
before, so a transform never leaves stale gradients behind or adds to yours.  (A ``backward()`` that ``f`` calls
itself adds to the ``.grad`` of every leaf it reaches while ``f`` runs, as anywhere, so ``f`` can read them; when
``f`` returns, each leaf's ``.grad`` it wrote goes back to what it was, a model's weights' as the arguments', unless
another thread has written one since: that write is kept; so does that of each computed Value the walk goes through.
Inside ``f``, ``gradients(y, [p], create_graph=True)`` gives the derivative and writes no ``.grad`` at all.)  The
transforms differentiate fresh
copies of the arguments; when ``f``'s result also depends on Values of yours (an argument that is a Value requiring
a gradient, or one ``f`` uses from outside, as an enclosing ``grad`` does), the returned derivative is recorded and
stays connected to them, so it can be differentiated again; with only numbers and arrays it is a constant
(cheaper).  When every argument differentiated is a Value, a call's backward passes go back only as far as the
copies, not through their history.  Still, a loop ``x = x - lr * grad(f)(x)`` on a Value ``x`` (a Value
requires a gradient unless made with ``requires_grad=False``) chains each step to all the steps before, so its
graph grows with the loop: run such a loop under ``no_grad()``, or on arrays.

    >>> from tinygrad_edu.autodiff import grad, hessian
    >>> f = lambda x: x ** 3                       # f′ = 3x², f″ = 6x, f‴ = 6
    >>> [float(d(2.0)) for d in (grad(f), grad(grad(f)), grad(grad(grad(f))))]
    [12.0, 12.0, 6.0]
    >>> hessian(lambda p: p[0] ** 2 * p[1])([1.0, 3.0]).data     # [[2y, 2x], [2x, 0]]
    array([[6., 2.],
           [2., 0.]])
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

import numpy as np

from tinygrad_edu import checks, ops
from tinygrad_edu import functional as F
from tinygrad_edu.engine import (
    CAPTURED_GRADIENTS,
    LEAF_WRITES,
    WALK_SETUP,
    Value,
    apply,
    backward_reach,
    enable_grad,
    is_grad_enabled,
)

__all__ = ["grad", "value_and_grad", "jacobian", "hessian", "hvp", "gradients", "gradient_and_hessian"]


# What to write here for a keyword argument of torch.func / torch.autograd (see checks.pytorch_keywords).
_NO_AUX = "f must return only the Value to differentiate: compute any other result outside f"
_RECORDED = ("not needed: the result is recorded (and can be differentiated again) whenever f's result depends on "
             "Values of yours that require a gradient (x given as such a Value, or used by f)")
_HVP_RESULT = "note that hvp returns H·v alone, shaped like x, not PyTorch's pair (f(x), H·v)"
# JAX's grad keywords and torch.autograd.functional's jacobian / hessian / hvp keywords that have no use here
_JAX_GRAD = {"holomorphic": "Values hold real numbers here: there are no complex derivatives",
             "allow_int": "not needed: integer arguments are differentiated as floats"}
_STRICT = "not needed: an input the result does not depend on gets zeros"
_REVERSE = dict.fromkeys(("vectorize", "strategy", "outer_jacobian_strategy"),
                         "not needed: the Jacobian is always one backward pass per output element (reverse mode)")
# hvp differentiates f with respect to one array, where torch.autograd.functional.hvp takes a tuple of them
_ONE_VECTOR = ("hvp differentiates a function of one array x: join the arrays into one vector, x = "
               "np.concatenate([w.ravel(), b.ravel()]) (and v alike), and split it inside f, "
               "lambda p: f(p[:w.size].reshape(w.shape), p[w.size:].reshape(b.shape)); or, with no flattening, for "
               "Values you already have (a model's parameters, params): g = gradients(cost, params, "
               "create_graph=True), then gradients(sum((gi * vi).sum() for gi, vi in zip(g, vs)), params) is H·v, "
               "one array per parameter (see hvp's docstring)")


@checks.pytorch_keywords(dict.fromkeys(("grad", "upstream"), "the upstream gradient is called grad_output= here"),
                         outputs="it is called output= here (one Value)",
                         grad_outputs="it is called grad_output= here",
                         retain_graph="not needed: the graph is kept as it was, and can be differentiated again",
                         allow_unused="not needed: an input the output does not depend on gets zeros")
def gradients(output: Value, inputs: Sequence[Value], grad_output: Any = None, *,
              create_graph: bool = False) -> list[Value]:
    """∂output/∂input for each of ``inputs`` (Values that ``output`` was computed from), by one backward pass.

    ``grad_output`` is ∂C/∂output (default 1, for an output of one number).  An input the output does not depend
    on gets zeros.  With ``create_graph`` the results are recorded Values (differentiable again); otherwise
    constants.  Unlike ``output.backward()`` it leaves every ``.grad`` in the graph as it was.  As in PyTorch, an
    output that holds no graph and an input with ``requires_grad=False`` are refused: no backward pass computes
    their derivatives, and zeros would be wrong for what was computed under ``no_grad``.  (A derivative that came
    out constant, such as the ``3`` of ``3 * x``, holds no graph either: ``autodiff.grad`` differentiates it to 0.)

    >>> x = Value(3.0)
    >>> y = x * x
    >>> gradients(y, [x])[0].data, x.grad                  # dy/dx = 2x; x.grad untouched
    (array(6.), None)
    """
    inputs = _inputs(inputs, "gradients")
    checks.flag(create_graph, "create_graph", "gradients")
    _check_grad_output(grad_output, output)
    _check_recorded(output, inputs, "gradients")
    return _pull(output, inputs, [grad_output], create_graph, "gradients")[0][0]


def _check_recorded(output: Any, inputs: list[Any], name: str) -> None:
    """The output and inputs of ``gradients`` (or ``gradient_and_hessian``) must take part in a backward pass; else
    an error naming the one at fault (after ``_pull``'s, for what is not a Value)."""
    if not all(isinstance(x, Value) for x in [output, *inputs]):
        return
    if not output.requires_grad:
        raise ValueError(f"{name}: the output does not require a gradient, so it holds no graph to "
                         "differentiate. If it was computed under no_grad(), compute it again with recording on; if "
                         "it is a derivative taken without create_graph=True (by gradients() or backward()), take "
                         "it again with create_graph=True; if it is a constant (the derivative of 3 * x is), its "
                         "derivatives are 0: autodiff.grad of a function gives them")
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise ValueError(f"{name}: input {i} (shape {x.shape}) does not require a gradient, so no backward "
                             "pass computes its derivative; set its requires_grad = True (or make it with "
                             "Value(..., requires_grad=True))")


def _check_grad_output(grad_output: Any, output: Any) -> None:
    """``gradients``' grad_output: None, or numbers (a Value) of the output's shape; else an error naming it."""
    if not isinstance(output, Value):  # an output that _pull refuses
        return
    if grad_output is None:
        if output.size != 1:
            raise ValueError(f"gradients: the output has shape {output.shape}, so it needs grad_output of that "
                             "shape; only an output of size 1 (like a cost) gets the default of 1")
        return
    if isinstance(grad_output, (bool, np.bool_)):
        raise TypeError(f"gradients: grad_output must be numbers, not the bool {grad_output!r}")
    if not isinstance(grad_output, Value) and _holds_booleans(grad_output):  # (a mask in the place of v, most likely)
        raise TypeError(f"gradients: grad_output must be numbers, not booleans (shape {np.shape(grad_output)}); for "
                        "the numbers 1 and 0 give it as floats, np.asarray(grad_output, dtype=float)")
    try:
        shape = grad_output.shape if isinstance(grad_output, Value) else Value(grad_output).shape
    except (TypeError, ValueError) as error:
        raise type(error)(f"gradients: grad_output: {str(error).removeprefix('Value: ')}") from None
    if shape != output.shape:
        raise ValueError(f"gradients: grad_output has shape {shape} but the output has shape {output.shape}")


def gradient_and_hessian(output: Value, inputs: Sequence[Value]) -> tuple[np.ndarray, np.ndarray]:
    """∇ and the Hessian ∇² of a single-number ``output`` with respect to all ``inputs`` together, flattened in
    order (the parameters of a network as one vector of length n): a float64 vector of n and an n × n matrix
    (empty for n = 0).

    One recorded backward pass gives ∇ as Values; then one backward pass per parameter gives a row of the
    Hessian, n passes in all, which is why the matrix gets expensive for many parameters (seed 6.1).

    >>> w, b = Value(2.0), Value(1.0)
    >>> slope, curvature = gradient_and_hessian(w * w * b, [w, b])     # ∇ = (2wb, w²)
    >>> slope, curvature
    (array([4., 4.]), array([[2., 4.],
           [4., 0.]]))
    """
    if not isinstance(output, Value):
        raise TypeError(f"gradient_and_hessian: the output must be a Value, got {type(output).__name__}")
    if output.size != 1:
        raise ValueError(f"gradient_and_hessian: the output must hold a single number (a cost), got a Value of shape "
                         f"{output.shape}; for the Jacobian of several outputs (residuals r, whose JᵀJ is the "
                         "Gauss-Newton matrix), gradients(output, inputs, grad_output=e) is its row for each e of "
                         "the output's shape holding 1 at one element and 0 elsewhere (autodiff.jacobian(f) gives it "
                         "whole for a function f)")
    inputs = _inputs(inputs, "gradient_and_hessian")
    _check_recorded(output, inputs, "gradient_and_hessian")
    if not inputs:  # no parameters: an empty gradient and a 0 × 0 Hessian
        return np.zeros(0), np.zeros((0, 0))
    with enable_grad():  # (inside no_grad too: ∇ must be recorded, or its derivatives are those of a constant)
        first = _pull(output, inputs, [None], True, "gradient_and_hessian")[0][0]
        flat = F.concatenate([g.reshape(-1) for g in first])
    n = flat.size
    rows = _pull(flat, inputs, _units(flat), False, "gradient_and_hessian")[0]
    matrix = np.array([np.concatenate([g.data.ravel() for g in row]) for row in rows], dtype=np.float64)
    return np.array(flat.data, dtype=np.float64), matrix.reshape(n, n)


def _pull(output: Value, inputs: list[Value], upstreams: Iterable[Any], create_graph: bool | None,
          name: str) -> tuple[list[list[Value]], bool]:
    """One backward pass per upstream gradient (taken one at a time); for each, ∂⟨upstream, output⟩/∂input for
    every input.  The ``.grad`` of every computed Value the passes write is saved first and put back afterwards; the
    leaves' gradients go to ``CAPTURED_GRADIENTS``, not to their ``.grad`` (another thread may be using it).
    ``create_graph=None``: record the passes if the graph holds a leaf that is not one of ``inputs`` (a Value of the
    caller's, or of an enclosing transform, that the result must stay connected to).  Also returns whether the
    passes were recorded."""
    for i, x in enumerate([output, *inputs]):
        if not isinstance(x, Value):
            raise TypeError(f"{name}: output and inputs must be Values, got {type(x).__name__} "
                            + ("as the output" if i == 0 else f"as input {i - 1}"))
    wanted = [x for x in inputs if x.requires_grad]  # (copies of Values bound the walk: Value.backward's inputs)
    if not (output.requires_grad and wanted):
        return [[_as_result(None, x) for x in inputs] for _ in upstreams], False
    try:
        visited, others, alone = backward_reach(output, wanted)
    except ValueError as error:  # a stale graph: say who was called
        raise ValueError(f"{name}: {str(error).removeprefix('backward_reach: ')}") from None
    create_graph = others if create_graph is None else create_graph
    # Fast path: when every Value the walk visits leads to one of the inputs, all of them computed (the transforms'
    # copies, with nothing of the caller's behind them), a plain backward() walks the same Values and writes the same
    # .grad, without finding which Values lead to the inputs (a third of value_and_grad's cost at n = 10)
    alone = alone and all(x.op is not None for x in wanted)
    # The passes write the .grad of computed Values only: the leaves' gradients, a model's weights' too, are captured
    # (CAPTURED_GRADIENTS), so a .grad that a training loop in another thread fills and reads is left alone
    written = [node for node in [*visited, *inputs] if node.op is not None]
    saved = [(node, node.grad) for node in written]
    results = []
    setup = WALK_SETUP.set([output, wanted, visited])  # (the graph does not change between the passes: which Values
    noted = LEAF_WRITES.set(None)  # (lead to the inputs is found by the first, not for each row; the passes' writes
    try:                           # are put back here, not noted for an enclosing transform)
        for upstream in upstreams:
            for node in written:  # an input the pass does not reach must come back as zeros
                node.grad = None
            captured: dict[int, Any] = {}
            token = CAPTURED_GRADIENTS.set(captured)
            try:
                output.backward(upstream, create_graph=create_graph, inputs=None if alone else wanted)
            finally:
                CAPTURED_GRADIENTS.reset(token)
            results.append([_as_result(x.grad if x.op is not None else captured.get(id(x)), x) for x in inputs])
    finally:
        WALK_SETUP.reset(setup)
        LEAF_WRITES.reset(noted)
        for node, old in saved:
            node.grad = old
    return results, create_graph


def _units(output: Value) -> Iterator[np.ndarray]:
    """The upstream gradients of a Jacobian's rows: for each element of ``output``, an array of its shape and dtype
    holding 1 there and 0 elsewhere, made one at a time (all n at once, an identity matrix, would take n² numbers:
    32 GB for an output of 64,000)."""
    for i in range(output.size):
        unit = np.zeros(output.size, dtype=output.dtype)
        unit[i] = 1
        yield unit.reshape(output.shape)


def _inputs(inputs: Any, name: str) -> list[Value]:
    """``inputs`` as a list; a single Value, or anything that is not a sequence, is a TypeError naming ``name``.  A
    dict (a pytree of parameters, a ``state_dict``) would give its keys, and ``named_parameters()`` its pairs: each is
    an error saying to pass the Values (the derivatives come back in their order)."""
    if isinstance(inputs, Mapping):
        raise TypeError(f"{name}: inputs must be a list of Values, got a {type(inputs).__name__}, whose keys would be "
                        "taken; give its Values, list(params.values()): the results come in their order")
    if isinstance(inputs, Value):  # (torch.autograd.grad(y, x) takes one tensor)
        raise TypeError(f"{name}: inputs must be a list of Values, got a Value: give [x] (the derivatives come back "
                        "as a list, one per input)")
    if callable(getattr(inputs, "parameters", None)):  # a Network (iterating gives its layers) or a Layer
        raise TypeError(f"{name}: inputs must be a list of Values, got the model itself (a {type(inputs).__name__}); "
                        "give its parameters, model.parameters() (the derivatives come in their order)")
    if isinstance(inputs, (np.ndarray, str, bytes)) or not isinstance(inputs, Iterable):
        raise TypeError(f"{name}: inputs must be a list of Values, got {type(inputs).__name__}")
    inputs = list(inputs)
    if any(isinstance(x, tuple) and len(x) == 2 and isinstance(x[1], Value) for x in inputs):
        raise TypeError(f"{name}: inputs must be a list of Values, got (name, Value) pairs, as named_parameters() "
                        "gives them; give model.parameters(), or the Values of dict(model.named_parameters())")
    return inputs


def _as_result(g: Any, x: Value) -> Value:
    """A pass's gradient for input ``x`` as a Value; zeros of its shape where the pass did not reach it."""
    if g is None:
        return Value(np.zeros(x.shape, dtype=x.dtype), requires_grad=False)
    return g if isinstance(g, Value) else Value(g, requires_grad=False)


def _input(x: Any, name: str, position: int) -> Value:
    """The Value a transform differentiates with respect to: a recorded copy, of a Value in a graph (so the
    derivative stays connected to it, and an argument given twice counts as two arguments) or of a fresh leaf made
    of numbers, lists, arrays or a Value without a gradient.  That leaf then needs no gradient itself: the passes stop
    at the copy (towards a leaf they would go through every Value made before it, the whole history of a Value f
    uses from outside), and the leaf is no Value of the caller's for ``backward_reach``."""
    if isinstance(x, Value) and x.requires_grad:
        return _copy(x)
    if isinstance(x, Value):
        leaf = Value(x.data)
        leaf.label = x.label  # (set by hand, it may be anything: copied as it is)
    else:
        _refuse_booleans(x, name, position)
        try:
            leaf = Value(x)
        except (TypeError, ValueError) as error:
            several = (_ONE_VECTOR if name == "hvp" else
                       "give each array as an argument of its own (argnums picks the ones to differentiate)")
            pytree = (f"; a {type(x).__name__} of arrays is not one argument here (no pytrees, which JAX and "
                      f"torch.func take): {several}" if isinstance(x, dict | tuple | list) else "")
            raise type(error)(f"{name}: argument {position} must be a number, a nested list, a numpy array or a "
                              f"Value, got {type(x).__name__} {x!r:.40} ({error}){pytree}") from None
    copy = _copy(leaf)
    leaf.requires_grad = False
    return copy


def _calling(f: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> Any:
    """``f(*args, **kwargs)``, with every ``.grad`` that a ``backward()`` f calls itself wrote (to read ``p.grad``,
    as ``backward(create_graph=True)`` lets it) put back afterwards where it is still in place: a model's weights',
    the arguments' (through the copies) and those of the computed Values the walk went through alike, while another
    thread's write meanwhile is kept (``LEAF_WRITES``)."""
    writes: list[tuple[Value, Any, Any]] = []
    token = LEAF_WRITES.set(writes)
    try:
        return f(*args, **kwargs)
    finally:
        LEAF_WRITES.reset(token)
        for value, old, new in reversed(writes):  # (latest first: one written twice goes back to its first .grad)
            if value.grad is new and new is not old:  # (a .grad that the walk left as it was is not written)
                value.grad = old


def _copy(x: Value) -> Value:
    """``x`` copied by a recorded operation, with its label."""
    copy = apply(ops.reshape, x, shape=x.shape)
    copy.label = x.label
    return copy


def _holds_booleans(x: Any) -> bool:
    """Whether ``x`` (not a Value) is a bool array or a nested list of bools; False for what numpy cannot read."""
    try:
        return bool(np.asarray(x).dtype == np.bool_)
    except (TypeError, ValueError):  # (Value's own error says what is wrong)
        return False


def _refuse_booleans(x: Any, name: str, position: int) -> None:
    """True and False (or a mask) have no derivative: differentiated as the numbers 1 and 0 they gave a silent
    answer for what is most likely an argument in the wrong place.  JAX and torch.func refuse them too."""
    if _holds_booleans(x):
        skip = " (a mask or a flag: leave it out of argnums)" if name != "hvp" else ""
        raise TypeError(f"{name}: argument {position} holds booleans (shape {np.shape(x)}), which have no "
                        f"derivative{skip}; for the numbers 1 and 0 give it as floats, np.asarray(x, dtype=float)")


def _argnums_type(argnums: Any, name: str) -> tuple[Any, ...]:
    """``argnums`` as a tuple, if it is an int or a non-empty tuple of ints; else a TypeError naming ``name``."""
    numbers = argnums if isinstance(argnums, tuple) else (argnums,)
    if not numbers or any(isinstance(i, bool) or not isinstance(i, (int, np.integer)) for i in numbers):
        raise _argnums_error(argnums, name, "an int or a non-empty tuple of ints")
    return numbers


def _argnums_error(argnums: Any, name: str, wanted: str, advice: str = "") -> TypeError:
    """argnums is not ``wanted``: ints in a list or tuple get ``advice``; anything else, most likely the point
    (PyTorch's ``jacobian(f, x)``), is told how to call the transform here."""
    if not (isinstance(argnums, list | tuple) and all(isinstance(i, int | np.integer) for i in argnums)):
        advice = (f"; argnums picks f's arguments by position: to differentiate at a point x, call the function "
                  f"{name} returns, {name}(f)(x), not {name}(f, x), which passes x as argnums")
    return TypeError(f"{name}: argnums must be {wanted}, got {argnums!r:.60}{advice}")


def _argnums(argnums: Any, count: int, name: str, keywords: Iterable[str] = ()) -> tuple[int, ...]:
    numbers = _argnums_type(argnums, name)
    if any(not -count <= i < count for i in numbers):
        given = ", ".join(f"{key}=" for key in keywords)
        raise ValueError(f"{name}: argnums {argnums!r} is out of range for a call with {count} positional "
                         "argument(s)" + (f"; keyword arguments ({given}) are not differentiated: pass the one to "
                                          "differentiate by position" if given else ""))
    positions = tuple(int(i) % count for i in numbers)
    if len(set(positions)) != len(positions):
        raise ValueError(f"{name}: argnums {argnums!r} names an argument twice")
    return positions


def _output(out: Any, name: str, scalar: bool, f: Any = None) -> Value:
    """f's result, which must be a Value; a transform of a cost needs a single number.  A plain number or array
    cannot depend on the arguments, so its derivative would be a silent 0 (as in ``torch.func``, it is refused)."""
    if not isinstance(out, Value):
        got = _tuple_of_a_transform(out, f) or _why_not_a_value(out, scalar)
        raise TypeError(f"{name}: f must return a Value, got {got}")
    if scalar and out.size != 1:
        several = ("jacobian(jacobian(f)) gives the second derivatives of each output" if name in ("hessian", "hvp")
                   else "use jacobian for a function with several outputs")
        raise ValueError(f"{name}: f must return a single number (a cost), got a Value of shape {out.shape}; "
                         f"{several}")
    return out


def _tuple_of_a_transform(out: Any, f: Any) -> str | None:
    """What to say of a tuple that ``f``, itself a transform that returns one (value_and_grad, grad with a tuple of
    argnums: its ``_tuple_holds``), returned: differentiated again (``grad(value_and_grad(f))``), the tuple is the
    transform's, not a ``has_aux`` pair of f's own; None for any other result."""
    held = getattr(f, "_tuple_holds", None) if isinstance(out, tuple) else None
    return None if held is None else f"a tuple of {len(out)}, {held}"


def _why_not_a_value(out: Any, scalar: bool) -> str:
    """What f returned instead of a Value, and what to do about it (a transform of a cost, ``scalar``, given
    ``return cost, aux`` as for JAX's and torch.func's ``has_aux=True``: not to stack them into several outputs)."""
    if out is None:
        return "None (does f end with return?)"
    if isinstance(out, tuple | Mapping) and scalar:  # (JAX's has_aux pair; a dict of the cost and metrics)
        return (f"a {type(out).__name__} of {len(out)}; f must return its cost alone, one Value of a single number: "
                "there is no has_aux here, so compute any other result outside f")
    if isinstance(out, list | tuple | Mapping):
        return (f"a {type(out).__name__} of {len(out)}; a transform differentiates one Value: combine them, e.g. "
                "with F.stack")
    shown = f"of shape {np.shape(out)}" if np.ndim(out) else (f"{out!r:.40}" if isinstance(out, str) else str(out)[:40])
    return (f"{type(out).__name__} {shown}; a plain number or array cannot depend on the arguments "
            "(float(x), x.item(), x.data and math.* step out of the graph), so its derivative would be a silent 0: "
            "compute with Value operations, and return Value(c) for a constant")


def _check_callable(f: Any, name: str) -> None:
    if not callable(f):  # a Value first: PyTorch's torch.autograd.grad(y, x) differentiates a result, not a function
        computed = ("; for the derivatives of a Value already computed (torch.autograd.grad(y, x)), use "
                    "autodiff.gradients(y, [x])" if isinstance(f, Value) else "")
        raise TypeError(f"{name}: f must be a function, got {type(f).__name__}{computed}")


_Transform = TypeVar("_Transform", bound=Callable[..., Any])


def _recording(transform: _Transform) -> _Transform:
    """``transform`` run with recording on, as ``torch.func`` runs its transforms: inside ``no_grad()`` it still
    differentiates (a ``no_grad`` inside ``f`` is kept), and what it returns there is detached, connected to none of
    the caller's Values."""

    @functools.wraps(transform)
    def run(*args: Any, **kwargs: Any) -> Any:
        if is_grad_enabled():
            return transform(*args, **kwargs)
        with enable_grad():
            return _detached(transform(*args, **kwargs))

    return cast(_Transform, run)


def _named(transformed: _Transform, f: Callable[..., Any], what: str) -> _Transform:
    """``transformed`` under ``f``'s name (a partial or a Network by its type's), with ``__wrapped__`` = f and f's
    parameters, as ``torch.func`` and JAX name theirs, and a docstring that says what it computes.  Naming is for
    show: a callable whose attributes or signature cannot be read leaves the transform its own."""
    try:
        functools.update_wrapper(transformed, f, updated=())
        name = getattr(f, "__name__", None)
        name = name if isinstance(name, str) else type(f).__name__
        qualname = getattr(f, "__qualname__", None)
        transformed.__name__, transformed.__qualname__ = name, qualname if isinstance(qualname, str) else name
        transformed.__doc__ = f"The {what} of {name}, as a function of the same arguments."
        # f's parameters, not its return annotation: the transform returns something else (in a dict of its own:
        # update_wrapper shared f's, so typing.get_type_hints said a value_and_grad returns f's Value)
        annotations = getattr(f, "__annotations__", None)
        if isinstance(annotations, dict):
            transformed.__annotations__ = {key: kind for key, kind in annotations.items() if key != "return"}
        signature = inspect.signature(f).replace(return_annotation=inspect.Signature.empty)
        transformed.__signature__ = signature  # type: ignore[attr-defined]
    except Exception:  # (any error of a user's attribute or signature: see above)
        pass
    return transformed


def _detached(result: Any) -> Any:
    """A transform's result (a Value, or tuples of them) detached from every graph."""
    return tuple(_detached(part) for part in result) if isinstance(result, tuple) else result.detach()


@overload
def value_and_grad(f: Callable[..., Any], argnums: int = 0) -> Callable[..., tuple[Value, Value]]: ...
@overload
def value_and_grad(f: Callable[..., Any],
                   argnums: tuple[int, ...]) -> Callable[..., tuple[Value, tuple[Value, ...]]]: ...
@checks.pytorch_keywords(has_aux=_NO_AUX, **_JAX_GRAD)
def value_and_grad(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., tuple[Value, Any]]:
    """A function returning ``(f(*args), ∇f)``: ``∇f`` is one Value shaped like ``args[argnums]``, or a tuple of
    them when ``argnums`` is a tuple.  ``f`` must return a single number.  Keyword arguments go to ``f`` as they
    are, not differentiated (as in JAX and ``torch.func``).

    >>> value, slope = value_and_grad(lambda w, b: (w * 2.0 + b - 1.0) ** 2, argnums=(0, 1))(1.0, 0.0)
    >>> float(value), [float(s) for s in slope]          # C = (2w + b − 1)², ∂C/∂w = 4(2w + b − 1)
    (1.0, [4.0, 2.0])
    """
    _check_callable(f, "value_and_grad")
    _argnums_type(argnums, "value_and_grad")  # now, not at the first call: value_and_grad(f, x) is PyTorch's idiom
    transformed = _named(_value_and_grad(f, argnums, "value_and_grad"), f, "value and gradient")
    transformed._tuple_holds = (  # type: ignore[attr-defined]  # (see _tuple_of_a_transform)
        "the pair (value, gradient) that value_and_grad(f) returns: differentiate f itself (grad(f) is its gradient), "
        "or its gradient, jacobian(grad(f)), which is hessian(f)")
    return transformed


def _value_and_grad(f: Callable[..., Any], argnums: Any, name: str) -> Callable[..., tuple[Value, Any]]:
    """value_and_grad, with errors naming the transform ``name`` the user called."""

    @_recording
    def transformed(*args: Any, **kwargs: Any) -> tuple[Value, Any]:
        positions = _argnums(argnums, len(args), name, kwargs)
        inputs = {i: _input(args[i], name, i) for i in positions}
        result = _calling(f, [inputs.get(i, a) for i, a in enumerate(args)], kwargs)
        out = _output(result, name, scalar=True, f=f)
        (found,), recorded = _pull(out, list(inputs.values()), [None], None, name)
        value = out if recorded else out.detach()  # connected to the caller's Values, or a plain number
        return value, (tuple(found) if isinstance(argnums, tuple) else found[0])

    return transformed


@overload
def grad(f: Callable[..., Any], argnums: int = 0) -> Callable[..., Value]: ...
@overload
def grad(f: Callable[..., Any], argnums: tuple[int, ...]) -> Callable[..., tuple[Value, ...]]: ...
@checks.pytorch_keywords(has_aux=_NO_AUX, **_JAX_GRAD)
def grad(f: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """The gradient of ``f`` (which returns a single number) as a function of the same arguments; keyword
    arguments go to ``f`` as they are.

    ``grad(grad(f))`` is the second derivative, and so on to any order:

    >>> import tinygrad_edu.functional as F
    >>> d3 = grad(grad(grad(F.tanh)))              # tanh‴ = −2(1 − tanh²)(1 − 3tanh²)
    >>> round(float(d3(0.5)), 6)
    -0.565209
    """
    _check_callable(f, "grad")
    _argnums_type(argnums, "grad")  # now, not at the first call: grad(f, x) is PyTorch's idiom
    transformed = _named(_gradient_only(_value_and_grad(f, argnums, "grad")), f, "gradient")
    if isinstance(argnums, tuple):
        transformed._tuple_holds = (  # type: ignore[attr-defined]
            f"the gradients that grad(f, argnums={argnums!r}) returns, one per argument: differentiate one of them, "
            "jacobian(grad(f, argnums=i), argnums=j) for the second derivatives in arguments i and j")
    return transformed


def _gradient_only(transformed: Callable[..., tuple[Value, Any]]) -> Callable[..., Any]:
    """The gradient alone, of a value_and_grad."""
    return lambda *args, **kwargs: transformed(*args, **kwargs)[1]


@checks.pytorch_keywords(has_aux=_NO_AUX, create_graph=_RECORDED, strict=_STRICT, **_JAX_GRAD, **_REVERSE,
                         chunk_size="not needed: the rows are taken one at a time, one backward pass per output "
                                    "element, as torch.func's chunk_size=1 takes them")
def jacobian(f: Callable[..., Any], argnums: int = 0) -> Callable[..., Value]:
    """The Jacobian of ``f`` with respect to argument ``argnums`` (one int): a Value of shape
    ``f(x).shape + x.shape`` whose entry ``[i, j]`` is ∂f_i/∂x_j (one backward pass per output element; an empty
    Value when f(x) or x is empty).  Keyword arguments go to ``f`` as they are.

    >>> jacobian(lambda x: x * x)([1.0, 2.0]).data       # diag(2x)
    array([[2., 0.],
           [0., 4.]])
    """
    _check_callable(f, "jacobian")
    _one_argnum(argnums, "jacobian")
    return _named(_jacobian(f, argnums, "jacobian"), f, "Jacobian")


def _jacobian(f: Callable[..., Any], argnums: int, name: str) -> Callable[..., Value]:
    """jacobian, with errors naming the transform ``name`` the user called."""

    @_recording
    def transformed(*args: Any, **kwargs: Any) -> Value:
        (position,) = _argnums(argnums, len(args), name, kwargs)
        x = _input(args[position], name, position)
        result = _calling(f, [*args[:position], x, *args[position + 1:]], kwargs)
        out = _output(result, name, scalar=False, f=f)
        if out.size == 0:  # no output element, no backward pass
            return Value(np.zeros(out.shape + x.shape, dtype=x.dtype), requires_grad=False)
        rows = [row[0] for row in _pull(out, [x], _units(out), None, name)[0]]
        return F.stack(rows).reshape(out.shape + x.shape)

    return transformed


@checks.pytorch_keywords(has_aux=_NO_AUX, create_graph=_RECORDED, strict=_STRICT, **_JAX_GRAD, **_REVERSE)
def hessian(f: Callable[..., Any], argnums: int = 0) -> Callable[..., Value]:
    """The matrix of second derivatives ∂²f/∂x_i∂x_j of a single-number ``f``: ``jacobian(grad(f))``, of shape
    ``x.shape + x.shape``.  Its eigenvalues say whether a point where ∇f = 0 is a minimum (all > 0), a maximum
    (all < 0) or a saddle (both signs): the second-derivative test of seed section 6.1.

    >>> hessian(lambda p: (p ** 2).sum() + p[0] * p[1])([0.0, 0.0]).data
    array([[2., 1.],
           [1., 2.]])
    """
    _check_callable(f, "hessian")
    _one_argnum(argnums, "hessian")
    return _named(_jacobian(_gradient_only(_value_and_grad(f, argnums, "hessian")), argnums, "hessian"), f, "Hessian")


def _one_argnum(argnums: Any, name: str) -> None:
    if isinstance(argnums, bool) or not isinstance(argnums, (int, np.integer)):
        several = (" (for several arguments, call jacobian once per argument)" if name == "jacobian" else
                   " (for several arguments, hessian(f, argnums=i) gives the block ∂²f/∂xᵢ² of each, and "
                   "jacobian(grad(f, argnums=i), argnums=j) the mixed blocks ∂²f/∂xᵢ∂xⱼ, which calls of hessian "
                   "alone leave out)")
        raise _argnums_error(argnums, name, "one int", several)


@checks.pytorch_keywords(inputs=f"it is called x= here; {_HVP_RESULT}",
                         create_graph=f"{_RECORDED}; {_HVP_RESULT}", strict=_STRICT)
@_recording
def hvp(f: Callable[[Value], Any], x: Any, v: Any) -> Value:
    """The Hessian-vector product ``H(x)·v`` of a single-number ``f`` without forming ``H``: one backward pass
    recording ∇f (``create_graph``), then one backward pass of ⟨∇f, v⟩, whose gradient is ``H·v``.

    Returns ``H·v`` **alone**, a Value shaped like ``x``: not the pair ``(f(x), H·v)`` that
    ``torch.autograd.functional.hvp`` returns.  Unpacked the PyTorch way, ``_, hv = hvp(f, x, v)`` splits ``H·v``
    itself: for an ``x`` of length 2, ``hv`` is silently the second entry (or row) of ``H·v``; other lengths fail
    with "too many" or "not enough values to unpack", and a number with "cannot be iterated".  Write
    ``hv = hvp(f, x, v)``, and call ``f(x)`` for the value.

    >>> hvp(lambda p: (p ** 3).sum(), [1.0, 2.0], [1.0, 1.0]).data     # H = diag(6x)
    array([ 6., 12.])

    ``x`` is one array.  For Values you already have, such as a model's parameters, :func:`gradients` twice gives
    ``H·v`` with no flattening (PyTorch's ``torch.autograd.grad`` recipe): a recorded gradient, then the gradient of
    ⟨∇C, v⟩, with ``v`` one array per parameter; the recorded gradient serves any number of products.

    >>> w, b = Value([1.0, 2.0]), Value(3.0)                  # C = b·Σw³: ∂²C/∂w² = diag(6wb), ∂²C/∂w∂b = 3w²
    >>> slope = gradients((w ** 3).sum() * b, [w, b], create_graph=True)
    >>> [h.data for h in gradients((slope[0] * [1.0, 0.0]).sum() + slope[1] * 1.0, [w, b])]   # v = ((1, 0), 1)
    [array([21., 12.]), array(3.)]
    """
    name = "hvp"
    _check_callable(f, name)
    point = _input(x, name, 1)
    direction = v if isinstance(v, Value) else _input(v, name, 2).detach()
    if direction.shape != point.shape:
        raise ValueError(f"hvp: v has shape {direction.shape} but x has shape {point.shape}; they must match")
    try:
        result = _calling(f, [point], {})
    except TypeError:
        # (looked at once the call has failed: a good call costs nothing more)
        checks.one_argument(f, name, "x", f"{_ONE_VECTOR}; functools.partial(f, c=...) for an argument that "
                            "stays fixed")
        raise
    out = _output(result, name, scalar=True, f=f)
    slope = _pull(out, [point], [None], True, name)[0][0][0]
    inner = (slope * direction).sum()
    return _pull(inner, [point], [None], None, name)[0][0][0]


#: The double-vjp trick, for J·v (jvp) and the columns of a Jacobian (jacfwd) with no forward mode: uᵀJ, recorded,
#: is linear in u, so its gradient in u along v is J·v (two backward passes, whatever the sizes)
_DOUBLE_VJP = ("for y = f(x) computed from a Value x and u = Value(np.zeros(y.shape)), g = gradients(y, [x], "
               "grad_output=u, create_graph=True)[0] is uᵀJ")

#: torch.func's and JAX's transforms that have another name here, or none, looked for as autodiff.jacrev, … (shared:
#: tinygrad_edu's own __getattr__ says the same of tinygrad_edu.jacrev, JAX's transforms being top-level names there)
OTHER_NAMES = {
    "jacrev": "use jacobian(f, argnums) (one backward pass per output element, as jacrev's)",
    "jacfwd": "use jacobian(f, argnums): there is no forward mode here, and the Jacobian is the same, by one backward "
              "pass per output element; for many more outputs than inputs (what jacfwd is for), take it by columns, "
              f"one backward pass per input element: {_DOUBLE_VJP}, and gradients(g.reshape(-1)[j], [u])[0] is "
              "∂y/∂x_j, shaped like y, for x's element j (flattened)",
    "grad_and_value": "use value_and_grad(f, argnums): the pair the other way round, (f(x), ∇f), as JAX's",
    "vjp": "use gradients(f(x), [x], grad_output=v) for vᵀJ, on a Value f(x) computed from a Value x",
    "vhp": "use hvp(f, x, v): a Hessian is symmetric, so vᵀH is H·v (returned alone, not PyTorch's pair (f(x), vᵀH))",
    "stop_gradient": "use x.detach(), the same numbers connected to nothing (jax.lax.stop_gradient's)",
    **dict.fromkeys(("jvp", "linearize"),
                    f"there is no forward mode here, but J·v takes two backward passes (the double-vjp trick): "
                    f"{_DOUBLE_VJP}, and gradients((g * v).sum(), [u])[0] is J·v; contracting jacobian(f)(x) with v "
                    "over x's axes gives the same numbers by one backward pass per element of y (for 1,000 of them, "
                    "seconds where the trick takes milliseconds)"),
    "jit": "there is nothing to compile here: each operation runs at once on numpy arrays, so call f itself (and, for "
           "speed, give it a whole batch, one sample a row)",
    "custom_vjp": "write an Op: Op(name, forward, vjps) (from tinygrad_edu import Op), a forward on numpy arrays and "
                  "one vjp(g, out, *inputs) per input (a sequence of them for several) returning g times the local "
                  "derivative; written with operators, it can be differentiated again",
    "custom_jvp": "there is no forward mode here: give the derivative as a vjp, in an Op(name, forward, vjp) (from "
                  "tinygrad_edu import Op), vjp(g, out, *inputs) returning g times the local derivative",
    "vmap": "there is no vmap: operations take whole arrays, so give f a batch (one sample a row), or loop",
    "functional_call": "there is no functional_call: a model's parameters are its own Values, so compute the cost "
                       "with the model itself and differentiate it, gradients(cost, list(params.values())) for "
                       "params = dict(model.named_parameters()); model.load_state_dict(state) copies other numbers "
                       "in (copies: the state's own Values are not differentiated)"}

if not TYPE_CHECKING:  # (hidden from type checkers, which would otherwise take autodiff.any_typo for a name)
    @checks.advice_on_import
    def __getattr__(name: str) -> Any:
        """torch.func's and JAX's ``autodiff.jacrev``, ``autodiff.vmap`` and minitorch's
        ``autodiff.topological_sort``: an AttributeError saying what to write here."""
        if name in OTHER_NAMES:
            raise checks.other_library_name(__name__, name, "torch.func / JAX", OTHER_NAMES[name])
        raise checks.minitorch_name(__name__, name)


def __dir__() -> list[str]:
    """``dir()`` of this module lists its API (``__all__``), not its helpers and imports."""
    return sorted(__all__)
