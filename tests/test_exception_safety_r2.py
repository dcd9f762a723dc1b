"""Exception safety, second pass: a refused ``reset_parameters``, a step refused by ``detect_anomaly`` halfway
through its updates, and a ``float()`` / ``double()`` that cannot convert one parameter change nothing the user owns
(the parameters' bytes and dtypes, ``.grad``, the optimizer's state, the random generator)."""

import pickle

import numpy as np
import pytest

from tinygrad_edu import Value, detect_anomaly, nn, optim


def _bytes(values):
    """The numbers, dtypes and gradients of ``values``, as bytes."""
    return pickle.dumps([(v.data, v.dtype, v.grad) for v in values])


def _module_state(module):
    return _bytes([value for _, value in module._named_state()])


# --- defects -------------------------------------------------------------------------------------------------

def _single_layer():
    layer = nn.Layer(3, 2, init="he", rng=0)
    layer.biases.data = np.zeros(5)  # numbers of another shape, set through .data (its forward refuses them)
    return layer, layer


def _network():
    net = nn.MLP([2, 3, 2], init="he", rng=0)
    net.layers[1].biases.data = np.zeros(7)  # the second layer's: the first would be reset before it is refused
    return net, net.layers[1]


@pytest.mark.parametrize("make", [_single_layer, _network], ids=["Layer", "Network"])
def test_a_refused_reset_parameters_changes_nothing(make):
    module, bad = make()
    rng = np.random.default_rng(1)
    before, drawn = _module_state(module), rng.bit_generator.state
    with pytest.raises(ValueError) as raised:
        module.reset_parameters(rng)
    assert _module_state(module) == before
    assert rng.bit_generator.state == drawn
    assert f"biases must have shape (2,) (3 inputs, 2 neurons), got a Value of shape {bad.biases.shape}" in str(
        raised.value)


def _two_parameters(b=0.0, scale=100.0):
    """``a`` and ``b`` for the cost ``|a|² + scale · b``: a large step moves ``a`` by a finite amount and ``b`` to
    -inf (its update ``η · scale`` for gradient descent, about ``η`` for Adam, overflows where ``a``'s does not)."""
    a, b = Value(np.array([1.0, 2.0])), Value(np.array([b]))
    return a, b, lambda: (a * a).sum() + (b * scale).sum()


@pytest.mark.parametrize("make, start, scale, rate", [
    (optim.GradientDescent, 0.0, 100.0, 1e307), (lambda p, r: optim.SGD(p, r, momentum=0.5), 0.0, 100.0, 1e307),
    (optim.Adam, -1e308, 1.0, 1e308)], ids=["GradientDescent", "SGD", "Adam"])
def test_a_step_refused_by_detect_anomaly_changes_no_parameter_and_no_state(make, start, scale, rate):
    a, b, cost = _two_parameters(start, scale)
    opt = make([a, b], 1e-3)
    opt.step(cost)  # a first step, so that there is momentum or averages to keep
    opt.learning_rate = rate
    cost().backward()  # the gradients at the current point, given with cost= below
    at = cost()
    before = _bytes([a, b]), pickle.dumps(opt.state_dict()), opt.last_step_size
    with detect_anomaly(), pytest.raises(FloatingPointError, match="NaN or inf"):
        opt.step(cost=at)
    assert (_bytes([a, b]), pickle.dumps(opt.state_dict()), opt.last_step_size) == before


class _NoRoom(np.ndarray):
    """Numbers that cannot be converted: as an array too large to copy in another dtype."""

    def astype(self, *args, **kwargs):
        raise MemoryError("injected")


@pytest.mark.parametrize("to", ["float", "double"])
def test_float_and_double_that_cannot_convert_one_parameter_change_nothing(to):
    net = nn.MLP([2, 3, 2], rng=0)
    if to == "double":
        net.float()
    for p in net.parameters():
        p.grad = np.ones(p.shape, p.dtype)
    last = net.parameters()[-1]
    last._data = last.data.view(_NoRoom)  # the last one found: every other one would be converted before it
    before = _module_state(net)
    with pytest.raises(MemoryError):
        getattr(net, to)()
    assert _module_state(net) == before


# --- guards ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("failure", [MemoryError(), KeyboardInterrupt(), ValueError("injected")],
                         ids=["MemoryError", "KeyboardInterrupt", "ValueError"])
@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, 0.1, momentum=0.9), lambda p: optim.Adam(p, 0.1)],
                         ids=["SGD", "Adam"])
def test_a_closure_that_raises_changes_no_parameter_and_no_optimizer_state(make, failure):
    a, b, _ = _two_parameters()
    opt = make([a, b])
    opt.step(lambda: (a * a).sum() + (b * b * b * b).sum())
    before = pickle.dumps(([a.data, b.data], opt.state_dict(), opt.last_step_size))

    def closure():
        raise failure

    with pytest.raises(type(failure)):
        opt.step(closure)
    assert pickle.dumps(([a.data, b.data], opt.state_dict(), opt.last_step_size)) == before


class _Holder(nn.Module):
    """A module holding a layer, then a Value computed by an operation (no parameter: its walk refuses it)."""

    def __init__(self):
        self.layer = nn.Layer(2, 2, rng=0)
        self.output = self.layer.weights * 2.0


@pytest.mark.parametrize("call", [lambda m: m.zero_grad(), lambda m: m.requires_grad_(False), lambda m: m.float()],
                         ids=["zero_grad", "requires_grad_", "float"])
def test_a_module_with_a_computed_value_refuses_before_changing_its_layer(call):
    module = _Holder()
    module.layer.weights.grad = np.full((2, 2), 3.0)
    values = [module.layer.weights, module.layer.biases]
    before = _bytes(values), [v.requires_grad for v in values]
    with pytest.raises(TypeError, match="output"):
        call(module)
    assert (_bytes(values), [v.requires_grad for v in values]) == before


def test_reset_parameters_with_the_constructors_seed_draws_the_first_numbers_again():
    net = nn.MLP([2, 3, 2], init="he", rng=4)
    first = [p.data.copy() for p in net.parameters()]
    for p in net.parameters():
        p.data = p.data + 1.0
    net.reset_parameters(4)
    for p, kept in zip(net.parameters(), first, strict=True):
        np.testing.assert_array_equal(p.data, kept)
