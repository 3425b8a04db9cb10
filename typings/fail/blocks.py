import numpy as np

import typednet as tn


class Features(tn.Dim, size=4): ...


class Hidden(tn.Dim, size=8): ...


class Output(tn.Dim, size=2): ...


class Both(tn.Dim, size=10): ...


rng = np.random.default_rng(0)
widen: tn.Network[Features, Hidden] = tn.network(tn.dense(rng, Features, Hidden, tn.relu))
square: tn.Network[Features, Features] = widen.then(tn.dense(rng, Hidden, Features, tn.identity))
project: tn.Dense[Features, Hidden] = tn.dense(rng, Features, Hidden, tn.identity)
wrong: tn.Dense[Features, Output] = tn.dense(rng, Features, Output, tn.identity)
chain = tn.network(tn.dense(rng, Output, Features, tn.relu)).then(tn.residual(widen, shortcut=project))
later: tn.Network[Hidden, Output] = tn.network(tn.dense(rng, Hidden, Output, tn.tanh))
narrow: tn.Network[Features, Output] = tn.network(tn.dense(rng, Features, Output, tn.tanh))
stacked = tn.network(tn.dense(rng, Output, Features, tn.relu)).then(tn.parallel(widen, narrow, out=Both))

tn.residual(widen)  # E: [misc] Cannot infer value of type parameter "D" of "residual"  # P: [reportArgumentType] Argument of type "Network[Features, Hidden]" cannot be assigned to parameter "block" of type "Network[D@residual, D@residual]"
tn.residual(widen, shortcut=wrong)  # E: [misc] Cannot infer value of type parameter "N" of "residual"  # P: [reportArgumentType] Argument of type "Dense[Features, Output]" cannot be assigned to parameter "shortcut" of type "Layer[P@residual, N@residual]"
chain.then(tn.residual(square))  # E: [arg-type] Argument 1 to "residual" has incompatible type "Network[Features, Features]"; expected "Network[Hidden, Hidden]"  # P: [reportArgumentType] Argument of type "Residual[Features, Features]" cannot be assigned to parameter "layer" of type "Layer[Hidden, C@then]"
tn.parallel(widen, later, out=Both)  # E: [misc] Cannot infer value of type parameter "P" of "parallel"  # P: [reportArgumentType] Argument of type "Network[Hidden, Output]" cannot be assigned to parameter "branches" of type "Network[P@parallel, Any]"
stacked.then(tn.take(Features, 0, 2, Output))  # E: [arg-type] Argument 1 to "take" has incompatible type "type[Features]"; expected "type[Both]"  # P: [reportArgumentType] Argument of type "Take[Features, Output]" cannot be assigned to parameter "layer" of type "Layer[Both, C@then]"
