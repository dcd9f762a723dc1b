"""Wrong arguments found by fuzzing the lower modules (engine, functional, losses, nn, autodiff, calculus, testing)
with values test_api_misuse.py does not try: a list holding Values, a 0-d array, a huge ``order``.  Each must be a
TypeError/ValueError naming the function and the value at fault, not numpy's words, nor a hang."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import Value, autodiff, engine, nn
from tinygrad_edu import functional as F
from tinygrad_edu.calculus import classify_stationary_point, stationary_point
from tinygrad_edu.testing import check_gradients, numerical_gradient


def two_values() -> list[Value]:
    return [Value(1.0), Value(2.0)]


@pytest.mark.parametrize(("model", "named"), [
    (lambda: nn.Layer(2, 2, rng=0), "layer (2 → 2)"),
    (lambda: nn.MLP([2, 3, 1], rng=0), "layer 1 (2 → 3)"),
], ids=["Layer", "MLP"])
def test_a_list_of_values_fed_to_a_model_names_the_layer(model: Callable[[], Any], named: str) -> None:
    # micrograd's way, n([Value(1.0), Value(2.0)]): the Values must be joined first
    with pytest.raises(TypeError, match=r"^" + named.replace("(", r"\(").replace(")", r"\)") + r".*list.*F\.stack"):
        model()(two_values())


def test_indexing_with_a_list_of_values_is_named() -> None:
    with pytest.raises(TypeError, match=r"^index: .*list holding Values"):
        Value([1.0, 2.0, 3.0])[[Value(0.0), Value(1.0)]]


@pytest.mark.parametrize("call", [
    lambda v: autodiff.gradients((v * v).sum(), np.array(2.0)),
    lambda v: autodiff.gradient_and_hessian((v * v).sum(), np.array(2.0)),
    lambda v: engine.local_gradients(v * 2, 1.0, constants=np.array(2.0)),
], ids=["gradients", "gradient_and_hessian", "local_gradients"])
def test_a_0d_array_for_a_list_of_values_is_named(call: Callable[[Value], Any]) -> None:
    with pytest.raises(TypeError, match=r"^(gradients|gradient_and_hessian|local_gradients): .*Values, got ndarray"):
        call(Value([1.0, 2.0]))


@pytest.mark.parametrize("order", [11, 20])
def test_check_gradients_refuses_an_order_it_cannot_finish(order: int, three_seconds: None) -> None:
    with pytest.raises(ValueError, match=r"^check_gradients: order must be an integer from 1 to 10, got"):
        check_gradients(lambda x: (x ** 3).sum(), np.array([1.0, 2.0]), order=order)


def half_masked() -> np.ma.MaskedArray:
    return np.ma.masked_array([1.0, -5.0], mask=[False, True])


@pytest.mark.parametrize(("call", "named"), [
    (lambda: classify_stationary_point(half_masked()), "classify_stationary_point: eigenvalues"),
    (lambda: stationary_point(lambda x: (x * x).sum(), half_masked()), "stationary_point: start"),
    (lambda: check_gradients(lambda x: (x * x).sum(), half_masked()), "check_gradients: input 0"),
    (lambda: numerical_gradient(lambda x: (x * x).sum(), half_masked()), "numerical_gradient: input 0"),
], ids=["classify_stationary_point", "stationary_point", "check_gradients", "numerical_gradient"])
def test_a_masked_array_is_refused_not_read_under_its_mask(call: Callable[[], Any], named: str) -> None:
    # classify_stationary_point([1, --]) answered 'saddle' from the masked -5
    with pytest.raises(TypeError, match=rf"^{named} (is|are) a masked array with masked elements"):
        call()


@pytest.mark.parametrize(("call", "named"), [
    (lambda v: v.sum(axis=2**70), "sum"), (lambda v: v.max(axis=2**70), "max"),
    (lambda v: F.concatenate([v, v], axis=2**70), "concatenate"), (lambda v: F.stack([v, v], axis=2**70), "stack"),
], ids=["sum", "max", "concatenate", "stack"])
def test_an_axis_beyond_a_c_long_is_a_value_error_naming_the_operation(call: Callable[[Value], Any],
                                                                        named: str) -> None:
    # it was Python's bare OverflowError: "Python int too large to convert to C long"
    with pytest.raises(ValueError, match=rf"^{named}: .*too large"):
        call(Value([[1.0, 2.0]]))


def test_a_label_of_zero_is_shown_as_the_label_it_is() -> None:
    assert repr(Value(1.0, label=0)).endswith(", label=0)")  # (it was left out: `if self.label`)
    assert "label" not in repr(Value(1.0, label=""))
