"""docs/typed-maths.md's example, the course's forward pass typed, as written there."""

import numpy as np

import typednet as tn


class Features(tn.Dim, size=5): ...


class Hidden1(tn.Dim, size=3): ...


class Hidden2(tn.Dim, size=5): ...


class Output(tn.Dim, size=4): ...


rng = np.random.RandomState(42)  # the course's draws: x, y, then the weights
x = tn.mat(rng.randint(1, 100, size=(5, 1)) / 100, Features, tn.One)
y = tn.mat(rng.randint(1, 100, size=(4, 1)) / 100, Output, tn.One)
w1 = tn.mat(rng.random((3, 5)), Hidden1, Features)  # (next, prev)
w2 = tn.mat(rng.random((5, 3)), Hidden2, Hidden1)
w3 = tn.mat(rng.random((4, 5)), Output, Hidden2)
b1 = tn.mat(np.zeros((3, 1)), Hidden1, tn.One)  # (next, 1)
b2 = tn.mat(np.zeros((5, 1)), Hidden2, tn.One)
b3 = tn.mat(np.zeros((4, 1)), Output, tn.One)

in_hidden_1 = w1 @ x + b1  # Mat[Hidden1, One]
out_hidden_1 = tn.leaky_relu(0.1)(in_hidden_1)
in_hidden_2 = w2 @ out_hidden_1 + b2  # Mat[Hidden2, One]
out_hidden_2 = tn.sigmoid(in_hidden_2)
y_hat = tn.sigmoid(w3 @ out_hidden_2 + b3)  # Mat[Output, One]
print(y_hat)
print(tn.mse(y.array, y_hat.array))

net = (
    tn.network(tn.Dense.of(w1, b1, tn.leaky_relu(0.1)))
    .then(tn.Dense.of(w2, b2, tn.sigmoid))
    .then(tn.Dense.of(w3, b3, tn.sigmoid))
)
print(net.layers[0])
