"""Round 38, the late review (5277c37..HEAD): what the round's later changes left wrong, each checked against central
differences in float64 or a closed form.

* ``where``, made one Op with its condition as a setting (ops.select, which cast the condition to booleans, is
  gone): its forward read a condition of numbers as numpy does (not 0: holds), but its vjps multiplied the gradient
  by the numbers themselves (2·g, −1·g; ``~`` of an int flips its bits: −3·g) and raised on a list, a bare
  "bad operand type for unary ~" from inside the backward pass.
* ``load_mnist(root, download=True)`` with the split's files gzip-compressed under the dotted names this round taught
  it (``train-images.idx3-ubyte.gz``): it took them for missing, as it takes its own ``.gz`` files (which
  download_mnist checks against their checksums), and fetched the files again, failing offline, where
  ``download=False`` read them.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from helpers_gradients import central_difference

from tinygrad_edu import Value, data
from tinygrad_edu import functional as F
from tinygrad_edu.ops import BUILT_IN

WHERE = BUILT_IN["where"]  # (the built-in Op, as a drawing or an Op of one's own reaches it)


@pytest.mark.parametrize("condition", [np.array([2, 0, -1]), np.array([0.5, 0.0, -3.0]), [1, 0, 1],
                                       [True, False, True], np.array([[True], [False]])],
                         ids=["ints", "floats", "list", "list of bools", "broadcast"])
def test_the_built_in_where_sends_each_gradient_to_the_side_its_forward_chose(condition) -> None:
    a0, b0 = np.array([1.0, -2.0, 3.0]), np.array([4.0, 5.0, -6.0])
    weights = np.random.default_rng(0).normal(size=np.broadcast_shapes(np.shape(condition), a0.shape))

    def cost(a, b):  # (on arrays: the Op's forward alone)
        return float((WHERE(a, b, condition=condition) * weights).sum())

    a, b = Value(a0.copy()), Value(b0.copy())
    (WHERE(a, b, condition=condition) * weights).sum().backward()
    np.testing.assert_allclose(a.grad, central_difference(lambda x: cost(x, b0), a0), atol=1e-8)
    np.testing.assert_allclose(b.grad, central_difference(lambda y: cost(a0, y), b0), atol=1e-8)


def test_the_built_in_where_with_a_condition_of_numbers_agrees_with_f_where() -> None:
    """F.where casts the condition to booleans before the Op sees it; the Op itself reads it the same way, so the two
    give the same numbers and gradients (closed forms: 2a where a² was chosen, 3b² where b³ was)."""
    condition = np.array([3, 0, -2])
    results = []
    for where in (lambda a, b: WHERE(a, b, condition=condition), lambda a, b: F.where(condition, a, b)):
        a, b = Value(np.array([1.0, -2.0, 3.0])), Value(np.array([4.0, 5.0, -6.0]))
        out = where(a * a, b * b * b).sum()
        out.backward()
        results.append((out.item(), a.grad, b.grad))
    for value, a_grad, b_grad in results:
        assert value == 1.0 + 125.0 + 9.0
        np.testing.assert_array_equal(a_grad, [2.0, 0.0, 6.0])
        np.testing.assert_array_equal(b_grad, [0.0, 75.0, 0.0])


def _idx(values: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes holding ``values``."""
    return bytes([0, 0, 8, values.ndim]) + b"".join(n.to_bytes(4, "big") for n in values.shape) + values.tobytes()


@pytest.mark.parametrize("layout", ["dotted .gz", "dotted", "own name", "folder"])
def test_load_mnist_with_download_reads_the_files_it_finds_under_another_name(tmp_path: Path, monkeypatch,
                                                                                layout: str) -> None:
    rng = np.random.default_rng(1)
    pixels, digits = rng.integers(0, 256, (3, 28, 28), dtype=np.uint8), np.array([7, 0, 4], dtype=np.uint8)
    for stem, values in zip(data.MNIST_FILES["train"], (pixels, digits)):
        dotted = stem.replace("-idx", ".idx", 1)
        path = {"dotted .gz": tmp_path / f"{dotted}.gz", "dotted": tmp_path / dotted, "own name": tmp_path / stem,
                "folder": tmp_path / stem / stem}[layout]
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(gzip.compress(_idx(values)) if layout == "dotted .gz" else _idx(values))

    def offline(*args, **kwargs):
        raise AssertionError(f"download_mnist called with {args}: the files are there")

    monkeypatch.setattr(data, "download_mnist", offline)
    inputs, labels = data.load_mnist(tmp_path, download=True)
    np.testing.assert_array_equal(labels, [7, 0, 4])
    np.testing.assert_array_equal(np.rint(inputs * 255), pixels.reshape(3, 784))


def test_load_mnist_with_download_still_checks_its_own_gz_files(tmp_path: Path, monkeypatch) -> None:
    """Guard: the .gz files of download_mnist's own names go to it (it checks them against their checksums)."""
    for stem in data.MNIST_FILES["train"]:
        (tmp_path / f"{stem}.gz").write_bytes(b"")
    called = []
    monkeypatch.setattr(data, "download_mnist", lambda *args, **kwargs: called.append(args) or [])
    with pytest.raises(ValueError):  # (the empty files, which the stand-in left as they were)
        data.load_mnist(tmp_path, download=True)
    assert len(called) == 1
