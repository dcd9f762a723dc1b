from base_correct import *  # noqa: F401,F403

from tinygrad_edu import losses, optim


def train(model, X, Y, episodes, learning_rate):
    opt = optim.GradientDescent(model, learning_rate)
    costs = []
    for _ in range(episodes):
        opt.zero_grad()
        cost = losses.squared_error(model(X), Y)
        cost.backward()
        opt.step()
        costs.append(float(cost.data))
    return costs
