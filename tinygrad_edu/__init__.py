"""tinygrad_edu: the math of a feedforward neural network, as code you can run, look at and test.

It follows the seed, the assignment *Understanding the Math behind Neural Networks* (V. Teutschbein, HPI, 2024),
sections 2 to 7: each module's docstring names the sections it implements (README.md's "From the seed to the code").

    >>> from tinygrad_edu import Value
    >>> x = Value(3.0)
    >>> y = x * x + 2 * x
    >>> y.backward()
    >>> x.grad          # dy/dx = 2x + 2
    array(8.)

Layers: ``engine`` (Value, the graph walk) and ``ops`` (each op's forward and derivative) at the bottom;
``functional``, ``nn``, ``losses`` above them; ``optim``, ``training``, ``data``, ``viz``, ``plots`` above
those; ``demo`` and ``cli`` on top.  ``viz`` and ``plots`` are imported on demand: ``from tinygrad_edu import viz``.
"""

import typing as _typing

from tinygrad_edu import checks, data, functional, losses, nn, optim, write_instead
from tinygrad_edu.engine import Value, apply, detect_anomaly, enable_grad, is_anomaly_enabled, is_grad_enabled, no_grad
from tinygrad_edu.ops import Op
from tinygrad_edu.training import DivergenceWarning, History, fit

__all__ = ["Value", "Op", "apply", "no_grad", "enable_grad", "is_grad_enabled", "detect_anomaly", "is_anomaly_enabled",
           "functional", "nn", "losses", "optim", "data", "fit", "History", "DivergenceWarning"]
__version__ = "0.1.0"


#: torch's top-level names a training script uses, and what to write here.
_PYTORCH_NAMES = {
    **dict.fromkeys(("distributions", "Normal", "Categorical"), write_instead.DISTRIBUTIONS),
    "save": "model.save(path) writes a model's parameters, np.savez(path, **opt.state_dict()) an optimizer's state",
    "load": "model.load(path) on a model built as the saved one, opt.load_state_dict(np.load(path)) on an optimizer",
    "manual_seed": "np.random.seed(0) before building the model (its initial weights, as PyTorch's after "
                   "torch.manual_seed, follow numpy's global random state), or seed= where it is taken "
                   "(data.batches(..., seed=0), fit(..., seed=0))",
    "from_numpy": "Value(array)", "inference_mode": "no_grad(), as a with block or a decorator",
    "set_grad_enabled": "with no_grad(): stops recording and with enable_grad(): records again; torch's with "
                        "set_grad_enabled(flag): is with (enable_grad() if flag else no_grad()):",
}


if not _typing.TYPE_CHECKING:  # (hidden from type checkers, which would take tinygrad_edu.any_typo for a name)
    @checks.advice_on_import
    def __getattr__(name: str) -> _typing.NoReturn:
        """minitorch's ``minitorch.Tensor``, ``minitorch.central_difference``, and JAX's transforms, top-level names
        there (``jax.grad``, ``jax.vmap``): an AttributeError saying what they are here."""
        from tinygrad_edu import autodiff  # (loaded with the package already: optim uses it)

        if name in autodiff.__all__ or name in autodiff.OTHER_NAMES:
            here = (f": from tinygrad_edu.autodiff import {name}" if name in autodiff.__all__ else
                    f"; for {name}, {autodiff.OTHER_NAMES[name]}")  # (vmap, stop_gradient: in autodiff neither)
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}; the function transforms (JAX's "
                                 f"jax.grad, jax.hessian, …) are in tinygrad_edu.autodiff{here}", name=name)
        if name in _PYTORCH_NAMES:
            raise checks.other_library_name(__name__, name, "PyTorch", _PYTORCH_NAMES[name])
        raise checks.minitorch_name(__name__, name)
