import numpy as np
from base_correct import *  # noqa: F401,F403

from tinygrad_edu import Op

SOFTSIGN = Op("softsign", lambda x: x / (1 + np.abs(x)), lambda g, out, x: g / (1 + abs(out)) ** 2)
