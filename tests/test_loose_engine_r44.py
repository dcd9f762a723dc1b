"""Round 44's loose ends in the engine's Value methods and the transforms, each test failing before its fix:

- ``v.sum(dim=())`` (and mean, max, min) was told to write ``axis=()``, which reduces nothing in numpy, where
  PyTorch's ``dim=()`` reduces every axis: the advice now names the call that gives PyTorch's result, and every
  advice of the kind is run here against PyTorch's own answer.
- ``float(f"{x:.3f}")`` in a custom vjp was a silent 0 at order 2 (the recorded pass's Value formatted, then read
  back as a constant): it is refused there as ``float(x)`` is, while the formatted text still prints.
- A transform puts its arguments' ``.grad`` back after ``f`` by plain assignment, so another thread's write to one
  meanwhile is undone: the docs (autodiff's and the README's) now say so and what to pass instead.  (Round 45: only
  the writes of f's own backward are put back now, and the other thread's is kept; the test says so.)
- ``v.size(0)`` (PyTorch's) fails with Python's "'int' object is not callable", and ``repr(v)`` does not paste back:
  both left as they are (see the docstrings), which now say what to write, run here.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers_gradients import central_difference
from helpers_threads import another_thread_writing

from tinygrad_edu import Op, Value, autodiff
from tinygrad_edu.autodiff import grad, hessian

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


def _pytorchs(name: str, dim: Any, keepdim: bool | None) -> np.ndarray:
    """What PyTorch's ``x.sum(dim=..., keepdim=...)`` gives (mean too; max and min of several dims are its amax and
    amin), by its documentation, in numpy: an empty dim reduces every axis, a list is a tuple of axes."""
    axis = None if isinstance(dim, (tuple, list)) and not dim else tuple(dim) if isinstance(dim, list) else dim
    return getattr(np, name)(_X, axis=axis, keepdims=bool(keepdim))


@pytest.mark.parametrize("keepdim", [None, False, True])
@pytest.mark.parametrize("dim", _DIMS, ids=repr)
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
def test_every_advice_for_pytorchs_dim_runs_and_gives_pytorchs_numbers(name: str, dim: Any, keepdim: Any) -> None:
    given = {"dim": dim} if keepdim is None else {"dim": dim, "keepdim": keepdim}
    call = _advised_call(name, **given)
    ours = eval(call, {"v": Value(_X), "np": np})  # (the text the user is told to paste)
    theirs = _pytorchs(name, dim, keepdim)
    assert ours.shape == theirs.shape, (call, given)
    np.testing.assert_allclose(ours.data, theirs, rtol=1e-14, err_msg=f"{call} for {given}")


@pytest.mark.parametrize("keepdim", [None, False, True])
@pytest.mark.parametrize("dim", _DIMS, ids=repr)
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
def test_the_numpy_reading_of_pytorchs_dim_is_pytorchs_own(name: str, dim: Any, keepdim: Any) -> None:
    torch = pytest.importorskip("torch")
    given = {"dim": dim} if keepdim is None else {"dim": dim, "keepdim": keepdim}
    reduce = {"max": "amax", "min": "amin"}.get(name, name)  # (PyTorch's max(dim=tuple) is amax's)
    theirs = getattr(torch.from_numpy(_X), reduce)(**given).numpy()
    np.testing.assert_allclose(_pytorchs(name, dim, keepdim), theirs, rtol=1e-14, err_msg=f"{name} {given}")


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
def test_an_empty_dim_is_told_that_numpys_empty_axis_reduces_nothing(name: str) -> None:
    v = Value(_X)
    for dim, written in (((), r"\(\)"), ([], r"\[\]")):
        with pytest.raises(TypeError, match=re.escape(f"v.{name}()") + rf".*PyTorch's dim={written} reduces every "
                           r"axis, numpy's axis=\(\) none"):
            getattr(v, name)(dim=dim)
    assert "axis=()" not in _advised_call(name, dim=())
    np.testing.assert_array_equal(getattr(v, name)(axis=()).data, _X)  # (what the old advice gave: nothing reduced)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
def test_numpys_own_empty_axis_given_with_keepdim_keeps_it_in_the_advice(name: str) -> None:
    """axis=() written by the user is numpy's (reduce nothing): only the keepdim= word is wrong, and the advice that
    replaces it reduces nothing either."""
    with pytest.raises(TypeError) as caught:
        getattr(Value(_X), name)(axis=(), keepdim=True)
    call = str(caught.value).split("write ", 1)[1]  # (the message ends with the call to write)
    assert call == f"v.{name}(axis=(), keepdims=True)", str(caught.value)
    np.testing.assert_array_equal(eval(call, {"v": Value(_X)}).data, _X)


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


# --- float(f"{x:.3f}") in a vjp that a recorded pass runs -----------------------------------------------------------
def _square_by(read: Any) -> Op:
    """x² whose vjp reads x back from its text by ``read`` (first order right to 3 digits; second order: 2)."""
    return Op("square_by_text", lambda x: x * x, lambda g, out, x: g * 2 * read(x))


@pytest.mark.parametrize("read", [lambda x: float(f"{x:.12f}"), lambda x: float(format(x, ".12f")),
                                  lambda x: float("{:.12f}".format(x))],  # noqa: UP032
                         ids=["f-string", "format", "str.format"])
def test_a_number_read_back_from_a_values_text_in_a_recorded_vjp_is_refused_not_a_silent_zero(read: Any) -> None:
    op = _square_by(read)
    first = float(grad(op)(0.7).data)  # (first order: the vjp gets arrays, and their text reads back fine)
    assert first == pytest.approx(float(central_difference(lambda v: float(v) ** 2, np.array(0.7))), rel=1e-8)
    with pytest.raises(TypeError, match=r"^square_by_text: its vjp cannot be differentiated: "
                       r"float\(f'\{x:…\}'\): grad\(grad\(f\)\), hessian and create_graph=True run the vjp on "
                       r"Values.*silent 0"):
        grad(grad(op))(0.7)
    with pytest.raises(TypeError, match="silent 0"):
        hessian(op)(0.7)


def test_an_int_read_back_from_a_values_text_is_refused_too() -> None:
    op = _square_by(lambda x: int(f"{x:.0f}"))
    assert float(grad(op)(3.0).data) == 6.0
    with pytest.raises(TypeError, match=r"int\(f'\{x:…\}'\)"):
        grad(grad(op))(3.0)


def test_the_text_still_prints_inside_and_reads_back_once_the_pass_is_over() -> None:
    shown: list[str] = []
    op = Op("shown_square", lambda x: x * x, lambda g, out, x: (shown.append(f"{x:.3f}"), g * 2 * x)[1])
    assert float(grad(grad(op))(0.7).data) == 2.0  # (d²/dx² x², exactly)
    assert shown[-1] == "0.700" and f"[{shown[-1]}]" == "[0.700]" and shown[-1].upper() == "0.700"
    assert [float(text) for text in shown] == [0.7] * len(shown)  # (outside the vjp: a number again)
    assert type(f"{Value(0.7):.3f}") is str and float(f"{Value(0.7):.3f}") == 0.7  # (outside any vjp: plain text)


# --- a transform's put-back of its arguments' .grad, against another thread's write --------------------------------
def _grad_while_another_thread_writes(argument: Any, w: Value) -> Value:
    """grad(Σp²) at ``argument``, while another thread sets ``w.grad`` to [7, 7] during f (which calls no backward)."""
    with another_thread_writing(w, np.array([7.0, 7.0])) as (inside, written):
        def f(p: Value) -> Value:
            inside.set()
            assert written.wait(10)
            return (p * p).sum()
        return grad(f)(argument)


def test_another_threads_write_to_an_arguments_grad_during_f_is_kept_as_the_docs_say() -> None:
    """(Round 45: a transform puts back only the .grad that f's own backward wrote, so the other thread's [7, 7],
    which round 44 documented as replaced, is kept.)"""
    w = Value([1.0, 2.0])
    w.grad = np.array([5.0, 5.0])
    np.testing.assert_array_equal(_grad_while_another_thread_writes(w, w).data, [2.0, 4.0])
    np.testing.assert_array_equal(w.grad, [7.0, 7.0])
    readme = " ".join((Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8").split())
    for text in (" ".join((autodiff.__doc__ or "").split()), readme):
        assert "unless another thread has written one since: that write is kept" in text, text[:80]
        assert "is replaced by the one from before the call" not in text
    for argument in (w.detach(), w.data):  # (and as before, with what is not the Value itself)
        w.grad = np.array([5.0, 5.0])
        np.testing.assert_array_equal(_grad_while_another_thread_writes(argument, w).data, [2.0, 4.0])
        np.testing.assert_array_equal(w.grad, [7.0, 7.0])


# --- what the docstrings of size and repr say to write --------------------------------------------------------------
def test_size_says_what_pytorchs_size_calls_are_here_and_they_give_pytorchs_numbers() -> None:
    torch = pytest.importorskip("torch")
    doc = " ".join((Value.size.__doc__ or "").split())
    assert "PyTorch's ``x.size(0)`` is ``v.shape[0]``" in doc and "its ``x.size()`` is ``v.shape``" in doc, doc
    v, t = Value(_X), torch.from_numpy(_X)
    assert v.shape[0] == t.size(0) and v.shape == tuple(t.size()) and v.size == t.numel()
    with pytest.raises(TypeError, match="'int' object is not callable"):  # (what the docstring says it gives)
        v.size(0)  # type: ignore[operator]


@pytest.mark.parametrize("make", [lambda: Value(np.arange(7.0).reshape(7, 1), label="w"),
                                  lambda: Value(np.float32([1.5, 2.0]), requires_grad=False), lambda: Value(2.0)])
def test_repr_says_it_is_for_reading_and_what_it_says_to_write_makes_the_same_value(make: Any) -> None:
    doc = " ".join((Value.__repr__.__doc__ or "").split())
    assert "for reading, not for pasting back" in doc, doc
    written = re.search(r"``(Value\(v\.data, [^`]*\))``", doc)
    assert written is not None, doc
    v = make()
    again = eval(written.group(1), {"Value": Value, "v": v})
    assert repr(again) == repr(v) and again.dtype == v.dtype and again.data is not v.data
