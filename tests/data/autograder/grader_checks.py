"""The autograder (copied next to its conftest as test_grader.py): every check runs on every submission found in the
folder named by GRADER_SUBMISSIONS.  It uses only tinygrad_edu's public API."""

import copy
import importlib.util
import math
import os
import pathlib
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, losses, optim
from tinygrad_edu.testing import check_gradients
from tinygrad_edu.testing.strategies import OpSpec, arrays, arrays_for, broadcastable_shapes, expressions

FOLDER = pathlib.Path(os.environ.get("GRADER_SUBMISSIONS", pathlib.Path(__file__).parent / "submissions"))
sys.path.insert(0, str(FOLDER))  # a submission may import a shared base from its folder
NAMES = sorted(p.stem for p in FOLDER.glob("*.py") if not p.stem.startswith("base"))


def load(name):
    spec = importlib.util.spec_from_file_location(name, FOLDER / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # so that a failing expression's program can import the student's Ops
    spec.loader.exec_module(module)
    return module


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


C = math.sqrt(2 / math.pi)
REFERENCE = {  # the teacher's forward in numpy, where its kinks are, which orders to check
    "SOFTSIGN": (lambda x: x / (1 + np.abs(x)), (0.0,), 2),
    "SWISH": (lambda x: x * _sigmoid(x), (), 2),
    "GELU_TANH": (lambda x: 0.5 * x * (1 + np.tanh(C * (x + 0.044715 * x ** 3))), (), 2),
    "SQUARED_HINGE": (lambda z: np.maximum(0.0, 1 - z) ** 2, (1.0,), 1),
}
POINTS = np.array([-2.1, -0.7, 0.3, 1.6, 2.4])


@pytest.fixture(params=NAMES)
def student(request):
    return load(request.param)


@pytest.mark.parametrize("op", sorted(REFERENCE))
def test_forward(student, op):
    np.testing.assert_allclose(getattr(student, op)(POINTS.copy()), REFERENCE[op][0](POINTS), rtol=1e-12,
                               err_msg=f"{op}: the forward computes another function")


@pytest.mark.parametrize("op", sorted(REFERENCE))
def test_gradients_at_fixed_points(student, op):
    _, _, order = REFERENCE[op]
    check_gradients(lambda x: getattr(student, op)(x).sum(), POINTS, order=order)
    check_gradients(lambda x: getattr(student, op)(x), POINTS.reshape(1, 5))  # a random upstream gradient


@pytest.mark.parametrize("op", sorted(REFERENCE))
def test_gradients_on_random_arrays(student, op):
    @given(arrays(avoid=REFERENCE[op][1], margin=0.05, max_dims=2))
    def prop(x):
        check_gradients(getattr(student, op), x)
    prop()


@pytest.mark.parametrize("op", sorted(REFERENCE))
def test_gradients_in_composition(student, op):
    @given(expressions(extra_ops=[OpSpec(getattr(student, op), kinks=REFERENCE[op][1])], only_extra=True,
                       max_nodes=7))
    def prop(expr):
        check_gradients(expr, *expr.inputs)
    prop()


def test_weighted_sum_broadcasts(student):
    @given(arrays_for(broadcastable_shapes(2, max_dims=2)), st.sampled_from([0.25, 0.5, 0.9]))
    def prop(pair, w):
        a, b = pair
        np.testing.assert_allclose(student.WEIGHTED_SUM(a, b, w=w), w * a + (1 - w) * b, rtol=1e-12)
        check_gradients(lambda a, b: student.WEIGHTED_SUM(a, b, w=w), a, b)
    prop()


def _net(student):
    try:
        return student.TwoLayerNet(3, 4, 2, rng=0)
    except TypeError as error:
        pytest.fail(f"TwoLayerNet(3, 4, 2, rng=0) raised: {error}")


def test_module_registers_both_layers(student):
    try:
        shapes = [p.shape for p in _net(student).parameters()]
    except TypeError as error:
        pytest.fail(f"parameters() raised: {error}")
    assert shapes == [(3, 4), (4,), (4, 2), (2,)], (
        f"TwoLayerNet.parameters() has shapes {shapes}, not those of both layers [(3, 4), (4,), (4, 2), (2,)]: a "
        "layer kept where Module does not look is never trained")


def _forward_by_hand(ws, x):
    h = x @ ws[0] + ws[1]
    return (h * _sigmoid(h)) @ ws[2] + ws[3]


def test_module_forward_and_parameter_gradients(student):
    net = _net(student)
    named = list(net.named_parameters())
    assert len(named) == 4, f"TwoLayerNet has {len(named)} parameters, not 4 (see test_module_registers_both_layers)"
    x = np.random.default_rng(1).normal(size=(5, 3))
    np.testing.assert_allclose(net(x).data, _forward_by_hand([p.data for _, p in named], x), rtol=1e-10,
                               err_msg="TwoLayerNet's forward is not swish(x @ W1 + b1) @ W2 + b2")

    def f(*ws):  # the network as a function of its parameters: each one swapped for the Value checked
        for (name, _), w in zip(named, ws):
            *path, last = name.split(".")
            owner = net
            for part in path:
                owner = owner[int(part) - 1] if part.isdigit() else getattr(owner, part)  # lists count from 1
            setattr(owner, last, w)
        return net(x)
    check_gradients(f, *[Value(p.data.copy(), label=name) for name, p in named])  # the table names them


def _reference_training(net, X, Y, episodes, learning_rate):
    opt = optim.GradientDescent(net, learning_rate)
    costs = []
    for _ in range(episodes):
        opt.zero_grad()
        losses.squared_error(net(X), Y).backward()
        opt.step()
        costs.append(float(losses.squared_error(net(X), Y).data))
    return costs


def test_training_loop(student):
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    reference = _net(student)
    if len(reference.parameters()) != 4:
        pytest.fail("the training loop needs a TwoLayerNet that registers its layers")
    start = copy.deepcopy(reference.state_dict())
    expected = _reference_training(reference, X, Y, 3, 0.1)
    net = _net(student)
    net.load_state_dict(start)
    costs = [float(c) for c in student.train(net, X, Y, episodes=3, learning_rate=0.1)]
    moved = [not np.array_equal(p.data, start[n]) for n, p in net.named_parameters()]
    assert any(moved), ("train() changed no parameter of the model: the update never reached it (p -= lr * p.grad "
                        "makes a new Value and rebinds the name p; change p.data in place, or use an optimizer)")
    one = _net(student)
    one.load_state_dict(start)
    student.train(one, X, Y, episodes=1, learning_rate=0.1)
    once = _net(student)
    once.load_state_dict(start)
    _reference_training(once, X, Y, 1, 0.1)
    first_ok = all(np.allclose(p.data, q.data) for p, q in zip(one.parameters(), once.parameters()))
    final_ok = all(np.allclose(p.data, q.data) for p, q in zip(net.parameters(), reference.parameters()))
    assert final_ok or not first_ok, ("the first update is right but later ones are not: gradients add up from "
                                      "one episode to the next; call zero_grad() before each backward()")
    assert final_ok, "train() does not make the updates of gradient descent with the given learning rate"
    before = [float(losses.squared_error(_net(student)(X), Y).data)] + expected[:-1]
    assert not np.allclose(costs, before), ("train() returned each episode's cost from before its update; return "
                                            "the cost after it (compute it again once the step is made)")
    np.testing.assert_allclose(costs, expected, rtol=1e-10, err_msg="train() returned other costs")
