import numpy as np

import typednet as tn


class Features(tn.Dim, size=5): ...


class Hidden(tn.Dim, size=3): ...


class Output(tn.Dim, size=4): ...


rng = np.random.default_rng(0)


hidden_only = tn.network(tn.dense(rng, Features, Hidden, tn.relu))


def build() -> tn.Network[Features, Output]:
    return hidden_only  # E: [return-value] Incompatible return value type (got "Network[Features, Hidden]", expected "Network[Features, Output]")  # P: [reportReturnType] Type "Network[Features, Hidden]" is not assignable to return type "Network[Features, Output]"


def build_inline() -> tn.Network[Features, Output]:
    return tn.network(tn.dense(rng, Features, Hidden, tn.relu))  # E: [arg-type] Argument 3 to "dense" has incompatible type "type[Hidden]"; expected "type[Output]"  # P: [reportReturnType] Type "Network[Features, Hidden]" is not assignable to return type "Network[Features, Output]"


net: tn.Network[Hidden, Output] = tn.network(tn.dense(rng, Features, Output, tn.relu))  # E: [arg-type] Argument 2 to "dense" has incompatible type "type[Features]"; expected "type[Hidden]"  # P: [reportAssignmentType] Type "Network[Features, Output]" is not assignable to declared type "Network[Hidden, Output]"
