"""Round 50, the lead's own: the expression fuzzer changed a read-only view of a broadcast in place.

The thorough fuzzer drew ``v9 = ops.broadcast_to(v7, shape=(1, 1, 1)); v10 = np.flip(v9, axis=None); v10 += v12``.
Recorded, ``v10 += v12`` is a new Value; under no_grad (check_gradients' finite differences) it changes v10's own
numbers, a read-only view of the broadcast, which the engine refuses.  The generator knew the views of a broadcast
by a list of operations that missed np.flip, so it drew an in-place change no graph evaluated unrecorded can make.
"""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import Value, no_grad, ops
from tinygrad_edu.testing import expressions


def graph(lines: list[str]) -> expressions.Graph:
    g = expressions.Graph(draw=None, inputs=[np.zeros(1)], custom={})  # type: ignore[arg-type]
    g.lines = lines
    return g


def test_a_flip_of_a_broadcast_shares_its_numbers() -> None:
    g = graph(["v1 = x0 + x0", "v2 = ops.broadcast_to(v1, shape=(1, 1, 1))", "v3 = np.flip(v2, axis=None)",
               "v4 = np.flip(v1, axis=None)"])
    assert [expressions._shares_numbers(g, name) for name in ("v3", "v4")] == [True, False]


def test_a_read_only_reference_value_shares_its_numbers_whatever_the_line_says() -> None:
    """A view the list of operations does not name is still known by numpy's read-only reference value."""
    g = graph(["v1 = x0 + x0", "v2 = ops.broadcast_to(v1, shape=(2, 3))", "v3 = v2.some_new_view()",
               "v4 = v2.some_new_copy()"])
    broadcast = np.broadcast_to(np.zeros(1), (2, 3))
    g.values.update(v3=broadcast[::-1], v4=broadcast[::-1].copy())
    assert [expressions._shares_numbers(g, name) for name in ("v3", "v4")] == [True, False]


def test_the_engine_refuses_the_drawn_change_unrecorded_and_makes_it_recorded() -> None:
    """Why the generator must not draw it: the same line works recorded and is refused under no_grad."""
    def f(x: Value) -> Value:
        view = np.flip(ops.broadcast_to(x * x + 0.5, shape=(1, 1, 1)), axis=None)
        view += x.exp()
        return view

    assert f(Value(np.array([0.0]))).data.item() == pytest.approx(1.5)
    with no_grad(), pytest.raises(ValueError, match="add in place: .*read-only.*view of a broadcast"):
        f(Value(np.array([0.0])))


def test_a_bool_among_object_labels_is_the_element_named() -> None:
    """The mutation pass's find: [1.0, True] as objects was refused naming 'float 1.0 at index 0', a good label."""
    from tinygrad_edu import losses

    with pytest.raises(TypeError, match=r"got an ndarray holding bool True at index 1: give class indices"):
        losses.cross_entropy(Value(np.zeros((2, 3))), np.array([1.0, True], dtype=object))
