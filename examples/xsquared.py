"""The seed's demonstration (sections 5 to 7.3): a 1-12-12-1 network learns f(x) = x² on [−1, 1], three ways,
and a 1-8-1 network a fourth, second-order way.

The first three start from the same weights and biases; all four see the same 1000 samples:

1. random search (section 5): change every parameter at random, keep the change only if the average cost fell;
2. gradient descent with a fixed learning rate η (section 7.2), in batches of 5 samples (section 7.4; 7.1 takes all
   samples at once);
3. gradient descent with Armijo steps (section 6.2.1), on all samples at once: the cost never increases;
4. Newton's method with Armijo steps (sections 6.1, 6.2): the direction from the Hessian, (H + λI)d = −∇C.

Then it prints the outputs at the seed's test inputs x = 0.1, 0.5, −1, 0.01 next to their targets, checks the
goals and writes into a folder (default ./xsquared-example) the pictures (cost per episode, the section 6.3
dependency tree, the trained network), the backpropagation player page, the table and the 1-12-12-1 network that
ended lowest (model.npz; Newton's 1-8-1 network, often lower, is not one of them).  ``python -m tinygrad_edu demo``
runs the same comparison from :mod:`tinygrad_edu.demo`.

Run:  python examples/xsquared.py [--output FOLDER] [--seed S]
"""

import argparse
import time
import warnings
from pathlib import Path

from tinygrad_edu import demo
from tinygrad_edu.cli import output_folder, whole_number

#: Why gradient descent seems to start lower than the others from the same weights (fit's History.cost).
EPISODE_ONE = ("(episode 1's cost is the cost before the first update, except for gradient descent on batches:\n"
               " there it is the mean of the episode's batch costs, all but the first taken after some of its\n"
               " updates, so it starts lower from the same weights; Newton trains a network of its own)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])  # the whole first sentence
    parser.add_argument("--output", type=output_folder, default=Path("xsquared-example"), metavar="FOLDER",
                        help="folder for the pictures, the table and the model (default: %(default)s)")
    parser.add_argument("--seed", type=whole_number(0), default=0, metavar="S",
                        help="seed of the samples, weights and batches")
    args = parser.parse_args()
    began = time.perf_counter()

    # The four methods and their settings are listed once, in tinygrad_edu/demo.py (_METHODS); each run trains
    # on the same 1000 samples with tinygrad_edu.training.fit, the first three a fresh copy of the same starting
    # 1-12-12-1 network, Newton's method a 1-8-1 network (its Hessian has to stay small).
    def report(run: demo.Run) -> None:
        print(f"{run.name}: {run.episodes} episodes, cost {run.history.cost[0]:.3g} in episode 1 → "
              f"{run.final_cost:.2e} after the last")

    with warnings.catch_warnings():  # (Ctrl-C: the message below says so, not fit's warning too, as the CLI does)
        warnings.filterwarnings("ignore", "fit: interrupted", UserWarning)
        runs = demo.compare_xsquared(seed=args.seed, on_run=report)
    print(EPISODE_ONE)
    if runs[-1].history.stopped == "interrupted":  # Ctrl-C: compare_xsquared stopped after this run
        raise SystemExit(f"interrupted during {runs[-1].name}; nothing written")
    print()
    print(demo.format_table(runs))
    artefacts = demo.write_artefacts(runs, args.output)
    print()
    for goal in demo.check_goals(runs, time.perf_counter() - began):
        print(f"[{'met' if goal.met else 'NOT met'}] {goal.text}: {goal.detail}")
    print()
    print(demo.COMPANION_NOTE)
    print()
    print("Files written:", *artefacts.written, sep="\n  ")
    for note in artefacts.notes:
        print(note)


if __name__ == "__main__":
    main()
