"""A student whose objects get out of step with each other (notebook cells run again, copies, generators): an
optimizer built on a model that was built again, or copied apart from its model, must not step without a word, as if
it trained, while the model stays as it is."""

import copy
import pickle
import warnings

import numpy as np
import pytest

from tinygrad_edu import Value, fit, nn, optim
from tinygrad_edu.losses import squared_error

X = np.linspace(-1.0, 1.0, 8).reshape(-1, 1)
Y = X ** 2


def _model(seed: int = 0) -> nn.MLP:
    return nn.MLP([1, 4, 1], rng=seed)


def _numbers(model: nn.Module) -> list[np.ndarray]:
    return [p.data.copy() for p in model.parameters()]


def _unchanged(model: nn.Module, before: list[np.ndarray]) -> bool:
    return all(np.array_equal(p.data, b) for p, b in zip(model.parameters(), before, strict=True))


# --- defects -------------------------------------------------------------------------------------------------------
def test_step_after_the_model_was_built_again_warns_that_no_parameter_has_a_gradient() -> None:
    model = _model()
    opt = optim.SGD(model, learning_rate=0.1)
    model = _model(1)  # the cell that builds the model run again; the optimizer's cell not
    before = _numbers(model)
    opt.zero_grad()
    squared_error(model(X), Y).backward()
    with pytest.warns(RuntimeWarning, match=r"^SGD\.step: no parameter has a gradient, so the step changes nothing"
                                            r".*depends on none of the optimizer's 4 parameters.*built again"):
        opt.step()
    assert _unchanged(model, before)


@pytest.mark.parametrize("copier", [copy.deepcopy, lambda opt: pickle.loads(pickle.dumps(opt))],
                         ids=["deepcopy", "pickle"])
def test_a_copied_optimizer_repeating_its_copies_old_gradients_warns(copier) -> None:
    model = _model()
    opt = optim.SGD(model, learning_rate=0.1)
    squared_error(model(X), Y).backward()
    copied = copier(opt)  # its parameters are copies, holding copies of the gradients of now
    before = _numbers(model)
    model.zero_grad()
    squared_error(model(X), Y).backward()
    copied.step()  # (the first step cannot tell: the copies' gradients are new to it)
    model.zero_grad()
    squared_error(model(X), Y).backward()
    with pytest.warns(RuntimeWarning, match=r"^SGD\.step: the parameters hold the gradients the previous step used"):
        copied.step()
    assert _unchanged(model, before)


def test_stepping_twice_without_backward_warns() -> None:
    x = Value([3.0, -2.0])
    opt = optim.Adam([x], learning_rate=0.1)
    (x * x).sum().backward()
    opt.step()
    with pytest.warns(RuntimeWarning, match=r"^Adam\.step: the parameters hold the gradients the previous step used"):
        opt.step()


def test_step_given_a_backpropagated_cost_of_another_model_does_not_say_to_call_backward() -> None:
    model = _model()
    opt = optim.Adam(model)
    model = _model(1)
    cost = squared_error(model(X), Y)
    cost.backward()
    with pytest.raises(ValueError, match=r"^Adam\.step: cost= was given but no parameter has a gradient, though "
                                         r"cost\.backward\(\) was called: either zero_grad\(\) ran since.*or the cost "
                                         r"depends on none of the optimizer's 4 parameters"):
        opt.step(cost=cost)


def test_armijo_copied_apart_from_its_model_given_the_models_cost_says_the_cost_reaches_none() -> None:
    model = _model()
    opt = optim.Armijo(model)
    squared_error(model(X), Y).backward()
    copied = copy.deepcopy(opt)
    copies = [p.data.copy() for p in copied.params]
    before = _numbers(model)
    model.zero_grad()
    cost = squared_error(model(X), Y)
    cost.backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error", optim.LineSearchWarning)
        with pytest.raises(ValueError, match=r"^Armijo\.step: cost= depends on none of the optimizer's 4 parameters "
                                             r"\(backward\(\) reached none of them\).*copy\.deepcopy"):
            copied.step(lambda: squared_error(model(X), Y), cost=cost)
    assert _unchanged(model, before)
    assert all(np.array_equal(p.data, c) for p, c in zip(copied.params, copies, strict=True))


def test_a_used_up_generator_of_parameters_is_named_as_the_cause() -> None:
    model = _model()
    params = (p for p in model.parameters())
    optim.SGD(params, learning_rate=0.1)
    with pytest.raises(ValueError, match=r"^Adam: got no parameters to optimize \(generator params gave no Values: "
                                         r"used up already.*pass a list"):
        optim.Adam(params)


# --- guards --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda m: optim.GradientDescent(m, 0.05), lambda m: optim.SGD(m, 0.05, 0.9),
                                  lambda m: optim.Adam(m, 0.01)], ids=["gd", "sgd-momentum", "adam"])
@pytest.mark.parametrize("set_to_none", [True, False])
def test_a_fresh_backward_before_each_step_never_warns_and_steps_by_the_rule(make, set_to_none: bool) -> None:
    """No false alarm: zero_grad (to None or to zeros), backward, step, with a new gradient each time; the first
    update of gradient descent is x − η∇C, the gradient checked against central differences."""
    model = _model()
    opt = make(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for i in range(4):
            opt.zero_grad(set_to_none=set_to_none)
            squared_error(model(X), Y).backward()
            if i == 0 and isinstance(opt, optim.GradientDescent):
                w = model.parameters()[0]
                h, k = 1e-6, (0, 2)
                numbers = w.data[k]
                w.data[k] = numbers + h
                up = float(squared_error(model(X), Y).item())
                w.data[k] = numbers - h
                down = float(squared_error(model(X), Y).item())
                w.data[k] = numbers
                assert w.grad[k] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-9)
                opt.step()
                assert w.data[k] == pytest.approx(numbers - 0.05 * (up - down) / (2 * h), rel=1e-6, abs=1e-9)
            else:
                opt.step()


def test_a_model_and_its_optimizer_copied_together_train_the_copy_and_not_the_original() -> None:
    """copy.deepcopy((model, opt)) keeps them bound: a step moves the copied model by −η∇C, not the original."""
    model = _model()
    opt = optim.GradientDescent(model, learning_rate=0.1)
    model2, opt2 = copy.deepcopy((model, opt))
    before, before2 = _numbers(model), _numbers(model2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt2.step(lambda: squared_error(model2(X), Y))
    assert _unchanged(model, before)
    for p, b in zip(model2.parameters(), before2, strict=True):
        np.testing.assert_allclose(p.data, b - 0.1 * p.grad, rtol=1e-12, atol=1e-15)


def test_fit_with_the_optimizer_of_a_model_built_before_is_an_error() -> None:
    model = _model()
    opt = optim.SGD(model, learning_rate=0.1)
    model = _model(1)
    before = _numbers(model)
    with pytest.raises(ValueError, match=r"^fit: none of the optimizer's parameters belong to the model"):
        fit(model, X, Y, optimizer=opt, episodes=2, progress=False)
    assert _unchanged(model, before)


def test_a_gradient_written_over_in_place_between_steps_is_no_repeat() -> None:
    """The same .grad array holding new numbers (x.grad[...] = g₂, by hand) is a new gradient: no warning, and SGD
    with momentum steps x₂ = x₀ − ηg₁ − η(μg₁ + g₂)."""
    x = Value([1.0, -2.0])
    opt = optim.SGD([x], learning_rate=0.1, momentum=0.9)
    g1, g2 = np.array([0.5, 1.0]), np.array([-3.0, 2.0])
    x.grad = g1.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        x.grad[...] = g2
        opt.step()
    np.testing.assert_allclose(x.data, np.array([1.0, -2.0]) - 0.1 * g1 - 0.1 * (0.9 * g1 + g2), rtol=1e-15)
