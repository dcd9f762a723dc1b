"""A reader of the messages new in the fortieth round, each triggered for real and read as its user would: is it true
of the call that produced it, and does the advice it gives work when pasted?"""

import numpy as np
import pytest

from tinygrad_edu import nn, optim
from tinygrad_edu.data import Dataset


def _net() -> nn.Network:
    return nn.Network(nn.Layer(2, 1, rng=0))


# --- the seed's η on an optimizer without a learning rate ------------------------------------------------------------

@pytest.mark.parametrize("cls", [optim.RandomSearch, optim.Armijo])
@pytest.mark.parametrize("name", ["η", "eta", "step_size"])
def test_eta_is_not_called_a_learning_rate_where_there_is_none(cls, name):
    """RandomSearch(model, η=0.1) said "the learning rate η is called scale= here": scale is the size of its random
    changes, no learning rate (its lr= says so since this round), and Armijo's initial_step is only its first trial
    step, the rule choosing each one (as Newton's message says).  Both ways, keyword and attribute."""
    with pytest.raises(TypeError) as caught:
        cls(_net(), **{name: 0.1})
    opt = cls(_net())
    with pytest.raises(AttributeError) as set_caught:
        setattr(opt, name, 0.1)
    for message in (str(caught.value), str(set_caught.value)):
        assert "the learning rate η is called" not in message
        assert "no learning rate" in message
        assert ("scale" if cls is optim.RandomSearch else "initial_step") in message


@pytest.mark.parametrize("cls", [optim.GradientDescent, optim.SGD, optim.Adam])
def test_eta_still_names_the_learning_rate_where_there_is_one(cls):
    with pytest.raises(TypeError, match="the learning rate η is called learning_rate= here"):
        cls(_net(), η=0.1)


# --- a Dataset unpacked as PyTorch's samples in a comprehension ------------------------------------------------------

def _two_samples() -> Dataset:
    return Dataset(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0, 1]))


def test_a_list_comprehension_over_samples_is_refused_as_the_loop_is():
    """[f(x, y) for x, y in ds] is PyTorch's loop over samples, as ``for x, y in ds`` is, which is refused.  On Python
    3.11 the comprehension is a function of its own that unpacks: it went through the pair silently (two samples:
    x the first row of inputs, y the second) or raised Python's bare "too many values to unpack"."""
    ds = _two_samples()
    with pytest.raises(TypeError, match=r"zip\(ds.inputs, ds.labels\)"):
        [(x, y) for x, y in ds]  # noqa: B018
    with pytest.raises(TypeError, match=r"zip\(ds.inputs, ds.labels\)"):
        {int(y): x for x, y in ds}  # noqa: B018
    with pytest.raises(TypeError, match=r"zip\(ds.inputs, ds.labels\)"):
        list(x for x, y in ds)
    pairs = [(x, y) for x, y in zip(ds.inputs, ds.labels)]  # the advice, followed: sample and label
    assert [int(y) for _, y in pairs] == [0, 1]


def test_comprehensions_that_do_not_unpack_samples_still_work():
    ds = _two_samples()
    assert [a.shape for a in ds] == [(2, 2), (2,)]
    assert [len(a) for a in ds] == [2, 2]
    inputs, labels = ds
    assert [np.shape(a) for a in (inputs, labels)] == [(2, 2), (2,)]
    assert [(a.ndim, b) for a, b in zip(ds, "ab")] == [(2, "a"), (1, "b")]


# --- a vjp returning None, on an Op given one Value twice ------------------------------------------------------------

def test_a_vjp_returning_none_is_not_pinned_on_the_other_input_of_the_same_value():
    """Op(x, x) whose second vjp returns None (a hook that only looks at g): the message named "its vjp for input
    0", whose vjp returns g, since both inputs are the same Value; it names both places now, and the advice."""
    from tinygrad_edu import Op, Value

    x = Value(np.array([1.0, 2.0]))
    add = Op("add2", lambda a, b: a + b, (lambda g, out, a, b: g, lambda g, out, a, b: None))
    with pytest.raises(TypeError) as caught:
        add(x, x).sum().backward()
    message = str(caught.value)
    assert "for input 0 returned" not in message
    assert "for input 0 or 1 (one Value, given 2 times) returned NoneType" in message
    assert "g itself for one that only looks at g" in message
    y = Value(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="its vjp for input 1 returned NoneType"):
        add(y, x).sum().backward()


# --- check_gradients' rounding note: a larger eps only if the check passes with it -----------------------------------

def test_the_suggested_eps_passes_at_every_disagreeing_element_not_only_the_worst():
    """0.1·x₀² + 10⁻³·tanh(3x₁) + 10⁸ at (0.01, 0.5): f is too large for the default step at both elements.  The note
    suggested eps=1, tried at the worst element alone (x₀, a quadratic: any step resolves it); followed, the check
    failed again at x₁ and blamed a kink that tanh does not have.  A step is suggested only if every disagreeing
    element passes with it, and one suggested passes when followed."""
    import re

    from tinygrad_edu.testing import GradientCheckError, check_gradients

    def f(v):
        return v[0] * v[0] * 1e-1 + (v[1] * 3.0).tanh() * 1e-3 + 1e8

    for x in (np.array([0.01, 0.5]), np.array([0.05, 0.3])):
        with pytest.raises(GradientCheckError) as caught:
            check_gradients(f, x)
        message = str(caught.value)
        assert "within the rounding of f's values over the step" in message
        suggested = re.search(r"larger eps, e\.g\. eps=([0-9.e+-]+)\)", message)
        if suggested is None:
            assert "a larger eps does not help" in message
        else:
            check_gradients(f, x, eps=float(suggested.group(1)))
    with pytest.raises(GradientCheckError, match="a larger eps does not help"):
        check_gradients(f, np.array([0.01, 0.5]))
