"""An engineer who writes custom Ops and uses the engine directly, on loose ends earlier rounds left.

Each test failed before its fix: a list holding masked arrays (or numpy.ma's masked constant, which iterating a
masked array gives) became a Value, an operand, fit's data or a cost's target with the numbers under the mask; a vjp
missing a keyword did not say that the vjps get the call's keywords, not the forward's defaults; an Op could be named
'' (or '  '); np.split(v, -1) gave numpy's bare words; and a drawing after backward(inputs=[w]) showed an intermediate's
.grad from another output's pass beside this pass's, with a key that called it one pass."""

import warnings

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Op, Value, nn, optim, viz
from tinygrad_edu.losses import squared_error
from tinygrad_edu.training import fit

_ROW = np.ma.masked_array([1.0, 2.0, 3.0], mask=[False, True, False])


# --- (a) masked arrays inside lists and tuples -----------------------------------------------------------------
@pytest.mark.parametrize("data", [[_ROW, _ROW], (_ROW,), list(_ROW), [[1.0, np.ma.masked]], [[_ROW]]],
                         ids=["rows", "tuple", "iterated", "constant", "nested"])
def test_value_of_a_list_holding_masked_numbers_is_refused(data):
    with warnings.catch_warnings():  # (numpy warns only of a masked element, and gives NaN, not of masked rows)
        warnings.simplefilter("ignore")
        assert np.isfinite(np.asarray(data, dtype=float)).any()  # numpy itself takes the numbers under the mask
    with pytest.raises(TypeError, match=r"^Value: .*masked.*m\.filled\(x\)"):
        Value(data)


@pytest.mark.parametrize("combine", [lambda v, m: v + m, lambda v, m: m + v, lambda v, m: np.add(v, m),
                                     lambda v, m: v * m, lambda v, m: F.maximum(v, m), lambda v, m: v @ m,
                                     lambda v, m: F.where(np.array([True, False, True]), v, m)],
                         ids=["add", "radd", "np.add", "mul", "maximum", "matmul", "where"])
def test_operand_list_holding_masked_numbers_is_refused(combine):
    v = Value([1.0, 1.0, 1.0])
    with warnings.catch_warnings(), pytest.raises(TypeError, match=r"holds a masked array"):
        warnings.simplefilter("ignore")  # (where's np.shape of the list warns first)
        combine(v, list(_ROW))


def test_unmasked_lists_of_masked_arrays_still_work():
    """A masked array with nothing masked is its numbers (as Value(m) takes it), in a list too."""
    clear = np.ma.masked_array([1.0, 2.0], mask=False)
    np.testing.assert_array_equal(Value([clear, clear]).data, [[1.0, 2.0], [1.0, 2.0]])
    np.testing.assert_array_equal((Value([1.0, 2.0]) + [clear]).data, [[2.0, 4.0]])


def test_fit_refuses_rows_holding_masked_numbers():
    model = nn.MLP([3, 1], rng=0)
    rows = [_ROW, _ROW.filled(2.0)]
    with pytest.raises(TypeError, match=r"^fit: the inputs .*masked"):
        fit(model, rows, np.zeros((2, 1)), optimizer=optim.GradientDescent(model.parameters(), 0.1), episodes=1,
            progress=False)


def test_cost_refuses_a_target_list_holding_masked_numbers():
    with pytest.raises(TypeError, match=r"masked"):
        squared_error(Value([[1.0, 2.0, 3.0]]), [_ROW])


# --- (b) a vjp missing a keyword -------------------------------------------------------------------------------
_SCALE = Op("scale", lambda x, k=2.0: x * k, lambda g, out, x, *, k: g * k)


@pytest.mark.parametrize("create_graph", [False, True])
def test_vjp_missing_a_keyword_says_the_forward_default_is_not_passed(create_graph):
    y = _SCALE(Value([1.0, 2.0])).sum()
    with pytest.raises(TypeError, match=r"^scale: its vjp raised TypeError: .*'k'.*the keywords the call gave "
                                        r"\(none\).*not the forward's defaults"):
        y.backward(create_graph=create_graph)


def test_vjp_given_the_keyword_at_the_call_works():
    x = Value([1.0, 2.0])
    _SCALE(x, k=3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])  # ∂(Σ 3x)/∂x = 3


def test_a_vjp_helper_missing_an_argument_is_not_blamed_on_the_call():
    """A TypeError from inside the vjp (its own helper called wrongly) says nothing of the call's keywords."""
    def helper(a, b):
        return a * b

    op = Op("helped", lambda x: 2 * x, lambda g, out, x: helper(g))
    with pytest.raises(TypeError, match=r"^helped: its vjp raised TypeError") as caught:
        op(Value([1.0])).sum().backward()
    assert "keywords the call gave" not in str(caught.value)


# --- (c) an empty name -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["", "   ", "\n"])
def test_op_with_a_blank_name_is_refused(name):
    with pytest.raises(ValueError, match=r"^Op: name must be a non-empty str"):
        Op(name, np.exp, lambda g, out, x: g * out)


# --- (d) np.split into a negative number of parts --------------------------------------------------------------
@pytest.mark.parametrize("split", [np.split, np.array_split])
@pytest.mark.parametrize("parts", [-1, -3, np.int64(-2)])
def test_split_into_a_negative_number_of_parts_names_the_value(split, parts):
    v = Value(np.arange(6.0))
    with pytest.raises(ValueError, match=rf"^np\.{split.__name__}: a Value of shape \(6,\) cannot be split into "
                                         rf"{int(parts)} parts along axis 0: give the number of parts, at least 1"):
        split(v, parts)


# --- (f) backward(inputs=...) and the Values on no path to an input --------------------------------------------
def _two_outputs():
    w, a, b, c = (Value(x, label=name) for x, name in [(0.5, "w"), (2.0, "a"), (-0.3, "b"), (1.5, "c")])
    k = b * c
    k.label = "k"
    z = w * a + k
    first = z.tanh()
    first.backward()
    for p in (w, a, b, c):
        p.zero_grad()
    second = k * 3.0 + z * 2.0
    second.label = "second"
    return w, k, z, first, second


def test_backward_inputs_leaves_values_on_no_path_as_they_were():
    """As PyTorch leaves a retained .grad: k (on no path to w) keeps the first output's ∂/∂k = 1 − tanh²(z)."""
    w, k, z, first, second = _two_outputs()
    second.backward(inputs=[w])
    assert w.grad == pytest.approx(4.0)  # ∂(3k + 2(wa + k))/∂w = 2a
    assert z.grad == pytest.approx(2.0)
    assert k.grad == pytest.approx(1 - np.tanh(z.item()) ** 2)  # the first pass's, not 3 + 2 = 5


def test_drawing_after_backward_inputs_explains_the_left_out_intermediates():
    """k * 3 is on no path to w: its .grad is None ("–"), and k, which it uses, holds the first output's."""
    w, k, z, first, second = _two_outputs()
    second.backward(inputs=[w])
    key = viz.draw_graph(second).source
    assert "– on an intermediate: its .grad is None, left out by backward(inputs=…)" in key
    assert "the Values it uses may hold another pass's .grad" in key
    second.backward()  # every Value of the graph filled by this output's pass: no such line
    assert "on an intermediate" not in viz.draw_graph(second).source
    assert k.grad == pytest.approx(5.0)  # ∂(3k + 2(wa + k))/∂k = 3 + 2


def test_drawing_after_backward_inputs_names_an_intermediate_kept_from_another_pass():
    """y = w·a + b·c of two elements, its pass with the upstream (1, 1), then one with (2, −1) for w alone: b·c, on
    no path to w, keeps (1, 1) while the sum that uses it holds (2, −1); the parameters' key line said one pass."""
    w, a, b, c = (Value(np.array(x), label=name) for x, name in [([0.5, 1.0], "w"), ([2.0, 3.0], "a"),
                                                                  ([-0.3, 0.2], "b"), ([1.5, 1.0], "c")])
    product = b * c
    y = w * a + product
    y.backward(np.ones(2))
    for p in (w, a, b, c):
        p.zero_grad()
    y.backward(np.array([2.0, -1.0]), inputs=[w])
    np.testing.assert_array_equal(w.grad, [4.0, -3.0])  # upstream times a
    np.testing.assert_array_equal(product.grad, [1.0, 1.0])  # the first pass's, as PyTorch keeps a retained .grad
    key = viz.draw_graph(y).source.replace("\xa0", "")  # (without the no-break spaces around its lines)
    assert "some intermediates' .grad do not follow by the chain rule from those of the Values that use them" in key
    assert "another backward\npass's" in key
    assert "whose gradients the other Values hold" not in key  # (they hold two passes)
    y.backward(np.array([2.0, -1.0]))
    assert "some intermediates' .grad" not in viz.draw_graph(y).source


def test_drawing_of_a_single_pass_has_no_such_line():
    w, k, z, first, second = _two_outputs()
    first.backward()
    key = viz.draw_graph(first).source
    assert "on an intermediate" not in key and "some intermediates' .grad" not in key


# --- going further with Ops of my own --------------------------------------------------------------------------
_WEIGHTED = Op("weighted", lambda a, b, alpha=0.5: alpha * a + (1 - alpha) * b,
               (lambda g, out, a, b, alpha=0.5: g * alpha, lambda g, out, a, b, alpha=0.5: g * (1 - alpha)))


@pytest.mark.parametrize("call", [lambda a, b: _WEIGHTED(a=a, b=b), lambda a, b: _WEIGHTED(a, b=b, alpha=0.2)],
                         ids=["both", "second"])
def test_inputs_given_by_name_are_told_to_go_by_position(call):
    """As PyTorch's Function.apply, an Op takes its inputs by position: "takes 2 input(s), got 0" said nothing of
    the two Values given by name."""
    a, b = Value([1.0, 2.0]), Value([3.0, 4.0])
    with pytest.raises(TypeError, match=r"^weighted: takes 2 input\(s\), got [01]; the inputs go by position, not "
                                        r"by name: weighted\(a, b, alpha=…\)"):
        call(a, b)


def test_inputs_by_position_work():
    a, b = Value([1.0, 2.0]), Value([3.0, 4.0])
    _WEIGHTED(a, b, alpha=0.25).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.25, 0.25])
    np.testing.assert_array_equal(b.grad, [0.75, 0.75])


_GATHER = Op("gather", lambda x, idx: x[idx], (lambda g, out, x, idx: g[:1] * 0.0, lambda g, out, x, idx: g * 0.0))


def test_an_index_array_given_as_an_input_is_told_to_go_by_name():
    """An input is a number with a gradient, so an integer array given as one became float64, and numpy's own
    "arrays used as indices must be of integer (or boolean) type" read as untrue of the integers given."""
    with pytest.raises(IndexError, match=r"^gather: arrays used as indices must be of integer .* \(input shapes "
                                         r"\(3,\) and \(2,\)\); an array given as an input is made a float constant "
                                         r"\(an input has a gradient\): give index arrays by name, as parameters"):
        _GATHER(Value([1.0, 2.0, 3.0]), np.array([0, 2]))


def test_an_index_error_without_parameters_has_no_empty_part():
    pick = Op("pick", lambda x: x[5], lambda g, out, x: g * 0.0)
    with pytest.raises(IndexError) as caught:
        pick(Value([1.0, 2.0]))
    assert str(caught.value).endswith("(input shapes (2,))"), caught.value
