"""A data scientist's ensemble: several small networks trained on the digits with different seeds, averaged, saved,
loaded back in a fresh process, averaged weight by weight into a new model, and all their histories on one plot.

The xfail test failed before its fix (runs of plot_history alike in both colour and line style); the others guard
what an ensemble relies on: seeds that reproduce, members that share no numbers, load_state_dict copying the
caller's arrays of any float dtype and layout, files that load back bit for bit in another process."""

from __future__ import annotations

import copy
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu
from tinygrad_edu import data, losses, nn, optim, training
from tinygrad_edu.engine import Value

pytest.importorskip("matplotlib")
import matplotlib.colors  # noqa: E402
import matplotlib.style  # noqa: E402

from tinygrad_edu import plots  # noqa: E402
from tinygrad_edu.training import History  # noqa: E402

_ROOT = Path(tinygrad_edu.__file__).resolve().parent.parent


def _digits(n: int = 160) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first ``n`` training digits, their one-hot targets, and 40 held-out digits."""
    (x, y), (x_test, _) = data.train_test_split(*data.load_digits(), seed=0)
    return x[:n] / 16.0, data.one_hot(y[:n]), x_test[:40] / 16.0


def _member(seed: int, x: np.ndarray, targets: np.ndarray) -> tuple[nn.MLP, History]:
    model = nn.MLP([64, 8, 10], activation="tanh", init="xavier", rng=seed)
    history = training.fit(model, x, targets, cost=losses.mean_squared_error,
                           optimizer=optim.Adam(model, learning_rate=0.01), episodes=2, batch_size=32, seed=seed,
                           progress=False)
    return model, history


def _runs(ax) -> list:
    return [line for line in ax.get_lines() if not line.get_label().startswith("_") and len(line.get_xdata())]


# --- the defect ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("style", "members"), [("default", 24), ("seaborn-v0_8", 20), ("fivethirtyeight", 20)])
def test_no_two_members_of_an_ensemble_plot_look_alike_in_colour_and_line_style(style, members):
    histories = {f"seed {s}": History(cost=list(1.0 / np.arange(1, 6) ** (1 + s / 10)), step_size=[0.01] * 5)
                 for s in range(members)}
    with matplotlib.style.context(style):
        fig = plots.plot_history(histories)
    costs, steps = _runs(fig.axes[0]), _runs(fig.axes[1])
    assert [line.get_label() for line in costs] == list(histories)
    looks = [(matplotlib.colors.to_hex(line.get_color()), line.get_linestyle()) for line in costs]
    alike = [(i + 1, looks.index(look) + 1) for i, look in enumerate(looks) if looks.index(look) != i]
    assert not alike, f"runs drawn alike (run, its twin): {alike}"
    # each step size line keeps the look of its cost line, and the legend shows them as drawn
    assert [(matplotlib.colors.to_hex(line.get_color()), line.get_linestyle()) for line in steps] == looks
    assert [line.get_linestyle() for line in fig.legends[0].legend_handles] == [look[1] for look in looks]


# --- guards -------------------------------------------------------------------------------------------------------
def test_the_first_members_keep_their_line_styles_in_turn():
    """The fix changes no figure of up to 20 runs in matplotlib's colours: the styles still go round in turn."""
    fig = plots.plot_history([list(1.0 / np.arange(1, 4) ** (1 + s)) for s in range(20)])
    assert [line.get_linestyle() for line in _runs(fig.axes[0])] == ["-", "--", ":", "-."] * 5


def test_a_member_trained_again_with_its_seeds_is_the_same_bit_for_bit_and_other_seeds_differ():
    x, targets, _ = _digits()
    first, history = _member(3, x, targets)
    again, history_again = _member(3, x, targets)
    other, _ = _member(4, x, targets)
    for name, array in first.state_dict().items():
        assert array.tobytes() == again.state_dict()[name].tobytes(), name
        assert not np.array_equal(array, other.state_dict()[name]), name
    assert history.cost == history_again.cost


def test_members_deep_copied_from_one_template_share_no_numbers_and_train_apart():
    x, targets, _ = _digits(64)
    template = nn.MLP([64, 8, 10], activation="tanh", init="xavier", rng=0)
    start = template.state_dict()
    members = [copy.deepcopy(template) for _ in range(3)]
    for seed, member in enumerate(members):
        training.fit(member, x, targets, cost=losses.mean_squared_error, optimizer=optim.SGD(member, 0.5),
                     episodes=1, batch_size=16, seed=seed, progress=False)
    for name, array in template.state_dict().items():
        assert np.array_equal(array, start[name]), f"training a copy changed the template's {name}"
    a, b = (dict(member.named_parameters()) for member in members[:2])
    assert not any(np.shares_memory(p.data, q.data) for p in a.values() for q in b.values())
    assert not np.array_equal(a["layers.1.weights"].data, b["layers.1.weights"].data)  # other shuffles


_LAYOUTS = {
    "contiguous": lambda a: a.copy(),
    "fortran": np.asfortranarray,
    "transposed view": lambda a: np.ascontiguousarray(a.T).T if a.ndim == 2 else a[::-1].copy()[::-1],
    "strided slice": lambda a: np.repeat(a, 2, axis=-1)[..., ::2],
    "Value": lambda a: Value(a) * 1.0,
}


@given(dtype=st.sampled_from([np.float32, np.float64]), layout=st.sampled_from(sorted(_LAYOUTS)),
       seeds=st.lists(st.integers(0, 50), min_size=2, max_size=5, unique=True))
def test_averaged_weights_load_with_their_dtype_and_the_model_keeps_no_reference_to_them(dtype, layout, seeds):
    members = [nn.MLP([3, 4, 2], activation="tanh", rng=s) for s in seeds]
    mean = {name: np.mean([m.state_dict()[name] for m in members], axis=0).astype(dtype)
            for name in members[0].state_dict()}
    given_state = {name: _LAYOUTS[layout](array.copy()) for name, array in mean.items()}
    model = copy.deepcopy(members[0])
    model.load_state_dict(given_state)
    loaded = model.state_dict()
    for name, array in mean.items():
        assert loaded[name].dtype == dtype and loaded[name].tobytes() == array.tobytes(), name
    for name, entry in given_state.items():  # the caller's arrays changed after the load: the model's are not
        (entry.data if isinstance(entry, Value) else entry)[...] = 7.0
        assert np.array_equal(model.state_dict()[name], mean[name]), name
    assert np.array_equal(members[0].state_dict()["layers.1.weights"],
                          nn.MLP([3, 4, 2], activation="tanh", rng=seeds[0]).state_dict()["layers.1.weights"])


def test_members_saved_and_pickled_load_in_a_fresh_process_to_the_same_averaged_prediction(tmp_path):
    x, targets, x_test = _digits(96)
    members = [_member(seed, x, targets)[0] for seed in range(3)]
    members[1].float()  # one member in float32: its file and its pickle keep it
    for i, member in enumerate(members):
        member.save(tmp_path / f"member{i}.npz")
        (tmp_path / f"member{i}.pkl").write_bytes(pickle.dumps(member))
    np.save(tmp_path / "x_test.npy", x_test)
    script = (
        "import pickle, sys, numpy as np\n"
        "from pathlib import Path\n"
        "from tinygrad_edu import nn\n"
        "folder = Path(sys.argv[1]); x = np.load(folder / 'x_test.npy')\n"
        "loaded = [nn.load(folder / f'member{i}.npz') for i in range(3)]\n"
        "unpickled = [pickle.loads((folder / f'member{i}.pkl').read_bytes()) for i in range(3)]\n"
        "np.save(folder / 'loaded.npy', np.mean([m(x).numpy() for m in loaded], axis=0))\n"
        "np.save(folder / 'unpickled.npy', np.mean([m(x).numpy() for m in unpickled], axis=0))\n"
        "np.savez(folder / 'states.npz', **{f'{i}/{k}': v for i, m in enumerate(loaded)\n"
        "                                   for k, v in m.state_dict().items()})\n")
    env = {**os.environ, "PYTHONPATH": str(_ROOT)}
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, env=env, timeout=60)
    expected = np.mean([member(x_test).numpy() for member in members], axis=0)
    for name in ("loaded", "unpickled"):
        assert np.load(tmp_path / f"{name}.npy").tobytes() == expected.tobytes(), name
    with np.load(tmp_path / "states.npz") as states:
        for i, member in enumerate(members):
            for name, array in member.state_dict().items():
                stored = states[f"{i}/{name}"]
                assert stored.dtype == array.dtype and stored.tobytes() == array.tobytes(), (i, name)


def test_twenty_member_histories_from_a_dict_of_seeds_are_drawn_each_with_its_own_costs():
    histories = {seed: History(cost=list(np.linspace(1.0, 0.1 + seed / 100, 3 + seed % 4)),
                               step_size=[0.01] * (3 + seed % 4)) for seed in range(20)}
    fig = plots.plot_history(histories)
    costs = _runs(fig.axes[0])
    assert [line.get_label() for line in costs] == [str(seed) for seed in histories]
    for line, history in zip(costs, histories.values(), strict=True):
        assert list(line.get_ydata()) == history.cost
        assert list(line.get_xdata()) == list(range(1, history.episodes + 1))
