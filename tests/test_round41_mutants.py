"""Round 41's new branches under hand-made mutants: each test here fails with a mutant that the round's own tests let
live (named in its docstring) and passes on the code as it is; one (``for x, y in iter(ds)``) failed on the code
before its fix."""

from __future__ import annotations

import operator
import sys

import numpy as np
import pytest

from tinygrad_edu import Value, losses, nn, optim
from tinygrad_edu.data import Dataset
from tinygrad_edu.training import fit

_COLUMNS = pytest.mark.skipif(sys.version_info < (3, 11), reason="Python 3.10's bytecode has no columns")


def _pairs() -> Dataset:
    """Two samples of two inputs: a loop over the pair (inputs, labels) unpacks silently into two names."""
    return Dataset(np.arange(4.0).reshape(2, 2), np.array([0, 1]))


# --- checks: the callable is told however often the line runs, and a call of another name is not refused ------------


@_COLUMNS
def test_the_refusals_hold_once_python_has_specialized_the_call() -> None:
    """Mutant: ``_under_way`` not stepping from PRECALL to its CALL.  After a few runs Python 3.11 specializes
    ``iter(ds)`` and ``enumerate(ds)`` into a PRECALL that calls the builtin itself: f_lasti is then at the PRECALL,
    and the mutant refused only the first 7 of 40 runs of the same line."""
    ds = _pairs()

    def first_sample() -> None:
        x, y = next(iter(ds))

    def numbered_loop() -> None:
        for i, (x, y) in enumerate(ds):  # noqa: B007
            pass

    for run in (first_sample, numbered_loop):
        refused = 0
        for _ in range(40):
            try:
                run()
            except TypeError:
                refused += 1
        assert refused == 40, run.__name__


@_COLUMNS
def test_max_called_through_another_callable_is_not_refused() -> None:
    """Mutant: ``unpacked_in_two`` ignoring ``names`` (``_calls_another_name`` dropped).  ``list`` called
    ``Value.max`` from C: the two names take the list's two maxima, a legitimate unpacking."""
    x, y = Value(np.arange(6.0).reshape(2, 3)), Value(np.array([[1.0, 9.0, 2.0], [7.0, 0.0, 3.0]]))
    a, b = list(map(operator.methodcaller("max", 1), [x, y]))
    np.testing.assert_array_equal(a.data, [2.0, 5.0])
    np.testing.assert_array_equal(b.data, [9.0, 7.0])


# --- data: PyTorch's loop through iter(ds) ------------------------------------------------------------------------


@_COLUMNS
def test_a_loop_over_iter_of_a_dataset_is_refused_as_the_loop_over_it_is() -> None:
    """Mutant: ``_refused_in_pairs`` checking the loop for ``by_next`` too lived, and showed the defect: ``for x, y in
    iter(ds)`` (iter's generator is the loop's, GET_ITER gives it back) went through the pair silently, x the inputs
    and y the labels of a 2-sample set.  Refused now; the loops that unpack their own pairs still run."""
    ds = _pairs()
    with pytest.raises(TypeError, match=r"^Dataset: for x, y in ds goes through the pair .*zip\(ds\.inputs"):
        for x, y in iter(ds):  # noqa: B007
            pass
    with pytest.raises(TypeError, match=r"for x, y in ds goes through the pair"):
        [x for x, y in iter(ds)]  # noqa: B018
    assert [name for name, array in zip(["inputs", "labels"], iter(ds))] == ["inputs", "labels"]
    assert [array.ndim for array in iter(ds)] == [2, 1]
    assert [i for i, array in enumerate(iter(ds))] == [0, 1]
    assert [(x.tolist(), int(y)) for x, y in zip(ds.inputs, ds.labels)] == [([0.0, 1.0], 0), ([2.0, 3.0], 1)]


# --- cli: quoted numbers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"'0.1','0.5'\n'-1','2'\n", b'"1","2"\n"3","4"\n'],
                         ids=["single quotes", "one digit"])
def test_predict_says_that_single_quoted_or_one_digit_numbers_are_quoted(tmp_path, capsys, content) -> None:
    """Mutants: the hint only for double quotes, and only for quoted words longer than 3 characters (``"1"``)."""
    from tinygrad_edu.cli import main

    model = tmp_path / "m.npz"
    assert main(["train", "--episodes", "1", "--samples", "5", "--hidden", "2", "-o", str(model)]) == 0
    inputs = tmp_path / "quoted.csv"
    inputs.write_bytes(content)
    capsys.readouterr()
    assert main(["predict", str(model), "--inputs-file", str(inputs)]) != 0
    message = capsys.readouterr().err
    assert "a number in quotes" in message and "header" not in message, message


# --- losses: the words of the advice ------------------------------------------------------------------------------


def test_the_model_passed_instead_of_its_outputs_is_named_in_the_costs_own_words() -> None:
    """Mutant: one verb and one name for every cost: 'the logits is …' and cross_entropy(model(inputs), targets),
    where cross_entropy's argument is the labels."""
    net = nn.MLP([2, 3, 2], rng=0)
    with pytest.raises(TypeError) as caught:
        losses.cross_entropy(net, np.zeros(4, dtype=int))
    assert "cross_entropy: the logits are the MLP itself" in str(caught.value)
    assert str(caught.value).endswith("cross_entropy(model(inputs), labels)")
    with pytest.raises(TypeError) as caught:
        losses.squared_error(net, np.zeros((4, 2)))
    assert "squared_error: the prediction is the MLP itself" in str(caught.value)
    assert str(caught.value).endswith("squared_error(model(inputs), targets)")
    z = net(np.zeros((4, 2))).data  # the advice works: the cost of the outputs, −mean ln softmax(z)[0]
    expected = -np.mean(z[:, 0] - np.log(np.exp(z).sum(axis=1)))
    assert float(losses.cross_entropy(net(np.zeros((4, 2))), np.zeros(4, dtype=int))) == pytest.approx(expected)


@pytest.mark.parametrize(("shape", "word"), [((6, 1), "column"), ((1, 6), "row")])
def test_class_labels_as_a_column_or_a_row_are_called_so(shape, word) -> None:
    """Mutant: the column/row test on the wrong axis, which called a column a row."""
    with pytest.raises(ValueError, match=rf"\(class labels as a {word}\? give them flat: labels\.reshape\(-1\)\)"):
        losses.cross_entropy(Value(np.zeros((6, 3))), np.zeros(shape, dtype=int))


# --- training: one output neuron, the model being a single Layer -----------------------------------------------------


def test_fit_refuses_cross_entropy_on_a_single_layer_of_one_output() -> None:
    """Mutant: ``_last_layer`` not taking a Layer for its own output layer.  A Layer of one neuron trained with
    cross_entropy and labels 0 costs 0 and moves nothing, as an MLP's does."""
    layer = nn.Layer(2, 1, activation="identity", rng=0)
    inputs = np.random.default_rng(0).normal(size=(8, 2))
    before = [p.data.copy() for p in layer.parameters()]
    with pytest.raises(ValueError, match="2 output neurons"):
        fit(layer, inputs, np.zeros(8, dtype=np.int64), cost=losses.cross_entropy, optimizer=optim.SGD(layer, 0.1),
            episodes=1, progress=False)
    assert all(np.array_equal(p.data, b) for p, b in zip(layer.parameters(), before, strict=True))
    two = nn.Layer(2, 2, activation="identity", rng=0)  # two neurons: trained
    history = fit(two, inputs, np.array([0, 1] * 4), cost=losses.cross_entropy, optimizer=optim.SGD(two, 0.1),
                  episodes=3, progress=False)
    assert history is not None
