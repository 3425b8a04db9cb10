import numpy as np

import typednet as tn


class Features(tn.Dim, size=3): ...


class Hidden(tn.Dim, size=8): ...


class Classes(tn.Dim, size=2): ...


rng = np.random.default_rng(0)
net: tn.Network[Features, Classes] = tn.network(
    tn.dense(rng, Features, Hidden, tn.relu)
).then(tn.dense(rng, Hidden, Classes, tn.softmax))
other: tn.Network[Features, Hidden] = tn.network(tn.dense(rng, Features, Hidden, tn.relu))
x = rng.normal(size=(3, 8))
y = np.zeros((2, 8))
target = np.zeros(8)
optimizer = tn.adam()
state = optimizer.init(net)
grads = tn.grad(net, x, y, tn.cross_entropy)

tn.grad(net, x, target, tn.mse)  # E: [arg-type] Argument 3 to "grad" has incompatible type "ndarray[tuple[int], dtype[float64]]"  # P: [reportArgumentType] Argument of type "_Array1D[float64]" cannot be assigned to parameter "y" of type "TargetsOf[FloatT@grad]" in function "grad"
optimizer.update(tn.grad(other, x, y, tn.mse), state, net)  # E: [misc] Cannot infer value of type parameter "B" of "update" of "Optimizer"  # P: [reportArgumentType] Argument of type "OptState[Features, Classes]" cannot be assigned to parameter "state" of type "OptState[A@update, B@update]" in function "update"
tn.apply_updates(net, other)  # E: [misc] Cannot infer value of type parameter "B" of "apply_updates"  # P: [reportArgumentType] Argument of type "Network[Features, Hidden]" cannot be assigned to parameter "updates" of type "Network[A@apply_updates, B@apply_updates]" in function "apply_updates"
wrong: tn.Network[Features, Hidden] = tn.fit(net, x, y, loss=tn.mse, optimizer=optimizer, epochs=1, batch_size=4, rng=rng)[0]  # E: [assignment] Incompatible types in assignment (expression has type "Network[Features, Classes]", variable has type "Network[Features, Hidden]")  # P: [reportAssignmentType] Type "Network[Features, Classes]" is not assignable to declared type "Network[Features, Hidden]"
loaded: tn.Network[Features, Hidden] = tn.load("net.npz", like=net)  # E: [arg-type] Argument "like" to "load" has incompatible type "Network[Features, Classes]"; expected "Network[Features, Hidden]"  # P: [reportAssignmentType] Type "Network[Features, Classes]" is not assignable to declared type "Network[Features, Hidden]"
tn.fit(net, x, y, loss=tn.mse, optimizer=optimizer, epochs=1, batch_size=4, rng=rng)[1].train_loss = ()  # E: [misc] Property "train_loss" defined in "History" is read-only  # P: [reportAttributeAccessIssue] Cannot assign to attribute "train_loss" for class "History[Features, Classes]"
tn.fit(net, x, y, loss=tn.relu, optimizer=optimizer, epochs=1, batch_size=4, rng=rng)  # E: [call-overload] No overload variant of "fit" matches argument types  # P: [reportArgumentType] Argument of type "Activation" cannot be assigned to parameter "loss" of type "Loss" in function "fit"


def other_callback(epoch: tn.Epoch[Features, Hidden]) -> None: ...


other_state = optimizer.init(other)
tn.fit(net, x, y, loss=tn.mse, optimizer=optimizer, epochs=1, batch_size=4, rng=rng, state=other_state)  # E: [misc] Cannot infer value of type parameter "B" of "fit"  # P: [reportArgumentType] Argument of type "OptState[Features, Hidden]" cannot be assigned to parameter "state" of type "OptState[A@fit, B@fit] | None" in function "fit"
tn.fit(net, x, y, loss=tn.mse, optimizer=optimizer, epochs=1, batch_size=4, rng=rng, callbacks=[other_callback])  # E: [list-item] List item 0 has incompatible type "Callable[[Epoch[Features, Hidden]], None]"; expected "Callable[[Epoch[Features, Classes]], bool | None]"  # P: [reportArgumentType] Argument of type "list[(epoch: Epoch[Features, Hidden]) -> None]" cannot be assigned to parameter "callbacks" of type "Sequence[Callback[A@fit, B@fit]]" in function "fit"
