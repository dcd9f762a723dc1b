"""A second audit of the "what to write instead" tables (functional's, write_instead's, nn's, losses', checks',
optim's, ops'): one foreign name reached by several routes (F.name, v.name(), np.name(v), losses.Name, nn.Name) says
one thing; each formula, run as written with the names it mentions, gives the numbers and the gradients of the
function it stands for; every name the advice mentions exists.

xfail tests failed before their fix: the clamp advice said PyTorch's clamp passes all the gradient at a bound, where
the installed PyTorch (2.14) passes none, and offered no formula that does; torch.nn's cost classes other than MSELoss
and CrossEntropyLoss (BCEWithLogitsLoss, L1Loss, NLLLoss, …), looked for in nn, were bare AttributeErrors, though
losses knows each; losses.nll_loss and losses.NLLLoss left out what F.nll_loss says of log-probabilities;
write_instead.NUMPY_INSTEAD repeated WRITE_INSTEAD's text for np.broadcast_to and np.trace word for word.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from helpers_advice import advice_code

import tinygrad_edu.functional as F
from tinygrad_edu import Value, checks, losses, nn, optim
from tinygrad_edu import write_instead as W
from tinygrad_edu.training import History


def _message(action: Callable[[], object]) -> str:
    with pytest.raises((AttributeError, TypeError)) as caught:
        action()
    return str(caught.value)


def _calls(text: str, start: str) -> list[str]:
    """Every call in ``text`` that begins with ``start`` (ending with its opening bracket), to its closing bracket."""
    found = []
    for at in (m.start() for m in re.finditer(re.escape(start), text)):
        depth = 0
        for end in range(at + len(start) - 1, len(text)):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            if depth == 0:
                found.append(text[at:end + 1])
                break
    return found


# --- defect: the clamp advice said what the installed PyTorch's clamp does not do at a bound -----------------------
@pytest.mark.parametrize(("start", "call"), [
    ("F.where(", lambda v: F.clamp), ("functional.where(", lambda v: v.clamp),
    ("functional.where(", lambda v: np.clip(v, 0.0, 1.0))], ids=["F.clamp", "v.clamp", "np.clip"])
def test_the_clamp_advice_names_a_formula_with_the_installed_pytorchs_gradient_at_a_bound(start, call) -> None:
    torch = pytest.importorskip("torch")
    data = np.array([-0.5, 0.0, 0.25, 1.0, 1.5])  # both bounds hit exactly
    mine = torch.tensor(data, requires_grad=True)
    torch.clamp(mine, 0.0, 1.0).sum().backward()
    theirs = mine.grad.numpy()
    gradients = []
    for formula in _calls(_message(lambda: call(Value(data))), start):
        v = Value(data)
        clamped = eval(formula, {"F": F, "functional": F, "np": np, "v": v, "low": 0.0, "high": 1.0})  # noqa: S307
        np.testing.assert_array_equal(clamped.data, np.clip(data, 0.0, 1.0))
        clamped.sum().backward()
        gradients.append(v.grad.tolist())
    assert theirs.tolist() in gradients, (theirs, gradients)


# --- defect: torch.nn's cost classes looked for in nn said nothing, though losses says what they are ---------------
_TORCH_NN_COSTS = ["BCELoss", "BCEWithLogitsLoss", "NLLLoss", "L1Loss", "HuberLoss", "SmoothL1Loss",
                   "HingeEmbeddingLoss", "GaussianNLLLoss", "PoissonNLLLoss"]


@pytest.mark.parametrize("name", _TORCH_NN_COSTS)
def test_torch_nns_cost_classes_looked_for_in_nn_say_what_losses_says(name) -> None:
    in_losses = _message(lambda: getattr(losses, name))
    in_nn = _message(lambda: getattr(nn, name))
    advice = in_losses.split(" (a PyTorch name); ", 1)[1]
    assert in_nn == f"module 'tinygrad_edu.nn' has no attribute {name!r} (a PyTorch name); {advice}"


def test_the_costs_nn_knew_already_still_say_it() -> None:
    """(nn's own shorter text for these two gave way to what losses says: tests/test_advice.py.)"""
    for name, meant in (("MSELoss", "mean_squared_error(prediction, target)"),
                        ("CrossEntropyLoss", "cross_entropy(logits, labels)")):
        assert f"; use losses.{meant}" in _message(lambda name=name: getattr(nn, name))
    assert _message(lambda: nn.L1los).endswith("has no attribute 'L1los'")  # (a typo: no advice)


# --- defect: nll_loss said two things, by F and by losses -----------------------------------------------------------
@pytest.mark.parametrize("name", ["nll_loss", "NLLLoss"])
def test_nll_loss_says_one_thing_through_f_and_through_losses(name) -> None:
    from_f = _message(lambda: F.nll_loss).split("; use ", 1)[1]
    from_losses = _message(lambda: getattr(losses, name)).split("(a PyTorch name); use ", 1)[1]
    assert from_losses == from_f


def test_the_nll_advice_followed_on_log_probabilities_gives_the_cross_entropy() -> None:
    logits = np.array([[2.0, -1.0, 0.5], [0.1, 0.2, -3.0], [1.0, 1.0, 1.0], [-2.0, 4.0, 0.0]])
    labels = np.array([0, 2, 1, 1])
    formula = re.search(r"on log-probabilities, (.*?), and", _message(lambda: F.nll_loss))[1]
    z = Value(logits)
    cost = eval(formula, {"np": np, "log_probs": F.log_softmax(z), "labels": labels, "n": len(labels)})  # noqa: S307
    cost.backward()
    shifted = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(cost.item(), -np.log(p[np.arange(4), labels]).mean(), rtol=1e-12)
    np.testing.assert_allclose(z.grad, (p - np.eye(3)[labels]) / 4, rtol=1e-10, atol=1e-15)  # closed form


# --- defect (duplicate text): NUMPY_INSTEAD repeated WRITE_INSTEAD's advice for the same name ----------------------
def test_write_instead_writes_each_piece_of_advice_once() -> None:
    """No string of the tables' source (40 characters or more, docstrings aside) is written twice: one written again
    by hand is one that can be corrected in one place only (numpy_advice falls back to WRITE_INSTEAD's advice for
    numpy's function of the same name, np.trace for v.trace)."""
    tree = ast.parse(Path(W.__file__).read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, ast.Module | ast.FunctionDef) and ast.get_docstring(node) is not None}
    written = Counter(node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)
                      and isinstance(node.value, str) and len(node.value) >= 40 and id(node) not in docstrings)
    assert [text for text, count in written.items() if count > 1] == []


@pytest.mark.parametrize(("call", "name"), [(lambda v: np.trace(v), "trace"),
                                            (lambda v: np.broadcast_to(v, (2, 2, 2)), "broadcast_to")])
def test_numpys_functions_say_the_methods_advice(call, name) -> None:
    message = _message(lambda: call(Value(np.eye(2))))
    assert message.endswith(f"(here: {W.WRITE_INSTEAD[name]})")


# --- guards: one name, one text, whichever the route ---------------------------------------------------------------
def test_one_foreign_name_says_one_thing_through_each_route() -> None:
    v = Value(np.array([[1.0, 2.0], [3.0, 4.0]]))
    clamp = W.CLAMP.format(functional="functional")
    assert _message(lambda: v.clamp).endswith("; write " + clamp)
    assert _message(lambda: F.clamp).endswith("; write " + W.CLAMP.format(functional="F"))
    assert _message(lambda: np.clip(v, 0.0, 1.0)).endswith(f"(here: {clamp})")
    assert _message(lambda: v.logsumexp).endswith(W.LOGSUMEXP.format(v="v", functional="functional"))
    assert _message(lambda: F.logsumexp).endswith(W.LOGSUMEXP.format(v="x", functional="F"))
    assert (_message(lambda: F.minimum).split("; write ")[1].replace("F.", "functional.")
            == _message(lambda: np.minimum(v, 1.0)).split("; write ")[1])
    layer_norm = _message(lambda: F.layer_norm).split("; write ")[1].split(", over the last axis")[0]
    assert _message(lambda: nn.LayerNorm).endswith(", write " + layer_norm)
    conv = _message(lambda: F.conv2d).split("; write ")[1]
    assert _message(lambda: nn.Conv2d).endswith("its forward is " + conv)
    assert (_message(lambda: losses.binary_crossentropy).split("; use ")[1]
            == _message(lambda: losses.BCEWithLogitsLoss).split("; use ")[1])


# --- guards: each formula runs as written and gives the numbers and gradients of what it stands for ------------------
_RNG = np.random.default_rng(7)
_M, _P = _RNG.uniform(-2, 2, (3, 4)), _RNG.uniform(-2, 2, (3, 4))
_X4 = _RNG.normal(size=(2, 3, 4, 4))
_SQUARE = _RNG.normal(size=(3, 3)) + 3 * np.eye(3)


def _clip(x: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.minimum(np.maximum(x, low), high)


def _logsumexp(x: np.ndarray) -> np.ndarray:
    return np.log(np.exp(x - x.max()).sum()) + x.max()


def _layer_norm(x: np.ndarray) -> np.ndarray:
    centred = x - x.mean(-1, keepdims=True)
    return centred / np.sqrt((centred ** 2).mean(-1, keepdims=True) + 1e-5) * np.arange(4.0) + 1.0


#: (table entry, the input differentiated, the other names bound, what it stands for, written with numpy)
_FORMULAS = {
    "F.hardtanh": (W.PYTORCH_FUNCTIONAL["hardtanh"], "v", {}, lambda v: _clip(v, -1.0, 1.0)),
    "F.relu6": (W.PYTORCH_FUNCTIONAL["relu6"], "v", {}, lambda v: _clip(v, 0.0, 6.0)),
    "F.minimum": (W.PYTORCH_FUNCTIONAL["minimum"], "a", {"b": _P}, lambda a: np.minimum(a, _P)),
    "F.logsigmoid": (W.PYTORCH_FUNCTIONAL["logsigmoid"], "x", {}, lambda x: -np.logaddexp(0.0, -x)),
    "F.logsumexp": (W.JAX_FUNCTIONAL["logsumexp"], "x", {}, _logsumexp),
    "F.linear": (W.PYTORCH_FUNCTIONAL["linear"], "x", {"weight": _P[:2], "bias": np.array([1.0, -1.0])},
                 lambda x: np.einsum("ij,kj->ik", x, _P[:2]) + [1.0, -1.0]),
    "F.layer_norm": (W.PYTORCH_FUNCTIONAL["layer_norm"], "x", {"weight": np.arange(4.0), "bias": np.ones(4)},
                     _layer_norm),
    "F.max_pool2d": (W.CONVOLUTION["max_pool2d"], "x", {"N": 2, "C": 3, "H": 4, "W": 4},
                     lambda x: x.reshape(2, 3, 2, 2, 2, 2).max(axis=(3, 5))),
    "F.avg_pool2d": (W.CONVOLUTION["avg_pool2d"], "x", {"N": 2, "C": 3, "H": 4, "W": 4},
                     lambda x: x.reshape(2, 3, 2, 2, 2, 2).mean(axis=(3, 5))),
    "F.pad": (W.CONVOLUTION["pad"], "x", {"H": 4, "W": 4, "p": 1},
              lambda x: np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))),
    "F.huber_loss": (W.PIECEWISE_COSTS["huber_loss"], "p", {"y": _P, "delta": 1.5},
                     lambda p: np.where(abs(p - _P) <= 1.5, 0.5 * (p - _P) ** 2,
                                        1.5 * (abs(p - _P) - 0.75)).mean()),
    "F.smooth_l1_loss": (W.PIECEWISE_COSTS["smooth_l1_loss"], "p", {"y": _P, "beta": 0.5},
                         lambda p: np.where(abs(p - _P) < 0.5, (p - _P) ** 2, abs(p - _P) - 0.25).mean()),
    "F.gaussian_nll_loss": (W.LIKELIHOOD_ADVICE["gaussian_nll_loss"], "input", {"target": _P, "var": np.exp(_M)},
                            lambda x: (0.5 * (_M + (x - _P) ** 2 / np.exp(_M))).mean()),
    "F.poisson_nll_loss": (W.LIKELIHOOD_ADVICE["poisson_nll_loss"], "input", {"target": np.round(abs(_P) * 3)},
                           lambda x: (np.exp(x) - np.round(abs(_P) * 3) * x).mean()),
    "v.expm1": (W.WRITE_INSTEAD["expm1"], "v", {}, np.expm1),
    "v.log1p": (W.WRITE_INSTEAD["log1p"].split("for v > 0, ")[1].split(" keeps")[0], "v", {}, np.log1p),
    "v.cumsum": (W.WRITE_INSTEAD["cumsum"], "v", {"n": 4}, lambda v: np.cumsum(v, axis=-1)),
    "v.gather": (W.WRITE_INSTEAD["gather"], "v", {"indices": np.array([[0, 3], [1, 1], [2, 0]])},
                 lambda v: np.take_along_axis(v, np.array([[0, 3], [1, 1], [2, 0]]), 1)),
    "v.topk": (W.WRITE_INSTEAD["topk"], "v", {"k": 2}, lambda v: np.sort(v.ravel())[::-1][:2]),
    "v.sort": (W.WRITE_INSTEAD["sort"], "v", {}, lambda v: np.sort(v)),
    "v.clamp_min": (W.WRITE_INSTEAD["clamp_min"], "v", {"low": 0.1}, lambda v: np.maximum(v, 0.1)),
    "v.clamp_max": (W.WRITE_INSTEAD["clamp_max"], "v", {"high": 0.1}, lambda v: np.minimum(v, 0.1)),
    "v.tril": (W.WRITE_INSTEAD["tril"], "v", {}, np.tril),
    "v.expand_as": (W.WRITE_INSTEAD["expand_as"], "v", {"other": _M}, lambda v: np.broadcast_to(v, (3, 4))),
    "v.index_select": (W.WRITE_INSTEAD["index_select"], "v", {"indices": [2, 0]}, lambda v: v[[2, 0]]),
    "v.unfold": (W.WRITE_INSTEAD["unfold"], "v", {"k": 3},
                 lambda v: np.lib.stride_tricks.sliding_window_view(v, 3)),
    "np.kron": (W.NUMPY_INSTEAD["np.kron"], "a", {"b": _P[:2, :3], "m": 3, "n": 4, "p": 2, "q": 3},
                lambda a: np.kron(a, _P[:2, :3])),
    "np.logaddexp": (W.NUMPY_INSTEAD["np.logaddexp"], "a", {"b": _P * 300}, lambda a: np.logaddexp(a, _P * 300)),
    "np.nanmean": (W.NUMPY_INSTEAD["np.nanmean"].split("along an axis, ")[1], "v", {"axis": 1},
                   lambda v: np.nanmean(v, axis=1)),
    "np.roll": (W.NUMPY_INSTEAD["np.roll"], "v", {"s": 3}, lambda v: np.roll(v, 3)),
    "np.diff": (W.NUMPY_INSTEAD["np.diff"], "v", {}, np.diff),
    "np.linalg.lstsq": (W.NUMPY_INSTEAD["np.linalg.lstsq"].split(", with ")[0], "a", {"b": _M[:, 0]},
                        lambda a: np.linalg.lstsq(a, _M[:, 0], rcond=None)[0]),
}
#: the inputs, where they are not _M: a 1-D vector, a batch of images, a well-conditioned matrix, NaN to leave out
_INPUTS = {"v.topk": _M[0], "v.sort": _M[0], "v.unfold": _M.reshape(-1), "np.roll": _M.reshape(-1),
           "F.max_pool2d": _X4, "F.avg_pool2d": _X4, "F.pad": _X4, "np.linalg.lstsq": _SQUARE,
           "F.logsigmoid": _M * 400, "F.logsumexp": _M * 400, "np.logaddexp": _M * 300, "v.expm1": _M * 1e-3,
           "v.expand_as": _M[0], "np.nanmean": np.where(_M > 1.2, np.nan, _M), "F.relu6": _M * 5,
           "v.log1p": abs(_M) * 1e-3}
_OWN_OPS = {"inv": "Op('inv', np.linalg.inv, lambda g, out, a: -(out.T @ g @ out.T))"}


@pytest.mark.parametrize("entry", sorted(_FORMULAS))
def test_each_formula_runs_and_gives_the_numbers_and_gradient_of_what_it_stands_for(entry) -> None:
    """The formula run as written, on a Value, against the function written with numpy; its gradient (of a weighted
    sum of the outputs) against central differences of that numpy function.  (NaN inputs are left alone.)"""
    from tinygrad_edu import Op
    text, name, bound, reference = _FORMULAS[entry]
    formula = advice_code(text)
    x = np.array(_INPUTS.get(entry, _M), dtype=float)
    names = {"np": np, "F": F, "functional": F, "abs": abs, "Op": Op,
             **{key: Value(value) if isinstance(value, np.ndarray) and value.dtype.kind == "f" else value
                for key, value in bound.items()}}
    names["inv"] = eval(_OWN_OPS["inv"], names)  # noqa: S307 (np.linalg.lstsq's advice names it)
    v = Value(x)
    out = eval(formula, {**names, name: v})  # noqa: S307 (the advice is code)
    want = reference(x)
    np.testing.assert_allclose(out.data, want, rtol=1e-9, atol=1e-12)
    weights = np.random.default_rng(1).normal(size=np.shape(want))
    (out * weights).sum().backward()
    step, numeric = 1e-6, np.zeros_like(x)
    for i in zip(*np.nonzero(~np.isnan(x)), strict=True):
        up, down = x.copy(), x.copy()
        up[i] += step
        down[i] -= step
        numeric[i] = ((reference(up) - reference(down)) * weights).sum() / (2 * step)
    finite = ~np.isnan(x)
    np.testing.assert_allclose(v.grad[finite], numeric[finite], rtol=1e-5, atol=1e-6)


# --- guard: every name the advice mentions exists --------------------------------------------------------------------
_MODULES = ["functional", "write_instead", "nn", "losses", "checks", "optim", "ops", "autodiff", "data", "training",
            "engine"]
#: names of the other library's own calls, quoted as what they are (PyTorch's F.pad(x, (p, p, p, p)), nn.utils'
#: clip_grad_norm_), and a dataset's attributes (data.inputs, data.labels of fit's advice)
_THEIRS = {"F.pad", "nn.utils", "data.inputs", "data.labels"}


def _advice_texts() -> list[tuple[str, str]]:
    """Every string in the modules' tables and constants, and every checks.Absent attribute's advice."""
    texts: list[tuple[str, str]] = []

    def walk(obj: object, where: str, depth: int = 0) -> None:
        if isinstance(obj, str):
            texts.append((where, obj))
        elif isinstance(obj, dict):
            for key, value in obj.items():
                walk(value, f"{where}[{key!r}]", depth + 1)
        elif isinstance(obj, tuple) and depth < 3:
            for i, value in enumerate(obj):
                walk(value, f"{where}[{i}]", depth + 1)

    for module_name in _MODULES:
        module = importlib.import_module(f"tinygrad_edu.{module_name}")
        for key, value in vars(module).items():
            if not key.startswith("__"):
                walk(value, f"{module_name}.{key}")
    for cls in (Value, nn.Module, optim.Optimizer, History):
        for klass in cls.__mro__:
            for key, value in vars(klass).items():
                if isinstance(value, checks.Absent):
                    texts.append((f"{cls.__name__}.{key}", value.advice))
    return texts


def test_every_module_name_the_advice_mentions_exists() -> None:
    texts = _advice_texts()
    assert len(texts) > 300  # (the tables were found)
    modules = {"F": "functional", "functional": "functional", "optim": "optim", "nn": "nn", "losses": "losses",
               "data": "data", "training": "training", "engine": "engine", "autodiff": "autodiff",
               "testing": "testing"}
    missing = []
    for where, text in texts:
        for module, name in re.findall(r"(?<![\w.])(?:tinygrad_edu\.)?(" + "|".join(modules) + r")\.([A-Za-z_]\w*)",
                                       text):
            target = importlib.import_module(f"tinygrad_edu.{modules[module]}")
            if f"{module}.{name}" not in _THEIRS and not hasattr(target, name):
                missing.append((where, f"{module}.{name}"))
        for name in re.findall(r"(?<![\w.])np\.([A-Za-z_][\w.]*\w)", text):
            obj: object = np
            for part in name.split("."):
                obj = getattr(obj, part, None)
            if obj is None:
                missing.append((where, f"np.{name}"))
    assert missing == []


def test_every_value_method_the_advice_calls_exists() -> None:
    """``v.swapaxes(…)``, ``v.sigmoid()``: a method the advice calls on a Value, but for PyTorch's own methods the
    advice names as what they are (``for v.gather(1, indices)``)."""
    theirs = {"flatten", "gather", "index_select", "split", "unfold"}  # (quoted: "for v.split(size, axis)", …)
    v = Value(np.ones(3))
    missing = {(where, name) for where, text in _advice_texts()
               for name in re.findall(r"(?<![\w.])v\.([A-Za-z_]\w*)\(", text)
               if name not in theirs and not hasattr(v, name)}
    assert missing == set()
