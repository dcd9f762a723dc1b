"""Policy gradients, a second pass: a softmax policy on a bandit whose expected return J(θ) = softmax(θ)·r is known
exactly, and on a 3×3 grid world written in numpy, trained PyTorch-style (ln π(a) recorded while acting, joined
with F.stack, discounted returns, a running-mean baseline, an entropy bonus, gradients of several episodes added up
before one step, clipping by norm by hand) and by gradient ascent through optimizers that minimise.  What is checked:
the expected REINFORCE surrogate and a Monte-Carlo average of score functions against central differences of the
exact J, an ascent step on 0 − J against +η∇J, the DiCE "magic box" exp(x − x.detach()) whose second derivative is
that of J (detach inside a recorded backward pass), a float32 policy clipped with a numpy float64 scale staying
float32, learning that raises the return with a fixed seed; and what is said where a PyTorch policy network's pieces
(nn.Softmax, nn.LogSoftmax, activation='log_softmax', torch.cat of the steps' ln π(a), F.one_hot) are looked for."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_gradients import central_difference  # float64 central differences, independent of the engine
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, nn, no_grad, optim
from tinygrad_edu import functional as F
from tinygrad_edu.autodiff import hessian


def _softmax(x: np.ndarray) -> np.ndarray:
    """softmax written out in numpy."""
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _expected_return(theta: np.ndarray, rewards: np.ndarray) -> float:
    """J(θ) = Σ_a π_θ(a) r(a), the bandit's expected return, in numpy."""
    return float(_softmax(theta) @ rewards)


def _grad_expected_return(theta: np.ndarray, rewards: np.ndarray) -> np.ndarray:
    """∇J(θ) = π ⊙ (r − π·r), the closed form."""
    pi = _softmax(theta)
    return pi * (rewards - pi @ rewards)


# --- defects ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["Softmax", "LogSoftmax"])
def test_pytorchs_softmax_modules_say_to_take_the_log_softmax_of_the_outputs(name: str) -> None:
    with pytest.raises(AttributeError, match=rf"has no attribute '{name}' \(a PyTorch name\); ") as caught:
        getattr(nn, name)
    message = str(caught.value)
    assert "activation='identity'" in message, message
    formula = message.split("ln π(a): ", 1)[1].split(", exact", 1)[0]  # the policy's ln π(a) as it advises
    model = nn.MLP([3, 5, 4], activation="tanh", output_activation="identity", init="xavier", rng=0)
    x, actions = np.random.default_rng(1).normal(size=(6, 3)), np.array([0, 3, 3, 1, 2, 0])
    picked = eval(formula, {"F": F, "np": np, "model": model, "x": x, "n": 6, "actions": actions})  # noqa: S307
    with no_grad():
        logits = model(x).data
    expected = np.log(_softmax(logits))[np.arange(6), actions]
    np.testing.assert_allclose(picked.data, expected, rtol=1e-12)


@pytest.mark.parametrize("name", ["LeakyReLU", "Softplus"])
def test_pytorchs_other_activation_modules_say_that_the_layer_applies_it(name: str) -> None:
    with pytest.raises(AttributeError, match=rf"has no attribute '{name}' \(a PyTorch name\); a Layer applies its "
                                             r"activation itself here: nn\.Layer\("):
        getattr(nn, name)


@pytest.mark.parametrize("build", [lambda: nn.Layer(3, 4, activation="log_softmax"),
                                   lambda: nn.MLP([3, 5, 4], output_activation="log_softmax")], ids=["Layer", "MLP"])
def test_a_log_softmax_activation_says_to_take_it_on_the_outputs(build) -> None:
    with pytest.raises(ValueError, match=r"unknown (output_)?activation 'log_softmax' \(") as caught:
        build()
    message = str(caught.value)
    assert "activation='identity'" in message and "F.log_softmax(model(x))" in message, message
    # the other way it offers: the function itself as the output activation, whose rows are log-probabilities
    model = nn.MLP([3, 5, 4], activation="tanh", output_activation=F.log_softmax, init="xavier", rng=0)
    out = model(np.random.default_rng(2).normal(size=(5, 3)))
    np.testing.assert_allclose(np.exp(out.data).sum(axis=-1), np.ones(5), rtol=1e-12)


def test_concatenating_the_log_probabilities_of_the_steps_says_to_stack_them() -> None:
    theta = Value(np.array([0.2, -0.4, 1.1]))
    log_pi = F.log_softmax(theta)
    actions = [2, 0, 2]
    steps = [log_pi[a] for a in actions]  # ln π(a_t) of each step: numbers, shape ()
    with pytest.raises(ValueError, match=r"^concatenate: .*input shapes \(\) and \(\) and \(\)") as caught:
        F.concatenate(steps)
    assert "F.stack(values)" in str(caught.value), str(caught.value)
    advantages = np.array([1.0, -0.5, 2.0])
    (0.0 - (F.stack(steps) * advantages).sum()).backward()  # what it advises, with the closed-form gradient
    expected = -np.sum(advantages[:, None] * (np.eye(3)[actions] - _softmax(theta.data)), axis=0)
    np.testing.assert_allclose(theta.grad, expected, rtol=1e-12)


def test_functional_one_hot_says_what_to_write() -> None:
    with pytest.raises(AttributeError, match=r"has no attribute 'one_hot' \(a PyTorch name\); write ") as caught:
        F.one_hot  # noqa: B018
    formula = str(caught.value).split("; write ", 1)[1].split(", an array", 1)[0]
    indices = np.array([2, 0, 1, 2])
    made = eval(formula, {"np": np, "num_classes": 3, "indices": indices})  # noqa: S307
    expected = np.zeros((4, 3))
    expected[[0, 1, 2, 3], [2, 0, 1, 2]] = 1.0
    np.testing.assert_array_equal(made, expected)
    assert "F.log_softmax(logits)[np.arange(n), actions]" in str(caught.value), str(caught.value)


# --- guards -----------------------------------------------------------------------------------------------------
_THETA = st.lists(st.floats(-4, 4, allow_nan=False), min_size=2, max_size=5).map(np.array)


@given(_THETA, st.data())
def test_the_expected_reinforce_surrogate_has_the_gradient_of_the_exact_expected_return(
        theta: np.ndarray, data: st.DataObject) -> None:
    """E_a[r(a) ∇ln π(a)] = Σ_a π(a) r(a) ∇ln π(a), the surrogate Σ_a π(a) (detached) · r(a) · ln π(a) backpropagated,
    is ∇J: checked against central differences of J itself, not of the surrogate."""
    rewards = np.array(data.draw(st.lists(st.floats(-3, 3), min_size=len(theta), max_size=len(theta))))
    logits = Value(theta.copy())
    log_pi = F.log_softmax(logits)
    (log_pi.exp().detach() * rewards * log_pi).sum().backward()
    numeric = central_difference(lambda t: _expected_return(t, rewards), theta, eps=1e-6)
    np.testing.assert_allclose(logits.grad, numeric, rtol=1e-6, atol=1e-8)


def test_a_monte_carlo_average_of_score_functions_approaches_the_exact_gradient() -> None:
    """20,000 actions sampled from π with a fixed seed, ln π(a) picked by fancy indexing, one backward of the mean of
    r(a)·ln π(a): within a few standard errors of central differences of the exact J."""
    theta, rewards = np.array([0.3, -0.7, 1.1, 0.0]), np.array([1.0, -0.5, 0.25, 2.0])
    rng = np.random.default_rng(0)
    logits = Value(theta.copy())
    log_pi = F.log_softmax(logits)
    actions = rng.choice(4, size=20_000, p=log_pi.exp().data)
    (log_pi[actions] * rewards[actions]).mean().backward()
    exact = central_difference(lambda t: _expected_return(t, rewards), theta, eps=1e-6)
    scores = rewards[actions, None] * (np.eye(4)[actions] - _softmax(theta))  # each sample's estimate, in numpy
    standard_error = scores.std(axis=0) / np.sqrt(len(actions))
    assert np.all(np.abs(logits.grad - exact) < 4 * standard_error), (logits.grad, exact, standard_error)


def test_gradient_ascent_is_a_step_on_zero_minus_the_return() -> None:
    """PyTorch's maximize=True is refused, saying to minimise the negation; a gradient-descent step on the closure
    0 − J moves θ by +η∇J (central differences of J), and J rises at every step."""
    rewards = np.array([0.1, 0.9, 0.3, 0.5])
    theta = Value(np.zeros(4))
    with pytest.raises(TypeError, match=r"^Adam: there is no argument maximize= here; .*minimise the negated"):
        optim.Adam([theta], learning_rate=0.1, maximize=True)
    opt = optim.GradientDescent([theta], learning_rate=2.0)
    returns = [_expected_return(theta.data, rewards)]
    for _ in range(30):
        start = theta.data.copy()
        opt.step(lambda: 0.0 - F.softmax(theta) @ rewards)
        ascent = 2.0 * central_difference(lambda t: _expected_return(t, rewards), start, eps=1e-6)
        np.testing.assert_allclose(theta.data - start, ascent, rtol=1e-6, atol=1e-10)
        returns.append(_expected_return(theta.data, rewards))
    assert all(b > a for a, b in zip(returns, returns[1:], strict=False)), returns
    assert returns[-1] > 0.8


@pytest.mark.parametrize("theta", [[0.3, -0.5, 1.2, 0.0], [2.0, -3.0, 0.5, 0.5]])
def test_the_magic_box_surrogate_has_the_second_derivative_of_the_return(theta: list[float]) -> None:
    """DiCE's magic box m(x) = exp(x − x.detach()) is 1 with derivative m(x)·dx: Σ_a π(a) (detached) · m(ln π(a)) ·
    r(a) has J's value, gradient and Hessian, if .detach() stays a constant inside a recorded backward pass.  The
    Hessian is checked against central differences of the closed-form ∇J."""
    x0, rewards = np.array(theta), np.array([1.0, 0.0, 2.0, -1.0])

    def surrogate(t: Value) -> Value:
        log_pi = F.log_softmax(t)
        return (log_pi.exp().detach() * (log_pi - log_pi.detach()).exp() * rewards).sum()

    assert surrogate(Value(x0)).item() == pytest.approx(_expected_return(x0, rewards), rel=1e-14)
    numeric = np.stack([central_difference(lambda t, i=i: float(_grad_expected_return(t, rewards)[i]), x0, eps=1e-6)
                        for i in range(4)])
    np.testing.assert_allclose(hessian(surrogate)(x0).data, numeric, rtol=1e-6, atol=1e-9)


def test_a_float32_policy_clipped_with_a_float64_scale_stays_float32() -> None:
    """Clipping by hand as PyTorch code does, p.grad = p.grad * np.minimum(1.0, c / norm) (a numpy float64 scale, so
    the gradient becomes float64): Adam's steps keep the parameters and its averages in float32, and the clipped
    step is the float32 step of the clipped gradient."""
    net = nn.MLP([3, 4, 2], activation="tanh", output_activation="identity", init="xavier", rng=0).float()
    opt = optim.Adam(net, learning_rate=0.01)
    for _ in range(2):
        opt.zero_grad()
        (0.0 - F.log_softmax(net(np.ones(3, np.float32)))[1] * 2.0).backward()
        norm = optim.gradient_norm(net)
        assert norm > 0.5
        scale = np.minimum(1.0, 0.5 / norm)
        for p in net.parameters():
            p.grad = p.grad * scale
        assert optim.gradient_norm(net) == pytest.approx(0.5, rel=1e-6)
        opt.step()
    assert all(p.dtype == np.float32 for p in net.parameters())
    state = opt.state_dict()
    averages = [key for key in state if key.endswith("_average")]
    assert averages and all(state[key].dtype == np.float32 for key in averages), {k: state[k].dtype for k in state}


_MOVES = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]])  # up, down, left, right on a 3×3 grid; the goal at (2, 2)


def _grid_episode(net: nn.Module, rng: np.random.Generator) -> tuple[Value, np.ndarray, Value, float]:
    """One episode, PyTorch-style: ln π(a_t) and the entropy recorded at each step while acting; returns them
    stacked, the discounted returns (γ = 0.95) and the episode's total reward."""
    pos, log_probs, entropies, rewards = np.zeros(2, int), [], [], []
    for _ in range(20):
        log_pi = F.log_softmax(net(np.eye(9)[pos[0] * 3 + pos[1]]))
        action = int(rng.choice(4, p=log_pi.exp().data))
        log_probs.append(log_pi[action])
        entropies.append(0.0 - (log_pi.exp() * log_pi).sum())
        pos = np.clip(pos + _MOVES[action], 0, 2)
        done = bool((pos == 2).all())
        rewards.append(1.0 if done else -0.05)
        if done:
            break
    returns, g = [], 0.0
    for r in reversed(rewards):
        g = r + 0.95 * g
        returns.append(g)
    return F.stack(log_probs), np.array(returns[::-1]), F.stack(entropies), sum(rewards)


def test_reinforce_on_a_grid_world_raises_the_return_with_a_fixed_seed() -> None:
    net = nn.MLP([9, 16, 4], activation="tanh", output_activation="identity", init="xavier", rng=0)
    opt = optim.Adam(net, learning_rate=0.02)
    rng, baseline, scores = np.random.default_rng(0), 0.0, []
    for _ in range(60):
        opt.zero_grad()
        score = 0.0
        for _ in range(4):  # four episodes' gradients added up before one step
            log_probs, returns, entropies, total = _grid_episode(net, rng)
            advantages = returns - baseline
            baseline = 0.9 * baseline + 0.1 * returns.mean()
            ((0.0 - (log_probs * advantages).sum() - 0.01 * entropies.sum()) / 4).backward()
            score += total / 4
        norm = optim.gradient_norm(net)
        if norm > 1.0:
            for p in net.parameters():
                p.grad *= 1.0 / norm
        opt.step()
        scores.append(score)
    assert np.mean(scores[:10]) < 0.5 < 0.75 < np.mean(scores[-10:]), scores
    with no_grad():  # the greedy policy walks to the goal in the 4 moves it takes
        pos = np.zeros(2, int)
        for _ in range(4):
            pos = np.clip(pos + _MOVES[int(net(np.eye(9)[pos[0] * 3 + pos[1]]).data.argmax())], 0, 2)
    assert (pos == 2).all(), pos
