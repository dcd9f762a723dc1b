"""The costs (tinygrad_edu.losses) as a student and a data scientist training classifiers meet them in the
forty-first round: defects found and fixed, each test failing on the code before its fix."""

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses, nn, optim
from tinygrad_edu.training import fit

# --- (a) one output neuron: a column of 0/1 targets of only 1s, or a data set of labels 0, cost 0 silently --------
# (a column with a 0 in it was refused with the 2-neuron advice; one of only 1s, a batch of positives, passed as
# one-hot rows of one class at a cost of 0 and a gradient of 0; soft targets given as a Value stay accepted)


@pytest.mark.parametrize("targets", [np.ones((5, 1), dtype=np.int64), np.ones((1, 1), dtype=np.int64),
                                     np.ones((5, 1)), np.ones((1, 1), dtype=bool), np.ones(1), [[1], [1]]],
                         ids=["ints", "one sample", "floats", "bools", "logits (1,)", "list"])
def test_data_targets_of_one_output_neurons_shape_are_refused_even_when_all_are_1(targets) -> None:
    shape = np.shape(targets)
    logits = Value(np.linspace(-1.0, 1.0, int(np.prod(shape))).reshape(shape))
    with pytest.raises(ValueError, match="2 output neurons") as caught:
        losses.cross_entropy(logits, targets)
    assert f"{logits.shape}" in str(caught.value) and "one class" in str(caught.value)


def test_soft_targets_of_one_class_given_as_a_value_still_cost_0_with_gradients() -> None:
    """The composition fuzzer's soft targets, F.softmax(u) of one class: a Value, a valid cost of 0 (as in PyTorch),
    whose gradients are 0 (∂C/∂z = (softmax(z) − q)/n = 0; ∂C/∂q = −ln softmax(z)/n = 0, through q = softmax(u))."""
    z, u = Value([[3.0], [-2.0]]), Value([[0.5], [1.5]])
    cost = losses.cross_entropy(z, F.softmax(u, axis=-1))
    cost.backward()
    assert float(cost) == 0.0
    np.testing.assert_array_equal(z.grad, 0.0)
    np.testing.assert_array_equal(u.grad, 0.0)
    with pytest.raises(ValueError, match="2 output neurons"):  # class indices all 0: refused too (round 43)
        losses.cross_entropy(Value([[3.0], [-2.0]]), [0, 0])


def test_fit_refuses_cross_entropy_on_one_output_neuron_whatever_the_labels() -> None:
    """Its softmax is 1 for every input, so the cost is 0 and no parameter moves: labels all 0 passed silently."""
    net = nn.MLP([2, 4, 1], output_activation="identity", rng=0)
    inputs = np.random.default_rng(0).normal(size=(8, 2))
    for targets in (np.zeros(8, dtype=np.int64), np.ones((8, 1))):
        with pytest.raises(ValueError, match="2 output neurons"):
            fit(net, inputs, targets, cost=losses.cross_entropy, optimizer=optim.SGD(net, 0.1), episodes=1,
                progress=False)


# --- (c) the model passed instead of its outputs: "data of dtype object (MLP)" -------------------------------


@pytest.mark.parametrize("cost", [losses.cross_entropy, losses.squared_error, losses.mean_squared_error])
def test_the_model_instead_of_its_outputs_says_to_call_it(cost) -> None:
    net = nn.MLP([2, 3, 2], rng=0)
    with pytest.raises(TypeError, match=r"call the model on the inputs") as caught:
        cost(net, np.zeros((4, 2)) if cost is not losses.cross_entropy else np.zeros(4, dtype=int))
    assert "MLP" in str(caught.value) and "dtype object" not in str(caught.value)


# --- (d) transposed targets, (k, n) for (n, k): no .T hint ---------------------------------------------------------


@pytest.mark.parametrize("cost", [losses.squared_error, losses.mean_squared_error])
def test_transposed_targets_of_squared_error_get_the_T_hint(cost) -> None:
    with pytest.raises(ValueError, match=r"targets\.T") as caught:
        cost(Value(np.zeros((4, 3))), np.zeros((3, 4)))
    assert "(4, 3)" in str(caught.value) and "(3, 4)" in str(caught.value)


def test_transposed_one_hot_rows_of_cross_entropy_get_the_T_hint() -> None:
    labels = np.eye(3, dtype=int)[[0, 1, 2, 0]]
    with pytest.raises(ValueError, match=r"labels\.T"):
        losses.cross_entropy(Value(np.zeros((4, 3))), labels.T)
    # the hint is right: with the transpose the cost is ln 3
    assert float(losses.cross_entropy(Value(np.zeros((4, 3))), labels.T.T)) == pytest.approx(np.log(3), rel=1e-15)


# --- class labels as a column (n, 1) or a row (1, n) for logits (n, k): no hint (PyTorch refuses them too) ----------


@pytest.mark.parametrize("shape", [(6, 1), (1, 6)], ids=["column", "row"])
@pytest.mark.parametrize("dtype", [np.int64, np.float64])
def test_class_labels_as_a_column_or_a_row_get_the_reshape_hint_that_works(shape, dtype) -> None:
    logits, labels = Value(np.linspace(-2.0, 2.0, 18).reshape(6, 3)), np.array([0, 2, 1, 1, 0, 2])
    with pytest.raises(ValueError, match=r"labels\.reshape\(-1\)"):
        losses.cross_entropy(logits, labels.reshape(shape).astype(dtype))
    log_p = logits.data - np.log(np.exp(logits.data).sum(axis=1, keepdims=True))
    expected = -log_p[np.arange(6), labels].mean()
    given = labels.reshape(shape).astype(dtype)
    assert float(losses.cross_entropy(logits, given.reshape(-1))) == pytest.approx(expected, rel=1e-14)
