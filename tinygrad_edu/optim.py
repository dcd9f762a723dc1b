"""Optimizers: the ways of changing the weights and biases so that the cost gets smaller (seed, sections 5 to 7).

- :class:`RandomSearch`: the seed's naive method (section 5): try a random change, keep it if the cost fell.
- :class:`GradientDescent`: ``x ← x − η ∇C`` with a fixed learning rate ``η`` (sections 6.2, 7.1, 7.2).
- :class:`Armijo`: gradient descent whose step size obeys the Armijo condition (algorithm of section 6.2.1).
- :class:`SGD` (with momentum) and :class:`Adam`: the batch methods that section 7.4 points to.
- :class:`Newton`: the direction from the Hessian, ``(H + λI)d = −∇C``, with Armijo steps (sections 6.1, 6.2); it
  needs ``step(closure)`` and computes its gradient and Hessian itself.

Every optimizer takes the parameters (a :class:`~tinygrad_edu.nn.Module` or leaf Values: made directly, not by
an operation, since steps change them in place), has ``zero_grad()`` and ``step(closure=None, *, cost=None)``.
The **closure** recomputes the cost for the current parameters and returns it (forward only: it must not call
``backward``; a closure that does, as PyTorch's do, is a ValueError, not a gradient counted twice; so is, for the
gradient methods and Newton, a cost that depends on none of the optimizer's parameters, such as a copied model's).  Who
computes the gradient:

- ``step()``: the gradient methods use the gradients the parameters hold now (you ran ``cost.backward()``);
- ``step(closure)``: the optimizer clears the gradients, evaluates ``closure()`` (with recording on, even inside
  ``no_grad()``, as in PyTorch) and backpropagates itself;
- ``step(closure, cost=c)``: ``c`` is the cost at the current parameters and the gradients are already those
  of ``c`` (this is how :func:`tinygrad_edu.fit` calls it, so that nothing is computed twice); a Value ``c``
  given with no gradient at all is a ValueError; so is, for Armijo, random search and Newton (which judge their
  steps by its number), one computed before a Value it depends on last changed (an earlier step, of this optimizer
  or of another one training other parameters of the model), and, for Armijo (which pairs ``f(x)`` with
  ``∇f(x)``), one never backpropagated (``c.grad`` None); gradient descent, SGD and Adam take the gradients as
  they are, as PyTorch's steps do (with a RuntimeWarning when they are all the ones the previous step used: no
  backward() reached the parameters since, as with a cost of a model built again or copied apart from the
  optimizer).

The settings (``learning_rate``, ``momentum``, Adam's ``betas`` and ``eps``, Armijo's and Newton's ``sigma``,
``alpha``, ``max_backtracks``, RandomSearch's ``scale``, …) may be changed between steps, as a learning-rate
schedule does; they are checked whenever they are set, as the constructor checks them, and a bad one is an error
naming the optimizer and the setting.  A learning rate may be 0 (a step that changes nothing, as in PyTorch: a
schedule annealed to 0; not Armijo's ``initial_step``, a first trial step of 0 being no step) and anything that
holds one real number (a numpy scalar, a 0-d array, a Value of one number), kept as its float.  ``step`` returns the
cost before the update (or None if it was not computed).  Updates run under ``no_grad`` and change each parameter's
``data`` in place; parameters whose ``grad`` is None are left alone (except by random search, which uses no gradient
and changes every parameter that is not frozen), and so are frozen ones (``requires_grad=False``), even holding a
gradient from before they were frozen or the zeros of ``zero_grad(set_to_none=False)`` (PyTorch's optimizers step
every parameter with a grad); a ``step()`` where no parameter has a gradient changes nothing, with a RuntimeWarning
(the optimizer's model built again after it, say).  A gradient holding NaN or inf raises ``FloatingPointError`` and
changes nothing; so does one that has not its parameter's shape (``ValueError``) or does not hold real numbers
(``TypeError``), and a parameter whose numbers are read-only (``ValueError``; ``p.data = a`` keeps a read-only
``a``).  A step of Armijo, Newton or random search whose closure fails in a trial (or Ctrl-C there) leaves the
parameters, random search's generator and the ``last_*`` reports as they were; Ctrl-C during the updates of gradient
descent, SGD or Adam (a training loop of one's own) takes effect once every parameter is updated, and while random
search keeps or undoes its change, once the change is kept or undone in full.  A step of gradient descent, SGD or
Adam whose parameters are all frozen warns (``RuntimeWarning``) that it changes nothing.

A **random closure** (noise added to the inputs, a dropout mask, a mini-batch drawn inside it) gives another cost at
every call.  Gradient descent, SGD and Adam call it once per step (its gradient is then a stochastic gradient, as
section 7.4's batches give), but Armijo, Newton and random search call it several times per step and compare the
costs: each call sees other random numbers, so a step is kept or refused by the luck of the draws, and their
promises (the cost never increases, a change is kept only if the cost fell) hold only for the costs drawn, not for
the cost itself (a line search may even find no step, where only the draws differed).  Fix the random numbers for
the step: draw them before ``step()`` and let the closure use them (``noise = rng.normal(size=x.shape)`` then
``opt.step(lambda: cost(x + noise))``), or let the closure make a generator of the step's own,
``np.random.default_rng(k)`` in step k.

    >>> from tinygrad_edu import Value, optim
    >>> x = Value([3.0, -2.0])
    >>> opt = optim.Armijo([x])
    >>> for _ in range(20):
    ...     _ = opt.step(lambda: (x * x).sum())      # f(x) = ‖x‖², minimum at 0
    >>> bool(abs(x.data).max() < 1e-6)
    True
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # (see _whole_update)
import contextlib
import difflib
import inspect
import math
import signal
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, Literal, NamedTuple, TypeVar, overload

import numpy as np

from tinygrad_edu import checks, optim_state, write_instead
from tinygrad_edu.autodiff import gradient_and_hessian
from tinygrad_edu.engine import Value, backward_order, enable_grad, held_by_a_walk, is_anomaly_enabled, no_grad
from tinygrad_edu.grad_mode import GRAD_ENABLED
from tinygrad_edu.seeds import generator

__all__ = ["Optimizer", "GradientDescent", "Armijo", "RandomSearch", "SGD", "Adam", "Newton", "ArmijoStep",
           "armijo_step", "checked_learning_rate", "cost_with_gradient", "gradient_norm", "OPTIMIZERS",
           "LineSearchWarning"]

Closure = Callable[[], Any]


class LineSearchWarning(RuntimeWarning):
    """The line search of :class:`Armijo` or :class:`Newton` found no step, so the parameters are unchanged: a
    category of its own, so that it can be silenced (``warnings.simplefilter("ignore", optim.LineSearchWarning)``)
    without numpy's RuntimeWarnings about overflows and divisions by 0."""


def _updating(over: Literal["ignore"] | None = None, under: Literal["ignore"] | None = None) -> Any:
    """The numpy error state for the updates ``p -= …`` of a step (under ``no_grad()``): under ``detect_anomaly``
    numpy's floating-point warnings about their numbers are silenced, so that an update to NaN or inf is the error
    naming it ("sub in place: the new numbers hold NaN or inf"), which numpy's "overflow encountered in multiply",
    pointing at this file, would only echo (as the engine's operations do under ``detect_anomaly``).  Else the
    caller's error state, but for what is ``"ignore"`` here: Adam's averages ignore overflows and underflows (it warns
    of an overflow itself), and its update underflows (harmless), under a caller's ``np.errstate(all="raise")`` too;
    gradient descent's and SGD's updates keep the caller's error state as it is (a ``with np.errstate`` costs about
    2 µs, 1 % of the x² update)."""
    if is_anomaly_enabled():
        return np.errstate(all="ignore")
    return _AS_IT_IS if over is None and under is None else np.errstate(over=over, under=under)


def _undone_on_error(optimizer: Optimizer, gradients: list[tuple[Value, np.ndarray]]) -> Any:
    """Around the updates of gradient descent, SGD and Adam: under ``detect_anomaly``, where an update to NaN or inf
    raises, and under a caller's ``np.errstate(over="raise")`` (or ``under=``, ``invalid=``), where ``x − η·v`` can
    overflow after the parameters before it changed, the parameters updated before it and the state kept for them
    (Adam's averages and step counts too) are put back, so that the refused step changes nothing (the check costs
    under 1 µs a step, 0.4 % of the x² demo's update)."""
    if is_anomaly_enabled() or _raises_in_updates():
        return _put_back_on_error(optimizer, gradients)
    return _AS_IT_IS


def _update_blocks(optimizer: Optimizer, gradients: list[tuple[Value, np.ndarray]]) -> Any:
    """Around gradient descent's and SGD's updates: :func:`_whole_update`, then ``_updating()`` and
    ``_undone_on_error(optimizer, gradients)``, with the anomaly switch and numpy's error state read once, and only
    the first block where the others would do nothing (no detect_anomaly, no error state that raises: fit's every
    update; their two no-op blocks cost 1 µs of its x² update)."""
    if not is_anomaly_enabled() and not _raises_in_updates():
        return _whole_update()
    return _guarded(optimizer, gradients)


@contextlib.contextmanager
def _guarded(optimizer: Optimizer, gradients: list[tuple[Value, np.ndarray]]) -> Iterator[None]:
    """The three blocks of :func:`_update_blocks`, where the last two are needed."""
    with _whole_update(), _updating(), _undone_on_error(optimizer, gradients):
        yield


def _raises_in_updates() -> bool:
    """Whether numpy's error state (a caller's np.errstate) raises on an overflow, underflow or invalid result."""
    state = np.geterr()
    return "raise" in (state["over"], state["under"], state["invalid"])


@contextlib.contextmanager
def _put_back_on_error(optimizer: Optimizer,
                       gradients: list[tuple[Value, np.ndarray]]) -> Iterator[list[Value]]:
    """The parameters' numbers and the optimizer's state for them (new arrays at each step, never changed in place)
    as they were, if the body raises; and its gradients are no step's (the same ones again, with a smaller learning
    rate, are no repeat of a step, which :meth:`Optimizer._check_not_stepped` would warn of).  The body is given a
    list to append each parameter to as it updates it (Adam does): numpy's refusal of an update to NaN, made before
    its parameter changed (m̂/(√v̂ + ε) = inf/inf), then names that parameter too."""
    numbers, states = [p.data.copy() for p, _ in gradients], optimizer._parameter_states()
    updating: list[Value] = []
    try:
        yield updating
    except BaseException as error:
        numpys = _refused_by_numpy(error)
        failed = None if not numpys else updating[-1] if updating else next(
            (p for p, _ in gradients if not np.isfinite(p.data).all()), None)
        for (p, _), kept in zip(gradients, numbers, strict=True):
            if p.data.flags.writeable:  # (a read-only one was refused, unchanged)
                p.data[...] = kept
        optimizer._set_parameter_states(states)
        optimizer._stepped = [], None
        if numpys:
            raise _update_refused(optimizer, failed, str(error)) from error
        raise


def _refused_by_numpy(error: BaseException) -> bool:
    """Whether ``error`` is numpy's, raised under a caller's ``np.errstate(...="raise")`` ("overflow encountered in
    add"), not one of the package's own FloatingPointErrors."""
    return isinstance(error, FloatingPointError) and " encountered in " in str(error)


def _update_refused(optimizer: Optimizer, failed: Value | None, said: str) -> FloatingPointError:
    """The error for an update that numpy refused under a caller's ``np.errstate(...="raise")`` (``said``: numpy's
    words), naming the parameter whose new numbers were not finite (``failed``, if one was), and the optimizer's
    ``_update_rule``."""
    where = f"{type(optimizer).__name__}.step"
    rule, cause, setting = optimizer._update_rule
    if said.startswith("underflow"):  # (η·v below the smallest normal number: it rounds towards 0, no harm done)
        return FloatingPointError(f"{where}: the update {rule} underflowed ({said}): some numbers of the step "
                                  "are too small for the dtype and round towards 0, which is harmless here, but the "
                                  "caller's np.errstate(under='raise') makes it an error: wrap the step in "
                                  "np.errstate(under='ignore'); the parameters are unchanged")
    whose = ""
    if failed is not None:
        whose = f" for {_parameter(next(i for i, p in enumerate(optimizer.params) if p is failed), failed)}"
        if failed.dtype.kind == "f" and said.startswith("overflow"):  # (not an invalid inf − inf: NaN, no overflow)
            whose += f", beyond {failed.dtype}'s largest number {float(np.finfo(failed.dtype).max):.3g}"
    return FloatingPointError(f"{where}: the update {rule} gave numbers that are not finite{whose} ({said}, "
                              f"under the caller's np.errstate): {cause}; or {setting} is too large: try a smaller "
                              "one; the parameters are unchanged")


_AS_IT_IS = contextlib.nullcontext()
# One block of each mode for the steps' updates and cost_with_gradient's closure, made once (a block may be entered
# again, nested too: each entry keeps what it found): making one costs at every update of fit.
_NOT_RECORDING, _RECORDING = no_grad(), enable_grad()
_recording = GRAD_ENABLED.get  # (is_grad_enabled() without its call)


def _whole_update() -> contextlib.AbstractContextManager[None]:
    """Around the updates ``p -= …`` of gradient descent, SGD and Adam: a Ctrl-C pressed while they run (a
    training loop of one's own, in a notebook) raises ``KeyboardInterrupt`` once every parameter is updated, not
    halfway through, some parameters (and Adam's step counts) changed and others not; a second one too (the updates
    are quick and run no code of the user's).  Inside fit a press is handed to fit's own handler once the update is
    made, which ends training there.  Only where Ctrl-C runs a Python function (the main thread, Python's handler or
    fit's); elsewhere nothing changes, at a cost of under 1 µs."""
    # (_signal's getsignal: signal.getsignal's is the same handler wrapped by an enum lookup, 3 µs for a function;
    # it answers in any thread: _CtrlCHeld finds out whether this is the main one)
    if not callable(_signal.getsignal(signal.SIGINT)):
        return _AS_IT_IS
    return _CtrlCHeld()


class _CtrlCHeld:
    """The body with Ctrl-C held back until it ends, then handed to the handler it found, once for each press (see
    _whole_update).  A class, not @contextmanager, and _signal's signal(), as _whole_update's getsignal
    (signal.signal's enum lookups cost 3 µs a call): 1 µs a step."""

    __slots__ = ("found", "pressed")

    def __enter__(self) -> None:
        self.pressed: list[int] = []
        # outside the main thread (of the main interpreter) signal() refuses, and nothing changes: its own check
        # in C costs nothing here, where threading's current_thread() and main_thread() cost two calls a step
        try:
            self.found: Callable[[int, Any], Any] | None = _signal.signal(signal.SIGINT, self._ctrl_c)
        except ValueError:
            self.found = None

    def _ctrl_c(self, signum: int, frame: Any) -> None:
        self.pressed.append(signum)

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        if self.found is None:  # (another thread: no handler was swapped)
            return
        _signal.signal(signal.SIGINT, self.found)
        if kind is None:  # (an error of the body's own is raised as it is)
            for signum in self.pressed:  # (frame None: fit's handler ends training after this update, not in it)
                self.found(signum, None)


def _parameters(params: Any, where: str) -> list[Value]:
    """The distinct Values in ``params`` (a Module, or an iterable of Values); possibly none."""
    # a fast path: a list of distinct Values, as fit gives gradient_norm at every batch, is what the checks below
    # find it (the copy they make, at once; a Value hashes by identity; the classes as a set, in C: a generator
    # here cost a tenth of fit's ‖∇C‖)
    if params.__class__ is list and set(map(type, params)) <= _VALUE_CLASS and len(set(params)) == len(params):
        return params[:]
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    if isinstance(params, Value):
        params = [params]
    if isinstance(params, Mapping):
        if all(isinstance(p, Value) for p in params.values()):
            advice = "pass its Values, list(params.values()), or the Module itself"
        elif all(callable(getattr(p, "parameters", None)) for p in params.values()):  # a dict of heads (ModuleDict)
            advice = ("its entries are Modules: pass their parameters, [p for m in params.values() for p in "
                      "m.parameters()], or the Module that holds them")
        else:
            advice = ("its entries are not Values (a state_dict() holds copies of the numbers, not the parameters): "
                      "pass model.parameters() or the Module itself")
        raise TypeError(f"{where}: params is a {type(params).__name__} of {len(params)} entries; {advice}")
    try:
        params = list(params)
    except TypeError:
        called = f" (call it: {params.__name__}())" if callable(params) and hasattr(params, "__name__") else ""
        raise TypeError(f"{where}: params must be a Module or an iterable of Values, "
                        f"got {type(params).__name__}{called}") from None
    unique: dict[int, Value] = {}
    for p in params:
        if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], Value):
            raise TypeError(f"{where}: params holds (name, Value) pairs, as named_parameters() gives: pass "
                            "model.parameters() or the Module itself")
        if not isinstance(p, Value):
            raise TypeError(f"{where}: every parameter must be a Value, got {type(p).__name__}"
                            + (_GROUPS if isinstance(p, (dict, list, tuple)) or hasattr(p, "parameters") else ""))
        unique.setdefault(id(p), p)
    return list(unique.values())


#: How to give groups of parameters settings of their own (a learning rate per layer) without parameter groups.
_ONE_OPTIMIZER_PER_GROUP = ("for settings of their own (a learning rate per group of layers), make one optimizer "
                            "per group, opt1 = SGD(first.parameters(), ...) and opt2 = SGD(second.parameters(), ...), "
                            "and after one cost.backward() call opt1.step() and opt2.step()")
# Why a dict or a list among the parameters is refused (a PyTorch user's parameter groups).
_GROUPS = ("; there are no parameter groups here (PyTorch's [{'params': ..., 'lr': ...}]): pass one list of Values, "
           f"which share the settings, e.g. [*first.parameters(), *second.parameters()]; {_ONE_OPTIMIZER_PER_GROUP}")


#: What a frozen parameter's error says to do (requires_grad=False: left out of parameters(), never stepped).
_UNFREEZE = "unfreeze the ones to train with model.requires_grad_(True) or p.requires_grad = True"


def _parameter(i: int, p: Value, *, shape: bool = True) -> str:
    """``parameter 1 ('b^1', shape (12,))``: a parameter by its position in the optimizer's list (counted from 0, as
    PyTorch's state counts them) and, when it has one, its label, which counts a network's layers from 1 as the
    drawings do: without it, parameter 1 of an MLP (b¹) would read as W¹."""
    details = ([repr(p.label)] if p.label not in (None, "") else []) + ([f"shape {p.shape}"] if shape else [])
    return f"parameter {i}" + (f" ({', '.join(details)})" if details else "")


def _module_of(params: Any) -> weakref.ref[Any] | None:
    """A weak reference to ``params`` where it is a Module (what :attr:`Optimizer.built_from` gives back), else None
    (a list of Values, or an object that cannot be referred to weakly)."""
    if not callable(getattr(params, "parameters", None)) or not callable(getattr(params, "modules", None)):
        return None
    try:
        return weakref.ref(params)
    except TypeError:
        return None


def _numpy_attributes(module: Any) -> list[str]:
    """Where ``module`` is a Module that holds no Value at all, frozen or not, the numpy arrays among the public
    attributes of it and the Modules under it (``fc1.w``): weights kept as arrays, which nothing trains; else []."""
    if not callable(getattr(module, "named_modules", None)) or not callable(getattr(module, "state_dict", None)):
        return []
    try:
        if module.state_dict():
            return []
        return [f"{name}.{key}" if name else key for name, child in module.named_modules()
                for key, member in vars(child).items() if isinstance(member, np.ndarray) and not key.startswith("_")]
    except (TypeError, ValueError):  # (a walk refused: its own error says why, elsewhere)
        return []


def _trainable(params: Any, where: str) -> list[Value]:
    """An optimizer's parameters: at least one, and each a leaf (a Value made directly, not by an operation)."""
    found = _parameters(params, where)
    if not found:
        frozen = (f" (a Module's parameters() leaves out the frozen ones, requires_grad=False: {_UNFREEZE})"
                  if hasattr(params, "parameters") else "")
        arrays = _numpy_attributes(params)
        if arrays:  # (no Value at all, frozen or not: unfreezing would find nothing)
            frozen = (f": this {type(params).__name__} holds no Values, and its numpy arrays ({', '.join(arrays)}) are "
                      "not parameters: keep weights as Values, self.w = Value(array)")
        if isinstance(params, Iterator):  # a generator given to an earlier optimizer (or list()) first
            frozen = (f" ({type(params).__name__} params gave no Values: used up already, by an earlier optimizer "
                      "or list()? an iterator gives its Values once; pass a list, list(model.parameters()), or the "
                      "Module)")
        raise ValueError(f"{where}: got no parameters to optimize{frozen}")
    for i, p in enumerate(found):
        if p.op is not None:
            raise ValueError(f"{where}: {_parameter(i, p)} is the result of an operation ({p.op}); "
                             "parameters must be leaves, Values made directly such as a Module's weights, since "
                             "the optimizer changes them in place: pass the Values it was computed from")
    return found


def gradient_norm(params: Any) -> float:
    """``‖∇f‖``: the Euclidean norm of all parameters' gradients together (the stopping rule of step 1.2).

    Parameters without a gradient count as 0, and so does an empty list of parameters (the norm of an empty
    vector).  The squares are summed in float64, so a float32 gradient whose squares exceed float32 still has
    a finite norm; so does a gradient whose squares exceed float64 (each is divided by the largest number first).
    """
    params = _parameters(params, "gradient_norm")
    total = 0.0
    for p in params:
        g = p.grad
        if g is None:
            continue
        if g.__class__ is not _ndarray or g.dtype is not _FLOAT64:  # a Value's numbers; float32 squares overflow
            g = _float64_gradient(g)
        # Σ g², over every element whatever the shape (an ndarray's without np.vdot's dispatch, a subclass's with it)
        total += float((_vdot_of_arrays if g.__class__ is _ndarray else _vdot)(g, g))
    if total == math.inf or total < 1e-290:  # ‖(1e200, 1e200)‖ ≈ 1.4e200; squares of 1e-170 underflow to 0
        return _scaled_norm([_float64_gradient(p.grad) for p in params if p.grad is not None])
    return math.sqrt(total)


def _float64_gradient(grad: Any) -> np.ndarray:
    """A parameter's gradient as float64 numbers; complex ones are refused (numpy would drop the imaginary parts)."""
    g = _numbers(grad, "gradient_norm")
    if g.dtype.kind not in "fiub":
        raise TypeError(f"gradient_norm: a parameter's grad holds {g.dtype} numbers; a gradient holds real numbers "
                        "(float, int or bool)")
    return g.astype(np.float64, copy=False)


def _scaled_norm(gradients: list[np.ndarray]) -> float:
    """‖g‖ = m·‖g/m‖, m the largest |g|: squares of numbers above about 1e154 overflow, where their norm need not."""
    largest = max((float(np.abs(g).max(initial=0.0)) for g in gradients), default=0.0)
    if not largest < math.inf:  # an inf among them (NaN would have made the sum NaN, not inf)
        return math.inf
    if largest == 0:  # all zeros: ‖0‖ = 0 (no division by 0)
        return 0.0
    return largest * math.sqrt(sum(float(np.vdot(g / largest, g / largest)) for g in gradients))


_FLOAT64 = np.dtype(np.float64)
_VALUE_CLASS = {Value}
# numpy's names that every step (and fit's every ‖∇C‖) reads, as names of this module: numpy's module defines
# __getattr__, and CPython 3.11 reads np.x the slow way (as the engine's _ndarray)
_ndarray, _vdot, _concatenate = np.ndarray, np.vdot, np.concatenate
# np.vdot without its __array_function__ dispatch (a Python call of its dispatcher: 1,200 instructions a call, six
# in fit's every ‖∇C‖), for ndarrays themselves, whose vdot no override changes: the same product, bit for bit
_vdot_of_arrays = getattr(np.vdot, "__wrapped__", np.vdot)


def _numbers(grad: Any, where: str) -> np.ndarray:
    """A gradient's numbers: after ``backward(create_graph=True)`` a ``.grad`` is a Value, whose data steps use;
    anything but an array or a Value (a ``.grad`` set by hand to a number) is a TypeError naming ``where``."""
    if isinstance(grad, Value):
        return grad.data
    if not isinstance(grad, np.ndarray):
        raise TypeError(f"{where}: a parameter's grad must be a numpy array, as backward() leaves it, got "
                        f"{type(grad).__name__} {grad!r:.40}")
    return grad


def _is_cost(value: Any) -> bool:
    """Whether ``value`` can be a cost: a Value of one number, or a real number (not a bool; a numpy scalar or a 0-d
    array, as ``np.sum`` and ``.data`` give)."""
    if isinstance(value, Value):
        return value.size == 1
    if isinstance(value, np.ndarray):
        return value.ndim == 0 and value.dtype.kind in "iuf"
    return not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))


def _cost_value(cost: Any, where: str, advice: str = "try a smaller learning rate or step size") -> float:
    """The cost (see :func:`_is_cost`) as a float; NaN/inf are reported, since no step can be judged against them."""
    value = float(cost)
    if not math.isfinite(value):
        raise FloatingPointError(f"{where}: the cost is {value}; {advice}")
    return value


def _evaluate(closure: Closure, where: str, *, recording: bool = False) -> Any:
    """``closure()`` under ``no_grad``, for what needs no gradient (random search, the trials of a line search):
    the cost, checked by :func:`_is_cost` (NaN and inf are the caller's to judge).  A closure that calls
    ``backward()`` itself, as PyTorch's do (under no_grad the engine refuses), or returns anything else is an error
    naming ``where``.  A closure whose cost holds a gradient (a gradient penalty, by ``autodiff.gradients(...,
    create_graph=True)``) needs recording, and fails without, with an error naming no_grad: it is evaluated again
    with recording on, as PyTorch evaluates its line search's closures; if it fails that way too, the first error is
    raised.  Any other error is raised at once.  ``recording=True`` (the closure needed it earlier in the same step)
    evaluates it with recording on at once, not first under ``no_grad`` again."""
    try:
        with enable_grad() if recording else no_grad():
            cost = closure()
    except ValueError as error:
        if recording:
            raise
        if str(error).startswith("backward:"):  # the engine's errors from backward() start so
            raise ValueError(f"{where}: the closure called backward(), which fails here: this step evaluates the "
                             "closure without gradients (under no_grad), so it only computes the cost and returns it "
                             "(a PyTorch closure calls zero_grad() and backward() itself: leave them out; for a cost "
                             "that holds a gradient, such as a gradient penalty, take it with autodiff.gradients(cost, "
                             "params, create_graph=True), and a derivative with respect to the inputs, such as du/dx, "
                             "with autodiff.gradients(u, [x], create_graph=True)); the parameters are unchanged"
                             ) from error
        if "no_grad" not in str(error):  # (an error of the closure's own: not evaluated twice)
            raise
        try:
            with enable_grad():
                cost = closure()
        except ValueError:
            raise error from None
    if not _is_cost(cost):
        shown = f"a Value of shape {cost.shape}" if isinstance(cost, Value) else f"{type(cost).__name__} {cost!r:.40}"
        raise TypeError(f"{where}: the closure must return the cost, a Value of size 1 or a number, got {shown}")
    return cost


# The likely cause of a NaN or infinite cost met after some steps (:func:`cost_with_gradient`'s ``hint``).
_DIVERGED = "the steps diverged; try a smaller learning rate or step size"


def cost_with_gradient(closure: Callable[[], Any], params: Iterable[Value], where: str, *,
                       hint: str | Callable[[], str | None] = _DIVERGED) -> tuple[Value, float]:
    """Forward and backward at the current point: forget the gradients of ``params``, compute ``closure()`` and
    backpropagate it.  Returns the cost and its float.  The closure runs with recording on, as PyTorch's optimizers
    run theirs, so a step (and ``fit``) works inside ``no_grad()`` too.

    The cost must be a Value of one number that depends on the parameters; NaN or inf raises
    ``FloatingPointError`` (ending with ``hint``, the likely cause, or what the function ``hint`` returns, called
    only then: None for the usual cause, that the steps diverged) before any backward pass.  ``where`` names
    the function in the messages.

        >>> from tinygrad_edu import Value
        >>> x = Value([3.0])
        >>> cost, number = cost_with_gradient(lambda: (x * x).sum(), [x], "example")
        >>> number, x.grad
        (9.0, array([6.]))
    """
    if not callable(closure):
        raise TypeError(f"{where}: the closure must be a function of no arguments that returns the cost, "
                        f"got {type(closure).__name__} {closure!r:.40}")
    # (a list, as fit's every batch gives, is passed at once: isinstance of an abstract class is the dearest check)
    if params.__class__ is not list and (isinstance(params, Value) or not isinstance(params, Iterable)):
        raise TypeError(f"{where}: params must be a list of Values, got {type(params).__name__}")
    params = list(params)  # (walked again after the closure)
    for p in params:
        if not isinstance(p, Value):
            raise TypeError(f"{where}: every parameter must be a Value, got {type(p).__name__}")
        p.grad = None
    if _recording():  # (on already, as in fit: entering a block to turn it on costs 1 % of the x² update)
        cost = closure()
    else:
        with _RECORDING:
            cost = closure()
    if not isinstance(cost, Value):
        raise TypeError(f"{where} must return the cost as a Value (so that it can backpropagate), "
                        f"got {type(cost).__name__}")
    if cost.size != 1:
        raise ValueError(f"{where} must return one number, got a Value of shape {cost.shape}")
    if not cost.requires_grad:
        raise TypeError(f"{where} must return a cost that depends on the parameters, {_records_nothing(params)}")
    _check_not_backpropagated(cost, where)
    if any([p.grad is not None for p in params]):  # it backpropagated another cost (``return loss * 1.0``)
        # (a recorded gradient: a derivative it took by backward(create_graph=True), du/dx say, reached them too)
        inner = ("; a derivative taken inside it by backward(create_graph=True), such as du/dx of a physics-informed "
                 "cost, adds to the parameters' gradients too: take it with autodiff.gradients(u, [x], "
                 "create_graph=True), or backward(..., create_graph=True, inputs=[x])"
                 if any(isinstance(p.grad, Value) for p in params) else "")
        raise ValueError(f"{where} called backward() itself (a parameter has a gradient already): here the closure "
                         f"only computes the cost and the optimizer calls backward(){inner}; the parameters are "
                         "unchanged")
    number = float(cost.item())
    if not math.isfinite(number):
        said = hint() if callable(hint) else hint
        raise FloatingPointError(f"{where} gave a cost of {number}: {_DIVERGED if said is None else said}"
                                 f"{_log_of_zero(cost)}")
    cost.backward()
    return cost, number


def _records_nothing(params: list[Value]) -> str:
    """Why a closure's cost records no operation on ``params`` (its ``requires_grad`` False), for the messages."""
    frozen = sum(not p.requires_grad for p in params)
    return ("got one that records no operation on them: computed under no_grad, or from numbers such as a "
            "parameter's .data instead of the parameter" + (f"; {frozen} of them are frozen (requires_grad=False)"
                                                            if frozen else ""))


def _log_of_zero(cost: Value, lead: str = "; but a logarithm in it gave −inf (ln 0), which a smaller step only "
                                          "puts off") -> str:
    """For a cost of NaN or inf (or a NaN gradient): where a logarithm in its graph gave −inf (ln 0), ``lead``, the
    likely cause, a probability rounded to 0 or 1 (or, for a log_softmax, a logit of −inf), and what to write
    instead; else nothing.  Only on the way to an error: it walks the graph."""
    try:
        logs = [v for v in backward_order(cost) if v.op in ("log", "log_softmax") and np.isneginf(v.data).any()]
    except (TypeError, ValueError):  # a graph backward refuses (stale): its own error comes with the first backward
        return ""
    if not logs:
        return ""
    if all(log.op == "log_softmax" for log in logs):  # exact, so −inf only of a logit of −inf: a mask
        return (f"{lead}: functional.log_softmax of a logit of −inf (an action or class masked out), whose probability "
                "0 times its ln −inf is NaN (an entropy −Σ p ln p over it; picking it costs inf); mask with a large "
                "negative number instead, functional.where(mask, logits, -1e9): its probability is still 0 and its "
                "ln finite")
    if any(log.parents[0].op == "softmax" for log in logs):  # ln softmax(x): a policy's or a classifier's
        return (f"{lead}: a probability of functional.softmax that rounded to exactly 0 (a logit about 745 below "
                "its row's largest in float64, 104 in float32); write ln softmax(x) as functional.log_softmax(x), "
                "exact for every x (and an entropy as -(softmax(x) * log_softmax(x)).sum())")
    zeros = [log.dtype for log in logs]
    # σ(z) rounds to 1 once e⁻ᶻ is below half the dtype's eps, to 0 once eᶻ is below half its smallest subnormal
    # number: above about 37 and below about −745 in float64, but 17 and −104 in float32
    finfo = np.finfo(zeros[0] if zeros[0].kind == "f" else np.float64)
    above, below = math.log(2 / float(finfo.eps)), math.log(float(finfo.smallest_subnormal)) - math.log(2)
    return (f"{lead}: a probability that rounded to exactly 0 or 1, as σ(z) does in {finfo.dtype} for z above about "
            f"{above:.0f} or below about −{-below:.0f}; in a cross-entropy write ln σ(z) as −functional.softplus(−z) "
            "and ln(1 − σ(z)) as −functional.softplus(z), exact for every z")


def _check_not_backpropagated(cost: Value, where: str) -> None:
    """A closure's cost whose ``grad`` is set has been backpropagated already: a PyTorch closure calls
    ``backward()`` itself, and one more pass here would give the parameters ``∇C + ∇C = 2∇C``.  A ValueError
    naming ``where`` (the closure) instead; the parameters are unchanged."""
    if cost.grad is not None:
        raise ValueError(f"{where} returned a cost that has been backpropagated already (its grad is set): here the "
                         "closure only computes the cost, a new one at each call, and the optimizer calls backward() "
                         "(a PyTorch closure calls zero_grad() and backward() itself: leave them out); "
                         "the parameters are unchanged")


class ArmijoStep(NamedTuple):
    """The outcome of :func:`armijo_step`: the accepted step size (None if none was found) and every trial."""

    step: float | None
    trials: list[tuple[float, float]]  #: (t, f(x + t·d)) for each step size tried, in order


def armijo_step(f: Callable[[np.ndarray], float | np.floating | np.ndarray | Value], x: np.ndarray | Value,
                gradient: np.ndarray | Value, *, sigma: float, alpha: float, fx: float | Value | None = None,
                initial_step: float = 1.0, max_backtracks: int = 50,
                direction: np.ndarray | Value | None = None) -> ArmijoStep:
    """The Armijo step size control (seed 6.2.1, step (ii)): with the direction ``d = −∇f(x)``, the largest
    ``t = initial_step · αˡ``, ``l = 0, 1, …, max_backtracks``, with

        ``f(x + t·d) ≤ f(x) + σ·t·∇f(x)ᵀd``

    (``initial_step = 1`` is the seed's ``t = αˡ``: ``f(x + αˡd) ≤ f(x) + σαˡ∇f(x)ᵀd``, with Armijo's constants
    σ and α, not the activation function σ and the activations α^l of the layers); σ, α ∈ (0, 1),
    ``initial_step > 0``, ``max_backtracks`` an int >= 0, else ValueError (TypeError for one that is not a number,
    or a ``max_backtracks`` that is not an int, such as 2.0).  ``f`` maps a point (a numpy array shaped like ``x``)
    to one number (a float, a 0-d array or a Value of size 1; anything else is a TypeError); ``fx`` is ``f(x)`` if
    already known (finite).  ``x``, ``gradient`` (and ``direction``) are finite arrays of one shape (Values, such
    as ``autodiff.value_and_grad``'s results, are taken by their numbers, and so is a ``fx`` given as a Value).
    A trial whose cost is NaN or infinite counts as failing the condition (numpy's floating-point warnings during
    the trials are silenced: such a trial is just rejected), and so does one whose point ``x + t·d`` overflowed to
    ±inf, whatever its cost (a cost that stays finite there, such as −min(x, c), would put inf into a parameter).
    A step size so small that ``x + t·d`` rounds to ``x`` fails it too, and so does every smaller one: the condition
    asks for a decrease of ``−σt∇f(x)ᵀd > 0`` from a point that has not moved (its rounded form could hold by
    rounding alone), so the search ends with that trial.  A trial whose cost is not below ``f(x)`` fails it as well
    (it backtracks), where ``f(x) + σ·t·∇f(x)ᵀd`` rounds to ``f(x)``: near a minimum where f is far from 0, a cost
    that did not fall at all would otherwise pass.  Returns the step (None if no ``l`` satisfies the condition) and
    the trials; ``x`` is not changed.  ``direction`` replaces ``d = −∇f(x)`` by another descent direction
    (``∇f(x)ᵀd < 0``, e.g. Newton's): the rule and its guarantee (the cost never rises) hold for any of them; an
    uphill one (``∇f(x)ᵀd > 0``) is a ValueError, and so is a flat one (``∇f(x)ᵀd = 0`` where ``∇f(x) ≠ 0``).

        >>> import numpy as np
        >>> f = lambda p: float(p @ p)                  # φ(t) = (1 − 2t)² along d = −∇f(1) = −2
        >>> armijo_step(f, np.array([1.0]), np.array([2.0]), sigma=0.25, alpha=0.5)
        ArmijoStep(step=0.5, trials=[(1.0, 1.0), (0.5, 0.0)])
    """
    where = "armijo_step"
    if not callable(f):
        raise TypeError(f"{where}: f must be a function of a point, got {type(f).__name__}")
    x = _point(x, "x")
    gradient = _point(gradient, "gradient", x.shape)
    given = direction is not None
    direction = -gradient if direction is None else _point(direction, "direction", x.shape)
    sigma = checks.number(sigma, "sigma", where, above=0, below=1)
    alpha = checks.number(alpha, "alpha", where, above=0, below=1)
    initial_step = checks.number(initial_step, "initial_step", where, above=0)
    max_backtracks = checks.integer(max_backtracks, "max_backtracks", where, least=0)
    if isinstance(fx, Value) and fx.size == 1:  # f(x) as a Value, the way f (and value_and_grad) may return it
        fx = fx.item()
    f0 = checks.number(_one_number(f(x)), "f(x)", where) if fx is None else checks.number(fx, "fx", where)
    slope = _descent_slope(gradient, direction, given)
    # ∇f(x)ᵀd above the largest float (‖∇f‖ > 1.3e154) as factors, whose product with σ·t, small, need not overflow
    factors = (slope,) if math.isfinite(slope) else _slope_factors(gradient, direction)
    return _backtrack(f, x, direction, f0, factors, sigma, alpha, initial_step, max_backtracks)


def _backtrack(f: Callable[[np.ndarray], Any], x: np.ndarray, direction: np.ndarray, f0: float,
               slope: tuple[float, ...], sigma: float, alpha: float, initial_step: float,
               max_backtracks: int) -> ArmijoStep:
    """The trials of :func:`armijo_step`, t = initial_step·αˡ for l = 0, 1, …, max_backtracks, until one satisfies
    the Armijo condition ``f(x + t·d) ≤ f(x) + σ·t·∇f(x)ᵀd`` (with ``f0`` = f(x) and ∇f(x)ᵀd the product of the
    numbers in ``slope``: itself, or factors of it that σ·t multiplies one by one, where it overflows)."""
    trials: list[tuple[float, float]] = []
    for backtracks in range(max_backtracks + 1):
        t = initial_step * alpha ** backtracks
        with np.errstate(all="ignore"):  # also a caller's np.errstate(all="raise"): underflows are no error
            point = x + t * direction
            trial = _one_number(f(point))
        trials.append((t, trial))
        if not (point != x).any():  # x + t·d rounds to x, as for every smaller t: no step, whatever f said
            break
        if not np.isfinite(point).all():  # x + t·d overflowed (x is finite): no step to an inf, whatever f said
            continue
        # a decrease σt∇f(x)ᵀd < 0 that f(x) + σt∇f(x)ᵀd rounds away would take a cost that did not fall at all for
        # one that fell enough: then it must at least fall (one that underflows to 0 is judged as before)
        decrease = math.prod((sigma, t, *slope))  # (σ·t·∇f(x)ᵀd, multiplied from the left)
        if math.isfinite(trial) and trial <= f0 + decrease and (trial < f0 or decrease == 0):  # else it backtracks
            return ArmijoStep(t, trials)
    return ArmijoStep(None, trials)


def _descent_slope(gradient: np.ndarray, direction: np.ndarray, given: bool) -> float:
    """∇f(x)ᵀd for :func:`armijo_step`, = −‖∇f(x)‖² for d = −∇f(x), in float64 (float32 numbers do not overflow);
    a ValueError for an uphill direction (``∇f(x)ᵀd > 0``: the condition could accept a step that raises f), and for
    a flat one that was ``given`` (``∇f(x)ᵀd = 0`` where ``∇f(x) ≠ 0``: the condition asks for no decrease at all)."""
    with np.errstate(over="ignore", under="ignore"):  # (an overflow to ±inf: see _slope_factors; an underflow to 0)
        slope = float(np.dot(gradient.ravel().astype(np.float64), direction.ravel().astype(np.float64)))
    sign = _sign_of_slope(gradient, direction)
    if sign > 0:
        raise ValueError(f"armijo_step: direction is no descent direction: ∇f(x)ᵀd = {slope:.3g} > 0")
    if sign == 0 and given and gradient.any():
        raise ValueError("armijo_step: direction is no descent direction: ∇f(x)ᵀd = 0 where ∇f(x) ≠ 0 (d is "
                         "orthogonal to the gradient, or 0), so a step that does not decrease f would be accepted")
    return slope


def _sign_of_slope(gradient: np.ndarray, direction: np.ndarray) -> float:
    """The sign of ∇f(x)ᵀd, from the two scaled to a largest element of 1: the product itself underflows to 0 where
    it is not (‖∇f‖ = ‖d‖ = 1e-170), which would make a descent direction look flat."""
    return float(np.sign(_slope_factors(gradient, direction)[0]))


def _slope_factors(gradient: np.ndarray, direction: np.ndarray) -> tuple[float, float, float]:
    """∇f(x)ᵀd as ``(s, g_max, d_max)``, its product: ``g_max`` and ``d_max`` the largest |number| of each and ``s``
    the product of the two scaled by them (0 where one is 0), in float64.  ∇f(x)ᵀd itself overflows where ‖∇f‖ is
    above about 1.3e154, and underflows to 0 where it is about 1e-170, where its sign and σ·t·∇f(x)ᵀd need not."""
    g, d = (np.ravel(v).astype(np.float64) for v in (gradient, direction))
    g_max, d_max = float(np.abs(g).max(initial=0.0)), float(np.abs(d).max(initial=0.0))
    with np.errstate(under="ignore"):  # (numbers far below the largest: their share rounds to 0, no error)
        return (float((g / g_max) @ (d / d_max)) if g_max and d_max else 0.0), g_max, d_max


def _one_number(value: Any) -> float:
    """What :func:`armijo_step`'s ``f`` returned, as a float: one real number (see :func:`_is_cost`), else a
    TypeError."""
    if not _is_cost(value):
        shown = f" of shape {np.shape(value)}" if isinstance(value, (np.ndarray, Value)) else f" {value!r:.40}"
        raise TypeError(f"armijo_step: f must return one number (a float, a 0-d array or a Value of size 1), "
                        f"got {type(value).__name__}{shown}")
    return float(value)


def _point(value: Any, name: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """An array argument of :func:`armijo_step`: finite numbers, of ``shape`` if given; a Value's numbers (as
    autodiff's grad and hvp return them)."""
    if isinstance(value, Value):
        value = value.data
    checks.unmasked(value, name, "armijo_step")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        array = np.asarray(None)
    if array.dtype.kind not in "iuf":
        raise TypeError(f"armijo_step: {name} must be an array of numbers, got {type(value).__name__}")
    if shape is not None and array.shape != shape:
        raise ValueError(f"armijo_step: {name} must have the shape of x, {shape}, got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"armijo_step: {name} holds NaN or inf")
    return array


_Checked = TypeVar("_Checked")


class _Setting(Generic[_Checked]):
    """A setting checked whenever it is set: by the constructor, by ``load_state_dict`` and by hand between steps
    (a learning-rate schedule), so ``opt.learning_rate = float("nan")`` is a ValueError naming the optimizer and
    the setting, not NaN parameters after the next step.  ``check(value, name, optimizer)`` returns what to keep
    or raises; without one, the setting is a number within the bounds given (checks.number's least, above and
    below).  It has no ``__get__``: reading it finds the value in the instance's ``__dict__``, as for a plain
    attribute, so steps pay nothing for it."""

    @overload
    def __init__(self: _Setting[float], *, least: float | None = None, above: float | None = None,
                 below: float | None = None) -> None: ...
    @overload
    def __init__(self, check: Callable[[Any, str, Any], _Checked]) -> None: ...

    def __init__(self, check: Callable[[Any, str, Any], Any] | None = None, **bounds: float | None) -> None:
        self.check = check or (lambda value, name, optimizer: _number(value, name, optimizer, **bounds))
        # what help() of an optimizer shows under the setting's name: the first line of check's docstring
        what = (check.__doc__ or "").partition("\n")[0] if check else "a number " + " and ".join(
            f"{_BOUND_SIGNS[key]} {bound:g}" for key, bound in bounds.items() if bound is not None)
        self.__doc__ = f"A setting (checked whenever it is set, by hand between steps too): {what}"

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __set__(self, optimizer: Any, value: Any) -> None:
        optimizer.__dict__[self.name] = self.check(value, self.name, optimizer)

    if TYPE_CHECKING:  # for type checkers only: at run time a read never reaches the descriptor
        def __get__(self, optimizer: Any, owner: Any = None) -> _Checked: ...


_BOUND_SIGNS = {"least": ">=", "above": ">", "below": "<"}


def _number(value: Any, name: str, optimizer: Any, **bounds: float | None) -> float:
    """A setting that is a number within ``bounds``."""
    return checks.number(value, name, type(optimizer).__name__, **bounds)


def _one_real(value: Any, name: str, where: str) -> Any:
    """A step size held by a 0-d array, an array or a Value of one number (a schedule's own, ``np.float64`` math or a
    Value it keeps) as that number, a numpy scalar of its dtype (:func:`checks.number` refuses bools, complex numbers,
    NaN, inf); several numbers are a TypeError naming ``name``; anything else is passed on as it is."""
    if isinstance(value, Value):
        value, kind = value.data, "a Value"
    else:
        kind = "an array"
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise TypeError(f"{where}: {name} must be one number, got {kind} of shape {value.shape}")
        value = value.reshape(())[()]
    return value


def checked_learning_rate(value: Any, name: str = "learning_rate", where: str = "checked_learning_rate") -> float:
    """A learning rate η as every optimizer here takes it, as a float: a real number >= 0 (0: a step that changes
    nothing, as in PyTorch: a schedule annealed to 0) or what holds one (a numpy scalar, a 0-d array, a Value of one
    number); anything else is the TypeError or ValueError of the optimizers, naming ``where`` and ``name`` (the plots
    of learning rates check theirs with it).

        >>> checked_learning_rate(np.array(0.1), "learning_rate", "GradientDescent")
        0.1
    """
    return checks.number(_one_real(value, name, where), name, where, least=0)


def _learning_rate(value: Any, name: str, optimizer: Any) -> float:
    """a real number >= 0 (0: a step that changes nothing, as in PyTorch: a schedule annealed to 0)"""
    return checked_learning_rate(value, name, type(optimizer).__name__)


def _initial_step(value: Any, name: str, optimizer: Any) -> float:
    """a real number > 0 (the first step size t the line search tries)"""
    where = type(optimizer).__name__
    step = checks.number(_one_real(value, name, where), name, where)
    if not step > 0:
        raise ValueError(f"{where}: {name} must be > 0, got {step!r}: it is the first step size t the search tries, "
                         "then t·α, t·α², …, so t = 0 is no step and no backtrack from it is one either (every step "
                         "would fail); to stop stepping, stop calling step()")
    return step


def _backtracks(value: Any, name: str, optimizer: Any) -> int:
    """``max_backtracks``: an int >= 0, at most the largest int64 (as state_dict saves it)."""
    return checks.integer(value, name, type(optimizer).__name__, least=0, most=_LARGEST_INT64)


_LARGEST_INT64 = int(np.iinfo(np.int64).max)


def _betas(value: Any, name: str, optimizer: Any) -> tuple[float, float]:
    """Adam's ``betas``: a pair (β₁, β₂), each in [0, 1)."""
    where = type(optimizer).__name__
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{where}: {name} must be a pair (β₁, β₂), got {type(value).__name__} {value!r:.40}")
    if len(value) != 2:
        raise ValueError(f"{where}: {name} must be a pair (β₁, β₂), got {len(value)} numbers")
    return (checks.number(value[0], f"{name}[0]", where, least=0, below=1),
            checks.number(value[1], f"{name}[1]", where, least=0, below=1))


def _rng(seed: Any, name: str, optimizer: Any) -> np.random.Generator:
    """RandomSearch's ``rng``: the numpy Generator its proposals are drawn from (a seed, an int or None, makes one)."""
    return generator(seed, type(optimizer).__name__)


def _scale(value: Any, name: str, optimizer: Any) -> float:
    """RandomSearch's ``scale``: > 0, and the width 2·scale of its draws a finite number of the parameters' type."""
    where = type(optimizer).__name__
    scale = checks.number(value, name, where, above=0)
    dtype = min((p.dtype for p in optimizer.params), key=lambda d: np.finfo(d).max)
    largest = float(np.finfo(dtype).max) / 2
    if scale > largest:
        raise ValueError(f"{where}: {name} must be at most {largest:.4g} (half the largest {dtype} number), "
                         f"got {scale:g}")
    return scale


def _takes(init: Callable[..., None], name: str) -> bool:
    """Whether ``init`` (an optimizer's ``__init__``) takes the keyword ``name``: one of PyTorch's, in an optimizer
    of the user's own, by name or through ``**kwargs`` (a port of a PyTorch optimizer's ``**defaults``; none of the
    optimizers here takes ``**kwargs``)."""
    parameters = inspect.signature(init).parameters
    return name in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


#: The attributes every step writes, which Optimizer and Optimizer.__init__ define (see _checked_setattr).
_WRITTEN_BY_STEPS = frozenset({"_stepped", "last_step_size"})

#: Other names for the learning rate (lower case, without "_"): the seed's η spelt out, PyTorch's lr in capitals,
#: History's step_size; an optimizer has no attribute of these names, so setting one would change no step.
_LEARNING_RATE_WORDS = frozenset({"eta", "η", "lr", "learningrate", "stepsize", "rate"})

#: The seed's Greek letters for settings spelt out here (Armijo's and Newton's σ and α), as keywords, and SGD's
#: momentum μ, which is not the seed's (it has no momentum): :func:`_spelt_out` says which.
_SEED_LETTERS = {"σ": "sigma", "α": "alpha", "μ": "momentum"}


def _spelt_out(letter: str) -> str:
    """Whose ``letter`` is, for the messages: the seed's σ or α (its Armijo rule, 6.2), or μ, which the seed lacks."""
    return "μ spelt out; the seed has no momentum" if letter == "μ" else f"the seed's {letter} spelt out"


#: What the seed's η is on an optimizer without a learning rate (random search's scale, Armijo's first trial step)
_NO_ETA = "it has no learning rate η; the nearest setting is"

#: PyTorch's optimizer arguments that no optimizer here has, and what to do instead.
_NOT_HERE = {
    "weight_decay": "PyTorch's weight_decay=λ is the cost plus λ/2·Σw² (whose gradient adds λw): add that term to "
                    "the cost",
    "nesterov": "the momentum here is SGD's v ← μv + ∇C, x ← x − ηv (heavy ball, not Nesterov's)",
    "dampening": "the momentum here is undampened, v ← μv + ∇C (PyTorch's dampening=0)",
    "amsgrad": "Adam here is the plain Adam of its docstring",
    "maximize": "every optimizer here minimises: minimise the negated cost",
}


def _spelt_as_parameter(init: Callable[..., Any], name: str) -> bool:
    """Whether ``name`` is one of ``init``'s parameters but for case and underscores (``learningrate=``): a slip of
    the hand, which the constructor names as one, not another word for the learning rate."""
    key = name.lower().replace("_", "")
    return any(key == parameter.lower().replace("_", "") for parameter in inspect.signature(init).parameters)


def _defines(cls: type, name: str) -> bool:
    """Whether ``cls`` (or a class it inherits from) defines ``name`` itself, not as a stand-in :class:`checks.Absent`:
    an optimizer of one's own with a default ``lr = 0.01`` or a ``param_groups`` property of its own."""
    for klass in cls.__mro__:
        if name in vars(klass):  # (the nearest definition; lr = None is one too)
            return not isinstance(vars(klass)[name], checks.Absent)
    return False


class Optimizer:
    """Base class: holds ``params`` and knows how to get the gradient (see the module docstring).

    An optimizer of one's own subclasses it: its ``__init__`` calls ``super().__init__(params)`` (which sets
    ``params``, the distinct leaf Values, and ``last_step_size = None``, and keeps the Module given, see
    :attr:`built_from`) and its ``step(closure=None, *, cost=None)``
    (the keyword ``cost=`` is what :func:`tinygrad_edu.fit` passes) begins with ``cost = self._gradient(closure,
    cost)`` (the three ways of the module docstring), takes ``self._finite_gradients(cost)``, the pairs ``(p, g)`` of
    the parameters to change (not frozen, with a gradient, checked finite and of the parameter's shape), changes each
    under ``no_grad()`` (``p -= …``), sets ``self.last_step_size`` (what ``fit`` records as ``History.step_size``;
    None for none) and returns ``cost``.  ``zero_grad()`` and ``repr()`` are inherited.  ``state_dict()`` saves only
    what the class declares, as class attributes: ``_settings`` (names of attributes that are numbers, bools, text or
    tuples of them, checked again on loading by setting them, so a property or a ``_Setting`` that checks its value
    checks them), ``_counters`` (ints >= 0), ``_generators`` (numpy Generators) and ``_parameter_fields`` (each
    parameter's state: ``(name, kind)`` pairs, kind ``"array"``, ``"nonnegative"`` or ``"count"``), handed over by
    ``_parameter_states()`` (a dict ``id(p) → tuple`` in the order of ``_parameter_fields``) and
    ``_set_parameter_states(states)``.  Anything else it keeps (a step counter of a warm-up) is not saved.  The
    names ``lr`` and ``param_groups`` (PyTorch's) are errors saying what to use here, unless the subclass defines
    them itself (a class attribute, a property) or sets them on its instances.
    """

    #: Argument names from PyTorch that this package spells in the seed's words, and the word to use instead.
    _renamed: dict[str, str] = {"lr": "learning_rate"}
    #: What the word of ``_renamed`` is, in the messages: the seed's, or what it means where the seed has none.
    _renamed_means = "the seed's word"
    #: Argument and attribute names from PyTorch that this optimizer has no word for, and what to do instead.
    _absent: dict[str, str] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """PyTorch's ``opt.lr`` and ``opt.param_groups`` read or set by hand are errors that say what to use."""
        super().__init_subclass__(**kwargs)
        example = f"opt.{cls._settings[0]} = ..." if cls._settings else "the settings"
        absent = {"param_groups": "there are no parameter groups here, all parameters share the settings: set one "
                                  f"between steps directly, e.g. {example}; {_ONE_OPTIMIZER_PER_GROUP}"}
        absent.update({name: f"it is called {word} here ({cls._renamed_means}): opt.{word} = ..."
                       for name, word in cls._renamed.items()})
        absent.update(_NOT_HERE)  # (opt.maximize read, as setting it says)
        absent.update(cls._absent)
        for name, advice in absent.items():
            if name not in cls._settings and not _defines(cls, name):
                setattr(cls, name, checks.Absent(name, advice))

    def _checked_setattr(self, name: str, value: Any) -> None:
        """On the optimizers here (not on subclasses of one's own), another one's setting or one of PyTorch's that
        none has (``opt.momentum = 0.9`` on gradient descent: a schedule written for SGD), or a misspelt setting
        (``opt.learnin_rate = 0.1``), is an AttributeError, not a new attribute that no step reads; so is another
        name for the learning rate (``opt.eta``, the seed's η; ``opt.LR``; ``opt.step_size``), which says where this
        optimizer's is, and a setting by the seed's letter (Armijo's ``opt.σ``), which says its name here.  A name
        with advice of the optimizer's own (Armijo's ``learning_rate``: its ``initial_step``) gets that advice, from
        :class:`checks.Absent`, as reading it does.  New ``params`` (``opt.params = model.parameters()`` after a
        layer was replaced) are checked as the constructor checks them, and the state
        kept for the Values left out (momentum, Adam's averages: kept by ``id``) is dropped with them: it would
        otherwise pile up, and be given to a later Value that Python placed at a freed one's address."""
        if name in _WRITTEN_BY_STEPS:  # (names every optimizer has, which none of the checks below refuses: 1 µs a
            super().__setattr__(name, value)  # step less, of its two writes)
            return
        if type(self).__module__ == __name__ and name not in self._settings and not hasattr(self, name):
            if name in self._renamed or name in self._absent:  # (the Absent's own error, below)
                advice = ""
            elif name.lower().replace("_", "") in _LEARNING_RATE_WORDS:
                advice = self._learning_rate_advice()
            elif name in _SEED_LETTERS:  # (opt.σ = 0.1: the seed's letter, a setting spelt out, maybe another's)
                advice = _letter_advice(type(self), name)
            else:
                advice = _SETTINGS_ELSEWHERE.get(name) or _misspelt(name, self._settings)
            if advice:
                raise AttributeError(f"{type(self).__name__} has no attribute {name}: {advice}", name=name, obj=self)
        if name == "params" and "params" in vars(self):  # opt.params = model.parameters() after a layer was replaced
            given, value = value, _trainable(value, f"{type(self).__name__}.params")
            kept = {id(p) for p in value}  # (the old list still holds the Values left out: no id is reused yet)
            self._set_parameter_states({key: state for key, state in self._parameter_states().items() if key in kept})
            self._built_from = _module_of(given)  # (a list chosen by hand: none of the Module's others are missed)
        super().__setattr__(name, value)

    if not TYPE_CHECKING:  # (hidden from type checkers, which would take opt.lr = 0.5 for a setting)
        __setattr__ = _checked_setattr

    def __dir__(self) -> list[str]:
        """Its attributes, without the PyTorch names that are only there to say they are not (``lr``, …)."""
        return checks.present(self, super().__dir__())

    @classmethod
    def _learning_rate_word(cls) -> str | None:
        """The name of this optimizer's learning rate (``learning_rate``, Armijo's ``initial_step``, random search's
        ``scale``), None where it has none (Newton)."""
        return "learning_rate" if "learning_rate" in cls._settings else cls._renamed.get("learning_rate")

    @classmethod
    def _learning_rate_advice(cls) -> str:
        """Where this optimizer's learning rate is, or why it has none (Newton)."""
        word = cls._learning_rate_word()
        if word is None:
            return cls._absent.get("learning_rate", "")
        if word == "learning_rate":
            return f"the learning rate η is called {word} here: opt.{word} = ..."
        return f"{_NO_ETA} {word} here ({cls._renamed_means}): opt.{word} = ..."

    def __new__(cls, *args: Any, **kwargs: Any) -> Optimizer:
        for name in kwargs:
            learning_rate = name.lower().replace("_", "") in _LEARNING_RATE_WORDS and not _spelt_as_parameter(
                cls.__init__, name)  # (the seed's η, spelt or not; learningrate= is a slip, said below)
            letter = _SEED_LETTERS.get(name)  # (σ, α or μ: this optimizer's setting, or another's)
            if (name in cls._renamed or name in cls._absent or name in _NOT_HERE or learning_rate or letter) \
                    and _takes(cls.__init__, name):
                continue  # (an optimizer of one's own that takes lr= or weight_decay= itself)
            renamed = cls._renamed.get(name) or (cls._learning_rate_word() if learning_rate else None)
            if renamed:
                said = "it is called" if not learning_rate or name in cls._renamed else (
                    "the learning rate η is called" if renamed == "learning_rate" else _NO_ETA)
                raise TypeError(f"{cls.__name__}: there is no argument {name}=; {said} {renamed}= here "
                                f"({cls._renamed_means}), e.g. {cls.__name__}(model, {renamed}=...)")
            if letter in cls._settings:
                raise TypeError(f"{cls.__name__}: there is no argument {name}=; it is called {letter}= here "
                                f"({_spelt_out(name)}), e.g. {cls.__name__}(model, {letter}=...)")
            if letter:
                raise TypeError(f"{cls.__name__}: there is no argument {name}= here; {_elsewhere(name)}")
            advice = cls._absent.get(name) or _NOT_HERE.get(name) or (
                cls._absent.get("learning_rate") if learning_rate else None)
            if advice:
                raise TypeError(f"{cls.__name__}: there is no argument {name}= here; {advice}")
        slip = checks.misspelt_keyword(cls.__init__, kwargs) if kwargs else ""  # (learning_rat=0.1)
        if slip:
            raise TypeError(f"{cls.__name__}: {slip}")
        other = next((name for name in kwargs if name in _SETTINGS_ELSEWHERE and name not in cls._settings
                      and not _takes(cls.__init__, name)), None)  # (its own settings, the common case, at once)
        if other is not None:  # another optimizer's setting (SGD(betas=...): Adam's)
            raise TypeError(f"{cls.__name__}: there is no argument {other}= here; {_SETTINGS_ELSEWHERE[other]}")
        return super().__new__(cls)

    #: The Module the optimizer was built from (a weak reference; None: a list of Values), for :attr:`built_from`.
    _built_from: weakref.ref[Any] | None = None

    def __init__(self, params: Any) -> None:
        self.params: list[Value] = _trainable(params, type(self).__name__)
        self._built_from = _module_of(params)
        #: The step size of the latest step (the learning rate, Armijo's accepted ``t``, None for random search).
        self.last_step_size: float | None = None

    @property
    def built_from(self) -> Any:
        """The Module this optimizer was built from (``Adam(model)``), while it lives; None where it was built from
        Values (``model.parameters()``, a list) or its ``params`` were set since from a list.  Its parameters are
        those the Module had then: :func:`tinygrad_edu.fit` refuses a model whose Module has parameters the
        optimizer lacks (a layer added or replaced since, or one unfrozen since), which no step would train.  A
        copy of the optimizer (``copy.deepcopy``, pickle) has none."""
        return None if self._built_from is None else self._built_from()

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget all gradients before computing new ones: each ``grad`` becomes None (``set_to_none=False``, as in
        PyTorch: zeros where there was a gradient)."""
        if checks.flag(set_to_none, "set_to_none", "zero_grad"):
            for p in self.params:
                p.grad = None
        else:
            for p in self.params:
                p.zero_grad(set_to_none=False)

    def _check_step(self, closure: Any, cost: Any, *, needs_closure: bool = False) -> None:
        """``step``'s arguments: a closure (a function of no arguments) or None; a cost that is a number or None.
        (The step's name is made only for a message: fit's every update passes these checks.)"""
        if closure is None and needs_closure:
            raise TypeError(f"{type(self).__name__}.step: needs a closure, a function of no arguments that returns the "
                            "cost for the current parameters, to try steps")
        if closure is not None and not callable(closure):
            raise TypeError(f"{type(self).__name__}.step: the closure must be a function of no arguments that returns "
                            f"the cost, got {type(closure).__name__} {closure!r:.40}")
        if cost is not None and not _is_cost(cost):
            shown = getattr(cost, "shape", None) or f"{cost!r:.40}"  # (an array by its shape, anything else its repr)
            raise TypeError(f"{type(self).__name__}.step: cost= must be the cost at the current parameters (a Value of "
                            f"size 1 or a number) or None, got {type(cost).__name__} {shown}")
        if needs_closure and isinstance(cost, Value):  # the methods that judge their steps by the cost's number
            self._check_current(cost, f"{type(self).__name__}.step")

    def _check_current(self, cost: Value, where: str) -> None:
        """A cost= given as a Value must be the cost at the parameters as they are: one computed before a step (or
        any change of a parameter's numbers) is the cost at a point that is gone, which Armijo would take as f(x) and
        accept a rise, and random search keep a worse point (gradient descent, SGD and Adam use only the gradients,
        which PyTorch's steps also take as they are).  The engine numbers each Value, and each change of a
        leaf's numbers, in order (``_order``, counting down: how its backward() finds a stale graph), so a parameter
        changed after the cost was computed has a lower number than the cost's (the same only for the cost itself).
        The Values it depends on that this optimizer does not hold (another optimizer's, training another part of the
        model) are checked by a walk of its graph, which refuses a changed input as backward does."""
        for i, p in enumerate(self.params):
            if p._order < cost._order:
                raise ValueError(f"{where}: cost= was computed before {_parameter(i, p)} was last "
                                 "changed (by a step, .data = … or -= under no_grad) or made, so it is the cost at a "
                                 "point that is gone: compute it again at the current parameters, with a new forward "
                                 "pass (and backward(), for the gradients); the parameters are unchanged")
        try:  # the Values it depends on besides this optimizer's: another optimizer's, changed by its step since
            backward_order(cost)  # (it refuses a graph with an input changed after it was used, as backward does)
        except ValueError as error:
            changed = getattr(error, "changed", None)  # (set on the stale-graph error only)
            if changed is None:
                return
            name = repr(changed.label) if changed.label else f"a Value of shape {changed.shape}"
            raise ValueError(f"{where}: cost= was computed before {name}, which it depends on and this optimizer does "
                             "not hold, was last changed (by another optimizer's step, .data = … or -= under no_grad), "
                             "so it is the cost at a point that is gone: compute it again at the current parameters, "
                             "with a new forward pass (and backward(), for the gradients); the parameters are "
                             "unchanged") from None

    def _gradient(self, closure: Closure | None, cost: Any, *, needs_closure: bool = False) -> Any:
        """Make sure the parameters hold the gradient at the current point; returns the cost (or None)."""
        self._check_step(closure, cost, needs_closure=needs_closure)
        # not ∇C = 0: no gradient was computed (the first parameter's gradient settles the common case at once)
        params = self.params
        if params and params[0].grad is None and all(p.grad is None for p in params):
            if cost is not None:
                raise self._no_gradient(cost)
            if closure is None and any(p.requires_grad for p in params):  # (left alone, as PyTorch leaves them,
                # but not silently: it looks like training; all frozen, _gradients says so)
                warnings.warn(f"{type(self).__name__}.step: no parameter has a gradient, so the step changes "
                              "nothing: call cost.backward() first, and zero_grad() before it, not between it and "
                              "step() (that clears the gradients); if you did, the cost depends on none of the "
                              f"optimizer's {checks.counted(len(params), 'parameter')}: "
                              f"{self._other_values_advice()}", RuntimeWarning,
                              stacklevel=checks.outside_the_package())
        if needs_closure and isinstance(cost, Value) and cost.grad is None:  # Armijo pairs f(x) with ∇f(x)
            raise ValueError(f"{type(self).__name__}.step: cost= was given but not backpropagated (its grad is None), "
                             "so the parameters' gradients are those of another cost, such as the one before the "
                             "last step: call cost.backward() first (after zero_grad()), or leave cost= out and the "
                             "step computes both; the parameters are unchanged")
        if cost is not None or closure is None:
            return cost
        cost = cost_with_gradient(closure, self.params, f"{type(self).__name__}.step: the closure",
                                  hint=self._not_finite)[0]
        if params[0].grad is None and all(p.grad is None for p in params):  # (as fit refuses it)
            raise self._reached_none()
        return cost

    #: What a NaN or infinite cost at the current parameters is put down to (:func:`cost_with_gradient`'s ``hint``).
    _not_finite = _DIVERGED

    def _reached_none(self, whose: str = "the closure's cost") -> ValueError:
        """The error for a closure whose cost depends on none of the parameters (backward() reached none of them)."""
        return ValueError(f"{type(self).__name__}.step: {whose} depends on none of the optimizer's "
                          f"{checks.counted(len(self.params), 'parameter')} (backward() reached none of them), so the "
                          f"step would change nothing: {self._other_values_advice()}; the parameters are unchanged")

    def _other_values_advice(self) -> str:
        """What to do about a cost computed without this optimizer's parameters."""
        if not any(p.requires_grad for p in self.params):
            return f"all of them are frozen (requires_grad=False): {_UNFREEZE}, or build the optimizer from the " \
                   "parameters to train"
        return ("compute it with the Values the optimizer was built from (a model built again, model = "
                "nn.MLP(...), copied with copy.deepcopy or pickle, or read with nn.load, has Values of its own: build "
                "an optimizer from it)")

    def _no_gradient(self, cost: Any) -> ValueError:
        """The error for ``step(cost=c)`` where no parameter holds a gradient: a backpropagated ``c`` reached none of
        them, or ``zero_grad()`` ran since (the cost of a model built again after the optimizer, or of a copy, reaches
        other Values)."""
        where = f"{type(self).__name__}.step"
        if isinstance(cost, Value) and cost.grad is not None:  # backpropagated: zero_grad() since, or reached none
            return ValueError(f"{where}: cost= was given but no parameter has a gradient, though cost.backward() was "
                              "called: either zero_grad() ran since (call it before backward()), or the cost depends "
                              f"on none of the optimizer's {checks.counted(len(self.params), 'parameter')}: "
                              f"{self._other_values_advice()}; the parameters are unchanged")
        return ValueError(f"{where}: cost= was given but no parameter has a gradient; call cost.backward() first "
                          "(as fit does), or leave cost= out and the step computes both")

    def _gradients(self) -> list[tuple[Value, np.ndarray]]:
        """Each parameter that has a gradient and is not frozen, with the gradient's numbers, checked before anything
        changes: of the parameter's shape (numpy would broadcast a row over a matrix) and real (bool, int or float, as
        a Value holds), and the parameter's numbers writeable, else a ValueError or TypeError naming the parameter."""
        gradients = []
        for p in self.params:
            g = p.grad
            if g is None or not p.requires_grad:  # frozen: left alone, even holding a gradient from before
                continue
            if g.__class__ is not _ndarray:
                g = _numbers(g, f"{type(self).__name__}.step")
            data = p.data
            if g.shape != data.shape or g.dtype.kind not in "fiub" or not data.flags.writeable:
                self._refuse_gradient(p, g)
            gradients.append((p, g))
        if not gradients and self.params and not any(p.requires_grad for p in self.params):
            self._warn_all_frozen()
        return gradients

    def _warn_all_frozen(self) -> None:
        """Say that a step changes nothing because every parameter is frozen: PyTorch's unfreezing loop, ``for p in
        model.parameters(): p.requires_grad = True``, unfreezes nothing here (``parameters()`` leaves the frozen ones
        out), so a network frozen for another network's step (a GAN's discriminator) would silently never train
        again."""
        warnings.warn(f"{type(self).__name__}.step: all {checks.counted(len(self.params), 'parameter')} of this "
                      "optimizer are frozen (requires_grad=False), so the step changes nothing; unfreeze them with "
                      "model.requires_grad_(True) (a loop over model.parameters() cannot: it leaves the frozen ones "
                      "out)", RuntimeWarning, stacklevel=checks.outside_the_package())

    def _refuse_gradient(self, p: Value, g: np.ndarray) -> None:
        """The error for the gradient ``g`` of parameter ``p``, of another shape or not of real numbers, or for a
        parameter whose numbers are read-only (``p.data = a`` keeps a read-only ``a``), which the update would fail on
        after updating the parameters before it."""
        where = f"{type(self).__name__}.step"
        i = next(i for i, q in enumerate(self.params) if q is p)
        if not p.data.flags.writeable:
            raise self._read_only(i, p)
        if g.dtype.kind not in "fiub":
            raise TypeError(f"{where}: {_parameter(i, p)} has a grad of dtype {g.dtype} (shape "
                            f"{g.shape}); a gradient holds real numbers (float, int or bool); the parameters are "
                            "unchanged")
        raise ValueError(f"{where}: {_parameter(i, p)} has a grad of shape {g.shape}; a gradient has "
                         "its parameter's shape (as backward() leaves it); the parameters are unchanged")

    def _read_only(self, i: int, p: Value) -> ValueError:
        """The error for parameter ``p`` (number ``i``), whose numbers are read-only: a step cannot change them."""
        if held_by_a_walk(p.data, in_this_thread=True):  # (a step run by a vjp or hook of the walk itself)
            return ValueError(f"{type(self).__name__}.step: {_parameter(i, p)} holds read-only numbers: a backward "
                              "pass under detect_anomaly in this thread, whose vjp or hook runs this step, holds them "
                              "read-only until it ends; step after backward() returns; the parameters are unchanged")
        if held_by_a_walk(p.data):  # (a copy would cut the parameter off from that walk's graph: not advised)
            return ValueError(f"{type(self).__name__}.step: {_parameter(i, p)} holds read-only numbers: a backward "
                              "pass under detect_anomaly (in another thread) holds them read-only until it ends; "
                              "step after it (join that thread, or hold one lock around backward and step); the "
                              "parameters are unchanged")
        return ValueError(f"{type(self).__name__}.step: {_parameter(i, p)} holds read-only numbers (its .data was set "
                          "to a read-only array, such as a view of a broadcast or of fit's inputs), which a step "
                          "cannot change: give it a copy, p.data = p.data.copy(); the parameters are unchanged")

    def _check_writeable(self) -> None:
        """Before a step that writes every parameter it trains (random search, Newton: not frozen ones), each one's
        numbers must be writeable, else the error naming it, before anything changes (numpy's own, "assignment
        destination is read-only", names no parameter)."""
        for i, p in enumerate(self.params):
            if p.requires_grad and not p.data.flags.writeable:
                raise self._read_only(i, p)

    def _check_kept(self, p: Value, g: np.ndarray, kept: np.ndarray | None, what: str) -> None:
        """The state kept for parameter ``p`` from earlier steps (its ``what``; None before the first) must have the
        shape of its gradient ``g``: after ``p.data = …`` of another shape numpy would broadcast the two, or fail in
        its own words."""
        if kept is None or kept.shape == g.shape:
            return
        i = next(i for i, q in enumerate(self.params) if q is p)
        raise ValueError(f"{type(self).__name__}.step: {_parameter(i, p, shape=False)} has shape {p.shape}, but the "
                         f"state kept for it from earlier steps ({what}) has shape {kept.shape}: its numbers were "
                         "replaced by ones of another shape (.data = …); give it numbers of its old shape, or make a "
                         "new optimizer for it; the parameters are unchanged")

    def _finite_gradients(self, cost: Any = None) -> list[tuple[Value, np.ndarray]]:
        """The gradients, after checking that they hold no NaN or inf: the sum of their squares carries NaN and inf
        over, and only a sum that is not finite needs the element-wise check (it overflows for finite numbers too,
        above about 1.3e154, 1.8e19 in float32: np.vdot, unlike np.sum, then gives inf without numpy's "overflow
        encountered" warning, or its FloatingPointError under a caller's np.errstate(over="raise"), and costs less).
        One concatenation and one sum cost less than a check per small array.  Where they do, the graph of ``cost``
        (the step's, if a Value) is searched for a logarithm of a probability rounded to 0, whose ∂/∂p is 0/0 even
        where the cost is finite (ln softmax(x)[a]): a smaller learning rate would not help there."""
        gradients = self._gradients()
        flat = _concatenate([g for _, g in gradients], axis=None) if gradients else np.zeros(0)  # (each raveled)
        total = (_vdot_of_arrays if flat.__class__ is _ndarray else _vdot)(flat, flat)  # Σ g² (see gradient_norm)
        if not math.isfinite(total) and not np.isfinite(flat).all():
            cause = _log_of_zero(cost, lead="; a logarithm in the cost gave −inf (ln 0)") if isinstance(cost, Value) \
                else ""
            raise FloatingPointError(f"{type(self).__name__}.step: the gradient holds NaN or inf; the parameters "
                                     f"are unchanged{cause or ' (try a smaller learning rate)'}")
        self._check_not_stepped(gradients, flat)
        return gradients

    #: The ``.grad`` objects the latest step used (weak references, in the order of its gradients) and a copy of
    #: their numbers (the step's concatenation, kept): backward() assigns new arrays, never adds into the old ones, so
    #: finding them all again, holding the same numbers (not written over in place, x.grad[...] = …, x.grad *= -1),
    #: means no backward pass since.
    _stepped: tuple[list[weakref.ref[Any]], Any] = ([], None)
    #: The update a step makes, what likely led it beyond the dtype's numbers, and the setting to make smaller, for
    #: the error of an update that numpy refused under a caller's ``np.errstate`` (``_update_refused``).
    _update_rule: tuple[str, str, str] = ("x ← x − η·∇C", "the steps diverged", "the learning rate")

    def _check_not_stepped(self, gradients: list[tuple[Value, np.ndarray]], flat: np.ndarray) -> None:
        """A step whose gradients are all those the previous step used (``flat``: their numbers, one array) repeats
        it: no backward() reached the parameters since (the cost was computed with other Values, a model built again
        or a copy's, or backward() was left out), which looks like training while the model stays as it is.  A
        RuntimeWarning (the step is made, as PyTorch makes it: a gradient set by hand may be meant to be used
        again); well under 1 µs a parameter."""
        stepped, stepped_flat = self._stepped
        # (the first gradient settles the common case, a new one, before the walk's zip and generator are made)
        if gradients and len(stepped) == len(gradients) and stepped[0]() is gradients[0][0].grad and all(
                ref() is p.grad for ref, (p, _) in zip(stepped, gradients, strict=True)) \
                and np.array_equal(flat, stepped_flat):  # (a sum of squares would miss x.grad *= -1)
            warnings.warn(f"{type(self).__name__}.step: the parameters hold the gradients the previous step used (no "
                          "backward() has reached them since), so this step repeats it: compute the cost again with "
                          "the Values the optimizer holds and call backward() first (a model built again, model = "
                          "nn.MLP(...), or copied apart from the optimizer, with copy.deepcopy or pickle, has Values "
                          "of its own: build an optimizer from it)", RuntimeWarning,
                          stacklevel=checks.outside_the_package())
        self._stepped = [weakref.ref(p.grad) for p, _ in gradients], flat

    def step(self, closure: Closure | None = None, *, cost: Any = None) -> Any:
        """Change the parameters once; returns the cost before the change (None if not computed)."""
        raise NotImplementedError

    @contextlib.contextmanager
    def _reports_kept_on_failure(self) -> Iterator[None]:
        """A step whose search raises (its closure fails in a trial, or Ctrl-C) keeps the reports of the step before
        (``last_*``), which describe a step that happened; the parameters the search puts back itself."""
        before = {name: value for name, value in vars(self).items() if name.startswith("last_")}
        try:
            yield
        except BaseException:
            self.__dict__.update(before)
            raise

    def __repr__(self) -> str:
        """The settings, read as a step reads them (a property of a subclass's too); one whose __init__ raised
        before setting them all says so, rather than passing for one built with the rest."""
        values = [getattr(self, name, _Setting) for name in self._settings]  # (unset: the _Setting itself)
        if any(value is _Setting or isinstance(value, _Setting) for value in values):
            return f"{type(self).__name__}(<not initialised>)"
        return f"{type(self).__name__}(" + ", ".join(f"{name}={value!r}" for name, value in
                                                     zip(self._settings, values, strict=True)) + ")"

    _settings: tuple[str, ...] = ()

    # --- what the optimizer keeps between steps, for state_dict() / load_state_dict() (packed by optim_state) ---
    #: Counts (ints >= 0; each at most the next, which counts it among others) and numpy random generators that
    #: steps carry on, by attribute name.
    _counters: tuple[str, ...] = ()
    _generators: tuple[str, ...] = ()
    #: Each parameter's state, in order: a name and its kind: "array" (shaped like the parameter, finite),
    #: "nonnegative" (the same, >= 0, +inf allowed: an average of squares may overflow) or "count" (a step count,
    #: an int >= 1).
    _parameter_fields: tuple[tuple[str, str], ...] = ()

    def _parameter_states(self) -> dict[int, tuple[Any, ...]]:
        """Each parameter's state (values in the order of ``_parameter_fields``), by ``id`` of the parameter."""
        return {}

    def _set_parameter_states(self, states: dict[int, tuple[Any, ...]]) -> None:
        """Replace every parameter's state (parameters missing from ``states`` start afresh)."""

    def __getstate__(self) -> dict[str, Any]:
        """For pickle and ``copy.deepcopy``: each parameter's state by its position too, since it is kept by ``id``
        of the parameter, which the copied parameters do not share."""
        state = dict(vars(self))
        state.pop("_stepped", None)  # (weak references: a copy's gradients are other objects anyway)
        state.pop("_built_from", None)  # (a weak reference too, which pickle cannot take: a copy has none)
        kept = self._parameter_states()
        state["_states_by_position"] = {i: kept[id(p)] for i, p in enumerate(self.params) if id(p) in kept}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        by_position = state.pop("_states_by_position", {})
        self.__dict__.update(state)
        self._set_parameter_states({id(self.params[i]): kept for i, kept in by_position.items()})

    def state_dict(self) -> dict[str, np.ndarray]:
        """Everything this optimizer needs to go on exactly where it stands, as a flat dict of numpy arrays (copies).

        ``"optimizer"`` (its class name), ``"parameter_count"``, the settings by name (``"learning_rate"``, …,
        as 0-d arrays; Adam's ``"betas"`` as a pair), counts (RandomSearch's ``"accepted"``), a random generator's
        state (``"rng"``, as JSON text) and each parameter's state by its position, e.g.
        ``"state.3.velocity"`` (none for a parameter that never had a gradient).  The reports of the latest step
        (``last_step_size``, ``last_cost``, …) are not part of it.  It is saved with ``np.savez(path, **state)``
        and read back, bit for bit, with ``np.load(path, allow_pickle=False)``:

            >>> import io
            >>> import numpy as np
            >>> from tinygrad_edu import Value, optim
            >>> x = Value([3.0, -2.0])
            >>> opt = optim.Adam([x], learning_rate=0.1)
            >>> _ = opt.step(lambda: (x * x).sum())
            >>> file = io.BytesIO()                     # or a path, such as "adam.npz"
            >>> np.savez(file, **opt.state_dict())
            >>> _ = file.seek(0)
            >>> resumed = optim.Adam([x])               # its settings, averages and step counts come back
            >>> resumed.load_state_dict(np.load(file, allow_pickle=False))
            >>> resumed.learning_rate, resumed.state_dict()["state.0.step_count"]
            (0.1, array(1))
        """
        return optim_state.state_dict(self)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Go on from ``state``, made by :meth:`state_dict` of an optimizer of this kind whose parameters had the
        shapes and dtypes of these, in this order (restore the model itself with its own ``load_state_dict``).

        Everything is checked before anything changes: the kind of optimizer, the number of parameters, no missing
        or extra keys, every entry a numpy array, the settings (as the constructor checks them), each parameter's
        arrays (its shape and dtype, finite; an average of squares >= 0, +inf allowed, as an overflow leaves it) and
        the random generator's state.  A bad state raises ``ValueError``
        (``TypeError`` for what is not a mapping of arrays) naming the key at fault, and the optimizer stays as it was.
        An entry edited with numpy (``state["learning_rate"] = state["learning_rate"] * 0.1``, a numpy scalar) counts
        as its 0-d array.
        """
        optim_state.load_state_dict(self, state)
        self._stepped = [], None  # (gone back to a saved point: the same gradients again repeat no step of its own)


class GradientDescent(Optimizer):
    """``x ← x − η ∇C(x)`` with a fixed learning rate ``η`` (seed 7.1 and 7.2).

    With the full training set as one batch this is the seed's learning algorithm: the gradient is the average
    over all samples (the cost averages over them), then one update per episode.
    """

    _settings = ("learning_rate",)
    learning_rate = _Setting(_learning_rate)

    def __init__(self, params: Any, learning_rate: float) -> None:
        super().__init__(params)
        self.learning_rate = learning_rate

    def step(self, closure: Closure | None = None, *, cost: Any = None) -> Any:
        cost = self._gradient(closure, cost)
        gradients = self._finite_gradients(cost)
        rate = self.learning_rate  # read once (a checked setting, see _Setting)
        with _update_blocks(self, gradients):
            # recording off as no_grad() turns it off, without its block's bookkeeping of blocks opened and closed
            # out of order (2 µs, 1 % of the x² update): the body opens no block (a parameter's own -=, a Value
            # subclass's, runs with recording off, as under no_grad, and the switch is put back whatever it does)
            recording = GRAD_ENABLED.set(False)
            try:
                # every η·∇C first: one that underflows or overflows under a caller's np.errstate(all="raise")
                # raises before any parameter changes (one product a parameter either way); x − η·∇C may still
                # overflow partway, and _undone_on_error then puts back the parameters changed before it
                steps = [(p, rate * g) for p, g in gradients]
                for p, step in steps:
                    p -= step
            finally:
                GRAD_ENABLED.reset(recording)
            self.last_step_size = rate
        return cost


class SGD(Optimizer):
    """Gradient descent on batches, with momentum ``μ``: ``v ← μ v + ∇C``, ``x ← x − η v``.

    ``momentum=0`` is plain gradient descent; feed it mini-batches (``fit(..., batch_size=32)``) for the
    stochastic version that seed section 7.4 mentions.  Both may be changed between steps: a new learning rate
    scales the whole velocity from the next step on, and a step with ``momentum=0`` keeps no velocity, so momentum
    set again later starts afresh from ``v = ∇C``, as the first step does (not from a velocity of long before).
    """

    _settings = ("learning_rate", "momentum")
    _update_rule = ("x ← x − η·v", "the steps diverged", "the learning rate")
    learning_rate, momentum = _Setting(_learning_rate), _Setting(least=0, below=1)

    def __init__(self, params: Any, learning_rate: float, momentum: float = 0.0) -> None:
        super().__init__(params)
        self.learning_rate = learning_rate
        self.momentum = momentum
        self._velocity: dict[int, np.ndarray] = {}

    _parameter_fields = (("velocity", "array"),)

    def _parameter_states(self) -> dict[int, tuple[Any, ...]]:
        return {key: (velocity,) for key, velocity in self._velocity.items()}

    def _set_parameter_states(self, states: dict[int, tuple[Any, ...]]) -> None:
        self._velocity = {key: velocity for key, (velocity,) in states.items()}

    def step(self, closure: Closure | None = None, *, cost: Any = None) -> Any:
        cost = self._gradient(closure, cost)
        gradients = self._finite_gradients(cost)
        rate, momentum = self.learning_rate, self.momentum
        if momentum:
            for p, g in gradients:
                self._check_kept(p, g, self._velocity.get(id(p)), "velocity")
        with _update_blocks(self, gradients), _NOT_RECORDING:
            # every velocity and η·v first: one that underflows or overflows under a caller's
            # np.errstate(all="raise") raises before any parameter or velocity changes (as for GradientDescent)
            steps = []
            for p, g in gradients:
                if momentum:
                    velocity = self._velocity.get(id(p))
                    # kept in the parameter's dtype, as state_dict saves it (after model.float() a resumed run
                    # would otherwise go on from rounded velocities)
                    g = g.copy() if velocity is None else velocity.astype(p.dtype, copy=False) * momentum + g
                steps.append((p, g, rate * g))
            for p, velocity, step in steps:
                if momentum:
                    self._velocity[id(p)] = velocity
                p -= step
            if not momentum and self._velocity:  # v ← 0·v + ∇C: none kept (see the docstring)
                self._velocity.clear()
            self.last_step_size = rate
        return cost


#: A parameter's Adam state before its first step: k = 0, m = v = 0 (numbers: β·0 + (1 − β)·g is g's array).
_ADAM_START = (0, 0.0, 0.0)


class Adam(Optimizer):
    """Adam: steps by running averages of the gradient ``m`` and of its square ``v``, bias-corrected.

    ``m ← β₁m + (1−β₁)g``, ``v ← β₂v + (1−β₂)g²``, ``x ← x − η · m̂ / (√v̂ + ε)`` with ``m̂ = m/(1−β₁ᵏ)``,
    ``v̂ = v/(1−β₂ᵏ)``, where ``k`` counts the steps of *this* parameter (those in which it had a gradient), as
    in PyTorch: a parameter's first update is ``η · g/(|g| + ε)``, about ``η·sign(g)``, whenever it comes.
    A gradient whose square overflows (``|g|`` above about 1.3e154, 1.8e19 in float32) makes ``v`` inf, and every
    later step of its parameter 0, as in PyTorch: a RuntimeWarning names the parameter.
    The settings may be changed between steps (a learning-rate schedule), as in PyTorch: the averages and step
    counts go on, and the next step uses the new ``η``, ``β``'s and ``ε`` (``1 − β₁ᵏ`` with the new ``β₁``).
    """

    _settings = ("learning_rate", "betas", "eps")
    _update_rule = ("x ← x − η·m̂/(√v̂ + ε)", "the steps diverged", "the learning rate")
    learning_rate, betas, eps = _Setting(_learning_rate), _Setting(_betas), _Setting(above=0)

    def __init__(self, params: Any, learning_rate: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        super().__init__(params)
        self.learning_rate, self.betas, self.eps = learning_rate, betas, eps
        self._state: dict[int, tuple[int, np.ndarray, np.ndarray]] = {}  # per parameter: k, m, v

    _parameter_fields = (("step_count", "count"), ("gradient_average", "array"),
                         ("squared_gradient_average", "nonnegative"))

    def _parameter_states(self) -> dict[int, tuple[Any, ...]]:
        return dict(self._state)

    def _set_parameter_states(self, states: dict[int, tuple[Any, ...]]) -> None:
        self._state = dict(states)

    def step(self, closure: Closure | None = None, *, cost: Any = None) -> Any:
        cost = self._gradient(closure, cost)
        gradients = self._finite_gradients(cost)
        beta1, beta2 = self.betas
        rate, eps = self.learning_rate, self.eps
        for p, g in gradients:
            kept = self._state.get(id(p))
            self._check_kept(p, g, None if kept is None else kept[1], "gradient averages")
        overflowed: tuple[Value, np.ndarray, np.ndarray] | None = None  # (said after the update, in Adam's words)
        # the averages with overflows and underflows ignored (a g² that underflows to 0 is harmless, ε dominates √v̂
        # there; one that overflows is said below), then x − η·m̂/(√v̂ + ε) under the caller's error state for
        # overflows (an inf written into a parameter), undone in full (the averages and step counts too) if it raises
        with _whole_update(), _NOT_RECORDING, _undone_on_error(self, gradients) as updating:
            with _updating(over="ignore", under="ignore"):
                updates = []
                for p, g in gradients:
                    k, m, v = self._state.get(id(p), _ADAM_START)  # m = v = 0 at first: no arrays to allocate
                    if k:  # in the parameter's dtype, as state_dict saves them (after model.float(), say)
                        m, v = np.asarray(m, dtype=p.dtype), np.asarray(v, dtype=p.dtype)
                    kept_v = v
                    k, m, v = k + 1, beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * (g * g)
                    if overflowed is None and not np.isfinite(v).all() and np.isfinite(kept_v).all():  # (said once)
                        overflowed = p, g, v
                    self._state[id(p)] = (k, m, v)
                    updates.append((p, m / (1 - beta1 ** k), np.sqrt(v / (1 - beta2 ** k)) + eps))  # (p, m̂, √v̂ + ε)
            with _updating(under="ignore"):
                for p, m_hat, denominator in updates:
                    if updating is not None:  # (under a caller's np.errstate(invalid="raise"): named if refused)
                        updating.append(p)
                    p -= rate * m_hat / denominator
            self.last_step_size = rate
        if overflowed is not None:
            self._warn_overflow(*overflowed)
        return cost

    def _warn_overflow(self, p: Value, g: np.ndarray, v: np.ndarray) -> None:
        """Say that the square of ``p``'s gradient ``g`` overflowed: its average ``v`` is inf for good where it did,
        so every later step of those numbers of ``p``, ``m̂/(√v̂ + ε)``, is 0, as in PyTorch (numpy said only
        "overflow encountered in multiply"); the others go on moving."""
        i = next(i for i, q in enumerate(self.params) if q is p)
        stuck, size = int(np.count_nonzero(~np.isfinite(v))), int(np.size(v))
        which = "so it will not move" if stuck == size else f"so {stuck} of its {size} numbers will not move"
        warnings.warn(f"Adam.step: the square of the gradient of {_parameter(i, p, shape=False)} overflowed "
                      f"{v.dtype} (|g| up to {float(np.abs(g).max()):.3g}, above √max ≈ "
                      f"{math.sqrt(float(np.finfo(v.dtype).max)):.3g}): its average v is inf there, {which} "
                      "again (m̂/(√v̂ + ε) = 0, as in PyTorch); scale the cost down or clip the gradients, and start "
                      "a new optimizer", RuntimeWarning, stacklevel=checks.outside_the_package())


class Armijo(Optimizer):
    """Gradient descent with the Armijo step size (seed 6.2.1, step (ii)).

    Direction ``d = −∇f(x)``; step ``t = αˡ`` (times ``initial_step``) for the smallest ``l = 0, 1, 2, …``
    (the largest step) with

        ``f(x + t·d) ≤ f(x) + σ·t·∇f(x)ᵀd``,   σ ∈ (0, 1), α ∈ (0, 1)

    then ``x ← x + t·d``.  With ``initial_step=1`` this is the seed's ``t = αˡ`` exactly; the search itself is
    :func:`armijo_step`, which the plots use too.  The seed uses its letters twice: this σ (``sigma=``) is Armijo's
    constant, not the activation function σ of a layer, and α (``alpha=``) the base of the powers αˡ (l an
    exponent), not an activation α^l (l a layer).  ``step(closure)``
    needs the closure (the cost for the current parameters, forward only) to try the steps; ``f(x)`` and
    ``∇f(x)`` come from ``cost=`` with the gradients already in place, or else from the closure and a backward
    pass (see the module docstring).  So gradients changed by hand after ``backward()`` (clipped, say) count only
    with ``cost=``, where they are taken as ``∇f(x)`` (d, ``last_slope`` and the condition are theirs);
    ``step(closure)`` alone computes the gradient again and ignores them.  Trial costs are evaluated under
    ``no_grad`` (with recording on where the closure needs it: a cost that holds a gradient, such as a gradient
    penalty).

    After each step: ``last_step_size`` (the accepted ``t``, 0 if none), ``last_backtracks`` (``l``),
    ``last_trials`` (every ``(t, f(x + t·d))`` tried, for a plot), ``last_cost_before`` (``f(x)``),
    ``last_slope`` (``∇f(x)ᵀd = −‖∇f(x)‖²``; −inf above ‖∇f(x)‖ ≈ 1.3e154, where the search multiplies σ·t by the
    factors of the slope instead), ``last_cost`` (the cost after the step) and ``last_failed``.  If no
    ``l ≤ max_backtracks`` satisfies the condition, the parameters stay exactly as they were, and a
    :class:`LineSearchWarning` says so, ``last_failed`` True: the cost never increases (the cost the closure gives:
    a random closure's draws differ from trial to trial, see the module docstring).  A step size too small to
    change any parameter (``x + t·d`` rounds to ``x``, as it does near a minimum at the precision of the floats)
    does not satisfy the condition, which asks for a decrease of ``σt‖∇f(x)‖² > 0``, even where its rounded form
    holds: it is a failed step as well, reported so, not a success of size ``t`` that moved nothing (and the search
    stops there, since no smaller step moves either); so is a step whose cost does not fall below ``f(x)`` at all
    (``f(x + t·d)`` rounds to ``f(x)``, for a cost far from 0 near its minimum).  :func:`tinygrad_edu.fit` then
    stops: "no descent step".
    """

    _settings = ("sigma", "alpha", "initial_step", "max_backtracks")
    sigma, alpha, initial_step = _Setting(above=0, below=1), _Setting(above=0, below=1), _Setting(_initial_step)
    max_backtracks = _Setting(_backtracks)
    _renamed = {"lr": "initial_step", "learning_rate": "initial_step"}
    _renamed_means = "the first step t it tries, then t·α, t·α², …; the seed's is 1"
    # (no step of its own led there: the search never accepts a trial whose cost is NaN or inf)
    _not_finite = ("Armijo never takes a step to a NaN or infinite cost, so that is the cost at the parameters as "
                   "they are, not where its steps led (unless the closure changed since, to other samples, say): "
                   "start where the cost is finite; the parameters are unchanged")

    def __init__(self, params: Any, sigma: float = 1e-4, alpha: float = 0.5, initial_step: float = 1.0,
                 max_backtracks: int = 50) -> None:
        super().__init__(params)
        self.sigma, self.alpha, self.initial_step, self.max_backtracks = sigma, alpha, initial_step, max_backtracks
        self.last_backtracks: int | None = None
        self.last_trials: list[tuple[float, float]] = []
        self.last_cost_before: float | None = None
        self.last_cost: float | None = None
        self.last_slope: float | None = None
        self.last_failed = False

    def step(self, closure: Closure | None = None, *, cost: Any = None) -> Any:
        cost = self._gradient(closure, cost, needs_closure=True)
        assert closure is not None
        f0 = _cost_value(cost, "Armijo.step", self._not_finite)
        gradients = self._finite_gradients(cost)
        flat = np.concatenate([g.ravel() for _, g in gradients]) if gradients else np.zeros(0)
        wide = flat.astype(np.float64)  # so that the squares of float32 numbers do not overflow
        # (−inf above ‖∇f‖ ≈ 1.3e154, as reported, where the search copes; squares below 1e-308 are no error either)
        with np.errstate(over="ignore", under="ignore"):
            slope = -float(wide @ wide)  # ∇f(x)ᵀd with d = −∇f(x)
        with self._reports_kept_on_failure():
            self.last_cost_before, self.last_slope, self.last_trials = f0, slope, []
            self.last_failed = False
            if not flat.any():  # ∇f(x) = 0: the algorithm's STOP (step 1.2); nothing to do (the slope alone can be 0
                self.last_step_size, self.last_backtracks, self.last_cost = 0.0, 0, f0  # by underflow: ‖∇f‖ = 1e-170)
                return cost
            found = _armijo_on_parameters([p for p, _ in gradients], closure, flat, f0, "Armijo.step",
                                          sigma=self.sigma, alpha=self.alpha, initial_step=self.initial_step,
                                          max_backtracks=self.max_backtracks)
            if found.step is None and isinstance(cost, Value) and not _reached_before(cost):
                raise self._reached_none("cost=")  # (a copied optimizer's: its gradients are the copies' old ones)
        self.last_trials = found.trials
        self.last_backtracks = len(found.trials) - 1
        if found.step is not None:
            self.last_step_size, self.last_cost = found.step, found.trials[-1][1]
            return cost
        self.last_step_size, self.last_cost = 0.0, f0
        self.last_failed = True
        _warn_no_step("Armijo.step", found, self.max_backtracks)
        return cost


def _warn_no_step(where: str, found: ArmijoStep, max_backtracks: int) -> None:
    """The :class:`LineSearchWarning` of a line search that found no step: none of its ``max_backtracks + 1``
    step sizes met the condition, or it ended early where the step size no longer changed any parameter."""
    largest, smallest = found.trials[0][0], found.trials[-1][0]
    why = (f"no step size down to {smallest:.3g} ({max_backtracks} backtracks) decreased the cost enough"
           if len(found.trials) > max_backtracks else
           f"the step size {smallest:.3g} changes no parameter (x + t·d rounds to x)"
           + (f", and none from {largest:.3g} down to it decreased the cost enough" if len(found.trials) > 1 else ""))
    warnings.warn(f"{where}: {why}; the parameters are unchanged", LineSearchWarning,
                  stacklevel=checks.outside_the_package())


def _armijo_on_parameters(params: list[Value], closure: Closure, gradient: np.ndarray, f0: float, where: str,
                          **rule: Any) -> ArmijoStep:
    """:func:`armijo_step` with the parameters flattened into one vector x: each trial writes x + t·d into them
    (:func:`_evaluate` names ``where`` for a bad closure).  Afterwards they hold the accepted x + t·d, or (no step
    accepted, or the closure failed) their values before, bit for bit."""
    start = [p.data.copy() for p in params]
    x = np.concatenate([data.ravel() for data in start]) if start else np.zeros(0)

    def f(point: np.ndarray) -> float:
        _place(params, point)
        return float(_evaluate(closure, where))

    try:
        found = armijo_step(f, x, gradient, fx=f0, **rule)
    except BaseException:
        _restore(params, start)
        raise
    if found.step is None:
        _restore(params, start)
    elif any(data.dtype != np.float64 for data in start) and all(
            np.array_equal(p.data, data) for p, data in zip(params, start, strict=True)):
        # float32 parameters under a float64 x (mixed dtypes) or d (Newton's): x + t·d moved, but rounds to no change
        return ArmijoStep(None, found.trials)
    return found  # when a step was found, the last trial was the accepted one: the parameters hold x + t·d


def _place(params: list[Value], point: np.ndarray) -> None:
    """Write the flat ``point`` into the parameters, in their order."""
    offset = 0
    with no_grad():
        for p in params:
            p[...] = point[offset:offset + p.size].reshape(p.shape)
            offset += p.size


def _reaches_any(cost: Value, params: list[Value]) -> bool:
    """Whether ``cost.backward()`` would reach one of ``params`` (a gradient of 0 everywhere does not say)."""
    reached = {id(node) for node in backward_order(cost, params)}
    return any(id(p) in reached for p in params)


def _reached_before(cost: Value) -> bool:
    """Whether ``cost`` depends on parameters that a line search changed and put back (so its graph is stale, which
    the walk refuses); a cost that depends on none of them is not stale (the step checked it was current)."""
    try:
        backward_order(cost)
    except ValueError:
        return True
    return False


def _restore(params: list[Value], start: list[np.ndarray]) -> None:
    """Put the saved parameter values back, bit for bit."""
    with no_grad():
        for p, x in zip(params, start, strict=True):
            p[...] = x


class RandomSearch(Optimizer):
    """The seed's naive method (section 5): change every parameter by a random amount, uniform in
    ``[−scale, scale)``, and keep the change only if the cost got smaller (a tie, or a NaN or infinite cost, is
    no improvement); otherwise restore the parameters exactly.  The costs before and after are two calls of the
    closure: a random one (noise, dropout, a mini-batch drawn inside it) compares two draws, and keeps a change the
    draws favoured (see the module docstring: fix its random numbers for the step).  A NaN or infinite cost before
    the change is a ``FloatingPointError``.  Frozen parameters (``requires_grad=False``) are left alone, as the
    other optimizers leave them; a step with all of them frozen is a ValueError.

    ``step(closure)`` evaluates the closure (under ``no_grad``, or with recording on where it needs it: a cost that
    holds a gradient) before and after the change; pass ``cost=`` to reuse a known cost at the current parameters
    (``cost=search.last_cost`` in a loop of one's own: one call per step).  A closure that needs recording is tried
    under ``no_grad`` first, where it fails: one call more per step.  The closure returns the cost, a Value of one
    number or a number, and needs no gradient: one that calls ``backward()`` (as PyTorch's closures do) is a
    ValueError, one that returns anything else a TypeError.  ``accepted`` and ``proposals`` count the changes kept
    and tried; ``last_accepted``, ``last_cost`` (the cost of the parameters the step left) and
    ``last_proposal_cost`` (the cost of the change it tried, kept or not: the seed's section 5 figure plots these,
    History's cost only the kept ones) describe the latest step, and ``load_state_dict`` resets them to None (they
    were not saved: ``cost=search.last_cost`` then evaluates the loaded parameters' cost).  ``scale`` (a setting)
    and ``rng`` (a seed or a numpy Generator) may be set between steps.  An int ``rng`` draws the numbers an int
    ``rng`` of a network draws: give the search a stream of its own, ``rng=seeds.second_stream(seed)`` (as the demo
    and the command line do), or one Generator to both; with ``init="uniform"`` and the same int the first change is
    w → 1.2·w − 0.1 for every weight, with ``init="xavier"`` a multiple of the first layer's weights, no random guess.
    """

    _settings = ("scale",)
    _update_rule = ("x ← x + u, u uniform in [−scale, scale)",  # (the seed's random change)
                    "the parameter's numbers are near the largest its dtype holds (random search keeps every "
                    "change that lowers the cost: one that keeps falling as they grow leads them there), or they "
                    "started there",
                    "the scale")
    _counters = ("accepted", "proposals")
    _generators = ("rng",)
    _renamed = {"lr": "scale", "learning_rate": "scale"}
    _renamed_means = "the size of the random changes, uniform in [−scale, scale)"
    _absent = dict.fromkeys(("seed", "generator", "random_state"),
                            "it is called rng= (an int or a numpy Generator), as for layers: "
                            "RandomSearch(model, rng=seeds.second_stream(0)) beside a network made with rng=0")
    scale = _Setting(_scale)
    rng = _Setting(_rng)

    def __init__(self, params: Any, scale: float = 0.1, rng: None | int | np.random.Generator = None) -> None:
        super().__init__(params)
        self.scale, self.rng = scale, rng
        self.accepted = 0
        self.proposals = 0
        self.last_accepted: bool | None = None
        self.last_cost: float | None = None
        self.last_proposal_cost: float | None = None

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """As :meth:`Optimizer.load_state_dict`; the latest step's reports (``last_cost``, …) are reset to None:
        they described the parameters before the load, and ``cost=search.last_cost`` would compare the next change
        with a cost the loaded parameters do not have."""
        super().load_state_dict(state)
        self.last_accepted = self.last_cost = self.last_proposal_cost = None

    def step(self, closure: Closure | None = None, *, cost: Any = None) -> Any:
        self._check_step(closure, cost, needs_closure=True)
        assert closure is not None
        if not any(p.requires_grad for p in self.params):  # else every step would try nothing and count it
            raise ValueError("RandomSearch.step: every parameter is frozen (requires_grad=False; "
                             f"{checks.counted(len(self.params), 'parameter')}), so there is nothing to change: "
                             f"{_UNFREEZE}; the parameters are unchanged")
        self._check_writeable()
        recorded = False
        if cost is None:
            cost = _evaluate(closure, "RandomSearch.step")
            recorded = isinstance(cost, Value) and cost.op is not None  # (it needed recording: so will the change's)
        before = _cost_value(cost, "RandomSearch.step", "it is the cost at the parameters as they are, and random "
                             "search never keeps a change to a NaN or infinite cost: start from parameters (and "
                             "data) where the cost is finite; the parameters are unchanged")
        start, drawn = [p.data.copy() for p in self.params], self.rng.bit_generator.state
        changing: Value | None = None  # (the parameter being changed: x + u may overflow, under np.errstate)
        try:
            with no_grad():
                for changing in self.params:
                    if changing.requires_grad:  # frozen ones are left alone, as the other optimizers leave them
                        changing += self.rng.uniform(-self.scale, self.scale, changing.shape).astype(changing.dtype,
                                                                                                     copy=False)
            changing = None
            after = float(_evaluate(closure, "RandomSearch.step", recording=recorded))
        except BaseException as error:  # as if this step had not been tried: the parameters and generator as they were
            _restore(self.params, start)
            self.rng.bit_generator.state = drawn
            if changing is not None and _refused_by_numpy(error):
                raise _update_refused(self, changing, str(error)) from error  # (numpy's, under a caller's errstate)
            raise
        with _whole_update():  # a Ctrl-C here takes effect once the change is kept or undone in full, not halfway
            self.proposals += 1
            self.last_proposal_cost = after
            self.last_accepted = -math.inf < after < before  # False for NaN, and for −inf as Armijo's trials
            if self.last_accepted:
                self.accepted += 1
                self.last_cost = after
            else:
                _restore(self.params, start)
                self.last_cost = before
        return cost


# --- Newton's method -------------------------------------------------------------------------------------------
_EPS = float(np.finfo(np.float64).eps)


class Newton(Optimizer):
    """Newton's method with the Armijo step size: the second-order way down (seed 6.1 and 6.2).

    With the parameters flattened into one vector x (n numbers; frozen ones, ``requires_grad=False``, are left
    alone), the gradient g = ∇C(x) and the Hessian H = ∇²C(x)
    (both from the engine: one recorded backward pass, then n more for H), the direction solves

        ``(H + λI) d = −g``      (λ = ``damping``)

    which jumps to the minimum of the quadratic model ``C(x) + gᵀd + ½dᵀ(H + λI)d`` (C's second-order Taylor
    model, plus ½λ‖d‖², which keeps d short): for a strictly convex quadratic with ``damping=0`` (and σ < ½, as the
    default 1e-4) one step lands exactly on the minimum.  The step ``x ← x + t·d``
    takes the seed's Armijo rule ``C(x + t·d) ≤ C(x) + σ·t·gᵀd`` with ``t = αˡ``, largest first: the rule holds for
    *any* descent direction (``gᵀd < 0``), not only for ``d = −g``, so the cost never increases (for a closure
    that gives the same cost for the same parameters: a random one's H and g are those of its first draw, and each
    trial sees another, see the module docstring).  On a quadratic
    ``C(x + t·d) = C(x) + (t − t²/2)·gᵀd``, so the rule takes the largest αˡ ≤ 2(1 − σ): the full step t = 1 only
    for σ < ½ (at σ = ½ by rounding alone), and so near a minimum where H is positive definite; with σ > ½ the steps
    stay shorter and Newton converges only linearly, not quadratically.  Where H + λI is not positive definite
    (H has an eigenvalue ≤ −λ: a saddle or a maximum nearby), λ is raised to ``damping − λ_min(H)`` so that the
    model is convex again and ``d`` points downhill (``last_damping`` is the λ used).  With ``damping=0`` there
    is no such margin: then, and wherever the solve fails, ``d = −g`` is used instead (plain Armijo gradient
    descent for that step) and ``last_fallback`` is True.  A larger ``damping`` bends ``d`` towards −g.  A
    parameter the cost does not depend on (its row of H and its slope are 0, as for the weights of an input that is
    always 0) is left out of the solve and stays where it is: its eigenvalue 0 is no saddle.  Nor is an eigenvalue
    that is 0 but for rounding (|λ| ≤ n·ε·max|λ|, ε of the parameters' dtype) along a direction where C does not
    change (adding the same number to every class's logit under softmax, two equal inputs): with ``damping=0`` and
    no eigenvalue below that, d is the shortest solution of H d = −g (``np.linalg.lstsq``), the Newton step of the
    directions that curve; −g only where g has a part along the flat ones (C linear there, with no minimum).

    The cost: n backward passes per step and an n × n solve, fine for tens or a few hundred parameters, hopeless
    for millions (seed 6.1; ``benchmarks/bench_second_order.py``): a step with more than ``MANY_PARAMETERS`` (1,000)
    warns (a RuntimeWarning) before it starts, with n and the Hessian's size in memory; not again while n stays the
    n of the optimizer's latest warning (a model that changes its number of parameters is warned at each change).
    ``step(closure)`` needs the closure; ``cost=`` (the closure's cost at the current point, graph still in place)
    saves one forward pass.  After a step: ``last_step_size`` (t, 0 if no t was accepted), ``last_cost``,
    ``last_fallback``, ``last_failed`` (as for :class:`Armijo`, also when the step size that met the condition
    changed no parameter).

        >>> from tinygrad_edu import Value, optim
        >>> x = Value([3.0, -2.0])
        >>> opt = optim.Newton([x])
        >>> _ = opt.step(lambda: ((x - 1.0) ** 2).sum() + x[0] * x[1])     # a convex quadratic
        >>> x.data.round(6)                                                  # its minimum (2/3, 2/3), in one step
        array([0.666667, 0.666667])
    """

    _settings = ("damping", "sigma", "alpha", "max_backtracks")
    #: More parameters than this make a step slow (n backward passes, an n³ solve) and the Hessian big: a warning.
    MANY_PARAMETERS = 1000
    damping, sigma, alpha = _Setting(least=0), _Setting(above=0, below=1), _Setting(above=0, below=1)
    max_backtracks = _Setting(_backtracks)
    _renamed: dict[str, str] = {}
    _absent = dict.fromkeys(("lr", "learning_rate"), "there is no learning rate: the Armijo rule chooses every step "
                            "size t = αˡ (the settings are damping, sigma, alpha and max_backtracks)")

    def __init__(self, params: Any, damping: float = 0.0, sigma: float = 1e-4, alpha: float = 0.5,
                 max_backtracks: int = 50) -> None:
        super().__init__(params)
        self.damping, self.sigma, self.alpha, self.max_backtracks = damping, sigma, alpha, max_backtracks
        self.last_cost: float | None = None
        self.last_fallback = False
        self.last_failed = False
        self.last_damping: float | None = None
        self._warned_for = 0  # the number of parameters the latest warning of their cost was for

    def step(self, closure: Closure | None = None, *, cost: Any = None) -> Any:
        self._check_step(closure, cost, needs_closure=True)
        assert closure is not None
        self._check_writeable()
        if not (isinstance(cost, Value) and cost.requires_grad):
            with enable_grad():
                cost = closure()
            if not (isinstance(cost, Value) and cost.size == 1):
                raise TypeError("Newton.step: the closure must return the cost as a Value of size 1 that depends on "
                                f"the parameters, got {type(cost).__name__} {getattr(cost, 'shape', '')}")
            if not cost.requires_grad:  # (as the other optimizers' closures say it)
                raise TypeError("Newton.step: the closure must return a cost that depends on the parameters, "
                                + _records_nothing(self.params))
            _check_not_backpropagated(cost, "Newton.step: the closure")
        f0 = _cost_value(cost, "Newton.step", "it is at the parameters as they are (unchanged), and Newton has no "
                         "learning rate to lower: start it where the cost is finite")
        params = [p for p in self.params if p.requires_grad]  # frozen ones are left alone, as the others leave them
        self._warn_if_many(sum(p.size for p in params))
        gradient, hessian = gradient_and_hessian(cost, params)
        if params and not gradient.any() and not _reaches_any(cost, params):  # (a copied optimizer's closure, say)
            raise self._reached_none()
        if not (np.isfinite(gradient).all() and np.isfinite(hessian).all()):
            raise FloatingPointError("Newton.step: the gradient or the Hessian holds NaN or inf; the parameters "
                                     "are unchanged")
        self._store_gradients(params, gradient)
        with self._reports_kept_on_failure():
            rounding = max([float(np.finfo(p.dtype).eps) for p in params if p.dtype.kind == "f"], default=_EPS)
            direction = self._direction(gradient, hessian, rounding)
            self.last_cost, self.last_failed = f0, False
            if not gradient.any():  # ∇C = 0: nothing to do (step 1.2's STOP; the slope alone can be 0 by underflow)
                self.last_step_size = 0.0
                return cost
            self._line_search(params, closure, direction, gradient, f0)
        return cost

    def _warn_if_many(self, n: int) -> None:
        """Before a step's n backward passes: a RuntimeWarning when n > ``MANY_PARAMETERS`` and n is not the n of the
        latest warning."""
        if n <= self.MANY_PARAMETERS or n == self._warned_for:
            return
        self._warned_for = n
        warnings.warn(f"Newton.step: {n:,} parameters, so each step takes {n:,} backward passes for the Hessian, "
                      f"{n:,} × {n:,} numbers ({8 * n * n / 1e6:,.0f} MB, a few times that while it is built), and "
                      "a solve that grows like n³; for this many parameters train with Armijo, SGD or Adam",
                      RuntimeWarning, stacklevel=checks.outside_the_package())

    @staticmethod
    def _store_gradients(params: list[Value], gradient: np.ndarray) -> None:
        """Each parameter's ``grad``: its part of the flat gradient (as after ``backward()``)."""
        start = 0
        for p in params:
            p.grad = gradient[start:start + p.size].reshape(p.shape).astype(p.dtype)
            start += p.size

    def _direction(self, gradient: np.ndarray, hessian: np.ndarray, rounding: float = _EPS) -> np.ndarray:
        """d from (H + λI) d = −g, with λ raised where H + λI is not positive definite; −g if that fails.
        A parameter the cost does not depend on (its row of H and its slope all 0) is left out of the solve and
        keeps d = 0: its eigenvalue 0 says nothing about the others, which it would otherwise send back to −g.
        ``rounding`` is the ε of the parameters' dtype (float32's for a float32 model), which H was computed in."""
        used = hessian.any(axis=0) | hessian.any(axis=1) | (gradient != 0)
        if not used.all():
            direction = np.zeros_like(gradient)  # (= −g there as well, should the others fall back to −g)
            direction[used] = self._direction(gradient[used], hessian[np.ix_(used, used)], rounding)
            return direction
        matrix = hessian + (hessian.T - hessian) / 2  # (H + Hᵀ)/2, without H + Hᵀ overflowing (H of 1e308)
        eigenvalues = np.linalg.eigvalsh(matrix) if len(gradient) else np.zeros(1)
        lowest = float(eigenvalues[0])
        flat = len(gradient) * rounding * float(np.abs(eigenvalues).max())  # an eigenvalue 0 but for rounding
        shift = self.damping
        if lowest + shift <= 0:  # a saddle or a maximum nearby: make the model convex again
            shift = self.damping - lowest if self.damping > 0 else 0.0
        self.last_damping = shift
        direction = np.full_like(gradient, np.nan)
        if shift > 0 or lowest > flat:
            try:
                direction = np.linalg.solve(matrix + shift * np.eye(len(gradient)), -gradient)
            except np.linalg.LinAlgError:
                pass
        elif lowest >= -flat and flat > 0:  # H ≥ 0 with flat directions, along which C does not change
            direction = self._flat_newton_step(matrix, gradient, len(gradient) * rounding)
        usable = bool(np.isfinite(direction).all() and _sign_of_slope(gradient, direction) < 0)  # (gᵀd may underflow)
        self.last_fallback = not usable and bool(gradient.any())  # (∇C = 0: no step at all, so nothing fell back)
        return direction if usable else -gradient

    @staticmethod
    def _flat_newton_step(matrix: np.ndarray, gradient: np.ndarray, cutoff: float) -> np.ndarray:
        """The shortest d with H d = −g, for an H ≥ 0 whose eigenvalues that are 0 but for rounding belong to flat
        directions, along which C does not change (the same shift of every class's logit under softmax, two equal
        inputs): g has no part along them, and the Newton step leaves them alone.  NaN (so −g) where g has such a
        part (C linear along them: no minimum for the model to jump to).  ``cutoff``: relative to the largest."""
        direction = np.linalg.lstsq(matrix, -gradient, rcond=cutoff)[0]
        residual = np.abs(matrix @ direction + gradient).max()
        return direction if residual <= 1e-3 * np.abs(gradient).max() else np.full_like(gradient, np.nan)

    def _line_search(self, params: list[Value], closure: Closure, direction: np.ndarray, gradient: np.ndarray,
                     f0: float) -> None:
        """The seed's Armijo rule along ``direction`` (:func:`armijo_step`): the largest t = αˡ with
        C(x + t·d) ≤ C(x) + σ·t·∇Cᵀd; the parameters stay unchanged if there is none."""
        found = _armijo_on_parameters(params, closure, gradient, f0, "Newton.step", sigma=self.sigma,
                                      alpha=self.alpha, max_backtracks=self.max_backtracks, direction=direction)
        if found.step is not None:
            self.last_step_size, self.last_cost = found.step, found.trials[-1][1]
            return
        self.last_step_size, self.last_failed = 0.0, True
        _warn_no_step("Newton.step", found, self.max_backtracks)


#: What ``Optimizer.__setattr__`` says of a setting the optimizer has not: whose it is, or PyTorch's advice.
_OURS = (GradientDescent, SGD, Adam, Armijo, RandomSearch, Newton)
_SETTINGS_ELSEWHERE = {**_NOT_HERE, **{
    name: f"it is a setting of {' and '.join(cls.__name__ for cls in _OURS if name in cls._settings)}"
    for name in {name for cls in _OURS for name in cls._settings}}}


def _letter_advice(cls: type[Optimizer], letter: str) -> str:
    """Where the setting of the seed's ``letter`` (σ, α; or μ) is, for ``opt.σ`` read or set on ``cls``."""
    word = _SEED_LETTERS[letter]
    return f"it is called {word} here ({_spelt_out(letter)}): opt.{word} = ..." if word in cls._settings else \
        _elsewhere(letter)


def _elsewhere(letter: str) -> str:
    """What ``letter`` (the seed's σ or α, or μ, which the seed lacks) is, for an optimizer without that setting
    (``opt.μ`` on gradient descent): the setting spelt out, and whose it is."""
    word = _SEED_LETTERS[letter]
    whose = "μ" if letter == "μ" else f"the seed's {letter}"  # (the seed has no momentum)
    return f"{whose} is called {word} here; {_SETTINGS_ELSEWHERE[word]}"


def _say_where_letters_are() -> None:
    """``opt.μ``, ``opt.σ`` or ``opt.η`` read on the optimizers here says what setting it says (where that setting
    is, maybe another optimizer's, so only once all are defined), not a plain AttributeError."""
    for cls in _OURS:
        advice = {letter: _letter_advice(cls, letter) for letter in _SEED_LETTERS}
        if cls._learning_rate_advice():  # (Newton has no learning rate, and nothing to say of it here)
            advice.update(dict.fromkeys(("η", "eta"), cls._learning_rate_advice()))
        for name, said in advice.items():
            if name not in cls._settings and not _defines(cls, name):
                setattr(cls, name, checks.Absent(name, said))


_say_where_letters_are()


def _misspelt(name: str, settings: tuple[str, ...]) -> str:
    """``did you mean learning_rate?`` for a name that differs from a setting by a letter or two, else ''."""
    close = difflib.get_close_matches(name, settings, n=1, cutoff=0.85)
    return f"did you mean {close[0]}?" if close else ""


#: Optimizers by name, for command lines.
OPTIMIZERS = {"gd": GradientDescent, "armijo": Armijo, "random": RandomSearch, "sgd": SGD, "adam": Adam}

#: torch.optim's learning-rate schedulers: a schedule is the learning rate set between episodes here.
_SCHEDULES = ("there are no schedulers here: set opt.learning_rate between episodes (StepLR(opt, step_size, gamma) "
              "with scheduler.step() at each episode's end is: if (episode + 1) % step_size == 0: opt.learning_rate "
              "*= gamma)")
_PYTORCH_NAMES = dict.fromkeys(("lr_scheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
                                "LambdaLR", "ReduceLROnPlateau"), _SCHEDULES)

if not TYPE_CHECKING:  # (hidden from type checkers, which would otherwise take optim.any_typo for a valid name)
    @checks.advice_on_import
    def __getattr__(name: str) -> Any:
        """``optim.lr_scheduler``, ``optim.StepLR``: an AttributeError saying what to write."""
        advice = _PYTORCH_NAMES.get(name) or write_instead.PYTORCH_OPTIMIZERS.get(name)  # (optim.AdamW, RMSprop)
        raise checks.other_library_name(__name__, name, "PyTorch", advice)


def __dir__() -> list[str]:
    """``dir()`` of this module lists its API (``__all__``), not its helpers and imports."""
    return sorted(__all__)
