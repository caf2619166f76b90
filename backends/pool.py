"""Batches in worker processes: a crash or a hang costs one worker, not the run.

Each worker is a fresh process (spawned, so no state leaks from the parent)
with its own working directory and therefore its own Warp kernel cache. A
worker receives a batch of programs as DSL text, builds its backend once from a
factory ("module:callable"), and answers with one Outcome per program. When a
worker dies (segfault, abort) or overruns the timeout, it is killed and its
batch is split in two and retried in fresh workers; a batch of one program that
still dies is that program's finding (crash or timeout), and every other
program's result is kept.
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import os
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

from kernel_synth.grammar import Program, parse, print_program

from .outcome import Outcome

_CONTEXT = mp.get_context("spawn")


def load_factory(spec: str):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


class PoolError(RuntimeError):
    """A worker could not start: the harness is broken, no program is to blame."""


STARTUP_TIMEOUT = 300.0


WORKER_LOG = "worker.log"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _worker_main(conn, factory: str, options: dict, workdir: str) -> None:
    # Compilers chat on stdout and stderr (warnings about generated code); the
    # parent's streams are for results, so both go to the worker's log, whose
    # tail becomes part of a crash report.
    log = os.open(os.path.join(workdir, WORKER_LOG), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    try:
        backend = load_factory(factory)(workdir=workdir, **options)
    except Exception as exc:
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", ""))
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        texts, launch, seed = job
        programs = [parse(text) for text in texts]
        conn.send(backend.compile(programs, launch=launch, seed=seed))


@dataclass
class _Worker:
    process: object
    conn: object
    workdir: str
    job: list[int] | None = None  # indexes of the programs in flight
    deadline: float = 0.0


@dataclass
class BatchPool:
    """Runs batches through `factory` in `workers` processes.

    factory: "module:callable" building the backend in the worker, called as
    callable(workdir=..., **options); the backend has
    compile(programs, launch=, seed=) -> list[Outcome].
    """

    factory: str
    options: dict = field(default_factory=dict)
    workers: int = 2
    timeout: float = 60.0  # seconds a batch may take, plus per_program for each program in it
    per_program: float = 5.0
    root: str | None = None
    _alive: list[_Worker] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self._root = Path(self.root or tempfile.mkdtemp(prefix="ks-pool-"))
        self._root.mkdir(parents=True, exist_ok=True)
        self._count = 0

    def _spawn(self) -> _Worker:
        self._count += 1
        workdir = str(self._root / f"worker-{self._count}")
        os.makedirs(workdir, exist_ok=True)
        parent, child = _CONTEXT.Pipe()
        process = _CONTEXT.Process(target=_worker_main, args=(child, self.factory, self.options, workdir), daemon=True)
        process.start()
        child.close()
        worker = _Worker(process, parent, workdir)
        status, detail = "failed", f"no answer in {STARTUP_TIMEOUT:.0f} s"
        try:
            if parent.poll(STARTUP_TIMEOUT):
                status, detail = parent.recv()
        except (EOFError, OSError):
            detail = f"exited with code {process.exitcode} while starting"
        if status != "ready":
            self._kill(worker)
            raise PoolError(f"worker for {self.factory} could not start: {detail}")
        return worker

    def _kill(self, worker: _Worker) -> None:
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(timeout=5)
        worker.conn.close()
        shutil.rmtree(worker.workdir, ignore_errors=True)
        if worker in self._alive:
            self._alive.remove(worker)

    def run(self, programs: list[Program], batch_size: int = 32, launch: int = 32, seed: int = 0, on_result=None) -> list[Outcome]:
        """One Outcome per program, in order. `on_result(index, outcome)` is called as each lands."""
        texts = [print_program(p) for p in programs]
        results: list[Outcome | None] = [None] * len(programs)
        queue: list[list[int]] = [list(range(i, min(i + batch_size, len(programs)))) for i in range(0, len(programs), batch_size)]
        while queue or any(w.job is not None for w in self._alive):
            while queue and (len(self._alive) < self.workers or any(w.job is None for w in self._alive)):
                idle = next((w for w in self._alive if w.job is None), None) or self._add()
                job = queue.pop(0)
                idle.job = job
                idle.deadline = time.monotonic() + self.timeout + self.per_program * len(job)
                idle.conn.send(([texts[i] for i in job], launch, seed))
            busy = [w for w in self._alive if w.job is not None]
            timeout = max(0.0, min(w.deadline for w in busy) - time.monotonic())
            ready = wait([w.conn for w in busy], timeout=timeout)
            for worker in busy:
                if worker.conn in ready:
                    try:
                        outcomes = worker.conn.recv()
                    except (EOFError, OSError):
                        self._failed(worker, "crash", queue, results, on_result)
                        continue
                    for index, outcome in zip(worker.job, outcomes):
                        results[index] = outcome
                        if on_result:
                            on_result(index, outcome)
                    worker.job = None
                elif time.monotonic() >= worker.deadline:
                    self._failed(worker, "timeout", queue, results, on_result)
        return results  # type: ignore[return-value]

    def _add(self) -> _Worker:
        worker = self._spawn()
        self._alive.append(worker)
        return worker

    def _failed(self, worker: _Worker, status: str, queue, results, on_result) -> None:
        job = worker.job or []
        worker.process.join(timeout=5)  # reap it, so that its exit code is known
        code = worker.process.exitcode
        log = _tail(Path(worker.workdir) / WORKER_LOG)
        self._kill(worker)
        if len(job) == 1:
            if status == "crash":
                detail = f"worker killed by {_signal_name(-code)}" if code is not None and code < 0 else f"worker exited with code {code}"
            else:
                detail = "worker overran its time limit"
            if log:
                detail += "\n" + log
            results[job[0]] = Outcome(status, "compile", detail)
            if on_result:
                on_result(job[0], results[job[0]])
            return
        half = len(job) // 2
        queue[:0] = [job[:half], job[half:]]  # retried first, in fresh workers

    def close(self) -> None:
        for worker in list(self._alive):
            try:
                worker.conn.send(None)
            except (OSError, BrokenPipeError):
                pass
            worker.process.join(timeout=2)
            self._kill(worker)
        shutil.rmtree(self._root, ignore_errors=True)

    def __enter__(self) -> "BatchPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
