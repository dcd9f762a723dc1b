"""An engineer building a small autoencoder with tied weights: the decoder uses the encoder's weight matrix (the
same Value in two layers of a Network, or ``W`` and ``W.T`` in a Module of one's own), a bottleneck of 2 units, a
reconstruction cost, training by ``fit`` and by a hand loop, the encoder frozen afterwards, the model saved and
loaded back tied, and drawings where the shared weight appears once.  The first tests are for a defect found in
that role (model.load refused a file naming a tied weight by its other name, which load_state_dict takes); the
others are guards for behaviour the role relies on."""

import copy
import pickle

import numpy as np
import pytest
from helpers_gradients import differences_in_place
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, fit, losses, nn, optim, serialization, viz

X = np.array([[0.3, -0.5, 0.8, 0.1], [1.0, 0.2, -0.4, -0.6], [-0.7, 0.9, 0.1, 0.4], [0.2, 0.0, -0.3, 0.5]])


class _TiedLayers(nn.Module):
    """A square encoder and decoder sharing one weight matrix (the same Value), each with biases of its own."""

    def __init__(self, seed: int = 0) -> None:
        self.enc = nn.Layer(4, 4, activation="tanh", rng=seed)
        self.dec = nn.Layer(4, 4, activation="identity", rng=seed + 1)
        self.dec.weights = self.enc.weights

    def forward(self, x: np.ndarray) -> Value:
        return self.dec(self.enc(x))


class _TiedTranspose(nn.Module):
    """A bottleneck of 2 units: encode with ``W`` (4 × 2), decode with ``W.T``, computed in forward()."""

    def __init__(self, seed: int = 0) -> None:
        self.W = Value(np.random.default_rng(seed).normal(size=(4, 2)) * 0.5)
        self.b_enc = Value(np.zeros(2))
        self.b_dec = Value(np.zeros(4))

    def forward(self, x: np.ndarray) -> Value:
        return (x @ self.W + self.b_enc).tanh() @ self.W.T + self.b_dec


def _tied_network(seed: int = 0) -> nn.Network:
    net = nn.Network(nn.Layer(4, 4, activation="tanh", rng=seed), nn.Layer(4, 4, activation="identity", rng=seed + 1))
    net.layers[1].weights = net.layers[0].weights
    return net


# --- defects -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("names", [("enc.weights", "dec.weights"), ("dec.weights",)], ids=["both", "other only"])
def test_both_load_paths_take_a_file_naming_the_tied_weight_by_another_name(tmp_path, names) -> None:
    source = _TiedLayers(0)
    state = {name: array for name, array in source.state_dict().items() if name != "enc.weights"}
    for name in names:  # the tied Value under each of its names, as PyTorch's state_dict lists it
        state[name] = source.enc.weights.data.copy()
    serialization.save(tmp_path / "tied.npz", state)
    by_state = _TiedLayers(5)
    by_state.load_state_dict(nn.load_state(tmp_path / "tied.npz"))
    by_file = _TiedLayers(7).load(tmp_path / "tied.npz")
    for model in (by_state, by_file):
        assert model.enc.weights is model.dec.weights
        for name, array in source.state_dict().items():
            np.testing.assert_array_equal(model.state_dict()[name], array)


def test_a_file_whose_names_of_the_tied_weight_disagree_is_refused_by_load_and_changes_nothing(tmp_path) -> None:
    """(guard, for the fix above) Two different arrays for one Value: refused, the model left as it was."""
    state = _TiedLayers(0).state_dict()
    state["dec.weights"] = state["enc.weights"] + 1.0
    serialization.save(tmp_path / "tied.npz", state)
    model = _TiedLayers(3)
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"dec\.weights"):  # (named: as unexpected, or as disagreeing)
        model.load(tmp_path / "tied.npz")
    for name, array in before.items():
        np.testing.assert_array_equal(model.state_dict()[name], array)


# --- guards --------------------------------------------------------------------------------------------------------

@given(scale=st.floats(0.1, 2.0), shift=st.floats(-1.0, 1.0))
def test_the_tied_gradient_of_w_and_its_transpose_matches_central_differences(scale: float, shift: float) -> None:
    model = _TiedTranspose()
    x = X * scale + shift

    def cost() -> float:
        return losses.mean_squared_error(model(x), x).item()

    losses.mean_squared_error(model(x), x).backward()
    np.testing.assert_allclose(model.W.grad, differences_in_place(cost, [model.W.data])[0], rtol=1e-5, atol=1e-8)


def test_the_shared_weight_is_one_parameter_counted_once_and_drawn_once() -> None:
    net = _tied_network()
    assert [name for name, _ in net.named_parameters()] == ["layers.1.weights", "layers.1.biases", "layers.2.biases"]
    assert net.num_parameters() == 4 * 4 + 4 + 4 and "# 24 parameters" in repr(net)
    assert list(net.state_dict()) == ["layers.1.weights", "layers.1.biases", "layers.2.biases"]
    cost = losses.mean_squared_error(net(X), X)
    cost.backward()
    source = viz.draw_graph(cost).source
    weight_nodes = [line.split()[0] for line in source.splitlines() if "shape (4, 4)" in line and "#c6efce" in line]
    assert len(weight_nodes) == 1  # one green (4, 4) box: the shared weight
    assert sum(line.strip().startswith(f"{weight_nodes[0]} ->") for line in source.splitlines()) == 2  # two uses


def test_a_tied_weight_given_twice_to_an_optimizer_takes_one_step() -> None:
    """``[*enc.parameters(), *dec.parameters()]`` names the tied weight twice: one update of lr · ∂C/∂W."""
    model = _TiedLayers()
    opt = optim.SGD([*model.enc.parameters(), *model.dec.parameters()], learning_rate=0.1)
    start = model.enc.weights.data.copy()
    slope = differences_in_place(lambda: losses.mean_squared_error(model(X), X).item(), [model.enc.weights.data])[0]
    opt.zero_grad()
    losses.mean_squared_error(model(X), X).backward()
    opt.step()
    np.testing.assert_allclose(model.enc.weights.data, start - 0.1 * slope, rtol=1e-7, atol=1e-9)
    assert model.dec.weights is model.enc.weights


def test_freezing_the_trained_encoder_freezes_the_decoders_tied_weight_too() -> None:
    model = _TiedLayers()
    fit(model, X, X, cost=losses.mean_squared_error, optimizer=optim.Adam(model, learning_rate=0.05), episodes=5,
        progress=False)
    model.enc.requires_grad_(False)
    assert [name for name, _ in model.named_parameters()] == ["dec.biases"]
    weights, biases = model.enc.weights.data.copy(), model.dec.biases.data.copy()
    fit(model, X, X, cost=losses.mean_squared_error, optimizer=optim.SGD(model, learning_rate=0.1), episodes=3,
        progress=False)
    np.testing.assert_array_equal(model.enc.weights.data, weights)
    assert not np.array_equal(model.dec.biases.data, biases)


@pytest.mark.parametrize("duplicate", [copy.deepcopy, lambda m: pickle.loads(pickle.dumps(m))],
                         ids=["deepcopy", "pickle"])
def test_copies_and_saved_files_keep_the_tie(tmp_path, duplicate) -> None:
    net = _tied_network()
    twin = duplicate(net)
    assert twin.layers[0].weights is twin.layers[1].weights
    assert twin.layers[0].weights is not net.layers[0].weights
    net.save(tmp_path / "net.npz")
    loaded = _tied_network(seed=9).load(tmp_path / "net.npz")
    assert loaded.layers[0].weights is loaded.layers[1].weights
    np.testing.assert_array_equal(loaded(X).data, net(X).data)
