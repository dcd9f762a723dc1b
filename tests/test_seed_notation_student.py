"""A student writing the seed's formulas literally with Values before using nn: forward propagation
α⁽ˡ⁾ = σ(W⁽ˡ⁾·α⁽ˡ⁻¹⁾ + b⁽ˡ⁾) with column vectors (n, 1) as in the seed and with flat vectors, W·α against α·Wᵀ, a
batch as columns against rows, the squared-error cost, the chain rule for ∂C/∂w⁽ᴸ⁾ by hand, the 10-output digits
network, Armijo's rule by hand, and the x² example at x = 0.1, 0.5, −1, 0.01.

The defects are shape errors that named the shapes but not the orientation at fault: the seed's own Layer code
stores W as (in_size, out_size) while its formula W·α takes α as a column, and the errors for that and for a row
where a column was meant said only "not aligned"; samples given as columns to a layer, a row prediction against
the seed's column target, and a flat bias meeting an (n, n) made silently by (n, 1) + (n,) got no hint.
"""

import re

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tinygrad_edu import Value, losses, nn, no_grad, optim

EPS = float(np.finfo(np.float64).eps)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _nested_loops(weights_in_out, alpha, biases):
    """The seed's α_j = σ(Σ_i α_i · w_{i;j} + b_j), with w_{i;j} = weights_in_out[i, j] (its Layer code's shape)."""
    n_in, n_out = weights_in_out.shape
    return np.array([_sigmoid(sum(alpha[i] * weights_in_out[i, j] for i in range(n_in)) + biases[j])
                     for j in range(n_out)])


# --- defects ---------------------------------------------------------------------------------------------------


def test_the_seeds_layer_code_w_times_a_column_alpha_names_the_transpose_that_aligns() -> None:
    rng = np.random.default_rng(0)
    weights = rng.random((3, 2))  # the seed's np.random.rand(in_size, out_size)
    biases = rng.random(2)
    alpha = rng.random((3, 1))  # the seed's column vector α⁰
    with pytest.raises(ValueError, match=r"^matmul: shapes \(3, 2\) and \(3, 1\) are not aligned \(2 != 3\)") as caught:
        Value(weights) @ Value(alpha)
    message = str(caught.value)
    assert "(2, 3) @ (3, 1)" in message and "W.T @ α" in message and "column" in message
    # and the product it names is the seed's formula: its nested loops, neuron by neuron
    out = (Value(weights).T @ Value(alpha) + biases.reshape(-1, 1)).sigmoid()
    np.testing.assert_allclose(out.data.ravel(), _nested_loops(weights, alpha.ravel(), biases), rtol=1e-14)
    # a batch of columns side by side gets the same answer
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(3, 5\).*W\.T @ α"):
        Value(weights) @ Value(rng.random((3, 5)))


def test_a_row_where_the_seed_has_a_column_is_named() -> None:
    rng = np.random.default_rng(1)
    weights = rng.random((3, 2))  # the seed's formula: one row per neuron, 3 neurons, 2 inputs
    row = rng.random((1, 2))
    with pytest.raises(ValueError, match=r"^matmul: shapes \(3, 2\) and \(1, 2\) are not aligned") as caught:
        Value(weights) @ Value(row)
    assert "(3, 2) @ (2, 1)" in str(caught.value) and "column (n, 1)" in str(caught.value)
    np.testing.assert_allclose((Value(weights) @ Value(row).T).data.ravel(), weights @ row.ravel(), rtol=1e-14)
    batch = rng.random((5, 2))
    with pytest.raises(ValueError, match=r"^matmul: shapes \(5, 2\) and \(3, 2\) are not aligned .*"
                                         r"\(5, 2\) @ \(2, 3\).*rows @ W\.T"):
        Value(batch) @ Value(weights)


def test_a_layer_given_the_seeds_columns_side_by_side_says_a_batch_is_rows() -> None:
    layer = nn.Layer(4, 3, rng=0)
    columns = np.random.default_rng(2).random((4, 5))  # five samples α⁰ as the seed's column vectors
    with pytest.raises(ValueError, match=re.escape("got data of shape (4, 5); 5 samples as columns?")) as caught:
        layer(columns)
    assert "x.T, shape (5, 4)" in str(caught.value)
    # the advice gives the seed's σ(W·α + b) for each column, with the seed's W = layer.weights.T
    seed_w, b = layer.weights.data.T, layer.biases.data.reshape(-1, 1)
    np.testing.assert_allclose(layer(columns.T).data, _sigmoid(seed_w @ columns + b).T, rtol=1e-14)


def test_squared_error_of_a_row_prediction_and_the_seeds_column_target_says_make_it_a_row() -> None:
    net = nn.MLP([64, 16, 10], rng=0)
    prediction = net(np.random.default_rng(3).random((1, 64)))
    target = np.eye(10)[9].reshape(-1, 1)  # the seed's y' for an image of a 9, as a column
    for given_target in (target, target.ravel()):
        with pytest.raises(ValueError, match=r"^squared_error: prediction has shape \(1, 10\) but target has "
                                             r"shape \(10,?( 1)?\); they must be equal \(.*targets\.reshape\(1, -1\)"):
            losses.squared_error(prediction, given_target)
    cost = losses.squared_error(prediction, target.reshape(1, -1))  # the advice: the seed's Σ_j (y_j − y'_j)²
    np.testing.assert_allclose(cost.item(), ((prediction.data.ravel() - target.ravel()) ** 2).sum(), rtol=1e-14)


def test_the_digits_network_by_hand_with_a_flat_bias_points_at_the_column() -> None:
    rng = np.random.default_rng(4)
    x = Value(rng.random((64, 1)))  # one 8×8 digit as the seed's column vector
    w1, b1 = Value(rng.normal(size=(16, 64))), Value(rng.normal(size=16))  # b¹ flat, as the seed's Layer code
    w2, b2 = Value(rng.normal(size=(10, 16))), Value(rng.normal(size=10))
    hidden = (w1 @ x + b1).sigmoid()
    assert hidden.shape == (16, 16)  # numpy's broadcasting: every neuron's z paired with every bias
    with pytest.raises(ValueError, match=r"^add: shapes \(10, 16\) and \(10,\) cannot be broadcast together; "
                                         r".*reshape\(-1, 1\).*\(n, 1\) and \(n,\), make \(n, n\)"):
        w2 @ hidden + b2
    # the advice, biases as columns, gives the seed's 10 outputs
    hidden = (w1 @ x + b1.reshape(-1, 1)).sigmoid()
    out = (w2 @ hidden + b2.reshape(-1, 1)).sigmoid()
    expected = _sigmoid(w2.data @ _sigmoid(w1.data @ x.data.ravel() + b1.data) + b2.data)
    np.testing.assert_allclose(out.data.ravel(), expected, rtol=1e-13)


def test_squared_error_docstring_says_what_the_seeds_column_vector_costs() -> None:
    doc = " ".join((losses.squared_error.__doc__ or "").split())
    assert "(k, 1)" in doc and "column vector" in doc and "mean" in doc


# --- guards ----------------------------------------------------------------------------------------------------


def test_guard_a_column_vector_is_costed_as_k_samples_of_one_output() -> None:
    """What the docstring now says: (k, 1) gives (1/k) Σ, (k,) and (1, k) give the seed's Σ."""
    a, y = np.array([0.2, 0.7, 0.9]), np.array([0.0, 1.0, 1.0])
    total = ((a - y) ** 2).sum()
    np.testing.assert_allclose(losses.squared_error(Value(a), y).item(), total, rtol=1e-15)
    np.testing.assert_allclose(losses.squared_error(Value(a[None]), y[None]).item(), total, rtol=1e-15)
    np.testing.assert_allclose(losses.squared_error(Value(a[:, None]), y[:, None]).item(), total / 3, rtol=1e-15)


def test_guard_the_chain_rule_by_hand_matches_backward_with_columns_and_with_a_layer() -> None:
    """∂C/∂W⁽ᴸ⁾ = σ′(z⁽ᴸ⁾)·2(α⁽ᴸ⁾ − y') α⁽ᴸ⁻¹⁾ᵀ and ∂C/∂b⁽ᴸ⁾ = σ′(z⁽ᴸ⁾)·2(α⁽ᴸ⁾ − y') (the seed's 6.3 corrected),
    by hand, against backward() on the seed's column form and on nn.Layer (rows, W transposed)."""
    rng = np.random.default_rng(5)
    w, b = rng.normal(size=(2, 4)), rng.normal(size=(2, 1))
    previous, target = rng.random((4, 1)), np.array([[0.0], [1.0]])
    z = w @ previous + b
    delta = _sigmoid(z) * (1 - _sigmoid(z)) * 2 * (_sigmoid(z) - target)
    wv, bv = Value(w), Value(b)
    (((wv @ previous + bv).sigmoid() - target) ** 2).sum().backward()
    np.testing.assert_allclose(wv.grad, delta @ previous.T, rtol=1e-12)
    np.testing.assert_allclose(bv.grad, delta, rtol=1e-12)
    layer = nn.Layer(4, 2, rng=0)
    with no_grad():
        layer.weights[...] = w.T
        layer.biases[...] = b.ravel()
    losses.squared_error(layer(previous.T), target.T).backward()
    np.testing.assert_allclose(layer.weights.grad, (delta @ previous.T).T, rtol=1e-12)
    np.testing.assert_allclose(layer.biases.grad, delta.ravel(), rtol=1e-12)
    # and finite differences on one weight
    eps, (i, j) = 1e-6, (1, 2)
    def cost(wij):
        shifted = w.copy()
        shifted[i, j] = wij
        return ((_sigmoid(shifted @ previous + b) - target) ** 2).sum()
    np.testing.assert_allclose(wv.grad[i, j], (cost(w[i, j] + eps) - cost(w[i, j] - eps)) / (2 * eps), rtol=1e-6)


@given(st.integers(1, 5), st.integers(1, 5), st.integers(1, 4), st.integers(0, 2**32 - 1))
@example(3, 4, 4, 3760615180)  # (the flat sample's σ 1.1e-15 from the row's: its z 2 ulps off, see below)
def test_guard_a_layer_is_the_seeds_formula_with_w_transposed(n_in, n_out, batch, seed) -> None:
    """layer(rows) is σ(W·α + b) column by column with the seed's W = layer.weights.T, and the nested loops."""
    layer = nn.Layer(n_in, n_out, rng=seed)
    alpha = np.random.default_rng(seed).normal(size=(n_in, batch))
    out = layer(alpha.T).data
    seed_w = layer.weights.data.T
    np.testing.assert_allclose(out, _sigmoid(seed_w @ alpha + layer.biases.data[:, None]).T, rtol=1e-13)
    np.testing.assert_allclose(out[0], _nested_loops(layer.weights.data, alpha[:, 0], layer.biases.data),
                               rtol=1e-13)
    # a flat sample is one row, to rounding: BLAS's vector product (a flat sample) and its matrix product (a batch)
    # add the n_in + 1 terms of z in other orders, each within (n_in + 1)·ε·Σ|terms| of the exact sum, and σ turns
    # a change δ of z into σ′·δ = σ(1 − σ)·δ, on top of its own ulps: z 2 ulps apart made σ(−2.698) 1.1e-15 apart
    flat = layer(alpha[:, 0]).data
    terms = np.abs(alpha[:, 0, None] * layer.weights.data).sum(axis=0) + np.abs(layer.biases.data)
    rounding = out[0] * (1 - out[0]) * 2 * (n_in + 1) * EPS * terms + 4 * EPS * out[0]
    assert (np.abs(flat - out[0]) <= rounding).all(), (flat, out[0], rounding)


def test_guard_armijo_by_hand_takes_the_step_of_armijo_step_and_of_the_optimizer() -> None:
    """The seed's rule, t = αˡ for the smallest l with C(x − t∇C) ≤ C(x) − σt‖∇C‖², on x² data."""
    x = np.array([[0.1], [0.5], [-1.0], [0.01], [0.3], [-0.7]])
    y = x ** 2
    net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    params = net.parameters()

    def flat() -> np.ndarray:
        return np.concatenate([p.data.ravel() for p in params])

    def put(vector: np.ndarray) -> None:
        start = 0
        with no_grad():
            for p in params:
                p[...] = vector[start:start + p.size].reshape(p.shape)
                start += p.size

    x0 = flat()
    cost = losses.squared_error(net(x), y)
    cost.backward()
    gradient, c0 = np.concatenate([p.grad.ravel() for p in params]), cost.item()

    def c(vector: np.ndarray) -> float:
        put(vector)
        value = losses.squared_error(net(x), y).item()
        put(x0)
        return value

    sigma, alpha, t = 1e-4, 0.5, 1.0
    while c(x0 - t * gradient) > c0 - sigma * t * gradient @ gradient:
        t *= alpha
    assert optim.armijo_step(c, x0, gradient, sigma=sigma, alpha=alpha).step == t
    optimizer = optim.Armijo(net, sigma=sigma, alpha=alpha)
    optimizer.step(lambda: losses.squared_error(net(x), y))
    assert optimizer.last_step_size == t
    np.testing.assert_allclose(flat(), x0 - t * gradient, rtol=1e-15)
