"""Edges found by mutation testing of ``checks.py`` (second pass, after tests/test_nn_checks_mutants.py): each test
pins a behaviour that a hand-made mutant (a bound tested for truth instead of against None, a dropped ``grouped``, a
rounded-up power of ten, a narrower idea of a sequence, a dropped ``from None``, the looser of two bounds named)
changed while the other tests passed.

71 mutants of ``tinygrad_edu/checks.py``; 58 killed before these tests, 70 after.  (Screened with tests/test_checks.py,
test_nn_checks_mutants.py, test_small_modules_edges.py, test_functional_misuse.py and ``--doctest-modules
tinygrad_edu/checks.py``; the survivors were also run against test_api_misuse.py and test_public_names.py, which
killed two: ``__dir__`` listing ``globals()`` and ``readable_int`` dropped from ``__all__``.)

Equivalent mutant, left without a test:

- ``pytorch_keywords`` catching ``Exception`` rather than ``TypeError``: an advised keyword that is not a parameter
  fails the call while Python binds the arguments, with a TypeError, before the body runs; so for the functions the
  decorator is for (no ``**kwargs``, no parameter named like the advice) no other exception ever meets the handler.

One defect, fixed with its test: ``number`` given both bounds on one side (``least`` and ``above``, or ``most`` and
``below``) named ``least`` (``most``) even when the open bound was the one refusing the value, so ``number(0, …,
least=0, above=0)`` read "must be >= 0, got 0.0".  No caller gives both today.
"""

from __future__ import annotations

import pytest

from tinygrad_edu import checks


def test_readable_int_groups_digits_in_threes_when_asked():
    """The docstring's ``1,000``: commas every three digits (the sign kept), and plain digits otherwise."""
    assert checks.readable_int(1234567, grouped=True) == "1,234,567"
    assert checks.readable_int(-1000, grouped=True) == "-1,000"
    assert checks.readable_int(999, grouped=True) == "999"
    assert checks.readable_int(1234567) == "1234567"


def test_readable_int_gives_the_power_of_ten_below_not_above():
    """2·10^40 is about 10^40 (its log10 is 40.3), not 10^41."""
    assert checks.readable_int(2 * 10 ** 40) == "about 10^40"
    assert checks.readable_int(-(9 * 10 ** 30)) == "about -10^30"


def test_a_bound_of_zero_is_a_bound():
    """``most=0`` and ``below=0`` refuse a positive value (a bound tested for truth would let 0 mean "no bound")."""
    with pytest.raises(ValueError, match=r"^f: x must be < 0, got 0\.0$"):
        checks.number(0, "x", "f", below=0)
    with pytest.raises(ValueError, match=r"^f: x must be <= 0, got 1\.0$"):
        checks.number(1, "x", "f", most=0)
    with pytest.raises(ValueError, match=r"^f: n must be an integer <= 0, got 1$"):
        checks.integer(1, "n", "f", most=0)
    assert checks.number(-0.5, "x", "f", below=0) == -0.5 and checks.integer(0, "n", "f", most=0) == 0


def test_numbers_takes_any_sequence_such_as_a_range():
    """"a sequence of finite real numbers": a ``range`` is one, not only lists, tuples and arrays."""
    assert checks.numbers(range(3), "kinks", "OpSpec") == (0.0, 1.0, 2.0)


def test_the_message_names_the_tighter_of_two_bounds_on_one_side():
    """With ``least=1`` and ``above=0`` (or ``most=0`` and ``below=1``), 0.5 is refused by the closed bound, and the
    message says so (not "must be > 0, got 0.5")."""
    with pytest.raises(ValueError, match=r"^f: x must be >= 1, got 0\.5$"):
        checks.number(0.5, "x", "f", least=1, above=0)
    with pytest.raises(ValueError, match=r"^f: x must be <= 0, got 0\.5$"):
        checks.number(0.5, "x", "f", most=0, below=1)


def test_the_message_names_the_open_bound_when_it_is_the_one_refusing():
    """0 with ``least=0, above=0`` is refused by ``above``: "must be >= 0, got 0.0" contradicts itself."""
    with pytest.raises(ValueError, match=r"^f: x must be > 0, got 0\.0$"):
        checks.number(0, "x", "f", least=0, above=0)
    with pytest.raises(ValueError, match=r"^f: x must be < 1, got 1\.0$"):
        checks.number(1, "x", "f", most=1, below=1)


def _replaces_the_error(raised: pytest.ExceptionInfo[BaseException]) -> bool:
    """The error is raised ``from None``: the traceback shows this message alone, not the one it replaces first."""
    return raised.value.__suppress_context__ and raised.value.__cause__ is None


def test_real_arrays_messages_replace_numpys_and_the_values_refusals():
    """Ragged lists and a list of Values: one error, ours, not "During handling of the above exception…"."""
    from tinygrad_edu import Value

    with pytest.raises(ValueError, match="not a rectangular array") as ragged:
        checks.real_array([[1], [1, 2]], "x", "f")
    assert _replaces_the_error(ragged)
    with pytest.raises(TypeError, match="must be real numbers") as values:
        checks.real_array([Value(1.0)], "x", "f")
    assert _replaces_the_error(values)


def test_an_int_too_large_for_a_float_replaces_pythons_overflow_error():
    """``float(10**400)``'s OverflowError is not shown above the message that names the int."""
    with pytest.raises(ValueError, match="in size, got an int of about 10\\^400$") as raised:
        checks.number(10 ** 400, "x", "f")
    assert _replaces_the_error(raised)


def test_pytorch_keywords_advice_replaces_pythons_unexpected_keyword_error():
    """The advice is shown alone, not after Python's bare "unexpected keyword argument 'dim'"."""

    @checks.pytorch_keywords(dim="it is called axis= here")
    def total(x, axis=None):
        return sum(x)

    with pytest.raises(TypeError, match=r"^total: there is no argument dim= .*axis= here$") as raised:
        total([1, 2], dim=0)
    assert _replaces_the_error(raised)
