"""docs/inputs.md: a network over named inputs, numeric columns and a category."""

from typing import TypedDict

import numpy as np

import typednet as tn


class Numeric(tn.Dim, size=3): ...  # three numeric columns
class Colours(tn.Dim, size=3): ...  # a category: ids 0, 1, 2
class Hidden(tn.Dim, size=4): ...
class Width(tn.Dim, size=2): ...
class Joined(tn.Dim, size=6): ...  # Hidden + Width
class Output(tn.Dim, size=1): ...


class Sample(TypedDict):  # the inputs, by name, and the array each one takes
    numeric: tn.Inputs  # floating columns, shape (3, n)
    colour: tn.Ids  # integer ids, shape (1, n)


rng = np.random.default_rng(0)
first = tn.inputs(
    Sample,
    Joined,
    numeric=tn.network(tn.dense(rng, Numeric, Hidden, tn.relu)),
    colour=tn.network(tn.embedding(rng, Colours, Width)),
)
net: tn.Network[Sample, Output] = tn.network(first).then(
    tn.dense(rng, Joined, Output, tn.identity)
)
numeric = rng.normal(size=(3, 120))
colour = rng.integers(0, 3, size=(1, 120))
y = numeric[:1] + np.array([[1.0, -1.0, 0.5]])[:, colour[0]]
x = Sample(numeric=numeric, colour=colour)  # a misnamed or mistyped input: a static error
trained, history = tn.fit(net, x, y, loss=tn.mse, optimizer=tn.adam(0.05), epochs=60,
                          batch_size=12, rng=rng, progress=False)
print(trained)
print(f"loss {history.train_loss[0]:.3f} -> {history.train_loss[-1]:.4f}")
print(tn.summary(trained))
try:
    tn.forward(trained, numeric)  # one array: no checker sees it, the run-time check does
except tn.ShapeError as e:
    print(e)
