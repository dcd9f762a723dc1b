"""Round 44's loose ends in the player, the drawings, the command line, the files and the gradient checker."""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers_cli import error_of, uniform_model

from tinygrad_edu import Op, Value, no_grad, player
from tinygrad_edu import functional as F
from tinygrad_edu.cli import main
from tinygrad_edu.engine import backward_order
from tinygrad_edu.graph import nearest_values
from tinygrad_edu.player import backprop_steps, display_names, pass_gradients
from tinygrad_edu.testing import GradientCheckError, check_gradients


def _concatenated() -> tuple[Value, list[Value]]:
    p, q, r = (Value(np.array(v), label=n) for v, n in (([1.0, 2.0], "p"), ([3.0], "q"), ([4.0, 5.0], "r")))
    cost = (F.concatenate([p, q, r]) ** 2).sum()
    return cost, [p, q, r]


def test_the_player_steps_through_one_operations_inputs_first_to_last():
    cost, (p, q, r) = _concatenated()
    kept, total = nearest_values(cost)
    titles = [s.title for s in backprop_steps(cost, kept, total, display_names(kept)) if s.phase == "backward"]
    assert [t.rsplit("∂", 1)[1] for t in titles[-3:]] == ["p", "q", "r"], titles


def test_the_reading_order_comes_to_each_value_after_all_its_users():
    """Any such order gives each Value its whole gradient at its step; an input used by another keeps its place."""
    x = Value(np.array([1.0, -2.0]), label="x")
    y = x * 3.0
    cost = (F.concatenate([x, y, x.exp()]) ** 2).sum()
    order = player.reading_order(cost)
    at = {id(n): k for k, n in enumerate(order)}
    assert all(at[id(u)] < at[id(p)] for u in order for p in u.parents if id(p) in at)
    assert sorted(map(id, order)) == sorted(map(id, backward_order(cost)))
    grads = pass_gradients(cost)
    # ∂/∂x of ‖[x, 3x, eˣ]‖²: 2x + 18x + 2e²ˣ, the closed form
    np.testing.assert_allclose(grads[id(x)], 20 * x.data + 2 * np.exp(2 * x.data))


# --- 3: the command line reads numbers as numpy does, on the command line as in a file ---------------------------
@pytest.mark.parametrize(("word", "written"), [("1_000", "1000"), ("١٢", "12"), ("１.５", "1.5")])
def test_predict_refuses_what_numpy_refuses_on_the_command_line_and_in_a_file(capsys, tmp_path, word, written):
    """float() reads 1_000 and digits other than 0-9; numpy.loadtxt refuses them, and so does predict, either way."""
    with pytest.raises(ValueError):
        np.loadtxt([word])
    model = uniform_model(tmp_path / "m.npz", [1, 1])
    error = error_of(capsys, ["predict", str(model), "0.5", word])
    assert f"argument X: expected a number, got {word!r}" in error and f"write {written}" in error, error
    inputs = tmp_path / "x.txt"
    inputs.write_text(f"0.5\n{word}\n", encoding="utf-8")
    error = error_of(capsys, ["predict", str(model), "--inputs-file", str(inputs)])
    assert "line 2" in error and f"{word!r} is not a number" in error and f"write {written}" in error, error


def test_predict_still_reads_what_numpy_reads(capsys, tmp_path):
    model = uniform_model(tmp_path / "m.npz", [1, 1], weight=2.0)
    words = ["1e3", "+.5", "-2.", " 7"]
    assert main(["predict", str(model), "--", *words]) == 0
    printed = [float(line.split("→")[1]) for line in capsys.readouterr().out.splitlines() if "→" in line]
    assert printed == [2 * x for x in np.loadtxt(words)], printed


# --- 4: a drawing of exp(1000)·0 shows inf and nan without numpy's warnings a second time --------------------------
def test_drawings_of_inf_times_zero_show_the_nan_without_warning_again(recwarn):
    """backward() warned (0 × inf in its multiply); the drawings' own pass through the same numbers is silent."""
    from tinygrad_edu import viz
    from tinygrad_edu.dependency_tree import dependency_tree

    with np.errstate(all="ignore"):
        x, w = Value(1000.0, label="x"), Value(0.0, label="w")
        cost = x.exp() * w
        cost.label = "C"
        cost.backward()
    assert np.isnan(x.grad) and np.isinf(w.grad)
    recwarn.clear()
    steps = viz.backprop_player(cost, layout="graph").steps
    viz.draw_graph(cost)
    dependency_tree(cost, gradients=pass_gradients(cost))
    assert [str(w.message) for w in recwarn] == []
    last = next(s for s in steps if s.title.endswith("∂C/∂x"))
    assert "0 × inf = nan" in last.html and "∂C/∂x = nan" in last.html, last.html



# --- 5: the gradient checker's in-place note only where the change hides a slope -------------------------------
#: x² with a vjp 10 % too large: a failure that has nothing to do with the inputs' changes.
BAD_SQUARE = Op("bad_square", lambda x: x * x, lambda g, out, x: 2.2 * g * x)


def _failure(f) -> str:
    with pytest.raises(GradientCheckError) as caught:
        check_gradients(f, np.array([0.3, -1.2]))
    return str(caught.value)


def test_a_shift_under_no_grad_before_any_use_is_not_called_a_hidden_change():
    """f(x) = bad_square(x + ½): the shift's slope is 1, so the table (1.76 against 2·0.8 = 1.6) is about the vjp."""
    def f(x: Value) -> Value:
        with no_grad():
            x += 0.5
        return BAD_SQUARE(x).sum()

    message = _failure(f)
    assert re.search(r"\(0,\)\s+1\.76\s+1\.6\b", message), message
    assert "in place" not in message, message


@pytest.mark.parametrize("change", ["scale", "shift by another input"])
def test_a_change_that_hides_a_slope_is_still_noted(change):
    """x *= 2 under no_grad: backpropagation gives 2·(2x), the finite differences 4·(2x); x += y hides ∂/∂y."""
    def f(x: Value, y: Value) -> Value:
        with no_grad():
            if change == "scale":
                x *= 2.0
            else:
                x += y
        return (x * x).sum()

    with pytest.raises(GradientCheckError, match=r"f changes its input\(s\) 0 in place"):
        check_gradients(f, np.array([0.3, -1.2]), np.array([0.5, 2.0]))


# --- 2: a regularised weight's edge to the cost says its local derivative, 2·λ·W --------------------------------
@pytest.mark.parametrize(("penalty", "formula"), [(lambda W: 0.1 * (W ** 2).sum(), "2·0.1·W¹"),
                                                  (lambda W: (W * W).sum() * 0.1, "2·0.1·W¹"),
                                                  (lambda W: (W ** 2).mean(), "2·W¹")])
def test_the_edge_from_a_regularisation_term_to_its_weight_says_2_lambda_w(penalty, formula):
    from tinygrad_edu import losses, nn
    from tinygrad_edu.dependency_tree import dependency_tree

    net = nn.Network(nn.Layer(1, 1, "sigmoid", rng=0), nn.Layer(1, 1, "sigmoid", rng=1))
    weight = net.parameters()[0]
    cost = losses.squared_error(net(np.array([0.5])), np.array([0.25])) + penalty(weight)
    cost.label = "C"
    edge = next(e for e in dependency_tree(cost).edges if e.parent == "W^1" and e.child == "C")
    assert edge.formula == formula, edge
    lam = 0.1 if "0.1" in formula else 1.0
    assert edge.number == pytest.approx(2 * lam * float(weight.data.reshape(())), rel=1e-12)  # d(λW²)/dW = 2λW


def test_another_way_from_a_weight_to_the_cost_keeps_no_formula():
    """C = … + ΣW³: ∂/∂W is 3W², no 2·W; the edge keeps its number only."""
    from tinygrad_edu import losses, nn
    from tinygrad_edu.dependency_tree import dependency_tree

    net = nn.Network(nn.Layer(1, 1, "sigmoid", rng=0), nn.Layer(1, 1, "sigmoid", rng=1))
    weight = net.parameters()[0]
    cost = losses.squared_error(net(np.array([0.5])), np.array([0.25])) + (weight ** 3).sum()
    cost.label = "C"
    edge = next(e for e in dependency_tree(cost).edges if e.parent == "W^1" and e.child == "C")
    assert edge.formula == "" and edge.number == pytest.approx(3 * float(weight.data.reshape(())) ** 2)


# --- 7: PyTorch's loops over a Dataset's samples are refused on Python 3.10 as on later ones ----------------------
@pytest.mark.parametrize(("code", "said"), [
    ("for i, (x, y) in enumerate(ds): pass", r"for i, \(x, y\) in enumerate\(ds\) goes through the pair"),
    ("[x for i, (x, y) in enumerate(ds, 1)]", r"for i, \(x, y\) in enumerate\(ds\) goes through the pair"),
    ("x, y = next(iter(ds))", r"x, y = next\(iter\(ds\)\) unpacks the inputs"),
    ("for x, y in reversed(ds): pass", r"for x, y in reversed\(ds\) goes through the pair")])
def test_pytorchs_loops_over_samples_are_refused_on_every_python(code, said):
    """Python 3.10's bytecode has no columns to tell the call by: its arguments, loads, are counted back instead.
    Two samples: the pair unpacked silently into the two samples' inputs, then their labels."""
    from tinygrad_edu.data import Dataset

    ds = Dataset(np.arange(4.0).reshape(2, 2), np.array([[0, 1], [1, 0]]))
    with pytest.raises(TypeError, match=said):
        exec(code, {"ds": ds})


def test_the_loops_over_a_datasets_two_arrays_still_run_on_every_python():
    from tinygrad_edu.data import Dataset

    ds = Dataset(np.arange(4.0).reshape(2, 2), np.array([0, 1]))
    found: dict = {"ds": ds}
    exec("a = [i for i, arrays in enumerate(ds)]; b = list(ds); c, d = tuple(iter(ds)); e = next(iter(ds))", found)
    assert found["a"] == [0, 1] and found["b"][1] is ds.labels and found["d"] is ds.labels and found["e"] is ds.inputs
