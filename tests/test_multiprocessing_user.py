"""An engineer trains many small networks in parallel (multiprocessing Pools with 'spawn' and 'fork',
ProcessPoolExecutor), so everything is pickled or copied: it must come back behaving exactly as the original (the
same numbers, the same next steps bit for bit), or fail at once with a TypeError saying what to pickle instead.
test_reproducible_runs.py, test_resume.py and the pickle tests in test_engine.py cover leaves, files and SGD/Adam
copies; this goes on to workers, the other optimizers, layers' activations, passes over batches and trees."""

import copy
import multiprocessing
import pickle
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import Value, data, detect_anomaly, losses, nn, no_grad, optim, viz
from tinygrad_edu.training import History, fit

ROOT = Path(__file__).resolve().parents[1]

OPTIMIZERS = {
    "SGD": lambda net: optim.SGD(net, 0.1, momentum=0.9),
    "Adam": lambda net: optim.Adam(net, 0.05),
    "Armijo": lambda net: optim.Armijo(net),
    "RandomSearch": lambda net: optim.RandomSearch(net, scale=0.1, rng=7),
    "Newton": lambda net: optim.Newton(net, damping=1e-3),
}


def _round_trip(obj):
    return pickle.loads(pickle.dumps(obj))


def _problem(seed):
    x = np.linspace(-1.0, 1.0, 16).reshape(-1, 1)
    return x, np.sin(3.0 * x) + 0.1 * np.random.default_rng(seed).standard_normal(x.shape)


def _fit(net, opt, seed, episodes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (a line search finding no step says so; not tested here)
        return fit(net, *_problem(seed), cost=losses.mean_squared_error, optimizer=opt, episodes=episodes,
                   batch_size=4, seed=seed, progress=False)


def _started(name, seed=0):
    """A small network and its optimizer after 2 episodes."""
    net = nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", init="xavier", rng=seed)
    opt = OPTIMIZERS[name](net)
    _fit(net, opt, seed, 2)
    return net, opt


def _go_on(net, opt, seed=1):
    """Train 2 more episodes; the numbers to compare: the costs and every parameter."""
    history = _fit(net, opt, seed, 2)
    return history.cost, net.state_dict()


def _train_in_a_worker(name, seed):
    """Run in a worker: a model trained from seeds only, and which tinygrad_edu the worker imported."""
    for _ in range(1000):  # the worker's creation count differs from the parent's
        Value(1.0) * 2.0
    return tinygrad_edu.__file__, _go_on(*_started(name, seed))


def _go_on_in_a_worker(started):
    return _go_on(*started)


def _same(a, b):
    (costs_a, state_a), (costs_b, state_b) = a, b
    return costs_a == costs_b and state_a.keys() == state_b.keys() and all(
        np.array_equal(state_a[k], state_b[k]) and state_a[k].dtype == state_b[k].dtype for k in state_a)


# --- guards: what holds today and must keep holding -----------------------------------------------------------------

def test_models_trained_in_spawn_and_fork_workers_equal_the_parents_bit_for_bit():
    """Seeds alone decide: the workers' own creation counts and fresh imports change nothing; a model and its
    optimizer sent half-trained to a worker go on there exactly as a deep copy goes on here."""
    for _ in range(3000):  # the parent's count is far from a fresh worker's
        Value(1.0) * 2.0
    names = list(OPTIMIZERS)
    here = [_go_on(*_started(name, seed=3)) for name in names]
    halfway = [_started(name, seed=4) for name in names]
    copied_here = [_go_on(*copy.deepcopy(started)) for started in halfway]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        there = pool.starmap(_train_in_a_worker, [(name, 3) for name in names])
        went_on_there = pool.map(_go_on_in_a_worker, halfway)
    assert {Path(file).resolve() for file, _ in there} == {ROOT / "tinygrad_edu" / "__init__.py"}
    assert [_same(a, b) for a, (_, b) in zip(here, there)] == [True] * len(names)
    assert [_same(a, b) for a, b in zip(copied_here, went_on_there)] == [True] * len(names)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        forked = list(pool.map(_train_in_a_worker, names, [3] * len(names)))
    assert [_same(a, b) for a, (_, b) in zip(here, forked)] == [True] * len(names)


@pytest.mark.parametrize("duplicate", [copy.deepcopy, _round_trip], ids=["deepcopy", "pickle"])
@pytest.mark.parametrize("name", ["Armijo", "RandomSearch", "Newton"])
def test_an_optimizer_copied_with_its_model_mid_training_is_an_independent_twin(name, duplicate):
    net, opt = _started(name)
    twin_net, twin_opt = duplicate((net, opt))
    assert all(p is not q for p, q in zip(net.parameters(), twin_net.parameters()))
    expected = _go_on(net, opt)
    assert _same(_go_on(twin_net, twin_opt), expected)
    assert not _same(_go_on(net, opt), expected)  # the original went on by itself: the twin shared nothing


def test_leaves_come_back_with_their_dtype_shape_and_gradient_and_differentiate_exactly():
    w = Value(np.array(1.5, dtype=np.float32), label="w")
    (w * w * w).backward()  # d(w³)/dw = 3w² = 6.75, exact in float32
    back = _round_trip(w)
    assert back.shape == () and back.dtype == np.float32 and back.label == "w"
    assert back.grad.dtype == np.float32 and back.grad == 6.75
    back.zero_grad()
    (back * back).backward()  # made in this process after the copy: no stale graph
    assert back.grad == np.float32(3.0) and w.grad == 6.75


def test_the_plain_objects_come_back_equal():
    net = nn.MLP([1, 2, 1], rng=0)
    history = fit(net, *_problem(0), optimizer=optim.GradientDescent(net, 0.1), episodes=2, progress=False)
    back = _round_trip(history)
    assert isinstance(back, History) and back.cost == history.cost and back.final_cost == history.final_cost
    digits = data.load_digits()
    assert _round_trip(digits) == digits and type(_round_trip(digits)) is data.Dataset
    for mode in (no_grad(), detect_anomaly()):
        with _round_trip(mode):
            assert tinygrad_edu.is_grad_enabled() is isinstance(mode, detect_anomaly)
    x = Value(2.0, label="x")
    y = (x * 3.0).tanh()
    y.backward()
    assert _round_trip(viz.backprop_player(y)).html() == viz.backprop_player(y).html()
    assert _round_trip(viz.draw_graph(y)).source == viz.draw_graph(y).source


def _tanh_of(v):
    return v.tanh()


def test_a_layer_whose_activation_is_named_or_a_top_level_function_pickles_with_the_same_function():
    for activation in ("tanh", _tanh_of, np.tanh):
        layer = nn.Layer(2, 3, activation=activation, rng=0)
        back = _round_trip(layer)
        assert back.activation is layer.activation
        x = np.array([[0.5, -1.0]])
        assert np.array_equal(back(x).data, layer(x).data)


# --- defects ----------------------------------------------------------------------------------------------------------

def test_a_training_loop_copied_mid_episode_goes_on_exactly_as_the_original():
    x, y = _problem(0)

    def first_batch_done():
        net = nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
        opt = optim.Adam(net, 0.05)
        episode = iter(data.batches(x, y, batch_size=5, seed=np.random.default_rng(2)))
        train(net, opt, [next(episode)])
        return net, opt, episode

    def train(net, opt, episode):
        for batch_x, batch_y in episode:
            opt.zero_grad()
            losses.mean_squared_error(net(batch_x), batch_y).backward()
            opt.step()
        return net.state_dict()

    expected = train(*first_batch_done())  # never copied
    order = np.random.default_rng(2).permutation(len(x))  # the order the generator drew: 3 batches left
    for duplicate in (copy.deepcopy, _round_trip):
        original = first_batch_done()
        twin = duplicate(original)
        assert [b.tolist() for b, _ in duplicate(original[2])] == [x[order[i:i + 5]].tolist() for i in (5, 10, 15)]
        for state in (train(*twin), train(*original)):  # each goes on by itself, as if never copied
            assert all(np.array_equal(a, b) for a, b in zip(state.values(), expected.values(), strict=True))


def test_a_dependency_tree_refuses_pickle_by_name_and_says_what_to_pickle_instead():
    x, w = Value(2.0, label="x"), Value(3.0, label="w")
    cost = (x * w).tanh()
    cost.label = "C"
    tree = viz.dependency_tree(cost)
    with pytest.raises(TypeError, match=r"^pickle: the dependency tree node 'C' holds the Value computed by 'tanh'.*"
                                        r"viz.tree_drawing\(tree\)"):
        pickle.dumps(tree)
    drawing = viz.tree_drawing(tree)
    assert _round_trip(drawing).source == drawing.source  # what the message points to
    twin = copy.deepcopy(tree)  # a copy keeps its graph, and the numbers: ∂C/∂w = x (1 − tanh²(xw))
    assert viz.tree_drawing(twin).source == drawing.source
    assert twin.chain_rule("w") == pytest.approx(2.0 * (1.0 - np.tanh(6.0) ** 2), rel=1e-12)
    assert _round_trip(tree.nodes["w"]).value.data == 3.0  # a leaf's node is just numbers: it pickles
