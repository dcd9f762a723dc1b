"""An audit of the reductions: ``Value.sum/mean/max/min`` (the package has no var, std, prod, logsumexp or norm; numpy's
and PyTorch's names for them give advice instead) over ``axis=None``, ints, negative ints and tuples, with and
without ``keepdims``, on 0-d and empty inputs, with ties, NaN and ±inf, in float32; forward values against numpy,
first and second derivatives against closed forms, PyTorch and central differences; the mean of the costs and of
``fit``'s mini-batch episodes against the full-batch mean.

The defects (marked xfail) are in the advice given where numpy's own reductions meet a Value, and in the player's
formula for a reduction over numpy integer axes."""

import re
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, fit, losses, nn, no_grad, optim
from tinygrad_edu.player import forward_formula

REDUCTIONS = ("sum", "mean", "max", "min")


#: The formula of a refusal, "(here: …)" at its end (before a 2-norm's note on its gradient at 0).
_HERE = r"\(here: (.*?)\)(?:; at v = 0, .*)?$"


def _advice(call: Any) -> str:
    """The formula a refused numpy call suggests: the text of ``(here: …)`` or after ``write``."""
    with pytest.raises(TypeError) as caught:
        call()
    message = str(caught.value)
    found = re.search(_HERE, message) or re.search(r"; write (.*)$", message)
    assert found, message
    return found.group(1)


def _evaluate(formula: str, v: Value, **names: Any) -> np.ndarray:
    """The numbers of a suggested formula, evaluated with ``v`` (and ``axis``, ``n``) as given."""
    formula = formula.removesuffix(", n the numbers along axis").removesuffix(" for positive numbers")
    return eval(formula, {"np": np}, {"v": v, **names}).data  # noqa: S307 - the package's own advice, to check it


# --- defects -----------------------------------------------------------------------------------------------------
def test_a_refused_ufunc_reduce_advises_the_reduction_along_the_axis_it_was_given():
    data = np.array([[1.0, 2.0, 4.0], [3.0, 0.5, 2.0]])
    v = Value(data)
    for ufunc in (np.add, np.maximum, np.minimum, np.multiply):
        for axis in (0, 1, -1, None, (0, 1)):
            formula = _advice(lambda: ufunc.reduce(v, axis=axis))  # noqa: B023 - called at once
            np.testing.assert_allclose(_evaluate(formula, v), ufunc.reduce(data, axis=axis), rtol=1e-12,
                                       err_msg=f"np.{ufunc.__name__}.reduce(v, axis={axis}): {formula}")
        formula = _advice(lambda: ufunc.reduce(v, 1))  # noqa: B023 - (numpy hands a positional axis by name too)
        np.testing.assert_allclose(_evaluate(formula, v), ufunc.reduce(data, 1), rtol=1e-12)


def test_the_advice_for_numpys_variance_keeps_the_ddof_asked_for():
    data = np.array([[1.0, 2.0, 4.0], [3.0, 0.5, 2.0], [0.0, 1.5, -1.0]])
    v = Value(data)
    for name, function in (("var", np.var), ("std", np.std)):
        for ddof in (0, 1, 2):
            np.testing.assert_allclose(_evaluate(_advice(lambda: function(v, ddof=ddof)), v),  # noqa: B023
                                       function(data, ddof=ddof), rtol=1e-12, err_msg=f"np.{name}, ddof={ddof}")
            for axis in (0, 1):
                formula = _advice(lambda: function(v, axis=axis, ddof=ddof))  # noqa: B023
                np.testing.assert_allclose(_evaluate(formula, v, axis=axis, n=data.shape[axis]),
                                           function(data, axis=axis, ddof=ddof), rtol=1e-12,
                                           err_msg=f"np.{name}, axis={axis}, ddof={ddof}: {formula}")
        formula = _advice(lambda: function(v, None, None, None, 1))  # noqa: B023 - ddof given by position
        np.testing.assert_allclose(_evaluate(formula, v), function(data, ddof=1), rtol=1e-12)


def test_the_advice_for_numpys_norm_is_the_norm_asked_for_or_none():
    data = np.array([[1.0, -2.0, 4.0], [3.0, 0.5, -2.0]])
    v = Value(data)
    assert np.isclose(_evaluate(_advice(lambda: np.linalg.norm(v)), v), np.linalg.norm(data))
    for axis in (0, 1, -1):
        formula = _advice(lambda: np.linalg.norm(v, axis=axis))  # noqa: B023
        np.testing.assert_allclose(_evaluate(formula, v, axis=axis), np.linalg.norm(data, axis=axis), rtol=1e-12)
    for ord_ in (1, np.inf, 2, -1):  # (a matrix's 2-norm is its largest singular value, not √Σx²)
        with pytest.raises(TypeError) as caught:
            np.linalg.norm(v, ord=ord_)
        advised = re.search(_HERE, str(caught.value))
        assert advised is None or np.isclose(_evaluate(advised.group(1), v), np.linalg.norm(data, ord=ord_)), \
            f"ord={ord_}: {advised and advised.group(1)}"


def test_the_players_formula_writes_a_reductions_numpy_integer_axes_as_python_does():
    x = Value(np.ones((2, 3)), label="x")
    axes = tuple(np.arange(2))  # (what tuple(np.nonzero(...)[0]) or tuple(np.arange(k)) give: numpy integers)
    assert forward_formula(x.sum(axis=axes), ["x"]) == "Σ(x, axis=(0, 1))"
    assert forward_formula(x.max(axis=(np.int32(-1),)), ["x"]) == "max(x, axis=(-1,))"
    assert forward_formula(x.mean(axis=np.int64(1)), ["x"]) == "mean(x, axis=1)"


# --- guards: forward against numpy, derivatives against closed forms, PyTorch and central differences --------------
@st.composite
def _reductions(draw: Any) -> tuple[np.ndarray, Any, bool]:
    """Small-integer data (so ties are common), with sides 0 to 3, and an axis: None, an int (maybe negative) or a
    tuple of distinct axes in any order (maybe negative); keepdims either way."""
    shape = draw(st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple))
    data = np.array(draw(st.lists(st.integers(-2, 2), min_size=int(np.prod(shape)), max_size=int(np.prod(shape)))),
                    dtype=np.float64).reshape(shape)
    ndim = len(shape)
    if ndim == 0:
        axis = draw(st.sampled_from([None, ()]))
    else:
        one = st.integers(-ndim, ndim - 1)
        several = st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).flatmap(
            lambda axes: st.tuples(*(st.sampled_from([a, a - ndim]) for a in axes)))
        axis = draw(st.one_of(st.none(), one, several))
    return data, axis, draw(st.booleans())


def _closed_form_gradient(name: str, data: np.ndarray, axis: Any, keepdims: bool, upstream: np.ndarray) -> np.ndarray:
    """∂/∂x of Σ upstream · reduce(x): upstream spread back; ÷ the count for mean; for max/min only to the extremes,
    split evenly between ties."""
    axes = tuple(range(data.ndim)) if axis is None else tuple(a % data.ndim for a in np.atleast_1d(axis))
    spread = np.broadcast_to(upstream if keepdims else np.expand_dims(upstream, axes), data.shape)
    if name == "sum":
        return spread.copy()
    if name == "mean":
        return spread / int(np.prod([data.shape[a] for a in axes]))
    extreme = data == getattr(np, name)(data, axis=axes, keepdims=True)
    return spread * extreme / extreme.sum(axis=axes, keepdims=True)


@given(_reductions())
def test_reductions_agree_with_numpy_and_their_gradients_with_the_closed_forms(case):
    data, axis, keepdims = case
    rng = np.random.default_rng(data.size)
    for name in REDUCTIONS:
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # (numpy's "Mean of empty slice")
                expected = getattr(np, name)(data, axis=axis, keepdims=keepdims)
        except ValueError:  # numpy refuses (max of no numbers): so does the Value, naming the reduction
            with pytest.raises(ValueError, match=rf"^{name}: .*{re.escape(str(data.shape))}"):
                getattr(Value(data), name)(axis=axis, keepdims=keepdims)
            continue
        if name == "mean" and np.isnan(expected).any():  # the mean of no numbers: refused, not numpy's warned NaN
            with pytest.raises(ValueError, match=r"^mean: the mean of no numbers is undefined"):
                Value(data).mean(axis=axis, keepdims=keepdims)
            continue
        x = Value(data)
        out = getattr(x, name)(axis=axis, keepdims=keepdims)
        np.testing.assert_array_equal(out.data, expected)
        assert out.shape == np.shape(expected) and out.dtype == np.float64
        upstream = rng.normal(size=out.shape)
        out.backward(upstream)
        np.testing.assert_allclose(x.grad, _closed_form_gradient(name, data, axis, keepdims, upstream), rtol=1e-14,
                                   atol=0, err_msg=f"{name}(axis={axis}, keepdims={keepdims})")


@given(_reductions())
def test_first_and_second_derivatives_through_reductions_with_ties_match_pytorch(case):
    """PyTorch's amax/amin also split the gradient evenly between ties; at order 2 the split is a constant mask."""
    torch = pytest.importorskip("torch")
    data, axis, keepdims = case
    if not data.size:
        return
    rng = np.random.default_rng(7)
    w, direction = rng.normal(size=data.shape), rng.normal(size=data.shape)
    dims = tuple(range(data.ndim)) if axis is None else axis
    for name in REDUCTIONS:
        x = Value(data)
        reduced = getattr(x * w, name)(axis=axis, keepdims=keepdims)
        c = rng.normal(size=reduced.shape)
        (reduced * reduced * reduced * c).sum().backward(create_graph=True)
        slope = x.grad
        x.zero_grad()
        (slope * direction).sum().backward()

        t = torch.tensor(data, requires_grad=True)
        function = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax, "min": torch.amin}[name]
        if data.ndim == 0:
            t_reduced = t * torch.tensor(w)
        else:
            t_reduced = function(t * torch.tensor(w), dim=dims, keepdim=keepdims) if dims != () else t * torch.tensor(w)
        (t_slope,) = torch.autograd.grad((t_reduced ** 3 * torch.tensor(c)).sum(), t, create_graph=True)
        (t_curvature,) = torch.autograd.grad((t_slope * torch.tensor(direction)).sum(), t)
        np.testing.assert_allclose(reduced.data, t_reduced.detach().numpy(), rtol=1e-13)
        np.testing.assert_allclose(slope.data, t_slope.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(x.grad, t_curvature.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", REDUCTIONS)
def test_second_derivatives_through_a_reduction_match_central_differences_of_the_first(name):
    """H·d of f(x) = Σ c · reduce(x ⊙ x ⊙ w)² (no ties) against central differences of the gradient, in float64."""
    rng = np.random.default_rng(3)
    data = rng.permutation(np.linspace(0.5, 2.0, 12)).reshape(3, 4)
    w, c, direction = rng.uniform(0.5, 1.5, size=(3, 4)), rng.normal(size=4), rng.normal(size=(3, 4))

    def gradient(at: np.ndarray, graph: bool = False) -> Value | np.ndarray:
        x = Value(at)
        reduced = getattr(x * x * w, name)(axis=0)
        (reduced * reduced * c).sum().backward(create_graph=graph)
        return x.grad if graph else np.array(x.grad)

    x = Value(data)
    reduced = getattr(x * x * w, name)(axis=0)
    (reduced * reduced * c).sum().backward(create_graph=True)
    slope = x.grad
    x.zero_grad()
    (slope * direction).sum().backward()
    h = 1e-5
    numeric = (gradient(data + h * direction) - gradient(data - h * direction)) / (2 * h)
    np.testing.assert_allclose(x.grad, numeric, rtol=1e-6, atol=1e-8)


def test_ties_nan_and_infinities_share_the_gradient_as_pytorchs_full_max_does():
    """Ties split evenly (three ways: ⅓ each, though a central difference at a tie finds ½); +inf ties with +inf;
    NaN wins the max and takes the gradient (split between NaNs); -0.0 and 0.0 tie."""
    cases = {(1.0, 1.0, 1.0, 0.0): [1 / 3, 1 / 3, 1 / 3, 0.0], (np.inf, 1.0, np.inf): [0.5, 0.0, 0.5],
             (np.nan, 1.0, np.nan, 5.0): [0.5, 0.0, 0.5, 0.0], (-0.0, 0.0): [0.5, 0.5],
             (-np.inf, -np.inf): [0.5, 0.5]}
    for data, share in cases.items():
        for name, sign in (("max", 1.0), ("min", -1.0)):
            x = Value(sign * np.array(data))
            getattr(x, name)().backward()
            np.testing.assert_array_equal(x.grad, share, err_msg=f"{name} of {sign * np.array(data)}")


@pytest.mark.parametrize("name", REDUCTIONS)
def test_float32_stays_float32_through_first_and_second_derivatives(name):
    x = Value(np.array([[1.0, 3.0, 3.0], [2.0, 0.5, 4.0]], dtype=np.float32))
    reduced = getattr(x * x, name)(axis=1, keepdims=True)
    assert reduced.dtype == np.float32
    (reduced * reduced).sum().backward(create_graph=True)
    slope = x.grad
    assert isinstance(slope, Value) and slope.dtype == np.float32
    x.zero_grad()
    slope.sum().backward()
    assert x.grad.dtype == np.float32
    data = x.data.astype(np.float64)
    r = getattr(np, name)(data * data, axis=1, keepdims=True)
    mask = {"sum": np.ones_like(data), "mean": np.full_like(data, 1 / 3)}.get(name)
    if mask is None:
        extreme = data * data == r
        mask = extreme / extreme.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(slope.data, 2 * r * mask * 2 * data, rtol=1e-6)  # 2r · ∂r/∂x, ∂r/∂x = mask · 2x


def test_a_float32_mean_of_many_tiny_numbers_keeps_its_digits_and_its_gradient_is_exactly_one_over_n():
    n = 2 ** 20
    x = Value(np.full(n, 1e-30, dtype=np.float32))
    mean = x.mean()
    assert mean.dtype == np.float32
    assert abs(float(mean) - float(np.float32(1e-30))) <= 1e-6 * 1e-30  # pairwise, not a drifting running sum
    assert abs(float(x.sum()) - n * float(np.float32(1e-30))) <= 1e-6 * n * 1e-30
    mean.backward()
    assert x.grad.dtype == np.float32 and np.all(x.grad == np.float32(1 / n))


def test_empty_inputs_follow_numpys_rules_or_name_the_reduction():
    x = Value(np.zeros((0, 3)))
    total = x.sum()
    assert total.item() == 0.0
    total.backward()
    assert x.grad.shape == (0, 3)
    np.testing.assert_array_equal(Value(np.zeros((0, 3))).sum(axis=0).data, np.zeros(3))
    for name in ("max", "min", "mean"):
        with pytest.raises(ValueError, match=rf"^{name}: .*\(0, 3\)"):
            getattr(Value(np.zeros((0, 3))), name)(axis=0)
        assert getattr(Value(np.zeros((0, 3))), name)(axis=1).shape == (0,)  # no rows: no number to reduce


# --- guards: the seed's averaged cost and gradient, in the costs and in fit ----------------------------------------
@pytest.mark.parametrize("cost_name", ["squared_error", "mean_squared_error", "cross_entropy"])
def test_the_costs_gradient_is_the_average_of_the_samples_and_fits_batches_average_to_the_full_mean(cost_name):
    """Section 7.1: the batch cost's gradient is the mean of the per-sample gradients; fit's mini-batch episode cost
    (batches of 3, 3, 3 and 1, weighted by size) at a model that does not move is the full-batch cost."""
    rng = np.random.default_rng(1)
    inputs = rng.normal(size=(10, 3))
    targets = rng.integers(0, 2, size=10) if cost_name == "cross_entropy" else rng.normal(size=(10, 2))
    cost = getattr(losses, cost_name)
    net = nn.MLP([3, 4, 2], rng=0, **({"output_activation": "identity"} if cost_name == "cross_entropy" else {}))
    params = net.parameters()
    cost(net(Value(inputs, requires_grad=False)), targets).backward()
    whole = [np.array(p.grad) for p in params]
    average = [np.zeros_like(g) for g in whole]
    for i in range(10):
        for p in params:
            p.zero_grad()
        cost(net(Value(inputs[i:i + 1], requires_grad=False)), targets[i:i + 1]).backward()
        for total, p in zip(average, params, strict=True):
            total += p.grad / 10
    for total, g in zip(average, whole, strict=True):
        np.testing.assert_allclose(g, total, rtol=1e-12, atol=1e-15)
    with no_grad():
        full = float(cost(net(Value(inputs, requires_grad=False)), targets))
    history = fit(net, inputs, targets, cost=cost, optimizer=optim.GradientDescent(params, learning_rate=1e-300),
                  episodes=1, batch_size=3, progress=False, seed=0)
    assert history.cost[0] == pytest.approx(full, rel=1e-14)
