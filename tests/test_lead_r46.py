"""Round 46's own mends (the lead's, beside the helpers' files): each test fails without its change."""
import re

import numpy as np
import pytest

from tinygrad_edu import nn


@pytest.mark.parametrize(("sizes", "given"), [([1, 3, 1], [0.1, 0.5, -1.0, 0.01]),
                                              ([4, 3, 1], [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])])
def test_a_layers_reshape_hint_for_a_list_runs_when_pasted(sizes, given) -> None:
    model = nn.MLP(sizes, rng=0)
    with pytest.raises(ValueError) as caught:
        model(given)
    advice = re.search(r"np\.array\(x\)\.(?:reshape\([^)]*\)|T)", str(caught.value))
    assert advice, str(caught.value)
    fixed = eval(advice[0], {"np": np, "x": given})  # the advice as pasted, on the list the user gave
    assert model(fixed).shape == (np.asarray(given).size // sizes[0], 1)


@pytest.mark.parametrize("name", ["sigma", "σ", "Sigma"])
def test_the_seeds_sigma_in_functional_names_sigmoid(name) -> None:
    from tinygrad_edu import functional as F
    with pytest.raises(AttributeError, match=r"F\.sigmoid") as caught:
        getattr(F, name)
    assert caught.value.name == name  # still an AttributeError about that name
    z = np.array([-1.0, 0.0, 2.0])
    assert np.allclose(F.sigmoid(z).data, 1 / (1 + np.exp(-z)))  # the function it names is σ
