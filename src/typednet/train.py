"""Training: one pure step (`train_step`) and the mini-batch loop (`fit`).

`train_step` is ``(params, optimizer state, batch) -> (new params, new state, loss)``.
`fit` shuffles the columns each epoch with the ``rng`` it is given (the same seed gives
the same run), records a `History`, shows a progress bar, and can stop early on the
validation loss. It can be resumed: pass the last run's ``history.state`` (and the same
``rng`` object) and 5 + 5 epochs are 10 epochs, bit for bit. After each epoch it calls
its ``callbacks`` with an `Epoch` record; one returning True stops training. Inputs are
validated once, before the first step; the loop itself runs the unchecked kernels.

Both take ``sample_weight``, one weight per column: each step minimises its batch's
weighted mean loss ``sum(w_j l_j) / sum(w_j)`` (normalised per batch, as scikit-learn's
MLPs; a batch whose weights are all zero has loss and gradient 0, and the optimizer
still takes its step). With ``batch_size >= n`` that is the whole set's weighted mean,
so integer weights train exactly as repeating each column that many times. The penalty
is added once per step, unweighted, as without weights.
"""

import inspect
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Never, cast, overload

import numpy as np
from tqdm.auto import tqdm
from typing_extensions import TypeVar

from . import _columns, _compiled, _html, _kernels, _validate, _weights, checkpoints
from ._columns import Columns
from ._kernels import check_batch as _check_batch
from ._kernels import check_input as _check_input
from ._kernels import forward as _forward
from ._validate import Rng, Where
from .checkpoints import Best, Checkpoint, Progress, Record
from .losses import Loss
from .network import Network
from .optim import Optimizer, OptState, _check_finite, _is_state
from .regularization import Penalty
from .shapes import (
    FloatT,
    Inputs,
    InputsOf,
    Matrix,
    NamedT,
    SampleWeightsOf,
    ShapeError,
    Targets,
    TargetsOf,
    WeightShapeT,
    _is_array,
    checks_enabled,
    no_checks,
)

__all__ = ["Callback", "Epoch", "History", "Metric", "fit", "train_step"]

A = TypeVar("A", default=int)
B = TypeVar("B", default=int)

_PROBE = 256  # columns of x whose predictions `fit` checks against a loss's needs

Metric = Callable[[Targets, Targets], float]
"""``metric(y_true, y_pred) -> float``, e.g. an accuracy; reported, not optimized. With
sample weights, `fit` calls it as ``metric(y_true, y_pred, sample_weight=w)``, so it
must also take that keyword (`typednet.accuracy`, `typednet.mad` and every `Loss` do)."""


@dataclass(frozen=True, slots=True)
class History(Generic[A, B]):
    """Per-epoch record of a `fit` run.

    Attributes:
        train_loss: mean training loss of each epoch (with the penalty, if any: the
            value that was minimized), averaged over the epoch's columns (with
            ``sample_weight``, their weighted mean).
        val_loss: validation loss after each epoch (without the penalty); empty without
            validation data.
        metric_name: the name of the metric, or None when none was given.
        train_metric: the metric on the training data after each epoch (may be empty).
        val_metric: the metric on the validation data after each epoch (may be empty).
        best_epoch: with early stopping, the 1-based epoch whose params were kept.
        state: the optimizer state that goes with the returned params (with early
            stopping, the best epoch's); pass it as ``fit(..., state=history.state)`` to
            resume. None for a History built by hand, or when fit was interrupted
            before its first step without a ``state``. Not compared by ``==``.
        interrupted: True when a Ctrl-C (KeyboardInterrupt) ended `fit`: the params
            are those after the last step that completed, the record holds the epochs
            that completed.
    """

    train_loss: tuple[float, ...]
    val_loss: tuple[float, ...] = ()
    metric_name: str | None = None
    train_metric: tuple[float, ...] = ()
    val_metric: tuple[float, ...] = ()
    best_epoch: int | None = None
    state: OptState[A, B] | None = field(default=None, compare=False)
    interrupted: bool = False

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
        epoch: the 1-based number of the epoch that just ended (a run resumed from a
            checkpoint carries on its numbers).
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
    where: Where,
    checked: str | None = None,
    weight: Matrix | None = None,
) -> tuple[Network[A, B], OptState[A, B], float]:
    # net comes back with its layers' training state (running statistics) updated.
    value, grads, net = _kernels.value_and_flat_grad(
        net, x, y, loss, penalty, rng, checked, step=where, weight=weight
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
    sample_weight: SampleWeightsOf[WeightShapeT] | None = None,
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
    sample_weight: SampleWeightsOf[WeightShapeT] | None = None,
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
    sample_weight: SampleWeightsOf[WeightShapeT] | None = None,
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
        sample_weight: optional weights, one per column of x, shape (batch,) or
            (1, batch): the step minimises ``sum(w_j l_j) / sum(w_j)`` (plus the
            unweighted penalty), as `typednet.value_and_grad`.

    Returns:
        ``(new_net, new_state, value)`` where ``value`` is the loss (plus penalty) at
        ``net``, before the step.

    Raises:
        ShapeError: x, y or sample_weight do not fit the network, or ``state`` is not
            this optimizer's state for a network like ``net`` (naming the first param
            that differs).
        TypeError: ``optimizer`` is not an `Optimizer`, ``state`` not an `OptState`.
        ValueError: x or y holds NaN or inf, y targets the loss does not take, bad
            weights (negative, NaN or inf, all zero), or the step would give
            non-finite params (naming the step and the first such param; ``net`` is
            unchanged).

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
    weight = None
    if checked is not None:
        _check_batch(net, x, y, loss, penalty, checked)
        _kernels.check_columns(net, _columns.count(x), checked)
        _check_optimizer(optimizer, checked)
        optimizer._check_state(state, net, checked)
        if sample_weight is not None:
            weight = _kernels.check_weights(net, loss, sample_weight, _columns.count(x), checked)
    elif sample_weight is not None:
        weight = _kernels.weights_row(net, sample_weight)
    _kernels.check_rng(net, rng, "train_step")
    where = f"train_step (optimizer step {state.count + 1})"
    return _step(
        net, state, cast(Matrix, x), y, loss, optimizer, penalty, rng, where, checked, weight
    )


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
    validation: tuple[Inputs, Targets]
    | tuple[Inputs, Targets, SampleWeightsOf[WeightShapeT]]
    | None = None,
    metric: Metric | None = None,
    patience: int | None = None,
    progress: bool | None = None,
    state: OptState[A, B] | None = None,
    callbacks: Sequence[Callback[A, B]] = (),
    sample_weight: SampleWeightsOf[WeightShapeT] | None = None,
    checkpoint: Checkpoint | str | os.PathLike[str] | None = None,
    resume: str | os.PathLike[str] | None = None,
    compiled: bool = False,
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
    validation: tuple[NamedT, Targets]
    | tuple[NamedT, Targets, SampleWeightsOf[WeightShapeT]]
    | None = None,
    metric: Metric | None = None,
    patience: int | None = None,
    progress: bool | None = None,
    state: OptState[NamedT, B] | None = None,
    callbacks: Sequence[Callback[NamedT, B]] = (),
    sample_weight: SampleWeightsOf[WeightShapeT] | None = None,
    checkpoint: Checkpoint | str | os.PathLike[str] | None = None,
    resume: str | os.PathLike[str] | None = None,
    compiled: Literal[False] = False,
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
    validation: tuple[InputsOf[Any] | Mapping[str, object], Targets]
    | tuple[InputsOf[Any] | Mapping[str, object], Targets, SampleWeightsOf[WeightShapeT]]
    | None = None,
    metric: Metric | None = None,
    patience: int | None = None,
    progress: bool | None = None,
    state: OptState[Any, B] | None = None,
    callbacks: Sequence[Callback[Any, B]] = (),
    sample_weight: SampleWeightsOf[WeightShapeT] | None = None,
    checkpoint: Checkpoint | str | os.PathLike[str] | None = None,
    resume: str | os.PathLike[str] | None = None,
    compiled: bool = False,
) -> tuple[Network[Any, B], History[Any, B]]:
    """Train ``net`` on mini-batches of the columns of ``x`` and ``y``.

    Each epoch shuffles the columns with ``rng`` and steps through them ``batch_size``
    at a time (the last batch may be smaller).

    Memory: besides the data, the params and the optimizer's state, `fit` needs one
    batch's workspace and the epoch's column order (n integers). ``x`` may be an
    ``np.memmap``: batches are taken by index, never a copy of the set. The checks of
    the whole set and the evaluation after each epoch (metric, validation) run in
    blocks of columns; a metric is given the predictions for all columns at once
    (outputs x n, the size of ``y``), unless it is a `Loss` such as ``tn.mae``, taken
    by blocks as the loss is. The validation loss is the block losses' mean
    weighted by columns: equal to the loss over all the columns at once to 1e-12
    relative in float64 (bit for bit up to 4096 columns), for a loss that is a mean
    over columns, as every typednet loss is.

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
        validation: optional ``(x_val, y_val)`` evaluated after each epoch, or
            ``(x_val, y_val, sample_weight_val)`` to weigh its columns (the validation
            loss and metric are then weighted means; without a third element they are
            plain means, whatever ``sample_weight`` is).
        metric: optional ``metric(y_true, y_pred) -> float`` recorded per epoch; any
            function of the targets and the predictions of all the columns; with
            weights it is called with ``sample_weight=`` too (see `Metric`).
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
        sample_weight: optional weights, one per column of x, shape (n,) or (1, n),
            ints or floats, >= 0, finite, not all zero. Each step minimises its
            batch's weighted mean loss ``sum(w_j l_j) / sum(w_j)`` (normalised per
            batch, as scikit-learn's MLPs); with ``batch_size >= n`` integer weights
            train exactly as repeated columns. ``history.train_loss`` is then the
            epoch's weighted mean. The penalty is not weighted.
        checkpoint: a folder, or ``tn.checkpoint(folder, every=k)``: after every k-th
            epoch (every epoch for a bare folder) and after the last, write there all
            a resumed run needs (see `typednet.checkpoints`), atomically: a crash at any
            moment leaves the previous checkpoint whole. A folder that already holds a
            checkpoint is refused unless ``resume`` is that folder.
        resume: a checkpoint folder to carry on from: the params, the optimizer state
            (so a schedule's position), the History so far, the best epoch and
            ``rng``'s state (``rng`` is set to it) come from it, and training goes on
            to epoch ``epochs`` of the whole run; the result is bit for bit that of a
            run never stopped. A folder without a checkpoint yet (a run killed in its
            first epoch, or none started) starts from ``net``, so the same call can be
            made after every restart. It must be a checkpoint of this architecture,
            dtype, optimizer and run (columns, batch size, loss, penalty, metric,
            validation, patience), and is checked as `typednet.load` checks a file.
            Callbacks are not saved: after a resume they start afresh.
        compiled: run each epoch's steps as one compiled loop (numba and scipy, optional
            dependencies: ``pip install 'typednet[fast]'``): the same maths, step for step,
            without NumPy's per-call cost: several times faster at small batches. float64
            agrees with the NumPy path to 1e-12 relative (not bit for bit: the products
            and sums round in another order), and the same seed gives the same bits.
            It trains chains of `Dense` layers (identity, relu, leaky_relu, sigmoid,
            tanh; softmax last with `cross_entropy`) with `mse`, `cross_entropy`,
            `softmax_cross_entropy` or `binary_cross_entropy` (after a sigmoid), and
            `sgd`, `adam` or `adamw`, without a penalty or sample weights; anything else
            is a ValueError saying what. The first call in a process compiles the loop
            for the dtype (seconds) or loads it from numba's cache on disk. Ctrl-C is
            taken between runs of steps (about 32 768 columns, or a gathered chunk).

    Returns:
        ``(trained_net, history)``; ``history.state`` is the optimizer state that goes
        with ``trained_net``.

        Ctrl-C (a KeyboardInterrupt) at any moment of fit does not raise: fit returns
        the params after the last step that completed (with early stopping, the best
        epoch's so far), and ``history.interrupted`` is True; the History holds the
        epochs that completed. A checkpoint on disk is the last one written whole.

    Raises:
        ShapeError: x and y do not fit the network or each other (e.g. different n), or
            ``resume`` holds a checkpoint of another architecture or dtype.
        ValueError: ``resume`` holds a checkpoint of another optimizer or run, or a
            damaged one (naming what); a bad setting, non-finite data, bad weights
            (negative, NaN or inf, all zero), targets the
            loss does not take, probabilities a loss needs that the network's outputs
            are not (checked on the first columns), or a non-finite loss, param or
            validation loss during training (naming the epoch and step:
            never a silent NaN run).
        TypeError: ``optimizer`` is not an `Optimizer`, or a ``state``, ``callbacks``,
            ``checkpoint`` or ``resume`` of the wrong kind; with weights, a loss without
            a per-sample form or a metric that takes no ``sample_weight``.
        OSError: the checkpoint cannot be written or read; ``checkpoint`` is not a
            folder; a FIFO or device in the checkpoint's place is refused.

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
    xs = cast(Columns, x)  # one array, or a mapping of named inputs for the first layer
    run: _Run[Any, B] | None = None
    try:
        plan = _plan(
            net, xs, y, loss, optimizer, epochs, batch_size, rng, penalty, validation, metric,
            patience, state, callbacks, checkpoint, resume, sample_weight, compiled,
        )  # fmt: skip
        run = _start(plan, net, state, rng)
        _epochs(plan, run, xs, y, rng, epochs, progress)
    except KeyboardInterrupt:  # Ctrl-C: what was trained so far, marked as interrupted
        if run is None:
            return net, History(train_loss=(), state=state, interrupted=True)
        return run.result(metric, interrupted=True)
    return run.result(metric)


# --- the loop's steps: what fit does, one small function each ---------------------------


@dataclass(frozen=True, slots=True)
class _Plan:
    """What every epoch of one `fit` call needs, checked before the first step."""

    loss: Loss
    optimizer: Optimizer
    penalty: Penalty | None
    batch_size: int
    metric: Metric | None
    validation: tuple[Columns, Targets] | None  # (x_val, y_val), without weights
    patience: int | None
    callbacks: Sequence[Callback[Any, Any]]
    weight: Matrix | None  # the (1, n) row of sample weights, if any
    val_weight: Matrix | None  # the validation data's
    saving: Checkpoint | None
    resume: str | None
    settings: dict[str, checkpoints.Setting]  # what a resumed run must share
    kernel: _compiled.Kernel | None  # with compiled=True


@dataclass(slots=True)
class _Run(Generic[A, B]):
    """A `fit` in progress. Each field is replaced in one assignment, so a Ctrl-C at any
    moment finds the params with their own state, and whole epochs in the record."""

    trained: tuple[Network[A, B], OptState[A, B]]  # after the last step
    progress: Progress[A, B]  # after the last epoch

    def result(
        self, metric: Metric | None, *, interrupted: bool = False
    ) -> tuple[Network[A, B], History[A, B]]:
        """What `fit` returns: with early stopping, the best epoch's params and state."""
        best = self.progress.best
        net, state = self.trained if best is None else (best.net, best.state)
        records = self.progress.records
        history = History(
            train_loss=tuple(r.train_loss for r in records),
            val_loss=tuple(r.val_loss for r in records if r.val_loss is not None),
            metric_name=None if metric is None else _metric_name(metric),
            train_metric=tuple(r.train_metric for r in records if r.train_metric is not None),
            val_metric=tuple(r.val_metric for r in records if r.val_metric is not None),
            best_epoch=None if best is None else best.epoch,
            state=state,
            interrupted=interrupted,
        )
        return net, history


def _plan(
    net: Network[A, B],
    x: Columns,
    y: Matrix,
    loss: Loss,
    optimizer: Optimizer,
    epochs: int,
    batch_size: int,
    rng: Rng,
    penalty: Penalty | None,
    validation: tuple[object, ...] | None,
    metric: Metric | None,
    patience: int | None,
    state: OptState[A, B] | None,
    callbacks: Sequence[Callback[A, B]],
    checkpoint: object,
    resume: object,
    sample_weight: object,
    compiled: object,
) -> _Plan:
    """Everything `fit` is given, checked once, before the first step."""
    _check_fit(net, x, y, loss, optimizer, penalty, validation, epochs, batch_size, patience, rng)
    _check_resume(net, optimizer, state, callbacks)
    w, w_val = _check_weights(net, x, loss, metric, sample_weight, validation)
    saving, folder = checkpoints.check(checkpoint, resume, state, "fit")
    metric_name = None if metric is None else _metric_name(metric)
    settings = checkpoints.settings(
        _columns.count(x), batch_size, loss.name, optimizer, penalty, metric_name,
        validation is not None, patience, "fit",
    )  # fmt: skip
    settings["sample_weight"] = w is not None
    pair = None if validation is None else cast("tuple[Columns, Targets]", validation[:2])
    if not isinstance(compiled, bool):
        raise TypeError(f"fit: compiled must be True or False, got {type(compiled).__name__}")
    kernel = _compiled.plan(net, x, loss, optimizer, penalty, w is not None) if compiled else None
    return _Plan(
        loss, optimizer, penalty, batch_size, metric, pair, patience, callbacks, w, w_val,
        saving, folder, settings, kernel,
    )  # fmt: skip


def _start(plan: _Plan, net: Network[A, B], state: OptState[A, B] | None, rng: Rng) -> _Run[A, B]:
    """The run from its checkpoint when ``plan.resume`` holds one, else from ``net``."""
    if plan.resume is not None and checkpoints.exists(plan.resume):
        trained, progress = checkpoints.read(plan.resume, net, plan.optimizer, plan.settings, rng)
        return _Run(trained, progress)
    fresh = (net, plan.optimizer.init(net) if state is None else state)
    return _Run(trained=fresh, progress=Progress())


def _epochs(
    plan: _Plan,
    run: _Run[A, B],
    x: Columns,
    y: Matrix,
    rng: Rng,
    epochs: int,
    progress: bool | None,
) -> None:
    """The epochs from the run's next one to ``epochs``, unless it stops first."""
    steps = math.ceil(_columns.count(x) / plan.batch_size)
    done = min(run.progress.epoch, epochs) * steps
    show = _shows(progress)
    with no_checks(), tqdm(total=epochs * steps, initial=done, disable=not show, unit="step",
                           leave=False) as bar:  # fmt: skip
        for epoch in range(run.progress.epoch + 1, epochs + 1):
            if run.progress.stopped:
                break
            train = _train_epoch if plan.kernel is None else _train_epoch_compiled
            train_loss = train(plan, run, x, y, rng, epoch, bar)
            _end_epoch(plan, run, x, y, epoch, train_loss, bar)
            _checkpoint(plan, run, rng, epochs)
        if run.progress.stopped:
            bar.total = bar.n  # stopped early: the bar ends full


def _train_epoch(
    plan: _Plan, run: _Run[A, B], x: Columns, y: Matrix, rng: Rng, epoch: int, bar: "tqdm[Never]"
) -> float:
    """One pass over the shuffled batches, a step each; the mean loss over the columns."""
    n = _columns.count(x)
    steps = math.ceil(n / plan.batch_size)
    w = plan.weight
    total = 0.0
    # `_step` written out, and what it reads looked up once per epoch, not per step: at
    # small batches the step's Python is a large part of its time.
    loss, penalty = plan.loss, plan.penalty
    gradient, optimize = _kernels.value_and_flat_grad, plan.optimizer._step
    isfinite = math.isfinite
    order = rng.permutation(n)  # the epoch's shuffle
    take_x = _columns.batches(x, order, plan.batch_size)
    take_y = _columns.batches(y, order, plan.batch_size)
    take_w = None if w is None else _columns.batches(w, order, plan.batch_size)
    for k in range(steps):
        # Named only if an error needs it: a format at every step costs as much as a pass.
        where = lambda k=k: _step_name(epoch, k + 1, steps)  # noqa: E731
        net, state = run.trained
        y_k = take_y(k)
        w_cols = None if take_w is None else take_w(k)
        value, grads, net = gradient(
            net, take_x(k), y_k, loss, penalty, rng, step=where, weight=w_cols
        )
        net, state = optimize(grads, state, net, where)
        run.trained = (net, state)
        if not isfinite(value):
            raise _bad_loss(value, epoch, k + 1, steps)
        total += value * (y_k.shape[1] if w_cols is None else _total(w_cols))
        # types-tqdm 4.70.0.20261122 leaves update's `n` unannotated, so the member is
        # partially unknown to pyright (older stubs annotated it).
        bar.update(1)  # pyright: ignore[reportUnknownMemberType]
    return total / (n if w is None else _total(w))


# Columns per call of the compiled loop on a set read in place: Ctrl-C and the progress
# bar are taken between calls, so each is short (a few ms to a few hundred), and long
# enough that a call's own cost (a copy of the params and the optimizer's state) is small
# beside its steps.
_COMPILED_COLUMNS = 32768


def _train_epoch_compiled(
    plan: _Plan, run: _Run[A, B], x: Columns, y: Matrix, rng: Rng, epoch: int, bar: "tqdm[Never]"
) -> float:
    """`_train_epoch` by the compiled loop (`typednet._compiled`): the same shuffle, steps,
    checks and messages, in runs of steps. From a set that `_columns.batches` gathers by
    chunks (a large C-ordered one) each call gathers as many batches, in one pass over
    the set; from a smaller set each step gathers its own."""
    assert plan.kernel is not None and isinstance(x, np.ndarray)  # planned so
    n = x.shape[1]
    size = plan.batch_size
    steps = math.ceil(n / size)
    order = rng.permutation(n)  # the epoch's shuffle
    x_all, y_all = np.asarray(x), np.asarray(y)  # a memmap is read as the array it is
    chunks = _columns.gathered(x_all, size)
    per_call = chunks or max(1, _COMPILED_COLUMNS // size)
    total = 0.0
    for first in range(0, steps, per_call):
        last = min(first + per_call, steps)
        done = _compiled.run_steps(plan.kernel, run.trained, x_all, y_all, order, size,
                                   first, last, chunked=bool(chunks))  # fmt: skip
        run.trained = cast("tuple[Network[A, B], OptState[A, B]]", done.trained)
        for k, value in enumerate(done.values.tolist(), start=first):
            total += value * min(size, n - k * size)
        bar.update(len(done.values))  # pyright: ignore[reportUnknownMemberType]  # as above
        k = first + len(done.values)  # the last step taken, from 1
        if done.refused is not None:
            _check_finite(run.trained[0], done.refused, _step_name(epoch, k + 1, steps))
        if done.bad_loss:
            raise _bad_loss(float(done.values[-1]), epoch, k, steps)
    return total / n


def _step_name(epoch: int, step: int, steps: int) -> str:
    """How fit's messages name a step (``step`` counted from 1)."""
    return f"fit: epoch {epoch}, step {step} of {steps}"


def _bad_loss(value: float, epoch: int, step: int, steps: int) -> ValueError:
    """fit's error for a loss that is not finite at a step (counted from 1)."""
    return ValueError(
        f"fit: the loss became {value} at epoch {epoch}, step {step} of {steps}; "
        "try a smaller learning rate or check the data's scale"
    )


# Columns per block of the per-epoch evaluation: its memory is one block's activations,
# whatever the data's size. A multiple of 64, where OpenBLAS computes each column of a
# float64 product as it does in a wider one (see `typednet.forward`'s batch_size).
_EVAL_COLUMNS = 4096


def _evaluate(
    net: Network[Any, Any],
    x: Columns,
    y: Matrix,
    loss: Loss | None,
    metric: Metric | None,
    w: Matrix | None,
) -> tuple[float | None, float | None]:
    """The loss (None without one) and the metric (None without one) of ``net`` on the
    columns of ``x`` and ``y``, `_EVAL_COLUMNS` columns at a time, weighted by the row
    ``w`` when given.

    The loss is the mean of the blocks' losses weighted by their share of the columns
    (of the weights, with ``w``), equal to the loss of all columns at once for a mean over
    columns (every typednet loss) up to rounding: 1e-12 relative in float64, and the
    same bits for a single block. A metric that is a `Loss` (``tn.mae``) is taken the
    same way; any other function is called once, with the predictions for every column
    put together block by block (outputs x n: the size of ``y``).
    """
    if loss is None and metric is None:
        return None, None
    n = _columns.count(x)
    if n <= _EVAL_COLUMNS:
        y_hat = _forward(net, x)
        score = None if metric is None else _measure(metric, y, y_hat, w)
        return _loss_value(loss, y, y_hat, w), score
    whole = metric is not None and not isinstance(metric, Loss)
    y_hats = np.empty((net.out_size, n), dtype=net.dtype) if whole else None
    total = None if w is None else _total(w)
    value, score = 0.0, 0.0
    for start in range(0, n, _EVAL_COLUMNS):
        cols = slice(start, min(start + _EVAL_COLUMNS, n))
        y_hat = _forward(net, _columns.take(x, cols))
        if y_hats is not None:
            y_hats[:, cols] = y_hat
        w_cols = None if w is None else w[:, cols]
        share = (cols.stop - start) / n if w_cols is None or not total else _total(w_cols) / total
        if share == 0.0:  # a block of zero weights adds nothing (and defines no mean)
            continue
        if loss is not None:
            value += cast(float, _loss_value(loss, y[:, cols], y_hat, w_cols)) * share
        if isinstance(metric, Loss):
            score += _measure(metric, y[:, cols], y_hat, w_cols) * share
    if y_hats is not None and metric is not None:
        score = _measure(metric, y, y_hats, w)
    return (None if loss is None else value), (None if metric is None else score)


def _loss_value(loss: Loss | None, y: Matrix, y_hat: Matrix, w: Matrix | None) -> float | None:
    """The loss of predictions (None without a loss), weighted when ``w`` is given."""
    if loss is None:
        return None
    return loss.value_fn(y, y_hat) if w is None else _weighted_loss(loss, y, y_hat, w)


def _total(w: Matrix) -> float:
    """The sum of a row of weights."""
    return float(np.add.reduce(w, axis=None, dtype=np.float64))


def _weighted_loss(loss: Loss, y: Matrix, y_hat: Matrix, w: Matrix) -> float:
    """The weighted mean of the columns' losses."""
    return _weights.mean(loss._samples(y, y_hat), _weights.shares(w))


def _measure(metric: Metric, y: Matrix, y_hat: Matrix, w: Matrix | None) -> float:
    """The metric of predictions, weighted when ``w`` is given."""
    if w is None:
        return float(metric(y, y_hat))
    return float(cast("Callable[..., float]", metric)(y, y_hat, sample_weight=w))


def _end_epoch(
    plan: _Plan,
    run: _Run[A, B],
    x: Columns,
    y: Matrix,
    epoch: int,
    train_loss: float,
    bar: "tqdm[Never]",
) -> None:
    """After the epoch's steps: the metrics, the validation loss, early stopping and the
    callbacks, recorded in ``run.progress`` (which says whether training stops here)."""
    net, state = run.trained
    postfix = {"epoch": epoch, "loss": f"{train_loss:.4g}"}
    train_metric = _evaluate(net, x, y, None, plan.metric, plan.weight)[1]
    val_loss = val_metric = None
    best, stop = run.progress.best, False
    if plan.validation is not None:
        x_val, y_val = plan.validation
        val_loss, val_metric = _evaluate(net, x_val, y_val, plan.loss, plan.metric, plan.val_weight)
        assert val_loss is not None  # a loss was given
        if not math.isfinite(val_loss):
            raise ValueError(
                f"fit: the validation loss became {val_loss} at epoch {epoch}; "
                "try a smaller learning rate or check the validation data's scale"
            )
        postfix["val_loss"] = f"{val_loss:.4g}"
        if plan.patience is not None:
            if best is None or val_loss < best.val_loss:
                best = Best(val_loss, epoch, net, state)
            elif epoch - best.epoch >= plan.patience:
                stop = True
    if plan.callbacks:
        record = Epoch(
            epoch=epoch,
            train_loss=train_loss,
            val_loss=val_loss,
            train_metric=train_metric,
            val_metric=val_metric,
            net=net,
            state=state,
        )
        # Every callback sees every epoch, even after one asked to stop.
        stop = any([callback(record) for callback in plan.callbacks]) or stop
    line = Record(train_loss, val_loss, train_metric, val_metric)
    run.progress = Progress(records=(*run.progress.records, line), best=best, stopped=stop)
    # types-tqdm leaves set_postfix's **kwargs unannotated: the member is partially
    # unknown to pyright whatever the call passes.
    bar.set_postfix(postfix)  # pyright: ignore[reportUnknownMemberType]


def _checkpoint(plan: _Plan, run: _Run[A, B], rng: Rng, epochs: int) -> None:
    """Write a checkpoint after every ``every``-th epoch, and after the last one."""
    if plan.saving is None:
        return
    epoch = run.progress.epoch
    if epoch % plan.saving.every == 0 or epoch >= epochs or run.progress.stopped:
        checkpoints.write(plan.saving.path, plan.settings, run.trained, run.progress, rng)


def _check_weights(
    net: Network[Any, Any],
    x: Columns,
    loss: Loss,
    metric: Metric | None,
    sample_weight: object,
    validation: object,
) -> tuple[Matrix | None, Matrix | None]:
    """The training and validation weights as (1, n) rows, or None: checked against
    their data, the loss (a per-sample form) and the metric (a sample_weight keyword)."""
    w = None
    if sample_weight is not None:
        w = _kernels.check_weights(net, loss, sample_weight, _columns.count(x), "fit")
    w_val = None
    if isinstance(validation, tuple) and len(cast("tuple[object, ...]", validation)) == 3:
        x_val, _, weights_val = cast("tuple[Columns, object, object]", validation)
        w_val = _kernels.check_weights(
            net, loss, weights_val, _columns.count(x_val), "fit validation", of="x_val"
        )
    if metric is not None and (w is not None or w_val is not None) and not _takes_weights(metric):
        raise TypeError(
            f"fit: with sample weights the metric is called as metric(y_true, y_pred, "
            f"sample_weight=w), but {_metric_name(metric)} takes no sample_weight; "
            "use tn.accuracy, tn.mad or a Loss, or add the keyword"
        )
    return w, w_val


def _takes_weights(metric: Metric) -> bool:
    """Whether ``metric`` accepts a ``sample_weight`` keyword."""
    try:
        parameters = inspect.signature(metric).parameters.values()
    except (TypeError, ValueError):  # no signature to read (some builtins)
        return False
    return any(
        p.kind is p.VAR_KEYWORD or (p.name == "sample_weight" and p.kind is not p.POSITIONAL_ONLY)
        for p in parameters
    )


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
        pair = cast("tuple[object, ...]", validation if isinstance(validation, tuple) else ())
        if not 2 <= len(pair) <= 3:
            raise TypeError(
                "fit: validation must be (x_val, y_val) or (x_val, y_val, sample_weight_val)"
            )
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
