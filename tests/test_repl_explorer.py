"""A learner exploring in the REPL and in Jupyter by introspection: ``help()``, ``dir()`` and tab completion,
reprs and rich displays.  The xfail tests failed on the code before their fix; the others pin what such a learner
relies on."""

from __future__ import annotations

import importlib
import pydoc
import xml.dom.minidom

import numpy as np
import pytest

from tinygrad_edu import Value, checks, nn, optim


def _help_text(cls: type) -> str:
    return pydoc.render_doc(cls, renderer=pydoc.plaintext)


def _described(text: str, name: str) -> str:
    """The line pydoc writes under the attribute ``name`` of a class ("" when it writes none)."""
    lines = text.splitlines()
    at = lines.index(f" |  {name}")
    following = lines[at + 1].strip(" |") if at + 1 < len(lines) else ""
    return following


def _absent_names(cls: type) -> dict[str, checks.Absent]:
    return {name: value for klass in cls.__mro__ for name, value in vars(klass).items()
            if isinstance(value, checks.Absent)}


def test_help_of_value_says_the_names_of_other_libraries_are_not_here() -> None:
    text = _help_text(Value)
    absent = _absent_names(Value)
    assert {"flatten", "clamp", "is_leaf"} <= set(absent)
    for name, attribute in absent.items():
        if name.startswith("_"):  # (help lists no private names: micrograd's _prev, _backward)
            continue
        line = _described(text, name)
        assert "Not an attribute here" in line, (name, line)
        assert attribute.advice in line, (name, line)
    assert "v.reshape(-1)" in _described(text, "flatten")


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.GradientDescent, optim.Armijo, optim.Newton])
def test_help_of_an_optimizer_says_lr_and_param_groups_are_not_here(cls: type) -> None:
    text, absent = _help_text(cls), _absent_names(cls)
    for name in ("lr", "param_groups"):
        line = _described(text, name)
        assert line.startswith("Not an attribute here"), (name, line)
        assert absent[name].advice in line, (name, line)


def test_reading_an_absent_name_is_still_the_error_that_says_what_to_write() -> None:
    """The docstring given to these placeholders changes nothing about them: dir() leaves them out, reading raises."""
    v = Value([1.0, 2.0])
    assert "flatten" not in dir(v) and "reshape" in dir(v)
    with pytest.raises(AttributeError, match=r"reshape\(-1\)"):
        v.flatten  # noqa: B018
    opt = optim.SGD([v], learning_rate=0.1)
    assert "lr" not in dir(opt) and "learning_rate" in dir(opt)
    with pytest.raises(AttributeError, match="learning_rate"):
        opt.lr  # noqa: B018


@pytest.mark.parametrize("name", ["functional", "testing"])
def test_dir_of_the_user_facing_modules_shows_only_their_api(name: str) -> None:
    module = importlib.import_module(f"tinygrad_edu.{name}")
    shown = set(dir(module)) - {"expressions", "strategies"}  # testing's submodules, once imported
    assert shown == set(module.__all__)
    assert {"np", "math", "Any", "annotations"}.isdisjoint(dir(module))


def test_dir_of_testing_lists_a_submodule_only_once_it_is_there() -> None:
    """The listing can be followed: every name dir() gives is an attribute (tab completion must not offer one that
    raises), and the API is all there."""
    pytest.importorskip("hypothesis")
    import tinygrad_edu.testing as testing
    import tinygrad_edu.testing.strategies  # noqa: F401

    assert all(hasattr(testing, name) for name in dir(testing))
    assert set(testing.__all__) <= set(dir(testing))
    assert hasattr(testing.strategies, "arrays")


def test_a_network_names_the_frozen_parts_of_its_layers() -> None:
    net = nn.MLP([2, 3, 1], rng=0)
    net[0].requires_grad_(False)
    net[1].biases.requires_grad = False
    lines = repr(net).splitlines()
    assert lines[1] == "  (layers.1): Layer(2 → 3, activation='sigmoid')  # frozen: weights, biases"
    assert lines[2] == "  (layers.2): Layer(3 → 1, activation='sigmoid')  # frozen: biases"
    trainable = net[1].weights.size  # 3 × 1: the only numbers not frozen
    assert lines[-1] == f")  # {trainable} parameters"


def test_a_network_frozen_and_thawed_again_prints_as_before() -> None:
    net = nn.Network(nn.Layer(2, 3, activation="relu", name="hidden", rng=0), nn.Layer(3, 1, rng=1))
    before = repr(net)
    net.requires_grad_(False).requires_grad_(True)
    assert repr(net) == before
    assert "frozen" not in before and before.endswith(f"# {2 * 3 + 3 + 3 + 1} parameters")


def test_value_html_is_well_formed_and_counts_non_finite_numbers_it_does_not_show() -> None:
    """Jupyter's display of a Value: valid markup for a label with markup in it, a large array summarised, and the
    NaN/inf the summary hides counted (the counts from numpy, not from the package)."""
    rng = np.random.default_rng(0)
    data = rng.normal(size=(40, 50))
    data[rng.random(data.shape) < 0.05] = np.nan
    data[5, 7] = np.inf
    v = Value(data, label="<w & b>")
    page = v._repr_html_()
    xml.dom.minidom.parseString(page)  # raises on markup that is not well formed
    assert "&lt;w &amp; b&gt;" in page and "<w & b>" not in page
    assert f"{int(np.isnan(data).sum())} NaN" in page and "1 inf" in page
    assert str(data.shape) in page
    assert f"{int(np.isnan(data).sum())} NaN" in repr(v) and "shape=(40, 50)" in repr(v)
