"""Record objects built by hand or from saved data, not by the functions that normally make them: Dataset(X, y),
History(...), DependencyTree(...) and the player's Steps; what goes wrong downstream when they are built wrong."""

from __future__ import annotations

import copy
import pickle
import signal

import numpy as np
import pytest

from tinygrad_edu import History, Value
from tinygrad_edu.data import Dataset, batches, load_digits, train_test_split
from tinygrad_edu.dependency_tree import DependencyTree, TreeEdge, TreeNode, dependency_tree
from tinygrad_edu.player import BackpropPlayer, Step
from tinygrad_edu.plots import plot_history


def _hand_tree(names: str, edges: list[TreeEdge]) -> DependencyTree:
    leaf = Value(1.0)
    return DependencyTree("C", {name: TreeNode(name, leaf, 1.0, None, "weight") for name in names}, edges)


@pytest.fixture
def within_seconds():
    """Fails a test that hangs instead of waiting for it forever."""
    def timed_out(*_):
        raise TimeoutError("hung for 5 s")

    previous = signal.signal(signal.SIGALRM, timed_out)
    signal.alarm(5)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


# ------------------------------------------------------------------------------------------------------ Dataset

def test_a_dataset_of_mismatched_lengths_is_refused_naming_its_fields():
    with pytest.raises(ValueError, match=r"^Dataset: inputs and labels hold different numbers of samples, "
                                         r"shapes \(5, 2\) and \(4,\)"):
        Dataset(np.zeros((5, 2)), np.arange(4))


def test_a_dataset_of_nested_lists_holds_arrays():
    dataset = Dataset([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [0, 1, 0])
    assert dataset.inputs.shape == (3, 2) and dataset.labels.shape == (3,)
    np.testing.assert_array_equal(dataset.inputs[dataset.labels == 0], [[1.0, 2.0], [5.0, 6.0]])


def test_datasets_with_equal_arrays_are_equal():
    train, test = train_test_split(*load_digits(), test_fraction=0.25, seed=0)
    again, _ = train_test_split(*load_digits(), test_fraction=0.25, seed=0)
    assert train == again and pickle.loads(pickle.dumps(train)) == train and copy.deepcopy(train) == train
    assert train != test and not (train == test)


def test_a_well_made_dataset_still_unpacks_slices_and_batches():
    """Guard: a tuple of the arrays given, 3-d inputs (load_mnist(flatten=False)) and 2-d targets allowed."""
    x, y = np.arange(24.0).reshape(4, 3, 2), np.eye(4)
    dataset = Dataset(x, y)
    inputs, labels = dataset
    assert inputs is x and labels is y and dataset.inputs is x
    assert [len(xb) for xb, _ in batches(*Dataset(np.zeros((5, 1)), np.zeros(5)), 2, shuffle=False)] == [2, 2, 1]
    with pytest.raises(AttributeError, match="scikit-learn's .data is .inputs here"):
        _ = dataset.data


# ------------------------------------------------------------------------------------------------------ History

@pytest.mark.parametrize("steps", [0.1, np.float64(0.1), 5])
def test_a_history_with_a_single_step_size_is_refused_by_plot_history(steps):
    with pytest.raises(TypeError, match=r"^plot_history: the step sizes of run 1 must be a list"):
        plot_history(History(cost=[1.0, 0.5], step_size=steps))


def test_a_hand_built_history_still_prints_copies_and_pickles():
    """Guard: History stays a plain record (checked where it is used), equal to its copies."""
    history = History(cost=[1.0, 0.5], gradient_norm=[2.0, 1.0], step_size=[0.1, 0.1], seconds=[0.1, 0.2],
                      label="GD", stopped="episodes", final_cost=0.25)
    assert pickle.loads(pickle.dumps(history)) == history == copy.deepcopy(history)
    assert repr(history) == "History(label='GD', episodes=2, first_cost=1, final_cost=0.25, stopped='episodes')"
    assert repr(History(cost=None)).startswith("History(label='', cost=None")


# ------------------------------------------------------------------------------------------------ DependencyTree

def test_a_path_round_a_loop_of_edges_is_refused(within_seconds):
    tree = _hand_tree("Cab", [TreeEdge("a", "b", 1.0), TreeEdge("b", "a", 1.0)])
    with pytest.raises(ValueError, match=r"^DependencyTree.path: the edges from 'a' go round in a loop"):
        tree.path("a")


def test_an_edge_to_a_node_the_tree_lacks_is_refused_by_name():
    tree = _hand_tree("Ca", [TreeEdge("x", "C", 2.0), TreeEdge("a", "C", 3.0)])
    with pytest.raises(ValueError, match=r"^DependencyTree: the edge 'x' → 'C' names a node the tree does not have"):
        tree.chain_rule("a")


@pytest.mark.parametrize("nodes", [{1: None, "W^1": None}, ["C", "W^1"]], ids=["int name", "list"])
def test_the_repr_of_a_hand_built_tree_with_odd_names_still_prints(nodes):
    """(it raised "pretty: label must be a str": a repr must not fail)"""
    text = repr(DependencyTree(cost=3 if isinstance(nodes, dict) else "C", nodes=nodes, edges=[]))
    assert text.startswith("DependencyTree(cost ") and "2 nodes" in text and "W¹" in text


def test_the_chain_rule_of_a_hand_built_tree_is_the_sum_over_paths():
    """Guard: ∂C/∂a over a→b→C (2·3) and a→C (5) is 2·3 + 5 = 11, exactly."""
    tree = _hand_tree("Cab", [TreeEdge("a", "b", 2.0), TreeEdge("b", "C", 3.0), TreeEdge("a", "C", 5.0)])
    assert tree.chain_rule("a") == 11.0 and tree.chain_rule("b") == 3.0
    w = Value(0.5, label="w")
    cost = w * 3.0
    cost.label = "C"
    cost.backward()
    found = dependency_tree(cost)
    assert found == dependency_tree(cost) and copy.deepcopy(found).chain_rule("w") == w.grad


# ------------------------------------------------------------------------------------------------- player Steps

@pytest.mark.parametrize("step", [Step("forward", 0, "t", "<p>", "v0->op1"), Step("forward", 0, None, "<p>"),
                                  Step("forward", "0", "t", "<p>")], ids=["edges a str", "title None", "node a str"])
def test_a_player_refuses_a_step_of_the_wrong_types(step):
    with pytest.raises(TypeError, match=r"^BackpropPlayer: steps\[1\] must have a str phase"):
        BackpropPlayer([Step("start", -1, "t", "<p>"), step], None)


def test_a_player_of_hand_built_steps_still_makes_its_page():
    player = BackpropPlayer([Step("start", -1, "Start", "<p>go</p>"), Step("forward", 0, "w", "<p>w</p>", ["v0"])],
                            None)
    assert len(player) == 2 and '"edges": ["v0"]' in player.html()
