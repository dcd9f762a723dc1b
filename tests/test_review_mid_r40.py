"""The mid-round review of the fortieth round's change, each test failing before its fix: ``for x, y in ds`` with a
loop body of a few lines (five on Python 3.11) was not refused, for its FOR_ITER jumps far enough to take an
EXTENDED_ARG, which ``checks.unpacked_in_two`` took for the instruction after GET_ITER; check_gradients' rounding
note blamed f's curvature for a step that left f's domain (ln x, √x a step of 10⁴ below x = 1)."""

from __future__ import annotations

import dis
import sys

import numpy as np
import pytest

from tinygrad_edu import checks, data
from tinygrad_edu.testing import check_gradients


def _two_samples() -> data.Dataset:
    return data.Dataset(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0, 1]))


def test_a_for_loop_unpacking_samples_with_a_long_body_is_refused_too() -> None:
    """A training loop's body of thirty lines (a notebook cell, run by exec) puts an EXTENDED_ARG between GET_ITER
    and FOR_ITER on every Python from 3.10 on: the loop went through the pair, silently, as before the refusal."""
    body = "\n".join(f"    seen.append((x.sum() + {i}, y.sum()))" for i in range(30))
    code = compile(f"for x, y in ds:\n{body}\n", "<cell>", "exec")
    names = [instruction.opname for instruction in dis.get_instructions(code)]
    after = names[names.index("GET_ITER") + 1:]
    assert after[:3] == ["EXTENDED_ARG", "FOR_ITER", "UNPACK_SEQUENCE"]  # (what the test is about)
    seen: list[tuple[float, float]] = []
    with pytest.raises(TypeError, match=r"^Dataset: for x, y in ds goes through the pair \(inputs, labels\)"):
        exec(code, {"ds": _two_samples(), "seen": seen})  # noqa: S102
    assert seen == []
    short = compile("for x, y in zip(ds.inputs, ds.labels):\n" + body + "\n", "<cell>", "exec")
    exec(short, {"ds": _two_samples(), "seen": seen})  # noqa: S102  (the advice, as written, goes through samples)
    assert [(float(a), float(b)) for a, b in seen[:2]] == [(3.0, 0.0), (4.0, 0.0)] and len(seen) == 60


def test_a_long_loop_over_datasets_that_unpacks_each_is_not_refused() -> None:
    """``for a, b in [ds, ds]: inputs, labels = ds`` with a long body: the pairs unpack as a tuple's."""
    body = "\n".join(f"    out.append(inputs.sum() + labels.sum() + {i})" for i in range(30))
    out: list[float] = []
    exec(compile(f"for inputs, labels in [ds, ds]:\n{body}\n", "<cell>", "exec"),  # noqa: S102
         {"ds": _two_samples(), "out": out})
    assert len(out) == 60 and float(out[0]) == 11.0


@pytest.mark.parametrize("f", [lambda x: (x.log() * 1e-2 + 1e12).sum(), lambda x: (x.sqrt() * 1e-2 + 1e12).sum()],
                         ids=["log", "sqrt"])
def test_a_step_out_of_fs_domain_is_not_blamed_on_its_curvature(f) -> None:
    """10⁻²·ln x + 10¹² at x = 1: rounding would need eps=10000, where x − eps < 0 and f is NaN; the note said that
    step "is too coarse for f's curvature there".  It says the step leaves f's domain."""
    with pytest.raises(AssertionError) as failure:
        check_gradients(f, np.array([1.0]))
    message = str(failure.value)
    assert "a larger eps does not help: the step that rounding would need, eps=10000, reaches where f is not " \
           "finite or fails (outside its domain)" in message
    assert "curvature" not in message


def test_a_step_too_coarse_for_a_bend_still_says_curvature() -> None:
    """10⁻²·tanh(x) + 10¹² at x = 1 is defined everywhere: eps=10000 fails there for tanh's bend."""
    with pytest.raises(AssertionError, match=r"eps=10000, is too coarse for f's curvature at these inputs\)"):
        check_gradients(lambda x: (x.tanh() * 1e-2 + 1e12).sum(), np.array([1.0]))


@pytest.mark.skipif(sys.version_info < (3, 11), reason="Python 3.10's bytecode has no columns: nothing is told")
def test_the_keywords_names_loaded_at_the_calls_place_are_not_taken_for_the_callable() -> None:
    """Python 3.13 loads a call's keyword names, ``LOAD_CONST ('key',)``, just before ``CALL_KW``, at the place of
    the whole call: ``a, b = sorted(map(methodcaller("max", 1), [v, w]), key=id)`` was taken for a call of the tuple,
    which cannot be told, and refused as ``_, idx = v.max(1)`` on 3.13 (not on 3.11 and 3.12, whose KW_NAMES is
    passed over).  The bytecode of 3.13, made from this Python's: the callable is still ``sorted``."""
    code = compile("a, b = sorted(m, key=id)", "<cell>", "exec")
    if sys.version_info >= (3, 13):  # (this Python's own bytecode is 3.13's)
        real = list(dis.get_instructions(code))
        call_kw = next(i for i in real if i.opname == "CALL_KW")
        assert real[real.index(call_kw) - 1].positions == call_kw.positions  # (the names, loaded at the call's place)
        assert checks._calls_another_name(real, real.index(call_kw), ("max", "min", "amax", "amin"))
        return
    instructions = [i for i in dis.get_instructions(code) if i.opname != "KW_NAMES"]
    call = next(i for i in instructions if i.opname == "CALL")
    names = instructions[[i.offset for i in instructions].index(call.offset) - 1]._replace(
        opname="LOAD_CONST", opcode=dis.opmap["LOAD_CONST"], argval=("key",), argrepr="('key',)",
        positions=call.positions, offset=call.offset - 2)
    as_on_313 = [i for i in instructions if i.offset < names.offset] + [names, call._replace(opname="CALL_KW")]
    assert checks._calls_another_name(as_on_313, len(as_on_313) - 1, ("max", "min", "amax", "amin"))
    at = instructions.index(call)
    assert checks._calls_another_name(instructions, at, ("max", "min", "amax", "amin"))  # (3.11 and 3.12)
    v = compile("_, idx = v.max(axis=1)", "<cell>", "exec")  # (the refused call: its callable is max)
    of_v = list(dis.get_instructions(v))
    assert not checks._calls_another_name(of_v, next(n for n, i in enumerate(of_v) if i.opname.startswith("CALL")),
                                          ("max",))
