"""What the benchmarks that repeat a recipe over seeds share: running the seeds in
worker processes, logging each finished run at once, and summarising over seeds.

Used by ``mode_collapse.py`` and ``semi_supervised.py``.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import signal
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool


def run_parallel(fn, jobs: list[dict], processes: int, log) -> Iterator[dict]:
    """``fn(job)`` for every job in ``processes`` fresh (spawned) worker processes,
    yielding results as they finish. A worker that dies (killed, out of memory)
    ends the benchmark with one line instead of leaving it waiting for ever; so
    does SIGTERM (a time limit's), which ends the workers with it: what each
    finished is in ``log`` (and whatever they log per epoch)."""
    previous = signal.signal(signal.SIGTERM, _terminated)
    pool = ProcessPoolExecutor(processes, mp_context=mp.get_context("spawn"))
    pending = [pool.submit(fn, job) for job in jobs]
    try:
        for future in as_completed(pending):
            yield future.result()
    except BrokenProcessPool:
        unfinished = sum(not f.done() or f.exception() is not None for f in pending)
        raise SystemExit(f"a worker process died (killed, or out of memory) with {unfinished} of {len(jobs)} "
                         f"runs unfinished; what finished is in {log}; rerun the rest (e.g. with --first-seed)")
    finally:
        if not all(f.done() for f in pending):  # stopped early: end the workers, which would train on
            for worker in mp.active_children():
                worker.kill()
        pool.shutdown(wait=True, cancel_futures=True)
        signal.signal(signal.SIGTERM, previous)


def _terminated(signum, frame):
    raise SystemExit(f"stopped by signal {signum}")


def run_logged(fn, jobs: list[dict], processes: int, log) -> Iterator[dict]:
    """:func:`run_parallel`, each result appended to the JSONL file ``log`` as it finishes."""
    for result in run_parallel(fn, jobs, processes, log):
        append_jsonl(log, result)
        yield result


def append_jsonl(path, record: dict) -> None:
    """Add ``record`` as one JSON line to ``path`` at once, so that what a long
    benchmark has finished survives its interruption."""
    with open(path, "a") as log:
        log.write(json.dumps(record) + "\n")


def mean_se(values: list[float], fmt: str = ".3g", se_fmt: str = ".2g") -> str:
    """``mean ± standard error`` of results over seeds (just the mean for one)."""
    m = sum(values) / len(values)
    if len(values) < 2:
        return f"{m:{fmt}}"
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))
    return f"{m:{fmt}} ± {sd / math.sqrt(len(values)):{se_fmt}}"
