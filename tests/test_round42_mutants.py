"""Mutation tests of round 42's new code: each test kills a hand-made mutant of a branch or condition that no earlier
test pinned (a flipped comparison, a dropped condition, a changed constant), or pins a defect found on the way (it
failed before its fix)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from helpers_player import text_of, two_uses

from tinygrad_edu import Value, nn, ops, optim, viz
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.player import tree_steps


# --- defect: the softmax Op on int8/uint8 arrays wrapped around in x − max x (NaN, or shares of the wrong class) -----
@pytest.mark.parametrize(("dtype", "row"), [(np.int8, [-100, 100, 0]), (np.uint8, [0, 255, 3]),
                                            (np.int64, [-2 ** 63 + 1, 2 ** 62, 0])])
def test_the_softmax_op_on_small_or_huge_integers_is_softmax_in_floats(dtype, row) -> None:
    x = np.array([row, [1, 2, 3]], dtype=dtype)
    numbers = x.astype(np.float64)
    shifted = numbers - numbers.max(axis=-1, keepdims=True)
    expected = np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)
    out = ops.softmax(x)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, expected, rtol=1e-15, atol=0)
    np.testing.assert_allclose(out, np.exp(ops.log_softmax(x)), rtol=1e-14, atol=1e-300)


# --- engine._numpy_defaults: PyTorch's dim=/keepdim= named in numpy's words, one or both -------------------------
@pytest.mark.parametrize(("keywords", "said"), [
    ({"dim": 1, "keepdim": True}, "there is no dim= and no keepdim= here, they are called axis= and keepdims= "
                                  "(numpy's words): write v.mean(axis=1, keepdims=True)"),
    ({"dim": 0}, "there is no dim= here, it is called axis= (numpy's word): write v.mean(axis=0)"),
    ({"keepdim": True}, "there is no keepdim= here, it is called keepdims= (numpy's word): "
                        "write v.mean(keepdims=True)"),
    ({"dim": None, "keepdim": False}, "write v.mean()")])
def test_dim_and_keepdim_are_named_in_numpys_words_one_or_both(keywords, said) -> None:
    with pytest.raises(TypeError) as raised:
        Value(np.ones((2, 3))).mean(**keywords)
    assert str(raised.value).startswith("mean: ") and str(raised.value).endswith(said), str(raised.value)


@pytest.mark.parametrize("reduction", ["max", "min"])
def test_max_with_a_positional_axis_and_keepdim_keeps_the_axis_in_the_advice(reduction) -> None:
    """``e.max(1, keepdim=True)`` (the axis given by position): the call's own axis is in the call to write."""
    data = np.random.default_rng(2).random((3, 4))
    v = Value(data)
    with pytest.raises(TypeError) as raised:
        getattr(v, reduction)(1, keepdim=True)
    written = str(raised.value).split("write ")[-1]
    assert written == f"v.{reduction}(axis=1, keepdims=True)", str(raised.value)
    np.testing.assert_array_equal(eval(written, {"v": v}).data,  # noqa: S307
                                  getattr(data, reduction)(axis=1, keepdims=True))


# --- optim._numpy_attributes: a Module of numpy arrays, told to keep Values ---------------------------------------
class _Inner(nn.Module):
    def __init__(self) -> None:
        self.w = np.ones((2, 2))


class _Outer(nn.Module):
    def __init__(self) -> None:
        self.fc1 = _Inner()
        self.b = np.zeros(2)
        self._scale = np.ones(2)  # (private: a helper array, not a weight)


class _FrozenWithAMask(nn.Module):
    def __init__(self) -> None:
        self.w = Value(np.ones((2, 2)), requires_grad=False)
        self.mask = np.ones((2, 2))


def _refusal(call) -> str:
    with pytest.raises(ValueError) as raised:
        call()
    return str(raised.value)


def test_the_arrays_of_a_module_of_arrays_are_named_with_their_submodule_and_not_the_private_ones() -> None:
    message = _refusal(lambda: optim.SGD(_Outer(), learning_rate=0.1))
    assert "this _Outer holds no Values, and its numpy arrays (b, fc1.w) are not parameters" in message, message
    assert "_scale" not in message


def test_a_frozen_module_that_also_holds_an_array_is_told_to_unfreeze_not_that_it_holds_no_values() -> None:
    message = _refusal(lambda: optim.Adam(_FrozenWithAMask()))
    assert "requires_grad_(True)" in message and "holds no Values" not in message, message


# --- Network.__setitem__: a layer put back in its own place ---------------------------------------------------------
def test_a_layer_put_back_in_its_own_place_is_no_duplicate() -> None:
    net = nn.Network(nn.Layer(2, 3, rng=0), nn.Layer(3, 1, rng=1))
    first = net[0]
    net[0] = first
    assert net.layers[0] is first and len(net.layers) == 2
    with pytest.raises(ValueError, match="twice"):
        net[1] = first


# --- optim._slope_factors: the sign of ∇f(x)ᵀd from numbers far apart, under a caller's errstate(all="raise") ------
def test_armijo_step_takes_a_gradient_whose_small_share_underflows_under_errstate_raise() -> None:
    """∇f = (1e10, 1e-300): scaled by its largest number the second is 1e-310, an underflow that is no error (its
    share of ∇f(x)ᵀd is nothing); the step t = 1 lands on f's minimum along x₀."""
    f = lambda p: float(0.5 * p[0] ** 2 + 1e-300 * p[1])  # noqa: E731
    x, gradient = np.array([1e10, 0.0]), np.array([1e10, 1e-300])
    with np.errstate(all="raise"):
        found = optim.armijo_step(f, x, gradient, sigma=1e-4, alpha=0.5, initial_step=1.0)
    assert found.step == 1.0 and found.trials == [(1.0, pytest.approx(0.0, abs=1e-299))]


# --- player._undrawn_names: the inputs of a cut graph's operations left out of the drawing --------------------------
def _cut_step(cost: Value, node: str) -> str:
    cost.label = "C"
    player = viz.backprop_player(cost, max_nodes=2)
    return text_of(next(s for s in player.steps if s.phase == "forward" and s.title.endswith(node)).html)


def test_a_left_out_constant_of_several_numbers_stays_unnamed_and_the_page_is_made() -> None:
    w = Value([0.5, 1.0], label="w")
    text = _cut_step((w * np.array([3.0, 4.0])).sum(), "mul₁")
    assert text.startswith("mul₁ = w · a Value not drawn from w = shape (2,)"), text


def test_a_left_out_constant_with_an_empty_label_is_named_by_its_number() -> None:
    w = Value(0.5, label="w")
    two = Value(2.0, requires_grad=False, label="")
    text = _cut_step((w * 3.0 - two) ** 2, "C")
    assert text.startswith("C = sub₁² from sub₁ = -0.5"), text
    assert _cut_step((w * 3.0 - two) ** 2, "sub₁").startswith("sub₁ = a Value not drawn − 2 "), \
        _cut_step((w * 3.0 - two) ** 2, "sub₁")



def test_a_left_out_unlabelled_parameter_is_not_named_by_its_number_as_a_constant_is() -> None:
    # (read-through: a parameter's number is no constant of the formula; 2 would read as the exponent's kind of 2)
    w, two = Value(0.5, label="w"), Value(2.0)
    step = _cut_step((w * 3.0 - two) ** 2, "sub₁")
    assert step.startswith("sub₁ = a Value not drawn − a Value not drawn "), step


# --- player: a tree row's product where its Value feeds several nodes is that edge's product, not the total ------
def test_the_rows_of_a_tree_node_with_two_uses_show_each_edges_own_product() -> None:
    cost = two_uses()  # C = (w·a + tanh w)², w = 0.7, a = 2
    step = next(s for s in tree_steps(cost, dependency_tree(cost)) if s.title.endswith("∂C/∂w"))
    shown = [float(re.split(r" [=≈] ", cell)[-1]) for cell in re.findall(r"<td>([^<]* × [^<]*)</td></tr>", step.html)]
    u = 0.7 * 2.0 + math.tanh(0.7)
    assert shown == pytest.approx([2 * u * 2.0, 2 * u * (1 - math.tanh(0.7) ** 2)], rel=1e-3), step.html


# --- cli predict: one NaN among the outputs is no class either (argmax takes the NaN for the largest) --------------
def test_predict_prints_class_nan_where_one_output_is_nan_and_the_others_are_not(capsys, tmp_path) -> None:
    from tinygrad_edu.cli import main

    path = tmp_path / "three.npz"
    model = nn.MLP([1, 2, 3], activation="relu", output_activation="identity", rng=0)
    model.layers[0].weights.data[:] = [[2.0, 2.0]]  # x = 1e308: α¹ = (inf, inf), then inf − inf = NaN in output 1 only
    model.layers[0].biases.data[:] = 0.0
    model.layers[1].weights.data[:] = [[1.0, 1.0, 1.0], [-1.0, 1.0, 0.5]]
    model.layers[1].biases.data[:] = 0.0
    model.save(path)
    assert main(["predict", str(path), "1e308", "1"]) == 0
    captured = capsys.readouterr()
    first, second = captured.out.splitlines()
    assert "overflowed" in captured.err
    assert first == "1e+308 → [nan, inf, inf]  class nan"
    assert second == "1 → [0, 4, 3]  class 1"


# --- write_instead._rot90_advice: negative axes of a matrix, and axes numpy refuses --------------------------------
_MATRIX = np.arange(12.0).reshape(3, 4) ** 1.5


def _rot90_refusal(axes) -> str:
    with pytest.raises((TypeError, ValueError)) as raised:  # (numpy's own ValueError for axes of another length)
        np.rot90(Value(_MATRIX), 1, axes)
    return str(raised.value)


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("axes", [(-2, -1), (-2, 1), (-1, -2)])
def test_np_rot90_advice_of_a_matrix_with_negative_axes_gives_np_rot90s_numbers(k, axes) -> None:
    v = Value(_MATRIX)
    with pytest.raises(TypeError) as raised:
        np.rot90(v, k, axes)
    text = str(raised.value)
    code = text[text.index("(here: ") + len("(here: "):].split(" (")[0].removesuffix(")")
    turned = eval(code, {"np": np}, {"v": v})  # noqa: S307 (the message's own code)
    np.testing.assert_array_equal(turned.data, np.rot90(_MATRIX, k, axes))


@pytest.mark.parametrize("axes", [(True, False), (0, 1, 1), (0,)])
def test_np_rot90_with_axes_numpy_refuses_gives_no_formula(axes) -> None:
    with pytest.raises((TypeError, ValueError)):
        np.rot90(_MATRIX, 1, axes)  # (numpy's own refusal of them)
    assert "(here: " not in _rot90_refusal(axes)


# --- optim._updating: under detect_anomaly an update to inf is the anomaly's error, without numpy's warning ---------
@pytest.mark.parametrize("make", [lambda p: optim.GradientDescent([p], learning_rate=10.0),
                                  lambda p: optim.SGD([p], learning_rate=10.0, momentum=0.5)])
def test_an_update_that_overflows_under_detect_anomaly_is_its_error_alone(make) -> None:
    import warnings

    from tinygrad_edu import detect_anomaly

    p = Value([1e308, 1.0])
    p.grad = np.array([-1e308, 1.0])
    opt = make(p)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (numpy's "overflow encountered in multiply" would be a RuntimeWarning here)
        with detect_anomaly(), pytest.raises(FloatingPointError, match="the new numbers hold NaN or inf"):
            opt.step()
    assert p.data.tolist() == [1e308, 1.0]


# --- defect: PyTorch's dim=[0, 1] (a list, as torch takes it) was advised as axis=[0, 1], which the call refuses ------
@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("keywords", [{"dim": [0, 2]}, {"dim": [0, 2], "keepdim": True}])
def test_dim_given_as_a_list_is_advised_as_a_tuple_that_pasted_computes_pytorchs_numbers(reduction, keywords) -> None:
    data = np.random.default_rng(3).random((2, 3, 4))
    v = Value(data)
    with pytest.raises(TypeError) as raised:
        getattr(v, reduction)(**keywords)
    written = str(raised.value).split("write ")[-1]
    assert written.startswith(f"v.{reduction}(axis=(0, 2)"), str(raised.value)
    pasted = eval(written, {"v": v})  # noqa: S307 (the message's own code)
    # PyTorch's torch.sum(x, dim=[0, 2], keepdim=...) is numpy's sum over axis=(0, 2) (CI has no torch to ask)
    expected = getattr(np, reduction)(data, axis=(0, 2), keepdims=keywords.get("keepdim", False))
    np.testing.assert_allclose(pasted.data, expected, rtol=1e-15)
