"""Weights moved between PyTorch and tinygrad_edu: a ``torch.nn.Sequential`` of Linear and Sigmoid/Tanh/ReLU layers
loaded into an ``nn.MLP`` of the same sizes and back, outputs, gradients and optimizer steps compared with
PyTorch's, dtypes kept, and the errors a state in PyTorch's names or layout gets.

A PyTorch ``Linear`` keeps ``weight`` as ``(out_features, in_features)`` and computes ``x @ weight.T + bias``; a
Layer here keeps ``weights`` as ``(in_size, out_size)`` and computes ``x @ weights + biases``.  The tests that need
PyTorch are skipped without it; those about the errors build PyTorch-shaped states from numpy arrays."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, losses, nn, optim

_ACTIVATIONS = {"tanh": "Tanh", "relu": "ReLU", "sigmoid": "Sigmoid"}


def _torch():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


def _torch_net(torch, sizes, activations, seed=0, dtype=None):
    """A Sequential of Linear layers, each followed by its activation module (by our names), in float64."""
    torch.manual_seed(seed)
    modules = []
    for n_in, n_out, activation in zip(sizes[:-1], sizes[1:], activations, strict=True):
        modules += [torch.nn.Linear(n_in, n_out), getattr(torch.nn, _ACTIVATIONS[activation])()]
    return torch.nn.Sequential(*modules).to(dtype or torch.float64)


def _our_net(sizes, activations):
    net = nn.MLP(sizes, activation=activations[0], rng=1)
    for layer, activation in zip(net, activations, strict=True):
        layer.activation = activation
    return net


def _from_pytorch(torch_state, layers):
    """PyTorch's state dict as ours: the i-th Linear (Sequential positions 0, 2, 4…) is layer i + 1, weight.T."""
    return {name: (torch_state[f"{2 * i}.weight"].T if part == "weights" else torch_state[f"{2 * i}.bias"])
            for i in range(layers) for name, part in ((f"layers.{i + 1}.weights", "weights"),
                                                       (f"layers.{i + 1}.biases", "biases"))}


def _as_numpy(torch_state):
    return {name: tensor.detach().numpy().copy() for name, tensor in torch_state.items()}


def _pytorch_state(sizes, rng=0):
    """A PyTorch-shaped state dict (names and (out, in) weights) made with numpy, for the tests without PyTorch."""
    generator = np.random.default_rng(rng)
    state = {}
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:], strict=False)):
        state[f"{2 * i}.weight"], state[f"{2 * i}.bias"] = generator.normal(size=(n_out, n_in)), generator.normal(
            size=n_out)
    return state


# --- the defects -------------------------------------------------------------------------------------------------

def test_a_pytorch_state_dict_is_refused_saying_the_names_shapes_and_the_transpose():
    net = nn.MLP([3, 5, 2], rng=0)
    with pytest.raises(ValueError) as error:
        net.load_state_dict(_pytorch_state([3, 5, 2]))
    message = str(error.value)
    assert "PyTorch" in message
    assert "layers.1.weights of shape (3, 5)" in message and "layers.2.biases of shape (2,)" in message
    assert "'layers.1.weights': state['0.weight'].T" in message and "'layers.2.biases': state['2.bias']" in message


def test_a_pytorch_state_dict_with_strict_false_is_refused_not_silently_ignored():
    net = nn.MLP([3, 5, 2], rng=0)
    before = net.state_dict()
    with pytest.raises(ValueError, match="PyTorch"):
        net.load_state_dict(_pytorch_state([3, 5, 2]), strict=False)
    for name, array in net.state_dict().items():
        np.testing.assert_array_equal(array, before[name])


def test_a_transposed_weight_in_a_state_is_refused_saying_to_transpose_it():
    state = _pytorch_state([3, 5, 2])
    net = nn.MLP([3, 5, 2], rng=0)
    with pytest.raises(ValueError, match=r"'layers\.1\.weights' has shape \(5, 3\).*transpose.*weight\.T"):
        net.load_state_dict(_from_pytorch(state, 2) | {"layers.1.weights": state["0.weight"]})


def test_a_transposed_weights_value_assigned_to_a_layer_says_to_transpose_it():
    layer = nn.Layer(3, 5, rng=0)
    with pytest.raises(ValueError, match=r"shape \(5, 3\).*transpose.*weight\.T"):
        layer.weights = Value(np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"shape \(3, 5\)"):  # not transposed, wrong: no such advice
        layer.weights = Value(np.zeros((2, 5)))


def test_the_layout_against_pytorchs_linear_is_documented_where_a_migrant_looks():
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    networks = readme[readme.index("## Networks and training"):]
    assert "`weight` too (`(out_features, in_features)`" in networks and 'state["0.weight"].T' in networks
    assert "Linear.weight" in nn.Layer.__doc__ and "(out_features, in_features)" in nn.Layer.__doc__
    with pytest.raises(AttributeError, match=r"transpose of Linear\.weight"):
        nn.Linear  # noqa: B018


# --- guards: what moving weights relies on --------------------------------------------------------------------

@pytest.mark.parametrize("activations", [("tanh", "relu", "sigmoid"), ("relu", "tanh", "tanh"),
                                         ("sigmoid", "sigmoid", "relu")])
def test_a_pytorch_sequential_loaded_computes_the_same_outputs_and_gradients(activations):
    torch = _torch()
    sizes = [3, 6, 4, 2]
    theirs = _torch_net(torch, sizes, activations)
    ours = _our_net(sizes, activations)
    ours.load_state_dict(_from_pytorch(_as_numpy(theirs.state_dict()), 3))
    x, y = np.random.default_rng(2).normal(size=(9, 3)), np.random.default_rng(3).random((9, 2))
    cost = losses.mean_squared_error(ours(x), y)
    cost.backward()
    their_cost = torch.nn.functional.mse_loss(theirs(torch.tensor(x)), torch.tensor(y))
    their_cost.backward()
    np.testing.assert_allclose(ours(x).data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(cost.item(), their_cost.item(), rtol=1e-13)
    for (name, value), (their_name, parameter) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        grad = parameter.grad.numpy()
        np.testing.assert_allclose(value.grad, grad.T if grad.ndim == 2 else grad, rtol=1e-12, atol=1e-16,
                                   err_msg=f"{name} / {their_name}")
    # and the gradient is the cost's slope: a central difference on one weight of each layer
    for value in ours.parameters():
        index = (0,) * value.ndim
        old, h = value.data[index], 1e-6
        value.data[index] = old + h
        up = losses.mean_squared_error(ours(x), y).item()
        value.data[index] = old - h
        down = losses.mean_squared_error(ours(x), y).item()
        value.data[index] = old
        assert abs((up - down) / (2 * h) - value.grad[index]) < 1e-7


def test_our_weights_loaded_into_pytorch_compute_the_same_outputs():
    torch = _torch()
    sizes, activations = [4, 5, 3], ("relu", "sigmoid")
    ours = _our_net(sizes, activations)
    theirs = _torch_net(torch, sizes, activations, seed=7)
    state = ours.state_dict()
    theirs.load_state_dict({f"{2 * i}.{kind}": torch.from_numpy(state[f"layers.{i + 1}.{ours_kind}"].T.copy()
                                                                 if kind == "weight" else
                                                                 state[f"layers.{i + 1}.{ours_kind}"])
                            for i in range(2) for kind, ours_kind in (("weight", "weights"), ("bias", "biases"))})
    x = np.random.default_rng(4).normal(size=(6, 4))
    np.testing.assert_allclose(theirs(torch.tensor(x)).detach().numpy(), ours(x).data, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pytorch_tensors_load_with_their_dtype_and_exact_numbers(dtype, tmp_path):
    torch = _torch()
    theirs = _torch_net(torch, [3, 4, 2], ("tanh", "sigmoid"), dtype=getattr(torch, dtype))
    ours = _our_net([3, 4, 2], ("tanh", "sigmoid"))
    ours.load_state_dict(_from_pytorch(theirs.state_dict(), 2))  # tensors, not numpy arrays
    for name, array in _from_pytorch(_as_numpy(theirs.state_dict()), 2).items():
        value = dict(ours.named_parameters())[name]
        assert value.dtype == np.dtype(dtype) and isinstance(value.data, np.ndarray)
        np.testing.assert_array_equal(value.data, array)
    path = tmp_path / "model.npz"
    ours.save(path)
    for loaded in (nn.load(path), _our_net([3, 4, 2], ("tanh", "sigmoid")).load(path)):
        for (name, value), (_, original) in zip(loaded.named_parameters(), ours.named_parameters(), strict=True):
            assert value.dtype == original.dtype, name
            np.testing.assert_array_equal(value.data, original.data)  # bit for bit
    x = np.random.default_rng(5).normal(size=(5, 3)).astype(dtype)
    np.testing.assert_allclose(ours(x).data, theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-6 if dtype == "float32" else 1e-13, atol=1e-7 if dtype == "float32" else 1e-15)


def test_float32_weights_stay_float32_through_a_gradient_and_an_optimizer_step():
    state = {name: array.astype(np.float32) for name, array in _from_pytorch(_pytorch_state([3, 4, 2]), 2).items()}
    net = _our_net([3, 4, 2], ("relu", "tanh"))
    net.load_state_dict(state)
    opt = optim.SGD(net, learning_rate=0.1, momentum=0.9)
    for _ in range(2):
        opt.zero_grad()
        losses.mean_squared_error(net(np.ones((2, 3))), np.zeros((2, 2))).backward()
        assert all(p.grad.dtype == np.float32 for p in net.parameters())
        opt.step()
    assert all(p.dtype == np.float32 for p in net.parameters())
    assert all(array.dtype == np.float32 for array in net.state_dict().values())


@pytest.mark.parametrize("method", ["sgd", "adam"])
def test_optimizer_steps_match_torch_optim_on_the_same_network(method):
    torch = _torch()
    sizes, activations = [3, 5, 2], ("tanh", "sigmoid")
    theirs = _torch_net(torch, sizes, activations)
    ours = _our_net(sizes, activations)
    ours.load_state_dict(_from_pytorch(_as_numpy(theirs.state_dict()), 2))
    if method == "sgd":
        opt, their_opt = optim.SGD(ours, learning_rate=0.3, momentum=0.9), torch.optim.SGD(theirs.parameters(), lr=0.3,
                                                                                           momentum=0.9)
    else:
        opt, their_opt = optim.Adam(ours, learning_rate=0.05), torch.optim.Adam(theirs.parameters(), lr=0.05)
    x, y = np.random.default_rng(6).normal(size=(8, 3)), np.random.default_rng(7).random((8, 2))
    for _ in range(4):
        opt.zero_grad()
        losses.mean_squared_error(ours(x), y).backward()
        opt.step()
        their_opt.zero_grad()
        torch.nn.functional.mse_loss(theirs(torch.tensor(x)), torch.tensor(y)).backward()
        their_opt.step()
    for name, array in _from_pytorch(_as_numpy(theirs.state_dict()), 2).items():
        np.testing.assert_allclose(dict(ours.named_parameters())[name].data, array, rtol=1e-12, atol=1e-14,
                                   err_msg=name)


@given(sizes=st.lists(st.integers(1, 5), min_size=2, max_size=4),
       activations=st.lists(st.sampled_from(sorted(_ACTIVATIONS)), min_size=3, max_size=3),
       seed=st.integers(0, 2**16))
def test_any_pytorch_sequential_of_these_layers_loads_and_computes_the_same(sizes, activations, seed):
    torch = _torch()
    activations = activations[:len(sizes) - 1]
    theirs = _torch_net(torch, sizes, activations, seed=seed)
    ours = _our_net(sizes, activations)
    ours.load_state_dict(_from_pytorch(_as_numpy(theirs.state_dict()), len(sizes) - 1))
    x = np.random.default_rng(seed).normal(size=(4, sizes[0]))
    np.testing.assert_allclose(ours(x).data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-13, atol=1e-15)
