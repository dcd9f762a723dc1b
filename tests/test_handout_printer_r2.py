"""A teacher copying the package's text into handouts, from a notebook that starts with np.set_printoptions(...):
what the package writes of its own (formulas, drawings' labels, reports) must read the same whatever numpy's print
options are, while the numbers of a Value's repr are never rounded by the user's precision into equal-looking ones."""

import html
import re

import numpy as np
import pytest

from tinygrad_edu import Value, calculus, viz
from tinygrad_edu.testing import check_gradients
from tinygrad_edu.training import History

pytestmark = pytest.mark.usefixtures("numpy_default_print_options")  # (each test sets the user's options itself)

#: Print options a notebook may set at its top: a sign on every number, a short summary, numbers rounded to 0.
NOTEBOOK_OPTIONS = [dict(sign="+"), dict(sign=" "), dict(threshold=3, edgeitems=1),
                    dict(precision=2, suppress=True, floatmode="fixed", sign="+")]
_IDS = ["sign+", "sign-space", "edgeitems1", "suppress"]


def _indexed_cost() -> tuple[Value, list[int], list[int]]:
    """A cost through two index operations: W[[1, 1, 2]] and W[[0, 1, 2, 3, 0, …, 3]] (20 rows)."""
    short, long = [1, 1, 2], [i % 4 for i in range(20)]
    W = Value(np.arange(12.0).reshape(4, 3), label="W")
    cost = (W[np.array(short)] * 0.5).sum() + W[np.array(long)].sum()
    cost.label = "C"
    cost.backward()
    return cost, short, long


def _python_text(indices: list[int]) -> str:
    """A list as Python writes it, shortened as the drawings shorten one of more than 8: first 3, ..., last 3."""
    if len(indices) <= 8:
        return str(indices)
    return f"{str(indices[:3])[:-1]}, ..., {str(indices[-3:])[1:]}"


def _index_labels(graph) -> list[str]:
    return [html.unescape(label) for label in re.findall(r'label="(index\(key=[^"]*)"', graph.source)]


@pytest.mark.parametrize("options", NOTEBOOK_OPTIONS, ids=_IDS)
def test_a_drawings_index_label_is_python_text_whatever_the_print_options(options):
    cost, short, long = _indexed_cost()
    with np.printoptions(**options):
        labels = _index_labels(viz.draw_graph(cost))
    assert sorted(labels) == sorted(f"index(key={_python_text(indices)})" for indices in (short, long))


def test_a_drawings_two_dimensional_index_label_is_one_line_as_python_writes_it():
    W = Value(np.arange(12.0).reshape(4, 3), label="W")
    cost = W[np.array([[0, 1], [2, 3]]), 1:].sum()
    cost.backward()
    assert _index_labels(viz.draw_graph(cost)) == [f"index(key=({[[0, 1], [2, 3]]}, 1:))"]


@pytest.mark.parametrize("options", [NOTEBOOK_OPTIONS[i] for i in (0, 2, 3)], ids=[_IDS[i] for i in (0, 2, 3)])
def test_the_players_index_formula_is_python_text_whatever_the_print_options(options):
    cost, short, long = _indexed_cost()
    with np.printoptions(**options):
        steps = viz.backprop_player(cost).steps
    formulas = [html.unescape(found) for step in steps
                for found in re.findall(r"<p class='formula'>(index\S* = [^<]*)</p>", step.html)]
    written = sorted(formula.split(" = ", 1)[1] for formula in formulas)
    assert written == sorted(f"W[{_python_text(indices)}]" for indices in (short, long)), formulas


def _shifted_bowl(p):
    return (p[0] - 0.5) ** 2 + 3 * (p[1] + 1.2e-5) ** 2  # minimum at (0.5, -1.2e-05), Hessian diag(2, 6)


@pytest.mark.parametrize("options", [NOTEBOOK_OPTIONS[i] for i in (0, 1, 3)], ids=[_IDS[i] for i in (0, 1, 3)])
def test_a_stationary_points_repr_does_not_depend_on_the_print_options(options):
    found = calculus.stationary_point(_shifted_bowl, [1.0, 2.0])
    np.testing.assert_allclose(found.point, [0.5, -1.2e-5], rtol=1e-9)
    plain = repr(found)
    assert "-1.2e-05" in plain and "eigenvalues=[2., 6.]" in plain, plain
    with np.printoptions(**options):
        assert repr(found) == plain


# --- guards ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("options", NOTEBOOK_OPTIONS + [dict(precision=1)], ids=_IDS + ["precision1"])
def test_a_values_repr_never_rounds_different_numbers_alike_under_the_users_precision(options):
    """np.set_printoptions(precision=2) may shape how numbers print, never make 1.00001 and 1.00002 look equal."""
    v = Value(np.array([1.00001, 1.00002, 3.0]), label="w")
    with np.printoptions(**options):
        text = repr(v)
    shown = re.search(r"data=\[([^\]]*)\]", text).group(1).split()
    assert len(shown) == 3 and len(set(shown)) == 3, text
    assert [float(number) for number in shown] == pytest.approx([1.00001, 1.00002, 3.0], rel=0, abs=1e-9)


@pytest.mark.parametrize("options", NOTEBOOK_OPTIONS, ids=_IDS)
def test_the_gradient_report_and_the_history_print_alike_whatever_the_print_options(options):
    def cost(w, b):
        return ((w * 2.0 + b).sigmoid() - 1.0) ** 2

    history = History(cost=[0.35671, 0.0123456], step_size=[0.1, 0.1], label="GD")
    plain = (str(check_gradients(cost, np.array([0.5, -0.25]), -0.3)), str(history))
    with np.printoptions(**options):
        assert (str(check_gradients(cost, np.array([0.5, -0.25]), -0.3)), str(history)) == plain
    assert "first_cost=0.3567" in plain[1] and "ok, 2 input(s), 3 element(s) checked" in plain[0], plain


def test_the_tree_chain_written_under_a_parameter_multiplies_out_to_its_grad():
    """What a handout copies from the tree: W¹'s chain of factors, whose product is the ∂C/∂W¹ printed beside it and
    the .grad that backward() stored, which finite differences confirm."""
    from tinygrad_edu import losses, nn

    model = nn.Network(*[nn.Layer(1, 1, "sigmoid", rng=i) for i in range(2)])

    def cost_at(w: float) -> float:
        model[0].weights.data = np.array([[w]])
        return float(losses.squared_error(model(np.array([0.5])), np.array([1.0])).item())

    w0 = float(model[0].weights.data.item())
    cost = losses.squared_error(model(np.array([0.5])), np.array([1.0]))
    cost.backward()
    with np.printoptions(sign="+", precision=2):
        source = html.unescape(viz.draw_dependency_tree(cost).source)
    chain = re.search(r"∂C/∂W¹ = (\S+)<BR/>chain: ([^>]*?) [=≈] (\S+)>", source)
    assert chain, source
    factors = [float(factor.strip("()")) for factor in chain.group(2).split(" · ")]
    numeric = (cost_at(w0 + 1e-6) - cost_at(w0 - 1e-6)) / 2e-6
    assert float(model[0].weights.grad.item()) == pytest.approx(numeric, rel=1e-6)
    assert float(chain.group(1)) == float(chain.group(3)) == pytest.approx(numeric, rel=1e-3)
    assert np.prod(factors) == pytest.approx(numeric, rel=5e-3)
