"""Every jaxtyping annotation in typednet holds: the whole library, internals included,
runs under jaxtyping's import hook with beartype checking each call.

This keeps the annotations honest (an axis named alike in two places must really have
one size) and shows the opt-in audit mode the README describes.
"""

import subprocess
import sys
import textwrap

AUDIT = textwrap.dedent(
    """
    import sys
    import tempfile
    from pathlib import Path

    import numpy as np
    from jaxtyping import TypeCheckError, install_import_hook

    with install_import_hook("typednet", "beartype.beartype"):
        import typednet as tn
        from typednet.apps import tutorial

    net, x, y = tutorial.build()
    assert tn.forward(net, x).shape == (4, 1)
    tn.forward_trace(net, x)
    value, grads = tn.value_and_grad(net, x, y, tn.mse, penalty=tn.l2(0.01))
    for make in (tn.sgd, tn.momentum, tn.nesterov, tn.adagrad, tn.rmsprop, tn.adadelta,
                 tn.adam, tn.amsgrad, tn.adamax, tn.adamw):
        for lr in (0.01, tn.schedules.warmup(2, then=tn.schedules.cosine_decay(0.01, 10))):
            opt = make(lr)
            updates, state = opt.update(grads, opt.init(net), net)
            tn.apply_updates(net, updates)

    rng = np.random.default_rng(0)
    mixed = (
        tn.network(tn.dense(rng, 3, 6, tn.identity, dtype=np.float32))
        .then(tn.layer_norm(6, dtype=np.float32))
        .then(tn.relu)
        .then(tn.dense(rng, 6, 2, tn.softmax, dtype=np.float32))
    )
    xs = rng.normal(size=(3, 40)).astype(np.float32)
    ys = np.eye(2, dtype=np.float32)[rng.integers(0, 2, 40)].T.copy()
    trained, history = tn.fit(
        mixed, xs, ys, loss=tn.cross_entropy, optimizer=tn.adam(0.01), epochs=3,
        batch_size=16, rng=rng, validation=(xs, ys), metric=tn.mae, patience=2,
        progress=False,
    )
    assert history.epochs >= 1
    seen = []
    logits = tn.network(tn.dense(rng, 3, 2, tn.identity, dtype=np.float32))
    for loss in (tn.softmax_cross_entropy, tn.sigmoid_binary_cross_entropy):
        resumed, again = tn.fit(
            logits, xs, ys, loss=loss, optimizer=tn.adamw(0.01), epochs=2, batch_size=16,
            rng=rng, progress=False, callbacks=[seen.append],
        )
        tn.fit(resumed, xs, ys, loss=loss, optimizer=tn.adamw(0.01), epochs=1, batch_size=16,
               rng=rng, progress=False, state=again.state)
    assert len(seen) == 4

    with tempfile.TemporaryDirectory() as d:
        tn.save(Path(d) / "net.npz", trained)
        tn.load(Path(d) / "net.npz", like=trained)

    block = tn.network(tn.dense(rng, 3, 4, tn.tanh)).then(tn.dense(rng, 4, 3, tn.identity))
    tree = tn.Network((
        tn.residual(block),
        tn.parallel(tn.Network((tn.take(3, 0, 2),)), tn.Network((tn.dense(rng, 3, 2, tn.relu),))),
        tn.dense(rng, 4, 1, tn.identity),
    ))
    xt = rng.normal(size=(3, 8))
    tn.fit(tree, xt, xt[:1], loss=tn.mse, optimizer=tn.adam(0.01), epochs=2, batch_size=4,
           rng=rng, progress=False)
    tn.summary(tree)
    counts = np.array([1, 0, 2, 1, 3, 1, 1, 2])  # sample weights: (n,) ints, (1, n) floats
    tn.value_and_grad(tree, xt, xt[:1], tn.mse, sample_weight=counts)
    tn.fit(tree, xt, xt[:1], loss=tn.mse, optimizer=tn.adam(0.01), epochs=1, batch_size=4,
           rng=rng, progress=False, sample_weight=np.ones((1, 8)), metric=tn.mae,
           validation=(xt, xt[:1], counts))
    tn.accuracy(ys, ys, sample_weight=np.ones(40))
    # Not tn.save(tree): under the hook, beartype resolves the nested forward references
    # of a block's save spec (Json) in jaxtyping's module and fails.

    features, quality = tn.load_wine_quality(colour="red")
    features, quality = tn.deduplicate(features, quality)
    x_tr, y_tr, x_te, y_te = tn.train_test_split(features, quality, rng=rng)
    scaler = tn.standardize(x_tr)
    scaler.invert(scaler.apply(x_te))
    tn.one_hot(quality, range(11))

    # An Embedding's integer ids, alone and as one of named inputs, through every step.
    words = tn.network(tn.embedding(rng, 5, 3)).then(tn.dense(rng, 3, 1, tn.identity))
    ids = np.array([[0, 4, 4, 1, 2, 3, 0, 1]])
    tn.fit(words, ids, ids / 4.0, loss=tn.mse, optimizer=tn.adam(0.01), epochs=2,
           batch_size=4, rng=rng, validation=(ids, ids / 4.0), progress=False)
    tn.value_and_grad(words, ids, ids / 4.0, tn.mse)
    tn.forward_trace(words, ids)
    from typing import TypedDict

    class Sample(TypedDict):
        numeric: tn.Inputs
        other: tn.Ids

    first = tn.inputs(Sample, None, numeric=tn.network(tn.dense(rng, 3, 2, tn.relu)),
                      other=tn.network(tn.embedding(rng, 5, 2)))
    named = tn.network(first).then(tn.dense(rng, 4, 1, tn.identity))
    xs = Sample(numeric=rng.normal(size=(3, 8)), other=ids)
    tn.fit(named, xs, xs["numeric"][:1], loss=tn.mse, optimizer=tn.adam(0.01), epochs=2,
           batch_size=4, rng=rng, validation=(xs, xs["numeric"][:1]), progress=False)
    tn.forward(named, xs, batch_size=3)
    tn.summary(named)

    # Under the hook, jaxtyping stops a 1-D array before typednet sees it; the network's
    # own sizes are typednet's to check.
    try:
        tn.forward(net, x[:, 0])
    except TypeCheckError:
        try:
            tn.forward(net, x.T)
        except tn.ShapeError:
            print("audit ok")
    """
)


def test_the_library_runs_under_jaxtypings_import_hook() -> None:
    done = subprocess.run(
        [sys.executable, "-c", AUDIT], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "audit ok"
