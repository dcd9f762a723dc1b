from base_correct import *  # noqa: F401,F403
from base_correct import SWISH

from tinygrad_edu import nn


class TwoLayerNet(nn.Module):
    def __init__(self, n_in, n_hidden, n_out, rng=None):
        self._hidden = nn.Layer(n_in, n_hidden, activation=SWISH, rng=rng)
        self.out = nn.Layer(n_hidden, n_out, activation="identity", rng=rng)

    def forward(self, x):
        return self.out(self._hidden(x))
