"""Round 42, the fuzzer's reach: numpy functions dispatched to a Value through ``__array_function__`` that the
random graphs of ``strategies.expressions`` never built.

``np.split`` and ``np.array_split`` take a Value apart into a list of Values (index nodes of one parent, an empty
piece too); no drawn graph used them, so the gradients of pieces meeting again (a roll: the pieces joined in
another order) were never checked in composition.  ``np.amax``/``np.amin``, numpy's other names of max and min,
were never spelt either.  The generator draws them now; these tests check that it does and that what it draws
agrees with finite differences to the third order.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings

from tinygrad_edu import Value
from tinygrad_edu.testing import check_gradients
from tinygrad_edu.testing.strategies import Expression, expressions

FIRST_FOUND = settings(database=None, phases=[Phase.generate], derandomize=True, max_examples=3000,
                       suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("spelling", ["np.split(", "np.array_split(", "np.amax(", "np.amin(", "F.concatenate(np."])
def test_the_graphs_spell_numpys_splits_and_amax(spelling: str) -> None:
    expr = find(expressions(), lambda e: any(spelling in line for line in e.lines), settings=FIRST_FOUND)
    out = expr(*[Value(x) for x in expr.inputs])
    np.testing.assert_allclose(out.data, expr.run(*expr.inputs, reference=True)[expr.output_name], rtol=1e-9,
                               atol=1e-12)


def _splits(expr: Expression) -> bool:
    return any("split(" in line for line in expr.lines)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(expressions(max_nodes=8).filter(_splits))
def test_split_pieces_in_composition_match_finite_differences_to_the_third_order(expr: Expression) -> None:
    check_gradients(expr, *expr.inputs, order=3)


def test_a_roll_by_split_and_concatenate_sends_each_pieces_gradient_home() -> None:
    """The pieces of np.split joined in another order: every element's gradient is its own upstream element's,
    moved back (a closed form, not the engine against itself)."""
    import tinygrad_edu.functional as F

    x = Value(np.arange(12.0).reshape(3, 4))
    pieces = np.split(x, [1, 3], axis=-1)  # widths 1, 2, 1
    rolled = F.concatenate(pieces[1:] + pieces[:1], axis=-1)
    upstream = np.arange(12.0).reshape(3, 4) + 100
    rolled.backward(upstream)
    np.testing.assert_array_equal(rolled.data, np.roll(x.data, -1, axis=-1))
    np.testing.assert_array_equal(x.grad, np.roll(upstream, 1, axis=-1))
