"""Mutation testing of round 32's changes (git diff a493870..HEAD -- tinygrad_edu): tests that kill the mutations
that survived the round's own tests, each asserting the documented behaviour, computed independently (numpy, closed
forms, the docstrings' words); and one defect found on the way (np.take's advice read the axis from the indices)."""

import asyncio
import warnings

import numpy as np
import pytest

from tinygrad_edu import Value, checks, detect_anomaly, fit, is_grad_enabled, losses, nn, no_grad, optim


def _error(call) -> str:
    with pytest.raises((TypeError, ValueError, IndexError, FloatingPointError)) as info:
        call()
    return str(info.value)


# --- checks._call_slip / misspelt_keyword ---------------------------------------------------------------------------

def test_keyword_only_given_by_position_counts_the_callers_arguments_not_self():
    x = Value(2.0)
    y = x * x
    message = _error(lambda: y.backward(None, True))  # backward(self, grad=None, *, create_graph, inputs)
    assert "takes 1 positional argument (grad) but 2 were given" in message
    # no keyword-only argument is required: the first two are named as the example
    assert "create_graph=..." in message and "inputs=..." in message


def test_keyword_only_example_names_only_the_required_ones_not_given():
    net = nn.Network(nn.Layer(2, 1, activation="identity", rng=0))
    inputs, targets = np.ones((4, 2)), np.ones((4, 1))
    message = _error(lambda: fit(net, inputs, targets, losses.squared_error, episodes=2,
                                 optimizer=optim.GradientDescent(net, learning_rate=0.1)))
    assert "takes 3 positional arguments (model, inputs, targets) but 4 were given" in message
    assert "episodes=..." not in message  # (given by name already: not to be written again)


def test_misspelt_keyword_says_nothing_for_a_function_taking_any_keyword():
    def takes_any(episodes: int = 1, **options: object) -> None:
        pass

    assert checks.misspelt_keyword(takes_any, ["episode"]) == ""
    assert checks.misspelt_keyword(lambda episodes=1: None, ["episode"]) == \
        "there is no argument episode=; did you mean episodes=?"


def test_misspelt_keyword_never_suggests_self():
    message = _error(lambda: nn.Layer(2, 1, slef=1))
    assert "self=" not in message


# --- engine: async generators decorated with a mode ----------------------------------------------------------------

def test_async_generator_closed_early_runs_its_cleanup_in_the_mode():
    seen = []

    @no_grad()
    async def steps():
        try:
            yield is_grad_enabled()
            yield is_grad_enabled()
        finally:
            seen.append(is_grad_enabled())

    async def main():
        agen = steps()
        first = await agen.__anext__()
        await agen.aclose()
        return first

    assert asyncio.run(main()) is False
    assert seen == [False] and is_grad_enabled()


def test_async_generator_gets_a_base_exception_thrown_into_it():
    @no_grad()
    async def steps():
        try:
            yield 1
        except asyncio.CancelledError:  # (a BaseException, not an Exception)
            yield ("cancelled", is_grad_enabled())

    async def main():
        agen = steps()
        await agen.__anext__()
        answer = await agen.athrow(asyncio.CancelledError())
        await agen.aclose()
        return answer

    assert asyncio.run(main()) == ("cancelled", False)


# --- engine: errors that show index arrays by shape (_param_text) -------------------------------------------------

def test_index_error_shows_a_two_dimensional_index_array_by_shape():
    v = Value(np.zeros((3, 3)))
    message = _error(lambda: v[np.array([[0, 5], [1, 2]])])
    assert "array of shape (2, 2)" in message and "[[0, 5]" not in message


def test_index_error_shows_a_long_index_array_by_shape_and_a_short_one_by_its_numbers():
    v = Value(np.zeros((3, 3)))
    message = _error(lambda: v[np.arange(20) % 4])
    assert "array of shape (20,)" in message and "0, 1, 2, 3, 0" not in message
    assert "key=[0, 5]" in _error(lambda: v[np.array([0, 5])])  # (as the drawings write it)


# --- engine: stale graphs and transpose ------------------------------------------------------------------------------

def test_stale_cost_computed_before_the_change_says_compute_the_cost_again():
    weights = Value(np.ones((2, 2)), label="W")
    cost = (Value(np.ones(2)) @ weights).sum()
    with no_grad():
        weights -= 1.0
    message = _error(cost.backward)
    assert "compute the cost again" in message and "detach" not in message


def test_transpose_of_two_axes_on_a_vector_does_not_point_to_swapaxes():
    message = _error(lambda: Value(np.zeros(3)).transpose(0, 1))
    assert "swapaxes" not in message  # (a vector has one axis: swapaxes(0, 1) fails too)
    assert "swapaxes(-2, -1)" in _error(lambda: Value(np.zeros((2, 3, 4))).transpose(-2, -1))


# --- engine: detect_anomaly on gradients that overflow once summed ------------------------------------------------

@pytest.mark.parametrize("held_first", [True, False])
def test_detect_anomaly_checks_every_leaf_added_to_its_grad(held_first):
    if held_first:  # (the leaves are met newest first: each order once)
        held, fresh = Value(1e-300, label="held"), Value(1e-300, label="fresh")
    else:
        fresh, held = Value(1e-300, label="fresh"), Value(1e-300, label="held")
    held.grad = np.array(1e308)  # finite; adding this pass's 1e308 overflows
    with detect_anomaly():
        cost = fresh * 1.0 + held * 1e308
        with pytest.raises(FloatingPointError, match="'held'.*added to its .grad"):
            cost.backward()
    assert held.grad == 1e308 and fresh.grad is None  # (no .grad changed)


def test_detect_anomaly_names_an_intermediate_value_as_computed_by_its_operation():
    with detect_anomaly():
        a = Value(1e-300)
        h = a * 1.0
        h.label = "h"
        cost = h * 1e308 + h * 1e308  # each part of h's gradient finite, their sum 2e308 not
        with pytest.raises(FloatingPointError, match=r"'h' \(computed by mul\).*summed"):
            cost.backward()


# --- losses: targets of one number per sample against k outputs ----------------------------------------------------

@pytest.mark.parametrize("targets", [[0.0, 1.0, 3.0], [0.5, 1.0, 0.0], [-1.0, 0.0, 1.0]])
def test_flat_targets_that_are_no_class_labels_of_k_outputs_are_not_called_labels(targets):
    message = _error(lambda: losses.squared_error(Value(np.zeros((3, 3))), np.array(targets)))
    assert "one number per sample" in message and "one_hot" not in message


def test_flat_class_labels_of_k_outputs_get_the_one_hot_hint():
    message = _error(lambda: losses.squared_error(Value(np.zeros((3, 3))), np.array([0.0, 2.0, 1.0])))
    assert "data.one_hot(labels, classes=3)" in message


def test_cross_entropy_on_one_output_with_labels_of_another_count_names_the_shapes():
    message = _error(lambda: losses.cross_entropy(Value(np.zeros((2, 1))), np.array([0, 1, 1])))
    assert "(3,)" in message and "(2, 1)" in message and "one class" not in message


# --- training -------------------------------------------------------------------------------------------------------

def test_mini_batches_that_diverge_are_put_down_to_the_steps_not_the_samples():
    net = nn.Network(nn.Layer(1, 1, activation="identity", rng=0))
    inputs = np.linspace(-1.0, 1.0, 8).reshape(-1, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(FloatingPointError) as info:
            fit(net, inputs, 3.0 * inputs, cost=losses.squared_error, batch_size=4, episodes=500,
                optimizer=optim.GradientDescent(net, learning_rate=50.0))
    assert "not the steps" not in str(info.value)


def test_no_pairing_warning_for_batches_of_one_sample():
    net = nn.Network(nn.Layer(2, 1, activation="identity", rng=0))
    inputs = np.random.default_rng(0).normal(size=(4, 2))

    def own_cost(outputs, targets):
        return ((outputs - targets) ** 2).mean()  # (1, 1) with (1,): (1, 1), one pair: nothing paired across

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit(net, inputs, inputs.sum(axis=1), cost=own_cost, batch_size=1, episodes=1,
            optimizer=optim.GradientDescent(net, learning_rate=0.1))


def test_nan_in_many_samples_says_how_many_more_than_shown():
    targets = np.zeros((10, 1))
    targets[[1, 2, 3, 5, 7, 8, 9]] = np.nan
    net = nn.Network(nn.Layer(1, 1, rng=0))
    message = _error(lambda: fit(net, np.zeros((10, 1)), targets, episodes=1,
                                 optimizer=optim.GradientDescent(net, learning_rate=0.1)))
    assert "7 samples of 10" in message and "rows 1, 2, 3, 5, 7 and 2 more" in message


# --- nn: PyTorch state_dicts ---------------------------------------------------------------------------------------

def test_a_state_with_every_name_and_one_pytorch_extra_loads_with_strict_false():
    net = nn.Network(nn.Layer(2, 3, rng=0), nn.Layer(3, 1, rng=1))
    state = {**net.state_dict(), "0.weight": np.zeros((3, 2))}
    state["layers.1.weights"] = np.full((2, 3), 0.5)
    missing, unexpected = net.load_state_dict(state, strict=False)
    assert (missing, unexpected) == ([], ["0.weight"])
    assert np.array_equal(net.layers[0].weights.data, np.full((2, 3), 0.5))


def test_pytorch_state_of_more_than_four_entries_shows_four_renamings_and_an_ellipsis():
    net = nn.Network(nn.Layer(2, 3, rng=0), nn.Layer(3, 2, rng=0), nn.Layer(2, 1, rng=0))
    state = {}
    for i, layer in enumerate(net.layers):
        state[f"{2 * i}.weight"], state[f"{2 * i}.bias"] = layer.weights.data.T, layer.biases.data
    message = _error(lambda: net.load_state_dict(state))
    assert ("load {'layers.1.weights': state['0.weight'].T, 'layers.1.biases': state['0.bias'], "
            "'layers.2.weights': state['2.weight'].T, 'layers.2.biases': state['2.bias'], …}") in message


# --- defect: np.take's advice read its axis from the indices --------------------------------------------------------

@pytest.mark.parametrize(("args", "advice"), [((2,), "v.reshape(-1)[indices]"),
                                             ((np.array([0, 1]), 1), "v[:, indices]"),
                                             ((np.array([0, 1]), -1), "v[..., indices]")])
def test_np_take_advice_reads_the_axis_from_its_place(args, advice):
    v = Value(np.zeros((2, 3, 4)))
    message = _error(lambda: np.take(v, *args))
    assert message.endswith(f"(here: {advice})") or f"(here: {advice} " in message
