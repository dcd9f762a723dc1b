"""A maintainer regenerating the README's figures with scripts/make_readme_figures.py: the script says what it wrote
only when it wrote it, the plots are the same bytes run after run, and each caption's claims hold for the
numbers behind its picture (computed here with numpy, gradients by central differences)."""

import importlib.util
import os
import re
import shutil
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def script():
    """scripts/make_readme_figures.py as a module (its functions, without running main)."""
    spec = importlib.util.spec_from_file_location("make_readme_figures", ROOT / "scripts" / "make_readme_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _chromium() -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("the player's screenshot needs Chromium")
    return browser


def test_a_screenshot_chromium_did_not_write_is_not_reported_as_written(script, tmp_path: Path,
                                                                        monkeypatch) -> None:
    # Chromium exits with 0 when it cannot write the screenshot (seen with a folder in the picture's place); a
    # browser that does nothing at all stands in for it here
    fake = tmp_path / "bin" / "chromium"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'could not write the screenshot' >&2\nexit 0\n")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    out = tmp_path / "images"
    out.mkdir()
    (out / "backprop_player.png").write_bytes(b"the picture of an earlier run")
    with pytest.raises(SystemExit) as stopped:
        script.player_screenshot(out)
    assert "backprop_player.png" in str(stopped.value) and "could not write the screenshot" in str(stopped.value)
    assert (out / "backprop_player.png").read_bytes() == b"the picture of an earlier run"  # not replaced by nothing


def test_help_names_every_picture_the_script_makes(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    shown = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_readme_figures.py"), "--help"],
                           capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr
    description = " ".join(shown.stdout.split("\n\n")[1].split())
    assert description.endswith("."), description  # a whole sentence
    for name in ("dependency_tree.svg", "backprop_player.png", "cost_history.png", "stationary_points.png"):
        assert name in description, (name, description)


def _node_texts(svg: Path) -> dict[str, list[str]]:
    """The lines of every node of a Graphviz SVG, by the node's first line (its name)."""
    nodes = {}
    for group in ET.parse(svg).getroot().iter(f"{SVG}g"):
        if group.get("class") == "node":
            lines = [text.text or "" for text in group.iter(f"{SVG}text")]
            nodes[lines[0]] = lines[1:]
    return nodes


def _number(line: str) -> float:
    return float(line.rsplit("=", 1)[1].strip().replace("−", "-"))


def test_the_committed_tree_shows_the_values_and_gradients_of_the_chain_network_it_claims() -> None:
    """The caption: x = 0.5, y′ = 0.25, σ in every layer, and ∂C/∂W printed under each parameter equals the
    derivative (here by central differences of a numpy forward pass with the same weights)."""
    from tinygrad_edu import nn

    net = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(3)])
    weights = np.array([float(p.data.item()) for p in net.parameters()])  # W¹, b¹, W², b², W³, b³

    def forward(p: np.ndarray) -> tuple[float, list[float], list[float]]:
        alpha, zs, alphas = 0.5, [], []
        for w, b in zip(p[0::2], p[1::2]):
            z = w * alpha + b
            alpha = 1 / (1 + np.exp(-z))
            zs.append(z)
            alphas.append(alpha)
        return (alpha - 0.25) ** 2, zs, alphas

    cost, zs, alphas = forward(weights)
    h = 1e-6
    gradient = [(forward(weights + h * e)[0] - forward(weights - h * e)[0]) / (2 * h) for e in np.eye(6)]
    nodes = _node_texts(IMAGES / "dependency_tree.svg")
    shown = {"C": cost, "y′": 0.25, "α⁰": 0.5}
    for k, sup in enumerate("¹²³"):
        shown |= {f"z{sup}": zs[k], f"α{sup}": alphas[k], f"W{sup}": weights[2 * k], f"b{sup}": weights[2 * k + 1]}
    assert set(nodes) == set(shown), sorted(nodes)
    for name, value in shown.items():
        assert _number(nodes[name][0]) == pytest.approx(value, rel=5e-4), (name, nodes[name])
    for k, name in enumerate(["W¹", "b¹", "W²", "b²", "W³", "b³"]):
        said = next(line for line in nodes[name] if line.startswith(f"∂C/∂{name} ="))
        assert _number(said) == pytest.approx(gradient[k], rel=5e-4), (name, said, gradient[k])
        factors = next(line for line in nodes[name] if line.startswith("chain: "))
        product = np.prod([float(f) for f in re.split("[=≈]", factors[len("chain: "):])[0].split("·")])
        assert product == pytest.approx(gradient[k], rel=2e-3), (name, factors)  # the path's numbers multiplied


def test_the_cost_history_compares_three_methods_from_one_start_on_64_samples(script, monkeypatch,
                                                                             tmp_path: Path) -> None:
    """The caption: x² on [−1, 1], 64 samples, the same network and start; random search, gradient descent with a
    fixed learning rate, gradient descent with Armijo steps, in that order; the step sizes below."""
    pytest.importorskip("matplotlib")
    drawn = {}
    monkeypatch.setattr(script, "plot_history", lambda runs, **kwargs: drawn.update(runs=runs, **kwargs))
    script.cost_history_figure(tmp_path)
    runs = drawn["runs"]
    assert [run.label for run in runs] == ["random search (scale 0.1)", "gradient descent (η = 0.1)",
                                           "gradient descent with Armijo steps"]
    assert "64 samples" in drawn["title"] and all(run.episodes == script.EPISODES for run in runs)
    from tinygrad_edu import nn

    w1, b1, w2, b2 = (p.data for p in nn.MLP([1, 8, 1], activation="tanh", output_activation="identity",
                                               init="xavier", rng=0).parameters())
    x = np.linspace(-1, 1, 64).reshape(-1, 1)
    start = np.mean((np.tanh(x @ w1 + b1) @ w2 + b2 - x**2) ** 2)  # the untrained network's mean squared error
    assert [run.cost[0] for run in runs] == pytest.approx([start] * 3, rel=1e-12)
    assert runs[0].step_size == [None] * script.EPISODES and runs[1].step_size == [0.1] * script.EPISODES
    assert all(t is not None and t > 0 for t in runs[2].step_size)  # Armijo's accepted steps
    assert all(run.final_cost < start for run in runs)


def test_the_stationary_points_figure_finds_one_minimum_one_maximum_and_two_saddles(script, monkeypatch,
                                                                                   tmp_path: Path) -> None:
    """The caption: from 16 starts, Newton's method finds a minimum, a maximum and two saddles of
    w³ − 3w + b³ − 3b (∇C = 0 at w, b = ±1; the Hessian diag(6w, 6b))."""
    pytest.importorskip("matplotlib")
    drawn = {}
    monkeypatch.setattr(script, "plot_stationary_points", lambda f, found, **kwargs: drawn.update(found=found))
    script.stationary_points_figure(tmp_path)
    found = drawn["found"]
    assert len(found) == 16
    kinds = {}
    for result in found:
        kinds.setdefault(result.kind, set()).add(tuple(np.round(result.point, 9)))
    assert kinds == {"minimum": {(1.0, 1.0)}, "maximum": {(-1.0, -1.0)}, "saddle": {(1.0, -1.0), (-1.0, 1.0)}}


def test_the_matplotlib_figures_are_the_same_bytes_run_after_run(script, tmp_path: Path) -> None:
    """The script's promise (fixed seeds, no dates): a second run changes no byte, so regenerating the figures
    shows in a diff only what really changed."""
    pytest.importorskip("matplotlib")
    for make in (script.cost_history_figure, script.stationary_points_figure):
        first, second = make(tmp_path / "first"), make(tmp_path / "second")
        assert first.read_bytes() == second.read_bytes(), first.name
        assert re.search(rb"\d{4}-\d\d-\d\d", first.read_bytes()[:4096]) is None  # no date in the header


def test_the_maintainers_matplotlibrc_does_not_change_the_readme_plots(script, tmp_path: Path) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    from matplotlib import cycler
    from matplotlib.image import imread

    mine = {"savefig.transparent": True, "axes.prop_cycle": cycler(color=["black", "magenta", "cyan"]),
            "font.size": 14}
    for make in (script.cost_history_figure, script.stationary_points_figure):
        plain = make(tmp_path / "plain")
        with matplotlib.rc_context(mine):
            styled = make(tmp_path / "styled")
        assert imread(styled).shape == imread(plain).shape and (imread(styled)[..., 3] == 1).all(), plain.name
        assert styled.read_bytes() == plain.read_bytes(), plain.name


def test_every_picture_the_readme_shows_is_one_the_script_makes(script) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"!\[[^\]]*\]\(docs/images/([^)]+)\)", readme))
    made = {"dependency_tree.svg", "backprop_player.png", "cost_history.png", "stationary_points.png"}
    assert shown == made and all(name in script.__doc__.split("\n\n")[0] for name in made)
    assert {path.name for path in IMAGES.iterdir()} == made  # no picture left over from an older README
