"""An engineer stops training and goes on later, in a fresh process, from the files: the model, the optimizer's
state_dict() and the order of the mini-batches.  The reference is always a run that never stopped (tests/test_resume.py
does this in one process, float64; here a fresh Python process, float32, settings changed mid-run, an optimizer of
one's own, and what the optimizer says when it is handed something that is not its state)."""

import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, losses, nn, optim
from tinygrad_edu.data import load_digits
from tinygrad_edu.training import fit

ROOT = Path(__file__).resolve().parents[1]

# each optimizer, and a setting changed by hand after the first half (a schedule), as the engineer's script does
MAKERS = {
    "GradientDescent": ("optim.GradientDescent(model, learning_rate=0.5)", "learning_rate", 0.25),
    "SGD": ("optim.SGD(model, learning_rate=0.1, momentum=0.9)", "learning_rate", 0.05),
    "Adam": ("optim.Adam(model, learning_rate=0.02, betas=(0.8, 0.99))", "learning_rate", 0.01),
    "Armijo": ("optim.Armijo(model, sigma=0.01, alpha=0.6)", "initial_step", 2.0),
    "RandomSearch": ("optim.RandomSearch(model, scale=0.05, rng=3)", "scale", 0.02),
    "Newton": ("optim.Newton(model, damping=1e-3)", "damping", 1e-2),
}

# the script of both halves: run as it is for the first half (and the straight run), in a fresh process for the second
SCRIPT = textwrap.dedent("""
    import json, sys, warnings
    import numpy as np
    from tinygrad_edu import losses, nn, optim
    from tinygrad_edu.data import load_digits
    from tinygrad_edu.training import fit

    folder, half, make, setting, value = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
    inputs, labels = load_digits()
    inputs, labels = inputs[:40], labels[:40]

    def train(model, optimizer, order):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a line search that finds no step says so
            return fit(model, inputs, labels, cost=losses.cross_entropy, optimizer=optimizer, episodes=2,
                       batch_size=16, seed=order, progress=False).cost

    if half == "first":
        hidden = 1 if make.startswith("optim.Newton") else 6
        model = nn.MLP([64, hidden, 10], activation="tanh", output_activation="identity", init="xavier",
                       rng=0).float()
        optimizer, order = eval(make), np.random.default_rng(0)
        costs = train(model, optimizer, order)
        setattr(optimizer, setting, value)
        model.save(f"{folder}/model.npz")
        np.savez(f"{folder}/optimizer.npz", **optimizer.state_dict())
        with open(f"{folder}/order.json", "w") as file:
            json.dump(order.bit_generator.state, file)
    else:
        model = nn.load(f"{folder}/model.npz")
        kind = make.split("(")[0]
        optimizer = eval(kind + ("(model, 1.0)" if kind.endswith(("GradientDescent", "SGD")) else "(model)"))
        with np.load(f"{folder}/optimizer.npz", allow_pickle=False) as saved:
            optimizer.load_state_dict(saved)
        order = np.random.default_rng()
        with open(f"{folder}/order.json") as file:
            order.bit_generator.state = json.load(file)
        costs = train(model, optimizer, order)
        np.savez(f"{folder}/resumed.npz", **model.state_dict())
    with open(f"{folder}/{half}.json", "w") as file:
        json.dump(costs, file)
""")


def _straight_run(make: str, setting: str, value: float):
    inputs, labels = load_digits()
    inputs, labels = inputs[:40], labels[:40]
    hidden = 1 if make.startswith("optim.Newton") else 6
    model = nn.MLP([64, hidden, 10], activation="tanh", output_activation="identity", init="xavier", rng=0).float()
    optimizer, order = eval(make), np.random.default_rng(0)
    costs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for half in range(2):
            costs += fit(model, inputs, labels, cost=losses.cross_entropy, optimizer=optimizer, episodes=2,
                         batch_size=16, seed=order, progress=False).cost
            if half == 0:
                setattr(optimizer, setting, value)
    return model, costs


@pytest.mark.parametrize("name", MAKERS)
def test_float32_mini_batch_training_resumed_in_a_fresh_process_is_bit_for_bit_the_straight_run(name, tmp_path):
    """Guard: two episodes, a setting changed by hand, everything to files; two more episodes in a new Python process
    from the files give the parameters (float32) and the costs of the run that never stopped, exactly."""
    make, setting, value = MAKERS[name]
    script = tmp_path / "half.py"
    script.write_text(SCRIPT)
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    for half in ("first", "second"):
        subprocess.run([sys.executable, str(script), str(tmp_path), half, make, setting, repr(value)], check=True,
                       env=environment, cwd=tmp_path, timeout=60)
    model, costs = _straight_run(make, setting, value)
    resumed = np.load(tmp_path / "resumed.npz")
    for key, expected in model.state_dict().items():
        assert resumed[key].dtype == expected.dtype == np.float32, key
        np.testing.assert_array_equal(resumed[key], expected, err_msg=key)
    halves = [json.loads((tmp_path / f"{half}.json").read_text()) for half in ("first", "second")]
    assert halves[0] + halves[1] == costs


# --- an optimizer of one's own ---------------------------------------------------------------------------------

class WarmedUpAdam(optim.Adam):
    """Adam whose learning rate grows over the first ``warmup`` steps: an engineer's subclass with an argument of
    its own, which it needs (no default)."""

    def __init__(self, params, warmup, **settings):
        super().__init__(params, **settings)
        self.warmup, self.target, self.steps = warmup, self.learning_rate, 0

    def step(self, closure=None, *, cost=None):
        self.steps += 1
        self.learning_rate = self.target * min(1.0, self.steps / self.warmup)
        return super().step(closure, cost=cost)


def _quadratic_steps(optimizer, x, count):
    for _ in range(count):
        optimizer.step(lambda: ((x - np.array([1.0, -2.0, 0.5])) ** 2 * np.array([1.0, 10.0, 3.0])).sum())


def test_a_subclass_with_its_own_constructor_loads_its_own_state_and_goes_on_exactly():
    x = Value(np.array([3.0, 2.0, -1.0]))
    straight = WarmedUpAdam([x], 3, learning_rate=0.1)
    _quadratic_steps(straight, x, 6)

    y = Value(np.array([3.0, 2.0, -1.0]))
    first = WarmedUpAdam([y], 3, learning_rate=0.1)
    _quadratic_steps(first, y, 3)
    saved, numbers = first.state_dict(), y.data.copy()
    z = Value(numbers)
    resumed = WarmedUpAdam([z], 3, learning_rate=0.1)
    resumed.load_state_dict(saved)
    resumed.steps = first.steps  # its own counter is its own to save
    _quadratic_steps(resumed, z, 3)
    assert z.data.tolist() == x.data.tolist()
    assert resumed.state_dict()["state.0.step_count"] == 6
    with pytest.raises(ValueError, match=r"^WarmedUpAdam\.load_state_dict: learning_rate must be >= 0"):
        resumed.load_state_dict({**saved, "learning_rate": np.array(-1.0)})  # its settings are still checked


# --- handed something that is not an optimizer's state ---------------------------------------------------------

def _model_and_adam():
    model = nn.MLP([3, 4, 2], activation="tanh", rng=0)
    adam = optim.Adam(model, learning_rate=0.05)
    adam.step(lambda: (model(np.ones((2, 3))) ** 2).sum())
    return model, adam


@pytest.mark.parametrize("given", ["model state_dict", "model file", "PyTorch's layout"])
def test_what_is_no_optimizer_state_is_refused_as_such_and_changes_nothing(given, tmp_path):
    model, adam = _model_and_adam()
    before = adam.state_dict()
    if given == "model state_dict":
        state = model.state_dict()
    elif given == "model file":
        model.save(tmp_path / "model.npz")
        state = np.load(tmp_path / "model.npz", allow_pickle=False)
    else:
        state = {"state": np.array(0), "param_groups": np.array(0)}
    with pytest.raises(ValueError, match=r"^Adam\.load_state_dict: missing 'optimizer' and 'parameter_count': "
                                         r"this is no optimizer's state_dict\(\) \(its keys: '.*\); a model's "
                                         r"state or file is loaded by the model"):
        adam.load_state_dict(state)
    after = adam.state_dict()
    assert sorted(after) == sorted(before)
    for key, value in before.items():
        np.testing.assert_array_equal(after[key], value, err_msg=key)


@pytest.mark.parametrize("as_path", [str, Path], ids=["str", "Path"])
def test_a_path_given_to_load_state_dict_says_to_read_the_file_first(as_path, tmp_path):
    _, adam = _model_and_adam()
    np.savez(tmp_path / "adam.npz", **adam.state_dict())
    with pytest.raises(TypeError, match=r"^Adam\.load_state_dict: expected a mapping .*, got \w+ \(a path: read the "
                                        r"file first, np\.load\(path, allow_pickle=False\)\)$"):
        adam.load_state_dict(as_path(tmp_path / "adam.npz"))


def test_an_sgd_state_lacking_only_its_kind_is_still_named_by_the_missing_key():
    """Guard: the message for what is no optimizer's state is for that only; a damaged state of one says what it
    lacks."""
    model, _ = _model_and_adam()
    sgd = optim.SGD(model, learning_rate=0.1)
    state = sgd.state_dict()
    del state["optimizer"]
    with pytest.raises(ValueError, match=r"^SGD\.load_state_dict: missing 'optimizer'$"):
        sgd.load_state_dict(state)


# --- split anywhere ----------------------------------------------------------------------------------------------

@given(split=st.integers(1, 7), which=st.sampled_from(["SGD", "Adam", "RandomSearch"]),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_a_run_split_after_any_step_and_resumed_from_its_state_is_the_straight_run(split, which, dtype):
    """Guard: eight steps in one go, or split after any of them (the state through state_dict/load_state_dict, new
    Values and a new optimizer), are the same numbers, bit for bit, in float32 and float64."""
    make = {"SGD": lambda p: optim.SGD(p, learning_rate=0.05, momentum=0.8),
            "Adam": lambda p: optim.Adam(p, learning_rate=0.1),
            "RandomSearch": lambda p: optim.RandomSearch(p, scale=0.3, rng=7)}[which]
    start = np.array([3.0, 2.0, -1.0], dtype=dtype)
    x = Value(start.copy())
    _quadratic_steps(make([x]), x, 8)
    y = Value(start.copy())
    first = make([y])
    _quadratic_steps(first, y, split)
    z = Value(y.data.copy())
    second = make([z])
    second.load_state_dict(first.state_dict())
    _quadratic_steps(second, z, 8 - split)
    assert z.dtype == x.dtype == dtype
    assert z.data.tolist() == x.data.tolist()


def test_a_float64_state_refused_by_a_float32_model_says_to_load_first_and_convert_after_and_that_works():
    inputs, targets = np.ones((4, 2)), np.zeros((4, 1))
    model = nn.MLP([2, 3, 1], rng=0)
    adam = optim.Adam(model, 0.01)
    losses.squared_error(model(inputs), targets).backward()
    adam.step()
    saved = adam.state_dict()
    converted = nn.MLP([2, 3, 1], rng=0).float()
    with pytest.raises(ValueError, match="load it into the model in float64, then convert the model to float32"):
        optim.Adam(converted, 0.01).load_state_dict(saved)
    advised = nn.MLP([2, 3, 1], rng=0)  # the advice followed: it loads, converts, and goes on
    resumed = optim.Adam(advised, 0.01)
    resumed.load_state_dict(saved)
    advised.float()
    first_moment = saved["state.0.gradient_average"].copy()
    advised.zero_grad()
    losses.squared_error(advised(inputs.astype(np.float32)), targets.astype(np.float32)).backward()
    resumed.step()
    after = resumed.state_dict()
    assert after["state.0.gradient_average"].dtype == np.float32
    gradient = advised.parameters()[0].grad.astype(np.float64)
    expected = 0.9 * first_moment + 0.1 * gradient  # Adam's first moment with its default beta1 = 0.9
    np.testing.assert_allclose(after["state.0.gradient_average"], expected, rtol=1e-6)
