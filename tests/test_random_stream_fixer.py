"""A maintainer giving random search a stream of random numbers of its own in the demo, notebook 3 and the README's
cost figure, as ``optim.RandomSearch``'s docstring advises and ``train --optimizer random`` already did.

With ``rng=seed`` beside a network (and samples) made from the same int seed, the search drew the same numbers
again: in the README's figure (an ``init="xavier"`` 1-8-1 network, ``rng=0`` for both) the first "random" change was
exactly 0.1225 times the first layer's weights, and it was kept; in the demo and notebook 3 the first change
proposed for W¹ was a tenth of the first 12 training inputs.  Each check here takes the first change a search
proposes (the cost made to fall, so the change is kept and can be read off the parameters) and compares it with
the numbers the network's and the samples' generator drew.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pytest

from tinygrad_edu import cli, demo, nn, optim, seeds, training
from tinygrad_edu.data import xsquared
from tinygrad_edu.training import History

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "03_cost_and_random_guessing.ipynb"
NO_SHARED_HELPER = ("there is no helper in tinygrad_edu.seeds for a second stream from an int seed: the command line "
                    "spawns its own, the demo, notebook 3 and the figure script take rng=seed")


class _Captured(Exception):
    """Raised by a stand-in for fit once it has the model and the optimizer: no training needed."""

    def __init__(self, model: nn.Module, optimizer: optim.Optimizer) -> None:
        super().__init__("captured")
        self.model, self.optimizer = model, optimizer


def _capture(model: nn.Module, *args: Any, optimizer: optim.Optimizer, **kwargs: Any) -> History:
    raise _Captured(model, optimizer)


def _first_change(model: nn.Module, search: optim.RandomSearch) -> list[np.ndarray]:
    """The change of each parameter in the search's first step, the cost made to fall so that it is kept."""
    assert isinstance(search, optim.RandomSearch)
    start = [p.data.copy() for p in model.parameters()]
    costs = iter([1.0, 0.0])
    search.step(costs.__next__)
    assert search.last_accepted
    return [p.data - s for p, s in zip(model.parameters(), start, strict=True)]


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(np.ravel(a), np.ravel(b))[0, 1])


def _assert_not_the_seed_s_own_numbers(change: list[np.ndarray], seed: int) -> None:
    """The first change is not the first numbers of ``default_rng(seed)`` (those of the weights and samples) scaled:
    for independent draws the correlation over the 193 or 25 numbers is about N(0, 1/n); the same numbers gave 1."""
    flat = np.concatenate([c.ravel() for c in change])
    own = np.random.default_rng(seed).random(flat.size)
    assert abs(_correlation(flat, own)) < 0.5


def _script() -> Any:
    spec = importlib.util.spec_from_file_location("make_readme_figures", ROOT / "scripts" / "make_readme_figures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _notebook_code() -> list[str]:
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    return ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]


# --- defects --------------------------------------------------------------------------------------------------------

def test_the_figure_s_random_search_does_not_redraw_its_network_s_weights(monkeypatch) -> None:
    script = _script()
    monkeypatch.setattr(script, "fit", _capture)
    with pytest.raises(_Captured) as captured:
        script.cost_history_figure(Path("never-written"))
    model, search = captured.value.model, captured.value.optimizer
    w1 = model.layers[0].weights.data.copy()
    change = _first_change(model, search)
    ratio = change[0] / w1
    assert not np.allclose(ratio, ratio.flat[0], rtol=1e-3), ratio  # was 0.1 / √(6/9) for each of the 8 weights
    _assert_not_the_seed_s_own_numbers(change, 0)


@pytest.mark.parametrize("seed", [0, 4])
def test_the_demo_s_random_search_does_not_redraw_its_samples_and_weights(monkeypatch, seed: int) -> None:
    monkeypatch.setattr(demo, "fit", _capture)
    with pytest.raises(_Captured) as captured:
        demo.compare_xsquared(samples=20, seed=seed, methods=["random search"])
    model, search = captured.value.model, captured.value.optimizer
    x, _ = xsquared(20, seed=seed)
    change = _first_change(model, search)
    assert not np.allclose(change[0].ravel(), 0.1 * x[:12].ravel(), rtol=0, atol=1e-9)  # it was, exactly
    _assert_not_the_seed_s_own_numbers(change, seed)


def test_notebook_3_s_random_search_does_not_redraw_its_samples_and_weights(monkeypatch) -> None:
    code = _notebook_code()
    fitting = next(k for k, source in enumerate(code) if "optim.RandomSearch(" in source)
    monkeypatch.setattr(training, "fit", _capture)  # the notebook imports fit from tinygrad_edu.training
    namespace: dict[str, Any] = {"print": lambda *args, **kwargs: None}
    with pytest.raises(_Captured) as captured:
        for source in code[:fitting + 1]:
            exec(compile(source, NOTEBOOK.name, "exec"), namespace)
    from matplotlib import pyplot

    pyplot.close("all")
    model, search = captured.value.model, captured.value.optimizer
    assert model is namespace["net"]
    change = _first_change(model, search)
    assert not np.allclose(change[0].ravel(), 0.1 * namespace["inputs"][:12].ravel(), rtol=0, atol=1e-9)
    _assert_not_the_seed_s_own_numbers(change, 0)


def test_the_command_line_and_the_demo_take_their_search_s_stream_from_one_helper(monkeypatch) -> None:
    """seeds.second_stream makes both streams (the demo's named compare_xsquared, the command line's train), and
    its numbers are those the command line drew before (the child of SeedSequence(seed)): the models that
    ``train --optimizer random`` saved are trained again to the same numbers."""
    made: list[tuple[int, str, np.random.Generator]] = []
    original: Callable[..., np.random.Generator] = seeds.second_stream

    def recorder(seed: int, where: str = "second_stream") -> np.random.Generator:
        stream = original(seed, where)
        made.append((seed, where, stream))
        return stream

    monkeypatch.setattr(seeds, "second_stream", recorder)
    monkeypatch.setattr(demo, "fit", _capture)
    for seed in (0, 7, 2**40):
        searches = [cli._optimizer("random", nn.MLP([1, 2, 1], rng=seed), 0.1, seed)]
        with pytest.raises(_Captured) as captured:
            demo.compare_xsquared(samples=8, seed=seed, methods=["random search"])
        searches.append(captured.value.optimizer)
        assert [(s, where) for s, where, _ in made[-2:]] == [(seed, "train"), (seed, "compare_xsquared")]
        expected = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0]).bit_generator.state
        for search, (_, _, stream) in zip(searches, made[-2:], strict=True):
            assert isinstance(search, optim.RandomSearch) and search.rng is stream
            assert search.rng.bit_generator.state == expected != np.random.default_rng(seed).bit_generator.state
    for bad, error, message in [(-1, ValueError, r"^f: the seed must be an int >= 0, got -1$"),
                                (True, TypeError, r"^f: .*int >= 0, got bool$"),
                                (np.random.default_rng(0), TypeError, r"^f: .*, got Generator; a Generator is")]:
        with pytest.raises(error, match=message):
            original(bad, "f")


# --- guards ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 3])
def test_the_command_line_s_random_search_keeps_its_stream(seed: int) -> None:
    """``train --optimizer random`` draws its changes from the child of SeedSequence(seed), as it did before the
    stream moved into a helper: a model trained and saved earlier is trained again to the same numbers."""
    search = cli._optimizer("random", nn.MLP([1, 2, 1], rng=seed), 0.25, seed)
    assert isinstance(search, optim.RandomSearch) and search.scale == 0.25
    expected = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    assert search.rng.bit_generator.state == expected.bit_generator.state


@pytest.mark.parametrize("init", ["uniform", "xavier"])
def test_the_docstring_s_warning_holds_one_int_for_both_redraws_the_weights(init: str) -> None:
    """RandomSearch's docstring: with the network's int as ``rng``, the first change is w → 1.2·w − 0.1 for every
    weight (init="uniform": weights U[0, 1), changes U[−0.1, 0.1) of the same numbers), and with init="xavier" a
    multiple, 0.1 / √(6 / (in + out)), of the first layer's weights: the reason the search needs a stream of its own."""
    net = nn.MLP([1, 8, 1], init=init, rng=5)
    w1 = net.layers[0].weights.data.copy()
    change = _first_change(net, optim.RandomSearch(net, scale=0.1, rng=5))
    if init == "uniform":
        np.testing.assert_allclose(w1 + change[0], 1.2 * w1 - 0.1, rtol=0, atol=1e-12)
    else:
        np.testing.assert_allclose(change[0], 0.1 / np.sqrt(6 / 9) * w1, rtol=1e-9, atol=1e-15)


def test_a_second_stream_of_a_generator_says_what_to_do_instead() -> None:
    """second_stream(Generator) was refused without a word on what a Generator user should write."""
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match=r"give the same Generator .* or generator\.spawn\(1\)\[0\]"):
        seeds.second_stream(rng)
    with pytest.raises(TypeError, match=r"int >= 0, got float$"):
        seeds.second_stream(1.5)
