"""docs/tracking.md's example, as written there."""

import tempfile

import numpy as np
from mlflow import MlflowClient

import typednet as tn

rng = np.random.default_rng(0)
x = rng.normal(size=(3, 64))
y = x.sum(axis=0, keepdims=True)
net = tn.network(tn.dense(rng, 3, 8, tn.tanh)).then(tn.dense(rng, 8, 1, tn.identity))
settings = {"learning_rate": 0.05, "batch_size": 16}

with tempfile.TemporaryDirectory() as folder:
    uri = f"sqlite:///{folder}/mlflow.db"  # a local store; a server: "http://host:5000"
    with (
        tn.tracking.mlflow_callback(
            settings, tracking_uri=uri, experiment="demo", artifact_location=f"{folder}/runs"
        ) as to_mlflow,
        tn.tracking.tensorboard_callback(f"{folder}/tensorboard", settings) as to_tensorboard,
    ):
        net, history = tn.fit(
            net, x, y, loss=tn.mse, optimizer=tn.adam(0.05), epochs=4, batch_size=16,
            rng=rng, progress=False, callbacks=[to_mlflow, to_tensorboard],
        )
    client = MlflowClient(uri)
    run = client.get_run(to_mlflow.run_id)
    print(run.data.params)
    print([f"{m.value:.3f}" for m in client.get_metric_history(run.info.run_id, "train_loss")])
    print(tn.load(client.download_artifacts(run.info.run_id, "network.npz", folder)))
