"""A student reads the optimizers' refusals against the seed: a word or letter the seed never uses must not be
called the seed's.

The seed (sections 5, 6.2, 7.2) writes the learning rate η, Armijo's constants σ and α with steps t = αˡ, and a random
guess of the parameters; it has no "initial step", no "scale" of random changes and no momentum μ.  Before the fix,
``Armijo(model, lr=1)`` said initial_step was "the seed's word", ``RandomSearch(model, lr=0.1)`` said so of scale, and
``SGD(model, 0.1, μ=0.9)`` / ``GradientDescent(model, 0.1, μ=0.9)`` / ``opt.μ = 0.9`` spoke of "the seed's μ".  The
advice, followed, must still do what it says (the Armijo step against its closed form on a quadratic; the random
changes within ±scale; SGD's momentum in v ← μv + ∇C).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from tinygrad_edu import Value, nn, optim


def _net() -> nn.MLP:
    return nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)


def _message(action) -> str:
    with pytest.raises((TypeError, AttributeError)) as caught:
        action()
    return str(caught.value)


@pytest.mark.parametrize(("make", "word"), [
    (lambda net, **kw: optim.Armijo(net, **kw), "initial_step"),
    (lambda net, **kw: optim.RandomSearch(net, **kw), "scale"),
])
@pytest.mark.parametrize("name", ["lr", "learning_rate", "eta", "η"])
def test_a_word_the_seed_does_not_use_is_not_called_the_seeds(make, word: str, name: str) -> None:
    message = _message(lambda: make(_net(), **{name: 0.5}))
    assert f"{word}=" in message and "the seed's word" not in message, message


@pytest.mark.parametrize(("make", "word"), [
    (lambda net: optim.Armijo(net), "initial_step"), (lambda net: optim.RandomSearch(net), "scale"),
])
@pytest.mark.parametrize("name", ["lr", "learning_rate"])
def test_reading_or_setting_pytorchs_name_does_not_call_the_word_the_seeds(make, word: str, name: str) -> None:
    opt = make(_net())
    for action in (lambda: getattr(opt, name), lambda: setattr(opt, name, 0.5)):
        message = _message(action)
        assert f"opt.{word} = ..." in message and "the seed's word" not in message, message


def test_the_learning_rate_of_gradient_descent_is_still_the_seeds_word() -> None:
    message = _message(lambda: optim.GradientDescent(_net(), lr=0.1))
    assert re.search(r"it is called learning_rate= here \(the seed's word\)", message), message


@pytest.mark.parametrize("action", [
    lambda: optim.SGD(_net(), 0.1, μ=0.9),
    lambda: optim.GradientDescent(_net(), 0.1, μ=0.9),
    lambda: setattr(optim.SGD(_net(), 0.1), "μ", 0.9),
    lambda: setattr(optim.GradientDescent(_net(), 0.1), "μ", 0.9),
], ids=["SGD(μ=)", "GradientDescent(μ=)", "SGD.μ =", "GradientDescent.μ ="])
def test_momentums_mu_is_not_called_the_seeds(action) -> None:
    message = _message(action)
    assert "momentum" in message and "the seed's μ" not in message, message


@pytest.mark.parametrize("letter", ["σ", "α"])
def test_armijos_letters_are_still_the_seeds(letter: str) -> None:
    message = _message(lambda: optim.Armijo(_net(), **{letter: 0.25}))
    assert f"the seed's {letter} spelt out" in message, message


def test_the_advice_followed_initial_step_is_armijos_first_trial_step() -> None:
    """On f(x) = x², from x = 1 (∇f = 2, d = −2): t = s·αˡ, the first with f(1 − 2t) ≤ 1 − 4σt.  With s = 2 and
    α = 0.5: t = 2 (f = 9), t = 1 (f = 1 > 1 − 4e-4), t = 0.5 (f = 0): accepted, x = 0."""
    x = Value(np.array([1.0]))
    opt = optim.Armijo([x], initial_step=2.0, alpha=0.5)
    opt.step(lambda: (x ** 2).sum())
    assert opt.last_step_size == 0.5 and x.data[0] == 0.0


def test_the_advice_followed_scale_bounds_each_random_change() -> None:
    x = Value(np.zeros(2000))
    search = optim.RandomSearch([x], scale=0.25, rng=3)
    proposal = np.random.default_rng(3).uniform(-0.25, 0.25, 2000)
    search.step(lambda: -(x ** 2).sum())  # from x = 0, any change lowers this cost: kept
    assert search.last_accepted
    np.testing.assert_array_equal(x.data, proposal)
    assert np.abs(x.data).max() <= 0.25


def test_the_advice_followed_momentum_is_the_mu_of_v_mu_v_plus_gradient() -> None:
    """SGD's v ← μv + ∇C, x ← x − ηv on f(x) = x² from x = 1 with η = 0.1, μ = 0.9: v₁ = 2, x₁ = 0.8;
    v₂ = 0.9·2 + 1.6 = 3.4, x₂ = 0.8 − 0.34 = 0.46."""
    x = Value(np.array([1.0]))
    opt = optim.SGD([x], learning_rate=0.1, momentum=0.9)
    for _ in range(2):
        opt.step(lambda: (x ** 2).sum())
    assert x.data[0] == pytest.approx(0.46, abs=1e-15)
