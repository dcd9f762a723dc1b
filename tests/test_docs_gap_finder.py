"""A newcomer's twelve tasks, done from the README, the docstrings and the examples only: what the docs led to that
did not work (xfail until fixed) and the recipes that did, pinned as the docs write them.

Tasks: train a 2-layer network on x² and plot its cost; draw a graph as PNG; save the backpropagation player; a
custom activation in a Layer; save a model and load it in a new process; check a hand-written gradient; a Hessian
and the kind of a stationary point; Armijo's step sizes; mini-batches with a fixed seed; freezing a layer; the
command line on a CSV file; property tests with the hypothesis strategies.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given

from tinygrad_edu import Op, Value, nn, optim, viz
from tinygrad_edu.autodiff import hessian
from tinygrad_edu.calculus import classify_stationary_point
from tinygrad_edu.cli import main
from tinygrad_edu.data import xsquared
from tinygrad_edu.testing import GradientCheckError, check_gradients, numerical_gradient
from tinygrad_edu.testing.strategies import arrays
from tinygrad_edu.training import fit

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def one_line_error(capsys: pytest.CaptureFixture, argv: list[str]) -> str:
    status = main(argv)
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    return err


# --- (2) a drawing saved as PNG ----------------------------------------------------------------------------------
@needs_dot
def test_drawing_render_with_a_picture_name_writes_that_picture(tmp_path: Path) -> None:
    x = Value(2.0, label="x")
    drawing = viz.draw_graph(x * Value(3.0, label="y") + x.tanh())
    for name, magic in (("graph.png", b"\x89PNG\r\n\x1a\n"), ("graph.svg", b"<?xml"), ("graph.pdf", b"%PDF")):
        written = drawing.render(str(tmp_path / name))
        assert Path(written) == tmp_path / name
        assert (tmp_path / name).read_bytes().startswith(magic), name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.pdf", "graph.png", "graph.svg"]  # nothing beside


@needs_dot
def test_drawing_render_with_graphviz_arguments_is_still_graphviz_s(tmp_path: Path) -> None:
    drawing = viz.draw_graph(Value(2.0, label="x") * 3.0)
    written = drawing.render(str(tmp_path / "source"), format="png")  # graphviz's contract: source + source.png
    assert Path(written) == tmp_path / "source.png"
    assert (tmp_path / "source.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "source").read_text(encoding="utf-8").startswith("digraph")


@needs_dot
def test_readme_render_writes_a_png_of_the_graph(tmp_path: Path) -> None:
    x = Value(2.0, label="x")
    z = x * 3.0
    z.backward()
    written = viz.render(viz.draw_graph(z), tmp_path / "graph.png")
    assert written.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


# --- (11) the command line and a CSV file ------------------------------------------------------------------------
def test_predict_given_a_csv_file_as_a_number_names_inputs_file(capsys: pytest.CaptureFixture,
                                                               tmp_path: Path) -> None:
    model = tmp_path / "m.npz"
    nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", rng=0).save(model)
    data = tmp_path / "data.csv"
    data.write_text("0.1\n0.5\n", encoding="utf-8")
    message = one_line_error(capsys, ["predict", str(model), str(data)])
    assert f"--inputs-file {data}" in message


def test_train_given_a_csv_file_as_data_says_to_train_in_python(capsys: pytest.CaptureFixture) -> None:
    message = one_line_error(capsys, ["train", "--data", "my.csv"])
    assert "only the bundled data" in message and "Python" in message


def test_a_number_that_is_no_file_gets_no_file_hint(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    model = tmp_path / "m.npz"
    nn.MLP([1, 3, 1], rng=0).save(model)
    assert "--inputs-file" not in one_line_error(capsys, ["predict", str(model), "one"])
    assert "Python" not in one_line_error(capsys, ["train", "--data", "mnist"])


def _readme_csv_recipe() -> list[str]:
    """The Python statements of the README's recipe for a CSV file of one's own, as written there."""
    sentence = re.search(r"for a CSV file of\s+your own.*?; then `cut", README, re.DOTALL)
    assert sentence, "the README's Command line section has no recipe for training on a CSV file of one's own"
    return [" ".join(code.split()) for code in re.findall(r"`([^`]+)`", sentence.group(0))
            if "(" in code or "=" in code]


def test_the_readme_csv_recipe_trains_a_model_that_predict_reads(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    x = np.linspace(-1, 1, 41)
    np.savetxt("data.csv", np.column_stack([x, x ** 2]), delimiter=",")
    statements = _readme_csv_recipe()
    assert any("np.loadtxt" in s for s in statements) and any("save(" in s for s in statements)
    program = "import numpy as np\nfrom tinygrad_edu import nn, optim\nfrom tinygrad_edu.training import fit\n"
    program += "\n".join(s.replace("episodes=500)", "episodes=500, progress=False)") for s in statements)
    exec(compile(program, "README.md CSV recipe", "exec"), {})
    inputs = subprocess.run(["cut", "-d,", "-f1", "data.csv"], capture_output=True, text=True, check=True).stdout
    predicted = subprocess.run([sys.executable, "-m", "tinygrad_edu", "predict", "model.npz", "--inputs-file", "-"],
                               input=inputs, capture_output=True, text=True, timeout=120)
    assert predicted.returncode == 0, predicted.stderr
    outputs = [float(line.split("→")[1]) for line in predicted.stdout.splitlines()]
    assert len(outputs) == len(x)  # one sample per line: the target column was left out
    assert np.max(np.abs(np.array(outputs) - x ** 2)) < 0.05  # it learned x²


# --- (5) save, then load in a new process -------------------------------------------------------------------------
def test_a_custom_activation_model_loads_in_a_new_process_bit_for_bit(tmp_path: Path) -> None:
    definition = "def swish(z):\n    return z * z.sigmoid()\n"
    namespace: dict = {}
    exec(definition, namespace)
    model = nn.MLP([1, 6, 1], activation=namespace["swish"], output_activation="identity", rng=0)
    x, y = xsquared(64, seed=0)
    fit(model, x, y, optimizer=optim.Adam(model, learning_rate=0.01), episodes=5, progress=False)
    model.save(tmp_path / "swish.npz")
    probe = np.array([[0.1], [0.5], [-1.0]])
    expected = model(probe).data
    with pytest.raises(ValueError, match="build the model yourself and call model.load"):
        nn.load(tmp_path / "swish.npz")  # the README: an activation of one's own is no name the file can keep
    program = definition + textwrap.dedent(f"""
        import sys
        import numpy as np
        from tinygrad_edu import nn
        model = nn.MLP([1, 6, 1], activation=swish, output_activation="identity")
        model.load({str(tmp_path / "swish.npz")!r})
        np.save(sys.argv[1], model(np.array({probe.tolist()})).data)
    """)
    done = subprocess.run([sys.executable, "-c", program, str(tmp_path / "out.npy")], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert np.array_equal(np.load(tmp_path / "out.npy"), expected)


def test_nn_load_gives_back_a_network_that_computes_as_the_saved_mlp(tmp_path: Path) -> None:
    model = nn.MLP([2, 3, 1], activation="tanh", output_activation="identity", init="xavier", rng=1)
    model.save(tmp_path / "m.npz")
    same = nn.load(tmp_path / "m.npz")
    assert type(same) is nn.Network  # as the README now says: an MLP comes back as a Network
    probe = np.array([[0.3, -0.7], [1.0, 2.0]])
    assert np.array_equal(same(probe).data, model(probe).data)


# --- (6) a hand-written gradient ----------------------------------------------------------------------------------
def test_a_hand_written_gradient_agrees_with_the_testing_module() -> None:
    def swish_slope(x):  # d/dx x·σ(x) = σ(x) + x·σ(x)(1 − σ(x)), by hand
        s = 1 / (1 + np.exp(-x))
        return s + x * s * (1 - s)

    x = np.array([-2.0, -0.3, 0.0, 0.7, 3.0])
    numeric = numerical_gradient(lambda v: (v * v.sigmoid()).sum(), Value(x))[0]  # Values, as its doc says
    assert np.allclose(numeric, swish_slope(x), rtol=1e-7, atol=1e-9)
    swish = Op("swish", lambda z: z / (1 + np.exp(-z)), lambda g, out, z: g * swish_slope(z))
    assert check_gradients(swish, x).elements == 5
    wrong = Op("swish_wrong", lambda z: z / (1 + np.exp(-z)), lambda g, out, z: g * out * (1 - out))
    with pytest.raises(GradientCheckError, match="swish_wrong"):
        check_gradients(lambda v: wrong(v).sum(), x)


# --- (7) a Hessian and the kind of a stationary point -------------------------------------------------------------
def test_hessian_and_classification_of_a_saddle() -> None:
    f = lambda p: p[0] ** 2 * p[1] - p[1] ** 3 / 3 + p[1]  # noqa: E731  ∇f = (2xy, x² − y² + 1)
    point = [1.0, 0.0]  # ∇f = (0, 0); H = [[2y, 2x], [2x, −2y]] = [[0, 2], [2, 0]]
    H = hessian(f)(point).data
    assert np.allclose(H, [[0.0, 2.0], [2.0, 0.0]], atol=1e-12)
    with pytest.raises(ValueError, match="eigvalsh"):  # the Hessian itself: the error says what to give
        classify_stationary_point(H)
    assert classify_stationary_point(np.linalg.eigvalsh(H)) == "saddle"


# --- (8) Armijo's step sizes --------------------------------------------------------------------------------------
def test_armijo_step_sizes_read_as_the_docstring_says() -> None:
    p = Value(np.array([-1.5, 0.8]))
    f = lambda v: v[0] ** 2 + 10 * v[1] ** 2  # noqa: E731
    opt = optim.Armijo([p], sigma=1e-4, alpha=0.5)
    x = p.data.copy()
    opt.step(lambda: f(p))
    gradient = np.array([2 * x[0], 20 * x[1]])
    t, backtracks = opt.last_step_size, opt.last_backtracks
    assert backtracks >= 1 and t == 0.5 ** backtracks
    assert np.allclose(p.data, x - t * gradient)
    phi = lambda s: float(f(Value(x - s * gradient)).item())  # noqa: E731
    assert phi(t) <= f(Value(x)).item() - 1e-4 * t * gradient @ gradient  # the condition holds at t
    assert phi(2 * t) > f(Value(x)).item() - 1e-4 * 2 * t * gradient @ gradient  # and not at the step before
    assert [trial for trial, _ in opt.last_trials] == [0.5 ** k for k in range(backtracks + 1)]


def test_fit_history_step_size_is_armijo_s_accepted_step() -> None:
    x, y = xsquared(40, seed=0)
    model = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    opt = optim.Armijo(model)
    steps = []
    for _ in range(3):
        history = fit(model, x, y, optimizer=opt, episodes=1, progress=False)
        steps.append(opt.last_step_size)
        assert history.step_size == [opt.last_step_size]
    assert all(0 < t <= 1 for t in steps)


# --- (9) mini-batches and a fixed seed, (10) a frozen layer -------------------------------------------------------
def _trained(seed, episodes: int, calls: int = 1) -> np.ndarray:
    x, y = xsquared(60, seed=0)
    model = nn.MLP([1, 5, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    opt = optim.Adam(model, learning_rate=0.01)
    for _ in range(calls):
        fit(model, x, y, optimizer=opt, episodes=episodes, batch_size=16, seed=seed, progress=False)
    return np.concatenate([p.data.ravel() for p in model.parameters()])


def test_mini_batches_with_a_fixed_seed_repeat_and_a_generator_goes_on() -> None:
    assert np.array_equal(_trained(0, 3), _trained(0, 3))
    assert not np.array_equal(_trained(0, 3), _trained(1, 3))  # the seed decides the order
    whole = _trained(np.random.default_rng(5), 4)
    assert np.array_equal(_trained(np.random.default_rng(5), 2, calls=2), whole)  # fit's docstring: a Generator


def test_a_frozen_layer_stays_as_it_was_and_loads_frozen(tmp_path: Path) -> None:
    x, y = xsquared(40, seed=0)
    model = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    model[0].requires_grad_(False)
    first, second = model[0].weights.data.copy(), model[1].weights.data.copy()
    fit(model, x, y, optimizer=optim.Adam(model, learning_rate=0.05), episodes=3, progress=False)
    assert np.array_equal(model[0].weights.data, first)
    assert not np.array_equal(model[1].weights.data, second)
    model.save(tmp_path / "frozen.npz")
    loaded = nn.load(tmp_path / "frozen.npz")
    assert [name for name, _ in loaded.named_parameters()] == ["layers.2.weights", "layers.2.biases"]


# --- (12) property tests of one's own function --------------------------------------------------------------------
def softsign(v: Value) -> Value:
    return v / (1 + abs(v))


@given(arrays(avoid=(0.0,)))
def test_softsign_gradient_with_the_strategies(x: np.ndarray) -> None:
    check_gradients(softsign, x)  # a non-scalar output: every element at once, with a random upstream gradient
    report = check_gradients(lambda v: softsign(v).sum(), x)
    assert report.elements == x.size
    assert np.allclose(report.analytic[0], 1 / (1 + np.abs(x)) ** 2, rtol=1e-12, atol=0)  # the closed form


@given(arrays(shape=(3,), avoid=(0.0,)))
def test_a_wrong_hand_written_vjp_is_caught_on_every_draw(x: np.ndarray) -> None:
    wrong = Op("softsign_wrong", lambda z: z / (1 + np.abs(z)), lambda g, out, z: g / (1 + np.abs(z)))  # not squared
    with pytest.raises(GradientCheckError, match="softsign_wrong"):
        check_gradients(lambda v: wrong(v).sum(), x)
