"""The README's example of blocks beyond a chain, as written there."""

import numpy as np

import typednet as tn


class Features(tn.Dim, size=4): ...
class Hidden(tn.Dim, size=16): ...
class Wide(tn.Dim, size=6): ...
class Both(tn.Dim, size=10): ...
class Output(tn.Dim, size=1): ...


rng = np.random.default_rng(0)
block: tn.Network[Features, Features] = tn.network(
    tn.dense(rng, Features, Hidden, tn.relu)
).then(tn.dense(rng, Hidden, Features, tn.identity))
branches = tn.parallel(  # 4 + 6 = 10 features, concatenated: a Layer[Features, Both]
    tn.network(tn.layer_norm(Features)),
    tn.network(tn.dense(rng, Features, Wide, tn.tanh)),
    out=Both,
)
net: tn.Network[Features, Output] = (
    tn.network(tn.residual(block))  # y = x + block(x): a Layer[Features, Features]
    .then(branches)
    .then(tn.dense(rng, Both, Output, tn.sigmoid))
)
print(tn.summary(net))
print(tn.forward(net, rng.normal(size=(4, 32))).shape)
