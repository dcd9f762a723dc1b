"""Mistakes the package refuses at run time: mypy --strict must name each line marked ``# error: <section>``."""

from tinygrad_edu import nn, optim
from tinygrad_edu.data import load_digits

digits = load_digits()
labels = digits.target  # error: dataset (scikit-learn's name; here .labels)
pixels = digits.data  # error: dataset (scikit-learn's name; here .inputs)

model = nn.MLP([2, 1], rng=0)
opt = optim.SGD(model, learning_rate=0.1)
opt.lr = 0.5  # error: optimizer (PyTorch's name; here learning_rate)
opt.learnin_rate = 0.5  # error: optimizer (misspelt)

model.paramters = [model.layers[0].weights]  # error: module (misspelt)
model.layers[0].wieghts = model.layers[0].weights  # error: module (misspelt)
