"""A user arriving from PyTorch, micrograd or scikit-learn writes a first day's programs with the names they know.
Those that failed with Python's or numpy's bare errors now work as they expect or say what to write here:
``v.is_cuda`` and ``model.device`` (no devices here), scikit-learn's four-way ``train_test_split``, ``History.plot()``
(``plots.plot_history``), and ``Value(Fraction(1, 3))``, which was told to "use real numbers".  The numbers of the
programs that already worked are checked against hand computations where a verdict rests on them.
"""

from __future__ import annotations

import decimal
import fractions
import math

import numpy as np
import pytest

from tinygrad_edu import History, Value, data, losses, nn


def test_is_cuda_says_there_are_no_devices() -> None:
    with pytest.raises(AttributeError, match=r"'is_cuda'; write False: there are no devices here"):
        Value(np.ones(2)).is_cuda  # noqa: B018


def test_a_models_device_says_there_are_no_devices() -> None:
    model = nn.MLP([2, 3, 1])
    with pytest.raises(AttributeError, match=r"MLP has no attribute device: nothing: there are no devices here"):
        model.device  # noqa: B018


def test_train_test_split_unpacked_into_four_names_says_how_to_write_it() -> None:
    inputs, labels = np.arange(20.0).reshape(10, 2), np.arange(10.0)
    with pytest.raises(ValueError, match=r"train_test_split: .*\(X_train, y_train\), \(X_test, y_test\) = "):
        X_train, X_test, y_train, y_test = data.train_test_split(inputs, labels)  # noqa: N806
    (x_train, y_train), (x_test, y_test) = data.train_test_split(inputs, labels)  # the pairs, as before
    assert len(x_train) == 8 and len(x_test) == 2
    np.testing.assert_array_equal(x_train[:, 0] / 2, y_train)  # each sample still beside its own label
    np.testing.assert_array_equal(np.sort(np.concatenate([y_train, y_test])), labels)
    train, test = data.train_test_split(inputs, labels)
    assert list(data.train_test_split(inputs, labels)) == [train, test] and len(tuple(train)) == 2


def test_history_plot_draws_the_costs_as_plot_history_does() -> None:
    pytest.importorskip("matplotlib")
    history = History([4.0, 2.0, 1.0], [3.0, 2.0, 1.0], [0.1, 0.1, 0.1], [0.5, 1.0, 1.5], "GD")
    axes = history.plot(log_scale=False, title="day one").axes[0]
    np.testing.assert_array_equal(axes.lines[0].get_ydata(), [4.0, 2.0, 1.0])
    assert axes.get_title() == "day one"


@pytest.mark.parametrize("number", [fractions.Fraction(1, 3), decimal.Decimal("1.5")])
def test_a_fraction_or_decimal_is_told_to_become_a_float(number: object) -> None:
    with pytest.raises(TypeError, match=r"Value: .*float\(x\)"):
        Value(number)
    with pytest.raises(TypeError, match=r"Value: .*float\(x\)"):
        Value([number, 2.0])
    assert Value(float(number)).item() == float(number)  # (the advice, followed)


def test_cross_entropy_of_three_logits_and_a_one_hot_row_is_the_hand_computation() -> None:
    """Logits (3,) are one sample of 3 classes, so the labels [0, 1, 0] are its one-hot row (PyTorch reads the
    same row of floats as class probabilities, and gives the same number): −ln softmax(z)₁ and softmax(z) − e₁."""
    z = Value([1.0, 2.0, 3.0])
    cost = losses.cross_entropy(z, [0, 1, 0])
    cost.backward()
    assert cost.item() == pytest.approx(math.log(math.e + math.e ** 2 + math.e ** 3) - 2.0, rel=1e-14)
    softmax = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    np.testing.assert_allclose(z.grad, softmax - [0.0, 1.0, 0.0], rtol=1e-14)
