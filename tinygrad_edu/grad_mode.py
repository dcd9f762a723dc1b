"""Grad mode: the two switches, whether operations are recorded (:class:`no_grad`, :class:`enable_grad`,
:func:`is_grad_enabled`) and whether NaN and inf are hunted (:class:`detect_anomaly`, :func:`is_anomaly_enabled`), and
the blocks and decorators that set them (seed, section 6.3: a parameter update must not become part of the graph).

The switches are what the engine reads as it records and walks, and they need nothing of :class:`Value`: so they
sit below :mod:`tinygrad_edu.engine`, which imports them (and re-exports the blocks: ``from tinygrad_edu.engine
import no_grad`` is this module's ``no_grad``).  This module imports nothing of the package.

    >>> with no_grad():
    ...     is_grad_enabled()
    False
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar, overload

__all__ = ["GRAD_ENABLED", "DETECT_ANOMALY", "no_grad", "enable_grad", "detect_anomaly", "is_grad_enabled",
           "is_anomaly_enabled"]

#: The two switches, whether operations are recorded and whether NaN/inf are hunted, are the running thread's own,
#: as PyTorch's grad mode is (context variables: an asyncio task has its own too): a block in one thread leaves the
#: others as they were.  Read them with ``_grad_enabled()`` and ``_anomaly_mode()`` (as fast as a class attribute).
#: An ``importlib.reload`` of this module keeps them (and the open blocks below): the engine, not reloaded, reads the
#: same switches as the reloaded blocks set, and a block open around the reload stays one.
GRAD_ENABLED: contextvars.ContextVar[bool] = globals().get("GRAD_ENABLED") or contextvars.ContextVar(
    "tinygrad_edu.grad_enabled", default=True)
DETECT_ANOMALY: contextvars.ContextVar[bool] = globals().get("DETECT_ANOMALY") or contextvars.ContextVar(
    "tinygrad_edu.detect_anomaly", default=False)
_grad_enabled, _anomaly_mode = GRAD_ENABLED.get, DETECT_ANOMALY.get
#: The blocks open in this thread or asyncio task, latest first: (block, the switch's value at its entry, the rest).
#: A context variable, as the switches are: two tasks in one thread that share a block each get their own entry back.
_OPEN_BLOCKS: contextvars.ContextVar[tuple | None] = globals().get("_OPEN_BLOCKS") or contextvars.ContextVar(
    "tinygrad_edu.open_blocks", default=None)


def is_grad_enabled() -> bool:
    """True unless inside :func:`no_grad` (in this thread)."""
    return _grad_enabled()


def is_anomaly_enabled() -> bool:
    """True inside :func:`detect_anomaly` (in this thread), as PyTorch's ``torch.is_anomaly_enabled()``."""
    return _anomaly_mode()


class _GradModeType(type):
    """The type of the mode classes, for one mistake: ``with no_grad:`` (the class, without parentheses) is an error
    naming the block and saying to call it, not Python's "'type' object does not support the context manager
    protocol"."""

    def __enter__(cls) -> None:
        raise TypeError(f"{cls.__name__}: write `with {cls.__name__}():`, with parentheses (the class itself is not "
                        "a block)")

    def __exit__(cls, *exc: object) -> None:  # (never reached: __enter__ raises; Python wants both)
        return None


_Function = TypeVar("_Function", bound=Callable[..., Any])
_Mode = TypeVar("_Mode", bound="_GradMode")


class _GradMode(contextlib.ContextDecorator, metaclass=_GradModeType):
    """A block (or a decorated function) that sets the switch ``_switch`` to ``_value``: what :class:`no_grad`,
    :class:`enable_grad` and :class:`detect_anomaly` share (none is another: ``isinstance(enable_grad(), no_grad)``
    is False)."""

    _switch: contextvars.ContextVar[bool] = GRAD_ENABLED
    _value: bool

    @overload
    def __new__(cls: type[_Mode], function: None = None) -> _Mode: ...
    @overload
    def __new__(cls, function: _Function) -> _Function: ...  # type: ignore[misc]  # @no_grad, without parentheses
    def __new__(cls, function: Any = None) -> Any:
        instance = super().__new__(cls)
        if function is None:
            return instance
        if not callable(function):
            name = cls.__name__
            raise TypeError(f"{name}: function must be a function to decorate (@{name}), or left out "
                            f"(with {name}():), got {type(function).__name__} {function!r:.60}")
        return instance(function)  # @no_grad without parentheses

    def __call__(self, function: _Function) -> _Function:
        """``function`` decorated.  A generator function runs each of its steps in the mode (contextlib's decorator
        would only cover making the generator, not running it), as in PyTorch, and so does an async generator
        function (``async def`` with ``yield``); a coroutine function (async def) runs its body in the mode, in a
        block of its own (the mode is each task's)."""
        if inspect.iscoroutinefunction(function):
            @functools.wraps(function)
            async def coroutine(*args: Any, **kwargs: Any) -> Any:
                with type(self)():
                    return await function(*args, **kwargs)

            return coroutine  # type: ignore[return-value]  # (wraps keeps the name, not the signature)
        if inspect.isasyncgenfunction(function):  # (as the generator below: contextlib's would cover no step)
            @functools.wraps(function)
            async def async_generator(*args: Any, **kwargs: Any) -> Any:
                steps, sent, thrown = function(*args, **kwargs), None, None
                while True:
                    with self:
                        try:
                            value = await (steps.asend(sent) if thrown is None else steps.athrow(thrown))
                        except StopAsyncIteration:
                            return
                    try:
                        sent, thrown = (yield value), None
                    except GeneratorExit:
                        with self:
                            await steps.aclose()
                        raise
                    except BaseException as error:
                        sent, thrown = None, error

            return async_generator  # type: ignore[return-value]  # (as the coroutine above)
        if not inspect.isgeneratorfunction(function):
            return super().__call__(function)

        @functools.wraps(function)
        def generator(*args: Any, **kwargs: Any) -> Any:
            steps, sent, thrown = function(*args, **kwargs), None, None
            while True:
                with self:
                    try:
                        value = steps.send(sent) if thrown is None else steps.throw(thrown)
                    except StopIteration as finished:
                        return finished.value
                    finally:  # an error thrown in and raised on out holds this frame in its traceback: kept here,
                        thrown = None  # a reference cycle that kept the arguments (a graph) alive until gc ran
                try:
                    sent, thrown = (yield value), None
                except GeneratorExit:  # closed by its user: close the inner one, in the mode too
                    with self:
                        steps.close()
                    raise
                except BaseException as error:  # thrown in by its user: on into the inner one
                    sent, thrown = None, error

        return generator  # type: ignore[return-value]  # (as the coroutine above)

    def __enter__(self: _Mode) -> _Mode:
        _OPEN_BLOCKS.set((self, self._switch.get(), _OPEN_BLOCKS.get()))
        self._switch.set(self._value)
        return self

    def __exit__(self, *exc: object) -> None:
        """The switch as this block found it on its latest entry in this thread or asyncio task (a decorated function
        may run in several at once; a block shared by two tasks of one thread restored the other's value).  A block
        that exits while one of the same switch entered after it is still open (two generators, each suspended
        inside a ``with no_grad():``, finished in the order they started) leaves the switch to that block, and
        hands it what it found: the switch is what the blocks still open make it, and as before all of them once
        they are closed."""
        passed, node = [], _OPEN_BLOCKS.get()
        while node is not None and node[0] is not self:
            passed.append(node[:2])
            node = node[2]
        if node is None:
            raise RuntimeError(f"{type(self).__name__}: __exit__ without a matching __enter__")
        rest, handed = node[2], False
        for block, value in reversed(passed):  # (blocks left open after this one's entry stay open)
            if not handed and block._switch is self._switch:  # the next block of this switch, still open, keeps
                value, handed = node[1], True  # the switch, and gives back on its exit what this one found
            rest = (block, value, rest)
        if not handed:
            self._switch.set(node[1])
        _OPEN_BLOCKS.set(rest)


class no_grad(_GradMode):
    """Inside ``with no_grad():`` (or a function decorated ``@no_grad()`` or ``@no_grad``) nothing is recorded.

    Use it for evaluation and for parameter updates, which must not become part of the graph.  Nesting and
    recursion are fine: each exit restores the state of its own entry, and blocks closed in another order (two
    generators suspended inside one each) leave the state to those still open, as before them all once closed.
    The mode is one per thread, as in PyTorch (and one per asyncio task): a block in one thread does not stop
    recording in the others, nor in a thread started inside it (``threading.Thread``, a ``ThreadPoolExecutor``'s
    workers, ``loop.run_in_executor``): open a block in the function the thread runs.  ``asyncio.to_thread``, which
    runs its function in a copy of the caller's context, takes the block's mode along.
    """

    _value = False


class enable_grad(_GradMode):
    """Inside ``with enable_grad():`` (or a decorated function) operations are recorded again, even within an
    enclosing ``no_grad()``, as in PyTorch: for code that must differentiate wherever it is called from."""

    _value = True


class detect_anomaly(_GradMode):
    """Inside ``with detect_anomaly():`` (or a function decorated ``@detect_anomaly()`` or ``@detect_anomaly``, a
    generator's every step too) ``FloatingPointError`` is raised at the first operation whose output or gradient
    holds NaN or inf, and at a gradient that does once the finite gradients of a Value's uses are summed, or once
    added to a leaf's ``.grad`` (left as it was); in this thread, as the other blocks."""

    _switch, _value = DETECT_ANOMALY, True
