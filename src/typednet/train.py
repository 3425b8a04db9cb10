"""Training: one pure step (`train_step`) and the mini-batch loop (`fit`).

`train_step` is ``(params, optimizer state, batch) -> (new params, new state, loss)``.
`fit` shuffles the columns each epoch with the ``rng`` it is given (the same seed gives
the same run), records a `History`, shows a progress bar, and can stop early on the
validation loss. It can be resumed: pass the last run's ``history.state`` (and the same
``rng`` object) and 5 + 5 epochs are 10 epochs, bit for bit. After each epoch it calls
its ``callbacks`` with an `Epoch` record; one returning True stops training. Inputs are
validated once, before the first step; the loop itself runs the unchecked kernels.
"""

import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, cast, overload

from tqdm.auto import tqdm
from typing_extensions import TypeVar

from . import _columns, _html, _kernels, _validate
from ._columns import Columns
from ._kernels import check_batch as _check_batch
from ._kernels import check_input as _check_input
from ._kernels import forward as _forward
from ._validate import Rng
from .losses import Loss
from .network import Network
from .optim import Optimizer, OptState, _is_state
from .regularization import Penalty
from .shapes import (
    FloatT,
    Inputs,
    InputsOf,
    Matrix,
    NamedT,
    ShapeError,
    Targets,
    TargetsOf,
    _is_array,
    checks_enabled,
    no_checks,
)

__all__ = ["Callback", "Epoch", "History", "Metric", "fit", "train_step"]

A = TypeVar("A", default=int)
B = TypeVar("B", default=int)

_PROBE = 256  # columns of x whose predictions `fit` checks against a loss's needs

Metric = Callable[[Targets, Targets], float]
"""``metric(y_true, y_pred) -> float``, e.g. an accuracy; reported, not optimized."""


@dataclass(frozen=True, slots=True)
class History(Generic[A, B]):
    """Per-epoch record of a `fit` run.

    Attributes:
        train_loss: mean training loss of each epoch (with the penalty, if any: the
            value that was minimized), averaged over the epoch's columns.
        val_loss: validation loss after each epoch (without the penalty); empty without
            validation data.
        metric_name: the name of the metric, or None when none was given.
        train_metric: the metric on the training data after each epoch (may be empty).
        val_metric: the metric on the validation data after each epoch (may be empty).
        best_epoch: with early stopping, the 1-based epoch whose params were kept.
        state: the optimizer state that goes with the returned params (with early
            stopping, the best epoch's); pass it as ``fit(..., state=history.state)`` to
            resume. None only for a History built by hand. Not compared by ``==``.
    """

    train_loss: tuple[float, ...]
    val_loss: tuple[float, ...] = ()
    metric_name: str | None = None
    train_metric: tuple[float, ...] = ()
    val_metric: tuple[float, ...] = ()
    best_epoch: int | None = None
    state: OptState[A, B] | None = field(default=None, compare=False)

    @property
    def epochs(self) -> int:
        """How many epochs ran."""
        return len(self.train_loss)

    def _repr_html_(self) -> str:
        """In a notebook: the loss curves and the last epoch's values."""
        return _html.history(self)


@dataclass(frozen=True, slots=True)
class Epoch(Generic[A, B]):
    """What a callback of `fit` is given after each epoch.

    Attributes:
        epoch: the 1-based number of the epoch that just ended, in this `fit` call.
        train_loss: its mean training loss (with the penalty, if any).
        val_loss: the validation loss after it, or None without validation data.
        train_metric: the metric on the training data, or None without a metric.
        val_metric: the metric on the validation data, or None.
        net: the params after the epoch (e.g. to save a checkpoint with `typednet.save`).
        state: the optimizer state after the epoch (``state.count`` steps so far).
    """

    epoch: int
    train_loss: float
    val_loss: float | None
    train_metric: float | None
    val_metric: float | None
    net: Network[A, B]
    state: OptState[A, B]


Callback = Callable[[Epoch[A, B]], bool | None]
"""``callback(epoch) -> bool | None``, called by `fit` after each epoch; True stops.

Generic in the network's dims like `Epoch`: ``Callback[Features, Classes]``, and a bare
``Callback`` is ``Callback[int, int]``."""


def _step(
    net: Network[A, B],
    state: OptState[A, B],
    x: Columns,
    y: Matrix,
    loss: Loss,
    optimizer: Optimizer,
    penalty: Penalty | None,
    rng: Rng | None,
    where: str,
    checked: str | None = None,
) -> tuple[Network[A, B], OptState[A, B], float]:
    # net comes back with its layers' training state (running statistics) updated.
    value, grads, net = _kernels.value_and_flat_grad(
        net, x, y, loss, penalty, rng, checked, step=where
    )
    net, state = optimizer._step(grads, state, net, where)
    return net, state, value


@overload
def train_step(
    net: Network[A, B],
    state: OptState[A, B],
    x: InputsOf[FloatT],
    y: TargetsOf[FloatT],
    *,
    loss: Loss,
    optimizer: Optimizer,
    penalty: Penalty | None = None,
    rng: Rng | None = None,
) -> tuple[Network[A, B], OptState[A, B], float]: ...
@overload
def train_step(
    net: Network[NamedT, B],
    state: OptState[NamedT, B],
    x: NamedT,
    y: Targets,
    *,
    loss: Loss,
    optimizer: Optimizer,
    penalty: Penalty | None = None,
    rng: Rng | None = None,
) -> tuple[Network[NamedT, B], OptState[NamedT, B], float]: ...
def train_step(
    net: Network[Any, B],
    state: OptState[Any, B],
    x: InputsOf[FloatT] | Mapping[str, object],
    y: TargetsOf[FloatT],
    *,
    loss: Loss,
    optimizer: Optimizer,
    penalty: Penalty | None = None,
    rng: Rng | None = None,
) -> tuple[Network[Any, B], OptState[Any, B], float]:
    """One optimization step on one batch; pure: nothing passed in is changed.

    Args:
        net: the params before the step.
        state: the optimizer's state for ``net`` (``optimizer.init(net)`` at first).
        x: input columns, shape (features, batch).
        y: target columns, shape (outputs, batch).
        loss: the loss to minimize, e.g. ``tn.mse``.
        optimizer: e.g. ``tn.adam(1e-3)``.
        penalty: an optional ``tn.l1(lam)`` or ``tn.l2(lam)``.
        rng: draws the dropout masks; required when the network holds a `Dropout`.

    Returns:
        ``(new_net, new_state, value)`` where ``value`` is the loss (plus penalty) at
        ``net``, before the step.

    Raises:
        ShapeError: x or y do not fit the network, or ``state`` is not this optimizer's
            state for a network like ``net`` (naming the first param that differs).
        TypeError: ``optimizer`` is not an `Optimizer`, ``state`` not an `OptState`.
        ValueError: x or y holds NaN or inf, y targets the loss does not take, or the
            step would give non-finite params (naming the step and the first such
            param; ``net`` is unchanged).

    Examples:
        >>> import numpy as np
        >>> import typednet as tn
        >>> net = tn.network(tn.Dense(w=np.array([[1.0]]), b=np.zeros((1, 1)),
        ...                           activation=tn.identity))
        >>> opt = tn.sgd(0.25)
        >>> net, state, value = tn.train_step(net, opt.init(net), np.array([[1.0]]),
        ...                                   np.array([[3.0]]), loss=tn.mse, optimizer=opt)
        >>> value, net.params
        (4.0, (array([[2.]]), array([[1.]])))
    """
    checked = "train_step" if checks_enabled() else None
    if checked is not None:
        _check_batch(net, x, y, loss, penalty, checked)
        _kernels.check_columns(net, _columns.count(x), checked)
        _check_optimizer(optimizer, checked)
        optimizer._check_state(state, net, checked)
    _kernels.check_rng(net, rng, "train_step")
    where = f"train_step (optimizer step {state.count + 1})"
    return _step(net, state, cast(Matrix, x), y, loss, optimizer, penalty, rng, where, checked)


def _shows(progress: bool | None) -> bool:
    """Whether `fit` shows its bar: as asked, else in a notebook or on a terminal."""
    if progress is not None:
        return bool(progress)
    return _in_notebook() or sys.stderr.isatty()


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (where tqdm.auto draws a widget)."""
    ipython = sys.modules.get("IPython")
    shell = getattr(ipython, "get_ipython", lambda: None)()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _check_optimizer(optimizer: object, where: str) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"{where}: optimizer must be a typednet Optimizer such as tn.adam(1e-3), "
            f"got {type(optimizer).__name__}"
        )


@overload
def fit(
    net: Network[A, B],
    x: InputsOf[FloatT],
    y: TargetsOf[FloatT],
    *,
    loss: Loss,
    optimizer: Optimizer,
    epochs: int,
    batch_size: int,
    rng: Rng,
    penalty: Penalty | None = None,
    validation: tuple[Inputs, Targets] | None = None,
    metric: Metric | None = None,
    patience: int | None = None,
    progress: bool | None = None,
    state: OptState[A, B] | None = None,
    callbacks: Sequence[Callback[A, B]] = (),
) -> tuple[Network[A, B], History[A, B]]: ...
@overload
def fit(
    net: Network[NamedT, B],
    x: NamedT,
    y: Targets,
    *,
    loss: Loss,
    optimizer: Optimizer,
    epochs: int,
    batch_size: int,
    rng: Rng,
    penalty: Penalty | None = None,
    validation: tuple[NamedT, Targets] | None = None,
    metric: Metric | None = None,
    patience: int | None = None,
    progress: bool | None = None,
    state: OptState[NamedT, B] | None = None,
    callbacks: Sequence[Callback[NamedT, B]] = (),
) -> tuple[Network[NamedT, B], History[NamedT, B]]: ...
def fit(
    net: Network[Any, B],
    x: InputsOf[FloatT] | Mapping[str, object],
    y: TargetsOf[FloatT],
    *,
    loss: Loss,
    optimizer: Optimizer,
    epochs: int,
    batch_size: int,
    rng: Rng,
    penalty: Penalty | None = None,
    validation: tuple[Inputs | Mapping[str, object], Targets] | None = None,
    metric: Metric | None = None,
    patience: int | None = None,
    progress: bool | None = None,
    state: OptState[Any, B] | None = None,
    callbacks: Sequence[Callback[Any, B]] = (),
) -> tuple[Network[Any, B], History[Any, B]]:
    """Train ``net`` on mini-batches of the columns of ``x`` and ``y``.

    Each epoch shuffles the columns with ``rng`` and steps through them ``batch_size``
    at a time (the last batch may be smaller).

    Args:
        net: the starting params.
        x: input columns, shape (features, n).
        y: target columns, shape (outputs, n).
        loss: the loss to minimize.
        optimizer: e.g. ``tn.adam(1e-3)``; its state starts fresh unless ``state`` is
            given.
        epochs: how many passes over the data (at most, with early stopping).
        batch_size: columns per step.
        rng: shuffles the columns and draws any dropout masks; the same seed gives
            the same result, bit for bit.
        penalty: an optional ``tn.l1(lam)`` or ``tn.l2(lam)``.
        validation: optional ``(x_val, y_val)`` evaluated after each epoch.
        metric: optional ``metric(y_true, y_pred) -> float`` recorded per epoch.
        patience: with validation data, stop after this many epochs without a lower
            validation loss and return the params of the best epoch.
        progress: show a progress bar with the running loss: True always, False never;
            by default (None) only where someone watches: in a notebook (a widget) or
            when stderr is a terminal, so logs and CI output stay clean.
        state: the optimizer state to start from, e.g. a previous run's
            ``history.state``, to resume (the step count, so a schedule, carries on).
        callbacks: functions called after each epoch, in order, with an `Epoch` record;
            if one returns True (or anything truthy, such as ``np.True_``), training
            stops after that epoch (the rest are still called for it).

    Returns:
        ``(trained_net, history)``; ``history.state`` is the optimizer state that goes
        with ``trained_net``.

    Raises:
        ShapeError: x and y do not fit the network or each other (e.g. different n).
        ValueError: a bad setting, non-finite data, targets the loss does not take,
            probabilities a loss needs that the network's outputs are not (checked on
            the first columns), or a non-finite
            loss, param or validation loss during training (naming the epoch and step:
            never a silent NaN run).
        TypeError: ``optimizer`` is not an `Optimizer`, or a ``state`` or ``callbacks``
            of the wrong kind.

    Examples:
        A callback that logs each epoch and stops when the loss is small enough:

        >>> import numpy as np
        >>> import typednet as tn
        >>> def log(e: tn.Epoch) -> bool:
        ...     print(f"epoch {e.epoch}: loss {e.train_loss:.4f}, {e.state.count} steps")
        ...     return e.train_loss < 0.1
        >>> net = tn.network(tn.Dense(w=np.array([[0.0]]), b=np.zeros((1, 1)),
        ...                           activation=tn.identity))
        >>> x = np.array([[1.0, 2.0]])
        >>> net, history = tn.fit(net, x, 2 * x, loss=tn.mse, optimizer=tn.sgd(0.1), epochs=10,
        ...                       batch_size=2, rng=np.random.default_rng(0), progress=False,
        ...                       callbacks=[log])
        epoch 1: loss 10.0000, 1 steps
        epoch 2: loss 1.0600, 2 steps
        epoch 3: loss 0.1732, 3 steps
        epoch 4: loss 0.0835, 4 steps
        >>> history.epochs, history.state.count
        (4, 4)

    """
    _check_fit(net, x, y, loss, optimizer, penalty, validation, epochs, batch_size, patience, rng)
    _check_resume(net, optimizer, state, callbacks)
    x = cast("InputsOf[FloatT]", x)  # or a mapping of them, passed on to the first layer
    n = _columns.count(x)
    steps = math.ceil(n / batch_size)
    if state is None:
        state = optimizer.init(net)
    train_loss: list[float] = []
    val_loss: list[float] = []
    train_metric: list[float] = []
    val_metric: list[float] = []
    best: tuple[float, int, Network[Any, B], OptState[Any, B]] | None = None
    named = not _is_array(x)  # a mapping of named inputs: each one's columns are taken
    bar = tqdm(total=epochs * steps, disable=not _shows(progress), unit="step", leave=False)
    with no_checks(), bar:
        for epoch in range(1, epochs + 1):
            order = rng.permutation(n)
            total = 0.0
            for k in range(steps):
                cols = order[k * batch_size : (k + 1) * batch_size]
                where = f"fit: epoch {epoch}, step {k + 1} of {steps}"
                net, state, value = _step(
                    net,
                    state,
                    _columns.take(x, cols) if named else x[:, cols],
                    y[:, cols],
                    loss,
                    optimizer,
                    penalty,
                    rng,
                    where,
                )
                if not math.isfinite(value):
                    raise ValueError(
                        f"fit: the loss became {value} at epoch {epoch}, step {k + 1} of "
                        f"{steps}; try a smaller learning rate or check the data's scale"
                    )
                total += value * cols.size
                # types-tqdm 4.70.0.20261122 leaves update's `n` unannotated, so the member
                # is partially unknown to pyright (older stubs annotated it).
                bar.update(1)  # pyright: ignore[reportUnknownMemberType]
            train_loss.append(total / n)
            postfix = {"epoch": epoch, "loss": f"{train_loss[-1]:.4g}"}
            if metric is not None:
                train_metric.append(float(metric(y, _forward(net, x))))
            stop = False
            if validation is not None:
                x_val, y_val = validation
                y_val_hat = _forward(net, cast(Matrix, x_val))
                val_loss.append(loss.value_fn(y_val, y_val_hat))
                if not math.isfinite(val_loss[-1]):
                    raise ValueError(
                        f"fit: the validation loss became {val_loss[-1]} at epoch {epoch}; "
                        "try a smaller learning rate or check the validation data's scale"
                    )
                postfix["val_loss"] = f"{val_loss[-1]:.4g}"
                if metric is not None:
                    val_metric.append(float(metric(y_val, y_val_hat)))
                if patience is not None:
                    if best is None or val_loss[-1] < best[0]:
                        best = (val_loss[-1], epoch, net, state)
                    elif epoch - best[1] >= patience:
                        stop = True
            if callbacks:
                record = Epoch(
                    epoch=epoch,
                    train_loss=train_loss[-1],
                    val_loss=val_loss[-1] if val_loss else None,
                    train_metric=train_metric[-1] if train_metric else None,
                    val_metric=val_metric[-1] if val_metric else None,
                    net=net,
                    state=state,
                )
                # Every callback sees every epoch, even after one asked to stop.
                stop = any([callback(record) for callback in callbacks]) or stop
            # types-tqdm leaves set_postfix's **kwargs unannotated: the member is partially
            # unknown to pyright whatever the call passes.
            bar.set_postfix(postfix)  # pyright: ignore[reportUnknownMemberType]
            if stop:
                bar.total = bar.n  # stopped early: the bar ends full
                break
    history = History(
        train_loss=tuple(train_loss),
        val_loss=tuple(val_loss),
        metric_name=None if metric is None else _metric_name(metric),
        train_metric=tuple(train_metric),
        val_metric=tuple(val_metric),
        best_epoch=None if best is None else best[1],
        state=state if best is None else best[3],
    )
    return (net if best is None else best[2]), history


def _metric_name(metric: Metric) -> str:
    """A Loss's name, a function's __name__, or "metric"."""
    name = metric.name if isinstance(metric, Loss) else getattr(metric, "__name__", "metric")
    return str(name)


def _check_fit(
    net: Network[Any, Any],
    x: object,
    y: object,
    loss: object,
    optimizer: object,
    penalty: object,
    validation: object,
    epochs: object,
    batch_size: object,
    patience: object,
    rng: object,
) -> None:
    """Validate everything `fit` is given, once, before the first step."""
    _validate.positive_int("fit", "epochs", epochs)
    size = _validate.positive_int("fit", "batch_size", batch_size)
    if patience is not None:
        _validate.positive_int("fit", "patience", patience)
        if validation is None:
            raise ValueError("fit: patience (early stopping) needs validation=(x_val, y_val)")
    _validate.rng("fit", rng)
    _check_optimizer(optimizer, "fit")
    _check_data(net, x, y, loss, penalty, "fit")
    n = _columns.count(x)
    last = n - (math.ceil(n / size) - 1) * size  # the smallest batch of an epoch
    batches = "x" if last == n else f"the last batch of each epoch (n = {n}, batch_size = {size})"
    _kernels.check_columns(net, last, "fit", batches)
    if validation is not None:
        pair = cast("tuple[object, ...]", validation) if isinstance(validation, tuple) else ()
        if len(pair) != 2:
            raise TypeError("fit: validation must be a pair (x_val, y_val)")
        _check_data(net, pair[0], pair[1], loss, penalty, "fit validation")


def _check_resume(
    net: Network[Any, Any], optimizer: Optimizer, state: object, callbacks: object
) -> None:
    """A resumed state must be this optimizer's for this network; callbacks callable."""
    if state is not None:
        if not _is_state(state):
            raise TypeError(
                f"fit: state must be an OptState (e.g. a previous run's history.state), "
                f"got {type(state).__name__}"
            )
        # The optimizer's own check, with the params standing in for a gradient.
        optimizer._check(net, state, net)
    if not isinstance(callbacks, Sequence) or not all(
        callable(c) for c in cast("Sequence[object]", callbacks)
    ):
        raise TypeError("fit: callbacks must be a list of functions taking an Epoch record")


def _check_data(
    net: Network[Any, Any], x: object, y: object, loss: object, penalty: object, where: str
) -> None:
    _check_input(net, x, where)
    n = _columns.count(x)
    if _is_array(y) and y.ndim == 2 and n != y.shape[1]:
        raise ShapeError(
            f"{where}: x has {n} columns (samples) but y has {y.shape[1]}; "
            "samples are columns in both: x is (features, n), y is (outputs, n)"
        )
    _check_batch(net, x, y, loss, penalty, where)  # finite values and targets included
    assert isinstance(loss, Loss)  # checked just above
    _check_outputs(net, cast(Matrix, x), loss, where)


def _check_outputs(net: Network[Any, Any], x: Columns, loss: Loss, where: str) -> None:
    """A loss of probabilities: are the network's outputs ones? A few columns tell."""
    if loss.check_fn is not None:
        loss.check_fn(f"{where}: {loss.name}", _forward(net, _columns.take(x, slice(_PROBE))))
