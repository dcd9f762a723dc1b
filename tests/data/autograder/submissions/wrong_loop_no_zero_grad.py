from base_correct import *  # noqa: F401,F403

from tinygrad_edu import losses, no_grad


def train(model, X, Y, episodes, learning_rate):
    costs = []
    for _ in range(episodes):
        losses.squared_error(model(X), Y).backward()
        with no_grad():
            for p in model.parameters():
                p.data -= learning_rate * p.grad
        costs.append(float(losses.squared_error(model(X), Y).data))
    return costs
