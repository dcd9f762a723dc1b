"""Edges found by mutation testing of ``nn.py`` and ``checks.py``: each test here kills a hand-written mutant that
the other tests let through (86 mutants; 78 killed before these tests, 83 after), and one defect found on the way
(``load_state_dict`` refused numpy's True and False for ``strict``).

Equivalent mutants, which no test can kill:

- ``checks.integer``: the message's ``f">= {least}" if least is not None else f"<= {most}"`` with ``most is None``
  as the condition: the message is only made for a value out of bounds, so at least one bound is given, and with
  one bound the two conditions agree.
- ``checks.__dir__``: ``list(__all__)`` for ``sorted(__all__)``: ``dir()`` sorts what ``__dir__`` returns.
- ``nn._reshape_hint``: the batch-of-images hint for ``len(shape) >= 2`` rather than ``>= 3``: a 2-d shape only
  gets a hint when its last size is not ``in_size``, and for 2-d shapes that last size is ``prod(shape[1:])``.
"""

import re

import numpy as np
import pytest
from helpers_models import Values

from tinygrad_edu import nn


class _Shared(nn.Module):
    """One layer under two names, and the module itself among its attributes."""

    def __init__(self):
        self.first = nn.Layer(2, 2, rng=0)
        self.second = self.first
        self.me = self

    def forward(self, x):
        return self.second(self.first(x))


def test_a_module_under_two_names_is_one_child_and_a_module_is_not_its_own():
    """named_children lists each Module once, as PyTorch's does; the module itself is no child of its own (else
    apply() and train() would reach the shared layer twice, and walks would start over)."""
    model = _Shared()
    assert list(model.named_children()) == [("first", model.first)]
    assert list(model.children()) == [model.first]


def test_uniform_init_draws_the_weights_then_the_biases_from_the_seeded_generator():
    """The seed's ``np.random.rand`` start: biases are drawn too, after the weights, not set to 0."""
    layer = nn.Layer(3, 2, init="uniform", rng=0)
    generator = np.random.default_rng(0)
    np.testing.assert_array_equal(layer.weights.data, generator.random((3, 2)))
    np.testing.assert_array_equal(layer.biases.data, generator.random(2))


def test_a_network_refuses_the_same_layer_twice():
    """One Layer at two places would share its weights and be labelled W² at both; it is refused by name."""
    layer = nn.Layer(2, 2, rng=0)
    with pytest.raises(ValueError, match="^Network: the same Layer appears twice$"):
        nn.Network(layer, layer)
    with pytest.raises(ValueError, match="the same Layer appears twice"):
        nn.Network([layer, nn.Layer(2, 2, rng=1), layer])


def test_a_modules_repr_lists_twelve_members_in_full_and_counts_the_rest():
    """Twelve members fit (no "… and 0 more" line); the thirteenth is counted, not listed."""
    twelve, thirteen = repr(Values(12)), repr(Values(13))
    assert "more" not in twelve and twelve.count("parameter, shape (2,)") == 12
    assert twelve.endswith("  (v11): parameter, shape (2,)\n)  # 24 parameters")
    assert thirteen.count("parameter, shape (2,)") == 12 and "(v12)" not in thirteen
    assert thirteen.endswith("  (v11): parameter, shape (2,)\n  … and 1 more\n)  # 26 parameters")


@pytest.mark.parametrize("sizes", [[3], []])
def test_an_mlp_of_fewer_than_two_sizes_says_that_an_output_size_is_missing(sizes):
    """Not Network's "needs at least one Layer": the user gave sizes, not layers."""
    wanted = f"MLP: sizes needs at least an input and an output size, got {sizes}"
    with pytest.raises(ValueError, match=f"^{re.escape(wanted)}$"):
        nn.MLP(sizes)


def test_load_state_dict_takes_numpys_true_and_false_for_strict():
    """``strict=np.False_`` (from ``np.all(...)``, say) was a TypeError reading "strict must be True or False, got
    bool np.False_", while every other flag here takes numpy's bools."""
    a, b = nn.MLP([2, 1], rng=0), nn.MLP([2, 3, 1], rng=1)
    state = {"layers.1.weights": np.full((2, 1), 0.25), "extra": np.zeros(1)}
    result = a.load_state_dict(state, strict=np.False_)
    assert result == (["layers.1.biases"], ["extra"])
    np.testing.assert_array_equal(a.layers[0].weights.data, np.full((2, 1), 0.25))
    with pytest.raises(ValueError, match="does not fit"):
        b.load_state_dict(a.state_dict(), strict=np.True_)
    with pytest.raises(TypeError, match="^load_state_dict: strict must be True or False, got int 0$"):
        b.load_state_dict(b.state_dict(), strict=0)
