"""A student doing binary classification: logistic regression and a small network with one sigmoid output, on
digits 0 vs 1 and a synthetic 2-D problem, with the seed's squared error on σ outputs and with a binary
cross-entropy written by hand, −[y·ln σ(z) + (1 − y)·ln(1 − σ(z))], naively (the log of a sigmoid) and stably
through softplus (ln σ(z) = −softplus(−z), ln(1 − σ(z)) = −softplus(z)).

The package has no binary cross-entropy and no log-sigmoid of its own: the xfail tests below hold that every door a
student (or a PyTorch user) knocks on leads to the stable form; the guard tests pin the numbers of that form against
numpy, closed forms and central differences, and its agreement with the two-logit ``cross_entropy`` route."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses, nn, optim
from tinygrad_edu.testing import check_gradients
from tinygrad_edu.training import fit


def stable_bce(z, y):
    """−[y·ln σ(z) + (1 − y)·ln(1 − σ(z))], averaged, through softplus."""
    return (y * F.softplus(-z) + (1 - y) * F.softplus(z)).mean()


def naive_bce_on_probabilities(p, y):
    return -(y * p.log() + (1 - y) * (1 - p).log()).mean()


def _numpy_sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = e^{−ln(1 + e^{−z})}, independently of the package, without overflow."""
    return np.exp(-np.logaddexp(0.0, -z))


# --------------------------------------------------------------------------------------------- guard tests


@given(st.lists(st.tuples(st.floats(-800, 800), st.sampled_from([0.0, 1.0])), min_size=1, max_size=8))
def test_stable_bce_and_its_gradient_sigma_minus_y_match_numpy(pairs) -> None:
    z_data, y = (np.array(column) for column in zip(*pairs, strict=True))
    z = Value(z_data)
    cost = stable_bce(z, y)
    cost.backward()
    n = len(y)
    # −ln σ(z) = ln(1 + e^−z) for y = 1, −ln(1 − σ(z)) = ln(1 + e^z) for y = 0, by numpy's logaddexp
    expected = np.mean(np.where(y == 1.0, np.logaddexp(0.0, -z_data), np.logaddexp(0.0, z_data)))
    assert float(cost) == pytest.approx(expected, rel=1e-12, abs=1e-300)
    # ∂C/∂z = (σ(z) − y)/n exactly; for y = 1 as −σ(−z), which keeps its digits where σ(z) rounds to 1
    closed_form = np.where(y == 1.0, -_numpy_sigmoid(-z_data), _numpy_sigmoid(z_data)) / n
    np.testing.assert_allclose(z.grad, closed_form, rtol=1e-13, atol=1e-300)  # (subnormals keep fewer digits)


@pytest.mark.parametrize("z", [40.0, -40.0, 800.0, -800.0])
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_stable_bce_is_finite_for_confident_predictions_right_or_wrong(z: float, y: float) -> None:
    v = Value(np.array([z]))
    cost = stable_bce(v, np.array([y]))
    cost.backward()
    wrong = (z > 0) != (y == 1.0)
    assert float(cost) == pytest.approx(abs(z) if wrong else np.exp(-abs(z)), rel=1e-12)  # ln(1 + e^−|z|) ≈ e^−|z|
    sigma_minus_y = _numpy_sigmoid(np.array(z)) if y == 0.0 else -_numpy_sigmoid(np.array(-z))  # σ(z) − 1 = −σ(−z)
    assert v.grad[0] == pytest.approx(sigma_minus_y, rel=1e-12, abs=0)
    assert abs(v.grad[0]) == pytest.approx(1.0 if wrong else 0.0, abs=1e-17)  # not lost: ±1 when confidently wrong


def test_stable_bce_first_and_second_derivatives_against_central_differences() -> None:
    y = np.array([1.0, 0.0, 1.0, 0.0, 1.0])
    z = np.array([0.5, 2.0, -3.0, 0.0, 6.0])
    check_gradients(lambda z: stable_bce(z, y), z, order=2)  # the Hessian is diag σ'(z)/n


def test_two_logit_cross_entropy_is_the_sigmoid_route_and_trains_to_the_same_boundary() -> None:
    """softmax([z0, z1])[1] = σ(z1 − z0): with logits [−z/2, z/2] cross_entropy is the binary cross-entropy of z, and
    gradient descent with η on the two logits moves w1 − w0 as gradient descent with 2η moves the single weight."""
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.normal(-1.0, 1.0, (30, 2)), rng.normal(1.0, 1.0, (30, 2))])
    labels = np.repeat([0, 1], 30)
    one = nn.MLP([2, 1], activation="identity", output_activation="identity", init="xavier", rng=0)
    two = nn.MLP([2, 2], activation="identity", output_activation="identity", init="xavier", rng=0)
    w, b = one[0].weights.data.copy(), one[0].biases.data.copy()
    two.load_state_dict({"layers.1.weights": np.hstack([-w / 2, w / 2]), "layers.1.biases": np.hstack([-b / 2, b / 2])})
    z = one(x)
    assert float(losses.cross_entropy(two(x), labels)) == pytest.approx(float(stable_bce(z, labels.reshape(-1, 1))),
                                                                        rel=1e-13)
    fit(one, x, labels.reshape(-1, 1).astype(float), cost=stable_bce,
        optimizer=optim.GradientDescent(one, learning_rate=1.0), episodes=20, progress=False)
    fit(two, x, labels, cost=losses.cross_entropy, optimizer=optim.GradientDescent(two, learning_rate=0.5),
        episodes=20, progress=False)
    boundary_two = two[0].weights.data[:, 1] - two[0].weights.data[:, 0]
    np.testing.assert_allclose(boundary_two, one[0].weights.data[:, 0], rtol=1e-10)
    assert two[0].biases.data[1] - two[0].biases.data[0] == pytest.approx(one[0].biases.data[0], rel=1e-10)
    assert np.array_equal(two(x).data.argmax(axis=1), (one(x).data[:, 0] > 0).astype(int))


# ------------------------------------------------------------------------------------------------- defects


@pytest.mark.parametrize("module, name", [(losses, "binary_cross_entropy"), (losses, "BCELoss"),
                                          (losses, "binary_cross_entropy_with_logits"), (losses, "BCEWithLogitsLoss"),
                                          (F, "binary_cross_entropy"), (F, "binary_cross_entropy_with_logits")])
def test_pytorch_binary_cross_entropy_names_say_the_stable_formula(module, name: str) -> None:
    with pytest.raises(AttributeError, match=r"softplus\(-z\)") as error:
        getattr(module, name)
    assert "softplus(z)" in str(error.value)


@pytest.mark.parametrize("name", ["logsigmoid", "log_sigmoid"])
def test_log_sigmoid_names_say_minus_softplus_of_minus_x(name: str) -> None:
    with pytest.raises(AttributeError, match=r"-F\.softplus\(-x\)"):
        getattr(F, name)


@pytest.mark.parametrize("doc", [F.sigmoid.__doc__, Value.sigmoid.__doc__, F.softplus.__doc__],
                         ids=["F.sigmoid", "Value.sigmoid", "F.softplus"])
def test_sigmoid_docs_lead_to_the_stable_log_sigmoid(doc: str) -> None:
    assert "ln σ(x) = −softplus(−x)" in doc


def test_one_logit_cross_entropy_refusal_names_the_binary_cross_entropy() -> None:
    with pytest.raises(ValueError, match="softplus") as error:
        losses.cross_entropy(Value(np.zeros((3, 1))), np.array([0, 1, 1]))
    assert "2 output neurons" in str(error.value)


@pytest.mark.parametrize("call", [lambda v: np.logaddexp(0.0, v), lambda v: np.log1p(v), lambda v: v.log1p()],
                         ids=["np.logaddexp", "np.log1p", "Value.log1p"])
def test_numpy_softplus_spellings_name_functional_softplus(call) -> None:
    with pytest.raises((TypeError, AttributeError), match=r"functional\.softplus\(v\)"):
        call(Value([1.0, -800.0]))


def test_fit_names_the_log_of_zero_behind_a_nan_cross_entropy() -> None:
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-3.0, 0.5, (20, 2)), rng.normal(3.0, 0.5, (20, 2))])  # far apart: separable
    y = np.repeat([0.0, 1.0], 20).reshape(-1, 1)
    net = nn.MLP([2, 1], activation="sigmoid", init="xavier", rng=0)
    with pytest.raises(FloatingPointError, match="cost of nan") as error:
        fit(net, x, y, cost=naive_bce_on_probabilities, optimizer=optim.GradientDescent(net, learning_rate=100.0),
            episodes=5, progress=False)
    message = str(error.value)
    assert "ln 0" in message and "−functional.softplus(−z)" in message and "−functional.softplus(z)" in message


@pytest.mark.parametrize("batch_size", [None, 8])
def test_fit_warns_when_flat_targets_meet_a_column_of_outputs_in_a_cost_of_ones_own(batch_size) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(24, 2))
    labels = (x[:, 0] + x[:, 1] > 0).astype(float)  # flat, as load_digits' labels are
    net = nn.MLP([2, 1], activation="identity", output_activation="identity", init="xavier", rng=0)
    z = net(x)
    paired = stable_bce(z, labels)                    # (24, 1) against (24,): a (24, 24) table
    assert float(paired) != pytest.approx(float(stable_bce(z, labels.reshape(-1, 1))))
    with pytest.warns(UserWarning, match=r"targets\.reshape\(-1, 1\)") as caught:
        fit(net, x, labels, cost=stable_bce, optimizer=optim.GradientDescent(net, learning_rate=0.5), episodes=2,
            batch_size=batch_size, progress=False)
    assert caught[0].filename == __file__  # points at the call of fit


def test_fit_does_not_warn_for_flat_targets_paired_right() -> None:
    """Flat targets and a flattened output, or cross_entropy's class indices: nothing is paired across samples."""
    import warnings

    rng = np.random.default_rng(1)
    x = rng.normal(size=(24, 2))
    labels = (x[:, 0] + x[:, 1] > 0).astype(int)
    one = nn.MLP([2, 1], activation="identity", output_activation="identity", init="xavier", rng=0)
    two = nn.MLP([2, 2], activation="identity", output_activation="identity", init="xavier", rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = fit(one, x, labels, cost=lambda out, y: stable_bce(out.reshape(-1), y),
                      optimizer=optim.GradientDescent(one, learning_rate=0.5), episodes=30, progress=False)
        fit(two, x, labels, cost=losses.cross_entropy, optimizer=optim.GradientDescent(two, learning_rate=0.5),
            episodes=2, progress=False)
    assert history.final_cost < 0.5 * history.cost[0]
    assert np.mean((one(x).data[:, 0] > 0) == labels) > 0.9  # the threshold at z = 0, σ = ½
