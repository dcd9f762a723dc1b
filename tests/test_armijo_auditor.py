"""An auditor of gradient descent with the Armijo step size rule and the stopping rule ‖∇f‖ = 0 (seed 6.2, 6.2.1).

Every expected step is worked out here by hand in numpy: the seed's rule f(x + t·d) ≤ f(x) + σ·t·∇f(x)ᵀd with
d = −∇f(x), t = αˡ for the smallest l, and its stop at ‖∇f‖ = 0 (a tolerance in floating point).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Value, fit, nn, optim, plots

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "04_gradient_descent_and_armijo.ipynb"


def _hand_armijo(f, x: np.ndarray, g: np.ndarray, sigma: float, alpha: float) -> tuple[float, int]:
    """The seed's step (ii): the largest t = αˡ, l = 0, 1, 2, …, with f(x − t·g) ≤ f(x) − σ·t·‖g‖²."""
    fx, squared = f(x), float(np.sum(g * g))
    level = 0
    while f(x - alpha ** level * g) > fx - sigma * alpha ** level * squared:
        level += 1
    return alpha ** level, level


# ------------------------------------------------------------------------------------------------- defects found


def test_armijo_refuses_a_cost_whose_gradients_were_never_computed_instead_of_using_stale_ones():
    """A hand-written loop that forgets backward() after the first step: x.grad still holds ∇f at the old point.
    f = ‖x‖² from (3, −2): the first step (t = ½, by hand: f(−3, 2) = 13 > 13 − ¼·52) lands on 0, where ∇f = 0;
    the stale ∇f = (6, −4) made the second step search along it, fail all 51 trials and warn that no step size
    decreased the cost enough, reporting a slope of −52 at a stationary point."""
    x = Value([3.0, -2.0])
    opt = optim.Armijo([x], sigma=0.25)
    cost = (x * x).sum()
    cost.backward()
    opt.step(lambda: (x * x).sum(), cost=cost)
    assert x.data.tolist() == [0.0, 0.0] and opt.last_step_size == 0.5
    again = (x * x).sum()  # backward() forgotten: the gradients are still those of the first cost
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not a "no step size decreased the cost" warning about a wrong search
        with pytest.raises(ValueError, match=r"^Armijo\.step: cost= was given but not backpropagated"):
            opt.step(lambda: (x * x).sum(), cost=again)
    assert x.data.tolist() == [0.0, 0.0] and opt.last_slope == -52.0  # unchanged: the reports of the first step
    opt.zero_grad()
    again.backward()  # with the gradient of this cost, the step is allowed
    opt.step(lambda: (x * x).sum(), cost=again)
    assert opt.last_slope == 0.0 and opt.last_step_size == 0.0 and not opt.last_failed  # the seed's STOP


def test_plot_descent_with_an_armijo_optimizer_counts_the_steps_the_rule_took():
    """f = x² + y² from (−1.5, 0.8): by hand the first Armijo step (σ = 1e-4, t = ½: f(1.5, −0.8) = f(x) > f(x) −
    σ·‖∇f‖², then f(0, 0) = 0) lands on the minimum, where ∇f = 0 and the algorithm stops.  "armijo" drew 1 step,
    an Armijo optimizer made by a function drew "after 25 steps", 24 of them no step at all."""
    f = lambda p: p[0] ** 2 + p[1] ** 2  # noqa: E731
    start = np.array([-1.5, 0.8])
    t, level = _hand_armijo(lambda p: float(p @ p), start, 2 * start, 1e-4, 0.5)
    assert (t, level) == (0.5, 1)
    by_rule = plots.plot_descent(f, start, "armijo", steps=25)
    by_optimizer = plots.plot_descent(f, start, lambda ps: optim.Armijo(ps), steps=25)
    for fig in (by_rule, by_optimizer):
        assert fig.axes[0].get_title().endswith("cost 0 after 1 step")
        path = next(line for line in fig.axes[0].get_lines() if line.get_label().startswith("Armijo"))
        np.testing.assert_array_equal(path.get_xydata(), [start, start - t * 2 * start])


def test_plot_descent_with_an_armijo_optimizer_stops_where_the_search_fails():
    """max_backtracks=0 on f = 10x² + y² from (1, 1): by hand t = 1 gives f(1 − 20, 1 − 2) = 3611 > 11 − σ·404,
    so no step is found in the first search; the path is the start alone, not 10 copies of it."""
    f = lambda p: 10 * p[0] ** 2 + p[1] ** 2  # noqa: E731
    with pytest.warns(RuntimeWarning, match="no step size down to 1"):
        fig = plots.plot_descent(f, [1.0, 1.0], lambda ps: optim.Armijo(ps, max_backtracks=0), steps=10)
    assert fig.axes[0].get_title().endswith("after 0 steps")
    assert plots.descent_path(f, [1.0, 1.0], "armijo", steps=10).shape == (11, 2)  # (its own 50 backtracks do)


# ------------------------------------------------------------------------------------------------- guard tests


def test_fit_with_armijo_on_the_x_squared_network_takes_the_steps_worked_out_by_hand():
    """The seed's 7.3 network learning x² with the seed's 6.2.1 algorithm, written out in numpy (forward, the
    gradient by the chain rule, the Armijo search): fit's step sizes are the same powers of ½, its recorded costs
    and ‖∇C‖ the same numbers, and with tol it stops before the first update whose ‖∇C‖ (not ‖∇C‖²) is ≤ tol."""
    x = np.linspace(-1, 1, 40).reshape(-1, 1)
    y = x ** 2

    def make() -> nn.Module:
        return nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)

    def forward(params):
        w1, b1, w2, b2 = params
        hidden = np.tanh(x @ w1 + b1)
        return hidden @ w2 + b2, hidden

    def cost(params) -> float:  # the seed's Σ_j (y_j − y'_j)², averaged over the samples
        return float(((forward(params)[0] - y) ** 2).sum(axis=1).mean())

    def gradient(params):
        w1, b1, w2, b2 = params
        out, hidden = forward(params)
        d_out = 2 * (out - y) / len(x)
        d_hidden = d_out @ w2.T * (1 - hidden ** 2)
        return [x.T @ d_hidden, d_hidden.sum(axis=0), hidden.T @ d_out, d_out.sum(axis=0)]

    net = make()
    params = [p.data.copy() for p in net.parameters()]
    assert [p.shape for p in params] == [(1, 4), (4,), (4, 1), (1,)]
    steps, costs, norms = [], [], []
    for _ in range(25):
        g = gradient(params)
        flat_x, flat_g = np.concatenate([p.ravel() for p in params]), np.concatenate([gi.ravel() for gi in g])
        shapes = [p.shape for p in params]

        def unflat(v, shapes=shapes):
            return [part.reshape(s) for part, s in zip(np.split(v, np.cumsum([np.prod(s) for s in shapes])[:-1]),
                                                       shapes, strict=True)]

        t, _ = _hand_armijo(lambda v, unflat=unflat: cost(unflat(v)), flat_x, flat_g, 1e-4, 0.5)
        steps.append(t)
        costs.append(cost(params))
        norms.append(float(np.linalg.norm(flat_g)))
        params = unflat(flat_x - t * flat_g)
    assert len(set(steps)) > 1  # the search did backtrack differently from episode to episode
    history = fit(net, x, y, optimizer=optim.Armijo(net, sigma=1e-4, alpha=0.5), episodes=25, progress=False)
    assert history.step_size == steps and history.stopped == "episodes"
    np.testing.assert_allclose(history.cost, costs, rtol=1e-12)
    np.testing.assert_allclose(history.gradient_norm, norms, rtol=1e-12)
    assert history.final_cost == pytest.approx(cost(params), rel=1e-12)

    # tol against ‖∇C‖, checked before the update (step 1.2): 1.2 lies between ‖∇C‖ of episode 2 and its square,
    # 0.05 below every ‖∇C‖ but above the squares from episode 3 on
    assert norms[1] <= 1.2 < min(norms[0], norms[1] ** 2) and norms[2] ** 2 <= 0.05 < min(norms)
    for tol, episodes, stopped in [(1.2, 2, "tol"), (0.05, 25, "episodes")]:
        net = make()
        history = fit(net, x, y, optimizer=optim.Armijo(net, sigma=1e-4, alpha=0.5), episodes=25, tol=tol,
                      progress=False)
        assert (history.episodes, history.stopped) == (episodes, stopped)
        assert history.step_size == (steps[:1] + [None] if stopped == "tol" else steps)


def test_notebook_4s_written_out_algorithm_takes_the_steps_of_optim_armijo():
    """Notebook 4 plots the proof's facts for its own loop (step 1.2 with a tolerance, (i)–(iii)); they are facts
    about optim.Armijo only if both take the same steps: the same t_k = 2^-l and the same points, bit for bit,
    and the same stop at ‖∇f(x^k)‖ ≤ tol, where the gradient never becomes exactly 0."""
    cells = ["".join(cell["source"]) for cell in json.loads(NOTEBOOK.read_text())["cells"]
             if cell["cell_type"] == "code"]
    setup = next(c for c in cells if "def f(p)" in c)
    loop = next(c for c in cells if "def armijo_descent" in c)
    namespace: dict = {}
    exec(setup, namespace)  # noqa: S102 - the notebook's own definitions
    exec(loop[:loop.index("xs, ts, fs, norms = armijo_descent(")], namespace)  # noqa: S102
    xs, ts, fs, norms = namespace["armijo_descent"]([-1.2, 0.8], steps=200, tol=1e-6)
    assert len(ts) == 200 and norms[-1] > 1e-6  # out of patience here, long before ∇f = 0
    f = namespace["f"]
    point = Value(np.array([-1.2, 0.8]))
    opt = optim.Armijo([point], sigma=1e-4, alpha=0.5)
    for k in range(200):
        opt.step(lambda: f(point))
        assert opt.last_step_size == ts[k] and opt.last_cost_before == fs[k]
        assert -opt.last_slope == pytest.approx(norms[k] ** 2, rel=1e-12)  # ∇f(x)ᵀd = −‖∇f(x)‖²
        np.testing.assert_array_equal(point.data, xs[k + 1])
    x0 = np.array([-1.2, 0.8])
    g0 = np.array([2 * (x0[0] - 1) - 40 * x0[0] * (x0[1] - x0[0] ** 2), 20 * (x0[1] - x0[0] ** 2)])
    assert _hand_armijo(lambda p: float(f(p)), x0, g0, 1e-4, 0.5) == (ts[0], 4)  # the notebook's t = 2^-4


@pytest.mark.parametrize("damping", [0.0, 0.1])
def test_newton_takes_the_armijo_steps_worked_out_by_hand_near_a_saddle(damping):
    """f = x⁴/4 − x²/2 + y² + 0.3xy from (0.1, 1), where the Hessian [[3x² − 1, 0.3], [0.3, 2]] is indefinite:
    with damping λ > 0 it is raised to λ − λ_min(H) and d solves (H + λI)d = −∇f; with λ = 0 the step falls back to
    d = −∇f.  Either way t = 0.6ˡ for the smallest l with f(x + t·d) ≤ f(x) + σ·t·∇f(x)ᵀd (σ = 0.3)."""
    def f(p):
        return p[0] ** 4 / 4 - p[0] ** 2 / 2 + p[1] ** 2 + 0.3 * p[0] * p[1]

    x = Value([0.1, 1.0])
    opt = optim.Newton([x], damping=damping, sigma=0.3, alpha=0.6)
    here = np.array([0.1, 1.0])
    for _ in range(4):
        g = np.array([here[0] ** 3 - here[0] + 0.3 * here[1], 2 * here[1] + 0.3 * here[0]])
        h = np.array([[3 * here[0] ** 2 - 1, 0.3], [0.3, 2.0]])
        lowest = np.linalg.eigvalsh(h)[0]
        shift = damping if lowest + damping > 0 else (damping - lowest if damping > 0 else 0.0)
        fallback = not (shift > 0 or lowest > 0)
        d = -g if fallback else np.linalg.solve(h + shift * np.eye(2), -g)
        level = 0
        while f(here + 0.6 ** level * d) > f(here) + 0.3 * 0.6 ** level * (g @ d):
            level += 1
        here = here + 0.6 ** level * d
        opt.step(lambda: f(x))
        assert opt.last_step_size == 0.6 ** level and opt.last_fallback == fallback
        assert opt.last_damping == pytest.approx(shift, rel=1e-12, abs=1e-15)
        np.testing.assert_allclose(x.data, here, rtol=1e-12, atol=1e-15)
        assert opt.last_cost == pytest.approx(f(here), rel=1e-12, abs=1e-15)
    assert not opt.last_failed
