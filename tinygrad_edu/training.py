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

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tinygrad_edu.data import batches
from tinygrad_edu.engine import Value, no_grad
from tinygrad_edu.losses import squared_error
from tinygrad_edu.optim import gradient_norm

__all__ = ["History", "fit"]


@dataclass
class History:
    """What happened during training, one entry per episode (ready for a cost plot).

    - ``cost``: the cost at the start of the episode, on all training samples (full batch), or the average of
      the batch costs during the episode (mini-batches);
    - ``gradient_norm``: ``‖∇C‖`` at that point (mini-batches: the average over the episode's batches);
    - ``step_size``: Armijo's accepted step, the learning rate for the other gradient methods, None for random
      search and for an episode that only found ``‖∇C‖ ≤ tol``;
    - ``seconds``: the time since training started, at the end of the episode.

    ``final_cost`` is the cost on all training samples after the last update; ``stopped`` says why training
    ended: ``"episodes"``, ``"tol"``, ``"interrupted"`` or ``"no descent step"`` (full batch: Armijo found no
    step size that decreases the cost enough, so every further episode would fail the same way); ``label`` names
    the run in plot legends.
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

    def __repr__(self) -> str:
        final = "None" if self.final_cost is None else f"{self.final_cost:.4g}"
        return (f"History(label={self.label!r}, episodes={self.episodes}, final_cost={final}, "
                f"stopped={self.stopped!r})")


def _as_array(data: Any, name: str) -> np.ndarray:
    array = data.data if isinstance(data, Value) else np.asarray(data)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"fit: {name} must be numbers, one entry per sample, got {type(data).__name__} "
                        f"(dtype {array.dtype})")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError(f"fit: the {name} hold NaN or inf")
    if array.ndim == 0:
        raise ValueError(f"fit: {name} must hold one entry per sample, got a single number")
    return array


def _progress_bar(enabled: bool, episodes: int, label: str) -> Any:
    """A tqdm bar when asked for, on a terminal or in Jupyter, with tqdm installed; else None."""
    if not enabled or not (getattr(sys.stderr, "isatty", lambda: False)() or "ipykernel" in sys.modules):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=episodes, desc=label, unit="episode", leave=True)


def fit(model: Callable[[Any], Value], inputs: Any, targets: Any, *,
        cost: Callable[[Value, Any], Value] = squared_error, optimizer: Any, episodes: int,
        batch_size: int | None = None, shuffle: bool = True, seed: int | None = None, tol: float | None = None,
        progress: bool = True) -> History:
    """Train ``model`` on ``inputs`` → ``targets`` for up to ``episodes`` episodes; returns a :class:`History`.

    Full batch (``batch_size=None``, the seed's 7.1): each episode computes the cost averaged over all samples,
    its gradient (the average of the samples' gradients) by one backward pass, and makes one update
    ``optimizer.step(closure, cost=...)``.  With ``batch_size``, each episode walks through the samples in
    mini-batches (shuffled reproducibly from ``seed`` when ``shuffle``), one update per batch.

    ``inputs`` has one row per sample, ``(n, in_size)``; ``targets`` whatever ``cost`` takes (``(n, out_size)``
    for the squared error, class indices ``(n,)`` for cross entropy).  Training stops early when
    ``‖∇C‖ ≤ tol`` (the algorithm's step 1.2; checked before the update), and cleanly on Ctrl-C, keeping the
    model and the history so far.  A NaN or infinite cost raises ``FloatingPointError`` naming the episode.
    """
    if not callable(model):
        raise TypeError(f"fit: model must be a network (a callable Module), got {type(model).__name__}")
    if isinstance(optimizer, type):
        raise TypeError(f"fit: optimizer must be an optimizer object, not the class; construct it first, "
                        f"e.g. optimizer={optimizer.__name__}(model, ...)")
    if not hasattr(optimizer, "step") or not hasattr(optimizer, "zero_grad"):
        raise TypeError(f"fit: optimizer must have step() and zero_grad(), got {type(optimizer).__name__}")
    if isinstance(episodes, bool) or not isinstance(episodes, (int, np.integer)) or episodes < 1:
        raise ValueError(f"fit: episodes must be an int >= 1, got {episodes!r}")
    inputs, targets = _as_array(inputs, "inputs"), _as_array(targets, "targets")
    n = len(inputs)
    if len(targets) != n:
        raise ValueError(f"fit: inputs hold {n} samples (shape {inputs.shape}) but targets hold {len(targets)} "
                         f"(shape {targets.shape})")
    if n == 0:
        raise ValueError("fit: there are no samples to train on")
    if inputs.dtype not in (np.float32, np.float64):
        inputs = inputs.astype(np.float64)
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
                                   or batch_size < 1):
        raise ValueError(f"fit: batch_size must be None (full batch) or an int >= 1, got {batch_size!r}")
    if tol is not None and (isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol >= 0):
        raise ValueError(f"fit: tol must be None or a number >= 0, got {tol!r}")
    params = getattr(optimizer, "params", None) or model.parameters()
    if hasattr(model, "parameters"):
        owned = {id(p) for p in model.parameters()}
        if owned and not any(id(p) in owned for p in params):
            raise ValueError("fit: none of the optimizer's parameters belong to the model; build the optimizer "
                             "from this model's parameters, e.g. GradientDescent(model, 0.1)")
    cost_name = getattr(cost, "__name__", type(cost).__name__)
    history = History(label=type(optimizer).__name__)
    rng = np.random.default_rng(seed) if shuffle and batch_size is not None else None
    x_all = Value(inputs, requires_grad=False)

    def evaluate(x: Any, y: Any) -> Callable[[], Value]:
        return lambda: cost(model(x), y)

    def gradient(closure: Callable[[], Value], episode: int) -> tuple[Value, float]:
        """Forward and backward at the current parameters; the cost is checked for NaN/inf."""
        optimizer.zero_grad()
        value = closure()
        if not isinstance(value, Value):
            raise TypeError(f"fit: the cost {cost_name} must return a Value (so that it can backpropagate), "
                            f"got {type(value).__name__}")
        if value.size != 1:
            raise ValueError(f"fit: the cost {cost_name} must return one number, got a Value of shape {value.shape}")
        number = float(value)
        if not math.isfinite(number):
            error = FloatingPointError(f"fit: the cost became {number} in episode {episode} of {episodes}; "
                                       "training diverged: try a smaller learning rate (or step size)")
            error.history = history  # type: ignore[attr-defined]
            raise error
        value.backward()
        return value, number

    bar = _progress_bar(progress, int(episodes), history.label)
    full_batch = evaluate(x_all, targets)
    start, last_shown = time.perf_counter(), 0.0
    history.stopped = "episodes"
    try:
        for episode in range(1, int(episodes) + 1):
            step_size: float | None
            if batch_size is None:
                value, number = gradient(full_batch, episode)
                norm = gradient_norm(params)
                if tol is not None and norm <= tol:
                    history.stopped, step_size = "tol", None
                else:
                    optimizer.step(full_batch, cost=value)
                    step_size = getattr(optimizer, "last_step_size", None)
                    if getattr(optimizer, "last_failed", False):
                        history.stopped = "no descent step"
            else:
                total = norms = 0.0
                for batch_inputs, batch_targets in batches(inputs, targets, int(batch_size), shuffle, rng):
                    closure = evaluate(batch_inputs, batch_targets)
                    value, batch_cost = gradient(closure, episode)
                    total += batch_cost * len(batch_inputs)
                    norms += gradient_norm(params) * len(batch_inputs)
                    optimizer.step(closure, cost=value)
                number, norm = total / n, norms / n
                step_size = getattr(optimizer, "last_step_size", None)
            history.cost.append(number)
            history.gradient_norm.append(norm)
            history.step_size.append(step_size)
            history.seconds.append(time.perf_counter() - start)
            if bar is not None:
                bar.update(1)
                if history.seconds[-1] - last_shown > 0.2:
                    bar.set_postfix(cost=f"{number:.3g}", refresh=False)
                    last_shown = history.seconds[-1]
            if batch_size is not None and tol is not None and norm <= tol:
                history.stopped = "tol"
            if history.stopped != "episodes":
                break
    except KeyboardInterrupt:
        history.stopped = "interrupted"
    finally:
        if bar is not None:
            bar.close()
    with no_grad():
        history.final_cost = float(full_batch())
    return history
