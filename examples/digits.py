"""The seed's section 4 example: recognise handwritten digits with 10 output neurons.

Each 8x8 image (the 1,797 UCI digits bundled with the package) becomes an input vector of 64 brightness values
in [0, 1].  The network has one hidden layer of 64 sigmoid neurons and 10 sigmoid output neurons, one per digit;
the target of an image of a 9 is the vector with a 1 at neuron 9 and 0 elsewhere, and the cost is the seed's
squared error C = Σ_j (y_j − y'_j)², averaged over the samples.  Training is gradient descent with a fixed
learning rate on batches of 10 images.  A quarter of the images (the same share of every digit) is held back;
the accuracy on them is the share of images whose most activated output neuron is the right digit, and the
digits confused most often are listed before some of the misclassified images are drawn.

Run:  python examples/digits.py [--episodes N] [--seed S] [--show K]
"""

import argparse
import os
import sys
import time

import numpy as np

from tinygrad_edu import nn, optim
from tinygrad_edu.cli import whole_number
from tinygrad_edu.data import load_digits, one_hot, train_test_split
from tinygrad_edu.engine import no_grad
from tinygrad_edu.losses import squared_error
from tinygrad_edu.training import fit

SHADES = " .:-=+*#%@"  # brightness 0 … 1, darkest to brightest
PER_LINE = 5  # misclassified digits drawn side by side: 5 · 16 characters + gaps, under 100


def text_art(image: np.ndarray) -> list[str]:
    """An 8x8 image as 8 lines of characters, each pixel twice as wide as high."""
    levels = np.minimum((image.reshape(8, 8) * len(SHADES)).astype(int), len(SHADES) - 1)
    return ["".join(SHADES[level] * 2 for level in row) for row in levels]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=whole_number(1), default=30, metavar="N",
                        help="passes over the training images (default 30)")
    parser.add_argument("--seed", type=whole_number(0), default=0, metavar="S",
                        help="seed of the split, the weights and the batches")
    parser.add_argument("--show", type=whole_number(0), default=4, metavar="K",
                        help="how many misclassified digits to draw")
    args = parser.parse_args()

    train, test = train_test_split(*load_digits(), test_fraction=0.25, seed=args.seed, stratify=True)
    network = nn.MLP([64, 64, 10], activation="sigmoid", init="xavier", rng=args.seed)
    print(f"{len(train.inputs)} training and {len(test.inputs)} test images; network 64-64-10 (sigmoid), "
          f"{network.num_parameters()} weights and biases")

    with no_grad():  # before training, on all training images (fit's first entry is episode 1's batch mean)
        start = squared_error(network(train.inputs), one_hot(train.labels)).item()
    began = time.perf_counter()
    history = fit(network, train.inputs, one_hot(train.labels), cost=squared_error,
                  optimizer=optim.GradientDescent(network, learning_rate=1.0), episodes=args.episodes,
                  batch_size=10, seed=args.seed, progress=False)
    episodes = f"{history.episodes} episode" + ("" if history.episodes == 1 else "s")
    print(f"gradient descent, η = 1, batches of 10: {episodes} in {time.perf_counter() - began:.1f} s")
    print(f"cost C on all training images: {start:.3f} before training → {history.final_cost:.4f} after")

    with no_grad():
        outputs = network(test.inputs).data
    predicted = outputs.argmax(axis=1)
    accuracy = float(np.mean(predicted == test.labels))
    print(f"test accuracy: {accuracy:.1%} ({int(np.sum(predicted == test.labels))} of {len(test.labels)} "
          f"held-back digits right; goal: at least 95%: {'met' if accuracy >= 0.95 else 'NOT met'})")

    confusions = np.bincount(test.labels * 10 + predicted, minlength=100).reshape(10, 10)  # [digit, answer]
    np.fill_diagonal(confusions, 0)  # (the right answers)
    pairs = sorted(((int(confusions[d, a]), d, a) for d in range(10) for a in range(10)), key=lambda p: -p[0])[:3]
    print("confused most often: " + (", ".join(f"{d} taken for {a} ({n}×)" for n, d, a in pairs if n) or "none"))

    wrong = np.flatnonzero(predicted != test.labels)[:args.show]
    if len(wrong):
        print(f"\n{len(wrong)} of the {int(np.sum(predicted != test.labels))} misclassified digits:")
        for start in range(0, len(wrong), PER_LINE):  # rows of PER_LINE digits, so a long list stays readable
            if start:
                print()
            shown = wrong[start:start + PER_LINE]
            pictures = [text_art(test.inputs[i]) for i in shown]
            print("   ".join(f"{f'is {test.labels[i]}, seen as {predicted[i]}':<16}" for i in shown))
            for row in range(8):
                print("   ".join(picture[row] for picture in pictures))


if __name__ == "__main__":
    try:
        main()
        sys.stdout.flush()  # here, not at exit, where a closed pipe would be an "Exception ignored" message
    except BrokenPipeError:  # `digits.py | head -3`: the reader has gone; end quietly, as the command line does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # what is left to flush goes nowhere
        sys.exit(141)  # 128 + SIGPIPE, the status shells report for a command ended by a closed pipe
