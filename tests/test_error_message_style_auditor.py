"""An editor of error messages reads each one as a student sees it: the public operation called, once, at the
start; the argument at fault by name, with its shape or value on one line; a sentence that agrees with itself
(``the labels are``, not ``the labels is``); and the same words as the other messages about the same slip (a
masked array is refused in one way everywhere)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, autodiff, data, losses, nn, optim, serialization
from tinygrad_edu.calculus import classify_stationary_point


def half_masked(shape: tuple[int, ...] = (3,)) -> np.ma.MaskedArray:
    """Ones of ``shape`` with the first element masked."""
    mask = np.zeros(shape, dtype=bool)
    mask.flat[0] = True
    return np.ma.masked_array(np.ones(shape), mask=mask)


def one_line(message: str) -> None:
    assert "\n" not in message, message


# ------------------------------------------------------------------------------------- defects (fixed in the diff)

def test_draw_dependency_tree_names_itself_once() -> None:
    pytest.importorskip("graphviz")
    from tinygrad_edu import viz

    for cost in (Value(2.0, requires_grad=True) * 3.0,  # no labelled Values
                 Value(2.0, requires_grad=True, label="C")):  # a leaf
        with pytest.raises(ValueError, match=r"^draw_dependency_tree: ") as info:
            viz.draw_dependency_tree(cost)
        assert "dependency_tree: " not in str(info.value).removeprefix("draw_dependency_tree: "), str(info.value)


@pytest.mark.parametrize(("call", "start"), [
    (lambda: losses.cross_entropy(Value(np.ones((3, 4))), np.ma.masked_array([0, 1, 2], mask=[0, 1, 0])),
     "cross_entropy: the labels are a masked array"),
    (lambda: data.one_hot(np.ma.masked_array([0, 1, 2], mask=[0, 1, 0])), "one_hot: the labels are a masked array"),
    (lambda: data.train_test_split(half_masked((5, 1)), np.ones(5)), "train_test_split: the inputs are a masked array"),
    (lambda: data.batches(np.ones((3, 1)), half_masked((3, 1)), 2), "batches: the targets are a masked array"),
    (lambda: classify_stationary_point(half_masked((2,))),
     "classify_stationary_point: eigenvalues are a masked array"),
], ids=["cross_entropy", "one_hot", "train_test_split", "batches", "classify_stationary_point"])
def test_a_masked_array_named_in_the_plural_takes_are(call, start: str) -> None:
    with pytest.raises(TypeError, match="^" + re.escape(start) + " with masked elements"):
        call()


@pytest.mark.parametrize(("cost", "prediction", "target", "start"), [
    (losses.mean_squared_error, Value(np.ones(3)), half_masked(), "mean_squared_error: the target is"),
    (losses.squared_error, half_masked(), np.ones(3), "squared_error: the prediction is"),
    (losses.cross_entropy, half_masked((2, 3)), [0, 1], "cross_entropy: the logits are"),
], ids=["mean_squared_error", "squared_error", "cross_entropy"])
def test_a_masked_array_given_to_a_cost_is_refused_as_the_labels_are(cost, prediction, target, start: str) -> None:
    with pytest.raises(TypeError) as info:
        cost(prediction, target)
    message = str(info.value)
    assert message.startswith(start + " a masked array with masked elements, whose numbers numpy would use; give "
                              "m.filled(x) or m.compressed() of the masked array m"), message
    assert "must be an array of real numbers" not in message


@pytest.mark.parametrize("shape", [(3,), (2, 2), (50, 50)])
def test_a_masked_operand_is_named_by_its_type_and_shape_on_one_line(shape: tuple[int, ...]) -> None:
    for operation, call in (("add", lambda m: Value(np.ones(shape)) + m),
                            ("mul", lambda m: Value(np.ones(shape)) * m),
                            ("matmul", lambda m: nn.Layer(shape[-1], 2)(m))):
        with pytest.raises(TypeError) as info:
            call(half_masked(shape))
        message = str(info.value)
        one_line(message)
        assert message.startswith(f"{operation}: cannot use MaskedArray of shape {shape} as an operand ("), message


def test_value_of_a_masked_array_names_value() -> None:
    with pytest.raises(TypeError, match=r"^Value: a masked array and a Value do not mix .* m\.filled\(x\)"):
        Value(half_masked())


@pytest.mark.parametrize("transform", ["grad", "jacobian", "hessian", "value_and_grad"])
def test_a_transform_names_the_shape_of_an_array_f_returned(transform: str) -> None:
    def f(x):
        return np.ones((3, 3))

    with pytest.raises(TypeError) as info:
        getattr(autodiff, transform)(f)(np.ones(2))
    message = str(info.value)
    one_line(message)
    assert message.startswith(f"{transform}: f must return a Value, got ndarray of shape (3, 3); "), message


def test_a_transform_quotes_a_string_f_returned() -> None:
    with pytest.raises(TypeError, match=r"^grad: f must return a Value, got str 'x'; "):
        autodiff.grad(lambda a: "x")(np.ones(2))


@pytest.mark.parametrize(("costs", "fault"), [
    ([0.5, 0.25, None], "a list whose element 2 is NoneType None"),
    ([0.5, "0.25"], "a list whose element 1 is str '0.25'"),
    ((1.0, Value(np.ones(3))), "a tuple whose element 1 is Value of shape (3,)"),
])
def test_plot_history_names_the_element_that_is_no_cost(costs, fault: str) -> None:
    pytest.importorskip("matplotlib")
    from tinygrad_edu import plots

    with pytest.raises(TypeError) as info:
        plots.plot_history(costs)
    message = str(info.value)
    assert message.startswith("plot_history: expected a History, "), message
    assert message.endswith(f"or a list of costs, got {fault}"), message


@pytest.mark.parametrize("optimizer", [optim.SGD, optim.Adam, optim.GradientDescent])
def test_step_names_the_cost_it_refuses(optimizer) -> None:
    model = nn.MLP([1, 2, 1], rng=0)
    with pytest.raises(TypeError) as info:
        optimizer(model, learning_rate=0.1).step(cost="0.5")
    assert str(info.value).endswith("or None, got str '0.5'"), str(info.value)


def test_save_refuses_a_masked_parameter_as_load_state_dict_does(tmp_path) -> None:
    path = tmp_path / "model.npz"
    weights = np.ma.masked_array([[1.0, 2.0]], mask=[[False, True]])
    with pytest.raises(ValueError, match=r"^save: parameter 'w' is a masked array with masked elements"):
        serialization.save(path, {"w": weights})
    assert not path.exists()
    model = nn.MLP([2, 1], rng=0)
    with pytest.raises(ValueError, match=r"^load_state_dict: entry 'layers.1.weights' is a masked array"):
        model.load_state_dict({"layers.1.weights": np.ma.masked_array(np.ones((2, 1)), mask=[[True], [False]]),
                               "layers.1.biases": np.zeros(1)})


def test_an_operations_errors_write_its_parameters_one_way() -> None:
    v = Value(np.ones((2, 3)))
    with pytest.raises(ValueError) as out_of_range:
        v.sum(axis=5)
    with pytest.raises(TypeError) as not_an_int:
        v.sum(axis="a")
    with pytest.raises(IndexError) as beyond:
        v[5]
    assert str(out_of_range.value).endswith("(input shapes (2, 3); axis=5, keepdims=False)")
    assert str(not_an_int.value).endswith("(input shapes (2, 3); axis='a', keepdims=False)"), str(not_an_int.value)
    assert str(beyond.value).endswith("(input shapes (2, 3); key=5)"), str(beyond.value)


@given(shape=st.lists(st.integers(1, 40), min_size=1, max_size=3).map(tuple))
def test_an_array_operand_that_is_no_numbers_is_refused_on_one_line(shape: tuple[int, ...]) -> None:
    words = np.full(shape, "a long word for a number")
    with pytest.raises(TypeError) as info:
        Value(np.ones(shape)) * words
    message = str(info.value)
    one_line(message)
    assert message.startswith("mul: cannot use ndarray"), message
    assert "long word" not in message  # (its shape, not its elements)


# ----------------------------------------------------------------------------------------------------- guards

def test_a_singular_name_keeps_is_in_the_masked_array_refusal() -> None:
    with pytest.raises(TypeError, match=r"^where: the condition is a masked array with masked elements"):
        from tinygrad_edu import functional as F
        F.where(np.ma.masked_array([True, False], mask=[False, True]), Value([1.0, 2.0]), 0.0)
    with pytest.raises(TypeError, match=r"^index: the index is a masked array with masked elements"):
        Value([1.0, 2.0])[np.ma.masked_array([0, 1], mask=[False, True])]


def test_a_cost_with_an_unmasked_masked_array_still_computes_the_cost() -> None:
    """A masked array with nothing masked holds plain numbers: the cost is the one of its numbers."""
    prediction = Value([1.0, 2.0, 4.0])
    target = np.ma.masked_array([0.0, 2.0, 1.0], mask=False)
    assert losses.mean_squared_error(prediction, target).item() == pytest.approx((1.0 + 0.0 + 9.0) / 3)
