"""A student works through the seed section by section and makes the natural first-hour mistakes.

Section 6.1's second-derivative test: ``classify_stationary_point(f, x)`` (the function and a point, as
``stationary_point`` takes them) read f as "eigenvalues of dtype object"; it now says the test takes the Hessian's
eigenvalues, and its advice, ``stationary_point(f, x).kind``, pasted, classifies x against the closed form f''.
"""

from __future__ import annotations

import re
import shlex

import numpy as np
import pytest
from helpers_cli import error_of, uniform_model

from tinygrad_edu import data, losses, nn
from tinygrad_edu.calculus import classify_stationary_point, stationary_point
from tinygrad_edu.cli import main


def _cubic(x):
    return x ** 3 - 2 * x ** 2 + x  # f' = 3x² − 4x + 1 = 0 at 1/3 and 1; f'' = 6x − 4: −2 there, 2 here


@pytest.mark.parametrize("f", [_cubic, lambda x: x ** 3 - 2 * x ** 2 + x])
def test_classify_given_the_function_says_it_takes_eigenvalues_and_its_advice_works(f) -> None:
    with pytest.raises(TypeError) as caught:
        classify_stationary_point(f, 1.0)
    message = str(caught.value)
    assert message.startswith("classify_stationary_point: ") and "eigenvalues" in message, message
    advice = re.search(r"(stationary_point\(f, x\)\.kind)", message)
    assert advice is not None, message
    for x, expected in ((1.0, "minimum"), (1 / 3, "maximum")):
        assert eval(advice.group(1), {"stationary_point": stationary_point, "f": f, "x": x}) == expected
        second = 6 * x - 4  # the closed form f''(x) at the point
        assert classify_stationary_point([second]) == expected


@pytest.mark.parametrize("label", [3, 3.0, np.int64(3)])
def test_a_class_label_as_the_cost_target_of_ten_outputs_is_pointed_to_one_hot(label) -> None:
    # seed 4-5: a digit's 10 output neurons and the squared-error cost; the student gives the digit itself as y'
    net = nn.MLP([784, 16, 16, 10], activation="sigmoid", rng=0)
    out = net(np.linspace(0, 1, 784))
    with pytest.raises(ValueError) as caught:
        losses.squared_error(out, label)
    message = str(caught.value)
    advice = re.search(r"(data\.one_hot\(3, classes=10\))", message)
    assert advice is not None and "(10,)" in message, message
    target = eval(advice.group(1), {"data": data})
    expected = float(((out.data - np.eye(10)[3]) ** 2).sum())  # C = Σ (y_j − y'_j)², y' the one-hot row of 3
    assert float(losses.squared_error(out, target).data) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("target", [12, 0.5, True])
def test_a_number_that_is_no_class_label_keeps_the_one_number_advice(target) -> None:
    with pytest.raises(ValueError, match=r"one number as the target of 10 predicted numbers") as caught:
        losses.squared_error(np.zeros(10), target)
    assert "one_hot" not in str(caught.value)


@pytest.mark.parametrize(("written", "numbers"), [
    (["0.1,0.5"], [0.1, 0.5]), (["[0.1,0.5,-1,0.01]"], [0.1, 0.5, -1, 0.01]),
    (["0.1,", "0.5,", "-1,", "0.01"], [0.1, 0.5, -1, 0.01]), (["1,2,3"], [1, 2, 3]),
    (["(0.1,", "0.5)"], [0.1, 0.5]),  # a tuple typed as words (the mutation pass's L11)
    (["[0.5,-1e3]"], [0.5, -1000.0])])  # -1e3 is an option to argparse without -- (L9)
def test_predict_inputs_written_as_a_list_are_told_to_use_spaces_and_the_advice_runs(tmp_path, capsys, written,
                                                                                    numbers) -> None:
    # seed 7.3's test inputs x = 0.1, 0.5, −1, 0.01, typed the way a Python list is written
    model = str(uniform_model(tmp_path / "model.npz", [1, 1], weight=2.0))  # f(x) = 2x
    message = error_of(capsys, ["predict", model, *written])
    advice = re.search(r"not commas: tinygrad-edu (predict MODEL [^(]*?) \(see", message)
    assert advice is not None, message
    assert main(shlex.split(advice.group(1).replace("MODEL", shlex.quote(model)))) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [float(line.split("→")[1]) for line in lines] == pytest.approx([2 * x for x in numbers], rel=1e-6)


@pytest.mark.parametrize("word", ["0,5", "abc", "a,b"])
def test_a_decimal_comma_or_a_word_gets_no_list_advice(tmp_path, capsys, word) -> None:
    message = error_of(capsys, ["predict", str(uniform_model(tmp_path / "m.npz", [1, 1])), word])
    assert "not commas" not in message, message


@pytest.mark.parametrize("count", [100, 5, np.int64(3)])
def test_load_digits_given_a_count_says_it_takes_none_and_its_advice_runs(count) -> None:
    # seed 4: "a dataset of images of handwritten digits"; the student asks for 100 of them as load_digits(100)
    with pytest.raises(TypeError) as caught:
        data.load_digits(count)
    message = str(caught.value)
    assert message.startswith("load_digits: ") and f"got int {count}" in message, message
    first = re.search(r"(inputs, labels = load_digits\(\)), then (inputs\[:\d+\], labels\[:\d+\])", message)
    assert first is not None, message
    scope: dict = {"load_digits": data.load_digits}
    exec(first.group(1), scope)
    inputs, labels = eval(first.group(2), scope)
    assert inputs.shape == (count, 64) and labels.shape == (count,)
    every = data.load_digits()
    np.testing.assert_array_equal(inputs, every.inputs[:count])
    kept = re.search(r"(inputs\[labels < \d+\], labels\[labels < \d+\])", message)
    assert (kept is not None) == (count <= 10), message
    if kept:
        _, digits = eval(kept.group(1), scope)
        assert set(digits.tolist()) == set(range(count))


@pytest.mark.parametrize(("command", "typo", "meant"), [
    (["train", "--optimzer", "gd"], "--optimzer", "--optimizer"), (["train", "--hiden", "4"], "--hiden", "--hidden"),
    (["train", "--batchsize", "5"], "--batchsize", "--batch-size"), (["demo", "--quik"], "--quik", "--quick")])
def test_a_misspelled_option_is_named_with_the_one_meant(capsys, command, typo, meant) -> None:
    message = error_of(capsys, command)
    assert f"unrecognized arguments: {typo}" in message and f"for {typo}, write {meant} " in message, message


def test_an_option_nothing_like_any_gets_no_guess(capsys) -> None:
    message = error_of(capsys, ["train", "--xyz", "3"])
    assert "unrecognized arguments: --xyz 3 (see" in message, message


def test_predict_with_a_misspelled_option_first_names_it_not_the_model_as_inputs(tmp_path, capsys,
                                                                                 monkeypatch) -> None:
    # argparse took the inputs file for MODEL and the model for an input number, and said to write
    # --inputs-file model.npz: the model as the inputs
    monkeypatch.chdir(tmp_path)
    uniform_model(tmp_path / "model.npz", [1, 1], weight=2.0)
    (tmp_path / "inputs.txt").write_text("0.1 0.5 -1 0.01\n")
    message = error_of(capsys, ["predict", "--input-file", "inputs.txt", "model.npz"])
    assert "--inputs-file model.npz" not in message, message
    assert "unrecognized arguments: --input-file; for --input-file, write --inputs-file " in message, message
    assert main(["predict", "--inputs-file", "inputs.txt", "model.npz"]) == 0  # the advice, followed
    outputs = [float(line.split("→")[1]) for line in capsys.readouterr().out.splitlines()]
    assert outputs == pytest.approx([0.2, 1.0, -2.0, 0.02])
