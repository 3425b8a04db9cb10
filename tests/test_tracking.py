"""Experiment tracking: an MLflow run in a local store and on a real `mlflow server`
(started here on 127.0.0.1, then stopped), and TensorBoard event files, each read back
independently: MlflowClient for MLflow, the TFRecord framing and tensorboardX's Event
protobuf for TensorBoard. Every epoch's values, the settings and the saved network."""

import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from mlflow import MlflowClient
from tensorboardX.proto import event_pb2  # pyright: ignore[reportMissingTypeStubs]

import typednet as tn
from typednet.apps.tutorial import Features, Output, build

EPOCHS = 3
SETTINGS = {"learning_rate": 0.5, "batch_size": 4}


def _fit(
    track: tn.Callback[Features, Output],
) -> tuple[tn.Network[Features, Output], tn.History[Features, Output]]:
    """Three epochs of the tutorial network, with validation data and a metric."""
    net, x, y = build()
    rng = np.random.default_rng(0)
    x = np.hstack([x, rng.random((5, 7))])
    y = np.hstack([y, rng.random((4, 7))])
    return tn.fit(
        net,
        x,
        y,
        loss=tn.mse,
        optimizer=tn.sgd(0.5),
        epochs=EPOCHS,
        batch_size=4,
        rng=rng,
        validation=(x[:, :3], y[:, :3]),
        metric=tn.mad,
        progress=False,
        callbacks=[track],
    )


def _expected_params(net: tn.Network[Any, Any]) -> dict[str, str]:
    return {
        "learning_rate": "0.5",
        "batch_size": "4",
        "network": "Network 5 → 3 (leaky_relu 0.1) → 5 (sigmoid) → 4 (sigmoid), 62 params",
        "param_count": "62",
        "dtype": "float64",
    }


def _per_epoch(history: tn.History[Any, Any]) -> dict[str, list[tuple[int, float]]]:
    """Each logged metric's (step, value) pairs, from fit's own History."""
    return {
        key: list(enumerate(values, 1))
        for key, values in {
            "train_loss": history.train_loss,
            "val_loss": history.val_loss,
            "train_metric": history.train_metric,
            "val_metric": history.val_metric,
        }.items()
    }


def _same_params(a: tn.Network[Any, Any], b: tn.Network[Any, Any]) -> bool:
    return [p.tobytes() for p in a.params] == [p.tobytes() for p in b.params]


def _check_mlflow_run(client: MlflowClient, run_id: str, history: Any, net: Any, tmp: Path) -> None:
    run = client.get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == _expected_params(net)
    for key, pairs in _per_epoch(history).items():
        logged = client.get_metric_history(run_id, key)
        assert sorted((m.step, m.value) for m in logged) == pairs, key
        assert len(pairs) == EPOCHS
    folder = tmp / "downloaded"
    folder.mkdir()
    path = client.download_artifacts(run_id, "network.npz", str(folder))
    assert _same_params(tn.load(path, like=net), net)


# --- MLflow without a server -------------------------------------------------------------


@pytest.mark.parametrize("store", ["sqlite", "folder"])
def test_an_mlflow_run_in_a_local_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: str
) -> None:
    monkeypatch.chdir(tmp_path)  # MLflow puts a local store's artifacts under ./mlruns
    if store == "folder":
        # MLflow 3 keeps its folder store in maintenance mode, behind this switch.
        monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
        uri = (tmp_path / "mlruns").as_uri()
    else:
        uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with tn.tracking.mlflow_callback(SETTINGS, tracking_uri=uri, experiment="tests") as track:
        net, history = _fit(track)
    assert isinstance(track, tn.tracking.Tracker)
    _check_mlflow_run(MlflowClient(uri), track.run_id, history, net, tmp_path)


# --- MLflow on a real server ---------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
    try:
        with opener.open(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of an `mlflow server` on 127.0.0.1 (one worker, an SQLite store);
    the server and every process it started are gone afterwards."""
    folder = tmp_path_factory.mktemp("mlflow-server")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        str(Path(sys.executable).parent / "mlflow"),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--backend-store-uri",
        f"sqlite:///{folder / 'mlflow.db'}",
        "--artifacts-destination",
        str(folder / "artifacts"),
    ]
    with open(folder / "server.log", "wb") as log:
        # Its own process group: the server, uvicorn and its workers are stopped together.
        server = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 180  # bounded: a loaded 2-core machine takes ~30 s
        while not _answers(f"{url}/health"):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"mlflow server did not start:\n{(folder / 'server.log').read_text()[-2000:]}"
                )
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _group_alive(server.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _group_alive(server.pid):
            os.killpg(server.pid, signal.SIGKILL)
        assert not _group_alive(server.pid), "mlflow server's processes outlived it"
        assert not _answers(f"{url}/health")


def test_an_mlflow_run_on_a_real_server(mlflow_server: str, tmp_path: Path) -> None:
    with tn.tracking.mlflow_callback(
        SETTINGS, tracking_uri=mlflow_server, experiment="tests", run_name="tutorial"
    ) as track:
        net, history = _fit(track)
    client = MlflowClient(mlflow_server)
    run_id: str = track.run_id
    assert client.get_run(run_id).info.run_name == "tutorial"
    _check_mlflow_run(client, run_id, history, net, tmp_path)


def test_a_run_that_raised_is_failed_and_logs_no_network(mlflow_server: str) -> None:
    with (
        pytest.raises(KeyboardInterrupt),
        tn.tracking.mlflow_callback(tracking_uri=mlflow_server) as track,
    ):
        _fit(track)
        raise KeyboardInterrupt
    client = MlflowClient(mlflow_server)
    run_id: str = track.run_id
    assert client.get_run(run_id).info.status == "FAILED"
    assert len(client.get_metric_history(run_id, "train_loss")) == EPOCHS
    assert client.list_artifacts(run_id) == []
    with pytest.raises(
        ValueError, match=r"^MlflowTracker: this run is closed; make a new tracker$"
    ):
        _fit(track)
    with pytest.raises(
        ValueError, match=r"^MlflowTracker: this run is closed; make a new tracker$"
    ):
        track.log_network(build()[0])
    assert client.list_artifacts(run_id) == []


def test_the_network_fit_returns_is_logged_when_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # the quickest local store
    uri = (tmp_path / "mlruns").as_uri()
    with tn.tracking.mlflow_callback(tracking_uri=uri) as track:
        net, _ = _fit(track)
        other = build()[0]  # e.g. early stopping's best epoch, not the last
        track.log_network(other)
    path = MlflowClient(uri).download_artifacts(track.run_id, "network.npz", str(tmp_path))
    assert _same_params(tn.load(path, like=net), other)
    assert not _same_params(other, net)


# --- TensorBoard ---------------------------------------------------------------------------


def _events(logdir: Path) -> tuple[dict[str, list[tuple[int, float]]], dict[str, str]]:
    """Every scalar (tag: [(step, value)]) and text of the event files in ``logdir``,
    read from TFRecord frames: length (8 bytes), its CRC, the Event, its CRC."""
    scalars: dict[str, list[tuple[int, float]]] = {}
    texts: dict[str, str] = {}
    files = sorted(logdir.glob("events.out.tfevents.*"))
    assert files
    for path in files:
        raw = path.read_bytes()
        at = 0
        while at < len(raw):
            (length,) = struct.unpack("<Q", raw[at : at + 8])
            # protoc's module defines its classes at import: pyright cannot see them
            event = event_pb2.Event.FromString(  # pyright: ignore[reportAttributeAccessIssue]
                raw[at + 12 : at + 12 + length]
            )
            at += 12 + length + 4
            for value in event.summary.value:
                if value.HasField("simple_value"):
                    scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
                elif value.tensor.string_val:
                    texts[value.tag] = value.tensor.string_val[0].decode()
    return scalars, texts


def test_tensorboard_event_files_hold_every_epoch(tmp_path: Path) -> None:
    logdir = tmp_path / "run"
    with tn.tracking.tensorboard_callback(logdir, SETTINGS) as track:
        net, history = _fit(track)
    scalars, texts = _events(logdir)
    expected = {
        key: [(step, float(np.float32(value))) for step, value in pairs]  # stored as float32
        for key, pairs in _per_epoch(history).items()
    }
    assert scalars == expected
    settings = texts["settings/text_summary"]
    for key, value in _expected_params(net).items():
        assert f"| {key} | {value} |" in settings
    assert _same_params(tn.load(logdir / "network.npz", like=net), net)


# --- without the extras ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "make", "message"),
    [
        (
            "mlflow",
            lambda p: tn.tracking.mlflow_callback(),
            "MLflow tracking needs mlflow: pip install 'typednet[mlflow]'",
        ),
        (
            "tensorboardX",
            lambda p: tn.tracking.tensorboard_callback(p),
            "TensorBoard tracking needs tensorboardX: pip install 'typednet[tensorboard]'",
        ),
    ],
)
def test_without_the_extra_making_a_tracker_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, make: Any, message: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
    with pytest.raises(ImportError, match=f"^{re.escape(message)}$"):
        make(tmp_path / "run")
    assert list(tmp_path.iterdir()) == []


def test_a_long_network_description_is_clipped_to_mlflows_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    uri = (tmp_path / "mlruns").as_uri()
    rng = np.random.default_rng(0)
    net: tn.Network = tn.Network(tuple(tn.dense(rng, 1, 1, tn.tanh) for _ in range(600)))
    assert len(repr(net)) > 6000  # MLflow's most for a param
    with tn.tracking.mlflow_callback(tracking_uri=uri) as track:
        tn.fit(
            net,
            np.ones((1, 2)),
            np.zeros((1, 2)),
            loss=tn.mse,
            optimizer=tn.sgd(0.1),
            epochs=1,
            batch_size=2,
            rng=rng,
            progress=False,
            callbacks=[track],
        )
    logged = MlflowClient(uri).get_run(track.run_id).data.params["network"]
    assert len(logged) == 6000
    assert logged == repr(net)[:5997] + "..."
