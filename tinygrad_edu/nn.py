"""Layers and networks (seed, sections 2.1, 3 and 4): the seed's ``Layer`` class, stacked into a ``Network``.

A layer holds its **weights** ``W`` (shape ``(in_size, out_size)``) and **biases** ``b`` (shape
``(out_size,)``) as :class:`~tinygrad_edu.Value` objects and computes the activations of its neurons from the
activations of the previous layer, ``α^i = σ(α^{i-1} · W^i + b^i)``: for neuron ``j``,
``α_j = σ(Σ_k α_k · w_{k;j} + b_j)``.

    >>> import numpy as np
    >>> from tinygrad_edu import nn
    >>> net = nn.MLP([1, 12, 12, 1], activation="relu", output_activation="identity", init="he", rng=0)
    >>> net(np.array([[0.5], [-1.0]])).shape      # a batch of two samples
    (2, 1)
    >>> [name for name, _ in net.named_parameters()][:2]      # layers count from 1, as W¹ in the seed
    ['layers.1.weights', 'layers.1.biases']

Models are saved as ``.npz`` files (``model.save(path)``) and read back without pickle (``model.load(path)``,
``nn.load_state(path)``, or ``nn.load(path)``, which also rebuilds the architecture); the file format lives in
:mod:`tinygrad_edu.serialization`.  No model may hold more than :data:`MAX_PARAMETERS` (10**8) numbers.
"""

from __future__ import annotations

import contextlib
import functools
import math
import numbers
import os
import reprlib
import sys
import types
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import numpy as np

from tinygrad_edu import checks, losses, ops, seeds, serialization, write_instead
from tinygrad_edu.engine import Value, apply, no_grad
from tinygrad_edu.functional import ACTIVATIONS

__all__ = ["Module", "Layer", "Network", "MLP", "load_state", "load", "INITS", "FORMAT", "MAX_PARAMETERS"]

FORMAT = serialization.FORMAT
MAX_PARAMETERS = serialization.MAX_PARAMETERS
#: Initialisation schemes by name.
INITS = ("uniform", "xavier", "he")

PathLike = str | os.PathLike
_SHOWN = 12  # the most children and Values a Module's repr lists
#: What ``dtype=`` on a layer (PyTorch's ``nn.Linear(..., dtype=torch.float32)``) is here.
_BUILT_IN_FLOAT64 = "layers are built in float64; convert one afterwards with .float() (float32) or .double(), " \
                    "e.g. nn.MLP(sizes).float()"


#: What PyTorch's and Keras's recurrent layers (RNN, LSTM, GRU, SimpleRNN, their cells) are here.
_UNROLL_BY_HAND = "there are no recurrent layers here; unroll one in a loop with the same weight Values at every " \
                  "step, h = (h @ W_h + x[:, t] @ W_x + b).tanh() for t in range(steps): backward() is then " \
                  "backpropagation through time (h = h.detach() every k steps truncates it)"

#: What PyTorch's ReLU, Sigmoid, Tanh, LeakyReLU and Softplus classes and Keras's Activation are here (``{}``: the
#: activation's name).
_ACTIVATION_IN_THE_LAYER = "a Layer applies its activation itself here: nn.Layer(in_size, out_size, activation='{}')"

#: What PyTorch's Softmax and LogSoftmax classes (the last module of a classifier or a policy network) are here.
_SOFTMAX_OUTSIDE_THE_LAYER = ("there is no softmax layer here: give the output layer activation='identity' and take "
                              "F.softmax(model(x)) for the probabilities, F.log_softmax(model(x)) for their logarithms "
                              "(a policy's ln π(a): F.log_softmax(model(x))[np.arange(n), actions], exact where a "
                              "probability rounds to 0); losses.cross_entropy takes the raw outputs itself")

# torch.nn's classes that have no counterpart here, and what to write instead (this module's __getattr__).
_PYTORCH_CLASSES = {
    "Linear": "nn.Layer(in_size, out_size, activation='identity') is one here; its weights are (in_size, "
              "out_size), the transpose of Linear.weight (out_features, in_features)",
    "Sequential": "nn.Network(layer, layer, ...) is one here, of Layers; blocks of your own (a residual block) go in "
                  "a list on a Module of your own, called in turn in its forward: for block in self.blocks: x = "
                  "block(x)",
    **{name: _ACTIVATION_IN_THE_LAYER.format(activation)  # (each module's own activation, not one for all)
       for name, activation in (("ReLU", "relu"), ("Sigmoid", "sigmoid"), ("Tanh", "tanh"),
                                ("LeakyReLU", "leaky_relu"), ("Softplus", "softplus"))},
    **dict.fromkeys(("Softmax", "LogSoftmax"), _SOFTMAX_OUTSIDE_THE_LAYER),
    "ModuleList": "a plain list of Modules is walked here: self.layers = [nn.Layer(...), ...]",
    "ModuleDict": "a plain dict of Modules is walked here, its keys naming them: self.heads = {'reg': nn.Layer(...), "
                  "...} (parameters heads.reg.weights, ...)",
    **dict.fromkeys(("ParameterList", "ParameterDict"), "a plain list or dict of Values is walked here: "
                                                        "self.scales = [Value(np.ones(n)), ...]"),
    **dict.fromkeys(("RNN", "RNNCell", "LSTMCell", "GRUCell"), _UNROLL_BY_HAND),
    "Parameter": checks.PARAMETER_ADVICE,
    "MultiheadAttention": "there is no attention layer here; write it on a Module of your own, with weight Values "
                          "Wq, Wk, Wv, Wo of shape (d, d): heads = lambda y: y.reshape(B, T, h, d // h).transpose(0, "
                          "2, 1, 3) splits x @ Wq, x @ Wk and x @ Wv (x of shape (B, T, d)) into q, k and v, "
                          "(F.softmax(q @ k.swapaxes(-1, -2) / (d // h) ** 0.5) @ v).transpose(0, 2, 1, 3).reshape(B, "
                          "T, d) @ Wo joins the heads (an attn_mask of booleans, True where a query may not look, "
                          "goes in with F.where(attn_mask, -np.inf, scores))",
    "LayerNorm": "there is no LayerNorm here; on a Module of your own with Values weight = Value(np.ones(d)) and bias "
                 "= Value(np.zeros(d)), write " + write_instead.LAYER_NORM,
    "Embedding": "a Value of shape (num_embeddings, embedding_dim) is one here, indexed by the token ids: "
                 "table[ids], ids an integer array (the gradient adds up where an id repeats)",
    "Conv2d": "there is no convolution layer here; on a Module of your own with Values weight and bias, its forward "
              "is " + write_instead.CONVOLUTION["conv2d"],
    "MaxPool2d": "there is no pooling layer here; in a forward of your own, " + write_instead.CONVOLUTION["max_pool2d"],
    "AvgPool2d": "there is no pooling layer here; in a forward of your own, " + write_instead.CONVOLUTION["avg_pool2d"],
    **{name: f"there is no {name} layer here; in a forward of your own, {write_instead.CLAMPED[function]}"
       for name, function in (("Hardtanh", "hardtanh"), ("ReLU6", "relu6"))},
    "Unfold": "there is no Unfold layer here; in a forward of your own, " + write_instead.CONVOLUTION["unfold"],
    "ZeroPad2d": "there is no padding layer here; in a forward of your own, " + write_instead.CONVOLUTION["pad"],
    "Flatten": "x.reshape(len(x), -1) in a forward of your own (it keeps the batch's first axis, as Flatten does)",
    "functional": "it is tinygrad_edu.functional here (import tinygrad_edu.functional as F)",
    "utils": "there is no nn.utils here; clip_grad_norm_(model.parameters(), c) is, after backward(): norm = "
             "optim.gradient_norm(model), and if norm > c, p.grad *= c / norm for p in model.parameters() if p.grad "
             "is not None (a parameter the cost did not reach has no gradient)",
}

#: torch.load's keywords, given to nn.load, nn.load_state and model.load: what they are here.
_LOAD_KEYWORDS = {key: write_instead.PYTORCH_LOAD_KEYWORDS[key] for key in ("map_location", "weights_only")}
#: What ``nn.save(model.state_dict(), path)`` (torch.save's spelling, beside nn.load) is here.
_SAVED_BY_THE_MODEL = ("a model saves itself here: model.save(path), which model.load(path) reads back into a model "
                       "built as the saved one (nn.load(path) rebuilds a Network or MLP, nn.load_state(path) gives "
                       "the arrays by name)")

#: The classes both torch.nn and Keras have, and what to write instead.
_PYTORCH_AND_KERAS_CLASSES = {
    "Dropout": write_instead.PYTORCH_LAYERS["Dropout"],  # (Keras's rate is p)
    **dict.fromkeys(("LSTM", "GRU"), _UNROLL_BY_HAND),
}

#: micrograd's classes and keywords, and what they are here (micrograd's Neuron and Layer apply ReLU unless
#: nonlin=False; a Layer here applies its ``activation``, sigmoid by default).
_MICROGRAD_CLASSES = {"Neuron": "micrograd's Neuron(nin) is a layer of one neuron here: "
                                "nn.Layer(nin, 1, activation='relu'), or activation='identity' for nonlin=False"}
_NONLIN = "micrograd's nonlin=True is activation='relu' here, nonlin=False is activation='identity'"
#: micrograd's Neuron and Layer attributes (and PyTorch's Linear's), and what they are here (one weight matrix, a
#: column per neuron).
_MICROGRAD_LAYER_ATTRIBUTES = {
    "weight": "PyTorch's linear.weight (out_features, in_features) is the transpose of layer.weights (in_size, "
              "out_size) here",
    "bias": "PyTorch's linear.bias is layer.biases (out_size,) here",
    "w": "micrograd's neuron.w is a column of the matrix layer.weights (in_size, out_size) here: layer.weights[:, j] "
         "for neuron j",
    "b": "micrograd's neuron.b is an entry of layer.biases (out_size,) here: layer.biases[j] for neuron j",
    "neurons": "micrograd's layer.neurons are the columns of layer.weights (in_size, out_size) and the entries of "
               "layer.biases (out_size,) here, not objects of their own",
}

#: Keras's layer classes and Dense's keywords, and what they are here (a Layer takes its number of inputs too).
_KERAS_CLASSES = {
    "Dense": "nn.Layer(in_size, out_size, activation='identity') is Dense(units) here (Dense's default activation "
             "is linear, a Layer's sigmoid: give it): it takes the number of inputs too, where Dense infers it "
             "(units is out_size), e.g. Dense(12, activation='relu') is nn.Layer(1, 12, activation='relu')",
    "Input": "there is no input layer: the first Layer's in_size is the number of inputs, nn.Layer(in_size, ...)",
    "Activation": _ACTIVATION_IN_THE_LAYER.format("relu"),
    "SimpleRNN": _UNROLL_BY_HAND,
    "Model": "a model of your own derives from nn.Module and defines forward(self, x); nn.Network(layer, layer, ...) "
             "is Keras's Sequential",
}
_KERAS_DENSE = {
    "units": "nn.Layer(in_size, out_size) takes the number of inputs and the number of neurons (Keras's units) "
             "by position: nn.Layer(in_size, units, activation=...)",
    **dict.fromkeys(("input_dim", "input_shape"), "the number of inputs is in_size, the first argument: "
                                                  "nn.Layer(in_size, out_size, ...)"),
    "kernel_initializer": "it is init= here: 'uniform', 'xavier' (Keras's glorot_uniform) or 'he' (he_normal)",
    "use_bias": "every Layer has biases here; init='xavier' or 'he' starts them at 0, and freezing them keeps "
                "them there: layer.biases.requires_grad = False",
}
#: PyTorch's Linear's keywords, and what they are here (bias=False: biases held at 0, as use_bias=False).
_PYTORCH_LINEAR = {
    "in_features": "PyTorch's in_features is in_size here, the first argument: nn.Layer(in_size, out_size, ...)",
    "out_features": "PyTorch's out_features is out_size here, the second argument: nn.Layer(in_size, out_size, ...)",
    "bias": _KERAS_DENSE["use_bias"],
}
#: MLP(sizes, learning_rate=0.1) (scikit-learn's MLPRegressor holds its learning rate): where it goes here.
_LEARNING_RATE = ("the learning rate belongs to the optimizer, built from the model: optim.SGD(model, "
                  "learning_rate=0.1), given to fit(model, inputs, targets, optimizer=..., episodes=...)")
#: The same for a network's builders (nn.MLP(sizes, bias=False), Keras's use_bias): every layer's biases, frozen.
_NETWORK_BIASES = dict.fromkeys(("bias", "use_bias"), "every Layer has biases here; init='xavier' or 'he' starts "
                                "them at 0, and freezing them keeps them there: for layer in net: "
                                "layer.biases.requires_grad = False")
#: Keras's activation names (None and 'linear' are its identity; its softmax output goes with its cross-entropy;
#: log_softmax, also PyTorch's, is taken on the outputs).
_KERAS_ACTIVATIONS = {
    "linear": "Keras's 'linear' is 'identity' here",
    "softmax": "Keras's softmax output goes with its categorical_crossentropy; here losses.cross_entropy takes the "
               "raw outputs (logits) and applies the softmax itself: give the output layer activation='identity' "
               "(F.softmax(model(x)) gives the probabilities)",
    "log_softmax": "give the output layer activation='identity' and take F.log_softmax(model(x)), the logarithms of "
                   "the probabilities (a policy's ln π(a): F.log_softmax(model(x))[np.arange(n), actions]), or pass "
                   "the function itself, F.log_softmax, as the activation",
}

#: The activations' names written another way (PyTorch's classes nn.ReLU, nn.LeakyReLU; 'Tanh'; scikit-learn's
#: 'logistic'), by the name lower-cased without '_' and '-': the name here.
_SPELLINGS = {**{name.replace("_", ""): name for name in ACTIVATIONS}, "logistic": "sigmoid"}


def _name_the_module(error: TypeError | ValueError, module: Module) -> None:
    """Name in ``error`` the Module it came from by its path under ``module`` (``blocks.3.f2``), as it leaves each
    Module's call: the innermost is noted first, and each Module around it names it again from there, so the
    outermost's path is the one read.  A Network numbers its own layers already (``layer 2``): it adds nothing."""
    raised_in = getattr(error, "_raised_in", None)
    if raised_in is None:
        if len(error.args) == 1 and isinstance(error.args[0], str) and str(error) == error.args[0]:
            with contextlib.suppress(AttributeError):  # (an error class of one's own with __slots__: left as it is)
                error._raised_in = (module, error.args[0])  # type: ignore[union-attr]
        return
    inner, message = raised_in
    if isinstance(module, Network):
        return
    path = next((name for name, found in module.named_modules() if found is inner), "")
    if path:
        error.args = (f"{message} (in {type(module).__name__}.{path}, a {type(inner).__name__})",)


def _checked_prefix(prefix: Any, where: str) -> str:
    """A prefix for names must be a string (PyTorch's too), else names like ``5.layers.1.weights`` came out."""
    if not isinstance(prefix, str):
        raise TypeError(f"{where}: prefix must be a string, got {type(prefix).__name__} {prefix!r:.60}")
    return prefix


class _IncompatibleKeys(NamedTuple):
    """What :meth:`Module.load_state_dict` returns, as in PyTorch: the parameters the state had no entry for,
    and the state's entries that name no parameter (both empty unless ``strict=False``)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


_M = TypeVar("_M", bound="Module")  # the type of the module a method returns (itself)


class Module:
    """Base class of everything with parameters: layers and networks.

    Parameters are found in the attributes (in the order they were set): every :class:`Value` that requires a gradient,
    every sub-``Module``, and lists, tuples and dicts of them (a dict's keys name its entries, as in
    ``table.a.weights``, so Modules and Values in a dict need keys that are non-empty strings without ``.``; other keys
    raise ``TypeError``).  Each Module is walked once, so a child may refer back to its parent.  Attributes whose name
    starts with ``_`` are private and skipped (a Module set to one raises ``TypeError``: PyTorch would train it, here
    nothing would); a Value computed by an operation (an output kept as ``self.output``, or ``w.astype(...)``) is no
    parameter and under any other name raises ``TypeError``, rather than being trained, counted or saved as one.  A
    parameter frozen with ``requires_grad = False`` (a whole module: ``requires_grad_(False)``) is not one of
    ``parameters()`` (an optimizer leaves it alone) but stays in ``state_dict()``, ``save`` and ``load``, as in PyTorch.
    That is also how numbers that are kept but never trained (PyTorch's buffers, such as a batch norm's running
    averages) are held: ``self.running_mean = Value(np.zeros(n), requires_grad=False)``, changed in place under
    ``no_grad()``; a numpy array among the attributes is not part of the state, and is not saved.
    Subclasses define ``forward``; calling the module calls ``forward``.  Its repr lists the child Modules and the
    Values by name, with their shapes.

    As in PyTorch, ``modules()``, ``children()`` and ``apply(fn)`` walk the Modules under it, ``train()`` and
    ``eval()`` set a flag that no layer here reads, and ``float()`` / ``double()`` convert the Values in place.
    """

    training: bool = True  # set by train() and eval(); no layer here reads it

    def forward(self, *args: Any, **kwargs: Any) -> Value:
        """What calling the module computes: each subclass defines it (here it raises NotImplementedError)."""
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Value:
        try:
            return self.forward(*args, **kwargs)
        except (TypeError, ValueError) as error:  # (a layer deep in blocks of one's own: say which)
            _name_the_module(error, self)
            raise

    def _checked_setattr(self, name: str, value: Any) -> None:
        """A Module or Value (or a list, tuple or dict of them) under the name of one of the module's methods would
        hide it (``model.parameters = [...]`` breaks ``parameters()``, optimizers and ``save``): refused, as PyTorch
        refuses a parameter or sub-module named after an existing attribute.  A property with a setter
        (``layer.activation``) takes the value itself, and says what is wrong with it."""
        method = getattr(type(self), name, None)
        hidden = callable(method) or (isinstance(method, property) and method.fset is None)
        if hidden and _holds_parameters(value, set()):
            raise TypeError(f"{type(self).__name__}: the attribute {name!r} would hide {type(self).__name__}.{name}, "
                            f"which the module needs; give the {type(value).__name__} {value!r:.40} another name")
        if name == "requires_grad" and isinstance(method, checks.Absent):  # (a module of one's own too)
            raise AttributeError(f"{type(self).__name__} has no attribute requires_grad: {_FREEZE_ADVICE}",
                                 name=name, obj=self)
        if name.startswith("_") and _holds_parameters(value, set(), modules_only=True):
            raise TypeError(f"{type(self).__name__}: the attribute {name!r} holds a Module, but attributes whose names "
                            "start with '_' are private here: no optimizer would train its parameters and no save "
                            "would keep them (PyTorch registers it); give it a name that does not start with '_'")
        super().__setattr__(name, value)

    if not TYPE_CHECKING:  # (hidden from type checkers, which would take any model.misspelt = x)
        __setattr__ = _checked_setattr

    def __dir__(self) -> list[str]:
        """Its attributes, without minitorch's names that are only there to say what to write (``add_parameter``)."""
        return checks.present(self, super().__dir__())

    @checks.pytorch_keywords(remove_duplicate="each parameter is listed once here")
    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Value]]:
        """``(name, parameter)`` pairs, names like ``"layers.1.weights"``; each parameter once.

        Names are the attribute path; positions in lists count from 1, so that ``layers.1.weights`` is ``W¹``.
        ``recurse=False``: only the module's own, not those of the Modules under it (as in PyTorch).
        """
        recurse = checks.flag(recurse, "recurse", "named_parameters")
        return _named_values(self, _checked_prefix(prefix, "named_parameters"), frozen=False, recurse=recurse)

    def parameters(self, recurse: bool = True) -> list[Value]:
        """All parameters (weights and biases) that require a gradient, each once; frozen ones are left out (they
        are in :meth:`state_dict`).  ``recurse=False``: only the module's own."""
        recurse = checks.flag(recurse, "recurse", "parameters")
        return [value for _, value in self.named_parameters(recurse=recurse)]

    # --- the Modules under this one, as PyTorch walks them ------------------------------------------------------
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """The Modules among the module's attributes (in lists, tuples and dicts too, not inside other Modules), by
        name, each once: an MLP's are ``("layers.1", layer)``, ``("layers.2", layer)``…"""
        seen = {id(self)}
        for name, member in _members(self):
            if isinstance(member, Module) and id(member) not in seen:
                seen.add(id(member))
                yield name, member

    def children(self) -> Iterator[Module]:
        """The Modules of :meth:`named_children`, without their names."""
        return (child for _, child in self.named_children())

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """The module itself (named ``prefix``, ``""`` by default), then every Module under it, each once, a parent
        before its children, named as :meth:`named_parameters` names their parameters (``"layers.1"``)."""
        return _named_modules(self, _checked_prefix(prefix, "named_modules"), set(), parents_first=True)

    def modules(self) -> Iterator[Module]:
        """The Modules of :meth:`named_modules`, the module itself first, without their names."""
        return (module for _, module in self.named_modules())

    def apply(self: _M, fn: Callable[[Module], Any]) -> _M:
        """Call ``fn`` on every Module under this one, then on this one (children before their parent, as PyTorch's
        ``apply``), each once; returns the module.  For ``model.apply(init_weights)``: a function that sets a
        Layer's numbers in place (``with no_grad(): m.weights[...] = ...``, or ``m.biases.data.fill(0.01)``)."""
        if not callable(fn):
            raise TypeError(f"apply: fn must be a function of a Module, got {type(fn).__name__} {fn!r:.60}")
        for _, module in list(_named_modules(self, "", set(), parents_first=False)):
            fn(module)
        return self

    def train(self: _M, mode: bool = True, *samples: Any) -> _M:
        """Set ``training`` to ``mode`` on the module and every Module under it, as PyTorch's; returns the module.

        For PyTorch's loops, which call ``model.train()`` and ``model.eval()``: no layer here computes anything
        differently in training (there is no dropout and no batch norm), so only a ``forward`` of your own reads
        the flag.  It trains nothing: samples given to it (the seed's ``n.train(...)``) are a TypeError saying that
        :func:`tinygrad_edu.training.fit` trains."""
        first: Any = mode  # (annotated bool, but a student's samples may come here)
        if samples or isinstance(first, (np.ndarray, Value, list, tuple)):
            given = ", ".join(type(argument).__name__ for argument in (first, *samples))
            raise TypeError(f"train: got {given} where it takes one flag, mode=True or False; "
                            f"{write_instead.SEED_TRAIN}")
        mode = checks.flag(mode, "mode", "train")
        for module in self.modules():
            module.training = mode
        return self

    def eval(self: _M) -> _M:
        """``train(False)``: ``training`` becomes False here and below; nothing computes differently (see
        :meth:`train`).  Returns the module, so ``model = nn.load(path).eval()`` works."""
        return self.train(False)

    def float(self: _M) -> _M:
        """Every Value of the module (frozen ones too) and its gradient array in float32, in place; returns the
        module.  (A gradient that is a Value, from ``backward(create_graph=True)``, is left as it is.)

        The Values stay the same objects, so an optimizer made before keeps training them.  Inputs may stay
        float64: a float32 layer's gradients are float32."""
        return self._astype(np.float32)

    def double(self: _M) -> _M:
        """Every Value of the module and its gradient in float64 (the default), in place; returns the module."""
        return self._astype(np.float64)

    def _astype(self: _M, dtype: type[np.floating]) -> _M:
        values = [value for _, value in self._named_state()]  # all found first: a refused walk changes nothing
        # (one already in it is left alone: a graph computed from it stays valid)
        converted = [(value, value.data.astype(dtype), value.grad.astype(dtype) if isinstance(value.grad, np.ndarray)
                      else value.grad) for value in values if value.dtype != dtype]
        with no_grad():  # all converted first: a conversion that fails (MemoryError) changes nothing
            for value, data, grad in converted:
                value.grad = grad
                value.data = data
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients of all parameters, frozen ones too (as in PyTorch: a gradient kept while frozen
        would be added to after ``requires_grad_()``): each ``grad`` becomes None (``set_to_none=False``: zeros,
        see :meth:`Value.zero_grad`)."""
        set_to_none = checks.flag(set_to_none, "set_to_none", "zero_grad")
        for _, value in list(self._named_state()):  # all found first: a refused walk changes nothing
            value.zero_grad(set_to_none)

    def requires_grad_(self: _M, requires_grad: bool = True) -> _M:
        """Freeze (``False``) or unfreeze (``True``) every parameter of the module, as PyTorch's; returns the module.

        Frozen parameters are not among :meth:`parameters`, so ``for p in model.parameters(): p.requires_grad =
        True`` cannot unfreeze them: this can.  An optimizer made before keeps the parameters it was given.

        ``requires_grad_(True)`` unfreezes every Value that requires no gradient, buffers too (a batch norm's
        running averages, which are such Values here): they become parameters, which an optimizer made afterwards
        trains.  Unfreeze the modules that hold weights (``model.hidden.requires_grad_(True)``), or freeze the
        buffers again (``norm.running_mean.requires_grad = False``)."""
        requires_grad = checks.flag(requires_grad, "requires_grad", "requires_grad_")
        for _, value in list(self._named_state()):  # all found first: a refused walk changes nothing
            value.requires_grad = requires_grad
        return self

    def num_parameters(self) -> int:
        """How many numbers the parameters hold in total (a 1-12-12-1 network has 193); frozen ones do not count."""
        return sum(value.size for value in self.parameters())

    @reprlib.recursive_repr("...")  # a child referring back to its parent shows it as ...
    def __repr__(self) -> str:
        """The child Modules and the Values by name (as ``state_dict`` names them), one a line, as PyTorch lists a
        module's children, and the number of parameters."""
        members = list(_members(self))
        lines = [f"  ({name}): {_member_text(member)}".replace("\n", "\n  ") for name, member in members[:_SHOWN]]
        lines += [f"  … and {len(members) - _SHOWN} more"] if len(members) > _SHOWN else []
        try:
            count = f"  # {checks.counted(self.num_parameters(), 'parameter')}"
        except TypeError:  # a Value computed by an operation among the attributes: its line says so
            count = ""
        return f"{type(self).__name__}(" + "".join(f"\n{line}" for line in lines) + ("\n)" if lines else ")") + count

    # --- state ---------------------------------------------------------------------------------------------
    def _named_state(self) -> Iterator[tuple[str, Value]]:
        """What the module's state holds: the parameters and, as in PyTorch, parameters frozen by
        ``requires_grad = False`` (they are still part of the model, and a saved model must load back whole)."""
        return _named_values(self, "", frozen=True)

    @checks.pytorch_keywords(
        prefix="add it yourself: {prefix + name: array for name, array in model.state_dict().items()}",
        keep_vars="it holds copies of the numbers; named_parameters() gives the Values (those not frozen)")
    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's data, by name, frozen parameters (``requires_grad = False``) included.

        A parameter tied between layers (the same Value as the weights of two layers, or a layer used under two
        names) is in it once, under the name :meth:`named_parameters` gives it (its first), where PyTorch's lists it
        under each name; :meth:`load_state_dict` takes such a state too."""
        return {name: value.data.copy() for name, value in self._named_state()}

    @checks.pytorch_keywords(assign=write_instead.PYTORCH_LOAD_KEYWORDS["assign"])
    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> _IncompatibleKeys:
        """Set the parameters from ``state`` (as made by :meth:`state_dict`), exactly, keeping its dtype.

        Everything is checked before anything is assigned: a missing, extra or mis-shaped entry, or one that
        is not an array of finite floats, raises ``ValueError`` naming it, and the model stays as it was.  With
        ``strict=False``, as in PyTorch, missing and extra names are allowed (the parameters without an entry keep
        their numbers) and returned as ``(missing_keys, unexpected_keys)``; a state whose names count layers from
        0 is still refused, as none of them would fit, and so is an optimizer's ``state_dict()``.  A tied
        parameter's other names (``dec.weights`` for the Value that is also ``enc.weights``, as PyTorch's
        ``state_dict`` lists it) are taken for its own, if their entries hold the same numbers.  A PyTorch
        ``state_dict`` (``0.weight``, ``0.bias``…) is refused, with
        ``strict=False`` too, saying what to load instead: a Layer's ``weights`` are ``(in_size, out_size)``, the
        transpose of a Linear's ``weight`` ``(out_features, in_features)``, so ``layers.1.weights`` is
        ``state["0.weight"].T`` and ``layers.1.biases`` is ``state["0.bias"]``; entries may be PyTorch tensors.
        Given ``numpy.load(path)`` itself (inside its ``with`` block), an error names the file too; a
        ``dict(numpy.load(path))`` holds arrays that no longer tell which file they came from.
        """
        if not isinstance(state, Mapping):
            raise TypeError(_not_a_state(state))
        strict = checks.flag(strict, "strict", "load_state_dict")  # numpy's True and False too, as every flag here
        if isinstance(state, np.lib.npyio.NpzFile) and state.zip is None:  # (its entries can no longer be read)
            raise ValueError("load_state_dict: the numpy.load file is closed (its with block has ended); call "
                             "load_state_dict inside the with block, or pass dict(numpy.load(path))")
        params = dict(self._named_state())
        with checks.naming_the_file(state):  # (np.load(path): which file, a model's or an optimizer's?)
            aliases = _tied_names(self, params, state)
            result = _check_names(type(self).__name__, params, state, strict, aliases)
            arrays = {name: _state_array(name, _state_entry(state, name), value.shape)
                      for name, value in params.items() if name in state}
            for alias, name in aliases.items():
                array = _state_array(alias, _state_entry(state, alias), params[name].shape)
                if name in arrays and not (array.dtype == arrays[name].dtype and np.array_equal(array, arrays[name])):
                    raise ValueError(f"load_state_dict: entries {name!r} and {alias!r} name one tied parameter (the "
                                     "same Value) but hold different numbers")
                arrays.setdefault(name, array)
        with no_grad():
            for name, array in arrays.items():
                _set_numbers(params[name], array)
        return result

    def _architecture(self) -> dict | None:
        """What :meth:`save` stores so that :func:`load` can rebuild the module (None: nothing)."""
        return None

    def save(self, path: PathLike) -> None:
        """Write the parameters to ``path`` as an ``.npz`` archive (no pickle), with a format marker entry; the file
        gets the name given, with no ``.npz`` added (as ``torch.save``); Keras's names, ``.h5``, ``.hdf5`` and
        ``.keras``, are refused (no HDF5 reader opens the archive).  A module without Values is refused.

        The file is written next to its destination and then renamed, so an interrupted save never leaves a
        half-written model behind.  Networks built from named activations also store their architecture, so
        that :func:`load` can rebuild them.  See :mod:`tinygrad_edu.serialization` for the format.
        """
        state = self.state_dict()
        if not state:
            arrays = [name for name, member in _members(self) if isinstance(member, np.ndarray)]
            hint = f"; numpy arrays ({', '.join(arrays)}) are not parameters: keep weights as Value(array)" \
                if arrays else ""
            raise ValueError(f"save: this {type(self).__name__} holds no Values, so the file would be an empty model"
                             f"{hint}")
        for module in self.modules():  # numbers of another shape set through .data = … (the file would fit no layer)
            if isinstance(module, Layer):
                for name in ("weights", "biases"):
                    _check_layer_parameter(vars(module), name, getattr(module, name), f"save: {module.name}")
        serialization.save(path, state, self._architecture())

    @checks.pytorch_keywords(**_LOAD_KEYWORDS)
    def load(self: _M, path: PathLike | None = None) -> _M:
        """Set the parameters from a file written by :meth:`save`; returns the module.

        A file that is not ours, truncated or corrupt, whose stored architecture is damaged (the same check as
        :func:`load`), or that does not fit this module (other shapes, or other activations where both are
        known) raises ``ValueError`` and leaves the module unchanged.  Only entries of the sizes of this module's
        parameters are read.  A tied parameter may be stored under any of its names (``dec.weights`` for the Value
        that is also ``enc.weights``), as :meth:`load_state_dict` takes it.  It is a method of a model built as
        the saved one: ``nn.MLP.load(path)``, on the class (gensim's ``Word2Vec.load``), is a TypeError saying so.
        """
        given: Any = self  # (nn.MLP.load(path) on the class: the path became self, and path is missing)
        if path is None and not isinstance(given, Module):
            raise TypeError("load: model.load(path) is a method of a model built as the saved one, "
                            "model = nn.MLP(sizes, ...); model.load(path), or nn.load(path), which rebuilds a Network "
                            "or MLP from the file")
        file: Any = path  # (None on a model: read refuses it, naming load)
        params = dict(self._named_state())
        shapes = {name: value.shape for name, value in params.items()}
        try:  # (a tied parameter's other names, dec.weights for enc.weights, as load_state_dict takes them)
            state, stored = serialization.read(file, shapes, operation="load", aliases=_tied_owner(self, params))
        except serialization.ModelFileError as error:
            _explain_frozen_left_out(error, file, shapes, [name for name, value in self._named_state()
                                                            if not value.requires_grad])
            raise
        own = self.config() if isinstance(self, Network) else self._architecture()  # a subclass's layers too
        _check_activations(file, stored, own)
        self.load_state_dict(state)
        return self


#: minitorch's Module methods that Module lacks, and what to write: class attributes that say it (checks.Absent).
_MINITORCH_METHODS = {"add_parameter": "a Value set as an attribute is a parameter here: self.name = Value(array) (or "
                                       "setattr(self, name, Value(array)) for a name in a variable)"}
#: PyTorch's Module methods that Module lacks, and what to write: a buffer (numbers kept but not trained, a batch
#: norm's running averages) is a Value that requires no gradient, which state_dict, save, load and float() keep.
_PYTORCH_METHODS = {**dict.fromkeys(("add_module", "register_module", "register_parameter"),
                                    "a Module or Value set as an attribute is registered here: self.name = module "
                                    "(or setattr(self, name, module) for a name in a variable)"),
                    "register_buffer": "numbers kept but not trained (a batch norm's running mean) are a Value that "
                                       "requires no gradient here: self.running_mean = Value(np.zeros(n), "
                                       "requires_grad=False), changed in place under no_grad() (self.running_mean *= "
                                       "0.9); state_dict, save and load keep it and no optimizer changes it (a numpy "
                                       "array attribute is not saved; model.requires_grad_(True) unfreezes it too, "
                                       "so unfreeze the modules that hold weights instead, or set "
                                       "running_mean.requires_grad = False again)",
                    **dict.fromkeys(("to", "cuda", "cpu"), write_instead.NO_DEVICES.format(v="the model") + " (for a "
                                                           "dtype, model.float() or model.double())"),
                    "device": "nothing: there are no devices here, a model's numbers are numpy arrays in the "
                              "computer's memory (PyTorch's x.to(model.device) is x itself)",
                    **write_instead.PYTORCH_MODULE_METHODS}
#: Keras's Model methods, and what to write here: training and evaluating are functions of the model here.
_KERAS_METHODS = {
    "compile": "nothing is compiled here: give the cost and the optimizer to training.fit(model, inputs, targets, "
               "cost=losses.mean_squared_error, optimizer=optim.Adam(model, learning_rate=0.001), episodes=10)",
    "fit": "it is a function here, training.fit(model, inputs, targets, cost=..., optimizer=optim.Adam(model), "
           "episodes=...) (Keras's epochs); it returns a History whose .cost is Keras's history.history['loss']",
    "evaluate": "compute the cost of the held-out samples under no_grad(): with no_grad(): "
                "losses.mean_squared_error(model(inputs), targets).item()",
    "predict": "call the model: model(inputs) gives a Value (under no_grad() it records nothing), model(inputs)"
               ".numpy() its numbers",
    "summary": "print(model) lists the layers and the number of parameters (model.num_parameters())",
    "get_weights": "model.state_dict() gives the numbers by name (layers.1.weights, ...) as numpy arrays",
    "set_weights": "model.load_state_dict(state) sets them from a dict of arrays by name, as model.state_dict() "
                   "gives",
    "count_params": "it is model.num_parameters() here",
}
for _name, _advice in _KERAS_METHODS.items():
    setattr(Module, _name, checks.Absent(_name, _advice, checks.KERAS_ABSENT))
#: ``model.requires_grad = False`` (a slip PyTorch lets pass) would freeze nothing: refused, on a module of one's own
#: too (unless its class defines the name), with the method to call (see Module.__setattr__).
_FREEZE_ADVICE = ("freeze or unfreeze every parameter of a module with model.requires_grad_(False) or "
                  "model.requires_grad_(True) (a method, ending in _); setting model.requires_grad would freeze "
                  "nothing")
for _name, _advice in {**_MINITORCH_METHODS, **_PYTORCH_METHODS, "requires_grad": _FREEZE_ADVICE}.items():
    setattr(Module, _name, checks.Absent(_name, _advice))
for _name, _advice in write_instead.SEED_NETWORK_METHODS.items():  # (the seed's net.backward(): the cost's here)
    setattr(Module, _name, checks.Absent(_name, _advice, whose="the seed's name"))


def _not_a_state(state: Any) -> str:
    """What load_state_dict says of ``state``, which is no mapping: a model given itself (PyTorch's too refuses
    ``load_state_dict(other_model)``, or ``load_state_dict(nn.load(path))``) is told to give its state_dict()."""
    hint = ("; a model's are its state_dict(), model.load_state_dict(other.state_dict()) (a file's: "
            "nn.load_state(path), or model.load(path))") if isinstance(state, Module) else ""
    return f"load_state_dict: expected a mapping of names to arrays, got {type(state).__name__}{hint}"


def _set_numbers(value: Value, array: np.ndarray) -> None:
    """Set a parameter's numbers to ``array``, taking its dtype (which its gradient takes too), under ``no_grad()``;
    in place, so that a graph computed from the old numbers is known to be stale (an array that cannot be written,
    such as a read-only memory map, is replaced, as one of another dtype is)."""
    if value.dtype != array.dtype or not value.data.flags.writeable:
        value.data = np.empty_like(array)
        if isinstance(value.grad, np.ndarray):
            value.grad = value.grad.astype(array.dtype)
    value[...] = array


def _explain_frozen_left_out(error: serialization.ModelFileError, path: PathLike, shapes: dict[str, tuple[int, ...]],
                             frozen: list[str]) -> None:
    """If the file fits the model but for its frozen parameters, raise ``error`` saying why and what to do: files
    written before frozen parameters were saved (format 1, and early format 2) left them out, and so does any file
    saved before the model had them (a batch norm's running averages, added as Values that need no gradient)."""
    if not frozen:
        return
    try:
        serialization.read(path, {name: shape for name, shape in shapes.items() if name not in frozen},
                           operation="load")
    except (ValueError, OSError):
        return
    raise serialization.ModelFileError(
        f"{error}; these are the model's frozen parameters (requires_grad = False), which files written by "
        f"tinygrad_edu before it saved them ({serialization.FORMAT_1!r} and early {serialization.FORMAT!r} files) "
        "left out, as does a file saved before the model had them (running averages added since): load the others "
        "with model.load_state_dict(nn.load_state(path), strict=False), which keeps the frozen ones as they are"
        ) from None


def _check_activations(path: PathLike, stored: dict | None, own: dict | None) -> None:
    """Refuse weights trained with other activation functions: loaded, they would compute another function."""
    if stored is None or own is None:
        return
    theirs, ours = ([layer["activation"] for layer in spec["layers"]] for spec in (stored, own))
    if theirs != ours:
        raise ValueError(f"load: {os.fsdecode(os.fspath(path))!r} holds a network with the activations "
                         f"{', '.join(theirs)}, but this one has {', '.join(ours)}; build the network with "
                         "nn.load(path), or with the same activations")


def _check_names(owner: str, params: Mapping[str, Value], state: Mapping[str, Any], strict: bool,
                 aliases: Mapping[str, str]) -> _IncompatibleKeys:
    """The names missing from ``state`` and those it has in excess (a tied parameter's other names in ``aliases``,
    by the name of the parameter, are neither); unless both are empty, a ValueError if ``strict``, if its names
    count layers from 0 or are PyTorch's, or if it is an optimizer's state (saying so)."""
    missing = [name for name in params if name not in state and name not in aliases.values()]
    extra = [str(name) for name in state if name not in params and name not in aliases]
    counted_from_0 = bool(missing or extra) and (
        sorted(serialization.counted_from_1(str(name)) for name in state) == sorted(params))
    # a PyTorch state_dict ('0.weight', '0.bias'): with strict=False, as counted from 0, none of it would be loaded
    pytorch_names = bool(extra) and len(missing) == len(params) and all(
        name.rsplit(".", 1)[-1] in _PYTORCH_SUFFIXES.values() for name in extra) and not any(
        name.rsplit(".", 1)[-1] in _PYTORCH_SUFFIXES.values() for name in params)
    # an optimizer's state_dict() (its kind, parameter count, settings…): with strict=False none of it would be loaded
    optimizer_state = len(missing) == len(params) and {"optimizer", "parameter_count"} <= set(extra)
    # a dict saved whole by np.savez(path, model.state_dict()) (its one entry arr_0): with strict=False, as above
    saved_whole = len(missing) == len(params) and checks.saved_without_stars(state)
    if not (strict or counted_from_0 or pytorch_names or optimizer_state or saved_whole) or not (missing or extra):
        return _IncompatibleKeys(missing, extra)
    parts = ([f"missing {checks.listed(missing)}"] if missing else []) + (
        [f"unexpected {checks.listed([name[:60] for name in extra])}"] if extra else [])
    if counted_from_0:
        parts.append("its names count layers from 0 (layers.0.weights), as tinygrad_edu 0.1 did; they now count "
                     "from 1 (layers.1.weights is W¹): rename them, or save and load files, which are converted")
    if pytorch_names:
        parts.append(_pytorch_names_hint(owner, params, extra))
    if optimizer_state:
        parts.append("it is an optimizer's state_dict(), not a model's: load it with the optimizer's "
                     "load_state_dict(state), and the model's own state, model.state_dict(), with this one")
    if saved_whole:
        parts.append(write_instead.SAVED_WITHOUT_STARS.format(who="model"))
    if "__format__" in extra:  # np.load(path) of a saved model: its format marker and architecture came along
        parts.append("it is a model file's contents, marker entries and all: read the file with model.load(path) "
                     "or nn.load_state(path)")
    raise ValueError(f"load_state_dict: the state does not fit this {owner}: {'; '.join(parts)}")


#: A Layer's parameter names, and PyTorch's for them (a Linear's ``weight`` is the transpose of ``weights``).
_PYTORCH_SUFFIXES = {"weights": "weight", "biases": "bias"}
#: What an array of a weights matrix's shape transposed is likely to be, and what to do with it.
_TRANSPOSED = ("it is that shape transposed: a Layer's weights are (in_size, out_size), where PyTorch's "
               "Linear.weight is (out_features, in_features); give its transpose, weight.T")
#: The same, for a Value set as a Layer's weights: its ``.T`` would be computed from it, which no Layer trains.
_TRANSPOSED_VALUE = (_TRANSPOSED.removesuffix(", weight.T") + " as a parameter of its own, Value(weight.data.T) "
                     "(weight.T is computed by an operation: no parameter, refused by parameters() and save); to tie "
                     "a decoder's weights to an encoder's W, compute x @ W.T in the forward() of a Module of your own")


def _pytorch_names_hint(owner: str, params: Mapping[str, Value], extra: list[str]) -> str:
    """What a state with PyTorch's names (``extra``: ``0.weight``, ``0.bias``…) needs to fit: the names and shapes
    expected, that a Linear's weight is transposed here, and the renaming, where the entries pair off in order."""
    expected = [f"{name} of shape {value.shape}" for name, value in params.items()]
    text = (f"its names are PyTorch's; this {owner} expects {checks.listed(expected, 6)}, and a Layer's weights are "
            "(in_size, out_size), the transpose of PyTorch's Linear.weight (out_features, in_features)")
    pairs = list(zip(params.items(), extra, strict=False))
    if len(params) != len(extra) or any(_PYTORCH_SUFFIXES.get(name.rsplit(".", 1)[-1]) != theirs.rsplit(".", 1)[-1]
                                        for (name, _), theirs in pairs):
        return text + ": rename the entries and transpose the weights (weight.T)"
    renamed = [f"{name!r}: state[{theirs!r}]{'.T' if value.ndim == 2 else ''}" for (name, value), theirs in pairs]
    return text + f": load {{{', '.join(renamed[:4])}{', …' if len(renamed) > 4 else ''}}}"


def _tied_names(module: Module, params: Mapping[str, Value], state: Mapping[str, Any]) -> dict[str, str]:
    """The names in ``state`` that are a tied parameter's other names (``dec.weights``, the Value that is also
    ``enc.weights``), each with the parameter's own name."""
    owner = _tied_owner(module, params)
    found = {str(key): owner(str(key)) for key in state if key not in params}
    return {key: name for key, name in found.items() if name is not None}


def _tied_owner(module: Module, params: Mapping[str, Value]) -> Callable[[str], str | None]:
    """For a dotted name: the name in ``params`` of the Value it leads to (``dec.weights`` → ``enc.weights``, a
    tied parameter's own name), else None."""
    owners = {id(value): name for name, value in params.items()}
    return lambda name: owners.get(id(_reached(module, name)))


def _reached(module: Module, name: str) -> Any:
    """What the dotted ``name`` leads to through the module's public attributes, lists (counted from 1) and dicts
    (None if it leads nowhere): the Value a tied parameter's other name (``dec.weights``) names."""
    found: Any = module
    for key in name.split("."):
        if isinstance(found, Module) and not key.startswith("_"):
            found = vars(found).get(key)
        # (a position of 19 digits or more is none: and int() of thousands of digits is Python's error, naming nothing)
        elif isinstance(found, (list, tuple)) and key.isdecimal() and len(key) < 19 and 1 <= int(key) <= len(found):
            found = found[int(key) - 1]
        elif isinstance(found, dict):
            found = found.get(key)
        else:
            return None
    return found


def _state_entry(state: Mapping[str, Any], name: str) -> Any:
    """``state[name]``; reading it may read a file (``np.load``'s entries are read when asked): a damaged or pickled
    entry is a ValueError naming it, not zipfile's or numpy's error without the name."""
    try:
        return state[name]
    except Exception as error:  # (BadZipFile, allow_pickle, EOF, …: any of them)
        raise ValueError(f"load_state_dict: entry {name!r} cannot be read ({type(error).__name__}: {error})") from error


def _state_array(name: str, entry: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``entry`` as an array of finite float32/float64 numbers of ``shape``, else a ValueError naming it."""
    checks.unmasked(entry, f"entry {name!r}", "load_state_dict", ValueError)  # (as its other entries' errors)
    try:
        array = entry.data if isinstance(entry, Value) else np.asarray(entry)
    except (ValueError, TypeError, RuntimeError) as error:  # (RuntimeError: a PyTorch tensor that requires grad)
        raise ValueError(f"load_state_dict: entry {name!r} is not an array of numbers: {error}") from None
    if array.dtype.kind == "f" and array.dtype.itemsize in (4, 8):  # big-endian ones too (np.load of their file)
        array = array.astype(array.dtype.newbyteorder("="), copy=False)
    if array.dtype not in (np.float32, np.float64):
        raise ValueError(f"load_state_dict: entry {name!r} has dtype {array.dtype}; expected float32 or float64")
    if array.shape != shape:
        transposed = f"; {_TRANSPOSED}" if len(shape) == 2 and array.shape == shape[::-1] else ""
        raise ValueError(f"load_state_dict: entry {name!r} has shape {array.shape} but the parameter has shape "
                         f"{shape}{transposed}")
    if not np.isfinite(array).all():
        raise ValueError(f"load_state_dict: entry {name!r} holds NaN or inf")
    return array


def _named_values(module: Module, prefix: str, frozen: bool, recurse: bool = True) -> Iterator[tuple[str, Value]]:
    """The module's parameters by name, each once (``frozen``: with those whose requires_grad is False;
    ``recurse=False``: not those of the Modules under it, which the walk then takes for visited)."""
    seen: set[int] = set()
    visited = set() if recurse else {id(child) for _, child in module.named_children()}
    for name, value in _walk(module, prefix, visited, frozen):
        if id(value) not in seen:
            seen.add(id(value))
            yield name, value


def _named_modules(module: Module, prefix: str, seen: set[int], parents_first: bool
                   ) -> Iterator[tuple[str, Module]]:
    """``module`` and the Modules under it, depth first, each once (those in ``seen`` not again), a parent before or
    (``parents_first=False``) after its children."""
    seen.add(id(module))
    if parents_first:
        yield prefix, module
    for name, child in module.named_children():
        if id(child) not in seen:
            yield from _named_modules(child, f"{prefix}.{name}" if prefix else name, seen, parents_first)
    if not parents_first:
        yield prefix, module


def _tied_advice(value: Value) -> str:
    """For a view of a parameter (a decoder's ``W.T`` kept on the module to tie it to the encoder's ``W``): neither
    advice of ``_walk`` ties it, so say what does."""
    if value.op not in ("transpose", "reshape", "index") or not (value.parents[0].op is None
                                                                 and value.parents[0].requires_grad):
        return ""
    return ("; to tie it to the parameter it was computed from (a decoder's W.T), compute it in forward() instead "
            "(x @ self.W.T there): one made once is out of date after the first step, and Value(x.data) would be a "
            "parameter of its own, no longer tied")


def _update_advice(value: Value) -> str:
    """For a parameter replaced by its own update (``w = w - lr * w.grad``, or ``w -= lr * w.grad`` outside
    ``no_grad()``): that records a new Value, computed from the parameter, in its place; say what changes it."""
    made_from = value
    while made_from.op in ("sub", "add"):
        made_from = made_from.parents[0]
    if made_from is value or made_from.op is not None or not made_from.requires_grad:
        return ""
    return (" but an update of one, written w = w - lr * w.grad (or w -= lr * w.grad outside no_grad()): that "
            "records a new Value, computed from the parameter, in its place, and the graph grows with every update; "
            "change the parameter itself, with no_grad(): w -= lr * w.grad, or by an optimizer's step()")


def _walk(obj: Any, prefix: str, visited: set[int], frozen: bool = False) -> Iterator[tuple[str, Value]]:
    """The parameters under ``obj`` with dotted names, depth first in attribute order; lists count from 1, dicts
    name entries by their keys (``frozen``: also the Values that require no gradient).  Modules and containers in
    ``visited`` are not entered again (a child may refer back to its parent)."""
    if isinstance(obj, Value):
        if obj.op is not None:  # an output kept on the module, or w.astype(...): no parameter, and not trainable
            advice = _update_advice(obj) or (
                "; keep such a Value under a name starting with '_' (self._output), or make a parameter of its "
                "numbers with Value(x.data) (numbers kept but not trained, such as a running average: "
                f"Value(x.data, requires_grad=False), changed in place under no_grad()){_tied_advice(obj)}")
            raise TypeError(f"named_parameters: {prefix!r} holds a Value computed by an operation ({obj.op}), not a "
                            f"parameter{advice}")
        if obj.requires_grad or frozen:
            yield prefix, obj
        return
    if _unwalked(obj) and any(isinstance(item, (Module, Value)) for item in _items(obj)):
        raise TypeError(f"named_parameters: {prefix!r} is a {type(obj).__name__} holding Modules or Values, "
                        "which are not walked (only lists, tuples and dicts are); use a list, a tuple or a dict")
    if not isinstance(obj, (Module, list, tuple, dict)) or id(obj) in visited:
        for kind in (Module, Value):  # of a class from before importlib.reload of nn or engine: refused, not skipped
            if checks.reloaded(obj, kind):
                where = f"named_parameters: {prefix!r}" if prefix else "named_parameters"
                raise checks.reloaded_error(obj, kind, where)
        return
    visited.add(id(obj))
    children = _named_entries(obj, prefix, visited) if isinstance(obj, dict) else _entries(obj)
    for key, child in children:
        if isinstance(obj, Module) and (not key or "." in key) and (
                isinstance(child, Module) or next(_walk(child, key, set(visited), frozen=True), None) is not None):
            raise TypeError(f"named_parameters: the attribute {key!r} holds parameters (in a {type(child).__name__}); "
                            "its name cannot be part of theirs (it has a '.' or is empty): set it with a name of "
                            "letters, digits and '_'")
        yield from _walk(child, f"{prefix}.{key}" if prefix else key, visited, frozen)


def _unwalked(obj: Any) -> bool:
    """A container that is not walked: a set, a deque, or a sequence or mapping (``UserList``, ``ChainMap``…) that is
    not a list, tuple or dict (a string is none)."""
    return isinstance(obj, (AbstractSet, deque, Sequence, Mapping)) and not isinstance(
        obj, (list, tuple, dict, str, bytes, bytearray, memoryview, range))


def _items(obj: Any) -> Iterator[Any]:
    """What a container holds: a mapping's values, else its items."""
    return iter(obj.values() if isinstance(obj, Mapping) else obj)


def _holds_parameters(obj: Any, visited: set[int], modules_only: bool = False) -> bool:
    """Whether ``obj`` is a Module or a Value (``modules_only``: a Module), or a list, tuple or dict holding one."""
    if isinstance(obj, Module) or (isinstance(obj, Value) and not modules_only):
        return True
    if not isinstance(obj, (list, tuple, dict)) or id(obj) in visited:
        return False
    visited.add(id(obj))
    items = obj.values() if isinstance(obj, dict) else obj
    return any(_holds_parameters(item, visited, modules_only) for item in items)


def _entries(obj: Module | list | tuple) -> Iterator[tuple[str, Any]]:
    """What a Module or a list holds, each under the name it takes in dotted names: a Module's public attributes
    (not starting with ``_``), a list's positions counted from 1."""
    if isinstance(obj, Module):
        return ((key, child) for key, child in vars(obj).items() if not key.startswith("_"))
    return ((str(i), child) for i, child in enumerate(obj, start=1))


def _members(module: Module) -> Iterator[tuple[str, Any]]:
    """The Modules, Values and numpy arrays among a module's public attributes, with dotted names (through lists,
    tuples and dicts, not into child Modules)."""
    visited: set[int] = set()

    def under(name: str, member: Any) -> Iterator[tuple[str, Any]]:
        if isinstance(member, (Module, Value, np.ndarray)):
            yield name, member
        elif isinstance(member, (list, tuple, dict)) and id(member) not in visited:
            visited.add(id(member))
            entries = member.items() if isinstance(member, dict) else _entries(member)
            for key, value in entries:
                yield from under(f"{name}.{key}", value)

    for key, value in _entries(module):
        yield from under(key, value)


def _member_text(member: Module | Value | np.ndarray) -> str:
    """A line of a Module's repr: a child's own repr, a Value's role and shape, an array's shape.  A Layer's repr
    lists no Values, so its frozen ones are named after it (the count of parameters leaves them out)."""
    if isinstance(member, Layer):
        frozen = [part for part in ("weights", "biases")
                  if not getattr(getattr(member, part, None), "requires_grad", True)]
        return repr(member) + (f"  # frozen: {', '.join(frozen)}" if frozen else "")
    if isinstance(member, Module):
        return repr(member)
    if isinstance(member, np.ndarray):
        return f"numpy array, shape {member.shape}: not a parameter"
    if member.op is not None:
        return f"Value computed by {member.op}, shape {member.shape}: not a parameter"
    dtype = f", dtype={member.dtype}" if member.dtype != np.float64 else ""  # (after .float(), as a Value's repr)
    if not member.requires_grad:  # (a buffer, such as a batch norm's running mean, is kept the same way)
        return f"frozen parameter or buffer (requires_grad=False), shape {member.shape}{dtype}"
    return f"parameter, shape {member.shape}{dtype}"


def _named_entries(table: dict, prefix: str, visited: set[int]) -> Iterator[tuple[str, Any]]:
    """The entries of a dict attribute by key; parameters under a key that cannot be part of their name (not a
    string, empty, or with a ".") are refused, as they could not be saved, loaded or told apart."""
    for key, child in table.items():
        if isinstance(key, str) and key and "." not in key:
            yield key, child
        elif isinstance(child, Module) or next(_walk(child, prefix, visited, frozen=True), None) is not None:
            raise TypeError(f"named_parameters: the dict {prefix or 'attribute'!r} holds parameters (in a "
                            f"{type(child).__name__}) under the key {key!r}; they need keys that are non-empty strings "
                            "without '.' (they become parameter names like 'table.key.weights')")


@checks.pytorch_keywords(**_LOAD_KEYWORDS)
def load_state(path: PathLike) -> dict[str, np.ndarray]:
    """The parameters stored in a file written by :meth:`Module.save`, by name (read without pickle).

    Raises ``ValueError`` for a file that is not an ``.npz``, is truncated or corrupt, or lacks the format
    marker; see :mod:`tinygrad_edu.serialization` for the format.
    """
    return serialization.read(path, operation="load_state")[0]


@checks.pytorch_keywords(**_LOAD_KEYWORDS)
def load(path: PathLike) -> Network:
    """Rebuild a saved :class:`Network` (its layers and activations) and its parameters from ``path``; weights and
    biases that were frozen (``requires_grad = False``) when it was saved are frozen again.

    The stored architecture is checked against the stored entries before any layer is built.
    """
    state, architecture = serialization.read(path, operation="load")
    if architecture is None:
        raise ValueError(f"load: {os.fsdecode(os.fspath(path))!r} stores parameters but no architecture; build "
                         "the model yourself and call model.load(path)")
    # checked against the entries by serialization.read; rng=0: the file's numbers replace these weights, so none
    # are drawn from numpy's global random state (np.random.seed(0); nn.load(...) changed the networks made after)
    layers = [Layer(spec["in_size"], spec["out_size"], activation=spec["activation"], name=spec.get("name"), rng=0)
              for spec in architecture["layers"]]
    for layer, spec in zip(layers, architecture["layers"]):
        for name in spec.get("frozen", ()):
            getattr(layer, name).requires_grad = False
    network = Network(*layers)
    network.load_state_dict(state)
    return network


# --- layers ----------------------------------------------------------------------------------------------

def _named_activation(activation: Any, where: str, argument: str = "activation"
                      ) -> tuple[str, Callable[[Value], Value]]:
    """The name and the function of ``activation``: a name from ACTIVATIONS, or a function of Values."""
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            spelt = _SPELLINGS.get(activation.strip().lower().replace("_", "").replace("-", ""))
            keras = f" ({_KERAS_ACTIVATIONS[activation]})" if activation in _KERAS_ACTIVATIONS else \
                f" ({write_instead.SEED_SIGMA})" if activation.strip().lower() in ("σ", "sigma") else \
                f" (scikit-learn's 'logistic' is {spelt!r} here)" if spelt and activation == "logistic" else \
                f" (it is written {spelt!r} here)" if spelt else ""
            raise ValueError(f"{where}: unknown {argument} {activation!r}{keras}; choose one of "
                             f"{', '.join(ACTIVATIONS)} or pass a function of Values")
        return activation, ACTIVATIONS[activation]
    if isinstance(activation, Module):  # (PReLU's slope: held privately, no optimizer would train it)
        raise TypeError(f"{where}: {argument} is a Module ({type(activation).__name__}); a layer's activation is a "
                        "function without parameters of its own: use activation='identity' and call the Module on "
                        "the layer's output in a Module of your own, which then trains its parameters")
    if isinstance(activation, type):  # (calling it on z would build an object, or fail, at the first forward pass)
        raise TypeError(f"{where}: {argument} is the class {activation.__name__}, not a function; give a name "
                        f"({', '.join(ACTIVATIONS)}) or a function of Values such as functional.relu")
    if callable(activation):
        return _function_name(activation), activation
    keras = " (Keras's None, the linear activation, is 'identity' here)" if activation is None else ""
    raise TypeError(f"{where}: {argument} must be a name or a function, got {type(activation).__name__}{keras}")


def _function_name(function: Callable) -> str:
    """The name an activation function is shown by: its ``__name__``, an Op's own name (``softsign``), the function
    a ``functools.partial`` fixes arguments of (``partial(leaky_relu)``), else its class's name."""
    if isinstance(function, ops.Op):
        return function.name
    if isinstance(function, functools.partial):
        return f"partial({_function_name(function.func)})"
    return getattr(function, "__name__", type(function).__name__)


#: Other libraries' names for the initialisations (PyTorch's ``kaiming_normal_``, Keras's ``glorot_uniform``), what
#: they are here: keyed by the name in lower case, without a trailing ``_``.
_OTHER_INITS = {
    **dict.fromkeys(("kaiming", "kaiming_normal", "he_normal"),
                    "PyTorch's kaiming_normal_ is 'he' here: normal, standard deviation √(2 / in_size); Keras's "
                    "he_normal draws a truncated normal of the same variance"),
    **dict.fromkeys(("kaiming_uniform", "he_uniform"),
                    "He's uniform variant is not drawn here; 'he' draws normal weights of the same variance, "
                    "2 / in_size"),
    **dict.fromkeys(("glorot", "glorot_uniform", "xavier_uniform"),
                    "PyTorch's xavier_uniform_ and Keras's glorot_uniform are 'xavier' here: uniform in "
                    "±√(6 / (in_size + out_size))"),
    **dict.fromkeys(("glorot_normal", "xavier_normal"),
                    "Glorot's normal variant is not drawn here; 'xavier' draws uniform weights of the same variance, "
                    "2 / (in_size + out_size)"),
    **dict.fromkeys(("rand", "random"), "the seed's np.random.rand is 'uniform' here: uniform in [0, 1)"),
}


def _checked_init(init: Any, where: str) -> str:
    """``init`` if it is one of :data:`INITS`; else a TypeError (not a name) or a ValueError saying what another
    library's name (``"kaiming"``, ``"glorot_uniform"``) or another spelling (``"Xavier"``) is here."""
    if not isinstance(init, str):
        own = ("; to set the weights with a function of your own, model.apply(fn) calls it on every layer (with "
               "no_grad(): layer.weights[...] = array)") if callable(init) else ""
        # a function by its name (np.random.rand: "method RandomState.rand"), not a repr cut mid-address
        shown = getattr(init, "__qualname__", None) if callable(init) else None
        raise TypeError(f"{where}: init must be the name of an initialisation, one of {', '.join(INITS)}, got "
                        f"{type(init).__name__} {shown or f'{init!r:.60}'}{own}")
    if init not in INITS:
        key = init.lower().removesuffix("_")
        advice = f" (the names are in lower case: {key!r})" if key in INITS else (
            f" ({_OTHER_INITS[key]})" if key in _OTHER_INITS else "")
        raise ValueError(f"{where}: unknown init {init!r:.60}{advice}; choose one of {', '.join(INITS)}")
    return init


def _drawn(init: str, in_size: int, out_size: int, generator: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A layer's starting weights ``(in_size, out_size)`` and biases ``(out_size,)``, drawn as ``init`` says (in
    that order, from ``generator``)."""
    shape = (in_size, out_size)
    if init == "uniform":
        return generator.random(shape), generator.random(out_size)
    if init == "xavier":
        limit = np.sqrt(6.0 / (in_size + out_size))
        return generator.uniform(-limit, limit, shape), np.zeros(out_size)
    return generator.normal(0.0, np.sqrt(2.0 / in_size), shape), np.zeros(out_size)


def _layer_parameters(in_size: int, out_size: int) -> int:
    """How many numbers a layer holds: ``in_size · out_size`` weights and ``out_size`` biases."""
    return in_size * out_size + out_size


def _reshape_hint(shape: tuple[int, ...], in_size: int, x: str = "x") -> str:
    """How data of ``shape`` becomes rows of ``in_size`` inputs, where a reshape does it: one number or a column of
    single inputs, one image (8×8 pixels are 64 inputs, seed section 4), samples given as columns (the seed's column
    vectors α side by side: a transpose), a batch of images or of sequences (a recurrent network's states,
    ``(n, steps, in_size)``, where PyTorch's ``Linear`` takes the last axis); else nothing.  ``x`` is how the
    hint writes the data (``np.array(x)`` for a list, which has no ``reshape``)."""
    if in_size == 1 and len(shape) == 1:
        return f"; {shape[0]} samples of one input each are a column: {x}.reshape(-1, 1)"
    if in_size == 1 and not shape:
        return "; one number is one sample of one input: [x]"
    if len(shape) >= 2 and math.prod(shape) == in_size:
        return f"; one sample of shape {shape} is {in_size} inputs in a row: {x}.reshape(-1)"
    if len(shape) == 2 and shape[0] == in_size:  # the seed's column vectors α side by side
        return (f"; {shape[1]} samples as columns? a sample is a row here (the seed's column vector α, transposed), "
                f"and a batch stacks them as rows: {x}.T, shape ({shape[1]}, {in_size})")
    if len(shape) >= 3 and math.prod(shape[1:]) == in_size:
        return f"; {shape[0]} samples of shape {shape[1:]} are rows of {in_size} inputs: {x}.reshape(len(x), -1)"
    if len(shape) >= 3 and shape[-1] == in_size:  # (n, steps, in_size): the states of a recurrent network
        return (f"; as {math.prod(shape[:-1])} samples of {in_size} inputs (a batch of sequences): {x}.reshape(-1, "
                f"{in_size}), and the outputs back with .reshape({', '.join(map(str, shape[:-1]))}, -1)")
    return ""


_MATMUL = ops.matmul
#: The activations of functional.ACTIVATIONS: each returns, for a Value z, z itself or a Value computed from z, of z's
#: shape (Layer.forward checks what any other function returns).
_OWN_ACTIVATIONS = frozenset(ACTIVATIONS.values())


def _check_layer_parameter(layer: Mapping[str, Any], name: str, value: Any, where: str | None = None) -> None:
    """A Layer's ``weights`` or ``biases`` (``name``) must be a Value, of the shape its sizes give (once it has them:
    ``layer`` is its attributes); ``where`` names the call that checks it (``layer.reset_parameters``), if any."""
    sizes = (layer.get("in_size"), layer.get("out_size"))
    shape = sizes if name == "weights" else sizes[1:]
    where = where or layer.get("_name") or (f"layer {layer['_index']}" if layer.get("_index") else "Layer")
    if not isinstance(value, Value):
        raise TypeError(f"{where}: {name} must be a Value of shape {shape}, got {type(value).__name__}; set its "
                        f"numbers with `with no_grad(): layer.{name}[...] = array` (seen by the graphs recorded "
                        "from it), or assign Value(array)")
    if None not in sizes and value.shape != shape:
        advice = (f"; {_TRANSPOSED_VALUE}" if name == "weights" and value.shape == shape[::-1]
                  else _resize(name, value.shape, shape, layer.get("_index")) if value.ndim == len(shape) else "")
        raise ValueError(f"{where}: {name} must have shape {shape} ({checks.counted(layer['in_size'], 'input')}, "
                         f"{checks.counted(layer['out_size'], 'neuron')}), got a Value of shape {value.shape}"
                         f"{advice}")


def _resize(name: str, got: tuple[int, ...], shape: tuple[int | None, ...], index: int | None) -> str:
    """How to give a built layer other sizes (more or fewer neurons or inputs), said where its ``name`` (weights or
    biases) of shape ``got`` is not of its ``shape``: the size that differs, set to what ``got`` holds (the layer
    beside it too, in a Network, but before layer 1 are the inputs)."""
    sizes = dict(zip(("in_size", "out_size") if name == "weights" else ("out_size",), got, strict=True))
    neighbour = {"in_size": "" if index == 1 else " (and the previous layer's out_size = {} in a Network)",
                 "out_size": " (and the next layer's in_size = {} in a Network)"}
    steps = ", ".join(f"layer.{size} = {n}" + neighbour[size].format(n)
                      for (size, n), wanted in zip(sizes.items(), shape, strict=True) if n != wanted)
    return f"; to grow or prune the layer, set its sizes too: {steps}, or put in a new nn.Layer"


#: Value's ways out of the graph, to a Python number or to numpy (float(z) inside math.tanh(z), np.sin(z), if z:).
_WAYS_OUT = frozenset(getattr(Value, name).__code__ for name in ("__float__", "__int__", "__trunc__", "__round__",
                                                                 "__bool__", "__array_function__", "__array_ufunc__"))


def _left_the_values(error: BaseException) -> bool:
    """Whether an activation's ``error`` was raised where it made its Value a number or handed it to numpy (it
    needs a function of Values), not by an operation on Values (a reshape, an axis: its own mistake)."""
    frame = error.__traceback__
    while frame is not None and frame.tb_frame.f_code not in _WAYS_OUT:
        frame = frame.tb_next
    return frame is not None


class Layer(Module):
    """One layer of neurons: ``forward(α) = σ(α @ W + b)``, the seed's ``σ(W·α + b)`` (section 3) for a sample
    written as a row: ``W`` here is the transpose of the seed's weights matrix in that formula (one row per neuron),
    and has the shape of its ``Layer`` code, ``np.random.rand(in_size, out_size)``, where the seed's formula and
    code disagree (``W @ α`` is refused, or silently wrong where the shapes happen to fit).

    ``in_size`` activations come in, ``out_size`` go out.  ``activation`` is a name from
    :data:`tinygrad_edu.functional.ACTIVATIONS` (``"sigmoid"``, ``"relu"``, ``"tanh"``, ``"leaky_relu"``,
    ``"softplus"``, ``"identity"``) or any function of Values (a lambda, a def, an :class:`~tinygrad_edu.Op`) that
    computes its result from the Value it gets, of the same shape.  ``weights`` has shape ``(in_size, out_size)``:
    it is the transpose of PyTorch's ``Linear.weight`` ``(out_features, in_features)``, as ``α @ W`` is PyTorch's
    ``x @ weight.T``.  ``init`` draws the starting weights:

    - ``"uniform"``: weights and biases uniform in [0, 1), as the seed's ``np.random.rand``; all positive, they make
      ``z`` large for many inputs (about 10 for the 64 pixels of a digit), where σ is flat and its gradient all but
      0, so a sigmoid network of that size does not learn from this start (notebook 2 shows it);
    - ``"xavier"``: weights uniform in ±√(6 / (in_size + out_size)) (Glorot), biases 0;
    - ``"he"``: weights normal with standard deviation √(2 / in_size) (for ReLU), biases 0.

    ``rng`` (an int seed or a numpy ``Generator``) makes the draw reproducible.
    """

    @checks.pytorch_keywords(seeds.USE_RNG, **seeds.GENERATOR_AS_RNG, **_KERAS_DENSE, **_PYTORCH_LINEAR,
                             dtype=_BUILT_IN_FLOAT64, nonlin=_NONLIN)
    def __init__(self, in_size: int, out_size: int, activation: str | Callable[[Value], Value] = "sigmoid",
                 init: str = "uniform", rng: None | int | np.random.Generator = None,
                 name: str | None = None) -> None:
        self.in_size = checks.integer(in_size, "in_size", "Layer", least=1)
        self.out_size = checks.integer(out_size, "out_size", "Layer", least=1)
        serialization.check_parameter_count(_layer_parameters(self.in_size, self.out_size),
                                            f"Layer({checks.readable_int(self.in_size)}, "
                                            f"{checks.readable_int(self.out_size)})")
        if not isinstance(name, (str, type(None))):
            raise TypeError(f"Layer: name must be a string or None, got {type(name).__name__} {name!r}")
        self._activation_name, self._activation = _named_activation(activation, "Layer")
        self.init = _checked_init(init, "Layer")
        generator = seeds.generator(rng, "Layer")
        weights, biases = _drawn(self.init, self.in_size, self.out_size, generator)
        self._name = name
        self.weights = Value(weights)
        self.biases = Value(biases)
        self._set_index(None)

    @checks.pytorch_keywords(seeds.USE_RNG, **seeds.GENERATOR_AS_RNG)
    def reset_parameters(self, rng: None | int | np.random.Generator = None) -> None:
        """Draw the weights and biases again as ``init`` draws them (PyTorch's ``reset_parameters``), in place: the
        same Values, in their dtype (a float32 layer stays float32), so an optimizer made before trains the new
        numbers (its own state, such as Adam's averages, is not reset: make a new one).  ``rng`` as the constructor's:
        ``nn.Layer(3, 2, init="he", rng=0)`` reset with ``rng=0`` has its first numbers again.  A layer rebuilt by
        :func:`load` has the default ``init="uniform"``: set ``layer.init = "he"`` first for another."""
        where = f"{self.name}.reset_parameters"
        init = self._checked_reset(where)
        weights, biases = _drawn(init, self.in_size, self.out_size, seeds.generator(rng, where))
        with no_grad():
            for value, array in ((self.weights, weights), (self.biases, biases)):
                _set_numbers(value, array.astype(value.dtype))

    def _checked_reset(self, where: str) -> str:
        """The ``init`` that :meth:`reset_parameters` draws with, checked with the shapes of the weights and biases
        (numbers of another shape set through ``.data = …`` would take the new weights and refuse the biases):
        before anything is drawn, so that a refused reset changes nothing, the generator included."""
        for name in ("weights", "biases"):
            _check_layer_parameter(vars(self), name, getattr(self, name), where)
        return _checked_init(self.init, where)

    def _checked_setattr(self, name: str, value: Any) -> None:
        """``weights`` and ``biases`` stay Values of their shapes, labelled ``W^i``, ``b^i``: an array in their place
        (the seed's ``self.weights = np.random.rand(...)``) would be a constant that no optimizer trains."""
        if name in ("in_size", "out_size"):  # (growing or pruning a built layer: its numbers follow, checked then)
            where = vars(self).get("_name") or (f"layer {self._index}" if vars(self).get("_index") else "Layer")
            value = checks.integer(value, name, where, least=1)
        if name in ("weights", "biases"):
            _check_layer_parameter(vars(self), name, value)
            if "_activation" not in vars(self):  # else printing it, or a Network of it, fails on what __init__ sets
                raise TypeError(f"{type(self).__name__}: {name} set before nn.Layer.__init__ ran; call "
                                "super().__init__(in_size, out_size, activation) first, or derive a layer of your own "
                                "from nn.Module")
        super().__setattr__(name, value)
        if name in ("weights", "biases") and "_index" in vars(self):
            self._set_index(self._index)  # label the new Value as the old one was

    if not TYPE_CHECKING:  # (hidden from type checkers, which would take any layer.misspelt = x)
        __setattr__ = _checked_setattr

    def __reduce_ex__(self, protocol: Any) -> Any:
        """Pickle (and ``copy``) take the layer's state; an activation that pickle cannot find by its name (a lambda, a
        function defined inside another) goes in it wrapped (:class:`_Unpicklable`), so that copies keep the function
        and pickle raises a TypeError naming the layer (pickle's own error named neither it nor what to do)."""
        reduced = super().__reduce_ex__(protocol)
        if _pickled_by_name(self._activation) or not (isinstance(reduced, tuple) and len(reduced) > 2):
            return reduced
        constructor, arguments, state, *rest = reduced
        attributes, slots = state if isinstance(state, tuple) else (state, None)
        attributes = {**attributes, "_activation": _Unpicklable(self._activation, self)}
        return (constructor, arguments, attributes if slots is None else (attributes, slots), *rest)

    def __setstate__(self, state: Any) -> None:
        """Unpickling (and ``copy``): a Layer pickled before ``activation_name`` became a property kept the name in an
        attribute of that name, where the property, which reads ``_activation_name``, would not find it."""
        attributes, slots = state if isinstance(state, tuple) else (state, None)  # (slots: a subclass's __slots__)
        attributes = dict(attributes or {})
        if "activation_name" in attributes:
            attributes["_activation_name"] = attributes.pop("activation_name")
        if isinstance(attributes.get("_activation"), _Unpicklable):  # (a copy's: the function itself)
            attributes["_activation"] = attributes["_activation"].function
        vars(self).update(attributes)
        for name, value in (slots or {}).items():
            object.__setattr__(self, name, value)

    @property
    def activation(self) -> Callable[[Value], Value]:
        """The activation function σ; ``layer.activation = "tanh"`` (a name or a function of Values, as the
        constructor takes) changes it after the layer was built, its name, ``config()`` and drawings with it."""
        return self._activation

    @activation.setter
    def activation(self, activation: str | Callable[[Value], Value]) -> None:
        self._activation_name, self._activation = _named_activation(activation, self.name)

    @property
    def activation_name(self) -> str:
        """The activation's name: ``"sigmoid"``, or a function's own name.  Set to a name, it sets the activation
        too (a name that would not say what the layer computes is no name for it)."""
        return self._activation_name

    @activation_name.setter
    def activation_name(self, name: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{self.name}: activation_name must be one of {', '.join(ACTIVATIONS)}, got "
                            f"{type(name).__name__} {name!r:.40}; set a function as layer.activation = function")
        self.activation = name

    @property
    def index(self) -> int | None:
        """The layer's number ``i`` in its network (1 for the first layer after the input), or None."""
        return self._index

    @property
    def name(self) -> str:
        """The name given, else ``"layer i"`` inside a network, else ``"layer"``."""
        if self._name:  # (an empty name is none, as Network takes it)
            return self._name
        return "layer" if self._index is None else f"layer {self._index}"

    def _set_index(self, index: int | None) -> None:
        """Number the layer as the ``index``-th of a network and label its Values for drawings (W^i, b^i…)."""
        self._index = index
        suffix = "" if index is None else f"^{index}"
        self.weights.label, self.biases.label = f"W{suffix}", f"b{suffix}"
        self._z_label, self._alpha_label = f"z{suffix}", f"α{suffix}"

    def forward(self, data: Any) -> Value:
        """``activation(data @ weights + biases)`` for one sample ``(in_size,)`` or a batch
        ``(n, in_size)``."""
        if isinstance(data, Value):
            shape = data.data.shape  # (.data: a C-level property; .shape is a Python one)
        elif isinstance(data, np.ndarray):
            shape = data.shape
        else:
            checks.not_a_dataset(data, "the data", f"{self.name} ({self.in_size} → {self.out_size})",
                                 "call the model on its inputs, model(data.inputs)")
            try:
                shape = np.shape(data)
            except ValueError:
                raise ValueError(f"{self.name} ({self.in_size} → {self.out_size}): the samples are ragged "
                                 "(rows of different lengths)") from None
            except TypeError:  # a list holding Values, which refuse to become an array
                raise TypeError(f"{self.name} ({self.in_size} → {self.out_size}): expects numbers or one Value, got "
                                f"{type(data).__name__} {data!r:.40}; join Values with F.stack first") from None
        if len(shape) not in (1, 2) or shape[-1] != self.in_size:
            if not shape and not isinstance(data, (Value, np.ndarray, numbers.Real, np.number, np.bool_)):
                raise TypeError(f"{self.name} ({self.in_size} → {self.out_size}): expects numbers, got "
                                f"{type(data).__name__} {data!r:.40}")  # (np.shape takes 'ab' or None for shape ())
            hint = _reshape_hint(shape, self.in_size, "x" if hasattr(data, "reshape") else "np.array(x)")  # a list
            raise ValueError(f"{self.name} ({self.in_size} → {self.out_size}): expects "
                             f"{checks.counted(self.in_size, 'input')} per sample, shape ({self.in_size},) or "
                             f"(n, {self.in_size}); got data of shape {shape}{hint}")
        weights, biases, activation = self.weights, self.biases, self._activation
        # (.data.shape: the numbers' shape read without the Python call of the property .shape)
        if weights.data.shape != (self.in_size, self.out_size) or biases.data.shape != (self.out_size,):
            # numbers of another shape set through .data = … (a Value assigned is checked when it is assigned)
            for name in ("weights", "biases"):
                _check_layer_parameter(vars(self), name, getattr(self, name))
        z = apply(_MATMUL, data, weights) + biases
        z.label = self._z_label
        try:
            alpha = activation(z)
        except (TypeError, ValueError) as error:  # math.tanh(z) and the like end in float(z)'s TypeError
            kind = TypeError if isinstance(error, TypeError) else ValueError
            advice = "; use a function of Values, e.g. from tinygrad_edu.functional" if _left_the_values(error) else ""
            raise kind(f"{self.name}: the activation {self.activation_name} failed on a Value of shape {z.shape} "
                       f"({error}){advice}") from error
        if alpha.__class__ is Value and activation.__class__ is types.FunctionType and activation in _OWN_ACTIVATIONS:
            # the library's own give z or a Value computed from it, of its shape: the checks below are for functions
            # of one's own (a function's hash is its identity: any callable may be tested), and for a functional not
            # reloaded with the engine, whose Values are of the class before the reload
            alpha.label = self._alpha_label
            return alpha
        if not isinstance(alpha, Value) or alpha.shape != z.shape:
            if checks.reloaded(alpha, Value):  # ("must return a Value, got Value": a module reloaded in between)
                raise checks.reloaded_error(alpha, Value, f"{self.name}: the activation {self.activation_name}")
            if not isinstance(alpha, Value):
                raise TypeError(f"{self.name}: the activation {self.activation_name} must return a Value, "
                                f"got {type(alpha).__name__}")
            raise ValueError(f"{self.name}: the activation {self.activation_name} changed the shape {z.shape} "
                             f"to {alpha.shape}")
        if z.requires_grad and (alpha.op is None or not alpha.requires_grad):  # Value(np.tanh(z.data)), z.detach()
            raise TypeError(f"{self.name}: the activation {self.activation_name} returned a Value not computed from "
                            "its input (a new Value of its numbers, or a detached one), so no gradient would reach "
                            "this layer's weights or those before it; compute with the Value (z.tanh(), "
                            "F.tanh(z)), or write an Op with its vjp")
        alpha.label = self._alpha_label
        return alpha

    def config(self) -> dict | None:
        """The layer's architecture as plain data (None if its activation is not one of the named ones)."""
        if ACTIVATIONS.get(self.activation_name) is not self._activation:
            return None
        config = {"in_size": self.in_size, "out_size": self.out_size, "activation": self.activation_name,
                  "name": self._name}
        frozen = [name for name in ("weights", "biases") if not getattr(self, name).requires_grad]
        if frozen:  # so that load() freezes them again (a file without the entry: nothing frozen)
            config["frozen"] = frozen
        return config

    def __repr__(self) -> str:
        """``activation='relu'`` for a named activation, ``activation=<function relu>`` for a function of the user's
        (which may have the name of another)."""
        try:
            name = f", name={self._name!r}" if self._name is not None else ""
            named = ACTIVATIONS.get(self.activation_name) is self._activation
        except AttributeError:  # its __init__ raised before setting them, or a subclass's did before calling it
            return "Layer(<not initialised>)"
        activation = repr(self.activation_name) if named else f"<function {self.activation_name}>"
        dtype = self.weights.dtype  # (as a Value's repr: a dtype other than float64, after .float(), is shown)
        shown = f", dtype={dtype}" if dtype != np.float64 else ""
        return f"Layer({self.in_size} → {self.out_size}, activation={activation}{name}{shown})"


for _name, _advice in _MICROGRAD_LAYER_ATTRIBUTES.items():
    setattr(Layer, _name, checks.Absent(_name, _advice))


def _pickled_by_name(function: Any) -> bool:
    """Whether pickle can save ``function``: it saves a Python function as its module and qualified name, which must
    find the function again (not a lambda, nor a function defined inside another); anything else by its own rules."""
    if not isinstance(function, types.FunctionType):  # (numpy's ufuncs, partials, Ops, callable objects)
        return True
    return _found_by_name(function) is function


def _found_by_name(function: Any) -> Any:
    """What pickle finds under ``function``'s module and qualified name: the function itself, another object (the
    name defined again, as a notebook cell run again does), or None."""
    found: Any = sys.modules.get(function.__module__)
    for part in function.__qualname__.split("."):
        found = getattr(found, part, None)
    return found


class _Unpicklable:
    """A layer's activation that pickle cannot save (see ``Layer.__reduce_ex__``): copies keep the function itself,
    pickle raises a TypeError naming the layer and what to do instead."""

    def __init__(self, function: Callable[[Value], Value], layer: Layer) -> None:
        self.function = function
        self.where = f"{layer.name} ({layer.in_size} → {layer.out_size})"

    def __reduce__(self) -> Any:
        name = self.function.__qualname__
        why = (f"{name}, a lambda or a function defined inside another function, which pickle cannot save (it saves a "
               "function by its module and name, and finds none for this one); define it with def at the top level "
               "of a module")
        if _found_by_name(self.function) is not None:  # (the name defined again: pickle finds that one, not this)
            why = (f"{name}, but {name} was defined again after the layer was built (a notebook cell run again), and "
                   "pickle, which saves a function by its module and name, finds the new one, not this; build the "
                   "layer again with it")
        raise TypeError(f"pickle: {self.where} has the activation {why}, or give a named activation "
                        f"({', '.join(ACTIVATIONS)}); or save the numbers "
                        "with model.save(path) and load them into a model built again where they are needed "
                        "(model.load(path))")

    def __copy__(self) -> _Unpicklable:
        return self

    def __deepcopy__(self, memo: dict) -> _Unpicklable:
        return self


def _check_fit(layers: list[Layer], where: str, advice: str = "") -> None:
    """Consecutive layers fit (the ``out_size`` of one is the ``in_size`` of the next), else a ValueError naming the
    two that do not, followed by ``advice``."""
    names = [layer._name or f"layer {i}" for i, layer in enumerate(layers, start=1)]
    for i in range(len(layers) - 1):
        if layers[i].out_size != layers[i + 1].in_size:
            raise ValueError(f"{where}: {names[i]} gives {layers[i].out_size} outputs but {names[i + 1]} takes "
                             f"{layers[i + 1].in_size} inputs{advice}")


class Network(Module):
    """Layers applied one after the other: ``α^0 = x``, ``α^i = layer_i(α^{i-1})``, output ``y = α^L``.

    Consecutive layers must fit: the ``out_size`` of one is the ``in_size`` of the next.  Layer ``i``
    (counting from 1) gets the labels ``W^i``, ``b^i``, ``z^i``, ``α^i`` of the seed's figures.
    """

    @checks.pytorch_keywords(**_NETWORK_BIASES)
    def __init__(self, *given: Layer | Sequence[Layer]) -> None:
        items = tuple(given[0]) if len(given) == 1 and isinstance(given[0], (list, tuple)) else given
        if not items:
            raise ValueError(f"{type(self).__name__}: needs at least one Layer")
        layers = [item for item in items if isinstance(item, Layer)]
        if len(layers) != len(items):
            wrong = next(item for item in items if not isinstance(item, Layer))
            chain = (" (a Module of its own): a Network chains nn.Layers, numbered W¹, W², …; to apply Modules one "
                     "after the other, as PyTorch's Sequential does, write a Module that holds them in a list and "
                     "calls them in turn in its forward()" if isinstance(wrong, Module) else "")
            raise TypeError(f"{type(self).__name__}: expected Layers, got {type(wrong).__name__}{chain}")
        if len({id(layer) for layer in layers}) != len(layers):
            raise ValueError(f"{type(self).__name__}: the same Layer appears twice")
        _check_fit(layers, type(self).__name__)
        for i, layer in enumerate(layers, start=1):  # only once the network is sure to be built
            layer._set_index(i)
        self.layers = layers

    def __repr__(self) -> str:
        """As a Module's; one without its layers (its __init__ raised) says so, rather than that it is empty."""
        if "layers" not in vars(self):
            return f"{type(self).__name__}(<not initialised>)"
        return super().__repr__()

    def __len__(self) -> int:
        """The number of layers (PyTorch's ``len(nn.Sequential(...))``): the seed's L."""
        return len(self.layers)

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __getitem__(self, index: int) -> Layer:
        """A layer, counted from 0 as in a list: ``net[0]`` is the seed's layer 1 (``W^1``, ``b^1``), ``net[-1]``
        the output layer.  A slice is refused: a Network of some of the layers would number their labels again."""
        given: Any = index  # (a slice is outside the hint, and refused here by name)
        if isinstance(given, slice):
            raise TypeError(f"{type(self).__name__}: net[{_slice_text(given)}] is not a Network; take the list "
                            f"net.layers[{_slice_text(given)}] (a Network of them would number their labels again)")
        index = checks.integer(index, "a layer's index", type(self).__name__)
        if not -len(self.layers) <= index < len(self.layers):
            raise IndexError(f"{type(self).__name__}: no layer {index}: it has {len(self.layers)}, net[0] to "
                             f"net[{len(self.layers) - 1}]")
        return self.layers[index]

    def __setitem__(self, index: int, layer: Layer) -> None:
        """Put ``layer`` in the place of ``net[index]``, as PyTorch's ``seq[0] = nn.Linear(...)`` and as
        ``net.layers[index] = layer`` do: it is labelled by its place (``W^1`` for ``net[0]``) when the network next
        computes, and an optimizer made before does not train it (``fit`` refuses one).  The sizes are checked then,
        not here, so that a layer can be grown one side at a time."""
        given: Any = index  # (a slice is outside the hint, and refused here by name)
        if isinstance(given, slice):  # (PyTorch's Sequential refuses it too)
            raise TypeError(f"{type(self).__name__}: net[{_slice_text(given)}] = ... is not supported: put one layer "
                            f"in at a time, net[i] = layer, or assign the list, net.layers[{_slice_text(given)}] = "
                            "[layers] (the sizes are checked when the network next computes)")
        self[index]  # (net[index]'s checks: the index of a layer there)
        if not isinstance(layer, Layer):
            raise TypeError(f"{type(self).__name__}: net[{index}] = ... takes an nn.Layer, got {type(layer).__name__}")
        if any(other is layer for other in self.layers if other is not self.layers[index]):
            raise ValueError(f"{type(self).__name__}: net[{index}] = ...: the same Layer would appear twice")
        self.layers[index] = layer

    def __delitem__(self, index: int | slice) -> None:
        """Take out ``net[index]`` (a slice: those layers), as PyTorch's ``del seq[0]`` and ``del net.layers[index]``
        do: the layers after it are labelled by their new places when the network next computes, which checks that
        the sizes still fit; an optimizer made before still holds the parameters taken out.  At least one layer
        stays."""
        given: Any = index
        taken = range(len(self.layers))[given] if isinstance(given, slice) else [self[given]]  # (net[i]'s checks)
        if len(taken) == len(self.layers):
            shown = _slice_text(given) if isinstance(given, slice) else index
            raise ValueError(f"{type(self).__name__}: del net[{shown}] would take out every layer; a Network needs at "
                             "least one")
        del self.layers[given]

    @checks.pytorch_keywords(seeds.USE_RNG, **seeds.GENERATOR_AS_RNG)
    def reset_parameters(self, rng: None | int | np.random.Generator = None) -> None:
        """Draw every layer's weights and biases again (:meth:`Layer.reset_parameters`), layer after layer from one
        generator: ``nn.MLP(sizes, init="he", rng=0)`` reset with ``rng=0`` has its first numbers again, and no two
        layers get the same numbers (an int given to each layer would draw the same ones where their shapes agree)."""
        where = f"{type(self).__name__}.reset_parameters"
        for layer in self.layers:  # all checked first: a refused reset changes nothing
            if not isinstance(layer, Layer):
                raise TypeError(f"{where}: {type(layer).__name__} is not an nn.Layer; reset the layers one by one")
            layer._checked_reset(f"{layer.name}.reset_parameters")
        generator = seeds.generator(rng, where)
        for layer in self.layers:
            layer.reset_parameters(generator)

    @property
    def sizes(self) -> list[int]:
        """The number of neurons per layer, input layer first: ``[1, 12, 12, 1]``."""
        return [self.layers[0].in_size] + [layer.out_size for layer in self.layers]

    def forward(self, data: Any) -> Value:
        """Forward propagation through all layers (seed, section 3)."""
        for i, layer in enumerate(self.layers, start=1):
            if isinstance(layer, Layer) and getattr(layer, "_index", i) != i:  # put in, or moved, since __init__
                layer._set_index(i)  # labelled W^i as its place (and its name in parameters) says
            data = layer(data)
        return data

    def config(self) -> dict | None:
        """The architecture as plain data, stored by :meth:`save` (None if an activation is custom)."""
        layers = [layer.config() if isinstance(layer, Layer) else None for layer in self.layers]  # (one put in since)
        return None if None in layers else {"layers": layers}

    def _architecture(self) -> dict | None:
        """The architecture, if it describes every parameter (a subclass may add its own) and the computation (a
        subclass of Network or Layer may have its own ``forward``, which :func:`load`'s plain layers would not
        compute)."""
        if type(self).forward is not Network.forward or any(
                not isinstance(layer, Layer) or type(layer).forward is not Layer.forward for layer in self.layers):
            return None
        _check_fit(self.layers, "save", f", so this {type(self).__name__} computes nothing; make the layers fit "
                   "(net.layers[i] = nn.Layer(...)) before saving it")  # (a layer put in since __init__ checked them)
        config = self.config()
        shapes = {name: value.shape for name, value in self._named_state()}
        return config if config is not None and serialization.parameter_shapes(config) == shapes else None


def _slice_text(part: slice) -> str:
    """``a:b:c`` as written in brackets (empty where None)."""
    text = ":".join("" if n is None else str(n) for n in (part.start, part.stop, part.step))
    return text.removesuffix(":") if part.step is None else text


def _micrograd_hint(sizes: Any, outputs: Any) -> str:
    """How micrograd's ``MLP(3, [4, 4, 1])`` (the input size, then the layer sizes) is written here, if it is that:
    with its activations too (ReLU hidden layers and a linear output there; sigmoid throughout by default here) and
    its start (weights of both signs, biases 0: the default init='uniform' draws them all positive, which kills the
    ReLUs of micrograd's moons demo within a few steps)."""
    if isinstance(sizes, (int, np.integer)) and isinstance(outputs, (list, tuple)):
        sizes, outputs = _plain(sizes), [_plain(n) for n in outputs]  # 3, not numpy 2's np.int64(3)
        return (f"; micrograd's MLP({sizes}, {outputs}) is MLP({[sizes, *outputs]}, activation='relu', "
                "output_activation='identity', init='xavier') here")
    return ""


def _plain(n: Any) -> Any:
    """A numpy number as the Python number it holds (anything else as it is)."""
    return n.item() if isinstance(n, np.generic) else n


class MLP(Network):
    """A fully connected network from its layer sizes: ``MLP([1, 12, 12, 1])`` has 3 layers, 193 parameters.

    Hidden layers use ``activation``; the output layer uses ``output_activation`` (by default the same).
    ``init`` draws every layer's starting weights and biases as :class:`Layer`'s does (``"uniform"``, ``"xavier"``
    or ``"he"``); ``rng`` seeds all layers' initialisation, one generator for all, so that no two layers get the
    same numbers (:meth:`Network.reset_parameters` with the same ``rng`` draws them again).

    Called on one sample ``(in_size,)`` it gives a Value of shape ``(out_size,)``, and on a batch ``(n, in_size)``
    one of shape ``(n, out_size)``: one output is a Value of shape ``(1,)``, where micrograd's MLP gives its single
    Value itself.  A cost of it still takes ``backward()`` (a Value of size 1 is one number), and ``net(x)[0]`` or
    ``net(x).item()`` is the output as a scalar Value or a float.
    """

    @checks.pytorch_keywords({**seeds.USE_RNG, "learning_rate": _LEARNING_RATE}, **seeds.GENERATOR_AS_RNG,
                             **_NETWORK_BIASES, dtype=_BUILT_IN_FLOAT64, lr=_LEARNING_RATE)
    def __init__(self, sizes: list[int] | tuple[int, ...], activation: str | Callable = "sigmoid",
                 output_activation: str | Callable | None = None, init: str = "uniform",
                 rng: None | int | np.random.Generator = None) -> None:
        if not isinstance(sizes, (list, tuple, np.ndarray)) or getattr(sizes, "ndim", 1) != 1:
            raise TypeError(f"MLP: sizes must be a list of layer sizes like [1, 12, 1], got {sizes!r:.60}"
                            f"{_micrograd_hint(sizes, activation)}")
        sizes = [checks.integer(n, f"layer size {i}", "MLP", least=1) for i, n in enumerate(sizes)]
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output size, got {sizes}")
        serialization.check_parameter_count(sum(map(_layer_parameters, sizes, sizes[1:])),
                                            f"MLP([{', '.join(map(checks.readable_int, sizes))}])")
        _named_activation(activation, "MLP")
        if output_activation is not None:
            _named_activation(output_activation, "MLP", "output_activation")
        _checked_init(init, "MLP")
        generator = seeds.generator(rng, "MLP")
        output_activation = activation if output_activation is None else output_activation
        count = len(sizes) - 1
        super().__init__(*[Layer(n_in, n_out, activation if i < count - 1 else output_activation, init=init,
                                 rng=generator)
                           for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:], strict=False))])


if not TYPE_CHECKING:  # (hidden from type checkers, which would otherwise take nn.any_typo for a name)
    @checks.advice_on_import
    def __getattr__(name: str) -> Any:
        """``nn.Linear``, ``nn.Sequential``: an AttributeError saying what they are here."""
        if name in _MICROGRAD_CLASSES:
            raise checks.other_library_name(__name__, name, "micrograd", _MICROGRAD_CLASSES[name])
        if name in _PYTORCH_AND_KERAS_CLASSES:
            raise checks.other_library_name(__name__, name, "PyTorch and Keras", _PYTORCH_AND_KERAS_CLASSES[name])
        if name in _KERAS_CLASSES:
            raise checks.other_library_name(__name__, name, "Keras", _KERAS_CLASSES[name])
        if name == "save":  # (beside nn.load and nn.load_state, torch.save's place: a method here)
            raise checks.no_attribute(__name__, name, f"; {_SAVED_BY_THE_MODEL}")
        # torch.nn's costs (MSELoss, BCEWithLogitsLoss, L1Loss, ...): what tinygrad_edu.losses says of them
        advice = (_PYTORCH_CLASSES.get(name) or write_instead.PYTORCH_LAYERS.get(name)  # (nn.GELU, nn.BatchNorm1d)
                  or losses.pytorch_cost_advice(name))
        raise checks.other_library_name(__name__, name, "PyTorch", advice)


def __dir__() -> list[str]:
    """``dir()`` of this module lists its API (``__all__``), not its helpers and imports."""
    return sorted(__all__)
