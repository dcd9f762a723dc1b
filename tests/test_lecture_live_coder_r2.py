"""A teacher live-coding in front of a class, in a plain Python REPL and in IPython (second pass): typos one letter
off, other libraries' names, ``fit`` with its arguments swapped, reprs pasted back, ``dir()`` and tab completion.
What the class sees of an error is what Python's own printer of uncaught errors writes (``sys.__excepthook__``, which
adds "Did you mean: …?" for a name a letter or two off), so the tests read it there.
The xfail tests failed on the code before their fix; the others pin what such a teacher relies on."""

from __future__ import annotations

import contextlib
import importlib
import io
import sys

import numpy as np
import pytest

from tinygrad_edu import Value, fit, nn, optim
from tinygrad_edu.write_instead import WRITE_INSTEAD


def _printed(error: BaseException) -> str:
    """The last line the REPL prints for ``error``, Python's suggestion included."""
    printed = io.StringIO()
    with contextlib.redirect_stderr(printed):
        sys.__excepthook__(type(error), error, None)
    return printed.getvalue().strip().splitlines()[-1]


def _attribute_error(obj: object, name: str) -> str:
    """What the REPL prints for ``obj.name`` typed in (the attribute access itself: Python's getattr() leaves out
    what the suggestion needs)."""
    with pytest.raises(AttributeError) as caught:
        eval(f"obj.{name}", {"obj": obj})
    return _printed(caught.value)


TYPOS = [("tinygrad_edu.nn", "mlp", "MLP"), ("tinygrad_edu.nn", "Netwrok", "Network"),
         ("tinygrad_edu.losses", "squared_eror", "squared_error"), ("tinygrad_edu.functional", "sofmax", "softmax"),
         ("tinygrad_edu.autodiff", "hesian", "hessian"), ("tinygrad_edu.calculus", "stationary_piont",
                                                          "stationary_point"),
         ("tinygrad_edu.viz", "draw_dependancy_tree", "draw_dependency_tree"), ("tinygrad_edu", "no_gard", "no_grad"),
         ("tinygrad_edu.testing", "check_gradient", "check_gradients")]


@pytest.mark.parametrize(("module", "typo", "meant"), TYPOS, ids=[f"{m}.{t}" for m, t, _ in TYPOS])
def test_a_typo_of_a_module_name_gets_pythons_did_you_mean(module: str, typo: str, meant: str) -> None:
    printed = _attribute_error(importlib.import_module(module), typo)
    assert printed.endswith(f"Did you mean: {meant!r}?"), printed


def test_a_typo_in_a_module_without_its_own_getattr_gets_did_you_mean_too() -> None:
    """Guard: the behaviour the modules above now match (optim and data have no __getattr__ of their own)."""
    assert _attribute_error(optim, "Armjio").endswith("Did you mean: 'Armijo'?")
    from tinygrad_edu import data
    assert _attribute_error(data, "xsquard").endswith("Did you mean: 'xsquared'?")


@pytest.mark.parametrize(("module", "name", "advice"), [
    ("tinygrad_edu.nn", "Linear", "nn.Layer(in_size, out_size, activation='identity')"),
    ("tinygrad_edu.losses", "MSELoss", "losses.mean_squared_error"),
    ("tinygrad_edu.functional", "cross_entropy", "tinygrad_edu.losses"),
    ("tinygrad_edu.viz", "draw_dot", "draw_graph(root)")])
def test_another_librarys_name_keeps_its_advice_and_no_guess(module: str, name: str, advice: str) -> None:
    """Guard: the advice for another library's name is the whole message, with no guess from dir() after it."""
    printed = _attribute_error(importlib.import_module(module), name)
    assert advice in printed and "Did you mean" not in printed, printed


@pytest.mark.parametrize(("typo", "meant"), [("bakward", "backward"), ("detatch", "detach"),
                                             ("reqiures_grad", "requires_grad"), ("zero_grd", "zero_grad")])
def test_a_typo_of_a_value_attribute_names_the_real_one(typo: str, meant: str) -> None:
    """Guard: Python's suggestion comes from dir(v), which lists the Value's own attributes."""
    assert _attribute_error(Value(2.0), typo).endswith(f"Did you mean: {meant!r}?")


@pytest.mark.parametrize("pasted", ["Value(data=2.0, grad=None)", "Value(data=2.0, grad=None, label='v')",
                                    "Value(data=[], shape=(0,), grad=None)"])
def test_a_pasted_repr_of_a_value_says_what_to_write(pasted: str) -> None:
    with pytest.raises(TypeError) as caught:
        eval(pasted, {"Value": Value})
    message = str(caught.value)
    assert message.startswith("Value: there is no argument "), message
    assert "unexpected keyword" not in message and "backward()" in message, message


def test_value_with_a_dtype_keyword_says_how_to_make_a_float32_value() -> None:
    with pytest.raises(TypeError, match=r"^Value: there is no argument dtype=.*astype\(np\.float32\)"):
        Value([1.0, 2.0], dtype=np.float32)


def test_the_ways_the_dtype_error_names_make_a_float32_value() -> None:
    """Guard: both routes the advice names give float32 numbers and a float32 gradient of 2x (closed form)."""
    for v in (Value(np.asarray([1.0, 2.0], dtype=np.float32)), Value([1.0, 2.0]).astype(np.float32)):
        assert v.dtype == np.float32
    leaf = Value(np.asarray([1.0, -3.0], dtype=np.float32))
    (leaf * leaf).sum().backward()
    assert leaf.grad.dtype == np.float32
    np.testing.assert_array_equal(leaf.grad, np.asarray([2.0, -6.0], dtype=np.float32))


def test_a_value_keyword_a_letter_off_names_the_one_meant() -> None:
    with pytest.raises(TypeError, match=r"^Value: there is no argument requires_gard=; did you mean requires_grad=\?"):
        Value(1.0, requires_gard=False)


def test_a_value_is_built_from_an_int_with_its_keywords_as_before() -> None:
    """Guard: ``Value(1)`` is a float64 leaf holding 1.0, its keywords taken by name."""
    v = Value(1, label="x", requires_grad=False)
    assert v.dtype == np.float64 and v.item() == 1.0 and v.label == "x" and not v.requires_grad


def test_every_name_dir_gives_of_a_value_can_be_read() -> None:
    v = Value([1.0, 2.0])
    unreadable = []
    for name in dir(v):
        try:
            getattr(v, name)
        except Exception as error:  # noqa: BLE001  (any error: tab completion would offer a name that raises)
            unreadable.append((name, type(error).__name__))
    assert unreadable == []


def test_numpy_ma_still_refuses_a_value() -> None:
    """Guard: leaving _mask out of dir() changes nothing about what it is there for."""
    with pytest.raises(TypeError, match="numpy.ma"):
        np.ma.masked_array([1.0, 2.0], mask=[False, True]) + Value([1.0, 2.0])


def test_jedi_completion_of_a_value_lists_no_advice_only_names() -> None:
    """Guard: IPython's default completion (jedi, on the live object) offers what exists, not the names that are
    there only to say what to write (v.flatten, v.clamp, v.is_leaf)."""
    jedi = pytest.importorskip("jedi")
    v = Value([1.0, 2.0])
    offered = {c.name for c in jedi.Interpreter("v.", [{"v": v}]).complete()}
    assert {"backward", "grad", "reshape", "requires_grad", "zero_grad"} <= offered
    assert offered.isdisjoint(name for name in WRITE_INSTEAD if not name.startswith("_"))


def test_fit_with_the_model_last_says_the_model_comes_first() -> None:
    x = np.linspace(-1, 1, 6).reshape(-1, 1)
    net = nn.MLP([1, 3, 1], rng=0)
    with pytest.raises(TypeError, match=r"got ndarray.*fit\(model, inputs, targets"):
        fit(x, x ** 2, net, optimizer=optim.SGD(net, 0.1), episodes=1, progress=False)


def test_fit_in_the_right_order_takes_the_closed_form_step() -> None:
    """Guard: one full-batch step of gradient descent on a 1-1 identity layer, z = w·x + b, against the closed form
    of the squared error's gradient (2/n) Σ (z − y)·x and (2/n) Σ (z − y)."""
    x = np.array([[0.5], [-1.0], [2.0]])
    y = np.array([[1.0], [0.0], [3.0]])
    layer = nn.Network(nn.Layer(1, 1, activation="identity", rng=0))
    w, b = float(layer[0].weights.data[0, 0]), float(layer[0].biases.data[0])
    fit(layer, x, y, optimizer=optim.GradientDescent(layer, 0.1), episodes=1, progress=False)
    residual = (w * x + b - y).ravel()
    dw, db = 2 * float((residual * x.ravel()).mean()), 2 * float(residual.mean())
    assert float(layer[0].weights.data[0, 0]) == pytest.approx(w - 0.1 * dw, rel=1e-12)
    assert float(layer[0].biases.data[0]) == pytest.approx(b - 0.1 * db, rel=1e-12)
