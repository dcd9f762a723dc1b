"""A correct submission (the base the other submissions change one thing of)."""

import math

import numpy as np

from tinygrad_edu import Op, losses, nn, no_grad


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


SOFTSIGN = Op("softsign", lambda x: x / (1 + np.abs(x)), lambda g, out, x: g / (1 + abs(x)) ** 2)
SWISH = Op("swish", lambda x: x * _sigmoid(x),
           lambda g, out, x: g * (1 / (1 + np.exp(-x))) * (1 + x * (1 - 1 / (1 + np.exp(-x)))))
_C = math.sqrt(2 / math.pi)


def _gelu_vjp(g, out, x):
    t = np.tanh(_C * (x + 0.044715 * x ** 3))
    return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _C * (1 + 3 * 0.044715 * x * x))


GELU_TANH = Op("gelu_tanh", lambda x: 0.5 * x * (1 + np.tanh(_C * (x + 0.044715 * x ** 3))), _gelu_vjp)
SQUARED_HINGE = Op("squared_hinge", lambda z: np.maximum(0.0, 1 - z) ** 2,
                   lambda g, out, z: g * -2 * np.maximum(0.0, 1 - z))
WEIGHTED_SUM = Op("weighted_sum", lambda a, b, w=0.5: w * a + (1 - w) * b,
                  (lambda g, out, a, b, w=0.5: g * w, lambda g, out, a, b, w=0.5: g * (1 - w)))


class TwoLayerNet(nn.Module):
    def __init__(self, n_in, n_hidden, n_out, rng=None):
        self.hidden = nn.Layer(n_in, n_hidden, activation=lambda z: SWISH(z), rng=rng)
        self.out = nn.Layer(n_hidden, n_out, activation="identity", rng=rng)

    def forward(self, x):
        return self.out(self.hidden(x))


def train(model, X, Y, episodes, learning_rate):
    costs = []
    for _ in range(episodes):
        model.zero_grad()
        losses.squared_error(model(X), Y).backward()
        with no_grad():
            for p in model.parameters():
                p.data -= learning_rate * p.grad
        costs.append(float(losses.squared_error(model(X), Y).data))
    return costs
