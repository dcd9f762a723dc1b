"""A user of ``requires_grad`` and ``detach``: constants, frozen leaves and layers, and what backward, the
optimizers, the transforms and the checks do with them, next to PyTorch's semantics (and the docs where they
differ)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, autodiff, nn, optim
from tinygrad_edu.testing import check_gradients

X = np.array([[0.1, -0.4], [0.7, 0.2], [-0.3, 0.9], [0.5, 0.5]])
Y = np.array([[0.3], [-0.2], [0.6], [0.1]])

OPTIMIZERS = {
    "gd": lambda params: optim.GradientDescent(params, learning_rate=0.5),
    "sgd_momentum": lambda params: optim.SGD(params, learning_rate=0.5, momentum=0.9),
    "adam": lambda params: optim.Adam(params, learning_rate=0.1),
    "armijo": lambda params: optim.Armijo(params),
}


def _model_and_closure():
    net = nn.MLP([2, 3, 1], activation="tanh", output_activation="identity", init="xavier", rng=3)
    return net, lambda: ((net(X) - Y) ** 2).mean()


def _step(name, opt, closure, cost):
    return opt.step(closure, cost=cost) if name == "armijo" else opt.step()


# ------------------------------------------------------------------------------------------------- defects (xfail)
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_an_optimizer_made_before_freezing_leaves_a_frozen_parameter_holding_a_gradient_alone(name):
    net, closure = _model_and_closure()
    opt = OPTIMIZERS[name](net)
    cost = closure()
    cost.backward()
    net[0].requires_grad_(False)  # frozen between backward and step: its .grad is still there
    frozen = [p.data.copy() for p in (net[0].weights, net[0].biases)]
    trained = net[1].weights.data.copy()
    _step(name, opt, closure, cost)
    np.testing.assert_array_equal(net[0].weights.data, frozen[0])
    np.testing.assert_array_equal(net[0].biases.data, frozen[1])
    assert not np.array_equal(net[1].weights.data, trained)  # the others did train


@pytest.mark.parametrize("name", ["sgd_momentum", "adam"])
def test_momentum_does_not_move_a_frozen_parameter_after_zero_grad_to_zeros(name):
    net, closure = _model_and_closure()
    opt = OPTIMIZERS[name](net)
    opt.step(closure)  # builds a velocity / averages for every parameter
    net[0].requires_grad_(False)
    frozen = net[0].weights.data.copy()
    for _ in range(3):
        opt.zero_grad(set_to_none=False)
        cost = closure()
        cost.backward()
        opt.step()
    np.testing.assert_array_equal(net[0].weights.data, frozen)
    if name == "adam":  # Adam counts the steps a parameter took: the frozen one took none after the first
        assert int(opt.state_dict()["state.0.step_count"]) == 1


def test_requires_grad_set_to_false_on_a_computed_value_is_not_a_silent_cut():
    w = Value(3.0, label="w")
    z = w * 2.0
    y = z * z
    z.requires_grad = False
    with pytest.raises(ValueError, match=r"backward: a Value of shape \(\) was computed by mul, but its "
                                         r"requires_grad was set to False"):
        y.backward()
    assert w.grad is None  # a backward that raises changes no leaf's gradient
    z.requires_grad = True  # put back: dy/dw = 2z·2 = 8w
    y.backward()
    assert w.grad == pytest.approx(8 * 3.0)


def test_backward_of_an_unflagged_output_says_what_happened():
    w = Value([1.0, 2.0])
    y = (w * w).sum()
    y.requires_grad = False
    with pytest.raises(ValueError, match="computed by sum, but its requires_grad was set to False by hand"):
        y.backward()


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_an_optimizer_of_a_fully_frozen_module_says_the_parameters_are_frozen(name):
    net = nn.MLP([2, 3, 1], rng=0).requires_grad_(False)
    with pytest.raises(ValueError, match=r"got no parameters to optimize \(.*frozen.*requires_grad_\(True\)"):
        OPTIMIZERS[name](net)


def test_backward_documents_when_requires_grad_is_read():
    doc = " ".join(Value.backward.__doc__.split())
    assert "``requires_grad`` is read when backward runs" in doc and "PyTorch" in doc


# ------------------------------------------------------------------------------------------------------- guards
def test_detach_shares_the_numbers_and_leaves_the_graph():
    w = Value([1.0, 2.0], label="w")
    d = w.detach()
    assert d.op is None and d.parents == () and not d.requires_grad and d.grad is None
    assert np.shares_memory(d.data, w.data)  # documented: shared, as in PyTorch
    d.data[0] = 5.0
    assert w.data[0] == 5.0
    y = (w * d).sum()  # d is a constant: dy/dw = d
    y.backward()
    np.testing.assert_array_equal(w.grad, d.data)


def test_a_leaf_flag_is_read_when_backward_runs():
    """Documented (and unlike PyTorch for the unfrozen case): frozen after the cost, no gradient; unfrozen after a
    recorded cost, the gradient of that cost, here ∂(w·c)/∂w = c."""
    w, c = Value(3.0), Value(2.0)
    w.requires_grad = False
    cost = w * c  # recorded: c requires a gradient
    w.requires_grad = True
    cost.backward()
    assert w.grad == pytest.approx(2.0) and c.grad == pytest.approx(3.0)
    v = Value(4.0)
    later = v * v
    v.requires_grad = False
    later2 = later * c
    later2.backward()
    assert v.grad is None and c.grad == pytest.approx(3.0 + 16.0)


def test_backward_leaves_a_frozen_parameters_gradient_exactly_as_it_was():
    """As in PyTorch: a gradient kept from before freezing is neither added to nor cleared by backward."""
    net, closure = _model_and_closure()
    closure().backward()
    before = net[0].weights.grad.copy()
    net[0].weights.requires_grad = False
    closure().backward()
    np.testing.assert_array_equal(net[0].weights.grad, before)


def test_a_frozen_value_is_refused_as_an_input_of_backward_and_gradients_but_not_of_the_transforms():
    w = Value(2.0, requires_grad=False)
    b = Value(1.5)
    y = w * b * w
    with pytest.raises(ValueError, match=r"backward: inputs\[0\] \(shape \(\)\) does not require a gradient"):
        y.backward(inputs=[w])
    with pytest.raises(ValueError, match="gradients: input 0 .* does not require a gradient"):
        autodiff.gradients(y, [w])
    # autodiff.grad differentiates a copy (as torch.func does whatever the flag): d(w²b)/dw = 2wb
    assert autodiff.grad(lambda x: x * b * x)(w).item() == pytest.approx(2 * 2.0 * 1.5)
    assert w.grad is None and b.grad is None


@given(st.floats(-2, 2), st.floats(-2, 2))
def test_check_gradients_holds_a_frozen_input_fixed_and_checks_the_other(a, x):
    fixed = Value(a, requires_grad=False)
    report = check_gradients(lambda c, t: c * t * t + (t * c).tanh(), fixed, x)
    assert "1 input(s)" in str(report)


@given(st.lists(st.booleans(), min_size=4, max_size=4).filter(lambda mask: not all(mask)),
       st.sampled_from(["sgd_momentum", "adam"]))
def test_state_dict_keeps_frozen_parameters_that_parameters_leave_out(mask, name):
    net, closure = _model_and_closure()
    for (_, value), frozen in zip(net.named_parameters(), mask, strict=True):
        value.requires_grad = not frozen
    names = [n for n, _ in net.named_parameters()]
    assert list(net.state_dict()) == ["layers.1.weights", "layers.1.biases", "layers.2.weights", "layers.2.biases"]
    assert names == [n for n, frozen in zip(net.state_dict(), mask, strict=True) if not frozen]
    opt = OPTIMIZERS[name](net)  # made after the freezing: only the others
    assert len(opt.params) == mask.count(False)
    held = {n: v.copy() for n, v in net.state_dict().items()}
    opt.step(closure)
    after = net.state_dict()
    for n, frozen in zip(held, mask, strict=True):
        if frozen:
            np.testing.assert_array_equal(after[n], held[n])
