"""Slow paths outside the per-operation path, round 39: work that grew faster than it should, guarded by counting
operations (never by timing), and the behaviour each change could have broken.

- ``viz._layer_clusters`` scanned every drawn Value once per layer to find what the layer's weights multiply: a
  network of L one-neuron layers drawn whole (``max_nodes`` raised, ``model=``) read ``Value.parents`` some L·n
  times (800 layers: 2.7 s, 90 reads per Value at 80 layers); now each Value's users are found once (0.55 s).
- ``copy.deepcopy`` of a graph deep-copied each Value's pickled state through the tuples and the dict around it
  (28 ``copy.deepcopy`` calls per Value); now each slot's value alone (a chain of 200,000 Values: 5.9 s → 3.6 s).
- (found on the way) ``copy.deepcopy`` of a computed Value ``h`` and of ``h.detach()`` together gave copies that shared
  their numbers without the link the originals have: the detached copy changed in place left the copied graph
  through ``h`` fresh, and its backward differentiated with the changed numbers (a gradient of 0 where the original
  raises "stale", as README says copies made together do); now linked, in either order of copying.
- ``import tinygrad_edu`` imported http.client, ssl, email and urllib.request for ``download_mnist`` alone (20-35 ms,
  an eighth of every start-up, the CLI's too); now ``download_mnist``'s download imports them.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Value, engine, nn, viz
from tinygrad_edu import functional as F
from tinygrad_edu.graph import nearest_values
from tinygrad_edu.losses import squared_error

ROOT = Path(__file__).resolve().parents[1]


# --- drawing a deep network: the layers' boxes ------------------------------------------------------------------

def _deep_chain_cost(layers: int) -> tuple[Value, nn.MLP]:
    model = nn.MLP([1] * (layers + 1), rng=0)
    cost = squared_error(model(Value([[0.5]], requires_grad=False)), [[0.2]])
    cost.backward()
    return cost, model


def _parents_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A counter of the reads of ``Value.parents`` (the property itself, wrapped)."""
    count = [0]
    parents = Value.parents

    def counted(self: Value) -> tuple[Value, ...]:
        count[0] += 1
        return parents.fget(self)

    monkeypatch.setattr(Value, "parents", property(counted))
    return count


@pytest.mark.parametrize("model", [True, False], ids=["model", "labels"])
def test_drawing_a_deep_network_whole_reads_each_values_inputs_a_bounded_number_of_times(monkeypatch, model) -> None:
    cost, net = _deep_chain_cost(80)
    values = nearest_values(cost)[1]
    count = _parents_reads(monkeypatch)
    drawing = viz.draw_graph(cost, max_nodes=10**6, model=net if model else None)
    assert drawing.source.count("subgraph cluster") == 80  # every layer boxed
    # ~11 reads per Value now (nearest_values, the labels, the edges, the boxes); a scan per layer made it 90
    assert count[0] <= 15 * values, count[0] / values


def test_layer_boxes_hold_what_each_layer_computed_in_a_network_called_several_times() -> None:
    """The walk back from each layer's output stops at what its weights multiply, in every call: the boxes of a
    network called three times (an unrolled recurrence) hold each call's products and sums, and nothing between."""
    cell = nn.Network(nn.Layer(2, 2, "tanh", rng=1), nn.Layer(2, 2, "tanh", rng=2))
    h = Value(np.array([[0.3, -0.4]]), requires_grad=False)
    for _ in range(3):
        h = cell(h)
    cost = (h ** 2).sum()
    cost.backward()
    source = viz.draw_graph(cost, max_nodes=10**6, model=cell).source
    boxes = source.split("subgraph cluster")[1:]
    assert len(boxes) == 2
    for box in boxes:
        body = box[:box.index("}")]
        # each call's matmul, add and tanh, each an operation and its result (3 calls), and the layer's W and b
        assert body.count("[label=") == 3 * 3 * 2 + 2, body
        assert body.count("label=matmul") == 3 and body.count("label=tanh") == 3 and body.count("label=add") == 3


def test_a_weight_used_outside_its_layer_is_boxed_once_and_its_penalty_left_out_of_every_box() -> None:
    first = nn.Layer(2, 2, "relu", rng=4)
    net = nn.Network(first, nn.Layer(2, 1, "identity", rng=5))
    x = np.array([[0.5, -1.0], [1.5, 0.25], [-0.75, 2.0]])
    cost = squared_error(net(x), np.array([[0.1], [0.2], [0.3]])) + (first.weights ** 2).sum() * 0.01
    cost.backward()
    for model in (net, None):
        source = viz.draw_graph(cost, model=model).source
        boxes = [box[:box.index("}")] for box in source.split("subgraph cluster")[1:]]
        assert len(boxes) == 2
        assert sum(box.count("W¹") + box.count("W<SUP>1") for box in boxes) == 1
        assert not any("pow" in box or "**" in box for box in boxes)  # the penalty's square is no layer's


# --- copy.deepcopy of a graph --------------------------------------------------------------------------------------

def _cost_of(w: Value, x: np.ndarray) -> Value:
    z = (w @ x) * 1.5 + 0.25
    picked = z[np.array([1, 0, 1])]
    return (F.concatenate([picked, z, picked * z[0]]).tanh() ** 2).sum(axis=0)


def _graph() -> tuple[Value, Value, np.ndarray]:
    """A graph with the kinds of slots a Value has: a constant input kept as its array, an operation's parameters
    (an index array, an axis), a label, several inputs (concatenate), and Value gradients (backward with
    create_graph=True)."""
    w = Value(np.array([[0.5, -1.25, 2.0], [1.5, 0.75, -0.5]]), label="W")
    x = np.array([1.0, -2.0, 0.5])
    cost = _cost_of(w, x)
    cost.label = "C"
    cost.backward(create_graph=True)
    return cost, w, x


def _slots(v: Value) -> dict:
    return {name: getattr(v, name) for name in ("_op", "_data", "grad", "requires_grad", "label", "_first", "_second",
                                                "_rest", "_params")}


def test_a_deep_copy_of_a_graph_copies_every_slot_and_keeps_what_is_shared_shared() -> None:
    cost, w, x = _graph()
    original = nearest_values(cost)[0]
    copied_cost = copy.deepcopy(cost)
    copied = nearest_values(copied_cost)[0]
    assert len(copied) == len(original)
    twins = {id(a): b for a, b in zip(original, copied, strict=True)}
    for a, b in zip(original, copied, strict=True):
        assert a is not b and type(b) is type(a)
        mine, theirs = _slots(a), _slots(b)
        assert theirs["_op"] is mine["_op"]  # a fixed rule, shared
        assert theirs["label"] == mine["label"] and theirs["requires_grad"] == mine["requires_grad"]
        assert theirs["_data"] is not mine["_data"] and theirs["_data"].dtype == mine["_data"].dtype
        np.testing.assert_array_equal(theirs["_data"], mine["_data"])
        for name in ("_first", "_second"):
            if isinstance(mine[name], Value):
                assert theirs[name] is twins.get(id(mine[name]), theirs[name]) and theirs[name] is not mine[name]
            elif isinstance(mine[name], np.ndarray):  # a constant input: copied, equal
                assert theirs[name] is not mine[name]
                np.testing.assert_array_equal(theirs[name], mine[name])
            else:
                assert theirs[name] is mine[name] is None
        if mine["_params"]:
            assert theirs["_params"] is not mine["_params"]
            assert set(theirs["_params"]) == set(mine["_params"])
            for key, value in mine["_params"].items():
                np.testing.assert_array_equal(theirs["_params"][key], value)
                if isinstance(value, np.ndarray):
                    assert theirs["_params"][key] is not value
        if isinstance(mine["grad"], Value):  # a recorded gradient: a copy of its graph too
            assert isinstance(theirs["grad"], Value) and theirs["grad"] is not mine["grad"]
            np.testing.assert_array_equal(theirs["grad"].data, mine["grad"].data)
    # one array shared by two Values stays one array, shared by their copies
    a = Value(np.array([1.0, 2.0]))
    b = a * 3.0
    c = b + a
    c.backward(np.ones(2))
    b.grad = c.grad  # (the walk itself may hand two intermediates one array)
    c2 = copy.deepcopy(c)
    b2 = c2.parents[0]
    assert b2.grad is c2.grad and b2.grad is not c.grad


def test_a_deep_copy_computes_the_same_gradients_to_the_bit_and_is_independent() -> None:
    cost, w, x = _graph()
    copied = copy.deepcopy({"cost": cost, "w": w})
    cost2, w2 = copied["cost"], copied["w"]
    first_grad = w.grad.data.copy()
    w.zero_grad()
    w2.zero_grad()
    cost.backward()
    cost2.backward()
    assert w2.grad.tobytes() == w.grad.tobytes() and w2.grad is not w.grad
    np.testing.assert_array_equal(first_grad, w.grad)
    # the gradient against central differences (float64), so the copy's numbers are right, not merely alike
    h = 1e-6
    for index in np.ndindex(w.shape):
        shifted = []
        for step in (h, -h):
            numbers = w.data.copy()
            numbers[index] += step
            shifted.append(float(_cost_of(Value(numbers), x).item()))
        assert abs((shifted[0] - shifted[1]) / (2 * h) - w2.grad[index]) < 1e-6
    with engine.no_grad():
        w2 -= 1.0  # changing the copy leaves the original and its graph alone
    assert w.grad.tobytes() == w2.grad.tobytes()
    cost.backward()
    with pytest.raises(ValueError, match="stale"):
        cost2.backward()


def test_deep_copies_of_a_subclass_and_of_a_detached_value_keep_their_own_state() -> None:
    class Tagged(Value):  # a subclass with a __dict__: its state is pickle's generic one
        pass

    t = Tagged(np.array([1.0, 2.0]), label="t")
    t.note = {"kept": [1, 2]}
    t2 = copy.deepcopy(t)
    assert type(t2) is Tagged and t2.note == t.note and t2.note is not t.note and t2.label == "t"
    np.testing.assert_array_equal(t2.data, t.data)
    w = Value(np.array([0.5, 1.5]))
    cost = (w * 3.0).sum()
    d = w.detach()
    w2, d2, cost2 = copy.deepcopy((w, d, cost))  # a detached leaf's state names the leaf it shares its numbers with
    assert d2.data is w2.data and d2.data is not d.data
    with engine.no_grad():
        d2 *= 0  # a detached copy changed in place makes the copied graph stale, as the original's would be
    with pytest.raises(ValueError, match="stale"):
        cost2.backward()
    cost.backward()  # the original's graph is as it was
    np.testing.assert_array_equal(w.grad, [3.0, 3.0])


def _detached_from_a_computed_value() -> tuple[Value, Value, Value, Value]:
    w = Value(np.array([0.5, 1.5]), label="w")
    h = (w * 2.0).exp()
    return w, h, h.detach(), (h * 3.0).sum()


@pytest.mark.parametrize("order", ["h first", "detached first"])
def test_deep_copies_of_a_computed_value_and_of_its_detached_value_stay_linked_as_the_originals(order) -> None:
    """README: a Value made by h.detach() and changed in place makes the graphs through h stale, "so do copies of both
    made together, copy.deepcopy".  For a computed h the copies shared their numbers but not the link: the copied cost
    then differentiated exp with the zeroed numbers, a gradient of [0, 0] where the original raises."""
    w, h, d, cost = _detached_from_a_computed_value()
    if order == "h first":
        w2, h2, d2, cost2 = copy.deepcopy((w, h, d, cost))
    else:
        d2, w2, h2, cost2 = copy.deepcopy((d, w, h, cost))
    assert d2.data is h2.data
    with engine.no_grad():
        d *= 0
        d2 *= 0
    with pytest.raises(ValueError, match="stale") as original:
        cost.backward()
    with pytest.raises(ValueError, match="stale") as copied:
        cost2.backward()
    assert str(copied.value) == str(original.value)
    assert w.grad is None and w2.grad is None


def test_a_detached_value_copied_alone_or_given_new_numbers_is_not_linked_to_a_copy() -> None:
    w, h, d, cost = _detached_from_a_computed_value()
    d2 = copy.deepcopy(d)  # its computed original is not copied with it: the copy shares no numbers with any Value
    with engine.no_grad():
        d2 *= 0
    cost.backward()
    np.testing.assert_allclose(w.grad, 6 * np.exp(2 * w.data))  # d(Σ 3·e^(2w))/dw
    w2, h2, d3, cost2 = copy.deepcopy((w, h, d, cost))
    d3.data = np.zeros(2)  # numbers of its own: shared no more, so a change of them is no change of h's copy
    with engine.no_grad():
        d3 += 1.0
    w2.zero_grad()
    cost2.backward()
    np.testing.assert_allclose(w2.grad, 6 * np.exp(2 * w.data))


def test_a_deep_copy_of_a_chain_calls_copy_deepcopy_a_few_times_per_value() -> None:
    x = Value(1.0)
    y = x
    for _ in range(200):
        y = y * 1.001 + 0.5
    y.backward()
    values = nearest_values(y)[1]
    calls = [0]

    def profile(frame, event, arg) -> None:  # (copy's recursion passes deepcopy as a default argument: counted here)
        if event == "call" and frame.f_code.co_name == "deepcopy" and frame.f_code.co_filename == copy.__file__:
            calls[0] += 1

    sys.setprofile(profile)
    try:
        y2 = copy.deepcopy(y)
    finally:
        sys.setprofile(None)
    assert y2 is not y and y2.data.tobytes() == y.data.tobytes()
    assert calls[0] <= 8 * values, calls[0] / values  # ~5 per Value: its slots; through the state's tuples, 28
    x2 = next(v for v in nearest_values(y2)[0] if v.op is None and v.requires_grad)
    assert x2.grad.tobytes() == x.grad.tobytes() and x2.grad is not x.grad
    x2.zero_grad()
    y2.backward()
    assert x2.grad.tobytes() == x.grad.tobytes()


# --- import cost --------------------------------------------------------------------------------------------------

def test_importing_the_package_and_its_cli_leaves_the_network_modules_unloaded() -> None:
    code = ("import sys, tinygrad_edu, tinygrad_edu.cli, tinygrad_edu.data; "
            "print(json.dumps(sorted(m for m in ('http.client', 'urllib.request', 'ssl', 'email.parser', "
            "'urllib.error', 'matplotlib', 'graphviz') if m in sys.modules)))")
    result = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True, text=True,
                            cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=120,
                            check=True)
    assert json.loads(result.stdout) == []


def test_a_download_still_reaches_the_network_modules(tmp_path, monkeypatch) -> None:
    """download_mnist fetches through urllib.request.urlopen (looked up when it downloads) and reports its errors."""
    import urllib.error
    import urllib.request

    from tinygrad_edu import data

    asked = []

    def refused(url, timeout):
        asked.append(url)
        raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)

    monkeypatch.setattr(urllib.request, "urlopen", refused)
    with pytest.raises(data.DownloadError, match="HTTP 404 Not Found"):
        data.download_mnist(tmp_path, "test", url="http://127.0.0.1:9/mnist/", timeout=1)
    assert asked and asked[0].startswith("http://127.0.0.1:9/mnist/")
    assert not any(path.name.endswith(".part") for path in tmp_path.rglob("*"))
