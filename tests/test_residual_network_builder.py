"""Architectures beyond a plain MLP, built as nn.Modules: residual blocks (x + f(x), with a projection where the
sizes differ), a network of two inputs joined by concatenation, a shared trunk with two heads and a cost summing two
squared errors, a layer used twice, lists and dicts of sub-modules, a Module holding an nn.Network.  Their names,
state round trips, conversions, gradients (against float64 central differences), training with every optimizer,
and the drawings that do and do not apply to them."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses, nn, no_grad, optim, viz
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.training import fit


# --- the architectures ----------------------------------------------------------------------------------------
class Residual(nn.Module):
    """tanh(skip(x) + f2(f1(x))), skip the identity or, where the sizes differ, a projection."""

    def __init__(self, n_in: int, n_out: int, rng: int = 0) -> None:
        generator = np.random.default_rng(rng)
        self.f1 = nn.Layer(n_in, n_out, "tanh", init="xavier", rng=generator)
        self.f2 = nn.Layer(n_out, n_out, "identity", init="xavier", rng=generator)
        self.proj = nn.Layer(n_in, n_out, "identity", init="xavier", rng=generator) if n_in != n_out else None

    def forward(self, x):
        skip = x if self.proj is None else self.proj(x)
        return (skip + self.f2(self.f1(x))).tanh()


class ResNet(nn.Module):
    def __init__(self, rng: int = 0) -> None:
        self.blocks = [Residual(2, 4, rng), Residual(4, 4, rng + 1)]
        self.head = nn.Layer(4, 1, "identity", init="xavier", rng=rng + 2)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)


class TwoInputs(nn.Module):
    """Two inputs, packed as columns (2 and 1), each through a layer of its own, joined by concatenation."""

    def __init__(self, rng: int = 0) -> None:
        self.a = nn.Layer(2, 3, "tanh", init="xavier", rng=rng)
        self.b = nn.Layer(1, 3, "tanh", init="xavier", rng=rng + 1)
        self.out = nn.Layer(6, 1, "identity", init="xavier", rng=rng + 2)

    def forward(self, x):
        return self.out(F.concatenate([self.a(x[:, :2]), self.b(x[:, 2:])], axis=-1))


class TwoHeads(nn.Module):
    """A shared trunk (an nn.MLP held inside) and a dict of two heads; the output joins both heads as columns."""

    def __init__(self, rng: int = 0) -> None:
        self.trunk = nn.MLP([2, 5, 5], activation="tanh", init="xavier", rng=rng)
        self.heads = {"reg": nn.Layer(5, 1, "identity", init="xavier", rng=rng + 1),
                      "aux": nn.Layer(5, 2, "identity", init="xavier", rng=rng + 2)}

    def forward(self, x):
        h = self.trunk(x)
        return F.concatenate([self.heads["reg"](h), self.heads["aux"](h)], axis=-1)


class Shared(nn.Module):
    """A layer used twice, and held under a second name too."""

    def __init__(self, rng: int = 0) -> None:
        self.inp = nn.Layer(2, 3, "tanh", init="xavier", rng=rng)
        self.mid = nn.Layer(3, 3, "tanh", init="xavier", rng=rng + 1)
        self.out = nn.Layer(3, 1, "identity", init="xavier", rng=rng + 2)
        self.again = self.mid

    def forward(self, x):
        return self.out(self.again(self.mid(self.inp(x))))


def two_heads_cost(prediction, target):
    """The sum of the two heads' squared errors."""
    return (losses.squared_error(prediction[:, :1], target[:, :1])
            + losses.squared_error(prediction[:, 1:], target[:, 1:]))


_X = np.random.default_rng(7).uniform(-1, 1, (12, 3))
# (model class, inputs, targets, cost)
ARCHITECTURES = {
    "resnet": (ResNet, _X[:, :2], _X[:, :1] * _X[:, 1:2], losses.squared_error),
    "two_inputs": (TwoInputs, _X, _X[:, :1] * _X[:, 2:], losses.squared_error),
    "two_heads": (TwoHeads, _X[:, :2], np.c_[_X[:, :1] * _X[:, 1:2], _X[:, :2]], two_heads_cost),
    "shared": (Shared, _X[:, :2], np.sin(_X[:, :1]), losses.squared_error),
}


def _central_differences(model: nn.Module, cost, eps: float = 1e-6) -> dict[str, np.ndarray]:
    """∂cost/∂p for every parameter by float64 central differences (the parameters' numbers moved in place)."""
    numeric = {}
    for name, p in model.named_parameters():
        slope = np.zeros_like(p.data)
        for index in np.ndindex(p.shape):
            old = p.data[index]
            p.data[index] = old + eps
            up = cost().item()
            p.data[index] = old - eps
            down = cost().item()
            p.data[index] = old
            slope[index] = (up - down) / (2 * eps)
        numeric[name] = slope
    return numeric


# --- defects ---------------------------------------------------------------------------------------------------
class _ResidualChain(nn.Network):
    """An nn.Network whose own forward adds a skip connection and a projection layer."""

    def __init__(self) -> None:
        super().__init__(nn.Layer(2, 4, rng=0), nn.Layer(4, 4, rng=1), nn.Layer(4, 1, rng=2))
        self.proj = nn.Layer(2, 4, "identity", rng=3)

    def forward(self, x):
        h = self.layers[0](x)
        return self.layers[2](self.layers[1](h) + self.proj(x))


class _ResidualLayer(nn.Layer):
    """A layer of its own: x + σ(x W + b)."""

    def forward(self, data):
        return data + super().forward(data)


class _OwnList(nn.Module):
    """A Module of its own that holds a list named layers and uses the first one twice."""

    def __init__(self) -> None:
        self.layers = [nn.Layer(2, 2, rng=0), nn.Layer(2, 2, rng=1)]

    def forward(self, x):
        return self.layers[1](self.layers[0](self.layers[0](x)))


@pytest.mark.parametrize("make", [_ResidualChain, lambda: _ResidualLayer(3, 3, rng=0), _OwnList],
                         ids=["network-subclass", "layer-subclass", "module-with-layers"])
def test_draw_network_refuses_a_module_with_a_forward_of_its_own(make):
    model = make()
    with pytest.raises(TypeError, match=r"draw_network: .*forward\(\) of its own.*draw_graph"):
        viz.draw_network(model)


@pytest.mark.parametrize("second_width", [1, 2])
def test_fit_given_two_input_arrays_says_to_join_them_as_columns(second_width):
    model = TwoInputs()
    x1, x2 = _X[:, :2], _X[:, :second_width]
    with pytest.raises(ValueError, match=r"^fit: .*one array of inputs.*np\.hstack"):
        fit(model, [x1, x2], _X[:, :1], optimizer=optim.SGD(model, 0.1), episodes=1, progress=False)


def test_an_optimizer_given_a_dict_of_heads_says_they_are_modules():
    model = TwoHeads()
    with pytest.raises(TypeError, match=r"^Adam: params is a dict of 2 entries; its entries are Modules") as error:
        optim.Adam(model.heads)
    assert "state_dict" not in str(error.value)
    params = [p for head in model.heads.values() for p in head.parameters()]  # what the message says to pass
    assert len(optim.Adam(params).params) == 4


def test_a_network_of_modules_says_how_to_chain_modules():
    with pytest.raises(TypeError, match=r"^Network: expected Layers, got Residual \(a Module of its own\).*forward"):
        nn.Network(Residual(2, 4), nn.Layer(4, 1))


# --- guards ----------------------------------------------------------------------------------------------------
def test_names_follow_attribute_order_lists_count_from_1_dicts_by_key_and_shared_ones_appear_once():
    assert [name for name, _ in ResNet().named_parameters()] == [
        f"blocks.{i}.{layer}.{kind}" for i, layers in ((1, ("f1", "f2", "proj")), (2, ("f1", "f2")))
        for layer in layers for kind in ("weights", "biases")] + ["head.weights", "head.biases"]
    assert [name for name, _ in TwoHeads().named_parameters()] == [
        "trunk.layers.1.weights", "trunk.layers.1.biases", "trunk.layers.2.weights", "trunk.layers.2.biases",
        "heads.reg.weights", "heads.reg.biases", "heads.aux.weights", "heads.aux.biases"]
    shared = Shared()
    assert [name for name, _ in shared.named_parameters()] == [
        "inp.weights", "inp.biases", "mid.weights", "mid.biases", "out.weights", "out.biases"]
    assert shared.num_parameters() == (2 * 3 + 3) + (3 * 3 + 3) + (3 + 1)
    assert list(shared.state_dict()) == [name for name, _ in shared.named_parameters()]
    assert len(optim.SGD(shared, 0.1).params) == 6


@pytest.mark.parametrize("kind", sorted(ARCHITECTURES))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_save_and_load_round_trip_every_architecture_exactly(kind, dtype, tmp_path):
    make = ARCHITECTURES[kind][0]
    model, other = make(0), make(11)
    if dtype == np.float32:
        model.float()
    model.save(tmp_path / "model.npz")
    assert other.load(tmp_path / "model.npz") is other
    saved, loaded = model.state_dict(), other.state_dict()
    assert list(saved) == list(loaded)
    for name in saved:
        assert loaded[name].dtype == dtype and np.array_equal(loaded[name], saved[name]), name
    inputs = ARCHITECTURES[kind][1]
    assert np.array_equal(model(inputs).data, other(inputs).data)


def test_a_mismatched_architecture_is_refused_naming_the_entries(tmp_path):
    ResNet().save(tmp_path / "resnet.npz")
    before = TwoHeads().state_dict()
    target = TwoHeads()
    with pytest.raises(ValueError, match=r"does not fit the model: missing trunk\.layers\.1\.weights"):
        target.load(tmp_path / "resnet.npz")
    assert all(np.array_equal(before[name], array) for name, array in target.state_dict().items())
    Residual(2, 4).save(tmp_path / "block.npz")
    with pytest.raises(ValueError, match=re.escape("entry 'f1.weights' has shape (2, 4) but (3, 4) is expected")):
        Residual(3, 4).load(tmp_path / "block.npz")
    with pytest.raises(ValueError, match=r"unexpected proj\.weights, proj\.biases"):
        Residual(4, 4).load(tmp_path / "block.npz")


@pytest.mark.parametrize("kind", sorted(ARCHITECTURES))
def test_float_and_double_convert_every_value_of_nested_modules(kind):
    model = ARCHITECTURES[kind][0]()
    values = [value for module in model.modules() for value in vars(module).values() if isinstance(value, Value)]
    assert values and {id(v) for v in values} == {id(v) for _, v in model.named_parameters()}
    model.float()
    assert {v.dtype for v in values} == {np.dtype(np.float32)}
    model.double()
    assert {v.dtype for v in values} == {np.dtype(np.float64)}


@pytest.mark.parametrize("kind", sorted(ARCHITECTURES))
def test_every_parameters_gradient_matches_central_differences(kind):
    make, inputs, targets, cost_of = ARCHITECTURES[kind]
    model = make(3)

    def cost():
        return cost_of(model(inputs[:4]), targets[:4])

    model.zero_grad()
    cost().backward()
    analytic = {name: p.grad.copy() for name, p in model.named_parameters()}
    numeric = _central_differences(model, cost)
    for name in analytic:
        np.testing.assert_allclose(analytic[name], numeric[name], rtol=1e-5, atol=1e-7, err_msg=name)


@given(n_in=st.integers(1, 3), n_out=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_a_residual_blocks_gradients_match_central_differences_with_and_without_projection(n_in, n_out, seed):
    block = Residual(n_in, n_out, rng=seed)
    assert (block.proj is None) == (n_in == n_out)
    x = np.random.default_rng(seed).uniform(-1, 1, (3, n_in))

    def cost():
        return (block(x) ** 2).sum()

    block.zero_grad()
    cost().backward()
    numeric = _central_differences(block, cost)
    for name, p in block.named_parameters():
        np.testing.assert_allclose(p.grad, numeric[name], rtol=1e-5, atol=1e-7, err_msg=name)


def test_a_layer_used_twice_gets_the_sum_of_both_uses_gradients():
    """f(x) = w·tanh(w·x): ∂f/∂w = tanh(wx) + w·x·(1 − tanh²(wx)), the closed form of the two uses."""
    layer = nn.Layer(1, 1, "tanh", rng=0)
    with no_grad():
        layer.biases[...] = 0.0
    out = layer(layer(np.array([[0.7]])))
    out.backward(grad=np.ones((1, 1)))
    w, x = layer.weights.data.item(), 0.7
    inner = np.tanh(w * x)
    slope_outer = 1 - np.tanh(w * inner) ** 2
    expected = slope_outer * (inner + w * x * (1 - inner ** 2))
    assert layer.weights.grad.item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("kind", sorted(ARCHITECTURES))
@pytest.mark.parametrize("make_optimizer", [
    lambda m: optim.GradientDescent(m, 0.1), lambda m: optim.SGD(m, 0.05, momentum=0.9),
    lambda m: optim.Adam(m, 0.02), lambda m: optim.Armijo(m), lambda m: optim.RandomSearch(m, rng=0),
    lambda m: optim.Newton(m, damping=1e-3)],
    ids=["gradient-descent", "sgd", "adam", "armijo", "random-search", "newton"])
def test_fit_and_every_optimizer_train_these_models(kind, make_optimizer):
    make, inputs, targets, cost = ARCHITECTURES[kind]
    model = make(0)
    history = fit(model, inputs, targets, cost=cost, optimizer=make_optimizer(model), episodes=8, progress=False)
    with_model = cost(model(inputs), targets).item()
    assert with_model < 0.95 * history.cost[0]


def test_draw_graph_draws_a_layer_used_twice_once_with_an_edge_to_each_use(tmp_path):
    class Block(nn.Module):
        def __init__(self) -> None:
            self.f = nn.Layer(1, 1, "tanh", rng=0)
            self.head = nn.Layer(1, 1, "identity", rng=1)

        def forward(self, x):
            h = x + self.f(x)
            return self.head(h + self.f(h))

    cost = losses.squared_error(Block()(np.array([[0.3]])), np.array([[0.5]]))
    cost.backward()
    source = viz.draw_graph(cost).source
    parameter_nodes = re.findall(r'^\t(v\d+) \[label=<<TABLE BORDER="2"', source, flags=re.M)
    assert len(parameter_nodes) == 4  # f's W and b once each, although used twice, and the head's
    uses = {node: len(re.findall(rf"^\t{node} -> ", source, flags=re.M)) for node in parameter_nodes}
    assert sorted(uses.values()) == [1, 1, 2, 2]
    viz.render(viz.draw_graph(cost), tmp_path / "block.svg")
    assert (tmp_path / "block.svg").read_text().lstrip().startswith(("<?xml", "<svg"))


def test_the_dependency_tree_of_a_residual_chain_adds_both_paths_correctly():
    class ResidualChain(nn.Network):
        def forward(self, x):
            a1 = self.layers[0](x)
            return self.layers[2](self.layers[1](a1) + a1)

    model = ResidualChain(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(3)])

    def cost():
        return losses.squared_error(model(np.array([0.5])), np.array([0.2]))

    final = cost()
    tree = dependency_tree(final)
    numeric = _central_differences(model, cost)
    for label, name in (("W^1", "layers.1.weights"), ("b^1", "layers.1.biases"), ("W^2", "layers.2.weights")):
        assert tree.nodes[label].grad == pytest.approx(numeric[name].item(), rel=1e-6)
        assert tree.chain_rule(label) == pytest.approx(tree.nodes[label].grad, rel=1e-12)


@pytest.mark.parametrize("kind", sorted(ARCHITECTURES))
def test_the_dependency_tree_refuses_modules_of_layers_outside_a_network_by_name(kind):
    make, inputs, targets, cost = ARCHITECTURES[kind]
    final = cost(make()(inputs[:1]), targets[:1])
    with pytest.raises(ValueError, match=r"^dependency_tree: the label '.*' is on two different Values"):
        dependency_tree(final)
