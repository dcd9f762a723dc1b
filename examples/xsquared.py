"""The seed's demonstration (sections 5 to 7.3): a 1-12-12-1 network learns f(x) = x² on [−1, 1], three ways.

All three start from the same weights and biases and see the same 1000 samples:

1. random search (section 5): change every parameter at random, keep the change only if the average cost fell;
2. gradient descent with a fixed learning rate η (sections 7.1, 7.2), in batches of 5 samples (section 7.4);
3. gradient descent with Armijo steps (section 6.2.1), on all samples at once: the cost never increases.

Then it prints the outputs at the seed's test inputs x = 0.1, 0.5, −1, 0.01 next to their targets, checks the
goals and writes the pictures (cost per episode, the section 6.3 dependency tree, the trained network) into a
folder.  ``python -m tinygrad_edu demo`` runs the same comparison from :mod:`tinygrad_edu.demo`.

Run:  python examples/xsquared.py [--output FOLDER] [--seed S]
"""

import argparse
import time

import numpy as np

from tinygrad_edu import demo, optim
from tinygrad_edu.data import xsquared
from tinygrad_edu.engine import no_grad
from tinygrad_edu.losses import squared_error
from tinygrad_edu.training import fit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="xsquared-example", help="folder for the pictures")
    parser.add_argument("--seed", type=int, default=0, help="seed of the samples, weights and batches")
    args = parser.parse_args()
    began = time.perf_counter()

    x, y = xsquared(1000, seed=args.seed)      # x uniform in [−1, 1), targets y = x²
    start = demo.xsquared_network(args.seed).state_dict()

    # (name, how, optimizer for a network, episodes, batch size: None = all samples at once)
    methods = [
        ("random search", "keep a random change of size ≤ 0.1 if the cost fell (seed 5)",
         lambda net: optim.RandomSearch(net, scale=0.1, rng=args.seed), 500, None),
        ("gradient descent", "fixed η = 0.15, batches of 5 samples (seed 7.1, 7.4)",
         lambda net: optim.GradientDescent(net, learning_rate=0.15), 50, 5),
        ("Armijo", "σ = 1e-4, t = 0.5^l, all samples at once (seed 6.2.1)",
         lambda net: optim.Armijo(net, sigma=1e-4, alpha=0.5), 500, None),
    ]
    runs = []
    for name, how, make_optimizer, episodes, batch_size in methods:
        net = demo.xsquared_network(args.seed)
        net.load_state_dict(start)                # the same starting point for every method
        t0 = time.perf_counter()
        history = fit(net, x, y, cost=squared_error, optimizer=make_optimizer(net), episodes=episodes,
                      batch_size=batch_size, seed=args.seed, progress=False)
        history.label = name
        with no_grad():
            outputs = net(np.array(demo.TEST_INPUTS).reshape(-1, 1)).data.ravel()
        runs.append(demo.Run(name, how, net, history, outputs, time.perf_counter() - t0))
        print(f"{name}: {history.episodes} episodes, cost {history.cost[0]:.3g} → {history.final_cost:.2e}")

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
