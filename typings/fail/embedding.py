import numpy as np

import typednet as tn


class Vocab(tn.Dim, size=10): ...


class Width(tn.Dim, size=4): ...


class Other(tn.Dim, size=3): ...


rng = np.random.default_rng(0)
words = tn.network(tn.embedding(rng, Vocab, Width))

words.then(tn.dense(rng, Other, Other, tn.relu))  # E: [arg-type] Argument 2 to "dense" has incompatible type "type[Other]"; expected "type[Width]"  # P: [reportArgumentType] Argument of type "Dense[Other, Other]" cannot be assigned to parameter "layer" of type "Layer[Width, C@then]" in function "then"
wrong: tn.Network[Vocab, Other] = tn.network(tn.embedding(rng, Vocab, Width))  # E: [arg-type] Argument 3 to "embedding" has incompatible type "type[Width]"; expected "type[Other]"  # P: [reportAssignmentType] Type "Network[Vocab, Width]" is not assignable to declared type "Network[Vocab, Other]"
table: tn.Embedding[Vocab, Width] = tn.embedding(rng, Width, Vocab)  # E: [arg-type] Argument 2 to "embedding" has incompatible type "type[Width]"; expected "type[Vocab]"  # P: [reportAssignmentType] Type "Embedding[Width, Vocab]" is not assignable to declared type "Embedding[Vocab, Width]"
