"""What README.md says holds, third pass: the sentences added in the round after a493870 (missing targets, binary
cross-entropy through softplus, PyTorch weights, buffers, misspelt keywords, what predict prints, Newton's σ < ½,
``x in v``, pandas' to_csv header, MSELoss reductions), each run as a reader would run it.

Defects found (xfail until fixed): the README said ``z.sigmoid().log()`` is −inf for z above about 37 (it is 0
there; ln(1 − σ) is the −inf); that Armijo with σ = ½ refuses Newton's full step (the bound 2(1 − σ) is then 1
itself); quoted ``0.5 → 0.247771``, which no model of the README prints; told ``awk '{print $3}'`` to take the
output (``→`` for a sample of two inputs); told to write the inputs with ``to_csv(header=False)`` (pandas then
writes the row numbers as a first column, read as inputs); and ``predict`` called the header line ``,0,1,2`` of
``to_csv(path)`` a missing value.  The other tests guard claims that held.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, demo, losses, nn, optim
from tinygrad_edu.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"
TEXT = " ".join(README.read_text(encoding="utf-8").split())  # sentences across line breaks


def _predict(capsys, model: Path, *arguments: str) -> tuple[int, list[str], str]:
    """``tinygrad-edu predict model arguments``: its status, the lines on stdout and stderr."""
    status = main(["predict", str(model), *arguments])
    captured = capsys.readouterr()
    return status, captured.out.splitlines(), captured.err


# --- the binary cross-entropy through softplus ----------------------------------------------------------------
def test_readme_says_which_logarithm_of_sigma_is_minus_inf_and_where():
    with np.errstate(all="ignore"):
        above, below = Value(np.array([40.0])), Value(np.array([-800.0]))
        assert above.sigmoid().log().data[0] == 0.0 and np.isneginf((1 - above.sigmoid()).log().data[0])
        assert np.isneginf(below.sigmoid().log().data[0]) and (1 - below.sigmoid()).log().data[0] == 0.0
        naive = {y: -(y * above.sigmoid().log() + (1 - y) * (1 - above.sigmoid()).log()).data[0] for y in (0.0, 1.0)}
    assert np.isinf(naive[0.0]) and np.isnan(naive[1.0])  # the wrong label: inf; the right one: 0 · −inf = NaN
    sentence = re.search(r"where `z\.sigmoid\(\)\.log\(\)` is −inf(.*?)\. Two outputs", TEXT)
    assert sentence, "README.md no longer says where z.sigmoid().log() is −inf"
    said = sentence.group(1)
    assert re.search(r"`z\.sigmoid\(\)\.log\(\)` is −inf once σ rounds to 0 \(z below about −745\)", sentence.group(0))
    assert "`(1 - z.sigmoid()).log()` once σ rounds to 1 (z above about 37)" in said, said
    assert "inf or NaN" in said, said


def test_sigma_rounds_to_0_and_1_where_the_readme_says():
    """Guard: "z above about 37 or below about −745": σ is below 1 at 36 and 1 from 37.5 on; above 0 at −745 and
    0 from −745.2 on (float64's smallest number is 5e-324 = e^−744.4)."""
    for number in ("37", "−745"):
        assert f"about {number})" in TEXT or f"about {number} " in TEXT or f"about {number}," in TEXT
    sigma = Value(np.array([36.0, 37.5, 800.0, -745.0, -745.2, -800.0])).sigmoid().data
    assert sigma[0] < 1 and (sigma[1:3] == 1).all() and sigma[3] > 0 and (sigma[4:] == 0).all()


@given(st.lists(st.floats(-1000, 1000), min_size=1, max_size=6), st.integers(0, 2**32 - 1))
def test_binary_cross_entropy_through_softplus_is_exact_with_gradient_sigma_minus_y_over_n(zs, seed):
    """Guard: the README's formula, as written, on a column of logits up to ±1000: the cost is the mean of
    ln(1 + e^−z) (y = 1) and ln(1 + e^z) (y = 0) computed without overflow, and the gradient (σ(z) − y)/n."""
    z = np.array(zs).reshape(-1, 1)
    y = np.random.default_rng(seed).integers(0, 2, size=z.shape).astype(float)
    logits = Value(z)
    cost = (y * F.softplus(-logits) + (1 - y) * F.softplus(logits)).mean()
    cost.backward()
    signed = np.where(y == 1, -z, z)  # ln(1 + e^signed), stably
    expected = np.mean(np.maximum(signed, 0) + np.log1p(np.exp(-np.abs(signed))))
    np.testing.assert_allclose(cost.data, expected, rtol=1e-12, atol=1e-300)
    def sigmoid(t: np.ndarray) -> np.ndarray:  # without rounding 1 − σ(z) to 0
        small = np.exp(-np.abs(t))
        return np.where(t >= 0, 1 / (1 + small), small / (1 + small))

    np.testing.assert_allclose(logits.grad, np.where(y == 1, -sigmoid(-z), sigmoid(z)) / len(z), rtol=1e-9,
                               atol=1e-300)  # (σ(z) − y)/n


# --- Newton and Armijo's σ --------------------------------------------------------------------------------------
def _full_steps(sigma: float, quadratics: int = 40) -> int:
    """How many of ``quadratics`` random strictly convex quadratics Newton (damping 0, Armijo's ``sigma``) solves
    with the full step t = 1."""
    taken = 0
    for seed in range(quadratics):
        rng = np.random.default_rng(seed)
        a = rng.normal(size=(3, 3))
        hessian, b, x = a @ a.T + np.eye(3), rng.normal(size=3), Value(rng.normal(size=3))
        opt = optim.Newton([x], sigma=sigma)
        opt.step(lambda x=x, hessian=hessian, b=b: 0.5 * ((x @ hessian) @ x) - x @ b)
        taken += opt.last_step_size == 1.0
    return taken


def test_readme_says_which_sigmas_refuse_newtons_full_step():
    claim = re.search(r"so with σ (≥|>) ½ it refuses the full step t = 1", TEXT)
    assert claim, "README.md no longer says which σ refuse Newton's full step"
    refusing = [0.5, 0.6, 0.9] if claim.group(1) == "≥" else [0.6, 0.9]
    assert {sigma: _full_steps(sigma) for sigma in refusing} == dict.fromkeys(refusing, 0)
    assert _full_steps(1e-4) == 40  # σ < ½: always, as the README says


# --- what predict prints ----------------------------------------------------------------------------------------
def test_readme_quotes_what_predict_prints_for_the_demos_model(tmp_path, capsys):
    """The demo saves the 1-12-12-1 network that ended lowest: gradient descent's (2.09e-05, the Results table),
    which the quickstart leaves in ./tinygrad-edu-demo/model.npz; write_artefacts picks it and saves it."""
    quoted = re.search(r"`0\.5 → ([0-9.]+)`", TEXT)
    assert quoted, "README.md no longer quotes predict's line for 0.5"
    runs = demo.compare_xsquared(methods=["gradient descent"])
    demo.write_artefacts(runs, tmp_path)
    status, lines, _ = _predict(capsys, tmp_path / "model.npz", "0.5")
    assert status == 0 and lines == [f"0.5 → {quoted.group(1)}"]


def test_readmes_awk_field_takes_the_output_whatever_the_number_of_inputs(tmp_path, capsys):
    field = re.search(r"`0\.5 → [^`]+`: `awk '\{print \$(\w+)\}'` takes it", TEXT)
    assert field, "README.md no longer says which awk field takes predict's output"
    for inputs in (1, 2, 5):
        net = nn.MLP([inputs, 3, 1], activation="tanh", output_activation="identity", rng=0)
        net.save(tmp_path / "model.npz")
        samples = np.random.default_rng(inputs).uniform(-1, 1, size=(2, inputs))
        status, lines, _ = _predict(capsys, tmp_path / "model.npz", *map(repr, samples.ravel().tolist()))
        assert status == 0 and len(lines) == 2
        fields = [line.split() for line in lines]
        taken = [words[-1] if field.group(1) == "NF" else words[int(field.group(1)) - 1] for words in fields]
        assert taken == [f"{number:.6g}" for number in net(samples).data.ravel()], (inputs, lines)


def test_several_outputs_print_to_four_digits_and_the_class_as_the_last_field(tmp_path, capsys):
    """Guard: "`[y1, y2, …]` to 4 significant digits and `class K`, the largest one's index (`awk '{print $NF}'`)"."""
    net = nn.MLP([2, 3, 3], activation="tanh", output_activation="identity", rng=1)
    net.save(tmp_path / "model.npz")
    samples = np.array([[0.5, -0.25], [1.0, 2.0]])
    status, lines, _ = _predict(capsys, tmp_path / "model.npz", "0.5", "-0.25", "1", "2")
    assert status == 0
    outputs = net(samples).data
    for line, row in zip(lines, outputs, strict=True):
        printed = re.search(r"→ \[(.*)\]\s+class (\d+)$", line)
        assert printed, line
        assert printed.group(1).split(", ") == [f"{number:.4g}" for number in row]
        assert int(line.split()[-1]) == row.argmax()


# --- pandas' to_csv --------------------------------------------------------------------------------------------
def test_readmes_to_csv_advice_gives_predict_the_samples_and_nothing_else(tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    advice = re.search(r"write the file with `([^`]*)`", TEXT)
    assert advice, "README.md no longer says how to write an inputs file with pandas"
    call = ast.parse(f"to_csv({advice.group(1)})", mode="eval").body
    assert isinstance(call, ast.Call)
    keywords = {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords}
    net = nn.MLP([1, 4, 1], activation="tanh", output_activation="identity", rng=0)
    net.save(tmp_path / "model.npz")
    samples = np.array([[0.1], [0.5], [-1.0]])
    pd.DataFrame(samples).to_csv(tmp_path / "inputs.csv", **keywords)
    status, lines, _ = _predict(capsys, tmp_path / "model.npz", "--inputs-file", str(tmp_path / "inputs.csv"))
    assert status == 0 and [float(line.split()[0]) for line in lines] == samples.ravel().tolist()


@pytest.mark.parametrize("inputs, kind", [(3, "DataFrame"), (1, "DataFrame"), (2, "DataFrame"), (1, "Series"),
                                          (1, "named")])
def test_predict_names_the_header_and_index_of_pandas_to_csv(tmp_path, capsys, inputs, kind):
    pd = pytest.importorskip("pandas")
    net = nn.MLP([inputs, 3, 1], rng=0)
    net.save(tmp_path / "model.npz")
    samples = np.random.default_rng(0).uniform(size=(4, inputs))
    table = {"DataFrame": pd.DataFrame(samples), "Series": pd.Series(samples.ravel()),
             "named": pd.DataFrame({"x": samples.ravel()})}[kind]
    table.to_csv(tmp_path / "inputs.csv")  # pandas' defaults: a header, and the index as a first column
    status, lines, error = _predict(capsys, tmp_path / "model.npz", "--inputs-file", str(tmp_path / "inputs.csv"))
    assert status == 2 and lines == []
    assert "line 1" in error and "pandas" in error and "index=False" in error, error
    assert "missing value" not in error, error


def test_a_missing_first_number_of_the_first_sample_is_still_a_missing_value(tmp_path, capsys):
    """Guard: a first line that starts with an empty field but holds numbers other than 0, 1, … is a sample with a
    missing cell, named by line and column, not taken for pandas' header."""
    net = nn.MLP([3, 3, 1], rng=0)
    net.save(tmp_path / "model.npz")
    (tmp_path / "inputs.csv").write_text(",0.5,0.25\n0.1,0.2,0.3\n", encoding="utf-8")
    status, lines, error = _predict(capsys, tmp_path / "model.npz", "--inputs-file", str(tmp_path / "inputs.csv"))
    assert status == 2 and lines == []
    assert "line 1, column 1: an empty field between commas" in error, error


# --- guards: MSELoss reductions, PyTorch weights, misspelt keywords --------------------------------------------
@given(st.integers(1, 6), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_squared_error_and_mean_squared_error_are_the_mseloss_reductions_the_readme_names(n, k, seed):
    """Guard: squared_error is MSELoss(reduction='sum') divided by n, mean_squared_error MSELoss() (the mean), and
    squared_error / k; computed by hand in numpy, as PyTorch defines them."""
    rng = np.random.default_rng(seed)
    prediction, target = rng.normal(size=(n, k)), rng.normal(size=(n, k))
    summed = ((prediction - target) ** 2).sum()  # MSELoss(reduction='sum')
    seed_cost = losses.squared_error(Value(prediction), target).data
    np.testing.assert_allclose(seed_cost, summed / n, rtol=1e-13)
    np.testing.assert_allclose(losses.mean_squared_error(Value(prediction), target).data, summed / (n * k),
                               rtol=1e-13)
    np.testing.assert_allclose(losses.mean_squared_error(Value(prediction), target).data, seed_cost / k, rtol=1e-13)


def test_a_pytorch_state_dict_loads_as_the_readme_writes_it():
    """Guard: the README's dict, with PyTorch's tensors, gives the outputs of torch's own network."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    torch_net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Sigmoid(), torch.nn.Linear(4, 2)).double()
    state = torch_net.state_dict()
    net = nn.MLP([3, 4, 2], activation="sigmoid", output_activation="identity", rng=1)
    with pytest.raises(ValueError, match=r"names are PyTorch's.*transpose of PyTorch's Linear\.weight"):
        net.load_state_dict(state)
    net.load_state_dict({"layers.1.weights": state["0.weight"].T, "layers.1.biases": state["0.bias"],
                         "layers.2.weights": state["2.weight"].T, "layers.2.biases": state["2.bias"]})
    x = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(net(x).data, torch_net(torch.tensor(x)).detach().numpy(), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("make, wrong, meant", [
    (lambda net, **kw: optim.GradientDescent(net, **kw), "learning_rat", "learning_rate"),
    (lambda net, **kw: optim.Adam(net, **kw), "learnin_rate", "learning_rate"),
    (lambda net, **kw: optim.Armijo(net, **kw), "sigm", "sigma"),
    (lambda net, **kw: optim.Newton(net, **kw), "dampng", "damping"),
    (lambda net, **kw: optim.RandomSearch(net, **kw), "scal", "scale"),
])
def test_a_keyword_a_letter_or_two_off_is_a_type_error_saying_the_one_meant(make, wrong, meant):
    net = nn.MLP([1, 2, 1], rng=0)
    with pytest.raises(TypeError, match=rf"there is no argument {wrong}=; did you mean {meant}=\?"):
        make(net, **{wrong: 0.1})
