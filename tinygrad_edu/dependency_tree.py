"""The seed's section 6.3 dependency tree of a chain network, found in a real computation graph.

``C ← α^L ← z^L ← (W^L, α^(L−1), b^L)`` and onward to the input: :func:`dependency_tree` finds the labelled
Values (``nn.Layer`` labels ``W^i``, ``b^i``, ``z^i``, ``α^i``), folds the unlabeled operations between them into
one edge each, and gives every edge its local derivative, as a number (from the engine's own gradient rules) and
as the seed's formula (``∂z/∂w = α``, ``∂α/∂z = σ′(z)``, ``∂C/∂α = 2(α − y′)``, y′ the target; the last two as the
chain rule needs them, which the seed's section 6.3 misprints as σ(z) and 2(α^(L−1))).  Drawn by
:func:`tinygrad_edu.viz.draw_dependency_tree`.

    >>> import numpy as np
    >>> from tinygrad_edu import nn
    >>> from tinygrad_edu.losses import squared_error
    >>> net = nn.Network(nn.Layer(1, 1, "sigmoid", rng=0), nn.Layer(1, 1, "sigmoid", rng=1))
    >>> tree = dependency_tree(squared_error(net(np.array([0.5])), np.array([0.25])))
    >>> [edge.symbol for edge in tree.path("W^2")]
    ['∂z²/∂W²', '∂α²/∂z²', '∂C/∂α²']
    >>> bool(np.isclose(tree.chain_rule("W^2"), net.layers[1].weights.grad.item()))
    True
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import math
import operator
import re
from collections import Counter, deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_edu import checks, notation
from tinygrad_edu.engine import Value, backward_order, local_gradients
from tinygrad_edu.graph import nearest_values
from tinygrad_edu.notation import exponent, format_number, numbers_of, operand, pretty, smallest_normal
from tinygrad_edu.ops import BUILT_IN, Op

__all__ = ["dependency_tree", "DependencyTree", "TreeNode", "TreeEdge", "network_input", "built_in_op", "has_layers",
           "ACTIVATION_FORMULAS", "unrecorded_product"]

def _written(name: object) -> str:
    """A node's name as drawings write it (``W¹``); anything else, in a tree built by hand, as its repr."""
    return pretty(name) if isinstance(name, str) else f"{name!r:.40}"


@dataclass
class TreeNode:
    """A node of the dependency tree: a labelled Value with its number and its gradient ∂C/∂(it)."""

    name: str
    value: Value
    data: float
    grad: float | None
    kind: str  # "cost", "activation", "pre-activation", "weight", "bias", "input", "other"

    def __reduce_ex__(self, protocol: Any) -> Any:
        """Pickle refuses a computed node by what was pickled: a tree (the Value's own refusal named an operation
        and said to pickle value.detach(), which a tree does not have)."""
        if self.value.op is not None:
            raise TypeError(f"pickle: the dependency tree node {self.name!r} holds the Value computed by "
                            f"{self.value.op!r} and so the graph, which cannot be pickled; pickle what is drawn "
                            "(viz.tree_drawing(tree), or tree.chain_lines(name)) or the model and the inputs, and "
                            "build the tree again where it is loaded")
        return super().__reduce_ex__(protocol)

    def __copy__(self) -> TreeNode:
        return dataclasses.replace(self)

    def __deepcopy__(self, memo: dict) -> TreeNode:
        return dataclasses.replace(self, value=copy.deepcopy(self.value, memo))


@dataclass
class TreeEdge:
    """``child`` depends on ``parent`` with local derivative ∂child/∂parent = ``number`` (= ``formula``);
    ``ops`` are the operations folded into the edge, from ``parent`` up to ``child`` (e.g. ``("mul", "add")``),
    ``branching`` whether they branch (some of them take the results of two others, or ``parent`` and a result:
    then ``ops`` is an order they ran in, not a chain); ``direct`` whether it goes straight to the cost from a node
    with other paths to it as well (a regularised weight): its ∂C/∂parent is then one term of the node's."""

    parent: str
    child: str
    number: float
    formula: str = ""
    ops: tuple[str, ...] = ()
    branching: bool = False
    direct: bool = False

    def __setattr__(self, name: str, value: Any) -> None:
        """As a dataclass sets it; a change of what the tree's walks read (``parent``, ``child``, ``number``) is
        counted, so that a tree's walk kept between calls is taken again (checking every edge at every call took
        a third of the time of a deep network's drawing)."""
        object.__setattr__(self, name, value)
        if name in _WALKED_FIELDS:
            _edge_edits[0] += 1

    @property
    def symbol(self) -> str:
        """The local derivative this edge stands for, written as a symbol: ``∂z^2/∂W^2``; ``∂C/∂W^2 (direct)`` for a
        ``direct`` edge, whose number is not the ∂C/∂W^2 that its node shows (the sum over all the paths)."""
        return f"∂{pretty(self.child)}/∂{pretty(self.parent)}" + (" (direct)" if self.direct else "")


@dataclass
class DependencyTree:
    """The seed's section 6.3 tree: nodes by name and the edges with their local derivatives."""

    cost: str
    nodes: dict[str, TreeNode] = field(default_factory=dict)
    edges: list[TreeEdge] = field(default_factory=list)

    def __repr__(self) -> str:
        """Short, for the prompt and Jupyter (the dataclass's own printed every node's Value: 2,500 characters for a
        chain of two neurons); the numbers are in ``nodes``, ``chain_lines`` and ``viz.tree_drawing``."""
        names = [_written(name) for name in self.nodes]
        shown = ", ".join(names[:8]) + (", …" if len(names) > 8 else "")
        return f"DependencyTree(cost {_written(self.cost)}; {len(names)} nodes: {shown}; {len(self.edges)} edges)"

    def __getstate__(self) -> dict[str, Any]:
        """Pickled and copied without the walk kept between calls (its key counts this process's edits of edges)."""
        return {key: value for key, value in self.__dict__.items() if key != "_memo"}

    def _check_name(self, name: object, method: str) -> str:
        """``name`` must be a node's name (a str), as stored (``'W^1'``, ``'w_3'``) or as the repr and drawings write it
        (``'W¹'``, ``'w₃'``): else a TypeError, or a KeyError listing the names there are.  Returns the stored name."""
        if not isinstance(name, str):
            raise TypeError(f"DependencyTree.{method}: name must be a node's name (a str such as 'W^1'), got "
                            f"{type(name).__name__} {name!r:.60}")
        if name not in self.nodes:
            name = next((node for node in self.nodes if name in (pretty(node), notation.indexed(pretty(node)))),
                        name)
        if name not in self.nodes:
            raise KeyError(f"DependencyTree.{method}: no node named {name!r}; nodes are {sorted(self.nodes)}")
        return name

    def path(self, name: str) -> list[TreeEdge]:
        """The edges from ``name`` up to the cost, e.g. ``W^L → z^L → α^L → C`` (the path must be unique)."""
        name = self._check_name(name, "path")
        upward = self._walked(totals=False)[1]
        path, current = [], name
        while current != self.cost:
            up = upward.get(current, [])
            if len(up) != 1:
                raise ValueError(f"DependencyTree.path: {current!r} feeds {len(up)} nodes; the path to the "
                                 "cost is not unique (use chain_rule)")
            path.append(up[0])
            current = up[0].child
            if len(path) > len(self.edges):  # (an edge met twice: the edges, set by hand, make a loop)
                raise ValueError(f"DependencyTree.path: the edges from {name!r} go round in a loop through "
                                 f"{current!r} and never reach the cost {self.cost!r}")
        return path

    def chain_rule(self, name: str) -> float:
        """∂C/∂name as the chain rule computes it: the sum over all paths to the cost of the product of the
        local derivatives on the path, multiplied in float64.  Equals ``.grad`` after ``cost.backward()``, to
        rounding; where a vanishing gradient falls below the smallest normal number of the network's dtype (1.2e-38
        for float32), ``.grad`` has lost digits or is 0, and the drawing says so."""
        name = self._check_name(name, "chain_rule")
        return self._walked()[0].get(name, 0.0)

    def _walked(self, totals: bool = True) -> tuple[dict[str, float], dict[str, list[TreeEdge]]]:
        """``_chain_totals()`` (if ``totals``, else {}) and each node's edges up (by name, in the edges' order), kept
        until the edges or the nodes change (an edge's own fields changing is counted by TreeEdge): a drawing asks
        for them at every node, and a walk of the tree each time took time n²."""
        key = (self.cost, tuple(self.nodes), _edge_edits[0])
        # [the edges walked, the key, the edges up, the totals or None, the factors as chain_lines prints them]
        memo = self.__dict__.get("_memo")
        if not (memo and memo[1] == key and len(memo[0]) == len(self.edges)
                and all(map(operator.is_, memo[0], self.edges))):
            upward: dict[str, list[TreeEdge]] = {}
            for edge in self.edges:
                upward.setdefault(edge.parent, []).append(edge)
            memo = self.__dict__["_memo"] = [tuple(self.edges), key, upward, None, {}]
        if totals and memo[3] is None:
            memo[3] = self._chain_totals()
        return memo[3] or {}, memo[2]

    def _printed(self, edge: TreeEdge, precision: int) -> str:
        """``edge``'s number as a chain line prints it, kept with the walk: a drawing prints each factor once, not
        once per weight below it (a deep network's chains printed 330,000 numbers for 1,600 edges)."""
        printed = self.__dict__["_memo"][4]
        text = printed.get((id(edge), precision))
        if text is None:
            text = printed[id(edge), precision] = format_number(edge.number, precision)
        return text

    def _chain_totals(self, magnitudes: bool = False) -> dict[str, float]:
        """``chain_rule`` of every node at once, by name (one walk of the tree: a walk per node took time n²);
        ``magnitudes``: the sum over the paths of the products' absolute values instead, the scale of the rounding
        where the paths cancel."""
        total: dict[str, float] = {self.cost: 1.0}
        waiting = dict.fromkeys(self.nodes, 0)  # edges to children not yet added in
        downward: dict[str, list[TreeEdge]] = {}
        for edge in self.edges:
            if edge.parent not in waiting or edge.child not in waiting:
                raise ValueError(f"DependencyTree: the edge {edge.parent!r} → {edge.child!r} names a node the tree "
                                 f"does not have; nodes are {sorted(self.nodes)}")
            waiting[edge.parent] += 1
            downward.setdefault(edge.child, []).append(edge)
        ready = [self.cost]
        while ready:  # children before parents (Kahn's order), so each total is complete when it is passed on
            child = ready.pop()
            for edge in downward.get(child, []):
                number = abs(edge.number) if magnitudes else edge.number
                total[edge.parent] = total.get(edge.parent, 0.0) + total[child] * number
                waiting[edge.parent] -= 1
                if not waiting[edge.parent]:
                    ready.append(edge.parent)
        return total

    def chain_lines(self, name: str, precision: int = 4, width: int = 80) -> list[str]:
        """How the chain rule makes ∂C/∂name, in lines of at most ``width`` characters: the local derivatives along
        the path of a weight or bias multiplied (``chain: 0.78 · 0.23 · 0.75 = 0.13``), or, for a Value with
        several uses, Σ ∂C/∂(user)·∂(user)/∂name.  The total follows ``≈`` instead of ``=`` where the numbers as
        printed do not work out to it at ``precision`` digits (``0.78 · 0.23 · 0.75 ≈ 0.14``: the factors' digits
        left out add up).  A long chain goes on over more lines (``· 0.25 · …``) with every factor kept and the
        total last; no lines when there is nothing to multiply or add (one factor), nor for a frozen parameter
        (``requires_grad = False``), which needs no gradient."""
        name = self._check_name(name, "chain_lines")
        checks.precision(precision, "DependencyTree.chain_lines")
        checks.integer(width, "width", "DependencyTree.chain_lines", least=1)
        number = lambda text: f"({text})" if text.startswith("-") else text  # noqa: E731 (a factor as printed)
        ups = self._walked(totals=False)[1].get(name, [])  # (walked once for all the nodes of a drawing)
        if len(ups) > 1:
            totals = self._walked()[0]
            pairs = [(format_number(totals.get(e.child, 0.0), precision), format_number(e.number, precision))
                     for e in ups]
            terms, joiner = [f"{number(above)}·{number(local)}" for above, local in pairs], " + "
            products = [float(above) * float(local) for above, local in pairs]
            try:
                worked_out = math.fsum(products)
            except (OverflowError, ValueError):  # fsum refuses inf + (−inf) and a finite sum past 1.8e308
                worked_out = sum(products)
        elif (self.nodes[name].kind in ("weight", "bias") and name != self.cost
              and self.nodes[name].value.requires_grad):
            try:
                path = self.path(name)
            except ValueError:  # the path splits further up: the sum is on the Value where it splits
                return []
            totals, factors = self._walked()[0], [self._printed(edge, precision) for edge in path]
            terms, joiner = [number(factor) for factor in factors], " · "
            worked_out = math.prod(float(factor) for factor in factors)
        else:
            return []
        if len(terms) < 2:
            return []
        # "=" where the numbers printed work out to the total printed, "≈" where their rounding shows in it (the
        # factors of ∂C/∂W¹ = 0.00017 at 2 digits multiply to 0.00018)
        total = format_number(totals.get(name, 0.0), precision)
        equals = "=" if format_number(worked_out, precision) == total else "≈"
        pieces = [joiner + term for term in terms[1:]] + [f" {equals} {total}"]
        return _wrapped(f"chain: {terms[0]}", pieces, width)


_WALKED_FIELDS = ("parent", "child", "number")  # what the walks read of an edge: a change of them is counted here
_edge_edits = [0]


def _wrapped(first: str, pieces: list[str], width: int) -> list[str]:
    """``first`` and the ``pieces`` after it (`` · 0.25``, `` = 0.14``) in lines of at most ``width`` characters
    (a longer piece gets a line of its own); a line that goes on starts with its piece's ``·``, ``+``, ``=`` or
    ``≈``."""
    lines = [first]
    for piece in pieces:
        if len(lines[-1]) + len(piece) > width:
            lines.append(piece.lstrip())
        else:
            lines[-1] += piece
    return lines


#: ∂α/∂z of each activation, ``{z}`` the pre-activation's name (for ``exp`` written as an exponent: ``e^(z²)``); the
#: tree's edge adds leaky ReLU's slope: ``LeakyReLU′(z): 1 where z > 0, else 0.01``.
ACTIVATION_FORMULAS = {"sigmoid": "σ′({z})", "relu": "ReLU′({z})", "tanh": "1 − tanh²({z})",
                        "leaky_relu": "LeakyReLU′({z})", "softplus": "σ({z})", "exp": "e^{z}"}


def _scalar(array: Any) -> float:
    return float(numbers_of(array).reshape(-1)[0])


def _labelled_names(cost: Value) -> dict[int, str]:
    """The names of the tree's nodes by identity: the cost's (its label, else ``C``) and every label among the Values
    it depends on.  A name on two Values is refused: the tree is one forward pass of one sample."""
    labelled: dict[str, Value] = {}
    nodes = nearest_values(cost)[0]
    _check_not_a_gradient(cost, nodes)
    for node in nodes:
        if node is not cost and isinstance(node.label, str) and node.label:
            other = labelled.setdefault(node.label, node)
            if other is not node:
                if _copied(node, other) or _copied(other, node):
                    raise ValueError(f"dependency_tree: the label {node.label!r} is on a Value and on the copy of it "
                                     "that autodiff's grad, jacobian, hessian or hvp differentiated: this is a "
                                     "derivative, not a cost of one forward pass, and the tree cannot show it; draw "
                                     "its graph with draw_graph")
                hint = ("; nn.Layers outside a Network all label their Values W, b, z, α: put them in an "
                        "nn.Network, which numbers them W¹, W², …") if node.label in ("W", "b", "z", "α") else ""
                raise ValueError(f"dependency_tree: the label {node.label!r} is on two different Values; the "
                                 f"tree needs one forward pass of one sample (label each Value once){hint}")
    name = cost.label or "C"
    if name in labelled:  # two nodes of one name: the tree would merge them (and ∂C/∂w would be ambiguous)
        called = "is labelled" if cost.label else "has no label, so it is called"
        raise ValueError(f"dependency_tree: the cost {called} {name!r}, and so is a Value it depends on; give the "
                         "cost a label of its own (cost.label = 'L')")
    names = {id(cost): name}
    names.update({id(v): k for k, v in labelled.items()})
    if len(names) == 1 and cost.op is None:  # (its own label is no Value it depends on)
        raise ValueError(f"dependency_tree: the cost{f' {cost.label!r}' if cost.label else ''} is a leaf, a Value "
                         "computed from no other, so it has no dependencies to draw; the tree is for a cost "
                         "computed from labelled Values (W^i, b^i, z^i, α^i); draw_graph and backprop_player "
                         "draw a leaf alone")
    if len(names) == 1:
        raise ValueError("dependency_tree: no labelled Values found; build the network with nn.Layer (which "
                         "labels W^i, b^i, z^i, α^i) or set .label on the Values you want to see")
    return names


def _check_not_a_gradient(cost: Value, nodes: list[Value]) -> None:
    """A gradient recorded by ``backward(create_graph=True)`` (the ``.grad`` of a Value in its own graph) is no cost:
    its tree would call it ``C`` and its second derivatives ``∂C/∂w``.  Refused before any ``.grad`` changes."""
    of = next((node for node in nodes if node.grad is cost), None)
    if of is not None:
        name = f"{of.label!r}" if isinstance(of.label, str) and of.label else "a Value"
        raise ValueError(f"dependency_tree: this Value is the .grad of {name}, recorded by "
                         "backward(create_graph=True): a derivative, not a cost, and the tree (the seed's picture of a "
                         "cost's forward pass) cannot show it; draw its graph with draw_graph")


def _copied(copy: Value, original: Value) -> bool:
    """Whether ``copy`` is autodiff's copy of ``original`` (a reshape to its own shape, see ``autodiff._copy``)."""
    parents = copy.parents
    return copy.op == "reshape" and len(parents) == 1 and parents[0] is original and copy.shape == original.shape


def _shown_inputs(cost: Value, name: str, region: list[Value], boundary: list[Value], names: dict[int, str],
                  thetas: Iterator[int]) -> list[Value]:
    """The inputs of node ``name`` that the tree shows, weights first and biases last: labelled Values that need a
    gradient, a layer's frozen weights and biases (``W^i``, ``b^i`` with ``requires_grad = False``: constants, drawn as
    α^0 is) and the ``α^i`` that frozen layers below hand it (a constant too), parameters without a label (named θ1,
    θ2, … here), the network's input α^0 (labelled or not; under the seed's z^L, α^(L-1), see _layer_input), a
    labelled constant a layer's sum multiplies (its edge's formula names it) and the cost's target; other constants
    are folded into the edge like an exponent (they need no gradient)."""
    shown: list[Value] = []
    for leaf in boundary:
        # (a frozen W^i or b^i, requires_grad False, is still the layer's parameter, and the α^i of frozen layers
        # below is still the layer's input: drawn as constants, as α^0 is)
        if id(leaf) in names and (leaf.op is not None or leaf.requires_grad or _TREE_LABEL.match(names[id(leaf)])):
            shown.append(leaf)
        elif leaf.requires_grad:
            names[id(leaf)] = f"θ{next(thetas)}"
            shown.append(leaf)
        elif _is_first_layer_input(leaf, region, name) and (id(leaf) in names or
                                                             _layer_input(name) not in names.values()):
            names.setdefault(id(leaf), _layer_input(name))
            shown.append(leaf)
        elif id(leaf) in names and (_is_target(leaf, region, name == names[id(cost)])
                                    or _is_named_factor(leaf, region, name)):
            shown.append(leaf)
    return sorted(shown, key=lambda n: _SHOWN_FIRST.get(_kind(names[id(n)], n, cost), 4))


#: The order of a node's shown inputs, by kind: weights first, biases last (as in σ(W·α + b)).
_SHOWN_FIRST = {"weight": 0, "activation": 1, "pre-activation": 1, "input": 2, "bias": 3}


def dependency_tree(cost: Value, *, precision: int = 4, gradients: Mapping[int, Any] | None = None) -> DependencyTree:
    """The dependency tree of a cost from a chain network (one neuron per layer), from labelled Values.

    The nodes are the cost and every labelled Value it depends on (``W^i``/``w^i``, ``b^i``, ``z^i``, ``α^i``, or
    as the seed writes them, ``α^L``, ``z^(L-1)``, ``w_3``,
    the target ``y``...; an unlabeled input of the first layer is called ``α^0``, or ``α^(L-1)`` under the seed's
    ``z^L`` (``α^(L-3)`` under ``z^(L-2)``); other constants need no gradient and
    are folded in like an exponent).  Unlabeled operations between them are folded into one edge whose local
    derivative is computed from the operations' own gradient rules (their vjps with an upstream gradient of 1); a
    Value that two folded operations use is refused (label their results to see both paths).  If ``cost`` has not
    been backpropagated yet and no ``gradients`` are given, this calls ``cost.backward()`` (which adds to the
    parameters' ``.grad``), once the tree is found: a cost that is no chain network's is refused with every ``.grad``
    left as it was.  A formula writes an
    unlabelled constant (the target in ``2(α − 0.25)``) with ``precision`` significant digits.

    Each node's gradient is its ``.grad``, refused where that holds other backward passes too (None for a frozen
    weight or bias, ``requires_grad = False``, drawn as a constant whatever ``.grad`` it kept); ``gradients``
    (id(Value) → ∂C/∂(it) of one pass of ``cost`` alone, as :func:`tinygrad_edu.player.pass_gradients` gives them)
    are taken instead, as the backpropagation player does, which steps through that one pass whatever ``.grad`` holds.
    """
    _check_cost(cost, precision, gradients)
    names = _labelled_names(cost)
    tree = DependencyTree(cost=names[id(cost)])
    thetas = itertools.count(1)  # numbers for unlabelled parameters: θ1, θ2, …
    queue = deque([cost])
    queued = {id(cost)}
    while queue:
        for parent in _add_node(tree, queue.popleft(), cost, names, thetas, precision):
            if id(parent) not in queued:
                queued.add(id(parent))
                queue.append(parent)
    uses = Counter(edge.parent for edge in tree.edges)
    for edge in tree.edges:  # ∂C/∂W² on an edge straight to C, beside W²'s other paths, is not W²'s ∂C/∂W²
        edge.direct = edge.child == tree.cost and uses[edge.parent] > 1
    if cost.grad is None and gradients is None:  # only now: a tree refused above leaves every .grad as it was
        cost.backward()  # (given the gradients, it needs none: a tree drawn between steps changes no .grad)
    for node in tree.nodes.values():  # (a frozen W^i or b^i is a constant, as α^0: an old .grad is no pass's)
        grad = node.value.grad if gradients is None else gradients.get(id(node.value))
        node.grad = None if grad is None or not node.value.requires_grad else _scalar(grad)
    _check_single_pass(tree)
    return tree


def _check_cost(cost: Any, precision: Any, gradients: Any) -> None:
    """:func:`dependency_tree`'s arguments checked: a Value of one number that needs a gradient, whose graph
    backward would walk, a valid ``precision`` and ``gradients`` a Mapping or None."""
    if not isinstance(cost, Value):
        raise TypeError(f"dependency_tree: expected a Value (the cost), got {type(cost).__name__}")
    checks.precision(precision, "dependency_tree")
    if gradients is not None and not isinstance(gradients, Mapping):
        raise TypeError(f"dependency_tree: gradients must map id(Value) to its gradient (pass_gradients(cost) gives "
                        f"them), got {type(gradients).__name__} {gradients!r:.60}")
    if cost.size != 1:
        raise ValueError(f"dependency_tree: the cost must be a single number, got shape {cost.shape}")
    if not cost.requires_grad:
        raise ValueError("dependency_tree: the cost does not depend on anything that needs a gradient")
    try:  # what backward refuses, the tree refuses (a refused backward leaves cost.grad set: no backward below)
        backward_order(cost)
    except ValueError as error:  # (a stale graph, a computed Value whose requires_grad was set to False by hand)
        raise ValueError(f"dependency_tree: {str(error).removeprefix('backward_order: ')}") from None


def _add_node(tree: DependencyTree, key: Value, cost: Value, names: dict[int, str], thetas: Iterator[int],
              precision: int) -> list[Value]:
    """Add ``key`` to the tree as a node, with an edge from each labelled Value it shows as an input (the unlabeled
    operations between them folded in); returns those inputs, in the order their edges were added."""
    name = names[id(key)]
    if key.size != 1:
        raise ValueError(f"dependency_tree: {name!r} has shape {key.shape}; the tree is for a chain "
                         "network with one neuron per layer (every Value a single number)")
    tree.nodes[name] = TreeNode(name, key, _scalar(key.data), None, _kind(name, key, cost))
    if key.op is None:
        return []
    # the region: unlabeled operations between this node and the labelled nodes it depends on
    region, boundary, order = _region(key, names)
    users = _users(region)  # (found once: a search of the region for each input took time n² for wide regions)
    shown = _shown_inputs(cost, name, region, boundary, names, thetas)
    _check_few_inputs(name, shown)
    _check_one_use(name, users, shown, names)
    _check_single_numbers(name, shown, names)
    numbers = _local_derivatives(key, order, {id(n) for n in shown})
    ops = {n.op for n in region}
    place = {id(node): i for i, node in enumerate(reversed(order))}
    own_math = not all(built_in_op(n) for n in region)
    difference = None if own_math else _squared_difference(region, ops)
    # a labelled constant the tree does not draw (x in w·x + v·x) is written as its number, as an unlabelled one is
    written = names | {id(n): format_number(_scalar(n.data), precision) for n in boundary
                       if id(n) in names and n.size == 1 and all(n is not s for s in shown)}
    for parent in shown:
        path, branching = _folded_ops(parent, users, place)
        formula = "" if own_math else _formula(key, name, parent, region, users, ops, difference, written,
                                               () if branching else path, precision)
        tree.edges.append(TreeEdge(names[id(parent)], name, numbers[id(parent)], formula, path, branching))
    return shown


#: The most inputs one node of the tree shows: a chain network's have two or three (W, α, b), its cost one more per
#: weight regularised; each input's edge lists the operations on its way up, so a sum of n labelled Values written
#: as a chain of + takes time n² (and a drawing n² long): 1,000 of them take under a second, 2,000 three.
_MOST_INPUTS = 1000


def _check_few_inputs(name: str, shown: list[Value]) -> None:
    """A node with more inputs than ``_MOST_INPUTS`` is no chain network's: refuse it at once, saying what draws it."""
    if len(shown) > _MOST_INPUTS:
        raise ValueError(f"dependency_tree: {name!r} depends on {len(shown)} labelled Values or parameters through "
                         f"unlabelled operations, more than the tree shows ({_MOST_INPUTS}; a chain "
                         "network's node has two or three); use draw_graph or backprop_player(layout='graph'), "
                         "which keep the Values nearest the output")


def _check_one_use(name: str, region_users: dict[int, list[Value]], shown: list[Value], names: dict[int, str]
                   ) -> None:
    """A Value that two folded operations use would get one edge holding the sum of two paths the tree cannot
    show: refuse, and say how to make the paths visible."""
    for parent in shown:
        users = [n.op for n in region_users.get(id(parent), [])]
        if len(users) > 1:
            counts = Counter(map(str, users))  # (mul ×200, not "mul" written 200 times)
            listed = ", ".join(op if count == 1 else f"{op} ×{count}" for op, count in counts.items())
            raise ValueError(f"dependency_tree: {names[id(parent)]!r} is used by {len(users)} operations "
                             f"({listed}) on the way to {name!r}; the tree folds them into one "
                             "edge and would hide the paths ∂C/∂(it) adds up. Label their results (u = w * a; "
                             "u.label = 'u') to draw each path, or use draw_graph or backprop_player(layout='graph')")


def _check_single_numbers(name: str, shown: list[Value], names: dict[int, str]) -> None:
    """A tree node's input holding several numbers (a layer of two neurons, a batch of samples): name it."""
    for parent in shown:
        if parent.size != 1:
            raise ValueError(f"dependency_tree: {names[id(parent)]!r} (an input of {name!r}) has shape {parent.shape}; "
                             "the tree is for one sample of a chain network with one neuron per layer (every Value a "
                             "single number); draw_graph or backprop_player(layout='graph') draw any graph")


def _check_single_pass(tree: DependencyTree) -> None:
    """A parameter's .grad may hold other backward passes' gradients too: then the tree's numbers would not
    multiply to it, so say so instead of drawing a contradiction.  The chain rule here multiplies in float64, which
    a float32 network's .grad differs from in the 8th digit: the tolerance is half the digits of the tree's dtype,
    of the paths' sizes where they cancel (a gradient near 0 made of 1, 1e-16 and −1 is 0 or 1.1e-16 by the order of
    the sum), and, for gradients that vanish in a deep network, the dtype's smallest normal number, not a fixed
    1e-12."""
    rel_tol = max(1e-9, math.sqrt(max(float(np.finfo(node.value.dtype).eps) for node in tree.nodes.values())))
    totals, sizes = tree._chain_totals(), tree._chain_totals(magnitudes=True)
    for name, node in tree.nodes.items():
        if node.kind in ("weight", "bias") and node.grad is not None:
            through_tree = totals.get(name, 0.0)
            both_nan = math.isnan(node.grad) and math.isnan(through_tree)  # a NaN cost: drawn as it is
            rounding = rel_tol * sizes.get(name, 0.0) + smallest_normal(node.value.data)
            if not both_nan and not math.isclose(node.grad, through_tree, rel_tol=rel_tol, abs_tol=rounding):
                cause = ("zero_grad(set_to_none=False) reset it after this cost's backward(); call cost.backward() "
                         "again before drawing" if node.grad == 0 else "the gradient holds contributions from other "
                         "backward passes; call zero_grad() on each weight and bias (model.zero_grad(), or "
                         "w.zero_grad() for each one made by hand: cost.zero_grad() clears only the cost's) and "
                         "cost.backward() before drawing "
                         "(or, from one pass, contributions of uses outside this cost, after backward() of a larger "
                         "cost such as one with a regularisation term: the same calls draw this cost's own)")
                raise ValueError(f"dependency_tree: {name}.grad is {node.grad:.6g} but the chain rule through this "
                                 f"cost gives {through_tree:.6g}: {cause}")


def unrecorded_product(tree: DependencyTree, name: str, precision: int = 4) -> list[str]:
    """The note on a pre-activation ``z^i`` that adds an unlabelled constant and has no weight in the tree: nn.Layer's
    W·α + b with W^i frozen and a constant input (α⁰), a product the engine does not record (none of its inputs needs
    a gradient), so that z^i's only input b^i does not add up to z^i's number without a word; [] for any other node.
    The tree drawing writes it under z^i, and the player's forward step of z^i."""
    if not isinstance(tree, DependencyTree):
        raise TypeError(f"unrecorded_product: tree must be a DependencyTree, got {type(tree).__name__}")
    try:  # (a node's name, as stored or as drawn: 'z^1' or 'z¹')
        name = tree._check_name(name, "unrecorded_product")
    except KeyError as error:  # (a function's argument out of range: a ValueError, as the others raise)
        raise ValueError(str(error.args[0]).removeprefix("DependencyTree.")) from None
    checks.precision(precision, "unrecorded_product")
    node = tree.nodes[name]
    layer = re.fullmatch(r"z\^(\d+)", name)
    if layer is None or node.value.op != "add":
        return []
    constants = [p for p in node.value.parents if p.op is None and not p.requires_grad and p.label is None]
    if len(constants) != 1 or constants[0].size != 1 or any(
            edge.child == name and tree.nodes[edge.parent].kind == "weight" for edge in tree.edges):
        return []
    i = int(layer.group(1))
    product = pretty(f"W^{i}") + "·" + pretty(f"α^{i - 1}")
    number = format_number(float(numbers_of(constants[0].data).reshape(-1)[0]), precision)
    return [f"(+ {number} = {product}: {pretty(f'W^{i}')} is frozen, requires_grad = False,",
            "so the product needs no gradient and is not in the graph)"]


def has_layers(cost: Value) -> bool:
    """Whether a Value ``cost`` depends on, computed by an operation, is labelled as a layer's z or α (``z^i``,
    ``α^i``, not the input α⁰): a tree with a node of those kinds is a network's.  A number labelled ``z^2`` and
    computed by nothing is no layer's.  Linear in the graph, where finding the tree of a wide graph of labelled Values
    (a sum of them) takes time n²."""
    if not isinstance(cost, Value):
        raise TypeError(f"has_layers: cost must be a Value, got {type(cost).__name__} {cost!r:.60}")
    return any(_kind(node.label, node, cost) in ("activation", "pre-activation")
               for node in nearest_values(cost)[0] if isinstance(node.label, str) and node.op is not None)


#: A tree node's label as nn.Layer writes it (``W^i``, ``b^i``, ``z^i``, ``α^i``; notation.LAYER_LABEL) or as the
#: seed's section 6.3 does: layers counted from the output (``α^L``, ``z^(L-1)``), a weight numbered below (``w_3``).
_TREE_LABEL = re.compile(r"^(W|w|b|z|α)(?:_\d+)?(?:\^(\d+|L|\(L[-−]\d+\)))?$")


def _kind(name: str, node: Value, cost: Value) -> str:
    if node is cost:
        return "cost"
    match = _TREE_LABEL.match(name)
    if match:  # an α that is a constant (the seed's α^(L-1) under z^L) is an input, as α^0 is
        constant = node.op is None and not node.requires_grad
        return {"W": "weight", "w": "weight", "b": "bias", "z": "pre-activation"}.get(
            match.group(1), "input" if match.group(2) == "0" or constant else "activation")
    return "weight" if node.op is None and node.requires_grad else "input" if node.op is None else "other"


def _region(key: Value, names: dict[int, str]) -> tuple[list[Value], list[Value], list[Value]]:
    """The unlabeled operations under ``key`` (with ``key``), the leaves/labelled Values at their border, and
    the region in reverse topological order (``key`` first)."""
    region: list[Value] = []
    boundary: list[Value] = []
    seen = {id(key)}
    stack = [key]
    while stack:  # (first inputs first: the boundary of a + b + c is a, b, c, as the formula writes them)
        node = stack.pop()
        if node is not key and (id(node) in names or node.op is None):
            boundary.append(node)
            continue
        region.append(node)
        for parent in reversed(node.parents):
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    inside = {id(n) for n in region}
    order: list[Value] = []
    done: set[int] = set()
    visit: list[tuple[Value, bool]] = [(key, False)]
    while visit:
        node, expanded = visit.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in done:
            continue
        done.add(id(node))
        visit.append((node, True))
        visit.extend((p, False) for p in node.parents if id(p) in inside and id(p) not in done)
    order.reverse()
    return region, boundary, order


def _users(region: list[Value]) -> dict[int, list[Value]]:
    """The operations of the region that use each Value (by id), each once, in the region's order."""
    users: dict[int, list[Value]] = {}
    for node in region:
        for key in dict.fromkeys(id(p) for p in node.parents):  # (x * x uses x once)
            users.setdefault(key, []).append(node)
    return users


def _folded_ops(parent: Value, users: dict[int, list[Value]], place: dict[int, int]) -> tuple[tuple[str, ...], bool]:
    """The operations of the region on the way from ``parent`` up (those reached through ``users``), oldest first
    (``place``: each operation's position, oldest first), and whether they branch: a chain is one operation after
    another, each taking the one result before it."""
    reached: dict[int, Value] = {}
    stack = [parent]
    while stack:
        for user in users.get(id(stack.pop()), []):
            if id(user) not in reached:
                reached[id(user)] = user
                stack.append(user)
    on_path, latest = {id(parent)}, id(parent)
    ops, chain = [], True
    for node in sorted(reached.values(), key=lambda node: place[id(node)]):
        taken = {id(p) for p in node.parents} & on_path
        if taken:
            chain = chain and taken == {latest}
            on_path.add(id(node))
            latest = id(node)
            ops.append(str(node.op))
    return tuple(ops), not chain


def _is_target(leaf: Value, region: list[Value], under_cost: bool) -> bool:
    """A constant the cost compares the output with: what ``squared_error`` or a subtraction under the cost takes
    away (the seed's y′)."""
    return under_cost and any(n.op in ("sub", "squared_error") and n.parents[-1] is leaf for n in region)


def _is_named_factor(leaf: Value, region: list[Value], key_name: str) -> bool:
    """A labelled constant that one product under a layer's sum ``key_name`` (``z^2``; ``α^2`` with the identity)
    takes: the edge of the product's other factor is written with its name (``∂z²/∂w = x``), so the tree draws it,
    as it draws α⁰ (it wrote x, and drew no x)."""
    kind = _TREE_LABEL.match(key_name)
    users = [n for n in region if any(p is leaf for p in n.parents)]
    return kind is not None and kind.group(1) in ("z", "α") and len(users) == 1 and users[0].op in ("mul", "matmul")


#: The first layer's W·α⁰ + b, by label: ``z^1`` (``z`` for a lone layer), else ``α^1`` (``α``) when the activation
#: is the identity, which returns z itself (nn.Layer's α label then replaces its z label).
_FIRST_LAYER_SUMS = ("z^1", "z", "α^1", "α")


#: A pre-activation as the seed labels it, layers counted from the output: ``z^L``, ``z^(L-2)`` (``α^L`` with the
#: identity activation).
_SEED_LAYER_SUM = re.compile(r"^(?:z|α)\^(?:L|\(L[-−](\d+)\))$")


def _layer_input(key_name: str) -> str:
    """The name of the unlabeled activation a layer's sum ``key_name`` multiplies by its weights: α^0 under the
    first layer's z^1, α^(L-1) under the seed's z^L (its section 6.3: z^L = w_3·α^(L−1) + b_3), α^(L-3) under
    z^(L-2)."""
    match = _SEED_LAYER_SUM.match(key_name)
    return "α^0" if match is None else f"α^(L-{int(match.group(1) or 0) + 1})"


def _is_first_layer_input(leaf: Value, region: list[Value], key_name: str) -> bool:
    """A constant multiplied by a parameter under the first layer's ``z^1`` (``α^1`` with the identity activation,
    see _FIRST_LAYER_SUMS), or under a sum labelled as the seed does (``z^L``, whose input is then a number, as in
    the seed's section 6.3): the network's input, named by :func:`_layer_input`."""
    if key_name not in _FIRST_LAYER_SUMS and not _SEED_LAYER_SUM.match(key_name):
        return False
    return any(n.op in ("mul", "matmul") and any(p is leaf for p in n.parents)
               and any(p.op is None and p.requires_grad for p in n.parents) for n in region)


def _local_derivatives(key: Value, order: list[Value], wanted: set[int]) -> dict[int, float]:
    """∂key/∂(border Value) for every wanted border Value: a backward pass through the region alone, with the
    engine's own local gradients and an upstream gradient of 1 (everything here is a single number)."""
    pending: dict[int, np.ndarray] = {id(key): np.ones(key.shape, key.dtype)}
    result: dict[int, float] = dict.fromkeys(wanted, 0.0)
    inside = {id(n) for n in order}
    for node in order:
        g = pending.pop(id(node), None)
        if g is None:
            continue
        wanted_inputs = [p for p in node.parents if id(p) in wanted]  # constants the tree draws edges to
        with np.errstate(all="ignore"):  # (0 × inf = nan, drawn as such: the user's own backward() warned)
            passed = local_gradients(node, g, constants=wanted_inputs)
        for _, parent, local in passed:
            if id(parent) not in inside and id(parent) not in wanted:
                continue  # a constant folded into the edge (an exponent, a target without a label)
            if parent.size != 1:
                raise ValueError(f"dependency_tree: {node.op} has an input of shape {parent.shape}; the tree "
                                 "is for a chain network with one neuron per layer (every Value a single number)")
            if id(parent) in inside:
                pending[id(parent)] = pending[id(parent)] + local if id(parent) in pending else local
            else:
                result[id(parent)] += float(np.asarray(local).reshape(()))
    return result


def _formula(key: Value, name: str, parent: Value, region: list[Value], users: dict[int, list[Value]],
             ops: set[str | None], difference: Value | None, names: dict[int, str], path: tuple[str, ...],
             precision: int) -> str:
    """The symbolic local derivative for the seed's kinds of edges (empty when the shape is unusual), for a region
    of built-in operations only (an Op of one's own has its own math, whatever its name); ``path`` is the chain of
    operations from ``parent`` up to ``key`` (empty when they branch); ``difference`` is the α − y′ of a region that
    is C = (α − y′)²; a constant is written with ``precision`` significant digits."""
    key_kind = _TREE_LABEL.match(name)
    parent_name = names[id(parent)]
    if key_kind and key_kind.group(1) in ("z", "α") and ops <= {"mul", "matmul", "add"}:  # α = z: identity
        return _affine_formula(parent, users, names, path)
    if key_kind and key_kind.group(1) == "α" and len(region) == 1 and key.op in ACTIVATION_FORMULAS:
        written = pretty(parent_name)
        formula = ACTIVATION_FORMULAS[key.op].format(z=exponent(written) if key.op == "exp" else written)
        if key.op == "leaky_relu":  # its slope below 0, a setting (the player's local formula says it too)
            slope = notation.param_text(key.op_params.get("negative_slope", 0.01))
            formula += f": 1 where {written} > 0, else {slope}"
        return formula
    if difference is None:  # C = (α − y′)² + other terms (0.01·ΣW²): ∂C/∂α is still 2(α − y′)
        difference = _added_squared_difference(parent, users, path)
    if difference is None or not any(p is parent for p in difference.parents):
        return _penalty_formula(parent, users, names, path, precision)
    first, second = (pretty(names[id(p)]) if id(p) in names else format_number(_scalar(p.data), precision)
                     for p in difference.parents)
    return f"{'' if difference.parents[0] is parent else '−'}2({first} − {operand(second)})"


def _affine_formula(parent: Value, users: dict[int, list[Value]], names: dict[int, str], path: tuple[str, ...]
                    ) -> str:
    """∂z/∂(parent) of z = w·α + b: the other factor's name for w and α, 1 for b; empty unless the way up from
    ``parent`` is a product (or none) and then sums only: in z = (a + b)·c, ∂z/∂b is c, not 1."""
    if path and all(op == "add" for op in path):
        return "1"
    if not path or path[0] not in ("mul", "matmul") or any(op != "add" for op in path[1:]):
        return ""
    product = next(node for node in users[id(parent)] if node.op == path[0])
    others = [p for p in product.parents if p is not parent]
    return pretty(names[id(others[0])]) if len(others) == 1 and id(others[0]) in names else ""


def _penalty_formula(parent: Value, users: dict[int, list[Value]], names: dict[int, str], path: tuple[str, ...],
                     precision: int) -> str:
    """∂C/∂W of a regularisation term of the cost, C = … + λ·ΣW²: ``2·λ·W`` (``2·W`` without a λ); empty for any
    other way up from ``parent`` (``path``: the square, sums, one product with a constant, then sums)."""
    if not path or path[0] not in ("pow", "mul"):
        return ""
    node = next(user for user in users[id(parent)] if user.op == path[0])
    if not _is_square_of(node, parent):
        return ""
    factor = ""
    for op in path[1:]:
        user = next(user for user in users[id(node)] if user.op == op)
        others = [p for p in user.parents if p is not node]
        if op == "mul" and not factor and len(others) == 1 and others[0].op is None and others[0].size == 1:
            factor = (pretty(names[id(others[0])]) if id(others[0]) in names
                      else format_number(_scalar(others[0].data), precision)) + "·"
        elif op not in ("sum", "mean", "add"):  # (a Value of one number: its sum and mean are itself)
            return ""
        node = user
    return f"2·{factor}{pretty(names[id(parent)])}"


def _squared_difference(region: list[Value], ops: set[str | None]) -> Value | None:
    """The α − y′ of a region that is the cost C = (α − y′)²: losses.squared_error (one op), or written out as
    d**2 or d*d; else None."""
    if ops == {"squared_error"}:  # losses.squared_error: one op, C = (α − y′)²
        return region[0]
    subs = [n for n in region if n.op == "sub"]
    squares = [n for n in region if n.op in ("pow", "mul")]
    if not (len(subs) == 1 and ops <= {"sub", "pow", "mul", "sum", "mean"} and len(squares) == 1
            and _is_square_of(squares[0], subs[0])):
        return None
    return subs[0]


def _added_squared_difference(parent: Value, users: dict[int, list[Value]], path: tuple[str, ...]) -> Value | None:
    """The α − y′ of (α − y′)² where ``parent``'s way up (``path``, empty where it branches) is that square and
    then sums only (the cost's other terms, a regularisation, do not change ∂C/∂α); else None."""
    if not path or path[0] not in ("squared_error", "sub"):
        return None
    first = next(node for node in users[id(parent)] if node.op == path[0])
    if path[0] == "squared_error":
        rest = path[1:]
    else:
        square = next((node for node in users.get(id(first), []) if node.op in ("pow", "mul")), None)
        if len(path) < 2 or square is None or path[1] != square.op or not _is_square_of(square, first):
            return None
        rest = path[2:]
    rest = rest[1:] if rest[:1] in (("sum",), ("mean",)) else rest  # (of one number: the number itself)
    return first if first.size == 1 and all(op == "add" for op in rest) else None


def _is_square_of(node: Value, base: Value) -> bool:
    """Whether ``node`` is ``base ** 2`` or ``base * base``."""
    first, second = node.parents
    if node.op == "pow":
        return first is base and second.size == 1 and float(second.data) == 2.0
    return first is base and second is base




def built_in_op(node: Value) -> str:
    """The name of the operation that made ``node`` if it is the built-in one of that name, else "": formulas are
    written for these only, not for an Op of one's own that shares a name (a "pow" with its exponent as a parameter
    has one input, and its own math).  A join (concatenate, stack), made per call, is the built-in one where it has
    BUILT_IN's forward and vjps made in tinygrad_edu.ops."""
    if not isinstance(node, Value):
        raise TypeError(f"built_in_op: node must be a Value, got {type(node).__name__} {node!r:.60}")
    op = node._op
    if op is None or (known := BUILT_IN.get(op.name)) is None:
        return ""
    return known.name if known is op or _made_like(op, known) else ""


def _made_like(op: Op, known: Op) -> bool:
    """Whether ``op`` computes as the built-in ``known`` does: its forward, and vjps of the same module."""
    return (op.forward is known.forward and op.saving is known.saving
            and all(getattr(vjp, "__module__", None) == known.vjps[0].__module__ for vjp in op.vjps))


def network_input(nodes: list[Value]) -> Value | None:
    """The network's input α⁰ among ``nodes``: an unlabeled constant multiplied by the first layer's weights
    (labelled ``W^1``, ``w^1``, or ``W``/``w`` for a single layer) in the operations that make ``z^1`` (or ``z``;
    ``α^1``/``α`` with the identity activation); without such a Value among ``nodes``, in any operation, by ``W^1``
    or ``w^1`` only (a lone layer labels its sum, and ``3 * w`` of a weight of one's own named w is no network's
    input).  None if there is none."""
    if not isinstance(nodes, list) or not all(isinstance(node, Value) for node in nodes):
        raise TypeError(f"network_input: nodes must be a list of Values, got {type(nodes).__name__} {nodes!r:.60}")
    kept = {id(node): node for node in nodes}
    first_sum = [node for label in _FIRST_LAYER_SUMS for node in nodes if node.label == label]
    searched = _unlabelled_region(first_sum[0], kept) if first_sum else nodes
    weights = _FIRST_WEIGHTS if first_sum else _NUMBERED_FIRST_WEIGHTS
    return next((found for node in searched if (found := _weights_input(node, weights)) is not None), None)


def _unlabelled_region(key: Value, kept: dict[int, Value]) -> list[Value]:
    """``key`` and the unlabeled operations under it among ``kept``, nearest first (a regularisation term that
    uses ``W^1`` elsewhere in the cost is not under ``z^1``)."""
    region, stack, seen = [], [key], {id(key)}
    while stack:
        node = stack.pop(0)
        region.append(node)
        for parent in node.parents:
            if id(parent) in kept and id(parent) not in seen and parent.op is not None and parent.label is None:
                seen.add(id(parent))
                stack.append(parent)
    return region


def _weights_input(node: Value, weights: set[str]) -> Value | None:
    """The unlabeled constant ``node`` multiplies by the first layer's weights (labelled one of ``weights``), if it
    is such a product."""
    if node.op not in ("mul", "matmul"):
        return None
    labels = [p.label for p in node.parents]
    for parent, other in ((node.parents[0], labels[-1]), (node.parents[-1], labels[0])):
        if other in weights and parent.op is None and parent.label is None and not parent.requires_grad:
            return parent
    return None


_NUMBERED_FIRST_WEIGHTS = {"W^1", "w^1"}
_FIRST_WEIGHTS = _NUMBERED_FIRST_WEIGHTS | {"W", "w"}


def __dir__() -> list[str]:
    return sorted(__all__)
