"""Edges found by the second pass of mutation testing of ``nn.py``: each test pins a behaviour that a hand-made
mutant (a flipped comparison, a dropped check or branch, a wrong label, default or argument, a state changed before
a check fails) changed while the other tests passed.

100 mutants of ``tinygrad_edu/nn.py``, none repeating the first pass (tests/test_nn_checks_mutants.py); 83 killed
before these tests, 96 after.  Screened with tests/test_nn.py, test_nn_edges.py, test_nn_checks_mutants.py,
test_reprs_half_built.py, test_public_names.py and the module's doctests; the 23 survivors were also run against
test_serialization.py, test_serialization_edges.py, test_api_misuse.py, test_training.py and test_resume.py, which
killed 6 (MLP's own checks of ``init`` and ``output_activation``, ``Layer``'s ``init`` that is not a string,
``_architecture``'s shape check, ``load`` dropping layer names, ``Module.load`` reading entries of any size).

One defect found on the way, and fixed with its test below: micrograd's ``MLP(np.int64(3), [4, 4, 1])`` is told to write
``MLP([np.int64(3), 4, 4, 1])`` (numpy 2's repr of the size) rather than ``MLP([3, 4, 4, 1])``.

Equivalent mutants, left without a test:

- ``Layer.__init__`` testing ``init != "xavier" and init != "he" and init == "uniform" or init == "uniform"``: the
  same truth value as ``init == "uniform"``.
- ``Network.sizes`` as every layer's ``in_size`` and the last ``out_size``: consecutive layers are checked to fit
  when the network is built, so both lists are the same.
- ``Module.load`` calling ``load_state_dict(state, strict=False)``: ``serialization.read`` was given the model's
  shapes and has already refused a file whose entries are not exactly the model's parameters.

Left without a test, as no promise says which is right:

- ``Layer.__repr__`` leaving out ``name=''`` for an empty name (the ``name`` property takes an empty name for none).
"""

import numpy as np
import pytest
from helpers_models import Values

from tinygrad_edu import Value, nn
from tinygrad_edu.functional import sigmoid


class _Empty(nn.Module):
    """A module without members."""

    def forward(self, x):
        return x


class _Failing:
    """A callable object (no ``__name__``) used as an activation; it fails on a Value."""

    def __call__(self, z):
        raise TypeError("no numbers")


def test_a_network_is_built_from_a_tuple_of_layers_as_from_a_list():
    """``Network(*given: Layer | Sequence[Layer])``: one tuple of layers is the layers, as one list is."""
    first, second = nn.Layer(2, 3, rng=0), nn.Layer(3, 1, rng=1)
    network = nn.Network((first, second))
    assert network.layers == [first, second] and network.sizes == [2, 3, 1]
    assert (first.weights.label, second.biases.label) == ("W^1", "b^2")


def test_an_unfrozen_layers_config_is_the_documented_architecture_entry():
    """The file format's layer entry is ``{"in_size", "out_size", "activation", "name"}``; ``"frozen"`` is only added
    for a layer whose weights or biases are frozen (serialization's docstring)."""
    layer = nn.Layer(1, 12, activation="relu")
    assert layer.config() == {"in_size": 1, "out_size": 12, "activation": "relu", "name": None}
    layer.biases.requires_grad = False
    assert layer.config()["frozen"] == ["biases"]


def test_load_rebuilds_layers_without_names_as_unnamed_and_refreezes_weights_and_biases(tmp_path):
    """A layer given no name is saved with ``"name": null`` (not its display name "layer 1") and comes back
    unnamed; a layer whose weights and biases were both frozen comes back with both frozen."""
    network = nn.Network(nn.Layer(2, 3, rng=0), nn.Layer(3, 1, rng=1, name="out"))
    network.layers[0].requires_grad_(False)
    network.save(tmp_path / "model.npz")
    loaded = nn.load(tmp_path / "model.npz")
    assert [layer._name for layer in loaded.layers] == [None, "out"]
    assert repr(loaded.layers[0]) == "Layer(2 → 3, activation='sigmoid')"
    assert loaded.layers[0].name == "layer 1"
    assert not loaded.layers[0].weights.requires_grad and not loaded.layers[0].biases.requires_grad
    assert loaded.num_parameters() == 4


def test_a_load_state_dict_that_fails_on_a_later_entry_changes_nothing():
    """Every entry is checked before anything is assigned: a bad second entry leaves the first parameter as it
    was, though the first entry was good."""
    model = nn.MLP([2, 1], rng=0)
    before = model.state_dict()
    state = {"layers.1.weights": np.full((2, 1), 0.5), "layers.1.biases": np.array([np.nan])}
    with pytest.raises(ValueError, match="'layers.1.biases' holds NaN or inf"):
        model.load_state_dict(state)
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, before[name])


def test_load_state_dict_refuses_float16_entries():
    """Entries must be float32 or float64 (a float16 one would make a float16 parameter, kept as loaded)."""
    model = nn.MLP([2, 1], rng=0)
    state = {name: array.astype(np.float16) for name, array in model.state_dict().items()}
    with pytest.raises(ValueError, match="entry 'layers.1.weights' has dtype float16; expected float32 or float64"):
        model.load_state_dict(state)
    assert model.layers[0].weights.dtype == np.float64


def test_load_state_dict_takes_values_as_pytorch_takes_parameters():
    """A state of Values (``dict(other.named_parameters())``, as PyTorch's ``state_dict(keep_vars=True)`` holds
    Parameters) loads their numbers."""
    source, target = nn.MLP([2, 1], rng=0), nn.MLP([2, 1], rng=1)
    target.load_state_dict(dict(source.named_parameters()))
    np.testing.assert_array_equal(target.layers[0].weights.data, source.layers[0].weights.data)
    assert target.layers[0].weights is not source.layers[0].weights


def test_load_state_dict_copies_the_numbers_rather_than_sharing_the_callers_arrays():
    """As PyTorch's ``copy_``: changing the state's arrays after loading does not change the model."""
    model = nn.MLP([2, 1], rng=0)
    state = {"layers.1.weights": np.array([[1.0], [2.0]]), "layers.1.biases": np.array([3.0])}
    weights = model.layers[0].weights
    model.load_state_dict(state)
    state["layers.1.weights"][...] = 0.0
    assert model.layers[0].weights is weights
    np.testing.assert_array_equal(weights.data, [[1.0], [2.0]])
    assert weights.data is not state["layers.1.weights"]


def test_a_module_without_parameters_in_a_dict_under_a_bad_key_is_refused():
    """Modules in a dict need keys that are non-empty strings without ``.``, even a Module holding no Value."""
    class Table(nn.Module):
        def __init__(self):
            self.table = {1: _Empty()}

    with pytest.raises(TypeError, match="the dict 'table' holds parameters \\(in a _Empty\\) under the key 1"):
        Table().state_dict()


def test_an_empty_modules_repr_is_one_line():
    """No members: ``_Empty()  # 0 parameters``, with no blank line inside the brackets (PyTorch's ``Empty()``)."""
    assert repr(_Empty()) == "_Empty()  # 0 parameters"
    assert repr(Values(1)) == "Values(\n  (v0): parameter, shape (2,)\n)  # 2 parameters"


def test_the_repr_of_a_module_keeping_a_computed_value_names_it_and_leaves_out_the_count():
    """``num_parameters`` raises TypeError for a Value computed by an operation; the repr still shows, and its line
    says what the Value is."""
    class Keeps(nn.Module):
        def __init__(self):
            self.weights = Value(np.ones(2))
            self.output = self.weights * 2.0

    text = repr(Keeps())
    assert text.startswith("Keeps(\n  (weights): parameter, shape (2,)\n  (output): Value computed by ")
    assert text.endswith(": not a parameter\n)")


def test_an_activation_without_a_name_is_named_by_its_class():
    """A callable object has no ``__name__``: the repr and the error of a failing activation name its class."""
    layer = nn.Layer(2, 1, activation=_Failing(), rng=0)
    assert repr(layer) == "Layer(2 → 1, activation=<function _Failing>)"
    with pytest.raises(TypeError, match="^layer: the activation _Failing failed on a Value of shape \\(1,\\)"):
        layer(np.zeros(2))
    assert nn.Layer(2, 1, activation=sigmoid).config()["activation"] == "sigmoid"


def test_micrograds_mlp_call_with_a_numpy_int_gets_the_hint():
    """``MLP(np.int64(3), [4, 4, 1])`` (a size from numpy) is micrograd's call as much as ``MLP(3, [4, 4, 1])``."""
    with pytest.raises(TypeError, match=r"; micrograd's MLP\(3, \[4, 4, 1\]\) is MLP\(\["):
        nn.MLP(np.int64(3), [4, 4, 1])


def test_micrograds_hint_for_a_numpy_int_suggests_plain_sizes():
    """The suggested call is ``MLP([3, 4, 4, 1])``, not ``MLP([np.int64(3), 4, 4, 1])`` (numpy 2's repr)."""
    with pytest.raises(TypeError, match=r"micrograd's MLP\(3, \[4, 4, 1\]\) is MLP\(\[3, 4, 4, 1\], "
                                        r"activation='relu', output_activation='identity', init='xavier'\) here$"):
        nn.MLP(np.int64(3), [4, 4, 1])
