"""The PyTorch peers, built from a typednet network so both start from the same weights.

Torch keeps samples as rows: an input is (batch, features). ``nn.Linear`` stores its
weight as (out, in), which is typednet's (next, prev), so the arrays copy over as they are.
"""

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

import typednet as tn

_MODULES: dict[str, Callable[[float | None], nn.Module]] = {
    "relu": lambda _: nn.ReLU(),
    "leaky_relu": lambda leak: nn.LeakyReLU(leak if leak is not None else 0.01),
    "sigmoid": lambda _: nn.Sigmoid(),
    "softmax": lambda _: nn.Softmax(dim=1),
}


def sequential(net: tn.Network[Any, Any], *, logits: bool = False) -> nn.Sequential:
    """``net`` as ``nn.Sequential`` of Linear and activation modules, same weights and dtype.

    With ``logits=True`` a final softmax is left out, for ``nn.CrossEntropyLoss``.
    """
    dtype = torch.float64 if net.dtype == np.float64 else torch.float32
    modules: list[nn.Module] = []
    for layer in net.layers:
        if not isinstance(layer, tn.Dense):
            raise TypeError(f"only Dense layers have a torch peer here, got {layer!r}")
        linear = nn.Linear(layer.in_size, layer.out_size, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(layer.w))
            linear.bias.copy_(torch.tensor(layer.b[:, 0]))
        modules.append(linear)
        modules.append(_MODULES[layer.activation.name](layer.activation.param))
    if logits and isinstance(modules[-1], nn.Softmax):
        modules.pop()
    return nn.Sequential(*modules)


def rows(x: tn.Matrix) -> torch.Tensor:
    """Columns ``x`` (features, batch) as a contiguous torch batch of rows (batch, features)."""
    return torch.from_numpy(np.ascontiguousarray(x.T))


class Classifier:
    """``nn.Sequential`` + ``nn.CrossEntropyLoss`` on logits + ``torch.optim.Adam``."""

    def __init__(self, net: tn.Network[Any, Any], learning_rate: float = 1e-3) -> None:
        self.model = sequential(net, logits=True)
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=learning_rate)

    def step(self, x: torch.Tensor, labels: torch.Tensor) -> float:
        """One Adam step on rows ``x`` with class indices ``labels``; the loss before it."""
        self.optimizer.zero_grad()
        loss: torch.Tensor = self.loss_fn(self.model(x), labels)
        torch.autograd.backward(loss)  # what loss.backward() calls, with its types
        self.optimizer.step()
        return float(loss.item())

    def epoch(self, x: torch.Tensor, labels: torch.Tensor, order: torch.Tensor, batch: int) -> None:
        """One pass in ``order``: shuffle once, then slice consecutive batches."""
        xs, ys = x[order], labels[order]
        for start in range(0, len(order), batch):
            self.step(xs[start : start + batch], ys[start : start + batch])

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Class indices for rows ``x``."""
        with torch.no_grad():
            out: torch.Tensor = self.model(x)
        return out.argmax(dim=1)

    def params(self) -> list[tn.Matrix]:
        """The params in typednet's order and shapes (w1, b1 as a column, w2, ...)."""
        return [p.detach().numpy().reshape(p.shape[0], -1).copy() for p in self.model.parameters()]
