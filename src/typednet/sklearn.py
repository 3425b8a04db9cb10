"""scikit-learn estimators: `TypedNetRegressor` and `TypedNetClassifier`.

They take row-major ``X`` of shape (n_samples, n_features), NumPy or pandas, like every
scikit-learn estimator, and turn it into typednet's columns, shape (features, batch),
at the boundary. Inside, a typed `Network` is trained on mini-batches; after `fit` it is
the attribute ``net_``, ready for `typednet.forward`, `typednet.save` or plotting. They
work in `Pipeline`, `GridSearchCV`, `cross_val_score` and the rest, and pass
scikit-learn's own estimator checks, the sample-weight ones included: ``fit`` and
``partial_fit`` take ``sample_weight`` (one non-negative weight per sample), and the
classifier takes ``class_weight`` (``"balanced"`` or a dict).

Needs scikit-learn (``pip install 'typednet[sklearn]'``).

Examples:
    >>> import numpy as np
    >>> from typednet.sklearn import TypedNetClassifier
    >>> X = np.array([[0.0, 0.1], [0.2, 0.0], [1.0, 0.9], [0.9, 1.1]] * 10)
    >>> y = np.array(["low", "low", "high", "high"] * 10)
    >>> clf = TypedNetClassifier((8,), learning_rate=0.05, epochs=40, random_state=0)
    >>> clf.fit(X, y).predict([[0.1, 0.0], [1.0, 1.0]])
    array(['low', 'high'], dtype='<U4')
    >>> clf.net_
    Network 2 → 8 (relu) → 2 (softmax), 42 params
"""

# scikit-learn ships no type hints (mypy's ignore_missing_imports says the same): pyright
# reads its source, where its members are partially unknown and its parameters' types are
# guessed from their defaults (validate_data's X as str). The results are annotated where
# they land; the guessed parameters are ignored line by line.
# pyright: reportMissingTypeStubs=false, reportUnknownMemberType=false
# pyright: reportUnknownVariableType=false, reportUnknownArgumentType=false

import dataclasses
import numbers
from collections.abc import Callable, Generator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal, Self, TypeVar, cast

import numpy as np
import numpy.typing as npt

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state
    from sklearn.utils.class_weight import compute_class_weight
    from sklearn.utils.multiclass import check_classification_targets, unique_labels
    from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
except ImportError as error:
    raise ImportError(
        f"typednet.sklearn needs scikit-learn 1.6 or newer ({error}); "
        "pip install 'typednet[sklearn]'"
    ) from error

from . import _kernels, _validate, _weights
from . import activations as _activations
from . import init as _init
from . import optim as _optim
from .activations import Activation
from .forward import forward
from .init import Initializer, dense, dropout
from .layers import Dense, Layer
from .losses import Loss, cross_entropy, mse
from .network import Network
from .optim import Optimizer, OptState
from .regularization import Penalty, l1, l2
from .schedules import Schedule
from .shapes import Matrix, ShapeError
from .train import History, fit

__all__ = ["TypedNetClassifier", "TypedNetRegressor"]

_T = TypeVar("_T")

Rows = npt.NDArray[np.floating[Any]]
"""Row-major data as scikit-learn holds it: shape (n_samples, n_features)."""

Builder = Callable[[np.random.Generator, int, int], Network[Any, Any]]
"""An estimator's ``module=``: ``build(rng, n_features, n_outputs) -> Network`` from
``n_features`` inputs to ``n_outputs`` outputs, its weights drawn with ``rng``."""

_ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        _activations.identity,
        _activations.relu,
        _activations.leaky_relu(),
        _activations.elu(),
        _activations.selu,
        _activations.sigmoid,
        _activations.tanh,
        _activations.softsign,
        _activations.softplus,
    )
}

_INITIALIZERS: dict[str, Callable[[], Initializer]] = {
    make.__name__: make
    for make in (
        _init.glorot_uniform,
        _init.glorot_normal,
        _init.he_normal,
        _init.he_uniform,
        _init.lecun_normal,
    )
}

_OPTIMIZERS: dict[str, Callable[[float | Schedule], Optimizer]] = {
    make.__name__: make
    for make in (
        _optim.sgd,
        _optim.momentum,
        _optim.nesterov,
        _optim.adagrad,
        _optim.rmsprop,
        _optim.adadelta,
        _optim.adam,
        _optim.amsgrad,
        _optim.adamax,
        _optim.adamw,
    )
}


class _TypedNetEstimator(BaseEstimator):  # type: ignore[misc]  # sklearn has no type hints
    """What both estimators share: the hyper-parameters, the network and the training."""

    # The output layer's activation and the loss; set by each estimator.
    _output: Activation
    _loss: Loss
    # Set by fit (sklearn's convention: fitted attributes end in "_").
    net_: Network
    opt_state_: OptState
    history_: History
    _rng: np.random.Generator

    def __init__(
        self,
        hidden_sizes: Sequence[int] = (100,),
        *,
        activation: str | Activation = "relu",
        init: str | None = "glorot_uniform",
        optimizer: str = "adam",
        learning_rate: float | Schedule = 1e-3,
        epochs: int = 200,
        batch_size: int = 200,
        penalty: Literal["l1", "l2"] = "l2",
        alpha: float = 0.0,
        dropout: float = 0.0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        patience: int = 10,
        random_state: int | np.random.RandomState | None = None,
        dtype: type[np.floating[Any]] = np.float64,
        module: Builder | None = None,
        compiled: bool = False,
    ) -> None:
        self.hidden_sizes = hidden_sizes
        self.activation = activation
        self.init = init
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.penalty = penalty
        self.alpha = alpha
        self.dropout = dropout
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.random_state = random_state
        self.dtype = dtype
        self.module = module
        self.compiled = compiled

    # scikit-learn's own methods, typed.

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The hyper-parameters by name (scikit-learn's `BaseEstimator.get_params`)."""
        params: dict[str, Any] = super().get_params(deep=deep)
        return params

    def set_params(self, **params: object) -> Self:
        """Change hyper-parameters; they are checked by the next `fit`."""
        super().set_params(**params)
        return self

    # --- the estimator-specific parts ------------------------------------------------

    def _targets(self, y: object, *, first: bool, dtype: np.dtype[np.floating[Any]]) -> Matrix:
        """Target columns, shape (outputs, n), from the validated ``y``."""
        raise NotImplementedError

    def _weight_row(self, sample_weight: object, targets: Matrix, *, whole: bool) -> Matrix | None:
        """The weight of each sample, shape (1, n), in the targets' dtype, or None."""
        return _sample_weights(type(self).__name__, sample_weight, targets)

    # --- fitting ---------------------------------------------------------------------

    @contextmanager
    def _unchanged_on_error(self) -> Generator[None]:
        """A refused or failed call leaves the estimator exactly as it was: its
        attributes and its random stream (scikit-learn's rule: validate, then mutate;
        `validate_data` itself sets ``n_features_in_``, so what it sets is put back)."""
        before = dict(self.__dict__)
        stream = self._rng.bit_generator.state if hasattr(self, "_rng") else None
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            if stream is not None:
                self._rng.bit_generator.state = stream
            raise

    def _fit(
        self, X: object, y: object, *, first: bool, whole: bool, sample_weight: object = None
    ) -> Self:
        """Validate, build on the ``first`` call, then train from the stored network and
        optimizer state: ``epochs`` epochs with early stopping if asked for (a ``whole``
        `fit`), else one (`partial_fit`). Call it inside `_unchanged_on_error`."""
        settings = self._settings()  # every hyper-parameter, before anything changes
        epochs, stopping = (settings.epochs, settings.early_stopping) if whole else (1, False)
        dtype = settings.dtype if first else self.net_.dtype
        X_rows, y = validate_data(self, X, y, reset=first, dtype=dtype, **self._y_params())  # pyright: ignore[reportArgumentType]
        x = np.ascontiguousarray(X_rows.T)  # pyright: ignore[reportAttributeAccessIssue]  # samples are columns from here on
        targets = self._targets(y, first=first, dtype=dtype)
        weights = self._weight_row(sample_weight, targets, whole=whole)
        if first:
            self._rng = np.random.default_rng(settings.random_state.randint(np.iinfo(np.int32).max))
        validation: tuple[Matrix, Matrix] | tuple[Matrix, Matrix, Matrix] | None = None
        if stopping:
            x, targets, weights, validation = self._split(
                x, targets, weights, settings.validation_fraction
            )
        if first:
            self.net_ = self._build(x.shape[0], targets, weights, dtype, settings)
            self.opt_state_ = settings.optimizer.init(self.net_)
            self.history_ = History(train_loss=())
        _check_samples(type(self).__name__, self.net_, x.shape[1])
        self.net_, self.opt_state_, history = _train_from(
            self.net_,
            self.opt_state_,
            x,
            targets,
            loss=self._loss,
            optimizer=settings.optimizer,
            epochs=epochs,
            batch_size=settings.batch_size,
            rng=self._rng,
            penalty=settings.penalty,
            validation=validation,
            patience=settings.patience if stopping else None,
            sample_weight=weights,
            compiled=settings.compiled,
        )
        self.history_ = _joined(self.history_, history)
        return self

    def _y_params(self) -> dict[str, object]:
        """How `validate_data` should check ``y``."""
        return {}

    def _settings(self) -> "_Settings":
        """Every hyper-parameter checked, each of the wrong kind a ValueError naming it."""
        where = type(self).__name__
        return _Settings(
            hidden_sizes=_sizes(where, self.hidden_sizes),
            activation=_activation(where, self.activation),
            init=_initializer(where, self.init),
            optimizer=_named(where, "optimizer", self.optimizer, _OPTIMIZERS)(self.learning_rate),
            epochs=_validate.positive_int(where, "epochs", self.epochs),
            batch_size=_validate.positive_int(where, "batch_size", self.batch_size),
            penalty=_penalty(where, self.penalty, self.alpha),
            dropout=_validate.fraction(where, "dropout", self.dropout),
            early_stopping=_flag(where, "early_stopping", self.early_stopping),
            validation_fraction=_open_fraction(
                where, "validation_fraction", self.validation_fraction
            ),
            patience=_validate.positive_int(where, "patience", self.patience),
            random_state=_random_state(where, self.random_state),
            dtype=_dtype(where, self.dtype),
            module=_builder(where, self.module),
            compiled=_flag(where, "compiled", self.compiled),
        )

    def _build(
        self,
        n_in: int,
        targets: Matrix,
        weights: Matrix | None,
        dtype: np.dtype[np.floating[Any]],
        settings: "_Settings",
    ) -> Network:
        """A new network: weights from `init` (by default, typednet's choice for each
        layer's activation), hidden biases zero, output biases from `_output_bias`, and
        a `Dropout` after each hidden layer when `dropout` is set; or, with ``module=``,
        the builder's network, checked."""
        if settings.module is not None:
            return self._built(settings.module, n_in, targets.shape[0], dtype)
        sizes, init = settings.hidden_sizes, settings.init
        ins = [n_in, *sizes]
        hidden: list[Layer[int, int]] = [
            dense(self._rng, a, b, settings.activation, init=init, dtype=dtype)
            for a, b in zip(ins, sizes, strict=False)
        ]
        if settings.dropout != 0:
            rate = dropout(settings.dropout)
            hidden = [layer for h in hidden for layer in (h, rate)]
        last = dense(self._rng, ins[-1], targets.shape[0], self._output, init=init, dtype=dtype)
        bias = self._output_bias(targets, weights).astype(dtype)
        return Network((*hidden, Dense(w=last.w, b=bias, activation=last.activation)))

    def _built(
        self, build: Builder, n_in: int, n_out: int, dtype: np.dtype[np.floating[Any]]
    ) -> Network:
        """``build(rng, n_in, n_out)``, refused unless it is a network from ``n_in``
        features to ``n_out`` outputs in ``dtype`` that the estimator's loss can train."""
        where = f"{type(self).__name__}: module={_name(build)}"
        net: object = build(self._rng, n_in, n_out)
        if not isinstance(net, Network):
            raise TypeError(f"{where} must return a typednet Network, got {type(net).__name__}")
        built = net
        got = (built.out_size, built.in_size)
        if got != (n_out, n_in):
            hint = "; did you swap n_features and n_outputs?" if got == (n_in, n_out) else ""
            raise ShapeError(
                f"{where} returned a network from {built.in_size} features to "
                f"{built.out_size} outputs: expected (next, prev) = ({n_out}, {n_in}), "
                f"the data's outputs and features, got {got}{hint}"
            )
        if built.dtype != dtype:
            raise ShapeError(
                f"{where} returned {built.dtype} params but the estimator's dtype is "
                f"{dtype}; build with dtype=np.{dtype} or set dtype=np.{built.dtype}"
            )
        self._check_output(where, built)
        return built

    def _check_output(self, where: str, net: Network) -> None:
        """Raise ValueError when a built network's output cannot be trained here."""

    def _output_bias(self, targets: Matrix, weights: Matrix | None) -> Matrix:
        """The output layer's starting bias, shape (outputs, 1): zero."""
        return np.zeros((targets.shape[0], 1))

    def _split(
        self, x: Matrix, targets: Matrix, weights: Matrix | None, fraction: float
    ) -> tuple[
        Matrix, Matrix, Matrix | None, tuple[Matrix, Matrix] | tuple[Matrix, Matrix, Matrix]
    ]:
        """``(x_train, y_train, w_train, validation)``: a random ``fraction`` held out,
        with its weights when there are some, each class keeping its share of it in the
        classifier (as `MLPClassifier` does)."""
        arrays = (x.T, targets.T) if weights is None else (x.T, targets.T, weights.T)
        strata = self._strata(targets)
        try:
            parts = train_test_split(
                *arrays,
                test_size=fraction,
                random_state=self._rng.integers(2**31),
                stratify=strata,
            )
        except ValueError as e:
            if strata is None:
                raise
            raise ValueError(
                f"{type(self).__name__}: early_stopping holds out validation_fraction="
                f"{fraction} of each class, which this y cannot give: {e}"
            ) from None
        train = tuple(np.ascontiguousarray(p.T) for p in parts[::2])  # pyright: ignore[reportAttributeAccessIssue]
        held = tuple(np.ascontiguousarray(p.T) for p in parts[1::2])  # pyright: ignore[reportAttributeAccessIssue]
        if weights is None:
            return train[0], train[1], None, (held[0], held[1])
        if not held[2].any():
            raise ValueError(
                f"{type(self).__name__}: the sample weights of the validation set are all "
                "zero; use another random_state or a larger validation_fraction"
            )
        return train[0], train[1], train[2], (held[0], held[1], held[2])

    def _strata(self, targets: Matrix) -> npt.NDArray[np.intp] | None:
        """The group of each column that the validation split keeps in proportion: none."""
        return None

    # --- predicting ------------------------------------------------------------------

    def _forward(self, X: object) -> Rows:
        """The network's outputs for row-major ``X``, as rows: shape (n_samples, outputs)."""
        check_is_fitted(self)
        X_rows = validate_data(self, X, reset=False, dtype=self.net_.dtype)  # pyright: ignore[reportArgumentType]
        outputs: Rows = forward(self.net_, np.ascontiguousarray(X_rows.T)).T  # pyright: ignore[reportAttributeAccessIssue]
        return outputs

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags


class TypedNetRegressor(RegressorMixin, _TypedNetEstimator):  # type: ignore[misc]
    """A multi-layer perceptron regressor: a typednet `Network` with an identity output,
    trained on the mean squared error.

    Args:
        hidden_sizes: the hidden layers' sizes, e.g. ``(64, 32)``.
        activation: the hidden layers' activation: a name (``"relu"``, ``"tanh"``,
            ``"sigmoid"``, ``"leaky_relu"``, ``"elu"``, ``"selu"``, ...) or a typednet
            `Activation` such as ``tn.leaky_relu(0.1)``.
        init: every layer's weight initializer, by name: ``"glorot_uniform"`` (the
            default, as in scikit-learn's MLPs; with relu it measured better than He
            normal in ``benchmarks/sklearn_quality.py``), ``"glorot_normal"``,
            ``"he_normal"``, ``"he_uniform"``, ``"lecun_normal"``; or None to pick by
            activation as `typednet.dense` does (He normal for the ReLU family).
        optimizer: ``"adam"``, ``"adamw"`` (weight decay 0.01), ``"sgd"``,
            ``"momentum"``, ``"nesterov"``, ``"rmsprop"``, ``"adagrad"``, ``"adadelta"``,
            ``"amsgrad"`` or ``"adamax"``.
        learning_rate: the optimizer's learning rate: a number, or a schedule from
            `typednet.schedules` (a function of the step, which continues across
            `partial_fit` calls).
        epochs: passes over the data in `fit` (at most, with early stopping).
        batch_size: samples per step (the last batch of an epoch may be smaller).
        penalty: ``"l2"`` or ``"l1"`` on the weights, with strength ``alpha``.
        alpha: the penalty's strength; 0 (the default) trains without one.
        dropout: the rate of a `Dropout` layer after each hidden layer, in [0, 1); 0
            (the default) adds none. Dropout acts in training only.
        early_stopping: hold out ``validation_fraction`` of the training data and stop
            after ``patience`` epochs without a lower validation loss, keeping the best.
            The classifier holds out that share of each class (a stratified split, as
            `MLPClassifier` does), so each class needs at least 2 samples.
        validation_fraction: the held-out share, in (0, 1), with early stopping.
        patience: epochs without improvement before stopping, with early stopping.
        random_state: seeds the initial weights, the shuffles and the validation split.
        dtype: ``np.float64`` (default) or ``np.float32``: the network's dtype.
        module: None (the default: a chain built from ``hidden_sizes``), or a function
            ``build(rng, n_features, n_outputs) -> Network`` that `fit` calls for a new
            network (a residual, parallel or batch-norm network, say), drawing its
            weights from ``rng`` (seeded by ``random_state``); ``hidden_sizes``,
            ``activation``, ``init`` and ``dropout`` are then unused. Its network must
            take ``n_features`` inputs to ``n_outputs`` outputs in ``dtype`` (else a
            `ShapeError` naming the builder); the classifier's must end in a softmax.
            Give a module-level function, so that the estimator pickles.
        compiled: train with `typednet.fit`'s compiled loop (``compiled=True``; numba and
            scipy: ``pip install 'typednet[fast]'``), several times faster at small
            batches; float64 agrees with the default to 1e-12. It trains the chains
            these estimators build without dropout, penalty (``alpha=0``) or weights;
            anything else is a ValueError from `fit`, the estimator left as it was.

    Attributes:
        net_: the trained `Network`, typed ``Network[int, int]``.
        history_: the `History` of the training (one entry per epoch, across calls to
            `partial_fit`).
        opt_state_: the optimizer's state, from which `partial_fit` continues.
        n_features_in_: the number of features seen in `fit`.
        feature_names_in_: the column names, when ``X`` was a DataFrame with string
            column names.
        n_outputs_: the number of targets.

    Examples:
        >>> import numpy as np
        >>> from typednet.sklearn import TypedNetRegressor
        >>> X = np.linspace(-1, 1, 64).reshape(-1, 1)
        >>> reg = TypedNetRegressor((16,), activation="tanh", learning_rate=0.02,
        ...                         epochs=300, batch_size=16, random_state=0)
        >>> np.round(reg.fit(X, 2 * X.ravel() + 1).predict([[0.0], [0.5]]), 1)
        array([1., 2.])
    """

    _output = _activations.identity
    _loss = mse

    def fit(self, X: object, y: object, sample_weight: object = None) -> Self:
        """Train a new network from scratch for ``epochs`` epochs.

        Args:
            X: training samples as rows, shape (n_samples, n_features).
            y: targets, shape (n_samples,) or (n_samples, n_outputs).
            sample_weight: optional weights, shape (n_samples,): non-negative, finite,
                not all zero. Each step minimises its batch's weighted mean loss
                ``sum(w_i l_i) / sum(w_i)`` (see `typednet.fit`); with
                ``batch_size >= n_samples``, integer weights train exactly as
                repeated samples. The output bias starts at the weighted mean target.

        Returns:
            self, fitted. A call that raises leaves the estimator as it was.
        """
        with self._unchanged_on_error():
            return self._fit(X, y, first=True, whole=True, sample_weight=sample_weight)

    def partial_fit(self, X: object, y: object, sample_weight: object = None) -> Self:
        """One more epoch over ``X``, continuing from the current network and optimizer
        state (a new network on the first call).

        The epoch steps through the rows of ``X``, shuffled by the estimator's random
        stream, ``batch_size`` at a time, without early stopping; the params, the
        optimizer state (step count, moments, a schedule's position) and the stream
        carry on to the next call. So ``partial_fit(X1, y1)`` then
        ``partial_fit(X2, y2)`` takes the steps of an epoch over X1 then one over X2.

        Args:
            X: samples as rows, shape (n_samples, n_features).
            y: targets, shape (n_samples,) or (n_samples, n_outputs).
            sample_weight: optional weights, shape (n_samples,), as in `fit`.

        Returns:
            self. A call that raises leaves the estimator as it was.
        """
        with self._unchanged_on_error():
            first = not hasattr(self, "net_")
            return self._fit(X, y, first=first, whole=False, sample_weight=sample_weight)

    def predict(self, X: object) -> Rows:
        """Predicted targets, shape (n_samples,), or (n_samples, n_outputs) when ``y``
        had several columns in `fit`."""
        outputs = self._forward(X)
        return outputs.ravel() if self._single_output else outputs

    def score(self, X: object, y: object, sample_weight: object = None) -> float:
        """The coefficient of determination R² of `predict` on ``X`` against ``y``."""
        return float(super().score(X, y, sample_weight=sample_weight))

    def _y_params(self) -> dict[str, object]:
        return {"multi_output": True, "y_numeric": True}

    def _output_bias(self, targets: Matrix, weights: Matrix | None) -> Matrix:
        """The targets' (weighted) mean: the network starts out predicting it, whatever
        the offset of ``y`` (as the wine recipe centres its target)."""
        if weights is not None:
            return np.asarray(targets @ weights.T / weights.sum(dtype=np.float64))
        mean: Matrix = targets.mean(axis=1, keepdims=True)
        return mean

    def _targets(self, y: object, *, first: bool, dtype: np.dtype[np.floating[Any]]) -> Matrix:
        values = np.asarray(y, dtype=dtype)
        outputs = 1 if values.ndim == 1 else values.shape[1]
        if first:
            self._single_output = values.ndim == 1
            self.n_outputs_ = outputs
        elif outputs != self.n_outputs_:
            raise ShapeError(
                f"{type(self).__name__}.partial_fit target y: expected {self.n_outputs_} "
                f"output(s) per sample as in the earlier calls, got shape {values.shape}; "
                "fit starts afresh with new outputs"
            )
        columns: Matrix = np.ascontiguousarray(values.reshape(len(values), -1).T)
        return columns

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class TypedNetClassifier(ClassifierMixin, _TypedNetEstimator):  # type: ignore[misc]
    """A multi-layer perceptron classifier: a typednet `Network` with a softmax output
    over the classes, trained on the cross-entropy of one-hot targets.

    The labels may be of any type (ints, strings, ...): ``classes_`` holds them sorted,
    and output ``k`` of the network is the probability of ``classes_[k]``.

    Args:
        hidden_sizes, activation, init, optimizer, learning_rate, epochs, batch_size,
            penalty, alpha, dropout, early_stopping, validation_fraction, patience,
            random_state, dtype, module: as in `TypedNetRegressor`.
        class_weight: None (every class weighs 1), a dict ``{label: weight}`` (a
            missing label weighs 1), or ``"balanced"``: each class weighs
            ``n_samples / (n_classes * n_samples_of_class)``, as scikit-learn's
            `compute_class_weight`, counting samples by their ``sample_weight`` when
            one is given (as scikit-learn's LogisticRegression does). Each sample's
            weight in the loss is its ``sample_weight`` times its class's weight.
            ``"balanced"`` needs the whole training set: `partial_fit` refuses it.

    Attributes:
        net_: the trained `Network`, typed ``Network[int, int]``; softmax output.
        classes_: the class labels, sorted.
        history_, opt_state_, n_features_in_, feature_names_in_: as in
            `TypedNetRegressor`.
    """

    _output = _activations.softmax
    _loss = cross_entropy

    # scikit-learn reads the hyper-parameters from __init__'s signature: the shared ones
    # are repeated here with the classifier's own, class_weight.
    def __init__(
        self,
        hidden_sizes: Sequence[int] = (100,),
        *,
        activation: str | Activation = "relu",
        init: str | None = "glorot_uniform",
        optimizer: str = "adam",
        learning_rate: float | Schedule = 1e-3,
        epochs: int = 200,
        batch_size: int = 200,
        penalty: Literal["l1", "l2"] = "l2",
        alpha: float = 0.0,
        dropout: float = 0.0,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        patience: int = 10,
        random_state: int | np.random.RandomState | None = None,
        dtype: type[np.floating[Any]] = np.float64,
        module: Builder | None = None,
        compiled: bool = False,
        class_weight: Literal["balanced"] | Mapping[Any, float] | None = None,
    ) -> None:
        super().__init__(
            hidden_sizes,
            activation=activation,
            init=init,
            optimizer=optimizer,
            learning_rate=learning_rate,
            epochs=epochs,
            batch_size=batch_size,
            penalty=penalty,
            alpha=alpha,
            dropout=dropout,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            patience=patience,
            random_state=random_state,
            dtype=dtype,
            module=module,
            compiled=compiled,
        )
        self.class_weight = class_weight

    def fit(self, X: object, y: object, sample_weight: object = None) -> Self:
        """Train a new network from scratch for ``epochs`` epochs.

        Args:
            X: training samples as rows, shape (n_samples, n_features).
            y: class labels, shape (n_samples,); at least two classes (with a weight
                > 0).
            sample_weight: optional weights, shape (n_samples,): non-negative, finite,
                not all zero, multiplied by ``class_weight``'s. Each step minimises its
                batch's weighted mean cross-entropy ``sum(w_i l_i) / sum(w_i)`` (see
                `typednet.fit`); with ``batch_size >= n_samples``, integer weights
                train exactly as repeated samples.

        Returns:
            self, fitted. A call that raises leaves the estimator as it was.
        """
        with self._unchanged_on_error():
            if hasattr(self, "classes_"):
                del self.classes_
            return self._fit(X, y, first=True, whole=True, sample_weight=sample_weight)

    def partial_fit(
        self, X: object, y: object, classes: object = None, sample_weight: object = None
    ) -> Self:
        """One more epoch over ``X``, continuing from the current network and optimizer
        state (a new network on the first call), as `TypedNetRegressor.partial_fit`.

        Args:
            X: samples as rows, shape (n_samples, n_features).
            y: class labels, shape (n_samples,); each one of the first call's classes.
            classes: every class label; required on the first call, since one batch
                may not show them all.
            sample_weight: optional weights, shape (n_samples,), as in `fit`.

        Returns:
            self. A call that raises leaves the estimator as it was.
        """
        first = not hasattr(self, "net_")
        with self._unchanged_on_error():
            if first:
                if classes is None:
                    raise ValueError("classes must be passed on the first call to partial_fit")
                self.classes_ = unique_labels(classes)
            elif classes is not None and not np.array_equal(self.classes_, unique_labels(classes)):
                raise ValueError(
                    f"classes={classes!r} differs from the classes of the earlier calls, "
                    f"{self.classes_!r}"
                )
            return self._fit(X, y, first=first, whole=False, sample_weight=sample_weight)

    def score(self, X: object, y: object, sample_weight: object = None) -> float:
        """The accuracy of `predict` on ``X`` against the labels ``y``."""
        return float(super().score(X, y, sample_weight=sample_weight))

    def predict_proba(self, X: object) -> Rows:
        """Class probabilities, shape (n_samples, n_classes), in the order of ``classes_``."""
        return self._forward(X)

    def predict_log_proba(self, X: object) -> Rows:
        """The log of the class probabilities, shape (n_samples, n_classes), in the order
        of ``classes_``.

        Computed from the logits (the output layer's ``pre``) as a log-softmax,
        ``z - max(z) - log(sum(exp(z - max(z))))``, never as ``log(predict_proba(X))``:
        a class whose probability rounds to 0 gets its true log, say -700, not -inf.
        """
        check_is_fitted(self)
        X_rows = validate_data(self, X, reset=False, dtype=self.net_.dtype)  # pyright: ignore[reportArgumentType]
        z = _logits(self.net_, np.ascontiguousarray(X_rows.T))  # pyright: ignore[reportAttributeAccessIssue]
        shifted = z - z.max(axis=0, keepdims=True)
        shifted -= np.log(np.exp(shifted).sum(axis=0, keepdims=True))
        rows: Rows = shifted.T
        return rows

    def predict(self, X: object) -> npt.NDArray[Any]:
        """The most probable class of each sample, shape (n_samples,)."""
        codes = np.argmax(self.predict_proba(X), axis=1)
        labels: npt.NDArray[Any] = self.classes_[codes]
        return labels

    def _strata(self, targets: Matrix) -> npt.NDArray[np.intp]:
        """Each column's class: the validation split holds out each class's share."""
        codes: npt.NDArray[np.intp] = np.argmax(targets, axis=0)
        counts = np.bincount(codes, minlength=len(self.classes_))
        if counts.min() < 2:
            rare = int(np.argmin(counts))
            raise ValueError(
                f"{type(self).__name__}: early_stopping holds out a share of each class for "
                f"validation, so each class needs at least 2 samples, but class "
                f"{self.classes_.tolist()[rare]!r} has {counts[rare]}"
            )
        return codes

    def _check_output(self, where: str, net: Network) -> None:
        """The classifier trains on the cross-entropy of probabilities, and
        `predict_log_proba` reads the logits before a softmax: the network ends in one."""
        if _final_activation(net) != "softmax":
            raise ValueError(
                f"{where} returned a network whose output is not a softmax ({net!r}); "
                "a classifier's last layer needs activation=tn.softmax"
            )

    def _targets(self, y: object, *, first: bool, dtype: np.dtype[np.floating[Any]]) -> Matrix:
        labels = column_or_1d(y, warn=True)
        check_classification_targets(labels)
        if not hasattr(self, "classes_"):
            self.classes_ = unique_labels(labels)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes, but the data "
                f"has 1 class: {self.classes_.tolist()[0]!r}"
            )
        unknown = np.setdiff1d(labels, self.classes_)
        if unknown.size:
            shown = ", ".join(repr(label) for label in unknown.tolist()[:3])
            raise ValueError(
                f"{type(self).__name__}: y holds {unknown.size} label(s) not in classes_ "
                f"({shown}{', ...' if unknown.size > 3 else ''}); partial_fit learns only "
                "the classes passed on its first call: pass them all there"
            )
        codes = np.searchsorted(self.classes_, labels)
        one_hot: Matrix = np.ascontiguousarray(np.eye(len(self.classes_), dtype=dtype)[codes].T)
        return one_hot

    def _weight_row(self, sample_weight: object, targets: Matrix, *, whole: bool) -> Matrix | None:
        """Each sample's ``sample_weight`` times its class's weight, shape (1, n), or
        None when neither is given; at least two classes must keep a weight > 0."""
        where = type(self).__name__
        w = _sample_weights(where, sample_weight, targets)
        if self.class_weight is not None:
            w = self._times_class_weights(w, targets, whole=whole)
        if whole and w is not None:
            self._check_weighted_classes(targets, w)
        return w

    def _times_class_weights(self, w: Matrix | None, targets: Matrix, *, whole: bool) -> Matrix:
        """``w`` (or ones) times each sample's class weight, shape (1, n)."""
        where = type(self).__name__
        if self.class_weight == "balanced" and not whole:
            raise ValueError(
                f"{where}: class_weight 'balanced' needs the whole training set, which "
                "partial_fit does not see; pass a dict of weights, e.g. from "
                "sklearn.utils.class_weight.compute_class_weight('balanced', "
                "classes=classes, y=y) on a large enough sample of the targets"
            )
        if not (self.class_weight == "balanced" or isinstance(self.class_weight, Mapping)):
            raise ValueError(
                f"{where}: class_weight must be None, 'balanced' or a dict of weights "
                f"by label, got {self.class_weight!r}"
            )
        codes = targets.argmax(axis=0)
        per_class = _class_weights(self.class_weight, self.classes_, codes, w)
        _validate.check_finite(per_class, f"{where}: class_weight")
        if per_class.min() < 0:
            raise ValueError(f"{where}: class_weight must be >= 0 for every class")
        weighted: Matrix = per_class[codes].reshape(1, -1).astype(targets.dtype)
        if w is not None:
            weighted *= w
        if not weighted.any():
            raise ValueError(
                f"{where}: every sample weighs zero (class_weight times sample_weight); "
                "at least one sample needs a weight > 0"
            )
        return weighted

    def _check_weighted_classes(self, targets: Matrix, weights: Matrix) -> None:
        """At least two classes with some weight: else training learns one class."""
        kept = np.flatnonzero(targets @ weights.T)
        if kept.size < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes with a weight "
                f"> 0, but only class {self.classes_.tolist()[int(kept[0])]!r} has any"
            )


def _check_samples(where: str, net: Network, n: int) -> None:
    """ValueError, in scikit-learn's words, when a layer needs more samples per batch in
    training than the data has (a BatchNorm's variance needs 2)."""
    for i, layer in enumerate(net.layers, 1):
        if isinstance(layer, Layer) and n < layer.min_batch:
            raise ValueError(
                f"{where}: layer {i} ({layer.label()}) needs at least {layer.min_batch} "
                f"samples per batch in training, but X has n_samples={n}"
            )


def _final_activation(net: Network) -> str | None:
    """The name of the activation that gives the network's output, if one does."""
    last = net.layers[-1]
    activation = last if isinstance(last, Activation) else last.output_activation
    return None if activation is None else activation.name


def _logits(net: Network, x: Matrix) -> Matrix:
    """The input of the network's final softmax, shape (classes, batch): the last
    layer's ``pre`` (a Dense layer's ``w @ h + b``; a bare activation's input)."""
    *body, last = net.layers
    h = _kernels.apply_layers(body, x)
    if isinstance(last, Activation):
        return h
    pre, _ = last.trace(h, None)
    return pre


# --- training, continuing from a state ---------------------------------------------------


def _train_from(
    net: Network,
    state: OptState,
    x: Matrix,
    y: Matrix,
    *,
    loss: Loss,
    optimizer: Optimizer,
    epochs: int,
    batch_size: int,
    rng: np.random.Generator,
    penalty: Penalty | None,
    validation: tuple[Matrix, Matrix] | tuple[Matrix, Matrix, Matrix] | None,
    patience: int | None,
    sample_weight: Matrix | None,
    compiled: bool,
) -> tuple[Network, OptState, History]:
    """`typednet.fit` from the stored optimizer state; the network, the state that goes
    with it (the best epoch's, with early stopping) and the history."""
    net, history = fit(
        net,
        x,
        y,
        loss=loss,
        optimizer=optimizer,
        epochs=epochs,
        batch_size=batch_size,
        rng=rng,
        penalty=penalty,
        validation=validation,
        patience=patience,
        progress=False,
        state=state,
        sample_weight=sample_weight,
        compiled=compiled,
    )
    assert history.state is not None  # fit always returns the final state
    return net, history.state, history


# --- sample and class weights ------------------------------------------------------------


def _sample_weights(where: str, sample_weight: object, targets: Matrix) -> Matrix | None:
    """``sample_weight`` (a list, a pandas Series, an array) as a checked (1, n) row in
    the targets' dtype, or None; a wrong shape is a ValueError, as scikit-learn's."""
    if sample_weight is None:
        return None
    n = targets.shape[1]
    w = np.asarray(sample_weight)
    if w.shape != (n,):
        raise ValueError(
            f"{where}: sample_weight must have shape (n_samples,) = ({n},), one weight "
            f"per sample, got shape {w.shape}"
        )
    return _weights.check(w, n, targets.dtype, where, of="X's rows")


def _class_weights(
    class_weight: object, classes: npt.NDArray[Any], codes: npt.NDArray[np.intp], w: Matrix | None
) -> npt.NDArray[np.float64]:
    """One weight per class, in the order of ``classes``: scikit-learn's
    `compute_class_weight`; for ``"balanced"`` with sample weights, its weighted form
    (the classes' total weights in place of their counts, as scikit-learn 1.7 and later
    compute it), written out so that scikit-learn 1.6 gives the same."""
    if class_weight == "balanced" and w is not None:
        totals = np.bincount(codes, weights=w.ravel().astype(np.float64), minlength=len(classes))
        balanced = np.zeros(len(classes))
        np.divide(totals.sum(), len(classes) * totals, out=balanced, where=totals > 0)
        return balanced
    per_class: npt.NDArray[np.float64] = np.asarray(
        compute_class_weight(class_weight, classes=classes, y=classes[codes]), dtype=np.float64
    )
    return per_class


# --- the hyper-parameters, checked -----------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class _Settings:
    """An estimator's hyper-parameters, checked, as `fit` uses them."""

    hidden_sizes: tuple[int, ...]
    activation: Activation
    init: Initializer | None
    optimizer: Optimizer
    epochs: int
    batch_size: int
    penalty: Penalty | None
    dropout: float
    early_stopping: bool
    validation_fraction: float
    patience: int
    random_state: np.random.RandomState
    dtype: np.dtype[np.floating[Any]]
    module: "Builder | None"
    compiled: bool


def _sizes(where: str, value: object) -> tuple[int, ...]:
    """An int, or a sequence of ints, each >= 1."""
    sizes = (value,) if isinstance(value, numbers.Integral) else value
    if isinstance(sizes, Sequence) and not isinstance(sizes, str):
        items = cast("Sequence[object]", sizes)
        ints = tuple(
            int(s) for s in items if isinstance(s, numbers.Integral) and not isinstance(s, bool)
        )
        if len(ints) == len(items) and all(s >= 1 for s in ints):
            return ints
    raise ValueError(
        f"{where}: hidden_sizes must be a sequence of positive ints such as (64, 32), got {value!r}"
    )


def _named(where: str, name: str, value: object, known: Mapping[str, _T], also: str = "") -> _T:
    """``known[value]`` for a known name, else a ValueError listing the names."""
    if isinstance(value, str) and value in known:
        return known[value]
    raise ValueError(f"{where}: {name} must be {also}one of {sorted(known)}, got {value!r}")


def _activation(where: str, value: object) -> Activation:
    if isinstance(value, Activation):
        return value
    return _named(where, "activation", value, _ACTIVATIONS, "a typednet Activation or ")


def _initializer(where: str, value: object) -> Initializer | None:
    if value is None:
        return None
    return _named(where, "init", value, _INITIALIZERS, "None or ")()


def _penalty(where: str, kind: object, alpha: object) -> Penalty | None:
    strength = _validate.non_negative(where, "alpha", alpha)
    make = _named(where, "penalty", kind, {"l1": l1, "l2": l2})
    return make(strength) if strength != 0 else None


def _builder(where: str, value: object) -> Builder | None:
    """None, or a callable ``build(rng, n_features, n_outputs) -> Network``."""
    if value is None or callable(value):
        return cast("Builder | None", value)
    raise ValueError(
        f"{where}: module must be None or a function (rng, n_features, n_outputs) -> "
        f"Network, got {value!r}"
    )


def _name(build: object) -> str:
    """A builder's name for messages: its __qualname__, else its repr."""
    return str(getattr(build, "__qualname__", None) or repr(build))


def _open_fraction(where: str, name: str, value: object) -> float:
    return _validate.number(where, name, value, lambda f: 0.0 < f < 1.0, "a number in (0, 1)")


def _flag(where: str, name: str, value: object) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{where}: {name} must be True or False, got {value!r}")
    return bool(value)


def _random_state(where: str, value: object) -> np.random.RandomState:
    """scikit-learn's kinds of seed: None, an int or a RandomState (not a Generator)."""
    if (
        value is None
        or isinstance(value, np.random.RandomState)
        or (isinstance(value, numbers.Integral) and not isinstance(value, bool))
    ):
        state: np.random.RandomState = check_random_state(value)
        return state
    raise ValueError(
        f"{where}: random_state must be None, an int or a np.random.RandomState, got {value!r}"
    )


def _dtype(where: str, value: object) -> np.dtype[np.floating[Any]]:
    """np.float32 or np.float64 (or a name of one); None is not float64 here."""
    try:
        name = None if value is None else np.dtype(cast("npt.DTypeLike", value)).name
    except TypeError:
        name = None
    if name not in ("float32", "float64"):
        raise ValueError(f"{where}: dtype must be np.float32 or np.float64, got {value!r}")
    return np.dtype(np.float32 if name == "float32" else np.float64)


def _joined(before: History, after: History) -> History:
    """One history for successive calls: the epochs of ``before``, then of ``after``."""
    if not before.train_loss:
        return after
    return dataclasses.replace(
        after,
        train_loss=before.train_loss + after.train_loss,
        val_loss=before.val_loss + after.val_loss,
        best_epoch=None if after.best_epoch is None else before.epochs + after.best_epoch,
    )
