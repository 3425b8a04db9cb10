import numpy as np

import typednet as tn

rng = np.random.default_rng(0)
net = tn.network(tn.dense(rng, 5, 3, tn.relu))
counts = np.zeros((5, 1), dtype=np.int64)
flags = np.zeros((3, 5), dtype=np.bool_)

tn.forward(net, counts)  # E: [arg-type] Argument 2 to "forward" has incompatible type "ndarray[tuple[int, int], dtype[signedinteger[_64Bit]]]"  # P: [reportArgumentType] Argument of type "_Array[tuple[int, int], signedinteger[_64Bit]]" cannot be assigned to parameter "x" of type "Inputs" in function "forward"
tn.Dense(w=flags, b=np.zeros((3, 1)), activation=tn.relu)  # E: [arg-type] Argument "w" to "Dense" has incompatible type "ndarray[tuple[int, int], dtype[bool[Any]]]"; expected "ndarray[tuple[int, int], dtype[floating[Any]]]"  # P: [reportArgumentType] Argument of type "_Array[tuple[int, int], numpy.bool[builtins.bool]]" cannot be assigned to parameter "w" of type "Weight" in function "__init__"
# Inline, NumPy's overloads are solved against the expected type and give dtype[Any].
tn.forward(net, np.zeros((5, 1), dtype=np.int64))  # E: missed: inline, NumPy's overloads resolve to dtype[Any]  # P: [reportArgumentType] Argument of type "_Array[tuple[int, int], signedinteger[_64Bit]]" cannot be assigned to parameter "x" of type "Inputs"
inline: tn.Matrix = np.zeros((5, 1), dtype=np.int64)  # E: missed: assigned to an annotated variable, the same inference  # P: [reportAssignmentType] Type "_Array[tuple[int, int], signedinteger[_64Bit]]" is not assignable to declared type "Matrix"
