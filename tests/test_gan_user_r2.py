"""An engineer who trains a tiny GAN on 1-D data, second pass: a WGAN-GP critic (the norm of the critic's gradient
with respect to its input, differentiated again with respect to its weights) checked against central differences of
the same penalty written in numpy, with tanh, sigmoid, softplus, relu and leaky_relu critics; the DCGAN loop (the
fakes of the discriminator's step reused for the generator's, nothing frozen); ``fit`` for the discriminator alone
against the same SGD with momentum written in numpy; both networks, both optimizers and the data generator copied
mid-training (deepcopy, pickle) and resumed bit for bit; both costs plotted.

Defects found (xfail until fixed): the PyTorch loop that unfreezes the discriminator after the generator's step,
``for p in D.parameters(): p.requires_grad = True``, unfreezes nothing here (``parameters()`` leaves frozen ones out),
and the critic's next ``opt.step()`` (its cost still backpropagates, through the interpolated input of the gradient
penalty) changed nothing, silently, for the rest of training; ``plot_history(costs)`` of a list of ``(g_cost,
d_cost)`` tuples, one row per episode, drew 10 runs of 2 episodes without a word; a DataFrame of one column per run
(and no ``cost`` column) was refused without saying how to draw it.
"""

from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest
from helpers_gradients import central_differences
from hypothesis import assume, given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, fit, nn, optim
from tinygrad_edu.autodiff import gradients

ACTIVATIONS = {
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "sigmoid": (lambda z: 1 / (1 + np.exp(-z)), lambda z: np.exp(-z) / (1 + np.exp(-z)) ** 2),
    "softplus": (lambda z: np.logaddexp(0.0, z), lambda z: 1 / (1 + np.exp(-z))),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0) * 1.0),
    "leaky_relu": (lambda z: np.where(z > 0, z, 0.01 * z), lambda z: np.where(z > 0, 1.0, 0.01)),
}
TINY = 1e-12  # inside the square root: ‖∇ₓD‖ has no derivative at 0


def networks(seed: int = 0, activation: str = "tanh") -> tuple[nn.MLP, nn.MLP]:
    generator = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=seed + 1)
    critic = nn.MLP([1, 4, 4, 1], activation=activation, output_activation="identity", init="xavier", rng=seed + 2)
    return generator, critic


def numbers(module: nn.Module) -> list[np.ndarray]:
    return [p.data.copy() for p in module.parameters()]


def input_gradient_by_hand(critic: list[np.ndarray], x: np.ndarray, activation: str) -> np.ndarray:
    """∂D/∂x of a 1-4-4-1 critic at each sample, by the chain rule written out in numpy."""
    f, df = ACTIVATIONS[activation]
    w1, b1, w2, b2, w3, _ = critic
    z1 = x @ w1 + b1
    z2 = f(z1) @ w2 + b2
    return (((df(z2) * w3.T) @ w2.T) * df(z1)) @ w1.T


def penalty_by_hand(critic: list[np.ndarray], x: np.ndarray, activation: str) -> float:
    """mean (‖∂D/∂x‖ − 1)² of a 1-4-4-1 critic, its input gradient by the chain rule written out in numpy."""
    dx = input_gradient_by_hand(critic, x, activation)
    return float(((np.sqrt((dx ** 2).sum(axis=1) + TINY) - 1) ** 2).mean())


def penalty(critic: nn.Module, x: np.ndarray) -> Value:
    """The WGAN-GP penalty as a PyTorch user writes it with torch.autograd.grad(..., create_graph=True)."""
    inputs = Value(x)
    gradient, = gradients(critic(inputs).sum(), [inputs], create_graph=True)
    return ((((gradient * gradient).sum(axis=1) + TINY).sqrt() - 1) ** 2).mean()


def wgan_gp_round(generator, critic, opt_g, opt_c, rng, weight: float = 10.0) -> tuple[float, float]:
    real, noise, eps = rng.normal(3.0, 0.5, size=(8, 1)), rng.normal(size=(8, 1)), rng.uniform(size=(8, 1))
    opt_c.zero_grad()
    fake = generator(noise).detach()
    c_cost = critic(fake).mean() - critic(real).mean() + weight * penalty(critic, eps * real + (1 - eps) * fake.data)
    c_cost.backward()
    opt_c.step()
    critic.requires_grad_(False)
    opt_g.zero_grad()
    g_cost = -critic(generator(noise)).mean()
    g_cost.backward()
    opt_g.step()
    critic.requires_grad_(True)
    return float(g_cost), float(c_cost)


# ------------------------------------------------------------------------------------------------------ defects
def test_the_critics_step_after_pytorchs_unfreezing_loop_says_that_it_changes_nothing():
    rng = np.random.default_rng(0)
    generator, critic = networks()
    opt_c = optim.SGD(critic, learning_rate=0.05, momentum=0.5)
    real, noise, eps = rng.normal(3.0, 0.5, size=(8, 1)), rng.normal(size=(8, 1)), rng.uniform(size=(8, 1))
    for p in critic.parameters():  # the generator's step, frozen as in PyTorch
        p.requires_grad = False
    for p in critic.parameters():  # "unfreeze": parameters() is [] by now, so this does nothing
        p.requires_grad = True
    before = list(critic.state_dict().values())  # (frozen ones are not in parameters(): the state has them)
    opt_c.zero_grad()
    fake = generator(noise).detach()
    cost = critic(fake).mean() - critic(real).mean() + 10 * penalty(critic, eps * real + (1 - eps) * fake.data)
    cost.backward()  # fine: the interpolated input requires a gradient
    with pytest.warns(RuntimeWarning, match=r"^SGD\.step: all 6 parameters of this optimizer are frozen .*changes "
                                            r"nothing.*requires_grad_\(True\)"):
        opt_c.step()
    assert all(np.array_equal(a, b) for a, b in zip(critic.state_dict().values(), before, strict=True))


@pytest.mark.parametrize("as_values", [False, True], ids=["floats", "Values"])
def test_plot_history_refuses_one_row_of_costs_per_episode(as_values):
    pytest.importorskip("matplotlib")
    from tinygrad_edu import plots

    rng = np.random.default_rng(2)
    generator, critic = networks()
    opt_g, opt_c = optim.Adam(generator, learning_rate=0.01), optim.SGD(critic, learning_rate=0.01)
    costs = [wgan_gp_round(generator, critic, opt_g, opt_c, rng) for _ in range(5)]
    rows = [(Value(g), Value(c)) for g, c in costs] if as_values else costs
    with pytest.raises(TypeError, match=r"^plot_history: got a list of 5 tuples of 2 costs, one row per episode"):
        plots.plot_history(rows)
    figure = plots.plot_history({"generator": [g for g, _ in costs], "critic": [c for _, c in costs]})
    drawn = {line.get_label(): list(line.get_ydata()) for line in figure.axes[0].get_lines()}
    assert drawn == {"generator": [g for g, _ in costs], "critic": [c for _, c in costs]}


def test_plot_history_says_how_to_draw_a_table_of_cost_columns():
    pytest.importorskip("matplotlib")
    pd = pytest.importorskip("pandas")
    from tinygrad_edu import plots

    table = pd.DataFrame({"generator": [0.7, 0.65, 0.6], "critic": [1.3, 1.2, 1.25]})
    with pytest.raises(TypeError, match=r"columns generator, critic and no 'cost' column.*plot_history\(dict\(table\)"):
        plots.plot_history(table)
    drawn = {line.get_label(): list(line.get_ydata()) for line in plots.plot_history(dict(table)).axes[0].get_lines()}
    assert drawn == {"generator": [0.7, 0.65, 0.6], "critic": [1.3, 1.2, 1.25]}


# ------------------------------------------------------------------------------------------------------- guards
def test_a_step_with_only_some_parameters_frozen_says_nothing_and_moves_the_others():
    """The warning above is for an optimizer whose parameters are all frozen: a critic whose first layer is frozen
    (fine-tuning) steps the rest by SGD's first step, x − η∇C, and says nothing."""
    generator, critic = networks()
    opt_c = optim.SGD(critic, learning_rate=0.05)
    critic[0].requires_grad_(False)
    first = critic[0].weights.data.copy()
    rest = numbers(critic)
    (-critic(np.ones((3, 1))).mean()).backward()
    kept = [p.grad.copy() for p in critic.parameters()]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt_c.step()
    assert np.array_equal(critic[0].weights.data, first)
    for p, before, g in zip(critic.parameters(), rest, kept, strict=True):
        np.testing.assert_array_equal(p.data, before - 0.05 * g)


@given(seed=st.integers(0, 2 ** 16), activation=st.sampled_from(sorted(ACTIVATIONS)))
def test_the_gradient_penalty_and_its_gradient_in_the_weights_match_numpy(seed, activation):
    """Second order: ∂/∂W of mean (‖∂D/∂x‖ − 1)², through gradients(..., create_graph=True), against central
    differences of the penalty written out in numpy (the weights the penalty does not reach get no gradient)."""
    rng = np.random.default_rng(seed)
    _, critic = networks(seed % 7, activation)
    x = rng.normal(size=(5, 1))
    cost = penalty(critic, x)
    arrays = numbers(critic)
    # Where a sample's ∂D/∂x is within 1e-4 of 0 (not exactly 0: a dead ReLU path stays 0), √(dx² + TINY) bends
    # within the differences' step: its third derivative, up to 3·TINY/dx⁴, is 5e11 at dx = 1e-6, the h² error of a
    # central difference at h = 1e-6 reached 3.4e-3 (7 draws in 15,000), and no float64 step clears both that error
    # and rounding.  Such draws are left out (dx from 1e-4 to 1e-3 stays within 0.2% of the tolerance); the engine's
    # gradient at 4 such draws (seeds 33114, 61811, 47373, 60995) is held against 40-digit differences in
    # tests/test_flaky_r40.py.
    dx = np.abs(input_gradient_by_hand(arrays, x, activation))
    assume(not ((dx > 0) & (dx < 1e-4)).any())
    assert float(cost) == pytest.approx(penalty_by_hand(arrays, x, activation), rel=1e-12, abs=1e-15)
    cost.backward()
    expected = central_differences(lambda n: penalty_by_hand(n, x, activation), arrays)
    for p, e in zip(critic.parameters(), expected, strict=True):
        np.testing.assert_allclose(np.zeros_like(p.data) if p.grad is None else p.grad, e, rtol=1e-5, atol=1e-7)
    assert critic[2].biases.grad is None  # the output bias does not move ∂D/∂x


def test_the_dcgan_loop_reuses_the_fakes_and_gives_the_generator_the_gradient_at_the_stepped_discriminator():
    """DCGAN's loop: errD_real.backward() and errD_fake.backward() add up, the fakes made for the discriminator's
    step are reused for the generator's after that step (nothing frozen); the generator's gradient is that of
    −mean ln σ(D(G(z))) at the discriminator after its step, and the discriminator's is both costs' sum."""
    rng = np.random.default_rng(4)
    real, noise = rng.normal(3.0, 0.5, size=(6, 1)), rng.normal(size=(6, 1))
    generator, discriminator = networks()
    opt_d = optim.Adam(discriminator, learning_rate=0.01, betas=(0.5, 0.999))
    opt_g = optim.Adam(generator, learning_rate=0.01, betas=(0.5, 0.999))
    g0, d0 = numbers(generator), numbers(discriminator)

    def d_of(d: list[np.ndarray], x: np.ndarray) -> np.ndarray:
        w1, b1, w2, b2, w3, b3 = d
        return np.tanh(np.tanh(x @ w1 + b1) @ w2 + b2) @ w3 + b3

    def g_of(g: list[np.ndarray], z: np.ndarray) -> np.ndarray:
        w1, b1, w2, b2 = g
        return np.tanh(z @ w1 + b1) @ w2 + b2

    discriminator.zero_grad()
    F.softplus(-discriminator(real)).mean().backward()
    fake = generator(noise)
    F.softplus(discriminator(fake.detach())).mean().backward()
    expected_d = central_differences(lambda d: float(np.logaddexp(0, -d_of(d, real)).mean()
                                                     + np.logaddexp(0, d_of(d, g_of(g0, noise))).mean()),
                                     [a.copy() for a in d0])
    for p, e in zip(discriminator.parameters(), expected_d, strict=True):
        np.testing.assert_allclose(p.grad, e, rtol=1e-6, atol=1e-9)
    opt_d.step()
    d1 = numbers(discriminator)
    generator.zero_grad()
    F.softplus(-discriminator(fake)).mean().backward()
    expected_g = central_differences(lambda g: float(np.logaddexp(0, -d_of(d1, g_of(g, noise))).mean()),
                                     [a.copy() for a in g0])
    for p, e in zip(generator.parameters(), expected_g, strict=True):
        np.testing.assert_allclose(p.grad, e, rtol=1e-6, atol=1e-9)
    opt_g.step()
    assert all(np.array_equal(p.data, b) for p, b in zip(discriminator.parameters(), d1, strict=True))


def test_fit_trains_the_discriminator_alone_as_sgd_with_momentum_by_hand():
    """fit(D, samples, labels) with the binary cross-entropy through softplus: each episode's cost and the final
    weights are those of v ← μv + ∇C, x ← x − ηv with the gradient of the cost written out in numpy."""
    rng = np.random.default_rng(0)
    generator, discriminator = networks()
    with_fakes = np.concatenate([rng.normal(3.0, 0.5, size=(8, 1)), generator(rng.normal(size=(8, 1))).numpy()])
    labels = np.concatenate([np.ones((8, 1)), np.zeros((8, 1))])
    rate, momentum, episodes = 0.05, 0.5, 6

    def forward(d: list[np.ndarray]) -> tuple[np.ndarray, ...]:
        w1, b1, w2, b2, w3, b3 = d
        h1 = np.tanh(with_fakes @ w1 + b1)
        h2 = np.tanh(h1 @ w2 + b2)
        return h1, h2, h2 @ w3 + b3

    def cost(d: list[np.ndarray]) -> float:
        z = forward(d)[2]
        return float((labels * np.logaddexp(0, -z) + (1 - labels) * np.logaddexp(0, z)).mean())

    def gradient(d: list[np.ndarray]) -> list[np.ndarray]:  # σ(z) − y over n, back through two tanh layers
        w1, b1, w2, b2, w3, b3 = d
        h1, h2, z = forward(d)
        dz = (1 / (1 + np.exp(-z)) - labels) / len(z)
        dh2 = dz @ w3.T * (1 - h2 ** 2)
        dh1 = dh2 @ w2.T * (1 - h1 ** 2)
        return [with_fakes.T @ dh1, dh1.sum(0), h1.T @ dh2, dh2.sum(0), h2.T @ dz, dz.sum(0)]

    d = numbers(discriminator)
    velocity: list[np.ndarray] | None = None
    costs = []
    for _ in range(episodes):
        costs.append(cost(d))
        g = gradient(d)
        velocity = g if velocity is None else [momentum * v + gi for v, gi in zip(velocity, g, strict=True)]
        d = [a - rate * v for a, v in zip(d, velocity, strict=True)]

    def bce(z: Value, y: np.ndarray) -> Value:
        return (y * F.softplus(-z) + (1 - y) * F.softplus(z)).mean()

    history = fit(discriminator, with_fakes, labels, cost=bce, episodes=episodes, progress=False,
                  optimizer=optim.SGD(discriminator, learning_rate=rate, momentum=momentum))
    np.testing.assert_allclose(history.cost, costs, rtol=1e-12)
    assert history.final_cost == pytest.approx(cost(d), rel=1e-12)
    for p, expected in zip(discriminator.parameters(), d, strict=True):
        np.testing.assert_allclose(p.data, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_wgan_gp_run_copied_mid_training_with_both_optimizers_resumes_bit_for_bit(how):
    """Both networks, Adam(β = (0.5, 0.9)) and SGD with momentum, and the data generator, copied together (so the
    copied optimizers hold the copied networks' Values): the copy's rounds are the original's, bit for bit."""
    generator, critic = networks()
    opt_g = optim.Adam(generator, learning_rate=0.01, betas=(0.5, 0.9))
    opt_c = optim.SGD(critic, learning_rate=0.01, momentum=0.9)
    rng = np.random.default_rng(3)
    for _ in range(3):
        wgan_gp_round(generator, critic, opt_g, opt_c, rng)
    everything = (generator, critic, opt_g, opt_c, rng)
    twin = copy.deepcopy(everything) if how == "deepcopy" else pickle.loads(pickle.dumps(everything))
    assert twin[2].params[0] is twin[0].parameters()[0] and twin[3].params[0] is twin[1].parameters()[0]
    straight = [wgan_gp_round(*everything) for _ in range(3)]
    resumed = [wgan_gp_round(*twin) for _ in range(3)]
    assert resumed == straight
    for a, b in zip(generator.parameters() + critic.parameters(), twin[0].parameters() + twin[1].parameters(),
                    strict=True):
        assert np.array_equal(a.data, b.data)
