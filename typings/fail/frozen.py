import numpy as np

import typednet as tn

rng = np.random.default_rng(0)
layer = tn.dense(rng, 5, 3, tn.relu)
net = tn.network(layer)

layer.w = np.zeros((3, 5))  # E: [misc] Property "w" defined in "Dense" is read-only  # P: [reportAttributeAccessIssue] Cannot assign to attribute "w" for class "Dense[int, int]"
layer.activation = tn.sigmoid  # E: [misc] Property "activation" defined in "Dense" is read-only  # P: [reportAttributeAccessIssue] Cannot assign to attribute "activation" for class "Dense[int, int]"
net.layers = (layer,)  # E: [misc] Property "layers" defined in "Network" is read-only  # P: [reportAttributeAccessIssue] Cannot assign to attribute "layers" for class "Network[int, int]"
