"""Modules of one's own, written and operated on as a PyTorch user does: sub-modules in containers, model surgery
after construction (a layer replaced in a network), attributes whose names are Module's own methods.  Defects found
by an exploratory pass in the role of a custom module author; each test asserts the behaviour expected."""

import collections
import types

import numpy as np
import pytest

from tinygrad_edu import Value, nn, optim, viz


class _Box(nn.Module):
    """A module of one's own, its attributes set by keyword."""

    def __init__(self, **attributes):
        super().__init__()
        for name, value in attributes.items():
            setattr(self, name, value)


# --- model surgery on a Network ----------------------------------------------------------------------------------

def test_a_layer_put_into_a_network_after_it_was_built_is_numbered_as_its_place():
    """``net.layers[1] = nn.Layer(3, 1)`` (PyTorch's ``seq[1] = nn.Linear(...)``) leaves the new layer unnumbered:
    after a forward its Values are still labelled ``W``, ``b``, ``z``, ``α`` (not ``W²``…) and the drawing of the
    network's graph boxes it as "layer", not "layer 2", although ``named_parameters`` calls it ``layers.2``."""
    net = nn.MLP([2, 3, 1], rng=0)
    net.layers[1] = nn.Layer(3, 1, rng=5)
    out = net(np.ones((1, 2))).sum()
    assert (net[1].weights.label, net[1].biases.label, net[1].name) == ("W^2", "b^2", "layer 2")
    assert "<B>layer 2</B>" in viz.draw_graph(out, model=net).source


def test_a_layer_removed_from_a_network_renumbers_those_after_it():
    """``del net.layers[0]``: the layer that is now first is still labelled ``W^2`` and named "layer 2" in its
    errors, while ``named_parameters`` names it ``layers.1``."""
    net = nn.MLP([2, 2, 2, 1], rng=0)
    del net.layers[0]
    net(np.ones((1, 2)))
    assert [(layer.weights.label, layer.name) for layer in net] == [("W^1", "layer 1"), ("W^2", "layer 2")]


# --- attributes under the names of Module's own methods -----------------------------------------------------------

@pytest.mark.parametrize("name, value", [
    ("parameters", [Value(np.ones(2))]),
    ("modules", {"head": nn.Layer(1, 1, rng=0)}),
    ("zero_grad", nn.Layer(1, 1, rng=0)),
    ("state_dict", Value(np.ones(1))),
])
def test_a_parameter_or_module_named_after_a_module_method_is_refused_by_name(name, value):
    """``model.parameters = [Value(...)]`` hides ``Module.parameters``: later ``optim.SGD(model)`` says "params must
    be a Module ... got _Box" (it is one), ``model.train()`` fails with "'dict' object is not callable" and
    ``model.zero_grad()`` calls the Layer's forward.  PyTorch refuses a parameter or sub-module named after an
    existing attribute when it is set; a TypeError naming the attribute is expected here too."""
    model = _Box(w=Value(np.ones(1)))
    with pytest.raises(TypeError, match=f"_Box: the attribute '{name}' would hide _Box.{name}"):
        setattr(model, name, value)
    assert callable(getattr(model, name))  # the method is still there


def test_plain_values_under_a_method_name_are_still_allowed():
    """Only Modules and Values are refused: a forward of one's own set on the instance still works."""
    model = _Box(w=Value(np.ones(1)))
    model.forward = lambda x: x * model.w
    assert model(np.array([2.0])).data.tolist() == [2.0]


# --- containers that are not walked ------------------------------------------------------------------------------

@pytest.mark.parametrize("container", [
    lambda layers: collections.UserList(layers),
    lambda layers: collections.UserDict(a=layers[0], b=layers[1]),
    lambda layers: types.MappingProxyType({"a": layers[0], "b": layers[1]}),
    lambda layers: collections.ChainMap({"a": layers[0]}, {"b": layers[1]}),
])
def test_modules_in_a_mapping_or_sequence_that_is_no_list_or_dict_are_not_silently_left_out(container):
    """Layers kept in a ``UserList``, ``UserDict``, ``MappingProxyType`` or ``ChainMap`` are not walked:
    ``parameters()`` is ``[]``, an optimizer of the model raises "got no parameters" at best, and a model with one
    other weight trains and saves only that one, without a word.  A set or deque of Modules is already refused
    with a TypeError naming the attribute; these should be too."""
    model = _Box(blocks=container([nn.Layer(2, 2, rng=0), nn.Layer(2, 2, rng=1)]), scale=Value(1.0))
    with pytest.raises(TypeError, match="'blocks'"):
        optim.SGD(model, learning_rate=0.1)


# --- repr -------------------------------------------------------------------------------------------------------

def test_repr_of_a_module_with_one_number_says_parameter():
    """``repr`` ends ``# 1 parameters`` for a module holding one number (a scalar Value)."""
    assert repr(_Box(scale=Value(1.0))).endswith("# 1 parameter")


@pytest.mark.parametrize("held", [lambda: nn.Layer(2, 1, rng=0), lambda: [nn.Layer(2, 1, rng=0)],
                                  lambda: {"head": nn.Layer(2, 1, rng=0)}])
def test_a_module_under_a_private_name_is_refused_because_nothing_would_train_it(held):
    """``self._head = Layer(...)``, as a PyTorch user writes it: PyTorch trains and saves it; here '_' attributes
    are private, so its weights stayed out of parameters(), the optimizer and the file without a word."""
    class Model(nn.Module):
        def __init__(self):
            self.body = nn.Layer(2, 2, rng=1)
            self._head = held()

    with pytest.raises(TypeError, match=r"^Model: the attribute '_head' holds a Module, but attributes whose names "
                                        r"start with '_' are private here: .* give it a name that does not start"):
        Model()


def test_a_private_value_or_output_is_still_allowed():
    """(an earlier decision: a private Value is scratch, not a parameter)"""
    class Model(nn.Module):
        def __init__(self):
            self.body = nn.Layer(2, 2, rng=1)
            self._scratch = Value(np.zeros(3))

        def forward(self, x):
            self._last = self.body(x)
            return self._last

    model = Model()
    model(np.ones((1, 2)))
    assert [name for name, _ in model.named_parameters()] == ["body.weights", "body.biases"]
