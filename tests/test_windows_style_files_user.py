"""A student on a Windows laptop who moves files between machines: inputs files for ``predict --inputs-file`` written
by Windows editors and spreadsheets (CRLF, a byte order mark, tabs, semicolons, decimal commas, blank lines), model
and optimizer files copied over or zipped again by Windows tools, and file names with spaces, accents, Chinese,
upper-case suffixes or close to the length limit."""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import nn, optim
from tinygrad_edu.cli import main
from tinygrad_edu.serialization import ModelFileError


def one_line_error(capsys: pytest.CaptureFixture, argv: list[str]) -> str:
    """main's one-line error (status 2), with nothing printed on stdout."""
    status = main(argv)
    captured = capsys.readouterr()
    assert status == 2 and captured.err.count("\n") == 1 and captured.out == "", captured
    assert "Traceback" not in captured.err
    return captured.err


def two_input_model(folder: Path) -> Path:
    path = folder / "model.npz"
    nn.MLP([2, 3, 1], activation="tanh", output_activation="identity", rng=0).save(path)
    return path


def by_hand(path: Path, samples: np.ndarray) -> np.ndarray:
    """The outputs of :func:`two_input_model`'s network, from the arrays in its file (numpy, not the package)."""
    with np.load(path, allow_pickle=False) as file:
        hidden = np.tanh(samples @ file["layers.1.weights"] + file["layers.1.biases"])
        return (hidden @ file["layers.2.weights"] + file["layers.2.biases"]).ravel()


def same_parameters(a: nn.Module, b: nn.Module) -> bool:
    first, second = a.state_dict(), b.state_dict()
    return first.keys() == second.keys() and all(
        first[k].dtype == second[k].dtype and first[k].tobytes() == second[k].tobytes() for k in first)


def rezipped(source: Path, target: Path, *, order: slice = slice(None), prefix: str = "",
             compression: int = zipfile.ZIP_DEFLATED, streamed: bool = False) -> Path:
    """``source``'s entries zipped again as another tool would: another compression, another order, inside a folder,
    written as a stream (sizes after the data), with a comment."""
    with zipfile.ZipFile(source) as archive:
        entries = [(info.filename, archive.read(info)) for info in archive.infolist()][order]
    with zipfile.ZipFile(target, "w", compression=compression) as archive:
        archive.comment = b"zipped again on another machine"
        if prefix.endswith("/"):
            archive.writestr(prefix, b"")  # the folder's own entry, as Windows' "Compressed (zipped) folder" writes
        for name, data in entries:
            if streamed:
                with archive.open(prefix + name, "w") as member:
                    member.write(data)
            else:
                archive.writestr(prefix + name, data)
    return target


# --- inputs files ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("word", ["nan", "-inf", "1e400"])
def test_a_number_that_is_not_finite_in_an_inputs_file_is_named_by_file_and_line(capsys, tmp_path: Path,
                                                                                  word: str) -> None:
    model = two_input_model(tmp_path)
    inputs = tmp_path / "mesures été.csv"
    inputs.write_text(f"0.5,0.25\r\n0.1,{word}\r\n", encoding="utf-8-sig")
    message = one_line_error(capsys, ["predict", str(model), "--inputs-file", str(inputs)])
    assert f"'{inputs}' line 2: {word!r} is not a finite number" in message


def test_an_empty_field_is_named_by_its_line_and_column(capsys, tmp_path: Path) -> None:
    model = two_input_model(tmp_path)
    inputs = tmp_path / "inputs.csv"
    inputs.write_text("0.5,0.25\r\n0.1,,0.2\r\n", encoding="utf-8")  # the comma that ends the empty field: column 5
    message = one_line_error(capsys, ["predict", str(model), "--inputs-file", str(inputs)])
    assert f"'{inputs}' line 2, column 5: an empty field between commas" in message
    inputs.write_text("0.5,0.25\n, 0.1,0.2\n", encoding="utf-8")  # a missing first cell
    message = one_line_error(capsys, ["predict", str(model), "--inputs-file", str(inputs)])
    assert f"'{inputs}' line 2, column 1: an empty field between commas" in message


def test_a_bad_word_is_named_by_file_line_and_word(capsys, tmp_path: Path) -> None:
    """A header or a comment written by a spreadsheet or by hand: refused, naming where it is."""
    model = two_input_model(tmp_path)
    inputs = tmp_path / "données.csv"
    for text, line, word in [("x1,x2\r\n0.5,0.25\r\n", 1, "x1"), ("0.5\t0.25\r\n# done\r\n", 2, "#")]:
        inputs.write_bytes(codecs.BOM_UTF8 + text.encode())
        message = one_line_error(capsys, ["predict", str(model), "--inputs-file", str(inputs)])
        assert f"'{inputs}' line {line}: {word!r} is not a number" in message


@pytest.mark.parametrize("line", ["0,5;1,25", "0.5;1.25", "0.5;1.25;"])
def test_a_semicolon_separated_line_says_that_semicolons_do_not_separate_numbers(capsys, tmp_path: Path,
                                                                                line: str) -> None:
    model = two_input_model(tmp_path)
    inputs = tmp_path / "export.csv"
    inputs.write_bytes(codecs.BOM_UTF8 + f"0.1 0.2\r\n{line}\r\n".encode())
    message = one_line_error(capsys, ["predict", str(model), "--inputs-file", str(inputs)])
    assert f"'{inputs}' line 2, column 4: a semicolon" in message and "decimal points" in message


@given(rows=st.lists(st.tuples(st.floats(-4, 4), st.floats(-4, 4)), min_size=1, max_size=4),
       separator=st.sampled_from([" ", "\t", ",", ", ", " \t", ",\t"]), end=st.sampled_from(["\n", "\r\n", "\r"]),
       bom=st.booleans(), blank=st.sampled_from(["", "\r\n", "\r\n\r\n", " \t\r\n"]))
def test_windows_inputs_files_give_the_outputs_of_their_numbers(rows, separator: str, end: str, bom: bool,
                                                                blank: str) -> None:
    """CRLF (or old Mac) line ends, a UTF-8 byte order mark, tabs or commas between the numbers, blank lines and a
    trailing comma: the outputs are those of the numbers written, in their order."""
    with tempfile.TemporaryDirectory() as folder:
        model = two_input_model(Path(folder))
        inputs = Path(folder) / "entrées 中文.csv"
        text = blank + end.join(f"{a!r}{separator}{b!r}" + ("," if separator.startswith(",") else "")
                                for a, b in rows) + end + blank
        inputs.write_bytes((codecs.BOM_UTF8 if bom else b"") + text.encode())
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["predict", str(model), "--inputs-file", str(inputs)]) == 0
        printed = [float(line.split("→")[1]) for line in out.getvalue().splitlines()]
        np.testing.assert_allclose(printed, by_hand(model, np.array(rows, dtype=float)), rtol=1e-5, atol=1e-12)


# --- model files -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("prefix", ["model/", "model\\", "./"])
def test_a_model_file_zipped_again_from_its_unpacked_folder_says_so(tmp_path: Path, prefix: str) -> None:
    original = tmp_path / "model.npz"
    nn.MLP([1, 3, 1], rng=0).save(original)
    copy = rezipped(original, tmp_path / "copy.npz", prefix=prefix)
    with pytest.raises(ModelFileError) as refused:
        nn.load(copy)
    message = str(refused.value)
    assert "copy.npz" in message and f"the folder {prefix!r}" in message and "numpy.savez" not in message


@pytest.mark.parametrize("name", ["my model.npz", "modèle été.npz", "模型 中文.npz", "MODEL.NPZ", "trailing .npz",
                                  "é" * 125 + ".npz", "a" * 251 + ".npz"])
def test_a_model_saved_under_a_windows_style_name_loads_bit_for_bit_and_predicts(capsys, tmp_path: Path,
                                                                                  name: str) -> None:
    """Spaces, accents, Chinese, an upper-case suffix, a name of exactly 255 bytes: saved, loaded back bit for bit,
    read by predict, and nothing else left in the folder."""
    model = nn.MLP([2, 3, 1], activation="tanh", output_activation="identity", rng=0)
    path = tmp_path / name
    model.save(path)
    assert os.listdir(tmp_path) == [name]
    assert same_parameters(nn.load(path), model)
    assert main(["predict", str(path), "0.5", "0.25"]) == 0
    printed = float(capsys.readouterr().out.split("→")[1])
    np.testing.assert_allclose(printed, by_hand(path, np.array([[0.5, 0.25]])), rtol=1e-5)


def test_a_failed_save_under_a_name_too_long_leaves_nothing_behind(tmp_path: Path) -> None:
    model = nn.MLP([1, 2, 1], rng=0)
    name = "a" * 252 + ".npz"  # 256 bytes: one more than a file name may hold
    with pytest.raises(OSError, match="save: cannot write .*aaaa.npz'"):
        model.save(tmp_path / name)
    assert os.listdir(tmp_path) == []


REVERSED = slice(None, None, -1)


@pytest.mark.parametrize("how", [dict(compression=zipfile.ZIP_DEFLATED), dict(order=REVERSED), dict(streamed=True),
                                 dict(compression=zipfile.ZIP_DEFLATED, order=REVERSED, streamed=True)])
def test_a_model_file_zipped_again_by_another_tool_loads_bit_for_bit(tmp_path: Path, how: dict) -> None:
    model = nn.MLP([1, 4, 1], rng=0)
    model.save(tmp_path / "model.npz")
    copy = rezipped(tmp_path / "model.npz", tmp_path / "copy.npz", **how)
    assert copy.read_bytes() != (tmp_path / "model.npz").read_bytes()
    assert same_parameters(nn.load(copy), model)


@pytest.mark.parametrize("method, number", [(zipfile.ZIP_BZIP2, 12), (zipfile.ZIP_LZMA, 14)])
def test_a_model_file_zipped_again_with_a_method_not_read_is_refused_naming_file_and_method(tmp_path: Path, method: int,
                                                                                             number: int) -> None:
    nn.MLP([1, 2, 1], rng=0).save(tmp_path / "model.npz")
    copy = rezipped(tmp_path / "model.npz", tmp_path / "copy.npz", compression=method)
    with pytest.raises(ModelFileError, match=rf"copy\.npz'.*compression method {number}; only stored \(0\) and "
                                             r"deflated \(8\)"):
        nn.load(copy)


def test_an_optimizer_state_zipped_again_goes_on_exactly_as_the_original(tmp_path: Path) -> None:
    """Adam's state written with np.savez, zipped again (deflated, another order) on another machine: the next step
    from it is the step the original optimizer takes, bit for bit."""
    inputs, targets = np.linspace(-1, 1, 8).reshape(-1, 1), np.linspace(-1, 1, 8).reshape(-1, 1) ** 2
    model = nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", rng=0)
    adam = optim.Adam(model.parameters(), learning_rate=0.05)

    def step(net: nn.Module, optimizer: optim.Optimizer) -> None:
        optimizer.zero_grad()
        ((net(inputs) - targets) ** 2).mean().backward()
        optimizer.step()

    for _ in range(3):
        step(model, adam)
    model.save(tmp_path / "model.npz")
    np.savez(tmp_path / "adam.npz", **adam.state_dict())
    copy = rezipped(tmp_path / "adam.npz", tmp_path / "adam copy.npz", order=slice(None, None, -1))
    resumed_model = rezipped(tmp_path / "model.npz", tmp_path / "model copy.npz", order=slice(None, None, -1))
    other = nn.load(resumed_model)
    resumed = optim.Adam(other.parameters(), learning_rate=0.05)
    with np.load(copy, allow_pickle=False) as state:
        resumed.load_state_dict(state)
    step(model, adam)
    step(other, resumed)
    assert same_parameters(other, model)
