"""Plain int sizes for quick scripts: only the run-time checks see the wiring."""

import numpy as np

import typednet as tn

rng = np.random.default_rng(1)
layers = [tn.dense(rng, 2, 8, tn.tanh), tn.dense(rng, 8, 1, tn.sigmoid)]
net: tn.Network[int, int] = tn.Network(tuple(layers))
also: tn.Network[int, int] = tn.Network((layers[0],)).then(layers[1])
plain = tn.Dense(w=np.ones((3, 2)), b=np.zeros((3, 1)), activation=tn.relu)
chained: tn.Network[int, int] = tn.network(plain).then(tn.dense(rng, 3, 1, tn.identity))
x32 = rng.random((2, 10)).astype(np.float32)
net32 = tn.network(tn.dense(rng, 2, 1, tn.sigmoid, dtype=np.float32))
y32 = tn.forward(net32, x32)
assert y32.dtype == np.float32
print(net.sizes, also.param_count, chained.out_size, tn.forward(net, rng.random((2, 4))).shape)
