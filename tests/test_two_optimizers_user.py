"""An engineer who trains with two optimizers at once: an encoder and a decoder with separate Adams and learning
rates, a GAN-like alternation (the generator's step, the discriminator not stepped, then the discriminator's step on
detached generator outputs), one layer trained by SGD and another by Armijo, and ``fit`` given an optimizer that
holds only part of the model.  Each update is compared with the same update written in numpy; gradients are checked
against finite differences.

Defects found (xfail until fixed): a ``cost=`` computed before *another* optimizer's step changed a parameter the
cost depends on was taken by Armijo and random search as the cost at the current point (Armijo reported an ``f(x)``
that was not the cost there and judged its steps against it; only the optimizer's own parameters were checked, though
the docs promise a ValueError for a cost computed before a parameter last changed), and refused by Newton only in
gradient_and_hessian's words about a stale graph; the README said an optimizer's state saved for other
parameters is refused, but one saved by a second optimizer over parameters of the same shapes loads without a word.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pytest
from helpers_gradients import central_differences
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, fit, losses, nn, optim

README = Path(__file__).resolve().parent.parent / "README.md"


def two_layers(seed: int = 0) -> tuple[nn.Layer, nn.Layer, nn.Network, np.ndarray, np.ndarray]:
    """An encoder layer (tanh) and a decoder layer (identity) in one network, with 16 samples of 2 → 1."""
    rng = np.random.default_rng(seed)
    encoder = nn.Layer(2, 3, "tanh", init="xavier", rng=seed + 1)
    decoder = nn.Layer(3, 1, "identity", init="xavier", rng=seed + 2)
    return encoder, decoder, nn.Network(encoder, decoder), rng.normal(size=(16, 2)), rng.normal(size=(16, 1))


def cost_of(encoder_numbers: list[np.ndarray], decoder_numbers: list[np.ndarray], x: np.ndarray,
            y: np.ndarray) -> float:
    """The network's squared error written in numpy: (1/n) Σ ‖tanh(x W¹ + b¹) W² + b² − y‖²."""
    (w1, b1), (w2, b2) = encoder_numbers, decoder_numbers
    return float((((np.tanh(x @ w1 + b1) @ w2 + b2) - y) ** 2).sum() / len(x))


def numbers(module: nn.Module) -> list[np.ndarray]:
    return [p.data.copy() for p in module.parameters()]


# ---------------------------------------------------------------------------------------------------- defects


def _stepped_by_another_optimizer():
    """The loop that saves a forward pass: compute the cost once, backward, let SGD step the encoder, then hand the
    same cost to the decoder's optimizer.  The SGD step (learning rate 5) raises the cost from 1.63 to 2.51, so the
    cost given is not the cost at the point the decoder's optimizer starts from."""
    encoder, decoder, model, x, y = two_layers()
    inputs = Value(x, requires_grad=False)

    def closure() -> Value:
        return losses.squared_error(model(inputs), y)

    cost = closure()
    cost.backward()
    optim.SGD(encoder, learning_rate=5.0).step()
    assert float(closure()) != pytest.approx(float(cost), rel=0.1)  # the point really moved
    return decoder, closure, cost


@pytest.mark.parametrize("make", [optim.Armijo, lambda p: optim.RandomSearch(p, rng=0), optim.Newton],
                         ids=["Armijo", "RandomSearch", "Newton"])
def test_a_cost_from_before_another_optimizers_step_is_refused(make):
    decoder, closure, stale = _stepped_by_another_optimizer()
    opt = make(decoder)
    before = numbers(decoder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optim.LineSearchWarning)
        with pytest.raises(ValueError, match=rf"^{type(opt).__name__}\.step: cost= was computed before 'b\^1'"):
            opt.step(closure, cost=stale)
    assert all(np.array_equal(p.data, b) for p, b in zip(decoder.parameters(), before, strict=True))


def test_the_readme_does_not_promise_to_refuse_the_other_optimizers_state():
    """Two Adams over layers of the same size (a 4-4 encoder and a 4-4 decoder): their states are interchangeable as
    far as shapes and dtypes can tell, so loading the decoder's file into the encoder's optimizer works; the README
    must not say it is refused."""
    encoder, decoder = nn.Layer(4, 4, rng=0), nn.Layer(4, 4, rng=1)
    model = nn.Network(encoder, decoder)
    for_encoder, for_decoder = optim.Adam(encoder, 0.01), optim.Adam(decoder, 0.001)
    losses.squared_error(model(Value(np.ones((2, 4)), requires_grad=False)), np.zeros((2, 4))).backward()
    for_encoder.step()
    for_decoder.step()
    for_encoder.load_state_dict(for_decoder.state_dict())  # the slip: no error
    assert for_encoder.learning_rate == 0.001
    text = " ".join(README.read_text(encoding="utf-8").split())
    claim = text[text.index("a state of another"):][:400]
    assert "same shapes" in claim, claim


# ---------------------------------------------------------------------------------------------------- guards


def adam_by_hand(numbers_: list[np.ndarray], gradients: list[np.ndarray], state: dict, rate: float,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> list[np.ndarray]:
    """Adam's update written in numpy, ``state`` holding (k, m, v) by position."""
    beta1, beta2 = betas
    updated = []
    for i, (x, g) in enumerate(zip(numbers_, gradients, strict=True)):
        k, m, v = state.get(i, (0, 0.0, 0.0))
        k, m, v = k + 1, beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
        state[i] = (k, m, v)
        updated.append(x - rate * (m / (1 - beta1 ** k)) / (np.sqrt(v / (1 - beta2 ** k)) + eps))
    return updated


@given(seed=st.integers(0, 50), encoder_rate=st.floats(1e-4, 0.5), decoder_rate=st.floats(1e-4, 0.5))
def test_an_encoder_and_a_decoder_with_adams_of_their_own_step_as_numpy_does(seed, encoder_rate, decoder_rate):
    """Each Adam moves its own layer only, by Adam's formula with its own learning rate; the gradients it uses are
    the cost's (finite differences)."""
    encoder, decoder, model, x, y = two_layers(seed)
    for_encoder, for_decoder = optim.Adam(encoder, encoder_rate), optim.Adam(decoder, decoder_rate)
    encoder_state: dict = {}
    decoder_state: dict = {}
    inputs = Value(x, requires_grad=False)
    for step in range(3):
        for_encoder.zero_grad()
        for_decoder.zero_grad()
        losses.squared_error(model(inputs), y).backward()
        e, d = numbers(encoder), numbers(decoder)
        ge, gd = [p.grad.copy() for p in encoder.parameters()], [p.grad.copy() for p in decoder.parameters()]
        if step == 0:
            fd = central_differences(lambda n: cost_of(n[:2], n[2:], x, y), e + d)
            for got, expected in zip(ge + gd, fd, strict=True):
                np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
        for_encoder.step()
        assert all(np.array_equal(p.data, b) for p, b in zip(decoder.parameters(), d, strict=True))
        for_decoder.step()
        for p, expected in zip(encoder.parameters(), adam_by_hand(e, ge, encoder_state, encoder_rate), strict=True):
            np.testing.assert_allclose(p.data, expected, rtol=1e-13, atol=1e-15)
        for p, expected in zip(decoder.parameters(), adam_by_hand(d, gd, decoder_state, decoder_rate), strict=True):
            np.testing.assert_allclose(p.data, expected, rtol=1e-13, atol=1e-15)


def test_zero_grad_forgets_only_the_optimizers_own_gradients_shared_ones_too():
    """As in PyTorch: the decoder's gradients survive the encoder's zero_grad; a Value both optimizers hold loses
    its gradient to either."""
    encoder, decoder, model, x, y = two_layers()
    for_encoder = optim.SGD(encoder, 0.1)
    for_both_biases = optim.SGD([encoder.biases, decoder.biases], 0.1)
    losses.squared_error(model(Value(x, requires_grad=False)), y).backward()
    kept = decoder.weights.grad.copy()
    for_encoder.zero_grad()
    assert encoder.weights.grad is None and encoder.biases.grad is None
    assert np.array_equal(decoder.weights.grad, kept) and decoder.biases.grad is not None
    for_both_biases.zero_grad()
    assert decoder.biases.grad is None and np.array_equal(decoder.weights.grad, kept)


def test_a_gan_like_alternation_detaches_where_meant_and_adds_up_gradients_as_pytorch():
    """Generator G(z) = z·g (a column), discriminator D(u) = σ(u·a + c).  The generator's step leaves the
    discriminator as it was; the discriminator's cost on G(z).detach() gives G no gradient; without the
    discriminator's zero_grad its gradients are the sum of the two costs' (finite differences of that sum)."""
    rng = np.random.default_rng(3)
    z, real = rng.normal(size=(6, 1)), rng.normal(1.0, 0.5, size=(6, 1))
    g = Value(np.array([[0.7]]), label="g")
    a, c = Value(np.array([[1.3]]), label="a"), Value(np.array([0.2]), label="c")
    for_generator, for_discriminator = optim.GradientDescent([g], 0.1), optim.GradientDescent([a, c], 0.05)

    def discriminate(u):
        return (u @ a + c).sigmoid()

    def generator_cost(gn, an, cn):
        return float(-np.log(1 / (1 + np.exp(-(z @ gn @ an + cn)))).mean())

    def discriminator_cost(fake, an, cn):
        d_real, d_fake = (1 / (1 + np.exp(-(u @ an + cn))) for u in (real, fake))
        return float(-(np.log(d_real).mean() + np.log(1 - d_fake).mean()))

    generated = Value(z, requires_grad=False) @ g
    (-discriminate(generated).log().mean()).backward()
    a0, c0, g0 = a.data.copy(), c.data.copy(), g.data.copy()
    generator_gradient = g.grad.copy()
    for_generator.step()
    assert np.array_equal(a.data, a0) and np.array_equal(c.data, c0)
    np.testing.assert_array_equal(g.data, g0 - 0.1 * generator_gradient)

    fake = (Value(z, requires_grad=False) @ g).detach()
    (-(discriminate(Value(real, requires_grad=False)).log().mean() + (1 - discriminate(fake)).log().mean())).backward()
    assert np.array_equal(g.grad, generator_gradient)  # nothing reached G through the detached outputs
    fake_numbers = z @ g.data
    expected = central_differences(
        lambda n: generator_cost(g0, n[0], n[1]) + discriminator_cost(fake_numbers, n[0], n[1]), [a0.copy(), c0.copy()])
    np.testing.assert_allclose(a.grad, expected[0], rtol=1e-6)
    np.testing.assert_allclose(c.grad, expected[1], rtol=1e-6)
    for_discriminator.step()
    np.testing.assert_array_equal(g.data, g0 - 0.1 * generator_gradient)  # the generator stays where it went


def test_armijo_on_one_layer_beside_sgd_on_the_other_judges_the_cost_at_the_current_point():
    """SGD steps the encoder, then Armijo(decoder).step(closure): f(x) is the cost at the encoder SGD left (numpy),
    the decoder moves by exactly −t·∇ (the gradient by finite differences there), the encoder does not move."""
    encoder, decoder, model, x, y = two_layers()
    inputs = Value(x, requires_grad=False)

    def closure() -> Value:
        return losses.squared_error(model(inputs), y)

    sgd, armijo = optim.SGD(encoder, 0.1), optim.Armijo(decoder)
    for _ in range(3):
        sgd.zero_grad()
        closure().backward()
        sgd.step()
        e, d = numbers(encoder), numbers(decoder)
        armijo.step(closure)
        assert armijo.last_cost_before == pytest.approx(cost_of(e, d, x, y), rel=1e-12)
        gradient = central_differences(lambda n, e=e: cost_of(e, n, x, y), [v.copy() for v in d])
        t = armijo.last_step_size
        assert t > 0
        for p, start, g in zip(decoder.parameters(), d, gradient, strict=True):
            np.testing.assert_allclose(p.data, start - t * g, rtol=1e-6, atol=1e-9)
        assert all(np.array_equal(p.data, v) for p, v in zip(encoder.parameters(), e, strict=True))
        assert armijo.last_cost == pytest.approx(cost_of(e, numbers(decoder), x, y), rel=1e-12)
        assert armijo.last_cost <= armijo.last_cost_before


def test_both_optimizers_states_round_trip_through_files_and_resume_bit_for_bit():
    encoder, decoder, model, x, y = two_layers()
    inputs = Value(x, requires_grad=False)
    optimizers = optim.SGD(encoder, 0.05, momentum=0.9), optim.Adam(decoder, 0.01)

    def train(model, optimizers, steps):
        for _ in range(steps):
            for opt in optimizers:
                opt.zero_grad()
            losses.squared_error(model(inputs), y).backward()
            for opt in optimizers:
                opt.step()

    train(model, optimizers, 3)
    files = []
    for opt in optimizers:
        file = io.BytesIO()
        np.savez(file, **opt.state_dict())
        file.seek(0)
        files.append(file)
    twin_encoder, twin_decoder, twin, _, _ = two_layers(seed=7)  # other numbers, loaded below
    twin.load_state_dict(model.state_dict())
    resumed = optim.SGD(twin_encoder, 1.0), optim.Adam(twin_decoder)
    for opt, file in zip(resumed, files, strict=True):
        opt.load_state_dict(np.load(file, allow_pickle=False))
    train(model, optimizers, 4)
    train(twin, resumed, 4)
    for p, q in zip(model.parameters(), twin.parameters(), strict=True):
        assert np.array_equal(p.data, q.data)


def test_fit_with_an_optimizer_of_one_layer_is_the_loop_written_by_hand():
    """fit(model, optimizer=Adam(decoder)) trains the decoder as a hand-written loop does, leaves the encoder where
    it was, and (as its docstring says) lets the encoder's gradients add up over the episodes."""
    encoder, decoder, model, x, y = two_layers()
    history = fit(model, x, y, optimizer=optim.Adam(decoder, 0.05), episodes=4, progress=False)
    by_hand_encoder, by_hand_decoder, _, _, _ = two_layers()
    e = numbers(by_hand_encoder)
    d, state, costs, encoder_sum = numbers(by_hand_decoder), {}, [], [np.zeros_like(v) for v in e]
    for _ in range(4):
        costs.append(cost_of(e, d, x, y))
        ge = central_differences(lambda n, d=d: cost_of(n, d, x, y), [v.copy() for v in e])
        gd = central_differences(lambda n: cost_of(e, n, x, y), [v.copy() for v in d])
        encoder_sum = [s + g for s, g in zip(encoder_sum, ge, strict=True)]
        d = adam_by_hand(d, gd, state, 0.05)
    np.testing.assert_allclose(history.cost, costs, rtol=1e-9)  # (Adam from difference quotients)
    assert all(np.array_equal(p.data, v) for p, v in zip(encoder.parameters(), e, strict=True))
    for p, v in zip(decoder.parameters(), d, strict=True):
        np.testing.assert_allclose(p.data, v, rtol=1e-6, atol=1e-8)
    for p, s in zip(encoder.parameters(), encoder_sum, strict=True):
        np.testing.assert_allclose(p.grad, s, rtol=1e-6, atol=1e-8)


def test_fit_names_the_frozen_parameters_when_the_optimizers_part_was_frozen_after_it_was_built():
    encoder, _, model, x, y = two_layers()
    opt = optim.SGD(encoder, 0.1)
    encoder.requires_grad_(False)
    with pytest.raises(ValueError, match=r"does not depend on any of the optimizer's 2 parameters.*2 of them are "
                                         r"frozen \(requires_grad=False\)"):
        fit(model, x, y, optimizer=opt, episodes=1, progress=False)


def test_fit_on_a_sub_model_with_the_whole_models_optimizer_trains_only_the_sub_model():
    """The decoder fitted on the encoder's outputs, by an optimizer built from the whole network: no replaced-layer
    error (the encoder's Values are the optimizer's, not the decoder's, and no decoder Value is left out), the encoder
    unchanged, the decoder as a hand-written gradient descent."""
    encoder, decoder, model, x, y = two_layers()
    features = np.tanh(x @ encoder.weights.data + encoder.biases.data)
    e, d = numbers(encoder), numbers(decoder)
    fit(decoder, features, y, optimizer=optim.GradientDescent(model, 0.2), episodes=2, progress=False)
    for _ in range(2):
        gd = central_differences(lambda n: cost_of(e, n, x, y), [v.copy() for v in d])
        d = [v - 0.2 * g for v, g in zip(d, gd, strict=True)]
    assert all(np.array_equal(p.data, v) for p, v in zip(encoder.parameters(), e, strict=True))
    for p, v in zip(decoder.parameters(), d, strict=True):
        np.testing.assert_allclose(p.data, v, rtol=1e-7, atol=1e-9)


def test_the_module_docstring_says_which_optimizers_refuse_a_stale_cost():
    """Gradient descent steps twice with one cost= and its gradient (as PyTorch's step takes the gradients it finds):
    no ValueError, so the docstring must say the refusal is Armijo's, random search's and Newton's."""
    x = Value([1.0, 2.0])
    cost = (x * x).sum()
    cost.backward()
    opt = optim.GradientDescent([x], 0.1)
    opt.step(lambda: (x * x).sum(), cost=cost)
    with pytest.warns(RuntimeWarning, match="hold the gradients the previous step used"):
        opt.step(lambda: (x * x).sum(), cost=cost)  # the stale cost: taken, with a warning
    np.testing.assert_allclose(x.data, [1.0 - 2 * 0.2, 2.0 - 4 * 0.2])  # twice the first gradient (2, 4)
    text = " ".join(optim.__doc__.split())
    rule = text[text.index("``step(closure, cost=c)``"):][:700]
    assert "for Armijo, random search and Newton" in rule, rule
