"""The round's new messages, each triggered by the call that produces it and read as its user would; each test
failed before its fix:

- check_gradients(f, logits, labels) and numerical_gradient with integer class labels for cross_entropy said
  "class indices must be integers, got 1e-06": a number the call never held, and none of the note the same call
  gives for an index (the labels were made float64 and moved by the step, as every input is);
- a vjp that lacks a keyword the call gave was told to "give the vjp's parameters the forward's defaults", where it
  has no such parameter: now the signature to give it, the forward's, is written out;
- an index array given to a custom Op as an input was told to go "by name, as parameters, op(x, index=i)"; for an Op
  with a vjp for the index, that call was refused with "the inputs go by position", back to the first error: now
  the Op to build (no vjp for the index) and the call are written with the forward's own names, and they run;
- fit's warning of dead ReLUs in a lone Layer read "The ReLUs of layer are all 0";
- fit's refusal of fit(..., iter(rows)) read "the inputs are a iterator";
- fit's refusal of a PyTorch cost it has no formula for (KLDivLoss(reduction='batchmean')) said "the cost above is
  PyTorch's without it" after advice that names no cost;
- np.split(v, 0.5) gave numpy's bare "number sections must be larger than 0." (0.5 is 0 parts, as np.split takes it).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from helpers_gradients import central_difference

from tinygrad_edu import Op, Value, losses, nn, optim
from tinygrad_edu.testing import check_gradients, numerical_gradient
from tinygrad_edu.training import fit

_LOGITS = np.array([[0.2, -1.0, 0.5], [1.5, 0.3, -0.2], [0.0, 0.4, 0.9]])
_LABELS = np.array([0, 2, 1])


# --- (a) integer labels given to check_gradients as an input ----------------------------------------------------
def _cross_entropy(z, y):
    return losses.cross_entropy(z, y)


@pytest.mark.parametrize("check", [check_gradients, numerical_gradient])
@pytest.mark.parametrize("labels", [_LABELS, list(_LABELS)], ids=["array", "list"])
def test_integer_class_labels_given_as_an_input_are_named_with_the_closure_to_write(check, labels):
    with pytest.raises(ValueError) as caught:
        check(_cross_entropy, _LOGITS, labels)
    message = str(caught.value)
    assert message.startswith("cross_entropy: class indices must be integers"), message
    assert f"{check.__name__}: input 1 was given as a" in message and "made float64" in message, message
    assert f"{check.__name__}(lambda x: f(x, ids), x)" in message, message


def test_the_closure_the_note_gives_checks_the_gradient_against_the_closed_form():
    """The advice pasted: the labels in f's closure; ∂C/∂z = (softmax(z) − onehot(y)) / n."""
    report = check_gradients(lambda x: _cross_entropy(x, _LABELS), _LOGITS)
    assert report.elements == _LOGITS.size and report.max_abs_error[0] < 1e-8, report
    (grad,) = numerical_gradient(lambda x: _cross_entropy(x, _LABELS), _LOGITS)
    p = np.exp(_LOGITS - _LOGITS.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(grad, (p - np.eye(3)[_LABELS]) / 3, atol=1e-8)


def test_a_value_error_of_f_unrelated_to_integers_gets_no_note():
    """f's own shape error, with an integer input present, is left as f raised it."""
    def f(x, ids):
        return (x @ np.ones((5, 1))).sum() + ids.sum()

    with pytest.raises(ValueError) as caught:
        check_gradients(f, _LOGITS, _LABELS)
    assert "made float64" not in str(caught.value)


# --- (b) a vjp that lacks a keyword the call gave -------------------------------------------------------------
def test_a_vjp_without_the_forwards_keyword_is_told_the_signature_to_take():
    scale = Op("scale", lambda x, k=2.0: k * x, (lambda g, out, x: 2.0 * g,))
    y = scale(Value([1.0, 2.0]), k=3.0).sum()
    with pytest.raises(TypeError) as caught:
        y.backward()
    message = str(caught.value)
    assert "unexpected keyword argument 'k'" in message and "vjp(g, out, x, k=2.0)" in message, message
    assert "give the vjp's parameters the forward's defaults" not in message  # (it has none to give them to)
    # the signature written, as a vjp: the call's gradient, ∂(Σ 3x)/∂x = 3
    fixed = Op("scale", lambda x, k=2.0: k * x, (lambda g, out, x, k=2.0: k * g,))
    x = Value([1.0, 2.0])
    fixed(x, k=3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_a_vjp_without_the_default_is_told_the_same_signature():
    scale = Op("scale", lambda x, k=2.0: k * x, (lambda g, out, x, k: k * g,))
    with pytest.raises(TypeError, match=r"\(none\), not the forward's defaults.*vjp\(g, out, x, k=2\.0\)"):
        scale(Value([1.0, 2.0])).sum().backward()


# --- (c) an index array given as an input -----------------------------------------------------------------------
def _scatter_back(g, out, x, i):
    """∂C/∂x of x[i]: g added back at the rows picked."""
    grad = np.zeros_like(x)
    np.add.at(grad, i, g)
    return grad


def test_the_advice_for_an_index_given_as_an_input_builds_an_op_that_runs():
    """The Op as first written (a vjp for the index too) refused the index; its advice, followed, was refused with
    "the inputs go by position" (a loop).  The Op and the call the message writes run, with the right gradient."""
    forward = lambda x, i: x[i]  # noqa: E731
    vjp_x, vjp_i = _scatter_back, (lambda g, out, x, i: np.zeros_like(i))
    gather = Op("gather", forward, (vjp_x, vjp_i))
    data, index = np.array([0.5, -1.0, 2.0, 3.0]), np.array([0, 2, 2])
    with pytest.raises(IndexError) as caught:
        gather(Value(data), index)
    message = str(caught.value)
    built = re.search(r"(Op\('gather', forward, \(.*?\)\))", message)
    called = re.search(r"(gather\(x, \w+=)…\)", message)
    assert built and called, message
    namespace = {"Op": Op, "forward": forward, "vjp_x": vjp_x, "vjp_i": vjp_i, "x": Value(data), "index": index}
    exec(f"gather = {built.group(1)}\ny = {called.group(1)}index)", namespace)  # noqa: S102 (the advice, pasted)
    y, x = namespace["y"], namespace["x"]
    np.testing.assert_array_equal(y.data, data[index])
    weights = np.array([1.0, -2.0, 0.5])
    (y * weights).sum().backward()
    np.testing.assert_allclose(x.grad, central_difference(lambda d: float((d[index] * weights).sum()), data),
                               atol=1e-8)


# --- (d) the dead-ReLU warning of a lone Layer --------------------------------------------------------------------
def test_the_dead_relu_warning_of_a_lone_layer_reads_the_layer():
    layer = nn.Layer(3, 1, "relu", rng=0)
    layer.weights.data = -np.abs(layer.weights.data)
    layer.biases.data = -np.ones_like(layer.biases.data)
    inputs = np.random.default_rng(0).random((6, 3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(layer, inputs, np.ones((6, 1)), optimizer=optim.GradientDescent(layer, 0.1), episodes=5,
                      progress=False)
    assert history.stopped == "zero gradient"
    messages = [str(w.message) for w in caught if "dead" in str(w.message)]
    assert len(messages) == 1 and "The ReLUs of the layer are all 0 on every sample" in messages[0], messages


# --- (e) "a iterator" -----------------------------------------------------------------------------------------
def test_an_iterator_of_rows_is_named_with_its_article():
    model = nn.MLP([3, 1], rng=0)
    with pytest.raises(TypeError, match=r"^fit: the inputs are an iterator, not an array: .* list\(\.\.\.\)"):
        fit(model, iter(np.zeros((2, 3))), np.zeros((2, 1)), optimizer=optim.GradientDescent(model, 0.1),
            episodes=1, progress=False)


# --- (f) a PyTorch cost without a formula here ------------------------------------------------------------------
def test_a_pytorch_cost_without_a_formula_here_names_no_cost_above():
    torch = pytest.importorskip("torch")
    model = nn.MLP([3, 2], rng=0)
    with pytest.raises(TypeError) as caught:
        fit(model, np.zeros((2, 3)), np.zeros((2, 2)), cost=torch.nn.KLDivLoss(reduction="batchmean"),
            optimizer=optim.GradientDescent(model, 0.1), episodes=1, progress=False)
    message = str(caught.value)
    assert message.startswith("fit: cost is PyTorch's KLDivLoss") and "the cost above" not in message, message


# --- (g) np.split into a fraction of a part -------------------------------------------------------------------
@pytest.mark.parametrize("split", [np.split, np.array_split])
def test_split_into_half_a_part_names_the_value(split):
    with pytest.raises(ValueError, match=rf"^np\.{split.__name__}: a Value of shape \(6,\) cannot be split into 0\.5 "
                                         r"parts along axis 0: give the number of parts, at least 1"):
        split(Value(np.arange(6.0)), 0.5)
