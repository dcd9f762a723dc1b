"""Loose ends a practitioner hits preparing data and training: a Dataset asked for ``x in ds``, MNIST files saved
under their other common names, bool labels, one-hot rows of the wrong width, a PyTorch tensor that requires grad,
records of named fields, a dict's keys as samples, slips of fit's and the optimizers' keywords, and a model converted
to float32.  Each gave a bare numpy, Python or torch error, or advice that failed when pasted; the errors now name
the function and what to write, and the advice is run here."""

from __future__ import annotations

import gzip
import io
import re
from pathlib import Path

import numpy as np
import pytest
from numpy.lib import recfunctions

from tinygrad_edu import Value, checks, nn, optim
from tinygrad_edu.data import Dataset, batches, load_mnist, one_hot, read_idx, train_test_split
from tinygrad_edu.losses import mean_squared_error, squared_error
from tinygrad_edu.training import fit


def _idx(shape: tuple[int, ...], values: np.ndarray | None = None) -> bytes:
    """An IDX file of unsigned bytes of ``shape``."""
    body = np.zeros(shape, dtype=np.uint8) if values is None else values.astype(np.uint8)
    return bytes([0, 0, 8, len(shape)]) + b"".join(size.to_bytes(4, "big") for size in shape) + body.tobytes()


def _samples() -> Dataset:
    return Dataset(np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]), np.array([0, 1, 1]))


# ---------------------------------------------------------------------------------- (a) x in ds, count, index


@pytest.mark.parametrize("ask", [
    lambda ds: np.array([2.0, 3.0]) in ds,
    lambda ds: 1 in ds,
    lambda ds: ds.count(1),
    lambda ds: ds.index(np.array([2.0, 3.0])),
], ids=["row-in", "label-in", "count", "index"])
def test_asking_a_dataset_for_a_sample_says_how_not_numpys_truth_value_error(ask) -> None:
    """A tuple's ``in``, ``count`` and ``index`` compare the two arrays with the sample: numpy's "truth value of an
    array ... is ambiguous" or its broadcasting error, naming neither the Dataset nor what to write."""
    ds = _samples()
    with pytest.raises(TypeError, match=r"^Dataset: .*the pair \(inputs, labels\).*np\.count_nonzero") as caught:
        ask(ds)
    message = str(caught.value)
    assert "ambiguous" not in message and "broadcast" not in message
    # the message's own advice, run: the row [2, 3] once among the inputs, label 1 twice among the labels
    count_rows, positions, count_labels = _numpy_calls(message)
    same = count_rows.removeprefix("np.count_nonzero(").removesuffix(")")  # what "of the same" refers to
    assert positions == "np.flatnonzero(...)"
    run = {"np": np, "ds": ds, "x": np.array([2.0, 3.0]), "label": 1}
    assert eval(count_rows, run) == 1  # noqa: S307
    assert eval(positions.replace("...", same), run).tolist() == [1]  # noqa: S307
    assert eval(count_labels, run) == 2  # noqa: S307


def _numpy_calls(message: str) -> list[str]:
    """Each ``np.name(...)`` a message writes, its brackets matched."""
    calls = []
    for start in (found.start() for found in re.finditer(r"np\.\w+\(", message)):
        depth = 0
        for end in range(start, len(message)):
            depth += {"(": 1, ")": -1}.get(message[end], 0)
            if message[end] == ")" and depth == 0:
                calls.append(message[start:end + 1])
                break
    return calls


def test_a_dataset_is_still_a_pair_to_unpack_and_compare() -> None:
    """What a tuple is for still works: unpacking, len, equality, iteration."""
    ds = _samples()
    inputs, labels = ds
    assert len(ds) == 2 and ds == Dataset(inputs.copy(), labels.copy()) and [a.shape for a in ds] == [(3, 2), (3,)]


# ---------------------------------------------------------------------------------------- (b) read_idx grammar


def test_read_idx_says_1_dimension_not_1_dimensions(tmp_path: Path) -> None:
    path = tmp_path / "labels"
    path.write_bytes(_idx((3,)))
    with pytest.raises(ValueError, match=r"says 1 dimension, expected 0x00000803 \(3 dimensions\)$"):
        read_idx(path, ndim=3)
    path = tmp_path / "images"
    path.write_bytes(_idx((3, 2, 2)))
    with pytest.raises(ValueError, match=r"says 3 dimensions, expected 0x00000801 \(1 dimension\)$"):
        read_idx(path, ndim=1)


# ----------------------------------------------------------------------------------- (c) MNIST's dotted names


@pytest.mark.parametrize("compressed", [False, True])
def test_load_mnist_finds_files_named_with_a_dot(tmp_path: Path, compressed: bool) -> None:
    """``train-images.idx3-ubyte`` (a spelling some copies use) was not found, and the error advised downloading
    the files again."""
    rng = np.random.default_rng(0)
    pixels, digits = rng.integers(0, 256, (4, 28, 28)), rng.integers(0, 10, 4)
    for name, content in (("train-images.idx3-ubyte", _idx((4, 28, 28), pixels)),
                          ("train-labels.idx1-ubyte", _idx((4,), digits))):
        if compressed:
            (tmp_path / f"{name}.gz").write_bytes(gzip.compress(content))
        else:
            (tmp_path / name).write_bytes(content)
    inputs, labels = load_mnist(tmp_path)
    np.testing.assert_array_equal(labels, digits)
    np.testing.assert_allclose(inputs, pixels.reshape(4, 784) / 255, rtol=1e-6)


def test_load_mnist_finds_files_in_a_folder_of_their_name(tmp_path: Path) -> None:
    """Some copies unpack each file into a folder of its own name, ``train-images-idx3-ubyte/train-images-idx3-
    ubyte``: the error said neither file was in root, where a folder of that very name was."""
    for name, content in (("train-images-idx3-ubyte", _idx((2, 28, 28))), ("train-labels-idx1-ubyte", _idx((2,)))):
        (tmp_path / name).mkdir()
        (tmp_path / name / name).write_bytes(content)
    inputs, labels = load_mnist(tmp_path)
    assert inputs.shape == (2, 784) and labels.tolist() == [0, 0]


def test_load_mnist_names_the_dotted_spelling_when_nothing_is_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"train-images\.idx3-ubyte"):
        load_mnist(tmp_path)


# --------------------------------------------------------------------------------------------- (d) bool labels


def test_one_hot_of_bool_labels_says_astype_int_and_the_advice_runs() -> None:
    labels = np.array([True, False, True])
    with pytest.raises(TypeError, match=r"^one_hot: labels must be integers, got dtype bool.*"
                                        r"one_hot\(labels\.astype\(int\), classes=2\)"):
        one_hot(labels)
    np.testing.assert_array_equal(one_hot(labels.astype(int), classes=2), [[0, 1], [1, 0], [0, 1]])


# ------------------------------------------------------------------------------ (e) one-hot rows, wrong width


def test_squared_error_of_one_hot_rows_of_the_default_10_classes_names_classes_k() -> None:
    """Three output neurons, labels 0..2, ``one_hot(labels)`` with its default 10 classes: the error named both
    shapes only."""
    labels = np.array([0, 1, 2, 1])
    prediction = Value(np.full((4, 3), 0.5))
    with pytest.raises(ValueError, match=r"prediction has shape \(4, 3\) but target has shape \(4, 10\).*"
                                         r"one_hot\(labels, classes=3\)"):
        squared_error(prediction, one_hot(labels))
    fixed = squared_error(prediction, one_hot(labels, classes=3)).item()  # the advice, run: (4·0.25 + 4·2·0.25)/4
    assert fixed == pytest.approx(0.75, rel=1e-12)


def test_one_hot_rows_of_labels_beyond_the_outputs_name_the_outputs_needed() -> None:
    """Labels up to 5 for a model of 3 outputs: classes=3 would refuse them; the model is too small."""
    with pytest.raises(ValueError, match=r"labels up to 5: a model of 6 outputs\)$"):
        squared_error(Value(np.zeros((2, 3))), one_hot([5, 0]))
    with pytest.raises(ValueError, match=r"label 5 is outside 0\.\.2"):
        one_hot([5, 0], classes=3)


def test_rows_of_another_width_that_are_not_one_hot_get_no_one_hot_advice() -> None:
    with pytest.raises(ValueError) as caught:
        squared_error(Value(np.zeros((4, 3))), np.full((4, 10), 0.3))
    assert "one_hot" not in str(caught.value)


# -------------------------------------------------------------------------- (f) a tensor that requires grad


def _fit(inputs: object) -> object:
    model = nn.MLP([2, 3, 1], rng=0)
    return fit(model, inputs, np.ones((3, 1)), optimizer=optim.SGD(model, learning_rate=0.1), episodes=1,
               progress=False)


@pytest.mark.parametrize("call", [
    _fit,
    lambda t: Dataset(t, np.ones(3)),
    lambda t: batches(t, np.ones(3), 2),
    lambda t: train_test_split(t, np.ones(3)),
], ids=["fit", "Dataset", "batches", "train_test_split"])
def test_a_torch_tensor_that_requires_grad_is_refused_naming_our_function(call) -> None:
    torch = pytest.importorskip("torch")
    tensor = torch.ones(3, 2, requires_grad=True)
    with pytest.raises(TypeError, match=r"^(fit|Dataset|batches|train_test_split): the inputs .*requires grad.*"
                                        r"\.detach\(\)\.numpy\(\)"):
        call(tensor)
    assert Dataset(tensor.detach().numpy(), np.ones(3)).inputs.shape == (3, 2)  # the advice, run


def test_fit_refuses_targets_that_require_grad_too() -> None:
    torch = pytest.importorskip("torch")
    model = nn.MLP([2, 3, 1], rng=0)
    with pytest.raises(TypeError, match=r"^fit: the targets .*requires grad"):
        fit(model, np.ones((3, 2)), torch.ones(3, 1, requires_grad=True),
            optimizer=optim.SGD(model, learning_rate=0.1), episodes=1, progress=False)


def test_a_torch_tensor_without_grad_is_still_taken() -> None:
    torch = pytest.importorskip("torch")
    ds = Dataset(torch.arange(6.0).reshape(3, 2), torch.tensor([0, 1, 1]))
    np.testing.assert_array_equal(ds.inputs, np.arange(6.0).reshape(3, 2))


# ---------------------------------------------------------------------- (g) flat targets, a column of outputs


def test_fit_flat_targets_advice_for_a_column_model_runs() -> None:
    """fit's refusal of flat targets suggested ``cost=losses.mean_squared_error``, which then refused the MLP's
    column of outputs; for a model giving a column it advises the column targets only, which train."""
    x, y = np.linspace(-1, 1, 6).reshape(-1, 1), np.linspace(-1, 1, 6) ** 2
    model = nn.MLP([1, 3, 1], rng=0)
    with pytest.raises(ValueError, match=r"^fit: targets of shape \(6,\) hold one number per sample") as caught:
        fit(model, x, y, optimizer=optim.SGD(model, learning_rate=0.1), episodes=1, progress=False)
    assert "mean_squared_error" not in str(caught.value)
    with pytest.raises(ValueError, match="mean_squared_error: prediction has shape"):  # why it is not advised
        fit(model, x, y, cost=mean_squared_error, optimizer=optim.SGD(model, learning_rate=0.1), episodes=1,
            progress=False)
    before = squared_error(model(Value(x)), y.reshape(-1, 1)).item()
    history = fit(model, x, y.reshape(-1, 1), optimizer=optim.SGD(model, learning_rate=0.1), episodes=1,
                  progress=False)
    assert history.cost[0] == pytest.approx(before, rel=1e-12)


def test_fit_flat_targets_advice_for_a_flat_model_still_names_mean_squared_error() -> None:
    """A model giving one flat number per sample: mean_squared_error takes flat targets beside it, as advised."""
    x, y = np.linspace(-1, 1, 6).reshape(-1, 1), np.linspace(-1, 1, 6) ** 2
    layer = nn.MLP([1, 1], rng=0)

    def model(inputs: Value) -> Value:
        return layer(inputs).reshape(-1)

    with pytest.raises(ValueError, match=r"cost=losses\.mean_squared_error$"):
        fit(model, x, y, optimizer=optim.SGD(layer, learning_rate=0.1), episodes=1, progress=False)
    fit(model, x, y, cost=mean_squared_error, optimizer=optim.SGD(layer, learning_rate=0.1), episodes=1,
        progress=False)


# ------------------------------------------------------------------------- (h) train_test_split of a Dataset


def test_train_test_split_of_one_dataset_says_how_and_the_advice_runs() -> None:
    ds = Dataset(np.arange(20.0).reshape(10, 2), np.arange(10))
    with pytest.raises(TypeError, match=r"^train_test_split: the inputs are a Dataset .*train_test_split\(\*data"):
        train_test_split(ds)  # type: ignore[call-arg]
    train, test = train_test_split(*ds, test_fraction=0.3)
    assert len(train.inputs) == 7 and len(test.labels) == 3


def test_batches_and_fit_of_one_dataset_say_how_too() -> None:
    ds = Dataset(np.arange(8.0).reshape(4, 2), np.arange(4.0))
    with pytest.raises(TypeError, match=r"^batches: the inputs are a Dataset .*batches\(\*data, \.\.\.\)"):
        batches(ds, 2)
    assert [len(x) for x, _ in batches(*ds, 2)] == [2, 2]  # the advice, run
    model = nn.MLP([2, 1], rng=0)
    with pytest.raises(TypeError, match=r"^fit: the inputs are a Dataset .*fit\(model, \*data, \.\.\.\)"):
        fit(model, ds, optimizer=optim.SGD(model, learning_rate=0.1), episodes=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"^train_test_split: the inputs are a Dataset .*data\.inputs, data\.labels"):
        train_test_split(ds, 0.5)  # (a call Python takes: the check inside the function speaks, as before)


# ------------------------------------------------------------------------------------- (i) keyword slips


def test_sgd_given_adams_betas_says_whose_setting_it_is() -> None:
    model = nn.MLP([2, 1], rng=0)
    with pytest.raises(TypeError, match=r"^SGD: there is no argument betas=.*Adam"):
        optim.SGD(model, learning_rate=0.1, betas=(0.9, 0.999))
    with pytest.raises(TypeError, match=r"^Adam: there is no argument momentum=.*SGD"):
        optim.Adam(model, momentum=0.9)


@pytest.mark.parametrize(("keyword", "said"), [("callback", "callbacks"), ("epoch", "episodes=")])
def test_fit_keyword_slips_get_advice(keyword: str, said: str) -> None:
    model = nn.MLP([1, 1], rng=0)
    with pytest.raises(TypeError, match=rf"^fit: there is no argument {keyword}=.*{said}"):
        fit(model, np.zeros((2, 1)), np.zeros((2, 1)), optimizer=optim.SGD(model, learning_rate=0.1),
            progress=False, **{keyword: 5})


# ---------------------------------------------------------------------------- (j) records of named fields


def test_dataset_refuses_a_structured_array_with_fits_advice_which_runs() -> None:
    table = np.genfromtxt(io.StringIO("a,b,y\n1,2,0\n3,4,1\n5,6,1\n"), delimiter=",", names=True)
    with pytest.raises(TypeError, match=r"^Dataset: the inputs are a structured array \(fields 'a', 'b'\).*"
                                        r"recfunctions\.structured_to_unstructured\(inputs\[\['a', 'b'\]\]\)"):
        Dataset(table[["a", "b"]], table["y"])
    with pytest.raises(TypeError, match=r"^Dataset: the labels are a structured array .*labels\['y'\]"):
        Dataset(np.zeros((3, 2)), table[["y"]])
    ds = Dataset(recfunctions.structured_to_unstructured(table[["a", "b"]]), table["y"])
    np.testing.assert_array_equal(ds.inputs, [[1, 2], [3, 4], [5, 6]])


# --------------------------------------------------------------------------------------- (k) a dict's keys


def test_dict_keys_are_advised_as_list_not_sorted_which_would_pair_them_wrongly() -> None:
    """``sorted(d.keys())`` beside ``list(d.values())`` pairs each key with another's value: a dict keeps its order,
    which list(...) keeps."""
    table = {3.0: 1, 1.0: 0, 2.0: 1}
    with pytest.raises(TypeError, match=r"list\(\.\.\.\)") as caught:
        Dataset(table.keys(), list(table.values()))
    assert "sorted" not in str(caught.value)
    with pytest.raises(TypeError, match=r"sorted\(\.\.\.\)"):  # a set has no order of its own: sorted stays
        checks.not_an_array({1, 2}, "the inputs", "Dataset")


# --------------------------------------------------------------------------------------------- (l) float32


def test_a_models_repr_shows_float32_after_float() -> None:
    model = nn.MLP([2, 3, 1], rng=0)
    assert "float32" not in repr(model)
    model.float()
    assert repr(model).count("dtype=float32") == 2
    assert "float32" in repr(model.layers[0])

    class Own(nn.Module):
        def __init__(self) -> None:
            self.scale = Value(np.ones(3))

    own = Own()
    assert "float32" not in repr(own)
    assert "float32" in repr(own.float())


# ------------------------------------------------------------------------------ more of the same in data.py


def test_replacing_a_datasets_array_says_how_and_the_advice_runs() -> None:
    """``train.inputs = train.inputs / 255`` got Python's bare "can't set attribute"."""
    ds = Dataset(np.array([[0.0, 255.0]]), np.array([1]))
    with pytest.raises(AttributeError, match=r"^Dataset: a Dataset is a tuple.*ds = ds\._replace\(inputs=\.\.\.\)"):
        ds.inputs = ds.inputs / 255  # type: ignore[misc]
    ds = ds._replace(inputs=ds.inputs / 255)
    np.testing.assert_array_equal(ds.inputs, [[0.0, 1.0]])
    with pytest.raises(AttributeError, match="has no attribute 'other'"):
        ds.other = 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(("keywords", "said"), [
    ({"inputs": np.zeros((2, 1)), "targets": np.zeros(2)}, r"there is no argument targets=; it is called labels="),
    ({"data": np.zeros((2, 1)), "target": np.zeros(2)}, r"there is no argument data= .*inputs"),
], ids=["targets", "scikit-learn"])
def test_dataset_keywords_of_fit_and_scikit_learn_get_advice(keywords: dict, said: str) -> None:
    with pytest.raises(TypeError, match=rf"^Dataset: {said}"):
        Dataset(**keywords)


def test_dataset_of_a_dataset_says_unpack_it() -> None:
    ds = _samples()
    with pytest.raises(TypeError, match=r"^Dataset: the inputs are a Dataset .*Dataset\(\*data"):
        Dataset(ds)  # type: ignore[call-arg]
    assert Dataset(*ds) == ds
