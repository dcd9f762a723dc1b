"""Sizes a classroom never reaches: the work of a recorded backward pass through a join, of finding a deep
network's tree and of a player for a wide sum grows linearly, counted in function calls (each was n² before its
fix, found by an exploratory pass as a scale adversary)."""


import numpy as np
import pytest
from helpers_introspection import count_calls

from tinygrad_edu import Value, viz
from tinygrad_edu import functional as F
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.losses import squared_error
from tinygrad_edu.nn import MLP


@pytest.mark.parametrize("join", [F.concatenate, F.stack])
def test_a_recorded_backward_pass_of_a_join_does_work_linear_in_its_inputs(join) -> None:
    calls = {}
    for n in (300, 600):
        xs = [Value(np.array([float(i)])) for i in range(n)]
        cost = (join(xs) ** 2).sum()
        calls[n] = count_calls(lambda cost=cost: cost.backward(create_graph=True))
        assert [x.grad.item() for x in xs[:3]] == [0.0, 2.0, 4.0]
    assert calls[600] < 2.5 * calls[300], calls  # twice the inputs, about twice the work (n²: four times)


def test_finding_the_tree_of_a_deep_chain_network_does_work_linear_in_its_depth() -> None:
    calls = {}
    for layers in (100, 200):
        net = MLP([1] * (layers + 1))
        cost = squared_error(net(Value([[0.5]], requires_grad=False)), [[1.0]])
        cost.backward()
        calls[layers] = count_calls(lambda cost=cost: dependency_tree(cost))
        tree = dependency_tree(cost)
        assert tree.chain_rule("W^1") == pytest.approx(net.layers[0].weights.grad.item(), rel=1e-9)
    assert calls[200] < 2.5 * calls[100], calls  # twice the layers, about twice the work (n²: four times)


def test_the_player_of_a_sum_of_labelled_values_does_work_linear_in_their_number() -> None:
    calls = {}
    for n in (150, 300):
        xs = [Value(float(i), label=f"x{i}") for i in range(n)]
        total = sum(xs[1:], xs[0]) * 1.0
        calls[n] = count_calls(lambda total=total: viz.backprop_player(total))
        assert xs[0].grad == 1.0
    assert calls[300] < 2.5 * calls[150], calls  # twice the Values, about twice the work (n²: four times)
