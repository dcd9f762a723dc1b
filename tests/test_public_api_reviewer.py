"""The public API surface added in the thirty-second round, reviewed name by name: what users are meant to use
(documented, in ``__all__``), and what is public only because two modules share it (out of ``__all__``, of
``dir()``, of the package's top-level namespace and of the README)."""

from __future__ import annotations

import importlib
import re
import statistics
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu
import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses, nn, notation, optim, training, write_instead

README = Path(__file__).resolve().parent.parent / "README.md"

#: The constants made public this round only because two modules share them: (module, name, a module using it).
#: (functional's BINARY_ADVICE was one: it is write_instead's API now, beside the other advice tables.)
SHARED = [("checks", "KERAS_ABSENT", "nn"), ("checks", "PARAMETER_ADVICE", "nn"), ("losses", "KERAS_NAMES", "training")]


# ---- defects ------------------------------------------------------------------------------------------------------

def test_dir_of_a_value_leaves_out_as_integer_ratio_which_always_raises() -> None:
    v = Value(0.5)
    with pytest.raises(TypeError, match="statistics.mean"):
        v.as_integer_ratio()
    with pytest.raises(TypeError, match="sum\\(values\\) / len\\(values\\)"):
        statistics.mean([Value(1.0), Value(2.0)])  # (what the method is there for still works)
    assert "as_integer_ratio" not in dir(v)
    assert {"astype", "item", "backward"} <= set(dir(v))


@pytest.mark.parametrize("function", [notation.smallest_normal, notation.summary, notation.numbers_of],
                         ids=lambda f: f.__name__)
def test_notation_errors_name_the_argument_array(function) -> None:
    name = function.__name__
    with pytest.raises(TypeError, match=rf"^{name}: array has dtype complex128 \(ndarray\); give real numbers$"):
        function(np.array([1j]))
    with pytest.raises(ValueError, match=rf"^{name}: array is not a rectangular array"):
        function([[1.0], [1.0, 2.0]])


def test_fit_calls_its_own_cost_names_its_own() -> None:
    model = nn.MLP([1, 1], rng=0)
    for name in losses.COSTS:
        with pytest.raises(TypeError, match=rf"not its name '{name}'; cost=losses\.{name}$"):
            training.fit(model, np.ones((2, 1)), np.ones((2, 1)), cost=name,
                         optimizer=optim.SGD(model, learning_rate=0.1), episodes=1)
    with pytest.raises(TypeError, match=r"Keras's 'mse' is losses\.mean_squared_error"):  # (Keras's own: named so)
        training.fit(model, np.ones((2, 1)), np.ones((2, 1)), cost="mse",
                     optimizer=optim.SGD(model, learning_rate=0.1), episodes=1)


# ---- guards -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("module_name", "name", "user"), SHARED, ids=[f"{m}.{n}" for m, n, _ in SHARED])
def test_a_shared_constant_is_no_advertised_api(module_name: str, name: str, user: str) -> None:
    """Public only so that another module may use it (tests/test_layering.py forbids private names across
    modules): used there, documented as such beside it, and out of ``__all__``, ``dir()``, the top level and the
    README."""
    module = importlib.import_module(f"tinygrad_edu.{module_name}")
    assert isinstance(getattr(module, name), (str, dict))
    assert name not in module.__all__ and name not in dir(module)
    assert not hasattr(tinygrad_edu, name) and name not in dir(tinygrad_edu)
    assert name not in README.read_text(encoding="utf-8")
    source = Path(module.__file__).read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(source) if text.startswith(f"{name} = "))
    assert source[line - 1].startswith("#"), f"{module_name}.{name} has no comment saying what it is"
    users = Path(importlib.import_module(f"tinygrad_edu.{user}").__file__).read_text(encoding="utf-8")
    assert re.search(rf"\b{name}\b", users), f"{user} does not use {module_name}.{name}"


@pytest.mark.parametrize("name", ["misspelt_keyword", "outside_the_package"])
def test_the_new_checks_functions_are_the_checks_modules_api_but_not_the_packages(name: str) -> None:
    checks = importlib.import_module("tinygrad_edu.checks")
    assert name in checks.__all__ and name in dir(checks)
    assert not hasattr(tinygrad_edu, name)
    assert getattr(checks, name).__doc__


def test_misspelt_keyword_suggests_the_parameter_a_letter_off() -> None:
    checks = importlib.import_module("tinygrad_edu.checks")

    def fit(model, *, episodes=1, learning_rate=0.1):
        return model

    assert checks.misspelt_keyword(fit, ["episode"]) == "there is no argument episode=; did you mean episodes=?"
    assert checks.misspelt_keyword(fit, ["episodes", "learning_rat"]).endswith("did you mean learning_rate=?")
    assert checks.misspelt_keyword(fit, ["momentum"]) == ""  # (nothing close)
    assert checks.misspelt_keyword(lambda **kwargs: 0, ["episode"]) == ""  # (anything goes with **kwargs)


def test_the_binary_advice_computes_the_binary_cross_entropy_and_its_gradient() -> None:
    """The expression BINARY_ADVICE tells the user to write is the binary cross-entropy, with the gradient
    (σ(z) − y)/n, also where σ(z) rounds to 0 or 1."""
    expression = re.search(r"\((y \* F\.softplus\(-z\) .*?)\)\.mean\(\)", write_instead.BINARY_ADVICE)
    assert expression, write_instead.BINARY_ADVICE
    z_numbers = np.array([-3.0, -0.5, 0.0, 1.5, 4.0])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    z = Value(z_numbers)
    cost = eval(f"({expression.group(1)}).mean()", {"F": F, "y": y, "z": z})  # noqa: S307 (the advice's own text)
    cost.backward()
    sigma = 1 / (1 + np.exp(-z_numbers))
    assert cost.item() == pytest.approx(-np.mean(y * np.log(sigma) + (1 - y) * np.log(1 - sigma)), rel=1e-12)
    np.testing.assert_allclose(z.grad, (sigma - y) / len(y), rtol=1e-12)
    far = Value(np.array([800.0]))
    far_cost = eval(f"({expression.group(1)}).mean()", {"F": F, "y": np.array([0.0]), "z": far})  # noqa: S307
    assert far_cost.item() == pytest.approx(800.0)  # ln(1 − σ(800)) = −800, finite, where σ rounds to 1


@pytest.mark.parametrize("data", [np.arange(6.0).reshape(3, 2), np.array([np.nan, 1.0]), np.array(2.0)],
                         ids=["matrix", "nan", "0-d"])
@pytest.mark.parametrize("item", [2.0, 7.0, np.nan, [4.0, 5.0]], ids=["2", "7", "nan", "row"])
def test_in_answers_as_numpy_and_records_nothing(data: np.ndarray, item) -> None:
    v = Value(data)
    try:
        expected = bool(np.any(data == np.asarray(item)))
    except ValueError:
        pytest.skip("numpy cannot compare these shapes")
    assert (item in v) is expected
    assert (Value(item) in v) is expected  # (a Value as the item: its numbers)
    assert v.op is None and not v.parents


def test_complex_and_reversed_of_a_value() -> None:
    assert complex(Value(2.5)) == complex(2.5) and type(complex(Value(2.5))) is complex
    with pytest.raises(TypeError, match=r"^complex: only a Value of size 1 is one number; this one has shape \(2,\)"):
        complex(Value([1.0, 2.0]))
    v = Value([1.0, 2.0, 3.0])
    rows = list(reversed(v))
    assert [row.item() for row in rows] == [3.0, 2.0, 1.0]
    sum(rows[i] * (i + 1) for i in range(3)).backward()  # (each one indexes v: its gradient flows back)
    np.testing.assert_array_equal(v.grad, [3.0, 2.0, 1.0])
    with pytest.raises(TypeError, match="^reversed: a 0-d Value"):
        reversed(Value(1.0))


@pytest.mark.parametrize(("obj", "names"), [
    (lambda: nn.MLP([2, 1], rng=0), ["compile", "fit", "evaluate", "predict", "summary", "get_weights",
                                     "set_weights", "count_params", "register_buffer"]),
    (lambda: training.History(), ["history", "loss", "epoch"]),
], ids=["Module", "History"])
def test_the_other_libraries_names_are_advice_not_api(obj, names: list[str]) -> None:
    instance = obj()
    for name in names:
        assert name not in dir(instance) and not hasattr(instance, name)
        with pytest.raises(AttributeError, match=rf"has no attribute {name}\b.*: \S"):
            getattr(instance, name)
        assert not hasattr(tinygrad_edu, name) or name == "fit"  # (fit: the function, training.fit)
