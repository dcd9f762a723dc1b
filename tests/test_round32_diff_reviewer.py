"""A senior reviewer's pass over round 32's changes (a493870..HEAD): fit's flat-targets warning and cost checks,
the CLI's advice for an option left without its file name, the SIGTERM handler when main() is called from Python,
the ≈ of the dependency tree's chain lines, and grad modes in async generators."""

from __future__ import annotations

import asyncio
import math
import re
import signal
import threading
import warnings

import numpy as np
import pytest

from tinygrad_edu import Value, cli, nn, no_grad, optim
from tinygrad_edu.demo import chain_cost
from tinygrad_edu.dependency_tree import dependency_tree
from tinygrad_edu.training import fit


class _OneInputNet(nn.Module):
    """A 1-h-1 network written by hand, micrograd style: a (n, 1) column of inputs times a (h,) row of weights."""

    def __init__(self, hidden: int, rng: np.random.Generator) -> None:
        self.w1 = Value(rng.normal(size=hidden), requires_grad=True)
        self.b1 = Value(np.zeros(hidden), requires_grad=True)
        self.w2 = Value(rng.normal(size=(hidden, 1)), requires_grad=True)

    def __call__(self, x: Value) -> Value:
        return (x * self.w1 + self.b1).tanh() @ self.w2


def _flat_cost(out: Value, targets: np.ndarray) -> Value:
    """A cost of one's own pairing each output with its own flat target, as the warning advises."""
    return ((out.reshape(-1) - targets) ** 2).mean()


def _pairing_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "pair" in str(w.message)]


def test_no_pairing_warning_for_a_models_own_broadcast() -> None:
    rng = np.random.default_rng(0)
    hidden = 8
    x = rng.normal(size=(hidden, 1))  # full batch of as many samples as hidden neurons
    net = _OneInputNet(hidden, rng)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit(net, x, np.sin(x[:, 0]), cost=_flat_cost, optimizer=optim.GradientDescent(net, learning_rate=0.1),
            episodes=1, progress=False)
    assert _pairing_warnings(caught) == []


def test_pairing_warning_still_names_outputs_against_flat_targets() -> None:
    """Guard: the case the warning is for, outputs (n, 1) minus targets (n,) in a cost of one's own, and the cost it
    averages is indeed over n² pairs (checked against numpy)."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 2))
    y = rng.normal(size=5)
    net = nn.MLP([2, 3, 1], rng=0)
    wrong = lambda out, t: ((out - t) ** 2).mean()  # noqa: E731
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outputs = net(Value(x)).data  # before any update
        history = fit(net, x, y, cost=wrong, optimizer=optim.GradientDescent(net, learning_rate=0.1), episodes=1,
                      progress=False)
    messages = _pairing_warnings(caught)
    assert len(messages) == 1 and "(5, 1)" in messages[0] and "(5,)" in messages[0] and "(5, 5)" in messages[0]
    assert math.isclose(history.cost[0], float(((outputs - y) ** 2).mean()), rel_tol=1e-12)
    assert ((outputs - y) ** 2).shape == (5, 5)


def test_a_model_class_as_cost_is_not_told_to_pass_an_instance() -> None:
    x = np.random.default_rng(2).normal(size=(6, 2))
    net = nn.MLP([2, 3, 1], rng=0)
    with pytest.raises(TypeError) as raised:
        fit(net, x, x[:, :1], cost=nn.MLP, optimizer=optim.GradientDescent(net, learning_rate=0.1), episodes=1,
            progress=False)
    message = str(raised.value)
    assert "cost=MLP()" not in message and "model" in message and "losses.squared_error" in message


def test_a_cost_class_of_ones_own_is_told_to_pass_an_instance_which_then_trains() -> None:
    """Guard: the advice for a class with __call__(outputs, targets) works when followed; so does a Module used as
    a cost on purpose, and a functools.partial of a cost with a keyword."""
    import functools

    class Squared:
        def __call__(self, out: Value, t: np.ndarray) -> Value:
            return ((out - t) ** 2).mean()

    class SquaredModule(nn.Module):
        def forward(self, out: Value, t: np.ndarray) -> Value:
            return ((out - t) ** 2).mean()

    def weighted(out: Value, t: np.ndarray, weight: float) -> Value:
        return ((out - t) ** 2).mean() * weight

    x = np.random.default_rng(3).normal(size=(6, 2))
    with pytest.raises(TypeError, match=r"cost=Squared\(\)"):
        net = nn.MLP([2, 3, 1], rng=0)
        fit(net, x, x[:, :1], cost=Squared, optimizer=optim.GradientDescent(net, learning_rate=0.1), episodes=1,
            progress=False)
    for cost, factor in ((Squared(), 1.0), (SquaredModule(), 1.0), (functools.partial(weighted, weight=3.0), 3.0)):
        net = nn.MLP([2, 3, 1], rng=0)
        expected = float(((net(Value(x)).data - x[:, :1]) ** 2).mean())  # before any update
        history = fit(net, x, x[:, :1], cost=cost, optimizer=optim.GradientDescent(net, learning_rate=0.1),
                      episodes=1, progress=False)
        assert math.isclose(history.cost[0], factor * expected, rel_tol=1e-12)


def test_an_abbreviated_path_option_left_without_its_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["predict", "model.npz", "--inputs"]) == 2
    err = capsys.readouterr().err
    assert "no name follows it" in err and "starts with '-'" not in err


def test_a_path_option_followed_by_an_option_keeps_its_advice(capsys: pytest.CaptureFixture[str]) -> None:
    """Guard: `-o` then another option, and `-o` last, each keep the advice that fits them."""
    assert cli.main(["train", "-o", "--episodes", "3"]) == 2
    assert "--output=NAME" in capsys.readouterr().err
    assert cli.main(["train", "--episodes", "3", "-o"]) == 2
    assert "no name follows it" in capsys.readouterr().err


def test_main_from_python_leaves_sigterm_as_it_found_it() -> None:
    """Guard: main() called from Python (twice, with the default handler, with a handler of the caller's, and from
    a thread) leaves SIGTERM's handler as it was."""
    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        assert cli.main(["--version"]) == 0 and cli.main(["--version"]) == 0
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL

        def own(signum: int, frame: object) -> None:  # pragma: no cover (never sent)
            pass

        signal.signal(signal.SIGTERM, own)
        assert cli.main(["--version"]) == 0
        assert signal.getsignal(signal.SIGTERM) is own
        results: list[int] = []
        thread = threading.Thread(target=lambda: results.append(cli.main(["--version"])))
        thread.start()
        thread.join()
        assert results == [0] and signal.getsignal(signal.SIGTERM) is own
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_chain_lines_say_equals_only_where_the_printed_numbers_work_out() -> None:
    """Guard: each chain line's = or ≈ agrees with the product of its printed factors (negative ones in
    parentheses, exponents too) rounded as the total is printed, recomputed here from the text alone."""
    seen = set()
    for seed in range(8):
        tree = dependency_tree(chain_cost(layers=4, x=-0.9 + 0.25 * seed, seed=seed))
        for precision in (2, 3):
            for name, node in tree.nodes.items():
                if node.kind not in ("weight", "bias"):
                    continue
                text = " ".join(tree.chain_lines(name, precision=precision, width=400))
                if not text or " + " in text:
                    continue
                match = re.fullmatch(r"chain: (.*) ([=≈]) (\S+)", text)
                assert match, text
                factors = [float(f.strip("()")) for f in match.group(1).split(" · ")]
                worked_out = f"{math.prod(factors):.{precision}g}"
                total = match.group(3)
                assert (match.group(2) == "=") == (float(worked_out) == float(total)), text
                seen.add(match.group(2))
    assert seen == {"=", "≈"}  # (both kinds of line were checked)


def test_an_async_generator_under_no_grad_records_nothing_in_its_steps() -> None:
    """Guard: each step of an async generator decorated with no_grad runs without recording, and the caller's
    recording between steps is on."""
    w = Value(np.array([2.0]), requires_grad=True)
    seen: list[tuple[bool, bool]] = []

    @no_grad()
    async def steps():  # type: ignore[no-untyped-def]
        for _ in range(2):
            await asyncio.sleep(0)
            yield (w * 3.0).requires_grad

    async def consume() -> None:
        async for inside in steps():
            seen.append((inside, (w * 3.0).requires_grad))

    asyncio.run(consume())
    assert seen == [(False, True), (False, True)]
