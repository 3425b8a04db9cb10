"""docs/batch-norm.md's example: a BatchNorm keeps the network's dims, fit returns the
network with its running statistics, forward uses them."""

import numpy as np

import typednet as tn


class Features(tn.Dim, size=2): ...
class Hidden(tn.Dim, size=8): ...
class Output(tn.Dim, size=1): ...


rng = np.random.default_rng(0)
net: tn.Network[Features, Output] = (
    tn.network(tn.dense(rng, Features, Hidden, tn.tanh))
    .then(tn.batch_norm(Hidden, momentum=0.1, eps=1e-5))  # a Layer[Hidden, Hidden]
    .then(tn.dense(rng, Hidden, Output, tn.identity))
)
x = rng.normal(3.0, 4.0, (2, 200))
y = np.sin(x[:1] / 4)
trained, history = tn.fit(net, x, y, loss=tn.mse, optimizer=tn.adam(1e-2), epochs=30,
                          batch_size=20, rng=rng, progress=False)
print(trained)
print(f"loss {history.train_loss[0]:.3f} -> {history.train_loss[-1]:.3f}")
print(tn.mse(y, tn.forward(trained, x)) < tn.mse(y, tn.forward(net, x)))  # inference
