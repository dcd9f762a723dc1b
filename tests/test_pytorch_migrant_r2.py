"""A training script ported from PyTorch from memory, second round: idioms that ran here with other semantics than
PyTorch's, or failed with a message that did not say what to write.  Found by an exploratory pass in the role of a
long-time PyTorch user; each marked test fails before its fix."""

import json
import re

import numpy as np
import pytest

from tinygrad_edu import Value
from tinygrad_edu import functional as F


def _logits():
    return Value(np.array([[1.0, 5.0], [7.0, 2.0]]))  # two samples, two classes: unpacking two rows "works"


# --- x.max(dim=1): PyTorch's (values, indices) -----------------------------------------------------------------

@pytest.mark.parametrize("name", ["max", "min"])
def test_max_with_dim_says_the_indices_are_argmax(name):
    """PyTorch's accuracy idiom ``_, predicted = outputs.max(dim=1)`` gives the class indices.  Here ``dim=`` was
    refused with "only axis and keepdims", so the port became ``_, predicted = outputs.max(axis=1)``, which for a
    batch of two unpacks the two maxima into ``_`` and ``predicted`` without an error.  The refusal now says that
    ``axis=`` gives the values alone and where the indices are."""
    logits = _logits()
    with pytest.raises(TypeError, match=rf"^{name}: there is no dim= here; v\.{name}\(axis=1\) gives the values "
                                        rf"alone, and PyTorch's indices are v\.data\.arg{name}\(axis=1\)"):
        getattr(logits, name)(dim=1)


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_with_the_axis_by_name_and_numpys_max_with_a_positional_axis_still_work(name):
    """Guard: ``v.max(axis=1)`` and numpy's ``np.max(v, 1)`` (which passes the axis by name) give the values, with
    the gradient of PyTorch's ``amax`` (split between ties)."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    numbers = np.array([[1.0, 5.0, 5.0], [7.0, 2.0, -3.0]])
    expected = torch.tensor(numbers, requires_grad=True)
    getattr(torch, f"a{name}")(expected, dim=1).sum().backward()
    for reduce in (lambda v: getattr(v, name)(axis=1), lambda v: getattr(np, name)(v, 1)):
        v = Value(numbers)
        out = reduce(v)
        out.sum().backward()
        np.testing.assert_array_equal(out.data, getattr(numbers, name)(axis=1))
        np.testing.assert_array_equal(v.grad, expected.grad.numpy())
    kept = getattr(Value(numbers), name)(axis=1, keepdims=True)
    assert kept.shape == (2, 1)


# --- x.size() -----------------------------------------------------------------------------------------------------

def test_size_is_still_numpys_number_of_elements_an_int():
    """Guard: ``v.size`` is numpy's number of elements, an int in arithmetic, comparisons, ranges and JSON."""
    v = Value(np.zeros((2, 3)))
    assert v.size == 6 and isinstance(v.size, int) and repr(v.size) == "6"
    assert v.size + 1 == 7 and len(range(v.size)) == 6 and json.loads(json.dumps({"n": v.size})) == {"n": 6}
    assert np.size(v) == 6


# --- names that PyTorch has and this package spells otherwise ------------------------------------------------

@pytest.mark.parametrize(("name", "instead"), [("cat", "concatenate"), ("clamp", "maximum")])
def test_functional_names_of_pytorch_say_what_to_write(name, instead):
    with pytest.raises(AttributeError, match=rf"no attribute '{name}' \(a PyTorch name\); write F\.{instead}\("):
        getattr(F, name)


@pytest.mark.parametrize(("name", "instead"), [("permute", "v.transpose"), ("t", "v.T"), ("clone", "v * 1.0"),
                                               ("amax", "v.max(axis="), ("amin", "v.min(axis=")])
def test_tensor_methods_of_pytorch_say_what_to_write(name, instead):
    v = Value(np.zeros((2, 3)))
    with pytest.raises(AttributeError, match=rf"no attribute '{name}'; write {re.escape(instead)}"):
        getattr(v, name)


def test_the_advice_for_permute_and_t_gives_pytorchs_numbers():
    """Guard: what the messages say to write gives PyTorch's numbers and gradients."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    numbers = np.arange(24.0).reshape(2, 3, 4)
    weights = np.linspace(-1.0, 1.0, 24).reshape(4, 2, 3)
    v, t = Value(numbers), torch.tensor(numbers, requires_grad=True)
    (v.transpose(2, 0, 1) * weights).sum().backward()
    (t.permute(2, 0, 1) * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(v.grad, t.grad.numpy())
    m = Value(numbers[0])
    np.testing.assert_array_equal(m.T.data, torch.tensor(numbers[0]).t().numpy())
