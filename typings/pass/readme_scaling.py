"""docs/scaling-out.md's example, as written there."""

import dask.array as da
import numpy as np
from distributed import Client

import typednet as tn
import typednet.dask as tnd


def main() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 4096))
    y = (x[0:1] * x[1:2] > 0).astype(np.float64)
    X = da.from_array(x, chunks=(2, 1024))  # samples are columns: chunks of columns
    Y = da.from_array(y, chunks=(1, 1024))
    net: tn.Network[int, int] = tn.network(tn.dense(rng, 2, 16, tn.tanh)).then(
        tn.dense(rng, 16, 1, tn.sigmoid)
    )
    with tnd.local_cluster(n_workers=2) as cluster, Client(cluster) as client:
        net, history = tnd.fit(
            net, X, Y, loss=tn.binary_cross_entropy, optimizer=tn.adam(0.05),
            epochs=10, batch_size=512, rng=rng, client=client, progress=False,
        )
        y_hat = tnd.forward(net, X)  # lazy: (1, 4096), X's column chunks
        accuracy = ((y_hat > 0.5) == (Y > 0.5)).mean().compute()
    print(f"loss {history.train_loss[0]:.3f} -> {history.train_loss[-1]:.3f}")
    print(f"accuracy {accuracy:.2f}")


if __name__ == "__main__":
    main()
