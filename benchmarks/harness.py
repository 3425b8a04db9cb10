"""Interleaved timing of peers, medians, ratios against a baseline, targets with PASS/FAIL.

The machine is small and shared, so peers are never timed one after the other: after a
warm-up, every round times one sample of each peer in turn (A, B, C, A, B, C, ...), and
each peer's figure is the median of its samples. A ratio is paired: the median, over
the rounds, of the peer's sample divided by the reference's sample of the same round,
so a slow spell of the machine, which hits both samples of a round, cancels out. A
target bounds such a ratio.
"""

import gc
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

Sampler = Callable[[], float]
"""Runs one timed sample and returns its seconds per operation (setup is not timed)."""

_CLOCK: list[Callable[[], float]] = [time.perf_counter]


def use_cpu_time() -> None:
    """Time samples in this process's CPU seconds instead of wall-clock seconds.

    On a shared machine the wall clock also counts the time the scheduler gives other
    jobs; the process's CPU time does not. Meant for runs pinned to one thread, where
    the CPU time of the process is the time of the one thread computing (a pool of
    several threads would add up their spinning).
    """
    _CLOCK[0] = time.process_time


def clock() -> float:
    """The clock samples are timed with: wall-clock seconds unless `use_cpu_time` ran."""
    return _CLOCK[0]()


def clock_name() -> str:
    return "process CPU time" if _CLOCK[0] is time.process_time else "wall-clock time"


def per_call(fn: Callable[[], object], number: int) -> Sampler:
    """A sampler timing ``number`` back-to-back calls of ``fn``, per call."""

    def sample() -> float:
        start = clock()
        for _ in range(number):
            fn()
        return (clock() - start) / number

    return sample


def calibrated(fn: Callable[[], object], budget: float) -> Sampler:
    """`per_call` with as many calls as fit in about ``budget`` seconds (at least one).

    The calls made to measure are also the peer's first warm-up.
    """
    fn()
    number = 1
    while True:
        elapsed = per_call(fn, number)() * number
        if elapsed >= budget / 4 or number >= 1 << 20:
            return per_call(fn, max(1, round(number * budget / max(elapsed, 1e-9))))
        number *= 4


def within(context: Callable[[], AbstractContextManager[object]], sampler: Sampler) -> Sampler:
    """``sampler`` run inside ``context()`` (e.g. ``torch.no_grad``), entered once per sample."""

    def sample() -> float:
        with context():
            return sampler()

    return sample


@dataclass(frozen=True)
class Budget:
    """How long to measure.

    Attributes:
        repeats: rounds kept, at most.
        min_repeats: rounds kept, at least, whatever the time.
        warmup: rounds run first and discarded.
        sample_seconds: how long one sample of a fast call lasts (see `calibrated`).
        max_seconds: after this long, stop once ``min_repeats`` rounds are kept.
    """

    repeats: int
    min_repeats: int
    warmup: int
    sample_seconds: float
    max_seconds: float


@dataclass(frozen=True)
class Peer:
    """One contender: its name, how to time it, and the threads it computes with."""

    name: str
    sampler: Sampler
    threads: str
    note: str = ""


@dataclass(frozen=True)
class Target:
    """``peer``'s median must be at most ``max_ratio`` times ``reference``'s."""

    text: str
    peer: str
    reference: str
    max_ratio: float


@dataclass
class Result:
    """The samples of one benchmark and how to report them."""

    name: str
    what: str
    baseline: str
    peers: Sequence[Peer]
    samples: dict[str, list[float]]
    targets: Sequence[Target] = ()
    items: int | None = None  # samples per operation, for a throughput column
    notes: list[str] = field(default_factory=list)

    def median(self, peer: str) -> float:
        return statistics.median(self.samples[peer])

    def ratio(self, peer: str, reference: str | None = None) -> float:
        """The median over rounds of ``peer``'s time over ``reference``'s in that round."""
        theirs = self.samples[reference or self.baseline]
        return statistics.median(p / r for p, r in zip(self.samples[peer], theirs, strict=True))

    def verdicts(self) -> Iterator[tuple[Target, float, bool]]:
        for target in self.targets:
            ratio = self.ratio(target.peer, target.reference)
            yield target, ratio, ratio <= target.max_ratio


def interleave(peers: Sequence[Peer], budget: Budget) -> dict[str, list[float]]:
    """Time the peers round-robin: ``budget.warmup`` discarded rounds, then the kept ones."""
    gc.collect()
    samples: dict[str, list[float]] = {peer.name: [] for peer in peers}
    deadline = time.perf_counter() + budget.max_seconds
    for round_ in range(budget.warmup + budget.repeats):
        for peer in peers:
            seconds = peer.sampler()
            if round_ >= budget.warmup:
                samples[peer.name].append(seconds)
        kept = round_ + 1 - budget.warmup
        if kept >= budget.min_repeats and time.perf_counter() > deadline:
            break
    return samples


def duration(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _spread(values: list[float]) -> str:
    """The interquartile range, as a percentage of the median: how noisy the samples were."""
    q1, _, q3 = statistics.quantiles(values, n=4) if len(values) > 1 else (values[0],) * 3
    return f"±{50 * (q3 - q1) / statistics.median(values):.0f}%"


def render(result: Result) -> str:
    """A Markdown report: the peers' table, then each target with PASS or FAIL."""
    rows = [
        f"### {result.name}",
        "",
        f"{result.what}. Median of {len(result.samples[result.baseline])} interleaved "
        f"samples ({clock_name()}); spread = half the interquartile range; ratio = median "
        f"of the per-round ratios; baseline: `{result.baseline}`.",
        "",
    ]
    throughput = result.items is not None
    header = ["peer", "median", "spread", f"ratio to {result.baseline}"]
    header += ["samples/s"] * throughput + ["threads", "note"]
    rows += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for peer in result.peers:
        median = result.median(peer.name)
        cells = [f"`{peer.name}`", duration(median), _spread(result.samples[peer.name])]
        cells.append(f"{result.ratio(peer.name):.2f}x")
        if result.items is not None:
            cells.append(f"{result.items / median:,.0f}")
        cells += [peer.threads, peer.note]
        rows.append("| " + " | ".join(cells) + " |")
    if result.targets:
        rows += ["", "| target | measured | verdict |", "|---|---|---|"]
        for target, ratio, ok in result.verdicts():
            measured = (
                f"`{target.peer}` takes {ratio:.2f}x the time of `{target.reference}` "
                f"({1 / ratio:.2f}x its speed); allowed ≤ {target.max_ratio:.2f}x"
            )
            rows.append(f"| {target.text} | {measured} | {'PASS' if ok else 'FAIL'} |")
    if result.notes:
        rows += ["", *(f"- {note}" for note in result.notes)]
    return "\n".join(rows) + "\n"
