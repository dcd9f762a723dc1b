"""A PyTorch or Keras user porting code, relying on the "write instead" advice: each route to another library's name
says one thing, and each formula the advice says to paste runs as written, with the numbers of the function it
stands for (PyTorch's where it is installed, else numpy's) and a gradient that agrees with central differences.

Defects found (each test below failed before its fix): fit(cost=functools.partial(torch_fn, ...)) failed inside
torch ("'int' object is not callable"); fit(cost='huber_loss') and the other costs written as formulas gave an
expression in p and y, not the function fit takes; F.huber_loss said "write ..." where losses.huber_loss said "write
the cost, ..."; nn.MSELoss and nn.CrossEntropyLoss said less than losses.MSELoss; v.argmax's advice had no axis
(PyTorch's argmax(dim=1)); Keras's mae, huber and hinge, and numpy's heaviside, fmax, fmin, median, log2, log10 and
exp2 on a Value, got only the generic refusal.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import numpy as np
import pytest
from helpers_gradients import central_difference

import tinygrad_edu
import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses, nn, optim, training

RNG = np.random.default_rng(20240537)


def _message(action: Callable[[], object], kinds: tuple[type[Exception], ...] = (AttributeError, TypeError)) -> str:
    with pytest.raises(kinds) as caught:
        action()
    return str(caught.value)


def _fit(cost: object, targets: np.ndarray | None = None, outputs: int = 1) -> training.History:
    model = nn.MLP([2, outputs], activation="identity", rng=0)
    inputs = np.linspace(-1.0, 1.0, 12).reshape(6, 2)
    targets = np.linspace(-2.0, 2.0, 6).reshape(6, 1) if targets is None else targets
    return training.fit(model, inputs, targets, cost=cost, optimizer=optim.SGD(model, learning_rate=0.01),
                        episodes=2, progress=False)


# --- defect: a functools.partial of PyTorch's cost failed inside torch ----------------------------------------------
def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("make", [
    lambda torch: functools.partial(torch.nn.functional.huber_loss, delta=0.5),
    lambda torch: functools.partial(torch.nn.functional.mse_loss, reduction="sum"),
    lambda torch: functools.partial(torch.nn.HuberLoss(delta=0.5)),
    lambda torch: functools.partial(functools.partial(torch.nn.functional.l1_loss), reduction="mean")],
    ids=["huber_loss", "mse_loss", "HuberLoss()", "partial of a partial"])
def test_fit_given_a_partial_of_pytorchs_cost_says_what_it_is_here(make) -> None:
    cost = make(_torch())
    message = _message(lambda: _fit(cost))
    assert message.startswith("fit: cost is PyTorch's "), message
    assert "(in a functools.partial)" in message
    assert re.search(r"; (import tinygrad_edu\.functional as F and give cost=lambda p, y"
                     r"|from tinygrad_edu import losses and give cost=lambda p, y: losses\.mean_squared_error)",
                     message), message


def test_fit_still_takes_a_partial_of_a_cost_of_its_own() -> None:
    history = _fit(functools.partial(losses.mean_squared_error))
    assert history.final_cost < history.cost[0]


# --- defect: fit(cost='huber_loss') gave an expression in p and y, not the function fit takes -----------------------
def _pytorch_reference(name: str) -> Callable[[np.ndarray, np.ndarray], float] | None:
    """PyTorch's own cost of that name with its defaults, on float64 arrays (None: not installed)."""
    try:
        import torch
    except ImportError:
        return None
    fn = torch.nn.functional
    functions = {"l1_loss": fn.l1_loss, "huber_loss": fn.huber_loss, "smooth_l1_loss": fn.smooth_l1_loss,
                 "hinge_embedding_loss": fn.hinge_embedding_loss,
                 "poisson_nll_loss": functools.partial(fn.poisson_nll_loss, log_input=True, full=False),
                 "gaussian_nll_loss": lambda out, y: fn.gaussian_nll_loss(out[:, :1], y, out[:, 1:].exp())}
    function = functions[{"L1Loss": "l1_loss", "HuberLoss": "huber_loss", "SmoothL1Loss": "smooth_l1_loss",
                          "HingeEmbeddingLoss": "hinge_embedding_loss", "PoissonNLLLoss": "poisson_nll_loss",
                          "GaussianNLLLoss": "gaussian_nll_loss"}.get(name, name)]
    return lambda p, y: float(function(torch.tensor(p), torch.tensor(y)))


#: Keras's definitions (the mean over the last axis, then over the samples: over every element), in numpy.
_KERAS = {"mae": lambda p, y: np.abs(p - y).mean(),
          "huber": lambda p, y: np.where(abs(p - y) <= 1.0, 0.5 * (p - y) ** 2, abs(p - y) - 0.5).mean(),
          "hinge": lambda p, y: np.maximum(1.0 - y * p, 0.0).mean()}
_KERAS.update(MAE=_KERAS["mae"], mean_absolute_error=_KERAS["mae"], MeanAbsoluteError=_KERAS["mae"],
              Huber=_KERAS["huber"], Hinge=_KERAS["hinge"])

_PYTORCH_FORMULA_COSTS = ["l1_loss", "L1Loss", "huber_loss", "HuberLoss", "smooth_l1_loss", "SmoothL1Loss",
                          "hinge_embedding_loss", "HingeEmbeddingLoss", "poisson_nll_loss", "PoissonNLLLoss",
                          "gaussian_nll_loss", "GaussianNLLLoss"]


def _data(name: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Outputs, targets and the model's number of outputs for the cost ``name``: labels of ±1 for the hinges,
    counts for the Poisson likelihood, a mean and a log-variance for the Gaussian one."""
    n = 6
    if "hinge" in name.lower():
        return RNG.uniform(-2, 2, (n, 1)), np.where(RNG.random((n, 1)) < 0.5, -1.0, 1.0), 1
    if "poisson" in name.lower():
        return RNG.normal(size=(n, 1)), RNG.integers(0, 5, (n, 1)).astype(float), 1
    if "gaussian" in name.lower():
        return RNG.normal(size=(n, 2)), RNG.normal(size=(n, 1)), 2
    return RNG.normal(size=(n, 1)) * 2, RNG.normal(size=(n, 1)), 1


@pytest.mark.parametrize("name", _PYTORCH_FORMULA_COSTS + sorted(_KERAS))
def test_fit_given_a_costs_name_says_the_function_to_pass_and_it_is_that_cost(name: str) -> None:
    library = "Keras" if name in _KERAS else "PyTorch"
    message = _message(lambda: _fit(name))
    found = re.search(rf"for {library}'s {name!r}, import tinygrad_edu\.functional as F and give "
                      r"cost=(lambda [^:]*: .*?)(?:, for |$)", message)
    assert found, message
    cost = eval(found[1], {"F": F, "np": np})  # noqa: S307 (the advice is code to paste)
    outputs, targets, width = _data(name)
    history = _fit(cost, np.linspace(-2.0, 2.0, 6).reshape(6, 1) if width == 1 else targets, width)
    assert np.isfinite(history.final_cost)

    def number(p: np.ndarray) -> float:
        return float(cost(Value(p), targets).data)

    reference = _KERAS[name] if name in _KERAS else _pytorch_reference(name)
    if reference is not None:
        assert number(outputs) == pytest.approx(reference(outputs, targets), rel=1e-12)
    p = Value(outputs.copy())
    cost(p, targets).backward()
    np.testing.assert_allclose(p.grad, central_difference(number, outputs), rtol=1e-6, atol=1e-9)


# --- defect: F.huber_loss said "write ...", losses.huber_loss "write the cost, ..."; nn.MSELoss said less ------------
@pytest.mark.parametrize("name", ["l1_loss", "huber_loss", "smooth_l1_loss", "hinge_embedding_loss",
                                  "gaussian_nll_loss", "poisson_nll_loss"])
def test_a_pytorch_cost_says_the_same_through_f_and_losses(name: str) -> None:
    through_f = _message(lambda: getattr(F, name)).split(" (a PyTorch name); ", 1)[1]
    through_losses = _message(lambda: getattr(losses, name)).split(" (a PyTorch name); ", 1)[1]
    assert through_f == through_losses
    assert through_f.startswith("write the cost, ")


@pytest.mark.parametrize("name", ["MSELoss", "CrossEntropyLoss", "mse_loss"])
def test_torch_nns_costs_say_in_nn_what_they_say_in_losses(name: str) -> None:
    in_losses = _message(lambda: getattr(losses, name)).split(" (a PyTorch name); ", 1)[1]
    in_nn = _message(lambda: getattr(nn, name)).split(" (a PyTorch name); ", 1)[1]
    assert in_nn == in_losses


def test_the_distributions_advice_runs_and_is_torchs_log_probability() -> None:
    message = _message(lambda: tinygrad_edu.distributions, (AttributeError,))
    normal = message.split("Normal(mu, sigma).log_prob(x) is ", 1)[1].split(", Categorical", 1)[0]
    mu0, sigma0, x = RNG.normal(size=4), np.exp(RNG.normal(size=4)), RNG.normal(size=4)

    def log_prob(mu_sigma: np.ndarray) -> float:
        return float(eval(normal, {"np": np, "mu": Value(mu_sigma[0]), "sigma": Value(mu_sigma[1]),  # noqa: S307
                                   "x": x}).data.sum())

    closed = (-((x - mu0) / sigma0) ** 2 / 2 - np.log(sigma0) - 0.5 * np.log(2 * np.pi)).sum()
    assert log_prob(np.stack([mu0, sigma0])) == pytest.approx(closed, rel=1e-13)
    mu, sigma = Value(mu0), Value(sigma0)
    eval(normal, {"np": np, "mu": mu, "sigma": sigma, "x": x}).sum().backward()  # noqa: S307
    numeric = central_difference(log_prob, np.stack([mu0, sigma0]))
    np.testing.assert_allclose(mu.grad, numeric[0], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(sigma.grad, numeric[1], rtol=1e-6, atol=1e-9)


# --- defect: v.argmax(dim=1)'s advice had no axis ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_advice_says_the_axis_of_pytorchs_dim(name: str) -> None:
    data = RNG.normal(size=(4, 3))
    v = Value(data)
    message = _message(lambda: getattr(v, name)(dim=1))
    found = re.search(rf"v\.data\.{name}\(axis=1\)", message)
    assert found, message
    np.testing.assert_array_equal(eval(found[0], {"v": v}), getattr(np, name)(data, axis=1))  # noqa: S307
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(eval(found[0], {"v": v}),  # noqa: S307
                                  getattr(torch.tensor(data), name)(dim=1).numpy())


# --- defect: Keras's mae, huber and hinge got no advice --------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(_KERAS))
def test_keras_costs_written_as_formulas_say_a_formula_that_is_kerass_cost(name: str) -> None:
    message = _message(lambda: getattr(losses, name))
    assert " (a Keras name); write the cost, " in message, message
    formula = message.split("write the cost, ", 1)[1].split(", for ", 1)[0]
    outputs, targets, _ = _data("hinge" if "inge" in name else name)

    def number(p: np.ndarray) -> float:
        return float(eval(formula, {"F": F, "p": Value(p), "y": targets, "delta": 1.0}).data)  # noqa: S307

    assert number(outputs) == pytest.approx(_KERAS[name](outputs, targets), rel=1e-12)
    p = Value(outputs.copy())
    eval(formula, {"F": F, "p": p, "y": targets, "delta": 1.0}).backward()  # noqa: S307
    np.testing.assert_allclose(p.grad, central_difference(number, outputs), rtol=1e-6, atol=1e-9)


# --- defect: numpy's heaviside, fmax, fmin, median, log2, log10, exp2 on a Value got the generic refusal ------------
def _formula(message: str) -> str:
    """The formula a refusal ends with: after "; write " (a ufunc) or in "(here: …)" (numpy's other functions)."""
    if "(here: " in message:
        return message.split("(here: ", 1)[1][:-1]
    assert "; write " in message, message
    return message.split("; write ", 1)[1]


_UNARY = {"log2": (np.log2, lambda f: f), "log10": (np.log10, lambda f: f), "exp2": (np.exp2, lambda f: f),
          "median": (np.median, lambda f: f.split(", the middle", 1)[0])}


@pytest.mark.parametrize("name", sorted(_UNARY))
@pytest.mark.parametrize("size", [5, 6])
def test_numpys_one_argument_functions_on_a_value_say_a_formula_with_their_numbers_and_gradient(name, size) -> None:
    function, code = _UNARY[name]
    x0 = RNG.uniform(0.5, 3.0, size)
    formula = code(_formula(_message(lambda: function(Value(x0)))))
    weights = RNG.normal(size=np.shape(function(x0)))

    def number(x: np.ndarray) -> float:
        return float((eval(formula, {"np": np, "v": Value(x)}).data * weights).sum())  # noqa: S307

    v = Value(x0.copy())
    out = eval(formula, {"np": np, "v": v})  # noqa: S307
    np.testing.assert_allclose(out.data, function(x0), rtol=1e-13)
    (out * weights).sum().backward()
    np.testing.assert_allclose(v.grad, central_difference(number, x0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(v.grad, central_difference(lambda x: float((function(x) * weights).sum()), x0),
                               rtol=1e-6, atol=1e-9)


def test_the_median_advice_along_an_axis_is_numpys() -> None:
    x0 = RNG.normal(size=(3, 4))
    message = _formula(_message(lambda: np.median(Value(x0), axis=1)))
    formula = message.split("along axis 1 of a matrix, ", 1)[1].split(" with m = ", 1)[0]
    v = Value(x0.copy())
    out = eval(formula, {"np": np, "v": v, "m": x0.shape[1]})  # noqa: S307
    np.testing.assert_allclose(out.data, np.median(x0, axis=1), rtol=1e-13)
    out.sum().backward()
    np.testing.assert_allclose(v.grad, central_difference(lambda x: float(np.median(x, axis=1).sum()), x0), rtol=1e-6,
                               atol=1e-9)


@pytest.mark.parametrize("name", ["fmax", "fmin"])
def test_fmax_and_fmin_on_values_say_a_formula_with_their_numbers_nan_and_all(name: str) -> None:
    function = getattr(np, name)
    a0, b0 = RNG.normal(size=6), RNG.normal(size=6)
    a0[1] = b0[4] = np.nan
    message = _formula(_message(lambda: function(Value(a0), Value(b0))))
    plain = message.split(" where neither holds NaN", 1)[0]
    with_nan = message.split(": ", 1)[1]
    for formula, keep in ((plain, ~(np.isnan(a0) | np.isnan(b0))), (with_nan, np.ones(6, bool))):
        a, b = Value(a0.copy()), Value(b0.copy())
        out = eval(formula, {"np": np, "functional": F, "a": a, "b": b})  # noqa: S307
        np.testing.assert_array_equal(out.data[keep], function(a0, b0)[keep])
        (out * np.where(keep, 1.0, 0.0)).sum().backward()
        finite = keep & ~np.isnan(a0) & ~np.isnan(b0)
        expected = central_difference(lambda x, finite=finite: float(np.where(finite, function(x, b0), 0.0).sum()),
                            np.nan_to_num(a0))
        np.testing.assert_allclose(a.grad[finite], expected[finite], rtol=1e-6, atol=1e-9)
        assert np.isfinite(a.grad).all() and np.isfinite(b.grad).all()
    a, b = Value(a0.copy()), Value(b0.copy())
    eval(with_nan, {"np": np, "functional": F, "a": a, "b": b}).sum().backward()  # noqa: S307
    assert b.grad[1] == 1.0 and a.grad[4] == 1.0  # (where one is NaN, the other number, and its gradient)


def test_heaviside_on_a_value_says_the_step_on_the_numbers_and_the_straight_through_estimator() -> None:
    x0 = np.array([-1.5, 0.0, 0.7, 2.0, -0.2])
    message = _formula(_message(lambda: np.heaviside(Value(x0), 0.5)))
    assert "derivative is 0" in message
    on_numbers = re.match(r"np\.heaviside\(v\.data, h\)", message)
    assert on_numbers, message
    np.testing.assert_array_equal(eval(on_numbers[0], {"np": np, "v": Value(x0), "h": 0.5}),  # noqa: S307
                                  np.heaviside(x0, 0.5))
    assert not central_difference(lambda x: float(np.heaviside(x, 0.5).sum()), x0[x0 != 0]).any()  # (0 off the jump)
    straight = re.search(r"v \+ \(np\.heaviside\(v\.data, h\) - v\.data\)", message)
    assert straight, message
    v = Value(x0.copy())
    out = eval(straight[0], {"np": np, "v": v, "h": 0.5})  # noqa: S307
    np.testing.assert_array_equal(out.data, np.heaviside(x0, 0.5))
    (out * np.arange(1.0, 6.0)).sum().backward()
    np.testing.assert_array_equal(v.grad, np.arange(1.0, 6.0))  # passed straight through


@pytest.mark.parametrize("name", ["log2", "log10", "exp2"])
def test_pytorchs_log2_log10_and_exp2_methods_say_what_numpys_functions_say(name: str) -> None:
    v = Value(np.array([0.5, 2.0]))
    method = _formula(_message(lambda: getattr(v, name)()))
    assert method == _formula(_message(lambda: getattr(np, name)(v)))
    np.testing.assert_allclose(eval(method, {"np": np, "v": v}).data, getattr(np, name)(v.data), rtol=1e-15)  # noqa: S307
