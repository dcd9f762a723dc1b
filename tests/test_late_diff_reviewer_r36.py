"""A senior review of round 36's late commits (``91529ca..``): each hunk read for wrong logic and for fixes that cover
one case of a defect but not its siblings, then used for real.

Defects (each test marked xfail until fixed):

* np.split's uneven-division message was built by a helper whose first parameter was not numpy's: ``np.split(ary=v,
  indices_or_sections=3)`` (numpy's own keywords) raised "_uneven_split() got an unexpected keyword argument 'ary'".
* Saving refused a layer whose numbers were given another shape through ``.data`` only inside a Network: a
  standalone Layer, or a Layer in a Module of one's own, still wrote a file that fits no layer (README: "refusing to
  compute or be saved").
* The tree drawing's refusal of parameters whose ``.grad`` zero_grad() emptied (or backward(inputs=…) left out) was
  put in draw_dependency_tree only: ``viz.tree_drawing(dependency_tree(cost))``, the public way to draw a tree already
  found, still dropped their ∂C/∂W lines without a word.
* The engine's errors were to write an operation's settings as the drawings do, but an index of a few numbers still
  came out as numpy's repr: ``key=(:, array([0, 5]))``, ``key=array([ True, False,  True])``.
* README said an optimizer made before a layer was grown "refuses" at its step; with the README's own recipe (new
  Values put in) its step silently trains the Values put out and leaves the new ones as they are.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Value, fit, losses, nn, optim, viz
from tinygrad_edu.player import pass_gradients

README = Path(__file__).resolve().parent.parent / "README.md"


def _chain(rng: int = 0) -> tuple[nn.Network, np.ndarray, np.ndarray]:
    """The seed's 1-1-1 sigmoid chain network, one sample and its target."""
    return nn.MLP([1, 1, 1], rng=rng), np.array([[0.5]]), np.array([[0.25]])


def _cost(net: nn.Network, x: np.ndarray, y: np.ndarray) -> Value:
    return losses.squared_error(net(x), y)


def _central_difference(net: nn.Network, x: np.ndarray, y: np.ndarray, parameter: str, eps: float = 1e-6) -> float:
    """∂C/∂(the single number of ``parameter``, e.g. ``"layers.1.weights"``) by central differences, on a copy."""
    copied = copy.deepcopy(net)
    value = dict(copied.named_parameters())[parameter]
    start = value.data.copy()
    costs = []
    for step in (eps, -eps):
        value.data = start + step
        costs.append(float(_cost(copied, x, y).data.sum()))
    return (costs[0] - costs[1]) / (2 * eps)


# --- defects ------------------------------------------------------------------------------------------------------

def test_np_split_by_numpys_own_keywords_on_an_uneven_axis_names_the_shape() -> None:
    v = Value(np.arange(10.0).reshape(2, 5))
    with pytest.raises(ValueError, match=r"^np\.split: a Value of shape \(2, 5\) cannot be split into 3 equal parts "
                                         r"along axis 1, of length 5"):
        np.split(ary=v, indices_or_sections=3, axis=1)


def test_saving_a_standalone_layer_whose_numbers_no_longer_fit_its_sizes_is_refused(tmp_path: Path) -> None:
    layer = nn.Layer(2, 3, rng=0)
    layer.weights.data = np.ones((2, 4))
    with pytest.raises(ValueError, match=r"^save: .*weights must have shape \(2, 3\).*got a Value of shape \(2, 4\)"):
        layer.save(tmp_path / "layer.npz")
    assert not (tmp_path / "layer.npz").exists()


class _Head(nn.Module):
    """A Module of one's own around a Layer (not a Network)."""

    def __init__(self) -> None:
        self.body = nn.Layer(2, 3, rng=0)

    def forward(self, x: object) -> Value:
        return self.body(x)


def test_saving_a_module_of_ones_own_whose_layer_no_longer_fits_is_refused(tmp_path: Path) -> None:
    model = _Head()
    model.body.biases.data = np.zeros(5)
    with pytest.raises(ValueError, match=r"^save: .*biases must have shape \(3,\).*got a Value of shape \(5,\)"):
        model.save(tmp_path / "model.npz")
    assert not (tmp_path / "model.npz").exists()


def test_tree_drawing_refuses_a_tree_whose_parameters_grad_zero_grad_emptied() -> None:
    net, x, y = _chain()
    cost = _cost(net, x, y)
    cost.backward()
    net.zero_grad()
    tree = viz.dependency_tree(cost)
    with pytest.raises(ValueError, match=r"^tree_drawing: W\^\d\.grad is None but the chain rule through this cost "
                                         r"gives .*zero_grad\(\)"):
        viz.tree_drawing(tree)


def test_tree_drawing_refuses_a_tree_whose_parameters_backward_inputs_left_out() -> None:
    net, x, y = _chain()
    cost = _cost(net, x, y)
    cost.backward(inputs=[net[1].weights])
    tree = viz.dependency_tree(cost)
    with pytest.raises(ValueError, match=r"^tree_drawing: [Wb]\^\d\.grad is None.*backward\(inputs=…\) left it out"):
        viz.tree_drawing(tree)


def test_an_engine_error_writes_a_small_index_array_as_the_drawings_do() -> None:
    v = Value(np.zeros((2, 3)))
    with pytest.raises(IndexError) as caught:
        v[:, np.array([0, 5])]
    message = str(caught.value)
    assert "key=(:, [0, 5])" in message and "array(" not in message, message
    with pytest.raises(IndexError) as caught:
        v[np.array([True, False, True])]
    assert "key=[True, False, True])" in str(caught.value), str(caught.value)


def test_the_readme_says_what_an_optimizer_made_before_a_resize_does() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())
    paragraph = text[text.index("To grow or prune a layer"):]
    paragraph = paragraph[:paragraph.index("Initialisation:")]
    assert re.search(r"optimizer made before[^.]*its step trains those, not the new ones", paragraph), paragraph


# --- guards -------------------------------------------------------------------------------------------------------

def test_an_optimizer_made_before_new_values_were_put_in_trains_the_old_ones_and_fit_refuses_it() -> None:
    """(guard) What the README's sentence says: the old optimizer's step leaves the layer's new Values as they were
    and moves the Values put out, and fit refuses it."""
    net = nn.MLP([2, 3, 1], rng=0)
    x, y = np.ones((4, 2)), np.zeros((4, 1))
    opt = optim.SGD(net.parameters(), 0.1)
    old = net[0].weights
    net[0].out_size, net[1].in_size = 5, 5
    net[0].weights, net[0].biases = Value(np.ones((2, 5))), Value(np.zeros(5))
    net[1].weights = Value(np.ones((5, 1)))
    new = net[0].weights
    old.grad = np.ones(old.shape)
    losses.mean_squared_error(net(x), y).backward()
    before_new, before_old = new.data.copy(), old.data.copy()
    opt.step()
    assert np.array_equal(new.data, before_new)
    np.testing.assert_allclose(old.data, before_old - 0.1, rtol=0, atol=1e-15)
    with pytest.raises(ValueError, match=r"^fit: the optimizer holds \d+ Values that the model no longer has"):
        fit(net, x, y, cost=losses.mean_squared_error, optimizer=opt, episodes=1, progress=False)


def test_a_layer_grown_by_its_sizes_and_new_values_saves_and_loads_back_exactly(tmp_path: Path) -> None:
    """(guard) The resize the README describes, on a standalone Layer: the file loads back into a Layer of the new
    sizes with every number equal."""
    layer = nn.Layer(2, 3, rng=0)
    layer.out_size = 5
    rng = np.random.default_rng(3)
    weights, biases = rng.normal(size=(2, 5)), rng.normal(size=5)
    layer.weights, layer.biases = Value(weights), Value(biases)
    layer.save(tmp_path / "grown.npz")
    loaded = nn.Layer(2, 5, rng=1).load(tmp_path / "grown.npz")
    assert np.array_equal(loaded.weights.data, weights) and np.array_equal(loaded.biases.data, biases)


def test_the_players_tree_of_one_pass_still_draws_after_zero_grad_with_finite_difference_gradients() -> None:
    """(guard) A tree built from one pass's gradients (the backprop player's) is drawn after zero_grad(), and the
    ∂C/∂W it writes are the cost's central differences."""
    net, x, y = _chain(rng=2)
    expected = {name: _central_difference(net, x, y, parameter)
                for name, parameter in (("W¹", "layers.1.weights"), ("W²", "layers.2.weights"))}
    cost = _cost(net, x, y)
    cost.backward()
    net.zero_grad()
    tree = viz.dependency_tree(cost, gradients=pass_gradients(cost))
    source = viz.tree_drawing(tree, precision=10).source
    for name, derivative in expected.items():
        drawn = re.search(rf"∂C/∂{name} = ([-+0-9.e]+)", source)
        assert drawn is not None, source
        assert float(drawn.group(1)) == pytest.approx(derivative, rel=1e-6, abs=1e-10)


@pytest.mark.parametrize("split, axis", [(np.hsplit, 1), (np.vsplit, 0)])
def test_np_hsplit_and_vsplit_on_an_uneven_axis_name_the_shape_and_axis(split, axis) -> None:
    """(guard) numpy's hsplit and vsplit go through np.split: their refusal names the shape and the axis too."""
    v = Value(np.zeros((3, 5)))
    with pytest.raises(ValueError, match=rf"shape \(3, 5\) cannot be split into 2 equal parts along axis {axis}"):
        split(v, 2)
