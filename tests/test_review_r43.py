"""Round 43's review: defects found in the round's changes, each pinned by a test that failed before its fix."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tinygrad_edu import data, nn, optim

needs_311 = pytest.mark.skipif(sys.version_info < (3, 11), reason="iter(ds) is told from the bytecode's columns")


def _dataset() -> data.Dataset:
    return data.Dataset(np.arange(6.0).reshape(3, 2), np.array([0.0, 1.0, 0.0]))


@needs_311
def test_a_kept_iterator_wrapped_in_zip_or_enumerate_is_not_refused() -> None:
    """it = iter(ds) in zip(...) or enumerate(...): those loops unpack their own pairs (an array and a name, an
    index and an array), which round 43's check for ``for x, y in it`` refused as PyTorch's sample and label."""
    ds = _dataset()
    named = []
    for array, name in zip(iter(ds), ("inputs", "labels")):
        named.append((name, array.shape))
    assert named == [("inputs", (3, 2)), ("labels", (3,))]
    it = iter(ds)
    counted = []
    for i, array in enumerate(it):
        counted.append((i, array.shape))
    assert counted == [(0, (3, 2)), (1, (3,))]


@needs_311
def test_a_kept_iterator_unpacked_in_pairs_is_still_refused() -> None:
    ds = _dataset()
    it = iter(ds)
    with pytest.raises(TypeError, match=r"for x, y in iter\(ds\)"):
        for _x, _y in it:
            pass


@needs_311
def test_a_kept_iterator_zipped_in_a_comprehension_is_not_refused() -> None:
    ds = _dataset()
    assert [(name, a.shape) for a, name in zip(iter(ds), "xy")] == [("x", (3, 2)), ("y", (3,))]
    it = iter(ds)
    assert [i for i, _a in enumerate(it)] == [0, 1]
    it = iter(ds)
    with pytest.raises(TypeError, match=r"for x, y in iter\(ds\)"):
        [x for x, _y in it]  # noqa: B018


def test_detect_anomaly_names_a_vjp_writing_into_a_saved_tuple() -> None:
    """A saving forward may return several arrays, ``(out, (a, b))``; under detect_anomaly a vjp writing into one of
    them is named, as one writing into a single saved array is (the README: the vjps get the graph's arrays
    read-only).  Afterwards the saved arrays are writeable again."""
    from tinygrad_edu import Value
    from tinygrad_edu.engine import apply, detect_anomaly
    from tinygrad_edu.ops import Op

    kept: list[np.ndarray] = []

    def saving(x: np.ndarray) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        kept[:] = [x * 3.0, x * 4.0]
        return x * 2.0, (kept[0], kept[1])

    def vjp(g: np.ndarray, out: np.ndarray, x: np.ndarray, saved: tuple[np.ndarray, ...] | None = None) -> np.ndarray:
        if saved is not None:
            saved[0][...] = 0.0  # (in place: the next backward() of the graph would read zeros)
        return g * 2.0

    op = Op("doubled_review_r43", lambda x: x * 2.0, vjp, saving=saving)
    x = Value(np.array([1.0, 2.0]), requires_grad=True)
    y = apply(op, x).sum()
    with pytest.raises(ValueError, match="doubled_review_r43"), detect_anomaly():
        y.backward()
    assert np.array_equal(kept[0], [3.0, 6.0])
    assert all(array.flags.writeable for array in kept)


def test_an_array_saved_by_position_is_not_called_a_dict_saved_without_its_stars(tmp_path) -> None:
    """np.savez(path, W) also writes one entry 'arr_0', an array, no pickled dict: the advice to add ** (and to read
    it with allow_pickle=True and .item()) would be untrue there, and .item() of an array of several numbers fails."""
    layer = nn.Layer(3, 2)
    path = tmp_path / "w.npz"
    np.savez(path, layer.weights.data)
    optimizer = optim.SGD(layer.parameters(), learning_rate=0.1)
    for load in (layer.load_state_dict, optimizer.load_state_dict):
        with np.load(path) as state, pytest.raises(ValueError) as caught:  # (closed: no ResourceWarning later)
            load(state)
        assert "the ** left out" not in str(caught.value), load
    np.savez(path, layer.state_dict())  # the slip itself: still explained
    with np.load(path) as state, pytest.raises(ValueError, match=r"the \*\* left out"):
        layer.load_state_dict(state)


def test_a_view_of_a_broadcast_changed_in_place_under_no_grad_is_named_and_the_fuzzer_draws_none() -> None:
    """Under no_grad a reshape of ops.broadcast_to's (1, 2, 1) stays a view with a stride of 0, read-only: v **= 2
    is refused (PyTorch refuses an in-place change of an expanded view too), with words that fit, not "given as its
    data"; and the fuzzer, which found it under the thorough profile, no longer draws an in-place line on such a
    node (its finite differences run under no_grad)."""
    from tinygrad_edu import Value, no_grad, ops
    from tinygrad_edu.testing import expressions

    with no_grad():
        v6 = ops.broadcast_to(Value(np.ones((1, 1, 1))) * 2.0, shape=(1, 2, 1)).reshape(2)
        with pytest.raises(ValueError, match=r"view of a broadcast, which PyTorch refuses in place too \(write "
                                             r"v = v ∘ b, a new Value\)"):
            v6 **= 2
    graph = expressions.Graph(draw=None, inputs=[np.zeros(1)], custom={})  # type: ignore[arg-type]
    graph.lines = ["v1 = x0 + x0", "v2 = ops.broadcast_to(v1, shape=(1, 2, 1))", "v3 = np.reshape(v2, (2,))",
                   "v4 = v3.T", "v5 = v3.exp()"]
    assert [expressions._shares_numbers(graph, name) for name in ("v1", "v2", "v3", "v4", "v5")] == [
        True, True, True, True, False]
