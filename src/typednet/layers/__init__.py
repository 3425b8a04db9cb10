"""Layers: immutable, validated params, each kind owning its maths (see `Layer`).

A `Dense[P, N]` maps P values to N values: ``pre = w @ x + b`` (the tutorial's
``in_hidden_k``), ``post = activation(pre)`` (its ``out_hidden_k``). ``w`` has shape
(next, prev) = (N, P) and ``b`` (next, 1). A `LayerNorm[D]` normalizes each column over
its D features; a `BatchNorm[D]` normalizes each feature over the batch, keeping
running statistics for inference. An `Embedding[V, D]` maps integer ids (one of V
categories per column) to columns of D values, as a network's first layer. A `Dropout`
zeroes values at random in training. An `Activation` can also stand as a layer of its
own.

Construction validates every size and the (next, prev) orientation, copies the arrays
and makes them read-only; after that a layer never changes and is never re-checked.
One file per kind; `Layer` in ``base.py`` is the protocol every kind implements.
"""

from typing import Any

from ..activations import Activation
from . import base
from .base import Layer as Layer
from .base import Routing as Routing
from .base import register_layer as register_layer
from .batch_norm import BatchNorm as BatchNorm
from .dense import Dense as Dense
from .dropout import Dropout as Dropout
from .embedding import Embedding as Embedding
from .layer_norm import LayerNorm as LayerNorm

__all__ = [
    "AnyLayer",
    "BatchNorm",
    "Dense",
    "Dropout",
    "Embedding",
    "Json",
    "Layer",
    "LayerNorm",
    "Routing",
    "register_layer",
]

Json = base.Json
"""A value `json.dumps` can write: a layer's save spec (`Layer.spec`) is a
``dict[str, Json]``."""

AnyLayer = Layer[Any, Any] | Activation
"""Anything that can stand in a network's chain."""
