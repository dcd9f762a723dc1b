"""Round 48's mutation pass: each test kills hand mutants of the round's diff that the round's own tests
(tests/test_*_r48.py) and the tests near the changed modules let live (the mutant's id in the docstring: the
round's report lists them).  Messages by the words that matter; stopping by the reason and the count of passes."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

from tinygrad_edu import Op, Value, nn, optim, training, viz
from tinygrad_edu.engine import apply
from tinygrad_edu.player import BackpropPlayer, _in_page_language
from tinygrad_edu.training import fit

X = np.linspace(-1, 1, 50).reshape(-1, 1)


def _net() -> nn.MLP:
    return nn.MLP([1, 8, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)


# --- engine: a forward's OverflowError is still the ValueError naming the op ----------------------------------------
def test_a_forwards_overflow_error_is_a_value_error_naming_the_op_and_shapes() -> None:
    """E5 (OverflowError taken for a forward's own error): math.exp(1000) in a forward is Python's "math range
    error", which the engine names as numpy's refusals, a ValueError, not an OverflowError with a note."""
    huge = Op("huge", lambda x: x * math.exp(1000), lambda g, out, x: g)
    with pytest.raises(ValueError, match=r"^huge: math range error \(input shapes \(\)\)$"):
        apply(huge, Value(1.0))


# --- engine: the refusal of % says which way round the jumps lie ----------------------------------------------------
def test_the_refusal_of_a_remainder_by_a_value_says_where_it_jumps() -> None:
    """E27 (the tables' first column swapped): m % v jumps where m / v is whole, v % m at every multiple of m."""
    v = Value(3.0)
    with pytest.raises(TypeError, match=r"^%: m % v takes a remainder, which jumps wherever m / v is a whole number"):
        _ = 2 % v
    with pytest.raises(TypeError, match=r"^%: v % m takes a remainder, which jumps at every multiple of m "):
        _ = v % 2
    with pytest.raises(TypeError, match=r"^divmod: divmod\(m, v\) is a floor division and a remainder, which jump "
                                        r"wherever m / v is a whole number"):
        divmod(2, v)


# --- player: a name is marked only as a whole word, the longest first -----------------------------------------------
def test_a_name_inside_a_word_of_the_prose_is_not_marked() -> None:
    """P1 (the look-behind dropped): a name "ate" is no part of "rate"; "Gewicht" alone is marked."""
    assert _in_page_language("<p>the rate of Gewicht</p>", "de", ("ate", "Gewicht")) == (
        '<p>the rate of <span lang="de">Gewicht</span></p>')


def test_of_two_names_one_starting_the_other_the_longer_is_marked_whole() -> None:
    """P3 (the names tried shortest first): "net.w" ends before a dot, so it would be marked inside "net.w.b"."""
    assert _in_page_language("<p>∂C/∂net.w.b and ∂C/∂net.w</p>", "de", ("net.w", "net.w.b")) == (
        '<p>∂C/∂<span lang="de">net.w.b</span> and ∂C/∂<span lang="de">net.w</span></p>')


def _steps() -> list:
    gewicht = Value(0.5, requires_grad=True, label="Gewicht")
    return viz.backprop_player(((gewicht * 2.0) ** 2).sum(), lang="de").steps


@pytest.mark.parametrize("names", [("",), "Gewicht", ("Gewicht", 1)], ids=["empty name", "a str", "a number"])
def test_the_player_refuses_names_that_are_not_a_tuple_of_names(names) -> None:
    """P5 (an empty name let through: it matches between every two letters), P6 (the check dropped: a str would be
    taken letter by letter)."""
    with pytest.raises(TypeError, match=r"^BackpropPlayer: names must be a tuple of the names the user gave"):
        BackpropPlayer(_steps(), None, lang="de", names=names)


# --- fit: cost_goal ---------------------------------------------------------------------------------------------------
def _train(**options: object) -> training.History:
    net = _net()
    return fit(net, X, X**2, optimizer=optim.GradientDescent(net, learning_rate=0.1), episodes=40, seed=0,
               progress=False, **options)


def test_mini_batches_name_the_cost_goal_where_it_and_tol_hold_in_the_same_episode() -> None:
    """R6 (tol checked first with mini-batches): fit's docstring says the cost is checked first, as full batch."""
    plain = _train(batch_size=10)
    cost, norm = plain.cost, plain.gradient_norm
    k = next(k for k in range(5, 40) if cost[k] < min(cost[:k]) and norm[k] < min(norm[:k]))  # both first hold at k
    both = _train(batch_size=10, cost_goal=cost[k], tol=norm[k])
    assert both.stopped == "cost goal" and both.episodes == k + 1
    assert _train(batch_size=10, tol=norm[k]).episodes == k + 1  # (tol alone stops there too)


def test_a_full_batch_run_stopped_at_the_cost_goal_makes_no_pass_after_it() -> None:
    """R7, R11 (the cost goal left out of the stops with no update): the cost on all samples is that episode's,
    with no pass of the model after it, as for tol."""
    net, calls = _net(), []

    def model(x: Value) -> Value:
        calls.append(x.shape)
        return net(x)

    plain = _train()
    history = fit(model, X, X**2, optimizer=optim.GradientDescent(net, learning_rate=0.1), episodes=40,
                  cost_goal=plain.cost[5], progress=False)
    assert history.stopped == "cost goal" and history.episodes == 6
    assert history.final_cost == history.cost[-1] == plain.cost[5]
    assert len(calls) == 6  # one forward pass an episode, none after


def test_the_progress_bar_of_a_run_stopped_at_the_cost_goal_ends_full(monkeypatch) -> None:
    """R10 (the cost goal left out of _close_progress's stops): the bar's total is the episodes run, not the
    episodes asked for (the bar would stay at 6/40, as if training had broken off)."""
    tqdm = pytest.importorskip("tqdm").tqdm
    bars = []

    def bar(enabled: bool, episodes: int, label: str) -> object:
        bars.append(tqdm(total=episodes, desc=label, file=io.StringIO()))
        return bars[-1]

    monkeypatch.setattr(training, "_progress_bar", bar)
    plain = _train()
    history = _train(cost_goal=plain.cost[5])
    assert history.episodes == 6 and bars[-1].total == bars[-1].n == 6


# --- viz: the slow layout's warning counts the Values drawn ---------------------------------------------------------
def test_the_slow_layout_warning_counts_the_values_drawn_not_all_of_the_graph() -> None:
    """V4 (the graph's total counted): 1,100 of its 1,201 Values drawn are 1,100 for dot to lay out."""
    total = Value(0.0)
    for i in range(600):
        total = total + Value(float(i), requires_grad=True)
    with pytest.warns(UserWarning, match=r"^draw_graph: 1,100 Values to draw, more than 1,000"):
        viz.draw_graph(total, max_nodes=1100)


# --- viz: the room kept for a wider font is never negative, and kept where dot cannot be asked ----------------------
def _measured(monkeypatch, helvetica: float, dejavu: float) -> None:
    """Graphviz's ``plain`` output as if it measured the two test nodes this wide (inches)."""
    import subprocess

    plain = f"graph 1 20 2\nnode h 5 1.5 {helvetica} 1.4 x plaintext\nnode d 5 0.5 {dejavu} 1.4 x plaintext\nstop\n"
    monkeypatch.setattr(viz, "_dot", lambda *args: subprocess.CompletedProcess(args, 0, plain.encode(), b""))


def test_a_font_graphviz_measures_wider_than_dejavu_sans_gets_no_room_and_no_negative_pad(monkeypatch) -> None:
    """V9 (the floor at 0 dropped): a negative pad would cut the key's ends off; 10 % wider: 0.1; more: 0.15."""
    _measured(monkeypatch, helvetica=50.0, dejavu=40.0)
    assert viz._wider_viewer.__wrapped__("Wide") == 0.0
    _measured(monkeypatch, helvetica=40.0, dejavu=44.0)
    assert viz._wider_viewer.__wrapped__("Narrow") == pytest.approx(0.1)
    _measured(monkeypatch, helvetica=40.0, dejavu=60.0)
    assert viz._wider_viewer.__wrapped__("Narrower") == 0.15


def test_without_dot_to_ask_the_room_kept_is_the_common_case(monkeypatch) -> None:
    """V10 (0 where dot is missing): the source saved here is rendered elsewhere, where Helvetica is often Arial."""
    def no_dot(*args: object) -> None:
        raise FileNotFoundError("dot")

    monkeypatch.setattr(viz, "_dot", no_dot)
    assert viz._wider_viewer.__wrapped__("Helvetica") == 0.15


# --- player: the user's names from names=, on the tree's page and on a page without a drawing -----------------------
_MARKED = '<span lang=\\"de\\">{}</span>'


def _page(player: BackpropPlayer) -> str:
    return player.html().replace("<\\/", "</")  # (the steps' JSON)


def test_a_name_given_by_names_is_marked_as_the_pages_language() -> None:
    """V17 (only the Values' labels read): an unlabelled weight named through names= is the user's name too."""
    w = Value(0.5, requires_grad=True)
    page = _page(viz.backprop_player(((w * 2.0) ** 2).sum(), names={"Gewicht": w}, lang="de"))
    assert _MARKED.format("Gewicht") in page


def test_the_trees_page_marks_the_users_names() -> None:
    """V18 (the tree's player given no names): a chain network's target and cost named in German."""
    net = nn.MLP([1, 1, 1], activation="sigmoid", rng=0)
    cost = ((net(Value(np.array([0.5]))) - Value(np.array([0.3]), label="Ziel")) ** 2).sum()
    cost.label = "Kosten"
    page = _page(viz.backprop_player(cost, layout="tree", lang="de", model=net))
    assert _MARKED.format("Ziel") in page and _MARKED.format("Kosten") in page


def test_a_page_without_graphviz_marks_the_users_names(monkeypatch) -> None:
    """V20 (the page without a drawing given no names): its steps are the same prose and names."""
    def no_dot(*args: object) -> None:
        raise FileNotFoundError("dot")

    monkeypatch.setattr(viz, "_laid_out", no_dot)
    gewicht = Value(0.5, requires_grad=True, label="Gewicht")
    player = viz.backprop_player(((gewicht * 2.0) ** 2).sum(), layout="graph", lang="de")
    assert player.drawing_svg is None and _MARKED.format("Gewicht") in _page(player)


# --- write_instead: m // v is a floor division, as v // m is ----------------------------------------------------------
def test_the_refusal_of_a_floor_division_by_a_value_says_what_it_is() -> None:
    """W1 (the reflected // given the remainder's words): m // v is no remainder."""
    with pytest.raises(TypeError, match=r"^//: m // v is a floor division, constant between its jumps \(its "
                                        r"derivative is 0 wherever it has one\)"):
        _ = 2 // Value(3.0)


# --- losses: one number for one output, the seed's C = (α^L − y')² --------------------------------------------------
@pytest.mark.parametrize(("prediction", "target"), [([0.5], 1.0), (0.5, [1.0]), ([[0.5]], [1.0])],
                         ids=["(1,) and a number", "() and (1,)", "(1, 1) and (1,)"])
def test_one_output_against_one_target_number_is_the_seeds_cost_whatever_their_shapes(prediction, target) -> None:
    """L1 (the reshape of one number for one dropped): C = (0.5 − 1)² = 0.25, ∂C/∂α = 2(α − y') = −1."""
    from tinygrad_edu.losses import squared_error

    alpha = Value(prediction, requires_grad=True)
    cost = squared_error(alpha, np.array(target))
    cost.backward()
    assert cost.item() == 0.25 and alpha.grad.shape == alpha.shape and alpha.grad.item() == -1.0
