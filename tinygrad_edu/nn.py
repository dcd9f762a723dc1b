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
    >>> [name for name, _ in net.named_parameters()][:2]
    ['layers.0.weights', 'layers.0.biases']

Models are saved as ``.npz`` files (``model.save(path)``) and read back without pickle (``model.load(path)``,
``nn.load_state(path)``, or ``nn.load(path)``, which also rebuilds the architecture).
"""

from __future__ import annotations

import json
import os
import uuid
import zipfile
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np

from tinygrad_edu import ops, seeds
from tinygrad_edu.engine import Value, apply
from tinygrad_edu.functional import ACTIVATIONS

__all__ = ["Module", "Layer", "Network", "MLP", "load_state", "load", "INITS", "FORMAT"]

#: The marker entry that says an ``.npz`` file holds a tinygrad_edu model.
FORMAT = "tinygrad_edu.state/1"
_FORMAT_KEY = "__format__"
_ARCHITECTURE_KEY = "__architecture__"
#: Initialisation schemes by name.
INITS = ("uniform", "xavier", "he")

PathLike = str | os.PathLike


class Module:
    """Base class of everything with parameters: layers and networks.

    Parameters are found in the attributes (in the order they were set): every :class:`Value` that requires a
    gradient, every sub-``Module``, and lists/tuples of them.  Attributes whose name starts with ``_`` are
    private and skipped.  Subclasses define ``forward``; calling the module calls ``forward``.
    """

    def forward(self, *args: Any, **kwargs: Any) -> Value:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Value:
        return self.forward(*args, **kwargs)

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Value]]:
        """``(name, parameter)`` pairs, names like ``"layers.0.weights"``; each parameter once."""
        seen: set[int] = set()
        for name, value in _walk(self, prefix):
            if id(value) not in seen:
                seen.add(id(value))
                yield name, value

    def parameters(self) -> list[Value]:
        """All parameters (weights and biases), each once."""
        return [value for _, value in self.named_parameters()]

    def zero_grad(self) -> None:
        """Forget the gradients of all parameters (each ``grad`` becomes None)."""
        for value in self.parameters():
            value.grad = None

    def num_parameters(self) -> int:
        """How many numbers the parameters hold in total (a 1-12-12-1 network has 193)."""
        return sum(value.size for value in self.parameters())

    # --- state ---------------------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's data, by name."""
        return {name: value.data.copy() for name, value in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Set the parameters from ``state`` (as made by :meth:`state_dict`), exactly, keeping its dtype.

        Everything is checked before anything is assigned: a missing, extra or mis-shaped entry, or one that
        is not an array of floats, raises ``ValueError`` naming it, and the model stays as it was.
        """
        if not isinstance(state, Mapping):
            raise TypeError("load_state_dict: expected a mapping of names to arrays, "
                            f"got {type(state).__name__}")
        params = dict(self.named_parameters())
        missing = [name for name in params if name not in state]
        extra = [name for name in state if name not in params]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"missing {', '.join(missing)}")
            if extra:
                parts.append(f"unexpected {', '.join(map(str, extra))}")
            raise ValueError(f"load_state_dict: the state does not fit this {type(self).__name__}: "
                             f"{'; '.join(parts)}")
        arrays = {}
        for name, value in params.items():
            array = state[name].data if isinstance(state[name], Value) else np.asarray(state[name])
            if array.dtype not in (np.float32, np.float64):
                raise ValueError(f"load_state_dict: entry {name!r} has dtype {array.dtype}; "
                                 "expected float32 or float64")
            if array.shape != value.shape:
                raise ValueError(f"load_state_dict: entry {name!r} has shape {array.shape} but the parameter "
                                 f"has shape {value.shape}")
            if not np.isfinite(array).all():
                raise ValueError(f"load_state_dict: entry {name!r} holds NaN or inf")
            arrays[name] = array
        for name, value in params.items():
            value.data = np.array(arrays[name], copy=True)

    def save(self, path: PathLike) -> None:
        """Write the parameters to ``path`` as an ``.npz`` file (no pickle), with a format marker entry.

        The file is written next to its destination and then renamed, so an interrupted save never leaves a
        half-written model behind.  Networks built from named activations also store their architecture, so
        that :func:`load` can rebuild them.
        """
        entries: dict[str, np.ndarray] = {_FORMAT_KEY: np.array(FORMAT)}
        architecture = self.config() if isinstance(self, Network) else None
        if architecture is not None:
            entries[_ARCHITECTURE_KEY] = np.array(json.dumps(architecture))
        entries.update(self.state_dict())
        path = os.fspath(path)
        folder, name = os.path.split(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"save: cannot write {path!r}: the folder {folder!r} does not exist")
        temporary = os.path.join(folder, f".{name}.{uuid.uuid4().hex}.tmp")
        try:
            with open(temporary, "xb") as file:  # a new file with the usual permissions (umask), unlike mkstemp's 0600
                np.savez(file, **entries)
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.remove(temporary)
            raise

    def load(self, path: PathLike) -> Module:
        """Set the parameters from a file written by :meth:`save`; returns the module.

        A file that is not ours, truncated or corrupt, whose stored architecture is damaged (the same check as
        :func:`load`), or that does not fit this module raises ``ValueError`` and leaves the module unchanged.
        """
        self.load_state_dict(load_state(path))
        return self


def _walk(obj: Any, prefix: str) -> Iterator[tuple[str, Value]]:
    """The parameters under ``obj`` with dotted names, depth first in attribute order."""
    if isinstance(obj, Value):
        if obj.requires_grad:
            yield prefix, obj
    elif isinstance(obj, Module):
        for key, child in vars(obj).items():
            if not key.startswith("_"):
                yield from _walk(child, f"{prefix}.{key}" if prefix else key)
    elif isinstance(obj, (list, tuple)):
        for i, child in enumerate(obj):
            if isinstance(child, (Value, Module, list, tuple)):
                yield from _walk(child, f"{prefix}.{i}" if prefix else str(i))


def _read_npz(path: PathLike) -> dict[str, np.ndarray]:
    """Every entry of an ``.npz`` file, read eagerly without pickle; damage of any kind becomes ValueError."""
    try:
        with open(path, "rb") as file:
            header = file.read(6)
        if header == b"\x93NUMPY":
            raise ValueError("it holds a single array (.npy), not a set of named arrays")
        if header[:4] != b"PK\x03\x04":
            raise ValueError("it is not an .npz archive (it lacks the zip header)")
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, zipfile.LargeZipFile) as error:
        raise ValueError(f"load_state: {os.fspath(path)!r} is not a readable tinygrad_edu model file "
                         f"(.npz): {error}") from None


def _read_checked(path: PathLike) -> tuple[dict[str, np.ndarray], dict | None]:
    """The parameter entries and the architecture (or None) of a model file, after checking the marker."""
    entries = _read_npz(path)
    where = f"load_state: {os.fspath(path)!r}"
    marker = entries.pop(_FORMAT_KEY, None)
    if marker is None or marker.shape != () or marker.dtype.kind != "U":
        raise ValueError(f"{where} is not a tinygrad_edu model file: its format entry {_FORMAT_KEY!r} "
                         "is missing")
    if str(marker) != FORMAT:
        raise ValueError(f"{where} has format {str(marker)!r}; this version reads {FORMAT!r}")
    architecture = entries.pop(_ARCHITECTURE_KEY, None)
    for name, array in entries.items():
        if array.dtype not in (np.float32, np.float64):
            raise ValueError(f"{where}: entry {name!r} has dtype {array.dtype}; expected float32 or float64")
    if architecture is not None:
        try:
            architecture = json.loads(str(architecture))
        except (ValueError, TypeError) as error:
            raise ValueError(f"{where}: the stored architecture is damaged: {error}") from None
        problem = _architecture_problem(architecture, entries)
        if problem:
            raise ValueError(f"{where}: {problem}")
    return entries, architecture


def _architecture_problem(architecture: Any, entries: Mapping[str, np.ndarray]) -> str | None:
    """What is wrong with a stored architecture (None if nothing): its layers must be well-formed, fit one
    another and describe exactly the stored entries, so that nothing is built from a damaged description."""
    damaged = "the stored architecture is damaged:"
    layers = architecture.get("layers") if isinstance(architecture, dict) else None
    if not isinstance(layers, list) or not layers:
        return f"{damaged} expected {{'layers': [...]}} with at least one layer, got {str(architecture)[:80]}"
    expected = set()
    for i, spec in enumerate(layers):
        if not isinstance(spec, dict):
            return f"{damaged} layer {i} is {str(spec)[:40]}, not a mapping"
        sizes = [spec.get(key) for key in ("in_size", "out_size")]
        if any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in sizes):
            return f"{damaged} layer {i} has sizes {sizes[0]!r} → {sizes[1]!r}; expected positive ints"
        if spec.get("activation") not in ACTIVATIONS:
            return f"{damaged} layer {i} has unknown activation {spec.get('activation')!r}"
        if not isinstance(spec.get("name"), (str, type(None))):
            return f"{damaged} layer {i} has name {spec.get('name')!r}; expected a string"
        if i and sizes[0] != layers[i - 1]["out_size"]:
            return (f"{damaged} layer {i - 1} gives {layers[i - 1]['out_size']} outputs but layer {i} takes "
                    f"{sizes[0]}")
        for key, shape in (("weights", tuple(sizes)), ("biases", (sizes[1],))):
            name = f"layers.{i}.{key}"
            expected.add(name)
            if name not in entries:
                return f"missing {name} (layer {i} of the stored architecture, {sizes[0]} → {sizes[1]})"
            if entries[name].shape != shape:
                return (f"entry {name!r} has shape {entries[name].shape} but the stored architecture's layer {i} "
                        f"({sizes[0]} → {sizes[1]}) needs {shape}")
    extra = sorted(set(entries) - expected)
    if extra:
        return f"unexpected {', '.join(extra)} (the stored architecture has {len(layers)} layer(s))"
    return None


def load_state(path: PathLike) -> dict[str, np.ndarray]:
    """The parameters stored in a file written by :meth:`Module.save`, by name (read without pickle).

    Raises ``ValueError`` for a file that is not an ``.npz``, is truncated or corrupt, or lacks the format
    marker.
    """
    return _read_checked(path)[0]


def load(path: PathLike) -> Network:
    """Rebuild a saved :class:`Network` (its layers and activations) and its parameters from ``path``.

    The stored architecture is checked against the stored entries before any layer is built.
    """
    state, architecture = _read_checked(path)
    if architecture is None:
        raise ValueError(f"load: {os.fspath(path)!r} stores parameters but no architecture; build the model "
                         "yourself and call model.load(path)")
    layers = [Layer(spec["in_size"], spec["out_size"], activation=spec["activation"], name=spec.get("name"))
              for spec in architecture["layers"]]  # checked against the entries by _read_checked
    network = Network(*layers)
    network.load_state_dict(state)
    return network


# --- layers ----------------------------------------------------------------------------------------------

def _size(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"Layer: {what} must be a positive int, got {value!r}")
    return int(value)


class Layer(Module):
    """One layer of neurons: ``forward(α) = σ(α @ W + b)`` (seed, section 3).

    ``in_size`` activations come in, ``out_size`` go out.  ``activation`` is a name from
    :data:`tinygrad_edu.functional.ACTIVATIONS` (``"sigmoid"``, ``"relu"``, ``"tanh"``, ``"leaky_relu"``,
    ``"softplus"``, ``"identity"``) or any function of Values.  ``init`` draws the starting weights:

    - ``"uniform"``: weights and biases uniform in [0, 1), as the seed's ``np.random.rand``;
    - ``"xavier"``: weights uniform in ±√(6 / (in_size + out_size)) (Glorot), biases 0;
    - ``"he"``: weights normal with standard deviation √(2 / in_size) (for ReLU), biases 0.

    ``rng`` (an int seed or a numpy ``Generator``) makes the draw reproducible.
    """

    def __init__(self, in_size: int, out_size: int, activation: str | Callable[[Value], Value] = "sigmoid",
                 init: str = "uniform", rng: None | int | np.random.Generator = None,
                 name: str | None = None) -> None:
        self.in_size = _size(in_size, "in_size")
        self.out_size = _size(out_size, "out_size")
        if isinstance(activation, str):
            if activation not in ACTIVATIONS:
                raise ValueError(f"Layer: unknown activation {activation!r}; choose one of "
                                 f"{', '.join(ACTIVATIONS)} or pass a function of Values")
            self.activation_name = activation
            self._activation = ACTIVATIONS[activation]
        elif callable(activation):
            self.activation_name = getattr(activation, "__name__", type(activation).__name__)
            self._activation = activation
        else:
            raise TypeError("Layer: activation must be a name or a function, "
                            f"got {type(activation).__name__}")
        if init not in INITS:
            raise ValueError(f"Layer: unknown init {init!r}; choose one of {', '.join(INITS)}")
        self.init = init
        generator = seeds.generator(rng, "Layer")
        shape = (self.in_size, self.out_size)
        if init == "uniform":
            weights, biases = generator.random(shape), generator.random(self.out_size)
        elif init == "xavier":
            limit = np.sqrt(6.0 / (self.in_size + self.out_size))
            weights, biases = generator.uniform(-limit, limit, shape), np.zeros(self.out_size)
        else:
            weights = generator.normal(0.0, np.sqrt(2.0 / self.in_size), shape)
            biases = np.zeros(self.out_size)
        self.weights = Value(weights)
        self.biases = Value(biases)
        self._name = name
        self._set_index(None)

    @property
    def activation(self) -> Callable[[Value], Value]:
        """The activation function σ."""
        return self._activation

    @property
    def index(self) -> int | None:
        """The layer's number ``i`` in its network (1 for the first layer after the input), or None."""
        return self._index

    @property
    def name(self) -> str:
        """The name given, else ``"layer i"`` inside a network, else ``"layer"``."""
        if self._name is not None:
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
        if isinstance(data, (Value, np.ndarray)):
            shape = data.shape
        else:
            try:
                shape = np.shape(data)
            except ValueError:
                raise ValueError(f"{self.name} ({self.in_size} → {self.out_size}): the samples are ragged "
                                 "(rows of different lengths)") from None
        if len(shape) not in (1, 2) or shape[-1] != self.in_size:
            raise ValueError(f"{self.name} ({self.in_size} → {self.out_size}): expects {self.in_size} inputs "
                             f"per sample, shape ({self.in_size},) or (n, {self.in_size}); "
                             f"got data of shape {shape}")
        z = apply(ops.matmul, data, self.weights) + self.biases
        z.label = self._z_label
        try:
            alpha = self._activation(z)
        except TypeError as error:
            raise TypeError(f"{self.name}: the activation {self.activation_name} failed on a Value ({error}); "
                            "use a function of Values, e.g. from tinygrad_edu.functional") from error
        if not isinstance(alpha, Value) or alpha.shape != z.shape:
            if not isinstance(alpha, Value):
                raise TypeError(f"{self.name}: the activation {self.activation_name} must return a Value, "
                                f"got {type(alpha).__name__}")
            raise ValueError(f"{self.name}: the activation {self.activation_name} changed the shape {z.shape} "
                             f"to {alpha.shape}")
        alpha.label = self._alpha_label
        return alpha

    def config(self) -> dict | None:
        """The layer's architecture as plain data (None if its activation is not one of the named ones)."""
        if ACTIVATIONS.get(self.activation_name) is not self._activation:
            return None
        return {"in_size": self.in_size, "out_size": self.out_size, "activation": self.activation_name,
                "name": self._name}

    def __repr__(self) -> str:
        name = f", name={self._name!r}" if self._name is not None else ""
        return f"Layer({self.in_size} → {self.out_size}, activation={self.activation_name!r}{name})"


class Network(Module):
    """Layers applied one after the other: ``α^0 = x``, ``α^i = layer_i(α^{i-1})``, output ``y = α^L``.

    Consecutive layers must fit: the ``out_size`` of one is the ``in_size`` of the next.  Layer ``i``
    (counting from 1) gets the labels ``W^i``, ``b^i``, ``z^i``, ``α^i`` of the seed's figures.
    """

    def __init__(self, *layers: Layer) -> None:
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        if not layers:
            raise ValueError(f"{type(self).__name__}: needs at least one Layer")
        for layer in layers:
            if not isinstance(layer, Layer):
                raise TypeError(f"{type(self).__name__}: expected Layers, got {type(layer).__name__}")
        if len({id(layer) for layer in layers}) != len(layers):
            raise ValueError(f"{type(self).__name__}: the same Layer appears twice")
        for i, layer in enumerate(layers, start=1):
            layer._set_index(i)
        for before, after in zip(layers, layers[1:], strict=False):
            if before.out_size != after.in_size:
                raise ValueError(f"{type(self).__name__}: {before.name} gives {before.out_size} outputs but "
                                 f"{after.name} takes {after.in_size} inputs")
        self.layers = list(layers)

    @property
    def sizes(self) -> list[int]:
        """The number of neurons per layer, input layer first: ``[1, 12, 12, 1]``."""
        return [self.layers[0].in_size] + [layer.out_size for layer in self.layers]

    def forward(self, data: Any) -> Value:
        """Forward propagation through all layers (seed, section 3)."""
        for layer in self.layers:
            data = layer(data)
        return data

    def config(self) -> dict | None:
        """The architecture as plain data, stored by :meth:`save` (None if an activation is custom)."""
        layers = [layer.config() for layer in self.layers]
        return None if None in layers else {"layers": layers}

    def __repr__(self) -> str:
        lines = [f"  ({layer.index}): {layer!r}" for layer in self.layers]
        return f"{type(self).__name__}(\n" + "\n".join(lines) + f"\n)  # {self.num_parameters()} parameters"


class MLP(Network):
    """A fully connected network from its layer sizes: ``MLP([1, 12, 12, 1])`` has 3 layers, 193 parameters.

    Hidden layers use ``activation``; the output layer uses ``output_activation`` (by default the same).
    ``rng`` seeds all layers' initialisation.
    """

    def __init__(self, sizes: list[int] | tuple[int, ...], activation: str | Callable = "sigmoid",
                 output_activation: str | Callable | None = None, init: str = "uniform",
                 rng: None | int | np.random.Generator = None) -> None:
        if not isinstance(sizes, (list, tuple, np.ndarray)):
            raise TypeError(f"MLP: sizes must be a list of layer sizes like [1, 12, 1], got {sizes!r}")
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least an input and an output size, got {sizes}")
        generator = seeds.generator(rng, "MLP")
        output_activation = activation if output_activation is None else output_activation
        count = len(sizes) - 1
        super().__init__(*[Layer(n_in, n_out, activation if i < count - 1 else output_activation, init=init,
                                 rng=generator)
                           for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:], strict=False))])
