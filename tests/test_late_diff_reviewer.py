"""A review of the latest round's changes (b3a7cd7..): the CLI's refusal of options before the command, the pickling
of GradientCheckError, the advice for np.take and np.rot90, and the list-as-axis check of the reductions; each
defect's test is marked xfail (strict), the guard tests pin what the round added and a user relies on."""

import copy
import pickle
import re

import numpy as np
import pytest

from tinygrad_edu import Value, cli, data, functional, losses, no_grad
from tinygrad_edu.ops import Op
from tinygrad_edu.testing import GradientCheckError, check_gradients
from tinygrad_edu.write_instead import numpy_advice

DATA = np.arange(12.0).reshape(3, 4) ** 1.5


def _advice(call) -> str:
    """The code after "(here: " in the TypeError ``call`` raises, up to the space before a remark in brackets."""
    with pytest.raises(TypeError) as raised:
        call()
    text = str(raised.value)
    code = text[text.index("(here: ") + len("(here: "):]
    return code.split(" (")[0].removesuffix(")")


def _run(code: str, v: Value) -> np.ndarray:
    return eval(code, {"np": np, "functional": functional}, {"v": v}).data  # noqa: S307 (the message's own code)


# --- defect: an abbreviation of the main parser's own option is refused ------------------------------------------

@pytest.mark.parametrize(("word", "shown"), [("--vers", "tinygrad-edu 0."), ("--hel", "usage: tinygrad-edu")])
def test_an_abbreviated_main_option_does_what_the_option_does(capsys, word, shown):
    assert cli.main([word]) == 0
    assert capsys.readouterr().out.startswith(shown)


def test_guard_a_command_option_before_no_command_still_names_its_commands(capsys):
    assert cli.main(["--quick"]) == 2
    assert "--quick is an option of tinygrad-edu demo" in capsys.readouterr().err


# --- defect: GradientCheckError's __reduce__ drops its notes and breaks subclasses ---------------------------------

class _NamedCheckError(GradientCheckError):
    """A subclass with its own arguments, as a test suite's helper may raise."""

    def __init__(self, name: str) -> None:
        super().__init__(f"the gradient of {name} is wrong", [np.ones(2)], [np.zeros(2)])
        self.name = name


@pytest.mark.parametrize("clone", [copy.copy, lambda e: pickle.loads(pickle.dumps(e))])
def test_a_subclass_of_gradient_check_error_copies_and_pickles(clone):
    error = _NamedCheckError("w")
    again = clone(error)
    assert type(again) is _NamedCheckError and str(again) == str(error) and again.name == "w"
    np.testing.assert_array_equal(again.analytic[0], error.analytic[0])


def test_a_pickled_gradient_check_error_keeps_its_notes():
    error = GradientCheckError("table", [np.ones(2)], [np.zeros(2)])
    error.__notes__ = ["Falsifying example: x=0.5"]  # (what add_note does, Python 3.11+; this runs on 3.10 too)
    again = pickle.loads(pickle.dumps(error))
    assert again.__notes__ == ["Falsifying example: x=0.5"]


def test_guard_a_real_check_failure_pickles_whole():
    """A failing check_gradients' error reaches a parent process with its message and gradients (the round's fix)."""
    op = Op("double", lambda x: 2 * x, lambda g, out, x: 3 * g)  # d(2x)/dx = 2, not 3
    with pytest.raises(GradientCheckError) as raised:
        check_gradients(op, np.array([0.5, -1.0]))
    again = pickle.loads(pickle.dumps(raised.value))
    assert str(again) == str(raised.value)
    np.testing.assert_array_equal(again.analytic[0], raised.value.analytic[0])
    np.testing.assert_allclose(again.analytic[0], 1.5 * again.numeric[0], rtol=1e-6)  # 3 against d(2x)/dx = 2


# --- defect: np.take(v, i, axis=0)'s advice is the flattening one ---------------------------------------------------

@pytest.mark.parametrize("call", [lambda v: np.take(v, [2, 0], axis=0), lambda v: np.take(v, [2, 0], 0)])
def test_np_take_along_axis_0_advice_gives_np_takes_numbers(call):
    v = Value(DATA)
    code = _advice(lambda: call(v))
    result = eval(code, {"np": np}, {"v": v, "indices": np.array([2, 0])}).data  # noqa: S307
    np.testing.assert_array_equal(result, np.take(DATA, [2, 0], axis=0))


# --- defect: np.rot90(v, k)'s advice is the quarter turn whatever k is ----------------------------------------------

@pytest.mark.parametrize("k", [2, 3, -1, 0])
def test_np_rot90_advice_gives_np_rot90s_numbers_for_every_k(k):
    v = Value(DATA)
    np.testing.assert_array_equal(_run(_advice(lambda: np.rot90(v, k)), v), np.rot90(DATA, k))
    np.testing.assert_array_equal(_run(_advice(lambda: np.rot90(v, k=k)), v), np.rot90(DATA, k=k))


def test_guard_np_rot90_advice_for_one_quarter_turn():
    v = Value(DATA)
    np.testing.assert_array_equal(_run(_advice(lambda: np.rot90(v)), v), np.rot90(DATA))


# --- defect: an array of axes is not caught as a list of them is ----------------------------------------------------

@pytest.mark.parametrize("reduction", ["sum", "mean", "max", "min"])
def test_an_array_of_axes_is_refused_with_the_tuple_to_write(reduction):
    v = Value(np.ones((2, 3, 4)))
    with pytest.raises(TypeError, match=rf"^{reduction}: axis must be an int or a tuple of ints, got the array "
                                        r"\[0, 1\]; over several axes, give them as a tuple: axis=\(0, 1\)$"):
        getattr(v, reduction)(axis=np.array([0, 1]))


@pytest.mark.parametrize("reduction", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize("axis", [(np.int64(0), np.int64(2)), np.int64(-1), np.array(1)])
def test_guard_numpy_ints_and_0d_arrays_as_axes_reduce_as_numpy_does(reduction, axis):
    data = np.arange(24.0).reshape(2, 3, 4) % 7
    v = Value(data, requires_grad=True)
    out = getattr(v, reduction)(axis=axis)
    np.testing.assert_array_equal(out.data, getattr(np, reduction)(data, axis=axis))
    check_gradients(lambda x: getattr(x, reduction)(axis=axis), data + np.linspace(0, 0.1, 24).reshape(2, 3, 4))


# --- guards: reversed() of a tensor, cross_entropy's reshape advice ------------------------------------------------

def test_guard_reversed_rows_carry_their_gradients():
    v = Value(DATA, requires_grad=True)
    rows = list(reversed(v))
    np.testing.assert_array_equal(np.stack([r.data for r in rows]), DATA[::-1])
    weights = np.array([1.0, -2.0, 0.5, 3.0])
    (rows[0] * weights).sum().backward()  # the last row's weighted sum: its gradient is the weights, on that row
    expected = np.zeros_like(DATA)
    expected[-1] = weights
    np.testing.assert_array_equal(v.grad, expected)


def test_guard_cross_entropy_reshape_advice_is_the_mean_over_positions():
    rng = np.random.default_rng(3)
    logits, labels = rng.normal(size=(2, 3, 5)), rng.integers(0, 5, size=(2, 3))
    with pytest.raises(ValueError) as raised:
        losses.cross_entropy(Value(logits), labels)
    code = re.search(r"take each position for a sample: (cross_entropy\(.*?\)\)) ", str(raised.value)).group(1)
    result = eval(code, {"cross_entropy": losses.cross_entropy}, {"logits": Value(logits), "labels": labels})  # noqa: S307
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = -np.take_along_axis(log_p, labels[..., None], -1).mean()
    np.testing.assert_allclose(result.data, expected, rtol=1e-12)
    one_hot = data.one_hot(labels.reshape(-1, 1), 5)  # (6, 1, 5): the advice flattens the labels first
    with pytest.raises(ValueError, match=r"data\.one_hot\(labels\.reshape\(-1\), classes=5\)"):
        losses.cross_entropy(Value(logits.reshape(-1, 5)), one_hot)

# --- the round 4a2e8b4..: in-place numpy functions refused by name, advice for numpy's functions without a
# derivative; the advice is code a student pastes in: it must do what numpy's call would have done -------
def _here(call) -> str:
    """The whole code after "(here: " in the TypeError ``call`` raises (up to its closing bracket)."""
    with pytest.raises(TypeError) as info:
        call()
    found = re.search(r"\(here: (.*?)\);", str(info.value)) or re.search(r"\(here: (.*)\)$", str(info.value))
    assert found, str(info.value)
    return found.group(1)


@pytest.mark.parametrize("shape", [(3, 2), (2, 2, 2)])
def test_fill_diagonal_advice_does_what_numpy_does(shape: tuple[int, ...]) -> None:
    _check_fill_diagonal_advice(shape)


@pytest.mark.parametrize("shape", [(2, 3), (3, 3)])
def test_fill_diagonal_advice_on_a_square_or_wide_matrix(shape: tuple[int, ...]) -> None:
    _check_fill_diagonal_advice(shape)


def _check_fill_diagonal_advice(shape: tuple[int, ...]) -> None:
    v = Value(np.zeros(shape))
    advice = _here(lambda: np.fill_diagonal(v, 7.0))
    expected = np.zeros(shape)
    np.fill_diagonal(expected, 7.0)
    with no_grad():
        exec(advice, {"np": np, "v": v, "value": 7.0})  # the advice as a student would paste it
    np.testing.assert_array_equal(v.data, expected)


def test_isclose_advice_writes_a_number_as_itself() -> None:
    v = Value(np.array([2.0, 2.5]))
    advice = _here(lambda: np.isclose(v, 2.0, rtol=1e-3))
    assert advice.startswith("np.isclose(v.data, 2.0, rtol=0.001)"), advice
    result = eval(advice.split(", on the numbers")[0], {"np": np, "v": v})
    np.testing.assert_array_equal(result, np.isclose(v.data, 2.0, rtol=1e-3))


# --- guards: advice this round added, followed to the letter, gives numpy's numbers --------------------------------
def test_put_and_putmask_advice_give_numpys_numbers() -> None:
    v, expected = Value(np.zeros((2, 3))), np.zeros((2, 3))
    np.put(expected, [1, 4], [7.0, 8.0])
    with no_grad():
        exec(_here(lambda: np.put(v, [1, 4], [7.0, 8.0])), {"np": np, "v": v, "indices": [1, 4],
                                                              "values": [7.0, 8.0]})
    np.testing.assert_array_equal(v.data, expected)
    w, mask = Value(np.arange(6.0)), np.arange(6) % 2 == 0
    expected = np.arange(6.0)
    np.putmask(expected, mask, -1.0)
    with no_grad():
        exec(_here(lambda: np.putmask(w, mask, -1.0)), {"np": np, "v": w, "mask": mask, "values": -1.0})
    np.testing.assert_array_equal(w.data, expected)


@pytest.mark.parametrize("name, axis", [("var", 1), ("std", 0), ("prod", 1)])
def test_keepdims_advice_keeps_numpys_shape_and_numbers(name: str, axis: int) -> None:
    data = np.array([[1.0, 2.0, 4.0], [3.0, 5.0, 0.5]])
    v = Value(data)
    advice = _here(lambda: getattr(np, name)(v, axis=axis, keepdims=True)).removesuffix(" for positive numbers")
    got = eval(advice, {"np": np, "v": v, "axis": axis})
    expected = getattr(np, name)(data, axis=axis, keepdims=True)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.data, expected, rtol=1e-12)


def test_argmax_advice_keeps_the_arguments() -> None:
    data = np.array([[0.1, 0.9], [0.8, 0.2]])
    advice = numpy_advice("np.argmax", "argmax", (data,), {"axis": 1})
    assert advice is not None
    call = advice.split(", on the numbers")[0]
    np.testing.assert_array_equal(eval(call, {"np": np, "v": Value(data)}), np.argmax(data, axis=1))
