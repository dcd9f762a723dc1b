"""Exception safety: a failure injected at every point (an Op whose forward or vjp raises on its Nth call, a closure
that raises on its Nth call, Ctrl-C simulated by raising KeyboardInterrupt from either) leaves every parameter, every
``.grad``, the optimizer's state and reports, and the grad mode as they were, so that the next normal step is the
step of a twin that never saw the failure.  Not only ValueError: KeyboardInterrupt, MemoryError and an exception of
the caller's own, which an ``except (TypeError, ValueError)`` would let pass without cleanup."""

import asyncio
import copy
import gc
import pickle
import signal
import warnings

import numpy as np
import pytest

from tinygrad_edu import Op, Value, apply, autodiff, detect_anomaly, enable_grad, fit, nn, no_grad, optim
from tinygrad_edu.engine import CAPTURED_GRADIENTS, WALK_SETUP
from tinygrad_edu.grad_mode import _OPEN_BLOCKS, DETECT_ANOMALY, GRAD_ENABLED
from tinygrad_edu.testing import check_gradients


class Custom(Exception):
    """An exception of the caller's own."""


FAILURES = [ValueError("injected"), TypeError("injected"), ZeroDivisionError("injected"), KeyboardInterrupt(),
            MemoryError(), Custom("injected")]
FAILURE_IDS = [type(e).__name__ for e in FAILURES]


def _switches():
    return (GRAD_ENABLED.get(), DETECT_ANOMALY.get(), _OPEN_BLOCKS.get(), CAPTURED_GRADIENTS.get(), WALK_SETUP.get(),
            np.geterr())


def _failing_op(failure, at, where="vjp"):
    """An identity Op whose forward or vjp raises ``failure`` on its ``at``-th call."""
    calls = [0]

    def tick(here):
        if here == where:
            calls[0] += 1
            if calls[0] == at:
                raise failure

    def forward(x):
        tick("forward")
        return x * 1.0

    def vjp(g, out, x):
        tick("vjp")
        return g * 1.0

    return Op("identity", forward, vjp)


def _failing_closure(closure, failure, at):
    calls = [0]

    def failing():
        calls[0] += 1
        if calls[0] == at:
            raise failure
        return closure()

    return failing


def _grad(v):
    g = v.grad
    return None if g is None else np.array(getattr(g, "data", g))


def _snapshot(values):
    return [(v.data.copy(), _grad(v)) for v in values]


def _assert_same(values, snapshot):
    for v, (data, grad) in zip(values, snapshot, strict=True):
        np.testing.assert_array_equal(v.data, data)
        assert (v.grad is None) == (grad is None)
        if grad is not None:
            np.testing.assert_array_equal(_grad(v), grad)


def _reports(opt):
    return {k: v for k, v in vars(opt).items() if k.startswith("last_")}


def _quartic(a, b):
    return lambda: (a * a * a * a).sum() + (b * b).sum()


# --- guards: what holds today ------------------------------------------------------------------------------------

@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("failure", FAILURES, ids=FAILURE_IDS)
def test_a_backward_that_raises_anywhere_changes_no_gradient_and_no_mode(failure, create_graph):
    for at in range(1, 4):
        w, b = Value(np.array([1.0, 2.0])), Value(np.array(0.5))
        w.grad = np.array([0.1, 0.2])  # one gradient accumulated already, one not
        op = _failing_op(failure, at)
        cost = (apply(op, w * b) * apply(op, w)).sum() + apply(op, b)
        before, switches = _snapshot([w, b]), _switches()
        with pytest.raises(type(failure)):
            cost.backward(create_graph=create_graph)
        _assert_same([w, b], before)
        assert _switches() == switches


def _transforms(op, w, x0):
    """Every way autodiff and check_gradients differentiate f, which uses ``op`` and closes over ``w``."""
    f = lambda x: (apply(op, x * w) ** 2).sum()  # noqa: E731
    return [lambda: autodiff.grad(f)(x0), lambda: autodiff.hessian(f)(x0),
            lambda: autodiff.jacobian(lambda x: apply(op, x * w) ** 2)(x0),
            lambda: autodiff.hvp(f, x0, np.array([1.0, 0.0])), lambda: check_gradients(f, x0)]


@pytest.mark.parametrize("failure", FAILURES, ids=FAILURE_IDS)
def test_autodiff_transforms_and_check_gradients_that_raise_change_no_grad(failure):
    x0 = np.array([1.0, 3.0])
    raised = 0
    for at in range(1, 8):
        w = Value(np.array([1.0, 2.0]))
        w.grad = np.array([3.0, 4.0])
        for call in _transforms(_failing_op(failure, at), w, x0):
            before, switches = _snapshot([w]), _switches()
            try:
                call()
            except type(failure):
                raised += 1
            _assert_same([w], before)
            assert _switches() == switches
    assert raised >= 7  # (the failure was met, not passed by)


def test_gradients_that_raise_put_every_gradient_in_the_graph_back():
    x = Value(np.array([1.0, 3.0]))
    op = _failing_op(KeyboardInterrupt(), 3)  # the first call of the second pass
    hidden = apply(op, x * 2.0)
    out = (apply(op, hidden) ** 2).sum()
    out.backward()
    before = _snapshot([x, hidden, out])
    with pytest.raises(KeyboardInterrupt):
        autodiff.gradients(out, [x])
    _assert_same([x, hidden, out], before)


@pytest.mark.parametrize("block", [no_grad, enable_grad, detect_anomaly])
@pytest.mark.parametrize("failure", [Custom("in"), KeyboardInterrupt(), MemoryError()], ids=["Custom", "KI", "Mem"])
def test_a_generator_that_raises_inside_a_block_leaves_the_modes_as_they_were(block, failure):
    switches = _switches()

    @block()
    def decorated():
        yield 1
        raise failure

    def plain():
        with block():
            yield 1
            raise failure

    for make in (decorated, plain):
        steps = make()
        next(steps)
        with pytest.raises(type(failure)):
            next(steps)
        assert _switches() == switches

    @block()
    def catching():
        try:
            yield 1
        except Custom:
            yield 2

    steps = catching()
    next(steps)
    with pytest.raises(KeyboardInterrupt):
        steps.throw(KeyboardInterrupt())  # thrown in by its user, not caught inside
    steps = catching()
    next(steps)
    del steps
    gc.collect()
    assert _switches() == switches

    @block()
    async def coroutine():
        raise failure

    with pytest.raises(type(failure)):
        asyncio.run(coroutine())
    assert _switches() == switches


class _Trap(dict):
    """A state that raises on its Nth reading."""

    def __init__(self, state, at, failure):
        super().__init__(state)
        self.calls, self.at, self.failure = 0, at, failure

    def _tick(self):
        self.calls += 1
        if self.calls == self.at:
            raise self.failure

    def __getitem__(self, key):
        self._tick()
        return super().__getitem__(key)

    def __contains__(self, key):
        self._tick()
        return super().__contains__(key)


@pytest.mark.parametrize("kind", ["SGD", "Adam", "RandomSearch"])
def test_a_load_state_dict_interrupted_at_any_reading_changes_nothing(kind):
    def made():
        a, b = Value(np.array([1.0, 2.0])), Value(np.array([3.0]))
        opt = {"SGD": lambda: optim.SGD([a, b], 0.1, momentum=0.9), "Adam": lambda: optim.Adam([a, b], 0.1),
               "RandomSearch": lambda: optim.RandomSearch([a, b], rng=0)}[kind]()
        opt.step(_quartic(a, b))
        return opt

    source = made()
    source.step(_quartic(*source.params))
    state = source.state_dict()
    for failure in (KeyboardInterrupt(), MemoryError(), Custom()):
        at = 1
        while True:
            opt = made()
            before = pickle.dumps(opt.state_dict())
            try:
                opt.load_state_dict(_Trap(state, at, failure))
            except (type(failure), ValueError):  # (an entry that cannot be read is a ValueError naming it)
                assert pickle.dumps(opt.state_dict()) == before
                at += 1
                continue
            break
        assert at > 3


@pytest.mark.parametrize("batch_size", [None, 4])
@pytest.mark.parametrize("make", [lambda n: optim.Adam(n, 0.05), lambda n: optim.SGD(n, 0.05, momentum=0.5)],
                         ids=["Adam", "SGD"])
def test_ctrl_c_from_a_vjp_in_fit_keeps_the_updates_made_and_restores_the_handler(make, batch_size):
    x = np.linspace(-1, 1, 16).reshape(-1, 1)
    y = x ** 2
    net = nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", rng=0)
    opt = make(net)
    twin, twin_opt = copy.deepcopy((net, opt))
    after_each, step = [], opt.step

    def recorded_step(*args, **kwargs):
        result = step(*args, **kwargs)
        after_each.append((pickle.dumps(opt.state_dict()), [p.data.copy() for p in net.parameters()]))
        return result

    opt.step = recorded_step
    op = _failing_op(KeyboardInterrupt(), 3)  # in the third backward pass, before its update
    switches = _switches()
    history = fit(lambda inputs: apply(op, net(inputs)), x, y, optimizer=opt, episodes=5, batch_size=batch_size,
                  progress=False, seed=0)
    assert history.stopped == "interrupted" and len(after_each) == 2
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert _switches() == switches
    del opt.step
    state, numbers = after_each[-1]
    assert pickle.dumps(opt.state_dict()) == state  # as the second update left it
    for p, kept in zip(net.parameters(), numbers, strict=True):
        np.testing.assert_array_equal(p.data, kept)
    if batch_size is None:  # two whole episodes: as a run of two episodes
        assert history.episodes == 2
        fit(twin, x, y, optimizer=twin_opt, episodes=2, progress=False)
        for p, q in zip(net.parameters(), twin.parameters(), strict=True):
            np.testing.assert_array_equal(p.data, q.data)
    else:  # the first episode, with the two batches it made
        assert history.episodes == 1


@pytest.mark.parametrize("failure", FAILURES, ids=FAILURE_IDS)
def test_armijo_and_newton_put_the_parameters_back_bit_for_bit_when_the_closure_fails(failure):
    for make, trials in ((optim.Armijo, 4), (lambda p: optim.Newton(p, damping=1.0), 1)):
        for at in range(2, 2 + trials):  # each trial of the line search (the first call is the cost at x)
            a, b = Value(np.array([1.0, -2.0])), Value(np.array([0.5]))
            opt = make([a, b])
            before = [a.data.copy(), b.data.copy()]
            with warnings.catch_warnings(), pytest.raises(type(failure)):
                warnings.simplefilter("ignore", RuntimeWarning)
                opt.step(_failing_closure(_quartic(a, b), failure, at))
            np.testing.assert_array_equal(a.data, before[0])
            np.testing.assert_array_equal(b.data, before[1])


# --- defects -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, steps_before", [(optim.Armijo, 1), (lambda p: optim.Newton(p, damping=1.0), 0)],
                         ids=["Armijo", "Newton"])  # (after a Newton step its failed one's last_cost would be equal)
@pytest.mark.parametrize("failure", FAILURES, ids=FAILURE_IDS)
def test_line_search_reports_are_those_of_the_last_step_after_a_failed_one(make, steps_before, failure):
    a, b = Value(np.array([1.0, -2.0])), Value(np.array([0.5]))
    opt = make([a, b])
    for _ in range(steps_before):
        opt.step(_quartic(a, b))
    twin_a, twin_b, twin = copy.deepcopy((a, b, opt))
    with pytest.raises(type(failure)):
        opt.step(_failing_closure(_quartic(a, b), failure, 2))  # the first trial of the line search
    assert _reports(opt) == _reports(twin)
    opt.step(_quartic(a, b))
    twin.step(_quartic(twin_a, twin_b))
    assert _reports(opt) == _reports(twin)
    _assert_same([a, b], _snapshot([twin_a, twin_b]))


@pytest.mark.parametrize("failure", FAILURES, ids=FAILURE_IDS)
def test_random_search_after_a_failed_step_goes_on_as_if_it_never_happened(failure):
    a, b = Value(np.array([1.0, -2.0])), Value(np.array([0.5]))
    opt = optim.RandomSearch([a, b], scale=0.5, rng=0)
    opt.step(_quartic(a, b))
    twin_a, twin_b, twin = copy.deepcopy((a, b, opt))
    with pytest.raises(type(failure)):
        opt.step(_failing_closure(_quartic(a, b), failure, 2))  # the cost after the random change
    _assert_same([a, b], _snapshot([twin_a, twin_b]))
    assert (opt.accepted, opt.proposals, _reports(opt)) == (twin.accepted, twin.proposals, _reports(twin))
    assert opt.rng.bit_generator.state == twin.rng.bit_generator.state
    for _ in range(3):
        opt.step(_quartic(a, b))
        twin.step(_quartic(twin_a, twin_b))
    _assert_same([a, b], _snapshot([twin_a, twin_b]))
