"""The optimizers' and the training loop's loose ends (round 44): defects found and fixed, each test failing on the
code before its fix."""

import warnings
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import Value, optim, plots
from tinygrad_edu.training import fit


def _held(numbers: list[float], grad: list[float]) -> Value:
    """A parameter holding ``numbers`` and the gradient ``grad``, as after a backward pass."""
    p = Value(np.array(numbers))
    p.grad = np.array(grad)
    return p


# --- (1) SGD's update x − η·v overflowing partway under a caller's np.errstate(over="raise") ------------------------


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_an_update_that_overflows_under_errstate_changes_nothing_and_names_the_parameter(momentum: float) -> None:
    """Parameter 0's update is finite, parameter 1's (1.7e308 + 1e308) overflows: numpy wrote both (the second as
    inf) before raising its bare "overflow encountered in subtract"; now neither changes, nor the velocity."""
    a, b = _held([1.0], [1.0]), _held([1.7e308], [-1.0])
    opt = optim.SGD([a, b], learning_rate=1e308, momentum=momentum)
    with np.errstate(over="raise"), pytest.raises(FloatingPointError) as caught:
        opt.step()
    message = str(caught.value)
    assert message.startswith("SGD.step: the update x ← x − η·v gave numbers that are not finite for parameter 1 "
                              "(shape (1,)), beyond float64's largest number 1.8e+308")
    assert "smaller" in message and message.endswith("the parameters are unchanged")
    assert a.data.tolist() == [1.0] and b.data.tolist() == [1.7e308]
    assert opt.state_dict().keys() == optim.SGD([a, b], 1e308, momentum=momentum).state_dict().keys()
    assert not any(key.startswith("velocity") for key in opt.state_dict())  # (no velocity kept from the failure)
    with np.errstate(over="ignore"):  # the same step, allowed to overflow, is still the rule x − η·g
        opt.step()
    assert a.data.tolist() == [1.0 - 1e308] and b.data.tolist() == [np.inf]


def test_an_update_that_underflows_under_errstate_is_said_in_the_steps_words() -> None:
    x = _held([1e-300], [1e-300])
    opt = optim.SGD([x], learning_rate=1e-300)
    with np.errstate(under="raise"), pytest.raises(FloatingPointError) as caught:
        opt.step()
    message = str(caught.value)
    assert message.startswith("SGD.step: the update x ← x − η·v underflowed (underflow encountered in multiply)")
    assert "np.errstate(under='ignore')" in message and message.endswith("the parameters are unchanged")
    assert x.data.tolist() == [1e-300]
    with np.errstate(under="ignore"):  # what the message says to write: the step is taken (η·g rounds to 0)
        opt.step()
    assert x.data.tolist() == [1e-300]


def test_gradient_descents_update_is_all_or_nothing_under_errstate_too() -> None:
    """The same for gradient descent, whose every η·∇C was computed first but whose x − η·∇C could still overflow
    after parameter 0 had changed; its message names its own rule."""
    a, b = _held([1.0, 2.0], [1.0, 1.0]), _held([1e308, -1e308], [-1e308, 1e308])
    opt = optim.GradientDescent([a, b], learning_rate=1.0)
    with np.errstate(over="raise"), pytest.raises(FloatingPointError) as caught:
        opt.step()
    assert str(caught.value).startswith("GradientDescent.step: the update x ← x − η·∇C gave numbers that are not "
                                        "finite for parameter 1 (shape (2,))")
    assert a.data.tolist() == [1.0, 2.0] and b.data.tolist() == [1e308, -1e308]
    x = _held([1e-300], [1e-300])
    with np.errstate(under="raise"), pytest.raises(FloatingPointError, match=r"^GradientDescent.step: the update "
                                                                               r"x ← x − η·∇C underflowed"):
        optim.GradientDescent([x], learning_rate=1e-300).step()
    assert x.data.tolist() == [1e-300]


# --- (2) finite gradients whose sum of squares overflows: numpy's "overflow encountered in reduce" -----------------


@pytest.mark.parametrize("make", [lambda ps: optim.GradientDescent(ps, 1e-300),
                                  lambda ps: optim.SGD(ps, 1e-300, momentum=0.9)], ids=["GradientDescent", "SGD"])
@pytest.mark.parametrize("state", ["warn", "raise"])
def test_finite_gradients_whose_sum_overflows_step_silently(make: Any, state: str) -> None:
    """The finiteness check's sum of 1e308 + 1e308 + 1e308 overflowed: numpy's "overflow encountered in reduce" (a
    bare FloatingPointError under np.errstate(all="raise")), for a gradient that is finite and a step that is not."""
    x = _held([1.0, 2.0, 3.0], [1e308, 1e308, 1e308])
    with warnings.catch_warnings(), np.errstate(all=state):
        warnings.simplefilter("error")
        make([x]).step()
    np.testing.assert_allclose(x.data, [1.0 - 1e8, 2.0 - 1e8, 3.0 - 1e8], rtol=1e-15)  # x − η·g, η·g = 1e8


def test_armijo_with_such_gradients_says_only_that_it_found_no_step() -> None:
    """The same gradients given to Armijo with cost= (gradients set by hand count there): its search finds no step
    on ‖x‖² (every trial overflows), which it says; numpy's words for the check's sum came first, as an error."""
    x = Value([1.0, 2.0])
    cost = (x * x).sum()
    cost.backward()
    x.grad = np.array([1e308, 1e308])
    with warnings.catch_warnings(), np.errstate(all="raise"), pytest.warns(optim.LineSearchWarning):
        warnings.filterwarnings("error", message="overflow encountered")
        optim.Armijo([x]).step(lambda: (x * x).sum(), cost=cost)
    assert x.data.tolist() == [1.0, 2.0]


# --- (3) descent_path refused η = 0, which the optimizers take --------------------------------------------------


def _bowl(p: Value) -> Value:
    return (p * p).sum()


def test_descent_path_with_a_learning_rate_of_0_is_the_start_alone_as_the_optimizer_stays() -> None:
    path = plots.descent_path(_bowl, [1.0, 2.0], 0, steps=5)
    np.testing.assert_array_equal(path, [[1.0, 2.0]])
    x = Value([1.0, 2.0])
    optim.GradientDescent([x], 0).step(lambda: _bowl(x))
    np.testing.assert_array_equal(x.data, path[-1])
    ax = plots.plot_descent(_bowl, [1.0, 2.0], 0.0, steps=5, resolution=5, levels=3).axes[0]
    assert ax.get_title() == "gradient descent: learning rate η = 0, cost 5 after 0 steps"
    assert [(line.get_label(), line.get_xdata().tolist()) for line in ax.get_lines()][0] == ("learning rate η = 0",
                                                                                              [1.0])


def test_descent_path_still_refuses_a_negative_learning_rate() -> None:
    with pytest.raises(ValueError, match=r"^descent_path: learning_rate must be >= 0, got -0.1$"):
        plots.descent_path(_bowl, [1.0, 2.0], -0.1)


def test_descent_path_ends_where_a_step_rounds_away_and_follows_x_minus_eta_gradient_elsewhere() -> None:
    np.testing.assert_array_equal(plots.descent_path(_bowl, [1.0, 2.0], 1e-300, steps=3), [[1.0, 2.0]])
    path = plots.descent_path(_bowl, [1.0, 2.0], 0.25, steps=3)  # x ← x − 0.25·2x = x/2
    np.testing.assert_array_equal(path, [[1.0, 2.0], [0.5, 1.0], [0.25, 0.5], [0.125, 0.25]])


# --- (4) fit's "the cost was falling" hint called an overflow of squared_error an undefined cost function ----------


class _Jump(optim.GradientDescent):
    """Gradient descent whose third step is 1e200 (a schedule gone wrong): the cost falls, then overflows."""

    def step(self, closure: Any = None, *, cost: Any = None) -> Any:
        self.count = getattr(self, "count", 0) + 1
        self.learning_rate = 1e200 if self.count == 3 else 0.1
        return super().step(closure, cost=cost)


def test_a_cost_that_overflows_after_falling_is_not_only_put_down_to_an_undefined_function() -> None:
    w = Value([[1.0]])
    with pytest.raises(FloatingPointError) as caught:
        fit(lambda x: x @ w, np.ones((1, 1)), np.zeros((1, 1)), optimizer=_Jump([w], 0.1), episodes=10,
            progress=False)
    message = str(caught.value)
    np.testing.assert_allclose(caught.value.history.cost, [1.0, 0.8 ** 2, 0.8 ** 4], rtol=1e-15)  # w ← 0.8·w
    assert "gave a cost of inf" in message and "then a step of size 1e+200" in message
    assert "itself is not finite" not in message and "may be undefined" in message
    assert "the cost overflowed, which a smaller learning rate or step size avoids" in message


@pytest.mark.parametrize("make", [optim.SGD, optim.GradientDescent], ids=["SGD", "GradientDescent"])
def test_an_update_that_turns_nan_says_no_number_was_too_large(make: Any) -> None:
    """inf − inf under np.errstate(invalid="raise"): NaN, no overflow, so no "beyond float64's largest number"."""
    a, b = _held([1.0], [1.0]), _held([np.inf], [1e308])
    opt = make([a, b], learning_rate=10.0)
    with np.errstate(invalid="raise", over="ignore"), pytest.raises(FloatingPointError) as caught:
        opt.step()
    message = str(caught.value)
    assert "not finite for parameter 1 (shape (1,)) (invalid value encountered in subtract" in message, message
    assert "largest number" not in message and a.data.tolist() == [1.0] and b.data.tolist() == [np.inf]
