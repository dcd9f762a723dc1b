"""A student fresh from the minitorch course: its Module API, its graph walk, its shape operations, and its names.

minitorch's ``Scalar.derivative``, ``Tensor.view/permute/contiguous/zero_grad_``, ``t.sum(dim)``, ``Parameter.value``,
``Module.add_parameter``, ``autodiff.topological_sort`` and ``central_difference`` are what such a student types
first; each must say what it is here, not end in a bare ``AttributeError``.  The guards pin what the course taught to
check: each node's gradient complete before it is passed on (a diamond), intermediate gradients equal to central
differences, reshape/transpose/sum over axes differentiated right, and the Module walk's names, order and flags.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu
from tinygrad_edu import Value, nn, no_grad, optim
from tinygrad_edu.engine import backward_order
from tinygrad_edu.testing import numerical_gradient

# --- minitorch's names: each says what to write here ------------------------------------------------------------

# minitorch's Scalar/Tensor/Parameter attribute, and a piece of what the message must tell a student to write.
_VALUE_NAMES = {
    "derivative": "v.grad",               # minitorch's Scalar.derivative, filled by backpropagate
    "zero_grad_": "v.zero_grad()",
    "contiguous": "v itself",
    "is_constant": "not v.requires_grad",
    "dims": "v.ndim",
    "history": "v.parents",
    "chain_rule": "local_gradients",
    "accumulate_derivative": "v.backward()",
    "value": "a parameter is the Value itself",          # minitorch's Parameter.value
    "update": "no_grad",                  # minitorch's Parameter.update(x)
}


@pytest.mark.parametrize("name", sorted(_VALUE_NAMES))
def test_minitorch_names_on_a_value_say_what_to_write(name: str) -> None:
    v = Value(np.arange(6.0).reshape(2, 3))
    with pytest.raises(AttributeError) as raised:
        getattr(v, name)
    assert _VALUE_NAMES[name] in str(raised.value)
    assert name not in dir(v)  # (still no attribute of a Value: the message is all there is)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_sum_and_mean_with_dim_say_to_write_axis(reduction: str) -> None:
    v = Value(np.arange(6.0).reshape(2, 3))
    with pytest.raises(TypeError, match=rf"v\.{reduction}\(axis=1\)"):
        getattr(v, reduction)(dim=1)
    with pytest.raises(TypeError, match=r"keepdims=True"):
        getattr(v, reduction)(1, keepdim=True)


# (module, name) of minitorch, and a piece of what the message must name as the thing to use here
_MODULE_NAMES = [
    ("tinygrad_edu.autodiff", "topological_sort", "backward_order"),
    ("tinygrad_edu.autodiff", "backpropagate", ".backward("),
    ("tinygrad_edu.autodiff", "central_difference", "numerical_gradient"),
    ("tinygrad_edu.testing", "central_difference", "numerical_gradient"),
    ("tinygrad_edu", "central_difference", "numerical_gradient"),
    ("tinygrad_edu", "topological_sort", "backward_order"),
    ("tinygrad_edu", "Tensor", "Value"),
    ("tinygrad_edu", "Scalar", "Value"),
    ("tinygrad_edu", "tensor", "Value("),
    ("tinygrad_edu", "Module", "nn.Module"),
    ("tinygrad_edu", "Parameter", "Value"),
]


@pytest.mark.parametrize(("module", "name", "instead"), _MODULE_NAMES)
def test_minitorch_module_names_say_what_to_use(module: str, name: str, instead: str) -> None:
    imported = importlib.import_module(module)
    with pytest.raises(AttributeError) as raised:
        getattr(imported, name)
    assert instead in str(raised.value) and "minitorch" in str(raised.value)


def test_add_parameter_says_to_set_an_attribute() -> None:
    layer = nn.Layer(2, 3, rng=0)
    with pytest.raises(AttributeError, match=r"self\.name = Value"):
        layer.add_parameter("scale", Value(1.0))
    assert [name for name, _ in layer.named_parameters()] == ["weights", "biases"]
    assert "add_parameter" not in dir(layer) and "named_parameters" in dir(layer)


def test_the_submodules_still_import_through_the_package() -> None:
    """The package's own names, and ``from tinygrad_edu import viz`` (imported on demand), are untouched by what
    it says of minitorch's names; a name of neither is still an AttributeError naming it."""
    from tinygrad_edu import viz
    assert viz.__name__ == "tinygrad_edu.viz" and tinygrad_edu.Value is Value
    with pytest.raises(AttributeError, match="no_such_name"):
        tinygrad_edu.no_such_name  # noqa: B018


# --- the graph walk: a diamond, each node's gradient complete before it is passed on ------------------------------

def _diamond(x: float, bump: dict[str, float]) -> tuple[float, dict[str, Value]]:
    """e = d², d = b·c + a, b = a·x, c = exp(a), a = tanh(2x): a reaches e along three paths; ``bump`` adds a
    number to an intermediate (after it is computed), so central differences measure ∂e/∂(that intermediate)."""
    nodes: dict[str, Value] = {"x": Value(x, label="x")}

    def named(name: str, v: Value) -> Value:
        v = v + bump.get(name, 0.0) if bump.get(name) else v
        v.label = name
        nodes[name] = v
        return v

    a = named("a", (nodes["x"] * 2.0).tanh())
    b = named("b", a * nodes["x"])
    c = named("c", a.exp())
    d = named("d", b * c + a)
    e = named("e", d * d)
    return e.item(), nodes


@pytest.mark.parametrize("x", [0.7, -1.3, 0.05])
def test_every_intermediate_gradient_of_a_diamond_is_its_central_difference(x: float) -> None:
    _, nodes = _diamond(x, {})
    nodes["e"].backward()
    h = 1e-6
    for name in ("d", "c", "b", "a"):
        numeric = (_diamond(x, {name: h})[0] - _diamond(x, {name: -h})[0]) / (2 * h)
        assert float(nodes[name].grad) == pytest.approx(numeric, rel=1e-6), name
    numeric_x = (_diamond(x + h, {})[0] - _diamond(x - h, {})[0]) / (2 * h)
    assert float(nodes["x"].grad) == pytest.approx(numeric_x, rel=1e-6)


def test_backward_order_visits_each_node_once_and_after_every_node_that_uses_it() -> None:
    """minitorch's topological_sort: the output first, each Value once, before the Values it was computed from."""
    _, nodes = _diamond(0.7, {})
    order = backward_order(nodes["e"])
    assert len(order) == len({id(v) for v in order})
    position = {id(v): i for i, v in enumerate(order)}
    assert order[0] is nodes["e"]
    for v in order:
        for parent in v.parents:
            if parent.requires_grad:
                assert position[id(parent)] > position[id(v)], (v.label, parent.label)
    assert {id(nodes[name]) for name in "abcdex"} <= set(position)


def test_a_shared_leaf_gets_its_gradient_once_per_backward_call() -> None:
    """y = x + x used twice: ∂(Σ y²)/∂x = 8x per call, not more (each path counted once), and added up over calls."""
    x = Value(np.array([1.0, -2.0, 3.0]))
    y = x + x
    z = (y * y).sum()
    z.backward()
    np.testing.assert_array_equal(x.grad, 8 * np.array([1.0, -2.0, 3.0]))
    z.backward()
    np.testing.assert_array_equal(x.grad, 16 * np.array([1.0, -2.0, 3.0]))


# --- view / permute / sum(dim), written here as reshape / transpose / sum(axis) ----------------------------------

_SHAPE = (2, 3, 4)


@st.composite
def _shape_chains(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], bool]:
    """A permutation of the axes (given with negative numbers at random), a new shape of the permuted array, and the
    axes to sum over afterwards (some negative), with or without keepdims."""
    permutation = draw(st.permutations(range(3)))
    axes = tuple(a - 3 if draw(st.booleans()) else a for a in permutation)
    shape = draw(st.sampled_from([(24,), (4, 6), (6, 2, 2), (3, 8), (2, 3, 4), (1, 24, 1)]))
    chosen = draw(st.lists(st.integers(0, len(shape) - 1), unique=True, max_size=len(shape)))
    summed = tuple(a - len(shape) if draw(st.booleans()) else a for a in chosen)
    return axes, shape, summed, draw(st.booleans())


@given(_shape_chains())
def test_transpose_reshape_and_sum_over_axes_have_central_difference_gradients(
        chain: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], bool]) -> None:
    axes, shape, summed, keepdims = chain
    x0 = np.random.default_rng(7).normal(size=_SHAPE)

    def f(x: Value) -> Value:
        reduced = x.transpose(*axes).reshape(shape).sum(axis=summed, keepdims=keepdims)
        return (reduced ** 2).sum()

    # the forward pass is numpy's own: transpose, reshape, sum
    expected = float((np.transpose(x0, axes).reshape(shape).sum(axis=summed, keepdims=keepdims) ** 2).sum())
    x = Value(x0)
    out = f(x)
    assert out.item() == pytest.approx(expected, rel=1e-12)
    out.backward()
    np.testing.assert_allclose(x.grad, numerical_gradient(f, x0)[0], rtol=1e-6, atol=1e-7)


def test_a_permuted_view_flattened_sends_each_gradient_back_to_its_element() -> None:
    """minitorch's ``t.permute(1, 0).contiguous().view(12)``: element k of the flat result is x[k % 3, k // 3], so
    ∂(Σ k·flat_k)/∂x[i, j] = 3j + i."""
    x = Value(np.random.default_rng(0).normal(size=(3, 4)))
    (x.transpose(1, 0).reshape(12) * np.arange(12.0)).sum().backward()
    i, j = np.indices((3, 4))
    np.testing.assert_array_equal(x.grad, 3 * j + i)


# --- the Module API as minitorch taught it ---------------------------------------------------------------------

class _Inner(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.p3 = Value(np.ones(3))
        self.p4 = Value(2.0)

    def forward(self, x: Value) -> Value:
        return x * self.p4


class _Outer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.p1 = Value(1.0)
        self.inner = _Inner()
        self.p2 = Value(np.zeros((2, 2)))
        self.blocks = [_Inner(), _Inner()]
        self.table = {"left": _Inner()}

    def forward(self, x: Value) -> Value:
        return self.inner(x) * self.p1


def test_named_parameters_of_nested_modules_in_attribute_order_with_dotted_names() -> None:
    model = _Outer()
    assert [name for name, _ in model.named_parameters()] == [
        "p1", "inner.p3", "inner.p4", "p2", "blocks.1.p3", "blocks.1.p4", "blocks.2.p3", "blocks.2.p4",
        "table.left.p3", "table.left.p4"]
    assert [name for name, _ in model.named_parameters(recurse=False)] == ["p1", "p2"]
    assert dict(model.named_parameters())["blocks.2.p4"] is model.blocks[1].p4
    assert model.num_parameters() == 1 + 4 + 4 + 4 + 4 + 4  # p1, p2 (2×2), and four Inners of 3 + 1


def test_parameters_added_after_construction_are_found_counted_and_trained() -> None:
    model = _Outer()
    model.p5 = Value(np.array([3.0, -1.0]))
    model.blocks.append(_Inner())
    names = [name for name, _ in model.named_parameters()]
    assert names[-1] == "p5" and "blocks.3.p4" in names
    assert model.num_parameters() == 21 + 2 + 4
    opt = optim.GradientDescent(model, learning_rate=0.5)
    opt.zero_grad()
    ((model.p5 ** 2).sum() + model.blocks[2].p4 * 3.0).backward()
    opt.step()
    np.testing.assert_allclose(model.p5.data, [3.0 - 0.5 * 6.0, -1.0 + 0.5 * 2.0])
    assert model.blocks[2].p4.item() == pytest.approx(2.0 - 0.5 * 3.0)


def test_a_shared_parameter_is_listed_and_counted_once_and_a_frozen_one_not_at_all() -> None:
    model = _Outer()
    model.blocks[1].p4 = model.p1  # the same Value in two places
    model.p2.requires_grad = False
    names = [name for name, _ in model.named_parameters()]
    assert names.count("p1") == 1 and "blocks.2.p4" not in names and "p2" not in names
    assert model.num_parameters() == 21 - 1 - 4
    assert "p2" in model.state_dict()


def test_train_and_eval_reach_every_module_also_those_in_lists_and_dicts() -> None:
    model = _Outer()
    everything = [model, model.inner, *model.blocks, model.table["left"]]
    assert len(list(model.modules())) == len(everything)
    assert model.eval() is model
    assert [m.training for m in everything] == [False] * 5
    model.blocks.append(_Inner())  # added while in eval mode: train() reaches it too
    model.train()
    assert all(m.training for m in [*everything, model.blocks[-1]])


def test_module_gradients_match_central_differences() -> None:
    """∂C/∂p of every parameter of a nested model, by backward and by central differences of C."""
    model = _Outer()
    rng = np.random.default_rng(3)
    with no_grad():
        for p in model.parameters():
            p[...] = rng.normal(size=p.shape)
    x = rng.normal(size=3)

    def cost() -> Value:
        out = model(Value(x, requires_grad=False)) * model.inner.p3 + model.blocks[0].p3 * model.p2.sum()
        return (out ** 2).sum()

    model.zero_grad()
    cost().backward()
    used = []
    for name, p in model.named_parameters():
        def moved(array: np.ndarray, p: Value = p) -> Value:
            saved = p.data.copy()
            p.data = array
            try:
                return cost()
            finally:
                p.data = saved
        numeric = numerical_gradient(_detached(moved), p.data.copy())[0]
        if p.grad is None:  # a parameter the cost does not use (blocks.2, table.left, …): no gradient, as in PyTorch
            assert not numeric.any(), name
            continue
        used.append(name)
        np.testing.assert_allclose(p.grad, numeric, rtol=1e-6, atol=1e-8, err_msg=name)
    assert used == ["p1", "inner.p3", "inner.p4", "p2", "blocks.1.p3"]


def _detached(f: Callable[[np.ndarray], Value]) -> Callable[[np.ndarray], np.ndarray]:
    """``f`` on plain arrays, giving its numbers (for numerical_gradient, which hands it arrays)."""
    return lambda array: f(np.asarray(array)).data
