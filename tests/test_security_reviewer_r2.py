"""A security reviewer's second pass: what a hostile file can make the package print.

The xfail tests are the defects found (each fails on the code it was written against, for the reason given): a
crafted model file's entry names reach the terminal with their escape sequences, an optimizer state of thousands of
stray entries and an inputs file of one enormous word make messages as large as themselves.  The others are guards
a reviewer relies on: a pickled entry of a model file is refused unread, and a failed load changes nothing.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import nn, optim
from tinygrad_edu.cli import main
from tinygrad_edu.serialization import ModelFileError

#: Terminal escape sequences: clear the screen, set the window's title.
ESCAPES = "\x1b[2J\x1b]0;owned\x07"


def _npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def _with_entry(path: Path, name: str, data: bytes) -> None:
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(name, data)


# --- defects ---------------------------------------------------------------------------------------------------------
def test_a_crafted_entry_name_reaches_the_terminal_without_its_escape_sequences(tmp_path: Path, capsys) -> None:
    path = tmp_path / "m.npz"
    nn.MLP([2, 3, 1], rng=0).save(path)
    _with_entry(path, f"{ESCAPES}.npy", _npy(np.zeros(1)))
    with pytest.raises(ModelFileError, match="unexpected") as caught:
        nn.load(path)
    assert "\x1b" not in str(caught.value) and "\x07" not in str(caught.value)
    assert repr(ESCAPES) in str(caught.value)  # still named, escaped
    assert main(["predict", str(path), "0.5", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "unexpected" in err and "\x1b" not in err and "\x07" not in err


def test_printable_entry_names_stay_as_they_were_in_the_message(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    nn.MLP([2, 3, 1], rng=0).save(path)
    _with_entry(path, "layers.3.weights.npy", _npy(np.zeros(1)))
    with pytest.raises(ModelFileError, match=r"unexpected layers\.3\.weights$"):
        nn.load(path)


def test_thousands_of_stray_entries_in_an_optimizer_state_make_a_short_message(tmp_path: Path) -> None:
    model = nn.MLP([2, 3, 1], rng=0)
    optimizer = optim.Adam(model, learning_rate=0.1)
    state = optimizer.state_dict()
    np.savez(tmp_path / "adam.npz", **state, **{f"junk{i}": np.array(0) for i in range(5000)},
             **{"x" * 60_000: np.array(0)})
    with np.load(tmp_path / "adam.npz", allow_pickle=False) as hostile, \
            pytest.raises(ValueError, match=r"^Adam\.load_state_dict: unexpected 'junk0', .* and 4996 more "
                                           r"\(in the file '[^']*adam\.npz'\)$") as caught:
        optimizer.load_state_dict(hostile)
    assert len(str(caught.value)) < 500


def test_a_few_stray_entries_are_all_named() -> None:
    optimizer = optim.Adam(nn.MLP([2, 3, 1], rng=0), learning_rate=0.1)
    state = {**optimizer.state_dict(), "junk": np.array(0), "more": np.array(1)}
    with pytest.raises(ValueError, match=r"^Adam\.load_state_dict: unexpected 'junk', 'more'$"):
        optimizer.load_state_dict(state)


def test_an_enormous_word_in_an_inputs_file_is_cut_in_the_error(tmp_path: Path, capsys) -> None:
    model = tmp_path / "m.npz"
    nn.MLP([2, 3, 1], rng=0).save(model)
    inputs = tmp_path / "inputs.txt"
    inputs.write_text("0.5 0.25\n" + "x" * 1_000_000 + " 2\n")
    assert main(["predict", str(model), "--inputs-file", str(inputs)]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "xxxxxxxx" in err and "1,000,000 characters" in err
    assert len(err) < 1000


# --- guards ----------------------------------------------------------------------------------------------------------
class _Alarm:
    """Unpickling it would set ``ran``: the code a pickled entry of a hostile file would run."""

    ran = False

    def __reduce__(self):
        return (setattr, (_Alarm, "ran", True))


def test_a_pickled_entry_of_a_model_file_is_refused_unread_and_the_model_kept(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    model = nn.MLP([2, 3, 1], rng=0)
    model.save(path)
    before = model.state_dict()
    with zipfile.ZipFile(path) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    entries["layers.1.weights.npy"] = _npy(np.array([_Alarm()], dtype=object), allow_pickle=True)
    assert b"pickle" not in entries["layers.1.weights.npy"][:10] and pickle.dumps(_Alarm())  # (a real pickle)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    with pytest.raises(ModelFileError, match=r"layers\.1\.weights.*dtype object"):
        model.load(path)
    with pytest.raises(ModelFileError, match=r"layers\.1\.weights.*dtype object"):
        nn.load(path)
    assert not _Alarm.ran
    assert all(np.array_equal(before[name], value) for name, value in model.state_dict().items())
