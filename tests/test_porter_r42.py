"""A PyTorch user porting a digits training script (64-32-10, a loop by hand, checkpoints) line by line: the PyTorch
spellings that met advice which, pasted, did something else, or met no advice at all."""

from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import Value, enable_grad, nn, no_grad, optim  # noqa: F401  (the pasted advice names them)


def _message(call: object) -> str:
    with pytest.raises((TypeError, AttributeError, ValueError, ImportError)) as caught:
        call()  # type: ignore[operator]
    return str(caught.value)


# --- e.sum(dim=1, keepdim=True): the advice names the whole call ------------------------------------------------
@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize(("args", "kwargs"), [((), {"dim": 1, "keepdim": True}), ((1,), {"keepdim": True}),
                                              ((), {"keepdim": True, "dim": 0}), ((), {"dim": 1})])
def test_dim_and_keepdim_advice_pasted_computes_what_pytorch_does(reduction: str, args: tuple, kwargs: dict) -> None:
    """A softmax by hand, ``e / e.sum(dim=1, keepdim=True)``: the advice was ``write v.sum(axis=1)``, dropping
    keepdim, and ``e / e.sum(axis=1)`` on a square batch divides by the wrong sums, silently."""
    data = np.random.default_rng(0).random((3, 3))
    v = Value(data)
    message = _message(lambda: getattr(v, reduction)(*args, **kwargs))
    written = re.search(rf"write (v\.{reduction}\([^)]*\))", message)
    assert written, message
    pasted = eval(written.group(1), {"v": v})  # noqa: S307
    # PyTorch's torch.sum(x, dim, keepdim=...) is numpy's sum with axis and keepdims (CI has no torch to ask)
    dim, keepdim = (args[0] if args else kwargs.get("dim")), kwargs.get("keepdim", False)
    expected = getattr(np, reduction)(data, axis=dim, keepdims=keepdim)
    assert pasted.shape == expected.shape
    np.testing.assert_allclose(pasted.data, expected, rtol=1e-15)
    assert (v / pasted).shape == (v.data / expected).shape  # (the softmax by hand: each row by its own sum)


@pytest.mark.parametrize("reduction", ["max", "min"])
def test_max_with_dim_and_keepdim_names_keepdims_in_both_calls(reduction: str) -> None:
    data = np.random.default_rng(1).random((3, 4))
    v = Value(data)
    message = _message(lambda: getattr(v, reduction)(dim=1, keepdim=True))
    values = re.search(rf"(v\.{reduction}\([^)]*\)) gives the values", message)
    indices = re.search(rf"(v\.data\.arg{reduction}\([^)]*\))", message)
    assert values and indices, message
    # PyTorch's x.max(dim=1, keepdim=True): the values and the indices, each of shape (3, 1)
    values_expected = getattr(np, reduction)(data, axis=1, keepdims=True)
    indices_expected = getattr(np, f"arg{reduction}")(data, axis=1, keepdims=True)
    np.testing.assert_array_equal(eval(values.group(1), {"v": v}).data, values_expected)  # noqa: S307
    np.testing.assert_array_equal(eval(indices.group(1), {"v": v}), indices_expected)  # noqa: S307


# --- torch.set_grad_enabled ---------------------------------------------------------------------------------
@pytest.mark.parametrize("flag", [False, True])
def test_set_grad_enabled_says_what_to_write_and_it_works_pasted(flag: bool) -> None:
    message = _message(lambda: tinygrad_edu.set_grad_enabled)
    assert "(a PyTorch name); " in message
    block = re.search(r"is (with \(.*\):)$", message)
    assert block, message
    scope = {"no_grad": no_grad, "enable_grad": enable_grad, "flag": flag, "w": Value(np.ones(2))}
    with no_grad():  # (enable_grad records even inside an enclosing no_grad, as set_grad_enabled(True) does)
        exec(f"{block.group(1)}\n    out = (w * 2).sum()", scope)  # noqa: S102
    assert scope["out"].requires_grad is flag


# --- nn.save, beside nn.load ------------------------------------------------------------------------------------
def test_nn_save_says_the_model_saves_itself_and_the_advice_round_trips(tmp_path) -> None:  # type: ignore[no-untyped-def]
    message = _message(lambda: nn.save)
    assert "model.save(path)" in message and "model.load(path)" in message
    with pytest.raises(ImportError, match=re.escape("model.save(path)")):
        exec("from tinygrad_edu.nn import save", {})  # noqa: S102
    model = nn.MLP([64, 32, 10], activation="relu", output_activation="identity", init="he", rng=0)
    path = str(tmp_path / "model.npz")
    model.save(path)
    again = nn.MLP([64, 32, 10], activation="relu", output_activation="identity", init="he", rng=1).load(path)
    assert all(np.array_equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))


# --- model.load_state_dict(other_model) ---------------------------------------------------------------------
def test_load_state_dict_of_a_module_says_to_pass_its_state_dict() -> None:
    source = nn.MLP([4, 3, 2], activation="relu", output_activation="identity", init="he", rng=0)
    target = nn.MLP([4, 3, 2], activation="relu", output_activation="identity", init="he", rng=1)
    before = target.state_dict()
    message = _message(lambda: target.load_state_dict(source))
    assert message.startswith("load_state_dict: expected a mapping") and "other.state_dict()" in message
    assert all(np.array_equal(before[k], v) for k, v in target.state_dict().items())  # (nothing changed)
    target.load_state_dict(source.state_dict())
    assert all(np.array_equal(a, b) for a, b in zip(source.state_dict().values(), target.state_dict().values()))


# --- an optimizer of a Module whose weights are numpy arrays ------------------------------------------------------
class _ArraysOnly(nn.Module):
    def __init__(self) -> None:
        self.w = np.random.default_rng(0).standard_normal((4, 2))
        self.b = np.zeros(2)

    def forward(self, x: object) -> Value:
        return Value(x) @ self.w + self.b


def test_optimizer_of_a_module_of_numpy_arrays_names_them_not_freezing() -> None:
    """The advice was to unfreeze with model.requires_grad_(True), which, pasted, changes nothing here: there is no
    Value to unfreeze."""
    model = _ArraysOnly()
    message = _message(lambda: optim.SGD(model, learning_rate=0.1))
    assert message.startswith("SGD: got no parameters to optimize")
    assert "requires_grad_" not in message and "(w, b)" in message and "Value(array)" in message
    model.requires_grad_(True)  # (the old advice, pasted: still nothing to train)
    with pytest.raises(ValueError, match="numpy arrays"):
        optim.SGD(model, learning_rate=0.1)
    model.w, model.b = Value(model.w), Value(model.b)  # (the new advice)
    assert len(optim.SGD(model, learning_rate=0.1).params) == 2


def test_optimizer_of_a_frozen_module_still_says_to_unfreeze() -> None:
    model = nn.MLP([4, 3, 2], rng=0).requires_grad_(False)
    message = _message(lambda: optim.Adam(model))
    assert "requires_grad_(True)" in message and "numpy arrays" not in message


# --- net[0] = layer, PyTorch's seq[0] = nn.Linear(...) ---------------------------------------------------------
def test_a_layer_put_in_by_index_computes_is_labelled_and_saved() -> None:
    """Copying a layer between models, ``target[0] = source[0]``, was Python's bare "does not support item
    assignment"; it does what ``target.layers[0] = source[0]`` does."""
    source = nn.MLP([4, 3, 2], activation="relu", output_activation="identity", init="he", rng=0)
    target = nn.MLP([4, 3, 2], activation="tanh", output_activation="identity", init="he", rng=1)
    x = np.random.default_rng(2).random((5, 4))
    target[0] = source[0]
    assert target[0] is source[0] and target.layers[0] is source[0]
    expected = np.maximum(x @ source[0].weights.data + source[0].biases.data, 0) @ target[1].weights.data \
        + target[1].biases.data
    np.testing.assert_allclose(target(x).data, expected, rtol=1e-14)
    assert [name for name, _ in target.named_parameters()][:2] == ["layers.1.weights", "layers.1.biases"]
    assert target[0].weights.label == "W^1"
    target[-1] = nn.Layer(3, 2, activation="identity", init="he", rng=3)
    assert target(x).shape == (5, 2)
    assert target[1].weights.label == "W^2"


@pytest.mark.parametrize(("index", "layer", "error"), [(0, "layer", TypeError), (2, None, IndexError),
                                                       (1, "first", ValueError), (slice(0, 1), None, TypeError)])
def test_a_refused_layer_put_in_changes_nothing(index: object, layer: object, error: type) -> None:
    net = nn.MLP([4, 3, 2], rng=0)
    before = list(net.layers)
    given = net[0] if layer == "first" else nn.Layer(3, 2, rng=1) if layer is None else layer
    with pytest.raises(error, match=r"^MLP: "):
        net[index] = given  # type: ignore[index]
    assert net.layers == before
