"""A long Jupyter session: modules reloaded with ``importlib.reload`` between cells, objects made before a reload used
after it.  Each scenario runs in a fresh Python (a reload here would change the classes every other test sees)."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_cells(code: str) -> str:
    """Run ``code`` (the cells of a notebook, one after the other) in a fresh Python importing this checkout; its
    stdout.  A cell's error is printed by the code itself, as ``ERR <type>: <message>``."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return done.stdout


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("ERR ")]


def test_a_value_from_before_a_reload_of_the_engine_is_refused_naming_the_reload():
    output = run_cells("""
        import importlib
        import numpy as np
        import tinygrad_edu.engine as engine
        from tinygrad_edu import functional as F
        x = engine.Value(np.array([1.0, 2.0]), label="x")        # cell 1
        importlib.reload(engine)                                # cell 2
        for cell in (lambda: x + x, lambda: engine.Value(1.0) * x, lambda: engine.Value(x),
                     lambda: F.stack([engine.Value(1.0), x])):  # cells 3-6
            try:
                cell()
                print("no error")
            except TypeError as error:
                print("ERR TypeError:", error)
    """)
    errors = error_lines(output)
    assert len(errors) == 4, output
    for line in errors:
        assert "reload" in line, line
        assert "holding Values" not in line and "F.stack" not in line, line
    assert errors[0].startswith("ERR TypeError: add:") and errors[1].startswith("ERR TypeError: mul:"), output


def test_a_module_from_before_a_reload_of_nn_is_refused_naming_the_reload():
    output = run_cells("""
        import importlib
        from tinygrad_edu import nn, optim
        class Net(nn.Module):                     # cell 1, the class of the notebook
            def __init__(self):
                self.layer = nn.Layer(1, 1, rng=0)
            def forward(self, x):
                return self.layer(x)
        model = nn.MLP([1, 4, 1], rng=0)          # cell 2
        print("before", len(Net().parameters()), len(model.parameters()))
        importlib.reload(nn)                      # cell 3
        for cell in (lambda: Net().parameters(), lambda: model.parameters(), lambda: optim.Adam(Net()),
                     lambda: model.state_dict(), lambda: nn.MLP([1, 1], rng=0).load_state_dict(model.state_dict())):
            try:
                print("no error", cell())
            except (TypeError, ValueError) as error:
                print(f"ERR {type(error).__name__}:", error)
    """)
    assert output.splitlines()[0] == "before 2 4", output
    errors = error_lines(output)
    assert len(errors) == 5, output
    for line in errors:
        assert line.startswith("ERR TypeError:") and "reload" in line, line


def test_a_reload_of_the_package_keeps_its_values_and_networks_working():
    """``importlib.reload(tinygrad_edu)`` (the package, not its modules) re-binds the same classes: a Value and a
    network from before it still mix with ones made after, and the gradient is the closed form's."""
    output = run_cells("""
        import importlib
        import numpy as np
        import tinygrad_edu
        x = tinygrad_edu.Value(np.array([0.5, -1.5]))
        net = tinygrad_edu.nn.MLP([2, 3, 1], rng=0)
        importlib.reload(tinygrad_edu)
        print(isinstance(x, tinygrad_edu.Value), len(tinygrad_edu.optim.Adam(net).params))
        y = (tinygrad_edu.Value(np.array([2.0, 3.0])) * x * x).sum()
        y.backward()
        print(*x.grad)
    """)
    first, second = output.splitlines()
    assert first == "True 4"  # two layers, each a weight matrix and a bias vector
    assert [float(g) for g in second.split()] == [2 * 2.0 * 0.5, 2 * 3.0 * -1.5]


def test_a_reload_of_ops_keeps_gradients_right_on_graphs_from_before_and_after():
    """``importlib.reload(tinygrad_edu.ops)`` makes new Op objects (the engine's fast paths know the old ones): a graph
    recorded before it and one recorded after it both differentiate to the closed forms."""
    output = run_cells("""
        import importlib
        import numpy as np
        import tinygrad_edu.ops as ops
        from tinygrad_edu import Value
        x = Value(np.array([0.3, 2.0]))
        before = (x * x * 3.0 + x.exp()).sum()
        importlib.reload(ops)
        after = (x * x * 3.0 + x.exp()).sum()
        after.backward()
        print(*x.grad)
        x.grad = None
        before.backward()
        print(*x.grad)
    """)
    expected = [6 * 0.3 + float(__import__("math").exp(0.3)), 6 * 2.0 + float(__import__("math").exp(2.0))]
    for line in output.splitlines():
        assert [float(g) for g in line.split()] == pytest.approx(expected, rel=1e-12)
