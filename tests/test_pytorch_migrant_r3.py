"""A PyTorch training script ported line by line, third round: an MNIST-style MLP loop (DataLoader-like batches, a
StepLR schedule, eval mode, torch.save/torch.load of a checkpoint, ``.item()`` logging) and the leads of the other
passes of this round.  Where PyTorch's word failed here with a bare error, or with none saying what to write, each
marked test asserts the message that says it; the advice formulas given are run against numpy's or PyTorch's numbers.
Found by an exploratory pass in the role of a long-time PyTorch user; each marked test fails before its fix."""

from __future__ import annotations

import copy
import itertools
import operator
from collections.abc import Callable

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import Value, data, fit, losses, nn, no_grad, optim
from tinygrad_edu import functional as F
from tinygrad_edu.testing import numerical_gradient


def _message(action: Callable[[], object], kind: type[Exception] | tuple[type[Exception], ...] = AttributeError
             ) -> str:
    with pytest.raises(kind) as caught:
        action()
    return str(caught.value)


def _regression() -> tuple[nn.MLP, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    inputs = rng.normal(size=(8, 3))
    return nn.MLP([3, 4, 1]), inputs, inputs.sum(1, keepdims=True)


def _torch():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    return torch


# --- fit(cost=...) with PyTorch's costs ------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["instance", "class", "function"])
def test_a_pytorch_cost_given_to_fit_says_what_it_is_here(which: str) -> None:
    torch = _torch()
    cost = {"instance": torch.nn.MSELoss(), "class": torch.nn.MSELoss,
            "function": torch.nn.functional.mse_loss}[which]
    model, inputs, targets = _regression()
    message = _message(lambda: fit(model, inputs, targets, cost=cost, optimizer=optim.SGD(model, 0.1), episodes=1,
                                   progress=False), TypeError)
    assert message.startswith("fit: cost is PyTorch's ")
    assert message.endswith(losses.pytorch_cost_advice("MSELoss"))  # (the table losses.MSELoss says)


@pytest.mark.parametrize("name", ["mse_loss", "MSELoss", "CrossEntropyLoss", "l1_loss", "BCEWithLogitsLoss"])
def test_a_pytorch_cost_name_given_to_fit_as_text_says_what_it_is_here(name: str) -> None:
    model, inputs, targets = _regression()
    message = _message(lambda: fit(model, inputs, targets, cost=name, optimizer=optim.SGD(model, 0.1), episodes=1,
                                   progress=False), TypeError)
    assert f"not its name {name!r}" in message
    if name == "l1_loss":  # (a cost written as a formula: the function to give fit, tests/test_advice.py)
        assert message.endswith("import tinygrad_edu.functional as F and give cost=lambda p, y: abs(p - y).mean()")
    else:
        assert message.endswith(losses.pytorch_cost_advice(name))


def test_a_cost_that_is_no_function_is_still_named_and_its_type_said() -> None:
    """Guard: an object that is no cost at all keeps fit's own words, with what was given."""
    model, inputs, targets = _regression()
    message = _message(lambda: fit(model, inputs, targets, cost=3, optimizer=optim.SGD(model, 0.1), episodes=1,
                                   progress=False), TypeError)
    assert message == "fit: cost must be a function (outputs, targets) → Value such as losses.squared_error, got int 3"


# --- torch.nn's layers whose functions F. knows -----------------------------------------------------------------------

@pytest.mark.parametrize(("layer", "function"), [("Hardtanh", "hardtanh"), ("ReLU6", "relu6"), ("Unfold", "unfold"),
                                                 ("ZeroPad2d", "pad")])
def test_torch_nn_layers_say_the_formula_of_their_functions(layer: str, function: str) -> None:
    formula = _message(lambda: getattr(F, function)).split("; write ", 1)[1]
    message = _message(lambda: getattr(nn, layer))
    assert "(a PyTorch name)" in message and message.endswith(f"in a forward of your own, {formula}")


# --- the optimizer ---------------------------------------------------------------------------------------------------

def test_loading_an_optimizer_state_of_another_network_names_the_parameter() -> None:
    model, inputs, targets = _regression()
    saved = optim.Adam(model, 0.01)
    fit(model, inputs, targets, optimizer=saved, episodes=2, progress=False)
    wider = nn.MLP([3, 5, 1])
    message = _message(lambda: optim.Adam(wider, 0.01).load_state_dict(saved.state_dict()), ValueError)
    assert message.startswith("Adam.load_state_dict: 'state.0.gradient_average' must have the shape (3, 5) and dtype "
                              "float64 of its parameter 'W^1', got (3, 4) float64")


@pytest.mark.parametrize("name", ["maximize", "weight_decay", "nesterov", "dampening", "amsgrad"])
@pytest.mark.parametrize("kind", [optim.SGD, optim.Adam])
def test_reading_a_pytorch_setting_none_has_says_what_setting_it_says(kind: type, name: str) -> None:
    opt = kind(nn.MLP([2, 3, 1]), learning_rate=0.1)
    written = _message(lambda: setattr(opt, name, True))
    assert _message(lambda: getattr(opt, name)) == written
    assert name not in dir(opt)


def test_an_optimizer_of_ones_own_keeps_its_own_weight_decay() -> None:
    """Guard: PyTorch's names stand for nothing on an optimizer of one's own that sets them itself."""

    class DecayedSGD(optim.Optimizer):
        def __init__(self, params, learning_rate: float, weight_decay: float) -> None:
            super().__init__(params)
            self.learning_rate, self.weight_decay = learning_rate, weight_decay

        def step(self, closure=None, *, cost=None):
            cost = self._gradient(closure, cost)
            with no_grad():
                for p, g in self._finite_gradients(cost):
                    p -= self.learning_rate * (g + self.weight_decay * p.data)
            return cost

    w = Value(np.array([1.0, -2.0]))
    opt = DecayedSGD([w], learning_rate=0.1, weight_decay=0.5)
    (w ** 2).sum().backward()
    opt.step()
    assert opt.weight_decay == 0.5
    np.testing.assert_allclose(w.data, np.array([1.0, -2.0]) * (1 - 0.1 * 2.5), rtol=1e-15)


# --- a Value's PyTorch methods ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "says"), [("cpu", "v itself: there are no devices here"),
                                            ("cuda", "v itself: there are no devices here"),
                                            ("to", "v.astype(np.float32) for a dtype (PyTorch's to(torch.float32))"),
                                            ("neg", "-v")])
def test_pytorch_methods_of_a_tensor_say_what_to_write(name: str, says: str) -> None:
    message = _message(lambda: getattr(Value(np.ones(2)), name))
    assert message.startswith(f"'Value' object has no attribute {name!r}; write {says}")


def test_the_advice_for_neg_and_to_gives_pytorchs_numbers() -> None:
    """Guard: ``-v`` is neg's numbers with gradient -1, ``v.astype(np.float32)`` to(torch.float32)'s numbers."""
    numbers = np.array([1.5, -2.0, 0.25])
    v = Value(numbers)
    out = -v
    out.sum().backward()
    np.testing.assert_array_equal(out.data, np.negative(numbers))
    np.testing.assert_array_equal(v.grad, -np.ones(3))
    assert v.astype(np.float32).dtype == np.float32


def _cumprod_formulas() -> list[str]:
    message = _message(lambda: np.cumprod(Value(np.ones(3))), TypeError)
    assert message.endswith(")") and "(here: " in message
    advice = message.split("(here: ", 1)[1][:-1]
    positive, rest = advice.split(" for positive numbers", 1)
    return [positive, rest.split("of a 1-D v, ", 1)[1]]


def test_np_cumprod_says_a_formula_that_gives_numpys_products_and_their_gradient() -> None:
    weights = np.array([1.0, -2.0, 0.5, 3.0])
    names = {"np": np, "functional": F, "itertools": itertools, "operator": operator, "n": len(weights)}
    positive, any_numbers = _cumprod_formulas()
    for formula, numbers in ((positive, np.array([0.5, 2.0, 1.5, 3.0])), (any_numbers, np.array([0.5, 2.0, 1.5, 3.0])),
                             (any_numbers, np.array([-0.5, 0.0, 1.5, -3.0]))):
        v = Value(numbers)
        out = eval(formula, {**names, "v": v})  # noqa: S307  (the advice is code to run)
        np.testing.assert_allclose(out.data, np.cumprod(numbers), rtol=1e-13)
        (out * weights).sum().backward()
        [expected] = numerical_gradient(lambda x: (np.cumprod(x) * weights).sum(), numbers)
        np.testing.assert_allclose(v.grad, expected, rtol=1e-6, atol=1e-9)


def test_an_uneven_split_names_the_shape_the_axis_and_array_split() -> None:
    message = _message(lambda: np.split(Value(np.zeros((2, 2, 4))), 3, axis=2), ValueError)
    assert message.startswith("np.split: a Value of shape (2, 2, 4) cannot be split into 3 equal parts along axis 2, "
                              "of length 4, not a multiple of 3; np.array_split(v, 3, axis=2)")


def test_array_split_of_a_value_gives_numpys_parts_and_the_gradient_back() -> None:
    """Guard: the advised np.array_split is recorded, each part's gradient back where it came from."""
    numbers = np.arange(16.0).reshape(2, 2, 4)
    v = Value(numbers)
    parts = np.array_split(v, 3, axis=2)
    assert [p.shape for p in parts] == [a.shape for a in np.array_split(numbers, 3, axis=2)]
    sum(float(i + 1) * p.sum() for i, p in enumerate(parts)).backward()
    np.testing.assert_array_equal(v.grad, np.broadcast_to(np.array([1.0, 1.0, 2.0, 3.0]), (2, 2, 4)))


# --- torch.distributions ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["distributions", "Normal", "Categorical", "log_prob"])
def test_distributions_say_the_log_probability_to_write(where: str) -> None:
    if where == "log_prob":
        message = _message(lambda: Value(np.zeros(2)).log_prob)
    else:
        message = _message(lambda: getattr(tinygrad_edu, where))
        assert "(a PyTorch name)" in message
    assert "Normal(mu, sigma).log_prob(x) is " in message and "Categorical(logits=logits).log_prob(a) is " in message


def test_the_log_probabilities_written_out_are_torchs() -> None:
    """The advice's Normal and Categorical log-probabilities give torch.distributions' numbers and gradients (read
    from the message: they run as written)."""
    torch = _torch()
    advice = _message(lambda: Value(np.zeros(2)).log_prob).split("; write ", 1)[-1]
    normal = advice.split("Normal(mu, sigma).log_prob(x) is ", 1)[1].split(", Categorical", 1)[0]
    categorical = advice.split("log_prob(a) is ", 1)[1].split("; ", 1)[0]
    rng = np.random.default_rng(3)
    mu_, sigma_, x = rng.normal(size=4), np.exp(rng.normal(size=4)), rng.normal(size=4)
    mu, sigma = Value(mu_), Value(sigma_)
    out = eval(normal, {"np": np, "mu": mu, "sigma": sigma, "x": x})  # noqa: S307
    out.sum().backward()
    tmu, tsigma = torch.tensor(mu_, requires_grad=True), torch.tensor(sigma_, requires_grad=True)
    expected = torch.distributions.Normal(tmu, tsigma).log_prob(torch.tensor(x))
    expected.sum().backward()
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(mu.grad, tmu.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(sigma.grad, tsigma.grad.numpy(), rtol=1e-12)
    logits_, a = rng.normal(size=(3, 4)), np.array([2, 0, 3])
    logits = Value(logits_)
    out = eval(categorical, {"np": np, "functional": F, "logits": logits, "a": a})  # noqa: S307
    out.sum().backward()
    tlogits = torch.tensor(logits_, requires_grad=True)
    expected = torch.distributions.Categorical(logits=tlogits).log_prob(torch.tensor(a))
    expected.sum().backward()
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(logits.grad, tlogits.grad.numpy(), rtol=1e-12, atol=1e-15)


# --- the MNIST-style script: model.to(device), layer.weight, schedulers, DataLoader, torch.save ----------------------

@pytest.mark.parametrize("name", ["to", "cuda", "cpu"])
def test_moving_a_model_to_a_device_says_there_are_none(name: str) -> None:
    message = _message(lambda: getattr(nn.MLP([2, 3, 1]), name))
    assert message.startswith(f"MLP has no attribute {name}: the model itself: there are no devices here")


def test_a_layers_weight_and_bias_say_weights_and_biases() -> None:
    layer = nn.Layer(3, 2)
    assert "is the transpose of layer.weights (in_size, out_size) here" in _message(lambda: layer.weight)
    assert "is layer.biases (out_size,) here" in _message(lambda: layer.bias)


def test_a_layer_of_ones_own_may_have_a_weight() -> None:
    """Guard: on a subclass of one's own, ``self.weight`` is the user's name."""

    class Tied(nn.Layer):
        def __init__(self) -> None:
            super().__init__(3, 3, activation="identity")
            self.weight = self.weights

    layer = Tied()
    assert layer.weight is layer.weights


@pytest.mark.parametrize("name", ["lr_scheduler", "StepLR", "CosineAnnealingLR"])
def test_pytorch_schedulers_say_to_set_the_learning_rate(name: str) -> None:
    message = _message(lambda: getattr(optim, name))
    assert "(a PyTorch name); there are no schedulers here: set opt.learning_rate between episodes" in message


def test_the_advised_step_schedule_gives_torchs_learning_rates() -> None:
    """The schedule the advice writes gives StepLR's learning rates, episode by episode (run as written)."""
    torch = _torch()
    parameter = torch.nn.Parameter(torch.zeros(1))
    torch_opt = torch.optim.SGD([parameter], lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(torch_opt, step_size=3, gamma=0.5)
    opt = optim.SGD([Value(np.zeros(1))], learning_rate=0.1)
    advice = _message(lambda: optim.StepLR).split(" is: ", 1)[1].rstrip(")")
    for episode in range(10):
        assert opt.learning_rate == pytest.approx(torch_opt.param_groups[0]["lr"], rel=1e-15)
        torch_opt.step()
        scheduler.step()
        exec(advice.replace(": ", ":\n    ", 1), {"episode": episode, "step_size": 3, "gamma": 0.5,  # noqa: S102
                                                 "opt": opt})


@pytest.mark.parametrize("name", ["DataLoader", "TensorDataset"])
def test_pytorch_data_loading_names_say_batches(name: str) -> None:
    assert "(a PyTorch name); " in _message(lambda: getattr(data, name))
    assert "data.batches(inputs, targets, batch_size" in _message(lambda: getattr(data, name))


@pytest.mark.parametrize(("name", "says"), [("save", "model.save(path)"), ("load", "model.load(path)"),
                                            ("manual_seed", "np.random.seed(0)"), ("from_numpy", "Value(array)"),
                                            ("inference_mode", "no_grad()")])
def test_torchs_top_level_names_say_what_to_write(name: str, says: str) -> None:
    assert f"(a PyTorch name); {says}" in _message(lambda: getattr(tinygrad_edu, name))


def test_a_typo_in_the_modules_with_pytorchs_names_still_gets_pythons_suggestion() -> None:
    """Guard: ``optim.Adma`` and ``data.batchs`` stay Python's "did you mean" errors (the module's dir)."""
    for module, name in ((optim, "Adma"), (data, "batchs")):
        with pytest.raises(AttributeError) as caught:
            getattr(module, name)
        assert caught.value.obj is module and caught.value.name == name


def _digits(n: int) -> tuple[np.ndarray, np.ndarray]:
    digits = data.load_digits()
    return digits.inputs[:n], digits.labels[:n]


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Layer(64, 16, activation="relu")
        self.fc2 = nn.Layer(16, 10, activation="identity")

    def forward(self, x):
        return self.fc2(self.fc1(x.reshape(len(x), -1)))


def _episode(model: _Net, opt: optim.Adam, loader) -> float:
    model.train()
    running = 0.0
    for xb, yb in loader:
        opt.zero_grad()
        loss = losses.cross_entropy(model(Value(xb)), yb)
        loss.backward()
        opt.step()
        running += loss.item()
    opt.learning_rate *= 0.5  # (StepLR(step_size=1, gamma=0.5))
    return running / len(loader)


def test_the_ported_loop_resumed_from_its_checkpoint_files_goes_on_exactly(tmp_path) -> None:
    """Guard: the ported MNIST-style loop, saved after two episodes (np.savez of the model's and Adam's state, the
    torch.save of a checkpoint) and loaded into a new model and optimizer, gives the same parameters, costs and
    held-out predictions as the run that never stopped."""
    inputs, labels = _digits(200)
    state = np.random.get_state()  # (restored below: later tests draw from it)
    np.random.seed(0)
    try:
        model, other = _Net(), _Net()
        opt = optim.Adam(model, learning_rate=0.01)
        loader = data.batches(inputs[:160], labels[:160], batch_size=32, seed=1)
        costs = [_episode(model, opt, loader) for _ in range(2)]
        np.savez(tmp_path / "model.npz", **model.state_dict())
        np.savez(tmp_path / "optimizer.npz", **opt.state_dict())
        resumed = optim.Adam(other, learning_rate=1.0)
        with np.load(tmp_path / "model.npz") as saved:
            other.load_state_dict(saved)
        with np.load(tmp_path / "optimizer.npz") as saved:
            resumed.load_state_dict(saved)
        assert resumed.learning_rate == opt.learning_rate == 0.0025
        shuffle = copy.deepcopy(loader)  # (the same batches for both from here on)
        assert _episode(model, opt, loader) == _episode(other, resumed, shuffle) and costs[1] < costs[0]
        for (name, mine), (_, theirs) in zip(model.named_parameters(), other.named_parameters(), strict=True):
            np.testing.assert_array_equal(mine.data, theirs.data, err_msg=name)
        model.eval()
        with no_grad():
            held_out = model(Value(inputs[160:]))
            assert np.array_equal(held_out.data, other(Value(inputs[160:])).data)
            assert isinstance(losses.cross_entropy(held_out, labels[160:]).item(), float)
    finally:
        np.random.set_state(state)
