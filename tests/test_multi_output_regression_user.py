"""An engineer fitting functions of several outputs (k = 3: (sin x, cos x, x²) from x; a 2-D → 2-D map) with the
seed's squared-error cost: fit under every optimizer against hand-written numpy loops, outputs of very different
scales, float32, and the errors and docs met on the way."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, fit, losses, nn, optim

# --- a 1-4-3 tanh network and its cost, written out in numpy -------------------------------------------------------


def _samples(n: int = 20, scale: float = 1.0, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(seed).uniform(-1, 1, (n, 1))
    return x, np.hstack([np.sin(x), np.cos(x), scale * x ** 2])


def _network() -> nn.MLP:
    return nn.MLP([1, 4, 3], activation="tanh", output_activation="identity", init="xavier", rng=0)


def _numpy_cost(p: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> float:
    """(1/n) Σ_s Σ_j (ŷ − y)², the documented cost, in float64."""
    w1, b1, w2, b2 = (a.astype(np.float64) for a in p)
    difference = np.tanh(x @ w1 + b1) @ w2 + b2 - y
    return float((difference * difference).sum() / len(x))


def _numpy_gradient(p: list[np.ndarray], x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    """Backpropagation by hand from ∂C/∂ŷ = (2/n)(ŷ − y)."""
    w1, b1, w2, b2 = p
    h = np.tanh(x @ w1 + b1)
    d = 2 * (h @ w2 + b2 - y) / len(x)
    dz = d @ w2.T * (1 - h * h)
    return [x.T @ dz, dz.sum(0), h.T @ d, d.sum(0)]


def _numpy_run(name: str, p: list[np.ndarray], x: np.ndarray, y: np.ndarray, episodes: int,
               batch: int | None) -> tuple[list[np.ndarray], list[float]]:
    """The optimizer's updates written out (batches in order, no shuffle); returns the parameters and History.cost."""
    costs, m, v, momentum, k = [], [0 * a for a in p], [0 * a for a in p], None, 0
    for _ in range(episodes):
        if batch is None:
            f0, g = _numpy_cost(p, x, y), _numpy_gradient(p, x, y)
            costs.append(f0)
            if name == "gd":
                p = [a - 0.1 * b for a, b in zip(p, g)]
            else:  # Armijo: t = 0.5^l, the largest with f(x − t g) ≤ f(x) − σ t ‖g‖²
                t, squared = 1.0, sum(float((b * b).sum()) for b in g)
                while _numpy_cost([a - t * b for a, b in zip(p, g)], x, y) > f0 - 1e-4 * t * squared:
                    t *= 0.5
                p = [a - t * b for a, b in zip(p, g)]
            continue
        batch_costs, sizes = [], []
        for start in range(0, len(x), batch):
            xb, yb = x[start:start + batch], y[start:start + batch]
            batch_costs.append(_numpy_cost(p, xb, yb))
            sizes.append(len(xb))
            g = _numpy_gradient(p, xb, yb)
            if name == "sgd":  # PyTorch's momentum: buffer ← μ·buffer + g
                momentum = g if momentum is None else [0.9 * a + b for a, b in zip(momentum, g)]
                p = [a - 0.1 * b for a, b in zip(p, momentum)]
            else:  # Adam
                k += 1
                m = [0.9 * a + 0.1 * b for a, b in zip(m, g)]
                v = [0.999 * a + 0.001 * b * b for a, b in zip(v, g)]
                p = [a - 0.01 * (mi / (1 - 0.9 ** k)) / (np.sqrt(vi / (1 - 0.999 ** k)) + 1e-8)
                     for a, mi, vi in zip(p, m, v)]
        costs.append(float(np.average(batch_costs, weights=sizes)))
    return p, costs


OPTIMIZERS = {"gd": (lambda ps: optim.GradientDescent(ps, 0.1), None),
              "armijo": (lambda ps: optim.Armijo(ps), None),
              "sgd": (lambda ps: optim.SGD(ps, 0.1, momentum=0.9), 6),  # 20 samples: a last batch of 2
              "adam": (lambda ps: optim.Adam(ps, 0.01), 6)}


# --- guards --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("scale", [1.0, 1000.0])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_fit_with_three_outputs_makes_the_numpy_loops_updates_and_history(name, scale):
    """k = 3 outputs, one of them 1000× the others in the second run: every optimizer's parameters, History.cost
    (full batch: at the start of each episode; batches: their costs weighted by size) and final_cost are those of
    the loop written out in numpy from ∂C/∂ŷ = (2/n)(ŷ − y)."""
    x, y = _samples(scale=scale)
    model = _network()
    start = [p.data.copy() for p in model.parameters()]
    make, batch = OPTIMIZERS[name]
    history = fit(model, x, y, optimizer=make(model.parameters()), episodes=6, batch_size=batch, shuffle=False,
                  progress=False)
    expected, costs = _numpy_run(name, start, x, y, 6, batch)
    np.testing.assert_allclose(history.cost, costs, rtol=1e-10)
    for got, want in zip(model.parameters(), expected):
        np.testing.assert_allclose(got.data, want, rtol=1e-9, atol=1e-12)
    assert history.final_cost == pytest.approx(_numpy_cost(expected, x, y), rel=1e-10)


def test_newton_on_a_three_output_network_takes_the_damped_newton_steps_of_numpy():
    """(H + λI)d = −g with H from central differences of the hand-written gradient, λ raised to damping − λ_min
    where H + λI is not positive definite, and Armijo steps along d: three episodes land where numpy's do."""
    x, y = _samples()
    model = _network()
    start = [p.data.copy() for p in model.parameters()]
    shapes = [a.shape for a in start]

    def split(flat: np.ndarray) -> list[np.ndarray]:
        cuts = np.cumsum([int(np.prod(s)) for s in shapes])[:-1]
        return [part.reshape(s) for part, s in zip(np.split(flat, cuts), shapes)]

    def gradient(flat: np.ndarray) -> np.ndarray:
        return np.concatenate([g.ravel() for g in _numpy_gradient(split(flat), x, y)])

    point, steps = np.concatenate([a.ravel() for a in start]), []
    for _ in range(3):
        g, eye = gradient(point), np.eye(len(point))
        hessian = np.array([(gradient(point + 1e-6 * e) - gradient(point - 1e-6 * e)) / 2e-6 for e in eye])
        hessian = (hessian + hessian.T) / 2
        damping = max(1e-3, 1e-3 - np.linalg.eigvalsh(hessian)[0])
        d = np.linalg.solve(hessian + damping * eye, -g)
        f0, t = _numpy_cost(split(point), x, y), 1.0
        while _numpy_cost(split(point + t * d), x, y) > f0 + 1e-4 * t * (g @ d):
            t *= 0.5
        point, steps = point + t * d, [*steps, t]
    history = fit(model, x, y, optimizer=optim.Newton(model.parameters(), damping=1e-3), episodes=3, progress=False)
    assert history.step_size == steps
    np.testing.assert_allclose(np.concatenate([p.data.ravel() for p in model.parameters()]), point, atol=1e-7)


@given(n=st.integers(1, 6), k=st.integers(1, 4), seed=st.integers(0, 2 ** 16),
       float32=st.booleans(), big=st.sampled_from([1.0, 1000.0]))
def test_squared_error_is_k_times_mean_squared_error_and_its_gradient_two_over_n(n, k, seed, float32, big):
    """For a batch (n, k), one column 1000× the others or not, in float64 or float32: squared_error is
    (1/n)·Σ(ŷ − y)² and k times mean_squared_error, with gradients (2/n)(ŷ − y) and (2/(nk))(ŷ − y)."""
    rng = np.random.default_rng(seed)
    dtype = np.float32 if float32 else np.float64
    scale = np.ones(k)
    scale[-1] = big
    prediction, target = ((rng.normal(size=(n, k)) * scale).astype(dtype) for _ in range(2))
    wide = prediction.astype(np.float64) - target
    rtol = 1e-5 if float32 else 1e-12
    for cost, count in ((losses.squared_error, n), (losses.mean_squared_error, n * k)):
        y = Value(prediction)
        c = cost(y, target)
        c.backward()
        assert c.dtype == dtype and y.grad.dtype == dtype
        assert float(c) == pytest.approx((wide * wide).sum() / count, rel=rtol)
        np.testing.assert_allclose(y.grad, 2 * wide / count, rtol=rtol, atol=1e-6 * big if float32 else 1e-12)


# --- defects -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cost", [losses.squared_error, losses.mean_squared_error])
@pytest.mark.parametrize("column", [False, True])
def test_float_targets_of_one_output_against_three_outputs_are_not_taken_for_class_labels(cost, column):
    x, y = _samples()
    target = y[:, :1] if column else y[:, 0]
    with pytest.raises(ValueError, match=rf"^{cost.__name__}: prediction has shape \(20, 3\)") as info:
        cost(_network()(x), target)
    message = str(info.value)
    assert "class label" not in message and "one_hot" not in message
    assert "3 targets per sample" in message and "(20, 3)" in message


def test_class_labels_against_three_outputs_still_point_to_one_hot():
    """The other side of the fix above: whole numbers in 0 … k − 1 are labels, and the advice stays."""
    x, _ = _samples(n=6)
    with pytest.raises(ValueError, match=r"data\.one_hot\(labels, classes=3\)"):
        losses.squared_error(_network()(x), np.array([0, 2, 1, 1, 0, 2]))


@pytest.mark.parametrize("stacked", ["targets", "inputs"])
def test_fit_names_inputs_or_targets_stacked_one_row_per_column_as_transposed(stacked):
    """(sin x, cos x, x²) stacked as np.stack does by default, (3, 20); or the 2-D → 2-D map's inputs (2, 20)
    beside its targets (20, 2), which fit the other way round as well: the (2, 20) is the one named."""
    if stacked == "targets":
        x, y = _samples()
        model, y = _network(), np.stack([y[:, 0], y[:, 1], y[:, 2]])
        counts = r"inputs hold 20 samples .* but targets hold 3 \(shape \(3, 20\)\)"
    else:
        x = np.random.default_rng(2).uniform(-1, 1, (20, 2))
        model, y = nn.MLP([2, 5, 2], activation="tanh", output_activation="identity", rng=0), x[:, ::-1] ** 2
        x = np.stack([x[:, 0], x[:, 1]])
        counts = r"inputs hold 2 samples \(shape \(2, 20\)\) but targets hold 20"
    with pytest.raises(ValueError, match=rf"^fit: {counts}") as info:
        fit(model, x, y, optimizer=optim.GradientDescent(model.parameters(), 0.1), episodes=1, progress=False)
    assert f"give {stacked}.T" in str(info.value)


def test_the_docstrings_say_which_cost_is_which_pytorch_reduction():
    assert "MSELoss(reduction='sum')" in losses.squared_error.__doc__
    assert "reduction='mean'" in losses.mean_squared_error.__doc__
    x, y = _samples()
    prediction = _network()(x)
    # what they say holds: squared_error = sum / n, mean_squared_error = sum / (n k)
    total = float(((prediction.data - y) ** 2).sum())
    assert float(losses.squared_error(prediction, y)) == pytest.approx(total / 20, rel=1e-12)
    assert float(losses.mean_squared_error(prediction, y)) == pytest.approx(total / 60, rel=1e-12)
