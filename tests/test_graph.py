"""Argument checks of tinygrad_edu.graph (the walks behind the drawings)."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import Value
from tinygrad_edu.graph import ancestors, nearest_values


def _graph() -> tuple[Value, Value]:
    x = Value(2.0)
    return x, (x * 3.0).exp()


def test_nearest_values_refuses_what_is_not_a_value_or_a_limit() -> None:
    _, y = _graph()
    with pytest.raises(TypeError, match="nearest_values: root must be a Value, got ndarray"):
        nearest_values(np.ones(2))
    with pytest.raises(ValueError, match="nearest_values: limit must be an integer >= 0, got -1"):
        nearest_values(y, limit=-1)
    for limit in ("2", 2.0, True):
        with pytest.raises(TypeError, match="nearest_values: limit must be an integer, got "):
            nearest_values(y, limit=limit)  # type: ignore[arg-type]
    kept, total = nearest_values(y, limit=np.int64(2))
    assert [v.op for v in kept] == ["exp", "mul"] and total == 4
    assert nearest_values(y, limit=0) == ([], 4)


def test_ancestors_takes_a_single_value_and_refuses_other_things() -> None:
    x, y = _graph()
    product = y.parents[0]
    everything = {id(v) for v in nearest_values(y)[0]}
    assert {id(v) for v in ancestors(y, everything, set())} == everything
    assert {id(v) for v in ancestors([y], everything, {id(product)})} == {id(y)}
    single = Value([1.0, 2.0])
    assert ancestors(single, {id(single)}, set()) == [single]
    for starts, what in ((3, "got int"), ([y, 1.0], "got a float in it"), (np.ones(2), "got ndarray")):
        with pytest.raises(TypeError, match=f"ancestors: starts must be a Value or a list of Values, {what}"):
            ancestors(starts, everything, set())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ancestors: allowed must be a set of ids"):
        ancestors([y], [id(y)], set())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="ancestors: stop must be a set of ids"):
        ancestors([y], everything, None)  # type: ignore[arg-type]
    assert any(v is x for v in ancestors(y, everything, set()))
