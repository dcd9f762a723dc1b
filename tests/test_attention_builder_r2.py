"""An engineer builds a tiny transformer block from the package's primitives (second pass): token embeddings and
positional encodings from numpy, a hand-written layer norm, multi-head causal self-attention split and merged with
reshape/transpose over (batch, heads, seq, dim) arrays, a residual connection and a next-token cross-entropy.

Every number is checked against a plain-numpy forward of the same block (float64), its central differences or
second differences, or a closed form; none is taken from the code under test.
"""

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Value, losses, nn
from tinygrad_edu.autodiff import hessian

# ---------------------------------------------------------------------------------------------------------------
# The references: the block in plain numpy (float64)
# ---------------------------------------------------------------------------------------------------------------


def _future(T: int, S: int | None = None) -> np.ndarray:
    """True above the diagonal: the positions a query may not look at."""
    return np.triu(np.ones((T, T if S is None else S), dtype=bool), 1)


def _np_softmax(s: np.ndarray) -> np.ndarray:
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _np_layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(((x - mean) ** 2).mean(axis=-1, keepdims=True) + eps) * weight + bias


def _np_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool) -> np.ndarray:
    """Scaled dot-product attention of stacks (..., T, d), head by head in loops over the leading axes."""
    out = np.zeros(q.shape[:-1] + (v.shape[-1],))
    for lead in np.ndindex(q.shape[:-2]):
        scores = q[lead] @ k[lead].T / math.sqrt(q.shape[-1])
        if causal:
            scores = np.where(_future(*scores.shape), -np.inf, scores)
        out[lead] = _np_softmax(scores) @ v[lead]
    return out


def _np_multi_head(x: np.ndarray, Wq, Wk, Wv, Wo, heads: int) -> np.ndarray:
    """Causal multi-head self-attention of x (B, T, d), each head's columns of Wq, Wk, Wv taken by slicing."""
    d = x.shape[-1]
    size = d // heads
    parts = []
    for h in range(heads):
        cols = slice(h * size, (h + 1) * size)
        parts.append(_np_attention(x @ Wq[:, cols], x @ Wk[:, cols], x @ Wv[:, cols], causal=True))
    return np.concatenate(parts, axis=-1) @ Wo


def _np_block_cost(p: dict, ids: np.ndarray, targets: np.ndarray, pos: np.ndarray, heads: int) -> float:
    """Embedding + positions, pre-norm attention with a residual, an output layer and the mean next-token
    cross-entropy, all in numpy."""
    x = p["E"][ids] + pos
    x = x + _np_multi_head(_np_layer_norm(x, p["g"], p["b"]), p["Wq"], p["Wk"], p["Wv"], p["Wo"], heads)
    logits = x @ p["Wout"]
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return float(-np.take_along_axis(log_p, targets[..., None], axis=-1).mean())


def _central_differences(f, params: dict, eps: float = 1e-6) -> dict:
    grads = {}
    for name, array in params.items():
        grad = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            moved = {k: a.copy() for k, a in params.items()}
            moved[name][index] += eps
            up = f(moved)
            moved[name][index] -= 2 * eps
            grad[index] = (up - f(moved)) / (2 * eps)
        grads[name] = grad
    return grads


# ---------------------------------------------------------------------------------------------------------------
# The block written with the package, as the engineer writes it
# ---------------------------------------------------------------------------------------------------------------


def _layer_norm(x, weight, bias, eps: float = 1e-5):
    mean = x.mean(axis=-1, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / (variance + eps).sqrt() * weight + bias


def _block(p: dict, ids: np.ndarray, pos: np.ndarray, heads: int, shapes: dict):
    B, T = ids.shape
    d = p["Wq"].shape[0]
    x = p["E"][ids] + pos                                                          # (B, T, d)
    h = _layer_norm(x, p["g"], p["b"])

    def split(y):
        return y.reshape(B, T, heads, d // heads).transpose(0, 2, 1, 3)            # (B, heads, T, d/heads)

    q, k, v = split(h @ p["Wq"]), split(h @ p["Wk"]), split(h @ p["Wv"])
    scores = q @ k.swapaxes(-1, -2) / math.sqrt(d // heads)                        # (B, heads, T, T)
    weights = F.softmax(F.where(_future(T), -np.inf, scores), axis=-1)
    merged = (weights @ v).transpose(0, 2, 1, 3).reshape(B, T, d)                  # (B, T, d)
    x = x + merged @ p["Wo"]
    logits = x @ p["Wout"]
    shapes.update(x=x.shape, q=q.shape, scores=scores.shape, weights=weights.shape, merged=merged.shape,
                  logits=logits.shape)
    return logits, weights


def _block_inputs(seed: int, B: int = 2, T: int = 3, d: int = 4, vocab: int = 5):
    rng = np.random.default_rng(seed)
    params = {"E": rng.normal(size=(vocab, d)), "g": 1 + 0.2 * rng.normal(size=d), "b": 0.2 * rng.normal(size=d),
              **{name: rng.normal(size=(d, d)) * 0.5 for name in ("Wq", "Wk", "Wv", "Wo")},
              "Wout": rng.normal(size=(d, vocab)) * 0.5}
    tokens = rng.integers(0, vocab, size=(B, T + 1))
    position = np.arange(T)[:, None] / 10.0 ** (np.arange(d)[None, :] / d)
    pos = np.where(np.arange(d) % 2 == 0, np.sin(position), np.cos(position))   # sinusoidal, (T, d)
    return params, tokens[:, :-1], tokens[:, 1:], pos


# ---------------------------------------------------------------------------------------------------------------
# Defects (marked xfail, strict: each fails on the code before the fix)
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("call", "said"), [
    (lambda x: np.reshape(x, (2, 4, 2, 6 / 2)), r"^reshape: .*float.*\(2, 4, 2, 3\.0\)"),
    (lambda x: np.transpose(x, (0, 2.0, 1)), r"^transpose: .*float"),
    (lambda x: np.swapaxes(x, -1, -2.0), r"^swapaxes: axes must be integers, got -2\.0"),
])
def test_numpy_shape_functions_say_the_values_own_error(call, said) -> None:
    x = Value(np.ones((2, 4, 6)))
    with pytest.raises(TypeError) as caught:
        call(x)
    assert "not converted to a numpy array" not in str(caught.value)
    assert re.search(said, str(caught.value)), str(caught.value)


@pytest.mark.parametrize("numpy_function", [False, True])
def test_heads_that_do_not_divide_the_width_say_what_the_minus_one_would_be(numpy_function: bool) -> None:
    B, T, d, heads = 2, 4, 6, 4
    x = Value(np.ones((B, T, d)))
    with pytest.raises(ValueError) as caught:
        np.reshape(x, (B, T, heads, -1)) if numpy_function else x.reshape(B, T, heads, -1)
    message = str(caught.value)
    assert message.startswith("reshape:") and "newaxis" not in message
    assert f"{B * T * d} / {B * T * heads}" in message and str((B, T, heads, -1)) in message
    assert str((B, T, d)) in message


@pytest.mark.parametrize(("B", "T", "d"), [(2, 4, 5), (2, 4, 4), (3, 2, 5)])
def test_q_at_k_T_of_a_batch_points_to_swapaxes(B: int, T: int, d: int) -> None:
    rng = np.random.default_rng(0)
    q, k = Value(rng.normal(size=(B, T, d))), Value(rng.normal(size=(B, T, d)))
    with pytest.raises(ValueError, match=r"^matmul: ") as caught:
        q @ k.T
    message = str(caught.value)
    assert str((B, T, d)) in message and str((B, d, T)) in message
    advice = re.search(r"k\.swapaxes\(-1, -2\)", message)
    assert advice is not None, message
    np.testing.assert_allclose((q @ eval(advice.group(0), {"k": k})).data,  # noqa: S307
                               q.data @ np.swapaxes(k.data, -1, -2), rtol=1e-15)


def _advice(error: BaseException) -> str:
    match = re.search(r"; write (.+)$", str(error)) or re.search(r" name\); (.+)$", str(error))
    assert match, str(error)
    return match.group(1)


_RNG = np.random.default_rng(3)
_Q, _K, _V = (_RNG.normal(size=(2, 3, 4, 5)) for _ in range(3))


@pytest.mark.parametrize("name", ["scaled_dot_product_attention", "layer_norm", "linear", "embedding"])
def test_pytorch_functional_attention_names_say_what_to_write(name: str) -> None:
    with pytest.raises(AttributeError) as caught:
        getattr(F, name)
    advice = _advice(caught.value)
    namespace = {"F": F, "np": np, "math": math}
    x, weight, bias = _RNG.normal(size=(2, 3, 4)), 1 + _RNG.normal(size=4), _RNG.normal(size=4)
    if name == "scaled_dot_product_attention":  # the plain formula, then the one for is_causal=True
        formulas = re.findall(r"F\.softmax\(.+?\) @ v", advice)
        assert len(formulas) == 2, advice
        namespace.update(q=Value(_Q), k=Value(_K), v=Value(_V))
        for formula, causal in zip(formulas, (False, True)):
            computed = eval(formula, namespace)  # noqa: S307
            np.testing.assert_allclose(computed.data, _np_attention(_Q, _K, _V, causal), rtol=1e-12)
        return
    formula = advice.split(", ")[0] if name != "layer_norm" else advice.split(", over")[0]
    if name == "layer_norm":
        namespace.update(x=Value(x), weight=Value(weight), bias=Value(bias))
        expected = _np_layer_norm(x, weight, bias)
    elif name == "linear":
        matrix = _RNG.normal(size=(3, 4))  # PyTorch's (out_features, in_features)
        namespace.update(x=Value(x), weight=Value(matrix), bias=Value(bias[:3]))
        expected = x @ matrix.T + bias[:3]
    else:
        table, ids = _RNG.normal(size=(6, 4)), np.array([[0, 5, 5], [2, 1, 0]])
        namespace.update(weight=Value(table), ids=ids)
        expected = np.stack([[table[i] for i in row] for row in ids])
    np.testing.assert_allclose(eval(formula, namespace).data, expected, rtol=1e-12)  # noqa: S307


@pytest.mark.parametrize("name", ["MultiheadAttention", "LayerNorm", "Embedding"])
def test_pytorch_attention_classes_say_what_to_write(name: str) -> None:
    with pytest.raises(AttributeError) as caught:
        getattr(nn, name)
    advice = _advice(caught.value)
    B, T, d, h = 2, 3, 4, 2
    rng = np.random.default_rng(4)
    x = rng.normal(size=(B, T, d))
    if name == "MultiheadAttention":  # the head split, the attention and the join, as it writes them
        split = re.search(r"heads = (lambda y: .+?) splits", advice)
        joined = re.search(r", (\(F\.softmax\(.+? @ Wo) joins", advice)
        assert split and joined, advice
        W = {n: rng.normal(size=(d, d)) for n in ("Wq", "Wk", "Wv", "Wo")}
        namespace = {"F": F, "np": np, "B": B, "T": T, "d": d, "h": h, **{n: Value(w) for n, w in W.items()}}
        heads = eval(split.group(1), namespace)  # noqa: S307
        namespace.update(q=heads(Value(x) @ namespace["Wq"]), k=heads(Value(x) @ namespace["Wk"]),
                         v=heads(Value(x) @ namespace["Wv"]))
        computed = eval(joined.group(1), namespace)  # noqa: S307  (no mask: the same heads, not causal)
        parts = [_np_attention(x @ W["Wq"][:, i * 2:i * 2 + 2], x @ W["Wk"][:, i * 2:i * 2 + 2],
                               x @ W["Wv"][:, i * 2:i * 2 + 2], causal=False) for i in range(h)]
        np.testing.assert_allclose(computed.data, np.concatenate(parts, axis=-1) @ W["Wo"], rtol=1e-12)
        assert "F.where(attn_mask, -np.inf, scores)" in advice  # (PyTorch's bool attn_mask: True may not look)
    elif name == "LayerNorm":
        formula = advice.split("write ")[-1]
        weight, bias = 1 + rng.normal(size=d), rng.normal(size=d)
        computed = eval(formula, {"x": Value(x), "weight": Value(weight), "bias": Value(bias)})  # noqa: S307
        np.testing.assert_allclose(computed.data, _np_layer_norm(x, weight, bias), rtol=1e-12)
    else:
        table, ids = rng.normal(size=(7, d)), np.array([[6, 0, 6]])
        assert "table[ids]" in advice
        np.testing.assert_array_equal(eval("table[ids]", {"table": Value(table), "ids": ids}).data,  # noqa: S307
                                      table[[6, 0, 6]][None])


_STACK = np.arange(1.0, 25.0).reshape(2, 3, 4) - 12


@pytest.mark.parametrize(("name", "numpy_function"), [
    ("tril", False), ("triu", False), ("tril", True), ("triu", True),
    ("baddbmm", False), ("masked_fill_", False), ("chunk", False), ("split", False),
])
def test_pytorch_attention_methods_say_what_to_write(name: str, numpy_function: bool) -> None:
    v = Value(_STACK)
    if numpy_function:
        with pytest.raises(TypeError) as caught:
            getattr(np, name)(v)
        match = re.search(r"\(here: (.+)\)$", str(caught.value))
        assert match, str(caught.value)
        advice = match.group(1)
    else:
        with pytest.raises(AttributeError) as caught:
            getattr(v, name)
        advice = _advice(caught.value)
    namespace = {"v": v, "np": np, "functional": F}
    if name in ("tril", "triu"):
        formula, masking = re.match(r"(.+?), zeros .*?, (functional\.where\(.+\))$", advice).groups()
        expected = getattr(np, name)(_STACK)  # each matrix of the stack
        np.testing.assert_array_equal(eval(formula, namespace).data, expected)  # noqa: S307
        np.testing.assert_array_equal(eval(masking, namespace).data,  # noqa: S307
                                      np.where(_future(3, 4), -np.inf, _STACK))
    elif name == "baddbmm":
        batch1, batch2 = np.ones((2, 3, 5)), np.arange(40.0).reshape(2, 5, 4)
        namespace.update(batch1=Value(batch1), batch2=Value(batch2), alpha=0.5, beta=2.0)
        computed = eval(advice.split(" (@")[0], namespace)  # noqa: S307
        np.testing.assert_allclose(computed.data, 2.0 * _STACK + 0.5 * np.matmul(batch1, batch2), rtol=1e-15)
    elif name == "masked_fill_":
        mask = _STACK > 0
        namespace.update(mask=mask, value=-1e9)
        exec(advice.split(", a new")[0], namespace)  # noqa: S102
        np.testing.assert_array_equal(namespace["v"].data, np.where(mask, -1e9, _STACK))
    else:  # v.chunk(2, -1): 2 pieces of 2 columns; v.split(1, -1): 4 pieces of 1 column
        formula = re.match(r"(np\.split\(.+?\)), a list", advice).group(1)
        width = 2 if name == "chunk" else 1
        namespace.update(axis=-1, chunks=2, size=1)
        pieces = eval(formula, namespace)  # noqa: S307
        expected = [_STACK[..., i:i + width] for i in range(0, 4, width)]
        assert [p.shape for p in pieces] == [e.shape for e in expected]
        for piece, wanted in zip(pieces, expected):
            np.testing.assert_array_equal(piece.data, wanted)
        (pieces[1] * 3.0).sum().backward()  # the pieces are recorded: the gradient reaches v's own columns
        columns = (np.arange(4) >= width) & (np.arange(4) < 2 * width)
        np.testing.assert_array_equal(v.grad, np.where(columns, 3.0, 0.0) * np.ones((2, 3, 4)))


# ---------------------------------------------------------------------------------------------------------------
# Guards: what the engineer relies on
# ---------------------------------------------------------------------------------------------------------------


def test_transformer_block_numbers_shapes_and_gradients_match_numpy_and_central_differences() -> None:
    """Embedding, sinusoidal positions, layer norm, two causal heads split and merged, a residual, next-token
    cross-entropy: the cost against the numpy forward (heads sliced, not reshaped), every parameter's gradient
    against central differences, every intermediate's shape."""
    params, ids, targets, pos = _block_inputs(0)
    heads, (B, T), d = 2, ids.shape, params["Wq"].shape[0]
    values = {name: Value(array) for name, array in params.items()}
    shapes: dict = {}
    logits, weights = _block(values, ids, pos, heads, shapes)
    assert shapes == {"x": (B, T, d), "q": (B, heads, T, d // heads), "scores": (B, heads, T, T),
                      "weights": (B, heads, T, T), "merged": (B, T, d), "logits": (B, T, 5)}
    np.testing.assert_allclose(weights.data.sum(axis=-1), 1.0, rtol=1e-15)
    assert np.array_equal(weights.data[..., _future(T)], np.zeros((B, heads, T * (T - 1) // 2)))
    cost = losses.cross_entropy(logits.reshape(-1, 5), targets.reshape(-1))
    reference = _np_block_cost(params, ids, targets, pos, heads)
    np.testing.assert_allclose(float(cost), reference, rtol=1e-13)
    cost.backward()
    numeric = _central_differences(lambda p: _np_block_cost(p, ids, targets, pos, heads), params)
    for name, value in values.items():
        np.testing.assert_allclose(value.grad, numeric[name], rtol=1e-6, atol=1e-8, err_msg=name)
    rows_used = np.isin(np.arange(5), ids)  # an embedding row no token used gets a gradient of exactly 0
    assert np.array_equal(values["E"].grad[~rows_used], np.zeros(((~rows_used).sum(), d)))


def test_hessian_of_a_small_causal_two_head_attention_matches_second_differences() -> None:
    """∂²/∂x² of Σ upstream ⊙ attention(x) for x of shape (1, 3, 2), two heads of width 1: the Hessian (6 × 6)
    against mixed central second differences of the numpy reference."""
    rng = np.random.default_rng(11)
    W = {n: rng.normal(size=(2, 2)) for n in ("Wq", "Wk", "Wv", "Wo")}
    upstream = rng.normal(size=(1, 3, 2))

    def f(flat):
        x = flat.reshape(1, 3, 2)
        q, k, v = ((x @ W[n]).reshape(1, 3, 2, 1).transpose(0, 2, 1, 3) for n in ("Wq", "Wk", "Wv"))
        weights = F.softmax(F.where(_future(3), -np.inf, q @ k.swapaxes(-1, -2) / 1.0))
        return (((weights @ v).transpose(0, 2, 1, 3).reshape(1, 3, 2) @ W["Wo"]) * upstream).sum()

    def reference(flat: np.ndarray) -> float:
        return float((_np_multi_head(flat.reshape(1, 3, 2), W["Wq"], W["Wk"], W["Wv"], W["Wo"], 2) * upstream).sum())

    x0 = rng.normal(size=6)
    computed = hessian(f)(x0).data
    eps, expected = 1e-4, np.zeros((6, 6))
    for i in range(6):
        for j in range(6):
            ei, ej = np.eye(6)[i] * eps, np.eye(6)[j] * eps
            expected[i, j] = (reference(x0 + ei + ej) - reference(x0 + ei - ej) - reference(x0 - ei + ej)
                              + reference(x0 - ei - ej)) / (4 * eps * eps)
    np.testing.assert_allclose(computed, computed.T, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(computed, expected, rtol=1e-5, atol=1e-6)


@given(B=st.integers(1, 2), T=st.integers(1, 4), heads=st.integers(1, 3), size=st.integers(1, 3),
       seed=st.integers(0, 2**16))
def test_split_and_merge_of_heads_move_every_number_and_gradient_back(B: int, T: int, heads: int, size: int,
                                                                       seed: int) -> None:
    """x.reshape(B, T, h, d/h).transpose(0, 2, 1, 3) is head i's columns i·d/h … (i+1)·d/h; merging undoes it; the
    gradient of Σ u ⊙ split(x) is u's numbers moved back to the columns they came from."""
    rng = np.random.default_rng(seed)
    d = heads * size
    data, upstream = rng.normal(size=(B, T, d)), rng.normal(size=(B, heads, T, size))
    x = Value(data)
    split = x.reshape(B, T, heads, size).transpose(0, 2, 1, 3)
    for i in range(heads):
        np.testing.assert_array_equal(split.data[:, i], data[..., i * size:(i + 1) * size])
    np.testing.assert_array_equal(split.transpose(0, 2, 1, 3).reshape(B, T, d).data, data)
    (split * upstream).sum().backward()
    np.testing.assert_array_equal(x.grad, np.concatenate([upstream[:, i] for i in range(heads)], axis=-1))


@pytest.mark.parametrize(("make", "said"), [
    # values of another length than the keys: softmax(q kᵀ) is (…, 4, 5), v has 6 rows
    (lambda: F.softmax(Value(np.ones((2, 3, 4, 5))) @ Value(np.ones((2, 3, 5, 5))).swapaxes(-1, -2))
     @ Value(np.ones((2, 3, 6, 5))), r"^matmul: shapes \(2, 3, 4, 5\) and \(2, 3, 6, 5\) are not aligned \(5 != 6\)"),
    # a mask of another length than the keys
    (lambda: F.where(_future(4, 5), -np.inf, Value(np.ones((2, 3, 4, 4)))),
     r"^where: condition, a and b of shapes \(4, 5\) and \(\) and \(2, 3, 4, 4\) cannot be broadcast"),
    (lambda: Value(np.ones((2, 3, 4, 4))) + np.where(_future(4, 5), -np.inf, 0.0),
     r"^add: shapes \(2, 3, 4, 4\) and \(4, 5\) cannot be broadcast"),
])
def test_usual_shape_slips_name_the_operation_and_the_shapes(make, said) -> None:
    with pytest.raises(ValueError, match=said):
        make()


def test_next_token_logits_of_a_batch_of_sequences_say_how_to_reshape_and_that_reshape_is_right() -> None:
    """cross_entropy takes (n, k) logits: for (B, T, V) it names the reshape, which gives the numpy mean."""
    rng = np.random.default_rng(5)
    logits, labels = rng.normal(size=(2, 3, 4)), rng.integers(0, 4, size=(2, 3))
    with pytest.raises(ValueError, match=r"^cross_entropy: .*\(2, 3, 4\)") as caught:
        losses.cross_entropy(Value(logits), labels)
    call = re.search(r"cross_entropy\(logits\.reshape\(-1, 4\), labels\.reshape\(-1\)\)", str(caught.value))
    assert call is not None, str(caught.value)
    computed = eval("losses." + call.group(0), {"losses": losses, "logits": Value(logits),  # noqa: S307
                                                "labels": labels})
    log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    np.testing.assert_allclose(float(computed), -np.take_along_axis(log_p, labels[..., None], -1).mean(),
                               rtol=1e-14)
