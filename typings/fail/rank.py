import numpy as np

import typednet as tn

rng = np.random.default_rng(0)
net = tn.network(tn.dense(rng, 5, 3, tn.relu))
vector = np.zeros(5)
column = np.zeros((5, 1))
target = np.zeros(3)

tn.forward(net, vector)  # E: [arg-type] Argument 2 to "forward" has incompatible type "ndarray[tuple[int], dtype[float64]]"  # P: [reportArgumentType] Argument of type "_Array1D[float64]" cannot be assigned to parameter "x" of type "InputsOf[FloatT@forward]" in function "forward"
tn.forward_trace(net, vector)  # E: [arg-type] Argument 2 to "forward_trace" has incompatible type "ndarray[tuple[int]  # P: [reportArgumentType] Argument of type "_Array1D[float64]" cannot be assigned to parameter "x" of type "Inputs | Ids" in function "forward_trace"
tn.Dense(w=np.ones((3, 5)), b=target, activation=tn.relu)  # E: [arg-type] Argument "b" to "Dense" has incompatible type "ndarray[tuple[int], dtype[float64]]"  # P: [reportArgumentType] Argument of type "_Array1D[float64]" cannot be assigned to parameter "b" of type "Bias" in function "__init__"
tn.mse(target, tn.forward(net, column))  # E: [arg-type] Argument 1 to "__call__" of "Loss" has incompatible type "ndarray[tuple[int], dtype[float64]]"  # P: [reportArgumentType] Argument of type "_Array1D[float64]" cannot be assigned to parameter "y_true" of type "BatchOf[FloatT@__call__]" in function "__call__"
tn.mse.gradient(tn.forward(net, column), target)  # E: [arg-type] Argument 2 to "gradient" of "Loss" has incompatible type "ndarray[tuple[int]  # P: [reportArgumentType] Argument of type "_Array1D[float64]" cannot be assigned to parameter "y_pred" of type "BatchOf[FloatT@gradient]" in function "gradient"
# NumPy's stubs give these an unknown rank: only the run-time check sees a 1-D array.
tn.forward(net, rng.normal(size=5))  # E: missed: Generator.normal returns an array of unknown rank  # P: missed: the same stubs
tn.forward(net, np.loadtxt("x.txt"))  # E: missed: np.loadtxt returns an array of unknown rank  # P: missed: the same stubs
