"""REINFORCE as a student writes it: a softmax policy (an MLP) over a bandit and a 1-D gridworld, actions sampled
with a numpy Generator from probabilities computed under ``no_grad``, ln π(a) picked by fancy indexing from
``log_softmax``, discounted returns, a mean-return baseline, normalised advantages, an entropy bonus, and the cost
−Σ log π(a|s)·A of a batch of episodes, backpropagated per episode or once.  What is checked: the policy gradient
against central differences and against the closed form Σ A·(onehot(a) − π) (repeated actions add up), per-episode
backward passes against one backward of the mean, a rollout under no_grad recording nothing, a baseline from a
value head that was not detached, and what is said where a masked logit (−inf) makes the entropy NaN and where a
PyTorch or JAX name (F.nll_loss, v.multinomial, v.logsumexp) is looked for."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers_gradients import central_difference  # float64 central differences, independent of the engine
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, nn, no_grad, optim
from tinygrad_edu import functional as F

#: Logits of four actions, the third masked out with −inf (a move into a wall).
_MASK = np.array([True, True, False, True])


def _softmax(x: np.ndarray) -> np.ndarray:
    """softmax written out in numpy (the closed forms' π)."""
    e = np.exp(x - x.max())
    return e / e.sum()


def _masked_cost(logits: Value) -> Value:
    """−ln π(a)·A − 0.01·H(π) over the masked logits, the entropy written as F.softmax's docstring writes it."""
    log_pi = F.log_softmax(F.where(_MASK, logits, -np.inf))
    entropy = 0.0 - (log_pi.exp() * log_pi).sum()
    return 0.0 - log_pi[1] * 1.5 - 0.01 * entropy


# --- defects ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda ps: optim.Adam(ps, learning_rate=0.1),
                                  lambda ps: optim.SGD(ps, learning_rate=0.1, momentum=0.9)], ids=["Adam", "SGD"])
def test_a_nan_entropy_over_a_masked_logit_names_the_mask_not_the_learning_rate(make) -> None:
    start = np.array([0.5, 1.0, -0.3, 2.0])
    logits = Value(start.copy(), label="logits")
    opt = make([logits])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's "invalid value encountered in multiply"
        cost = _masked_cost(logits)
        cost.backward()
    assert np.isnan(cost.item()) and np.isnan(logits.grad).all()  # (the situation: 0 · (−inf) in the entropy)
    with pytest.raises(FloatingPointError) as caught:
        opt.step(cost=cost)
    message = str(caught.value)
    assert "log_softmax" in message and "-1e9" in message and "learning rate" not in message, message
    np.testing.assert_array_equal(logits.data, start)
    with warnings.catch_warnings(), pytest.raises(FloatingPointError) as caught:  # the closure's way too
        warnings.simplefilter("ignore", RuntimeWarning)
        opt.step(lambda: _masked_cost(logits))
    assert "log_softmax" in str(caught.value) and "-1e9" in str(caught.value), str(caught.value)
    np.testing.assert_array_equal(logits.data, start)


def test_the_advised_large_negative_mask_keeps_the_masked_probability_0_and_the_cost_finite() -> None:
    """What the advice above says to write: F.where(mask, logits, -1e9) gives the masked action probability 0 and
    a finite entropy whose gradient is the closed form over the unmasked actions."""
    x0 = np.array([0.5, 1.0, -0.3, 2.0])
    logits = Value(x0.copy())
    log_pi = F.log_softmax(F.where(_MASK, logits, -1e9))
    entropy = 0.0 - (log_pi.exp() * log_pi).sum()
    entropy.backward()
    pi = _softmax(x0[_MASK])
    h = -np.sum(pi * np.log(pi))
    assert log_pi.exp().data[2] == 0.0 and entropy.item() == pytest.approx(h, rel=1e-12)
    expected = np.zeros(4)
    expected[_MASK] = -pi * (np.log(pi) + h)  # ∂H/∂x_i = −π_i (ln π_i + H); the masked logit gets none
    np.testing.assert_allclose(logits.grad, expected, rtol=1e-9, atol=1e-15)


def test_functional_nll_loss_says_how_to_pick_log_probabilities() -> None:
    with pytest.raises(AttributeError, match=r"has no attribute 'nll_loss'") as caught:
        F.nll_loss  # noqa: B018
    message = str(caught.value)
    assert "losses.cross_entropy" in message and "[np.arange(n), " in message, message


def test_multinomial_says_to_sample_the_numbers_with_a_numpy_generator() -> None:
    probs = F.softmax(Value(np.array([0.0, 1.0, 3.0])))
    with pytest.raises(AttributeError, match=r"has no attribute 'multinomial'; write ") as caught:
        probs.multinomial(1)
    formula = str(caught.value).split("; write ", 1)[1].split(" for ", 1)[0]
    rng = np.random.default_rng(0)
    draws = [eval(formula, {"v": probs, "rng": rng, "np": np}) for _ in range(2000)]  # noqa: S307
    counts = np.bincount(draws, minlength=3) / 2000  # the advice samples from the probabilities themselves
    np.testing.assert_allclose(counts, probs.data, atol=0.04)


@pytest.mark.parametrize("x0", [[0.3, -1.2, 2.0, 0.0], [1000.0, 999.0, -5.0, 1000.0]], ids=["small", "large"])
def test_logsumexp_gives_a_formula_that_stays_finite_and_has_the_softmax_as_gradient(x0: list[float]) -> None:
    x = np.array(x0)
    formulas = []
    for missing in (lambda v: v.logsumexp(-1), lambda v: F.logsumexp(v)):
        with pytest.raises(AttributeError, match=r"has no attribute 'logsumexp'.*; write ") as caught:
            missing(Value(x))
        formulas.append(str(caught.value).split("; write ", 1)[1].split(", finite", 1)[0])
    top = x.max()
    expected = top + np.log(np.sum(np.exp(x - top)))  # ln Σ eˣ, written so that e¹⁰⁰⁰ does not overflow
    for formula, name in zip(formulas, ("v", "x"), strict=True):
        v = Value(x.copy())
        out = eval(formula, {name: v, "np": np, "F": F})  # noqa: S307
        out.backward()
        assert out.item() == pytest.approx(expected, rel=1e-14)
        np.testing.assert_allclose(v.grad, _softmax(x), rtol=1e-12, atol=1e-15)


# --- guards -----------------------------------------------------------------------------------------------------
@given(st.lists(st.floats(-20, 20, allow_nan=False), min_size=2, max_size=5).map(np.array), st.data())
def test_a_bandit_batch_with_repeated_actions_adds_their_score_functions(x: np.ndarray, data: st.DataObject) -> None:
    """−Σ_k A_k ln π(a_k) of one logits vector (a bandit's, no state) over a batch where actions repeat: the
    gradient is −Σ_k A_k (onehot(a_k) − π), every repeat counted."""
    n = data.draw(st.integers(2, 8))
    actions = np.array(data.draw(st.lists(st.integers(0, len(x) - 1), min_size=n, max_size=n)))
    actions[-1] = actions[0]  # at least one repeat
    advantages = np.array(data.draw(st.lists(st.floats(-3, 3), min_size=n, max_size=n)))
    logits = Value(x.copy())
    (0.0 - (F.log_softmax(logits)[actions] * advantages).sum()).backward()
    expected = -np.sum(advantages[:, None] * (np.eye(len(x))[actions] - _softmax(x)), axis=0)
    np.testing.assert_allclose(logits.grad, expected, rtol=1e-9, atol=1e-12)


def _gridworld_batch(net: nn.Module, rng: np.random.Generator, episodes: int = 3,
                     gamma: float = 0.9) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Episodes on a corridor of 5 cells (start 0, goal 4; actions left, right), sampled under no_grad: the states
    (one-hot rows), the actions and the discounted returns of each."""
    batch = []
    for _ in range(episodes):
        cell, states, actions, rewards = 0, [], [], []
        for _ in range(6):
            state = np.eye(5)[cell]
            with no_grad():
                pi = F.softmax(net(state))
            assert pi.op is None  # nothing recorded in the rollout
            action = int(rng.choice(2, p=pi.data))
            states.append(state)
            actions.append(action)
            cell = min(max(cell + (1 if action else -1), 0), 4)
            rewards.append(1.0 if cell == 4 else -0.1)
            if cell == 4:
                break
        returns, g = [], 0.0
        for r in reversed(rewards):
            g = r + gamma * g
            returns.append(g)
        batch.append((np.array(states), np.array(actions), np.array(returns[::-1])))
    return batch


def _episode_cost(net: nn.Module, states: np.ndarray, actions: np.ndarray, advantages: np.ndarray) -> Value:
    """−Σ_t ln π(a_t|s_t)·A_t − 0.01·Σ_t H(π(·|s_t)) of one episode."""
    log_pi = F.log_softmax(net(states))
    entropy = 0.0 - (log_pi.exp() * log_pi).sum()
    return 0.0 - (log_pi[np.arange(len(actions)), actions] * advantages).sum() - 0.01 * entropy


def test_per_episode_backward_passes_agree_with_one_backward_and_with_central_differences() -> None:
    net = nn.MLP([5, 6, 2], activation="tanh", output_activation="identity", init="xavier", rng=3)
    batch = _gridworld_batch(net, np.random.default_rng(7))
    returns = np.concatenate([ret for _, _, ret in batch])
    baseline, spread = returns.mean(), returns.std() + 1e-8  # numbers: the baseline is out of the graph
    episodes = [(s, a, (ret - baseline) / spread) for s, a, ret in batch]

    for episode in episodes:  # a backward pass per episode, each 1/n of the mean
        (_episode_cost(net, *episode) / len(episodes)).backward()
    per_episode = [p.grad.copy() for p in net.parameters()]
    net.zero_grad()
    (sum(_episode_cost(net, *episode) for episode in episodes) / len(episodes)).backward()
    for separate, together in zip(per_episode, (p.grad for p in net.parameters()), strict=True):
        np.testing.assert_allclose(separate, together, rtol=1e-12, atol=1e-15)

    for p in net.parameters():
        start = p.data.copy()

        def mean_cost(w: np.ndarray, p: Value = p) -> float:
            with no_grad():
                p.data = w
                return sum(_episode_cost(net, *episode).item() for episode in episodes) / len(episodes)

        numeric = central_difference(mean_cost, start, eps=1e-6)
        p.data = start
        np.testing.assert_allclose(p.grad, numeric, rtol=1e-5, atol=1e-8)


def test_the_policy_gradient_of_a_linear_policy_is_the_hand_formula() -> None:
    """For logits s @ W + b, ∂/∂W of −Σ_t ln π(a_t|s_t)·A_t is −Σ_t s_tᵀ (onehot(a_t) − π_t)·A_t."""
    layer = nn.Layer(5, 2, activation="identity", init="xavier", rng=1)
    states, actions, returns = _gridworld_batch(layer, np.random.default_rng(2), episodes=1)[0]
    advantages = returns - returns.mean()
    (0.0 - (F.log_softmax(layer(states))[np.arange(len(actions)), actions] * advantages).sum()).backward()
    pi = np.stack([_softmax(row) for row in states @ layer.weights.data + layer.biases.data])
    score = (np.eye(2)[actions] - pi) * advantages[:, None]
    np.testing.assert_allclose(layer.weights.grad, -states.T @ score, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(layer.biases.grad, -score.sum(axis=0), rtol=1e-12, atol=1e-15)


def test_log_probabilities_kept_from_a_no_grad_rollout_cannot_be_backpropagated() -> None:
    net = nn.MLP([5, 4, 2], activation="tanh", output_activation="identity", init="xavier", rng=0)
    with no_grad():
        log_pi = F.log_softmax(net(np.eye(5)[:3]))
    cost = 0.0 - (log_pi[np.arange(3), [0, 1, 1]] * np.array([1.0, -1.0, 0.5])).sum()
    with pytest.raises(ValueError, match=r"^backward: this Value does not require a gradient .*under no_grad"):
        cost.backward()
    assert all(p.grad is None for p in net.parameters())


def test_a_value_head_baseline_left_undetached_sends_the_actor_cost_into_the_critic() -> None:
    """Forgetting .detach() on b = V(s) makes −ln π(a)·(G − b) a function of the critic's weights: its gradient there
    is exactly the central difference of that cost, ln π(a)·∂b/∂W (what .detach() keeps out)."""
    policy = nn.Layer(3, 4, activation="identity", init="xavier", rng=2)
    value = nn.Layer(3, 1, activation="identity", init="xavier", rng=3)
    states, actions, ret = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]]), np.array([2, 2]), np.array([1.5, -0.5])

    def actor() -> Value:
        baseline = value(states).reshape(-1)  # not detached
        return 0.0 - (F.log_softmax(policy(states))[np.arange(2), actions] * (ret - baseline)).sum()

    actor().backward()
    start = value.weights.data.copy()

    def cost(w: np.ndarray) -> float:
        with no_grad():
            value.weights.data = w
            return actor().item()

    numeric = central_difference(cost, start, eps=1e-6)
    value.weights.data = start
    assert np.abs(numeric).max() > 0.1
    np.testing.assert_allclose(value.weights.grad, numeric, rtol=1e-6, atol=1e-9)
    log_pi = F.log_softmax(policy(states)).data[np.arange(2), actions]
    np.testing.assert_allclose(value.weights.grad, (states * log_pi[:, None]).sum(axis=0, keepdims=True).T,
                               rtol=1e-12)  # ∂/∂W of −Σ ln π·(G − s W) = Σ ln π · s
