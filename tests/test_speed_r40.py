"""A performance engineer's round on issue 10: what the x² update's speed change could break, checked against numpy
and central differences.

The change: ``engine._to_array`` hands a plain float32 or float64 ndarray (of this machine's byte order) back at
once, what its checks kept as it was anyway, where no dtype is forced: ``Value(array)``, ``v.data = array`` (fit's
batch of samples, each update), a cost's target, a custom forward's output.  The tests below pin what those paths
decide: dtypes kept or made (a forced dtype still converts: a seed or upstream gradient in the output's dtype),
copies made or arrays shared, read-only and byte-swapped arrays, ndarray subclasses, masked arrays and Datasets
refused by name, stale graphs after new numbers, and gradients equal to closed forms and central differences."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_gradients import central_difference
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Op, Value, apply, no_grad
from tinygrad_edu.data import Dataset
from tinygrad_edu.engine import local_gradients
from tinygrad_edu.losses import mean_squared_error, squared_error


class _Sub(np.ndarray):
    pass


def _arrays() -> dict[str, np.ndarray]:
    read_only = np.arange(3.0)
    read_only.flags.writeable = False
    return {"float64": np.arange(3.0), "float32": np.arange(3.0, dtype=np.float32), "read-only": read_only,
            "big-endian": np.arange(3.0, dtype=">f8"), "subclass": np.arange(3.0).view(_Sub),
            "strided": np.arange(6.0)[::2], "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3))}


@pytest.mark.parametrize("name", list(_arrays()))
def test_value_copies_every_array_into_a_writeable_native_plain_array(name: str) -> None:
    a = _arrays()[name]
    v = Value(a)
    assert type(v.data) is np.ndarray
    assert v.dtype == (np.float32 if name == "float32" else np.float64)
    assert v.data.dtype.isnative and v.data.flags.writeable
    assert not np.shares_memory(v.data, a)
    np.testing.assert_array_equal(v.data, a)
    a_before = np.array(a, copy=True)
    v.data[...] = 7.0  # the Value's own numbers: the caller's array is left as it was
    np.testing.assert_array_equal(a, a_before)


@pytest.mark.parametrize("data", [np.arange(3), np.arange(3, dtype=np.float16), np.array([True, False, True]),
                                  [0.0, 1.0, 2.0], (0, 1, 2), np.arange(3, dtype=">i4")])
def test_value_makes_other_numbers_float64_arrays_of_its_own(data: object) -> None:
    v = Value(data)
    assert type(v.data) is np.ndarray and v.dtype == np.float64 and v.data.flags.writeable
    np.testing.assert_array_equal(v.data, np.asarray(data, dtype=np.float64))
    if isinstance(data, np.ndarray):
        assert not np.shares_memory(v.data, data)


@pytest.mark.parametrize("name", list(_arrays()))
def test_data_assignment_shares_plain_float_arrays_and_converts_the_rest(name: str) -> None:
    a = _arrays()[name]
    v = Value(np.zeros(0))
    v.grad = np.zeros(0)
    v.data = a
    assert v.grad is None  # a gradient of the old shape is dropped
    assert type(v.data) is np.ndarray and v.data.dtype.isnative
    if name == "big-endian":  # the same numbers in this machine's byte order: a new array
        assert not np.shares_memory(v.data, a)
    elif name == "subclass":  # a plain view of its numbers
        assert np.shares_memory(v.data, a) and v.data is not a
    else:  # kept as it is (PyTorch's p.data = t), read-only or not
        assert v.data is a
        assert v.data.flags.writeable == a.flags.writeable
    np.testing.assert_array_equal(v.data, a)


def test_data_assignment_converts_the_gradient_to_the_new_dtype() -> None:
    v = Value(np.zeros(3))
    v.grad = np.ones(3)
    v.data = np.arange(3.0, dtype=np.float32)
    assert v.dtype == np.float32 and v.grad.dtype == np.float32
    v.data = 2  # a Python number keeps the Value's dtype
    assert v.dtype == np.float32 and v.data.shape == ()


@pytest.mark.parametrize("flag, expected", [(True, True), (False, False), (np.True_, True), (np.False_, False)])
def test_requires_grad_is_a_python_bool(flag: object, expected: bool) -> None:
    v = Value(np.ones(2), requires_grad=flag)  # type: ignore[arg-type]
    assert type(v.requires_grad) is bool and v.requires_grad is expected


@pytest.mark.parametrize("flag", [1, 0, None, "yes", 1.0])
def test_requires_grad_that_is_no_bool_is_refused_by_name(flag: object) -> None:
    with pytest.raises(TypeError, match=r"^Value: requires_grad must be True or False, got "):
        Value(1.0, requires_grad=flag)  # type: ignore[arg-type]


@pytest.mark.parametrize("forward, dtype", [
    (lambda x: x * 2.0, np.float64),
    (lambda x: (x * 2.0).astype(np.float32), np.float32),
    (lambda x: (x * 2.0).view(_Sub), np.float64),
    (lambda x: (x * 2.0).astype(">f8"), np.float64),
    (lambda x: (x * 2.0).astype(np.int64), np.float64),
])
def test_a_custom_forward_output_becomes_a_plain_float_array(forward: object, dtype: type) -> None:
    op = Op("twice", forward, lambda g, out, x: 2.0 * g)  # type: ignore[arg-type]
    x = Value(np.array([1.0, 2.0, 3.0]))
    y = apply(op, x)
    assert type(y.data) is np.ndarray and y.dtype == dtype and y.data.dtype.isnative
    np.testing.assert_array_equal(y.data, [2.0, 4.0, 6.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.full(3, 2.0))


def test_a_custom_forward_returning_text_is_refused_naming_the_op() -> None:
    op = Op("texty", lambda x: np.array(["a", "b"]), lambda g, out, x: g)
    with pytest.raises(TypeError, match=r"^texty: its forward returned"):
        apply(op, Value(np.ones(2)))


@given(st.integers(1, 5), st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_squared_error_with_an_array_target_matches_closed_form_and_central_differences(n: int, k: int,
                                                                                        seed: int) -> None:
    rng = np.random.default_rng(seed)
    p, t = rng.normal(size=(n, k)), rng.normal(size=(n, k))
    w = Value(p.copy())
    cost = squared_error(w, t)
    cost.backward()
    assert cost.dtype == np.float64
    closed = ((p - t) ** 2).sum(axis=1).mean()
    assert cost.item() == pytest.approx(closed, rel=1e-12, abs=1e-300)
    np.testing.assert_allclose(w.grad, 2 * (p - t) / n, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(w.grad, central_difference(lambda q: ((q - t) ** 2).sum(axis=1).mean(), p), rtol=1e-6,
                               atol=1e-8)


@pytest.mark.parametrize("target, dtype", [
    (np.array([[1.5], [2.5]]), np.float64),  # numpy's rule: float32 − float64 is float64
    (np.array([[1], [2]], dtype=np.int8), np.float32),
    (np.array([[1.5], [2.5]], dtype=np.float16), np.float32),
    (np.array([[1.5], [2.5]], dtype=np.float32), np.float32),
])
def test_a_float32_predictions_cost_dtype_follows_numpys_rule(target: np.ndarray, dtype: type) -> None:
    p = Value(np.array([[1.0], [2.0]], dtype=np.float32))
    cost = squared_error(p, target)
    assert cost.dtype == dtype == np.result_type(p.data, target)
    assert cost.item() == pytest.approx(float(((p.data.astype(np.float64) - target) ** 2).mean()), rel=1e-6)


def test_a_target_that_is_an_ndarray_subclass_or_a_list_is_taken() -> None:
    p = Value(np.array([[1.0], [2.0], [4.0]]))
    for target in (np.array([[0.0], [1.0], [2.0]]).view(_Sub), [[0.0], [1.0], [2.0]]):
        assert squared_error(p, target).item() == pytest.approx(2.0)
        assert mean_squared_error(p, target).item() == pytest.approx(2.0)


@pytest.mark.parametrize("cost", [squared_error, mean_squared_error])
def test_masked_and_dataset_targets_are_refused_by_name(cost) -> None:
    p = Value(np.array([[1.0], [2.0]]))
    with pytest.raises(TypeError, match=rf"^{cost.__name__}: the target is a masked array with masked elements"):
        cost(p, np.ma.array([[1.0], [2.0]], mask=[[0], [1]]))
    assert cost(p, np.ma.array([[1.0], [3.0]])).item() == pytest.approx(0.5)  # nothing masked: its numbers
    dataset = Dataset(np.array([[1.0], [2.0]]), np.array([[1.0], [2.0]]))
    with pytest.raises(TypeError, match=rf"^{cost.__name__}: the target is a Dataset"):
        cost(p, dataset)
    with pytest.raises(TypeError, match=rf"^{cost.__name__}: the predictions? (is|are) a Dataset"):
        cost(dataset, np.array([[1.0], [2.0]]))


def test_new_numbers_make_older_graphs_stale_with_and_without_detached_values() -> None:
    w = Value(np.array([1.0, 2.0]))
    y = (w * w).sum()
    w.data = np.array([3.0, 4.0])
    with pytest.raises(ValueError, match="^backward: the graph is stale"):
        y.backward()
    h = Value(np.array([1.0, 2.0]))
    z = h.exp()
    cost = (z * z).sum()
    d = z.detach()
    d.data *= 0  # the numbers z shares: its graph is stale
    with pytest.raises(ValueError, match=r"^backward: the graph is stale.*detach"):
        cost.backward()


def test_a_fresh_graph_after_new_numbers_gets_central_difference_gradients() -> None:
    w = Value(np.array([0.3, -0.7]))
    w.data = np.array([0.5, -1.5])
    cost = (w.exp() * w).sum()
    cost.backward()
    expected = central_difference(lambda q: (np.exp(q) * q).sum(), np.array([0.5, -1.5]))
    np.testing.assert_allclose(w.grad, expected, rtol=1e-7)
    with no_grad():
        w -= 0.1 * w.grad
    np.testing.assert_allclose(w.data, np.array([0.5, -1.5]) - 0.1 * np.exp([0.5, -1.5]) * (1 + np.array([0.5, -1.5])))


@pytest.mark.parametrize("graph, seed", [(np.float64, np.float32), (np.float32, np.float64), (np.float64, np.int64)])
def test_a_seed_gradient_of_another_dtype_takes_the_outputs_dtype(graph: type, seed: type) -> None:
    x = Value(np.array([0.5, -1.0, 2.0], dtype=graph))
    y = x.exp()
    y.backward(np.array([1, 2, 3], dtype=seed))
    assert x.grad.dtype == graph
    np.testing.assert_allclose(x.grad, np.exp(x.data.astype(np.float64)) * [1, 2, 3],
                               rtol=1e-6 if graph is np.float32 else 1e-15)


@pytest.mark.parametrize("node, upstream", [(np.float64, np.float32), (np.float32, np.float64)])
def test_local_gradients_take_an_upstream_in_the_nodes_dtype(node: type, upstream: type) -> None:
    x = Value(np.array([0.5, -1.0], dtype=node))
    y = x * 3.0
    [(index, parent, g)] = local_gradients(y, np.array([1.0, 2.0], dtype=upstream))
    assert index == 0 and parent is x and g.dtype == node
    np.testing.assert_array_equal(g, np.array([3.0, 6.0], dtype=node))
