"""A teacher preparing a lecture from the seed with the notebooks and examples: the notation of a weight's indices is
the same everywhere, the seed's sections are cited for what they say, and a cell that prints how long it trained
does not print it after Ctrl-C ended the training early.

What the seed says, quoted where a test relies on it:

- section 3: "α_2^1 = σ(α_0^0 · w_{0;2} + α_1^0 · w_{1;2} + … + α_{n_0}^0 · w_{n_0;2} + b_2)": the first index of a
  weight is the neuron of the previous layer, the second the neuron it feeds.
- section 5: "an array with 1000 randomly generated sample values between 0 and 1".
- section 7.3: "Within only 50 episodes, our cost decreased significantly to just ≈ 0.0003"; it names no number of
  samples.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def _cells(name: str, kind: str) -> list[str]:
    notebook = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))
    return ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == kind]


def _weight_indices(text: str) -> set[tuple[str, str]]:
    """The letters of every weight written ``w_{a;b}`` (TeX or plain) in ``text``."""
    return set(re.findall(r"w_\{([a-z]);([a-z])\}", text))


# --- notation: w_{k;j} in notebook 1 as in nn, the example and the tests -----------------------------------------

def test_notebook_1_names_a_weights_indices_as_nn_and_the_forward_propagation_example_do():
    """Notebook 1 wrote α^i_k = σ(Σ_j α^{i−1}_j w_{j;k} + b_k) (j the input, k the neuron), where nn's docstring and
    examples/forward_propagation.py write α_j = σ(Σ_k α_k · w_{k;j} + b_j) (k the input, j the neuron): a lecture
    using both swapped the letters' meaning between the page and the script."""
    import tinygrad_edu.nn as nn_module

    example = (ROOT / "examples" / "forward_propagation.py").read_text(encoding="utf-8")
    notebook = "\n".join(_cells("01_forward_propagation", "markdown"))
    assert _weight_indices(nn_module.__doc__ or "") == _weight_indices(example) == {("k", "j")}
    assert _weight_indices(notebook) == {("k", "j")}, _weight_indices(notebook)
    # the notebook's loops use the same letters: j over the neurons of this layer, k over the previous layer's
    loops = next(source for source in _cells("01_forward_propagation", "code") if "def forward_with_loops" in source)
    assert "for j in range(out_size)" in loops and "for k in range(in_size)" in loops
    assert "activations[k] * weights[k, j]" in loops


def test_notebook_1s_loops_compute_the_seeds_formula_first_index_the_input():
    """The seed's α_2^1 = σ(Σ_k α_k^0 w_{k;2} + b_2), computed here term by term, is what notebook 1's loops give
    for neuron 2 (the first index of a weight is the previous layer's neuron)."""
    loops = next(source for source in _cells("01_forward_propagation", "code") if "def forward_with_loops" in source)
    namespace: dict = {"np": np, "print": lambda *args, **kwargs: None}
    exec(compile(loops, "<notebook 1>", "exec"), namespace)
    rng = np.random.default_rng(3)
    weights, biases, alpha0 = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=4)
    z2 = sum(alpha0[k] * weights[k, 2] for k in range(4)) + biases[2]
    assert namespace["forward_with_loops"](weights, biases, alpha0)[2] == pytest.approx(1 / (1 + np.exp(-z2)),
                                                                                         rel=1e-14)


def test_the_forward_propagation_examples_notation_ends_the_sum_at_the_seeds_last_input_n0():
    """examples/forward_propagation.py's "Notation (seed, section 3)" let k run over 0 … n₀−1, where the seed's sum
    ends with α_{n_0}^0 · w_{n_0;2}: k = 0 … n₀, n₀ + 1 inputs. Its formula now writes that last term too."""
    example = (ROOT / "examples" / "forward_propagation.py").read_text(encoding="utf-8")
    notation = example[example.index("Notation (seed, section 3):"):example.index("Run:")]
    last = re.search(r"k = 0 … (\S+)", notation)
    assert last is not None and last.group(1) == "n₀", notation
    formula = next(line for line in notation.splitlines() if line.strip().startswith("α¹_j = σ("))
    assert "α⁰_n₀ · w_{n₀;j} + b_j)" in formula, formula


# --- notebook 6: the seed's 1000 samples are section 5's ------------------------------------------------------------

def test_notebook_6_cites_section_5_for_the_seeds_1000_samples_not_section_7_3():
    """Notebook 6's "The demonstration (7.3)" said "The seed fits f(x) = x² ... to 1000 samples": section 7.3 names
    no number of samples; the 1000 (between 0 and 1) are section 5's, of the random guessing."""
    cell = next(" ".join(text.split()) for text in _cells("06_training", "markdown") if "## The demonstration" in text)
    for sentence in re.split(r"(?<=[.:])\s+(?=[A-Z])", cell):
        if re.search(r"seed", sentence) and re.search(r"\b1000\b", sentence):
            assert "section 5" in sentence, sentence
    assert "1000 samples" in cell and "section 7.3" in cell


# --- notebook 2: Ctrl-C does not print "after 8 episodes" -----------------------------------------------------------

@pytest.mark.parametrize("marker", ["history = fit(", "stuck = fit("])
def test_ctrl_c_in_notebook_2s_training_cells_stops_the_cell(marker, monkeypatch):
    """Notebook 2's cells printed "mean cost in episode 1 …, after 8 episodes 9.000; test accuracy …" (and "after
    training …") from a run that Ctrl-C had ended in its first episode: fit returns the history so far, with
    stopped == "interrupted", and the cell went on as if the run were done. Notebook 6's cells stop; so do these."""
    from helpers_interrupts import press_ctrl_c_at_the_first_step

    from tinygrad_edu import optim

    code = _cells("02_layers_and_digits", "code")
    printed: list[tuple] = []
    namespace: dict = {"print": lambda *args, **kwargs: printed.append(args)}
    exec(compile(code[0], "<cell 1>", "exec"), namespace)
    namespace["inputs"], namespace["labels"] = namespace["inputs"][:200], namespace["labels"][:200]  # quicker
    split = next(source for source in code if "train, test = train_test_split(" in source)
    setup = split.split("network = nn.MLP(")[0]
    exec(compile(setup, "<split>", "exec"), namespace)
    cell = next(source for source in code if marker in source)
    press_ctrl_c_at_the_first_step(monkeypatch, (optim.GradientDescent,))
    printed.clear()
    with pytest.raises(KeyboardInterrupt):
        exec(compile(cell, "<cell>", "exec"), namespace)
    assert not [line for line in printed if "episode" in " ".join(map(str, line))], printed
