"""The costs (tinygrad_edu.losses) as their user meets them in the fortieth round: defects found and fixed, each
test failing on the code before its fix."""

import numpy as np
import pytest

from tinygrad_edu import Value, losses, nn, optim
from tinygrad_edu.training import fit

# --- defect: a column of 0/1 targets against one output neuron cost 0 where it held only 1s ------------------
# (a column with a 0 in it was refused as the docstring says; one of only 1s passed as one-hot rows of one class,
# so a batch of positives, or of one positive sample, cost 0 with a gradient of 0, and fit trained nothing)

@pytest.mark.parametrize("targets", [np.ones((5, 1), dtype=np.int64), np.ones((1, 1), dtype=np.int64),
                                     np.ones((5, 1)), np.ones((1, 1), dtype=bool), np.ones(1)],
                         ids=["ints", "one sample", "floats", "bools", "logits (1,)"])
def test_targets_of_one_output_neurons_shape_are_refused_even_when_all_are_1(targets: np.ndarray) -> None:
    logits = Value(np.linspace(-1.0, 1.0, targets.size).reshape(targets.shape))
    with pytest.raises(ValueError, match="2 output neurons") as caught:
        losses.cross_entropy(logits, targets)
    assert f"{logits.shape}" in str(caught.value) and "one class" in str(caught.value)


def test_class_index_0_of_one_output_neuron_still_costs_0() -> None:
    """The documented case stays: class indices of one class are all 0, at a cost of 0."""
    assert float(losses.cross_entropy(Value([[3.0], [-2.0]]), [0, 0])) == 0.0


def test_fit_of_positive_samples_on_one_output_neuron_is_refused() -> None:
    net = nn.MLP([2, 4, 1], output_activation="identity", rng=0)
    inputs = np.random.default_rng(0).normal(size=(8, 2))
    with pytest.raises(ValueError, match="2 output neurons"):
        fit(net, inputs, np.ones((8, 1)), cost=losses.cross_entropy, optimizer=optim.SGD(net, 0.1), episodes=1,
            progress=False)
