"""Guard tests for splitting the long functions (fit, plot_history, plot_learning_rates, dependency_tree,
check_gradients, numerical_gradient, armijo_step) into short ones with private helpers: what such a split could
change without any other test noticing — the order of fit's side effects (forward passes, updates, the progress bar,
its closing before the extra pass for the final cost), the random draws fit and check_gradients consume, that a
DivergenceWarning is given once and carries the history when raised, and that armijo_step evaluates f where and as
often as its doc says."""

from __future__ import annotations

import sys
import types
import warnings
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import Value, optim
from tinygrad_edu.optim import armijo_step
from tinygrad_edu.testing import check_gradients
from tinygrad_edu.training import DivergenceWarning, fit


class _Terminal:
    """A stderr that says it is a terminal, so that fit asks for a progress bar."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def _fake_tqdm(monkeypatch: pytest.MonkeyPatch, events: list[str]) -> None:
    """A tqdm.auto whose bars write what is done to them into ``events``."""

    class Bar:
        def __init__(self, total: int, **kwargs: Any) -> None:
            self.total, self.n, self.start_t = total, 0, 0.0
            events.append(f"bar({total})")

        def update(self, n: int = 1) -> None:
            self.n += n
            events.append("update")

        def set_postfix(self, **kwargs: Any) -> None:
            events.append("postfix")

        def reset(self, total: int | None = None) -> None:
            self.total, self.n = total, 0
            events.append("reset")

        def clear(self) -> None:
            events.append("clear")

        def refresh(self) -> None:
            events.append("refresh")

        def close(self) -> None:
            events.append("close")

    module = types.ModuleType("tqdm.auto")
    module.tqdm = Bar  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tqdm.auto", module)
    monkeypatch.setattr(sys, "stderr", _Terminal())


def _recording_sgd(params: list[Value], learning_rate: float, events: list[str]) -> optim.SGD:
    opt = optim.SGD(params, learning_rate=learning_rate)
    step = opt.step

    def recorded(*args: Any, **kwargs: Any) -> Any:
        events.append("step")
        return step(*args, **kwargs)

    opt.step = recorded  # type: ignore[method-assign]
    return opt


def test_fit_full_batch_forward_update_and_bar_in_order_bar_closed_before_the_final_cost(monkeypatch):
    events: list[str] = []
    _fake_tqdm(monkeypatch, events)
    w = Value(np.array([[0.5]]), requires_grad=True)
    x = np.linspace(-1, 1, 6).reshape(-1, 1)

    def model(v: Value) -> Value:
        events.append("forward")
        return v @ w

    history = fit(model, x, 2 * x, optimizer=_recording_sgd([w], 0.1, events), episodes=3)
    kept = [e for e in events if e in ("forward", "step", "update", "close") or e.startswith("bar")]
    assert kept == ["bar(3)"] + ["forward", "step", "update"] * 3 + ["close", "forward"]
    assert events.count("close") == 1
    assert history.stopped == "episodes" and len(history.cost) == 3
    # the closed form: C(w) = mean((w − 2)² x²), so each update is w ← w − η·2(w − 2)·mean(x²)
    expected, m = 0.5, float(np.mean(x ** 2))
    for _ in range(3):
        expected -= 0.1 * 2 * (expected - 2) * m
    assert w.data.item() == pytest.approx(expected, rel=1e-12)
    assert history.final_cost == pytest.approx((expected - 2) ** 2 * m, rel=1e-12)


def test_fit_tol_fills_the_bar_and_stops_before_the_update(monkeypatch):
    events: list[str] = []
    _fake_tqdm(monkeypatch, events)
    w = Value(np.array([[2.0]]), requires_grad=True)  # at the minimum: ‖∇C‖ = 0 ≤ tol at once
    x = np.linspace(-1, 1, 6).reshape(-1, 1)
    history = fit(lambda v: v @ w, x, 2 * x, optimizer=_recording_sgd([w], 0.1, events), episodes=5, tol=1e-9)
    assert history.stopped == "tol" and "step" not in events
    assert events[-3:] == ["reset", "update", "close"]  # the bar made full (1 of 1), then closed


def test_fit_mini_batches_draw_one_order_per_episode_from_the_generator_and_nothing_more():
    n, batch = 10, 4
    x = np.arange(n, dtype=float).reshape(-1, 1)
    seen: list[list[int]] = []
    w = Value(np.array([[0.1]]), requires_grad=True)

    def model(v: Value) -> Value:
        seen.append([int(r) for r in v.data[:, 0]])
        return v @ w

    rng = np.random.default_rng(7)
    fit(model, x, 0.5 * x, optimizer=optim.SGD([w], learning_rate=0.001), episodes=3, batch_size=batch, seed=rng,
        progress=False)
    twin = np.random.default_rng(7)
    expected = []
    for _ in range(3):
        order = twin.permutation(n)
        expected += [[int(i) for i in order[k:k + batch]] for k in range(0, n, batch)]
    assert seen[:-1] == expected
    assert seen[-1] == list(range(n))  # the final cost: all samples, in order, drawing nothing
    assert rng.bit_generator.state == twin.bit_generator.state


def _line(n: int = 8) -> tuple[Value, np.ndarray]:
    return Value(np.array([[1.0]]), requires_grad=True), np.linspace(-1, 1, n).reshape(-1, 1)


def test_a_diverging_run_warns_once_naming_the_episode():
    w, x = _line()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(lambda v: v @ w, x, 3 * x, optimizer=optim.SGD([w], learning_rate=20.0), episodes=12,
                      progress=False)
    diverging = [str(c.message) for c in caught if issubclass(c.category, DivergenceWarning)]
    assert len(diverging) == 1 and " in episode " in diverging[0] and "after the last update" not in diverging[0]
    assert history.stopped == "episodes" and len(history.cost) == 12


def test_a_run_that_diverges_in_its_last_update_warns_once_after_it():
    w, x = _line()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(lambda v: v @ w, x, 3 * x, optimizer=optim.SGD([w], learning_rate=2000.0), episodes=1,
                      progress=False)
    diverging = [str(c.message) for c in caught if issubclass(c.category, DivergenceWarning)]
    assert len(diverging) == 1 and "after the last update" in diverging[0]
    # the closed form: C(w) = mean((w − 3)² x²); one step w ← w − η·2(w − 3)·mean(x²)
    m = float(np.mean(x ** 2))
    w1 = 1.0 - 2000.0 * 2 * (1.0 - 3) * m
    assert history.cost[0] == pytest.approx(4 * m) and history.final_cost == pytest.approx((w1 - 3) ** 2 * m)


@pytest.mark.parametrize(("rate", "episodes"), [(20.0, 12), (2000.0, 1)])
def test_a_divergence_warning_raised_as_an_error_carries_the_history(rate, episodes):
    w, x = _line()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        with pytest.raises(DivergenceWarning) as info:
            fit(lambda v: v @ w, x, 3 * x, optimizer=optim.SGD([w], learning_rate=rate), episodes=episodes,
                progress=False)
    history = info.value.history  # type: ignore[attr-defined]
    assert history.stopped == "diverging" and 1 <= len(history.cost) <= episodes


def test_armijo_step_evaluates_f_at_x_then_once_per_trial_in_order():
    points: list[np.ndarray] = []

    def f(p: np.ndarray) -> float:
        points.append(p.copy())
        return float(p @ p)

    x, g = np.array([1.0]), np.array([2.0])
    result = armijo_step(f, x, g, sigma=0.25, alpha=0.5)
    # φ(t) = (1 − 2t)²: t = 1 gives 1 > 1 − 0.25·1·4 = 0, rejected; t = ½ gives 0 ≤ 1 − 0.25·½·4, accepted
    assert result.step == 0.5 and result.trials == [(1.0, 1.0), (0.5, 0.0)]
    assert [p.tolist() for p in points] == [[1.0], [-1.0], [0.0]]
    points.clear()
    armijo_step(f, x, g, sigma=0.25, alpha=0.5, fx=1.0)
    assert [p.tolist() for p in points] == [[-1.0], [0.0]]  # f(x) given: not evaluated again


def test_armijo_step_with_no_step_found_lists_every_trial():
    result = armijo_step(lambda p: float(-p @ p) if p[0] > 1 else 10.0 + float(p @ p), np.array([1.0]),
                         np.array([-1.0]), sigma=0.5, alpha=0.5, max_backtracks=3)
    # going right from x = 1 every trial costs −(1 + t)² < f(x) = 11, so the first is taken
    assert result.step == 1.0
    result = armijo_step(lambda p: 100.0, np.array([1.0]), np.array([2.0]), sigma=0.25, alpha=0.5, fx=1.0,
                         max_backtracks=3)
    assert result.step is None and [t for t, _ in result.trials] == [1.0, 0.5, 0.25, 0.125]


def test_check_gradients_order_2_weighs_the_hessian_by_the_draws_of_seed_plus_one():
    """f = Σx³ has the Hessian diag(6x): the order-2 check's analytic side is 6x·w, w the gradient weights drawn
    from default_rng(seed + 1) (a split that draws them elsewhere or in another order changes every report)."""
    x = np.array([1.0, 2.0, -0.5])
    for seed in (0, 3):
        report = check_gradients(lambda v: (v ** 3).sum(), x, order=2, seed=seed)
        weights = np.random.default_rng(seed + 1).standard_normal(x.shape)
        np.testing.assert_allclose(report.analytic[0], 6 * x * weights, rtol=1e-12)
        np.testing.assert_allclose(report.numeric[0], 6 * x * weights, rtol=1e-6)
