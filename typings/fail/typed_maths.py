import numpy as np

import typednet as tn


class Features(tn.Dim, size=5): ...


class Hidden1(tn.Dim, size=3): ...


class Hidden2(tn.Dim, size=5): ...


class Output(tn.Dim, size=4): ...


rng = np.random.default_rng(0)
x = tn.mat(rng.random((5, 1)), Features, tn.One)
w1 = tn.mat(rng.random((3, 5)), Hidden1, Features)
w2 = tn.mat(rng.random((5, 3)), Hidden2, Hidden1)
b1 = tn.mat(np.zeros((3, 1)), Hidden1, tn.One)
b2 = tn.mat(np.zeros((5, 1)), Hidden2, tn.One)
out_hidden_1 = tn.leaky_relu(0.1)(w1 @ x + b1)
out_hidden_2 = tn.sigmoid(w2 @ out_hidden_1 + b2)
first = tn.Dense.of(w1, b1, tn.leaky_relu(0.1))  # Dense[Features, Hidden1]

# The mistakes a reader of the course's forward pass could make, one per line.
a = x @ w1  # E: [operator] Unsupported operand types for @ ("Mat[Features, One]" and "Mat[Hidden1, Features]")  # P: [reportOperatorIssue] Operator "@" not supported for types "Mat[Features, One]" and "Mat[Hidden1, Features]"
b = w1.T @ x  # E: [operator] Unsupported operand types for @ ("Mat[Features, Hidden1]" and "Mat[Features, One]")  # P: [reportOperatorIssue] Operator "@" not supported for types "Mat[Features, Hidden1]" and "Mat[Features, One]"
c = w2 @ x  # E: [operator] Unsupported operand types for @ ("Mat[Hidden2, Hidden1]" and "Mat[Features, One]")  # P: [reportOperatorIssue] Operator "@" not supported for types "Mat[Hidden2, Hidden1]" and "Mat[Features, One]"
d = w1 @ x + b2  # E: [operator] Unsupported operand types for + ("Mat[Hidden1, One]" and "Mat[Hidden2, One]")  # P: [reportOperatorIssue] Operator "+" not supported for types "Mat[Hidden1, One]" and "Mat[Hidden2, One]"
e = tn.network(first).then(tn.Dense.of(w=w2.T, b=b2, activation=tn.sigmoid))  # E: [arg-type] Argument "w" to "of" of "Dense" has incompatible type "Mat[Hidden1, Hidden2]"  # P: [reportArgumentType] Argument of type "Dense[Hidden2, Hidden1]" cannot be assigned to parameter "layer" of type "Layer[Hidden1, C@then]"
f = w1 @ out_hidden_2  # E: [operator] Unsupported operand types for @ ("Mat[Hidden1, Features]" and "Mat[Hidden2, One]")  # P: [reportOperatorIssue] Operator "@" not supported for types "Mat[Hidden1, Features]" and "Mat[Hidden2, One]"

# w.T with a bias that fits it gives a layer of the swapped dims: rejected where annotated.
b_t = tn.mat(np.zeros((3, 1)), Hidden1, tn.One)
second: tn.Dense[Hidden1, Hidden2] = tn.Dense.of(w=w2.T, b=b_t, activation=tn.sigmoid)  # E: [arg-type] Argument "w" to "of" of "Dense" has incompatible type "Mat[Hidden1, Hidden2]"; expected "Mat[Hidden2, Hidden1]"  # P: [reportAssignmentType] Type "Dense[Hidden2, Hidden1]" is not assignable to declared type "Dense[Hidden1, Hidden2]"

# w.T by keyword, neither chained nor annotated; an integer array made a typed matrix.
g = tn.Dense.of(w=w1.T, b=b1, activation=tn.relu)  # E: [misc] Cannot infer value of type parameter "_N" of "of" of "Dense"  # P: [reportArgumentType] Argument of type "Mat[Hidden1, One]" cannot be assigned to parameter "b" of type "Mat[_N@of, One]"
h = tn.mat(np.zeros((3, 5), dtype=np.int64), Hidden1, Features)  # E: [type-var] Value of type variable "_F" of "mat" cannot be "signedinteger[_64Bit]"  # P: [reportArgumentType] Argument of type "_Array[tuple[int, int], signedinteger[_64Bit]]" cannot be assigned to parameter "array"

# A chain built at run time is a Network[int, int]: an annotation cannot invent its dims.
layers = (first, tn.Dense.of(w2, b2, tn.sigmoid))
net: tn.Network[Features, Hidden2] = tn.Network(layers)  # E: [assignment] Incompatible types in assignment (expression has type "Network[int, int]", variable has type "Network[Features, Hidden2]")  # P: [reportAssignmentType] Type "Network[int, int]" is not assignable to declared type "Network[Features, Hidden2]"
