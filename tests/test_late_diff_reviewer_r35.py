"""A senior review of round 35's late commits (``f56ef12..``): each hunk read for wrong logic and for fixes that cover
one case of a defect but not its siblings, then used for real.

Defects (each test marked xfail until fixed):

* ``detach()`` staleness (engine's registry of detached Values) was wired into ``v ∘= x`` and ``v[...] = x`` only:
  micrograd's ``d.data *= 0`` on ``d = h.detach()`` changes the numbers it shares with ``h`` just the same, and the
  graph recorded from ``h`` then backpropagated the zeroed numbers silently.
* The registry walked one link at a time, so ``h.detach().detach()`` (the middle Value gone) lost its way back to
  ``h``: zeroed in place, the chain gave a silently wrong gradient.
* And it marked ``h`` stale even where the detached Value shared its numbers no more (``d.data = np.zeros(n)``, then
  ``d += 1``): a correct graph's backward raised "the graph is stale".
* The printing fix "never a number as a whole number it is not" skipped scientific notation: 99999.99999 beside 0.5
  printed as ``1.e+05``, and 100000.4 beside 1.0 as ``1.e+05`` (beside 2.5, ``1.0e+05``).
"""

from __future__ import annotations

import gc
import re
import weakref

import numpy as np
import pytest

from tinygrad_edu import Value, no_grad


def _recorded() -> tuple[Value, Value, Value]:
    """A weight ``w``, a computed state ``h`` (so that its graph is the chunk's) and the cost ``(h · w)``, whose
    gradient with respect to ``w`` is ``h``'s numbers: [3, 4]."""
    w = Value(np.array([1.0, 2.0]))
    h = Value(np.array([1.5, 2.0])) * 2.0
    return w, h, (h * w).sum()


def test_a_detached_value_changed_through_data_makes_the_original_graph_stale() -> None:
    w, h, cost = _recorded()
    d = h.detach()
    d.data *= 0  # micrograd's way of changing numbers in place
    assert not h.data.any()  # (shared, as in PyTorch)
    with pytest.raises(ValueError, match="graph is stale"):
        cost.backward()


def test_a_detached_value_of_a_detached_value_makes_the_first_graph_stale() -> None:
    w, h, cost = _recorded()
    d = h.detach().detach()
    gc.collect()
    with no_grad():
        d *= 0
    assert not h.data.any()
    with pytest.raises(ValueError, match="graph is stale"):
        cost.backward()


def test_a_detached_value_given_new_numbers_leaves_the_original_graph_usable() -> None:
    w, h, cost = _recorded()
    d = h.detach()
    d.data = np.zeros(2)  # numbers of its own now
    with no_grad():
        d += 1
    np.testing.assert_array_equal(h.data, [3.0, 4.0])  # h unchanged
    cost.backward()
    np.testing.assert_array_equal(w.grad, [3.0, 4.0])  # ∂(h·w)/∂w = h


def _printed_numbers(text: str) -> list[str]:
    """The numbers of the ``data=[...]`` part of a Value's repr, as printed."""
    inside = re.search(r"data=\[([^\]]*)\]", text)
    assert inside is not None, text
    return inside.group(1).split()


@pytest.mark.parametrize("numbers", [[99999.99999, 0.5], [100000.4, 1.0], [100000.4, 2.5], [-2000000.3, 0.25]])
def test_no_element_prints_as_a_whole_number_it_is_not_in_scientific_notation(numbers: list[float],
                                                                              numpy_default_print_options) -> None:
    text = repr(Value(np.array(numbers)))
    printed = _printed_numbers(text)
    assert len(printed) == len(numbers), text
    for shown, number in zip(printed, numbers, strict=True):
        assert not (float(shown).is_integer() and float(shown) != number), text


# --- guards -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("numbers", [[100000.0, 0.5], [1e-27, 5e-28], [123456.7, 0.1]])
def test_scientific_notation_keeps_its_few_digits_where_nothing_reads_as_another_whole_number(
        numbers: list[float], numpy_default_print_options) -> None:
    """An exact 1e5 stays ``1.e+05`` and a mantissa with digits after the point reads as rounded: not every number
    printed in scientific notation gets all its digits."""
    printed = _printed_numbers(repr(Value(np.array(numbers))))
    assert all(len(text.partition("e")[0].lstrip("-").replace(".", "")) <= 5 for text in printed), printed


def test_index_assignment_on_a_detached_value_makes_the_original_graph_stale() -> None:
    w, h, cost = _recorded()
    d = h.detach()
    with no_grad():
        d[0] = 7.0
    with pytest.raises(ValueError, match="graph is stale"):
        cost.backward()


def test_a_detached_value_does_not_keep_the_value_it_was_detached_from_alive() -> None:
    """Truncated backpropagation through time: ``h = h.detach()`` must let the chunk's graph go."""
    h = Value(np.array([1.5, 2.0])) * 2.0
    original = weakref.ref(h)
    h = h.detach()
    gc.collect()
    assert original() is None
    with no_grad():
        h *= 0  # the original gone: nothing to mark, no error
    assert not h.data.any()
