"""A student training deeper and odder networks than the demo: many sigmoid layers (vanishing gradients), dead
ReLUs, huge learning rates (exploding), float32 networks, costs of 1e-20 and 0, and the plots of such runs.
Found by an exploratory pass."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, nn, optim, plots
from tinygrad_edu.losses import squared_error
from tinygrad_edu.training import DIVERGENCE_FACTOR, DivergenceWarning, History, fit


def _cost_at(net, x, y):
    """The full-batch squared error, forward only, as a float."""
    return float(squared_error(net(Value(x, requires_grad=False)), y).item())


# --- defects -----------------------------------------------------------------------------------------------------
def test_a_mini_batch_run_that_diverges_within_its_first_episode_warns():
    x = np.linspace(-1, 1, 64).reshape(-1, 1)
    net = nn.MLP([1, 32, 32, 1], activation="relu", output_activation="identity", init="he", rng=0)
    start = _cost_at(net, x, x**2)  # the cost on all samples before any update
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(net, x, x**2, optimizer=optim.Adam(net, 1000.0), episodes=4, batch_size=4, seed=0,
                      progress=False)
    assert history.final_cost > DIVERGENCE_FACTOR * start  # it did diverge (~1e5 from ~1.2) ...
    diverging = [w for w in caught if issubclass(w.category, DivergenceWarning)]
    assert len(diverging) == 1  # ... and says so, once
    assert f"grew from {start:.3g} on all samples before the first update" in str(diverging[0].message)


def _visible_tick_boxes(ax):
    ax.figure.canvas.draw()
    return [label.get_window_extent() for label in ax.get_yticklabels() if label.get_visible() and label.get_text()]


def test_the_tick_labels_of_a_symlog_cost_axis_over_many_decades_do_not_overlap():
    costs = [1.0, 1e-5, 1e-10, 1e-15, 1e-20, 0.0, -1.0, -1e3, -1e6]  # a cost that can go below 0, to 0 and past it
    ax = plots.plot_history(costs).axes[0]
    assert ax.get_yscale() == "symlog"
    boxes = sorted(_visible_tick_boxes(ax), key=lambda box: box.y0)
    assert len(boxes) >= 5
    overlapping = [(a.y0, b.y0) for a, b in zip(boxes, boxes[1:]) if b.y0 < a.y1]
    assert not overlapping


def test_a_step_size_of_0_keeps_the_step_axis_logarithmic_and_marks_the_zero():
    history = History(cost=[1.0, 0.5, 0.25, 0.25], gradient_norm=[1.0] * 4, step_size=[1.0, 2**-10, 2**-20, 0.0])
    fig = plots.plot_history(history)
    step_ax = fig.axes[1]
    assert step_ax.get_yscale() == "log"
    to_pixels = step_ax.transData.transform
    heights = [to_pixels((episode, step))[1] for episode, step in [(1, 1.0), (2, 2**-10), (3, 2**-20)]]
    assert heights[0] - heights[1] > 20 and heights[1] - heights[2] > 20  # three different steps, apart
    marks = [line for line in step_ax.get_lines() if line.get_marker() == "v"]
    assert len(marks) == 1 and list(marks[0].get_xdata()) == [4]  # the step of 0, at the bottom, in episode 4
    assert any("step size 0" in text.get_text() for text in fig.legends[0].get_texts())


# --- guards --------------------------------------------------------------------------------------------------------
@given(seed=st.integers(0, 2**32 - 1), activation=st.sampled_from(["sigmoid", "tanh"]))
def test_gradients_of_an_8_layer_network_match_central_differences(seed, activation):
    """Vanishing gradients are real, not a bug: even the first layer's tiny gradient matches central differences
    (float64) to a few digits, at random parameters."""
    x = np.linspace(-1, 1, 7).reshape(-1, 1)
    net = nn.MLP([1] + [3] * 8 + [1], activation=activation, output_activation="identity", init="xavier", rng=seed)
    params = net.parameters()
    squared_error(net(Value(x, requires_grad=False)), x**2).backward()
    rng = np.random.default_rng(seed)
    for p in (params[0], params[len(params) // 2], params[-2]):  # the first, a middle and the last layer's weights
        index = tuple(int(rng.integers(n)) for n in p.shape)
        analytic, old = float(p.grad[index]), float(p.data[index])

        def difference(h, index=index, old=old, p=p):
            p.data[index] = old + h
            up = _cost_at(net, x, x**2)
            p.data[index] = old - h
            down = _cost_at(net, x, x**2)
            p.data[index] = old
            return (up - down) / (2 * h)

        # Richardson's extrapolation of two central differences cancels their h² error: one at h = 1e-4 was off by
        # 2.5e-5 of a tiny first-layer gradient in about 1 draw in 3,000 (its h² term and rounding, not the engine)
        numeric = (4 * difference(5e-4) - difference(1e-3)) / 3
        assert abs(analytic - numeric) <= 1e-5 * abs(numeric) + 1e-11, (p.shape, index, analytic, numeric)


def test_vanishing_gradients_of_a_deep_sigmoid_network_are_orders_smaller_in_its_first_layer():
    x = np.linspace(-1, 1, 20).reshape(-1, 1)
    net = nn.MLP([1] + [4] * 8 + [1], activation="sigmoid", output_activation="identity", init="xavier", rng=0)
    squared_error(net(Value(x, requires_grad=False)), x**2).backward()
    first, last = net.parameters()[0].grad, net.parameters()[-2].grad
    assert np.linalg.norm(first) < 1e-4 * np.linalg.norm(last)  # σ' ≤ 1/4 per layer: (1/4)⁸ ≈ 1.5e-5


@pytest.mark.parametrize("make", [lambda net: optim.GradientDescent(net, 0.1),
                                  lambda net: optim.SGD(net, 0.1, momentum=0.9),
                                  lambda net: optim.Adam(net, 0.01), optim.Armijo, optim.Newton],
                         ids=["gd", "sgd", "adam", "armijo", "newton"])
def test_a_float32_network_stays_float32_through_training(make):
    x = np.linspace(-1, 1, 20, dtype=np.float32).reshape(-1, 1)
    net = nn.MLP([1, 3, 3, 1], activation="tanh", output_activation="identity", init="xavier", rng=0).float()
    history = fit(net, x, x**2, optimizer=make(net), episodes=3, progress=False)
    assert {p.dtype for p in net.parameters()} == {np.dtype(np.float32)}
    assert {p.grad.dtype for p in net.parameters()} == {np.dtype(np.float32)}
    assert net(Value(x)).dtype == np.float32
    assert history.final_cost == pytest.approx(_cost_at(net, x, x**2), rel=1e-6)


def test_an_exploding_float32_network_raises_naming_the_episode_with_the_history_so_far():
    x = np.linspace(-1, 1, 50, dtype=np.float32).reshape(-1, 1)
    net = nn.MLP([1, 16, 16, 1], activation="relu", output_activation="identity", init="he", rng=0).float()
    with pytest.warns(DivergenceWarning), pytest.raises(FloatingPointError) as caught:
        fit(net, x, x**2, optimizer=optim.GradientDescent(net, 1e3), episodes=200, progress=False)
    history = caught.value.history
    assert f"in episode {history.episodes + 1} of 200" in str(caught.value)
    assert history.stopped == "not finite" and np.isfinite(history.cost).all()
    assert history.cost[-1] > 1e20 * history.cost[0]


@pytest.mark.parametrize("make", [optim.Armijo, optim.Newton], ids=["armijo", "newton"])
@pytest.mark.parametrize("weight", [20.0, 200.0])
def test_a_saturated_sigmoid_network_stops_at_once_with_its_reason(make, weight, three_seconds):
    """All sigmoids saturated: ‖∇C‖ = 2e-41 (20) or exactly 0 (200).  The line searches stop after one episode,
    saying why, with the parameters unchanged; no endless backtracking."""
    x = np.linspace(-1, 1, 20).reshape(-1, 1)
    net = nn.MLP([1, 4, 1], activation="sigmoid", init="xavier", rng=0)
    for p in net.parameters():
        p.data[...] = weight
    optimizer = make(net)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        history = fit(net, x, x**2, optimizer=optimizer, episodes=50, progress=False)
    # (‖∇C‖ = 0 exactly: the seed's STOP, no step taken, None as with tol; a failed search: Armijo's t = 0)
    assert history.episodes == 1 and history.step_size == ([None] if weight == 200.0 else [0.0])
    assert history.stopped == ("zero gradient" if weight == 200.0 else "no descent step")
    assert all((p.data == weight).all() for p in net.parameters())
    assert history.final_cost == history.cost[0] == _cost_at(net, x, x**2)


def test_a_dead_relu_network_stops_with_a_zero_gradient():
    x = np.linspace(1, 3, 20).reshape(-1, 1)
    net = nn.MLP([1, 4, 1], activation="relu", init="he", rng=0)
    for p in net.parameters():
        p.data[...] = -1.0  # every neuron's input is below 0 for every sample
    with pytest.warns(UserWarning, match=r"not at a minimum: .* The ReLUs of layer 1, layer 2 are all 0 on every"):
        history = fit(net, x, x**2, optimizer=optim.SGD(net, 0.1, momentum=0.9), episodes=30, progress=False)
    assert history.stopped == "zero gradient" and history.gradient_norm == [0.0] and history.episodes == 1
    assert all((p.data == -1.0).all() for p in net.parameters()) and history.final_cost == history.cost[0] > 0


def test_a_mini_batch_run_that_does_not_grow_calls_the_cost_function_no_more_often():
    """The divergence check costs no cost call beyond the batches' and the final cost's."""
    x = np.linspace(-1, 1, 16).reshape(-1, 1)
    net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    calls = [0]

    def cost(outputs, targets):
        calls[0] += 1
        return squared_error(outputs, targets)

    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        fit(net, x, x**2, cost=cost, optimizer=optim.Adam(net, 0.01), episodes=3, batch_size=4, seed=0,
            progress=False)
    assert calls[0] == 3 * 4 + 1


def test_a_mini_batch_run_whose_first_batch_costs_little_does_not_warn():
    """The first batch (x = 0.001) costs a millionth of the others, and nothing grows: no DivergenceWarning."""
    x = np.concatenate([np.full(4, 1e-3), np.linspace(1, 3, 12)]).reshape(-1, 1)
    net = nn.MLP([1, 1], activation="identity", init="xavier", rng=0)
    for p in net.parameters():
        p.data[...] = 0.0  # the output is 0: each batch costs its targets' squares
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        history = fit(net, x, x, optimizer=optim.GradientDescent(net, 1e-4), episodes=3, batch_size=4,
                      shuffle=False, progress=False)
    assert history.cost[0] > 1e5 * float(np.mean(x[:4] ** 2))  # far above the first batch's cost, yet not diverging
    assert history.final_cost < history.cost[0]
