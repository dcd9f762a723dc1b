"""micrograd's idioms written from memory by a student who moves to this package: each either gives micrograd's
numbers (compared with the installed ``micrograd`` package, same expression in both) or fails at once with a
message that says what to write here.  The tests of Neuron, nonlin=, draw_dot, format= and micrograd's Values
mixed in are the defects this pass found."""

from __future__ import annotations

import random
import re
from typing import Any

import numpy as np
import pytest

from tinygrad_edu import Value, nn, viz


def _micrograd() -> Any:
    return pytest.importorskip("micrograd.engine")


# --- names micrograd has that are written differently here ----------------------------------------------------

def test_micrograds_neuron_says_what_it_is_here() -> None:
    with pytest.raises(AttributeError, match=r"'Neuron' \(a micrograd name\); .*nn\.Layer\(nin, 1, "
                                             r"activation='relu'\)") as raised:
        _ = nn.Neuron
    assert raised.value.name == "Neuron"
    assert not hasattr(nn, "Neuron")


def test_micrograds_nonlin_keyword_says_which_activation_and_the_advice_gives_micrograds_numbers() -> None:
    with pytest.raises(TypeError, match=r"^Layer: there is no argument nonlin=.*nonlin=True is activation='relu'"
                                        r".*nonlin=False is activation='identity'"):
        nn.Layer(3, 2, nonlin=False)
    mg = pytest.importorskip("micrograd.nn")
    random.seed(3)
    for nonlin, activation in ((True, "relu"), (False, "identity")):
        theirs = mg.Layer(3, 2, nonlin=nonlin)
        ours = nn.Layer(3, 2, activation=activation)
        ours.weights.data = np.array([[w.data for w in n.w] for n in theirs.neurons]).T
        ours.biases.data = np.array([n.b.data for n in theirs.neurons])
        for x in ([1.0, -2.0, 0.5], [-1.0, 0.5, -3.0]):
            np.testing.assert_allclose(ours(np.array(x)).data, [v.data for v in theirs(x)], rtol=1e-14)


def test_micrograds_draw_dot_says_it_is_draw_graph_here() -> None:
    with pytest.raises(AttributeError, match=r"'draw_dot'; micrograd's draw_dot\(root\) is draw_graph\(root\) here"):
        _ = viz.draw_dot
    with pytest.raises(AttributeError, match=r"has no attribute 'draw_graf'$"):
        _ = viz.draw_graf  # any other name: Python's message, nothing added


def test_draw_graph_with_micrograds_format_keyword_says_where_the_format_goes() -> None:
    a = Value(2.0, label="a")
    with pytest.raises(TypeError, match=r"^draw_graph: there is no argument format=.*\.format = 'svg'"):
        viz.draw_graph(a * a, format="svg")
    drawing = viz.draw_graph(a * a, rankdir="LR")  # the advice works: the format is set on the drawing
    drawing.format = "svg"
    assert drawing.format == "svg" and "rankdir=LR" in drawing.source


def test_micrograds_values_mixed_in_are_named_as_another_librarys_with_what_to_write() -> None:
    engine = _micrograd()
    theirs = engine.Value(3.0)
    hint = r"it holds micrograd\.engine\.Value objects, another library's Values: .*from tinygrad_edu import Value"
    for call, where in ((lambda: Value(theirs), "Value"), (lambda: Value([theirs, engine.Value(1.0)]), "Value"),
                        (lambda: Value(2.0) + theirs, "add"), (lambda: Value(2.0) * theirs, "mul"),
                        (lambda: nn.MLP([2, 1])([theirs, engine.Value(1.0)]), "matmul")):
        with pytest.raises(TypeError, match=rf"^{where}: .*dtype object.*{hint}"):
            call()
    with pytest.raises(TypeError, match=r"dtype object \(ndarray\) is not supported; use real numbers "
                                        r"\(int, float or bool\)$"):
        Value(np.array([object(), "text"], dtype=object))  # other objects: as before, nothing added
    assert (Value(2.0) + theirs.data).item() == 5.0  # the advice works: their numbers


_EXPRESSIONS = {
    "a**2 + b": lambda a, b: a ** 2 + b,
    "a**-1 * b": lambda a, b: a ** -1 * b,
    "2/a - b": lambda a, b: 2 / a - b,
    "-a * b": lambda a, b: -a * b,
    "relu": lambda a, b: (a * b).relu() + (a + b).relu() + a.relu(),
    "1 + -b*a": lambda a, b: (1 + -b * a).relu(),
    "a/b": lambda a, b: a / b,
    "sum of a list": lambda a, b: sum([a, b, a * b, 3.0]),
    "a + a": lambda a, b: a + a + b * 0,
    "3 * a * b - 1": lambda a, b: 3 * a * b - 1,
}


@pytest.mark.parametrize("expression", list(_EXPRESSIONS.values()), ids=list(_EXPRESSIONS))
def test_micrograds_expressions_give_micrograds_numbers_and_gradients(expression: Any) -> None:
    engine = _micrograd()
    for numbers in ((2.0, -3.0), (-1.5, 0.5), (0.25, 4.0)):
        theirs, ours = [engine.Value(x) for x in numbers], [Value(x) for x in numbers]
        out_theirs, out_ours = expression(*theirs), expression(*ours)
        out_theirs.backward()
        out_ours.backward()
        assert out_ours.item() == pytest.approx(out_theirs.data, rel=1e-14)
        for t, o in zip(theirs, ours):
            assert float(o.grad) == pytest.approx(t.grad, rel=1e-14, abs=1e-300)
            assert bool(o.grad > 0) == (t.grad > 0) and bool(o.grad < 0) == (t.grad < 0)
            if t.grad != 0:  # (a gradient of 0 may be -0.0 here and print as "-0.0000")
                assert f"{o.grad:.4f}" == f"{t.grad:.4f}"


def test_gradients_accumulate_over_two_backward_calls_as_in_micrograd() -> None:
    engine = _micrograd()
    theirs, ours = engine.Value(2.0), Value(2.0)
    for _ in range(2):
        (theirs * theirs + theirs).backward()
        (ours * ours + ours).backward()
    assert float(ours.grad) == theirs.grad == 2 * (2 * 2.0 + 1)


def test_micrograds_zeroing_with_a_number_is_refused_saying_what_to_write() -> None:
    p = Value(2.0)
    p.grad = 0
    with pytest.raises(ValueError, match=r"^backward: a leaf of shape \(\) has a \.grad of int 0.*zero_grad\(\)"):
        (p * p).backward()
    p.zero_grad()
    (p * p).backward()
    assert float(p.grad) == 4.0


def test_micrograds_prev_names_parents() -> None:
    with pytest.raises(AttributeError, match=r"'_prev'; write v\.parents"):
        _ = (Value(2.0) * 3)._prev


def test_micrograds_moons_loop_with_a_hinge_loss_over_a_list_gives_micrograds_numbers() -> None:
    """micrograd's demo loop (scores one sample at a time, the hinge loss over the list, ``sum`` of Values, L2
    regularization, ``zero_grad``, ``p.data -= lr * p.grad``), the weights copied from micrograd's MLP(2, [4, 4, 1])
    into MLP([2, 4, 4, 1], ReLU, linear output): the same costs and gradients step after step."""
    _micrograd()
    from micrograd.engine import Value as MValue
    from micrograd.nn import MLP as MMLP
    random.seed(7)
    theirs = MMLP(2, [4, 4, 1])
    ours = nn.MLP([2, 4, 4, 1], activation="relu", output_activation="identity")
    for layer_t, layer_o in zip(theirs.layers, ours.layers):
        layer_o.weights.data = np.array([[w.data for w in n.w] for n in layer_t.neurons]).T
        layer_o.biases.data = np.array([n.b.data for n in layer_t.neurons])
    X = np.random.default_rng(0).normal(size=(8, 2))
    y = np.array([1, -1, 1, -1, 1, -1, -1, 1])
    for k in range(3):
        scores_t = [theirs(list(map(MValue, row))) for row in X]
        loss_t = sum((1 + -yi * s).relu() for yi, s in zip(y, scores_t)) * (1.0 / len(y))
        loss_t = loss_t + 1e-4 * sum(p * p for p in theirs.parameters())
        scores_o = [ours(row) for row in X]
        loss_o = sum((1 + -yi * s).relu() for yi, s in zip(y, scores_o)) * (1.0 / len(y))
        loss_o = loss_o + 1e-4 * sum((p * p).sum() for p in ours.parameters())
        assert loss_o.item() == pytest.approx(loss_t.data, rel=1e-12)
        theirs.zero_grad()
        ours.zero_grad()
        loss_t.backward()
        loss_o.backward()
        for layer_t, layer_o in zip(theirs.layers, ours.layers):
            weights = np.array([[w.grad for w in n.w] for n in layer_t.neurons]).T
            np.testing.assert_allclose(layer_o.weights.grad, weights, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(layer_o.biases.grad, [n.b.grad for n in layer_t.neurons], rtol=1e-12, atol=1e-15)
        learning_rate = 1.0 - 0.9 * k / 100
        for p in theirs.parameters():
            p.data -= learning_rate * p.grad
        for q in ours.parameters():
            q.data -= learning_rate * q.grad


def test_backward_order_is_micrograds_topological_sort_reversed() -> None:
    """micrograd's backward walks ``reversed(topo)`` (build_topo over ``_prev``); here ``backward_order``: the same
    Values (each once), every Value before the Values it was computed from."""
    from tinygrad_edu.engine import backward_order
    engine = _micrograd()
    names = {"*": "mul", "+": "add", "ReLU": "relu"}
    built = []
    for V in (engine.Value, Value):
        a, b = V(2.0), V(-3.0)
        e = a * b
        built.append((e + a * a * b + e).relu())
    topo: list[Any] = []
    seen: set[int] = set()

    def build(v: Any) -> None:  # micrograd's build_topo
        if id(v) not in seen:
            seen.add(id(v))
            for child in v._prev:
                build(child)
            topo.append(v)

    build(built[0])
    order = backward_order(built[1])
    assert sorted(names.get(v._op, "leaf") for v in topo) == sorted(v.op or "leaf" for v in order)
    position = {id(v): i for i, v in enumerate(order)}
    assert all(position[id(v)] < position[id(parent)] for v in order for parent in v.parents)


def test_the_advice_for_micrograds_mlp_call_builds_micrograds_activations() -> None:
    """The hint for ``MLP(3, [4, 4, 1])`` said ``MLP([3, 4, 4, 1])``: sigmoid throughout here, where micrograd's has
    ReLU hidden layers and a linear output (a hinge loss on an always-positive output cannot learn)."""
    with pytest.raises(TypeError) as refused:
        nn.MLP(3, [4, 4, 1])
    advised = re.search(r"is (MLP\(.*\)) here$", str(refused.value))
    assert advised is not None, refused.value
    model = eval("nn." + advised[1], {"nn": nn})  # the call as the message writes it
    assert model.sizes == [3, 4, 4, 1]
    assert [layer.activation_name for layer in model.layers] == ["relu", "relu", "identity"]
