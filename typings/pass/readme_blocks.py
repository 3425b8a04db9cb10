import numpy as np

import typednet as tn


class Features(tn.Dim, size=4): ...


class Hidden(tn.Dim, size=16): ...


class Wide(tn.Dim, size=6): ...


class Both(tn.Dim, size=10): ...


class Output(tn.Dim, size=1): ...


rng = np.random.default_rng(0)
# A residual block: y = x + block(x), a Layer[Features, Features].
block: tn.Network[Features, Features] = tn.network(
    tn.dense(rng, Features, Hidden, tn.relu)
).then(tn.dense(rng, Hidden, Features, tn.identity))
# Two branches over the same input, concatenated: 4 + 6 = 10 features (Both).
branches = tn.parallel(
    tn.network(tn.layer_norm(Features)), tn.network(tn.dense(rng, Features, Wide, tn.tanh)), out=Both
)
net: tn.Network[Features, Output] = (
    tn.network(tn.residual(block)).then(branches).then(tn.dense(rng, Both, Output, tn.sigmoid))
)
x = rng.normal(size=(4, 32))
y = (x[:1] > 0).astype(np.float64)
net, history = tn.fit(net, x, y, loss=tn.binary_cross_entropy, optimizer=tn.adam(0.01),
                      epochs=50, batch_size=8, rng=rng, progress=False)  # fmt: skip
print(tn.summary(net))
