"""A scientist backpropagating through a numerical ODE solver written with Values: forward Euler and classical RK4
for a damped oscillator x'' = −k x − c x' and for a small neural ODE dx/dt = MLP(x), gradients of a final-state loss
with respect to the initial state and the parameters, checked against the closed-form sensitivity (the matrix
exponential and its Fréchet derivative, the Euler matrix power) and central finite differences of the whole solve in
float64; a second derivative in one parameter; long solves (no recursion, memory freed when the output goes);
truncation by ``detach()``; ``no_grad`` evaluation; and the drawing of a few steps of a neural ODE, whose network is
called four times per RK4 step."""

import gc
import inspect
import re
import sys
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, nn, no_grad
from tinygrad_edu.graph import nearest_values
from tinygrad_edu.viz import draw_graph


def _matrix(k: float, c: float) -> np.ndarray:
    return np.array([[0.0, 1.0], [-k, -c]])


def _expm(a: np.ndarray) -> np.ndarray:
    """e^a by scaling and squaring a Taylor series (no scipy here): exact to rounding for these small matrices."""
    squarings = max(0, int(np.ceil(np.log2(max(np.abs(a).sum(axis=1).max(), 1e-16)))) + 4)
    scaled = a / 2.0 ** squarings
    total, term = np.eye(len(a)), np.eye(len(a))
    for j in range(1, 30):
        term = term @ scaled / j
        total = total + term
    for _ in range(squarings):
        total = total @ total
    return total


def _expm_derivative(a: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """The Fréchet derivative of e^a in ``direction``: the upper right block of e^[[a, d], [0, a]]."""
    n = len(a)
    block = np.zeros((2 * n, 2 * n))
    block[:n, :n] = block[n:, n:] = a
    block[:n, n:] = direction
    return _expm(block)[:n, n:]


def _euler(x, v, k, c, h, steps):
    for _ in range(steps):
        x, v = x + h * v, v + h * (-k * x - c * v)
    return x, v


def _rk4(f, state, h, steps):
    for _ in range(steps):
        k1 = f(state)
        k2 = f(state + h / 2 * k1)
        k3 = f(state + h / 2 * k2)
        k4 = f(state + h * k3)
        state = state + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return state


# --- the linear oscillator against its closed forms --------------------------------------------------------------


@given(k=st.floats(0.5, 4.0), c=st.floats(0.0, 1.0), x0=st.floats(-2.0, 2.0), v0=st.floats(-2.0, 2.0),
       steps=st.integers(1, 60))
def test_euler_gradients_match_the_euler_matrix_power(k, c, x0, v0, steps):
    h = 0.05
    kv, cv, xv, vv = Value(k), Value(c), Value(x0), Value(v0)
    x, v = _euler(xv, vv, kv, cv, h, steps)
    (x * x + v * v).backward()
    step = np.eye(2) + h * _matrix(k, c)
    start = np.array([x0, v0])
    final = np.linalg.matrix_power(step, steps) @ start
    assert np.allclose([xv.grad, vv.grad], 2 * np.linalg.matrix_power(step, steps).T @ final, rtol=1e-9, atol=1e-12)
    for leaf, direction in ((kv, [[0, 0], [-1, 0]]), (cv, [[0, 0], [0, -1]])):
        # d(Sⁿ) = Σ_j S^j (h dA) S^(n−1−j)
        d_power = sum(np.linalg.matrix_power(step, j) @ (h * np.array(direction, float))
                      @ np.linalg.matrix_power(step, steps - 1 - j) for j in range(steps))
        assert np.isclose(leaf.grad, 2 * final @ (d_power @ start), rtol=1e-9, atol=1e-12)


def test_rk4_gradients_match_the_matrix_exponential_and_its_frechet_derivative():
    k, c, h, steps = 2.0, 0.3, 0.01, 500
    kv, cv = Value(k), Value(c)
    start = Value(np.array([1.0, 0.0]))

    def field(s):
        return F.stack([s[1], -kv * s[0] - cv * s[1]])

    final = _rk4(field, start, h, steps)
    (final * final).sum().backward()
    a, t = _matrix(k, c), h * steps
    flow = _expm(a * t)
    exact = flow @ start.data
    assert np.allclose(start.grad, 2 * flow.T @ exact, rtol=1e-7, atol=1e-9)  # RK4's own error: h⁴ ≈ 1e-8
    for leaf, direction in ((kv, [[0, 0], [-1, 0]]), (cv, [[0, 0], [0, -1]])):
        d_flow = _expm_derivative(a * t, np.array(direction, float) * t)
        assert np.isclose(leaf.grad, 2 * exact @ (d_flow @ start.data), rtol=1e-7, atol=1e-9)


def test_second_derivative_in_the_damping_through_300_euler_steps_matches_finite_differences():
    def solve(c):
        x, v = _euler(1.0, 0.0, 2.0, c, 0.01, 300)
        return x * x + v * v

    damping = Value(0.3)
    x, v = _euler(Value(1.0), Value(0.0), 2.0, damping, 0.01, 300)
    (x * x + v * v).backward(create_graph=True, inputs=[damping])
    first = damping.grad
    damping.zero_grad()
    first.backward(inputs=[damping])
    eps = 1e-4
    assert np.isclose(first.data, (solve(0.3 + eps) - solve(0.3 - eps)) / (2 * eps), rtol=1e-7)
    assert np.isclose(damping.grad, (solve(0.3 + eps) - 2 * solve(0.3) + solve(0.3 - eps)) / eps ** 2, rtol=1e-5)


# --- a neural ODE against finite differences of the whole solve ---------------------------------------------------


def test_neural_ode_gradients_match_central_differences_of_the_whole_solve():
    net = nn.MLP([2, 6, 2], activation="tanh", output_activation="identity", rng=3)
    start = np.array([[1.0, -0.5]])
    h, steps = 0.05, 40

    def loss() -> float:
        with no_grad():
            final = _rk4(net, Value(start), h, steps)
        return float((final.data ** 2).sum())

    state = Value(start)
    final = _rk4(net, state, h, steps)
    (final * final).sum().backward()
    eps = 1e-6
    for leaf in [*net.parameters(), state]:
        numeric = np.zeros(leaf.shape)
        for index in np.ndindex(leaf.shape):
            kept = leaf.data[index]
            leaf.data[index] = kept + eps  # (the array itself: unseen by the stale check, as documented)
            up = loss() if leaf is not state else float(
                (_rk4(net, Value(leaf.data.copy()), h, steps).data ** 2).sum())
            leaf.data[index] = kept - eps
            down = loss() if leaf is not state else float(
                (_rk4(net, Value(leaf.data.copy()), h, steps).data ** 2).sum())
            leaf.data[index] = kept
            numeric[index] = (up - down) / (2 * eps)
        assert np.allclose(leaf.grad, numeric, rtol=1e-6, atol=1e-8), leaf.label


# --- long solves ----------------------------------------------------------------------------------------------------


def test_a_20000_step_solve_backpropagates_under_a_low_recursion_limit_and_is_freed_without_the_collector():
    k, h, steps = 0.5, 0.001, 20000
    rate = Value(k)
    start = Value(1.0)
    x = start
    for _ in range(steps):
        x = x + h * (-rate * x)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack(0)) + 166)  # (200 at pytest's usual depth: room for a few calls)
    try:
        x.backward()
    finally:
        sys.setrecursionlimit(limit)
    assert np.isclose(start.grad, (1 - h * k) ** steps, rtol=1e-10)
    assert np.isclose(rate.grad, -h * steps * (1 - h * k) ** (steps - 1), rtol=1e-10)  # x_n = (1 − hk)ⁿ x_0
    probe = weakref.ref(x.parents[0])  # (the last step's input: the graph below it goes with it)
    was = gc.isenabled()
    gc.disable()
    try:
        del x
        assert probe() is None, "the graph of the solve outlived its output (only the collector would free it)"
    finally:
        if was:
            gc.enable()


def test_truncation_by_detach_gives_the_gradient_of_the_windowed_objective_and_frees_old_windows():
    k, c, h = 2.0, 0.3, 0.01
    kv, cv = Value(k), Value(c)
    x, v = Value(1.0), Value(0.0)
    windows = []
    for _ in range(4):
        x, v = x.detach(), v.detach()
        windows.append(weakref.ref(x))
        x, v = _euler(x, v, kv, cv, h, 100)
        (x * x + v * v).backward()

    def objective(kk, cc):  # each window from its start state of the untruncated run, held fixed
        xs, vs, total = 1.0, 0.0, 0.0
        for _ in range(4):
            xe, ve = _euler(xs, vs, kk, cc, h, 100)
            total += xe * xe + ve * ve
            xs, vs = _euler(xs, vs, k, c, h, 100)
        return total

    eps = 1e-6
    assert np.isclose(kv.grad, (objective(k + eps, c) - objective(k - eps, c)) / (2 * eps), rtol=1e-7)
    assert np.isclose(cv.grad, (objective(k, c + eps) - objective(k, c - eps)) / (2 * eps), rtol=1e-7)
    assert [w() is None for w in windows[:-1]] == [True] * 3  # earlier windows' graphs went with them


def test_no_grad_evaluation_records_nothing_and_gives_the_recorded_numbers():
    kv, cv = Value(2.0), Value(0.3)
    recorded, _ = _euler(Value(1.0), Value(0.0), kv, cv, 0.01, 200)
    with no_grad():
        evaluated, _ = _euler(Value(1.0), Value(0.0), kv, cv, 0.01, 200)
    assert evaluated.parents == () and evaluated.op is None and not evaluated.requires_grad
    assert evaluated.data == recorded.data
    assert recorded.requires_grad and recorded.parents


# --- drawing a few steps of a neural ODE ---------------------------------------------------------------------------


def _clusters(source: str) -> dict[str, set[int]]:
    """The Graphviz node numbers ``v<i>`` in each layer box of a drawing's source."""
    found = {}
    for match in re.finditer(r"subgraph (cluster_layer\d+) \{(.*?)\n\t\}", source, flags=re.S):
        found[match.group(1)] = {int(n) for n in re.findall(r"^\t\tv(\d+) \[", match.group(2), flags=re.M)}
    return found


@pytest.mark.parametrize("with_model", [True, False])
def test_layer_boxes_of_a_neural_ode_hold_every_call_of_the_layer_and_nothing_of_the_integrator(with_model):
    net = nn.MLP([1, 2, 1], activation="tanh", output_activation="identity", rng=0)
    state = Value(np.array([[1.0]]))
    for _ in range(2):
        k1 = net(state)
        k2 = net(state + 0.05 * k1)
        state = state + 0.1 * (k1 + k2) / 2
    cost = (state * state).sum()
    cost.backward()
    kept, total = nearest_values(cost, 500)
    assert total == len(kept)
    boxes = _clusters(draw_graph(cost, model=net if with_model else None, max_nodes=500).source)
    assert len(boxes) == 2
    first, second = (boxes[f"cluster_layer{i}"] for i in range(2))
    number = {id(n): i for i, n in enumerate(kept)}
    # each call of Layer 1 makes matmul → add (z¹) → tanh (α¹); of Layer 2 matmul → add (α²)
    alpha1 = [n for n in kept if n.label == "α^1"]
    alpha2 = [n for n in kept if n.label == "α^2"]
    assert len(alpha1) == len(alpha2) == 4
    layer1 = {number[id(n)] for a in alpha1 for n in (a, a.parents[0], a.parents[0].parents[0])}
    layer2 = {number[id(n)] for a in alpha2 for n in (a, a.parents[0])}
    assert layer1 <= first and layer2 <= second
    params = {number[id(p)] for p in net.parameters()}
    assert first | second == layer1 | layer2 | params  # the RK stages' sums, the states: in no layer's box


def test_the_drawing_of_a_long_solve_stepped_since_says_it_is_stale():
    net = nn.MLP([2, 4, 2], activation="tanh", output_activation="identity", rng=0)
    state = Value(np.array([[1.0, 0.0]]))
    state = _rk4(net, state, 0.05, 10)  # 40 calls of the network: about 500 Values, more than the 150 drawn
    cost = (state * state).sum()
    cost.backward()
    fresh = draw_graph(cost).source
    with no_grad():
        net.layers[1].weights -= 0.1 * net.layers[1].weights.grad  # (Layer 2: used by the drawn last steps)
    assert "stale" not in fresh
    assert nearest_values(cost)[1] > 150
    stale = draw_graph(cost).source
    assert "stale: W² was changed in place" in stale
