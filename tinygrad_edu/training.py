"""The training loop (seed, section 7): episodes of forward propagation, backpropagation and parameter updates.

    >>> import numpy as np
    >>> from tinygrad_edu import nn, optim
    >>> from tinygrad_edu.training import fit
    >>> x = np.linspace(-1, 1, 200).reshape(-1, 1)
    >>> net = nn.MLP([1, 8, 1], activation="tanh", output_activation="identity", init="xavier", rng=0)
    >>> history = fit(net, x, x**2, optimizer=optim.Armijo(net), episodes=100, progress=False)
    >>> history.final_cost < history.cost[0]
    True
"""

from __future__ import annotations

import contextlib
import functools
import html
import importlib
import importlib.util
import inspect
import math
import reprlib
import signal
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu import checks, nn, write_instead
from tinygrad_edu.data import USE_TARGETS, batches
from tinygrad_edu.engine import Value, backward_order, enable_grad, no_grad
from tinygrad_edu.losses import COSTS, KERAS_NAMES, cross_entropy, pytorch_cost_advice, squared_error
from tinygrad_edu.optim import RandomSearch, cost_with_gradient, gradient_norm
from tinygrad_edu.seeds import GENERATOR_AS_SEED, USE_SEED, Seed, generator

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["History", "fit", "DivergenceWarning", "DIVERGENCE_FACTOR"]

#: A cost this many times the cost before any update counts as diverging (:class:`DivergenceWarning`).
DIVERGENCE_FACTOR = 1e3


class DivergenceWarning(RuntimeWarning):
    """The cost grew by orders of magnitude during training: the learning rate overshoots (seed 7.2)."""


@dataclass
class History:
    """What happened during training, one entry per episode (ready for a cost plot).

    - ``cost``: the cost at the start of the episode, on all training samples (full batch), or the average of
      the batch costs during the episode weighted by the batches' sizes (a smaller last batch counts less), each
      taken before its batch's update (mini-batches; an episode cut short by Ctrl-C is recorded with the batches
      it made);
    - ``gradient_norm``: ``‖∇C‖`` at that point (mini-batches: the average over the episode's batches, weighted
      by their sizes as ``cost`` is, each taken before its batch's update);
    - ``step_size``: Armijo's accepted step (mini-batches: the last batch's), the learning rate for the other
      gradient methods, None for random search and for a full-batch episode that only found its cost at or below
      ``cost_goal``, ``‖∇C‖ ≤ tol``, or
      ``‖∇C‖ = 0`` (the seed's STOP, ``stopped`` "zero gradient": no step was taken; with mini-batches every
      episode makes all its updates, see :func:`fit`);
    - ``seconds``: the time since training started, at the end of the episode.

    ``final_cost`` is the cost on all training samples after the last update (None where Ctrl-C interrupted fit
    while it computed it); ``stopped`` says why training ended: ``"episodes"``, ``"cost goal"`` (a cost at or below
    fit's ``cost_goal``), ``"tol"``, ``"interrupted"``,
    ``"no descent step"`` (full batch: Armijo found no step size that decreases the cost enough, so every further
    episode would fail the same way), ``"zero gradient"`` (full batch: ``‖∇C‖`` was exactly 0 and the update
    changed nothing, see :func:`fit`) or, in the history of fit's ``FloatingPointError``, ``"not finite"`` (a NaN
    or infinite cost or gradient), and in the history of a :class:`DivergenceWarning` raised as an error
    (``warnings.simplefilter("error", DivergenceWarning)`` stops a diverging run), ``"diverging"``; ``label``
    names the run in plot legends.

    With this package's optimizers the fields are plain Python floats (None where an episode has no step size) and
    strs (an optimizer of one's own whose ``last_step_size`` is a Value or numpy number of one element too: fit
    records it as a float, each episode's its own), so ``json.dumps(dataclasses.asdict(history))`` saves a History
    and ``History(**json.loads(text))`` loads it back equal; ``pd.DataFrame(dataclasses.asdict(history))`` is a
    table of it, one row per episode, which ``plots.plot_history`` draws as it draws the History.

    A run trained in pieces (fit called again, one episode per call for a learning-rate schedule, another
    optimizer) is one History again with ``+``: ``first + rest``, or ``sum(pieces)``; see :meth:`__add__`
    (:meth:`concatenate` joins thousands of pieces in linear time).
    """

    cost: list[float] = field(default_factory=list)
    gradient_norm: list[float] = field(default_factory=list)
    step_size: list[float | None] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    label: str = ""
    stopped: str = ""
    final_cost: float | None = None

    @property
    def episodes(self) -> int:
        """How many episodes were recorded."""
        return len(self.cost)

    def __add__(self, other: History) -> History:
        """The run of ``self`` and then of ``other``, as one History (a new one): the episodes of ``other`` follow
        those of ``self`` and its ``seconds`` count on from self's last; ``final_cost`` and ``stopped`` are those
        of ``other`` (of ``self`` where ``other`` has no episodes and none: a ``final_cost`` None after episodes,
        Ctrl-C in fit's pass after the last update, stays None); the label is the two joined by " + ", or one of them
        where the other is empty or repeats the last (pieces of one optimizer keep its name).

            >>> a = History([4.0, 2.0], [4.0, 2.0], [0.1, 0.1], [0.5, 1.0], "SGD", "episodes", 1.5)
            >>> b = History([1.5], [1.0], [0.5], [0.25], "Armijo", "episodes", 1.0)
            >>> a + b
            History(label='SGD + Armijo', episodes=3, first_cost=4, final_cost=1, stopped='episodes')
            >>> (a + b).seconds
            [0.5, 1.0, 1.25]
        """
        if not isinstance(other, History):
            return NotImplemented
        return History.concatenate([self, other])

    @classmethod
    def concatenate(cls, pieces: Iterable[History]) -> History:
        """``pieces[0] + pieces[1] + …`` (see :meth:`__add__`), the same History that ``sum(pieces)`` gives, in time
        linear in the episodes, where ``sum`` copies the run so far at each ``+`` (quadratic: 0.05 s for 3,000
        pieces of one episode); ``History()`` for no pieces."""
        try:
            iterator = iter(pieces)
        except TypeError:  # (a History, a number, a Value of one number)
            raise TypeError(f"History.concatenate: pieces must be a list of Histories (fit's), got "
                            f"{type(pieces).__name__}") from None
        run = cls()
        for i, piece in enumerate(iterator):
            if not isinstance(piece, History):
                raise TypeError(f"History.concatenate: piece {i} is {type(piece).__name__}, not a History")
            offset = run.seconds[-1] if len(run.seconds) else 0.0
            last = run.label.rpartition(" + ")[2]
            if piece.label not in ("", last):
                run.label = " + ".join(filter(None, (run.label, piece.label)))
            run.final_cost = run.final_cost if piece.final_cost is None and not piece.cost else piece.final_cost
            run.stopped = piece.stopped or run.stopped
            run.cost.extend(piece.cost)
            run.gradient_norm.extend(piece.gradient_norm)
            run.step_size.extend(piece.step_size)
            run.seconds.extend(piece.seconds if i == 0 else (offset + s for s in piece.seconds))  # (0 + first)
        return run

    def plot(self, **options: Any) -> Figure:
        """The cost per episode, drawn: ``plots.plot_history(history, **options)`` (a pandas user's
        ``history.plot()``), a Figure of its own."""
        from tinygrad_edu import plots  # (on demand, as the package imports it: matplotlib loads only to draw)

        return plots.plot_history(self, **options)

    def __radd__(self, other: Any) -> History:
        """``0 + history``: ``sum(histories)`` starts from 0, as it does for numbers."""
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self + History()
        return NotImplemented

    def __dir__(self) -> list[str]:
        """Its attributes, without Keras's names that are only there to say what to read (``history``, ``loss``)."""
        return checks.present(self, super().__dir__())

    def _add(self, cost: float, gradient_norm: float, step_size: float | None, seconds: float) -> None:
        """Record one more episode."""
        self.cost.append(cost)
        self.gradient_norm.append(gradient_norm)
        self.step_size.append(step_size)
        self.seconds.append(seconds)

    def __repr__(self) -> str:
        """The first and final cost to 4 digits.  The fields are plain lists, filled by fit or by hand, and checked
        where they are used (plot_history): what is not one number prints as its repr, a ``cost`` that is no list
        as itself, rather than the repr raising."""
        try:
            episodes = f"episodes={len(self.cost)}, first_cost={_cost_text(self.cost[0]) if len(self.cost) else None}"
        except (TypeError, KeyError):  # cost=None, or a number: no list of costs
            episodes = f"cost={self.cost!r:.60}"
        return (f"History(label={self.label!r}, {episodes}, final_cost={_cost_text(self.final_cost)}, "
                f"stopped={self.stopped!r})")

    def _repr_html_(self) -> str:
        """Jupyter's view of a History as a cell's last expression: its episodes, first and final cost and why
        training stopped, in a small table, and how to draw the cost per episode (matplotlib is not loaded here)."""
        try:
            first = _cost_text(self.cost[0]) if len(self.cost) else "none"
            episodes: Any = len(self.cost)
        except (TypeError, KeyError):  # (fields filled by hand: shown as the text repr shows them)
            first, episodes = "", f"cost={self.cost!r:.60}"
        why = _WHY_STOPPED.get(self.stopped, "") if isinstance(self.stopped, str) else ""
        rows = [("run", self.label), ("episodes", episodes), ("cost in episode 1", first),
                ("cost after the last update", _cost_text(self.final_cost)), ("stopped", f"{self.stopped}{why}")]
        cells = "".join(f"<tr><th style='text-align:left'>{name}</th><td style='text-align:left'>"
                        f"{html.escape(str(value))}</td></tr>" for name, value in rows if value != "")
        return (f"<table><caption style='text-align:left'>History</caption>{cells}</table><p style='margin:0'>"
                "The cost per episode: <code>plots.plot_history(history)</code> (or <code>history.plot()</code>)</p>")


#: What History's ``stopped`` means, for its view in Jupyter (:meth:`History._repr_html_`).
_WHY_STOPPED = {"episodes": " (all episodes made)", "cost goal": " (a cost at or below cost_goal)",
                "tol": " (‖∇C‖ ≤ tol)", "interrupted": " (Ctrl-C or the stop button)",
                "no descent step": " (Armijo found no step that decreases the cost)",
                "zero gradient": " (‖∇C‖ = 0, the seed's STOP)", "not finite": " (a NaN or inf cost or gradient)",
                "diverging": " (a DivergenceWarning raised as an error)"}

#: Keras's names for what a History holds, and what to read here (class attributes that say it: checks.Absent).
_KERAS_HISTORY = {
    "history": "its fields are attributes here: history.cost is Keras's history.history['loss'] (one entry per "
               "episode), history.gradient_norm, history.step_size, history.seconds; dataclasses.asdict(history) "
               "is a dict of them",
    "loss": "the cost of every episode is history.cost (Keras's history.history['loss']), the cost after the last "
            "update history.final_cost",
    "epoch": "the episodes are counted from 1 to len(history.cost) (history.episodes of them); history.cost[i] is "
             "the cost of episode i + 1",
}
for _name, _advice in _KERAS_HISTORY.items():
    setattr(History, _name, checks.Absent(_name, _advice, checks.KERAS_ABSENT))


def _cost_text(cost: Any) -> str:
    """A cost in History's repr: a number (a numpy one, a Value of one number) to 4 digits, anything else (None, a
    string) as its repr, cut short."""
    try:
        return f"{cost:.4g}"
    except OverflowError:  # an int beyond every float (10**400): its size, as error messages write it
        return checks.readable_int(cost)
    except (TypeError, ValueError):
        return reprlib.repr(cost)


def _as_array(data: Any, name: str) -> np.ndarray:
    checks.unmasked(data, f"the {name}", "fit")
    checks.not_a_dataset(data, f"the {name}", "fit", _GIVE_APART[name])
    checks.not_an_array(data, f"the {name}", "fit")
    try:
        array = data.data if isinstance(data, Value) else np.asarray(data)
    except (ValueError, TypeError) as error:  # ragged nested lists
        several = _SEVERAL_INPUTS if name == "inputs" and isinstance(data, (list, tuple)) and len(data) > 1 and all(
            getattr(part, "ndim", 0) == 2 for part in data) else ""  # fit([x1, x2], y): tables of different widths
        raise ValueError(f"fit: the {name} are not an array of numbers, one entry per sample: "
                         f"{str(error).rstrip('.') + several if several else error}") from None
    if array.dtype.kind == "O" and array.size and all(isinstance(x, (int, float)) for x in array.flat):
        with contextlib.suppress(OverflowError):  # (ints beyond every float: refused below)
            array = array.astype(np.float64)  # a DataFrame of bool, int and float columns (pandas gives objects)
    if array.dtype.names:  # records of named fields made by np.asarray (a list of np.genfromtxt's rows)
        checks.not_an_array(array, f"the {name}", "fit")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"fit: {name} must be numbers, one entry per sample, got {type(data).__name__} "
                        f"(dtype {array.dtype}){_not_a_number(data, array)}")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        not_finite = ~np.isfinite(array)
        at = tuple(int(i) for i in np.unravel_index(int(np.argmax(not_finite)), array.shape))  # (no index per NaN)
        samples = "" if array.ndim == 0 else _samples_at(not_finite.reshape(len(array), -1).any(axis=1))
        raise ValueError(f"fit: the {name} hold NaN or inf (the first at index {at}: "
                         f"{array[at]}){samples}{_whole_columns(not_finite)}")
    if array.ndim == 0:
        raise ValueError(f"fit: {name} must hold one entry per sample, got a single number")
    return array


#: What to give instead of a Dataset (train_test_split's part) as fit's inputs or targets.
_GIVE_APART = {"inputs": "give its arrays apart, fit(model, data.inputs, targets, ...), with data.labels as the "
                         "targets of cross_entropy or one_hot(data.labels) as those of squared_error",
               "targets": "give its .labels (the targets of cross_entropy) or one_hot(data.labels) (those of "
                          "squared_error), and its .inputs as the inputs"}


def _whole_columns(not_finite: np.ndarray) -> str:
    """What to do with the samples that hold NaN or inf: leave them out, unless whole columns hold them in every
    sample (inputs standardised with a column's standard deviation of 0, a constant column: 0/0), which no sample
    can be left out for."""
    columns = np.flatnonzero(not_finite.all(axis=0)) if not_finite.ndim == 2 and len(not_finite) > 1 else np.zeros(0)
    if not len(columns):
        return "; leave those samples out, or fill them in"
    shown = ", ".join(str(i) for i in columns[:5]) + (f" and {len(columns) - 5} more" if len(columns) > 5 else "")
    return (f"; {'column' if len(columns) == 1 else 'columns'} {shown} "
            f"{'holds' if len(columns) == 1 else 'hold'} them in every sample: a column divided by "
            "its standard deviation of 0 (a constant column, standardised) is 0/0; divide by np.where(std > 0, std, "
            "1), or leave those columns out")


def _samples_at(rows: np.ndarray) -> str:
    """Which samples the boolean ``rows`` marks, for an error: how many of all, and their positions (the first few)."""
    found = np.flatnonzero(rows)
    shown = ", ".join(str(i) for i in found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
    return f" in {checks.counted(len(found), 'sample')} of {len(rows)} ({'row' if len(found) == 1 else 'rows'} {shown})"


#: What to do with a model's several inputs given as a list of arrays (Keras's ``fit([x1, x2], y)``).
_SEVERAL_INPUTS = ("; fit calls the model with one array of inputs, one row per sample: for a model of several inputs, "
                   "join them as columns, np.hstack([x1, x2]), and split them in its forward (x[:, :k], x[:, k:])")


def _one_sample_hint(inputs: np.ndarray, targets: np.ndarray) -> str:
    """For one sample given flat (inputs and targets of different lengths, which would both be one sample as rows):
    fit counts a flat array's numbers as samples, where a network takes ``(k,)`` as one sample of k inputs.  For
    targets (or inputs) stacked one row per output, ``(k, n)``: their transpose."""
    if inputs.ndim >= 3 and len(inputs) < inputs.shape[1] == len(targets):  # fit([x1, x2], y): tables of one width
        return f"; inputs of shape {inputs.shape} look like {len(inputs)} arrays of {len(targets)} samples each" + \
            _SEVERAL_INPUTS
    both = (inputs, targets)
    for name, array, other, row in (("targets", targets, inputs, "output"), ("inputs", inputs, targets, "input")):
        # np.stack([y1, y2, y3]): a row each, fewer rows than samples (inputs (2, n) and targets (n, 2): the inputs)
        if array.ndim == 2 and len(array) < array.shape[1] == len(other):
            return (f"; {name} of shape {array.shape} hold one row per {row}, not per sample (np.stack stacks on "
                    f"axis 0): give {name}.T, or np.stack(…, axis=1)")
    if not all(a.ndim == 1 or len(a) == 1 for a in both) or not any(a.ndim == 1 and len(a) > 1 for a in both):
        return ""  # (several samples on one side: the counts differ, rows would not help)
    flat = [f"{name}.reshape(1, -1)" for name, array in (("inputs", inputs), ("targets", targets)) if array.ndim == 1]
    return (f"; the first axis counts the samples, so a flat array holds one number per sample: one sample of "
            f"several numbers is a row, {' and '.join(flat)}")


def _not_flat(prediction: Any, error: str) -> Any:
    """``prediction``, unless it holds one number per sample as the flat targets do (flat, or a column): then the
    ValueError ``error``, which says how to give the targets as a column (and, beside flat outputs, which
    mean_squared_error pairs with flat targets, that cost: it refuses a column of outputs)."""
    shape = getattr(prediction, "shape", (0, 0))
    if shape[1:] in ((), (1,)):
        raise ValueError(error + (", or cost=losses.mean_squared_error" if len(shape) == 1 else ""))
    return prediction


def _column_of(targets: Any) -> str:
    """How to make flat targets a column: pandas' Series has no reshape."""
    return "targets.to_numpy().reshape(-1, 1)" if hasattr(targets, "to_numpy") else "targets.reshape(-1, 1)"


def _not_a_number(data: Any, array: np.ndarray) -> str:
    """Where an array of objects holds something other than a number: its position, or a DataFrame's column."""
    where, found = next(((at, x) for at, x in np.ndenumerate(array) if not isinstance(x, (int, float))), ((), None))
    if not where:
        return ""
    columns: Any = getattr(data, "columns", None)
    by_column = columns is not None and array.ndim == 2 and len(columns) == array.shape[1]
    place = f"column {columns[where[-1]]!r}" if by_column else f"index {tuple(int(i) for i in where)}"
    if type(found).__name__ == "NAType":  # pandas' pd.NA, in a column of its nullable dtypes (Int64, Float64, boolean)
        return f"; {place} holds a missing value (pd.NA): drop or fill them first (dropna(), fillna())"
    return f"; {place} holds {type(found).__name__} {found!r:.40}: encode it as numbers first"


@dataclass
class _Run:
    """fit's arguments, checked."""

    model: Callable[[Any], Value]
    cost: Callable[[Value, Any], Value]
    optimizer: Any
    params: list[Value]
    inputs: np.ndarray
    targets: np.ndarray
    episodes: int
    batch_size: int | None
    shuffle: bool
    rng: np.random.Generator | None  # None where nothing is shuffled
    tol: float | None
    flat: str | None  # the error for a model giving one number per sample where the targets are flat
    cost_goal: float | None = None  # stop at the first episode whose cost is at or below it (seed 7.1)
    interrupted: bool = False  # Ctrl-C was pressed: training ends after the update under way
    start_cost: float | None = None  # on all samples before any update, for DivergenceWarning (NaN: not known)
    first_batch: tuple[float, float] | None = None  # mini-batches: the first batch's cost, its share of the samples
    start: list[np.ndarray] | None = None  # mini-batches: the parameters before any update
    stepped_before: bool = False  # the optimizer made steps before this call (an earlier fit, a loop of one's own)
    replaced: tuple[list[Value], str] | None = None  # Values the optimizer holds besides the model's (_replaced_layer)
    bar: Any = None  # the progress bar, if any: mini-batches show the batch under way on it (_show_batch)
    history: History | None = None  # the episodes so far (for the message of a cost that turns NaN or inf)

    def not_finite_hint(self) -> str | None:
        """Why the cost turned NaN or inf after updates: None for the usual cause, that the steps diverged (said by
        cost_with_gradient); but where the cost was falling up to the episode before (a cost function undefined
        beyond some point, ln of a negative number), what happened: the last finite cost and the step size that led
        here.  (The hint is not told the number: an inf may also be one step so large that the cost overflowed,
        which the message's "a cost of inf" and this hint's last sentence cover.)"""
        history = self.history
        costs = [] if history is None else history.cost
        if len(costs) < 2 or not costs[-1] < costs[-2]:
            return None
        assert history is not None
        step = history.step_size[-1]
        taken = f", then a step of size {step:g}" if isinstance(step, float) else ", then a step"
        return (f"the cost was falling, not diverging steadily (to {costs[-1]:.4g} in episode {len(costs)}{taken}), "
                "so the cost function may be undefined at the new parameters (a logarithm or a square root of a "
                "negative number, 0/0, a division by 0): keep its argument in its domain (clip it, or compute it from "
                "a form that stays in it), or take smaller steps that stop short of that edge; an inf may also be "
                "that one step going so far that the cost overflowed, which a smaller learning rate or step size "
                "avoids")

    def closure(self, inputs: Any, targets: Any) -> Callable[[], Value]:
        """The cost on these samples at the current parameters (forward only)."""
        flat = self.flat
        if flat is not None:  # (a prediction of k outputs per sample gets squared_error's own error)
            return lambda: self.cost(_not_flat(_forward(self.model, inputs), flat), targets)
        return lambda: self.cost(_forward(self.model, inputs), targets)

    @functools.cached_property
    def cost_name(self) -> str:
        """The cost function's name, for messages (found once: every batch's ``where`` names it)."""
        return _function_name(self.cost)

    def forward_backward(self, closure: Callable[[], Value], episode: int, first: bool, targets: np.ndarray
                         ) -> tuple[Value, float, float]:
        """``cost_with_gradient`` naming the episode, and ``‖∇C‖``; ``first``: before any update (a NaN there is
        no divergence); ``targets``: those the closure gives the cost.  A gradient that is not finite, or (first)
        that reaches no parameter, is an error; one raised in the first pass (fit's checks of the cost) leaves the
        parameters' ``grad`` as fit found them, and so does Ctrl-C in any pass (the gradients of the last update:
        that pass had set them to None)."""
        found = [p.grad for p in self.params]  # (cost_with_gradient sets them to None, it changes no array)
        try:
            return self._forward_backward(closure, episode, first, targets)
        except BaseException as error:
            if first or isinstance(error, KeyboardInterrupt):  # (a NaN gradient after updates is left to be seen)
                for p, grad in zip(self.params, found, strict=True):
                    p.grad = grad
            raise

    def _forward_backward(self, closure: Callable[[], Value], episode: int, first: bool, targets: np.ndarray
                          ) -> tuple[Value, float, float]:
        """:meth:`forward_backward`, without putting the gradients back."""
        where = self._where if self._where_episode == episode else self._where_in(episode)
        try:
            if first and self.stepped_before:  # this call's start, not training's: earlier steps may have diverged
                cost, number = cost_with_gradient(closure, self.params, where, hint="that is the cost at the start "
                                                  "of this call, before its first update, but the optimizer made "
                                                  "steps before it (an earlier call of fit, or a loop of your own), "
                                                  "which may have diverged: try a smaller learning rate or step size")
            elif first:
                cost, number = cost_with_gradient(closure, self.params, where, hint="that is the cost at the start, "
                                                  "before any update: check the inputs, the targets, the model and "
                                                  "the cost function")
            else:
                cost, number = cost_with_gradient(closure, self.params, where, hint=self.not_finite_hint)
        except MemoryError as error:  # (n, n) from flat targets (or a column), too large to make, before the warning
            first_batch = min(self.batch_size or len(self.targets), len(self.targets))
            one_each = first and self.targets.shape[1:] in ((), (1,))  # (flat targets, or a column)
            paired = _paired_across_error(error, where, first_batch, self.targets.ndim == 1) if one_each else None
            if paired is None:
                raise
            raise paired from error
        if first and self.replaced and any(p.grad is None for p in self.replaced[0]):
            raise ValueError(self.replaced[1])
        if first and self.targets.shape[1:] in ((), (1,)) and not any(self.cost is known for known in COSTS.values()):
            _warn_if_paired_across(cost, self.cost_name, targets)  # (the library's costs refuse shapes that differ)
            if len(targets) < len(self.targets):
                _warn_if_weighed_by_all_samples(cost, self.cost_name, targets, len(self.targets))
        norm = gradient_norm(self.params)
        if not math.isfinite(norm) or (first and norm == 0.0):
            self._check_gradient(number, norm, where, first)
        return cost, number, norm

    _where_episode, _where = 0, ""  # (the text for the episode under way: made once, not at each of its batches)

    def _where_in(self, episode: int) -> str:
        """What the messages of a forward and backward pass in ``episode`` name (kept for its other batches)."""
        self._where_episode, self._where = episode, f"fit: in episode {episode} of {self.episodes}, the cost " \
                                                    f"function {self.cost_name}"
        return self._where

    def _check_gradient(self, number: float, norm: float, where: str, first: bool) -> None:
        """The errors of :meth:`forward_backward`: none of the parameters reached by the gradient (their ``grad``
        is None) in the first backward pass; NaN or inf in a gradient at the finite cost ``number`` (except for
        random search, which uses no gradient)."""
        grads = [p.grad for p in self.params if p.grad is not None]
        if first and not grads:
            frozen = sum(not p.requires_grad for p in self.params)
            raise ValueError(f"fit: the cost does not depend on any of the optimizer's {len(self.params)} "
                             "parameters (backward() reached none of them), so training would change nothing: "
                             "the model must compute with the Values the optimizer was built from"
                             + (f"; {frozen} of them are frozen (requires_grad=False)" if frozen else ""))
        if isinstance(self.optimizer, RandomSearch):  # needs no gradient: its ‖∇C‖ is only recorded
            return
        if not math.isfinite(norm) and not all(np.isfinite(g).all() for g in grads):  # not a norm above 1e308
            raise FloatingPointError(
                f"{where.replace('the cost function', 'the gradient of the cost function')} holds NaN or inf at a "
                f"finite cost ({number:.3g}): the cost is not differentiable there (a square root or a logarithm "
                "at 0, say), or a NaN or inf it computed with was left out only afterwards, by functional.where or "
                "an index (missing targets: its gradient of 0 times NaN is NaN; leave them out before they meet the "
                "outputs, see functional.where)" + ("" if first and not self.stepped_before
                                                   else ", or the steps diverged (try a smaller learning rate or "
                                                        "step size)"))


def _function_name(function: Any) -> str:
    """A cost function's name in fit's messages: its ``__name__``; for a ``functools.partial`` the function it fixes
    arguments of (``partial(huber)``, where its own name would be the class's, ``partial``); for a method its class's
    too (``Costs.huber``); else (an instance of a class of one's own) its class's name."""
    if isinstance(function, functools.partial):
        return f"partial({_function_name(function.func)})"
    name = getattr(function, "__qualname__" if inspect.ismethod(function) else "__name__", None)
    return name if isinstance(name, str) else type(function).__name__


def _warn_if_paired_across(cost: Value, name: str, targets: np.ndarray) -> None:
    """Flat targets ``(n,)`` met a column of outputs ``(n, 1)`` in a cost of one's own, or a column of targets met
    flat outputs: numpy's broadcasting pairs every output with every target, ``(n, n)``, and the cost averages the
    n² pairs, silently; a warning saying how to pair them.  Once per call of fit (one walk over the first batch's
    graph, whose ``targets`` are given).  Outputs are what needs a gradient, targets what does not, and a column of
    targets is told by its numbers: a model's own ``x * w`` (inputs ``(n, 1)``, a parameter ``(n,)``) is no such
    pair.  Beside a column of targets, flat numbers of one per sample (per-sample weights, ``w * (out - t) ** 2``,
    or the targets flattened in the cost) meeting a column of outputs pair the same way, and are warned about."""
    flat = targets.ndim == 1
    for v in backward_order(cost):
        n = v.shape[0] if v.ndim == 2 and v.shape[0] == v.shape[1] > 1 else 0
        if not n:
            continue
        numbers = [p for p in v.parents if p.shape == (n,) and not p.requires_grad] if not flat else []
        if numbers and n == len(targets) and any(p.shape == (n, 1) and p.requires_grad for p in v.parents):
            what, fix = (("the targets flattened", "do not flatten the targets in the cost")
                         if np.array_equal(numbers[0].data, targets.ravel()) else
                         ("numbers that are not the targets (per-sample weights?)",
                          f"give them as a column of shape ({n}, 1), as the targets are, weights.reshape(-1, 1)"))
            warnings.warn(f"fit: the cost function {name} combines outputs of shape ({n}, 1) with {what}, of shape "
                          f"({n},), into shape ({n}, {n}), every output paired with every one of them by numpy's "
                          f"broadcasting, so it averages {n}² pairs instead of the {n} samples: {fix}",
                          stacklevel=checks.outside_the_package())  # (fit's line)
            return
        outputs, given = ((n, 1), (n,)) if flat else ((n,), (n, 1))
        if any(p.shape == outputs and p.requires_grad for p in v.parents) and any(
                p.shape == given and not p.requires_grad and (flat or np.array_equal(p.data, targets))
                for p in v.parents):
            warnings.warn(f"fit: the cost function {name} combines outputs of shape {outputs} with targets of shape "
                          f"{given} into shape ({n}, {n}), every output paired with every target by numpy's "
                          f"broadcasting, so it averages {n}² pairs instead of the {n} samples: "
                          f"{_AS_A_COLUMN if flat else _FLAT}", stacklevel=checks.outside_the_package())  # (fit's line)
            return


#: fit's advice for cross_entropy on a squashing output layer (the command line says its own option instead).
SQUASHED_OUTPUT_ADVICE = "give the output layer activation='identity' (nn.MLP(..., output_activation='identity'))"
#: The width of the range of an output activation that keeps its outputs in a narrow band: sigmoid (0, 1), tanh (−1, 1).
_BOUNDED_OUTPUTS = {"sigmoid": 1.0, "tanh": 2.0}


def _last_layer(model: Any) -> Any:
    """The output layer of a Layer or Network (None for a model of one's own)."""
    return model if isinstance(model, nn.Layer) else model.layers[-1] if isinstance(model, nn.Network) else None


def _check_not_one_class(model: Any, cost: Any) -> None:
    """cross_entropy on one output neuron: its softmax is 1 for every input, so the cost is 0 and its gradient 0
    whatever the labels (labels all 0 pass cross_entropy, which refuses a 1): nothing would train."""
    last = _last_layer(model)
    if cost is cross_entropy and last is not None and getattr(last, "out_size", None) == 1:
        raise ValueError("fit: cross_entropy on a model of one output neuron: the softmax of one output is 1 for "
                         "every input, so the cost is 0 and no parameter moves, whatever the labels; two classes "
                         "need 2 output neurons, with labels 0 and 1 (or one output z without a sigmoid, targets y "
                         "of shape (n, 1) and cost=lambda z, y: (y * F.softplus(-z) + (1 - y) * F.softplus(z))"
                         ".mean(), with F = tinygrad_edu.functional)")


def _warn_if_squashed_logits(model: Any, cost: Any) -> None:
    """cross_entropy on the outputs of a sigmoid or tanh output layer (nn.MLP's default, the seed's, is a sigmoid):
    its softmax of k outputs at most ``width`` apart gives the right class at most e^width / (e^width + k − 1), so
    the cost cannot fall below ln(1 + (k − 1)·e^−width) (1.46 for the 10 digits) and training crawls against it."""
    last = _last_layer(model)
    if cost is not cross_entropy or last is None or last.activation_name not in _BOUNDED_OUTPUTS:
        return
    width, k = _BOUNDED_OUTPUTS[last.activation_name], last.out_size
    if k < 2:  # (one output neuron: refused, see _check_not_one_class)
        return
    best = math.exp(width) / (math.exp(width) + k - 1)
    warnings.warn(f"fit: cross_entropy takes the raw outputs (logits) and applies the softmax itself, but the output "
                  f"layer applies {last.activation_name!r}, which keeps its {k} outputs within {width:g} of each "
                  f"other: the softmax gives the right class a probability of at most {best:.3g}, so the cost cannot "
                  f"fall below {-math.log(best):.3g}; {SQUASHED_OUTPUT_ADVICE}",
                  stacklevel=checks.outside_the_package())


def _warn_if_weighed_by_all_samples(cost: Value, name: str, targets: np.ndarray, samples: int) -> None:
    """Mini-batches: numbers of one per sample of all ``samples`` (per-sample weights kept outside fit, in the cost's
    closure) meeting a column of the batch's residuals, ``(b, 1)``: numpy's broadcasting makes ``(b, samples)`` of
    flat ones, and ``(samples, 1)`` of a column in a batch of one, every residual weighed by every sample's weight,
    silently (``_warn_if_paired_across`` sees only ``(b, b)``).  A residual is told by depending on the targets,
    so a model's own numbers of that length (kernel centres) are no such pair.  A warning saying how to batch them."""
    b = len(targets)
    residuals: set[int] = set()  # the Values computed from the targets (oldest first: parents before children)
    for v in reversed(backward_order(cost)):
        parents = v.parents
        if any(id(p) in residuals or (not p.requires_grad and p.shape == targets.shape
                                      and np.array_equal(p.data, targets)) for p in parents):
            residuals.add(id(v))
        if v.shape not in ((b, samples), (samples, 1)) or not any(
                id(p) in residuals and p.shape == (b, 1) for p in parents):
            continue
        weights = next((p for p in parents if not p.requires_grad and p.shape in ((samples,), (samples, 1))), None)
        if weights is not None:
            warnings.warn(f"fit: the cost function {name} combines a mini-batch's residuals, shape ({b}, 1), with "
                          f"numbers of one per sample of all {samples} samples (per-sample weights?), of shape "
                          f"{weights.shape}, into shape {v.shape}, every residual weighed by every sample's number "
                          "by numpy's broadcasting, not by its own: give them to fit as another column of the "
                          "targets, which it batches with their samples, np.c_[targets, weights], and use t[:, 1:] "
                          "in the cost, cost=lambda out, t: (t[:, 1:] * (out - t[:, :1]) ** 2).sum() / "
                          "t[:, 1:].sum()", stacklevel=checks.outside_the_package())  # (fit's line)
            return


def _paired_across_error(error: MemoryError, where: str, n: int, flat: bool) -> ValueError | None:
    """The ValueError for numpy's MemoryError on an array of shape ``(n, n)``, n the first batch's samples, where the
    targets are flat (``flat``) or a column: the pairing :func:`_warn_if_paired_across` warns about, too large to make
    for many samples (so the warning never comes); None for a MemoryError of another shape."""
    if n < 2 or getattr(error, "shape", None) != (n, n):
        return None
    outputs, given = ((n, 1), (n,)) if flat else ((n,), (n, 1))
    return ValueError(f"{where} ran out of memory making an array of shape ({n}, {n}): with targets of shape {given} "
                      f"that is most likely outputs of shape {outputs} and the targets, every output paired with "
                      f"every target by numpy's broadcasting ({n}² pairs instead of the {n} samples): "
                      f"{_AS_A_COLUMN if flat else _FLAT}")


#: How to pair flat targets with a column of outputs (:func:`_warn_if_paired_across`, :func:`_paired_across_error`).
_AS_A_COLUMN = ("give the targets as a column, targets.reshape(-1, 1) (or flatten the outputs in the cost, "
                "out.reshape(-1))")
#: How to pair a column of targets with flat outputs (:func:`_warn_if_paired_across`, :func:`_paired_across_error`).
_FLAT = "give the targets flat, targets.reshape(-1) (or make the outputs a column in the cost, out.reshape(-1, 1))"


@contextlib.contextmanager
def _whole_updates(run: _Run) -> Iterator[None]:
    """While fit trains, the first Ctrl-C ends training after the update under way (full batch: after its episode;
    mini-batches: after the batch), never halfway through it, some parameters changed and others not; a second one
    interrupts at once, except while the optimizer changes the parameters (it holds Ctrl-C back for that): there
    training ends once they are all changed.  Only where Ctrl-C is Python's own KeyboardInterrupt (the main thread,
    Python's handler, as in a Jupyter cell); elsewhere nothing changes."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return

    def ctrl_c(signum: int, frame: Any) -> None:
        if run.interrupted and frame is not None:  # (None: pressed during an update, handed on once it was made)
            signal.default_int_handler(signum, frame)  # the second: KeyboardInterrupt, now
        run.interrupted = True

    signal.signal(signal.SIGINT, ctrl_c)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _check_model_and_optimizer(model: Any, cost: Any, optimizer: Any
                               ) -> tuple[list[Value], tuple[list[Value], str] | None]:
    """The parameters to train, and :func:`_replaced_layer`'s finding; each argument that is not what fit needs is
    named."""
    if isinstance(model, type):
        raise TypeError(f"fit: model is the class {model.__name__}; build the network first and pass it, e.g. "
                        f"net = {model.__name__}(...); fit(net, inputs, targets, ...)")
    if not callable(model):
        raise TypeError(f"fit: model must be a network (a callable Module), got {type(model).__name__}; the model "
                        "comes first: fit(model, inputs, targets, optimizer=..., episodes=...)")
    if inspect.ismethod(model) and model.__name__ in ("parameters", "named_parameters"):  # (the optimizer's habit)
        raise TypeError(f"fit: model is the method {type(model.__self__).__name__}.{model.__name__}, which lists the "
                        "parameters; pass the network itself: fit(net, inputs, targets, ...)")
    if isinstance(cost, str) and (cost in KERAS_NAMES or cost in COSTS or cost in write_instead.COST_FUNCTIONS
                                  or pytorch_cost_advice(cost)):
        raise TypeError(f"fit: cost must be a function (outputs, targets) → Value, not its name {cost!r}; "
                        f"{_named_cost(cost)}")
    _check_not_pytorchs(cost)
    if not callable(cost):
        raise TypeError(f"fit: cost must be a function (outputs, targets) → Value such as losses.squared_error, "
                        f"got {type(cost).__name__} {cost!r:.40}")
    _check_cost_function(cost)
    if isinstance(optimizer, type):
        raise TypeError(f"fit: optimizer must be an optimizer object, not the class; construct it first, "
                        f"e.g. optimizer={optimizer.__name__}(model, ...)")
    if isinstance(optimizer, str):  # (Keras's compile(optimizer='adam'))
        raise TypeError(f"fit: optimizer must be an optimizer object, not its name {optimizer!r}; build one from the "
                        "model, e.g. optimizer=optim.Adam(model, learning_rate=0.001) (Keras's 'adam'), "
                        "optim.SGD(model, learning_rate=0.01)")
    if isinstance(optimizer, (list, tuple)) and optimizer and all(hasattr(o, "step") for o in optimizer):
        raise TypeError(f"fit: optimizer must be one optimizer, got a {type(optimizer).__name__} of "
                        f"{len(optimizer)}; to train groups of layers with settings of their own (a learning rate "
                        "per group), write the loop yourself: zero_grad() each optimizer, compute the cost, "
                        "cost.backward() once, then step() each")
    if not hasattr(optimizer, "step") or not hasattr(optimizer, "zero_grad"):
        raise TypeError(f"fit: optimizer must have step() and zero_grad(), got {type(optimizer).__name__}")
    if not _takes_cost(optimizer.step):
        kind = type(optimizer)
        raise TypeError(f"fit: optimizer.step must take step(closure, cost=...), as tinygrad_edu.optim's optimizers "
                        f"do (fit passes the cost it computed), got {kind.__module__}.{kind.__qualname__}, whose "
                        f"step takes {inspect.signature(optimizer.step)}")
    params = getattr(optimizer, "params", None)
    if not params:
        if not callable(getattr(model, "parameters", None)):
            raise TypeError(f"fit: cannot tell which parameters to train: the optimizer ({type(optimizer).__name__}) "
                            f"has no .params and the model ({type(model).__name__}) has no .parameters(); pass a "
                            "Module, or an optimizer built from the parameters, e.g. GradientDescent([w, b], 0.1)")
        params = model.parameters()
    if not hasattr(model, "parameters"):
        return params, None
    owned = _owned(model)
    if owned and not any(id(p) in owned for p in params):
        raise ValueError("fit: none of the optimizer's parameters belong to the model; build the optimizer "
                         f"from this model's parameters, e.g. {type(optimizer).__name__}(model, ...) (an optimizer "
                         "built for another model, such as an earlier fold's, or copied on its own, "
                         "copy.deepcopy(optimizer), holds other Values: copy a model and its optimizer together, "
                         "copy.deepcopy((model, optimizer)))")
    return params, _replaced_layer(model, params, owned, optimizer)


def _named_cost(name: str) -> str:
    """What to give fit as ``cost=`` for the cost called ``name`` (this package's, Keras's or PyTorch's): the function
    itself, or for a cost written as a formula the function of (outputs, targets) that computes it."""
    if name in COSTS:
        return f"cost=losses.{name}"
    library = "Keras" if name in KERAS_NAMES or name in write_instead.KERAS_COSTS else "PyTorch"
    if name in write_instead.COST_FUNCTIONS:
        return f"for {library}'s {name!r}, {write_instead.cost_function(name)}"
    return f"Keras's {name!r} is losses.{KERAS_NAMES[name]}" if name in KERAS_NAMES else (
        f"for PyTorch's {name!r}, {pytorch_cost_advice(name)}")


#: The cost functions :func:`_check_cost_function` found to take (outputs, targets), while they live: a loop calling
#: fit(episodes=1) checked the same one on every call, and inspect.signature cost more than the episode's checks.
_TWO_ARGUMENT_COSTS: weakref.WeakSet[Any] = weakref.WeakSet()


def _check_not_pytorchs(cost: Any) -> None:
    """A cost of PyTorch's (``torch.nn.MSELoss()``, its class, ``torch.nn.functional.mse_loss``) computes with torch
    tensors: called with a Value it failed inside torch ("'int' object is not callable"), naming neither fit nor cost;
    refused, saying what it is here (:func:`write_instead.pytorch_cost_refusal`, and for the costs whose settings it
    has no formula of, :func:`losses.pytorch_cost_advice`); so is one in a ``functools.partial``."""
    refusal = write_instead.pytorch_cost_refusal(
        cost, lambda name: pytorch_cost_advice(name) or (f"use losses.{name}" if name in COSTS else None))
    if refusal is not None:
        raise TypeError(f"fit: {refusal}")


def _check_cost_function(cost: Callable[..., Any]) -> None:
    """fit calls ``cost(outputs, targets)``: a model (called with the inputs), a class (an instance goes there) or a
    function that cannot take two arguments would fail inside fit, in words naming neither fit nor cost."""
    with contextlib.suppress(TypeError):  # (one that cannot be weakly referenced or hashed is checked every time)
        if cost in _TWO_ARGUMENT_COSTS:
            return
    is_class = isinstance(cost, type)
    if callable(getattr(cost, "parameters", None)) and callable(getattr(cost, "forward", None)) and not _can_take(
            cost.forward, 3 if is_class else 2):  # type: ignore[attr-defined]  # (a class's forward takes self too)
        name = cost.__name__ if is_class else type(cost).__name__
        raise TypeError(f"fit: cost is a model{' class' if is_class else ''} ({name}), which is called with the "
                        "inputs; the cost compares the model's outputs with the targets, cost(outputs, targets) → "
                        "Value, e.g. cost=losses.squared_error (the model is fit's first argument)")
    if is_class:
        raise TypeError(f"fit: cost is the class {cost.__name__}, not a cost function; pass an instance, "
                        f"cost={cost.__name__}(), or a function (outputs, targets) → Value such as "
                        "losses.squared_error")
    try:
        signature = inspect.signature(cost)
    except (TypeError, ValueError):  # (no signature to read: its call will tell)
        return
    try:
        signature.bind(None, None)
    except TypeError as error:
        name = _function_name(cost)
        raise TypeError(f"fit: cost is called cost(outputs, targets), but {name}{signature} cannot take them "
                        f"({error}); write a function of the model's outputs and the targets, such as "
                        "losses.squared_error") from None
    with contextlib.suppress(TypeError):
        _TWO_ARGUMENT_COSTS.add(cost)


def _can_take(function: Callable[..., Any], count: int) -> bool:
    """Whether ``function`` can be called with ``count`` positional arguments (True where it has no signature)."""
    try:
        inspect.signature(function).bind(*[None] * count)
    except ValueError:  # (no signature to read)
        return True
    except TypeError:
        return False
    return True


def _replaced_layer(model: Any, params: list[Value], owned: set[int], optimizer: Any
                    ) -> tuple[list[Value], str] | None:
    """An optimizer built before a layer of the model was replaced holds the old layer's Values, which the model no
    longer computes with, and not the new one's, which nothing would train.  Here: the Values it holds besides the
    model's, and the error to raise if the first backward pass reaches none of them (a cost's own parameter, beside
    some of the model's as in fine-tuning, gets a gradient: that is fine).  One built from the model itself (or a
    Module of it) that lacks some of its parameters is refused at once (:func:`_check_not_grown`)."""
    named = getattr(model, "named_parameters", None)
    if not callable(named):
        return None
    given, every = {id(p) for p in params}, list(named())
    untrained = [(name, p) for name, p in every if id(p) not in given]
    if not untrained:
        return None
    kind = type(optimizer).__name__
    source = getattr(optimizer, "built_from", None)
    _check_not_grown(model, source, untrained, kind)
    foreign = [p for p in params if id(p) not in owned]
    if not foreign:
        if source is None:
            _warn_if_appended([name for name, p in every if id(p) in given], [name for name, _ in every], kind)
        return None
    return foreign, (f"fit: the optimizer holds {checks.counted(len(foreign), 'Value')} that the model no longer has "
                     f"and the cost does not use, and not the model's {checks.listed([n for n, _ in untrained])}, "
                     "which nothing would train (was a layer replaced after the optimizer was built?); build the "
                     f"optimizer again from the model, e.g. {kind}(model, ...)")


def _check_not_grown(model: Any, source: Any, untrained: list[tuple[str, Value]], kind: str) -> None:
    """An optimizer built from a Module (``Adam(model)``, its ``built_from``) holds the parameters the Module had
    then: one put in since (a layer appended, or replaced) or unfrozen since (frozen while the optimizer was built) is
    not among them, and no step would train it, silently.  Refused, naming them, where that Module is the model or
    one of its own (an optimizer of one layer fine-tunes that layer; one of a layer no longer in the model is left to
    :func:`_replaced_layer`).  ``untrained``: the model's parameters the optimizer lacks, by name."""
    if source is None:
        return
    if source is model:
        missing = [name for name, _ in untrained]
    else:
        modules = getattr(model, "modules", None)
        if not callable(modules) or not any(module is source for module in modules()):
            return
        theirs = {id(p) for p in source.parameters()}
        missing = [name for name, p in untrained if id(p) in theirs]
    if missing:
        whose = "model" if source is model else f"model's {type(source).__name__}"
        raise ValueError(f"fit: the optimizer was built from the {whose} before its {checks.listed(missing)} were "
                         "put in (a layer added or replaced since) or unfrozen, so it does not hold them and nothing "
                         f"would train them; build the optimizer again, e.g. {kind}(model, ...), or give it the "
                         "model's parameters, optimizer.params = model.parameters() (the others keep their state)")


def _warn_if_appended(held: list[str], every: list[str], kind: str) -> None:
    """An optimizer built from a model's parameters (``SGD(model.parameters())``, or a list of them) before a layer
    was appended holds the first layers' parameters, all of them, and none of the last ones, which no step would
    train: one built from the model itself is refused (:func:`_check_not_grown`); from its parameters it may be
    meant (last layers kept as they are), so a warning, which freezing them silences.  ``held``: the names of the
    model's parameters the optimizer holds; ``every``: all of them, in order.  One that leaves out the first
    layers (fine-tuning the last ones), or part of a layer, is no such case."""
    count = len(held)
    if not 0 < count < len(every) or held != every[:count] or \
            every[count - 1].rpartition(".")[0] == every[count].rpartition(".")[0]:
        return
    warnings.warn(f"fit: the optimizer holds the model's parameters but its last ones, {checks.listed(every[count:])}, "
                  "which no step will train: was a layer appended after the optimizer was built from the model's "
                  f"parameters? Build it again from the model, e.g. {kind}(model, ...) (fit then checks that it holds "
                  "them all), or give it optimizer.params = model.parameters() (the others keep their state); to "
                  "keep those as they are, freeze them, layer.requires_grad_(False), and this warning goes",
                  stacklevel=checks.outside_the_package())


def _warn_if_dead(model: Any, inputs: np.ndarray, history: History, cost: float | None) -> None:
    """fit stopped at ‖∇C‖ = 0, the seed's STOP, with a cost above 0 (``cost``, the final one): where every ReLU
    of a layer is 0 on every sample, these dead units (a ReLU's slope is 0 where it is 0) pass no gradient back,
    which is why it is 0 there, and no minimum: a warning says so, and what brings them back."""
    layers = _network_layers(model)
    if not layers or history.stopped != "zero gradient" or cost is None or not cost > 0:
        return
    dead, outputs = [], Value(inputs, requires_grad=False)
    with no_grad():
        for layer in layers:
            if not isinstance(layer, nn.Layer) or type(layer).forward is not nn.Layer.forward:
                return
            outputs = layer(outputs)
            if layer.activation_name == "relu" and not np.any(outputs.data > 0):
                dead.append("the layer" if layer is model else layer.name)  # (a lone Layer's name is "layer")
    if dead:
        warnings.warn(f"fit: training stopped at ‖∇C‖ = 0 (the seed's STOP) after {history.episodes} "
                      f"episode{'s' if history.episodes != 1 else ''}, but not at a minimum: the cost is still "
                      f"{cost:.4g}. The ReLUs of {checks.listed(dead)} are all 0 on every sample: these "
                      "units are dead, a ReLU's slope is 0 where it is 0, so no gradient passes back through them and "
                      "no learning rate moves them; start again from other weights (another rng=, init='he', small "
                      "positive biases), with a smaller learning rate (one large step can kill them), or with "
                      "activation='leaky_relu'", stacklevel=checks.outside_the_package())


#: The |z| beyond which a sigmoid's (tanh's) slope is under 3 % of its largest (0.25, 1 at z = 0): a saturated unit.
_SATURATED = {"sigmoid": 5.0, "tanh": 2.5}


def _network_layers(model: Any) -> list[Any]:
    """The layers of ``model`` applied one after the other, as a Network's own forward does (not one of one's own,
    a skip, say): [] where that is not known."""
    return [model] if isinstance(model, nn.Layer) else list(model.layers) if isinstance(model, nn.Network) and \
        type(model).forward is nn.Network.forward else []


def _warn_if_saturated(run: _Run) -> None:
    """At training's start (not after earlier steps: a loop of fit(episodes=1) looks once), one forward pass by hand
    over up to 200 samples: a hidden sigmoid or tanh layer most of whose units are saturated (|z| beyond
    ``_SATURATED`` on 90 % of the samples, where the slope is about 0) passes almost no gradient back, and fit would
    train almost nothing without a word (the seed's uniform start on the digits: z of tens)."""
    layers = _network_layers(run.model)
    if run.stepped_before or len(layers) < 2 or not all(type(layer).forward is nn.Layer.forward for layer in layers) \
            or not any(layer.activation_name in _SATURATED for layer in layers[:-1]):  # (ReLUs: no forward pass)
        return
    alpha = run.inputs[:200]
    with no_grad():
        for layer in layers[:-1]:
            try:
                z = alpha @ layer.weights.data + layer.biases.data
            except ValueError:  # (inputs of another width: fit's first pass says so)
                return
            limit = _SATURATED.get(layer.activation_name)
            saturated = 0 if limit is None else int(np.count_nonzero(np.mean(np.abs(z) > limit, axis=0) >= 0.9))
            if saturated > layer.out_size / 2:
                warnings.warn(f"fit: {saturated} of the {layer.out_size} {layer.activation_name} units of {layer.name} "
                              f"are saturated at the start (|z| above {limit:g} on 90 % of the samples, up to "
                              f"{float(np.abs(z).max()):.3g}), where the slope of {layer.activation_name} is about 0: "
                              "backpropagation passes almost no gradient through them, so training barely moves; "
                              "start from init='xavier' (weights of both signs, scaled to the layer's size: z near "
                              "0), or scale the inputs down", stacklevel=checks.outside_the_package())
                return
            alpha = layer(Value(alpha, requires_grad=False)).data


def _owned(model: Any) -> set[int]:
    """The ``id`` of each Value of the model: its parameters and, for a Module, the frozen ones too (left out of
    ``parameters()`` but still the model's: an optimizer built before they were frozen holds them)."""
    if not callable(getattr(model, "modules", None)):
        return {id(value) for value in model.parameters()}
    return {id(value) for value in _values_of(model)}


def _takes_cost(step: Any) -> bool:
    """Whether ``step`` takes ``cost=`` (a function whose signature cannot be read is given the benefit of the
    doubt)."""
    try:
        parameters = inspect.signature(step).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == "cost" or p.kind is p.VAR_KEYWORD for p in parameters)


def _check_arguments(model: Any, inputs: Any, targets: Any, cost: Any, optimizer: Any, episodes: Any,
                     batch_size: Any, shuffle: bool, seed: Seed, tol: Any, progress: Any, cost_goal: Any) -> _Run:
    """fit's argument checks, in one place: every error names the argument at fault."""
    params, replaced = _check_model_and_optimizer(model, cost, optimizer)
    episodes = checks.integer(episodes, "episodes", "fit", least=1)
    given_inputs, given_targets = inputs, targets
    inputs, targets = _as_array(inputs, "inputs"), _as_array(targets, "targets")
    if len(targets) != len(inputs):
        raise ValueError(f"fit: inputs hold {checks.counted(len(inputs), 'sample')} (shape {inputs.shape}) "
                         f"but targets hold {len(targets)} (shape {targets.shape}){_one_sample_hint(inputs, targets)}")
    checks.same_index(given_inputs, given_targets, "fit")
    if len(inputs) == 0:
        raise ValueError("fit: there are no samples to train on")
    flat = None  # squared_error with one number per sample: refused if the model gives one too (see _Run.closure)
    if cost is squared_error and targets.ndim == 1 and len(targets) > 1:
        flat = (f"fit: targets of shape {targets.shape} hold one number per sample, but squared_error takes "
                f"a flat array as one sample of {len(targets)} outputs and would sum the samples' costs, "
                "not average them (seed 7.1), so every step would be as many times too long: give one row "
                f"per sample, {_column_of(given_targets)}, and a model returning a column (as an nn.MLP does; "
                "inputs.reshape(-1, 1) for one input per sample)")
    if inputs.dtype.kind == "f" and not inputs.dtype.isnative:  # big-endian floats (np.load of their file) are the
        inputs = inputs.astype(inputs.dtype.newbyteorder("="))  # same numbers: computed in their dtype, as native ones
    if inputs.dtype not in (np.float32, np.float64):  # ints (pixels 0…255) in the parameters' float dtype: a model
        inputs = inputs.astype(np.result_type(np.float32, *(p.dtype for p in params)))  # in float32 computes in it
    if batch_size is not None:
        batch_size = checks.integer(batch_size, "batch_size", "fit", least=1)
    if tol is not None:
        tol = checks.number(tol, "tol", "fit", least=0)
    if cost_goal is not None:  # (any finite number: a cost of one's own may go below 0)
        cost_goal = checks.number(cost_goal, "cost_goal", "fit")
    shuffle = checks.flag(shuffle, "shuffle", "fit")
    checks.flag(progress, "progress", "fit")
    # no draw from numpy's global random state (seed=None) where nothing is shuffled, as data.batches does not
    rng = generator(seed, "fit") if (shuffle and batch_size is not None) or seed is not None else None
    _check_not_one_class(model, cost)
    _warn_if_squashed_logits(model, cost)
    run = _Run(model, cost, optimizer, params, inputs, targets, episodes, batch_size, shuffle, rng, tol, flat)
    run.replaced, run.cost_goal = replaced, cost_goal
    # stepped before: it has a latest step size, or (RandomSearch, which has none) has tried changes
    run.stepped_before = (getattr(optimizer, "last_step_size", None) is not None
                          or bool(getattr(optimizer, "proposals", 0)))
    return run


# One episode: (the cost, ‖∇C‖, the step size, why training stops here or "").
_Episode = tuple[float, float, float | None, str]


def _full_batch_episode(run: _Run, closure: Callable[[], Value], episode: int) -> _Episode:
    """The seed's 7.1: the cost averaged over all samples, its gradient, one update (unless the cost is at or below
    ``cost_goal`` or ‖∇C‖ ≤ tol)."""
    cost, number, norm = run.forward_backward(closure, episode, first=episode == 1, targets=run.targets)
    if episode == 1:
        run.start_cost = number
    if run.cost_goal is not None and number <= run.cost_goal:
        return number, norm, None, "cost goal"
    if run.tol is not None and norm <= run.tol:
        return number, norm, None, "tol"
    # ‖∇C‖ = 0 (the seed's STOP): an update that changes nothing there repeats in every later episode (momentum's
    # and Adam's steps only shrink while ∇C = 0); watched, not assumed, as those may still move (and random search
    # ignores ∇C)
    watch = norm == 0.0 and not isinstance(run.optimizer, RandomSearch)
    before = [p.data.copy() for p in run.params] if watch else None
    run.optimizer.step(closure, cost=cost)
    stopped = "no descent step" if getattr(run.optimizer, "last_failed", False) else ""
    if before is not None and all(np.array_equal(p.data, b) for p, b in zip(run.params, before, strict=True)):
        return number, norm, None, "zero gradient"  # (no step was taken, as with tol: not Armijo's t = 0 of a failure)
    return number, norm, _last_step_size(run.optimizer), stopped


def _mini_batch_episode(run: _Run, episode: int) -> _Episode:
    """One pass through the samples in mini-batches, one update per batch; cost and ‖∇C‖ are batch averages
    (weighted by the batches' sizes), and ``tol`` is checked against that average ‖∇C‖ after the episode's updates.
    Ctrl-C ends the episode after the update under way: it is recorded with the batches it made.  An episode that
    raises before its first update puts the generator back as it found it (the order it drew is used by no update),
    so that the call made again shuffles as this one would have."""
    assert run.batch_size is not None
    total = norms = 0.0
    seen = 0
    drawn = None if run.rng is None else run.rng.bit_generator.state
    count, last_shown = -(-len(run.inputs) // run.batch_size), time.perf_counter()
    try:
        for i, (batch_inputs, batch_targets) in enumerate(batches(run.inputs, run.targets, run.batch_size,
                                                                  run.shuffle, run.rng)):
            closure = run.closure(_samples(batch_inputs, batch=True), batch_targets)  # as the full batch is
            first = episode == 1 and i == 0
            try:
                cost, number, norm = run.forward_backward(closure, episode, first=first, targets=batch_targets)
            except FloatingPointError:  # (after updates: put down to them, maybe wrongly)
                better = None if first else _not_the_steps(run, closure, episode, i)
                if better is None:
                    raise
                raise better from None
            if first:
                run.first_batch = (number, len(batch_inputs) / len(run.inputs))
            run.optimizer.step(closure, cost=cost)
            share = len(batch_inputs) / len(run.inputs)  # (weights ≤ 1: no sum overflows where each number is finite)
            total += number * share
            norms += norm * share
            seen += len(batch_inputs)
            if run.bar is not None:
                last_shown = _show_batch(run.bar, i + 1, count, total * len(run.inputs) / seen, last_shown)
            if run.interrupted:  # Ctrl-C: the episode ends after this batch's update (see _whole_updates)
                break
    except BaseException as error:
        if not seen:  # no update made: nothing of this episode happened, its order not drawn either
            if run.rng is not None and drawn is not None:
                run.rng.bit_generator.state = drawn
            raise
        if not isinstance(error, KeyboardInterrupt):
            raise
        run.interrupted = True  # a second Ctrl-C: the episode is recorded with the batches it made
    done = seen / len(run.inputs)  # 1.0 exactly for a whole episode: one batch of all samples gives its own numbers
    number, norm = total / done, norms / done
    stopped = ("cost goal" if run.cost_goal is not None and number <= run.cost_goal
               else "tol" if run.tol is not None and norm <= run.tol else "")
    return number, norm, _last_step_size(run.optimizer), stopped


def _last_step_size(optimizer: Any) -> Any:
    """The optimizer's ``last_step_size`` for the History: a Value, numpy scalar or array of one number (an optimizer
    of one's own, whose rate is a Value changed in place under ``no_grad``) as a float of its own, so that every
    episode keeps its own number and no graph; None, and what is not one number, as it is."""
    step = getattr(optimizer, "last_step_size", None)
    if isinstance(step, (Value, np.ndarray, np.generic)) and step.size == 1 and step.dtype.kind in "fiu":
        return float(step)
    return step


def _not_the_steps(run: _Run, closure: Callable[[], Value], episode: int, batch: int) -> FloatingPointError | None:
    """For a NaN or inf cost on a mini-batch after updates, put down to diverging steps: where this batch's cost is
    not finite at the parameters before any update either (a cost of one's own dividing by the number of observed
    targets, none of them in this batch), the error that says so; else None (the steps may well be the cause)."""
    if run.start is None or run.batch_size is None or run.stepped_before:  # (earlier steps may be the cause)
        return None
    try:
        with _at_start(run):
            number = _extra_pass(closure)
    except Exception:  # (the cost fails there in another way: the error raised stands)
        return None
    if math.isfinite(number):
        return None
    return FloatingPointError(f"fit: in episode {episode} of {run.episodes}, the cost function {run.cost_name} gave "
                              f"a cost of {number} on batch {batch + 1} of {-(-len(run.inputs) // run.batch_size)}, "
                              "as it does on this batch at the parameters before any update: its samples, not the "
                              "steps, make the cost NaN or inf (a cost of your own that divides by the number of "
                              "observed targets gives 0/0 on a batch where none is observed)")


def _start_cost(run: _Run, full_batch: Callable[[], Value], cost: float) -> float | None:
    """The cost on all samples before any update, which DivergenceWarning compares ``cost`` with.  Full batch: the
    first episode's.  Mini-batches: the first episode's cost is the average over batches that may have diverged
    already (a run from 0.5 to 1e5 was compared with 1e20 and never warned), so the cost at the parameters before
    any update, computed once, and only where ``cost`` could be ``DIVERGENCE_FACTOR`` times it (the first batch's
    cost, times its share of the samples, is at most that cost, as costs are averages): no cost function is called
    one more time in a run that does not grow."""
    if run.start_cost is None and run.first_batch is not None and run.start is not None:
        first, share = run.first_batch
        if first > 0 and cost > DIVERGENCE_FACTOR * first * share:
            with _at_start(run), np.errstate(all="ignore"):
                number = _extra_pass(full_batch)
            run.start_cost = number if math.isfinite(number) else math.nan
    return run.start_cost


def _extra_pass(closure: Callable[[], Value]) -> float:
    """The cost of a forward pass fit makes besides training, as a float: under ``no_grad``, which keeps no graph.
    A cost that holds a derivative (``autodiff.gradients(u, [x], create_graph=True)`` or ``backward(create_graph=True,
    inputs=[x])`` in the model or the cost: a physics-informed residual du/dx, a gradient penalty) needs recording,
    and fails without, with an error naming no_grad: it is evaluated again with recording on, as the training passes
    are (and as the optimizers' line searches do); if it fails that way too, the first error is raised."""
    try:
        with no_grad():
            cost = closure()
    except ValueError as error:
        if "no_grad" not in str(error):  # (an error of the model's or the cost's own: not evaluated twice)
            raise
        try:
            with enable_grad():
                cost = closure()
        except ValueError:
            raise error from None
    return float(cost.item())


def _all_samples(run: _Run) -> Callable[[], Value]:
    """The cost on all samples.  Full batch: one Value of the inputs for every episode.  Mini-batches: the Value is
    made at each call (the cost before any update and after the last).  Neither copies the inputs (see
    :func:`_samples`)."""
    if run.batch_size is None:
        return run.closure(_samples(run.inputs), run.targets)
    return lambda: run.closure(_samples(run.inputs), run.targets)()


#: numpy's words for a write into a read-only array (``x.data[...] = …``, ``x.data += …``), which name no array.
_READ_ONLY = ("assignment destination is read-only", "output array is read-only")


def _forward(model: Callable[[Any], Any], inputs: Value) -> Any:
    """``model(inputs)``; numpy's bare error for a write into a read-only array made into one saying which array
    that is and what to write instead."""
    try:
        return model(inputs)
    except ValueError as error:
        if str(error) not in _READ_ONLY:
            raise
        raise ValueError(f"fit: the model wrote into a read-only array (numpy: {error}): fit gives the model its "
                         "samples as a Value whose .data is read-only (a view of your inputs, or a copy of a small "
                         "mini-batch; and a computed Value's numbers are its graph's own); compute a new Value "
                         "instead (x = x * mask, functional.where(mask, 0.0, x)), or copy the numbers first, "
                         "Value(x.data.copy())") from error


def _samples(inputs: np.ndarray, batch: bool = False) -> Value:
    """``inputs`` as the model gets them, a Value without gradient holding a read-only view of their numbers:
    ``Value(inputs)`` copies, which for the cost on all samples was a second copy of every sample (376 MB for 60,000
    × 784 float64 inputs), and for a mini-batch a copy of the batch that :func:`data.batches` had just made.
    ``batch``: a mini-batch that :func:`data.batches` made for fit alone; one of a few numbers is copied instead."""
    if batch and inputs.size <= 1024:  # a fast path: Value()'s own read-only copy of a small batch costs less than
        samples = Value(inputs, False)  # a view given to an empty Value by .data = (1 % of the x² update)
        samples.data.setflags(write=False)
        return samples
    view = inputs.view()
    view.setflags(write=False)  # (the model may not write into the caller's samples; setflags: no flags object)
    samples = Value(np.zeros(0, inputs.dtype), requires_grad=False)
    samples.data = view  # (a float array is kept as it is, not copied; fit's inputs are float32 or float64)
    return samples


@contextlib.contextmanager
def _at_start(run: _Run) -> Iterator[None]:
    """For the body, an extra forward pass (no update): the parameters as they were before any update; afterwards
    they are put back bit for bit, and so are the numbers a Module keeps besides them that the pass changed (a
    running average its forward updates in place under no_grad(), see nn.Module), as training left them."""
    assert run.start is not None
    now = [p.data.copy() for p in run.params]
    _put(run.params, run.start)
    try:
        with _kept_numbers_left_alone(run):
            yield
    finally:
        _put(run.params, now)


@contextlib.contextmanager
def _kept_numbers_left_alone(run: _Run) -> Iterator[None]:
    """For the body, a forward pass fit makes besides training (the cost at the start, or after the last update):
    the numbers a Module keeps besides its parameters that the pass changed (a running average its forward updates
    in place under no_grad(), see nn.Module) are put back afterwards, bit for bit, as training left them; so are the
    states of the numpy Generators a Module keeps (a dropout mask's, drawn in its forward), so that the pass draws
    no number that training would have drawn next."""
    trained = {id(p) for p in run.params}
    kept = [v for v in _values_of(run.model) if id(v) not in trained]
    before = [v.data.copy() for v in kept]
    generators = [(rng, rng.bit_generator.state) for rng in _generators_of(run.model)]
    try:
        yield
    finally:
        changed = [(v, x) for v, x in zip(kept, before, strict=True)
                   if v.shape == x.shape and v.data.tobytes() != x.tobytes()]  # (not one replaced whole)
        _put([v for v, _ in changed], [x for _, x in changed])
        for rng, state in generators:
            rng.bit_generator.state = state


def _values_of(model: Any) -> list[Value]:
    """Every Value a Module holds (its parameters, frozen ones and kept numbers such as running averages); none for
    a plain function."""
    modules = getattr(model, "modules", None)
    if not callable(modules):
        return []
    return [value for module in modules() for value in vars(module).values() if isinstance(value, Value)]


def _generators_of(model: Any) -> list[np.random.Generator]:
    """The numpy Generators a Module and the Modules under it hold as attributes (a dropout's, drawing its masks);
    none for a plain function."""
    modules = getattr(model, "modules", None)
    if not callable(modules):
        return []
    return [rng for module in modules() for rng in vars(module).values() if isinstance(rng, np.random.Generator)]


def _put(params: list[Value], numbers: list[np.ndarray]) -> None:
    """Set the parameters' numbers in place, bit for bit."""
    with no_grad():
        for p, x in zip(params, numbers, strict=True):
            p[...] = x


#: Why training stopped because it was done (full batch: in an episode that made no update).
_NO_UPDATE = ("cost goal", "tol", "zero gradient")


def _final_cost(run: _Run, full_batch: Callable[[], Value], episode: int, history: History) -> float | None:
    """The cost on all samples after the last update (in ``episode``).  NaN or inf raises ``FloatingPointError``
    naming the episode, with ``history``, as a NaN cost at the start of an episode does; the parameters stay as that
    update left them, as they do then; so do the numbers a Module keeps besides them (a running average), which this
    extra pass leaves as training left them (fit(episodes=1) called twice keeps those fit(episodes=2) keeps). Ctrl-C
    during this pass (a second one, the first having ended training) gives None, training ``"interrupted"``: the
    History is kept, as it is for a Ctrl-C during the episodes.  Where a full-batch episode stopped at ``cost_goal``,
    ``‖∇C‖ ≤ tol`` or ``‖∇C‖ = 0`` no parameter changed since its cost on all samples, which is that number, and no
    pass is made (but for a model that draws from a Generator it keeps, a dropout's, whose next pass draws anew)."""
    if run.batch_size is None and history.stopped in _NO_UPDATE and not _generators_of(run.model):
        return history.cost[-1]
    try:
        with _kept_numbers_left_alone(run):
            number = _extra_pass(full_batch)
    except KeyboardInterrupt:
        history.stopped = "interrupted"
        return None
    if not math.isfinite(number):
        error = FloatingPointError(f"fit: after the last update (in episode {episode} of {run.episodes}), the cost "
                                   f"function {run.cost_name} gave a cost of {number}: the steps diverged; try a "
                                   "smaller learning rate or step size")
        history.stopped = "not finite"
        error.history = history  # type: ignore[attr-defined]
        try:
            raise error
        finally:  # the error's traceback holds this frame: without the del, a reference cycle that kept fit's
            del error  # frame (its copy of the samples too) alive after the error was dropped
    return number


def _warn_if_diverging(first: float | None, cost: float, when: str, since: str = "in episode 1") -> bool:
    """Warn (once per fit) when ``cost`` is orders of magnitude above ``first``, the cost before any update (see
    :func:`_start_cost`; None or NaN: not known; ``since`` says when it was), before it is inf.  ``cost`` is
    finite: a NaN or inf cost raises ``FloatingPointError`` before this is asked (NaN would compare as not
    diverging)."""
    if first is None or not first > 0 or not cost > DIVERGENCE_FACTOR * first:
        return False
    warnings.warn(f"fit: the cost grew from {first:.3g} {since} to {cost:.3g} {when}, more than "
                  f"{DIVERGENCE_FACTOR:g} times: training is diverging; try a smaller learning rate (or step size)",
                  DivergenceWarning, stacklevel=checks.outside_the_package())  # (the line calling fit)
    return True


def _progress_bar(enabled: bool, episodes: int, label: str) -> Any:
    """A tqdm bar when asked for, on a terminal or in Jupyter, with tqdm installed; else None."""
    in_jupyter = type(sys.stderr).__module__.startswith("ipykernel")  # a kernel's stderr is no tty, yet shows bars
    if not enabled or not (getattr(sys.stderr, "isatty", lambda: False)() or in_jupyter):
        return None
    try:
        # tqdm.auto draws a widget in Jupyter, but without ipywidgets it warns "IProgress not found, please update
        # jupyter": then the text bar, which a notebook shows just as well
        widgets = not in_jupyter or importlib.util.find_spec("ipywidgets") is not None
        bar = importlib.import_module("tqdm.auto" if widgets else "tqdm.std").tqdm
    except ImportError:
        return None
    return bar(total=episodes, desc=label, unit="episode", leave=True)


@contextlib.contextmanager
def _warnings_above(bar: Any) -> Iterator[None]:
    """While the bar is drawn, a warning shown (fit's DivergenceWarning, Armijo's LineSearchWarning) first clears
    the bar's line and then draws the bar again below it: the bar's line ends in no newline, so the warning's text
    would start on it, after the bar.  (A closed bar clears and draws nothing.)"""
    if bar is None:
        yield
        return
    with _SHOWING:
        showwarning = _AboveTheBar(bar, warnings.showwarning)
        warnings.showwarning = showwarning
    try:
        yield
    finally:
        with _SHOWING:  # (fits in two threads end in any order: each takes its own out of the chain)
            if warnings.showwarning is showwarning:
                warnings.showwarning = showwarning.shown
            else:  # replaced meanwhile: by a later fit's, which then shows through to what this one wrapped
                later: Any = warnings.showwarning
                while isinstance(later, _AboveTheBar) and later.shown is not showwarning:
                    later = later.shown
                if isinstance(later, _AboveTheBar):
                    later.shown = showwarning.shown


class _AboveTheBar:
    """``warnings.showwarning`` while a bar is drawn (see :func:`_warnings_above`): ``shown``, the one it replaced,
    between clearing the bar and drawing it again."""

    def __init__(self, bar: Any, shown: Callable[..., Any]) -> None:
        self.bar, self.shown = bar, shown

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        self.bar.clear()
        try:
            self.shown(*args, **kwargs)
        finally:
            self.bar.refresh()


_SHOWING = threading.Lock()  # held while a fit puts its _AboveTheBar in warnings.showwarning or takes it out


def _show_progress(bar: Any, cost: float, seconds: float, last_shown: float) -> float:
    """One more episode on the progress bar (if any), with the cost at most every 0.2 s; returns when it was last
    shown."""
    if bar is None:
        return last_shown
    bar.update(1)
    if seconds - last_shown <= 0.2:
        return last_shown
    bar.set_postfix(cost=f"{cost:.3g}", refresh=False)
    return seconds


def _show_batch(bar: Any, batch: int, count: int, cost: float, last_shown: float) -> float:
    """With mini-batches, the batch under way and the episode's cost so far on the progress bar, at most every 0.2 s
    (the bar counts episodes: one of 60,000 samples in batches of 32 takes a minute, in which it stood at 0 with no
    cost); returns when it was last shown."""
    now = time.perf_counter()
    if now - last_shown <= 0.2:
        return last_shown
    bar.set_postfix(cost=f"{cost:.3g}", batch=f"{batch}/{count}")
    return now


def _close_progress(bar: Any, history: History) -> None:
    """Close the bar showing the cost training ended with (``_show_progress`` shows it at most every 0.2 s); full
    when training stopped because it was done (``tol``, a zero gradient), not left at a few percent with time to go
    (and red in Jupyter, tqdm's colour for an error).  An error before any episode was recorded (a call refused by
    the first pass's checks: targets of the wrong shape) takes the bar away: no "0/30" above the traceback."""
    if not history.cost and history.stopped != "interrupted":
        bar.leave = False
    if history.cost:
        bar.set_postfix(cost=f"{history.cost[-1]:.3g}", refresh=False)
    if history.stopped in _NO_UPDATE and bar.total and bar.n < bar.total:
        done, started = bar.n, getattr(bar, "start_t", None)
        bar.reset(total=done)  # (the total a notebook's widget shows too; it restarts the clock, set back)
        if started is not None:
            bar.start_t = started
        bar.update(done)
    bar.close()


_LEARNING_RATE_ADVICE = "the learning rate belongs to the optimizer: optimizer=optim.SGD(model, learning_rate=0.1)"


#: fit's answer to callbacks= (Keras's) and callback= (scipy.optimize.minimize's).
_NO_CALLBACKS = ("fit takes no callbacks: call it for a few episodes at a time and look in between (the optimizer "
                 "keeps its state; with mini-batches pass a numpy Generator as seed=)")


@checks.pytorch_keywords({"learning_rate": _LEARNING_RATE_ADVICE, **USE_SEED, **USE_TARGETS,
                          "epoch": "did you mean episodes=? (a pass through the samples is an episode here, the "
                                   "seed's word)"},
                         **GENERATOR_AS_SEED,
                         drop_last="every sample is used in every episode, and a smaller last batch is averaged "
                                   "over its own samples; to leave some out, pass inputs[:len(inputs) // b * b] and "
                                   "targets[:len(targets) // b * b] (the same samples left out in every episode)",
                         epochs="it is called episodes= here, the seed's word for a pass through the samples",
                         loss="the cost function is cost= here, e.g. cost=losses.cross_entropy",
                         lr=_LEARNING_RATE_ADVICE,
                         validation_data="fit has no validation set: evaluate the held-out samples after fit, "
                                         "cost(model(inputs), targets) under no_grad(), or between calls of fit",
                         validation_split="split the samples first with data.train_test_split, then evaluate the "
                                          "held-out part after fit",
                         verbose="it is called progress= here (True or False)",
                         metrics="fit records the cost only (History.cost); compute the accuracy after fit, e.g. "
                                 "(model(inputs).numpy().argmax(axis=1) == labels).mean() under no_grad()",
                         x="it is called inputs here, fit's second argument: fit(model, inputs, targets, ...)",
                         y="it is called targets here, fit's third argument: fit(model, inputs, targets, ...)",
                         sample_weight="give the weights as another column of the targets and a cost of your own "
                                       "that uses them, cost=lambda out, t: (((out - t[:, :k]) ** 2) * t[:, k:])"
                                       ".sum() / t[:, k:].sum() (see the README's Networks and training)",
                         class_weight="the classes are not weighted here; write a cost of your own that weighs "
                                      "each sample's cross-entropy by its class's weight",
                         initial_epoch="each call of fit counts its episodes from 1; join the Histories of the "
                                       "calls with first + rest (the optimizer keeps its state)",
                         steps_per_epoch="every episode is one pass through all the samples: its steps are "
                                         "len(inputs) / batch_size, rounded up; pass fewer samples or a larger "
                                         "batch_size= for fewer",
                         callbacks=_NO_CALLBACKS, callback=_NO_CALLBACKS)
def fit(model: Callable[[Any], Value], inputs: Any, targets: Any, *,
        cost: Callable[[Value, Any], Value] = squared_error, optimizer: Any, episodes: int,
        batch_size: int | None = None, shuffle: bool = True, seed: Seed = None, tol: float | None = None,
        cost_goal: float | None = None, progress: bool = True) -> History:
    """Train ``model`` on ``inputs`` → ``targets`` for up to ``episodes`` episodes; returns a :class:`History`.

    Full batch (``batch_size=None``, the seed's 7.1): each episode computes the cost averaged over all samples,
    its gradient (the average of the samples' gradients) by one backward pass, and makes one update
    ``optimizer.step(closure, cost=...)``, which must take ``cost=`` as this package's optimizers do.  With
    ``batch_size``, each episode walks through the samples in mini-batches (shuffled reproducibly from ``seed`` when
    ``shuffle``), one update per batch.

    Stopping.  Training stops early at the first episode whose cost is at or below ``cost_goal`` (seed 7.1: the
    number of episodes "related to the cost value"; ``stopped`` ``"cost goal"``) or whose ``‖∇C‖ ≤ tol`` (the
    algorithm's step 1.2; ``"tol"``; the cost is checked first): full batch, before the episode's update, which is
    then not made; mini-batches, on the episode's averages as History records them, after its updates, which all
    happen (so ``final_cost`` may lie above the goal).  Full batch, it also stops where ``‖∇C‖`` is exactly 0 and the
    update changed no parameter (``"zero gradient"``: every later episode would repeat it; where the cost is above 0
    and every ReLU of a layer of an nn.Network is 0 on every sample, a warning says these units are dead and this is
    no minimum).  Ctrl-C stops it cleanly after the update under way (a second Ctrl-C at once, but never halfway
    through an update), keeping the model and the history so far (``final_cost`` None if it came during fit's pass
    after the last update); a warning says where it stopped and which update the parameters are from.

    Inputs.  ``inputs`` has one row per sample, ``(n, in_size)`` (integers or bools are converted to the parameters'
    float dtype, float32 after ``model.float()``); ``targets`` whatever ``cost`` takes: ``(n, out_size)`` for the
    squared error, which takes a flat ``(n,)`` as one sample of n outputs and would sum their costs, so fit refuses
    it where the model gives one number per sample (inside a cost of one's own it cannot see it: use
    ``mean_squared_error`` for flat targets, or targets ``(n, 1)``); class indices ``(n,)`` for cross entropy, which
    fit refuses for a model of one output neuron (its softmax is always 1).  In a cost of one's own, flat targets
    meeting a column of outputs ``(n, 1)`` (broadcast into ``(n, n)``), targets ``(n, 1)`` meeting flat outputs, and
    flat per-sample weights ``(n,)`` meeting a column of outputs get a warning, or a ValueError where numpy cannot
    make that array; so, with mini-batches, do weights of all n samples kept in the cost that meet a batch's
    residuals (give them as a column of the targets).  A pandas DataFrame or Series is taken by position, as its
    ``.to_numpy()``: a DataFrame and a Series whose indexes differ are refused, as their rows would be paired
    wrongly; columns must all be numbers (bool, int, float, the nullable Int64/Float64/boolean without pd.NA).
    ``model`` is called with the rows (all of them, or a mini-batch) as a Value without gradient
    (``requires_grad=False``) whose ``.data`` is a read-only view, not a copy, of the inputs: a plain function may
    compute with it as with a parameter, or use numpy on its ``.data``.

    Errors and warnings.  A cost that grows to more than ``DIVERGENCE_FACTOR`` times the cost on all samples before
    any update (full batch, the first episode's; not so with mini-batches, whose first episode may have diverged
    already) gives a :class:`DivergenceWarning` (once).  A NaN or infinite cost, at the start of an episode or after
    the last update, raises ``FloatingPointError`` naming the episode (and, before any update, saying so), with the
    history so far as its ``history``; so does a gradient holding NaN or inf at a finite cost (a cost not
    differentiable there, such as √C at C = 0, or a NaN target left out by ``functional.where`` only after it met the
    outputs; on a mini-batch whose cost is NaN or inf at the parameters before any update too, such as a masked cost
    with nothing observed in the batch, the error says the batch's samples are the cause, not the steps).  A NaN or
    inf cost at the start of a later call, after an optimizer that has made steps (an earlier call, a loop of your
    own), is reported as possibly diverged, not as the model's starting point.  NaN or inf in ``inputs`` or
    ``targets`` is a ValueError naming the samples.  A cost that depends on none of the optimizer's parameters is a
    ValueError at the first backward pass; so is an optimizer built before a layer of the model was replaced (it
    holds Values the model no longer has and the cost does not reach, and lacks the new ones), and, before training,
    one built from the model (``Adam(model)``) that lacks parameters the model has now: a layer appended or replaced
    since, or one frozen when the optimizer was built and unfrozen since (see ``Optimizer.built_from``); one built
    from the model's parameters (``SGD(model.parameters())``, a list of them) that lacks its last layers' whole, as
    after a layer was appended, gets a warning.

    Gradients and extra passes.  Before each backward pass fit sets the ``grad`` of the optimizer's parameters to
    None (gradients accumulated before the call are not used; a model's parameters that the optimizer was not given
    keep adding up, as ``opt.zero_grad()`` in a PyTorch loop leaves them); after it, each holds the gradient of the
    last batch (full batch: of the last episode), taken before the last update; a call that raises in its first
    backward pass (fit's checks of the cost) leaves them as it found them.  ``final_cost``, the cost on all samples
    after the last update, is a forward pass of fit's own under ``no_grad`` (with recording on where the model or the
    cost takes a derivative, du/dx by ``autodiff.gradients(u, [x], create_graph=True)`` say), and none where a
    full-batch run stopped at ``cost_goal``, ``tol`` or ``‖∇C‖ = 0`` with no update since its last cost on all
    samples, which it is.  After it, as after fit's other extra passes, numbers a Module keeps besides its parameters
    that its forward changes (a running average) are put back as training left them, and so is the state of a numpy
    ``Generator`` a Module keeps as an attribute (a dropout of one's own drawing its masks in ``forward``):
    fit(episodes=1) called twice draws the masks fit(episodes=2) draws (that pass runs in the model's mode,
    training: for the cost without dropout, compute it after fit with ``model.eval()``).

    Going on later.  To go on exactly as if training had not stopped, save the model (``model.save(path)``) and the
    optimizer (``np.savez(path, **optimizer.state_dict())``); with mini-batches the order of the samples too: an int
    ``seed`` starts the same orders again at every call, so pass a numpy ``Generator`` as ``seed`` and save
    ``json.dumps(rng.bit_generator.state)`` with them (set it back as the ``bit_generator.state`` of a new one); a
    Generator the model keeps (a dropout's) is not in its ``state_dict`` or file: save its state the same way.
    An episode that raises before its first update (a model or cost that fails on the first batch, a NaN cost at
    the start) leaves that ``Generator`` as it found it, so the call made again after a fix shuffles as it would
    have.  Each call's History counts its own episodes from 1 and its ``seconds`` from 0; ``first + rest`` (or
    ``sum(histories)``) joins them into the History of the whole run, which ``plots.plot_history`` draws as one
    curve.

    ``progress=True`` (the default) shows a tqdm bar of the episodes and their cost (with mini-batches, during an
    episode, the batch under way and the episode's cost so far), on stderr where it is a terminal and in Jupyter
    (a widget with ipywidgets, else a text bar), closed when training ends, with a warning shown above it; without
    tqdm (the ``progress`` extra), or with stderr redirected to a file or a pipe, fit trains without one and says
    nothing.
    """
    run = _check_arguments(model, inputs, targets, cost, optimizer, episodes, batch_size, shuffle, seed, tol,
                           progress, cost_goal)
    history = run.history = History(label=type(optimizer).__name__)
    bar = run.bar = _progress_bar(progress, run.episodes, history.label)
    full_batch = _all_samples(run)
    _warn_if_saturated(run)
    start = time.perf_counter()
    since = "in episode 1" if run.batch_size is None else "on all samples before the first update"
    history.stopped = "episodes"
    # a diverging run ends with fit's own DivergenceWarning and FloatingPointError, which name the episode;
    # numpy's "overflow encountered" warnings on the way would only echo them, from numpy's code, and an underflow
    # to 0 (e⁻¹⁰⁰⁰ in a sigmoid) is no error: "all", so that a caller's np.errstate(all="raise") changes nothing
    with np.errstate(all="ignore"), _whole_updates(run), _warnings_above(bar):
        if run.batch_size is not None:
            run.start = [p.data.copy() for p in run.params]
        episode, warned = _episodes(run, history, full_batch, start, since)
        history.final_cost = _final_cost(run, full_batch, episode, history)
    if history.stopped == "interrupted":
        _warn_interrupted(run, history, episode)
    if not warned and history.final_cost is not None:
        _warn_after_the_last_update(run, history, full_batch, history.final_cost, since)
    _warn_if_dead(model, run.inputs, history, history.final_cost)
    return history


def _episodes(run: _Run, history: History, full_batch: Callable[[], Value], start: float, since: str
              ) -> tuple[int, bool]:
    """:func:`fit`'s episodes, each recorded in ``history`` (with why training stopped) and shown on the bar, which
    is closed at the end; returns the last episode and whether a DivergenceWarning was given.  A NaN or inf
    (FloatingPointError) and a DivergenceWarning raised as an error carry ``history`` as their ``history``."""
    warned, episode, last_shown = False, 0, 0.0
    try:
        for episode in range(1, run.episodes + 1):
            number, norm, step_size, stopped = (_full_batch_episode(run, full_batch, episode)
                                                if run.batch_size is None else _mini_batch_episode(run, episode))
            history._add(number, norm, step_size, time.perf_counter() - start)
            when = f"in episode {episode} of {run.episodes}"
            warned = warned or _warn_if_diverging(_start_cost(run, full_batch, number), number, when, since)
            last_shown = _show_progress(run.bar, number, history.seconds[-1], last_shown)
            stopped = "interrupted" if run.interrupted else stopped  # Ctrl-C during this episode's update
            if stopped:
                history.stopped = stopped
                break
    except KeyboardInterrupt:
        history.stopped = "interrupted"
    except (FloatingPointError, DivergenceWarning) as error:  # (the warning: raised where a filter says "error")
        history.stopped = "not finite" if isinstance(error, FloatingPointError) else "diverging"
        error.history = history  # type: ignore[union-attr]
        raise
    finally:
        if run.bar is not None:
            _close_progress(run.bar, history)
    return episode, warned


def _warn_interrupted(run: _Run, history: History, episode: int) -> None:
    """Ctrl-C (Jupyter's stop button) ended training in ``episode``: one warning, as fit's other reports are, saying
    so and what the model and the History keep (fit returns them; its bar, if any, only stops).  Full batch, an
    episode is recorded once its update is made (the first Ctrl-C ends training there), or not at all (a second
    one, in its forward or backward pass or Armijo's trials, which leave the parameters as they were); mini-batches
    record the batches made.  One raised as an error (a filter's "error") carries ``history`` as its ``history``."""
    kept, of, batches = history.episodes, f"of {run.episodes}", run.batch_size is not None
    episodes = f"the History its {checks.counted(kept, 'episode')}" if kept else "the History no episodes"
    if history.final_cost is None:  # (a second Ctrl-C, in the pass for the cost after the last update)
        text = (f"in the pass for final_cost, after {checks.counted(kept, 'episode')} {of}: the model keeps the "
                f"parameters {'of the last update' if kept else 'it started with'}, {episodes}, final_cost None")
    elif kept == episode:
        text = (f"in episode {episode} {of}, after {'a batch' if batches else 'its'} update: the model keeps the "
                f"parameters of that update, {episodes}" + (", the last with the batches it made" if batches else ""))
    else:
        start = f"of episode {kept}'s {'last ' if batches else ''}update" if kept else "it started with"
        text = (f"in episode {episode} {of}, before its {'first ' if batches else ''}update: the model keeps the "
                f"parameters {start}, {episodes}")
    try:
        warnings.warn(f"fit: interrupted {text}", stacklevel=checks.outside_the_package())
    except UserWarning as error:
        error.history = history  # type: ignore[attr-defined]
        raise


def _warn_after_the_last_update(run: _Run, history: History, full_batch: Callable[[], Value], final_cost: float,
                                since: str) -> None:
    """The DivergenceWarning of a run whose episodes gave none, where the cost after the last update
    (``final_cost``) has grown; one raised as an error carries ``history`` (stopped ``"diverging"``) as its
    ``history``."""
    try:
        _warn_if_diverging(_start_cost(run, full_batch, final_cost), final_cost, "after the last update", since)
    except DivergenceWarning as error:  # (raised where a filter says "error")
        history.stopped = "diverging"
        error.history = history  # type: ignore[attr-defined]
        raise


def __dir__() -> list[str]:
    """``dir()`` of this module lists its API (``__all__``), not its helpers and imports."""
    return sorted(__all__)
