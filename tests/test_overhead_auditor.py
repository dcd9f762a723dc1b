"""An engineer checking that this round's checks and advice cost nothing where it matters.

The overheads themselves were measured with timeit against the round's start (never asserted here: timings are no
test).  What is pinned is the behaviour the cheaper code must keep: a misspelt optimizer keyword is still named on
every construction (its signature is now read once per function), fit still refuses a cost that cannot take
(outputs, targets) on every call (a cost found to take them is remembered), the flat-targets warning still comes on
every call for a cost of one's own, and the dependency tree's chain lines and the player's rows still say ``=``
exactly where the numbers as printed work out.  And one defect of the tree's new ``≈`` computation: math.fsum
refused a sum with inf and −inf (a diverged graph, drawn as it is) that the line printed before.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from tinygrad_edu import Op, Value, checks, losses, nn, optim
from tinygrad_edu.dependency_tree import DependencyTree, TreeEdge, TreeNode, dependency_tree
from tinygrad_edu.notation import format_number
from tinygrad_edu.player import tree_steps
from tinygrad_edu.training import fit


def _two_uses(big: float, other: float) -> Value:
    """C = z·big + z·other with z = w·x: z has two uses, ∂C/∂z = big + other."""
    w = Value(np.array(1.0), label="w")
    x = Value(np.array(1.0), requires_grad=False, label="x")
    z = w * x
    z.label = "z"
    a, b = z * big, z * other
    a.label, b.label = "a", "b"
    cost = a + b
    cost.label = "C"
    with np.errstate(all="ignore"):
        cost.backward()
    return cost


# --- the defect ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("big, other, expected", [(np.inf, -np.inf, "nan"), (1e308, 1e308, "inf")],
                         ids=["inf - inf", "overflow"])
def test_chain_lines_of_a_diverged_sum_print_it_rather_than_raise(big, other, expected) -> None:
    with np.errstate(all="ignore"):
        tree = dependency_tree(_two_uses(big, other))
        (line,) = tree.chain_lines("z")
    assert line.startswith("chain: ") and " + " in line
    assert line.endswith(f"= {expected}")  # (inf + (−inf) is NaN; 1e308 + 1e308 overflows to inf)


# --- guards: the misspelt-keyword advice, now read from a remembered signature --------------------------------------

def test_a_misspelt_optimizer_keyword_is_named_on_every_construction() -> None:
    net = nn.MLP([2, 3, 1], rng=0)
    for _ in range(3):  # (the first reads the signature, the others use what was read)
        with pytest.raises(TypeError, match=r"^Adam: there is no argument learnig_rate=; did you mean "
                                            r"learning_rate=\?$"):
            optim.Adam(net, learnig_rate=0.01)
        assert optim.Adam(net, learning_rate=0.01, betas=(0.9, 0.99)).learning_rate == 0.01


def test_misspelt_keyword_reads_each_function_its_own_and_any_callable() -> None:
    class Mine(optim.GradientDescent):
        def __init__(self, params, learning_rate: float = 0.1, *, warmup: int = 0) -> None:
            super().__init__(params, learning_rate)
            self.warmup = warmup

    class Free(optim.GradientDescent):
        def __init__(self, params, **settings) -> None:
            super().__init__(params, settings.pop("learning_rate", 0.1))

    net = nn.MLP([2, 1], rng=0)
    assert Mine(net, warmup=3).warmup == 3
    with pytest.raises(TypeError, match="did you mean warmup="):
        Mine(net, warmpu=3)
    assert checks.misspelt_keyword(optim.GradientDescent.__init__, ["warmpu"]) == ""  # not Mine's parameter
    assert checks.misspelt_keyword(Free.__init__, ["learnin_rate"]) == ""  # **settings takes any keyword

    class Unhashable:  # (no weak reference and no hash: read every time)
        __slots__ = ()
        __hash__ = None  # type: ignore[assignment]

        def __call__(self, outputs, targets, *, scale=1.0):
            return outputs

    for _ in range(2):
        assert checks.misspelt_keyword(Unhashable(), ["scael"]) == "there is no argument scael=; did you mean scale=?"


# --- guards: fit's cost check, now remembered for a cost that passed ------------------------------------------------

def test_fit_refuses_a_cost_that_cannot_take_outputs_and_targets_on_every_call() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 2)), rng.normal(size=(8, 1))
    net = nn.MLP([2, 1], rng=0)
    opt = optim.GradientDescent(net, learning_rate=0.01)

    def one_argument(outputs):
        return outputs.sum()

    for _ in range(2):
        fit(net, x, y, cost=losses.squared_error, optimizer=opt, episodes=1, progress=False)
        with pytest.raises(TypeError, match=r"^fit: cost is called cost\(outputs, targets\), but one_argument"):
            fit(net, x, y, cost=one_argument, optimizer=opt, episodes=1, progress=False)
        with pytest.raises(TypeError, match=r"^fit: cost is a model \(MLP\)"):
            fit(net, x, y, cost=nn.MLP([1, 1], rng=1), optimizer=opt, episodes=1, progress=False)


def test_fit_takes_a_cost_that_cannot_be_remembered() -> None:
    class Halved:  # unhashable (eq without hash), as a dataclass's instances are
        def __eq__(self, other: object) -> bool:
            return isinstance(other, Halved)

        __hash__ = None  # type: ignore[assignment]

        def __call__(self, outputs, targets):
            return losses.squared_error(outputs, targets) * 0.5

    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(8, 2)), rng.normal(size=(8, 1))
    net = nn.MLP([2, 1], rng=0)
    opt = optim.GradientDescent(net, learning_rate=0.01)
    for _ in range(2):
        history = fit(net, x, y, cost=Halved(), optimizer=opt, episodes=1, progress=False)
        assert history.cost[0] == pytest.approx(0.5 * float(losses.squared_error(net(x), y)), rel=0.2)


# --- guards: the flat-targets warning, walked only for a cost of one's own -------------------------------------------

def test_fit_warns_on_every_call_where_flat_targets_meet_a_column_in_a_cost_of_ones_own() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(6, 2)), rng.normal(size=6)
    net = nn.MLP([2, 1], rng=0)
    opt = optim.GradientDescent(net, learning_rate=0.01)

    def paired(outputs, targets):
        return ((outputs - targets) ** 2).mean()  # (6, 1) against (6,): a (6, 6) table

    for _ in range(2):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fit(net, x, y, cost=paired, optimizer=opt, episodes=1, progress=False)
        assert [str(w.message) for w in caught if "into shape (6, 6)" in str(w.message)]


def test_fit_gives_the_librarys_costs_no_flat_targets_warning() -> None:
    rng = np.random.default_rng(3)
    x, labels = rng.normal(size=(6, 2)), rng.integers(0, 3, size=6)
    net = nn.MLP([2, 3], output_activation="identity", rng=0)  # (logits: a sigmoid output warns)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit(net, x, labels, cost=losses.cross_entropy, optimizer=optim.GradientDescent(net, learning_rate=0.1),
            episodes=2, progress=False)


# --- guards: "=" and "≈" in the tree's chain lines and the player's rows --------------------------------------------

def _tree(edges: list[tuple[str, str, float]], kinds: dict[str, str]) -> DependencyTree:
    nodes = {name: TreeNode(name, Value(np.array(1.0)), 1.0, None, kind) for name, kind in kinds.items()}
    return DependencyTree("C", nodes, [TreeEdge(parent, child, number) for parent, child, number in edges])


def test_chain_lines_say_equals_only_where_the_printed_factors_work_out() -> None:
    kinds = {"C": "cost", "α": "activation", "z": "pre-activation", "w": "weight"}
    rounded = _tree([("w", "z", 0.784), ("z", "α", 0.234), ("α", "C", 0.754)], kinds)
    # 0.784·0.234·0.754 = 0.1383 prints 0.14, but 0.78·0.23·0.75 = 0.1346 prints 0.13
    assert rounded.chain_lines("w", precision=2) == ["chain: 0.78 · 0.23 · 0.75 ≈ 0.14"]
    exact = _tree([("w", "z", 0.5), ("z", "α", -0.25), ("α", "C", 2.0)], kinds)
    assert exact.chain_lines("w", precision=2) == ["chain: 0.5 · (-0.25) · 2 = -0.25"]


def test_chain_lines_of_a_value_with_two_uses_sum_what_arrives_times_the_local_derivative() -> None:
    kinds = {"C": "cost", "a": "activation", "b": "activation", "z": "pre-activation"}
    tree = _tree([("a", "C", 2.0), ("b", "C", 4.0), ("z", "a", 0.5), ("z", "b", -0.25)], kinds)
    assert tree.chain_lines("z") == ["chain: 2·0.5 + 4·(-0.25) = 0"]  # 1 − 1
    rounded = _tree([("a", "C", 1.0), ("b", "C", 1.0), ("z", "a", 0.126), ("z", "b", 0.126)], kinds)
    assert rounded.chain_lines("z", precision=2) == ["chain: 1·0.13 + 1·0.13 ≈ 0.25"]  # 0.252, printed 0.26


def test_the_players_tree_rows_say_equals_exactly_where_the_printed_numbers_multiply_out() -> None:
    net = nn.MLP([1, 1, 1, 1], activation="sigmoid", rng=5)
    cost = ((net(Value(np.array([[0.7]]), requires_grad=False)) - 1.0) ** 2).sum()
    cost.backward()
    steps = tree_steps(cost, dependency_tree(cost), precision=2)
    rows = [re.sub("<[^>]+>", "", cell) for step in steps for cell in re.findall(r"<td>([^<]* × [^<]*)</td>",
                                                                                 step.html)]
    assert len(rows) >= 5
    signs = set()
    for row in rows:
        arriving, factor, sign, product = re.fullmatch(r"(\S+) × \(?(\S+?)\)? ([=≈]) (\S+)", row).groups()
        works_out = format_number(float(arriving) * float(factor), 2) == product
        assert (sign == "=") == works_out, row
        signs.add(sign)
    assert signs == {"=", "≈"}  # (both cases met)


@pytest.mark.parametrize("cls", [Value, Op, nn.Layer, optim.Optimizer])
def test_the_hot_paths_classes_define_no_attribute_hooks(cls) -> None:
    """A class with ``__getattr__`` (or its own ``__getattribute__``) has every attribute looked up the slow way by
    CPython, found or not: an ``Op.__getattr__`` for advice made the x² update 11 % slower.  Advice for other
    libraries' names is a ``checks.Absent`` class attribute instead."""
    hooks = [name for klass in cls.__mro__ if klass is not object
             for name in ("__getattr__", "__getattribute__") if name in vars(klass)]
    assert hooks == []
    absent = [name for name, attribute in vars(cls).items() if isinstance(attribute, checks.Absent)]
    assert cls.__name__ not in ("Value", "Op") or absent  # (their advice is there, as descriptors)
