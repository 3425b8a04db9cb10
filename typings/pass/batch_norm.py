"""A BatchNorm keeps the network's dims; the training step returns the same type, with
the running statistics updated."""

import numpy as np

import typednet as tn


class Features(tn.Dim, size=3): ...


class Hidden(tn.Dim, size=8): ...


class Output(tn.Dim, size=1): ...


rng = np.random.default_rng(0)
norm: tn.BatchNorm[Hidden] = tn.batch_norm(Hidden, momentum=0.1, eps=1e-5)
as_layer: tn.Layer[Hidden, Hidden] = norm
net: tn.Network[Features, Output] = (
    tn.network(tn.dense(rng, Features, Hidden, tn.relu))
    .then(norm)
    .then(tn.dense(rng, Hidden, Output, tn.identity))
)
x, y = rng.normal(size=(3, 32)), rng.normal(size=(1, 32))
optimizer = tn.sgd(0.1)
stepped, state, loss = tn.train_step(net, optimizer.init(net), x, y, loss=tn.mse, optimizer=optimizer)
typed: tn.Network[Features, Output] = stepped
trained, history = tn.fit(
    net, x, y, loss=tn.mse, optimizer=optimizer, epochs=2, batch_size=8, rng=rng, progress=False
)
y_hat = tn.forward(trained, x)  # inference: the running statistics
print(y_hat.shape, history.epochs)
