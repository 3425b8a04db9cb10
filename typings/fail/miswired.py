import numpy as np

import typednet as tn


class Features(tn.Dim, size=5): ...


class Hidden1(tn.Dim, size=3): ...


class Hidden2(tn.Dim, size=5): ...


class Output(tn.Dim, size=4): ...


rng = np.random.default_rng(0)
first: tn.Dense[Features, Hidden1] = tn.dense(rng, Features, Hidden1, tn.relu)
skips: tn.Dense[Hidden2, Output] = tn.dense(rng, Hidden2, Output, tn.sigmoid)
restart: tn.Dense[Features, Hidden2] = tn.dense(rng, Features, Hidden2, tn.relu)
net = tn.network(first)

net.then(skips)  # E: [arg-type] Argument 1 to "then" of "Network" has incompatible type "Dense[Hidden2, Output]"; expected "Layer[Hidden1, Output]"  # P: [reportArgumentType] Argument of type "Dense[Hidden2, Output]" cannot be assigned to parameter "layer" of type "Layer[Hidden1, C@then]" in function "then"
net.then(restart)  # E: [arg-type] Argument 1 to "then" of "Network" has incompatible type "Dense[Features, Hidden2]"; expected "Layer[Hidden1, Hidden2]"  # P: [reportArgumentType] Argument of type "Dense[Features, Hidden2]" cannot be assigned to parameter "layer" of type "Layer[Hidden1, C@then]" in function "then"
net.then(tn.layer_norm(Hidden2))  # E: [arg-type] Argument 1 to "layer_norm" has incompatible type "type[Hidden2]"; expected "type[Hidden1]"  # P: [reportArgumentType] Argument of type "LayerNorm[Hidden2]" cannot be assigned to parameter "layer" of type "Layer[Hidden1, C@then]" in function "then"
tn.network(first).then(tn.dense(rng, Features, Output, tn.relu))  # E: [arg-type] Argument 2 to "dense" has incompatible type "type[Features]"; expected "type[Hidden1]"  # P: [reportArgumentType] Argument of type "Dense[Features, Output]" cannot be assigned to parameter "layer" of type "Layer[Hidden1, C@then]" in function "then"
tn.dense(rng, Features, 3, tn.relu)  # E: [call-overload] No overload variant of "dense" matches argument types  # P: [reportArgumentType] Argument of type "Literal[3]" cannot be assigned to parameter "next" of type "type[ND@dense]" in function "dense"
norm: tn.LayerNorm[Hidden2] = tn.layer_norm(Hidden2)
net.then(norm)  # E: [arg-type] Argument 1 to "then" of "Network" has incompatible type "LayerNorm[Hidden2]"; expected "Layer[Hidden1, Hidden2]"  # P: [reportArgumentType] Argument of type "LayerNorm[Hidden2]" cannot be assigned to parameter "layer" of type "Layer[Hidden1, C@then]" in function "then"
