from base_correct import *  # noqa: F401,F403
from base_correct import _sigmoid

from tinygrad_edu import Op

SWISH = Op("swish", lambda x: x * _sigmoid(x), lambda g, out, x: _sigmoid(x) * (1 + x * (1 - _sigmoid(x))))
