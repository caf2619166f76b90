"""What runs batches of programs: workers that keep a warm backend.

`BatchExecutor` is the interface the rest of the code depends on (through
`backends.pool.BatchPool`): submit a `Batch` with a time limit, get a
`concurrent.futures.Future` of one Outcome per program. A worker that dies
makes the future raise `WorkerCrashed` (exit code, tail of its log), one that
overruns the limit `WorkerTimedOut`, one whose backend cannot be built
`WorkerStartError`, and a batch whose fate the executor lost track of
`WorkerLost` (running it again is safe). Splitting a failing batch to find its
culprit is the caller's business, not the executor's.

`ProcessExecutor` is the local implementation, on `pebble.ProcessPool`
(spawned processes, so nothing leaks from the parent). `RayExecutor`
(backends.ray_executor) is the cluster one: each Ray actor runs a
one-process ProcessExecutor on its node. A `Placement` says which executor
each of a run's pools gets (`LOCAL`, or a `RayPlacement`).

Worker side (`run_batch`): the first batch a process receives gives it a fresh
working directory under the pool's root (its own Warp kernel cache), sends its
stdout and stderr to a log there, and builds the backend from its factory
("module:callable", called as callable(workdir=..., **options)); later batches
reuse both. Building the backend counts against that first batch's time limit,
and a worker that dies or overruns before its backend is built is a
WorkerStartError: no program had run yet.
"""

from __future__ import annotations

import abc
import functools
import importlib
import itertools
import multiprocessing as mp
import os
import shutil
import signal
import sys
import tempfile
import traceback
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pebble

from kernel_synth.grammar import parse

from .outcome import Outcome

WORKER_LOG = "worker.log"
# In a worker's directory once its backend is built: a worker that dies
# without it never got as far as a program, so the harness is to blame.
BACKEND_READY = "backend.ready"


def load_factory(spec: str):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Batch:
    """Programs as DSL text, compiled (and run) together in one worker."""

    texts: tuple[str, ...]
    launch: int = 32
    seed: int = 0


class WorkerStartError(RuntimeError):
    """The worker could not build its backend: no program is to blame."""


class WorkerCrashed(RuntimeError):
    """The worker died while it had the batch: a segfault, an abort, an exit."""

    def __init__(self, exitcode: int | None, log: str = ""):
        self.exitcode = exitcode
        self.log = log  # the tail of the worker's log
        super().__init__(describe_exit(exitcode))

    def __reduce__(self):
        # rebuilt from its fields, not its message: a cluster executor's
        # worker sends it back to the driver pickled
        return type(self), (self.exitcode, self.log)


class WorkerTimedOut(RuntimeError):
    """The worker overran the batch's time limit and was killed."""

    def __init__(self, timeout: float, log: str = ""):
        self.timeout = timeout
        self.log = log
        super().__init__("worker overran its time limit")

    def __reduce__(self):
        return type(self), (self.timeout, self.log)


class WorkerLost(RuntimeError):
    """The executor lost track of the batch (its pool broke, a node went
    away): nothing is known about the programs, and running it again is safe."""


def describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"worker killed by {name}"
    return f"worker exited with code {code}"


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class BatchExecutor(abc.ABC):
    """Workers that each keep one backend warm, running one batch at a time.

    Shaped like `concurrent.futures.Executor`: `submit` returns a Future,
    `shutdown` ends the workers, and it is a context manager.
    """

    workers: int  # batches it runs at once; more submitted ones wait their turn

    @abc.abstractmethod
    def submit(self, batch: Batch, timeout: float) -> Future:
        """A Future of list[Outcome], one per program of `batch`, in order.

        It raises WorkerCrashed, WorkerTimedOut (after `timeout` seconds of
        running), WorkerStartError or WorkerLost, as their docstrings say."""

    @abc.abstractmethod
    def shutdown(self) -> None:
        """End the workers; batches still in flight are abandoned."""

    def __enter__(self) -> "BatchExecutor":
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()


class ExecutorFactory(Protocol):
    """How BatchPool builds its executor: a BatchExecutor class fits."""

    def __call__(self, factory: str, options: dict, *, workers: int, root: Path) -> BatchExecutor: ...


class Placement(Protocol):
    """Where a run's worker pools go: local processes, or a cluster's
    (backends.ray_executor). The campaign, its judge and the dataset writer
    ask it for each pool's executor and know nothing else about it."""

    name: str  # "local", "ray": what a summary reports

    def executor(self, *, needs_device: bool, side: bool, nice: int = 0) -> ExecutorFactory:
        """The executor of a pool for a backend that needs a GPU to run
        (`needs_device`) or not; a `side` pool (shrinking, confirmation,
        gradient and process-state checks) runs beside the fuzzing workers,
        which have the cores; `nice` lowers its workers' priority."""
        ...


@dataclass(frozen=True)
class LocalPlacement:
    """Every pool in processes on this machine (ProcessExecutor)."""

    name: str = "local"

    def executor(self, *, needs_device: bool, side: bool, nice: int = 0) -> ExecutorFactory:
        return functools.partial(ProcessExecutor, nice=nice) if nice else ProcessExecutor


LOCAL = LocalPlacement()


# -- the worker side


@dataclass(frozen=True)
class StartFailed:
    detail: str


_workdir: Path | None = None
_backends: dict[str, object] = {}


def _enter_workdir(root: str) -> Path:
    global _workdir
    if _workdir is None:
        # Named for the process, and unique even when a pid comes round again.
        workdir = Path(tempfile.mkdtemp(prefix=f"worker-{os.getpid()}-", dir=root))
        # Compilers leave temporary files behind when their process is killed
        # (Warp's per-thread precompiled headers, NVRTC's automatic ones:
        # 5 MB and 77 MB a process); in the worker's directory they go with it.
        scratch = workdir / "tmp"
        scratch.mkdir()
        os.environ["TMPDIR"] = str(scratch)
        tempfile.tempdir = str(scratch)
        # Compilers chat on stdout and stderr (warnings about generated code);
        # the tail of the log is part of a crash report.
        log = os.open(workdir / WORKER_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        if sys.stdout is not None:  # what was printed before a crash reaches the log
            sys.stdout.reconfigure(line_buffering=True)
        _workdir = workdir
    return _workdir


def run_batch(factory: str, options: dict, batch: Batch, root: str, claim: str, nice: int = 0) -> list[Outcome] | StartFailed:
    """One Outcome per program of `batch`, on this process's warm backend.

    `claim` is a file naming this worker's directory, so that whoever
    submitted the batch finds the log of the worker that took it even when
    the worker is gone. A backend that cannot be built is a StartFailed;
    an exception escaping the backend ends the process (exit code 1, the
    traceback in the log), as a crash would: the batch is bisected and the
    next one gets a fresh worker."""
    try:
        workdir = _enter_workdir(root)
        Path(claim).write_text(str(workdir))
    except OSError as exc:
        return StartFailed(f"no working directory under {root}: {exc}")
    key = f"{factory} {sorted(options.items())!r}"
    backend = _backends.get(key)
    if backend is None:
        if nice:
            os.nice(nice)  # once per process: its first batch builds the backend
        try:
            backend = load_factory(factory)(workdir=str(workdir), **options)
        except Exception as exc:
            return StartFailed(f"{type(exc).__name__}: {exc}")
        _backends[key] = backend
        (workdir / BACKEND_READY).touch()
    try:
        programs = [parse(text) for text in batch.texts]
        return backend.compile(programs, launch=batch.launch, seed=batch.seed)
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(1)


# -- local processes


_SPAWN = mp.get_context("spawn")


class ProcessExecutor(BatchExecutor):
    """`workers` spawned processes under pebble: pebble kills the worker of a
    batch that overruns its limit, replaces workers that die, and says which
    batch a dead worker had."""

    def __init__(self, factory: str, options: dict, *, workers: int, root: Path, nice: int = 0, initializer=None):
        self.factory = factory
        self.nice = nice  # added to each worker's niceness: lower priority for work that may wait
        # run first in each worker process (a module-level function: it is
        # pickled to the spawned process)
        self.initializer = initializer
        self.options = dict(options)
        self.workers = workers
        self.root = Path(root)
        self._claims = self.root / "claims"
        self._claims.mkdir(parents=True, exist_ok=True)
        self._tokens = itertools.count()
        self._pool: pebble.ProcessPool | None = None
        self._broken = False

    def _processes(self) -> pebble.ProcessPool:
        if self._pool is not None and self._broken:
            self._stop()
        if self._pool is None:
            # Started on the first batch: a pool that is never used costs nothing.
            self._pool = pebble.ProcessPool(max_workers=self.workers, context=_SPAWN, initializer=self.initializer)
            self._broken = False
        return self._pool

    def submit(self, batch: Batch, timeout: float) -> Future:
        claim = self._claims / str(next(self._tokens))
        args = (self.factory, self.options, batch, str(self.root), str(claim), self.nice)
        try:
            inner = self._processes().schedule(run_batch, args=args, timeout=timeout)
        except RuntimeError:  # pebble's pool broke between batches: start another
            self._broken = True
            inner = self._processes().schedule(run_batch, args=args, timeout=timeout)
        outer: Future = Future()
        outer.set_running_or_notify_cancel()
        inner.add_done_callback(lambda done: self._settle(done, outer, claim, timeout))
        return outer

    def _settle(self, inner: Future, outer: Future, claim: Path, timeout: float) -> None:
        # Runs in pebble's manager thread, before it replaces a dead worker.
        try:
            result = inner.result()
        except pebble.ProcessExpired as exc:
            outer.set_exception(self._failure(claim, WorkerCrashed(exc.exitcode)))
        except TimeoutError:
            outer.set_exception(self._failure(claim, WorkerTimedOut(timeout)))
        except BrokenProcessPool as exc:
            # pebble gives up on every batch in flight when it cannot tell
            # which one a dead worker had (it died before its batch was
            # acknowledged): the pool is replaced at the next submit.
            self._broken = True
            outer.set_exception(WorkerLost(f"the process pool broke: {exc}"))
        except BaseException as exc:  # the harness's own failure (pickling): not a program's
            outer.set_exception(exc)
        else:
            if isinstance(result, StartFailed):
                outer.set_exception(WorkerStartError(result.detail))
            else:
                outer.set_result(result)
        finally:
            claim.unlink(missing_ok=True)

    def _failure(self, claim: Path, error: WorkerCrashed | WorkerTimedOut) -> Exception:
        try:
            workdir = Path(claim.read_text())
        except OSError:
            workdir = None
        if workdir is None:
            return WorkerStartError(f"{error} before it took the batch")
        error.log = tail(workdir / WORKER_LOG)
        ready = (workdir / BACKEND_READY).exists()
        shutil.rmtree(workdir, ignore_errors=True)  # its kernel cache goes with it
        if not ready:
            return WorkerStartError(f"{error} while building its backend" + (f"\n{error.log}" if error.log else ""))
        return error

    def _stop(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()
            pool.join()

    def shutdown(self) -> None:
        self._stop()
