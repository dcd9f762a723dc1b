"""What README.md says about networks as sequences and about frozen weights holds (found by a skeptical reading of
the README against the code and against PyTorch; each test failed before the README was mended)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import nn

README = Path(__file__).resolve().parent.parent / "README.md"
TEXT = " ".join(README.read_text(encoding="utf-8").split())  # sentences across line breaks


def test_readme_says_what_a_slice_of_a_network_does():
    """The README's sentence on networks as sequences says what `net[1:]` does: a TypeError pointing to the list
    `net.layers[1:]` (a Network of some layers would number their labels again), not a list of layers."""
    sentence = re.search(r"As PyTorch's `nn\.Sequential`, a network is a sequence of its layers:.*?\)\.", TEXT)
    assert sentence, "README.md no longer has its sentence on networks as sequences"
    net = nn.MLP([1, 3, 3, 1], rng=0)
    with pytest.raises(TypeError, match=r"^MLP: net\[1:\] is not a Network; take the list net\.layers\[1:\]"):
        net[1:]
    assert "refused" in sentence.group(0), f"README.md: {sentence.group(0)!r} does not say net[1:] is refused"


def test_readme_says_frozen_weights_are_left_out_unlike_in_pytorch():
    """A frozen weight is left out of parameters() and named_parameters() here and kept in the state; PyTorch's
    Module.parameters() and named_parameters() list every parameter, requires_grad=False ones too (checked by hand
    with torch 2: 4 of 4 for a 1-2-1 Sequential with one frozen weight). The README must not call that "as in
    PyTorch"."""
    net = nn.MLP([1, 2, 1], rng=0)
    net[0].weights.requires_grad = False
    assert [name for name, _ in net.named_parameters()] == ["layers.1.biases", "layers.2.weights", "layers.2.biases"]
    assert len(list(net.parameters())) == 3
    assert list(net.state_dict()) == ["layers.1.weights", "layers.1.biases", "layers.2.weights", "layers.2.biases"]
    np.testing.assert_array_equal(net.state_dict()["layers.1.weights"], net[0].weights.data)
    sentence = re.search(r"[^.]*is left out of `parameters\(\)`[^.]*", TEXT)
    assert sentence, "README.md no longer says where a frozen weight is left out"
    assert "work as in PyTorch (a weight frozen" not in sentence.group(0), sentence.group(0)
    assert re.search(r"except|unlike|where PyTorch lists it", sentence.group(0)), sentence.group(0)
