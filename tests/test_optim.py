"""Optimizers: each reduces a convex quadratic; Armijo's step obeys the seed's condition; random search
never accepts a worse cost."""

import contextlib
import json
import warnings

import numpy as np
import pytest

from tinygrad_edu import Value, nn, no_grad, optim

# f(x) = ½ xᵀAx − bᵀx with A symmetric positive definite: minimum at A⁻¹b, gradient Ax − b.
A = np.array([[3.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 0.5]])
B = np.array([1.0, -2.0, 0.5])
X_STAR = np.linalg.solve(A, B)


def quadratic(x):
    return 0.5 * x @ A @ x - B @ x


def closure_for(x):
    return lambda: (x @ (A @ x)) * 0.5 - (x * B).sum()


@pytest.mark.filterwarnings("ignore:Armijo.step:RuntimeWarning")  # at x* to float precision it cannot move (below)
@pytest.mark.parametrize("make, steps", [
    (lambda p: optim.GradientDescent(p, learning_rate=0.25), 200),
    (lambda p: optim.SGD(p, learning_rate=0.1, momentum=0.8), 200),
    (lambda p: optim.Adam(p, learning_rate=0.05), 1500),
    (lambda p: optim.Armijo(p), 200),
], ids=["GradientDescent", "SGD", "Adam", "Armijo"])
def test_gradient_methods_reduce_a_convex_quadratic(make, steps):
    x = Value(np.zeros(3))
    opt = make([x])
    start = quadratic(x.data)
    for _ in range(steps):
        cost = opt.step(closure_for(x))
        assert isinstance(cost, Value)
    assert quadratic(x.data) < start
    np.testing.assert_allclose(x.data, X_STAR, atol=1e-3)


def test_random_search_reduces_a_convex_quadratic():
    x = Value(np.zeros(3))
    opt = optim.RandomSearch([x], scale=0.1, rng=0)
    start = quadratic(x.data)
    for _ in range(500):
        opt.step(closure_for(x))
    assert quadratic(x.data) < start - 0.5 * (start - quadratic(X_STAR))
    assert 0 < opt.accepted < opt.proposals == 500


def test_gradient_descent_step_is_x_minus_eta_gradient():
    x = Value(np.array([1.0, -1.0, 2.0]))
    opt = optim.GradientDescent([x], learning_rate=0.1)
    (x * x).sum().backward()  # gradient 2x
    expected = x.data - 0.1 * 2 * x.data
    data_before = x.data
    assert opt.step() is None
    np.testing.assert_allclose(x.data, expected)
    assert x.data is data_before  # updated in place
    assert opt.last_step_size == 0.1


def test_step_with_a_closure_computes_the_gradient_itself():
    x = Value(np.array([1.0, 2.0]))
    opt = optim.GradientDescent([x], learning_rate=0.5)
    x.grad = np.array([100.0, 100.0])  # stale: must be cleared, not added to
    opt.step(lambda: (x * x).sum())
    np.testing.assert_allclose(x.data, [0.0, 0.0])


def test_sgd_momentum_and_adam_follow_their_formulas():
    x = Value(np.array([1.0, -2.0]))
    sgd = optim.SGD([x], learning_rate=0.1, momentum=0.9)
    g1 = np.array([0.5, 1.0])
    x.grad = g1.copy()
    sgd.step()
    x.grad = g1.copy()
    sgd.step()  # v = 0.9·g + g
    np.testing.assert_allclose(x.data, np.array([1.0, -2.0]) - 0.1 * g1 - 0.1 * 1.9 * g1)

    y = Value(np.array([1.0, -2.0]))
    adam = optim.Adam([y], learning_rate=0.01, eps=1e-8)
    y.grad = np.array([0.3, -4.0])
    adam.step()  # first step: m̂ = g, v̂ = g², so the step is η·g/(|g| + ε)
    np.testing.assert_allclose(y.data, [1.0 - 0.01 * 0.3 / (0.3 + 1e-8), -2.0 + 0.01 * 4.0 / (4.0 + 1e-8)])


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, 0.1, momentum=0.9), lambda ps: optim.Adam(ps, 0.1)],
                         ids=["SGD", "Adam"])
def test_zero_grad_set_to_none_false_trains_as_pytorch_loops_write_it(make):
    """optimizer.zero_grad(set_to_none=False), from PyTorch code, was a TypeError; the zeros it leaves are added to
    by the next backward(), so training goes exactly as with the default."""
    results = []
    for set_to_none in (True, False):
        w, unused = Value([1.0, -2.0]), Value([5.0])
        opt = make([w, unused])
        for _ in range(3):
            opt.zero_grad(set_to_none=set_to_none)
            ((w * w).sum() + w[0]).backward()  # ∂/∂w = 2w + (1, 0)
            opt.step()
        if not set_to_none:
            opt.zero_grad(set_to_none=False)
            assert w.grad.tolist() == [0.0, 0.0] and unused.grad is None  # no gradient yet: left None, as PyTorch
        results.append(w.data.tolist())
    assert results[0] == results[1]
    with pytest.raises(TypeError, match="zero_grad: set_to_none must be True or False, got int 0"):
        optim.SGD([Value(1.0)], 0.1).zero_grad(set_to_none=0)


def test_parameters_without_gradient_are_left_alone():
    a, b = Value([1.0, 2.0]), Value([3.0])
    for opt in (optim.GradientDescent([a, b], 0.1), optim.SGD([a, b], 0.1, momentum=0.5),
                optim.Adam([a, b], 0.1)):
        opt.zero_grad()
        (a * a).sum().backward()
        opt.step()
        np.testing.assert_array_equal(b.data, [3.0])
    armijo = optim.Armijo([a, b])
    armijo.step(lambda: (a * a).sum())
    np.testing.assert_array_equal(b.data, [3.0])


def test_optimizers_accept_a_module_and_deduplicate():
    net = nn.MLP([2, 3, 1], rng=0)
    assert len(optim.GradientDescent(net, 0.1).params) == 4
    assert len(optim.Adam(net.parameters() + net.parameters()).params) == 4
    with pytest.raises(ValueError, match="no parameters"):
        optim.GradientDescent([], 0.1)
    with pytest.raises(TypeError, match="Value"):
        optim.GradientDescent([np.zeros(2)], 0.1)


@pytest.mark.parametrize("make, pattern", [
    (lambda p: optim.Armijo(p, sigma=0.0), "sigma"),
    (lambda p: optim.Armijo(p, sigma=1.0), "sigma"),
    (lambda p: optim.Armijo(p, alpha=1.5), "alpha"),
    (lambda p: optim.Armijo(p, alpha=0), "alpha"),
    (lambda p: optim.Armijo(p, initial_step=0), "initial_step"),
    (lambda p: optim.Armijo(p, max_backtracks=-1), "max_backtracks"),
    (lambda p: optim.GradientDescent(p, learning_rate=-0.1), "learning_rate"),
    (lambda p: optim.GradientDescent(p, learning_rate=float("nan")), "learning_rate"),
    (lambda p: optim.SGD(p, learning_rate=0.1, momentum=1.0), "momentum"),
    (lambda p: optim.Adam(p, betas=(0.9, 1.0)), "betas"),
    (lambda p: optim.Adam(p, eps=0), "eps"),
    (lambda p: optim.RandomSearch(p, scale=0), "scale"),
], ids=lambda case: case if isinstance(case, str) else "")
def test_invalid_hyperparameters_are_rejected_at_construction(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make([Value([1.0])])


@pytest.mark.parametrize("make, message", [
    (lambda p: optim.GradientDescent(p, learning_rate="0.1"), "GradientDescent: learning_rate must be a number"),
    (lambda p: optim.SGD(p, learning_rate=0.1, momentum=None), "SGD: momentum must be a number, got NoneType"),
    (lambda p: optim.Armijo(p, max_backtracks=2.0), "Armijo: max_backtracks must be an integer, got float"),
    (lambda p: optim.Newton(p, damping=True), "Newton: damping must be a number, got bool"),
], ids=["learning_rate", "momentum", "max_backtracks", "damping"])
def test_hyperparameters_of_the_wrong_type_are_a_type_error(make, message):
    with pytest.raises(TypeError, match=f"^{message}"):
        make([Value([1.0])])


# --- Armijo (seed 6.2.1, step (ii)) -------------------------------------------------------------------------

def _stiff(x):
    """f(x) = Σ c_i x_i² with large curvature, so that the full step t = 1 overshoots."""
    return lambda: (x * x * np.array([40.0, 3.0])).sum()


@pytest.mark.parametrize("sigma, alpha, initial_step", [(1e-4, 0.5, 1.0), (0.3, 0.8, 2.0), (0.5, 0.1, 1.0)])
def test_armijo_accepts_the_first_step_that_satisfies_the_condition(sigma, alpha, initial_step):
    x = Value(np.array([1.0, -2.0]))
    opt = optim.Armijo([x], sigma=sigma, alpha=alpha, initial_step=initial_step)

    def f(point):  # recomputed here, in numpy
        return float(np.sum(point * point * np.array([40.0, 3.0])))

    for _ in range(5):
        x0 = x.data.copy()
        grad = 2 * np.array([40.0, 3.0]) * x0
        d = -grad
        opt.step(_stiff(x))
        t, tries = opt.last_step_size, opt.last_backtracks
        assert t == pytest.approx(initial_step * alpha ** tries, rel=1e-15)
        assert f(x0 + t * d) <= f(x0) + sigma * t * grad @ d  # the accepted step satisfies it
        np.testing.assert_array_equal(x.data, x0 + t * d)
        if tries > 0:  # ... and the step before it (t/α) did not
            assert f(x0 + (t / alpha) * d) > f(x0) + sigma * (t / alpha) * grad @ d
        assert [s for s, _ in opt.last_trials] == pytest.approx([initial_step * alpha ** k for k in range(tries + 1)])
        assert opt.last_cost == pytest.approx(f(x0 + t * d))
        assert opt.last_slope == pytest.approx(grad @ d)
    assert opt.last_backtracks is not None


def test_armijo_backtracks_on_a_stiff_function():
    x = Value(np.array([1.0, -2.0]))
    opt = optim.Armijo([x])
    opt.step(_stiff(x))
    assert opt.last_backtracks >= 5  # curvature 80 needs t ≤ 1/80 roughly


def test_armijo_never_increases_the_cost_of_a_network():
    rng = np.random.default_rng(0)
    inputs, targets = rng.uniform(-1, 1, (40, 2)), rng.uniform(0, 1, (40, 1))
    net = nn.MLP([2, 6, 1], activation="sigmoid", init="uniform", rng=1)
    opt = optim.Armijo(net, initial_step=8.0)

    def cost():
        diff = net(inputs) - targets
        return (diff * diff).sum() * (1 / 40)

    costs = [cost().item()]
    for _ in range(60):
        opt.step(cost)
        costs.append(cost().item())
        assert costs[-1] == opt.last_cost
    assert all(after <= before for before, after in zip(costs, costs[1:], strict=False))
    assert costs[-1] < costs[0]


def test_armijo_without_a_good_step_changes_nothing_and_warns():
    x = Value(np.array([1.0, -2.0]))
    opt = optim.Armijo([x], initial_step=10.0, max_backtracks=2)
    x0 = x.data.copy()
    with pytest.warns(RuntimeWarning, match="unchanged"):
        opt.step(_stiff(x))
    np.testing.assert_array_equal(x.data, x0)
    assert opt.last_failed and opt.last_step_size == 0.0 and len(opt.last_trials) == 3


def test_armijo_at_a_stationary_point_stays():
    x = Value(np.zeros(2))
    opt = optim.Armijo([x])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step(_stiff(x))
    assert opt.last_step_size == 0.0 and not opt.last_failed
    np.testing.assert_array_equal(x.data, [0.0, 0.0])


def test_armijo_uses_a_given_cost_and_its_gradients():
    x = Value(np.array([1.0, 1.0]))
    opt = optim.Armijo([x])
    cost = (x * x).sum()
    cost.backward()
    calls = []

    def closure():
        calls.append(1)
        return (x * x).sum()

    opt.step(closure, cost=cost)
    assert len(calls) == opt.last_backtracks + 1  # only the trial steps were evaluated
    with pytest.raises(TypeError, match="closure"):
        opt.step()


def test_an_interrupt_during_a_trial_restores_the_parameters():
    x = Value(np.array([1.0, -2.0]))
    x0 = x.data.copy()
    calls = []

    def closure():
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return _stiff(x)()

    for opt in (optim.Armijo([x]), optim.RandomSearch([x], rng=0)):
        calls.clear()
        with pytest.raises(KeyboardInterrupt):
            for _ in range(3):
                opt.step(closure)
        if isinstance(opt, optim.Armijo):
            np.testing.assert_array_equal(x.data, x0)


# --- random search (seed section 5) ------------------------------------------------------------------------

def test_random_search_never_accepts_a_worse_cost_and_restores_exactly():
    rng = np.random.default_rng(3)
    inputs = rng.uniform(-1, 1, (50, 1))
    net = nn.MLP([1, 4, 1], activation="sigmoid", rng=0)
    opt = optim.RandomSearch(net, scale=0.5, rng=1)

    def cost():
        diff = net(inputs) - inputs**2
        return (diff * diff).sum() * (1 / 50)

    rejected = 0
    for _ in range(80):
        before_params = [p.data.copy() for p in net.parameters()]
        before = cost().item()
        opt.step(cost)
        after = cost().item()
        assert after <= before
        if opt.last_accepted:
            assert after < before and opt.last_cost == after
        else:
            rejected += 1
            for p, old in zip(net.parameters(), before_params, strict=True):
                np.testing.assert_array_equal(p.data, old)
    assert rejected > 0 and opt.accepted == 80 - rejected and opt.proposals == 80


def test_random_search_changes_are_uniform_in_minus_scale_to_scale():
    x = Value(np.zeros(2000))
    opt = optim.RandomSearch([x], scale=0.3, rng=0)
    opt.step(lambda: float(not np.any(x.data)))  # a cost of 1 at 0 and of 0 anywhere else: any change is kept
    assert opt.last_accepted
    assert -0.3 <= x.data.min() < -0.29 and 0.29 < x.data.max() < 0.3


def test_gradient_norm_is_the_norm_of_all_gradients():
    a, b, c = Value([3.0]), Value([[1.0, 2.0]]), Value([5.0])
    a.grad, b.grad = np.array([3.0]), np.array([[4.0, 12.0]])
    assert optim.gradient_norm([a, b, c]) == pytest.approx(13.0)


@pytest.mark.parametrize("make", [lambda p: optim.GradientDescent(p, 0.1), lambda p: optim.SGD(p, 0.1, 0.9),
                                  lambda p: optim.Adam(p, 0.1)], ids=["gd", "sgd", "adam"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_non_finite_gradient_raises_and_changes_nothing(make, bad):
    x, y = Value([1.0, 2.0]), Value([[3.0]])
    opt = make([x, y])
    x.grad, y.grad = np.array([0.5, bad]), np.array([[1.0]])
    with pytest.raises(FloatingPointError, match=type(opt).__name__):
        opt.step()
    assert x.data.tolist() == [1.0, 2.0] and y.data.tolist() == [[3.0]]


# --- one Armijo search (seed 6.2.1), shared with the plots ---------------------------------------------------

def test_armijo_step_is_a_pure_search_that_may_find_nothing():
    def f(point):  # f(p) = p·p, but the "gradient" below points uphill: no step can satisfy the condition
        return float(point @ point)

    x = np.array([1.0, -2.0])
    found = optim.armijo_step(f, x, -2 * x, sigma=1e-4, alpha=0.5, max_backtracks=4)
    assert found.step is None and [t for t, _ in found.trials] == [1.0, 0.5, 0.25, 0.125, 0.0625]
    assert x.tolist() == [1.0, -2.0]
    found = optim.armijo_step(f, x, 2 * x, sigma=0.5, alpha=0.5, fx=5.0)
    # φ(t) = 5(1 − 2t)²: t = 1 gives 5 > 5 − 0.5·1·20 = −5; t = ½ gives 0 ≤ 0
    assert found.step == 0.5 and found.trials == [(1.0, 5.0), (0.5, 0.0)]


# --- PyTorch habits and wrong types get messages that say what to do ----------------------------------------

@pytest.mark.parametrize("make, word", [
    (lambda p: optim.SGD(p, lr=0.1), "learning_rate="),
    (lambda p: optim.GradientDescent(p, lr=0.1), "learning_rate="),
    (lambda p: optim.Adam(p, lr=0.01), "learning_rate="),
    (lambda p: optim.Armijo(p, lr=1.0), "initial_step="),
    (lambda p: optim.RandomSearch(p, lr=0.1), "scale="),
], ids=["SGD", "GradientDescent", "Adam", "Armijo", "RandomSearch"])
def test_lr_says_which_word_to_use(make, word):
    with pytest.raises(TypeError, match=f"no argument lr=.*{word}"):
        make([Value([1.0])])


@pytest.mark.parametrize("make", [lambda p: optim.GradientDescent(p, 0.1), lambda p: optim.SGD(p, 0.1),
                                  lambda p: optim.Adam(p), lambda p: optim.Armijo(p),
                                  lambda p: optim.RandomSearch(p, rng=0)],
                         ids=["gd", "sgd", "adam", "armijo", "random"])
def test_step_with_wrong_types_is_a_named_type_error(make):
    x = Value([1.0, 2.0])
    opt = make([x])
    name = type(opt).__name__
    with pytest.raises(TypeError, match=f"{name}.step: the closure must be a function.*int"):
        opt.step(5)
    with pytest.raises(TypeError, match=f"{name}.step: cost= must be .*str"):
        opt.step(lambda: (x * x).sum(), cost="high")
    with pytest.raises(TypeError, match=f"{name}.step: cost= must be .*Value"):
        opt.step(lambda: (x * x).sum(), cost=x)  # a Value of size 2 is not a cost
    assert x.data.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("dtype, scale", [(np.float64, 1e308), (np.float32, 2e38), (np.float64, float("inf"))])
def test_random_search_refuses_a_scale_it_cannot_draw(dtype, scale):
    with pytest.raises(ValueError, match="RandomSearch: scale"):
        optim.RandomSearch([Value(np.zeros(2, dtype=dtype))], scale=scale, rng=0)
    x = Value(np.zeros(2, dtype=dtype))
    opt = optim.RandomSearch([x], scale=float(np.finfo(dtype).max) / 4, rng=0)
    with np.errstate(over="ignore"):
        opt.step(lambda: (x * x).sum())  # the largest allowed scale draws without an error


@pytest.mark.parametrize("make", [
    lambda p: optim.GradientDescent(p, learning_rate=0.25),
    lambda p: optim.SGD(p, learning_rate=0.1, momentum=0.8),
    lambda p: optim.Adam(p, learning_rate=0.05),
    lambda p: optim.Armijo(p),
], ids=["GradientDescent", "SGD", "Adam", "Armijo"])
def test_a_step_after_backward_with_create_graph_is_the_same_step(make):
    """After backward(create_graph=True) every .grad is a Value; steps and ‖∇f‖ use its numbers, as PyTorch's do."""
    plain, recorded = Value(np.array([1.0, -2.0, 0.5])), Value(np.array([1.0, -2.0, 0.5]))
    optimizers = {id(x): make([x]) for x in (plain, recorded)}
    for _ in range(3):
        expected_norm = np.linalg.norm(A @ plain.data - B)  # ∇f = Ax − b
        for x, create_graph in ((plain, False), (recorded, True)):
            closure = closure_for(x)
            cost = closure()
            x.zero_grad()
            cost.backward(create_graph=create_graph)
            assert optim.gradient_norm([x]) == pytest.approx(expected_norm, rel=1e-14)
            optimizers[id(x)].step(closure, cost=cost)
        np.testing.assert_array_equal(recorded.data, plain.data)


# --- Adam counts the steps of each parameter, as PyTorch does ------------------------------------------------

def _adam_by_hand(gradients, start, learning_rate, betas=(0.9, 0.999), eps=1e-8):
    """Adam's closed form for one parameter, from its own gradients (None: no gradient, no step, no count)."""
    x, m, v, k = np.array(start, dtype=float), 0.0, 0.0, 0
    for g in gradients:
        if g is not None:
            k += 1
            m, v = betas[0] * m + (1 - betas[0]) * g, betas[1] * v + (1 - betas[1]) * g * g
            x = x - learning_rate * (m / (1 - betas[0] ** k)) / (np.sqrt(v / (1 - betas[1] ** k)) + eps)
        yield x


def _late_parameter_run():
    """a has a gradient in all four steps; b only from step 3 on (the cost 3b² joins then)."""
    a, b = Value([1.0, 2.0]), Value([0.5])
    opt = optim.Adam([a, b], learning_rate=0.1)
    seen = []
    for k in range(4):
        opt.step(lambda k=k: (a * a).sum() if k < 2 else (a * a).sum() + (b * b * 3.0).sum())
        seen.append((a.data.copy(), b.data.copy()))
    return seen


def test_adam_bias_corrects_each_parameter_by_its_own_step_count():
    seen = _late_parameter_run()
    a_by_hand = list(_adam_by_hand([2 * seen[k - 1][0] if k else np.array([2.0, 4.0]) for k in range(4)],
                                   [1.0, 2.0], 0.1))
    b_by_hand = list(_adam_by_hand([None, None, 6 * 0.5, 6 * seen[2][1]], [0.5], 0.1))
    for (a, b), a_expected, b_expected in zip(seen, a_by_hand, b_by_hand, strict=True):
        np.testing.assert_allclose(a, a_expected, rtol=1e-12)
        np.testing.assert_allclose(b, b_expected, rtol=1e-12)
    assert seen[2][1][0] == pytest.approx(0.5 - 0.1, abs=1e-8)  # b's first step is η·sign(g), at step 3 too


def test_an_adam_step_without_gradients_counts_for_nothing():
    x = Value([1.0, -2.0])
    opt = optim.Adam([x], learning_rate=0.1)
    with pytest.warns(RuntimeWarning, match="no parameter has a gradient, so the step changes nothing"):
        opt.step()  # no gradient yet: nothing moves, nothing is counted
    np.testing.assert_array_equal(x.data, [1.0, -2.0])
    x.grad = np.array([0.3, -4.0])
    opt.step()
    np.testing.assert_allclose(x.data, [1.0 - 0.1 * 0.3 / (0.3 + 1e-8), -2.0 + 0.1 * 4.0 / (4.0 + 1e-8)])


def test_adam_with_a_late_parameter_matches_pytorch():
    torch = pytest.importorskip("torch")
    a, b = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True), torch.tensor(
        [0.5], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([a, b], lr=0.1)
    for k, (a_ours, b_ours) in enumerate(_late_parameter_run()):
        opt.zero_grad()
        ((a * a).sum() if k < 2 else (a * a).sum() + (b * b * 3.0).sum()).backward()
        opt.step()
        np.testing.assert_allclose(a_ours, a.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(b_ours, b.detach().numpy(), rtol=1e-12)


# --- armijo_step checks its arguments --------------------------------------------------------------------------

def _square(point):
    return float(np.dot(point, point))


@pytest.mark.parametrize("change, error, pattern", [
    ({"alpha": 0}, ValueError, r"alpha must lie in \(0, 1\), got 0"),
    ({"alpha": 2}, ValueError, "alpha must lie in"),
    ({"sigma": -1}, ValueError, "sigma must lie in"),
    ({"sigma": 1.0}, ValueError, "sigma must lie in"),
    ({"initial_step": 0.0}, ValueError, "initial_step must be > 0"),
    ({"max_backtracks": 2.5}, TypeError, "max_backtracks must be an integer, got float 2.5"),
    ({"max_backtracks": -1}, ValueError, "max_backtracks must be an integer >= 0, got -1"),
    ({"gradient": np.array([2.0])}, ValueError, r"gradient must have the shape of x, \(2,\), got \(1,\)"),
    ({"direction": np.ones((2, 1))}, ValueError, "direction must have the shape of x"),
    ({"gradient": np.array([np.nan, 1.0])}, ValueError, "gradient holds NaN or inf"),
    ({"x": "ab"}, TypeError, "x must be an array of numbers, got str"),
    ({"x": [[1.0], [2.0, 3.0]]}, TypeError, "x must be an array of numbers, got list"),
    ({"fx": float("inf")}, ValueError, "fx must be finite"),
    ({"fx": "5"}, TypeError, "fx must be a number"),
    ({"f": 3}, TypeError, "f must be a function"),
    ({"f": lambda p: float("nan")}, ValueError, "f\\(x\\) must be finite"),
], ids=["alpha0", "alpha2", "sigma-1", "sigma1", "initial_step0", "backtracks2.5", "backtracks-1", "gradient_shape",
        "direction_shape", "gradient_nan", "x_str", "x_ragged", "fx_inf", "fx_str", "f_int", "f_nan"])
def test_armijo_step_names_a_bad_argument(change, error, pattern):
    arguments = {"f": _square, "x": np.array([1.0, -2.0]), "gradient": np.array([2.0, -4.0]), "sigma": 0.25,
                 "alpha": 0.5, **change}
    with pytest.raises(error, match=f"^armijo_step: {pattern}"):
        optim.armijo_step(arguments.pop("f"), arguments.pop("x"), arguments.pop("gradient"), **arguments)


def test_armijo_step_trials_that_underflow_are_ordinary_under_a_callers_errstate_raise():
    """An underflow in a trial (e^(−640000) is just 0) raised numpy's bare FloatingPointError when the caller had set
    np.errstate(all="raise"), though the search silences numpy's floating-point complaints about its trials."""
    f = lambda p: float(np.exp(800.0 * p[0]))  # noqa: E731
    with np.errstate(all="raise"):
        found = optim.armijo_step(f, np.array([0.0]), np.array([800.0]), sigma=1e-4, alpha=0.5)
    assert found.step is not None and found.trials[0] == (1.0, 0.0)


def test_armijo_step_takes_lists_as_points():
    as_lists = optim.armijo_step(_square, [1.0, -2.0], [2.0, -4.0], sigma=0.25, alpha=0.5)
    as_arrays = optim.armijo_step(_square, np.array([1.0, -2.0]), np.array([2.0, -4.0]), sigma=0.25, alpha=0.5)
    assert as_lists == as_arrays and as_lists.step == 0.5


def test_a_trial_with_an_infinite_cost_is_rejected():
    def f(point):  # -inf far out (an overflow), the square near x
        return -np.inf if abs(point[0]) > 2 else float(point @ point)

    found = optim.armijo_step(f, np.array([1.0]), np.array([2.0]), sigma=0.25, alpha=0.5, initial_step=4.0)
    assert found.trials[0] == (4.0, -np.inf) and found.step == 0.5


def test_armijo_with_a_huge_initial_step_gives_only_its_own_warning():
    x = Value([1.0, -2.0])
    opt = optim.Armijo([x], initial_step=1e300)
    with pytest.warns(RuntimeWarning) as caught:
        opt.step(lambda: (x * x).sum())  # every trial overflows to inf
    assert [str(w.message)[:12] for w in caught] == ["Armijo.step:"]
    assert opt.last_failed and x.data.tolist() == [1.0, -2.0]


# --- parameters are leaves -------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda p: optim.GradientDescent(p, 0.1), lambda p: optim.SGD(p, 0.1),
                                  lambda p: optim.Adam(p), lambda p: optim.Armijo(p), lambda p: optim.Newton(p),
                                  lambda p: optim.RandomSearch(p, rng=0)],
                         ids=["gd", "sgd", "adam", "armijo", "newton", "random"])
def test_a_value_computed_by_an_operation_is_no_parameter(make):
    a = Value([1.0, 2.0])
    b = a * 2.0
    with pytest.raises(ValueError, match=r"parameter 1 \(shape \(2,\)\) is the result of an operation \(mul\).*"
                                         r"leaves.*the Values it was computed from"):
        make([a, b])
    assert a.data.tolist() == [1.0, 2.0] and b.data.tolist() == [2.0, 4.0]


@pytest.mark.parametrize("make", [lambda p: optim.GradientDescent(p, 0.1), lambda p: optim.SGD(p, 0.1, momentum=0.5),
                                  lambda p: optim.Adam(p), lambda p: optim.Armijo(p), lambda p: optim.Newton(p),
                                  lambda p: optim.RandomSearch(p, scale=1.0, rng=0)],
                         ids=["gd", "sgd", "adam", "armijo", "newton", "random"])
def test_a_step_makes_the_cost_computed_before_it_stale(make):
    """The classic slip: the cost computed once, then backward() and step() in a loop.  After the first step the
    graph holds old activations and new weights; its backward would be the gradient at no point: refused."""
    w = Value([1.0, -2.0], label="w")
    opt = make([w])

    def closure():
        return ((w * w - 1.0) ** 2).sum()

    cost = closure()
    cost.backward()
    opt.step(closure, cost=cost)
    before = w.data.copy()
    opt.zero_grad()
    with pytest.raises(ValueError, match=r"backward: the graph is stale: 'w' was changed in place"):
        cost.backward()
    assert w.grad is None and np.array_equal(w.data, before)
    closure().backward()  # the loop done right: a new forward pass each time
    assert w.grad is not None


# --- large float32 gradients are finite; messages say what is wrong --------------------------------------------

def test_the_norm_of_a_large_float32_gradient_is_finite():
    x = Value(np.ones(2, dtype=np.float32))
    x.grad = np.array([2e19, 2e19], dtype=np.float32)  # its squares exceed float32
    assert optim.gradient_norm([x]) == pytest.approx(2e19 * np.sqrt(2), rel=1e-6)
    assert optim.gradient_norm([]) == 0.0  # the norm of an empty vector


@pytest.mark.parametrize("make", [lambda p: optim.GradientDescent(p, 1e-30), lambda p: optim.SGD(p, 1e-30)],
                         ids=["gd", "sgd"])
def test_a_large_finite_float32_gradient_is_no_false_alarm(make):
    x = Value(np.ones(2, dtype=np.float32))
    opt = make([x])
    x.grad = np.array([3e38, 3e38], dtype=np.float32)  # finite; their sum is not
    opt.step()
    np.testing.assert_allclose(x.data, 1 - 1e-30 * 3e38, rtol=1e-6)


def test_armijo_steps_with_a_large_float32_gradient():
    x = Value(np.array([1.0, -1.0], dtype=np.float32))
    opt = optim.Armijo([x])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the trials t = 1 and ½ overflow float32: rejected, silently
        opt.step(lambda: (x * np.float32(2e19)).sum())  # ∇ = [2e19, 2e19]: ‖∇‖² = 8e38 exceeds float32
    assert opt.last_slope == pytest.approx(-8e38, rel=1e-6)
    assert [t for t, _ in opt.last_trials] == [1.0, 0.5, 0.25]
    assert x.data.tolist() == pytest.approx([1 - 0.25 * 2e19, -1 - 0.25 * 2e19], rel=1e-6)


def test_newton_says_its_closure_must_return_a_value_of_size_one():
    p = Value([1.0, 2.0])
    with pytest.raises(TypeError, match=r"Newton.step: the closure must return the cost as a Value of size 1 that "
                                        r"depends on the parameters.*got Value \(2,\)"):
        optim.Newton([p]).step(lambda: p * p)


def test_newton_names_no_learning_rate_it_does_not_have():
    """Newton has no step size to set (the Armijo rule chooses it): lr= must not point to a learning_rate=."""
    with pytest.raises(TypeError, match="lr") as raised:
        optim.Newton([Value([1.0])], lr=0.1)
    assert "learning_rate" not in str(raised.value)


def test_newton_ignores_old_gradients_of_parameters_the_cost_does_not_reach():
    used, unused = Value([3.0]), Value([5.0, -2.0])
    (unused * unused).sum().backward()  # an earlier cost left a gradient in the unused parameter
    optim.Newton([used, unused], damping=1e-3).step(lambda: ((used - 1.0) ** 2).sum())
    assert unused.data.tolist() == [5.0, -2.0]
    assert unused.grad.tolist() == [0.0, 0.0]
    assert used.data[0] == pytest.approx(1.0, abs=1e-2)


# --- state_dict / load_state_dict: resuming training exactly --------------------------------------------------

INPUTS = np.linspace(-1.0, 1.0, 8).reshape(-1, 1)


def _network(seed):
    return nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=seed)


def _train(opt, network, steps):
    for _ in range(steps):
        opt.step(lambda: ((network(INPUTS) - INPUTS ** 2) ** 2).mean())


def _assert_same_state(state, expected):
    assert sorted(state) == sorted(expected)
    for key, value in expected.items():
        assert state[key].dtype == value.dtype, key
        np.testing.assert_array_equal(state[key], value, err_msg=key)


def _set(**settings):
    return lambda opt: [setattr(opt, name, value) for name, value in settings.items()]


RESUMABLE = {  # a factory (parameters, seed) and settings changed after construction, which must come back too
    "GradientDescent": (lambda p, seed: optim.GradientDescent(p, learning_rate=0.1), _set(learning_rate=0.3)),
    "SGD": (lambda p, seed: optim.SGD(p, learning_rate=0.1, momentum=0.9), _set(learning_rate=0.05, momentum=0.5)),
    "Adam": (lambda p, seed: optim.Adam(p, learning_rate=0.01), _set(learning_rate=0.02, betas=(0.8, 0.9))),
    "Armijo": (lambda p, seed: optim.Armijo(p), _set(sigma=0.4, initial_step=4.0)),
    "RandomSearch": (lambda p, seed: optim.RandomSearch(p, rng=seed), _set(scale=0.3)),
    "RandomSearch-MT19937": (lambda p, seed: optim.RandomSearch(p, rng=np.random.Generator(np.random.MT19937(seed))),
                             _set(scale=0.3)),
    "Newton": (lambda p, seed: optim.Newton(p, damping=1e-3), _set(damping=0.5, alpha=0.8)),
}


@pytest.mark.parametrize("through_a_file", [False, True], ids=["dict", "npz"])
@pytest.mark.parametrize("name", RESUMABLE)
def test_a_loaded_state_resumes_training_bit_for_bit(name, through_a_file, tmp_path):
    make, change_settings = RESUMABLE[name]
    network = _network(0)
    opt = make(network, 0)
    _train(opt, network, 2)
    change_settings(opt)
    _train(opt, network, 2)
    saved, saved_network = opt.state_dict(), network.state_dict()
    if through_a_file:
        np.savez(tmp_path / "optimizer.npz", **saved)
        saved = np.load(tmp_path / "optimizer.npz", allow_pickle=False)
    _train(opt, network, 3)

    resumed_network = _network(1)  # other weights, another seed: all of it must come from the saved states
    resumed_network.load_state_dict(saved_network)
    resumed = make(resumed_network, 1)
    resumed.load_state_dict(saved)
    if not through_a_file:  # the optimizer keeps copies: changing the dict afterwards changes nothing
        for value in saved.values():
            if value.dtype.kind in "fiu":
                value[...] = 0
    _train(resumed, resumed_network, 3)
    _assert_same_state(resumed_network.state_dict(), network.state_dict())
    _assert_same_state(resumed.state_dict(), opt.state_dict())


def _adam_pair(learning_rate, steps, late_steps):
    """Adam over a (2,) and b (1,); b has a gradient only in the last ``late_steps`` steps."""
    a, b = Value([1.0, 2.0]), Value([0.5])
    opt = optim.Adam([a, b], learning_rate=learning_rate)
    for k in range(steps):
        opt.step(lambda k=k: (a * a).sum() + ((b * b * 3.0).sum() if k >= steps - late_steps else 0.0))
    return opt


def _random_search(scale, seed, steps):
    x = Value([1.0, -1.0])
    opt = optim.RandomSearch([x], scale=scale, rng=seed)
    for _ in range(steps):
        opt.step(lambda: (x * x).sum())
    return opt


def _replace(key, value):
    return lambda state: {**state, key: value}


def _without(key):
    return lambda state: {k: v for k, v in state.items() if k != key}


BAD_ADAM_STATES = {
    "not a mapping": (lambda s: list(s.items()), TypeError, "expected a mapping"),
    "another optimizer": (_replace("optimizer", np.array("SGD")), ValueError, "'optimizer' is 'SGD'"),
    "an SGD's state": (lambda s: optim.SGD([Value([1.0, 2.0]), Value([0.5])], learning_rate=0.1).state_dict(),
                       ValueError, "'optimizer' is 'SGD'"),
    "other parameter count": (_replace("parameter_count", np.array(3)), ValueError, "'parameter_count' is 3"),
    # of the right size but not a count: "is 2.0, but this optimizer has 2 parameters" contradicted itself
    "a float parameter count": (_replace("parameter_count", np.array(2.0)), ValueError,
                                r"'parameter_count' must be a 0-d int array, got float64 of shape \(\)"),
    "a parameter count in a list": (_replace("parameter_count", np.array([2])), ValueError,
                                    r"'parameter_count' must be a 0-d int array, got int64 of shape \(1,\)"),
    "a setting missing": (_without("eps"), ValueError, "missing 'eps'"),
    "part of a parameter's state missing": (_without("state.1.step_count"), ValueError,
                                            "missing 'state.1.step_count'"),
    "an extra setting": (_replace("momentum", np.array(0.9)), ValueError, "unexpected 'momentum'"),
    "a state for no parameter": (_replace("state.2.step_count", np.array(1)), ValueError,
                                 "unexpected 'state.2.step_count'"),
    "a number, not an array": (_replace("learning_rate", 0.1), TypeError, "'learning_rate' must be a numpy array"),
    "a negative learning rate": (_replace("learning_rate", np.array(-1.0)), ValueError, "learning_rate must be >= 0"),
    "a text learning rate": (_replace("learning_rate", np.array("fast")), ValueError,
                             "learning_rate must be a number"),
    "a beta of 1.5": (_replace("betas", np.array([0.9, 1.5])), ValueError, r"betas\[1\] must lie in \[0, 1\)"),
    "one beta": (_replace("betas", np.array(0.9)), ValueError, r"'betas' must have shape \(2,\)"),
    "a wrong shape": (_replace("state.0.gradient_average", np.zeros(3)), ValueError,
                      r"'state.0.gradient_average' must have the shape \(2,\) and dtype float64"),
    "a wrong dtype": (_replace("state.0.gradient_average", np.zeros(2, np.float32)), ValueError,
                      "'state.0.gradient_average' must have the shape"),
    "a NaN average": (_replace("state.1.gradient_average", np.array([np.nan])), ValueError,
                      "'state.1.gradient_average' must hold finite numbers"),
    "a negative square average": (_replace("state.1.squared_gradient_average", np.array([-1.0])), ValueError,
                                  r"'state.1.squared_gradient_average' must hold numbers >= 0 \(inf allowed\)"),
    "a NaN square average": (_replace("state.1.squared_gradient_average", np.array([np.nan])), ValueError,
                             "'state.1.squared_gradient_average' must hold numbers >= 0"),
    "a step count of 0": (_replace("state.0.step_count", np.array(0)), ValueError,
                          "'state.0.step_count' must be a step count"),
    "a float step count": (_replace("state.0.step_count", np.array(2.0)), ValueError,
                           "'state.0.step_count' must be a step count"),
}

MT19937_STATE = np.array(json.dumps(np.random.MT19937(0).state, default=lambda key: key.tolist()))
BAD_RANDOM_SEARCH_STATES = {
    "another generator": (_replace("rng", MT19937_STATE), ValueError, "'rng' is no state of a PCG64"),
    "a generator state cut short": (lambda s: {**s, "rng": np.array(str(s["rng"])[:-9])}, ValueError,
                                    "'rng' is no state of a PCG64"),
    "a generator state as numbers": (_replace("rng", np.arange(4)), ValueError, "'rng' is no state of a PCG64"),
    "a negative count": (_replace("accepted", np.array(-1)), ValueError, "'accepted' must be an integer >= 0"),
    "a float count": (_replace("proposals", np.array(3.0)), ValueError, "'proposals' must be an integer, got float"),
}


@pytest.mark.parametrize("spoil, error, message", BAD_ADAM_STATES.values(), ids=BAD_ADAM_STATES)
def test_a_bad_adam_state_is_refused_by_name_and_changes_nothing(spoil, error, message):
    opt = _adam_pair(0.1, steps=2, late_steps=2)
    before = opt.state_dict()
    good = _adam_pair(0.05, steps=3, late_steps=1).state_dict()  # valid, and different in every array
    opt.load_state_dict(good)
    _assert_same_state(opt.state_dict(), good)
    opt.load_state_dict(before)
    with pytest.raises(error, match=f"Adam.load_state_dict: .*{message}"):
        opt.load_state_dict(spoil(good))
    _assert_same_state(opt.state_dict(), before)


@pytest.mark.parametrize("spoil, error, message", BAD_RANDOM_SEARCH_STATES.values(), ids=BAD_RANDOM_SEARCH_STATES)
def test_a_bad_random_search_state_is_refused_by_name_and_changes_nothing(spoil, error, message):
    opt = _random_search(0.1, seed=0, steps=3)
    before = opt.state_dict()
    good = _random_search(0.05, seed=1, steps=5).state_dict()
    with pytest.raises(error, match=f"RandomSearch.load_state_dict: .*{message}"):
        opt.load_state_dict(spoil(good))
    _assert_same_state(opt.state_dict(), before)


def test_loading_a_state_forgets_the_state_of_parameters_it_does_not_hold():
    opt = _adam_pair(0.1, steps=3, late_steps=2)  # both parameters have averages
    early = _adam_pair(0.1, steps=2, late_steps=0).state_dict()  # b never had a gradient: no state.1.*
    assert "state.1.step_count" not in early and "state.1.step_count" in opt.state_dict()
    opt.load_state_dict(early)
    _assert_same_state(opt.state_dict(), early)


def test_adam_whose_square_average_overflowed_saves_a_state_that_resumes_exactly():
    """float32 gradients above ~1.8e19 overflow g² to inf in Adam's second moment (as in PyTorch); the state
    was written, then refused by load_state_dict ("must hold finite numbers >= 0")."""
    def adam(gradients):
        w = Value(np.array([1.0, 2.0], dtype=np.float32))
        opt = optim.Adam([w], learning_rate=0.1)
        for g in gradients:
            w.grad = np.array(g, dtype=np.float32)
            overflows = bool((np.abs(w.grad) > np.sqrt(np.finfo(np.float32).max)).any())
            with pytest.warns(RuntimeWarning, match="overflowed float32") if overflows else contextlib.nullcontext():
                opt.step()
        return w, opt

    gradients = [[3e19, 1.0], [1.0, -2.0], [0.5, 0.5]]
    whole_w, _ = adam(gradients)
    w, opt = adam(gradients[:1])
    state = opt.state_dict()
    assert np.isinf(state["state.0.squared_gradient_average"][0])
    resumed = optim.Adam([w], learning_rate=0.1)
    resumed.load_state_dict(state)
    for g in gradients[1:]:
        w.grad = np.array(g, dtype=np.float32)
        resumed.step()
    assert w.data.tolist() == whole_w.data.tolist()
    assert w.data[0] == np.float32(1.0)  # the overflowed number never moves again: m / (√inf + ε) = 0


@pytest.mark.parametrize("make", [lambda w: optim.SGD([w], learning_rate=0.1, momentum=0.9),
                                  lambda w: optim.Adam([w], learning_rate=0.1)], ids=["SGD", "Adam"])
def test_a_float32_parameter_given_a_float64_gradient_by_hand_still_has_a_state_that_loads(make):
    """w.grad = np.array([...]) (float64) on a float32 parameter made float64 averages, and state_dict() wrote a
    state that load_state_dict() of the same optimizer refused ("must have ... dtype float32")."""
    w = Value(np.array([1.0, -2.0], dtype=np.float32))
    opt = make(w)
    w.grad = np.array([0.5, 0.25])
    opt.step()
    state = opt.state_dict()
    assert all(state[key].dtype == np.float32 for key in state if key.startswith("state.") and
               not key.endswith("step_count"))
    resumed = make(Value(w.data.copy()))
    resumed.load_state_dict(state)
    _assert_same_state(resumed.state_dict(), state)


@pytest.mark.parametrize("make", [lambda p: optim.GradientDescent(p, 0.1), lambda p: optim.Adam(p)])
def test_a_grad_set_by_hand_to_a_number_is_named_not_an_attribute_error(make):
    x = Value([1.0, 2.0])
    x.grad = 3.0
    opt = make([x])
    with pytest.raises(TypeError, match=rf"^{type(opt).__name__}\.step: a parameter's grad must be a numpy array"):
        opt.step()
    with pytest.raises(TypeError, match=r"^gradient_norm: a parameter's grad must be a numpy array"):
        optim.gradient_norm([x])
    assert x.data.tolist() == [1.0, 2.0]


@pytest.mark.filterwarnings("ignore:Newton.step:RuntimeWarning")  # at the minimum after one step: no step moves
@pytest.mark.parametrize("make", [lambda p: optim.GradientDescent(p, 0.1), lambda p: optim.SGD(p, 0.1, momentum=0.5),
                                  lambda p: optim.Adam(p, 0.1), lambda p: optim.Armijo(p), lambda p: optim.Newton(p)])
def test_a_step_with_a_closure_inside_no_grad_is_the_step_outside_as_in_pytorch(make):
    """PyTorch's optimizers evaluate the closure with recording on; so do ours.  Newton's Hessian, in particular,
    was all zeros inside no_grad (its first derivative was not recorded), and it fell back to −∇ silently."""
    def run(inside: bool) -> tuple[np.ndarray, object]:
        w = Value([0.0, 0.0])
        optimizer = make([w])
        closure = lambda: ((w - 1.0) ** 2).sum() + w[0] * w[1]  # noqa: E731  (Hessian [[2, 1], [1, 2]])
        for _ in range(3):
            if inside:
                with no_grad():
                    optimizer.step(closure)
            else:
                optimizer.step(closure)
        return w.data, getattr(optimizer, "last_fallback", None)

    (outside, fallback), (inside, fallback_inside) = run(False), run(True)
    np.testing.assert_array_equal(inside, outside)
    assert fallback_inside == fallback
    if isinstance(make([Value(0.0)]), optim.Newton):
        np.testing.assert_allclose(inside, [2 / 3, 2 / 3])  # the minimum: one Newton step on a quadratic



# --- gradients set by hand, and interrupted steps ----------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda p: optim.GradientDescent(p, 0.1), lambda p: optim.SGD(p, 0.1, momentum=0.9),
                                  lambda p: optim.Adam(p, 0.1), lambda p: optim.Armijo(p)],
                         ids=["gd", "sgd", "adam", "armijo"])
@pytest.mark.parametrize("grad, error, message", [
    (np.array([1.0, 2.0, 3.0]), ValueError, r"parameter 1 \(shape \(2, 3\)\) has a grad of shape \(3,\)"),
    (np.ones((1, 2, 3)), ValueError, r"parameter 1 \(shape \(2, 3\)\) has a grad of shape \(1, 2, 3\)"),
    (np.full((2, 3), "1"), TypeError, r"parameter 1 \(shape \(2, 3\)\) has a grad of dtype <U1"),
    (np.ones((2, 3), dtype=complex), TypeError, r"parameter 1 \(shape \(2, 3\)\) has a grad of dtype complex128"),
], ids=["broadcast row", "extra axis", "strings", "complex"])
def test_a_grad_set_by_hand_of_the_wrong_shape_or_dtype_is_named_and_changes_nothing(make, grad, error, message):
    """A row was broadcast over a matrix silently; a (2, 3) gradient of a (3,) parameter failed in numpy after the
    parameters before it had been updated; strings gave numpy's bare error."""
    a, w = Value([1.0, 2.0]), Value(np.zeros((2, 3)))
    opt = make([a, w])
    a.grad, w.grad = np.array([0.5, -0.5]), grad
    with pytest.raises(error, match=rf"^{type(opt).__name__}\.step: {message}"):
        opt.step(lambda: (a * a).sum() + (w * w).sum(), cost=1.0) if isinstance(opt, optim.Armijo) else opt.step()
    assert a.data.tolist() == [1.0, 2.0] and not w.data.any()
    assert all(not key.startswith("state.") for key in opt.state_dict())


def test_gradients_of_bools_and_ints_are_real_numbers():
    a, b = Value([1.0, 2.0]), Value([1.0])
    opt = optim.GradientDescent([a, b], 0.5)
    a.grad, b.grad = np.array([True, False]), np.array([2])
    opt.step()
    assert a.data.tolist() == [0.5, 2.0] and b.data.tolist() == [0.0]


# --- a PyTorch closure (zero_grad, backward, return the cost) would count the gradient twice -------------------

@pytest.mark.parametrize("make", [lambda p: optim.GradientDescent(p, 0.1), lambda p: optim.SGD(p, 0.1, momentum=0.9),
                                  lambda p: optim.Adam(p, 0.1), lambda p: optim.Armijo(p), lambda p: optim.Newton(p)],
                         ids=["gd", "sgd", "adam", "armijo", "newton"])
def test_a_closure_that_calls_backward_itself_is_named_not_a_doubled_gradient(make):
    """Before, GradientDescent and SGD stepped by 2η∇f (the closure's backward plus the optimizer's), silently;
    Armijo and Newton failed in a trial with the engine's 'does not require a gradient'."""
    w = Value([2.0, -1.0])
    opt = make([w])

    def pytorch_closure():
        opt.zero_grad()
        cost = (w * w).sum()
        cost.backward()
        return cost

    with pytest.raises(ValueError, match=f"{type(opt).__name__}.step: the closure returned a cost that has been "
                                         "backpropagated already.*parameters are unchanged"):
        opt.step(pytorch_closure)
    assert w.data.tolist() == [2.0, -1.0]
    opt.step(lambda: (w * w).sum())  # the closure as it should be: the cost only
    if isinstance(opt, optim.GradientDescent):
        np.testing.assert_allclose(w.data, np.array([2.0, -1.0]) * (1 - 0.1 * 2))  # x − η·2x, once



# --- settings changed between steps (a learning-rate schedule) take effect, and are checked -----------------

def test_a_learning_rate_changed_between_steps_is_used_by_the_next_step():
    x = Value([3.0, -2.0])
    opt = optim.SGD([x], learning_rate=0.1, momentum=0.5)
    opt.step(lambda: (x * x).sum())  # v = ∇f = 2x₀, x₁ = x₀ − 0.1·v
    first = np.array([3.0, -2.0]) * (1 - 0.1 * 2)
    opt.learning_rate, opt.momentum = 0.01, 0.25
    opt.step(lambda: (x * x).sum())  # v = 0.25·2x₀ + 2x₁, x₂ = x₁ − 0.01·v
    np.testing.assert_allclose(x.data, first - 0.01 * (0.25 * 2 * np.array([3.0, -2.0]) + 2 * first), rtol=1e-15)
    assert opt.last_step_size == 0.01 and opt.state_dict()["learning_rate"] == 0.01


@pytest.mark.parametrize("make, name, value, error", [
    (lambda p: optim.GradientDescent(p, 0.1), "learning_rate", float("nan"), ValueError),
    (lambda p: optim.GradientDescent(p, 0.1), "learning_rate", -0.1, ValueError),
    (lambda p: optim.SGD(p, 0.1), "learning_rate", "0.01", TypeError),
    (lambda p: optim.SGD(p, 0.1, momentum=0.5), "momentum", 1.0, ValueError),
    (lambda p: optim.Adam(p), "learning_rate", np.array([0.1, 0.2]), TypeError),
    (lambda p: optim.Adam(p), "eps", 0.0, ValueError),
    (lambda p: optim.Armijo(p), "sigma", 1.0, ValueError),
    (lambda p: optim.Armijo(p), "alpha", 0.0, ValueError),
    (lambda p: optim.Armijo(p), "initial_step", float("inf"), ValueError),
    (lambda p: optim.Newton(p), "damping", -1.0, ValueError),
], ids=["gd-nan", "gd-negative", "sgd-str", "sgd-momentum", "adam-array", "adam-eps", "armijo-sigma",
        "armijo-alpha", "armijo-inf", "newton-damping"])
def test_a_bad_setting_set_by_hand_is_named_when_set_not_found_in_the_parameters(make, name, value, error):
    """Before, ``opt.learning_rate = nan`` turned every parameter into NaN at the next step, silently, and a
    learning rate of two numbers changed the first parameters and then failed with numpy's broadcasting error."""
    a, b = Value([1.0, 2.0]), Value([1.0, 2.0, 3.0])
    opt = make([a, b])
    kept = getattr(opt, name)
    with pytest.raises(error, match=f"^{type(opt).__name__}: {name} must"):
        setattr(opt, name, value)
    assert getattr(opt, name) == kept
    opt.step(lambda: (a * a).sum() + (b * b).sum())
    assert np.isfinite(a.data).all() and np.isfinite(b.data).all()
    assert (np.abs(a.data) < [1.0, 2.0]).all() and (np.abs(b.data) < [1.0, 2.0, 3.0]).all()  # a descent step


@pytest.mark.parametrize("make, name, value, error, message", [
    (lambda p: optim.Adam(p), "betas", (0.9, 1.5), ValueError, r"betas\[1\] must lie in \[0, 1\), got 1.5"),
    (lambda p: optim.Adam(p), "betas", (float("nan"), 0.9), ValueError, r"betas\[0\] must be finite"),
    (lambda p: optim.Adam(p), "betas", 0.9, TypeError, "betas must be a pair"),
    (lambda p: optim.Adam(p), "betas", (0.9, 0.99, 0.999), ValueError, "betas must be a pair.*3 numbers"),
    (lambda p: optim.Armijo(p), "max_backtracks", -1, ValueError,
     "max_backtracks must be an integer from 0 to 9223372036854775807, got -1"),
    (lambda p: optim.Armijo(p), "max_backtracks", 2.5, TypeError, "max_backtracks must be an integer, got float"),
    (lambda p: optim.Newton(p), "max_backtracks", "3", TypeError, "max_backtracks must be an integer, got str"),
    (lambda p: optim.RandomSearch(p, rng=0), "scale", float("nan"), ValueError, "scale must be finite"),
    (lambda p: optim.RandomSearch(p, rng=0), "scale", 1e308, ValueError, "scale must be at most"),
    (lambda p: optim.RandomSearch(p, rng=0), "rng", "seven", TypeError, "the seed must be"),
], ids=["adam-beta2", "adam-nan", "adam-number", "adam-three", "armijo-negative", "armijo-float", "newton-str",
        "random-nan", "random-huge", "random-rng"])
def test_every_setting_set_by_hand_is_checked_when_set(make, name, value, error, message):
    """Before, only the constructors checked Adam's betas, the max_backtracks and RandomSearch's scale: set by hand,
    a beta of 1.5 gave NaN parameters, max_backtracks=-1 failed at the next step naming armijo_step, a NaN scale
    failed in numpy's random generator."""
    a = Value([1.0, 2.0])
    opt = make([a])
    kept = getattr(opt, name)
    with pytest.raises(error, match=f"^{type(opt).__name__}: {message}"):
        setattr(opt, name, value)
    assert getattr(opt, name) is kept
    before = (a * a).sum().item()
    opt.step(lambda: (a * a).sum())
    assert np.isfinite(a.data).all() and (a * a).sum().item() <= before


@pytest.mark.parametrize("make", [lambda p: optim.GradientDescent(p, 0.1), lambda p: optim.SGD(p, 0.1),
                                  lambda p: optim.Adam(p), lambda p: optim.Armijo(p), lambda p: optim.Newton(p),
                                  lambda p: optim.RandomSearch(p, rng=0)],
                         ids=["gd", "sgd", "adam", "armijo", "newton", "random"])
def test_no_setting_takes_nan_by_hand(make):
    """Whatever the setting (the settings state_dict saves), NaN is refused when it is set, by name."""
    opt = make([Value([1.0, 2.0])])
    for name in type(opt)._settings:
        kept = getattr(opt, name)
        with pytest.raises((TypeError, ValueError), match=f"^{type(opt).__name__}: {name}"):
            setattr(opt, name, float("nan"))
        assert getattr(opt, name) == kept


def test_random_search_checks_a_scale_set_by_hand_against_its_float32_parameters():
    x = Value(np.zeros(2, dtype=np.float32))
    opt = optim.RandomSearch([x], rng=0)
    with pytest.raises(ValueError, match=r"^RandomSearch: scale must be at most 1.701e\+38 \(half the largest "
                                         r"float32 number\), got 2e\+38"):
        opt.scale = 2e38
    opt.scale = 1e38
    assert opt.scale == 1e38


def test_an_adam_beta_set_by_hand_as_a_list_is_used_and_saved():
    x = Value([1.0, -2.0])
    opt = optim.Adam([x], learning_rate=0.01)
    opt.betas = [0.5, 0.75]
    assert opt.betas == (0.5, 0.75)
    x.grad = np.array([0.3, -4.0])
    opt.step()  # first step: m̂ = g and v̂ = g² whatever the betas
    x.grad = np.array([0.1, 1.0])
    opt.step()
    expected = list(_adam_by_hand([np.array([0.3, -4.0]), np.array([0.1, 1.0])], [1.0, -2.0], 0.01,
                                  betas=(0.5, 0.75)))[-1]
    np.testing.assert_allclose(x.data, expected, rtol=1e-14)
    assert opt.state_dict()["betas"].tolist() == [0.5, 0.75]


# --- Armijo: a step too small to change any parameter is no step -------------------------------------------

def test_armijo_step_too_small_to_move_x_is_no_step():
    """x + t·d rounds to x: f(x + t·d) = f(x) ≤ f(x) + σ·t·∇fᵀd held by rounding alone, and such a t was accepted,
    even along an uphill direction."""
    calls = []

    def f(point):
        calls.append(point.copy())
        return float(point @ point)

    x = np.array([1.0])
    found = optim.armijo_step(f, x, np.array([2.0]), sigma=1e-4, alpha=0.5, fx=1.0, initial_step=1e-20)
    assert found.step is None and found.trials == [(1e-20, 1.0)] and len(calls) == 1
    calls.clear()
    uphill = optim.armijo_step(f, x, -2 * x, sigma=1e-4, alpha=0.5, fx=1.0, max_backtracks=200)
    assert uphill.step is None
    *moved, (last, value) = uphill.trials
    assert all(x + t * 2 * x != x for t, _ in moved) and x + last * 2 * x == x and value == 1.0
    assert len(uphill.trials) == len(calls) < 60  # it stopped where the points stopped moving, not after 200


@pytest.mark.parametrize("make, where", [(lambda p: optim.Armijo(p, initial_step=1e-20), "Armijo.step"),
                                         (lambda p: optim.Newton(p, damping=1e24), "Newton.step")],
                         ids=["armijo", "newton"])
def test_an_armijo_step_that_changes_no_parameter_is_reported_as_failed(make, where):
    y = Value([1.0, -3.0])
    opt = make([y])
    with pytest.warns(RuntimeWarning, match=f"^{where}: the step size .* changes no parameter .*unchanged"):
        opt.step(lambda: (y * y).sum())
    assert opt.last_failed and opt.last_step_size == 0.0 and y.data.tolist() == [1.0, -3.0]


def test_armijo_at_the_minimum_to_float_precision_says_it_cannot_move():
    """Near x* no step size moves x and decreases the cost: such steps were accepted as successes that changed
    nothing, for ever; now the step fails, so that fit stops with 'no descent step'."""
    x = Value(np.zeros(3))
    opt = optim.Armijo([x])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(1000):
            opt.step(closure_for(x))
            if opt.last_failed:
                break
    assert opt.last_failed and opt.last_step_size == 0.0
    assert [str(w.message)[:26] for w in caught] == ["Armijo.step: the step size"]
    assert "changes no parameter" in str(caught[0].message)
    np.testing.assert_allclose(x.data, X_STAR, rtol=1e-7)  # where the cost, ~‖x − x*‖², stops resolving changes
    t, value = opt.last_trials[-1]
    assert np.array_equal(x.data + t * -(A @ x.data - B), x.data) and value == opt.last_cost_before


def test_armijo_with_parameters_of_mixed_dtypes_takes_no_step_that_rounds_away_in_float32():
    """x + t·d is float64 when float32 and float64 parameters are mixed: it moved, the float32 parameter did not,
    and the condition held by rounding (f(x + t·d) = f(x)): a 'step' of t that changed nothing."""
    a, b = Value(np.array([1.0], dtype=np.float32)), Value(np.array([2.0]))
    opt = optim.Armijo([a, b])
    with pytest.warns(RuntimeWarning, match="^Armijo.step: the step size .* changes no parameter"):
        opt.step(lambda: (a * a).sum() * 1e-9 + (b * 0.0).sum())  # b's gradient is 0; a's step is below float32's
    assert opt.last_failed and opt.last_step_size == 0.0 and a.data.tolist() == [1.0] and b.data.tolist() == [2.0]
    a.data[...] = 0.5
    opt.step(lambda: ((a - 1.0) * (a - 1.0)).sum() + (b * b).sum())  # large steps in both are still taken
    assert not opt.last_failed and 0.5 < a.data[0] <= 1.0 and abs(b.data[0]) < 2.0


# --- a closure for PyTorch (zero_grad, backward) or of no single number, in the steps that need no gradient ------

def _pytorch_closure(opt, w):
    def closure():
        opt.zero_grad()
        cost = (w * w).sum()
        cost.backward()
        return cost
    return closure


@pytest.mark.parametrize("make, given", [(lambda p: optim.RandomSearch(p, rng=0), False),
                                         (lambda p: optim.RandomSearch(p, rng=0), True),
                                         (lambda p: optim.Armijo(p), True), (lambda p: optim.Newton(p), True)],
                         ids=["random", "random-cost=", "armijo-cost=", "newton-cost="])
def test_a_closure_that_calls_backward_in_a_step_without_gradients_is_named(make, given):
    """RandomSearch (and Armijo's and Newton's trials, when cost= is given as fit gives it) evaluate the closure
    under no_grad; a PyTorch closure failed there with the engine's 'backward: this Value does not require a
    gradient', naming no optimizer."""
    w = Value([2.0, -1.0])
    opt = make([w])
    cost = (w * w).sum()
    cost.backward()
    with pytest.raises(ValueError, match=rf"^{type(opt).__name__}\.step: the closure called backward\(\).*"
                                         r"leave them out.*parameters are unchanged"):
        opt.step(_pytorch_closure(opt, w), cost=cost if given else None)
    assert w.data.tolist() == [2.0, -1.0]


@pytest.mark.parametrize("result, error", [(lambda w: w * w, TypeError), (lambda w: None, TypeError),
                                           (lambda w: "3.0", TypeError), (lambda w: True, TypeError)],
                         ids=["vector", "None", "str", "bool"])
@pytest.mark.parametrize("given", [False, True], ids=["closure", "cost="])
def test_random_search_names_a_closure_that_returns_no_single_number(result, error, given):
    w = Value([2.0, -1.0])
    opt = optim.RandomSearch([w], rng=0)
    with pytest.raises(error, match=r"^RandomSearch\.step: the closure must return the cost, a Value of size 1 or "
                                    r"a number, got"):
        opt.step(lambda: result(w), cost=5.0 if given else None)
    assert w.data.tolist() == [2.0, -1.0] and opt.proposals == 0


def test_armijo_names_a_trial_that_returns_no_single_number():
    w = Value([2.0, -1.0])
    opt = optim.Armijo([w])
    cost = (w * w).sum()
    cost.backward()
    with pytest.raises(TypeError, match=r"^Armijo\.step: the closure must return the cost, a Value of size 1 or a "
                                        r"number, got a Value of shape \(2,\)"):
        opt.step(lambda: w * w, cost=cost)
    assert w.data.tolist() == [2.0, -1.0]


def test_random_search_takes_plain_numbers_from_its_closure():
    w = Value([2.0, -1.0])
    opt = optim.RandomSearch([w], scale=0.5, rng=0)
    for closure in (lambda: float((w.data ** 2).sum()), lambda: np.sum(w.data ** 2), lambda: 5,
                    lambda: (w * w).sum()):
        opt.step(closure)
    assert opt.proposals == 4


def test_a_closure_may_return_the_cost_as_a_0d_array() -> None:
    x = Value([3.0])
    search = optim.RandomSearch([x], rng=0)
    search.step(lambda: np.asarray((x.data ** 2).sum()))  # what np.asarray of a numpy sum gives
    assert search.last_cost is not None and search.last_cost <= 9.0
    armijo = optim.Armijo([x])
    cost = (x * x).sum()
    cost.backward()
    armijo.step(lambda: np.asarray((x.data ** 2).sum()), cost=cost)  # trials need no graph
    assert not armijo.last_failed and armijo.last_cost < float(cost)


def test_armijo_given_a_cost_without_gradients_says_so_rather_than_reporting_a_stationary_point() -> None:
    x = Value([3.0, -2.0])
    armijo = optim.Armijo([x])
    cost = (x * x).sum()  # backward() forgotten
    with pytest.raises(ValueError, match=r"^Armijo\.step: cost= was given but no parameter has a gradient"):
        armijo.step(lambda: (x * x).sum(), cost=cost)
    np.testing.assert_array_equal(x.data, [3.0, -2.0])
    cost.backward()
    armijo.step(lambda: (x * x).sum(), cost=cost)  # with the gradient: a step down, to the minimum 0 (t = ½)
    np.testing.assert_array_equal(x.data, [0.0, 0.0])
    assert not armijo.last_failed and armijo.last_step_size == 0.5


# --- slips a mutation run found untested (each test is checked against a formula worked out by hand) -----------

def test_armijo_steps_when_only_some_coordinates_move():
    """f(x) = x₀² at x = (1, 0): d = −∇f = (−2, 0) leaves x₁ where it is, which is no reason to stop.  Along d,
    φ(t) = (1 − 2t)²: t = 1 gives 1, not ≤ 1 − 4σ; t = ½ gives 0 ≤ 1 − 2σ, so the step lands on the minimum."""
    x = Value([1.0, 0.0])
    opt = optim.Armijo([x], sigma=1e-4, alpha=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "changes no parameter" warning: x₀ moves
        opt.step(lambda: (x * x * np.array([1.0, 0.0])).sum())
    assert opt.last_trials == [(1.0, 1.0), (0.5, 0.0)]
    assert not opt.last_failed and opt.last_step_size == 0.5 and x.data.tolist() == [0.0, 0.0]


def test_armijo_step_at_a_stationary_point_is_no_step_not_an_uphill_error():
    """∇f(x) = 0: d = 0 is not uphill (∇f(x)ᵀd = 0, not > 0); x + t·d is x, so the search ends after one trial."""
    found = optim.armijo_step(_square, np.zeros(2), np.zeros(2), sigma=0.25, alpha=0.5)
    assert found == optim.ArmijoStep(None, [(1.0, 0.0)])


def test_sgd_momentum_keeps_its_own_copy_of_the_first_gradient():
    """v₁ = g₁ is the optimizer's copy: the grad array written over in place afterwards (clipping with out=, or
    set by hand as here) leaves it alone.  By hand: x₂ = x₀ − ηg₁ − η(μg₁ + g₂)."""
    x = Value([1.0, -2.0])
    opt = optim.SGD([x], learning_rate=0.1, momentum=0.9)
    g1, g2 = np.array([0.5, 1.0]), np.array([-3.0, 2.0])
    x.grad = g1.copy()
    opt.step()
    x.grad[...] = g2  # the same array, now holding g₂
    opt.step()
    np.testing.assert_allclose(x.data, np.array([1.0, -2.0]) - 0.1 * g1 - 0.1 * (0.9 * g1 + g2), rtol=1e-15)


def test_random_search_keeps_no_change_that_leaves_the_cost_as_it_was():
    """The seed's rule keeps a change only if the cost got smaller: on a plateau (a cost that does not depend on
    the parameters), never."""
    x = Value([1.0, -2.0])
    opt = optim.RandomSearch([x], scale=0.5, rng=0)
    for _ in range(5):
        opt.step(lambda: (x * 0.0).sum() + 3.0)
    assert opt.accepted == 0 and opt.proposals == 5 and opt.last_accepted is False
    assert x.data.tolist() == [1.0, -2.0]


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_a_state_dict_changed_in_place_leaves_the_optimizer_as_it_was(name):
    """state_dict() hands out copies: zeroing its arrays changes neither the optimizer's next step (SGD's
    x₂ = x₀ − ηg₁ − η(μg₁ + g₂), Adam's by Kingma and Ba's Algorithm 1) nor the state it gives next."""
    x = Value([1.0, -2.0])
    opt = optim.SGD([x], 0.1, momentum=0.9) if name == "SGD" else optim.Adam([x], learning_rate=0.1)
    g1, g2 = np.array([0.5, 1.0]), np.array([-3.0, 2.0])
    x.grad = g1.copy()
    opt.step()
    state = opt.state_dict()
    kept = {key: value.copy() for key, value in state.items()}
    for value in state.values():
        if value.dtype.kind in "fiu":
            value[...] = 0
    _assert_same_state(opt.state_dict(), kept)
    x.grad = g2.copy()
    opt.step()
    expected = (np.array([1.0, -2.0]) - 0.1 * g1 - 0.1 * (0.9 * g1 + g2) if name == "SGD"
                else list(_adam_by_hand([g1, g2], [1.0, -2.0], 0.1))[-1])
    np.testing.assert_allclose(x.data, expected, rtol=1e-14)


def test_sgd_loading_a_state_forgets_the_velocity_of_parameters_it_does_not_hold():
    """A loaded state replaces all of SGD's velocities: b, with none in it, starts afresh (v = g, b ← b − ηg)."""
    a, b = Value([1.0]), Value([2.0])
    opt = optim.SGD([a, b], learning_rate=0.1, momentum=0.9)
    a.grad, b.grad = np.array([1.0]), np.array([1.0])
    opt.step()  # both have a velocity now
    other_a, other_b = Value([1.0]), Value([2.0])
    other = optim.SGD([other_a, other_b], learning_rate=0.1, momentum=0.9)
    other_a.grad = np.array([1.0])
    other.step()  # other_b never had a gradient: no state.1.velocity
    early = other.state_dict()
    assert "state.1.velocity" not in early
    opt.load_state_dict(early)
    _assert_same_state(opt.state_dict(), early)
    b_before = float(b.data[0])
    a.grad, b.grad = None, np.array([0.5])
    opt.step()
    assert b.data.tolist() == [b_before - 0.1 * 0.5]


def test_armijo_reports_no_step_where_the_point_does_not_move_even_if_a_noisy_cost_fell():
    """x + t·d rounds to x (d = 1e-20 beside x = 1), but a cost that changes from call to call (a fresh mini-batch,
    randomness inside f) came out lower: before, that was reported as the step t = 1, which moved nothing."""
    calls = [0]

    def noisy(p):
        calls[0] += 1
        return float(p @ p) - 1e-3 * calls[0]

    found = optim.armijo_step(noisy, np.array([1.0]), np.array([1e-20]), sigma=1e-4, alpha=0.5, fx=1.0)
    assert found.step is None and len(found.trials) == 1 and found.trials[0][0] == 1.0
