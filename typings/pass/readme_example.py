"""The README's first example, as written there."""

import numpy as np

import typednet as tn


class Features(tn.Dim, size=5): ...


class Hidden(tn.Dim, size=3): ...


class Output(tn.Dim, size=4): ...


rng = np.random.default_rng(0)
net: tn.Network[Features, Output] = tn.network(
    tn.dense(rng, Features, Hidden, tn.leaky_relu(0.1))
).then(tn.dense(rng, Hidden, Output, tn.sigmoid))
print(net)

x = rng.random((5, 32))  # 32 samples, one per column
y_hat = tn.forward(net, x)
print(y_hat.shape)

try:
    tn.forward(net, x.T)  # samples as rows: caught at run time
except tn.ShapeError as error:
    print(error)
