"""An engineer forecasting a time series (a noisy sine wave, a random walk) with small MLPs: windows of the last k
values built by hand with numpy (``sliding_window_view`` and ``as_strided``: read-only, non-contiguous views), trained
with ``fit`` on mini-batches with and without shuffling, then forecast autoregressively by feeding predictions back
in (``model(x)`` on ``(k,)`` and ``(1, k)``), from the command line on CSV windows, and against the naive last-value
forecast."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.lib.stride_tricks import as_strided, sliding_window_view

import tinygrad_edu.functional as F
from tinygrad_edu import Value, cli, nn, no_grad, optim
from tinygrad_edu.testing import check_gradients
from tinygrad_edu.training import fit

K = 6


def noisy_sine(n: int = 160, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.sin(np.arange(n) * 0.15) + 0.05 * rng.standard_normal(n)


def windows(series: np.ndarray, k: int = K) -> tuple[np.ndarray, np.ndarray]:
    """Inputs: every window of k values but the last (a read-only view); targets: the value after each, flat."""
    return sliding_window_view(series, k)[:-1], series[k:]


def forecaster(k: int = K, seed: int = 0) -> nn.MLP:
    return nn.MLP([k, 8, 1], activation="tanh", output_activation="identity", init="xavier", rng=seed)


class FlatOutputs(nn.Module):
    """One forecast per sample, flat ``(n,)``, as a model written to return "a vector of predictions" gives."""

    def __init__(self) -> None:
        self.net = forecaster()

    def forward(self, x):
        return self.net(x).reshape(-1)


def own_mse(out, targets):
    return ((out - targets) ** 2).mean()


# ------------------------------------------------------------------------------------------------------- defects

def test_a_column_of_targets_met_by_flat_outputs_in_an_own_cost_is_warned_about() -> None:
    x, y = windows(noisy_sine())
    model = FlatOutputs()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit(model, x, y.reshape(-1, 1), cost=own_mse, optimizer=optim.SGD(model, learning_rate=1e-3), episodes=1,
            batch_size=16, seed=0, progress=False)
    paired = [w for w in caught if "paired with every target" in str(w.message)]
    assert len(paired) == 1
    assert "outputs of shape (16,) with targets of shape (16, 1) into shape (16, 16)" in str(paired[0].message)
    assert "targets.reshape(-1)" in str(paired[0].message)
    assert paired[0].filename == __file__  # (the line calling fit)


def test_a_column_of_targets_met_by_flat_outputs_on_many_samples_gets_the_advice_not_a_memory_error() -> None:
    n = 5_000_000  # (n, n) float64 is about 182 TiB: numpy's allocation always fails; the samples are broadcast views
    w = Value([1.0])
    inputs, targets = np.broadcast_to(np.zeros(1), (n, 1)), np.broadcast_to(np.zeros(1), (n, 1))
    with pytest.raises(ValueError, match=rf"^fit: in episode 1 of 1, the cost function own_mse .*\({n}, {n}\).*"
                                         rf"targets of shape \({n}, 1\).*outputs of shape \({n},\).*"
                                         r"targets\.reshape\(-1\)") as caught:
        fit(lambda x: (x * w).reshape(-1), inputs, targets, cost=own_mse, optimizer=optim.GradientDescent([w], 0.1),
            episodes=1, progress=False)
    assert isinstance(caught.value.__cause__, MemoryError)
    assert w.data.tolist() == [1.0]


@pytest.mark.parametrize("kind", ["adam", "sgd"])
def test_an_optimizer_state_in_big_endian_order_loads_and_goes_on_bit_for_bit(kind: str) -> None:
    x, y = windows(noisy_sine())
    y = y.reshape(-1, 1)

    def make(model):
        return (optim.Adam(model, learning_rate=0.01) if kind == "adam"
                else optim.SGD(model, learning_rate=0.05, momentum=0.9))

    model = forecaster()
    optimizer = make(model)
    fit(model, x, y, optimizer=optimizer, episodes=2, batch_size=32, shuffle=False, progress=False)
    model_state, optimizer_state = model.state_dict(), optimizer.state_dict()
    big = {name: value.astype(value.dtype.newbyteorder(">")) if value.dtype.kind in "fi" else value
           for name, value in optimizer_state.items()}
    assert any(value.dtype.byteorder == ">" for value in big.values())

    resumed = []
    for state in (optimizer_state, big):
        copy = forecaster(seed=1)
        copy.load_state_dict(model_state)
        again = make(copy)
        again.load_state_dict(state)
        fit(copy, x, y, optimizer=again, episodes=2, batch_size=32, shuffle=False, progress=False)
        resumed.append(copy)
    native, from_big = resumed
    for a, b in zip(native.parameters(), from_big.parameters(), strict=True):
        assert a.data.dtype == np.float64 and a.data.tobytes() == b.data.tobytes()


def test_big_endian_windows_train_a_float32_model_as_native_ones_do() -> None:
    x, y = windows(noisy_sine())
    trained = []
    for inputs in (x, x.astype(">f8")):
        model = forecaster().float()
        seen = []

        def watched(v, model=model, seen=seen):
            seen.append(v.dtype)
            return model(v)

        fit(watched, inputs, y[:, None], optimizer=optim.SGD(model, learning_rate=0.1), episodes=3, batch_size=32,
            seed=0, progress=False)
        assert set(seen) == {np.dtype(np.float64)}  # (numpy's rule: float64 windows, float64 arithmetic)
        trained.append(b"".join(p.data.tobytes() for p in model.parameters()))
    assert trained[0] == trained[1]


# -------------------------------------------------------------------------------------------------------- guards

def test_a_models_own_column_times_a_parameter_of_batch_length_is_not_taken_for_targets() -> None:
    """Guard for the warning above: a 1-input model's inputs (n, 1) times a parameter (n,) make (n, n) inside the
    model, flat parameter with a column that needs no gradient, the same shapes; its inputs are not the targets."""
    n = 8
    inputs, targets = np.linspace(-1, 1, n).reshape(-1, 1), np.linspace(0, 2, n).reshape(-1, 1)
    w = Value(np.full(n, 0.1))

    def model(x):
        return (x * w).mean(axis=1, keepdims=True)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit(model, inputs, targets, cost=own_mse, optimizer=optim.GradientDescent([w], 0.1), episodes=1,
            progress=False)
    assert not [w for w in caught if "paired with every target" in str(w.message)]


@pytest.mark.parametrize("batch_size, shuffle", [(None, True), (16, True), (16, False)])
def test_read_only_strided_windows_train_as_their_copies_and_stay_as_they_were(batch_size, shuffle) -> None:
    series = noisy_sine()
    before = series.copy()
    x, y = windows(series)
    strided = as_strided(series, shape=(len(series) - K, K), strides=(series.strides[0],) * 2)  # (writeable view)
    assert not x.flags.writeable and not x.flags.c_contiguous
    trained = []
    for inputs, targets in ((x, y[:, None]), (strided, y[:, None]), (np.ascontiguousarray(x), y[:, None].copy())):
        model = forecaster()
        fit(model, inputs, targets, optimizer=optim.Adam(model, learning_rate=0.01), episodes=3,
            batch_size=batch_size, shuffle=shuffle, seed=0, progress=False)
        trained.append(b"".join(p.data.tobytes() for p in model.parameters()))
    assert trained[0] == trained[1] == trained[2]
    assert series.tobytes() == before.tobytes()


def test_a_window_as_a_row_a_flat_sample_and_a_big_endian_one_give_the_same_forecast() -> None:
    model = forecaster()
    window = sliding_window_view(noisy_sine(), K)[-1]
    with no_grad():
        flat, row = model(window), model(window.reshape(1, -1))
        swapped = model(window.astype(">f8"))
    assert flat.shape == (1,) and row.shape == (1, 1) and swapped.shape == (1,)
    assert flat.data[0] == row.data[0, 0] == swapped.data[0]
    assert flat.dtype == swapped.dtype == np.float64


def test_windows_of_the_wrong_length_or_a_column_are_refused_naming_the_shapes() -> None:
    model = forecaster()
    series = noisy_sine()
    with pytest.raises(ValueError, match=rf"expects {K} inputs per sample, shape \({K},\) or \(n, {K}\); got data "
                                         r"of shape \(5,\)"):
        model(series[-5:])
    with pytest.raises(ValueError, match=r"got data of shape \(155, 5\)"):
        model(sliding_window_view(series, 5)[:-1])
    with pytest.raises(ValueError, match=rf"got data of shape \({K}, 1\).*x\.reshape\(-1\)"):
        model(series[-K:].reshape(-1, 1))


def rollout(model, window, steps: int):
    """The forecasts of ``steps`` steps ahead, each fed back in as the newest value of the window."""
    forecasts = []
    for _ in range(steps):
        forecast = model(window)
        forecasts.append(forecast)
        window = F.concatenate([window[1:], forecast])
    return F.concatenate(forecasts)


def test_an_autoregressive_rollout_has_the_gradient_of_finite_differences() -> None:
    model = forecaster()
    window = sliding_window_view(noisy_sine(), K)[-1]
    check_gradients(lambda w: (rollout(model, w, 4) ** 2).sum(), window)


def test_the_trained_forecaster_beats_the_naive_last_value_forecast_on_a_sine() -> None:
    """The naive forecast's error, (s[t] − s[t−1])², is the bar: a window of 6 values of a sine wave predicts better."""
    x, y = windows(noisy_sine(400))
    model = forecaster()
    fit(model, x, y[:, None], optimizer=optim.Adam(model, learning_rate=0.01), episodes=40, batch_size=32, seed=0,
        progress=False)
    with no_grad():
        ours = float(np.mean((model(x).data[:, 0] - y) ** 2))
    naive = float(np.mean((x[:, -1] - y) ** 2))
    assert ours < 0.5 * naive


def test_predict_on_a_csv_of_windows_prints_the_models_forecasts(tmp_path, capsys) -> None:
    model = forecaster()
    path, inputs = tmp_path / "forecaster.npz", tmp_path / "windows.csv"
    model.save(path)
    last = sliding_window_view(noisy_sine(), K)[-3:]
    np.savetxt(inputs, last, delimiter=",")
    assert cli.main(["predict", str(path), "--inputs-file", str(inputs)]) == 0
    printed = [line.rpartition("→ ")[2] for line in capsys.readouterr().out.splitlines()]
    with no_grad():
        expected = model(last).data[:, 0]
    assert printed == [f"{value:.6g}" for value in expected]


@given(st.integers(2, 6), st.integers(1, 3), st.integers(0, 3))
def test_any_strided_window_gives_the_forecast_of_its_copy(k: int, step: int, start: int) -> None:
    series = noisy_sine(40)
    model = nn.MLP([k, 3, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    view = sliding_window_view(series[start::step], k)  # read-only, strided by step
    with no_grad():
        assert model(view).data.tobytes() == model(np.ascontiguousarray(view)).data.tobytes()
        # (one window goes through BLAS's vector product, a batch through its matrix product: equal to rounding)
        assert np.isclose(model(view[-1]).data[0], model(view).data[-1, 0], rtol=1e-12, atol=1e-15)
