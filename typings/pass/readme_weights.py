"""docs/training.md's sample-weights example, as written there."""

import numpy as np

import typednet as tn

rng = np.random.default_rng(0)
x = rng.normal(size=(2, 400))
noisy = x[0] + x[1] + rng.normal(size=400)
y = np.eye(2)[(noisy > 2.0).astype(int)].T.copy()  # class 1 is rare: about 1 in 9
net: tn.Network[int, int] = tn.network(tn.dense(rng, 2, 8, tn.tanh)).then(
    tn.dense(rng, 8, 2, tn.softmax)
)

# Integer weights are repeated columns: the same loss, the same gradient.
counts = np.array([2, 1, 0, 1])
value, _ = tn.value_and_grad(net, x[:, :4], y[:, :4], tn.cross_entropy, sample_weight=counts)
same, _ = tn.value_and_grad(net, x[:, [0, 0, 1, 3]], y[:, [0, 0, 1, 3]], tn.cross_entropy)
print(f"weighted {value:.10f}, repeated {same:.10f}")

# "Balanced" weights: each class weighs as much in total, as scikit-learn's.
balanced = (y.shape[1] / (2 * y.sum(axis=1))) @ y  # one weight per column, shape (400,)
for weights in (None, balanced):
    trained, history = tn.fit(
        net, x, y, loss=tn.cross_entropy, optimizer=tn.adam(0.05), epochs=30,
        batch_size=400, rng=np.random.default_rng(1), progress=False, sample_weight=weights,
    )  # fmt: skip
    found = tn.forward(trained, x).argmax(axis=0)[y[1] == 1]
    print(f"{'balanced' if weights is not None else 'plain'}: rare class found {found.mean():.2f}")

try:
    tn.grad(net, x, y, tn.cross_entropy, sample_weight=balanced.reshape(-1, 1))
except tn.ShapeError as error:
    print(error)
