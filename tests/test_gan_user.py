"""An engineer who trains a tiny GAN on 1-D data: a generator and a discriminator (``nn.MLP``), Adam for one and SGD
with momentum for the other, alternating updates where the generator's non-saturating cost ``softplus(−D(G(z)))``
(−ln σ written through softplus) runs through the discriminator, frozen with ``requires_grad_(False)`` for that
step; gradients of both costs against central differences of the same costs written in numpy; both networks and
both optimizers saved to files mid-training (the discriminator frozen at that moment) and resumed bit for bit; both
costs plotted over the episodes.

Defects found (fixed): ``check_gradients(lambda w: cost(D), D[0].weights)``, the natural way to check
a cost against a model's weight, passed with "max error 0" whatever the derivatives were: f is called on copies of
its inputs, so an f that uses the weight it closes over gives 0 on both sides; ``model.requires_grad = False`` (the
PyTorch slip, where ``requires_grad_(False)`` was meant) set an attribute that nothing reads and froze nothing.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers_gradients import central_differences
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Op, Value, nn, optim, plots
from tinygrad_edu.testing import GradientCheckError, check_gradients

LEARNING_RATE_G, LEARNING_RATE_D, MOMENTUM = 0.01, 0.05, 0.5


def networks(seed: int = 0) -> tuple[nn.MLP, nn.MLP]:
    generator = nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", init="xavier", rng=seed + 1)
    discriminator = nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", init="xavier", rng=seed + 2)
    return generator, discriminator


def softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def mlp(numbers: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    """A 1-h-1 tanh/identity MLP in numpy: tanh(x W¹ + b¹) W² + b²."""
    w1, b1, w2, b2 = numbers
    return np.tanh(x @ w1 + b1) @ w2 + b2


def discriminator_cost(d: list[np.ndarray], real: np.ndarray, fake: np.ndarray) -> float:
    """−mean ln σ(D(real)) − mean ln(1 − σ(D(fake))), written with softplus."""
    return float(softplus(-mlp(d, real)).mean() + softplus(mlp(d, fake)).mean())


def generator_cost(g: list[np.ndarray], d: list[np.ndarray], noise: np.ndarray) -> float:
    """The non-saturating cost −mean ln σ(D(G(z)))."""
    return float(softplus(-mlp(d, mlp(g, noise))).mean())


def numbers(module: nn.Module) -> list[np.ndarray]:
    return [p.data.copy() for p in module.parameters()]


def gan_round(generator, discriminator, opt_g, opt_d, real, noise):
    """One alternation as a PyTorch user writes it: the discriminator's step on detached fakes, then the generator's
    step through the frozen discriminator.  Returns both costs."""
    opt_d.zero_grad()
    d_cost = F.softplus(-discriminator(real)).mean() + F.softplus(discriminator(generator(noise).detach())).mean()
    d_cost.backward()
    opt_d.step()
    discriminator.requires_grad_(False)
    opt_g.zero_grad()
    g_cost = F.softplus(-discriminator(generator(noise))).mean()
    g_cost.backward()
    opt_g.step()
    discriminator.requires_grad_(True)
    return float(g_cost), float(d_cost)


# ------------------------------------------------------------------------------------------------- defects (fixed)
def test_check_gradients_refuses_an_f_that_uses_the_models_weight_instead_of_its_argument():
    generator, discriminator = networks()
    noise = np.random.default_rng(0).normal(size=(5, 1))
    # a discriminator whose tanh has a wrong derivative: any real check of this cost must fail
    wrong_tanh = Op("wrong_tanh", np.tanh, lambda g, out, x: g * out)
    discriminator[0].activation = wrong_tanh
    with pytest.raises(ValueError, match=r"input 0 \(W\^1\).*not from the argument"):
        check_gradients(lambda w: F.softplus(-discriminator(generator(noise))).mean(), discriminator[0].weights)


def test_check_gradients_catches_the_wrong_derivative_once_f_uses_its_argument():
    """The companion of the test above: with the weight set from the argument inside f, the same wrong tanh fails
    the check, and a right one passes with the numpy cost's differences."""
    generator, discriminator = networks()
    noise = np.random.default_rng(0).normal(size=(5, 1))
    own = discriminator[0].weights

    def f(w: Value) -> Value:
        discriminator[0].weights = w
        return F.softplus(-discriminator(generator(noise))).mean()

    try:
        report = check_gradients(f, own)
        discriminator[0].activation = Op("wrong_tanh", np.tanh, lambda g, out, x: g * out)
        with pytest.raises(GradientCheckError):
            check_gradients(f, own)
    finally:
        discriminator[0].weights = own
    d = numbers(discriminator)
    expected = central_differences(lambda n: generator_cost(numbers(generator), [n[0], *d[1:]], noise), [d[0]])
    np.testing.assert_allclose(report.analytic[0], expected[0], rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("own_class", [False, True], ids=["MLP", "own Module"])
def test_setting_requires_grad_on_a_module_is_refused_with_the_method_to_call(own_class):
    class Discriminator(nn.Module):
        def __init__(self) -> None:
            self.net = networks()[1]

        def forward(self, x):
            return self.net(x)

    discriminator = Discriminator() if own_class else networks()[1]
    with pytest.raises(AttributeError, match=r"requires_grad_\(False\)"):
        discriminator.requires_grad = False
    assert len(discriminator.parameters()) == 4  # nothing was frozen by the refused assignment


# ------------------------------------------------------------------------------------------------- guards
def test_a_gan_round_matches_numpy_gradients_and_the_update_formulas_and_leaves_the_frozen_discriminator_alone():
    rng = np.random.default_rng(5)
    real, noise = rng.normal(3.0, 0.5, size=(8, 1)), rng.normal(size=(8, 1))
    generator, discriminator = networks()
    opt_g = optim.Adam(generator, learning_rate=LEARNING_RATE_G)
    opt_d = optim.SGD(discriminator, learning_rate=LEARNING_RATE_D, momentum=MOMENTUM)
    g0, d0 = numbers(generator), numbers(discriminator)

    # the discriminator's step: its gradient against differences of the numpy cost, the generator given none
    opt_d.zero_grad()
    d_cost = F.softplus(-discriminator(real)).mean() + F.softplus(discriminator(generator(noise).detach())).mean()
    assert float(d_cost) == pytest.approx(discriminator_cost(d0, real, mlp(g0, noise)), rel=1e-12)
    d_cost.backward()
    assert all(p.grad is None for p in generator.parameters())
    d_gradient = central_differences(lambda n: discriminator_cost(n, real, mlp(g0, noise)), [a.copy() for a in d0])
    for p, expected in zip(discriminator.parameters(), d_gradient, strict=True):
        np.testing.assert_allclose(p.grad, expected, rtol=1e-6, atol=1e-9)
    kept = [p.grad.copy() for p in discriminator.parameters()]
    opt_d.step()
    d1 = numbers(discriminator)
    for after, before, g in zip(d1, d0, kept, strict=True):  # SGD's first step: v = ∇C, x − ηv
        np.testing.assert_array_equal(after, before - LEARNING_RATE_D * g)

    # the generator's step through the frozen discriminator: the discriminator keeps its numbers and its gradients
    d_params = discriminator.parameters()
    discriminator.requires_grad_(False)
    assert discriminator.parameters() == []
    opt_g.zero_grad()
    g_cost = F.softplus(-discriminator(generator(noise))).mean()
    assert float(g_cost) == pytest.approx(generator_cost(g0, d1, noise), rel=1e-12)
    g_cost.backward()
    for p, g in zip(d_params, kept, strict=True):
        assert np.array_equal(p.grad, g)  # the discriminator cost's, nothing of the generator cost's added
    g_gradient = central_differences(lambda n: generator_cost(n, d1, noise), [a.copy() for a in g0])
    for p, expected in zip(generator.parameters(), g_gradient, strict=True):
        np.testing.assert_allclose(p.grad, expected, rtol=1e-6, atol=1e-9)
    g_kept = [p.grad.copy() for p in generator.parameters()]
    opt_g.step()
    with pytest.warns(RuntimeWarning, match="all 4 parameters of this optimizer are frozen"):
        opt_d.step()  # a stray step of the frozen discriminator's optimizer, holding gradients, changes nothing
    assert all(np.array_equal(p.data, b) for p, b in zip(d_params, d1, strict=True))
    for p, before, g in zip(generator.parameters(), g0, g_kept, strict=True):  # Adam's first step: η·g/(|g| + ε)
        np.testing.assert_allclose(p.data, before - LEARNING_RATE_G * g / (np.abs(g) + 1e-8), rtol=1e-12, atol=0)


def test_adam_leaves_a_generator_parameter_without_a_gradient_alone_and_moves_one_with_zeros_as_pytorch():
    """None: no step, no step count; zeros (set_to_none=False) after a step: Adam's averages still move it."""
    generator, discriminator = networks()
    noise = np.random.default_rng(1).normal(size=(4, 1))
    opt = optim.Adam(generator, learning_rate=0.1)
    F.softplus(-discriminator(generator(noise))).mean().backward()
    generator[1].biases.grad = None
    bias = generator[1].biases.data.copy()
    opt.step()
    assert np.array_equal(generator[1].biases.data, bias)
    assert "state.3.step_count" not in opt.state_dict()
    weight = generator[0].weights.data.copy()
    m = (1 - 0.9) * generator[0].weights.grad
    v = (1 - 0.999) * generator[0].weights.grad ** 2
    opt.zero_grad(set_to_none=False)
    opt.step()
    m, v = 0.9 * m, 0.999 * v  # the zeros' step
    expected = weight - 0.1 * (m / (1 - 0.9 ** 2)) / (np.sqrt(v / (1 - 0.999 ** 2)) + 1e-8)
    np.testing.assert_allclose(generator[0].weights.data, expected, rtol=1e-12)
    assert generator[1].biases.grad is None and np.array_equal(generator[1].biases.data, bias)
    assert int(opt.state_dict()["state.0.step_count"]) == 2


@given(split=st.integers(1, 5))
def test_both_networks_and_optimizers_saved_to_files_mid_training_resume_bit_for_bit(split, tmp_path_factory):
    """Saved in the generator's step (the discriminator frozen then): nn.load gives it back frozen, model.load into
    a fresh twin keeps the twin's flags; with both optimizers' states and the data generator's, the resumed run is
    the straight one bit for bit, costs included."""
    folder = tmp_path_factory.mktemp("gan")
    rounds = 6

    def run(generator, discriminator, opt_g, opt_d, rng, count, costs, save=None):
        for k in range(count):
            real, noise = rng.normal(3.0, 0.5, size=(8, 1)), rng.normal(size=(8, 1))
            costs.append(gan_round(generator, discriminator, opt_g, opt_d, real, noise))
            if save is not None and k == save:
                discriminator.requires_grad_(False)  # as it is during the generator's step
                generator.save(folder / "generator.npz")
                discriminator.save(folder / "discriminator.npz")
                discriminator.requires_grad_(True)
                np.savez(folder / "opt_g.npz", **opt_g.state_dict())
                np.savez(folder / "opt_d.npz", **opt_d.state_dict())
                state = rng.bit_generator.state
        return state if save is not None else None

    generator, discriminator = networks()
    opt_g = optim.Adam(generator, learning_rate=LEARNING_RATE_G)
    opt_d = optim.SGD(discriminator, learning_rate=LEARNING_RATE_D, momentum=MOMENTUM)
    straight: list[tuple[float, float]] = []
    rng_state = run(generator, discriminator, opt_g, opt_d, np.random.default_rng(0), rounds, straight,
                    save=split - 1)

    assert nn.load(folder / "discriminator.npz").parameters() == []  # frozen, as saved
    twin_g, twin_d = networks(seed=10)
    twin_g.load(folder / "generator.npz")
    twin_d.load(folder / "discriminator.npz")
    assert len(twin_d.parameters()) == 4  # model.load keeps the model's own flags
    resumed_g, resumed_d = optim.Adam(twin_g), optim.SGD(twin_d, learning_rate=1.0)
    resumed_g.load_state_dict(np.load(folder / "opt_g.npz", allow_pickle=False))
    resumed_d.load_state_dict(np.load(folder / "opt_d.npz", allow_pickle=False))
    rng = np.random.default_rng()
    rng.bit_generator.state = rng_state
    rest: list[tuple[float, float]] = []
    run(twin_g, twin_d, resumed_g, resumed_d, rng, rounds - split, rest)
    assert rest == straight[split:]
    for a, b in zip([*generator.parameters(), *discriminator.parameters()],
                    [*twin_g.parameters(), *twin_d.parameters()], strict=True):
        assert np.array_equal(a.data, b.data)


def test_both_costs_plotted_over_the_episodes_are_the_costs_given():
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(2)
    generator, discriminator = networks()
    opt_g, opt_d = optim.Adam(generator, learning_rate=0.01), optim.SGD(discriminator, learning_rate=0.05)
    costs = [gan_round(generator, discriminator, opt_g, opt_d, rng.normal(3.0, 0.5, size=(8, 1)),
                       rng.normal(size=(8, 1))) for _ in range(5)]
    g_costs, d_costs = [c[0] for c in costs], [c[1] for c in costs]
    figure = plots.plot_history({"generator": g_costs, "discriminator": d_costs}, log_scale=False)
    lines = [line for line in figure.axes[0].get_lines() if line.get_label() in ("generator", "discriminator")]
    assert {line.get_label(): list(line.get_ydata()) for line in lines} == {"generator": g_costs,
                                                                          "discriminator": d_costs}
    assert list(lines[0].get_xdata()) == [1, 2, 3, 4, 5]
