"""What a user who prints everything in a REPL or a notebook sees: reprs that are short, true (the numbers shown are
the object's), in one style across classes, and that never raise, also for half-built objects."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, optim
from tinygrad_edu.data import Dataset, load_digits

pytestmark = pytest.mark.usefixtures("numpy_default_print_options")  # (texts checked as numpy prints them)


def _shown_data(value: Value) -> str:
    """The number a single-number Value's repr shows as its data."""
    found = re.fullmatch(r"Value\(data=([^,]+), grad=None(, dtype=\w+)?\)", repr(value))
    assert found is not None, repr(value)
    return found.group(1)


# --- Dataset ------------------------------------------------------------------------------------------------------
def test_the_repr_of_a_dataset_of_a_thousand_samples_is_one_short_line():
    inputs = np.linspace(-1.0, 1.0, 1000).reshape(-1, 1)
    text = repr(Dataset(inputs, inputs[:, 0] ** 2))
    assert len(text) < 200 and "\n" not in text
    assert "(1000, 1)" in text and "(1000,)" in text  # the shapes, since the numbers are summarized
    assert "-1." in text and "1." in text  # the first and last input, as they are


def test_the_repr_of_a_dataset_shows_its_numbers_on_one_line():
    digits = load_digits()
    text = repr(digits)
    assert "\n" not in text and len(text) < 250
    assert "(1797, 64)" in text and "(1797,)" in text
    first, last = digits.labels[:2], digits.labels[-2:]  # the labels shown at either end
    assert f"labels=[{first[0]} {first[1]} ... {last[0]} {last[1]}]" in text
    assert repr(Dataset([[1.0, 2.0], [3.0, 4.5]], [0, 1])) == "Dataset(inputs=[[1.  2. ] [3.  4.5]], labels=[0 1])"


# --- optimizers ---------------------------------------------------------------------------------------------------
class _PropertySetting(optim.Optimizer):
    """An optimizer of a user's whose setting is a property that checks it (as Optimizer's docstring allows)."""

    _settings = ("learning_rate",)

    def __init__(self, params, learning_rate=0.1):
        super().__init__(params)
        self.learning_rate = learning_rate

    @property
    def learning_rate(self):
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        if not value > 0:
            raise ValueError("learning_rate must be > 0")
        self._learning_rate = float(value)

    def step(self, closure=None, *, cost=None):
        return self._gradient(closure, cost)


def test_the_repr_of_an_optimizer_shows_a_setting_that_is_a_property():
    opt = _PropertySetting([Value(1.0)], learning_rate=0.5)
    assert float(opt.state_dict()["learning_rate"]) == 0.5  # what is saved ...
    assert repr(opt) == "_PropertySetting(learning_rate=0.5)"  # ... is what is shown (was "_PropertySetting()")


def _half_built_optimizer(make):
    """The optimizer whose ``__init__`` raised, as a debugger shows it: ``self`` in the frame that raised."""
    with pytest.raises((TypeError, ValueError)) as caught:
        make()
    found, frame = None, caught.tb
    while frame is not None:
        candidate = frame.tb_frame.f_locals.get("self")
        found = candidate if isinstance(candidate, optim.Optimizer) else found
        frame = frame.tb_next
    assert found is not None
    return found


@pytest.mark.parametrize("make, name", [
    (lambda: optim.SGD([Value(1.0)], learning_rate=0.1, momentum=2.0), "SGD"),
    (lambda: optim.Adam([Value(1.0)], learning_rate=0.1, eps=-1.0), "Adam"),
    (lambda: optim.Armijo([Value(1.0)], alpha=2.0), "Armijo"),
    (lambda: optim.GradientDescent([1.0], learning_rate=0.1), "GradientDescent"),
], ids=["SGD momentum", "Adam eps", "Armijo alpha", "GradientDescent params"])
def test_an_optimizer_whose_init_raised_says_it_is_not_initialised(make, name):
    assert repr(_half_built_optimizer(make)) == f"{name}(<not initialised>)"


@pytest.mark.parametrize("opt, shown", [
    (lambda p: optim.GradientDescent(p, learning_rate=0.25), "GradientDescent(learning_rate=0.25)"),
    (lambda p: optim.SGD(p, learning_rate=0.25, momentum=0.5), "SGD(learning_rate=0.25, momentum=0.5)"),
    (lambda p: optim.Adam(p, learning_rate=0.25, betas=(0.5, 0.75), eps=0.125),
     "Adam(learning_rate=0.25, betas=(0.5, 0.75), eps=0.125)"),
    (lambda p: optim.Armijo(p, sigma=0.25, alpha=0.75, initial_step=0.5, max_backtracks=3),
     "Armijo(sigma=0.25, alpha=0.75, initial_step=0.5, max_backtracks=3)"),
    (lambda p: optim.RandomSearch(p, scale=0.25, rng=1), "RandomSearch(scale=0.25)"),
    (lambda p: optim.Newton(p, damping=0.5, sigma=0.25, alpha=0.75, max_backtracks=3),
     "Newton(damping=0.5, sigma=0.25, alpha=0.75, max_backtracks=3)"),
])
def test_an_optimizer_prints_its_settings_and_a_setting_changed_between_steps(opt, shown):
    """Guard: the settings given, in the order of the constructor, and a change by hand (a schedule) shown at once."""
    w = Value(np.array([1.0, -2.0]))
    optimizer = opt([w])
    assert repr(optimizer) == shown
    optimizer.step(lambda: (w * w).sum())
    assert repr(optimizer) == shown  # a step changes no setting
    first = optimizer._settings[0]
    setattr(optimizer, first, 0.125)
    assert f"({first}=0.125" in repr(optimizer)


# --- single numbers -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("number, dtype", [(999999.5, np.float64), (-9999999.75, np.float64),
                                           (2500000.25, np.float64), (999999.5, np.float32)])
def test_a_single_number_never_prints_as_a_whole_number_it_is_not(number, dtype):
    shown = _shown_data(Value(dtype(number)))
    assert not float(shown).is_integer()
    assert dtype(float(shown)) == dtype(number)  # all the digits it needs, as for 1.0000001


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300))
def test_a_single_number_prints_to_at_least_6_significant_digits(number):
    """Guard: the number shown is the Value's to 6 significant digits (or exactly), and a float (``3.0``)."""
    shown = _shown_data(Value(number))
    assert math.isclose(float(shown), number, rel_tol=5e-6, abs_tol=0.0)
    assert not shown.lstrip("-").isdigit()  # never "3", which reads as an integer
