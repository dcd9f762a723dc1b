"""The error and warning messages added in round 35, read as a student meets them: each triggered for real, the fact
it states checked, and its advice followed (the advice must work)."""

import os
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from helpers_cli import error_of

from tinygrad_edu import Op, Value, apply, losses, nn, optim
from tinygrad_edu import functional as F
from tinygrad_edu.cli import main


def net_and_cost() -> tuple[nn.MLP, Value]:
    net = nn.MLP([2, 3, 1], rng=0)
    x = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.5, -0.5]])
    return net, losses.squared_error(net(x), np.array([[1.0], [1.0], [0.0], [0.5]]))


# --- defects ----------------------------------------------------------------------------------------------------


def test_no_gradient_warning_names_zero_grad_between_backward_and_step():
    net, cost = net_and_cost()
    opt = optim.SGD(net, learning_rate=0.1)
    before = [p.data.copy() for p in net.parameters()]
    cost.backward()
    opt.zero_grad()  # PyTorch's order mixed up: backward, zero_grad, step
    with pytest.warns(RuntimeWarning, match=r"^SGD\.step: no parameter has a gradient") as caught:
        opt.step()
    message = str(caught[0].message)
    assert "zero_grad()" in message.split("; if you did")[0]  # named before the other cause, which is not this one
    assert all(np.array_equal(p.data, b) for p, b in zip(net.parameters(), before, strict=True))
    # the advice: zero_grad() before backward() makes the step move the parameters, with no warning
    net, cost = net_and_cost()
    opt = optim.SGD(net, learning_rate=0.1)
    opt.zero_grad()
    cost.backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
    assert any(not np.array_equal(p.data, b) for p, b in zip(net.parameters(), before, strict=True))


def test_train_output_that_is_an_existing_folder_is_told_as_the_slash_form_is(capsys, tmp_path: Path):
    (tmp_path / "models").mkdir()
    for output in (str(tmp_path / "models"), f"{tmp_path / 'models'}/"):
        message = error_of(capsys, ["train", "--episodes", "1", "--samples", "5", "-o", output])
        assert "a folder, not a file; add a file name such as model.npz" in message
    assert list((tmp_path / "models").iterdir()) == []


def test_train_output_that_is_a_pipe_or_a_device_says_which(capsys, tmp_path: Path):
    fifo = tmp_path / "out"
    os.mkfifo(fifo)
    message = error_of(capsys, ["train", "--episodes", "1", "--samples", "5", "-o", str(fifo)])
    assert f"cannot save the model to {fifo}: it is a pipe" in message and "folder" not in message
    message = error_of(capsys, ["train", "--episodes", "1", "--samples", "5", "-o", os.devnull])
    assert f"cannot save the model to {os.devnull}: it is a device" in message and "pipe" not in message


@pytest.mark.parametrize("sizes, spaced", [(["12", "64,10"], "12 64 10"), (["64,", "10"], "64 10")])
def test_hidden_sizes_with_commas_are_told_every_size(capsys, sizes: list[str], spaced: str):
    message = error_of(capsys, ["train", "--episodes", "1", "--hidden", *sizes])
    assert message.rstrip().endswith(f"separate the layer sizes with spaces: --hidden {spaced} "
                                     "(see tinygrad-edu train --help)")


def test_plot_history_of_a_wide_table_says_there_are_more_columns():
    pytest.importorskip("matplotlib")
    pd = pytest.importorskip("pandas")
    from tinygrad_edu import plots

    table = pd.DataFrame({name: [1.0, 0.5, 0.25] for name in "abcdefg"})
    with pytest.raises(TypeError, match="no 'cost' column") as caught:
        plots.plot_history(table)
    assert "the columns a, b, c, d and" not in str(caught.value)  # (e, f and g are columns too)
    assert len(plots.plot_history(dict(table)).axes[0].get_lines()) == 7  # the advice draws every column


def test_plot_history_rows_advice_keeps_every_run():
    pytest.importorskip("matplotlib")
    from tinygrad_edu import plots

    costs = [(1.0, 2.0, 3.0), (0.5, 1.5, 2.5), (0.25, 1.0, 2.0), (0.2, 0.9, 1.9)]
    with pytest.raises(TypeError, match=r"tuples of 3 costs") as caught:
        plots.plot_history(costs)
    advice = str(caught.value).split("give each run's costs in a dict, ")[1]
    runs = eval(advice, {"costs": costs})  # the advice is code to run: it must keep all three columns
    drawn = sorted(list(line.get_ydata()) for line in plots.plot_history(runs).axes[0].get_lines())
    assert drawn == sorted([list(column) for column in zip(*costs, strict=True)])
    with pytest.raises(TypeError) as caught:
        plots.plot_history([(1.0,), (0.5,)])
    assert "1 costs" not in str(caught.value) and "1 episodes" not in str(caught.value)


def test_op_parameter_by_position_names_the_inputs_as_the_forward_does():
    scaled_sum = Op("scaled_sum", lambda a, b, k=1.0: a + k * b, (lambda g, out, a, b, k=1.0: g,
                                                                  lambda g, out, a, b, k=1.0: k * g))
    a, b = Value(np.array([1.0, 2.0])), Value(np.array([3.0, 4.0]))
    with pytest.raises(TypeError, match=r"^scaled_sum: takes 2 input\(s\), got 3") as caught:
        apply(scaled_sum, a, b, 2.0)
    assert str(caught.value).endswith("scaled_sum(a, b, k=…)")
    assert np.array_equal(apply(scaled_sum, a, b, k=2.0).data, [7.0, 10.0])  # the advice works: a + 2b


# --- guards -----------------------------------------------------------------------------------------------------


def test_flat_against_columns_message_states_true_shapes_and_its_advice_works():
    """The note says a column and a flat vector make (n, n) silently and that v.reshape(-1, 1) lines a flat (n,) up
    with the first axis: both hold."""
    column, flat = Value(np.array([[1.0], [2.0], [3.0]])), Value(np.array([10.0, 20.0, 30.0]))
    assert (column + flat).shape == (3, 3)
    batch = Value(np.arange(6.0).reshape(3, 2))
    with pytest.raises(ValueError, match=r"^add: shapes \(3, 2\) and \(3,\) cannot be broadcast") as caught:
        batch + flat
    assert "v.reshape(-1, 1)" in str(caught.value)
    assert np.array_equal((batch + flat.reshape(-1, 1)).data, np.arange(6.0).reshape(3, 2) + [[10.0], [20.0], [30.0]])


def test_logsumexp_advice_along_an_axis_is_log_sum_exp_with_softmax_gradient():
    """F.logsumexp's message gives a formula along an axis: evaluated as written it is ln Σ e^x, and its gradient
    is the softmax of each row (the closed form)."""
    with pytest.raises(AttributeError) as caught:
        F.logsumexp  # noqa: B018
    formula = re.search(r"along an axis, (.*?) \(x minus", str(caught.value))
    assert formula is not None
    rows = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 700.0]])  # (a row whose plain e^x overflows)
    x = Value(rows.copy(), requires_grad=True)
    out = eval(formula[1], {"x": x, "axis": 1})
    shifted = rows - rows.max(1, keepdims=True)
    assert np.allclose(out.data, rows.max(1) + np.log(np.exp(shifted).sum(1)), rtol=1e-14)
    out.sum().backward()
    assert np.allclose(x.grad, np.exp(shifted) / np.exp(shifted).sum(1, keepdims=True), rtol=1e-12)


def test_hidden_sizes_in_one_word_are_told_with_spaces_and_the_advice_trains(capsys, tmp_path: Path):
    message = error_of(capsys, ["train", "--episodes", "1", "--samples", "5", "--hidden", "3,2"])
    advice = re.search(r"separate the layer sizes with spaces: (--hidden [\d ]+?) \(see", message)
    assert advice is not None and advice[1] == "--hidden 3 2"
    output = tmp_path / "model.npz"
    assert main(["train", "--episodes", "1", "--samples", "5", *advice[1].split(), "-o", str(output)]) == 0
    assert [layer.out_size for layer in nn.load(output).layers] == [3, 2, 1]
