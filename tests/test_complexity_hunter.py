"""Accidental quadratic work in the helpers around the engine, found by an exploratory pass as a complexity hunter:
each helper timed at growing sizes, the work counted in function calls (or, for numpy's own loops, in comparisons
of labels that count themselves), so that a busy machine cannot make a test pass or fail.  Linear work at four times
the size is about four times the calls; quadratic work, sixteen."""

import contextlib
import io

import numpy as np
import pytest
from helpers_introspection import count_calls  # function calls counted by sys.setprofile

from tinygrad_edu import Value, autodiff, cli, data, nn, optim, player
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.losses import squared_error
from tinygrad_edu.testing import check_gradients
from tinygrad_edu.training import fit


def _chain_cost(layers: int, regularised: bool = False) -> tuple[nn.MLP, Value]:
    """A network of one neuron per layer and its squared error on one sample (``regularised``: plus 0.01 times the
    sum of the squared weights, added up pairwise, as a balanced tree of additions)."""
    net = nn.MLP([1] * (layers + 1), rng=0)
    cost = squared_error(net(Value([[0.5]], requires_grad=False)), [[1.0]])
    if regularised:
        terms = [(layer.weights ** 2).sum() for layer in net.layers]
        while len(terms) > 1:
            terms = [sum(terms[i:i + 2][1:], terms[i]) for i in range(0, len(terms), 2)]
        cost = cost + 0.01 * terms[0]
    return net, cost


# --- defects ---------------------------------------------------------------------------------------------------
def test_the_players_steps_on_a_deep_networks_tree_do_work_linear_in_its_depth() -> None:
    calls = {}
    for layers in (100, 400):
        _, cost = _chain_cost(layers)
        cost.backward()
        tree = dependency_tree(cost)
        steps: list = []
        calls[layers] = count_calls(lambda cost=cost, tree=tree, steps=steps:
                                    steps.extend(player.tree_steps(cost, tree)))
        numbers = [int(end[1:]) for step in steps for edge in step.edges for end in edge.split("->")]
        assert max(numbers) < len(tree.nodes)  # every lit edge joins two drawn nodes
        phases = [step.phase for step in steps]
        assert phases.count("forward") == sum(node.value.op is not None for node in tree.nodes.values())
        assert phases.count("backward") == sum(node.value.requires_grad for node in tree.nodes.values())
    assert calls[400] < 4.8 * calls[100], calls  # four times the layers, four times the work (n²: about six)


def test_the_tree_of_a_regularised_deep_network_does_work_linear_in_its_depth() -> None:
    calls = {}
    for layers in (50, 200):
        net, cost = _chain_cost(layers, regularised=True)
        cost.backward()
        trees: list = []
        calls[layers] = count_calls(lambda cost=cost, trees=trees: trees.append(dependency_tree(cost)))
        tree = trees[0]
        assert {e.parent for e in tree.edges if e.child == tree.cost} >= {f"W^{i}" for i in range(1, layers + 1)}
        for i in (1, layers):
            weights = net.layers[i - 1].weights
            assert tree.chain_rule(f"W^{i}") == pytest.approx(weights.grad.item(), rel=1e-9)
    assert calls[200] < 6 * calls[50], calls  # four times the layers, four times the work (it was over twelve)


class _Label(int):
    """A class label that counts how often it is compared (numpy compares object labels with these methods)."""

    compared = 0

    def __eq__(self, other):
        _Label.compared += 1
        return int(self) == int(other)

    def __ne__(self, other):
        _Label.compared += 1
        return int(self) != int(other)

    def __lt__(self, other):
        _Label.compared += 1
        return int(self) < int(other)

    __hash__ = int.__hash__


def test_a_stratified_split_of_many_classes_compares_labels_about_n_log_n_times() -> None:
    compared = {}
    for n in (500, 2000):
        labels = np.empty(n, dtype=object)
        labels[:] = [_Label(i // 5) for i in range(n)]  # n/5 classes of 5 samples: 1 of each in the test part
        _Label.compared = 0
        train, test = data.train_test_split(np.arange(n)[:, None], labels, stratify=True)
        compared[n] = _Label.compared
        assert sorted(int(label) for label in test.labels) == list(range(n // 5))
        assert sorted(train.inputs[:, 0].tolist() + test.inputs[:, 0].tolist()) == list(range(n))
    assert compared[2000] < 8 * compared[500], compared  # n log n: about 5 times (n²: 16)


# --- guards ----------------------------------------------------------------------------------------------------
def test_a_stratified_split_still_draws_the_same_samples_from_the_same_seed() -> None:
    labels = np.array(["b", "a", "c", "a", "b", "c"] * 5)
    first = data.train_test_split(np.arange(30)[:, None], labels, 0.4, seed=3, stratify=True)
    second = data.train_test_split(np.arange(30)[:, None], labels, 0.4, seed=3, stratify=True)
    assert first[1].inputs.tolist() == second[1].inputs.tolist()
    for name in "abc":  # 10 samples each: 4 in the test part, in the shuffled order of their class
        assert list(first[1].labels).count(name) == 4
        assert sorted(i for i, label in enumerate(labels) if label == name) == sorted(
            [i for i, label in zip(first[0].inputs[:, 0], first[0].labels) if label == name]
            + [i for i, label in zip(first[1].inputs[:, 0], first[1].labels) if label == name])


def test_the_model_helpers_do_work_linear_in_the_number_of_layers(tmp_path) -> None:
    calls = {}
    for layers in (50, 200):
        net = nn.MLP([2] * (layers + 1), rng=0)
        path = tmp_path / f"model{layers}.npz"

        def run(net=net, path=path) -> None:
            state = net.state_dict()
            assert len(net.parameters()) == len(dict(net.named_parameters())) == len(state) == 2 * len(net)
            net.load_state_dict(state)
            repr(net)
            net.save(path)
            loaded = nn.load(path).state_dict()
            assert loaded.keys() == state.keys()
            assert all(np.array_equal(loaded[name], array) for name, array in state.items())

        calls[layers] = count_calls(run)
    assert calls[200] < 5 * calls[50], calls  # four times the layers, about four times the work


def test_fit_does_the_same_work_in_every_episode() -> None:
    x = np.linspace(-1, 1, 16)[:, None]
    calls = {}
    for episodes in (50, 200):
        net = nn.MLP([1, 3, 1], rng=0)
        for batch_size in (None, 4):
            optimizer = optim.SGD(net.parameters(), 0.1) if batch_size else optim.Armijo(net.parameters())
            fit(net, x, x ** 2, optimizer=optimizer, episodes=2, batch_size=batch_size, progress=False, seed=0)
            calls[episodes, batch_size] = count_calls(
                lambda net=net, optimizer=optimizer, episodes=episodes, batch_size=batch_size: fit(
                    net, x, x ** 2, optimizer=optimizer, episodes=episodes, batch_size=batch_size, progress=False,
                    seed=0))
    for batch_size in (None, 4):
        assert calls[200, batch_size] < 5 * calls[50, batch_size], calls


@pytest.mark.parametrize("n", [5, 20])
def test_jacobian_and_hessian_take_one_backward_pass_per_row(monkeypatch, n) -> None:
    passes = 0
    backward = Value.backward

    def counted(self, *args, **kwargs):
        nonlocal passes
        passes += 1
        return backward(self, *args, **kwargs)

    monkeypatch.setattr(Value, "backward", counted)
    x = np.linspace(-1.0, 2.0, n)
    jacobian = autodiff.jacobian(lambda v: v * v)(x)
    assert passes == n
    np.testing.assert_allclose(jacobian.data, np.diag(2 * x))  # d(x²)/dx = 2x, on the diagonal
    passes = 0
    hessian = autodiff.hessian(lambda v: (v ** 3).sum())(x)
    assert passes == n + 1  # the recorded gradient, then one pass per row
    np.testing.assert_allclose(hessian.data, np.diag(6 * x))  # d²(Σx³)/dx² = diag(6x)


# order 2: 2 calls per element for order 1, then 4 for order 2 (every element is differenced with ε and ε/2 there)
@pytest.mark.parametrize("order, per_element", [(1, 2), (2, 6)])
def test_check_gradients_calls_the_function_a_fixed_number_of_times_per_element(order, per_element) -> None:
    calls = {}
    for n in (10, 40):
        count = 0

        def f(v):
            nonlocal count
            count += 1
            return (v * v * v).sum()

        assert check_gradients(f, np.linspace(-1, 1, n), order=order).elements == n  # (it raises where they differ)
        calls[n] = count
    assert calls[40] - calls[10] == per_element * 30, calls  # central differences: a fixed number per element


def test_predict_reads_a_long_inputs_file_with_work_linear_in_its_lines(tmp_path) -> None:
    model = tmp_path / "model.npz"
    nn.MLP([2, 3, 1], rng=0).save(model)
    calls = {}
    for lines in (2000, 8000):
        inputs = tmp_path / f"inputs{lines}.txt"
        inputs.write_text("".join(f"{i / 1000}, {-i / 1000}\n" for i in range(lines)))
        out = io.StringIO()

        def run(inputs=inputs, out=out) -> None:
            with contextlib.redirect_stdout(out):
                assert cli.main(["predict", str(model), "--inputs-file", str(inputs)]) == 0

        run()  # (the first run imports what predict needs)
        out.seek(0)
        out.truncate()
        calls[lines] = count_calls(run)
        assert out.getvalue().count("\n") == lines
    assert calls[8000] < 5 * calls[2000], calls
