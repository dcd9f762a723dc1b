"""An engineer who adds normalisation to small networks: inputs standardised with the training split's statistics,
a batch norm of one's own whose running averages are Values that need no gradient (the package's buffers), layer
normalisation over the last axis, modules frozen and unfrozen, copied and trained with fit.

The xfail tests are the defects found: digits inputs standardised by hand (a constant column divides by its standard
deviation of 0) made fit say to leave out every sample, where whole columns are at fault; and
``model.requires_grad_(True)`` turns the running averages (frozen Values, as the docs advise keeping buffers) into
trained parameters without the docs saying so.  The guard tests pin the layer-norm backward pass against its closed
form and central differences, deep copies of a batch norm, and what unfreezing does to its buffers.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_edu import Value, nn, no_grad, optim
from tinygrad_edu.data import load_digits, train_test_split
from tinygrad_edu.losses import cross_entropy
from tinygrad_edu.testing import check_gradients
from tinygrad_edu.training import fit

EPS = 1e-5


class BatchNorm(nn.Module):
    """Batch statistics in training, the running averages (buffers: Values needing no gradient) in evaluation."""

    def __init__(self, n: int, momentum: float = 0.1) -> None:
        self.gamma = Value(np.ones(n))
        self.beta = Value(np.zeros(n))
        self.running_mean = Value(np.zeros(n), requires_grad=False)
        self.running_var = Value(np.ones(n), requires_grad=False)
        self.momentum = momentum

    def forward(self, x: Value) -> Value:
        if not self.training:
            return (x - self.running_mean) / (self.running_var + EPS).sqrt() * self.gamma + self.beta
        mu = x.mean(axis=0, keepdims=True)
        var = ((x - mu) ** 2).mean(axis=0, keepdims=True)
        with no_grad():
            self.running_mean *= 1 - self.momentum
            self.running_mean += self.momentum * mu[0]
            self.running_var *= 1 - self.momentum
            self.running_var += self.momentum * var[0]
        return (x - mu) / (var + EPS).sqrt() * self.gamma + self.beta


class Net(nn.Module):
    def __init__(self) -> None:
        self.hidden = nn.Layer(64, 16, activation="identity", init="he", rng=0)
        self.norm = BatchNorm(16)
        self.out = nn.Layer(16, 10, activation="identity", init="xavier", rng=1)

    def forward(self, x: Value) -> Value:
        return self.out(self.norm(self.hidden(x)).relu())


def _layer_norm(x, gamma, beta):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / (var + EPS).sqrt() * gamma + beta


# --- defects -------------------------------------------------------------------------------------------------------
def test_fit_names_the_columns_a_standardisation_by_a_zero_deviation_made_nan() -> None:
    digits = load_digits()
    train, _ = train_test_split(digits.inputs, digits.labels, seed=0)
    mean, std = train.inputs.mean(axis=0), train.inputs.std(axis=0)
    constant = np.flatnonzero(std == 0)
    assert len(constant) >= 2  # the digits' always-blank pixels
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        standardised = (train.inputs - mean) / std
    net = nn.MLP([64, 8, 10], activation="relu", output_activation="identity", init="he", rng=0)
    columns = ", ".join(str(i) for i in constant)
    with pytest.raises(ValueError, match=rf"in {len(train.inputs)} samples of {len(train.inputs)} .*columns "
                                         rf"{columns} hold them in every sample: .*standard deviation of 0.*"
                                         r"np\.where\(std > 0, std, 1\)") as caught:
        fit(net, standardised, train.labels, cost=cross_entropy, optimizer=optim.Adam(net), episodes=1,
            progress=False)
    assert "leave those samples out" not in str(caught.value)
    safe = (train.inputs - mean) / np.where(std > 0, std, 1)  # the advice, followed
    fit(net, safe, train.labels, cost=cross_entropy, optimizer=optim.Adam(net), episodes=1, progress=False)


def test_the_docs_say_that_unfreezing_a_model_unfreezes_its_buffers() -> None:
    doc = " ".join((nn.Module.requires_grad_.__doc__ or "").split())
    assert "buffers too" in doc and "norm.running_mean.requires_grad = False" in doc
    with pytest.raises(AttributeError, match=r"no attribute register_buffer: .*model\.requires_grad_\(True\) "
                                             r"unfreezes it too"):
        BatchNorm(3).register_buffer("running_mean", np.zeros(3))  # type: ignore[attr-defined]


# --- guards --------------------------------------------------------------------------------------------------------
def test_guard_nan_in_a_few_samples_still_says_to_leave_those_samples_out() -> None:
    inputs = np.arange(12.0).reshape(6, 2)
    inputs[[1, 4], 0] = np.nan
    net = nn.MLP([2, 1], activation="identity", rng=0)
    with pytest.raises(ValueError, match=r"in 2 samples of 6 \(rows 1, 4\); leave those samples out, or fill"):
        fit(net, inputs, np.zeros((6, 1)), optimizer=optim.GradientDescent(net, learning_rate=0.1), episodes=1,
            progress=False)


def test_guard_unfreezing_a_model_makes_its_buffers_parameters_as_documented() -> None:
    """What the docs now say: requires_grad_(True) unfreezes the running averages; an optimizer then trains them
    (a cost computed in evaluation reaches them), and freezing them again gives the parameters back."""
    net = Net()
    before = [name for name, _ in net.named_parameters()]
    net.requires_grad_(False).requires_grad_(True)
    assert [name for name, _ in net.named_parameters()] == before[:4] + ["norm.running_mean", "norm.running_var"] + \
        before[4:]
    net.eval()
    kept = net.norm.running_mean.data.copy()
    opt = optim.SGD(net, learning_rate=0.1)
    cross_entropy(net(load_digits().inputs[:20]), load_digits().labels[:20]).backward()
    opt.step()
    assert not np.array_equal(net.norm.running_mean.data, kept)
    net.norm.running_mean.requires_grad = False
    net.norm.running_var.requires_grad = False
    assert [name for name, _ in net.named_parameters()] == before


def test_guard_a_deep_copy_of_a_batch_norm_has_buffers_of_its_own() -> None:
    rng = np.random.default_rng(0)
    norm = BatchNorm(3)
    norm(Value(rng.normal(size=(5, 3))))
    twin = copy.deepcopy(norm)
    assert twin.running_mean is not norm.running_mean and not twin.running_mean.requires_grad
    assert len(twin.parameters()) == 2 and not {id(p) for p in twin.parameters()} & {id(p) for p in norm.parameters()}
    for name, array in norm.state_dict().items():
        np.testing.assert_array_equal(twin.state_dict()[name], array)
    kept = norm.state_dict()
    twin(Value(rng.normal(3.0, size=(5, 3))))  # moves only the copy's running averages
    for name, array in kept.items():
        np.testing.assert_array_equal(norm.state_dict()[name], array)
    assert not np.array_equal(twin.running_mean.data, norm.running_mean.data)


@given(rows=st.integers(1, 4), features=st.integers(2, 6), seed=st.integers(0, 2**32 - 1))
def test_guard_layer_norm_backward_matches_its_closed_form_and_central_differences(rows, features, seed) -> None:
    rng = np.random.default_rng(seed)
    x, gamma, beta = rng.normal(size=(rows, features)), rng.normal(size=features), rng.normal(size=features)
    upstream = rng.normal(size=(rows, features))
    xv, gv, bv = Value(x), Value(gamma), Value(beta)
    _layer_norm(xv, gv, bv).backward(upstream)
    inv = 1 / np.sqrt(x.var(axis=-1, keepdims=True) + EPS)  # numpy's var divides by n, as layer norm does
    xhat = (x - x.mean(axis=-1, keepdims=True)) * inv
    dxhat = upstream * gamma
    dx = inv * (dxhat - dxhat.mean(axis=-1, keepdims=True) - xhat * (dxhat * xhat).mean(axis=-1, keepdims=True))
    np.testing.assert_allclose(xv.grad, dx, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(gv.grad, (upstream * xhat).sum(axis=0), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(bv.grad, upstream.sum(axis=0), rtol=1e-12, atol=1e-12)
    check_gradients(_layer_norm, x, gamma, beta, atol=1e-5, rtol=1e-4)
