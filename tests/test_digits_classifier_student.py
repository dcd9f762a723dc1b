"""A student doing the seed's section 4 exercise for real: a network for the bundled handwritten digits (64 inputs,
10 output neurons), trained with the squared error on one-hot targets and with the cross entropy on labels, split
into a stratified held-out part, measured, saved and given to the command line's predict as 8×8 images in a text
file.

The tests of defects failed before their fixes: a Dataset (what ``train_test_split`` returns) given where one of its
arrays belongs was stacked by numpy into nonsense or refused with numpy's "inhomogeneous shape" (a model called it
"ragged", and for x²'s Dataset advised a reshape that trains on the labels); ``Dataset.images`` advised
``inputs.reshape(-1, 8, 8)`` for any Dataset, MNIST's 28×28 images too; a stratified split of one-hot rows or of a
column of labels said "needs 1-D class labels" without saying how to get them.  The others guard what the exercise
relies on: the averaged gradient of seed 7.1 (one full-batch episode of gradient descent against the closed form,
sample by sample), the cross entropy's gradient (softmax − one-hot)/n, a stratified split that keeps every digit's
share and loses no sample, and predict's classes for images written as 8 lines of 8 numbers.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value, nn, no_grad, optim
from tinygrad_edu.cli import main
from tinygrad_edu.data import Dataset, batches, load_digits, one_hot, train_test_split, xsquared
from tinygrad_edu.losses import cross_entropy, squared_error
from tinygrad_edu.training import fit


@pytest.fixture(scope="module")
def split() -> tuple[Dataset, Dataset]:
    return train_test_split(*load_digits(), test_fraction=0.25, seed=0, stratify=True)


def _digits_net(hidden: int = 16, output: str = "sigmoid") -> nn.MLP:
    return nn.MLP([64, hidden, 10], activation="sigmoid", output_activation=output, init="xavier", rng=0)


# --------------------------------------------------------------------------------------------------- defects

@pytest.mark.parametrize("which", ["digits", "xsquared"])
def test_fit_given_a_dataset_says_to_give_its_inputs_and_labels_apart(split, which: str) -> None:
    if which == "digits":
        train, model = split[0], _digits_net()
    else:
        train, model = train_test_split(*xsquared(50))[0], nn.MLP([1, 4, 1], rng=0)
    opt = optim.GradientDescent(model, learning_rate=0.1)
    with pytest.raises(TypeError, match=r"^fit: the inputs are a Dataset") as info:
        fit(model, train, train.labels, optimizer=opt, episodes=1, progress=False)
    assert ".inputs" in str(info.value) and "one_hot(" in str(info.value)
    with pytest.raises(TypeError, match=r"^fit: the targets are a Dataset") as info:
        fit(model, train.inputs, train, optimizer=opt, episodes=1, progress=False)
    assert ".labels" in str(info.value)


@pytest.mark.parametrize("which", ["digits", "xsquared"])
def test_a_model_called_on_a_dataset_says_to_give_its_inputs(split, which: str) -> None:
    if which == "digits":
        test, model = split[1], _digits_net()
    else:
        test, model = train_test_split(*xsquared(50))[1], nn.MLP([1, 4, 1], rng=0)
    with pytest.raises(TypeError, match=r"^layer 1 \(\d+ → \d+\): .*a Dataset") as info:
        model(test)
    message = str(info.value)
    assert ".inputs" in message and "ragged" not in message and "reshape" not in message


@pytest.mark.parametrize("call, where", [
    (lambda ds, net: one_hot(ds), "one_hot"),
    (lambda ds, net: batches(ds, ds.labels, 32), "batches"),
    (lambda ds, net: cross_entropy(net(ds.inputs), ds), "cross_entropy"),
    (lambda ds, net: squared_error(net(ds.inputs), ds), "squared_error"),
])
def test_the_data_helpers_and_costs_given_a_dataset_name_it(split, call, where: str) -> None:
    with pytest.raises(TypeError, match=rf"^{where}: .*a Dataset") as info:
        call(split[1], _digits_net())
    assert ".labels" in str(info.value) or ".inputs" in str(info.value)


def test_images_advice_fits_the_images_of_the_dataset() -> None:
    mnist_like = Dataset(np.zeros((16, 784)), np.zeros(16, dtype=np.int64))
    assert np.zeros((16, 784)).reshape(-1, 8, 8).shape == (196, 8, 8)  # the old advice runs, silently wrong
    with pytest.raises(AttributeError, match=r"reshape\(-1, 28, 28\)") as info:
        _ = mnist_like.images
    assert "8, 8" not in str(info.value)
    unflattened = Dataset(np.zeros((4, 28, 28)), np.zeros(4, dtype=np.int64))  # load_mnist(flatten=False)
    with pytest.raises(AttributeError) as info:
        _ = unflattened.images
    assert "reshape" not in str(info.value) and ".inputs here" in str(info.value)
    with pytest.raises(AttributeError) as info:
        _ = Dataset(*xsquared(4)).images  # one number per sample: no picture
    assert "reshape" not in str(info.value)


def test_stratified_split_of_one_hot_rows_or_a_column_says_how_to_get_labels() -> None:
    inputs, labels = load_digits()
    with pytest.raises(ValueError, match=r"^train_test_split: stratify needs 1-D class labels") as info:
        train_test_split(inputs, one_hot(labels), stratify=True)
    assert "argmax(axis=1)" in str(info.value) and "one_hot(" in str(info.value)
    with pytest.raises(ValueError, match=r"^train_test_split: stratify needs 1-D class labels") as info:
        train_test_split(inputs, labels.reshape(-1, 1), stratify=True)
    assert "reshape(-1)" in str(info.value)


# ---------------------------------------------------------------------------------------------------- guards

def test_one_full_batch_episode_steps_by_the_average_of_the_samples_gradients(split) -> None:
    """Seed 7.1: ∇C_all is the average of the samples' gradients; by the closed form of one sigmoid layer,
    ∂C_s/∂W = α⁰_sᵀ (2(α_s − y'_s) ⊙ σ'(z_s)), sample by sample, against fit's update W ← W − η∇C_all."""
    train = split[0]
    x, y = train.inputs[:40], one_hot(train.labels[:40])
    layer = nn.Layer(64, 10, activation="sigmoid", init="xavier", rng=3)
    w0, b0 = layer.weights.data.copy(), layer.biases.data.copy()
    grads_w, grads_b = [], []
    for xs, ys in zip(x, y, strict=True):
        z = xs @ w0 + b0
        a = 1 / (1 + np.exp(-z))
        delta = 2 * (a - ys) * a * (1 - a)
        grads_w.append(np.outer(xs, delta))
        grads_b.append(delta)
    eta = 0.7
    fit(layer, x, y, cost=squared_error, optimizer=optim.GradientDescent(layer, learning_rate=eta), episodes=1,
        progress=False)
    np.testing.assert_allclose(layer.weights.data, w0 - eta * np.mean(grads_w, axis=0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(layer.biases.data, b0 - eta * np.mean(grads_b, axis=0), rtol=0, atol=1e-12)


def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_n_for_labels_and_rows(split) -> None:
    logits = np.random.default_rng(0).normal(scale=3.0, size=(12, 10))
    labels = split[0].labels[:12]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    expected = (e / e.sum(axis=1, keepdims=True) - np.eye(10)[labels]) / 12
    for targets in (labels, one_hot(labels), one_hot(labels).astype(int)):
        z = Value(logits)
        cross_entropy(z, targets).backward()
        np.testing.assert_allclose(z.grad, expected, rtol=1e-12, atol=1e-15)


def test_stratified_digit_split_keeps_each_digits_share_and_every_sample_once() -> None:
    inputs, labels = load_digits()
    ids = np.arange(len(labels), dtype=float).reshape(-1, 1)  # each sample's position as its one input
    train, test = train_test_split(ids, labels, test_fraction=0.25, seed=4, stratify=True)
    seen = np.concatenate([train.inputs[:, 0], test.inputs[:, 0]]).astype(int)
    assert sorted(seen.tolist()) == list(range(len(labels)))  # a partition: none lost, none twice
    np.testing.assert_array_equal(labels[seen], np.concatenate([train.labels, test.labels]))  # labels kept
    for digit in range(10):
        count = int((labels == digit).sum())
        assert int((test.labels == digit).sum()) == round(count * 0.25)


def test_predict_on_images_written_as_8_lines_of_8_agrees_with_the_model(split, tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture) -> None:
    train, test = split
    model = _digits_net(hidden=24, output="identity")
    fit(model, train.inputs, train.labels, cost=cross_entropy, optimizer=optim.Adam(model, learning_rate=0.01),
        episodes=3, batch_size=32, seed=0, progress=False)
    model.save(tmp_path / "digits.npz")
    images = test.inputs[:12]
    (tmp_path / "images.txt").write_text("\n\n".join("\n".join(" ".join(f"{v:g}" for v in row)
                                                               for row in image.reshape(8, 8)) for image in images)
                                         + "\n", encoding="utf-8")
    assert main(["predict", str(tmp_path / "digits.npz"), "--inputs-file", str(tmp_path / "images.txt")]) == 0
    lines = capsys.readouterr().out.splitlines()
    with no_grad():
        outputs = model(images).data
    assert len(lines) == len(images)
    for line, out in zip(lines, outputs, strict=True):
        printed, chosen = re.fullmatch(r"\[.*\] → \[(.*)\]  class (\d)", line).groups()
        assert int(chosen) == int(out.argmax())
        np.testing.assert_allclose([float(v) for v in printed.split(", ")], out, rtol=1e-3, atol=1e-12)
    with no_grad():
        probabilities = F.softmax(model(test.inputs)).data
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)
