"""Exception safety of this round's refusals: when fit's checks, an optimizer, load_state_dict or save raise, nothing
the user owns has changed (parameters' bytes, ``.grad``, the optimizer's state, the random generator, a Module's kept
numbers such as a running average, the grad mode, the SIGINT handler, the files in the folder)."""

import os
import pickle
import signal
import warnings

import numpy as np
import pytest

from tinygrad_edu import Value, fit, nn, no_grad, optim, serialization
from tinygrad_edu.grad_mode import GRAD_ENABLED

X = np.linspace(-1, 1, 8).reshape(-1, 1)
Y = X ** 2


def _state(net, opt, rng):
    """Everything the user owns, as bytes."""
    return pickle.dumps(([p.data for p in net.parameters()], [p.grad for p in net.parameters()], opt.state_dict(),
                         rng.bit_generator.state, GRAD_ENABLED.get(), signal.getsignal(signal.SIGINT)))


def _trained():
    """A network, an Adam that has made one step, a Generator, and a gradient accumulated by hand on each parameter."""
    net = nn.MLP([1, 3, 1], activation="tanh", output_activation="identity", rng=0)
    opt = optim.Adam(net, 0.1)
    opt.step(lambda: ((net(Value(X, requires_grad=False)) - Y) ** 2).mean())
    for i, p in enumerate(net.parameters()):
        p.grad = np.full(p.shape, float(i + 1))
    return net, opt, np.random.default_rng(3)


class Counting(nn.Module):
    """A Module that keeps a number besides its parameters, changed in place by its forward (as a batch norm's
    running average is): how many forward passes it made."""

    def __init__(self):
        self.layer = nn.Layer(1, 1, activation="identity", rng=0)
        self.passes = Value(np.zeros(1), requires_grad=False)

    def forward(self, x):
        with no_grad():
            self.passes += 1.0
        return self.layer(x)


def _masked_cost(out, t):
    """Column 0 always observed; column 1 observed where column 2 is 1, divided by their number (0/0 on a batch
    with none)."""
    return ((out[:, 0] - t[:, 0]) ** 2).mean() + ((((out[:, 0] - t[:, 1]) ** 2) * t[:, 2]).sum() / t[:, 2].sum())


# --- defects -------------------------------------------------------------------------------------------------

def test_the_nan_blame_leaves_a_modules_kept_numbers_as_training_made_them():
    net = Counting()
    targets = np.c_[X[:, 0], np.ones(8), np.r_[np.ones(4), np.zeros(4)]]  # batch 2 observes nothing: 0/0
    with pytest.raises(FloatingPointError, match="its samples, not the steps"):
        fit(net, X, targets, cost=_masked_cost, optimizer=optim.SGD(net, 0.1), episodes=2, batch_size=4,
            shuffle=False, progress=False)
    assert net.passes.data.tolist() == [2.0]  # batch 1's pass and batch 2's, not the blame's third


def _flat_own(net, opt, rng, batch_size):
    return fit(net, X, Y[:, 0], cost=lambda out, t: ((out - t) ** 2).mean(), optimizer=opt, episodes=2,
               batch_size=batch_size, seed=rng, progress=False)


def _flat_squared_error(net, opt, rng, batch_size):
    return fit(net, X, Y[:, 0], optimizer=opt, episodes=2, batch_size=batch_size, seed=rng, progress=False)


def _nan_at_start(net, opt, rng, batch_size):
    opt = optim.Adam(net, 0.1)  # (one that made no step: the NaN is the start's)
    return fit(net, X, Y, cost=lambda out, t: ((out - t) ** 2).mean() * np.nan, optimizer=opt, episodes=2,
               batch_size=batch_size, seed=rng, progress=False)


def _reaches_none(net, opt, rng, batch_size):
    return fit(net, X, Y, cost=lambda out, t: (Value(out.data) - t).mean() + Value(1.0) * Value(2.0), optimizer=opt,
               episodes=2, batch_size=batch_size, seed=rng, progress=False)


@pytest.mark.parametrize("batch_size", [None, 4])
@pytest.mark.parametrize("call, error", [(_flat_own, UserWarning), (_flat_squared_error, ValueError),
                                         (_nan_at_start, FloatingPointError), (_reaches_none, ValueError)],
                         ids=["flat-warning-as-error", "flat-squared-error", "nan-at-start", "reaches-none"])
def test_fit_refusing_at_its_first_backward_pass_changes_nothing(call, error, batch_size):
    net, opt, rng = _trained()
    before = _state(net, opt, rng)
    with warnings.catch_warnings(), pytest.raises(error):
        warnings.simplefilter("error")
        call(net, opt, rng, batch_size)
    assert _state(net, opt, rng) == before


# --- guards ----------------------------------------------------------------------------------------------------

def test_the_nan_blame_puts_parameters_optimizer_and_generator_back():
    """What the blame's extra pass must not change: compared with the blame switched off (an optimizer that made
    steps before, where fit does not blame the samples), which raises after the same updates."""
    targets = np.c_[X[:, 0], np.ones(8), np.r_[np.ones(4), np.zeros(4)]]
    ends = []
    for blamed in (True, False):
        net = nn.MLP([1, 2, 1], activation="tanh", output_activation="identity", rng=1)
        opt, rng = optim.Adam(net, 0.05), np.random.default_rng(0)
        if not blamed:
            opt.last_step_size = 0.05  # (as after a step: fit then puts the NaN down to the steps, no extra pass)
        with pytest.raises(FloatingPointError) as raised:
            fit(net, X, targets, cost=_masked_cost, optimizer=opt, episodes=1, batch_size=4, shuffle=False, seed=rng,
                progress=False)
        assert ("its samples, not the steps" in str(raised.value)) == blamed
        ends.append(pickle.dumps(([p.data for p in net.parameters()], [p.grad for p in net.parameters()],
                                  {k: v for k, v in opt.state_dict().items() if k != "last_step_size"},
                                  rng.bit_generator.state, GRAD_ENABLED.get())))
    assert ends[0] == ends[1]


@pytest.mark.parametrize("keywords", [dict(cost=nn.MLP([1, 1], rng=0)), dict(cost="mse"), dict(epochs=3),
                                      dict(episode=3), dict(inputs=[X, np.c_[X, X]])],
                         ids=["cost-model", "keras-name", "keras-keyword", "misspelt", "several-inputs"])
def test_fit_refusing_its_arguments_changes_nothing(keywords):
    net, opt, rng = _trained()
    before = _state(net, opt, rng)
    arguments = dict(episodes=2, **keywords) if "episode" not in keywords else dict(keywords)
    inputs = arguments.pop("inputs", X)
    with pytest.raises((TypeError, ValueError), match="^fit: "):
        fit(net, inputs, Y, optimizer=opt, batch_size=4, seed=rng, progress=False, **arguments)
    assert _state(net, opt, rng) == before


def test_newton_refusing_a_cost_that_reaches_none_changes_nothing():
    a, b = Value(np.array([1.0, 2.0])), Value(np.array(1.5))
    opt = optim.Newton([a], damping=1.0)
    a.grad = np.array([3.0, -1.0])
    before = pickle.dumps((a.data, a.grad, opt.state_dict()))
    with pytest.raises(ValueError, match="none of the optimizer's"):
        opt.step(lambda: (b * b).sum())
    assert pickle.dumps((a.data, a.grad, opt.state_dict())) == before


@pytest.mark.parametrize("strict", [True, False])
def test_load_state_dict_refusing_pytorch_names_or_a_transpose_changes_nothing(strict):
    net = nn.MLP([2, 3, 1], rng=0)
    state = net.state_dict()
    torch_names = {f"{2 * (i // 2)}.{'weight' if i % 2 == 0 else 'bias'}": np.asarray(v).T + 1.0
                   for i, v in enumerate(state.values())}
    transposed = {k: np.asarray(v) + 1.0 for k, v in state.items()}
    transposed["layers.2.weights"] = transposed["layers.2.weights"].T  # the others fit: none may be loaded
    before = pickle.dumps(net.state_dict())
    for bad in (torch_names, transposed):
        with pytest.raises(ValueError, match="load_state_dict"):
            net.load_state_dict(bad, strict=strict)
        assert pickle.dumps(net.state_dict()) == before


@pytest.mark.parametrize("name, state", [("model.h5", None), ("model.keras", None),
                                         ("model.npz", {"w": np.ma.masked_array([1.0, 2.0], mask=[0, 1])})])
def test_save_refusing_leaves_the_folder_as_it_was(tmp_path, name, state):
    (tmp_path / "old.npz").write_bytes(b"kept")
    target = tmp_path / name
    with pytest.raises(ValueError, match="^save: "):
        if state is None:
            nn.MLP([1, 2, 1], rng=0).save(target)
        else:
            serialization.save(target, state)
    assert sorted(os.listdir(tmp_path)) == ["old.npz"]
    assert (tmp_path / "old.npz").read_bytes() == b"kept"
