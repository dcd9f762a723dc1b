"""Round 38's new code under mutation (695722b..c62a046): checks.masked/unmasked/not_an_array/advice_on_import and
the keyword guesses, Op's name and inputs_error, the engine's masked lists, split refusal, index hint and vjp keyword
hint, mean_squared_error, Dataset's + and load_digits, fit's Ctrl-C, structured arrays, PyTorch cost settings,
appended-layer and dead-ReLU warnings, write_instead's np.dot/np.tensordot/np.where advice, the tree's named
factors and leaky slope, notation.indexed, the player's keepdims, zero_grad advice and w₃, plot_history's title and
plot_descent's steps, testing's integer-input note, and draw_graph's key after backward(inputs=…).

Mutants tried by hand (a comparison flipped, a check dropped, a constant changed, an early return): 146 of the
round's package code (checks 33, ops 11, engine 13, losses 4, data 4, training 31, write_instead 9, dependency_tree 8,
notation 3, player 9, plots 5, testing 7, viz 9).  Killed before this file: 67 (63 by the round's seven new test
files, 4 more by older ones: split into 0 parts, load_digits's other shapes, fit's first pass putting .grad back, a
named factor of a sum only).  Survivors: 79, of which this file kills 60 (each test names its mutants: c… checks,
o… ops, e… engine, l… losses, t… training, w… write_instead, dt… dependency_tree, n… notation, p… player, pl…
plots, ts… testing, v… viz).
Equivalent (15): masked's prefilters ``kinds <= _NUMBER_TYPES`` and ``not any(issubclass(...))`` (each dropped:
the recursion answers the same, only slower); advice_on_import's ``startswith(bare)`` (every decorated __getattr__
raises checks.no_attribute's error, which starts so) and ``f_lasti < 0`` (the frame running the look-up has
started); inputs_error's ``given < count`` made ``<=`` (it is only called for a count that differs); _vjp_failed with
the call's params less ``saved`` (a saving Op's vjps must give saved a default: bound with or without it alike);
_pytorch_settings's ``value is None is default`` (None == None skips it below) and ``value != default`` alone
(torch's tensors compare unequal to None, the only non-simple default); _settings_kept's ``count(".mean()") == 1``
(every COST_FUNCTIONS formula has one); _warn_if_appended's ``0 < count`` (no model parameter held and none foreign
is an optimizer of no parameters, refused when built); _name_integer_inputs's isinstance of scalars (np.ndim 0 leaves
them out); draw_graph's ``n.requires_grad`` for an intermediate without .grad (backward refuses a computed Value set
to requires_grad=False), and _intermediates_apart's ``unknown`` set (twice) and ``node is not value`` (in the branch
reached, every computed Value has a .grad; no drawn Value uses the output).
Not equivalent, left without a test, each answer as true as the other (4): inputs_error's ``names[given:count]`` as
``names[:count]`` (only ``w(x, a=y)``, an input given by position and by name, would also hear "the inputs go by
position"); _pytorch_settings without ``default is parameter.empty`` (only a partial fixing ``target=`` would be said
not carried over); _contraction_of_a_stack without its int check (np.tensordot(a, b, np.array(1)), which numpy takes,
would get the formula of one axis); _name_integer_inputs without ``np.ndim(x)`` (a 0-d integer array would get the
note, as a Python int does not).

Defect found and fixed: ``checks.advice_on_import``, public, was missing from checks.__all__ (tests/test_public_names.py
failed on it); it is listed now, with a typical call in tests/test_return_types_auditor.py.
"""

from __future__ import annotations

import re
import sys
import traceback
import types
import warnings

import numpy as np
import pytest
from helpers_gradients import central_difference
from helpers_player import text_of

import tinygrad_edu
from tinygrad_edu import Op, Value, apply, checks, losses, nn, no_grad, notation, ops, optim, plots, viz
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.losses import squared_error
from tinygrad_edu.testing import check_gradients
from tinygrad_edu.training import fit


def _fit_error(inputs, targets=None) -> str:
    model = nn.MLP([2, 1], rng=0)
    with pytest.raises(TypeError) as caught:
        fit(model, inputs, np.zeros((2, 1)) if targets is None else targets,
            optimizer=optim.GradientDescent(model, learning_rate=0.1), episodes=1, progress=False)
    return str(caught.value)


# --- checks: masked numbers inside a list or a tuple, samples that are no array ------------------------------------
_MASKED_ROW = np.ma.masked_array([1.0, 2.0], mask=[False, True])


def test_fit_names_a_tuple_of_masked_rows_as_holding_one() -> None:
    """(c7, c8) The rows are a tuple holding a masked array: "hold", not "are a masked array"."""
    message = _fit_error((_MASKED_ROW, _MASKED_ROW.filled(0.0)))
    assert message.startswith("fit: the inputs hold a masked array (or numpy.ma's masked) with masked elements"), \
        message


def test_value_of_a_tuple_holding_masked_numbers_says_the_tuple_holds_one() -> None:
    """(e1) Value((m1, m2)): the tuple holds a masked array; it is none itself."""
    with pytest.raises(TypeError, match=r"^Value: the tuple holds a masked array \(or numpy.ma's masked\)"):
        Value((_MASKED_ROW, _MASKED_ROW))


def test_not_an_array_says_is_for_one_name() -> None:
    """(c9) checks.not_an_array is public: a name of one thing is, a plural name are."""
    with pytest.raises(TypeError, match=r"^f: x is a set, not an array: give them as a list or an array, such as "
                                        r"sorted\(\.\.\.\)$"):
        checks.not_an_array({1.0, 2.0}, "x", "f")


@pytest.mark.parametrize(("given", "words"), [
    (b"digits.csv", "a file's name? read it first"),  # (c11) bytes, as a str
    ({3.0, 1.0, 2.0, 0.5}, "a set, not an array: give them as a list or an array, such as sorted(...)"),  # (c12)
    ((row for row in [[1.0, 2.0], [3.0, 4.0]]), "a generator, not an array: give them as a list or an array, "
                                                "such as list(...)"),  # (c13)
    ({"a": [1.0, 2.0], "b": [3.0, 4.0]}.values(), "a dict_values, not an array: give them as a list"),  # (c14)
])
def test_fit_names_samples_numpy_would_make_one_object_of(given, words: str) -> None:
    message = _fit_error(given)
    assert message.startswith("fit: the inputs are ") and words in message, message


# --- checks.advice_on_import ---------------------------------------------------------------------------------------
def test_a_name_without_advice_gets_pythons_own_import_error() -> None:
    """(c17) A typo, which no advice answers, is left to Python, whose ImportError names the module's file."""
    with pytest.raises(ImportError) as caught:
        from tinygrad_edu.nn import NoSuchLayer  # noqa: F401
    assert str(caught.value) == f"cannot import name 'NoSuchLayer' from 'tinygrad_edu.nn' ({nn.__file__})"


def test_a_submodule_of_an_advised_name_being_imported_is_taken_from_sys_modules(monkeypatch) -> None:
    """(c18) ``tinygrad_edu.Tensor`` is minitorch's name (an AttributeError with advice); a submodule of that name
    in sys.modules (imported, its import under way) is what ``from tinygrad_edu import Tensor`` gives."""
    module = types.ModuleType("tinygrad_edu.Tensor")
    monkeypatch.setitem(sys.modules, "tinygrad_edu.Tensor", module)
    with pytest.raises(AttributeError, match="minitorch"):
        tinygrad_edu.Tensor  # noqa: B018
    from tinygrad_edu import Tensor  # noqa: N813
    assert Tensor is module


def test_the_import_error_does_not_show_the_attribute_error_it_replaces() -> None:
    """(c23) The advice is said once: no "During handling of the above exception" with the AttributeError."""
    with pytest.raises(ImportError) as caught:
        from tinygrad_edu import Normal  # noqa: F401
    shown = "".join(traceback.format_exception(caught.value))
    assert "AttributeError" not in shown and "During handling" not in shown, shown


# --- checks.misspelt_keyword: swapped or cut -----------------------------------------------------------------------
def _takes(x, *, rng=None, rng_state=None, tol=None):
    return x


@pytest.mark.parametrize(("typed", "meant"), [
    ("rgn", "rng"),  # (c30) two neighbouring letters swapped: taken before the names it begins (none here)
    ("lot", None),  # (c31) the first and last letters swapped: not neighbours
    ("rxy", None),  # (c32) two neighbouring letters that differ, not swapped
    ("rgnx", None),  # (c33) a letter more, beside the swap: not the same length
])
def test_a_guess_is_a_swap_of_two_neighbouring_letters_only(typed: str, meant: str | None) -> None:
    found = checks.misspelt_keyword(_takes, [typed])
    assert found == (f"there is no argument {typed}=; did you mean {meant}=?" if meant else ""), found


def test_a_swap_is_taken_before_the_names_the_keyword_begins() -> None:
    """(c30) ``rgn`` is ``rng`` swapped and the start of ``rgn_seed``: the swap is the guess (_swapped_or_cut's
    "else")."""
    def takes(x, *, rng=None, rgn_seed=None):
        return x

    assert checks.misspelt_keyword(takes, ["rgn"]) == "there is no argument rgn=; did you mean rng=?"


# --- ops: inputs_error ---------------------------------------------------------------------------------------------
_WEIGHTED = Op("weighted", lambda a, b, scale=1.0: scale * a * b,
               (lambda g, out, a, b, scale=1.0: g * scale * b, lambda g, out, a, b, scale=1.0: g * scale * a))


def test_too_few_inputs_given_by_position_get_no_advice_about_names() -> None:
    """(o4) weighted(x): one input short, none given by name: "go by position" would be untrue."""
    with pytest.raises(TypeError) as caught:
        _WEIGHTED(Value([1.0]))
    assert str(caught.value) == "weighted: takes 2 input(s), got 1"


# --- engine: split, index hint, vjp keywords -----------------------------------------------------------------------
def test_split_into_a_whole_negative_float_of_parts_writes_the_number() -> None:
    """(e4) -2.0 parts are written -2, as np.int64(-2) is."""
    with pytest.raises(ValueError, match=r"^np.split: a Value of shape \(4,\) cannot be split into -2 parts along"):
        np.split(Value(np.arange(4.0)), -2.0)


def test_a_one_input_forward_indexing_with_floats_gets_no_advice_about_inputs() -> None:
    """(e5) No array was given as an input to be made floats: the forward's own index was float."""
    bad = Op("bad", lambda x: x[np.array([0.0, 1.0])], lambda g, out, x: g)
    with pytest.raises(IndexError) as caught:
        bad(Value([1.0, 2.0]))
    assert "must be of integer" in str(caught.value) and "give index arrays by name" not in str(caught.value)


def test_an_index_out_of_range_of_two_inputs_gets_no_advice_about_floats() -> None:
    """(e6) An index out of range is no float index."""
    pair = Op("pair", lambda x, y: x[5] + y, (lambda g, out, x, y: g, lambda g, out, x, y: g))
    with pytest.raises(IndexError) as caught:
        pair(Value([1.0, 2.0]), Value([1.0]))
    assert "out of bounds" in str(caught.value) and "made a float constant" not in str(caught.value)


def test_the_keyword_hint_reads_the_vjp_of_the_input_at_fault() -> None:
    """(e12) vjp_b lacks the default that vjp_a has: the hint is for vjp_b, whose call failed."""
    op = Op("scaled", lambda a, b, k=2.0: k * a * b,
            (lambda g, out, a, b, k=2.0: g * k * b, lambda g, out, a, b, *, k: g * k * a))
    with pytest.raises(TypeError, match=r"the keywords the call gave \(none\), not the forward's defaults"):
        op(Value([1.0]), Value([2.0])).sum().backward()


# --- losses.mean_squared_error: reshaped only where it must be -----------------------------------------------------
def test_the_seeds_one_number_cost_written_with_mean_squared_error_keeps_its_tree_formula() -> None:
    """(l1) C = (α − 1)² of one number: the squared_error op on α itself, so the tree writes ∂C/∂α = 2(α − 1)."""
    w, x = Value(0.5, label="w"), Value(0.3, requires_grad=False, label="α^0")
    z = w * x
    z.label = "z"
    a = z.sigmoid()
    a.label = "α"
    cost = losses.mean_squared_error(a, 1.0)
    cost.backward()
    edge = next(edge for edge in dependency_tree(cost).edges if edge.parent == "α")
    assert edge.formula == "2(α − 1)" and edge.number == pytest.approx(2 * (float(a.data) - 1.0))


def test_a_column_of_samples_is_not_reshaped_in_the_graph() -> None:
    """(l2) A column (n, 1) is squared_error's own shape: no reshape node in the drawing or the player."""
    p = Value(np.array([[0.3], [0.6], [-0.2]]), label="p")
    cost = losses.mean_squared_error(p, np.array([[1.0], [0.0], [0.5]]))
    assert cost.op == "squared_error" and cost.parents[0] is p
    assert float(cost.data) == pytest.approx(np.mean((p.data - [[1.0], [0.0], [0.5]]) ** 2))


# --- training: Ctrl-C, NaN gradients, PyTorch's costs, warnings ----------------------------------------------------
def _network() -> nn.MLP:
    return nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", rng=0)


_X = np.linspace(-1.0, 1.0, 8).reshape(-1, 1)
_Y = _X ** 2


def test_a_single_ctrl_c_during_the_cost_after_the_last_update_says_interrupted() -> None:
    """(t6) All episodes done, Ctrl-C lands in fit's pass after the last update: the run was interrupted there."""
    def cost(outputs: Value, targets: np.ndarray) -> Value:
        if not tinygrad_edu.is_grad_enabled():  # (fit's pass after the last update)
            raise KeyboardInterrupt
        return squared_error(outputs, targets)

    net = _network()
    history = fit(net, _X, _Y, cost=cost, optimizer=optim.Adam(net, 0.05), episodes=3, progress=False)
    assert history.episodes == 3 and history.final_cost is None and history.stopped == "interrupted"


def _nan_at(call: int) -> Op:
    """An identity Op whose vjp gives NaN at its ``call``-th call (a cost not differentiable there)."""
    calls = [0]

    def vjp(g, out, x):
        calls[0] += 1
        return g * np.nan if calls[0] == call else g * 1.0

    return Op("identity", lambda x: x * 1.0, vjp)


def test_a_nan_gradient_after_updates_is_left_in_grad_to_be_seen() -> None:
    """(t2) fit says each parameter holds the gradient of the last batch: after a NaN gradient in episode 3, the NaN
    one, which shows where it came from (only a first pass or a Ctrl-C puts the earlier ones back)."""
    net = _network()
    op = _nan_at(3)
    with pytest.raises(FloatingPointError, match=r"episode 3 .* holds NaN or inf at a finite cost"):
        fit(lambda x: apply(op, net(x)), _X, _Y, optimizer=optim.SGD(net, learning_rate=0.05), episodes=5,
            progress=False)
    assert all(p.grad is not None and np.isnan(p.grad).all() for p in net.parameters())


def _advice(cost, targets: np.ndarray, outputs: int) -> str:
    model = nn.MLP([2, outputs], activation="identity", rng=0)
    inputs = np.linspace(-1.0, 1.0, 2 * len(targets)).reshape(-1, 2)
    with pytest.raises(TypeError) as caught:
        fit(model, inputs, targets, cost=cost, optimizer=optim.SGD(model, learning_rate=0.1), episodes=1)
    return str(caught.value)


def test_pytorchs_cost_without_settings_gets_the_usual_advice_and_nothing_left_out() -> None:
    """(t11, t15) MSELoss() has PyTorch's defaults only: no setting "not carried over", no "with )"."""
    torch = pytest.importorskip("torch")
    for cost, name in [(torch.nn.MSELoss(), "MSELoss"), (torch.nn.functional.mse_loss, "mse_loss"),
                       (torch.nn.CrossEntropyLoss(), "CrossEntropyLoss")]:
        targets = np.array([0, 1, 2]) if "ross" in name else np.zeros((3, 1))
        message = _advice(cost, targets, 3 if "ross" in name else 1)
        assert message.endswith(losses.pytorch_cost_advice(name)), message
        assert "carried over" not in message and "with )" not in message, message


def _pasted(message: str):
    """The advice's import and cost, run exactly as written, in a namespace of their own."""
    found = re.search(r"(from tinygrad_edu import [\w, ]+) and give cost=(lambda [^:]*: .*?) \(PyTorch's", message)
    assert found is not None, message
    namespace: dict = {}
    exec(found.group(1), namespace)  # noqa: S102 (the advice, pasted)
    return eval(found.group(2), namespace)  # noqa: S307 (the advice, pasted)


def test_the_label_smoothing_advice_runs_as_pasted_with_its_own_import() -> None:
    """(t16, t17) The advice uses data.one_hot: its import line brings data too; it is for class indices."""
    torch = pytest.importorskip("torch")
    cost = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    labels = np.array([0, 2, 1, 2])
    message = _advice(cost, labels, 3)
    assert "for class indices y)" in message, message
    mine = _pasted(message)
    logits = np.random.default_rng(3).normal(size=(4, 3))
    expected = cost(torch.tensor(logits), torch.tensor(labels)).item()
    assert mine(Value(logits), labels).item() == pytest.approx(expected, rel=1e-12)


def test_the_summed_mean_squared_error_of_two_outputs_is_pytorchs_sum() -> None:
    """(w8) reduction='sum' over every element: the mean times p.size (not len(p), the samples)."""
    torch = pytest.importorskip("torch")
    cost = torch.nn.MSELoss(reduction="sum")
    targets = np.linspace(-1.0, 1.0, 8).reshape(4, 2)
    mine = _pasted(_advice(cost, targets, 2))
    outputs = np.random.default_rng(4).normal(size=(4, 2))
    prediction = Value(outputs.copy())
    value = mine(prediction, targets)
    value.backward()
    assert value.item() == pytest.approx(cost(torch.tensor(outputs), torch.tensor(targets)).item(), rel=1e-12)
    np.testing.assert_allclose(prediction.grad, central_difference(lambda o: mine(Value(o), targets).item(),
                                                                   outputs), rtol=1e-7)


def test_reduction_none_is_said_to_give_one_cost_per_element() -> None:
    """(t18) Why reduction='none' cannot be kept: fit minimises one number."""
    torch = pytest.importorskip("torch")
    message = _advice(torch.nn.MSELoss(reduction="none"), np.zeros((3, 1)), 1)
    assert "fit minimises one number, and reduction='none' gives one per element" in message, message


def test_two_settings_left_out_are_named_in_the_plural() -> None:
    """(t19) weight=… and ignore_index=0 are not carried over, and the cost is PyTorch's without them."""
    torch = pytest.importorskip("torch")
    message = _advice(torch.nn.CrossEntropyLoss(weight=torch.ones(3), ignore_index=0), np.array([0, 1, 2]), 3)
    assert message.endswith("; its weight=… (a Tensor), ignore_index=0 are not carried over: the cost above is "
                            "PyTorch's without them"), message


_INPUTS = np.linspace(0.0, 1.0, 20).reshape(10, 2)


def _warned(model, targets, optimizer, **options) -> tuple[list[str], object]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(model, _INPUTS, targets, optimizer=optimizer, progress=False, **options)
    return [str(w.message) for w in caught], history


def test_an_optimizer_built_from_the_first_layer_is_not_taken_for_one_before_an_append() -> None:
    """(t23) SGD(model.layers[0]) fine-tunes that layer on purpose (its built_from says so): no warning."""
    model = nn.MLP([2, 3, 1], activation="relu", output_activation="identity", rng=0)
    messages, _ = _warned(model, _INPUTS.sum(1, keepdims=True), optim.SGD(model.layers[0], learning_rate=0.05),
                          episodes=1)
    assert messages == []


def _dead(hidden: float, output: float, activation: str = "relu") -> nn.MLP:
    model = nn.MLP([2, 4, 1], activation="relu", output_activation=activation, rng=0)
    with no_grad():
        model.layers[0].biases[...] = hidden
        model.layers[1].biases[...] = output
    return model


def test_dead_relus_of_a_run_that_did_not_stop_at_a_zero_gradient_are_not_said_to_have_stopped_it() -> None:
    """(t24) The hidden ReLUs dead, the output's bias still learning: training ran its episodes."""
    model = _dead(-10.0, 0.0, "identity")
    messages, history = _warned(model, _INPUTS.sum(1, keepdims=True), optim.SGD(model, learning_rate=0.1),
                                episodes=3)
    assert history.stopped == "episodes" and messages == []


def test_dead_relus_at_a_cost_of_zero_are_no_warning() -> None:
    """(t25) Every output 0 and every target 0: a zero gradient at the minimum, cost 0."""
    model = _dead(-10.0, -10.0)
    messages, history = _warned(model, np.zeros((10, 1)), optim.SGD(model, learning_rate=0.1), episodes=3)
    assert history.stopped == "zero gradient" and history.final_cost == 0.0 and messages == []


def test_only_the_layer_whose_relus_are_all_zero_is_named_dead_after_one_episode() -> None:
    """(t27, t30) Layer 1 has live units (on half of them), layer 2 none; the output's bias sits at the targets'
    mean, so ∇C = 0 at a cost of 1: layer 2 alone is named, after 1 episode."""
    model = nn.MLP([2, 4, 3, 1], activation="relu", output_activation="identity", rng=0)
    with no_grad():
        model.layers[0].weights[...] = np.array([[1.0, -1.0, 1.0, -1.0], [1.0, -1.0, 1.0, -1.0]])
        model.layers[0].biases[...] = 0.0
        model.layers[1].biases[...] = -100.0
        model.layers[2].biases[...] = 1.0
    messages, history = _warned(model, np.array([[0.0], [2.0]] * 5), optim.SGD(model, learning_rate=0.1),
                                episodes=3)
    assert history.stopped == "zero gradient" and history.final_cost == 1.0
    assert len(messages) == 1 and "after 1 episode, but not at a minimum" in messages[0], messages
    assert "The ReLUs of layer 2 are all 0 on every sample" in messages[0], messages


class _Gated(nn.Layer):
    """A layer switched off by a gate of 0: its outputs are 0, its ReLUs are not."""

    def forward(self, x):
        return super().forward(x) * 0.0


def test_a_layer_of_its_own_forward_is_not_said_to_have_dead_relus() -> None:
    """(t28) Its ReLUs are positive on every sample; the gate makes the gradient 0: no "dead units"."""
    gated = _Gated(2, 3, activation="relu", rng=0)
    with no_grad():
        gated.biases[...] = 5.0
    model = nn.Network(gated, nn.Layer(3, 1, activation="identity", rng=1))
    with no_grad():
        model.layers[1].biases[...] = 1.0
    messages, history = _warned(model, np.array([[0.0], [2.0]] * 5), optim.SGD(model, learning_rate=0.1),
                                episodes=3)
    assert history.stopped == "zero gradient" and not any("dead" in m for m in messages), messages


class _Reversed(nn.Network):
    """A network of its own forward: its first layer sees −x."""

    def forward(self, x):
        return self.layers[1](self.layers[0](-x))


def test_a_network_of_its_own_forward_is_not_said_to_have_dead_relus_it_has_not() -> None:
    """(t29) On −x the first layer's ReLUs are alive (on x they would be 0); the output ReLU is dead: its own forward
    is not replayed as a chain of layers on x, which would call the first layer dead too."""
    first, last = nn.Layer(2, 3, activation="relu", rng=0), nn.Layer(3, 1, activation="relu", rng=1)
    with no_grad():
        first.weights[...] = -1.0  # (0 on every x ≥ 0, alive on −x)
        first.biases[...] = -0.1
        last.biases[...] = -100.0
    model = _Reversed(first, last)
    messages, history = _warned(model, _INPUTS.sum(1, keepdims=True), optim.SGD(model, learning_rate=0.1),
                                episodes=3)
    assert history.stopped == "zero gradient"
    assert not any("layer 1" in m for m in messages), messages


# --- write_instead: np.dot, np.tensordot ---------------------------------------------------------------------------
def test_tensordot_with_numpys_default_axes_gets_the_general_advice() -> None:
    """(w5) np.tensordot(a, b) contracts two axes (numpy's default): not the formula of one axis."""
    with pytest.raises(TypeError) as caught:
        np.tensordot(Value(np.ones((2, 3, 3))), np.ones((3, 3, 2)))
    message = str(caught.value)
    assert "(a * b).sum() for numpy's default axes=2" in message and "a.reshape(-1, b.shape[0])" not in message


def test_np_dot_of_a_list_of_values_is_not_taken_for_a_stack() -> None:
    """(w7) A list of Values has no numpy ndim: it is no stack of matrices."""
    with pytest.raises(TypeError) as caught:
        np.dot(Value(np.ones((2, 3))), [Value(np.ones(3)), Value(np.ones(3))])
    assert str(caught.value).endswith("(here: a @ b)"), str(caught.value)


# --- dependency_tree: named factors, leaky ReLU's default slope -----------------------------------------------------
def test_a_labelled_constant_under_an_identity_layers_sum_is_drawn() -> None:
    """(dt3) α² = w·x + b (the identity: α is the sum): ∂α²/∂w = x, and x is drawn."""
    w, b, x = Value(0.3, label="w"), Value(0.1, label="b"), Value(2.0, requires_grad=False, label="x")
    a = w * x + b
    a.label = "α^2"
    tree = dependency_tree((a - 1.0) ** 2)
    edges = {(edge.parent, edge.child): edge for edge in tree.edges}
    assert edges[("w", "α^2")].formula == "x" and "x" in tree.nodes
    assert edges[("x", "α^2")].number == pytest.approx(0.3)


def test_a_labelled_constant_of_two_products_leaves_the_tree_drawable() -> None:
    """(dt4) x used by w·x and v·x: drawing x would give it two uses the tree cannot show; the tree is drawn, and its
    chain rule is the gradient."""
    w, v, b, x = Value(0.3, label="w"), Value(0.2, label="v"), Value(0.1, label="b"), \
        Value(2.0, requires_grad=False, label="x")
    z = w * x + v * x + b
    z.label = "z^2"
    a = z.sigmoid()
    a.label = "α^2"
    cost = (a - 1.0) ** 2
    cost.backward()
    tree = dependency_tree(cost)
    s = 1.0 / (1.0 + np.exp(-(0.5 * 2.0 + 0.1)))
    assert tree.chain_rule("w") == pytest.approx(2.0 * s * (1 - s) * 2 * (s - 1.0), rel=1e-12)


def test_a_labelled_constant_is_drawn_only_under_a_layers_sum() -> None:
    """(dt6) W² = k·α¹ (a weight computed, as weight normalisation does): no formula names k, k is not drawn."""
    w, k = Value(0.5, label="w"), Value(3.0, requires_grad=False, label="k")
    a1 = (w * 0.7).tanh()
    a1.label = "α^1"
    h = k * a1
    h.label = "W^2"
    tree = dependency_tree((h - 1.0) ** 2)
    assert "k" not in tree.nodes and not any(edge.formula == "k" for edge in tree.edges)


def test_leaky_relus_default_slope_is_written_as_its_edge_number() -> None:
    """(dt7) The op applied without negative_slope: its default, 0.01, is the number and the formula's."""
    w, b = Value(-1.5, label="w"), Value(0.25, label="b")
    z = w * 1.0 + b
    z.label = "z"
    a = apply(ops.leaky_relu, z)
    a.label = "α"
    edge = next(edge for edge in dependency_tree(a * 3.0).edges if edge.child == "α")
    assert edge.formula == "LeakyReLU′(z): 1 where z > 0, else 0.01" and edge.number == pytest.approx(0.01)


# --- notation.indexed --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "written"), [
    ("∂zᴸ/∂w_3", "∂zᴸ/∂w₃"), ("z_1^1", "z₁^1"),
    ("x2_1", "x2_1"), ("__3", "__3"),  # (n1) after a letter only
    ("w_3b", "w_3b"), ("w_3.5", "w_3.5"), ("layer_2_w", "layer_2_w"), ("w_12x", "w_12x"),  # (n2) nothing after
])
def test_indexed_writes_the_seeds_index_after_a_letter_only(text: str, written: str) -> None:
    assert notation.indexed(text) == written


def test_indexed_names_itself_for_what_is_no_str() -> None:
    """(n3)"""
    with pytest.raises(TypeError, match=r"^indexed: text must be a str, got int$"):
        notation.indexed(3)


# --- player: the zero_grad line --------------------------------------------------------------------------------
def _advice_line(player) -> str:
    found = re.search(r"<code>(.*?)</code>", player.steps[-1].html)
    assert found is not None, player.steps[-1].html
    return text_of(found.group(1))


def test_the_zero_grad_line_is_given_after_backward_inputs_too() -> None:
    """(p3) backward(inputs=[w]) left b out: "call zero_grad(), then backward() again", and how, which runs."""
    w, b = Value(0.8, label="w"), Value(-0.5, label="b")
    cost = (w * 2.0 + b - 1.0) ** 2
    cost.backward(inputs=[w])
    line = _advice_line(viz.backprop_player(cost))
    assert line in ("for p in (w, b): p.zero_grad()", "for p in (b, w): p.zero_grad()"), line
    exec(line, {}, {"w": w, "b": b})  # noqa: S102 (the player's advice, pasted)
    cost.backward()
    rows = re.findall(r"<tr><td>(.*?)</td>(.*?)</tr>", viz.backprop_player(cost).steps[-1].html)
    assert rows and all(text_of(rest).endswith("= .grad") for _, rest in rows), rows


@pytest.mark.parametrize("labels", [("lambda", "b"), ("w", "W^1")])
def test_a_zero_grad_line_for_labels_that_are_no_names_is_the_general_one(labels) -> None:
    """(p4, p5) ``for p in (lambda, b)`` is a SyntaxError, and so is ``(w, W^1)``: the line is p.zero_grad()."""
    w, b = Value(0.8, label=labels[0]), Value(-0.5, label=labels[1])
    cost = (w * 2.0 + b - 1.0) ** 2
    cost.backward()
    cost.backward()
    line = _advice_line(viz.backprop_player(cost))
    compile(line, "<advice>", "exec")
    assert line == "p.zero_grad()"


def test_the_zero_grad_line_of_one_parameter_runs_on_it() -> None:
    """(p6) ``for p in (w): …`` would walk w's numbers; ``(w,)`` is the tuple of w."""
    w = Value(np.array([0.8, -0.3]), label="w")
    cost = ((w * 2.0 - 1.0) ** 2).sum()
    cost.backward()
    cost.backward()
    line = _advice_line(viz.backprop_player(cost))
    exec(line, {}, {"w": w})  # noqa: S102 (the player's advice, pasted)
    assert w.grad is None


def test_the_tree_players_zero_grad_line_keeps_the_variables_names() -> None:
    """(p7, p9) The steps write w₃; the line to run keeps w_3, the variable's name."""
    previous = Value(0.6, requires_grad=False, label="α^(L-1)")
    w3, b3 = Value(0.4, label="w_3"), Value(0.1, label="b_3")
    z = w3 * previous + b3
    z.label = "z^L"
    a = z.sigmoid()
    a.label = "α^L"
    cost = (a - 1.0) ** 2
    cost.backward()
    cost.backward()
    player = viz.backprop_player(cost, layout="tree")
    line = _advice_line(player)
    assert line == "for p in (w_3, b_3): p.zero_grad()", line
    exec(line, {}, {"w_3": w3, "b_3": b3})  # noqa: S102 (the player's advice, pasted)
    assert w3.grad is None and b3.grad is None
    assert "<td>w₃</td>" in player.steps[-1].html and "<td>w_3</td>" not in player.steps[-1].html


# --- plots ---------------------------------------------------------------------------------------------------------
def test_a_blank_ylabel_leaves_the_title_the_cost_per_episode() -> None:
    """(pl1) ylabel=" " is as blank as "": the title is not "  per episode"."""
    assert plots.plot_history([1.0, 0.5], ylabel=" ").axes[0].get_title() == "cost per episode"


def _bowl(p: Value) -> Value:
    return p[0] ** 2 + 10 * p[1] ** 2


def test_plot_descent_with_steps_keeps_random_searchs_count_of_kept_changes() -> None:
    """(pl3) Random search's one guess, kept, with steps=1: the title counts kept changes of guesses, not steps."""
    ax = plots.plot_descent(_bowl, [-1.5, 0.8], lambda p: optim.RandomSearch(p, rng=0), steps=1, resolution=8,
                            levels=3).axes[0]
    assert ax.get_title().endswith("after 1 kept change of 1 guess"), ax.get_title()


# --- testing: integer inputs named ---------------------------------------------------------------------------------
class _TwoPartError(TypeError):
    """An error class of f's own, made from two arguments."""

    def __init__(self, what: str, where: str) -> None:
        super().__init__(f"{what} at {where}")


def test_an_error_of_fs_own_class_comes_out_as_it_is() -> None:
    """(ts4) Its class cannot be made again from one message: it is raised as f raised it."""
    def f(x, ids):
        raise _TwoPartError("refused", "f")

    with pytest.raises(_TwoPartError, match="^refused at f$"):
        check_gradients(f, np.ones(3), np.array([0, 2]))


def test_the_note_names_the_first_integer_input() -> None:
    """(ts6) Of two integer inputs, the first (input 1) is named."""
    def f(x, ids, more):
        return x[ids]

    with pytest.raises((TypeError, IndexError), match=r"input 1 was given as an int64 array"):
        check_gradients(f, np.ones(3), np.array([0, 2]), np.array([1, 1]))


# --- viz: the key's line about intermediates of another pass -------------------------------------------------------
def _key(drawing) -> str:
    found = re.search(r'\blabel="\s*(green[^"]*)"', drawing.source, flags=re.S)
    assert found is not None, drawing.source
    return found.group(1).replace("\n", " ")


def test_a_drawing_cut_by_max_nodes_does_not_call_one_pass_two() -> None:
    """(v3) x is used by C and by a chain the drawing leaves out: what the drawn users pass back is not all of x's
    .grad, and that is no other pass."""
    w = Value(0.5, label="w")
    x = (w * 2.0).tanh()
    x.label = "x"
    y = x
    for _ in range(12):
        y = (y * 1.1).tanh()
    cost = x + y
    cost.backward()
    assert "another backward pass" not in _key(viz.draw_graph(cost, max_nodes=5))


def test_a_stale_drawing_does_not_call_its_pass_two() -> None:
    """(v8) After a step the graph is stale (its own line says so); its .grad are still one pass."""
    net = nn.MLP([2, 3, 1], rng=0)
    cost = squared_error(net(np.array([[0.5, -0.2], [0.1, 0.3]])), np.array([[1.0], [0.0]]))
    cost.backward()
    optim.SGD(net, learning_rate=0.1).step()
    key = _key(viz.draw_graph(cost))
    assert "stale" in key and "another backward pass" not in key, key


def test_float32_sums_of_many_uses_are_one_pass_to_float32s_rounding() -> None:
    """(v9) x (float32) used by six products: its .grad and the sum of what they pass back differ in the last
    bits of float32, not by another pass."""
    w = Value(np.random.default_rng(1).normal(size=8).astype(np.float32), label="w")
    x = w.tanh()
    terms = [(x * s).tanh() for s in (1e-3, 0.37, 3.1, 11.0, 0.013, 7.7)]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    cost = total.sum()
    cost.backward()
    assert "another backward pass" not in _key(viz.draw_graph(cost))
