"""The backpropagation player: the forward pass Value by Value, then the backward pass, each Value after every Value
that uses it, as the engine walks it (one operation's inputs first to last, where the engine takes them last to first:
:func:`reading_order`).

At each backward step the page shows, for the Value in hand, the gradient arriving from every Value that used
it, the local derivative on that edge (``∂z/∂w = α``, ``σ′(z)``, ...), their product (the chain rule, which the
seed's section 6.3 calls "splitting"), the sum over the uses where a Value is used more than once, and so
``∂C/∂(the Value)``.  The last step lists every
parameter's gradient next to its ``.grad``.  Build one with :func:`tinygrad_edu.viz.backprop_player`, which adds
the drawing of :func:`tinygrad_edu.viz.draw_graph`; this module computes the steps and writes the page.

    >>> from tinygrad_edu import Value
    >>> from tinygrad_edu.player import backprop_steps, display_names
    >>> from tinygrad_edu.graph import nearest_values
    >>> w = Value(0.5, label="w")
    >>> cost = (w * 3.0 - 1.0) ** 2
    >>> kept, total = nearest_values(cost)
    >>> steps = backprop_steps(cost, kept, total, display_names(kept))
    >>> [step.title for step in steps][-2:]
    ['Backward 4 of 4: ∂C/∂w', 'Every gradient, as .grad holds it']
"""

from __future__ import annotations

import html
import json
import keyword
import operator
import os
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from tinygrad_edu import checks, notation
from tinygrad_edu.dependency_tree import DependencyTree, TreeEdge, built_in_op, network_input, unrecorded_product
from tinygrad_edu.engine import Value, backward_order, local_gradients
from tinygrad_edu.files import checked_path, write_text
from tinygrad_edu.graph import nearest_values
from tinygrad_edu.notation import format_number, left_out_note, numbers_of, operand, pretty, printable, summary

__all__ = ["Step", "BackpropPlayer", "backprop_steps", "tree_steps", "display_names", "local_formula",
           "forward_formula", "check_drawn", "pass_gradients", "reading_order"]

_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


@dataclass
class Step:
    """One step of the player: its ``phase`` ("start", "forward", "backward", "result"), the number of the
    drawn Value it is about (``node``, -1 for none), a ``title``, the explanation as HTML, and the drawing's
    edges to highlight (Graphviz titles such as ``v3->op1``)."""

    phase: str
    node: int
    title: str
    html: str
    edges: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        """The step as text: its phase, Value and title, then the explanation without its tags (at most 30 lines)
        and the edges it highlights; ``step.html`` is the HTML."""
        if not (all(isinstance(text, str) for text in (self.phase, self.title, self.html)) and type(self.node) is int
                and isinstance(self.edges, list | tuple)):  # (made by hand, of other types: each field as it is)
            return (f"Step(phase={self.phase!r:.40}, node={self.node!r:.40}, title={self.title!r:.60}, "
                    f"html={self.html!r:.60}, edges={self.edges!r:.60})")
        about = f", Value {self.node}" if self.node != -1 else ""
        lines = _as_text(self.html)
        if len(lines) > 30:
            lines[29:] = [f"… {len(lines) - 29} more lines (step.html holds them all)"]
        edges = [f"highlights {', '.join(map(str, self.edges))}"] if self.edges else []
        return "\n    ".join([f"Step({self.phase}{about}): {self.title}", *lines, *edges])

    def _repr_html_(self) -> str:
        """Jupyter's view of a step as a cell's last expression: its phase and title (escaped: they hold the
        user's names) above its explanation, which the player shows."""
        body = self.html if isinstance(self.html, str) else f"<pre>{html.escape(repr(self.html))}</pre>"
        return (f"<div><p style='margin:0'><b>{html.escape(str(self.phase))}</b> · "
                f"<b>{html.escape(str(self.title))}</b></p>{body}</div>")


def _as_text(markup: str) -> list[str]:
    """A step's HTML as lines of text: a line per paragraph, item and table row, cells parted by " | "."""
    text = re.sub(r"</t[dh]>\s*(?=<t[dh])", " | ", markup)
    text = re.sub(r"<li\b[^>]*>", "• ", text)
    text = re.sub(r"</(?:p|li|tr|ul|ol|table|div|h[1-6])>|<br\s*/?>", "\n", text)
    lines = (" ".join(html.unescape(re.sub(r"<[^>]*>", "", line)).split()) for line in text.split("\n"))
    return [line for line in lines if line]


# --- argument checks ------------------------------------------------------------------------------------------
def _check_names(names: Any, function: str) -> None:
    """A mapping id(Value) → name (a str); a name keyed by itself ({'w': …}) or not a str would be left unused."""
    if not isinstance(names, Mapping):
        raise TypeError(f"{function}: names must map id(Value) to the Value's name, "
                        f"got {type(names).__name__} {names!r:.60}")
    for key, name in names.items():
        if not (isinstance(key, int) and isinstance(name, str)):
            raise TypeError(f"{function}: names must map id(Value) (an int) to the Value's name (a str), got the "
                            f"entry {key!r:.30}: {name!r:.30}")


def _check_kept(kept: Any, function: str) -> None:
    if not isinstance(kept, list) or not all(isinstance(node, Value) for node in kept):
        raise TypeError(f"{function}: kept must be a list of Values (nearest_values gives it), "
                        f"got {type(kept).__name__} {kept!r:.60}")


def check_drawn(output: Value, kept: list[Value], total: int, names: Mapping[int, str], where: str) -> None:
    """Check the Values a drawing or the player is about: ``kept, total = nearest_values(output)`` (the output
    first), and their names (id → name); else a TypeError or ValueError naming ``where``, the function called."""
    if not isinstance(output, Value):
        raise TypeError(f"{where}: expected a Value (the output), got {type(output).__name__}")
    _check_kept(kept, where)
    if not kept or kept[0] is not output:
        raise ValueError(f"{where}: kept must start with the output, as nearest_values(output) gives it")
    if isinstance(total, bool) or not isinstance(total, (int, np.integer)) or total < len(kept):
        raise ValueError(f"{where}: total (the number of Values, drawn or not) must be an int of at least "
                         f"len(kept) = {len(kept)}, got {total!r:.60}")
    _check_names(names, where)


def _check_formula(node: Any, names: Any, function: str) -> None:
    """An operation's result and the names of its inputs, one for each."""
    if not isinstance(node, Value):
        raise TypeError(f"{function}: expected a Value (an operation's result), got {type(node).__name__}")
    if node.op is None:
        raise ValueError(f"{function}: node must be an operation's result; a leaf Value has no inputs")
    if not isinstance(names, list | tuple) or not all(isinstance(name, str) for name in names):
        raise TypeError(f"{function}: names must be a list of str (the inputs' names), got {type(names).__name__} "
                        f"{names!r:.60}")
    if len(names) != len(node.parents):
        raise ValueError(f"{function}: names must name each of the {len(node.parents)} inputs of the "
                         f"{node.op} Value, got {len(names)} names")


# --- names and formulas ------------------------------------------------------------------------------------
def display_names(kept: list[Value], names: Mapping[int, str] | None = None, *,
                  precision: int = 4) -> dict[int, str]:
    """A name for every drawn Value (id → name): its label, a given name, C for the output (the first drawn),
    α^0 for the network's input, ``θ₁``, ``θ₂``... for unlabeled parameters, the number itself (``precision``
    significant digits) for a single-number constant, and ``mul₁``, ``add₂``... for unlabeled results."""
    _check_kept(kept, "display_names")
    if names is not None:
        _check_names(names, "display_names")
    checks.precision(precision, "display_names")
    given = dict(names or {})
    if kept:
        given.setdefault(id(kept[0]), "C")
    first = network_input(kept)
    if first is not None:
        given.setdefault(id(first), "α^0")
    result: dict[int, str] = {}
    counts: dict[str, int] = {}
    # oldest first, as the forward steps go (backward_order's key: the engine numbers Values counting down as it makes
    # them), so that mul₁ comes before mul₂
    for node in sorted(kept, key=lambda node: (node._order, id(node)), reverse=True):
        if node.label is not None and str(node.label):
            result[id(node)] = str(node.label)
        elif id(node) in given:
            result[id(node)] = given[id(node)]
        elif node.op is not None:
            counts[node.op] = counts.get(node.op, 0) + 1
            result[id(node)] = f"{node.op}{str(counts[node.op]).translate(_SUBSCRIPT)}"
        elif node.requires_grad:  # a parameter (never its number, ∂C/∂0.8, which reads as a constant's): θ₁, θ₂...
            counts["θ"] = counts.get("θ", 0) + 1
            result[id(node)] = f"θ{str(counts['θ']).translate(_SUBSCRIPT)}"
        elif node.size == 1:
            result[id(node)] = format_number(float(node.data.reshape(())), precision)
        else:
            result[id(node)] = f"constant{list(node.shape)}"
    return result


def _samples(array: np.ndarray) -> int:
    return array.shape[0] if array.ndim >= 2 else 1


def forward_formula(node: Value, names: list[str]) -> str:
    """How ``node`` is computed from its inputs, in the seed's notation: ``z = α @ W``, ``σ(z)``, ..."""
    _check_formula(node, names, "forward_formula")
    a = names[0] if names else ""
    second = names[1] if len(names) > 1 else ""
    b = operand(second)  # (after an operator: α − (-0.5), not α − -0.5)
    inner = a[1:-1] if _grouped(a) else a  # inside brackets of the form's own: σ(w · x + b), not σ((w · x + b))
    op = built_in_op(node)
    per = f"/{_samples(node.parents[0].data)}" if op == "squared_error" and _samples(node.parents[0].data) > 1 \
        else ""
    axis = node.op_params.get("axis") if op in ("sum", "mean", "max", "min") else None
    if axis is not None:  # as written in Python: axis=(0, 1), not axis=(np.int64(0), np.int64(1))
        axis = tuple(map(operator.index, axis)) if isinstance(axis, tuple) else operator.index(axis)
    along = "" if axis is None else f", axis={axis}"  # mean(x, axis=0) is a row of means, not one number
    if op in ("sum", "mean", "max", "min") and node.op_params.get("keepdims"):  # a (1, 2) row, not 2 numbers
        along += ", keepdims=True"
    forms = {"add": f"{a} + {b}", "sub": f"{a} − {b}", "mul": f"{a} · {b}", "div": f"{a} / {b}",
             "pow": f"{_base(a)}^{second}", "matmul": f"{a} @ {b}", "neg": f"−{operand(a)}",
             "exp": f"e^{notation.exponent(a)}",  # e^(z²): the layer's index inside the exponent, as in σ(z²)
             "log": f"ln {a}", "sqrt": f"√{a}", "abs": f"|{inner}|", "tanh": f"tanh({inner})",
             "tanh_slope": f"1 − tanh²({inner})", "sigmoid_slope": f"σ′({inner})",  # (a recorded backward pass's)
             "sigmoid": f"σ({inner})", "relu": f"max({inner}, 0)", "sum": f"Σ({inner}{along})" if along else f"Σ {a}",
             "mean": f"mean({inner}{along})", "max": f"max({inner}{along})", "min": f"min({inner}{along})",
             "squared_error": f"Σ({a} − {b})²{per}"}
    if op == "where":  # the condition, a setting: where([True, False], x, y) as F.where(condition, x, y)
        return f"where({notation.param_text(node.op_params['condition'])}, {a}, {second})"
    if op in ("concatenate", "stack"):  # along which axis (0 where the Op was called without one)
        return f"{op}([{', '.join(names)}], axis={notation.param_text(node.op_params.get('axis', 0))})"
    if op == "index":  # which elements were picked, as Python writes it: W[[1, 1, 3]], w[0], x[:, 1]
        key = node.op_params["key"]
        base = a if _grouped(a) or " " not in a else f"({a})"
        return f"{base}[{', '.join(map(_index_text, key if isinstance(key, tuple) else (key,)))}]"
    arguments = [inner] if len(names) == 1 else names
    if not op or op in _SETTINGS_SHOWN:  # its parameters too, as draw_graph writes them (log_base(x, base=2))
        # (softmax(x, axis=None): over every number; transpose's axes=None is numpy's default, W.T, left out as the
        # oval leaves it out)
        arguments = [*arguments, *(f"{k}={notation.param_text(v)}" for k, v in node.op_params.items()
                                   if v is not None or op and op != "transpose")]
    return forms.get(op, f"{node.op}({', '.join(arguments)})")


#: The built-in operations whose settings change numbers the step does not show: softmax(x, axis=0) is not
#: softmax(x, axis=1), scatter(w) did not say where w's elements go, astype(w) to which dtype, leaky_relu(x) with
#: which slope, transpose(x) in which order of the axes (the result's shape does not tell (1, 0, 2) from (0, 1, 2)
#: of a 2×2×2 tensor), reshape(x) and broadcast_to(x) to which shape (the operation's oval in the drawing writes
#: them, and so does the step).
_SETTINGS_SHOWN = {"softmax", "log_softmax", "log_softmax_grad", "scatter", "astype", "leaky_relu", "transpose",
                   "reshape", "broadcast_to"}


def _index_text(part: Any) -> str:
    """One part of an index as Python writes it between brackets: ``0``, ``[1, 1, 3]``, ``1:3``, ``...``."""
    if isinstance(part, slice):
        ends = ["" if end is None else str(end) for end in (part.start, part.stop, part.step)]
        return ":".join(ends if ends[2] else ends[:2])
    if isinstance(part, np.ndarray):  # (on one line, whatever np.set_printoptions says: sign="+" wrote W[[+1, +3]])
        return notation.array_line(part)
    return "..." if part is Ellipsis else str(part)


def local_formula(node: Value, i: int, names: list[str]) -> str:
    """The local derivative ∂node/∂(input i) in the seed's notation (``α`` for ∂z/∂w, ``σ′(z)``, ``2(α − y′)``:
    the last two as the chain rule needs them, which the seed's section 6.3 misprints as σ(z) and 2(α^(L−1)));
    a description for operations that only move numbers; empty if there is no simple formula."""
    _check_formula(node, names, "local_formula")
    if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < len(node.parents):
        raise ValueError(f"local_formula: i must be the position of one of the node's {len(node.parents)} inputs "
                         f"(0 to {len(node.parents) - 1}), got {i!r:.60}")
    a = names[0] if names else ""
    b = names[1] if len(names) > 1 else ""
    other = names[1 - i] if len(names) == 2 else ""
    op = built_in_op(node)
    if op == "squared_error":
        n = _samples(node.parents[0].data)
        difference = f"2({a} − {operand(b)})" + (f"/{n}" if n > 1 else "")
        return difference if i == 0 else "−" + difference
    if op == "matmul":
        return other if node.parents[1 - i].ndim < 2 or node.parents[1 - i].size == 1 else f"{other}ᵀ"
    if op == "pow":
        return _power_rule(node, a, b) if i == 0 else f"{_base(a)}^{b} · ln {a}"
    if op in ("concatenate", "stack", "index", "softmax", "log_softmax"):
        return _moved_or_softmax(node, op, i, a)
    if op == "log_softmax_grad":
        return _log_softmax_grad_rule(node, i, a, b)
    forms = {"add": "1", "sub": "1" if i == 0 else "−1", "mul": other,
             "div": f"1/{operand(b)}" if i == 0 else f"−{a}/{_base(b)}²", "neg": "−1",
             "exp": f"e^{notation.exponent(a)}",
             "log": f"1/{a}", "sqrt": f"1/(2√{a})", "abs": f"sign({a})", "tanh": f"1 − tanh²({a})",
             "tanh_slope": f"−2·tanh({a})(1 − tanh²({a}))", "sigmoid_slope": f"σ″({a}) = σ′({a})(1 − 2σ({a}))",
             "sigmoid": f"σ′({a}) = σ({a})(1 − σ({a}))", "relu": f"ReLU′({a}): 1 where {a} > 0, else 0",
             "where": f"1 where the condition is {i == 0}, else 0",
             "leaky_relu": f"LeakyReLU′({a}): 1 where {a} > 0, else {_slope(node)}", "softplus": f"σ({a})",
             "sum": "1 for every element",
             "mean": f"1/{node.parents[0].size // max(node.size, 1)} for every element",  # (per number averaged)
             "max": "1 at the maximum (shared equally by ties), 0 elsewhere",
             "min": "1 at the minimum (shared equally by ties), 0 elsewhere",
             "maximum": f"1 where {names[i]} > {other}, ½ where they are equal, 0 elsewhere",
             "copy": "1 (the numbers only move)", "astype": "1 (only the dtype changes)",
             "broadcast_to": "1 for each copy (the copies' gradients add up)",
             "scatter": "1 for the elements placed",
             "reshape": "1 (the numbers only move)", "transpose": "1 (the numbers only move)"}
    return forms.get(op, "")


def _moved_or_softmax(node: Value, op: str, i: int, a: str) -> str:
    """The local derivative of a join (where input ``i``'s numbers went), an index (picks of one element add up)
    or a softmax (over which axis, and 0 between two slices along it: softmax(x) alone would be over the last)."""
    if op == "stack":
        return f"1 for its own slice, index {i} along axis {notation.param_text(node.op_params.get('axis', 0))}"
    if op == "concatenate":
        axis = node.op_params.get("axis", 0)
        sizes = [p.size if axis is None else p.shape[axis] for p in node.parents]
        piece = f"{sum(sizes[:i])}:{sum(sizes[:i + 1])}"
        return f"1 for its own piece, {piece} " + ("of the flattened result" if axis is None else
                                                    f"along axis {notation.param_text(axis)}")
    if op == "index":
        x = node.parents[0]
        picked = np.arange(x.size).reshape(x.shape)[node.op_params["key"]]
        if np.unique(picked).size == picked.size:
            return "1 for the picked elements"
        return "1 for each pick (repeated picks of an element add up)"
    x, axis = node.parents[0], node.op_params.get("axis", -1)
    along = "" if x.ndim <= 1 else f", axis={notation.param_text(axis)}"
    across = x.size > _slice_size(x.shape, axis)  # more than one slice: the derivative between two is 0
    within = f" within each slice along axis {notation.param_text(axis)}" if across else ""
    if op == "softmax":
        return f"sᵢ(δᵢⱼ − sⱼ){within}, s = softmax({a}{along})"
    return f"δᵢⱼ − softmax({a}{along})ⱼ{within}"


def _log_softmax_grad_rule(node: Value, i: int, g: str, out: str) -> str:
    """The local derivatives of log_softmax's vjp g − p·Σg, p = e^out (an Op of a recorded backward pass): δᵢⱼ − pᵢ
    for g, −δᵢⱼ·pᵢ·Σg for out (within a slice along its axis; 0 between two)."""
    x, axis = node.parents[1], node.op_params.get("axis", -1)
    within = f" within each slice along axis {notation.param_text(axis)}" if x.size > _slice_size(x.shape, axis) else ""
    p = f"e^{notation.exponent(out)}"
    return f"δᵢⱼ − ({p})ᵢ{within}" if i == 0 else f"−δᵢⱼ·({p})ᵢ·Σ{operand(g)}{within}"


def _slice_size(shape: tuple[int, ...], axis: Any) -> int:
    """How many numbers one softmax over ``axis`` of an input of ``shape`` takes (all of them for None)."""
    if axis is None or not shape:
        return int(np.prod(shape))
    axes = {a % len(shape) for a in (axis if isinstance(axis, tuple) else (axis,))}
    return int(np.prod([shape[a] for a in axes]))


def _slope(node: Value) -> str:
    """leaky_relu's slope below 0, as the step writes its setting (0.01, the default, for ops.leaky_relu(x) called
    without one)."""
    return notation.param_text(node.op_params.get("negative_slope", 0.01))


_RAISED = set("^⁰¹²³⁴⁵⁶⁷⁸⁹⁻ᴸ")  # a name with one of these already has an exponent


def _base(name: str) -> str:
    """``name`` as the base of a power: ``(W²)`` for a name that already has an exponent, so ``(W²)²`` does not
    read as ``W²²``, and a negative number, ``(-2)²``; one group in parentheses already (a folded ``(w − y²)``)
    stays as it is."""
    return f"({name})" if _RAISED & set(name) and not _grouped(name) else operand(name)


def _grouped(text: str) -> bool:
    """Whether ``text`` is one group in parentheses: ``(w − y²)``, not ``(a)·(b²)``."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    for char in text[:-1]:
        depth += (char == "(") - (char == ")")
        if depth == 0:  # closed before the end
            return False
    return True


def _power_rule(node: Value, a: str, b: str) -> str:
    """∂(a^b)/∂a = b·a^(b − 1), with b − 1 worked out when the exponent is shown as its number: ``2·x``, ``3·x²``,
    ``0.5·x^-0.5``."""
    exponent = node.parents[1]
    a = _base(a)
    if exponent.op is not None or exponent.size != 1 or b != format_number(float(exponent.data.reshape(()))):
        return f"{b}·{a}^({b} − 1)"
    lower = float(exponent.data.reshape(())) - 1
    if lower == 0:
        return b
    return f"{b}·{a}" if lower == 1 else f"{b}·{a}^{format_number(lower)}"


# --- the steps -----------------------------------------------------------------------------------------------
def _esc(text: Any) -> str:
    """``text`` as HTML for a step's tables, which wrap in a long label, never in a number: a word longer than 24
    characters gets a place to break every 8, and a number such as ``4.021e-15`` none (browsers break after its -);
    a right-to-left name isolated in ``<bdi>`` (``∂C/∂وزن = 3`` was shown as ``∂C/∂3 = وزن``)."""
    text = pretty(str(text))
    pieces, start = [], 0
    for run in notation.RIGHT_TO_LEFT.finditer(text):
        pieces += [_words(text[start:run.start()]), f"<bdi>{_words(run.group())}</bdi>"]
        start = run.end()
    return "".join(pieces) + _words(text[start:])


def _words(text: str) -> str:
    return "".join(_word(word) for word in re.split(r"(\s+)", text))


def _word(word: str) -> str:
    if re.fullmatch(r"\(?-?[\d.]+e[-+]\d+\)?", word):
        return f"<span class='number'>{html.escape(word)}</span>"
    if len(word) <= 24:
        return html.escape(word, quote=True)
    return "<wbr>".join(html.escape(word[i:i + 8], quote=True) for i in range(0, len(word), 8))


def _gradients(output: Value, kept_ids: set[int], where: str) -> tuple[dict[int, np.ndarray], dict[int, list]]:
    """One backward pass, exactly in the engine's order with its local gradients: ∂C/∂node of every node, and
    for each drawn node the contributions (user, input position, ∂C/∂node through that edge) in arrival order.
    Only a single number gets the seed 1, as in backward(): ones for a vector gave the gradient of its sum."""
    if output.size != 1:
        raise ValueError(f"{where}: the output must be a single number (a cost), got a Value of shape {output.shape}; "
                         "backward() refuses it too: make it one number first (.sum(), .mean(), or a loss)")
    seed = np.ones(output.shape, output.dtype)
    grads: dict[int, np.ndarray] = {id(output): seed}
    arrivals: dict[int, list] = {}
    for node in backward_order(output):
        g = grads[id(node)]
        with np.errstate(all="ignore"):  # (0 × inf = nan: the steps show it; backward() warned, not a drawing again)
            passed = local_gradients(node, g)
        for i, parent, contribution in passed:
            key = id(parent)
            with np.errstate(all="ignore"):
                grads[key] = contribution if key not in grads else np.asarray(grads[key] + contribution)
            if key in kept_ids:
                arrivals.setdefault(key, []).append((node, i, contribution))
    return grads, arrivals


def reading_order(output: Value) -> list[Value]:
    """:func:`~tinygrad_edu.engine.backward_order` with the inputs of one operation first to last (p, q, r of
    concatenate([p, q, r])) where the engine takes them one after another last to first and none uses another: any
    order that comes to a Value after all the Values using it gives each its whole ∂C/∂(the Value), the same numbers."""
    if not isinstance(output, Value):
        raise TypeError(f"reading_order: expected a Value (the output), got {type(output).__name__}")
    order = backward_order(output)
    at = {id(node): k for k, node in enumerate(order)}
    for user in list(order):
        by_id = {id(p): p for p in user.parents if id(p) in at}  # (first to last, once each)
        inputs, places = list(by_id.values()), sorted(at[key] for key in by_id)
        adjacent = len(inputs) > 1 and places[-1] - places[0] == len(inputs) - 1
        if adjacent and not any(id(q) in by_id for p in inputs for q in p.parents):  # (none uses another)
            for k, p in zip(places, inputs, strict=True):
                order[k], at[id(p)] = p, k
    return order


def _oldest_first(nodes: list[Value]) -> list[Value]:
    """``nodes`` in the order the forward pass made them (the engine numbers Values counting down as it makes them)."""
    return sorted(nodes, key=lambda node: (node._order, id(node)), reverse=True)


def pass_gradients(output: Value) -> dict[int, np.ndarray]:
    """∂output/∂node (id → array) of every Value ``output`` depends on through one backward pass of ``output``
    alone, as the steps show it: ``.grad`` also holds the gradients of any other backward passes.  ``output`` is a
    single number (a cost); one of several numbers is refused, as ``backward()`` refuses it."""
    if not isinstance(output, Value):
        raise TypeError(f"pass_gradients: expected a Value (the output), got {type(output).__name__}")
    return _gradients(output, set(), "pass_gradients")[0]


def backprop_steps(output: Value, kept: list[Value], total: int, names: Mapping[int, str], *,
                   precision: int = 4) -> list[Step]:
    """The player's steps for ``output`` (a single number), about the drawn Values ``kept`` (of ``total``):
    a start, one forward step per drawn operation (oldest first), one backward step per drawn Value in the
    engine's order (:func:`reading_order`), and the result."""
    check_drawn(output, kept, total, names, "backprop_steps")
    checks.precision(precision, "backprop_steps")
    number = {id(n): i for i, n in enumerate(kept)}
    grads, arrivals = _gradients(output, set(number), "backprop_steps")
    # (a labelled operation left out that uses a drawn Value is named by its label in that Value's step)
    cut_users = [user for found in arrivals.values() for user, _, _ in found if id(user) not in number]
    names = {**_undrawn_names(kept, precision, cut_users), **names}
    order = [n for n in reading_order(output) if id(n) in number]
    operations = [n for n in _oldest_first(order) if n.op is not None]
    fmt = lambda array: summary(array, precision)  # noqa: E731
    data = lambda array: notation.value_summary(array, precision)  # noqa: E731 (σ(20) = 0.999999998, not 1)
    steps = [_start_step(kept, total, names, data, operations)]
    for k, node in enumerate(operations, start=1):
        steps.append(_forward_step(node, k, len(operations), number, names, data))
    for k, node in enumerate(order, start=1):
        steps.append(_backward_step(node, k, len(order), output, number, names, grads, arrivals.get(id(node), []),
                                    fmt))
    left_out: list[Value] = []
    if total > len(kept) and not any(node.op is None and node.requires_grad for node in kept):
        # every parameter cut off (max_nodes=1): the last step gives their gradients all the same, by label
        left_out = [node for node in nearest_values(output)[0] if node.op is None and node.requires_grad]
        names = {**{id(p): str(p.label) if p.label is not None and str(p.label) else "a parameter not drawn"
                    for p in left_out[:_MOST_LEFT_OUT]}, **names}
    steps.append(_result_step(kept, _name(output, names), names, grads, fmt, left_out))
    return steps


def _name(node: Value, names: Mapping[int, str]) -> str:
    return names.get(id(node), "a Value not drawn")


def _undrawn_names(kept: list[Value], precision: int, cut_users: list[Value] | None = None) -> dict[int, str]:
    """The inputs of drawn operations left out of a cut graph, named as if drawn where they can be: by their label, a
    single-number constant by its number (``sub₁²``, not ``sub₁^a Value not drawn``); others stay unnamed.  So are
    ``cut_users``, operations left out that use drawn Values, and their inputs (``∂s/∂x = k``)."""
    drawn = {id(node) for node in kept}
    found: dict[int, str] = {}
    users = cut_users or []
    candidates = [parent for node in (*kept, *users) for parent in node.parents] + users
    for parent in (parent for parent in candidates if id(parent) not in drawn):
        if parent.label is not None and str(parent.label):
            found[id(parent)] = str(parent.label)
        elif parent.op is None and not parent.requires_grad and parent.size == 1:  # (a parameter's is no constant)
            found[id(parent)] = format_number(float(parent.data.reshape(())), precision)
    return found


def _is_number(node: Value, name: str, fmt: Any) -> bool:
    """Whether ``node`` is a constant called by its own number (an exponent, a target): "2 = 2" says nothing."""
    return node.op is None and not node.requires_grad and node.size == 1 and name == fmt(node.data)


def _first_used_first(values: list[Value], operations: list[Value]) -> list[Value]:
    """The leaves among ``values`` in the order the forward pass first uses them (``operations`` oldest first, each
    one's inputs first to last: the input α⁰, W¹, b¹, W², ... where the walk from the cost met W² first), those no
    operation takes (their users not drawn) last, as they came."""
    first: dict[int, tuple[int, int]] = {}
    for k, user in enumerate(operations):
        for j, parent in enumerate(user.parents):
            first.setdefault(id(parent), (k, j))
    return sorted((n for n in values if n.op is None), key=lambda n: first.get(id(n), (len(operations), 0)))


def _start_step(kept: list[Value], total: int, names: Mapping[int, str], fmt: Any, operations: list[Value]) -> Step:
    leaves = _first_used_first(kept, operations)  # (operations oldest first)
    rows = "".join(f"<tr><td>{_esc(_name(n, names))}</td><td>{'parameter' if n.requires_grad else 'constant'}"
                   f"</td><td>{_esc(_shape(n))}{_esc(fmt(n.data))}</td></tr>" for n in leaves)
    cut = ""
    if total > len(kept):
        first, second = left_out_note(len(kept), total)
        cut = f"<p class='note'>{_esc(first)} {_esc(second)}: the steps follow the drawn Values only.</p>"
    text = ("<p>The forward pass starts from the inputs and the parameters (the leaves of the graph). Each step "
            "computes one operation from Values already known; then the backward pass walks back from the cost, "
            "in the engine's order, but for the inputs of one operation, which come first to last where the engine "
            "takes them last to first: each Value still comes after every Value that used it, with the same "
            "gradient.</p>")
    return Step("start", -1, "The leaves: inputs and parameters",
                text + f"<table><tr><th>Value</th><th>kind</th><th>data</th></tr>{rows}</table>{cut}")


def _shape(node: Value) -> str:
    return f"shape {node.shape}: " if node.ndim else ""


def _forward_step(node: Value, k: int, count: int, number: Mapping[int, int], names: Mapping[int, str],
                  fmt: Any) -> Step:
    inputs = [_name(p, names) for p in node.parents]
    name = _name(node, names)
    formula = forward_formula(node, [pretty(n) for n in inputs])
    values = "".join(f"<li>{_esc(n)} = {_esc(_shape(p))}{_esc(fmt(p.data))}</li>"
                     for n, p in zip(inputs, node.parents) if not _is_number(p, n, fmt))
    i = number[id(node)]
    edges = [f"v{number[id(p)]}->op{i}" for p in node.parents if id(p) in number] + [f"op{i}->v{i}"]
    body = (f"<p class='formula'>{_esc(name)} = {_esc(formula)}</p><p>from</p><ul>{values}</ul>"
            f"<p class='result'>{_esc(name)} = {_esc(_shape(node))}{_esc(fmt(node.data))}</p>")
    return Step("forward", i, f"Forward {k} of {count}: {pretty(name)}", body, edges)


def _backward_step(node: Value, k: int, count: int, output: Value, number: Mapping[int, int],
                   names: Mapping[int, str], grads: Mapping[int, np.ndarray], arrivals: list, fmt: Any) -> Step:
    name, cost = pretty(_name(node, names)), pretty(_name(output, names))
    i = number[id(node)]
    total = fmt(grads[id(node)])
    title = f"Backward {k} of {count}: ∂{cost}/∂{name}"
    if node is output:
        body = (f"<p>The backward pass starts at the cost itself: ∂{_esc(cost)}/∂{_esc(cost)} = 1.</p>"
                f"<p class='result'>∂{_esc(cost)}/∂{_esc(name)} = {_esc(total)}</p>")
        return Step("backward", i, title, body)
    rows, edges = [], []
    for user, position, contribution in arrivals:
        direct = user is output and len(arrivals) > 1  # ∂C/∂w of this use alone is not w's ∂C/∂w, the sum
        rows.append(_arrival_row(node, user, position, contribution, names, grads, cost, fmt, direct))
        if id(user) in number:
            edges += [f"v{i}->op{number[id(user)]}", f"op{number[id(user)]}->v{number[id(user)]}"]
    used = _uses(len(arrivals), len({id(user) for user, _, _ in arrivals}), "was used", "operation")
    body = (f"<p>{_esc(name)} {used}; from each use, the gradient arriving from above times the local derivative "
            "on the edge:</p>"
            "<table><tr><th>from</th><th>arriving ∂" + _esc(cost) + _PER_ANY + "</th><th>local derivative</th>"
            f"<th>product</th></tr>{''.join(rows)}</table>")
    if len(arrivals) > 1:
        terms = [fmt(c) if np.size(c) == 1 else f"({fmt(c)})" for _, _, c in arrivals]
        body += (f"<p class='sum'>Where the contributions meet they add up: {_esc(_sum_text(terms))} "
                 f"{_added(terms, total, fmt)} {_esc(total)}</p>")
    if node.size == 1 and _underflowed(grads[id(node)]) and all(user.size == 1 for user, _, _ in arrivals):
        worked_out = sum(float(np.asarray(grads[id(user)]).reshape(())) * float(np.asarray(
            next(g for j, _, g in local_gradients(user, np.ones(user.shape, user.dtype)) if j == position)).reshape(()))
            for user, position, _ in arrivals)
        body += _underflow_note(grads[id(node)], worked_out, total, fmt, f"∂{cost}/∂{name}")
    body += f"<p class='result'>∂{_esc(cost)}/∂{_esc(name)} = {_esc(total)}</p>"
    if node.op is None and node.requires_grad:
        body += "<p>A parameter: its gradient is final (backward() stores it in its .grad).</p>"
    return Step("backward", i, title, body, edges)


#: The end of the tables' header "arriving ∂C/∂·", kept on one line: the browser broke it after the slash, into
#: "arriving ∂C/" over "∂·", which reads as two things.
_PER_ANY = "<span class='unbroken'>/∂·</span>"


def _uses(uses: int, users: int, verb: str, noun: str) -> str:
    """``was used by 2 operations``, or ``was used 3 times, by 2 operations`` when one takes it twice."""
    by = f"by {users} {noun}{'s' * (users != 1)}"
    return f"{verb} {by}" if uses == users else f"{verb} {uses} times, {by}"


def _sum_text(terms: list[str]) -> str:
    """``a + b + c``, a negative term after the first in parentheses: 1 + (-3), as the tree's chain lines write it."""
    return " + ".join(term if j == 0 else operand(term) for j, term in enumerate(terms))


def _arrival_row(node: Value, user: Value, position: int, contribution: np.ndarray, names: Mapping[int, str],
                 grads: Mapping[int, np.ndarray], cost: str, fmt: Any, direct: bool = False) -> str:
    user_name = pretty(_name(user, names))
    inputs = [pretty(_name(p, names)) for p in user.parents]
    formula = local_formula(user, position, inputs)
    symbol = f"∂{user_name}/∂{pretty(_name(node, names))}" + (" (direct)" if direct else "")
    local = f"{symbol} = {formula}" if formula else symbol
    if user.size == 1:  # the local derivative is a number (or, for a tensor input, one number per element)
        ones = np.ones(user.shape, user.dtype)
        with np.errstate(all="ignore"):  # (a local derivative of inf or nan is shown as such)
            number = next(g for j, p, g in local_gradients(user, ones) if j == position)
        arriving, factor, shown = fmt(grads[id(user)]), fmt(number), fmt(contribution)
        local += "" if formula == factor else f" = {factor}"
        product = f"{arriving} × {operand(factor)} {_equals(arriving, factor, shown, fmt)} {shown}"
    else:
        product = f"vector-Jacobian product: {fmt(contribution)}"
    return (f"<tr><td>{_esc(user_name)} ({_esc(user.op)})</td><td>{_esc(fmt(grads[id(user)]))}</td>"
            f"<td>{_esc(local)}</td><td>{_esc(product)}</td></tr>")


def _equals(arriving: str, local: str, product: str, fmt: Any) -> str:
    """``=`` where the two numbers as printed multiply to the ``product`` printed, ``≈`` where their rounding shows
    in it (``-0.184 × 0.45 ≈ -0.0826``: the digits of 0.4502 left out); ``=`` for what is no single number."""
    try:
        worked_out = float(arriving) * float(local)
    except ValueError:  # a summary of a tensor ("min … · mean … · max …")
        return "="
    return "=" if fmt(worked_out) == product else "≈"


def _added(terms: list[str], total: str, fmt: Any) -> str:
    """``=`` where the numbers as printed add up to the ``total`` printed, ``≈`` where their rounding shows in it
    (``0.3333 + 0.3333 + 0.3333 ≈ 1``), as :func:`_equals` does for a product; ``=`` for what is no single number."""
    try:
        worked_out = sum(float(term) for term in terms)
    except ValueError:  # a summary of a tensor ("(min … · mean … · max …)")
        return "="
    return "=" if fmt(worked_out) == total else "≈"


#: The result step's word for a parameter whose ``.grad`` differs from the steps': it holds other passes too (backward()
#: run twice), or zero_grad() emptied it after this backward() (then "zero_grad() first" would be the wrong advice).
_MIXED = "≠ .grad (it holds other backward passes too: zero_grad() first)"
#: The note under such rows: one backward() of a larger cost (this one plus a regularisation term) fills .grad with the
#: larger cost's gradient in one pass, through uses of the parameter outside this cost, which the graph cannot tell.
_OUTSIDE = ("<p class='note'>Or, in one pass: backward() of a larger cost that uses the parameter outside this one "
            "(a regularisation term added to it) filled .grad with the larger cost's gradient; zero_grad() and "
            "backward() of this cost show its own.</p>")
_RESET = "≠ .grad (zero_grad() reset it after this backward(), or it was never filled: call backward() again)"
#: The same where another parameter's ``.grad`` holds a pass (``backward(inputs=[w])`` filled w's only): backward()
#: alone would add a second pass to w's, so zero_grad() first, as draw_graph's key says.
_LEFT_OUT = ("≠ .grad (backward(inputs=…) left it out, or zero_grad() reset it after this backward(): "
             "call zero_grad(), then backward() again)")


def _reset(grad: Any) -> bool:
    """Whether a parameter's ``.grad`` holds no backward pass: None, or zeros (``zero_grad(set_to_none=False)``)."""
    return grad is None or not np.any(numbers_of(grad))


#: The most parameters the last step lists when none of them is drawn (each a row of the table).
_MOST_LEFT_OUT = 12


def _result_step(kept: list[Value], cost: str, names: Mapping[int, str], grads: Mapping[int, np.ndarray],
                 fmt: Any, left_out: list[Value] | None = None) -> Step:
    """The last step: each drawn parameter's gradient next to its .grad; those ``left_out`` of a cut graph where none
    is drawn (an empty table said nothing)."""
    rows = []
    left_out = left_out or []
    parameters = [node for node in kept if node.op is None and node.requires_grad] or left_out[:_MOST_LEFT_OUT]
    reset = _LEFT_OUT if not all(_reset(node.grad) for node in parameters) else _RESET
    for node in parameters:
        found, stored = fmt(grads.get(id(node))), fmt(node.grad)
        # (atol: the dtype's smallest normal number; a fixed 1e-12 took a vanishing 2e-20 for the steps' 1e-20)
        same = node.grad is not None and np.allclose(numbers_of(node.grad), grads[id(node)], rtol=1e-9,
                                                     atol=notation.smallest_normal(node.grad),
                                                     equal_nan=True)  # a NaN cost: NaN steps, NaN .grad
        check = "= .grad" if same else reset if _reset(node.grad) else _MIXED
        rows.append(f"<tr><td>{_esc(_name(node, names))}</td><td>{_esc(found)}</td><td>{_esc(stored)}</td>"
                    f"<td>{_esc(check)}</td></tr>")
    body = ("<p>The backward pass is done. The gradient of every parameter, as the steps computed it and as "
            f"backward() stored it in .grad:</p><table><tr><th>parameter</th><th>∂{_esc(cost)}/∂· (the steps)</th>"
            f"<th>.grad</th><th></th></tr>{''.join(rows)}</table>")
    if left_out:
        count = f"{len(left_out):,} parameter{'s' * (len(left_out) != 1)}"
        above = "above" if len(left_out) <= _MOST_LEFT_OUT else f"({_MOST_LEFT_OUT} of them above)"
        body += (f"<p class='note'>The {count} {above} {'are' if len(left_out) != 1 else 'is'} not drawn: the drawing "
                 f"keeps the {len(kept)} Value{'s' * (len(kept) != 1)} nearest the output (raise max_nodes to see "
                 "them); backward() found their gradients all the same.</p>")
    if any("zero_grad()" in row for row in rows):
        body += _zero_grad_how(parameters)
    if any(_esc(_MIXED) in row for row in rows):
        body += _OUTSIDE
    return Step("result", -1, "Every gradient, as .grad holds it", body)


def _zero_grad_how(parameters: list[Value]) -> str:
    """How to call the zero_grad() the rows advise, a method of each Value and of a model (there is no function of
    that name to call): for Values of one's own, a line that runs where their labels are their variables' names
    (``for p in (w, b): p.zero_grad()``); none where two share a label (``(w, w)`` would reset one of them twice)."""
    labels = [p.label if isinstance(p.label, str) else "" for p in parameters]
    if len(set(labels)) == len(labels) and all(label.isidentifier() and not keyword.iskeyword(label)
                                               for label in labels):
        each = f"for p in ({', '.join(labels)}{',' * (len(labels) == 1)}): p.zero_grad()"
    else:
        each = "p.zero_grad()"
    return (f"<p class='note'>zero_grad() is a method: <code>{_esc(each)}</code> for each parameter of your own, "
            "model.zero_grad() for a model's; then backward() again.</p>")


# --- the same steps on the dependency tree of a chain network ----------------------------------------------------
def tree_steps(cost: Value, tree: DependencyTree, *, precision: int = 4) -> list[Step]:
    """The player's steps on the seed's dependency tree (:mod:`tinygrad_edu.dependency_tree`): the tree's
    Values in the engine's order (one operation's inputs first to last, :func:`reading_order`), each edge with the
    tree's local derivative (unlabeled operations folded in, as the tree draws them; the seed's ``w_3`` written
    ``w₃``, as the drawing writes it).  Value number ``i`` is the ``i``-th of ``tree.nodes``."""
    if not isinstance(tree, DependencyTree):
        raise TypeError(f"tree_steps: tree must be a DependencyTree (from dependency_tree(cost)), "
                        f"got {type(tree).__name__}")
    if tree.cost not in tree.nodes or tree.nodes[tree.cost].value is not cost:
        raise ValueError("tree_steps: cost must be the Value the tree was found from (tree = dependency_tree(cost))")
    checks.precision(precision, "tree_steps")
    index = {id(node.value): i for i, node in enumerate(tree.nodes.values())}
    names = {id(node.value): name for name, node in tree.nodes.items()}
    position = {name: i for i, name in enumerate(tree.nodes)}
    # each node's edges, found once: a search of all edges at every step took time n² for a deep network
    inputs_of: dict[str, list[TreeEdge]] = {}
    uses_of: dict[str, list[TreeEdge]] = {}
    for edge in tree.edges:
        inputs_of.setdefault(edge.child, []).append(edge)
        uses_of.setdefault(edge.parent, []).append(edge)
    grads, _ = _gradients(cost, set(), "tree_steps")
    walked = reading_order(cost)
    order = [n for n in walked if id(n) in index]
    fmt = lambda array: summary(array, precision)  # noqa: E731
    data = lambda array: notation.value_summary(array, precision)  # noqa: E731 (σ(20) = 0.999999998, not 1)
    leaves = [node.value for node in tree.nodes.values() if node.value.op is None]
    folded = _folded_constants(tree)
    names_and_constants = {**names, **_constant_names(folded, precision)}  # how the formulas write the constants
    steps = [_start_step(leaves + folded, len(leaves) + len(folded), names_and_constants, data,
                         [n for n in _oldest_first(walked) if n.op is not None])]
    operations = [n for n in _oldest_first(order) if n.op is not None]
    for k, node in enumerate(operations, start=1):
        inputs = inputs_of.get(names[id(node)], [])
        formula = _tree_forward_formula(node, inputs, names_and_constants)
        # the tree's inputs, then the labelled constants folded into its edges (a in σ(w · a + b))
        given = [(e.parent, data(tree.nodes[e.parent].value.data)) for e in inputs] + [
            (names_and_constants[id(c)], _shape(c) + data(c.data)) for c in _folded_constants(tree, [node], names)
            if c.label is not None]
        values = "".join(f"<li>{_esc(n)} = {_esc(number)}</li>" for n, number in given)
        # (z¹ = 0.3185 + b¹ with W¹ frozen: where the 0.3185 comes from, as the drawing says under z¹)
        note = " ".join(unrecorded_product(tree, names[id(node)], precision))
        body = (f"<p class='formula'>{_esc(names[id(node)])} = {_esc(formula)}</p><p>from</p><ul>{values}</ul>"
                + (f"<p class='note'>{_esc(note)}</p>" if note else "")
                + f"<p class='result'>{_esc(names[id(node)])} = {_esc(data(node.data))}</p>")
        edges = [f"v{index[id(node)]}->v{position[e.parent]}" for e in inputs]
        steps.append(Step("forward", index[id(node)], f"Forward {k} of {len(operations)}: "
                          f"{pretty(names[id(node)])}", body, edges))
    for k, node in enumerate(order, start=1):
        uses = uses_of.get(names[id(node)], [])
        steps.append(_tree_backward_step(node, k, len(order), cost, tree, uses, index, position, names, grads, fmt))
    steps.append(_result_step(leaves, tree.cost, names, grads, fmt))
    # the seed's w_3 as the tree drawing writes it, w₃ (not in code to run: the result step's zero_grad line)
    return [Step(step.phase, step.node, notation.indexed(step.title), _indexed_outside_code(step.html),
                 step.edges) for step in steps]


def _indexed_outside_code(text: str) -> str:
    return "".join(piece if piece.startswith("<code>") else notation.indexed(piece)
                   for piece in re.split(r"(<code>.*?</code>)", text))


def _tree_forward_formula(node: Value, inputs: list[TreeEdge], names: Mapping[int, str]) -> str:
    """``z = W·α + b``, ``α = σ(z)``, ``C = Σ(α − 0.25)²``: a tree node from the tree nodes it depends on (its
    ``inputs``, the tree's edges into it) and the constants folded into its edges."""
    parents = [pretty(edge.parent) for edge in inputs]
    # a layer's z = W·α + b (α: the identity's z), told by its edges: ∂z/∂W = α, ∂z/∂α = W, ∂z/∂b = 1
    if len(parents) == 3 and [edge.formula for edge in inputs] == [parents[1], parents[0], "1"]:
        return f"{parents[0]} · {parents[1]} + {parents[2]}"
    return forward_formula(node, [_operand(p, names, within=str(node.op), first=i == 0)
                                  for i, p in enumerate(node.parents)])


_INFIX = {"add", "sub", "mul", "div", "matmul", "neg"}  # written in parentheses when inside another formula
_PRODUCTS = {"mul", "div", "matmul"}  # but not as a term of a sum: w · a + b, as the seed writes σ(w·a + b)


def _operand(node: Value, names: Mapping[int, str], depth: int = 3, within: str | None = None,
             first: bool = True) -> str:
    """An input in a tree node's formula (of an operation ``within``, its ``first`` input or not): its name in the
    tree, a folded constant's label or number, or an unlabelled operation folded into the edge written out (a few
    levels deep), in brackets where they matter: a − (b + c), (a + b) · c, but a + b + c, not (a + b) + c."""
    if id(node) in names:
        return pretty(names[id(node)])
    if node.op is None:
        return _constant_names([node])[id(node)]
    if depth == 0:
        return "…"
    text = forward_formula(node, [_operand(p, names, depth - 1, str(node.op), i == 0)
                                  for i, p in enumerate(node.parents)])
    term = node.op in _PRODUCTS and within in ("add", "sub") or (  # a sum inside a sum, but not a − (b + c)
        node.op in ("add", "sub") and (within == "add" or within == "sub" and first))
    return f"({text})" if node.op in _INFIX and not term else text


def _folded_constants(tree: DependencyTree, starts: list[Value] | None = None,
                      inside: Mapping[int, Any] | None = None) -> list[Value]:
    """The constants the tree folds into its edges instead of drawing them (a target without a label, an
    exponent): the leaves reached from the tree's operations (or from ``starts``) through unlabelled operations
    only; ``inside``: the tree's Values by id, if known (found once for a node at a time)."""
    inside = {id(node.value): node for node in tree.nodes.values()} if inside is None else inside
    stack = [node.value for node in tree.nodes.values() if node.value.op is not None] if starts is None else [*starts]
    found: dict[int, Value] = {}
    seen: set[int] = set()
    while stack:
        for parent in stack.pop().parents:
            if id(parent) in inside or id(parent) in seen:
                continue
            seen.add(id(parent))
            if parent.op is None:
                found[id(parent)] = parent
            else:
                stack.append(parent)
    return list(found.values())


def _constant_names(constants: list[Value], precision: int = 4) -> dict[int, str]:
    """A folded constant's name: its label, else its number (``constant[3]`` for a tensor)."""
    return {id(c): pretty(str(c.label)) if c.label is not None else
            format_number(float(c.data.reshape(())), precision) if c.size == 1 else f"constant{list(c.shape)}"
            for c in constants}


def _tree_backward_step(node: Value, k: int, count: int, cost: Value, tree: DependencyTree, uses: list[TreeEdge],
                        index: Mapping[int, int], position: Mapping[str, int], names: Mapping[int, str],
                        grads: Mapping[int, np.ndarray], fmt: Any) -> Step:
    name, top = names[id(node)], pretty(tree.cost)
    title = f"Backward {k} of {count}: ∂{top}/∂{pretty(name)}"
    total = fmt(grads[id(node)])
    result = f"<p class='result'>∂{_esc(top)}/∂{_esc(name)} = {_esc(total)}</p>"
    if node is cost:
        return Step("backward", index[id(node)], title,
                    f"<p>The backward pass starts at the cost itself: ∂{_esc(top)}/∂{_esc(top)} = 1.</p>" + result)
    rows, products = [], []
    for edge in uses:
        arriving = grads[id(tree.nodes[edge.child].value)]
        product = float(np.asarray(arriving).reshape(())) * edge.number
        products.append(product)
        # (each printed once; a Value used once passes down exactly ∂C/∂(it), in the pass's dtype: float32's pass is
        # not the float64 product of the printed factors, as the graph's rows show the engine's contribution)
        above, factor, shown = fmt(arriving), fmt(edge.number), total if len(uses) == 1 else fmt(product)
        local = edge.symbol + (f" = {edge.formula}" if edge.formula else "")
        local += "" if edge.formula == factor else f" = {factor}"
        rows.append(f"<tr><td>{_esc(edge.child)}</td><td>{_esc(above)}</td><td>{_esc(local)}</td>"
                    f"<td>{_esc(above)} × {_esc(operand(factor))} {_equals(above, factor, shown, fmt)} "
                    f"{_esc(shown)}</td></tr>")
    body = (f"<p>{_esc(name)} feeds {len(uses)} node{'s' * (len(uses) != 1)} of the tree; from each, the gradient "
            "arriving from above times the local derivative on the edge:</p><table><tr><th>from</th>"
            f"<th>arriving ∂{_esc(top)}{_PER_ANY}</th><th>local derivative</th><th>product</th></tr>"
            f"{''.join(rows)}</table>")
    if len(uses) > 1:
        terms = [fmt(p) for p in products]
        body += (f"<p class='sum'>Where the contributions meet they add up: "
                 f"{_esc(_sum_text(terms))} {_added(terms, total, fmt)} {_esc(total)}</p>")
    body += _underflow_note(grads[id(node)], sum(products), total, fmt, f"∂{top}/∂{name}")
    edges = [f"v{position[e.child]}->v{index[id(node)]}" for e in uses]
    return Step("backward", index[id(node)], title, body + result, edges)


def _underflowed(grad: np.ndarray) -> bool:
    """Whether a single-number gradient is below the smallest normal number of its dtype (0 included)."""
    return abs(float(np.asarray(grad).reshape(-1)[0])) < notation.smallest_normal(grad)


def _underflow_note(grad: np.ndarray, worked_out: float, total: str, fmt: Any, symbol: str) -> str:
    """Why ``symbol``'s gradient, ``total`` as the engine's pass holds it, is not the ``worked_out`` of the step's
    products (multiplied in float64, as the tree's edges are): it fell below the smallest normal number of its dtype
    (float32's 1.2e-38), where a number keeps fewer digits, or none."""
    if fmt(worked_out) == total or worked_out == 0 or not _underflowed(grad):  # (−0 printed for 0: no underflow)
        return ""
    dtype, least = np.asarray(grad).dtype, format_number(notation.smallest_normal(grad), 4)
    return (f"<p class='note'>{_esc(f'{symbol} is {total}, not the {fmt(worked_out)}')} that the numbers here multiply "
            f"out to in float64: the backward pass computes in {dtype}, whose numbers below {least} keep fewer digits, "
            "or none (underflow).</p>")


# --- the page ----------------------------------------------------------------------------------------------------
def _in_page_language(markup: str, lang: str, names: tuple[str, ...] = ()) -> str:
    """``markup``, the English of a step (shown in an element marked ``lang="en"``), with the user's ``names`` (as
    the steps write them: ``Gewicht``) and each run of letters of another script than Latin or Greek (a name such as
    重み) marked as the page's ``lang``: on a page in German or Japanese, screen readers read the prose in English
    and the names in the page's language, and fonts follow.  An English page: as is."""
    if lang.split("-")[0].lower() == "en":
        return markup
    # (not after & or &#: a name "gt" or "x27" in an escaped character, &gt; or &#x27;, is no name)
    alternatives = "|".join(map(re.escape, sorted(names, key=len, reverse=True)))
    named = re.compile(f"(?<![\\w′&#])({alternatives})(?![\\w′])")
    parts = re.split(r"(<[^>]*>)", markup)  # (the tags as they are: only the text between them is marked)
    return "".join(part if j % 2 else "".join(f'<span lang="{lang}">{piece}</span>' if k % 2 else
                                              _marked_letters(piece, lang)
                                              for k, piece in enumerate(named.split(part) if names else [part]))
                   for j, part in enumerate(parts))


def _marked_letters(text: str, lang: str) -> str:
    """``text`` with its runs of letters outside Latin and Greek (with their combining marks: a vowel sign of
    Devanagari belongs to the letter before it) in a ``<span lang=…>``."""
    pieces, outside = [], False
    for ch in text:
        if not unicodedata.category(ch).startswith("M"):
            named = unicodedata.name(ch, "")  # (ᵀ is a MODIFIER LETTER, ℓ a SCRIPT one: the notation's)
            was, outside = outside, ch.isalpha() and not any(s in named for s in ("LATIN", "GREEK", "MODIFIER",
                                                                                    "SCRIPT"))
            if outside != was:
                pieces.append(f'<span lang="{lang}">' if outside else "</span>")
        pieces.append(ch)
    return "".join(pieces) + ("</span>" if outside else "")


_PAGE = resources.files("tinygrad_edu") / "player.html"  # also found when the package is imported from a zip
_PHASES = ("start", "forward", "backward", "result")


class BackpropPlayer:
    """The steps and the drawing of one forward and backward pass, as a page: inline in Jupyter
    (``_repr_html_``), or one self-contained ``.html`` file with :meth:`save` (no network access; it works from
    ``file://``).  Controls: first / previous / play-pause / next / last, a slider, and the keys ←/→, Home/End
    and space, the same wherever the focus is (with Alt, Ctrl or ⌘ held they stay the browser's); the address
    keeps the step as ``#step=k``, so a link can open one step.  ``lang`` is the language of the title and the
    names (BCP 47: ``"ja"`` for Japanese), which the browser picks fonts and voices by; the controls and the steps'
    prose stay English, marked so, the names in them in ``lang``."""

    def __init__(self, steps: list[Step], drawing_svg: str | None, *, title: str = "Backpropagation, step by step",
                 missing_drawing: str = "", lang: str = "en", names: tuple[str, ...] = ()) -> None:
        if not isinstance(steps, list | tuple) or not all(isinstance(step, Step) for step in steps):
            raise TypeError(f"BackpropPlayer: steps must be a list of Step (backprop_steps or tree_steps gives it), "
                            f"got {type(steps).__name__} {steps!r:.60}")
        for i, step in enumerate(steps):  # (a Step made by hand: the page's script reads these types)
            if not (all(isinstance(text, str) for text in (step.phase, step.title, step.html))
                    and type(step.node) is int and isinstance(step.edges, list | tuple)
                    and all(isinstance(edge, str) for edge in step.edges)):
                raise TypeError(f"BackpropPlayer: steps[{i}] must have a str phase, title and html, an int node and "
                                f"a list of str edges, got {step!r:.120}")
            if step.phase not in _PHASES:  # (the page names the phase above each step's title)
                raise ValueError(f"BackpropPlayer: steps[{i}].phase must be one of {', '.join(_PHASES)}, "
                                 f"got {step.phase!r:.60}")
        if drawing_svg is not None and (not isinstance(drawing_svg, str) or "<svg" not in drawing_svg):
            raise TypeError(f"BackpropPlayer: drawing_svg must be the text of an SVG picture (holding '<svg') or None, "
                            f"got {type(drawing_svg).__name__} {drawing_svg!r:.60}")
        for name, text in (("title", title), ("missing_drawing", missing_drawing)):
            if not isinstance(text, str):
                raise TypeError(f"BackpropPlayer: {name} must be a str, got {type(text).__name__} {text!r:.60}")
        checks.text(title, "title", "BackpropPlayer", " (the page's heading and the frame's name)")
        if not steps:  # (the page shows a step, the first: none would be "step 1 / 0" and a script error)
            raise ValueError("BackpropPlayer: steps must hold at least one Step, got none")
        self.steps = list(steps)  # (a copy: the caller's list may change, the player does not)
        self.drawing_svg = drawing_svg
        self.title = title
        self.missing_drawing = missing_drawing
        self.lang = checks.language(lang, "BackpropPlayer")
        if not isinstance(names, list | tuple) or not all(isinstance(name, str) and name for name in names):
            raise TypeError(f"BackpropPlayer: names must be a tuple of the names the user gave, as the steps write "
                            f"them (viz's backprop_player finds them), got {names!r:.60}")
        self.names = tuple(names)

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        if not self._initialised():
            return "<BackpropPlayer: not initialised>"
        return f"<BackpropPlayer: {len(self.steps)} steps; .save('player.html') writes the page>"

    def _initialised(self) -> bool:
        """Whether __init__ set the attributes that the page is made of: it checks all its arguments first, so one
        that raised (or a subclass's __init__ that raised before calling it) left none."""
        return all(hasattr(self, name) for name in ("steps", "drawing_svg", "title", "missing_drawing"))

    def html(self, *, use_hash: bool = True) -> str:
        """The whole page as text; ``use_hash`` keeps the step in the address (``#step=k``)."""
        from string import Template

        use_hash = checks.flag(use_hash, "use_hash", "BackpropPlayer.html")
        steps = [{"phase": s.phase, "node": s.node, "title": s.title, "edges": s.edges,
                  "heading": _in_page_language(html.escape(s.title), self.lang, self.names),
                  "html": _in_page_language(s.html, self.lang, self.names)} for s in self.steps]
        data = printable(json.dumps(steps, ensure_ascii=False)).replace("</", "<\\/").replace("<!--", "\\u003c!--")
        if self.drawing_svg is not None:
            drawing = self.drawing_svg[self.drawing_svg.index("<svg"):]
        else:
            drawing = f"<div class='missing' lang='en'>{html.escape(self.missing_drawing)}</div>"
        return Template(_PAGE.read_text(encoding="utf-8")).substitute(
            title=html.escape(self.title), use_hash="yes" if use_hash else "no", count=len(self.steps),
            drawing=drawing, steps=data, lang=self.lang)

    def save(self, path: str | Path) -> Path:
        """Write the page to ``path`` (a ``.html`` file; folders are created); returns the path."""
        path = Path(os.fsdecode(checked_path(path, "BackpropPlayer.save")))
        if path.suffix.lower() not in (".html", ".htm"):
            raise ValueError(f"BackpropPlayer.save: the page is HTML; give a path ending in .html, got {str(path)!r}")
        write_text(path, self.html(), "BackpropPlayer.save")
        return path

    def _repr_html_(self) -> str:
        """Inline in Jupyter: the page in a frame of its own, so its keys and styles stay inside it."""
        if not self._initialised():
            return f"<p>{html.escape(repr(self))}</p>"
        page = html.escape(self.html(use_hash=False), quote=True)
        # (border-box: the border inside the 100 %, else the frame is 2 px wider than the output and JupyterLab
        # puts a horizontal scroll bar under it)
        return (f'<iframe srcdoc="{page}" title="{html.escape(self.title)}" '
                'style="width: 100%; height: 640px; border: 1px solid #ddd; box-sizing: border-box;"></iframe>')


def __dir__() -> list[str]:
    return sorted(__all__)
