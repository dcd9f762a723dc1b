"""Correct code: the data functions take nested lists as they take arrays (one_hot's own docstring gives a list)."""

from tinygrad_edu.data import batches, one_hot, train_test_split

targets = one_hot([9])
train, test = train_test_split([[0.0], [1.0], [2.0], [3.0]], [0, 1, 0, 1], test_fraction=0.25, seed=0)
pairs = list(batches([[0.0], [1.0], [2.0]], [[0.0], [1.0], [4.0]], batch_size=2, shuffle=False))
