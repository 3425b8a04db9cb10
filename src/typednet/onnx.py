"""ONNX export: `to_onnx(net, path)` writes a network any ONNX runtime can run.

Needs the optional extra ``onnx`` (``pip install 'typednet[onnx]'``); the ``onnx``
package is imported only when `to_onnx` is called, so ``import typednet`` never needs it.

Each layer kind exports itself (`typednet.Layer.to_onnx`) into a `Graph`, the small
builder defined here; a layer written outside typednet exports once it implements that
method. Activations are built from ONNX operators that onnxruntime runs in float32 and
float64 alike, with typednet's formulas: its ``Softplus``, ``Softsign``, ``Elu`` and
``Selu`` have no float64 kernel and its float32 ``Sigmoid`` is 0 below about -20, so
those five are composed from ``Exp``, ``Log``, ``Abs``, ``Max`` and ``Where``.

Two layouts:

- ``"rows"`` (the default, the ONNX convention): the model takes ``x`` of shape
  (batch, features) and returns (batch, outputs); a Dense layer's weights are stored
  transposed, (prev, next), so the model computes ``x @ w.T + b.T`` with one ``Gemm``.
- ``"columns"``: typednet's own layout, ``x`` of shape (features, batch) in and
  (outputs, batch) out, weights stored (next, prev) as in the network.
"""

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from ._files import write_atomically
from .activations import Activation
from .layers import Layer
from .network import Network
from .shapes import Matrix

if TYPE_CHECKING:
    from onnx import ModelProto, NodeProto

__all__ = ["OPSET", "Graph", "Layout", "to_onnx"]

Layout = Literal["rows", "columns"]
"""How the exported model lays out a batch: ``"rows"`` (batch, features), or
``"columns"`` (features, batch) as typednet does."""

OPSET = 17
"""The ONNX operator set the exported models use (onnxruntime 1.13 and later run it)."""

Attribute = int | float | str | Sequence[int]
"""A node attribute's value: an int, a float, a string or a list of ints."""


@dataclass(frozen=True, slots=True)
class _Node:
    op: str
    inputs: tuple[str, ...]
    output: str
    attributes: dict[str, Attribute]


@dataclass(slots=True, eq=False)
class Graph:
    """An ONNX graph being built, one layer at a time, in one `Layout` and dtype.

    A layer's `typednet.Layer.to_onnx` adds its nodes with `node` and its arrays with
    `constant` or `per_feature`, and returns the name of its output. Names are made
    unique by prefixing the layer's position (``layer2/pre``), so a layer picks short
    ones. Values that flow between layers are laid out by `layout`: in ``"rows"`` the
    features are axis 1 (`feature_axis`), in ``"columns"`` axis 0.

    Attributes:
        layout: ``"rows"`` (batch, features) or ``"columns"`` (features, batch).
        dtype: the network's dtype; every constant is stored in it.
    """

    layout: Layout
    dtype: np.dtype[np.floating[Any]]
    prefix: str = ""
    nodes: list[_Node] = field(default_factory=list[_Node])
    constants: dict[str, npt.NDArray[np.number[Any]]] = field(
        default_factory=dict[str, npt.NDArray[np.number[Any]]]
    )
    _taken: set[str] = field(default_factory=lambda: {"x", "y"})
    _scalars: dict[float, str] = field(default_factory=dict[float, str])

    @property
    def feature_axis(self) -> int:
        """The axis that holds the features: 1 in ``"rows"``, 0 in ``"columns"``."""
        return 1 if self.layout == "rows" else 0

    def _name(self, hint: str) -> str:
        base = f"{self.prefix}{hint}"
        name, n = base, 1
        while name in self._taken:
            n += 1
            name = f"{base}_{n}"
        self._taken.add(name)
        return name

    def reserve(self, name: str) -> str:
        """Keep ``name`` for a value of the model's own (a named graph input): a ValueError
        if it is taken (``y``, the output) or is not an identifier."""
        if not name.isidentifier() or name in self._taken:
            raise ValueError(f"the name {name!r} is taken in the graph (y is the output)")
        self._taken.add(name)
        return name

    def constant(self, value: npt.NDArray[np.floating[Any]] | float, hint: str) -> str:
        """Store ``value`` (an array, or a scalar stored once) in the graph's dtype; return
        its name."""
        if isinstance(value, float):
            if value not in self._scalars:
                prefix, self.prefix = self.prefix, ""
                self._scalars[value] = self.constant(np.full((), value, self.dtype), hint)
                self.prefix = prefix
            return self._scalars[value]
        name = self._name(hint)
        self.constants[name] = np.asarray(value, dtype=self.dtype)
        return name

    def integers(self, values: Sequence[int], hint: str) -> str:
        """Store a 1-D int64 constant (indices or axes, as ``Slice`` takes); return its
        name."""
        name = self._name(hint)
        self.constants[name] = np.asarray(values, dtype=np.int64)
        return name

    def per_feature(self, value: Matrix, hint: str) -> str:
        """Store a (d, 1) column of per-feature values laid out to broadcast over a batch:
        (1, d) in ``"rows"``, (d, 1) in ``"columns"``. Return its name."""
        return self.constant(value.T if self.layout == "rows" else value, hint)

    def node(self, op: str, inputs: Sequence[str], hint: str, **attributes: Attribute) -> str:
        """Add an ONNX operator ``op`` (``"Gemm"``, ``"Tanh"``, ...) with one output.

        Args:
            op: the operator's name in the default ONNX domain, at opset `OPSET`.
            inputs: the names of its inputs (values or constants).
            hint: a short name for its output.
            attributes: its attributes (``axis=1``).

        Returns:
            The name of its output.
        """
        output = self._name(hint)
        self.nodes.append(_Node(op, tuple(inputs), output, dict(attributes)))
        return output

    def activation(self, activation: Activation, x: str) -> str:
        """Apply ``activation`` to ``x`` (laid out by `layout`); return the output's name."""
        build = _ACTIVATIONS.get(activation.name)
        if build is None:
            raise ValueError(f"activation {activation.name!r} has no ONNX export")
        return build(self, x, activation.param)


# --- activations ---------------------------------------------------------------------------
# Each builds typednet's formula (see typednet.activations) from operators that have
# float32 and float64 kernels in onnxruntime.


def _expm1(g: Graph, z: str) -> str:
    """exp(z) - 1 without the cancellation near 0 (Kahan: ``(u - 1) * z / log(u)``)."""
    u = g.node("Exp", [z], "exp")
    um1 = g.node("Sub", [u, g.constant(1.0, "one")], "exp_m1")
    ratio = g.node("Div", [g.node("Mul", [um1, z], "num"), g.node("Log", [u], "log")], "ratio")
    # u == 1: z is tiny and expm1(z) = z. u below the smallest normal float (exp
    # underflows, to a subnormal or 0): u - 1 is -1 to the last bit, while log(u) has
    # lost digits with u's and would put the ratio 1e-3 off.
    tiny = float(np.finfo(g.dtype).tiny)
    under = g.node("Less", [u, g.constant(tiny, "tiny")], "under")
    exact = g.node("Where", [under, um1, ratio], "exact")
    is_one = g.node("Equal", [u, g.constant(1.0, "one")], "is_one")
    return g.node("Where", [is_one, z, exact], "expm1")


def _log1p(g: Graph, u: str) -> str:
    """log(1 + u) for u >= 0 without the rounding of 1 + u (Goldberg's ``u * log(w) / (w - 1)``)."""
    w = g.node("Add", [u, g.constant(1.0, "one")], "one_p")
    wm1 = g.node("Sub", [w, g.constant(1.0, "one")], "one_p_m1")
    ratio = g.node("Div", [g.node("Mul", [u, g.node("Log", [w], "log")], "num"), wm1], "ratio")
    is_one = g.node("Equal", [w, g.constant(1.0, "one")], "is_one")
    return g.node("Where", [is_one, u, ratio], "log1p")


def _negative_part(g: Graph, z: str, scale: float, alpha: float) -> str:
    """``scale * (z if z > 0 else alpha * expm1(z))``: elu, and selu with its constants."""
    negative = g.node("Min", [z, g.constant(0.0, "zero")], "neg_part")
    below = g.node("Mul", [_expm1(g, negative), g.constant(alpha, "alpha")], "below")
    pos = g.node("Greater", [z, g.constant(0.0, "zero")], "pos")
    chosen = g.node("Where", [pos, z, below], "elu")
    return chosen if scale == 1.0 else g.node("Mul", [chosen, g.constant(scale, "scale")], "selu")


def _leaky_relu(g: Graph, z: str, leak: float | None) -> str:
    below = g.node("Mul", [z, g.constant(0.0 if leak is None else leak, "leak")], "below")
    pos = g.node("Greater", [z, g.constant(0.0, "zero")], "pos")
    return g.node("Where", [pos, z, below], "leaky_relu")


def _sigmoid(g: Graph, z: str, _: float | None) -> str:
    # 1 / (1 + exp(-z)) as typednet computes it; onnxruntime's own float32 Sigmoid
    # gives 0 below about -20, where the value is still above 1e-9.
    limit = -float(np.floor(np.log(np.finfo(g.dtype).max)))  # exp(-limit) is finite
    t = g.node("Max", [z, g.constant(limit, "exp_limit")], "clipped")
    one_p = g.node(
        "Add", [g.node("Exp", [g.node("Neg", [t], "neg")], "exp"), g.constant(1.0, "one")], "one_p"
    )
    return g.node("Reciprocal", [one_p], "sigmoid")


def _softsign(g: Graph, z: str, _: float | None) -> str:
    one_p = g.node("Add", [g.constant(1.0, "one"), g.node("Abs", [z], "abs")], "one_p_abs")
    return g.node("Div", [z, one_p], "softsign")


def _softplus(g: Graph, z: str, _: float | None) -> str:
    # log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|)), as np.logaddexp(0, z) computes it.
    tail = g.node("Exp", [g.node("Neg", [g.node("Abs", [z], "abs")], "neg_abs")], "exp")
    top = g.node("Max", [z, g.constant(0.0, "zero")], "max0")
    return g.node("Add", [top, _log1p(g, tail)], "softplus")


_SELU_ALPHA = 1.6732632423543772
_SELU_SCALE = 1.0507009873554805

_Build = Callable[[Graph, str, float | None], str]

_ACTIVATIONS: dict[str, _Build] = {
    "identity": lambda g, z, _: z,
    "relu": lambda g, z, _: g.node("Relu", [z], "relu"),
    "leaky_relu": _leaky_relu,
    "sigmoid": _sigmoid,
    "tanh": lambda g, z, _: g.node("Tanh", [z], "tanh"),
    "softsign": _softsign,
    "softplus": _softplus,
    "elu": lambda g, z, alpha: _negative_part(g, z, 1.0, 1.0 if alpha is None else alpha),
    "selu": lambda g, z, _: _negative_part(g, z, _SELU_SCALE, _SELU_ALPHA),
    "softmax": lambda g, z, _: g.node("Softmax", [z], "softmax", axis=g.feature_axis),
}


# --- export --------------------------------------------------------------------------------


def _check_exportable(net: Network[Any, Any]) -> None:
    """ValueError naming the first layer that cannot be exported or holds NaN or inf."""
    for i, layer in enumerate(net.layers, 1):
        if not isinstance(layer, Layer):
            continue
        cls = type(layer)
        if cls.to_onnx is Layer.to_onnx:
            raise ValueError(
                f"to_onnx: layer {i} ({cls.__name__}, kind {cls.kind!r}) cannot be exported: "
                f"{cls.__name__} does not implement Layer.to_onnx"
            )
        for name, value in zip(layer.param_names, layer.params, strict=True):
            if not np.isfinite(value).all():
                raise ValueError(
                    f"to_onnx: layer {i} ({cls.kind}) {name} contains NaN or inf; "
                    "a non-finite network cannot be exported"
                )


def _graph(net: Network[Any, Any], layout: Layout) -> tuple[Graph, str]:
    """Every layer's nodes, in order; the name of the last output."""
    graph = Graph(layout, net.dtype)
    x = "x"
    for i, layer in enumerate(net.layers, 1):
        graph.prefix = f"layer{i}/"
        kind = layer.kind if isinstance(layer, Layer) else "activation"
        try:
            x = layer.to_onnx(graph, x) if isinstance(layer, Layer) else graph.activation(layer, x)
        except ValueError as e:
            raise ValueError(f"to_onnx: layer {i} ({kind}): {e}") from None
    return graph, x


def _onnx_node(node: _Node) -> "NodeProto":
    from onnx import helper

    made = helper.make_node(node.op, list(node.inputs), [node.output], name=node.output)
    made.attribute.extend(helper.make_attribute(k, v) for k, v in node.attributes.items())
    return made


def _model(net: Network[Any, Any], graph: Graph, y: str) -> "ModelProto":
    """The ONNX model of a built graph, its output renamed ``y``."""
    from onnx import TensorProto, checker, helper, numpy_helper

    nodes = list(graph.nodes)
    if nodes and nodes[-1].output == y:
        last = nodes.pop()
        nodes.append(_Node(last.op, last.inputs, "y", last.attributes))
    else:  # the last layers passed their input through (a final dropout)
        nodes.append(_Node("Identity", (y,), "y", {}))
    elem = TensorProto.DOUBLE if net.dtype == np.float64 else TensorProto.FLOAT
    first = net.layers[0]
    takes_ids = isinstance(first, Layer) and first.takes_ids
    # One graph input x, or one per name for a network over named inputs.
    inputs = first.named_inputs() if isinstance(first, Layer) else ()
    inputs = inputs or (("x", net.in_size, takes_ids),)

    def shape(size: int) -> list[str | int]:
        return ["batch", size] if graph.layout == "rows" else [size, "batch"]

    onnx_graph = helper.make_graph(
        [_onnx_node(n) for n in nodes],
        "typednet",
        [
            helper.make_tensor_value_info(name, TensorProto.INT64 if ids else elem, shape(size))
            for name, size, ids in inputs
        ],
        [helper.make_tensor_value_info("y", elem, shape(net.out_size))],
        [numpy_helper.from_array(value, name) for name, value in graph.constants.items()],
        doc_string=f"{net!r}, {net.dtype}, layout {graph.layout!r}",
    )
    model = helper.make_model(
        onnx_graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="typednet"
    )
    # The IR version of the opset, not the newest one: older runtimes can load it.
    model.ir_version = helper.find_min_ir_version_for([helper.make_opsetid("", OPSET)])
    try:
        # onnx annotates its path parameter as a bare os.PathLike: partially unknown.
        checker.check_model(model, full_check=True)  # pyright: ignore[reportUnknownMemberType]
    except checker.ValidationError as e:
        raise ValueError(f"to_onnx: the exported graph is not valid ONNX: {e}") from None
    return model


def to_onnx(
    net: Network[Any, Any],
    path: str | os.PathLike[str] | None = None,
    *,
    layout: Layout = "rows",
) -> "ModelProto":
    """Export ``net`` as an ONNX model (opset `OPSET`) and write it to ``path``.

    The model's input is ``x`` and its output ``y``, in the network's dtype (float32 or
    float64); a network over named inputs (`typednet.inputs`) has one input per name
    instead (int64 for ids). With ``layout="rows"`` (the ONNX convention) ``x`` has shape
    (batch, features) and ``y`` (batch, outputs); with ``layout="columns"`` they are
    typednet's (features, batch) and (outputs, batch). Dropout layers are the identity,
    as in `typednet.forward`. The file is replaced atomically.

    Args:
        net: the network; every layer kind must implement `typednet.Layer.to_onnx`.
        path: where to write the ``.onnx`` file; None only builds the model.
        layout: ``"rows"`` (default) or ``"columns"``.

    Returns:
        The model, already checked by ``onnx.checker.check_model``.

    Raises:
        ImportError: without the ``onnx`` package (``pip install 'typednet[onnx]'``).
        ValueError: a bad layout; a layer that cannot be exported (named by position
            and kind); params that hold NaN or inf.

    Examples:
        >>> import numpy as np
        >>> import typednet as tn
        >>> net = tn.network(tn.dense(np.random.default_rng(0), 2, 3, tn.relu)).then(tn.softmax)
        >>> model = tn.to_onnx(net)
        >>> [node.op_type for node in model.graph.node]
        ['Gemm', 'Relu', 'Softmax']
        >>> [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
        ['batch', 2]
    """
    if layout not in ("rows", "columns"):
        raise ValueError(f"to_onnx: layout must be 'rows' or 'columns', got {layout!r}")
    try:
        # Imported first, only for the error below.
        import onnx  # noqa: F401  # pyright: ignore[reportUnusedImport]
    except ImportError as e:
        raise ImportError("ONNX export needs onnx: pip install 'typednet[onnx]'") from e
    _check_exportable(net)
    model = _model(net, *_graph(net, layout))
    if path is not None:
        data = model.SerializeToString()
        write_atomically(path, lambda f: f.write(data))
    return model
