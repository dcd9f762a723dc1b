"""A PyTorch user calls torch.Tensor's methods on a Value out of habit: the method forms of the operators (v.add,
v.mul, v.div), comparisons (v.eq, v.gt, v.isnan), the in-place forms (v.add_, v.zero_, v.fill_, v.copy_, v.clamp_,
v.relu_), activations as methods (v.gelu, v.silu), trigonometry (v.sin, v.cos, v.atan, v.erf), the reshapes PyTorch
has (v.repeat, v.repeat_interleave, v.unbind, v.movedim), v.where, v.inverse, v.type_as, v.new_zeros, v.device.
Each was Python's bare "'Value' object has no attribute"; each now says what to write here.  The advice is
followed as written, on Values: the numbers against PyTorch's (float64), the gradients against PyTorch's and against
central differences in float64; the in-place advice changes a leaf in place under no_grad() as PyTorch's method
does, and makes a new Value elsewhere.  An activation method says what F.name says; v.sin says what np.sin(v) says
(np.sin(v) said only "compute with Value methods", and now gives the Op to write too).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from helpers_advice import PYTORCH_ACTIVATION_CALLS, check_formula, one_thread_torch

import tinygrad_edu.functional as F
from tinygrad_edu import Op, Value, no_grad
from tinygrad_edu.testing import check_gradients

#: torch.Tensor's methods (and, as v.gelu, torch.nn.functional's activations) that say what to write now
_OPERATORS = ["add", "sub", "mul", "div", "reciprocal", "rsqrt", "maximum", "minimum", "addmm", "outer", "mv"]
_COMPARISONS = ["eq", "ne", "gt", "lt", "ge", "le", "equal", "isnan", "isinf", "isfinite", "allclose"]
_IN_PLACE = ["add_", "sub_", "mul_", "div_", "zero_", "fill_", "copy_", "normal_", "uniform_", "clamp_", "relu_",
             "sigmoid_", "tanh_", "exp_", "abs_", "neg_"]
_ACTIVATIONS = ["gelu", "silu", "mish", "elu", "selu", "softsign", "hardsigmoid", "hardswish", "tanhshrink", "glu",
                "softmin", "threshold", "prelu"]
_MATH = ["sin", "cos", "tan", "atan", "erf"]
_SHAPES = ["repeat", "tile", "repeat_interleave", "view_as", "reshape_as", "unbind", "movedim", "unflatten"]
_OTHERS = ["diff", "median", "argsort", "inverse", "det", "type_as", "type", "half", "int", "long", "device",
           "new_zeros", "new_ones", "new_full", "where", "masked_select"]
_ALL = _OPERATORS + _COMPARISONS + _IN_PLACE + _ACTIVATIONS + _MATH + _SHAPES + _OTHERS


def _torch() -> Any:
    return one_thread_torch()  # (without PyTorch: skipped at its first use, after the checks that need none)


def _advice(name: str, v: Value | None = None) -> str:
    """What reading ``v.name`` says to write."""
    with pytest.raises(AttributeError) as caught:
        getattr(Value(np.ones(3)) if v is None else v, name)
    message = str(caught.value)
    marker = f"'Value' object has no attribute {name!r}; write "
    assert message.startswith(marker), message
    return message.removeprefix(marker)


def _code(text: str) -> str:
    """The formula a piece of advice begins with: up to the first ", ", "; ", ": ", " for " or bracketed prose
    outside brackets."""
    depth = 0
    for i, char in enumerate(text):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(char, 0)
        if depth == 0 and (text[i:i + 2] in (", ", "; ", ": ") or re.match(r" for | \((?=[A-Za-z']{2,}[ ,:)])",
                                                                          text[i:])):
            return text[:i]
    return text


def _names(**bound: Any) -> dict[str, Any]:
    return {"np": np, "F": F, "functional": F, "math": math, "Op": Op, "abs": abs, "no_grad": no_grad, **bound}


def _check(formula: str, x: np.ndarray, theirs: Callable[[Any], Any], *, grad_rtol: float = 1e-10,
           **bound: Any) -> None:
    """``formula`` run on a Value v = x: PyTorch's numbers (``theirs`` of a float64 tensor), and the gradient of a
    weighted sum of its outputs against PyTorch's and against central differences of the formula in float64."""
    check_formula(formula, "v", x, theirs, _names(**bound), seed=3, grad_rtol=grad_rtol)


# ---- every name says what to write -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", _ALL)
def test_a_tensor_method_says_what_to_write(name: str) -> None:
    assert len(_advice(name)) >= 5  # (the shortest: 1 / v)


def test_the_names_are_pytorchs_own() -> None:
    """Guard: every name is a method or attribute of torch.Tensor, or (the activations) of torch.nn.functional."""
    torch = _torch()
    assert not set(_ALL) - set(_ACTIVATIONS) - set(dir(torch.Tensor))
    assert not set(_ACTIVATIONS) - set(dir(torch.nn.functional))


def test_they_stay_out_of_dir_and_a_typo_keeps_the_bare_error() -> None:
    v = Value(np.ones(3))
    assert set(_ALL).isdisjoint(dir(v))
    with pytest.raises(AttributeError) as caught:
        v.add__  # noqa: B018
    assert str(caught.value) == "'Value' object has no attribute 'add__'"


def test_a_users_own_value_subclass_may_define_them() -> None:
    """Guard: a subclass of the user's own that has a method of one of these names keeps it."""
    class Mine(Value):
        def add(self, other: Any) -> Value:
            return self + other

    assert Mine(np.ones(2)).add(1.0).data.tolist() == [2.0, 2.0]


# ---- the operators' method forms ---------------------------------------------------------------------------------
_X = np.linspace(-2.3, 2.9, 12).reshape(3, 4)
_O = np.linspace(0.7, 1.9, 12).reshape(3, 4)[::-1].copy()


@pytest.mark.parametrize(("name", "theirs"), [
    ("add", lambda t, o: t.add(o)), ("sub", lambda t, o: t.sub(o)), ("mul", lambda t, o: t.mul(o)),
    ("div", lambda t, o: t.div(o)), ("maximum", lambda t, o: t.maximum(o)), ("minimum", lambda t, o: t.minimum(o)),
])
def test_an_operators_method_form_gives_pytorchs_numbers_and_gradients(name: str, theirs: Any) -> None:
    torch = _torch()
    _check(_code(_advice(name)), _X.copy(), lambda t: theirs(t, torch.tensor(_O)), other=_O)


@pytest.mark.parametrize("name", ["add", "sub"])
def test_alpha_is_said_too(name: str) -> None:
    torch = _torch()
    formula = re.search(r"alpha=a: (.*?)\)", _advice(name))
    assert formula, _advice(name)
    _check(formula[1], _X.copy(), lambda t: getattr(t, name)(torch.tensor(_O), alpha=0.3), other=_O, a=0.3)


@pytest.mark.parametrize(("name", "theirs"), [("reciprocal", lambda t: t.reciprocal()),
                                              ("rsqrt", lambda t: t.rsqrt())])
def test_reciprocal_and_rsqrt(name: str, theirs: Any) -> None:
    _check(_code(_advice(name)), _O.copy(), theirs)


def test_addmm_outer_and_mv() -> None:
    torch = _torch()
    mat1, mat2 = _X[:, :3], _O[:3]
    _check(_code(_advice("addmm")), _O.copy(), lambda t: t.addmm(torch.tensor(mat1), torch.tensor(mat2)),
           mat1=mat1, mat2=mat2)
    formula = re.search(r"beta and alpha: (.*?)\)$", _advice("addmm"))
    assert formula, _advice("addmm")
    _check(formula[1], _O.copy(), lambda t: t.addmm(torch.tensor(mat1), torch.tensor(mat2), beta=0.5, alpha=2.0),
           mat1=mat1, mat2=mat2, beta=0.5, alpha=2.0)
    other = np.array([1.0, -2.0, 0.5])
    _check(_code(_advice("outer")), _X[0].copy(), lambda t: t.outer(torch.tensor(other)), other=other)
    _check(_code(_advice("mv")), _X.copy(), lambda t: t.mv(torch.tensor(_O[0])), vector=_O[0])


# ---- comparisons: boolean arrays, as PyTorch's boolean tensors ------------------------------------------------------
@pytest.mark.parametrize("name", ["eq", "ne", "gt", "lt", "ge", "le"])
def test_a_comparisons_method_form_gives_pytorchs_booleans(name: str) -> None:
    torch = _torch()
    x = np.array([1.0, 2.0, 3.0, -1.0])
    other = np.array([1.0, 3.0, 2.0, -1.0])
    got = eval(_code(_advice(name)), _names(v=Value(x), other=other))  # noqa: S307
    assert isinstance(got, np.ndarray) and got.dtype == bool
    np.testing.assert_array_equal(got, getattr(torch.tensor(x), name)(torch.tensor(other)).numpy())


@pytest.mark.parametrize("name", ["isnan", "isinf", "isfinite"])
def test_isnan_isinf_isfinite(name: str) -> None:
    torch = _torch()
    x = np.array([1.0, np.nan, np.inf, -np.inf])
    got = eval(_code(_advice(name)), _names(v=Value(x)))  # noqa: S307
    np.testing.assert_array_equal(got, getattr(torch.tensor(x), name)().numpy())


@pytest.mark.parametrize("name", ["equal", "allclose"])
def test_equal_and_allclose(name: str) -> None:
    torch = _torch()
    x = np.array([1.0, 2.0])
    for other in (np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-12]), np.array([1.0, 2.5])):
        got = eval(_code(_advice(name)), _names(v=Value(x), other=Value(other)))  # noqa: S307
        assert bool(got) is getattr(torch.tensor(x), name)(torch.tensor(other))


# ---- the in-place forms: a leaf changed in place under no_grad(), as PyTorch's; a new Value elsewhere ---------------
@pytest.mark.parametrize("name", ["add_", "sub_", "mul_", "div_"])
def test_in_place_arithmetic_changes_a_leaf_under_no_grad_as_pytorchs(name: str) -> None:
    torch = _torch()
    text = _advice(name)
    statement = _code(text)
    assert "with no_grad()" in text
    w = Value(_X.copy())
    leaf = w
    namespace = _names(v=w, other=_O)
    exec(f"with no_grad():\n    {statement}", namespace)  # noqa: S102 (the advice is code)
    t = torch.tensor(_X)
    with torch.no_grad():
        getattr(t, name)(torch.tensor(_O))
    assert namespace["v"] is leaf  # the leaf itself changed, as PyTorch's parameter does
    np.testing.assert_allclose(leaf.data, t.numpy(), rtol=1e-15)
    # elsewhere: a new Value, whose gradient is the operation's
    x = Value(_X.copy())
    namespace = _names(v=x * 1.0, other=_O)
    exec(statement, namespace)  # noqa: S102
    out = namespace["v"]
    out.sum().backward()
    expected = {"add_": 1.0, "sub_": 1.0, "mul_": _O, "div_": 1 / _O}[name]
    np.testing.assert_allclose(x.grad, np.broadcast_to(expected, _X.shape), rtol=1e-14)


def test_add_and_sub_with_alpha_in_place() -> None:
    torch = _torch()
    for name in ("add_", "sub_"):
        statement = re.search(r"alpha=a: (.*?)\)", _advice(name))
        assert statement, _advice(name)
        namespace = _names(v=Value(_X.copy()), other=_O, a=0.3)
        exec(f"with no_grad():\n    {statement[1]}", namespace)  # noqa: S102
        t = torch.tensor(_X)
        getattr(t, name)(torch.tensor(_O), alpha=0.3)
        np.testing.assert_allclose(namespace["v"].data, t.numpy(), rtol=1e-15)


@pytest.mark.parametrize(("name", "bound", "theirs"), [
    ("zero_", {}, lambda t: t.zero_()),
    ("fill_", {"value": 0.25}, lambda t: t.fill_(0.25)),
    ("copy_", {"numbers": _O}, lambda t: t.copy_(__import__("torch").tensor(_O))),
    ("clamp_", {"low": -1.0, "high": 1.5}, lambda t: t.clamp_(-1.0, 1.5)),
])
def test_setting_a_leafs_numbers_under_no_grad_as_pytorchs(name: str, bound: dict, theirs: Any) -> None:
    torch = _torch()
    text = _advice(name)
    statement = re.search(r"with no_grad\(\): (v\[\.\.\.\] = .*?), which changes", text)
    assert statement, text
    w = Value(_X.copy())
    namespace = _names(v=w, **bound)
    exec(f"with no_grad():\n    {statement[1]}", namespace)  # noqa: S102
    t = torch.tensor(_X)
    with torch.no_grad():
        theirs(t)
    assert namespace["v"] is w
    np.testing.assert_allclose(w.data, t.numpy(), rtol=1e-15)


def test_normal_and_uniform_fill_a_leaf_with_draws_of_its_shape() -> None:
    for name, bound, low, high in (("normal_", {"mean": 0.0, "std": 0.01}, -0.1, 0.1),
                                   ("uniform_", {"low": -0.5, "high": 0.5}, -0.5, 0.5)):
        text = _advice(name)
        statement = re.search(r"with no_grad\(\): (v\[\.\.\.\] = rng\.\w+\([^)]*\))", text)
        assert statement and "rng = np.random.default_rng(seed)" in text, text
        w = Value(np.full((30, 40), 7.0))
        namespace = _names(v=w, rng=np.random.default_rng(0), **bound)
        exec(f"with no_grad():\n    {statement[1]}", namespace)  # noqa: S102
        assert namespace["v"] is w and w.shape == (30, 40)
        assert low <= w.data.min() and w.data.max() <= high and len(np.unique(w.data)) == w.size
        assert abs(w.data.mean()) < 0.05


def test_clamp_in_place_outside_no_grad_gives_pytorchs_clamp() -> None:
    formula = re.search(r"^v = (.*?), a new Value", _advice("clamp_"))
    assert formula, _advice("clamp_")
    _check(formula[1], _X.copy(), lambda t: t.clamp(-1.0, 1.5), low=-1.0, high=1.5)


@pytest.mark.parametrize(("name", "theirs"), [
    ("relu_", lambda t: t.relu()), ("sigmoid_", lambda t: t.sigmoid()), ("tanh_", lambda t: t.tanh()),
    ("exp_", lambda t: t.exp()), ("abs_", lambda t: t.abs()), ("neg_", lambda t: t.neg()),
])
def test_an_in_place_function_is_a_new_value(name: str, theirs: Any) -> None:
    text = _advice(name)
    assert "a new Value" in text, text
    formula = re.match(r"v = (.*?): ", text)
    assert formula, text
    _check(formula[1], _X.copy(), theirs)


def test_relu_in_place_says_what_f_relu_in_place_says() -> None:
    with pytest.raises(AttributeError) as caught:
        F.relu_  # noqa: B018
    said = str(caught.value).split("(a PyTorch name); write ", 1)[1]
    assert _advice("relu_").split(": ", 1)[1] == said.split(": ", 1)[1]


# ---- activations as methods: F.name's formula, on v ------------------------------------------------------------
_Z = np.linspace(-4.37, 4.41, 30).reshape(5, 6)
_ACTIVATION_CALLS = PYTORCH_ACTIVATION_CALLS


def _erf_from(text: str) -> Any:
    code = re.search(r"with erf = (Op\(.*?\)), an Op of your own", text)
    assert code, text
    return eval(code[1], _names())  # noqa: S307


@pytest.mark.parametrize("name", _ACTIVATIONS)
def test_an_activation_method_gives_pytorchs_numbers_and_gradients(name: str) -> None:
    torch = _torch()
    text = _advice(name)
    theirs, bound = _ACTIVATION_CALLS[name]
    if name == "gelu":
        bound = {"erf": _erf_from(text)}
    rtol = 1e-7 if name in ("hardsigmoid", "hardswish") else 1e-10  # (PyTorch's 1/6 is float32's, in float64 too)
    _check(_code(text), _Z.copy(), lambda t: theirs(torch, t), grad_rtol=rtol, **bound)


@pytest.mark.parametrize("name", _ACTIVATIONS)
def test_an_activation_method_says_what_f_name_says(name: str) -> None:
    """The same advice, written on v and with functional. where F's is written on x and with F."""
    with pytest.raises(AttributeError) as caught:
        getattr(F, name)
    said = str(caught.value).split("(a PyTorch name); write ", 1)[1]
    on_v = re.sub(r"\bF\.", "functional.", re.sub(r"\bx\b", "v", said.replace("an x ", "a v ")))
    assert _advice(name) == on_v


# ---- trigonometry and erf: Ops of one's own, as np.sin(v) says now too ----------------------------------------------
def _op(text: str, name: str) -> str:
    """The code of the Op the advice says to make, ``name = Op(...)`` (up to its closing bracket)."""
    start = text.find(f"{name} = Op(")
    assert start >= 0, (name, text)
    start += len(f"{name} = ")
    depth = 0
    for end, char in enumerate(text[start:], start):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == ")" and depth == 0:
            return text[start:end + 1]
    raise AssertionError(text)


def _made(text: str, names: tuple[str, ...]) -> dict[str, Any]:
    """The Ops the advice says to make (``sin = Op(...) and cos = Op(...)``), made as it says."""
    namespace = _names()
    for name in names:
        namespace[name] = eval(_op(text, name), namespace)  # noqa: S307 (each refers to the others by name)
    return namespace


@pytest.mark.parametrize(("name", "ops", "theirs"), [
    ("sin", ("sin", "cos"), lambda t: t.sin()), ("cos", ("sin", "cos"), lambda t: t.cos()),
    ("tan", ("tan",), lambda t: t.tan()), ("atan", ("atan",), lambda t: t.atan()), ("erf", (), lambda t: t.erf()),
])
def test_a_math_method_gives_pytorchs_numbers_gradients_and_second_derivatives(name: str, ops: tuple,
                                                                                theirs: Any) -> None:
    text = _advice(name)
    namespace = _made(text, ops) if ops else _names(erf=_erf_from(text))
    x = np.linspace(-1.4, 1.45, 12).reshape(3, 4)
    formula = _code(text)
    _check(formula, x.copy(), theirs, **{key: namespace[key] for key in (*ops, "erf") if key in namespace})
    assert check_gradients(lambda v: eval(formula, {**namespace, "v": v}), x, order=2)  # noqa: S307


@pytest.mark.parametrize(("ufunc", "method"), [(np.sin, "sin"), (np.cos, "cos"), (np.tan, "tan"),
                                               (np.arctan, "atan")])
def test_numpys_function_on_a_value_says_what_the_method_says(ufunc: Any, method: str) -> None:
    with pytest.raises(TypeError) as caught:
        ufunc(Value(np.ones(3)))
    message = str(caught.value)
    assert message.startswith(f"np.{ufunc.__name__}: not supported on Values"), message
    assert message.endswith("; write " + _advice(method)), message


def test_the_trigonometric_ops_keep_float32() -> None:
    namespace = _made(_advice("sin"), ("sin", "cos"))
    v = Value(np.linspace(-1, 1, 4).astype(np.float32))
    out = namespace["sin"](v) * namespace["cos"](v)
    out.sum().backward()
    assert out.dtype == np.float32 and v.grad.dtype == np.float32


# ---- reshapes PyTorch has ------------------------------------------------------------------------------------------
def test_repeat_and_tile() -> None:
    for name in ("repeat", "tile"):
        text = _advice(name)
        _check(_code(text), _X[0].copy(), lambda t: t.repeat(3), n=3)
        for pytorchs, ours in (("1, n", r"functional\.concatenate\(\[v\] \* n, axis=1\)"),
                               ("n, 1", r"functional\.concatenate\(\[v\] \* n\)")):
            found = re.search(rf"({ours}) for repeat\({pytorchs}\)", text)
            assert found, (pytorchs, text)
            counts = (1, 3) if pytorchs == "1, n" else (3, 1)
            _check(found[1], _X.copy(), lambda t, counts=counts: t.repeat(*counts), n=3)


def test_repeat_interleave() -> None:
    text = _advice("repeat_interleave")
    _check(_code(text), _X[0].copy(), lambda t: t.repeat_interleave(2), n=2)
    along = re.search(r"along axis 1 of a matrix: (.*)\); the gradient", text)
    assert along, text
    _check(along[1], _X.copy(), lambda t: t.repeat_interleave(2, dim=1), n=2)


def test_view_as_reshape_as_movedim_unflatten() -> None:
    torch = _torch()
    other = np.zeros((4, 3))
    for name in ("view_as", "reshape_as"):
        _check(_code(_advice(name)), _X.copy(), lambda t: t.reshape(4, 3), other=other)
    x3 = np.arange(24.0).reshape(2, 3, 4) / 7
    _check(_code(_advice("movedim")), x3.copy(), lambda t: t.movedim(0, 2), source=0, destination=2)
    _check(_code(_advice("unflatten")), x3.copy(), lambda t: t.unflatten(2, (2, 2)), axis=2, sizes=(2, 2))
    assert torch  # (imported for the guard above)


def test_unbind() -> None:
    torch = _torch()
    text = _advice("unbind")
    x = Value(_X.copy())
    rows = eval(_code(text), _names(v=x))  # noqa: S307
    theirs = torch.tensor(_X).unbind()
    assert len(rows) == len(theirs)
    for ours, want in zip(rows, theirs, strict=True):
        np.testing.assert_array_equal(ours.data, want.numpy())
    (rows[0] * 2 + rows[2]).sum().backward()
    np.testing.assert_array_equal(x.grad, [[2.0] * 4, [0.0] * 4, [1.0] * 4])
    columns = re.search(r"along axis 1: (.*?)\)$", text)
    assert columns, text
    got = eval(columns[1], _names(v=Value(_X.copy())))  # noqa: S307
    for ours, want in zip(got, torch.tensor(_X).unbind(1), strict=True):
        np.testing.assert_array_equal(ours.data, want.numpy())


# ---- the rest --------------------------------------------------------------------------------------------------
def test_diff_median_argsort() -> None:
    torch = _torch()
    _check(_code(_advice("diff")), _X.copy(), lambda t: t.diff())
    x = np.array([0.3, -1.2, 2.5, 0.9, -0.4, 1.7])  # an even length: PyTorch's median is the lower middle number
    _check(_code(_advice("median")), x.copy(), lambda t: t.median())
    _check(_code(_advice("median")), x[:5].copy(), lambda t: t.median())
    order = eval(_code(_advice("argsort")), _names(v=Value(x)))  # noqa: S307
    np.testing.assert_array_equal(order, torch.tensor(x).argsort().numpy())


def test_inverse_and_det() -> None:
    torch = _torch()
    a = np.array([[2.0, 0.5, -0.3], [0.1, 1.5, 0.4], [-0.2, 0.3, 1.2]])
    for name, theirs in (("inverse", lambda t: t.inverse()), ("det", lambda t: t.det())):
        text = _advice(name)
        namespace = _made(text, ("inv", "det") if name == "det" else ("inv",))
        _check(_code(text), a.copy(), theirs, **{k: namespace[k] for k in ("inv", "det") if k in namespace})
        assert torch


def test_where_and_masked_select() -> None:
    torch = _torch()
    condition = _X > 0.5
    _check(_code(_advice("where")), _X.copy(), lambda t: t.where(torch.tensor(condition), torch.tensor(_O)),
           condition=condition, other=_O)
    _check(_code(_advice("masked_select")), _X.copy(), lambda t: t.masked_select(torch.tensor(condition)),
           mask=condition)


def test_types_and_new_tensors() -> None:
    torch = _torch()
    v = Value(np.array([1.7, -2.2], dtype=np.float32))
    other = Value(np.zeros(2))
    converted = eval(_code(_advice("type_as")), _names(v=v, other=other))  # noqa: S307
    assert isinstance(converted, Value) and converted.dtype == np.float64
    for name in ("type", "half"):
        got = eval(_code(_advice(name)), _names(v=Value(np.ones(2))))  # noqa: S307
        assert isinstance(got, Value) and got.dtype == np.float32
    for name in ("int", "long"):
        got = eval(_code(_advice(name)), _names(v=v))  # noqa: S307
        np.testing.assert_array_equal(got, torch.tensor(v.data).long().numpy())
    assert _advice("device").startswith("nothing: there are no devices here")
    for name, bound, theirs in (("new_zeros", {"shape": (2, 3)}, lambda t: t.new_zeros((2, 3))),
                                ("new_ones", {"shape": (2, 3)}, lambda t: t.new_ones((2, 3))),
                                ("new_full", {"shape": (2, 3), "value": 0.5}, lambda t: t.new_full((2, 3), 0.5))):
        got = eval(_code(_advice(name)), _names(v=v, **bound))  # noqa: S307
        want = theirs(torch.tensor(v.data))
        assert got.dtype == v.dtype and got.shape == tuple(want.shape)
        np.testing.assert_array_equal(got, want.numpy())


def test_zero_grad_of_a_gradient_is_said_in_zero_() -> None:
    """PyTorch's w.grad.zero_(): here .grad is a numpy array, so the advice for zero_ names zero_grad."""
    text = _advice("zero_")
    assert "zero_grad()" in text
    w = Value(np.ones(2))
    (w * 3).sum().backward()
    eval(re.search(r"v\.zero_grad\(\)", text)[0], _names(v=w))  # noqa: S307
    assert w.grad is None or not np.any(w.grad)
