import numpy as np

import typednet as tn

rng = np.random.default_rng(0)
net = tn.network(tn.dense(rng, 5, 3, tn.relu))
counts = np.zeros((5, 1), dtype=np.int64)
flags = np.zeros((3, 5), dtype=np.bool_)

tn.forward(net, counts)  # E: [arg-type] Argument 2 to "forward" has incompatible type "ndarray[tuple[int, int], dtype[signedinteger[_64Bit]]]"
tn.Dense(w=flags, b=np.zeros((3, 1)), activation=tn.relu)  # E: [arg-type] Argument "w" to "Dense" has incompatible type "ndarray[tuple[int, int], dtype[bool[Any]]]"; expected "ndarray[tuple[int, int], dtype[floating[Any]]]"
