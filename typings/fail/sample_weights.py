import numpy as np

import typednet as tn

rng = np.random.default_rng(0)
net = tn.network(tn.dense(rng, 3, 2, tn.identity))
x = np.zeros((3, 4))
y = np.zeros((2, 4))
flags = np.ones(4, dtype=np.bool_)
phases = np.ones(4, dtype=np.complex128)
cube = np.ones((1, 4, 1))
listed = [1.0, 1.0, 1.0, 1.0]

tn.grad(net, x, y, tn.mse, sample_weight=flags)  # E: [arg-type] Argument "sample_weight" to "grad" has incompatible type "ndarray[tuple[int], dtype[bool[Any]]]"  # P: [reportArgumentType] Argument of type "_Array1D[numpy.bool[builtins.bool]]" cannot be assigned to parameter "sample_weight"
tn.grad(net, x, y, tn.mse, sample_weight=phases)  # E: [arg-type] Argument "sample_weight" to "grad" has incompatible type "ndarray[tuple[int], dtype[complex128]]"  # P: [reportArgumentType] Argument of type "_Array1D[complex128]" cannot be assigned to parameter "sample_weight"
tn.grad(net, x, y, tn.mse, sample_weight=cube)  # E: [type-var] Value of type variable "WeightShapeT" of "grad" cannot be "tuple[int, int, int]"  # P: [reportArgumentType] Argument of type "_Array[tuple[int, int, int], float64]" cannot be assigned to parameter "sample_weight"
tn.grad(net, x, y, tn.mse, sample_weight=listed)  # E: [call-overload] No overload variant of "grad" matches argument types  # P: [reportArgumentType] Argument of type "list[float]" cannot be assigned to parameter "sample_weight"
tn.mse(y, y, sample_weight=flags)  # E: [arg-type] Argument "sample_weight" to "__call__" of "Loss" has incompatible type "ndarray[tuple[int], dtype[bool[Any]]]"  # P: [reportArgumentType] Argument of type "_Array1D[numpy.bool[builtins.bool]]" cannot be assigned to parameter "sample_weight"
tn.accuracy(y, y, sample_weight=listed)  # E: [arg-type] Argument "sample_weight" to "accuracy" has incompatible type "list[float]"  # P: [reportArgumentType] Argument of type "list[float]" cannot be assigned to parameter "sample_weight"
tn.fit(net, x, y, loss=tn.mse, optimizer=tn.sgd(0.1), epochs=1, batch_size=4, rng=rng, sample_weight=cube)  # E: [type-var] Value of type variable "WeightShapeT" of "fit" cannot be "tuple[int, int, int]"  # P: [reportArgumentType] Argument of type "_Array[tuple[int, int, int], float64]" cannot be assigned to parameter "sample_weight"
