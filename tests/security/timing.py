"""CPU time of a call, for the complexity tests (a size n and 8n in one test, serially)."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable


def cpu_cost(work: Callable[[object], object], argument: object, *, sample: float) -> float:
    """This thread's CPU seconds per call (another process on a shared machine, or the other
    test worker, does not count), best of three samples of at least `sample` seconds: a fast
    call is repeated to rise above the timer's noise."""
    started = time.thread_time()
    work(argument)
    calls = max(1, int(sample / max(time.thread_time() - started, 1e-6)))
    best = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            started = time.thread_time()
            for _ in range(calls):
                work(argument)
            best = min(best, (time.thread_time() - started) / calls)
    finally:
        gc.enable()
    return best
