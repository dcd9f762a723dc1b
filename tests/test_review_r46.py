"""Round 46's review: what the round's changes missed, each test failing before its mend.

- ``predict m.npz -0.1,0.5``: numbers written as a list whose first is negative are read by argparse as an option,
  and the round's list advice (spaces, not commas) was not given there: only "unrecognized arguments".
- ``lang="en_US"`` (a locale as Python writes it) was refused without saying the parts are joined by '-'.
- the backprop player's step panel opens with the library's English phase name ("forward pass"), which a page in
  another language declared to be in that language: the screen reader reads the live panel aloud in its voice.
"""
from __future__ import annotations

import re
import shlex
import shutil

import numpy as np
import pytest
from helpers_cli import error_of, uniform_model
from helpers_drawings import recurrent_chain

from tinygrad_edu import Value, checks, data, losses, viz
from tinygrad_edu.cli import main


@pytest.mark.parametrize(("written", "numbers"), [(["-0.1,0.5"], [-0.1, 0.5]), (["-0.1,", "0.5"], [-0.1, 0.5]),
                                                  (["-1,0.5,-2"], [-1.0, 0.5, -2.0])])
def test_predict_numbers_listed_from_a_negative_one_are_told_to_use_spaces_and_the_advice_runs(
        tmp_path, capsys, written, numbers) -> None:
    model = str(uniform_model(tmp_path / "model.npz", [1, 1], weight=2.0))  # f(x) = 2x
    message = error_of(capsys, ["predict", model, *written])
    assert "unrecognized arguments" in message, message
    start = message.find("not commas: tinygrad-edu predict MODEL -- ")
    assert start >= 0, message
    advice = message[start + len("not commas: tinygrad-edu "):message.index(" (see", start)]
    assert main(shlex.split(advice.replace("MODEL", shlex.quote(model)))) == 0  # the advice as pasted
    lines = capsys.readouterr().out.splitlines()
    assert [float(line.split("→")[1]) for line in lines] == pytest.approx([2 * x for x in numbers], rel=1e-6)


def test_a_word_after_a_dash_that_is_no_list_of_numbers_gets_no_list_advice(tmp_path, capsys) -> None:
    model = str(uniform_model(tmp_path / "model.npz", [1, 1]))
    assert "not commas" not in error_of(capsys, ["predict", model, "-a,b"])


@pytest.mark.parametrize(("given", "meant"), [("en_US", "en-US"), ("zh_Hans", "zh-Hans"), ("pt_BR", "pt-BR")])
def test_a_locale_written_with_underscores_is_told_to_join_with_a_dash_and_the_advice_is_taken(given, meant) -> None:
    with pytest.raises(ValueError, match=r"^backprop_player: lang must be a language tag") as caught:
        checks.language(given, "backprop_player")
    assert f"its parts are joined by '-', not '_': {meant!r}" in str(caught.value)
    assert checks.language(meant, "backprop_player") == meant


@pytest.mark.parametrize("given", ["ja jp", "", "_"])
def test_a_wrong_language_that_no_dash_mends_gets_no_dash_advice(given) -> None:
    with pytest.raises(ValueError) as caught:
        checks.language(given, "f")
    assert "joined by" not in str(caught.value)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_the_players_phase_names_stay_english_on_a_page_in_another_language(browser, tmp_path) -> None:
    w = Value(0.5, requires_grad=True, label="重み")
    path = viz.backprop_player(((w * 2.0 - 1.5) ** 2).sum(), title="逆伝播", lang="ja").save(tmp_path / "ja.html")
    browser.get(path.as_uri() + "#step=2")
    found = browser.execute_script(
        "var phase = document.querySelector('.explanation .phase');"
        "return [phase.textContent, phase.matches(':lang(en)'), document.querySelector('h1').matches(':lang(ja)')]")
    assert found == ["forward pass", True, True]


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_a_slow_inline_drawings_advice_draws_fewer_values_than_the_drawing_that_was_too_slow(monkeypatch) -> None:
    """The advice named max_nodes=150, draw_graph's default: pasted, it drew the same graph that had timed out."""
    chain = recurrent_chain(200)
    monkeypatch.setattr(viz, "INLINE_TIMEOUT", 1e-6)  # (the limit small, not the machine's speed, makes it time out)
    slow = viz.draw_graph(chain)
    text = slow._repr_mimebundle_()["text/plain"]
    advice = re.search(r"draw_graph\(value, max_nodes=\d+\)", text)
    assert advice is not None, text
    fewer = eval(advice[0], {"draw_graph": viz.draw_graph, "value": chain})  # the advice as pasted
    assert 0 < fewer.source.count(" -> ") < slow.source.count(" -> ")


@pytest.mark.parametrize("rows", [None, 1])
@pytest.mark.parametrize("label", [3, np.int64(0), np.float32(9)])
def test_a_class_label_as_the_target_of_one_sample_or_a_batch_of_one_gets_the_one_hot_advice_and_it_runs(rows, label):
    """A sample given as a batch of one (inputs[:1]: net output (1, 10)) is the same mistake as one given alone
    (inputs[0]: (10,)); only the second was pointed to its one-hot row."""
    prediction = np.full((10,) if rows is None else (rows, 10), 0.1)
    with pytest.raises(ValueError) as caught:
        losses.squared_error(prediction, label)
    advice = re.search(r"its target is a one-hot row: (data\.one_hot\([^;]*\));", str(caught.value))
    assert advice is not None, str(caught.value)
    target = eval(advice[1], {"data": data})  # the advice as pasted
    assert target.shape == prediction.shape and target.reshape(-1)[int(label)] == 1 and target.sum() == 1
    assert float(losses.squared_error(prediction, target).data) == pytest.approx(0.81 + 9 * 0.01)


def test_a_batch_of_several_keeps_the_one_number_advice():
    with pytest.raises(ValueError, match=r"one number as the target of 20 predicted numbers") as caught:
        losses.squared_error(np.zeros((2, 10)), 3)
    assert "one_hot" not in str(caught.value)
