"""Experiment tracking: `fit` callbacks that log a run to MLflow or to TensorBoard.

Each tracker logs the run's settings (those you pass, and the network's architecture,
parameter count and dtype) when the first epoch ends, every epoch's losses and metrics
(step = the epoch, counted across resumed `fit` calls), and at the end the network
saved with `typednet.save` (the last epoch's, or the one you pass to `log_network`):

    with tn.tracking.mlflow_callback({"learning_rate": 0.1}) as track:
        net, history = tn.fit(net, x, y, ..., callbacks=[track])
        track.log_network(net)  # the network fit returned (early stopping: the best)

The trackers are optional extras, imported when a tracker is made:
``pip install 'typednet[mlflow]'`` for MLflow, ``pip install 'typednet[tensorboard]'``
for TensorBoard event files (through tensorboardX, without TensorFlow or PyTorch).
"""

import abc
import os
import tempfile
import time
import types
from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from .io import save
from .network import Network
from .train import Epoch

__all__ = [
    "Tracker",
    "mlflow_callback",
    "MlflowTracker",
    "tensorboard_callback",
    "TensorBoardTracker",
]

_T = TypeVar("_T", bound="Tracker")  # not Self: beartype's audit hook refuses it here

_NETWORK = "network.npz"
"""The saved network's file name among the run's artifacts."""


class Tracker(abc.ABC):
    """A `fit` callback that logs a run; a context manager that ends it.

    Call `close` (or leave the ``with`` block) when training is done: it logs the
    network, if `log_network` was not called, and ends the run (as failed if the block
    raised). A tracker logs one run; make a new one for the next.
    """

    def __init__(self, settings: Mapping[str, object]) -> None:
        self._settings = {str(key): value for key, value in settings.items()}
        self._step = 0
        self._last = list[Network[Any, Any]]()  # the last epoch's network, once one ended
        self._logged = False
        self._closed = False

    def __call__(self, epoch: Epoch[Any, Any]) -> None:
        """Log one epoch (fit calls this); the settings with the first."""
        self._check_open()
        if self._step == 0:
            net = epoch.net
            settings = {
                **self._settings,
                "network": repr(net),
                "param_count": net.param_count,
                "dtype": net.dtype.name,
            }
            self._log_settings({key: str(value) for key, value in settings.items()})
        self._step += 1
        values = {
            "train_loss": epoch.train_loss,
            "val_loss": epoch.val_loss,
            "train_metric": epoch.train_metric,
            "val_metric": epoch.val_metric,
        }
        self._log_metrics(self._step, {k: v for k, v in values.items() if v is not None})
        self._last[:] = [epoch.net]

    def log_network(self, net: Network[Any, Any]) -> None:
        """Save ``net`` with `typednet.save` and log the file (``network.npz``)."""
        self._check_open()
        self._log_network(net)
        self._logged = True

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"{type(self).__name__}: this run is closed; make a new tracker")

    def close(self, *, failed: bool = False) -> None:
        """Log the last epoch's network unless one was logged, and end the run."""
        if self._closed:
            return
        if not failed and not self._logged and self._last:
            self.log_network(self._last[0])
        self._closed = True
        self._end(failed)

    def __enter__(self: _T) -> _T:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: types.TracebackType | None,
    ) -> None:
        self.close(failed=kind is not None)

    @abc.abstractmethod
    def _log_settings(self, settings: dict[str, str]) -> None: ...

    @abc.abstractmethod
    def _log_metrics(self, step: int, values: dict[str, float]) -> None: ...

    @abc.abstractmethod
    def _log_network(self, net: Network[Any, Any]) -> None: ...

    @abc.abstractmethod
    def _end(self, failed: bool) -> None: ...


# --- MLflow ------------------------------------------------------------------------------


class _MlflowClient(Protocol):
    """The part of ``mlflow.MlflowClient`` the tracker uses."""

    def log_batch(
        self, run_id: str, metrics: Any = ..., params: Any = ..., tags: Any = ...
    ) -> object: ...
    def log_artifact(
        self, run_id: str, local_path: str, artifact_path: str | None = ...
    ) -> None: ...
    def set_terminated(self, run_id: str, status: str | None = ...) -> None: ...


class MlflowTracker(Tracker):
    """A `Tracker` logging to an MLflow run (made by `mlflow_callback`)."""

    def __init__(
        self,
        settings: Mapping[str, object],
        tracking_uri: str | None,
        experiment: str | None,
        run_name: str | None,
        artifact_location: str | None,
    ) -> None:
        try:
            import mlflow
            from mlflow.entities import Metric, Param
        except ImportError as e:
            raise ImportError("MLflow tracking needs mlflow: pip install 'typednet[mlflow]'") from e
        super().__init__(settings)
        self._metric, self._param = Metric, Param
        client = mlflow.MlflowClient(tracking_uri=tracking_uri)
        name = experiment or "Default"
        found = client.get_experiment_by_name(name)
        experiment_id = (
            found.experiment_id
            if found is not None
            else client.create_experiment(name, artifact_location=artifact_location)
        )
        run = client.create_run(experiment_id, run_name=run_name)
        self._client: _MlflowClient = client
        self.run_id: str = run.info.run_id
        """The MLflow run's id (``MlflowClient().get_run(run_id)`` reads it back)."""

    def _log_settings(self, settings: dict[str, str]) -> None:
        # MLflow keeps 6000 characters of a param (a long network's repr): mark the cut.
        params = [self._param(key, _clip(value, 6000)) for key, value in settings.items()]
        self._client.log_batch(self.run_id, params=params)

    def _log_metrics(self, step: int, values: dict[str, float]) -> None:
        now = int(time.time() * 1000)
        metrics = [self._metric(key, value, now, step) for key, value in values.items()]
        self._client.log_batch(self.run_id, metrics=metrics)

    def _log_network(self, net: Network[Any, Any]) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, _NETWORK)
            save(path, net)
            self._client.log_artifact(self.run_id, path)

    def _end(self, failed: bool) -> None:
        self._client.set_terminated(self.run_id, "FAILED" if failed else "FINISHED")


def _clip(text: str, most: int) -> str:
    return text if len(text) <= most else text[: most - 3] + "..."


def mlflow_callback(
    settings: Mapping[str, object] | None = None,
    *,
    tracking_uri: str | None = None,
    experiment: str | None = None,
    run_name: str | None = None,
    artifact_location: str | None = None,
) -> MlflowTracker:
    """A tracker that logs a `fit` run to MLflow; the run starts at once.

    Args:
        settings: what to record with the run as params (learning rate, batch size...);
            the network's architecture, param count and dtype are added.
        tracking_uri: where: a folder (``"file:///tmp/mlruns"``: no server needed), or
            a server's address (``"http://127.0.0.1:5000"``); None is MLflow's default
            (``MLFLOW_TRACKING_URI``).
        experiment: the experiment's name, created if need be (None: ``"Default"``).
        run_name: the run's name (None: MLflow picks one).
        artifact_location: where a new experiment keeps its artifacts (None: the
            server's choice, or ``./mlruns`` for a local store).

    Returns:
        The callback for ``fit(..., callbacks=[...])``; its ``run_id`` names the run.
        Each epoch is logged as the metrics ``train_loss``, ``val_loss``,
        ``train_metric`` and ``val_metric`` (those the epoch has) at step = the epoch;
        the network is logged as the artifact ``network.npz``.

    Raises:
        ImportError: without mlflow (``pip install 'typednet[mlflow]'``).
    """
    return MlflowTracker(settings or {}, tracking_uri, experiment, run_name, artifact_location)


# --- TensorBoard -------------------------------------------------------------------------


class _Writer(Protocol):
    """The part of ``tensorboardX.SummaryWriter`` the tracker uses."""

    def add_text(self, tag: str, text_string: str, global_step: int | None = ...) -> None: ...
    def add_scalar(self, tag: str, scalar_value: float, global_step: int | None = ...) -> None: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


class TensorBoardTracker(Tracker):
    """A `Tracker` writing TensorBoard event files (made by `tensorboard_callback`)."""

    def __init__(self, settings: Mapping[str, object], logdir: str | os.PathLike[str]) -> None:
        try:
            # No type hints: _Writer above types the part used.
            from tensorboardX import SummaryWriter  # pyright: ignore[reportMissingTypeStubs]
        except ImportError as e:
            raise ImportError(
                "TensorBoard tracking needs tensorboardX: pip install 'typednet[tensorboard]'"
            ) from e
        super().__init__(settings)
        self.logdir = os.fspath(logdir)
        """The folder of the event files and of ``network.npz``."""
        self._writer: _Writer = SummaryWriter(self.logdir)

    def _log_settings(self, settings: dict[str, str]) -> None:
        rows = "\n".join(f"| {key} | {value} |" for key, value in settings.items())
        self._writer.add_text("settings", f"| setting | value |\n|---|---|\n{rows}", 0)

    def _log_metrics(self, step: int, values: dict[str, float]) -> None:
        for key, value in values.items():
            self._writer.add_scalar(key, value, step)

    def _log_network(self, net: Network[Any, Any]) -> None:
        save(os.path.join(self.logdir, _NETWORK), net)  # atomic, in the run's folder

    def _end(self, failed: bool) -> None:
        self._writer.close()


def tensorboard_callback(
    logdir: str | os.PathLike[str], settings: Mapping[str, object] | None = None
) -> TensorBoardTracker:
    """A tracker that writes a `fit` run as TensorBoard event files in ``logdir``.

    ``tensorboard --logdir`` shows them. The settings (with the network's architecture,
    param count and dtype) are a text summary ``settings``; each epoch's losses and
    metrics are scalars ``train_loss``, ``val_loss``, ``train_metric``, ``val_metric`` at
    step = the epoch; the network is saved as ``network.npz`` in ``logdir``.

    Args:
        logdir: the run's folder, created if need be.
        settings: what to record with the run (learning rate, batch size...).

    Raises:
        ImportError: without tensorboardX (``pip install 'typednet[tensorboard]'``).
    """
    return TensorBoardTracker(settings or {}, logdir)
