"""A researcher fits u(x) = MLP(x) so that its derivative with respect to its INPUT obeys an equation: the
physics-informed cost C = mean((du/dx − cos x)²) + u(0)², whose minimum is u = sin x, and C₂ = mean((u'' + u)²).
du/dx comes from ``backward(create_graph=True, inputs=[x])``, ``autodiff.gradients(u, [x], create_graph=True)`` or
``autodiff.grad``; C is then differentiated again with respect to the weights (double backprop), in a hand loop and
in ``fit`` (the model returns du/dx, the cost is one's own closure).

Every gradient is checked against central finite differences of the cost written in numpy alone, with du/dx and
u'' in closed form (float64), for every activation of ``functional.ACTIVATIONS``."""

import numpy as np
import pytest
from helpers_gradients import central_differences
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, nn, no_grad, optim
from tinygrad_edu.autodiff import grad, gradients
from tinygrad_edu.engine import backward_order
from tinygrad_edu.training import fit

XS = np.linspace(-2.0, 2.0, 9).reshape(-1, 1) + 0.05  # a batch of inputs, none at 0 (relu's kink in a zero-bias net)
HIDDEN = 4


# --- the cost in numpy alone: u = σ(x W¹ + b¹) W² + b², du/dx = (σ'(z) ⊙ W¹) W², u'' = (σ''(z) ⊙ W¹²) W² ----------

def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


# σ, σ' and σ'' of every activation, in closed form
CLOSED_FORM = {
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1 - _sigmoid(z)),
                lambda z: _sigmoid(z) * (1 - _sigmoid(z)) * (1 - 2 * _sigmoid(z))),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0) * 1.0, lambda z: 0 * z),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2, lambda z: -2 * np.tanh(z) * (1 - np.tanh(z) ** 2)),
    "leaky_relu": (lambda z: np.where(z > 0, z, 0.01 * z), lambda z: np.where(z > 0, 1.0, 0.01), lambda z: 0 * z),
    "softplus": (lambda z: np.log1p(np.exp(z)), _sigmoid, lambda z: _sigmoid(z) * (1 - _sigmoid(z))),
    "identity": (lambda z: z, lambda z: 1 + 0 * z, lambda z: 0 * z),
}


def _numpy_costs(activation, w1, b1, w2, b2, xs=XS):
    """(C, C₂) of the network with these weights, in numpy."""
    f, slope, curvature = CLOSED_FORM[activation]
    z = xs @ w1 + b1
    u = f(z) @ w2 + b2
    du = (slope(z) * w1) @ w2
    d2u = (curvature(z) * w1 ** 2) @ w2
    u0 = f(b1) @ w2 + b2
    return np.mean((du - np.cos(xs)) ** 2) + np.sum(u0 ** 2), np.mean((d2u + u) ** 2)


def _net(activation, seed):
    net = nn.MLP([1, HIDDEN, 1], activation=activation, output_activation="identity", init="xavier", rng=seed)
    rng = np.random.default_rng(seed)
    with no_grad():  # biases away from 0, so that relu's kink is not met by the points
        net[0].biases[...] = rng.uniform(0.3, 1.0, HIDDEN) * rng.choice([-1, 1], HIDDEN)
    return net


def _weights(net):
    return [p.data.copy() for p in net.parameters()]


def _away_from_kinks(net, xs=XS):
    return np.abs(xs @ net[0].weights.data + net[0].biases.data).min() > 1e-3


def _pinn_cost(net, how="backward", xs=XS):
    """C = mean((du/dx − cos x)²) + u(0)², du/dx taken with respect to the input Value x."""
    x = Value(xs)
    u = net(x)
    if how == "backward":
        u.backward(np.ones(u.shape), create_graph=True, inputs=[x])
        du = x.grad
    elif how == "gradients":
        (du,) = gradients(u, [x], np.ones(u.shape), create_graph=True)
    else:
        du = grad(lambda x: net(x).sum())(xs)
    u0 = net(Value(np.zeros((1, 1)), requires_grad=False))
    return ((du - np.cos(xs)) ** 2).mean() + (u0 ** 2).sum()


def _second_order_cost(net, xs=XS):
    """C₂ = mean((u'' + u)²), u'' by two recorded passes with respect to x."""
    x = Value(xs)
    u = net(x)
    (du,) = gradients(u, [x], np.ones(u.shape), create_graph=True)
    (d2u,) = gradients(du, [x], np.ones(u.shape), create_graph=True)
    return ((d2u + u) ** 2).mean()


# --- defects ---------------------------------------------------------------------------------------------------

def _residual_by_gradients(net):
    def residual(x):  # fit hands the model its rows as a Value without gradient: a fresh one to differentiate by
        xv = Value(x.data)
        u = net(xv)
        return gradients(u, [xv], np.ones(u.shape), create_graph=True)[0]
    return residual


def _residual_by_backward(net):
    def residual(x):
        xv = Value(x.data)
        u = net(xv)
        u.backward(np.ones(u.shape), create_graph=True, inputs=[xv])
        return xv.grad
    return residual


def _boundary_cost(net):
    zero = Value(np.zeros((1, 1)), requires_grad=False)
    return lambda du, t: ((du - t) ** 2).mean() + (net(zero) ** 2).sum()


@pytest.mark.parametrize("residual", [_residual_by_gradients, _residual_by_backward])
@pytest.mark.parametrize("batch_size", [None, 3])
def test_fit_returns_the_final_cost_of_a_physics_informed_residual(residual, batch_size):
    net = _net("tanh", 0)
    history = fit(residual(net), XS, np.cos(XS), cost=_boundary_cost(net), episodes=3, batch_size=batch_size,
                  seed=0, optimizer=optim.Adam(net, learning_rate=0.01), progress=False)
    expected = _numpy_costs("tanh", *_weights(net))[0]  # the cost at the trained weights, in numpy
    assert history.final_cost == pytest.approx(expected, rel=1e-12)
    assert len(history.cost) == 3


@pytest.mark.parametrize("kind", ["Armijo", "Newton"])
def test_a_line_search_fits_a_physics_informed_cost(kind):
    net = _net("tanh", 1)
    start = _numpy_costs("tanh", *_weights(net))[0]
    opt = optim.Armijo(net) if kind == "Armijo" else optim.Newton(net, damping=1e-3)
    history = fit(_residual_by_gradients(net), XS, np.cos(XS), cost=_boundary_cost(net), episodes=3,
                  optimizer=opt, progress=False)
    assert history.final_cost == pytest.approx(_numpy_costs("tanh", *_weights(net))[0], rel=1e-12)
    assert history.final_cost < start  # a line search never raises the cost


@pytest.mark.parametrize("f", [F.relu, F.leaky_relu, F.abs, lambda x: 3 * x])
def test_backward_of_a_constant_derivative_says_it_is_constant(f):
    x = Value([-0.5, 0.7])
    f(x).sum().backward(create_graph=True)
    slope = x.grad
    x.zero_grad()
    with pytest.raises(ValueError, match=r"^backward: this Value does not require a gradient .*derivative that "
                       r"came out constant.*its own derivative is 0"):
        slope.sum().backward()


def test_fit_says_how_to_take_an_input_derivative_inside_the_model():
    net = _net("tanh", 0)

    def residual(x):
        xv = Value(x.data)
        u = net(xv)
        u.backward(np.ones(u.shape), create_graph=True)  # adds du/dW to the parameters' gradients too
        return xv.grad

    before = _weights(net)
    with pytest.raises(ValueError, match=r"called backward\(\) itself.*autodiff\.gradients\(u, \[x\], "
                       r"create_graph=True\).*inputs=\[x\]"):
        fit(residual, XS, np.cos(XS), cost=_boundary_cost(net), episodes=2,
            optimizer=optim.Adam(net, learning_rate=0.01), progress=False)
    assert all(np.array_equal(p.data, w) for p, w in zip(net.parameters(), before, strict=True))


def test_a_line_search_says_how_to_take_an_input_derivative():
    net = _net("tanh", 0)
    with pytest.raises(ValueError, match=r"^Armijo\.step: the closure called backward\(\).*derivative with "
                       r"respect to the inputs.*autodiff\.gradients\(u, \[x\], create_graph=True\)"):
        fit(_residual_by_backward(net), XS, np.cos(XS), cost=_boundary_cost(net), episodes=2,
            optimizer=optim.Armijo(net), progress=False)


# --- guards: the numbers a physics-informed fit relies on -------------------------------------------------------

@pytest.mark.parametrize("how", ["backward", "gradients", "grad"])
@pytest.mark.parametrize("activation", list(F.ACTIVATIONS))
def test_double_backprop_of_the_first_order_cost_matches_central_differences(activation, how):
    net = _net(activation, 2)
    assert _away_from_kinks(net)
    cost = _pinn_cost(net, how)
    assert float(cost) == pytest.approx(_numpy_costs(activation, *_weights(net))[0], rel=1e-12)
    net.zero_grad()
    cost.backward()
    expected = central_differences(lambda w: _numpy_costs(activation, *w)[0], _weights(net))
    for p, e in zip(net.parameters(), expected, strict=True):
        assert p.grad == pytest.approx(e, abs=1e-7)


@pytest.mark.parametrize("activation", list(F.ACTIVATIONS))
def test_double_backprop_of_the_second_order_cost_matches_central_differences(activation):
    """u'' + u = 0: for relu, leaky_relu and identity u'' is 0 (σ'' = 0 away from the kink), so C₂ = mean(u²)."""
    net = _net(activation, 3)
    assert _away_from_kinks(net)
    cost = _second_order_cost(net)
    assert float(cost) == pytest.approx(_numpy_costs(activation, *_weights(net))[1], rel=1e-12)
    net.zero_grad()
    cost.backward()
    expected = central_differences(lambda w: _numpy_costs(activation, *w)[1], _weights(net))
    for p, e in zip(net.parameters(), expected, strict=True):
        assert p.grad == pytest.approx(e, abs=1e-7)


@given(seed=st.integers(0, 10_000), activation=st.sampled_from(["sigmoid", "tanh", "softplus"]))
def test_u_second_derivative_by_two_passes_is_the_closed_form(seed, activation):
    net = _net(activation, seed)
    x = Value(XS)
    u = net(x)
    u.backward(np.ones(u.shape), create_graph=True, inputs=[x])
    du = x.grad
    x.zero_grad()
    du.backward(np.ones(du.shape), create_graph=True, inputs=[x])
    w1, b1, w2, _ = _weights(net)
    _, slope, curvature = CLOSED_FORM[activation]
    z = XS @ w1 + b1
    assert du.data == pytest.approx((slope(z) * w1) @ w2, rel=1e-10, abs=1e-12)
    assert x.grad.data == pytest.approx((curvature(z) * w1 ** 2) @ w2, rel=1e-9, abs=1e-12)


def test_a_hand_loop_zeroing_the_input_grad_steps_by_the_central_difference_gradient_every_step():
    """x reused across steps and zeroed each time: the parameters' gradient of every step is that step's own
    (nothing accumulates from the inner derivatives or the steps before), and the graph does not grow."""
    net = _net("tanh", 4)
    opt = optim.SGD(net, learning_rate=0.05)
    x = Value(XS)
    zero = Value(np.zeros((1, 1)), requires_grad=False)
    sizes = []
    for _ in range(4):
        x.zero_grad()
        u = net(x)
        u.backward(np.ones(u.shape), create_graph=True, inputs=[x])
        cost = ((x.grad - np.cos(XS)) ** 2).mean() + (net(zero) ** 2).sum()
        opt.zero_grad()
        cost.backward(inputs=net.parameters())
        expected = central_differences(lambda w: _numpy_costs("tanh", *w)[0], _weights(net))
        for p, e in zip(net.parameters(), expected, strict=True):
            assert p.grad == pytest.approx(e, abs=1e-7)
        sizes.append(len(backward_order(cost)))
        before = _weights(net)
        opt.step()
        for p, w, e in zip(net.parameters(), before, expected, strict=True):
            assert p.data == pytest.approx(w - 0.05 * e, abs=1e-8)
    assert len(set(sizes)) == 1


def test_an_input_grad_left_from_the_previous_step_is_refused_not_added_silently():
    """Forgetting x.zero_grad(): the new du/dx is added to the old one, recorded at the old weights; its backward
    pass raises (the graph is stale) instead of training on du/dx counted twice."""
    net = _net("tanh", 4)
    opt = optim.SGD(net, learning_rate=0.05)
    x = Value(XS)
    for step in range(2):
        u = net(x)
        u.backward(np.ones(u.shape), create_graph=True, inputs=[x])
        cost = ((x.grad - np.cos(XS)) ** 2).mean()
        opt.zero_grad()
        if step == 1:
            with pytest.raises(ValueError, match="stale"):
                cost.backward(inputs=net.parameters())
            return
        cost.backward(inputs=net.parameters())
        opt.step()


def test_input_derivatives_by_gradients_and_grad_leave_every_grad_alone():
    net = _net("softplus", 5)
    x = Value(XS)
    u = net(x)
    gradients(u, [x], np.ones(u.shape), create_graph=True)
    grad(lambda v: net(v).sum())(x)
    assert x.grad is None
    assert all(p.grad is None for p in net.parameters())


def test_the_residual_under_no_grad_is_detached_and_training_is_unchanged():
    """Looking at du/dx under no_grad between steps (for a plot) changes nothing in the next step's gradient."""
    net = _net("tanh", 6)
    with no_grad():
        du = grad(lambda v: net(v).sum())(XS)
    assert not du.requires_grad
    w1, b1, w2, _ = _weights(net)
    assert du.data == pytest.approx(((1 - np.tanh(XS @ w1 + b1) ** 2) * w1) @ w2, rel=1e-12)
    cost = _pinn_cost(net, "grad")
    cost.backward()
    expected = central_differences(lambda w: _numpy_costs("tanh", *w)[0], _weights(net))
    for p, e in zip(net.parameters(), expected, strict=True):
        assert p.grad == pytest.approx(e, abs=1e-7)


def test_fit_of_a_physics_informed_cost_by_autodiff_grad_learns_the_sine():
    """The model returns du/dx by autodiff.grad (which records under no_grad too): u' = cos x, u(0) = 0 is u = sin x."""
    net = nn.MLP([1, 8, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    xs = np.linspace(-2.0, 2.0, 21).reshape(-1, 1)
    history = fit(lambda x: grad(lambda v: net(v).sum())(x), xs, np.cos(xs), cost=_boundary_cost(net),
                  optimizer=optim.Adam(net, learning_rate=0.1), episodes=300, progress=False)
    assert history.final_cost == pytest.approx(_numpy_costs("tanh", *_weights(net), xs=xs)[0], rel=1e-12)
    assert history.final_cost < history.cost[0] / 300
    with no_grad():
        assert net(xs).data == pytest.approx(np.sin(xs), abs=0.05)
