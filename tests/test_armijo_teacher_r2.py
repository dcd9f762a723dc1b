"""A teacher of seed sections 6 and 7: gradient descent with the Armijo step-size rule, its stopping rule ‖∇f‖ = 0,
and the x² demonstration at x = 0.1, 0.5, −1, 0.01.

Every expected step is worked out here from the seed's rule (step (ii) of 6.2.1): d = −∇f(x), the largest
t = αˡ, l = 0, 1, 2, …, with f(x + t·d) ≤ f(x) + σ·t·∇f(x)ᵀd, σ, α ∈ ]0, 1[; and from closed forms of f.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tinygrad_edu import Value, cli, fit, optim
from tinygrad_edu.optim import armijo_step, gradient_norm

SEED_POINTS = (0.1, 0.5, -1.0, 0.01)


def _seed_rule(f, x: float, slope: float, sigma: float, alpha: float) -> tuple[float, int]:
    """The seed's step (ii) for a function of one number, with exact comparisons in floats: the largest t = αˡ with
    f(x − t·f′(x)) ≤ f(x) − σ·t·f′(x)²."""
    level = 0
    while f(x - alpha ** level * slope) > f(x) - sigma * alpha ** level * slope * slope:
        level += 1
    return alpha ** level, level


# ------------------------------------------------------------------------------------------------- defects found


def test_armijo_at_a_start_where_the_cost_is_nan_does_not_blame_its_own_steps() -> None:
    """f(x) = √x at x = −1 (outside its domain), before any step: the message put it down to steps that diverged
    and advised a smaller learning rate, which Armijo has not; its search rejects every NaN or infinite trial, so
    its steps never lead to such a cost.  The same through ``cost=``."""
    x = Value([-1.0])
    opt = optim.Armijo([x])
    with np.errstate(all="ignore"):
        with pytest.raises(FloatingPointError) as by_closure:
            opt.step(lambda: (x ** 0.5).sum())
        cost = (x ** 0.5).sum()
        cost.backward()
        with pytest.raises(FloatingPointError) as by_cost:
            opt.step(lambda: (x ** 0.5).sum(), cost=cost)
    for error in (by_closure, by_cost):
        message = str(error.value)
        assert message.startswith("Armijo.step") and "nan" in message
        assert "diverged" not in message and "learning rate" not in message
        assert "start where the cost is finite" in message and "unchanged" in message
    assert x.data.tolist() == [-1.0] and opt.last_step_size is None


def test_armijo_step_never_accepts_a_trial_whose_cost_did_not_fall() -> None:
    """f(x) = (x − 3)² + 1 at x = 3 + 2⁻³⁰: f′(x) = 2⁻²⁹.  By the seed's rule in exact arithmetic t = 1 fails
    (f(3 − 2⁻³⁰) = f(x), above f(x) − σ·2⁻⁵⁸) and t = ½ lands on 3.  In floats f(x) rounds to 1, and so does
    every trial: the step t = 1 was accepted with f(x + t·d) = f(x), jumping to 3 − 2⁻³⁰, and back again the next
    step, for ever, each reported as a success."""
    def f(p):
        return float((p[0] - 3.0) ** 2 + 1.0)

    x, slope = np.array([3.0 + 2.0 ** -30]), np.array([2.0 ** -29])
    found = armijo_step(f, x, slope, sigma=1e-4, alpha=0.5)
    assert found.step is None or found.trials[-1][1] < f(x)


def test_the_seeds_loop_until_the_gradient_is_0_or_no_step_ends_near_a_minimum_far_from_0() -> None:
    """The algorithm of 6.2.1 as a teacher writes it: step until ‖∇f‖ = 0 (1.2) or the step size control finds no
    step.  Each step it reports as made must lower the cost, by the rule at least σ·t·‖∇f‖² > 0."""
    x = Value([3.0 + 2.0 ** -30])
    opt = optim.Armijo([x])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optim.LineSearchWarning)
        for _ in range(20):
            opt.step(lambda: ((x - 3.0) ** 2).sum() + 1.0)
            if opt.last_failed or gradient_norm([x]) == 0:
                break
            assert opt.last_cost < opt.last_cost_before, "a step reported as made did not lower the cost"
        else:
            pytest.fail(f"20 steps and neither ∇f = 0 nor a failed step: x − 3 = {x.data[0] - 3.0:.3g}")


def test_fit_with_armijo_records_no_accepted_step_that_left_the_cost_unchanged() -> None:
    """y = w·x + b on the seed's four points, targets x², from w = ½, b = 0: a first trial step of 1e-300 moves b
    (0 → about 1e-300) but cannot change the cost (about 0.3) in its last digit."""
    inputs = np.array(SEED_POINTS).reshape(-1, 1)
    w, b = Value([[0.5]]), Value([0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optim.LineSearchWarning)  # (the failed step's, once fixed)
        history = fit(lambda rows: rows @ w + b, inputs, inputs ** 2,
                      optimizer=optim.Armijo([w, b], initial_step=1e-300), episodes=3, progress=False)
    costs = [*history.cost, history.final_cost]
    for episode, step in enumerate(history.step_size):
        if step:  # a step reported as accepted: by the seed's condition the cost fell by σ·t·‖∇C‖² > 0
            assert costs[episode + 1] < costs[episode], f"episode {episode + 1}: step {step} left cost {costs[episode]}"
    assert history.stopped == "no descent step"


# ------------------------------------------------------------------------------------------------- guard tests


@pytest.mark.parametrize("x0", SEED_POINTS)
def test_armijo_on_x_squared_at_the_seeds_points_takes_t_one_half_and_then_stops(x0: float) -> None:
    """f(x) = x²: t = 1 lands on −x with the same cost, above f(x) − σ·4x²; t = ½ lands on 0 exactly.  The reports
    are the closed forms (f(x) = x², ∇fᵀd = −4x², cost after 0), and the next step is the seed's STOP at ∇f = 0:
    step size 0, not failed, no warning."""
    t, level = _seed_rule(lambda v: v * v, x0, 2 * x0, 1e-4, 0.5)
    assert (t, level) == (0.5, 1)
    x = Value([x0])
    opt = optim.Armijo([x])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step(lambda: (x * x).sum())
        assert x.data.tolist() == [0.0]
        assert (opt.last_step_size, opt.last_backtracks, opt.last_failed) == (t, level, False)
        assert opt.last_cost_before == x0 * x0 and opt.last_slope == -4 * x0 * x0 and opt.last_cost == 0.0
        assert [trial for trial, _ in opt.last_trials] == [1.0, 0.5]
        opt.step(lambda: (x * x).sum())
    assert x.data.tolist() == [0.0] and opt.last_step_size == 0.0 and not opt.last_failed


@pytest.mark.parametrize(("name", "f", "x0"), [
    ("x⁴", lambda v: v ** 4, 1.0),
    ("(x − 3)²", lambda v: (v - 3.0) ** 2, 0.0),
    ("−x² (unbounded below)", lambda v: -(v * v), 1.0),
    ("−x (unbounded below)", lambda v: -v, 1.0),
    ("|x|", abs, 0.1),
])
def test_armijo_takes_the_seeds_step_on_textbook_functions(name, f, x0) -> None:
    """The first step of Armijo against the seed's rule applied by hand with f′ in closed form: x⁴ from 1 takes
    t = ¼ to 0; (x − 3)² from 0 takes t = ½ to 3; −x² from 1 takes t = 1 to 3 (−9 ≤ −1 − 4σ), −x takes t = 1: an
    f unbounded below is stepped down, never refused."""
    derivative = {"x⁴": 4 * x0 ** 3, "(x − 3)²": 2 * (x0 - 3.0), "−x² (unbounded below)": -2 * x0,
                  "−x (unbounded below)": -1.0, "|x|": np.sign(x0)}[name]
    t, level = _seed_rule(f, x0, derivative, 1e-4, 0.5)
    x = Value([x0])
    opt = optim.Armijo([x])
    opt.step(lambda: f(x).sum())
    assert (opt.last_step_size, opt.last_backtracks, opt.last_failed) == (t, level, False)
    assert x.data[0] == x0 - t * derivative
    assert opt.last_cost == f(x0 - t * derivative) and opt.last_slope == -derivative * derivative


@pytest.mark.parametrize(("f", "x0"), [(lambda v: v * v, 0.0), (lambda v: v * 0.0 + 5.0, 0.7)],
                         ids=["x² at its minimum", "a plateau"])
def test_armijo_at_a_minimum_exactly_and_on_a_plateau_is_the_seeds_stop(f, x0: float) -> None:
    """∇f = 0 (x² at 0, a constant f anywhere): step 1.2 stops; nothing is tried and nothing moves."""
    x = Value([x0])
    opt = optim.Armijo([x])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step(lambda: f(x).sum())
    assert x.data.tolist() == [x0] and opt.last_step_size == 0.0 and not opt.last_failed
    assert opt.last_trials == [] and opt.last_cost == opt.last_cost_before == f(x0)


def test_armijo_step_refuses_an_uphill_direction_and_names_the_slope() -> None:
    """d with ∇f(x)ᵀd > 0: no Armijo step exists in the seed's sense; a ValueError naming ∇f(x)ᵀd, not a search of
    51 trials."""
    with pytest.raises(ValueError, match=r"^armijo_step: direction is no descent direction: ∇f\(x\)ᵀd = 2 > 0"):
        armijo_step(lambda p: float(p @ p), np.array([1.0]), np.array([2.0]), sigma=0.1, alpha=0.5,
                    direction=np.array([1.0]))


def test_fit_with_armijo_on_an_f_unbounded_below_ends_with_no_descent_step(three_seconds) -> None:
    """C(w) = −w² (no minimum): Armijo triples w each episode (t = 1, closed form) until the floats run out; fit
    then stops with "no descent step", within its episodes, and no cost in its history ever rose."""
    inputs = np.array(SEED_POINTS).reshape(-1, 1)
    w = Value([[1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optim.LineSearchWarning)
        history = fit(lambda rows: rows @ w * 0.0 + w.sum(), inputs, inputs ** 2,
                      cost=lambda out, _: -(out * out).mean(), optimizer=optim.Armijo([w]), episodes=2000,
                      progress=False)
    assert history.stopped == "no descent step" and history.episodes < 2000
    assert history.cost[:5] == [-1.0, -9.0, -81.0, -729.0, -6561.0]
    assert all(after <= before for before, after in zip(history.cost, history.cost[1:]))


def test_cli_advice_after_a_tiny_first_armijo_step_says_larger_not_smaller(capsys, tmp_path) -> None:
    """--learning-rate is Armijo's first trial step: at 1e-300 no step changes the cost, so the advice is a
    larger one; at 1e300 every trial raises the cost, so a smaller one."""
    for rate, advice in (("1e-300", "try a larger learning rate than 1e-300"),
                         ("1e300", "try a smaller learning rate than 1e+300")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optim.LineSearchWarning)
            status = cli.main(["train", "--optimizer", "armijo", "--episodes", "2", "--samples", "50",
                               "--learning-rate", rate, "-o", str(tmp_path / "model.npz")])
        out = capsys.readouterr().out
        assert status == 0 and advice in out, out
