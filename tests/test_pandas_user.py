"""A data scientist who lives in pandas: DataFrames and Series into Value(), ops, fit, the data helpers and the costs.

Rows are matched by position (a pandas index is not used to align anything); what cannot be numbers is refused by
name, never turned silently into wrong numbers.
"""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, data, losses, nn, optim
from tinygrad_edu.training import fit

pd = pytest.importorskip("pandas")


def _frame(n=12, seed=0):
    """Inputs a, b and target y = 2a − b, under a shuffled, non-default index."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)}, index=rng.permutation(n) + 100)
    frame["y"] = 2 * frame["a"] - frame["b"]
    return frame


def _trained(inputs, targets, sizes=(2, 1), episodes=5):
    net = nn.MLP(list(sizes), activation="identity", output_activation="identity", rng=0)
    fit(net, inputs, targets, optimizer=optim.GradientDescent(net, 0.05), episodes=episodes, progress=False)
    return [p.data.copy() for p in net.parameters()]


# ------------------------------------------------------------------------------------------------------- defects

def test_pandas_on_the_left_of_arithmetic_gives_a_value_by_position():
    s = pd.Series([1.0, 2.0, 4.0], index=[30, 10, 20])
    x = Value([3.0, 5.0, 7.0])
    numbers = s.to_numpy()
    for result, expected in ((s + x, numbers + x.data), (s - x, numbers - x.data), (s * x, numbers * x.data),
                             (s / x, numbers / x.data), (s ** Value(2.0), numbers ** 2)):
        assert isinstance(result, Value)
        np.testing.assert_allclose(result.data, expected)
    (s * x).sum().backward()
    np.testing.assert_allclose(x.grad, numbers)  # d/dx Σ s_i x_i = s, by position
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    doubled = frame * Value(2.0)
    assert isinstance(doubled, Value)
    np.testing.assert_allclose(doubled.data, frame.to_numpy() * 2)


@pytest.mark.parametrize("column", [[True, False] * 6, pd.array([0, 1, 2] * 4, dtype="Int64"),
                                    pd.array([True, False] * 6, dtype="boolean")], ids=["bool", "Int64", "boolean"])
def test_fit_takes_numeric_columns_of_mixed_dtypes(column):
    frame = _frame()
    frame["c"] = column
    as_floats = frame[["a", "b", "c"]].astype(np.float64).to_numpy()
    expected = _trained(as_floats, frame[["y"]].to_numpy(), sizes=(3, 1))
    found = _trained(frame[["a", "b", "c"]], frame[["y"]], sizes=(3, 1))
    for mine, theirs in zip(found, expected, strict=True):
        np.testing.assert_allclose(mine, theirs)


@pytest.mark.parametrize("column, words", [(pd.array([1.0, None] * 6, dtype="Float64"), "pd.NA"),
                                           (pd.Categorical(["u", "v"] * 6), "'u'"),
                                           (["u", "v"] * 6, "'u'")], ids=["Float64 NA", "category", "str"])
def test_fit_names_the_column_that_is_not_numbers(column, words):
    frame = _frame()
    frame["c"] = column
    net = nn.MLP([3, 1], rng=0)
    with pytest.raises(TypeError, match=r"^fit: inputs .*column 'c'") as caught:
        fit(net, frame[["a", "b", "c"]], frame[["y"]], optimizer=optim.GradientDescent(net, 0.1), episodes=1,
            progress=False)
    assert words in str(caught.value)


def test_fit_refuses_targets_whose_index_differs():
    frame = _frame()
    net = nn.MLP([2, 1], rng=0)
    with pytest.raises(ValueError, match=r"^fit: .*index"):
        fit(net, frame[["a", "b"]], frame[["y"]].sort_index(), optimizer=optim.GradientDescent(net, 0.1),
            episodes=1, progress=False)


@pytest.mark.parametrize("call", [lambda x, y: data.train_test_split(x, y, seed=0),
                                  lambda x, y: data.batches(x, y, batch_size=4),
                                  lambda x, y: data.Dataset(x, y)], ids=["train_test_split", "batches", "Dataset"])
def test_data_helpers_refuse_labels_whose_index_differs(call):
    frame = _frame()
    with pytest.raises(ValueError, match="index"):
        call(frame[["a", "b"]], frame["y"].sort_index())


def test_one_hot_of_labels_with_na_names_the_missing_label():
    with pytest.raises(TypeError, match=r"^one_hot: .*(NaN|missing).*index \(2,\)"):
        data.one_hot(pd.Series([1, 0, None, 1], dtype="Int64"), classes=2)


def _suggested_column(message):
    """The expression an error message suggests for making the targets a column, such as targets.reshape(-1, 1)."""
    return re.search(r"(targets\.\S*?reshape\(-1, 1\))", message).group(1)


def test_the_column_hint_works_on_a_series():
    frame = _frame()
    targets = frame["y"]
    with pytest.raises(ValueError, match="as a column") as caught:
        losses.squared_error(Value(np.zeros((12, 1))), targets)
    assert eval(_suggested_column(str(caught.value)), {"targets": targets}).shape == (12, 1)
    net = nn.MLP([2, 1], rng=0)
    with pytest.raises(ValueError, match="^fit: targets of shape") as caught:
        fit(net, frame[["a", "b"]], targets, optimizer=optim.GradientDescent(net, 0.1), episodes=1, progress=False)
    assert eval(_suggested_column(str(caught.value)), {"targets": targets}).shape == (12, 1)


# ---------------------------------------------------------------------------------------------------- guards

@given(st.permutations(range(6)))
def test_value_of_a_series_with_any_index_keeps_the_positions(order):
    s = pd.Series(np.arange(6.0) * 1.5, index=order)
    x = Value(np.arange(6.0))
    np.testing.assert_array_equal(Value(s).data, s.to_numpy())
    np.testing.assert_array_equal((x + s).data, np.arange(6.0) + s.to_numpy())  # no alignment on the index


def test_fit_on_a_frame_with_a_shuffled_index_trains_as_on_its_numbers():
    frame = _frame()
    expected = _trained(frame[["a", "b"]].to_numpy(), frame[["y"]].to_numpy())
    for mine, theirs in zip(_trained(frame[["a", "b"]], frame[["y"]]), expected, strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_train_test_split_of_a_frame_keeps_each_row_with_its_label():
    frame = pd.DataFrame({"id": np.arange(10.0)}, index=list("qwertyuiop"))
    labels = pd.Series(np.arange(10) * 7, index=frame.index)
    for part in data.train_test_split(frame, labels, test_fraction=0.3, seed=1):
        np.testing.assert_array_equal(part.labels, part.inputs[:, 0] * 7)


def test_squared_error_with_a_dataframe_target_has_the_closed_form_gradient():
    target = pd.DataFrame({"y": [1.0, -2.0, 0.5]}, index=[7, 3, 5])
    prediction = Value([[0.5], [0.0], [2.0]])
    cost = losses.squared_error(prediction, target)
    difference = prediction.data - target.to_numpy()
    np.testing.assert_allclose(cost.data, (difference ** 2).sum() / 3)
    cost.backward()
    np.testing.assert_allclose(prediction.grad, 2 * difference / 3)


@pytest.mark.parametrize("labels", [pd.Series(["a", "b", "a"]), pd.Series(["a", "b", "a"], dtype="category")],
                         ids=["str", "category"])
def test_cross_entropy_refuses_class_names(labels):
    with pytest.raises(TypeError, match="^cross_entropy: the labels must be numbers"):
        losses.cross_entropy(Value(np.zeros((3, 2))), labels)


def test_integer_categoricals_are_taken_by_their_values_not_their_codes():
    # categories in the order [2, 0, 1]: the codes (0, 1, 2, 0) are not the labels (2, 0, 1, 2)
    labels = pd.Series(pd.Categorical([2, 0, 1, 2], categories=[2, 0, 1]))
    assert labels.cat.codes.tolist() != [2, 0, 1, 2]
    logits = np.array([[0.1, 0.2, 3.0], [1.0, 0.0, -1.0], [0.3, 2.0, 0.1], [0.0, 0.5, 1.0]])
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    expected = -log_softmax[np.arange(4), [2, 0, 1, 2]].mean()
    np.testing.assert_allclose(losses.cross_entropy(Value(logits), labels).data, expected)
    np.testing.assert_array_equal(data.one_hot(labels, classes=3), np.eye(3)[[2, 0, 1, 2]])
