"""A teacher building the seed's section 4 lesson (second pass): the handwritten-digits network trained with fit
(gradient descent on the squared error of one-hot targets, Adam on the cross entropy), its accuracy on the held-out
quarter, the first layer's weights drawn as 8×8 pictures, the cost and the accuracy per episode plotted, and the
command line's ``train --data digits``.

The tests of defects failed before their fixes: the cross entropy on the outputs of a sigmoid output layer (nn.MLP's
default, the seed's) trained without a word while its cost could not fall below ln(1 + 9/e) = 1.46 (the softmax of 10
numbers in (0, 1) gives the right digit at most 0.23); ``plots.plot_history`` of the test accuracy per episode
labelled its axis "cost C" and its title "cost per episode", with no way to name the numbers; the notebook drew each
hidden neuron's weights on a colour scale of its own, so a neuron with weights half as large looked as strong.  The
guards pin what the lesson relies on: the accuracy the README quotes for examples/digits.py, and ``train --data
digits`` measuring its accuracy on the held-out digits, none of which it trained on.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from tinygrad_edu import Value, nn, no_grad, optim, plots
from tinygrad_edu.cli import main
from tinygrad_edu.data import load_digits, train_test_split
from tinygrad_edu.losses import cross_entropy
from tinygrad_edu.training import fit

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "02_layers_and_digits.ipynb"


@pytest.fixture(scope="module")
def split():
    return train_test_split(*load_digits(), test_fraction=0.25, seed=0, stratify=True)


# --------------------------------------------------------------------------------------------------- defects

@pytest.mark.parametrize("output, width", [("sigmoid", 1.0), ("tanh", 2.0)])
def test_cross_entropy_on_a_squashing_output_layer_warns_with_its_floor(split, output: str, width: float) -> None:
    train = split[0]
    floor = math.log(1 + 9 * math.exp(-width))  # the softmax of outputs at most `width` apart, best case
    best = np.full((1, 10), -width / 2)
    best[0, 3] = width / 2
    assert float(cross_entropy(Value(best), [3])) == pytest.approx(floor, rel=1e-12)  # the floor is reached there
    model = nn.MLP([64, 16, 10], activation="sigmoid", output_activation=output, init="xavier", rng=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(model, train.inputs, train.labels, cost=cross_entropy,
                      optimizer=optim.Adam(model, learning_rate=0.02), episodes=3, batch_size=64, seed=0,
                      progress=False)
    assert history.final_cost > floor  # what the warning is about: the cost stays above it
    messages = [str(w.message) for w in caught if str(w.message).startswith("fit: cross_entropy")]
    assert len(messages) == 1, [str(w.message) for w in caught]
    assert f"{floor:.3g}" in messages[0] and repr(output) in messages[0]
    assert "output_activation='identity'" in messages[0]


def test_train_digits_with_a_sigmoid_output_says_which_option_to_change(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture) -> None:
    assert main(["train", "--data", "digits", "--output-activation", "sigmoid", "--episodes", "1",
                 "-o", str(tmp_path / "m.npz")]) == 0
    err = capsys.readouterr().err
    assert re.search(r"warning: fit: cross_entropy .* cannot fall below 1\.46; give --output-activation identity$",
                     err.strip()), err


def test_accuracy_per_episode_plots_under_its_own_name(split, tmp_path: Path) -> None:
    train, test = split
    model = nn.MLP([64, 16, 10], activation="relu", output_activation="identity", init="he", rng=0)
    optimizer, rng, accuracies = optim.Adam(model, learning_rate=0.01), np.random.default_rng(0), []
    for _ in range(3):
        fit(model, train.inputs, train.labels, cost=cross_entropy, optimizer=optimizer, episodes=1, batch_size=64,
            seed=rng, progress=False)
        with no_grad():
            accuracies.append(float(np.mean(model(test.inputs).data.argmax(axis=1) == test.labels)))
    fig = plots.plot_history(accuracies, log_scale=False, ylabel="test accuracy", path=tmp_path / "accuracy.svg")
    ax = fig.axes[0]
    assert ax.get_ylabel() == "test accuracy" and ax.get_title() == "test accuracy per episode"
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), accuracies)
    assert "cost" not in (tmp_path / "accuracy.svg").read_text(encoding="utf-8")
    with pytest.raises(TypeError, match=r"^plot_history: ylabel must be a string or None, got int"):
        plots.plot_history(accuracies, ylabel=1)


def test_notebook_draws_the_neurons_weights_on_one_colour_scale() -> None:
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = ["".join(cell["source"]) for cell in json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
             if cell["cell_type"] == "code"]
    needed = [cells[0], next(c for c in cells if "history = fit(network" in c),
              next(c for c in cells if "network.layers[0].weights" in c)]
    namespace: dict = {}
    try:
        for source in needed:
            exec(source, namespace)
        weights = namespace["network"].layers[0].weights.data
        images = [image for ax in namespace["axes"].ravel() for image in ax.get_images()]
        assert len(images) == 16
        for k, image in enumerate(images):
            np.testing.assert_array_equal(image.get_array(), weights[:, k].reshape(8, 8))  # neuron k, row by row
        largest = np.abs(weights[:, :16]).max()
        sizes = np.abs(weights[:, :16]).max(axis=0)
        assert sizes.max() > 1.5 * sizes.min()  # neurons whose weights differ in size: one scale matters here
        assert {image.get_clim() for image in images} == {(-largest, largest)}
    finally:
        plt.close("all")


# ---------------------------------------------------------------------------------------------------- guards

def test_the_readme_s_accuracy_for_the_digits_example_comes_out() -> None:
    quoted = re.search(r"`examples/digits\.py` \((\d+\.\d) % test accuracy\)", (ROOT / "README.md").read_text())
    assert quoted, "the README no longer quotes the example's accuracy"
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "digits.py"), "--show", "0"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    right, total = map(int, re.search(r"test accuracy: [\d.]+% \((\d+) of (\d+) held-back", result.stdout).groups())
    assert total == 450 and f"{100 * right / total:.1f}" == quoted.group(1)
    assert "30 episodes" in result.stdout  # the example's default, the run the README quotes


def test_train_digits_measures_the_held_out_quarter_it_did_not_train_on(split, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture) -> None:
    train, test = split
    assert main(["train", "--data", "digits", "--episodes", "2", "-o", str(tmp_path / "m.npz")]) == 0
    out = capsys.readouterr().out
    printed = re.search(r"test accuracy: ([\d.]+)% on (\d+) held-back digits", out)
    assert printed and int(printed.group(2)) == len(test.labels) == 450
    assert re.search(rf"on {len(train.labels)} training digits", out)
    # none of the held-out images is among the training images (the split is of samples, not of copies)
    seen = {row.tobytes() for row in train.inputs}
    held_out = [i for i, row in enumerate(test.inputs) if row.tobytes() not in seen]
    model = nn.load(tmp_path / "m.npz")
    with no_grad():
        on_test = model(test.inputs).data.argmax(axis=1) == test.labels
        on_train = model(train.inputs).data.argmax(axis=1) == train.labels
    assert float(printed.group(1)) == round(100 * on_test.mean(), 1)
    assert round(100 * on_test[held_out].mean(), 1) != round(100 * on_train.mean(), 1)  # a split that tells them apart
