"""An engineer forecasting a time series, second pass: windows made with numpy's ``sliding_window_view`` (read-only,
overlapping views), and windows of a Value; a hand-written RNN unrolled over 50 steps with shared weights, teacher
forcing and fed-back predictions, truncated backpropagation through time with ``detach()`` between chunks and the
hidden state reset between sequences; a split by time (no shuffling), ``fit(..., episodes=1)`` in an early-stopping
loop whose Histories are joined and plotted beside the validation costs.  Gradients are checked against central
finite differences."""

import re
from pathlib import Path

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses, nn, no_grad, optim, plots
from tinygrad_edu.data import train_test_split
from tinygrad_edu.engine import backward_order
from tinygrad_edu.testing import check_gradients
from tinygrad_edu.training import History, fit

README = Path(__file__).resolve().parent.parent / "README.md"
HIDDEN = 3


def noisy_sine(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.sin(0.2 * np.arange(n)) + 0.05 * rng.standard_normal(n)


def rnn_weights(seed: int = 0) -> list[np.ndarray]:
    """W_h (H×H), w_x (H), b (H), v (H) of h_t = tanh(h_{t−1} W_h + x_t w_x + b), forecast h_t · v."""
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(HIDDEN, HIDDEN)) * 0.4, rng.normal(size=HIDDEN) * 0.5, rng.normal(size=HIDDEN) * 0.1,
            rng.normal(size=HIDDEN) * 0.5]


def unrolled_cost(w_h, w_x, b, v, series: np.ndarray, teacher_forcing: bool, h=None):
    """The per-step squared errors of one-step forecasts along ``series``, averaged; with teacher forcing each
    step reads the true value, else the forecast of the step before (after the first)."""
    h = Value(np.zeros(HIDDEN), requires_grad=False) if h is None else h
    errors, x = [], series[0]
    for t in range(len(series) - 1):
        h = (h @ w_h + x * w_x + b).tanh()
        forecast = h @ v
        errors.append((forecast - series[t + 1]) ** 2)
        x = series[t + 1] if teacher_forcing else forecast
    return F.stack(errors).mean(), h


# --------------------------------------------------------------------------------------------------------- defects

@pytest.mark.parametrize("call", ["numpy", "pytorch"])
def test_windows_of_a_value_are_refused_with_a_formula_that_gives_them_and_their_gradient(call: str) -> None:
    series = Value(noisy_sine(12))
    k = 4
    with pytest.raises((TypeError, AttributeError)) as caught:
        sliding_window_view(series, k) if call == "numpy" else series.unfold(0, k, 1)
    found = re.search(r"(?:here: |write )(v\[np\.arange.*?\])(?: for| ,|,)", str(caught.value))
    assert found, str(caught.value)

    def windows(v):
        return eval(found.group(1), {"v": v, "k": k, "np": np})  # noqa: S307  (the advice is code that runs)

    np.testing.assert_array_equal(windows(series).data, sliding_window_view(series.data, k))
    weights = np.random.default_rng(0).normal(size=k)
    check_gradients(lambda v: (windows(v) @ weights).tanh().sum(), series.data)


@pytest.mark.parametrize("call", ["numpy", "pytorch"])
def test_a_shifted_value_is_refused_with_a_formula_that_gives_it(call: str) -> None:
    series = Value(noisy_sine(9))
    s = 2
    with pytest.raises((TypeError, AttributeError)) as caught:
        np.roll(series, s) if call == "numpy" else series.roll(s)
    found = re.search(r"(?:here: |write )(functional\.concatenate\(\[v\[-s:\], v\[:-s\]\]\))", str(caught.value))
    assert found, str(caught.value)
    shifted = eval(found.group(1), {"v": series, "s": s, "functional": F})  # noqa: S307
    np.testing.assert_array_equal(shifted.data, np.roll(series.data, s))


def test_train_test_split_asked_not_to_shuffle_says_how_to_split_by_time() -> None:
    series = noisy_sine(40)
    with pytest.raises(TypeError, match=r"always shuffled.*time series.*inputs\[:k\], inputs\[k:\]"):
        train_test_split(sliding_window_view(series, 5)[:-1], series[5:], shuffle=False)


def test_readme_says_fits_mini_batches_are_shuffled_and_how_to_keep_the_order() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())
    paragraph = text[text.index("`fit` needs an `optimizer=`"):]
    paragraph = paragraph[:paragraph.index("## ")]
    assert re.search(r"mini-batches with `batch_size=` \(shuffled[^)]*`shuffle=False`", paragraph), paragraph


def test_a_detached_state_reset_in_place_before_backward_makes_the_chunks_graph_stale() -> None:
    params = [Value(a) for a in rnn_weights()]
    cost, h = unrolled_cost(*params, noisy_sine(11), teacher_forcing=True)
    cost = cost + (h ** 2).sum()  # (the last state enters the cost: its numbers are used by its backward pass)
    h = h.detach()  # the state carried on to the next sequence ...
    with no_grad():
        h *= 0.0  # ... reset for it, before the chunk's backward pass: these are the numbers the graph recorded
    with pytest.raises(ValueError, match=r"graph is stale.*\.detach\(\)"):
        cost.backward()
    assert all(p.grad is None for p in params)


# ---------------------------------------------------------------------------------------------------------- guards

@pytest.mark.parametrize("teacher_forcing", [True, False])
def test_a_50_step_unroll_with_shared_weights_has_the_gradient_of_central_differences(teacher_forcing: bool) -> None:
    series = noisy_sine(51)
    check_gradients(lambda *p: unrolled_cost(*p, series, teacher_forcing)[0], *rnn_weights(1))


def test_truncated_bptt_gives_each_chunk_the_gradient_of_its_own_steps_from_a_constant_state() -> None:
    """Chunk 2 after ``h = h.detach()``: its graph holds its own 10 steps only, and its gradient is that of the same
    10 steps started from a constant Value of h's numbers (central differences of that function agree)."""
    series = noisy_sine(21)
    params = [Value(a) for a in rnn_weights(2)]
    _, h = unrolled_cost(*params, series[:11], teacher_forcing=True)
    h = h.detach()
    cost, _ = unrolled_cost(*params, series[10:], teacher_forcing=True, h=h)
    cost.backward()
    assert sum(node.op == "tanh" for node in backward_order(cost)) == 10
    start = h.data.copy()
    check_gradients(lambda *p: unrolled_cost(*p, series[10:], True, h=Value(start, requires_grad=False))[0],
                    *rnn_weights(2))  # (raises where they disagree)
    fresh = [Value(a) for a in rnn_weights(2)]
    unrolled_cost(*fresh, series[10:], True, h=Value(start, requires_grad=False))[0].backward()
    for carried, alone in zip(params, fresh, strict=True):
        np.testing.assert_array_equal(carried.grad, alone.grad)


def test_a_detached_state_reset_after_backward_trains_on_as_a_fresh_one() -> None:
    """The reset between sequences after each chunk's backward pass is fine: the next chunk's gradient is that of a
    chunk started from zeros."""
    series = noisy_sine(21)
    params = [Value(a) for a in rnn_weights(3)]
    cost, h = unrolled_cost(*params, series[:11], teacher_forcing=True)
    cost.backward()
    h = h.detach()
    with no_grad():
        h *= 0.0
    for p in params:
        p.zero_grad()
    unrolled_cost(*params, series[10:], teacher_forcing=True, h=h)[0].backward()
    fresh = [Value(a) for a in rnn_weights(3)]
    unrolled_cost(*fresh, series[10:], teacher_forcing=True)[0].backward()
    for carried, alone in zip(params, fresh, strict=True):
        np.testing.assert_array_equal(carried.grad, alone.grad)


def _forecaster(seed: int = 0) -> nn.MLP:
    return nn.MLP([6, 5, 1], activation="tanh", output_activation="identity", init="xavier", rng=seed)


def test_fit_without_shuffling_walks_the_windows_in_time_and_shuffles_them_by_default() -> None:
    series = noisy_sine(70)
    x, y = sliding_window_view(series, 6)[:-1], series[6:, None]
    seen: dict[bool, list[np.ndarray]] = {True: [], False: []}
    for shuffle in (False, True):
        model = _forecaster()

        def watched(batch, model=model, shuffle=shuffle):
            seen[shuffle].append(batch.data[:, 0].copy())
            return model(batch)

        state = np.random.get_state()[1].copy()
        fit(watched, x, y, optimizer=optim.SGD(model, learning_rate=0.01), episodes=2, batch_size=16,
            shuffle=shuffle, seed=0, progress=False)
        if not shuffle:
            assert np.array_equal(np.random.get_state()[1], state)
    in_order = seen[False][:-1]  # (the last pass: the cost on all samples after the last update)
    expected = [x[i:i + 16, 0] for i in range(0, len(x), 16)] * 2
    assert len(in_order) == len(expected)
    for got, want in zip(in_order, expected, strict=True):
        np.testing.assert_array_equal(got, want)
    shuffled = np.concatenate(seen[True][:4])  # (the first episode: 4 batches of 16)
    assert sorted(shuffled) == sorted(x[:, 0]) and not np.array_equal(shuffled, x[:, 0])


def test_an_early_stopping_loop_of_one_episode_fits_joins_into_the_history_of_one_fit() -> None:
    series = noisy_sine(90)
    mean, std = series[:60].mean(), series[:60].std()  # statistics of the training part only
    scaled = (series - mean) / std
    x, y = sliding_window_view(scaled, 6)[:-1], scaled[6:, None]
    x_train, y_train, x_valid, y_valid = x[:54], y[:54], x[54:], y[54:]

    model = _forecaster()
    optimizer = optim.Adam(model, learning_rate=0.02)
    pieces, validation = [], []
    for _ in range(6):
        pieces.append(fit(model, x_train, y_train, optimizer=optimizer, episodes=1, batch_size=8, shuffle=False,
                          progress=False))
        with no_grad():
            validation.append(losses.squared_error(model(x_valid), y_valid).item())
    joined = sum(pieces)

    once = _forecaster()
    whole = fit(once, x_train, y_train, optimizer=optim.Adam(once, learning_rate=0.02), episodes=6, batch_size=8,
                shuffle=False, progress=False)
    assert joined.cost == whole.cost and joined.gradient_norm == whole.gradient_norm
    assert joined.step_size == whole.step_size and joined.final_cost == whole.final_cost
    assert joined.label == "Adam" and joined.episodes == 6 and np.all(np.diff(joined.seconds) > 0)
    for a, b in zip(model.parameters(), once.parameters(), strict=True):
        assert a.data.tobytes() == b.data.tobytes()
    with no_grad():
        assert validation[-1] == losses.squared_error(once(x_valid), y_valid).item()

    figure = plots.plot_history([joined, History(cost=validation, label="validation")])
    drawn = {line.get_label(): line for line in figure.axes[0].get_lines() if not line.get_label().startswith("_")}
    np.testing.assert_array_equal(drawn["Adam"].get_ydata(), joined.cost)
    np.testing.assert_array_equal(drawn["validation"].get_ydata(), validation)
    np.testing.assert_array_equal(drawn["validation"].get_xdata(), np.arange(1, 7))
