"""The final review of round 32's changes to the upper modules: one defect (a tolerance of this round that refused a
fresh backward pass) and guards for what the review's behaviour-preserving edits rest on."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest

from tinygrad_edu import cli, losses, nn, optim
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.engine import Value
from tinygrad_edu.training import fit


def _three_uses(constants: tuple[float, float, float], left_first: bool) -> tuple[Value, Value]:
    """C = w·k₁ + w·k₂ + w·k₃ (each product labelled, so the tree draws each path), summed left or right first; w's
    gradient is k₁ + k₂ + k₃ in closed form."""
    w = Value(0.5, label="w")
    uses = []
    for i, k in enumerate(constants):
        use = w * Value(k, requires_grad=False)
        use.label = f"u{i}"
        uses.append(use)
    cost = (uses[0] + uses[1]) + uses[2] if left_first else uses[0] + (uses[1] + uses[2])
    cost.label = "C"
    return w, cost


def test_a_fresh_backward_pass_whose_paths_cancel_is_drawn() -> None:
    for constants, left_first in itertools.product(itertools.permutations((1.0, 1e-16, -1.0)), (True, False)):
        w, cost = _three_uses(constants, left_first)
        cost.backward()
        tree = dependency_tree(cost)  # one backward pass: nothing to refuse
        assert w.grad is not None
        exact = 1e-16  # 1 + 1e-16 − 1, in closed form; either sum is within rounding of 1 of it
        assert abs(tree.chain_rule("w") - exact) <= 4 * np.finfo(float).eps
        assert abs(float(w.grad) - exact) <= 4 * np.finfo(float).eps


def test_a_gradient_of_two_backward_passes_is_still_refused() -> None:
    """Guard for the tolerance above: where the paths do not cancel, a second pass (twice the gradient) is refused."""
    w, cost = _three_uses((1.0, 2.0, 0.5), left_first=True)
    cost.backward()
    assert math.isclose(dependency_tree(cost).chain_rule("w"), 3.5)  # closed form: 1 + 2 + 0.5
    cost.backward()
    with pytest.raises(ValueError, match="other backward passes"):
        dependency_tree(cost)


def test_the_keras_and_pytorch_advice_tables_say_the_same_where_they_share_a_sentence() -> None:
    """Guard for the tables that now share their sentences: each name still gets the whole advice."""
    for name in ("ReLU", "Activation"):
        with pytest.raises(AttributeError, match=r"a Layer applies its activation itself here: nn\.Layer\(in_size"):
            getattr(nn, name)
    for name in ("mse", "mse_loss"):
        with pytest.raises(AttributeError, match=r"mean_squared_error\(prediction, target\), the mean over every "
                                                 r"element.*the seed's cost, summed over the outputs and averaged "
                                                 r"over the samples, is squared_error\(prediction, target\)"):
            getattr(losses, name)
    for name, labels in (("categorical_crossentropy", "one-hot rows"), ("sparse_categorical_crossentropy",
                                                                        "class indices")):
        with pytest.raises(AttributeError, match=f"with {labels} as labels, on the raw outputs .*from_logits=True"):
            getattr(losses, name)


def test_flat_targets_met_by_a_column_warn_at_the_callers_line_with_the_advice() -> None:
    """Guard for the advice the warning and the MemoryError's ValueError now share: the warning points at the line
    calling fit and says how to pair outputs and targets."""
    x = np.linspace(-1, 1, 6).reshape(-1, 1)
    y = np.arange(6.0)
    net = nn.MLP([1, 2, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit(net, x, y, cost=lambda out, t: ((out - t) ** 2).mean(), optimizer=optim.SGD(net, learning_rate=1e-3),
            episodes=1, progress=False)
    paired = [w for w in caught if "paired with every target" in str(w.message)]
    assert len(paired) == 1
    assert paired[0].filename == __file__
    assert "targets.reshape(-1, 1) (or flatten the outputs in the cost, out.reshape(-1))" in str(paired[0].message)


def test_fit_still_tells_an_optimizer_of_another_model_from_one_of_a_frozen_parameter() -> None:
    """Guard for ``_owned`` (now built from ``_values_of``): a frozen parameter is still the model's, another
    model's Values are not."""
    x, y = np.linspace(-1, 1, 8).reshape(-1, 1), np.linspace(0, 1, 8).reshape(-1, 1)
    net = nn.MLP([1, 2, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    other = nn.MLP([1, 2, 1], activation="tanh", output_activation="identity", init="xavier", rng=1)
    with pytest.raises(ValueError, match="none of the optimizer's parameters belong to the model"):
        fit(net, x, y, optimizer=optim.SGD(other, learning_rate=0.1), episodes=1, progress=False)
    optimizer = optim.SGD([net.layers[0].biases], learning_rate=0.1)
    net.layers[0].biases.requires_grad = False  # frozen after the optimizer was built: still the model's
    with pytest.raises(ValueError, match=r"1 of them are frozen \(requires_grad=False\)"):
        fit(net, x, y, optimizer=optimizer, episodes=1, progress=False)


@pytest.mark.parametrize("header", [",0,1", "0,1,2"])
def test_a_pandas_header_in_an_inputs_file_is_an_error_naming_its_line(tmp_path, capsys, header: str) -> None:
    """Guard for the README's sentence on inputs files: pandas' headers are refused naming the line (no column)."""
    model = nn.MLP([2, 2, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    model_path, inputs = tmp_path / "model.npz", tmp_path / "inputs.csv"
    model.save(model_path)
    inputs.write_text(f"{header}\n0.5,0.25\n")
    assert cli.main(["predict", str(model_path), "--inputs-file", str(inputs)]) == 2
    error = capsys.readouterr().err
    assert "line 1" in error and "to_csv(path, header=False, index=False)" in error
