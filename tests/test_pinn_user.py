"""An engineer fits a physics-informed network: u(x) = MLP(x) whose cost holds u′ and u″ with respect to the INPUT
(u″ + u = 0, u(0) = 0, u′(0) = 1, solved by sin x; in two inputs u_t, u_x, u_xx and u_xxx), taken with
``autodiff.gradients(..., create_graph=True)``, and trains the weights on it with Adam and gradient descent.

Derivatives are checked against central differences of the network's output in float64, the weights' gradient
against central differences of the whole cost, a batch against a loop over its points; memory over a few hundred
episodes; the player's formulas for the operations of a recorded backward pass; the errors and docs met on the way."""

import gc
import re
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from helpers_gradients import differences_in_place
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, nn, optim
from tinygrad_edu.autodiff import grad, gradients
from tinygrad_edu.engine import backward_order, local_gradients
from tinygrad_edu.player import forward_formula, local_formula

README = Path(__file__).resolve().parent.parent / "README.md"
SMOOTH = ["tanh", "sigmoid", "softplus"]


def _net(activation: str, sizes: list[int], seed: int) -> nn.MLP:
    return nn.MLP(sizes, activation=activation, output_activation="identity", init="xavier", rng=seed)


def _output(net: nn.MLP, points: np.ndarray) -> np.ndarray:
    """u at ``points``, numbers only (no graph kept)."""
    return net(Value(points, requires_grad=False)).data


def _ode_cost(net: nn.MLP, points: np.ndarray) -> tuple[Value, Value, Value, Value]:
    """C = mean((u″ + u)²) + u(0)² + (u′(0) − 1)², and u, u′, u″ at the points, by gradients(create_graph=True)."""
    x, x0 = Value(points), Value(np.zeros((1, 1)))
    u, u0 = net(x), net(x0)
    (du,) = gradients(u, [x], np.ones(u.shape), create_graph=True)
    (d2u,) = gradients(du, [x], np.ones(u.shape), create_graph=True)
    (du0,) = gradients(u0, [x0], create_graph=True)
    return ((d2u + u) ** 2).mean() + (u0 ** 2).sum() + ((du0 - 1) ** 2).sum(), u, du, d2u


# --- defects -----------------------------------------------------------------------------------------------------

def _derivative_without_create_graph() -> tuple[Value, Value]:
    net = _net("tanh", [1, 4, 1], 0)
    x = Value(np.linspace(0.0, 1.0, 3).reshape(-1, 1))
    u = net(x)
    (du,) = gradients(u, [x], np.ones(u.shape))  # create_graph forgotten: du is a constant
    return x, du


def test_backward_of_a_derivative_taken_without_create_graph_says_to_take_it_with_create_graph():
    x, du = _derivative_without_create_graph()
    cost = ((du - np.cos(x.data)) ** 2).mean()
    with pytest.raises(ValueError, match=r"^backward: this Value does not require a gradient .*without "
                       r"create_graph=True.*take it again with create_graph=True"):
        cost.backward()


def test_gradients_of_a_derivative_taken_without_create_graph_says_to_take_it_with_create_graph():
    x, du = _derivative_without_create_graph()
    with pytest.raises(ValueError, match=r"^gradients: the output does not require a gradient.*without "
                       r"create_graph=True.*take it again with create_graph=True"):
        gradients(du, [x], np.ones(du.shape))


def _second_order_nodes(activation: str) -> dict[str, Value]:
    """The operations of u″ + u of a 1-2-1 network at one point, by name (one Value of each)."""
    net = _net(activation, [1, 2, 1], 0)
    x = Value(np.array([[0.5]]))
    u = net(x)
    (du,) = gradients(u, [x], create_graph=True)
    (d2u,) = gradients(du, [x], create_graph=True)
    return {node.op: node for node in backward_order(((d2u + u) ** 2).sum()) if node.op is not None}


@pytest.mark.parametrize(("activation", "op", "forward", "local", "closed_form"), [
    ("tanh", "tanh_slope", "1 − tanh²(z)", "−2·tanh(z)(1 − tanh²(z))",
     lambda z: -2 * np.tanh(z) * (1 - np.tanh(z) ** 2)),
    ("sigmoid", "sigmoid_slope", "σ′(z)", "σ″(z) = σ′(z)(1 − 2σ(z))",
     lambda z: np.exp(-z) * (np.exp(-z) - 1) / (1 + np.exp(-z)) ** 3),
    ("softplus", "sigmoid_slope", "σ′(z)", "σ″(z) = σ′(z)(1 − 2σ(z))",
     lambda z: np.exp(-z) * (np.exp(-z) - 1) / (1 + np.exp(-z)) ** 3),
    ("tanh", "copy", "copy(z)", "1 (the numbers only move)", lambda z: np.ones_like(z))],
    ids=["tanh_slope", "sigmoid_slope", "sigmoid_slope_of_softplus", "copy"])
def test_the_player_writes_the_local_derivatives_of_a_recorded_backward_pass(activation, op, forward, local,
                                                                              closed_form):
    node = _second_order_nodes(activation)[op]
    assert forward_formula(node, ["z"]) == forward
    assert local_formula(node, 0, ["z"]) == local
    # the formula is the engine's own local derivative (against its closed form, elementwise ops: one per element)
    ones = np.ones(node.shape, node.dtype)
    (number,) = [g for _, _, g in local_gradients(node, ones)]
    assert np.asarray(number) == pytest.approx(closed_form(node.parents[0].data), rel=1e-12)


@pytest.mark.parametrize("activation", [F.relu, F.leaky_relu])
def test_relu_docstrings_say_the_second_derivative_is_0(activation):
    assert re.search(r"second derivative is 0", " ".join(activation.__doc__.split()))


def _readme_section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    return text[start:text.index("\n## ", start + 1)]


def test_the_readme_shows_a_physics_informed_fit_that_learns_the_sine(tmp_path, monkeypatch):
    section = _readme_section("Derivatives of derivatives")
    assert re.search(r"ReLU.{0,80}second derivative is 0", " ".join(section.split()))
    [code] = [block for block in re.findall(r"^```python\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
              if "gradients(u, [x]" in block and "create_graph=True" in block]
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme"}
    exec(compile(code, "README.md physics-informed block", "exec"), namespace)
    net, points = namespace["net"], namespace["points"]
    assert np.abs(_output(net, points) - np.sin(points)).max() < 0.05  # u″ + u = 0, u(0) = 0, u′(0) = 1: sin x


# --- guards: the numbers a physics-informed fit relies on -----------------------------------------------------------

@pytest.mark.parametrize("activation", SMOOTH)
def test_u_prime_and_u_second_of_a_deep_net_are_central_differences_of_its_output(activation):
    net = _net(activation, [1, 6, 6, 1], 3)
    points = np.linspace(-1.5, 2.5, 9).reshape(-1, 1)
    _, _, du, d2u = _ode_cost(net, points)
    h = 1e-4
    plus, mid, minus = _output(net, points + h), _output(net, points), _output(net, points - h)
    assert du.data == pytest.approx((plus - minus) / (2 * h), abs=1e-8)
    assert d2u.data == pytest.approx((plus - 2 * mid + minus) / h ** 2, abs=1e-5)
    assert du.requires_grad and d2u.requires_grad  # both still depend on the weights: nothing detached


@given(seed=st.integers(0, 1000), activation=st.sampled_from(SMOOTH))
def test_a_batch_of_points_gives_what_a_loop_over_them_gives(seed, activation):
    net = _net(activation, [1, 5, 1], seed)
    points = np.random.default_rng(seed).uniform(-2, 2, (5, 1))
    _, _, du, d2u = _ode_cost(net, points)
    u_of = lambda v: net(v.reshape(1, 1)).sum()  # noqa: E731 (u at one point, a number)
    one_by_one = [(float(grad(u_of)(p)), float(grad(grad(u_of))(p))) for p in points.ravel()]
    assert du.data.ravel() == pytest.approx([d for d, _ in one_by_one], rel=1e-12, abs=1e-14)
    assert d2u.data.ravel() == pytest.approx([d for _, d in one_by_one], rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("activation", SMOOTH)
def test_the_ode_cost_gradient_matches_central_differences_of_the_whole_cost(activation):
    net = _net(activation, [1, 4, 3, 1], 5)
    points = np.linspace(0.0, 3.0, 6).reshape(-1, 1)
    cost = _ode_cost(net, points)[0]
    net.zero_grad()
    cost.backward()
    expected = differences_in_place(lambda: float(_ode_cost(net, points)[0]), [p.data for p in net.parameters()])
    for p, e in zip(net.parameters(), expected, strict=True):
        assert p.grad == pytest.approx(e, rel=1e-6, abs=1e-8)


def test_a_two_input_residual_of_indexed_derivatives_to_third_order_matches_central_differences():
    """u(x, t): u_t + u·u_x − 0.1·u_xx + u_xxx, each derivative a column of the gradient with respect to the (n, 2)
    inputs, u_xx and u_xxx by differentiating that column again."""
    net = _net("tanh", [2, 3, 3, 1], 7)
    points = np.random.default_rng(7).uniform(-1, 1, (5, 2))

    def residual():
        X = Value(points)
        u = net(X)
        (g,) = gradients(u, [X], np.ones(u.shape), create_graph=True)
        ux, ut = g[:, 0:1], g[:, 1:2]
        uxx = gradients(ux, [X], np.ones(ux.shape), create_graph=True)[0][:, 0:1]
        uxxx = gradients(uxx, [X], np.ones(uxx.shape), create_graph=True)[0][:, 0:1]
        return ((ut + u * ux - 0.1 * uxx + uxxx) ** 2).mean(), ux, ut, uxx, uxxx

    cost, ux, ut, uxx, uxxx = residual()
    h, e_x, e_t = 1e-3, np.array([1.0, 0.0]), np.array([0.0, 1.0])
    at = lambda shift: _output(net, points + shift)  # noqa: E731
    assert ux.data == pytest.approx((at(h * e_x) - at(-h * e_x)) / (2 * h), abs=1e-6)
    assert ut.data == pytest.approx((at(h * e_t) - at(-h * e_t)) / (2 * h), abs=1e-6)
    assert uxx.data == pytest.approx((at(h * e_x) - 2 * at(0 * e_x) + at(-h * e_x)) / h ** 2, abs=1e-5)
    third = (at(2 * h * e_x) - 2 * at(h * e_x) + 2 * at(-h * e_x) - at(-2 * h * e_x)) / (2 * h ** 3)
    assert uxxx.data == pytest.approx(third, abs=1e-4)
    net.zero_grad()
    cost.backward()
    expected = differences_in_place(lambda: float(residual()[0]), [p.data for p in net.parameters()])
    for p, e in zip(net.parameters(), expected, strict=True):
        assert p.grad == pytest.approx(e, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("kind", ["Adam", "GradientDescent"])
def test_a_few_hundred_episodes_keep_no_graph_alive(kind):
    """Memory after 50 and after 200 episodes (collected) is the same, and so is the number of live Values: each
    episode's graphs of u, u′, u″ and the cost go when the next starts."""
    net = _net("tanh", [1, 8, 1], 0)
    points = np.linspace(0.0, 3.0, 16).reshape(-1, 1)
    opt = optim.Adam(net, learning_rate=0.01) if kind == "Adam" else optim.GradientDescent(net, learning_rate=0.02)
    first = None
    seen = []
    tracemalloc.start()
    try:
        for episode in range(200):
            opt.zero_grad()
            cost = _ode_cost(net, points)[0]
            cost.backward()
            opt.step()
            seen.append(float(cost))
            if episode in (49, 199):
                del cost
                gc.collect()
                state = (tracemalloc.get_traced_memory()[0], sum(type(o) is Value for o in gc.get_objects()))
                first = first or state
    finally:
        tracemalloc.stop()
    assert state[1] == first[1]
    assert state[0] - first[0] < 20_000  # bytes: no graph of 1000s of arrays piles up
    assert seen[-1] < seen[0] / 4  # and it trained


def test_a_relu_networks_second_derivative_is_a_constant_zero_and_trains_nothing():
    """What the docs now say: u″ of a ReLU network is 0, connected to no weight; the cost of u″ + u is that of u."""
    net = _net("relu", [1, 4, 1], 1)
    with_kinks_away = np.linspace(0.13, 2.9, 5).reshape(-1, 1)
    cost, u, _, d2u = _ode_cost(net, with_kinks_away)
    assert not d2u.requires_grad and np.all(d2u.data == 0)
    w1, b1, w2, _ = (p.data for p in net.parameters())
    slope_at_0 = (w1 * (b1 > 0)) @ w2  # u′(0) = Σ_j W¹_j·[b¹_j > 0]·W²_j
    expected = (u.data ** 2).mean() + (_output(net, np.zeros((1, 1))) ** 2).sum() + ((slope_at_0 - 1) ** 2).sum()
    assert float(cost) == pytest.approx(expected, rel=1e-12)
