"""Mutation testing of round 40's new code (checks.unpacked_in_two and _calls_another_name, Dataset's __getitem__,
__iter__ and __array_function__ refusals, ops._count, transpose's dim0=/dim1=, _fit's None vjp message,
serialization's _has_zip_end and PyTorch detection, load_digits' _digits_text and gzip check, testing's _passes_with
and notes, optim's _renamed_means and _spelt_out): each mutant made by hand, run against the round's new tests and
the older ones of the same names.

53 mutants of the round's code were tried (flipped comparisons, dropped checks, changed constants and opnames,
early returns, swapped byte order marks, the old message words put back): 36 were killed by the tests before this
file, 11 are killed by it, 6 are equivalent:

- checks.unpacked_in_two's cache key without under_way and names: one place in the code (code object, offset)
  is one instruction, and BINARY_SUBSCR, FOR_ITER and a CALL of max are never the same place;
- _calls_another_name without ``opname.startswith("LOAD_")``, or without ``isinstance(argval, str)``: before a call,
  at its first column, only a LOAD_ instruction carries a name, and no LOAD_ of a non-name is ever called;
- ops._count returning ``count`` for ``int(count)``: a numpy integer count makes the same Op (range takes it);
- testing's ``passes`` answering False where ``at_step`` is None: _report's one caller always gives at_step;
- ``passes`` without its first ``_agrees`` shortcut: it differs only where D(step) agrees and D(step/2), with a
  quarter of its curvature error and rounding at half the tolerance, does not, which no f here could be made to do.

Killed here: unpacking in three taken for a pair (the ``arg == 2`` test dropped), code without columns
(``None in place`` answering True), a .gz compressed twice said to lack .gz, a big-endian UTF-16 copy, np.amax and
np.amin, transpose's dim1= alone, a bool count, the zip end record's 64 kB + 22 search window (two constants), f
raising at a suggested step, and the half step of the suggestion's Richardson retake.

Two defects, each failing here before its fix: a comprehension over a Dataset, ``[(x, y) for x, y in ds]``,
unpacked its two arrays' rows silently (only a ``for`` statement was refused: the comprehension's loop runs in a
code of its own, after a call that follows GET_ITER; now the loop that takes the first array is asked, 4 more
mutants of that code all killed); and the rounding note said a step at which f raises is "too coarse for f's
curvature".
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Value, nn, ops
from tinygrad_edu.data import Dataset


def _two_samples() -> Dataset:
    return Dataset(np.array([[0.0, 1.0], [2.0, 3.0]]), np.array([0, 1]))


_LOOP_REFUSED = r"^Dataset: for x, y in ds goes through the pair \(inputs, labels\), not through the samples"


@pytest.mark.parametrize("loop", [
    lambda ds: [(x, y) for x, y in ds],
    lambda ds: list((x, y) for x, y in ds),
    lambda ds: {int(y[0]): x for x, y in ds},
    lambda ds: {(x.size, y.size) for x, y in ds},
], ids=["list", "generator", "dict", "set"])
def test_a_comprehension_over_a_dataset_unpacking_pairs_is_refused_as_the_loop_is(loop) -> None:
    """``[(x, y) for x, y in ds]``, PyTorch's samples and labels, gave [(inputs' row 0, row 1), (label 0, label 1)]
    silently with two samples: only a ``for`` statement was refused (a comprehension's loop runs in a code of its
    own, after a call that followed GET_ITER)."""
    with pytest.raises(TypeError, match=_LOOP_REFUSED):
        loop(_two_samples())


def test_loops_that_unpack_their_own_pairs_over_a_dataset_are_not_refused() -> None:
    """Only a loop over the Dataset itself that unpacks each array in two is refused: ``zip(names, ds)`` and
    ``enumerate(ds)`` make pairs of their own, and one name per array is the pair's own loop."""
    ds = _two_samples()
    named = {name: array.shape for name, array in zip(("inputs", "labels"), ds)}
    assert named == {"inputs": (2, 2), "labels": (2,)}
    assert [(i, array.ndim) for i, array in enumerate(ds)] == [(0, 2), (1, 1)]
    assert [array.shape for array in ds] == [(2, 2), (2,)]
    inputs, labels = ds
    assert inputs is ds.inputs and labels is ds.labels
    pairs = [(x.tolist(), int(y)) for x, y in zip(ds.inputs, ds.labels)]  # (the advice given, as it runs)
    assert pairs == [([0.0, 1.0], 0), ([2.0, 3.0], 1)]


def test_unpacking_in_three_is_not_taken_for_pytorchs_pairs() -> None:
    """Only a result unpacked into two names is PyTorch's pair (values and indices, sample and label): three rows'
    maxima unpacked into three names, or three samples' inputs, are what they are."""
    v = Value(np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0], [4.0, 4.0, 9.0]]))
    a, b, c = v.max(1)
    assert [float(a.data), float(b.data), float(c.data)] == [5.0, 7.0, 9.0]
    d, e, f = v.min(axis=0)
    assert [float(d.data), float(e.data), float(f.data)] == [1.0, 0.0, 2.0]
    ds = Dataset(np.arange(6.0).reshape(3, 2), np.array([0, 1, 2]))
    first, second, third = ds[0]
    np.testing.assert_array_equal(third, [4.0, 5.0])


def test_values_and_indices_are_refused_in_code_without_column_positions() -> None:
    """Code whose bytecode has no columns (``python -X no_debug_ranges``, Python 3.10) cannot tell which callable a
    call loads: ``_, idx = v.max(1)`` is still refused there, not let through as another function's pair."""
    code = compile("_, idx = v.max(1)\n", "<no columns>", "exec").replace(co_linetable=b"")
    with pytest.raises(TypeError, match=r"^max: v\.max\(1\) gives the maxima alone"):
        exec(code, {"v": Value(np.arange(6.0).reshape(2, 3))})  # noqa: S102


def test_a_model_file_with_the_longest_zip_comment_loads(tmp_path: Path) -> None:
    """A zip archive's end record may be followed by a comment of up to 65,535 bytes (a zip tool's note added to
    the file): the model file is whole, and loads, not said to be cut short."""
    saved = nn.MLP([2, 3, 1], rng=0)
    path = tmp_path / "model.npz"
    saved.save(path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.comment = b"n" * 0xFFFF
    loaded = nn.MLP([2, 3, 1], rng=1).load(path)
    for mine, theirs in zip(loaded.parameters(), saved.parameters(), strict=True):
        np.testing.assert_array_equal(mine.data, theirs.data)


@pytest.mark.parametrize("count", [True, False])
def test_a_join_of_a_bool_count_is_refused(count: bool) -> None:
    """``ops.stack(True)`` is not a number of inputs (bool is an int to Python): refused as a list is."""
    with pytest.raises(TypeError, match=r"^ops\.stack\(count\) makes the Op that joins count inputs"):
        ops.stack(count)
    with pytest.raises(TypeError, match=r"^ops\.concatenate\(count\)"):
        ops.concatenate(count)


@pytest.mark.parametrize("function", [np.shape, np.ndim, lambda ds: np.concatenate([ds]), np.mean],
                         ids=["shape", "ndim", "concatenate", "mean"])
def test_numpy_functions_of_a_dataset_get_the_refusal_of_np_array(function) -> None:
    """Other numpy functions than array_equal and array_equiv reach __array_function__ too: they get the refusal of
    ``np.array(ds)`` (saying what to give instead), not numpy's "no implementation found for 'numpy.shape'"."""
    with pytest.raises(TypeError, match=r"^Dataset: a Dataset is the pair \(inputs, labels\), not one array"):
        function(_two_samples())


def test_load_digits_reads_a_big_endian_utf16_copy(tmp_path: Path) -> None:
    """UTF-16 with a big-endian byte order mark (a Mac editor's "UTF-16 BE", Notepad's "UTF-16 BE") holds the same
    digits as the bundled file."""
    import gzip
    from importlib import resources

    from tinygrad_edu.data import load_digits

    text = gzip.decompress((resources.files("tinygrad_edu") / "datasets" / "digits.csv.gz").read_bytes())
    path = tmp_path / "optdigits.tes"
    path.write_bytes(b"\xfe\xff" + text.decode("ascii").encode("utf-16-be"))
    inputs, labels = load_digits(path)
    expected = load_digits()
    np.testing.assert_array_equal(inputs, expected.inputs)
    np.testing.assert_array_equal(labels, expected.labels)


def test_a_gz_file_compressed_twice_is_not_said_to_lack_gz_in_its_name(tmp_path: Path) -> None:
    """The check for a gzip file named without .gz looks only at files so named: one named .gz that unpacks to gzip
    again is said to be compressed twice (round 41; it was called damaged), and not said to need a name it has."""
    import gzip
    from importlib import resources

    from tinygrad_edu.data import load_digits

    path = tmp_path / "twice.csv.gz"
    path.write_bytes(gzip.compress((resources.files("tinygrad_edu") / "datasets" / "digits.csv.gz").read_bytes()))
    with pytest.raises(ValueError, match=r"^load_digits: digits file '[^']*twice\.csv\.gz': .*compressed twice") \
            as caught:
        load_digits(path)
    assert "does not end in .gz" not in str(caught.value)


def test_values_and_indices_of_np_amax_and_amin_are_refused() -> None:
    """``_, idx = np.amax(v, 1)``, numpy's other name for max (PyTorch's torch.max(x, 1) pair), is refused as
    ``np.max(v, 1)`` is: the call under way is of a name of max's (and named as written, round 41)."""
    v = Value(np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]]))
    with pytest.raises(TypeError, match=r"^max: np\.amax\(v, 1\) gives the maxima alone"):
        _, idx = np.amax(v, 1)
    with pytest.raises(TypeError, match=r"^min: np\.amin\(v, 1\) gives the minima alone"):
        _, idx = np.amin(v, 1)


@pytest.mark.parametrize("keywords", [{"dim1": 0}, {"dim0": 1}, {"dim0": 0, "dim1": 1}])
def test_transposes_pytorch_keywords_each_say_swapaxes(keywords: dict) -> None:
    """``v.transpose(dim1=0)``, either of PyTorch's two keywords alone, gets the advice of both."""
    v = Value(np.arange(6.0).reshape(2, 3))
    with pytest.raises(TypeError, match=r"^transpose: there is no argument dim[01]=.*v\.swapaxes\(dim0, dim1\)"):
        v.transpose(**keywords)
    np.testing.assert_array_equal(v.swapaxes(0, 1).data, np.arange(6.0).reshape(2, 3).T)


def _defined_near_zero(v: Value) -> Value:
    """Σx² + 1e8, defined within 0.5 of 1e-3 only (a function of a model that checks its inputs' range)."""
    if np.any(np.abs(np.asarray(v.data) - 1e-3) > 0.5):
        raise ValueError("defined within 0.5 of 1e-3 only")
    return (v * v).sum() + 1e8


def test_the_rounding_note_suggests_no_step_at_which_f_raises() -> None:
    """Σx² + 1e8 at 1e-3 needs eps=1 for rounding, a step where this f raises: the note does not send the reader
    there (followed, check_gradients raised f's ValueError), and says why no larger step helps."""
    from tinygrad_edu.testing import GradientCheckError, check_gradients

    with pytest.raises(GradientCheckError) as caught:
        check_gradients(_defined_near_zero, np.array([1e-3]))
    message = str(caught.value)
    assert "within the rounding of f's values over the step" in message and "e.g. eps=" not in message
    assert "a larger eps does not help" in message and "reaches where f is not finite or fails" in message
    with pytest.raises(ValueError, match="defined within 0.5"):
        check_gradients(_defined_near_zero, np.array([1e-3]), eps=1.0)


def test_the_rounding_note_suggests_a_step_that_works_through_richardson() -> None:
    """1e-4·Σx³ + 1e12 at x = 1: the step rounding needs (eps=10000) has a large error of its own, h²·1e-4, which
    the check cancels as it takes a disagreeing element again (with half the step, extrapolated): the note
    suggests it, and followed, the check passes."""
    from tinygrad_edu.testing import GradientCheckError, check_gradients

    f = lambda v: (v ** 3).sum() * 1e-4 + 1e12  # noqa: E731
    with pytest.raises(GradientCheckError, match=r"or with a larger eps, e\.g\. eps=10000\)") as caught:
        check_gradients(f, np.array([1.0]))
    assert "does not help" not in str(caught.value)
    check_gradients(f, np.array([1.0]), eps=1e4)
