"""An engineer unrolling a small recurrent network by hand: h_t = tanh(h_{t−1} W + x_t U + b), the same weight
Values at every step, an output layer and a squared-error cost summed over time; and a tied-weights autoencoder
(the decoder uses W.T).  Backpropagation through time against a hand-written numpy BPTT and central differences,
long unrolls, Hessian-vector products through the unrolled graph, truncated BPTT with ``detach()``, training with
shared parameters, and the drawings of a short unroll."""

import re
import sys

import numpy as np
import pytest
from helpers_gradients import central_differences
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, nn, optim
from tinygrad_edu.autodiff import hvp
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.engine import backward_order
from tinygrad_edu.losses import squared_error
from tinygrad_edu.training import fit

H, D, OUT = 3, 2, 2


def _problem(seed: int, steps: int) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=(H, H)) * 0.5, rng.normal(size=(D, H)) * 0.5, rng.normal(size=H) * 0.1,
               rng.normal(size=(H, OUT)) * 0.5, rng.normal(size=OUT) * 0.1]
    return weights, rng.normal(size=(steps, D)), rng.normal(size=(steps, OUT))


def _unrolled(params: list[Value], xs: np.ndarray, ys: np.ndarray, cut: int | None = None) -> Value:
    """The cost Σ_t ‖h_t V + c − y_t‖², the hidden state detached before step ``cut``."""
    w, u, b, v, c = params
    h = Value(np.zeros(H), requires_grad=False)
    cost: Value | int = 0
    for t in range(len(xs)):
        if t == cut:
            h = h.detach()
        h = (h @ w + xs[t] @ u + b).tanh()
        cost = cost + ((h @ v + c - ys[t]) ** 2).sum()
    assert isinstance(cost, Value)
    return cost


def _cost_numpy(weights: list[np.ndarray], xs: np.ndarray, ys: np.ndarray, frozen_prefix: list | None = None,
                cut: int | None = None) -> float:
    """The same cost in numpy; with ``cut``, the hidden state entering step ``cut`` is computed from
    ``frozen_prefix`` (the weights held fixed), as a detached state is a constant."""
    w, u, b, v, c = weights
    h, total = np.zeros(H), 0.0
    for t in range(len(xs)):
        if t == cut:
            pw, pu, pb = frozen_prefix
            h = np.zeros(H)
            for s in range(cut):
                h = np.tanh(h @ pw + xs[s] @ pu + pb)
        h = np.tanh(h @ w + xs[t] @ u + b)
        total += float(((h @ v + c - ys[t]) ** 2).sum())
    return total


def _bptt(weights: list[np.ndarray], xs: np.ndarray, ys: np.ndarray) -> list[np.ndarray]:
    """Backpropagation through time by hand."""
    w, u, b, v, c = weights
    hs = [np.zeros(H)]
    for t in range(len(xs)):
        hs.append(np.tanh(hs[-1] @ w + xs[t] @ u + b))
    grads = [np.zeros_like(a) for a in weights]
    dh = np.zeros(H)
    for t in reversed(range(len(xs))):
        dy = 2 * (hs[t + 1] @ v + c - ys[t])
        grads[3] += np.outer(hs[t + 1], dy)
        grads[4] += dy
        dz = (dh + dy @ v.T) * (1 - hs[t + 1] ** 2)
        grads[0] += np.outer(hs[t], dz)
        grads[1] += np.outer(xs[t], dz)
        grads[2] += dz
        dh = dz @ w.T
    return grads


# --- defects ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("walk", ["backward", "backward_order"])
def test_truncated_bptt_without_detach_is_told_to_detach(walk: str) -> None:
    weights, xs, ys = _problem(0, 8)
    params = [Value(a.copy()) for a in weights]
    opt = optim.SGD(params, learning_rate=0.1)
    w, u, b, _, _ = params
    h = Value(np.zeros(H), requires_grad=False)
    for chunk in range(2):  # no h = h.detach() between the chunks: the second cost reaches the first chunk's graph
        cost: Value | int = 0
        for t in range(4 * chunk, 4 * chunk + 4):
            h = (h @ w + xs[t] @ u + b).tanh()
            cost = cost + (h ** 2).sum()
        assert isinstance(cost, Value)
        if chunk == 0:
            opt.zero_grad()
            cost.backward()
            opt.step()
    with pytest.raises(ValueError, match=rf"^{walk}: the graph is stale: .*h = h\.detach\(\)"):
        cost.backward() if walk == "backward" else backward_order(cost)


def test_a_tied_weight_kept_as_a_transpose_is_told_to_compute_it_in_forward() -> None:
    class TiedAutoencoder(nn.Module):
        def __init__(self) -> None:
            self.W = Value(np.full((4, 2), 0.1))
            self.W_dec = self.W.T

        def forward(self, x: Value) -> Value:
            return (x @ self.W).tanh() @ self.W_dec

    with pytest.raises(TypeError, match=r"'W_dec' holds a Value computed by an operation \(transpose\).*"
                                        r"compute it in forward\(\)"):
        TiedAutoencoder().parameters()


@pytest.mark.parametrize(("name", "advice"), [("detach_", r"v = v\.detach\(\)"),
                                              ("retain_grad", r"every Value on the way holds its \.grad")])
def test_pytorch_detach_in_place_and_retain_grad_say_what_to_write(name: str, advice: str) -> None:
    h = Value([0.5, -0.5]).tanh()
    with pytest.raises(AttributeError, match=rf"'Value' object has no attribute '{name}'; write .*{advice}"):
        getattr(h, name)()
    assert name not in dir(h)


# --- guards: backpropagation through time ----------------------------------------------------------------------

@given(seed=st.integers(0, 2**16), steps=st.integers(1, 50))
def test_bptt_gradients_of_shared_weights_equal_the_hand_written_bptt(seed: int, steps: int) -> None:
    weights, xs, ys = _problem(seed, steps)
    params = [Value(a.copy()) for a in weights]
    cost = _unrolled(params, xs, ys)
    assert cost.item() == pytest.approx(_cost_numpy(weights, xs, ys), rel=1e-12)
    cost.backward()
    for p, expected in zip(params, _bptt(weights, xs, ys), strict=True):
        np.testing.assert_allclose(p.grad, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("steps", [1, 5, 12])
def test_bptt_gradients_equal_central_differences(steps: int) -> None:
    weights, xs, ys = _problem(steps, steps)
    params = [Value(a.copy()) for a in weights]
    _unrolled(params, xs, ys).backward()
    for p, expected in zip(params, central_differences(lambda ws: _cost_numpy(ws, xs, ys), weights), strict=True):
        np.testing.assert_allclose(p.grad, expected, rtol=1e-6, atol=1e-7)


def test_a_long_unroll_backpropagates_without_recursion() -> None:
    """T = 2000 steps (about 20,000 Values) under a recursion limit of 200: the walk is not recursive."""
    weights, xs, ys = _problem(1, 2000)
    params = [Value(a.copy()) for a in weights]
    cost = _unrolled(params, xs, ys)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        cost.backward()
    finally:
        sys.setrecursionlimit(limit)
    for p, expected in zip(params, _bptt(weights, xs, ys), strict=True):
        np.testing.assert_allclose(p.grad, expected, rtol=1e-9, atol=1e-10)


def test_hidden_states_hold_their_total_gradient_after_backward() -> None:
    """Every h_t's .grad is ∂C/∂h_t over all later steps (what retain_grad() would keep in PyTorch)."""
    weights, xs, ys = _problem(2, 6)
    w, u, b, v, c = (Value(a.copy()) for a in weights)
    h, hs, cost = Value(np.zeros(H), requires_grad=False), [], 0
    for t in range(6):
        h = (h @ w + xs[t] @ u + b).tanh()
        hs.append(h)
        cost = cost + ((h @ v + c - ys[t]) ** 2).sum()
    cost.backward()
    k = 2  # ∂C/∂h_k by central differences on the state after step k, the later steps recomputed from it
    numbers = [hs[t].data for t in range(6)]

    def later(state: np.ndarray) -> float:
        total, s = float(((state @ v.data + c.data - ys[k]) ** 2).sum()), state
        for t in range(k + 1, 6):
            s = np.tanh(s @ w.data + xs[t] @ u.data + b.data)
            total += float(((s @ v.data + c.data - ys[t]) ** 2).sum())
        return total

    expected = [(later(numbers[k] + e) - later(numbers[k] - e)) / 2e-6 for e in np.eye(H) * 1e-6]
    np.testing.assert_allclose(hs[k].grad, expected, rtol=1e-6, atol=1e-8)


def test_hessian_vector_product_through_the_unrolled_graph_equals_differences_of_the_gradient() -> None:
    weights, xs, ys = _problem(3, 10)
    rest = [Value(a, requires_grad=False) for a in weights[1:]]

    def cost_of(flat_w: Value) -> Value:
        return _unrolled([flat_w.reshape(H, H), *rest], xs, ys)

    def gradient(flat: np.ndarray) -> np.ndarray:
        ws = [flat.reshape(H, H), *weights[1:]]
        return _bptt(ws, xs, ys)[0].ravel()

    point, direction = weights[0].ravel(), np.random.default_rng(4).normal(size=H * H)
    expected = (gradient(point + 1e-5 * direction) - gradient(point - 1e-5 * direction)) / 2e-5
    np.testing.assert_allclose(hvp(cost_of, point, direction).data, expected, rtol=1e-6, atol=1e-8)
    w = Value(point.copy())  # the same by hand: a recorded backward pass, then ⟨∇C, v⟩ backwards
    cost_of(w).backward(create_graph=True)
    slope = w.grad
    w.zero_grad()
    (slope * direction).sum().backward()
    np.testing.assert_allclose(w.grad, expected, rtol=1e-6, atol=1e-8)


# --- guards: truncated BPTT ------------------------------------------------------------------------------------

def test_detach_is_pytorchs_detach() -> None:
    h = (Value([0.3, -0.2]) * 2.0).tanh()
    cut = h.detach()
    assert cut.op is None and cut.parents == () and not cut.requires_grad and cut.grad is None
    assert np.shares_memory(cut.data, h.data)


def test_detaching_the_hidden_state_cuts_the_gradient_exactly_there() -> None:
    """W's gradient is that of a cost whose state entering step 6 is a constant: central differences with that
    state computed from the weights held fixed, the cost terms before step 6 still differentiated."""
    steps, cut = 10, 6
    weights, xs, ys = _problem(5, steps)
    params = [Value(a.copy()) for a in weights]
    _unrolled(params, xs, ys, cut=cut).backward()

    def truncated(ws: list[np.ndarray]) -> float:
        return _cost_numpy(ws, xs, ys, frozen_prefix=weights[:3], cut=cut)

    for p, expected in zip(params, central_differences(truncated, weights), strict=True):
        np.testing.assert_allclose(p.grad, expected, rtol=1e-6, atol=1e-7)
    with_cut = params[0].grad
    full = _bptt(weights, xs, ys)[0]
    assert not np.allclose(with_cut, full)  # the cut changed something: the test could tell them apart


# --- guards: training with shared parameters -------------------------------------------------------------------

class _RNN(nn.Module):
    def __init__(self, weights: list[np.ndarray]) -> None:
        self.W, self.U, self.b, self.V, self.c = (Value(a.copy()) for a in weights)

    def forward(self, x: Value) -> Value:  # x: (n, T, D), the last step's output
        h = Value(np.zeros((x.shape[0], H)), requires_grad=False)
        for t in range(x.shape[1]):
            h = (h @ self.W + x[:, t, :] @ self.U + self.b).tanh()
        return h @ self.V + self.c


def test_one_gradient_descent_step_updates_each_shared_weight_once() -> None:
    weights, _, _ = _problem(6, 1)
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=(5, 4, D)), rng.normal(size=(5, OUT))
    model = _RNN(weights)
    assert len(model.parameters()) == 5
    fit(model, x, y, optimizer=optim.GradientDescent(model, learning_rate=0.1), episodes=1, progress=False)

    def cost(ws: list[np.ndarray]) -> float:
        h = np.zeros((5, H))
        for t in range(4):
            h = np.tanh(h @ ws[0] + x[:, t, :] @ ws[1] + ws[2])
        return float(((h @ ws[3] + ws[4] - y) ** 2).sum() / 5)

    for p, start, slope in zip(model.parameters(), weights, central_differences(cost, weights), strict=True):
        np.testing.assert_allclose(p.data, start - 0.1 * slope, rtol=1e-7, atol=1e-8)


def test_adam_counts_one_step_per_update_for_a_tied_autoencoder() -> None:
    class Tied(nn.Module):
        def __init__(self) -> None:
            self.W = Value(np.random.default_rng(8).normal(size=(4, 2)) * 0.3)

        def forward(self, x: Value) -> Value:
            return (x @ self.W).tanh() @ self.W.T

    x = np.random.default_rng(9).normal(size=(6, 4))
    model = Tied()
    start = model.W.data.copy()
    cost = squared_error(model(x), x)
    cost.backward()

    def numpy_cost(ws: list[np.ndarray]) -> float:
        return float(((np.tanh(x @ ws[0]) @ ws[0].T - x) ** 2).sum() / 6)

    np.testing.assert_allclose(model.W.grad, central_differences(numpy_cost, [start])[0], rtol=1e-6, atol=1e-8)
    opt = optim.Adam(model, learning_rate=0.01)
    fit(model, x, x, optimizer=opt, episodes=3, progress=False)
    assert [int(n) for k, n in opt.state_dict().items() if k.endswith("step_count")] == [3]


# --- guards: drawings of a short unroll ------------------------------------------------------------------------

def _scalar_unroll() -> tuple[Value, Value]:
    w, u, b, v = Value(0.5, label="w"), Value(-0.3, label="u"), Value(0.1, label="b"), Value(0.8, label="v")
    h, cost = Value(0.2, requires_grad=False), 0
    for t, (x, y) in enumerate(zip([1.0, -0.5, 2.0], [0.2, 0.1, -0.3], strict=True), start=1):
        h = (w * h + u * x + b).tanh()
        h.label = f"h_{t}"
        out = v * h
        out.label = f"y_{t}"  # (the tree refuses v used by three unlabelled products on the way to C)
        cost = cost + (out - y) ** 2
    assert isinstance(cost, Value)
    cost.label = "C"
    return cost, w


def test_the_dependency_tree_shows_a_shared_weight_once_with_an_edge_per_step() -> None:
    cost, w = _scalar_unroll()
    tree = dependency_tree(cost)
    assert list(tree.nodes).count("w") == 1
    assert sorted(edge.child for edge in tree.edges if edge.parent == "w") == ["h_1", "h_2", "h_3"]

    def numpy_cost(a: float) -> float:
        h, total = 0.2, 0.0
        for x, y in zip([1.0, -0.5, 2.0], [0.2, 0.1, -0.3], strict=True):
            h = np.tanh(a * h - 0.3 * x + 0.1)
            total += (0.8 * h - y) ** 2
        return total

    slope = (numpy_cost(0.5 + 1e-6) - numpy_cost(0.5 - 1e-6)) / 2e-6
    assert tree.chain_rule("w") == pytest.approx(slope, rel=1e-6)
    assert float(w.grad) == pytest.approx(slope, rel=1e-6)


def test_draw_graph_shows_a_shared_weight_once_with_three_outgoing_edges() -> None:
    from tinygrad_edu import viz

    cost, _ = _scalar_unroll()
    source = viz.draw_graph(cost).source
    boxes = re.findall(r"^\s*(v\d+) \[label=<<TABLE[^\n]*<B>w</B>", source, flags=re.MULTILINE)
    assert len(boxes) == 1
    assert len(re.findall(rf"^\s*{boxes[0]} -> op\d+", source, flags=re.MULTILINE)) == 3
