"""Edges found by mutation testing of ``optim.py`` (second pass): each test pins a behaviour that a hand-made
mutant (a flipped comparison, a dropped check or reset, an ignored setting, a wrong stacklevel) changed while the
other tests passed.  90 mutants of ``tinygrad_edu/optim.py``; 64 killed before these tests, 88 after (one of them,
``_check_current``'s ``<=`` made ``<``, is the fix of a defect the run found: a cost that is the parameter itself
was called stale).

Equivalent mutants, left without a test:

- ``Optimizer._finite_gradients``: the sum in the gradients' own dtype instead of float64: the sum is only a fast
  path, and an error needs the element-wise check to fail too, so a float32 sum that overflows only costs time.
- ``Newton._direction``: ``matrix = hessian`` instead of its symmetric part ``(H + Hᵀ)/2``: the engine's H is
  symmetric up to rounding (about 1e-16 apart), so the two give the same step but for the last bits.
"""

import warnings

import numpy as np
import pytest

from tinygrad_edu import Value, optim

# ------------------------------------------------------------------------------------------------- costs and closures


def test_random_search_refuses_an_infinite_cost_to_start_from():
    """No change can be judged against a cost of inf (any finite one is "smaller"): a FloatingPointError, nothing
    moved."""
    x = Value([1.0, 2.0])
    opt = optim.RandomSearch([x], scale=0.5, rng=0)
    with pytest.raises(FloatingPointError, match=r"^RandomSearch\.step: the cost is inf"):
        opt.step(lambda: (x * x).sum(), cost=float("inf"))
    assert x.data.tolist() == [1.0, 2.0] and opt.proposals == 0


def test_a_closures_own_value_error_is_passed_on_unchanged():
    """Only the engine's backward() errors are explained as "the closure called backward()"; a closure's own
    ValueError reaches the caller as it was raised, and the parameters are restored."""
    x = Value([1.0])
    calls = []

    def closure():
        calls.append(1)
        if len(calls) > 1:
            raise ValueError("my own complaint")
        return (x * x).sum()

    opt = optim.RandomSearch([x], scale=0.5, rng=0)
    with pytest.raises(ValueError, match=r"^my own complaint$"):
        opt.step(closure)
    assert x.data.tolist() == [1.0]


def test_an_infinite_cost_from_the_closure_is_refused_before_any_backward_pass():
    """cost_with_gradient promises a FloatingPointError ending with the hint, before backpropagating: no gradient
    is left behind."""
    x = Value([1.0])
    with pytest.raises(FloatingPointError, match=r"^example gave a cost of inf: try something else$"):
        optim.cost_with_gradient(lambda: (x * np.inf).sum(), [x], "example", hint="try something else")
    assert x.grad is None


# ------------------------------------------------------------------------------------------------------------ Newton


def _saddle(p):
    """C(x, y) = ½(−x² + y²): H = diag(−1, 1), a saddle at 0."""
    return ((p * p) * np.array([-0.5, 0.5])).sum()


def test_newton_raises_the_damping_past_an_eigenvalue_of_exactly_minus_damping():
    """λ_min(H) = −1 = −λ: H + λI is singular, not positive definite, so λ becomes λ − λ_min = 2 and
    d = −(H + 2I)⁻¹g = (0.5, −1/6) from (0.5, 0.5), where g = (−0.5, 0.5); t = 1 meets the rule (C falls from 0 to
    −4/9)."""
    p = Value([0.5, 0.5])
    opt = optim.Newton([p], damping=1.0)
    opt.step(lambda: _saddle(p))
    assert opt.last_damping == 2.0 and not opt.last_fallback
    np.testing.assert_allclose(p.data, [1.0, 1.0 / 3.0], rtol=1e-15)


def test_newton_without_damping_at_a_saddle_uses_no_damping_and_steps_along_minus_the_gradient():
    """damping=0 has no margin to raise: d = −g = (0.5, −0.5), the Armijo step t = 1 lands on (1, 0), and the λ
    used stays 0."""
    p = Value([0.5, 0.5])
    opt = optim.Newton([p], damping=0.0)
    opt.step(lambda: _saddle(p))
    assert opt.last_fallback and opt.last_damping == 0.0
    assert p.data.tolist() == [1.0, 0.0]


def _hyperbola(x):
    """C(x) = √(1 + x²): at x = 2, g = 2/√5, H = 5^(−3/2), so Newton's d = −g/H = −x(1 + x²) = −10."""
    return (1.0 + x * x).sum() ** 0.5


def test_newton_uses_its_alpha_and_reports_the_cost_after_the_accepted_trial():
    """t = 1 (x = −8, C = √65) fails the rule; with alpha = 0.3 the next t = 0.3 gives x = −1, C = √2 < √5, which
    is kept; last_cost is that cost, not the first trial's."""
    x = Value([2.0])
    opt = optim.Newton([x], alpha=0.3)
    opt.step(lambda: _hyperbola(x))
    np.testing.assert_allclose(x.data, [-1.0], rtol=1e-14)
    assert opt.last_step_size == 0.3
    np.testing.assert_allclose(opt.last_cost, np.sqrt(2.0), rtol=1e-14)


def test_newton_uses_its_sigma():
    """C = x² from x = 4: Newton's t = 1 lands on 0, C(0) = 0 ≤ 16 − σ·32 only for σ ≤ ½; with σ = 0.6 the rule
    takes t = ½ (4 ≤ 16 − 0.6·½·32 = 6.4), so x = 2."""
    x = Value([4.0])
    opt = optim.Newton([x], sigma=0.6)
    opt.step(lambda: (x * x).sum())
    assert x.data.tolist() == [2.0] and opt.last_step_size == 0.5


def test_a_newton_step_that_succeeds_after_a_failed_one_is_not_reported_failed():
    """last_failed describes the latest step: True after a step whose only trial (max_backtracks=0) rose, False
    again after the next step finds one."""
    x = Value([2.0])
    opt = optim.Newton([x], max_backtracks=0)
    with pytest.warns(RuntimeWarning, match="Newton.step"):
        opt.step(lambda: _hyperbola(x))
    assert opt.last_failed and x.data.tolist() == [2.0]
    opt.max_backtracks = 50
    opt.step(lambda: _hyperbola(x))
    assert not opt.last_failed
    np.testing.assert_allclose(x.data, [-0.5], rtol=1e-14)  # t = ¼: x = 2 − 10/4


def test_newton_leaves_each_parameter_a_gradient_of_its_own_dtype():
    """As backward() leaves it: a float32 parameter gets a float32 grad, here ∇(x²) = 2x at the start."""
    x = Value(np.array([1.5, -3.0], dtype=np.float32))
    optim.Newton([x]).step(lambda: (x * x).sum())
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [3.0, -6.0]


def test_newton_given_the_cost_does_not_compute_it_again():
    """cost= (with its graph) saves the forward pass at the start: on a quadratic the closure runs once, for the
    only trial (t = 1, which lands on the minimum)."""
    x = Value([3.0])
    calls = []

    def closure():
        calls.append(1)
        return ((x - 1.0) ** 2).sum()

    optim.Newton([x]).step(closure, cost=((x - 1.0) ** 2).sum())
    assert len(calls) == 1 and x.data.tolist() == [1.0]


def test_newton_falls_back_to_minus_the_gradient_where_rounding_makes_the_solve_point_uphill():
    """C = ½xᵀHx + x₀ with H = [[1, b], [b, fl(b²)]], b = 7.4: det H = fl(b²) − b² ≈ −1.4e-16 < 0 exactly, so H is
    indefinite and damping=0 must use d = −g = (−1, 0); rounding shows λ_min > 0 and gives a solve pointing uphill,
    which is no direction to search along.  t = 1 lands on (−1, 0), C = −½."""
    b = 7.4
    h = np.array([[1.0, b], [b, b * b]])
    x = Value([0.0, 0.0])
    opt = optim.Newton([x], damping=0.0)
    opt.step(lambda: 0.5 * (x @ (h @ x)) + x[0])
    assert opt.last_fallback and x.data.tolist() == [-1.0, 0.0] and opt.last_cost == -0.5


# ------------------------------------------------------------------------------------------ settings and step= rules


def test_random_search_takes_a_scale_of_exactly_half_the_largest_float32():
    """The message promises "at most" half the largest number of the parameters' type: that bound is taken and
    draws finite numbers; the next float above it is refused."""
    half = float(np.finfo(np.float32).max) / 2
    x = Value(np.zeros(3, dtype=np.float32))
    opt = optim.RandomSearch([x], scale=half, rng=0)
    opt.step(lambda: x.sum())
    assert opt.scale == half and np.isfinite(x.data).all()
    with pytest.raises(ValueError, match=r"^RandomSearch: scale must be at most"):
        opt.scale = np.nextafter(half, np.inf)


def test_random_search_bounds_the_scale_by_its_narrowest_parameter_type():
    """With a float32 and a float64 parameter the draws must fit in float32: 1e300 is refused, naming float32."""
    with pytest.raises(ValueError, match=r"half the largest float32 number\), got 1e\+300$"):
        optim.RandomSearch([Value(np.zeros(2)), Value(np.zeros(2, dtype=np.float32))], scale=1e300)


def test_a_given_cost_with_gradients_on_a_later_parameter_only_is_a_step():
    """cost= needs *some* parameter with a gradient, not every one: here only the second has one, and gets
    x − ηg (g = 2x = 4), while the first is left alone."""
    a, b = Value([1.0]), Value([2.0])
    cost = (b * b).sum()
    cost.backward()
    optim.GradientDescent([a, b], learning_rate=0.25).step(cost=cost)
    assert a.data.tolist() == [1.0] and b.data.tolist() == [1.0]


@pytest.mark.parametrize("make, after", [
    (lambda p: optim.GradientDescent(p, learning_rate=0.25), 1.0),     # 2 − ¼·4
    (lambda p: optim.SGD(p, learning_rate=0.25, momentum=0.5), 1.0),  # v = g = 4 at first
    (lambda p: optim.Adam(p, learning_rate=0.25), 2.0 - 0.25 * 4.0 / (4.0 + 1e-8)),  # first step η·g/(|g| + ε)
], ids=["gd", "sgd", "adam"])
def test_a_closure_and_a_cost_with_its_gradients_compute_nothing_again(make, after):
    """step(closure, cost=c), as fit calls it: c and the gradients in place (C = x², g = 4 at x = 2) are used, the
    closure is not called (nothing is computed twice), and c is returned."""
    x, calls = Value([2.0]), []
    cost = (x * x).sum()
    cost.backward()
    assert make([x]).step(lambda: calls.append(1), cost=cost) is cost
    assert calls == []
    np.testing.assert_allclose(x.data, [after], rtol=1e-15)


def test_random_search_given_the_cost_evaluates_the_closure_once():
    """cost= is reused as the cost before the change: only the changed point is evaluated."""
    x, calls = Value([1.0]), []

    def closure():
        calls.append(1)
        return (x * x).sum()

    optim.RandomSearch([x], rng=0).step(closure, cost=1.0)
    assert len(calls) == 1


# ------------------------------------------------------------------------------------------------ what a step reports


def test_gradient_descent_reports_its_learning_rate_as_the_step_size():
    """last_step_size is "the learning rate" for gradient descent, as for SGD and Adam."""
    x = Value([1.0])
    opt = optim.GradientDescent([x], learning_rate=0.3)
    opt.step(lambda: (x * x).sum())
    assert opt.last_step_size == 0.3


def test_random_search_last_cost_is_the_cost_where_the_parameters_are():
    """After a kept change last_cost is the cost at the new point; after a rejected one, the cost before."""
    x = Value([3.0, -2.0])
    closure = lambda: (x * x).sum()
    opt = optim.RandomSearch([x], scale=0.5, rng=0)
    seen = set()
    for _ in range(20):
        opt.step(closure)
        assert opt.last_cost == float(closure())
        seen.add(opt.last_accepted)
    assert seen == {True, False}


def test_an_optimizers_repr_shows_its_settings_not_its_parameters():
    """The repr lists the settings by name (what a learning-rate schedule changes), not the parameter list."""
    opt = optim.SGD([Value(np.arange(50.0))], learning_rate=0.1, momentum=0.5)
    assert repr(opt) == "SGD(learning_rate=0.1, momentum=0.5)"


def test_armijo_at_a_stationary_point_reports_no_backtracks():
    """last_backtracks describes the latest step: after a step that backtracked, a step at ∇f = 0 (the STOP) made
    none."""
    x = Value([1.0])
    opt = optim.Armijo([x])
    opt.step(lambda: (x * x * 3.0).sum())  # t = 1 and ½ overshoot (C = 75, 12); t = ¼ lands on −½, C = ¾ ≤ 3
    assert opt.last_backtracks == 2 and x.data.tolist() == [-0.5]
    x.data = np.array([0.0])
    opt.step(lambda: (x * x * 3.0).sum())
    assert opt.last_backtracks == 0 and opt.last_step_size == 0.0


def _warning_of(step):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        step()
    assert len(caught) == 1 and caught[0].category is optim.LineSearchWarning  # (a RuntimeWarning)
    return caught[0]


def test_a_failed_armijo_step_warns_at_the_callers_line_and_reports_a_step_size_of_0():
    """The LineSearchWarning points at the code that called step(), not into optim.py; last_step_size is 0 (no t
    was accepted), not the t that was tried last."""
    x = Value([1.0])
    opt = optim.Armijo([x], max_backtracks=0)
    caught = _warning_of(lambda: opt.step(lambda: (x * x * 100.0).sum()))  # t = 1 overshoots: x = −199, C = 3,960,100
    assert caught.filename == __file__ and "Armijo.step" in str(caught.message)
    assert opt.last_step_size == 0.0 and opt.last_failed and x.data.tolist() == [1.0]


def test_a_failed_newton_step_warns_at_the_callers_line():
    """As for Armijo: the warning of a step with no accepted t names the caller's file."""
    x = Value([2.0])
    opt = optim.Newton([x], max_backtracks=0)
    caught = _warning_of(lambda: opt.step(lambda: _hyperbola(x)))
    assert caught.filename == __file__ and "Newton.step" in str(caught.message)


def test_a_search_that_stops_where_x_cannot_move_says_so_not_that_it_ran_out_of_backtracks():
    """∇C = 1e-17 at x = 1: already t = 1 gives x + t·d = x, so the search ends after that one trial (of
    max_backtracks + 1 = 2 allowed) and the warning says the step changes no parameter."""
    x = Value([1.0])
    opt = optim.Armijo([x], max_backtracks=1)
    caught = _warning_of(lambda: opt.step(lambda: (x * 1e-17).sum()))
    assert str(caught.message) == ("Armijo.step: the step size 1 changes no parameter (x + t·d rounds to x); "
                                   "the parameters are unchanged")
    assert opt.last_trials == [(1.0, 1e-17)] and opt.last_failed


# ------------------------------------------------------------------------------------ state kept between steps


@pytest.mark.parametrize("make, what", [
    (lambda p: optim.SGD(p, learning_rate=0.1, momentum=0.5), "velocity"),
    (lambda p: optim.Adam(p), "gradient averages"),
], ids=["sgd", "adam"])
def test_a_parameter_given_numbers_of_another_shape_of_the_same_size_is_named(make, what):
    """(1, 2) → (2, 1): the kept state would broadcast with the new gradient to (2, 2); a ValueError naming the
    state and its old shape instead, and nothing changes."""
    w = Value(np.ones((1, 2)))
    opt = make([w])
    opt.step(lambda: (w * w).sum())
    w.data = np.array([[1.0], [2.0]])
    with pytest.raises(ValueError, match=rf"parameter 0 has shape \(2, 1\), but the state kept for it from earlier "
                                         rf"steps \({what}\) has shape \(1, 2\)"):
        opt.step(lambda: (w * w).sum())
    assert w.data.tolist() == [[1.0], [2.0]]


def test_sgd_momentum_switched_on_later_starts_from_the_gradient():
    """Steps with momentum 0 keep no velocity (PyTorch keeps no buffer): the first step after momentum is set is
    v = g.  C = x², x = 1, η = 0.1: x = 1 − 0.2 = 0.8, then g = 1.6, v = 1.6, x = 0.8 − 0.16 = 0.64."""
    x = Value([1.0])
    opt = optim.SGD([x], learning_rate=0.1)
    opt.step(lambda: (x * x).sum())
    assert "state.0.velocity" not in opt.state_dict()
    opt.momentum = 0.5
    opt.step(lambda: (x * x).sum())
    np.testing.assert_allclose(x.data, [0.64], rtol=1e-15)


def test_random_search_resumes_its_count_of_proposals():
    """proposals (the changes tried) is part of the state, as accepted is: a resumed optimizer counts on."""
    x = Value([3.0])
    opt = optim.RandomSearch([x], rng=0)
    for _ in range(3):
        opt.step(lambda: (x * x).sum())
    resumed = optim.RandomSearch([x])
    resumed.load_state_dict(opt.state_dict())
    assert (resumed.proposals, resumed.accepted) == (3, opt.accepted)


def test_dir_of_an_optimizer_lists_its_settings_not_pytorchs_names():
    """lr and param_groups exist only to explain themselves: dir() leaves them out and lists learning_rate."""
    names = dir(optim.SGD([Value([1.0])], learning_rate=0.1))
    assert "learning_rate" in names and "step" in names
    assert "lr" not in names and "param_groups" not in names


def test_a_cost_that_is_the_parameter_itself_is_current():
    """C(x) = x: the closure may return the parameter, and cost=x (backpropagated) is then the cost at the current
    point, as step(closure) alone finds (it was called stale: the same creation number was taken for a later
    one); Armijo's t = 1 gives x = 3 − 1 = 2 (2 ≤ 3 − 1e-4)."""
    x = Value(3.0)
    x.backward()
    optim.Armijo([x]).step(lambda: x, cost=x)
    assert x.data == 2.0


@pytest.mark.parametrize("name", ["lr", "learning_rate"])
def test_newton_constructed_with_a_learning_rate_says_it_has_none(name):
    """Not Python's bare "unexpected keyword argument": the error says the Armijo rule chooses every step size."""
    with pytest.raises(TypeError, match=rf"^Newton: there is no argument {name}= here; there is no learning rate"):
        optim.Newton([Value([1.0])], **{name: 0.1})
