"""REINFORCE on a 5-armed bandit and a 1-D grid walk, built from the package: logits from an MLP, softmax and
log_softmax, actions sampled from ``p.data``, the loss −Σ log π(a)·(return − baseline) with a running-mean baseline,
an entropy bonus −Σ p log p, gradient clipping by ``optim.gradient_norm``, Adam and SGD, thousands of small graphs,
and a value head sharing a trunk with the policy.  What is checked: the score-function gradient against its closed
form onehot(a) − π, the entropy's gradient against central differences and −p(ln p + H) (probabilities near 0 and
1 too), a baseline kept out of the graph, graphs freed after each episode, training that raises the expected reward,
and the advice given where ln of a probability that rounded to 0 makes the cost or the gradient NaN."""

from __future__ import annotations

import gc
import warnings
import weakref

import numpy as np
import pytest
from helpers_gradients import central_difference  # float64 central differences, independent of the engine
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, detect_anomaly, losses, nn, no_grad, optim
from tinygrad_edu import functional as F

#: Logits where one probability rounds to exactly 0 in float64 (e^-800 is below the smallest subnormal number) and
#: one to exactly 1.
_UNDERFLOWING = [0.0, 800.0, -800.0, 1.0]


def _softmax(x: np.ndarray) -> np.ndarray:
    """softmax written out in numpy (the closed forms' π)."""
    e = np.exp(x - x.max())
    return e / e.sum()


# --- defects ----------------------------------------------------------------------------------------------------
def test_a_closure_cost_made_inf_by_the_log_of_a_softmax_advises_log_softmax() -> None:
    w = Value(np.array(_UNDERFLOWING), label="logits")
    opt = optim.Adam([w], learning_rate=0.1)
    with warnings.catch_warnings(), pytest.raises(FloatingPointError) as caught:
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's "divide by zero encountered in log"
        opt.step(lambda: 0.0 - F.softmax(w).log()[2])  # the action whose probability rounded to 0
    message = str(caught.value)
    assert "log_softmax" in message, message
    assert "softplus" not in message, message  # (no sigmoid in this cost)
    np.testing.assert_array_equal(w.data, _UNDERFLOWING)


@pytest.mark.parametrize("make", [lambda ps: optim.Adam(ps, learning_rate=0.1),
                                  lambda ps: optim.SGD(ps, learning_rate=0.1, momentum=0.9),
                                  lambda ps: optim.GradientDescent(ps, learning_rate=0.1)],
                         ids=["Adam", "SGD", "GradientDescent"])
def test_a_nan_gradient_from_the_log_of_a_softmax_names_log_softmax_not_the_learning_rate(make) -> None:
    w = Value(np.array(_UNDERFLOWING), label="logits")
    opt = make([w])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        loss = (0.0 - F.softmax(w).log()[1]) * 0.5  # the sampled action is fine: ln π(a) is finite
        loss.backward()
    assert np.isfinite(loss.item()) and np.isnan(w.grad).all()  # (the situation: ∂/∂x of ln 0 is 0/0 elsewhere)
    with pytest.raises(FloatingPointError) as caught:
        opt.step(cost=loss)
    message = str(caught.value)
    assert "log_softmax" in message and "learning rate" not in message, message
    np.testing.assert_array_equal(w.data, _UNDERFLOWING)


def test_detect_anomaly_at_the_log_of_a_softmax_names_log_softmax() -> None:
    w = Value(np.array(_UNDERFLOWING))
    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"^log: the forward output holds NaN or inf") \
            as caught:
        F.softmax(w).log()
    assert "log_softmax" in str(caught.value), str(caught.value)


def test_softmax_docstring_points_to_log_softmax_for_its_logarithm() -> None:
    doc = " ".join(F.softmax.__doc__.split())
    assert "log_softmax" in doc and "−inf" in doc, doc


def test_cross_entropy_reduction_none_says_how_to_get_each_samples_cost() -> None:
    logits = Value(np.zeros((3, 5)))
    with pytest.raises(TypeError, match=r"^cross_entropy: there is no argument reduction=") as caught:
        losses.cross_entropy(logits, [1, 2, 3], reduction="none")
    assert "log_softmax(logits)[np.arange(n), labels]" in str(caught.value), str(caught.value)


def test_nn_utils_of_pytorch_says_how_to_clip_gradients_here() -> None:
    with pytest.raises(AttributeError, match=r"has no attribute 'utils'") as caught:
        nn.utils.clip_grad_norm_  # noqa: B018
    assert "optim.gradient_norm" in str(caught.value), str(caught.value)


# --- guards -----------------------------------------------------------------------------------------------------
_LOGITS = st.lists(st.floats(-60, 60, allow_nan=False), min_size=2, max_size=6).map(np.array)


@given(_LOGITS, st.data())
def test_the_score_function_gradient_is_onehot_minus_pi(x: np.ndarray, data: st.DataObject) -> None:
    a = data.draw(st.integers(0, len(x) - 1))
    logits = Value(x.copy())
    F.log_softmax(logits)[a].backward()
    expected = np.eye(len(x))[a] - _softmax(x)
    np.testing.assert_allclose(logits.grad, expected, rtol=1e-9, atol=1e-15)


@given(_LOGITS, st.data())
def test_the_reinforce_loss_of_a_batch_has_the_gradient_of_its_closed_form(x: np.ndarray, data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 4))
    rows = np.stack([np.roll(x, i) for i in range(n)])
    actions = np.array(data.draw(st.lists(st.integers(0, len(x) - 1), min_size=n, max_size=n)))
    advantages = np.array(data.draw(st.lists(st.floats(-3, 3), min_size=n, max_size=n)))
    logits = Value(rows.copy())
    (0.0 - (F.log_softmax(logits)[np.arange(n), actions] * advantages).sum()).backward()
    pi = np.stack([_softmax(r) for r in rows])
    expected = -advantages[:, None] * (np.eye(len(x))[actions] - pi)
    np.testing.assert_allclose(logits.grad, expected, rtol=1e-9, atol=1e-12)


def _entropy(x: Value) -> Value:
    return 0.0 - (F.softmax(x) * F.log_softmax(x)).sum()


@pytest.mark.parametrize("x", [[0.0, 1.0, 2.0], [0.0, 12.0, -12.0], [3.0, 3.0, 3.0, 3.0], [0.0, 25.0, -1.0],
                               [1e-3, 0.0, 0.0, 0.0, 0.0]])
def test_the_entropy_gradient_agrees_with_central_differences_and_its_closed_form(x: list[float]) -> None:
    x0 = np.array(x)
    logits = Value(x0.copy())
    _entropy(logits).backward()
    pi = _softmax(x0)
    with np.errstate(divide="ignore"):
        entropy = -np.sum(pi * np.log(pi))
    closed = -pi * (np.log(pi) + entropy)  # ∂H/∂x_i = −π_i (ln π_i + H)
    np.testing.assert_allclose(logits.grad, closed, rtol=1e-6, atol=1e-14)
    numeric = central_difference(lambda v: float(-np.sum(_softmax(v) * np.log(_softmax(v)))), x0, eps=1e-5)
    np.testing.assert_allclose(logits.grad, numeric, rtol=1e-5, atol=1e-9)


def test_the_entropy_with_log_softmax_stays_finite_where_probabilities_round_to_0_and_1() -> None:
    logits = Value(np.array(_UNDERFLOWING))
    entropy = _entropy(logits)
    entropy.backward()
    assert 0.0 <= entropy.item() < 1e-300  # one probability is 1 (to 1e-348): no spread left
    assert np.isfinite(logits.grad).all() and np.abs(logits.grad).max() < 1e-300


def test_a_detached_baseline_from_the_value_head_gets_no_gradient_and_the_trunk_sums_both_heads() -> None:
    trunk = nn.Layer(3, 6, activation="tanh", init="xavier", rng=1)
    policy = nn.Layer(6, 4, activation="identity", init="xavier", rng=2)
    value = nn.Layer(6, 1, activation="identity", init="xavier", rng=3)
    state, action, ret = np.array([0.5, -1.0, 2.0]), 2, 1.5

    def actor_and_critic(baseline: float | None = None) -> tuple[Value, Value]:
        hidden = trunk(state)
        v = value(hidden)
        b = v.detach() if baseline is None else baseline
        actor = (0.0 - F.log_softmax(policy(hidden))[action] * (ret - b)).sum()
        return actor, ((v - ret) ** 2).sum()

    actor, critic = actor_and_critic()
    actor.backward()
    assert value.weights.grad is None and value.biases.grad is None  # the baseline is out of the actor's graph
    trunk.zero_grad(), policy.zero_grad()
    actor, critic = actor_and_critic()
    (actor + critic).backward()

    start = trunk.weights.data.copy()
    with no_grad():
        fixed = value(trunk(state)).item()  # the baseline's number at the start, a constant as .detach() makes it

    def total(w: np.ndarray) -> float:
        with no_grad():
            trunk.weights.data = w
            actor, critic = actor_and_critic(baseline=fixed)
            return actor.item() + critic.item()

    numeric = central_difference(total, start, eps=1e-5)
    trunk.weights.data = start
    np.testing.assert_allclose(trunk.weights.grad, numeric, rtol=1e-5, atol=1e-8)


def test_graphs_of_finished_episodes_are_freed_without_the_cyclic_collector() -> None:
    net = nn.MLP([3, 8, 4], activation="tanh", output_activation="identity", init="xavier", rng=0)
    opt = optim.Adam(net, learning_rate=0.01)
    rng = np.random.default_rng(0)
    finished = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(5):
            logits = net(np.ones(3))
            log_pi = F.log_softmax(logits)
            pi = log_pi.exp()
            a = rng.choice(4, p=pi.data)
            loss = 0.0 - log_pi[a] * 0.3 - 0.01 * (0.0 - (pi * log_pi).sum())
            opt.zero_grad()
            loss.backward()
            norm = optim.gradient_norm(net)
            if norm > 0.5:
                with no_grad():
                    for q in net.parameters():
                        q.grad *= 0.5 / norm
            opt.step(cost=loss)
            finished.append(weakref.ref(logits))
            del logits, log_pi, pi, loss
        assert all(ref() is None for ref in finished)  # nothing (optimizer, History, caches) keeps a graph
    finally:
        if enabled:
            gc.enable()


def test_clipping_by_gradient_norm_scales_the_gradient_to_the_bound() -> None:
    net = nn.MLP([2, 5, 3], activation="tanh", output_activation="identity", init="xavier", rng=4)
    (0.0 - F.log_softmax(net(np.array([3.0, -2.0])))[0] * 50.0).backward()
    norm = optim.gradient_norm(net)
    by_hand = np.sqrt(sum(float(np.sum(p.grad ** 2)) for p in net.parameters()))
    assert norm == pytest.approx(by_hand, rel=1e-12) and norm > 1.0
    with no_grad():
        for p in net.parameters():
            p.grad *= 1.0 / norm
    assert optim.gradient_norm(net) == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("make", [lambda m: optim.Adam(m, learning_rate=0.05),
                                  lambda m: optim.SGD(m, learning_rate=0.1, momentum=0.9)], ids=["Adam", "SGD"])
def test_reinforce_on_a_five_armed_bandit_raises_the_expected_reward(make) -> None:
    means = np.array([0.1, 0.3, 0.9, 0.5, 0.2])
    net = nn.MLP([1, 8, 5], activation="tanh", output_activation="identity", init="xavier", rng=0)
    opt = make(net)
    rng = np.random.default_rng(0)
    state = np.ones(1)

    def expected_reward() -> float:
        with no_grad():
            return float(F.softmax(net(state)).data @ means)

    before, baseline = expected_reward(), 0.0
    for _ in range(300):
        log_pi = F.log_softmax(net(state))
        pi = log_pi.exp()
        a = rng.choice(5, p=pi.data)
        reward = rng.normal(means[a], 0.1)
        baseline = 0.9 * baseline + 0.1 * reward
        loss = 0.0 - log_pi[a] * (reward - baseline) - 0.01 * (0.0 - (pi * log_pi).sum())
        opt.zero_grad()
        loss.backward()
        norm = optim.gradient_norm(net)
        if norm > 1.0:
            with no_grad():
                for p in net.parameters():
                    p.grad *= 1.0 / norm
        opt.step(cost=loss)
    after = expected_reward()
    assert before < 0.5 and after > 0.8, (before, after)


@pytest.mark.parametrize("action", [2.0, np.float64(2.0), np.array(2.0), Value(2.0)],
                         ids=["float", "float64", "0-d float array", "Value"])
def test_an_action_index_that_is_no_integer_is_a_type_error_naming_index(action) -> None:
    log_pi = F.log_softmax(Value(np.zeros(5)))
    with pytest.raises(TypeError, match=r"^index: index with ints"):
        log_pi[action]
