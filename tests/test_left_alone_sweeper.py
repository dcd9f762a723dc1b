"""Small known problems that earlier passes noted and left alone, checked one by one: ``python -m
tinygrad_edu.demo``, ``%``/``//``/``divmod`` on Values, indices beyond int64, numpy's mean of an object array of
Values, and a custom vjp that writes into its incoming gradient."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Op, Value, no_grad

ROOT = Path(__file__).resolve().parents[1]


def _run(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python ARGV`` in a process of its own, with this checkout's package."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, cwd=cwd, env=env, timeout=60)


# --- (1) python -m tinygrad_edu.demo ---------------------------------------------------------------------------------
def test_python_m_tinygrad_edu_demo_is_the_demo_command(tmp_path: Path) -> None:
    as_module = _run("-m", "tinygrad_edu.demo", "--help", cwd=tmp_path)
    as_command = _run("-m", "tinygrad_edu", "demo", "--help", cwd=tmp_path)
    assert as_command.returncode == 0 and "--quick" in as_command.stdout
    assert (as_module.returncode, as_module.stdout, as_module.stderr) == (0, as_command.stdout, "")


def test_python_m_tinygrad_edu_demo_refuses_a_wrong_option_as_the_command_does(tmp_path: Path) -> None:
    as_module = _run("-m", "tinygrad_edu.demo", "--no-such-option", cwd=tmp_path)
    assert as_module.returncode == 2
    assert "--no-such-option" in as_module.stderr
    assert not list(tmp_path.iterdir())  # nothing trained, nothing written


def test_python_m_tinygrad_edu_cli_is_the_command_line(tmp_path: Path) -> None:
    as_module = _run("-m", "tinygrad_edu.cli", "--help", cwd=tmp_path)
    as_package = _run("-m", "tinygrad_edu", "--help", cwd=tmp_path)
    assert as_module.returncode == 0 and "demo" in as_module.stdout
    assert as_module.stdout == as_package.stdout


# --- (2) %, // and divmod ---------------------------------------------------------------------------------------------
V = Value([1.5, -2.0, 7.25])


def _floor_divided_in_place(v: Value) -> Value:
    v //= 2
    return v


DIVISIONS = {"v % 2": (lambda: V % 2, "%"), "2 % v": (lambda: 2 % V, "%"),
             "v // 2": (lambda: V // 2, "//"), "2.0 // v": (lambda: 2.0 // V, "//"),
             "divmod(v, 2)": (lambda: divmod(V, 2), "divmod"), "divmod(3, v)": (lambda: divmod(3, V), "divmod"),
             "v % w": (lambda: V % Value(2.0), "%"), "v //= 2": (lambda: _floor_divided_in_place(V), "//")}


@pytest.mark.parametrize("name", list(DIVISIONS))
def test_remainder_and_floor_division_are_refused_by_name_with_what_to_write(name: str) -> None:
    call, symbol = DIVISIONS[name]
    with pytest.raises(TypeError) as caught:
        call()
    message = str(caught.value)
    assert message.startswith(f"{symbol}: ")
    assert "not supported on Values" in message and "(3,)" in message and "write " in message
    assert "unsupported operand" not in message


def test_the_remainder_written_out_has_numpys_numbers_and_derivative_one() -> None:
    x = Value(np.array([1.5, -2.0, 7.25, -0.5]))
    m = 2.0
    remainder = x - m * np.floor(x.data / m)  # what the refusal of x % m says to write
    np.testing.assert_array_equal(remainder.data, np.mod(x.data, m))
    remainder.backward(np.ones(4))
    np.testing.assert_array_equal(x.grad, np.ones(4))  # d(x mod m)/dx = 1 between the jumps


def test_numpys_remainder_and_floor_division_say_what_to_write() -> None:
    for call in (lambda: np.mod(V, 2), lambda: np.floor_divide(V, 2), lambda: np.divmod(V, 2)):
        with pytest.raises(TypeError, match=r"^np\.\w+: not supported on Values .*; write .*np\.(floor|mod)"):
            call()


# --- (3) indices beyond int64 -----------------------------------------------------------------------------------------
BEYOND = {"2**70": 2**70, "-2**70": -(2**70), "2**63": 2**63, "[2**70]": [2**70], "[0, 2**70]": [0, 2**70],
          "(0, 2**64)": (0, 2**64), "uint64 max": np.uint64(2**64 - 1), "(..., 2**70)": (Ellipsis, 2**70)}


@pytest.mark.parametrize("name", list(BEYOND))
def test_an_index_beyond_int64_is_out_of_bounds(name: str) -> None:
    v = Value(np.arange(6.0).reshape(2, 3))
    with pytest.raises(IndexError, match=r"out of bounds.*\(2, 3\)"):
        v[BEYOND[name]]


def test_index_assignment_beyond_int64_is_out_of_bounds_and_changes_nothing() -> None:
    w = Value([1.0, 2.0])
    with no_grad(), pytest.raises(IndexError, match="index 1180591620717411303424 is out of bounds"):
        w[2**70] = 5.0
    np.testing.assert_array_equal(w.data, [1.0, 2.0])


@given(st.integers(min_value=2**63, max_value=2**200) | st.integers(min_value=-(2**200), max_value=-(2**63) - 1))
def test_any_index_beyond_int64_names_itself_as_out_of_bounds(index: int) -> None:
    with pytest.raises(IndexError, match=r"^index: index (-?\d+|about -?10\^\d+) is out of bounds") as caught:
        Value([1.0, 2.0, 3.0])[index]
    written = str(index) if abs(index) < 10**30 else f"about {'-' if index < 0 else ''}10^{len(str(abs(index))) - 1}"
    assert f"index {written} is out of bounds" in str(caught.value)


def test_indices_within_int64_still_index_and_end_iteration() -> None:
    v = Value([1.0, 2.0, 3.0])
    with pytest.raises(IndexError, match="out of bounds"):
        v[2**63 - 1]
    assert [x.item() for x in v] == [1.0, 2.0, 3.0]  # iteration ends on the IndexError of v[3]
    assert v[1:2**70].data.tolist() == [2.0, 3.0]  # a slice's bounds are clipped, as numpy's are
    picked = v[np.array([2, 0, 2])]
    picked.backward(np.ones(3))
    np.testing.assert_array_equal(v.grad, [1.0, 0.0, 2.0])


# --- (5) numpy's mean of an object array of Values -------------------------------------------------------------------
def _object_array(numbers: list[float]) -> tuple[list[Value], np.ndarray]:
    values = [Value(x) for x in numbers]
    array = np.empty(len(values), dtype=object)
    for i, x in enumerate(values):
        array[i] = x  # (numpy stores the reference)
    return values, array


def test_numpys_sum_of_an_object_array_of_values_keeps_the_graph_and_the_mean_written_out_works() -> None:
    numbers = [1.0, 2.0, 4.0]
    values, a = _object_array(numbers)
    total = np.sum(a)
    assert isinstance(total, Value) and total.item() == sum(numbers)
    mean = sum(a) / len(a)  # the mean written out
    (total + mean * mean).backward()
    expected = 1.0 + 2 * np.mean(numbers) / len(numbers)  # d(Σx + x̄²)/dx_i = 1 + 2x̄/n
    np.testing.assert_allclose([x.grad for x in values], [expected] * 3, rtol=1e-12)


def test_numpys_mean_along_an_axis_of_an_object_array_keeps_each_gradient() -> None:
    values, a = _object_array([1.0, 2.0, 4.0, 8.0])
    means = np.mean(a.reshape(2, 2), axis=0)  # an object array of two Values: numpy divides them, no float()
    (means[0] * means[1]).backward()
    m0, m1 = (1.0 + 4.0) / 2, (2.0 + 8.0) / 2
    np.testing.assert_allclose([x.grad for x in values], [m1 / 2, m0 / 2, m1 / 2, m0 / 2], rtol=1e-12)


def test_a_single_number_still_converts_to_python_and_numpy_floats() -> None:
    v = Value(2.5)
    assert float(v) == 2.5 and np.float64(v) == 2.5 and int(v) == 2
    with pytest.raises(TypeError, match="not converted to a numpy array implicitly"):
        np.asarray(Value([1.0, 2.0]))


# --- (6) a vjp that writes into g ------------------------------------------------------------------------------------
def _doubling_in_place(g, out, x):
    g *= 2 * x
    return g


def test_a_vjp_writing_into_a_read_only_g_says_vjps_must_not_write_into_their_arguments() -> None:
    square = Op("my_square", lambda x: x ** 2, _doubling_in_place)
    x = Value([1.0, 2.0])
    cost = square(x).sum()  # sum's vjp hands on a read-only broadcast of its g
    with pytest.raises(ValueError, match=r"^my_square: its vjp raised ValueError: .*read-only; a vjp must not write "
                                         r"into its arguments \(g, "):
        cost.backward()
    assert x.grad is None


def test_a_vjp_that_computes_a_new_array_is_fine_where_the_in_place_one_failed() -> None:
    square = Op("my_square", lambda x: x ** 2, lambda g, out, x: g * 2 * x)
    x = Value([1.0, 2.0])
    square(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


# --- (4) joins: their gradients (their time is left alone) ------------------------------------------------------------
def test_stack_and_concatenate_of_many_values_give_each_its_own_gradient() -> None:
    xs = [Value(np.array([float(i), -float(i)])) for i in range(300)]
    for joined in (F.stack(xs), F.concatenate(xs)):
        for x in xs:
            x.zero_grad()
        (joined * joined).sum().backward()  # d(Σ x²)/dx = 2x
        for x in xs:
            np.testing.assert_array_equal(x.grad, 2 * x.data)
