"""Memory kept alive when it should not be: graphs, their arrays and fit's copies of the samples must be freed as
soon as nothing refers to them, by reference counting alone (README: "Graphs hold no reference cycles, so dropping
the output frees them at once"; a script that builds a large graph may pause the collector around it).  Every test
here runs with the cyclic collector off and asks weak references whether a Value (or an array) is gone: a reference
cycle, or a module-level cache, shows as a Value still alive.  A traceback that is still held may keep a graph alive;
an exception that was dropped must not.  Further down: what an optimizer keeps by ``id`` of its parameters, and
what fit's History keeps of an optimizer's step size, over a long session."""

from __future__ import annotations

import contextlib
import functools
import gc
import tracemalloc
import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import Op, Value, autodiff, detect_anomaly, enable_grad, fit, losses, nn, no_grad, optim, viz

_X = np.linspace(-1.0, 1.0, 8).reshape(-1, 1)
_Y = _X**2


@contextlib.contextmanager
def _collector_off() -> Iterator[None]:
    """The cyclic garbage collector paused (after a collection of what came before): only reference counting frees."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _alive(refs: list[weakref.ref]) -> int:
    return sum(ref() is not None for ref in refs)


def _raised(work: Callable[[], Any], kind: type[BaseException], starts: str) -> None:
    """Run ``work``, which must raise ``kind`` with a message starting ``starts``; the error is dropped here (no
    ``pytest.raises``, whose record would keep its traceback, and the frames in it, alive)."""
    try:
        work()
    except kind as error:
        assert str(error).startswith(starts), str(error)
    else:
        pytest.fail(f"no {kind.__name__}")


# --- defects -----------------------------------------------------------------------------------------------------
def _failing_vjp(g: Any, out: Any, x: Any) -> Any:
    raise ValueError("named: this vjp's own words")  # (an error naming its op, as the engine's own do)


_NAMED = Op("named", lambda x: x * 2.0, _failing_vjp)
_RAW = Op("raw", np.cos, lambda g, out, x: -g * np.sin(x))  # numpy on Values: create_graph=True cannot run it


@pytest.mark.parametrize(("op", "create_graph", "starts"), [(_NAMED, False, "named: this vjp's own words"),
                                                            (_NAMED, True, "named: this vjp's own words"),
                                                            (_RAW, True, "raw: its vjp cannot be differentiated")])
def test_a_failed_backward_pass_leaves_its_graph_to_be_freed(op: Op, create_graph: bool, starts: str) -> None:
    with _collector_off():
        x = Value(np.linspace(0.5, 1.5, 1000))
        hidden = x.exp()
        out = op(hidden).sum()
        refs = [weakref.ref(hidden), weakref.ref(hidden.data), weakref.ref(out)]
        del hidden
        _raised(functools.partial(out.backward, create_graph=create_graph), (TypeError, ValueError), starts)
        del out
        assert _alive(refs) == 0


def test_fit_that_diverges_in_its_last_update_leaves_its_copies_to_be_freed() -> None:
    seen: list[weakref.ref] = []
    w = Value(np.ones((1, 1)))

    def model(inputs: Value) -> Value:
        seen.append(weakref.ref(inputs))  # fit's own Value of the samples (a copy of them)
        return inputs @ w

    def diverge() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit(model, _X, 3 * _X, optimizer=optim.GradientDescent([w], 1e308), episodes=1, progress=False)

    with _collector_off():
        try:
            diverge()
        except FloatingPointError as error:
            assert str(error).startswith("fit: after the last update (in episode 1 of 1)")
            assert error.history.stopped == "not finite"  # type: ignore[attr-defined]  # (kept, as documented)
        else:
            pytest.fail("fit did not raise")
        assert seen and _alive(seen) == 0


# --- guards ------------------------------------------------------------------------------------------------------
def _recording(model: nn.Module, outputs: list[weakref.ref]) -> Callable[[Any], Value]:
    """``model``, with a weak reference to every prediction it makes (the head of each graph fit builds)."""

    def predict(inputs: Any) -> Value:
        out = model(inputs)
        outputs.append(weakref.ref(out))
        outputs.append(weakref.ref(inputs))
        return out

    return predict


@pytest.mark.parametrize("make", [lambda m: optim.GradientDescent(m, 0.05), lambda m: optim.SGD(m, 0.05, 0.9),
                                  lambda m: optim.Adam(m, 0.01), optim.Armijo, lambda m: optim.RandomSearch(m, rng=0),
                                  optim.Newton],
                         ids=["gd", "sgd", "adam", "armijo", "random", "newton"])
@pytest.mark.parametrize("batch_size", [None, 3])
def test_after_fit_neither_history_nor_optimizer_nor_model_keeps_a_graph(make: Any, batch_size: int | None) -> None:
    model = nn.MLP([1, 3, 1], rng=0)
    optimizer = make(model)
    outputs: list[weakref.ref] = []
    with _collector_off(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = fit(_recording(model, outputs), _X, _Y, optimizer=optimizer, episodes=3, batch_size=batch_size,
                      seed=0, progress=False)
        assert history.episodes >= 1 and len(outputs) >= 6
        assert _alive(outputs) == 0
        assert all(p.grad is None or type(p.grad) is np.ndarray for p in model.parameters())  # no Value gradients


def test_drawings_kept_in_a_notebook_do_not_keep_the_graph_alive() -> None:
    model = nn.MLP([1, 1, 1], rng=0)
    with _collector_off():
        cost = losses.squared_error(model(_X[:1]), _Y[:1])
        cost.backward()
        refs = [weakref.ref(cost), weakref.ref(cost.data), *(weakref.ref(v) for v in cost.parents)]
        kept = [viz.draw_graph(cost), viz.draw_dependency_tree(cost), viz.backprop_player(cost, layout="tree")]
        del cost
        assert _alive(refs) == 0
        assert len(kept) == 3


@pytest.mark.parametrize("transform", [autodiff.grad, autodiff.value_and_grad, autodiff.hessian, autodiff.jacobian])
def test_a_transform_keeps_nothing_of_a_call_once_it_returned(transform: Any) -> None:
    seen: list[weakref.ref] = []

    def f(x: Value) -> Value:
        seen.append(weakref.ref(x))
        out = (x**3).sum()
        seen.append(weakref.ref(out))
        return out

    with _collector_off():
        transformed = transform(f)
        result = transformed(np.array([1.0, 2.0]))
        first = result[1] if isinstance(result, tuple) else result
        wanted = np.diag([6.0, 12.0]) if transform is autodiff.hessian else [3.0, 12.0]  # 6x, and 3x² of Σx³
        np.testing.assert_allclose(first.data, wanted)
        del result, first
        assert len(seen) == 2 and _alive(seen) == 0


def test_an_anomaly_found_mid_backward_leaves_the_graph_to_be_freed() -> None:
    with _collector_off():
        x = Value(np.array([0.0, 1.0]))
        root = (x * 1.0).sqrt()
        out = root.sum()
        refs = [weakref.ref(root), weakref.ref(out)]
        del root
        with detect_anomaly():
            _raised(out.backward, FloatingPointError, "sqrt: the backward gradient holds NaN or inf")
        del out
        assert _alive(refs) == 0
        assert x.grad is None  # (a pass that raises changes no leaf's gradient)


def test_a_thousand_line_search_steps_hold_no_memory() -> None:
    model = nn.MLP([1, 4, 1], rng=0)
    optimizer = optim.Armijo(model)
    inputs = Value(_X, requires_grad=False)

    def step() -> None:
        optimizer.zero_grad()
        optimizer.step(lambda: losses.squared_error(model(inputs), _Y))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optim.LineSearchWarning)
        for _ in range(20):  # numpy's and Python's caches fill
            step()
        gc.collect()
        tracemalloc.start()
        try:
            for _ in range(200):
                step()
            gc.collect()
            early = tracemalloc.get_traced_memory()[0]
            for _ in range(800):
                step()
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - early
        finally:
            tracemalloc.stop()
    assert optimizer.last_backtracks is not None
    assert grown < 4096  # one leaked float per step would be 25,600 bytes


# --- round 34: optimizers' state by id, fit's History, decorated generators -----------------------------------------
class _HalvingRate(optim.Optimizer):
    """Gradient descent of one's own whose rate is a Value (as a hypergradient method keeps it), halved in place under
    no_grad before every step but the first; ``last_step_size`` is that Value, or (``graph=True``) one computed
    from a Value that needs gradients, as a learnt rate is."""

    def __init__(self, params: Any, rate: float, graph: bool = False) -> None:
        super().__init__(params)
        self.rate = Value(rate, requires_grad=False)
        self.log_rate = Value(np.log(rate))
        self.graph = graph

    def step(self, closure: Any = None, *, cost: Any = None) -> Any:
        cost = self._gradient(closure, cost)
        with no_grad():
            if self.last_step_size is not None:  # (each step after the first halves the rate)
                self.rate *= 0.5
            for p, g in self._finite_gradients(cost):
                p -= self.rate.item() * g
        self.last_step_size = self.log_rate.exp() if self.graph else self.rate
        return cost


def test_fit_records_each_episodes_own_step_size() -> None:
    w = Value(np.ones((1, 1)))
    history = fit(lambda x: x @ w, _X, _Y, optimizer=_HalvingRate([w], 0.1), episodes=4, progress=False)
    assert history.step_size == [0.1, 0.05, 0.025, 0.0125]  # 0.1 · 2⁻ᵏ, the rate each step used
    assert all(type(step) is float for step in history.step_size)


def test_a_history_keeps_no_graph_of_a_step_size_computed_from_values() -> None:
    w = Value(np.ones((1, 1)))
    optimizer = _HalvingRate([w], 0.1, graph=True)
    seen: list[weakref.ref] = []
    real_step = optimizer.step

    def step(closure: Any = None, *, cost: Any = None) -> Any:
        result = real_step(closure, cost=cost)
        seen.append(weakref.ref(optimizer.last_step_size))
        return result

    optimizer.step = step  # type: ignore[method-assign]
    with _collector_off():
        history = fit(lambda x: x @ w, _X, _Y, optimizer=optimizer, episodes=3, progress=False)
        optimizer.last_step_size = None
        assert len(seen) == 3 and _alive(seen) == 0
    np.testing.assert_allclose(history.step_size, [0.1] * 3)  # e^(ln 0.1): log_rate is never changed


def _trained(make: Callable[[nn.Module], optim.Optimizer]) -> tuple[nn.Module, optim.Optimizer]:
    model = nn.MLP([1, 3, 1], rng=0)
    optimizer = make(model)
    for _ in range(3):
        optimizer.zero_grad()
        losses.squared_error(model(_X), _Y).backward()
        optimizer.step()
    return model, optimizer


_WITH_STATE = pytest.mark.parametrize("make", [lambda m: optim.SGD(m, 0.05, momentum=0.9),
                                               lambda m: optim.Adam(m, 0.01)], ids=["sgd", "adam"])


@_WITH_STATE
def test_new_params_drop_the_state_of_the_parameters_left_out(make: Any) -> None:
    model, optimizer = _trained(make)
    old_head = model.layers[-1]
    kept_arrays = [weakref.ref(state[-1]) for p, state in
                   ((p, optimizer._parameter_states()[id(p)]) for p in old_head.parameters())]
    model.layers[-1] = nn.Layer(3, 1, rng=1)  # a new head; the optimizer is told its new parameters
    optimizer.params = model.parameters()
    del old_head
    assert set(optimizer._parameter_states()) <= {id(p) for p in optimizer.params}
    assert _alive(kept_arrays) == 0  # (the old head's momentum or averages: freed with it)


def test_new_params_are_checked_as_the_constructors_are() -> None:
    model, optimizer = _trained(lambda m: optim.Adam(m, 0.01))
    _raised(lambda: setattr(optimizer, "params", [*model.parameters(), None]), TypeError,
            "Adam.params: every parameter must be a Value, got NoneType")


@_WITH_STATE
def test_the_same_params_given_again_keep_their_state(make: Any) -> None:
    """Guard: giving an optimizer its parameters again changes nothing of its steps (the moments go on)."""
    model, optimizer = _trained(make)
    twin, twin_optimizer = _trained(make)
    optimizer.params = model.parameters()
    for m, o in ((model, optimizer), (twin, twin_optimizer)):
        for _ in range(3):
            o.zero_grad()
            losses.squared_error(m(_X), _Y).backward()
            o.step()
    for p, q in zip(model.parameters(), twin.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def _thrown_into(generator: Any) -> None:
    """Start ``generator``, throw a KeyError into it, which it does not catch, and drop the error."""
    next(generator)
    try:
        generator.throw(KeyError("stop"))
    except KeyError:
        pass
    else:
        pytest.fail("the KeyError was swallowed")


@pytest.mark.parametrize("mode", [no_grad, no_grad(), enable_grad(), detect_anomaly()],
                         ids=["no_grad", "no_grad()", "enable_grad()", "detect_anomaly()"])
def test_a_decorated_generator_an_error_was_thrown_into_leaves_its_arguments_to_be_freed(mode: Any) -> None:
    @mode
    def sums(v: Value) -> Iterator[Value]:
        while True:
            yield v.sum()

    with _collector_off():
        hidden = Value(np.ones(1000)).exp()
        ref = weakref.ref(hidden)
        generator = sums(hidden)
        del hidden
        _thrown_into(generator)
        del generator
        assert ref() is None


def _values_tracked() -> int:
    """Values the collector tracks, garbage or not (it is paused: nothing is collected by counting them)."""
    return sum(type(o) is Value for o in gc.get_objects())


def test_a_thousand_second_order_steps_by_hand_leave_no_value_behind_without_the_collector() -> None:
    """Guard: backward(create_graph=True), a step on the slope's own backward and zero_grad, by hand: the leaf's
    recorded gradient, whose graph refers back to the leaf, is let go by zero_grad, so each step frees its graphs."""
    x = Value(np.array([1.0, 2.0]))

    def step() -> None:
        x.zero_grad()
        (x**3).sum().backward(create_graph=True)
        slope = x.grad
        x.zero_grad()
        (slope * slope).sum().backward()  # ∂/∂x Σ(3x²)² = 36x³
        np.testing.assert_allclose(x.grad, 36 * x.data**3)

    with _collector_off():
        step()
        before = _values_tracked()
        for _ in range(1000):
            step()
        assert _values_tracked() - before <= 2  # (x's own gradient Value of the latest pass at most)


def test_check_gradients_in_a_loop_leaves_no_value_behind_without_the_collector() -> None:
    """Guard: a grader's loop of gradient checks, first and second order, frees every graph it builds."""
    from tinygrad_edu.testing import check_gradients

    def check() -> None:
        assert check_gradients(lambda w: (w.tanh() ** 2).sum(), np.array([0.3, -0.5]))
        assert check_gradients(lambda w: (w.tanh() ** 2).sum(), np.array([0.3, -0.5]), order=2)

    with _collector_off():
        check()
        before = _values_tracked()
        for _ in range(50):
            check()
        assert _values_tracked() == before
