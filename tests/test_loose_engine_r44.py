"""Round 44's loose ends in the engine's Value methods and the transforms, each test failing before its fix:

- ``v.sum(dim=())`` (and mean, max, min) was told to write ``axis=()``, which reduces nothing in numpy, where
  PyTorch's ``dim=()`` reduces every axis: the advice now names the call that gives PyTorch's result, and every
  advice of the kind is run here against PyTorch's own answer.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import Value

_X = np.arange(24.0).reshape(2, 3, 4) * np.array([1.0, -1.0, 0.5, 2.0])  # (no ties: one maximum per row)


def _advised_call(name: str, **pytorch: Any) -> str:
    """The call the refusal of ``v.name(**pytorch)`` says to write (its first ``v.name(...)``)."""
    v = Value(_X)
    with pytest.raises(TypeError) as caught:
        getattr(v, name)(**pytorch)
    found = re.search(rf"v\.{name}\([^()]*(\([^()]*\))?[^()]*\)", str(caught.value))
    assert found is not None, str(caught.value)
    return found.group(0)


_DIMS = [0, -1, (), [], (1,), (0, 2), [1, 2], (0, 1, 2)]


@pytest.mark.parametrize("keepdim", [None, False, True])
@pytest.mark.parametrize("dim", _DIMS, ids=repr)
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
def test_every_advice_for_pytorchs_dim_runs_and_gives_pytorchs_numbers(name: str, dim: Any, keepdim: Any) -> None:
    torch = pytest.importorskip("torch")
    given = {"dim": dim} if keepdim is None else {"dim": dim, "keepdim": keepdim}
    call = _advised_call(name, **given)
    ours = eval(call, {"v": Value(_X), "np": np})  # (the text the user is told to paste)
    reduce = {"max": "amax", "min": "amin"}.get(name, name)  # (PyTorch's max(dim=tuple) is amax's)
    theirs = getattr(torch.from_numpy(_X), reduce)(**given).numpy()
    assert ours.shape == theirs.shape, (call, given)
    np.testing.assert_allclose(ours.data, theirs, rtol=1e-14, err_msg=f"{call} for {given}")


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
def test_an_empty_dim_is_told_that_numpys_empty_axis_reduces_nothing(name: str) -> None:
    v = Value(_X)
    for dim in ((), []):
        with pytest.raises(TypeError, match=re.escape(f"v.{name}()") + r".*PyTorch's dim=\(\) reduces every axis, "
                           r"where numpy's axis=\(\) reduces none"):
            getattr(v, name)(dim=dim)
    assert "axis=()" not in _advised_call(name, dim=())
    np.testing.assert_array_equal(getattr(v, name)(axis=()).data, _X)  # (what the old advice gave: nothing reduced)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, -1, (1,), [2]], ids=repr)
@pytest.mark.parametrize("name", ["max", "min"])
def test_the_indices_it_advises_are_pytorchs_indices(name: str, dim: Any, keepdim: bool) -> None:
    torch = pytest.importorskip("torch")
    v = Value(_X)
    with pytest.raises(TypeError) as caught:
        getattr(v, name)(dim=dim, keepdim=keepdim)
    found = re.search(rf"v\.data\.arg{name}\([^()]*\)", str(caught.value))
    assert found is not None, str(caught.value)
    one = dim[0] if isinstance(dim, (tuple, list)) else dim
    theirs = getattr(torch.from_numpy(_X), name)(dim=one, keepdim=keepdim).indices.numpy()
    np.testing.assert_array_equal(eval(found.group(0), {"v": v}), theirs, err_msg=found.group(0))
