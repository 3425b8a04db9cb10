"""docs/training.md's example of steering training, as written there."""

import numpy as np

import typednet as tn

rng = np.random.default_rng(0)
x = rng.normal(size=(2, 256))
y = np.eye(2)[(x[0] * x[1] > 0).astype(int)].T.copy()  # one-hot classes, shape (2, 256)

net: tn.Network[int, int] = tn.network(tn.dense(rng, 2, 16, tn.tanh)).then(
    tn.dense(rng, 16, 2, tn.identity)  # raw outputs: logits
)
try:
    tn.cross_entropy(y, tn.forward(net, x))  # wants probabilities
except ValueError as error:
    print(error)

schedule = tn.schedules.warmup(8, then=tn.schedules.cosine_decay(0.05, steps=240))
optimizer = tn.adamw(schedule, weight_decay=1e-4)


def log(epoch: tn.Epoch) -> bool:
    if epoch.state.count % 80 == 0:  # every 10 epochs of 8 steps
        print(f"{epoch.state.count} steps: loss {epoch.train_loss:.3f}")
    return epoch.train_loss < 0.01  # True stops training


net, history = tn.fit(
    net, x, y, loss=tn.softmax_cross_entropy, optimizer=optimizer, epochs=20,
    batch_size=32, rng=rng, progress=False, callbacks=[log],
)
# Later: 10 more epochs from where it stopped, as if it had never stopped.
net, history = tn.fit(
    net, x, y, loss=tn.softmax_cross_entropy, optimizer=optimizer, epochs=10,
    batch_size=32, rng=rng, progress=False, callbacks=[log], state=history.state,
)
probabilities = tn.softmax(tn.forward(net, x))
print(f"accuracy {np.mean(probabilities.argmax(axis=0) == y.argmax(axis=0)):.2f}")
