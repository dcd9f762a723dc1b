"""An independent differential check: random expression graphs built twice, in tinygrad_edu and in PyTorch.

Each graph is generated as two short programs over the same numpy arrays, one line per node: the tinygrad_edu
program uses the public API only (operators with numbers, numpy scalars and arrays on either side, methods, numpy
functions, ``functional``, ``losses``); the PyTorch program computes the same thing in float64.  Every node's value,
shape and dtype (numpy's rule, as README.md states it: Python numbers adapt, arrays and numpy scalars do not), the
gradient of every leaf and intermediate, the Hessian-vector product through ``backward(create_graph=True)``, a
third derivative (d/dx ⟨∇⟨∇loss, u⟩, v⟩, against PyTorch's triple backward), accumulation over two ``backward()``
calls and ``no_grad`` are compared.  Inputs are kept inside each function's domain and away from kinks and ties
(the generator evaluates every candidate node in PyTorch before keeping it).

A failing graph is printed as one runnable program.  Run many graphs by hand with
``python tests/test_against_pytorch.py --graphs 2000 --seed 1`` (a few graphs a second; it stops after
``--seconds``, 420 by default, and says how many it checked); CI does not install PyTorch, so there the test is
skipped.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the differential check against it is skipped "
                                            "(pip install \".[crosscheck]\" to run it)")
if __name__ == "__main__":  # run as a script (the README's command): this checkout's package, not an installed copy
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tinygrad_edu import Value, no_grad  # noqa: E402

RTOL = 1e-10        # float64: relative to the largest magnitude of the compared array (and at least 1)
RTOL_FLOAT32 = 1e-4  # float32 nodes against the float64 reference
PREAMBLE = '''import numpy as np
import torch
import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses, no_grad

def red(t, kind, axis, keepdims):  # numpy's sum/mean/max/min(axis, keepdims) in PyTorch
    shape = getattr(np, kind)(np.zeros(tuple(t.shape)), axis=axis, keepdims=keepdims).shape
    dims = tuple(range(t.ndim)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    if t.ndim == 0 or not dims:
        return (t * 1.0).reshape(shape)
    function = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax, "min": torch.amin}[kind]
    return function(t, dim=dims, keepdim=keepdims).reshape(shape)

def take(t, positions):  # numpy indexing of t, as positions in the flattened t
    return t.reshape(-1)[torch.as_tensor(np.array(positions, dtype=np.int64))]

def const(a):
    return torch.as_tensor(np.asarray(a, dtype=np.float64))
'''
_HELPERS: dict[str, Any] = {}
exec(PREAMBLE, _HELPERS)  # the same helpers the printed programs define


# ---------------------------------------------------------------------------------------------------------------
# Literals: every array and key is written into the programs, so a failing graph prints as a runnable program.
# ---------------------------------------------------------------------------------------------------------------
def array_code(a: np.ndarray) -> str:
    items = repr(a.ravel().tolist())
    return f"np.array({items}, dtype=np.{a.dtype.name}).reshape({a.shape!r})"


def number_code(x: Any) -> str:
    if isinstance(x, np.generic):
        return f"np.{x.dtype.name}({x.item()!r})"
    text = repr(x)
    return f"({text})" if text.startswith("-") else text


def key_code(key: Any) -> str:
    if isinstance(key, tuple):
        return "(" + "".join(key_code(k) + ", " for k in key) + ")"
    if isinstance(key, np.ndarray):
        return array_code(key)
    if key is None:
        return "None"
    return repr(key)  # int, list, slice, Ellipsis


@dataclass
class Node:
    name: str
    data: np.ndarray  # the float64 reference value
    dtype: np.dtype  # the dtype tinygrad_edu must give (numpy's rule)
    leaf: bool = False
    uses: int = 0
    kind: str = "leaf"


@dataclass
class Graph:
    """Two programs (tinygrad_edu, PyTorch) over shared arrays, built one checked node at a time."""

    rng: np.random.Generator
    float32: bool = False
    arrays: list[str] = field(default_factory=list)
    tg: list[str] = field(default_factory=list)
    pt: list[str] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    namespace: dict = field(default_factory=lambda: dict(_HELPERS))

    # --- building -----------------------------------------------------------------------------------------------
    def constant(self, a: np.ndarray) -> str:
        name = f"c{len(self.arrays)}"
        self.arrays.append(f"{name} = {array_code(a)}")
        self.namespace[name] = a
        return name

    def leaf(self, shape: tuple[int, ...], low: float = -2.0, high: float = 2.0, float32: bool | None = None) -> Node:
        use32 = self.float32 and self.rng.random() < 0.7 if float32 is None else float32
        a = self.rng.uniform(low, high, size=shape).astype(np.float32 if use32 else np.float64)
        c = self.constant(a)
        name = f"x{sum(n.leaf for n in self.nodes)}"
        self.tg.append(f"{name} = Value({c})")
        self.pt.append(f"{name} = torch.tensor({c}, dtype=torch.float64, requires_grad=True)")
        exec(self.pt[-1], self.namespace)
        node = Node(name, a.astype(np.float64), a.dtype, leaf=True)
        self.nodes.append(node)
        return node

    def add(self, kind: str, tg: str, pt: str, dtype: np.dtype, inputs: list[Node], check=None,
            limit: float = 1e6) -> Node | None:
        """Evaluate the candidate node in PyTorch; keep it only if it is finite, moderate and passes ``check``."""
        name = f"n{len(self.nodes)}"
        try:
            out = eval(pt, self.namespace)
        except Exception as error:  # a generator bug, not a finding: report it loudly
            raise AssertionError(f"generator: PyTorch refused {pt}: {error}") from error
        data = out.detach().numpy()
        if not np.isfinite(data).all() or (data.size and np.abs(data).max() > limit):
            return None
        if check is not None and not check(data):
            return None
        self.namespace[name] = out
        self.tg.append(f"{name} = {tg}")
        self.pt.append(f"{name} = {pt}")
        for node in inputs:
            node.uses += 1
        node = Node(name, data, np.dtype(dtype), kind=kind)
        self.nodes.append(node)
        self.kinds.append(kind)
        return node

    # --- choosing ----------------------------------------------------------------------------------------------
    def pick(self, where=lambda n: True) -> Node | None:
        """A node, favouring recent and unused ones (depth and fan-out both happen)."""
        candidates = [n for n in self.nodes if where(n)]
        if not candidates:
            return None
        weights = np.array([1.0 + i + (3.0 if n.uses == 0 else 0.0) for i, n in enumerate(candidates)])
        return candidates[self.rng.choice(len(candidates), p=weights / weights.sum())]

    def shape(self, ndim: int | None = None) -> tuple[int, ...]:
        ndim = int(self.rng.integers(0, 4)) if ndim is None else ndim
        return tuple(int(self.rng.choice([1, 2, 3, 4, 0], p=[0.2, 0.35, 0.3, 0.13, 0.02])) for _ in range(ndim))

    def broadcast_partner(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """A shape that broadcasts with ``shape``, either way (dims dropped, set to 1, stretched, or added)."""
        dims = list(shape)
        out = []
        for n in dims[int(self.rng.integers(0, len(dims) + 1)) if dims and self.rng.random() < 0.4 else 0:]:
            r = self.rng.random()
            out.append(1 if r < 0.3 else int(self.rng.integers(2, 4)) if n == 1 and r < 0.6 else n)
        while len(dims) <= len(out) < 3 and self.rng.random() < 0.2:  # new leading axes (none were dropped)
            out.insert(0, int(self.rng.integers(1, 3)))
        return tuple(out)

    def operand(self, shape: tuple[int, ...], positive: bool = False) -> tuple[str, str, Any, Node | None]:
        """Something to combine with a node of ``shape``: (tinygrad code, PyTorch code, dtype or 'weak', node)."""
        low = 0.5 if positive else -2.0
        r = self.rng.random()
        if r < 0.3:  # another Value: an existing node if one fits, else a new leaf
            other = self.pick(lambda n: _broadcasts(n.data.shape, shape) and (not positive or _positive(n.data)))
            if other is None or self.rng.random() < 0.3:
                other = self.leaf(self.broadcast_partner(shape), low, 2.0)
            return other.name, other.name, other.dtype, other
        if r < 0.35:  # a Value that needs no gradient: a constant, strong like an array
            a = self.rng.uniform(low, 2.0, size=self.broadcast_partner(shape))
            a = a.astype(np.float32) if self.float32 and self.rng.random() < 0.5 else a
            c = self.constant(a)
            return f"Value({c}, requires_grad=False)", f"const({c})", a.dtype, None
        if r < 0.55:  # a Python number (weak)
            x = float(np.round(self.rng.uniform(low, 2.0), 3)) if self.rng.random() < 0.7 else int(
                self.rng.integers(1 if positive else -3, 4))
            x = x if x != 0 else 1.5
            return number_code(x), number_code(float(x)), "weak", None
        if r < 0.65:  # a numpy scalar (strong)
            dtype = self.rng.choice([np.float64, np.float32])
            x = dtype(np.round(self.rng.uniform(low if positive else 0.5, 2.0), 3))
            return number_code(x), repr(float(x)), np.dtype(dtype), None
        # an array: float64, float32, int or bool
        partner = self.broadcast_partner(shape)
        kind = self.rng.choice(["f8", "f4", "i8", "b"], p=[0.45, 0.3, 0.15, 0.1])
        if kind in ("f8", "f4"):
            a = self.rng.uniform(low, 2.0, size=partner).astype(kind)
        elif kind == "i8":
            a = self.rng.integers(1 if positive else -3, 4, size=partner).astype(np.int64)
            a[a == 0] = 2
        else:
            a = np.ones(partner, dtype=bool) if positive else self.rng.random(partner) < 0.5
        c = self.constant(a)
        return c, f"const({c})", a.dtype, None  # promoted as numpy promotes: bool beside float32 stays float32


def _broadcasts(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def _positive(data: np.ndarray, margin: float = 0.05) -> bool:
    return bool(data.size == 0 or data.min() > margin)


def _promote(*dtypes: Any) -> np.dtype:
    strong = [d for d in dtypes if not isinstance(d, str)]
    return np.result_type(*strong)


def _away_from_zero(data: np.ndarray, margin: float = 1e-4) -> bool:
    return bool(data.size == 0 or np.abs(data).min() > margin)


def _no_ties(data: np.ndarray, axis: Any) -> bool:
    """Every slice a max reduces has a unique largest element (so subgradient conventions cannot differ)."""
    if data.size == 0:
        return False
    axes = tuple(range(data.ndim)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    axes = tuple(a % data.ndim for a in axes) if data.ndim else ()
    if not axes:
        return True
    moved = np.moveaxis(data, axes, tuple(range(-len(axes), 0)))
    flat = np.sort(moved.reshape(moved.shape[:data.ndim - len(axes)] + (-1,)), axis=-1)
    if flat.shape[-1] < 2:
        return True
    return bool(np.all(flat[..., -1] - flat[..., -2] > 1e-6 * (1 + np.abs(flat[..., -1]))))


# ---------------------------------------------------------------------------------------------------------------
# The operations.  Each tries to add one node and returns it (None: the candidate was rejected).
# ---------------------------------------------------------------------------------------------------------------
UNARY = {  # name: (tinygrad spellings, PyTorch code, domain check)
    "exp": (["{x}.exp()", "F.exp({x})", "np.exp({x})"], "torch.exp({x})", lambda d: d.size == 0 or d.max() < 12),
    "log": (["{x}.log()", "F.log({x})", "np.log({x})"], "torch.log({x})", _positive),
    "sqrt": (["{x}.sqrt()", "F.sqrt({x})", "np.sqrt({x})"], "torch.sqrt({x})", _positive),
    "abs": (["{x}.abs()", "F.abs({x})", "np.abs({x})"], "torch.abs({x})", _away_from_zero),
    "tanh": (["{x}.tanh()", "F.tanh({x})", "np.tanh({x})"], "torch.tanh({x})", None),
    "sigmoid": (["{x}.sigmoid()", "F.sigmoid({x})"], "torch.sigmoid({x})", None),
    "relu": (["{x}.relu()", "F.relu({x})"], "torch.relu({x})", _away_from_zero),
    "softplus": (["F.softplus({x})"], "torch.nn.functional.softplus({x}, threshold=40.0)", None),
    "neg": (["-{x}", "np.negative({x})"], "-{x}", None),
}


def op_unary(g: Graph) -> Node | None:
    name = str(g.rng.choice(list(UNARY)))
    spellings, pt, domain = UNARY[name]
    x = g.pick()
    if domain is not None and not domain(x.data):
        if name in ("log", "sqrt"):
            x = g.pick(lambda n: _positive(n.data))
            if x is None:
                return None
        else:
            return None
    tg = str(g.rng.choice(spellings)).format(x=x.name)
    return g.add(name, tg, pt.format(x=x.name), x.dtype, [x])


def op_leaky_relu(g: Graph) -> Node | None:
    x = g.pick(lambda n: _away_from_zero(n.data))
    if x is None:
        return None
    slope = float(g.rng.choice([0.01, 0.2, 1.5]))
    return g.add("leaky_relu", f"F.leaky_relu({x.name}, {slope!r})",
                 f"torch.nn.functional.leaky_relu({x.name}, {slope!r})", x.dtype, [x])


def op_arithmetic(g: Graph) -> Node | None:
    symbol = str(g.rng.choice(["+", "-", "*", "/"]))
    x = g.pick()
    other_tg, other_pt, other_dtype, other = g.operand(x.data.shape)
    left = g.rng.random() < 0.5
    if symbol == "/":
        denominator = other if left else x
        if denominator is not None and not _away_from_zero(denominator.data, 0.1):
            return None
        if left and other is None:
            other_data = _eval_constant(g, other_pt)
            if not _away_from_zero(other_data, 0.1):
                return None
    if not left and other is None and other_dtype != "weak" and g.rng.random() < 0.3:
        tg = f"np.{dict(zip('+-*/', ['add', 'subtract', 'multiply', 'divide']))[symbol]}({other_tg}, {x.name})"
    else:
        tg = f"{x.name} {symbol} {other_tg}" if left else f"{other_tg} {symbol} {x.name}"
    pt = f"{x.name} {symbol} {other_pt}" if left else f"{other_pt} {symbol} {x.name}"
    inputs = [x] + ([other] if other is not None else [])
    return g.add(symbol, tg, pt, _promote(x.dtype, other_dtype), inputs)


def _eval_constant(g: Graph, pt: str) -> np.ndarray:
    value = eval(pt, g.namespace)
    return value.numpy() if isinstance(value, torch.Tensor) else np.asarray(value, dtype=np.float64)


def op_power(g: Graph) -> Node | None:
    form = str(g.rng.choice(["value**int", "value**float", "value**value", "number**value", "array**value",
                             "value**array"]))
    if form == "value**int":
        x = g.pick()
        k = int(g.rng.choice([2, 3, -1, -2, 0, 1]))
        if k < 0 and not _away_from_zero(x.data, 0.2):
            return None
        return g.add("pow", f"{x.name} ** {number_code(k)}", f"{x.name} ** {number_code(k)}", x.dtype, [x])
    if form == "value**float":
        x = g.pick(lambda n: _positive(n.data))
        if x is None:
            return None
        k = float(g.rng.choice([0.5, 1.5, -0.5, 2.0, 2.5]))
        return g.add("pow", f"{x.name} ** {number_code(k)}", f"{x.name} ** {number_code(k)}", x.dtype, [x])
    if form == "value**value":
        x = g.pick(lambda n: _positive(n.data))
        if x is None:
            return None
        y = g.pick(lambda n: _broadcasts(n.data.shape, x.data.shape) and n is not x and (
            n.data.size == 0 or np.abs(n.data).max() < 4))
        if y is None or g.rng.random() < 0.3:
            y = g.leaf(g.broadcast_partner(x.data.shape), -2.0, 2.0)
        spelling = str(g.rng.choice(["{a} ** {b}", "np.power({a}, {b})"]))
        return g.add("pow", spelling.format(a=x.name, b=y.name), f"{x.name} ** {y.name}", _promote(x.dtype, y.dtype),
                     [x, y])
    if form == "number**value":
        x = g.pick(lambda n: n.data.size == 0 or np.abs(n.data).max() < 20)
        if x is None:
            return None
        if g.rng.random() < 0.7:
            base = float(g.rng.choice([2.0, 0.5, 3.0, 1.7]))
            return g.add("rpow", f"{number_code(base)} ** {x.name}", f"{number_code(base)} ** {x.name}", x.dtype, [x])
        base = g.rng.choice([np.float64, np.float32])(g.rng.choice([2.0, 0.5, 1.7]))
        return g.add("rpow", f"{number_code(base)} ** {x.name}", f"{float(base)!r} ** {x.name}",
                     _promote(x.dtype, base.dtype), [x])
    if form == "array**value":
        x = g.pick(lambda n: n.data.size == 0 or np.abs(n.data).max() < 10)
        if x is None:
            return None
        c_tg, c_pt, c_dtype, other = g.operand(x.data.shape, positive=True)
        if other is not None:
            return None
        return g.add("rpow", f"{c_tg} ** {x.name}", f"{c_pt} ** {x.name}", _promote(x.dtype, c_dtype), [x])
    x = g.pick(lambda n: _positive(n.data))  # value ** array
    if x is None:
        return None
    c_tg, c_pt, c_dtype, other = g.operand(x.data.shape, positive=True)
    if other is not None:
        return None
    return g.add("pow", f"{x.name} ** {c_tg}", f"{x.name} ** {c_pt}", _promote(x.dtype, c_dtype), [x])


def random_axis(g: Graph, ndim: int) -> Any:
    r = g.rng.random()
    if r < 0.25:
        return None
    if ndim == 0:
        return [0, -1, ()][int(g.rng.integers(0, 3))]
    if r < 0.65:
        return int(g.rng.integers(-ndim, ndim))
    count = int(g.rng.integers(0 if g.rng.random() < 0.1 else 1, ndim + 1))
    axes = g.rng.permutation(ndim)[:count]
    return tuple(int(a) - (ndim if g.rng.random() < 0.4 else 0) for a in axes)


def op_reduce(g: Graph) -> Node | None:
    kind = str(g.rng.choice(["sum", "mean", "max", "min"]))
    x = g.pick()
    axis = random_axis(g, x.data.ndim)
    if kind == "mean" and x.data.ndim == 0 and isinstance(axis, int):
        return None  # numpy refuses np.mean(0-d array, axis=0) (while np.sum and np.max accept it)
    keepdims = bool(g.rng.random() < 0.4)
    if kind != "sum":  # an empty slice has no mean, max or min
        reduced = np.sum(np.ones(x.data.shape), axis=axis, keepdims=keepdims) if x.data.ndim else np.ones(())
        if x.data.size == 0 or (np.size(reduced) and np.min(reduced) == 0):
            return None
    if kind in ("max", "min") and not _no_ties(x.data if kind == "max" else -x.data, axis):
        return None
    arguments = [] if axis is None and not keepdims and g.rng.random() < 0.5 else [f"axis={axis!r}"]
    if keepdims or g.rng.random() < 0.3:
        arguments.append(f"keepdims={keepdims!r}")
    tg = f"{x.name}.{kind}({', '.join(arguments)})"
    return g.add(kind, tg, f"red({x.name}, {kind!r}, {axis!r}, {keepdims!r})", x.dtype, [x])


def op_reshape(g: Graph) -> Node | None:
    x = g.pick()
    size = x.data.size
    if size == 0:
        shape: list[int] = [0, int(g.rng.integers(1, 3))]
    else:
        shape = []
        rest = size
        for _ in range(int(g.rng.integers(0, 3))):
            divisors = [d for d in range(1, rest + 1) if rest % d == 0]
            d = int(g.rng.choice(divisors))
            shape.append(d)
            rest //= d
        if rest != 1 or g.rng.random() < 0.5:
            shape.append(rest)
    if shape and size and g.rng.random() < 0.3:
        shape[int(g.rng.integers(0, len(shape)))] = -1
    spelling = f"{x.name}.reshape({tuple(shape)!r})" if g.rng.random() < 0.5 or not shape else \
        f"{x.name}.reshape({', '.join(map(str, shape))})"
    return g.add("reshape", spelling, f"{x.name}.reshape({tuple(shape)!r})", x.dtype, [x])


def op_transpose(g: Graph) -> Node | None:
    x = g.pick()
    ndim = x.data.ndim
    r = g.rng.random()
    if r < 0.2:
        return g.add("T", f"{x.name}.T", f"{x.name}.permute({tuple(range(ndim))[::-1]!r})", x.dtype, [x])
    if r < 0.3:
        return g.add("transpose", f"{x.name}.transpose()", f"{x.name}.permute({tuple(range(ndim))[::-1]!r})",
                     x.dtype, [x])
    if r < 0.55 and ndim >= 1:
        a, b = (int(v) for v in g.rng.integers(-ndim, ndim, size=2))
        return g.add("swapaxes", f"{x.name}.swapaxes({a}, {b})", f"torch.swapaxes({x.name}, {a}, {b})", x.dtype, [x])
    perm = tuple(int(a) - (ndim if g.rng.random() < 0.5 else 0) for a in g.rng.permutation(ndim))
    # (the spread form of a matrix's identity, m.transpose(0, 1), is refused: PyTorch reads it as exchanging the axes)
    spelling = f"{x.name}.transpose({perm!r})" if g.rng.random() < 0.5 or ndim < 2 or perm[0] % ndim == 0 and \
        ndim == 2 else f"{x.name}.transpose({', '.join(map(str, perm))})"
    return g.add("transpose", spelling, f"{x.name}.permute({perm!r})", x.dtype, [x])


def random_key(g: Graph, shape: tuple[int, ...]) -> Any:
    """A numpy index for an array of ``shape``: ints, slices (negative steps, empty), lists with repeats, empty
    lists, boolean masks, None and Ellipsis, alone or in a tuple."""
    parts: list[Any] = []
    dim = 0
    advanced_used = False
    while dim < len(shape) and (not parts or g.rng.random() < 0.6):
        n = shape[dim]
        r = g.rng.random()
        if r < 0.2 and n:
            parts.append(int(g.rng.integers(-n, n)))
        elif r < 0.5:
            start, stop = (int(v) for v in g.rng.integers(-n - 1, n + 2, size=2))
            step = int(g.rng.choice([1, 1, 2, -1, -2]))
            parts.append(slice(start if g.rng.random() < 0.7 else None, stop if g.rng.random() < 0.7 else None,
                               step if g.rng.random() < 0.6 else None))
        elif r < 0.7 and not advanced_used:
            advanced_used = True
            count = int(g.rng.integers(0, 5))
            picks = [int(v) for v in g.rng.integers(-n, n, size=count)] if n else []
            parts.append(picks if g.rng.random() < 0.5 else np.array(picks, dtype=np.int64))
        elif r < 0.8 and not advanced_used:
            advanced_used = True
            parts.append(g.rng.random(n) < 0.5)
        elif r < 0.9:
            parts.append(None)
            continue
        else:
            parts.append(Ellipsis)
            break
        dim += 1
    if not parts:
        return () if g.rng.random() < 0.5 else Ellipsis
    return parts[0] if len(parts) == 1 and g.rng.random() < 0.6 else tuple(parts)


def op_index(g: Graph) -> Node | None:
    x = g.pick()
    key = random_key(g, x.data.shape)
    try:
        positions = np.arange(x.data.size).reshape(x.data.shape)[key]
    except IndexError:
        return None
    shape = x.data.shape
    code = key_code(key)
    if isinstance(key, tuple) and key and g.rng.random() < 0.5:
        subscript = ", ".join(key_code(k) for k in key) + ("," if len(key) == 1 else "")
    else:
        subscript = code
    return g.add("index", f"{x.name}[{subscript}]",
                 f"take({x.name}, np.arange({x.data.size}).reshape({shape!r})[{code}])", x.dtype, [x],
                 check=lambda d: d.shape == positions.shape)


def op_matmul(g: Graph) -> Node | None:
    x = g.pick(lambda n: 1 <= n.data.ndim <= 3 and n.data.size <= 40)
    if x is None:
        return None
    shape = x.data.shape
    on_left = g.rng.random() < 0.5  # x @ other, else other @ x
    m = int(g.rng.integers(1, 4))
    batch = shape[:-2]
    if on_left:
        inner = shape[-1]
        options = [(inner,), (inner, m), (int(g.rng.choice([1, *batch[-1:]] if batch else [1, 2])), inner, m)]
        if batch:
            options.append(batch + (inner, m))
    else:
        inner = shape[-2] if len(shape) >= 2 else shape[0]
        options = [(inner,), (m, inner), (int(g.rng.choice([1, *batch[-1:]] if batch else [1, 2])), m, inner)]
        if batch:
            options.append(batch + (m, inner))
    other_shape = options[int(g.rng.integers(0, len(options)))]
    r = g.rng.random()
    if r < 0.6:
        other = g.leaf(other_shape)
        o_tg = o_pt = other.name
        o_dtype: Any = other.dtype
        inputs = [x, other]
    else:
        a = g.rng.uniform(-2, 2, size=other_shape).astype(np.float32 if g.float32 and r < 0.7 else np.float64)
        o_tg = g.constant(a)
        o_pt, o_dtype, inputs = f"const({o_tg})", a.dtype, [x]
    tg = f"{x.name} @ {o_tg}" if on_left else f"{o_tg} @ {x.name}"
    if g.rng.random() < 0.2:
        tg = f"np.matmul({x.name}, {o_tg})" if on_left else f"np.matmul({o_tg}, {x.name})"
    pt = f"{x.name} @ {o_pt}" if on_left else f"{o_pt} @ {x.name}"
    return g.add("matmul", tg, pt, _promote(x.dtype, o_dtype), inputs)


def op_softmax(g: Graph) -> Node | None:
    x = g.pick(lambda n: n.data.ndim >= 1 and n.data.size > 0)
    if x is None:
        return None
    axis = int(g.rng.integers(-x.data.ndim, x.data.ndim))
    kind = str(g.rng.choice(["softmax", "log_softmax"]))
    tg = f"F.{kind}({x.name}, axis={axis})" if axis != -1 or g.rng.random() < 0.5 else f"F.{kind}({x.name})"
    return g.add(kind, tg, f"torch.{kind}({x.name}, dim={axis})", x.dtype, [x])


def _piece(g: Graph, shape: tuple[int, ...], x: Node) -> tuple[str, str, Any, Node | None]:
    r = g.rng.random()
    if r < 0.25:
        return x.name, x.name, x.dtype, x if shape == x.data.shape else None
    if r < 0.7:
        leaf = g.leaf(shape)
        return leaf.name, leaf.name, leaf.dtype, leaf
    a = g.rng.uniform(-2, 2, size=shape)
    c = g.constant(a)
    return c, f"const({c})", a.dtype, None


def op_join(g: Graph) -> Node | None:
    x = g.pick(lambda n: n.data.size <= 30)
    if x is None:
        return None
    shape = x.data.shape
    count = int(g.rng.integers(1, 4))
    if g.rng.random() < 0.35:  # stack: pieces of one shape, a new axis
        axis = int(g.rng.integers(-len(shape) - 1, len(shape) + 1))
        pieces = [(x.name, x.name, x.dtype, x)] + [_piece(g, shape, x) for _ in range(count - 1)]
        pieces = [p if p[3] is not None or p[0] != x.name else (x.name, x.name, x.dtype, x) for p in pieces]
        order = g.rng.permutation(len(pieces))
        pieces = [pieces[i] for i in order]
        tg = f"F.stack([{', '.join(p[0] for p in pieces)}], axis={axis})"
        pt = f"torch.stack([{', '.join(p[1] for p in pieces)}], dim={axis})"
        kind = "stack"
    else:
        axis: Any = None if g.rng.random() < 0.25 or not shape else int(g.rng.integers(-len(shape), len(shape)))
        pieces = [(x.name, x.name, x.dtype, x)]
        for _ in range(count - 1):
            if axis is None:
                other_shape = g.shape()
            else:
                other = list(shape)
                other[axis] = int(g.rng.choice([0, 1, 2, 3], p=[0.1, 0.3, 0.3, 0.3]))
                other_shape = tuple(other)
            pieces.append(_piece(g, other_shape, x) if other_shape != shape else _piece(g, shape, x))
        pieces = [pieces[i] for i in g.rng.permutation(len(pieces))]
        tg = f"F.concatenate([{', '.join(p[0] for p in pieces)}], axis={axis!r})"
        if axis is None:
            pt = f"torch.cat([{', '.join(p[1] + '.reshape(-1)' for p in pieces)}])"
        else:
            pt = f"torch.cat([{', '.join(p[1] for p in pieces)}], dim={axis})"
        kind = "concatenate"
    nodes = [p[3] for p in pieces if p[3] is not None]
    return g.add(kind, tg, pt, _promote(*[p[2] for p in pieces]), nodes)


def op_where(g: Graph) -> Node | None:
    x = g.pick()
    mask = g.rng.random(g.broadcast_partner(x.data.shape)) < 0.5
    m = g.constant(mask)
    o_tg, o_pt, o_dtype, other = g.operand(np.broadcast_shapes(x.data.shape, mask.shape))
    if other is None and not o_pt.startswith("const("):  # a number: PyTorch wants a tensor here
        o_pt = f"torch.tensor({o_pt}, dtype=torch.float64)"
    first = g.rng.random() < 0.5
    a_tg, b_tg = (x.name, o_tg) if first else (o_tg, x.name)
    a_pt, b_pt = (x.name, o_pt) if first else (o_pt, x.name)
    inputs = [x] + ([other] if other is not None else [])
    return g.add("where", f"F.where({m}, {a_tg}, {b_tg})", f"torch.where(torch.as_tensor({m}), {a_pt}, {b_pt})",
                 _promote(x.dtype, o_dtype), inputs)


def op_maximum(g: Graph) -> Node | None:
    x = g.pick()
    o_tg, o_pt, o_dtype, other = g.operand(x.data.shape)
    if other is None and not o_pt.startswith("const("):  # a number: PyTorch wants a tensor here
        o_pt = f"torch.tensor({o_pt}, dtype=torch.float64)"
    other_data = other.data if other is not None else _eval_constant(g, o_pt)
    try:
        gap = np.abs(x.data - other_data)
    except ValueError:
        return None
    if gap.size and gap.min() < 1e-6:
        return None
    first = g.rng.random() < 0.5
    a_tg, b_tg = (x.name, o_tg) if first else (o_tg, x.name)
    a_pt, b_pt = (x.name, o_pt) if first else (o_pt, x.name)
    spelling = str(g.rng.choice(["F.maximum", "np.maximum"])) if other is not None or first else "F.maximum"
    inputs = [x] + ([other] if other is not None else [])
    return g.add("maximum", f"{spelling}({a_tg}, {b_tg})", f"torch.maximum({a_pt}, {b_pt})",
                 _promote(x.dtype, o_dtype), inputs)


def op_loss(g: Graph) -> Node | None:
    kind = str(g.rng.choice(["squared_error", "mean_squared_error", "cross_entropy"]))
    if kind == "cross_entropy":
        # (logits of one class are refused, a cost of 0 that trains nothing: at least 2 classes)
        x = g.pick(lambda n: n.data.ndim in (1, 2) and n.data.size > 0 and n.data.shape[-1] > 1)
        if x is None:
            return None
        shape = x.data.shape
        k = shape[-1]
        r = g.rng.random()
        if r < 0.4:
            labels = g.rng.integers(0, k, size=shape[:-1])
            rows = np.eye(k)[labels]
        elif r < 0.7:
            rows = np.eye(k, dtype=np.int64)[g.rng.integers(0, k, size=shape[:-1])]
            labels = rows
        else:
            rows = g.rng.random(shape) + 0.1
            rows /= rows.sum(axis=-1, keepdims=True)
            labels = rows
        c = g.constant(np.asarray(labels))
        r_code = g.constant(np.asarray(rows, dtype=np.float64))
        n = shape[0] if len(shape) == 2 else 1
        pt = f"-(torch.log_softmax({x.name}, dim=-1) * const({r_code})).sum() / {n}"
        dtype = _promote(x.dtype, rows.dtype) if np.asarray(labels).dtype.kind == "f" else x.dtype  # float rows
        return g.add(kind, f"losses.cross_entropy({x.name}, {c})", pt, dtype, [x])
    x = g.pick(lambda n: n.data.size > 0)
    if x is None:
        return None
    shape = x.data.shape
    y = g.pick(lambda n: n.data.shape == shape and n is not x) if g.rng.random() < 0.4 else None
    if y is not None:
        t_tg = t_pt = y.name
        t_dtype: Any = y.dtype
    else:
        t = g.rng.uniform(-2, 2, size=shape)
        t_tg = g.constant(t)
        t_pt, t_dtype = f"const({t_tg})", np.dtype(np.float64)
    inputs = [x] + ([y] if y is not None else [])
    if kind == "squared_error":
        n = shape[0] if len(shape) >= 2 else 1
        pt = f"(({x.name} - {t_pt}) ** 2).sum() / {n}"
    else:
        pt = f"(({x.name} - {t_pt}) ** 2).mean()"
    return g.add(kind, f"losses.{kind}({x.name}, {t_tg})", pt, _promote(x.dtype, t_dtype), inputs)


def op_astype(g: Graph) -> Node | None:
    x = g.pick()
    target = np.float64 if x.dtype == np.float32 else np.float32
    if target == np.float32 and not g.float32:
        return None
    # the float64 reference rounds through float32 too, so both compute from the same numbers
    pt = f"{x.name}.to(torch.float32).to(torch.float64)" if target == np.float32 else f"{x.name} * 1.0"
    return g.add("astype", f"{x.name}.astype(np.{target.__name__})", pt, np.dtype(target), [x])


OPERATIONS = [(op_unary, 6), (op_leaky_relu, 1), (op_arithmetic, 8), (op_power, 3), (op_reduce, 4),
              (op_reshape, 2), (op_transpose, 2), (op_index, 3), (op_matmul, 2), (op_softmax, 1.5), (op_join, 1.5),
              (op_where, 1), (op_maximum, 1), (op_loss, 0.7), (op_astype, 0.5)]


def build_graph(seed: int, float32: bool = False, size: int | None = None) -> Graph:
    """A random graph of ``size`` operations (3 to 25 by default) ending in one scalar ``loss``."""
    rng = np.random.default_rng(seed)
    g = Graph(rng, float32=float32)
    size = int(rng.integers(3, 26)) if size is None else size
    for _ in range(int(rng.integers(1, 4))):
        scale = 30.0 if rng.random() < 0.1 else 2.0  # now and then large inputs: the tails of the activations
        g.leaf(g.shape(), -scale, scale)
    functions = [f for f, _ in OPERATIONS]
    weights = np.array([w for _, w in OPERATIONS])
    made = attempts = 0
    while made < size and attempts < size * 20:
        attempts += 1
        operation = functions[rng.choice(len(functions), p=weights / weights.sum())]
        made += operation(g) is not None
    finish(g)
    return g


def finish(g: Graph) -> None:
    """loss = Σ over the unused nodes of ⟨node, random weights⟩: every node reaches the loss."""
    sinks = [n for n in g.nodes if n.uses == 0]
    terms = []
    for node in sinks:
        w = g.constant(g.rng.uniform(-1, 1, size=node.data.shape))
        term = g.add("sink", f"({node.name} * {w}).sum()", f"({node.name} * const({w})).sum()",
                     _promote(node.dtype, np.dtype(np.float64)), [node], limit=np.inf)
        assert term is not None, "a weighted sum of finite numbers is finite"
        terms.append(term.name)
    g.tg.append(f"loss = {' + '.join(terms)}")
    g.pt.append(f"loss = {' + '.join(terms)}")
    exec(g.pt[-1], g.namespace)
    g.nodes.append(Node("loss", g.namespace["loss"].detach().numpy(), np.dtype(np.float64)))


# ---------------------------------------------------------------------------------------------------------------
# Running and comparing.
# ---------------------------------------------------------------------------------------------------------------
def program(g: Graph, extra: str = "") -> str:
    """The graph as one runnable program: arrays, the tinygrad_edu program, the PyTorch program, a comparison."""
    leaves = [n.name for n in g.nodes if n.leaf]
    v = [f"v{i} = np.random.default_rng({i}).uniform(-1, 1, size={tuple(g.namespace[name].shape)!r})"
         for i, name in enumerate(leaves)]
    lines = [PREAMBLE, *g.arrays, *v, "", "# tinygrad_edu", *g.tg, "loss.backward()",
             "tg = {name: value for name, value in locals().items() if name[0] in 'nx' and name[1:].isdigit()}",
             "", "# PyTorch (float64)", "pt_leaves = {}", "for line in '''", *g.pt, "'''.splitlines():",
             "    if line:", "        exec(line)", "        name = line.split(' = ')[0]",
             "        pt_leaves[name] = eval(name)", "        eval(name).retain_grad()",
             "loss.backward()",
             "for name, value in tg.items():",
             "    ref = pt_leaves[name]",
             "    grad = None if ref.grad is None else ref.grad.numpy()",
             "    print(name, value.dtype, 'value diff', np.max(np.abs(value.data - ref.detach().numpy()), initial=0),",
             "          'grad diff', None if grad is None or value.grad is None else",
             "          np.max(np.abs(value.grad - grad), initial=0))", extra]
    return "\n".join(lines)


class Mismatch(AssertionError):
    pass


def close(actual: np.ndarray, expected: np.ndarray, rtol: float) -> bool:
    actual, expected = np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        return False
    if expected.size == 0:
        return True
    scale = max(1.0, float(np.abs(expected).max()))
    return bool(np.all(np.abs(actual - expected) <= rtol * scale))


def run_tinygrad(g: Graph, grad_mode: bool = True) -> dict:
    namespace = dict(_HELPERS)
    namespace.update({name: g.namespace[name] for name in g.namespace if name[0] == "c" and name[1:].isdigit()})
    code = "\n".join(g.tg)
    if grad_mode:
        exec(code, namespace)
    else:
        with no_grad():
            exec(code, namespace)
    return namespace


def run_torch(g: Graph) -> tuple[dict, list]:
    namespace = dict(_HELPERS)
    namespace.update({name: g.namespace[name] for name in g.namespace if name[0] == "c" and name[1:].isdigit()})
    nodes = []
    for line in g.pt:
        exec(line, namespace)
        name = line.split(" = ")[0]
        value = namespace[name]
        if value.requires_grad and not value.is_leaf:
            value.retain_grad()
        nodes.append(name)
    return namespace, nodes


def node_names(g: Graph) -> list[str]:
    return [line.split(" = ")[0] for line in g.tg]


def leaf_names(g: Graph) -> list[str]:
    return [n.name for n in g.nodes if n.leaf]


def check_forward(g: Graph, tg: dict) -> None:
    rtol = RTOL_FLOAT32 if g.float32 else RTOL
    for node in g.nodes:
        value = tg[node.name]
        if not isinstance(value, Value):
            raise Mismatch(f"{node.name} is a {type(value).__name__}, not a Value")
        if value.dtype != node.dtype:
            raise Mismatch(f"{node.name}: dtype {value.dtype}, numpy's rule gives {node.dtype}")
        if value.shape != node.data.shape:
            raise Mismatch(f"{node.name}: shape {value.shape}, PyTorch gives {node.data.shape}")
        if not close(value.data, node.data, RTOL_FLOAT32 if value.dtype == np.float32 else rtol):
            raise Mismatch(f"{node.name}: value differs: max |diff| "
                           f"{np.max(np.abs(value.data - node.data), initial=0):.3g}")


def check_first_order(g: Graph) -> None:
    tg = run_tinygrad(g)
    check_forward(g, tg)
    tg["loss"].backward()
    pt, names = run_torch(g)
    pt["loss"].backward()
    rtol = RTOL_FLOAT32 if g.float32 else RTOL
    for name in reversed(names[:-1]):  # from the loss down: the first mismatch is nearest its cause
        value, reference = tg[name], pt[name]
        expected = np.zeros(reference.shape) if reference.grad is None else reference.grad.numpy()
        if value.grad is None:
            raise Mismatch(f"{name}.grad is None; PyTorch gives {expected}")
        grad = value.grad
        if not isinstance(grad, np.ndarray):
            raise Mismatch(f"{name}.grad is a {type(grad).__name__}, not an array")
        if grad.dtype != value.dtype:
            raise Mismatch(f"{name}.grad has dtype {grad.dtype}, its Value {value.dtype}")
        if not close(grad, expected, RTOL_FLOAT32 if value.dtype == np.float32 else rtol):
            raise Mismatch(f"{name}.grad differs from PyTorch's: max |diff| "
                           f"{np.max(np.abs(grad - expected), initial=0):.3g}\n"
                           f"tinygrad_edu: {grad!r}\nPyTorch: {expected!r}")
    # a second backward accumulates on the leaves
    first = {name: np.array(tg[name].grad) for name in leaf_names(g)}
    tg["loss"].backward()
    for name in leaf_names(g):
        if not close(tg[name].grad, 2 * first[name], RTOL):
            raise Mismatch(f"{name}.grad after a second backward() is not twice the first")
    # no_grad: the same numbers, no graph
    quiet = run_tinygrad(g, grad_mode=False)
    for name in node_names(g):
        if name in leaf_names(g):
            continue
        if quiet[name].requires_grad or quiet[name].parents:
            raise Mismatch(f"{name} made under no_grad records a graph")
        if not np.array_equal(quiet[name].data, tg[name].data, equal_nan=True):
            raise Mismatch(f"{name} under no_grad differs from the recorded forward")


def check_second_order(g: Graph) -> None:
    """Hessian-vector products: d/dx ⟨∇loss, v⟩ by create_graph=True against PyTorch's double backward."""
    leaves = leaf_names(g)
    directions = [np.random.default_rng(i).uniform(-1, 1, size=g.namespace[name].shape)
                  for i, name in enumerate(leaves)]
    tg = run_tinygrad(g)
    tg["loss"].backward(create_graph=True)
    pt, _ = run_torch(g)
    pt_leaves = [pt[name] for name in leaves]
    grads = torch.autograd.grad(pt["loss"], pt_leaves, create_graph=True, allow_unused=True)
    rtol = RTOL_FLOAT32 if g.float32 else RTOL
    inner = None
    pt_inner = None
    for name, direction, reference in zip(leaves, directions, grads):
        grad = tg[name].grad
        expected = np.zeros(direction.shape) if reference is None else reference.detach().numpy()
        if not isinstance(grad, Value):
            raise Mismatch(f"{name}.grad after backward(create_graph=True) is a {type(grad).__name__}, not a Value")
        if not close(grad.data, expected, rtol):
            raise Mismatch(f"{name}.grad under create_graph=True differs from PyTorch's: max |diff| "
                           f"{np.max(np.abs(grad.data - expected), initial=0):.3g}")
        term = (grad * direction).sum()
        inner = term if inner is None else inner + term
        if reference is not None:
            t = (reference * torch.as_tensor(direction)).sum()
            pt_inner = t if pt_inner is None else pt_inner + t
    for name in leaves:
        tg[name].zero_grad()
    pt_ok = pt_inner is not None and pt_inner.requires_grad
    if inner is None or not inner.requires_grad:
        if pt_ok:
            hv = torch.autograd.grad(pt_inner, pt_leaves, allow_unused=True)
            if any(h is not None and h.abs().sum() > 0 for h in hv):
                raise Mismatch("tinygrad_edu's gradient does not require a gradient, but the Hessian is not 0")
        return
    inner.backward()
    if not pt_ok:
        hv = [None] * len(leaves)
    else:
        hv = torch.autograd.grad(pt_inner, pt_leaves, allow_unused=True)
    for name, reference in zip(leaves, hv):
        expected = np.zeros(g.namespace[name].shape) if reference is None or reference._is_zerotensor() else \
            reference.numpy()
        actual = tg[name].grad
        actual = np.zeros(expected.shape) if actual is None else actual
        if not close(actual, expected, rtol * 10):
            raise Mismatch(f"Hessian-vector product for {name} differs from PyTorch's: max |diff| "
                           f"{np.max(np.abs(actual - expected), initial=0):.3g}\n"
                           f"tinygrad_edu: {actual!r}\nPyTorch: {expected!r}")


def _check_zero_derivatives(theirs: Any, pt_leaves: list, what: str) -> None:
    """Where our derivative came out a constant, PyTorch's derivative of its counterpart must be 0 too."""
    if theirs is None or not theirs.requires_grad:
        return
    derivatives = torch.autograd.grad(theirs, pt_leaves, allow_unused=True)
    if any(d is not None and not d._is_zerotensor() and d.abs().sum() > 0 for d in derivatives):
        raise Mismatch(f"tinygrad_edu's derivative of {what} is a constant, but PyTorch's is not 0")


def check_third_order(g: Graph) -> None:
    """d/dx ⟨∇⟨∇loss, u⟩, v⟩ (three backward passes, the first two recorded) against PyTorch's triple backward."""
    leaves = leaf_names(g)
    directions = [[np.random.default_rng(10 * k + i).uniform(-1, 1, size=g.namespace[name].shape)
                   for i, name in enumerate(leaves)] for k in (1, 2)]
    tg, (pt, _) = run_tinygrad(g), run_torch(g)
    pt_leaves = [pt[name] for name in leaves]
    ours, theirs = tg["loss"], pt["loss"]
    ours.backward(create_graph=True)
    for k, direction in enumerate(directions):
        grads = [tg[name].grad for name in leaves]
        for name in leaves:
            tg[name].zero_grad()
        terms = [(grad * d).sum() for grad, d in zip(grads, direction) if isinstance(grad, Value)]
        ours = sum(terms[1:], terms[0]) if terms else None
        if theirs is not None and theirs.requires_grad:
            their_grads = torch.autograd.grad(theirs, pt_leaves, create_graph=True, allow_unused=True)
            pieces = [(t * torch.as_tensor(d)).sum() for t, d in zip(their_grads, direction) if t is not None]
            theirs = sum(pieces[1:], pieces[0]) if pieces else None
        if ours is None or not ours.requires_grad:  # a constant here: every higher derivative of ours is 0
            _check_zero_derivatives(theirs, pt_leaves, f"order {k + 2}")
            return
        ours.backward(create_graph=k == 0)
    hv = torch.autograd.grad(theirs, pt_leaves, allow_unused=True) if theirs is not None and theirs.requires_grad \
        else [None] * len(leaves)
    rtol = (RTOL_FLOAT32 if g.float32 else RTOL) * 100
    for name, reference in zip(leaves, hv):
        expected = np.zeros(g.namespace[name].shape) if reference is None or reference._is_zerotensor() else \
            reference.numpy()
        actual = np.zeros(expected.shape) if tg[name].grad is None else tg[name].grad
        if not close(actual, expected, rtol):
            raise Mismatch(f"third derivative for {name} differs from PyTorch's: max |diff| "
                           f"{np.max(np.abs(actual - expected), initial=0):.3g}\n"
                           f"tinygrad_edu: {actual!r}\nPyTorch: {expected!r}")


def check_graph(seed: int, float32: bool = False, second_order: bool = True, size: int | None = None) -> Graph:
    g = build_graph(seed, float32=float32, size=size)
    try:
        check_first_order(g)
        if second_order:
            check_second_order(g)
            check_third_order(g)
    except Exception as error:
        text = program(g)
        kinds = {n.name: n.kind for n in g.nodes}
        first = re.split(r"[ .:\[]", str(error), maxsplit=1)[0]
        raise Mismatch(f"graph seed={seed} float32={float32}: [{kinds.get(first, '?')}] {type(error).__name__}: "
                       f"{error}\n"
                       f"--- runnable program ---\n{text}") from error
    return g


GRAPHS, CHUNKS = 200, 8
_kinds_seen: dict[str, int] = {}
_seeds_seen: set[int] = set()


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_random_graphs_agree_with_pytorch(chunk: int) -> None:
    """200 seeded graphs in all: values, dtypes, gradients of every node, Hessian-vector products, third derivatives,
    accumulation and no_grad; one graph in four starts from float32 leaves."""
    size = GRAPHS // CHUNKS
    for seed in range(chunk * size, (chunk + 1) * size):
        g = check_graph(seed, float32=seed % 4 == 3)
        _seeds_seen.add(seed)
        for kind in g.kinds:
            _kinds_seen[kind] = _kinds_seen.get(kind, 0) + 1


def test_the_graphs_cover_every_operation() -> None:
    """The generator is only as good as what it builds: the seeded graphs use every operation (at least 5 times)."""
    if len(_seeds_seen) < GRAPHS:  # run alone or after some chunks: build the graphs (cheap, checking is not)
        _kinds_seen.clear()
        for seed in range(GRAPHS):
            for kind in build_graph(seed, float32=seed % 4 == 3).kinds:
                _kinds_seen[kind] = _kinds_seen.get(kind, 0) + 1
    expected = {*UNARY, "leaky_relu", "+", "-", "*", "/", "pow", "rpow", "sum", "mean", "max", "reshape", "T",
                "transpose", "swapaxes", "index", "matmul", "softmax", "log_softmax", "stack", "concatenate", "where",
                "maximum", "squared_error", "mean_squared_error", "cross_entropy", "astype", "sink"}
    rare = {kind: _kinds_seen.get(kind, 0) for kind in expected if _kinds_seen.get(kind, 0) < 5}
    assert not rare, f"operations the random graphs (almost) never use: {rare}"


def test_a_failing_graph_prints_as_a_program_that_runs() -> None:
    """The printed program of a graph runs on its own and shows the differences, node by node."""
    text = program(build_graph(7))
    namespace: dict = {}
    exec(compile(text, "<graph 7>", "exec"), namespace)
    assert isinstance(namespace["loss"], torch.Tensor) and isinstance(namespace["tg"]["x0"], Value)


# --- the defects this check found, each as its smallest program ------------------------------------------------
def test_float32_base_gives_a_float64_exponent_gradient_to_float64_precision() -> None:
    base = np.array([1.401], dtype=np.float32)
    x = Value([1.0])
    (base ** x).backward(np.ones(1))
    exact = float(base[0]) * np.log(np.float64(base[0]))  # d(bˣ)/dx at x = 1: b·ln b, with b as float64
    assert x.grad.dtype == np.float64
    assert abs(x.grad[0] - exact) <= 1e-15 * abs(exact)  # was off by 9.5e-9: ln(base) taken in float32


def test_second_derivative_of_x_to_the_zero_at_zero_is_zero() -> None:
    x = Value([0.0, 1.0])
    (x ** 0).sum().backward(create_graph=True)
    slope = x.grad  # 0 everywhere, as a Value
    x.zero_grad()
    with np.errstate(all="ignore"):
        slope.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])  # was [nan, 0]


def test_float32_exponent_gives_a_float64_base_gradient_to_float64_precision() -> None:
    exponent = np.float32(-0.7)
    b = float(exponent)  # the same number, as float64
    x = Value([1.7])
    (x ** exponent).sum().backward(create_graph=True)
    assert abs(x.grad.data[0] - b * 1.7 ** (b - 1)) <= 1e-15 * abs(b * 1.7 ** (b - 1))
    slope = x.grad
    x.zero_grad()
    slope.sum().backward()
    second = b * (b - 1) * 1.7 ** (b - 2)
    assert abs(x.grad[0] - second) <= 1e-15 * abs(second)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", type=int, default=1000, help="how many graphs (default: 1000)")
    parser.add_argument("--seed", type=int, default=0, help="the first graph's seed; graph k has seed SEED + k")
    parser.add_argument("--seconds", type=float, default=420,
                        help="stop after this many seconds, whatever --graphs says (default: 420)")
    parser.add_argument("--float32", action="store_true", help="float32 leaves (float64 otherwise)")
    parser.add_argument("--size", type=int, default=None, help="operations per graph (default: 3 to 25)")
    parser.add_argument("--show", action="store_true", help="print every failing program, not only the first line")
    args = parser.parse_args()
    failures: dict[str, list[int]] = {}
    kinds: dict[str, int] = {}
    start = time.perf_counter()
    done = 0
    for seed in range(args.seed, args.seed + args.graphs):
        if time.perf_counter() - start > args.seconds:
            break
        done += 1
        try:
            g = check_graph(seed, float32=args.float32, size=args.size)
            for kind in g.kinds:
                kinds[kind] = kinds.get(kind, 0) + 1
        except Mismatch as error:
            first = str(error).split("\n")[0].split(": ", 1)[1]
            key = re.sub(r"\b[nxc]\d+\b|[-+]?\d[\d.e-]*", "#", first)[:100]
            failures.setdefault(key, []).append(seed)
            if args.show:
                print(error)
        except Exception:
            traceback.print_exc()
            failures.setdefault("generator", []).append(seed)
    print(f"{done} graphs in {time.perf_counter() - start:.0f} s; nodes by kind: {kinds}")
    if done < args.graphs:
        print(f"stopped by the time limit (--seconds {args.seconds:g}): {done} of the {args.graphs} graphs asked for "
              f"were checked (--seed {args.seed + done} goes on from there)")
    for key, seeds in sorted(failures.items(), key=lambda item: -len(item[1])):
        print(f"{len(seeds):5d}  {key}   seeds {seeds[:8]}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
