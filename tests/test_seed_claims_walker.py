"""The seed walked section by section against the README's "From the seed to the code" and the docstrings citing it.

The seed is the assignment *Understanding the Math behind Neural Networks*.  What it says, quoted where a test
relies on it:

- section 3: the ``Layer`` snippet stores ``self.weights = np.random.rand(in_size, out_size)`` (commented "Weights
  matrix"), while the text writes the layer as ``σ(W_i · α_{i−1} + b_i)``: W_i there has one row per neuron, the
  transpose of the snippet's array.
- section 5: "an array with 1000 randomly generated sample values between 0 and 1"; f : [−1, 1] → R, x ↦ x².
- section 6.3: "∂α^L/∂z^L = σ(z^L)" and "∂C/∂α^L = 2(α^(L−1))" (misprints of σ′(z^L) and 2(α^L − y′)), repeated in
  its ∂C/∂w_3 and ∂C/∂b_3; σ is "some activation function"; "z^(L−1)'s influence on α^L" (z^L meant).
- section 7.1: one update per episode with the gradients averaged over all samples; section 7.3 says nothing of
  how often its companion code updated.

Expected numbers come from closed forms or central differences, never from the package itself.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu.dependency_tree as dependency_tree_module
from tinygrad_edu import Value, data, demo, nn, optim, player
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.losses import squared_error
from tinygrad_edu.training import fit

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + np.exp(-z))


def _paragraph(text: str, start: str) -> str:
    """The paragraph of ``text`` that holds ``start``."""
    return next(p for p in text.split("\n\n") if start in p)


# --- defects ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("doc", [dependency_tree_module.__doc__, player.local_formula.__doc__],
                         ids=["dependency_tree", "player.local_formula"])
def test_docstrings_crediting_the_seed_with_the_local_derivatives_say_it_misprints_them(doc: str | None) -> None:
    doc = doc or ""
    assert "σ′(z)" in doc and "2(α − y′)" in doc and "seed" in doc  # the claim is there
    assert "misprint" in doc  # and says that the seed's own text reads σ(z) and 2(α^(L−1))


def test_readme_correction_of_section_6_3_holds_for_any_activation() -> None:
    paragraph = _paragraph(README, "∂α^L/∂z^L = σ(z^L)").replace("'", "′")
    # σ′(z) = σ(z)(1 − σ(z)) is the sigmoid's identity; tanh′(z) = 1 − tanh²(z) is not σ(z)(1 − σ(z))
    z = 0.3
    assert not np.isclose(1 - np.tanh(z) ** 2, np.tanh(z) * (1 - np.tanh(z)))
    assert "σ′(z^L) = σ(z^L)(1 − σ(z^L))" not in paragraph
    assert "sigmoid" in paragraph  # the identity, if given, is named as the sigmoid's


def test_readme_names_every_slip_of_section_6_3() -> None:
    paragraph = _paragraph(README, "∂α^L/∂z^L = σ(z^L)").replace("'", "′")
    assert "Two formulas" not in paragraph
    assert "∂C/∂w_3" in paragraph and "∂C/∂b_3" in paragraph
    assert "z^(L−1)" in paragraph


def test_matmul_error_for_the_seeds_order_says_what_w_is_the_transpose_of() -> None:
    seed_weights = np.random.default_rng(0).random((3, 2))  # the seed's np.random.rand(in_size, out_size)
    layer = nn.Layer(3, 2, "sigmoid", rng=0)
    assert layer.weights.shape == seed_weights.shape  # the same shape as the seed's snippet stores
    with pytest.raises(ValueError, match=r"^matmul: shapes \(3, 2\) and \(3,\) are not aligned") as caught:
        Value(seed_weights) @ Value(np.ones(3))
    message = str(caught.value)
    assert "α @ W" in message
    assert "formula" in message  # the transpose of the W in the seed's formula W·α, not of its Layer's weights


def test_layer_docstring_says_its_weights_have_the_seeds_layer_shape() -> None:
    first = (nn.Layer.__doc__ or "").split("\n\n")[0]
    assert "transpose of the seed's" in first
    assert "np.random.rand(in_size, out_size)" in first


def test_readme_says_which_of_the_seeds_weights_matrices_w_transposes() -> None:
    paragraph = _paragraph(README, "`nn.Layer` is the seed's class")
    assert "transpose of the seed's weights matrix" in paragraph
    assert "formula" in paragraph  # the seed's formula W·α (one row per neuron), against its snippet's array


def test_demo_docstring_credits_per_sample_updates_to_the_companion_code() -> None:
    doc = " ".join((demo.__doc__ or "").split())
    sentence = next(s for s in re.split(r"(?<=;)|(?<=:)\s", doc) if "after every sample" in s)
    assert "companion code" in sentence, sentence


def test_xsquared_docs_say_the_seed_itself_drew_samples_between_0_and_1() -> None:
    doc = " ".join((data.xsquared.__doc__ or "").split())
    assert "section 5" in doc and "between 0 and 1" in doc
    readme = " ".join(_paragraph(README, "- `xsquared(n=1000").split())
    assert "between 0 and 1" in readme


# --- guards ----------------------------------------------------------------------------------------------------

def test_tree_edges_are_the_corrected_chain_rule_of_section_6_3() -> None:
    """One sigmoid neuron per layer, one sample: the tree's numbers are σ′(z) = σ(z)(1 − σ(z)) and 2(α^L − y′), not
    the seed's misprinted σ(z^L) and 2(α^(L−1)), and their product is ∂C/∂w_3 as central differences measure it."""
    net = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(3)])
    x, target = 0.5, 0.25
    cost = squared_error(net(np.array([x])), np.array([target]))
    cost.backward()
    w = [layer.weights.data.item() for layer in net]
    b = [layer.biases.data.item() for layer in net]

    def forward(w3: float) -> tuple[float, list[float], list[float]]:
        a, zs, activations = x, [], [x]
        for i, (wi, bi) in enumerate(zip(w, b, strict=True)):
            z = (w3 if i == 2 else wi) * a + bi
            a = _sigmoid(z)
            zs.append(z)
            activations.append(a)
        return (a - target) ** 2, zs, activations

    c, zs, activations = forward(w[2])
    edges = {(e.parent, e.child): e for e in dependency_tree(cost).edges}
    np.testing.assert_allclose(edges["α^3", "C"].number, 2 * (activations[3] - target), rtol=1e-12)
    np.testing.assert_allclose(edges["z^3", "α^3"].number, _sigmoid(zs[2]) * (1 - _sigmoid(zs[2])), rtol=1e-12)
    np.testing.assert_allclose(edges["W^3", "z^3"].number, activations[2], rtol=1e-12)
    assert not np.isclose(edges["z^3", "α^3"].number, _sigmoid(zs[2]))  # the misprint would differ
    assert not np.isclose(edges["α^3", "C"].number, 2 * activations[2])
    h = 1e-6
    numeric = (forward(w[2] + h)[0] - forward(w[2] - h)[0]) / (2 * h)
    np.testing.assert_allclose(net[2].weights.grad.item(), numeric, rtol=1e-7)
    np.testing.assert_allclose(cost.item(), c, rtol=1e-12)


def test_full_batch_gradient_descent_is_the_learning_algorithm_of_section_7_1() -> None:
    """One episode of fit with a fixed η is the seed's listing with its slips fixed: ∇C_all from 0, the per-sample
    gradients (of C = (y − y′)², by hand) summed, then w ← w − η ∇C_all / n."""
    x = np.array([[0.1], [0.5], [-1.0], [0.01]])
    y = x ** 2
    layer = nn.Layer(1, 1, "sigmoid", rng=3)
    w, b, eta = layer.weights.data.item(), layer.biases.data.item(), 0.7
    for _ in range(2):  # two episodes: the sum starts from 0 in each
        grad_w = grad_b = 0.0
        for xs, ys in zip(x[:, 0], y[:, 0], strict=True):
            a = _sigmoid(w * xs + b)
            delta = 2 * (a - ys) * a * (1 - a)
            grad_w += delta * xs
            grad_b += delta
        w, b = w - eta * grad_w / len(x), b - eta * grad_b / len(x)
    fit(layer, x, y, optimizer=optim.GradientDescent(layer, learning_rate=eta), episodes=2, progress=False)
    np.testing.assert_allclose([layer.weights.data.item(), layer.biases.data.item()], [w, b], rtol=1e-12)


def test_armijo_takes_the_largest_power_of_alpha_the_seeds_condition_allows() -> None:
    """Seed 6.2.1 step (ii) on f(x) = x⁴ at x = 1 (∇f = 4, d = −4), σ = 0.1, α = 0.3: t = αˡ for the smallest l with
    f(1 − 4t) ≤ 1 − σ·t·16, found by hand from the same inequality."""
    sigma, alpha = 0.1, 0.3
    expected = next(alpha ** k for k in range(60) if (1 - 4 * alpha ** k) ** 4 <= 1 - sigma * alpha ** k * 16)
    p = Value([1.0])
    opt = optim.Armijo([p], sigma=sigma, alpha=alpha)
    opt.step(lambda: (p ** 4).sum())
    assert opt.last_step_size == pytest.approx(expected, rel=1e-15)
    np.testing.assert_allclose(p.data, [1 - 4 * expected], rtol=1e-15)


def test_fit_stops_at_the_seeds_rule_where_the_gradient_is_exactly_zero() -> None:
    """Step 1.2, ‖∇f(x^k)‖ = 0: an identity neuron already at y = 2x + 1 has ∇C = 0 exactly; fit(tol=0) stops in
    the first episode without an update, for Armijo as for a fixed η."""
    x = np.array([[0.0], [1.0], [2.0]])
    for make in (optim.Armijo, lambda layer: optim.GradientDescent(layer, learning_rate=0.5)):
        layer = nn.Layer(1, 1, "identity", rng=0)
        layer.weights.data[...] = 2.0
        layer.biases.data[...] = 1.0
        history = fit(layer, x, 2 * x + 1, optimizer=make(layer), episodes=5, tol=0, progress=False)
        assert history.stopped == "tol" and history.episodes == 1
        assert layer.weights.data.item() == 2.0 and layer.biases.data.item() == 1.0


def test_squared_error_is_the_seeds_sum_over_outputs_without_a_half_averaged_over_samples() -> None:
    """Section 5: C = Σ_j (y_j − y′_j)² per sample (no ½), averaged over samples (7.1), on numbers by hand."""
    prediction = np.array([[0.5, 1.0, -1.0], [0.0, 2.0, 0.25]])
    target = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    per_sample = [0.25 + 0.0 + 4.0, 1.0 + 4.0 + 0.0625]
    assert squared_error(Value(prediction), target).item() == pytest.approx(np.mean(per_sample), rel=1e-15)
    assert squared_error(Value(prediction[0]), target[0]).item() == pytest.approx(per_sample[0], rel=1e-15)
