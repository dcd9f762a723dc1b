"""Messages added or changed in round 35's late commits (b064f21..), read as a student would: each triggered, and
the fact it states or the advice it gives checked by running it."""

import ast
import math
import re
import warnings

import numpy as np
import pytest

import tinygrad_edu
import tinygrad_edu.functional as F
from tinygrad_edu import Value, autodiff, fit, functional, nn, no_grad, optim
from tinygrad_edu.losses import cross_entropy
from tinygrad_edu.testing import check_gradients


def _message(call) -> str:
    with pytest.raises((TypeError, ValueError, AttributeError, IndexError)) as info:
        call()
    return str(info.value)


def _between(text: str, start: str, end: str) -> str:
    found = re.search(re.escape(start) + "(.*?)" + re.escape(end), text)
    assert found, (start, end, text)
    return found.group(1)


def _softmax(a: np.ndarray) -> np.ndarray:
    e = np.exp(a - a.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


# -- defects -----------------------------------------------------------------------------------------------------

def _chunk_cost(W: Value, xs: np.ndarray) -> tuple[Value, Value]:
    h = Value(np.zeros(3))
    for x in xs:
        h = (h @ W + x).tanh()
    return (h ** 2).sum(), h


def test_stale_after_a_detached_reset_says_what_to_write_and_that_works() -> None:
    rng = np.random.default_rng(1)
    start, xs = rng.standard_normal((3, 3)) * 0.5, rng.standard_normal((4, 3))
    W = Value(start.copy())
    cost, h = _chunk_cost(W, xs)
    h = h.detach()
    with no_grad():
        h *= 0
    message = _message(cost.backward)
    advice = message.rsplit(": ", 1)[-1]
    assert advice == "h = h.detach() * 0"
    assert "backward() before" in message
    # the advice, run: the reset as a new Value leaves the chunk's graph whole, and its gradient right
    W = Value(start.copy())
    cost, h = _chunk_cost(W, xs)
    namespace = {"h": h}
    exec(advice, namespace)
    assert not namespace["h"].data.any()
    cost.backward()
    eps, numeric = 1e-6, np.zeros_like(start)
    for index in np.ndindex(start.shape):
        up, down = start.copy(), start.copy()
        up[index] += eps
        down[index] -= eps
        numeric[index] = (_chunk_cost(Value(up), xs)[0].item() - _chunk_cost(Value(down), xs)[0].item()) / (2 * eps)
    np.testing.assert_allclose(W.grad, numeric, rtol=1e-6, atol=1e-8)


def test_optimizer_state_lists_long_stray_keys_each_quoted_whole() -> None:
    p = Value(np.ones(3))
    opt = optim.Adam([p], 0.1)
    state = dict(opt.state_dict())
    state["stray_" + "x" * 200] = np.ones(1)
    message = _message(lambda: opt.load_state_dict(state))
    listed = message.split("unexpected ", 1)[1]
    assert ast.literal_eval(listed).startswith("stray_xxx")  # one whole Python string, its quotes closed
    assert len(listed) <= 64


def test_check_gradients_of_a_list_names_the_list_and_its_advice_works() -> None:
    W = np.arange(4.0).reshape(2, 2)

    def f(w):
        return (w * w).sum()

    message = _message(lambda: check_gradients(f, [W]))
    assert "not as one list" in message and "a list of 1 array," in message
    report = check_gradients(f, W)  # the advice: the input on its own, checked as itself
    assert report.elements == 4
    np.testing.assert_allclose(report.analytic[0], 2 * W)


@pytest.mark.parametrize("name", ["vmap", "stop_gradient", "jvp"])
def test_top_level_transform_names_put_in_autodiff_only_what_is_there(name: str) -> None:
    _only_what_is_there(name)


@pytest.mark.parametrize("name", ["grad", "hessian", "hvp"])
def test_top_level_transforms_say_the_import_that_works(name: str) -> None:
    _only_what_is_there(name)


def _only_what_is_there(name: str) -> None:
    message = _message(lambda: getattr(tinygrad_edu, name))
    after = message.split("tinygrad_edu.autodiff", 1)[1]
    if after.startswith(":"):  # what the colon says is in autodiff must import from it
        line = after[1:].strip()
        assert line.startswith("from tinygrad_edu.autodiff import "), message
        exec(line, {})
    else:
        assert name not in autodiff.__all__


# -- guards: the facts new messages state, and their advice run ----------------------------------------------------

@pytest.mark.parametrize(("activation", "width"), [("sigmoid", 1.0), ("tanh", 2.0)])
def test_squashed_logits_warning_states_the_true_floor(activation: str, width: float) -> None:
    rng = np.random.default_rng(0)
    model = nn.MLP([4, 6, 10], output_activation=activation, rng=0)
    with pytest.warns(UserWarning, match="cross_entropy") as caught:
        fit(model, rng.standard_normal((8, 4)), rng.integers(0, 10, 8), cost=cross_entropy,
            optimizer=optim.SGD(model.parameters(), 0.1), episodes=1)
    text = next(str(w.message) for w in caught if "cross_entropy" in str(w.message))
    floor = float(_between(text, "cannot fall below ", ";"))
    # the best such a layer can do: the right class at the top of the range, the 9 others at the bottom
    best_logits = np.full(10, -width / 2)
    best_logits[3] = width / 2
    closed = math.log(1 + 9 * math.exp(-width))
    assert cross_entropy(Value(best_logits), np.array(3)).item() == pytest.approx(closed)
    assert floor == pytest.approx(closed, abs=5e-3)  # (3 digits shown)
    with warnings.catch_warnings():  # identity, the advice: no warning
        warnings.simplefilter("error")
        identity = nn.MLP([4, 6, 10], output_activation="identity", rng=0)
        fit(identity, rng.standard_normal((8, 4)), rng.integers(0, 10, 8), cost=cross_entropy,
            optimizer=optim.SGD(identity.parameters(), 0.1), episodes=1)


def test_attention_and_layer_norm_advice_runs_and_matches_numpy() -> None:
    rng = np.random.default_rng(2)
    qn, kn, vn = rng.standard_normal((3, 2, 4, 6))
    message = _message(lambda: F.scaled_dot_product_attention)
    plain = _between(message, "write ", "; for is_causal=True")
    causal = _between(message, "is_causal=True, ", " (an attn_mask")
    names = {"F": F, "np": np, "q": Value(qn), "k": Value(kn), "v": Value(vn)}
    scores = qn @ kn.swapaxes(-1, -2) / math.sqrt(6)
    np.testing.assert_allclose(eval(plain, names).data, _softmax(scores) @ vn, rtol=1e-12)
    scores[..., np.triu(np.ones((4, 4), bool), 1)] = -np.inf
    np.testing.assert_allclose(eval(causal, names).data, _softmax(scores) @ vn, rtol=1e-12)

    x = rng.standard_normal((3, 5))
    norm = _between(_message(lambda: F.layer_norm), "write ", ", over the last axis")
    got = eval(norm, {"x": Value(x), "weight": Value(np.ones(5)), "bias": Value(np.zeros(5))})
    np.testing.assert_allclose(got.data, (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5),
                               rtol=1e-12)


def test_windows_roll_and_triangle_advice_runs_and_matches_numpy() -> None:
    data = np.arange(7.0)
    v = Value(data)
    names = {"np": np, "functional": functional, "v": v, "k": 3, "s": 2}
    windows = _between(_message(lambda: v.unfold), "write ", " for v.unfold")
    np.testing.assert_array_equal(eval(windows, names).data, np.lib.stride_tricks.sliding_window_view(data, 3))
    roll = _between(_message(lambda: np.roll(v, 2)), "(here: ", " for a 1-D v")
    np.testing.assert_array_equal(eval(roll, names).data, np.roll(data, 2))
    stack = np.arange(24.0).reshape(2, 3, 4)
    for name, reference in (("tril", np.tril), ("triu", np.triu)):
        advice = _between(_message(lambda n=name: getattr(v, n)), "write ", ", zeros")
        np.testing.assert_array_equal(eval(advice, {"np": np, "v": Value(stack)}).data, reference(stack))


def test_reshape_minus_one_states_the_true_quotient() -> None:
    v = Value(np.arange(12.0))
    message = _message(lambda: v.reshape(5, -1))
    assert "12 / 5" in message and 12 % 5
    assert v.reshape(4, -1).shape == (4, 3)  # a divisor is taken


def test_stacked_transpose_hint_gives_a_shape_that_multiplies() -> None:
    q, k = Value(np.ones((2, 4, 8))), Value(np.ones((2, 5, 8)))
    message = _message(lambda: q @ k.T)
    stated = ast.literal_eval(message.rsplit("giving shape ", 1)[-1])
    assert k.swapaxes(-1, -2).shape == stated
    assert (q @ k.swapaxes(-1, -2)).shape == (2, 4, 5)
