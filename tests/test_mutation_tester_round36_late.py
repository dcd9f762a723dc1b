"""Mutation pass over the round's late changes (git diff efb7bed -- tinygrad_edu): tests that kill the surviving
mutants of the settings' printing (printing.param_text, the engine's array parameters), np.split's uneven-split
message, cross_entropy's layout advice, pytorch_cost_advice, a layer's sizes and numbers, the player's shown
settings and an optimizer state's parameter label."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Op, Value, apply, losses, nn, no_grad, notation, optim, printing
from tinygrad_edu.autodiff import gradients
from tinygrad_edu.engine import _param_text
from tinygrad_edu.player import forward_formula

# --- printing.param_text and the engine's errors


def test_a_list_of_one_setting_is_written_without_a_tuples_comma() -> None:
    """v[[0]]'s key is the list [0] (Python writes no comma in it), a tuple of one is (0,)."""
    assert printing.param_text([np.int64(0)]) == "[0]"
    assert notation.param_text([np.int64(2)]) == "[2]"
    assert printing.param_text((np.int64(0),)) == "(0,)"


def test_the_engines_errors_write_a_small_matrix_parameter_by_its_shape() -> None:
    """A 2 × 2 array (fewer than 9 numbers, but more than one row) would take several lines in an error message."""
    assert _param_text(np.eye(2)) == "<float64 array of shape (2, 2)>"
    assert _param_text((np.eye(2, dtype=np.int64), 0)) == "(<int64 array of shape (2, 2)>, 0)"
    assert _param_text(np.arange(3)) == "[0, 1, 2]"


# --- np.split of a Value


def test_np_split_without_an_axis_names_axis_0() -> None:
    v = Value(np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"into 3 equal parts along axis 0, of length 5, not a multiple of 3"):
        np.split(v, 3)


def test_np_splits_other_refusals_are_not_the_uneven_split_message() -> None:
    """Only an uneven division gets the uneven-split message: a section count below 1 is refused as 0 parts is (not
    "cannot be split into -1 equal parts", nor, since round 38, numpy's bare "number sections must be larger than
    0.")."""
    with pytest.raises(ValueError) as for_value:
        np.split(Value(np.zeros((5, 2))), -1)
    assert str(for_value.value).startswith("np.split: a Value of shape (5, 2) cannot be split into -1 parts along "
                                           "axis 0: give the number of parts, at least 1")
    assert "equal parts" not in str(for_value.value)


def test_np_split_by_keywords_gets_the_uneven_split_message() -> None:
    v = Value(np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"cannot be split into 3 equal parts along axis 0, of length 5"):
        np.split(ary=v, indices_or_sections=3)
    with pytest.raises(ValueError, match=r"into 4 equal parts along axis 1, of length 2"):
        np.split(v, indices_or_sections=4, axis=1)


# --- cross_entropy's advice for logits of more than two axes


def _refusal(logits_shape: tuple[int, ...], labels: object) -> str:
    with pytest.raises(ValueError, match=r"^cross_entropy: logits must have shape \(n, k\) or \(k,\)") as error:
        losses.cross_entropy(Value(np.zeros(logits_shape)), labels)
    return str(error.value)


_PER_POSITION = "take each position for a sample"
_AXIS_1 = "with the classes on axis 1"


@pytest.mark.parametrize("labels", [np.zeros((2, 3), np.int64), np.zeros((2, 3, 4)), Value(np.zeros((2, 3)))],
                         ids=["labels-per-position", "one-hot-per-position", "labels-a-Value"])
def test_labels_of_each_position_get_the_per_position_advice_alone(labels: object) -> None:
    """Logits (2, 3, 4) with labels (2, 3) (or one-hot (2, 3, 4)): 4 classes at each of 3 positions, which a
    convolution's axis-1 layout (labels (2, 4)) does not fit, so its advice is not given."""
    message = _refusal((2, 3, 4), labels)
    assert "cross_entropy(logits.reshape(-1, 4), labels.reshape(-1))" in message
    assert _AXIS_1 not in message


def test_labels_that_fit_both_layouts_get_both_advices() -> None:
    """Logits (2, 3, 3) with labels (2, 3): 3 classes at 3 positions, or 3 classes on axis 1 at 3 positions."""
    message = _refusal((2, 3, 3), np.zeros((2, 3), np.int64))
    assert _PER_POSITION in message and _AXIS_1 in message


def test_ragged_labels_get_the_logits_refusal_not_numpys() -> None:
    message = _refusal((2, 3, 4), [[0, 1], [1]])
    assert _PER_POSITION in message and _AXIS_1 in message


def test_pytorch_cost_advice_refuses_a_name_that_is_no_string() -> None:
    with pytest.raises(TypeError, match=r"^pytorch_cost_advice: name must be a str, got int"):
        losses.pytorch_cost_advice(5)  # type: ignore[arg-type]


# --- the player's forward steps


def _second_order_scatter(x: Value, key: object) -> Value:
    """The scatter Op that a recorded backward pass of x[key] puts in the graph (its vjp)."""
    (grad,) = gradients((x[key] * x[key]).sum(), [x], create_graph=True)
    seen: set[int] = set()
    stack = [grad]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if node.op == "scatter":
            return node
        stack.extend(node.parents)
    raise AssertionError("no scatter in the recorded backward pass")


@pytest.mark.parametrize(("make", "written"), [
    (lambda x: F.softmax(x, axis=0), "softmax(x, axis=0)"),
    (lambda x: F.log_softmax(x, axis=0), "log_softmax(x, axis=0)"),
    (lambda x: F.softmax(x), "softmax(x, axis=-1)"),
    (lambda x: x.astype(np.float32), "astype(x, dtype=float32)"),
    (lambda x: _second_order_scatter(x, (slice(None), 0)), "scatter(x, shape=(2, 3), key=(:, 0))"),
], ids=["softmax", "log_softmax", "softmax-default", "astype", "scatter"])
def test_a_forward_step_writes_the_settings_that_change_its_numbers(make: Any, written: str) -> None:
    node = make(Value(np.arange(6.0).reshape(2, 3), requires_grad=True))
    assert forward_formula(node, ["x"]) == written


def test_a_forward_step_writes_a_setting_of_none_that_changes_its_numbers() -> None:
    x = Value(np.arange(6.0).reshape(2, 3), requires_grad=True)
    over_all = F.softmax(x, axis=None)
    assert over_all.data.sum() == pytest.approx(1.0)  # one distribution over the 6 numbers, not one per row
    assert forward_formula(over_all, ["x"]) == "softmax(x, axis=None)"
    assert forward_formula(F.log_softmax(x, axis=None), ["x"]) == "log_softmax(x, axis=None)"
    assert forward_formula(_second_order_scatter(x, None), ["g"]) == "scatter(g, shape=(2, 3), key=None)"


def test_a_custom_ops_settings_are_written_in_its_forward_step() -> None:
    log_base = Op("log_base", lambda x, base: np.log(x) / np.log(base), lambda g, out, x, base: g / (x * np.log(base)))
    node = apply(log_base, Value(np.array([2.0, 4.0]), requires_grad=True), base=2)
    assert forward_formula(node, ["x"]) == "log_base(x, base=2)"


# --- a layer's sizes and numbers


def test_a_layers_size_set_wrong_names_the_layer() -> None:
    net = nn.Network(nn.Layer(2, 3), nn.Layer(3, 1))
    with pytest.raises(ValueError, match=r"^layer 2: in_size must be an integer >= 1, got 0"):
        net.layers[1].in_size = 0
    with pytest.raises(ValueError, match=r"^Layer: out_size must be an integer >= 1, got -1"):
        nn.Layer(2, 3).out_size = -1


def test_weights_of_another_number_of_axes_get_no_resize_advice() -> None:
    """(2, 4, 1) is no layer's shape: growing the layer would not make it fit, so that advice is not given."""
    layer = nn.Layer(2, 3)
    with pytest.raises(ValueError, match=r"got a Value of shape \(2, 4, 1\)$"):
        layer.weights = Value(np.zeros((2, 4, 1)))
    with pytest.raises(ValueError, match=r"got a Value of shape \(2, 4\); to grow or prune the layer"):
        layer.weights = Value(np.zeros((2, 4)))


def test_save_refuses_biases_given_another_shape_through_data(tmp_path: Any) -> None:
    net = nn.Network(nn.Layer(2, 3), nn.Layer(3, 1))
    net.layers[1].biases.data = np.zeros(2)
    with pytest.raises(ValueError, match=r"^save: layer 2: biases must have shape \(1,\)"):
        net.save(tmp_path / "net.npz")
    assert not (tmp_path / "net.npz").exists()


@pytest.mark.parametrize(("name", "activation"), [("ReLU", "relu"), ("Sigmoid", "sigmoid"), ("Tanh", "tanh"),
                                                  ("LeakyReLU", "leaky_relu"), ("Softplus", "softplus")])
def test_each_pytorch_activation_module_names_an_activation_a_layer_takes(name: str, activation: str) -> None:
    with pytest.raises(AttributeError) as error:
        getattr(nn, name)
    assert str(error.value).endswith(f"activation='{activation}')")
    layer = nn.Layer(1, 1, activation=activation)  # the advice's layer can be built, and applies that activation
    z = np.array([[-0.5]])
    expected = {"relu": 0.0, "sigmoid": 1 / (1 + np.exp(0.5)), "tanh": np.tanh(-0.5),
                "softplus": np.log1p(np.exp(-0.5))}
    with no_grad():
        layer.weights[...] = np.ones((1, 1))
        layer.biases[...] = np.zeros(1)
    out = float(layer(z).data[0, 0])
    if activation in expected:
        assert out == pytest.approx(expected[activation])
    else:  # leaky_relu: a small negative slope, not relu's 0
        assert -0.5 < out < 0.0


def test_an_optimizer_state_for_an_unlabelled_parameter_names_no_label() -> None:
    w = Value(np.ones(3), requires_grad=True)
    saved = optim.Adam([w], 0.1)
    ((w * w).sum()).backward()
    saved.step()
    with pytest.raises(ValueError) as error:
        optim.Adam([Value(np.ones(4), requires_grad=True)], 0.1).load_state_dict(saved.state_dict())
    assert "must have the shape (4,) and dtype float64 of its parameter, got (3,) float64" in str(error.value)
