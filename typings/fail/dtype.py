import numpy as np

import typednet as tn

rng = np.random.default_rng(0)
net = tn.network(tn.dense(rng, 5, 3, tn.relu))
counts = np.zeros((5, 1), dtype=np.int64)
flags = np.zeros((3, 5), dtype=np.bool_)

tn.forward(net, counts)  # E: [type-var] Value of type variable "FloatT" of "forward" cannot be "signedinteger[_64Bit]"  # P: [reportArgumentType] Argument of type "_Array[tuple[int, int], signedinteger[_64Bit]]" cannot be assigned to parameter "x" of type "InputsOf[FloatT@forward]" in function "forward"
tn.Dense(w=flags, b=np.zeros((3, 1)), activation=tn.relu)  # E: [arg-type] Argument "w" to "Dense" has incompatible type "ndarray[tuple[int, int], dtype[bool[Any]]]"; expected "ndarray[tuple[int, int], dtype[floating[Any]]]"  # P: [reportArgumentType] Argument of type "_Array[tuple[int, int], numpy.bool[builtins.bool]]" cannot be assigned to parameter "w" of type "Weight" in function "__init__"
# Inline, NumPy's overloads are solved against the expected type: the public functions
# take a dtype variable bound to floating, so mypy sees the int64 (not dtype[Any]).
tn.forward(net, np.zeros((5, 1), dtype=np.int64))  # E: [type-var] Value of type variable "FloatT" of "forward" cannot be "signedinteger[_64Bit]"  # P: [reportArgumentType] Argument of type "_Array[tuple[int, int], signedinteger[_64Bit]]" cannot be assigned to parameter "x" of type "InputsOf[FloatT@forward]"
inline: tn.Matrix = np.zeros((5, 1), dtype=np.int64)  # E: missed: assigned to an annotated variable, the same inference  # P: [reportAssignmentType] Type "_Array[tuple[int, int], signedinteger[_64Bit]]" is not assignable to declared type "Matrix"
# Nested lists of ints: NumPy's stubs give dtype[Any], which no checker can refuse.
tn.forward(net, np.array([[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]))  # E: missed: NumPy's stubs give nested lists of ints dtype[Any]  # P: missed: the same stubs
# Targets in another dtype than the predictions: one dtype a call.
tn.mse(np.zeros((3, 1), dtype=np.float32), tn.forward(net, np.zeros((5, 1))))  # E: [type-var] Value of type variable "FloatT" of "__call__" of "Loss" cannot be "object"  # P: missed: it solves the variable to floating likewise
