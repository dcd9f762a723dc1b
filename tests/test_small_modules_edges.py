"""Edges of the small shared modules (``checks``, ``seeds``, ``notation``) that the other tests leave open: the
cut-offs in error messages, numpy scalars, the one rule for seeds, and the notation's superscripts and digits."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tinygrad_edu import checks, nn, seeds
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.losses import squared_error
from tinygrad_edu.notation import LAYER_LABEL, format_number, pretty, summary


# --- checks --------------------------------------------------------------------------------------------------------
def test_a_long_value_is_cut_to_60_characters_of_its_repr_in_the_message():
    """An error message shows the value, not a page of it."""
    value = "x" * 200
    with pytest.raises(TypeError) as error:
        checks.flag(value, "shuffle", "fit")
    assert str(error.value) == "fit: shuffle must be True or False, got str '" + "x" * 59


@pytest.mark.parametrize("bound, shown", [(10 ** 16 - 2, "9999999999999998"), (5 * 10 ** 16, "5e+16")])
def test_a_bound_is_written_as_an_int_below_1e16_and_as_a_float_above(bound, shown):
    """Below 1e16 every integer-valued float is an int exactly, so its digits are the bound; above, float's repr."""
    with pytest.raises(ValueError, match=f"^f: x must be >= {re.escape(shown)}, got 0\\.0$"):
        checks.number(0, "x", "f", least=bound)


@pytest.mark.parametrize("value, shown", [(10 ** 30 - 1, "9" * 30), (10 ** 30, "about 10^30")])
def test_an_int_is_shown_in_full_up_to_30_digits(value, shown):
    with pytest.raises(ValueError, match=f"^f: n must be an integer <= 5, got {re.escape(shown)}$"):
        checks.integer(value, "n", "f", most=5)


@pytest.mark.parametrize("value", [np.int64(0), np.uint8(0)])
def test_a_numpy_integer_out_of_bounds_is_shown_as_its_digits(value):
    """Not as numpy 2's repr ``np.int64(0)``: the message reads as the number the user wrote."""
    with pytest.raises(ValueError, match=r"^f: n must be an integer >= 1, got 0$"):
        checks.integer(value, "n", "f", least=1)


def test_numbers_refuses_a_0_d_array_as_a_single_number():
    with pytest.raises(TypeError, match=r"^arrays: avoid must be a sequence of numbers, e\.g\. avoid=\(0\.0,\), got "
                                        r"ndarray array\(0\.5\)$"):
        checks.numbers(np.array(0.5), "avoid", "arrays")


def test_numbers_suggests_a_numpy_scalar_inside_a_tuple():
    value = np.float32(0.5)
    with pytest.raises(TypeError, match=re.escape(f"avoid must be a sequence of numbers, e.g. avoid=({value!r},)")):
        checks.numbers(value, "avoid", "arrays")


def test_real_array_takes_unsigned_ints_even_without_bools():
    given = np.array([1, 2], dtype=np.uint8)
    assert checks.real_array(given, "x", "f", bools=False) is given


def test_pytorch_keywords_leaves_other_type_errors_as_they_are():
    """Only a failed call that used an advised keyword is rewritten; any other TypeError is the function's own."""

    @checks.pytorch_keywords(dim="it is called axis= here")
    def total(x, axis=None):
        if isinstance(x, str):
            raise TypeError("total: x must be numbers")
        return sum(x)

    assert total([1, 2], axis=0) == 3
    with pytest.raises(TypeError, match=r"^total: x must be numbers$"):
        total("12", axis=0)
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'keepdims'"):
        total([1, 2], keepdims=True)
    with pytest.raises(TypeError, match=r"^total: there is no argument dim= \(another library's name\); it is called "
                                        r"axis= here$"):
        total([1, 2], dim=0)


# --- seeds ---------------------------------------------------------------------------------------------------------
def test_a_generator_is_used_as_it_is_so_each_use_continues_it():
    rng = np.random.default_rng(3)
    assert seeds.generator(rng, "f") is rng


def test_an_int_seed_is_numpys_default_rng_of_that_seed():
    """The same numbers as ``np.random.default_rng(seed)``, so a result can be rebuilt outside the package."""
    np.testing.assert_array_equal(seeds.generator(5, "f").random(4), np.random.default_rng(5).random(4))
    np.testing.assert_array_equal(seeds.generator(np.uint8(0), "f").random(4), np.random.default_rng(0).random(4))


@pytest.mark.parametrize("seed", [True, np.bool_(False), 1.0])
def test_a_bool_or_a_float_is_no_seed(seed):
    with pytest.raises(TypeError, match=rf"^f: the seed must be an int >= 0, a numpy Generator or None, got "
                                        rf"{type(seed).__name__}$"):
        seeds.generator(seed, "f")


# --- notation ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("label, parts", [("W^12", ("W", "12")), ("α^2", ("α", "2")), ("b", ("b", None))])
def test_the_layer_label_pattern_reads_every_layer_symbol_and_index(label, parts):
    assert LAYER_LABEL.match(label).groups() == parts


@pytest.mark.parametrize("label, expected", [("x^−1", "x⁻¹"), ("W^(L−1)", "Wᴸ⁻¹"), ("W^L", "Wᴸ"),
                                             ("W^(L-12)", "Wᴸ⁻¹²"), ("x^−23", "x⁻²³")])
def test_pretty_takes_the_minus_sign_and_l_as_well_as_digits(label, expected):
    """U+2212 (the minus a formula is typeset with) is a minus as much as the hyphen is."""
    assert pretty(label) == expected


def test_pretty_names_a_label_that_is_not_a_str():
    with pytest.raises(TypeError, match=r"^pretty: label must be a str, got int$"):
        pretty(2)


@pytest.mark.parametrize("x", [True, np.bool_(True), np.complex128(1.0), "1", None])
def test_format_number_refuses_what_is_not_a_real_number(x):
    with pytest.raises(TypeError, match=rf"^format_number: x must be a real number, got {type(x).__name__} "):
        format_number(x)


@pytest.mark.parametrize("precision, expected", [(0, "0.1"), (1, "0.1"), (17, "0.10000000000000001")])
def test_format_number_takes_0_to_17_digits_as_pythons_format_does(precision, expected):
    """0 shows one digit, as ``f"{0.1:.0g}"`` does; 17 digits show the float64 nearest 0.1 exactly enough."""
    assert format_number(0.1, precision) == expected


def test_summary_of_nothing_one_element_and_an_empty_array():
    assert summary(None) == "–"  # an en dash: no gradient
    assert summary([2.5]) == "2.5" and summary(np.array([[-3.0]])) == "-3"  # one number, whatever the shape
    assert summary(np.zeros((0, 2))) == "empty"


def test_the_mean_of_overflowing_numbers_and_one_infinity_is_that_infinity():
    """(1e308 + 1e308 − inf) / 3 is −inf, but the sum overflowed to +inf before −inf was added, giving NaN (the same
    numbers in the order [−inf, 1e308, 1e308] gave −inf); NaN stays for NaN and for both infinities."""
    assert summary([1e308, 1e308, -np.inf]) == "min -inf · mean -inf · max 1e+308"
    assert summary([1e308, 1e308, np.inf]) == "min 1e+308 · mean inf · max inf"
    assert "mean nan" in summary([np.inf, -np.inf]) and "mean nan" in summary([1.0, np.nan])


# --- dependency_tree ---------------------------------------------------------------------------------------------
def _chain_tree():
    net = nn.Network(nn.Layer(1, 1, "sigmoid", rng=0), nn.Layer(1, 1, "sigmoid", rng=1))
    return dependency_tree(squared_error(net(np.array([0.5])), np.array([0.25])))


def test_chain_lines_checks_its_precision_by_its_own_name():
    """precision=0 was taken (the drawings take 1 to 17 digits) and a str was blamed on format_number."""
    tree = _chain_tree()
    with pytest.raises(ValueError, match=r"^DependencyTree\.chain_lines: precision \(significant digits\) must be an "
                                         r"integer from 1 to 17, got 0$"):
        tree.chain_lines("W^1", precision=0)
    with pytest.raises(TypeError, match=r"^DependencyTree\.chain_lines: precision \(significant digits\) must be an "
                                        r"integer, got str 'x'$"):
        tree.chain_lines("W^1", precision="x")


@pytest.mark.parametrize("method", ["path", "chain_rule", "chain_lines"])
def test_a_tree_names_a_node_name_that_is_not_a_str(method):
    """A list was Python's bare "unhashable type: 'list'"; a str that is no node stays a KeyError listing them."""
    tree = _chain_tree()
    with pytest.raises(TypeError, match=rf"^DependencyTree\.{method}: name must be a node's name \(a str such as "
                                        r"'W\^1'\), got list \['W\^1'\]$"):
        getattr(tree, method)(["W^1"])
    with pytest.raises(KeyError, match=rf"DependencyTree\.{method}: no node named 'W'; nodes are \['C', 'W\^1'"):
        getattr(tree, method)("W")
