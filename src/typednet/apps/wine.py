"""The wine recipe behind ``typednet train-wine``: train, predict, evaluate.

On the UCI Wine Quality data (Cortez et al. 2009): `train_wine` standardizes the
features on the training columns, trains with Adam and early stopping, and returns a
model that takes raw features; `predict_quality` turns its output into a quality;
`evaluate` gives the paper's measures (MSE, mean absolute deviation, accuracy within a
tolerance of 0.5 and 1.0).
"""

import itertools
from dataclasses import dataclass
from typing import Literal

import numpy as np
from jaxtyping import Float

from .. import _store
from ..activations import identity, relu, softmax
from ..data import Standardizer, one_hot, standardize, train_test_split
from ..forward import forward
from ..init import dense, glorot_uniform
from ..losses import cross_entropy, mse
from ..metrics import accuracy, mad, within
from ..network import Network
from ..optim import adam
from ..shapes import Matrix
from ..train import History, fit

__all__ = [
    "BATCH_SIZE",
    "EPOCHS",
    "HIDDEN",
    "LEARNING_RATE",
    "PATIENCE",
    "QUALITIES",
    "SCALE",
    "VALIDATION",
    "Task",
    "WineRun",
    "evaluate",
    "predict_quality",
    "quality_classes",
    "train_wine",
]

Task = Literal["regress", "classify"]

HIDDEN: dict[Task, tuple[int, ...]] = {"regress": (64, 32), "classify": (15, 15, 15)}
"""Hidden layer sizes (all relu); classify is the course's final 11-15-15-15-11."""

SCALE = range(11)
"""The experts' quality scale 0..10: the classifier's outputs, one row per score."""

QUALITIES = range(3, 10)
"""The qualities the white wines take: the confusion matrix's rows and columns."""

EPOCHS = 200
"""Default most epochs; early stopping usually ends training within 15 to 60."""

BATCH_SIZE = 32
"""Columns per Adam step."""

LEARNING_RATE = 1e-3
"""Adam's learning rate."""

VALIDATION = 0.1
"""Share of the training columns held out to choose the epoch (early stopping)."""

PATIENCE = 10
"""Stop after this many epochs without a lower validation loss; keep the best epoch."""

_Quality = Float[Matrix, "1 batch"]


@dataclass(frozen=True, slots=True)
class WineRun:
    """What `train_wine` returns.

    Attributes:
        model: the network to save and use: raw features in, shape (11, batch); out the
            predicted quality, shape (1, batch) (regress), or the probabilities of the
            scores 0..10, shape (11, batch) (classify). The standardization of the
            features and the target's offset are folded into its first and last layer.
        net: the network as trained: standardized features in, and for regress the
            quality minus the training mean out. Its weights compare across features,
            so it is the one to draw.
        history: the `fit` record, with the best epoch kept.
    """

    model: Network[int, int]
    net: Network[int, int]
    history: History


def _build(task: Task, rng: np.random.Generator) -> Network[int, int]:
    """11 inputs, relu hidden layers, then 1 identity output or 11 softmax outputs."""
    sizes = (11, *HIDDEN[task], 1 if task == "regress" else len(SCALE))
    last = len(sizes) - 2
    output = identity if task == "regress" else softmax
    layers = [
        dense(rng, prev, nxt, output if k == last else relu, init=glorot_uniform())
        for k, (prev, nxt) in enumerate(itertools.pairwise(sizes))
    ]
    return Network(tuple(layers))


def _fold(net: Network[int, int], scaler: Standardizer, offset: float) -> Network[int, int]:
    """``net`` as a function of raw features, predicting in quality units.

    ``w1 @ ((x - mean) / std) + b1`` is ``(w1 / std.T) @ x + b1 - (w1 / std.T) @ mean``,
    so the first layer takes the standardization in; the last layer's bias takes the
    target's ``offset``.
    """
    params = list(net.params)  # w1, b1, ..., w_last, b_last
    w = params[0] / scaler.std.T
    params[0], params[1] = w, params[1] - w @ scaler.mean
    params[-1] = params[-1] + offset
    return _store.from_params(net, params)


def train_wine(
    x_train: Float[Matrix, "11 n"],
    y_train: _Quality,
    *,
    task: Task = "regress",
    rng: np.random.Generator,
    epochs: int = EPOCHS,
    batch_size: int = BATCH_SIZE,
    progress: bool | None = None,
    checkpoint: str | None = None,
    resume: str | None = None,
    compiled: bool = False,
) -> WineRun:
    """Train the wine network on the training columns, with early stopping.

    The features are standardized with statistics of ``x_train`` only. regress: the
    target is the quality minus its training mean, the loss MSE, the network
    11-64-32-1 (relu, identity output). classify: the target is the one-hot quality
    over the scale 0..10, the loss cross-entropy, the network 11-15-15-15-11 (relu,
    softmax output). Both: Glorot-uniform weights (they beat He-normal in 5-fold
    cross-validation on the training part), zero biases, Adam (learning rate 1e-3),
    batches of ``batch_size``; 10% of the training columns are held out, and the epoch
    with the lowest validation loss is kept (patience 10).

    Args:
        x_train: the training features, shape (11, n).
        y_train: their quality scores, shape (1, n).
        task: ``"regress"`` or ``"classify"``.
        rng: draws the validation columns, the weights and each epoch's shuffle.
        epochs: the most epochs to run.
        batch_size: columns per step.
        progress: show fit's progress bar (None: on a terminal or in a notebook).
        checkpoint: a folder for fit's checkpoints, written after each epoch.
        resume: a checkpoint folder to carry on from (see `typednet.fit`).
        compiled: train with `typednet.fit`'s compiled loop (numba: typednet[fast]).

    Returns:
        The `WineRun`: the model for raw features, the trained net and its history.

    Raises:
        ValueError: an unknown task, or (classify) a quality that is not 0..10.
    """
    if task not in HIDDEN:
        raise ValueError(f"train_wine: task must be 'regress' or 'classify', got {task!r}")
    scaler = standardize(x_train)
    offset = float(y_train.mean()) if task == "regress" else 0.0
    targets = y_train - offset if task == "regress" else one_hot(y_train, SCALE)
    x_fit, y_fit, x_val, y_val = train_test_split(
        scaler.apply(x_train), targets, test_fraction=VALIDATION, rng=rng
    )
    net, history = fit(
        _build(task, rng),
        x_fit,
        y_fit,
        loss=mse if task == "regress" else cross_entropy,
        optimizer=adam(LEARNING_RATE),
        epochs=epochs,
        batch_size=batch_size,
        rng=rng,
        validation=(x_val, y_val),
        metric=mad if task == "regress" else accuracy,
        patience=PATIENCE,
        progress=progress,
        checkpoint=checkpoint,
        resume=resume,
        compiled=compiled,
    )
    return WineRun(model=_fold(net, scaler, offset), net=net, history=history)


def predict_quality(model: Network[int, int], x: Float[Matrix, "11 batch"]) -> _Quality:
    """The predicted quality of each column of raw features, shape (1, batch).

    A regression model's output as it is; a classifier's most probable score.
    """
    out = forward(model, x)
    if model.out_size == 1:
        return out
    scores: _Quality = np.argmax(out, axis=0, keepdims=True).astype(out.dtype)
    return scores  # row k of the output is the score SCALE[k] = k


def evaluate(y_true: _Quality, quality: _Quality) -> dict[str, float]:
    """The test measures: MSE, mean absolute deviation, and accuracy within 0.5 and 1.0."""
    return {
        "mse": mse(y_true, quality),
        "mad": mad(y_true, quality),
        "within_0.5": within(y_true, quality, 0.5),
        "within_1.0": within(y_true, quality, 1.0),
    }


def quality_classes(quality: _Quality, classes: range = QUALITIES) -> _Quality:
    """Each prediction as one of ``classes``: rounded half up, then clipped into them
    (3..9 by default, the white wines' qualities)."""
    clipped: _Quality = np.clip(np.floor(quality + 0.5), classes[0], classes[-1])
    return clipped
