"""What issue 9's training additions cost, and adamw against torch.optim.AdamW.

- ``loss_checks``: a loss call with its checks against the same call inside
  ``tn.no_checks()``, on the digits step's shapes (10 classes, batch 32) and a large
  batch (10 x 1024): for ``mse`` (shape checks only) and ``cross_entropy`` (shape checks
  plus the probability checks: range and column sums). No target: `fit` runs these
  checks once, before its first step, so they cost a training step nothing; this shows
  what a direct call pays.
- ``adamw_torch``: typednet's ``adamw`` and ``torch.optim.AdamW`` run 200 steps on the
  same params and the same gradients, with a constant rate and with a warm-up into a
  cosine decay (torch's ``LambdaLR`` fed typednet's schedule, so both see the same
  rates); the params must agree to rounding. Then the time of one adamw update
  against one adam update on the digits network's 17,226 params.
"""

from collections.abc import Callable

import numpy as np
import torch
from forward_benches import classifier
from harness import Budget, Peer, Result, Target, calibrated, interleave
from machine import numpy_threads_label

import typednet as tn
from typednet import schedules
from typednet.network import Network

SEED = 0


def _no_checks(fn: Callable[[], object]) -> Callable[[], object]:
    def run() -> object:
        with tn.no_checks():
            return fn()

    return run


def loss_checks(budget: Budget) -> Result:
    """A loss's run-time checks against none, for mse and cross_entropy."""
    rng = np.random.default_rng(SEED)
    peers = []
    for batch in (32, 1024):
        y = np.eye(10)[rng.integers(0, 10, batch)].T.copy()
        z = rng.normal(size=(10, batch))
        p = np.exp(z) / np.exp(z).sum(axis=0)
        for loss in (tn.mse, tn.cross_entropy):
            name = f"{loss.name}_{batch}"
            call = lambda loss=loss, y=y, p=p: loss(y, p)  # noqa: E731 -- bound per loop
            peers += [
                Peer(
                    name,
                    calibrated(call, budget.sample_seconds),
                    numpy_threads_label(),
                    f"{loss.name}(y, p), checks on, (10, {batch})",
                ),
                Peer(
                    f"{name}_unchecked",
                    calibrated(_no_checks(call), budget.sample_seconds),
                    numpy_threads_label(),
                    "the same inside tn.no_checks()",
                ),
            ]
    return Result(
        name="loss_checks",
        what="A loss call with typednet's checks on, against the same call unchecked",
        baseline="mse_32",
        peers=peers,
        samples=interleave(peers, budget),
    )


def _like(net: Network[int, int], arrays: list[np.ndarray]) -> Network[int, int]:
    """A network of ``net``'s architecture holding ``arrays``: the one internal used here."""
    return net._with_params(arrays)


def _against_torch(rate: float | schedules.Schedule, steps: int, rng: np.random.Generator) -> float:
    """The largest relative difference of the params after ``steps`` AdamW steps."""
    net = classifier(rng, (64, 128, 64, 10), np.float64)
    grads = [[rng.normal(size=p.shape) for p in net.params] for _ in range(steps)]
    hyper = {"b1": 0.9, "b2": 0.99, "eps": 1e-8, "weight_decay": 0.05}
    opt = tn.adamw(rate, **hyper)
    state = opt.init(net)
    ours = net
    for g in grads:
        updates, state = opt.update(_like(ours, g), state, ours)
        ours = tn.apply_updates(ours, updates)
    params = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in net.params]
    base = rate if isinstance(rate, float) else 1.0
    theirs = torch.optim.AdamW(
        params,
        lr=base,
        betas=(hyper["b1"], hyper["b2"]),
        eps=hyper["eps"],
        weight_decay=hyper["weight_decay"],
    )
    scheduler = None
    if not isinstance(rate, float):
        scheduler = torch.optim.lr_scheduler.LambdaLR(theirs, lambda step: rate(step))
    for g in grads:
        for p, gi in zip(params, g, strict=True):
            p.grad = torch.tensor(gi)
        theirs.step()
        if scheduler is not None:
            scheduler.step()
    return max(
        float(np.max(np.abs(a - b.detach().numpy()) / np.maximum(np.abs(a), 1e-3)))
        for a, b in zip(ours.params, params, strict=True)
    )


def adamw_torch(budget: Budget) -> Result:
    """adamw against torch.optim.AdamW: the same params after 200 steps, and the time."""
    rng = np.random.default_rng(SEED)
    constant = _against_torch(1e-2, 200, rng)
    cosine = _against_torch(
        schedules.warmup(20, then=schedules.cosine_decay(1e-2, steps=180, final=1e-4)), 200, rng
    )
    net = classifier(rng, (64, 128, 64, 10), np.float64)
    grads = _like(net, [rng.normal(size=p.shape) for p in net.params])
    ours, adam = tn.adamw(1e-3), tn.adam(1e-3)
    ours_state, adam_state = ours.init(net), adam.init(net)

    peers = [
        Peer(
            "adamw",
            calibrated(lambda: ours.update(grads, ours_state, net), budget.sample_seconds),
            numpy_threads_label(),
            "tn.adamw update, checks on",
        ),
        Peer(
            "adam",
            calibrated(lambda: adam.update(grads, adam_state, net), budget.sample_seconds),
            numpy_threads_label(),
            "tn.adam update: the same without the decay",
        ),
    ]
    result = Result(
        name="adamw_torch",
        what="One AdamW update of the digits network's params (float64); "
        "agreement with torch over 200 steps in the notes",
        baseline="adam",
        peers=peers,
        samples=interleave(peers, budget),
        targets=[
            Target(
                "adamw ≤ 1.5x adam's update (the decay is one more array op)", "adamw", "adam", 1.5
            )
        ],
    )
    result.notes += [
        f"params after 200 steps vs torch.optim.AdamW, largest relative difference: "
        f"constant lr {constant:.1e}, warm-up + cosine schedule {cosine:.1e}",
    ]
    if max(constant, cosine) > 1e-10:
        raise AssertionError(f"adamw disagrees with torch: {constant:.1e}, {cosine:.1e}")
    return result
