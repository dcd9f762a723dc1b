"""The optimizers' and the training loop's loose ends (round 43): defects found and fixed, each test failing on the
code before its fix."""

import math

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses, no_grad, optim
from tinygrad_edu.training import DivergenceWarning, fit


def _read_only(numbers: list[float]) -> Value:
    """A parameter whose numbers are read-only (``p.data = a`` keeps a read-only ``a``)."""
    array = np.array(numbers)
    array.flags.writeable = False
    p = Value([0.0] * len(numbers))
    p.data = array
    return p


# --- (1) Newton and random search: a read-only parameter gave numpy's bare "assignment destination is read-only" -----


@pytest.mark.parametrize("make", [lambda ps: optim.Newton(ps), lambda ps: optim.RandomSearch(ps, rng=0)],
                         ids=["Newton", "RandomSearch"])
@pytest.mark.parametrize("position", [0, 1])
def test_a_read_only_parameter_is_refused_by_name_and_nothing_changes(make, position) -> None:
    writeable, read_only = Value([1.0, 2.0]), _read_only([3.0])
    params = [writeable, read_only] if position == 1 else [read_only, writeable]
    opt = make(params)
    with pytest.raises(ValueError, match=rf"step: parameter {position} \(shape \(1,\)\) holds read-only numbers") \
            as caught:
        opt.step(lambda: (writeable * writeable).sum() + (read_only * read_only).sum())
    assert "p.data = p.data.copy()" in str(caught.value) and "unchanged" in str(caught.value)
    np.testing.assert_array_equal(writeable.data, [1.0, 2.0])
    np.testing.assert_array_equal(read_only.data, [3.0])
    if isinstance(opt, optim.RandomSearch):
        assert opt.proposals == 0 and opt.last_cost is None


def test_a_frozen_read_only_parameter_is_left_alone_by_random_search() -> None:
    """Frozen parameters are never changed, so read-only numbers there are no obstacle."""
    trained, frozen = Value([1.0]), _read_only([3.0])
    frozen.requires_grad = False
    search = optim.RandomSearch([trained, frozen], scale=0.5, rng=0)
    search.step(lambda: ((trained - 2.0) ** 2).sum() + (frozen * 0.0).sum())
    assert search.proposals == 1
    np.testing.assert_array_equal(frozen.data, [3.0])


# --- (2) a learning rate of 0 (a schedule annealed to 0) was refused mid-training ------------------------------------


@pytest.mark.parametrize("kind", [optim.GradientDescent, optim.SGD, optim.Adam])
def test_a_learning_rate_of_0_is_a_step_that_changes_nothing(kind) -> None:
    w = Value([1.0, -2.0])
    opt = kind([w], 0.1)
    for episode in range(3):  # cosine annealing from 0.1 down to exactly 0
        opt.learning_rate = 0.05 * (1 + math.cos(math.pi * episode / 2))
        opt.zero_grad()
        ((w * w).sum()).backward()
        before = w.data.copy()
        opt.step()
    assert opt.learning_rate == 0.0 and opt.last_step_size == 0.0
    np.testing.assert_array_equal(w.data, before)  # the last step, at η = 0, changed nothing
    assert kind([Value([1.0])], 0.0).learning_rate == 0.0
    assert kind([Value([1.0])], 0).learning_rate == 0.0


def test_fit_with_a_learning_rate_of_0_records_it_and_changes_nothing() -> None:
    w = Value([[0.5]])
    history = fit(lambda x: x @ w, np.ones((3, 1)), np.zeros((3, 1)), optimizer=optim.SGD([w], 0.0, momentum=0.9),
                  episodes=2, progress=False)
    assert history.step_size == [0.0, 0.0] and history.stopped == "episodes"
    np.testing.assert_array_equal(w.data, [[0.5]])


@pytest.mark.parametrize("kind", [optim.GradientDescent, optim.SGD, optim.Adam])
def test_a_negative_learning_rate_is_still_refused(kind) -> None:
    with pytest.raises(ValueError, match=rf"^{kind.__name__}: learning_rate must be >= 0, got -0\.1$"):
        kind([Value([1.0])], -0.1)


def test_armijos_initial_step_of_0_is_refused_saying_why() -> None:
    with pytest.raises(ValueError, match="initial_step must be > 0, got 0.0") as caught:
        optim.Armijo([Value([1.0])], initial_step=0.0)
    assert "no step" in str(caught.value) and "backtrack" in str(caught.value)


# --- (3) a learning rate held by a 0-d array or a Value of one number was a TypeError -----------------------------


@pytest.mark.parametrize("rate", [np.array(0.25), np.float32(0.25), Value(0.25), Value([0.25]), np.array([0.25]),
                                  np.int64(1)],
                         ids=["0-d array", "float32", "Value", "Value (1,)", "array (1,)", "int64"])
@pytest.mark.parametrize("kind", [optim.GradientDescent, optim.SGD, optim.Adam])
def test_a_learning_rate_holding_one_real_number_is_taken_as_its_float(kind, rate) -> None:
    opt = kind([Value([1.0])], rate)
    expected = float(np.asarray(rate.data if isinstance(rate, Value) else rate).item())
    assert type(opt.learning_rate) is float and opt.learning_rate == expected
    opt.learning_rate = rate  # set between steps, as a schedule does
    assert type(opt.learning_rate) is float and opt.learning_rate == expected


def test_armijos_initial_step_takes_a_0_d_array_too() -> None:
    opt = optim.Armijo([Value([1.0])], initial_step=np.array(0.5))
    assert type(opt.initial_step) is float and opt.initial_step == 0.5


@pytest.mark.parametrize("rate, error, message", [
    (np.array([0.1, 0.2]), TypeError, r"learning_rate must be one number, got an array of shape \(2,\)"),
    (Value([0.1, 0.2]), TypeError, r"learning_rate must be one number, got a Value of shape \(2,\)"),
    (np.array(np.nan), ValueError, "learning_rate must be finite, got nan"),
    (Value(np.inf), ValueError, "learning_rate must be finite, got inf"),
    (np.array(-0.5), ValueError, "learning_rate must be >= 0, got -0.5"),
    (np.array(True), TypeError, "learning_rate must be a number"),
    (True, TypeError, "learning_rate must be a number"),
    (np.array(1 + 2j), TypeError, "learning_rate must be a number"),
])
def test_a_learning_rate_that_is_not_one_real_number_is_refused_by_name(rate, error, message) -> None:
    with pytest.raises(error, match=rf"^SGD: {message}"):
        optim.SGD([Value([1.0])], rate)
    opt = optim.SGD([Value([1.0])], 0.1)
    with pytest.raises(error, match=rf"^SGD: {message}"):
        opt.learning_rate = rate
    assert opt.learning_rate == 0.1


# --- (4) Armijo at ‖∇f‖ = 0 (the seed's STOP) recorded a step size of 0.0 it never took -------------------------


def test_the_episode_that_stops_at_a_zero_gradient_records_no_step_size() -> None:
    """The step is not taken (the seed's step 1.2, STOP), as with tol=0: History says None, not a step of 0, and the
    step-size panel then has no made-up axis around 0."""
    for opt_of in (lambda w: optim.Armijo([w]), lambda w: optim.GradientDescent([w], 0.1)):
        w = Value([[0.0]])
        history = fit(lambda x, w=w: x @ w, np.ones((3, 1)), np.zeros((3, 1)), optimizer=opt_of(w), episodes=5,
                      progress=False)
        assert history.stopped == "zero gradient" and history.step_size == [None]
        w2 = Value([[0.0]])
        with_tol = fit(lambda x, w=w2: x @ w, np.ones((3, 1)), np.zeros((3, 1)), optimizer=opt_of(w2), episodes=5,
                       tol=0.0, progress=False)
        assert with_tol.step_size == history.step_size  # the same STOP, the same record


def test_armijo_steps_before_the_zero_gradient_are_recorded_as_taken() -> None:
    w = Value([[1.0]])
    history = fit(lambda x: x @ w, np.ones((3, 1)), np.zeros((3, 1)), optimizer=optim.Armijo([w], sigma=0.25),
                  episodes=5, progress=False)  # t = 0.5 lands on 0 exactly: then ∇C = 0
    assert history.stopped == "zero gradient" and history.step_size == [0.5, None]


# --- (5) a cost function turning NaN while the cost was falling was put down to diverging steps ------------------


def test_a_cost_that_turns_nan_while_falling_says_so_with_the_last_finite_cost_and_step() -> None:
    """ln(w) as the cost: gradient descent walks w down past 0, where the logarithm is NaN; the cost fell at every
    step, so "the steps diverged" (the usual cause) is not what happened."""
    w = Value([[3.0]])
    with pytest.raises(FloatingPointError) as caught:
        fit(lambda x: x @ w, np.ones((1, 1)), np.zeros((1, 1)), cost=lambda out, t: (out - t).sum().log(),
            optimizer=optim.GradientDescent([w], 1.0), episodes=10, progress=False)
    message = str(caught.value)
    history = caught.value.history
    assert all(b < a for a, b in zip(history.cost, history.cost[1:]))  # it was falling
    k = history.episodes + 1
    assert f"in episode {k} of 10" in message and "cost of nan" in message
    assert "diverged" not in message
    assert f"{history.cost[-1]:.4g}" in message and f"{history.step_size[-1]:g}" in message
    assert "falling" in message


def test_a_cost_that_turns_nan_after_rising_still_says_the_steps_diverged() -> None:
    w = Value([[1.0]])
    with pytest.raises(FloatingPointError, match="the steps diverged"), pytest.warns(DivergenceWarning):
        fit(lambda x: x @ w, np.ones((4, 1)), np.zeros((4, 1)), cost=lambda out, t: ((out - t) ** 2).sum() ** 8.0,
            optimizer=optim.GradientDescent([w], 1.0), episodes=50, progress=False)


# --- (6) cross_entropy of one class (one output neuron): a cost of 0 and no gradient, silently ---------------------


@pytest.mark.parametrize("labels", [np.zeros(4, dtype=np.int64), [0, 0, 0, 0], np.ones((4, 1)),
                                    Value(np.zeros(4), requires_grad=False)],
                         ids=["class indices", "list", "a column of ones", "Value of indices"])
def test_cross_entropy_of_one_class_is_refused_with_advice(labels) -> None:
    logits = Value(np.linspace(-1.0, 1.0, 4).reshape(4, 1))
    with pytest.raises(ValueError, match="2 output neurons") as caught:
        losses.cross_entropy(logits, labels)
    assert "(4, 1)" in str(caught.value) and "softplus" in str(caught.value)


def test_cross_entropy_of_one_class_soft_targets_computed_by_a_network_still_cost_0() -> None:
    """Soft targets given as a Value (F.softmax(u) of one class): the documented case, kept, under no_grad too (where
    the softmax records no graph: refusing it there only would make evaluation fail where training ran)."""
    z, u = Value([[3.0], [-2.0]]), Value([[0.5], [1.5]])
    assert float(losses.cross_entropy(z, F.softmax(u, axis=-1))) == 0.0
    with no_grad():
        assert float(losses.cross_entropy(z, F.softmax(u, axis=-1))) == 0.0


# --- (7) gradient descent and SGD under np.errstate(under="raise"): all or nothing -----------------------------------


@pytest.mark.parametrize("kind", [optim.GradientDescent, optim.SGD])
def test_an_update_that_underflows_under_a_callers_errstate_changes_no_parameter(kind) -> None:
    first, second = Value([1.0]), Value([1.0])
    opt = kind([first, second], 1e-300)
    first.grad, second.grad = np.array([1e299]), np.array([1e-20])  # η·g: 0.1, and for the second an underflow
    with np.errstate(under="raise"), pytest.raises(FloatingPointError):
        opt.step()
    np.testing.assert_array_equal(first.data, [1.0])
    np.testing.assert_array_equal(second.data, [1.0])
