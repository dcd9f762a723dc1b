"""The round's new messages read as their user reads them: each one triggered by the call that produces it, its
advice pasted and run.

Each test failed before its fix: ``opt.μ = 0.9`` on gradient descent (and ``opt.σ``, ``opt.α`` on an optimizer
without that setting) was set silently, where ``opt.momentum = 0.9`` is refused; fit given PyTorch's Huber cost with
delta=0.5 (in a functools.partial, or HuberLoss(delta=0.5)) advised a lambda with delta=1.0, another cost;
plot_history's advice for a run given as a table, ``costs[:, 0]``, failed on the list of pairs that
``costs.append((g_cost, d_cost))`` makes."""

import functools
import re

import matplotlib
import numpy as np
import pytest

from tinygrad_edu import Op, Value, nn, optim, plots, training
from tinygrad_edu import functional as F

matplotlib.use("Agg")


# --- optimizers: the seed's letters for a setting another optimizer has ---------------------------------------------
@pytest.mark.parametrize(("make", "letter", "word", "owner"), [
    (lambda m: optim.GradientDescent(m, learning_rate=0.1), "μ", "momentum", "SGD"),
    (lambda m: optim.Adam(m, learning_rate=0.1), "σ", "sigma", "Armijo and Newton"),
    (lambda m: optim.RandomSearch(m), "α", "alpha", "Armijo and Newton"),
])
def test_a_seed_letter_for_another_optimizers_setting_is_refused_as_its_name_is(make, letter, word, owner) -> None:
    """opt.momentum = 0.9 on gradient descent is refused (a setting of SGD); the seed's μ for it was set silently,
    a new attribute no step reads.  Refused now, saying the word and whose setting it is; the step is unchanged."""
    model = nn.MLP([1, 2, 1], rng=0)
    opt = make(model)
    whose = letter if letter == "μ" else f"the seed's {letter}"  # (round 40: the seed has no momentum μ)
    refusal = rf"^{type(opt).__name__} has no attribute {letter}: {whose} is called {word} here; "
    with pytest.raises(AttributeError, match=refusal + rf"it is a setting of {owner}$"):
        setattr(opt, letter, 0.9)
    assert letter not in vars(opt)
    with pytest.raises(AttributeError, match=rf"has no attribute {word}: it is a setting of {owner}$"):
        setattr(opt, word, 0.9)
    armijo = optim.Armijo(model)  # (an optimizer's own setting by the seed's letter: the round's message stands)
    with pytest.raises(AttributeError, match=r"^Armijo has no attribute σ: it is called sigma here"):
        armijo.σ = 0.1


# --- a custom Op's vjp wider than its input ------------------------------------------------------------------------
_W = np.arange(1.0, 7.0).reshape(2, 3)


def _weighted_column_sums(x: Value) -> Value:
    return Op("wsum", lambda x: (x * _W).sum(0), lambda g, out, x: g * _W)(x)


def test_a_vjp_broadcast_against_an_outside_array_is_summed_back() -> None:
    """The forward broadcasts x (3,) against W (2, 3), a constant from outside the Op; g * W, of that broadcast
    shape, is summed back (a check this round first added refused it, saying no broadcasting made the axis: the
    engine cannot see such a W, so the check went, and check_gradients names a vjp of a wrong shape instead).  The
    gradient is that of central differences, with W outside the Op and passed as a parameter alike."""
    weights = np.array([1.0, 10.0, 100.0])
    start = np.array([1.0, -2.0, 0.5])
    h, expected = 1e-6, np.zeros(3)
    for i in range(3):
        step = np.eye(3)[i] * h
        expected[i] = ((((start + step) * _W).sum(0) * weights).sum()
                       - (((start - step) * _W).sum(0) * weights).sum()) / (2 * h)
    x = Value(start.copy())
    (_weighted_column_sums(x) * weights).sum().backward()
    np.testing.assert_allclose(x.grad, expected, rtol=1e-7)
    wsum = Op("wsum", lambda x, W: (x * W).sum(0), lambda g, out, x, W: g * W)
    x = Value(start.copy())
    (wsum(x, W=_W) * weights).sum().backward()
    np.testing.assert_allclose(x.grad, expected, rtol=1e-7)


# --- fit given PyTorch's costs with their settings ------------------------------------------------------------------
# (cases as functions of torch: CI installs no PyTorch, and these are skipped there, not the whole file)
_TORCH_COSTS = {
    "huber_loss partial": lambda torch: (functools.partial(torch.nn.functional.huber_loss, delta=0.5), "delta=0.5",
                                         torch.nn.functional.huber_loss),
    "HuberLoss": lambda torch: (torch.nn.HuberLoss(delta=0.5), "delta=0.5", torch.nn.HuberLoss()),
    "smooth_l1_loss partial": lambda torch: (functools.partial(torch.nn.functional.smooth_l1_loss, beta=0.25),
                                             "beta=0.25", torch.nn.functional.smooth_l1_loss),
    "HingeEmbeddingLoss": lambda torch: (torch.nn.HingeEmbeddingLoss(margin=2.0), "margin=2.0",
                                         torch.nn.HingeEmbeddingLoss),
}


@pytest.mark.parametrize("case", sorted(_TORCH_COSTS))
def test_fit_given_a_pytorch_cost_with_a_setting_advises_a_lambda_with_that_setting(case: str) -> None:
    """partial(F.huber_loss, delta=0.5) was told `lambda p, y, delta=1.0: …`, PyTorch's default, not the cost given:
    pasted, it trained on another cost.  The lambda now carries the setting, and computes PyTorch's cost (value and
    gradient) for it; the cost without a setting keeps PyTorch's default, 1.0."""
    torch = pytest.importorskip("torch")
    cost, setting, plain = _TORCH_COSTS[case](torch)
    model = nn.MLP([1, 2, 1], rng=0)
    x = np.linspace(-1, 1, 6).reshape(-1, 1)
    y = np.sign(x) if "margin" in setting else x ** 2
    name = setting.partition("=")[0]
    with pytest.raises(TypeError, match=rf"give cost=lambda \w+, y, {name}=1\.0: "):
        training.fit(model, x, y, cost=plain, optimizer=optim.GradientDescent(model, learning_rate=0.1), episodes=1)
    with pytest.raises(TypeError) as caught:
        training.fit(model, x, y, cost=cost, optimizer=optim.GradientDescent(model, learning_rate=0.1), episodes=1)
    message = str(caught.value)
    found = re.search(r"give cost=(lambda [^:]*: .*\.mean\(\))", message)
    assert found is not None and f", {setting}:" in found.group(1), message
    mine = eval(found.group(1), {"F": F})  # noqa: S307 (the advice, as a user pastes it)
    p = np.array([[0.3], [-1.7], [2.4], [0.05], [-0.4], [1.1]])
    prediction = Value(p.copy())
    value = mine(prediction, y)
    value.backward()
    p_torch = torch.tensor(p, requires_grad=True)
    expected = cost(p_torch, torch.tensor(y))
    expected.backward()
    assert value.item() == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(prediction.grad, p_torch.grad.numpy(), rtol=1e-12, atol=1e-15)


# --- plot_history: a run given as a table --------------------------------------------------------------------------
def test_a_run_given_as_a_list_of_pairs_is_told_what_works_for_a_list() -> None:
    """costs.append((g_cost, d_cost)) makes a list of pairs; given as one run of a dict it is refused, and the advice
    `{'first': costs[:, 0], …}` raised TypeError (list indices) on it.  The advice is now the one the same table
    given alone gets, [row[0] for row in costs], and it draws two runs."""
    costs = []
    for episode in range(4):
        costs.append((1.0 / (episode + 1), 2.0 / (episode + 1)))
    with pytest.raises(ValueError) as caught:
        plots.plot_history({"gan": costs})
    message = str(caught.value)
    found = re.search(r"(\{'first': .*\})", message)
    assert found is not None, message
    runs = eval(found.group(1), {"costs": costs})  # noqa: S307 (the advice, pasted)
    figure = plots.plot_history(runs)
    assert [line.get_label() for line in figure.axes[0].get_lines()][:2] == ["first", "second"]
    np.testing.assert_array_equal(figure.axes[0].get_lines()[1].get_ydata(), [c[1] for c in costs])
