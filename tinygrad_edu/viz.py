"""Pictures of the math: computation graphs, the backpropagation dependency tree and the network diagram.

Every drawing here is a :class:`Drawing` (a :class:`graphviz.Digraph`) built from your own objects.  In Jupyter it
shows inline (without Graphviz's ``dot`` it says how to install it); anywhere else write it to a file with
:func:`render`::

    >>> from tinygrad_edu import Value
    >>> from tinygrad_edu.viz import draw_graph
    >>> w, x = Value(0.5, label="w"), Value(2.0, requires_grad=False, label="x")
    >>> cost = (w * x - 1.0) ** 2
    >>> cost.backward()
    >>> graph = draw_graph(cost)          # render(graph, "cost.svg") writes the picture

* :func:`draw_graph` — every Value an output depends on, with the operations between them (seed, section 3).
* :func:`draw_dependency_tree` — the seed's section 6.3 tree ``C ← α^L ← z^L ← (W^L, α^(L−1), b^L)`` with the
  local derivative on every edge, so that multiplying along a path gives ``∂C/∂w``.
* :func:`draw_network` — the seed's Figure 1: neurons in layer columns, weights as coloured edges.
* :func:`backprop_player` — a page that plays the forward and the backward pass step by step on one of these
  drawings (built by :mod:`tinygrad_edu.player`).

All graph walks are iterative (no recursion), so graphs a million operations deep are fine.
"""

from __future__ import annotations

import functools
import html
import itertools
import math
import os
import re
import shutil
import signal
import subprocess
import warnings
from collections.abc import Mapping, Set
from pathlib import Path
from typing import TYPE_CHECKING, Any

import graphviz
import numpy as np

from tinygrad_edu import checks, nn, notation
from tinygrad_edu.dependency_tree import (
    DependencyTree,
    TreeEdge,
    TreeNode,
    built_in_op,
    dependency_tree,
    has_layers,
    network_input,
    unrecorded_product,
)
from tinygrad_edu.engine import Value, backward_order, local_gradients
from tinygrad_edu.files import checked_path, replacing, write_text
from tinygrad_edu.graph import ancestors, nearest_values
from tinygrad_edu.notation import LAYER_LABEL, format_number, left_out_note, pretty, printable, smallest_normal, summary
from tinygrad_edu.player import BackpropPlayer, backprop_steps, check_drawn, display_names, pass_gradients, tree_steps

__all__ = ["draw_graph", "draw_dependency_tree", "dependency_tree", "DependencyTree", "TreeNode", "TreeEdge",
           "draw_network", "render", "GraphvizNotFoundError", "COLORS", "Drawing", "computation_graph",
           "tree_drawing", "backprop_player", "BackpropPlayer"]

#: Fill colours: parameters (leaves needing a gradient), constants and inputs, intermediate Values, the output.
COLORS = {"parameter": "#c6efce", "constant": "#e7e6e6", "intermediate": "#ddebf7", "output": "#ffd966",
          "op": "#ffffff", "note": "#fff2cc"}
#: The dashed edges of constants and of the Values left out: lighter than the others, yet 4.5:1 on white (#999999 was
#: 2.85:1, under WCAG 1.4.11's 3:1 for the lines that say which Value feeds which)
_FAINT_EDGE = "#767676"

_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


# --- small helpers ------------------------------------------------------------------------------------------
def _text(text: Any, limit: int = 60) -> str:
    """Any user text made safe for a graphviz HTML-like label: control characters blanked, long text cut (between
    two characters, not inside an emoji or an accented letter), a right-to-left label kept whole (``∂C/∂وزن = 3``,
    not ``∂C/∂3 = وزن``), and each backslash doubled (Graphviz reads ``\\N`` in a label as the node's name, ``\\G``
    as the graph's), a leading ``]`` a character reference (Graphviz 2.43 fails on a text of just ``]`` or ``]]``)."""
    text = notation.left_to_right(notation.shortened(printable(text), limit))
    text = html.escape(text, quote=True).replace("\\", "\\\\")
    return "&#93;" + text[1:] if text.startswith("]") else text


def _html(*lines: str) -> str:
    """An HTML-like label of already escaped lines."""
    return "<" + "<BR/>".join(lines) + ">"


def _edge_label(*lines: str) -> str:
    """An edge's HTML-like label, its lines in a cell padded by 4 points: Graphviz puts the label's left side on a
    straight edge, so the bare text began on the line itself (``∂C/∂α³`` with its ∂ crossed out)."""
    return f'<<TABLE BORDER="0" CELLPADDING="4"><TR><TD>{"<BR/>".join(lines)}</TD></TR></TABLE>>'


_INSTALL = """Install Graphviz (the program, not only the Python package):
  Debian/Ubuntu:  sudo apt-get install graphviz
  macOS:          brew install graphviz
  conda:          conda install -c conda-forge graphviz
  Windows:        winget install graphviz   (then add its bin folder to PATH)"""
_INSTALL_HELP = """Graphviz's `dot` program was not found on PATH, so {target} could not be drawn.
The graph's source was written to {dot} instead. """ + _INSTALL + """
and draw the saved file later with:
  dot -T{fmt} {dot} -o {target}"""
_NO_DOT = """Graphviz's `dot` program was not found on PATH, so {what} cannot be drawn here.
""" + _INSTALL + """
and display it again (restart the kernel if needed){save}."""
_INLINE_HELP = _NO_DOT.format(what="this graph", save=""", or save its source now with
tinygrad_edu.viz.render(<the drawing>, "graph.dot")""")
#: The longest a drawing shown in Jupyter waits for Graphviz's layout, in seconds: past it, the cell says what to do
#: instead of hanging the notebook (a scalar network's graph of 2,000 Values took 7-45 s).
INLINE_TIMEOUT = 10.0
_TOO_SLOW = """Graphviz took more than {limit:g} s (viz.INLINE_TIMEOUT) to lay out this drawing, so it is not shown.
Draw fewer Values: draw_graph(value, max_nodes=50) draws the 50 nearest the output (150 by default),
or write this one to a file with no time limit: tinygrad_edu.viz.render(<the drawing>, "graph.svg", timeout=None)"""
_DOT_FAILED = """Graphviz's `dot` failed to draw this graph ({how}){message}
print(drawing) prints the Graphviz source it was given (edited by hand through .body or .attr?)."""


class Drawing(graphviz.Digraph):
    """The graphs this module returns: a :class:`graphviz.Digraph` that, displayed in Jupyter on a machine
    without Graphviz's ``dot``, says how to install it instead of showing graphviz's raw error, and where ``dot``
    fails (a source edited by hand), says so with ``dot``'s own message."""

    def __repr__(self) -> str:
        """What to do with a drawing outside Jupyter (the default said only ``<…Drawing object at 0x…>``)."""
        return ("<Drawing: shown as a picture in Jupyter; viz.render(drawing, 'graph.svg') writes it to a file, "
                "print(drawing) prints its Graphviz source>")

    def render(self, filename: Any = None, *args: Any, **kwargs: Any) -> str:
        """graphviz's ``render``, except that ``drawing.render("graph.png")`` (a name ending in ``.svg``, ``.png`` or
        ``.pdf``, and no other argument) writes that picture, as :func:`render` does: graphviz would write the
        Graphviz source under that name and the picture beside it, as ``graph.png.pdf``."""
        name = os.fsdecode(filename) if isinstance(filename, (str, os.PathLike)) else ""
        if not args and not kwargs and Path(name).suffix.lower() in (".svg", ".png", ".pdf"):
            return os.fspath(render(self, name))
        return super().render(filename, *args, **kwargs)

    def _inline(self, fmt: str) -> bytes:
        """The picture Jupyter shows in format ``fmt``, laid out within :data:`INLINE_TIMEOUT` seconds
        (``subprocess.TimeoutExpired``, ``dot`` killed), whichever format the notebook asks for."""
        result = _dot(self.source, self.engine, fmt, INLINE_TIMEOUT)
        if result.returncode != 0:
            raise subprocess.CalledProcessError(result.returncode, "dot", result.stdout, result.stderr)
        return result.stdout

    def _repr_image_svg_xml(self) -> str:
        """The SVG Jupyter shows, its scale written exactly (see :func:`_exact_scale`)."""
        return _exact_scale(self._inline("svg")).decode("utf-8")

    def _repr_image_png(self) -> bytes:
        """The PNG Jupyter shows (``graphviz.set_jupyter_format("png")``), under the same limit as the SVG."""
        return self._inline("png")

    def _repr_image_jpeg(self) -> bytes:
        """The JPEG Jupyter shows (``graphviz.set_jupyter_format("jpeg")``), under the same limit as the SVG."""
        return self._inline("jpeg")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> dict[str, Any]:
        try:
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        except (graphviz.ExecutableNotFound, FileNotFoundError):
            return {"text/plain": _INLINE_HELP,
                    "text/html": f"<pre style='white-space: pre-wrap'>{html.escape(_INLINE_HELP)}</pre>"}
        except subprocess.TimeoutExpired:
            slow = _TOO_SLOW.format(limit=INLINE_TIMEOUT)
            return {"text/plain": slow, "text/html": f"<pre style='white-space: pre-wrap'>{html.escape(slow)}</pre>"}
        except subprocess.CalledProcessError as error:  # (a source edited by hand, a crash: say so, not a trace)
            stderr = error.stderr.decode("utf-8", "replace") if isinstance(error.stderr, bytes) else error.stderr
            failed = _DOT_FAILED.format(how=_how_it_ended(error.returncode),
                                        message=f": {stderr.strip()}" if stderr and stderr.strip() else "")
            return {"text/plain": failed,
                    "text/html": f"<pre style='white-space: pre-wrap'>{html.escape(failed)}</pre>"}


def _check_value(value: Any, function: str) -> None:
    if not isinstance(value, Value):
        raise TypeError(f"{function}: expected a Value (the output or cost to draw), "
                        f"got {type(value).__name__}")


# --- computation graphs -------------------------------------------------------------------------------------
def _layer_clusters(kept: list[Value], kept_ids: set[int], model: Any) -> list[tuple[str, list[Value]]]:
    """Group the Values of each Layer: its weights and biases plus every operation result on the way back from the
    layer's outputs ``α^i`` to its inputs (``α^(i−1)``, what its weights multiply), of every call.  Layers are found by
    the labels ``W^i, b^i, α^i`` (``W, b, α`` for a standalone Layer) or from ``model.layers``.
    """
    groups: dict[int | None, dict[str, list[Value]]] = {}
    for node in kept:
        match = LAYER_LABEL.match(node.label) if isinstance(node.label, str) else None
        if match:
            index = int(match.group(2)) if match.group(2) else None
            kind = match.group(1).upper() if match.group(1) in "Ww" else match.group(1)
            groups.setdefault(index, {}).setdefault(kind, []).append(node)
    layers: list[tuple[int | None, str, list[Value], int]] = []  # (index, name, parameters, how many are weights)
    if model is not None:
        model_layers = list(getattr(model, "layers", [model]))
        for position, layer in enumerate(model_layers, start=1):
            index = getattr(layer, "index", None) or position
            weights = [p for p in (getattr(layer, "weights", None),) if isinstance(p, Value) and id(p) in kept_ids]
            biases = [p for p in (getattr(layer, "biases", None),) if isinstance(p, Value) and id(p) in kept_ids]
            if index not in groups and len(model_layers) == 1:
                index = None
            name = getattr(layer, "name", None) or f"layer {index}"
            layers.append((index, str(name), weights + biases, len(weights)))
    else:
        for index, kinds in groups.items():
            # a layer's output α^i: hand-made graphs labelled w, b only get no box, nor do several Layers outside a
            # Network, which all label their Values W, b, z, α (one box would hold them all)
            if "α" in kinds and (index is not None or len(kinds["α"]) == 1):
                layers.append((index, "layer" if index is None else f"layer {index}", kinds.get("W", []) +
                               kinds.get("b", []), len(kinds.get("W", []))))
    layers.sort(key=lambda item: -1 if item[0] is None else item[0])
    done: set[int] = set()  # the layers before, boxed or not
    clusters = []
    taken: set[int] = set()
    users = _users(kept)  # (found once: a scan of every Value per layer took layers × Values, 800 layers 2.6 s)
    for index, name, params, weight_count in layers:
        # the walk back from α^i stops at the layer's inputs: α^(i−1) (a lone layer's: α^0) and what its weights
        # multiply (the unlabelled α^0 too), so that in a network called several times (a neural ODE's steps, an
        # unrolled recurrence) the box holds every call's operations, and none of what came between the calls
        weight_ids = {id(p) for p in params[:weight_count]}
        inputs = [*groups.get(0 if index is None else index - 1, {}).get("α", []),
                  *(parent for weight in weight_ids for node in users.get(weight, ())
                    for parent in node.parents if id(parent) not in weight_ids)]
        outputs = groups.get(index, {}).get("α", [])
        new = ancestors(outputs, kept_ids, done | {id(n) for n in inputs})
        done |= {id(n) for n in new}
        members = [p for p in params if id(p) not in taken]
        taken |= {id(n) for n in members}
        members += [n for n in new if n.op is not None and id(n) not in taken]
        taken |= {id(n) for n in members}
        if members:
            clusters.append((name, members))
    return clusters


#: The operations whose setting None is not their default: an oval leaving it out would read as the default
#: (softmax(x, axis=None), over all the numbers, as softmax over the last axis; concatenate(…, axis=None) as axis 0).
_NONE_SHOWN = {"softmax", "log_softmax", "concatenate"}


def _op_text(node: Value) -> tuple[str, dict[str, str]]:
    """An operation's oval: its label, cut at 40 characters (``…``), and where it was cut, the whole text as its
    tooltip.  Graphviz reads a tooltip's backslashes twice (a label's once, ``_text`` doubles them): its line breaks
    (``\\n``, ``\\\\``), then the escString's names (``\\N``): so each backslash is written four times."""
    params = node.op_params
    none_shown = built_in_op(node) in _NONE_SHOWN
    shown = ", ".join(f"{k}={notation.param_text(v)}" for k, v in params.items()
                      if (v is not None or none_shown) and (k != "keepdims" or v))
    whole = printable(f"{node.op}({shown})" if shown else str(node.op))
    cut = notation.shortened(whole, 40) != whole
    return _text(whole, 40), {"tooltip": whole.replace("\\", 4 * "\\")} if cut else {}


@checks.pytorch_keywords(format="draw_graph(v) returns a graphviz Digraph: set its .format = 'svg', or call "
                                ".render(filename, format='svg') on it (micrograd's draw_dot(root, format=))")
def draw_graph(value: Value, *, rankdir: str = "TB", show_data: bool = True, show_grad: bool = True,
               names: Mapping[str, Any] | None = None, max_nodes: int = 150, model: Any = None,
               size: str | None = "9,100", precision: int = 4) -> Drawing:
    """Draw everything ``value`` depends on: one box per Value, one oval per operation between inputs and output.
    An oval names its operation and settings (``index(key=[0, 0, 1])``); one cut at 40 characters ends in ``…`` and
    shows the whole text as its tooltip in an SVG.

    Each box shows the Value's ``label`` (or its name in ``names``, e.g. ``names=locals()``; the network's
    unlabeled input is called α⁰), its shape, its data and its grad (the number for a single element;
    min/mean/max for a tensor, and how many are NaN where some are), with ``precision`` significant digits (more
    for data that would otherwise round to a whole number it is not: a saturated σ is 0.999999998, not 1).
    Colours (:data:`COLORS`): green for parameters (leaves with ``requires_grad``), grey for constants and inputs,
    blue for intermediate Values, gold for the output.  The Values of each
    ``Layer`` (its ``W^i``, ``b^i`` and the operations that make ``α^i`` from ``α^(i−1)``, at every call of a network
    called several times: a neural ODE's steps) sit in a box named
    after the layer, ``W^i`` and ``b^i`` beside the operations that use them and the boxes one under the other;
    pass ``model`` to take the layers from a Network.

    A gradient recorded by ``backward(create_graph=True)`` (``x.grad``, or ``autodiff.grad(f)(x)``) is drawn like
    any Value, in the same colours: its operations are the backward pass's own (``mul``, ``tanh_slope``, and ``copy``
    into a leaf's ``.grad``), beside the forward pass's Values they use.  Until it has had its own ``backward()``,
    the grad rows show what ``.grad`` the Values hold from other passes (for ``x.grad``, the cost's ∂C/∂·), and the
    key at the bottom says so.
    After several backward passes (gradient accumulation: the parameters' ``.grad`` add up, the other Values' hold
    the latest pass's) the grad rows no longer follow one another by the chain rule, nor where ``value`` is part of a
    larger cost that backward() started from (a parameter used outside it too), and the key of a drawing of the
    whole graph says that too (one cut by ``max_nodes`` cannot tell: call ``zero_grad()`` before ``backward()``); so
    does it for parameters emptied by ``zero_grad()`` (or left out by ``backward(inputs=…)``) since the pass the other
    Values' grads hold, for intermediates that ``backward(inputs=…)`` left out (their ``.grad`` None, or another
    pass's), and for a frozen Value that keeps a ``.grad`` from before ``requires_grad = False``.
    A graph made stale by a parameter changed in place since it was computed (an optimizer's step, a notebook's
    training cell run in between) shows the new weights beside activations computed from the old ones: the key says
    so, naming the parameter.

    The defaults fit a notebook: top to bottom, at most ``size`` inches (Graphviz's "width,height": 9 inches wide,
    and a tall graph scrolls rather than shrinking its text out of reading; left to right, ``rankdir="LR"`` or
    ``"RL"``, the default turns to 9 inches high; None for the natural size), the
    ``max_nodes`` Values nearest the output (breadth-first) with a note saying how many were left out.
    Graphviz's layout is slow beyond a few thousand nodes, so keep ``max_nodes`` moderate.  Where one drawn Value is
    used by many drawn operations (x in a Horner polynomial, w in ``s = tanh(s * w + b)`` repeated), Graphviz's
    placing of the nodes is capped, so that it takes seconds, not minutes: the chain is drawn slanted a little.
    Where drawn Values are used by operations far below them (a weight at every sample, a Value reused along a long
    sum: edges passing more than 10,000 ranks in all), each is drawn again beside its far uses, and the key says so.
    """
    _check_value(value, "draw_graph")
    _check_layout(rankdir, max_nodes, "draw_graph")
    _check_size(size, "draw_graph")
    checks.flag(show_data, "show_data", "draw_graph")
    checks.flag(show_grad, "show_grad", "draw_graph")
    checks.precision(precision, "draw_graph")
    given = _given_names(names, "draw_graph")
    _check_model(model, value, "draw_graph")
    if size == "9,100" and rankdir in ("LR", "RL"):  # the default turned: a wide graph scrolls, its text kept
        size = "100,9"
    kept, total = nearest_values(value, max_nodes)
    _warn_of_slow_layout(len(kept), "draw_graph", "one sample's cost, or a Network's layers with draw_network(model)",
                         stacklevel=4)  # (draw_graph is wrapped by checks.pytorch_keywords)
    return computation_graph(value, kept, total, names=given, rankdir=rankdir, show_data=show_data,
                             show_grad=show_grad, model=model, size=size, precision=precision)


#: More drawn Values than this, and :func:`draw_graph` warns that the layout will be slow: ``dot`` took 32-45 s for
#: 2,000 Values of a scalar network 12 wide (and 0.9 s our Python), 7-11 s for 80 passes of a small MLP; Graphviz's
#: ``nslimit``, ``mclimit``, ``remincross``, ``searchsize``, ``newrank`` or ``splines`` saved a fifth at most.
_SLOW_LAYOUT = 1000


def _warn_of_slow_layout(count: int, function: str, fewer: str, stacklevel: int) -> None:
    """Told before the wait (the layout runs when the drawing is shown or rendered, and dot says nothing while it
    works), from the user's line ``stacklevel`` frames up."""
    if count > _SLOW_LAYOUT:
        warnings.warn(f"{function}: {count:,} Values to draw, more than {_SLOW_LAYOUT:,}: Graphviz's dot lays out so "
                      "many slowly (2,000 Values of a scalar network: half a minute or more, nearly all of it in dot); "
                      f"draw fewer with max_nodes= (the default 150: a second or two), {fewer}", stacklevel=stacklevel)


def _check_model(model: Any, value: Value, function: str) -> None:
    """``model``: None, or the Network (or Layer) that computed ``value``: its layers give the drawing's boxes, so a
    model of another network (or no model at all) is refused rather than drawn as if it were ``value``'s."""
    if model is None:
        return
    layers = getattr(model, "layers", [model])
    if not isinstance(layers, list | tuple) or not all(hasattr(layer, "weights") for layer in layers):
        own = ("; for a Module of your own, leave model out: the drawing shows its Layers' W, b, z and α, without "
               "a box per layer" if isinstance(model, nn.Module) else "")
        raise TypeError(f"{function}: model must be the Network (or Layer) that computed the value, or None, got "
                        f"{type(model).__name__}" + (own or f" {model!r:.60}"))
    in_graph = {id(node) for node in nearest_values(value)[0]}
    if not any(id(getattr(layer, name, None)) in in_graph for layer in layers for name in ("weights", "biases")):
        raise ValueError(f"{function}: none of the model's weights or biases are in the graph of the value drawn; "
                         "give the model that computed it (or leave model out)")


def _given_names(names: Mapping[str, Any] | None, function: str) -> dict[int, str]:
    """id → name for the Values in ``names`` (e.g. ``locals()``; names starting with _ are skipped, and the first
    name of a Value wins)."""
    if names is not None and not isinstance(names, Mapping):
        raise TypeError(f"{function}: names must map names to Values (e.g. names=locals()), "
                        f"got {type(names).__name__}")
    return {id(obj): str(name) for name, obj in reversed(list((names or {}).items()))
            if isinstance(obj, Value) and not str(name).startswith("_")}


def _check_layout(rankdir: str, max_nodes: int, function: str) -> None:
    _check_rankdir(rankdir, function)
    checks.integer(max_nodes, "max_nodes", function, least=1)


def _check_rankdir(rankdir: Any, function: str) -> None:
    """Graphviz's ``rankdir``, checked before drawing (Graphviz itself ignores an unknown one or fails late)."""
    if not isinstance(rankdir, str) or rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"{function}: rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r:.60}")


def _check_size(size: Any, function: str) -> None:
    """Graphviz's ``size``: None, or a str of inches, ``"9,100"`` (width,height) or ``"9"`` (both); ``!`` at the
    end lets Graphviz scale the drawing up to it."""
    if size is None:
        return
    if not isinstance(size, str):
        raise TypeError(f"{function}: size must be a str of inches like '9,100' (Graphviz's \"width,height\") or "
                        f"None, got {type(size).__name__} {size!r:.60}")
    try:
        inches = [float(part) for part in size.strip().removesuffix("!").split(",")]
    except ValueError:
        inches = []
    if not 1 <= len(inches) <= 2 or not all(0 < n < math.inf for n in inches):
        raise ValueError(f"{function}: size must be inches like '9,100' (Graphviz's \"width,height\") or '9', "
                         f"got {size!r:.60}")


def computation_graph(value: Value, kept: list[Value], total: int, *, names: Mapping[int, str],
                      rankdir: str = "TB", show_data: bool = True, show_grad: bool = True, model: Any = None,
                      size: str | None = None, precision: int = 4,
                      grads: Mapping[int, Any] | None = None) -> Drawing:
    """The drawing of :func:`draw_graph` for the Values ``kept`` (of ``total``), named by ``names`` (id → name).
    Value number ``i`` of ``kept`` is the Graphviz node ``v{i}``, its operation ``op{i}``.  ``grads`` (id →
    gradient, none for a constant) is shown instead of each Value's ``.grad``: the player's, of one backward pass."""
    check_drawn(value, kept, total, names, "computation_graph")
    _check_rankdir(rankdir, "computation_graph")
    _check_size(size, "computation_graph")
    checks.flag(show_data, "show_data", "computation_graph")
    checks.flag(show_grad, "show_grad", "computation_graph")
    checks.precision(precision, "computation_graph")
    if grads is not None and not isinstance(grads, Mapping):
        raise TypeError(f"computation_graph: grads must map id(Value) to its gradient, got {type(grads).__name__}")
    names = dict(names)
    first_input = network_input(kept)
    if first_input is not None:
        names.setdefault(id(first_input), "α^0")
    key = _graph_key(value, kept, total, show_grad=show_grad and grads is None, stale=show_data and grads is None)
    attributes = {"rankdir": rankdir, "fontname": "Helvetica", "label": key, "labelloc": "b", "fontsize": "10",
                  "pad": _pad(key)}
    if size is not None:
        attributes["size"] = size
    if _most_uses(kept) > _SHARED_USES:  # (see _SHARED_USES)
        attributes["nslimit"] = "1"
    graph = Drawing("computation_graph", graph_attr=attributes, node_attr={"fontname": "Helvetica", "fontsize": "11"},
                    edge_attr={"color": "#555555"})
    number = {id(n): i for i, n in enumerate(kept)}

    def box(target: graphviz.Digraph, node: Value, name: str, **tooltip: str) -> None:
        kind = _value_kind(node, value)  # a parameter framed too: its green is the constants' grey to some eyes
        grad = node.grad if grads is None else grads.get(id(node))
        target.node(name, _value_label(node, names.get(id(node)), show_data, show_grad, precision, grad,
                                       frame=2 if kind == "parameter" else 0),
                    shape="plaintext", style="filled", fillcolor=COLORS[kind], **tooltip)

    def add_nodes(target: graphviz.Digraph, nodes: list[Value]) -> None:
        for node in nodes:
            i = number[id(node)]
            box(target, node, f"v{i}")
            if node.op is not None:
                text, tooltip = _op_text(node)
                target.node(f"op{i}", text, shape="oval", style="filled", fillcolor=COLORS["op"], **tooltip)

    clustered: set[int] = set()
    for position, (name, members) in enumerate(_layer_clusters(kept, set(number), model)):
        with graph.subgraph(name=f"cluster_layer{position}") as cluster:
            cluster.attr(label=_html("<B>" + _text(name) + "</B>"), style="rounded,dashed", color="#7f7f7f",
                         labelloc="t", labeljust="l")
            add_nodes(cluster, members)
            _rank_parameters_beside_their_use(cluster, members, number)
        clustered |= {id(n) for n in members}
    add_nodes(graph, [n for n in kept if id(n) not in clustered])
    far = _far_uses(kept, number, clustered)
    for parent, user in sorted(far):  # (see _LONG_EDGES)
        box(graph, kept[parent], f"v{parent}_{user}", tooltip="the same Value as a box higher up, drawn again here")
    _add_edges(graph, kept, number, total, clustered, far)
    if far:
        graph.attr(label=key + _REPEATED_NOTE, pad=_pad(key + _REPEATED_NOTE))
    return graph


#: In all, the ranks the edges of a drawing may pass (a Value used by an operation far below it: a weight of a
#: scalar network at every sample, a Value reused along a long expression) before its Values are drawn again beside
#: their far uses: Graphviz's placing gets a node for each rank an edge passes, 59,528 for 500 Values of a reused
#: sum of products (minutes, in Jupyter with no time limit; 0.3 s without those edges).  Drawings of the default
#: 150 Values pass a few thousand at most, and are drawn as they were.
_LONG_EDGES = 10_000
#: How many ranks below a Value an operation may use it before, in such a drawing, the Value is drawn again there.
_FAR = 6
_REPEATED_NOTE = ("\nA box drawn more than once is one Value used by operations far apart, drawn again beside each far "
                  "use so that Graphviz lays the drawing out in seconds")


def _far_uses(kept: list[Value], number: dict[int, int], clustered: Set[int] = frozenset()) -> set[tuple[int, int]]:
    """The (Value, user) pairs, numbers in ``kept``, whose edge passes more than :data:`_FAR` ranks, if the drawing's
    edges pass more than :data:`_LONG_EDGES` in all; else none.  Each Value is ranked as far from the output as its
    farthest use, one rank above that use's operation (so a weight sits beside its first use, and the Values
    closer to the output draw it again).  A Value in a layer's box (``clustered``) is not drawn again: its copies
    would stand outside the box (a layer's weight used by each sample's pass: the layout took longer, not less)."""
    depth = {id(kept[0]): 0}  # ranks above the output; users first, so a Value's depth is known when it comes
    uses = []
    for node in _users_first(kept, number):
        if node.op is not None:
            for parent in node.parents:
                if id(parent) in number:
                    depth[id(parent)] = max(depth.get(id(parent), 0), depth[id(node)] + 2)
                    uses.append((id(parent), id(node)))
    passed = [(depth[parent] - depth[user] - 1, parent, user) for parent, user in uses]
    if sum(ranks - 1 for ranks, *_ in passed) <= _LONG_EDGES:
        return set()
    return {(number[parent], number[user]) for ranks, parent, user in passed
            if ranks > _FAR and parent not in clustered}


def _users_first(kept: list[Value], number: dict[int, int]) -> list[Value]:
    """``kept`` ordered so that each Value comes after every Value of ``kept`` that uses it (backward_order's order,
    which refuses a stale graph: its drawing says it is stale instead)."""
    done: set[int] = set()
    order: list[Value] = []  # inputs first
    for start in kept:
        stack = [(start, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in done:
                done.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in node.parents if id(p) in number and id(p) not in done)
    return order[::-1]


def _pad(key: str) -> str:
    """Graphviz's ``pad`` (inches on the sides, then on top and bottom) of a drawing whose key is ``key``: on each
    side its 4 points, and half of what a viewer whose Helvetica is DejaVu Sans writes the key's longest line wider
    than Graphviz measures it (:func:`_wider_viewer`; 4.9 points a character of Arial at 10 points).  Its ends were cut
    off at the picture's edges; no-break spaces around the key's lines (round 47) were copied with its text.  The pad
    is outside the layout: the nodes are placed as without it."""
    return f"{(4 + _wider_viewer() * 2.45 * max(map(len, key.split(chr(10))))) / 72:.3f},0.0556"


@functools.cache
def _wider_viewer(font: str = "Helvetica") -> float:
    """How much wider DejaVu Sans (the sans-serif font of many Linux desktops, where no Helvetica or Arial is) writes
    a line than this machine's Graphviz measures it in ``font``: about 0.15 where Graphviz measures Helvetica as Arial
    or Liberation Sans, 0 where it measures DejaVu Sans itself; 0.15 where there is no ``dot`` to ask."""
    text = "green: parameter (thick frame) · grey: constant or input · blue: intermediate"
    source = (f'digraph {{ node [shape=plaintext margin=0 fontsize=100 label="{text}"] h [fontname="{font}"] '
              'd [fontname="DejaVu Sans"] }')
    try:
        plain = _dot(source, "dot", "plain", 30).stdout.decode("utf-8", "replace")
        widths = {line.split()[1]: float(line.split()[4]) for line in plain.splitlines() if line.startswith("node ")}
        return min(max(widths["d"] / widths["h"] - 1, 0.0), 0.15)
    except (OSError, subprocess.SubprocessError, KeyError, ValueError, IndexError, ZeroDivisionError):
        return 0.15


def _graph_key(value: Value, kept: list[Value], total: int, *, show_grad: bool, stale: bool) -> str:
    """The key under :func:`computation_graph`'s drawing: the colours, and notes on what its ``.grad`` (if
    ``show_grad``: the Values' own) and its numbers (if ``stale``) show."""
    key = ("green: parameter (thick frame) · grey: constant or input · blue: intermediate · gold: output · "
           "ovals: operations")
    if show_grad and value.grad is None and any(n.grad is not None for n in kept):
        # (a gradient recorded by backward(create_graph=True), drawn before its own backward(): its forward Values
        # hold ∂C/∂· of the cost, which read as derivatives of the Value drawn)
        key += ("\ngrad: each Value's .grad, from the backward pass of another output (the Value drawn has had none: "
                "call its backward() to see its own)")
    elif show_grad and value.grad is not None and any(n.op is not None and n.requires_grad and n.grad is None
                                                      for n in kept):  # (every backward() fills them: inputs=…)
        key += ("\ngrad: – on an intermediate: its .grad is None, left out by backward(inputs=…) (on no path to its "
                "inputs; so are the parameters\nthat are not its inputs), and the Values it uses may hold another "
                "pass's .grad: call zero_grad(), then call backward() again to see one pass")
    elif show_grad and value.grad is not None and total == len(kept) and _intermediates_apart(value, kept):
        key += ("\ngrad: some intermediates' .grad do not follow by the chain rule from those of the Values that use "
                "them here: they hold another backward\npass's (another output's, or one that backward(inputs=…) left "
                "as it was, on no path to its inputs), or Values outside this drawing use them\ntoo (the Value drawn "
                "is part of a larger graph: draw the output backward() started from); else call zero_grad() and "
                "backward() again")
    elif show_grad and value.grad is not None and total == len(kept) and _passes_mixed(kept):
        key += ("\ngrad: the parameters' .grad are 0, reset by zero_grad(set_to_none=False) after the backward pass "
                "whose gradients the other Values hold: call backward() again to see one pass" if _zeroed(kept) else
                "\ngrad: the parameters' .grad do not follow by the chain rule from those of the Values that use them "
                "here: they add up over backward passes until zero_grad()\n(the other Values' hold the latest pass's), "
                "or Values outside this drawing use them too (the Value drawn is part of a larger graph: draw the "
                "output\nbackward() started from); else call zero_grad() and backward() again to see one pass")
    elif show_grad and value.grad is not None and _emptied(kept):
        key += _emptied_note(kept)
    kept_grad = [n for n in kept if n.op is None and not n.requires_grad and n.grad is not None]
    if show_grad and kept_grad:
        key += _frozen_note(kept_grad[0], kept, total)
    if stale:
        key += _stale_note(value, kept)
    return key


#: A drawn Value used by more drawn operations than this (x in a Horner polynomial, w in ``s = tanh(s * w + b)``
#: repeated) has an edge to each of them, many ranks long, and Graphviz's placing of the nodes grows so fast with
#: them that ``dot`` took 6 s for 30 uses among the default 150 Values, 35 s for 50 and minutes for a recurrent
#: chain (in Jupyter, with no time limit).  Such a drawing caps that placing (Graphviz's ``nslimit``): laid out in
#: a second or two, slanted a little.
_SHARED_USES = 20


def _most_uses(kept: list[Value]) -> int:
    """The most operations among ``kept`` that use one Value of ``kept``."""
    kept_ids = {id(node) for node in kept}
    uses: dict[int, int] = {}
    for node in kept:
        for parent in node.parents:
            if id(parent) in kept_ids:
                uses[id(parent)] = uses.get(id(parent), 0) + 1
    return max(uses.values(), default=0)


def _stale_note(value: Value, kept: list[Value]) -> str:
    """The key's line for a stale graph (a parameter changed in place after ``value`` was computed: an optimizer's
    step, a notebook's training cell run in between), whose boxes, ``kept``, show the new weights beside the
    activations computed from the old ones; "" for a graph backward() would take there."""
    computed = [node for node in kept if node.op is not None and node.requires_grad]
    try:  # (checks the operations' inputs as backward does, back to the oldest drawn: a long solve's last steps)
        backward_order(value, inputs=computed or None)
    except ValueError as error:
        changed = getattr(error, "changed", None)  # (the stale-graph error's Value; None: another refusal)
        if changed is None:
            return ""
        label = changed.label
        name = notation.shortened(printable(pretty(label)), 40) if isinstance(label, str) and label else "a parameter"
        return (f"\ndata: stale: {name} was changed in place (an optimizer's step?) after this graph was computed,"
                "\nso the boxes mix new and old numbers: compute it again to draw one pass")
    return ""


def _frozen_note(frozen: Value, kept: list[Value], total: int) -> str:
    """The key's line for a Value that needs no gradient (``requires_grad = False``) and has a ``.grad``: from the
    pass drawn, frozen right after it, or from passes before it was frozen, earlier ones or this one added to them
    (which a drawing cut by ``max_nodes`` cannot tell)."""
    label = frozen.label
    name = notation.shortened(printable(pretty(label)), 40) if isinstance(label, str) and label else "a constant"
    if total > len(kept):
        return (f"\ngrad: {name} needs no gradient (requires_grad = False): its .grad is kept from a backward pass "
                "before\nrequires_grad was set to False, this one or an earlier one")
    if _this_pass(frozen, kept):  # (or frozen before it, with an earlier pass's equal .grad: a cell run twice)
        return (f"\ngrad: {name} needs no gradient (requires_grad = False), set after this backward pass filled its "
                ".grad\n(or after an earlier pass that gave it the same numbers): the next backward() leaves it as "
                "it is")
    # (not "this pass gave it none": a .grad of two passes, backward() run twice before the freeze, holds this one)
    return (f"\ngrad: {name} needs no gradient (requires_grad = False) and its .grad is not this pass's:\nit is "
            "kept from backward passes before requires_grad was set to False")


def _this_pass(frozen: Value, kept: list[Value]) -> bool:
    """Whether the ``.grad`` of a Value frozen (``requires_grad = False``) is the pass the Values using it hold (all in
    ``kept``, the whole graph): ``requires_grad`` was set to False after that pass, not before it, or before it after
    an earlier pass of the same numbers (which the graph cannot tell apart: it keeps no record of when)."""
    through: Any = 0.0
    size: Any = 0.0  # Σ |contribution|: the scale of rounding where contributions of both signs cancel
    try:
        for user in (node for node in kept if any(parent is frozen for parent in node.parents)):
            if user.grad is None:
                return False
            upstream = user.grad.data if isinstance(user.grad, Value) else user.grad
            with np.errstate(all="ignore"):  # (0 × inf: the nan backward() warned about, compared as such)
                for _, parent, g in local_gradients(user, upstream, constants=[frozen]):
                    if parent is frozen:
                        through, size = through + g, size + np.abs(g)
        grad = frozen.grad.data if isinstance(frozen.grad, Value) else frozen.grad
        tolerance = max(1e-9, math.sqrt(float(np.finfo(frozen.dtype).eps))) if frozen.dtype.kind == "f" else 1e-9
        atol = tolerance * np.nan_to_num(size, nan=0.0, posinf=0.0) + smallest_normal(grad)
        return bool(np.shape(grad) == frozen.shape and np.allclose(grad, through, rtol=tolerance, atol=atol,
                                                                   equal_nan=True))
    except (TypeError, ValueError):  # a stale graph (a step since), a .grad of another shape set by hand
        return False


def _zeroed(kept: list[Value]) -> bool:
    """Whether every parameter among ``kept`` that has a ``.grad`` holds zeros there (``zero_grad(set_to_none=False)``
    since the backward pass), so that no pass is in them, rather than several."""
    grads = [p.grad for p in kept if p.op is None and p.requires_grad and p.grad is not None]
    try:
        return bool(grads) and not any(np.any(notation.numbers_of(grad)) for grad in grads)
    except (TypeError, ValueError):  # a .grad set by hand to what holds no numbers
        return False


def _emptied_note(kept: list[Value]) -> str:
    """The key's line for parameters whose ``.grad`` is None beside Values that hold a pass's (:func:`_emptied`);
    where another parameter holds that pass's ``.grad`` (``backward(inputs=…)``), backward() alone would add a
    second pass to it: zero_grad() first."""
    note = ("\ngrad: – on a parameter: its .grad is None, reset by zero_grad() after the backward pass whose gradients "
            "the other Values hold")
    if not any(p.op is None and p.requires_grad and p.grad is not None for p in kept):
        return note + ":\ncall backward() again to see one pass"
    return note + "\n(or left out by backward(inputs=…)): call zero_grad(), then call backward() again to see one pass"


def _emptied(kept: list[Value]) -> bool:
    """Whether a parameter among ``kept`` has no ``.grad`` although a Value that uses it has one: ``zero_grad()``
    since the backward pass (or ``backward(inputs=…)`` without it), so its box's "grad –" is no pass's."""
    used_by_a_pass = {id(parent) for node in kept if node.grad is not None for parent in node.parents}
    return any(p.op is None and p.requires_grad and p.grad is None and id(p) in used_by_a_pass for p in kept)


def _passes_mixed(kept: list[Value]) -> bool:
    """Whether a parameter's ``.grad`` differs from the sum, by the chain rule, of what the Values that use it (all in
    ``kept``, the whole graph) pass back from their ``.grad``: a leaf adds up gradients over backward passes
    (gradient accumulation, or another output's pass through shared Values), an intermediate keeps the latest pass's;
    or a parameter is used outside ``kept`` too, in the larger cost that backward() started from (one pass: the graph
    keeps no record of a Value's users, so the two cannot be told apart).
    False where that cannot be told (a Value without ``.grad``, a graph made stale by a step)."""
    users = _users(kept)
    for p in kept:
        if p.op is not None or not p.requires_grad or p.grad is None or id(p) not in users:
            continue
        follows = _follows(p, _passed_back(p, users[id(p)]))  # (the parts freed before the next Value's)
        if follows is not True:
            return follows is False
    return False


def _users(kept: list[Value]) -> dict[int, list[Value]]:
    """The Values among ``kept`` that use each Value, by its id."""
    users: dict[int, dict[int, Value]] = {}
    for node in kept:
        for parent in node.parents:
            users.setdefault(id(parent), {})[id(node)] = node
    return {key: list(found.values()) for key, found in users.items()}


def _passed_back(value: Value, users: list[Value]) -> list[np.ndarray] | None:
    """What each of ``users`` passes back to ``value`` from its ``.grad`` by the chain rule; None where that cannot be
    told (a user without ``.grad``, a graph made stale by a step, a ``.grad`` of another shape set by hand).  One
    Value at a time: a drawing of a network on all its samples holds no gradient of every Value at once."""
    parts = []
    try:
        for user in users:
            if user.grad is None:
                return None
            upstream = user.grad.data if isinstance(user.grad, Value) else user.grad
            with np.errstate(all="ignore"):  # (0 × inf: the nan backward() warned about, compared as such)
                parts += [g for _, parent, g in local_gradients(user, upstream) if parent is value]
    except (TypeError, ValueError):
        return None
    return parts


def _follows(value: Value, parts: list[np.ndarray] | None) -> bool | None:
    """Whether ``value.grad`` is the sum of ``parts``, what the Values that use it pass back by the chain rule: the
    same bits (one pass, as backward adds them), or equal to rounding on the scale of the parts' sizes (where parts
    of both signs cancel); None for parts that cannot be told (``_passed_back``'s None)."""
    if parts is None:
        return None
    grad = value.grad.data if isinstance(value.grad, Value) else value.grad
    with np.errstate(all="ignore"):  # (inf − inf: the nan backward() warned about, compared as such)
        through = sum(parts, start=np.zeros(())) if len(parts) != 1 else parts[0]
    if np.shape(grad) != value.shape:
        return False
    if np.array_equal(grad, through):  # (first: no array of sizes, for a drawing of a large batch)
        return True
    size = sum((np.abs(part) for part in parts), start=np.zeros(()))
    tolerance = max(1e-9, math.sqrt(float(np.finfo(value.dtype).eps))) if value.dtype.kind == "f" else 1e-9
    # (not a fixed atol of 1e-12: a deep network's vanishing gradients, 1e-20 and twice it, are not rounding; a NaN
    # or inf contribution is no scale of rounding, and numpy warns about such an atol)
    atol = tolerance * np.nan_to_num(size, nan=0.0, posinf=0.0) + smallest_normal(grad)
    return bool(np.allclose(grad, through, rtol=tolerance, atol=atol, equal_nan=True))


def _intermediates_apart(value: Value, kept: list[Value]) -> bool:
    """Whether a computed Value among ``kept`` (the whole graph of ``value``) holds a ``.grad`` that does not follow by
    the chain rule from those of the Values that use it: another backward pass's, one of another output through it,
    or one that ``backward(inputs=…)`` left as it was, on no path to its inputs; or one of this pass where Values
    outside ``kept`` use it too (``value`` inside a larger graph: a Value keeps no record of its users, so the two
    cannot be told apart).  Values where that cannot be told (see ``_passed_back``) are passed over."""
    users = _users(kept)
    return any(node is not value and node.op is not None and node.grad is not None and id(node) in users
               and _follows(node, _passed_back(node, users[id(node)])) is False for node in kept)


def _rank_parameters_beside_their_use(cluster: graphviz.Digraph, members: list[Value],
                                      number: Mapping[int, int]) -> None:
    """Rank each parameter in a layer's box with the first operation of the box that uses it: ``W^i`` beside
    ``matmul``, ``b^i`` beside ``add``.  Ranked above its operation, ``W^i`` shared a rank with the layer's input
    ``α^(i−1)`` at the bottom of the box before, so each box stood to the right of the one before: a staircase
    that shrank the text of two hidden layers to 4 pt.  Beside their operations, the boxes stack."""
    in_box = {id(n) for n in members}
    ranked: set[int] = set()
    for node in members:
        parameters = [p for p in node.parents if p.op is None and id(p) in in_box and id(p) not in ranked]
        if node.op is None or not parameters:
            continue
        ranked |= {id(p) for p in parameters}
        with cluster.subgraph() as same_rank:
            same_rank.attr(rank="same")
            for name in [f"op{number[id(node)]}"] + [f"v{number[id(p)]}" for p in parameters]:
                same_rank.node(name)


#: Graphviz edge weight of the forward chain in the layer boxes (operation → result → the operation using it):
#: heavier than the 128 with which dot keeps a box narrow, so the chain runs straight instead of zigzagging.
_CHAIN_WEIGHT = "1000"
#: The same outside the boxes, lighter: results run straight down through the operations that use them, the leaves
#: beside them.  With every edge weighing 1, a long chain (``s = s + w_i``, ``h = h * c``) drifted one step sideways
#: per operation, a staircase that a notebook's 9 inches shrank to 2 pt text.
_RESULT_WEIGHT = "10"


def _value_label(node: Value, name: str | None, show_data: bool, show_grad: bool, precision: int, grad: Any,
                 frame: int = 0) -> str:
    """A box of rows: the name, the shape (tensors), the data and ``grad`` (``precision`` significant digits), in
    a frame ``frame`` points thick around the rows (0: none)."""
    name = node.label if node.label is not None and str(node.label) else name
    cells = []
    if name is not None and str(name):  # an empty <B></B> is a syntax error to Graphviz
        cells.append(f"<B>{_text(pretty(str(name)))}</B>")
    if node.ndim:
        cells.append(_text(f"shape {node.shape}"))
    if show_data:
        cells.append("data " + _text(notation.value_summary(node.data, precision)))
    if show_grad:
        cells.append("grad " + _text(summary(grad, precision)))
    rows = "".join(f"<TR><TD>{cell}</TD></TR>" for cell in cells or [" "])
    return f'<<TABLE BORDER="{frame}" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">{rows}</TABLE>>'


def _value_kind(node: Value, output: Value) -> str:
    if node is output:
        return "output"
    if node.op is None:
        return "parameter" if node.requires_grad else "constant"
    return "intermediate"


def _add_edges(graph: graphviz.Digraph, kept: list[Value], number: dict[int, int], total: int,
               clustered: set[int], far: Set[tuple[int, int]] = frozenset()) -> None:
    """Input → operation → result edges (from a Value's copy for the uses ``far``: see :func:`_far_uses`); when
    Values were left out, a note pointing at the cut operations.
    The forward chain through the layer boxes (the Values in ``clustered``) weighs :data:`_CHAIN_WEIGHT`, the one
    outside them :data:`_RESULT_WEIGHT`."""
    cut_ops: list[int] = []
    for node in kept:
        if node.op is None:
            continue
        i = number[id(node)]
        in_layer = id(node) in clustered
        graph.edge(f"op{i}", f"v{i}", weight=_CHAIN_WEIGHT if in_layer else _RESULT_WEIGHT)
        cut = False
        for parent in node.parents:
            if id(parent) in number:
                chain = parent.op is not None and (not in_layer or id(parent) in clustered)
                weight = (_CHAIN_WEIGHT if in_layer else _RESULT_WEIGHT) if chain else None
                source = f"v{number[id(parent)]}" + (f"_{i}" if (number[id(parent)], i) in far else "")
                graph.edge(source, f"op{i}", weight=weight)
            else:
                cut = True
        if cut:
            cut_ops.append(i)
    if total > len(kept):
        graph.node("truncated", _html(*(_text(line, 90) for line in left_out_note(len(kept), total))),
                   shape="note", style="filled", fillcolor=COLORS["note"])
        for i in cut_ops:
            graph.edge("truncated", f"op{i}", style="dashed", color=_FAINT_EDGE)


def backprop_player(value: Value, *, layout: str = "auto", names: Mapping[str, Any] | None = None,
                    max_nodes: int = 150, model: Any = None, precision: int = 4,
                    title: str = "Backpropagation, step by step", lang: str = "en") -> BackpropPlayer:
    """Watch backpropagation happen: a page that steps through the forward pass, one operation at a time, then
    the backward pass, each Value after every Value that uses it, as the engine walks it (one operation's inputs
    first to last, where the engine takes them last to first: :func:`tinygrad_edu.player.reading_order`).

    At each backward step the Value in hand is highlighted and the page shows the gradient arriving from each
    Value that used it, the local derivative on that edge (``∂z/∂W = α``, ``σ′(z)``, ``2(α − y′)``...), their
    product, the sum where several contributions meet, and ∂C/∂(the Value); the last step lists every
    parameter's gradient next to its ``.grad``.  ``value`` is the cost (a single number); if it has no
    gradient yet this calls ``value.backward()``.  The steps and the drawing show one backward pass of ``value``
    alone, also where ``.grad`` holds other passes too (``backward()`` run twice): the last step says so.

    ``layout="graph"`` draws every Value and operation as :func:`draw_graph` does (large graphs cut the same
    way); ``"tree"`` draws the seed's dependency tree of a chain network (:func:`draw_dependency_tree`, with
    the unlabeled operations folded into its edges; refused beyond ``max_nodes`` labelled Values); ``"auto"``
    takes the tree when the cost comes from a network with one neuron per layer (labelled ``z^i``, ``α^i`` as
    ``nn.Layer`` does) and has at most ``max_nodes`` labelled Values, else the graph.

    ``title`` heads the page and names its frame in Jupyter: give each player of a notebook its own, so that
    they read apart (a screen reader lists the frames by it).  ``lang`` is the language of the title and names
    (``"ja"``, ``"zh-Hans"``: the page's ``lang``, which the browser picks fonts and voices by).

    A cost whose graph is stale (a parameter changed in place since it was computed: a training cell run in
    between) is refused, as ``backward()`` refuses it.

    In Jupyter the result shows inline; ``.save("player.html")`` writes one self-contained page.  Without
    Graphviz's ``dot`` the page has the steps and says how to install Graphviz for the drawing.
    """
    _check_value(value, "backprop_player")
    checks.integer(max_nodes, "max_nodes", "backprop_player", least=1)
    if not isinstance(layout, str) or layout not in ("auto", "graph", "tree"):
        raise ValueError(f"backprop_player: layout must be 'auto', 'graph' or 'tree', got {layout!r}")
    checks.precision(precision, "backprop_player")
    checks.text(title, "title", "backprop_player", " (the page's heading and the frame's name)")
    checks.language(lang, "backprop_player")
    given = _given_names(names, "backprop_player")
    _check_model(model, value, "backprop_player")
    if value.size != 1 or not value.requires_grad:
        raise ValueError(f"backprop_player: expected a cost, a single number that depends on parameters; got a "
                         f"Value of shape {value.shape}{'' if value.requires_grad else ' without a gradient'}")
    try:  # what backward refuses, the player refuses, in its own name (a stale graph: a training cell run since)
        backward_order(value)
    except ValueError as error:
        raise ValueError(f"backprop_player: {str(error).removeprefix('backward_order: ')}") from None
    every, total = nearest_values(value)  # (the graph's shape: a backward pass below does not change it)
    kept = every[:max_nodes]  # the max_nodes nearest the output; the tree counts the labelled Values of them all
    _warn_of_slow_layout(len(kept), "backprop_player", "or one sample's cost", stacklevel=3)
    names_given = _user_names([*given.values(), *(n.label for n in kept)])
    tree_player = _tree_player(value, every, layout, max_nodes, precision, title, lang, names_given)
    if tree_player is not None:
        return tree_player
    if value.grad is None:
        value.backward()
    shown_names = display_names(kept, given, precision=precision)
    unnamed_constants = {id(n) for n in kept if n.op is None and not n.requires_grad and n.label is None
                         and id(n) not in given}  # (an unlabelled parameter's box shows the θ₁ the steps name it)
    kept_ids = {id(node) for node in kept}  # (the given names of Values left out name them in the steps' notes)
    steps = backprop_steps(value, kept, total, {**{k: v for k, v in given.items() if k not in kept_ids}, **shown_names},
                           precision=precision)
    graph = computation_graph(value, kept, total, rankdir="TB", model=model, size=None, precision=precision,
                              names={k: v for k, v in shown_names.items() if k not in unnamed_constants},
                              grads=pass_gradients(value))  # the steps' gradients: .grad may hold other passes
    return _player(steps, graph, title, lang, names_given)


def _tree_player(value: Value, every: list[Value], layout: str, max_nodes: int, precision: int,
                 title: str, lang: str, names: tuple[str, ...]) -> BackpropPlayer | None:
    """backprop_player on the seed's dependency tree, where ``layout`` asks for it; None where the graph is drawn.
    ``every`` is every Value ``value`` depends on (the player's one walk of the graph)."""
    labelled = sum(isinstance(n.label, str) and n.label != "" for n in every)
    if layout == "tree" and labelled > max_nodes:  # the tree's steps and layout grow as n²: 1,600 layers took a minute
        raise ValueError(f"backprop_player: the dependency tree would have {labelled} labelled Values, more than "
                         f"max_nodes={max_nodes}; raise max_nodes to play it whole (slow), or use layout='graph', "
                         "which keeps the max_nodes Values nearest the output")
    if not (layout == "tree" or (layout == "auto" and labelled <= max_nodes and has_layers(value))):  # (has_layers)
        return None
    try:
        # each node's gradient that of the steps' one pass (.grad may hold other passes too: the result step says so,
        # and the tree of a network is still the tree)
        tree = dependency_tree(value, precision=precision, gradients=pass_gradients(value))
    except ValueError as error:
        if layout == "tree":  # say who was called, as draw_dependency_tree does
            raise ValueError(f"backprop_player: layout='tree' needs a chain network's tree; {error}") from None
        return None
    # "auto" wants a network's tree: layers with their z and α computed, not two labelled numbers
    if layout == "auto" and not any(n.kind in ("activation", "pre-activation") and n.value.op is not None
                                    for n in tree.nodes.values()):
        return None
    if value.grad is None:  # (once the tree is found, as the graph's player does)
        value.backward()
    drawing = tree_drawing(tree, precision=precision, chains=False)  # the steps show the chain rule
    return _player(tree_steps(value, tree, precision=precision), drawing, title, lang, names)


def _user_names(labels: list[Any]) -> tuple[str, ...]:
    """The names among ``labels`` (Values' labels, names given to a drawing) that the player marks as the page's
    language, as its steps write them: all but the seed's notation that the Layers give (``W^1``, ``α^2``) and single
    letters (``x``, ``a``: read with the prose, where the article "a" is not a name)."""
    return tuple(sorted({html.escape(pretty(label)) for label in labels if isinstance(label, str) and
                         len(label) > 1 and not notation.LAYER_LABEL.match(label) and printable(label) == label}))


#: The longest backprop_player waits for Graphviz's layout, in seconds: a graph that shares a Value among many
#: operations (``s = tanh(s * w + b)`` repeated) can keep ``dot`` busy for many minutes even at 150 Values.
PLAYER_TIMEOUT = 60.0


def _player(steps: list, graph: graphviz.Digraph, title: str, lang: str, names: tuple[str, ...]) -> BackpropPlayer:
    """The player of ``steps`` and ``graph``'s drawing, headed ``title``, in language ``lang``, the user's ``names``
    marked so."""
    try:
        svg = _laid_out(graph.source, "dot", "svg", PLAYER_TIMEOUT, "backprop_player", "the graph")
    except FileNotFoundError:
        return BackpropPlayer(steps, None, title=title, lang=lang, names=names,
                              missing_drawing=_NO_DOT.format(what="the graph", save=""))
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"backprop_player: Graphviz took more than {PLAYER_TIMEOUT:g} s to lay out the drawing "
                           "(viz.PLAYER_TIMEOUT); draw fewer Values (max_nodes=) or choose another "
                           "layout") from None
    return BackpropPlayer(steps, svg.decode("utf-8"), title=title, lang=lang, names=names)


def _laid_out(source: str, engine: str, fmt: str, timeout: float | None, where: str, what: object) -> bytes:
    """Graphviz's picture of ``source`` in format ``fmt``, from its ``dot`` program, within ``timeout`` seconds
    (``subprocess.TimeoutExpired``, the process killed); no ``dot`` is a FileNotFoundError, a failure of it a
    RuntimeError naming ``where`` and ``what`` was drawn."""
    result = _dot(source, engine, fmt, timeout)
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()
        raise RuntimeError(f"{where}: Graphviz failed to draw {what} ({_how_it_ended(result.returncode)})"
                           + (f": {message}" if message else ""))
    return _exact_scale(result.stdout) if fmt == "svg" else result.stdout


def _dot(source: str, engine: str, fmt: str, timeout: float | None) -> subprocess.CompletedProcess[bytes]:
    """Graphviz's ``dot`` run on ``source`` (FileNotFoundError where there is none; ``subprocess.TimeoutExpired``
    past ``timeout`` seconds, the process killed)."""
    executable = shutil.which("dot")
    if executable is None:
        raise FileNotFoundError("dot")
    # a PDF's date in UTC, whatever the TZ, so that it is always as long when _without_dates blanks it out
    environment = {**os.environ, "TZ": "UTC"} if fmt == "pdf" else None
    return subprocess.run([executable, f"-K{engine}", f"-T{fmt}"], input=source.encode("utf-8"),
                          capture_output=True, timeout=timeout, check=False, env=environment)


#: An SVG's size and the scale Graphviz drew it at, followed by its page (the background polygon of the whole
#: drawing, in Graphviz's units before scaling).
_SVG_VIEW_BOX = re.compile(rb'viewBox="[-\d.]+ [-\d.]+ ([\d.]+) ([\d.]+)"')
_SVG_SCALE = re.compile(rb'transform="scale\(([\d.]+ [\d.]+)\)[^"]*">\s*<title>[^<]*</title>\s*'
                        rb'<polygon [^>]*points="([^"]+)"')


def _exact_scale(svg: bytes) -> bytes:
    """``svg`` with the scale that fits the drawing into its ``size`` written exactly: Graphviz (2.43 among others)
    writes it with two decimals, ``scale(0.19 0.19)`` for 0.1855, and a drawing scaled up by that rounding overflows
    its viewBox, which cuts off its right and bottom edges (the output and the legend of a long unrolled graph)."""
    view_box, scale = _SVG_VIEW_BOX.search(svg), _SVG_SCALE.search(svg)
    if view_box is None or scale is None or scale.group(1) == b"1 1":
        return svg
    points = [tuple(map(float, point.split(b","))) for point in scale.group(2).split()]
    width = max(x for x, _ in points) - min(x for x, _ in points)
    height = max(y for _, y in points) - min(y for _, y in points)
    if width <= 0 or height <= 0:
        return svg
    exact = min(float(view_box.group(1)) / width, float(view_box.group(2)) / height)
    return svg[:scale.start(1)] + b"%.6g %.6g" % (exact, exact) + svg[scale.end(1):]


def _how_it_ended(returncode: int) -> str:
    """How a failed ``dot`` ended: its exit status, or the signal that killed it (subprocess's negative return code:
    -9 is SIGKILL, the out-of-memory killer's, not an exit status)."""
    if returncode >= 0:
        return f"exit status {returncode}"
    try:
        return f"killed by signal {signal.Signals(-returncode).name}"
    except ValueError:  # (a number this system names no signal for)
        return f"killed by signal {-returncode}"


#: The dates Cairo writes into a PDF's information dictionary (``/CreationDate (D:20240131120000Z)``, in newer
#: versions ``/ModDate`` too): the time of drawing, so the same graph would never be the same bytes twice.
_PDF_DATE = re.compile(rb"/(?:CreationDate|ModDate)\s*\(D:[^)]*\)")


def _without_dates(pdf: bytes) -> bytes:
    """``pdf`` (drawn in UTC) with its creation and modification dates blanked out by spaces of the same length, so
    that the byte offsets of its cross-reference table still hold."""
    return _PDF_DATE.sub(lambda match: b" " * len(match.group()), pdf)


# --- rendering ----------------------------------------------------------------------------------------------
class GraphvizNotFoundError(RuntimeError):
    """Graphviz's ``dot`` program is not installed; the ``.dot`` source was written instead."""


#: The longest ``timeout`` render takes (a day; None for no limit): subprocess's wait overflows past about 24 days.
_LONGEST_TIMEOUT = 86400.0


def _check_timeout(timeout: Any) -> None:
    if timeout is not None:
        checks.number(timeout, "timeout (seconds, None for no limit)", "render", above=0, most=_LONGEST_TIMEOUT)


def render(graph: graphviz.Digraph | graphviz.Graph | graphviz.Source, path: str | Path, *,
           timeout: float | None = 300) -> Path:
    """Write ``graph`` to ``path``: ``.svg``, ``.png`` or ``.pdf`` are drawn by Graphviz, ``.dot``/``.gv`` is
    the source.  Returns the path written.  ``timeout`` (seconds, at most a day; None for no limit) stops a layout
    that takes too long.  With the same Graphviz, the same graph gives the same bytes (a PDF carries no date).

    Without the ``dot`` program the source is written next to ``path`` (suffix ``.dot``) and
    :class:`GraphvizNotFoundError` (a ``RuntimeError``) says how to install Graphviz and draw the file later.
    """
    if not hasattr(graph, "source"):
        raise TypeError(f"render: expected a graphviz graph (from draw_graph, draw_dependency_tree or "
                        f"draw_network), got {type(graph).__name__}")
    path = Path(os.fsdecode(checked_path(path, "render")))
    _check_timeout(timeout)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("svg", "png", "pdf", "dot", "gv"):
        raise ValueError(f"render: cannot tell the format from the suffix of {str(path)!r}; "
                         "use .svg, .png, .pdf, or .dot or .gv for the Graphviz source")
    source = graph.source
    if fmt in ("dot", "gv"):
        write_text(path, source, "render")
        return path
    write_text(path, None, "render")  # the folders, for Graphviz to write into
    dot_path = path.with_suffix(".dot")
    engine = getattr(graph, "engine", "dot") or "dot"
    try:
        # the picture comes on stdout, so that replacing writes it: a full disk leaves an old file as it was
        picture = _laid_out(source, engine, fmt, timeout, "render", path)
    except FileNotFoundError:
        write_text(dot_path, source, "render")
        raise GraphvizNotFoundError(_INSTALL_HELP.format(target=path, dot=dot_path, fmt=fmt)) from None
    except subprocess.TimeoutExpired:
        write_text(dot_path, source, "render")
        raise RuntimeError(f"render: Graphviz took more than {timeout} s to lay out {path.name}; the source is "
                           f"in {dot_path}. Draw fewer nodes (draw_graph's max_nodes).") from None
    if fmt == "pdf":
        picture = _without_dates(picture)
    with replacing(path, "render") as temporary, open(temporary, "xb") as file:
        file.write(picture)
    return path


_TREE_COLORS = {"cost": COLORS["output"], "activation": COLORS["intermediate"], "pre-activation": "#ede7f6",
                "weight": COLORS["parameter"], "bias": COLORS["parameter"], "input": COLORS["constant"],
                "other": COLORS["intermediate"]}  # "other": a labelled result, such as e = a·b (constants are inputs)


def draw_dependency_tree(cost: Value, *, precision: int = 4, rankdir: str = "TB") -> Drawing:
    """The seed's section 6.3 dependency tree of a chain network, from a real forward and backward pass.

    ``C ← α^L ← z^L ← (W^L, α^(L−1), b^L)`` and onward to the input: each node shows its value and its
    gradient ∂C/∂(node); each edge its local derivative, e.g. ``∂z^L/∂W^L = α^(L−1)``, ``∂α^L/∂z^L = σ′(z^L)``,
    ``∂C/∂α^L = 2(α^L − y′)``, ``∂z^L/∂b^L = 1``, ``∂z^L/∂α^(L−1) = W^L``, with its number.  Multiplying the
    numbers along the path from a weight to ``C`` gives ∂C/∂w, shown under the weight next to its ``.grad``.
    See :func:`dependency_tree` for what is found and how (it calls ``cost.backward()`` if needed).  Refused, with
    what to call, where the parameters' ``.grad`` hold no single pass of ``cost``: after ``backward()`` twice, or
    ``zero_grad()`` (either kind) since, or ``backward(inputs=…)`` that left some out.  A frozen first layer's
    W¹·α⁰, which the engine does not record, is noted on z¹ with its number.
    """
    _check_value(cost, "draw_dependency_tree")
    checks.precision(precision, "draw_dependency_tree")
    _check_rankdir(rankdir, "draw_dependency_tree")
    try:
        tree = dependency_tree(cost, precision=precision)
    except ValueError as error:  # the cost is not a chain network's: say who was called (once)
        raise ValueError(f"draw_dependency_tree: {str(error).removeprefix('dependency_tree: ')}") from None
    _check_filled(tree, "draw_dependency_tree")
    return tree_drawing(tree, precision=precision, rankdir=rankdir)


def _check_filled(tree: DependencyTree, where: str) -> None:
    """A parameter that needs a gradient and whose ``.grad`` is None though the cost has had its backward pass:
    ``zero_grad()`` emptied it since, or ``backward(inputs=…)`` left it out.  The drawing left out its ∂C/∂W line and
    kept its ``chain:`` line and the other Values' gradients without a word: refuse, as for the zeros of
    ``zero_grad(set_to_none=False)``, with the player's advice."""
    trainable = [node for node in tree.nodes.values() if node.kind in ("weight", "bias") and node.name != tree.cost
                 and node.value.requires_grad]
    empty = [node.name for node in trainable if node.grad is None]
    if not empty:
        return
    cause = ("zero_grad() reset it after this cost's backward(); call cost.backward() again" if len(empty) ==
             len(trainable) else "zero_grad() reset it after this cost's backward(), or backward(inputs=…) left it "
             "out; call zero_grad() (or model.zero_grad()) and cost.backward()")
    raise ValueError(f"{where}: {empty[0]}.grad is None but the chain rule through this cost gives "
                     f"{tree.chain_rule(empty[0]):.6g}: {cause} before drawing")


def tree_drawing(tree: DependencyTree, *, precision: int = 4, rankdir: str = "TB", chains: bool = True) -> Drawing:
    """The drawing of :func:`draw_dependency_tree` for a tree already found; node ``i`` of ``tree.nodes`` is the
    Graphviz node ``v{i}``.  ``chains=False`` leaves out the ``chain: …`` lines (the player's steps show them).  The
    seed's indices are drawn as it prints them, ``W^1`` as ``W¹`` and ``w_3`` as ``w₃`` (the tree's names stay
    ``'w_3'``).  A tree whose parameters' ``.grad`` were emptied since the cost's backward pass is refused, as
    :func:`draw_dependency_tree` refuses it."""
    if not isinstance(tree, DependencyTree):
        raise TypeError(f"tree_drawing: tree must be a DependencyTree (from dependency_tree(cost)), "
                        f"got {type(tree).__name__}")
    checks.precision(precision, "tree_drawing")
    _check_rankdir(rankdir, "tree_drawing")
    checks.flag(chains, "chains", "tree_drawing")
    _check_filled(tree, "tree_drawing")  # (a tree of dependency_tree(cost) after zero_grad(): its ∂C/∂W lines gone)
    graph = Drawing("dependency_tree", graph_attr={"rankdir": rankdir, "nodesep": "0.4"},
                    node_attr={"fontname": "Helvetica", "fontsize": "11", "shape": "box", "style": "rounded,filled"},
                    edge_attr={"fontname": "Helvetica", "fontsize": "10", "color": "#555555", "dir": "back"})
    ids = {name: f"v{i}" for i, name in enumerate(tree.nodes)}
    kinds: list[str] = []  # each node's colour, for the key
    for name, node in tree.nodes.items():
        lines = [f"<B>{_text(notation.indexed(pretty(name)))}</B>",
                 _text(f"= {notation.value_summary(node.data, precision)}")]
        if node.grad is not None:  # a long name is cut, never the number after it (one line: an Arabic name kept whole)
            symbol = notation.shortened(printable(notation.indexed(f"∂{pretty(tree.cost)}/∂{pretty(name)}")),
                                        60)
            lines.append(_text(f"{symbol} = {format_number(node.grad, precision)}", 120))
            if abs(node.grad) < smallest_normal(node.value.data) and tree.chain_rule(name) != node.grad:
                lines.append(f"<I>{_text(_underflow_note(node.value.dtype))}</I>")
        if chains:
            lines += [_text(line, 120) for line in tree.chain_lines(name, precision)]
        lines += [f"<I>{_text(line, 120)}</I>" for line in unrecorded_product(tree, name, precision)]
        kind = node.kind
        if kind in ("weight", "bias") and not node.value.requires_grad:  # grey as a constant, and said: not trained
            kind = "input"
            lines.append("<I>frozen (requires_grad = False):</I>")
            lines.append("<I>a constant, not trained</I>")
        graph.node(ids[name], _html(*lines), fillcolor=_TREE_COLORS[kind])
        kinds.append(kind)
    for edge in tree.edges:
        symbol = notation.indexed(edge.symbol + (f" = {edge.formula}" if edge.formula else ""))
        lines = [_text(symbol), _text(f"= {format_number(edge.number, precision)}")]
        if not edge.formula and edge.ops:  # say what the edge stands for when there is no formula to say it
            lines += [f"<I>{_text(line)}</I>" for line in _folded_lines(edge.ops, edge.branching)]
        if not tree.nodes[edge.parent].value.requires_grad:  # the target y or the input α⁰, as the seed draws them
            graph.edge(ids[edge.child], ids[edge.parent], style="dashed", color=_FAINT_EDGE,
                       label=_edge_label(*lines, "<I>(a constant: needs no gradient)</I>"))
        else:
            graph.edge(ids[edge.child], ids[edge.parent], label=_edge_label(*lines))
    key = _tree_key(kinds, notation.indexed(pretty(tree.cost)))
    folded = any(len(edge.ops) > 1 and not edge.formula for edge in tree.edges)  # the note read first, then the key
    graph.attr(label=_html(*(_text(line, 120) for line in [*(_FOLDED_NOTE if folded else ()), *key])),
               labelloc="t" if folded else "b", fontname="Helvetica", fontsize="11", pad=_pad("\n".join(key)))
    return graph


#: What each colour of the dependency tree stands for, in the seed's words (a frozen W or b is drawn as a constant).
_TREE_KEY = {"cost": "gold: the cost {cost}", "activation": "blue: an activation α", "other": "blue: a labelled result",
             "pre-activation": "lilac: a pre-activation z = w·α + b", "weight": "green: a weight or bias (trained)",
             "bias": "green: a weight or bias (trained)", "input": "grey: an input or a constant (dashed edge: no "
             "gradient)"}


def _tree_key(kinds: list[str], cost: str) -> list[str]:
    """The tree's colour key, in lines: the colours of ``kinds`` (the drawn nodes'), each said once, in the order of
    :data:`_TREE_KEY`, the cost written ``cost``, two to a line."""
    said = list(dict.fromkeys(_TREE_KEY[kind].format(cost=cost) for kind in _TREE_KEY if kind in kinds))
    return [" · ".join(said[k:k + 2]) for k in range(0, len(said), 2)]  # two a line: a small tree stays narrow


def _underflow_note(dtype: np.dtype) -> str:
    """Why a vanishing gradient's ``.grad`` (0, or a subnormal number of a few digits) differs from its chain, which
    multiplies the local derivatives in float64."""
    return f"({dtype} underflow: below {format_number(float(np.finfo(dtype).smallest_normal), 4)} digits are lost)"


def _folded_lines(ops: tuple[str, ...], branching: bool = False) -> list[str]:
    """``through mul → tanh`` / ``→ sub → pow``: the operations an edge folds, two to a line (edge labels are
    laid out side by side and long ones overlap), a run of one operation once (``add ×6``).  Operations that
    branch are no chain: ``through branches:`` / ``mul, sub, tanh`` / ``exp, add ×2``, in the order they ran."""
    runs = [(op, len(list(repeats))) for op, repeats in itertools.groupby(ops)]
    names = [op if count == 1 else f"{op} ×{count}" for op, count in runs]
    if branching:
        lines = ["through branches:"] + [", ".join(names[i:i + 3]) for i in range(0, len(names), 3)]
    else:
        pairs = [" → ".join(names[i:i + 2]) for i in range(0, len(names), 2)]
        lines = ["through " + pairs[0]] + ["→ " + pair for pair in pairs[1:]]
    if len(lines) > _MOST_FOLDED_LINES:  # a deep unlabelled chain: one line per two operations made a label miles long
        lines = lines[:_MOST_FOLDED_LINES - 1] + [f"… {len(ops)} operations in all"]
    return lines


#: The most lines an edge's "through …" list takes in a drawing; a longer one ends with how many operations it folds.
_MOST_FOLDED_LINES = 8


#: The drawing's note when edges fold several operations: the seed's tree is for chain networks, labelled by nn.Layer.
_FOLDED_NOTE = ("Edges marked “through …” fold several unlabelled operations into one local derivative (the seed's",
                "tree is for chain networks, whose Values nn.Layer labels). To see each step, label the results in",
                "between (u = a * b; u.label = 'u'), or draw every operation with draw_graph.")


# --- the network diagram of Figure 1 ------------------------------------------------------------------------
def _shown_neurons(count: int, limit: int) -> list[int | None]:
    """Indices to draw for a layer of ``count`` neurons: all, or the first and last few with None for "…"."""
    if count <= limit:
        return list(range(count))
    head = (limit - 1) // 2 + (limit - 1) % 2
    tail = limit - 1 - head
    return list(range(head)) + [None] + list(range(count - tail, count))


def draw_network(model: Any, *, max_neurons: int = 12, precision: int = 2) -> Drawing:
    """The seed's Figure 1 for a Network/MLP (or one Layer): neurons as circles in layer columns, input α^0 on
    the left, hidden layers, output on the right, each column titled with its activation.  Edges are the weights,
    the edge from ``α^(i−1)_j`` to ``α^i_k`` is ``W^i[j, k]`` (its tooltip says the number): solid blue for w ≥ 0,
    dashed red for w < 0, thicker for larger |w|, up to the network's largest |w|, which the key at the bottom names
    (widths compare within one drawing; compare the keys of two).  Each neuron shows its bias, with ``precision``
    significant digits.  A layer's title says if its weights or biases are frozen (``requires_grad = False``).  A layer
    wider than ``max_neurons`` (12) shows its first and last neurons around a "⋮" that says how many were left out;
    their weights are left out too, as the key says.  A Module whose ``forward()`` is its own (a residual block, a
    network of two inputs or two heads, a layer used twice) is refused: the columns would not show what it computes.
    """
    _check_chain(model)
    layers = list(getattr(model, "layers", None) or ([model] if hasattr(model, "weights") else []))
    if not layers:
        raise TypeError(f"draw_network: expected a Network/MLP with .layers or a Layer, "
                        f"got {type(model).__name__}")
    checks.integer(max_neurons, "max_neurons", "draw_network", least=3)
    checks.precision(precision, "draw_network")
    weights = _network_weights(layers)
    sizes = [weights[0][0].shape[0]] + [w.shape[1] for w, _ in weights]
    shown = [_shown_neurons(n, max_neurons) for n in sizes]
    diameter = _neuron_diameter([f"b={format_number(b[j], precision)}" for (_, b), neurons in zip(weights, shown[1:])
                                 for j in neurons if j is not None])
    largest = max(float(np.abs(w).max()) if w.size else 0.0 for w, _ in weights)
    # the widths' scale, so that two drawings (before and after training) can be compared by their keys
    key = "weights w: solid blue ≥ 0, dashed red < 0; b: the neuron's bias\n" + (
        f"lines thicker for larger |w|, the thickest for |w| = {largest:.3g} (the network's largest)" if largest
        else "every weight is 0: all lines are thin")
    left_out = sum(count - len(neurons) + 1 for count, neurons in zip(sizes, shown, strict=True) if None in neurons)
    if left_out:
        key += f"\n⋮: {left_out:,} neurons left out, and their weights; raise max_neurons to draw them"
    # Positions are pinned (neato with pos="x,y!"), so columns stay columns and neurons stay in order; the layout
    # is named in the graph itself, so `dot -Tsvg network.dot` on the written source draws the same picture.
    graph = Drawing("network", engine="neato",
                    graph_attr={"layout": "neato", "splines": "line", "outputorder": "edgesfirst",
                                "pad": "0.3", "fontname": "Helvetica", "fontsize": "10", "labelloc": "b",
                                "label": key},  # (pad: room for a key in a wider font)
                    node_attr={"fontname": "Helvetica", "fontsize": "9", "shape": "circle",
                               "style": "filled", "fixedsize": "true", "width": f"{diameter:.2f}"},
                    edge_attr={"arrowhead": "none"})
    tallest = max(len(neurons) for neurons in shown)
    titles = [_column_title(column, count, len(sizes), layers[column - 1] if column else None)
              for column, count in enumerate(sizes)]
    x = 0.0
    for column, (count, neurons) in enumerate(zip(sizes, shown, strict=True)):
        if column:  # far enough apart that the titles (11 pt, about 0.6 em a character) do not run into each other
            x += max(_COLUMN_GAP, (_title_width(titles[column - 1]) + _title_width(titles[column])) / 2 + 0.3)
        _layer_column(graph, column, x, titles[column], count, neurons, len(sizes), tallest,
                      weights[column - 1][1] if column else None, precision, diameter + _ROW_SPACE)
    for column in range(1, len(sizes)):
        _weight_edges(graph, column, weights[column - 1][0], shown[column - 1], shown[column], largest or 1.0)
    return graph


def _check_chain(model: Any) -> None:
    """A Module must compute its layers one after the other, as nn.Network and nn.Layer do: one with a ``forward()``
    of its own (a skip connection, a layer used twice, a projection) would be drawn as a plain chain, silently wrong.
    Other objects with ``.layers`` (or ``.weights`` and ``.biases``) are drawn as the chain they describe."""
    if not isinstance(model, nn.Module):
        return
    own: list[nn.Module]
    if isinstance(model, nn.Layer):
        own = [model]
    elif isinstance(model, nn.Network) and type(model).forward is nn.Network.forward:
        own = [layer for layer in model.layers if isinstance(layer, nn.Layer)]
    else:
        own = [model]
    for module in own:
        if type(module).forward is not (nn.Layer if isinstance(module, nn.Layer) else nn.Network).forward:
            raise TypeError(f"draw_network: draws an nn.Network, nn.MLP or nn.Layer, its layers one after the other "
                            f"(the seed's Figure 1), but {type(module).__name__} computes with a forward() of its "
                            "own, which the columns would not show (a skip connection, a layer used twice, several "
                            "inputs or outputs); draw what it computes with draw_graph(model(x)) or draw_graph(cost)")


_COLUMN_GAP, _ROW_SPACE = 2.6, 0.15  # inches between columns; between the circles of a column


def _neuron_diameter(labels: list[str]) -> float:
    """The circles' diameter in inches: the two label lines (the neuron's name, its bias) fit inside.  Widths are
    Helvetica's at 9 pt, about 0.6 em a character for digits and signs (never less than the first 0.7 inch)."""
    widest = max([len(text) for text in labels] + [5]) * 0.6 * 9 / 72
    return max(0.7, float(np.hypot(widest, 2 * 1.2 * 9 / 72)) + 0.06)


def _network_weights(layers: list[Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each layer's (weights, biases) as float arrays, checked to chain into one network of finite numbers."""
    weights: list[tuple[np.ndarray, np.ndarray]] = []
    for i, layer in enumerate(layers, start=1):
        if not (hasattr(layer, "weights") and hasattr(layer, "biases")):
            raise TypeError(f"draw_network: layer {i} ({type(layer).__name__}) has no weights and biases to draw; "
                            "expected a Network/MLP of Layers")
        w, b = (checks.real_array(getattr(p, "data", p), f"layer {i}'s {what}", "draw_network").astype(float)
                for p, what in ((layer.weights, "weights"), (layer.biases, "biases")))
        b = b.reshape(-1)
        if w.ndim != 2 or b.shape != (w.shape[1],):
            raise ValueError(f"draw_network: layer {i} has weights of shape {w.shape} and biases of shape "
                             f"{b.shape}; expected (in_size, out_size) and (out_size,)")
        if not (np.isfinite(w).all() and np.isfinite(b).all()):
            raise ValueError(f"draw_network: layer {i} holds NaN or infinite weights or biases; edge colours and "
                             "widths would mean nothing (did training diverge?)")
        if weights and weights[-1][0].shape[1] != w.shape[0]:
            raise ValueError(f"draw_network: layer {i - 1} has {weights[-1][0].shape[1]} outputs but layer "
                             f"{i} expects {w.shape[0]} inputs")
        weights.append((w, b))
    return weights


def _column_title(column: int, count: int, columns: int, layer: Any) -> tuple[str, str]:
    """A column's two title lines: which layer, with its activation; how many neurons, and what of it is frozen."""
    if layer is None:
        return "input layer α⁰", f"{count} neuron{'s' * (count != 1)}"
    activation = getattr(layer, "activation_name", None)
    title = f"{'output layer' if column == columns - 1 else 'hidden layer'} α{str(column).translate(_SUPERSCRIPT)}"
    title += f" ({activation})" if activation else ""
    frozen = [name for name in ("weights", "biases") if not getattr(getattr(layer, name), "requires_grad", True)]
    status = "" if not frozen else " (frozen)" if len(frozen) == 2 else f" ({frozen[0]} frozen)"
    return _text(title, 80), _text(f"{count} neuron{'s' * (count != 1)}{status}")


def _title_width(lines: tuple[str, str]) -> float:
    """About how wide a column's title is, in inches: 11 pt Helvetica, about 0.6 em a character."""
    return max(len(html.unescape(line)) for line in lines) * 0.6 * 11 / 72


def _layer_column(graph: Drawing, column: int, x: float, title: tuple[str, str], count: int, neurons: list[int | None],
                  columns: int, tallest: int, biases: np.ndarray | None, precision: int, row_gap: float) -> None:
    """The neurons α^column_j of one layer at ``x`` inches, with its title above them and each neuron's bias."""
    superscript = str(column).translate(_SUPERSCRIPT)
    top = (len(neurons) - 1) * row_gap / 2
    graph.node(f"title{column}", _html(*title), shape="plaintext", style="", fixedsize="false", fontsize="11",
               pos=f"{x:.2f},{(tallest - 1) * row_gap / 2 + 0.9:.2f}!")
    for row, j in enumerate(neurons):
        pos = f"{x:.2f},{top - row * row_gap:.2f}!"
        if j is None:
            graph.node(f"L{column}_more", _html(_text(f"⋮ {count - len(neurons) + 1}"), "more"),
                       shape="plaintext", style="", pos=pos)
            continue
        lines = [_text(f"α{superscript}{_subscript(j)}")]
        color = COLORS["constant"]
        if biases is not None:
            lines.append(_text(f"b={format_number(biases[j], precision)}"))
            color = COLORS["output"] if column == columns - 1 else COLORS["intermediate"]
        graph.node(f"L{column}_{j}", _html(*lines), fillcolor=color, pos=pos)


def _weight_edges(graph: Drawing, column: int, w: np.ndarray, sources: list[int | None], targets: list[int | None],
                  largest: float) -> None:
    """The weights into layer ``column``: solid blue for w ≥ 0, dashed red for w < 0, wider for larger |w|."""
    for j in sources:
        for k in targets:
            if j is None or k is None:
                continue
            value = w[j, k]
            # dashed too, not only red: the sign must not rest on colour alone (red-green colour blindness, greyscale)
            graph.edge(f"L{column - 1}_{j}", f"L{column}_{k}", color="#2e75b6" if value >= 0 else "#c00000",
                       style="solid" if value >= 0 else "dashed",
                       penwidth=f"{0.3 + 3.0 * (abs(value) / largest):.2f}", tooltip=f"w = {format_number(value, 4)}")


def _subscript(j: int) -> str:
    return str(j).translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉"))


if not TYPE_CHECKING:  # (hidden from type checkers, which would otherwise take viz.any_typo for a name)
    @checks.advice_on_import
    def __getattr__(name: str) -> Any:
        """micrograd's ``draw_dot``: an AttributeError saying what it is here."""
        where = "; micrograd's draw_dot(root) is draw_graph(root) here" if name == "draw_dot" else ""
        raise checks.no_attribute(__name__, name, where)


def __dir__() -> list[str]:  # dir(viz) and tab completion list the drawings, not numpy or subprocess
    return sorted(__all__)
