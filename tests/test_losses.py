"""Costs: the seed's squared error, the mean squared error and cross entropy, against closed forms."""

import warnings

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses

try:
    from tinygrad_edu.testing import check_gradients
except ImportError:  # pragma: no cover
    check_gradients = None


def test_squared_error_of_one_sample_is_the_seeds_plain_sum():
    y, target = Value([0.2, 0.9, -0.4]), np.array([0.0, 1.0, 0.5])
    cost = losses.squared_error(y, target)
    assert cost.item() == pytest.approx(0.2**2 + 0.1**2 + 0.9**2)
    cost.backward()
    np.testing.assert_allclose(y.grad, 2 * (y.data - target))


def test_squared_error_of_a_batch_averages_the_per_sample_sums():
    rng = np.random.default_rng(0)
    y, target = rng.normal(size=(7, 3)), rng.normal(size=(7, 3))
    per_sample = []
    for s in range(7):
        total = 0.0
        for j in range(3):
            total += (y[s, j] - target[s, j]) ** 2
        per_sample.append(total)
    prediction = Value(y)
    cost = losses.squared_error(prediction, Value(target, requires_grad=False))
    assert cost.item() == pytest.approx(np.mean(per_sample), rel=1e-12)
    cost.backward()
    np.testing.assert_allclose(prediction.grad, 2 * (y - target) / 7, rtol=1e-12)


def test_mean_squared_error_averages_every_element():
    y, target = np.arange(6.0).reshape(3, 2), np.ones((3, 2))
    assert losses.mean_squared_error(Value(y), target).item() == pytest.approx(np.mean((y - 1) ** 2))
    # with one output per sample the seed's cost and the MSE agree
    assert losses.squared_error(Value(y[:, :1]), target[:, :1]).item() == pytest.approx(
        losses.mean_squared_error(Value(y[:, :1]), target[:, :1]).item())


@pytest.mark.parametrize("cost", [losses.squared_error, losses.mean_squared_error])
def test_mismatched_shapes_name_both(cost):
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        cost(Value(np.zeros((4, 1))), np.zeros(4))


def _closed_form_cross_entropy(logits, labels):
    """−mean(z_label − log Σ e^z), the log-sum-exp written with the max subtracted, in numpy."""
    top = logits.max(axis=1, keepdims=True)
    log_sum = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
    return -np.mean(logits[np.arange(len(labels)), labels] - log_sum)


def test_cross_entropy_equals_the_closed_form_for_indices_and_one_hot():
    rng = np.random.default_rng(1)
    logits, labels = rng.normal(size=(5, 4)) * 3, np.array([0, 3, 1, 1, 2])
    expected = _closed_form_cross_entropy(logits, labels)
    z = Value(logits)
    cost = losses.cross_entropy(z, labels)
    assert cost.item() == pytest.approx(expected, rel=1e-12)
    cost.backward()
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(z.grad, (softmax - np.eye(4)[labels]) / 5, atol=1e-12)
    assert losses.cross_entropy(Value(logits), np.eye(4)[labels]).item() == pytest.approx(expected, rel=1e-12)
    single = losses.cross_entropy(Value(logits[1]), 3)
    assert single.item() == pytest.approx(_closed_form_cross_entropy(logits[1:2], labels[1:2]), rel=1e-12)


def test_cross_entropy_is_stable_for_huge_logits():
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
    labels = np.array([1, 2])
    z = Value(logits)
    cost = losses.cross_entropy(z, labels)
    # sample 0: the true class is 2000 below the top; sample 1: 1 below, with 1000 vs 999 competing
    expected = (2000.0 + np.log1p(np.exp(-1000.0) + np.exp(-2000.0)) + 1.0 + np.log1p(np.exp(-1.0))) / 2
    assert np.isfinite(cost.item())
    assert cost.item() == pytest.approx(expected, rel=1e-12)
    assert cost.item() == pytest.approx(_closed_form_cross_entropy(logits, labels), rel=1e-12)
    cost.backward()
    assert np.all(np.isfinite(z.grad))
    np.testing.assert_allclose(z.grad.sum(axis=1), 0.0, atol=1e-12)


def test_cross_entropy_rejects_bad_labels():
    logits = Value(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="0 … 3"):
        losses.cross_entropy(logits, [0, 4, 1])
    with pytest.raises(ValueError, match="integers"):
        losses.cross_entropy(logits, [0.5, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"\(2,\).*\(3, 4\)"):
        losses.cross_entropy(logits, [0, 1])
    assert losses.cross_entropy(logits, np.array([0.0, 1.0, 3.0])).item() == pytest.approx(np.log(4))


def test_costs_backpropagate_like_finite_differences():
    if check_gradients is None:  # pragma: no cover
        pytest.skip("tinygrad_edu.testing is not available")
    rng = np.random.default_rng(2)
    target = rng.normal(size=(4, 3))
    labels = np.array([2, 0, 1, 1])
    check_gradients(lambda y: losses.squared_error(y, target), rng.normal(size=(4, 3)))
    check_gradients(lambda y: losses.mean_squared_error(y, target), rng.normal(size=(4, 3)))
    check_gradients(lambda z: losses.cross_entropy(z, labels), rng.normal(size=(4, 3)))


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_cross_entropy_takes_integer_and_boolean_one_hot_rows(dtype):
    logits = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]])
    one_hot = np.array([[0, 0, 1], [1, 0, 0]], dtype=dtype)
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -(log_softmax[0, 2] + log_softmax[1, 0]) / 2
    assert float(losses.cross_entropy(Value(logits), one_hot)) == pytest.approx(expected, rel=1e-12)
    assert float(losses.cross_entropy(Value(logits[0]), one_hot[0])) == pytest.approx(-log_softmax[0, 2])


@pytest.mark.parametrize("cost", [losses.squared_error, losses.mean_squared_error, losses.cross_entropy])
def test_an_empty_batch_names_the_cost_and_the_shape(cost):
    target = np.zeros(0, dtype=int) if cost is losses.cross_entropy else np.zeros((0, 3))
    with pytest.raises(ValueError, match=rf"{cost.__name__}.*\(0, 3\)"):
        cost(Value(np.zeros((0, 3))), target)


# --- issue 11: labels and targets that cannot be right are named, never converted into other numbers --------

@pytest.mark.parametrize("labels, pattern", [
    ([1e20], r"0 … 1 for 2 classes, got 1e\+20 at index 0"),  # was reported as -9223372036854775808
    (np.array([2 ** 64 - 1], dtype=np.uint64), "18446744073709551615"),  # was reported as -1
    ([np.nan], "integers, got nan"),
    ([np.inf], "integers, got inf"),
    ([-1.0], "from -1.0"),
    ([0.5], "integers, got 0.5"),
    (np.array([1 + 0j]), "complex128"),
    ([[0.0, 1.0], [1.0]], "labels are not an array"),
    ([[np.nan, 1.0]], "probabilities"),
    ([[-1.0, 2.0]], "probabilities"),
    ([[0.0, 5.0]], "sums to 5"),
    ([[1.0, 1.0]], "sums to 2"),
])
def test_cross_entropy_names_impossible_labels(labels, pattern):
    with pytest.raises(ValueError, match=rf"cross_entropy: .*{pattern}"):
        losses.cross_entropy(Value([[1.0, 2.0]]), labels)


def test_cross_entropy_takes_rows_of_probabilities():
    logits, target = np.array([[1.0, 2.0, 0.5]]), np.array([[0.25, 0.5, 0.25]])
    log_softmax = logits - np.log(np.exp(logits).sum())
    assert losses.cross_entropy(Value(logits), target).item() == pytest.approx(-(log_softmax * target).sum())


@pytest.mark.parametrize("cost", [losses.squared_error, losses.mean_squared_error])
def test_a_target_holding_nan_or_inf_is_named(cost):
    with pytest.raises(ValueError, match=rf"{cost.__name__}: the target holds NaN or inf \(at index \(1, 0\)\)"):
        cost(Value(np.zeros((2, 1))), np.array([[0.0], [np.nan]]))
    with pytest.raises(ValueError, match=rf"{cost.__name__}: the target holds NaN or inf"):
        cost(Value(np.zeros(2)), [0.0, -np.inf])


@pytest.mark.parametrize("cost, arguments, pattern", [
    (losses.squared_error, ("a", "a"), "squared_error: the prediction"),
    (losses.squared_error, (Value([1.0]), None), "squared_error: the target"),
    (losses.mean_squared_error, (Value([1.0]), [1j]), "mean_squared_error: the target"),
    (losses.cross_entropy, ("ab", [0]), "cross_entropy: the logits"),
])
def test_costs_name_themselves_for_data_that_is_not_numbers(cost, arguments, pattern):
    with pytest.raises(TypeError, match=pattern):
        cost(*arguments)


@pytest.mark.parametrize("labels", [[2, 0], [[0, 0, 1], [1, 0, 0]], np.array([[0, 0, 1], [1, 0, 0]], dtype=bool)],
                         ids=["indices", "int one-hot", "bool one-hot"])
def test_a_class_ruled_out_by_minus_infinity_costs_nothing(labels):
    """As in PyTorch: a logit of −inf for a class that is not the label (a masked class) has probability 0 and
    must not turn the cost into NaN (0 · −inf)."""
    logits = np.array([[-np.inf, 1.0, 2.0], [3.0, -np.inf, 0.5]])
    z = Value(logits)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy "invalid value" warning either
        cost = losses.cross_entropy(z, labels)
        cost.backward()
    rows = [np.array([1.0, 2.0]), np.array([3.0, 0.5])]  # the classes left, labels 1 and 0 among them
    expected = np.mean([np.log(np.exp(row).sum()) - row[label] for row, label in zip(rows, [1, 0])])
    assert cost.item() == pytest.approx(expected, rel=1e-12)
    p0, p1 = (np.exp(row) / np.exp(row).sum() for row in rows)
    np.testing.assert_allclose(z.grad, np.array([[0.0, p0[0], p0[1] - 1], [p1[0] - 1, 0.0, p1[1]]]) / 2, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("logits, labels", [([-np.inf, -np.inf, -np.inf], 1),
                                            ([[0.0, 1.0], [-np.inf, -np.inf]], [0, 1]),
                                            ([[np.inf, 0.0]], [1])], ids=["1-D all -inf", "a row of -inf", "+inf"])
def test_a_row_with_no_softmax_costs_nan_without_numpys_warning(logits, labels, dtype):
    """Every class ruled out (all −inf) or a logit of +inf: ∞ − ∞ in log_softmax, so NaN as in PyTorch; numpy's
    "invalid value encountered in subtract" warning escaped from the forward pass."""
    z = Value(np.array(logits, dtype=dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cost = losses.cross_entropy(z, labels)
        cost.backward()
        probabilities = F.softmax(Value(np.array(logits, dtype=dtype)))
    assert np.isnan(cost.item()) and cost.dtype == dtype and np.isnan(z.grad[-1]).all()
    assert np.isnan(probabilities.data[-1]).all()


def test_soft_targets_given_as_a_value_get_their_gradient():
    """C = −(1/n) Σ_s Σ_j q_sj ln softmax(z_s)_j, so ∂C/∂q = −ln softmax(z) / n and ∂C/∂z = (softmax(z) − q) / n,
    as in PyTorch.  Target rows that are a Value (a teacher network's softmax) lost their graph: q.grad was None."""
    rng = np.random.default_rng(5)
    logits, rows = rng.normal(size=(3, 4)), rng.random(size=(3, 4))
    q, z = Value(rows / rows.sum(axis=1, keepdims=True)), Value(logits)
    losses.cross_entropy(z, q).backward()
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(q.grad, -log_softmax / 3, rtol=1e-12)
    np.testing.assert_allclose(z.grad, (np.exp(log_softmax) - q.data) / 3, rtol=1e-12, atol=1e-15)
    if check_gradients is not None:  # and against finite differences, to the second order
        check_gradients(lambda z, q: losses.cross_entropy(z, F.softmax(q)), logits, rows, order=2)


@pytest.mark.parametrize("slope, error, words", [
    (float("nan"), ValueError, "leaky_relu: negative_slope must be finite, got nan"),
    (float("inf"), ValueError, "leaky_relu: negative_slope must be finite, got inf"),
    (True, TypeError, "leaky_relu: negative_slope must be a number, got bool"),
    ("0.1", TypeError, "leaky_relu: negative_slope must be a number, got str"),
])
def test_leaky_relu_names_a_slope_that_is_not_a_finite_number(slope, error, words):
    """(functional, tested here beside the costs built on it.)  A NaN slope made every output at x ≤ 0 NaN without
    a word, True passed for the slope 1 (leaky ReLU became the identity)."""
    with pytest.raises(error) as raised:
        F.leaky_relu(Value(np.array([-2.0, 0.0, 3.0])), negative_slope=slope)
    assert words in str(raised.value)


@pytest.mark.parametrize("slope", [-0.5, 0, 2, np.float32(0.25), 0.01])
def test_leaky_relu_takes_any_finite_slope_with_its_gradient(slope):
    x = Value(np.array([-2.0, -0.5, 1.5, 3.0]))
    y = F.leaky_relu(x, negative_slope=slope)
    y.backward(np.ones(4))
    s = float(slope)
    np.testing.assert_array_equal(y.data, np.where(x.data > 0, x.data, s * x.data))
    np.testing.assert_array_equal(x.grad, np.where(x.data > 0, 1.0, s))


# --- a float32 prediction keeps a float32 cost where numpy's rule keeps prediction − target float32 ---------------

@pytest.mark.parametrize("cost", [losses.squared_error, losses.mean_squared_error])
@pytest.mark.parametrize("target", [
    np.array([[1, 0], [0, 1]], dtype=np.uint8), np.array([[True, False], [False, True]]),
    np.array([[1, 0], [0, 1]], dtype=np.int8), np.array([[0.5, 0.0], [0.0, 1.0]], dtype=np.float16),
    np.array([[1, 0], [0, 1]]), [[1.0, 0.0], [0.0, 1.0]], np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32),
    [[True, False], [False, True]], [[1, 0], [0, 1]], Value([[1.0, 0.0], [0.0, 1.0]], requires_grad=False),
], ids=["uint8", "bool", "int8", "float16", "int64", "list", "float32", "list of bools", "list of ints",
        "float64 Value"])
def test_the_cost_has_the_dtype_of_the_difference_written_out(cost, target):
    """README: dtypes follow numpy's rule in every operation.  A float32 prediction against one-hot targets of
    uint8 or bool (or float16) made a float64 cost, where (y − y')² written out with Values, numpy and PyTorch all
    stay float32; int64, lists of Python floats and float64 Values do make float64, by the same rule."""
    y = Value(np.array([[0.25, 0.5], [1.5, -1.0]], dtype=np.float32))
    written_out = (y - target) ** 2
    c = cost(y, target)
    assert c.dtype == written_out.dtype == (y.data - (target.data if isinstance(target, Value) else target)).dtype
    expected = written_out.data.astype(np.float64).sum() / (2 if cost is losses.squared_error else 4)
    assert float(c) == pytest.approx(expected, rel=1e-6)
    c.backward()
    assert y.grad.dtype == np.float32


@pytest.mark.parametrize("cost", [losses.squared_error, losses.mean_squared_error])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_python_number_target_adapts_to_the_prediction(cost, dtype):
    """As x32 − 1.5 stays float32 (a Python number adapts to the Value it meets), so does the cost of a 0-d one."""
    y = Value(np.array(2.0, dtype=dtype))
    c = cost(y, 1.5)
    assert c.dtype == dtype and float(c) == 0.25


def test_a_float32_target_that_overflows_is_named():
    """1e300 adapted to float32 is inf, as in x32 − 1e300: the cost says so instead of returning inf."""
    with pytest.raises(ValueError, match="squared_error: the target holds NaN or inf"):
        losses.squared_error(Value(np.float32(1.0)), 1e300)


@pytest.mark.parametrize("labels", [None, [["a"]], [None, None], object()])
def test_cross_entropy_labels_that_are_not_numbers_are_a_type_error(labels):
    """None for a batch of 2 was a ValueError about shapes ("labels of shape () do not fit logits of shape (2, 3)"),
    strings "class indices must be integers, got dtype <U1": the labels are not numbers at all."""
    with pytest.raises(TypeError, match=r"^cross_entropy: the labels must be numbers \(class indices or one-hot rows"):
        losses.cross_entropy(Value(np.zeros((2, 3))), labels)



@pytest.mark.parametrize("prediction_shape, target_shape, hint", [
    ((4, 1), (4,), r"\(one target per sample: give them as a column, targets\.reshape\(-1, 1\)\)$"),
    ((4,), (4, 1), r"\(one output per sample: make the prediction a column too, prediction\.reshape\(-1, 1\)\)$"),
    ((4, 1), (4, 1, 1), r"they must be equal$"),  # no hint where neither reshape fits
])
def test_a_column_of_targets_against_a_flat_one_says_how_to_fit_them(prediction_shape, target_shape, hint):
    """fit(net, x, y) with y of shape (n,) for a network of one output, (n, 1): the error gave both shapes but not
    the reshape a student needs (a tester's note)."""
    with pytest.raises(ValueError, match=rf"^squared_error: prediction has shape .*{hint}"):
        losses.squared_error(Value(np.zeros(prediction_shape)), np.zeros(target_shape))


def test_the_hint_for_a_flat_prediction_against_a_column_leads_to_the_average_over_the_samples():
    """Four outputs, one per sample, against a column of four targets: the hint said targets.ravel(), which makes
    the prediction one sample of four outputs and the seed's cost their sum, 4 times the average over the samples.
    Following the hint now gives the average: (1² + 2² + 3² + 4²) / 4 = 7.5."""
    prediction, targets = Value([1.0, 2.0, 3.0, 4.0]), np.zeros((4, 1))
    with pytest.raises(ValueError, match=r"prediction\.reshape\(-1, 1\)"):
        losses.squared_error(prediction, targets)
    assert float(losses.squared_error(prediction.reshape(-1, 1), targets)) == 7.5


def test_integer_one_hot_rows_holding_a_negative_number_are_refused():
    """[2, −1, 0] sums to 1 but is no one-hot row."""
    with pytest.raises(ValueError, match="cross_entropy: integer one-hot rows must hold a single 1"):
        losses.cross_entropy(Value([[1.0, 2.0, 3.0]]), np.array([[2, -1, 0]]))


@pytest.mark.parametrize("row_sum", [1.01, 0.95])
def test_float_target_rows_a_hundredth_off_a_distribution_are_refused(row_sum):
    with pytest.raises(ValueError, match="cross_entropy: float target rows must be probabilities summing to 1"):
        losses.cross_entropy(Value([[1.0, 2.0]]), np.array([[0.5, row_sum - 0.5]]))
