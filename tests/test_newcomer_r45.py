"""Round 45's newcomer from micrograd, PyTorch and numpy, each test failing before its fix:

- micrograd's ``Value(data, (a, b), '+')``, how its operations make their results, was told only that
  ``requires_grad must be True or False``, and ``Value(data, _children=..., _op=...)`` got Python's bare "unexpected
  keyword argument": both now say what micrograd's form is here (the operation records its inputs, or an Op).
- numpy's ``v.copy()`` was a bare AttributeError: it now says what copies (``v * 1.0``, ``Value(v.data.copy())``)
  and that ``v.detach()`` shares the numbers, which is checked here.
- ``v.requires_grad_()`` (PyTorch's ``torch.randn(3).requires_grad_()``) said only ``v.requires_grad = True``: it now
  says a Value requires a gradient already and that ``requires_grad_`` is a model's method.
- A path starting with ``~`` (the shell's, pandas' and torchvision's home folder) is taken as it is, as ``open``
  takes it: a missing one now says so (save, load, load_mnist), and ``download_mnist`` no longer makes a folder named
  ``~`` in the current folder (torchvision's ``MNIST(root="~/data", download=True)`` habit) but refuses, saying so.
- Activation names written another way (``"ReLU"``, ``"LeakyReLU"``, scikit-learn's ``"logistic"``) were refused with
  the list alone: they now name the spelling here.
- ``nn.MLP(sizes, learning_rate=0.1)`` (scikit-learn's MLPRegressor holds its learning rate) was Python's bare
  "unexpected keyword argument": it now says the learning rate belongs to the optimizer, as ``fit``'s refusal does.
- ``F.leaky_relu(x, alpha=0.2)`` (Keras's and TensorFlow's word) was Python's bare "unexpected keyword argument": it
  now names ``negative_slope=``.
- ``nn.MLP.load(path)``, on the class (gensim's ``Word2Vec.load(path)``, Keras's ``load_model``), was Python's
  "missing 1 required positional argument: 'path'" for a call that gave the path: it now says that ``load`` is a
  method of a model built as the saved one, or ``nn.load(path)``.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import Op, Value, data, functional, losses, nn, optim


# --- micrograd's Value(data, _children, _op) -------------------------------------------------------------------------
@pytest.mark.parametrize("call", [lambda: Value(2.0, (), ""), lambda: Value(2.0, (Value(1.0), Value(1.0)), "+"),
                                  lambda: Value(2.0, [Value(1.0)]), lambda: Value(2.0, {Value(1.0)})])
def test_micrograds_children_in_place_of_requires_grad_say_what_they_are_here(call: Any) -> None:
    with pytest.raises(TypeError, match=r"^Value: requires_grad must be True or False, got (tuple|list|set) ") as info:
        call()
    message = str(info.value)
    assert "micrograd's Value(data, _children, _op)" in message and "Op(name, forward, vjp)" in message, message


@pytest.mark.parametrize("keyword", ["_children", "_op"])
def test_micrograds_keywords_say_what_they_are_here(keyword: str) -> None:
    with pytest.raises(TypeError, match=rf"^Value: there is no argument {keyword}= .*micrograd's Value\(data, "
                                        r"_children, _op\)"):
        Value(2.0, **{keyword: ()})


def test_what_the_micrograd_advice_says_to_write_runs_and_records_the_inputs() -> None:
    a, b = Value(2.0), Value(-3.0)
    out = a * b  # (micrograd's Value(a.data * b.data, (a, b), '*'))
    assert out.parents[0] is a and out.parents[1] is b and out.op == "mul"
    cube = Op("cube", lambda x: x ** 3, lambda g, out, x: 3 * x ** 2 * g)
    c = cube(a)
    c.backward()
    assert c.parents[0] is a and float(a.grad) == 12.0  # d(a³)/da = 3a² at a = 2
    leaf = Value(2.0, label="a")
    assert leaf.op is None and leaf.parents == () and leaf.label == "a"


@pytest.mark.parametrize("flag, expected", [(True, True), (False, False), (np.True_, True), (np.False_, False)])
def test_requires_grad_given_as_a_bool_still_works(flag: Any, expected: bool) -> None:
    v = Value(1.0, requires_grad=flag)
    assert type(v.requires_grad) is bool and v.requires_grad is expected


@pytest.mark.parametrize("flag", [1, None, "yes"])
def test_other_wrong_flags_keep_their_short_message(flag: Any) -> None:
    with pytest.raises(TypeError, match=r"^Value: requires_grad must be True or False, got ") as info:
        Value(1.0, requires_grad=flag)
    assert "micrograd" not in str(info.value)


# --- numpy's v.copy() -------------------------------------------------------------------------------------------------
def test_copy_says_what_copies_and_what_shares() -> None:
    v = Value(np.array([1.0, 2.0]))
    with pytest.raises(AttributeError, match=r"no attribute 'copy'; write v \* 1\.0.*Value\(v\.data\.copy\(\)\)"
                                             r".*v\.detach\(\) and v\.numpy\(\) share"):
        v.copy()  # type: ignore[attr-defined]
    assert "copy" not in dir(v)


def test_what_the_copy_advice_says_holds() -> None:
    v = Value(np.array([1.0, 2.0]))
    on_graph, leaf, detached = v * 1.0, Value(v.data.copy()), v.detach()
    with_no_graph = v.numpy()
    v.data[0] = 9.0  # (a write into the array: seen by what shares it)
    assert on_graph.data[0] == 1.0 and leaf.data[0] == 1.0  # numbers of their own
    assert detached.data[0] == 9.0 and with_no_graph[0] == 9.0  # shared
    assert on_graph.parents[0] is v and leaf.op is None
    (on_graph * np.array([3.0, 5.0])).sum().backward()
    np.testing.assert_array_equal(v.grad, [3.0, 5.0])  # d(Σ c·(1.0·v))/dv = c, exactly


# --- PyTorch's v.requires_grad_() -------------------------------------------------------------------------------------
def test_requires_grad_underscore_says_a_value_needs_none_and_names_the_models_method() -> None:
    v = Value(np.zeros(3))
    with pytest.raises(AttributeError, match=r"no attribute 'requires_grad_'; write v\.requires_grad = True "
                                             r"\(or False\).*Value\(np\.random\.randn\(3\)\).*"
                                             r"model\.requires_grad_\(flag\) is a method") as info:
        v.requires_grad_()  # type: ignore[attr-defined]
    assert info.value.name == "requires_grad_"
    assert Value(np.random.randn(3)).requires_grad is True  # what it says: a Value made by hand requires one
    model = nn.MLP([2, 3, 1], rng=0)
    assert model.requires_grad_(False) is model and model.parameters() == []  # the model's method, as it says


# --- '~' in a path (the shell's, pandas' and torchvision's home folder) -----------------------------------------------
def test_a_missing_path_starting_with_a_tilde_says_it_is_not_the_home_folder(tmp_path: Any,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # (no folder named '~' here)
    model = nn.MLP([1, 2, 1], rng=0)
    hint = r"\('~' is not your home folder here, as for open\(\): give os\.path\.expanduser\("
    with pytest.raises(FileNotFoundError, match=rf"^save: cannot write '~/m\.npz': .*{hint}path\)\)"):
        model.save("~/m.npz")
    for load in (nn.load, model.load, nn.load_state):
        with pytest.raises(FileNotFoundError, match=rf"load(_state)?: No such file or directory {hint}path\)\)"):
            load("~/m.npz")
    with pytest.raises(FileNotFoundError, match=rf"^load_mnist: the folder ~/mnist does not exist {hint}root\)\)"):
        data.load_mnist("~/mnist")
    for fetch in (lambda: data.load_mnist("~/mnist", download=True), lambda: data.download_mnist("~/mnist")):
        with pytest.raises(ValueError, match=rf"^download_mnist: root '~/mnist' would make a folder named '~' "
                                             rf"in the current folder {hint}root\)\)"):
            fetch()
    assert list(tmp_path.iterdir()) == []  # nothing made, nothing fetched


def test_other_missing_paths_keep_their_message_and_the_expanded_path_works(tmp_path: Any,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    with pytest.raises(FileNotFoundError) as info:
        nn.load("m.npz")
    assert "~" not in str(info.value) and "home folder" not in str(info.value)
    model = nn.MLP([1, 2, 1], rng=0)
    model.save(os.path.expanduser("~/m.npz"))  # what the message says to write
    assert (tmp_path / "home" / "m.npz").is_file()
    again = nn.load(os.path.expanduser("~/m.npz"))
    np.testing.assert_array_equal(again(np.array([[0.5]])).data, model(np.array([[0.5]])).data)


def test_a_folder_named_tilde_that_exists_is_used_as_given(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "~").mkdir()
    model = nn.MLP([1, 2, 1], rng=0)
    model.save("~/m.npz")  # (a folder of that name, made on purpose: the path is taken as it is)
    assert (tmp_path / "~" / "m.npz").is_file()
    with pytest.raises(FileNotFoundError, match=r"^load_mnist: neither "):
        data.load_mnist("~")


# --- nn.MLP.load(path), on the class ------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [nn.MLP, nn.Network, nn.Module, nn.Layer])
def test_load_called_on_the_class_says_it_is_a_models_method(cls: Any, tmp_path: Any) -> None:
    path = tmp_path / "m.npz"
    nn.MLP([2, 3, 1], rng=0).save(path)
    for given in (str(path), path):
        with pytest.raises(TypeError, match=r"^load: model\.load\(path\) is a method of a model built as the saved "
                                            r"one, .*or nn\.load\(path\), which rebuilds"):
            cls.load(given)


def test_load_on_a_model_without_a_path_is_refused_as_before_and_with_one_loads(tmp_path: Any) -> None:
    path = tmp_path / "m.npz"
    saved = nn.MLP([2, 3, 1], rng=0)
    saved.save(path)
    model = nn.MLP([2, 3, 1], rng=1)
    with pytest.raises(TypeError, match=r"^load: expected a file path \(str or os\.PathLike\), got NoneType"):
        model.load()  # (as model.load(None) says)
    assert model.load(path) is model  # what the message says to write
    for name, value in saved.state_dict().items():
        np.testing.assert_array_equal(model.state_dict()[name], value)
    np.testing.assert_array_equal(nn.load(path)(np.ones(2)).data, saved(np.ones(2)).data)


# --- activation names written another way ------------------------------------------------------------------------
@pytest.mark.parametrize("given, name", [("ReLU", "relu"), ("Sigmoid", "sigmoid"), ("LeakyReLU", "leaky_relu"),
                                         ("leaky-relu", "leaky_relu"), ("Tanh", "tanh"), ("Softplus", "softplus"),
                                         ("Identity", "identity")])
def test_an_activation_written_another_way_names_the_spelling_here(given: str, name: str) -> None:
    for build in (lambda: nn.MLP([1, 2, 1], activation=given), lambda: nn.Layer(1, 2, activation=given),
                  lambda: nn.MLP([1, 2, 1], output_activation=given)):
        with pytest.raises(ValueError, match=rf"unknown (output_)?activation '{given}' \(it is written '{name}' "
                                             r"here\); choose one of"):
            build()
    layer = nn.Layer(1, 2, activation=name, rng=0)  # what it says to write
    z = np.array([[-2.0], [0.5]]) @ layer.weights.data + layer.biases.data
    np.testing.assert_array_equal(layer(np.array([[-2.0], [0.5]])).data, functional.ACTIVATIONS[name](z).data)


def test_scikit_learns_logistic_is_the_sigmoid() -> None:
    with pytest.raises(ValueError, match=r"unknown activation 'logistic' \(scikit-learn's 'logistic' is 'sigmoid' "
                                         r"here\)"):
        nn.MLP([1, 2, 1], activation="logistic")
    layer = nn.Layer(1, 1, activation="sigmoid", rng=0)
    z = 0.3 * layer.weights.data[0, 0] + layer.biases.data[0]
    assert layer(np.array([0.3])).item() == pytest.approx(1 / (1 + np.exp(-z)), rel=1e-15)  # 1/(1 + e^(−z))


def test_names_of_no_activation_keep_their_short_message() -> None:
    with pytest.raises(ValueError, match=r"^MLP: unknown activation 'relu6'; choose one of "):
        nn.MLP([1, 2, 1], activation="relu6")


# --- the learning rate given to the network ----------------------------------------------------------------------
@pytest.mark.parametrize("keyword, whose", [("learning_rate", ""), ("lr", r" \(another library's name\)")])
def test_a_learning_rate_given_to_mlp_says_it_belongs_to_the_optimizer(keyword: str, whose: str) -> None:
    with pytest.raises(TypeError, match=rf"^MLP: there is no argument {keyword}={whose}; the learning rate belongs to "
                                        r"the optimizer, built from the model: optim\.SGD\(model, "
                                        r"learning_rate=0\.1\)"):
        nn.MLP([1, 2, 1], **{keyword: 0.1})
    model = nn.MLP([1, 2, 1], output_activation="identity", rng=0)  # what it says to write
    optimizer = optim.SGD(model, learning_rate=0.1)
    x, y = np.array([[0.5]]), np.array([[2.0]])
    before, output = model[1].biases.data.copy(), model(x).item()
    losses.squared_error(model(x), y).backward()
    optimizer.step()
    # C = (α² − y')² with the identity on the output layer: ∂C/∂b² = 2(α² − y'), and the step is b² − η · that
    np.testing.assert_allclose(model[1].biases.data, before - 0.1 * 2 * (output - 2.0), rtol=1e-15)


# --- Keras's alpha= of the leaky ReLU ---------------------------------------------------------------------------
def test_keras_alpha_of_leaky_relu_names_negative_slope() -> None:
    with pytest.raises(TypeError, match=r"^leaky_relu: there is no argument alpha= \(another library's name\); it is "
                                        r"called negative_slope= here"):
        functional.leaky_relu(Value([1.0, -1.0]), alpha=0.2)
    x = Value(np.array([1.5, -2.0]))
    y = functional.leaky_relu(x, negative_slope=0.2)  # what it says to write
    y.sum().backward()
    np.testing.assert_array_equal(y.data, [1.5, -0.4])  # x for x > 0, 0.2·x otherwise
    np.testing.assert_array_equal(x.grad, [1.0, 0.2])  # its derivative, 1 or 0.2
