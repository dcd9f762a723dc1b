"""A data scientist coming from scikit-learn: X of shape (n_samples, n_features), 1-D y, integer class labels in
int64, int32 or uint8, pandas frames, ``random_state=``, a binary classifier with one output neuron, and a test set
written with pandas' ``to_csv`` for the command line.  Numbers are checked against numpy computed by hand.

Tests of defects found and fixed: a cost over one output neuron whose errors point the wrong way,
scikit-learn's ``random_state=`` answered with Python's bare "unexpected keyword argument", and pandas' header of
unnamed columns read by ``predict`` as a sample.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, data, losses, nn, no_grad, optim
from tinygrad_edu.cli import main
from tinygrad_edu.training import fit


def _binary(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two features and 0/1 labels, as scikit-learn's binary problems come."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    return x, (x[:, 0] > 0).astype(np.int64)


# --- defect: cross entropy over one output neuron (scikit-learn's binary MLPClassifier has one) -----------------
@pytest.mark.parametrize("shape", ["flat", "column"])
def test_cross_entropy_of_one_output_neuron_says_two_classes_need_two_outputs(shape: str) -> None:
    x, y = _binary()
    net = nn.MLP([2, 4, 1], output_activation="sigmoid", rng=0)
    labels = y if shape == "flat" else y.reshape(-1, 1)
    with pytest.raises(ValueError) as caught:
        losses.cross_entropy(net(x), labels)
    message = str(caught.value)
    assert "(40, 1)" in message and "one class" in message and "2 output neurons" in message
    assert "one-hot rows must hold" not in message  # (a column of 0/1 labels is no one-hot row)


def test_fit_of_a_binary_problem_on_one_output_neuron_says_what_to_build() -> None:
    x, y = _binary()
    net = nn.MLP([2, 4, 1], output_activation="sigmoid", rng=0)
    with pytest.raises(ValueError, match="2 output neurons"):
        fit(net, x, y, cost=losses.cross_entropy, optimizer=optim.SGD(net, 0.1), episodes=1, progress=False)


def test_the_advice_for_a_binary_problem_trains_two_output_neurons_on_the_same_labels() -> None:
    """What the error advises works: two output neurons, the labels 0/1 as they were, cross entropy by hand."""
    x, y = _binary()
    net = nn.MLP([2, 4, 2], activation="tanh", output_activation="identity", init="xavier", rng=0)
    logits = net(x).data
    shifted = logits - logits.max(axis=1, keepdims=True)
    by_hand = -np.mean(shifted[np.arange(len(y)), y] - np.log(np.exp(shifted).sum(axis=1)))
    assert float(losses.cross_entropy(net(x), y)) == pytest.approx(by_hand, rel=1e-12)
    fit(net, x, y, cost=losses.cross_entropy, optimizer=optim.Adam(net, 0.05), episodes=100, progress=False)
    with no_grad():
        predicted = net(x).data.argmax(axis=1)
    assert predicted.dtype.kind == "i" and predicted.shape == y.shape
    assert np.mean(predicted == y) >= 0.95  # a line through the origin: separable


# --- defect: scikit-learn's random_state= -----------------------------------------------------------------------
_NET = nn.MLP([2, 3, 1], rng=0)


@pytest.mark.parametrize("call, word", [
    (lambda: fit(_NET, np.zeros((4, 2)), np.zeros((4, 1)), optimizer=optim.SGD(_NET, 0.1), episodes=1,
                 batch_size=2, progress=False, random_state=0), "seed="),
    (lambda: data.batches(np.zeros((4, 2)), np.zeros(4), 2, random_state=0), "seed="),
    (lambda: data.xsquared(10, random_state=0), "seed="),
    (lambda: nn.Layer(2, 3, random_state=0), "rng="),
    (lambda: nn.MLP([2, 3, 1], random_state=0), "rng="),
    (lambda: optim.RandomSearch(_NET, random_state=0), "rng="),
], ids=["fit", "batches", "xsquared", "Layer", "MLP", "RandomSearch"])
def test_random_state_says_what_the_seed_is_called_here(call, word: str) -> None:
    with pytest.raises(TypeError, match="random_state=") as caught:
        call()
    assert f"it is called {word}" in str(caught.value)


def test_train_test_split_still_says_random_state_is_seed() -> None:
    with pytest.raises(TypeError, match="random_state=.*it is called seed= here"):
        data.train_test_split(np.zeros((10, 2)), np.zeros(10), random_state=0)


# --- defect: a test set written by pandas' to_csv, for the command line ------------------------------------------
def test_predict_refuses_the_header_pandas_writes_for_unnamed_columns(tmp_path, capsys) -> None:
    pd = pytest.importorskip("pandas")
    net = nn.MLP([3, 4, 2], activation="tanh", output_activation="identity", rng=0)
    net.save(tmp_path / "model.npz")
    rows = np.random.default_rng(0).uniform(size=(2, 3))
    pd.DataFrame(rows).to_csv(tmp_path / "test.csv", index=False)  # header "0,1,2": the names pandas gives
    status = main(["predict", str(tmp_path / "model.npz"), "--inputs-file", str(tmp_path / "test.csv")])
    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""
    assert "line 1" in captured.err and "header=False" in captured.err


def test_predict_of_a_csv_written_without_header_gives_the_models_outputs(tmp_path, capsys) -> None:
    """The advice works, and a first sample that only starts as a header would (0.0, 1, 2) is a sample."""
    pd = pytest.importorskip("pandas")
    net = nn.MLP([3, 4, 2], activation="tanh", output_activation="identity", rng=0)
    net.save(tmp_path / "model.npz")
    rows = np.vstack([[0.0, 1.0, 2.0], np.random.default_rng(0).uniform(size=(2, 3))])
    pd.DataFrame(rows).to_csv(tmp_path / "test.csv", index=False, header=False)
    assert main(["predict", str(tmp_path / "model.npz"), "--inputs-file", str(tmp_path / "test.csv")]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert [int(line.rsplit("class ", 1)[1]) for line in printed] == list(net(rows).data.argmax(axis=1))


# --- guards: integer labels in every dtype, 1-D targets, predictions --------------------------------------------
@given(st.integers(1, 8), st.integers(2, 6), st.sampled_from([np.int64, np.int32, np.uint8, np.float64, list]),
       st.integers(0, 2**32 - 1))
def test_cross_entropy_of_integer_labels_of_any_dtype_is_the_hand_computed_cost_and_gradient(
        n: int, k: int, kind: type, seed: int) -> None:
    rng = np.random.default_rng(seed)
    logits, classes = rng.normal(size=(n, k)) * 3, rng.integers(0, k, size=n)
    labels = classes.tolist() if kind is list else classes.astype(kind)
    z = Value(logits)
    cost = losses.cross_entropy(z, labels)
    cost.backward()
    softmax = np.exp(logits - logits.max(axis=1, keepdims=True))
    softmax /= softmax.sum(axis=1, keepdims=True)
    assert float(cost) == pytest.approx(-np.mean(np.log(softmax[np.arange(n), classes])), rel=1e-12)
    np.testing.assert_allclose(z.grad, (softmax - np.eye(k)[classes]) / n, rtol=1e-12, atol=1e-15)


def test_mini_batch_training_on_int32_uint8_and_a_series_of_labels_is_bit_for_bit_that_on_int64() -> None:
    """scikit-learn's labels come in many integer dtypes (and as a pandas Series); the run must not depend on it."""
    pd = pytest.importorskip("pandas")
    x, y = data.load_digits()
    x, y = x[:200].astype(np.float32), y[:200]
    runs = []
    for labels in (y, y.astype(np.int32), y.astype(np.uint8), pd.Series(y, index=np.arange(200) + 7)):
        net = nn.MLP([64, 8, 10], activation="relu", output_activation="identity", init="he", rng=0)
        xs = pd.DataFrame(x, index=np.arange(200) + 7) if isinstance(labels, pd.Series) else x
        history = fit(net, xs, labels, cost=losses.cross_entropy, optimizer=optim.Adam(net, 0.01), episodes=3,
                      batch_size=32, seed=0, progress=False)
        runs.append((history.cost, [p.data.copy() for p in net.parameters()]))
    for costs, params in runs[1:]:
        assert costs == runs[0][0]
        for mine, theirs in zip(params, runs[0][1], strict=True):
            np.testing.assert_array_equal(mine, theirs)


def test_held_out_mse_and_r2_of_a_one_output_network_are_numpys() -> None:
    """1-D y as scikit-learn keeps it: trained as a column, scored on the flat predictions with numpy's formulas."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.3
    train, test = data.train_test_split(x, y, test_fraction=0.25, seed=0)
    mean, scale = train.inputs.mean(axis=0), train.inputs.std(axis=0)
    net = nn.MLP([3, 1], output_activation="identity", init="xavier", rng=0)
    fit(net, (train.inputs - mean) / scale, train.labels.reshape(-1, 1), cost=losses.mean_squared_error,
        optimizer=optim.Armijo(net), episodes=200, tol=1e-8, progress=False)
    with no_grad():
        prediction = net((test.inputs - mean) / scale)
    assert prediction.shape == (30, 1)
    flat = prediction.numpy().ravel()
    mse = float(losses.mean_squared_error(prediction, test.labels.reshape(-1, 1)))
    assert mse == pytest.approx(np.mean((flat - test.labels) ** 2), rel=1e-12)
    r2 = 1 - np.sum((test.labels - flat) ** 2) / np.sum((test.labels - test.labels.mean()) ** 2)
    assert r2 > 0.999  # a linear network on linear data without noise
