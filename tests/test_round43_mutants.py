"""Round 43's mutation test: each test kills a hand-made mutant of this round's new code that every other test let
live (a condition dropped, a constant changed, a message's values swapped); the comment names the mutant."""
from __future__ import annotations

import gzip

import matplotlib.pyplot as plt
import numpy as np
import pytest
from helpers_cli import error_of, uniform_model

from tinygrad_edu import Op, Value, checks, data, detect_anomaly, losses, nn, optim, plots
from tinygrad_edu import dependency_tree as trees
from tinygrad_edu.autodiff import grad, jacobian, value_and_grad
from tinygrad_edu.cli import main
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.training import History, fit

# --- autodiff._calling: the Values given by keyword are the transform's arguments too ------------------------------

def _penalty(p: Value, w: Value) -> Value:
    """Σ 9w²p⁴, by a recorded backward pass inside f (which writes w's .grad)."""
    (w * p ** 3).sum().backward(create_graph=True)
    return (p.grad * p.grad).sum()


@pytest.mark.parametrize("transform", [grad, value_and_grad, jacobian])
def test_a_value_given_by_keyword_keeps_its_grad_after_a_backward_inside_f(transform) -> None:
    # mutant: _calling given [*args] only, not [*args, *kwargs.values()]
    x, w = Value([0.5, -1.0]), Value(2.0)
    result = transform(_penalty)(x, w=w)
    derivative = result[1] if isinstance(result, tuple) else result
    np.testing.assert_allclose(derivative.data, 36 * 4 * x.data ** 3, rtol=1e-13)  # ∂(Σ 36p⁴)/∂p at w = 2
    assert w.grad is None and x.grad is None


# --- checks.naming_the_file ---------------------------------------------------------------------------------------

def _npz(tmp_path) -> np.lib.npyio.NpzFile:
    path = tmp_path / "state.npz"
    np.savez(path, a=np.zeros(2))
    return np.load(path)


def test_naming_the_file_passes_a_subclass_error_on_unchanged(tmp_path) -> None:
    # mutant: type(error) not in (TypeError, ValueError) dropped: UnicodeDecodeError("... (in the file ...)") is
    # Python's own TypeError (it takes 5 arguments), which hid the error
    with _npz(tmp_path) as state, pytest.raises(UnicodeDecodeError):
        with checks.naming_the_file(state):
            b"\xff".decode("utf-8")


def test_naming_the_file_names_it_and_keeps_the_cause(tmp_path) -> None:
    # mutant: ... from None (the cause, a KeyError, lost)
    with _npz(tmp_path) as state, pytest.raises(ValueError, match=r"^bad \(in the file .*state\.npz'\)$") as caught:
        with checks.naming_the_file(state):
            try:
                {}["a"]
            except KeyError as error:
                raise ValueError("bad") from error
    assert isinstance(caught.value.__cause__, KeyError)


# --- cli: a short header, and the overflow advice's numbers ------------------------------------------------------

def test_a_pandas_header_of_four_columns_is_quoted_in_full(capsys, tmp_path) -> None:
    # mutant: len(words) <= 3 (four columns were "0, 1, …, 3")
    model = uniform_model(tmp_path / "m.npz", [4, 1])
    inputs = tmp_path / "x.csv"
    inputs.write_text("0,1,2,3\n0.5,0.25,1.5,1\n", encoding="utf-8")
    error = error_of(capsys, ["predict", str(model), "--inputs-file", str(inputs)])
    assert "holds 0, 1, 2, 3, the header" in error and "…" not in error, error


def test_predict_overflow_advice_names_the_largest_weight_and_input(capsys, tmp_path) -> None:
    # mutant: weights = 0.0 (the message's "up to" named no weight of the model)
    big = uniform_model(tmp_path / "big.npz", [1, 1, 1, 1, 1], weight=1e100)
    assert main(["predict", str(big), "1"]) == 0
    assert "(up to 1e+100) are too large" in capsys.readouterr().err
    small = uniform_model(tmp_path / "small.npz", [1, 1, 1], weight=2.0)
    assert main(["predict", str(small), "1e308"]) == 0
    assert "(up to 1e+308): give smaller inputs" in capsys.readouterr().err


# --- data ---------------------------------------------------------------------------------------------------------

def test_a_kept_iterator_looped_over_in_pairs_is_named_as_written() -> None:
    # mutant: the message said "for x, y in ds", which is not what was written
    ds = data.Dataset(np.zeros((2, 3)), np.arange(2))
    it = iter(ds)
    with pytest.raises(TypeError, match=r"^Dataset: for x, y in iter\(ds\) goes through"):
        for x, y in it:  # noqa: B007
            pass


@pytest.mark.parametrize("name, content, unpacks", [("digits.csv.gz", gzip.compress(b""), True),
                                                    ("digits.csv", b"", False), ("digits.csv", b"\n# c\n", False)])
def test_an_empty_digits_file_says_whether_it_unpacks_to_nothing(tmp_path, name, content, unpacks) -> None:
    # mutant: " or unpacks to nothing" dropped for a .gz
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValueError, match="holds no numbers: it is empty") as caught:
        data.load_digits(path)
    assert ("unpacks to nothing" in str(caught.value)) == unpacks


# --- detect_anomaly: the arrays made read-only for the walk ------------------------------------------------------

def _writing_vjp(g, out, x, k):
    k[...] = 0.0
    return 2 * g


@pytest.mark.parametrize("by_name", [False, True], ids=["a constant input", "a parameter"])
def test_detect_anomaly_refuses_a_vjp_writing_into_a_constant_input_or_parameter(by_name) -> None:
    # mutants: the constant inputs, or the ndarray parameters, left writeable for the walk
    op = Op("scaled", lambda x, k: x * k, _writing_vjp) if by_name else \
        Op("scaled", lambda x, k: x * k, [_writing_vjp, _writing_vjp])
    k = np.array([2.0, 3.0])
    x = Value([1.0, 1.0])
    y = op(x, k=k) if by_name else op(x, k)
    with detect_anomaly(), pytest.raises(ValueError, match=r"^scaled: its vjp.*read-only"):
        y.sum().backward()
    np.testing.assert_array_equal(k, [2.0, 3.0])
    assert k.flags.writeable


def test_detect_anomaly_leaves_a_read_only_array_read_only() -> None:
    # mutant: every array made read-only and then writeable again, the caller's read-only ones too
    # (p.data = a keeps a read-only a, as the optimizers' docs say)
    c = np.array([1.0, 2.0])
    c.flags.writeable = False
    x, w = Value([3.0, 4.0]), Value([0.0, 0.0])
    w.data = c
    assert w.data is c
    with detect_anomaly():
        (x * w).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])
    np.testing.assert_array_equal(w.grad, [3.0, 4.0])
    assert not c.flags.writeable and x.data.flags.writeable


# --- engine: PyTorch's dim= on max over several axes ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["max", "min"])
def test_max_over_several_dims_points_to_amax_and_its_advice_runs(name) -> None:
    # mutant: len(axis) > 5 for len(axis) != 1 (the advice pasted numpy's argmax(axis=(1, 2)), which raises)
    x = Value(np.arange(24.0).reshape(2, 3, 4))
    with pytest.raises(TypeError, match=rf"^{name}: there is no dim= here; v\.{name}\(axis=\(1, 2\)\) gives the "
                                        rf"values alone \(PyTorch's a{name}") as caught:
        getattr(x, name)(dim=(1, 2))
    assert f"arg{name}" not in str(caught.value)
    np.testing.assert_array_equal(getattr(x, name)(axis=(1, 2)).data, [11.0, 23.0] if name == "max" else [0.0, 12.0])


# --- nn: np.savez without ** --------------------------------------------------------------------------------------

def test_a_full_state_with_an_extra_arr_0_loads_with_strict_false() -> None:
    # mutant: saved_whole without len(missing) == len(params): a state holding every parameter was refused
    model, other = nn.MLP([2, 3, 1], rng=0), nn.MLP([2, 3, 1], rng=1)
    state = {**other.state_dict(), "arr_0": np.zeros(1)}
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == [] and result.unexpected_keys == ["arr_0"]
    for p, q in zip(model.parameters(), other.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


# --- losses: one class, labels computed as class indices ---------------------------------------------------------

def test_cross_entropy_of_one_class_refuses_computed_class_indices() -> None:
    # mutant: not computed (any computed Value kept, class indices of shape (n,) too: a cost of 0 that trains nothing)
    labels = Value(np.zeros(3)) * 1.0
    with pytest.raises(ValueError, match="2 output neurons"):
        losses.cross_entropy(Value(np.zeros((3, 1))), labels)


# --- plots ---------------------------------------------------------------------------------------------------------

def test_an_all_zero_step_size_axis_is_mostly_above_0() -> None:
    # mutant: set_ylim dropped (matplotlib's −0.05..0.05: half the axis negative step sizes)
    history = History(cost=[1.0, 0.5], gradient_norm=[0.0, 0.0], step_size=[0.0, 0.0], seconds=[0.0, 0.0])
    fig = plots.plot_history(history)
    low, high = fig.axes[1].get_ylim()
    assert high > 0 and -low < high / 5, (low, high)
    plt.close(fig)


def test_subnormal_decades_are_labelled_as_powers_of_10() -> None:
    # mutant: the label of a subnormal decade was 10.0 ** -322 printed, 9.88131e-323, not 1e-322
    fig = plots.plot_history([1e-322, 5e-323, 1e-321])
    fig.canvas.draw()
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    texts = [t.get_text() for t in ax.get_yticklabels() if t.get_text() and low <= t.get_position()[1] <= high]
    assert texts and all(text.startswith("1e-3") for text in texts), texts
    plt.close(fig)


# --- training: the falling cost's message --------------------------------------------------------------------------

def test_a_cost_that_turns_nan_while_falling_names_its_last_episode_and_step() -> None:
    # mutants: "in episode {len(costs) - 1}", and the step size left out
    w = Value([[3.0]])
    with pytest.raises(FloatingPointError) as caught:
        fit(lambda x: x @ w, np.ones((1, 1)), np.zeros((1, 1)), cost=lambda out, t: (out - t).sum().log(),
            optimizer=optim.GradientDescent([w], 1.0), episodes=10, progress=False)
    history = caught.value.history
    expected = f"to {history.cost[-1]:.4g} in episode {len(history.cost)}, then a step of size 1)"
    assert expected in str(caught.value), str(caught.value)


# --- dependency trees: the regularised squared error, and the note of an unrecorded product ---------------------

@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_a_regularised_squared_error_summed_over_one_number_keeps_its_local_derivative(reduce) -> None:
    # mutant: the .sum() / .mean() of the one squared difference not skipped (the formula fell back to none)
    w = Value(0.8, label="w")
    y = (w * Value(1.5, requires_grad=False, label="a")).sigmoid()
    y.label = "y"
    cost = getattr((y - 0.25) ** 2, reduce)() + 0.01 * w ** 2
    cost.label = "C"
    edge = next(e for e in dependency_tree(cost).edges if e.child == "C" and e.parent == "y")
    assert edge.formula == "2(y − 0.25)"
    assert edge.number == pytest.approx(2 * (float(y.data) - 0.25), rel=1e-12)


def test_no_unrecorded_product_note_where_the_weight_is_in_the_tree() -> None:
    # mutant: the weight-edge condition dropped (a z¹ = W¹·α⁰ + 0.3 built by hand was said to have W¹ frozen)
    weight, alpha = Value(0.8, label="W^1"), Value(0.5, requires_grad=False, label="α^0")
    z = weight * alpha + Value(0.3, requires_grad=False)
    z.label = "z^1"
    cost = (z.sigmoid() - 0.25) ** 2
    cost.label = "C"
    tree = dependency_tree(cost)
    assert tree.nodes["W^1"].kind == "weight"
    assert trees.unrecorded_product(tree, "z^1") == []


# --- nn: del net[a:b]; optim_state: a stray arr_0 beside a whole state -------------------------------------------

@pytest.mark.parametrize("index, shown", [(slice(None), ":"), (slice(0, 2), "0:2"), (slice(None, None, 1), "::1")])
def test_deleting_every_layer_by_a_slice_is_refused_as_written(index, shown) -> None:
    # mutant: the message showed the slice object, net[slice(0, 2, None)], not what was written
    model = nn.MLP([2, 3, 1], rng=0)
    with pytest.raises(ValueError, match=rf"^MLP: del net\[{shown}\] would take out every layer"):
        del model[index]
    assert len(model.layers) == 2


def test_a_whole_optimizer_state_with_a_stray_arr_0_is_not_called_a_savez_without_stars() -> None:
    # mutant: "arr_0" in state, without len(state) == 1 (every key was there: the ** was not forgotten)
    model = nn.MLP([2, 3, 1], rng=0)
    opt = optim.SGD(model.parameters(), 0.1)
    with pytest.raises(ValueError, match=r"^SGD\.load_state_dict: unexpected 'arr_0'$"):
        opt.load_state_dict({**opt.state_dict(), "arr_0": np.zeros(1)})
