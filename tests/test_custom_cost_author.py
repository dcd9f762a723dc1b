"""An engineer who writes cost functions of their own (Huber, log-cosh, pinball, per-sample weights; as functions,
functools.partial, lambdas, callable instances and bound methods) and hands them to fit and the optimizers:
their gradients against closed forms and central differences, and the names and warnings fit gives them."""

import functools
import warnings

import numpy as np
import pytest
from helpers_gradients import central_difference
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, fit, nn, no_grad, optim


def huber(out, t, delta=1.0):
    d = out - t
    a = F.abs(d)
    return F.where(a.data <= delta, 0.5 * d * d, delta * (a - 0.5 * delta)).mean()


def log_cosh(out, t):
    d = out - t
    return (F.softplus(2 * d) - d - np.log(2.0)).mean()  # ln cosh d = softplus(2d) − d − ln 2


def pinball(out, t, q=0.9):
    d = t - out
    return F.maximum(q * d, (q - 1) * d).mean()


# the costs and their derivatives ∂C/∂out in closed form (numpy), for a batch of m elements
CLOSED_FORMS = {
    "huber": (functools.partial(huber, delta=0.5),
              lambda d: np.where(np.abs(d) <= 0.5, 0.5 * d * d, 0.5 * (np.abs(d) - 0.25)).mean(),
              lambda d: np.clip(d, -0.5, 0.5) / d.size),
    "log_cosh": (log_cosh, lambda d: np.log(np.cosh(d)).mean(), lambda d: np.tanh(d) / d.size),
    "pinball": (pinball, lambda d: np.maximum(-0.9 * d, 0.1 * d).mean(), lambda d: np.where(d < 0, -0.9, 0.1) / d.size),
}


# --- guards ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
@given(seed=st.integers(0, 2 ** 16), rows=st.integers(1, 5), columns=st.integers(1, 3))
def test_a_cost_of_ones_own_has_its_closed_form_value_and_gradient(name, seed, rows, columns):
    """Huber, log-cosh and pinball written with the package's functions: value and ∂C/∂out as in closed form, and
    the gradient agrees with central differences of the closed-form value (away from the kinks at |d| = δ, d = 0)."""
    cost, value, slope = CLOSED_FORMS[name]
    rng = np.random.default_rng(seed)
    targets = rng.normal(size=(rows, columns))
    d = rng.uniform(0.05, 2.0, size=(rows, columns)) * rng.choice([-1.0, 1.0], size=(rows, columns))
    d[np.abs(np.abs(d) - 0.5) < 0.05] += 0.1  # (off Huber's kink at |d| = δ)
    out = Value(targets + d)
    c = cost(out, targets)
    c.backward()
    assert float(c.item()) == pytest.approx(value(d), rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(out.grad, slope(d), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(out.grad, central_difference(lambda o: value(o - targets), targets + d), rtol=1e-5,
                               atol=1e-9)


def test_fit_backpropagates_a_partial_cost_at_the_starting_parameters():
    """fit(cost=functools.partial(huber, delta=0.1)): the first episode's cost is the Huber cost of the model's
    outputs (numpy), and each parameter's gradient after one episode, taken before its update, agrees with central
    differences of that cost at the starting parameters."""
    rng = np.random.default_rng(3)
    x, y = rng.uniform(-1, 1, (12, 1)), rng.normal(size=(12, 1))
    net = nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", rng=0)
    start = [p.data.copy() for p in net.parameters()]

    def numpy_cost(numbers):  # the same network and cost, numbers only
        w1, b1, w2, b2 = numbers  # (weights (in, out): α @ W + b)
        d = np.abs(np.tanh(x @ w1 + b1) @ w2 + b2 - y)
        return np.where(d <= 0.1, 0.5 * d * d, 0.1 * (d - 0.05)).mean()

    history = fit(net, x, y, cost=functools.partial(huber, delta=0.1), optimizer=optim.GradientDescent(net, 0.5),
                  episodes=1, progress=False)
    assert history.cost[0] == pytest.approx(numpy_cost(start), rel=1e-12)
    for i, p in enumerate(net.parameters()):
        slope = central_difference(lambda a, i=i: numpy_cost([*start[:i], a, *start[i + 1:]]), start[i])
        np.testing.assert_allclose(p.grad, slope, rtol=1e-5, atol=1e-9)


def test_a_weighted_cost_with_weights_as_a_column_of_the_targets_weighs_each_sample():
    """The README's way to per-sample weights: one more column of the targets.  fit's first cost is
    Σ_s w_s (y_s − y'_s)² / Σ_s w_s, by hand, and doubling one sample's weight changes it as that formula says."""
    rng = np.random.default_rng(5)
    x, y, w = rng.uniform(-1, 1, (10, 1)), rng.normal(size=(10, 1)), rng.uniform(0.5, 2.0, (10, 1))

    def weighted(out, t):
        return (((out - t[:, :1]) ** 2) * t[:, 1:]).sum() / t[:, 1:].sum()

    for weights in (w, np.where(np.arange(10)[:, None] == 3, 2 * w, w)):
        net = nn.MLP([1, 2, 1], rng=0)
        with no_grad():
            outputs = net(x).data
        history = fit(net, x, np.concatenate([y, weights], axis=1), cost=weighted,
                      optimizer=optim.GradientDescent(net, 0.1), episodes=1, progress=False)
        expected = (weights * (outputs - y) ** 2).sum() / weights.sum()
        assert history.cost[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("returned, error, words", [
    (lambda out, t: float(((out - t) ** 2).mean().item()), TypeError, "must return the cost as a Value"),
    (lambda out, t: (out - t) ** 2, ValueError, r"must return one number, got a Value of shape \(6, 1\)"),
])
def test_fit_names_a_cost_that_returns_a_float_or_one_number_per_sample(returned, error, words):
    x = np.linspace(-1, 1, 6).reshape(-1, 1)
    net = nn.MLP([1, 2, 1], rng=0)
    with pytest.raises(error, match=r"fit: in episode 1 of 3, the cost function <lambda> " + words):
        fit(net, x, x ** 2, cost=returned, optimizer=optim.Adam(net, 0.01), episodes=3, progress=False)


# --- defects ---------------------------------------------------------------------------------------------------

def _float_cost(out, t, scale=1.0):
    return scale * float(((out - t) ** 2).mean().item())  # a float, not a Value: fit's error names the function


class Costs:
    def as_float(self, out, t):
        return _float_cost(out, t)


@pytest.mark.parametrize("cost, name", [(functools.partial(_float_cost, scale=2.0), "partial(_float_cost)"),
                                        (Costs().as_float, "Costs.as_float")])
def test_fit_names_a_partial_or_method_cost_by_the_function_it_calls(cost, name):
    x = np.linspace(-1, 1, 6).reshape(-1, 1)
    net = nn.MLP([1, 2, 1], rng=0)
    with pytest.raises(TypeError) as raised:
        fit(net, x, x ** 2, cost=cost, optimizer=optim.SGD(net, 0.1), episodes=2, progress=False)
    assert f"the cost function {name} must return the cost as a Value" in str(raised.value)


def _weighted_fit(cost, n=8):
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, (n, 1)), rng.normal(size=(n, 1))
    net = nn.MLP([1, 2, 1], rng=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(net, x, y, cost=cost, optimizer=optim.GradientDescent(net, 0.01), episodes=1, progress=False)
    return history, [str(w.message) for w in caught], x, y


def test_flat_per_sample_weights_against_a_column_of_outputs_are_warned_about():
    weights = np.linspace(0.5, 2.0, 8)

    def weighted(out, t):
        return (weights * (out - t) ** 2).sum() / weights.sum()

    history, messages, x, y = _weighted_fit(weighted)
    assert history.cost[0] > 0  # (it trains: the numbers are wrong, not refused)
    assert any("(8, 8)" in m and "per-sample weights" in m and "reshape(-1, 1)" in m for m in messages), messages


def test_targets_flattened_inside_a_cost_against_a_column_of_outputs_are_warned_about():
    history, messages, x, y = _weighted_fit(lambda out, t: ((out - t.ravel()) ** 2).mean())
    assert any("(8, 8)" in m and "targets flattened" in m for m in messages), messages


def test_weights_given_as_a_column_give_no_warning_and_the_weighted_mean():
    """The right way round, (n, 1) weights: no warning, and the cost is Σ w (y − y')² / Σ w by hand."""
    weights = np.linspace(0.5, 2.0, 8).reshape(-1, 1)
    outputs = []

    def weighted(out, t):
        outputs.append(out.data.copy())
        return (weights * (out - t) ** 2).sum() / weights.sum()

    history, messages, x, y = _weighted_fit(weighted)
    assert not messages
    assert history.cost[0] == pytest.approx((weights * (outputs[0] - y) ** 2).sum() / weights.sum(), rel=1e-12)
