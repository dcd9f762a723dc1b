"""A teacher running a live class in Jupyter: training stopped with the kernel's interrupt (Ctrl-C, often twice), the
learning rate changed between cells, checkpoints, float32, keywords typed fast.

Defects found (each test below failed before its fix):

* a second Ctrl-C while fit computed the cost on all samples after the last update (its ``final_cost`` pass, a long
  one on many samples: the first press seemed to do nothing) raised KeyboardInterrupt out of fit: the History of the
  whole run was lost, where fit says it "stops cleanly on Ctrl-C ... keeping the model and the history so far";
* Ctrl-C inside a backward pass of fit after the first episode (a second press, or a KeyboardInterrupt raised in a
  vjp) left every parameter's ``.grad`` None, where fit says each holds "the gradient of the last batch (full batch:
  of the last episode), taken before the last update" (the first episode's pass already put them back);
* keywords typed fast got Python's bare "unexpected keyword argument" with no name suggested: two letters swapped
  in a short word (``rgn=``, ``tlo=``), the start or a longer form of a parameter (``batch=``, ``tolerance=``,
  ``cost_function=``, Keras's ``epsilon=`` for Adam's ``eps=``), and PyTorch's ``nn.Linear`` keywords given to a
  Layer (``in_features=``, ``out_features=``, ``bias=False``), where Keras's ``units=`` and ``use_bias=`` were
  answered.
"""

from __future__ import annotations

import copy
import signal

import numpy as np
import pytest

from tinygrad_edu import Op, Value, apply, checks, is_grad_enabled, nn, no_grad, optim
from tinygrad_edu.data import xsquared
from tinygrad_edu.losses import squared_error
from tinygrad_edu.training import fit

X, Y = xsquared(16, seed=0)


def _network() -> nn.MLP:
    return nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", rng=0)


def _needs_pythons_ctrl_c() -> None:
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("Ctrl-C is not Python's KeyboardInterrupt here")


# --- a second Ctrl-C during the cost after the last update --------------------------------------------------------

def _pressing_cost(first_at: int, raised: bool):
    """squared_error that presses Ctrl-C (a real SIGINT) at its ``first_at``-th call, and again in fit's pass after
    the last update (the one made without recording); ``raised``: that second one is a KeyboardInterrupt raised by
    the cost itself (a callback of one's own stopping the run) instead."""
    calls = [0]

    def cost(outputs: Value, targets: np.ndarray) -> Value:
        calls[0] += 1
        if calls[0] == first_at:
            signal.raise_signal(signal.SIGINT)
        if not is_grad_enabled():  # (fit's own forward passes besides training run under no_grad)
            if raised:
                raise KeyboardInterrupt
            signal.raise_signal(signal.SIGINT)
        return squared_error(outputs, targets)

    return cost


@pytest.mark.parametrize("raised", [False, True], ids=["second-press", "raised-by-the-cost"])
@pytest.mark.parametrize("batch_size", [None, 4])
def test_a_ctrl_c_during_the_cost_after_the_last_update_keeps_the_history(batch_size, raised):
    _needs_pythons_ctrl_c()
    net = _network()
    opt = optim.Adam(net, 0.05)
    twin, twin_opt = copy.deepcopy((net, opt))
    try:
        history = fit(net, X, Y, cost=_pressing_cost(3, raised), optimizer=opt, episodes=5, batch_size=batch_size,
                      seed=0, progress=False)
    except KeyboardInterrupt:  # (not let through: pytest would stop the whole run)
        pytest.fail("the KeyboardInterrupt came out of fit: the run's History was lost")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert history.stopped == "interrupted" and history.final_cost is None
    assert "final_cost=None" in repr(history)
    episodes = 3 if batch_size is None else 1  # (the third cost: episode 3's, or the third batch's of episode 1)
    assert history.episodes == episodes
    if batch_size is None:  # the run is that of 3 episodes, its History too
        whole = fit(twin, X, Y, optimizer=twin_opt, episodes=episodes, progress=False)
        assert history.cost == whole.cost and history.gradient_norm == whole.gradient_norm
        for p, q in zip(net.parameters(), twin.parameters(), strict=True):
            np.testing.assert_array_equal(p.data, q.data)
    rest = fit(net, X, Y, optimizer=opt, episodes=2, batch_size=batch_size, seed=0, progress=False)  # the cell again
    with no_grad():
        assert rest.final_cost == squared_error(net(X), Y).item()
    assert (history + rest).episodes == episodes + 2 and (history + rest).final_cost == rest.final_cost



def _interrupting_vjp(at: int) -> Op:
    """An identity Op whose vjp raises KeyboardInterrupt at its ``at``-th call: Ctrl-C inside backward()."""
    calls = [0]

    def vjp(g: np.ndarray, out: np.ndarray, x: np.ndarray) -> np.ndarray:
        calls[0] += 1
        if calls[0] == at:
            raise KeyboardInterrupt
        return g * 1.0

    return Op("identity", lambda x: x * 1.0, vjp)


@pytest.mark.parametrize("batch_size, updates", [(None, 2), (4, 6)])
@pytest.mark.parametrize("make", [lambda net: optim.Adam(net, 0.05), optim.Armijo], ids=["Adam", "Armijo"])
def test_ctrl_c_inside_backward_leaves_the_gradients_of_the_last_update(make, batch_size, updates):
    """fit says that afterwards each parameter "holds the gradient of the last batch (full batch: of the last
    episode), taken before the last update": the pass Ctrl-C cut short had left every .grad None."""
    net = _network()
    opt = make(net)
    twin, twin_opt = copy.deepcopy((net, opt))
    op = _interrupting_vjp(updates + 1)  # (in the backward pass after the last update made)
    history = fit(lambda inputs: apply(op, net(inputs)), X, Y, optimizer=opt, episodes=5, batch_size=batch_size,
                  shuffle=False, progress=False)
    assert history.stopped == "interrupted"
    if batch_size is None:
        fit(twin, X, Y, optimizer=twin_opt, episodes=updates, progress=False)
    else:  # (the updates of the first episode and of 2 batches of the second: a loop of one's own, the same batches)
        for i in range(updates):
            rows = slice(4 * (i % 4), 4 * (i % 4) + 4)
            twin_opt.step(lambda rows=rows: squared_error(twin(X[rows]), Y[rows]))
    for p, q in zip(net.parameters(), twin.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)
        assert p.grad is not None, f"{p.label}: no gradient after the interrupted run"
        np.testing.assert_array_equal(p.grad, q.grad)


# --- keywords typed fast ------------------------------------------------------------------------------------------

def _net() -> nn.MLP:
    return nn.MLP([1, 3, 1], rng=0)


TYPED = [
    ("MLP", lambda: nn.MLP([1, 3, 1], rgn=0), "rgn", "rng"),  # two letters swapped in a short word
    ("RandomSearch", lambda: optim.RandomSearch(_net(), rgn=0), "rgn", "rng"),
    ("fit", lambda: fit(_net(), X, Y, optimizer=optim.Adam(_net()), episodes=1, tlo=0.1), "tlo", "tol"),
    ("fit", lambda: fit(_net(), X, Y, optimizer=optim.Adam(_net()), episodes=1, tolerance=0.1), "tolerance", "tol"),
    ("fit", lambda: fit(_net(), X, Y, optimizer=optim.Adam(_net()), episodes=1, batch=4), "batch", "batch_size"),
    ("fit", lambda: fit(_net(), X, Y, cost_function=squared_error, optimizer=optim.Adam(_net()), episodes=1),
     "cost_function", "cost"),
    ("Adam", lambda: optim.Adam(_net(), epsilon=1e-7), "epsilon", "eps"),  # (Keras's word)
]


@pytest.mark.parametrize("where, call, wrong, meant", TYPED, ids=[f"{case[0]}-{case[2]}" for case in TYPED])
def test_a_keyword_typed_fast_names_the_one_meant(where, call, wrong, meant):
    with pytest.raises(TypeError, match=rf"^{where}: there is no argument {wrong}=; did you mean {meant}=\?$"):
        call()


def test_a_keyword_too_short_or_fitting_two_names_gets_no_guess():
    for wrong in ("b", "sh", "in"):  # (fewer than 3 letters: no guess from the start of a name)
        with pytest.raises(TypeError, match="unexpected keyword argument") as caught:
            fit(_net(), X, Y, optimizer=optim.Adam(_net()), episodes=1, **{wrong: 1})
        assert "did you mean" not in str(caught.value)

    def two(batch_size: int = 1, batch_count: int = 1, rgn: int = 0, nrg: int = 0) -> None:
        pass

    assert checks.misspelt_keyword(two, ["batch"]) == ""  # (begins both)
    assert checks.misspelt_keyword(two, ["rng"]) == ""  # (two letters swapped in either)
    assert checks.misspelt_keyword(two, ["batch_sizes"]) == "there is no argument batch_sizes=; did you mean " \
                                                            "batch_size=?"


@pytest.mark.parametrize("wrong, words", [("in_features", "in_size"), ("out_features", "out_size"),
                                          ("bias", "requires_grad = False")])
def test_pytorchs_linear_keywords_given_to_a_layer_say_what_to_write(wrong, words):
    with pytest.raises(TypeError, match=rf"^Layer: there is no argument {wrong}= \(another library's name\); .*"
                                        + words.replace(" ", r"\s")):
        nn.Layer(2, 3, **{wrong: False})


def test_the_bias_advice_followed_gives_pytorchs_linear_layer_without_bias():
    """``nn.Linear(2, 3, bias=False)``: x @ weight.T, and only the weights learn."""
    layer = nn.Layer(2, 3, activation="identity", init="xavier", rng=0)
    layer.biases.requires_grad = False
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    out = layer(x)
    np.testing.assert_array_equal(out.data, x @ layer.weights.data)
    assert [p is layer.weights for p in layer.parameters()] == [True]
