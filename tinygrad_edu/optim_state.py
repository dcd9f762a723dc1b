"""An optimizer's saved state: what ``Optimizer.state_dict()`` writes and ``Optimizer.load_state_dict()`` reads.

The state is a flat dict of numpy arrays: ``"optimizer"`` (the class name) and ``"parameter_count"``, the settings
by name (``"learning_rate"``, …), the counters (RandomSearch's ``"accepted"``), each parameter's arrays by its
position (``"state.3.velocity"``) and a random generator's state as JSON text (``"rng"``).  Loading checks all of
it before it changes anything, so a failed load leaves the optimizer as it was.

The optimizer is passed in (this module does not import :mod:`tinygrad_edu.optim`); it describes its state with
``_settings``, ``_counters``, ``_generators`` and ``_parameter_fields`` and hands it over through
``_parameter_states()`` / ``_set_parameter_states()``.
"""

from __future__ import annotations

import contextlib
import json
import os
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from tinygrad_edu import checks, write_instead
from tinygrad_edu.engine import Value

__all__ = ["state_dict", "load_state_dict"]

#: What an optimizer has for this module: its parameters and the hooks that describe and hand over its state.
_HOOKS = ("params", "_settings", "_counters", "_generators", "_parameter_fields", "_parameter_states",
          "_set_parameter_states")


def _where(optimizer: Any, function: str) -> str:
    """The start of the messages, such as ``Adam.load_state_dict``; a TypeError if ``optimizer`` is none."""
    if not all(hasattr(optimizer, name) for name in _HOOKS):
        raise TypeError(f"optim_state.{function}: optimizer must be one of tinygrad_edu.optim's optimizers, "
                        f"got {type(optimizer).__name__}")
    return f"{type(optimizer).__name__}.{function}"


def state_dict(optimizer: Any) -> dict[str, np.ndarray]:
    """The state of ``optimizer`` as a flat dict of numpy arrays (copies); see ``Optimizer.state_dict``."""
    _where(optimizer, "state_dict")
    state = {"optimizer": np.array(type(optimizer).__name__), "parameter_count": np.array(len(optimizer.params))}
    for name in optimizer._settings + optimizer._counters:
        state[name] = np.array(getattr(optimizer, name))
        if state[name].dtype.kind == "O":  # (None, a ragged tuple: np.load(allow_pickle=False) cannot read it back)
            raise TypeError(f"{type(optimizer).__name__}.state_dict: the setting {name!r} is "
                            f"{getattr(optimizer, name)!r:.40}, which a state file cannot hold (np.load(path, "
                            "allow_pickle=False) would refuse it): a setting is a number, a bool, text or a tuple of "
                            "them (for 'none', a number such as math.inf)")
    for name in optimizer._generators:  # JSON keeps PCG64's 128-bit numbers exact
        state[name] = np.array(json.dumps(getattr(optimizer, name).bit_generator.state, default=_listed))
    per_parameter = optimizer._parameter_states()
    for i, p in enumerate(optimizer.params):
        if id(p) in per_parameter:
            for (field, kind), value in zip(optimizer._parameter_fields, per_parameter[id(p)], strict=True):
                # in the parameter's dtype, as loading wants it (a float64 grad set by hand on a float32
                # parameter makes float64 averages)
                state[f"state.{i}.{field}"] = np.array(value, dtype=None if kind == "count" else p.dtype)
    return state


def load_state_dict(optimizer: Any, state: Mapping[str, Any]) -> None:
    """Make ``optimizer`` go on from ``state``, checked in full first; see ``Optimizer.load_state_dict``."""
    where = _where(optimizer, "load_state_dict")
    path = isinstance(state, (str, os.PathLike))  # (a file's name instead of what np.load read from it)
    if not isinstance(state, Mapping):
        raise TypeError(f"{where}: expected a mapping of names to numpy arrays, as state_dict() makes, "
                        f"got {type(state).__name__}"
                        + (" (a path: read the file first, np.load(path, allow_pickle=False))" if path else ""))
    with checks.naming_the_file(state):
        _check_whole_directory(state, where)
        _check_keys(optimizer, state, where)
        settings = _checked_settings(optimizer, state, where)
        counters = {name: _counter(state, name, where) for name in optimizer._counters}
        _check_counters(counters, where)
        generators = {name: _generator_state(name, getattr(optimizer, name).bit_generator, state, where)
                      for name in optimizer._generators}
        per_parameter = _checked_parameter_states(optimizer, state, where)
    for name in optimizer._settings:
        setattr(optimizer, name, getattr(settings, name))
    for name, count in counters.items():
        setattr(optimizer, name, count)
    for name, generator_state in generators.items():
        getattr(optimizer, name).bit_generator.state = generator_state
    optimizer._set_parameter_states(per_parameter)


def _check_keys(optimizer: Any, state: Mapping[str, Any], where: str) -> None:
    """The state is one of this kind of optimizer, for as many parameters, with exactly the keys it needs."""
    kind, params = type(optimizer).__name__, optimizer.params
    if checks.saved_without_stars(state):  # (np.savez(path, opt.state_dict()): the ** forgotten)
        raise ValueError(f"{where}: missing 'optimizer' and 'parameter_count': "
                         + write_instead.SAVED_WITHOUT_STARS.format(who="opt"))
    if "optimizer" not in state and "parameter_count" not in state:  # a model's state, a PyTorch optimizer's, …
        keys = ", ".join(repr(key) for key, _ in zip(state, range(3))) + (", …" if len(state) > 3 else "")
        raise ValueError(f"{where}: missing 'optimizer' and 'parameter_count': this is no optimizer's "
                         f"state_dict() (its keys: {keys or 'none'}); a model's state or file is loaded by the model "
                         "(model.load_state_dict(state), model.load(path))")
    saved_kind = _entry(state, "optimizer", where)
    if saved_kind.shape != () or str(saved_kind) != kind:
        raise ValueError(f"{where}: 'optimizer' is {saved_kind.tolist()!r}, the state of another kind of optimizer "
                         f"than {kind}")
    count = _entry(state, "parameter_count", where)
    if count.shape != () or count.dtype.kind not in "iu":
        raise ValueError(f"{where}: 'parameter_count' must be a 0-d int array, got {count.dtype} of shape "
                         f"{count.shape}: {count.tolist()!r:.40}")
    if count != len(params):
        # (which parameters: the model's frozen ones, where it has them, else the first whose shape differs)
        which = _frozen_left_out(optimizer, int(count) - len(params)) or _first_difference(optimizer, state, int(count))
        raise ValueError(f"{where}: 'parameter_count' is {count.tolist()!r}, but this optimizer has "
                         f"{len(params)} parameters{which}")
    expected = {"optimizer", "parameter_count", *optimizer._settings, *optimizer._counters, *optimizer._generators}
    positions = {f"state.{i}.": i for i in range(len(params))}
    with_state = {positions[start] for key in state if isinstance(key, str)
                  and (start := key[:key.rfind(".") + 1]) in positions}
    expected.update(f"state.{i}.{field}" for i in with_state for field, _ in optimizer._parameter_fields)
    given = set(state)
    # (a few of them, each cut, inside its quotes: a crafted file may hold thousands of entries, or names of 60,000
    # characters)
    problems = [f"{what} {checks.listed(sorted(_cut(key) for key in keys))}"
                for what, keys in (("missing", expected - given), ("unexpected", given - expected)) if keys]
    if problems:
        raise ValueError(f"{where}: " + "; ".join(problems))


def _check_whole_directory(state: Mapping[str, Any], where: str) -> None:
    """What ``np.load`` read of a file: all the entries its zip archive's end record counts.  zipfile stops reading
    the directory where a damaged entry's lengths (a flipped bit) run past its end, and leaves the entries after it
    out without a word: the state of the last parameters, which would load as if they had never had a gradient."""
    archive = getattr(state, "zip", None) if isinstance(state, np.lib.npyio.NpzFile) else None
    if not isinstance(archive, zipfile.ZipFile) or archive.fp is None:  # (a dict; a closed file, which _entry tells)
        return
    file = archive.fp
    try:
        position = file.tell()
        try:
            file.seek(max(0, file.seek(0, os.SEEK_END) - 0xFFFF - 22))  # (the end record: a comment of 64 kB at most)
            tail = file.read()
        finally:
            file.seek(position)
    except (OSError, ValueError):  # (a file closed under np.load's feet: reading its entries fails, as _entry says)
        return
    end = tail.rfind(b"PK\x05\x06")
    # (its count twice, on this disk and in all: where they differ, a flipped bit in one, the count is not known)
    found = 0 <= end <= len(tail) - 22 and tail[end + 8: end + 10] == tail[end + 10: end + 12]
    counted = int.from_bytes(tail[end + 10: end + 12], "little") if found else None
    read = len(archive.infolist())
    if counted is not None and counted != 0xFFFF and read < counted:  # (0xFFFF: a ZIP64 archive's count is elsewhere)
        raise ValueError(f"{where}: the file's zip directory is damaged: np.load left out {counted - read} of its "
                         f"{counted} entries (save the state again, or load another copy of the file)")


def _first_difference(optimizer: Any, state: Mapping[str, Any], count: int) -> str:
    """Where a state of ``count`` parameters and the optimizer's parameters part, by the shapes of the arrays the
    state keeps per parameter (``state.3.velocity``; none before a step, none for plain SGD): the first position
    whose shapes differ, or the parameters one side has beyond the other's; "" where the state shows no shapes.  Where
    the fewer parameters of one side match the last ones of the other, it says so: the first ones were frozen when
    one optimizer was built and not when the other was (a fine-tuning run), a cause as likely as a missing layer."""
    fields = [field for field, kind in optimizer._parameter_fields if kind != "count"]
    saved: dict[int, tuple[int, ...]] = {}
    for i in range(min(count, 10_000)):  # (a crafted count: no more positions than a model has)
        key = next((f"state.{i}.{field}" for field in fields if f"state.{i}.{field}" in state), None)
        if key is None:  # (no step of it saved: no shape to compare)
            continue
        with contextlib.suppress(Exception):  # (an entry that cannot be read: the check of each entry says so)
            saved[i] = tuple(np.shape(state[key]))
    if not saved:
        return ""
    params = optimizer.params
    tail = _frozen_first(params, saved, count)
    for i, shape in saved.items():
        if i < len(params) and shape != params[i].shape:
            return (f"; the first that differs is parameter {i} {_named(params[i])}of shape {params[i].shape}, "
                    f"where the state holds {shape}{tail}")
    if count < len(params):
        rest = ", ".join(f"{_named(p)}{p.shape}" for p in params[count:][:3])
        return (f"; the state's {count} match this optimizer's first {count} in shape; it has none for the others "
                f"({rest}{', …' * (len(params) > count + 3)}){tail}")
    return (f"; this optimizer's {len(params)} match the state's first {len(params)} in shape; the state holds "
            f"{count - len(params)} more{tail}")


def _frozen_first(params: list[Value], saved: dict[int, tuple[int, ...]], count: int) -> str:
    """What :func:`_first_difference` adds where the fewer parameters of one side match the other's last ones in
    shape (``saved``: the state's shapes by position, of ``count`` parameters), else ""."""
    if 0 < count < len(params) and all(shape == params[len(params) - count + i].shape for i, shape in saved.items()):
        last = ", ".join(f"{_named(p)}{p.shape}" for p in params[len(params) - count:][:3])
        return (f"; the state's {count} match this optimizer's last {count} in shape ({last}{', …' * (count > 3)}): "
                "saved while the first ones were frozen? freeze them again before building the optimizer")
    more = count - len(params)
    if 0 < len(params) < count and all(saved.get(more + i, p.shape) == p.shape for i, p in enumerate(params)):
        return (f"; this optimizer's {len(params)} match the state's last {len(params)} in shape: saved before the "
                "first ones were frozen? unfreeze them (requires_grad_(True)), build the optimizer, load the state, "
                "and freeze them again")
    return ""


def _named(parameter: Value) -> str:
    """``'W^1' ``, a parameter's label and a space for a message (which layer's), or "" where it has none."""
    return f"{parameter.label!r} " if parameter.label not in (None, "") else ""


def _frozen_left_out(optimizer: Any, more: int) -> str:
    """Where the state holds ``more`` parameters than the optimizer and the Module it was built from has frozen
    ones, which an optimizer built from it leaves out: the optimizer saved was built before they were frozen (a
    fine-tuning run; ``nn.load`` freezes them again).  What to do, for the message; else ""."""
    source = getattr(optimizer, "built_from", None)
    if more <= 0 or source is None:
        return ""
    try:
        trained = {name for name, _ in source.named_parameters()}
        frozen = [name for name in source.state_dict() if name not in trained]  # (the state holds frozen ones too)
    except TypeError:  # (a Module that since holds a Value computed by an operation: its own error says so elsewhere)
        return ""
    if not frozen:
        return ""
    return (f"; the model it was built from has {len(frozen)} frozen ones ({checks.listed(frozen)}), which an "
            "optimizer built from it leaves out: if the saved one was built before they were frozen, unfreeze them, "
            "model.requires_grad_(True), build the optimizer from the model, load the state, and freeze them again")


def _cut(key: Any) -> str:
    """A state's key for a message, at most 60 characters of it quoted (its repr cut would lose the closing quote)."""
    return repr(key[:60]) if isinstance(key, str) else repr(key)[:60]


def _checked_settings(optimizer: Any, state: Mapping[str, Any], where: str) -> Any:
    """The saved settings, checked as the constructor checks them: a copy of the optimizer holding them."""
    settings: dict[str, Any] = {}
    for name in optimizer._settings:
        value, shape = _entry(state, name, where), np.shape(getattr(optimizer, name))
        if value.shape != shape:
            raise ValueError(f"{where}: {name!r} must have shape {shape}, got {value.shape}")
        # (a tuple comes back as one: tolist() gives a list, which a setting of one's own would keep as it is)
        settings[name] = tuple(value.tolist()) if isinstance(getattr(optimizer, name), tuple) else value.tolist()
    # set on a copy of the optimizer, where each setting checks itself as the constructor's does (see _Setting);
    # not by calling the constructor, which a subclass of one's own may give other arguments
    checked = object.__new__(type(optimizer))
    checked.__dict__.update(vars(optimizer))
    try:
        for name, value in settings.items():
            setattr(checked, name, value)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{where}: {str(error).removeprefix(type(optimizer).__name__ + ': ')}") from None
    return checked


def _checked_parameter_states(optimizer: Any, state: Mapping[str, Any], where: str) -> dict[int, tuple[Any, ...]]:
    """Each parameter's saved state (checked against the parameter), by ``id`` of the parameter."""
    per_parameter = {}
    for i, p in enumerate(optimizer.params):
        keys = [(f"state.{i}.{field}", kind) for field, kind in optimizer._parameter_fields]
        if keys and keys[0][0] in state:  # _check_keys made sure: all of a parameter's keys or none
            per_parameter[id(p)] = tuple(_parameter_entry(state, key, kind, p, where) for key, kind in keys)
    return per_parameter


def _entry(state: Mapping[str, Any], key: str, where: str) -> np.ndarray:
    """``state[key]``, which must be there and be a numpy array.  Reading it may read a file (``np.load``'s
    NpzFile reads each entry when asked): a damaged entry, or a file closed since, is a ValueError naming the key,
    not zipfile's or numpy's error without it."""
    if key not in state:
        raise ValueError(f"{where}: missing {key!r}")
    try:
        value = state[key]
    except Exception as error:  # (BadZipFile, EOF, allow_pickle, a closed file's AttributeError, …: any of them)
        raise ValueError(f"{where}: {key!r} cannot be read ({type(error).__name__}: {error}); a file from np.load "
                         "must be whole and still open (inside its with-block)") from error
    if isinstance(value, np.generic):  # a numpy scalar: numpy's arithmetic on a 0-d entry gives one (state[key] * 2)
        value = np.asarray(value)
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{where}: {key!r} must be a numpy array, got {type(value).__name__}")
    checks.unmasked(value, repr(key), where, ValueError)  # (its masked numbers would be loaded, and fail a step)
    return value


def _counter(state: Mapping[str, Any], key: str, where: str) -> int:
    """A saved counter, an int >= 0; a float or an array of them is a damaged state, a ValueError."""
    value = _entry(state, key, where).tolist()
    try:
        return checks.integer(value, repr(key), where, least=0)
    except TypeError as error:
        raise ValueError(str(error)) from None


def _check_counters(counters: dict[str, int], where: str) -> None:
    """Each counter counts some of what the next one counts (RandomSearch: the changes kept, of those tried), so
    none exceeds the next; a state where one does is damaged, a ValueError."""
    names = list(counters)
    for smaller, larger in zip(names, names[1:]):
        if counters[smaller] > counters[larger]:
            raise ValueError(f"{where}: {smaller!r} is {counters[smaller]}, more than {larger!r} "
                             f"({counters[larger]}), which counts them among others")


def _parameter_entry(state: Mapping[str, Any], key: str, kind: str, parameter: Value, where: str) -> Any:
    """One array of a parameter's saved state (see ``Optimizer._parameter_fields``), checked; a copy."""
    value = _entry(state, key, where)
    if kind == "count":
        if value.shape != () or value.dtype.kind not in "iu" or value < 1:
            raise ValueError(f"{where}: {key!r} must be a step count, a 0-d int array >= 1, got {value.dtype} "
                             f"of shape {value.shape}" + (f" = {value}" if value.shape == () else ""))
        return int(value)
    if value.dtype.kind == "f":  # big-endian ones too (np.load of a file saved on such a machine), as the model's
        value = value.astype(value.dtype.newbyteorder("="), copy=False)
    if value.shape != parameter.shape or value.dtype != parameter.dtype:
        label = f" {parameter.label!r}" if parameter.label not in (None, "") else ""  # (W^1: which layer's)
        raise ValueError(f"{where}: {key!r} must have the shape {parameter.shape} and dtype {parameter.dtype} of "
                         f"its parameter{label}, got {value.shape} {value.dtype}" + _dtype_advice(value, parameter))
    if kind == "nonnegative":  # an average of squares may overflow to +inf, as in PyTorch's Adam (float32 above
        if not (value >= 0).all():  # |g| ≈ 1.8e19): the step then leaves that number alone, and so does a resumed one
            raise ValueError(f"{where}: {key!r} must hold numbers >= 0 (inf allowed), not NaN or negative ones")
    elif not np.isfinite(value).all():
        raise ValueError(f"{where}: {key!r} must hold finite numbers")
    return value.copy()


def _dtype_advice(value: np.ndarray, parameter: Value) -> str:
    """What to do when a state saved from a model of another float dtype meets this one: the steps take the
    parameter's dtype, so loading first and converting the model afterwards (``model.float()``) works."""
    if value.shape != parameter.shape or value.dtype not in (np.float32, np.float64):  # (no model is float16)
        return ""
    return (f"; the state was saved while the model was {value.dtype}: load it into the model in {value.dtype}, "
            f"then convert the model to {parameter.dtype}")


def _listed(item: Any) -> Any:
    """What JSON cannot write of a generator's state (MT19937's key array) as a list."""
    return np.asarray(item).tolist()


def _generator_state(name: str, bit_generator: np.random.BitGenerator, state: Mapping[str, Any],
                     where: str) -> dict[str, Any]:
    """The saved state of a random generator (JSON in a 0-d string array), checked by numpy on a throwaway
    generator of ``bit_generator``'s kind, which must hold it exactly: numpy quietly cuts a count of 1.5 to 1."""
    text = _entry(state, name, where)
    kind, ours = _saved_kind(text), type(bit_generator).__name__
    if kind is not None and kind != ours:  # (a generator made by hand: np.random.Generator(np.random.MT19937(0)))
        raise ValueError(f"{where}: {name!r} is no state of a {ours}, this optimizer's {name}, but of a {kind}: "
                         f"make the optimizer with {name}=np.random.Generator(np.random.{kind}()) and load the state "
                         "into it")
    try:
        if text.shape != () or text.dtype.kind != "U":
            raise TypeError(f"an array of dtype {text.dtype} and shape {text.shape}, not JSON text")
        nested = json.loads(str(text))
        throwaway = type(bit_generator)()
        throwaway.state = nested
        if json.loads(json.dumps(throwaway.state, default=_listed)) != nested:
            raise ValueError("numpy takes it as another state, so the generator would not go on where it was saved")
    except (TypeError, ValueError, KeyError, OverflowError, RecursionError) as error:  # (numpy: a negative or too
        # large count; json: lists nested thousands deep)
        raise ValueError(f"{where}: {name!r} is no state of a {type(bit_generator).__name__} ({error})") from None
    return nested


def _saved_kind(text: np.ndarray) -> str | None:
    """The name of numpy's bit generator (``"MT19937"``) whose state the saved JSON text holds, else None."""
    try:
        kind = json.loads(str(text)).get("bit_generator") if text.shape == () and text.dtype.kind == "U" else None
    except (ValueError, AttributeError, RecursionError):  # (not JSON, or not a dict: _generator_state says so)
        return None
    bit_generator = getattr(np.random, kind, None) if isinstance(kind, str) else None
    return kind if isinstance(bit_generator, type) and issubclass(bit_generator, np.random.BitGenerator) else None


def __dir__() -> list[str]:
    """``dir()`` of this module lists its API (``__all__``), not its helpers and imports."""
    return sorted(__all__)
