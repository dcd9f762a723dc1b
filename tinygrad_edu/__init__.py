"""tinygrad_edu: the math of a feedforward neural network, as code you can run, look at and test.

    >>> from tinygrad_edu import Value
    >>> x = Value(3.0)
    >>> y = x * x + 2 * x
    >>> y.backward()
    >>> x.grad          # dy/dx = 2x + 2
    array(8.)
"""

from tinygrad_edu.engine import Value, apply, detect_anomaly, is_grad_enabled, no_grad
from tinygrad_edu.ops import Op

__all__ = ["Value", "Op", "apply", "no_grad", "is_grad_enabled", "detect_anomaly"]
__version__ = "0.1.0"
