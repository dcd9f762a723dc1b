"""The package's argument checks (``tinygrad_edu.checks``): a wrong type is a TypeError, a wrong value a ValueError,
and every message reads ``"{where}: {name} must be …, got …"``."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from tinygrad_edu import checks


@pytest.mark.parametrize("value", [True, False, np.bool_(True), np.bool_(False)])
def test_flag_takes_true_and_false_as_bool(value):
    result = checks.flag(value, "shuffle", "fit")
    assert result is bool(value)


@pytest.mark.parametrize("value", [1, 0, "yes", None, 1.0, np.array([True])])
def test_flag_refuses_anything_else_by_name(value):
    with pytest.raises(TypeError, match=re.escape(f"fit: shuffle must be True or False, got {type(value).__name__} ")):
        checks.flag(value, "shuffle", "fit")


@pytest.mark.parametrize("value", [0, 7, np.int64(7), np.uint8(3)])
def test_integer_takes_python_and_numpy_integers(value):
    result = checks.integer(value, "n", "f")
    assert result == value and type(result) is int


@pytest.mark.parametrize("value", [2.0, True, "3", None, np.float64(2.0), np.array(3), np.timedelta64(3)])
def test_integer_refuses_other_types(value):
    with pytest.raises(TypeError, match=re.escape(f"f: n must be an integer, got {type(value).__name__} ")):
        checks.integer(value, "n", "f", least=0)


@pytest.mark.parametrize("value, least, most, wanted", [
    (0, 1, None, ">= 1"), (-5, 0, None, ">= 0"), (18, 1, 17, "from 1 to 17"), (0, 1, 17, "from 1 to 17"),
    (6, None, 5, "<= 5")])
def test_integer_out_of_bounds_is_a_value_error(value, least, most, wanted):
    with pytest.raises(ValueError, match=f"^f: n must be an integer {wanted}, got {value}$"):
        checks.integer(value, "n", "f", least=least, most=most)
    assert checks.integer(least if least is not None else most, "n", "f", least=least, most=most) in (least, most)


@pytest.mark.parametrize("value, least, most, shown", [(10 ** 5000, None, 5, "about 10^5000"),
                                                       (10 ** 100, None, 5, "about 10^100"),
                                                       (-(10 ** 40), 0, None, "about -10^40"),
                                                       (10 ** 29, None, 5, str(10 ** 29))],
                         ids=["1e5000", "1e100", "-1e40", "1e29"])
def test_integer_out_of_bounds_names_an_int_too_long_to_print(value, least, most, shown):
    """A 5,000-digit int ended in Python's bare "Exceeds the limit (4300 digits) for integer string conversion"; a
    101-digit one was cut to its first 60 digits, reading as another number (10^59)."""
    with pytest.raises(ValueError, match=rf"^f: n must be an integer [<>]= -?\d+, got {re.escape(shown)}$"):
        checks.integer(value, "n", "f", least=least, most=most)


@pytest.mark.parametrize("bounds, value, wanted", [
    ({"least": 123456789}, 123456788, "be >= 123456789"),
    ({"above": 0, "below": 1e-7}, 2e-7, r"lie in \(0, 1e-07\)"),
    ({"most": 0.30000000000000004}, 0.31, r"be <= 0\.30000000000000004"),
    ({"least": -1.5e20}, -2e20, r"be >= -1\.5e\+20"),
])
def test_number_bounds_are_written_in_full(bounds, value, wanted):
    """A bound written with 6 digits ("must be >= 1.23457e+08, got 123456788.0") seemed met by the value refused."""
    with pytest.raises(ValueError, match=f"^f: x must {wanted}, got {re.escape(repr(float(value)))}$"):
        checks.number(value, "x", "f", **bounds)

@pytest.mark.parametrize("value", [0, -3, 2.5, np.float32(0.25), np.int64(4), 1e308])
def test_number_takes_finite_real_numbers_as_float(value):
    result = checks.number(value, "x", "f")
    assert result == float(value) and type(result) is float


@pytest.mark.parametrize("value", ["1", None, True, np.bool_(False), [1.0], np.array(1.0), 1j, np.timedelta64(1)])
def test_number_refuses_other_types(value):
    with pytest.raises(TypeError, match=re.escape(f"f: x must be a number, got {type(value).__name__} ")):
        checks.number(value, "x", "f")


@pytest.mark.parametrize("value, shown", [(math.nan, "nan"), (math.inf, "inf"), (-np.inf, "-inf")])
def test_number_must_be_finite(value, shown):
    with pytest.raises(ValueError, match=f"^f: x must be finite, got {shown}$"):
        checks.number(value, "x", "f", least=0)


@pytest.mark.parametrize("value", [10 ** 400, -10 ** 400, 10 ** 5000], ids=["1e400", "-1e400", "1e5000"])
def test_an_int_too_large_for_a_float_is_named_as_such_not_as_inf(value):
    """It said "must be finite, got inf" of a finite int (and a 5000-digit int must not hit str()'s digit limit)."""
    with pytest.raises(ValueError, match=r"^f: x must be at most 1\.798e\+308 in size, got an int of about 10\^\d+$"):
        checks.number(value, "x", "f", least=0)


@pytest.mark.parametrize("bounds, inside, outside, wanted", [
    ({"above": 0}, [1e-300, 5], [0, -1], "be > 0"),
    ({"least": 0}, [0, 5], [-1e-300], "be >= 0"),
    ({"below": 1}, [0.999, -5], [1, 2], "be < 1"),
    ({"most": 1}, [1, -5], [1.0001], "be <= 1"),
    ({"above": 0, "below": 1}, [0.5], [0, 1], r"lie in \(0, 1\)"),
    ({"least": 0, "below": 1}, [0, 0.5], [1, -0.1], r"lie in \[0, 1\)"),
    ({"above": 0, "most": 86400}, [86400], [0, 86400.5], r"lie in \(0, 86400\]"),
])
def test_number_bounds_open_and_closed(bounds, inside, outside, wanted):
    for value in inside:
        assert checks.number(value, "x", "f", **bounds) == value
    for value in outside:
        with pytest.raises(ValueError, match=f"^f: x must {wanted}, got {re.escape(repr(float(value)))}$"):
            checks.number(value, "x", "f", **bounds)


def test_numbers_takes_a_sequence_of_finite_numbers_as_a_tuple_of_floats():
    assert checks.numbers([0, 1.5], "kinks", "OpSpec") == (0.0, 1.5)
    assert checks.numbers(np.array([-1.0, 2.0]), "avoid", "arrays") == (-1.0, 2.0)
    assert checks.numbers((), "avoid", "arrays") == ()


@pytest.mark.parametrize("value, error, words", [
    (0.5, TypeError, "avoid must be a sequence of numbers, e.g. avoid=(0.5,), got float 0.5"),
    ("0", TypeError, "avoid must be a sequence of numbers, e.g. avoid=(0.0,), got str '0'"),
    (np.zeros((2, 2)), TypeError, "avoid must be a sequence of numbers, e.g. avoid=(0.0,), got ndarray"),
    (b"\x00", TypeError, "avoid must be a sequence of numbers, e.g. avoid=(0.0,), got bytes b'\\x00'"),  # not (0.0,)
    (bytearray(b"0"), TypeError, "avoid must be a sequence of numbers, e.g. avoid=(0.0,), got bytearray"),
    (("a",), TypeError, "avoid[0] must be a number, got str 'a'"),
    ((0.0, math.inf), ValueError, "avoid[1] must be finite, got inf"),
])
def test_numbers_names_the_sequence_or_the_element_at_fault(value, error, words):
    with pytest.raises(error, match=rf"^arrays: {re.escape(words)}"):
        checks.numbers(value, "avoid", "arrays")


def test_real_array_takes_real_numbers_as_they_are_and_names_the_rest():
    given = np.arange(6.0).reshape(2, 3)
    assert checks.real_array(given, "x", "f") is given                  # an array of real numbers is not copied
    assert checks.real_array([[True, False]], "x", "f").dtype == bool
    with pytest.raises(ValueError, match=r"^f: x is not a rectangular array \(ragged nested lists\?\)$"):
        checks.real_array([[1], [1, 2]], "x", "f")
    wrongs = (([1j], "complex128 (list)"), ("3", "<U1 (str)"), (None, "object (NoneType)"))
    for wrong, kind in wrongs:
        with pytest.raises(TypeError, match=f"^f: x has dtype {re.escape(kind)}; give real numbers$"):
            checks.real_array(wrong, "x", "f")


def test_real_array_names_a_list_of_values_instead_of_leaking_the_values_refusal():
    from tinygrad_edu import Value

    with pytest.raises(TypeError, match=r"^f: x must be real numbers, got list \[Value.*a Value is not converted"):
        checks.real_array([Value(1.0), Value(2.0)], "x", "f")


def test_real_array_refuses_true_and_false_only_when_asked():
    assert checks.real_array([True], "x", "f").dtype == bool
    assert checks.real_array([1, 2], "x", "f", bools=False).dtype.kind == "i"  # ints stay ints
    for wrong, kind in ((True, "bool (bool)"), ([True, False], "bool (list)")):
        with pytest.raises(TypeError, match=f"^f: x has dtype {re.escape(kind)}; give real numbers$"):
            checks.real_array(wrong, "x", "f", bools=False)


@pytest.mark.parametrize("value", [1, 17, np.int64(4)])
def test_precision_takes_1_to_17_significant_digits(value):
    result = checks.precision(value, "draw_network")
    assert result == value and type(result) is int


@pytest.mark.parametrize("value, error, got", [(0, ValueError, "an integer from 1 to 17, got 0"),
                                               (18, ValueError, "an integer from 1 to 17, got 18"),
                                               (2.0, TypeError, "an integer, got float 2.0"),
                                               (True, TypeError, "an integer, got bool True")])
def test_precision_names_the_function_and_the_digits(value, error, got):
    with pytest.raises(error, match=re.escape(f"draw_network: precision (significant digits) must be {got}") + "$"):
        checks.precision(value, "draw_network")


def test_real_array_takes_ints_beyond_int64_as_floats_and_names_one_beyond_every_float() -> None:
    """numpy keeps such ints as objects: 'start has dtype object (int); give real numbers' said 10**400 is none."""
    from tinygrad_edu.calculus import stationary_point

    assert checks.real_array([1, 2**64], "x", "f").tolist() == [1.0, 2.0**64]
    with pytest.raises(ValueError, match=r"^stationary_point: start holds an integer too large for a float"):
        stationary_point(lambda x: (x * x).sum(), 10**400)
