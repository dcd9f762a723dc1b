"""The seed's first task (section 3): forward propagation through one layer, α¹ = σ(W·α⁰ + b).

The "straightforward solution" the seed describes, nested loops over the neurons and the weights, next to the
one line that replaces it, ``nn.Layer``: both compute the same activations.

Notation (seed, section 3):
    α⁰_k      activation of neuron k of the previous layer (here: the input x_k), k = 0 … n₀ (n₀ + 1 inputs)
    w_{k;j}   the weight connecting α⁰_k to neuron j of this layer
    b_j       the bias of neuron j
    α¹_j = σ(α⁰_0 · w_{0;j} + α⁰_1 · w_{1;j} + … + α⁰_n₀ · w_{n₀;j} + b_j)

The seed stores w_{k;j} in a weights matrix of shape (in_size, out_size), row k for input k, as the code does:
the sum over k is then the row vector α⁰ times W, ``α⁰ @ W``.  The seed's vector form W·α⁰ means the same with
the matrix written the other way round (one row per neuron), i.e. this W transposed.

Run:  python examples/forward_propagation.py
"""

import argparse

import numpy as np

from tinygrad_edu import nn


def sigma(z: float) -> float:
    """The sigmoid activation σ(z) = 1 / (1 + e⁻ᶻ)."""
    return 1.0 / (1.0 + np.exp(-z))


def forward_with_loops(data: np.ndarray, weights: np.ndarray, biases: np.ndarray) -> np.ndarray:
    """The seed's nested loops: for every neuron j, sum α⁰_k · w_{k;j} over k, add b_j, apply σ."""
    in_size, out_size = weights.shape
    activations = np.zeros(out_size)
    for j in range(out_size):               # each neuron j of this layer
        z = 0.0
        for k in range(in_size):            # each activation α⁰_k of the previous layer
            z += data[k] * weights[k, j]    # α⁰_k · w_{k;j}
        z += biases[j]                      # + b_j
        activations[j] = sigma(z)           # α¹_j = σ(z_j)
    return activations


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()  # --help; no options
    # The seed's Layer: weights of shape (in_size, out_size) and biases of shape (out_size,), both drawn
    # uniform in [0, 1) like np.random.rand (init="uniform"), reproducibly from rng=0.
    layer = nn.Layer(in_size=4, out_size=3, activation="sigmoid", init="uniform", rng=0)
    x = np.array([0.2, -0.5, 1.0, 0.7])     # the input vector x⃗, i.e. the activations α⁰ of the input layer

    W, b = layer.weights.data, layer.biases.data
    by_loops = forward_with_loops(x, W, b)
    by_layer = layer(x).data                # σ(α⁰ · W + b): one matrix product, then σ on each entry

    np.set_printoptions(precision=6, floatmode="fixed")
    print(f"layer: {layer}")
    print(f"input α⁰ = {x}")
    print(f"weights W (rows k = input, columns j = neuron):\n{W}")
    print(f"biases b = {b}")
    print(f"nested loops      α¹ = {by_loops}")
    print(f"Layer.forward     α¹ = {by_layer}")
    difference = float(np.abs(by_loops - by_layer).max())
    agree = np.allclose(by_loops, by_layer, rtol=1e-12, atol=1e-15)
    print(f"largest difference: {difference:.1e} -> {'they agree' if agree else 'THEY DISAGREE'}")

    # The same layer takes a batch of samples at once, one row each: α¹ for every row.
    batch = np.stack([x, -x, np.zeros(4)])
    rows_agree = all(np.allclose(forward_with_loops(row, W, b), out) for row, out in zip(batch, layer(batch).data))
    print(f"batch of {len(batch)} samples, shape {layer(batch).shape}: "
          f"{'each row agrees with the loops' if rows_agree else 'ROWS DISAGREE'}")

    # A network applies layers one after the other (section 3, last paragraph): α² = σ(α¹ · W² + b²).
    network = nn.Network(layer, nn.Layer(3, 2, activation="sigmoid", init="uniform", rng=1))
    second = network.layers[1]
    by_hand = forward_with_loops(forward_with_loops(x, W, b), second.weights.data, second.biases.data)
    print(f"two layers 4-3-2: network output {network(x).data}, loops {by_hand}: "
          f"{'they agree' if np.allclose(by_hand, network(x).data) else 'THEY DISAGREE'}")


if __name__ == "__main__":
    main()
