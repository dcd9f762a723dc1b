"""Round 44's mutation pass: tests that kill the hand mutants of the round's changes which the round's own tests
(and those near the changed modules) let survive, each where a user would see wrong numbers or a wrong message."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_edu import Op, Value, detect_anomaly, optim, plots
from tinygrad_edu.autodiff import grad


# --- engine: f"{c:.3f}" of a constant inside a recorded vjp reads back (only a Value requiring a gradient is refused)
def test_a_constants_text_reads_back_inside_a_recorded_vjp() -> None:
    """c·x² whose vjp reads the constant c back from its text: c needs no gradient, so nothing is lost at the second
    order, and float(f"{c:.3f}") works as float(c) does: d²/dx² c·x² = 2c exactly."""
    c = Value(1.5, requires_grad=False)
    op = Op("scaled_square", lambda x: 1.5 * x * x, lambda g, out, x: g * 2 * float(f"{c:.3f}") * x)
    assert float(grad(op)(0.7).data) == pytest.approx(2 * 1.5 * 0.7, rel=1e-12)
    assert float(grad(grad(op))(0.7).data) == 3.0


# --- optim: detect_anomaly's own refusal keeps its words (only numpy's errstate errors are reworded) --------------
def test_an_anomaly_refusal_of_an_update_keeps_its_own_words() -> None:
    a, b = Value(np.array([1.0])), Value(np.array([1.7e308]))
    a.grad, b.grad = np.array([1.0]), np.array([-1.0])
    opt = optim.SGD([a, b], learning_rate=1e308)
    with detect_anomaly(), np.errstate(over="ignore"), pytest.raises(FloatingPointError) as caught:
        opt.step()
    message = str(caught.value)
    assert "NaN or inf" in message and "np.errstate" not in message, message
    assert a.data.tolist() == [1.0] and b.data.tolist() == [1.7e308]


# --- plots: descent_path under a caller's np.errstate(under="raise") -----------------------------------------------
def test_descent_path_whose_step_underflows_under_errstate_raise_ends_where_it_rounds_away() -> None:
    """f(x) = 1e-300·x²: ∇f(1) = 2e-300, η·∇f = 2e-310 (below the smallest normal number), and 1 − 2e-310 is 1: the
    path is the start alone, not numpy's bare "underflow encountered"."""
    f = lambda x: 1e-300 * (x ** 2).sum()  # noqa: E731
    with np.errstate(under="raise"):
        path = plots.descent_path(f, [1.0], 1e-10, steps=5)
    assert path.tolist() == [[1.0]]


# --- dependency tree: 2·λ·W only for C = … + λ·ΣW² ----------------------------------------------------------------
def _weight_edge(penalty):
    from tinygrad_edu import losses, nn
    from tinygrad_edu.dependency_tree import dependency_tree

    net = nn.Network(nn.Layer(1, 1, "sigmoid", rng=0), nn.Layer(1, 1, "sigmoid", rng=1))
    weight = net.parameters()[0]
    cost = losses.squared_error(net(np.array([0.5])), np.array([0.25])) + penalty(weight)
    cost.label = "C"
    return next(e for e in dependency_tree(cost).edges if e.parent == "W^1" and e.child == "C"), weight


def test_a_penalty_scaled_twice_keeps_no_formula_that_drops_a_factor() -> None:
    """C = … + 0.5·(0.01·ΣW²): ∂/∂W = 2·0.5·0.01·W; a formula naming one of the two factors would be wrong."""
    edge, weight = _weight_edge(lambda W: 0.5 * (0.01 * (W ** 2).sum()))
    assert edge.formula == "", edge
    assert edge.number == pytest.approx(2 * 0.5 * 0.01 * float(weight.data.reshape(())), rel=1e-12)


def test_a_penalty_through_another_function_keeps_no_formula() -> None:
    """C = … + exp(0.01·ΣW²): ∂/∂W = 2·0.01·W·exp(0.01·W²), not 2·0.01·W."""
    edge, weight = _weight_edge(lambda W: (0.01 * (W ** 2).sum()).exp())
    w = float(weight.data.reshape(()))
    assert edge.formula == "", edge
    assert edge.number == pytest.approx(2 * 0.01 * w * np.exp(0.01 * w * w), rel=1e-12)


# --- gradient checker: the in-place note for a change with a slope other than 1 -----------------------------------
def test_a_small_scaling_under_no_grad_is_still_noted() -> None:
    """x *= 1.001 under no_grad: the change is 0.001·x, different at the shifted inputs (a slope of 1.001 hidden from
    backpropagation), however small."""
    from tinygrad_edu import no_grad
    from tinygrad_edu.testing import GradientCheckError, check_gradients

    def f(x: Value) -> Value:
        with no_grad():
            x *= 1.001
        return (x * x * x).sum()

    with pytest.raises(GradientCheckError, match=r"f changes its input\(s\) 0 in place"):
        check_gradients(f, np.array([0.3, -1.2]))


def test_a_change_where_f_fails_at_every_shifted_input_is_still_noted() -> None:
    """x *= 2 under no_grad, by an f defined on [0.25, 1.25] only: at both shifted inputs it fails, so nothing is
    known there, and the change is noted rather than taken for a shift of slope 1."""
    from tinygrad_edu import no_grad
    from tinygrad_edu.testing import GradientCheckError, check_gradients

    def f(x: Value) -> Value:
        if (x.data < 0.25).any() or (x.data > 1.25).any():
            raise ValueError("f: defined on [0.25, 1.25]")
        with no_grad():
            x *= 2.0
        return (x * x).sum()

    with pytest.raises(GradientCheckError, match=r"f changes its input\(s\) 0 in place"):
        check_gradients(f, np.array([0.3, 1.2]))


# --- cli: a file's name given where a number goes, in full and with the --inputs-file advice, whatever its suffix ---
def test_predict_given_an_existing_file_of_any_suffix_as_a_number_names_it_in_full(capsys, tmp_path) -> None:
    from helpers_cli import error_of, uniform_model

    model = uniform_model(tmp_path / "m.npz", [1, 1])
    data = tmp_path / ("inputs_of_a_long_experiment_name" * 2 + ".numbers")
    data.write_text("0.1\n", encoding="utf-8")
    error = error_of(capsys, ["predict", str(model), str(data)])
    assert f"expected a number, got {str(data)!r}" in error and f"--inputs-file {data}" in error, error


def test_a_files_python_style_number_is_said_to_be_no_files_number(capsys, tmp_path) -> None:
    """In a file, 1_000 is 'Python's way of writing numbers, not a file's' (on the command line: 'not numpy's')."""
    from helpers_cli import error_of, uniform_model

    model = uniform_model(tmp_path / "m.npz", [1, 1])
    inputs = tmp_path / "x.txt"
    inputs.write_text("0.5\n1_000\n", encoding="utf-8")
    error = error_of(capsys, ["predict", str(model), "--inputs-file", str(inputs)])
    assert "_ between digits is Python's way of writing numbers, not a file's: write 1000" in error, error


# --- player: the reading order moves an operation's inputs only where they stand together --------------------------
def test_inputs_apart_in_the_engines_order_keep_their_places() -> None:
    """z = p·q with q = 3p + 1: the engine goes z, q, w, p (p after w, which uses it); putting p in q's place would
    show p's step before w's gradient reached it, an incomplete ∂z/∂p (q + 3p = 13, not q = 7)."""
    from tinygrad_edu import player
    from tinygrad_edu.player import pass_gradients

    p = Value(2.0, label="p")
    w = p * 3.0
    q = w + 1.0
    z = p * q
    order = player.reading_order(z)
    at = {id(n): k for k, n in enumerate(order)}
    assert all(at[id(u)] < at[id(parent)] for u in order for parent in u.parents if id(parent) in at)
    assert [id(n) for n in order] == [id(z), id(q), id(w), id(p)]
    assert float(pass_gradients(z)[id(p)]) == 13.0  # ∂(p·(3p + 1))/∂p = 6p + 1


def test_the_steps_go_forward_oldest_first_and_the_trees_back_through_inputs_first_to_last() -> None:
    from tinygrad_edu.dependency_tree import dependency_tree
    from tinygrad_edu.graph import nearest_values
    from tinygrad_edu.player import backprop_steps, display_names, tree_steps

    p, q = Value(2.0, label="p"), Value(3.0, label="q")
    z = p * q
    z.label = "z"
    cost = (z - 1.0) ** 2
    cost.label = "C"
    kept, total = nearest_values(cost)
    forward = [s.title for s in backprop_steps(cost, kept, total, display_names(kept)) if s.phase == "forward"]
    assert [t.rsplit(": ", 1)[1] for t in forward][0] == "z" and forward[-1].endswith(": C"), forward
    steps = tree_steps(cost, dependency_tree(cost))
    assert [s.title.rsplit("∂", 1)[1] for s in steps if s.phase == "backward"] == ["C", "z", "p", "q"]
    assert [s.title.rsplit(": ", 1)[1] for s in steps if s.phase == "forward"] == ["z", "C"]


# --- drawings: inf and nan from the user's own backward() are drawn without numpy's warnings a second time ---------
def _cube_times_zero() -> tuple[Value, Value]:
    x, w = Value(1e200, label="x"), Value(0.0, label="w")  # ∂C/∂x = 0·3x² = 0·inf
    return (x ** 3) * w, x


def _two_infinite_paths() -> tuple[Value, Value]:
    x = Value(1000.0, label="x")  # ∂C/∂x = e¹⁰⁰⁰ − e¹⁰⁰⁰ = inf − inf
    return x.exp() - x.exp(), x


@pytest.mark.parametrize("make", [_cube_times_zero, _two_infinite_paths])
def test_the_player_and_graph_of_infinite_numbers_warn_no_more(recwarn, make) -> None:
    from tinygrad_edu import viz

    with np.errstate(all="ignore"):
        cost, x = make()
        cost.label = "C"
        cost.backward()
    assert np.isnan(x.grad)
    recwarn.clear()
    steps = viz.backprop_player(cost, layout="graph").steps
    viz.draw_graph(cost)
    assert [str(w.message) for w in recwarn] == []
    assert "∂C/∂x = nan" in next(s for s in steps if s.title.endswith("∂C/∂x")).html


# --- optim: np.errstate(invalid="raise") alone is a caller's errstate too ------------------------------------------
def test_an_update_to_nan_under_errstate_invalid_raise_changes_nothing() -> None:
    """Parameter 1 is inf (an earlier step overflowed, allowed then) and its step η·g is inf: inf − inf is NaN, which
    np.errstate(invalid="raise") refuses after parameter 0 changed; the step says so and puts parameter 0 back."""
    a, b = Value(np.array([1.0])), Value(np.array([np.inf]))
    a.grad, b.grad = np.array([1.0]), np.array([1e308])
    opt = optim.SGD([a, b], learning_rate=1e308)
    with np.errstate(invalid="raise", over="ignore"), pytest.raises(FloatingPointError) as caught:
        opt.step()
    message = str(caught.value)
    assert message.startswith("SGD.step: the update x ← x − η·v gave numbers that are not finite for parameter 1")
    assert "invalid value encountered" in message and message.endswith("the parameters are unchanged"), message
    assert a.data.tolist() == [1.0] and b.data.tolist() == [np.inf]


def test_predict_reads_a_number_with_unicode_spaces_around_it_as_numpy_does(capsys, tmp_path) -> None:
    """'\\xa012' (a no-break space, as pasted from a web page): float() and numpy.loadtxt both read 12."""
    from helpers_cli import uniform_model

    from tinygrad_edu.cli import main

    model = uniform_model(tmp_path / "m.npz", [1, 1], weight=2.0)
    words = ["\xa012", "3\u2003"]
    assert np.loadtxt(words).tolist() == [12.0, 3.0]
    assert main(["predict", str(model), "--", *words]) == 0
    printed = [float(line.split("→")[1]) for line in capsys.readouterr().out.splitlines() if "→" in line]
    assert printed == [24.0, 6.0], printed


# --- engine: _record's written-out one-input case takes a constant's array too -------------------------------------
def test_a_one_input_op_applied_to_a_constant_gives_a_constant_value() -> None:
    """apply(op, array) of a one-input Op: the constant reaches _record as its array, not a Value."""
    from tinygrad_edu import apply

    square = Op("square_of_a_constant", lambda x: x * x, lambda g, out, x: 2 * g * x)
    for given, expected in ((np.array([3.0, -0.5]), [9.0, 0.25]), (2.0, 4.0)):
        out = apply(square, given)
        assert np.asarray(out.data).tolist() == expected and not out.requires_grad
