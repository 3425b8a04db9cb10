from typing import TypedDict

import numpy as np

import typednet as tn


class Numeric(tn.Dim, size=3): ...


class Colours(tn.Dim, size=2): ...


class Width(tn.Dim, size=2): ...


class Hidden(tn.Dim, size=4): ...


class Joined(tn.Dim, size=6): ...


class Output(tn.Dim, size=1): ...


class Wine(TypedDict):
    numeric: tn.Inputs
    colour: tn.Ids


rng = np.random.default_rng(0)
first = tn.inputs(
    Wine,
    Joined,
    numeric=tn.network(tn.dense(rng, Numeric, Hidden, tn.relu)),
    colour=tn.network(tn.embedding(rng, Colours, Width)),
)
net: tn.Network[Wine, Output] = tn.network(first).then(tn.dense(rng, Joined, Output, tn.identity))
numeric: tn.Inputs = rng.normal(size=(3, 8))
colour: tn.Ids = rng.integers(0, 2, size=(1, 8))
y: tn.Targets = rng.normal(size=(1, 8))
x = Wine(numeric=numeric, colour=colour)
y_hat: tn.Targets = tn.forward(net, x)
value, grads = tn.value_and_grad(net, x, y, tn.mse)
g: tn.Network[Wine, Output] = tn.grad(net, x, y, tn.mse)
opt = tn.adam(0.01)
stepped, state, loss = tn.train_step(net, opt.init(net), x, y, loss=tn.mse, optimizer=opt)
trained, history = tn.fit(
    net,
    x,
    y,
    loss=tn.mse,
    optimizer=opt,
    epochs=2,
    batch_size=4,
    rng=rng,
    validation=(x, y),
    progress=False,
)
kept: tn.Network[Wine, Output] = trained
summary: str = tn.summary(trained)
later: tn.OptState[Wine, Output] = state
