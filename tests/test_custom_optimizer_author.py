"""An engineer's optimizers of their own on top of optim.Optimizer (RMSprop, Adagrad, Lion, a PyTorch-style SGD, a
gradient-clipping wrapper): each update against numpy written by hand, saved and resumed state, fit and History."""

import io

import numpy as np
import pytest

from tinygrad_edu import Value, fit, no_grad, optim, optim_state

# --- optimizers of one's own -------------------------------------------------------------------------------------


class Adagrad(optim.Optimizer):
    """Adagrad, with its state declared for state_dict(): s ← s + g², x ← x − η g / (√s + ε)."""

    _settings = ("learning_rate", "eps")
    _parameter_fields = (("sum_of_squares", "nonnegative"),)

    def __init__(self, params, learning_rate=0.1, eps=1e-10):
        super().__init__(params)
        self.learning_rate, self.eps = learning_rate, eps
        self.sums = {}

    def _parameter_states(self):
        return {key: (s,) for key, s in self.sums.items()}

    def _set_parameter_states(self, states):
        self.sums = {key: s for key, (s,) in states.items()}

    def step(self, closure=None, *, cost=None):
        cost = self._gradient(closure, cost)
        with no_grad():
            for p, g in self._finite_gradients():
                s = self.sums.get(id(p), 0) + g * g
                self.sums[id(p)] = s
                p -= self.learning_rate * g / (np.sqrt(s) + self.eps)
        self.last_step_size = self.learning_rate
        return cost


class Lion(optim.Optimizer):
    """Lion: x ← x − η sign(β₁m + (1−β₁)g), m ← β₂m + (1−β₂)g; its betas a plain tuple attribute."""

    _settings = ("learning_rate", "betas")
    _parameter_fields = (("momentum", "array"),)

    def __init__(self, params, learning_rate=1e-4, betas=(0.9, 0.99)):
        super().__init__(params)
        self.learning_rate, self.betas = learning_rate, betas
        self.m = {}

    def _parameter_states(self):
        return {key: (m,) for key, m in self.m.items()}

    def _set_parameter_states(self, states):
        self.m = {key: m for key, (m,) in states.items()}

    def step(self, closure=None, *, cost=None):
        cost = self._gradient(closure, cost)
        beta1, beta2 = self.betas
        with no_grad():
            for p, g in self._finite_gradients():
                m = self.m.get(id(p), np.zeros_like(p.data))
                p -= self.learning_rate * np.sign(beta1 * m + (1 - beta1) * g)
                self.m[id(p)] = beta2 * m + (1 - beta2) * g
        self.last_step_size = self.learning_rate
        return cost


class TorchStyleSGD(optim.Optimizer):
    """A port of a PyTorch optimizer: its defaults as keywords (lr=, weight_decay=), a class-level default lr and
    a param_groups property for PyTorch-style learning-rate schedulers."""

    lr = 0.05

    def __init__(self, params, **defaults):
        super().__init__(params)
        self.weight_decay = 0.0
        for name, value in defaults.items():
            setattr(self, name, value)

    @property
    def param_groups(self):
        return [{"params": self.params, "lr": self.lr, "weight_decay": self.weight_decay}]

    def step(self, closure=None, *, cost=None):
        cost = self._gradient(closure, cost)
        with no_grad():
            for p, g in self._finite_gradients():
                p -= self.lr * (g + self.weight_decay * p.data)
        self.last_step_size = self.lr
        return cost


class Clipped(optim.Optimizer):
    """Gradient clipping around another optimizer: ∇C scaled to a norm of at most max_norm (None: not clipped)."""

    _settings = ("max_norm",)

    def __init__(self, inner, max_norm=None):
        super().__init__(inner.params)
        self.inner, self.max_norm = inner, max_norm

    def step(self, closure=None, *, cost=None):
        cost = self._gradient(closure, cost)
        norm = optim.gradient_norm(self.params)
        if self.max_norm is not None and norm > self.max_norm:
            for p in self.params:
                if p.grad is not None:
                    p.grad = p.grad * (self.max_norm / norm)
        self.inner.step(cost=cost)
        self.last_step_size = self.inner.last_step_size
        return cost


WEIGHTS = np.array([1.0, 2.0, 3.0])


def _quadratic(x):
    return lambda: (x * x * WEIGHTS.astype(x.dtype)).sum()  # ∇ = 2·WEIGHTS·x


# --- defects -----------------------------------------------------------------------------------------------------

def test_a_subclass_keeps_its_own_lr_default_and_param_groups_property():
    w = Value(np.array([1.0, -2.0]))
    opt = TorchStyleSGD([w])
    assert opt.lr == 0.05
    assert opt.param_groups[0]["lr"] == 0.05 and opt.param_groups[0]["params"] == [w]
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_allclose(w.data, np.array([1.0, -2.0]) * (1 - 2 * 0.05), rtol=1e-15)
    assert "lr" in dir(opt) and "param_groups" in dir(opt)
    # the package's own optimizers still say where their learning rate is
    with pytest.raises(AttributeError, match="learning_rate"):
        optim.SGD([w], learning_rate=0.1).lr  # noqa: B018


def test_a_subclass_taking_keywords_through_kwargs_gets_them():
    start = np.array([1.0, -2.0])
    w = Value(start.copy())
    opt = TorchStyleSGD([w], lr=0.1, weight_decay=0.5)
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_allclose(w.data, start - 0.1 * (2 * start + 0.5 * start), rtol=1e-15)
    # misspelt keywords of the package's own optimizers are still caught
    with pytest.raises(TypeError, match="learning_rate="):
        optim.Adam([w], lr=0.1)


def test_a_tuple_setting_of_ones_own_loads_back_as_the_tuple_it_was():
    x = Value(np.array([3.0, -2.0, 1.0]))
    saved = Lion([x], learning_rate=0.1, betas=(0.8, 0.95))
    saved.step(_quadratic(x))
    resumed = Lion([Value(x.data.copy())])
    resumed.load_state_dict(saved.state_dict())
    assert resumed.betas == (0.8, 0.95) and isinstance(resumed.betas, tuple)
    assert repr(resumed) == "Lion(learning_rate=0.1, betas=(0.8, 0.95))"


def test_a_setting_a_file_cannot_hold_is_refused_when_saved_naming_it():
    x = Value(np.array([30.0, -40.0]))
    opt = Clipped(optim.GradientDescent([x], 0.1), max_norm=None)
    with pytest.raises(TypeError, match=r"^Clipped\.state_dict: the setting 'max_norm' is None"):
        opt.state_dict()


def test_the_base_class_docstring_says_what_a_subclass_provides():
    doc = optim.Optimizer.__doc__
    for hook in (*optim_state._HOOKS, "_gradient", "_finite_gradients", "last_step_size"):
        assert hook in doc, hook


# --- guards ------------------------------------------------------------------------------------------------------

def test_guard_adagrad_of_ones_own_in_float32_matches_numpy_and_resumes_exactly():
    x = Value(np.array([1.0, -2.0, 3.0], dtype=np.float32))
    opt = Adagrad([x], learning_rate=0.5)
    mine, s = np.array([1.0, -2.0, 3.0], dtype=np.float32), np.zeros(3, dtype=np.float32)
    for _ in range(3):
        opt.step(_quadratic(x))
        g = 2 * WEIGHTS.astype(np.float32) * mine
        s = s + g * g
        mine = mine - np.float32(0.5) * g / (np.sqrt(s) + np.float32(1e-10))
    assert x.dtype == np.float32
    np.testing.assert_allclose(x.data, mine, rtol=1e-6)
    file = io.BytesIO()
    np.savez(file, **opt.state_dict())
    file.seek(0)
    y = Value(x.data.copy())
    resumed = Adagrad([y], learning_rate=0.1)
    resumed.load_state_dict(np.load(file, allow_pickle=False))
    assert resumed.learning_rate == 0.5
    for _ in range(2):
        opt.step(_quadratic(x))
        resumed.step(_quadratic(y))
    assert y.data.tobytes() == x.data.tobytes()


def test_guard_a_subclass_using_the_base_gradients_leaves_a_frozen_parameter_alone():
    w, frozen = Value(np.array([1.0, -2.0])), Value(np.array([5.0]))
    opt = Lion([w, frozen], learning_rate=0.1)
    frozen.grad = np.array([3.0])  # from before it was frozen
    frozen.requires_grad = False
    (w * w).sum().backward()
    opt.step()
    assert frozen.data.tolist() == [5.0]
    np.testing.assert_allclose(w.data, np.array([1.0, -2.0]) - 0.1 * np.sign([2.0, -4.0]), rtol=1e-15)


def test_guard_fit_with_an_optimizer_of_ones_own_records_its_steps_and_matches_numpy():
    rng = np.random.default_rng(0)
    inputs, targets = rng.normal(size=(8, 3)), rng.normal(size=(8, 1))
    w = Value(np.zeros((3, 1)))
    opt = Clipped(optim.GradientDescent([w], 0.1), max_norm=1.0)
    history = fit(lambda v: v @ w, inputs, targets, cost=lambda out, t: ((out - t) ** 2).sum(), optimizer=opt,
                  episodes=4, progress=False)
    mine = np.zeros((3, 1))
    for _ in range(4):
        g = 2 * inputs.T @ (inputs @ mine - targets)  # ∇ of Σ(Xw − y)²
        mine = mine - 0.1 * g * min(1.0, 1.0 / np.linalg.norm(g))
    np.testing.assert_allclose(w.data, mine, rtol=1e-12)
    assert history.step_size == [0.1] * 4 and history.label == "Clipped"
