"""Editing a model after building it, as an engineer does: a layer replaced, appended or given another activation,
a layer shared by two networks, a network deep-copied and edited, and then its names, its file, its optimizer.
Defects found by an exploratory pass in the role of a model-surgery user; each test asserts the behaviour
expected."""

import copy

import numpy as np
import pytest
from helpers_gradients import central_difference  # float64 central differences, independent of the engine
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, fit, losses, nn, no_grad, optim


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# --- changing a layer's activation after it was built -----------------------------------------------------------

def test_setting_a_layers_activation_changes_what_it_computes_its_config_and_its_file(tmp_path):
    net = nn.MLP([2, 3, 1], rng=0)
    net[0].activation = "tanh"
    x = np.array([[0.3, -0.7], [1.2, 0.4]])
    w1, b1, w2, b2 = (p.data for p in net.parameters())
    expected = _sigmoid(np.tanh(x @ w1 + b1) @ w2 + b2)
    np.testing.assert_allclose(net(x).data, expected, rtol=1e-12)
    assert net[0].activation_name == "tanh"
    assert [layer["activation"] for layer in net.config()["layers"]] == ["tanh", "sigmoid"]
    net.save(tmp_path / "m.npz")
    np.testing.assert_array_equal(nn.load(tmp_path / "m.npz")(x).data, net(x).data)


def test_setting_activation_name_does_not_leave_the_layer_computing_the_old_function():
    layer = nn.Layer(2, 2, rng=0)
    layer.activation_name = "tanh"
    x = np.array([[0.5, -1.5]])
    computed = layer(x).data
    shown = layer.activation_name
    np.testing.assert_allclose(computed, F.ACTIVATIONS[shown](Value(x @ layer.weights.data
                                                                    + layer.biases.data)).data, rtol=1e-12)
    np.testing.assert_allclose(computed, np.tanh(x @ layer.weights.data + layer.biases.data), rtol=1e-12)


def test_an_unknown_activation_set_on_a_built_layer_is_refused_and_changes_nothing():
    """(guard) The setter checks as the constructor does: a misspelt name is a ValueError, the layer unchanged."""
    layer = nn.Layer(2, 2, activation="relu", rng=0)
    with pytest.raises((ValueError, AttributeError), match="tnah|setter"):
        layer.activation = "tnah"
    assert layer.activation_name == "relu" and layer.activation is F.ACTIVATIONS["relu"]


# --- saving a network edited into something that does not fit ----------------------------------------------------

def test_saving_a_network_whose_replaced_layer_does_not_fit_says_save_and_which_layers(tmp_path):
    net = nn.MLP([1, 4, 4, 1], rng=0)
    net.layers[1] = nn.Layer(4, 3, rng=1)
    with pytest.raises(ValueError, match=r"^save: layer 2 gives 3 outputs but layer 3 takes 4 inputs"):
        net.save(tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()


def test_a_network_with_a_function_among_its_layers_saves_and_loads_its_parameters(tmp_path):
    net = nn.MLP([2, 3, 1], activation="identity", rng=0)
    net.layers.append(F.tanh)
    x = np.array([[0.2, -0.4]])
    w1, b1, w2, b2 = (p.data for p in net.parameters())
    np.testing.assert_allclose(net(x).data, np.tanh((x @ w1 + b1) @ w2 + b2), rtol=1e-12)
    assert net.config() is None
    net.save(tmp_path / "m.npz")
    other = nn.MLP([2, 3, 1], activation="identity", rng=7)
    other.layers.append(F.tanh)
    other.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(other(x).data, net(x).data)


# --- an optimizer built before the edit ---------------------------------------------------------------------------

def _xsquared():
    x = np.linspace(-1, 1, 16).reshape(-1, 1)
    return x, x ** 2


@pytest.mark.parametrize("make", [lambda net: optim.GradientDescent(net, learning_rate=0.1),
                                  lambda net: optim.Adam(net), lambda net: optim.Armijo(net)],
                         ids=["GradientDescent", "Adam", "Armijo"])
def test_fit_refuses_an_optimizer_built_before_a_layer_was_replaced(make):
    net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", rng=0)
    opt = make(net)
    new = nn.Layer(4, 1, activation="identity", rng=3)
    net.layers[1] = new
    before = [p.data.copy() for p in net.parameters()]
    with pytest.raises(ValueError, match=r"layers\.2\.weights, layers\.2\.biases.*replaced"):
        fit(net, *_xsquared(), optimizer=opt, episodes=2, progress=False)
    assert all(np.array_equal(p.data, b) for p, b in zip(net.parameters(), before, strict=True))


def test_fit_still_fine_tunes_with_an_optimizer_of_some_of_the_layers():
    """(guard) An optimizer of only the last layer is fine-tuning, not a stale optimizer: it trains that layer and
    leaves the others as they were."""
    net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", rng=0)
    first = [p.data.copy() for p in net[0].parameters()]
    last = [p.data.copy() for p in net[1].parameters()]
    fit(net, *_xsquared(), optimizer=optim.GradientDescent(net[1], learning_rate=0.1), episodes=3, progress=False)
    assert all(np.array_equal(p.data, b) for p, b in zip(net[0].parameters(), first, strict=True))
    assert not any(np.array_equal(p.data, b) for p, b in zip(net[1].parameters(), last, strict=True))


def test_fit_still_trains_a_cost_of_its_own_parameter_beside_the_model():
    """(guard) Values beside all of the model's (a cost's own scale) are no sign of a stale optimizer."""
    net = nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", rng=0)
    scale = Value(2.0)
    opt = optim.GradientDescent([*net.parameters(), scale], learning_rate=0.05)
    fit(net, *_xsquared(), cost=lambda out, y: losses.squared_error(out * scale, y), optimizer=opt, episodes=2,
        progress=False)
    assert scale.data != 2.0


# --- names, files and gradients after surgery ---------------------------------------------------------------------

def test_names_after_replacing_and_appending_follow_the_places_and_the_file_loads_back_bit_for_bit(tmp_path):
    """(guard)"""
    net = nn.MLP([2, 3, 1], rng=0)
    net.layers[1] = nn.Layer(3, 2, activation="relu", rng=4)
    net.layers.append(nn.Layer(2, 1, activation="identity", rng=5))
    names = [name for name, _ in net.named_parameters()]
    assert names == [f"layers.{i}.{part}" for i in (1, 2, 3) for part in ("weights", "biases")]
    assert [p for _, p in net.named_parameters()] == [p for layer in net.layers for p in (layer.weights, layer.biases)]
    net.save(tmp_path / "m.npz")
    back = nn.load(tmp_path / "m.npz")
    assert [layer.activation_name for layer in back] == ["sigmoid", "relu", "identity"]
    for (name, array), (name_back, array_back) in zip(net.state_dict().items(), back.state_dict().items(), strict=True):
        assert name == name_back and array.dtype == array_back.dtype and np.array_equal(array, array_back)
    x = np.array([[0.1, 0.9], [-2.0, 0.3]])
    np.testing.assert_array_equal(back(x).data, net(x).data)


class _TwoNets(nn.Module):
    def __init__(self, first, second):
        self.first, self.second = first, second

    def forward(self, x):
        return self.second(self.first(x))


def test_a_layer_shared_by_two_networks_is_one_parameter_whose_gradient_sums_both_uses():
    """(guard) ``shared`` is the last layer of one network and the first of the other: it is listed once, under its
    first name, and its gradient matches central finite differences of the cost."""
    shared = nn.Layer(3, 3, activation="tanh", init="xavier", rng=0)
    model = _TwoNets(nn.Network(nn.Layer(2, 3, activation="tanh", init="xavier", rng=1), shared),
                     nn.Network(shared, nn.Layer(3, 1, activation="identity", init="xavier", rng=2)))
    names = [name for name, _ in model.named_parameters()]
    assert names == ["first.layers.1.weights", "first.layers.1.biases", "first.layers.2.weights",
                     "first.layers.2.biases", "second.layers.2.weights", "second.layers.2.biases"]
    x = np.array([[0.4, -0.2], [0.1, 0.8]])
    cost = lambda: float((model(x) ** 2).sum().data)  # noqa: E731
    (model(x) ** 2).sum().backward()
    w, keep = shared.weights, shared.weights.data.copy()

    def at(weights: np.ndarray) -> float:
        w.data[...] = weights
        return cost()

    numeric = central_difference(at, keep, 1e-6)
    w.data[...] = keep
    np.testing.assert_allclose(w.grad, numeric, rtol=1e-6, atol=1e-8)


def test_editing_a_deep_copy_leaves_the_original_as_it_was():
    """(guard) A weight tied within the copy stays tied there, and nothing of the copy is the original's."""
    net = nn.MLP([3, 3, 3, 1], rng=0)
    net[1].weights = net[0].weights  # tied
    x = np.array([[0.2, 0.1, -0.3]])
    out, state = net(x).data.copy(), net.state_dict()
    twin = copy.deepcopy(net)
    assert twin[1].weights is twin[0].weights and twin[0].weights is not net[0].weights
    twin.layers[2] = nn.Layer(3, 1, activation="identity", rng=9)
    with no_grad():
        twin[0].weights[...] = 0.5
    np.testing.assert_array_equal(net(x).data, out)
    assert all(np.array_equal(a, b) for a, b in zip(net.state_dict().values(), state.values(), strict=True))
    assert net[0].activation_name == "sigmoid"


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.integers(0, 2),
       st.sampled_from(["relu", "tanh", "identity", "softplus"]))
def test_any_fitting_replacement_saves_and_loads_back_exactly(n_in, hidden, n_out, position, activation):
    """(guard) Replace any layer of a 3-layer network by a fitting one of another activation: ``save`` then
    ``nn.load`` gives the same names, numbers and outputs."""
    import tempfile
    from pathlib import Path

    sizes = [n_in, hidden, hidden, n_out]
    net = nn.MLP(sizes, rng=0)
    net.layers[position] = nn.Layer(sizes[position], sizes[position + 1], activation=activation, init="xavier",
                                    rng=position + 1)
    x = np.linspace(-1, 1, 2 * n_in).reshape(2, n_in)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.npz"
        net.save(path)
        back = nn.load(path)
    assert back.config() == net.config()
    assert list(back.state_dict()) == list(net.state_dict())
    assert all(np.array_equal(a, b) for a, b in zip(back.state_dict().values(), net.state_dict().values()))
    np.testing.assert_array_equal(back(x).data, net(x).data)


def test_fine_tuning_some_layers_with_a_cost_of_its_own_parameter_is_not_taken_for_a_replaced_layer() -> None:
    """An optimizer of the last layer and a Value of the cost's own (a learnt scale) holds a Value the model does not
    have and lacks the first layer's: that is fine-tuning, not a replaced layer, since the cost uses the Value."""
    net = nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", rng=0)
    scale = Value(1.0)
    x = np.linspace(-1, 1, 8).reshape(-1, 1)
    first = [p.data.copy() for p in net.layers[0].parameters()]
    optimizer = optim.GradientDescent([*net.layers[1].parameters(), scale], learning_rate=0.1)
    history = fit(net, x, 2 * x, cost=lambda out, y: losses.squared_error(out * scale, y), optimizer=optimizer,
                  episodes=3, progress=False)
    assert len(history.cost) == 3 and scale.data != 1.0
    assert all(np.array_equal(p.data, f) for p, f in zip(net.layers[0].parameters(), first))
