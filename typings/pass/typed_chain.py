"""Typed layers chain, and every public function accepts what it should."""

import numpy as np

import typednet as tn


class Features(tn.Dim, size=5): ...


class Hidden1(tn.Dim, size=3): ...


class Hidden2(tn.Dim, size=5): ...


class Output(tn.Dim, size=4): ...


rng = np.random.RandomState(42)
first: tn.Dense[Features, Hidden1] = tn.dense(rng, Features, Hidden1, tn.leaky_relu(0.1))
second: tn.Dense[Hidden1, Hidden2] = tn.dense(rng, Hidden1, Hidden2, tn.sigmoid)
third: tn.Dense[Hidden2, Output] = tn.dense(rng, Hidden2, Output, tn.sigmoid)
net: tn.Network[Features, Output] = tn.network(first).then(second).then(third)


def build() -> tn.Network[Features, Hidden2]:
    return tn.network(first).then(second)


normed: tn.Network[Features, Hidden1] = (
    tn.network(tn.dense(rng, Features, Hidden1, tn.identity)).then(tn.layer_norm(Hidden1)).then(tn.relu)
)

x: tn.Matrix = rng.randint(1, 100, size=(5, 1)) / 100
y: tn.Matrix = rng.randint(1, 100, size=(4, 1)) / 100
trace: tn.Trace = tn.forward_trace(net, x)
loss: float = tn.mse(y, trace.y_hat)
w: tn.Weight = first.w
b: tn.Bias = first.b
explicit = tn.Dense(w=w, b=b, activation=tn.relu, dims=(Features, Hidden1))
again: tn.Network[Features, Hidden2] = tn.network(explicit).then(second)
with tn.no_checks():
    tn.forward(normed, x)
