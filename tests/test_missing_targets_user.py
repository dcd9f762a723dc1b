"""A scientist whose data have holes: NaN targets masked out of a cost of one's own, per-sample weights passed to fit
with the targets, NaN inputs.  The xfail tests are the defects found (fixed in the package); the others guard what
such a user relies on: masked costs and their gradients against numpy and central differences, masks and weights
kept with their samples by the data helpers and fit, a History that stays finite."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_edu.functional as F
from tinygrad_edu import Value, data, nn, optim
from tinygrad_edu.testing import check_gradients
from tinygrad_edu.training import fit


def _with_holes(n: int = 40, k: int = 2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, size=(n, 1))
    y = np.column_stack([x[:, 0] ** 2, np.sin(3 * x[:, 0])])[:, :k]
    return x, y


def _masked(outputs: Value, t: np.ndarray) -> Value:
    """The mean squared error over the observed targets: t holds the filled targets, then the mask."""
    k = t.shape[1] // 2
    return (((outputs - t[:, :k]) ** 2) * t[:, k:]).sum() / t[:, k:].sum()


# --- defects ----------------------------------------------------------------------------------------------------

def test_where_docstring_shows_the_nan_gradient_trap_and_its_way_out() -> None:
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for test in doctest.DocTestFinder().find(F.where, "where", globs=vars(F)):
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.attempted >= 4 and results.failed == 0
    assert "0 · NaN" in (F.where.__doc__ or "")


def test_the_where_trap_is_real() -> None:
    """What the docstring must warn of: a NaN target on the side not chosen makes the output's gradient NaN."""
    targets = np.array([1.0, np.nan])
    outputs = Value([0.0, 0.0])
    F.where(~np.isnan(targets), (outputs - targets) ** 2, 0.0).sum().backward()
    assert outputs.grad[0] == -2.0 and np.isnan(outputs.grad[1])


def test_the_advice_for_a_ufuncs_where_keeps_nan_out_of_the_gradient() -> None:
    x = Value([0.0, 4.0])
    mask = np.array([False, True])
    with pytest.raises(TypeError, match=r"^np\.sqrt: where= not supported") as raised:
        np.sqrt(x, where=mask)
    assert "functional.where(mask, v, 1.0)" in str(raised.value)
    F.where(mask, np.sqrt(F.where(mask, x, 1.0)), 0.0).sum().backward()  # the advice, written out
    np.testing.assert_array_equal(x.grad, [0.0, 0.25])


@pytest.mark.parametrize("name", ["inputs", "targets"])
def test_fit_names_every_sample_holding_nan(name: str) -> None:
    x, y = _with_holes()
    arrays = {"inputs": x.copy(), "targets": y.copy()}
    arrays[name][[3, 7, 20], [0, 0, -1]] = np.nan
    net = nn.MLP([1, 4, 2], rng=0)
    with pytest.raises(ValueError, match=rf"^fit: the {name} hold NaN or inf .* in 3 samples of 40 "
                                         r"\(rows 3, 7, 20\); leave those samples out"):
        fit(net, arrays["inputs"], arrays["targets"], optimizer=optim.SGD(net, 0.1), episodes=1, progress=False)


def test_fit_blames_a_batch_with_nothing_observed_not_the_steps() -> None:
    x, y = _with_holes(12, 1)
    mask = np.ones((12, 1))
    mask[4:8] = 0.0  # the second batch of 4, in order, has no observed target
    net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    with pytest.raises(FloatingPointError) as raised:
        fit(net, x, np.concatenate([y, mask], axis=1), cost=_masked, optimizer=optim.SGD(net, learning_rate=1e-6),
            episodes=3, batch_size=4, shuffle=False, progress=False)
    message = str(raised.value)
    assert "on batch 2 of 3" in message and "not the" in message and "steps diverged" not in message
    assert raised.value.history.stopped == "not finite"  # type: ignore[attr-defined]


def test_fit_names_the_where_trap_for_a_nan_gradient_at_a_finite_cost() -> None:
    x, y = _with_holes()
    y[[3, 20], [0, 1]] = np.nan
    observed = ~np.isnan(y)

    def by_index(outputs: Value, rows: np.ndarray) -> Value:  # targets are sample numbers: masks stay aligned
        rows = np.asarray(rows).astype(int)
        return F.where(observed[rows], (outputs - y[rows]) ** 2, 0.0).sum() / observed[rows].sum()

    net = nn.MLP([1, 4, 2], rng=0)
    with pytest.raises(FloatingPointError, match="holds NaN or inf at a finite cost") as raised:
        fit(net, x, np.arange(40), cost=by_index, optimizer=optim.SGD(net, 0.1), episodes=2, progress=False)
    assert "functional.where" in str(raised.value)


# --- guards -----------------------------------------------------------------------------------------------------

@given(hnp.arrays(np.float64, (5, 3), elements=st.floats(-3, 3)),
       hnp.arrays(np.float64, (5, 3), elements=st.floats(-3, 3)),
       hnp.arrays(np.bool_, (5, 3)).filter(lambda m: m.any()))
def test_a_masked_cost_and_its_gradient_match_numpy_and_central_differences(p, y, observed) -> None:
    targets = np.where(observed, y, np.nan)  # the holes
    filled = np.nan_to_num(targets)
    outputs = Value(p)
    cost = (((outputs - filled) ** 2) * observed).sum() / observed.sum()
    picked = ((outputs[observed] - targets[observed]) ** 2).sum() / observed.sum()
    expected = np.nansum((p - targets) ** 2) / observed.sum()
    np.testing.assert_allclose([cost.item(), picked.item()], expected, rtol=1e-12, atol=1e-15)
    cost.backward()
    np.testing.assert_allclose(outputs.grad, np.where(observed, 2 * (p - filled), 0.0) / observed.sum(),
                               rtol=1e-12, atol=1e-15)
    outputs.zero_grad()
    picked.backward()
    assert np.isfinite(outputs.grad).all() and (outputs.grad[~observed] == 0).all()
    check_gradients(lambda v: ((v[observed] - targets[observed]) ** 2).sum() / observed.sum(), p)


def test_batches_and_train_test_split_keep_masks_and_weights_with_their_samples() -> None:
    x, y = _with_holes(30, 1)
    ids = np.arange(30.0)
    x = np.column_stack([x, ids])  # the sample's number rides along in the inputs and in the targets
    weights = np.linspace(0.1, 3.0, 30)
    packed = np.column_stack([np.nan_to_num(y), ids % 3 != 0, weights, ids])
    train, test = data.train_test_split(x, packed, test_fraction=0.3, seed=2)
    for part in (train, test):
        np.testing.assert_array_equal(part.inputs[:, 1], part.labels[:, 3])
        rows = part.labels[:, 3].astype(int)
        np.testing.assert_array_equal(part.labels[:, 2], weights[rows])
        np.testing.assert_array_equal(part.labels[:, 1], rows % 3 != 0)
    seen = []
    for batch_x, batch_t in data.batches(train.inputs, train.labels, 4, seed=np.random.default_rng(0)):
        np.testing.assert_array_equal(batch_x[:, 1], batch_t[:, 3])
        seen.extend(batch_t[:, 3])
    assert sorted(seen) == sorted(train.labels[:, 3])


@pytest.mark.parametrize("batch_size", [None, 7])
def test_fit_with_per_sample_weights_in_the_targets_keeps_a_finite_history(batch_size: int | None) -> None:
    x, y = _with_holes()
    weights = np.random.default_rng(1).uniform(0.1, 2.0, 40)

    def weighted(outputs: Value, t: np.ndarray) -> Value:
        return (t[:, 2] * ((outputs - t[:, :2]) ** 2).sum(axis=1)).sum() / t[:, 2].sum()

    net = nn.MLP([1, 6, 2], activation="tanh", output_activation="identity", init="xavier", rng=0)
    start = net(Value(x)).data
    history = fit(net, x, np.column_stack([y, weights]), cost=weighted, optimizer=optim.Adam(net, learning_rate=0.01),
                  episodes=5, batch_size=batch_size, seed=0, progress=False)
    assert np.isfinite(history.cost).all() and np.isfinite(history.gradient_norm).all()
    assert history.final_cost is not None and np.isfinite(history.final_cost)
    if batch_size is None:  # the first episode's cost is the weighted cost at the start, computed by numpy
        expected = (weights * ((start - y) ** 2).sum(axis=1)).sum() / weights.sum()
        assert history.cost[0] == pytest.approx(expected, rel=1e-12)
