"""Derivatives of derivatives, fourth pass, as an engineer coming from JAX and ``torch.func`` uses them: the names
that user types first (``tinygrad_edu.grad`` as ``jax.grad``, ``autodiff.vhp``, ``autodiff.stop_gradient``,
``gradients(y, x)`` as ``torch.autograd.grad(y, x)``), a custom vjp written with ``.data``, and, as guards, the
numbers: Hessian-vector products and their derivatives in x and in v against closed forms, the third derivative of
a network's output in its input against central differences, a function that calls ``backward`` inside a transform,
``detach`` and ``no_grad`` inside a differentiated function, nested ``grad`` to the sixth order against mpmath, and
graphs that do not grow across repeated calls.

Defects (xfail, strict):

- ``tinygrad_edu.grad`` (``jax.grad``, ``jax.hessian``, ``jax.vmap`` are top-level names in JAX) was a bare
  AttributeError that did not say the transforms are in ``tinygrad_edu.autodiff``.
- ``autodiff.vhp`` (``torch.autograd.functional.vhp``) and ``autodiff.stop_gradient`` (``jax.lax.stop_gradient``)
  were bare AttributeErrors, where ``jacrev``, ``vjp``, ``jvp`` … say what to write.
- A custom vjp that reads ``x.data`` failed at first order with numpy's "'memoryview' and 'int'", which says nothing
  of why (an array's ``.data`` is its buffer) nor what to write.
- ``gradients(y, x)`` with one Value, as ``torch.autograd.grad(y, x)`` takes it, said "got Value" without saying to
  give ``[x]``.
"""

from __future__ import annotations

import gc
import importlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu
import tinygrad_edu.functional as F
from tinygrad_edu import Op, Value, apply, autodiff, nn, no_grad
from tinygrad_edu.autodiff import grad, gradient_and_hessian, gradients, hessian, hvp, jacobian

mp = pytest.importorskip("mpmath")


def _central(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """∂f/∂x by central differences in float64, one element at a time (f returns an array of any shape)."""
    x = np.asarray(x, dtype=np.float64)
    columns = []
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = h
        columns.append((np.asarray(f(x + step), np.float64) - np.asarray(f(x - step), np.float64)) / (2 * h))
    return np.moveaxis(np.array(columns), 0, -1).reshape(np.shape(columns[0]) + x.shape)


def _live_values() -> int:
    gc.collect()
    # type(o), not isinstance: isinstance reads o.__class__, which warns on torch's deprecated module attributes
    return sum(issubclass(type(o), Value) for o in gc.get_objects())


# --- defects ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["grad", "value_and_grad", "jacobian", "hessian", "hvp", "gradients"])
def test_a_transform_looked_for_on_the_package_as_in_jax_says_where_it_is(name: str) -> None:
    with pytest.raises(AttributeError, match=rf"has no attribute '{name}'.*from tinygrad_edu\.autodiff import "
                                             rf"{name}$") as error:
        getattr(tinygrad_edu, name)
    # the import it gives is the transform
    namespace: dict = {}
    exec(str(error.value).rsplit(": ", 1)[1], namespace)
    assert namespace[name] is getattr(autodiff, name)
    assert not hasattr(tinygrad_edu, name) and name not in dir(tinygrad_edu)


@pytest.mark.parametrize(("name", "words"), [("jacrev", r"jacobian\(f, argnums\)"), ("jacfwd", "jacobian"),
                                             ("vmap", "give f a batch"), ("jvp", "jacobian"),
                                             ("vjp", r"gradients\(f\(x\), \[x\], grad_output=v\)")])
def test_a_jax_name_with_no_transform_of_its_own_on_the_package_says_what_to_write(name: str, words: str) -> None:
    with pytest.raises(AttributeError, match=rf"has no attribute '{name}'.*tinygrad_edu\.autodiff.*{words}"):
        getattr(tinygrad_edu, name)


@pytest.mark.parametrize(("name", "words"), [("vhp", r"hvp\(f, x, v\)"), ("stop_gradient", r"x\.detach\(\)")])
def test_vhp_and_stop_gradient_say_what_to_write_here(name: str, words: str) -> None:
    with pytest.raises(AttributeError, match=rf"has no attribute '{name}' \(a torch\.func / JAX name\); .*{words}"):
        getattr(autodiff, name)


def test_a_vjp_that_reads_data_is_told_what_data_is_and_what_to_write() -> None:
    cube = Op("cube", lambda a: a ** 3, lambda g, out, a: g * 3 * a.data ** 2)
    with pytest.raises(TypeError, match=r"^cube: its vjp raised TypeError: .*memoryview.*; .*\.data is a memoryview.*"
                                        r"3 \* x \*\* 2, not 3 \* x\.data \*\* 2"):
        grad(lambda x: apply(cube, x))(2.0)
    # what it says to write works at any order: (x³)″ = 6x
    cube = Op("cube", lambda a: a ** 3, lambda g, out, a: g * 3 * a ** 2)
    assert float(grad(grad(lambda x: apply(cube, x)))(2.0).data) == 12.0


@pytest.mark.parametrize("function", [gradients, gradient_and_hessian])
def test_one_value_as_the_inputs_is_told_to_be_given_in_a_list(function) -> None:
    x = Value(2.0)
    with pytest.raises(TypeError, match=rf"^{function.__name__}: inputs must be a list of Values, got a Value: "
                                        r"give \[x\]"):
        function(x ** 3, x)


# --- guards -------------------------------------------------------------------------------------------------------

def test_the_advice_for_vhp_and_stop_gradient_computes_what_they_compute() -> None:
    """vhp(f, x, v) is vᵀH, which hvp gives (H is symmetric); stop_gradient(x) is x with no derivative: detach."""
    a = np.array([1.0, -2.0, 0.5])
    f = lambda p: (p @ a) ** 3 + (p ** 2).sum() * p[0]  # noqa: E731
    x, v = np.array([0.3, 0.1, -0.4]), np.array([1.0, 2.0, -1.0])
    np.testing.assert_allclose(hvp(f, x, v).data, v @ hessian(f)(x).data, rtol=1e-13)
    # d/dp (stop_gradient(p) · p) = p, as in JAX
    np.testing.assert_array_equal(grad(lambda p: (p.detach() * p).sum())(x).data, x)


def test_hvp_its_derivative_in_x_and_in_v_match_the_closed_forms() -> None:
    """f(p) = (a·p)³: H = 6(a·p) aaᵀ, so H·v = 6(a·p)(a·v) a; its derivative in x along u is 6(a·u)(a·v) a and its
    derivative in v is H (a Value v that requires a gradient is differentiated too)."""
    a = np.array([0.5, -1.0, 2.0])
    x = Value([0.2, 0.7, -0.3])
    v = Value([1.0, 0.5, -2.0])
    u = np.array([-1.0, 3.0, 0.25])
    hv = hvp(lambda p: (p @ a) ** 3, x, v)
    s, av, au = x.data @ a, v.data @ a, u @ a
    np.testing.assert_allclose(hv.data, 6 * s * av * a, rtol=1e-14)
    in_x, in_v = gradients((hv * u).sum(), [x, v])
    np.testing.assert_allclose(in_x.data, 6 * au * av * a, rtol=1e-14)
    np.testing.assert_allclose(in_v.data, 6 * s * au * a, rtol=1e-14)  # Hᵀu = H u
    assert x.grad is None and v.grad is None


def test_the_third_derivative_of_a_networks_output_in_its_input_matches_differences_and_stays_connected() -> None:
    net = nn.MLP([1, 6, 6, 1], activation="tanh", rng=3)
    u = lambda z: net(z.reshape(1, 1)).sum()  # noqa: E731
    second, third = grad(grad(u)), grad(grad(grad(u)))
    for z in (-0.7, 0.0, 0.4):
        got = third(z)
        np.testing.assert_allclose(got.data, _central(lambda p: second(float(p)).data, np.array(z)),
                                   rtol=1e-6, atol=1e-9)
        # connected to the weights (a physics-informed cost of u‴ trains them), and their .grad left alone
        assert got.requires_grad and all(w.grad is None for w in net.parameters())
    weight = net[0].weights
    by_weight = gradients(third(0.4), [weight])[0].data

    def third_with(numbers: np.ndarray) -> float:
        saved = weight.data.copy()
        weight.data[...] = numbers
        try:
            return float(third(0.4).data)
        finally:
            weight.data[...] = saved

    np.testing.assert_allclose(by_weight, _central(third_with, weight.data.copy(), h=1e-4), rtol=1e-5, atol=1e-8)


@given(st.floats(-1.5, 1.5))
def test_a_function_that_calls_backward_inside_a_transform_and_detaches_gives_the_closed_forms(x: float) -> None:
    def penalty(p: Value) -> Value:  # (∂(p³)/∂p)² by a recorded backward pass inside f: 9p⁴
        (p ** 3).backward(create_graph=True)
        return p.grad * p.grad

    def frozen(p: Value) -> Value:  # c · p with c = 2p³ taken under no_grad and by detach: a constant
        with no_grad():
            c = p ** 3
        return c * p + p.detach() ** 3 * p

    np.testing.assert_allclose(grad(penalty)(x).data, 36 * x ** 3, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(grad(frozen)(x).data, 2 * x ** 3, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(grad(grad(frozen))(x).data, 0.0, atol=0.0)


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5, 6])
def test_nested_grad_of_a_composition_to_the_sixth_order_is_mpmaths(order: int) -> None:
    mp.mp.dps = 40
    derivative = lambda v: F.tanh(F.tanh(v) * 1.3)  # noqa: E731
    for _ in range(order):
        derivative = grad(derivative)
    exact = mp.diff(lambda t: mp.tanh(mp.mpf("1.3") * mp.tanh(t)), mp.mpf("0.3"), order)
    np.testing.assert_allclose(float(derivative(0.3).data), float(exact), rtol=1e-12)


def test_repeated_hvps_hessians_and_jacobians_of_a_networks_input_leave_no_graph_behind() -> None:
    net = nn.MLP([2, 4, 1], activation="tanh", rng=0)
    x = Value([0.3, -0.2])
    f = lambda p: net(p).sum()  # noqa: E731
    calls = [lambda: hvp(f, x, [1.0, -1.0]), lambda: hessian(f)(x), lambda: jacobian(grad(f))(x),
             lambda: grad(grad(lambda t: net(t * x).sum()))(0.5)]
    for call in calls:
        call()  # (the first call fills caches)
        before = _live_values()
        results = [call() for _ in range(5)]
        assert all(r.requires_grad for r in results)  # connected to the net's weights and x
        del results
        assert _live_values() == before
    assert x.grad is None and all(w.grad is None for w in net.parameters())


def test_a_transform_name_of_the_package_is_not_in_its_api() -> None:
    """The advice on tinygrad_edu.grad is an AttributeError: nothing new is importable from the package itself."""
    package = importlib.import_module("tinygrad_edu")
    for name in ("grad", "hessian", "vmap", "jacrev", "stop_gradient"):
        assert name not in package.__all__ and name not in dir(package)
        with pytest.raises(AttributeError):
            getattr(package, name)
