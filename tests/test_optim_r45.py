"""The optimizers', the training loop's and the costs' loose ends (round 45): each test fails on the code before its
fix."""

from typing import Any

import numpy as np
import pytest

import tinygrad_edu
from tinygrad_edu import Value, losses, optim, plots
from tinygrad_edu import functional as F


def _held(numbers: list[float], grad: list[float]) -> Value:
    """A parameter holding ``numbers`` and the gradient ``grad``, as after a backward pass."""
    p = Value(np.array(numbers))
    p.grad = np.array(grad)
    return p


# --- (1) Adam (and random search, Armijo, Newton) writing inf into a parameter under a caller's errstate -----------


def test_adams_update_that_overflows_under_errstate_changes_nothing_and_names_the_parameter() -> None:
    """Parameter 1's update is η·m̂/(√v̂ + ε) ≈ −1e308 for a constant g, so 1.7e308 + 1e308 overflows: Adam wrote
    inf into it with overflows ignored; now nothing changes (nor the averages and step counts) and the error says
    Adam's rule."""
    a, b = _held([1.0], [1.0]), _held([1.7e308], [-1.0])
    opt = optim.Adam([a, b], learning_rate=0.1)
    opt.step()  # (a finite update of both: the state that the refused step must leave as it is)
    a.grad, b.grad = np.array([1.0]), np.array([-1.0])
    opt.learning_rate = 1e308
    saved, before = opt.state_dict(), a.data.tolist()
    with np.errstate(over="raise"), pytest.raises(FloatingPointError) as caught:
        opt.step()
    message = str(caught.value)
    assert message.startswith("Adam.step: the update x ← x − η·m̂/(√v̂ + ε) gave numbers that are not finite for "
                              "parameter 1 (shape (1,)), beyond float64's largest number 1.8e+308"), message
    assert message.endswith("the parameters are unchanged")
    assert b.data.tolist() == [1.7e308] and a.data.tolist() == before
    now = opt.state_dict()
    assert now.keys() == saved.keys() and all(np.array_equal(now[key], saved[key]) for key in saved)
    assert now["state.1.step_count"] == 1


def test_adams_first_update_is_unchanged_by_the_split_of_its_averages_and_its_update() -> None:
    """x − η·m̂/(√v̂ + ε) with m̂ = g, v̂ = g² on the first step (closed form), under a caller's all="raise" too."""
    x = _held([1.0, -2.0], [3.0, -0.5])
    with np.errstate(all="raise"):
        optim.Adam([x], learning_rate=0.1).step()
    np.testing.assert_array_equal(x.data, [1.0 - 0.1 * 3.0 / (3.0 + 1e-8), -2.0 + 0.1 * 0.5 / (0.5 + 1e-8)])


def test_random_searchs_change_that_overflows_under_errstate_says_so_in_its_words() -> None:
    """x + u overflowing under np.errstate(over="raise") was numpy's bare "overflow encountered in add"."""
    x = Value([1.7e308, 1.0])
    search = optim.RandomSearch([x], scale=0.5e308, rng=0)
    state = search.rng.bit_generator.state
    with np.errstate(over="raise"), pytest.raises(FloatingPointError) as caught:
        search.step(lambda: x[1] * 1.0)
    message = str(caught.value)
    assert message.startswith("RandomSearch.step: the update x ← x + u, u uniform in [−scale, scale) gave numbers "
                              "that are not finite for parameter 0 (shape (2,)), beyond float64's largest number")
    assert "the scale is too large" in message and message.endswith("the parameters are unchanged")
    assert x.data.tolist() == [1.7e308, 1.0] and search.rng.bit_generator.state == state
    assert search.proposals == 0


def _capped(x: Value) -> Value:
    """−min(x, 1e308): finite (−1e308) where x is +inf, with slope −1 below the cap."""
    return -F.where(x.data < 1e308, x, np.array([1e308])).sum()


@pytest.mark.parametrize("state", ["raise", "warn"])
def test_armijos_search_takes_no_step_to_an_inf_though_the_cost_is_finite_there(state: str) -> None:
    """From x = 0.9e308 along d = 1, t = 1e308 overflows to x = inf, where −min(x, 1e308) is finite and lower: Armijo
    took it (inf in the parameter, silently, even under over="raise"); now it backtracks to t = 5e307 (x = 1.4e308,
    the cost −1e308 there too)."""
    x = Value([0.9e308])
    opt = optim.Armijo([x], initial_step=1e308)
    with np.errstate(over=state):
        opt.step(lambda: _capped(x))
    assert x.data.tolist() == [0.9e308 + 0.5e308] and opt.last_step_size == 0.5e308
    assert [t for t, _ in opt.last_trials] == [1e308, 0.5e308]
    found = optim.armijo_step(lambda p: float(-min(p[0], 1e308)), np.array([0.9e308]), np.array([-1.0]),
                              sigma=1e-4, alpha=0.5, initial_step=1e308)
    assert found.step == 0.5e308


# --- (2) fit's pass for final_cost where no parameter changed since the last cost on all samples -------------------


class _Counted:
    """x @ w + b, counting its calls (each a forward pass on the samples given)."""

    def __init__(self, w: list[list[float]], b: list[float]) -> None:
        self.w, self.b, self.calls = Value(np.array(w)), Value(np.array(b)), 0

    def __call__(self, x: Value) -> Value:
        self.calls += 1
        return x @ self.w + self.b


_INPUTS, _TARGETS = np.array([[0.0], [1.0], [2.0]]), np.array([[1.0], [3.0], [5.0]])


@pytest.mark.parametrize(("start", "tol", "stopped"), [([[1.0]], 1e6, "tol"), ([[2.0]], None, "zero gradient")])
def test_fit_that_stops_before_any_step_makes_no_pass_for_final_cost(start: Any, tol: Any, stopped: str) -> None:
    """Stopped at ‖∇C‖ ≤ tol (no update) or at ‖∇C‖ = 0 (y = 2x + 1 exactly: the update changed nothing), the cost on
    all samples was the episode's: one forward pass, not two; the number is the cost at those parameters."""
    model = _Counted(start, [1.0])
    history = tinygrad_edu.fit(model, _INPUTS, _TARGETS, optimizer=optim.GradientDescent([model.w, model.b], 0.1),
                               episodes=5, tol=tol, progress=False)
    assert history.stopped == stopped and history.episodes == 1 and model.calls == 1
    residuals = _INPUTS @ model.w.data + model.b.data - _TARGETS
    assert history.final_cost == float((residuals ** 2).sum() / 3) == history.cost[0]  # (3 samples, closed form)


def test_fit_after_a_step_or_with_batches_still_makes_its_pass_for_final_cost() -> None:
    """After an update, and with mini-batches (whose costs are batch averages taken before each update), the cost
    on all samples is not known: fit computes it, one pass more."""
    model = _Counted([[1.0]], [1.0])
    history = tinygrad_edu.fit(model, _INPUTS, _TARGETS, optimizer=optim.GradientDescent([model.w, model.b], 0.1),
                               episodes=2, progress=False)
    assert history.stopped == "episodes" and model.calls == 3
    residuals = _INPUTS @ model.w.data + model.b.data - _TARGETS
    assert history.final_cost == pytest.approx(float((residuals ** 2).sum() / 3), rel=1e-15)
    model = _Counted([[1.0]], [1.0])
    history = tinygrad_edu.fit(model, _INPUTS, _TARGETS, optimizer=optim.GradientDescent([model.w, model.b], 0.1),
                               episodes=1, batch_size=2, tol=1e6, progress=False)
    assert history.stopped == "tol" and model.calls == 2 + 1  # (two batches, then all samples)
    residuals = _INPUTS @ model.w.data + model.b.data - _TARGETS
    assert history.final_cost == pytest.approx(float((residuals ** 2).sum() / 3), rel=1e-15)


# --- (3) cross_entropy of (n,) logits with n labels -----------------------------------------------------------------

_N_SAMPLES = ("for 3 samples, give logits of shape (3, classes), a row of one logit per class for each sample (an "
              "output layer of one neuron per class), and labels of shape (3,), each sample's class index")


@pytest.mark.parametrize("labels", [np.array([0, 1, 2]), np.array([0.0, 1.0, 2.0]), np.array([[0], [1], [1]])],
                         ids=["ints", "floats", "column"])
def test_cross_entropy_of_one_logit_per_sample_and_their_labels_says_what_to_write(labels: np.ndarray) -> None:
    """Logits (3,) are one sample of 3 classes: labels [0, 1, 2] were "integer one-hot rows must hold a single 1"
    (the user gave labels), [0., 1., 2.] "a row sums to 3"; now each error names the shapes and what to give."""
    with pytest.raises(ValueError) as caught:
        losses.cross_entropy(Value(np.array([0.5, -1.0, 2.0])), labels)
    message = str(caught.value)
    assert message.startswith("cross_entropy: ") and message.endswith(_N_SAMPLES), message
    assert "logits of shape (3,) are one sample with 3 classes" in message
    logits = Value(np.array([[0.5, 0.0, 0.0], [-1.0, 0.0, 0.0], [2.0, 0.0, 0.0]]))  # what it says: (3, classes)
    rows = logits.data - logits.data.max(axis=1, keepdims=True)
    log_softmax = rows - np.log(np.exp(rows).sum(axis=1, keepdims=True))
    flat = labels.reshape(-1).astype(int)
    expected = -log_softmax[np.arange(3), flat].mean()
    assert float(losses.cross_entropy(logits, flat).data) == pytest.approx(expected, rel=1e-15)


def test_cross_entropy_keeps_its_clear_messages_for_rows_of_logits() -> None:
    """Logits (n, k) with rows that are no one-hot rows: the message as it was, with no word of one sample."""
    with pytest.raises(ValueError, match=r"^cross_entropy: integer one-hot rows must hold a single 1 and zeros "
                                         r"elsewhere$"):
        losses.cross_entropy(Value(np.zeros((2, 3))), np.array([[1, 1, 0], [0, 0, 1]]))
    assert float(losses.cross_entropy(Value(np.zeros(3)), np.array([0, 1, 0])).data) == pytest.approx(np.log(3))


# --- (4) plot_learning_rates refuses what the optimizers refuse, in their words -----------------------------------

_RATES: list[Any] = [0, 0.0, np.array(0.25), Value(0.25), np.float32(0.125), -0.1, np.nan, True, "0.1",
                     np.array([0.1, 0.2]), 1 + 1j]


@pytest.mark.parametrize("rate", _RATES, ids=[repr(rate) for rate in _RATES])
def test_plot_learning_rates_takes_and_refuses_the_learning_rates_the_optimizers_take_and_refuse(rate: Any) -> None:
    """Its own check refused η = 0 ("must be > 0"), which the optimizers take (a step that changes nothing), and a
    0-d array or a Value of one number; now both call one check and say the same words of their own names."""
    def bowl(p: Value) -> Value:
        return (p * p).sum()

    try:
        optim.GradientDescent([Value([1.0])], rate)
    except (TypeError, ValueError) as error:
        said = str(error).removeprefix("GradientDescent: learning_rate")
        with pytest.raises(type(error)) as caught:
            plots.plot_learning_rates(bowl, [1.0, 2.0], {"a": rate}, steps=2, resolution=5, armijo=False)
        assert str(caught.value) == f"plot_learning_rates: learning_rates['a']{said}"
        return
    figure = plots.plot_learning_rates(bowl, [1.0, 2.0], {"a": rate}, steps=2, resolution=5, armijo=False)
    path = figure.axes[0].get_lines()[0]  # x ← x − η·2x from (1, 2): (1 − 2η)ᵏ·(1, 2)
    shrink = 1 - 2 * float(rate)
    expected = [1.0, shrink, shrink ** 2] if rate != 0 else [1.0]  # (η = 0: the start alone, as descent_path's)
    np.testing.assert_allclose(path.get_xdata(), expected, rtol=1e-6)
