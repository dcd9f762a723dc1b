"""A student who brings activation functions of their own to nn.Layer and nn.MLP: lambdas, defs, functools.partial,
custom Ops with their own vjp (softsign), and a Module with a parameter (PReLU)."""

import copy
import functools
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Op, Value, autodiff, nn, no_grad, optim, viz

softsign = Op("softsign", lambda x: x / (1 + np.abs(x)), lambda g, out, x: g / (1 + abs(x)) ** 2)


def swish(z):
    return z * F.sigmoid(z)


class PReLU(nn.Module):
    def __init__(self):
        self.slope = Value(0.25)

    def forward(self, z):
        return F.maximum(z, 0) + self.slope * (z - F.maximum(z, 0))


X = np.array([[0.3, -0.7], [1.1, 0.4], [-0.2, 0.9]])


# --- defects -----------------------------------------------------------------------------------------------------

def test_a_custom_op_activation_is_named_by_its_own_name():
    net = nn.MLP([2, 3, 1], activation=swish, output_activation=softsign, rng=0)
    assert net.layers[1].activation_name == "softsign"
    assert "activation=<function softsign>" in repr(net)
    assert "(softsign)" in viz.draw_network(net).source
    with pytest.raises(ValueError, match="the activation total changed the shape"):
        nn.Layer(2, 3, activation=Op("total", lambda x: x.sum(), lambda g, out, x: g + 0 * x))(X)


def test_a_partial_activation_names_the_function_it_wraps():
    layer = nn.Layer(2, 3, activation=functools.partial(F.leaky_relu, negative_slope=0.2), rng=0)
    assert "leaky_relu" in repr(layer)


@pytest.mark.parametrize("activation", [lambda z: Value(np.tanh(z.data)), lambda z: z.detach().tanh()],
                         ids=["new leaf", "detached"])
def test_an_activation_that_cuts_the_graph_is_refused(activation):
    net = nn.MLP([2, 4, 1], activation=activation, output_activation="identity", rng=0)
    with pytest.raises(TypeError, match=r"layer 1: the activation <lambda> returned a Value not computed from its "
                                        r"input.*no gradient would reach"):
        net(X)


@pytest.mark.parametrize("make", [lambda: nn.Layer(2, 3, activation=PReLU()),
                                  lambda: nn.MLP([2, 3, 1], output_activation=PReLU())], ids=["Layer", "MLP"])
def test_a_module_as_activation_is_refused_saying_what_to_do(make):
    with pytest.raises(TypeError, match=r"activation is a Module \(PReLU\).*activation='identity'") as error:
        make()
    assert "attribute '_activation'" not in str(error.value)


def test_pickling_a_model_with_a_custom_op_activation_says_how_to_keep_the_model(tmp_path):
    net = nn.MLP([2, 3, 1], activation=softsign, rng=0)
    with pytest.raises(TypeError, match="softsign") as error:
        pickle.dumps(net)
    assert "model.save(path)" in str(error.value)


# --- guards --------------------------------------------------------------------------------------------------------

def _central_gradient(f, w, eps=1e-5):
    out = np.zeros_like(w)
    for idx in np.ndindex(w.shape):
        e = np.zeros_like(w)
        e[idx] = eps
        out[idx] = (float(f(w + e).data) - float(f(w - e).data)) / (2 * eps)
    return out


@pytest.mark.parametrize("activation, output_activation", [
    (swish, softsign), (lambda z: F.leaky_relu(z, 0.2) * 1.5, lambda z: z.tanh()),
    (functools.partial(F.leaky_relu, negative_slope=0.3), softsign)])
def test_first_and_second_derivatives_through_custom_activations_match_central_differences(activation,
                                                                                             output_activation):
    net = nn.MLP([2, 3, 1], activation=activation, output_activation=output_activation, init="xavier", rng=1)
    w0 = net.layers[0].weights.data.copy()

    def cost(w):
        net.layers[0].weights = w if isinstance(w, Value) else Value(w)
        return (net(X) ** 2).sum()

    def gradient(w):
        return autodiff.grad(cost)(Value(w))

    np.testing.assert_allclose(gradient(w0).data, _central_gradient(cost, w0), atol=1e-8)
    hessian = autodiff.hessian(cost)(Value(w0)).data
    eps = 1e-5
    for idx in np.ndindex(w0.shape):
        e = np.zeros_like(w0)
        e[idx] = eps
        column = (gradient(w0 + e).data - gradient(w0 - e).data) / (2 * eps)
        np.testing.assert_allclose(hessian[(...,) + idx], column, atol=1e-7)


@given(st.floats(-4, 4), st.floats(-4, 4))
def test_a_softsign_op_layer_computes_its_closed_form(w, b):
    layer = nn.Layer(1, 1, activation=softsign, rng=0)
    with no_grad():
        layer.weights[...] = w
        layer.biases[...] = b
    x = np.array([[0.5], [-1.5]])
    out = layer(x)
    z = x * w + b
    np.testing.assert_allclose(out.data, z / (1 + np.abs(z)), rtol=1e-12)
    out.sum().backward()
    np.testing.assert_allclose(layer.weights.grad, [[(x / (1 + np.abs(z)) ** 2).sum()]], rtol=1e-10)


def test_a_model_with_its_own_activations_is_saved_without_architecture_and_loads_into_one_built_again(tmp_path):
    net = nn.MLP([2, 3, 1], activation=swish, output_activation=softsign, rng=0)
    path = tmp_path / "own.npz"
    net.save(path)
    with pytest.raises(ValueError, match="no architecture; build the model yourself"):
        nn.load(path)
    again = nn.MLP([2, 3, 1], activation=swish, output_activation=softsign, rng=5).load(path)
    np.testing.assert_array_equal(again(X).data, net(X).data)


def test_deepcopy_keeps_a_custom_activation_and_copies_the_weights():
    net = nn.MLP([2, 3, 1], activation=lambda z: z * F.sigmoid(z), output_activation=softsign, rng=0)
    twin = copy.deepcopy(net)
    assert twin.layers[1].activation is softsign
    np.testing.assert_array_equal(twin(X).data, net(X).data)
    with no_grad():
        twin.layers[0].weights[...] = 0.0
    assert not np.array_equal(twin(X).data, net(X).data)


def test_a_custom_activation_still_trains_every_layer():
    net = nn.MLP([2, 4, 1], activation=swish, output_activation=softsign, rng=0)
    before = [p.data.copy() for p in net.parameters()]
    opt = optim.GradientDescent(net.parameters(), learning_rate=0.1)
    cost = ((net(X) - 0.5) ** 2).sum()
    cost.backward()
    opt.step()
    assert all(not np.array_equal(p.data, b) for p, b in zip(net.parameters(), before))


def test_a_custom_activation_runs_under_no_grad():
    net = nn.MLP([2, 3, 1], activation=lambda z: Value(np.tanh(z.data)), rng=0)
    with no_grad():
        out = net(X)
    np.testing.assert_allclose(out.data, np.tanh(np.tanh(X @ net.layers[0].weights.data + net.layers[0].biases.data)
                                                 @ net.layers[1].weights.data + net.layers[1].biases.data))
