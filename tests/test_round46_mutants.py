"""Round 46's mutation pass: each test kills hand mutants of the round's diff that its own tests let live (the
mutant's id in the comment: the round's report lists them).  Gradients against closed forms; messages by the words
that matter."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from helpers_cli import error_of, uniform_model

from tinygrad_edu import Value, checks, data, engine, losses, nn, no_grad, optim, viz
from tinygrad_edu import functional as F
from tinygrad_edu.autodiff import grad, value_and_grad
from tinygrad_edu.player import Step
from tinygrad_edu.training import History, fit


# --- autodiff: the .grad that f's own backward() wrote goes back ---------------------------------------------------
def test_a_leaf_written_twice_by_fs_own_backward_gets_its_first_grad_back() -> None:
    """A4 (put back oldest first): two passes in f; the weight's .grad must be the one before f, not after pass 1."""
    w = Value(np.array([1.0, 2.0]))
    w.grad = np.array([5.0, 5.0])
    before = w.grad

    def f(x: Value) -> Value:
        c = (w * x * x).sum()
        c.backward()
        c.backward()  # w.grad = 5 + 2x² after the two passes
        np.testing.assert_array_equal(w.grad, 5.0 + 2 * x.data ** 2)
        return c

    slope = grad(f)(np.array([1.0, 3.0]))
    assert w.grad is before
    np.testing.assert_allclose(slope.data, [2.0, 12.0], rtol=1e-15)  # ∂c/∂x = 2wx


def test_fs_own_backward_after_a_nested_transform_is_still_put_back() -> None:
    """A8 (the inner transform's LEAF_WRITES left unset): the backward() f makes after calling grad itself."""
    w = Value(3.0)

    def f(x: Value) -> Value:
        inner = grad(lambda y: y * y)(x)  # 2x
        (w * x).backward()
        assert w.grad == pytest.approx(x.data)
        return x * inner  # 2x²

    slope = grad(f)(1.5)
    assert w.grad is None
    assert slope.data == pytest.approx(6.0)  # 4x


def test_a_stale_graph_met_by_a_transform_names_the_transform_alone() -> None:
    """A7: the walk's own name must not show through the transform's."""
    b = Value(3.0, label="b")

    def f(x: Value) -> Value:
        nonlocal b
        y = (x * b).sum()
        with no_grad():
            b -= 1.0  # in place, after y used it
        return y

    with pytest.raises(ValueError, match=r"^grad: .*the graph is stale: 'b' was changed in place") as caught:
        grad(f)(np.array([1.0, 2.0]))
    assert "backward_reach" not in str(caught.value)


def test_a_value_of_the_callers_on_a_longer_path_keeps_every_path_of_the_gradient() -> None:
    """E19 (the walk's Values not sorted before finding those that lead to the inputs): f = 2x + 6xw, w outside f;
    ∂f/∂x = 2 + 6w."""
    w = Value(5.0)

    def f(x: Value) -> Value:
        p = x * 2.0
        return p + (p * 3.0) * w

    value, slope = value_and_grad(f)(1.0)
    assert value.data == pytest.approx(32.0)
    assert slope.data == pytest.approx(32.0)


# --- engine: backward_order's order, backward_reach's flags, inputs beyond two -------------------------------------
def test_backward_order_is_backwards_order_not_the_walks() -> None:
    """E18: w = (3x + 1)·x: backward visits w, 3x + 1, 3x, then x (the walk met x second)."""
    x = Value(2.0)
    y = x * 3.0
    z = y + 1.0
    w = z * x
    order = engine.backward_order(w)
    assert [id(v) for v in order] == [id(w), id(z), id(y), id(x)]


def test_backward_reach_to_a_leaf_input_finds_no_other_leaf() -> None:
    """E16: a leaf given as the input is none of the 'others'."""
    x = Value(2.0)
    assert engine.backward_reach(x * x, [x])[1:] == (False, True)
    assert engine.backward_reach(x * Value(3.0), [x])[1:] == (True, False)


def test_backward_order_goes_through_every_input_of_an_op_of_three() -> None:
    """E22: stack's third Value is walked too, and value_and_grad's gradient reaches it."""
    a, b, c = Value(1.0), Value(2.0), Value(3.0)
    out = (F.stack([a, b, c]) ** 2).sum()
    assert {id(v) for v in engine.backward_order(out)} >= {id(a), id(b), id(c)}
    _, slope = value_and_grad(lambda t: (F.stack([t[0], t[1], t[2]]) ** 2).sum())(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(slope.data, [2.0, 4.0, 6.0])


# --- checks.language and the player ---------------------------------------------------------------------------------
@pytest.mark.parametrize("tag", ["zh-Hans-CN", "sr-Latn-RS", "en-US", "de"])
def test_a_language_tag_of_several_subtags_is_taken(tag) -> None:
    """K2: a tag of three parts is BCP 47's too."""
    assert checks.language(tag, "f") == tag


@pytest.mark.parametrize("tag", ["e", "x", "e-US"])
def test_a_language_of_one_letter_is_refused(tag) -> None:
    """K1: BCP 47's language subtag has 2 to 8 letters."""
    with pytest.raises(ValueError, match=r"^f: lang must be a language tag"):
        checks.language(tag, "f")


def test_a_player_made_by_hand_refuses_a_lang_that_would_break_its_page() -> None:
    """P2: BackpropPlayer itself checks lang, which goes into the page's <html lang="...">."""
    steps = [Step("forward", 0, "t", "<p>")]
    with pytest.raises(ValueError, match=r"^BackpropPlayer: lang must be a language tag"):
        viz.BackpropPlayer(steps, None, lang='en"><script>alert(1)</script>')


# --- cli: the list advice and the typo guess -----------------------------------------------------------------------
def test_numbers_with_python_underscores_get_no_list_advice(tmp_path, capsys) -> None:
    """L8: '1_000 2' would be refused again."""
    message = error_of(capsys, ["predict", str(uniform_model(tmp_path / "m.npz", [1, 1])), "1_000,2"])
    assert "not commas" not in message, message


def test_a_word_after_double_dash_is_no_unknown_option(tmp_path, capsys) -> None:
    """L3: after --, '--x' is an input number argparse could not read, not an option."""
    message = error_of(capsys, ["predict", str(uniform_model(tmp_path / "m.npz", [1, 1])), "--", "--x"])
    assert "unrecognized arguments" not in message and "expected a number, got '--x'" in message, message


def test_an_abbreviated_option_is_no_unknown_option(tmp_path, capsys) -> None:
    """L2: argparse takes --inputs-f for --inputs-file; the error is the listed numbers', not the option's."""
    model = str(uniform_model(tmp_path / "m.npz", [1, 1]))
    message = error_of(capsys, ["predict", "--inputs-f", str(tmp_path / "x.txt"), model, "0.1,0.5"])
    assert "unrecognized arguments" not in message and "not commas" in message, message


def test_a_typo_two_letters_off_is_still_named(capsys) -> None:
    """L4 (the cutoff raised to 0.9): '--batchsz' is --batch-size with two letters missing."""
    message = error_of(capsys, ["train", "--batchsz", "5"])
    assert "for --batchsz, write --batch-size " in message, message


# --- data, losses, nn, dependency_tree: the messages' words --------------------------------------------------------
def test_load_digits_of_a_bool_is_no_count() -> None:
    """D3: load_digits(True) is no request for one sample."""
    with pytest.raises(TypeError) as caught:
        data.load_digits(True)  # type: ignore[arg-type]
    assert "got bool True" in str(caught.value) and "count" not in str(caught.value), str(caught.value)


def test_load_digits_of_a_count_names_the_last_digit_kept() -> None:
    """D4: labels < 5 are the digits 0 to 4."""
    with pytest.raises(TypeError, match=r"for the digits 0 to 4 "):
        data.load_digits(5)


def test_one_number_as_the_target_of_a_batch_is_not_taken_for_a_class_label() -> None:
    """S2: shape (4, 10) is 4 samples of 10 outputs: no 'class label 3 of 4 output neurons'."""
    with pytest.raises(ValueError) as caught:
        losses.squared_error(Value(np.zeros((4, 10))), 3)
    assert "class label" not in str(caught.value), str(caught.value)
    assert "one number as the target of 40 predicted numbers" in str(caught.value), str(caught.value)


@pytest.mark.parametrize(("in_size", "given"), [
    (4, [[1.0, 2.0], [3.0, 4.0]]),  # N5: one sample of shape (2, 2)
    (4, [[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]),  # N2: two samples of shape (2, 2)
    (2, [[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [[7.0, 8.0], [9.0, 1.0], [2.0, 3.0]]])])  # N3: sequences
def test_a_layers_hint_for_a_list_of_other_shapes_runs_when_pasted(in_size, given) -> None:
    layer = nn.Layer(in_size, 1, rng=0)
    with pytest.raises(ValueError) as caught:
        layer(given)
    advice = re.search(r"np\.array\(x\)\.reshape\((?:[^()]|\([^()]*\))*\)", str(caught.value))
    assert advice, str(caught.value)
    fixed = eval(advice[0], {"np": np, "x": given})  # the advice as pasted, on the list given
    assert layer(fixed).size == np.asarray(given).size // in_size


def test_the_dependency_trees_advice_names_zero_grad_for_weights_made_by_hand() -> None:
    """T1: Values made by hand are no model's: each one's own w.zero_grad()."""
    from tinygrad_edu.dependency_tree import dependency_tree
    net = nn.Network(nn.Layer(1, 1, "sigmoid", rng=0), nn.Layer(1, 1, "sigmoid", rng=1))
    cost = losses.squared_error(net(np.array([0.5])), np.array([0.25]))
    cost.backward()
    cost.backward()
    with pytest.raises(ValueError, match=r"w\.zero_grad\(\) for each one made by hand"):
        dependency_tree(cost)


# --- training: History.concatenate and fit's saturation warning ----------------------------------------------------
def test_concatenate_keeps_the_last_pieces_final_cost_and_stop() -> None:
    """R2: a piece with episodes but no final cost is no earlier piece's; R3: the run stopped as its last piece."""
    first = History(cost=[3.0], final_cost=2.5, stopped="episodes")
    last = History(cost=[2.0], stopped="zero gradient")
    joined = History.concatenate([first, last])
    assert joined.final_cost is None and joined.stopped == "zero gradient"
    assert (first + last).stopped == "zero gradient"


def _hidden(activation: str, weights: list[float], biases: list[float]) -> nn.Network:
    """One input, a hidden layer of ``activation`` with the given weights and biases, one identity output."""
    network = nn.Network(nn.Layer(1, len(weights), activation, rng=0), nn.Layer(len(weights), 1, "identity", rng=1))
    network.layers[0].weights.data[...] = [weights]
    network.layers[0].biases.data[...] = biases
    return network


def _saturation_warnings(network: nn.Network, inputs: np.ndarray) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit(network, inputs, np.zeros((len(inputs), 1)), optimizer=optim.GradientDescent(network, learning_rate=1e-3),
            episodes=1, progress=False)
    return [str(w.message) for w in caught if "saturated" in str(w.message)]


def test_saturated_tanh_units_are_said_at_their_own_limit() -> None:
    """R17, R18, R22: tanh's limit is 2.5 (z = 3 from the bias alone: slope 1 − tanh² 3 ≈ 0.01)."""
    said = _saturation_warnings(_hidden("tanh", [0.0, 0.0], [3.0, -3.0]), np.zeros((10, 1)))
    assert len(said) == 1 and said[0].startswith("fit: 2 of the 2 tanh units of layer 1 are saturated"), said
    assert "|z| above 2.5" in said[0], said


@pytest.mark.parametrize(("biases", "count"), [([9.0, 9.0, 9.0, 0.0], 3), ([9.0, 9.0, 0.0, 0.0], 0)])
def test_saturation_is_said_of_more_than_half_the_units(biases, count) -> None:
    """R14, R15, R24: 3 of 4 units saturated on every sample is said; 2 of 4 is not."""
    said = _saturation_warnings(_hidden("sigmoid", [0.0] * 4, biases), np.zeros((10, 1)))
    assert len(said) == (count > 0), said
    if count:
        assert said[0].startswith(f"fit: {count} of the 4 sigmoid units"), said


@pytest.mark.parametrize("inputs", [np.r_[np.full(80, 10.0), np.zeros(20)].reshape(-1, 1),  # R13: 80 % saturated
                                    np.r_[np.full(20, 10.0), np.zeros(280)].reshape(-1, 1)],  # R12: the first 20
                         ids=["80 percent of the samples", "the first 20 of 200"])
def test_units_saturated_on_fewer_than_90_percent_of_200_samples_are_not_said(inputs) -> None:
    assert _saturation_warnings(_hidden("sigmoid", [1.0, 1.0], [0.0, 0.0]), inputs) == []


def test_a_saturated_output_layer_is_no_hidden_layers_saturation() -> None:
    """R19: only hidden layers are looked at (the output's z = 10 here, the hidden one's 0)."""
    network = nn.Network(_hidden("sigmoid", [0.0, 0.0], [0.0, 0.0]).layers[0], nn.Layer(2, 1, "sigmoid", rng=1))
    network.layers[1].weights.data[...] = 0.0
    network.layers[1].biases.data[...] = 10.0
    assert _saturation_warnings(network, np.zeros((10, 1))) == []


def test_a_second_hidden_layer_is_looked_at_on_the_firsts_outputs_and_one_warning_is_given() -> None:
    """R23: layer 2's z = 2·20·σ(0) = 20 comes from layer 1's outputs, not the inputs; R20: layers 2 and 3 both
    saturated: one warning, the first's."""
    first = nn.Layer(1, 2, "sigmoid", rng=0)
    first.weights.data[...], first.biases.data[...] = 0.0, 0.0
    second = nn.Layer(2, 2, "sigmoid", rng=1)
    second.weights.data[...], second.biases.data[...] = 20.0, 0.0
    third = nn.Layer(2, 2, "sigmoid", rng=2)
    third.weights.data[...], third.biases.data[...] = 0.0, 8.0
    network = nn.Network(first, second, third, nn.Layer(2, 1, "identity", rng=3))
    said = _saturation_warnings(network, np.zeros((10, 1)))
    assert len(said) == 1 and said[0].startswith("fit: 2 of the 2 sigmoid units of layer 2 are saturated"), said


def test_a_layer_with_a_forward_of_its_own_is_not_looked_at() -> None:
    """R10: the look computes z = αW + b by hand, which a Layer whose forward scales its inputs is not."""

    class Scaled(nn.Layer):
        def forward(self, x):  # type: ignore[no-untyped-def]
            return super().forward(x * 1e-3)

    hidden = Scaled(1, 2, "sigmoid", rng=0)
    hidden.weights.data[...], hidden.biases.data[...] = 1.0, 0.0
    network = nn.Network(hidden, nn.Layer(2, 1, "identity", rng=1))
    assert _saturation_warnings(network, np.full((10, 1), 100.0)) == []  # its z is 0.1, not 100


# --- the tree player's language and classify_stationary_point's message -------------------------------------------
def test_the_tree_players_page_is_in_the_language_given() -> None:
    """V9: the dependency tree's player (a network's cost) takes lang too, not only the graph's."""
    net = nn.Network(nn.Layer(1, 1, "sigmoid", rng=0), nn.Layer(1, 1, "sigmoid", rng=1))
    cost = losses.squared_error(net(np.array([0.5])), np.array([0.25]))
    player = viz.backprop_player(cost, layout="tree", lang="ja")
    assert '<html lang="ja">' in player.html()


def test_classify_given_a_function_names_it() -> None:
    """C2: the message names the function given, as the student wrote it."""
    from tinygrad_edu.calculus import classify_stationary_point

    def bowl(x):  # type: ignore[no-untyped-def]
        return (x * x).sum()

    with pytest.raises(TypeError, match=r"not the function bowl;"):
        classify_stationary_point(bowl)
