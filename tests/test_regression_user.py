"""A scientist fitting curves (regression, not classification): y = sin(x), a polynomial, noisy linear data, with
nn MLPs of identity output, the squared error, and fit; numbers checked against closed-form least squares in numpy,
shape mistakes (targets (n,) against a network's (n, 1)), held-out costs under no_grad, saving and loading, and
plotting the fitted curve."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, data, losses, nn, no_grad, optim
from tinygrad_edu.training import fit


def _noisy_line(n: int = 40, inputs: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, inputs))
    y = x @ rng.normal(size=(inputs, 1)) + 0.5 + 0.1 * rng.standard_normal((n, 1))
    return x, y


def _least_squares(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Weights then bias of the closed-form least-squares line, by numpy."""
    return np.linalg.lstsq(np.c_[x, np.ones(len(x))], y, rcond=None)[0].ravel()


def _linear_model(inputs: int) -> nn.MLP:
    return nn.MLP([inputs, 1], activation="identity", output_activation="identity", rng=0)


def _parameters(net: nn.MLP) -> np.ndarray:
    layer = net[0]
    return np.r_[layer.weights.data.ravel(), layer.biases.data]


# --- defects ----------------------------------------------------------------------------------------------------

def test_plot_derivatives_of_a_network_names_itself_and_says_how_to_plot_the_fitted_curve():
    pytest.importorskip("matplotlib")
    from tinygrad_edu import plots

    net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    with pytest.raises(TypeError, match=r"^plot_derivatives: .*net\(x\.reshape\(-1, 1\)\)\.reshape\(x\.shape\)"):
        plots.plot_derivatives(net, order=1)


def test_a_datasets_targets_say_they_are_its_labels():
    train, _ = data.train_test_split(*_noisy_line(), test_fraction=0.25, seed=0)
    with pytest.raises(AttributeError, match=r"'targets'.*\.labels"):
        train.targets  # noqa: B018


# --- guards: the numbers a regression user relies on -------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda net: optim.GradientDescent(net, 0.5), optim.Armijo, optim.Newton],
                         ids=["gradient descent", "Armijo", "Newton"])
def test_fit_of_a_linear_network_converges_to_closed_form_least_squares(make):
    x, y = _noisy_line()
    net = _linear_model(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Armijo and Newton say when a step at the optimum rounds to nothing
        fit(net, x, y, optimizer=make(net), episodes=2000, tol=1e-10, progress=False)
    np.testing.assert_allclose(_parameters(net), _least_squares(x, y), atol=1e-8)


def test_newton_solves_polynomial_least_squares_in_one_step():
    """The seed's cost of a linear model is a convex quadratic: one Newton step (H d = −∇C) is np.polyfit's answer."""
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, 30)
    y = 1 - 2 * x + 3 * x ** 3 + 0.01 * rng.standard_normal(30)
    features = x.reshape(-1, 1) ** np.arange(1, 4)
    net = _linear_model(3)
    fit(net, features, y.reshape(-1, 1), optimizer=optim.Newton(net), episodes=1, progress=False)
    np.testing.assert_allclose(_parameters(net), np.r_[np.polyfit(x, y, 3)[::-1][1:], np.polyfit(x, y, 3)[-1]],
                               atol=1e-10)


def test_mini_batch_sgd_makes_the_updates_written_out_in_numpy():
    x, y = _noisy_line(n=20, inputs=3, seed=2)
    net = _linear_model(3)
    w, b = net[0].weights.data.copy(), net[0].biases.data.copy()
    fit(net, x, y, optimizer=optim.SGD(net, learning_rate=0.1), episodes=2, batch_size=7, shuffle=False,
        progress=False)
    for _ in range(2):
        for start in range(0, 20, 7):
            xb, yb = x[start:start + 7], y[start:start + 7]
            residual = xb @ w + b - yb  # ∂C/∂prediction = 2(y − y')/n for C = (1/n) Σ (y − y')²
            w, b = w - 0.1 * 2 * xb.T @ residual / len(xb), b - 0.1 * 2 * residual.sum(axis=0) / len(xb)
    np.testing.assert_allclose(net[0].weights.data, w, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(net[0].biases.data, b, rtol=1e-12, atol=1e-14)


def test_a_plain_function_with_flat_samples_fits_with_mean_squared_error():
    """micrograd's habit: w * x + b on a flat x, flat targets; mean_squared_error averages over the samples."""
    x, y = _noisy_line(n=25, inputs=1, seed=3)
    x, y = x.ravel(), y.ravel()
    w, b = Value(0.0), Value(0.0)
    fit(lambda v: w * v + b, x, y, cost=losses.mean_squared_error, optimizer=optim.GradientDescent([w, b], 0.5),
        episodes=2000, tol=1e-11, progress=False)
    np.testing.assert_allclose([w.item(), b.item()], np.polyfit(x, y, 1), atol=1e-9)


@pytest.mark.parametrize("cost", [losses.squared_error, losses.mean_squared_error])
def test_flat_targets_against_a_networks_column_are_refused_not_broadcast_to_n_by_n(cost):
    x, y = _noisy_line(n=12, inputs=1)
    net = _linear_model(1)
    before = _parameters(net)
    with pytest.raises(ValueError, match=r"reshape\(-1, 1\)"):
        fit(net, x, y.ravel(), cost=cost, optimizer=optim.GradientDescent(net, 0.1), episodes=1, progress=False)
    with no_grad(), pytest.raises(ValueError, match=r"\(12, 1\).*\(12,\)"):
        cost(net(x), y.ravel())
    np.testing.assert_array_equal(_parameters(net), before)


def test_a_flat_x_to_a_one_input_network_is_refused_with_the_column_it_needs():
    net = _linear_model(1)
    with pytest.raises(ValueError, match=r"\(30,\).*x\.reshape\(-1, 1\)"):
        net(np.linspace(0, 1, 30))
    assert net(np.linspace(0, 1, 30).reshape(-1, 1)).shape == (30, 1)
    assert net([0.5]).shape == (1,)  # one sample of one input


def test_held_out_cost_under_no_grad_is_numpys_mean_of_squared_residuals_and_records_nothing():
    x, y = _noisy_line(n=40, inputs=1, seed=4)
    (train_x, train_y), (test_x, test_y) = data.train_test_split(x, y, test_fraction=0.25, seed=0)
    net = nn.MLP([1, 8, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    history = fit(net, train_x, train_y, optimizer=optim.Armijo(net), episodes=30, progress=False)
    with no_grad():
        held_out = losses.squared_error(net(test_x), test_y)
        on_training = losses.squared_error(net(train_x), train_y)
    assert not held_out.requires_grad and held_out.parents == ()
    prediction = net(test_x).data
    assert held_out.item() == pytest.approx(np.mean((prediction - test_y) ** 2), rel=1e-12)
    assert history.final_cost == pytest.approx(on_training.item(), rel=1e-12)


def test_a_float32_sine_fit_stays_float32_and_loads_back_bit_for_bit(tmp_path):
    x = np.linspace(-3, 3, 64, dtype=np.float32).reshape(-1, 1)
    net = nn.MLP([1, 8, 1], activation="tanh", output_activation="identity", init="xavier", rng=0).float()
    history = fit(net, x, np.sin(x), optimizer=optim.Adam(net, learning_rate=0.02), episodes=20, batch_size=16,
                  seed=0, progress=False)
    assert history.final_cost < history.cost[0]
    assert net(x).dtype == np.float32
    net.save(tmp_path / "sine.npz")
    loaded = nn.load(tmp_path / "sine.npz")
    assert loaded(x).data.tobytes() == net(x).data.tobytes()
    assert [layer.activation_name for layer in loaded] == ["tanh", "identity"]


@given(st.floats(-2, 2), st.integers(0, 3))
def test_the_slope_of_a_fitted_curve_matches_central_differences(x0, seed):
    """d net(x)/dx at one point by backward(), against central differences of the network itself."""
    net = nn.MLP([1, 6, 1], activation="tanh", output_activation="identity", init="xavier", rng=seed)
    point = Value(np.array([[x0]]))
    net(point).sum().backward()
    h = 1e-6
    with no_grad():
        difference = (net(np.array([[x0 + h]])).item() - net(np.array([[x0 - h]])).item()) / (2 * h)
    assert point.grad.item() == pytest.approx(difference, rel=1e-6, abs=1e-8)
