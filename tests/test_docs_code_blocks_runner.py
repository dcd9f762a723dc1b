"""What README.md's code shows, compared with what it does: a reader who runs every block and reads every comment.

tests/test_readme.py executes each ```python block, but compares nothing it prints with what the comments beside
the prints say, checks no file a block names, and runs neither the Results table's numbers nor the prose's pandas
sentence.  Here: each ``print(...)  # shown`` is compared with its comment (numbers from the closed forms where the
comment is a formula), the files of "Seeing the math" are checked, the Results table's rows against the demo's runs,
and two errors a reader meets while following the prose (pandas' ``df @ v``, ``nn.load(open(path))``) say what to
write.
"""

from __future__ import annotations

import math
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import Value, nn
from tinygrad_edu.demo import compare_xsquared

pytestmark = pytest.mark.usefixtures("numpy_default_print_options")  # (texts checked as numpy prints them)

README = Path(__file__).resolve().parent.parent / "README.md"
TEXT = README.read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```python\n(.*?)^```", TEXT, re.MULTILINE | re.DOTALL)


def _block(marker: str) -> str:
    """The one README python block holding ``marker``."""
    found = [block for block in BLOCKS if marker in block]
    assert len(found) == 1, f"README.md has {len(found)} python blocks holding {marker!r}"
    return found[0]


def _run_printing(code: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Run a README block in ``folder``; for every ``print`` call, what it printed and the comment on its line."""
    monkeypatch.chdir(folder)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    lines = code.splitlines()
    printed: list[tuple[str, str]] = []

    def recording_print(*args: Any, **kwargs: Any) -> None:
        line = lines[sys._getframe(1).f_lineno - 1]
        comment = line.split("#", 1)[1].strip() if "#" in line else ""
        printed.append((" ".join(str(arg) for arg in args), comment))

    exec(compile(code, "README.md block", "exec"), {"__name__": "readme", "print": recording_print})
    return printed


def _numbers(text: str) -> list[float]:
    return [float(number) for number in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text.replace("−", "-"))]


def test_the_short_tour_prints_the_gradients_its_comment_gives_as_formulas(tmp_path, monkeypatch):
    """``print(w.grad, b.grad)  # ∂C/∂w = a·σ'(z)·2(α − 1), ∂C/∂b = σ'(z)·2(α − 1)``: the numbers printed are those
    formulas at w = 0.5, a = 2, b = −0.3 (computed here with math), and the gradient check prints an ok report."""
    printed = _run_printing(_block("cost = (alpha - 1.0) ** 2"), tmp_path, monkeypatch)
    (grads, comment), (report, _) = printed
    assert "a·σ'(z)·2(α − 1)" in comment and "σ'(z)·2(α − 1)" in comment
    z = 0.5 * 2.0 - 0.3
    alpha = 1 / (1 + math.exp(-z))
    slope = alpha * (1 - alpha)
    assert _numbers(grads) == pytest.approx([2.0 * slope * 2 * (alpha - 1), slope * 2 * (alpha - 1)], rel=1e-12)
    assert report.startswith("GradientReport(ok, 2 input(s)")


def test_derivatives_of_derivatives_prints_the_18_of_its_comment(tmp_path, monkeypatch):
    """``print(x.grad)  # 18.0``, which is d²(x³)/dx² = 6x at x = 3, printed as its comment writes it."""
    [(printed, comment)] = _run_printing(_block("slope.backward()"), tmp_path, monkeypatch)
    assert comment == "18.0" == printed
    assert float(printed) == 6 * 3.0


def test_the_softmax_and_anomaly_block_prints_its_comments(tmp_path, monkeypatch):
    """``# stable: [[1. 0. 0.]]`` and the anomaly's message, word for word as the comments show them."""
    (softmax, stable), (error, message) = _run_printing(_block("detect_anomaly()"), tmp_path, monkeypatch)
    assert stable.removeprefix("stable: ") == softmax
    assert message == error


def test_the_function_transforms_block_prints_its_comments(tmp_path, monkeypatch):
    """tanh‴(0.5) against its comment's formula −2(1 − tanh²)(1 − 3tanh²) and its "-0.5652..."; the Hessian
    [[6, 0], [0, 2]] and H·v = [6, 2] of p₀³ − 3p₀ + p₁² at (1, 0); the point found ("minimum [1. 0.] [2. 6.]") and
    the saddle, as the comments write them."""
    printed = _run_printing(_block("grad(grad(grad(F.tanh)))"), tmp_path, monkeypatch)
    (third, shown), (hessian, h_comment), (product, v_comment), (found, f_comment), (saddle, s_comment) = printed
    t = math.tanh(0.5)
    assert float(third) == pytest.approx(-2 * (1 - t * t) * (1 - 3 * t * t), rel=1e-12)
    assert shown.endswith("...") and third.startswith(shown.removesuffix("..."))
    assert _numbers(hessian) == _numbers(h_comment.split(":")[0]) == [6, 0, 0, 2]
    assert _numbers(product) == _numbers(v_comment.split(":")[-1]) == [6, 2]
    assert found == f_comment
    assert saddle == s_comment.split(":")[0] == "saddle"
    for name in ("tanh.png", "points.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_the_training_block_saves_a_file_that_loads_back_bit_for_bit(tmp_path, monkeypatch):
    """``same = nn.load("xsquared.npz")  # architecture and weights, bit for bit``: the same parameters, names,
    dtypes and numbers, and the same outputs, as the trained network the block saved."""
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "readme", "print": lambda *args, **kwargs: None}
    exec(compile(_block('nn.load("xsquared.npz")'), "README.md block", "exec"), namespace)
    net, same = namespace["net"], namespace["same"]
    # (an MLP comes back as the Network of its layers: the file keeps the layers, not the class)
    assert isinstance(same, nn.Network) and repr(same).partition("(")[2] == repr(net).partition("(")[2]
    saved, loaded = net.state_dict(), same.state_dict()
    assert list(saved) == list(loaded)
    for name in saved:
        assert loaded[name].dtype == saved[name].dtype and loaded[name].tobytes() == saved[name].tobytes(), name
    x = np.linspace(-1, 1, 7).reshape(-1, 1)
    assert same(x).data.tobytes() == net(x).data.tobytes()


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_seeing_the_math_writes_every_file_it_names(tmp_path, monkeypatch):
    """Every file name in the block of "Seeing the math" is written, not empty; the SVGs are XML holding the labels
    the prose promises (the tree's ∂C/∂α³ = 2(α³ − 1)-style edges, σ′), the player a page of its own."""
    code = _block("viz.backprop_player(cost)")
    _run_printing(code, tmp_path, monkeypatch)
    names = re.findall(r'"(\w+\.(?:svg|png|html))"', code)
    assert len(names) == 8
    for name in names:
        assert (tmp_path / name).stat().st_size > 0, name
    for name in (name for name in names if name.endswith(".svg")):
        ET.parse(tmp_path / name)
    tree = (tmp_path / "tree.svg").read_text(encoding="utf-8")
    assert "∂C/∂α³" in tree and "σ′(z³)" in tree and "∂z³/∂W³ = α²" in tree
    assert (tmp_path / "player.html").read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")


def _results_rows() -> dict[str, list[str]]:
    """The README's table "Results: x² on [−1, 1]": method name (before its parenthesis) → its cells."""
    section = TEXT.split("## Results: x² on [−1, 1]", 1)[1].split("\n## ", 1)[0]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in section.splitlines()
            if line.startswith("| ") and not line.startswith("| method")]
    return {row[0].split(" (")[0]: row for row in rows}


@pytest.mark.parametrize("method", ["random search", "gradient descent", "Armijo", "Newton"])
def test_the_results_table_is_what_the_demo_computes(method):
    """Each row of the Results table (episodes, final cost to 3 digits, the four outputs to 4 decimals) is what
    ``python -m tinygrad_edu demo`` computes for that method with seed 0 (times left out: they are one run's)."""
    row = _results_rows()[method]
    [run] = compare_xsquared(methods=[method])
    assert int(row[1]) == run.episodes
    assert row[2] == f"{run.final_cost:.2e}"
    assert [float(cell.replace("−", "-")) for cell in row[3:7]] == [round(float(y), 4) for y in run.outputs]


# ----------------------------------------------------------------------------------------------- defects found

def test_a_dataframe_on_the_left_of_matmul_is_told_to_write_value_of_it():
    """The README: DataFrames are taken as their numbers in ``Value(df)`` and ``series * v``; ``df * W`` works, but
    ``df @ W`` (a batch times the weights, the seed's forward pass) reaches pandas' own ``dot``, which converts W.
    The error must point to ``Value(df) @ W`` (which keeps W's gradient), not to ``.data`` (which drops it)."""
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"x1": [0.5, -1.0], "x2": [2.0, 0.25]})
    weights = Value(np.array([[1.0, 2.0], [3.0, 4.0]]))
    with pytest.raises(TypeError) as error:
        frame @ weights
    assert "Value(df) @" in str(error.value)
    (Value(frame) @ weights).sum().backward()  # what the message says to write: the gradient reaches W
    assert weights.grad == pytest.approx(np.repeat(frame.to_numpy().sum(axis=0)[:, None], 2, axis=1))


def test_loading_an_open_file_names_the_path_to_give_instead(tmp_path):
    """torch.load takes an open file; here only paths are taken ("a file descriptor is a TypeError"): the error for
    ``nn.load(open(path, "rb"))`` must give that path whole, so it can be pasted."""
    path = tmp_path / "a_model_with_a_name_long_enough_to_be_cut.npz"
    nn.MLP([1, 2, 1], rng=0).save(path)
    with open(path, "rb") as file, pytest.raises(TypeError) as error:
        nn.load(file)
    assert str(path) in str(error.value) and "open file" in str(error.value)
