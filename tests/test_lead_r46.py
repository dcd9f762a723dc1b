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


def test_the_dependency_trees_mixed_passes_advice_names_each_parameters_zero_grad() -> None:
    """Two backward passes: the advice says to clear each weight's and bias's .grad; the cost's own zero_grad(),
    which 'call zero_grad()' suggested, leaves them doubled, and the advice as written draws the tree."""
    from tinygrad_edu.dependency_tree import dependency_tree
    from tinygrad_edu.losses import squared_error
    net = nn.Network(nn.Layer(1, 1, "sigmoid", rng=0), nn.Layer(1, 1, "sigmoid", rng=1))
    cost = squared_error(net(np.array([0.5])), np.array([0.25]))
    cost.backward()
    cost.backward()
    with pytest.raises(ValueError, match=r"zero_grad\(\) on each weight and bias") as caught:
        dependency_tree(cost)
    assert "cost.zero_grad() clears only the cost's" in str(caught.value)
    cost.zero_grad()
    cost.backward()  # the cost's own zero_grad() was not enough: the parameters hold three passes now
    with pytest.raises(ValueError, match="contributions from other backward passes"):
        dependency_tree(cost)
    for w in net.parameters():
        w.zero_grad()
    cost.backward()
    tree = dependency_tree(cost)
    assert np.isclose(tree.chain_rule("W^2"), net.layers[1].weights.grad.item())
