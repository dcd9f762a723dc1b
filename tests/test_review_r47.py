"""Review of round 47's change (2d2dd32..): what the review mended, each with a test that fails without it."""
from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest

from tinygrad_edu.data import train_test_split


def _splits() -> tuple:
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10.0)
    return train_test_split(x, y, seed=0), train_test_split(x, y, seed=1)


def test_four_names_from_a_chain_of_two_splits_are_the_four_datasets() -> None:
    """itertools.chain takes the splits' iterators while its own is unpacked: the frame is at UNPACK_SEQUENCE 4,
    but the four items are two splits' two Datasets each, no scikit-learn slip (it was refused)."""
    first, second = _splits()
    train_a, test_a, train_b, test_b = itertools.chain(first, second)
    assert train_a is first[0] and test_a is first[1] and train_b is second[0] and test_b is second[1]


def test_four_names_of_one_split_are_still_refused_with_advice() -> None:
    x, y = np.arange(20.0).reshape(10, 2), np.arange(10.0)
    with pytest.raises(ValueError, match=r"\(X_train, y_train\), \(X_test, y_test\) = train_test_split"):
        x_train, x_test, y_train, y_test = train_test_split(x, y)
    split, _ = _splits()
    with pytest.raises(ValueError, match="scikit-learn's four arrays"):
        x_train, x_test, y_train, y_test = split
    (x_train, y_train), (x_test, y_test) = train_test_split(x, y)  # the advice, pasted, runs
    assert x_train.shape == (8, 2) and y_test.shape == (2,)


def test_a_recorded_vjp_failing_on_a_constant_input_is_told_the_constant_is_an_array() -> None:
    """Since this round a recorded pass hands a constant input as its array: "runs it on Values" alone sent the
    reader looking for a Value where b.tanh() met an ndarray."""
    from tinygrad_edu import Op, Value

    op = Op("scaled_by_tanh", lambda a, b: a * np.tanh(b), [lambda g, out, a, b: g * b.tanh(), lambda g, out, a, b: g])
    x = Value(np.array([0.5, 1.0]))
    with pytest.raises(TypeError, match=r"scaled_by_tanh: .* on Values, a constant input as its array, as an "
                                        r"ordinary pass gives it, and it failed \(AttributeError"):
        (op(x, np.array([3.0, 1.0])) ** 2).sum().backward(create_graph=True)


def test_an_extra_op_of_three_dimensional_inputs_is_not_refused_as_unusable() -> None:
    """expressions() draws inputs up to 3-D; the round's probe tried shapes up to 2-D only, so an op that needs a
    third axis (swapping axes 0 and 2) was a ValueError "no graph could use it", yet graphs do use it."""
    from hypothesis import HealthCheck, given, settings

    from tinygrad_edu import Op
    from tinygrad_edu.testing.expressions import expressions

    swap = Op("swap02", lambda x: np.swapaxes(x, 0, 2), lambda g, out, x: np.swapaxes(g, 0, 2))
    programs: list[str] = []

    @settings(max_examples=25, suppress_health_check=list(HealthCheck), deadline=None, database=None)
    @given(expressions(extra_ops=[swap], only_extra=True))
    def run(program: object) -> None:
        programs.append(str(program))

    run()
    assert any("swap02(" in p for p in programs)


def test_the_advice_for_a_nested_list_of_fractions_works_when_pasted() -> None:
    """Value([float(x) for x in numbers]), the round's advice, raises "float() argument must be ... not 'list'" on
    the rows of a matrix of Fractions; np.array(numbers, dtype=float) converts lists of any depth and arrays."""
    import fractions

    from tinygrad_edu import Value

    numbers = [[fractions.Fraction(1, 2)], [fractions.Fraction(1, 3)]]
    with pytest.raises(TypeError, match=r"np\.array\(numbers, dtype=float\)") as caught:
        Value(numbers)
    assert "for x in numbers" not in str(caught.value)
    value = Value(np.array(numbers, dtype=float))  # the advice, pasted
    np.testing.assert_array_equal(value.data, [[0.5], [1 / 3]])


def test_a_wrong_saved_blames_the_users_op_not_the_packages_sigmoid() -> None:
    """check_gradients' new note on a wrong saved= named every Op with saving= in f, the package's sigmoid too
    (whose saved is right, and tested): the reader was sent to look at it."""
    from tinygrad_edu import Op
    from tinygrad_edu.testing import check_gradients

    def saving(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.exp(x), 2 * np.exp(x)  # saved is twice the slope

    def vjp(g, out, x, saved=None):
        return g * (saved if saved is not None else x.exp())

    my_exp = Op("my_exp", np.exp, vjp, saving=saving)
    with pytest.raises(AssertionError, match="saving=") as caught:
        check_gradients(lambda x: my_exp(x).sigmoid().sum(), np.array([0.1, 0.3]))
    note = str(caught.value).rsplit("\n", 1)[-1]
    assert "in f's Op with saving= ('my_exp')" in note and "sigmoid" not in note


class _ScaleVjp:
    """A vjp as a callable object whose op's params come as a keyword: __call__(self, g, out, x, *, alpha)."""

    def __call__(self, g, out, x, *, alpha):
        return g * alpha


def _vjp_of_scale(g, out, x, alpha, extra):
    return g * alpha * extra


@pytest.mark.parametrize("vjp", [_ScaleVjp(), functools.partial(_vjp_of_scale, extra=1.0)],
                         ids=["object with a keyword-only param", "partial of a function taking the param"])
def test_a_callable_object_or_partial_vjp_taking_the_ops_params_is_accepted(vjp: object) -> None:
    """The round's check bound (g, out, x) to the signature with bind(), which also demands the params the call
    gives by keyword (alpha=): a right vjp was refused as taking "fewer" arguments.  d(alpha·x)/dx = alpha."""
    from tinygrad_edu import Op, Value

    scale = Op("scale", lambda x, alpha: x * alpha, vjp)
    x = Value(np.array([1.0, -2.0]))
    scale(x, alpha=3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_readme_says_a_recorded_pass_hands_a_constant_input_as_its_array() -> None:
    """"run the vjp on Values" was made untrue for constant inputs this round: a vjp calling a Value's method on
    one fails (as at first order), shown by the test above; the README says what the vjp is given."""
    import re
    from pathlib import Path

    readme = re.sub(r"\s+", " ", (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8"))
    assert ("`create_graph=True`) run the vjp on Values (a constant input stays its array, as at first order)"
            in readme)


@pytest.mark.parametrize("error", [ValueError, KeyError])
def test_a_vjp_that_needs_its_saved_still_gets_the_table_when_its_saved_is_wrong(error: type) -> None:
    """The wrong-saved= note runs a recorded pass, which gives no saved=; a vjp that cannot do without it raised
    there, and its error (a ValueError naming the op, a bare KeyError) replaced check_gradients' own failure."""
    from tinygrad_edu import Op
    from tinygrad_edu.testing import check_gradients

    def vjp(g, out, x, saved=None):
        if saved is None:
            raise error("this vjp needs saved=")
        return g * saved

    my_exp = Op("my_exp", np.exp, vjp, saving=lambda x: (np.exp(x), 2 * np.exp(x)))  # twice the slope
    with pytest.raises(AssertionError, match=r"2 of 2 gradient elements disagree") as caught:
        check_gradients(lambda x: my_exp(x).sum(), np.array([0.1, 0.3]))
    assert "abs error" in str(caught.value)
