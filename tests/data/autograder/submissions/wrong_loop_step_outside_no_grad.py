from base_correct import *  # noqa: F401,F403

from tinygrad_edu import losses


def train(model, X, Y, episodes, learning_rate):
    costs = []
    for _ in range(episodes):
        model.zero_grad()
        losses.squared_error(model(X), Y).backward()
        for p in model.parameters():
            p -= learning_rate * p.grad
        costs.append(float(losses.squared_error(model(X), Y).data))
    return costs
