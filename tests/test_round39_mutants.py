"""Round 39's new code under mutation (484ac74..9a59167): the engine's refusals inside recorded vjps, max/min's
``_, idx = v.max(1)`` refusal (``_unpacked_in_two``, ``_values_and_indices``), transpose's refusal, the Op of no
vjps, log_softmax_grad and its vjps, deepcopy's slot copy and the detached-copy links, viz's layer clusters and cut
ovals' tooltips, optim_state's ``_first_difference``/``_frozen_first``, write_instead's pytorch_cost_refusal and
cost_function, cross_entropy's torch labels, Dataset's refusals, plots' run markers, player.html's edge numbers, the
player's log_softmax_grad formulas, calculus' matrix start and the testing generators.

Mutants tried by hand (a comparison flipped, a check dropped, a constant changed, two vjps swapped, an early
return): 126 of the round's package code (engine 56 with ops: e… engine, o… ops; 50 in the other modules: d… data,
c… calculus, s… optim_state, w… write_instead, t… training, l… losses, v… viz, p… player, h… player.html, pl…
plots, x… testing/expressions; 20 more of 9a59167's rewrite of the max/min refusal and optim_state: n…, f…).  Killed
before this file: 75, by the round's seven new test files and older ones (test_engine, test_custom_op_second_order,
test_composition, test_tree_notation_r3, test_api_misuse).  Survivors: 51, of which this file kills 29 (each test
names its mutants), and e34 (``ndim == 2`` dropped from the refusal's rows/columns) is gone with the line 9a59167
rewrote, where the same mutant (n12) is killed by test_review_mid_r39.
Equivalent (19): e18 and e21, the ``_data is`` checks of _link_detached_copies and _link_copy (each covers the other:
one deep copy keeps the originals' sharing through its memo); e19, that filter on the originals dropped (a plain
leaf's link comes with its pickled state: a second weak reference to the same copy); e29, ``>=`` for ``>`` in the
offset search (on CPython 3.11 f_lasti points into the call's inline caches, never at an instruction); e32, e33, the
cache's bound and the cache itself (speed only); o8, ``or`` for ``and`` in _log_softmax_vjp (g and out are both
arrays or both Values); o9, the Op in an ordinary pass too (the same numbers; a Value more per pass, a hot-path
cost); s4, ``0 < count`` (no position of a count of 0: returned before); s8, ``<=`` for ``<`` (an equal count never
gets there); s11, tuple() of np.shape's tuple; v3, the weights as the walk's stops (leaves: nothing behind them);
v4, the first weight's users alone (a layer has one weight); p5, parents[0] for parents[1] (g and out have one
shape); h4, the result step's clause for edge numbers (every Value above an edge has its backward step before);
pl2, the markers' order (each block's still its own); x3, axis=-1 in the generated log_softmax_grad (a valid call
whose numpy reference computes the same); n4, ``frame is None`` (numpy's frames to the top: no Python caller); n8,
``not keepdims`` dropped (a matrix's keepdims result of two rows is over axis 1: "its two rows" is true too).
Not equivalent, left without a test (2): h6, the "= ?" of an edge not centred where its number was (cosmetic); f3,
positions without saved state counted as unlike, not alike, for the freezing hint (a guess either way).

Defects found and fixed (each test failed before its fix; the fixes' own mutants are killed too):
- copy.deepcopy of a leaf whose .grad is a Value (after backward(create_graph=True)) and of its detached Value gave
  copies sharing their numbers unlinked (_link_detached_copies linked computed originals only, _shared_leaves leaves
  such a leaf out): the copied graph, its input changed in place through the detached copy, differentiated with the
  changed numbers where the original raises "stale".
- A cut oval's SVG tooltip halved the backslashes of its text: Graphviz reads a tooltip's escapes twice.
- The advice for PyTorch's v.permute, ``v.transpose(*axes)``, was refused by the round's transpose refusal for a
  matrix's permute(0, 1); it is ``v.transpose(axes)``, one tuple, now.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from helpers_gradients import central_difference

import tinygrad_edu.functional as F
from tinygrad_edu import Op, Value, engine, nn, ops, optim, player, plots
from tinygrad_edu.autodiff import grad
from tinygrad_edu.calculus import stationary_point


def _constant(array) -> Value:
    return Value(np.asarray(array, dtype=np.float64), requires_grad=False)


# --- engine: a Python number made in a recorded vjp ----------------------------------------------------------------

def _scale_op(read: str) -> Op:
    """x·k with k a constant input, its vjp reading k's number (read: "item", "numpy" or "float")."""
    def number(k: Value) -> float:
        if read == "item":
            return k.item()
        if read == "numpy":
            return float(k.numpy())
        return float(k)
    return Op(f"scale_{read}", lambda x, k: x * k, (lambda g, out, x, k: g * number(k), lambda g, out, x, k: g * x))


@pytest.mark.parametrize("read", ["item", "numpy", "float"])
def test_a_vjp_may_read_the_number_of_a_constant_input_at_every_order(read: str) -> None:
    """(e4, e6, e8) The refusal is of a number made of a Value that requires a gradient; k here is a constant (it
    requires none), a number to every pass: the second derivative of e^(k·x) is k²·e^(k·x), as central differences of
    the first say, where refusing k.item() or k.numpy() too failed a right vjp under grad(grad(f))."""
    op = _scale_op(read)
    k = 1.7

    def f(x: Value) -> Value:
        return engine.apply(op, x, _constant(k)).exp()

    def first(x: np.ndarray) -> float:
        return float(grad(f)(Value(x)).data)

    x0 = np.array(0.4)
    second = float(grad(grad(f))(Value(x0)).data)
    assert second == pytest.approx(k * k * math.exp(k * 0.4), rel=1e-12)
    assert second == pytest.approx(float(central_difference(first, x0)), rel=1e-7)


# --- engine: the detached copies' links -----------------------------------------------------------------------------

def test_copies_of_a_value_detached_twice_stay_linked_to_both_originals_copies() -> None:
    """(e22) d = h.detach(), d2 = d.detach(), y = d·w: d2 changed in place makes y's graph stale (d shares its
    numbers); so it must for the copies made together.  Linking d2's copy to h's copy must keep its link to d's copy,
    else the copied y differentiated with d2's changed numbers, silently."""
    x = Value(np.array([1.0, 2.0]))
    w = Value(np.array([3.0, 4.0]))
    h = x.exp()
    d = h.detach()
    d2 = d.detach()
    y = (d * w).sum()
    _, _, d2_copy, y_copy, w_copy = copy.deepcopy((h, d, d2, y, w))
    with engine.no_grad():
        d2 *= 2.0
        d2_copy *= 2.0
    with pytest.raises(ValueError, match="stale"):
        y.backward()
    with pytest.raises(ValueError, match="stale"):
        y_copy.backward()
    assert w.grad is None and w_copy.grad is None


def test_copies_of_a_leaf_whose_gradient_is_a_value_and_of_its_detached_value_stay_linked() -> None:
    """DEFECT (fixed): after backward(create_graph=True) a leaf's .grad is a Value, which leaves it out of the links
    pickle carries (_shared_leaves), and _link_detached_copies linked computed originals only: copies of p and
    p.detach() made together shared their numbers unlinked, so the copied graph of p·p, its input changed in place
    through the detached copy, gave 2·(new p) = [4, 8] where the original raises "stale"."""
    p = Value(np.array([1.0, 2.0]))
    (p * p).sum().backward(create_graph=True)
    assert isinstance(p.grad, Value)
    d = p.detach()
    y = (p * p).sum()
    for order in ("leaf first", "detached first"):
        p_copy, d_copy, y_copy = (copy.deepcopy((p, d, y)) if order == "leaf first" else
                                  (lambda c: (c[1], c[0], c[2]))(copy.deepcopy((d, p, y))))
        assert d_copy.data is p_copy.data
        with engine.no_grad():
            d_copy *= 2.0
        p_copy.grad = None
        with pytest.raises(ValueError, match="stale"):
            y_copy.backward()
        assert p_copy.grad is None, order
    with engine.no_grad():
        d *= 2.0
    p.grad = None
    with pytest.raises(ValueError, match="stale"):
        y.backward()


# --- engine: max and min unpacked into two names --------------------------------------------------------------------

def test_max_of_everything_unpacked_is_not_said_to_be_pytorchs_pair() -> None:
    """(n0, e23, e25) m.max() is one number in PyTorch too (no pair of values and indices): unpacking it fails as
    Python's iteration of a 0-d Value fails, and no message says PyTorch would give a pair."""
    m = Value(np.arange(6.0).reshape(2, 3))
    with pytest.raises(TypeError) as largest:
        _, _ = m.max()
    with pytest.raises(TypeError) as smallest:
        _, _ = m.min()
    for caught in (largest, smallest):
        assert "0-d" in str(caught.value) and "PyTorch" not in str(caught.value), str(caught.value)


def test_one_rows_maximum_unpacked_into_two_is_said_not_to_unpack_not_to_give_two_rows() -> None:
    """(n7) A (1, 3) matrix's max over axis 1 is one number per row, one row: two names get no rows' maxima, silently
    or not; Python's unpacking fails (here: refused, saying so)."""
    m = Value(np.arange(3.0).reshape(1, 3))
    with pytest.raises(TypeError) as caught:
        _, _ = m.max(1)
    message = str(caught.value)
    assert "1 maxima, which do not unpack into two" in message and "two rows" not in message, message


# --- engine: transpose ----------------------------------------------------------------------------------------------

def test_pytorchs_transpose_of_two_axes_of_a_3d_tensor_is_not_said_to_be_a_matrixs() -> None:
    """(e37) t.transpose(0, 1) of a (2, 3, 4) tensor: numpy refuses it (it takes all three axes), so the message is
    numpy's with swapaxes, not the matrix's "leaves it as it is"."""
    with pytest.raises(ValueError) as caught:
        Value(np.zeros((2, 3, 4))).transpose(0, 1)
    message = str(caught.value)
    assert "swapaxes(0, 1)" in message and "of a matrix" not in message and "as it is" not in message, message


def test_transpose_by_numpy_integers_of_a_matrix_is_refused_as_python_integers_are() -> None:
    """(e41) Axes computed with numpy (np.argsort, an array's elements) are np.int64: m.transpose(0, 1) spelled so
    is as ambiguous, and was a silent no-op."""
    m = Value(np.arange(6.0).reshape(2, 3))
    axes = np.argsort([5, 9])  # (0, 1) as numpy integers
    with pytest.raises(ValueError, match="of a matrix means two things"):
        m.transpose(*axes)
    assert m.transpose(*axes[::-1]).shape == (3, 2)  # (1, 0): both libraries exchange the axes


def test_transpose_by_booleans_is_numpys_integer_error_not_the_matrix_refusal() -> None:
    """(e40) True and False are no axes to numpy: the error stays its TypeError, not the refusal that reads them as
    numpy's and PyTorch's (0, 1)."""
    with pytest.raises(TypeError, match="an integer is required"):
        Value(np.arange(6.0).reshape(2, 3)).transpose(False, True)


def test_the_advice_for_pytorchs_permute_pasted_with_its_dims_runs_for_every_order() -> None:
    """DEFECT (fixed): the advice for v.permute was v.transpose(*axes), which this round's refusal turned away for a
    matrix's permute(0, 1) (PyTorch: no change; generic code passing dims computed elsewhere); as one tuple, numpy's
    order, every permutation runs and gives PyTorch's permute's numbers."""
    with pytest.raises(AttributeError) as caught:
        _ = Value(np.zeros((2, 3))).permute
    message = str(caught.value)
    code = message[message.index("; write ") + len("; write "):].split(" ")[0].rstrip(",;")
    for data, dims in ((np.arange(6.0).reshape(2, 3), (0, 1)), (np.arange(6.0).reshape(2, 3), (1, 0)),
                       (np.arange(24.0).reshape(2, 3, 4), (2, 0, 1))):
        result = eval(code, {"v": Value(data), "axes": dims})  # noqa: S307
        np.testing.assert_array_equal(result.data, np.transpose(data, dims))  # (torch.permute(t, dims)'s numbers)


# --- ops: log_softmax's vjp as an Op of its own ---------------------------------------------------------------------

_RNG = np.random.default_rng(3901)


@pytest.mark.parametrize(("shape", "axis"), [((2, 3), -1), ((2, 3), 0), ((2, 3), None), ((2, 3, 2), 1), ((4,), 0)])
def test_log_softmax_third_derivatives_match_central_differences(shape, axis) -> None:
    """(o3, o4) The vjps of log_softmax_grad itself: reached from the third derivative of Σ w·log_softmax(x) (and from
    the second of Σ log_softmax(x)², whose g depends on x), each against central differences in float64 of the
    derivative one order lower."""
    x0, w, u, v = (_RNG.normal(size=shape) for _ in range(4))

    def f(x: Value) -> Value:
        return (_constant(w) * F.log_softmax(x, axis=axis)).sum()

    def f_squared(x: Value) -> Value:
        return (F.log_softmax(x, axis=axis) ** 2).sum()

    def along(function, direction):  # x ↦ ⟨∇function(x), direction⟩
        return lambda x: (grad(function)(x) * _constant(direction)).sum()

    for function, order in ((along(along(f, u), v), "third"), (along(f_squared, u), "second")):
        found = grad(function)(Value(x0)).data
        expected = central_difference(lambda x, function=function: float(function(Value(x)).data), x0)
        np.testing.assert_allclose(found, expected, rtol=1e-6, atol=1e-8, err_msg=order)


@pytest.mark.parametrize("create_graph", [False, True])
def test_a_confident_right_answers_log_softmax_slope_keeps_its_digits(create_graph: bool) -> None:
    """(o12, o13) −ln softmax(x)₀ at x = (40, 0): the slope is p₀ − 1 = −e⁻⁴⁰/(1 + e⁻⁴⁰) ≈ −4.2e-18, not 0, which
    g − p·Σg (or e^out − 1 for p − 1) gives where p₀ rounds to 1; the same in a recorded pass (log_softmax_grad)."""
    x = Value(np.array([40.0, 0.0]))
    (-F.log_softmax(x)[0]).backward(create_graph=create_graph)
    slope = np.asarray(getattr(x.grad, "data", x.grad))
    tail = math.exp(-40.0) / (1.0 + math.exp(-40.0))
    np.testing.assert_allclose(slope, [-tail, tail], rtol=1e-12)


# --- the player: log_softmax_grad's formulas ------------------------------------------------------------------------

def _log_softmax_grad_node(x0: np.ndarray) -> Value:
    x = Value(x0)
    (F.log_softmax(x) * _constant(np.arange(1.0, x0.size + 1).reshape(x0.shape))).sum().backward(create_graph=True)
    todo, seen = [x.grad], set()
    while todo:
        node = todo.pop()
        if node.op == "log_softmax_grad":
            return node
        if id(node) not in seen:
            seen.add(id(node))
            todo.extend(node.parents)
    raise AssertionError("no log_softmax_grad in the recorded gradient")


def test_the_players_local_derivatives_of_log_softmax_grad_are_its_jacobians() -> None:
    """(p2, p3) g − e^out·Σg: ∂/∂g is δᵢⱼ − pᵢ and ∂/∂out is −δᵢⱼ·pᵢ·Σg, within each row of a matrix (0 between two
    rows); a vector is one slice, said without "within".  Each formula's Jacobian is checked by central differences of
    the Op's forward."""
    node = _log_softmax_grad_node(np.array([[0.5, -1.0, 2.0], [0.1, 0.2, 0.3]]))
    assert player.local_formula(node, 0, ["g", "out"]) == "δᵢⱼ − (e^out)ᵢ within each slice along axis -1"
    assert player.local_formula(node, 1, ["g", "out"]) == "−δᵢⱼ·(e^out)ᵢ·Σg within each slice along axis -1"
    assert "axis=-1" in player.forward_formula(node, ["g", "out"])  # (p1: the slices' axis is part of the Op)
    vector = _log_softmax_grad_node(np.array([0.5, -1.0, 2.0]))
    assert player.local_formula(vector, 0, ["g", "out"]) == "δᵢⱼ − (e^out)ᵢ"
    assert player.local_formula(vector, 1, ["g", "out"]) == "−δᵢⱼ·(e^out)ᵢ·Σg"
    g, out = (p.data.copy() for p in vector.parents)
    p = np.exp(out)

    def rows(function, at):  # the Jacobian of a vector-valued function, row i by central differences
        return np.stack([central_difference(lambda y, i=i: float(function(y)[i]), at) for i in range(at.size)])

    by_g = rows(lambda gg: ops.log_softmax_grad(Value(gg), _constant(out), axis=-1).data, g)
    np.testing.assert_allclose(by_g, np.eye(3) - p[:, None], atol=1e-8)
    by_out = rows(lambda oo: ops.log_softmax_grad(_constant(g), Value(oo), axis=-1).data, out)
    np.testing.assert_allclose(by_out, -np.diag(p) * g.sum(), atol=1e-8)


# --- calculus, optim_state, write_instead, losses -------------------------------------------------------------------

def test_an_empty_start_is_refused_by_name() -> None:
    """(c2) A start of no parameters has no stationary point to look for: refused, naming start."""
    with pytest.raises(ValueError, match="stationary_point: start must be a finite number or vector, got"):
        stationary_point(lambda p: (p * p).sum(), np.zeros(0))


def _adam_stepped(model: nn.Module, parameters=None) -> optim.Adam:
    """Adam after one step on the model's parameters (or those given), each given a gradient of ones."""
    adam = optim.Adam(model if parameters is None else parameters, learning_rate=0.01)
    for p in adam.params:
        p.grad = np.ones_like(p.data)
    adam.step()
    return adam


def test_a_crafted_parameter_count_is_answered_at_once(three_seconds) -> None:
    """(s2) A state file whose parameter_count says 10⁹: the positions looked at for the first difference stop at
    10,000 (a model's), else the message took minutes."""
    state = _adam_stepped(nn.MLP([2, 3, 1], rng=0)).state_dict()
    state["parameter_count"] = np.array(10**9)
    with pytest.raises(ValueError, match=r"'parameter_count' is 1000000000, but this optimizer has 4 parameters"):
        optim.Adam(nn.MLP([2, 3, 1], rng=0)).load_state_dict(state)


def test_a_parameter_without_state_does_not_hide_a_later_difference() -> None:
    """(s10) Adam keeps no state for a parameter that never had a gradient (here the first); the first parameter whose
    shape differs is still found past it."""
    model = nn.MLP([2, 3, 1], rng=0)
    adam = optim.Adam(model, learning_rate=0.01)
    for p in adam.params[1:]:
        p.grad = np.ones_like(p.data)
    adam.step()
    state = adam.state_dict()
    assert not any(key.startswith("state.0.") for key in state)
    deeper = nn.MLP([2, 3, 3, 1], rng=0)
    with pytest.raises(ValueError, match=r"has 6 parameters; the first that differs is parameter 2 'W\^2' of shape "
                                         r"\(3, 3\), where the state holds \(3, 1\); "):
        optim.Adam(deeper).load_state_dict(state)


def test_the_last_parameters_the_state_matches_are_the_ones_listed() -> None:
    """(s12) A state of layer 2 alone (layer 1 frozen when saved), loaded into an optimizer of the whole model: the
    parameters listed as matching are the last two, W² and b², not the first two."""
    saved_model = nn.MLP([2, 3, 1], rng=0)
    saved_model.layers[0].requires_grad_(False)
    state = _adam_stepped(saved_model).state_dict()
    with pytest.raises(ValueError) as caught:
        optim.Adam(nn.MLP([2, 3, 1], rng=0)).load_state_dict(state)
    assert "match this optimizer's last 2 in shape ('W^2' (3, 1), 'b^2' (1,))" in str(caught.value), str(caught.value)


def test_a_parameter_labelled_with_an_empty_string_is_named_by_position_alone() -> None:
    """(s9) A label "" names nothing: the message says "parameter 1 of shape", not "parameter 1 '' of shape"."""
    parameters = [Value(np.zeros(2), label="a"), Value(np.zeros(3), label=""), Value(np.zeros(1), label="c")]
    state = _adam_stepped(None, [Value(np.zeros(2)), Value(np.zeros(4))]).state_dict()
    with pytest.raises(ValueError, match=r"the first that differs is parameter 1 of shape \(3,\), where the state "
                                         r"holds \(4,\)"):
        optim.Adam(parameters).load_state_dict(state)


def test_fit_given_pytorchs_cross_entropy_function_is_told_to_use_losses_cross_entropy() -> None:
    """(t1) torch.nn.functional.cross_entropy has no advice of its own in losses (its name is this package's cost):
    fit says to use losses.cross_entropy, not to write the cost with Value operations."""
    torch = pytest.importorskip("torch")
    from tinygrad_edu.training import fit

    model = nn.MLP([2, 3], rng=0)
    with pytest.raises(TypeError) as caught:
        fit(model, np.zeros((4, 2)), np.array([0, 1, 2, 0]), cost=torch.nn.functional.cross_entropy,
            optimizer=optim.SGD(model, learning_rate=0.1), episodes=1, progress=False)
    message = str(caught.value)
    assert "PyTorch's cross_entropy" in message and "use losses.cross_entropy" in message, message
    assert "write it with Value operations" not in message, message


def test_an_optimizer_of_the_last_layer_given_a_whole_models_state_hears_both_readings() -> None:
    """(f5) Every layer of one shape: an optimizer of layer 2's parameters matches the state's first two and its last
    two; the message says the state holds two more and that it may have been saved before layer 1 was frozen."""
    state = _adam_stepped(nn.MLP([2, 2, 2], rng=0)).state_dict()
    trained = nn.MLP([2, 2, 2], rng=0).parameters()[2:]
    with pytest.raises(ValueError) as caught:
        optim.Adam(trained).load_state_dict(state)
    message = str(caught.value)
    assert "match the state's first 2 in shape; the state holds 2 more" in message, message
    assert "match the state's last 2 in shape: saved before the first ones were frozen?" in message, message


def test_an_optimizer_whose_parameters_match_only_some_of_the_states_last_ones_hears_no_freezing() -> None:
    """(f2) A state of a 2-3-3-1 network in an optimizer of a 2-4-1 network's parameters: only b's (1,) is alike, so
    the state was not saved before some first ones were frozen, and the message does not say it may have been."""
    state = _adam_stepped(nn.MLP([2, 3, 3, 1], rng=0)).state_dict()
    other = nn.MLP([2, 4, 1], rng=0).parameters()
    with pytest.raises(ValueError) as caught:
        optim.Adam(other).load_state_dict(state)
    message = str(caught.value)
    assert "the first that differs is parameter 0 'W^1' of shape (2, 4), where the state holds (2, 3)" in message
    assert "frozen" not in message, message


# --- viz: a cut oval's tooltip --------------------------------------------------------------------------------------

def test_a_cut_ovals_tooltip_keeps_its_backslashes(tmp_path) -> None:
    """(v2) Graphviz reads a tooltip as an escString (\\N is the node's name, \\n a line break): the whole text's
    backslashes are doubled for it, so the SVG's tooltip is the oval's text itself."""
    import shutil
    import xml.etree.ElementTree as ET

    from tinygrad_edu import viz

    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    op = Op("scaled", lambda x, note="": x * 2.0, lambda g, out, x, note="": g * 2.0)
    x = Value(np.ones(2), label="x")
    y = engine.apply(op, x, note="C:\\Nodes\\new\\layer_weights")
    cost = y.sum()
    svg = viz.render(viz.draw_graph(cost), tmp_path / "cut.svg")
    ns = {"svg": "http://www.w3.org/2000/svg"}
    tooltips = [a.get("{http://www.w3.org/1999/xlink}title") for a in ET.parse(svg).getroot().iter(
        "{http://www.w3.org/2000/svg}a")]
    texts = ["".join(t.itertext()) for t in ET.parse(svg).getroot().iterfind(".//svg:text", ns)]
    cut = next(text for text in texts if text.startswith("scaled("))
    whole = next(tip for tip in tooltips if tip and tip.startswith("scaled("))
    assert cut.endswith("…") and whole.startswith(cut[:-1]), (cut, whole)
    assert "\\\\Nodes\\\\new\\\\layer_weights" in whole, whole  # (the repr's doubled backslashes, as the oval writes)


# --- plots: the runs past colours × line styles ---------------------------------------------------------------------

def test_the_marked_runs_show_their_isolated_points_and_mark_a_few_steps_each_on_points_of_their_own() -> None:
    """(pl3, pl4, pl7) Run 41 on and after: a marker on about six points, from a point of the run's own (two runs'
    markers not all on one episode), every isolated cost (finite between NaNs: no line reaches it, the marker is all
    that shows it) among them, and the step-size panel's markers on a few points too (not on every step)."""
    from tinygrad_edu.training import History

    costs = list(np.exp(-np.arange(24.0) / 10))
    lone = costs.copy()
    lone[9], lone[11] = math.nan, math.nan  # point 10 (index 10) stands alone
    histories = {f"run {i + 1}": History(cost=lone if i == 41 else costs, step_size=[0.1] * 24) for i in range(44)}
    fig = plots.plot_history(histories)
    cost_lines = {line.get_label(): line for line in fig.axes[0].get_lines() if line.get_label() in histories}
    step_lines = {line.get_label(): line for line in fig.axes[1].get_lines() if line.get_label() in histories}
    marked = {label: list(line.get_markevery()) for label, line in cost_lines.items()
              if line.get_marker() not in (None, "None", "")}
    assert sorted(marked) == ["run 41", "run 42", "run 43", "run 44"]
    assert 10 in marked["run 42"], marked["run 42"]
    assert marked["run 41"] != marked["run 43"] != marked["run 44"], marked  # (their costs alike: points apart)
    for label in marked:
        every = step_lines[label].get_markevery()
        assert every is not None and 2 <= len(every) <= 8, (label, every)
