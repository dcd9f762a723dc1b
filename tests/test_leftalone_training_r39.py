"""Loose ends of a practitioner's training, each failing before its fix (but (d), which found the line search
consistent and holds it so): fit's advice for PyTorch's cost objects lived in training.py, and is
write_instead's now, word for word; the label_smoothing advice made a float32 model's cost float64 (one_hot's rows),
where PyTorch's stays float32; loading an optimizer's state of another parameter set counted the parameters but named
none; cross_entropy given a torch tensor that requires grad as its labels raised torch's bare RuntimeError; a Dataset
compared by ``<`` gave numpy's array of booleans, and ``np.array(ds)`` stacked its inputs on its labels, silently.
Every formula the advice tells a user to paste is run here against central differences, numpy and PyTorch."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from helpers_gradients import central_difference

from tinygrad_edu import Value, data, losses, nn, optim, training, write_instead


def _torch() -> Any:
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)  # (two stall on a busy 2-core machine)
    return torch


def _refusal(cost: Any, targets: np.ndarray, outputs: int) -> str:
    """fit's TypeError for ``cost``, a PyTorch cost, on a network of ``outputs`` outputs."""
    model = nn.MLP([2, outputs], activation="identity", rng=0)
    with pytest.raises(TypeError) as caught:
        training.fit(model, np.zeros((len(targets), 2)), targets, cost=cost, optimizer=optim.SGD(model, 0.1),
                     episodes=1, progress=False)
    return str(caught.value)


def _pasted(message: str) -> Any:
    """The cost function the advice says to give, run as pasted with its own import line."""
    found = re.search(r"(import tinygrad_edu\.functional as F|from tinygrad_edu import [\w, ]+) and give "
                      r"cost=(lambda .+?)(?: \(PyTorch's|$)", message)
    assert found is not None, message
    namespace: dict[str, Any] = {"np": np}
    exec(found.group(1), namespace)  # noqa: S102 (the advice, pasted)
    return eval(found.group(2), namespace)  # noqa: S307 (the advice, pasted)


# stand-ins for PyTorch's costs (no PyTorch needed to get fit's advice): their names, signatures and torch's module
def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Any:
    raise AssertionError("a stand-in: fit must refuse it, not call it")


huber_loss.__module__ = "torch.nn.functional"


class CrossEntropyLoss:
    """A stand-in for torch.nn.CrossEntropyLoss: its constructor's signature and the settings as attributes."""

    def __init__(self, weight: Any = None, size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
                 reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        self.weight, self.ignore_index, self.reduction = weight, ignore_index, reduction
        self.label_smoothing = label_smoothing

    def __call__(self, input: Any, target: Any) -> Any:
        raise AssertionError("a stand-in: fit must refuse it, not call it")


CrossEntropyLoss.__module__ = "torch.nn.modules.loss"


# --- (a) the advice for PyTorch's cost objects is write_instead's, word for word --------------------------------------
def test_fits_refusal_of_a_pytorch_cost_is_write_insteads_and_its_formula_is_pytorchs() -> None:
    """The ~100 lines that read PyTorch's cost objects and their settings moved from training.py to write_instead.py
    (beside the formulas they print); fit's message is the same text, and the formula it gives for
    partial(F.huber_loss, delta=0.5) is PyTorch's Huber cost with delta 0.5: numbers, and gradient against central
    differences and PyTorch."""
    import functools

    cost = functools.partial(huber_loss, delta=0.5)
    message = _refusal(cost, np.zeros((4, 1)), 1)
    assert message == "fit: " + write_instead.pytorch_cost_refusal(cost, losses.pytorch_cost_advice)
    assert "delta=0.5" in message and not hasattr(training, "_settings_kept")
    mine = _pasted(message)
    p = np.array([[0.1], [-0.9], [2.0], [0.3]])
    y = np.array([[0.0], [0.0], [0.5], [1.2]])
    d = p - y
    expected = np.where(abs(d) <= 0.5, 0.5 * d ** 2, 0.5 * (abs(d) - 0.25)).mean()
    prediction = Value(p.copy())
    value = mine(prediction, y)
    value.backward()
    assert float(value) == pytest.approx(expected, rel=1e-13)
    np.testing.assert_allclose(prediction.grad, central_difference(lambda q: float(mine(Value(q), y)), p),
                               rtol=1e-7, atol=1e-10)
    torch = _torch()
    t = torch.tensor(p, requires_grad=True)
    theirs = torch.nn.functional.huber_loss(t, torch.tensor(y), delta=0.5)
    theirs.backward()
    assert float(value) == pytest.approx(theirs.item(), rel=1e-13)
    np.testing.assert_allclose(prediction.grad, t.grad.numpy(), rtol=1e-12)


# --- (b) label smoothing keeps a float32 model's cost float32 ---------------------------------------------------------
def _smoothed_numpy(z: np.ndarray, labels: np.ndarray, eps: float) -> float:
    """PyTorch's label-smoothed cross-entropy written out in numpy (float64): the mean over the samples of
    −Σ_j q_j ln softmax(z)_j, q = (1 − ε)·one-hot + ε/k."""
    z = z.astype(np.float64)
    k = z.shape[-1]
    log_softmax = z - z.max(axis=1, keepdims=True)
    log_softmax -= np.log(np.exp(log_softmax).sum(axis=1, keepdims=True))
    q = (1 - eps) * np.eye(k)[labels] + eps / k
    return float(-(q * log_softmax).sum(axis=1).mean())


def test_the_label_smoothing_advice_keeps_a_float32_models_cost_float32() -> None:
    """fit's advice for CrossEntropyLoss(label_smoothing=0.1), and cross_entropy's for label_smoothing=: their rows
    came from data.one_hot, float64, so a float32 model's cost and its graph were float64 (PyTorch's stays float32).
    Pasted, both keep the logits' dtype; the numbers are numpy's and PyTorch's, the gradient central differences'."""
    labels = np.array([0, 2, 1, 2, 0])
    logits = np.random.default_rng(7).normal(size=(5, 3)) * 2
    mine = _pasted(_refusal(CrossEntropyLoss(label_smoothing=0.1), labels, 3))
    with pytest.raises(TypeError) as caught:
        losses.cross_entropy(logits, labels, label_smoothing=0.1)
    rows = str(caught.value).rpartition("(rows of probabilities): ")[2]
    by_keyword = lambda z, y: losses.cross_entropy(  # noqa: E731 (the advice, pasted with eps and k filled in)
        z, eval(rows, {"data": data, "labels": y, "logits": z, "eps": 0.1, "k": 3}))  # noqa: S307
    for advice in (mine, by_keyword):
        z32 = Value(logits.astype(np.float32))
        cost = advice(z32, labels)
        cost.backward()
        assert cost.dtype == np.float32 and z32.grad.dtype == np.float32, (cost.dtype, z32.grad.dtype)
        assert float(cost) == pytest.approx(_smoothed_numpy(logits.astype(np.float32), labels, 0.1), rel=1e-6)
        z64 = Value(logits.copy())
        cost = advice(z64, labels)
        cost.backward()
        assert cost.dtype == np.float64 and float(cost) == pytest.approx(_smoothed_numpy(logits, labels, 0.1),
                                                                         rel=1e-13)
        np.testing.assert_allclose(z64.grad, central_difference(lambda a, f=advice: float(f(Value(a), labels)), logits),
                                   rtol=1e-7, atol=1e-10)
    torch = _torch()
    t = torch.tensor(logits.astype(np.float32), requires_grad=True)
    theirs = torch.nn.CrossEntropyLoss(label_smoothing=0.1)(t, torch.tensor(labels))
    theirs.backward()
    z32 = Value(logits.astype(np.float32))
    cost = mine(z32, labels)
    cost.backward()
    assert theirs.dtype == torch.float32 and float(cost) == pytest.approx(theirs.item(), rel=1e-6)
    np.testing.assert_allclose(z32.grad, t.grad.numpy(), rtol=1e-5, atol=1e-7)


# --- (c) an optimizer's state of another parameter set: which parameter differs --------------------------------------
def _adam_state(sizes: list[int], frozen_first: bool) -> dict[str, np.ndarray]:
    model = nn.MLP(sizes, activation="tanh", output_activation="identity", rng=0)
    if frozen_first:
        model.layers[0].requires_grad_(False)
    opt = optim.Adam(model, learning_rate=0.01)
    x = np.linspace(-1.0, 1.0, 12).reshape(6, 2)
    training.fit(model, x, x[:, :1] ** 2, optimizer=opt, episodes=2, progress=False)
    return opt.state_dict()


def test_a_state_saved_while_the_first_layer_was_frozen_names_the_parameter_and_what_to_do() -> None:
    """Fine-tuning: Adam saved while layer 1 was frozen (2 parameters), loaded into an optimizer of the whole model
    (4): the error said only "'parameter_count' is 2, but this optimizer has 4 parameters".  It names the first
    parameter whose shape differs and that the state's match the last ones; doing what it says (freeze them again,
    build the optimizer, load) goes on exactly as the saved optimizer does."""
    state = _adam_state([2, 3, 1], frozen_first=True)
    model = nn.MLP([2, 3, 1], activation="tanh", output_activation="identity", rng=0)
    with pytest.raises(ValueError, match=r"'parameter_count' is 2, but this optimizer has 4 parameters; the first "
                                         r"that differs is parameter 0 'W\^1' of shape \(2, 3\), where the state "
                                         r"holds \(3, 1\); the state's 2 match this optimizer's last 2 in shape "
                                         r".*freeze them again before building the optimizer"):
        optim.Adam(model, learning_rate=0.01).load_state_dict(state)
    model.layers[0].requires_grad_(False)
    resumed = optim.Adam(model, learning_rate=0.01)
    resumed.load_state_dict(state)
    assert {key: value.tolist() for key, value in resumed.state_dict().items()} == \
        {key: value.tolist() for key, value in state.items()}


def test_a_deeper_network_and_fewer_parameters_are_named_too() -> None:
    """A network with one more layer: the first parameter of another shape is W^2, (3, 3) here, (3, 1) saved; an
    optimizer of the first two parameters only: they match, and the state holds 2 more; a state that keeps no
    arrays per parameter (plain SGD) shows no shapes, and the message stays the count."""
    state = _adam_state([2, 3, 1], frozen_first=False)
    deeper = nn.MLP([2, 3, 3, 1], rng=0)
    with pytest.raises(ValueError, match=r"this optimizer has 6 parameters; the first that differs is parameter 2 "
                                         r"'W\^2' of shape \(3, 3\), where the state holds \(3, 1\)$"):
        optim.Adam(deeper).load_state_dict(state)
    some = nn.MLP([2, 3, 1], rng=0).parameters()[:2]
    with pytest.raises(ValueError, match=r"has 2 parameters; this optimizer's 2 match the state's first 2 in "
                                         r"shape; the state holds 2 more$"):
        optim.Adam(some).load_state_dict(state)
    plain = optim.SGD(nn.MLP([2, 3, 1], rng=0), learning_rate=0.1).state_dict()
    with pytest.raises(ValueError, match=r"'parameter_count' is 4, but this optimizer has 6 parameters$"):
        optim.SGD(deeper, learning_rate=0.1).load_state_dict(plain)


# --- (d) Ctrl-C inside Armijo's line search: parameters and gradients still agree -------------------------------------
@pytest.mark.parametrize("interrupted_call", [2, 3])  # (call 1 is the cost and its gradient; 2, 3 trials x + t·d)
def test_an_armijo_step_interrupted_in_its_line_search_leaves_parameters_and_gradients_consistent(
        interrupted_call: int) -> None:
    """A KeyboardInterrupt raised by the closure in the line search's first or second trial: the parameters are put
    back bit for bit, each .grad is the gradient at them (the closed form of a linear least-squares cost), the
    reports are those of the step before, and the next step is the one an uninterrupted optimizer makes."""
    rng = np.random.default_rng(3)
    x, y, w0 = rng.normal(size=(8, 3)), rng.normal(size=(8, 1)), rng.normal(size=(3, 1))
    w = Value(w0.copy())
    opt = optim.Armijo([w], initial_step=4.0)  # (large: the first trials fail, so several are made)
    calls = [0]

    def closure() -> Value:
        calls[0] += 1
        if calls[0] == interrupted_call:
            raise KeyboardInterrupt
        return ((Value(x) @ w - y) ** 2).mean()

    with pytest.raises(KeyboardInterrupt):
        opt.step(closure)
    assert np.array_equal(w.data, w0) and opt.last_step_size is None and opt.last_trials == []
    np.testing.assert_allclose(w.grad, 2 * x.T @ (x @ w0 - y) / len(x), rtol=1e-12)
    calls[0] = -100
    opt.step(closure)
    fresh = Value(w0.copy())
    optim.Armijo([fresh], initial_step=4.0).step(lambda: ((Value(x) @ fresh - y) ** 2).mean())
    assert opt.last_backtracks is not None and opt.last_backtracks >= 2  # (the interrupted trials were made again)
    np.testing.assert_array_equal(w.data, fresh.data)


# --- (e) cross_entropy's labels as a torch tensor that requires grad -------------------------------------------------
def test_cross_entropy_names_a_torch_tensor_that_requires_grad_and_its_advice_gives_pytorchs_cost() -> None:
    """Soft targets from a PyTorch network (a tensor that requires grad) as the labels: torch's bare RuntimeError
    ("Can't call numpy() on Tensor that requires grad") named neither cross_entropy nor the labels (the squared
    errors' target said it).  Refused by name; the advice, t.detach().numpy(), gives PyTorch's cross-entropy on
    soft targets, value and gradient (and central differences')."""
    torch = _torch()
    logits = np.random.default_rng(5).normal(size=(4, 3))
    targets = torch.softmax(torch.tensor(np.random.default_rng(6).normal(size=(4, 3)), requires_grad=True), dim=1)
    with pytest.raises(TypeError, match=r"^cross_entropy: the labels are a PyTorch Tensor that requires grad, .*"
                                        r"tensor\.detach\(\)\.numpy\(\)"):
        losses.cross_entropy(Value(logits), targets)
    rows = targets.detach().numpy()
    z = Value(logits.copy())
    cost = losses.cross_entropy(z, rows)
    cost.backward()
    t = torch.tensor(logits, requires_grad=True)
    theirs = torch.nn.functional.cross_entropy(t, targets.detach())
    theirs.backward()
    assert float(cost) == pytest.approx(theirs.item(), rel=1e-13)
    np.testing.assert_allclose(z.grad, t.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(z.grad, central_difference(lambda a: float(losses.cross_entropy(a, rows)), logits),
                               rtol=1e-7, atol=1e-10)


# --- (f) a Dataset: no order, and no array of the pair ----------------------------------------------------------------
def test_datasets_compared_by_order_are_refused_not_answered_with_an_array() -> None:
    """A tuple's < compared the inputs: for one sample each, a < b was [[True]] (an array, which passes for true),
    sorted() and max() picked by the first input; else numpy's "ambiguous" or broadcasting error.  A TypeError."""
    a, b = data.Dataset([[1.0]], [0]), data.Dataset([[2.0]], [1])
    for compare in (lambda: a < b, lambda: a <= b, lambda: a > b, lambda: a >= b, lambda: sorted([b, a]),
                    lambda: max(a, b)):
        with pytest.raises(TypeError, match=r"^Dataset: a Dataset is the pair \(inputs, labels\), which has no order"):
            compare()
    assert a == data.Dataset([[1.0]], [0]) and a != b  # (equality stays: the same numbers)


def test_np_array_of_a_dataset_is_refused_not_stacked() -> None:
    """np.array(ds) of inputs and labels of one shape (an autoencoder's, Dataset(x, x)) was an array (2, n, k), the
    labels taken for more samples, silently, and Value(ds) the same; of other shapes numpy's "inhomogeneous shape"
    error.  A TypeError naming the arrays; the pair still unpacks and its arrays are arrays."""
    x = np.arange(6.0).reshape(3, 2)
    for ds in (data.Dataset(x, x), data.Dataset(x, np.array([0, 1, 0]))):
        for make in (np.array, np.asarray, Value):
            with pytest.raises(TypeError, match=r"^Dataset: a Dataset is the pair \(inputs, labels\), not one "
                                                rf"array \(np\.array would stack the inputs \(3, 2\) and the labels "
                                                rf"{re.escape(str(ds.labels.shape))}\): give ds\.inputs"):
                make(ds)
        inputs, labels = ds
        assert np.array_equal(np.asarray(inputs), x) and len(ds) == 2 and len(ds.inputs) == 3
