import numpy as np
from base_correct import *  # noqa: F401,F403

from tinygrad_edu import Op


def _softsign_in_place(x):
    x /= 1 + np.abs(x)      # saves an array... and overwrites the caller's
    return x


SOFTSIGN = Op("softsign", _softsign_in_place, lambda g, out, x: g * (1 - abs(out)) ** 2)
