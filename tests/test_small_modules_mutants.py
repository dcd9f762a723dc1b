"""Edges found by mutation testing of ``printing.py``, ``files.py``, ``graph.py`` and ``optim_state.py``: each test
pins a behaviour that a hand-made mutant (a flipped comparison, an off-by-one, a dropped check or branch, a wrong
constant, dtype, kind of error or message, a bytes name refused) changed while the other tests passed.

127 mutants; 86 killed before these tests, 118 after (before = killed by the screening tests below, or by the wider
re-run of the survivors):

- ``printing.py``: 29 mutants; 18 killed before, 27 after.
- ``files.py``: 30 mutants; 14 killed before, 28 after.
- ``graph.py``: 24 mutants; 19 killed before, 21 after.
- ``optim_state.py``: 44 mutants; 35 killed before, 42 after.

Screened with the modules' doctests, tests/test_state_files_printing_edges.py, test_small_modules_edges.py, and per
module test_reprs_half_built.py and the repr tests of test_engine.py (printing); test_serialization_edges.py,
test_serialization_seeds_mutants.py, test_data_edges.py and test_predict_files_and_pipes.py (files); test_graph.py and
test_dependency_tree.py (graph); test_resume.py, test_optim_mutants.py and test_serialization_edges.py (optim_state).
The survivors were re-run against test_viz_edges, test_viz_mutants, test_player_mutants and
test_drawing_steps_edges (graph), test_optim and the state tests of test_api_misuse (optim_state), and
test_public_names, test_cli_edges, test_cli_mutants and the file tests of test_api_misuse (files); printing's
survivors were not re-run more widely, for time.

Equivalent mutants, left without a test:

- ``printing._shown_part`` summarizing an axis of exactly ``2 * edgeitems`` (``>=`` for ``>``): taking its first and
  last ``edgeitems`` takes all of it, in order.
- ``printing._distinguishing_precision`` counting NaN and inf among the distinct numbers: ``np.unique`` keeps one NaN,
  and ``nan``, ``inf`` and ``-inf`` each print as one word of their own at every precision.
- ``files._kind``'s last resort named otherwise: every kind of file that is not regular, a folder, a pipe, a device
  or a socket is followed (a link) or does not exist on Linux and macOS, so it is never reached.
- ``files.write_text`` raising ``OSError(errno, ...)`` instead of ``type(error)(errno, ...)``: ``OSError`` given an
  errno makes the same subclass itself (``PermissionError``, ``IsADirectoryError``...).
- ``graph.nearest_values`` starting with ``seen`` empty: a graph has no cycles, so the root is never its own parent.
- ``graph.ancestors`` pushing a parent already seen: the ``seen`` check when it is popped skips it.
- ``graph.ancestors`` walking in another order (``stack.pop(0)``): the order is not promised, its one caller (viz's
  layer boxes) uses it as a set and a member list, and the screened drawings are unchanged.
- ``optim_state._check_keys`` without the shape check of ``'optimizer'``: an array of any other shape prints with
  brackets, so its ``str`` never equals a class name and the same message is raised.
- ``optim_state._checked_parameter_states`` looking for a parameter's last key instead of its first:
  ``_check_keys`` has made sure it has all of them or none.

Defects found, and fixed with these tests:

- ``printing._distinguishing_precision`` counts numbers by splitting numpy's print at spaces, but numpy pads a
  complex array inside its numbers (``[0.1   +1.j 0.3333+2.j]``): the count never matches, so a complex gradient
  set by hand always prints with 17 digits instead of the fewest that tell its numbers apart.
- ``graph._values`` takes ``next(..., None)`` returning ``None`` as "no wrong item", so ``ancestors([y, None], ...)``
  lets the ``None`` through (and silently ignores it) instead of the TypeError naming a NoneType in it.
"""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest
from helpers_models import assert_next_sgd_step_is_the_unchanged_one, sgd_after_one_step

from tinygrad_edu import Value, files, optim
from tinygrad_edu.graph import ancestors, nearest_values
from tinygrad_edu.printing import HTML_SUMMARY, array_text

# --- printing -------------------------------------------------------------------------------------------------------


def test_one_number_prints_with_six_significant_digits():
    """The module's promise: one number with 6 significant digits (1.2345678 → 1.23457, not 1.234568)."""
    assert repr(Value(1.2345678)) == "Value(data=1.23457, grad=None)"


def test_seven_numbers_are_summarized_in_the_one_line_repr():
    """TEXT_SUMMARY is (6, 2): a 7th number makes the print summarized, 2 at each end."""
    assert repr(Value(np.arange(7.0))) == "Value(data=[0. 1. ... 5. 6.], shape=(7,), grad=None)"


def test_jupyters_table_keeps_three_numbers_at_each_end_past_twenty():
    """HTML_SUMMARY is (20, 3): 21 numbers show as the first 3 and the last 3."""
    assert "<pre style='margin:0'>[ 0.  1.  2. ... 18. 19. 20.]</pre>" in Value(np.arange(21.0))._repr_html_()


def test_ten_different_numbers_unsummarized_print_at_four_digits():
    """Ten thirds, shown whole in the table (10 <= 20), differ at numpy's 4 digits: no need for 17."""
    assert array_text(np.arange(10) / 3, HTML_SUMMARY) == (
        "[0.     0.3333 0.6667 1.     1.3333 1.6667 2.     2.3333 2.6667 3.    ]")


def test_numbers_that_differ_in_the_tenth_digit_print_with_ten():
    """1.0000000001 and 1.0000000002 need 10 digits; 0.1234567890123 beside them is shown at 10 too (0.123456789),
    not at 17."""
    assert repr(Value([1.0000000001, 1.0000000002, 0.1234567890123])) == (
        "Value(data=[1.0000000001 1.0000000002 0.123456789 ], grad=None)")


def test_neighbouring_floats_never_print_alike():
    """0.1 and the next float after it differ only in the 17th digit: they must still print differently."""
    assert repr(Value([0.1, np.nextafter(0.1, 1.0)])) == (
        "Value(data=[0.1                 0.10000000000000002], grad=None)")


def test_hidden_nan_and_inf_counts_are_joined_by_and():
    """The note on what a summary hides reads "1 NaN and 2 inf"."""
    assert repr(Value(np.r_[np.nan, np.zeros(5), np.inf, -np.inf])) == (
        "Value(data=[ nan   0. ...  inf -inf], shape=(8,), grad=None)  # data holds 1 NaN and 2 inf")


def test_a_complex_number_set_by_hand_as_gradient_prints_with_six_digits():
    """Complex numbers are numbers: 1/3 + 0j prints as 0.333333+0j (6 significant digits), not as its repr."""
    value = Value(2.0)
    value.grad = np.array(1 / 3 + 0j)
    assert repr(value) == "Value(data=2.0, grad=0.333333+0j)"


def test_a_gradient_of_text_set_by_hand_is_summarized_too():
    """Ten strings as a gradient print as numpy prints them, summarized past 6 as the numbers are."""
    value = Value([1.0])
    value.grad = np.array(list("abcdefghij"))
    assert repr(value) == "Value(data=[1.], grad=['a' 'b' ... 'i' 'j'])"


def test_a_complex_gradient_array_prints_at_the_fewest_distinguishing_digits():
    """0.1+1j and 1/3+2j differ at 4 digits: printed as numpy does at 4, [0.1   +1.j 0.3333+2.j]."""
    value = Value([1.0, 2.0])
    value.grad = np.array([0.1 + 1j, 1 / 3 + 2j])
    assert repr(value) == "Value(data=[1. 2.], grad=[0.1   +1.j 0.3333+2.j])"


# --- files ----------------------------------------------------------------------------------------------------------


def test_a_bytes_file_name_is_taken_as_it_is(tmp_path):
    """The promise: a ``str`` or ``bytes`` file name."""
    path = tmp_path / "numbers.bin"
    path.write_bytes(b"123")
    assert files.checked_path(os.fsencode(path), "load") == os.fsencode(path)
    with files.open_regular_file(os.fsencode(path), "load") as handle:
        assert handle.read() == b"123"


def test_a_bytes_file_name_holding_nul_is_refused_by_name():
    """A NUL in a bytes name is refused as in a str one."""
    with pytest.raises(ValueError, match=r"^load: the file name b'a\\x00b' holds a NUL character, which no file"):
        files.checked_path(b"a\0b", "load")


def test_a_name_holding_nul_is_shown_up_to_200_characters():
    """The refused name is shown in full up to 200 characters."""
    name = "a" * 150 + "\0"
    with pytest.raises(ValueError) as error:
        files.checked_path(name, "load")
    assert str(error.value) == f"load: the file name {name!r} holds a NUL character, which no file name can"


def test_what_is_no_path_is_a_type_error_naming_its_type_and_its_start():
    """An int is refused (it would be taken as a file descriptor); the message names the type and the first 60
    characters of the value."""
    with pytest.raises(TypeError) as error:
        files.checked_path(10 ** 99, "load")
    assert str(error.value) == ("load: expected a file path (str or os.PathLike), got int " + "1" + "0" * 59
                                + "; file descriptors and open files are not accepted")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_refused_at_once_by_its_kind(tmp_path):
    """Opened without blocking: a pipe nobody writes to is refused at once instead of waiting for a writer."""
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    with pytest.raises(ValueError, match=r"^load: '.*pipe' is a named pipe, not a regular file$"):
        files.open_regular_file(pipe, "load")


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null here")
def test_a_character_device_is_refused_by_its_kind():
    """A device is refused naming its kind."""
    with pytest.raises(ValueError, match=r"^load: '/dev/null' is a character device, not a regular file$"):
        files.open_regular_file("/dev/null", "load")


def test_a_failure_to_open_names_the_operation_and_the_file(tmp_path):
    """os.open's error, with the operation in it and the file."""
    missing = tmp_path / "missing.npz"
    with pytest.raises(FileNotFoundError) as error:
        files.open_regular_file(missing, "load")
    assert (error.value.errno, error.value.strerror, error.value.filename) == (
        errno.ENOENT, "load: No such file or directory", str(missing))


def test_write_text_refuses_bytes_by_name(tmp_path):
    """Bytes are no text: a TypeError naming the operation, and nothing written."""
    with pytest.raises(TypeError, match=r"^save: the text to write must be a str, got bytes$"):
        files.write_text(tmp_path / "page.html", b"<p>", "save")
    assert not (tmp_path / "page.html").exists()


def test_text_utf8_cannot_hold_is_refused_with_its_position(tmp_path):
    """The refusal says where the text is not valid Unicode."""
    with pytest.raises(ValueError, match=r"\(surrogates not allowed at position 2\)$"):
        files.write_text(tmp_path / "page.html", "é \ud800", "save")


def test_write_text_makes_the_missing_folders_writes_utf8_and_overwrites(tmp_path):
    """Folders two deep are made; an existing folder is fine; the text is UTF-8 (é is two bytes, → three)."""
    path = tmp_path / "a" / "b" / "page.txt"
    files.write_text(path, "old", "save")
    files.write_text(path, "é→", "save")
    assert path.read_bytes() == b"\xc3\xa9\xe2\x86\x92"


def test_a_file_in_the_way_of_a_folder_is_a_not_a_directory_error_naming_both(tmp_path):
    """A file where a folder of the path goes: NotADirectoryError naming the operation, the path and the file."""
    (tmp_path / "plots").write_text("a file")
    path = tmp_path / "plots" / "graph.svg"
    with pytest.raises(NotADirectoryError) as error:
        files.write_text(path, "<svg/>", "render")
    assert error.value.errno == errno.ENOTDIR
    assert str(error.value) == (f"[Errno {errno.ENOTDIR}] render: cannot write {str(path)!r}: "
                                f"{str(tmp_path / 'plots')!r} is a file, not a folder")


def test_a_failure_to_write_names_the_operation_and_the_file(tmp_path):
    """A folder where the file goes: the OSError of that kind, naming who wrote what."""
    path = tmp_path / "page.html"
    path.mkdir()
    with pytest.raises(IsADirectoryError) as error:
        files.write_text(path, "<p>", "save")
    assert error.value.strerror == f"save: cannot write {str(path)!r}: Is a directory"


def test_dir_of_files_lists_its_api():
    """``dir(files)`` is its ``__all__``, not its helpers and imports."""
    assert dir(files) == ["checked_path", "decoded_text", "home_advice", "open_regular_file", "replacing", "write_text"]


# --- graph ----------------------------------------------------------------------------------------------------------


def _diamond() -> tuple[Value, Value, Value]:
    """y = x·x + x: x reached three times, by way of the product twice and directly once; 3 Values in all."""
    x = Value(2.0, label="x")
    product = x * x
    return x, product, product + x


def test_nearest_values_counts_a_value_reached_twice_once():
    """x, reached three ways, is kept and counted once."""
    x, product, y = _diamond()
    kept, total = nearest_values(y)
    assert total == 3 and [id(v) for v in kept] == [id(y), id(product), id(x)]


def test_nearest_values_is_breadth_first():
    """z = exp(x·2) + w·3: its two parents come before anything further away."""
    x, w = Value(1.0, label="x"), Value(1.0, label="w")
    z = (x * 2.0).exp() + w * 3.0
    kept, total = nearest_values(z, limit=3)
    assert [v.op for v in kept] == ["add", "exp", "mul"] and total == 8  # add, exp, mul, mul, w, 3, x, 2


def test_ancestors_finds_each_value_once():
    """Each Value of the diamond is found once."""
    x, product, y = _diamond()
    everything = {id(x), id(product), id(y)}
    assert sorted(map(id, ancestors(y, everything, set()))) == sorted(everything)


def test_ancestors_leaves_out_a_start_that_is_stopped_or_not_allowed():
    """A start in ``stop``, or not in ``allowed``, is left out."""
    x, product, y = _diamond()
    everything = {id(x), id(product), id(y)}
    assert ancestors([y], everything, {id(y)}) == []
    assert ancestors([y], {id(x), id(product)}, set()) == []


def test_ancestors_does_not_enter_a_parent_that_is_not_allowed():
    """A parent not in ``allowed`` is not entered."""
    x, product, y = _diamond()
    assert ancestors(y, {id(y), id(x)}, set()) == [y, x]  # the product is not allowed: x only directly
    assert ancestors(y, {id(y)}, set()) == [y]


def test_dir_of_graph_lists_its_api():
    """``dir(graph)`` is its ``__all__``."""
    from tinygrad_edu import graph
    assert dir(graph) == ["ancestors", "nearest_values"]


def test_ancestors_refuses_a_none_among_the_starts():
    """A None among the starts is refused by name, as a float is."""
    x, product, y = _diamond()
    with pytest.raises(TypeError, match=r"^ancestors: starts must be a Value or a list of Values, got a NoneType "
                                        r"in it$"):
        ancestors([y, None], {id(x), id(product), id(y)}, set())  # type: ignore[list-item]


# --- optim_state ----------------------------------------------------------------------------------------------------


def test_a_float64_gradient_on_a_float32_parameter_saves_float32_state_that_loads_back():
    """The comment's case: a float64 gradient set by hand makes float64 averages; saved in the parameter's dtype."""
    x = Value(np.array([1.0, -2.0], dtype=np.float32))
    opt = optim.SGD([x], learning_rate=0.1, momentum=0.9)
    x.grad = np.array([0.5, 1.0])
    opt.step()
    state = opt.state_dict()
    assert state["state.0.velocity"].dtype == np.float32
    optim.SGD([x], learning_rate=0.1, momentum=0.9).load_state_dict(state)


def test_the_saved_state_is_a_copy_and_so_is_the_loaded_one():
    """A step after state_dict() leaves the saved velocity (G1) alone; a step after loading leaves the dict alone."""
    x, opt = sgd_after_one_step()
    saved = opt.state_dict()
    x.grad = np.array([-3.0, 2.0])
    opt.step()
    np.testing.assert_array_equal(saved["state.0.velocity"], [0.5, 1.0])
    opt.load_state_dict(saved)
    opt.step()
    np.testing.assert_array_equal(saved["state.0.velocity"], [0.5, 1.0])


def test_a_state_that_is_no_mapping_is_a_type_error():
    """A list of pairs is no mapping: a TypeError naming what it got."""
    x, opt = sgd_after_one_step()
    with pytest.raises(TypeError, match=r"^SGD\.load_state_dict: expected a mapping of names to numpy arrays, as "
                                        r"state_dict\(\) makes, got list$"):
        opt.load_state_dict(list(opt.state_dict().items()))


@pytest.mark.parametrize("change, message", [
    ({"parameter_count": np.array(1.0)},
     r"'parameter_count' must be a 0-d int array, got float64 of shape \(\): 1\.0$"),
    ({"optimizer": np.array("Adam")}, r"'optimizer' is 'Adam', the state of another kind of optimizer than SGD$"),
    ({"optimizer": np.array("MySGD")}, r"'optimizer' is 'MySGD', the state of another kind of optimizer than SGD$"),
    ({"learning_rate": np.array([0.1])}, r"'learning_rate' must have shape \(\), got \(1,\)$"),
    ({"momentum": np.array("x")}, r"momentum must be a number, got str 'x'$"),
    ({"optimizer": "SGD"}, None),
    ({"state.0.velocity": np.array([0.5, 1.0], dtype=np.float32)},
     r"'state\.0\.velocity' must have the shape \(2,\) and dtype float64 of its parameter, got \(2,\) float32; "
     r"the state was saved while the model was float32: load it into the model in float32, then convert the model "
     r"to float64$"),
], ids=["float count", "Adam's", "MySGD's", "lr of shape (1,)", "momentum of text", "text not array", "float32"])
def test_a_damaged_sgd_state_is_refused_by_name_and_changes_nothing(change, message):
    """Each damaged entry is refused naming the entry, and the next step is the one before."""
    x, opt = sgd_after_one_step()
    state = {**opt.state_dict(), **change}
    if message is None:
        with pytest.raises(TypeError, match=r"^SGD\.load_state_dict: 'optimizer' must be a numpy array, got str$"):
            opt.load_state_dict(state)
    else:
        with pytest.raises(ValueError, match=r"^SGD\.load_state_dict: " + message):
            opt.load_state_dict(state)
    assert_next_sgd_step_is_the_unchanged_one(x, opt)


def test_missing_and_unexpected_keys_are_named_together():
    """Missing and unexpected keys in one message; a missing 'optimizer' is named, not a KeyError."""
    x, opt = sgd_after_one_step()
    state = {**opt.state_dict(), "junk": np.array(0)}
    del state["momentum"]
    with pytest.raises(ValueError, match=r"^SGD\.load_state_dict: missing 'momentum'; unexpected 'junk'$"):
        opt.load_state_dict(state)
    del state["optimizer"]
    with pytest.raises(ValueError, match=r"^SGD\.load_state_dict: missing 'optimizer'$"):
        opt.load_state_dict(state)
    assert_next_sgd_step_is_the_unchanged_one(x, opt)


def test_an_entry_that_cannot_be_read_is_named(tmp_path):
    """An np.load file closed before loading: its entries cannot be read; the error names the key."""
    x, opt = sgd_after_one_step()
    np.savez(tmp_path / "state.npz", **opt.state_dict())
    with np.load(tmp_path / "state.npz") as saved:
        pass
    with pytest.raises(ValueError, match=r"^SGD\.load_state_dict: 'optimizer' cannot be read \("):
        opt.load_state_dict(saved)
    assert_next_sgd_step_is_the_unchanged_one(x, opt)


def test_every_setting_is_loaded():
    """Both of SGD's settings are loaded, not only the first."""
    x, opt = sgd_after_one_step()
    opt.load_state_dict({**opt.state_dict(), "learning_rate": np.array(0.5), "momentum": np.array(0.25)})
    assert (opt.learning_rate, opt.momentum) == (0.5, 0.25)


def test_a_counter_that_is_no_integer_is_a_value_error():
    """A saved float counter is a damaged state: ValueError, as for every other damaged entry."""
    opt = optim.RandomSearch([Value([1.0])], rng=0)
    with pytest.raises(ValueError, match=r"'accepted'"):
        opt.load_state_dict({**opt.state_dict(), "accepted": np.array(1.5)})
    assert opt.accepted == 0


def _adam_after_one_step():
    x = Value([1.0, -2.0])
    opt = optim.Adam([x], learning_rate=0.1)
    x.grad = np.array([0.5, 1.0])
    opt.step()
    return x, opt


@pytest.mark.parametrize("count, shown", [(np.array(0), "int64 of shape () = 0"),
                                          (np.array(1.0), "float64 of shape () = 1.0")])
def test_adams_step_count_must_be_an_int_of_at_least_one(count, shown):
    """A step count is a 0-d int >= 1 (0 would divide by 1 - β⁰ = 0); the message shows the count given."""
    x, opt = _adam_after_one_step()
    with pytest.raises(ValueError) as error:
        opt.load_state_dict({**opt.state_dict(), "state.0.step_count": count})
    assert str(error.value) == ("Adam.load_state_dict: 'state.0.step_count' must be a step count, a 0-d int "
                                f"array >= 1, got {shown}")


def test_adams_average_of_squares_may_be_inf_but_not_nan():
    """An overflowed g² is +inf (as in PyTorch): loaded; NaN is refused."""
    x, opt = _adam_after_one_step()
    state = opt.state_dict()
    opt.load_state_dict({**state, "state.0.squared_gradient_average": np.array([np.inf, 0.001])})
    with pytest.raises(ValueError, match=r"'state\.0\.squared_gradient_average' must hold numbers >= 0 "
                                         r"\(inf allowed\)"):
        opt.load_state_dict({**state, "state.0.squared_gradient_average": np.array([np.nan, 0.001])})


def test_a_parameter_count_above_127_is_saved_exactly():
    """The parameter count is saved as an int wide enough for 130."""
    params = [Value([1.0]) for _ in range(130)]
    state = optim.SGD(params, learning_rate=0.1).state_dict()
    assert state["parameter_count"].dtype.kind == "i" and state["parameter_count"] == 130
