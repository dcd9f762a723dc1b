"""The package as a typed library: idiomatic user code type-checks under ``mypy --strict`` and the types it is
given are the precise ones (not Any), so that the checker catches the user's mistakes.

Every snippet below is checked in one run of mypy (a few seconds), against this checkout of the package; each test
then reads the errors of its own snippet (``assert_type`` fails on a type that is Any or imprecise).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Value, no_grad

ROOT = Path(__file__).resolve().parents[1]

SNIPPETS = {
    "value_properties": """
        import numpy as np
        from typing import Any, assert_type
        from tinygrad_edu import Value

        v = Value([1.0, 2.0])
        assert_type(v.data, np.ndarray)
        assert_type(v.shape, tuple[int, ...])
        assert_type(v.ndim, int)
        assert_type(v.size, int)
        assert_type(v.dtype, np.dtype)
        assert_type(v.op, str | None)
        assert_type(v.op_params, dict[str, Any])
        v.data = [3.0, 4.0]
        rows: int = v.shape[0]
    """,
    "grad_modes": """
        from typing import assert_type
        import tinygrad_edu as tg
        from tinygrad_edu import Value

        @tg.no_grad()
        def evaluate(z: Value, scale: float) -> Value:
            return z * scale

        @tg.no_grad
        def evaluate_bare(z: Value) -> Value:
            return z * 2

        @tg.enable_grad()
        def recorded(z: Value) -> Value:
            return z * 2

        assert_type(evaluate(Value(1.0), 2.0), Value)
        assert_type(evaluate_bare(Value(1.0)), Value)
        assert_type(recorded(Value(1.0)), Value)
        assert_type(tg.no_grad(), tg.no_grad)
        with tg.detect_anomaly() as block:
            assert_type(block, tg.detect_anomaly)
    """,
    "module_self": """
        from typing import assert_type
        from tinygrad_edu import nn

        model = nn.MLP([2, 3, 1], rng=0)
        assert_type(model.eval(), nn.MLP)
        assert_type(model.train(), nn.MLP)
        assert_type(model.float(), nn.MLP)
        assert_type(model.double(), nn.MLP)
        assert_type(model.requires_grad_(False), nn.MLP)
        assert_type(model.apply(lambda m: None), nn.MLP)
        assert_type(model.load("weights.npz"), nn.MLP)
        sizes: list[int] = nn.MLP([2, 1]).eval().sizes
    """,
    "round_value": """
        from typing import assert_type
        from tinygrad_edu import Value

        v = Value(2.6)
        assert_type(round(v), int)
        assert_type(round(v, 2), float)
        steps: list[int] = list(range(round(v)))
    """,
    "array_on_the_left": """
        import numpy as np
        import numpy.typing as npt
        from typing import assert_type
        from tinygrad_edu import Value

        w = Value(np.arange(3.0))
        a: npt.NDArray[np.float64] = np.ones(3)
        assert_type(a + w, Value)
        assert_type(a - w, Value)
        assert_type(a * w, Value)
        assert_type(a / w, Value)
        assert_type(np.ones((3, 3)) @ w, Value)
        total = (a * w).sum()
        total.backward()
    """,
    "autodiff_transforms": """
        from typing import assert_type
        from tinygrad_edu import Value, autodiff

        def cost(w: Value, b: Value) -> Value:
            return (w * 2.0 + b - 1.0) ** 2

        slope = autodiff.grad(cost)(1.0, 0.0)
        assert_type(slope, Value)
        assert_type(autodiff.grad(cost, argnums=(0, 1))(1.0, 0.0), tuple[Value, ...])
        value, gradient = autodiff.value_and_grad(cost)(1.0, 0.0)
        assert_type(value, Value)
        assert_type(gradient, Value)
        value, (dw, db) = autodiff.value_and_grad(cost, argnums=(0, 1))(1.0, 0.0)
        assert_type(dw, Value)
    """,
    "strategies": """
        import numpy as np
        from typing import assert_type
        from hypothesis import strategies as st
        from tinygrad_edu import Value
        from tinygrad_edu.testing import strategies as tst
        from tinygrad_edu.testing.expressions import Expression

        assert_type(tst.shapes(max_dims=2), st.SearchStrategy[tuple[int, ...]])
        assert_type(tst.broadcastable_shapes(2), st.SearchStrategy[tuple[tuple[int, ...], ...]])
        assert_type(tst.matmul_shapes(), st.SearchStrategy[tuple[tuple[int, ...], ...]])
        assert_type(tst.arrays((2,)), st.SearchStrategy[np.ndarray])
        assert_type(tst.arrays_for(tst.matmul_shapes()), st.SearchStrategy[tuple[np.ndarray, ...]])
        assert_type(tst.values((2,)), st.SearchStrategy[Value])
        assert_type(tst.expressions(), st.SearchStrategy[Expression])
    """,
    "training_script": """
        import numpy as np
        from tinygrad_edu import History, Value, fit, losses, nn, optim
        from tinygrad_edu.data import batches, load_digits, train_test_split

        train, test = train_test_split(*load_digits(), test_fraction=0.25, seed=3)
        x_train, y_train = train
        model = nn.MLP([64, 16, 10], activation="relu", rng=0)
        opt = optim.SGD(model.parameters(), learning_rate=1, momentum=0.9)
        history: History = fit(model, x_train, y_train, cost=losses.cross_entropy, optimizer=opt, episodes=1,
                               batch_size=32, progress=False)
        last: float = history.cost[-1]
        for xb, yb in batches(test.inputs, test.labels, 16, shuffle=False):
            cost: Value = losses.cross_entropy(model(xb), yb)
            number: float = cost.item()
        armijo = optim.Armijo(model.parameters())

        def closure() -> Value:
            armijo.zero_grad()
            c = losses.cross_entropy(model(x_train), y_train)
            c.backward()
            return c

        armijo.step(closure)
        model.load_state_dict(model.state_dict())
        opt.load_state_dict(opt.state_dict())
    """,
}


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """The errors mypy --strict reports in each snippet, by snippet name (one run for all)."""
    api = pytest.importorskip("mypy.api")
    folder = tmp_path_factory.mktemp("typed_user")
    for name, source in SNIPPETS.items():
        (folder / f"{name}.py").write_text(textwrap.dedent(source))
    config = folder / "mypy.ini"  # this checkout of the package, not an installed one
    config.write_text(f"[mypy]\nmypy_path = {ROOT}\ncache_dir = {folder / 'cache'}\n")
    stdout, stderr, _ = api.run(["--strict", "--config-file", str(config), "--python-version", "3.11",
                                 "--no-error-summary", *(str(folder / f"{name}.py") for name in SNIPPETS)])
    assert not stderr, stderr
    errors: dict[str, list[str]] = {name: [] for name in SNIPPETS}
    for line in stdout.splitlines():
        if ": error:" in line:
            errors.setdefault(Path(line.split(":")[0]).stem, []).append(line)
    unexpected = {name: found for name, found in errors.items() if name not in SNIPPETS}
    assert not unexpected, f"errors outside the snippets (in the package?): {unexpected}"
    return errors


def test_a_typed_training_script_checks(mypy_errors: dict[str, list[str]]) -> None:
    assert mypy_errors["training_script"] == []


def test_value_properties_have_their_types(mypy_errors: dict[str, list[str]]) -> None:
    assert mypy_errors["value_properties"] == []


def test_grad_modes_keep_the_decorated_signature(mypy_errors: dict[str, list[str]]) -> None:
    assert mypy_errors["grad_modes"] == []


def test_module_methods_return_their_own_type(mypy_errors: dict[str, list[str]]) -> None:
    assert mypy_errors["module_self"] == []


def test_round_of_a_value_is_an_int(mypy_errors: dict[str, list[str]]) -> None:
    assert mypy_errors["round_value"] == []


def test_an_array_on_the_left_gives_a_value(mypy_errors: dict[str, list[str]]) -> None:
    assert mypy_errors["array_on_the_left"] == []


def test_autodiff_transforms_say_what_they_return(mypy_errors: dict[str, list[str]]) -> None:
    assert mypy_errors["autodiff_transforms"] == []


def test_strategies_say_what_they_draw(mypy_errors: dict[str, list[str]]) -> None:
    assert mypy_errors["strategies"] == []


def test_the_annotations_match_what_happens() -> None:
    """What the snippets claim, at run time: an array on the left gives a Value, round gives an int, a Value is
    still refused as an array, and a decorated function keeps working."""
    w = Value(np.arange(3.0))
    assert isinstance(np.ones(3) + w, Value) and isinstance(np.ones((3, 3)) @ w, Value)
    assert type(round(Value(2.6))) is int and type(round(Value(2.6), 1)) is float
    with pytest.raises(TypeError, match="not converted to a numpy array"):
        np.asarray(w)
    assert isinstance(w.shape, tuple) and isinstance(w.data, np.ndarray) and w.op is None
    assert isinstance(no_grad(), no_grad)
    assert no_grad(lambda x: x * 2)(w).op is None
