"""The error and warning messages added in round 34, read as a user meets them: each triggered for real, its key
facts checked, and its advice followed (the advice must work)."""

import warnings

import numpy as np
import pytest

from tinygrad_edu import Value, autodiff, data, losses, nn, optim, training
from tinygrad_edu.engine import detect_anomaly

# --- defects ----------------------------------------------------------------------------------------------------


def test_newton_cost_warning_points_at_the_users_fit_line():
    net = nn.MLP([3, 2, 1], rng=0, activation="identity")  # 11 parameters
    opt = optim.Newton(net)
    opt.MANY_PARAMETERS = 5  # (the same warning as for 1,001 parameters, without their cost)
    x, y = np.random.default_rng(0).normal(size=(6, 3)), np.ones((6, 1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        training.fit(net, x, y, optimizer=opt, episodes=1, progress=False)
    ours = [w for w in caught if str(w.message).startswith("Newton.step: 11 parameters")]
    assert len(ours) == 1
    assert ours[0].filename == __file__


def test_root_of_zero_note_is_one_readable_sentence():
    x = Value(np.array([0.0, 1.0]), requires_grad=True)
    with pytest.raises(FloatingPointError) as caught, detect_anomaly():
        x.sqrt().sum().backward()
    message = str(caught.value)
    assert message.startswith("sqrt: the backward gradient holds NaN or inf")
    assert "1 of its 2 inputs is 0" in message
    assert "(x + 1e-30).sqrt()" in message
    assert len(message) < 400
    # the advice: (x + 1e-30).sqrt() has a finite gradient there, and detect_anomaly lets it pass
    x.grad = None
    with detect_anomaly():
        (x + 1e-30).sqrt().sum().backward()
    assert np.isfinite(x.grad).all()
    assert x.grad[1] == pytest.approx(0.5)


def test_root_of_zero_advice_gives_a_distance_matrix_the_finite_difference_gradient():
    """Guard: the note's advice for a distance matrix gives the gradient central differences find (0 on i = j)."""
    a = np.random.default_rng(1).normal(size=(3, 2))

    def distances(x):
        d = x.reshape(3, 1, 2) - x.reshape(1, 3, 2)
        return ((d * d).sum(axis=-1) + 1e-30).sqrt().sum()

    x = Value(a.copy(), requires_grad=True)
    with detect_anomaly():
        distances(x).backward()
    eps, numeric = 1e-6, np.zeros_like(a)
    for i in np.ndindex(a.shape):
        step = np.zeros_like(a)
        step[i] = eps
        numeric[i] = (distances(Value(a + step)).item() - distances(Value(a - step)).item()) / (2 * eps)
    np.testing.assert_allclose(x.grad, numeric, atol=1e-6)


def test_fit_whole_column_of_nan_says_holds_for_one_column():
    x = np.random.default_rng(0).normal(size=(10, 3))
    x[:, 2] = 5.0
    with np.errstate(invalid="ignore"):
        standardised = (x - x.mean(axis=0)) / x.std(axis=0)
    net = nn.MLP([3, 1], rng=0)
    with pytest.raises(ValueError, match=r"fit: the inputs hold NaN or inf") as caught:
        training.fit(net, standardised, np.ones((10, 1)), optimizer=optim.GradientDescent(net, 0.1), episodes=1,
                     progress=False)
    assert "column 2 holds them in every sample" in str(caught.value)
    std = x.std(axis=0)  # the advice: divide by np.where(std > 0, std, 1)
    fixed = (x - x.mean(axis=0)) / np.where(std > 0, std, 1)
    history = training.fit(net, fixed, np.ones((10, 1)), optimizer=optim.GradientDescent(net, 0.1), episodes=1,
                           progress=False)
    assert np.isfinite(history.cost).all()


def test_data_functions_say_which_of_a_datasets_arrays_to_give():
    x, labels = np.random.default_rng(0).normal(size=(10, 2)), np.arange(10) % 3
    train, _ = data.train_test_split(x, labels)
    with pytest.raises(TypeError, match=r"^one_hot: the labels are a Dataset") as caught:
        data.one_hot(train, 3)
    assert "data.inputs" not in str(caught.value) and ".labels" in str(caught.value)
    assert data.one_hot(train.labels, 3).shape == (len(train.labels), 3)  # the advice
    with pytest.raises(TypeError, match=r"^batches: the inputs are a Dataset") as caught:
        data.batches(train, labels, 2)
    assert "batches(data.inputs, data.labels, ...)" in str(caught.value)
    assert len(list(data.batches(train.inputs, train.labels, 2))) == 4  # the advice


def test_cost_of_a_dataset_as_prediction_says_to_call_the_model():
    x, labels = np.random.default_rng(0).normal(size=(10, 2)), np.arange(10) % 2
    train, _ = data.train_test_split(x, labels)
    net = nn.MLP([2, 2], rng=0)
    with pytest.raises(TypeError, match=r"^mean_squared_error: the prediction is a Dataset") as caught:
        losses.mean_squared_error(train, data.one_hot(train.labels, 2))
    assert "model(data.inputs)" in str(caught.value)
    with pytest.raises(TypeError, match=r"^cross_entropy: the logits are a Dataset") as caught:
        losses.cross_entropy(train, train.labels)
    assert "model(data.inputs)" in str(caught.value)
    assert np.isfinite(losses.cross_entropy(net(train.inputs), train.labels).item())  # the advice


def test_dataset_images_hint_names_no_pictures_in_a_small_table():
    table = data.Dataset(np.zeros((5, 4)), np.zeros(5))
    with pytest.raises(AttributeError, match="'images'") as caught:
        table.images  # noqa: B018
    assert "reshape" not in str(caught.value)
    digits = data.Dataset(np.zeros((5, 64)), np.zeros(5))  # 8×8 pixels a row, as load_digits gives them
    with pytest.raises(AttributeError, match=r"inputs\.reshape\(-1, 8, 8\)"):
        digits.images  # noqa: B018


# --- guards: messages of this round whose advice works ----------------------------------------------------------


def test_gradients_of_a_dict_of_parameters_names_the_values_and_the_advice_works():
    net = nn.MLP([2, 3, 1], rng=0)
    cost = losses.mean_squared_error(net(np.ones((4, 2))), np.zeros((4, 1)))
    params = dict(net.named_parameters())
    with pytest.raises(TypeError, match=r"^gradients: inputs must be a list of Values, got a dict"):
        autodiff.gradients(cost, params)
    with pytest.raises(TypeError, match=r"got \(name, Value\) pairs"):
        autodiff.gradients(cost, net.named_parameters())
    grads = autodiff.gradients(cost, list(params.values()))  # the advice
    assert [g.shape for g in grads] == [p.shape for p in params.values()]


def test_load_state_dict_of_an_optimizers_state_is_refused_with_strict_false_too():
    net = nn.MLP([2, 3, 1], rng=0)
    before = [p.data.copy() for p in net.parameters()]
    opt = optim.SGD(net, learning_rate=0.1, momentum=0.9)
    for strict in (True, False):
        with pytest.raises(ValueError, match="an optimizer's state_dict"):
            net.load_state_dict(opt.state_dict(), strict=strict)
    assert all(np.array_equal(p.data, b) for p, b in zip(net.parameters(), before, strict=True))
    optim.SGD(net, learning_rate=0.5, momentum=0.0).load_state_dict(opt.state_dict())  # the advice


def test_random_search_state_of_another_bit_generator_says_which_and_the_advice_works():
    net = nn.MLP([2, 1], rng=0)
    saved = optim.RandomSearch(net, rng=np.random.Generator(np.random.MT19937(3)))
    with pytest.raises(ValueError, match=r"MT19937"):
        optim.RandomSearch(net, rng=0).load_state_dict(saved.state_dict())
    loaded = optim.RandomSearch(net, rng=np.random.Generator(np.random.MT19937()))  # the advice
    loaded.load_state_dict(saved.state_dict())
    assert loaded.rng.random() == saved.rng.random()


def test_unknown_init_from_another_library_names_ours_and_a_callable_is_a_type_error():
    with pytest.raises(ValueError, match=r"Layer: unknown init 'kaiming_normal_' \(PyTorch's kaiming_normal_ is 'he'"):
        nn.Layer(3, 2, init="kaiming_normal_")
    with pytest.raises(ValueError, match=r"in lower case: 'xavier'"):
        nn.Layer(3, 2, init="Xavier")
    with pytest.raises(TypeError, match=r"Layer: init must be the name of an initialisation"):
        nn.Layer(3, 2, init=np.random.rand)
    layer = nn.Layer(400, 300, init="he", rng=0)  # the advice: 'he' draws normal weights of std √(2 / in_size)
    assert layer.weights.data.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
