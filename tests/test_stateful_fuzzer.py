"""Stateful fuzzing of a training session: sequences of API calls on an nn.MLP 2-3-1 and its optimizer (costs on
random batches, backward with and without create_graph, zero_grad both ways, steps of gradient descent, SGD with
momentum, Adam and Armijo, in-place updates under no_grad, freezing, float()/double(), state_dict save and resume,
fit), each checked against a shadow model: the same network and optimizers written out in float64 numpy.

Invariants after every rule: the parameters equal the shadow's (to rounding), each parameter's grad equals the
gradient accumulated since its last zero_grad, a graph made stale by an in-place change raises on backward, frozen
parameters never move, the dtypes stay as set, and a resumed run continues exactly (bit for bit, checked by a
twin step of the old and the resumed model).
"""

import io
import warnings

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from stateful_shadow import NAMES, Shadow, assert_gradients_accumulated, gradient_array, stray_steps

from tinygrad_edu import Value, fit, nn, no_grad
from tinygrad_edu.losses import squared_error
from tinygrad_edu.optim import SGD, Adam, Armijo, GradientDescent

KINDS = ("gd", "sgd", "adam", "armijo")
SIGMA, ALPHA, INITIAL_STEP, BACKTRACKS = 1e-4, 0.5, 1.0, 30


def _batch(seed: int, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 5)) if n is None else n
    return rng.normal(size=(n, 2)), rng.random((n, 1))


class TrainingSession(RuleBasedStateMachine):
    """A model, its optimizer and the shadow that predicts what each call does."""

    @initialize(kind=st.sampled_from(KINDS), seed=st.integers(0, 2**16), init=st.sampled_from(["uniform", "xavier"]),
                last_layer_only=st.booleans())
    def start(self, kind: str, seed: int, init: str, last_layer_only: bool) -> None:
        self.kind = kind
        self.model = nn.MLP([2, 3, 1], init=init, rng=seed)
        # the optimizer's parameters: all, or (fine-tuning) the last layer's, whose first layer's gradients then add
        # up over fit's episodes and the steps' closures, as zero_grad of the optimizer leaves them
        self.opt_names = NAMES[2:] if last_layer_only else NAMES
        self.optimizer = self._optimizer(self.model)
        self.shadow = Shadow(self.model.state_dict())
        self.grads: dict[str, np.ndarray | None] = dict.fromkeys(NAMES)
        self.frozen: set[int] = set()  # layer numbers 1, 2
        self.frozen_numbers: dict[str, np.ndarray] = {}
        self.dtype = np.float64
        self.velocity: dict[str, np.ndarray] = {}
        self.adam: dict[str, tuple[int, np.ndarray, np.ndarray]] = {}
        # a cost, its batch, the version of the parameters and the layers frozen when it was computed
        self.saved: dict[str, np.ndarray] | None = None
        self.pending: tuple[Value, np.ndarray, np.ndarray, int, int, frozenset[int]] | None = None
        self.version = 0  # counts in-place changes of the parameters: graphs of older versions are stale
        self.opt_version = 0  # the same, of the optimizer's parameters

    def _optimizer(self, model: nn.MLP) -> object:
        """A new optimizer of the session's kind, with the settings it started with."""
        if self.opt_names != NAMES:
            model = model.layers[1]
        if self.kind == "gd":
            return GradientDescent(model, learning_rate=0.3)
        if self.kind == "sgd":
            return SGD(model, learning_rate=0.2, momentum=0.7)
        if self.kind == "adam":
            return Adam(model, learning_rate=0.05)
        return Armijo(model, sigma=SIGMA, alpha=ALPHA, initial_step=INITIAL_STEP, max_backtracks=BACKTRACKS)

    @property
    def rate(self) -> float:
        return self.optimizer.initial_step if self.kind == "armijo" else self.optimizer.learning_rate

    # --- helpers ----------------------------------------------------------------------------------------------
    def _values(self) -> dict[str, Value]:
        return dict(self.model._named_state())

    def _trainable(self, name: str) -> bool:
        return int(name.split(".")[1]) not in self.frozen

    def _changed(self, names: tuple[str, ...] = NAMES) -> None:
        """The parameters ``names`` were changed in place."""
        self.version += 1
        if set(names) & set(self.opt_names):
            self.opt_version += 1

    def _backward(self, x: np.ndarray, y: np.ndarray, frozen: frozenset[int]) -> None:
        """The gradients that backward() of the cost on (x, y), computed while ``frozen`` layers were frozen, adds.

        A leaf's requires_grad is read when backward runs, but the graph reaches it only through an operation that
        was recorded (one of its inputs required a gradient then): x @ W¹ only if layer 1 was not frozen."""
        gradient = self.shadow.gradient(x, y)
        reached = {1, 2} if 1 not in frozen else {2} - frozen
        for name in NAMES:
            if self._trainable(name) and int(name.split(".")[1]) in reached:
                kept = self.grads[name]
                self.grads[name] = gradient[name] if kept is None else kept + gradient[name]

    def _fresh_gradient(self, x: np.ndarray, y: np.ndarray) -> None:
        """What an optimizer's closure, and fit, do: the optimizer's gradients forgotten, then backward()."""
        for name in self.opt_names:
            self.grads[name] = None
        self._backward(x, y, frozenset(self.frozen))

    @property
    def tolerance(self) -> dict[str, float]:
        return {"rtol": 1e-9, "atol": 1e-12} if self.dtype == np.float64 else {"rtol": 2e-4, "atol": 2e-5}

    def _resync(self) -> None:
        """After float32 arithmetic, the shadow goes on from the model's numbers (checked close before), so that
        rounding does not add up over many steps."""
        for name, value in self._values().items():
            self.shadow.p[name] = value.data.astype(np.float64)
            grad = gradient_array(value.grad)
            if grad is not None and self.grads[name] is not None:
                self.grads[name] = grad
        # and from the optimizer's own state (what state_dict saves is rounded to the parameters' dtype; the
        # optimizer rounds its state only at its next step)
        kept = self.optimizer._parameter_states()
        for name, p in zip(self.opt_names, self.optimizer.params, strict=True):
            if id(p) in kept and self.kind == "sgd":
                self.velocity[name] = np.asarray(kept[id(p)][0], dtype=np.float64)
            elif id(p) in kept and self.kind == "adam":
                k, m, v = kept[id(p)]
                self.adam[name] = (k, np.asarray(m, dtype=np.float64), np.asarray(v, dtype=np.float64))

    def _shadow_step(self) -> None:
        """The update of gradient descent, SGD or Adam from the gradients the parameters hold."""
        moved = False
        for name in self.opt_names:
            g = self.grads[name]
            if g is None or not self._trainable(name):
                continue
            moved = True
            if self.kind == "gd":
                self.shadow.p[name] = self.shadow.p[name] - self.rate * g
            elif self.kind == "sgd":
                momentum = self.optimizer.momentum
                if momentum:
                    v = g.copy() if name not in self.velocity else momentum * self.velocity[name] + g
                    self.velocity[name] = v
                else:
                    v = g
                self.shadow.p[name] = self.shadow.p[name] - self.rate * v
            else:
                k, m, v = self.adam.get(name, (0, 0.0, 0.0))
                k, m, v = k + 1, 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
                self.adam[name] = (k, m, v)
                m_hat, v_hat = m / (1 - 0.9 ** k), v / (1 - 0.999 ** k)
                self.shadow.p[name] = self.shadow.p[name] - self.rate * m_hat / (np.sqrt(v_hat) + 1e-8)
        if moved:
            self._changed(self.opt_names)
        if self.kind == "sgd" and not self.optimizer.momentum:
            self.velocity.clear()  # v ← 0·v + ∇C: none kept

    def _shadow_armijo(self, x: np.ndarray, y: np.ndarray, given: float | None = None) -> bool:
        """Armijo's step on the batch (x, y), the gradient computed afresh (or, ``given`` the cost, the gradients
        the parameters hold); returns whether a step was taken."""
        if given is None:
            self._fresh_gradient(x, y)
        stepped = [name for name in self.opt_names if self._trainable(name) and self.grads[name] is not None]
        gradient = {name: self.grads[name] for name in stepped}
        g = np.concatenate([gradient[name].ravel() for name in stepped])
        if not g.any():
            return False
        self._changed(self.opt_names)  # the trials write into the parameters
        f0 = self.shadow.cost(x, y) if given is None else given
        slope = -float(g @ g)
        for backtracks in range(BACKTRACKS + 1):
            t = self.rate * ALPHA ** backtracks
            trial = dict(self.shadow.p)
            for name in stepped:
                trial[name] = self.shadow.p[name] - t * gradient[name]
            if self.shadow.cost(x, y, trial) <= f0 + SIGMA * t * slope:
                self.shadow.p = trial
                return True
        return False

    # --- rules --------------------------------------------------------------------------------------------------
    @rule(seed=st.integers(0, 2**16))
    def compute_cost(self, seed: int) -> None:
        x, y = _batch(seed)
        cost = squared_error(self.model(x), y)
        np.testing.assert_allclose(cost.item(), self.shadow.cost(x, y), **self.tolerance)
        self.pending = (cost, x, y, self.version, self.opt_version, frozenset(self.frozen))

    @precondition(lambda self: self.pending is not None)
    @rule(create_graph=st.booleans())
    def backward(self, create_graph: bool) -> None:
        assert self.pending is not None
        cost, x, y, version, _, frozen = self.pending
        if frozen == {1, 2}:  # the cost was computed from constants only
            with pytest.raises(ValueError, match="does not require a gradient"):
                cost.backward(create_graph=create_graph)
            return
        if version != self.version:  # a parameter changed in place since the cost was computed
            before = {name: value.grad for name, value in self._values().items()}
            with pytest.raises(ValueError, match="backward"):
                cost.backward(create_graph=create_graph)
            assert all(value.grad is before[name] for name, value in self._values().items())
            return
        cost.backward(create_graph=create_graph)
        self._backward(x, y, frozen)

    @rule(on_model=st.booleans(), set_to_none=st.booleans())
    def zero_grad(self, on_model: bool, set_to_none: bool) -> None:
        (self.model if on_model else self.optimizer).zero_grad(set_to_none=set_to_none)
        for name in NAMES if on_model else self.opt_names:  # (the model's: frozen ones too)
            kept = self.grads[name]
            self.grads[name] = None if set_to_none or kept is None else np.zeros_like(kept)

    @precondition(lambda self: self.kind != "armijo")
    @rule()
    def step(self) -> None:
        with stray_steps():
            self.optimizer.step()
        self._shadow_step()

    @precondition(lambda self: self.kind == "armijo")
    @rule(seed=st.integers(0, 2**16))
    def armijo_step(self, seed: int) -> None:
        if not any(self._trainable(name) for name in self.opt_names):
            return
        x, y = _batch(seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.optimizer.step(lambda: squared_error(self.model(x), y))
        stepped = self._shadow_armijo(x, y)
        assert self.optimizer.last_failed == (not stepped)

    @precondition(lambda self: self.pending is not None)
    @rule()
    def step_with_cost(self) -> None:
        """``step(cost=...)`` with the cost computed last (Armijo: and a closure on its batch)."""
        assert self.pending is not None
        cost, x, y, _, opt_version, _ = self.pending
        closure = None if self.kind != "armijo" else (lambda: squared_error(self.model(x), y))
        refused = None
        if self.kind == "armijo" and opt_version != self.opt_version:
            refused = "point that is gone"
        elif all(self.grads[name] is None for name in self.opt_names):
            refused = "no parameter has a gradient"
        elif self.kind == "armijo" and cost.grad is None:
            refused = "not backpropagated"
        if refused:
            with pytest.raises(ValueError, match=refused):
                self.optimizer.step(closure, cost=cost)
            return
        if self.kind != "armijo":
            with stray_steps():
                self.optimizer.step(closure, cost=cost)
            self._shadow_step()
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.optimizer.step(closure, cost=cost)
        if not any(self.grads[name] is not None and self._trainable(name) for name in self.opt_names):
            return
        stepped = self._shadow_armijo(x, y, given=cost.item())
        assert self.optimizer.last_failed == (not stepped)

    @rule()
    def snapshot(self) -> None:
        self.saved = self.model.state_dict()

    @precondition(lambda self: self.saved is not None)
    @rule()
    def rewind(self) -> None:
        """Back to the numbers of the snapshot (and their dtype), in the same model: the optimizer goes on."""
        self.model.load_state_dict(self.saved)
        self._changed()
        self.dtype = self.saved[NAMES[0]].dtype.type
        for name in NAMES:
            self.shadow.p[name] = self.saved[name].astype(np.float64)
            if self.grads[name] is not None and not isinstance(self._values()[name].grad, Value):
                self.grads[name] = self.grads[name].astype(self.dtype).astype(np.float64)
        self.frozen_numbers = {name: self._values()[name].data.copy() for name in self.frozen_numbers}

    @rule(rate=st.sampled_from([0.05, 0.2, 0.5]), momentum=st.sampled_from([0.0, 0.5, 0.9]))
    def change_settings(self, rate: float, momentum: float) -> None:
        """A schedule: new settings between steps (saved by state_dict, so a resumed run has them too)."""
        if self.kind == "armijo":
            self.optimizer.initial_step = rate
        else:
            self.optimizer.learning_rate = rate
        if self.kind == "sgd":
            self.optimizer.momentum = momentum

    @rule(index=st.integers(0, 3), delta=st.floats(-0.5, 0.5))
    def update_in_place(self, index: int, delta: float) -> None:
        name = NAMES[index]
        if not self._trainable(name):
            return
        with no_grad():
            value = self._values()[name]
            value -= delta
        self.shadow.p[name] = self.shadow.p[name] - np.float64(np.array(delta, dtype=self.dtype))
        self._changed((name,))

    @rule(layer=st.sampled_from([1, 2]), freeze=st.booleans())
    def freeze(self, layer: int, freeze: bool) -> None:
        self.model.layers[layer - 1].requires_grad_(not freeze)
        if freeze:
            self.frozen.add(layer)
            for name in NAMES:
                if name.startswith(f"layers.{layer}."):
                    self.frozen_numbers[name] = self._values()[name].data.copy()
        else:
            self.frozen.discard(layer)
            for name in list(self.frozen_numbers):
                if name.startswith(f"layers.{layer}."):
                    del self.frozen_numbers[name]

    @rule(to_float=st.booleans())
    def convert(self, to_float: bool) -> None:
        dtype = np.float32 if to_float else np.float64
        (self.model.float() if to_float else self.model.double())
        if dtype != self.dtype:
            self._changed()
            self.dtype = dtype
            for name in NAMES:
                self.shadow.p[name] = self.shadow.p[name].astype(dtype).astype(np.float64)
                if self.grads[name] is not None and not isinstance(self._values()[name].grad, Value):
                    self.grads[name] = self.grads[name].astype(dtype).astype(np.float64)
            self.frozen_numbers = {name: self._values()[name].data.copy() for name in self.frozen_numbers}

    @rule(seed=st.integers(0, 2**16))
    def resume(self, seed: int) -> None:
        """Save model and optimizer (through .npz files), load them into a fresh pair, then make one step with both
        pairs on the same batch: the resumed one must go on bit for bit as the old one."""
        files = []
        for state in (self.model.state_dict(), self.optimizer.state_dict()):
            buffer = io.BytesIO()
            np.savez(buffer, **state)
            buffer.seek(0)
            files.append(dict(np.load(buffer, allow_pickle=False)))
        model = nn.MLP([2, 3, 1], rng=seed + 1)
        model.load_state_dict(files[0])
        optimizer = self._optimizer(model)
        optimizer.load_state_dict(files[1])
        for layer in self.frozen:
            model.layers[layer - 1].requires_grad_(False)
        for name, value in dict(model._named_state()).items():
            assert value.dtype == self.dtype, name
            old = self._values()[name]
            assert np.array_equal(value.data, old.data), name
        if any(self._trainable(name) for name in self.opt_names):
            x, y = _batch(seed)
            for pair in ((self.model, self.optimizer), (model, optimizer)):
                net, opt = pair
                opt.zero_grad()
                if self.kind == "armijo":
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        opt.step(lambda net=net: squared_error(net(x), y))
                else:
                    squared_error(net(x), y).backward()
                    opt.step()
            for (name, old), (_, new) in zip(self.model._named_state(), model._named_state(), strict=True):
                assert np.array_equal(old.data, new.data), f"{name}: the resumed run went another way"
            self.grads = dict.fromkeys(NAMES)  # the fresh model's parameters held none
            if self.kind == "armijo":
                self._shadow_armijo(x, y)
            else:
                self._fresh_gradient(x, y)
                self._shadow_step()
        else:
            self.grads = dict.fromkeys(NAMES)  # the fresh model's parameters hold no gradient yet
        self.model, self.optimizer, self.pending = model, optimizer, None

    @precondition(lambda self: any(self._trainable(name) for name in self.opt_names))
    @rule(seed=st.integers(0, 2**16), episodes=st.integers(1, 2), batch_size=st.sampled_from([None, 2]))
    def train(self, seed: int, episodes: int, batch_size: int | None) -> None:
        x, y = _batch(seed, n=4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            history = fit(self.model, x, y, optimizer=self.optimizer, episodes=episodes, batch_size=batch_size,
                          shuffle=False, progress=False)
        parts = [(x, y)] if batch_size is None else [(x[:2], y[:2]), (x[2:], y[2:])]
        ran = 0
        for _ in range(episodes):
            ran += 1
            for bx, by in parts:
                if self.kind == "armijo":
                    stepped = self._shadow_armijo(bx, by)
                else:
                    self._fresh_gradient(bx, by)
                    self._shadow_step()
                    stepped = True
            if self.kind == "armijo" and batch_size is None and not stepped:
                break
        assert len(history.cost) == ran
        np.testing.assert_allclose(history.final_cost, self.shadow.cost(x, y), **self.tolerance)

    # --- invariants ---------------------------------------------------------------------------------------------
    @invariant()
    def parameters_match_the_shadow(self) -> None:
        for name, value in self._values().items():
            np.testing.assert_allclose(value.data, self.shadow.p[name], **self.tolerance, err_msg=name)

    @invariant()
    def gradients_are_those_accumulated(self) -> None:
        assert_gradients_accumulated(self._values(), self.grads, **self.tolerance)

    @invariant()
    def frozen_parameters_never_move(self) -> None:
        for name, numbers in self.frozen_numbers.items():
            assert np.array_equal(self._values()[name].data, numbers), f"{name} moved while frozen"

    @invariant()
    def dtypes_stay_as_set(self) -> None:
        for name, value in self._values().items():
            assert value.dtype == self.dtype, name
            grad = value.grad
            if grad is not None and not isinstance(grad, Value):
                assert grad.dtype == self.dtype, f"{name}.grad is {grad.dtype}, the parameter {self.dtype}"

    @invariant()
    def resync(self) -> None:  # (last: the checks above have passed)
        if self.dtype != np.float64:
            self._resync()


TrainingSession.TestCase.settings = settings(settings.default, stateful_step_count=25)
test_training_session = TrainingSession.TestCase


# --- defects the sequences led to: a frozen optimizer's parameters ----------------------------------------------------
def _fine_tuned(frozen_layer: int) -> tuple[nn.MLP, GradientDescent, np.ndarray, np.ndarray]:
    """An MLP 2-3-1 whose optimizer trains only layer ``frozen_layer``, which is then frozen; the other layer
    still trains (so the cost requires a gradient)."""
    model = nn.MLP([2, 3, 1], rng=0)
    optimizer = GradientDescent(model.layers[frozen_layer - 1], learning_rate=0.1)
    model.layers[frozen_layer - 1].requires_grad_(False)
    x, y = _batch(0, n=4)
    return model, optimizer, x, y


@pytest.mark.parametrize("frozen_layer", [1, 2])
def test_fit_with_the_optimizers_parameters_frozen_says_so(frozen_layer: int) -> None:
    model, optimizer, x, y = _fine_tuned(frozen_layer)
    before = model.state_dict()
    with pytest.raises(ValueError) as error:
        fit(model, x, y, optimizer=optimizer, episodes=1, progress=False)
    message = str(error.value)
    assert "frozen (requires_grad=False)" in message, message
    assert "belong" not in message and "no longer has" not in message, message
    assert all(np.array_equal(before[name], array) for name, array in model.state_dict().items())


@pytest.mark.parametrize("kind", [GradientDescent, SGD, Adam, Armijo])
def test_step_with_the_optimizers_parameters_frozen_says_so(kind: type) -> None:
    model = nn.MLP([2, 3, 1], rng=0)
    optimizer = kind(model.layers[1], **({} if kind in (Adam, Armijo) else {"learning_rate": 0.1}))
    model.layers[1].requires_grad_(False)
    x, y = _batch(0, n=4)
    with pytest.raises(ValueError, match=r"frozen \(requires_grad=False\)") as error:
        optimizer.step(lambda: squared_error(model(x), y))
    assert "deepcopy" not in str(error.value)


def test_backward_with_every_parameter_frozen_names_freezing() -> None:
    model = nn.MLP([2, 3, 1], rng=0).requires_grad_(False)
    x, y = _batch(0, n=4)
    with pytest.raises(ValueError, match="requires_grad=False"):
        squared_error(model(x), y).backward()


# --- guards: what the sequences rely on ----------------------------------------------------------------------------
def test_a_parameter_unfrozen_after_the_cost_gets_a_gradient_only_through_a_recorded_operation() -> None:
    """Backward reads requires_grad when it runs: layer 2, frozen while the cost was computed (but reached through
    layer 1's output, which required a gradient), gets its gradient; layer 1, frozen then, gets none (x @ W¹ was not
    recorded), as the shadow's rule says.  Gradients checked by central differences of the cost."""
    model = nn.MLP([2, 3, 1], rng=3)
    x, y = _batch(5, n=3)
    shadow = Shadow(model.state_dict())
    for frozen, unfrozen_after in ((2, "layers.2.weights"), (1, "layers.1.weights")):
        model.layers[frozen - 1].requires_grad_(False)
        cost = squared_error(model(x), y)
        model.layers[frozen - 1].requires_grad_(True)
        model.zero_grad()
        cost.backward()
        value = dict(model._named_state())[unfrozen_after]
        if frozen == 1:
            assert value.grad is None
            continue
        expected = np.zeros(value.shape)
        for index in np.ndindex(value.shape):
            for sign in (1, -1):
                moved = {name: array.copy() for name, array in shadow.p.items()}
                moved[unfrozen_after][index] += sign * 1e-6
                expected[index] += sign * shadow.cost(x, y, moved) / 2e-6
        np.testing.assert_allclose(value.grad, expected, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_a_run_resumed_after_float_goes_on_bit_for_bit(kind: str) -> None:
    """Steps in float64, model.float(), then state_dict through .npz files into a fresh model and optimizer: the
    next steps of both runs agree bit for bit (the kept state is rounded to float32 by both)."""
    x, y = _batch(11, n=4)
    model = nn.MLP([2, 3, 1], rng=1)
    optimizer = SGD(model, 0.2, momentum=0.9) if kind == "sgd" else Adam(model, 0.05)
    fit(model, x, y, optimizer=optimizer, episodes=3, progress=False)
    model.float()
    files = []
    for state in (model.state_dict(), optimizer.state_dict()):
        buffer = io.BytesIO()
        np.savez(buffer, **state)
        buffer.seek(0)
        files.append(np.load(buffer, allow_pickle=False))
    resumed = nn.MLP([2, 3, 1], rng=2)
    resumed.load_state_dict(files[0])
    resumed_optimizer = SGD(resumed, 0.5) if kind == "sgd" else Adam(resumed)
    resumed_optimizer.load_state_dict(files[1])
    runs = []
    for net, opt in ((model, optimizer), (resumed, resumed_optimizer)):
        fit(net, x, y, optimizer=opt, episodes=3, progress=False)
        runs.append(net.state_dict())
    assert runs[0].keys() == runs[1].keys()
    for name in runs[0]:
        assert runs[1][name].dtype == np.float32
        assert np.array_equal(runs[0][name], runs[1][name]), name
