"""Load profiles: closed loop at a fixed concurrency, open loop at a constant or Poisson rate,
and the sweep (synchronous, saturation, then rates spaced linearly between the two)."""

from __future__ import annotations

import asyncio
import itertools
import random
import sys
import time
from dataclasses import dataclass, field

from .client import Client, Result


@dataclass
class Step:
    index: int
    mode: str  # "concurrency" | "rate"
    offered: float  # concurrency, or requests/s
    arrival: str = "closed"  # closed | constant | poisson
    label: str = ""
    wall_start: float = 0.0
    wall_end: float = 0.0
    perf_start: float = 0.0
    perf_end: float = 0.0
    done: int = 0
    cpu_start: float = 0.0
    cpu_end: float = 0.0
    results: list[Result] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return max(self.perf_end - self.perf_start, 1e-9)


class Progress:
    """A one-line progress bar on stderr (only on a terminal unless forced)."""

    def __init__(self, enabled: bool | None = None, total_steps: int = 1):
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.total_steps = total_steps
        self._last = 0.0

    def update(self, step: Step, budget_s: float, force: bool = False):
        if not self.enabled:
            return
        now = time.perf_counter()
        if not force and now - self._last < 0.25:
            return
        self._last = now
        frac = min(1.0, (now - step.perf_start) / budget_s) if budget_s > 0 else 1.0
        filled = "#" * int(frac * 30)
        err = sum(1 for r in step.results if r.error)
        ok = step.done - err
        sys.stderr.write(
            "\r  step %d/%d %-22s [%-30s] %3d%%  %d done, %d errors "
            % (step.index + 1, self.total_steps, step.label[:22], filled, frac * 100, ok, err)
        )
        if force:
            sys.stderr.write("\n")
        sys.stderr.flush()


class PromptFeed:
    """Cycles through the dataset; each request takes the next prompt (pre-encoded bodies)."""

    def __init__(self, client: Client, prompts):
        self._bodies = [client.body(p.text, p.output_tokens) for p in prompts]
        self._it = itertools.cycle(self._bodies)

    def next(self) -> bytes:
        return next(self._it)


async def closed_loop(
    client: Client, feed: PromptFeed, step: Step, duration: float, max_requests: int, progress: Progress | None = None
) -> Step:
    """``offered`` workers, each sends its next request as soon as the previous one ends, until the
    step's time or request budget is spent; requests in flight then finish (they count)."""
    concurrency = int(step.offered)
    sent = 0
    step.wall_start, step.perf_start, step.cpu_start = time.time(), time.perf_counter(), time.process_time()
    deadline = step.perf_start + duration

    async def worker():
        nonlocal sent
        while time.perf_counter() < deadline and sent < max_requests:
            sent += 1
            res = Result(step.index, None)
            step.results.append(res)
            await client.request(feed.next(), res)
            step.done += 1
            if progress:
                progress.update(step, duration)

    await asyncio.gather(*(worker() for _i in range(concurrency)))
    step.wall_end, step.perf_end, step.cpu_end = time.time(), time.perf_counter(), time.process_time()
    return step


def arrivals(rate: float, kind: str, duration: float, max_requests: int, seed: int) -> list[float]:
    """Send offsets (s) of an open-loop step: constant = i/rate; Poisson = exponential gaps."""
    rng = random.Random(seed)
    out, t = [], 0.0
    while len(out) < max_requests:
        t = t + rng.expovariate(rate) if kind == "poisson" else len(out) / rate
        if t >= duration - 1e-9:
            break
        out.append(t)
    return out


async def open_loop(
    client: Client,
    feed: PromptFeed,
    step: Step,
    duration: float,
    max_requests: int,
    seed: int,
    max_concurrency: int = 0,
    progress: Progress | None = None,
) -> Step:
    """Requests go out at the scheduled times whatever the server's state (no waiting on
    responses); ``dispatch_lag`` records how late each one left (client overhead)."""
    offsets = arrivals(step.offered, step.arrival, duration, max_requests, seed + step.index)
    sem = asyncio.Semaphore(max_concurrency) if max_concurrency > 0 else None
    tasks = []
    perf = time.perf_counter
    step.wall_start, t0, step.cpu_start = time.time(), perf(), time.process_time()
    step.perf_start = t0

    async def one(res: Result, body: bytes):
        if sem is None:
            await client.request(body, res)
        else:
            async with sem:
                await client.request(body, res)
        step.done += 1

    i, n = 0, len(offsets)
    while i < n:
        now = perf()
        while i < n and t0 + offsets[i] <= now:
            res = Result(step.index, t0 + offsets[i])
            step.results.append(res)
            tasks.append(asyncio.ensure_future(one(res, feed.next())))
            i += 1
        if progress:
            progress.update(step, duration)
        if i < n:
            delay = t0 + offsets[i] - perf()
            if delay > 0:
                await asyncio.sleep(delay)
    if tasks:
        await asyncio.gather(*tasks)
    step.wall_end, step.perf_end, step.cpu_end = time.time(), perf(), time.process_time()
    return step


def sweep_rates(sync_rate: float, max_rate: float, between: int) -> list[float]:
    """``between`` rates spaced linearly strictly between the synchronous and saturation rates."""
    if between <= 0:
        return []
    lo, hi = min(sync_rate, max_rate), max(sync_rate, max_rate)
    return [round(lo + (hi - lo) * i / (between + 1), 3) for i in range(1, between + 1)]
