"""Loose ends of a practitioner's training, each failing before its fix: mean_squared_error was inf at differences of
1e154, where its value is 1e308 (squared_error was finite there); fit's advice for PyTorch's costs dropped their
settings (partial(F.mse_loss, reduction='sum'), label_smoothing=0.1): pasted, it trained on another cost; an
optimizer built from list(model.parameters()) before a layer was appended trained the old parameters silently in
fit; fit stopped a network whose ReLUs are all 0 on every sample at its "zero gradient" without saying that these are
dead units, not a minimum; and ``from tinygrad_edu import Normal`` lost the advice ``tinygrad_edu.Normal`` gives.
Every formula the advice tells a user to paste is run here against PyTorch and central differences."""

import functools
import re
import warnings

import numpy as np
import pytest
from helpers_gradients import central_difference

import tinygrad_edu
from tinygrad_edu import Value, data, losses, nn, no_grad, optim, training
from tinygrad_edu import functional as F


# --- (a) mean_squared_error: finite wherever its value is ------------------------------------------------------------
@pytest.mark.parametrize(("differences", "expected"), [
    (np.array([[1e154], [-1e154]]), 1e308),  # two samples of one output: d² overflows, their mean does not
    (np.array([[1e154, -1e154, 1e154, 1e154]]), 1e308),  # one sample of four: Σd² = 4e308 overflows, Σd²/4 not
    (np.array([1e154, 1e154, 1e154]), 1e308),  # one flat sample
])
def test_mean_squared_error_is_finite_where_its_value_is(differences: np.ndarray, expected: float) -> None:
    """(y − y')² of 1e154 is 1e308, whose mean is 1e308: the cost was inf (numpy's squares overflowed), and it is
    now the squared_error op's own rescaled mean.  Its gradient is the closed form 2(y − y')/N over the N elements."""
    target = np.full(differences.shape, 5.0)
    prediction = Value(target + differences)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (numpy's, of the fast sum tried first, as squared_error's)
        cost = losses.mean_squared_error(prediction, target)
        cost.backward()
    assert float(cost.data) == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(prediction.grad, 2 * differences / differences.size, rtol=1e-12)
    with np.errstate(all="raise"):  # raises only where the cost itself overflows (no warning then)
        assert float(losses.mean_squared_error(Value(target + differences), target).data) == pytest.approx(expected)
        with pytest.raises(FloatingPointError):
            losses.mean_squared_error(Value(target + 2 * differences), target)


def test_mean_squared_error_keeps_its_numbers_and_gradient_elsewhere() -> None:
    """Against numpy's mean and central differences, for a batch, one sample and float32 (which it keeps)."""
    rng = np.random.default_rng(0)
    for shape in [(5, 3), (4,), (2, 3, 2), ()]:
        p, y = rng.normal(size=shape), rng.normal(size=shape)
        prediction = Value(p.copy())
        cost = losses.mean_squared_error(prediction, y)
        cost.backward()
        assert float(cost.data) == pytest.approx(np.mean((p - y) ** 2), rel=1e-13)
        expected = central_difference(lambda q, y=y: np.mean((q - y) ** 2), np.asarray(p, dtype=float))
        np.testing.assert_allclose(prediction.grad, expected, rtol=1e-7, atol=1e-10)
    small = Value(np.ones((3, 2), np.float32))
    assert losses.mean_squared_error(small, np.zeros((3, 2), np.float32)).dtype == np.float32


# --- (c) fit's advice for PyTorch's costs keeps their settings ------------------------------------------------------
def _advice(cost, targets: np.ndarray, outputs: int) -> str:
    model = nn.MLP([2, outputs], activation="identity", rng=0)
    inputs = np.linspace(-1.0, 1.0, 2 * len(targets)).reshape(-1, 2)
    with pytest.raises(TypeError) as caught:
        training.fit(model, inputs, targets, cost=cost, optimizer=optim.SGD(model, learning_rate=0.1), episodes=1)
    return str(caught.value)


def _pasted(message: str):
    """The cost the advice tells a user to give fit, as the user pastes it."""
    found = re.search(r"give cost=(lambda [^:]*: .*?)(?= \(PyTorch's|; its|$)", message)
    assert found is not None, message
    return eval(found.group(1), {"F": F, "losses": losses, "data": data, "np": np})  # noqa: S307 (the advice)


def _check_against_torch(mine, theirs, outputs: np.ndarray, targets: np.ndarray, torch_targets) -> None:
    """The pasted cost's value and gradient against PyTorch's, and its gradient against central differences."""
    torch = pytest.importorskip("torch")
    prediction = Value(outputs.copy())
    value = mine(prediction, targets)
    value.backward()
    outputs_torch = torch.tensor(outputs, requires_grad=True)
    expected = theirs(outputs_torch, torch_targets)
    expected.backward()
    assert value.item() == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(prediction.grad, outputs_torch.grad.numpy(), rtol=1e-10, atol=1e-14)
    differences = central_difference(lambda o: mine(Value(o), targets).item(), outputs.copy())
    np.testing.assert_allclose(prediction.grad, differences, rtol=1e-6, atol=1e-8)


_REGRESSION = {  # PyTorch's cost with a setting, the same as a function of tensors (for the comparison)
    "mse_loss sum": lambda t: functools.partial(t.nn.functional.mse_loss, reduction="sum"),
    "MSELoss sum": lambda t: t.nn.MSELoss(reduction="sum"),
    "l1_loss sum": lambda t: functools.partial(t.nn.functional.l1_loss, reduction="sum"),
    "HuberLoss sum delta": lambda t: t.nn.HuberLoss(reduction="sum", delta=0.5),
}


@pytest.mark.parametrize("case", sorted(_REGRESSION))
def test_the_advice_for_a_regression_cost_summed_is_the_sum(case: str) -> None:
    """partial(F.mse_loss, reduction='sum') was told `use losses.mean_squared_error`, the mean: pasted, every step
    was N times shorter.  The advice's cost is now PyTorch's sum, value and gradient, and fit trains with it."""
    torch = pytest.importorskip("torch")
    cost = _REGRESSION[case](torch)
    targets = np.linspace(-2.0, 2.0, 6).reshape(6, 1)
    message = _advice(cost, targets, 1)
    assert "reduction='sum'" in message, message
    mine = _pasted(message)
    outputs = np.array([[0.3], [-1.7], [2.4], [0.05], [-0.4], [1.1]])
    _check_against_torch(mine, cost, outputs, targets, torch.tensor(targets))
    model = nn.MLP([2, 1], activation="identity", rng=0)
    inputs = np.linspace(-1.0, 1.0, 12).reshape(6, 2)
    history = training.fit(model, inputs, targets, cost=mine, optimizer=optim.SGD(model, learning_rate=0.01),
                           episodes=3, progress=False)
    assert history.cost[-1] < history.cost[0]


_CLASSIFICATION = {
    "cross_entropy smoothing": lambda t: functools.partial(t.nn.functional.cross_entropy, label_smoothing=0.1),
    "CrossEntropyLoss smoothing": lambda t: t.nn.CrossEntropyLoss(label_smoothing=0.2),
    "CrossEntropyLoss sum": lambda t: t.nn.CrossEntropyLoss(reduction="sum"),
    "cross_entropy smoothing sum": lambda t: functools.partial(t.nn.functional.cross_entropy, label_smoothing=0.1,
                                                               reduction="sum"),
}


@pytest.mark.parametrize("case", sorted(_CLASSIFICATION))
def test_the_advice_for_cross_entropy_keeps_label_smoothing_and_the_sum(case: str) -> None:
    """F.cross_entropy(..., label_smoothing=0.1) was told `use losses.cross_entropy`: pasted, it trained without the
    smoothing.  The advice's cost is now PyTorch's, for class indices, value and gradient."""
    torch = pytest.importorskip("torch")
    cost = _CLASSIFICATION[case](torch)
    labels = np.array([0, 2, 1, 2, 0])
    message = _advice(cost, labels, 3)
    mine = _pasted(message)
    logits = np.random.default_rng(2).normal(size=(5, 3)) * 2
    _check_against_torch(mine, cost, logits, labels, torch.tensor(labels))


@pytest.mark.parametrize(("make", "setting"), [
    (lambda t: t.nn.MSELoss(reduction="none"), "reduction='none'"),
    (lambda t: t.nn.CrossEntropyLoss(ignore_index=0), "ignore_index=0"),
    (lambda t: functools.partial(t.nn.functional.cross_entropy, weight=t.ones(3)), "weight="),
])
def test_a_setting_the_advice_cannot_keep_is_named(make, setting: str) -> None:
    """A setting the advice does not carry over is said to be left out, not dropped silently."""
    torch = pytest.importorskip("torch")
    targets = np.array([0, 2, 1]) if "Cross" in repr(make(torch)) or "cross" in repr(make(torch)) else \
        np.zeros((3, 1))
    message = _advice(make(torch), targets, 3 if targets.ndim == 1 else 1)
    assert setting in message and "not carried over" in message, message


# --- (d) an optimizer built from the parameters before a layer was appended ------------------------------------------
@pytest.mark.parametrize("given", ["parameters()", "list(parameters())"])
def test_fit_warns_of_an_optimizer_that_lacks_an_appended_layer(given: str) -> None:
    """SGD(list(model.parameters())), then a layer appended: fit trained the old parameters only, silently (one
    built from the model itself is refused).  A warning names the layer's parameters and says what to do."""
    model = nn.MLP([2, 3, 1], activation="relu", output_activation="identity", rng=0)
    params = model.parameters() if given == "parameters()" else list(model.parameters())
    opt = optim.SGD(params, learning_rate=0.05)
    model.layers.append(nn.Layer(1, 1, activation="identity"))
    inputs = np.linspace(-1.0, 1.0, 10).reshape(5, 2)
    with pytest.warns(UserWarning, match=r"layers\.3\.weights, layers\.3\.biases.*appended"):
        training.fit(model, inputs, np.ones((5, 1)), optimizer=opt, episodes=1, progress=False)


def test_fit_does_not_warn_of_an_optimizer_of_some_layers_on_purpose() -> None:
    """Fine-tuning the last layer, or one weight matrix, is meant: no warning."""
    inputs = np.linspace(-1.0, 1.0, 10).reshape(5, 2)
    for chosen in (lambda m: m.layers[-1].parameters(), lambda m: [m.layers[0].weights]):
        model = nn.MLP([2, 3, 1], activation="relu", output_activation="identity", rng=0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            training.fit(model, inputs, np.ones((5, 1)), optimizer=optim.SGD(chosen(model), learning_rate=0.05),
                         episodes=1, progress=False)


# --- (e) a zero gradient of dead ReLUs -------------------------------------------------------------------------------
def test_fit_says_a_zero_gradient_of_dead_relus_is_no_minimum() -> None:
    """Every ReLU 0 on every sample: ∇C = 0 exactly, fit stops ("zero gradient") at a cost far from its minimum.
    A warning says which layer's units are dead and why no step can move them."""
    model = nn.MLP([2, 4, 1], activation="relu", output_activation="relu", rng=0)
    with no_grad():
        for layer in model.layers:
            layer.biases[...] = -10.0
    inputs = np.linspace(0.0, 1.0, 20).reshape(10, 2)
    targets = inputs.sum(1, keepdims=True)
    with pytest.warns(UserWarning, match=r"The ReLUs of layer 1, layer 2 are all 0 on every sample.*dead") as caught:
        history = training.fit(model, inputs, targets, optimizer=optim.SGD(model, learning_rate=0.1), episodes=20,
                               progress=False)
    assert history.stopped == "zero gradient"
    assert history.final_cost == pytest.approx(np.mean(targets ** 2))  # (every output 0)
    message = str(caught[0].message)
    assert f"not at a minimum: the cost is still {np.mean(targets ** 2):.4g}" in message, message


def test_fit_does_not_call_a_true_zero_gradient_dead_units() -> None:
    """A linear model at its least-squares minimum (targets ±1 at one input 0): ∇C = 0 exactly, cost 1 > 0, and no
    ReLU: no warning."""
    model = nn.MLP([1, 1], activation="identity", rng=0)
    with no_grad():
        model.layers[0].weights[...] = 0.0
        model.layers[0].biases[...] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = training.fit(model, np.zeros((2, 1)), np.array([[1.0], [-1.0]]),
                               optimizer=optim.SGD(model, learning_rate=0.1), episodes=5, progress=False)
    assert history.stopped == "zero gradient"


# --- (f) from tinygrad_edu import Normal -----------------------------------------------------------------------------
def test_from_import_of_another_librarys_name_keeps_the_advice() -> None:
    """``tinygrad_edu.Normal`` says what to write; ``from tinygrad_edu import Normal`` said only Python's "cannot
    import name".  The ImportError now carries the same advice (and the formula it gives is PyTorch's)."""
    with pytest.raises(AttributeError) as attribute:
        tinygrad_edu.Normal  # noqa: B018
    with pytest.raises(ImportError, match=r"^cannot import name 'Normal' from 'tinygrad_edu'") as caught:
        from tinygrad_edu import Normal  # noqa: F401
    advice = str(attribute.value).partition("; ")[2]
    assert advice and advice in str(caught.value), str(caught.value)
    assert caught.value.name == "tinygrad_edu"
    with pytest.raises(ImportError, match="jax.grad"):
        from tinygrad_edu import grad  # noqa: F401
    with pytest.raises(ImportError, match="losses.mean_squared_error"):
        from tinygrad_edu.losses import MSELoss  # noqa: F401
    assert not hasattr(tinygrad_edu, "Normal")  # (hasattr, getattr with a default: still an AttributeError)
    assert getattr(tinygrad_edu, "Normal", None) is None
    from tinygrad_edu import data as loaded  # (a submodule imports as before)
    assert loaded is data


def test_the_normal_log_probability_advised_is_pytorchs() -> None:
    """-((x - mu) / sigma) ** 2 / 2 - sigma.log() - 0.5 * np.log(2 * np.pi), pasted: PyTorch's Normal.log_prob,
    value and gradients (against PyTorch and central differences)."""
    torch = pytest.importorskip("torch")
    formula = re.search(r"log_prob\(x\) is (.*?), Categorical", tinygrad_edu.write_instead.DISTRIBUTIONS).group(1)
    x, mu0, sigma0 = np.array([0.3, -1.2, 2.0]), np.array([0.1, 0.5, -0.3]), np.array([0.7, 1.5, 2.2])
    mu, sigma = Value(mu0.copy()), Value(sigma0.copy())
    mine = eval(formula, {"x": x, "mu": mu, "sigma": sigma, "np": np})  # noqa: S307 (the advice, pasted)
    mine.sum().backward()
    mu_t, sigma_t = torch.tensor(mu0, requires_grad=True), torch.tensor(sigma0, requires_grad=True)
    theirs = torch.distributions.Normal(mu_t, sigma_t).log_prob(torch.tensor(x))
    theirs.sum().backward()
    np.testing.assert_allclose(mine.data, theirs.detach().numpy(), rtol=1e-13)
    np.testing.assert_allclose(mu.grad, mu_t.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(sigma.grad, sigma_t.grad.numpy(), rtol=1e-12)
    by_differences = central_difference(
        lambda s: float(np.sum(-((x - mu0) / s) ** 2 / 2 - np.log(s) - 0.5 * np.log(2 * np.pi))), sigma0.copy())
    np.testing.assert_allclose(sigma.grad, by_differences, rtol=1e-7)
