"""An engineer who adds dropout by hand: a Module of one's own whose forward draws a mask from a numpy Generator it
keeps, only while ``self.training``, scaled by 1/(1 − p) (inverted dropout); trained with ``fit``, checked with
``check_gradients`` (with the mask fixed, and with a mask redrawn at each call, which the check must name as a random
f rather than blame a vjp, a kink or the step), saved and pickled with the Generator on it.
"""

import pickle

import numpy as np
import pytest

from tinygrad_edu import fit, nn, optim
from tinygrad_edu.testing import GradientCheckError, check_gradients

X = np.random.default_rng(0).normal(size=(12, 2))
Y = X @ np.array([[1.5], [-2.0]]) + 0.3


class Dropout(nn.Module):
    """Inverted dropout: each element kept with probability 1 − p and scaled by 1/(1 − p) while training; the
    identity in eval mode.  ``draws`` counts the masks drawn."""

    def __init__(self, p: float = 0.5, seed: int = 0) -> None:
        self.p = p
        self.rng = np.random.default_rng(seed)
        self.draws = 0

    def forward(self, x):
        if not self.training:
            return x
        self.draws += 1
        return x * ((self.rng.random(x.shape) >= self.p) / (1 - self.p))


class Net(nn.Module):
    """A 2-4-1 network with dropout after its hidden layer."""

    def __init__(self, p: float = 0.3, seed: int = 2) -> None:
        self.hidden = nn.Layer(2, 4, "tanh", init="xavier", rng=1)
        self.drop = Dropout(p, seed)
        self.out = nn.Layer(4, 1, "identity", init="xavier", rng=3)

    def forward(self, x):
        return self.out(self.drop(self.hidden(x)))


# --- check_gradients with a random f -------------------------------------------------------------------------------

def _rarely_random(seed: int):
    """Dropout with p = 0.03 over two elements: most calls keep both, so two calls often agree and only now and
    then does one call draw another mask."""
    rng = np.random.default_rng(seed)

    def f(x):
        return ((x * ((rng.random(x.shape) >= 0.03) / 0.97)).tanh() ** 2).sum()
    return f


def test_a_dropout_that_drops_a_unit_now_and_then_is_named_as_random_not_blamed_on_the_derivatives():
    x = np.array([[0.4, -0.7]])
    messages = []
    for seed in range(30):
        try:
            check_gradients(_rarely_random(seed), x)
        except GradientCheckError as error:
            messages.append(str(error))
    assert len(messages) >= 5  # (the draws are seeded: enough failures to see what they say)
    for message in messages:
        assert "f is not deterministic" in message, message
        assert "upstream gradient g" not in message and "kink" not in message and "step is halved" not in message


def test_a_dropout_with_its_mask_fixed_passes_the_check_with_the_closed_form_gradient():
    """The mask drawn once from a seeded Generator: f(x) = Σ (m·x)² has the gradient 2·m²·x."""
    mask = (np.random.default_rng(5).random((3, 4)) >= 0.5) / 0.5
    x = np.random.default_rng(6).normal(size=(3, 4))
    report = check_gradients(lambda v: ((v * mask) ** 2).sum(), x)
    np.testing.assert_allclose(report.analytic[0], 2 * mask ** 2 * x, rtol=1e-12)


def test_a_network_in_eval_mode_passes_the_check_and_in_training_mode_is_named_random():
    net = Net(p=0.5)
    x = X[:3]
    net.eval()
    check_gradients(lambda v: net(v).sum(), x)
    net.train()
    with pytest.raises(GradientCheckError, match="f is not deterministic"):
        check_gradients(lambda v: net(v).sum(), x)


# --- fit and the model's Generator ---------------------------------------------------------------------------------

def _trained(split: bool, batch_size: int | None) -> dict[str, np.ndarray]:
    net = Net()
    opt = optim.SGD(net, learning_rate=0.05)
    shuffles = np.random.default_rng(7)
    settings = dict(optimizer=opt, batch_size=batch_size, seed=shuffles if batch_size else None, progress=False)
    for episodes in ((1, 1) if split else (2,)):
        fit(net, X, Y, episodes=episodes, **settings)
    return net.state_dict()


@pytest.mark.parametrize("batch_size", [None, 5])
def test_fit_for_one_episode_twice_draws_the_masks_of_fit_for_two_episodes(batch_size):
    split, whole = _trained(True, batch_size), _trained(False, batch_size)
    assert split.keys() == whole.keys()
    for name in whole:
        assert split[name].tobytes() == whole[name].tobytes(), name


def test_after_fit_the_models_generator_has_drawn_only_the_masks_of_its_updates():
    net = Net()
    history = fit(net, X, Y, optimizer=optim.GradientDescent(net, learning_rate=0.05), episodes=3, progress=False)
    assert len(history.cost) == 3
    expected = np.random.default_rng(2)
    for _ in range(3):  # one mask of shape (12, 4) per full-batch update
        expected.random((12, 4))
    assert net.drop.rng.bit_generator.state == expected.bit_generator.state


def test_fit_calls_a_random_model_once_per_update_and_once_for_the_final_cost():
    for batch_size, updates in ((None, 3), (5, 3 * 3)):  # 12 samples in batches of 5: 3 per episode
        net = Net()
        fit(net, X, Y, optimizer=optim.Adam(net, learning_rate=0.01), episodes=3, batch_size=batch_size, seed=0,
            progress=False)
        assert net.drop.draws == updates + 1


def test_a_fit_in_eval_mode_draws_no_mask_and_repeats_bit_for_bit():
    runs = []
    for _ in range(2):
        net = Net().eval()
        fit(net, X, Y, optimizer=optim.GradientDescent(net, learning_rate=0.05), episodes=3, progress=False)
        assert net.drop.draws == 0
        assert net.drop.rng.bit_generator.state == np.random.default_rng(2).bit_generator.state
        runs.append(net.state_dict())
    assert all(runs[0][k].tobytes() == runs[1][k].tobytes() for k in runs[0])


# --- train() / eval() and the Generator in the state -----------------------------------------------------------------

class Holder(nn.Module):
    """Dropouts in a list, a tuple, a dict and a child Module's list."""

    def __init__(self) -> None:
        self.listed = [nn.Layer(2, 2, rng=0), Dropout(0.5, 1)]
        self.paired = (Dropout(0.5, 2), Dropout(0.5, 3))
        self.table = {"drop": Dropout(0.5, 4), "layer": nn.Layer(2, 1, rng=5)}
        self.child = Net()

    def forward(self, x):
        h = self.listed[1](self.listed[0](x))
        h = self.paired[1](self.paired[0](h))
        return self.table["layer"](self.table["drop"](h)) + self.child(x)


def test_train_and_eval_reach_dropouts_in_lists_tuples_dicts_and_children():
    model = Holder()
    drops = [model.listed[1], *model.paired, model.table["drop"], model.child.drop]
    assert model.eval() is model
    assert not any(d.training for d in drops)
    first, second = model(X).numpy(), model(X).numpy()
    assert first.tobytes() == second.tobytes() and not any(d.draws for d in drops)
    model.train()
    assert all(d.training for d in drops)
    assert not np.array_equal(model(X).numpy(), model(X).numpy())


def test_state_dict_and_save_keep_the_parameters_not_the_generator_and_load_back_bit_for_bit(tmp_path):
    net = Net()
    fit(net, X, Y, optimizer=optim.SGD(net, learning_rate=0.05), episodes=2, progress=False)
    state = net.state_dict()
    assert sorted(state) == ["hidden.biases", "hidden.weights", "out.biases", "out.weights"]
    net.save(tmp_path / "net.npz")
    other = Net(seed=99).load(tmp_path / "net.npz")
    assert all(other.state_dict()[k].tobytes() == state[k].tobytes() for k in state)
    assert other.drop.rng.bit_generator.state != net.drop.rng.bit_generator.state  # (not saved: its own seed's)


def test_a_pickled_model_draws_the_masks_the_original_draws_next():
    net = Net()
    net(X)  # one mask drawn
    copy = pickle.loads(pickle.dumps(net))
    assert copy is not net and copy.drop.rng is not net.drop.rng
    assert copy(X).numpy().tobytes() == net(X).numpy().tobytes()
    assert copy.drop.rng.bit_generator.state == net.drop.rng.bit_generator.state
