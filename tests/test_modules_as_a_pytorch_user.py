"""Modules of one's own, written as a PyTorch user writes them on top of Layer and Value: containers of
sub-modules, outputs kept on the module, and names that cannot be told apart.  Defects found by an exploratory pass
in that role, each test failing before its fix."""

import collections

import numpy as np
import pytest

from tinygrad_edu import Value, nn


class _Box(nn.Module):
    """A module of one's own, its attributes set by keyword."""

    def __init__(self, **attributes):
        for name, value in attributes.items():
            setattr(self, name, value)


class _KeepsItsOutput(nn.Module):
    """A layer, then (after a forward) its output kept under a public name: no parameter, so ``parameters()`` and
    everything that walks the state raise a TypeError naming it (as documented)."""

    def __init__(self):
        self.layer = nn.Layer(2, 2, rng=0)

    def forward(self, x):
        self.out = self.layer(x)
        return self.out


# --- a refused walk changes nothing ----------------------------------------------------------------------------

def test_float_that_raises_leaves_every_weight_in_its_dtype():
    """``model.float()`` on a module keeping its output as ``self.out`` raises the documented TypeError, but only
    after converting the layer's weights, which come first: the model is left half float32, half float64.  A user
    expects a refused call to change nothing (as load_state_dict checks everything before assigning anything)."""
    model = _KeepsItsOutput()
    model(np.ones((1, 2)))
    with pytest.raises(TypeError, match="'out'"):
        model.float()
    assert model.layer.weights.dtype == np.float64
    assert model.layer.biases.dtype == np.float64


def test_requires_grad_that_raises_freezes_nothing():
    """``model.requires_grad_(False)`` raises the documented TypeError for ``self.out``, but has frozen the layer
    first: an optimizer made afterwards silently leaves the layer alone.  A refused call should change nothing."""
    model = _KeepsItsOutput()
    model(np.ones((1, 2)))
    with pytest.raises(TypeError, match="'out'"):
        model.requires_grad_(False)
    assert model.layer.weights.requires_grad and model.layer.biases.requires_grad


def test_zero_grad_that_raises_keeps_every_gradient():
    """``model.zero_grad()`` raises the documented TypeError for ``self.out`` after setting the layer's gradients to
    None: the gradients of the last backward are lost although the call was refused."""
    model = _KeepsItsOutput()
    model(np.ones((1, 2))).sum().backward()
    with pytest.raises(TypeError, match="'out'"):
        model.zero_grad()
    assert model.layer.weights.grad is not None


# --- parameters silently missed or lost ------------------------------------------------------------------------

@pytest.mark.parametrize("container", [set, frozenset, collections.deque])
def test_modules_in_a_set_or_deque_are_not_silently_left_out(container):
    """Lists, tuples and dicts of Modules are walked, so a user keeping layers in a set or a deque expects them to
    be too; instead ``parameters()`` is ``[]``, an optimizer gets nothing (or only the other layers) and ``save``
    writes none of them, without a word.  A set has no order to name its entries by: say so (TypeError naming the
    attribute) rather than leave them out, as a dict with a non-string key is refused."""
    model = _Box(blocks=container([nn.Layer(2, 2, rng=0), nn.Layer(2, 2, rng=1)]))
    with pytest.raises(TypeError, match="blocks"):
        model.parameters()


def test_an_attribute_whose_name_has_a_dot_cannot_hide_another_parameter():
    """``setattr(model, "a.b", Value(...))`` beside ``model.a = {"b": Value(...)}`` gives two parameters named
    ``a.b``: named_parameters lists the name twice, state_dict keeps one, and save/load silently loses the other.
    A dict key with a ``.`` is refused with a TypeError for this reason; an attribute name should be too (PyTorch
    refuses parameter names with a ``.``)."""
    model = _Box(a={"b": Value(np.array([1.0]))})
    setattr(model, "a.b", Value(np.array([2.0])))
    with pytest.raises(TypeError, match="a.b"):
        model.state_dict()


# --- subclasses whose __init__ did not call the base class's ---------------------------------------------------

class _LayerWithoutInit(nn.Layer):
    """A Layer subclass whose ``__init__`` forgot ``super().__init__(...)``."""

    def __init__(self):
        self.scale = Value(1.0)


class _NetworkWithoutInit(nn.Network):
    """A Network subclass whose ``__init__`` forgot ``super().__init__(...)``."""

    def __init__(self):
        self.extra = nn.Layer(1, 1, rng=0)
