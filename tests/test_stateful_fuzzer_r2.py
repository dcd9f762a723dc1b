"""Stateful fuzzing, second machine: what tests/test_stateful_fuzzer.py does not call.  Sequences of detach() and
in-place changes of the detached Value, ``p.data = numbers`` of the same and of a new shape, ``requires_grad``
toggled per parameter, saving and loading the model (and a failed load of a damaged copy of its file),
copy.deepcopy and pickle of model, optimizer and detached Values mid-run (the run goes on with the copy), random
search and Newton steps, grad/hessian transforms and drawings between steps, on an nn.MLP (1-1-1, a chain the
dependency tree draws, or 2-3-1) checked against the float64 numpy shadow test_stateful_fuzzer.py uses too
(tests/stateful_shadow.py).

Invariants: the parameters equal the shadow's, each ``.grad`` is what the shadow accumulated, a cost whose graph
reaches a Value changed in place since raises the stale-graph ValueError on backward (and changes no gradient), a
detached Value shares its parameter's numbers until one of them is given new ones, and nothing a read-only call
(a transform, a drawing, a refused load) makes changes any of that.
"""

import copy
import os
import pickle
import shutil
import tempfile
import warnings

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from stateful_shadow import NAMES, Shadow, assert_gradients_accumulated, stray_steps

from tinygrad_edu import Value, autodiff, nn, no_grad, viz
from tinygrad_edu.losses import squared_error
from tinygrad_edu.optim import SGD, GradientDescent, Newton, RandomSearch
from tinygrad_edu.player import pass_gradients

KINDS = ("gd", "sgd", "random", "newton")
DAMPING, SCALE = 1e-3, 0.1


def _batch(seed: int, inputs: int, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 4)) if n is None else n
    return rng.normal(size=(n, inputs)), rng.random((n, 1))


def _hessian(shadow: Shadow, x: np.ndarray, y: np.ndarray, names: list[str]) -> np.ndarray:
    """∇²C over the parameters ``names`` (flattened in that order), by central differences of the shadow's gradient
    (which is written out by hand)."""
    sizes = [shadow.p[name].size for name in names]
    columns = []
    for name, size in zip(names, sizes, strict=True):
        for k in range(size):
            pair = []
            for sign in (1, -1):
                moved = Shadow(shadow.p)
                moved.p[name].flat[k] += sign * 1e-6
                gradient = moved.gradient(x, y)
                pair.append(np.concatenate([gradient[n].ravel() for n in names]))
            columns.append((pair[0] - pair[1]) / 2e-6)
    return np.array(columns).T


class Session(RuleBasedStateMachine):
    """A model, its optimizer, Values detached from its parameters, costs computed along the way, and the shadow.

    The sequences reach the two defects they found (a copy goes on with the detached Values copied with it; an
    activation changed through its detached Value makes stale both the costs computed before the change and after
    it); the shrunk sequences below pin them."""

    @initialize(kind=st.sampled_from(KINDS), seed=st.integers(0, 2**16), chain=st.booleans())
    def start(self, kind: str, seed: int, chain: bool) -> None:
        self.kind, self.sizes = kind, [1, 1, 1] if chain else [2, 3, 1]
        self.model = nn.MLP(self.sizes, rng=seed)
        self.optimizer = self._optimizer(seed)
        self.shadow = Shadow(self.model.state_dict())
        self.grads: dict[str, np.ndarray | None] = dict.fromkeys(NAMES)
        self.trainable = dict.fromkeys(NAMES, True)  # each parameter's requires_grad, as set
        self.versions = dict.fromkeys(NAMES, 0)  # in-place changes of each parameter
        self.velocity: dict[str, np.ndarray] = {}
        # costs: (cost, x, y, the versions of the parameters its graph reaches, whether it requires a gradient, the
        # shadow at that time: a parameter outside the graph, frozen then, may change without making it stale)
        self.pending: list[tuple[Value, np.ndarray, np.ndarray, dict[str, int], bool, Shadow]] = []
        self.detached: list[tuple[str, Value, bool]] = []  # (parameter, the Value detached from it, still sharing)
        self.folder = tempfile.mkdtemp(prefix="stateful_fuzzer_r2-")
        self.saved: dict[str, np.ndarray] | None = None

    def teardown(self) -> None:
        if hasattr(self, "folder"):
            shutil.rmtree(self.folder, ignore_errors=True)

    def _optimizer(self, seed: int) -> object:
        if self.kind == "gd":
            return GradientDescent(self.model, learning_rate=0.3)
        if self.kind == "sgd":
            return SGD(self.model, learning_rate=0.2, momentum=0.7)
        if self.kind == "random":
            return RandomSearch(self.model, scale=SCALE, rng=seed + 1)
        return Newton(self.model, damping=DAMPING)

    # --- helpers ----------------------------------------------------------------------------------------------
    def _values(self) -> dict[str, Value]:
        return dict(self.model._named_state())

    def _changed(self, names: list[str] | tuple[str, ...]) -> None:
        for name in names:
            self.versions[name] += 1

    def _reached(self) -> list[str]:
        """The parameters a cost computed now reaches: an operation is recorded where one of its inputs requires a
        gradient, so W¹ only if it does, b¹ if W¹ or b¹ does, and so on down the chain x@W¹ + b¹ → @W² + b²."""
        reached, recorded = [], False
        for name in NAMES:
            recorded = recorded or self.trainable[name]
            if recorded:
                reached.append(name)
        return reached

    def _snapshot(self) -> tuple[dict[str, np.ndarray], dict[str, object]]:
        values = self._values()
        return ({name: v.data.copy() for name, v in values.items()}, {name: v.grad for name, v in values.items()})

    def _unchanged(self, before: tuple[dict[str, np.ndarray], dict[str, object]], what: str) -> None:
        numbers, grads = before
        for name, value in self._values().items():
            assert np.array_equal(value.data, numbers[name]), f"{what} changed {name}"
            assert value.grad is grads[name], f"{what} changed {name}.grad"

    @property
    def _stepping(self) -> list[str]:
        return [name for name in NAMES if self.trainable[name]]

    def _cost(self, x: np.ndarray, y: np.ndarray) -> Value:
        return squared_error(self.model(x), y)

    # --- rules: costs and gradients -------------------------------------------------------------------------------
    @rule(seed=st.integers(0, 2**16))
    def compute_cost(self, seed: int) -> None:
        x, y = _batch(seed, self.sizes[0])
        cost = self._cost(x, y)
        np.testing.assert_allclose(cost.item(), self.shadow.cost(x, y), rtol=1e-9, atol=1e-12)
        reached = self._reached()
        assert cost.requires_grad == bool(reached)
        self.pending = [*self.pending[-2:], (cost, x, y, {name: self.versions[name] for name in reached},
                                             bool(reached), Shadow(self.shadow.p))]

    @precondition(lambda self: self.pending)
    @rule(which=st.integers(0, 2))
    def backward(self, which: int) -> None:
        cost, x, y, versions, requires, then = self.pending[which % len(self.pending)]
        before = self._snapshot()
        if not requires:
            with pytest.raises(ValueError, match="does not require a gradient"):
                cost.backward()
            self._unchanged(before, "a refused backward")
            return
        if any(self.versions[name] != version for name, version in versions.items()):
            with pytest.raises(ValueError, match="backward: the graph is stale"):
                cost.backward()
            self._unchanged(before, "a stale graph's backward")
            return
        cost.backward()
        gradient = then.gradient(x, y)
        for name in versions:  # (read when backward runs: a parameter frozen since gets none)
            if self.trainable[name]:
                kept = self.grads[name]
                self.grads[name] = gradient[name] if kept is None else kept + gradient[name]

    @rule(on_model=st.booleans(), set_to_none=st.booleans())
    def zero_grad(self, on_model: bool, set_to_none: bool) -> None:
        (self.model if on_model else self.optimizer).zero_grad(set_to_none=set_to_none)
        for name in NAMES:
            kept = self.grads[name]
            self.grads[name] = None if set_to_none or kept is None else np.zeros_like(kept)

    @rule(index=st.integers(0, 3), flag=st.booleans())
    def toggle_requires_grad(self, index: int, flag: bool) -> None:
        name = NAMES[index]
        self._values()[name].requires_grad = flag
        self.trainable[name] = flag

    # --- rules: steps ---------------------------------------------------------------------------------------------
    @precondition(lambda self: self.kind in ("gd", "sgd"))
    @rule()
    def step(self) -> None:
        with stray_steps():
            self.optimizer.step()
        moved = [name for name in self._stepping if self.grads[name] is not None]
        for name in moved:
            g = self.grads[name]
            assert g is not None
            if self.kind == "sgd":
                g = self.velocity[name] = g.copy() if name not in self.velocity else 0.7 * self.velocity[name] + g
            self.shadow.p[name] = self.shadow.p[name] - self.optimizer.learning_rate * g
        self._changed(moved)

    @precondition(lambda self: self.kind == "random")
    @rule(seed=st.integers(0, 2**16))
    def random_step(self, seed: int) -> None:
        x, y = _batch(seed, self.sizes[0])
        if not self._stepping:
            before = self._snapshot()
            with pytest.raises(ValueError, match="every parameter is frozen"):
                self.optimizer.step(lambda: self._cost(x, y))
            self._unchanged(before, "a refused random step")
            return
        draws = np.random.Generator(np.random.PCG64())
        draws.bit_generator.state = self.optimizer.rng.bit_generator.state
        trial = {name: array.copy() for name, array in self.shadow.p.items()}
        for name in self._stepping:
            trial[name] = trial[name] + draws.uniform(-SCALE, SCALE, trial[name].shape)
        kept = self.shadow.cost(x, y, trial) < self.shadow.cost(x, y)
        self.optimizer.step(lambda: self._cost(x, y))
        assert self.optimizer.last_accepted == kept
        if kept:
            self.shadow.p = trial
        self._changed(self._stepping)  # (a rejected change put back counts too: the numbers were written)

    @precondition(lambda self: self.kind == "newton")
    @rule(seed=st.integers(0, 2**16))
    def newton_step(self, seed: int) -> None:
        """The direction d of the step taken solves (H + λI) d = −g, H the shadow's Hessian by central differences
        and λ the damping the step reports; the cost does not increase; each stepping parameter's grad is its part
        of g (as after backward()), the frozen ones' are left as they were."""
        names = self._stepping
        if not names:
            return
        x, y = _batch(seed, self.sizes[0], n=3)
        start = {name: self.shadow.p[name].copy() for name in names}
        gradient = self.shadow.gradient(x, y)
        g = np.concatenate([gradient[name].ravel() for name in names])
        hessian = _hessian(self.shadow, x, y, names)
        f0 = self.shadow.cost(x, y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.optimizer.step(lambda: self._cost(x, y))
        values = self._values()
        for name in NAMES:
            self.shadow.p[name] = values[name].data.astype(np.float64)
        for name in names:
            self.grads[name] = gradient[name]
        self._changed(names)
        assert self.shadow.cost(x, y) <= f0 + 1e-12
        t = self.optimizer.last_step_size
        if not t:
            return
        d = np.concatenate([(self.shadow.p[name] - start[name]).ravel() for name in names]) / t
        if self.optimizer.last_fallback:
            np.testing.assert_allclose(d, -g, rtol=1e-6, atol=1e-12)
            return
        lhs = (hessian + self.optimizer.last_damping * np.eye(len(g))) @ d
        np.testing.assert_allclose(lhs, -g, atol=1e-5 * (np.abs(hessian).max() * np.abs(d).max() + np.abs(g).max()))

    # --- rules: detach, .data, files, copies ----------------------------------------------------------------------
    @rule(index=st.integers(0, 3))
    def detach(self, index: int) -> None:
        name = NAMES[index]
        value = self._values()[name]
        detached = value.detach()
        assert detached.op is None and not detached.requires_grad and detached.grad is None
        assert np.shares_memory(detached.data, value.data)
        self.detached = [*self.detached[-2:], (name, detached, True)]

    @precondition(lambda self: self.detached)
    @rule(which=st.integers(0, 2), delta=st.floats(-0.5, 0.5), how=st.sampled_from(["-=", "[...] =", ".data *="]))
    def change_detached(self, which: int, delta: float, how: str) -> None:
        """In place, under no_grad: the parameter it shares its numbers with changes too, and so the graphs recorded
        from it are stale; a detached Value given new numbers since shares nothing, and changes nothing else."""
        name, detached, sharing = self.detached[which % len(self.detached)]
        target = detached.data - delta if how != ".data *=" else detached.data * (1 + delta)
        with no_grad():
            if how == "-=":
                detached -= delta
            elif how == "[...] =":
                detached[...] = target
            else:
                detached.data *= 1 + delta  # (micrograd's way: in place, then assigned)
        np.testing.assert_array_equal(detached.data, target)
        if sharing:
            self.shadow.p[name] = target.copy()
            self._changed([name])

    @rule(index=st.integers(0, 3), seed=st.integers(0, 2**16), new_shape=st.booleans())
    def assign_data(self, index: int, seed: int, new_shape: bool) -> None:
        """``p.data = numbers``: new numbers (a graph from the old ones is stale, the detached Values share them no
        more); of a new shape, no ``.grad`` (and an optimizer keeping state of the old shape refuses to step), then
        numbers of the old shape again."""
        name = NAMES[index]
        value = self._values()[name]
        rng = np.random.default_rng(seed)
        if new_shape:
            value.data = rng.normal(size=(*value.shape, 2))
            assert value.grad is None
            self.grads[name] = None
            if self.kind == "sgd" and name in self.velocity and self.trainable[name]:
                value.grad = np.ones(value.shape)  # (a gradient of the new shape: SGD's velocity is of the old)
                before = self._snapshot()
                with pytest.raises(ValueError, match=r"has shape \(.*but the state kept for it"):
                    self.optimizer.step()
                self._unchanged(before, "a refused step")
                value.grad = None
            value.data = rng.normal(size=value.shape[:-1])
        else:
            value.data = rng.normal(size=value.shape)
            if self.grads[name] is not None:
                assert value.grad is not None
        self.shadow.p[name] = value.data.copy()
        self._changed([name])
        self.detached = [(n, d, sharing and n != name) for n, d, sharing in self.detached]

    @rule()
    def save(self) -> None:
        self.model.save(os.path.join(self.folder, "model.npz"))
        self.saved = self.model.state_dict()

    @precondition(lambda self: self.saved is not None)
    @rule()
    def load(self) -> None:
        self.model.load(os.path.join(self.folder, "model.npz"))
        self._loaded()

    def _loaded(self) -> None:
        assert self.saved is not None
        for name, value in self._values().items():
            assert np.array_equal(value.data, self.saved[name]), name
            assert value.requires_grad == self.trainable[name], f"load changed {name}'s flag"
            self.shadow.p[name] = self.saved[name].astype(np.float64)
        self._changed(NAMES)

    @precondition(lambda self: self.saved is not None)
    @rule(where=st.floats(0, 1, exclude_max=True), flip=st.booleans())
    def load_damaged(self, where: float, flip: bool) -> None:
        """A copy of the file cut short, or with a byte flipped: refused, changing nothing; or (a flip in a part of
        the zip no check covers) loaded exactly as saved."""
        with open(os.path.join(self.folder, "model.npz"), "rb") as file:
            data = bytearray(file.read())
        position = int(where * len(data))
        if flip:
            data[position] ^= 0xFF
        else:
            data = data[:position]
        damaged = os.path.join(self.folder, "damaged.npz")
        with open(damaged, "wb") as file:
            file.write(data)
        before = self._snapshot()
        try:
            self.model.load(damaged)
        except ValueError:
            self._unchanged(before, "a refused load")
            return
        assert flip, "a file cut short loaded"
        self._loaded()

    @rule(how=st.sampled_from(["deepcopy", "pickle"]))
    def copy_session(self, how: str) -> None:
        """Model, optimizer and detached Values copied together (deepcopy: the costs too), and the run goes on with
        the copies: the old ones are left behind."""
        detached = [d for _, d, _ in self.detached]
        if how == "deepcopy":
            costs = [entry[0] for entry in self.pending]
            model, optimizer, detached, costs = copy.deepcopy((self.model, self.optimizer, detached, costs))
            self.pending = [(cost, *entry[1:]) for cost, entry in zip(costs, self.pending, strict=True)]
        else:
            model, optimizer, detached = pickle.loads(pickle.dumps((self.model, self.optimizer, detached)))
            self.pending = []
        assert all(p is q for p, q in zip(optimizer.params, (v for _, v in model._named_state()), strict=True))
        self.model, self.optimizer = model, optimizer
        self.detached = [(name, d, sharing) for (name, _, sharing), d in zip(self.detached, detached, strict=True)]

    # --- rules: read-only calls -----------------------------------------------------------------------------------
    @rule(seed=st.integers(0, 2**16))
    def transforms(self, seed: int) -> None:
        """grad and hessian of the cost as a function of W² (the rest of the network read from the model) between
        steps: right (against the shadow's gradient and its central differences), and no parameter's numbers, grad
        or freshness changed."""
        x, y = _batch(seed, self.sizes[0])
        first, second = self.model.layers

        def cost(w: Value) -> Value:
            return squared_error((first(x) @ w + second.biases).sigmoid(), y)

        before = self._snapshot()
        point = self.shadow.p[NAMES[2]]
        slope = autodiff.grad(cost)(point.copy())
        curvature = autodiff.hessian(cost)(point.copy())
        self._unchanged(before, "grad/hessian")
        np.testing.assert_allclose(slope.data, self.shadow.gradient(x, y)[NAMES[2]], rtol=1e-7, atol=1e-12)
        expected = _hessian(self.shadow, x, y, [NAMES[2]]).reshape(*point.shape, *point.shape)
        np.testing.assert_allclose(curvature.data, expected, rtol=1e-4, atol=1e-7)

    @precondition(lambda self: self.pending)
    @rule(which=st.integers(0, 2))
    def draw(self, which: int) -> None:
        """draw_graph of a cost (stale or not), and on the chain the dependency tree and the player of a one-sample
        cost (its gradients those of its pass alone, ∂C/∂θ as the shadow has them): they change nothing; a stale
        tree is refused by name."""
        cost, x, y, versions, requires, then = self.pending[which % len(self.pending)]
        before = self._snapshot()
        viz.draw_graph(cost, model=self.model)
        self._unchanged(before, "draw_graph")
        if self.sizes != [1, 1, 1] or len(x) != 1 or not requires:
            return
        if any(self.versions[name] != version for name, version in versions.items()):
            with pytest.raises(ValueError, match="the graph is stale"):
                viz.dependency_tree(cost, gradients=pass_gradients(cost))
            self._unchanged(before, "a refused dependency tree")
            return
        tree = viz.dependency_tree(cost, gradients=pass_gradients(cost))
        if cost.grad is not None:  # (else the player calls backward(), as it says)
            viz.backprop_player(cost)
        self._unchanged(before, "the dependency tree and the player")
        gradient, values = then.gradient(x, y), self._values()
        drawn = {id(node.value): node.grad for node in tree.nodes.values()}
        for name in (name for name in versions if self.trainable[name]):  # (a frozen one's is None)
            np.testing.assert_allclose(drawn[id(values[name])], gradient[name].item(), rtol=1e-9, err_msg=name)

    @precondition(lambda self: self.trainable[NAMES[0]] or self.trainable[NAMES[1]])  # (α¹ computed, not constant)
    @rule(seed=st.integers(0, 2**16), delta=st.floats(0.01, 0.5))
    def change_activation_through_detach(self, seed: int, delta: float) -> None:
        """α¹ changed through its detached Value (h = layer(x); d = h.detach(); d += δ under no_grad): a cost from
        α¹ computed before, and one computed after (which uses the changed numbers), both raise on backward, as in
        PyTorch, and change no gradient; the parameters are left as they were."""
        x, y = _batch(seed, self.sizes[0])
        first, second = self.model.layers
        activation = first(x)
        old = squared_error(second(activation), y)
        with no_grad():
            detached = activation.detach()
            detached += delta
        new = squared_error(second(activation), y)
        before = self._snapshot()
        for cost in (old, new):
            with pytest.raises(ValueError, match="the graph is stale"):
                cost.backward()
        self._unchanged(before, "a stale graph's backward")

    # --- invariants -------------------------------------------------------------------------------------------------
    @invariant()
    def parameters_match_the_shadow(self) -> None:
        for name, value in self._values().items():
            np.testing.assert_allclose(value.data, self.shadow.p[name], rtol=1e-9, atol=1e-12, err_msg=name)
            assert value.requires_grad == self.trainable[name], name

    @invariant()
    def gradients_are_those_accumulated(self) -> None:
        assert_gradients_accumulated(self._values(), self.grads, rtol=1e-9, atol=1e-12)

    @invariant()
    def detached_values_share_until_given_new_numbers(self) -> None:
        values = self._values()
        for name, detached, sharing in self.detached:
            assert np.shares_memory(detached.data, values[name].data) == sharing, name


Session.TestCase.settings = settings(settings.default, stateful_step_count=30)
test_session = Session.TestCase


# --- defects the sequences led to ---------------------------------------------------------------------------------
def test_a_computed_value_changed_through_its_detached_value_is_stale() -> None:
    x = Value(np.array([0.5, -1.0]), label="x")
    h = x.exp()
    with no_grad():
        detached = h.detach()
        detached += 1.0
    cost = h.sum()  # computed after the change, from the changed numbers
    with pytest.raises(ValueError, match=r"the graph is stale: a Value of shape \(2,\), computed by exp, was changed "
                                         r"in place through a Value made by its \.detach\(\)") as error:
        cost.backward()
    assert error.value.changed is h
    assert x.grad is None
    # what it says to write works: a new Value, and the graph through h stays whole (d/dx Σ eˣ = eˣ)
    x, detached = Value(np.array([0.5, -1.0])), None
    h = x.exp()
    detached = h.detach() * 0
    h.sum().backward()
    np.testing.assert_allclose(x.grad, np.exp([0.5, -1.0]), rtol=1e-15)
    assert not detached.data.any()


def test_the_shrunk_sequence_an_activation_changed_through_detach() -> None:
    """Session: start(kind='gd', chain=True), change_activation_through_detach(seed=0, delta=0.01)."""
    model = nn.MLP([1, 1, 1], rng=0)
    x, y = _batch(0, 1)
    first, second = model.layers
    activation = first(x)
    with no_grad():
        detached = activation.detach()
        detached += 0.01
    cost = squared_error(second(activation), y)
    with pytest.raises(ValueError, match="the graph is stale"):
        cost.backward()
    assert all(p.grad is None for p in model.parameters())


def test_the_shrunk_sequence_a_chain_saturated_by_a_newton_step_drawn_with_its_tiny_gradient() -> None:
    """Session: start(kind='newton', seed=1, chain=True), newton_step(seed=791), compute_cost(seed=11), draw(0).
    The step saturates the chain (z¹ ≈ 108.9, z² ≈ −255.9): the tree's ∂C/∂W¹ is 9.26e-157, as the closed form
    gives in mpmath; the shadow wrote σ′ as σ(1 − σ), which is 0 where σ rounds to 1, and the draw rule failed."""
    mpmath = pytest.importorskip("mpmath")
    state = Session()
    try:
        state.start(kind="newton", seed=1, chain=True)
        state.newton_step(seed=791)
        state.compute_cost(seed=11)
        state.draw(which=0)
        _, x, y, _, _, then = state.pending[0]
    finally:
        state.teardown()
    with mpmath.workdps(50):
        w1, b1, w2, b2 = (mpmath.mpf(float(then.p[name].item())) for name in NAMES)
        sigma = lambda z: 1 / (1 + mpmath.exp(-z))  # noqa: E731
        z1 = float(x.item()) * w1 + b1
        z2 = sigma(z1) * w2 + b2
        slope = 2 * (sigma(z2) - float(y.item())) * sigma(z2) * sigma(-z2) * w2 * sigma(z1) * sigma(-z1) * x.item()
    assert 1e-160 < float(slope) < 1e-150
    np.testing.assert_allclose(then.gradient(x, y)[NAMES[0]].item(), float(slope), rtol=1e-9)


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_detached_value_copied_with_its_parameter_stays_linked(how: str) -> None:
    """Session: detach(0), copy_session(how), compute_cost, change_detached(-=), backward."""
    model = nn.MLP([1, 1, 1], rng=0)
    weight = model.layers[0].weights
    detached = weight.detach()
    if how == "deepcopy":
        model, detached = copy.deepcopy((model, detached))
    else:
        model, detached = pickle.loads(pickle.dumps((model, detached)))
    weight = model.layers[0].weights
    assert np.shares_memory(weight.data, detached.data)
    x, y = _batch(0, 1)
    cost = squared_error(model(x), y)
    with no_grad():
        detached -= 0.25
    assert np.array_equal(weight.data, detached.data)  # (the copy's weight changed with it)
    with pytest.raises(ValueError, match="the graph is stale"):
        cost.backward()
    assert weight.grad is None


# --- guards: what the sequences rely on ---------------------------------------------------------------------------
def test_a_detached_value_pickled_alone_still_loads_alone() -> None:
    """The link a pickle carries is only to leaves pickled with it: a detached Value pickled alone comes back alone,
    its numbers its own, and changing them changes nothing else."""
    weight = Value(np.array([1.0, 2.0]), label="w")
    detached = weight.detach()
    copied = pickle.loads(pickle.dumps(detached))
    assert copied.op is None and not copied.requires_grad and copied.grad is None
    np.testing.assert_array_equal(copied.data, [1.0, 2.0])
    cost = (weight * weight).sum()
    with no_grad():
        copied *= 0
    cost.backward()  # the original's graph is untouched
    np.testing.assert_array_equal(weight.grad, [2.0, 4.0])
    np.testing.assert_array_equal(weight.data, [1.0, 2.0])


def test_a_leaf_with_a_recorded_gradient_does_not_stop_its_detached_value_pickling() -> None:
    """A parameter whose .grad is a Value (backward(create_graph=True)) cannot be pickled; a Value detached from it
    still can (it carries no link to such a leaf)."""
    weight = Value(np.array([1.0, 2.0]))
    (weight ** 3).sum().backward(create_graph=True)
    detached = weight.detach()
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(detached)).data, [1.0, 2.0])


def test_a_tree_given_the_gradients_changes_no_grad() -> None:
    """Session: start(chain=True), compute_cost(seed=200) on one sample, draw: the parameters held no .grad."""
    model = nn.MLP([1, 1, 1], rng=0)
    x, y = _batch(200, 1, n=1)
    cost = squared_error(model(x), y)
    tree = viz.dependency_tree(cost, gradients=pass_gradients(cost))
    assert all(p.grad is None for p in model.parameters())
    gradient = Shadow(model.state_dict()).gradient(x, y)
    drawn = {id(node.value): node.grad for node in tree.nodes.values()}
    for name, value in model._named_state():
        np.testing.assert_allclose(drawn[id(value)], gradient[name].item(), rtol=1e-9, err_msg=name)
