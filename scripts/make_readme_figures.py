"""Regenerate the README's pictures: docs/images/dependency_tree.svg, backprop_player.png, cost_history.png and
stationary_points.png.

    python scripts/make_readme_figures.py [output folder]      (default docs/images)

Deterministic: fixed seeds, no dates in the files; the same Graphviz and matplotlib versions give the same bytes.

* dependency_tree.svg: the seed's section 6.3 tree for a 3-layer chain network (one sigmoid neuron per layer),
  sample x = 0.5 with target y = x² = 0.25, after one forward and backward pass.
* backprop_player.png: the demo's backpropagation player page (the same 3-layer chain network as the demo's
  dependency tree) at the backward step that finds ∂C/∂W², screenshot by headless Chromium (a real browser).
* cost_history.png: the seed's comparison (sections 5 and 7.3) on x² over [−1, 1]: random search, gradient
  descent with a fixed learning rate and gradient descent with Armijo steps, same network and start.
* stationary_points.png: the school method of section 6.1 on C(w, b) = w³ − 3w + b³ − 3b: Newton's method for
  ∇C = 0 from 16 starts, each point found marked by its Hessian's eigenvalues.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from tinygrad_edu import Value, nn, optim  # noqa: E402
from tinygrad_edu.calculus import stationary_point  # noqa: E402
from tinygrad_edu.cli import output_folder  # noqa: E402
from tinygrad_edu.demo import chain_cost  # noqa: E402
from tinygrad_edu.plots import plot_history, plot_stationary_points  # noqa: E402
from tinygrad_edu.seeds import second_stream  # noqa: E402
from tinygrad_edu.training import fit  # noqa: E402
from tinygrad_edu.viz import backprop_player, draw_dependency_tree, render  # noqa: E402

EPISODES = 150


def matplotlib_defaults() -> contextlib.AbstractContextManager:
    """matplotlib's own settings, not those of the maintainer's matplotlibrc: its savefig.transparent, colours or
    fonts would change the README's pictures (a transparent PNG is black text on GitHub's dark theme)."""
    import matplotlib.style

    return matplotlib.style.context("default")


def dependency_tree_figure(out: Path) -> Path:
    net = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(3)])
    y = Value(np.array([0.25]), requires_grad=False, label="y′")
    cost = ((net(np.array([0.5])) - y) ** 2).sum()
    cost.label = "C"
    cost.backward()
    return render(draw_dependency_tree(cost), out / "dependency_tree.svg")


def player_screenshot(out: Path) -> Path:
    player = backprop_player(chain_cost())
    step = next(k for k, s in enumerate(player.steps, start=1) if s.title.endswith("∂C/∂W²"))
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        raise SystemExit("make_readme_figures: the player screenshot needs Chromium (apt-get install chromium)")
    path = out / "backprop_player.png"
    with tempfile.TemporaryDirectory() as profile:
        page = player.save(Path(profile) / "player.html")
        shot = Path(profile) / "screenshot.png"  # copied to path once it exists: an old picture never passes for new
        done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                               "--no-first-run", "--disable-background-networking", "--disable-component-update",
                               "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}/user",
                               f"--screenshot={shot.resolve()}", "--window-size=1440,820",
                               f"{page.resolve().as_uri()}#step={step}"],
                              capture_output=True, text=True, errors="replace", timeout=120)
        if done.returncode != 0 or not shot.is_file():  # Chromium exits with 0 also when it wrote no picture
            raise SystemExit(f"make_readme_figures: {browser} did not take the player's screenshot {path} (exit "
                             f"status {done.returncode}); what it said:\n{done.stderr.strip()[-2000:]}")
        shutil.copyfile(shot, path)
    return path


def cost_history_figure(out: Path) -> Path:
    x = np.linspace(-1.0, 1.0, 64).reshape(-1, 1)
    y = x**2
    runs = {}

    def network() -> nn.MLP:  # the same starting weights for every method
        return nn.MLP([1, 8, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)

    def search(net: nn.MLP) -> optim.RandomSearch:  # changes of its own: rng=0 drew the weights' numbers again
        return optim.RandomSearch(net, scale=0.1, rng=second_stream(0))

    for label, make in [("random search (scale 0.1)", search),
                        ("gradient descent (η = 0.1)", lambda net: optim.GradientDescent(net, learning_rate=0.1)),
                        ("gradient descent with Armijo steps", lambda net: optim.Armijo(net))]:
        net = network()
        history = fit(net, x, y, optimizer=make(net), episodes=EPISODES, progress=False)
        history.label = label
        runs[label] = history
    path = out / "cost_history.png"
    with matplotlib_defaults():
        plot_history(list(runs.values()), title=f"learning x² on [−1, 1]: cost per episode ({len(x)} samples)",
                     path=path)
    return path


def stationary_points_figure(out: Path) -> Path:
    def cost(p: Value) -> Value:
        return p[0] ** 3 - 3 * p[0] + p[1] ** 3 - 3 * p[1]

    starts = [(w, b) for w in (-2.0, -0.4, 0.4, 2.0) for b in (-2.0, -0.4, 0.4, 2.0)]
    path = out / "stationary_points.png"
    found = [stationary_point(cost, start) for start in starts]
    with matplotlib_defaults():
        plot_stationary_points(cost, found, bounds=(-2.5, 2.5, -2.5, 2.5), path=path, parameter_names=("w", "b"),
                               title="C(w, b) = w³ − 3w + b³ − 3b: ∇C = 0 by Newton's method from 16 starts")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])  # the whole first sentence
    parser.add_argument("folder", nargs="?", type=output_folder, default=ROOT / "docs" / "images",
                        help="folder for the pictures (default: docs/images of this checkout)")
    out = parser.parse_args(argv).folder
    out.mkdir(parents=True, exist_ok=True)
    for path in (dependency_tree_figure(out), player_screenshot(out), cost_history_figure(out),
                 stationary_points_figure(out)):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
