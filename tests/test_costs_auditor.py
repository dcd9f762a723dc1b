"""An audit of the costs (tinygrad_edu.losses) against their docstrings, hand-written numpy, central differences and
torch.nn.functional: values, gradients, second derivatives, extreme inputs and the forms labels come in."""

import math

import numpy as np
import pytest
from helpers_gradients import central_difference  # float64 central differences, independent of the engine
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, data, losses
from tinygrad_edu.autodiff import hessian

torch = pytest.importorskip("torch")
TF = torch.nn.functional


shapes = st.sampled_from([(), (1,), (4,), (1, 1), (6, 1), (1, 5), (3, 4)])


# --- guards: the documented formulas, against numpy, central differences and torch ---------------------------

@given(shape=shapes, seed=st.integers(0, 2 ** 16))
def test_squared_error_is_the_seeds_sum_averaged_over_the_samples(shape, seed):
    """C = (1/n) Σ_s Σ_j (y − y')², n the rows of a batch (1 for a single sample or a number): torch's
    mse_loss(reduction='sum') / n; its gradient 2(y − y')/n, checked by central differences too."""
    rng = np.random.default_rng(seed)
    prediction, target = rng.normal(size=shape), rng.normal(size=shape)
    n = shape[0] if len(shape) == 2 else 1
    y = Value(prediction)
    cost = losses.squared_error(y, target)
    cost.backward()
    by_hand = np.sum((prediction - target) ** 2) / n
    tp = torch.tensor(prediction, requires_grad=True)
    (TF.mse_loss(tp, torch.tensor(target), reduction="sum") / n).backward()
    assert math.isclose(float(cost), by_hand, rel_tol=1e-12)
    np.testing.assert_allclose(y.grad, tp.grad.numpy(), rtol=1e-12, atol=1e-15)
    numeric = central_difference(lambda p: float(losses.squared_error(p, target)), prediction, 1e-6)
    np.testing.assert_allclose(y.grad, numeric, rtol=1e-6, atol=1e-8)


@given(shape=shapes, seed=st.integers(0, 2 ** 16))
def test_mean_squared_error_is_torchs_mse_loss_mean(shape, seed):
    rng = np.random.default_rng(seed)
    prediction, target = rng.normal(size=shape), rng.normal(size=shape)
    y = Value(prediction)
    cost = losses.mean_squared_error(y, target)
    cost.backward()
    tp = torch.tensor(prediction, requires_grad=True)
    expected = TF.mse_loss(tp, torch.tensor(target), reduction="mean")
    expected.backward()
    assert math.isclose(float(cost), expected.item(), rel_tol=1e-12)
    np.testing.assert_allclose(y.grad, tp.grad.numpy(), rtol=1e-12, atol=1e-15)


def _label_forms(labels: np.ndarray, classes: int) -> list:
    """One batch's labels in every form the docstring promises gives the same cost."""
    one_hot = np.eye(classes)[labels]
    indices = [labels, labels.tolist(), labels.astype(np.uint8), labels.astype(np.int8), labels.astype(float),
               labels.astype(np.float32), Value(labels.astype(float), requires_grad=False)]
    if classes == 1:  # (refused but for soft targets given as a Value: a cost of 0 that trains nothing)
        return [*indices, Value(one_hot, requires_grad=False), one_hot]
    return [*indices, one_hot.astype(int), one_hot.astype(bool), one_hot.astype(np.int8), one_hot.tolist(), one_hot]


@given(n=st.integers(1, 5), k=st.integers(1, 5), scale=st.sampled_from([1e-3, 1.0, 30.0, 1e4]),
       seed=st.integers(0, 2 ** 16))
def test_cross_entropy_matches_torch_for_every_form_of_the_labels(n, k, scale, seed):
    """Class indices (ints, ints as floats, small int dtypes, lists) and one-hot rows (ints, bools, floats) all give
    torch's cross_entropy and its gradient, for logits up to ±1e4 (no overflow, exact where it dominates)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k)) * scale
    labels = rng.integers(0, k, size=n)
    tl = torch.tensor(logits, requires_grad=True)
    expected = TF.cross_entropy(tl, torch.tensor(labels))
    expected.backward()
    for form in _label_forms(labels, k):
        x = Value(logits)
        soft = isinstance(form, Value) and form.shape == (n, k)  # (soft targets as a Value: kept, as in PyTorch)
        if k == 1 and not soft:  # one output neuron: torch's cost of 0 with a gradient of 0 trains nothing: refused
            with pytest.raises(ValueError, match="2 output neurons"):
                losses.cross_entropy(x, form)
            continue
        cost = losses.cross_entropy(x, form)
        cost.backward()
        assert math.isclose(float(cost), expected.item(), rel_tol=1e-12, abs_tol=1e-14), type(form)
        np.testing.assert_allclose(x.grad, tl.grad.numpy(), rtol=1e-10, atol=1e-14)


@given(k=st.integers(2, 6), seed=st.integers(0, 2 ** 16))
def test_cross_entropy_of_one_sample_is_minus_the_log_probability_of_its_class(k, seed):
    """Logits (k,) and a class index (): −ln softmax(x)[c], gradient softmax(x) − e_c (central differences)."""
    rng = np.random.default_rng(seed)
    logits, label = rng.normal(size=k) * 3, int(rng.integers(0, k))
    x = Value(logits)
    cost = losses.cross_entropy(x, label)
    cost.backward()
    shifted = logits - logits.max()  # ln Σ e^shifted = ln(1 + the others), as log1p (ln of 1.00003 loses digits)
    by_hand = np.log1p(np.exp(np.delete(shifted, np.argmax(logits))).sum()) - shifted[label]
    assert math.isclose(float(cost), by_hand, rel_tol=1e-12)
    numeric = central_difference(lambda z: float(losses.cross_entropy(z, label)), logits, 1e-6)
    np.testing.assert_allclose(x.grad, numeric, rtol=1e-6, atol=1e-8)


@given(n=st.integers(1, 4), k=st.integers(2, 4), soft=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_the_second_derivative_of_cross_entropy_is_the_closed_form(n, k, soft, seed):
    """∂²C/∂x_s∂x_s = (diag(p_s) − p_s p_sᵀ)·(Σ q_s)/n for each sample s, 0 across samples (p = softmax), whether
    the targets are class indices or rows of probabilities: the log_softmax rule differentiated again."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k)) * 2
    targets = rng.dirichlet(np.ones(k), size=n) if soft else rng.integers(0, k, size=n)
    matrix = hessian(lambda x: losses.cross_entropy(x, targets))(logits).data.reshape(n * k, n * k)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    expected = np.zeros((n * k, n * k))
    for s in range(n):
        expected[s * k:(s + 1) * k, s * k:(s + 1) * k] = (np.diag(p[s]) - np.outer(p[s], p[s])) / n
    np.testing.assert_allclose(matrix, expected, atol=1e-12)


@given(n=st.integers(1, 4), k=st.integers(1, 3), seed=st.integers(0, 2 ** 16))
def test_the_second_derivative_of_the_seeds_cost_is_two_over_n(n, k, seed):
    """Not ½(y − y')²: the seed's C has Hessian 2/n · I (n samples), so its gradient is 2(y − y')/n."""
    rng = np.random.default_rng(seed)
    target = rng.normal(size=(n, k))
    matrix = hessian(lambda y: losses.squared_error(y, target))(rng.normal(size=(n, k))).data
    np.testing.assert_allclose(matrix.reshape(n * k, n * k), 2 / n * np.eye(n * k), atol=1e-14)


def test_float32_logits_of_plus_minus_ten_thousand_stay_finite_and_float32():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0], [0.0, 1e4, -1e4]], dtype=np.float32)
    labels = np.array([1, 1, 0])
    x = Value(logits)
    cost = losses.cross_entropy(x, labels)
    cost.backward()
    tl = torch.tensor(logits, requires_grad=True)
    expected = TF.cross_entropy(tl, torch.tensor(labels))
    expected.backward()
    assert cost.data.dtype == np.float32 and x.grad.dtype == np.float32
    assert np.isfinite(float(cost)) and math.isclose(float(cost), expected.item(), rel_tol=1e-6)
    np.testing.assert_allclose(x.grad, tl.grad.numpy(), rtol=1e-6, atol=1e-7)


# --- defects -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("logits, labels", [
    ([[1e4, 0.0]], [0]),                        # class indices, one sure answer
    ([[0.0, 1e4], [1e4, 0.0]], [[0, 1], [1, 0]]),  # integer one-hot rows
    ([1e4, 0.0, -1e4], 0),                      # one sample, logits (k,)
])
def test_a_perfect_prediction_costs_plus_zero(logits, labels):
    cost = float(losses.cross_entropy(logits, labels))
    assert cost == 0.0 and math.copysign(1.0, cost) == 1.0, repr(cost)
    assert f"{cost:.4g}" == "0"


def test_the_gradient_of_cross_entropy_is_softmax_minus_one_hot_over_n():
    """∂C/∂x = (softmax(x) − one_hot)/n, by central differences and by the closed form."""
    logits = np.array([[2.0, 0.5, -1.0], [0.0, 3.0, 1.0]])
    x = Value(logits)
    losses.cross_entropy(x, [0, 1]).backward()
    numeric = central_difference(lambda z: float(losses.cross_entropy(z, [0, 1])), logits, 1e-6)
    np.testing.assert_allclose(x.grad, numeric, rtol=1e-6, atol=1e-9)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(x.grad, (p - np.eye(3)[[0, 1]]) / 2, rtol=1e-12)


@pytest.mark.parametrize("name, meant", [("mse_loss", "mean_squared_error"), ("MSELoss", "mean_squared_error"),
                                         ("CrossEntropyLoss", "cross_entropy"), ("nll_loss", "cross_entropy")])
def test_pytorchs_names_for_the_costs_say_what_they_are_called_here(name, meant):
    with pytest.raises(AttributeError, match=rf"'{name}' \(a PyTorch name\); use losses\.{meant}\("):
        getattr(losses, name)
    assert getattr(losses, meant) is losses.COSTS[meant]


def test_a_typo_in_losses_is_still_a_plain_attribute_error():
    with pytest.raises(AttributeError, match=r"has no attribute 'squared_eror'$"):
        losses.squared_eror  # noqa: B018
    assert not hasattr(losses, "mse_loss") and "mse_loss" not in dir(losses)


@pytest.mark.parametrize("keyword, advice", [("ignore_index", "leave those samples out"),
                                             ("weight", "not weighted"),
                                             ("label_smoothing", "smoothed rows")])
def test_torchs_cross_entropy_keywords_say_what_to_write_here(keyword, advice):
    with pytest.raises(TypeError, match=rf"^cross_entropy: there is no argument {keyword}= .*{advice}"):
        losses.cross_entropy(np.zeros((2, 3)), [0, 1], **{keyword: 1})


def test_the_advised_replacements_for_torchs_keywords_give_torchs_numbers():
    """What the advice says to write (leave out ignored samples; weigh the log probabilities; smoothed rows)
    gives torch's cross_entropy with ignore_index, weight and label_smoothing."""
    rng = np.random.default_rng(0)
    logits, labels, w, eps = rng.normal(size=(5, 3)), np.array([0, 2, 1, 1, 0]), np.array([1.0, 2.0, 0.5]), 0.1
    t = torch.tensor(logits)
    weighted = -(w[labels] * F.log_softmax(Value(logits))[np.arange(5), labels]).sum() / w[labels].sum()
    assert math.isclose(float(weighted), TF.cross_entropy(t, torch.tensor(labels), weight=torch.tensor(w)).item(),
                        rel_tol=1e-12)
    smoothed = (1 - eps) * data.one_hot(labels, classes=3) + eps / 3
    assert math.isclose(float(losses.cross_entropy(logits, smoothed)),
                        TF.cross_entropy(t, torch.tensor(labels), label_smoothing=eps).item(), rel_tol=1e-12)
    ignored = np.array([0, -100, 2, 1, -100])
    keep = ignored != -100
    assert math.isclose(float(losses.cross_entropy(logits[keep], ignored[keep])),
                        TF.cross_entropy(t, torch.tensor(ignored)).item(), rel_tol=1e-12)


@pytest.mark.parametrize("labels", [[0, 10 ** 30], [-(10 ** 30), 1], [10 ** 20]])
def test_a_label_too_large_for_64_bits_is_named_as_out_of_range(labels):
    with pytest.raises(ValueError, match=rf"^cross_entropy: labels must lie in 0 … 2 for 3 classes, got "
                                         rf"{max(labels, key=abs)} at index {labels.index(max(labels, key=abs))} "
                                         rf"\(labels of shape \({len(labels)},\)\)$"):
        losses.cross_entropy(np.zeros((len(labels), 3)), labels)
