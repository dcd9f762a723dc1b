"""A teacher live-coding in Jupyter, typing fast: misspelt keywords, arguments in the wrong place, a class where an
instance goes, a model where its cost function goes.  Each slip must stop at once with a TypeError that names the
call and the argument at fault (and, for a name a letter or two off, says which one was meant), never an error
from deep inside the package naming nothing the teacher wrote, nor a silently wrong result."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import Value, losses, nn, optim
from tinygrad_edu.calculus import stationary_point
from tinygrad_edu.data import batches, train_test_split, xsquared
from tinygrad_edu.nn import Module
from tinygrad_edu.training import fit


@pytest.fixture
def net() -> nn.MLP:
    return nn.MLP([1, 4, 1], rng=0)


XY = xsquared(20, seed=0)


# --- misspelt keywords: "did you mean ...?" ---------------------------------------------------------------------

MISSPELT = [
    ("fit", lambda net: fit(net, *XY, optimizer=optim.Adam(net), episode=2, progress=False), "episode", "episodes"),
    ("fit", lambda net: fit(net, *XY, optimizer=optim.Adam(net), episodes=1, batchsize=4, progress=False),
     "batchsize", "batch_size"),
    ("GradientDescent", lambda net: optim.GradientDescent(net, learning_rat=0.1), "learning_rat", "learning_rate"),
    ("Adam", lambda net: optim.Adam(net, learningrate=0.1), "learningrate", "learning_rate"),
    ("RandomSearch", lambda net: optim.RandomSearch(net, scal=0.1), "scal", "scale"),
    ("Layer", lambda net: nn.Layer(1, 4, activaton="relu"), "activaton", "activation"),
    ("MLP", lambda net: nn.MLP([1, 4, 1], activations="relu"), "activations", "activation"),
    ("squared_error", lambda net: losses.squared_error(net(XY[0]), targets=XY[1]), "targets", "target"),
    ("backward", lambda net: (Value(2.0) ** 2).backward(create_grap=True), "create_grap", "create_graph"),
    ("train_test_split", lambda net: train_test_split(*XY, test_fration=0.2), "test_fration", "test_fraction"),
    ("batches", lambda net: list(batches(*XY, batchsize=4)), "batchsize", "batch_size"),
]


@pytest.mark.parametrize("where, call, wrong, meant", MISSPELT, ids=[case[2] for case in MISSPELT])
def test_a_misspelt_keyword_names_the_one_meant(net, where, call, wrong, meant):
    with pytest.raises(TypeError, match=rf"^{where}: there is no argument {wrong}=; did you mean {meant}=\?"):
        call(net)


def test_a_keyword_far_from_every_name_keeps_pythons_own_error(net):
    """The suggestion is for a slip of a letter or two: a name like none of the parameters gets no guess."""
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'") as caught:
        fit(net, *XY, optimizer=optim.Adam(net), episodes=1, colour="red", progress=False)
    assert "did you mean" not in str(caught.value)


def test_a_misspelt_keyword_changes_nothing(net):
    """The optimizer refused before it was built: the network's weights are as they were."""
    before = [p.data.copy() for p in net.parameters()]
    with pytest.raises(TypeError):
        optim.GradientDescent(net, learning_rat=0.1)
    for p, old in zip(net.parameters(), before):
        np.testing.assert_array_equal(p.data, old)


def test_fits_keyword_arguments_given_by_position_are_named(net):
    with pytest.raises(TypeError, match=r"^fit: takes 3 positional arguments \(model, inputs, targets\) but 5 were "
                                        r"given.*optimizer=\.\.\., episodes=\.\.\."):
        fit(net, *XY, optim.Adam(net), 2)


# --- a class where an instance or a function goes; the model where its cost function goes -------------------------

class Swish(Module):
    def forward(self, z: Value) -> Value:
        return z * z.sigmoid()


class SquaredError:
    def __call__(self, prediction: Value, target: np.ndarray) -> Value:
        return losses.squared_error(prediction, target)


def test_fit_refuses_the_model_class(net):
    with pytest.raises(TypeError, match=r"^fit: model is the class MLP.*build the network first"):
        fit(nn.MLP, *XY, optimizer=optim.Adam(net), episodes=1, progress=False)


@pytest.mark.parametrize("which", ["model", "layer"])
def test_fit_refuses_a_model_as_the_cost(net, which):
    module = net if which == "model" else net[0]
    with pytest.raises(TypeError, match=rf"^fit: cost is a model \({type(module).__name__}\).*losses\.squared_error"):
        fit(net, *XY, cost=module, optimizer=optim.Adam(net), episodes=1, progress=False)


def test_fit_refuses_a_cost_class(net):
    with pytest.raises(TypeError, match=r"^fit: cost is the class SquaredError.*SquaredError\(\)"):
        fit(net, *XY, cost=SquaredError, optimizer=optim.Adam(net), episodes=1, progress=False)


def test_fit_refuses_a_cost_function_of_one_argument(net):
    with pytest.raises(TypeError, match=r"^fit: cost is called cost\(outputs, targets\).*\(p\)"):
        fit(net, *XY, cost=lambda p: (p * p).mean(), optimizer=optim.Adam(net), episodes=1, progress=False)


def test_fit_with_an_instance_of_a_cost_class_trains_as_with_the_function():
    """The right way round: an instance of the cost class is a cost function, and trains exactly as the function."""
    first, second = nn.MLP([1, 4, 1], rng=0), nn.MLP([1, 4, 1], rng=0)
    a = fit(first, *XY, cost=SquaredError(), optimizer=optim.GradientDescent(first, 0.5), episodes=3, progress=False)
    b = fit(second, *XY, optimizer=optim.GradientDescent(second, 0.5), episodes=3, progress=False)
    np.testing.assert_array_equal(a.cost, b.cost)
    assert a.cost[-1] < a.cost[0]


@pytest.mark.parametrize("make", [lambda: nn.Layer(1, 4, activation=Swish),
                                  lambda: nn.MLP([1, 4, 1], activation=Swish),
                                  lambda: setattr(nn.Layer(1, 4), "activation", Swish)],
                         ids=["Layer", "MLP", "set-later"])
def test_an_activation_class_is_refused_when_given(make):
    with pytest.raises(TypeError, match=r"activation is the class Swish, not a function"):
        make()


# --- guards: what the teacher relies on ---------------------------------------------------------------------------

def test_an_int_learning_rate_steps_as_the_float():
    """learning_rate=1 (an int, typed in a hurry) is the step x ← x − 1·∇C, not a truncated or refused one."""
    w_int, w_float = Value([3.0, -2.0]), Value([3.0, -2.0])
    for w, rate in ((w_int, 1), (w_float, 1.0)):
        cost = (w * w).sum() * 0.25       # ∇C = w / 2
        cost.backward()
        optim.GradientDescent([w], learning_rate=rate).step()
    np.testing.assert_array_equal(w_int.data, [1.5, -1.0])
    np.testing.assert_array_equal(w_float.data, w_int.data)


def test_a_list_where_an_array_goes_trains_as_the_array():
    """fit given nested lists (a teacher typing the data in) trains exactly as with numpy arrays."""
    x, y = XY
    first, second = nn.MLP([1, 4, 1], rng=0), nn.MLP([1, 4, 1], rng=0)
    a = fit(first, x.tolist(), y.tolist(), optimizer=optim.GradientDescent(first, 0.5), episodes=3, progress=False)
    b = fit(second, x, y, optimizer=optim.GradientDescent(second, 0.5), episodes=3, progress=False)
    np.testing.assert_array_equal(a.cost, b.cost)


def test_backward_twice_without_zero_grad_adds_the_gradient_again():
    """Calling backward twice (a cell run again) doubles a leaf's gradient, as in PyTorch: d(w²)/dw = 2w, twice."""
    w = Value(3.0)
    cost = w * w
    cost.backward()
    cost.backward()
    assert float(w.grad) == 2 * (2 * 3.0)
    w.zero_grad()
    cost.backward()
    assert float(w.grad) == 2 * 3.0


@pytest.mark.parametrize("call, message", [
    (lambda net: optim.GradientDescent(net, learning_rate="0.1"), r"^GradientDescent: learning_rate must be a number"),
    (lambda net: fit(net, *XY, optimizer=optim.Adam, episodes=1), r"^fit: optimizer must be an optimizer object, "
                                                                   r"not the class"),
    (lambda net: optim.Adam(net.parameters), r"^Adam: params .*got method \(call it: parameters\(\)\)"),
    (lambda net: fit(net, *XY, optimizer=optim.Adam(net), epochs=2), r"^fit: there is no argument epochs=.*episodes="),
    (lambda net: optim.SGD(net, lr=0.1), r"^SGD: there is no argument lr=; it is called learning_rate="),
    (lambda net: stationary_point(lambda x: (x - 1.0) ** 2, "1.0"), r"^stationary_point: start"),
], ids=["string-number", "optimizer-class", "parameters-uncalled", "epochs", "lr", "string-start"])
def test_slips_already_named(net, call, message):
    """Slips the package already names; kept named."""
    with pytest.raises(TypeError, match=message):
        call(net)
