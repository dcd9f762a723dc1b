"""The package from a code base checked with ``mypy --strict``: a training script written the README's way checks
with no error, correct calls the docstrings show are not refused by a too narrow annotation, and mistakes the package
refuses at run time (scikit-learn's and PyTorch's names, misspelt attributes) are errors for the checker too.

The files checked are in tests/data/mypy_strict_user/; mypy runs once for all of them (a few seconds), against this
checkout of the package, and each test reads the errors of its own file.  Every file is also run, or its calls made,
so that what the annotations promise is what happens.
"""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Value, nn, optim
from tinygrad_edu.data import batches, load_digits, one_hot, train_test_split
from tinygrad_edu.optim import armijo_step

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "mypy_strict_user"
FILES = ("training_script", "array_likes", "armijo_value_cost", "mistakes")
MARK = re.compile(r"#\s*error:\s*(\w+)")


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[int, str]]]:
    """``(line, message)`` of each error mypy --strict reports, by file (one run for all)."""
    api = pytest.importorskip("mypy.api")
    folder = tmp_path_factory.mktemp("mypy_strict_user")
    config = folder / "mypy.ini"  # this checkout of the package, not an installed one
    config.write_text(f"[mypy]\nmypy_path = {ROOT}\ncache_dir = {folder / 'cache'}\n")
    stdout, stderr, _ = api.run(["--strict", "--config-file", str(config), "--python-version", "3.11",
                                 "--no-error-summary", "--show-error-codes",
                                 *(str(DATA / f"{name}.py") for name in FILES)])
    assert not stderr, stderr
    errors: dict[str, list[tuple[int, str]]] = {name: [] for name in FILES}
    for line in stdout.splitlines():
        path, number, kind, message = (line.split(":", 3) + ["", "", ""])[:4]
        if kind.strip() == "error" and Path(path).resolve().parent == DATA:
            errors[Path(path).stem].append((int(number), message.strip()))
    return errors


def _marked(section: str) -> set[int]:
    """The lines of mistakes.py marked ``# error: <section>``."""
    lines = (DATA / "mistakes.py").read_text().splitlines()
    return {number for number, text in enumerate(lines, 1) if (found := MARK.search(text)) and found[1] == section}


def _flagged(errors: list[tuple[int, str]], lines: set[int]) -> set[int]:
    return {number for number, message in errors if number in lines and "[attr-defined]" in message}


# --- correct code checks ---------------------------------------------------------------------------------------

def test_a_typed_training_script_checks_with_no_error(mypy_errors: dict[str, list[tuple[int, str]]]) -> None:
    assert mypy_errors["training_script"] == []


@pytest.mark.skipif(sys.version_info < (3, 11), reason="the script imports typing.assert_type (Python 3.11)")
def test_the_typed_training_script_runs(tmp_path: Path) -> None:
    """Each ``assert isinstance(assert_type(expr, T), T)`` there holds at run time too."""
    run = runpy.run_path(str(DATA / "training_script.py"))["run"]
    slope = run(tmp_path)
    z = 0.5 * 2.0 - 0.3  # ∂/∂w (σ(2w + b) − 1)² = 2(σ(z) − 1)·σ(z)(1 − σ(z))·2 at w = 0.5, b = −0.3
    s = 1 / (1 + np.exp(-z))
    assert slope == pytest.approx(2 * (s - 1) * s * (1 - s) * 2, rel=1e-12)
    assert (tmp_path / "net.npz").is_file()


def test_the_data_functions_take_lists_for_the_checker(mypy_errors: dict[str, list[tuple[int, str]]]) -> None:
    assert mypy_errors["array_likes"] == []


def test_the_data_functions_take_lists_at_run_time() -> None:
    targets = one_hot([9])
    assert targets.shape == (1, 10) and targets[0, 9] == 1.0 and targets.sum() == 1.0
    train, test = train_test_split([[0.0], [1.0], [2.0], [3.0]], [0, 1, 0, 1], test_fraction=0.25, seed=0)
    assert len(train.inputs) == 3 and len(test.inputs) == 1
    assert sorted(np.concatenate([train.inputs, test.inputs]).ravel().tolist()) == [0.0, 1.0, 2.0, 3.0]
    pairs = list(batches([[0.0], [1.0], [2.0]], [[0.0], [1.0], [4.0]], batch_size=2, shuffle=False))
    assert [x.ravel().tolist() for x, _ in pairs] == [[0.0, 1.0], [2.0]]
    assert all(np.array_equal(y, x ** 2) for x, y in pairs)


def test_armijo_step_takes_a_cost_as_a_value_for_the_checker(mypy_errors: dict[str, list[tuple[int, str]]]) -> None:
    assert mypy_errors["armijo_value_cost"] == []


def test_armijo_step_takes_a_cost_as_a_value_at_run_time() -> None:
    """φ(t) = (1 − 2t)² along d = −∇f(1) = −2 with σ = 1/4: t = 1 gives 1 > 1 − 1, t = 1/2 gives 0 ≤ 1 − 1/2."""
    for f in (lambda p: (Value(p) ** 2).sum(), lambda p: np.asarray(p @ p), lambda p: float(p @ p)):
        found = armijo_step(f, np.array([1.0]), np.array([2.0]), sigma=0.25, alpha=0.5)
        assert found.step == 0.5 and found.trials == [(1.0, 1.0), (0.5, 0.0)]


# --- mistakes the package refuses are errors for the checker too -------------------------------------------------

def test_a_datasets_missing_attribute_is_a_checker_error(mypy_errors: dict[str, list[tuple[int, str]]]) -> None:
    lines = _marked("dataset")
    assert len(lines) == 2 and _flagged(mypy_errors["mistakes"], lines) == lines


def test_a_datasets_missing_attribute_is_a_run_time_error() -> None:
    digits = load_digits()
    with pytest.raises(AttributeError, match=r"\.target.*\.labels"):
        _ = digits.target  # type: ignore[attr-defined]  # (the mistake itself)
    with pytest.raises(AttributeError, match=r"\.data.*\.inputs"):
        _ = digits.data  # type: ignore[attr-defined]


def test_an_optimizers_unknown_setting_is_a_checker_error(mypy_errors: dict[str, list[tuple[int, str]]]) -> None:
    lines = _marked("optimizer")
    assert len(lines) == 2 and _flagged(mypy_errors["mistakes"], lines) == lines


def test_an_optimizers_unknown_setting_is_a_run_time_error() -> None:
    opt = optim.SGD(nn.MLP([2, 1], rng=0), learning_rate=0.1)
    for name in ("lr", "learnin_rate"):
        with pytest.raises(AttributeError, match="learning_rate"):
            setattr(opt, name, 0.5)
    opt.learning_rate = 0.01  # a setting is still set, and checked
    assert opt.learning_rate == 0.01
    with pytest.raises(ValueError):
        opt.learning_rate = -1.0


def test_a_models_misspelt_attribute_is_a_checker_error(mypy_errors: dict[str, list[tuple[int, str]]]) -> None:
    lines = _marked("module")
    assert len(lines) == 2 and _flagged(mypy_errors["mistakes"], lines) == lines


def test_a_models_attributes_are_still_checked_at_run_time() -> None:
    """What Module.__setattr__ and Layer.__setattr__ refuse, they still refuse."""
    model = nn.MLP([2, 1], rng=0)
    with pytest.raises(TypeError, match="would hide"):
        model.parameters = [model.layers[0].weights]  # type: ignore[method-assign, assignment]
    with pytest.raises(TypeError):
        model.layers[0].weights = np.zeros((2, 1))  # type: ignore[assignment]
    new = Value(np.full((2, 1), 0.25))
    model.layers[0].weights = new
    assert model.layers[0].weights is new and new.label == "W^1"
    assert model.parameters()[0] is new


def test_no_other_line_of_the_mistakes_is_an_error(mypy_errors: dict[str, list[tuple[int, str]]]) -> None:
    marked = _marked("dataset") | _marked("optimizer") | _marked("module")
    assert [(number, message) for number, message in mypy_errors["mistakes"] if number not in marked] == []
