"""docs/deploying.md's ONNX export example, as written there."""

import numpy as np
import onnxruntime

import typednet as tn

rng = np.random.default_rng(0)
net = tn.network(tn.dense(rng, 4, 8, tn.relu)).then(tn.dense(rng, 8, 3, tn.softmax))
model = tn.to_onnx(net)  # tn.to_onnx(net, "net.onnx") writes the file
print([node.op_type for node in model.graph.node])

x = rng.random((4, 5))  # 5 samples, typednet's columns
session = onnxruntime.InferenceSession(model.SerializeToString())
y = np.asarray(session.run(None, {"x": x.T})[0])  # ONNX: one sample per row
print(y.shape, np.allclose(y.T, tn.forward(net, x), rtol=1e-12, atol=0))
