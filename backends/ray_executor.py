"""Batches on a Ray cluster: the `BatchExecutor` of backends.executor, its
workers Ray actors spread over the cluster's nodes.

Each actor is its node's supervisor of one worker: it keeps a one-process
`ProcessExecutor` (a spawned process with its own working directory, so its
own Warp kernel cache, and the warm backend) and hands it the batches the
driver sends. The backend does not run in the actor itself because Ray says
only that an actor died, not how: a worker process under the actor dies
alone, and the actor reports its exit signal and the tail of its log exactly
as the local executor does (so a crash has the same signature, and lands in
the same bucket, on one machine or a hundred); a worker that overruns its
limit is killed on its own node. The batch's future raises the same
WorkerCrashed, WorkerTimedOut and WorkerStartError as locally, so BatchPool's
culprit-or-bisect works unchanged above it.

What the actor itself suffers (killed, its node gone, no answer long after
the batch's limit) is no program's doing: the batch is WorkerLost, which the
pool runs again whole, and the actor is replaced by a new one.

Resources (`actor_resources`): a fuzzing worker holds one CPU of the cluster,
so the workers spread over the nodes by their cores; a pool beside the
fuzzing (shrinking, confirmation, gradient and process-state checks) holds
none, as it shares the cores locally. A backend that runs its programs on a
GPU asks for a share of one where the cluster has GPUs, which places it on
their nodes alone; on a cluster without any it only compiles, anywhere.

Nothing here imports Ray until it is used: `kernel-synth[ray]` is an extra.
"""

from __future__ import annotations

import ctypes
import logging
import math
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from .executor import Batch, BatchExecutor, ExecutorFactory, ProcessExecutor, WorkerCrashed, WorkerLost, WorkerStartError, WorkerTimedOut

INSTALL_HINT = "pip install 'kernel-synth[ray]'"
# Environment variables the backends read (the faults a test injects), sent
# with every actor: on a cluster the workers do not inherit the driver's.
FORWARDED_PREFIX = "KERNEL_SYNTH_"
# Seconds past a batch's limit before the driver gives up on the actor that
# has it: a new actor may first wait to be placed and start its worker;
# a warm one answers within its worker's own limit, as its worker is killed
# there.
START_GRACE = 180.0
ANSWER_GRACE = 30.0
# Pools beside the fuzzing that may hold a GPU share at once: the shrinker's,
# a confirmation's, the gradient checker's, a process-state check's
SIDE_POOLS = 4


class RayUnavailable(Exception):
    """Ray is not installed, or there is no cluster where the user said: a
    user error, its message says what to do."""


def require_ray():
    try:
        import ray
    except ImportError:
        raise RayUnavailable(f"the Python package 'ray' is not installed: {INSTALL_HINT}") from None
    return ray


# -- placement


@dataclass(frozen=True)
class ActorResources:
    """What one actor asks of the cluster (Ray's logical resources)."""

    num_cpus: float = 1.0
    num_gpus: float = 0.0


def actor_resources(*, needs_device: bool, side: bool, workers: int, cluster: Mapping[str, float]) -> ActorResources:
    """An actor's request: a CPU for a fuzzing worker, none for a pool beside
    the fuzzing; for a backend that runs on a GPU, a share of one such that
    `workers` fuzzing actors and the side pools fit on the cluster's GPUs
    together (Ray takes a share below 1 on one GPU, four decimals at most)."""
    gpus = cluster.get("GPU", 0.0)
    if not needs_device or gpus <= 0:
        return ActorResources(num_cpus=0.0 if side else 1.0)
    share = gpus / (workers + SIDE_POOLS)
    share = 1.0 if share >= 1 else math.floor(share * 1e4) / 1e4
    return ActorResources(num_cpus=0.0 if side else 1.0, num_gpus=max(share, 1e-4))


@dataclass(frozen=True)
class RayPlacement:
    """Every pool on the Ray cluster the driver is connected to (`connect`).

    workers: the fuzzing workers per backend, for the GPU shares; cluster:
    its resources when the run began (`ray.cluster_resources()`); env: more
    environment variables for the actors (a test's import path)."""

    workers: int
    cluster: Mapping[str, float]
    env: Mapping[str, str] = field(default_factory=dict)
    name: str = "ray"

    def executor(self, *, needs_device: bool, side: bool, nice: int = 0) -> ExecutorFactory:
        resources = actor_resources(needs_device=needs_device, side=side, workers=self.workers, cluster=self.cluster)

        def build(factory: str, options: dict, *, workers: int, root: Path) -> BatchExecutor:
            return RayExecutor(factory, options, workers=workers, root=root, nice=nice, resources=resources, env=self.env)

        return build


def connect(address: str | None) -> bool:
    """Connect this process to the cluster at `address` ("auto": the one
    `ray start` runs on this machine), or, with None, to a Ray started here
    for this run. True when this call connected (the caller disconnects with
    `ray.shutdown()`), False when the process was connected already."""
    ray = require_ray()
    if ray.is_initialized():
        return False
    if address not in (None, "auto") and not address.startswith("ray://"):
        _probe(address)
    # the workers log to their own files; Ray's own chatter is not the user's
    options = {"logging_level": logging.ERROR, "log_to_driver": False}
    if address is None:
        options["include_dashboard"] = False
    try:
        ray.init(address=address, **options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        if address == "auto":
            raise RayUnavailable("auto: no Ray cluster runs on this machine; start one with `ray start --head`") from None
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise RayUnavailable(f"no Ray cluster at {address!r} ({first}); start one with `ray start --head`") from None
    return True


def _probe(address: str, seconds: float = 5.0) -> None:
    """A cluster's head must answer at HOST:PORT: Ray itself retries an
    address where nothing listens for minutes, printing as it goes."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise RayUnavailable(f"{address!r} is not auto, HOST:PORT or ray://HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=seconds).close()
    except OSError as exc:
        raise RayUnavailable(f"nothing answers at {address} ({exc.strerror or exc}); start a cluster there with `ray start --head`") from None


def cluster_resources() -> dict[str, float]:
    return dict(require_ray().cluster_resources())


def node_count() -> int:
    return sum(1 for node in require_ray().nodes() if node.get("Alive"))


# -- the actor's side


def die_with_parent() -> None:
    """In the actor's worker process: die when the actor does. An actor that
    is killed (ray.kill, a lost node) cannot stop its worker, which might be
    in the middle of a hang; Linux sends this signal when the parent ends."""
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass(frozen=True)
class Failed:
    """What the actor answers when its worker failed the batch (the error is
    one of backends.executor's, which pickle with their fields)."""

    error: Exception


class BatchWorker:
    """The actor: one worker process under a ProcessExecutor on this node."""

    def __init__(self, factory: str, options: dict, nice: int):
        self.root = Path(tempfile.mkdtemp(prefix="ks-ray-"))  # on the actor's own node
        self.executor = ProcessExecutor(factory, options, workers=1, root=self.root, nice=nice, initializer=die_with_parent)

    def where(self) -> str:
        return f"{require_ray().util.get_node_ip_address()} pid {os.getpid()}"

    def run(self, batch: Batch, timeout: float):
        try:
            return self.executor.submit(batch, timeout).result()
        except (WorkerCrashed, WorkerTimedOut, WorkerStartError, WorkerLost) as exc:
            return Failed(exc)

    def close(self) -> None:
        self.executor.shutdown()
        shutil.rmtree(self.root, ignore_errors=True)


# -- the driver's side


@dataclass
class _Running:
    actor: object
    future: Future
    deadline: float  # monotonic: past it the actor is given up


class RayExecutor(BatchExecutor):
    """`workers` actors, started as batches come, each running one batch at a
    time. A thread of the driver waits for their answers (`ray.wait`) and
    settles each batch's future; an actor that dies or does not answer in
    time is replaced and its batch is WorkerLost.

    `root` is unused: each actor keeps its workers' directories on its own
    node."""

    def __init__(self, factory: str, options: dict, *, workers: int, root: Path | None = None, nice: int = 0,
                 resources: ActorResources = ActorResources(), env: Mapping[str, str] | None = None):
        self.ray = require_ray()
        self.factory = factory
        self.options = dict(options)
        self.workers = workers
        self.nice = nice
        self.resources = resources
        env_vars = {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_PREFIX)}
        env_vars.update(env or {})
        self._actor_class = self.ray.remote(BatchWorker).options(
            num_cpus=resources.num_cpus, num_gpus=resources.num_gpus, max_restarts=0, max_task_retries=0,
            runtime_env={"env_vars": env_vars} if env_vars else None,
        )
        self._lock = threading.Lock()
        self._idle: deque = deque()  # actors with no batch, warm
        self._actors = 0  # alive or starting
        self._used: set = set()  # actors that have answered once: warm, placed
        self._waiting: deque[tuple[Batch, float, Future]] = deque()
        self._running: dict = {}  # ObjectRef -> _Running
        self._closed = False
        self._wake = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="ray-executor", daemon=True)
        self._watcher.start()

    def submit(self, batch: Batch, timeout: float) -> Future:
        if self._closed:
            raise RuntimeError("the Ray executor is shut down")
        outer: Future = Future()
        outer.set_running_or_notify_cancel()
        with self._lock:
            self._waiting.append((batch, timeout, outer))
        self._dispatch()
        return outer

    def _dispatch(self) -> None:
        """Give waiting batches to idle actors, starting new ones up to `workers`."""
        with self._lock:
            while self._waiting and not self._closed:
                if self._idle:
                    actor = self._idle.popleft()
                elif self._actors < self.workers:
                    actor = self._actor_class.remote(self.factory, self.options, self.nice)
                    self._actors += 1
                else:
                    break
                batch, timeout, outer = self._waiting.popleft()
                grace = ANSWER_GRACE if actor in self._used else START_GRACE
                ref = actor.run.remote(batch, timeout)
                self._running[ref] = _Running(actor, outer, time.monotonic() + timeout + grace)
        self._wake.set()

    def _watch(self) -> None:
        ray = self.ray
        while not self._closed:
            with self._lock:
                refs = list(self._running)
            if not refs:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            try:
                done, _ = ray.wait(refs, num_returns=1, timeout=0.5)
            except Exception as exc:
                if self._closed:  # Ray shut down under us: the executor is being closed
                    return
                # the driver lost Ray itself: nothing is known of these batches
                self._lose_all(f"waiting for the Ray actors failed: {_first_line(exc)}")
                continue
            for ref in done:
                self._settle(ref)
            self._give_up_overdue()
            self._dispatch()

    def _settle(self, ref) -> None:
        ray = self.ray
        with self._lock:
            running = self._running.pop(ref, None)
        if running is None:  # given up already
            return
        actor, outer = running.actor, running.future
        try:
            result = ray.get(ref)
        except (ray.exceptions.RayActorError, ray.exceptions.ObjectLostError) as exc:
            # the actor (or its node) is gone: no program is to blame
            self._replace(actor)
            outer.set_exception(WorkerLost(f"the Ray actor died: {_first_line(exc)}"))
            return
        except Exception as exc:  # an error of the harness itself (pickling, a bug): not a program's
            self._release(actor)
            outer.set_exception(exc)
            return
        self._release(actor)
        if isinstance(result, Failed):
            outer.set_exception(result.error)
        else:
            outer.set_result(result)

    def _give_up_overdue(self) -> None:
        now = time.monotonic()
        with self._lock:
            overdue = [(ref, r) for ref, r in self._running.items() if now > r.deadline]
            for ref, _ in overdue:
                del self._running[ref]
        for _, running in overdue:
            self.ray.kill(running.actor, no_restart=True)
            self._replace(running.actor)
            res = self.resources
            running.future.set_exception(WorkerLost(
                f"the Ray actor did not answer in time (no node with {res.num_cpus:g} CPU and {res.num_gpus:g} GPU free, or a node lost): replaced"
            ))

    def _lose_all(self, why: str) -> None:
        with self._lock:
            running, self._running = list(self._running.values()), {}
            self._actors -= len(running)
        for r in running:
            try:
                self.ray.kill(r.actor, no_restart=True)  # replaced by the next batch
            except Exception:
                pass  # dead already, or Ray is gone with it
            r.future.set_exception(WorkerLost(why))

    def _release(self, actor) -> None:
        with self._lock:
            self._used.add(actor)
            if self._closed:
                return
            self._idle.append(actor)

    def _replace(self, actor) -> None:
        """Forget a dead actor: the next batch starts a new one in its place."""
        with self._lock:
            self._actors -= 1
            self._used.discard(actor)

    def actors(self) -> list:
        """The actors with a batch now (for tests that kill one)."""
        with self._lock:
            return [r.actor for r in self._running.values()]

    def shutdown(self) -> None:
        """Close idle actors (they delete their directories), kill busy ones;
        a batch in flight or waiting fails with a RuntimeError, never retried."""
        ray = self.ray
        with self._lock:
            if self._closed:
                return
            self._closed = True
            idle, self._idle = list(self._idle), deque()
            running, self._running = list(self._running.values()), {}
            waiting, self._waiting = list(self._waiting), deque()
        self._wake.set()
        stopped = RuntimeError("the Ray executor was shut down")
        for r in running:
            r.future.set_exception(stopped)
        for _, _, outer in waiting:
            outer.set_exception(stopped)
        if not ray.is_initialized():
            return
        if idle:
            try:
                ray.wait([a.close.remote() for a in idle], num_returns=len(idle), timeout=10)
            except Exception:
                pass  # it is killed below either way
        for actor in idle + [r.actor for r in running]:
            try:
                ray.kill(actor, no_restart=True)
            except Exception:
                pass  # dead already


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    # Ray's messages open with a generic line and say why at the end
    return lines[-1] if lines else type(exc).__name__
