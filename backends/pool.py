"""Batches in worker processes: a crash or a hang costs one worker, not the run.

`BatchPool` sends batches of programs (as DSL text) to an executor
(`backends.executor`): by default `workers` spawned processes, each with its
own working directory (so its own Warp kernel cache) and a log of its stdout
and stderr, building its backend once from a factory ("module:callable") and
answering with one Outcome per program. When a worker dies (segfault, abort)
or overruns the batch's time limit, it is killed and its batch is split in two
and retried first, in the pool's workers (a dead one is replaced by a fresh
process); a batch of one program that still dies is that program's finding
(crash or timeout, with the tail of the worker's log), and every other
program's result is kept. A worker that cannot build its backend is a
PoolError: the harness is broken, no program is to blame.

The bisection lives here, above the executor, so that any executor (local
processes, a cluster) gets it unchanged.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path

from kernel_synth.grammar import Program, print_program

from .executor import (
    WORKER_LOG,
    Batch,
    BatchExecutor,
    ExecutorFactory,
    ProcessExecutor,
    WorkerCrashed,
    WorkerLost,
    WorkerStartError,
    WorkerTimedOut,
    load_factory,
)
from .outcome import Outcome, Stage, Status

__all__ = ["BatchPool", "PoolError", "load_factory", "WORKER_LOG"]


class PoolError(RuntimeError):
    """A worker could not start: the harness is broken, no program is to blame."""


# A batch the executor loses this many times is the harness's problem, not
# something to retry for ever.
LOST_RETRIES = 3


def _failure_outcome(status: Status, detail: str) -> Outcome:
    """The finding of a program that alone kills its worker: crash or timeout."""
    return Outcome(status, Stage.COMPILE, detail)


@dataclass
class BatchPool:
    """Runs batches through `factory` in `workers` processes.

    factory: "module:callable" building the backend in the worker, called as
    callable(workdir=..., **options); the backend has
    compile(programs, launch=, seed=) -> list[Outcome].
    executor: what runs the batches, called as
    executor(factory, options, workers=, root=) on the first run;
    local processes (ProcessExecutor) unless told otherwise.
    """

    factory: str
    options: dict = field(default_factory=dict)
    workers: int = 2
    timeout: float = 60.0  # seconds a batch may take, plus per_program for each program in it
    per_program: float = 5.0
    root: str | None = None
    executor: ExecutorFactory = field(default=ProcessExecutor, kw_only=True)

    def __post_init__(self) -> None:
        self.options = dict(self.options or {})
        self._root = Path(self.root or tempfile.mkdtemp(prefix="ks-pool-"))
        self._root.mkdir(parents=True, exist_ok=True)
        self._executor: BatchExecutor | None = None
        # `run` may be called from several threads at once (a pipeline keeps
        # the next batch queued behind the current one): the executor is
        # started once, and the busy-time account is shared.
        self._lock = threading.Lock()
        self._in_flight = 0
        self._busy = 0.0
        self._since = time.monotonic()

    def _started(self) -> BatchExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = self.executor(self.factory, self.options, workers=self.workers, root=self._root)
            return self._executor

    def _account(self, change: int) -> None:
        """Count the time since the last change as busy for as many workers
        as had a batch (queued batches beyond the workers wait, not work)."""
        with self._lock:
            now = time.monotonic()
            self._busy += (now - self._since) * min(self._in_flight, self.workers)
            self._in_flight += change
            self._since = now

    @property
    def busy_seconds(self) -> float:
        """Worker-seconds spent with a batch (starting a worker included)."""
        self._account(0)
        return self._busy

    def run(self, programs: list[Program], batch_size: int = 32, launch: int = 32, seed: int = 0, on_result=None) -> list[Outcome]:
        """One Outcome per program, in order. `on_result(index, outcome)` is called as each lands."""
        texts = [print_program(p) for p in programs]
        results: list[Outcome | None] = [None] * len(programs)

        def land(index: int, outcome: Outcome) -> None:
            results[index] = outcome
            if on_result:
                on_result(index, outcome)

        queue: deque[list[int]] = deque(list(range(i, min(i + batch_size, len(programs)))) for i in range(0, len(programs), batch_size))
        running: dict[Future, list[int]] = {}
        lost: dict[tuple[int, ...], int] = {}
        while queue or running:
            executor = self._started()
            # No more in flight than the executor runs at once, so that the
            # halves of a failed batch, queued first, are the next to run.
            while queue and len(running) < executor.workers:
                job = queue.popleft()
                batch = Batch(tuple(texts[i] for i in job), launch, seed)
                self._account(+1)
                future = executor.submit(batch, self.timeout + self.per_program * len(job))
                future.add_done_callback(lambda _: self._account(-1))
                running[future] = job
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in [f for f in running if f in done]:
                job = running.pop(future)
                try:
                    outcomes = future.result()
                except WorkerStartError as exc:
                    raise PoolError(f"worker for {self.factory} could not start: {exc}") from None
                except (WorkerCrashed, WorkerTimedOut) as exc:
                    if len(job) == 1:
                        detail = str(exc) + (f"\n{exc.log}" if exc.log else "")
                        land(job[0], _failure_outcome(Status.CRASH if isinstance(exc, WorkerCrashed) else Status.TIMEOUT, detail))
                    else:
                        half = len(job) // 2
                        queue.extendleft([job[half:], job[:half]])
                except WorkerLost as exc:
                    key = tuple(job)
                    lost[key] = lost.get(key, 0) + 1
                    if lost[key] >= LOST_RETRIES:
                        raise PoolError(f"workers for {self.factory} lost the same batch {lost[key]} times: {exc}") from None
                    queue.appendleft(job)
                else:
                    for index, outcome in zip(job, outcomes):
                        land(index, outcome)
        return results  # type: ignore[return-value]

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown()
            self._executor = None
        shutil.rmtree(self._root, ignore_errors=True)

    def __enter__(self) -> "BatchPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
