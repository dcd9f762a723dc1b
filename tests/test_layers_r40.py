"""Round 40, layers as a PyTorch user builds them: what the messages advise works when pasted."""

import re

import numpy as np
import pytest

from tinygrad_edu import Value, nn


def test_a_transposed_value_as_weights_is_told_to_become_a_parameter_not_a_view():
    """A Value of a Linear's shape (out, in) set as a Layer's weights was told "give its transpose, weight.T": that is
    a Value computed by an operation, which the Layer took and parameters(), state_dict() and save then refused."""
    weight = Value(np.arange(6.0).reshape(3, 2))  # PyTorch's Linear(2, 3).weight: (out_features, in_features)
    layer = nn.Layer(2, 3, activation="identity", rng=0)
    with pytest.raises(ValueError, match=r"got a Value of shape \(3, 2\); it is that shape transposed") as caught:
        layer.weights = weight
    advised = re.search(r"Value\(weight\.data\.T\)", str(caught.value))
    assert advised is not None, str(caught.value)
    assert "give its transpose, weight.T" not in str(caught.value)
    layer.weights = Value(weight.data.T)  # what it says to write
    assert [value.shape for value in layer.parameters()] == [(2, 3), (3,)]
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    expected = x @ weight.data.T + layer.biases.data  # PyTorch's x @ weight.T + bias, written out
    np.testing.assert_allclose(layer(x).data, expected, rtol=0, atol=1e-12)


def test_a_transposed_array_still_gets_weight_T_for_load_state_dict():
    """load_state_dict takes arrays: there weight.T (of an array or a tensor) is the right advice, and works."""
    layer = nn.Layer(2, 3, rng=0)
    weight = np.arange(6.0).reshape(3, 2)
    with pytest.raises(ValueError, match=r"give its transpose, weight\.T"):
        layer.load_state_dict({"weights": weight, "biases": np.zeros(3)})
    layer.load_state_dict({"weights": weight.T, "biases": np.zeros(3)})
    np.testing.assert_array_equal(layer.weights.data, weight.T)


class _Norm(nn.Module):
    """A module of one's own with a buffer (a Value that needs no gradient) beside a layer."""

    def __init__(self) -> None:
        self.hidden = nn.Layer(3, 2, rng=0)
        self.running_mean = Value(np.zeros(2), requires_grad=False)

    def forward(self, x):
        return self.hidden(x) - self.running_mean


@pytest.mark.parametrize("name", ["half", "buffers", "named_buffers", "get_submodule", "get_parameter"])
def test_pytorchs_module_methods_say_what_to_write(name: str) -> None:
    """model.half(), model.buffers(), model.get_submodule(...): a bare "'MLP' object has no attribute" before."""
    for model in (nn.MLP([3, 2], rng=0), _Norm()):
        with pytest.raises(AttributeError, match=rf"^{type(model).__name__} has no attribute {name}: \S"):
            getattr(model, name)
        assert name not in dir(model)


def test_what_the_module_methods_advice_says_works() -> None:
    """The advice's own expressions give what PyTorch's methods would."""
    model = nn.MLP([3, 4, 2], rng=0)
    assert dict(model.named_modules())["layers.1"] is model[0]  # get_submodule("layers.1")
    assert dict(model.named_parameters())["layers.2.weights"] is model[1].weights  # get_parameter(...)
    own = _Norm()
    assert "running_mean" in own.state_dict()  # buffers
    assert all(value is not own.running_mean for value in own.parameters())
    model.double()
    assert model[0].weights.dtype == np.float64  # what half() is told: float() or double()
    with pytest.raises(ValueError, match="float16"):
        model.load_state_dict({name: array.astype(np.float16) for name, array in model.state_dict().items()})
    for name, advice in (("half", "float16"), ("get_submodule", "named_modules"), ("get_parameter", "named_parameters"),
                         ("buffers", "requires_grad=False")):
        with pytest.raises(AttributeError, match=advice):
            getattr(model, name)


def test_a_module_of_ones_own_may_define_them() -> None:
    class Mine(nn.Module):
        def __init__(self) -> None:
            self.layer = nn.Layer(2, 1, rng=0)

        def half(self) -> str:
            return "mine"

    assert Mine().half() == "mine"
