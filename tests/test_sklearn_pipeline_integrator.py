"""The models inside an ordinary numpy workflow without scikit-learn: inputs standardized by hand, train/test splits,
k-fold cross-validation that builds or copies a model and its optimizer each fold, weights copied between folds
(state_dict / load_state_dict, copy.deepcopy), predictions on new data in batches of any size and in any dtype or
container, and early stopping by hand on a validation cost.

Tests for the defects found: the cost fit computes on all samples after the last update is a forward pass
of its own that changed a Module's running averages (so early stopping by hand, fit(episodes=1) in a loop, left other
averages than one call of fit); and an optimizer of another model (an earlier fold's, or copied apart from its model)
was refused with the advice to build a GradientDescent, whatever the optimizer, and no word on copying both together.
"""

import copy

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, fit, losses, nn, no_grad, optim

RAW = np.random.default_rng(0).normal(size=(24, 3)) * [1.0, 10.0, 100.0] + [0.0, 5.0, -50.0]
MEAN, SCALE = RAW.mean(axis=0), RAW.std(axis=0)
X = (RAW - MEAN) / SCALE  # standardized by hand, as a pipeline without scikit-learn does
Y = (0.3 * X[:, :1] + np.sin(X[:, 1:2]) - 0.2 * X[:, 2:3]) / 2


def _net(seed: int = 0) -> nn.MLP:
    return nn.MLP([3, 5, 1], activation="tanh", output_activation="identity", init="xavier", rng=seed)


def _by_hand(net: nn.MLP, x: np.ndarray) -> np.ndarray:
    """The network's forward pass in numpy: tanh(x W¹ + b¹) W² + b²."""
    first, second = net.layers
    return np.tanh(x @ first.weights.data + first.biases.data) @ second.weights.data + second.biases.data


class RunningMean(nn.Module):
    """A layer that keeps the running average of its inputs' squares (their variance: the inputs are standardized),
    updated in place under no_grad() by every forward pass (as the README says a batch norm keeps its running
    averages), and counts its passes."""

    def __init__(self) -> None:
        self.layer = nn.Layer(3, 1, activation="identity", init="xavier", rng=0)
        self.running_var = Value(np.zeros(3), requires_grad=False)
        self.passes = Value(np.zeros(1), requires_grad=False)

    def forward(self, x: Value) -> Value:
        with no_grad():
            self.running_var *= 0.9
            self.running_var += 0.1 * (x.data ** 2).mean(axis=0)
            self.passes += 1.0
        return self.layer(x)


# --- defects -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("batch_size", [None, 8])
def test_fits_final_cost_leaves_a_modules_running_averages_as_training_left_them(batch_size) -> None:
    net = RunningMean()
    fit(net, X, Y, optimizer=optim.GradientDescent(net, 0.1), episodes=2, batch_size=batch_size, shuffle=False,
        progress=False)
    batches = 1 if batch_size is None else len(X) // batch_size
    assert net.passes.data.tolist() == [2.0 * batches]  # the training passes, one per update
    # the running average of exactly those passes, computed by hand
    expected = np.zeros(3)
    for _ in range(2):
        for start in range(0, len(X), batch_size or len(X)):
            expected = 0.9 * expected + 0.1 * (X[start:start + (batch_size or len(X))] ** 2).mean(axis=0)
    np.testing.assert_allclose(net.running_var.data, expected, rtol=1e-12)


def test_early_stopping_by_hand_keeps_the_running_averages_one_call_keeps() -> None:
    at_once, by_hand = RunningMean(), RunningMean()
    fit(at_once, X, Y, optimizer=optim.GradientDescent(at_once, 0.1), episodes=2, progress=False)
    opt = optim.GradientDescent(by_hand, 0.1)
    for _ in range(2):
        fit(by_hand, X, Y, optimizer=opt, episodes=1, progress=False)
    for (name, mine), theirs in zip(at_once.state_dict().items(), by_hand.state_dict().values(), strict=True):
        np.testing.assert_array_equal(mine, theirs, err_msg=name)


@pytest.mark.parametrize("make", [lambda net: optim.Adam(net, 0.05), lambda net: optim.SGD(net, 0.1, momentum=0.9)])
def test_an_optimizer_copied_apart_from_its_model_is_refused_naming_its_class_and_the_copy(make) -> None:
    template = _net()
    template_opt = make(template)
    net, opt = copy.deepcopy(template), copy.deepcopy(template_opt)  # each fold's copies, made one at a time
    kind = type(opt).__name__
    with pytest.raises(ValueError, match=r"^fit: none of the optimizer's parameters belong to the model") as raised:
        fit(net, X, Y, optimizer=opt, episodes=1, progress=False)
    message = str(raised.value)
    assert f"{kind}(model, " in message and "GradientDescent" not in message
    assert "copy.deepcopy((model, optimizer))" in message
    net, opt = copy.deepcopy((template, template_opt))  # the advice, followed, trains
    fit(net, X, Y, optimizer=opt, episodes=1, progress=False)


# --- guards ------------------------------------------------------------------------------------------------------

def test_guard_predictions_do_not_depend_on_the_batch_size_and_are_the_forward_pass_by_hand() -> None:
    net = _net()
    whole = net(X).data
    np.testing.assert_allclose(whole, _by_hand(net, X), rtol=1e-13, atol=1e-15)
    for size in (1, 5, 7, 24, 100):
        chunks = np.concatenate([net(X[i:i + size]).data for i in range(0, len(X), size)])
        np.testing.assert_allclose(chunks, whole, rtol=1e-13, atol=1e-15)
    rows = np.stack([net(x).data for x in X])  # one sample (3,) at a time gives (1,)
    np.testing.assert_allclose(rows, whole, rtol=1e-13, atol=1e-15)


@given(st.lists(st.integers(1, 23), max_size=5, unique=True))
def test_guard_the_mean_cost_gradient_is_the_size_weighted_mean_of_any_split_into_batches(cuts: list[int]) -> None:
    """∇ of the MSE on all samples = Σ (n_b / n) ∇ of the MSE on batch b, for any split (chunks of any size)."""
    net = _net()
    edges = [0, *sorted(cuts), len(X)]
    net.zero_grad()
    losses.mean_squared_error(net(X), Y).backward()
    whole = [p.grad.copy() for p in net.parameters()]
    summed = [np.zeros_like(p.data) for p in net.parameters()]
    for start, stop in zip(edges, edges[1:], strict=False):
        net.zero_grad()
        losses.mean_squared_error(net(X[start:stop]), Y[start:stop]).backward()
        for total, p in zip(summed, net.parameters(), strict=True):
            total += (stop - start) / len(X) * p.grad
    for mine, theirs in zip(summed, whole, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-14)


def test_guard_the_mean_cost_gradient_matches_central_differences() -> None:
    net = _net()
    losses.mean_squared_error(net(X), Y).backward()
    weights = net.layers[0].weights
    start, h = weights.data.copy(), 1e-6

    def cost_at(at: tuple[int, int], step: float) -> float:
        shifted = start.copy()
        shifted[at] += step
        with no_grad():
            weights[...] = shifted
            return losses.mean_squared_error(net(X), Y).item()

    for at in [(0, 0), (2, 4), (1, 3)]:
        difference = (cost_at(at, h) - cost_at(at, -h)) / (2 * h)
        assert weights.grad[at] == pytest.approx(difference, rel=1e-6, abs=1e-9)


class Frame:
    """A pandas-like table: numbers through __array__, no ndarray of its own."""

    def __init__(self, numbers: np.ndarray) -> None:
        self._numbers = numbers

    def __array__(self, dtype=None, copy=None):
        return self._numbers if dtype is None else self._numbers.astype(dtype)

    def __len__(self) -> int:
        return len(self._numbers)


@pytest.mark.parametrize("convert", [lambda x: x.tolist(), Frame, lambda x: x.astype(np.float32),
                                     lambda x: np.asfortranarray(x), lambda x: x.astype(">f8")],
                         ids=["list", "__array__", "float32", "fortran", "big-endian"])
def test_guard_new_data_in_any_container_gives_the_predictions_of_its_numbers(convert) -> None:
    net = _net()
    given_numbers = convert(X)
    expected = _by_hand(net, np.asarray(given_numbers, dtype=np.float64))
    np.testing.assert_allclose(net(given_numbers).data, expected, rtol=1e-6 if "float32" in str(
        np.asarray(given_numbers).dtype) else 1e-13, atol=1e-7)


@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.bool_])
def test_guard_integer_and_bool_inputs_are_predicted_as_their_numbers(dtype) -> None:
    net = _net()
    numbers = (X * 2).round().astype(dtype)
    np.testing.assert_allclose(net(numbers).data, _by_hand(net, numbers.astype(np.float64)), rtol=1e-13, atol=1e-15)


def test_guard_predicting_changes_neither_the_parameters_nor_their_gradients() -> None:
    net = _net()
    losses.mean_squared_error(net(X), Y).backward()
    before = copy.deepcopy([(p.data, p.grad) for p in net.parameters()])
    net(X[:5])
    with no_grad():
        net(X)
    net(X.astype(np.float32))
    for p, (data, grad) in zip(net.parameters(), before, strict=True):
        assert p.data.tobytes() == data.tobytes() and p.grad.tobytes() == grad.tobytes()


@pytest.mark.parametrize("columns", [2, 4])
def test_guard_a_wrong_number_of_features_is_a_value_error_naming_the_layer_and_both_shapes(columns) -> None:
    net = _net()
    new = np.zeros((6, columns))
    for given_data in (new, new.tolist(), Frame(new)):
        with pytest.raises(ValueError, match=rf"^layer 1 \(3 → 5\): expects 3 inputs per sample, shape \(3,\) or "
                                             rf"\(n, 3\); got data of shape \(6, {columns}\)$"):
            net(given_data)
    with pytest.raises(ValueError, match=rf"got data of shape \(6, {columns}\)"):
        fit(net, new, np.zeros((6, 1)), optimizer=optim.Adam(net), episodes=1, progress=False)


def _cross_validate(folds: int = 3) -> list[float]:
    """k-fold cross-validation: a new network and Adam each fold, seeded by the fold; the held-out costs."""
    order = np.random.default_rng(7).permutation(len(X))
    costs = []
    for k, held_out in enumerate(np.array_split(order, folds)):
        kept = np.setdiff1d(order, held_out)
        net = _net(seed=k)
        fit(net, X[kept], Y[kept], cost=losses.mean_squared_error, optimizer=optim.Adam(net, 0.05), episodes=4,
            batch_size=5, seed=k, progress=False)
        with no_grad():
            costs.append(losses.mean_squared_error(net(X[held_out]), Y[held_out]).item())
    return costs


def test_guard_cross_validation_with_seeds_reproduces_bit_for_bit() -> None:
    first, second = _cross_validate(), _cross_validate()
    assert first == second
    assert len(set(first)) == 3  # the folds differ (a fold's state did not carry over to the next)


@pytest.mark.parametrize("make", [lambda net: optim.Adam(net, 0.05), lambda net: optim.SGD(net, 0.1, momentum=0.9),
                                  lambda net: optim.RandomSearch(net, 0.1, rng=3)], ids=["Adam", "SGD", "random"])
def test_guard_a_model_and_optimizer_copied_together_go_on_as_the_original(make) -> None:
    net = _net()
    opt = make(net)
    fit(net, X, Y, optimizer=opt, episodes=3, batch_size=6, seed=1, progress=False)
    copied, copied_opt = copy.deepcopy((net, opt))
    for model, optimizer in ((net, opt), (copied, copied_opt)):
        fit(model, X, Y, optimizer=optimizer, episodes=3, batch_size=6, seed=2, progress=False)
    for (name, mine), theirs in zip(net.state_dict().items(), copied.state_dict().values(), strict=True):
        assert mine.tobytes() == theirs.tobytes(), name


def test_guard_early_stopping_by_hand_restores_the_best_weights_exactly() -> None:
    net = _net()
    opt = optim.Adam(net, 0.1)
    best, best_state, costs = np.inf, None, []
    for _ in range(12):
        fit(net, X[:16], Y[:16], optimizer=opt, episodes=1, progress=False)
        with no_grad():
            costs.append(losses.mean_squared_error(net(X[16:]), Y[16:]).item())
        if costs[-1] < best:
            best, best_state = costs[-1], net.state_dict()
    assert best_state is not None
    best_state_copy = copy.deepcopy(best_state)
    net.load_state_dict(best_state)
    with no_grad():
        assert losses.mean_squared_error(net(X[16:]), Y[16:]).item() == min(costs)
    fit(net, X[:16], Y[:16], optimizer=opt, episodes=1, progress=False)  # training on leaves the kept copy alone
    for name, array in best_state.items():
        assert array.tobytes() == best_state_copy[name].tobytes(), name
