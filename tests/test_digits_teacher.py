"""A teacher of seed sections 3 and 4 (activation functions; layers, handwritten digits, 10 output neurons)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import matplotlib
import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value, nn, no_grad, optim
from tinygrad_edu.data import DIGITS_PIXELS, DIGITS_SAMPLES, load_digits, one_hot
from tinygrad_edu.losses import mean_squared_error, squared_error
from tinygrad_edu.training import fit

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "02_layers_and_digits.ipynb"


@pytest.fixture(scope="module")
def digits():
    return load_digits()


# --------------------------------------------------------------------------------------------------- defects

def test_one_hot_given_one_hot_rows_says_they_are_targets_already(digits):
    targets = one_hot(digits.labels[:5])
    with pytest.raises(TypeError, match=r"^one_hot: labels must be integers") as info:
        one_hot(targets)
    message = str(info.value)
    assert "(5, 10)" in message and "one-hot" in message and "argmax" in message
    with pytest.raises(TypeError, match=r"^one_hot: ") as info:
        one_hot(digits.labels[:5].astype(float))  # labels read as floats: the fix is astype(int)
    assert "(5,)" in str(info.value) and "astype(int)" in str(info.value)


@pytest.mark.parametrize("cost", [squared_error, mean_squared_error])
def test_labels_against_ten_output_neurons_point_to_one_hot(digits, cost):
    network = nn.MLP([64, 4, 10], rng=0)
    x, labels = digits.inputs[:6], digits.labels[:6]
    for targets in (labels, labels.reshape(-1, 1)):
        with pytest.raises(ValueError, match=rf"^{cost.__name__}: prediction has shape \(6, 10\)") as info:
            cost(network(x), targets)
        assert "one_hot(labels, classes=10)" in str(info.value)
    with pytest.raises(ValueError, match=r"one_hot\(labels, classes=10\)"):
        fit(network, x, labels, cost=cost, optimizer=optim.GradientDescent(network, learning_rate=0.1),
            episodes=1, progress=False)


def test_notebook_digit_pictures_draw_brightness_0_black_and_1_white(digits):
    assert (digits.inputs[:8].max(axis=1) < 1).any()  # the notebook's pictures include such digits
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = [cell for cell in json.loads(NOTEBOOK.read_text())["cells"] if cell["cell_type"] == "code"]
    picture = next(cell for cell in cells if "imshow(image" in "".join(cell["source"]))
    namespace: dict = {}
    exec("".join(cells[0]["source"]), namespace)  # the imports and load_digits
    try:
        exec("".join(picture["source"]), namespace)
        images = [image for ax in namespace["axes"] for image in ax.get_images()]
        assert len(images) == 8
        assert all(image.get_clim() == (0, 1) for image in images), [image.get_clim() for image in images]
    finally:
        plt.close("all")


def test_digits_example_names_the_digits_confused_most_often():
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "digits.py"), "--show", "450"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    mistakes = Counter(re.findall(r"is (\d), seen as (\d)", result.stdout))  # every misclassified image, drawn
    right, total = map(int, re.search(r"\((\d+) of (\d+) held-back", result.stdout).groups())
    assert sum(mistakes.values()) == total - right > 0
    line = re.search(r"^confused most often: (.*)$", result.stdout, re.MULTILINE)
    assert line, result.stdout
    listed = [((d, a), int(n)) for d, a, n in re.findall(r"(\d) taken for (\d) \((\d+)×\)", line.group(1))]
    assert listed and all(mistakes[pair] == n for pair, n in listed)
    assert max((n for pair, n in mistakes.items() if pair not in dict(listed)), default=0) <= min(n for _, n in listed)
    assert listed[0][1] == max(mistakes.values())


# ---------------------------------------------------------------------------------------------------- guards

def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


SEED_ACTIVATIONS = {  # name: (f, f') in closed form
    "sigmoid": (_sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x))),
    "relu": (lambda x: np.maximum(x, 0), lambda x: (x > 0) * 1.0),
    "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "leaky_relu": (lambda x: np.where(x > 0, x, 0.01 * x), lambda x: np.where(x > 0, 1.0, 0.01)),
    "softplus": (lambda x: np.log1p(np.exp(x)), _sigmoid),
}


@pytest.mark.parametrize("name", sorted(SEED_ACTIVATIONS))
def test_activations_and_their_derivatives_match_closed_forms_and_central_differences(name):
    f, slope = SEED_ACTIVATIONS[name]
    activation = F.ACTIVATIONS[name]
    x = np.array([-6.0, -2.5, -0.7, -0.01, 0.02, 0.4, 1.3, 5.0])  # away from ReLU's kink at 0
    v = Value(x.copy())
    out = activation(v)
    out.sum().backward()
    h = 1e-6
    central = (activation(Value(x + h)).data - activation(Value(x - h)).data) / (2 * h)
    np.testing.assert_allclose(out.data, f(x), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(v.grad, slope(x), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(v.grad, central, rtol=1e-7, atol=1e-9)


def test_digits_shapes_classes_and_the_tenth_neuron_for_a_nine(digits):
    assert digits.inputs.shape == (DIGITS_SAMPLES, DIGITS_PIXELS) == (1797, 64)
    assert 0 <= digits.inputs.min() and digits.inputs.max() <= 1
    counts = np.bincount(digits.labels, minlength=10)
    assert len(counts) == 10 and counts.sum() == 1797 and counts.min() > 0
    targets = one_hot(digits.labels)
    assert targets.shape == (1797, 10) and (targets.sum(axis=1) == 1).all()
    assert (targets.argmax(axis=1) == digits.labels).all()
    assert one_hot([9])[0].tolist() == [0.0] * 9 + [1.0]


def test_column_k_of_the_first_weights_is_hidden_neuron_k_so_it_can_be_drawn_as_8x8(digits):
    """The notebook draws weights[:, k].reshape(8, 8) as 'what makes neuron k fire': it must be neuron k's input."""
    network = nn.MLP([64, 5, 10], init="xavier", rng=1)
    layer = network.layers[0]
    x = digits.inputs[:3]
    with no_grad():
        hidden = layer(x).data
    w, b = layer.weights.data, layer.biases.data
    for k in range(5):
        picture = w[:, k].reshape(8, 8)
        z = (x.reshape(3, 8, 8) * picture).sum(axis=(1, 2)) + b[k]
        np.testing.assert_allclose(hidden[:, k], _sigmoid(z), rtol=1e-12)
