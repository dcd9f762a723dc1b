"""A user who does exactly what the error messages say: trigger each piece of advice, copy the code it suggests,
run it, and compare with what the call it stands for (numpy's, PyTorch's) gives.

The tests of np.take, np.var/std/prod with an axis, np.dot of a number and an optimizer given a state_dict() are advice
that gave other numbers or another error when followed; the others are advice that is right, kept so.
"""

import pickle

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value, autodiff, functional, nn, optim

DATA = np.array([[1.0, 2.0, 4.0], [8.0, -3.0, 0.5]])


def _code(message: str, start: str, whole: bool = False) -> str:
    """The code the message suggests right after ``start``: up to the first space outside brackets (``whole``: up to
    the first ", " or " (" outside them, for code with operators), or the bracket that closes the one around it."""
    text = message[message.index(start) + len(start):]
    depth = 0
    for i, char in enumerate(text):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if depth < 0 or depth == 0 and (text[i:i + 2] in (", ", " (") if whole else char == " "):
            return text[:i].rstrip(",;")
    return text


def _advice(call, start: str = "(here: ", whole: bool = False) -> str:
    with pytest.raises((TypeError, AttributeError)) as raised:
        call()
    return _code(str(raised.value), start, whole)


def _run(code: str, **names):
    result = eval(code, {"np": np, "functional": functional, "F": F, **names})  # noqa: S307
    return getattr(result, "data", result)


# --- defects ----------------------------------------------------------------------------------------------------

def test_the_advice_for_np_take_gives_np_takes_numbers() -> None:
    v, indices = Value(DATA), [0, 4]
    code = _advice(lambda: np.take(v, indices))
    np.testing.assert_array_equal(_run(code, v=v, indices=indices), np.take(DATA, indices))


@pytest.mark.parametrize(("function", "axis", "call"), [
    (np.var, 1, lambda v: np.var(v, axis=1)), (np.std, 1, lambda v: np.std(v, axis=1)),
    (np.var, 0, lambda v: np.var(v, 0))], ids=["var axis=1", "std axis=1", "var positional axis"])
def test_the_advice_for_a_reduction_along_an_axis_keeps_the_axis(function, axis, call) -> None:
    v = Value(DATA)
    code = _advice(lambda: call(v))
    np.testing.assert_allclose(_run(code, v=v, axis=axis), function(DATA, axis=axis), rtol=1e-12)


def test_the_advice_for_np_prod_along_an_axis_keeps_the_axis() -> None:
    positive = np.abs(DATA)
    v = Value(positive)
    code = _advice(lambda: np.prod(v, axis=0))
    np.testing.assert_allclose(_run(code, v=v, axis=0), np.prod(positive, axis=0), rtol=1e-12)


@pytest.mark.parametrize(("a", "b"), [(DATA[0], 2.0), (np.array(3.0), np.array(-1.5))], ids=["vector, number", "0-d"])
def test_the_advice_for_np_dot_of_a_single_number_runs_and_gives_np_dots_numbers(a, b) -> None:
    x, y = Value(a), Value(b)
    code = _advice(lambda: np.dot(x, y), whole=True)
    np.testing.assert_array_equal(_run(code, a=x, b=y), np.dot(a, b))


def test_an_optimizer_given_a_state_dict_is_told_something_that_runs() -> None:
    model = nn.MLP([2, 3, 1])
    params = model.state_dict()
    with pytest.raises(TypeError, match=r"^SGD: params is a dict of 4 entries; ") as raised:
        optim.SGD(params, learning_rate=0.1)
    code = _code(str(raised.value), "pass ")
    optimizer = optim.SGD(_run(code, params=params, model=model), learning_rate=0.1)
    assert {id(p) for p in optimizer.params} == {id(p) for p in model.parameters()}


# --- guards: advice that is right today ---------------------------------------------------------------------------

def test_guard_np_var_without_an_axis_keeps_the_whole_array_formula() -> None:
    v = Value(DATA)
    np.testing.assert_allclose(_run(_advice(lambda: np.var(v)), v=v), np.var(DATA), rtol=1e-12)


def test_guard_np_take_along_axis_0_is_v_indices() -> None:
    v = Value(DATA)
    with pytest.raises(TypeError, match=r"v\[indices\]"):
        np.take(v, [1], axis=0)
    np.testing.assert_array_equal(v[[1]].data, np.take(DATA, [1], axis=0))


def test_guard_np_minimum_advice_gives_its_numbers_and_a_finite_difference_gradient() -> None:
    a, b = Value(DATA), Value(np.full_like(DATA, 1.5))
    code = _advice(lambda: np.minimum(a, b), "write ")
    result = eval(code, {"functional": functional, "a": a, "b": b})  # noqa: S307
    np.testing.assert_array_equal(result.data, np.minimum(DATA, 1.5))
    result.sum().backward()
    h = 1e-6
    numeric = (np.minimum(DATA + h, 1.5) - np.minimum(DATA - h, 1.5)) / (2 * h)
    np.testing.assert_allclose(a.grad, numeric, atol=1e-8)


@pytest.mark.parametrize(("attribute", "names", "expected"), [
    ("flatten", {}, DATA.reshape(-1)), ("mT", {}, DATA.T), ("numel", {}, DATA.size), ("dim", {}, DATA.ndim),
    ("permute", {"axes": (1, 0)}, DATA.transpose(1, 0)), ("t", {}, DATA.T), ("norm", {}, np.linalg.norm(DATA)),
    ("argmax", {}, DATA.argmax()), ("double", {}, DATA)])
def test_guard_a_method_of_another_library_is_replaced_by_what_the_message_says(attribute, names, expected) -> None:
    v = Value(DATA)
    code = _advice(lambda: getattr(v, attribute), "; write ")
    np.testing.assert_allclose(_run(code, v=v, **names), expected, rtol=1e-12)


def test_guard_f_cat_advice_is_np_concatenate() -> None:
    values = [Value(DATA), Value(DATA * 2)]
    code = _advice(lambda: F.cat, "write ")
    np.testing.assert_array_equal(_run(code, values=values), np.concatenate([DATA, DATA * 2], axis=0))


def test_guard_np_dot_of_arrays_is_still_a_at_b() -> None:
    a, b = Value(DATA), Value(DATA[0])
    np.testing.assert_allclose(_run(_advice(lambda: np.dot(a, b), whole=True), a=a, b=b), np.dot(DATA, DATA[0]))


def test_guard_an_optimizer_given_a_dict_of_parameters_takes_its_values_as_advised() -> None:
    model = nn.MLP([2, 3, 1])
    params = dict(model.named_parameters())
    with pytest.raises(TypeError, match=r"list\(params\.values\(\)\)"):
        optim.SGD(params, learning_rate=0.1)
    optimizer = optim.SGD(list(params.values()), learning_rate=0.1)
    assert {id(p) for p in optimizer.params} == {id(p) for p in model.parameters()}


def test_guard_np_outer_advice_gives_np_outer() -> None:
    a, b = Value(DATA[0]), Value(DATA[1])
    code = _advice(lambda: np.outer(a, b), whole=True)
    np.testing.assert_array_equal(_run(code, a=a, b=b), np.outer(DATA[0], DATA[1]))


def test_guard_grad_of_f_and_x_says_to_call_grad_f_of_x() -> None:
    x = Value(DATA[0])
    with pytest.raises(TypeError, match=r"grad\(f\)\(x\)"):
        autodiff.grad(lambda x: (x * x).sum(), x)
    np.testing.assert_array_equal(autodiff.grad(lambda x: (x * x).sum())(x).data, 2 * DATA[0])


def test_guard_a_mis_shaped_grad_set_to_none_as_the_message_says() -> None:
    w = Value(DATA[0])
    w.grad = np.ones(5)
    with pytest.raises(ValueError, match=r"set \.grad to None"):
        (w * w).sum().backward()
    w.grad = None
    (w * w).sum().backward()
    np.testing.assert_array_equal(w.grad, 2 * DATA[0])


def test_guard_pickling_a_result_the_advised_detach_keeps_its_numbers() -> None:
    v = Value(DATA) * 2
    with pytest.raises(TypeError, match=r"pickle value\.detach\(\)"):
        pickle.dumps(v)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(v.detach())).data, DATA * 2)


def test_guard_a_numpy_savez_file_is_loaded_as_the_message_says(tmp_path) -> None:
    model = nn.MLP([2, 3, 1])
    path = tmp_path / "weights.npz"
    np.savez(path, **model.state_dict())
    with pytest.raises(ValueError, match=r"model\.load_state_dict\(numpy\.load\(path\)\)"):
        nn.load(path)
    other = nn.MLP([2, 3, 1])
    with np.load(path) as numpy:
        other.load_state_dict(numpy)
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[name], array)
