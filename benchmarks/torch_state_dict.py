"""A PyTorch state_dict saved by safetensors, loaded by `tn.load_state_dict`: the largest
difference between torch's forward pass and typednet's, in float64.

A one-off check, never run by the tests (torch and safetensors are not test
dependencies; the tests write the same file by hand and compare with NumPy). Needs
torch and safetensors: ``pip install torch==2.13.0 safetensors``, then
``python benchmarks/torch_state_dict.py``.
"""

import os
import tempfile

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn

import typednet as tn


def main() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(5, 3),
        nn.LeakyReLU(0.1),
        nn.Linear(3, 5),
        nn.Sigmoid(),
        nn.Linear(5, 4),
        nn.Sigmoid(),
    ).double()
    rng = np.random.default_rng(0)
    like = (
        tn.network(tn.dense(rng, 5, 3, tn.leaky_relu(0.1)))
        .then(tn.dense(rng, 3, 5, tn.sigmoid))
        .then(tn.dense(rng, 5, 4, tn.sigmoid))
    )
    x = rng.standard_normal((5, 1000))  # columns; torch takes rows
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.safetensors")
        save_file(model.state_dict(), path)
        net = tn.load_state_dict(path, like=like)
    with torch.no_grad():
        want = model(torch.from_numpy(x.T)).numpy().T
    got = tn.forward(net, x)
    print(f"keys: {sorted(model.state_dict())}")
    print(f"max |typednet - torch| over 1000 samples, float64: {np.abs(got - want).max():.3g}")


if __name__ == "__main__":
    main()
