"""Layers and modules used as a PyTorch user uses them: freezing and unfreezing, printing, naming, and states from
other machines."""

import numpy as np
import pytest

from tinygrad_edu import Value, losses, nn, optim
from tinygrad_edu import functional as F


def _one_layer():
    """``y = x @ W + b`` (identity activation): for x = [1, 1], d(sum y)/dW is a column of ones."""
    return nn.MLP([2, 1], activation="identity", rng=0)


# --- freezing ----------------------------------------------------------------------------------------------

def test_zero_grad_forgets_the_gradient_of_a_frozen_parameter_too():
    """A gradient left on a parameter frozen before zero_grad() was added to once it was unfrozen: the next
    backward gave 2 where the gradient is 1.  PyTorch's Module.zero_grad clears frozen parameters as well."""
    net = _one_layer()
    weights = net.layers[0].weights
    x = np.ones((1, 2))
    net(x).sum().backward()
    weights.requires_grad = False
    net.zero_grad()
    assert weights.grad is None
    weights.requires_grad = True
    net(x).sum().backward()
    np.testing.assert_array_equal(weights.grad, x.T)  # d(x @ W)/dW = xᵀ, counted once
    net.layers[0].biases.requires_grad = False
    net.zero_grad(set_to_none=False)
    assert not weights.grad.any() and net.layers[0].biases.grad.shape == (1,) and not net.layers[0].biases.grad.any()


def test_requires_grad_freezes_and_unfreezes_a_whole_module():
    """PyTorch's ``layer.requires_grad_(False)`` was an AttributeError, and its unfreezing idiom
    ``for p in layer.parameters(): p.requires_grad = True`` cannot work here: frozen parameters are not listed."""
    net = nn.MLP([2, 3, 1], rng=0)
    first = net.layers[0]
    assert first.requires_grad_(False) is first
    assert [id(p) for p in net.parameters()] == [id(net.layers[1].weights), id(net.layers[1].biases)]
    assert net.num_parameters() == 3 + 1 and len(net.state_dict()) == 4
    for p in first.parameters():  # the PyTorch idiom finds nothing to unfreeze
        p.requires_grad = True
    assert not first.weights.requires_grad
    net.requires_grad_()
    assert net.num_parameters() == 13
    before = first.weights.data.copy()
    optimizer = optim.GradientDescent(net, learning_rate=0.5)
    net(np.ones((4, 2))).sum().backward()
    optimizer.step()
    assert not np.array_equal(first.weights.data, before)  # trained again
    with pytest.raises(TypeError, match=r"^requires_grad_: requires_grad must be True or False, got str"):
        net.requires_grad_("no")
    assert net.num_parameters() == 13  # unchanged by the refused call


# --- printing and naming -----------------------------------------------------------------------------------

def test_a_function_of_ones_own_is_not_printed_as_the_named_activation_it_is_called_after():
    """``def sigmoid(z): return z * 2`` printed as ``activation='sigmoid'``, the repr of the real sigmoid; such a
    network is not saved with an architecture, so the printout told the user something the file does not hold."""
    def sigmoid(z):
        return z * 2

    own = nn.Layer(2, 3, activation=sigmoid)
    assert repr(own) == "Layer(2 → 3, activation=<function sigmoid>)" and own.config() is None
    assert repr(nn.Layer(2, 3, activation=np.tanh)) == "Layer(2 → 3, activation=<function tanh>)"
    assert repr(nn.Layer(2, 3)) == "Layer(2 → 3, activation='sigmoid')"
    named_by_function = nn.Layer(2, 3, activation=F.relu, name="hidden")  # the named one, passed as a function
    assert repr(named_by_function) == "Layer(2 → 3, activation='relu', name='hidden')"
    assert named_by_function.config()["activation"] == "relu"
    assert "(layers.1): Layer(2 → 3, activation=<function sigmoid>)" in repr(nn.Network(own))


def test_an_empty_layer_name_is_no_name_in_messages():
    """``Layer(3, 2, name="")`` began its errors with " (3 → 2): expects …", naming nothing; Network already took
    the empty name as none."""
    layer = nn.Layer(3, 2, name="")
    with pytest.raises(ValueError, match=r"^layer \(3 → 2\): expects 3 inputs per sample"):
        layer(np.ones(4))
    nn.Network(layer, nn.Layer(2, 1))
    assert layer.name == "layer 1"
    with pytest.raises(ValueError, match=r"^layer 1 \(3 → 2\): expects 3 inputs"):
        layer(np.ones(4))


def test_a_count_of_one_is_singular_in_a_layers_messages():
    """A 1 → 1 layer said "expects 1 inputs per sample" and "(1 inputs, 1 neurons)"."""
    layer = nn.Layer(1, 1)
    with pytest.raises(ValueError, match=r"expects 1 input per sample, shape \(1,\)"):
        layer(np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"must have shape \(1, 1\) \(1 input, 1 neuron\), got"):
        layer.weights = Value(np.ones((2, 1)))
    with pytest.raises(ValueError, match=r"must have shape \(2, 3\) \(2 inputs, 3 neurons\), got"):
        nn.Layer(2, 3).weights = Value(np.ones((3, 2)))


def test_a_layer_subclass_that_skips_layer_init_is_told_so_when_it_sets_its_weights():
    """The seed's Layer written on top of nn.Layer with Values but without ``super().__init__``: training worked, but
    printing it, putting it in a Network or asking its name raised "AttributeError: 'SeedsLayer' object has no
    attribute '_name'"."""
    class SeedsLayer(nn.Layer):
        def __init__(self, in_size, out_size):
            self.weights = Value(np.random.default_rng(0).random((in_size, out_size)))
            self.biases = Value(np.random.default_rng(1).random(out_size))

    with pytest.raises(TypeError, match=r"^SeedsLayer: weights set before nn\.Layer\.__init__ ran; call "
                                        r"super\(\)\.__init__\(in_size, out_size, activation\) first"):
        SeedsLayer(2, 3)

    class WithInit(nn.Layer):  # the way: nn.Layer's __init__ first, then the numbers of one's own
        def __init__(self, in_size, out_size):
            super().__init__(in_size, out_size)
            self.weights = Value(np.full((in_size, out_size), 0.5))

    layer = WithInit(2, 3)
    assert repr(nn.Network(layer)).startswith("Network(\n  (layers.1): Layer(2 → 3, activation='sigmoid')")
    assert layer.weights.label == "W^1"


# --- states from elsewhere ---------------------------------------------------------------------------------

def test_a_state_of_big_endian_arrays_loads_exactly(tmp_path):
    """np.load of a file written on a big-endian machine gives '>f8' arrays; load_state_dict refused them with
    "has dtype >f8; expected float32 or float64", which reads as a contradiction."""
    source = nn.MLP([2, 3, 1], rng=0)
    source.layers[0].weights.data = source.layers[0].weights.data.astype(np.float32)
    state = source.state_dict()
    path = tmp_path / "big endian.npz"
    np.savez(path, **{name: array.astype(array.dtype.newbyteorder(">")) for name, array in state.items()})
    with np.load(path, allow_pickle=False) as loaded:
        foreign = dict(loaded)
    assert all(array.dtype.byteorder == ">" for array in foreign.values())
    target = nn.MLP([2, 3, 1], rng=1)
    target.load_state_dict(foreign)
    for name, value in target.state_dict().items():
        assert value.dtype == state[name].dtype and value.dtype.isnative, name
        np.testing.assert_array_equal(value, state[name], err_msg=name)
    np.testing.assert_array_equal(target(np.ones((2, 2))).data, source(np.ones((2, 2))).data)
    before = target.state_dict()
    foreign["layers.2.biases"] = np.array([np.nan], dtype=">f8")  # a failed load still changes nothing
    with pytest.raises(ValueError, match=r"entry 'layers\.2\.biases' holds NaN"):
        target.load_state_dict(foreign)
    for name, value in target.state_dict().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)


def test_a_state_saved_the_pytorch_way_with_numpy_savez_says_how_to_load_it(tmp_path):
    """``np.savez(path, **model.state_dict())``, as ``torch.save(model.state_dict(), path)``: model.load(path) said
    only that the file lacks a format entry, not how such a file is loaded."""
    source, target = nn.MLP([2, 3, 1], rng=0), nn.MLP([2, 3, 1], rng=1)
    path = tmp_path / "state.npz"
    np.savez(path, **source.state_dict())
    before = target.state_dict()
    for load in (target.load, nn.load_state, nn.load):
        with pytest.raises(ValueError, match=r"format entry '__format__' is missing; arrays written with "
                                             r"numpy\.savez\(path, \*\*model\.state_dict\(\)\) are loaded with "
                                             r"model\.load_state_dict\(numpy\.load\(path\)\)$"):
            load(path)
    for name, value in target.state_dict().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)
    with np.load(path, allow_pickle=False) as arrays:  # the way the message gives
        target.load_state_dict(arrays)
    for name, value in target.state_dict().items():
        np.testing.assert_array_equal(value, source.state_dict()[name], err_msg=name)


def test_micrograds_mlp_call_is_shown_in_this_packages_form():
    """micrograd's ``MLP(3, [4, 4, 1])`` was refused with "got 3" only."""
    with pytest.raises(TypeError, match=r"^MLP: sizes must be a list of layer sizes like \[1, 12, 1\], got 3; "
                                        r"micrograd's MLP\(3, \[4, 4, 1\]\) is MLP\(\[3, 4, 4, 1\], "
                                        r"activation='relu', output_activation='identity', init='xavier'\) here$"):
        nn.MLP(3, [4, 4, 1])
    with pytest.raises(TypeError, match=r"got 3$"):
        nn.MLP(3)
    assert nn.MLP([3, 4, 4, 1]).sizes == [3, 4, 4, 1]


# --- PyTorch's Module habits --------------------------------------------------------------------------------------

class _Scaled(nn.Module):
    """A module of one's own: a Value of its own, a child Network and a dict holding a Layer; the child refers back."""

    def __init__(self) -> None:
        self.scale = Value(np.array([2.0]))
        self.body = nn.MLP([2, 3, 1], rng=0)
        self.body.owner = self  # walked once: the parent is not its own grandchild
        self.heads = {"out": nn.Layer(1, 1, activation="identity", rng=1)}

    def forward(self, x):
        return self.heads["out"](self.body(x)) * self.scale


def test_train_and_eval_set_the_flag_on_every_module_and_change_no_result():
    """model.train() and model.eval(), in every PyTorch loop, were AttributeErrors."""
    model = _Scaled()
    x = np.array([[0.3, -0.7], [1.0, 2.0]])
    before = model(x).data.copy()
    assert model.eval() is model
    assert [module.training for module in (model, model.body, *model.body.layers, model.heads["out"])] == [False] * 5
    np.testing.assert_array_equal(model(x).data, before)  # no layer here behaves differently
    assert model.train() is model and model.body.layers[0].training is True
    model.body.layers[1].train(False)
    assert [module.training for module in (model, model.body, *model.body.layers)] == [True, True, True, False]
    with pytest.raises(TypeError, match=r"^train: mode must be True or False, got str 'no'"):
        model.train("no")


def test_modules_and_children_are_walked_as_in_pytorch_with_the_parameters_names():
    model = _Scaled()
    named = list(model.named_modules())
    assert [name for name, _ in named] == ["", "body", "body.layers.1", "body.layers.2", "heads.out"]
    assert [module for _, module in named] == [model, model.body, *model.body.layers, model.heads["out"]]
    modules = model.modules()
    assert iter(modules) is modules and list(modules) == [module for _, module in named]
    assert list(model.named_children()) == [("body", model.body), ("heads.out", model.heads["out"])]
    assert list(model.children()) == [model.body, model.heads["out"]]
    body = model.body  # its owner is a child of it too, as named_parameters walks it
    assert list(body.named_children()) == [("layers.1", body.layers[0]), ("layers.2", body.layers[1]), ("owner", model)]
    owners = {name.rpartition(".")[0] for name, _ in model.named_parameters()}
    assert owners <= {name for name, _ in named}  # "body.layers.1.weights" belongs to the module "body.layers.1"
    assert [name for name, _ in model.body.layers[0].named_modules(prefix="first")] == ["first"]


def test_apply_calls_children_before_their_parent_and_serves_an_init_function():
    """model.apply(init_weights), PyTorch's way to initialise, with a function that sets a Layer's numbers."""
    model = _Scaled()
    visited = []
    assert model.apply(visited.append) is model
    assert visited == [*model.body.layers, model.body, model.heads["out"], model]  # each once, as PyTorch orders them
    rng = np.random.default_rng(5)

    def init_weights(module):
        if isinstance(module, nn.Layer):
            module.weights.data[...] = rng.normal(0.0, 0.1, module.weights.shape)
            module.biases.data.fill(0.01)

    model.apply(init_weights)
    layers = [*model.body.layers, model.heads["out"]]
    assert all((layer.biases.data == 0.01).all() and abs(layer.weights.data).max() < 1 for layer in layers)
    expected = np.random.default_rng(5)
    for layer in layers:  # drawn in apply's order
        np.testing.assert_array_equal(layer.weights.data, expected.normal(0.0, 0.1, layer.weights.shape))
    with pytest.raises(TypeError, match=r"^apply: fn must be a function of a Module, got int 3"):
        model.apply(3)


def test_named_parameters_without_recursion_give_the_modules_own():
    model = _Scaled()
    assert [(name, value) for name, value in model.named_parameters(recurse=False)] == [("scale", model.scale)]
    assert model.parameters(recurse=False) == [model.scale]
    assert model.body.parameters(recurse=False) == []
    assert [name for name, _ in model.body.layers[0].named_parameters("w", recurse=False)] == ["w.weights", "w.biases"]
    assert len(model.parameters(recurse=True)) == 1 + 4 + 2
    with pytest.raises(TypeError, match=r"^named_parameters: recurse must be True or False, got int 0"):
        model.named_parameters(recurse=0)


def test_float_and_double_convert_every_value_in_place_and_training_goes_on():
    """model.float() was an AttributeError, though a float32 network trains here (load_state_dict made one)."""
    model = nn.MLP([2, 3, 1], rng=0)
    model.layers[1].biases.requires_grad = False  # frozen ones are converted too, as the state holds them
    optimizer = optim.Adam(model, learning_rate=0.1)  # made before, as the Values stay the same objects
    x, y = np.array([[0.3, -0.7], [1.0, 2.0]]), np.array([[0.2], [0.9]])

    def step():
        model.zero_grad()
        cost = ((model(x) - y) ** 2).mean()
        cost.backward()
        optimizer.step()
        return cost.item()

    step()
    values = [value for _, value in model.named_parameters()] + [model.layers[1].biases]
    before = [value.data.copy() for value in values]
    assert model.float() is model
    assert [value.dtype for value in values] == [np.float32] * 4
    for value, numbers in zip(values, before):
        np.testing.assert_array_equal(value.data, numbers.astype(np.float32))
    costs = [step() for _ in range(20)]
    assert [value.dtype for value in values] == [np.float32] * 4
    assert all(value.grad.dtype == np.float32 for value in values[:3])
    assert costs[-1] < costs[0]
    assert all(array.dtype == np.float32 for array in model.state_dict().values())
    assert model.double() is model and [value.dtype for value in values] == [np.float64] * 4
    step()


def test_pytorch_names_without_a_counterpart_say_what_to_write():
    """nn.Linear, nn.Sequential: bare AttributeErrors; state_dict(prefix=): a bare TypeError."""
    model = nn.MLP([2, 3, 1], rng=0)
    with pytest.raises(AttributeError, match=r"^module 'tinygrad_edu.nn' has no attribute 'Linear' .*nn\.Layer\("):
        nn.Linear  # noqa: B018
    with pytest.raises(AttributeError, match=r"^module 'tinygrad_edu.nn' has no attribute 'Sequential' .*nn\.Network"):
        nn.Sequential  # noqa: B018
    with pytest.raises(AttributeError, match=r"^module 'tinygrad_edu.nn' has no attribute 'typo'$"):
        nn.typo  # noqa: B018
    with pytest.raises(TypeError, match=r"^state_dict: there is no argument prefix= .*add it yourself"):
        model.state_dict(prefix="a")
    with pytest.raises(TypeError, match=r"^named_parameters: there is no argument remove_duplicate="):
        model.named_parameters(remove_duplicate=False)


# --- initialisations against their published formulas ----------------------------------------------------------

def test_xavier_weights_are_symmetric_about_0_with_glorots_variance():
    """Glorot & Bengio (2010), eq. 16: W ~ U[−a, a] with a = √(6 / (n_in + n_out)), so Var W = a²/3 = 2/(n_in + n_out)
    and half the weights are negative.  Only the largest |w| was checked, so U[0, a) passed.  (60 000 draws from a
    fixed seed: the estimates below are within 1% of the truth, the tolerances are several times that.)"""
    n_in, n_out = 300, 200
    weights = nn.Layer(n_in, n_out, init="xavier", rng=0).weights.data
    bound = np.sqrt(6 / (n_in + n_out))
    assert weights.min() >= -bound and weights.max() <= bound
    assert weights.min() < -0.99 * bound and weights.max() > 0.99 * bound
    assert abs(weights.std() / np.sqrt(2 / (n_in + n_out)) - 1) < 0.03
    assert abs(weights.mean()) < 0.03 * weights.std()
    assert abs(np.mean(weights < 0) - 0.5) < 0.02
    assert abs(np.mean(np.abs(weights) < bound / 2) - 0.5) < 0.02  # uniform: half of them lie within a/2


def test_he_weights_are_normal_about_0_with_variance_2_over_fan_in():
    """He et al. (2015), eq. 10: W ~ N(0, 2/n_in), fan-in only (n_out would give a √(n_in/n_out) wrong scale).
    A normal puts 68.3% within one standard deviation and 95.4% within two."""
    n_in, n_out = 400, 150
    weights = nn.Layer(n_in, n_out, init="he", rng=1).weights.data
    sigma = np.sqrt(2 / n_in)
    assert abs(weights.std() / sigma - 1) < 0.03
    assert abs(weights.mean()) < 0.03 * sigma
    assert abs(np.mean(np.abs(weights) < sigma) - 0.6827) < 0.02
    assert abs(np.mean(np.abs(weights) < 2 * sigma) - 0.9545) < 0.01


# --- a bad-input sweep: combinations, aliasing and PyTorch's habits ------------------------------------------------

def test_a_state_loads_into_a_parameter_whose_array_is_read_only():
    """A parameter holding a read-only array (a memory map opened with mode "r", np.broadcast_to): load_state_dict
    failed with "index assignment: … assignment destination is read-only" after it had already set the layers before
    it, so a failed load changed the model.  Such an array is now replaced, as one of another dtype is."""
    model, source = nn.MLP([2, 3, 1], rng=0), nn.MLP([2, 3, 1], rng=1)
    frozen_numbers = model.layers[1].weights.data.copy()
    frozen_numbers.flags.writeable = False
    model.layers[1].weights.data = frozen_numbers
    model.load_state_dict(source.state_dict())
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, source.state_dict()[name], err_msg=name)
    assert not frozen_numbers.flags.writeable and frozen_numbers.tolist() != source.layers[1].weights.data.tolist()
    x = np.array([[0.5, -1.0]])
    np.testing.assert_array_equal(model(x).data, source(x).data)


def test_a_state_holding_a_pytorch_tensor_that_requires_grad_is_refused_by_name():
    """``{name: p for name, p in torch_model.named_parameters()}`` gave torch's bare RuntimeError "Can't call numpy()
    on Tensor that requires grad", naming neither load_state_dict nor the entry."""
    torch = pytest.importorskip("torch")
    model = nn.MLP([2, 1], rng=0)
    before = model.state_dict()
    state = {"layers.1.weights": torch.zeros((2, 1), dtype=torch.float64, requires_grad=True),
             "layers.1.biases": torch.zeros(1, dtype=torch.float64)}
    with pytest.raises(ValueError, match=r"^load_state_dict: entry 'layers\.1\.weights' is not an array of numbers"
                                         r".*detach\(\)"):
        model.load_state_dict(state)
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, before[name], err_msg=name)


def test_a_closed_numpy_load_file_is_named_and_changes_nothing(tmp_path):
    """``with np.load(path) as arrays: ...`` and load_state_dict(arrays) after the block: numpy's bare
    "'NoneType' object has no attribute 'open'" (the README's own np.load idiom, one line too late)."""
    source, model = nn.MLP([2, 3, 1], rng=0), nn.MLP([2, 3, 1], rng=1)
    np.savez(tmp_path / "state.npz", **source.state_dict())
    before = model.state_dict()
    with np.load(tmp_path / "state.npz", allow_pickle=False) as arrays:
        pass
    with pytest.raises(ValueError, match=r"^load_state_dict: the numpy\.load file is closed .*dict\(numpy\.load"):
        model.load_state_dict(arrays)
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(array, before[name], err_msg=name)

def test_float_and_double_leave_values_already_of_that_dtype_as_they_are():
    """``model.double()`` on a float64 model (as PyTorch's, a no-op) rewrote every parameter in place, so a cost
    computed before it could no longer be backpropagated ("the graph is stale")."""
    model = nn.MLP([2, 1], activation="identity", rng=0)
    weights = model.layers[0].weights.data
    x = np.array([[1.0, 2.0], [3.0, -1.0]])
    cost = model(x).sum()
    assert model.double() is model
    cost.backward()
    np.testing.assert_array_equal(model.layers[0].weights.grad, x.sum(axis=0, keepdims=True).T)  # d Σ(xW)/dW
    assert model.layers[0].weights.data is weights  # not copied
    model.float()
    cost = model(x).sum()
    model.float()
    cost.backward()
    assert model.layers[0].weights.grad.dtype == np.float32


def test_mlp_sizes_given_as_an_array_that_is_not_a_list_of_sizes_name_mlp():
    """``MLP(np.array(3))`` ended in numpy's "iteration over a 0-d array"."""
    for sizes in (np.array(3), np.array([[2, 3, 1]])):
        with pytest.raises(TypeError, match=r"^MLP: sizes must be a list of layer sizes like \[1, 12, 1\], got array"):
            nn.MLP(sizes)
    assert nn.MLP(np.array([2, 3, 1])).sizes == [2, 3, 1]


def test_a_prefix_that_is_no_string_and_a_wrong_flag_name_the_method_called():
    """``named_parameters(prefix=5)`` gave names like "5.layers.1.weights" and ``named_modules(prefix=5)`` the name 5
    (PyTorch's refuse both); ``parameters(recurse="no")`` named named_parameters, which the caller never called."""
    model = nn.MLP([2, 3, 1], rng=0)
    with pytest.raises(TypeError, match=r"^named_parameters: prefix must be a string, got int 5$"):
        model.named_parameters(prefix=5)
    with pytest.raises(TypeError, match=r"^named_modules: prefix must be a string, got NoneType None$"):
        model.named_modules(prefix=None)
    with pytest.raises(TypeError, match=r"^parameters: recurse must be True or False, got str 'no'$"):
        model.parameters(recurse="no")
    assert [name for name, _ in model.named_parameters(prefix="net")][0] == "net.layers.1.weights"


def test_pytorch_module_classes_say_what_to_write_here():
    """``nn.MSELoss()``, ``nn.ModuleList``, ``nn.Parameter`` were bare AttributeErrors.  (``model.to(device)`` and
    ``layer.weight`` stay Python's own: a ``Module.__getattr__`` for them cost the x² update 4–15 %, see
    benchmarks/README.md.)"""
    with pytest.raises(AttributeError, match=r"^module 'tinygrad_edu.nn' has no attribute 'MSELoss' .*"
                                             r"losses\.mean_squared_error\(prediction, target\), the mean"):
        nn.MSELoss  # noqa: B018
    with pytest.raises(AttributeError, match=r"'ModuleList' \(a PyTorch name\); a plain list of Modules"):
        nn.ModuleList  # noqa: B018
    with pytest.raises(AttributeError, match=r"'Parameter' \(a PyTorch name\); a parameter is a Value here"):
        nn.Parameter  # noqa: B018


# --- losses ------------------------------------------------------------------------------------------------------

def test_squared_error_says_what_pytorchs_keywords_are_here():
    """mean_squared_error named ``input=`` and ``reduction=`` already; squared_error, the seed's cost, gave Python's
    bare "unexpected keyword argument"."""
    with pytest.raises(TypeError, match=r"^squared_error: there is no argument input= .*prediction= here$"):
        losses.squared_error(input=Value([1.0]), target=[0.0])
    with pytest.raises(TypeError, match=r"^squared_error: there is no argument reduction= .*averaged over the samples"):
        losses.squared_error(Value([[1.0], [3.0]]), [[0.0], [0.0]], reduction="sum")
    assert float(losses.squared_error(prediction=Value([[1.0], [3.0]]), target=[[0.0], [0.0]])) == (1 + 9) / 2
