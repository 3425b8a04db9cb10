"""typednet: a static-typed, functional neural-network library on NumPy.

Networks are immutable values and everything done with them is a pure function.
Samples are columns, shape (features, batch); weights are (next, prev).
"""

import sys as _sys

if _sys.argv[:1] == ["-m"]:  # a module run with -m is being found: is it the command line?
    import typednet_cli as _cli

    _cli.guard_start_up()  # a Ctrl-C while the package imports is one line, not a traceback

from . import data as data
from . import init as init
from . import io as io
from . import metrics as metrics
from . import onnx as onnx
from . import plot as plot
from . import schedules as schedules
from . import tracking as tracking
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
from .apps.wine_data import fetch_wine_quality as fetch_wine_quality
from .apps.wine_data import load_wine_quality as load_wine_quality
from .checkpoints import Checkpoint as Checkpoint
from .checkpoints import checkpoint as checkpoint
from .data import deduplicate as deduplicate
from .data import one_hot as one_hot
from .data import standardize as standardize
from .data import train_test_split as train_test_split
from .forward import Trace as Trace
from .forward import forward as forward
from .forward import forward_trace as forward_trace
from .grad import grad as grad
from .grad import value_and_grad as value_and_grad
from .init import batch_norm as batch_norm
from .init import dense as dense
from .init import dropout as dropout
from .init import embedding as embedding
from .init import layer_norm as layer_norm
from .init import parallel as parallel
from .init import residual as residual
from .init import take as take
from .io import load as load
from .io import load_state_dict as load_state_dict
from .io import save as save
from .layers import BatchNorm as BatchNorm
from .layers import Dense as Dense
from .layers import Dropout as Dropout
from .layers import Embedding as Embedding
from .layers import Json as Json
from .layers import Layer as Layer
from .layers import LayerNorm as LayerNorm
from .layers import register_layer as register_layer
from .layers.parallel import Parallel as Parallel
from .layers.residual import Residual as Residual
from .layers.take import Take as Take
from .losses import Loss as Loss
from .losses import binary_cross_entropy as binary_cross_entropy
from .losses import cross_entropy as cross_entropy
from .losses import mae as mae
from .losses import mse as mse
from .losses import sigmoid_binary_cross_entropy as sigmoid_binary_cross_entropy
from .losses import softmax_cross_entropy as softmax_cross_entropy
from .mat import BatchDim as BatchDim
from .mat import Mat as Mat
from .mat import One as One
from .mat import Samples as Samples
from .mat import mat as mat
from .metrics import accuracy as accuracy
from .metrics import confusion_matrix as confusion_matrix
from .metrics import mad as mad
from .metrics import within as within
from .network import Network as Network
from .network import network as network
from .notebook import live_plot as live_plot
from .onnx import to_onnx as to_onnx
from .optim import Optimizer as Optimizer
from .optim import OptState as OptState
from .optim import adadelta as adadelta
from .optim import adagrad as adagrad
from .optim import adam as adam
from .optim import adamax as adamax
from .optim import adamw as adamw
from .optim import amsgrad as amsgrad
from .optim import apply_updates as apply_updates
from .optim import momentum as momentum
from .optim import nesterov as nesterov
from .optim import rmsprop as rmsprop
from .optim import sgd as sgd
from .plot import plot_history as plot_history
from .plot import plot_network as plot_network
from .regularization import Penalty as Penalty
from .regularization import l1 as l1
from .regularization import l2 as l2
from .shapes import Batch as Batch
from .shapes import Bias as Bias
from .shapes import Column as Column
from .shapes import Dim as Dim
from .shapes import Inputs as Inputs
from .shapes import Matrix as Matrix
from .shapes import ShapeError as ShapeError
from .shapes import Targets as Targets
from .shapes import Weight as Weight
from .shapes import checks_enabled as checks_enabled
from .shapes import no_checks as no_checks
from .train import Callback as Callback
from .train import Epoch as Epoch
from .train import History as History
from .train import fit as fit
from .train import train_step as train_step
from .tree import summary as summary

__all__ = [
    # shapes
    "Dim",
    "ShapeError",
    "Matrix",
    "Column",
    "Batch",
    "Inputs",
    "Targets",
    "Weight",
    "Bias",
    # typed maths
    "Mat",
    "mat",
    "One",
    "BatchDim",
    "Samples",
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
    "softmax_cross_entropy",
    "sigmoid_binary_cross_entropy",
    # layers and networks
    "Layer",
    "Dense",
    "LayerNorm",
    "BatchNorm",
    "Embedding",
    "Dropout",
    "Residual",
    "Parallel",
    "Take",
    "register_layer",
    "Json",
    "init",
    "dense",
    "layer_norm",
    "batch_norm",
    "embedding",
    "dropout",
    "residual",
    "parallel",
    "take",
    "Network",
    "network",
    "summary",
    # forward
    "forward",
    "forward_trace",
    "Trace",
    "checks_enabled",
    "no_checks",
    # learning
    "grad",
    "value_and_grad",
    "Penalty",
    "l1",
    "l2",
    "Optimizer",
    "OptState",
    "apply_updates",
    "sgd",
    "momentum",
    "nesterov",
    "adagrad",
    "rmsprop",
    "adadelta",
    "adam",
    "amsgrad",
    "adamax",
    "adamw",
    "schedules",
    "train_step",
    "fit",
    "History",
    "Epoch",
    "Callback",
    "checkpoint",
    "Checkpoint",
    "live_plot",
    "metrics",
    "accuracy",
    "mad",
    "within",
    "confusion_matrix",
    # data, saving, plots
    "data",
    "load_wine_quality",
    "fetch_wine_quality",
    "standardize",
    "train_test_split",
    "deduplicate",
    "one_hot",
    "io",
    "save",
    "load",
    "load_state_dict",
    "plot",
    "plot_history",
    "plot_network",
    "onnx",
    "to_onnx",
    "tracking",
]

__version__ = "0.1.0"
