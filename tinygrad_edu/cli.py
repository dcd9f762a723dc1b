"""The command line: ``python -m tinygrad_edu`` (or ``tinygrad-edu``) with the subcommands ``demo``, ``train`` and
``predict``.

    tinygrad-edu demo                                   # the seed's x² comparison, pictures in ./tinygrad-edu-demo
    tinygrad-edu train --data xsquared --hidden 12 12 --optimizer armijo --episodes 500 -o model.npz
    tinygrad-edu predict model.npz 0.1 0.5 -1 0.01

Bad arguments, a missing or damaged model file, or inputs that do not fit the model end with one line
``tinygrad-edu: error: ...`` on stderr and exit status 2 (a training that diverged, its cost NaN or inf: status 1,
no model saved); Ctrl-C ends with exit status 130 (``train`` first saves the model trained so far, also when Ctrl-C
comes after training; during the save itself no file is written; ``demo`` writes nothing more).  When the program
reading the output stops early (``predict ... | head``, also before anything was written: ``| grep -q .``), it ends
quietly with exit status 141, as shells report a command ended by a closed pipe; output that cannot be written
(``> FILE`` on a full disk) is an error naming standard output, and an error that stderr cannot take
(``2>&1 | head -1``, ``2> FILE`` on a full disk) still ends with its status.  SIGTERM (``kill``, ``timeout``) ends it
as the system does, with no model saved (status 143), after removing the file being written.

The same training in Python: ``train`` with its defaults writes this model file, byte for byte (``--hidden``,
``--activation``, ``--output-activation``, ``--init``, ``--samples``, ``--episodes``, ``--batch-size`` and ``--seed``
change the numbers they name; ``--cost-goal C`` adds ``cost_goal=C`` to ``fit``; the defaults here are the command
line's, several unlike the API's own)::

    from tinygrad_edu import nn, optim, seeds
    from tinygrad_edu.data import load_digits, one_hot, train_test_split, xsquared
    from tinygrad_edu.losses import cross_entropy, squared_error
    from tinygrad_edu.training import fit

    seed = 0                                                                          # --seed
    x, y = xsquared(1000, seed=seed)                                                  # --samples 1000
    model = nn.MLP([1, 12, 12, 1], activation="leaky_relu", output_activation="identity", init="he", rng=seed)
    optimizer = optim.Armijo(model, initial_step=1.0)                                 # --optimizer armijo
    fit(model, x, y, cost=squared_error, optimizer=optimizer, episodes=500, batch_size=None, seed=seed)
    model.save("model.npz")

``--data digits`` holds back a quarter of each digit (a stratified split, where ``train_test_split`` defaults to
``test_fraction=0.2, stratify=False``); with ``--cost squared_error`` the targets are ``one_hot(train.labels)``::

    train, test = train_test_split(*load_digits(), test_fraction=0.25, seed=seed, stratify=True)
    x, y = train.inputs, train.labels
    model = nn.MLP([64, 64, 10], activation="leaky_relu", output_activation="identity", init="he", rng=seed)
    optimizer = optim.Adam(model, learning_rate=0.01)                                 # --optimizer adam
    fit(model, x, y, cost=cross_entropy, optimizer=optimizer, episodes=30, batch_size=32, seed=seed)

The other optimizers, with the default ``--learning-rate`` of each (:data:`LEARNING_RATES`); random search draws its
changes from a second stream of the seed, as ``rng=seed`` would draw the weights' numbers again::

    optimizer = optim.GradientDescent(model, learning_rate=0.1)                       # --optimizer gd
    optimizer = optim.SGD(model, learning_rate=0.1, momentum=0.9)                     # --optimizer sgd
    optimizer = optim.RandomSearch(model, scale=0.1, rng=seeds.second_stream(seed))   # --optimizer random
"""

from __future__ import annotations

import argparse
import array
import ast
import contextlib
import copy
import difflib
import importlib.util
import itertools
import math
import os
import re
import shlex
import signal
import stat
import sys
import tempfile
import threading
import time
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

import numpy as np

from tinygrad_edu import __version__, checks, nn, optim, seeds
from tinygrad_edu.checks import counted
from tinygrad_edu.data import MAX_ARRAY_SIZE, load_digits, train_test_split, xsquared
from tinygrad_edu.engine import no_grad
from tinygrad_edu.files import checked_path, decoded_text, open_regular_file
from tinygrad_edu.functional import ACTIVATIONS
from tinygrad_edu.losses import cross_entropy, squared_error
from tinygrad_edu.serialization import ModelFileError
from tinygrad_edu.training import SQUASHED_OUTPUT_ADVICE, DivergenceWarning, History, fit

__all__ = ["main", "build_parser", "whole_number", "output_folder", "PROG", "DATA_DEFAULTS", "LEARNING_RATES",
           "MAX_INPUTS_FILE_BYTES", "INTERRUPTED"]

PROG = "tinygrad-edu"

#: Defaults that depend on the data set: hidden sizes, optimizer, learning rate, episodes, batch size, cost.
DATA_DEFAULTS: dict[str, dict[str, Any]] = {
    "xsquared": {"hidden": [12, 12], "optimizer": "armijo", "episodes": 500, "batch_size": None,
                 "cost": "squared_error"},
    "digits": {"hidden": [64], "optimizer": "adam", "episodes": 30, "batch_size": 32, "cost": "cross_entropy"},
}
#: The default learning rate of each optimizer (Armijo: its first trial step; random search: its change size).
LEARNING_RATES = {"gd": 0.1, "sgd": 0.1, "adam": 0.01, "armijo": 1.0, "random": 0.1}
#: ``train --samples`` and ``train --test-fraction`` when not given.
XSQUARED_SAMPLES, TEST_FRACTION = 1000, 0.25
MAX_INPUTS_FILE_BYTES = 64 << 20
#: ``predict`` evaluates the samples a part at a time, each making arrays of at most about this many numbers.
_PREDICT_PART_SIZE = 1_000_000
#: The exit status after Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130
#: The exit status when the output's reader has gone (128 + SIGPIPE).
_BROKEN_PIPE = 141


class _Parser(argparse.ArgumentParser):
    """argparse, with errors on one line: ``tinygrad-edu train: error: ... (see tinygrad-edu train --help)``, exit
    status 2.  With ``intermixed`` set, positional arguments may also come after options (argparse's
    ``parse_intermixed_args``, which a parser with subcommands cannot use itself)."""

    intermixed = False
    _parsing = False
    #: The words this parser was given (for errors).
    _words: list[str] = []

    def error(self, message: str) -> NoReturn:
        if message.startswith("argument X: ") and (unknown := self._unknown_option()):  # its words moved one on:
            message = f"unrecognized arguments: {unknown}{_option_hint(self, [unknown])}"  # `--input-file f MODEL`
        path_option = re.fullmatch(r"argument (?:-o/)?(--output|--inputs-file): expected one argument", message)
        last = self._words[-1] if self._words else ""  # (the option itself, or argparse's abbreviation of it: --out)
        if path_option and (last == "-o" or len(last) > 2 and path_option.group(1).startswith(last)):  # `-o $OUT`
            message += " (no name follows it: an empty or unset shell variable?)"
        elif path_option:  # `-o -model.npz`: argparse took the name for an option
            message += (f" (a name that starts with '-' is read as an option: write {path_option.group(1)}=NAME, or "
                        "./NAME for one in the current folder)")
        sizes = re.fullmatch(r"argument --hidden: expected a whole number, got '(\d+,[\d,]*)'", message)
        if sizes:  # `--hidden 64,10`, `--hidden 64, 10`: a list as other scripts take it
            message += f"; separate the layer sizes with spaces: --hidden {_hidden_sizes(self._words, sizes[1])}"
        if re.search(r"(?:invalid float value:|expected a number, got) '[+-]?\d*,\d+'$", message):  # `--lr 0,5`
            message += "; write numbers with a decimal point (0.5, not 0,5) and no thousands separator"
        elif listed := re.fullmatch(r"argument X: expected a number, got '([^']*)'", message):  # `0.1,0.5`, `[1, 2]`
            message += _listed_numbers_hint(listed[1], self._words)
        a_file = re.fullmatch(r"argument (X|--data): (?:invalid choice:|expected a number, got) "
                              r"('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\").*", message)  # (a repr: it's.csv, C:\\x)
        name = ast.literal_eval(a_file.group(2)) if a_file else ""
        if a_file and _a_file_name(name):
            message += (f"; to read the input numbers from a file, write --inputs-file {shlex.quote(name)}"
                        if a_file.group(1) == "X" else
                        "; train learns only the bundled data: for a file of your own, train in Python (np.loadtxt, "
                        "nn.MLP, fit, model.save: see the README's Command line) and give the model file to predict")
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def _unknown_option(self) -> str:
        """The first word given (before ``--``) that looks like a long option and is none of this parser's, nor
        argparse's abbreviation of one; else ``""``."""
        for word in itertools.takewhile(lambda word: word != "--", self._words):
            name = word.split("=", 1)[0]
            if name.startswith("--") and not any(option.startswith(name) for option in self._option_string_actions):
                return name
        return ""

    def _print_message(self, message: str, file: Any = None) -> None:
        """argparse's, but a help or version that cannot be written to stdout is an error (argparse dropped it:
        ``--help > FILE`` on a full disk ended with status 0 and an empty file), and with stdout closed (``>&-``)
        nothing is printed (argparse printed the help on stderr)."""
        if file is None:  # a closed stream: argparse wrote on the other one
            return
        if file is sys.stderr:  # argparse dropped an error writing it, and Python's flush at exit failed (status 120)
            _to_stderr(message, end="")
            return
        if file is not sys.stdout:
            super()._print_message(message, file)
            return
        try:
            file.write(message)
        except OSError as error:
            raise _output_error(error) from None

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        if not self._parsing:
            self._words = list(sys.argv[1:] if args is None else args)
        if not self.intermixed or self._parsing:  # parse_known_intermixed_args calls this method again
            return super().parse_known_args(args, namespace)
        words = list(sys.argv[1:] if args is None else args)
        self._parsing = True
        try:
            found, extras = self.parse_known_intermixed_args(words, copy.copy(namespace))
        finally:
            self._parsing = False
        # before Python 3.12.8 (3.13.1), intermixed parsing dropped the words after "--" that look like options:
        # `predict -- -model.npz 0.5` took 0.5 as the model; argparse's plain parsing reads them as it should
        after = words[words.index("--") + 1:] if "--" in words else []
        if any(word in after for word in extras):
            return super().parse_known_args(words, namespace)
        return found, extras


class _Once(argparse.Action):
    """An option that may be given only once (a second one would silently replace the first); ``help_twice`` says
    what to write instead, e.g. ``--hidden 4 --hidden 8`` meant two layers and trained one of 8."""

    #: What to write instead of giving each option twice, by its dest.
    help_twice = {"inputs_file": "put all the numbers in one file, or the rest on the command line",
                  "hidden": "give all the layer sizes after one --hidden, e.g. --hidden 12 12"}

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        if getattr(namespace, self.dest) is not None:
            parser.error(f"argument {option_string}: given twice ({getattr(namespace, self.dest)!r} and {values!r}); "
                         + self.help_twice[self.dest])
        setattr(namespace, self.dest, values)


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``minimum`` (``type=whole_number(1)``), with a one-line error."""
    checks.integer(minimum, "minimum", "whole_number")

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError as error:
            if str(error).startswith("Exceeds the limit"):  # a whole number, but longer than int() reads
                digits = sum(character.isdigit() for character in text)
                raise argparse.ArgumentTypeError(f"a whole number of {digits:,} digits is too long (Python reads "
                                                 f"at most {sys.get_int_max_str_digits():,})") from None
            raise argparse.ArgumentTypeError(f"expected a whole number, got {_echoed(text)}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {checks.readable_int(value)}")
        return value

    return parse


def output_folder(text: str) -> Path:
    """An argparse type: a folder for a script's output, checked before any work (it, or the folder it would be
    made in, must be a folder a file can be made in), with a one-line error; a leading ``~`` is the home folder.
    The script makes it when it writes there.  An empty name is refused: it would mean the current folder, and is
    more likely an unset shell variable."""
    if not isinstance(text, str):
        raise TypeError(f"output_folder: text must be a str (the folder name), got {type(text).__name__} {text!r:.60}")
    if not text:
        raise argparse.ArgumentTypeError("the folder name is empty")
    if "\0" in text:  # Path.exists says False for it, and the demo ended with "error: embedded null byte"
        raise argparse.ArgumentTypeError(f"the folder name {text!r:.200} holds a NUL character, which no name can")
    folder = Path(_home_expanded(text))
    try:
        existing = next((path for path in (folder, *folder.parents) if path.exists()), Path.cwd())
    except OSError as error:  # a name too long (or a folder it may not look into): Path.exists raises, not False
        raise argparse.ArgumentTypeError(f"cannot use the folder {text}: {error.strerror or error}") from None
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"cannot make the folder {text}: {existing} is a file, not a folder")
    # a folder no file can be made in (read-only, /proc): the examples trained first and then ended in a traceback
    failure = f"cannot write to the folder {text}" if existing is folder else \
        f"cannot make the folder {text} in {existing}"
    try:
        _check_writable(existing, failure)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return folder


_positive_int, _seed = whole_number(1), whole_number(0)


def _home_expanded(text: str) -> str:
    """A path argument with a leading ``~`` (or ``~user``) read as the home folder.  The shell does that for a word
    of its own, but not after ``=`` or a short option: ``--output=~/pictures`` made a folder named ``~`` in the
    current one, and ``-o~/model.npz`` was refused."""
    return os.path.expanduser(text)


def _echoed(text: str, quoted: bool = True) -> str:
    """An argument given on the command line, for an error message: cut to 40 characters (a mistyped 400-digit
    number would fill the screen)."""
    shown = text if len(text) <= 40 else f"{text[:40]}…"
    shown = repr(shown) if quoted else shown
    return shown if len(text) <= 40 else f"{shown} ({len(text):,} characters)"


def _a_file_name(text: str) -> bool:
    """Whether ``text``, given where numbers go, names a file (one that exists, or a .csv, .tsv, .txt or .dat)."""
    return os.path.isfile(text) or re.search(r"\.(csv|tsv|txt|dat)$", text, re.I) is not None


def _number(text: str) -> float:
    """A number as numpy.loadtxt reads it (float() also reads 1_000 and digits other than 0-9, ١٢)."""
    try:
        value = float(text)
    except ValueError:  # (a file's name in full: the message says to give it as --inputs-file)
        shown = repr(text) if _a_file_name(text) else _echoed(text)
        raise argparse.ArgumentTypeError(f"expected a number, got {shown}{_hexadecimal(text)}") from None
    if why := _python_only(text):
        raise argparse.ArgumentTypeError(f"expected a number, got {_echoed(text)}: {why}")
    return value


def _hexadecimal(text: str) -> str:
    """For ``0x10``, a number written in hexadecimal, which float() and numpy refuse: its decimal; else ``""``."""
    if "x" not in text.lower():
        return ""
    try:
        value = float.fromhex(text)
    except (ValueError, OverflowError):
        return ""
    shown = f"{value:g}" if float(f"{value:g}") == value else repr(value)  # (all its digits: 0x123456789)
    return f": numpy reads decimal numbers only, not hexadecimal: write {shown}"


def _python_only(text: str, reader: str = "numpy's") -> str:
    """Why numpy.loadtxt refuses ``text``, a number float() reads, where it does: ``_`` between digits (Python's way,
    not the ``reader``'s), or digits other than 0-9 (``'١٢'``); else ``""``."""
    if "_" in text:
        return f"_ between digits is Python's way of writing numbers, not {reader}: write {text.replace('_', '')}"
    if text.strip().isascii():
        return ""
    digits = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text.strip())
    return f"numpy reads the digits 0-9 only: write {digits}"


def _underflows(text: str, value: float) -> bool:
    """Whether ``text``, a positive number with a digit other than 0 (1e-400), is 0 as a float (``value``)."""
    mantissa = text.strip().lower().partition("e")[0]
    return value == 0 and mantissa[:1] != "-" and any(digit in mantissa for digit in "123456789")


def _positive_float(text: str) -> float:
    value = _number(text)
    if not 0 < value < float("inf"):
        rounded = " (as a float it is 0: below 5e-324)" if _underflows(text, value) else ""
        raise argparse.ArgumentTypeError(f"must be a positive number, got {_echoed(text, quoted=False)}{rounded}")
    return value


def _cost_goal(text: str) -> float:
    """--cost-goal: a positive number.  The costs here, squared_error and cross_entropy, are never below 0, and in
    floating point in practice never exactly 0, so a goal of 0 or less would run every episode, as no goal does
    (``fit(cost_goal=...)`` takes any finite number, for a cost of one's own that goes below 0)."""
    value = _number(text)
    if value < 0 or (value == 0 and not _underflows(text, value)):  # (1e-400 gets _positive_float's message)
        raise argparse.ArgumentTypeError(
            f"must be a positive number, got {_echoed(text, quoted=False)}: the costs here (squared_error, "
            "cross_entropy) are never below 0 and in practice never exactly 0 in floating point, so every episode "
            "would run; give a small goal such as 1e-4, or leave --cost-goal out to run all --episodes")
    if not math.isfinite(value):  # (NaN: no cost is at or below it; inf, or 1e400: every cost is)
        written = math.isnan(value) or text.strip().lower().lstrip("+") in ("inf", "infinity")  # (-nan is NaN)
        rounded = "" if written else " (as a float it is inf: above 1.8e308)"
        why = ("no cost is ever at or below NaN, so every episode would run" if math.isnan(value) else
               "every cost is below it, so the first episode would end the run")
        raise argparse.ArgumentTypeError(
            f"must be a positive number, got {_echoed(text, quoted=False)}{rounded}: {why}; give a small goal such "
            "as 1e-4, or leave --cost-goal out to run all --episodes")
    return _positive_float(text)


def _fraction(text: str) -> float:
    value = _number(text)
    if not 0 < value < 1:  # (NaN fails too)
        raise argparse.ArgumentTypeError(f"must lie strictly between 0 and 1, got {_echoed(text, quoted=False)}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the whole command line."""
    parser = _Parser(prog=PROG, description="Learn the math of feedforward neural networks by running it: the "
                     "seed's x² demonstration, training on x² or handwritten digits, and predictions from a "
                     "saved model.", epilog="Run '%(prog)s COMMAND --help' for the options of a command.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser, required=True)
    _add_demo(commands)
    _add_train(commands)
    _add_predict(commands)
    return parser


def _add_demo(commands: Any) -> None:
    """The ``demo`` command: the seed's x² demonstration."""
    demo = commands.add_parser(
        "demo", help="fit x² four ways (random search, gradient descent, Armijo, Newton) and draw the results",
        description="Fit f(x) = x² on [-1, 1] with a 1-12-12-1 network three ways from the same start: random "
        "search (500 episodes), gradient descent with a fixed learning rate (50 episodes, batches of 5) and "
        "gradient descent with Armijo steps (500 episodes); and with a 1-8-1 network by Newton's method with "
        "Armijo steps (50 episodes). Prints a table of the costs and the outputs at x = 0.1, 0.5, -1, 0.01 and "
        "checks the demonstration's goals; writes the cost plot, the dependency tree of section 6.3, a page that "
        "plays backpropagation step by step, the diagram of the trained network, the model and the table into a "
        "folder.")
    demo.add_argument("-o", "--output", type=output_folder, default="tinygrad-edu-demo", metavar="FOLDER",
                      help="folder for the pictures, the player page, the model and the table (default: %(default)s)")
    demo.add_argument("--seed", type=_seed, default=0, help="seed of the samples, weights, batches and random "
                      "search's changes (default: 0)")
    demo.add_argument("--quick", action="store_true", help="a fifth of the episodes, for a fast look (as a "
                      "rule too few to meet the goals: gradient descent reaches the cost, not the outputs)")
    demo.set_defaults(handler=_demo, command_parser=demo)


def _add_train(commands: Any) -> None:
    """The ``train`` command: train a network on x² or the digits and save it."""
    train = commands.add_parser(
        "train", help="train a network on x² or on the bundled digits and save it",
        description="Train a fully connected network on the seed's x² samples (1 input, 1 output) or on the "
        "bundled 8x8 handwritten digits (64 inputs, 10 outputs; a quarter of each digit held back for testing), print "
        "the final cost (and the test accuracy for digits) and save the model for 'predict'. Defaults depend on "
        "the data: xsquared uses hidden layers 12 12, Armijo and 500 full-batch episodes; digits uses one hidden "
        "layer of 64, Adam (learning rate 0.01), batches of 32, 30 episodes and the cross entropy cost.")
    train.add_argument("--data", choices=sorted(DATA_DEFAULTS), default="xsquared",
                       help="what to learn (default: %(default)s)")
    train.add_argument("--hidden", type=_positive_int, nargs="+", metavar="N", action=_Once,
                       help="neurons of each hidden layer, e.g. --hidden 12 12 (default: 12 12 for xsquared, 64 for "
                       "digits)")
    # NAME in the usage, the choices in the help: "{identity,leaky_relu,…}" twice made usage lines of 89 and 96
    # columns, wider than a terminal of 80
    activations = "{" + ",".join(sorted(ACTIVATIONS)) + "}"
    train.add_argument("--activation", choices=sorted(ACTIVATIONS), default="leaky_relu", metavar="NAME",
                       help=f"activation of the hidden layers: {activations} (default: %(default)s)")
    train.add_argument("--output-activation", choices=sorted(ACTIVATIONS), default="identity", metavar="NAME",
                       help=f"activation of the output layer: {activations} (default: %(default)s)")
    train.add_argument("--init", choices=nn.INITS, default="he",
                       help="initial weights and biases: uniform [0, 1) as in the seed; xavier or he, biases 0 "
                       "(default: %(default)s)")
    train.add_argument("--cost", choices=["squared_error", "cross_entropy"],
                       help="the cost (default: squared_error for xsquared, cross_entropy for digits)")
    train.add_argument("--optimizer", choices=sorted(optim.OPTIMIZERS),
                       help="gd: fixed learning rate; armijo: Armijo steps; random: random search; sgd: gradient "
                       "descent with momentum 0.9; adam: Adam (default: armijo for xsquared, adam for digits)")
    train.add_argument("--learning-rate", "--lr", type=_positive_float, metavar="ETA",
                       help="learning rate η; for armijo the first trial step, for random the size of the "
                       f"random changes (defaults: {', '.join(f'{k} {v:g}' for k, v in LEARNING_RATES.items())})")
    train.add_argument("--episodes", type=_positive_int, metavar="N", help="passes over all training samples; "
                       "with --cost-goal, the most to run (default: 500 for xsquared, 30 for digits)")
    train.add_argument("--cost-goal", type=_cost_goal, metavar="C",
                       help="stop at the first episode whose cost is at or below C (the seed's 7.1: episodes "
                       "'related to the cost value'; with batches, the episode's average cost); C > 0: these costs "
                       "are never below 0 and in practice never exactly 0 (fit's cost_goal takes any "
                       "finite number, for costs of one's own) (default: no goal, all --episodes run)")
    train.add_argument("--batch-size", type=_positive_int, metavar="N",
                       help="samples per update (default: all of them for xsquared, 32 for digits)")
    train.add_argument("--samples", type=_positive_int, metavar="N",
                       help=f"how many x² samples on [-1, 1], for xsquared only (default: {XSQUARED_SAMPLES})")
    train.add_argument("--test-fraction", type=_fraction, metavar="F",
                       help="share of each digit held back for testing (a stratified split, train_test_split(..., "
                       f"stratify=True)), for digits only (default: {TEST_FRACTION})")
    train.add_argument("--seed", type=_seed, default=0, help="seed of the x² samples (for digits, of the split), "
                       "weights, batches and random search's changes, these from a stream of their own, "
                       "seeds.second_stream(SEED) (default: 0)")
    train.add_argument("-o", "--output", type=_home_expanded, default="model.npz", metavar="PATH",
                       help="where to save the trained model (default: %(default)s)")
    train.add_argument("--progress", action="store_true",
                       help="show a progress bar when stderr is a terminal (needs tqdm)")
    train.set_defaults(handler=_train, command_parser=train)


def _add_predict(commands: Any) -> None:
    """The ``predict`` command: outputs of a saved model."""
    predict = commands.add_parser(
        "predict", help="evaluate a saved model on inputs given on the command line or in a file",
        description="Load a model saved by 'train' (or by the save method of an nn.MLP or nn.Network whose "
        "layers have named activations) and print its outputs. The numbers are "
        "taken as many at a time as the model has inputs: 'predict model.npz 0.1 0.5 -1' evaluates a "
        "1-input model on three samples. Put '--' before numbers like -1e-3, or a model file like -model.npz, that "
        "look like options (or write the file as ./-model.npz). A model "
        "with several outputs also prints the class, the output neuron with the largest activation.")
    predict.intermixed = True  # numbers before and after --inputs-file alike
    predict.add_argument("model", type=_home_expanded, metavar="MODEL", help="a .npz model file")
    predict.add_argument("inputs", type=_number, nargs="*", default=[], metavar="X", help="input numbers")
    predict.add_argument("--inputs-file", type=_home_expanded, action=_Once, metavar="FILE",
                         help="a text file of input numbers ('-': standard input), separated by spaces, commas or "
                         "new lines: one sample or several per line, or one sample over several lines, but no sample "
                         "that runs on from the end of one line into the next; its numbers come after those on the "
                         "command line")
    predict.set_defaults(handler=_predict, command_parser=predict)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit status.

    Errors and warnings are one line each on stderr (after a divergence error, the warnings that led up to it
    are not repeated).
    """
    if argv is not None and (isinstance(argv, str) or not isinstance(argv, Sequence)
                             or not all(isinstance(word, str) for word in argv)):
        raise TypeError(f"main: argv must be a list of strings such as ['demo', '--quick'], or None for "
                        f"sys.argv[1:], got {type(argv).__name__} {argv!r:.60}")
    with _terminated_cleanly(), _unencodable_replaced(sys.stdout), _unencodable_replaced(sys.stderr):
        try:
            status = _main(argv)
            _flush_stdout()  # what a file or pipe still holds: failing at exit, it ended in a traceback, status 120
        except BrokenPipeError:  # `predict ... | grep -q .`: the reader went before the output was written
            _stdout_to_nowhere()
            return _BROKEN_PIPE
        except OSError as error:  # `--help > FILE` on a full disk
            return _said(f"error: {error.strerror}", 2)
        return status


class _Terminated(BaseException):
    """SIGTERM (``kill``, ``timeout``, a cancelled CI job or ``make -j`` sibling), raised where the program is."""


@contextlib.contextmanager
def _terminated_cleanly() -> Iterator[None]:
    """End on SIGTERM as the system would (no model saved, status 143 in the shell), but only after the file being
    written has been removed: killed at once, a save left its hidden temporary folder (``.model.npz.<hex>.tmp``
    holding a model) next to the destination.  Only where SIGTERM has the system's own handling, in the main
    thread; elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def terminated(signum: int, frame: Any) -> None:
        raise _Terminated

    signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    except _Terminated:  # the files being written are removed by now (files.replacing): end as SIGTERM does
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        raise SystemExit(128 + signal.SIGTERM) from None  # where the signal does not end the process at once
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@contextlib.contextmanager
def _unencodable_replaced(stream: Any) -> Iterator[None]:
    """Write a character that ``stream``'s encoding lacks as "?" instead of failing: on a Windows code page
    (cp1252, which Python uses there when the output goes to a file) σ, η, ∇ and → cannot be written, and the first
    line of the demo ended it with "'charmap' codec can't encode character".  The files written are UTF-8 anyway.
    So too with Python's UTF-8 mode turned off under the C locale (``-X utf8=0``, ``LANG=C``), where it writes ASCII
    with ``errors="surrogateescape"``, which failed just the same: ``--help`` ended in a traceback."""
    errors = getattr(stream, "errors", None)
    lenient = errors in ("strict", "surrogateescape") and hasattr(stream, "reconfigure")
    if lenient:
        stream.reconfigure(errors="replace")
    try:
        yield
    finally:
        if lenient and not stream.closed:
            stream.reconfigure(errors=errors)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        _refuse_options_before_the_command(parser, sys.argv[1:] if argv is None else argv)
        args, extras = parser.parse_known_args(argv)
        if extras:  # the subcommand's parser leaves them to the main one: name the subcommand's help
            command_parser = getattr(args, "command_parser", parser)
            command_parser.error(f"unrecognized arguments: {' '.join(extras)}"
                                 + _negative_number_hint(args.command, extras) + _option_hint(command_parser, extras)
                                 + _dash_file_hint(args.command, extras))
    except SystemExit as stop:  # --help, --version and argument errors
        return stop.code if isinstance(stop.code, int) else 2
    with warnings.catch_warnings(record=True) as caught:
        status = _run(args)
    if status != 1:
        _show_warnings(caught)
    return status


def _refuse_options_before_the_command(parser: argparse.ArgumentParser, words: Sequence[str]) -> None:
    """Refuse a command's option written before the command, with the order to write: argparse read
    ``tinygrad-edu --seed 3 demo`` as the command '3' ("invalid choice: '3'"), and ``--quick demo`` as an option
    demo does not have ("unrecognized arguments: --quick (see tinygrad-edu demo --help)", which lists it).  With no
    command, an option that is not the main parser's is named: argparse said only that COMMAND is missing."""
    commands = next(action.choices for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    at = next((i for i, word in enumerate(words) if word in commands), None)
    if at is None:
        before = words[:words.index("--")] if "--" in words else words
        given = [word for word in before if word.startswith("-")]
        options = [word.split("=", 1)[0] for word in given]
        if options and not any(_main_option(parser, option) for option in options):  # (--help first)
            owners = [name for name, command in commands.items() if options[0] in command._option_string_actions]
            where = f" ({options[0]} is an option of {PROG} {' and '.join(owners)})" if owners else ""
            parser.error(f"unrecognized arguments: {' '.join(given)}{where}; give a COMMAND first: "
                         f"{', '.join(commands)}")
        return
    command = commands[words[at]]
    for word in words[:at]:
        option = word.split("=", 1)[0]
        if option in command._option_string_actions and option not in parser._option_string_actions:
            command.error(f"{option} is an option of the command, so it goes after it: {PROG} {words[at]} "
                          f"{option} ...")


def _main_option(parser: argparse.ArgumentParser, option: str) -> bool:
    """Whether argparse reads ``option`` as one of the main parser's own: itself, or an abbreviation of a long one
    (``--vers`` is ``--version``)."""
    names = parser._option_string_actions
    return option in names or (option.startswith("--") and len(option) > 2
                               and any(name.startswith(option) for name in names))


def _negative_number_hint(command: str, words: list[str]) -> str:
    """For ``predict m.npz -1e-3``: argparse reads a number like -1e-3 or -inf as an option, and numbers written as
    a list that starts with one (``-0.1,0.5``) too; say what to do."""
    number = next((word for word in words if word.startswith("-") and _is_number(word)), None)
    if command != "predict":
        return ""
    if number is None:
        listed = (_listed_numbers_hint(word, words) for word in words if word.startswith("-"))
        return next(filter(None, listed), "")
    return f"; to give {number} as an input, put '--' before the numbers: {PROG} predict MODEL -- {number}"


def _dash_file_hint(command: str, words: list[str]) -> str:
    """For ``predict -model.npz 0.5``: argparse reads a file name that starts with '-' as an option; say what to do."""
    name = next((word for word in words if word.startswith("-") and os.path.isfile(word)), None)
    if command != "predict" or name is None:
        return ""
    return f"; to name the file {name}, write ./{name} or put '--' before it: {PROG} predict -- {name} ..."


#: Other training scripts' names for train's options (PyTorch's examples: --epochs).
_OTHER_NAMES = {"--epochs": "--episodes", "--epoch": "--episodes"}


def _option_hint(parser: argparse.ArgumentParser, words: list[str]) -> str:
    """For ``train --epochs 5``, ``--batch_size 5`` or a typo, ``--optimzer gd``: the option meant, which argparse
    (before Python 3.14's suggest_on_error) does not say."""
    options = [option for option in parser._option_string_actions if option.startswith("--")]
    for word in words:
        name = word.split("=", 1)[0]
        meant = _OTHER_NAMES.get(name, name.replace("_", "-"))
        if word.startswith("--") and meant not in parser._option_string_actions:  # (a typo: one letter off or two)
            meant = next(iter(difflib.get_close_matches(meant, options, n=1, cutoff=0.8)), meant)
        if word.startswith("--") and meant != name and meant in parser._option_string_actions:
            return f"; for {name}, write {meant}"
    return ""


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def _show_warnings(caught: list[warnings.WarningMessage], rate: float | None = None) -> bool:
    """Print warnings meant for the user as one line each on stderr (advice on the learning rate naming its
    option, with the ``rate`` given), others as Python would; returns whether one of them said that training
    diverged."""
    _flush_stdout()  # in order with what was printed before, also when both streams go to one file
    for warning in caught:
        if not issubclass(warning.category, (RuntimeWarning, UserWarning)):  # not meant for the user: as before
            warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
        else:
            message = " ".join(str(warning.message).split()).replace(SQUASHED_OUTPUT_ADVICE,
                                                                     "give --output-activation identity")
            _to_stderr(f"{PROG}: warning: {message if rate is None else _naming_the_option(message, rate)}")
    return any(issubclass(warning.category, DivergenceWarning) for warning in caught)


#: The library's advice when training diverges, which names no option of this command line.
_LIBRARY_ADVICE = re.compile(r"smaller learning rate(?: or step size| \(or step size\))?")


def _naming_the_option(message: str, rate: float) -> str:
    """``message`` with the library's advice to lower the learning rate (for Armijo: the first trial step) said as
    ``train``'s option that sets it, and its value now."""
    return _LIBRARY_ADVICE.sub(f"smaller learning rate than {rate:g} (--learning-rate)", message)


def _run(args: argparse.Namespace) -> int:
    try:
        with np.errstate(all="ignore"):  # a diverging training run ends with its own one-line error
            status: int = args.handler(args)
            return status
    except BrokenPipeError:  # `predict m.npz ... | head -1` printed "error: [Errno 32] Broken pipe", status 2
        _stdout_to_nowhere()
        return _BROKEN_PIPE
    except (ValueError, OSError) as error:
        if isinstance(error, OSError) and error.filename is None:  # a print that failed (a full disk) names no file
            error = _unwritten_output() or (_output_error(error) if _raised_by_print(error) else error)
        if isinstance(error, OSError) and error.strerror:  # not "[Errno 28] …": the package's own say what failed
            message = error.strerror if error.filename is None else f"{error.filename}: {error.strerror}"
        else:
            message = " ".join(str(error).split()) or type(error).__name__
        return _said(f"error: {message}", 2)
    except FloatingPointError as error:  # training diverged
        return _said(f"error: {' '.join(str(error).split())}", 1)
    except KeyboardInterrupt as interrupt:  # Ctrl-C outside training (fit stops by itself and says so)
        return _said("interrupted" + (f" {interrupt}" if str(interrupt) else ""), INTERRUPTED)


def _said(line: str, status: int) -> int:
    """Print ``PROG: line`` on stderr and return ``status``.  stdout is flushed first, so that the line comes after
    what was printed before it also when both streams go to one file (where stdout is buffered)."""
    try:
        _flush_stdout()
    except (OSError, ValueError):  # a reader that has gone
        _stdout_to_nowhere()
    _to_stderr(f"{PROG}: {line}")
    return status


def _to_stderr(line: str, end: str = "\n") -> None:
    """Print ``line`` on stderr; nothing when there is no stderr (``2>&-`` closed it: Python sets ``sys.stderr`` to
    None, and ``print(file=None)`` writes to stdout, where an error line went in among predict's results), or when
    it cannot be written (``2>&1 | head -1`` after its reader has gone, ``2> FILE`` on a full disk): the exit status
    is still the run's own, where the error raised here made it 1, and Python's failed flush at exit 120."""
    if sys.stderr is not None:
        try:
            print(line, file=sys.stderr, end=end, flush=True)
        except OSError:
            _to_nowhere(sys.stderr)


def _flush_stdout() -> None:
    """``sys.stdout.flush()``; nothing when there is no stdout (``>&-`` closed it: Python sets ``sys.stdout`` to None
    and ``print`` writes nothing), where every run ended in an AttributeError traceback.  An error writing is
    raised as :func:`_output_error`."""
    if sys.stdout is not None:
        try:
            sys.stdout.flush()
        except OSError as error:
            raise _output_error(error) from None


def _output_error(error: OSError) -> OSError:
    """``error`` from writing to stdout, saying so: "error: No space left on device" alone named no file (and after
    ``train > log.txt`` on a full disk the model had been saved).  A reader that has gone (``BrokenPipeError``) is
    returned as it is."""
    if isinstance(error, BrokenPipeError):
        return error
    return OSError(error.errno, f"cannot write the output (standard output): {error.strerror or error}")


def _raised_by_print(error: OSError) -> bool:
    """Whether ``error`` was raised by a ``print`` of this module's own, or of the demo's: where stdout is
    unbuffered (``PYTHONUNBUFFERED=1``, ``python -u``) the print to a full disk fails at once, and holds nothing for
    :func:`_unwritten_output` to find.  A builtin adds no frame: the last one of the traceback is the module's (the
    demo's files are written by other modules, and its own OSErrors name a file)."""
    last = error.__traceback__
    while last is not None and last.tb_next is not None:
        last = last.tb_next
    return last is not None and last.tb_frame.f_globals.get("__name__") in (__name__, "tinygrad_edu.demo")


def _unwritten_output() -> OSError | None:
    """The error of writing what stdout still holds (a ``print`` that failed on a full disk leaves it there), or
    None."""
    try:
        _flush_stdout()
    except OSError as error:
        return error
    return None


def _stdout_to_nowhere() -> None:
    """The rest of the output, flushed at exit, goes nowhere: its reader has gone (no "Broken pipe" at exit)."""
    _to_nowhere(sys.stdout)


def _to_nowhere(stream: Any) -> None:
    """The rest of what ``stream`` (stdout or stderr) is given, flushed at exit too, goes to the null device."""
    with contextlib.suppress(OSError, ValueError):
        descriptor, nowhere = stream.fileno(), os.open(os.devnull, os.O_WRONLY)
        os.dup2(nowhere, descriptor)
        os.close(nowhere)


def _hidden_sizes(words: list[str], given: str) -> str:
    """Every layer size written after ``--hidden`` (``--hidden 12 64,10``, ``--hidden 64, 10``), in order and
    separated by spaces; ``given``'s own where ``--hidden`` is not found among ``words``."""
    for i, word in enumerate(words):
        option, equals, value = word.partition("=")
        if len(option) > 3 and "--hidden".startswith(option):  # (argparse takes --hid for --hidden too)
            written = [value] if equals else list(itertools.takewhile(re.compile(r"[\d,]+").fullmatch, words[i + 1:]))
            if given in written:
                return " ".join(re.findall(r"\d+", " ".join(written)))
    return " ".join(re.findall(r"\d+", given))


def _listed_numbers_hint(word: str, words: list[str]) -> str:
    """For input numbers written as a list (``0.1,0.5``, ``[0.1,0.5]``, and ``0.1, 0.5``: the ``word`` refused
    and the ``words`` of the command line after it): how to write them, separated by spaces (after ``--`` where one
    starts with ``-``, which argparse may take for an option); else ``""``."""
    listed = words[words.index(word):] if word in words else [word]
    text = " ".join(itertools.takewhile(re.compile(r"[-+.,;\[\]()\deE ]+").fullmatch, listed)) or word
    parts = [part for part in re.split(r"[,; ]+", text.strip("[]() ")) if part]
    if not parts or parts == [word] or any(_python_only(part) for part in parts):
        return ""
    try:
        [float(part) for part in parts]
    except ValueError:
        return ""
    dashes = "-- " if any(part.startswith("-") for part in parts) else ""
    return f"; separate the input numbers with spaces, not commas: {PROG} predict MODEL {dashes}{' '.join(parts)}"


# --- output files ------------------------------------------------------------------------------------------
def _check_writable(folder: Path, failure: str) -> None:
    """Fail now, not after training, if no file can be made in ``folder`` (an existing folder): a ``ValueError``
    ``failure: reason`` that names the user's path, not the probe file."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{PROG}-probe-"):
            pass
    except OSError as error:
        raise ValueError(f"{failure}: {error.strerror or error}") from None


def _not_a_file(name: str) -> str:
    """What the existing ``name`` that is no regular file is, for ``train -o``, and what to give instead."""
    if os.path.isdir(name):  # (as -o models/ is told)
        return "it is a folder, not a file; add a file name such as model.npz"
    kind = "a pipe" if stat.S_ISFIFO(os.stat(name).st_mode) else "a device"
    return f"it is {kind}, not a file; give a file name such as model.npz"


def _check_model_path(text: str) -> None:
    """``train -o``, checked before training: a file name, in a folder that exists and is writable."""
    name = os.fsdecode(checked_path(text, "train -o"))
    if name == "-":  # the shell's name of standard output: a file named '-' was written, and the report went there
        raise ValueError("train: cannot save the model to standard output ('-'), where train prints its report; "
                         "give a file name such as model.npz (./- for a file named '-')")
    if os.path.basename(name) in ("", ".", ".."):  # "models/" names a folder: save failed on it after training
        raise ValueError(f"train: cannot save the model to {text}: that names a folder, not a file; add a file "
                         "name such as model.npz")
    if os.path.exists(name) and not os.path.isfile(name):  # (/dev/stdout to a pipe: its realpath names no file)
        raise ValueError(f"train: cannot save the model to {text}: {_not_a_file(name)}")
    output = Path(os.path.realpath(name))  # Path.resolve raised RuntimeError on a loop of links (Python < 3.13)
    if output.is_symlink():  # realpath stops at a loop of links, which save refuses
        raise ValueError(f"train: cannot save the model to {text}: it is a loop of symbolic links")
    if not output.parent.is_dir():
        problem = "is a file, not a folder" if output.parent.exists() else "does not exist"
        raise ValueError(f"train: cannot save the model to {text}: {output.parent} {problem}")
    if output.exists() and not output.is_file():
        raise ValueError(f"train: cannot save the model to {text}: {_not_a_file(str(output))}")
    if output.is_file() and not os.access(output, os.W_OK):  # save refuses it: after training, the model was lost
        raise ValueError(f"train: cannot save the model to {text}: the file is read-only")
    _check_writable(output.parent, f"train: cannot save the model to {text}: cannot write to {output.parent}")


#: What one training sample of each data set is called in ``train``'s first line.
_SAMPLE_NOUNS = {"xsquared": "x² sample", "digits": "training digit"}
#: Why fit stopped (History.stopped), in words.
_STOPPED = {"episodes": "all episodes run", "tol": "stopped: ‖∇C‖ ≤ tol", "no descent step": "stopped: no descent step",
            "zero gradient": "stopped: ‖∇C‖ = 0", "cost goal": "stopped: cost at or below --cost-goal"}


# --- demo --------------------------------------------------------------------------------------------------
def _demo(args: argparse.Namespace) -> int:
    from tinygrad_edu.demo import run_demo

    if args.output.is_dir():  # a new folder, made by run_demo, is writable
        _check_writable(args.output, f"demo: cannot write to the output folder {args.output}")
    return run_demo(args.output, seed=args.seed, quick=args.quick)


# --- train -------------------------------------------------------------------------------------------------
def _optimizer(name: str, model: nn.Module, rate: float, seed: int) -> optim.Optimizer:
    if name == "armijo":
        return optim.Armijo(model, initial_step=rate)
    if name == "random":  # a stream of its own: rng=seed would draw again the numbers of the weights (MLP(rng=seed)),
        # and with --init uniform the first change would be w → 1.2·w − 0.1 for every weight, not a random one
        return optim.RandomSearch(model, scale=rate, rng=seeds.second_stream(seed, "train"))
    if name == "sgd":
        return optim.SGD(model, learning_rate=rate, momentum=0.9)
    if name == "adam":
        return optim.Adam(model, learning_rate=rate)
    return optim.GradientDescent(model, learning_rate=rate)


def _training_data(args: argparse.Namespace, cost_name: str) -> tuple[np.ndarray, np.ndarray, Any, list[int]]:
    """The training inputs and targets, the test split (None for x²) and the layer sizes."""
    hidden = args.hidden or DATA_DEFAULTS[args.data]["hidden"]
    if args.data == "xsquared":
        samples = XSQUARED_SAMPLES if args.samples is None else args.samples
        given = (f"--hidden {' '.join(map(str, hidden))}" if args.hidden and args.samples is None
                 else f"--samples {samples}")  # the option given, not the other's default
        _check_activations_size(samples, hidden, given, "give fewer --samples or narrower --hidden")
        try:
            inputs, targets = xsquared(samples, seed=args.seed)
        except ValueError as error:  # too many samples: name the option
            raise ValueError(f"train --samples {samples}: {error}") from None
        return inputs, targets, None, [1, *hidden, 1]
    fraction = TEST_FRACTION if args.test_fraction is None else args.test_fraction
    try:
        train, test = train_test_split(*load_digits(), test_fraction=fraction, seed=args.seed, stratify=True)
    except ValueError as error:  # a fraction that leaves no test or no training digit: name the option, and advise
        # one (the library's "change test_fraction, …, or give stratify=False" names no option of the command line)
        reason = str(error).partition("; change test_fraction")[0]
        raise ValueError(f"train --test-fraction {fraction:g}: {reason}; give a --test-fraction that leaves every "
                         "digit samples in both parts (0.01 to 0.99 do)") from None
    _check_activations_size(len(train.labels), hidden, f"--hidden {' '.join(map(str, hidden))}",
                            "give narrower --hidden layers")
    # with the squared error, the seed's section 4: the neuron of the right digit should be 1
    targets = np.eye(10)[train.labels] if cost_name == "squared_error" else train.labels
    return train.inputs, targets, test, [64, *hidden, 10]


def _check_activations_size(samples: int, hidden: list[int], option: str, fix: str) -> None:
    """Refuse, before anything is made, a run whose activations (all samples through the widest layer, as the
    costs at the start and the end compute them) would be larger than one array made from data may be: 1e8
    samples of x² were accepted and then killed by the system for lack of memory, without a word."""
    widest = max(hidden)
    if samples * widest > MAX_ARRAY_SIZE:
        raise ValueError(f"train {option}: {samples:,} samples through a layer of {widest:,} neurons would make "
                         f"arrays of {samples * widest:,} numbers; the limit is {MAX_ARRAY_SIZE:,} "
                         f"(tinygrad_edu.data.MAX_ARRAY_SIZE); {fix}")


def _advice(optimizer: optim.Optimizer, rate: float, start: float, end: float, history: History,
            batch: tuple[int, int] | None = None) -> str | None:
    """What to try when the cost did not fall measurably (None when it did); ``batch`` is (samples per update, all
    samples) where training used mini-batches."""
    if end < start * (1 - 1e-6):
        return None
    if isinstance(optimizer, optim.RandomSearch):  # (it may have kept some, each lowering the cost by almost nothing)
        kept = f"{optimizer.accepted} of its {optimizer.proposals}" if optimizer.accepted else "none of its"
        if batch is not None and end > start:  # more episodes, another seed: it rose further (2.468 → 5.855)
            return (f"the cost rose: random search kept {kept} changes of up to ±{rate:g}, each one that lowered the "
                    f"cost of a batch of {batch[0]} samples, which can raise the cost of all {batch[1]}; give "
                    f"--batch-size {batch[1]} (all samples at once: every change kept then lowers their cost) or a "
                    "smaller size of change (--learning-rate)")
        return (f"the cost did not fall{' measurably' if optimizer.accepted else ''}: random search kept {kept} "
                f"changes of up to ±{rate:g}; try another size of change (--learning-rate, "
                f"{LEARNING_RATES['random']:g} by default), more --episodes or another --seed")
    if history.gradient_norm and max(history.gradient_norm) == 0:  # no learning rate moves a zero gradient
        return ("the cost did not fall: its gradient ∇C was 0 in every episode (a ReLU that is 0 on every sample "
                "has slope 0), so no learning rate can change it; try another --seed, --init, --activation or "
                "--output-activation")
    before = optimizer.last_cost_before if isinstance(optimizer, optim.Armijo) else None  # (the failed step's f(x))
    if isinstance(optimizer, optim.Armijo) and optimizer.last_failed and before is not None and \
            len(optimizer.last_trials) > optimizer.max_backtracks and \
            any(not cost <= before for _, cost in optimizer.last_trials):
        # every trial step, down to the last, too large (one of them raised the cost; where none did, they only
        # changed it by less than it can show: too small, below)
        return (f"the cost did not fall: Armijo's {optimizer.max_backtracks} backtracks from its first trial step "
                f"{rate:g} down to {optimizer.last_trials[-1][0]:.3g} found no step that lowers it enough; try a "
                f"smaller learning rate than {rate:g} (--learning-rate)")
    if not end <= start:  # it rose (or is NaN)
        return f"the cost rose: try a smaller learning rate than {rate:g} (--learning-rate)"
    return f"the cost did not fall measurably: try a larger learning rate than {rate:g} (--learning-rate)"


def _print_results(model: nn.Module, test: Any) -> None:
    """The outputs at the seed's test inputs (x²) or the test accuracy (digits)."""
    if test is None:
        samples = np.array([0.1, 0.5, -1.0, 0.01])
        with no_grad():
            outputs = model(samples.reshape(-1, 1)).data.reshape(-1)
        print("  " + "   ".join(f"f({x:g}) = {y:.4g} (x² = {x * x:g})" for x, y in zip(samples, outputs)))
    else:
        with no_grad():
            predicted = model(test.inputs).data.argmax(axis=1)
        print(f"test accuracy: {np.mean(predicted == test.labels):.1%} on {len(test.labels)} held-back digits")


def _check_data_options(args: argparse.Namespace) -> None:
    """Refuse an option that the chosen data set would silently ignore."""
    unused = {"xsquared": ("--test-fraction", args.test_fraction), "digits": ("--samples", args.samples)}
    option, value = unused[args.data]
    if value is not None:
        other = "digits" if args.data == "xsquared" else "xsquared"
        raise ValueError(f"train: {option} {value:g} is for --data {other} only, not for --data {args.data}")


def _network(sizes: list[int], args: argparse.Namespace) -> nn.MLP:
    """The network to train; a size it refuses (too many parameters) is blamed on --hidden."""
    try:
        return nn.MLP(sizes, activation=args.activation, output_activation=args.output_activation, init=args.init,
                      rng=args.seed)
    except ValueError as error:
        raise ValueError(f"train --hidden {' '.join(map(str, sizes[1:-1]))}: {error}") from None


def _train(args: argparse.Namespace) -> int:
    _check_data_options(args)
    defaults = DATA_DEFAULTS[args.data]
    optimizer_name = args.optimizer or defaults["optimizer"]
    rate = args.learning_rate or LEARNING_RATES[optimizer_name]
    episodes = args.episodes or defaults["episodes"]
    batch_size = args.batch_size or defaults["batch_size"]
    cost_name = args.cost or defaults["cost"]
    _check_model_path(args.output)
    inputs, targets, test, sizes = _training_data(args, cost_name)
    cost = cross_entropy if cost_name == "cross_entropy" else squared_error
    if cost is cross_entropy and sizes[-1] < 2:
        raise ValueError("train: the cross entropy cost needs several output neurons; use --cost squared_error "
                         "for xsquared")
    model = _network(sizes, args)
    try:
        optimizer = _optimizer(optimizer_name, model, rate, args.seed)
    except ValueError as error:  # random search refuses a change size beyond float64: name the option that set it
        raise ValueError(f"train --learning-rate {rate:g}: {error}") from None
    print(f"training {'-'.join(map(str, sizes))} ({args.activation}, output {args.output_activation}, "
          f"{model.num_parameters()} parameters) on {counted(len(inputs), _SAMPLE_NOUNS[args.data])} with "
          f"{optimizer!r}, {cost_name}, {counted(episodes, 'episode')}"
          f"{'' if args.cost_goal is None else f' at most, until the cost is at or below {args.cost_goal:g}'}, "
          f"{'all samples' if batch_size is None or batch_size >= len(inputs) else batch_size} per update")
    with no_grad():  # with mini-batches, the history's first cost comes after an episode of updates
        start = float(cost(model(inputs), targets).item())
    if args.progress and importlib.util.find_spec("tqdm") is None:
        _flush_stdout()  # after the line above, also when both streams go to one file
        _to_stderr(f"{PROG}: warning: --progress needs tqdm (pip install tqdm, or the 'progress' extra); "
                   "training without a progress bar")
    began = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:  # shown now, before the results; dropped on an error
        warnings.filterwarnings("ignore", "fit: interrupted", UserWarning)  # (the results say "(interrupted)")
        try:
            history = fit(model, inputs, targets, cost=cost, optimizer=optimizer, episodes=episodes,
                          batch_size=batch_size, seed=args.seed, cost_goal=args.cost_goal, progress=args.progress)
        except FloatingPointError as error:  # training diverged: _run prints it as an error
            raise FloatingPointError(_naming_the_option(str(error), rate)) from None
    seconds = time.perf_counter() - began
    _save(model, args.output)  # before the report, so that a Ctrl-C during it loses no model
    interrupted = history.stopped == "interrupted"
    try:
        batch = None if batch_size is None or batch_size >= len(inputs) else (batch_size, len(inputs))
        diverged = _report_training(history, caught, optimizer, rate, start, seconds, batch, args.cost_goal)
        _print_results(model, test)
        note = " although training diverged" if diverged else " as it was when interrupted" if interrupted else ""
        pasted = os.path.join(".", args.output) if args.output.startswith("-") else args.output  # not an option
        print(f"saved the model to {args.output}{note}; try: {PROG} predict {shlex.quote(pasted)} "
              + ("0.1 0.5 -1 0.01" if test is None else "--inputs-file FILE"))
    except KeyboardInterrupt:
        raise KeyboardInterrupt(f"after training: the model was saved to {args.output}") from None
    return INTERRUPTED if interrupted else 0


def _report_training(history: History, caught: list[warnings.WarningMessage], optimizer: optim.Optimizer,
                     rate: float, start: float, seconds: float, batch: tuple[int, int] | None = None,
                     cost_goal: float | None = None) -> bool:
    """How training went (episodes, time, why it stopped, the cost at the start and at the end), its warnings and
    advice (``batch``: as :func:`_advice` takes it); returns whether it diverged."""
    end = math.nan if history.final_cost is None else history.final_cost
    stopped = _STOPPED.get(history.stopped, history.stopped)
    if history.stopped == "episodes" and cost_goal is not None:  # (--cost-goal given and not reached by an episode's
        # cost, which the goal is checked on: the cost after the last update, at the end, may lie below it)
        stopped += f", no episode's cost at or below --cost-goal {cost_goal:g}, the last's {history.cost[-1]:.4g}"
    print(f"{counted(history.episodes, 'episode')} in {seconds:.2f} s ({stopped}): "
          f"cost {start:.4g} at the start, {end:.4g} at the end")
    diverged = _show_warnings(caught, rate)
    advice = None if history.stopped == "interrupted" else _advice(optimizer, rate, start, end, history, batch)
    if advice:
        print(advice)
    return diverged


def _save(model: nn.Module, path: str) -> None:
    """``model.save(path)``; a Ctrl-C during it says that ``path`` was not written (the model file is written under
    another name and then renamed: never half a model)."""
    try:
        model.save(path)
    except KeyboardInterrupt:
        raise KeyboardInterrupt(f"while saving the model: {path} was not written") from None


# --- predict -----------------------------------------------------------------------------------------------
def _read_numbers(path: str) -> tuple[np.ndarray, list[int]]:
    """The numbers in a text file (a regular file: a pipe or device is refused rather than waited on; ``-`` reads
    standard input), and how many of them each line holds."""
    name = _inputs_name(path)
    if path == "-":
        data = _standard_input()
    else:
        with _opened_inputs_file(path) as file:
            if os.fstat(file.fileno()).st_size > MAX_INPUTS_FILE_BYTES:
                raise ValueError(f"predict: {name} is larger than {MAX_INPUTS_FILE_BYTES >> 20} MiB")
            data = file.read()
    try:
        text = decoded_text(data)  # (as Windows editors and PowerShell save it too)
    except UnicodeDecodeError:
        raise ValueError(f"predict: {name} is not a text file of numbers (UTF-8 or UTF-16 text)") from None
    numbers = array.array("d")  # 8 bytes a number, and no copy for numpy (a list of Python floats took 32 and a copy)
    counts: list[int] = []
    del data  # (decoded: the file's bytes are not needed any more)
    # lines as an editor counts them (str.splitlines also breaks at form feeds and other separators)
    for line_number, line in enumerate(_lines(text.replace("\r\n", "\n").replace("\r", "\n")), start=1):
        fields = line.split(",")
        if not numbers and _pandas_index_header(fields):  # to_csv(path) of a DataFrame or Series: ",0,1,2"
            raise ValueError(f"predict: {name} line {line_number} starts with an empty field, the header pandas' "
                             "to_csv writes above the index it adds as a first column, not a sample: write the file "
                             "with to_csv(path, header=False, index=False)")
        empty = next((i for i, field in enumerate(fields[:-1]) if not field.strip()), None)
        if empty is not None:  # "0.5,,0.25": a missing value (a trailing comma is none)
            column = sum(len(field) + 1 for field in fields[:empty + 1])  # the comma that ends the empty field
            raise ValueError(f"predict: {name} line {line_number}, column {column}: an empty field between commas "
                             "(a missing value?); every sample needs all its numbers")
        words = _WORD.findall(line)
        if not numbers and len(words) >= 3 and words == [str(i) for i in range(len(words))]:
            shown = ", ".join(words) if len(words) <= 4 else f"0, 1, …, {len(words) - 1}"  # (not "0, 1, …, 2")
            raise ValueError(f"predict: {name} line {line_number} holds {shown}, the header pandas' "
                             "to_csv writes for columns without names, not a sample: write the file with "
                             "to_csv(path, header=False, index=False) (a sample of these numbers: write its 0 as 0.0)")
        values = _finite_numbers(words)  # a line of numbers at once: a call per word took most of the time
        if values is not None:
            numbers.extend(values)
        else:  # (a word that is no number before the first number: a header line above the samples?)
            for word in _WORD.finditer(line):
                numbers.append(_file_number(word, f"{name} line {line_number}", header=not numbers))
        counts.append(len(words))
    return np.frombuffer(numbers, dtype=float), counts


def _lines(text: str) -> Iterator[str]:
    """The lines of ``text`` that ``text.split("\\n")`` gives, one at a time: the list of a large file's short lines
    took three times the file's size."""
    start = 0
    while (end := text.find("\n", start)) >= 0:
        yield text[start:end]
        start = end + 1
    yield text[start:]


def _finite_numbers(words: list[str]) -> list[float] | None:
    """The numbers the ``words`` of a line are, if each is a number and all are finite; else None, and the line is
    read word by word (``_file_number``), which says what is wrong (None also for finite numbers whose sum
    overflows, which that reading takes)."""
    try:
        values = list(map(float, words))
    except ValueError:
        return None
    if any(map(_python_only, words)):  # Python's float() reads "1_000" and "١٢"; numpy.loadtxt and csv files do not
        return None
    return values if math.isfinite(sum(values)) else None


def _pandas_index_header(fields: list[str]) -> bool:
    """Whether a line's comma-separated ``fields`` are the header pandas' ``to_csv`` writes with its index: an empty
    field, then the columns' names, 0, 1, …, k − 1 for columns without names (``,0,1,2``), or words that are no
    numbers (``,x``).  A first number missing from a sample (``,0.5,0.25``) is none."""
    names = [field.strip() for field in fields[1:]]
    if fields[0].strip() or not names or not all(names):
        return False
    return names == [str(i) for i in range(len(names))] or not all(map(_is_number, names))


def _opened_inputs_file(path: str) -> BinaryIO:
    """``open_regular_file`` for ``--inputs-file``; a named pipe (also bash's ``<(command)``, which is one) is refused
    with the way to read a pipe: as standard input."""
    try:
        return open_regular_file(path, "predict --inputs-file")
    except ValueError as error:
        if "a named pipe" not in str(error):
            raise
        raise ValueError(f"{error}; to read a pipe, give it as standard input: COMMAND | {PROG} predict MODEL "
                         "--inputs-file -") from None


#: A word of an inputs file: what lies between spaces (tabs, new lines) and commas.
_WORD = re.compile(r"[^\s,]+")


def _file_number(word: re.Match[str], line: str, header: bool = False) -> float:
    """The number ``word`` of an inputs file's ``line`` (such as ``'inputs.txt' line 3``); one that is not a number,
    or not a finite one, is an error naming the line and the word (and the column of a semicolon in it).  A word
    that starts with ``#`` (numpy's ``savetxt`` writes its header as such a comment), or any other before the file's
    first number (``header``: a column name), is said to be a line to remove."""
    text = word.group()
    if ";" in text:  # a spreadsheet's CSV with decimal commas: "0,5;1,25"
        raise ValueError(f"predict: {line}, column {word.start() + text.index(';') + 1}: a semicolon, which "
                         "separates no numbers here: use spaces, tabs, commas or new lines, and decimal points (0.5, "
                         "not 0,5)")
    try:
        if _python_only(text):  # float("1_000") is 1000.0, a digit separator of Python's source, no number numpy reads
            raise ValueError(text)
        value = float(text)
    except ValueError:
        if text.startswith("#"):
            hint = ("; a comment (numpy's savetxt writes its header as one): remove the line, or save without "
                    "header=")
        elif len(text) > 2 and text[0] == text[-1] in "\"'" and _is_number(text[1:-1]):
            hint = "; a number in quotes, as a CSV file quoting every field holds them: save the numbers unquoted"
        elif _is_number(text) and _python_only(text):
            hint = "; " + _python_only(text, reader="a file's")
        elif "\x1a" in text:  # what copy con and old DOS editors put after the last line
            hint = "; Ctrl-Z (\\x1a), the end-of-file mark of old DOS tools: remove it"
        elif header:
            hint = "; a header line above the samples? the file must hold only numbers: remove the line"
        else:
            hint = ""
        raise ValueError(f"predict: {line}: {_echoed(text)} is not a number{hint}") from None
    if not math.isfinite(value):  # (NaN, inf, or a number beyond float64 such as 1e400)
        raise ValueError(f"predict: {line}: {_echoed(text)} is not a finite number (NaN, inf, or beyond float64's "
                         "1.8e308)")
    return value


def _inputs_name(path: str) -> str:
    """The inputs file as messages name it: its path, quoted, or standard input for ``-``."""
    return "standard input" if path == "-" else repr(path)


def _standard_input() -> bytes:
    """All of standard input (``--inputs-file -``), up to the size a file may have."""
    if sys.stdin is None:  # (closed: <&-)
        raise ValueError("predict --inputs-file -: standard input is closed")
    data = sys.stdin.buffer.read(MAX_INPUTS_FILE_BYTES + 1)
    if len(data) > MAX_INPUTS_FILE_BYTES:
        raise ValueError(f"predict: standard input holds more than {MAX_INPUTS_FILE_BYTES >> 20} MiB")
    return data


def _check_lines(path: str, counts: list[int], start: int, size: int) -> None:
    """Refuse a file whose lines do not hold whole samples of ``size`` numbers (the file's numbers coming after
    ``start`` others): lines of 3 numbers for a 2-input model were read as the samples [1, 2], [3, 4], [5, 6]
    without a word.  A line may hold several whole samples, or a part of one (a digit's 64 pixels as 8 lines of 8),
    but not the end of one sample and the start of the next."""
    first = start
    for line_number, count in enumerate(counts, start=1):
        last = first + count  # the line holds the numbers first … last − 1
        if count and first // size != (last - 1) // size and (first % size or last % size):
            after = f" after the {counted(start, 'number')} on the command line" if start % size else ""
            raise ValueError(f"predict: {_inputs_name(path)} line {line_number} holds {counted(count, 'number')}"
                             f"{after}, which do not make whole samples of the model's {size} inputs (a sample "
                             f"would take numbers from two lines); write {size} numbers per sample, one sample "
                             "(or several) per line")
        first = last


#: What files ``predict`` can rebuild a model from, for errors about those it cannot.
_PREDICT_READS = (f"predict reads the files '{PROG} train -o FILE' writes and those saved by the save method of an "
                  "nn.MLP or an nn.Network whose layers have named activations")


def _load_model(path: str) -> nn.Network:
    """``nn.load(path)``, its advice for a file it cannot rebuild a model from (a state_dict saved with numpy, a
    file without the architecture: advice only Python can follow) followed or replaced by what someone at the
    shell can do.  ``-`` (no such file) is no model: standard input is for the input numbers."""
    if path == "-" and not os.path.lexists(path):
        raise ValueError(f"predict: MODEL is a .npz file (as train saves it), not read from standard input ('-'); "
                         f"'-' is for the input numbers: COMMAND | {PROG} predict MODEL --inputs-file -")
    try:
        return nn.load(path)
    except ModelFileError as error:
        if "'__format__' is missing" not in str(error):
            raise
        raise ModelFileError(f"{error}; {_PREDICT_READS}") from None
    except ValueError as error:  # nn.load's "build the model yourself and call model.load(path)"
        if "stores parameters but no architecture" not in str(error):
            raise
        raise ValueError(f"predict: {path!r} stores parameters but no architecture (layer sizes and activations), "
                         f"so predict cannot rebuild the model; {_PREDICT_READS}; a model with a custom activation "
                         "or forward can be loaded only in Python, into the model built as before") from None


def _predict(args: argparse.Namespace) -> int:
    model = _load_model(args.model)
    numbers, counts = np.array(args.inputs, dtype=float), None
    if args.inputs_file is not None:
        from_file, counts = _read_numbers(args.inputs_file)
        numbers = np.concatenate([numbers, from_file])
    size = model.sizes[0]
    if numbers.size == 0:
        raise ValueError(f"predict: no inputs given; the model takes {counted(size, 'number')} per sample")
    if numbers.size % size:
        raise ValueError(f"predict: the model takes {size} inputs per sample, but {counted(numbers.size, 'number')} "
                         f"{'was' if numbers.size == 1 else 'were'} given (not a multiple of {size})")
    if counts is not None:
        _check_lines(args.inputs_file, counts, len(args.inputs), size)
    if not np.isfinite(numbers).all():
        raise ValueError("predict: the inputs hold NaN or inf")
    samples = numbers.reshape(-1, size)
    # a part at a time: all of a 64 MiB file's samples at once through a layer of 12 took gigabytes (MemoryError)
    rows = max(1, _PREDICT_PART_SIZE // max(model.sizes))
    with no_grad():
        outputs = np.concatenate([model(samples[at:at + rows]).data for at in range(0, len(samples), rows)])
    overflowed = ~np.isfinite(outputs).all(axis=1)
    if overflowed.any():  # a saved model's numbers are finite, but its inputs or its weights may be too large
        advice = _overflow_advice(model, samples[overflowed])
        warnings.warn(f"predict: {counted(int(overflowed.sum()), 'sample')} gave NaN or inf: the numbers overflowed "
                      f"inside the model (float64 reaches only 1.8e308); {advice}", RuntimeWarning, stacklevel=2)
    for x, y in zip(samples, outputs):
        left = f"{x[0]:g}" if size == 1 else f"[{', '.join(f'{v:g}' for v in x[:4])}{', …' if size > 4 else ''}]"
        chosen = "nan" if np.isnan(y).any() else int(y.argmax())  # (argmax takes a NaN for the largest: "class 0")
        right = f"{y[0]:.6g}" if y.size == 1 else f"[{', '.join(f'{v:.4g}' for v in y)}]  class {chosen}"
        print(f"{left} → {right}")
    return 0


def _overflow_advice(model: nn.Network, samples: np.ndarray) -> str:
    """What to do about ``samples`` that overflowed in ``model``: smaller inputs where the same samples scaled down to
    numbers of size 1 go through it (inputs of 1e300), else the model's own weights and biases are too large (a model
    that overflows at inputs of size 1, where smaller inputs are no answer)."""
    largest = np.abs(samples).max(axis=1, keepdims=True)
    with no_grad(), np.errstate(all="ignore"):
        scaled = model(samples / np.maximum(largest, 1.0)).data
    if np.isfinite(scaled).all():
        return f"the inputs are too large (up to {float(largest.max()):.3g}): give smaller inputs"
    weights = max(float(np.abs(p.data).max(initial=0.0)) for p in model.parameters())
    return (f"it overflows at inputs of size 1 too: its weights and biases (up to {weights:.3g}) are too large, "
            "smaller inputs will not help: train the model again (a smaller learning rate)")


def __dir__() -> list[str]:
    """``dir()`` of this module lists its API (``__all__``), not its helpers and imports."""
    return sorted(__all__)


if __name__ == "__main__":  # python -m tinygrad_edu.cli, as python -m tinygrad_edu
    sys.exit(main())
