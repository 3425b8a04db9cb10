"""typednet: a static-typed, functional neural-network library on NumPy.

Networks are immutable values and everything done with them is a pure function.
Samples are columns, shape (features, batch); weights are (next, prev).
"""

from . import init as init
from .activations import Activation as Activation
from .activations import elu as elu
from .activations import identity as identity
from .activations import leaky_relu as leaky_relu
from .activations import relu as relu
from .activations import selu as selu
from .activations import sigmoid as sigmoid
from .activations import softmax as softmax
from .activations import softplus as softplus
from .activations import softsign as softsign
from .activations import tanh as tanh
from .forward import Trace as Trace
from .forward import forward as forward
from .forward import forward_trace as forward_trace
from .init import dense as dense
from .init import layer_norm as layer_norm
from .layers import Dense as Dense
from .layers import Layer as Layer
from .layers import LayerNorm as LayerNorm
from .losses import Loss as Loss
from .losses import binary_cross_entropy as binary_cross_entropy
from .losses import cross_entropy as cross_entropy
from .losses import mae as mae
from .losses import mse as mse
from .network import Network as Network
from .network import network as network
from .shapes import Batch as Batch
from .shapes import Bias as Bias
from .shapes import Column as Column
from .shapes import Dim as Dim
from .shapes import Matrix as Matrix
from .shapes import ShapeError as ShapeError
from .shapes import Weight as Weight
from .shapes import checks_enabled as checks_enabled
from .shapes import no_checks as no_checks

__all__ = [
    # shapes
    "Dim",
    "ShapeError",
    "Matrix",
    "Column",
    "Batch",
    "Weight",
    "Bias",
    # activations and losses
    "Activation",
    "identity",
    "relu",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "softsign",
    "softplus",
    "elu",
    "selu",
    "softmax",
    "Loss",
    "mse",
    "mae",
    "binary_cross_entropy",
    "cross_entropy",
    # layers and networks
    "Layer",
    "Dense",
    "LayerNorm",
    "init",
    "dense",
    "layer_norm",
    "Network",
    "network",
    # forward
    "forward",
    "forward_trace",
    "Trace",
    "checks_enabled",
    "no_checks",
]

__version__ = "0.1.0"
