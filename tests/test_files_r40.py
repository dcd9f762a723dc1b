"""A hardening tester of what reads and writes files (round 40): files load back exactly or fail clearly, naming the
file and what is wrong, and say nothing untrue about it."""

import codecs
import gzip
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu.data import load_digits

_BUNDLED = resources.files("tinygrad_edu") / "datasets" / "digits.csv.gz"


def _plain_digits() -> bytes:
    return gzip.decompress(_BUNDLED.read_bytes())


@pytest.mark.parametrize("encoded", [
    lambda text: codecs.BOM_UTF8 + text,  # Excel's "CSV UTF-8", Notepad's UTF-8
    lambda text: text.decode("ascii").encode("utf-16"),  # Windows PowerShell 5's `Get-Content f > copy`
    lambda text: text.decode("ascii").replace("\n", "\r\n").encode("utf-16-le").join([codecs.BOM_UTF16_LE, b""]),
], ids=["utf-8 bom", "utf-16", "utf-16-le bom crlf"])
def test_load_digits_reads_a_copy_saved_by_a_windows_editor(tmp_path: Path, encoded) -> None:
    """A copy of UCI's optdigits.tes saved by a Windows editor starts with a byte order mark (UTF-8's, or is UTF-16
    with one, as predict --inputs-file takes it): load_digits said it "is damaged, it cannot be read: 'ascii' codec
    can't decode byte 0xef", which it is not; the same 1,797 digits come from it."""
    path = tmp_path / "optdigits.tes"
    path.write_bytes(encoded(_plain_digits()))
    inputs, labels = load_digits(path)
    expected = load_digits()
    assert inputs.dtype == expected.inputs.dtype and labels.dtype == expected.labels.dtype
    np.testing.assert_array_equal(inputs, expected.inputs)
    np.testing.assert_array_equal(labels, expected.labels)


def test_load_digits_of_a_compressed_file_named_without_gz_says_so_not_damaged(tmp_path: Path) -> None:
    """The bundled digits.csv.gz copied as digits.csv (a browser that unpacks nothing but drops the .gz; a copy
    renamed): load_digits said the file "is damaged, it cannot be read: 'ascii' codec can't decode byte 0x8b",
    which it is not; read_idx says of the same mistake that the file is gzip-compressed and to name it *.gz."""
    path = tmp_path / "digits.csv"
    path.write_bytes(_BUNDLED.read_bytes())
    with pytest.raises(ValueError) as info:
        load_digits(path)
    message = str(info.value)
    assert "digits.csv" in message and "gzip" in message and ".gz" in message
    assert "damaged" not in message and "codec" not in message
    renamed = path.rename(tmp_path / "digits.csv.gz")  # the advice works
    np.testing.assert_array_equal(load_digits(renamed).inputs, load_digits().inputs)


def _numbers(model) -> dict:
    return {name: (array.dtype.str, array.shape, array.tobytes()) for name, array in model.state_dict().items()}


def test_a_model_file_cut_short_is_said_to_be_cut_short_and_the_model_is_unchanged(tmp_path: Path) -> None:
    """A model file cut anywhere after its first bytes (a copy or a download stopped early): every load said
    "BadZipFile: File is not a zip file" of a file that starts as one; it says the file is cut short, names it, and
    the model keeps its numbers."""
    from tinygrad_edu import nn

    saved = nn.MLP([2, 3, 1], rng=0)
    good = tmp_path / "model.npz"
    saved.save(good)
    data = good.read_bytes()
    model = nn.MLP([2, 3, 1], rng=1)
    before = _numbers(model)
    cut = tmp_path / "cut.npz"
    for size in [*range(4, len(data), 97), *range(len(data) - 22, len(data))]:
        cut.write_bytes(data[:size])
        for load in (model.load, nn.load, nn.load_state):
            with pytest.raises(ValueError, match=r"'[^']*cut\.npz' is not a readable .*: it is cut short") as info:
                load(cut)
            assert "BadZipFile" not in str(info.value), size
        assert _numbers(model) == before
    assert _numbers(model.load(good)) == _numbers(saved)  # the whole file loads, exactly


def test_an_empty_model_file_is_said_to_be_empty(tmp_path: Path) -> None:
    """An empty file (a save to a full disk by another program, ``touch model.npz``) was said to "lack the zip
    header"; it is empty, and that is what the message says."""
    from tinygrad_edu import nn

    path = tmp_path / "model.npz"
    path.write_bytes(b"")
    model = nn.MLP([1, 2, 1], rng=0)
    before = _numbers(model)
    for load in (model.load, nn.load, nn.load_state):
        with pytest.raises(ValueError, match=r"'[^']*model\.npz' is empty \(0 bytes\)"):
            load(path)
    assert _numbers(model) == before


def test_a_pytorch_file_is_named_as_one_and_its_advice_leads_to_the_numbers(tmp_path: Path) -> None:
    """``torch.save(net.state_dict(), "model.pt")`` writes a zip archive too: loading it said only that its entry
    'model/data.pkl' "is not an .npy array"; it says the file is PyTorch's and how to get its numbers in, advice
    that works: torch.load, then load_state_dict, whose message gives the state to load."""
    torch = pytest.importorskip("torch")
    from tinygrad_edu import nn

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1)).double()
    path = tmp_path / "model.pt"
    torch.save(net.state_dict(), path)
    model = nn.MLP([2, 3, 1], activation="relu", output_activation="identity", rng=0)
    before = _numbers(model)
    for load in (model.load, nn.load, nn.load_state):
        with pytest.raises(ValueError, match=r"'[^']*model\.pt' is not a tinygrad_edu model file but a PyTorch one"
                                             r".*torch\.load\(path\).*model\.load_state_dict") as info:
            load(path)
        assert "is not an .npy array" not in str(info.value)
    assert _numbers(model) == before
    state = torch.load(path)
    with pytest.raises(ValueError, match="transpose of PyTorch's Linear.weight"):
        model.load_state_dict(state)
    model.load_state_dict({"layers.1.weights": state["0.weight"].T, "layers.1.biases": state["0.bias"],
                           "layers.2.weights": state["2.weight"].T, "layers.2.biases": state["2.bias"]})
    x = np.array([[0.5, -1.25], [2.0, 0.75]])
    np.testing.assert_allclose(model(x).data, net(torch.from_numpy(x)).detach().numpy(), rtol=1e-12, atol=1e-15)
