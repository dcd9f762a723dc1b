"""An engineer who copies things: ``copy.copy``, ``copy.deepcopy`` and pickle of Values, graphs, modules (with a
parameter tied between layers and a layer used twice), optimizers and models together, and ``state_dict`` round trips
between the copies.  A deep copy must be independent of the original, keep one tied parameter as one, keep a graph
copied with its leaves differentiable, and a copied optimizer must train its own model or say that it trains none.
test_training_edges.py, test_multiprocessing_user.py and test_exception_safety.py cover the optimizers' state in
copies; this goes on to graphs copied beside their leaves, tied parameters and optimizers copied alone."""

import copy
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, losses, nn, optim

X = np.linspace(-1.0, 1.0, 8).reshape(4, 2)
Y = (X[:, :1] - X[:, 1:]) ** 2


def _cost(model: nn.Module) -> Value:
    return losses.mean_squared_error(model(X), Y)


class _Tied(nn.Module):
    """An autoencoder-like module: one weight matrix in two layers, and a layer used twice (under two names)."""

    def __init__(self) -> None:
        self.enc = nn.Layer(2, 2, activation="tanh", rng=0)
        self.dec = nn.Layer(2, 2, activation="tanh", rng=1)
        self.dec.weights = self.enc.weights
        self.again = self.enc
        self.scale = Value(np.array([1.0, 0.5], dtype=np.float32), requires_grad=False)

    def forward(self, x: np.ndarray) -> Value:
        return (self.dec(self.again(self.enc(x))) * self.scale).sum()


# --- defects -------------------------------------------------------------------------------------------------------

@given(w=st.floats(-3, 3), b=st.floats(-3, 3))
def test_a_graph_deep_copied_after_its_leaves_differentiates_as_the_original(w: float, b: float) -> None:
    wv, bv = Value(w, label="w"), Value(b, label="b")
    y = wv * wv * bv + bv
    w2, b2, y2 = copy.deepcopy((wv, bv, y))  # (leaves first, as a tuple of the model and its cost puts them)
    y2.backward()
    assert w2.grad == pytest.approx(2 * w * b) and b2.grad == pytest.approx(w * w + 1)  # closed forms
    assert wv.grad is None and bv.grad is None  # the original's leaves are not the copy's


def test_a_model_its_optimizer_and_its_cost_deep_copied_together_go_on_as_the_original() -> None:
    net = nn.MLP([2, 3, 1], activation="tanh", rng=0)
    opt = optim.Armijo(net)
    cost = _cost(net)
    twin, twin_opt, twin_cost = copy.deepcopy((net, opt, cost))
    assert all(p is q for p, q in zip(twin_opt.params, twin.parameters(), strict=True))
    cost.backward()
    twin_cost.backward()
    twin_opt.step(lambda: _cost(twin), cost=twin_cost)
    opt.step(lambda: _cost(net), cost=cost)
    for p, q in zip(net.parameters(), twin.parameters(), strict=True):
        assert p is not q and np.array_equal(p.data, q.data)
    net.zero_grad()
    hidden = net.layers[0](X)  # a part of the graph copied first, then the whole: the same
    output = net.layers[1](hidden)
    again, _, output_copy = copy.deepcopy((net, hidden, output))
    output_copy.sum().backward()
    output.sum().backward()
    for p, q in zip(net.parameters(), again.parameters(), strict=True):
        assert np.array_equal(p.grad, q.grad)


def test_a_newton_optimizer_copied_without_its_model_says_it_trains_none_of_the_model() -> None:
    net = nn.MLP([2, 2, 1], activation="tanh", rng=0)
    copied = copy.deepcopy(optim.Newton(net, damping=1e-3))
    before = [p.data.copy() for p in net.parameters()]
    with pytest.raises(ValueError, match=r"^Newton\.step: the closure's cost depends on none of the optimizer's 4 "
                                         r"parameters .*copy\.deepcopy"):
        copied.step(lambda: _cost(net))
    for p, kept in zip(net.parameters(), before, strict=True):
        assert np.array_equal(p.data, kept)


# --- guards --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("duplicate", [copy.deepcopy, lambda m: pickle.loads(pickle.dumps(m))],
                         ids=["deepcopy", "pickle"])
def test_a_tied_parameter_stays_one_in_the_copy_and_training_the_copy_leaves_the_original(duplicate) -> None:
    model = _Tied()
    state = model.state_dict()
    twin = duplicate(model)
    assert twin.dec.weights is twin.enc.weights and twin.again is twin.enc
    assert twin.enc.weights is not model.enc.weights
    assert len(twin.parameters()) == len(model.parameters()) == 3
    assert twin.scale.dtype == np.float32 and twin.scale.requires_grad is False
    assert repr(twin) == repr(model)
    opt = optim.SGD(twin, learning_rate=0.1, momentum=0.9)
    for _ in range(3):
        opt.step(lambda: twin(X))
    for name, array in model.state_dict().items():
        assert array.dtype == state[name].dtype and np.array_equal(array, state[name])
    assert not np.array_equal(twin.enc.weights.data, model.enc.weights.data)
    twin.load_state_dict(model.state_dict())  # and back: the copies take each other's states
    assert np.array_equal(twin.enc.weights.data, model.enc.weights.data)
    assert twin.dec.weights is twin.enc.weights


def test_the_tied_weight_of_a_deep_copy_gets_the_gradient_of_all_its_uses() -> None:
    twin = copy.deepcopy(_Tied())
    twin.zero_grad()
    twin(X).backward()
    w, h = twin.enc.weights, 1e-6
    numeric = np.zeros(w.shape)
    for index in np.ndindex(w.shape):  # central differences of the copy's cost, moving the one shared matrix
        saved = w.data[index]
        w.data[index] = saved + h
        up = twin(X).item()
        w.data[index] = saved - h
        down = twin(X).item()
        w.data[index] = saved
        numeric[index] = (up - down) / (2 * h)
    np.testing.assert_allclose(w.grad, numeric, rtol=1e-6, atol=1e-8)


def test_copy_shares_a_computed_values_inputs_and_deepcopy_does_not() -> None:
    """As Value.__copy__ says: the same inputs (so backward reaches the original's leaves); a deep copy has its own."""
    w = Value(3.0)
    y = w * w
    copy.copy(y).backward()
    assert w.grad == 6.0  # d(w²)/dw at 3
    w.grad = None
    deep = copy.deepcopy(y)
    deep.backward()
    assert w.grad is None and deep.parents[0].grad == 6.0


@pytest.mark.parametrize("make", [lambda m: optim.Armijo(m), lambda m: optim.Newton(m, damping=1e-3),
                                  lambda m: optim.RandomSearch(m, scale=0.1, rng=3)],
                         ids=["Armijo", "Newton", "RandomSearch"])
def test_a_float32_model_with_a_frozen_layer_and_its_optimizer_pickle_and_go_on_bit_for_bit(make) -> None:
    net = nn.MLP([2, 3, 1], activation="tanh", rng=0).float()
    net.layers[0].requires_grad_(False)
    opt = make(net)
    opt.step(lambda: _cost(net))
    twin, twin_opt = pickle.loads(pickle.dumps((net, opt)))
    assert [p.requires_grad for _, p in twin._named_state()] == [False, False, True, True]
    assert all(p.dtype == np.float32 for _, p in twin._named_state())
    assert repr(twin_opt) == repr(opt)
    for _ in range(3):
        opt.step(lambda: _cost(net))
        twin_opt.step(lambda: _cost(twin))
    for (name, p), (_, q) in zip(net._named_state(), twin._named_state(), strict=True):
        assert p.dtype == q.dtype == np.float32 and np.array_equal(p.data, q.data), name
