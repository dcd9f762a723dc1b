"""Random expression graphs for fuzzing gradients in composition: :func:`expressions` and :class:`Expression`.

Each operation is property-tested alone elsewhere; many defects only show when operations meet: a node used
twice (fan-out), a gradient broadcast back in the other direction, a reduction over a negative axis of a
reshaped transpose, a number on the left of ``**``.  :func:`expressions` draws whole graphs of 3 to 25 nodes
from every registered operation (and your own :class:`~tinygrad_edu.Op` objects), with inputs kept in each
operation's domain and off its kinks, so that central finite differences are a valid reference.

A drawn :class:`Expression` is a small program: ``expr(*values)`` evaluates it on Values, ``expr.inputs`` are
its float64 inputs, and ``print(expr)`` shows a runnable Python program reproducing it and checking its derivatives
to the third order, which is what hypothesis prints for a failing example (your own Ops are imported from the
module that defines them, else defined as their source writes them, else named in a comment saying what to paste)::

    from hypothesis import given
    from tinygrad_edu.testing import check_gradients
    from tinygrad_edu.testing.strategies import expressions

    @given(expressions())
    def test_gradients_in_composition(expr):
        check_gradients(expr, *expr.inputs)

Each node is written as one line of Python (``v3 = F.softmax(v1 * c0, axis=-2)``); the graph is drawn by a small
table of node builders (:data:`BUILDERS`), each of which writes one kind of line.  While drawing, every line is
evaluated with plain numpy (:data:`NUMPY`, an independent reference): a line whose numbers leave the safe range
(not finite, larger than 100, more than 64 elements, too near a kink) is dropped and another one drawn.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import keyword
import linecache
import re
import sys
import textwrap
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from types import SimpleNamespace
from typing import Any, cast

import numpy as np

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as error:  # (as in strategies, which imports this module)
    raise ImportError("tinygrad_edu.testing.expressions needs hypothesis; install the testing extra: "
                      'pip install hypothesis (or pip install ".[testing]" in the tinygrad_edu folder)') from error

import tinygrad_edu.functional as functional
from tinygrad_edu import checks, losses, ops
from tinygrad_edu.engine import Value, no_grad
from tinygrad_edu.ops import Op

__all__ = ["expressions", "Expression", "OpSpec", "NUMPY", "BUILDERS"]

#: Largest magnitude a node may hold: finite differences (ε = 1e-6) stay accurate to ~1e-8 below it.
LIMIT = 100.0
#: Most elements a node may hold (finite differences cost two evaluations per input element).
MAX_SIZE = 64
#: How far every input of relu/abs/leaky_relu/maximum stays from its kink, a maximum from the runner-up, and a
#: positive operand (of log, sqrt, a divisor, a power's base) from 0, where its slopes grow without bound: a divisor
#: of e⁻⁵⁰ made x²/d overflow within a finite-difference step of x = 0 (the thorough fuzz found it).
KINK_MARGIN = 1e-2
DOMAINS = ("real", "positive", "unit")


@dataclass(frozen=True)
class OpSpec:
    """How :func:`expressions` may call your own :class:`~tinygrad_edu.Op` inside random graphs.

    ``domain`` says where its inputs must lie: ``"real"`` (anywhere), ``"positive"`` (> 0, e.g. a logarithm; kept at
    least :data:`KINK_MARGIN` above 0) or ``"unit"`` (inside (−1, 1), e.g. arcsine); one for all inputs or a tuple
    with one per input.  Inputs are kept :data:`KINK_MARGIN` away from each point of ``kinks`` (where the op is not
    differentiable), by a helper node (``x + 0.5``, …) where needed.  ``params`` is a hypothesis strategy of
    keyword-argument dicts (e.g. ``st.fixed_dictionaries({"alpha": st.floats(0, 1)})`` or
    ``st.just({"alpha": 0.5})``), whose keywords the forward and every vjp must take; numbers, strings, tuples and
    numpy arrays print as source in the program.  ``broadcasts=False`` gives every input the same shape.  A bare Op
    in ``extra_ops`` means ``OpSpec(op)``.
    Where the forward raises (a shape it does not take), that node is left out and another one drawn.
    What is called when: making the strategy (``expressions(...)``, often at a test module's import) calls nothing
    of yours.  Its first use (``@given`` validates it before the first example; ``strategy.validate()`` or a draw)
    calls the forward of an op without ``params`` on ``np.linspace(0.1, 0.5, 3)`` and, only where that raises, on
    shapes (), (2,), (2, 3), (3, 3) and (2, 3, 3) in turn until one works, once per strategy: an op that raises on
    all of them is a ValueError there, at every use.  Each graph drawn then calls the forward on its inputs as it
    is built, and the program (``expr(...)``) calls it again.
    """

    op: Op
    domain: str | tuple[str, ...] = "real"
    kinks: tuple[float, ...] = ()
    params: st.SearchStrategy | None = None
    broadcasts: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.op, Op):
            raise TypeError(f"OpSpec: op must be a tinygrad_edu Op, got {type(self.op).__name__}")
        domains = ((self.domain,) * self.arity if isinstance(self.domain, str) else
                   tuple(self.domain) if isinstance(self.domain, tuple | list) else ())
        if len(domains) != self.arity or any(d not in DOMAINS for d in domains):
            raise ValueError(f"OpSpec {self.op.name!r}: domain must be one of {DOMAINS} or a tuple of "
                             f"{self.arity} of them, got {self.domain!r}")
        object.__setattr__(self, "domain", domains)
        where = f"OpSpec {self.op.name!r}"
        kinks, params = cast(Any, self.kinks), cast(Any, self.params)  # as given, not as annotated
        object.__setattr__(self, "kinks", checks.numbers(kinks, "kinks", where))
        if params is not None and not isinstance(params, st.SearchStrategy):
            example = params if isinstance(params, dict) else {"alpha": 0.5}
            raise TypeError(f"{where}: params must be a hypothesis strategy of keyword-argument dicts, e.g. "
                            f"st.just({example!r:.60}), got {type(params).__name__}")
        checks.flag(self.broadcasts, "broadcasts", where)

    @property
    def arity(self) -> int:
        """How many inputs the op takes (one vjp per input)."""
        return len(self.op.vjps)


# --- the numpy reference: every function a line may call, written independently of tinygrad_edu's ops -------
def _sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _samples(x: np.ndarray) -> int:
    return x.shape[0] if np.ndim(x) >= 2 else 1


def _cross_entropy(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    logits = np.asarray(logits)
    one_hot = labels if labels.shape == logits.shape else np.eye(logits.shape[-1], dtype=logits.dtype)[labels]
    return -np.sum(_log_softmax(logits) * one_hot) / _samples(logits)


#: The reference a drawn line is evaluated with: numpy arrays for Values, these functions for ``F`` and ``L``.
NUMPY = {
    "np": np,
    "F": SimpleNamespace(
        exp=np.exp, log=np.log, sqrt=np.sqrt, abs=np.abs, tanh=np.tanh, sigmoid=_sigmoid,
        relu=lambda x: np.maximum(x, 0.0), softplus=lambda x: np.logaddexp(0.0, x),
        leaky_relu=lambda x, negative_slope=0.01: np.where(x > 0, x, negative_slope * x),
        softmax=lambda x, axis=-1: np.exp(_log_softmax(x, axis)), log_softmax=_log_softmax,
        concatenate=lambda xs, axis=0: np.concatenate(xs, axis=axis), stack=lambda xs, axis=0: np.stack(xs, axis),
        maximum=np.maximum, where=np.where, identity=lambda x: x),
    "L": SimpleNamespace(
        squared_error=lambda p, t: np.sum((p - t) ** 2) / _samples(p),
        mean_squared_error=lambda p, t: np.mean((p - t) ** 2), cross_entropy=_cross_entropy),
    "inf": np.inf, "nan": np.nan,  # as a param of inf or nan is written in a line (and the program imports them)
}


def _scatter(x: np.ndarray, shape: tuple[int, ...], key: Any) -> np.ndarray:
    out = np.zeros(shape, dtype=np.asarray(x).dtype)
    np.add.at(out, key, x)
    return out


NUMPY["ops"] = SimpleNamespace(broadcast_to=lambda x, shape: np.broadcast_to(x, shape), scatter=_scatter, copy=np.copy,
                               sigmoid_slope=lambda x: _sigmoid(x) * _sigmoid(-x),
                               tanh_slope=lambda x: 1 / np.cosh(x) ** 2,  # 1 − tanh² loses every digit far out
                               log_softmax_grad=lambda g, out, axis=-1: g - np.exp(out) * g.sum(axis, keepdims=True))
LIBRARY = {"np": np, "F": functional, "L": losses, "ops": ops, "no_grad": no_grad, "inf": np.inf, "nan": np.nan}
#: The Value methods a line may call on a node (``v3.exp()``), which numpy arrays lack: the reference reads them as
#: the functions of :data:`NUMPY`'s ``F`` (``F.exp(v3)``).
_METHODS = re.compile(r"\b([xv]\d+)\.(exp|log|sqrt|abs|tanh|sigmoid|relu)\(\)")


#: A line that changes a node in place: ``v5 += c0`` (recorded: a new Value named v5; the nodes that used v5 before
#: keep the old one) or, on an input not used yet, ``with no_grad(): x0 -= c0`` (the leaf's own numbers change).
_IN_PLACE = re.compile(r"(with no_grad\(\): )?([xv]\d+) (\*\*|[-+*/])= (.+)")


def _as_numpy(line: str) -> str:
    """A line as the numpy reference evaluates it: Value methods on nodes as ``F``'s functions; ``v5 += c0`` as
    ``v5 = v5 + (c0)`` (a new array), an input's change under no_grad on a copy (numpy's in-place dtype rule)."""
    line = _METHODS.sub(r"F.\2(\1)", line)
    change = _IN_PLACE.fullmatch(line)
    if change is None:
        return line
    under_no_grad, name, symbol, operand = change.groups()
    if under_no_grad:
        return f"{name} = np.array({name}); {name} {symbol}= {operand}"
    return f"{name} = {name} {symbol} ({operand})"


def _node_name(line: str) -> str:
    """The node a line defines or changes: ``v3`` of ``v3 = …`` and of ``v3 += …``."""
    change = _IN_PLACE.fullmatch(line)
    return line.split(" = ", 1)[0] if change is None else change.group(2)


def _literal(array: np.ndarray) -> str:
    """Exact Python source for an array (shortest round-trip floats; an empty one keeps its shape)."""
    if not array.size:
        kind = "bool" if array.dtype == bool else f"np.{array.dtype.name}"
        return f"np.zeros({array.shape!r}, dtype={kind})"
    if array.dtype != np.float64:
        return f"np.array({array.tolist()!r}, dtype={'bool' if array.dtype == bool else 'np.' + array.dtype.name})"
    return f"np.array({array.tolist()!r})"


@dataclass(frozen=True, repr=False)
class Expression:
    """A drawn expression graph: one line of Python per node, evaluated on Values by calling it.

    ``inputs`` are the float64 input arrays (``x0, x1, …`` in the lines), ``constants`` the arrays the lines use
    (``c0, c1, …``: operands, index arrays, masks), ``lines`` the statements ``v3 = …`` (or ``v3 += …``, ``with
    no_grad(): x0 -= …``); the last one's node is the output.  ``expr(*values)`` returns the output Value;
    :meth:`run` returns every node; :meth:`program` (also the repr) is a runnable program reproducing it.
    """

    inputs: tuple[np.ndarray, ...]
    constants: dict[str, np.ndarray]
    lines: tuple[str, ...]
    custom: dict[str, Op] = field(default_factory=dict)

    def __post_init__(self) -> None:
        lines_ok = _sequence_of(self.lines, str) and bool(self.lines) and all(
            " = " in line or _IN_PLACE.fullmatch(line) for line in self.lines)
        for name, ok, wanted in (
                ("inputs", _sequence_of(self.inputs, np.ndarray), "a tuple of numpy arrays"),
                ("constants", _mapping_of(self.constants, np.ndarray), "a dict of names to numpy arrays"),
                ("lines", lines_ok, "a non-empty tuple of lines 'name = expression' (or 'name += expression')"),
                ("custom", _mapping_of(self.custom, Op), "a dict of names to Ops")):
            if not ok:
                value = getattr(self, name)
                raise TypeError(f"Expression: {name} must be {wanted}, got {type(value).__name__} {value!r:.60}")

    @property
    def input_names(self) -> list[str]:
        return [f"x{i}" for i in range(len(self.inputs))]

    @property
    def output_name(self) -> str:
        return _node_name(self.lines[-1])

    @cached_property
    def _code(self) -> Any:
        return compile("\n".join(self.lines), "<expression>", "exec")

    @cached_property
    def _reference_code(self) -> Any:
        return compile("\n".join(map(_as_numpy, self.lines)), "<expression>", "exec")

    def run(self, *values: Any, reference: bool = False, constants: dict[str, np.ndarray] | None = None,
            dtype: Any = np.float64) -> dict[str, Any]:
        """Evaluate every line; returns each node (inputs, then ``v…``) by name.

        With ``reference=True`` the lines run on plain numpy (:data:`NUMPY`; give arrays, not Values).  The
        float constants are cast to ``dtype``; pass ``constants`` to use arrays of your own instead.
        """
        if len(values) != len(self.inputs):
            raise TypeError(f"Expression takes {len(self.inputs)} input(s), got {len(values)}")
        env = dict(NUMPY if reference else LIBRARY)
        env.update({name: (_forward_of(op) if reference else op) for name, op in self.custom.items()})
        env.update(self.constants_as(dtype) if constants is None else constants)
        env.update(zip(self.input_names, values))
        with np.errstate(all="ignore"), warnings.catch_warnings():
            if reference:  # numpy warns of a mean of an empty slice even where the result is empty, (0, 0) over axis 0
                warnings.simplefilter("ignore", RuntimeWarning)  # (the engine's, with no numbers to give, does not)
            exec(self._reference_code if reference else self._code, env)
        names = self.input_names + [_node_name(line) for line in self.lines]
        return {name: env[name] for name in names}

    def constants_as(self, dtype: Any) -> dict[str, np.ndarray]:
        """Fresh copies of the constants, the float ones cast to ``dtype`` (index arrays and masks kept)."""
        return {name: c.astype(dtype) if c.dtype.kind == "f" else c.copy() for name, c in self.constants.items()}

    def __call__(self, *values: Any, constants: dict[str, np.ndarray] | None = None) -> Value:
        """The output Value of the graph for these input Values (float constants take the inputs' dtype)."""
        dtype = next((v.dtype for v in values if isinstance(v, Value)), np.float64)
        return self.run(*values, constants=constants, dtype=dtype)[self.output_name]

    def program(self) -> str:
        """A runnable Python program that rebuilds this graph, prints its output and checks its derivatives to the
        third order.  Your own Ops are imported from the module that defines them by name, if there is one, else
        defined as their source file writes them (a comment names what that reads and the program lacks, and says
        what to paste where no source is found)."""
        header = ["import numpy as np", "import tinygrad_edu.functional as F",
                  "from tinygrad_edu import Value, ops", "from tinygrad_edu import losses as L",
                  "from tinygrad_edu.testing import check_gradients"]
        if any(line.startswith("with no_grad") for line in self.lines):
            header[2] = "from tinygrad_edu import Value, no_grad, ops"
        for line in "\n".join(_op_source(name, op) for name, op in self.custom.items()).splitlines():
            if not (line.startswith(("import ", "from ")) and line in header):  # (from tinygrad_edu import Op, once)
                header.append(line)
        if any(re.search(r"\b(inf|nan)\b", line) for line in self.lines):  # a param of inf or nan, as source
            header.append("from numpy import inf, nan")
        constants = [f"{name} = {_literal(array)}" for name, array in self.constants.items()]
        body = [f"def f({', '.join(self.input_names)}):"] + [f"    {line}" for line in self.lines]
        body.append(f"    return {self.output_name}")
        inputs = "inputs = [" + ", ".join(_literal(x) for x in self.inputs) + "]"
        footer = [inputs, "print(f(*[Value(x) for x in inputs]))",
                  "check_gradients(f, *inputs, order=3)  # checks orders 1, 2 and 3"]
        return "\n".join(header + [""] + constants + [""] + body + [""] + footer) + "\n"

    __repr__ = program

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How hypothesis (and IPython) print a drawn graph: as its program."""
        printer.text("\n" + self.program())


def _op_source(name: str, op: Op) -> str:
    """The program's lines for one of your Ops: an import from the module that holds it as a global, else its
    definition as written (found by :mod:`inspect`), else a comment saying what to paste."""
    for function in (op.forward, *op.vjps):
        module = sys.modules.get(getattr(function, "__module__", None) or "")
        if module is None or module.__name__ == "__main__":  # a script's globals cannot be imported by name
            continue
        found = [global_name for global_name, value in list(vars(module).items()) if value is op]
        if found:
            return f"from {module.__name__} import {found[0]}" + ("" if found[0] == name else f" as {name}")
    return _op_definition(name, op) or (
        "from tinygrad_edu import Op\n"
        f"# {name} = Op({op.name!r}, ...)  # your own Op, given in extra_ops: its source was not found, so paste its "
        f"definition here, as {name} = Op({op.name!r}, forward, vjps), before running")


def _op_definition(name: str, op: Op) -> str | None:
    """``name = Op(...)`` as its source file writes it (lambdas inside the call, or functions defined by ``def`` or
    ``f = lambda …``, copied before it), with imports of the modules it names; None where a piece is not found."""
    functions = [f for f in (op.forward, *op.vjps, op.saving) if f is not None]
    written = [f for f in functions if inspect.isfunction(f)]  # (np.sin as the forward is named in the call)
    pieces: list[str] = []
    call, names = None, []
    for function in written:
        found = _written(function, op.name)
        if found is None:
            return None
        kind, text, bound = found
        names.append(bound)
        if kind == "call":
            call = call or text
        elif text not in pieces:  # (one function may serve twice)
            pieces.append(text)
    if call is None:
        if "" in names or len(written) < len(functions):  # (a lambda inside another call than Op's; a ufunc)
            return None
        rules = f"({', '.join(names[1:1 + len(op.vjps)])},)"
        call = f"Op({op.name!r}, {names[0]}, {rules}" + (f", saving={names[-1]})" if op.saving else ")")
    text = "\n".join(pieces + [f"{name} = {call}"])
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    imports, numbers = _imports_for(tree, written)
    if numbers:  # (a closure's numbers stay its own: another Op of the program may read p too, with another value)
        body = textwrap.indent("\n".join([*numbers, *pieces, f"return {call}"]), "    ")
        text = f"def _define_{name}():  # your Op as made where it was, with the numbers it reads\n{body}\n" \
               f"{name} = _define_{name}()"
    return "\n".join(["from tinygrad_edu import Op", *imports, text])


def _written(function: Callable[..., Any], op_name: str) -> tuple[str, str, str] | None:
    """Where ``function`` is written: ("call", the ``Op(op_name, …)`` call holding a lambda, ""), or ("def", its
    statement, a ``def`` or ``f = lambda …`` dedented, the name it binds); None where its source cannot be read."""
    code = function.__code__
    source = "".join(linecache.getlines(code.co_filename, function.__globals__))
    tree = _parsed(source)
    if tree is None:
        return None
    line = code.co_firstlineno
    covering = [node for node in ast.walk(tree) if getattr(node, "lineno", 0) <= line <= getattr(node, "end_lineno", 0)]
    if function.__name__ != "<lambda>":
        found = [n for n in covering if isinstance(n, ast.FunctionDef) and n.name == function.__name__
                 and min([n.lineno, *(d.lineno for d in n.decorator_list)]) <= line]
        segment = ast.get_source_segment(source, found[-1], padded=True) if found else None
        return ("def", textwrap.dedent(segment), function.__name__) if segment else None
    calls = [n for n in covering if isinstance(n, ast.Call) and _names_op(n.func) and n.args
             and (not isinstance(n.args[0], ast.Constant) or n.args[0].value == op_name)]  # (f"{name}" too)
    if calls:
        segment = ast.get_source_segment(source, calls[-1])
        return ("call", segment, "") if segment else None
    assigned = [n for n in covering if isinstance(n, ast.Assign) and isinstance(n.value, ast.Lambda)
                and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name) and n.lineno == line]
    segment = ast.get_source_segment(source, assigned[0]) if len(assigned) == 1 else None
    return ("def", segment, cast(ast.Name, assigned[0].targets[0]).id) if segment else None


@lru_cache(maxsize=8)
def _parsed(source: str) -> ast.Module | None:
    """``source`` parsed, once for the several functions of an Op, and the programs of many graphs, in one file."""
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def _names_op(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "Op" or isinstance(node, ast.Attribute) and node.attr == "Op"


def _imports_for(tree: ast.Module, functions: Sequence[Any]) -> tuple[list[str], list[str]]:
    """Import lines for the names the definition reads that the program lacks, modules (``math``) and globals of an
    importable module, and a comment naming any other (a closure's array, a script's global); and assignments of the
    plain numbers its functions close over (``p = 3.0``)."""
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    bound |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments) for a in ast.walk(n)
              if isinstance(a, ast.arg)}
    bound |= {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    read = [n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
    given = {"np", "F", "L", "ops", "Value", "Op", "check_gradients"}  # (the program's own imports)
    lines, numbers, unknown = [], [], []
    for name in dict.fromkeys(read):
        if name in bound or name in given or hasattr(builtins, name):
            continue
        value = next((f.__globals__[name] for f in functions if name in f.__globals__), _MISSING)
        closed = [c.cell_contents for f in functions for n, c in zip(f.__code__.co_freevars, f.__closure__ or ())
                  if n == name]
        module = getattr(value, "__module__", None)
        if closed and _plain(closed[0]):  # (a number of yours: written as it is)
            numbers.append(f"{name} = {closed[0]!r}")
        elif inspect.ismodule(value):
            lines.append(f"import {value.__name__}" + ("" if value.__name__ == name else f" as {name}"))
        elif module not in (None, "__main__") and getattr(sys.modules.get(module), name, _MISSING) is value:
            lines.append(f"from {module} import {name}")
        else:
            unknown.append(name)
    if unknown:
        lines.append(f"# it reads {', '.join(unknown)}, defined where your Op is: define "
                     f"{'them' if len(unknown) > 1 else 'it'} here, before running")
    return lines, numbers


_MISSING = object()


def _plain(value: Any) -> bool:
    """Whether ``value``'s repr is its source: an int, a finite float, a bool, a str or None."""
    return type(value) in (int, bool, str, type(None)) or type(value) is float and np.isfinite(value)


def _sequence_of(items: Any, kind: type | tuple[type, ...]) -> bool:
    return isinstance(items, Sequence) and not isinstance(items, str) and all(isinstance(x, kind) for x in items)


def _mapping_of(items: Any, kind: type) -> bool:
    return isinstance(items, Mapping) and all(isinstance(k, str) and isinstance(v, kind) for k, v in items.items())


def _forward_of(op: Op) -> Callable[..., Any]:
    return lambda *arrays, **params: op.forward(*(np.asarray(a) for a in arrays), **params)


# --- drawing a graph -------------------------------------------------------------------------------------------
class Graph:
    """The graph being drawn: its lines, constants and the numpy value of every node (for the builders' checks)."""

    def __init__(self, draw: Callable[[st.SearchStrategy], Any], inputs: Sequence[np.ndarray],
                 custom: dict[str, OpSpec]) -> None:
        self.draw = draw
        self.inputs = tuple(inputs)
        self.values: dict[str, np.ndarray] = {f"x{i}": x for i, x in enumerate(inputs)}
        self.lines: list[str] = []
        self.used: set[str] = set()
        self.constants: dict[str, np.ndarray] = {}
        self.custom = custom
        self._env = dict(NUMPY)
        self._env.update({name: _forward_of(spec.op) for name, spec in custom.items()})
        self._env.update(self.values)

    # reading
    def value(self, name: str) -> np.ndarray:
        return self.values[name]

    def shape(self, name: str) -> tuple[int, ...]:
        return self.values[name].shape

    def sinks(self) -> list[str]:
        """The nodes no other node uses yet, newest first."""
        return [n for n in reversed(self.values) if n not in self.used]

    def pick(self, fits: Callable[[np.ndarray], bool] = lambda v: True) -> str | None:
        """A node whose value ``fits``: unused ones first, newest first (so the graph stays connected and
        shrinking makes chains)."""
        names = [n for n in self.sinks() + [n for n in reversed(self.values) if n in self.used]
                 if fits(self.values[n])]
        return names[self.draw(st.integers(0, len(names) - 1))] if names else None

    def evaluate(self, expression: str) -> np.ndarray:
        """The numpy value of an expression over the nodes and constants (not added to the graph)."""
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the mean of nothing: rejected as NaN by add
            return np.asarray(eval(_as_numpy(expression), self._env), dtype=np.float64)

    # writing
    def constant(self, array: np.ndarray) -> str:
        name = f"c{len(self.constants)}"
        self.constants[name] = array
        self._env[name] = array
        return name

    def array(self, shape: tuple[int, ...], low: float = -2.0, high: float = 2.0) -> str:
        """A new constant array of ``shape`` with elements in [low, high] (two decimals: short programs)."""
        elements = st.floats(low, high).map(lambda x: round(x, 2))
        return self.constant(self.draw(hnp.arrays(np.float64, shape, elements=elements)))

    def add(self, expression: str, in_place: str | None = None) -> str | None:
        """Append ``v… = expression`` if its numpy value is usable (finite, ≤ LIMIT, ≤ MAX_SIZE elements); with
        ``in_place``, the line ``in_place`` instead (``v5 += c0``), which makes ``expression``'s value the newest
        node of the name it changes."""
        try:
            value = self.evaluate(expression)
        except (ValueError, TypeError, IndexError, ZeroDivisionError):
            return None
        if value.size > MAX_SIZE or value.ndim > 4 or not np.all(np.isfinite(value)):
            return None
        if value.size and np.abs(value).max() > LIMIT:
            return None
        name = f"v{len(self.lines) + len(self.inputs)}" if in_place is None else _node_name(in_place)
        self.used.update(_NODE_NAME.findall(expression))
        self.lines.append(f"{name} = {expression}" if in_place is None else in_place)
        self.used.discard(name)  # (changed in place: a new node, which nothing uses yet)
        self.values.pop(name, None)
        self.values[name] = value
        self._env[name] = value
        return name

    @property
    def size(self) -> int:
        """Nodes so far, inputs included (a line that changes a node in place counts as one)."""
        return len(self.inputs) + len(self.lines)

    def loose(self) -> list[str]:
        """The nodes :meth:`finish` joins to the output: those no other node uses yet, newest first, inputs aside
        unless changed in place (under no_grad: their new numbers count)."""
        changed = {_node_name(line) for line in self.lines if _IN_PLACE.fullmatch(line)}
        return [n for n in self.sinks() if n.startswith("v") or n in changed]

    def closed_size(self) -> int:
        """Nodes once :meth:`finish` has joined the unused ones (it adds one node when there are several)."""
        return self.size + (len(self.loose()) > 1)

    def checkpoint(self) -> tuple[int, int, set[str], dict[str, np.ndarray]]:
        return len(self.lines), len(self.constants), set(self.used), dict(self.values)

    def rollback(self, checkpoint: tuple[int, int, set[str], dict[str, np.ndarray]]) -> None:
        """Drop the nodes and constants added, and undo the changes in place made, since ``checkpoint`` (a builder
        that failed, or took too many)."""
        lines, constants, used, values = checkpoint
        for name in [n for n in self.values if n not in values] + list(self.constants)[constants:]:
            self.constants.pop(name, None)
            del self._env[name]
        del self.lines[lines:]
        self.used = used
        self.values = dict(values)
        self._env.update(values)

    def finish(self) -> None:
        """Make every node count: add each unused node, weighted by a random array and summed, to the newest."""
        newest, *others = self.sinks()
        loose = self.loose()
        terms = [f"({n} * {self.array(self.shape(n), 0.1, 1.0)}).sum()" for n in others if n in loose]
        if not terms or self.add(" + ".join([newest] + terms)) is not None:
            return
        # the sum left the safe range (over LIMIT): the loose nodes, left out, had their gradients never checked
        # (and the graph fell a node short of min_nodes); halve the newest and scale the others down to fit
        for digits in range(1, 20):
            if self.add(f"0.5 * {newest} + {10.0 ** -digits!r} * ({' + '.join(terms)})") is not None:
                return

    def expression(self) -> Expression:
        custom = {name: spec.op for name, spec in self.custom.items()}
        return Expression(self.inputs, dict(self.constants), tuple(self.lines), custom)


_NODE_NAME = re.compile(r"\b[xv]\d+\b")


def _clear_of(value: np.ndarray, points: Sequence[float]) -> bool:
    return all(np.all(np.abs(value - p) >= KINK_MARGIN) for p in points)


def _positive(g: Graph, a: str) -> str:
    """A node made from ``a`` that is at least KINK_MARGIN everywhere (for log, sqrt, a divisor, a power's base)."""
    forms = ["{a} * {a} + 0.5", "F.exp({a})", "F.sigmoid({a})", "F.softplus({a})"]
    first = g.draw(st.integers(0, len(forms) - 1))
    for form in forms[first:] + forms[:first]:
        name = g.add(form.format(a=a))
        if name is not None and _inside(g.value(name), "positive"):
            return name
    name = g.add(f"F.sigmoid(F.tanh({a}))")  # in (0.26, 0.74): always fits
    assert name is not None
    return name


def _in_domain(g: Graph, a: str, domain: str) -> str:
    if domain == "positive":
        return _positive(g, a)
    if domain == "unit":  # (−1, 1), kept KINK_MARGIN inside
        name = g.add(f"0.9 * F.tanh({a})")
        return name if name is not None else a
    return a


def _number(g: Graph, positive: bool = False) -> str:
    """A Python number operand; large ones (10, −25) push later nodes toward the extremes of exp and sigmoid."""
    choices = [x for x in (2.0, 0.5, -1.5, 3.0, -0.25, 1.0, 0.0, 10.0, -25.0) if x > 0 or not positive]
    return repr(g.draw(st.sampled_from(choices)))


def _partner_shape(g: Graph, shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape that broadcasts with ``shape`` in either direction (dims dropped, set to 1, stretched, added)."""
    dims = []
    for n in shape:
        kind = g.draw(st.sampled_from(["same", "one", "stretch"]))
        dims.append(1 if kind == "one" else (g.draw(st.integers(2, 3)) if kind == "stretch" and n == 1 else n))
    drop = g.draw(st.integers(0, len(dims)))  # fewer dims, or (none dropped) more dims in front
    extra = 0 if drop else g.draw(st.integers(0, max(0, 3 - len(dims))))
    return tuple(g.draw(st.integers(1, 3)) for _ in range(extra)) + tuple(dims[drop:])


def _broadcasts(shape: tuple[int, ...]) -> Callable[[np.ndarray], bool]:
    def fits(value: np.ndarray) -> bool:
        try:
            return int(np.prod(np.broadcast_shapes(shape, value.shape))) <= MAX_SIZE
        except ValueError:
            return False
    return fits


def _operand(g: Graph, a: str, positive: bool = False) -> str:
    """A second operand for ``a``: another node, a number or a constant array that broadcasts with it."""
    kind = g.draw(st.sampled_from(["node", "number", "array"]))
    if kind == "node":
        other = g.pick(_broadcasts(g.shape(a)))
        if other is not None:
            return _positive(g, other) if positive else other
    if kind == "number":
        return _number(g, positive)
    shape = _partner_shape(g, g.shape(a))
    return g.array(shape, 0.5, 2.0) if positive else g.array(shape)


def _sides(g: Graph, left: str, right: str) -> tuple[str, str]:
    return (right, left) if g.draw(st.booleans()) else (left, right)


# --- the node builders: each writes one kind of line for operand ``a`` (or gives up with None) ----------------
def arithmetic(g: Graph, a: str) -> str | None:
    """a + b, a − b, a · b, −a, with b a node, a number or an array, on either side; +a and F.identity(a) (a itself:
    a node named twice)."""
    symbol = g.draw(st.sampled_from(["+", "-", "*", "neg", "pos"]))
    if symbol == "neg":
        return g.add(f"-{a}")
    if symbol == "pos":  # (not of an input: it would be the input itself, under no_grad too)
        return g.add(g.draw(st.sampled_from(["+{a}", "F.identity({a})"])).format(a=a)) if a[0] == "v" else None
    left, right = _sides(g, a, _operand(g, a))
    return g.add(f"{left} {symbol} {right}")


def division(g: Graph, a: str) -> str | None:
    """a / b with the divisor kept positive (a node made positive, a number, a positive array)."""
    if g.draw(st.booleans()):
        return g.add(f"{a} / {_operand(g, a, positive=True)}")
    return g.add(f"{_operand(g, a)} / {_positive(g, a)}")


def power(g: Graph, a: str) -> str | None:
    """a ** n (any a), positive ** real, number ** a, array ** a, a ** array, Value ** Value (base > 0) and Value **
    (a recorded exponent that is 2, 3, 1 or 0 where it is checked: exactly, unless the engine's a differs from
    numpy's in its last bit)."""
    kind = g.draw(st.sampled_from(["integer", "real", "number base", "value base", "array base", "array exponent",
                                   "whole exponent"]))
    if kind == "whole exponent":  # Σ(a − a's value) + n, one number: a rule's shortcut for such an exponent (a
        # square's slope b·a) must keep the derivatives in b, which a reviewer found lost at second order
        whole = g.draw(st.sampled_from([2.0, 3.0, 1.0, 0.0]))
        exponent = g.add(f"({a} - {g.constant(np.array(g.value(a)))}).sum() + {whole!r}")
        return None if exponent is None else g.add(f"{_positive(g, a)} ** {exponent}")
    if kind == "integer":
        return g.add(f"{a} ** {g.draw(st.sampled_from([2, 3, 1, 0]))}")
    if kind == "real":
        return g.add(f"{_positive(g, a)} ** {g.draw(st.sampled_from([0.5, -1.0, 1.5, -0.5]))}")
    if kind == "number base":
        return g.add(f"{g.draw(st.sampled_from([2.0, 0.5, 3.0]))} ** {a}")
    if kind == "array base":
        return g.add(f"{g.array(_partner_shape(g, g.shape(a)), 0.5, 2.0)} ** {a}")
    if kind == "array exponent":
        return g.add(f"{_positive(g, a)} ** {g.array(_partner_shape(g, g.shape(a)))}")
    base = g.pick(_broadcasts(g.shape(a))) or a  # a itself fits at least
    return g.add(f"{_positive(g, base)} ** {a}")


def in_place(g: Graph, a: str) -> str | None:
    """a += b, -=, *=, /= (b positive), **= 2 or 3 on a node other nodes may have used (they keep its old value; the
    new one is a new node), with b a node, number or array that broadcasts to a's shape; on an input no node has used
    yet, under no_grad, += or -= a number or array (the leaf's own numbers change, and the derivatives are at
    the new ones).  Not on a node that shares its numbers with another under no_grad (+v, F.identity,
    ops.broadcast_to)."""
    leaf = a[0] == "x"  # (only + and −: the derivatives are at the leaf's new numbers, x0 *= 2 would scale them)
    symbol = g.draw(st.sampled_from(["+", "-"] if leaf else ["+", "-", "*", "/", "**"]))
    if leaf and a in g.used or _shares_numbers(g, a):
        return None
    if symbol == "**":
        operand = repr(g.draw(st.sampled_from([2, 3])))
    elif leaf:
        operand = _number(g) if g.draw(st.booleans()) else g.array(_partner_shape(g, g.shape(a)))
    else:
        operand = _operand(g, a, positive=symbol == "/")
    try:
        if g.evaluate(f"{a} {symbol} ({operand})").shape != g.shape(a):  # (under no_grad the shape stays)
            return None
    except ValueError:  # shapes that do not broadcast
        return None
    line = f"{'with no_grad(): ' if leaf else ''}{a} {symbol}= {operand}"
    return g.add(f"{a} {symbol} ({operand})", in_place=line)


def _shares_numbers(g: Graph, a: str) -> bool:
    """Whether ``a`` is, under no_grad, the same Value as another node or a view of it (changed in place, both
    would change): +v and F.identity(v) are v itself, ops.broadcast_to(v) a read-only view of v's numbers, and so
    is a reshape or other view of that broadcast (a stride of 0 stays a view: in place, PyTorch refuses it too), as
    numpy's own read-only reference value says where the list of views misses one."""
    if any(a in _NODE_NAME.findall(line) for line in g.lines if _ALIASING.search(line)):
        return True
    broadcast = {_node_name(line) for line in g.lines if " = ops.broadcast_to(" in line}
    for line in g.lines:  # (in order: a view of a view of a broadcast is one too)
        if " = " in line and _VIEWING.search(line) and broadcast & set(_NODE_NAME.findall(line.split(" = ", 1)[1])):
            broadcast.add(_node_name(line))
    return a in broadcast or (a in g.values and not g.values[a].flags.writeable)


_ALIASING = re.compile(r"= (\+[xv]\d+$|F\.identity\(|ops\.broadcast_to\()")
#: Operations whose result may be a view of their input's numbers.
_VIEWING = re.compile(r"reshape|transpose|swapaxes|moveaxis|squeeze|expand_dims|ravel|flip|\.T\b|\[|astype")


def matmul(g: Graph, a: str) -> str | None:
    """a @ b for 1-D, 2-D and batched operands: another node, a transpose of a, or a constant, on either side."""
    shape = g.shape(a)
    if not shape:
        return None
    kind = g.draw(st.sampled_from(["node", "itself", "array"]))
    if kind == "itself" and g.draw(st.booleans()):  # numpy's function, which calls the Value's @
        return g.add(f"np.matmul({a}, {a if len(shape) == 1 else f'np.swapaxes({a}, -1, -2)'})")
    if kind == "itself":
        return g.add({1: f"{a} @ {a}", 2: f"{a} @ {a}.T"}.get(len(shape), f"{a} @ {a}.swapaxes(-1, -2)"))
    if kind == "node":
        b = g.pick(lambda v: v.ndim >= 1 and _matmul_fits(shape, v.shape))
        if b is not None:
            return g.add(f"{a} @ {b}")
        b = g.pick(lambda v: v.ndim >= 1 and _matmul_fits(v.shape, shape))
        if b is not None:
            return g.add(f"{b} @ {a}")
    on_left = g.draw(st.booleans())
    inner = shape[-1] if on_left else (shape[0] if len(shape) == 1 else shape[-2])
    other = g.draw(st.sampled_from([(inner,), (inner, 2), (2, inner, 3)]))
    if not on_left:
        other = other[:-2] + (other[-1], other[-2]) if len(other) > 1 else other
    c = g.array(other)
    return g.add(f"{a} @ {c}" if on_left else f"{c} @ {a}")


def _matmul_fits(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        out = np.matmul(np.zeros(a), np.zeros(b))
    except ValueError:
        return False
    return out.size <= MAX_SIZE


def elementwise(g: Graph, a: str) -> str | None:
    """Every element-wise function and activation, its input kept in its domain and off its kinks."""
    name = g.draw(st.sampled_from(["exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "leaky_relu",
                                   "softplus"]))
    if name in ("log", "sqrt"):
        a = _positive(g, a)
    if name in ("abs", "relu", "leaky_relu") and not _clear_of(g.value(a), [0.0]):
        return None
    if name == "leaky_relu" and g.draw(st.booleans()):
        return g.add(f"F.leaky_relu({a}, negative_slope={g.draw(st.sampled_from([0.2, 0.0, 0.5]))})")
    if name in ("leaky_relu", "softplus") or g.draw(st.booleans()):
        return g.add(f"F.{name}({a})")
    return g.add(f"abs({a})" if name == "abs" and g.draw(st.booleans()) else f"{a}.{name}()")  # Value's methods


def _axes(g: Graph, ndim: int) -> Any:
    """None, an int (negative too) or a tuple of distinct axes (negative too); numpy rejects what is invalid."""
    kind = g.draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return g.draw(st.integers(-max(ndim, 1), max(ndim, 1) - 1))  # on a 0-d input numpy takes 0 and −1
    chosen = g.draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim)) if ndim else []
    return tuple(axis - ndim if g.draw(st.booleans()) else axis for axis in chosen)


def _max_is_unique(value: np.ndarray, axis: Any) -> bool:
    """The maximum over ``axis`` exceeds the runner-up by KINK_MARGIN (no tie, none made by a nudge of ε)."""
    if value.ndim == 0 or axis == ():
        return True
    axes = tuple(range(value.ndim)) if axis is None else tuple(np.atleast_1d(axis) % value.ndim)
    moved = np.moveaxis(value, axes, tuple(range(-len(axes), 0)))
    flat = np.sort(moved.reshape(moved.shape[:moved.ndim - len(axes)] + (-1,)), axis=-1)
    return flat.shape[-1] < 2 or bool(np.all(flat[..., -1] - flat[..., -2] >= KINK_MARGIN))


def reduction(g: Graph, a: str) -> str | None:
    """sum, mean, max, min over a random axis (None, negative, a tuple, on 0-d inputs too), keepdims or not."""
    name = g.draw(st.sampled_from(["sum", "mean", "max", "min"]))
    axis = _axes(g, g.value(a).ndim)
    if name in ("max", "min"):  # the minimum is the maximum of −value
        value = g.value(a) if name == "max" else -g.value(a)
        if not (value.size and _max_is_unique(value, axis)):
            return None
    args = [] if axis is None and g.draw(st.booleans()) else [f"axis={axis!r}"]
    if g.draw(st.booleans()):
        args.append(f"keepdims={g.draw(st.booleans())}")
    if g.draw(st.booleans()):  # numpy's function, which calls the Value's method (np.amax too, max's other name)
        function = f"a{name}" if name in ("max", "min") and g.draw(st.booleans()) else name
        return g.add(f"np.{function}({', '.join([a] + args)})")
    return g.add(f"{a}.{name}({', '.join(args)})")


def softmax(g: Graph, a: str) -> str | None:
    """softmax and log_softmax along the default axis, a random one (negative too), all of them (None) or two or
    more (a tuple, negative axes too)."""
    name = g.draw(st.sampled_from(["softmax", "log_softmax"]))
    ndim = g.value(a).ndim
    if g.draw(st.booleans()):
        axis = g.draw(st.one_of(st.none(), st.integers(-max(ndim, 1), max(ndim, 1) - 1)))
        return g.add(f"F.{name}({a})" if axis is None else f"F.{name}({a}, axis={axis})")
    if ndim < 2 or g.draw(st.booleans()):
        return g.add(f"F.{name}({a}, axis=None)")
    axes = g.draw(st.permutations(range(ndim)))[:g.draw(st.integers(2, ndim))]
    return g.add(f"F.{name}({a}, axis={tuple(i - ndim if g.draw(st.booleans()) else i for i in axes)!r})")


def _factorisation(g: Graph, size: int) -> tuple[int, ...]:
    """A random shape of 0 to 3 dims holding ``size`` elements (0-d only for size 1)."""
    ndim = g.draw(st.integers(0 if size == 1 else 1, 3))
    dims = []
    for _ in range(ndim - 1):
        dims.append(g.draw(st.sampled_from([d for d in range(1, size + 1) if size % d == 0])))
        size //= dims[-1]
    return tuple(dims) + ((size,) if ndim else ())


def reshape(g: Graph, a: str) -> str | None:
    """reshape to a random shape of the same size (a −1 sometimes), as ``(2, 3)`` or ``2, 3``."""
    size = g.value(a).size
    shape = list(_factorisation(g, size)) if size else [0, g.draw(st.integers(1, 2))]  # empty: (0, k)
    if shape and size and g.draw(st.booleans()):
        shape[g.draw(st.integers(0, len(shape) - 1))] = -1
    if not shape:
        return g.add(f"{a}.reshape(())")
    if g.draw(st.integers(0, 2)) == 0:  # numpy's function, which calls the Value's method
        return g.add(f"np.reshape({a}, {tuple(shape)!r})")
    return g.add(f"{a}.reshape({', '.join(map(str, shape))})" if g.draw(st.booleans())
                 else f"{a}.reshape({tuple(shape)!r})")


def transpose(g: Graph, a: str) -> str | None:
    """transpose with a permutation (negative axes too), .T, transpose() and swapaxes; numpy's np.transpose,
    np.swapaxes and np.moveaxis on Values."""
    ndim = g.value(a).ndim
    kind = g.draw(st.sampled_from(["axes", "T", "reversed", "swapaxes", "np.transpose", "np.moveaxis"]))
    if kind == "T":
        return g.add(f"{a}.T")
    if kind == "reversed" or not ndim:
        return g.add(f"np.transpose({a})" if kind == "np.transpose" else f"{a}.transpose()")
    negative = st.booleans()
    if kind == "swapaxes":
        i, j = (g.draw(st.integers(-ndim, ndim - 1)) for _ in range(2))
        return g.add(f"np.swapaxes({a}, {i}, {j})" if g.draw(st.booleans()) else f"{a}.swapaxes({i}, {j})")
    if kind == "np.moveaxis":
        source, destination = (g.draw(st.integers(-ndim, ndim - 1)) for _ in range(2))
        return g.add(f"np.moveaxis({a}, {source}, {destination})")
    axes = [axis - ndim if g.draw(negative) else axis for axis in g.draw(st.permutations(range(ndim)))]
    if kind == "np.transpose":
        return g.add(f"np.transpose({a}, {tuple(axes)!r})")
    spread = g.draw(st.booleans()) and not (ndim == 2 and axes[0] % 2 == 0)  # (m.transpose(0, 1) is refused)
    return g.add(f"{a}.transpose({', '.join(map(str, axes))})" if spread else f"{a}.transpose({tuple(axes)!r})")


def _basic_key(g: Graph, shape: tuple[int, ...]) -> str:
    parts = []
    for n in shape[:g.draw(st.integers(1, max(len(shape), 1)))]:
        kind = g.draw(st.sampled_from(["int", "slice", "reversed", "all", "newaxis"]))
        if kind == "int" and n:
            parts.append(str(g.draw(st.integers(-n, n - 1))))
        elif kind == "slice":
            parts.append(f"{g.draw(st.integers(-n - 1, n))}:{g.draw(st.integers(-n - 1, n))}")
        elif kind == "reversed":
            parts.append("::-1" if g.draw(st.booleans()) else "1::2")
        elif kind == "newaxis":
            parts.append("None")
        else:
            parts.append(":")
    if g.draw(st.booleans()):
        parts.insert(g.draw(st.integers(0, len(parts))), "...")
    return ", ".join(parts) or "..."


def indexing(g: Graph, a: str) -> str | None:
    """Basic (ints, slices, None, ...), advanced (repeated and negative int arrays), boolean and empty indexing."""
    shape = g.shape(a)
    kind = g.draw(st.sampled_from(["basic", "integers", "mask", "empty", "pairs", "np.flip"]))
    if not shape:
        return g.add(f"{a}[{g.draw(st.sampled_from(['...', 'None', '()']))}]")
    if kind == "basic":
        return g.add(f"{a}[{_basic_key(g, shape)}]")
    if kind == "np.flip":  # numpy's function on a Value: indexing with reversed slices
        return g.add(f"np.flip({a}, axis={_axes(g, len(shape))!r})")
    if kind == "empty":
        empty = "[]" if g.draw(st.booleans()) else g.constant(np.zeros(0, dtype=np.intp))
        return g.add(f"{a}[{empty}]" if g.draw(st.booleans()) or len(shape) < 2 else f"{a}[:, {empty}]")
    if kind == "mask":  # over the first axis or over all of them
        mask_shape = shape[:1] if g.draw(st.booleans()) else shape
        return g.add(f"{a}[{g.constant(g.draw(hnp.arrays(bool, mask_shape)))}]")
    if kind == "pairs" and len(shape) >= 2 and shape[0] and shape[1]:  # a[rows, cols]: elements, some twice
        count = g.draw(st.integers(1, 4))
        rows, cols = (g.draw(st.lists(st.integers(-n, n - 1), min_size=count, max_size=count)) for n in shape[:2])
        keys = [g.constant(np.array(k, dtype=np.intp)) for k in (rows, cols)]
        return g.add(f"{a}[{keys[0]}, {keys[1]}]")
    axis = g.draw(st.integers(0, min(len(shape), 2) - 1))  # along the first or the second axis
    n = shape[axis]
    if not n:
        return None
    rows = g.draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=5))
    rows += rows[:g.draw(st.integers(0, 1))]  # a row picked twice: its gradient parts must add up
    key = g.constant(np.array(rows, dtype=np.intp))
    return g.add(f"{a}[{key}]" if axis == 0 else f"{a}[:, {key}]")


def splitting(g: Graph, a: str) -> str | None:
    """np.split and np.array_split on a Value (a list of Values, pieces of a): one piece, or all of them joined
    again in another order (a roll), so that each piece's gradient lands in its own part of a's."""
    shape = g.shape(a)
    if not shape:
        return None
    axis = g.draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[axis]
    if not n or g.draw(st.booleans()):  # cut at indices (numpy clips them; an empty piece too)
        cuts = sorted(g.draw(st.lists(st.integers(0, n), min_size=1, max_size=2)))
        call, count = f"np.split({a}, {cuts!r}, axis={axis})", len(cuts) + 1
    else:  # into equal parts (np.split) or nearly equal ones (np.array_split)
        parts = g.draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
        function = "split" if g.draw(st.booleans()) else "array_split"
        parts = parts if function == "split" else g.draw(st.integers(1, n + 1))
        call, count = f"np.{function}({a}, {parts}, axis={axis})", parts
    if count > 1 and g.draw(st.booleans()):
        shift = g.draw(st.integers(1, count - 1))
        return g.add(f"F.concatenate({call}[{shift}:] + {call}[:{shift}], axis={axis})")
    return g.add(f"{call}[{g.draw(st.integers(-count, count - 1))}]")


def joining(g: Graph, a: str) -> str | None:
    """F.concatenate (axis negative too, or None) and F.stack of a with itself, other nodes or constants; one time
    in four, np.split or np.array_split instead (:func:`splitting`, drawn from here: the table's draws stay)."""
    if g.draw(st.integers(0, 3)) == 3:
        return splitting(g, a)
    shape = g.shape(a)
    stacked = g.draw(st.booleans())
    if not stacked and not shape:
        return None
    ndim = len(shape) + stacked
    axis = g.draw(st.one_of(st.integers(-ndim, ndim - 1), st.none() if not stacked else st.nothing()))
    pieces = [a]
    for _ in range(g.draw(st.integers(1, 2))):
        kind = g.draw(st.sampled_from(["itself", "node", "array"]))
        piece_shape = list(shape)
        if not stacked and axis is not None:
            piece_shape[axis] = g.draw(st.integers(0, 2))
        same = (lambda v: v.shape == shape) if stacked or axis is None else (
            lambda v: v.ndim == len(shape) and all(m == n for i, (m, n) in enumerate(zip(v.shape, shape))
                                                   if i != axis % len(shape)))
        other = g.pick(same) if kind == "node" else None
        pieces.append(a if kind == "itself" else other or g.array(tuple(piece_shape)))
    pieces = g.draw(st.permutations(pieces))
    function = "stack" if stacked else "concatenate"
    return g.add(f"F.{function}([{', '.join(pieces)}], axis={axis})")


def choosing(g: Graph, a: str) -> str | None:
    """F.where(mask, l, r) and F.maximum(l, r) (kept off ties) with nodes, numbers and arrays."""
    left, right = _sides(g, a, _operand(g, a))
    try:
        difference = g.evaluate(f"{left} - {right}")
    except ValueError:
        return None
    if g.draw(st.booleans()):
        mask = g.draw(hnp.arrays(bool, _partner_shape(g, difference.shape)))
        return g.add(f"F.where({g.constant(mask)}, {left}, {right})")
    return g.add(f"F.maximum({left}, {right})") if _clear_of(difference, [0.0]) else None


def cost(g: Graph, a: str) -> str | None:
    """L.squared_error / L.mean_squared_error against a node or constant of a's shape; L.cross_entropy against class
    labels or rows of probabilities (soft targets: a softmax of a node, whose gradient is checked too)."""
    shape = g.shape(a)
    kind = g.draw(st.sampled_from(["squared_error", "mean_squared_error", "cross_entropy"]))
    if kind == "cross_entropy":
        if len(shape) not in (1, 2) or not g.value(a).size:
            return None
        if g.draw(st.booleans()) or shape[-1] == 1:  # (class labels for one output neuron are refused: no cost)
            soft = g.pick(lambda v: v.shape == shape) or a  # a itself: the same node on both sides
            return g.add(f"L.cross_entropy({a}, F.softmax({soft}, axis=-1))")
        classes = shape[-1]
        labels = g.draw(st.lists(st.integers(0, classes - 1), min_size=int(np.prod(shape[:-1])),
                                 max_size=int(np.prod(shape[:-1]))))
        return g.add(f"L.cross_entropy({a}, {g.constant(np.array(labels, dtype=np.intp).reshape(shape[:-1]))})")
    if not g.value(a).size:
        return None
    target = g.pick(lambda v: v.shape == shape) if g.draw(st.booleans()) else g.array(shape)
    left, right = _sides(g, a, target or g.array(shape))
    return g.add(f"L.{kind}({left}, {right})")


def custom(g: Graph, a: str) -> str | None:
    """One of the user's Ops (extra_ops), its inputs put in its domain and kept off its kinks (by helper nodes)."""
    if not g.custom:
        return None
    name = g.draw(st.sampled_from(sorted(g.custom)))
    spec = g.custom[name]
    shape = g.shape(a)
    fits = _broadcasts(shape) if spec.broadcasts else (lambda v: v.shape == shape)
    operands = [a] + [g.pick(fits) if g.draw(st.booleans()) else None for _ in range(spec.arity - 1)]
    operands = g.draw(st.permutations(operands))
    arguments = []
    for x, domain in zip(operands, spec.domain):
        if x is None:  # a constant array in the domain
            low, high = {"real": (-2.0, 2.0), "positive": (0.5, 2.0), "unit": (-0.9, 0.9)}[domain]
            x = g.array(_partner_shape(g, shape) if spec.broadcasts else shape, low, high)
        else:
            x = _in_domain(g, x, domain)
        x = _off_kinks(g, x, spec.kinks, domain)
        if x is None or not _inside(g.evaluate(x), domain):
            return None
        arguments.append(x)
    params = _drawn_params(g, spec)
    return g.add(f"{name}({', '.join(arguments + [f'{k}={_source(spec, k, v)}' for k, v in params.items()])})")


#: Helper nodes that move an operand off a kink and keep it in its domain (|x| < 0.99 inside "unit").
_OFF_KINKS = {"real": ("{x} + 0.5", "{x} - 0.5", "{x} + 0.25", "{x} - 0.25", "{x} + 1.0", "{x} - 0.125"),
              "positive": ("{x} * 1.5", "{x} * 0.5", "{x} + 0.25", "{x} * 2.0", "{x} * 0.75"),
              "unit": ("0.5 * {x} + 0.25", "0.5 * {x} - 0.25", "0.5 * {x} + 0.125", "0.5 * {x} - 0.375")}


def _off_kinks(g: Graph, x: str, kinks: tuple[float, ...], domain: str) -> str | None:
    """``x`` if it is clear of the kinks, else a helper node that moves it off them; None if none does."""
    if _clear_of(g.evaluate(x), kinks):
        return x
    forms = _OFF_KINKS[domain]
    first = g.draw(st.integers(0, len(forms) - 1))
    for form in forms[first:] + forms[:first]:
        moved = form.format(x=x)
        if _clear_of(g.evaluate(moved), kinks) and _inside(g.evaluate(moved), domain):
            return g.add(moved)
    return None


def _drawn_params(g: Graph, spec: OpSpec) -> dict[str, Any]:
    """Keyword arguments drawn from ``spec.params``, checked against the forward's and each vjp's signature (a
    misspelt keyword would make every call fail, and the op would silently never be drawn)."""
    params = g.draw(spec.params) if spec.params is not None else {}
    where = f"expressions: OpSpec {spec.op.name!r}"
    if not _mapping_of(params, object):
        raise TypeError(f"{where}: params must draw dicts of keyword arguments, drew {type(params).__name__} "
                        f"{params!r:.60}")
    inputs = [f"x{i}" for i in range(spec.arity)]
    calls = [("forward", spec.op.forward, inputs)] + [(f"vjp {i}", vjp, ["g", "out"] + inputs)
                                                     for i, vjp in enumerate(spec.op.vjps)]
    for what, function, positional in calls:
        try:
            signature = inspect.signature(function)
        except (TypeError, ValueError):  # a builtin without a signature: its own call will tell
            continue
        try:
            signature.bind(*positional, **params)
        except TypeError as error:
            raise TypeError(f"{where}: its {what} cannot be called as {what.split()[0]}({', '.join(positional)}, "
                            f"**{params!r:.60}): {error}") from None
    return params


def _source(spec: OpSpec, name: str, value: Any) -> str:
    """A param as Python source for the program (arrays as np.array(...), inside tuples and lists too; inf and nan
    as the names the program imports); a TypeError if it has none."""
    if isinstance(value, tuple | list):
        items = [_source(spec, name, item) for item in value]
        return (f"({', '.join(items)}{',' if len(items) == 1 else ''})" if isinstance(value, tuple)
                else f"[{', '.join(items)}]")
    text = _literal(value) if isinstance(value, np.ndarray) else repr(value)
    try:
        eval(text, {"np": np, "inf": np.inf, "nan": np.nan})
    except Exception:  # noqa: BLE001 - any failure means the repr is not source
        raise TypeError(f"expressions: OpSpec {spec.op.name!r}: the param {name}={text:.60} cannot be written as "
                        "Python source for the printed program; draw numbers, strings, tuples or numpy "
                        "arrays") from None
    return text


def _inside(value: np.ndarray, domain: str) -> bool:
    if domain == "positive":
        return bool(np.all(value >= KINK_MARGIN))
    return domain == "real" or bool(np.all(np.abs(value) <= 1 - KINK_MARGIN))


def numpy_function(g: Graph, a: str) -> str | None:
    """numpy's own functions called on Values (np.exp(v), np.multiply(2.0, v), np.maximum(v, w), …)."""
    name = g.draw(st.sampled_from(["exp", "tanh", "negative", "log", "sqrt", "absolute", "add", "subtract",
                                   "multiply", "divide", "power", "maximum", "matmul"]))
    if name in ("exp", "tanh", "negative"):
        return g.add(f"np.{name}({a})")
    if name in ("log", "sqrt"):
        return g.add(f"np.{name}({_positive(g, a)})")
    if name == "absolute":
        return g.add(f"np.absolute({a})") if _clear_of(g.value(a), [0.0]) else None
    if name == "divide":
        return g.add(f"np.divide({a}, {_operand(g, a, positive=True)})")
    if name == "power":
        return g.add(f"np.power({_positive(g, a)}, {_operand(g, a)})")
    if name == "matmul":
        return g.add(f"np.matmul({a}, {a})") if g.value(a).ndim == 1 else None
    left, right = _sides(g, a, _operand(g, a))
    if name == "maximum" and not _clear_of(g.evaluate(f"{left} - {right}"), [0.0]):
        return None
    return g.add(f"np.{name}({left}, {right})")


def internal(g: Graph, a: str) -> str | None:
    """The Ops the backward pass builds on (create_graph), called directly: astype, ops.copy (a leaf's own
    gradient), ops.broadcast_to, ops.scatter (indexing's gradient: zeros with a's elements added at a key; repeated
    rows add up), the slopes of sigmoid and tanh, and log_softmax's vjp (a as g, log_softmax(a) as out)."""
    shape = g.shape(a)
    kind = g.draw(st.sampled_from(["astype", "copy", "broadcast_to", "scatter", "sigmoid_slope", "tanh_slope",
                                   "log_softmax_grad"]))
    if kind == "log_softmax_grad":
        return g.add(f"ops.log_softmax_grad({a}, F.log_softmax({a}, axis=None), axis=None)")
    if kind == "astype":
        return g.add(f"{a}.astype(x0.dtype)")  # the dtype of the first input: a no-op in float64 runs
    if kind in ("copy", "sigmoid_slope", "tanh_slope"):
        return g.add(f"ops.{kind}({a})")
    if kind == "broadcast_to":
        target = np.broadcast_shapes(shape, _partner_shape(g, shape))
        return g.add(f"ops.broadcast_to({a}, shape={target!r})")
    if shape and g.draw(st.booleans()):  # rows of a go to rows of a (rows, *shape[1:]) array, some twice
        rows = g.draw(st.integers(1, 3))
        key = g.draw(st.lists(st.integers(-rows, rows - 1), min_size=shape[0], max_size=shape[0]))
        target = (rows,) + shape[1:]
        return g.add(f"ops.scatter({a}, shape={target!r}, key={g.constant(np.array(key, dtype=np.intp))})")
    count = g.draw(st.integers(1, 3))
    return g.add(f"ops.scatter({a}, shape={(count,) + shape!r}, key={g.draw(st.integers(-count, count - 1))})")


#: The node builders, simplest first (hypothesis shrinks toward the start of the table; in_place, which adds no node,
#: last: a shrunk graph is then written without it where it can be).
BUILDERS: tuple[Callable[[Graph, str], str | None], ...] = (
    arithmetic, elementwise, reduction, division, power, reshape, transpose, indexing, matmul, softmax,
    joining, choosing, cost, numpy_function, internal, custom, in_place)
#: How often :func:`_grow` draws each builder: as many times as the ops it writes (elementwise 9, internal 6; matmul,
#: transpose and indexing twice), so that each op, not each builder, comes up about as often: drawn uniformly, each
#: element-wise function came up in 1 node of 144, and the small graphs of the second-order check missed some.
_WEIGHTS: dict[Callable[[Graph, str], str | None], int] = {
    arithmetic: 4, elementwise: 9, reduction: 4, matmul: 2, transpose: 2, indexing: 2, softmax: 2, joining: 2,
    choosing: 2, cost: 2, internal: 6}
_DRAWN_BUILDERS = tuple(builder for builder in BUILDERS for _ in range(_WEIGHTS.get(builder, 1)))


def _identifier(op: Op, taken: set[str]) -> str:
    name = op.name if op.name.isidentifier() and not keyword.iskeyword(op.name) else "custom_op"
    reserved = {"np", "F", "L", "ops", "f", "Value", "inputs", "check_gradients"}
    if name in reserved or name in taken or name[0] in "xvc" and name[1:].isdigit():
        name = f"{name}_{len(taken)}"
    return name


def _input_shapes(count: int) -> st.SearchStrategy:
    """``count`` input shapes, 0-d to 3-d, sides 1 to 3; usually broadcastable together, sometimes not."""
    together = hnp.mutually_broadcastable_shapes(num_shapes=count, max_dims=3, max_side=3).map(
        lambda s: s.input_shapes)
    apart = st.tuples(*[hnp.array_shapes(min_dims=0, max_dims=3, max_side=3)] * count)
    return st.one_of(together, apart)


def expressions(*, extra_ops: Sequence[Op | OpSpec] = (), min_nodes: int = 3, max_nodes: int = 25,
                max_inputs: int = 3, only_extra: bool = False) -> st.SearchStrategy[Expression]:
    """Random expression graphs (:class:`Expression`) of ``min_nodes`` to ``max_nodes`` nodes, inputs included
    (``len(expr.inputs) + len(expr.lines)``), with 1 to ``max_inputs`` inputs (fewer if ``max_nodes`` leaves no room).

    The graphs use every registered operation (arithmetic with numbers and arrays on either side, ``**`` with
    Values on both sides, matmul, every element-wise function and activation, sum/mean/max over random axes,
    reshape, transpose, indexing, softmax, concatenate/stack, np.split/np.array_split, where/maximum, the costs,
    cross_entropy against soft targets too), each in the spellings users write (``F.exp(v)``, ``v.exp()``,
    ``np.exp(v)``; ``v.sum(axis=…)``, ``np.sum(v, axis=…)``, ``np.amax``; ``np.moveaxis``, ``np.flip``, ``abs(v)``,
    ``+v``, ``F.identity``) plus the Ops you give in
    ``extra_ops`` (an :class:`~tinygrad_edu.Op`, or an :class:`OpSpec` saying its domain, kinks and params).
    With ``only_extra=True`` every other step of the drawing, the first one included, adds one of yours (with any
    helper nodes that put its inputs in its domain), so every graph with room for it uses one of your ops.
    Inputs are float64 arrays in [−2, 2].

    >>> from hypothesis import Phase, find, settings
    >>> from tinygrad_edu import Op
    >>> cube = Op("cube", lambda x: x ** 3, lambda g, out, x: 3 * g * x ** 2)
    >>> expr = find(expressions(extra_ops=[cube], only_extra=True), lambda e: "cube(" in e.program(),
    ...             settings=settings(database=None, derandomize=True, phases=[Phase.generate]))  # not shrunk
    >>> out = expr(*[Value(x) for x in expr.inputs])
    """
    specs = _checked_arguments(extra_ops, min_nodes, max_nodes, max_inputs, only_extra)
    refusal: list[ValueError | None] = []  # (the probe's verdict, kept: the forwards are called once per strategy)

    def probed() -> st.SearchStrategy[Expression]:
        if not refusal:
            refusal.append(next(filter(None, map(_unusable, specs.values())), None))
        if refusal[0] is not None:
            raise refusal[0].with_traceback(None)  # (not the traceback of every earlier use)
        return draw_expression()

    @st.composite
    def draw_expression(draw: Callable[[st.SearchStrategy], Any]) -> Expression:
        count = draw(st.integers(1, min(max_inputs, max_nodes - 1)))
        elements = st.floats(-2.0, 2.0, allow_subnormal=False)
        inputs = [draw(hnp.arrays(np.float64, shape, elements=elements)) for shape in draw(_input_shapes(count))]
        g = Graph(draw, inputs, specs)
        # room for one of your ops: with helper nodes (an input put in its domain, moved off a kink), 3 as for
        # two inputs; without, 1, so that a failing graph shrinks to the one line of your op
        room = 3 if only_extra and any(_needs_helpers(spec) for spec in specs.values()) else 1
        target = draw(st.integers(min(max(min_nodes, count + room), max_nodes), max_nodes))
        step = 0
        while g.closed_size() < target:
            _grow(g, only_extra and step % 2 == 0, target)
            step += 1
        g.finish()
        return g.expression()

    return st.deferred(probed)  # (made when a test first uses it, validate() or a draw: no forward called before)


def _needs_helpers(spec: OpSpec) -> bool:
    """Whether :func:`custom` may add helper nodes before ``spec``'s op: an input outside "real", or kinks."""
    return bool(spec.kinks) or any(domain != "real" for domain in spec.domain)


def _checked_arguments(extra_ops: Any, min_nodes: Any, max_nodes: Any, max_inputs: Any,
                       only_extra: Any) -> dict[str, OpSpec]:
    """expressions' arguments, checked (an error names expressions and the argument); the extra ops by name."""
    checks.integer(min_nodes, "min_nodes", "expressions", least=2)
    checks.integer(max_nodes, "max_nodes", "expressions", least=2)
    checks.integer(max_inputs, "max_inputs", "expressions", least=1)
    if min_nodes > max_nodes:
        raise ValueError(f"expressions: need 2 <= min_nodes <= max_nodes, got {min_nodes} and {max_nodes}")
    checks.flag(only_extra, "only_extra", "expressions")
    if not _sequence_of(extra_ops, (Op, OpSpec)):
        raise TypeError(f"expressions: extra_ops must be a list of Op or OpSpec objects, got "
                        f"{type(extra_ops).__name__} {extra_ops!r:.60}")
    specs: dict[str, OpSpec] = {}
    for op in extra_ops:
        spec = op if isinstance(op, OpSpec) else OpSpec(op)
        specs[_identifier(spec.op, set(specs))] = spec
    if only_extra and not specs:
        raise ValueError("expressions: only_extra=True needs extra_ops")
    return specs


#: The shapes an extra op's forward is tried on when the strategy is first used, in turn until one works: the
#: vector the refusal's advice calls it on first, so an op taking one is called once (Graph.add leaves out a node
#: whose forward raises; inputs are drawn up to 3-D)
_TRIED_SHAPES = ((3,), (), (2,), (2, 3), (3, 3), (2, 3, 3))


def _unusable(spec: OpSpec) -> ValueError | None:
    """A ValueError where ``spec``'s forward raises on every shape tried (numbers 0.1 to 0.5, inside every domain):
    no graph could use the op, and a property test of it would pass without calling it.  An op with ``params``, or
    whose forward needs keywords (said by :func:`_drawn_params` when drawn), is not tried.  The error quotes the
    forward's error on the vector its advice calls it on, ``np.linspace(0.1, 0.5, 3)``."""
    if spec.params is not None:
        return None
    try:
        inspect.signature(spec.op.forward).bind(*range(spec.arity))
    except TypeError:
        return None
    except ValueError:  # (a builtin without a signature: tried)
        pass
    failures = []
    for shape in _TRIED_SHAPES:
        arrays = [np.linspace(0.1, 0.5, int(np.prod(shape))).reshape(shape)] * spec.arity
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                spec.op.forward(*arrays)
            return None
        except (ValueError, TypeError, IndexError, ZeroDivisionError) as error:  # (what Graph.add leaves out)
            failures.append(error)
    name, failure = spec.op.name, failures[0]  # (the vector's, (3,), which the advice below calls it on)
    refusal = ValueError(f"expressions: the forward of your Op {name!r} raised {type(failure).__name__} "
                         f"({failure}) on inputs of every shape tried ((3,), whose error this is, then "
                         f"{', '.join(map(str, _TRIED_SHAPES[1:]))}), so no graph could use it and a test would pass "
                         "without calling it; call it yourself to see why, "
                         f"{name}({', '.join(['np.linspace(0.1, 0.5, 3)'] * spec.arity)})")
    refusal.__cause__ = failure
    return refusal


def _grow(g: Graph, extra: bool, most: int) -> None:
    """Add a node (and the helper nodes it needs) keeping the graph, once finished, at ``most`` nodes: try a few
    builders on a few operands, else tanh of the newest node (always fits; for an extra step, then your op on it)."""
    for _ in range(6):
        checkpoint = g.checkpoint()
        builder = custom if extra else g.draw(st.sampled_from(_DRAWN_BUILDERS))
        operand = g.pick() or list(g.values)[-1]  # pick() always finds a node when nothing is asked of it
        if builder(g, operand) is not None and g.closed_size() <= most:
            return
        g.rollback(checkpoint)
    name = g.add(f"F.tanh({list(g.values)[-1]})")
    if extra and name is not None:
        checkpoint = g.checkpoint()
        if custom(g, name) is None or g.closed_size() > most:
            g.rollback(checkpoint)
