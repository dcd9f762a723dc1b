"""A first-year student works through the seed with the seed's own words: its learning algorithm's
NETWORK.BACKWARD() and NETWORK.UPDATE_PARAMETERS(η, ∇C_all) (section 7.1) and its code's n.train and n.train_random
(footnote 7) called on a network, its letters η, σ and α given to the optimizers as keywords, σ as the name of a
layer's activation, and the targets of the x² demonstration written as one row beside the network's column.

Each error must say what the seed's word is here, and the advice, followed, must give the right numbers (against
central finite differences or closed forms).  Before the fixes, ``net.backward()``, ``net.update_parameters(…)``
and ``net.train_random`` were bare AttributeErrors, ``net.train(x, y)`` Python's count of positional arguments,
``GradientDescent(net, η=0.1)`` and ``Armijo(net, σ=1e-4)`` Python's "unexpected keyword argument" (while
``opt.eta = 0.1`` already said where the learning rate is), ``activation="σ"`` an unknown name, and
``squared_error`` of a column of predictions against a row of targets said only that the shapes must be equal.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from tinygrad_edu import losses, nn, no_grad, optim
from tinygrad_edu.training import fit

_X = np.array([[0.1], [0.5], [-1.0], [0.01]])  # the seed's test inputs of section 7.3
_Y = _X**2


def _net() -> nn.MLP:
    return nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)


def _cost_at(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    with no_grad():
        return float(((model(x).data - y) ** 2).sum(axis=1).mean())


def _central_differences(model: nn.Module, x: np.ndarray, y: np.ndarray, eps: float = 1e-6) -> list[np.ndarray]:
    """∂C/∂p of every parameter of ``model`` by (C(p + ε) − C(p − ε)) / 2ε, element by element, in float64."""
    gradients = []
    for p in model.parameters():
        g = np.zeros_like(p.data)
        for index in np.ndindex(p.shape):
            saved = p.data[index]
            p.data[index] = saved + eps
            up = _cost_at(model, x, y)
            p.data[index] = saved - eps
            down = _cost_at(model, x, y)
            p.data[index] = saved
            g[index] = (up - down) / (2 * eps)
        gradients.append(g)
    return gradients


# --- the seed's learning algorithm (7.1) and its code (footnote 7) called on a network ------------------------------


def test_network_backward_says_it_is_the_costs_and_the_advice_gives_the_finite_difference_gradient() -> None:
    net = _net()
    with pytest.raises(AttributeError, match=r"^MLP has no attribute backward: "
                                             r"the seed's NETWORK\.BACKWARD\(\) .*cost\.backward\(\)"):
        net.backward()
    # the advice: cost = losses.squared_error(model(inputs), targets); cost.backward()
    cost = losses.squared_error(net(_X), _Y)
    cost.backward()
    for p, expected in zip(net.parameters(), _central_differences(net, _X, _Y), strict=True):
        np.testing.assert_allclose(p.grad, expected, rtol=1e-6, atol=1e-9)


def test_network_update_parameters_says_it_is_an_optimizers_step_and_the_step_is_the_seeds_update() -> None:
    net, eta = _net(), 0.3
    with pytest.raises(AttributeError, match=r"^MLP has no attribute update_parameters: "
                                             r".*optim\.GradientDescent\(model, learning_rate=η\).*opt\.step\(\)"):
        net.update_parameters(eta, [p.data for p in net.parameters()])
    expected = [p.data - eta * g for p, g in zip(net.parameters(), _central_differences(net, _X, _Y), strict=True)]
    opt = optim.GradientDescent(net, learning_rate=eta)  # the advice, followed
    losses.squared_error(net(_X), _Y).backward()
    opt.step()
    for p, after in zip(net.parameters(), expected, strict=True):
        np.testing.assert_allclose(p.data, after, rtol=1e-7, atol=1e-10)


def test_the_seeds_n_train_random_says_random_search_and_the_advice_never_raises_the_cost() -> None:
    net = _net()
    with pytest.raises(AttributeError, match=r"^MLP has no attribute train_random: "
                                             r".*training\.fit\(model, inputs, targets, optimizer=optim\.RandomSearch"):
        net.train_random(_X, _Y)
    history = fit(net, _X, _Y, optimizer=optim.RandomSearch(net, rng=1), episodes=30, progress=False)
    assert all(later <= earlier for earlier, later in zip(history.cost, history.cost[1:]))
    assert history.final_cost == pytest.approx(_cost_at(net, _X, _Y), rel=1e-12)


@pytest.mark.parametrize("arguments", [(_X, _Y), (_X,), ([0.1, 0.5],)], ids=["inputs, targets", "inputs", "list"])
def test_the_seeds_n_train_with_samples_says_train_sets_a_flag_and_fit_trains(arguments: tuple) -> None:
    net = _net()
    before = copy.deepcopy(net.state_dict())
    with pytest.raises(TypeError, match=r"^train: .*only sets the training flag.*the seed's n\.train.* is "
                                        r"training\.fit\(model, inputs, targets, optimizer=optim\.GradientDescent"):
        net.train(*arguments)
    assert all(np.array_equal(before[name], array) for name, array in net.state_dict().items())
    assert net.training is True
    with pytest.raises(TypeError, match=r"^train: mode must be True or False, got str 'no'$"):
        net.train("no")  # (a flag of the wrong type keeps its own short message)
    assert net.train(False) is net and net.training is False


# --- the seed's letters as keywords ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("make", "word", "means"), [  # (round 40: initial_step and scale are not the seed's words)
    (lambda net, **kw: optim.GradientDescent(net, **kw), "learning_rate", "the seed's word"),
    (lambda net, **kw: optim.SGD(net, **kw), "learning_rate", "the seed's word"),
    (lambda net, **kw: optim.Adam(net, **kw), "learning_rate", "the seed's word"),
    (lambda net, **kw: optim.Armijo(net, **kw), "initial_step", "the first step t it tries"),
    (lambda net, **kw: optim.RandomSearch(net, **kw), "scale", "the size of the random changes"),
])
@pytest.mark.parametrize("letter", ["η", "eta", "ETA", "step_size"])
def test_the_learning_rate_by_the_seeds_letter_says_the_keyword_here(make, word: str, means: str, letter: str) -> None:
    net = _net()
    said = ("the learning rate η is called" if word == "learning_rate"  # (the others have no learning rate)
            else "it has no learning rate η; the nearest setting is")
    with pytest.raises(TypeError, match=rf"^\w+: there is no argument {letter}=; {said} "
                                        rf"{word}= here \({means}.*\), e\.g\. \w+\(model, {word}=\.\.\.\)$"):
        make(net, **{letter: 0.1})


def test_newtons_learning_rate_by_the_seeds_letter_says_it_has_none() -> None:
    with pytest.raises(TypeError, match=r"^Newton: there is no argument η= here; there is no learning rate: "
                                        r"the Armijo rule chooses every step"):
        optim.Newton(_net(), η=0.1)


@pytest.mark.parametrize(("letter", "word"), [("σ", "sigma"), ("α", "alpha")])
def test_armijos_greek_letters_as_keywords_say_the_spelt_out_name_and_it_gives_the_armijo_step(letter, word) -> None:
    net = _net()
    with pytest.raises(TypeError, match=rf"^Armijo: there is no argument {letter}=; it is called {word}= here "
                                        rf"\(the seed's {letter} spelt out\), e\.g\. Armijo\(model, {word}=\.\.\.\)$"):
        optim.Armijo(net, **{letter: 0.25})
    # the advice, followed: the step t = αˡ with the smallest l that meets f(x + t·d) ≤ f(x) + σ·t·∇fᵀd, d = −∇f
    opt = optim.Armijo(net, **{word: 0.25})
    sigma, alpha = opt.sigma, opt.alpha
    start = [p.data.copy() for p in net.parameters()]
    gradient = _central_differences(net, _X, _Y)
    f0, slope = _cost_at(net, _X, _Y), -sum(float((g**2).sum()) for g in gradient)
    t = 1.0
    while True:
        with no_grad():
            for p, x0, g in zip(net.parameters(), start, gradient, strict=True):
                p.data = x0 - t * g
        if _cost_at(net, _X, _Y) <= f0 + sigma * t * slope:
            break
        t *= alpha
    with no_grad():
        for p, x0 in zip(net.parameters(), start, strict=True):
            p.data = x0.copy()

    opt.step(lambda: losses.squared_error(net(_X), _Y))  # (the closure computes the cost; Armijo backpropagates)
    assert opt.last_step_size == pytest.approx(t, rel=1e-12)
    for p, x0, g in zip(net.parameters(), start, gradient, strict=True):
        np.testing.assert_allclose(p.data, x0 - t * g, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(("make", "letter", "word", "whose"), [  # (round 40: μ is not the seed's, it has no momentum)
    (lambda net: optim.Armijo(net), "σ", "sigma", "the seed's σ spelt out"),
    (lambda net: optim.Armijo(net), "α", "alpha", "the seed's α spelt out"),
    (lambda net: optim.Newton(net), "σ", "sigma", "the seed's σ spelt out"),
    (lambda net: optim.SGD(net, learning_rate=0.1), "μ", "momentum", "μ spelt out; the seed has no momentum"),
])
def test_a_setting_changed_by_the_seeds_letter_between_steps_is_refused_not_kept_unread(make, letter, word,
                                                                                         whose) -> None:
    """``opt.σ = 0.1`` made an attribute that no step reads: Armijo went on with σ = 1e-4, silently."""
    opt = make(_net())
    before = getattr(opt, word)
    with pytest.raises(AttributeError, match=rf"^\w+ has no attribute {letter}: it is called {word} here "
                                             rf"\({whose}\): opt\.{word} = \.\.\.$"):
        setattr(opt, letter, 0.3)
    assert letter not in vars(opt) and getattr(opt, word) == before
    setattr(opt, word, 0.3)  # the advice, followed: the setting the steps read
    assert getattr(opt, word) == 0.3 and opt.state_dict()[word] == 0.3


def test_sgds_momentum_as_the_letter_mu_says_momentum() -> None:
    with pytest.raises(TypeError, match=r"^SGD: there is no argument μ=; it is called momentum= here"):
        optim.SGD(_net(), learning_rate=0.1, μ=0.9)


@pytest.mark.parametrize("name", ["σ", "sigma"])
def test_sigma_as_a_layers_activation_says_it_is_the_seeds_name_for_any_activation(name: str) -> None:
    for build in (lambda: nn.Layer(2, 3, activation=name), lambda: nn.MLP([2, 3, 1], output_activation=name)):
        with pytest.raises(ValueError, match=r"unknown \w*activation .*σ is the seed's name for any activation "
                                             r"function.*'sigmoid'"):
            build()
    # the seed's figures: σ(z) = 1 / (1 + e^(−z)), the sigmoid, which activation="sigmoid" computes
    layer = nn.Layer(2, 3, activation="sigmoid", rng=0)
    x = np.array([[0.5, -1.0]])
    z = x @ layer.weights.data + layer.biases.data
    np.testing.assert_allclose(layer(x).data, 1 / (1 + np.exp(-z)), rtol=1e-14)


# --- the targets of section 7.3 written as one row ------------------------------------------------------------------


@pytest.mark.parametrize("cost", [losses.squared_error, losses.mean_squared_error])
def test_a_row_of_targets_beside_a_column_of_predictions_says_to_give_them_as_a_column(cost) -> None:
    net = _net()
    row = _Y.T  # the targets x² of the seed's four test inputs, written as one row
    with pytest.raises(ValueError, match=r"prediction has shape \(4, 1\) but target has shape \(1, 4\); they must be "
                                         r"equal \(targets of shape \(1, 4\) are one row.*targets\.T"):
        cost(net(_X), row)
    # the advice, followed: the seed's cost, averaged over the samples
    with no_grad():
        out = net(_X).data
    np.testing.assert_allclose(cost(net(_X), row.T).item(), ((out - _Y) ** 2).mean(), rtol=1e-14)
