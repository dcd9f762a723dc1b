"""Layers and networks: the seed's forward propagation, labels, initialisation, save/load."""

import os
import re
import zipfile

import numpy as np
import pytest
from helpers_model_files import state_copy, unchanged_since

from tinygrad_edu import Value, nn, optim, serialization

try:
    from tinygrad_edu.testing import check_gradients
except ImportError:  # pragma: no cover - the testing helpers are optional here
    check_gradients = None


def _numpy_activation(name, z):
    """The activations written out in numpy, independently of the package."""
    return {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
            "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z), "softplus": lambda z: np.log1p(np.exp(z)),
            "identity": lambda z: z}[name](z)


def _loops(weights, biases, alpha, sigma):
    """The seed's formula neuron by neuron: α_j = σ(Σ_k α_k · w_{k;j} + b_j)."""
    out = []
    for j in range(weights.shape[1]):
        total = 0.0
        for k in range(weights.shape[0]):
            total += alpha[k] * weights[k, j]
        out.append(sigma(total + biases[j]))
    return np.array(out)


# --- shapes and the formula -----------------------------------------------------------------------------------

def test_layer_shapes():
    layer = nn.Layer(3, 5, rng=0)
    assert layer.weights.shape == (3, 5) and layer.biases.shape == (5,)
    assert layer(np.ones(3)).shape == (5,)
    assert layer(np.ones((7, 3))).shape == (7, 5)
    assert layer(Value(np.ones((2, 3)))).shape == (2, 5)


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "tanh", "leaky_relu", "softplus", "identity"])
def test_forward_matches_the_seeds_nested_loops(activation):
    layer = nn.Layer(4, 3, activation=activation, init="xavier", rng=1)
    layer.biases.data = np.array([0.3, -0.2, 0.1])
    rng = np.random.default_rng(2)
    batch = rng.normal(size=(6, 4))
    out = layer(batch).data
    for sample, row in zip(batch, out, strict=True):
        expected = _loops(layer.weights.data, layer.biases.data, sample,
                          lambda z: _numpy_activation(activation, z))
        np.testing.assert_allclose(row, expected, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(layer(sample).data, expected, rtol=1e-12, atol=1e-12)


def test_activation_may_be_any_function_of_values():
    def square(v):
        return v * v

    layer = nn.Layer(2, 2, activation=square, rng=0)
    x = np.array([0.5, -1.5])
    expected = (x @ layer.weights.data + layer.biases.data) ** 2
    np.testing.assert_allclose(layer(x).data, expected)
    assert layer.activation_name == "square"
    assert nn.Layer(2, 2, activation="tanh").activation_name == "tanh"


def test_network_forward_is_layer_by_layer():
    net = nn.MLP([2, 4, 3, 1], activation="tanh", output_activation="sigmoid", init="xavier", rng=3)
    x = np.array([[0.2, -0.7], [1.0, 0.5]])
    a = x
    for layer, name in zip(net.layers, ["tanh", "tanh", "sigmoid"], strict=True):
        a = _numpy_activation(name, a @ layer.weights.data + layer.biases.data)
    np.testing.assert_allclose(net(x).data, a, rtol=1e-12)


# --- errors ---------------------------------------------------------------------------------------------------

def test_wrong_input_size_names_the_layer_and_both_sizes():
    net = nn.MLP([3, 4, 2], rng=0)
    with pytest.raises(ValueError, match=r"layer 1.*3 inputs.*\(5, 2\)"):
        net(np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"'hidden'|hidden"):
        nn.Layer(3, 4, name="hidden")(np.ones(4))
    with pytest.raises(ValueError, match="shape"):
        nn.Layer(3, 4)(np.ones((2, 2, 3)))


def test_a_flat_vector_of_samples_for_one_input_gets_the_reshape_hint():
    # x = np.linspace(-1, 1, 5) for the seed's x² network: 5 samples of one input each, not one sample of 5
    with pytest.raises(ValueError, match=r"layer 1 .*shape \(5,\); 5 samples of one input each are a column: "
                                         r"x\.reshape\(-1, 1\)"):
        nn.MLP([1, 4, 1], rng=0)(np.linspace(-1, 1, 5))
    with pytest.raises(ValueError) as caught:  # a wrong-sized sample of a wider layer is not told to reshape
        nn.Layer(3, 4)(np.ones(4))
    assert "reshape" not in str(caught.value)
    with pytest.raises(ValueError, match=r"layer 1 .*shape \(\); one number is one sample of one input: \[x\]$"):
        nn.MLP([1, 4, 1], rng=0)(0.5)  # the seed's x² network at x = 0.5
    assert nn.MLP([1, 4, 1], rng=0)([0.5]).shape == (1,)
    with pytest.raises(ValueError, match=r"got data of shape \(\)$"):  # a number is not one sample of two inputs
        nn.Layer(2, 4)(0.5)


@pytest.mark.parametrize("data", ["ab", None, b"ab", {"a": 1}, np.str_("a")])
def test_data_that_is_not_numbers_is_a_type_error_naming_it(data):
    """np.shape takes a string, None or a dict for shape (): the error names what was given, not 'shape ()'."""
    with pytest.raises(TypeError, match=rf"^layer 1 \(2 → 4\): expects numbers, got {type(data).__name__} "):
        nn.MLP([2, 4, 1], rng=0)(data)


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(ValueError, match="relu.*tanh"):
        nn.Layer(1, 1, activation="swish")
    with pytest.raises(ValueError, match="uniform.*xavier.*he"):
        nn.Layer(1, 1, init="gauss")
    with pytest.raises(ValueError, match="^Layer: in_size must be an integer >= 1, got 0$"):
        nn.Layer(0, 1)
    with pytest.raises(TypeError, match="^Layer: out_size must be an integer, got float 2.5$"):
        nn.Layer(1, 2.5)
    with pytest.raises(TypeError, match="^MLP: layer size 1 must be an integer, got str '3'$"):
        nn.MLP([1, "3", 1])
    with pytest.raises(TypeError, match="activation"):
        nn.Layer(1, 1, activation=3)


def test_network_checks_consecutive_sizes():
    with pytest.raises(ValueError, match=r"layer 1 gives 3 outputs but layer 2 takes 4 inputs"):
        nn.Network(nn.Layer(2, 3), nn.Layer(4, 1))
    with pytest.raises(TypeError):
        nn.Network(nn.Layer(2, 3), "not a layer")
    with pytest.raises(ValueError):
        nn.MLP([3])


# --- initialisation -------------------------------------------------------------------------------------------

def test_uniform_init_is_the_seeds_rand():
    layer = nn.Layer(50, 40, init="uniform", rng=0)
    for v in (layer.weights.data, layer.biases.data):
        assert v.min() >= 0 and v.max() < 1
    assert 0.45 < layer.weights.data.mean() < 0.55


def test_xavier_and_he_scales():
    xavier = nn.Layer(300, 200, init="xavier", rng=0)
    limit = np.sqrt(6 / 500)
    assert np.abs(xavier.weights.data).max() <= limit
    assert np.abs(xavier.weights.data).max() > 0.95 * limit
    he = nn.Layer(400, 300, init="he", rng=0)
    assert abs(he.weights.data.std() / np.sqrt(2 / 400) - 1) < 0.02
    assert not xavier.biases.data.any() and not he.biases.data.any()


def test_init_is_reproducible_from_a_seed_or_a_generator():
    a = nn.MLP([2, 5, 1], init="he", rng=7)
    b = nn.MLP([2, 5, 1], init="he", rng=np.random.default_rng(7))
    c = nn.MLP([2, 5, 1], init="he", rng=8)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)
    assert not np.array_equal(a.layers[0].weights.data, c.layers[0].weights.data)


# --- parameters, names, labels ----------------------------------------------------------------------------

def test_mlp_structure_names_and_repr():
    net = nn.MLP([1, 12, 12, 1], activation="relu", output_activation="identity", rng=0)
    assert net.sizes == [1, 12, 12, 1]
    assert [layer.activation_name for layer in net.layers] == ["relu", "relu", "identity"]
    assert net.num_parameters() == 193
    assert [name for name, _ in net.named_parameters()] == [
        f"layers.{i}.{kind}" for i in range(1, 4) for kind in ("weights", "biases")]
    text = repr(net)
    assert "MLP(" in text and "12 → 1" in text and "193 parameters" in text


def test_labels_follow_the_seeds_superscripts():
    net = nn.MLP([2, 3, 1], rng=0)
    x = np.ones((4, 2))
    out = net(x)
    first, second = net.layers
    assert (first.index, second.index) == (1, 2) and second.name == "layer 2"
    assert (first.weights.label, first.biases.label) == ("W^1", "b^1")
    assert (second.weights.label, second.biases.label) == ("W^2", "b^2")
    assert out.label == "α^2"
    z2 = out.parents[0]
    assert z2.label == "z^2"
    alone = nn.Layer(2, 2)
    y = alone(np.ones(2))
    assert (alone.weights.label, alone.biases.label, y.label, y.parents[0].label) == ("W", "b", "α", "z")
    assert alone.index is None


def test_zero_grad_clears_every_parameter():
    net = nn.MLP([2, 3, 1], rng=0)
    net(np.ones((2, 2))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())


def test_zero_grad_set_to_none_false_zeros_every_parameters_gradient_in_its_shape():
    net = nn.MLP([2, 3, 1], rng=0)
    net(np.ones((2, 2))).sum().backward()
    net.zero_grad(set_to_none=False)
    assert all(p.grad.shape == p.shape and not p.grad.any() for p in net.parameters())
    with pytest.raises(TypeError, match="zero_grad: set_to_none must be True or False"):
        nn.Module().zero_grad(set_to_none=None)


def _cost_through(net, target):
    """The squared error of a two-layer ``net`` as a function of its weights, biases and inputs."""
    first, second = net.layers

    def cost(w1, b1, w2, b2, x):
        first.weights, first.biases, second.weights, second.biases = w1, b1, w2, b2
        diff = net(x) - target
        return (diff * diff).sum()

    return cost


def test_layer_gradients_match_finite_differences():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(5, 3))
    target = rng.normal(size=(5, 2))
    for hidden, out in [("sigmoid", "identity"), ("tanh", "softplus"), ("softplus", "sigmoid")]:
        net = nn.MLP([3, 4, 2], activation=hidden, output_activation=out, init="xavier", rng=5)
        first, second = net.layers
        cost = _cost_through(net, target)
        params = [first.weights.data, first.biases.data, second.weights.data, second.biases.data]
        if check_gradients is not None:
            check_gradients(cost, *params, x, atol=1e-6, rtol=1e-5)
        else:  # pragma: no cover
            values = [Value(p) for p in params] + [Value(x)]
            cost(*values).backward()
            for i, v in enumerate(values):
                numeric = np.zeros_like(v.data)
                for idx in np.ndindex(v.shape):
                    plus = [u.data.copy() for u in values]
                    minus = [u.data.copy() for u in values]
                    plus[i][idx] += 1e-6
                    minus[i][idx] -= 1e-6
                    numeric[idx] = (cost(*map(Value, plus)).item() - cost(*map(Value, minus)).item()) / 2e-6
                np.testing.assert_allclose(v.grad, numeric, atol=1e-6, rtol=1e-5)


# --- state, save and load -------------------------------------------------------------------------------------

def test_state_dict_round_trip_and_validation():
    a, b = nn.MLP([2, 3, 1], rng=0), nn.MLP([2, 3, 1], rng=1)
    b.load_state_dict(a.state_dict())
    assert unchanged_since(b, state_copy(a))
    before = state_copy(b)
    state = a.state_dict()
    del state["layers.1.biases"]
    with pytest.raises(ValueError, match="missing layers.1.biases"):
        b.load_state_dict(state)
    state = {**a.state_dict(), "layers.3.weights": np.zeros((1, 1))}
    with pytest.raises(ValueError, match="unexpected layers.3.weights"):
        b.load_state_dict(state)
    state = {**a.state_dict(), "layers.1.weights": np.zeros((3, 2))}
    with pytest.raises(ValueError, match=r"layers.1.weights.*\(3, 2\).*\(2, 3\)"):
        b.load_state_dict(state)
    state = {**a.state_dict(), "layers.1.biases": np.zeros(3, dtype=int)}
    with pytest.raises(ValueError, match="layers.1.biases.*dtype"):
        b.load_state_dict(state)
    assert unchanged_since(b, before)


def test_loading_a_state_keeps_its_dtype_and_makes_graphs_of_the_old_parameters_stale():
    a, b = nn.MLP([2, 3, 1], rng=0), nn.MLP([2, 3, 1], rng=1)
    weights = b.layers[0].weights
    cost = b(np.ones((4, 2))).sum()  # computed from b's own parameters
    state = {**a.state_dict(), "layers.1.weights": a.state_dict()["layers.1.weights"].astype(np.float32)}
    b.load_state_dict(state)
    assert b.layers[0].weights is weights and weights.dtype == np.float32  # the state's dtype, as documented
    assert unchanged_since(b, state_copy(a) | {"layers.1.weights": (state["layers.1.weights"], np.float32)})
    with pytest.raises(ValueError, match=r"backward: the graph is stale: '[Wb]\^[12]' was changed in place"):
        cost.backward()
    b(np.ones((4, 2))).sum().backward()  # a new forward pass uses the loaded numbers


def test_save_and_load_restore_exactly(tmp_path):
    a = nn.MLP([3, 5, 2], activation="tanh", output_activation="identity", init="he", rng=0)
    a.layers[1].biases.data = np.array([np.pi, -1e-300], dtype=np.float32)  # dtype must survive too
    path = tmp_path / "model.npz"
    a.save(path)
    b = nn.MLP([3, 5, 2], activation="tanh", output_activation="identity", rng=9).load(path)
    assert unchanged_since(b, state_copy(a))
    assert b.layers[1].biases.dtype == np.float32
    rebuilt = nn.load(path)
    assert unchanged_since(rebuilt, state_copy(a))
    assert [layer.activation_name for layer in rebuilt.layers] == ["tanh", "identity"]
    x = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_array_equal(rebuilt(x).data, a(x).data)
    state = nn.load_state(path)
    assert sorted(state) == sorted(a.state_dict())
    assert not list(tmp_path.glob(".tmp-*"))  # the temporary file was renamed into place


def test_a_single_layer_saves_and_loads(tmp_path):
    layer = nn.Layer(3, 2, init="he", rng=0)
    layer.save(tmp_path / "layer.npz")
    assert sorted(nn.load_state(tmp_path / "layer.npz")) == ["biases", "weights"]
    other = nn.Layer(3, 2, rng=1).load(tmp_path / "layer.npz")
    assert unchanged_since(other, state_copy(layer))
    with pytest.raises(ValueError, match="no architecture"):
        nn.load(tmp_path / "layer.npz")


def test_a_file_without_architecture_needs_the_model(tmp_path):
    net = nn.Network(nn.Layer(2, 2, activation=lambda v: v * 2.0))
    net.save(tmp_path / "custom.npz")
    with pytest.raises(ValueError, match="no architecture"):
        nn.load(tmp_path / "custom.npz")
    other = nn.Network(nn.Layer(2, 2, activation=lambda v: v * 2.0))
    other.load(tmp_path / "custom.npz")
    assert unchanged_since(other, state_copy(net))


def _write_npz(path, **entries):
    with open(path, "wb") as file:
        np.savez(file, **entries)


def _corrupt_files(tmp_path, good):
    """(description, path, message pattern) for every kind of bad file."""
    data = good.read_bytes()
    cases = []

    def add(name, content, pattern):
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            _write_npz(path, **content)
        cases.append((name, path, pattern))

    add("text.npz", b"weights: 1, 2, 3\n", "not an .npz archive")
    add("truncated.npz", data[: len(data) // 2], "not a readable")
    add("tiny.npz", data[:10], "not a readable")
    flipped = bytearray(data)
    flipped[len(data) // 3] ^= 0xFF
    add("flipped.npz", bytes(flipped), "not a readable|not a tinygrad_edu|load_state")
    state = dict(np.load(good))
    add("no_marker.npz", {k: v for k, v in state.items() if k != "__format__"}, "format entry")
    add("wrong_marker.npz", {**state, "__format__": np.array("someone.else/3")}, "someone.else/3")
    add("missing.npz", {k: v for k, v in state.items() if k != "layers.1.biases"}, "missing layers.1.biases")
    add("extra.npz", {**state, "layers.5.weights": np.zeros(2)}, "unexpected layers.5.weights")
    add("misshaped.npz", {**state, "layers.1.weights": np.zeros((2, 2))}, r"layers.1.weights.*\(2, 2\)")
    add("ints.npz", {**state, "layers.1.biases": np.zeros(1, dtype=np.int64)}, "dtype")
    add("objects.npz", {**state, "layers.1.biases": np.array([None, 1], dtype=object)}, "dtype object")
    np.save(tmp_path / "single.npy", np.zeros(3))
    cases.append(("single.npy", tmp_path / "single.npy", r"single array \(.npy\)"))
    return cases


def test_every_corrupt_file_fails_clearly_and_changes_nothing(tmp_path):
    source = nn.MLP([2, 3, 1], rng=0)
    good = tmp_path / "good.npz"
    source.save(good)
    model = nn.MLP([2, 3, 1], rng=1)
    before = state_copy(model)
    for name, path, pattern in _corrupt_files(tmp_path, good):
        with pytest.raises(ValueError, match=pattern):
            model.load(path)
        assert unchanged_since(model, before), name
    with pytest.raises(FileNotFoundError):
        model.load(tmp_path / "absent.npz")
    assert zipfile.is_zipfile(good)


def test_a_saved_model_gets_the_usual_file_permissions(tmp_path):
    previous = os.umask(0o022)
    try:
        nn.MLP([1, 2, 1], rng=0).save(tmp_path / "model.npz")
    finally:
        os.umask(previous)
    assert (tmp_path / "model.npz").stat().st_mode & 0o777 == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary file left behind


# --- audit of issue 3: damaged architectures, non-finite weights, seeds, activations, misuse -------------------

def _with_architecture(tmp_path, name, architecture, state=None):
    """A file with a valid marker, ``architecture`` (text) and the parameters of a 2-3-1 network."""
    import json

    state = dict(np.load(_saved(tmp_path))) if state is None else state
    text = architecture if isinstance(architecture, str) else json.dumps(architecture)
    path = tmp_path / name
    _write_npz(path, **{**state, "__architecture__": np.array(text)})
    return path


def _saved(tmp_path):
    path = tmp_path / "source.npz"
    if not path.exists():
        nn.MLP([2, 3, 1], rng=0).save(path)
    return path


def _layers(*specs):
    return {"layers": [{"in_size": i, "out_size": o, "activation": a} for i, o, a in specs]}


@pytest.mark.parametrize("architecture, pattern", [
    (_layers((100000, 100000, "tanh")), "100000"),  # would allocate 75 GiB if built
    (_layers((2, 3, "sigmoid"), (4, 1, "sigmoid")), "3.*4|4.*3"),
    (_layers((2, 3, "sigmoid"), (3, 1, "swish")), "swish"),
    (_layers((2, 3, "sigmoid"), (3, -1, "sigmoid")), "-1"),
    (_layers((2, 3, "sigmoid"), (3, 1.5, "sigmoid")), "1.5"),
    (_layers((2, 3, "sigmoid"), (3, True, "sigmoid")), "True"),
    (_layers((2, 3, "sigmoid")), "layers.1|2 layers|1 layer"),
    ({"layers": []}, "layers"),
    ({"layers": "x"}, "layers"),
    ([1, 2], "architecture"),
    ("{not json", "damaged"),
])
def test_a_damaged_architecture_is_rejected_before_anything_is_built(tmp_path, architecture, pattern):
    path = _with_architecture(tmp_path, "damaged.npz", architecture)
    with pytest.raises(ValueError, match="damaged.npz") as raised:
        nn.load(path)
    assert raised.match(pattern)
    model = nn.MLP([2, 3, 1], rng=1)  # Module.load applies the same rule
    before = state_copy(model)
    with pytest.raises(ValueError, match="damaged.npz"):
        model.load(path)
    assert unchanged_since(model, before)


def test_a_valid_architecture_still_loads(tmp_path):
    path = _with_architecture(tmp_path, "fine.npz", _layers((2, 3, "sigmoid"), (3, 1, "sigmoid")))
    assert nn.load(path).sizes == [2, 3, 1]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_rejected_naming_the_entry(tmp_path, bad):
    model = nn.MLP([2, 3, 1], rng=0)
    state = model.state_dict()
    state["layers.1.weights"][1, 0] = bad
    before = state_copy(model)
    with pytest.raises(ValueError, match="layers.1.weights"):
        model.load_state_dict(state)
    assert unchanged_since(model, before)
    path = tmp_path / "nan.npz"
    _write_npz(path, **{**dict(np.load(_saved(tmp_path))), "layers.1.weights": state["layers.1.weights"]})
    with pytest.raises(ValueError, match="layers.1.weights"):
        nn.load(path)


def test_negative_seeds_are_rejected_naming_the_function():
    with pytest.raises(ValueError, match=r"Layer.*-1"):
        nn.Layer(2, 2, rng=-1)
    with pytest.raises(ValueError, match=r"MLP.*-5"):
        nn.MLP([1, 2], rng=-5)


def test_activation_that_is_not_a_function_of_values_names_the_layer():
    layer = nn.Layer(2, 3, activation=np.sin, name="hidden")  # numpy has no Value version of sin
    with pytest.raises(TypeError, match=r"hidden.*functional"):
        layer(np.ones(2))
    with pytest.raises(TypeError, match=r"hidden.*float"):
        nn.Layer(2, 3, activation=lambda z: 1.0, name="hidden")(np.ones(2))
    with pytest.raises(ValueError, match=r"hidden.*\(3,\).*\(\)|hidden.*\(\).*\(3,\)"):
        nn.Layer(2, 3, activation=lambda z: z.sum(), name="hidden")(np.ones(2))


def test_ragged_inputs_name_the_layer():
    with pytest.raises(ValueError, match="layer"):
        nn.Layer(2, 2)([[1.0, 2.0], [3.0]])


def test_mlp_sizes_must_be_a_list():
    with pytest.raises(TypeError, match=r"MLP.*\[1, 12, 1\]"):
        nn.MLP(5)


def test_saving_into_a_missing_folder_names_the_folder(tmp_path):
    target = tmp_path / "absent" / "x.npz"
    with pytest.raises(FileNotFoundError, match="absent") as raised:
        nn.MLP([1, 1], rng=0).save(target)
    assert ".tmp" not in str(raised.value)


# --- issue 11: sizes, names and states that cannot work are refused up front, naming what is wrong ----------

@pytest.mark.parametrize("build, size", [
    (lambda: nn.Layer(100000, 100000), "10,000,100,000"),
    (lambda: nn.MLP([2 ** 40, 2 ** 40]), "1,208,925,819,615,728,686,333,952"),
    (lambda: nn.MLP([10 ** 29, 1]), "100,000,000,000,000,000,000,000,000,001"),
    (lambda: nn.MLP([10 ** 30, 1]), "about 10\\^30"),  # 30 digits and more are too long to read
    (lambda: nn.MLP([10_000, 10_000, 10_000]), "200,020,000"),  # each layer fits, the network does not
])
def test_models_above_the_parameter_limit_are_refused_before_allocating(build, size):
    with pytest.raises(ValueError, match=rf"{size} parameters; the limit is 100,000,000"):
        build()
    assert nn.MAX_PARAMETERS == 10 ** 8


@pytest.mark.parametrize("build, message", [
    (lambda: nn.Layer(10 ** 400, 2), "Layer(about 10^400, 2) would hold about 10^400 parameters"),
    (lambda: nn.MLP([1, 10 ** 400, 1]), "MLP([1, about 10^400, 1]) would hold about 10^400 parameters"),
    (lambda: nn.MLP([3, -10 ** 400]), "MLP: layer size 1 must be an integer >= 1, got about -10^400"),
    (lambda: serialization.parameter_shapes({"layers": [{"in_size": 10 ** 400, "out_size": 3, "activation": "relu",
                                                         "name": None}]}),
     "parameter_shapes: the architecture about 10^400-3 would hold about 10^400 parameters"),
])
def test_a_size_too_long_to_read_is_shown_as_its_power_of_ten(build, message):
    # it was printed digit by digit: a message of over 1,000 characters
    with pytest.raises(ValueError) as error:
        build()
    assert str(error.value).startswith(message) and len(str(error.value)) < 200


@pytest.mark.parametrize("entry", [[[1.0, 2.0, 3.0], [1.0]], [[1.0, [2.0]], [3.0, 4.0]]])
def test_a_ragged_list_in_a_state_is_a_value_error_naming_the_entry(entry):
    model = nn.MLP([2, 3, 1], rng=0)
    before = state_copy(model)
    with pytest.raises(ValueError, match=r"load_state_dict: entry 'layers.1.weights' is not an array"):
        model.load_state_dict({**model.state_dict(), "layers.1.weights": entry})
    assert unchanged_since(model, before)


def test_a_state_of_nested_lists_of_floats_loads():
    model = nn.MLP([2, 1], rng=0)
    model.load_state_dict({"layers.1.weights": [[0.5], [-0.25]], "layers.1.biases": [0.125]})
    np.testing.assert_array_equal(model.layers[0].weights.data, [[0.5], [-0.25]])


def test_a_network_that_cannot_be_built_leaves_its_layers_as_they_were():
    first, second = nn.Layer(2, 3, rng=0), nn.Layer(4, 1, rng=1)
    with pytest.raises(ValueError, match=r"layer 1 gives 3 outputs but layer 2 takes 4"):
        nn.Network(first, second)
    assert first.index is None and first.weights.label == "W" and second.name == "layer"
    with pytest.raises(ValueError, match=r"hidden gives 3 outputs but layer 2 takes 4"):
        nn.Network(nn.Layer(2, 3, name="hidden"), second)


def test_load_refuses_weights_trained_with_other_activations(tmp_path):
    """Same shapes, other activations: the loaded network would compute another function, so load refuses and
    changes nothing; the same activations load."""
    trained = nn.MLP([2, 3, 1], activation="tanh", output_activation="sigmoid", init="xavier", rng=0)
    trained.save(tmp_path / "tanh.npz")
    other = nn.MLP([2, 3, 1], activation="relu", output_activation="identity", rng=1)
    before = other.state_dict()
    with pytest.raises(ValueError, match="activations tanh, sigmoid, but this one has relu, identity"):
        other.load(tmp_path / "tanh.npz")
    assert all(np.array_equal(before[name], array) for name, array in other.state_dict().items())
    same = nn.MLP([2, 3, 1], activation="tanh", output_activation="sigmoid", rng=1).load(tmp_path / "tanh.npz")
    x = np.array([[0.3, -0.7]])
    assert same(x).data.tobytes() == trained(x).data.tobytes()


class _Head(nn.Module):
    """A child that refers back to the module that owns it."""

    def __init__(self, owner: nn.Module) -> None:
        self.owner = owner
        self.layer = nn.Layer(2, 2, rng=0)


class _Owner(nn.Module):
    def __init__(self) -> None:
        self.head = _Head(self)
        self.table = {"a": nn.Layer(2, 3, rng=1), "b": Value(np.ones(3)), "config": {1: "not a parameter"}}


def test_a_child_referring_back_to_its_parent_is_walked_once():
    model = _Owner()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["head.layer.weights", "head.layer.biases", "table.a.weights", "table.a.biases", "table.b"]
    assert model.num_parameters() == 4 + 2 + 6 + 3 + 3


def test_parameters_in_a_dict_are_named_by_key_and_saved_and_loaded(tmp_path):
    model, other = _Owner(), _Owner()
    for i, value in enumerate(model.parameters()):
        value.data = value.data + i + 1.0
    assert any(value is model.table["b"] for value in model.parameters())
    path = tmp_path / "owner.npz"
    model.save(path)
    assert set(nn.load_state(path)) == set(model.state_dict())
    other.load(path)
    for (name, mine), (_, theirs) in zip(model.named_parameters(), other.named_parameters(), strict=True):
        assert np.array_equal(mine.data, theirs.data), name
    other.table["a"].weights.data[:] = 0.0
    other.load_state_dict(model.state_dict())
    assert np.array_equal(other.table["a"].weights.data, model.table["a"].weights.data)


@pytest.mark.parametrize("table", [{1: nn.Layer(2, 2)}, {"": Value(1.0)}, {"a.b": Value(1.0)},
                                   {(1,): [Value(2.0)]}])
def test_parameters_in_a_dict_without_string_keys_are_refused(table):
    class Model(nn.Module):
        def __init__(self) -> None:
            self.table = table

    with pytest.raises(TypeError, match=r"named_parameters: the dict 'table' holds parameters .* under the key"):
        Model().parameters()


def test_an_activation_from_the_math_module_is_named_with_its_layer():
    """math.tanh takes one number: on a layer's Values it fails, and the error must say which layer and activation.
    (float() of several numbers is a TypeError, as numpy's is.)"""
    import math
    with pytest.raises(TypeError, match=r"layer: the activation tanh failed on a Value of shape \(3,\).*"
                                        r"function of Values") as raised:
        nn.Layer(2, 3, activation=math.tanh)(np.ones(2))
    assert isinstance(raised.value.__cause__, TypeError)


def test_a_file_name_near_the_length_limit_is_saved_and_loaded(tmp_path):
    """The temporary file written first must not need a longer name than the file asked for (255 bytes)."""
    net = nn.MLP([2, 3, 1], rng=0)
    target = tmp_path / ("m" * 246 + ".npz")
    net.save(target)
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
    assert all(np.array_equal(a, b) for a, b in zip(nn.load(target).state_dict().values(), net.state_dict().values()))


def test_a_frozen_parameter_is_saved_and_loaded(tmp_path):
    """Freezing W¹ PyTorch's way (requires_grad = False) left it out of state_dict and the file: loading then kept
    another model's W¹ without an error, and nn.load could not rebuild the network."""
    net = nn.MLP([2, 3, 1], rng=0)
    net.layers[0].weights.requires_grad = False
    assert len(net.parameters()) == 3                      # the optimizer's parameters: W¹ is frozen
    assert sorted(net.state_dict()) == ["layers.1.biases", "layers.1.weights", "layers.2.biases", "layers.2.weights"]
    net.save(tmp_path / "frozen.npz")
    x = np.array([[1.0, -0.5]])
    for frozen in (False, True):                            # into a model frozen the same way, or not
        other = nn.MLP([2, 3, 1], rng=1)
        other.layers[0].weights.requires_grad = not frozen
        other.load(tmp_path / "frozen.npz")
        np.testing.assert_array_equal(other(x).data, net(x).data)
        assert other.layers[0].weights.requires_grad is not frozen   # loading keeps it as it was
    np.testing.assert_array_equal(nn.load(tmp_path / "frozen.npz")(x).data, net(x).data)


def test_nn_load_freezes_again_what_was_frozen_so_a_saved_optimizer_state_still_fits(tmp_path):
    """nn.load rebuilt every weight trainable: a frozen W¹ trained again after loading, and the optimizer state
    saved with the model (3 parameters) no longer fitted the loaded one's 4."""
    net = nn.MLP([2, 3, 1], rng=0)
    net.layers[0].weights.requires_grad = False
    net.layers[1].biases.requires_grad = False
    opt = optim.SGD(net.parameters(), learning_rate=0.1, momentum=0.9)
    x, y = np.array([[1.0, -0.5], [0.3, 0.2]]), np.array([[0.5], [0.1]])

    def step(model, optimizer):
        optimizer.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        optimizer.step()

    step(net, opt)
    net.save(tmp_path / "frozen.npz")
    loaded = nn.load(tmp_path / "frozen.npz")
    assert [name for name, _ in loaded.named_parameters()] == [name for name, _ in net.named_parameters()]
    resumed = optim.SGD(loaded.parameters(), learning_rate=0.1, momentum=0.9)
    resumed.load_state_dict(opt.state_dict())
    step(net, opt), step(loaded, resumed)
    assert all(np.array_equal(a, b) for a, b in zip(loaded.state_dict().values(), net.state_dict().values()))
    assert loaded.layers[0].weights.data.tolist() == nn.load(tmp_path / "frozen.npz").layers[0].weights.data.tolist()


class _KeepsItsOutput(nn.Module):
    """A student's module that keeps its last output on itself, to look at it later."""

    def __init__(self) -> None:
        self.net = nn.MLP([1, 3, 1], rng=0)

    def forward(self, x):
        self.last = self.net(x)
        return self.last


def test_a_value_computed_by_an_operation_is_no_parameter():
    """An output kept as an attribute was counted as a parameter: num_parameters grew with the batch, save wrote
    the activations into the file, and a fresh model could not load it; w.astype(...) was a 'parameter' that no
    optimizer could train.  Both are now a TypeError naming the attribute."""
    model = _KeepsItsOutput()
    model(np.linspace(-1.0, 1.0, 8).reshape(-1, 1))
    for call in (model.parameters, model.num_parameters, model.state_dict):
        with pytest.raises(TypeError, match=r"named_parameters: 'last' holds a Value computed by an operation "
                                            r"\(sigmoid\).*'_'"):
            call()
    layer = nn.Layer(2, 3, rng=0)
    layer.weights = layer.weights.astype(np.float32)
    with pytest.raises(TypeError, match=r"'weights' holds a Value computed by an operation \(astype\)"):
        layer.state_dict()
    layer.weights = Value(layer.weights.data)      # the way to a float32 parameter
    assert [value.dtype for value in layer.parameters()] == [np.float32, np.float64]


def test_a_private_attribute_may_keep_an_output():
    class KeepsItPrivately(_KeepsItsOutput):
        def forward(self, x):
            self._last = self.net(x)
            return self._last

    model = KeepsItPrivately()
    model(np.ones((4, 1)))
    assert [name for name, _ in model.named_parameters()] == [name for name, _ in model.net.named_parameters("net")]


def test_a_frozen_value_under_a_key_that_cannot_name_it_is_refused():
    """A frozen Value under an int key was left out of state_dict() and the file without a word."""
    class Model(nn.Module):
        def __init__(self) -> None:
            self.layer = nn.Layer(2, 2, rng=0)
            self.table = {1: Value(np.ones(2), requires_grad=False)}

    with pytest.raises(TypeError, match=r"named_parameters: the dict 'table' holds parameters .* under the key 1"):
        Model().state_dict()


class _Residual(nn.Network):
    """A network that computes something else than its layers alone: x + layers(x)."""

    def forward(self, data):
        return super().forward(data) + data


class _Doubled(nn.Layer):
    def forward(self, data):
        return super().forward(data) * 2.0


@pytest.mark.parametrize("build", [lambda: _Residual(nn.Layer(2, 2, rng=0)),
                                   lambda: nn.Network(_Doubled(2, 2, rng=0))], ids=["network", "layer"])
def test_a_model_with_a_forward_of_its_own_is_not_rebuilt_as_a_plain_network(tmp_path, build):
    """nn.load rebuilt a plain Network from such a file, which computed another function without a word."""
    model = build()
    model.save(tmp_path / "own.npz")
    with pytest.raises(ValueError, match="stores parameters but no architecture"):
        nn.load(tmp_path / "own.npz")
    other = build()
    for value in other.parameters():
        value.data = value.data + 1.0
    other.load(tmp_path / "own.npz")
    x = np.array([[0.5, -1.0]])
    assert other(x).data.tobytes() == model(x).data.tobytes()
    nn.MLP([2, 2], activation="tanh", rng=0).save(tmp_path / "tanh.npz")
    with pytest.raises(ValueError, match="activations tanh, but this one has sigmoid"):  # still checked
        other.load(tmp_path / "tanh.npz")


def test_load_state_dict_with_strict_false_loads_what_fits_and_says_what_did_not():
    """PyTorch's strict=False was a TypeError; it now loads the entries that name parameters."""
    a, b = nn.MLP([2, 3, 1], rng=0), nn.MLP([2, 3, 1], rng=1)
    before = b.state_dict()
    state = {**a.state_dict(), "head.weights": np.zeros((1, 1))}
    del state["layers.2.weights"]
    result = b.load_state_dict(state, strict=False)
    assert result.missing_keys == ["layers.2.weights"] and result.unexpected_keys == ["head.weights"]
    after = b.state_dict()
    assert np.array_equal(after["layers.2.weights"], before["layers.2.weights"])
    assert all(np.array_equal(after[name], state[name]) for name in state if name != "head.weights")
    with pytest.raises(ValueError, match=r"layers.1.weights.*\(3, 2\)"):   # shapes are still checked
        b.load_state_dict({"layers.1.weights": np.zeros((3, 2))}, strict=False)
    counted_from_0 = {name.replace("layers.1", "layers.0").replace("layers.2", "layers.1"): array
                      for name, array in a.state_dict().items()}
    with pytest.raises(ValueError, match="count layers from 0"):          # nothing would fit
        b.load_state_dict(counted_from_0, strict=False)
    with pytest.raises(TypeError, match="load_state_dict: strict must be True or False, got str 'no'"):
        b.load_state_dict(a.state_dict(), strict="no")
    assert all(np.array_equal(array, after[name]) for name, array in b.state_dict().items())  # failures: no change
    assert tuple(b.load_state_dict(a.state_dict())) == ([], [])


def test_a_gradient_takes_the_dtype_a_loaded_state_gives_its_parameter():
    """After loading a float32 state into a float64 model, the gradients stayed float64 for good (backward adds to
    them), against "gradients always have the dtype of their Value"."""
    net = nn.MLP([2, 3, 1], rng=0)
    x = np.ones((4, 2))
    (net(x) ** 2).mean().backward()
    grads = [value.grad.copy() for value in net.parameters()]
    net.load_state_dict({name: array.astype(np.float32) for name, array in net.state_dict().items()})
    (net(x.astype(np.float32)) ** 2).mean().backward()
    for value, before in zip(net.parameters(), grads, strict=True):
        assert value.dtype == value.grad.dtype == np.float32
        np.testing.assert_allclose(value.grad, 2 * before, rtol=1e-4, atol=1e-6)  # the same gradient added again


def test_a_layer_refuses_an_array_for_its_weights_which_no_optimizer_would_train():
    """The seed's ``self.weights = np.random.rand(in_size, out_size)`` on an nn.Layer was accepted: parameters() then
    listed the biases only, so training left the weights as they were, and Network(layer) failed with numpy's
    "'numpy.ndarray' object has no attribute 'label'"."""
    from tinygrad_edu import optim
    from tinygrad_edu.training import fit

    layer = nn.Layer(4, 3, rng=0)
    for wrong in (np.random.default_rng(0).random((4, 3)), 0.5, None):
        with pytest.raises(TypeError, match=r"Layer: weights must be a Value of shape \(4, 3\).*"
                                            r"with no_grad\(\): layer\.weights\[\.\.\.\] = array"):
            layer.weights = wrong
    with pytest.raises(TypeError, match=r"biases must be a Value of shape \(3,\)"):
        layer.biases = np.zeros(3)
    with pytest.raises(ValueError, match=r"weights must have shape \(4, 3\) \(4 inputs, 3 neurons\).*\(3, 4\)"):
        layer.weights = Value(np.ones((3, 4)))
    assert layer.weights.shape == (4, 3) and [n for n, _ in layer.named_parameters()] == ["weights", "biases"]
    net = nn.Network(nn.Layer(2, 4, rng=1), layer)
    layer.weights = Value(np.full((4, 3), 0.1))  # the way to set them anew: a Value, labelled as the old one was
    assert layer.weights.label == "W^2" and any(p is layer.weights for p in net.parameters())
    with pytest.raises(TypeError, match=r"^layer 2: biases must be a Value of shape \(3,\), got ndarray"):
        layer.biases = np.zeros(3)  # in a network the error names the layer as forward's errors do

    class SeedsLayer(nn.Layer):  # the seed's class on top of nn.Layer, without nn.Layer's __init__
        def __init__(self, in_size, out_size):
            self.weights = np.random.rand(in_size, out_size)

    with pytest.raises(TypeError, match=r"^Layer: weights must be a Value"):
        SeedsLayer(2, 3)
    x = np.random.default_rng(2).random((8, 2))
    fit(net, x, np.zeros((8, 3)), optimizer=optim.GradientDescent(net, learning_rate=0.5), episodes=2, progress=False)
    assert not np.array_equal(layer.weights.data, np.full((4, 3), 0.1))  # trained


def test_data_of_the_wrong_shape_is_told_how_to_become_rows_of_inputs():
    """An 8×8 digit (seed section 4: 64 brightness values) and a batch of them: the error named the shapes only."""
    layer = nn.Layer(64, 10, rng=0)
    image = np.zeros((8, 8))
    with pytest.raises(ValueError, match=r"got data of shape \(8, 8\); one sample of shape \(8, 8\) is 64 inputs in "
                                         r"a row: x\.reshape\(-1\)$"):
        layer(image)
    with pytest.raises(ValueError, match=r"5 samples of shape \(8, 8\) are rows of 64 inputs: "
                                         r"x\.reshape\(len\(x\), -1\)"):
        layer(np.zeros((5, 8, 8)))
    assert layer(image.reshape(-1)).shape == (10,) and layer(np.zeros((5, 8, 8)).reshape(5, -1)).shape == (5, 10)
    with pytest.raises(ValueError, match=r"got data of shape \(3, 5\)$"):  # no reshape makes 64 of 15 numbers
        layer(np.zeros((3, 5)))


def test_the_contents_of_a_model_file_given_to_load_state_dict_say_how_to_read_the_file(tmp_path):
    """np.load("model.npz") handed to load_state_dict, as optimizer states are loaded: the refusal named the entries
    __format__ and __architecture__ and nothing else."""
    net = nn.MLP([2, 3, 1], rng=0)
    net.save(tmp_path / "model.npz")
    with np.load(tmp_path / "model.npz", allow_pickle=False) as contents:
        with pytest.raises(ValueError, match=r"unexpected __format__, __architecture__; it is a model file's contents"
                                             r".*model\.load\(path\) or nn\.load_state\(path\)"):
            nn.MLP([2, 3, 1], rng=1).load_state_dict(contents)
    fresh = nn.MLP([2, 3, 1], rng=1)
    fresh.load_state_dict(nn.load_state(tmp_path / "model.npz"))  # the way the message points to
    assert all(np.array_equal(a, b) for a, b in zip(fresh.state_dict().values(), net.state_dict().values()))


class _TwoLayers(nn.Module):
    """A user's own network, as in a notebook: named layers, a parameter of its own, a list of blocks."""

    def __init__(self) -> None:
        self.hidden = nn.Layer(2, 3, "relu", rng=0)
        self.out = nn.Layer(3, 1, rng=1)
        self.scale = Value(np.ones(2))
        self.blocks = [nn.MLP([1, 2], rng=2)]
        self._cache = Value(np.zeros(5))  # private: no child, no parameter

    def forward(self, x):
        return self.out(self.hidden(x)) * self.scale


def test_a_modules_repr_lists_its_children_and_the_shapes_of_its_parameters():
    """A user's Module printed as <__main__._TwoLayers object at 0x…>; PyTorch lists the children."""
    model = _TwoLayers()
    text = repr(model)
    assert "object at" not in text and text.startswith("_TwoLayers(\n")
    lines = text.splitlines()
    assert f"  (hidden): {model.hidden!r}" in lines and f"  (out): {model.out!r}" in lines
    assert "  (scale): parameter, shape (2,)" in lines and "_cache" not in text
    assert "  (blocks.1): MLP(" in lines and f"    (layers.1): {model.blocks[0].layers[0]!r}" in lines
    assert lines[-1] == f")  # {model.num_parameters()} parameters" and model.num_parameters() == 9 + 4 + 2 + 4
    loop = repr(_Owner())  # a child referring back to its parent: shown as ..., not an endless recursion
    assert "    (owner): ...\n" in loop and "(table.b): parameter, shape (3,)" in loop
    model.scale.requires_grad = False
    model.weights_as_arrays = np.zeros((2, 2))
    assert "  (scale): frozen parameter or buffer (requires_grad=False), shape (2,)" in repr(model).splitlines()
    assert "  (weights_as_arrays): numpy array, shape (2, 2): not a parameter" in repr(model).splitlines()


class _NumpyWeights(nn.Module):
    """Weights kept as numpy arrays, as the seed keeps them: no Value, so nothing to train or save."""

    def __init__(self) -> None:
        self.weights = np.ones((2, 3))
        self.biases = np.zeros(3)


def test_a_module_without_values_is_not_saved_as_an_empty_model(tmp_path):
    """It was saved as a file of no parameters without a word; loading it back gave the numbers nothing."""
    with pytest.raises(ValueError, match=r"^save: this _NumpyWeights holds no Values, so the file would be an empty "
                                         r"model; numpy arrays \(weights, biases\) are not parameters"):
        _NumpyWeights().save(tmp_path / "model.npz")
    with pytest.raises(ValueError, match=r"^save: this Module holds no Values"):
        nn.Module().save(tmp_path / "model.npz")
    assert list(tmp_path.iterdir()) == []


def test_a_network_is_a_sequence_of_its_layers_as_pytorchs_sequential_is():
    """len(net), net[i] and iteration, as on PyTorch's nn.Sequential: before, "'MLP' object is not subscriptable".
    net[0] is the seed's layer 1, whose labels say W^1."""
    net = nn.MLP([2, 4, 3, 1], rng=0)
    assert len(net) == 3 and list(net) == net.layers
    assert net[0] is net.layers[0] and net[-1] is net.layers[2] and net[np.int64(1)] is net.layers[1]
    assert net[0].weights.label == "W^1" and net[-1].biases.label == "b^3"
    with pytest.raises(IndexError, match=r"^MLP: no layer 3: it has 3, net\[0\] to net\[2\]$"):
        net[3]
    with pytest.raises(IndexError, match=r"^MLP: no layer -4: it has 3"):
        net[-4]
    for index in ("0", 1.0, True):
        with pytest.raises(TypeError, match=r"^MLP: a layer's index must be an integer, got "):
            net[index]


@pytest.mark.parametrize("part, written", [(slice(1, None), "1:"), (slice(None, 2), ":2"),
                                           (slice(None, None, 2), "::2")])
def test_a_slice_of_a_network_is_refused_as_it_would_number_the_labels_again(part, written):
    """A Network of some of the layers would give them the labels W^1, W^2, … again, changing the drawings of the
    network they belong to: the list net.layers[a:b] is what to take, and the labels stay."""
    net = nn.MLP([1, 3, 3, 1], rng=0)
    labels = [p.label for p in net.parameters()]
    with pytest.raises(TypeError, match=rf"^MLP: net\[{re.escape(written)}\] is not a Network; take the list "
                                        rf"net\.layers\[{re.escape(written)}\]"):
        net[part]
    assert [p.label for p in net.parameters()] == labels
