"""An engineer who saves, copies and ships what the package makes: pickle (and multiprocessing's 'spawn', which
pickles), ``copy.copy`` and ``copy.deepcopy`` of layers and networks, optimizers mid-training, and the results of
the calculus module.  Pickling must either bring a thing back exactly or fail with a TypeError naming what cannot be
pickled and what to do instead; a copy or unpickled result must compare equal to its original.
test_copy_semantics_auditor.py and test_multiprocessing_user.py cover graphs, tied parameters, the optimizers and
workers; this goes on to layers whose activation is a lambda or a local function, and to equality after a copy."""

import copy
import dataclasses
import math
import pickle

import numpy as np
import pytest

from tinygrad_edu import calculus, losses, nn, optim

X = np.linspace(-1.0, 1.0, 8).reshape(4, 2)
Y = (X[:, :1] - X[:, 1:]) ** 2


def _cost(model: nn.Module):
    return losses.mean_squared_error(model(X), Y)


def _local_activation():
    def softer_tanh(v):
        return (v * 0.5).tanh()
    return softer_tanh


def _top_level_activation(v):
    return (v * 0.5).tanh()


# --- defects -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("activation", [lambda v: (v * 0.5).tanh(), _local_activation()], ids=["lambda", "local"])
def test_pickling_a_layer_whose_activation_pickle_cannot_find_names_the_layer_and_says_what_to_do(activation) -> None:
    net = nn.MLP([2, 3, 1], activation=activation, output_activation="identity", rng=0)
    with pytest.raises(TypeError, match=r"^pickle: layer 1 \(2 → 3\) has the activation .*(<lambda>|softer_tanh).*"
                                        r"model\.save\(path\).*model\.load\(path\)"):
        pickle.dumps(net)
    with pytest.raises(TypeError, match=r"^pickle: layer \(2 → 2\) has the activation"):  # alone, for a spawn worker
        pickle.dumps(nn.Layer(2, 2, activation=activation, rng=0), protocol=0)


def test_a_stationary_point_equals_its_copies_and_differs_from_another() -> None:
    found = calculus.stationary_point(lambda p: p[0] ** 3 - 3 * p[0] + p[1] ** 2, [0.8, 0.3])
    assert found.kind == "minimum" and np.allclose(found.point, [1.0, 0.0])  # the closed form: f' = 3x² − 3, 2y
    for twin in (copy.deepcopy(found), pickle.loads(pickle.dumps(found)), copy.copy(found)):
        assert twin == found and not twin != found
    moved = dataclasses.replace(found, point=found.point + 1.0)
    assert moved != found and not moved == found
    assert dataclasses.replace(found, kind="saddle") != found
    inconclusive = dataclasses.replace(found, value=math.nan, eigenvalues=np.array([math.nan, math.nan]))
    assert inconclusive == copy.deepcopy(inconclusive)  # NaN where NaN is, as Dataset compares
    assert (found == "minimum") is False


# --- guards --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("activation", [lambda v: (v * 0.5).tanh(), _local_activation()], ids=["lambda", "local"])
def test_copies_of_a_layer_whose_activation_pickle_cannot_find_keep_the_function_and_train_as_the_original(
        activation) -> None:
    net = nn.MLP([2, 3, 1], activation=activation, output_activation="identity", rng=0)
    opt = optim.SGD(net, learning_rate=0.1, momentum=0.9)
    opt.step(lambda: _cost(net))
    twin, twin_opt = copy.deepcopy((net, opt))
    shallow = copy.copy(net.layers[0])
    assert twin.layers[0].activation is activation and shallow.activation is activation
    assert shallow.weights is net.layers[0].weights and twin.layers[0].weights is not net.layers[0].weights
    for _ in range(3):
        opt.step(lambda: _cost(net))
        twin_opt.step(lambda: _cost(twin))
    for (name, p), (_, q) in zip(net._named_state(), twin._named_state(), strict=True):
        assert np.array_equal(p.data, q.data), name


def test_a_layer_with_a_top_level_activation_pickles_and_goes_on_bit_for_bit_with_its_adam() -> None:
    net = nn.MLP([2, 3, 1], activation=_top_level_activation, output_activation="identity", rng=0)
    opt = optim.Adam(net, learning_rate=0.05)
    opt.step(lambda: _cost(net))
    twin, twin_opt = pickle.loads(pickle.dumps((net, opt)))
    assert twin.layers[0].activation is _top_level_activation
    assert all(p is q for p, q in zip(twin_opt.params, twin.parameters(), strict=True))
    for _ in range(3):
        opt.step(lambda: _cost(net))
        twin_opt.step(lambda: _cost(twin))
    for (name, p), (_, q) in zip(net._named_state(), twin._named_state(), strict=True):
        assert np.array_equal(p.data, q.data), name


def test_a_failed_pickle_of_a_model_leaves_it_and_its_layers_as_they_were() -> None:
    net = nn.MLP([2, 3, 1], activation=lambda v: v.tanh(), rng=0)
    before = {name: array.copy() for name, array in net.state_dict().items()}
    activations = [layer.activation for layer in net.layers]
    with pytest.raises((TypeError, pickle.PicklingError, AttributeError)):  # (which: the defect test's business)
        pickle.dumps(net)
    assert [layer.activation for layer in net.layers] == activations
    assert all(np.array_equal(before[name], array) for name, array in net.state_dict().items())
    assert np.array_equal(net(X).data, np.tanh(np.tanh(X @ net.layers[0].weights.data + net.layers[0].biases.data)
                                               @ net.layers[1].weights.data + net.layers[1].biases.data))
