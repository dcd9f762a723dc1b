"""An optimizer's saved state (optim_state), writing files (files) and how a Value's
numbers print (printing).  Each test here kills a changed copy of those modules that the other tests let through;
expected steps are worked out with numpy from the numbers put in, expected prints are written out by hand."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import numpy as np
import pytest
from helpers_models import G1, G2, X0, assert_next_sgd_step_is_the_unchanged_one, sgd_after_one_step

from tinygrad_edu import Value, files, optim, optim_state

# --- optim_state: a bad state is refused by name, and a refused one changes nothing ----------------------------------

def test_the_module_functions_refuse_what_is_not_an_optimizer():
    """An object with ``params`` alone is no optimizer: a TypeError naming the function, not an AttributeError
    about a hook deep inside."""
    impostor = SimpleNamespace(params=[Value([1.0])])
    with pytest.raises(TypeError, match=r"^optim_state\.state_dict: optimizer must be one of tinygrad_edu\.optim's "
                                        r"optimizers, got SimpleNamespace$"):
        optim_state.state_dict(impostor)
    with pytest.raises(TypeError, match=r"^optim_state\.load_state_dict: optimizer must be one of"):
        optim_state.load_state_dict(impostor, {})


def test_a_state_for_fewer_parameters_is_refused_and_changes_nothing():
    """One parameter's state loaded into an optimizer of two: its keys all fit (the second parameter would just
    start afresh), so only the count can tell."""
    x, opt = sgd_after_one_step(Value([3.0]))
    one = optim.SGD([Value([7.0, 7.0])], learning_rate=0.5, momentum=0.1)
    with pytest.raises(ValueError, match=r"^SGD\.load_state_dict: 'parameter_count' is 1, but this optimizer has 2 "
                                         r"parameters$"):
        opt.load_state_dict(one.state_dict())
    assert (opt.learning_rate, opt.momentum) == (0.1, 0.9)
    assert_next_sgd_step_is_the_unchanged_one(x, opt)


def test_a_setting_refused_by_the_constructor_is_named_once():
    """The constructor's message starts "SGD: "; after "SGD.load_state_dict: " that prefix is dropped."""
    x, opt = sgd_after_one_step()
    state = {**opt.state_dict(), "learning_rate": np.array(-1.0)}
    with pytest.raises(ValueError, match=r"^SGD\.load_state_dict: learning_rate must be >= 0, got -1\.0$"):
        opt.load_state_dict(state)
    assert_next_sgd_step_is_the_unchanged_one(x, opt)


@pytest.mark.parametrize("bad", [np.inf, -np.inf], ids=["inf", "-inf"])
def test_a_velocity_of_inf_is_refused_and_changes_nothing(bad):
    """Only the average of squares may be inf (an overflowed g², see Adam); a velocity of inf would make the next
    step move the parameter to ∓inf."""
    x, opt = sgd_after_one_step()
    state = {**opt.state_dict(), "state.0.velocity": np.array([bad, 0.0]), "learning_rate": np.array(0.5)}
    with pytest.raises(ValueError, match=r"^SGD\.load_state_dict: 'state\.0\.velocity' must hold finite numbers$"):
        opt.load_state_dict(state)
    assert_next_sgd_step_is_the_unchanged_one(x, opt)


def test_adam_refuses_a_gradient_average_of_inf():
    x = Value(X0.copy())
    opt = optim.Adam([x], learning_rate=0.1)
    x.grad = G1.copy()
    opt.step()
    state = {**opt.state_dict(), "state.0.gradient_average": np.array([0.0, np.inf])}
    with pytest.raises(ValueError, match=r"'state\.0\.gradient_average' must hold finite numbers$"):
        opt.load_state_dict(state)
    # unchanged: the second step of Adam (β = 0.9, 0.999, ε = 1e-8) from m = 0.1·G1, v = 0.001·G1², k = 1
    x.grad = G2.copy()
    opt.step()
    m, v = 0.9 * 0.1 * G1 + 0.1 * G2, 0.999 * 0.001 * G1 ** 2 + 0.001 * G2 ** 2
    x1 = X0 - 0.1 * G1 / (np.abs(G1) + 1e-8)  # the first step: m̂ = g, √v̂ = |g|
    expected = x1 - 0.1 * (m / (1 - 0.9 ** 2)) / (np.sqrt(v / (1 - 0.999 ** 2)) + 1e-8)
    np.testing.assert_allclose(x.data, expected, rtol=1e-14)


def test_a_key_that_is_not_text_is_named_as_unexpected():
    """A dict made by hand may hold a key of another type: it is an unexpected key, not an AttributeError."""
    x, opt = sgd_after_one_step()
    with pytest.raises(ValueError, match=r"^SGD\.load_state_dict: unexpected 0$"):
        opt.load_state_dict({**opt.state_dict(), 0: np.array(1.0)})
    assert_next_sgd_step_is_the_unchanged_one(x, opt)


def _random_search():
    x = Value([1.0, -1.0])
    return x, optim.RandomSearch([x], scale=0.5, rng=3)


@pytest.mark.parametrize("rng", [
    np.array(json.dumps({"bit_generator": "PCG64"})),  # no "state": numpy's KeyError
    None,  # the right JSON text, but in an array of Python objects (np.load(allow_pickle=False) cannot read one)
], ids=["no 'state' in it", "text in an object array"])
def test_a_bad_generator_state_is_refused_by_name_and_changes_nothing(rng):
    x, opt = _random_search()
    good = opt.state_dict()
    rng = np.array(str(good["rng"]), dtype=object) if rng is None else rng
    with pytest.raises(ValueError, match=r"^RandomSearch\.load_state_dict: 'rng' is no state of a PCG64 "):
        opt.load_state_dict({**good, "rng": rng})
    # unchanged: the next change is the next draw of a generator seeded with 3, uniform in [−0.5, 0.5)
    proposal = x.data + np.random.default_rng(3).uniform(-0.5, 0.5, 2)
    opt.step(lambda: ((x - Value(proposal)) ** 2).sum())  # its minimum is the proposal: accepted
    assert opt.accepted == 1
    np.testing.assert_array_equal(x.data, proposal)


# --- files: writing ---------------------------------------------------------------------------------------------------

def test_write_text_writes_an_empty_text_as_an_empty_file(tmp_path):
    """"" is a text (an empty page), not None (folders only): the file must exist, empty, afterwards."""
    path = tmp_path / "folder" / "empty.txt"
    files.write_text(str(path), "", "test")
    assert os.path.isfile(path) and os.path.getsize(path) == 0
    folder_only = tmp_path / "other" / "never.txt"
    files.write_text(folder_only, None, "test")
    assert os.path.isdir(folder_only.parent) and not os.path.exists(folder_only)


# --- printing: the numbers a Value shows ------------------------------------------------------------------------------

def test_six_numbers_are_not_summarized_so_a_nan_among_them_is_shown_not_noted():
    """TEXT_SUMMARY is (6, 2): an array of 6 numbers prints whole, so there is no hidden NaN to note."""
    assert repr(Value([0.0, 0.0, np.nan, 0.0, 0.0, 0.0])) == "Value(data=[ 0.  0. nan  0.  0.  0.], grad=None)"


def test_the_precision_depends_on_the_numbers_shown_only():
    """0.123456 (shown) beside 0.12346 (hidden by the summary: 8 numbers, 2 at each end) would need 6 digits;
    the numbers shown, 1.5, 0.123456, 3 and 4, differ at numpy's 4 already."""
    value = Value([1.5, 0.123456, 0.0, 0.0, 0.0, 0.12346, 3.0, 4.0])
    assert repr(value) == "Value(data=[1.5    0.1235 ... 3.     4.    ], shape=(8,), grad=None)"


def test_at_least_four_digits_are_shown():
    """0.12346 and 0.5 differ at 3 digits already; they are still printed with 4 (0.1235, not 0.123)."""
    assert repr(Value([0.12346, 0.5])) == "Value(data=[0.1235 0.5   ], grad=None)"


def test_a_float32_number_that_rounds_to_a_whole_one_shows_the_digits_of_a_float32():
    """np.float32(1.0000001) is 1.00000011920928955078125: the shortest float32 print is 1.0000001 (a float64's
    would be 1.0000001192092896)."""
    assert repr(Value(np.float32(1.0000001))) == "Value(data=1.0000001, grad=None, dtype=float32)"


def test_nan_and_inf_hidden_in_data_and_in_grad_are_both_noted():
    value = Value(np.r_[np.zeros(5), np.nan, np.zeros(4)])
    value.grad = np.r_[np.zeros(5), -np.inf, np.zeros(4)]
    assert repr(value) == ("Value(data=[0. 0. ... 0. 0.], shape=(10,), grad=[0. 0. ... 0. 0.])"
                           "  # data holds 1 NaN; grad holds 1 inf")


def test_a_nan_hidden_in_a_complex_gradient_set_by_hand_is_noted():
    """A gradient set by hand may be complex; complex numbers hold NaN too."""
    value = Value(np.zeros(10))
    grad = np.zeros(10, dtype=complex)
    grad[5] = complex(np.nan, 0.0)
    value.grad = grad
    assert repr(value).endswith("  # grad holds 1 NaN")


def test_a_generator_state_with_a_negative_count_is_refused_by_name_and_changes_nothing():
    # numpy raises OverflowError for a negative uint32 (it was let through, not the ValueError naming 'rng')
    optimizer = optim.RandomSearch([Value([1.0])], rng=0)
    state = optimizer.state_dict()
    damaged = json.loads(str(state["rng"]))
    damaged["uinteger"] = -1
    expected = np.random.default_rng(0).bit_generator.state  # what the optimizer's generator holds, untouched
    with pytest.raises(ValueError, match=r"'rng' is no state of a PCG64"):
        optimizer.load_state_dict({**state, "rng": np.array(json.dumps(damaged))})
    assert optimizer.rng.bit_generator.state == expected


@pytest.mark.parametrize("count", [2.7, 0.5])
def test_a_generator_state_numpy_would_cut_is_refused_and_changes_nothing(count):
    # numpy takes a count of 2.7 as 2: such a load was neither exact nor refused
    optimizer = optim.RandomSearch([Value([1.0])], rng=0)
    state = optimizer.state_dict()
    damaged = json.loads(str(state["rng"]))
    damaged["uinteger"] = count
    expected = np.random.default_rng(0).bit_generator.state
    with pytest.raises(ValueError, match=r"'rng' is no state of a PCG64 \(numpy takes it as another state"):
        optimizer.load_state_dict({**state, "rng": np.array(json.dumps(damaged))})
    assert optimizer.rng.bit_generator.state == expected


@pytest.mark.parametrize("kind", ["PCG64", "MT19937", "Philox", "SFC64"])
def test_every_kind_of_generator_state_loads_back_exactly(kind):
    generator = np.random.Generator(getattr(np.random, kind)(5))
    generator.random(3)  # a state part way through
    saved = optim.RandomSearch([Value([1.0])], rng=generator).state_dict()
    fresh = optim.RandomSearch([Value([1.0])], rng=np.random.Generator(getattr(np.random, kind)(6)))
    fresh.load_state_dict(saved)
    np.testing.assert_array_equal(fresh.rng.random(4), generator.random(4))


def test_text_utf8_cannot_hold_is_refused_before_the_old_file_is_emptied(tmp_path):
    page = tmp_path / "page.html"
    page.write_bytes(b"old")
    with pytest.raises(ValueError, match=r"save: cannot write .*page\.html.*not valid Unicode"):
        files.write_text(page, "a \ud800", "save")  # a lone surrogate
    assert page.read_bytes() == b"old"
