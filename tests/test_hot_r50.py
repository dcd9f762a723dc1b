"""Round 50's cuts of fit's x² update (issue 10): gradient_norm and the step's finite check take g·g from np.vdot's
implementation for ndarrays, without its __array_function__ dispatcher.  What must stay as it was (the same float,
bit for bit; a subclass's override still asked) and the work removed (the dispatcher's Python calls, counted by
sys.setprofile, never timed)."""

import math
import sys
import warnings

import numpy as np
import pytest

from tinygrad_edu import Value, optim
from tinygrad_edu.data import xsquared
from tinygrad_edu.demo import xsquared_network
from tinygrad_edu.losses import squared_error


def _python_calls_named(name, run):
    """The Python functions of that name that ``run()`` calls (numpy's dispatchers are Python functions)."""
    seen = []

    def watch(frame, event, arg):
        if event == "call" and frame.f_code.co_name == name:
            seen.append(frame.f_code.co_filename)

    sys.setprofile(watch)
    try:
        run()
    finally:
        sys.setprofile(None)
    return seen


def _norm_as_before(grads):
    """gradient_norm as round 49 computed it: Σ float(np.vdot(g, g)) in float64, in order, then √ (scaled by the
    largest |g| where the sum overflows or nearly underflows)."""
    arrays = [np.asarray(g.data if isinstance(g, Value) else g).astype(np.float64) for g in grads if g is not None]
    total = 0.0
    for g in arrays:
        total += float(np.vdot(g, g))
    if total == math.inf or total < 1e-290:
        largest = max((float(np.abs(g).max(initial=0.0)) for g in arrays), default=0.0)
        if not largest < math.inf:
            return math.inf
        if largest == 0:
            return 0.0
        return largest * math.sqrt(sum(float(np.vdot(g / largest, g / largest)) for g in arrays))
    return math.sqrt(total)


def _x_squared_update():
    model = xsquared_network(0)
    inputs, targets = xsquared(20, seed=0)
    cost = squared_error(model(Value(inputs[:5], requires_grad=False)), targets[:5])
    cost.backward()
    return model, cost


def test_gradient_norm_of_arrays_calls_no_vdot_dispatcher():
    model, _ = _x_squared_update()
    params = model.parameters()
    assert _python_calls_named("vdot", lambda: optim.gradient_norm(params)) == []


def test_the_steps_finite_check_calls_no_vdot_dispatcher():
    model, cost = _x_squared_update()
    opt = optim.GradientDescent(model, 0.1)
    assert _python_calls_named("vdot", lambda: opt.step(cost=cost)) == []


@pytest.mark.parametrize("seed", range(12))
def test_gradient_norm_is_the_same_float_as_before_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    shapes = [(), (0,), (1,), (12,), (12, 12), (3, 4, 5), (0, 3)]
    dtypes = [np.float64, np.float32, np.int64, np.bool_]
    scales = [1.0, 1e-170, 1e-200, 1e160, 1e200, 1e-3]
    params = []
    for _ in range(int(rng.integers(0, 7))):
        shape = shapes[int(rng.integers(len(shapes)))]
        dtype = dtypes[int(rng.integers(len(dtypes)))]
        scale = scales[int(rng.integers(len(scales)))] if dtype is np.float64 else 1.0
        p = Value(np.zeros(shape, dtype=np.float64 if dtype is not np.float32 else np.float32))
        numbers = rng.standard_normal(shape) * (1e18 if dtype is np.float32 and seed % 3 == 0 else 10)
        p.grad = np.asarray(numbers * scale).astype(dtype) if dtype is not np.bool_ else np.asarray(numbers > 0)
        if rng.integers(4) == 0:
            p.grad = Value(np.asarray(p.grad, dtype=np.float64), requires_grad=False)
        elif rng.integers(5) == 0:
            p.grad = None
        params.append(p)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no overflow warning either, as np.vdot gave none)
        got = optim.gradient_norm(params)
    expected = _norm_as_before([p.grad for p in params])
    assert got == expected or (math.isnan(got) and math.isnan(expected))
    assert got.__class__ is float


def test_gradient_norm_of_huge_and_tiny_numbers_is_scaled_as_before():
    for numbers in ([1e200, 1e200], [1e-170, 2e-170], [3e-320], [1e300, -1e300, 1.0]):
        p = Value(np.zeros(len(numbers)))
        p.grad = np.array(numbers)
        with np.errstate(all="raise"):
            assert optim.gradient_norm([p]) == _norm_as_before([p.grad])
    p.grad = np.array([np.inf, 1.0])
    assert optim.gradient_norm([p]) == math.inf


class _Overriding(np.ndarray):
    """An ndarray subclass whose __array_function__ notes the numpy functions called on it."""

    asked: list = []

    def __array_function__(self, func, types, args, kwargs):
        type(self).asked.append(func.__name__)
        return super().__array_function__(func, types, args, kwargs)


def test_a_subclass_override_of_vdot_is_still_asked():
    _Overriding.asked = []
    p = Value(np.zeros(3))
    p.grad = np.array([3.0, 4.0, 0.0]).view(_Overriding)
    assert optim.gradient_norm([p]) == 5.0
    assert _Overriding.asked == ["vdot"]


def test_the_steps_finite_check_is_as_before():
    p = Value(np.zeros(2, dtype=np.float32))
    opt = optim.GradientDescent([p], 1e-20)
    p.grad = np.array([1e30, -1e30], dtype=np.float32)  # squares beyond float32: inf, quietly, and the step made
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
    assert p.data.tolist() == [np.float32(-1e10), np.float32(1e10)]
    p.grad = np.array([np.nan, 1.0], dtype=np.float32)
    with pytest.raises(FloatingPointError, match="GradientDescent.step: the gradient holds NaN or inf"):
        opt.step()
