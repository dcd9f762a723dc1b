"""Mutation tester, round 35: tests that kill the mutants of this round's changed code that survived its own tests
(each test names the mutant it kills), and one defect a surviving mutant pointed at: a layer whose activation was
defined again (a notebook cell run again) was said to hold "a lambda or a function defined inside another" when
pickled."""

import copy
import dataclasses
import functools
import math
import pickle
import re
import unittest.mock
import warnings

import numpy as np
import pytest

from tinygrad_edu import Op, Value, calculus, fit, losses, nn, optim
from tinygrad_edu import functional as F
from tinygrad_edu.testing import check_gradients


def _message(call) -> str:
    with pytest.raises((TypeError, ValueError, AttributeError)) as caught:
        call()
    return str(caught.value)


# engine._flat_against_columns: the flat-vector hint only for a flat (n,) against (n, k)

def test_two_matrices_that_do_not_broadcast_get_no_flat_vector_hint() -> None:  # kills: the 1-D/2-D test dropped
    message = _message(lambda: Value(np.ones((3, 2))) + Value(np.ones((3, 4))))
    assert "(3, 2) and (3, 4) cannot be broadcast together" in message
    assert "flat" not in message and "reshape" not in message


def test_a_flat_vector_of_another_length_gets_no_column_hint() -> None:  # kills: flat[0] != rows[0] dropped
    message = _message(lambda: Value(np.ones(3)) + Value(np.ones((4, 2))))
    assert "cannot be broadcast together" in message
    assert "reshape(-1, 1)" not in message  # (3,) as a column (3, 1) meets (4, 2) no better


# engine.Value.__array_ufunc__: numpy's defaults pass, anything else is refused by its own name

@pytest.mark.parametrize("keywords", [{"where": np.array([True, False]), "casting": "same_kind"},
                                      {"casting": "same_kind", "where": np.array([True, False])}])
def test_a_mask_beside_a_default_keyword_is_still_refused_by_name(keywords) -> None:  # kills: all→any, first key
    v = Value(np.array([1.0, 2.0]))
    message = _message(lambda: np.exp(v, **keywords))
    assert message.startswith("np.exp: where= not supported on Values")


# ops.inputs_error: the "parameters by name" hint only for too many inputs, with all of forward's parameters

def test_too_few_inputs_get_no_parameters_by_name_hint() -> None:  # kills: `given > count` dropped
    relu6 = Op("relu6", lambda x, lo, hi: np.clip(x, lo, hi), (lambda g, out, x, lo, hi: g * ((x > lo) & (x < hi)),))
    assert _message(lambda: relu6()) == "relu6: takes 1 input(s), got 0"


def test_keyword_only_parameters_are_named_and_every_input_is_written() -> None:  # kills: kwonly dropped; one input
    clip = Op("clipk", lambda x, *, lo=0.0: np.maximum(x, lo), (lambda g, out, x, *, lo=0.0: g * (x > lo),))
    assert "its parameters (lo) are given by name, after the inputs: clipk(x, lo=…)" in _message(
        lambda: clip(Value(np.ones(2)), 0.0))
    wadd = Op("wadd", lambda a, b, w: a + w * b, (lambda g, out, a, b, w: g, lambda g, out, a, b, w: g * w))
    assert _message(lambda: wadd(Value(1.0), Value(2.0), 3.0)).endswith(
        "its parameters (w) are given by name, after the inputs: wadd(a, b, w=…)")


# calculus.StationaryPoint.__eq__

def _point() -> calculus.StationaryPoint:
    return calculus.stationary_point(lambda p: (p[0] - 1) ** 2 + 3 * p[1] ** 2, np.array([3.0, 2.0]))


def test_a_stationary_point_compares_with_mock_any_and_by_its_path() -> None:  # kills: NotImplemented→False; no path
    point = _point()
    assert point == unittest.mock.ANY  # (NotImplemented lets the other side answer)
    np.testing.assert_allclose(point.point, [1.0, 0.0], atol=1e-12)  # the minimum of (x - 1)² + 3y², by hand
    other = copy.deepcopy(point)
    assert other == point
    assert dataclasses.replace(point, path=point.path[::-1].copy()) != point  # the points in another order


# losses._column_hint: one sample's targets as a column or flat, only for a prediction of one row

def test_flat_targets_of_one_row_are_said_to_be_flat() -> None:  # kills: the column/flat wording swapped
    message = _message(lambda: losses.squared_error(Value(np.ones((1, 3))), np.ones(3)))
    assert "its targets were given flat: give them as a row too, targets.reshape(1, -1)" in message


def test_a_batch_against_a_column_is_not_called_one_sample() -> None:  # kills: prediction[0] == 1 dropped
    message = _message(lambda: losses.squared_error(Value(np.ones((3, 2))), np.ones((2, 1))))
    assert "(3, 2)" in message and "one sample" not in message


# nn._reshape_hint: samples as columns only where the rows are the layer's inputs

def test_a_matrix_whose_rows_are_not_the_inputs_is_not_called_columns_of_samples() -> None:  # kills: shape[0] dropped
    message = _message(lambda: nn.Layer(3, 2)(np.ones((5, 7))))
    assert "got data of shape (5, 7)" in message and "x.T" not in message


# nn.Layer.__reduce_ex__ and _pickled_by_name

def test_a_partial_and_a_static_method_activation_pickle_and_compute_as_before() -> None:  # kills: non-functions
    x = np.array([[-1.0, 0.5]])                                              # wrapped; __name__ for __qualname__
    for activation in (functools.partial(F.leaky_relu, negative_slope=0.2), _Activations.soft):
        layer = nn.Layer(2, 2, activation=activation, rng=0)
        again = pickle.loads(pickle.dumps(layer))
        np.testing.assert_array_equal(again(x).data, layer(x).data)
    layer = nn.Layer(2, 2, activation=functools.partial(F.leaky_relu, negative_slope=0.2), rng=0)
    z = x @ layer.weights.data + layer.biases.data  # by hand: 0.2·z where z < 0
    np.testing.assert_allclose(pickle.loads(pickle.dumps(layer))(x).data, np.where(z > 0, z, 0.2 * z))


class _Activations:
    @staticmethod
    def soft(x: Value) -> Value:
        return F.tanh(x)


class _Tagged(nn.Layer):
    __slots__ = ("tag",)


def test_a_copy_of_a_layer_subclass_with_slots_keeps_them_and_its_lambda() -> None:  # kills: slots not unpacked
    layer = _Tagged(2, 1, activation=lambda v: v * 2.0, rng=0)
    object.__setattr__(layer, "tag", "kept")
    again = copy.deepcopy(layer)
    assert again.tag == "kept"
    x = np.array([[1.0, -2.0]])
    np.testing.assert_allclose(again(x).data, 2.0 * (x @ layer.weights.data + layer.biases.data))


def _layer_with_redefined_activation() -> nn.Layer:
    namespace: dict = {"__name__": __name__, "F": F}
    exec("def act(x):\n    return F.tanh(x)", namespace)  # a notebook cell...
    layer = nn.Layer(2, 2, activation=namespace["act"])
    globals()["act"] = namespace["act"]
    exec("def act(x):\n    return F.sigmoid(x)", namespace)  # ...run again after the layer was built
    globals()["act"] = namespace["act"]
    return layer


def test_pickling_a_layer_whose_activation_was_defined_again_names_the_layer() -> None:  # kills: `found is not None`
    layer = _layer_with_redefined_activation()
    try:
        message = _message(lambda: pickle.dumps(layer))
    finally:
        globals().pop("act", None)
    assert message.startswith("pickle: layer (2 → 2) has the activation act")


def test_pickling_a_layer_whose_activation_was_defined_again_says_so() -> None:
    layer = _layer_with_redefined_activation()
    try:
        message = _message(lambda: pickle.dumps(layer))
    finally:
        globals().pop("act", None)
    assert "defined again" in message
    assert "lambda" not in message


# training._forward: only numpy's read-only error is rewritten, flat targets too

def test_a_models_own_value_error_reaches_the_caller_unchanged() -> None:  # kills: every ValueError rewritten
    net = nn.MLP([1, 1])

    def model(x: Value) -> Value:
        raise ValueError("my own message")

    with pytest.raises(ValueError, match="^my own message$"):
        fit(model, np.ones((4, 1)), np.ones((4, 1)), optimizer=optim.GradientDescent(net.parameters(), 0.1),
            episodes=1, progress=False)


def test_a_model_writing_into_its_samples_with_flat_targets_is_named() -> None:  # kills: flat path not wrapped
    net = nn.MLP([1, 1])

    def model(x: Value) -> Value:
        x.data[...] = 0
        return net(x)

    with pytest.raises(ValueError, match="^fit: the model wrote into a read-only array"):
        fit(model, np.ones((4, 1)), np.ones(4), optimizer=optim.GradientDescent(net.parameters(), 0.1), episodes=1,
            progress=False)


# testing._check_vjp_precision: only float64 inputs

def test_a_float32_input_with_a_vjp_in_float32_is_not_called_imprecise() -> None:  # guard (G2 survives: equivalent?)
    cube = Op("cube", lambda x: x ** 3, (lambda g, out, x: 3 * g * x ** 2,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (float32 inputs are checked with a warning)
        check_gradients(lambda x: cube(x).sum(), np.array([0.5, -1.0], dtype=np.float32))  # (raises if flagged)


# write_instead: the formulas in the advice compute what they replace

def test_tensordots_advice_formula_is_tensordot_of_one_axis() -> None:  # kills: a @ b.T
    a, b = Value(np.arange(6.0).reshape(2, 3)), Value(np.arange(12.0).reshape(3, 4))
    formula = re.search(r"here: (.*?) for np\.tensordot\(a, b, 1\)", _message(lambda: np.tensordot(a, b, 1)))[1]
    got = eval(formula, {"a": a, "b": b})
    np.testing.assert_array_equal(got.data, [[sum((i * 3 + k) * (k * 4 + j) for k in range(3)) for j in range(4)]
                                             for i in range(2)])  # Σ_k a_ik b_kj, by hand


def test_nll_losss_advice_gives_the_mean_negative_log_probability() -> None:  # kills: the minus dropped
    formula = re.search(r"on log-probabilities, (.*?), and", _message(lambda: F.nll_loss))[1]
    log_probs = Value(np.log([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1]]))
    got = eval(formula, {"log_probs": log_probs, "np": np, "n": 2, "labels": np.array([0, 1])})
    assert got.item() == pytest.approx(-(math.log(0.5) + math.log(0.8)) / 2, rel=1e-12)


@pytest.mark.parametrize("read", [lambda: F.logsumexp, lambda: Value(np.ones(3)).logsumexp])
def test_logsumexps_advice_along_an_axis_is_the_closed_form(read) -> None:  # kills: keepdims dropped
    formula = re.search(r"along an axis, (.*?\.sum\(axis\)\.log\(\))", _message(read))[1]
    data = np.array([[0.0, 1.0, 2.0], [3.0, -1.0, 0.5], [10.0, 10.0, -5.0]])
    for axis in (0, 1):
        got = eval(formula, {"x": Value(data), "v": Value(data), "axis": axis})
        np.testing.assert_allclose(got.data, np.log(np.exp(data).sum(axis)), rtol=1e-12)
