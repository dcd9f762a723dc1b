"""A researcher who differentiates through optimisation steps: the hypergradient of the learning rate
d/dη C(w − η∇C(w)), gradient descent unrolled by hand, the derivative of Newton's step, the gradient of a gradient
norm (a gradient penalty), Hessian-vector products and third derivatives of a small network's cost.  Every number is
checked against central differences in float64 (differences of gradients for second order), closed forms, or torch.

Defects (xfail, strict): a function that differentiates inside itself (a hypergradient written with
``autodiff.gradients``, a gradient-penalised cost) could not be checked by ``check_gradients`` or
``numerical_gradient``, nor used as the closure of a line search, because those evaluate it under ``no_grad`` and
the inner gradient then failed with an error about a ``no_grad`` the user never wrote.
"""

import numpy as np
import pytest
from helpers_gradients import central_difference  # float64 central differences, independent of the engine
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses, nn, no_grad, optim
from tinygrad_edu.autodiff import grad, gradients, hessian, hvp
from tinygrad_edu.testing import check_gradients, numerical_gradient

RNG = np.random.default_rng(7)
X = RNG.standard_normal((5, 2))
Y = RNG.standard_normal((5, 1))
W0 = RNG.standard_normal((2, 1)) * 0.7


def cost(w):
    """A small cost with curvature everywhere: C(w) = mean((tanh(Xw) − Y)²)."""
    return ((F.tanh(X @ w) - Y) ** 2).mean()


def cost_np(w):
    return float(np.mean((np.tanh(X @ w) - Y) ** 2))


def gradient_np(w):
    """∇C by hand: 2/n · Xᵀ[(tanh(Xw) − Y)·(1 − tanh²(Xw))]."""
    t = np.tanh(X @ w)
    return 2.0 / len(X) * X.T @ ((t - Y) * (1 - t * t))


def central(f, x, eps=1e-6):
    """Central differences of a float function of an array, element by element, float64."""
    return central_difference(f, np.asarray(x, dtype=np.float64), eps)


def after_one_step(eta, w):
    """C(w − η∇C(w)) in numbers only: the function whose η-derivative is the hypergradient."""
    return cost_np(w - eta * gradient_np(w))


def hyper_with_gradients(eta, w):
    """C(w − η∇C(w)), ∇C taken with autodiff.gradients(create_graph=True): torch.autograd.grad's idiom."""
    (g,) = gradients(cost(w), [w], create_graph=True)
    return cost(w - eta * g)


# --- defects ---------------------------------------------------------------------------------------------------

def test_check_gradients_checks_a_hypergradient_written_with_gradients():
    report = check_gradients(hyper_with_gradients, 0.3, W0)  # (raises GradientCheckError where they disagree)
    assert report.elements == 3
    assert report.numeric[0] == pytest.approx(central(lambda e: after_one_step(float(e), W0), 0.3), abs=1e-8)
    assert report.numeric[1] == pytest.approx(central(lambda w: after_one_step(0.3, w), W0), abs=1e-8)


def test_numerical_gradient_differences_a_function_that_calls_backward_inside():
    def hyper(eta, w):
        cost(w).backward(create_graph=True)
        return cost(w - eta * w.grad)

    d_eta, d_w = numerical_gradient(hyper, Value(0.3), Value(W0))
    assert float(d_eta) == pytest.approx(float(central(lambda e: after_one_step(float(e), W0), 0.3)), abs=1e-8)
    assert d_w == pytest.approx(central(lambda w: after_one_step(0.3, w), W0), abs=1e-8)


def _penalised_problem():
    net = nn.MLP([2, 3, 1], activation="tanh", rng=0)

    def penalised():  # C + λ‖∇C‖², the gradient penalty, with ∇C recorded so that steps can differentiate it
        c = losses.squared_error(net(X), Y)
        grads = gradients(c, net.parameters(), create_graph=True)
        return c + 0.1 * sum((g ** 2).sum() for g in grads)

    return net, penalised


@pytest.mark.parametrize("kind", ["Armijo", "Newton", "RandomSearch"])
def test_a_line_search_trains_a_gradient_penalised_cost(kind):
    net, penalised = _penalised_problem()
    opt = {"Armijo": lambda: optim.Armijo(net), "Newton": lambda: optim.Newton(net, damping=1e-3),
           "RandomSearch": lambda: optim.RandomSearch(net, scale=0.05, rng=0)}[kind]()
    before = float(penalised())
    for _ in range(3):
        opt.step(penalised)
    assert float(penalised()) < before  # none of the three ever accepts a step that raises the cost


# --- guards: the numbers a hypergradient researcher relies on -----------------------------------------------------

def test_the_hypergradient_by_backward_create_graph_matches_central_differences():
    w, eta = Value(W0.copy()), Value(0.3)
    cost(w).backward(create_graph=True)
    cost(w - eta * w.grad).backward()
    assert float(eta.grad) == pytest.approx(float(central(lambda e: after_one_step(float(e), W0), 0.3)), abs=1e-8)
    # w.grad accumulated the first pass's ∇C(w) and then d/dw C(w − η∇C(w)), as PyTorch's .grad does
    expected = gradient_np(W0) + central(lambda v: after_one_step(0.3, v), W0)
    assert _numbers(w.grad) == pytest.approx(expected, abs=1e-8)


def _numbers(x):
    return x.data if isinstance(x, Value) else x


@given(eta=st.floats(0.01, 1.0), w=st.lists(st.floats(-2, 2), min_size=2, max_size=2))
def test_the_hypergradient_of_a_quadratic_is_minus_the_product_of_successive_gradients(eta, w):
    """C(w) = ½wᵀAw − bᵀw: d/dη C(w − η∇C(w)) = −∇C(w₁)·∇C(w) with w₁ = w − η∇C(w) (closed form)."""
    a, b = np.array([[3.0, 1.0], [1.0, 2.0]]), np.array([1.0, -1.0])
    w0 = np.array(w)
    quadratic = lambda v: 0.5 * (v * (a @ v)).sum() - (b * v).sum()  # noqa: E731
    hyper = grad(lambda e: quadratic(Value(w0) - e * grad(quadratic)(w0)))(eta)
    g0 = a @ w0 - b
    g1 = a @ (w0 - eta * g0) - b
    assert float(hyper) == pytest.approx(-g1 @ g0, rel=1e-9, abs=1e-9)


def test_four_unrolled_steps_by_hand_differentiate_to_the_central_differences():
    def unrolled_np(eta, w):
        for _ in range(4):
            w = w - eta * gradient_np(w)
        return cost_np(w)

    eta, w = Value(0.2), Value(W0.copy())
    q = w
    for _ in range(4):  # no in-place update: each step a new Value, so the graph runs through all four
        (g,) = gradients(cost(q), [q], create_graph=True)
        q = q - eta * g
    cost(q).backward()
    assert float(eta.grad) == pytest.approx(float(central(lambda e: unrolled_np(float(e), W0), 0.2)), abs=1e-8)
    assert w.grad == pytest.approx(central(lambda v: unrolled_np(0.2, v), W0), abs=1e-8)


def test_the_derivative_of_newtons_step_is_the_closed_form():
    """n(w) = w − f′/f″ has n′(w) = f′·f‴/f″²; f(w) = w⁴/4 + eʷ."""
    f = lambda w: w ** 4 / 4 + w.exp()  # noqa: E731
    newton = lambda w: w - grad(f)(w) / grad(grad(f))(w)  # noqa: E731
    w = 0.7
    d1, d2, d3 = w ** 3 + np.exp(w), 3 * w ** 2 + np.exp(w), 6 * w + np.exp(w)
    assert float(grad(newton)(w)) == pytest.approx(d1 * d3 / d2 ** 2, rel=1e-12)


def test_the_gradient_penalty_differentiates_to_twice_the_hessian_times_the_gradient():
    w = Value(W0.copy())
    cost(w).backward(create_graph=True)
    penalty = (w.grad ** 2).sum()
    w.zero_grad()
    penalty.backward()
    flat = lambda v: float((gradient_np(v) ** 2).sum())  # noqa: E731
    assert w.grad == pytest.approx(central(flat, W0), abs=1e-7)
    hess = hessian(lambda v: cost(v.reshape(2, 1)))(W0.ravel()).data
    assert w.grad.ravel() == pytest.approx(2 * hess @ gradient_np(W0).ravel(), abs=1e-12)


def _network_cost(p):
    """A 2-3-1 tanh network's squared error, its 13 parameters flattened into p."""
    first, bias, second = p[:6].reshape(2, 3), p[6:9], p[9:12].reshape(3, 1)
    return ((F.tanh(X @ first + bias) @ second + p[12] - Y) ** 2).mean()


P0 = RNG.standard_normal(13) * 0.6
V = RNG.standard_normal(13)


def test_hessian_vector_products_of_a_network_match_differences_of_gradients():
    eps = 1e-5
    slope = lambda p: grad(_network_cost)(p).data  # noqa: E731
    differenced = (slope(P0 + eps * V) - slope(P0 - eps * V)) / (2 * eps)
    assert hvp(_network_cost, P0, V).data == pytest.approx(differenced, abs=1e-8)


def test_third_derivatives_of_a_network_match_differences_of_hessian_vector_products():
    u = np.linspace(-1, 1, 13)
    third = grad(lambda p: (hvp(_network_cost, p, V) * u).sum())(P0).data
    differenced = central(lambda p: float(hvp(_network_cost, p, V).data @ u), P0, eps=1e-5)
    assert third == pytest.approx(differenced, abs=1e-7)


def test_against_torch_the_hypergradient_penalty_and_third_derivative():
    torch = pytest.importorskip("torch")

    def torch_cost(p):
        first, bias, second = p[:6].reshape(2, 3), p[6:9], p[9:12].reshape(3, 1)
        return ((torch.tanh(torch.tensor(X) @ first + bias) @ second + p[12] - torch.tensor(Y)) ** 2).mean()

    p = torch.tensor(P0, requires_grad=True)
    eta = torch.tensor(0.3, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(torch_cost(p), p, create_graph=True)
    torch_cost(p - eta * g).backward()
    mine = grad(lambda e, q: _network_cost(q - e * grad(_network_cost)(q)), argnums=(0, 1))(0.3, P0)
    assert float(mine[0]) == pytest.approx(eta.grad.item(), rel=1e-12)
    assert mine[1].data == pytest.approx(p.grad.numpy(), rel=1e-10, abs=1e-14)

    p = torch.tensor(P0, requires_grad=True)
    (g,) = torch.autograd.grad(torch_cost(p), p, create_graph=True)
    (hv,) = torch.autograd.grad((g * torch.tensor(V)).sum(), p, create_graph=True)
    (hv * torch.tensor(V)).sum().backward()
    third = grad(lambda q: (hvp(_network_cost, q, V) * V).sum())(P0).data
    assert third == pytest.approx(p.grad.numpy(), rel=1e-10, abs=1e-13)


def test_an_in_place_step_makes_a_recorded_gradient_stale_with_an_error_naming_the_parameter():
    w = Value(W0.copy(), label="w")
    cost(w).backward(create_graph=True)
    slope = w.grad
    with no_grad():
        w -= 0.1 * w.grad  # (a Value gradient works as the step's numbers)
    assert w.data == pytest.approx(W0 - 0.1 * gradient_np(W0), abs=1e-14)
    with pytest.raises(ValueError, match=r"^backward: the graph is stale: 'w' was changed in place"):
        (slope ** 2).sum().backward()
    with pytest.raises(ValueError, match=r"^gradients: the graph is stale: 'w' was changed in place"):
        gradients((slope ** 2).sum(), [w])


def test_gradients_left_by_a_create_graph_pass_do_not_reach_a_later_training_run():
    """A .grad left as a Value by backward(create_graph=True) is cleared by the optimizer's own passes: fit from
    the same start gives the same costs as a model that never had one."""
    from tinygrad_edu import fit

    used, fresh = nn.MLP([2, 3, 1], activation="tanh", rng=0), nn.MLP([2, 3, 1], activation="tanh", rng=0)
    losses.squared_error(used(X), Y).backward(create_graph=True)
    assert all(isinstance(p.grad, Value) for p in used.parameters())
    runs = [fit(model, X, Y, cost=losses.squared_error, episodes=3,
                optimizer=optim.GradientDescent(model, learning_rate=0.1)) for model in (used, fresh)]
    assert runs[0].cost == runs[1].cost
    assert all(isinstance(p.grad, np.ndarray) for p in used.parameters())


def test_autodiff_transforms_leave_a_create_graph_gradient_as_it_was():
    w = Value(W0.copy())
    cost(w).backward(create_graph=True)
    before = w.grad
    hvp(cost, w, np.ones_like(W0))
    grad(hyper_with_gradients, argnums=(0, 1))(0.3, w)
    assert w.grad is before
