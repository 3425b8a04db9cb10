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


class Other(TypedDict):
    numeric: tn.Inputs


rng = np.random.default_rng(0)
first = tn.inputs(
    Wine,
    Joined,
    numeric=tn.network(tn.dense(rng, Numeric, Hidden, tn.relu)),
    colour=tn.network(tn.embedding(rng, Colours, Width)),
)
net = tn.network(first).then(tn.dense(rng, Joined, Output, tn.identity))
numeric: tn.Inputs = rng.normal(size=(3, 8))
colour: tn.Ids = rng.integers(0, 2, size=(1, 8))
y: tn.Targets = rng.normal(size=(1, 8))
other = Other(numeric=numeric)

tn.forward(net, Wine(numeric=numeric, color=colour))  # E: [typeddict-unknown-key] Extra key "color" for TypedDict "Wine"  # P: [reportCallIssue] No overloads for "__init__" match the provided arguments
tn.forward(net, Wine(numeric=numeric))  # E: [typeddict-item] Missing key "colour" for TypedDict "Wine"  # P: [reportCallIssue] No overloads for "__init__" match the provided arguments
tn.forward(net, Wine(numeric=colour, colour=numeric))  # E: [typeddict-item] TypedDict item "numeric" has type  # P: [reportArgumentType] cannot be assigned to parameter "numeric" of type "Inputs"
tn.forward(net, other)  # E: [misc] Cannot infer value of type parameter "NamedT" of "forward"  # P: [reportArgumentType] Argument of type "Other" cannot be assigned to parameter "x"
tn.value_and_grad(net, other, y, tn.mse)  # E: [misc] Cannot infer value of type parameter "NamedT" of "value_and_grad"  # P: [reportArgumentType] Argument of type "Other" cannot be assigned to parameter "x"
tn.fit(net, other, y, loss=tn.mse, optimizer=tn.adam(0.1), epochs=1, batch_size=4, rng=rng)  # E: [misc] Cannot infer value of type parameter "NamedT" of "fit"  # P: [reportArgumentType] Argument of type "Other" cannot be assigned to parameter "x"
tn.fit(net, Wine(numeric=numeric, colour=colour), y, loss=tn.mse, optimizer=tn.adam(0.1), epochs=1, batch_size=4, rng=rng, compiled=True)  # E: [call-overload] No overload variant of "fit" matches argument types  # P: [reportArgumentType] "Literal[True]" cannot be assigned to parameter "compiled" of type "Literal[False]"
wrong: tn.Network[Other, Output] = net  # E: [assignment] expression has type "Network[Wine, Output]", variable has type "Network[Other, Output]"  # P: [reportAssignmentType] Type "Network[Wine, Output]" is not assignable to declared type "Network[Other, Output]"
tn.network(first).then(tn.dense(rng, Hidden, Output, tn.identity))  # E: [arg-type] Argument 2 to "dense" has incompatible type "type[Hidden]"; expected "type[Joined]"  # P: [reportArgumentType] cannot be assigned to parameter "layer" of type "Layer[Joined, C@then]"
tn.forward(net, numeric)  # E: missed: the plain overload takes any network with one array; the run-time check refuses it  # P: missed: the same overload
tn.inputs(Wine, Joined, numeric=tn.network(tn.dense(rng, Numeric, Hidden, tn.relu)))  # E: missed: keyword arguments are not matched against a TypedDict; tn.inputs raises ValueError  # P: missed: the same
