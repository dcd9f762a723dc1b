"""Round 41's review: defects found in this round's changes, each test failing on the code before its fix."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest

from tinygrad_edu import Op, Value
from tinygrad_edu.data import Dataset
from tinygrad_edu.engine import local_gradients

_LOOKUP = Op("table_lookup_r41", lambda x: x * 2.0, lambda g, out, x: g * {"two": 2.0}["2"])  # a KeyError of its own


def _notes(error: BaseException) -> str:
    return "\n".join(getattr(error, "__notes__", []))


def test_local_gradients_names_the_op_of_a_vjps_own_error_as_backward_does() -> None:
    """local_gradients (the drawings' and the backprop player's step) "refuses what backward refuses, with backward's
    error": backward's KeyError from a vjp carries a note naming the Op, local_gradients' was Python's bare one."""
    x = Value(np.array([1.0, 2.0]))
    node = _LOOKUP(x)
    with pytest.raises(KeyError) as by_backward:
        node.sum().backward()
    with pytest.raises(KeyError) as by_step:
        local_gradients(node, np.ones(2))
    assert "table_lookup_r41: raised by its vjp" in _notes(by_backward.value)
    assert "table_lookup_r41: raised by its vjp" in _notes(by_step.value)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="Python 3.10's bytecode has no columns: the call is not told")
def test_the_reversed_loops_refusal_names_what_was_written_and_advises_a_loop_from_the_last_sample() -> None:
    """``for x, y in reversed(ds)`` was refused as ``for x, y in ds`` (not what was written), and its advice went
    through the samples from the first, where PyTorch's reversed(ds) goes from the last."""
    ds = Dataset(np.arange(6.0).reshape(3, 2), np.array([0, 1, 2]))
    with pytest.raises(TypeError, match=r"^Dataset: for x, y in reversed\(ds\) goes through the pair") as caught:
        for x, y in reversed(ds):  # noqa: B007
            pass
    fix = re.search(r"(for x, y in zip\(.*\))$", str(caught.value))
    assert fix is not None, str(caught.value)
    taken: list = []
    exec(f"{fix.group(1)}:\n    taken.append((x.tolist(), int(y)))", {"ds": ds, "taken": taken})
    assert taken == [([4.0, 5.0], 2), ([2.0, 3.0], 1), ([0.0, 1.0], 0)]
