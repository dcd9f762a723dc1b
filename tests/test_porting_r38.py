"""A PyTorch user porting small-network code reaches for the names they know: torch.nn's activations, norms, dropout
and containers (nn.GELU, nn.BatchNorm1d, nn.Identity), torch.nn.functional's (F.gelu, F.dropout, F.normalize, the
costs F.kl_div, F.soft_margin_loss, …) and torch.optim's optimizers (optim.AdamW, optim.RMSprop).  Each was a bare
"module has no attribute"; each now says what to write here.  The formulas are followed as written, on Values: their
numbers against PyTorch's, their gradients against PyTorch's and against central differences in float64; the
module sketches (a batch norm of one's own, AdamW's decay, RMSprop's and Adagrad's steps by hand) run against
PyTorch's modules and optimizers step by step.  One name says one thing by every route: F.name, losses.name,
losses.Name, nn.Name, fit(cost=name).  PyTorch's keywords inplace= (F.relu, F.leaky_relu) and beta=, threshold=
(F.softplus) were Python's bare "unexpected keyword argument"; they say what to write too.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from helpers_advice import PYTORCH_ACTIVATION_CALLS, advice_code, check_formula, one_thread_torch
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu.functional as F
from tinygrad_edu import Op, Value, losses, nn, no_grad, optim, training
from tinygrad_edu.testing import check_gradients


def _message(action: Callable[[], object]) -> str:
    with pytest.raises((AttributeError, TypeError)) as caught:
        action()
    return str(caught.value)


def _after(message: str, marker: str) -> str:
    assert marker in message, message
    return message.split(marker, 1)[1]


def _names(**bound: Any) -> dict[str, Any]:
    """What a formula of the advice may mention: np, F, math, Op, abs, and the names bound."""
    return {"np": np, "F": F, "functional": F, "math": math, "Op": Op, "abs": abs, **bound}


def _torch() -> Any:
    return one_thread_torch()  # (without PyTorch: skipped at its first use, after the checks that need none)


def _check_formula(formula: str, name: str, x: np.ndarray, theirs: Callable[[Any], Any], *, grad_rtol: float = 1e-10,
                   **bound: Any) -> None:
    """``formula`` run on a Value ``name`` = x: PyTorch's numbers (``theirs`` of a float64 tensor), and the gradient
    of a weighted sum of its outputs against PyTorch's and against central differences of the formula in float64."""
    check_formula(formula, name, x, theirs, _names(**bound), seed=5, grad_rtol=grad_rtol)


# ---- the names: each says what to write, not a bare "has no attribute" ----------------------------------------------
_NN = ["GELU", "SiLU", "Mish", "ELU", "SELU", "Softsign", "Hardsigmoid", "Hardswish", "Tanhshrink", "GLU",
       "LogSigmoid", "Softmin", "Threshold", "PReLU", "Dropout1d", "Dropout2d", "BatchNorm1d", "BatchNorm2d",
       "RMSNorm", "CosineSimilarity", "PairwiseDistance", "Identity", "Unflatten", "LazyLinear", "init",
       "KLDivLoss", "SoftMarginLoss", "MarginRankingLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss"]
_F = ["gelu", "silu", "mish", "elu", "selu", "softsign", "hardsigmoid", "hardswish", "tanhshrink", "glu", "softmin",
      "threshold", "prelu", "relu_", "leaky_relu_", "dropout", "dropout1d", "dropout2d", "batch_norm", "rms_norm",
      "normalize", "cosine_similarity", "pairwise_distance", "kl_div", "soft_margin_loss", "margin_ranking_loss",
      "multilabel_soft_margin_loss", "multi_margin_loss"]
_OPTIM = ["AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam", "Adadelta", "ASGD", "Rprop", "SparseAdam",
          "LBFGS"]
_LOSSES = ["kl_div", "KLDivLoss", "soft_margin_loss", "SoftMarginLoss", "margin_ranking_loss", "MarginRankingLoss",
           "multilabel_soft_margin_loss", "MultiLabelSoftMarginLoss", "multi_margin_loss", "MultiMarginLoss"]
_ROUTES = ([(nn, name) for name in _NN] + [(F, name) for name in _F] + [(optim, name) for name in _OPTIM]
           + [(losses, name) for name in _LOSSES])


@pytest.mark.parametrize(("module", "name"), _ROUTES, ids=[f"{m.__name__.rpartition('.')[2]}.{n}" for m, n in _ROUTES])
def test_a_pytorch_name_for_small_networks_says_what_to_write(module: Any, name: str) -> None:
    message = _message(lambda: getattr(module, name))
    assert f"has no attribute {name!r} (a PyTorch name); " in message
    assert len(message.split("(a PyTorch name); ", 1)[1]) > 10


def test_the_names_are_pytorchs_own() -> None:
    """Guard: every name given advice is one of torch.nn's, torch.nn.functional's or torch.optim's (no typo of a key
    stands for a name nobody writes)."""
    torch = _torch()
    assert not set(_NN) - set(dir(torch.nn))
    assert not set(_F) - set(dir(torch.nn.functional))
    assert not set(_OPTIM) - set(dir(torch.optim))
    assert not set(_LOSSES) - set(dir(torch.nn)) - set(dir(torch.nn.functional))


def test_a_typo_still_gets_pythons_did_you_mean() -> None:
    """Guard: a name of no library's keeps the bare error, and Python's suggestion from dir()."""
    for module, typo in ((nn, "GELUU"), (F, "gelu2"), (optim, "AdamWW")):
        message = _message(lambda module=module, typo=typo: getattr(module, typo))
        assert message.endswith(f"has no attribute {typo!r}")


# ---- activations: F.name's formula, and nn.Name's layer, against PyTorch ---------------------------------------------
#: x away from every kink (0, ±3, the threshold 0.3): a central difference there would be meaningless
_X = np.linspace(-4.37, 4.41, 30).reshape(5, 6)
assert np.abs(_X).min() > 0.05 and np.abs(np.abs(_X) - 3).min() > 0.05 and np.abs(_X - 0.3).min() > 0.05


def _erf_from(message: str) -> Any:
    """The error function the GELU advice says to make, made as it says."""
    code = re.search(r"with erf = (Op\(.*?\)), an Op of your own", message)
    assert code, message
    return eval(code[1], _names())  # noqa: S307


_ACTIVATIONS = PYTORCH_ACTIVATION_CALLS


@pytest.mark.parametrize("name", sorted(_ACTIVATIONS))
def test_an_activations_formula_gives_pytorchs_numbers_and_gradients(name: str) -> None:
    torch = _torch()
    message = _message(lambda: getattr(F, name))
    text = _after(message, "(a PyTorch name); write ")
    theirs, bound = _ACTIVATIONS[name]
    if name == "gelu":
        bound = {"erf": _erf_from(message)}
    # (PyTorch's hardsigmoid and hardswish multiply their gradients by 1/6 rounded to float32, even in float64)
    rtol = 1e-7 if name in ("hardsigmoid", "hardswish") else 1e-10
    _check_formula(advice_code(text), "x", _X.copy(), lambda t: theirs(torch, t), grad_rtol=rtol, **bound)


def test_the_tanh_gelu_gives_pytorchs_approximate_gelu() -> None:
    torch = _torch()
    formula = _after(_message(lambda: F.gelu), "PyTorch's approximate='tanh' is ")
    _check_formula(formula, "x", _X.copy(), lambda t: torch.nn.functional.gelu(t, approximate="tanh"))


def test_the_gelus_error_function_keeps_float32_and_has_a_second_derivative() -> None:
    erf = _erf_from(_message(lambda: F.gelu))
    assert erf(Value(np.ones(3, np.float32))).dtype == np.float32
    np.testing.assert_allclose(erf(Value(np.array([0.5, -1.0]))).data, [math.erf(0.5), math.erf(-1.0)], rtol=1e-15)
    assert check_gradients(lambda x: (x * 0.5 * (1 + erf(x / 2 ** 0.5))).sum(), np.linspace(-3, 3, 7), order=2)


def test_elu_and_selu_stay_finite_for_a_large_input() -> None:
    """The formulas take e to the power min(x, 0): x.exp() would be inf at 800, and its gradient NaN."""
    for name in ("elu", "selu"):
        formula = advice_code(_after(_message(lambda name=name: getattr(F, name)), "(a PyTorch name); write "))
        x = Value(np.array([800.0, -800.0]))
        out = eval(formula, _names(x=x))  # noqa: S307
        out.sum().backward()
        assert np.isfinite(out.data).all() and np.isfinite(x.grad).all(), (name, out, x.grad)


#: nn.Name: the activation function it stands for (F's name), where a Layer takes it as its activation
_LAYERS = {"GELU": "gelu", "SiLU": "silu", "Mish": "mish", "ELU": "elu", "SELU": "selu", "Softsign": "softsign",
           "Hardsigmoid": "hardsigmoid", "Hardswish": "hardswish", "Tanhshrink": "tanhshrink",
           "LogSigmoid": "logsigmoid"}


@pytest.mark.parametrize("cls", sorted(_LAYERS))
def test_an_activation_class_says_fs_formula_as_a_layers_activation_that_runs(cls: str) -> None:
    torch = _torch()
    message = _message(lambda: getattr(nn, cls))
    formula = _after(_message(lambda: getattr(F, _LAYERS[cls])), "(a PyTorch name); write ")
    assert message.endswith(f"activation=act), with act = lambda x: {formula}")
    bound = {"erf": _erf_from(message)} if cls == "GELU" else {}
    act = eval("lambda x: " + advice_code(formula), _names(**bound))  # noqa: S307
    layer = nn.Layer(3, 4, activation=act, rng=0)
    x = np.random.default_rng(2).normal(size=(5, 3))
    z = torch.tensor(x @ layer.weights.data + layer.biases.data)
    np.testing.assert_allclose(layer(x).data, getattr(torch.nn, cls)()(z).numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("cls", "function"), [("Softmin", "softmin"), ("Threshold", "threshold"), ("GLU", "glu"),
                                               ("PReLU", "prelu"), ("CosineSimilarity", "cosine_similarity"),
                                               ("PairwiseDistance", "pairwise_distance"), ("RMSNorm", "rms_norm"),
                                               ("Dropout", "dropout"), ("Dropout1d", "dropout1d"),
                                               ("Dropout2d", "dropout2d")])
def test_a_module_written_as_a_formula_says_what_f_says(cls: str, function: str) -> None:
    formula = _after(_message(lambda: getattr(F, function)), "(a PyTorch name); write ")
    assert _message(lambda: getattr(nn, cls)).endswith(formula)


def test_prelus_start_is_pytorchs() -> None:
    torch = _torch()
    start = re.search(r"weight = (Value\(np\.full\(1, 0\.25\)\))", _message(lambda: nn.PReLU))
    assert start, _message(lambda: nn.PReLU)
    weight = eval(start[1], _names(Value=Value))  # noqa: S307
    np.testing.assert_array_equal(weight.data, torch.nn.PReLU().weight.detach().numpy())


# ---- the in-place forms and PyTorch's keywords of the activations ---------------------------------------------------
@pytest.mark.parametrize(("name", "function"), [("relu_", "relu"), ("leaky_relu_", "leaky_relu")])
def test_an_in_place_activation_says_the_function_that_makes_a_new_value(name: str, function: str) -> None:
    torch = _torch()
    statement = _after(_message(lambda: getattr(F, name)), "(a PyTorch name); write ").split(": ", 1)[0]
    names = _names(x=Value(_X.copy()), negative_slope=0.2)
    exec(statement, names)  # noqa: S102
    theirs = getattr(torch.nn.functional, name)(torch.tensor(_X), *([0.2] if function == "leaky_relu" else []))
    np.testing.assert_allclose(names["x"].data, theirs.numpy(), rtol=1e-15)


@pytest.mark.parametrize("call", [lambda x: F.relu(x, inplace=True), lambda x: F.leaky_relu(x, 0.2, inplace=True)],
                         ids=["relu", "leaky_relu"])
def test_inplace_true_says_to_leave_it_out(call: Callable[[Value], Value]) -> None:
    message = _message(lambda: call(Value(_X)))
    assert "there is no argument inplace= (another library's name); leave it out: every function here makes a new " \
           "Value" in message


def test_softplus_beta_says_a_formula_with_pytorchs_numbers() -> None:
    torch = _torch()
    message = _message(lambda: F.softplus(Value(_X), beta=2.0))
    formula = advice_code(_after(message, "there is no argument beta= (another library's name); "))
    _check_formula(formula, "x", _X.copy(), lambda t: torch.nn.functional.softplus(t, beta=2.0), beta=2.0)
    assert "leave it out" in _message(lambda: F.softplus(Value(_X), threshold=20.0))


def test_the_keyword_checks_leave_good_calls_and_other_slips_alone() -> None:
    """Guard: the decorated functions compute as before, and Python's own error stays for other mistakes."""
    x = Value(np.array([-1.0, 2.0]))
    np.testing.assert_array_equal(F.relu(x).data, [0.0, 2.0])
    np.testing.assert_array_equal(F.leaky_relu(x, negative_slope=0.5).data, [-0.5, 2.0])
    np.testing.assert_allclose(F.softplus(x).data, np.log1p(np.exp([-1.0, 2.0])), rtol=1e-15)
    assert F.ACTIVATIONS["relu"] is F.relu and F.relu.__name__ == "relu"
    assert "takes 1 positional argument but 2 were given" in _message(lambda: F.relu(x, 2.0))


# ---- dropout: the formula with PyTorch's own mask gives PyTorch's numbers ------------------------------------------
class _Drawn:
    """A stand-in for the numpy Generator of the advice whose draws keep exactly the numbers ``kept`` marks."""

    def __init__(self, kept: np.ndarray) -> None:
        self.kept = kept

    def random(self, shape: tuple[int, ...]) -> np.ndarray:
        assert tuple(shape) == self.kept.shape, (shape, self.kept.shape)
        return np.where(self.kept, 0.75, 0.25)


@pytest.mark.parametrize(("name", "shape"), [("dropout", (4, 5)), ("dropout1d", (4, 6, 5)),
                                             ("dropout2d", (3, 6, 2, 2))])
def test_dropouts_formula_with_pytorchs_mask_gives_pytorchs_numbers_and_gradients(name: str, shape: tuple) -> None:
    torch = _torch()

    def theirs(t: Any) -> Any:  # (PyTorch's dropout, drawing the same mask at every call)
        state = torch.get_rng_state()
        try:
            torch.manual_seed(0)
            return getattr(torch.nn.functional, name)(t, p=0.3, training=True)
        finally:
            torch.set_rng_state(state)

    x = np.random.default_rng(3).uniform(0.5, 2.0, shape)  # (no zeros: a dropped number is one that is 0)
    kept = theirs(torch.tensor(x)).numpy() != 0
    if name != "dropout":  # (whole channels: one draw per (sample, channel))
        kept = kept.reshape(*shape[:2], -1).any(axis=2).reshape(*shape[:2], *(1,) * (len(shape) - 2))
    assert kept.any() and not kept.all()
    formula = advice_code(_after(_message(lambda: getattr(F, name)), "(a PyTorch name); write "))
    _check_formula(formula, "x", x, theirs, rng=_Drawn(kept), p=0.3)


def test_dropouts_formula_runs_with_a_numpy_generator() -> None:
    formula = advice_code(_after(_message(lambda: F.dropout), "(a PyTorch name); write "))
    x = Value(np.ones(20000))
    out = eval(formula, _names(x=x, rng=np.random.default_rng(0), p=0.25))  # noqa: S307
    assert set(np.unique(out.data)) == {0.0, 1 / 0.75}
    assert abs((out.data == 0).mean() - 0.25) < 0.02


# ---- norms: a batch norm of one's own, as the advice writes it, against PyTorch's ------------------------------------
def _batch_norm_module(message: str) -> type:
    """The Module the BatchNorm advice describes, its pieces taken from the message and run as written."""
    starts = dict(re.findall(r"(weight|bias|running_mean|running_var) = (Value\(np\.\w+\(C\)(?:, requires_grad="
                             r"False)?\))", message))
    training_step = re.search(r"while self\.training, (.*?), with under no_grad\(\): (.*?) \(PyTorch's", message)
    evaluation = re.search(r"and in eval\(\), (.*)$", message)
    assert len(starts) == 4 and training_step and evaluation, message

    class BatchNorm(nn.Module):
        def __init__(self, channels: int) -> None:
            super().__init__()
            for name, code in starts.items():
                setattr(self, name, eval(code, _names(Value=Value, C=channels)))  # noqa: S307

        def forward(self, x: Value) -> Value:
            names = _names(x=x, **{name: getattr(self, name) for name in starts})
            if not self.training:
                return eval(evaluation[1], names)  # noqa: S307
            out = eval(training_step[1], names)  # noqa: S307
            with no_grad():
                exec(training_step[2], names)  # noqa: S102
            return out

    return BatchNorm


@pytest.mark.parametrize(("cls", "shape"), [("BatchNorm1d", (8, 3)), ("BatchNorm2d", (4, 3, 2, 3))])
def test_a_batch_norm_written_as_the_advice_says_matches_pytorchs_in_training_and_evaluation(cls: str,
                                                                                             shape: tuple) -> None:
    torch = _torch()
    mine = _batch_norm_module(_message(lambda: getattr(nn, cls)))(3)
    theirs = getattr(torch.nn, cls)(3, dtype=torch.float64)
    rng = np.random.default_rng(4)
    with no_grad():
        mine.weight[...] = rng.uniform(0.5, 2.0, 3)
        mine.bias[...] = rng.normal(size=3)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(mine.weight.data))
        theirs.bias.copy_(torch.tensor(mine.bias.data))
    for _ in range(3):
        x = rng.normal(2.0, 3.0, shape)
        v, t = Value(x), torch.tensor(x, requires_grad=True)
        out, want = mine(v), theirs(t)
        np.testing.assert_allclose(out.data, want.detach().numpy(), rtol=1e-10, atol=1e-12)
        weights = rng.normal(size=shape)
        mine.zero_grad()
        theirs.zero_grad()
        (out * weights).sum().backward()
        (want * torch.tensor(weights)).sum().backward()
        np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(mine.weight.grad, theirs.weight.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(mine.bias.grad, theirs.bias.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(mine.running_mean.data, theirs.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(mine.running_var.data, theirs.running_var.numpy(), rtol=1e-12)
    assert {"running_mean", "running_var"} <= set(mine.state_dict())  # (the state keeps them …)
    assert all(p is not mine.running_mean and p is not mine.running_var for p in mine.parameters())  # (… no step)
    x = rng.normal(size=shape)
    np.testing.assert_allclose(mine.eval()(Value(x)).data, theirs.eval()(torch.tensor(x)).detach().numpy(),
                               rtol=1e-10, atol=1e-12)


def test_f_batch_norm_gives_pytorchs_numbers_in_training_and_from_the_running_averages() -> None:
    torch = _torch()
    message = _after(_message(lambda: F.batch_norm), "(a PyTorch name); write ")
    x = np.random.default_rng(6).normal(1.0, 2.0, (6, 3))
    weight, bias = np.array([0.5, 1.5, 2.0]), np.array([0.1, -0.2, 0.3])
    mean, var = np.array([0.2, 0.9, 1.1]), np.array([3.0, 0.5, 1.2])
    tw, tb = torch.tensor(weight), torch.tensor(bias)
    _check_formula(advice_code(message), "x", x, lambda t: torch.nn.functional.batch_norm(
        t, None, None, tw, tb, training=True), weight=Value(weight), bias=Value(bias))
    running = _after(message, "PyTorch's default training=False is ")
    _check_formula(running, "x", x, lambda t: torch.nn.functional.batch_norm(
        t, torch.tensor(mean), torch.tensor(var), tw, tb), weight=Value(weight), bias=Value(bias), running_mean=mean,
        running_var=var)


def test_rms_norm_gives_pytorchs_numbers() -> None:
    torch = _torch()
    formula = advice_code(_after(_message(lambda: F.rms_norm), "(a PyTorch name); write "))
    weight = np.array([0.5, 1.0, 1.5, -2.0])
    x = np.random.default_rng(7).normal(size=(3, 4))
    _check_formula(formula, "x", x, lambda t: torch.nn.functional.rms_norm(t, (4,), torch.tensor(weight)),
                   weight=Value(weight))


# ---- normalize, cosine similarity, pairwise distance ---------------------------------------------------------------
_A = np.random.default_rng(8).normal(size=(4, 5))
_B = np.random.default_rng(9).normal(size=(4, 5))


@pytest.mark.parametrize("name", ["normalize", "cosine_similarity", "pairwise_distance"])
def test_the_geometric_functions_give_pytorchs_numbers(name: str) -> None:
    torch = _torch()
    formula = advice_code(_after(_message(lambda: getattr(F, name)), "(a PyTorch name); write "))
    function = getattr(torch.nn.functional, name)
    if name == "normalize":
        _check_formula(formula, "x", _A.copy(), function)
    else:  # (a gradient for each input in turn)
        _check_formula(formula, "a", _A.copy(), lambda t: function(t, torch.tensor(_B)), b=Value(_B))
        _check_formula(formula, "b", _B.copy(), lambda t: function(torch.tensor(_A), t), a=Value(_A))


def test_normalize_of_a_row_of_zeros_is_pytorchs_too() -> None:
    torch = _torch()
    formula = advice_code(_after(_message(lambda: F.normalize), "(a PyTorch name); write "))
    x = np.vstack([_A[:2], np.zeros(5)])
    v, t = Value(x), torch.tensor(x, requires_grad=True)
    out, want = eval(formula, _names(x=v)), torch.nn.functional.normalize(t)  # noqa: S307
    np.testing.assert_allclose(out.data, want.detach().numpy(), rtol=1e-12, atol=1e-15)
    weights = np.random.default_rng(1).normal(size=x.shape)
    (out * weights).sum().backward()
    (want * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=1e-10)


# ---- costs: the formula, by every route, against PyTorch's -------------------------------------------------------
_SCORES = np.random.default_rng(10).normal(size=(6, 4))
_SIGNS = np.where(np.random.default_rng(11).random((6, 4)) < 0.5, -1.0, 1.0)
_LABELS = np.array([0, 3, 1, 1, 2, 0])
_TARGET = np.random.default_rng(12).dirichlet(np.ones(4), 6)
_TARGET[0, 1] = 0.0  # (a probability of 0: its term is 0, as PyTorch's)
_TARGET[0] /= _TARGET[0].sum()
_LOG_P = _SCORES - np.log(np.exp(_SCORES).sum(1, keepdims=True))

#: F.name: PyTorch's cost of a tensor t (the input differentiated), its class, and the names the formula needs
_COSTS: dict[str, tuple[str, str, np.ndarray, Callable[[Any, Any], Any], dict[str, Any]]] = {
    "kl_div": ("KLDivLoss", "input", _LOG_P,
               lambda torch, t: torch.nn.functional.kl_div(t, torch.tensor(_TARGET), reduction="batchmean"),
               {"target": _TARGET}),
    "soft_margin_loss": ("SoftMarginLoss", "x", _SCORES,
                         lambda torch, t: torch.nn.functional.soft_margin_loss(t, torch.tensor(_SIGNS)),
                         {"y": _SIGNS}),
    "margin_ranking_loss": ("MarginRankingLoss", "x1", _SCORES,
                            lambda torch, t: torch.nn.functional.margin_ranking_loss(
                                t, torch.tensor(_SCORES[::-1].copy()), torch.tensor(_SIGNS), margin=0.3),
                            {"x2": Value(_SCORES[::-1].copy()), "y": _SIGNS, "margin": 0.3}),
    "multilabel_soft_margin_loss": ("MultiLabelSoftMarginLoss", "x", _SCORES,
                                    lambda torch, t: torch.nn.functional.multilabel_soft_margin_loss(
                                        t, torch.tensor((_SIGNS > 0) * 1.0)), {"y": (_SIGNS > 0) * 1.0}),
    "multi_margin_loss": ("MultiMarginLoss", "x", _SCORES,
                          lambda torch, t: torch.nn.functional.multi_margin_loss(t, torch.tensor(_LABELS)),
                          {"y": _LABELS}),
}


@pytest.mark.parametrize("name", sorted(_COSTS))
def test_a_costs_formula_gives_pytorchs_numbers_and_gradients(name: str) -> None:
    torch = _torch()
    _, variable, x, theirs, bound = _COSTS[name]
    formula = advice_code(_after(_message(lambda: getattr(F, name)), "(a PyTorch name); write the cost, "))
    _check_formula(formula, variable, x.copy(), lambda t: theirs(torch, t), **bound)


@pytest.mark.filterwarnings("ignore:reduction. .mean. divides:UserWarning")  # (PyTorch's own)
def test_kl_divs_default_mean_is_the_same_sum_over_target_size() -> None:
    torch = _torch()
    message = _message(lambda: F.kl_div)
    assert "its default reduction='mean' divides the same sum by target.size instead" in message
    formula = advice_code(_after(message, "write the cost, ")).replace("/ len(input)", "/ target.size")
    _check_formula(formula, "input", _LOG_P.copy(),
                   lambda t: torch.nn.functional.kl_div(t, torch.tensor(_TARGET)), target=_TARGET)


@pytest.mark.parametrize("name", sorted(_COSTS))
def test_a_cost_says_one_formula_through_f_losses_nn_and_fit(name: str) -> None:
    cls = _COSTS[name][0]
    formula = _after(_message(lambda: getattr(F, name)), "(a PyTorch name); write the cost, ")
    for module, key in ((losses, name), (losses, cls), (nn, cls)):
        assert _after(_message(lambda module=module, key=key: getattr(module, key)),
                      "(a PyTorch name); write the cost, ") == formula
    model = nn.MLP([2, 1], rng=0)
    for cost in (name, cls):
        message = _message(lambda cost=cost: training.fit(model, np.ones((3, 2)), np.ones((3, 1)), cost=cost,
                                                          optimizer=optim.SGD(model, learning_rate=0.1), episodes=1,
                                                          progress=False))
        assert message.endswith(f"for PyTorch's {cost!r}, write the cost, {formula}")


def test_fit_given_pytorchs_cost_object_says_the_formula() -> None:
    torch = _torch()
    model = nn.MLP([2, 1], rng=0)
    message = _message(lambda: training.fit(model, np.ones((3, 2)), np.ones((3, 1)), cost=torch.nn.KLDivLoss(),
                                            optimizer=optim.SGD(model, learning_rate=0.1), episodes=1,
                                            progress=False))
    assert message.endswith(_after(_message(lambda: F.kl_div), "(a PyTorch name); "))


# ---- containers and initialisation --------------------------------------------------------------------------------
def test_unflatten_gives_pytorchs_numbers() -> None:
    torch = _torch()
    formula = advice_code(_message(lambda: nn.Unflatten).split("(a PyTorch name); ", 1)[1].split(" in a forward")[0])
    x = np.arange(24.0).reshape(2, 12)
    out = eval(formula, _names(x=Value(x), sizes=(3, 4)))  # noqa: S307
    np.testing.assert_array_equal(out.data, torch.nn.Unflatten(1, (3, 4))(torch.tensor(x)).numpy())


def test_identity_lazylinear_and_init_say_what_runs_here() -> None:
    assert "leave it out" in _message(lambda: nn.Identity)
    assert "nn.Layer(in_size, out_size, activation='identity')" in _message(lambda: nn.Identity)
    assert "nn.Layer(in_size, out_size, activation='identity') is given its number of inputs" in \
        _message(lambda: nn.LazyLinear)
    message = _message(lambda: nn.init)
    layer = nn.Layer(3, 2, init="he", rng=0)
    np.testing.assert_array_equal(layer.biases.data, 0.0)  # ("starts its biases at 0 for 'he' and 'xavier'")
    np.testing.assert_array_equal(nn.Layer(3, 2, init="xavier", rng=0).biases.data, 0.0)
    statement = _after(message, "numbers of your own go in under no_grad(): ")
    weights = layer.weights
    with no_grad():
        exec(statement, {"layer": layer, "array": np.full((3, 2), 0.5)})  # noqa: S102
    assert layer.weights is weights
    np.testing.assert_array_equal(layer.weights.data, 0.5)


# ---- optimizers: the steps by hand, as the advice writes them, against PyTorch's ---------------------------------
def _regression() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(13)
    return rng.normal(size=(8, 3)), rng.normal(size=(8, 2))


def _pytorch_steps(kind: Callable[..., Any], layer: nn.Layer, steps: int, **settings: float) -> list[np.ndarray]:
    """The weights and biases after ``steps`` of PyTorch's optimizer ``kind`` on the same cost from the same start."""
    torch = _torch()
    x, y = _regression()
    w = torch.tensor(layer.weights.data.copy(), requires_grad=True)
    b = torch.tensor(layer.biases.data.copy(), requires_grad=True)
    opt = kind([w, b], **settings)
    for _ in range(steps):
        opt.zero_grad()
        ((torch.tensor(x) @ w + b - torch.tensor(y)) ** 2).mean().backward()
        opt.step()
    return [w.detach().numpy(), b.detach().numpy()]


def _cost(layer: nn.Layer) -> Value:
    x, y = _regression()
    return ((layer(x) - y) ** 2).mean()


def test_adamw_is_adam_with_the_decay_the_advice_writes() -> None:
    torch = _torch()
    message = _message(lambda: optim.AdamW)
    decay = re.search(r"under no_grad\(\): (for p in model\.parameters\(\): .*?) \(PyTorch's", message)
    assert decay, message
    layer = nn.Layer(3, 2, activation="identity", init="xavier", rng=0)
    want = _pytorch_steps(torch.optim.AdamW, layer, 5, lr=0.05, weight_decay=0.1)
    opt = optim.Adam(layer, learning_rate=0.05)
    for _ in range(5):
        opt.zero_grad()
        _cost(layer).backward()
        with no_grad():
            exec(decay[1], {"model": layer, "lr": 0.05, "weight_decay": 0.1})  # noqa: S102
        opt.step()
    np.testing.assert_allclose(layer.weights.data, want[0], rtol=1e-12)
    np.testing.assert_allclose(layer.biases.data, want[1], rtol=1e-12)


@pytest.mark.parametrize(("name", "settings"), [("RMSprop", {"lr": 0.01, "alpha": 0.99, "eps": 1e-8}),
                                                ("Adagrad", {"lr": 0.1, "eps": 1e-10})])
def test_a_step_by_hand_as_the_advice_writes_it_is_pytorchs(name: str, settings: dict[str, float]) -> None:
    torch = _torch()
    message = _message(lambda: getattr(optim, name))
    written = re.search(r"with (\w+ = .*?) made once, under no_grad\(\): (for p, s in .*?) \(PyTorch's", message)
    assert written, message
    layer = nn.Layer(3, 2, activation="identity", init="xavier", rng=0)
    want = _pytorch_steps(getattr(torch.optim, name), layer, 5, **settings)
    names = _names(model=layer, **settings)
    exec(written[1], names)  # noqa: S102
    for _ in range(5):
        layer.zero_grad()
        _cost(layer).backward()
        with no_grad():
            exec(written[2], names)  # noqa: S102
    np.testing.assert_allclose(layer.weights.data, want[0], rtol=1e-12)
    np.testing.assert_allclose(layer.biases.data, want[1], rtol=1e-12)


def test_rmsprop_and_adam_without_momentum_differ_only_by_the_bias_correction() -> None:
    """What RMSprop's advice says of optim.Adam(betas=(0.0, alpha)): its step is RMSprop's with the average of g²
    divided by 1 − αᵏ."""
    assert "optim.Adam(model, learning_rate=lr, betas=(0.0, alpha)) differs from it only by Adam's bias " \
           "correction" in _message(lambda: optim.RMSprop)
    layer = nn.Layer(3, 2, activation="identity", init="xavier", rng=0)
    start, squares = layer.weights.data.copy(), np.zeros((3, 2))
    opt = optim.Adam(layer, learning_rate=0.01, betas=(0.0, 0.9))
    for k in (1, 2, 3):
        opt.zero_grad()
        _cost(layer).backward()
        g = layer.weights.grad.copy()
        squares = 0.9 * squares + 0.1 * g ** 2
        start = start - 0.01 * g / (np.sqrt(squares / (1 - 0.9 ** k)) + 1e-8)
        opt.step()
        np.testing.assert_allclose(layer.weights.data, start, rtol=1e-12)


def test_the_optimizers_without_a_formula_name_the_nearest_here() -> None:
    for name in ("Adamax", "NAdam", "RAdam", "Adadelta", "ASGD", "Rprop", "SparseAdam"):
        assert f"there is no {name} here; optim.Adam(model, learning_rate=lr) (plain Adam) or optim.SGD(" in \
            _message(lambda name=name: getattr(optim, name))
    message = _message(lambda: optim.LBFGS)
    assert "optim.Newton(model)" in message and "optim.Armijo(model)" in message
    assert "whose closure returns the cost without calling backward()" in message
    layer = nn.Layer(3, 2, activation="identity", rng=0)  # (both take such a closure, as the advice says)
    for kind in (optim.Newton, optim.Armijo):
        before = _cost(layer).item()
        kind(layer).step(lambda: _cost(layer))
        assert _cost(layer).item() < before


# ---- a property: the activations' formulas agree with PyTorch's everywhere ------------------------------------------
@given(st.lists(st.floats(-30, 30, allow_nan=False), min_size=1, max_size=4).map(lambda xs: np.array([xs, xs[::-1]])))
def test_every_activations_formula_gives_pytorchs_numbers_at_any_input(x: np.ndarray) -> None:
    """On rows of 2·k numbers (k of them, then the same reversed: any input, and ties), 0 and the kinks included."""
    torch = _torch()
    x = np.hstack([x, -x])
    for name, (theirs, bound) in _ACTIVATIONS.items():
        message = _message(lambda name=name: getattr(F, name))
        formula = advice_code(_after(message, "(a PyTorch name); write "))
        if name == "gelu":
            bound = {"erf": _erf_from(message)}
        elif name == "prelu":  # (one slope for every column)
            bound = {"weight": Value(np.array([0.25]))}
        out = eval(formula, _names(x=Value(x), **bound))  # noqa: S307
        t = torch.tensor(x)
        want = torch.nn.functional.prelu(t, torch.tensor([0.25], dtype=t.dtype)) if name == "prelu" else \
            theirs(torch, t)
        np.testing.assert_allclose(out.data, want.numpy(), rtol=1e-12, atol=1e-14, err_msg=name)
