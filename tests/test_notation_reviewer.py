"""A reviewer of mathematical notation: the same symbol for the same thing across README, docstrings, drawings,
the player, plots and error messages, checked on real networks.

The seed writes σ(W·α + b) with layers as superscripts (α⁰ the input), the cost C = Σ_j (y_j − y'_j)², and uses σ
and α again for Armijo's constants (t = αˡ).  The code stores W as (in_size, out_size), a sample as a row.
"""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Value, losses, nn, optim, viz
from tinygrad_edu import dependency_tree as dependency_tree_module
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.notation import pretty

ROOT = Path(__file__).resolve().parents[1]


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _text(html: str) -> str:
    """A player step's text, without its tags."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#x27;", "'").strip()


def _forward_formulas(cost: Value, layout: str = "tree") -> list[str]:
    """The formula of every forward step of the player, as the page shows it (``C = …``)."""
    player = viz.backprop_player(cost, layout=layout)
    return [_text(step.html).split(" from ")[0] for step in player.steps if step.phase == "forward"]


def _chain_network(layers: int = 3) -> nn.Network:
    """The seed's chain network, one sigmoid neuron per layer, with fixed numbers."""
    net = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(layers)])
    for i, layer in enumerate(net, start=1):
        layer.weights.data[...] = 0.3 * i
        layer.biases.data[...] = 0.1 * i
    return net


# --- defects ---------------------------------------------------------------------------------------------------------
def test_optimizer_errors_name_the_parameter_as_the_drawings_label_it():
    net = nn.MLP([1, 3, 1], rng=0)
    x, y = np.array([[0.5], [-0.5]]), np.array([[0.25], [0.25]])
    names = [name for name, _ in net.named_parameters()]
    labels = [p.label for p in net.parameters()]
    # what the messages must say: the label of the parameter at that position, whose layer is the one its name counts
    assert [int(name.split(".")[1]) for name in names] == [int(label.split("^")[1]) for label in labels]

    opt = optim.Armijo(net)
    closure = lambda: losses.squared_error(net(x), y)  # noqa: E731
    cost = closure()
    cost.backward()
    opt.step(closure, cost=cost)
    with pytest.raises(ValueError) as stale:
        opt.step(closure, cost=cost)  # the cost of a point that is gone
    assert f"parameter 0 ({labels[0]!r}, shape (1, 3))" in str(stale.value)

    net.zero_grad()
    losses.squared_error(net(x), y).backward()
    net.layers[0].biases.grad = np.ones(5)  # a gradient of another shape, on b¹
    with pytest.raises(ValueError) as wrong:
        optim.GradientDescent(net, learning_rate=0.1).step()
    assert f"parameter 1 ({labels[1]!r}, shape (3,)) has a grad of shape (5,)" in str(wrong.value)
    assert labels[1] == "b^1"


def test_player_formulas_have_one_pair_of_brackets_around_a_function_argument():
    for function, formula in ((lambda u: u.sigmoid(), "C = σ(w · x + b)"), (abs, "C = |w · x + b|"),
                              (lambda u: u.relu(), "C = max(w · x + b, 0)")):  # (the seed's σ(w·x + b))
        w, b = Value(0.5, label="w"), Value(0.1, label="b")
        x = Value(2.0, requires_grad=False, label="x")
        cost = function(w * x + b)
        cost.label = "C"
        assert _forward_formulas(cost) == [formula]

    # the seed's chain network with PyTorch's cost: the player's last step, and what it claims, computed
    net = _chain_network(2)
    prediction = net(np.array([0.5]))
    formulas = _forward_formulas(losses.mean_squared_error(prediction, np.array([0.2])))
    assert formulas[-1] == "C = Σ(α² − 0.2)²"  # (one number: the squared_error op, the mean of one square)
    assert float(losses.mean_squared_error(prediction, np.array([0.2]))) == pytest.approx(
        float(np.mean((prediction.data - 0.2) * (prediction.data - 0.2))), rel=1e-15)
    assert all(formula.count("(") == formula.count(")") for formula in formulas)


def test_the_tree_the_docstrings_state_is_the_tree_drawn_for_a_real_chain_network():
    net = _chain_network(3)
    cost = losses.squared_error(net(np.array([0.5])), np.array([0.25]))
    tree = dependency_tree(cost)
    drawn = [edge.parent for edge in tree.edges if edge.child == "z^3"]  # z³'s inputs, in the drawing's order
    assert [pretty(name) for name in drawn] == ["W³", "α²", "b³"]
    assert [edge.formula for edge in tree.edges if edge.child == "z^3"] == ["α²", "W³", "1"]
    for doc in (viz.__doc__, viz.draw_dependency_tree.__doc__, dependency_tree_module.__doc__):
        stated = re.search(r"C ← α\^L ← z\^L ← \(([^)]*\)[^)]*)\)", doc).group(1)
        at_three = [pretty(name.strip().replace("(L−1)", "2").replace("L", "3")) for name in stated.split(", ")]
        assert at_three == ["W³", "α²", "b³"], doc
    # the local derivatives the docstring of draw_dependency_tree states, at L = 3, are the drawn ones
    doc = viz.draw_dependency_tree.__doc__
    for symbol, formula in re.findall(r"``(∂z\^L/∂[^ ]+) = ([^`]+)``", doc):
        symbol = pretty(symbol.replace("(L−1)", "2").replace("L", "3"))
        (edge,) = [e for e in tree.edges if e.symbol == symbol]
        assert edge.formula == pretty(formula.replace("(L−1)", "2").replace("L", "3")), symbol


def _armijo_notebook_intro() -> str:
    notebook = json.loads((ROOT / "notebooks" / "04_gradient_descent_and_armijo.ipynb").read_text(encoding="utf-8"))
    return "".join(notebook["cells"][0]["source"])


def test_armijo_sigma_and_alpha_are_told_apart_from_the_activation_function_and_the_activations():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    texts = {"optim.Armijo": optim.Armijo.__doc__, "optim.armijo_step": optim.armijo_step.__doc__,
             "README": readme, "notebook 4": _armijo_notebook_intro()}
    for where, text in texts.items():
        flat = re.sub(r"\s+", " ", text).replace("$\\sigma$", "σ").replace("$\\alpha^l$", "α^l")
        assert re.search(r"not the activation function σ", flat), where
        assert re.search(r"activations? α\^l", flat), where
    # and the names the docs give them are the optimizer's keywords, checked as the seed bounds them: ]0, 1[
    armijo = optim.Armijo([Value([1.0])], sigma=0.25, alpha=0.5)
    assert (armijo.sigma, armijo.alpha) == (0.25, 0.5)
    with pytest.raises(ValueError, match="sigma"):
        optim.Armijo([Value([1.0])], sigma=1.0)


def test_plot_learning_rates_names_its_axes_as_plot_descent_does():
    pytest.importorskip("matplotlib")
    f = lambda p: p[0] ** 2 + 10 * p[1] ** 2  # noqa: E731
    descent = plots_module().plot_descent(f, [-1.5, 0.8], 0.05, steps=3, resolution=8, parameter_names=("w", "b"))
    assert (descent.axes[0].get_xlabel(), descent.axes[0].get_ylabel()) == ("w", "b")
    figure = plots_module().plot_learning_rates(f, [-1.5, 0.8], {"η = 0.05": 0.05}, steps=3, resolution=8,
                                                parameter_names=("w", "b"))
    contours = figure.axes[:2]  # η = 0.05 and Armijo; then the cost per step (and no colour bars)
    assert [(ax.get_xlabel(), ax.get_ylabel()) for ax in contours] == [("w", "b"), ("w", "b")]
    assert figure.axes[2].get_xlabel() == "step k"


def plots_module():
    import matplotlib

    matplotlib.use("Agg")
    from tinygrad_edu import plots

    return plots


# --- guards ----------------------------------------------------------------------------------------------------------
def test_the_player_writes_the_code_s_row_convention_and_the_shapes_are_the_documented_ones():
    """README: weights (in_size, out_size), a sample a row, ``α @ W`` the seed's ``W·α`` row by row.  The player
    writes the layer's product as the code computes it, and the numbers are both forms'."""
    net = nn.MLP([2, 3, 1], rng=0)
    x = np.array([[0.5, -0.2], [0.1, 0.3], [-1.0, 0.4], [0.0, 0.9]])
    prediction = net(x)
    cost = losses.squared_error(prediction, np.zeros((4, 1)))
    assert net.layers[0].weights.shape == (2, 3) and net.layers[0].biases.shape == (3,)
    formulas = _forward_formulas(cost, layout="graph")
    assert formulas[0] == "matmul₁ = α⁰ @ W¹" and formulas[1] == "z¹ = matmul₁ + b¹" and formulas[2] == "α¹ = σ(z¹)"
    W, b = net.layers[0].weights.data, net.layers[0].biases.data
    by_rows = _sigmoid(x @ W + b)
    seed_form = np.stack([_sigmoid(W.T @ alpha + b) for alpha in x])  # σ(W_seed·α + b), W_seed = Wᵀ (3 × 2)
    by_loops = np.array([[_sigmoid(sum(alpha[k] * W[k, j] for k in range(2)) + b[j]) for j in range(3)]
                         for alpha in x])  # α¹_j = σ(Σ_k α⁰_k · w_{k;j} + b_j), as nn's docstring writes it
    hidden = net.layers[0](x).data
    np.testing.assert_allclose(hidden, by_rows, rtol=1e-14)
    np.testing.assert_allclose(hidden, seed_form, rtol=1e-14)
    np.testing.assert_allclose(hidden, by_loops, rtol=1e-14)


def test_the_squared_error_is_written_as_computed_a_sum_per_sample_averaged_over_the_samples():
    """The player writes a batch's cost Σ(α − y′)²/n with n the number of samples (not ½, not the number of
    elements), and its local derivative 2(α − y′)/n; both hold for 4 samples of 3 outputs."""
    net = nn.MLP([2, 3], rng=1)
    x, y = np.linspace(-1, 1, 8).reshape(4, 2), np.linspace(0, 1, 12).reshape(4, 3)
    y_value = Value(y, requires_grad=False, label="y′")
    prediction = net(x)
    cost = losses.squared_error(prediction, y_value)
    cost.backward()
    assert _forward_formulas(cost, layout="graph")[-1] == "C = Σ(α¹ − y′)²/4"
    out = prediction.data
    assert float(cost) == pytest.approx(np.sum((out - y) ** 2) / 4, rel=1e-14)
    assert float(cost) == pytest.approx(3 * float(losses.mean_squared_error(out, y)), rel=1e-14)
    player = viz.backprop_player(cost, layout="graph")
    (step,) = [s for s in player.steps if s.phase == "backward" and s.title.endswith("∂C/∂α¹")]
    assert "∂C/∂α¹ = 2(α¹ − y′)/4" in _text(step.html)
    np.testing.assert_allclose(prediction.grad, 2 * (out - y) / 4, rtol=1e-14)
