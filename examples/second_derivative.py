"""The school method of seed section 6.1, run by the engine: set the derivative to 0, confirm with the second.

1. One parameter: f(x) = x³ − 3x.  Newton's method finds the x with f′(x) = 0 and f″ says minimum or maximum;
   x⁴ and x³ show where the test is inconclusive (f″ = 0).
2. Two parameters: the cost surface C(w, b) = w³ − 3w + b³ − 3b has a minimum, a maximum and two saddles.
   Newton's method for ∇C = 0 from 16 starts finds all four; the Hessian's eigenvalues name each one.  It finds
   whichever point is near: the method does not know it is looking for a minimum.
3. Pictures (with ``--output``): the points found on the contour of C, and tanh with its first three
   derivatives, each computed by differentiating the one before.

Run:  python examples/second_derivative.py [--output FOLDER]
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np

import tinygrad_edu.functional as F
from tinygrad_edu.autodiff import grad, hessian
from tinygrad_edu.calculus import stationary_point
from tinygrad_edu.cli import output_folder

#: The end of each derivative plot's title, after the function it names.
DERIVATIVES = "and its first 3 derivatives, each by the engine's backward pass"
#: The cost surface of part 2, as its picture's title writes it.
SURFACE = "C(w, b) = w³ − 3w + b³ − 3b"


def cubic(x):
    return x ** 3 - 3 * x


def surface(p):
    """C(w, b) = w³ − 3w + b³ − 3b: ∇C = (3w² − 3, 3b² − 3) is 0 at w, b = ±1."""
    return p[0] ** 3 - 3 * p[0] + p[1] ** 3 - 3 * p[1]


def one_parameter() -> None:
    print("1. f(x) = x³ − 3x: f′(x) = 3x² − 3, f″(x) = 6x, each from the engine")
    for start in (2.0, -0.5):
        found = stationary_point(cubic, start)
        x = float(found.point[0])
        print(f"   from x = {start:+.1f}: f′({x:+.6f}) = {float(grad(cubic)(x)):+.1e} after {found.iterations} "
              f"Newton steps, f″ = {float(grad(grad(cubic))(x)):+.4f} -> {found.kind}")
    for name, f, truth in (("x⁴", lambda x: x ** 4, "a minimum"), ("x³", lambda x: x ** 3, "no extremum")):
        print(f"   {name} at 0: f′ = {float(grad(f)(0.0)):.0f}, f″ = {float(grad(grad(f))(0.0)):.0f} -> "
              f"{stationary_point(f, 0.0).kind} (it is {truth}: f″ = 0 cannot tell)")


def two_parameters() -> list:
    print(f"\n2. {SURFACE} from 16 starts:")
    starts = [(w, b) for w in (-2.0, -0.4, 0.4, 2.0) for b in (-2.0, -0.4, 0.4, 2.0)]
    found = [stationary_point(surface, start) for start in starts]
    print("   point        C      Hessian eigenvalues   kind       starts")
    for point in sorted({tuple(r.point.round(6)) for r in found}):
        results = [r for r in found if tuple(r.point.round(6)) == point]
        first = results[0]
        eigenvalues = ", ".join(f"{v:+.1f}" for v in first.eigenvalues)
        print(f"   ({point[0]:+.0f}, {point[1]:+.0f})   {first.value:+.1f}   {eigenvalues:<20}  {first.kind:<9}  "
              f"{len(results)}")
    check = hessian(surface)([1.0, 1.0]).data  # the engine's Hessian at the minimum: diag(6w, 6b)
    print(f"   Hessian at (1, 1) = {check.tolist()} (diag(6w, 6b) by hand)")
    return found


def pictures(found: list, folder: Path) -> None:
    from tinygrad_edu import plots

    folder.mkdir(parents=True, exist_ok=True)
    points, tanh, cubic_plot = (folder / name for name in ("stationary_points.png", "tanh_derivatives.png",
                                                           "cubic_derivatives.png"))
    plots.plot_stationary_points(surface, found, bounds=(-2.5, 2.5, -2.5, 2.5), parameter_names=("w", "b"),
                                 title=f"{SURFACE}: ∇C = 0 by Newton's method from 16 starts", path=points)
    plots.plot_derivatives(F.tanh, order=3, title=f"f(x) = tanh x {DERIVATIVES}", path=tanh)
    plots.plot_derivatives(cubic, order=3, x_range=(-2.2, 2.2), title=f"f(x) = x³ − 3x {DERIVATIVES}",
                           path=cubic_plot)
    print(f"\n3. Pictures: {points}, {tanh}, {cubic_plot}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=output_folder, metavar="FOLDER",
                        help="folder for the pictures (needs matplotlib)")
    args = parser.parse_args()
    if args.output is not None and importlib.util.find_spec("matplotlib") is None:  # say so before any work
        parser.error("argument --output: the pictures need matplotlib (pip install matplotlib, or the 'plot' extra)")
    np.set_printoptions(precision=4, suppress=True)
    one_parameter()
    found = two_parameters()
    if args.output is not None:
        pictures(found, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
