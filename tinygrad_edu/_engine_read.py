"""Stand-in for the engine's public read API until it lands on main: ``backward_order``, ``local_gradients`` and
``op_params`` with the contract the lead gave (see the common brief).  Delete once engine.py has them."""

from __future__ import annotations

import heapq
from typing import Any

import numpy as np

from tinygrad_edu import engine
from tinygrad_edu.engine import Value


def _backward_order(output: Value) -> list[Value]:
    """The nodes that require a gradient, in the order ``output.backward()`` visits them, output first."""
    if not output.requires_grad:
        return []
    order: list[Value] = []
    waiting = [(output._order, output)]
    queued = {id(output)}
    while waiting:
        node = heapq.heappop(waiting)[1]
        order.append(node)
        for parent in node._parents:
            if parent.requires_grad and id(parent) not in queued:
                queued.add(id(parent))
                heapq.heappush(waiting, (parent._order, parent))
    return order


def _local_gradients(node: Value, upstream: Any) -> list[tuple[int, Value, np.ndarray]]:
    """(i, parent, ∂C/∂parent through this edge) for each input that requires a gradient, given ∂C/∂node."""
    if node._op is None:
        return []
    inputs = [p.data for p in node._parents]
    params = node._params or {}
    result = []
    for i, (parent, vjp) in enumerate(zip(node._parents, node._op.vjps)):
        if not parent.requires_grad:
            continue
        grad = vjp(np.asarray(upstream, dtype=node.dtype), node.data, *inputs, **params)
        grad = engine._unbroadcast(grad, parent.shape, node._op).astype(parent.dtype, copy=False)
        result.append((i, parent, grad))
    return result


backward_order = getattr(engine, "backward_order", _backward_order)
local_gradients = getattr(engine, "local_gradients", _local_gradients)


def op_params(node: Value) -> dict:
    return dict(getattr(node, "op_params", None) or node._params or {})
