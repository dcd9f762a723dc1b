"""A student whose closures are random: noise added to the inputs inside the closure (data augmentation), dropout
written by hand (a fresh numpy mask per call), a cost on a mini-batch drawn inside the closure; passed to every
optimizer and, as a model whose forward is random, to fit.

Gradient descent, SGD and Adam call such a closure once per step, and their update is the gradient of that draw;
Armijo, Newton and random search call it several times and compare the costs, which then come from different draws.
What they report must be what was evaluated; the docs must not promise a decrease that cannot hold for a random
closure; fit with a seed (and a model with a generator of its own) must reproduce a run bit for bit.
"""

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Value, fit, nn, optim

ROOT = Path(__file__).resolve().parents[1]

X = np.random.default_rng(0).normal(size=(12, 2))
Y = X @ np.array([[1.5], [-2.0]]) + 0.3


class Recorded:
    """A linear model's squared error on inputs masked by hand-written dropout: a fresh mask at each call, kept in
    ``masks`` with the cost in ``costs``, so that every number can be checked against the draw it came from."""

    def __init__(self, seed: int = 1, keep: float = 0.5) -> None:
        self.rng = np.random.default_rng(seed)
        self.keep = keep
        self.w = Value(np.zeros((2, 1)))
        self.masks: list[np.ndarray] = []
        self.costs: list[float] = []

    def __call__(self) -> Value:
        mask = (self.rng.random(X.shape) < self.keep) / self.keep
        cost = ((Value(X * mask) @ self.w - Y) ** 2).mean()
        self.masks.append(mask)
        self.costs.append(float(cost.item()))
        return cost

    @staticmethod
    def gradient(w: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """∇ of mean((Xm·w − y)²): 2/n · (Xm)ᵀ(Xm·w − y), in closed form."""
        xm = X * mask
        return 2 / len(X) * xm.T @ (xm @ w - Y)

    @staticmethod
    def hessian(mask: np.ndarray) -> np.ndarray:
        xm = X * mask
        return 2 / len(X) * xm.T @ xm


def _offsets(first: float, rest: float):
    """A closure of f(w) = ‖w − 1‖² plus a 'random' offset: ``first`` at the first call, ``rest`` at every other
    (as a draw unlucky for every trial would be); the parameter and the calls' costs."""
    w = Value([3.0, -2.0])
    costs: list[float] = []

    def closure() -> Value:
        cost = ((w - 1.0) ** 2).sum() + (first if not costs else rest)
        costs.append(float(cost.item()))
        return cost

    return w, closure, costs


# --- defects ------------------------------------------------------------------------------------------------------

def test_the_promises_of_the_searching_optimizers_name_random_closures():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    armijo_paragraph = readme[readme.index("Optimizers (`tinygrad_edu.optim`"):]
    armijo_paragraph = armijo_paragraph[:armijo_paragraph.index("\n\n")]
    texts = {"optim": optim.__doc__, "Armijo": optim.Armijo.__doc__, "Newton": optim.Newton.__doc__,
             "RandomSearch": optim.RandomSearch.__doc__, "README": armijo_paragraph}
    for name, text in texts.items():
        flat = " ".join(text.split())
        assert re.search(r"random (closure|one)\b|draws random numbers", flat), name


# --- guards -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, update", [
    (lambda p: optim.GradientDescent(p, learning_rate=0.1), lambda g: 0.1 * g),
    (lambda p: optim.SGD(p, learning_rate=0.1, momentum=0.9), lambda g: 0.1 * g),
    (lambda p: optim.Adam(p, learning_rate=0.1), lambda g: 0.1 * g / (np.abs(g) + 1e-8)),
], ids=["gd", "sgd", "adam"])
def test_the_gradient_methods_call_a_random_closure_once_and_step_by_that_draw(make, update):
    model = Recorded()
    model.w.data[...] = [[0.5], [0.25]]
    start = model.w.data.copy()
    make([model.w]).step(model)
    assert len(model.costs) == 1  # one draw per step: a stochastic gradient, as mini-batches give
    g = Recorded.gradient(start, model.masks[0])
    np.testing.assert_allclose(model.w.grad, g, rtol=1e-12)
    np.testing.assert_allclose(model.w.data, start - update(g), rtol=1e-12)


def test_armijo_reports_exactly_what_its_random_closure_returned():
    model = Recorded(seed=4)
    opt = optim.Armijo([model.w], sigma=0.25)
    for _ in range(6):
        model.costs.clear()
        model.masks.clear()
        start = model.w.data.copy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optim.LineSearchWarning)
            opt.step(model)
        g = Recorded.gradient(start, model.masks[0])
        assert opt.last_cost_before == model.costs[0]  # f(x): the first draw, whose gradient d = −∇f(x) is
        np.testing.assert_allclose(opt.last_slope, -float((g * g).sum()), rtol=1e-12)
        trials = opt.last_trials
        assert [cost for _, cost in trials] == model.costs[1:1 + len(trials)]
        if opt.last_failed:
            np.testing.assert_array_equal(model.w.data, start)
            assert opt.last_cost == model.costs[0]
        else:
            assert opt.last_cost == trials[-1][1] and opt.last_step_size == trials[-1][0]
            np.testing.assert_allclose(model.w.data, start - opt.last_step_size * g, rtol=1e-12)


def test_random_search_judges_a_random_closure_by_the_two_costs_it_drew_and_restores_exactly():
    model = Recorded(seed=2)
    opt = optim.RandomSearch([model.w], scale=0.5, rng=0)
    kept = refused = 0
    for _ in range(40):
        model.costs.clear()
        start = model.w.data.copy()
        opt.step(model)
        before, after = model.costs  # two calls: the cost before the change and after it, two draws
        assert opt.last_accepted == (after < before)
        if opt.last_accepted:
            kept += 1
            assert opt.last_cost == after
        else:
            refused += 1
            assert opt.last_cost == before
            assert model.w.data.tobytes() == start.tobytes()
    assert kept and refused


def test_newton_takes_the_gradient_and_hessian_of_the_first_draw():
    model = Recorded(seed=7, keep=0.7)
    model.w.data[...] = [[0.5], [0.25]]
    start = model.w.data.copy()
    opt = optim.Newton([model.w])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optim.LineSearchWarning)
        opt.step(model)
    mask = model.masks[0]
    g = Recorded.gradient(start, mask)
    np.testing.assert_allclose(model.w.grad, g, rtol=1e-10)
    direction = np.linalg.solve(Recorded.hessian(mask), -g)
    np.testing.assert_allclose(model.w.data, start + opt.last_step_size * direction, rtol=1e-9, atol=1e-14)
    if not opt.last_failed:
        assert opt.last_cost == model.costs[-1]  # the accepted trial's draw


class Dropout(nn.Module):
    """A network with dropout written by hand on its inputs, from a generator of its own."""

    def __init__(self, seed: int) -> None:
        self.body = nn.MLP([2, 4, 1], activation="tanh", output_activation="identity", rng=0)
        self.rng = np.random.default_rng(seed)

    def forward(self, x: Value) -> Value:
        if self.training:
            x = x * Value((self.rng.random(x.shape) < 0.8) / 0.8)
        return self.body(x)

    def __call__(self, x: Value) -> Value:
        return self.forward(x)


@pytest.mark.parametrize("make", [lambda m: optim.SGD(m, learning_rate=0.05, momentum=0.9),
                                  lambda m: optim.Adam(m, learning_rate=0.01),
                                  lambda m: optim.Armijo(m),
                                  lambda m: optim.RandomSearch(m, rng=1),
                                  lambda m: optim.Newton(m, damping=1e-3)],
                         ids=["sgd", "adam", "armijo", "random", "newton"])
def test_fit_with_a_seed_and_a_random_model_reproduces_bit_for_bit(make):
    runs = []
    for _ in range(2):
        model = Dropout(seed=5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optim.LineSearchWarning)
            history = fit(model, X, Y, optimizer=make(model), episodes=4, batch_size=5, seed=0, progress=False)
        runs.append((history.cost, history.final_cost, b"".join(p.data.tobytes() for p in model.parameters())))
    assert runs[0] == runs[1]
    assert runs[0][0][0] != runs[0][0][1]  # (it trained: the costs changed)
