"""Plots of the seed's figures with matplotlib (the optional ``plot`` extra: ``pip install ".[plot]"`` in a clone,
or ``pip install matplotlib``).

Importing this module never needs matplotlib; calling a plot without it raises ImportError naming the extra.
Every ``plot_`` function draws a :class:`matplotlib.figure.Figure` of its own (not pyplot's: shown inline in
Jupyter, never by ``plt.show()``), returns it and saves it when given ``path``: ``.png``, ``.svg`` or ``.pdf``, told
by the suffix, at 120 dots per inch (a PNG's pixels; for another resolution save the returned figure yourself:
``fig.savefig("plot.png", dpi=300, bbox_inches="tight")``).  There is no ``ax=``: change the panels through
``fig.axes`` (``fig.axes[0].set_title(...)``).  A ``title`` replaces the plot's own title, and ``title=""`` leaves
it out; one wider than the figure wraps onto more lines (not one holding mathtext between ``$`` signs).

* :func:`plot_history` — the cost per episode of one or several training runs (seed, sections 5 and 7.3), and the
  Armijo step sizes.
* :func:`plot_activations` — the activation functions and their derivatives (seed, section 3.1), the derivatives
  computed by the engine's own backward pass.
* :func:`plot_descent` — the path gradient descent takes on the contour of a two-parameter cost (seed, 6.2).
* :func:`descent_path` — the points of that path as an array (no figure), ``steps + 1`` rows (fewer where it
  stops early: ∇f = 0, no Armijo step, or a diverging path past 1e12).
* :func:`plot_learning_rates` — the same start with a learning rate that overshoots, one that crawls, one that
  fits, and Armijo's step size control (seed, section 7.2).
* :func:`plot_armijo` — the Armijo condition on one step: φ(t) = f(x + t·d), the line f(x) + σ·t·∇f(x)ᵀd, the
  trial steps α^l and the accepted one (seed, section 6.2).
* :func:`plot_derivatives` — a function and its derivatives f′, f″, f‴, … computed by the engine (derivatives of
  derivatives), with the points where f′ = 0 marked by what f″ says about them (seed, section 6.1).
* :func:`plot_stationary_points` — the school method on a two-parameter cost: Newton's paths to ∇f = 0 and the
  points found, marked minimum, maximum, saddle or inconclusive (seed, section 6.1).

``f`` in :func:`plot_descent`, :func:`descent_path`, :func:`plot_learning_rates`, :func:`plot_armijo` and
:func:`plot_stationary_points` is any function of a Value of shape ``(n,)`` (``(2,)`` for the contour plots) that
returns a single-number Value, e.g. ``lambda p: (p[0] - 1) ** 2 + 10 * p[1] ** 2``; ``f`` in :func:`plot_derivatives`
acts element by element instead, returning a Value shaped like its input, e.g. ``lambda x: x ** 3 - 3 * x``.
"""

from __future__ import annotations

import errno
import functools
import inspect
import io
import math
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu import checks
from tinygrad_edu.calculus import stationary_point
from tinygrad_edu.engine import Value, no_grad
from tinygrad_edu.files import checked_path, replacing
from tinygrad_edu.nn import Layer, Network
from tinygrad_edu.notation import format_number, printable
from tinygrad_edu.optim import ArmijoStep, Newton, RandomSearch, armijo_step, checked_learning_rate

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_history", "plot_activations", "plot_descent", "plot_learning_rates", "plot_armijo",
           "descent_path", "plot_derivatives", "plot_stationary_points"]

Function = Callable[[Value], Value]

#: What to write for matplotlib's ``ax=`` (seaborn's and pandas' too; see checks.pytorch_keywords): no plot takes one.
_NO_AX = {"ax": "each plot draws a Figure of its own and returns it: change its panels through fig.axes "
                "(fig.axes[0].set_title(...)), or save it with path= and place the picture"}


def _figure(**kwargs: Any) -> Figure:
    """A new Figure that displays itself in Jupyter, not registered with pyplot (so nothing piles up in memory
    or pops up a window)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:  # pragma: no cover - exercised only without matplotlib
        raise ImportError("tinygrad_edu.plots needs matplotlib, the 'plot' extra: "
                          'pip install matplotlib (or pip install ".[plot]" in the tinygrad_edu folder)') from None
    return _showing_itself(Figure)(**kwargs)


@functools.cache
def _showing_itself(figure_class: type) -> type:
    """``figure_class`` with ``_repr_png_``.  Jupyter shows a bare Figure only after ``matplotlib.pyplot`` was
    imported (loading the inline backend registers the display of Figures); these Figures never touch pyplot,
    so without this a fresh notebook showed only ``<Figure size 750x650 with 2 Axes>``."""

    def _repr_png_(self: Figure) -> bytes:
        buffer = io.BytesIO()
        # opaque, as Jupyter shows pyplot's Figures: a matplotlibrc's savefig.transparent or a see-through
        # figure.facecolor (an old Jupyter's default) left the black text on a dark notebook theme's background
        self.savefig(buffer, format="png", dpi=100, bbox_inches="tight", transparent=False,
                     facecolor=_over_white(self.get_facecolor()))
        return buffer.getvalue()

    def __reduce__(self: Any) -> tuple:  # pickle cannot find a class made here by its name: say how to remake it
        return _unpickled_figure, (figure_class,), self.__getstate__()

    return type("Figure", (figure_class,), {"_repr_png_": _repr_png_, "__reduce__": __reduce__,
                                            "__module__": __name__})


def _over_white(color: Any) -> tuple[float, float, float]:
    """``color`` as it looks in front of white: a see-through face becomes white, an opaque one stays itself."""
    from matplotlib.colors import to_rgba

    red, green, blue, alpha = to_rgba(color)
    return red * alpha + 1 - alpha, green * alpha + 1 - alpha, blue * alpha + 1 - alpha


def _unpickled_figure(figure_class: type) -> Figure:
    """An empty Figure of :func:`_showing_itself`'s class, for pickle to fill with the state of one saved."""
    kind: Any = _showing_itself(figure_class)
    return kind.__new__(kind)


_SAVING = threading.Lock()  # see _finish


def _output_path(path: str | Path | None, function: str) -> Path | None:
    """``path`` checked (its type, name and suffix): first thing in each plot function, so that a wrong one costs no
    drawing (plot_learning_rates takes seconds), and again by :func:`_finish`."""
    if path is None:
        return None
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{function}: path must be a file name such as 'plot.png', got {type(path).__name__}")
    path = Path(os.fsdecode(checked_path(path, function)))  # (an empty name, or one holding NUL, named)
    if path.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise ValueError(f"{function}: cannot tell the format from the suffix of {os.fspath(path)!r}; "
                         "use .png, .svg or .pdf")
    return path


def _finish(fig: Figure, path: str | Path | None, function: str) -> Figure:
    """Save ``fig`` to ``path`` (if given) in the format its suffix names, as :func:`tinygrad_edu.viz.render` does."""
    path = _output_path(path, function)
    if path is None:
        return fig
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):  # a file where a folder of the path should be: say which
        blocking = next((folder for folder in path.parents if folder.exists() and not folder.is_dir()), path.parent)
        raise NotADirectoryError(errno.ENOTDIR, f"{function}: cannot save the figure to {os.fspath(path)!r}: "
                                 f"{os.fspath(blocking)!r} is a file, not a folder") from None
    except OSError as error:  # a folder of that name, no permission, a name too long: open's message names no plot
        raise type(error)(error.errno, f"{function}: cannot save the figure to {os.fspath(path)!r}: "
                          f"{error.strerror}") from None
    import matplotlib

    # a fixed salt, else the SVG's ids are random (uuid4); matplotlib's settings are the whole process's, so one
    # save at a time: another thread's would run with the salt this one's exit put back, and leave it set for good.
    # svg.fonttype "none": the SVG's words are <text> a screen reader reads and a search finds, not glyph outlines
    with _SAVING, matplotlib.rc_context({"svg.hashsalt": "tinygrad_edu", "svg.fonttype": "none"}), \
            replacing(path, function, doing="save the figure to") as temporary, open(temporary, "xb") as file:
        fig.savefig(file, format=path.suffix.lower()[1:], dpi=120, bbox_inches="tight",
                    metadata=_metadata(path, _text_alternative(fig, function)))
    return fig


def _text_alternative(fig: Figure, function: str) -> str:
    """What the picture shows, in words: the figure's titles (each panel's), else the plot's name."""
    titles = [fig.get_suptitle(), *(ax.get_title() for ax in fig.axes)]
    return "; ".join(title for title in titles if title.strip()) or function.replace("_", " ")


def _metadata(path: Path, title: str) -> dict:
    """No creation dates in the files, so regenerated pictures are byte-for-byte the same (and a fixed
    ``svg.hashsalt`` in :func:`_finish`: the ids of an SVG's clip paths and markers).  An SVG gets ``title`` as its
    ``<title>``: the name a screen reader gives the picture (it had none, only its tick labels to read out)."""
    suffix = path.suffix.lower()
    if suffix == ".svg":
        return {"Date": None, "Title": title}
    if suffix == ".pdf":
        return {"CreationDate": None, "ModDate": None}
    return {"Software": None}  # .png


# --- math on a user function: value, gradient, Armijo --------------------------------------------------------
def _point(x: Any, name: str, function: str, dims: int | None = None) -> np.ndarray:
    """The point argument ``name`` as a float64 array: a number or a vector (of ``dims`` numbers), all finite."""
    array = checks.real_array(x.data if isinstance(x, Value) else x, name, function, bools=False)
    if not array.size:  # else a path of empty points, or "∇f = 0 at x = ()"
        raise ValueError(f"{function}: {name} is empty; give a number or a vector")
    if array.ndim > 1 or (dims is not None and array.shape != (dims,)):
        want = f"shape ({dims},)" if dims else "a number or a vector"
        raise ValueError(f"{function}: {name} must have {want}, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{function}: {name} holds NaN or inf: {array}")
    return array.astype(np.float64)


def _vector_text(x: np.ndarray) -> str:
    """A point as people write it, (-1, 0.5): three significant digits, vectors of more than 6 cut with "…"."""
    numbers = [f"{v:.3g}" for v in np.ravel(x)]
    if len(numbers) > 6:
        numbers = numbers[:5] + ["…", numbers[-1]]
    return numbers[0] if np.ndim(x) == 0 else "(" + ", ".join(numbers) + ")"


def _value(f: Function, x: np.ndarray, function: str) -> float:
    """f(x) as a float, without recording a graph."""
    with no_grad(), np.errstate(all="ignore"):  # where f is NaN or inf the picture shows a gap, not warnings
        out = f(Value(x, requires_grad=False))
    return _scalar_output(out, function)


def _scalar_output(out: Any, function: str) -> float:
    if not isinstance(out, Value):
        raise TypeError(f"{function}: f must return a Value (a single number), got {type(out).__name__}")
    if out.size != 1:
        raise ValueError(f"{function}: f must return a single number, got a Value of shape {out.shape}")
    return float(out.item())


def _value_and_grad(f: Function, x: np.ndarray, function: str) -> tuple[float, np.ndarray]:
    """f(x) and ∇f(x), the gradient by the engine's backward pass."""
    _check_function(f, function)
    point = Value(x)
    with np.errstate(all="ignore"):  # a NaN or inf cost or gradient ends the path (descent_path), not warnings
        out = f(point)
        value = _scalar_output(out, function)
        if not out.requires_grad:  # f does not depend on the point
            return value, np.zeros_like(x)
        out.backward()
    grad = np.zeros_like(x) if point.grad is None else np.array(point.grad, dtype=np.float64)
    return value, grad


def _values_of(f: Function, function: str) -> Callable[[np.ndarray], float]:
    """f as a function of numpy points, for :func:`tinygrad_edu.optim.armijo_step` (the optimizer's own search)."""
    return lambda point: _value(f, point, function)


def _real(value: Any) -> float:
    """``float(value)``, but a TypeError for a complex number (numpy's would keep its real part, with a warning)."""
    if np.iscomplexobj(value):
        raise TypeError("a complex number")
    return float(value)


def _reals(value: Any) -> np.ndarray:
    """``np.asarray(value, dtype=float)``, but a TypeError for complex numbers (numpy would keep their real parts)."""
    if np.iscomplexobj(value):
        raise TypeError("complex numbers")
    return np.asarray(value, dtype=float)


def _x_range(x_range: Any, function: str) -> tuple[float, float]:
    """``x_range`` as two finite floats low < high, else a ValueError naming ``function``."""
    try:
        low, high = (_real(v) for v in x_range)
    except (TypeError, ValueError):
        raise ValueError(f"{function}: x_range must be two numbers (low, high), got {x_range!r}") from None
    if not (np.isfinite([low, high]).all() and low < high):
        raise ValueError(f"{function}: x_range must be (low, high) with finite low < high, got {x_range!r}")
    if not np.isfinite(high - low):  # the grid's spacing would be inf: empty panels on a made-up axis
        raise ValueError(f"{function}: x_range {x_range!r} is too wide: high − low overflows float64; give a "
                         "narrower range")
    return low, high


_DRAWABLE = float(np.finfo(np.float64).max) / 4  # ≈ 4.5e307: beyond, matplotlib's frame and ticks overflow


def _check_span(curve: np.ndarray, what: str, function: str) -> None:
    """Refuse a curve whose finite values, or their span, pass a quarter of float64's largest number: matplotlib's
    frame and ticks overflow there (measured: 4e307 draws; 5e307 leaks numpy's overflow warnings; 1.6e308 fails
    when saved, with "arange: cannot compute length", "Singular matrix" or an empty axis)."""
    finite = curve[np.isfinite(curve)]
    if not finite.size:
        return
    low, high = float(finite.min()), float(finite.max())
    if max(-low, high, high - low) > _DRAWABLE:  # (high − low overflows to inf, and is refused, past 1.8e308)
        raise ValueError(f"{function}: {what} runs from {low:.3g} to {high:.3g}, too near the limits of float64 "
                         f"(±1.8e308) to draw: matplotlib frames values and spans up to {_DRAWABLE:.2g}; give a "
                         "narrower x_range")


def _check_function(f: Any, function: str) -> None:
    if not callable(f):
        raise TypeError(f"{function}: f must be a function of a Value, got {type(f).__name__}")


def _check_constants(sigma: float, alpha: float, function: str) -> None:
    for name, value in (("sigma", sigma), ("alpha", alpha)):
        checks.number(value, name, function, above=0, below=1)


def _check_title(title: Any, function: str, what: str = "title") -> str | None:
    if title is not None and not isinstance(title, str):
        raise TypeError(f"{function}: {what} must be a string or None, got {type(title).__name__} {title!r:.60}")
    return None if title is None else _shown(title, what, function)


def _set_title(ax: Axes, text: str, **style: Any) -> None:
    """``ax.set_title(text)``, wrapped at the figure's edges: a long title was one line three times as wide as the
    figure, and the saved picture grew to hold it, the plot shrunk to a third of it.  Not a title with mathtext,
    which matplotlib wraps between its $ signs (the formula then printed as its TeX source)."""
    from matplotlib import cbook

    ax.set_title(text, wrap=not cbook.is_math_text(text), **style)


def _shown(text: str, what: str, function: str) -> str:
    """User text as a plot shows it: control characters but line breaks blanked (an SVG cannot hold them), and
    mathtext between ``$`` signs checked now, not where the figure is saved or shown."""
    text = "\n".join(printable(line) for line in text.split("\n"))
    try:
        from matplotlib import cbook
        from matplotlib.mathtext import MathTextParser
    except ImportError:  # (the figure, made next, says how to install it)
        return text
    if cbook.is_math_text(text):
        try:
            MathTextParser("path").parse(text)
        except ValueError as error:
            raise ValueError(f"{function}: the {what} {text!r:.60} is not valid mathtext between its $ signs "
                             "(matplotlib cannot draw it); write a dollar that starts no formula as \\$") from error
    return text


def descent_path(f: Function, start: Any, learning_rate: float | str = 0.1, *, steps: int = 25,
                 sigma: float = 1e-4, alpha: float = 0.5) -> np.ndarray:
    """The points of gradient descent x^(k+1) = x^k − t_k·∇f(x^k) from ``start``: ``steps + 1`` rows, fewer where
    it stops early.

    ``learning_rate`` is a fixed step t_k = η >= 0, or ``"armijo"`` for the Armijo step of
    :func:`tinygrad_edu.optim.armijo_step`.  Stops early where ∇f = 0, where Armijo finds no step (as the
    optimizer, it then stays), where a step changes no number of x^k (η = 0, as the optimizers allow it: the path is
    the start alone; or η·∇f rounds away), before the first point that is not finite or has an element larger than
    1e12 in size (a learning rate that diverges: the last row is the last point within 1e12) or at the first point
    where f is NaN or inf (outside its domain).
    """
    _check_function(f, "descent_path")
    x = _point(start, "start", "descent_path")
    rate = _step_rule(learning_rate, "learning_rate", "descent_path")
    _check_constants(sigma, alpha, "descent_path")  # also where the rate is fixed: checked, not ignored unread
    steps = checks.integer(steps, "steps", "descent_path", least=0)
    return _descent(f, x, rate, steps, sigma, alpha, "descent_path")


def _rate_text(rate: Any) -> str:
    """A learning rate as the caller gave it, as ``%g`` writes it (6 digits), with more where those do not read back as
    that number: three digits wrote 1.001 as "1", beside the 1 that oscillates for ever on x² while 1.001 diverges.
    A difference of a few roundings is no other number (np.arange(0.025, 0.1, 0.025)'s 0.07500000000000001 is 0.075),
    and a numpy float32 reads back in its own precision (np.float32(0.1) is 0.1, not 0.10000000149011612), held in a
    0-d array or a Value too."""
    held = np.asarray(rate.data if isinstance(rate, Value) else rate)
    number: Any = held[()] if held.dtype == np.float32 else float(held)  # (np.float32 or float: read back as it)
    return next(text for digits in range(6, 18)  # (17: any float reads back)
                if math.isclose(type(number)(text := f"{number:.{digits}g}"), number, rel_tol=1e-15, abs_tol=0))


def _step_rule(learning_rate: Any, name: str, function: str) -> float | None:
    """A fixed learning rate >= 0 (0: a step that changes nothing, as the optimizers take it), or None for
    ``"armijo"``."""
    if not isinstance(learning_rate, str):
        return checked_learning_rate(learning_rate, name, function)
    if learning_rate.lower() != "armijo":
        raise ValueError(f"{function}: {name} must be a number or 'armijo', got {learning_rate!r}")
    return None


def _descent(f: Function, x: np.ndarray, rate: float | None, steps: int, sigma: float, alpha: float,
             function: str) -> np.ndarray:
    """The path of :func:`descent_path` from its checked arguments: ``rate`` None takes Armijo steps."""
    points = [x]
    for _ in range(steps):
        fx, grad = _value_and_grad(f, x, function)
        if not np.isfinite(fx):  # outside f's domain (log of a negative number): no slope to follow from here
            if len(points) == 1:
                raise ValueError(f"{function}: f(start) = {fx} at the start {_vector_text(x)}; start where f is finite")
            break
        if not np.any(grad):
            break
        if rate is None:
            t = armijo_step(_values_of(f, function), x, grad, fx=fx, sigma=sigma, alpha=alpha).step
            if t is None:
                break
        else:
            t = rate
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):  # a rate that diverges ends it below
            moved = x - t * grad
        if not np.isfinite(moved).all() or np.abs(moved).max() > 1e12 or np.array_equal(moved, x):
            break  # (a step that changes nothing, η = 0: every later one would repeat it)
        x = moved
        points.append(x)
    return np.array(points)


# --- training histories ------------------------------------------------------------------------------------------
def _runs(histories: Any, labels: Sequence[str] | None) -> list[tuple[str, np.ndarray, np.ndarray | None]]:
    """(label, cost per episode, step size per episode or None) for each run given."""
    items = _run_items(histories)
    if labels is not None and (isinstance(labels, str) or not isinstance(labels, (Sequence, np.ndarray))):
        raise TypeError(f"plot_history: labels must be a list of names, one per run, got {type(labels).__name__}")
    if labels is not None and len(labels) != len(items):
        raise ValueError(f"plot_history: {len(labels)} labels for {len(items)} histories")
    missing = [i for i, label in enumerate(labels or ()) if label is None]  # (a legend entry "None")
    if missing:
        raise TypeError(f"plot_history: labels[{missing[0]}] is None; give every run a name")
    runs = []
    for i, (key, run) in enumerate(items):
        name = "" if key is None else str(key)  # a dict key of 0 (a seed) is a name too, not a missing one
        # one run without a name (a list of costs) has no legend entry: "run 1" named no other run
        unnamed = "" if len(items) == 1 else f"run {i + 1}"
        label = labels[i] if labels is not None else name or _run_label(run) or unnamed
        where = f"run {i + 1}" + ("" if label in ("", f"run {i + 1}") else f" ({label})")
        cost = _cost_array(getattr(run, "cost", run), i, where)
        if not cost.size:  # (a fit stopped by Ctrl-C or the notebook's stop button in its first episode has none)
            how = ("was interrupted before its first episode ended; train it for longer"
                   if getattr(run, "stopped", None) == "interrupted" else "has no episodes; train it with fit first")
            raise ValueError(f"plot_history: {where} {how}")
        step_array = _step_sizes(_column(getattr(run, "step_size", None)), cost.size, where)
        runs.append((_shown(str(label), "run name", "plot_history"), cost, step_array))
    if labels is None:  # two runs of one optimizer share its name as their History's label
        names = [label for label, _, _ in runs]
        runs = [(f"{label} (run {i})" if names.count(label) > 1 else label, cost, steps)
                for i, (label, cost, steps) in enumerate(runs, start=1)]
    return runs


def _run_items(histories: Any) -> list[tuple[Any, Any]]:
    """:func:`plot_history`'s ``history`` as (its key or None, one run: a History or its costs) for each run; what
    is no run, or a table of one row per episode that would be drawn transposed, is refused."""
    if getattr(histories, "ndim", None) == 1 and hasattr(histories, "to_numpy"):  # a pandas Series of costs
        histories = histories.to_numpy()
    sequence = (isinstance(histories, (Sequence, np.ndarray)) and not isinstance(histories, (str, bytes))
                and not (isinstance(histories, np.ndarray) and histories.ndim == 0))  # (no len: one number)
    if (isinstance(histories, Mapping) or sequence) and not len(histories):
        raise ValueError(f"plot_history: nothing to plot: got an empty {type(histories).__name__}")
    if isinstance(histories, Mapping):
        items = list(histories.items())
    elif hasattr(histories, "cost"):
        items = [(None, histories)]
    elif sequence and len(histories) and all(isinstance(c, (int, float, np.number)) or _one_number(c)
                                             for c in histories):
        items = [(None, histories)]  # one run's costs
    elif sequence and _rows_of_costs(histories):
        width = len(histories[0])
        by_run = _runs_of_columns(width)
        rows = (f"an array of {len(histories)} rows" if isinstance(histories, np.ndarray) else
                f"a list of {len(histories)} tuples")
        raise TypeError(f"plot_history: got {rows} of {checks.counted(width, 'cost')}, "
                        "one row per episode (as costs.append((g_cost, d_cost)) makes), where a list of runs is "
                        f"meant: that would draw {checks.counted(len(histories), 'run')} of "
                        f"{checks.counted(width, 'episode')}; give each run's costs in a dict, {by_run}")
    elif sequence and len(histories) and all(hasattr(h, "cost") or (isinstance(h, (Sequence, np.ndarray))
                                                                     and not isinstance(h, (str, bytes)))
                                             for h in histories):  # (["1", "2"] is not two runs of one cost)
        items = [(None, h) for h in histories]
    else:
        columns = getattr(histories, "columns", None)  # a table of one column per run, without a cost column
        titles = [] if columns is None else list(map(str, columns))
        shown = ", ".join(titles[:4] + ["…"] * (len(titles) > 4))  # (the first four, then … for more)
        table = "" if columns is None else (f" with the columns {shown} and no 'cost' column: its columns as runs are "
                                            "plot_history(dict(table))")
        raise TypeError("plot_history: expected a History, a list of Histories, a dict of label → History or a "
                        f"list of costs, got {_not_runs(histories) if sequence else type(histories).__name__}{table}")
    return items


def _rows_of_costs(histories: Sequence[Any] | np.ndarray) -> bool:
    """Whether ``histories`` is a table kept one row per episode, which read as runs would be drawn transposed: a
    list of tuples of costs, all of one length (``costs.append((g_cost, d_cost))``, ``list(zip(g, d))``), or a 2-D
    array of them (``np.array(costs)``), with at least as many rows as costs in a row.  Fewer rows are runs: the
    tuples of ``g_costs, d_costs = zip(*costs)``, one per run."""
    if isinstance(histories, np.ndarray):
        return histories.ndim == 2 and histories.dtype.kind in "iuf" and len(histories) >= histories.shape[1] > 0
    return bool(len(histories)) and isinstance(histories[0], tuple) and len(histories) >= len(histories[0]) and all(
        isinstance(row, tuple) and len(row) == len(histories[0]) > 0
        and all(isinstance(c, (int, float, np.number)) or _one_number(c) for c in row) for row in histories)


def _column(values: Any) -> Any:
    """A table's column (a DataFrame's, a History kept as ``pd.DataFrame(asdict(history))`` or read from CSV) as a
    numpy array; anything else as it is."""
    return values.to_numpy() if hasattr(values, "to_numpy") else values


def _run_label(run: Any) -> str:
    """A History's label: a number too (a seed, a learning rate; 0 is a name, not a missing one); a table's column
    of it, one per episode, by its first entry, where that is a name (read from CSV, an empty label is NaN)."""
    label = _column(getattr(run, "label", ""))
    if isinstance(label, np.ndarray) and label.ndim:
        label = label[0] if label.size and isinstance(label[0], str) else ""
    return "" if label is None else str(label)


def _not_runs(histories: Sequence[Any] | np.ndarray) -> str:
    """What is wrong with a list that is neither one run's costs nor a list of runs: its first element that is
    neither a number nor a run (a ``None``, a string), or that it mixes the two."""
    kind = type(histories).__name__
    for i, item in enumerate(histories):
        if not (isinstance(item, (int, float, np.number)) or _one_number(item) or hasattr(item, "cost")
                or (isinstance(item, (Sequence, np.ndarray)) and not isinstance(item, (str, bytes)))):
            shown = f"of shape {item.shape}" if isinstance(item, (Value, np.ndarray)) else f"{item!r:.40}"
            return f"a {kind} whose element {i} is {type(item).__name__} {shown}"
    return f"a {kind} that mixes costs and runs"


def _one_number(cost: Any) -> bool:
    """Whether ``cost`` is a Value or a numpy array of one real number: the cost a hand-written training loop appends
    to its list (``cost``, or its numbers, ``cost.data``, a 0-d array; an array has a length only from 1-d on, so
    it was taken for a run of its own, one per episode)."""
    if isinstance(cost, np.ndarray):
        return cost.size == 1 and cost.dtype.kind in "iuf"
    return isinstance(cost, Value) and cost.size == 1


def _cost_array(costs: Any, i: int, run: str) -> np.ndarray:
    """Run ``i``'s costs (``run`` names it) as floats, one per episode: a Value of one number as its number
    (``float(cost)``, as History's repr shows it), a column (n, 1) or a row (1, n) as its n costs.  A table of several
    columns is refused (raveled, the costs of each episode were interleaved into one curve), and so are True and
    False, as a flat array of them is by :func:`_run_items` (a 2-D one was drawn one run per row, where a table of
    numbers one row per episode is refused)."""
    if isinstance(costs, (list, tuple)):
        costs = [cost.item() if _one_number(cost) else cost for cost in costs]
    try:
        given = np.asarray(costs)
        array = _reals(given)
    except (TypeError, ValueError):
        raise TypeError(f"plot_history: the costs of run {i + 1} are not numbers") from None
    except OverflowError:  # a Python int past 1.8e308, which History's repr prints: numpy's bare OverflowError
        raise ValueError(f"plot_history: a cost of {run} is too large for a float (float64 reaches 1.8e308), "
                         "so it cannot be drawn") from None
    if given.dtype == bool:
        raise TypeError(f"plot_history: the costs of {run} are True/False values, not numbers; give numbers "
                        "(a share of correct answers per episode, a cost), e.g. np.asarray(costs, dtype=float)")
    if sum(length > 1 for length in array.shape) > 1:
        # (the same advice as for such a table given alone, for a list of pairs too: costs[:, 0] failed on it)
        split = (f"give each column as a run of its own: {_runs_of_columns(array.shape[1])}" if array.ndim == 2 else
                 "give each run one cost per episode")
        raise ValueError(f"plot_history: {run} is a table of shape {array.shape}, where a run is one cost per "
                         f"episode (drawn as one run, its columns would be interleaved into one curve); {split}")
    return array.ravel()


def _runs_of_columns(width: int) -> str:
    """A dict of one run per column of ``costs``, a table of ``width`` costs per episode (a list of tuples, as
    ``costs.append((g_cost, d_cost))`` makes it, or an array), as plot_history's refusals write it."""
    if width == 2:
        return "{'first': [row[0] for row in costs], 'second': [row[1] for row in costs]}"
    return f"{{f'run {{i}}': [row[i] for row in costs] for i in range({width})}}"


def _step_sizes(steps: Any, episodes: int, run: str) -> np.ndarray | None:
    """A History's step sizes as floats, NaN for an episode without one (None); None when no episode has one."""
    if steps is not None and (isinstance(steps, (str, bytes)) or not isinstance(steps, (Sequence, np.ndarray))):
        raise TypeError(f"plot_history: the step sizes of {run} must be a list, one per episode, got "
                        f"{type(steps).__name__} {steps!r:.60}")
    if steps is None or not len(steps):
        return None
    try:
        array = np.array([np.nan if s is None else float(s) for s in steps], dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"plot_history: the step sizes of {run} are not numbers (or None): {steps!r:.60}") from None
    except OverflowError:  # (as for the costs)
        raise ValueError(f"plot_history: the step sizes of {run} hold a number too large for a float (float64 "
                         "reaches 1.8e308), so they cannot be drawn") from None
    if array.size != episodes:  # else drawn against episodes they do not belong to
        raise ValueError(f"plot_history: {run} has {array.size} step sizes for {episodes} episodes; a History "
                         "records one per episode")
    return None if np.isnan(array).all() else array


#: The line styles of the runs of a figure, one after the other: runs must differ by more than their colour (a
#: deuteranope sees matplotlib's blue and red, or red and orange, as one; a grayscale printout too).
_RUN_STYLES = ("-", "--", ":", "-.")


def _run_styles(count: int) -> list[str]:
    """The line style of each of ``count`` runs drawn in matplotlib's colours in turn: the styles in turn, shifted by
    one after every lcm(colours, styles) runs, so that no two of the first colours × styles runs share both (else
    run 21 is run 1's twin with matplotlib's 10 colours, and run 13 with seaborn's 6)."""
    from matplotlib import rcParams

    colours = len(rcParams["axes.prop_cycle"].by_key().get("color", ())) or 1
    period = math.lcm(colours, len(_RUN_STYLES))
    return [_RUN_STYLES[(i + i // period) % len(_RUN_STYLES)] for i in range(count)]


#: The markers of the runs past the first colours × line styles (40 with matplotlib's 10 colours), one for each such
#: block of runs in turn: run 41 was run 11's twin (blue, dotted), and the legend held two entries alike.
_RUN_MARKERS = ("s", "D", "P", "*", "h", "X")


def _run_markers(count: int) -> list[str | None]:
    """The marker of each of ``count`` runs: none for the first colours × styles runs, then one per block of as many
    (the colours and styles of a block go round as the first block's, each pair once: see :func:`_run_styles`)."""
    from matplotlib import rcParams

    block = (len(rcParams["axes.prop_cycle"].by_key().get("color", ())) or 1) * len(_RUN_STYLES)
    return [None if i < block else _RUN_MARKERS[(i // block - 1) % len(_RUN_MARKERS)] for i in range(count)]


def _marked_points(count: int, run: int, isolated: list[int]) -> list[int]:
    """Where a run's marker is drawn on its ``count`` points: about six of them, from a point of its own (so that the
    markers of several runs do not all stand on one episode), and every ``isolated`` point (see :func:`_isolated`)."""
    step = max(1, count // 6)
    return sorted(set(range(run % step, count, step)) | set(isolated))


@checks.pytorch_keywords(**_NO_AX)
def plot_history(history: Any, *, log_scale: bool = True, labels: Sequence[str] | None = None,
                 step_sizes: bool | None = None, title: str | None = None, ylabel: str | None = None,
                 path: str | Path | None = None) -> Figure:
    """The cost per episode (seed, sections 5 and 7.3); several runs overlaid with a legend, each in a colour and a
    line style (solid, dashed, dotted, dash-dotted), so that they stay apart in grayscale too; no two of the first
    4 × c runs have both alike (c: the colours of the matplotlib style in use, 10 by default), and each further block
    of 4 × c runs has a marker of its own on a few of its points (□, ◇, ✚, ★, ⬢, ✖: no twins up to 28 × c runs).

    ``history`` is a ``training.History`` (anything with ``.cost``: a pandas DataFrame of a History's fields too),
    a list of them, a dict ``label → History`` or a plain list of costs (numbers, or a loop's cost Values or their
    ``.data``, arrays of one number; a pandas Series too); a list of runs
    may hold lists of costs too, but a list of tuples of costs, one row per episode (``costs.append((g_cost,
    d_cost))``), or a 2-D array of them, is refused: a dict of each run's costs says which is which (one run's costs
    given as such a table, or as True and False, are refused too).  Legends use ``labels``, the dict keys or each
    History's ``label``.  With ``log_scale`` the cost axis is logarithmic (symlog when a cost is negative, labelled
    with plain numbers where all costs are negative within a decade); costs of 0 are marked ▼ on its bottom edge,
    NaN and inf × on its top edge.
    ``step_sizes`` adds a second panel with the step size of every episode (Armijo's accepted steps, the learning
    rate of the other methods), on a log axis where a step is positive (a step of 0, no step taken, is marked ▼ on
    its bottom edge); by default it appears when some run recorded step sizes.
    ``ylabel`` names what the numbers are where they are no cost, say a test accuracy recorded after each episode
    (``plot_history(accuracies, log_scale=False, ylabel="test accuracy")``; the title is then "test accuracy per
    episode" unless ``title`` is given); by default the axis reads "cost C", and ``ylabel=""`` leaves it unlabelled.
    """
    _output_path(path, "plot_history")  # (checked before the drawing, which may take seconds)
    checks.flag(log_scale, "log_scale", "plot_history")
    if step_sizes is not None:
        checks.flag(step_sizes, "step_sizes", "plot_history")
    title = _check_title(title, "plot_history")
    ylabel = _check_title(ylabel, "plot_history", "ylabel")
    runs = _runs(history, labels)
    with_steps = [(i, label, steps) for i, (label, _, steps) in enumerate(runs) if steps is not None]
    if step_sizes and not with_steps:  # else an empty panel on a made-up axis from 0 to 1
        raise ValueError("plot_history: step_sizes=True, but no run recorded a step size (a list of costs has "
                         "none); leave step_sizes out")
    show_steps = bool(with_steps) if step_sizes is None else step_sizes
    fig = _figure(figsize=(7.5, (6.5 if show_steps else 4.2) + 0.22 * len(runs)), layout="constrained")
    if show_steps:
        ax, ax_steps = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2.2, 1]})
    else:
        ax, ax_steps = fig.subplots(), None
    styles, markers = _run_styles(len(runs)), _run_markers(len(runs))
    colors = _draw_cost_curves(ax, runs, styles, markers, log_scale, title, ylabel)
    if ax_steps is not None:
        _draw_step_sizes(ax, ax_steps, with_steps, colors, styles, markers)
    else:
        ax.set_xlabel("episode")
    # under the panels, where it covers no curve (long labels inside the axes hid the first episodes); hidden when
    # empty (one unnamed run, nothing marked: its "run 1" named no other run)
    legend = fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", handlelength=3)  # (room for "-.")
    legend.set_visible(bool(legend.get_texts()))
    _whole_episodes(ax, max(len(cost) for _, cost, _ in runs))
    return _finish(fig, path, "plot_history")


def _draw_cost_curves(ax: Any, runs: list[tuple[str, np.ndarray, np.ndarray | None]], styles: list[str],
                      markers: list[str | None], log_scale: bool, title: str | None, ylabel: str | None) -> list[str]:
    """:func:`plot_history`'s cost panel: each run's curve in its line style (and marker), costs off the axis marked
    on its edges, the axis (``ylabel``, "cost C" by default) and title; returns the runs' colours."""
    colors = []  # by run, not by label: labels=["SGD", "SGD"] are two runs, each with its colour and line style
    for i, (label, cost, _) in enumerate(runs):
        isolated = _isolated(cost)
        line, = ax.plot(np.arange(1, len(cost) + 1), cost, label=_legend_text(label), linewidth=1.6,
                        linestyle=styles[i], marker=markers[i] or ("o" if isolated else None), markersize=4,
                        markevery=_marked_points(len(cost), i, isolated) if markers[i] else isolated)
        colors.append(line.get_color())
    zeros_marked = log_scale and _zeros_on_the_edge([cost for _, cost, _ in runs])
    edges = _mark_off_the_axis(ax, [(color, cost) for color, (_, cost, _) in zip(colors, runs, strict=True)],
                               zeros_marked)
    ax.set_ylabel("cost C" if ylabel is None else ylabel)
    # (ylabel="" leaves the axis unlabelled: the title is then the cost's, not " per episode")
    _set_title(ax, title if title is not None else f"{ylabel} per episode" if ylabel and ylabel.strip() else
               "cost per episode")
    if log_scale:
        _log_cost_axis(ax, [c for _, c, _ in runs], zeros_marked)
    _room_for_edge_marks(ax, [c for _, c, _ in runs], *edges)
    ax.grid(True, which="both", alpha=0.3)
    return colors


def _draw_step_sizes(ax: Any, ax_steps: Any, with_steps: list[tuple[int, str, np.ndarray]], colors: list[str],
                     styles: list[str], markers: list[str | None]) -> None:
    """:func:`plot_history`'s step size panel: each run's steps in its cost curve's colour, style and marker, on a log
    axis where every step is ≥ 0 and some > 0 (steps of 0 marked ▼ on its bottom edge)."""
    for i, label, steps in with_steps:
        every = _marked_points(len(steps), i, []) if markers[i] else None
        ax_steps.plot(np.arange(1, len(steps) + 1), steps, linestyle=styles[i], marker=markers[i] or ".",
                      markevery=every, markersize=4 if markers[i] else 3, linewidth=1, color=colors[i],
                      label=label)  # the look of its cost curve: one legend for both
    every_step = np.concatenate([s for _, _, s in with_steps]) if with_steps else np.zeros(0)
    if (every_step > 0).any() and not (every_step < 0).any():
        # a step of 0 (Armijo found none, ‖∇C‖ = 0) made the axis linear, where steps of 2⁻²⁰ sat on 0 too: a
        # log axis, with the zeros as ▼ on its bottom edge, as costs of 0 are
        _step_size_axis(ax_steps, every_step[every_step > 0])
        _mark_zero_steps(ax, ax_steps, [(colors[i], steps) for i, _, steps in with_steps])
    elif bool(np.isfinite(every_step).any()) and bool((every_step[np.isfinite(every_step)] == 0).all()):
        # every step 0 (‖∇C‖ = 0 from the start): matplotlib's axis −0.05..0.05 read as negative step sizes
        ax_steps.set_ylim(-0.1, 1.0)
        ax_steps.set_yticks([0.0])
    ax_steps.set_ylabel("step size t (learning rate)")
    ax_steps.set_xlabel("episode")
    ax_steps.grid(True, which="both", alpha=0.3)


def _whole_episodes(ax: Any, episodes: int) -> None:
    """Ticks of the episode axis at whole episodes only, and room around a single one."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator("auto", integer=True, steps=[1, 2, 2.5, 5, 10]))  # whole episodes
    if episodes == 1:
        ax.set_xlim(0, 2)  # else the axis spans 0.95 to 1.05 and has no whole number but 1


def _legend_text(label: str) -> str:
    """``label`` for a legend: matplotlib leaves out every label that begins with "_" (a run named "_baseline"
    vanished from the legend), so such a label gets a zero-width space in front."""
    return "\u200b" + label if label.startswith("_") else label


def _zeros_on_the_edge(costs: Sequence[np.ndarray]) -> bool:
    """Whether costs of 0 are drawn as ▼ on the bottom edge of a log axis: some are 0, some positive and none
    negative.  (A symlog axis for them labelled its bottom 10⁻³⁴, 0 and −10⁻³⁴ on top of each other.)"""
    finite = np.concatenate([np.ravel(c) for c in costs])
    finite = finite[np.isfinite(finite)]
    return bool((finite == 0).any() and (finite > 0).any() and (finite >= 0).all())


def _mark_off_the_axis(ax: Axes, runs: Sequence[tuple[str, np.ndarray]], zeros: bool,
                       first: int = 1) -> tuple[bool, bool]:
    """Costs the axis cannot show, in the colour of their run: NaN or inf as × along the top (a line only left
    a gap there, and a run of NaN costs alone was an empty panel), and, when ``zeros``, 0 as ▼ along the bottom.
    Each kind gets one legend entry; ``first`` is the x of a run's first cost (episode 1, or step 0).  Whether
    the top and the bottom edge got marks (:func:`_room_for_edge_marks`)."""
    kinds = [("x", 0.97, "cost NaN or inf (× at the top)", lambda cost: ~np.isfinite(cost))]
    if zeros:
        kinds.append(("v", 0.03, "cost 0 (▼ at the bottom)", lambda cost: cost == 0))
    marked = []
    for marker, height, text, chosen in kinds:
        marked.append(_edge_marks(ax, runs, chosen, marker, height, first, markeredgewidth=2))
        if marked[-1]:
            # one entry in a neutral colour, for the marks of every run
            ax.plot([], [], marker, color="#333333", markeredgewidth=2, label=f"{text}, in the run's colour")
    return marked[0], len(marked) > 1 and marked[1]


def _room_for_edge_marks(ax: Axes, costs: Sequence[np.ndarray], top: bool, bottom: bool) -> None:
    """Widen the cost axis (on its own scale: decades on a log axis) so that the marks of :func:`_mark_off_the_axis`
    stand clear of the costs drawn: matplotlib's margins put the highest and lowest cost at 95.5% and 4.5% of the
    axes' height, next to the × at 97% and the ▼ at 3%, which then read as costs just above or below them."""
    if not (top or bottom):
        return
    everything = np.concatenate([np.ravel(c) for c in costs])
    shown = everything[np.isfinite(everything) & ((everything > 0) | (ax.get_yscale() != "log"))]
    if not shown.size:  # (only NaN: the marks alone)
        return
    scale = ax.yaxis.get_transform()  # log10 on a log axis, the symlog curve, or the identity
    drawn = scale.transform(shown.reshape(-1, 1)).ravel()
    low, high = scale.transform(np.reshape(ax.get_ylim(), (-1, 1))).ravel()
    limits = list(ax.get_ylim())
    with np.errstate(over="ignore"):  # (past float64 near 1e308, on a linear axis too: that side stays as it is)
        span = float(drawn.max() - drawn.min()) or float(high - low)
        wanted = [(top, 1, max(high, drawn.max() + 0.15 * span)), (bottom, 0, min(low, drawn.min() - 0.15 * span))]
        for marked, side, end in wanted:
            value = float(scale.inverted().transform([[end]])[0, 0])
            if marked and np.isfinite(value) and (value > 0 or ax.get_yscale() != "log"):
                limits[side] = value
    # not set_ylim, which passes the limits through the tick locator's nonsingular(): the fixed decade ticks of
    # _frame_far_decades took costs below 1e-287 for a single point and made the axis 1e-302 to 0.05
    ax.set_autoscaley_on(False)
    ax.yaxis.set_view_interval(limits[0], limits[1], ignore=True)


def _edge_marks(ax: Axes, runs: Sequence[tuple[str, np.ndarray]], chosen: Callable[[np.ndarray], np.ndarray],
                marker: str, height: float, first: int = 1, **style: Any) -> bool:
    """``marker`` at ``height`` of the axes (0 its bottom, 1 its top) at the episodes of each run where ``chosen`` of
    its numbers holds, in the run's colour; whether any was marked."""
    marked = False
    for color, numbers in runs:
        episodes = np.flatnonzero(chosen(numbers)) + first
        if episodes.size:
            ax.plot(episodes, np.full(episodes.size, height), marker, color=color, markersize=7,
                    transform=ax.get_xaxis_transform(), **style)
            marked = True
    return marked


def _mark_zero_steps(ax: Axes, ax_steps: Axes, runs: Sequence[tuple[str, np.ndarray]]) -> None:
    """Step sizes of 0 on the log step size axis: ▼ along its bottom edge in the colour of their run, with one
    entry in the legend (the cost panel's, which the figure's legend shows)."""
    if _edge_marks(ax_steps, runs, lambda steps: steps == 0, "v", 0.05):  # room below the smallest step, off its line
        positive = np.concatenate([steps[steps > 0] for _, steps in runs])
        lowest = math.log2(float(positive.min()))
        octaves = math.log2(float(positive.max())) - lowest or 1.0
        ax_steps.set_ylim(bottom=2.0 ** max(lowest - 0.2 * octaves - 0.3, -1074.0))  # (not below the least float)
        ax.plot([], [], "v", color="#333333", label="step size 0, no step (▼ at the bottom), in the run's colour")


def _isolated(values: np.ndarray) -> list[int]:
    """The finite points no line segment reaches (both neighbours missing or not finite): they need a marker,
    or a run of one episode, or a cost between two NaNs, is drawn as nothing."""
    finite = np.isfinite(values)
    before = np.concatenate([[False], finite[:-1]])
    after = np.concatenate([finite[1:], [False]])
    return np.flatnonzero(finite & ~before & ~after).tolist()


def _step_size_axis(ax: Axes, steps: np.ndarray) -> None:
    """A log axis, base 2 as Armijo's steps are powers of α = 1/2; a few distinct steps (a learning rate) are the
    ticks themselves, so that 0.001 reads 0.001, not a point between 2⁻¹⁰ = 0.000976562 and 2⁻⁹.  Many learning
    rates over two decades or more (a decaying schedule) get base 10, ticks 0.1, 0.01, …, where base 2 labelled
    them 0.000244141 and 3.05176e-05; steps that are all powers of 2 keep base 2."""
    from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullFormatter

    distinct, counts = np.unique(steps[np.isfinite(steps)], return_counts=True)
    powers_of_2 = bool((np.frexp(distinct)[0] == 0.5).all())
    decades = distinct.size > 6 and not powers_of_2 and distinct[-1] >= 100 * distinct[0]
    ax.set_yscale("log", base=10 if decades else 2)
    if distinct.size <= 6:
        ax.yaxis.set_major_locator(FixedLocator(_spaced_ticks(distinct, counts)))
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _spaced_ticks(values: np.ndarray, counts: np.ndarray) -> list[float]:
    """The step sizes to label, the most frequent first, leaving out any closer than a twelfth of the axis (in
    octaves) to one already labelled: 0.15 and 0.125 side by side printed their labels over each other."""
    octaves = np.log2(values)
    gap = (octaves.max() - octaves.min()) / 12
    kept: list[int] = []
    for i in np.argsort(-counts, kind="stable"):
        if all(abs(octaves[i] - octaves[j]) >= gap for j in kept):
            kept.append(int(i))
    return sorted(float(values[i]) for i in kept)


def _log_cost_axis(ax: Axes, costs: Sequence[np.ndarray], zeros_marked: bool = False) -> None:
    """A logarithmic cost axis; symlog when a cost is 0 or negative (a log axis would drop those points), unless
    ``zeros_marked`` (the costs of 0 are drawn on the bottom edge)."""
    everything = np.concatenate([np.ravel(c) for c in costs]) if costs else np.array([1.0])
    finite = everything[np.isfinite(everything)]
    if finite.size and not finite.any():  # all 0: symlog around 1e-12 drew two dozen crowded decades
        ax.set_yscale("linear")
    elif finite.size and (finite <= 0).any() and not zeros_marked:
        _symlog_cost_axis(ax, finite)
    else:
        positive = finite[finite > 0]
        with np.errstate(over="ignore"):  # (margins past float64: _frame_far_decades sets the limits then)
            ax.set_yscale("log")
        if positive.size and positive.max() == positive.min() and 1e-200 < positive.min() < 1e200:
            # one cost (or all equal): matplotlib framed it a decade each side, and a cost of 1 got 20 plain labels
            # printed over each other (costs past 1e±200 are framed by _frame_far_decades)
            ax.set_ylim(positive.min() / 2, positive.max() * 2)
        if positive.size and positive.max() / 10 < positive.min():  # (10 · 1e308 overflowed, with a warning)
            _plain_tick_labels(ax)
        _frame_far_decades(ax, positive)


def _symlog_cost_axis(ax: Axes, finite: np.ndarray) -> None:
    """A symlog axis for the ``finite`` costs, some of them below 0, framed here: matplotlib's margins (5% of the axis
    in its own units) overflowed float64 past about 1e±293, and a cost with a sign error, run down to −1e307, got an
    empty axis from −0.001 to 0.001 (and numpy's overflow warning).  Costs all below 0 within a decade are labelled
    with plain numbers, as such costs above 0 are (the decade ticks labelled −1 … −3 once, −10⁰, and one cost of −2
    not at all), and costs all equal are framed by half and twice them."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator, NullLocator

    linthresh = float(np.abs(finite[finite != 0]).min())
    # the linear part around 0 takes one decade's height by default: beside 40 decades its ticks −10⁻²⁰, 0 and
    # 10⁻²⁰ printed over each other; give it a twelfth of the decades shown, as the decade ticks are spaced
    decades = sum(math.log10(float(side.max())) - math.log10(linthresh)
                  for side in (finite[finite > 0], -finite[finite < 0]) if side.size)
    ax.set_autoscaley_on(False)  # (before the scale: matplotlib's margins would be computed, and overflow, first)
    ax.set_yscale("symlog", linthresh=linthresh, linscale=max(1.0, decades / 12))
    low, high = float(finite.min()), float(finite.max())
    if low == high:  # one cost below 0, or all alike: twice and half of it (a decade's margins spanned 0.1 of it)
        limits = [2 * low, high / 2]
    else:
        scale = ax.yaxis.get_transform()
        drawn = scale.transform([[low], [high]]).ravel()
        margin = 0.05 * float(drawn[1] - drawn[0])
        with np.errstate(over="ignore"):
            ends = scale.inverted().transform([[drawn[0] - margin], [drawn[1] + margin]]).ravel()
        # within float64 (as _frame_far_decades), and within 1e307 linthresholds: matplotlib's tick labels divide
        # the ends by linthresh, which overflowed (numpy's warnings when shown or saved); never inside the costs
        largest = min(10.0 ** 308.25, linthresh * 1e307)
        limits = [min(max(float(ends[0]), -largest), low), max(min(float(ends[1]), largest), high)]
    ax.yaxis.set_view_interval(limits[0], limits[1], ignore=True)
    if high < 0 and low > 10 * high:  # all below 0, within a decade: a few plain numbers, −3, −2.5, −2, …
        ax.yaxis.set_major_locator(MaxNLocator(5, steps=[1, 2, 2.5, 5, 10]))  # (more crowd the axis's bottom)
        ax.yaxis.set_major_formatter(FuncFormatter(functools.partial(_level_label, digits=12, zero=0.0)))
        ax.yaxis.set_minor_locator(NullLocator())


def _frame_far_decades(ax: Axes, positive: np.ndarray) -> None:
    """Limits and decade ticks for a log axis reaching past 10^±200, where matplotlib's own overflow float64: its
    margins made the axis of a run diverging to 1e295 span 1 to 10, without the curve, and its ticks a few decades
    past the data broke its tick labels.  Here: margins of 5% of the decades, ends within float64, ~8 ticks."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    if not positive.size or 1e-200 < positive.min() <= positive.max() < 1e200:
        return
    low, high = np.log10(positive.min()), np.log10(positive.max())
    margin = 0.05 * (high - low) or 1.0  # (one cost: a decade each side, as matplotlib frames it)
    bottom, top = max(low - margin, -323.0), min(high + margin, 308.25)
    ax.set_ylim(min(10.0 ** bottom, positive.min()), max(10.0 ** top, positive.max()))
    stride = next(n for n in (1, 2, 5, 10, 20, 25, 50, 100, 200) if (top - bottom) / n <= 8)  # 10^0, 10^50, …
    decades = np.arange(math.ceil(bottom / stride) * stride, top + 1e-9, stride)
    ax.yaxis.set_major_locator(FixedLocator((10.0 ** decades).tolist()))
    ax.yaxis.set_minor_locator(NullLocator())
    if bottom < -307:  # subnormal decades: 10.0 ** -322 is 9.88e-323, no power of 10, and matplotlib labelled none
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{10.0 ** round(math.log10(value)):g}"
                                                   if value > 1e-300 else f"1e{round(math.log10(value))}"))


def _plain_tick_labels(ax: Axes) -> None:
    """Label a log axis that spans less than a decade with plain numbers: its ticks are then not powers of 10, and
    matplotlib labelled them ``1.3978 × 10⁰``."""
    from matplotlib.ticker import FormatStrFormatter

    ax.yaxis.set_major_formatter(FormatStrFormatter("%.12g"))
    ax.yaxis.set_minor_formatter(FormatStrFormatter("%.12g"))


# --- activation functions ----------------------------------------------------------------------------------
def _layers_slope(drawn: float, leaky_relu: Callable[..., Any]) -> str:
    """For the title, where the slope drawn is not the one a layer's ``activation="leaky_relu"`` uses (the default
    of ``leaky_relu``, functional's), that one: a student read the drawing's 0.1 as the layers' slope."""
    used = inspect.signature(leaky_relu).parameters["negative_slope"].default
    return "" if drawn == used else f", {used:g} in layers"


@checks.pytorch_keywords(**_NO_AX)
def plot_activations(names: Sequence[str] | None = None, *, x_range: tuple[float, float] = (-5.0, 5.0),
                     negative_slope: float = 0.1, path: str | Path | None = None) -> Figure:
    """The activation functions σ of seed section 3.1 and their derivatives σ′, one panel each.

    The derivatives come from the engine's own backward pass (``σ(x).sum().backward()`` gives σ′(x) in
    ``x.grad``), so the picture also shows the gradient rules the network uses.  ``names`` picks from sigmoid,
    relu, tanh, leaky_relu and softplus (all by default); leaky ReLU uses ``negative_slope`` (0.1, so that the
    slope is visible; the panel's title then says that the layers' ``"leaky_relu"`` has 0.01, F.leaky_relu's default).
    """
    _output_path(path, "plot_activations")  # (checked before the drawing, which may take seconds)
    from tinygrad_edu import functional as F

    if names is not None and (isinstance(names, str) or not isinstance(names, Sequence)
                              or not all(isinstance(name, str) for name in names)):
        raise TypeError(f"plot_activations: names must be a list of activation names such as ['relu', 'tanh'], "
                        f"got {type(names).__name__} {names!r:.60}")
    negative_slope = checks.number(negative_slope, "negative_slope", "plot_activations")
    available = {"sigmoid": ("sigmoid σ(x) = 1/(1+e⁻ˣ)", F.sigmoid),
                 "relu": ("ReLU max(x, 0)", F.relu),
                 "tanh": ("tanh x", F.tanh),
                 "leaky_relu": (f"leaky ReLU (slope {negative_slope:g}){_layers_slope(negative_slope, F.leaky_relu)}",
                                lambda v: F.leaky_relu(v, negative_slope=negative_slope)),
                 "softplus": ("softplus ln(1+eˣ)", F.softplus)}
    names = list(available) if names is None else list(names)
    unknown = [n for n in names if n not in available]
    if unknown or not names:
        problem = f"unknown activation(s) {unknown}" if unknown else "names is empty"
        raise ValueError(f"plot_activations: {problem}; choose from {', '.join(available)}")
    low, high = _x_range(x_range, "plot_activations")
    grid = np.linspace(low, high, 401)
    fig = _figure(figsize=(3.2 * len(names), 3.2), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(names), sharey=False))
    for ax, name in zip(axes, names, strict=True):
        title, function = available[name]
        x = Value(grid)
        with np.errstate(over="ignore", invalid="ignore"):  # a value past float64 leaves a gap, as in plot_derivatives
            y = function(x)
            y.sum().backward()  # ∂(Σ σ(x_i))/∂x_i = σ′(x_i)
        for curve, what in ((y.data, f"{name}(x)"), (x.grad, f"{name}′(x)")):
            _check_span(curve, what, "plot_activations")
        ax.plot(grid, y.data, label="σ(x)", linewidth=2)
        ax.plot(grid, x.grad, "--", label="σ′(x) (backward)", linewidth=1.6)
        ax.axhline(0, color="#999999", linewidth=0.6)
        ax.axvline(0, color="#999999", linewidth=0.6)
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel("x")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    return _finish(fig, path, "plot_activations")


# --- descent on a two-parameter cost -----------------------------------------------------------------------
def _bounds(paths: Sequence[np.ndarray], bounds: Any, function: str) -> tuple[float, float, float, float]:
    if bounds is not None:
        try:
            x0, x1, y0, y1 = (_real(b) for b in bounds)
        except (TypeError, ValueError):
            raise ValueError(f"{function}: bounds must be four numbers (x_min, x_max, y_min, y_max), "
                             f"got {bounds!r:.60}") from None
        if not (np.isfinite([x0, x1, y0, y1]).all() and x0 < x1 and y0 < y1):
            raise ValueError(f"{function}: bounds must be (x_min, x_max, y_min, y_max) with finite min < max, "
                             f"got {bounds}")
        return x0, x1, y0, y1
    points = np.concatenate([p for p in paths if len(p)])
    points = points[np.isfinite(points).all(axis=1)]
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.maximum(high - low, 0.5)
    low, high = low - 0.25 * span, high + 0.25 * span
    return float(low[0]), float(high[0]), float(low[1]), float(high[1])


#: The most contour levels, grid points a side and curve points a figure takes: far more than it has pixels for (more
#: was no error but a run that seemed to hang: millions of calls of f).
_MOST_LEVELS, _MOST_RESOLUTION, _MOST_POINTS = 1000, 1000, 1_000_000


#: The axes of a two-parameter cost's contour plot, unless named: the first parameter, p[0], along x.
_PARAMETER_NAMES = ("parameter 1", "parameter 2")


def _parameter_names(names: Any, function: str) -> tuple[str, str]:
    """``parameter_names``: two strings, the names of p[0] and p[1] on the axes (``("w", "b")``)."""
    if not (isinstance(names, (tuple, list)) and len(names) == 2 and all(isinstance(n, str) for n in names)):
        raise TypeError(f"{function}: parameter_names must be two strings, the names of p[0] and p[1] (e.g. "
                        f"('w', 'b')), got {type(names).__name__} {names!r:.60}")
    return _shown(names[0], "parameter name", function), _shown(names[1], "parameter name", function)


def _contour(ax: Axes, f: Function, box: tuple[float, float, float, float], levels: int, resolution: int,
             function: str, names: tuple[str, str] = _PARAMETER_NAMES) -> Any:
    levels = checks.integer(levels, "levels", function, least=2, most=_MOST_LEVELS)
    resolution = checks.integer(resolution, "resolution", function, least=2, most=_MOST_RESOLUTION)
    xs = np.linspace(box[0], box[1], resolution)
    ys = np.linspace(box[2], box[3], resolution)
    grid = np.array([[_value(f, np.array([x, y]), function) for x in xs] for y in ys])
    finite = grid[np.isfinite(grid)]
    if not finite.size:  # else an empty picture with a made-up colour bar around 0
        raise ValueError(f"{function}: f is NaN or inf everywhere in the window x ∈ [{box[0]:.3g}, {box[1]:.3g}], "
                         f"y ∈ [{box[2]:.3g}, {box[3]:.3g}]; nothing to draw (give other bounds or start)")
    norm = None
    if finite.min() == finite.max():  # a constant f: one colour (the colour bar shows the cost once)
        level_values: np.ndarray | int = finite[0] + np.array([-0.5, 0.5]) * max(abs(finite[0]), 1.0)
    elif finite.min() > 0 and finite.max() / finite.min() > 1e3:  # log-spaced levels for a deep valley
        level_values = np.geomspace(finite.min(), finite.max(), levels)
        # coloured on a log scale too: on the linear one the valley's levels, the lower half of the colour bar, were
        # all one dark purple (and a bowl over 20 decades one colour from edge to edge)
        from matplotlib.colors import LogNorm

        norm = LogNorm(finite.min(), finite.max())
    else:
        level_values = levels
    filled = ax.contourf(xs, ys, grid, levels=level_values, cmap="viridis", alpha=0.85, norm=norm)
    ax.contour(xs, ys, grid, levels=level_values, colors="white", linewidths=0.4, alpha=0.6)
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    return filled


def _colour_bar(fig: Figure, ax: Axes, filled: Any) -> None:
    """The cost's colour bar: log-spaced levels (a deep valley) labelled with two digits, evenly spaced ones with
    as many as tell them apart (two digits printed the levels 100.5 … 103.3 all as 1e+02, and 13.5 as 14).  Every
    label is its level's cost: matplotlib's own labels of costs near 1e-12 read 0.3, 0.6, … under a "1e−12" printed
    over the end of the title."""
    if filled.zmin == filled.zmax:  # a constant f (one colour between two made-up levels): its cost, once
        fig.colorbar(filled, ax=ax, label="cost", ticks=[filled.zmin], format="%.6g")
        return
    levels = np.asarray(filled.levels, dtype=float)
    gaps = np.diff(levels)
    # (numpy's atol of 1e-8 took any gaps of 1e-12 as even; but levels 1e-12 apart near 5 differ in their gaps by
    # their rounding, a few parts in 1e4 of the gap, and were labelled "%.2g": every one of them "5")
    rounding = 8 * np.finfo(np.float64).eps * float(np.abs(levels).max())
    even = np.allclose(gaps, gaps[0], rtol=1e-6, atol=rounding)
    if not even:
        fig.colorbar(filled, ax=ax, label="cost", format="%.2g")
        return
    from matplotlib.ticker import FuncFormatter

    digits = min(17, max(2, math.ceil(math.log10(float(np.abs(levels).max()) / gaps[0])) + 1))
    label = functools.partial(_level_label, digits=digits, zero=1e-6 * float(gaps[0]))  # (a figure still pickles)
    fig.colorbar(filled, ax=ax, label="cost", format=FuncFormatter(label))


def _level_label(cost: float, position: Any, *, digits: int, zero: float) -> str:
    """A colour bar's label of ``cost`` with ``digits`` significant digits; below ``zero`` it is 0 (a tick meant to
    be 0 may come out of matplotlib's locator as 2e-16); with the minus sign −, as matplotlib writes the axes'."""
    return format_number(0.0 if abs(cost) < zero else float(cost), digits).replace("-", "\N{MINUS SIGN}")


def _draw_path(ax: Axes, points: np.ndarray, label: str, after: str) -> None:
    ax.plot(points[:, 0], points[:, 1], "o-", color="#ff5050", markersize=3.5, linewidth=1.4, label=label)
    ax.plot(points[0, 0], points[0, 1], "s", color="white", markeredgecolor="black", markersize=7, label="start")
    ax.plot(points[-1, 0], points[-1, 1], "*", color="gold", markeredgecolor="black", markersize=12,
            label=f"after {after}")


def _steps_text(points: np.ndarray) -> str:
    """How many steps a path of ``points`` (its start first) took: "3 steps"."""
    return checks.counted(len(points) - 1, "step")


#: What plot_descent's title calls the path of an optimizer that takes no gradient descent steps (the seed sets random
#: search and Newton's method against gradient descent); any other optimizer's is "gradient descent".
_METHODS = {RandomSearch: "random search", Newton: "Newton's method"}


def _optimizer_path(f: Function, start: np.ndarray, factory: Callable[[list[Value]], Any],
                    steps: int) -> tuple[np.ndarray, str, str, str]:
    """The points an optimizer from ``tinygrad_edu.optim`` visits (``factory([x])`` must return it), its name,
    the method it follows and how many steps it took: for random search the changes it kept, one point each, of the
    guesses it made (a guess it refused put the point back where it was: no step, and no point drawn on the last)."""
    point = Value(start.copy())
    optimizer = factory([point])
    if not hasattr(optimizer, "step"):
        raise TypeError("plot_descent: optimizer_or_steps must be a learning rate, 'armijo', points, or a function "
                        f"that makes an optimizer from [parameters]; it returned {type(optimizer).__name__}")
    points = [start.copy()]
    for _ in range(steps):
        before = point.data.copy()
        optimizer.step(lambda: f(point))
        if not np.isfinite(point.data).all() or np.abs(point.data).max() > 1e12:
            break
        # as descent_path: no step where Armijo (or Newton) found none, nor where ∇f = 0 left the point where it was
        # (the seed's STOP; random search, which keeps no gradient, may still move later)
        stopped = point.grad is not None and not np.any(point.grad) and np.array_equal(point.data, before)
        if getattr(optimizer, "last_failed", False) or stopped:
            break
        # (a refused guess: no step; nor one that changed no number, η = 0, as descent_path's path ends there)
        if getattr(optimizer, "last_accepted", True) is not False and not np.array_equal(point.data, before):
            points.append(np.array(point.data, dtype=np.float64))
    method = next((name for kind, name in _METHODS.items() if isinstance(optimizer, kind)), "gradient descent")
    after = _steps_text(np.array(points))
    if isinstance(optimizer, RandomSearch):
        guesses = optimizer.proposals
        after = f"{checks.counted(len(points) - 1, 'kept change')} of {guesses} guess{'' if guesses == 1 else 'es'}"
    return np.array(points), type(optimizer).__name__, method, after


_PATH_KINDS = "a learning rate, 'armijo', a function making an optimizer, or points of shape (k, 2)"


def _path_to_draw(f: Function, start: np.ndarray, optimizer_or_steps: Any, steps: int, sigma: float,
                  alpha: float) -> tuple[np.ndarray, str, str, str]:
    """The points :func:`plot_descent` draws, their label, the method that made them (for the title) and how many
    steps they are ("12 steps"; a random search's "3 kept changes of 12 guesses"), from its ``optimizer_or_steps``."""
    if isinstance(optimizer_or_steps, (bool, np.bool_)):  # no learning rate of 1, and no array of shape ()
        raise TypeError(f"plot_descent: optimizer_or_steps must be {_PATH_KINDS}; got bool {optimizer_or_steps!r}")
    if isinstance(optimizer_or_steps, (str, int, float, np.integer, np.floating)):  # (np.int64(1): descent_path's)
        rate = _step_rule(optimizer_or_steps, "optimizer_or_steps", "plot_descent")
        label = "Armijo steps" if rate is None else f"learning rate η = {_rate_text(optimizer_or_steps)}"
        points = _descent(f, start, rate, steps, sigma, alpha, "plot_descent")
        return points, label, "gradient descent", _steps_text(points)
    if callable(optimizer_or_steps):
        return _optimizer_path(f, start, optimizer_or_steps, steps)
    try:
        points = _reals(optimizer_or_steps)
    except (TypeError, ValueError):
        raise TypeError(f"plot_descent: optimizer_or_steps must be {_PATH_KINDS}; got "
                        f"{type(optimizer_or_steps).__name__} {optimizer_or_steps!r:.60}") from None
    if points.ndim != 2 or points.shape[1] != 2 or not len(points):
        raise ValueError(f"plot_descent: optimizer_or_steps must be {_PATH_KINDS}; "
                         f"got an array of shape {points.shape}")
    if not np.isfinite(points).all():  # else numpy's "zero-size array" from the window, or a title "cost nan"
        row = int(np.flatnonzero(~np.isfinite(points).all(axis=1))[0])
        raise ValueError(f"plot_descent: the points of optimizer_or_steps must be finite; row {row} is "
                         f"{_vector_text(points[row])}")
    if not np.allclose(points[0], start, rtol=1e-6, atol=1e-12):  # (float32 rounding passes; another start not)
        raise ValueError(f"plot_descent: the path given as optimizer_or_steps must begin at start "
                         f"{tuple(start.tolist())}, but its first point is {tuple(points[0].tolist())}; for the "
                         "points after each step, put start first: np.vstack([start, points])")
    return points, "path", "gradient descent", _steps_text(points)


@checks.pytorch_keywords({"learning_rate": "give it as optimizer_or_steps, the third argument (a learning rate, "
                                           "\"armijo\", an optimizer or a path): plot_descent(f, start, 0.1)"},
                         **_NO_AX)
def plot_descent(f: Function, start: Any, optimizer_or_steps: Any = 0.1, *, steps: int | None = None,
                 sigma: float = 1e-4, alpha: float = 0.5, bounds: Sequence[float] | None = None, levels: int = 30,
                 resolution: int = 60, title: str | None = None, path: str | Path | None = None,
                 parameter_names: Sequence[str] = _PARAMETER_NAMES) -> Figure:
    """Contour lines of a two-parameter cost ``f`` and the path gradient descent takes from ``start`` (seed 6.2).

    ``optimizer_or_steps`` is a fixed learning rate η (a number), ``"armijo"`` for the Armijo step size
    control, a function making an optimizer from a parameter list (``lambda p: optim.Adam(p, 0.1)``: it
    takes up to ``steps`` steps, 25 by default, and stops as the ``"armijo"`` path does where ∇f = 0 leaves the point
    where it is or the optimizer finds no step, its ``last_failed``; a learning rate or an optimizer whose path
    diverges ends at its last point within 1e12 in size, as :func:`descent_path` does), or the points of a path you
    computed (an array of shape (k, 2)), which must begin at ``start``: the first point is marked as the start and the
    path counts k − 1 steps, all drawn unless ``steps`` is given (then its first ``steps``; a path that begins
    elsewhere is refused with a ValueError, not drawn from a start it does not pass through).  The title names the
    method: gradient descent, or random search and Newton's method for the paths of ``optim.RandomSearch`` and
    ``optim.Newton``.  ``bounds`` = (x_min, x_max, y_min, y_max) fixes the window; by default it frames the path.
    ``parameter_names`` names the axes, p[0] along x (``("w", "b")``).
    """
    _output_path(path, "plot_descent")  # (checked before the drawing, which may take seconds)
    _check_function(f, "plot_descent")
    title = _check_title(title, "plot_descent")
    names = _parameter_names(parameter_names, "plot_descent")
    start = _point(start, "start", "plot_descent", dims=2)
    given = None if steps is None else checks.integer(steps, "steps", "plot_descent", least=0)
    _check_constants(sigma, alpha, "plot_descent")  # whatever optimizer_or_steps is: checked, not ignored unread
    points, label, method, after = _path_to_draw(f, start, optimizer_or_steps, 25 if given is None else given,
                                                 sigma, alpha)
    if given is not None and len(points) > given + 1:  # a path given as points: its first steps only (all were drawn)
        points = points[:given + 1]
        after = _steps_text(points)
    fig = _figure(figsize=(6.2, 5), layout="constrained")
    ax = fig.subplots()
    filled = _contour(ax, f, _bounds([points], bounds, "plot_descent"), levels, resolution, "plot_descent", names)
    _colour_bar(fig, ax, filled)
    _draw_path(ax, points, label, after)
    final = _value(f, points[-1], "plot_descent")
    _set_title(ax, f"{method}: {label}, cost {final:.3g} after {after}" if title is None else title, fontsize="medium")
    ax.legend(fontsize="small", loc="best")
    return _finish(fig, path, "plot_descent")


def _largest_curvature(f: Function, x: np.ndarray) -> float:
    """The largest eigenvalue of the Hessian at ``x``, from central differences of engine gradients."""
    n, h = x.size, 1e-4 * max(1.0, float(np.abs(x).max()))
    hessian = np.empty((n, n))
    for i in range(n):
        e = np.zeros(n)
        e[i] = h
        hessian[i] = (_value_and_grad(f, x + e, "plot_learning_rates")[1] -
                      _value_and_grad(f, x - e, "plot_learning_rates")[1]) / (2 * h)
    return float(np.linalg.eigvalsh((hessian + hessian.T) / 2).max())


def _learning_rate_arguments(start: Any, learning_rates: Any, steps: Any, armijo: Any, sigma: float,
                             alpha: float) -> tuple[np.ndarray, dict[str, float] | None, dict[str, str], int]:
    """The arguments of :func:`plot_learning_rates`, checked: the start, the learning rates with their texts (as
    given: :func:`_rate_text`), the steps."""
    function = "plot_learning_rates"
    checks.flag(armijo, "armijo", function)
    _check_constants(sigma, alpha, function)
    texts: dict[str, str] = {}
    if learning_rates is not None:
        if not isinstance(learning_rates, Mapping):
            raise TypeError(f"{function}: learning_rates must be a dict {{'label': η, ...}}, got "
                            f"{type(learning_rates).__name__} {learning_rates!r:.60}")
        given = [(_shown(label, "label", function) if isinstance(label, str) else label,
                  checked_learning_rate(rate, f"learning_rates[{label!r}]", function), rate)
                 for label, rate in learning_rates.items()]
        learning_rates = {label: rate for label, rate, _ in given}
        texts = {label: _rate_text(rate) for label, _, rate in given}
    steps = checks.integer(steps, "steps", function, least=0)
    return _point(start, "start", function, dims=2), learning_rates, texts, steps


@checks.pytorch_keywords(**_NO_AX)
def plot_learning_rates(f: Function, start: Any, learning_rates: Mapping[str, float] | None = None, *,
                        steps: int = 20, armijo: bool = True, sigma: float = 1e-4, alpha: float = 0.5,
                        bounds: Sequence[float] | None = None, resolution: int = 50,
                        path: str | Path | None = None, parameter_names: Sequence[str] = _PARAMETER_NAMES) -> Figure:
    """The seed's section 7.2: the same start, a learning rate that overshoots, one that crawls, one that fits,
    and (``armijo``) Armijo's step size control; one contour panel each, and the cost per step of all of them.

    By default the learning rates come from the largest curvature λ of ``f`` at ``start`` (Hessian by finite
    differences of engine gradients): η = 2.1/λ overshoots (past 2/λ every step lands higher up the other side of
    the valley, so the path diverges; where f curves less steeply further along, η is doubled until the path does
    end higher than it started), η = 0.05/λ crawls and η = 1/λ fits (their labels round them to 3 digits).  Give
    ``learning_rates`` as ``{"label": η}`` to choose your own (labelled as given: 1.001 is not written 1); the window
    then frames the paths whose cost does not end higher than it started (all of them if none does), so that one
    that diverges runs out of it, as "overshoots" does.  ``parameter_names`` names the axes of the contour panels,
    p[0] along x (``("w", "b")``), as in :func:`plot_descent`.
    """
    _output_path(path, "plot_learning_rates")  # (checked before the drawing, which may take seconds)
    names = _parameter_names(parameter_names, "plot_learning_rates")
    start, learning_rates, texts, steps = _learning_rate_arguments(start, learning_rates, steps, armijo, sigma,
                                                                   alpha)
    if not np.any(_value_and_grad(f, start, "plot_learning_rates")[1]):
        raise ValueError(f"plot_learning_rates: ∇f = 0 at the start {_vector_text(start)}; there is no descent "
                         "direction, so every learning rate stays put: start elsewhere")
    learning_rates, framed, shown = _chosen_rates(f, start, learning_rates, texts, steps)
    schedules: list[tuple[str, np.ndarray]] = []
    for name, rate in learning_rates.items():
        schedules.append((f"{name}: η = {shown[name]}", _descent(f, start, rate, steps, sigma, alpha,
                                                                "plot_learning_rates")))
    if framed is None:  # your own rates: one that runs off, as "overshoots" does, would shrink every panel to a dot
        framed = [name for name, (_, p) in zip(learning_rates, schedules, strict=False)
                  if _value(f, p[-1], "plot_learning_rates") <= _value(f, p[0], "plot_learning_rates")]
        framed = framed or list(learning_rates)
    if armijo:
        schedules.append((f"Armijo (σ = {sigma:g}, α = {alpha:g})",
                          _descent(f, start, None, steps, sigma, alpha, "plot_learning_rates")))
    if not schedules:
        raise ValueError("plot_learning_rates: nothing to draw (no learning rates and armijo=False)")
    framed_paths = [p for name, (_, p) in zip(learning_rates, schedules, strict=False) if name in framed]
    framed_paths += [p for _, p in schedules[len(learning_rates):]] + [start[None, :]]
    box = _bounds(framed_paths, bounds, "plot_learning_rates")
    fig = _figure(figsize=(3.6 * (len(schedules) + 1), 3.8), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(schedules) + 1))
    costs, cost_colors = _draw_paths(f, axes, schedules, box, resolution, names)
    _draw_costs_per_step(axes[-1], costs, cost_colors)
    return _finish(fig, path, "plot_learning_rates")


def _chosen_rates(f: Function, start: np.ndarray, learning_rates: dict[str, float] | None, texts: dict[str, str],
                  steps: int) -> tuple[dict[str, float], list[str] | None, dict[str, str]]:
    """:func:`plot_learning_rates`'s learning rates (by default from the largest curvature λ at ``start``: 2.1/λ
    made to overshoot, 0.05/λ, 1/λ), the names of the paths the window frames (None: your own rates, framed once
    their paths are known) and each rate's text."""
    if learning_rates is not None:
        return learning_rates, None, texts
    curvature = _largest_curvature(f, start)
    if not np.isfinite(curvature) or curvature <= 1e-12:
        raise ValueError("plot_learning_rates: f is not curved upwards at the start (largest Hessian eigenvalue "
                         f"{curvature:.3g}); pass learning_rates={{'label': η, ...}}")
    learning_rates = {"overshoots": _overshooting_rate(f, start, 2.1 / curvature, steps),
                      "crawls": 0.05 / curvature, "fits": 1.0 / curvature}
    framed = ["crawls", "fits"]  # the overshooting path runs out of the window: that is the point
    shown = {name: f"{rate:.3g}" for name, rate in learning_rates.items()}  # (computed from λ: 3 digits)
    return learning_rates, framed, shown


def _draw_paths(f: Function, axes: np.ndarray, schedules: list[tuple[str, np.ndarray]],
                box: tuple[float, float, float, float], resolution: int,
                names: tuple[str, str]) -> tuple[list[np.ndarray], list[str]]:
    """:func:`plot_learning_rates`'s contour panels, one path each, and each path's curve on the last panel;
    returns the costs along each path and their curves' colours."""
    colors = ["#ff5050", "#ffa040", "#50d0ff", "#ff60ff", "#ffffff", "#a0ff60"]
    costs: list[np.ndarray] = []
    cost_colors: list[str] = []
    for i, (ax, (label, points)) in enumerate(zip(axes[:-1], schedules, strict=True)):
        _contour(ax, f, box, 25, resolution, "plot_learning_rates", names)
        # a style of its own too: red and orange are one olive to a deuteranope (and 7 runs take 2 reds)
        color, style = colors[i % len(colors)], _RUN_STYLES[i % len(_RUN_STYLES)]
        ax.plot(points[:, 0], points[:, 1], "o" + style, color=color, markersize=3, linewidth=1.3,
                label=_legend_text(label))
        ax.plot(points[0, 0], points[0, 1], "s", color="white", markeredgecolor="black", markersize=6)
        ax.set_title(label, fontsize="small")
        costs.append(np.array([_value(f, p, "plot_learning_rates") for p in points]))
        cost_colors.append(color if color != "#ffffff" else "#333333")
        axes[-1].plot(np.arange(len(costs[-1])), costs[-1], "o" + style, markersize=2.5, color=cost_colors[-1],
                      label=_legend_text(label))
    return costs, cost_colors


def _draw_costs_per_step(cost_ax: Any, costs: list[np.ndarray], cost_colors: list[str]) -> None:
    """:func:`plot_learning_rates`'s last panel, around the cost curves :func:`_draw_paths` drew: a log axis with
    costs of 0 marked on its edge, labels, grid and legend."""
    # a rate that fits lands on the minimum: costs of 0 beside ones of 1e-300 made a symlog axis around 1e-300,
    # an empty panel and hundreds of matplotlib's overflow warnings; marked ▼ on a log axis, as plot_history does
    zeros_marked = _zeros_on_the_edge(costs)
    edges = _mark_off_the_axis(cost_ax, list(zip(cost_colors, costs, strict=True)), zeros_marked, first=0)
    _log_cost_axis(cost_ax, costs, zeros_marked)
    _room_for_edge_marks(cost_ax, costs, *edges)
    cost_ax.set_xlabel("step k")
    cost_ax.set_ylabel("cost $f(x^k)$")
    cost_ax.set_title("cost per step", fontsize="small")
    cost_ax.grid(True, which="both", alpha=0.3)
    # samples long enough for the dash-dot pattern twice: in 3 font sizes, the marker in the middle left a dash
    # and a dot at the end, which read as the dashed line
    cost_ax.legend(fontsize="x-small", handlelength=7)


def _overshooting_rate(f: Function, start: np.ndarray, rate: float, steps: int) -> float:
    """``rate``, doubled (at most 20 times) until its path ends higher than it started, or runs off: where f curves
    less steeply away from the start (notebook 4's valley), 2.1/λ with the start's λ can descend all the way, and
    the panel called "overshoots" must show what a rate too large does."""
    for _ in range(20):
        points = _descent(f, start, rate, steps, 1e-4, 0.5, "plot_learning_rates")
        costs = np.array([_value(f, p, "plot_learning_rates") for p in points])
        if len(points) <= steps or not costs[-1] <= costs[0]:  # (NaN: ran off too)
            return rate
        rate *= 2
    return rate


# --- the Armijo picture ----------------------------------------------------------------------------------
@checks.pytorch_keywords({"start": "the point is called x= here, as for optim.armijo_step: plot_armijo(f, x)"},
                         **_NO_AX)
def plot_armijo(f: Function, x: Any, *, sigma: float = 0.25, alpha: float = 0.5, initial_step: float = 1.0,
                max_backtracks: int = 50, t_max: float | None = None, path: str | Path | None = None) -> Figure:
    """The Armijo condition at ``x`` (seed, section 6.2): along d = −∇f(x), φ(t) = f(x + t·d) against the line
    f(x) + σ·t·∇f(x)ᵀd; the trial steps t = α^l (l = 0, 1, 2, …, times ``initial_step``) and the accepted one,
    the largest with φ(t) below the line.

    ``sigma`` defaults to 0.25 so that the line visibly slopes (the optimizer's default 1e-4 is almost flat);
    any σ in ]0, 1[ works.
    """
    _output_path(path, "plot_armijo")  # (checked before the drawing, which may take seconds)
    _check_constants(sigma, alpha, "plot_armijo")
    initial_step = checks.number(initial_step, "initial_step", "plot_armijo", above=0)
    max_backtracks = checks.integer(max_backtracks, "max_backtracks", "plot_armijo", least=0)
    t_max = None if t_max is None else checks.number(t_max, "t_max (the end of the step size axis)", "plot_armijo",
                                                   above=0)
    x = _point(x, "x", "plot_armijo")
    fx, grad = _value_and_grad(f, x, "plot_armijo")
    if not np.any(grad):
        raise ValueError(f"plot_armijo: ∇f(x) = 0 at x = {_vector_text(x)}; there is no descent direction to draw")
    d = -grad
    slope = float(np.dot(grad.ravel(), d.ravel()))
    if not np.isfinite([fx, slope]).all():
        raise ValueError(f"plot_armijo: f(x) = {fx:.3g} and ∇f(x)ᵀd = {slope:.3g} at x = {_vector_text(x)} must be "
                         "finite to draw the Armijo line")
    found = armijo_step(_values_of(f, "plot_armijo"), x, grad, fx=fx, sigma=sigma, alpha=alpha,
                        initial_step=initial_step, max_backtracks=max_backtracks)
    trials, accepted = found.trials, found.step is not None
    ts = _step_axis(t_max if t_max is not None else 1.15 * max(initial_step, max(tt for tt, _ in trials)), x, d,
                    slope)
    phi = np.array([_value(f, x + s * d, "plot_armijo") for s in ts])
    fig = _figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    ax.plot(ts, phi, linewidth=2, label="φ(t) = f(x + t·d)")
    line = fx + sigma * ts * slope
    ax.plot(ts, line, "--", linewidth=1.6, label=f"Armijo line f(x) + σ·t·∇f(x)ᵀd (σ = {sigma:g})")
    ax.plot(ts, fx + ts * slope, ":", color="#777777", linewidth=1.2, label="tangent f(x) + t·∇f(x)ᵀd")
    holds = phi <= line
    shaded = bool(holds[1:].any())  # φ(0) = f(x) is on the line
    if shaded:
        ax.fill_between(ts, np.minimum(phi, line), line, where=holds, color="#70c070", alpha=0.25,
                        label="condition holds")
    drawn = [(t, value) if t <= ts[-1] else None for t, value in trials]  # (none past a small t_max)
    low, top = _armijo_frame(fx, phi, line, holds, shaded, drawn)
    _draw_trials(ax, drawn, accepted, top, initial_step)
    ax.set_ylim(low - 0.1 * (top - low), top)
    ax.set_xlabel("step size t")
    ax.set_ylabel("cost")
    ax.set_title(_armijo_title(x, found, drawn[-1] is None), fontsize="medium", pad=12)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    texts = list(ax.texts)  # the trials' labels, the accepted step's last: it is the one kept first
    _hide_crowded_labels(fig, texts[-1:] + texts[:-1] if accepted else texts)
    return _finish(fig, path, "plot_armijo")


def _armijo_frame(fx: float, phi: np.ndarray, line: np.ndarray, holds: np.ndarray, shaded: bool,
                  drawn: list[tuple[float, float] | None]) -> tuple[float, float]:
    """The bottom and top of plot_armijo's frame: it holds φ and the shading (the whole line if the condition never
    holds; the line may leave it) and the trials drawn, up to f(x) + 1.5·(f(x) − bottom): trials above that are
    drawn on the top edge."""
    last = int(np.flatnonzero(holds)[-1]) if shaded else len(line) - 1
    low = min(float(np.min(phi, initial=np.inf, where=np.isfinite(phi))), float(line[last]))  # φ may be NaN
    highest = max([float(np.max(phi, initial=fx, where=np.isfinite(phi)))]
                  + [value for _, value in filter(None, drawn)])
    return low, min(fx + 1.5 * (fx - low), highest + 0.1 * (highest - low)) + 1e-12


def _armijo_title(x: np.ndarray, found: ArmijoStep, beyond_axis: bool) -> str:
    """How many backtracks the search took, and where it ended if that is past a small ``t_max``."""
    backtracks = f"{len(found.trials) - 1} backtrack{'s' * (len(found.trials) != 2)}"
    if found.step is None:
        return f"Armijo step size at x = {_vector_text(x)}: no step accepted after {backtracks}"
    beyond = f" to t = {found.step:.4g}, beyond this axis" if beyond_axis else ""
    return f"Armijo step size at x = {_vector_text(x)}: {backtracks}{beyond}"


def _hide_crowded_labels(fig: Figure, texts: list[Any]) -> None:
    """Hide each label that would cover one kept before it (``texts`` in order of importance): after many
    backtracks the steps αˡ near t = 0 wrote their labels over each other.  Their markers stay; the legend says
    what a red × is."""
    fig.draw_without_rendering()  # (the layout, so that the boxes are where the figure will draw them)
    kept: list[Any] = []
    for text in texts:
        box = text.get_window_extent()
        if any(box.overlaps(other) for other in kept):
            text.set_visible(False)
        else:
            kept.append(box)


def _step_axis(end: float, x: np.ndarray, d: np.ndarray, slope: float) -> np.ndarray:
    """300 step sizes t from 0 to ``end``, where x + t·d and t·∇f(x)ᵀd must not overflow float64."""
    with np.errstate(over="ignore"):
        drawable = np.isfinite(end) and np.isfinite(x + end * d).all() and np.isfinite(end * slope)
    if not drawable:
        raise ValueError(f"plot_armijo: the step size axis reaches t = {end:.3g}, where x + t·d or t·∇f(x)ᵀd "
                         "overflows; give a smaller t_max or initial_step")
    return np.linspace(0.0, end, 300)


def _draw_trials(ax: Axes, trials: list[tuple[float, float] | None], accepted: bool, top: float,
                 initial_step: float) -> None:
    """The trial steps (t, φ(t)): rejected ones as red ×, or as red ▲ on the top edge (with their φ) when φ is
    above the frame or NaN (f not defined there); the accepted one as a green dot.  Each kind of marker drawn gets
    one legend entry.  The labels on the top edge go one line lower each, so that those of the ever closer steps αˡ
    do not overlap.  A trial None is past the end of the step size axis (a small ``t_max``): not drawn, it would
    stretch the axis."""
    labelled: set[str] = set()
    lines_down = 0
    for level, trial in enumerate(trials):
        if trial is None:
            continue
        t, value = trial
        name = f"$\\alpha^{{{level}}}$" if initial_step == 1.0 else f"$t_{{{level}}}$"
        if accepted and level == len(trials) - 1:
            ax.plot([t], [value], "o", color="#2e9e2e", markersize=9,
                    label=f"accepted step $t = \\alpha^{{{level}}}$ = {t:.4g}" if initial_step == 1.0 else
                    f"accepted step t = {t:.4g}")
            ax.annotate(name, (t, value), textcoords="offset points", xytext=(4, 6), fontsize="small")
            continue
        above = not value <= top  # (NaN too, where f is not defined: drawn at (t, NaN) it was no marker at all)
        steps = "$\\alpha^l$" if initial_step == 1.0 else f"$t_l$ = {initial_step:.4g}·$\\alpha^l$"
        edge = ", φ NaN (f not defined there)" if math.isnan(value) else ", φ above the frame"
        label = f"rejected trial steps {steps}" + (edge if above else "")
        ax.plot([t], [top if above else value], "^" if above else "x", color="#c00000", markersize=9,
                markeredgewidth=2, label=None if label in labelled else label, clip_on=False)
        labelled.add(label)
        lines_down += above
        ax.annotate(name + (f"  (φ = {value:.3g})" if above else ""), (t, top if above else value),
                    textcoords="offset points", xytext=(4, -12 * lines_down if above else 6), fontsize="small")


# --- second derivatives (seed 6.1) ---------------------------------------------------------------------------
_PRIMES = ["", "′", "″", "‴"]


def _derivative_name(k: int) -> str:
    return f"f{_PRIMES[k]}" if k < len(_PRIMES) else f"f⁽{k}⁾".translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


def _derivatives_on_grid(f: Function, grid: np.ndarray, order: int) -> list[np.ndarray]:
    """f, f′, …, f⁽ᵒʳᵈᵉʳ⁾ at the points of ``grid``, each derivative by the engine: ``grad`` of the sum of the
    one before (f acts element by element, so ∂(Σ f(x_i))/∂x_i = f′(x_i))."""
    from tinygrad_edu.autodiff import grad

    with no_grad():
        values = f(Value(grid, requires_grad=False))
    if not isinstance(values, Value):  # (numbers computed on x.data: the engine cannot differentiate them)
        raise TypeError(f"plot_derivatives: f must return a Value computed from its input by the engine's "
                        f"operations, got {type(values).__name__} {getattr(values, 'shape', '')}")
    if values.shape != grid.shape:
        raise ValueError("plot_derivatives: f must act element by element (return a Value shaped like its input), "
                         f"got shape {values.shape} for {grid.shape}")
    curves, current = [np.array(values.data, dtype=np.float64)], f
    undefined = ~np.isfinite(curves[0])  # log x at x ≤ 0: its rule 1/x still gives numbers there, f′ does not exist
    for _ in range(order):
        current = grad(lambda x, before=current: before(x).sum())
        curves.append(np.where(undefined, np.nan, np.array(current(grid).data, dtype=np.float64)))
    return curves


@checks.pytorch_keywords(**_NO_AX)
def plot_derivatives(f: Function, order: int = 3, *, x_range: tuple[float, float] = (-3.0, 3.0), points: int = 401,
                     title: str | None = None, path: str | Path | None = None) -> Figure:
    """f and its first ``order`` derivatives on ``x_range``, each computed by the engine (``grad`` of ``grad`` …,
    not by a formula), in one panel per curve sharing the x axis.  Where f′ changes sign (f′ = 0), the point is
    marked on f as the school method of seed 6.1 judges it: a minimum where f″ > 0, a maximum where f″ < 0; where
    f″ = 0 (x⁴ at 0) the second derivative gives no verdict (◆), and the label says what f′'s change of sign shows.

    ``f`` acts element by element on a Value, e.g. ``tinygrad_edu.functional.tanh`` or ``lambda x: x ** 3``.  A
    network of one input and one output takes its samples as rows: its fitted curve, with its slopes, is
    ``plot_derivatives(lambda x: net(x.reshape(-1, 1)).reshape(x.shape))``.
    """
    _output_path(path, "plot_derivatives")  # (checked before the drawing, which may take seconds)
    _check_function(f, "plot_derivatives")
    if isinstance(f, (Layer, Network)):  # (a layer takes rows (n, in_size), never a flat grid of x's)
        raise TypeError(f"plot_derivatives: f must act element by element on a Value of x's, but it is a network "
                        f"({type(f).__name__}), which takes one sample per row; for one input and one output plot "
                        "its fitted curve with lambda x: net(x.reshape(-1, 1)).reshape(x.shape)")
    order = checks.integer(order, "order", "plot_derivatives", least=1, most=6)
    title = _check_title(title, "plot_derivatives")
    low, high = _x_range(x_range, "plot_derivatives")
    grid = np.linspace(low, high, checks.integer(points, "points", "plot_derivatives", least=2, most=_MOST_POINTS))
    with np.errstate(all="ignore"):  # where f or a derivative is NaN or inf the curve has a gap
        curves = _derivatives_on_grid(f, grid, max(order, 2))  # (f″ for the marks also where it is not drawn)
    for k, curve in enumerate(curves[:order + 1]):
        _check_span(curve, f"{_derivative_name(k)}(x)", "plot_derivatives")
    fig = _figure(figsize=(7, 1.9 * (order + 1) + 0.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(order + 1, 1, sharex=True))
    for k, (ax, curve) in enumerate(zip(axes, curves[:order + 1], strict=True)):
        ax.plot(grid, curve, linewidth=2, color=f"C{k}", label=f"{_derivative_name(k)}(x)")
        ax.axhline(0, color="#999999", linewidth=0.6)
        ax.grid(True, alpha=0.3)
        ax.set_ylabel(_derivative_name(k))
    _mark_extrema(axes[0], grid, curves, f)
    for ax in axes:
        ax.legend(fontsize="small", loc="best")
    axes[-1].set_xlabel("x")
    axes[-1].set_xlim(low, high)  # the whole x_range, also where f is undefined (a gap, not a shorter axis)
    derivatives = "its derivative" if order == 1 else f"its first {order} derivatives"
    _set_title(axes[0], f"f and {derivatives}, each by the engine's backward pass" if title is None else title,
               fontsize="medium")
    return _finish(fig, path, "plot_derivatives")


#: How each kind of stationary point is marked, on f (plot_derivatives) and on a contour (plot_stationary_points).
_KIND_STYLE = {"minimum": ("o", "#2e9e2e"), "maximum": ("^", "#c00000"), "saddle": ("X", "#ff9f1c"),
               "inconclusive": ("D", "#bbbbbb")}


def _second_derivative_test(f: Function, grid: np.ndarray, curves: list[np.ndarray], a: int, b: int,
                            j: int) -> tuple[float, float, float]:
    """The sign of f″ where f′ = 0 between ``grid[a]`` and ``grid[b]`` (j: the grid point between them with the
    smallest |f′|), and that point (x, f(x)).  f″(grid[j]) is that only where f′(grid[j]) = 0; elsewhere it is f″
    beside the point (x⁴ has f″ > 0 at every x ≠ 0), so Newton's method for f′ = 0 from grid[j] finds the point
    and the test of :func:`tinygrad_edu.calculus.stationary_point` judges it there.  If Newton ends outside the
    bracket or does not converge (f″ = 0 beside a kink, |x|), the sign of f″(grid[j]) stands, at grid[j]."""
    curvature, beside = float(np.sign(curves[2][j])), (float(grid[j]), float(curves[0][j]))
    if curves[1][j] == 0:
        return curvature, *beside
    try:
        found = stationary_point(f, float(grid[j]))
    except (ArithmeticError, TypeError, ValueError):
        return curvature, *beside
    if not (found.converged and grid[a] <= found.point[0] <= grid[b] and np.isfinite(found.value)):
        return curvature, *beside
    verdict = {"minimum": 1.0, "maximum": -1.0, "inconclusive": 0.0}.get(found.kind, curvature)
    return verdict, float(found.point[0]), float(found.value)  # (a grid point of x³ − 3x was −1.005, not −1)


def _mark_extrema(ax: Axes, grid: np.ndarray, curves: list[np.ndarray], f: Function) -> None:
    """Mark where f′ changes sign: a minimum (f″ > 0), a maximum (f″ < 0) or, where f″ = 0, no verdict by f″
    (f″ at the point where f′ = 0, see :func:`_second_derivative_test`)."""
    slope, curvature = curves[1], curves[2]
    shown: set[str] = set()
    # f′ = 0 on a grid point: look at its neighbours' signs; outside f's domain f′ is NaN, no sign to change
    signed = np.flatnonzero(np.isfinite(slope) & (slope != 0))
    for a, b in zip(signed[:-1], signed[1:]):
        if np.sign(slope[a]) == np.sign(slope[b]):
            continue
        j = a + int(np.argmin(np.abs(slope[a:b + 1])))
        turn = "minimum" if slope[a] < 0 else "maximum"
        bend = 1.0 if turn == "minimum" else -1.0  # f″'s sign where f′ rises (falls) through 0, if it is not 0
        if not np.isfinite(curves[0][a:b + 1]).all() or np.sign(curvature[j]) not in (0.0, bend):
            continue  # f′ jumps across 0 at a pole or a gap (x⁻², ln|x| at 0): no f′ = 0 there, nothing to mark
        verdict, x, y = _second_derivative_test(f, grid, curves, a, b, j)
        if verdict > 0:
            style, kind = "minimum", "minimum (f′ = 0, f″ > 0)"
        elif verdict < 0:
            style, kind = "maximum", "maximum (f′ = 0, f″ < 0)"
        else:  # f″ = 0 (x⁴ at 0, |x| beside its kink): the f″ test cannot tell; how f′ changes sign can
            style, kind = "inconclusive", f"f″ = 0, no verdict; f′ changes sign: a {turn}"
        marker, color = _KIND_STYLE[style]
        ax.plot(x, y, marker, color=color, markersize=9, label=None if kind in shown else kind, zorder=3)
        shown.add(kind)


def _found_path(path: Any) -> np.ndarray:
    """A stationary_point result's path as points (k, 2), else an error naming it (not numpy's "axis 1 is out of
    bounds", "need at least one array to concatenate" or "inhomogeneous shape")."""
    must = "plot_stationary_points: each found point's path must be points of shape (k, 2), k ≥ 1"
    try:
        points = _reals(path)
    except (TypeError, ValueError) as error:  # ragged rows, or not numbers (complex ones too)
        raise ValueError(f"{must} ({error})") from None
    if points.ndim != 2 or points.shape[1:] != (2,) or not len(points):
        raise ValueError(f"{must}, got shape {points.shape}")
    return points


@checks.pytorch_keywords(**_NO_AX)
def plot_stationary_points(f: Function, found: Sequence[Any], *, bounds: Sequence[float] | None = None,
                           levels: int = 30, resolution: int = 60, title: str | None = None,
                           path: str | Path | None = None,
                           parameter_names: Sequence[str] = _PARAMETER_NAMES) -> Figure:
    """Contour lines of a two-parameter cost ``f``, the paths Newton's method took to ∇f = 0 and the points it
    found, each marked by the second-derivative test: minimum, maximum, saddle or inconclusive (seed 6.1).

    ``found`` holds results of :func:`tinygrad_edu.calculus.stationary_point` (anything with ``point``,
    ``kind`` and ``path``); runs that did not converge are drawn as paths only.  ``parameter_names`` names the
    axes, p[0] along x (``("w", "b")``).
    """
    _output_path(path, "plot_stationary_points")  # (checked before the drawing, which may take seconds)
    _check_function(f, "plot_stationary_points")
    title = _check_title(title, "plot_stationary_points")
    try:
        found = list(found)
    except TypeError:
        raise TypeError("plot_stationary_points: found must be a list of stationary_point results, got "
                        f"{type(found).__name__} {found!r:.60}") from None
    if not found:
        raise ValueError("plot_stationary_points: found holds no points; give results of stationary_point")
    for result in found:
        if not all(hasattr(result, name) for name in ("point", "kind", "path")) or np.shape(result.point) != (2,):
            raise ValueError("plot_stationary_points: each found point must be a stationary_point result of a "
                             f"two-parameter f, got {result!r:.80}")
    paths = [_found_path(result.path) for result in found]
    fig = _figure(figsize=(6.6, 5.2), layout="constrained")
    ax = fig.subplots()
    box = _bounds(paths, bounds, "plot_stationary_points")
    filled = _contour(ax, f, box, levels, resolution, "plot_stationary_points",
                      _parameter_names(parameter_names, "plot_stationary_points"))
    _colour_bar(fig, ax, filled)
    for i, points in enumerate(paths):
        ax.plot(points[:, 0], points[:, 1], ".-", color="white", linewidth=0.9, markersize=3, alpha=0.8,
                label="Newton's steps from a start" if i == 0 else None)
    shown: set[str] = set()
    for result in found:
        if result.kind not in _KIND_STYLE:
            continue
        marker, color = _KIND_STYLE[result.kind]
        ax.plot(*result.point, marker, color=color, markeredgecolor="black", markersize=12, zorder=4,
                label=None if result.kind in shown else result.kind)
        shown.add(result.kind)
    _set_title(ax, "∇f = 0 by Newton's method, judged by the Hessian's eigenvalues" if title is None else title,
               fontsize="medium")
    handles, labels = ax.get_legend_handles_labels()  # under the picture: inside, it hid starts and paths
    legend = fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 3), fontsize="small")
    _outline(legend.legend_handles[0])  # the white paths' entry, on the legend's white background
    return _finish(fig, path, "plot_stationary_points")


def _outline(handle: Any) -> None:
    """A dark edge around a white legend entry, which alone is invisible on white."""
    from matplotlib import patheffects

    handle.set_path_effects([patheffects.withStroke(linewidth=3, foreground="#555555")])


def __dir__() -> list[str]:  # dir(plots) and tab completion list the plots, not numpy
    return sorted(__all__)
