"""An engineer who inspects and manipulates optimizer state: reads each optimizer's settings and state (state_dict(),
attributes, repr), changes settings mid-training (by attribute and by editing a state_dict), saves the state to a file
and loads it into a fresh optimizer over a fresh model, compares Adam's moments and step counts and SGD's velocities
with updates written in numpy, and hands states and files to the wrong loader.

Defects found (fixed): an optimizer's state file given to ``nn.load`` / ``model.load`` was refused with
the advice to load it with ``model.load_state_dict(numpy.load(path))``, which fails too; ``model.load_state_dict`` of
an optimizer's state did not say what it was, and with ``strict=False`` loaded nothing without a word; a state_dict
edited with numpy arithmetic (``state["learning_rate"] * 0.1``, a numpy scalar) was refused as "must be a numpy
array, got float64"; and random search's generator state of another kind (MT19937 into the default PCG64) was refused
without naming the kind saved or how to load it.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, losses, nn, optim

# each optimizer as the engineer makes it, with settings other than the defaults
MAKERS = {
    "GradientDescent": lambda params: optim.GradientDescent(params, learning_rate=0.3),
    "SGD": lambda params: optim.SGD(params, learning_rate=0.1, momentum=0.9),
    "Adam": lambda params: optim.Adam(params, learning_rate=0.05, betas=(0.8, 0.95), eps=1e-6),
    "Armijo": lambda params: optim.Armijo(params, sigma=0.01, alpha=0.6, initial_step=2.0),
    "RandomSearch": lambda params: optim.RandomSearch(params, scale=0.2, rng=4),
    "Newton": lambda params: optim.Newton(params, damping=1e-3),
}
# a fresh optimizer of the same kind with the constructor's defaults (the load must bring the settings back)
FRESH = {
    "GradientDescent": lambda params: optim.GradientDescent(params, learning_rate=1.0),
    "SGD": lambda params: optim.SGD(params, learning_rate=1.0),
    "Adam": optim.Adam, "Armijo": optim.Armijo, "RandomSearch": optim.RandomSearch, "Newton": optim.Newton,
}


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 2))
    return x, (x ** 2).sum(axis=1, keepdims=True)


def _steps(optimizer: optim.Optimizer, model: nn.Module, count: int) -> None:
    x, y = _data()
    for _ in range(count):
        optimizer.step(lambda: losses.squared_error(model(x), y))


def _trained(name: str, steps: int = 2) -> tuple[nn.Module, optim.Optimizer]:
    model = nn.MLP([2, 3, 1], activation="tanh", rng=0)
    optimizer = MAKERS[name](model)
    _steps(optimizer, model, steps)
    return model, optimizer


# --- defects -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reader", ["nn.load", "model.load", "nn.load_state"])
def test_an_optimizer_state_file_read_as_a_model_says_it_is_an_optimizers_state(reader, tmp_path):
    model, adam = _trained("Adam")
    path = tmp_path / "optimizer.npz"
    np.savez(path, **adam.state_dict())
    read = {"nn.load": nn.load, "model.load": model.load, "nn.load_state": nn.load_state}[reader]
    with pytest.raises(ValueError) as caught:
        read(path)
    message = str(caught.value)
    assert "optimizer's state" in message and "load_state_dict(numpy.load(path, allow_pickle=False))" in message
    assert "model.load_state_dict(numpy.load(path))" not in message  # (the advice that fails as well)
    with np.load(path, allow_pickle=False) as saved:  # and the advice given works
        optim.Adam(model).load_state_dict(saved)


@pytest.mark.parametrize("strict", [True, False])
@pytest.mark.parametrize("name", ["Adam", "SGD", "GradientDescent", "RandomSearch"])
def test_a_models_load_state_dict_refuses_an_optimizers_state_by_name(name, strict):
    model, optimizer = _trained(name)
    before = [p.data.copy() for p in model.parameters()]
    with pytest.raises(ValueError, match=r"an optimizer's state_dict\(\).*optimizer's load_state_dict"):
        model.load_state_dict(optimizer.state_dict(), strict=strict)
    assert all(np.array_equal(p.data, b) for p, b in zip(model.parameters(), before, strict=True))


@pytest.mark.parametrize("name, setting", [("Adam", "learning_rate"), ("SGD", "momentum"), ("Armijo", "sigma"),
                                           ("RandomSearch", "scale"), ("Newton", "damping")])
def test_a_setting_edited_with_numpy_arithmetic_in_the_state_dict_loads(name, setting):
    model, optimizer = _trained(name)
    state = optimizer.state_dict()
    state[setting] = state[setting] * 0.5
    assert isinstance(state[setting], np.generic)  # what numpy makes of a 0-d array times a float
    expected = float(state[setting])
    optimizer.load_state_dict(state)
    assert getattr(optimizer, setting) == expected and type(getattr(optimizer, setting)) is float
    assert f"{setting}={expected!r}" in repr(optimizer)


def test_a_generator_state_of_another_kind_is_refused_naming_both_kinds_and_the_way_to_load_it():
    x = Value([1.0, -2.0])
    saved = optim.RandomSearch([x], rng=np.random.Generator(np.random.MT19937(3)))
    saved.step(lambda: (x * x).sum())
    state = saved.state_dict()
    y = Value(x.data.copy())
    fresh = optim.RandomSearch([y])
    drawn = fresh.rng.bit_generator.state
    with pytest.raises(ValueError, match=r"^RandomSearch\.load_state_dict: 'rng' is no state of a PCG64, this "
                                         r"optimizer's rng, but of a MT19937: make the optimizer with "
                                         r"rng=np\.random\.Generator\(np\.random\.MT19937\(\)\)"):
        fresh.load_state_dict(state)
    assert fresh.rng.bit_generator.state == drawn
    # the way out the message gives works: the search goes on as the saved one does
    fresh = optim.RandomSearch([y], rng=np.random.Generator(np.random.MT19937()))
    fresh.load_state_dict(state)
    saved.step(lambda: (x * x).sum())
    fresh.step(lambda: (y * y).sum())
    assert x.data.tolist() == y.data.tolist()


# --- guards ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", MAKERS)
def test_state_saved_to_a_file_and_loaded_into_a_fresh_optimizer_over_a_fresh_model_goes_on_bit_for_bit(name):
    """Guard: 5 steps straight, or 2 steps, the model's and the optimizer's state through files, a fresh model (other
    weights) and a fresh optimizer (the constructor's defaults), then 3 steps: the same numbers, bit for bit."""
    straight, _ = _trained(name, steps=5)
    model, optimizer = _trained(name, steps=2)
    model_file, optimizer_file = io.BytesIO(), io.BytesIO()
    np.savez(model_file, **model.state_dict())
    np.savez(optimizer_file, **optimizer.state_dict())
    model_file.seek(0)
    optimizer_file.seek(0)
    fresh = nn.MLP([2, 3, 1], activation="tanh", rng=9)
    with np.load(model_file, allow_pickle=False) as saved:
        fresh.load_state_dict(saved)
    resumed = FRESH[name](fresh)
    with np.load(optimizer_file, allow_pickle=False) as saved:
        resumed.load_state_dict(saved)
    assert repr(resumed) == repr(optimizer)
    _steps(resumed, fresh, 3)
    assert [p.data.tolist() for p in fresh.parameters()] == [p.data.tolist() for p in straight.parameters()]


@pytest.mark.parametrize("name", ["SGD", "Adam", "RandomSearch"])
def test_the_state_dict_and_the_loaded_state_share_no_numbers_with_the_optimizer(name):
    """Guard: writing into the arrays state_dict() returned, or into the state after loading it, changes nothing the
    optimizer keeps (its next state_dict and its steps are those of an untouched twin)."""
    model, optimizer = _trained(name)
    twin_model, twin = _trained(name)
    for array in optimizer.state_dict().values():
        if array.dtype.kind in "fi":
            array[...] = 7
    loaded = twin.state_dict()
    optimizer.load_state_dict(loaded)
    for array in loaded.values():
        if array.dtype.kind in "fi":
            array[...] = 5
    expected = twin.state_dict()
    assert {k: v.tolist() for k, v in optimizer.state_dict().items()} == {k: v.tolist() for k, v in expected.items()}
    _steps(optimizer, model, 2)
    _steps(twin, twin_model, 2)
    assert [p.data.tolist() for p in model.parameters()] == [p.data.tolist() for p in twin_model.parameters()]


@given(rate=st.floats(1e-3, 0.5), beta1=st.floats(0.0, 0.95), beta2=st.floats(0.5, 0.999),
       eps=st.floats(1e-8, 1e-2), skips=st.lists(st.booleans(), min_size=6, max_size=6))
def test_adams_moments_and_step_counts_are_those_of_adam_written_in_numpy(rate, beta1, beta2, eps, skips):
    """Guard: Adam over two parameters, the second without a gradient in some steps, against Adam written in numpy
    (PyTorch's, with a step count per parameter): the parameters, and the state_dict's moments and step counts."""
    a = np.array([1.0, 2.0, 3.0])
    w, b = Value(np.array([0.5, -1.0, 2.0])), Value(np.array(1.5))
    adam = optim.Adam([w, b], learning_rate=rate, betas=(beta1, beta2), eps=eps)
    numbers = [w.data.copy(), b.data.copy()]
    moments = [[0, 0.0, 0.0], [0, 0.0, 0.0]]
    for skip in skips:
        def cost(skip=skip):
            quadratic = (w * w * a).sum()
            return quadratic if skip else quadratic + b * b * 2.0
        adam.step(cost)
        gradients = [2 * a * numbers[0], None if skip else 4 * numbers[1]]
        for i, g in enumerate(gradients):
            if g is None:
                continue
            k, m, v = moments[i]
            k, m, v = k + 1, beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
            moments[i] = [k, m, v]
            numbers[i] = numbers[i] - rate * (m / (1 - beta1 ** k)) / (np.sqrt(v / (1 - beta2 ** k)) + eps)
    np.testing.assert_allclose(w.data, numbers[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b.data, numbers[1], rtol=1e-12, atol=1e-14)
    state = adam.state_dict()
    for i, (k, m, v) in enumerate(moments):
        if k == 0:
            assert f"state.{i}.step_count" not in state
            continue
        assert int(state[f"state.{i}.step_count"]) == k == (len(skips) if i == 0 else skips.count(False))
        np.testing.assert_allclose(state[f"state.{i}.gradient_average"], m, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(state[f"state.{i}.squared_gradient_average"], v, rtol=1e-12, atol=1e-15)


def test_a_learning_rate_and_momentum_changed_by_editing_the_state_dict_are_those_of_sgd_in_numpy():
    """Guard: SGD with momentum, its learning rate and momentum changed halfway by editing the state_dict in place and
    loading it back, against v ← μv + g, x ← x − ηv in numpy; its velocity in the state_dict too."""
    a = np.array([1.0, 2.0, 3.0])
    w = Value(np.array([1.0, -0.5, 0.25]))
    sgd = optim.SGD([w], learning_rate=0.1, momentum=0.9)
    x, velocity = w.data.copy(), None
    for step in range(8):
        if step == 4:
            state = sgd.state_dict()
            state["learning_rate"][...] = 0.05
            state["momentum"][...] = 0.5
            sgd.load_state_dict(state)
            assert repr(sgd) == "SGD(learning_rate=0.05, momentum=0.5)"
        rate, momentum = (0.1, 0.9) if step < 4 else (0.05, 0.5)
        sgd.step(lambda: (w * w * a).sum())
        g = 2 * a * x
        velocity = g if velocity is None else momentum * velocity + g
        x = x - rate * velocity
        np.testing.assert_allclose(w.data, x, rtol=1e-13)
        np.testing.assert_allclose(sgd.state_dict()["state.0.velocity"], velocity, rtol=1e-13)


@pytest.mark.parametrize("name", MAKERS)
def test_a_state_for_another_model_or_another_optimizer_is_refused_naming_the_field_and_changing_nothing(name):
    """Guard: a state loaded into an optimizer of another kind, or over a model with one more layer, or with the
    parameters in another order (of other shapes), is a ValueError naming the field at fault; the optimizer is as
    it was."""
    _, optimizer = _trained(name)
    state = optimizer.state_dict()
    other = "Adam" if name != "Adam" else "SGD"
    deeper = nn.MLP([2, 3, 3, 1], activation="tanh", rng=1)
    reordered = list(nn.MLP([2, 3, 1], activation="tanh", rng=1).parameters())[::-1]
    for target, field in [(MAKERS[other](deeper), "'optimizer'"), (FRESH[name](deeper), "'parameter_count'"),
                          (FRESH[name](reordered), "'state.0." if name in ("SGD", "Adam") else None)]:
        before = target.state_dict()
        if field is None:  # no state by parameter: nothing to tell the order by (the settings load)
            target.load_state_dict(state)
            continue
        with pytest.raises(ValueError, match=rf"^{type(target).__name__}\.load_state_dict: {field}"):
            target.load_state_dict(state)
        after = target.state_dict()
        assert after.keys() == before.keys()
        assert all(np.array_equal(after[key], before[key]) for key in before)


def test_random_searchs_counts_and_generator_are_saved_and_its_reports_are_not():
    """Guard: the counts of changes kept and tried and the generator go into the state (as JSON text of the generator's
    own state), the reports of the latest step do not."""
    _, search = _trained("RandomSearch", steps=6)
    state = search.state_dict()
    assert int(state["accepted"]) == search.accepted and int(state["proposals"]) == search.proposals == 6
    assert json.loads(str(state["rng"])) == json.loads(json.dumps(search.rng.bit_generator.state))
    assert not any(key.startswith("last_") for key in state)
