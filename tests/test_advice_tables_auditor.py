"""An auditor of the advice for other libraries' names: each entry triggered, its advice followed with real arrays
and the result compared with what the other library's name means (numpy, or PyTorch where installed); and the
advice's class attributes (checks.Absent) kept out of the way of a user's own subclasses."""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest

from tinygrad_edu import Value, losses, nn, optim
from tinygrad_edu import functional as F
from tinygrad_edu.engine import no_grad

torch = pytest.importorskip("torch")
torch.set_num_threads(1)


def _message(action) -> str:
    with pytest.raises((AttributeError, TypeError)) as caught:
        action()
    return str(caught.value)


# --- defect: checks.Absent refused a user's own subclass its own attributes ----------------------------------------
class _KerasStyleNet(nn.Module):
    """A model of one's own that keeps a predict function and a summary text of its own."""

    def __init__(self) -> None:
        self.layer = nn.Layer(2, 1, activation="identity", init="xavier", rng=0)
        self.predict = lambda x: self.layer(x).numpy()
        self.summary = "one linear layer"

    def forward(self, x: object) -> Value:
        return self.layer(x)


def test_a_module_of_ones_own_may_set_predict_and_summary() -> None:
    net = _KerasStyleNet()
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    by_hand = x @ net.layer.weights.data + net.layer.biases.data
    np.testing.assert_allclose(net.predict(x), by_hand, rtol=1e-12)
    assert net.summary == "one linear layer" and "summary" in dir(net)
    assert copy.deepcopy(net).summary == "one linear layer"
    # a model that sets neither still says what to write, and the package's own classes still refuse the setting
    with pytest.raises(AttributeError, match="Keras name.*call the model"):
        nn.MLP([2, 1], rng=0).predict  # noqa: B018
    with pytest.raises(AttributeError, match="Keras name"):
        nn.MLP([2, 1], rng=0).summary = "text"


class _OwnSGD(optim.Optimizer):
    """An optimizer of one's own, in PyTorch's words: lr= and weight_decay= (L2: λw added to the gradient)."""

    def __init__(self, params: object, lr: float = 0.1, weight_decay: float = 0.0) -> None:
        super().__init__(params)
        self.lr, self.weight_decay = lr, weight_decay

    def step(self, closure: object = None, *, cost: object = None) -> None:
        with no_grad():
            for p in self.params:
                p -= self.lr * (p.grad + self.weight_decay * p.data)


def test_an_optimizer_of_ones_own_may_take_pytorchs_words() -> None:
    start = np.array([1.0, -2.0])
    w = Value(start.copy())
    opt = _OwnSGD([w], lr=0.1, weight_decay=0.5)
    (w * w).sum().backward()
    opt.step()
    mine = torch.tensor(start, requires_grad=True)
    theirs = torch.optim.SGD([mine], lr=0.1, weight_decay=0.5)
    (mine * mine).sum().backward()
    theirs.step()
    np.testing.assert_allclose(w.data, mine.detach().numpy(), rtol=1e-12)
    assert opt.lr == 0.1
    # the package's own optimizers still refuse PyTorch's words
    with pytest.raises(TypeError, match="learning_rate="):
        optim.SGD([w], lr=0.1)
    with pytest.raises(AttributeError, match="learning_rate"):
        optim.SGD([w], learning_rate=0.1).lr = 0.5


# --- defect: Keras's Dense was advised as a ReLU layer --------------------------------------------------------------
def test_the_dense_advice_followed_gives_kerass_default_linear_layer() -> None:
    advice = _message(lambda: nn.Dense)
    activation = re.search(r"nn\.Layer\(in_size, out_size, activation='(\w+)'\)", advice).group(1)
    layer = nn.Layer(2, 1, activation=activation, init="xavier", rng=0)  # Keras's Dense(1) on 2 inputs, as advised
    x = np.array([[-3.0, -4.0], [3.0, 4.0]])  # (biases 0: one of the two outputs is negative)
    with no_grad():
        out = layer(x).numpy()
    # Keras's Dense(1) computes x @ kernel + bias, no activation
    np.testing.assert_allclose(out, x @ layer.weights.data + layer.biases.data, rtol=1e-12)


# --- defect: nn.Dropout, torch.nn's too, was called a Keras name ---------------------------------------------------
def test_dropout_is_named_pytorchs_too() -> None:
    message = _message(lambda: nn.Dropout)
    assert hasattr(torch.nn, "Dropout") and "PyTorch" in message and "Keras" in message and "no dropout" in message


# --- defect: the binary cross-entropy advice written twice, differently ---------------------------------------------
def test_the_binary_cross_entropy_advice_is_one_text() -> None:
    from_functional = _message(lambda: F.binary_cross_entropy)
    from_losses = _message(lambda: losses.binary_cross_entropy)
    advice = from_losses.split("; use losses.", 1)[1]
    assert from_functional.endswith("use losses." + advice)


# --- guards: advice followed, against PyTorch and numpy -------------------------------------------------------------
def test_the_binary_cross_entropy_advice_followed_is_pytorchs_with_logits() -> None:
    rng = np.random.default_rng(0)
    z, y = rng.normal(size=(7, 1)) * 30, rng.integers(0, 2, (7, 1)).astype(float)  # large z: sigmoid rounds to 0, 1
    advice = _message(lambda: losses.BCEWithLogitsLoss)
    formula = advice[advice.index("(y * F.softplus"):].split(", as ln")[0]
    ours = eval(formula, {"F": F, "y": y, "z": Value(z)})
    theirs = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(z), torch.tensor(y))
    assert np.isfinite(ours.item())
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)


@pytest.mark.parametrize(("call", "axis", "theirs"), [
    (lambda v: np.var(v, axis=1), 1, lambda a: np.var(a, axis=1)),
    (lambda v: np.std(v, axis=0, ddof=1), 0, lambda a: torch.tensor(a).std(0).numpy()),
    (lambda v: np.std(v, ddof=1), None, lambda a: torch.tensor(a).std().numpy()),
    (lambda v: np.prod(v, axis=1), 1, lambda a: np.prod(a, axis=1)),
    (lambda v: np.linalg.norm(v, axis=1), 1, lambda a: np.linalg.norm(a, axis=1)),
    (lambda v: np.take(v, [0, 2], axis=1), 1, lambda a: np.take(a, [0, 2], axis=1)),
    (lambda v: np.rot90(v, -1), None, lambda a: np.rot90(a, -1)),
    (lambda v: np.add.accumulate(v, axis=1), 1, lambda a: np.add.accumulate(a, axis=1)),
    (lambda v: np.minimum(v, 1.0), None, lambda a: np.minimum(a, 1.0)),
])
def test_numpys_functions_advice_followed_gives_numpys_numbers(call, axis, theirs) -> None:
    """The formula after ``write`` or ``here:`` in the error, run with v (a, b), indices, axis and n bound as the
    call had them."""
    a = np.random.default_rng(1).uniform(0.5, 2.0, size=(3, 4))
    message = _message(lambda: call(Value(a)))
    formula = message.rsplit("(here: ", 1)[1][:-1] if "(here: " in message else message.rsplit("write ", 1)[1]
    formula = re.split(r", n the numbers along axis|, for the n numbers| for positive| \((?=[a-z]{2,} )", formula)[0]
    bound = {"v": Value(a), "a": Value(a), "b": 1.0, "np": np, "F": F, "functional": F, "indices": [0, 2],
             "axis": axis, "n": a.shape[axis] if axis is not None else a.size}
    np.testing.assert_allclose(eval(formula, bound).data, theirs(a), rtol=1e-12)
