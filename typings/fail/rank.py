import numpy as np

import typednet as tn

rng = np.random.default_rng(0)
net = tn.network(tn.dense(rng, 5, 3, tn.relu))
vector = np.zeros(5)
column = np.zeros((5, 1))
target = np.zeros(3)

tn.forward(net, vector)  # E: [arg-type] Argument 2 to "forward" has incompatible type "ndarray[tuple[int], dtype[float64]]"
tn.forward_trace(net, vector)  # E: [arg-type] Argument 2 to "forward_trace" has incompatible type "ndarray[tuple[int]
tn.Dense(w=np.ones((3, 5)), b=target, activation=tn.relu)  # E: [arg-type] Argument "b" to "Dense" has incompatible type "ndarray[tuple[int], dtype[float64]]"
tn.mse(target, tn.forward(net, column))  # E: [arg-type] Argument 1 to "__call__" of "Loss" has incompatible type "ndarray[tuple[int], dtype[float64]]"
tn.mse.gradient(tn.forward(net, column), target)  # E: [arg-type] Argument 2 to "gradient" of "Loss" has incompatible type "ndarray[tuple[int]
