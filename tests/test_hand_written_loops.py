"""Hand-written training loops, as an engineer who does not call ``fit`` writes them: ``zero_grad``, a cost on a
batch, ``backward``, ``step``, with a schedule set between steps and parameters frozen on the way.  Every number is
checked against a closed form or the same computation by hand in numpy float64."""

import numpy as np
import pytest

from tinygrad_edu import Value, data, losses, nn, optim


def test_gradients_of_micro_batches_add_up_to_the_full_batch_gradient():
    """C = (1/n)Σ‖Xw + b − Y‖² has ∇_w = (2/n)Xᵀr: micro-batch costs weighted by n_k/n, backpropagated one after
    the other without zero_grad, leave exactly the full batch's gradient (float64, up to rounding)."""
    rng = np.random.default_rng(0)
    X, Y, w0, b0 = rng.normal(size=(10, 3)), rng.normal(size=(10, 1)), rng.normal(size=(3, 1)), rng.normal(size=1)
    w, b = Value(w0.copy()), Value(b0.copy())
    for xb, yb in data.batches(X, Y, batch_size=4, seed=1):  # 4 + 4 + 2: the last one smaller
        (losses.squared_error(xb @ w + b, yb) * (len(xb) / len(X))).backward()
    r = X @ w0 + b0 - Y
    np.testing.assert_allclose(w.grad, 2 / len(X) * X.T @ r, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(b.grad, 2 / len(X) * r.sum(0), rtol=1e-13, atol=1e-15)


def test_random_search_leaves_a_frozen_parameter_alone_as_the_other_optimizers_do():
    """The first layer frozen after the optimizer was made (an optimizer made before keeps its parameters): SGD,
    Adam, Armijo and Newton never change it, so random search must not either; the second layer still learns."""
    X, Y = np.random.default_rng(0).normal(size=(8, 3)), np.zeros((8, 1))
    model = nn.MLP([3, 2, 1], rng=0)
    opt = optim.RandomSearch(model, scale=0.5, rng=0)
    model.layers[0].requires_grad_(False)
    frozen = [(p, p.data.copy()) for p in opt.params if not p.requires_grad]  # the first layer's weights and biases
    assert len(frozen) == 2
    for _ in range(5):
        opt.step(lambda: losses.squared_error(model(X), Y))
    assert opt.accepted > 0
    for p, before in frozen:
        np.testing.assert_array_equal(p.data, before)


@pytest.mark.parametrize("make, name, setting", [
    (lambda p: optim.GradientDescent(p, 0.1), "momentum", 0.9),     # a schedule written for SGD
    (lambda p: optim.Adam(p), "momentum", 0.9),
    (lambda p: optim.SGD(p, 0.1), "betas", (0.9, 0.99)),
    (lambda p: optim.Armijo(p), "eps", 1e-3),
    (lambda p: optim.SGD(p, 0.1, momentum=0.9), "weight_decay", 1e-4),  # refused as an argument, not as a setting
    (lambda p: optim.Adam(p), "amsgrad", True),
])
def test_setting_what_the_optimizer_has_not_between_steps_is_an_error(make, name, setting):
    """``opt.momentum = 0.9`` on gradient descent changes no step: an AttributeError naming the optimizer and the
    setting, as ``opt.lr = …`` is, and the step afterwards is plain x − η·∇C = x − η·2x."""
    x = Value(np.array([1.0, -2.0]))
    opt = make([x])
    with pytest.raises(AttributeError, match=rf"^{type(opt).__name__} has no attribute {name}: "):
        setattr(opt, name, setting)
    assert name not in vars(opt)


@pytest.mark.parametrize("make, typo, setting", [
    (lambda p: optim.GradientDescent(p, 0.1), "learnin_rate", "learning_rate"),
    (lambda p: optim.SGD(p, 0.1), "momentun", "momentum"),
    (lambda p: optim.Adam(p), "beta", "betas"),
    (lambda p: optim.Armijo(p), "max_backtrack", "max_backtracks"),
    (lambda p: optim.Newton(p), "dampin", "damping"),
])
def test_a_misspelt_setting_is_an_error_that_names_the_setting(make, typo, setting):
    """``opt.learnin_rate = 0.01`` in a schedule would leave the steps as they were, silently; it names the setting
    meant, and the setting keeps its value."""
    opt = make([Value(np.array([1.0, -2.0]))])
    before = getattr(opt, setting)
    with pytest.raises(AttributeError, match=rf"^{type(opt).__name__} has no attribute {typo}: did you mean "
                                             rf"{setting}\?$"):
        setattr(opt, typo, 0.5)
    assert typo not in vars(opt) and getattr(opt, setting) == before


def test_an_optimizer_of_ones_own_may_keep_any_setting_and_the_others_keep_other_attributes():
    """(only the optimizers here refuse another one's settings: a subclass of one's own has its own)"""
    class MomentumDescent(optim.GradientDescent):
        def __init__(self, params, learning_rate, momentum):
            super().__init__(params, learning_rate)
            self.momentum = momentum

    assert MomentumDescent([Value([1.0])], 0.1, 0.9).momentum == 0.9
    opt = optim.GradientDescent([Value([1.0])], 0.1)
    opt.note, opt.learning_rate = "run 1", 0.05  # an attribute of one's own, and a setting of its own
    assert (opt.note, opt.learning_rate) == ("run 1", 0.05)
