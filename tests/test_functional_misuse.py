"""Calls a PyTorch user would type: a keyword argument spelled as in PyTorch or ``torch.func`` (``dim=``,
``reduction=``, ``grad_outputs=``, ``has_aux=``) is a TypeError that names the function and says what to write here,
and the functions' signatures stay this package's own (the PyTorch names are not parameters)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses
from tinygrad_edu.autodiff import grad, gradients, hessian, hvp, jacobian, value_and_grad

X = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])


def cost(x):
    return (x ** 3).sum()


def recorded():
    x = Value([1.0, 2.0])
    return x, (x * x).sum()


@pytest.mark.parametrize("call, name", [
    (lambda: F.softmax(X, dim=1), "softmax"),
    (lambda: F.log_softmax(X, dim=-1), "log_softmax"),
    (lambda: F.concatenate([X, X], dim=1), "concatenate"),
    (lambda: F.stack([X, X], dim=0), "stack"),
])
def test_dim_is_a_type_error_saying_it_is_called_axis_here(call, name) -> None:
    with pytest.raises(TypeError) as raised:
        call()
    message = str(raised.value)
    assert message.startswith(f"{name}: there is no argument dim= (another library's name)"), message
    assert "axis=" in message, message


@pytest.mark.parametrize("call, words", [
    (lambda: losses.cross_entropy(X, [2, 0], reduction="sum"), ["cross_entropy", "reduction=", "mean"]),
    (lambda: losses.cross_entropy(input=X, target=[2, 0]), ["cross_entropy", "input=", "logits="]),
    (lambda: losses.cross_entropy(X, target=[2, 0]), ["cross_entropy", "target=", "labels="]),
    (lambda: losses.mean_squared_error(X, X, reduction="sum"), ["mean_squared_error", "reduction=", "mean"]),
    (lambda: losses.mean_squared_error(input=X, target=X), ["mean_squared_error", "input=", "prediction="]),
    (lambda: gradients(*recorded(), grad_outputs=1.0), ["gradients", "grad_outputs=", "grad_output="]),
    (lambda: gradients(*recorded(), retain_graph=True), ["gradients", "retain_graph=", "not needed"]),
    (lambda: gradients(recorded()[1], [Value(1.0)], allow_unused=True), ["gradients", "allow_unused=", "zeros"]),
    (lambda: grad(cost, has_aux=True), ["grad", "has_aux="]),
    (lambda: value_and_grad(cost, has_aux=True), ["value_and_grad", "has_aux="]),
    (lambda: jacobian(cost, has_aux=True), ["jacobian", "has_aux="]),
    (lambda: hessian(cost, create_graph=True), ["hessian", "create_graph=", "not needed"]),
    (lambda: hvp(cost, [1.0, 2.0], [1.0, 0.0], create_graph=True), ["hvp", "create_graph=", "H·v alone"]),
    (lambda: hvp(cost, inputs=[1.0, 2.0], v=[1.0, 0.0]), ["hvp", "inputs=", "x=", "H·v alone"]),
])
def test_a_pytorch_keyword_of_a_cost_or_a_transform_says_what_to_write_here(call, words) -> None:
    with pytest.raises(TypeError) as raised:
        call()
    message = str(raised.value)
    assert message.startswith(f"{words[0]}: there is no argument {words[1]} (another library's name)"), message
    assert all(word in message for word in words), message


@pytest.mark.parametrize("function, pytorch_name", [
    (F.softmax, "dim"), (F.log_softmax, "dim"), (F.concatenate, "dim"), (F.stack, "dim"),
    (losses.cross_entropy, "reduction"), (losses.mean_squared_error, "reduction"), (gradients, "grad_outputs"),
    (grad, "has_aux"), (value_and_grad, "has_aux"), (jacobian, "has_aux"), (hessian, "has_aux"),
    (hvp, "create_graph"),
])
def test_the_pytorch_names_are_not_parameters(function, pytorch_name) -> None:
    """The signature a user reads (help, an editor) has this package's parameters only, under the function's name."""
    assert pytorch_name not in inspect.signature(function).parameters
    assert "kwargs" not in inspect.signature(function).parameters
    assert function.__name__ == function.__qualname__ and function.__module__.startswith("tinygrad_edu.")


def test_calls_with_this_packages_names_work_as_before() -> None:
    x = np.array([[1.0, 2.0], [3.0, 5.0]])
    e = np.exp(x - x.max(axis=0))
    np.testing.assert_allclose(F.softmax(x, axis=0).data, e / e.sum(axis=0))
    np.testing.assert_allclose(F.log_softmax(x, 0).data, np.log(e / e.sum(axis=0)))
    np.testing.assert_array_equal(F.concatenate([x, x], axis=1).data, np.hstack([x, x]))
    np.testing.assert_array_equal(F.stack(values=[x, x], axis=2).data, np.dstack([x, x]))
    shifted = X - X.max(axis=1, keepdims=True)
    picked = shifted[[0, 1], [2, 0]] - np.log(np.exp(shifted).sum(axis=1))
    assert float(losses.cross_entropy(logits=X, labels=[2, 0])) == pytest.approx(-picked.mean())
    assert float(losses.mean_squared_error(prediction=x, target=x + 2.0)) == 4.0
    np.testing.assert_allclose(hvp(cost, x=[1.0, 2.0], v=[1.0, 1.0]).data, [6.0, 12.0])  # H = diag(6x)
    np.testing.assert_allclose(grad(cost, argnums=0)(np.array([1.0, 2.0])).data, [3.0, 12.0])  # 3x²


def test_a_boolean_axis_is_refused_by_stack_as_by_concatenate() -> None:
    """numpy's stack takes axis=True for 1 (concatenate refuses it); F.stack refuses it, naming the axis."""
    with pytest.raises(TypeError, match=r"^stack: axis must be an int, got True$"):
        F.stack([X, X], axis=True)
    with pytest.raises(TypeError, match="concatenate"):
        F.concatenate([X, X], axis=True)
    assert F.stack([X, X], axis=1).shape == (X.shape[0], 2, *X.shape[1:])


def test_an_error_raised_inside_a_function_is_not_mistaken_for_a_pytorch_keyword() -> None:
    with pytest.raises(TypeError, match="softmax: axis must be an int"):
        F.softmax(X, axis=1.0)
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        F.softmax(X, colour=1)
    with pytest.raises(ValueError, match="cross_entropy: labels must lie in 0 … 2"):
        losses.cross_entropy(X, labels=[3, 0])


@pytest.mark.parametrize("name, advice", [
    ("cross_entropy", "losses.cross_entropy(logits, labels)"),
    ("mse_loss", "losses.mean_squared_error(prediction, target)"),
    ("mean_squared_error", "losses.mean_squared_error"),
    ("squared_error", "losses.squared_error"),
])
def test_a_cost_looked_for_in_functional_points_to_losses(name, advice) -> None:
    """F.cross_entropy and F.mse_loss (torch.nn.functional's) were a bare AttributeError."""
    with pytest.raises(AttributeError) as raised:
        getattr(F, name)
    message = str(raised.value)
    assert message.startswith(f"module 'tinygrad_edu.functional' has no attribute '{name}': the costs are in "
                              "tinygrad_edu.losses") and advice in message, message
    assert raised.value.name == name and not hasattr(F, name) and name not in dir(F)
    function = getattr(losses, advice.removeprefix("losses.").split("(")[0])  # the function named exists there
    assert callable(function) and function.__module__ == "tinygrad_edu.losses"
    with pytest.raises(AttributeError, match=r"^module 'tinygrad_edu.functional' has no attribute 'sigmod'$"):
        F.sigmod  # noqa: B018 - any other name: Python's own message
