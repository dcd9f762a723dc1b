"""The refusals of PyTorch's pairs (``_, idx = v.max(1)``, ``x, y = ds[0]``, ``for x, y in ds``) read the caller's
bytecode, which differs between Python versions.  Run on 3.10 to 3.13 by hand in the fortieth round (the venvs of
pyenv's interpreters), where 3.10 let a long loop through: its frame's ``f_lasti`` sits at the EXTENDED_ARG before
FOR_ITER, not at FOR_ITER.  CI has one Python, so the frame of that case is made here; the rest of the table runs on
whatever Python runs the tests."""

from __future__ import annotations

import dis
import operator
import types

import numpy as np
import pytest

from tinygrad_edu import Value, checks, data


def _long_loop(ds):
    for x, y in ds:  # (a body of a few lines makes FOR_ITER's jump long enough for an EXTENDED_ARG)
        a = str(x).upper().lower().strip().split(); b = [a, a, a, a]; c = dict(a=b); d = list(c.items())  # noqa: E702
        a = str(y).upper().lower().strip().split(); b = [a, a, a, a]; c = dict(a=b); d = list(c.items())  # noqa: E702
        a = str(x).upper().lower().strip().split(); b = [a, a, a, a]; c = dict(a=b); d = list(c.items())  # noqa: E702
        a = str(y).upper().lower().strip().split(); b = [a, a, a, a]; c = dict(a=b); d = list(c.items())  # noqa: E702
        a = str(x).upper().lower().strip().split(); b = [a, a, a, a]; c = dict(a=b); d = list(c.items())  # noqa: E702
        a = str(y).upper().lower().strip().split(); b = [a, a, a, a]; c = dict(a=b); d = list(c.items())  # noqa: E702
        a = str(x).upper().lower().strip().split(); b = [a, a, a, a]; c = dict(a=b); d = list(c.items())  # noqa: E702
        a = str(y).upper().lower().strip().split(); b = [a, a, a, a]; c = dict(a=b); d = list(c.items())  # noqa: E702
        a = str(x).upper().lower().strip().split(); b = [a, a, a, a]; c = dict(a=b); d = list(c.items())  # noqa: E702
        a = str(y).upper().lower().strip().split(); b = [a, a, a, a]; c = dict(a=b); d = list(c.items())  # noqa: E702
    return d


def test_a_frame_at_the_extended_arg_before_for_iter_is_read_as_at_for_iter() -> None:
    """Python 3.10 leaves a loop's f_lasti at FOR_ITER's EXTENDED_ARG while the loop takes an item: the instruction
    under way is FOR_ITER, and UNPACK_SEQUENCE 2 after it unpacks the item into two names."""
    instructions = list(dis.get_instructions(_long_loop.__code__))
    loop = next(n for n, i in enumerate(instructions) if i.opname == "FOR_ITER")
    if instructions[loop - 1].opname != "EXTENDED_ARG":
        pytest.skip("this Python's loop here needs no EXTENDED_ARG")
    frame = types.SimpleNamespace(f_code=_long_loop.__code__, f_lasti=instructions[loop - 1].offset)
    assert checks.unpacked_in_two(frame, under_way=("FOR_ITER",))  # type: ignore[arg-type]
    at_the_loop = types.SimpleNamespace(f_code=_long_loop.__code__, f_lasti=instructions[loop].offset)
    assert checks.unpacked_in_two(at_the_loop, under_way=("FOR_ITER",))  # type: ignore[arg-type]
    assert not checks.unpacked_in_two(frame, under_way=("GET_ITER",))  # type: ignore[arg-type]


def _two_samples() -> data.Dataset:
    return data.Dataset(np.arange(4.0).reshape(2, 2), np.array([0, 1]))


def _matrix() -> Value:
    return Value(np.arange(4.0).reshape(2, 2))


def _unpack_index(ds):
    x, y = ds[0]
    return x, y


def _unpack_max():
    _, idx = _matrix().max(1)
    return idx


def _unpack_np_max():
    _, idx = np.max(_matrix(), 1)
    return idx


@pytest.mark.parametrize("call", [lambda: _long_loop(_two_samples()), lambda: [x for x, y in _two_samples()],
                                  lambda: list(x for x, y in _two_samples()), lambda: _unpack_index(_two_samples()),
                                  _unpack_max, _unpack_np_max],
                         ids=["long loop", "comprehension", "generator", "x, y = ds[0]", "v.max(1)", "np.max(v, 1)"])
def test_pytorchs_pairs_are_refused(call) -> None:
    with pytest.raises(TypeError, match=r"^(Dataset|max): "):
        call()


def test_the_pair_itself_and_loops_of_other_pairs_go_through() -> None:
    ds = _two_samples()
    inputs, labels = ds
    assert inputs is ds.inputs and labels is ds.labels
    assert [a is b for a, b in zip(ds, (ds.inputs, ds.labels))] == [True, True]
    assert [i for i, _ in enumerate(ds)] == [0, 1] and len(list(ds)) == 2
    first, second = list(map(operator.itemgetter(0), [ds, ds]))
    assert first is ds.inputs and second is ds.inputs
