import numpy as np

import typednet as tn


class Features(tn.Dim, size=5): ...


class Hidden1(tn.Dim, size=3): ...


class Output(tn.Dim, size=4): ...


rng = np.random.default_rng(0)
first: tn.Dense[Features, Hidden1] = tn.dense(rng, Features, Hidden1, tn.relu)
kept = tn.network(first).then(tn.dropout(0.5))  # dropout keeps the chain's dims

wrong: tn.Network[Features, Output] = kept  # E: [assignment] Incompatible types in assignment (expression has type "Network[Features, Hidden1]", variable has type "Network[Features, Output]")
kept.then(tn.dense(rng, Output, Output, tn.relu))  # E: [arg-type] Argument 2 to "dense" has incompatible type "type[Output]"; expected "type[Hidden1]"
