"""The school method of seed section 6.1: set the derivative to 0, then ask the second derivative what was found.

:func:`stationary_point` solves ∇f(x) = 0 by Newton's method, ``x ← x − H(x)⁻¹∇f(x)``, with the gradient and the
Hessian H from the engine (:mod:`tinygrad_edu.autodiff`).  :func:`classify_stationary_point` is the
second-derivative test in n dimensions: the eigenvalues of H say **minimum** (all > 0), **maximum** (all < 0),
**saddle** (some > 0, some < 0) or **inconclusive** (some ≈ 0 and no two signs: x⁴ and x³ both look flat at 0).

Newton's method for ∇f = 0 does not care which kind of point it finds, so where it lands depends on the start;
and each step needs the n × n Hessian, n backward passes and a solve of n equations: that is the cost the seed
means when it says the method "can be very costly for multidimensional functions" (millions of parameters), and
why networks are trained by gradient descent instead (section 6.2).

    >>> from tinygrad_edu.calculus import stationary_point
    >>> f = lambda p: p[0] ** 3 - 3 * p[0] + p[1] ** 2           # a minimum at (1, 0), a saddle at (−1, 0)
    >>> found = stationary_point(f, [0.8, 0.3])
    >>> found.kind, found.point.round(6).tolist()
    ('minimum', [1.0, 0.0])
    >>> stationary_point(f, [-2.0, 1.0]).kind
    'saddle'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygrad_edu import checks
from tinygrad_edu.autodiff import hessian, value_and_grad
from tinygrad_edu.engine import Value
from tinygrad_edu.notation import array_line

__all__ = ["StationaryPoint", "stationary_point", "classify_stationary_point", "KINDS"]

#: What the second-derivative test can say, and what it says when Newton's method did not converge.
KINDS = ("minimum", "maximum", "saddle", "inconclusive", "not converged")

#: Newton's method has converged when ‖∇f‖ ≤ tol and the next step is at most this (or a few roundings of x).
_STEP_TOL = 1e-3

#: stationary_point's default zero_tol is this many times n·ε: an eigenvalue within 100·n·ε·max|λ| of 0 is the
#: rounding of the Hessian's entries and of eigvalsh (which Newton's step takes for singular at n·ε), with room to
#: spare: a valley of minima, (x − y)² or (xy − 1)², has a computed 0 of up to 0.5ε·max|λ|.
_ROUNDINGS = 100


@dataclass(frozen=True)
class StationaryPoint:
    """Where Newton's method for ∇f = 0 ended, and what the Hessian says about that point."""

    point: np.ndarray  #: the x found: a vector of the n parameters, shape (1,) for a single-number start
    value: float  #: f(x)
    gradient_norm: float  #: ‖∇f(x)‖, ≤ tol when converged
    eigenvalues: np.ndarray  #: of the Hessian at x, ascending (NaN when the Hessian is not finite)
    kind: str  #: one of :data:`KINDS`
    converged: bool
    iterations: int
    path: np.ndarray  #: every point visited, the start first, shape (iterations + 1, n)

    def __eq__(self, other: object) -> bool:
        """Field by field, the arrays element by element, NaN where NaN is (the dataclass's own == asked numpy for
        the truth of an array, and raised for a copy or an unpickled StationaryPoint)."""
        if not isinstance(other, StationaryPoint):
            return NotImplemented
        return all(_same(getattr(self, name), getattr(other, name)) for name in self.__dataclass_fields__)

    def __repr__(self) -> str:
        """The verdict first; the path only by its length (it can run to dozens of points).  The numbers print on one
        line alike whatever np.set_printoptions says (suppress=True wrote a point's -1.2e-05 as -0.0000)."""
        def numbers(array: np.ndarray) -> str:
            return array_line(np.asarray(array), precision=4)

        return (f"StationaryPoint(kind={self.kind!r}, point={numbers(self.point)}, value={self.value:.6g}, "
                f"eigenvalues={numbers(self.eigenvalues)}, gradient_norm={self.gradient_norm:.3g}, "
                f"converged={self.converged}, iterations={self.iterations}, path=<{len(self.path)} points>)")


def _same(mine: Any, theirs: Any) -> bool:
    """Two fields of StationaryPoints equal: of the same shape and numbers, NaN equal to NaN."""
    mine, theirs = np.asarray(mine), np.asarray(theirs)
    return np.array_equal(mine, theirs, equal_nan=mine.dtype.kind in "fc" and theirs.dtype.kind in "fc")


def _relative_tolerance(value: Any, name: str, where: str) -> float:
    """A tolerance relative to the largest |eigenvalue|: in [0, 1), since at 1 every eigenvalue would count as 0."""
    tol = checks.number(value, name, where, least=0)
    if tol >= 1:
        raise ValueError(f"{where}: {name} is relative to the largest |eigenvalue| and must be < 1 (at 1 or more "
                         f"every eigenvalue counts as 0), got {value!r}")
    return tol


def _eigenvalues(value: Any, name: str) -> np.ndarray:
    """A number or a vector of finite eigenvalues, as float64; a matrix (a Hessian, not its eigenvalues) is an
    error, not read as the eigenvalues of its entries; so is the function f itself."""
    if callable(value):
        raise TypeError(f"classify_stationary_point: {name} must be numbers, the Hessian's eigenvalues, not the "
                        f"function {getattr(value, '__name__', type(value).__name__)}; for f and a point x: "
                        "stationary_point(f, x).kind, Newton's method from x and then this test")
    values = checks.real_array(value, name, "classify_stationary_point", bools=False).astype(np.float64)
    if values.ndim > 1:
        raise ValueError(f"classify_stationary_point: {name} must be a vector, got an array of shape "
                         f"{values.shape}; for a Hessian H, give its eigenvalues, np.linalg.eigvalsh(H)")
    values = values.ravel()
    if values.size == 0 or not np.isfinite(values).all():
        raise ValueError(f"classify_stationary_point: needs finite {name}, got {values}")
    return values


@checks.pytorch_keywords({"zero_tol": "it is called tol= here (stationary_point's zero_tol=; its tol= is the "
                                       "gradient's)"})
def classify_stationary_point(eigenvalues: Any, tol: float = 1e-6, *, previous: Any = None) -> str:
    """The second-derivative test from the Hessian's eigenvalues.

    An eigenvalue counts as 0 when ``|λ| ≤ tol · max |λ|`` (so ``0 ≤ tol < 1``), or, given ``previous`` (the
    eigenvalues one Newton step earlier), when it changed by more than half its size in that step.
    At an ordinary stationary point Newton converges quadratically and the eigenvalues settle; near a degenerate
    one it creeps in linearly and the eigenvalue that is really 0 keeps shrinking with the steps (halving for x³),
    at any scale.  Both lists may come in any order (``np.linalg.eig`` does not sort): they are sorted, and the k-th
    smallest compared with the k-th smallest (so an eigenvalue that passed another in that step is compared with the
    wrong one; :func:`stationary_point` compares them along their eigenvectors instead).  The default ``tol`` is for
    eigenvalues of a point known to a few digits (1e-9 beside 1e3 counts as 0); :func:`stationary_point`, whose point is
    Newton's to the last digits, counts only rounding as 0 (100·n·ε), so a minimum of eigenvalues 2 and 2e6 is a minimum
    there, not here.

    >>> classify_stationary_point([2.0, 0.5]), classify_stationary_point([-1.0, 3.0])
    ('minimum', 'saddle')
    >>> classify_stationary_point([0.0, 1.0])                      # f = x⁴ + y² at 0: a minimum, f = x³ + y²: not
    'inconclusive'
    >>> classify_stationary_point([3e-5, 2.0], previous=[6e-5, 2.0])  # x³ + y² near 0: 6x still halving
    'inconclusive'
    """
    values = np.sort(_eigenvalues(eigenvalues, "eigenvalues"))
    tol = _relative_tolerance(tol, "tol", "classify_stationary_point")
    flat = np.abs(values) <= tol * np.abs(values).max()
    if previous is not None:
        before = np.sort(_eigenvalues(previous, "previous eigenvalues"))
        if before.shape != values.shape:
            raise ValueError(f"classify_stationary_point: previous holds {before.size} eigenvalues, "
                             f"eigenvalues {values.size}")
        flat |= np.abs(values - before) > np.abs(values) / 2
    positive, negative = bool((values[~flat] > 0).any()), bool((values[~flat] < 0).any())
    if positive and negative:
        return "saddle"
    if flat.any():
        return "inconclusive"
    return "minimum" if positive else "maximum"


def _evaluate(f: Callable[[Value], Value], x: np.ndarray,
              shape: tuple[int, ...]) -> tuple[float, np.ndarray, np.ndarray]:
    """f(x), ∇f(x) and the Hessian at the flat x, all from the engine, as float64 arrays.  NaN and inf are the
    caller's to check, so numpy's warnings about them are silenced."""
    with np.errstate(all="ignore"):
        try:
            value, slope = value_and_grad(f)(x.reshape(shape))
        except (TypeError, ValueError) as error:
            raise _as_ours(error) from None
        matrix = hessian(f)(x.reshape(shape)).data.reshape(x.size, x.size)
        matrix = matrix + (matrix.T - matrix) / 2  # (H + Hᵀ)/2, without H + Hᵀ overflowing (entries of 1e308)
    return float(value.item()), np.array(slope.data, dtype=np.float64).ravel(), matrix


def _as_ours(error: Exception) -> Exception:
    """value_and_grad's complaint about f (not a single number, not a Value) as stationary_point's own; any
    other error (raised by f itself) as it is."""
    caller, _, problem = str(error).partition(": ")
    return type(error)(f"stationary_point: {problem}") if caller == "value_and_grad" else error


def _newton_step(matrix: np.ndarray, slope: np.ndarray, x: np.ndarray) -> np.ndarray:
    """H⁻¹∇f, the least-squares step for a singular H, NaN for a Hessian or gradient that is not finite.  Singular
    includes singular but for rounding (a singular value within n·ε of the largest, as for a least-squares cost of
    two proportional input columns), where ``np.linalg.solve`` raises nothing and divides by the rounding: a step
    of 1e15 along the flat direction, from a point x of size 1.  A step that many times longer than the shortest
    one and than x is taken for that; an eigenvalue that is small but real (eˣ far out) keeps solve's step."""
    if not (np.isfinite(matrix).all() and np.isfinite(slope).all()):
        return np.full(slope.shape, np.nan)
    try:
        step = np.linalg.solve(matrix, slope)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(matrix, slope, rcond=None)[0]
    cutoff = len(slope) * float(np.finfo(np.float64).eps)
    singular_values = np.linalg.svd(matrix, compute_uv=False)
    if singular_values[-1] <= cutoff * singular_values[0]:
        shortest = np.linalg.lstsq(matrix, slope, rcond=cutoff)[0]
        if _norm(step) > 1e8 * max(_norm(shortest), _norm(x)):
            return shortest
    return step


def _check_arguments(f: Any, start: Any, tol: Any, max_iterations: Any, zero_tol: Any) -> np.ndarray:
    """stationary_point's argument checks; returns the start as a float64 array."""
    if not callable(f):
        raise TypeError(f"stationary_point: f must be a function of a Value, got {type(f).__name__}")
    checks.one_argument(f, "stationary_point", "start", "wrap it: lambda p: f(p[0], p[1]) with start [w, b] "
                        "for an f(w, b), functools.partial(f, c=...) for a parameter c that stays fixed")
    x = checks.real_array(start, "start", "stationary_point", bools=False).astype(np.float64)
    if x.ndim > 1:  # (a weight matrix: Newton's method works on the parameters as one vector)
        raise ValueError(f"stationary_point: start must be a number or a vector, got an array of shape {x.shape}; "
                         f"give it flattened, np.ravel(start), and reshape it inside f: "
                         f"stationary_point(lambda p: f(p.reshape{x.shape}), np.ravel(start)) (the point found is "
                         f"flat too: found.point.reshape{x.shape})")
    if x.size == 0 or not np.isfinite(x).all():
        raise ValueError(f"stationary_point: start must be a finite number or vector, got {start!r}")
    checks.integer(max_iterations, "max_iterations", "stationary_point", least=0)
    checks.number(tol, "tol", "stationary_point", least=0)
    if zero_tol is not None:
        _relative_tolerance(zero_tol, "zero_tol", "stationary_point")
    return x


def _norm(vector: np.ndarray) -> float:
    """‖vector‖ without overflow on the way: np.linalg.norm squares first, and ‖(1e300, 1e300)‖ came out inf (with
    numpy's warning).  NaN for a vector holding NaN, inf for one holding inf."""
    largest = float(np.abs(vector).max(initial=0.0))
    if largest == 0 or not np.isfinite(largest):
        return largest
    return largest * float(np.linalg.norm(vector / largest))


def _settled(slope: np.ndarray, step: np.ndarray, x: np.ndarray, tol: float, matrix: np.ndarray) -> bool:
    """‖∇f‖ ≤ tol (or ∇f is rounding noise, see :func:`_at_rounding`) and a next Newton step of at most _STEP_TOL,
    or of a few roundings of x (4ε‖x‖, where ‖x‖ > 1e12 rounds to more than that).  Not _STEP_TOL · ‖x‖: for a cost
    of small scale (1e-10 · f), where ‖∇f‖ ≤ tol holds everywhere, a minimum at 1000 was 'converged' a step of 0.25
    short, and called inconclusive, its f″ still changing."""
    small = _norm(slope) <= tol or _at_rounding(slope, step, x, matrix)
    return small and _norm(step) <= max(_STEP_TOL, 4 * float(np.finfo(np.float64).eps) * _norm(x))


def _at_rounding(slope: np.ndarray, step: np.ndarray, x: np.ndarray, matrix: np.ndarray) -> bool:
    """Whether x is the stationary point to the last digit: a Newton step that solves H·step = ∇f (not the
    least-squares step of a linear f) and moves x by a few roundings at most.  For a cost of large scale (10⁶ · f)
    the rounding of ∇f alone is above tol: the run stopped 'not converged' at the exact minimum."""
    eps = float(np.finfo(np.float64).eps)
    solved = _norm(matrix @ step - slope) <= _norm(slope) / 2
    return bool(slope.any()) and solved and _norm(step) <= 4 * eps * _norm(x)


def _still_gaining(step: np.ndarray, previous: np.ndarray | None, x: np.ndarray, reach: float) -> bool:
    """Whether the Newton steps still shrink quadratically, ‖step‖ < ‖previous step‖ / 10, above rounding
    (‖step‖ > ε‖x‖): then the next step gains digits the test of :func:`_settled` would leave behind.  For a cost
    of small scale (1e-10 · f) ‖∇f‖ ≤ tol holds everywhere, and a point one 1e-3 step short of the answer would
    otherwise be returned.  Near a degenerate point the steps shrink linearly (by ½ for x³) and end at the test.
    One step below ε · ``reach`` (the largest ‖x‖ of the path) is the last: quadratically, it leaves an error far
    below that, and at a point at 0, where ε‖x‖ shrinks with x, the steps went on through rounding noise to 1e-75
    and max_iterations."""
    if previous is None:
        return False
    size, before, eps = _norm(step), _norm(previous), float(np.finfo(np.float64).eps)
    return size < before / 10 and size > eps * _norm(x) and before > eps * reach


def _still_changing(matrix: np.ndarray, earlier: np.ndarray) -> np.ndarray:
    """For each of the Hessian's eigenvalues (ascending) whether it changed by more than half its size in the last
    Newton step: compared with the curvature of the earlier Hessian along its own eigenvector v (vᵀ·earlier·v), not
    with the earlier Hessian's k-th smallest eigenvalue, which is another one's where a shrinking eigenvalue passed it
    in that step (x³ + 1.6e-5·y² from (1, 1): x³'s 2.3e-5, halving, paired with y²'s 3.2e-5 and called settled, a
    minimum)."""
    eigenvalues, vectors = np.linalg.eigh(matrix)
    before = np.einsum("ik,ij,jk->k", vectors, earlier, vectors)
    return np.abs(eigenvalues - before) > np.abs(eigenvalues) / 2


def stationary_point(f: Callable[[Value], Value], start: Any, *, tol: float = 1e-10, max_iterations: int = 50,
                     zero_tol: float | None = None) -> StationaryPoint:
    """Newton's method for ∇f(x) = 0 from ``start`` (a number or a vector), then the second-derivative test.

    Converged means ``‖∇f(x)‖ ≤ tol`` (or, for a cost of large scale, a ∇f that is only rounding: a Newton step that
    solves for it moves x by a few roundings) and a next Newton step of at most 1e-3 (or a few roundings of a large
    x): where the gradient only dies out as x runs off (eˣ, e^(−x²)), the steps stay large.  While the steps still
    shrink quadratically (each under a tenth of the one before) the run goes on to full precision, whatever the
    scale of f.  The run takes at least one step unless ∇f(start) = 0, at most ``max_iterations``, and stops at a
    value, gradient or Hessian that is NaN or inf, or at a step that leaves x unchanged; a singular Hessian takes
    the least-squares step (0 for a zero Hessian, so a linear f stops there, not converged).  A run that did not
    converge has kind ``"not converged"``; otherwise the kind is :func:`classify_stationary_point` of the last Hessian's
    eigenvalues, with tolerance ``zero_tol`` (relative, < 1; by default 100·n·ε for n parameters, 4.4e-14 for two: the
    rounding of the eigenvalues, where classify_stationary_point's own default, 1e-6, is for eigenvalues of a point
    found only so far), and, where the last steps shrank linearly, each eigenvalue that changed by more than half its
    size in the last step counted as 0: the Hessian before compared along the eigenvalue's own eigenvector, so that
    x³'s, halving past the 3.2e-5 of 1.6e-5·y², is not taken for y²'s, settled.  So a minimum of eigenvalues 2 and 2e6,
    1e6·(x − 0.1)² + (y − 0.7)², is a minimum, and only a computed 0 counts as flat; x³ and x⁴ at 0 stay inconclusive,
    their eigenvalue still halving (x³) or shrinking by 4/9 (x⁴) with Newton's steps, at any scale.  ``f`` takes a Value
    shaped like ``start`` and returns a single number.  The point (as each row of the path) is a vector of the n
    parameters, as ``scipy.optimize.minimize``'s ``x`` is: of shape (1,) for a single-number start
    (``float(found.point[0])``).
    """
    x = _check_arguments(f, start, tol, max_iterations, zero_tol)
    shape, x = x.shape, x.ravel()
    if zero_tol is None:
        zero_tol = _ROUNDINGS * x.size * float(np.finfo(np.float64).eps)
    path, earlier, taken, reach = [x], None, None, _norm(x)
    value, slope, matrix = _evaluate(f, x, shape)
    step = _newton_step(matrix, slope, x)
    while len(path) <= max_iterations and np.isfinite(value) and np.isfinite(step).all():
        settled = _settled(slope, step, x, tol, matrix) and (len(path) > 1 or not slope.any())
        if (settled and not _still_gaining(step, taken, x, reach)) or np.array_equal(x - step, x):
            break  # (a step that changes nothing, as at a zero Hessian, would repeat to max_iterations)
        x, earlier, taken = x - step, matrix, step
        path.append(x)
        reach = max(reach, _norm(x))
        value, slope, matrix = _evaluate(f, x, shape)
        step = _newton_step(matrix, slope, x)
    converged = bool(np.isfinite(value) and np.isfinite(step).all() and _settled(slope, step, x, tol, matrix))
    eigenvalues = np.linalg.eigvalsh(matrix) if np.isfinite(matrix).all() else np.full(x.size, np.nan)
    # the previous Hessian tells of a creeping approach to a degenerate point, where the steps shrink linearly; where
    # they shrink faster (a step that landed on the point) it is the Hessian of another point, and says nothing here
    creeping = taken is not None and _norm(step) >= _norm(taken) / 10
    if converged and earlier is not None and creeping:
        changing = _still_changing(matrix, earlier)  # (in eigenvalues' ascending order)
        kind = classify_stationary_point(np.where(changing, 0.0, eigenvalues), zero_tol)
    else:
        kind = classify_stationary_point(eigenvalues, zero_tol) if converged else "not converged"
    return StationaryPoint(x.copy(), value, _norm(slope), eigenvalues, kind, converged,
                           len(path) - 1, np.array(path))


#: The derivatives, which are tinygrad_edu.autodiff's (hessian and value_and_grad are only imported here).
_IN_AUTODIFF = ("grad", "value_and_grad", "jacobian", "hessian", "hvp", "gradients", "gradient_and_hessian")


if not TYPE_CHECKING:  # (hidden from type checkers, which would otherwise take calculus.any_typo for a name)
    @checks.advice_on_import
    def __getattr__(name: str) -> Any:
        """``calculus.grad`` (``jacobian``, ``hvp``, …): an AttributeError saying that the derivatives are in
        :mod:`tinygrad_edu.autodiff`; this module has the school method built on them."""
        where = (f": the derivatives are in tinygrad_edu.autodiff (from tinygrad_edu.autodiff import {name}); "
                 "calculus has stationary_point and classify_stationary_point" if name in _IN_AUTODIFF else "")
        raise checks.no_attribute(__name__, name, where)


def __dir__() -> list[str]:
    """``dir()`` of this module lists its API (``__all__``), not its helpers and imports."""
    return sorted(__all__)
