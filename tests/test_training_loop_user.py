"""A practitioner drives training in small pieces: fit(..., episodes=1) in a loop, a learning-rate schedule set
between calls, optimizers switched mid-way, a hand-written loop (zero_grad/backward/step) on the same model and
optimizer, and one numpy Generator carrying the mini-batch orders across calls.  The references are one long
uninterrupted run or a closed form computed here in numpy, never the code's own output."""

import warnings

import numpy as np
import pytest

from tinygrad_edu import Value, losses, nn, optim
from tinygrad_edu.data import batches, xsquared
from tinygrad_edu.training import fit

X, Y = xsquared(50, seed=0)


def _network():
    return nn.MLP([1, 6, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)


def _numbers(model):
    return [p.data.copy() for p in model.parameters()]


def _assert_same(a, b):
    for p, q in zip(_numbers(a), _numbers(b), strict=True):
        np.testing.assert_array_equal(p, q)


MAKERS = {
    "GradientDescent": lambda m: optim.GradientDescent(m, learning_rate=0.2),
    "SGD-momentum": lambda m: optim.SGD(m, learning_rate=0.05, momentum=0.9),
    "Adam": lambda m: optim.Adam(m, learning_rate=0.01),
    "Armijo": lambda m: optim.Armijo(m),
    "RandomSearch": lambda m: optim.RandomSearch(m, scale=0.05, rng=1),
}


@pytest.mark.parametrize("batch_size", [None, 16], ids=["full batch", "mini-batches"])
@pytest.mark.parametrize("name", MAKERS)
def test_a_loop_of_one_episode_calls_is_one_long_run_bit_for_bit(name, batch_size):
    """Five calls of one episode with a shared Generator: the same parameters, costs, gradient norms and step sizes
    as one call of five, each call's History counting its own one episode; full batch, each call starts at the
    cost the call before ended with."""
    straight_model = _network()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optim.LineSearchWarning)
        straight = fit(straight_model, X, Y, optimizer=MAKERS[name](straight_model), episodes=5,
                       batch_size=batch_size, seed=np.random.default_rng(7), progress=False)
        model = _network()
        optimizer, order = MAKERS[name](model), np.random.default_rng(7)
        calls = [fit(model, X, Y, optimizer=optimizer, episodes=1, batch_size=batch_size, seed=order,
                     progress=False) for _ in range(5)]
    _assert_same(model, straight_model)
    assert [h.episodes for h in calls] == [1] * 5
    assert [c for h in calls for c in h.cost] == straight.cost
    assert [g for h in calls for g in h.gradient_norm] == straight.gradient_norm
    assert [s for h in calls for s in h.step_size] == straight.step_size
    assert calls[-1].final_cost == straight.final_cost
    if batch_size is None:
        assert [h.final_cost for h in calls[:-1]] == [h.cost[0] for h in calls[1:]]


def test_a_step_decay_schedule_set_between_calls_is_the_closed_form_of_momentum_sgd():
    """Linear least squares C(w) = mean_i Σ_j (x_i·w − t_ij)², ∇C = 2/n Xᵀ(Xw − T): SGD with momentum (heavy
    ball, v ← μv + ∇C, w ← w − ηv) and η halved every two calls, written out in numpy; History records each η."""
    rng = np.random.default_rng(0)
    x, t = rng.normal(size=(20, 3)), rng.normal(size=(20, 2))
    w = Value(np.zeros((3, 2)))
    optimizer = optim.SGD([w], learning_rate=0.1, momentum=0.5)
    expected, velocity, rates = np.zeros((3, 2)), np.zeros((3, 2)), []
    for call in range(6):
        rate = 0.1 * 0.5 ** (call // 2)
        optimizer.learning_rate = rate
        rates += fit(lambda inputs: inputs @ w, x, t, optimizer=optimizer, episodes=1, progress=False).step_size
        velocity = 0.5 * velocity + 2 / len(x) * x.T @ (x @ expected - t)
        expected = expected - rate * velocity
    np.testing.assert_allclose(w.data, expected, rtol=1e-12, atol=1e-14)
    assert rates == [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]


@pytest.mark.parametrize("name", ["SGD-momentum", "Adam"])
def test_a_hand_written_episode_between_calls_of_fit_goes_on_as_fit_would(name):
    """fit, then one episode by hand (data.batches from the same Generator, zero_grad, backward, step), then fit:
    the same as three episodes of fit, and Adam's step counts carry over all of them."""
    straight_model = _network()
    straight = fit(straight_model, X, Y, optimizer=MAKERS[name](straight_model), episodes=3, batch_size=16,
                   seed=np.random.default_rng(5), progress=False)
    model = _network()
    optimizer, order = MAKERS[name](model), np.random.default_rng(5)
    fit(model, X, Y, optimizer=optimizer, episodes=1, batch_size=16, seed=order, progress=False)
    for inputs, targets in batches(X, Y, 16, seed=order):
        optimizer.zero_grad()
        losses.squared_error(model(inputs), targets).backward()
        optimizer.step()
    last = fit(model, X, Y, optimizer=optimizer, episodes=1, batch_size=16, seed=order, progress=False)
    _assert_same(model, straight_model)
    assert last.cost == straight.cost[2:] and last.final_cost == straight.final_cost
    if name == "Adam":  # 4 batches of 50 samples per episode, every parameter stepped in each
        counts = [int(v) for k, v in optimizer.state_dict().items() if k.endswith("step_count")]
        assert counts == [12] * len(model.parameters())


def test_adam_switched_to_armijo_and_back_keeps_its_averages_and_counts():
    """Armijo steps in between change the parameters, not Adam's state: Adam goes on with its own k, m and v,
    checked against Adam's formula written out in numpy for a one-parameter quadratic."""
    w = Value(np.array([2.0, -1.0]))
    target = np.array([[0.5, 0.25]])

    def model(inputs):
        return inputs * w

    adam = optim.Adam([w], learning_rate=0.1)
    inputs = np.ones((1, 1))
    fit(model, inputs, target, optimizer=adam, episodes=2, progress=False)
    fit(model, inputs, target, optimizer=optim.Armijo([w]), episodes=1, progress=False)
    start = w.data.copy()
    fit(model, inputs, target, optimizer=adam, episodes=1, progress=False)
    # Adam's state after two steps, from the first two gradients written out, then its third step
    expected_w, m, v = np.array([2.0, -1.0]), 0.0, 0.0
    for k in (1, 2):
        g = 2 * (expected_w - target[0])
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        expected_w = expected_w - 0.1 * (m / (1 - 0.9 ** k)) / (np.sqrt(v / (1 - 0.999 ** k)) + 1e-8)
    g = 2 * (start - target[0])
    m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
    expected = start - 0.1 * (m / (1 - 0.9 ** 3)) / (np.sqrt(v / (1 - 0.999 ** 3)) + 1e-8)
    np.testing.assert_allclose(w.data, expected, rtol=1e-13)
    assert int(adam.state_dict()["state.0.step_count"]) == 3


def test_a_call_that_fails_before_any_update_leaves_the_generator_as_it_found_it():
    """Resumed with the checkpoint's Generator, the first call is refused (flat targets) on its first batch; the
    call made again with column targets must go on exactly as the run that never failed."""
    straight_model = _network()
    straight_order = np.random.default_rng(3)
    fit(straight_model, X, Y, optimizer=optim.Adam(straight_model, learning_rate=0.01), episodes=2, batch_size=16,
        seed=straight_order, progress=False)
    model = _network()
    optimizer, order = optim.Adam(model, learning_rate=0.01), np.random.default_rng(3)
    with pytest.raises(ValueError, match="one number per sample"):
        fit(model, X, Y.ravel(), optimizer=optimizer, episodes=2, batch_size=16, seed=order, progress=False)
    fit(model, X, Y, optimizer=optimizer, episodes=2, batch_size=16, seed=order, progress=False)
    _assert_same(model, straight_model)
    assert order.bit_generator.state == straight_order.bit_generator.state


@pytest.mark.parametrize("batch_size", [None, 8], ids=["full batch", "mini-batches"])
def test_a_cost_that_diverged_before_this_call_is_not_called_the_start_of_training(batch_size):
    """One fit call, then a hand-written step with a learning rate far too large (the cost goes from about 0.1
    to inf), then fit again: its error must point at the steps, not at a model that was never trained."""
    model = nn.MLP([1, 6, 1], activation="identity", output_activation="identity", init="xavier", rng=0)
    optimizer = optim.SGD(model, learning_rate=1.0)
    fit(model, X, Y, optimizer=optimizer, episodes=1, progress=False)
    optimizer.learning_rate = 1e152
    optimizer.zero_grad()
    losses.squared_error(model(X), Y).backward()
    optimizer.step()
    with pytest.raises(FloatingPointError, match=r"episode 1 of 1.*cost of inf") as caught:
        fit(model, X, Y, optimizer=optimizer, episodes=1, batch_size=batch_size, seed=0, progress=False)
    assert "before any update" not in str(caught.value)
    assert "learning rate" in str(caught.value)
