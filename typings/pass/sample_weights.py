"""Sample weights as the checkers see them: (n,) or (1, n), ints or floats, inline or
bound to a variable; a (n, 1) column type-checks (it is 2-D like a row) and only the
run-time check refuses it."""

import numpy as np

import typednet as tn

rng = np.random.default_rng(0)
net = tn.network(tn.dense(rng, 3, 4, tn.tanh)).then(tn.dense(rng, 4, 2, tn.softmax))
x = rng.normal(size=(3, 6))
y = np.eye(2)[:, [0, 1, 1, 0, 1, 0]]

counts = np.array([1, 0, 2, 3, 1, 1])  # ints: how many times each column counts
row = np.ones((1, 6))
declared: tn.SampleWeights = np.ones(6)
value, grads = tn.value_and_grad(net, x, y, tn.cross_entropy, sample_weight=counts)
tn.grad(net, x, y, tn.cross_entropy, sample_weight=np.ones((1, 6)))  # inline, 2-D
tn.grad(net, x, y, tn.cross_entropy, sample_weight=np.full(6, 2, dtype=np.int64))
tn.grad(net, x, y, tn.cross_entropy, sample_weight=declared)
tn.cross_entropy(y, tn.forward(net, x), sample_weight=row)
tn.cross_entropy.gradient(y, tn.forward(net, x), np.arange(6, dtype=np.float32))
tn.accuracy(y, tn.forward(net, x), sample_weight=counts)
tn.mad(y[:1], tn.forward(net, x)[:1], sample_weight=row)
tn.within(y[:1], tn.forward(net, x)[:1], 0.5, sample_weight=counts)
opt = tn.adam(0.01)
stepped, state, loss = tn.train_step(
    net, opt.init(net), x, y, loss=tn.cross_entropy, optimizer=opt, sample_weight=counts
)
trained, history = tn.fit(
    net, x, y, loss=tn.cross_entropy, optimizer=opt, epochs=2, batch_size=6, rng=rng,
    sample_weight=counts, validation=(x, y, np.ones((1, 6))), metric=tn.accuracy,
    progress=False,
)  # fmt: skip
trained_net: tn.Network[int, int] = trained
column = np.ones((6, 1))
try:
    tn.grad(net, x, y, tn.cross_entropy, sample_weight=column)  # fine for the checkers
except tn.ShapeError:
    pass  # samples are columns: pass sample_weight.reshape(1, -1)
