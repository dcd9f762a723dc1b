"""A teacher who writes notebooks of their own with the public API (forward propagation of a 2-3-1 network and the
dependency tree, gradient descent against Armijo with plots, checking a function of their own with check_gradients
and hypothesis), runs them from a fresh kernel with nbclient and looks at what each cell shows.

A notebook's cells run out of order: a drawing cell run again after a training cell draws a cost computed before
the training, whose boxes show the trained weights beside the activations of the old ones."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, losses, nn, optim, viz
from tinygrad_edu.testing.strategies import arrays

ROOT = Path(__file__).resolve().parent.parent


def _executed(cells: list[str], cwd: Path, allow_errors: bool = False):
    """The notebook of ``cells`` run from a fresh kernel that imports this checkout, as Jupyter would (no
    MPLBACKEND)."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    if importlib.util.find_spec("ipykernel") is None:
        pytest.skip("ipykernel is not installed (pip install '.[dev]')")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in cells])
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3", allow_errors=allow_errors,
                                     resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return [cell.outputs for cell in notebook.cells]


@pytest.fixture
def kernel_environment(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.delenv("MPLBACKEND", raising=False)


def _stale_chain() -> tuple[nn.MLP, Value]:
    """A 1-1-1 network's cost, backpropagated, and then one step of gradient descent: the cost's graph is stale."""
    net = nn.MLP([1, 1, 1], rng=0)
    cost = losses.squared_error(net(np.array([0.5])), np.array([0.25]))
    cost.backward()
    optim.GradientDescent(net, learning_rate=5.0).step()
    return net, cost


# --- draw_graph of a cost computed before a step ---------------------------------------------------------------
def test_a_stale_graph_really_mixes_old_and_new_numbers():
    """What the drawing's boxes show after the step: W¹ the new weight, W¹·α⁰ still the old product."""
    net, cost = _stale_chain()
    weights, stack, product = net.layers[0].weights, [cost], None
    while stack:  # the matmul W¹·α⁰ in the cost's graph
        node = stack.pop()
        if node.op == "matmul" and any(parent is weights for parent in node.parents):
            product = node
        stack.extend(parent for parent in node.parents if isinstance(parent, Value))
    assert product is not None
    assert not np.allclose(product.data, 0.5 * weights.data)  # the box of W¹·α⁰ is not 0.5 · the box of W¹


def test_draw_graph_of_a_stale_cost_says_so_in_its_key():
    _, cost = _stale_chain()
    key = viz.draw_graph(cost).graph_attr["label"]
    assert "stale" in key and "b²" in key  # the last parameter the step changed that the graph used


def test_draw_graph_of_a_fresh_cost_has_no_stale_note():
    net, _ = _stale_chain()
    cost = losses.squared_error(net(np.array([0.5])), np.array([0.25]))  # computed again after the step
    cost.backward()
    assert "stale" not in viz.draw_graph(cost).graph_attr["label"]
    assert "stale" not in viz.draw_graph(cost, show_grad=False).graph_attr["label"]


def test_a_drawing_cell_run_after_a_training_cell_says_the_graph_is_stale(tmp_path, kernel_environment):
    outputs = _executed([
        "import numpy as np\nfrom tinygrad_edu import nn, optim, losses, viz\n"
        "net = nn.MLP([1, 1, 1], rng=0)\n"
        "cost = losses.squared_error(net(np.array([0.5])), np.array([0.25]))\ncost.backward()",
        "viz.draw_graph(cost)",
        "optim.GradientDescent(net, learning_rate=5.0).step()",  # the training cell
        "viz.draw_graph(cost)",  # the drawing cell, run again
    ], tmp_path)
    before, after = outputs[1], outputs[3]
    assert len(before) == len(after) == 1  # one picture each, nothing on stderr
    assert "stale" not in before[0]["data"]["image/svg+xml"]
    assert "stale: b² was changed in place" in after[0]["data"]["image/svg+xml"]


# --- the teacher's three notebooks, in small ----------------------------------------------------------------
def test_the_teachers_cells_show_one_clean_output_each(tmp_path, kernel_environment):
    """Forward propagation of a 2-3-1 network against σ(W·α + b) written in numpy, its drawing, the chain's
    dependency tree, gradient descent against Armijo in one plot, and check_gradients inside a hypothesis test: each
    cell shows one picture or one repr, and nothing on stderr (no warning, no progress bar with progress=False)."""
    outputs = _executed([
        "import numpy as np\nfrom tinygrad_edu import nn, optim, fit, losses, plots, viz\n"
        "from tinygrad_edu.data import xsquared\nfrom tinygrad_edu.testing import check_gradients\n"
        "from tinygrad_edu.testing.strategies import arrays\nfrom hypothesis import given, settings",
        "net = nn.MLP([2, 3, 1], activation='sigmoid', rng=0)\nx = np.array([0.5, -1.0])\n"
        "sigma = lambda z: 1 / (1 + np.exp(-z))\n"
        "(W1, b1), (W2, b2) = [(layer.weights.data, layer.biases.data) for layer in net.layers]\n"
        "assert np.allclose(net(x).data, sigma(sigma(x @ W1 + b1) @ W2 + b2), rtol=1e-12)\nnet(x)",
        "viz.draw_network(net)",
        "cost = losses.squared_error(net(x), np.array([0.25]))\ncost.backward()\nviz.draw_dependency_tree(cost)",
        "chain = nn.MLP([1, 1, 1], rng=0)\nc = losses.squared_error(chain(np.array([0.5])), np.array([0.25]))\n"
        "c.backward()\nviz.draw_dependency_tree(c)",
        "x2, y2 = xsquared(50, seed=0)\nruns = []\nfor make in (lambda n: optim.GradientDescent(n, learning_rate=0.5),"
        " optim.Armijo):\n    n = nn.MLP([1, 4, 1], output_activation='identity', rng=0)\n"
        "    runs.append(fit(n, x2, y2, optimizer=make(n), episodes=20, progress=False))\n"
        "plots.plot_history(runs, labels=['gradient descent', 'Armijo'])",
        "check_gradients(lambda x, w: (x * w).tanh().sum() + (w ** 2).mean(), np.array([0.3, -0.2]),"
        " np.array([1.0, 2.0]))",
        "@settings(max_examples=10, deadline=None)\n@given(arrays(shape=3, avoid=(0.0,)))\ndef test_mine(x):\n"
        "    check_gradients(lambda v: (v.relu() * v.sigmoid()).sum(), x)\ntest_mine()",
    ], tmp_path, allow_errors=True)
    assert outputs[0] == []
    value = outputs[1]
    assert [o["output_type"] for o in value] == ["execute_result"], value
    assert value[0]["data"]["text/plain"].startswith("Value(data=[") and "text/html" in value[0]["data"]
    assert [list(o["data"]) for o in outputs[2]] == [["image/svg+xml", "text/plain"]]
    refused = outputs[3]  # the tree is the seed's, of one neuron per layer: a clear refusal, naming what to use
    assert [o["output_type"] for o in refused] == ["error"] and refused[0]["ename"] == "ValueError"
    assert "(3, 1)" in refused[0]["evalue"] and "draw_graph" in refused[0]["evalue"]
    assert [list(o["data"]) for o in outputs[4]] == [["image/svg+xml", "text/plain"]]
    assert "∂C/∂W¹" in outputs[4][0]["data"]["image/svg+xml"]
    plot = outputs[5]
    assert [o["output_type"] for o in plot] == ["execute_result"] and "image/png" in plot[0]["data"], plot
    assert outputs[6][0]["data"]["text/plain"].startswith("GradientReport(ok, 2 input(s), 4 element(s)")
    assert outputs[7] == []


# --- the function of the teacher's own, checked against its closed form ---------------------------------------
@given(arrays(shape=st.integers(1, 4).map(lambda n: (n,)), min_value=-2.0, max_value=2.0),
       st.floats(-2.0, 2.0))
def test_the_teachers_function_has_its_closed_form_gradient(x, w0):
    """f(x, w) = Σ tanh(x·w) + mean(w²): ∂f/∂x = w·(1 − tanh²(x·w)), ∂f/∂w = x·(1 − tanh²(x·w)) + 2w/n."""
    w_data = np.full(x.shape, w0) + np.arange(x.size) * 0.25
    xv, wv = Value(x), Value(w_data)
    ((xv * wv).tanh().sum() + (wv ** 2).mean()).backward()
    slope = 1 - np.tanh(x * w_data) ** 2
    np.testing.assert_allclose(xv.grad, w_data * slope, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(wv.grad, x * slope + 2 * w_data / x.size, rtol=1e-12, atol=1e-15)
