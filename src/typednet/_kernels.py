"""The unchecked kernels of the forward and backward passes, and the boundary checks.

The public functions (`forward`, `forward_trace`, `grad`, `value_and_grad`,
`train_step`, `fit`) check their arguments once and call these; the training loop calls
them at every step without checking again. Everything here goes through the layer
protocol (`typednet.layers.Layer`): no layer kind is named.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from . import _columns, _store, _weights
from ._columns import Columns
from ._validate import Rng, Where, where_text
from .activations import Activation
from .layers import AnyLayer, Layer
from .losses import Loss, check_sample_fn
from .network import Network
from .regularization import Penalty
from .shapes import Matrix, ShapeError, _check_array, _check_kind, _got, _is_array

__all__ = [
    "apply_layers",
    "backward_layers",
    "check_batch",
    "check_columns",
    "check_finite_data",
    "check_input",
    "check_rng",
    "check_values",
    "check_weights",
    "forward",
    "trace",
    "trace_layers",
    "value_and_flat_grad",
    "weights_row",
]

# (output activation, loss) pairs whose delta at the last pre is (y_hat - y) / n, where
# n is the loss's divisor: True for every element (binary cross-entropy averages over
# all of them), False for the batch (cross-entropy sums each column, then averages).
_FUSED = {("sigmoid", "binary_cross_entropy"): True, ("softmax", "cross_entropy"): False}


# --- checks --------------------------------------------------------------------------------


def check_input(net: Network[Any, Any], x: object, where: str, name: str = "x") -> None:
    """Raise ShapeError unless x is (net.in_size, batch) in the network's dtype, integer
    ids of shape (1, batch) that the first layer takes (an Embedding), or the mapping of
    named inputs it takes (`NamedInputs`); ``name`` is how messages call x."""
    # The common case first, in a few attribute reads (never true for a network over ids
    # or named inputs); the full checks explain a failure (and accept the subclasses
    # that keep NumPy's arithmetic).
    if net._takes_columns(x):
        return
    first = net.layers[0]
    # getattr, not isinstance(first, Layer): an ABC's isinstance costs more than the
    # rest of this check (an Activation has no takes_ids).
    if getattr(first, "takes_ids", False):
        _check_ids(cast(Layer[Any, Any], first), x, where, name)
        return
    if getattr(first, "takes_named", False):
        cast(Layer[Any, Any], first).check_inputs(x, where)
        return
    _check_array(
        x,
        f"{where} input {name}",
        ("features", "batch"),
        (net.in_size, None),
        name=name,
        dtype=net.dtype,
        hint_1d=f"a sample is a column: pass {name}.reshape(-1, 1)",
        hint_t=f"samples are columns: pass {name}.T",
    )
    assert _is_array(x)  # checked just above
    if x.shape[1] == 0:  # else a subclass that keeps NumPy's arithmetic: accepted
        raise ValueError(f"{where}: the batch is empty ({name} has 0 columns)")


def _check_ids(first: Layer[Any, Any], x: object, where: str, name: str = "x") -> None:
    """Raise ShapeError unless x is integer ids of shape (1, batch), ValueError for an
    empty batch, and whatever ``first`` raises for ids it cannot take (out of range)."""
    want = (
        f"{where} input {name}: expected integer ids of shape (1, batch) for layer 1 "
        f"({first.label()})"
    )
    if not _is_array(x):
        raise ShapeError(f"{want}, got {_got(x)}")
    _check_kind(x, f"{where} input {name}", name)
    if x.dtype.kind not in "iu":
        raise ShapeError(f"{want}, got dtype {x.dtype}; pass {name}.astype(np.int64)")
    if x.ndim != 2 or x.shape[0] != 1:
        hint = (
            f"; pass {name}.reshape(1, -1)"
            if x.ndim == 1 or (x.ndim == 2 and x.shape[1] == 1)
            else ""
        )
        raise ShapeError(f"{want}, got {_got(x)}{hint}")
    if x.shape[1] == 0:
        raise ValueError(f"{where}: the batch is empty ({name} has 0 columns)")
    first.check_ids(x, f"{where} input {name}")


def check_batch(
    net: Network[Any, Any], x: object, y: object, loss: object, penalty: object, where: str
) -> None:
    """Raise ShapeError or TypeError for a batch `value_and_grad` cannot use, and
    ValueError for values it cannot (NaN or inf, targets the loss does not take)."""
    check_input(net, x, where)
    n = cast(Matrix, x).shape[1] if type(x) is np.ndarray else _columns.count(x)
    out = net.out_size
    # The common case first, as in check_input; the full checks below explain a failure.
    if (
        (type(y) is np.ndarray or type(y) is np.memmap)  # as in check_input
        and y.shape == (out, n)
        and y.dtype == net.dtype  # x's, when x is columns (not ids)
        and isinstance(loss, Loss)
        and (penalty is None or isinstance(penalty, Penalty))
    ):
        check_values(cast(Matrix, x), y, loss, where)
        return
    _check_array(
        y,
        f"{where} target y",
        ("outputs", "batch"),
        (out, n),
        name="y",
        dtype=net.dtype,
        hint_1d=f"a target is a column of {out} outputs: pass y.reshape({out}, -1)",
        hint_size="y needs the network's outputs as rows and one column per column of x",
    )
    if not isinstance(loss, Loss):
        raise TypeError(
            f"{where}: loss must be a typednet Loss such as tn.mse, got {type(loss).__name__}"
        )
    if penalty is not None and not isinstance(penalty, Penalty):
        raise TypeError(
            f"{where}: penalty must be None or a Penalty from l1(lam) or l2(lam), "
            f"got {type(penalty).__name__}"
        )
    assert _is_array(y)  # checked just above
    check_values(cast(Matrix, x), y, loss, where)


def check_values(x: Columns, y: Matrix, loss: Loss, where: str) -> None:
    """ValueError for values of a well-shaped batch that training cannot use: NaN or inf,
    or targets the loss does not take (labels outside [0, 1], say)."""
    check_finite_data(x, y, where)
    if loss.check_target_fn is not None:
        loss.check_target_fn(f"{where}: {loss.name}", y)


def check_weights(
    net: Network[Any, Any], loss: Loss, w: object, n: int, where: str, of: str = "x"
) -> Matrix:
    """``w`` as a fresh (1, n) row in the network's dtype, one weight per column of
    ``of``; TypeError for a loss without a per-sample form, ShapeError or ValueError for
    weights that are not (n,) or (1, n) non-negative finite numbers, not all zero."""
    check_sample_fn(loss, where)
    return _weights.check(w, n, net.dtype, where, of=of)


def weights_row(net: Network[Any, Any], w: object) -> Matrix:
    """Unchecked: ``w`` as a (1, n) row in the network's dtype."""
    return _weights.row(w, net.dtype)


# Elements per block of the whole-set checks: the boolean temporary of a block (256 kB)
# stays in cache, and a check of a large or memory-mapped set never holds more.
CHECK_BLOCK = 1 << 18


def check_finite_data(x: Columns, y: Matrix, where: str) -> None:
    """ValueError when the training data holds NaN or inf (named, never shown); checked
    in blocks of columns, so the memory needed does not grow with the data."""
    for name, a in (*_columns.arrays(x), ("y", y)):
        if not _all_finite(a):
            raise ValueError(f"{where}: {name} contains NaN or inf; training needs finite data")


def _all_finite(a: "npt.NDArray[Any]") -> bool:
    """Whether every element of ``a`` is finite: at once for a batch, else by blocks of
    about `CHECK_BLOCK` elements (whole columns), stopping at the first bad block."""
    rows, n = a.shape
    step = max(1, CHECK_BLOCK // max(rows, 1))
    if step >= n:
        return bool(np.isfinite(a).all())
    return all(bool(np.isfinite(a[:, i : i + step]).all()) for i in range(0, n, step))


def check_columns(net: Network[Any, Any], columns: int, where: str, batch: str = "x") -> None:
    """ValueError when a layer needs more columns per batch in training (a BatchNorm's
    variance needs two) than ``batch`` has."""
    for i, layer in enumerate(net.layers, 1):
        if isinstance(layer, Layer) and columns < layer.min_batch:
            raise ValueError(
                f"{where}: layer {i} ({layer.label()}) needs at least {layer.min_batch} "
                f"columns per batch in training, but {batch} has {columns}"
            )


def check_rng(net: Network[Any, Any], rng: object, where: str) -> None:
    """TypeError when a layer draws in training (dropout) and ``rng`` is not a generator."""
    if isinstance(rng, np.random.Generator | np.random.RandomState):
        return
    for i, layer in enumerate(net.layers, 1):
        if not isinstance(layer, Activation) and layer.draws:
            got = "none was given" if rng is None else f"got {type(rng).__name__}"
            raise TypeError(
                f"{where}: layer {i} ({layer.label()}) draws random masks in training, so "
                f"rng= must be np.random.default_rng(seed); {got}"
            )


# --- forward -------------------------------------------------------------------------------


def forward(net: Network[Any, Any], x: Columns) -> Matrix:
    """The network's output at inference, unchecked."""
    return apply_layers(net.layers, x)


def trace(
    net: Network[Any, Any], x: Columns, rng: Rng | None
) -> tuple[tuple[Matrix, ...], tuple[Matrix, ...]]:
    """Every layer's ``(pre, post)``; in training mode (masks drawn) when ``rng`` is given."""
    return trace_layers(net.layers, x, rng)


# The chain's own kernels, shared by a network and by the blocks it holds
# (`typednet.layers.residual`): a block runs its inner layers through these.


def apply_layers(layers: Sequence[AnyLayer], x: Columns) -> Matrix:
    """A chain of layers' output at inference, unchecked."""
    if TYPE_CHECKING:  # the first layer takes x as it is (a mapping: NamedInputs)
        x = cast(Matrix, x)
    for layer in layers:
        x = layer.fn(x) if isinstance(layer, Activation) else layer.apply(x)  # no extra call
    return x


def trace_layers(
    layers: Sequence[AnyLayer], x: Columns, rng: Rng | None
) -> tuple[tuple[Matrix, ...], tuple[Matrix, ...]]:
    """A chain of layers' ``(pre, post)``, layer by layer, as `trace`."""
    if TYPE_CHECKING:  # as in apply_layers
        x = cast(Matrix, x)
    pre: list[Matrix] = []
    post: list[Matrix] = []
    h = x
    for layer in layers:
        if isinstance(layer, Activation):
            p, h = h, layer.fn(h)
        else:
            p, h = layer.trace(h, rng)
        pre.append(p)
        post.append(h)
    return tuple(pre), tuple(post)


# --- backward ------------------------------------------------------------------------------


def value_and_flat_grad(
    net: Network[Any, Any],
    x: Columns,
    y: Matrix,
    loss: Loss,
    penalty: Penalty | None,
    rng: Rng | None,
    where: str | None = None,
    *,
    step: Where | None = None,
    weight: Matrix | None = None,
) -> tuple[float, Matrix, Network[Any, Any]]:
    """The loss and its gradient as one column laid out like the network's params, and
    the network after the step: with ``step`` (the step's name for messages), its
    layers' training state (running statistics) updated by the batch; else, or when no
    layer keeps one, ``net`` itself.

    With ``weight`` (a (1, batch) row of sample weights in the network's dtype), the
    loss is the batch's weighted mean ``sum(w_j l_j) / sum(w_j)`` and the gradient its
    gradient: the error at the output is scaled column by column (`_weights.scale`);
    the penalty is not weighted. A layer's training statistics (a BatchNorm's) stay
    unweighted.

    With ``where`` (a checked public call), the predictions are first checked as the
    loss requires (probabilities for the cross-entropies), named by ``where``.
    """
    layers = net.layers
    pres, posts = trace(net, x, rng)
    layout = _store.layout(net)
    stepped = net
    if step is not None and layout.stateful:
        stepped = _updated(net, layout.stateful, x, posts, step)
    y_hat = posts[-1]
    if where is not None and loss.check_fn is not None:
        loss.check_fn(f"{where}: {loss.name}", y_hat)
    share = None if weight is None else _weights.shares(weight)
    if share is None:
        value = loss.value_fn(y, y_hat)
    else:
        assert loss.sample_fn is not None  # checked with the weights
        value = _weights.mean(loss.sample_fn(y, y_hat), share)
    last = layers[-1]
    activation = None if isinstance(last, Activation) else last.output_activation
    per_element = None if activation is None else _FUSED.get((activation.name, loss.name))
    if per_element is None:
        upstream = loss.grad_fn(y, y_hat)
        if share is not None:  # a new array: grad_fn's result may be a user's view
            upstream = upstream * _weights.scale(share, upstream.dtype)
    else:  # fused: upstream is already the delta at the last pre, with no division by p
        upstream = y_hat - y
        upstream /= y.size if per_element else y.shape[1]
        if share is not None:
            upstream *= _weights.scale(share, upstream.dtype)
    flat = np.empty_like(_store.column(net))  # every layer overwrites its own rows
    grads = layout.views(flat)
    backward_layers(layers, layout, x, pres, posts, upstream, grads, fused=per_element is not None)
    if penalty is not None:
        value += penalty.value(net)
        penalty.add_gradient(net, grads)
    return value, flat, stepped


def backward_layers(
    layers: Sequence[AnyLayer],
    layout: _store.Layout,
    x: Columns,
    pres: Sequence[Matrix],
    posts: Sequence[Matrix],
    upstream: Matrix,
    grads: tuple[Matrix, ...],
    *,
    fused: bool = False,
    need_input: bool = False,
) -> Matrix | None:
    """A chain of layers' backward pass, unchecked: write every param's gradient into
    ``grads`` (laid out by ``layout``) and return d loss / d x if ``need_input``.

    ``upstream`` is d loss / d the last post, or with ``fused`` d loss / d the last pre.
    Without ``need_input``, the layers before the first one with params are skipped.
    """
    if TYPE_CHECKING:  # as in apply_layers
        x = cast(Matrix, x)
    first = layout.owners[0][0] if layout.owners else len(layers)
    stop = 0 if need_input else first
    last = len(layers) - 1
    for i in range(last, stop - 1, -1):
        layer = layers[i]
        h = posts[i - 1] if i else x  # the layer's input
        if isinstance(layer, Activation):
            upstream = layer.vjp_fn(h, posts[i], upstream)
            continue
        a, b = layout.spans[i]
        need = need_input or i > first
        if fused and i == last:
            down = layer.backward_fused(h, pres[i], upstream, grads[a:b], need_input=need)
        else:
            down = layer.backward(h, pres[i], posts[i], upstream, grads[a:b], need_input=need)
        if down is not None:
            upstream = down
    return upstream if need_input else None


def _updated(
    net: Network[Any, Any],
    stateful: tuple[int, ...],
    x: Columns,
    posts: tuple[Matrix, ...],
    where: Where,
) -> Network[Any, Any]:
    """``net`` after a training pass: each stateful layer `updated` with its input."""
    if TYPE_CHECKING:  # as in apply_layers
        x = cast(Matrix, x)
    layers = list(net.layers)
    for i in stateful:
        layer = cast(Layer[Any, Any], layers[i])
        try:
            layers[i] = layer.updated(posts[i - 1] if i else x)
        except ValueError as e:  # a statistic overflowed: say which step and layer
            raise ValueError(f"{where_text(where)}: layer {i + 1} ({layer.label()}): {e}") from None
    return _store.with_layers(net, tuple(layers))
