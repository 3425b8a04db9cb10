import numpy as np

import typednet as tn


class Features(tn.Dim, size=5): ...


class Hidden(tn.Dim, size=3): ...


class Other(tn.Dim, size=4): ...


rng = np.random.default_rng(0)
net = tn.network(tn.dense(rng, Features, Hidden, tn.relu))
norm: tn.BatchNorm[Other] = tn.batch_norm(Other)

net.then(tn.batch_norm(Other))  # E: [arg-type] Argument 1 to "batch_norm" has incompatible type "type[Other]"; expected "type[Hidden]"  # P: [reportArgumentType] Argument of type "BatchNorm[Other]" cannot be assigned to parameter "layer" of type "Layer[Hidden, C@then]" in function "then"
net.then(norm)  # E: [arg-type] Argument 1 to "then" of "Network" has incompatible type "BatchNorm[Other]"; expected "Layer[Hidden, Other]"  # P: [reportArgumentType] Argument of type "BatchNorm[Other]" cannot be assigned to parameter "layer" of type "Layer[Hidden, C@then]" in function "then"
wrong: tn.Network[Features, Other] = net.then(tn.batch_norm(Hidden))  # E: [arg-type] Argument 1 to "then" of "Network" has incompatible type "BatchNorm[Hidden]"; expected "Layer[Hidden, Other]"  # P: [reportAssignmentType] Type "Network[Features, Hidden]" is not assignable to declared type "Network[Features, Other]"
