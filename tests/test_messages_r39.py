"""The round's new messages, read and run as the user they are written for would (each test failed before its fix,
but the guard of the elementwise decision g * (x > 0) that one of them names):

- A vjp's ``float(x)`` refused under ``grad(grad(f))``: its advice for a decision was ``g * (x > 0)`` alone, and for a
  look at the number none; the error naming the Op added "not on .data" (and ``x.data`` is a memoryview in the
  ordinary pass, where the same vjp gets arrays).  It says ``if x > 0:`` and ``print(x)``, which work at both orders.
- ``_, idx = v.max(1)``: the refusal said two names "would give the maxima of its first two rows" of a matrix of
  three (Python's unpacking fails there) and, for a vector's one maximum, "index them (m[0], m[1])", which fails;
  ``_, idx = np.max(v, 1)``, PyTorch's ``torch.max(x, 1)`` in numpy's spelling, gave two rows' maxima silently.
- An optimizer's state saved while the first layer was frozen, loaded into an optimizer of the whole model: where
  the shapes also matched the first parameters (layers of one size) it said only that the state "has none for the
  others"; a state of the whole model loaded into an optimizer of ``model.parameters()`` with that layer frozen named
  a differing shape and not the freezing.
- ``stationary_point`` from a nested list of numbers (a matrix): its advice ``start.ravel()`` fails on a list.
- ``np.concatenate([a, b])`` of two Datasets: the refusal said to give one array, not how to join two.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from helpers_gradients import central_difference

from tinygrad_edu import Op, Value, data, losses, nn, optim
from tinygrad_edu.autodiff import grad, hessian
from tinygrad_edu.calculus import stationary_point


# --- a Python number made of a Value in a vjp that grad(grad(f)) runs -------------------------------------------------
def _cube_or_square(x: np.ndarray) -> np.ndarray:
    """x³ for x > 0, x² else: first derivative 3x² or 2x, second 6x or 2."""
    return np.where(x > 0, x ** 3, x ** 2)


def test_a_float_of_x_for_a_decision_is_told_to_compare_x_and_what_it_says_is_right_at_both_orders() -> None:
    decided = Op("decided", _cube_or_square, lambda g, out, x: g * 3 * x ** 2 if float(x) > 0 else g * 2 * x)
    assert float(grad(decided)(0.7).data) == pytest.approx(3 * 0.7 ** 2, rel=1e-14)  # (first order: arrays)
    with pytest.raises(TypeError) as caught:
        grad(grad(decided))(0.7)
    message = str(caught.value)
    assert message.startswith("decided: its vjp cannot be differentiated: float(x): ")
    assert "if x > 0:" in message and "print(x)" in message and "f'{x:.4g}'" in message, message
    assert "not on .data" not in message, message  # (the general advice of other failures: no ban on a print)

    seen: list[str] = []

    def as_advised(g: Any, out: Any, x: Any) -> Any:
        print(x)  # (what it says for a look at the number: works on the arrays and on the Values alike)
        seen.append(f"{x:.4g}")
        return g * 3 * x ** 2 if x > 0 else g * 2 * x

    pasted = Op("pasted", _cube_or_square, as_advised)
    for at in (0.7, -0.4):
        first = lambda v: float(grad(pasted)(np.asarray(v)).data)  # noqa: E731
        assert float(grad(pasted)(at).data) == pytest.approx(
            float(central_difference(lambda v: float(_cube_or_square(v)), np.array(at))), rel=1e-8)
        assert float(grad(grad(pasted))(at).data) == pytest.approx(
            float(central_difference(first, np.array(at))), rel=1e-7)
        assert float(grad(grad(pasted))(at).data) == pytest.approx(6 * at if at > 0 else 2.0, rel=1e-14)
    assert "0.7" in seen and "-0.4" in seen


def test_the_elementwise_decision_it_names_gives_the_hessian_of_central_differences() -> None:
    relu_cubed = Op("relu_cubed", lambda x: np.maximum(x, 0) ** 3, lambda g, out, x: g * 3 * x ** 2 * (x > 0))
    x = np.array([0.5, -0.3, 1.2])
    H = hessian(lambda v: relu_cubed(v).sum())(x).data
    by_differences = np.stack([central_difference(lambda v, i=i: float(grad(lambda w: relu_cubed(w).sum())(v).data[i]),
                                                  x) for i in range(3)])
    np.testing.assert_allclose(H, by_differences, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(H, np.diag(6 * np.maximum(x, 0)), rtol=1e-14)


# --- _, idx = v.max(1) ----------------------------------------------------------------------------------------------
def _refusal(make: Any) -> str:
    with pytest.raises(TypeError) as caught:
        make()
    return str(caught.value)


def test_unpacking_three_rows_maxima_is_said_to_fail_as_python_would_not_to_give_two_rows() -> None:
    m = Value(np.array([[1.0, 5.0], [7.0, 0.0], [2.0, 3.0]]))

    def unpacked() -> None:
        _, idx = m.max(1)

    message = _refusal(unpacked)
    assert "first two rows" not in message and "3 maxima, which do not unpack into two" in message, message
    assert "m[0], m[1]" not in message
    with pytest.raises(ValueError, match="too many values to unpack"):  # (what the message says: numpy's own)
        _, idx = m.data.max(1)
    assert np.array_equal(eval(re.search(r"the indices are (\S+\(axis=1\))", message)[1], {"v": m}),  # noqa: S307
                          np.array([1, 0, 1]))


def test_a_vectors_one_maximum_is_said_not_to_unpack_and_no_indexing_of_it_is_advised() -> None:
    v = Value(np.array([0.5, 2.0, -1.0]))

    def unpacked() -> None:
        _, idx = v.max(0)

    message = _refusal(unpacked)
    assert "a single number, which does not unpack" in message and "m[1]" not in message, message
    with pytest.raises(IndexError):  # (the advice it gave: m = v.max(0); m[0], m[1])
        v.max(0)[0]
    assert int(eval(re.search(r"the indices are (\S+\(axis=0\))", message)[1], {"v": v})) == 1  # noqa: S307


def test_two_rows_maxima_and_the_numpy_spelling_are_refused_and_the_advice_gives_numpys_numbers() -> None:
    m = Value(np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]]))

    def by_method() -> None:
        _, idx = m.max(1)

    def by_numpy() -> None:
        _, idx = np.max(m, 1)  # (torch.max(x, 1), written with numpy's name: two rows' maxima, silently)

    for make, call in ((by_method, "v.max(1)"), (by_numpy, "np.max(v, 1)")):
        message = _refusal(make)
        assert f"{call} gives the maxima alone" in message and "the maxima of its two rows, silently" in message
        advice = re.search(r"index them \((m = .+?); (m\[0\], m\[1\])\)$", message)
        assert advice is not None, message
        space: dict[str, Any] = {"v": m, "np": np}
        exec(advice[1], space)  # noqa: S102
        assert [float(x) for x in eval(advice[2], space)] == [5.0, 7.0]  # noqa: S307
    assert float(np.max(m, 1)[1]) == 7.0 and float(np.min(m, axis=0)[1]) == 0.0  # (not unpacked: numpy's meaning)


# --- an optimizer's state of a model frozen in part -----------------------------------------------------------------
X = np.linspace(-1.0, 1.0, 16).reshape(8, 2)
Y = np.stack([X[:, 0] ** 2, X[:, 1]], axis=1)


def _steps(model: nn.Module, optimizer: optim.Optimizer, count: int) -> None:
    for _ in range(count):
        optimizer.zero_grad()
        losses.squared_error(model(X), Y).backward()
        optimizer.step()


def test_a_state_saved_with_the_first_layer_frozen_is_named_so_where_every_layer_has_one_shape() -> None:
    saved_model = nn.MLP([2, 2, 2, 2], activation="tanh", output_activation="identity", rng=0)
    saved_model.layers[0].requires_grad_(False)
    saved = optim.Adam(saved_model, learning_rate=0.01)
    _steps(saved_model, saved, 2)
    model = nn.MLP([2, 2, 2, 2], activation="tanh", output_activation="identity", rng=0)
    with pytest.raises(ValueError) as caught:
        optim.Adam(model, learning_rate=0.01).load_state_dict(saved.state_dict())
    assert "saved while the first ones were frozen? freeze them again before building the optimizer" \
        in str(caught.value), str(caught.value)
    model.layers[0].requires_grad_(False)  # (what it says)
    resumed = optim.Adam(model, learning_rate=0.01)
    resumed.load_state_dict(saved.state_dict())
    assert {k: v.tolist() for k, v in resumed.state_dict().items()} == \
        {k: v.tolist() for k, v in saved.state_dict().items()}


def test_a_whole_models_state_in_an_optimizer_of_its_trained_parameters_names_the_freezing_and_it_works() -> None:
    whole = nn.MLP([2, 3, 2], activation="tanh", output_activation="identity", rng=1)
    saved = optim.Adam(whole.parameters(), learning_rate=0.01)
    _steps(whole, saved, 2)
    model = nn.MLP([2, 3, 2], activation="tanh", output_activation="identity", rng=1)
    model.load_state_dict(whole.state_dict())
    model.layers[0].requires_grad_(False)
    with pytest.raises(ValueError) as caught:
        optim.Adam(model.parameters(), learning_rate=0.01).load_state_dict(saved.state_dict())
    message = str(caught.value)
    assert "this optimizer's 2 match the state's last 2 in shape: saved before the first ones were frozen? unfreeze " \
           "them (requires_grad_(True)), build the optimizer, load the state, and freeze them again" in message, message
    model.layers[0].requires_grad_(True)  # (what it says)
    resumed = optim.Adam(model.parameters(), learning_rate=0.01)
    resumed.load_state_dict(saved.state_dict())
    model.layers[0].requires_grad_(False)
    first = model.layers[0].weights.data.copy()
    _steps(model, resumed, 1)
    _steps(whole, saved, 1)  # (the saved optimizer goes on: the last layer's Adam step is the same one)
    assert np.array_equal(model.layers[0].weights.data, first)
    np.testing.assert_array_equal(model.layers[1].weights.data, whole.layers[1].weights.data)


# --- stationary_point from a matrix -----------------------------------------------------------------------------------
def test_a_matrix_start_given_as_nested_lists_runs_the_advice_pasted_to_the_minimum() -> None:
    target = np.array([[1.0, 2.0], [3.0, 4.0]])

    def f(w: Value) -> Value:
        return ((w - target) ** 2).sum() + (w[0, 0] * w[1, 1]) ** 2 * 0.1

    start = [[0.0, 0.5], [0.5, 0.0]]
    with pytest.raises(ValueError) as caught:
        stationary_point(f, start)
    advice = re.search(r"(stationary_point\(lambda p: .+?\)\)) \(the point found", str(caught.value))
    assert advice is not None, str(caught.value)
    found = eval(advice[1], {"stationary_point": stationary_point, "f": f, "start": start, "np": np})  # noqa: S307
    assert found.converged and found.kind == "minimum"
    point = found.point.reshape(2, 2)
    differences = central_difference(lambda w: float(f(Value(w)).data), point)
    assert np.abs(differences).max() < 1e-8


# --- two Datasets given to np.concatenate --------------------------------------------------------------------------
def test_np_concatenate_of_two_datasets_is_told_how_to_join_their_samples_and_that_runs() -> None:
    a = data.Dataset(np.arange(8.0).reshape(4, 2), np.array([0, 1, 0, 1]))
    b = data.Dataset(np.arange(6.0).reshape(3, 2) + 10, np.array([1, 1, 0]))
    with pytest.raises(TypeError) as caught:
        np.concatenate([a, b])
    advice = re.search(r"(Dataset\(np\.concatenate\(\[a\.inputs, b\.inputs\]\), .+\)\))$", str(caught.value))
    assert advice is not None, str(caught.value)
    joined = eval(advice[1], {"Dataset": data.Dataset, "np": np, "a": a, "b": b})  # noqa: S307
    assert joined == data.Dataset(np.vstack([a.inputs, b.inputs]), [0, 1, 0, 1, 1, 1, 0])
