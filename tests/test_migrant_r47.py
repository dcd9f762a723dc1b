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

from tinygrad_edu import Value, losses, nn


def test_is_cuda_says_there_are_no_devices() -> None:
    with pytest.raises(AttributeError, match=r"'is_cuda'; write False: there are no devices here"):
        Value(np.ones(2)).is_cuda  # noqa: B018


def test_a_models_device_says_there_are_no_devices() -> None:
    model = nn.MLP([2, 3, 1])
    with pytest.raises(AttributeError, match=r"MLP has no attribute device: nothing: there are no devices here"):
        model.device  # noqa: B018


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
