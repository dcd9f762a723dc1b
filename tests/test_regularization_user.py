"""A student adds regularization and training tricks by hand: an L2 penalty (weight decay) and an L1 penalty on the
weights, gradient clipping by global norm between backward() and step(), early stopping on a validation split, and
a penalized cost given to fit.  The references are closed forms and updates computed here in numpy, never the
code's own output."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, losses, nn, no_grad, optim
from tinygrad_edu.data import train_test_split, xsquared
from tinygrad_edu.training import fit

RNG = np.random.default_rng(0)
X = RNG.normal(size=(30, 3))
Y = (X @ np.array([1.0, -2.0, 0.5]) + 0.3).reshape(-1, 1)


def _linear(w0, b0=0.2):
    """A linear model written by hand, with its weights and bias as leaves."""
    w, b = Value(np.array(w0, dtype=float).reshape(3, 1), label="w"), Value(np.array([b0]), label="b")
    return w, b, (lambda xb: xb @ w + b)


def _plain_gradient(w, b):
    """∂/∂w and ∂/∂b of the seed's cost (1/n) Σ (x·w + b − y)², in closed form."""
    residual = X @ w + b - Y
    return 2 * X.T @ residual / len(X), 2 * residual.sum(axis=0) / len(X)


# --- penalties --------------------------------------------------------------------------------------------------
@given(st.lists(st.floats(-3, 3), min_size=3, max_size=3), st.floats(0, 5))
def test_l2_penalty_adds_two_lambda_w_to_the_weights_gradient_only(w0, lam):
    w, b, model = _linear(w0)
    cost = losses.squared_error(model(X), Y) + lam * (w ** 2).sum()
    cost.backward()
    plain_w, plain_b = _plain_gradient(w.data, b.data)
    np.testing.assert_allclose(w.grad, plain_w + 2 * lam * w.data, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.grad, plain_b, rtol=1e-10, atol=1e-12)  # the bias is not penalized


def test_l1_penalty_adds_lambda_sign_w_and_nothing_at_0():
    """|w|' = sign(w), and 0 at w = 0 (as in PyTorch): a weight at 0 gets the plain gradient alone."""
    lam = 0.3
    w, b, model = _linear([0.0, -1.5, 2.0])
    net = nn.MLP([3, 1], activation="identity", rng=0)  # the same penalty written as a student would on a network
    with no_grad():
        net[0].weights[...] = w.data
        net[0].biases[...] = b.data
    for weights, forward in (([w], model), ([p for n, p in net.named_parameters() if n.endswith("weights")], net)):
        cost = losses.squared_error(forward(X), Y) + lam * sum(abs(p).sum() for p in weights)
        cost.backward()
        plain_w, _ = _plain_gradient(w.data, b.data)
        np.testing.assert_allclose(weights[0].grad, plain_w + lam * np.array([[0.0], [-1.0], [1.0]]), rtol=1e-10)


# --- clipping by hand -------------------------------------------------------------------------------------------
def _clip(params, max_norm):
    """Gradient clipping by global norm, by hand: under no_grad, p.grad changed in place."""
    norm = optim.gradient_norm(params)
    with no_grad():
        for p in params:
            p.grad *= min(1.0, max_norm / norm)
    return norm


@pytest.mark.parametrize("kind", ["gd", "sgd", "adam"])
def test_clipping_by_hand_changes_each_step_as_numpy_says(kind):
    w, b, model = _linear([0.5, 0.5, 0.5])
    params, max_norm, rate = [w, b], 0.5, 0.05
    opt = {"gd": optim.GradientDescent(params, rate), "sgd": optim.SGD(params, rate, momentum=0.9),
           "adam": optim.Adam(params, rate, betas=(0.8, 0.9))}[kind]
    ref = [w.data.copy(), b.data.copy()]
    velocity, m, v = [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]
    for k in range(1, 5):
        opt.zero_grad()
        losses.squared_error(model(X), Y).backward()
        g = list(_plain_gradient(*ref))
        scale = min(1.0, max_norm / np.sqrt(sum((gi ** 2).sum() for gi in g)))
        assert scale < 1  # (the clipping does something)
        g = [gi * scale for gi in g]
        _clip(params, max_norm)
        opt.step()
        for i in range(2):
            if kind == "gd":
                ref[i] = ref[i] - rate * g[i]
            elif kind == "sgd":
                velocity[i] = 0.9 * velocity[i] + g[i]
                ref[i] = ref[i] - rate * velocity[i]
            else:
                m[i], v[i] = 0.8 * m[i] + 0.2 * g[i], 0.9 * v[i] + 0.1 * g[i] ** 2
                ref[i] = ref[i] - rate * (m[i] / (1 - 0.8 ** k)) / (np.sqrt(v[i] / (1 - 0.9 ** k)) + 1e-8)
        np.testing.assert_allclose(w.data, ref[0], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(b.data, ref[1], rtol=1e-12, atol=1e-14)


def test_armijo_with_a_closure_computes_its_own_gradient_so_clipping_by_hand_has_no_effect():
    """As the optim module's docstring says: step(closure) clears the gradients and backpropagates itself."""
    results = []
    for clip in (False, True):
        w, b, model = _linear([0.5, 0.5, 0.5])
        opt = optim.Armijo([w, b])
        losses.squared_error(model(X), Y).backward()
        if clip:
            _clip([w, b], 0.1)
        opt.step(lambda model=model: losses.squared_error(model(X), Y))
        results.append((w.data.copy(), b.data.copy(), opt.last_slope))
    plain_w, plain_b = _plain_gradient(np.full((3, 1), 0.5), np.array([0.2]))
    assert results[1][2] == pytest.approx(-((plain_w ** 2).sum() + (plain_b ** 2).sum()), rel=1e-12)
    for unclipped, clipped in zip(results[0], results[1], strict=True):
        np.testing.assert_array_equal(unclipped, clipped)


def test_armijo_with_cost_takes_the_clipped_gradient_as_its_direction():
    """As Armijo's docstring says: with cost=, gradients changed by hand are taken as ∇f(x)."""
    w, b, model = _linear([0.5, 0.5, 0.5])
    opt = optim.Armijo([w, b], sigma=0.25)
    cost = losses.squared_error(model(X), Y)
    cost.backward()
    _clip([w, b], 0.1)
    clipped = [w.grad.copy(), b.grad.copy()]
    opt.step(lambda: losses.squared_error(model(X), Y), cost=cost)
    assert opt.last_slope == pytest.approx(-0.01, rel=1e-12)
    t = opt.last_step_size
    np.testing.assert_allclose(w.data, 0.5 - t * clipped[0], rtol=1e-14)
    np.testing.assert_allclose(b.data, 0.2 - t * clipped[1], rtol=1e-14)
    new_w, new_b = 0.5 - t * clipped[0], 0.2 - t * clipped[1]
    start = ((X @ np.full((3, 1), 0.5) + 0.2 - Y) ** 2).mean()
    assert ((X @ new_w + new_b - Y) ** 2).mean() <= start - 0.25 * t * 0.01  # the condition, with the clipped slope


# --- fit with a penalized cost ----------------------------------------------------------------------------------
def test_fit_records_the_penalized_cost_the_cost_function_returns():
    lam, rate = 0.1, 0.05
    w, b, model = _linear([0.5, 0.5, 0.5])

    def penalized(prediction, targets):
        return losses.squared_error(prediction, targets) + lam * (w ** 2).sum()

    history = fit(model, X, Y, cost=penalized, optimizer=optim.GradientDescent([w, b], rate), episodes=3,
                  progress=False)
    ref_w, ref_b = np.full((3, 1), 0.5), np.array([0.2])
    for episode in range(3):
        expected = ((X @ ref_w + ref_b - Y) ** 2).mean() + lam * (ref_w ** 2).sum()
        assert history.cost[episode] == pytest.approx(expected, rel=1e-12)
        plain_w, plain_b = _plain_gradient(ref_w, ref_b)
        ref_w, ref_b = ref_w - rate * (plain_w + 2 * lam * ref_w), ref_b - rate * plain_b
    np.testing.assert_allclose(w.data, ref_w, rtol=1e-12)
    assert history.final_cost == pytest.approx(((X @ ref_w + ref_b - Y) ** 2).mean() + lam * (ref_w ** 2).sum(),
                                               rel=1e-12)


def test_a_flat_penalty_written_with_squared_error_is_still_allowed_in_fit():
    """A cost of one's own on flat targets: mean_squared_error for the samples, a penalty Σw² written with
    squared_error of a flat w (one sample of 3 outputs, summed, as its docstring says)."""
    w = Value(np.zeros(3), label="w")
    flat = Y.ravel()
    history = fit(lambda xb: xb @ w, X, flat, optimizer=optim.GradientDescent([w], 0.1), episodes=2, progress=False,
                  cost=lambda prediction, targets: losses.mean_squared_error(prediction, targets)
                  + 0.5 * losses.squared_error(w, np.zeros(3)))
    assert history.cost[0] == pytest.approx((flat ** 2).mean(), rel=1e-12)


# --- PyTorch's weight_decay, as the optimizers' error describes it ----------------------------------------------
def test_weight_decay_is_refused_with_advice_that_matches_pytorchs_update():
    w, b, model = _linear([0.5, -0.5, 1.0])
    with pytest.raises(TypeError, match=r"λ/2·Σw²"):
        optim.SGD([w, b], 0.1, weight_decay=0.01)
    lam, rate = 0.2, 0.05
    opt = optim.SGD([w, b], rate)
    ref_w = w.data.copy()
    for _ in range(3):  # PyTorch's SGD(weight_decay=λ): w ← w − η(∇C + λw), on every parameter it is given
        opt.zero_grad()
        (losses.squared_error(model(X), Y) + lam / 2 * (w ** 2).sum()).backward()
        plain_w, _ = _plain_gradient(ref_w, b.data)
        ref_w = ref_w - rate * (plain_w + lam * ref_w)
        opt.step()
        np.testing.assert_allclose(w.data, ref_w, rtol=1e-12)


# --- early stopping ---------------------------------------------------------------------------------------------
def test_early_stopping_by_hand_restores_the_best_weights_from_a_state_dict():
    x, y = xsquared(80, seed=0)
    (xt, yt), (xv, yv) = train_test_split(x, y, test_fraction=0.25, seed=0)
    net = nn.MLP([1, 6, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    opt = optim.Adam(net, 0.3)  # large enough to overshoot now and then
    best, best_state, costs = np.inf, None, []
    for episode in range(12):
        fit(net, xt, yt, optimizer=opt, episodes=1, batch_size=8, seed=episode, progress=False)
        with no_grad():
            costs.append(float(losses.squared_error(net(xv), yv)))
        if costs[-1] < best:
            best, best_state = costs[-1], net.state_dict()
    assert costs[-1] != best  # (the last episode is not the best: the state must come back from the copy)
    net.load_state_dict(best_state)
    with no_grad():
        prediction = net(xv).data
    assert ((prediction - yv) ** 2).mean() == pytest.approx(min(costs), rel=1e-12)
