"""tn.BatchNorm against torch.nn.BatchNorm1d, once, by hand (never run by the tests).

Needs torch (``.venv/bin/pip install torch``). Prints the largest absolute difference in
float64 of: the training forward, the gradients (input, gamma, beta), the running
statistics after several training steps, and the inference forward after them.

    .venv/bin/python benchmarks/torch_batch_norm.py
"""

import numpy as np
import torch
from torch import nn

import typednet as tn


def main() -> None:
    rng = np.random.default_rng(0)
    d, momentum, eps = 5, 0.1, 1e-5
    gamma, beta = rng.normal(1, 0.3, (d, 1)), rng.normal(0, 0.3, (d, 1))
    layer = tn.BatchNorm(
        gamma=gamma,
        beta=beta,
        running_mean=np.zeros((d, 1)),
        running_var=np.ones((d, 1)),
        momentum=momentum,
        eps=eps,
    )
    peer = nn.BatchNorm1d(d, momentum=momentum, eps=eps, dtype=torch.float64)
    with torch.no_grad():
        peer.weight.copy_(torch.tensor(gamma[:, 0]))
        peer.bias.copy_(torch.tensor(beta[:, 0]))
    net = tn.network(layer)
    worst = {"train forward": 0.0, "d x": 0.0, "d gamma": 0.0, "d beta": 0.0}

    def note(key: str, a: np.ndarray, b: np.ndarray) -> None:
        worst[key] = max(worst.get(key, 0.0), float(np.abs(a - b).max()))

    for n in (8, 2, 33, 5, 64):  # several steps, batches of several sizes
        x = rng.normal(2.0, 3.0, (d, n))
        upstream = rng.normal(size=(d, n))
        # typednet, training mode: the trace, the backward pass, the updated statistics.
        _, post = layer.trace(x, None)
        grads = (np.empty((d, 1)), np.empty((d, 1)))
        dx = layer.backward(x, layer.trace(x, None)[0], post, upstream, grads, need_input=True)
        assert dx is not None
        # torch, training mode (rows are samples).
        peer.train()
        xt = torch.tensor(x.T, requires_grad=True)
        yt = peer(xt)
        yt.backward(torch.tensor(upstream.T))
        assert xt.grad is not None and peer.weight.grad is not None and peer.bias.grad is not None
        note("train forward", post, yt.detach().numpy().T)
        note("d x", dx, xt.grad.numpy().T)
        note("d gamma", grads[0][:, 0], peer.weight.grad.numpy())
        note("d beta", grads[1][:, 0], peer.bias.grad.numpy())
        peer.zero_grad()
        net = tn.Network([layer.updated(x)])  # as train_step returns it
        step = net.layers[0]
        assert isinstance(step, tn.BatchNorm)
        layer = step
        assert peer.running_mean is not None and peer.running_var is not None
        note("running mean", layer.running_mean[:, 0], peer.running_mean.numpy())
        note("running var", layer.running_var[:, 0], peer.running_var.numpy())
        peer.eval()
        x_eval = rng.normal(2.0, 3.0, (d, 7))
        with torch.no_grad():
            want = peer(torch.tensor(x_eval.T)).numpy().T
        note("eval forward", tn.forward(net, x_eval), want)
    worst.update(_train_steps(rng))
    for key, value in worst.items():
        print(f"{key:>20}: max |typednet - torch| = {value:.3g}")


def _train_steps(rng: np.random.Generator) -> dict[str, float]:
    """Dense -> BatchNorm -> Dense, 6 SGD steps by tn.train_step and by torch."""
    p, d, q = 3, 4, 2
    net = (
        tn.network(tn.dense(rng, p, d, tn.identity))
        .then(tn.batch_norm(d))
        .then(tn.dense(rng, d, q, tn.identity))
    )
    first, last = net.layers[0], net.layers[2]
    assert isinstance(first, tn.Dense) and isinstance(last, tn.Dense)
    peer = nn.Sequential(
        nn.Linear(p, d, dtype=torch.float64),
        nn.BatchNorm1d(d, dtype=torch.float64),
        nn.Linear(d, q, dtype=torch.float64),
    )
    with torch.no_grad():
        for k, dense in ((0, first), (2, last)):
            linear = peer[k]
            assert isinstance(linear, nn.Linear)
            linear.weight.copy_(torch.tensor(dense.w))
            linear.bias.copy_(torch.tensor(dense.b[:, 0]))
    opt, peer_opt = tn.sgd(0.1), torch.optim.SGD(peer.parameters(), lr=0.1)
    state = opt.init(net)
    peer.train()
    for n in (16, 3, 9, 2, 30, 7):
        x, y = rng.normal(1.0, 2.0, (p, n)), rng.normal(size=(q, n))
        net, state, _ = tn.train_step(net, state, x, y, loss=tn.mse, optimizer=opt)
        peer_opt.zero_grad()
        nn.functional.mse_loss(peer(torch.tensor(x.T)), torch.tensor(y.T)).backward()
        peer_opt.step()
    ours = np.concatenate([a.ravel() for a in net.params])
    theirs = np.concatenate([t.detach().numpy().ravel() for t in peer.parameters()])
    bn, peer_bn = net.layers[1], peer[1]
    assert isinstance(bn, tn.BatchNorm) and isinstance(peer_bn, nn.BatchNorm1d)
    assert peer_bn.running_mean is not None and peer_bn.running_var is not None
    peer.eval()
    x = rng.normal(1.0, 2.0, (p, 11))
    with torch.no_grad():
        want = peer(torch.tensor(x.T)).numpy().T
    return {
        "train_step params": float(np.abs(ours - theirs).max()),
        "train_step mean": float(
            np.abs(bn.running_mean[:, 0] - peer_bn.running_mean.numpy()).max()
        ),
        "train_step var": float(np.abs(bn.running_var[:, 0] - peer_bn.running_var.numpy()).max()),
        "train_step eval": float(np.abs(tn.forward(net, x) - want).max()),
    }


if __name__ == "__main__":
    main()
