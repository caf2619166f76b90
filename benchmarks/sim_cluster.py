"""What a campaign's driver can keep up with: the evidence for sizing a cluster.

    python benchmarks/sim_cluster.py [--rate 20] [--workers 2,8,32,128] [--budget 30s] [--actors 16] [--nodes 100 --cores 16]

The workers of a campaign compile; its driver (the one `synth fuzz` process)
draws every program, runs the NumPy reference on it, judges it, writes the
state after every batch and the corpus for every new bucket. This measures
each of those costs on this machine and the driver's ceiling, in three parts:

1. The real campaign driver fed by W fake workers (in-process, no CPU of
   their own): each answers a batch after len(batch) / --rate seconds, as a
   core compiling at --rate programs/s would (take the per-core rate from
   bench_executors.py). Prints, per W, the programs/s reached against the
   ideal W x rate, and the driver's CPU seconds per program.
2. The driver's steps one by one on the same programs: drawing, printing,
   the reference, judging, one state write, one corpus write.
3. Ray's share: batches of 32 programs through --actors real Ray actors whose
   backend answers at once (pool_fakes' echo): the driver's CPU per batch
   and the round trip; and the warm-up of an actor on warp-cpu (the actor,
   its worker process, Warp's import and first module) against a warm batch.

Then it prints what --nodes nodes of --cores cores ask of the driver at
--rate programs/s per core, and which step runs out first.
"""

from __future__ import annotations

import argparse
import heapq
import json
import logging
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from kernel_synth.backends.executor import Batch, BatchExecutor
from kernel_synth.backends.outcome import Outcome
from kernel_synth.synth.budget import parse_duration

FORWARD = frozenset({"compile", "crash", "timeout", "forward", "nondeterminism"})


class FakeWorkers(BatchExecutor):
    """`workers` simulated cores: each runs one batch at a time, in the order
    submitted (batches beyond the cores wait, as they do for real workers),
    and answers a batch of k programs k / rate seconds after it starts, with
    an "ok" outcome per program (compiled, no outputs: nothing to compare, no
    finding). One timer thread answers for all of them."""

    def __init__(self, workers: int, rate: float):
        self.workers = workers
        self.rate = rate
        self._free = [0.0] * workers  # when each core is next free (a heap)
        self._due: list[tuple[float, int, Future, int]] = []
        self._count = 0
        self._cv = threading.Condition()
        self._closed = False
        threading.Thread(target=self._answer, daemon=True).start()

    def submit(self, batch: Batch, timeout: float) -> Future:
        future: Future = Future()
        future.set_running_or_notify_cancel()
        with self._cv:
            start = max(time.monotonic(), heapq.heappop(self._free))
            due = start + len(batch.texts) / self.rate
            heapq.heappush(self._free, due)
            self._count += 1
            heapq.heappush(self._due, (due, self._count, future, len(batch.texts)))
            self._cv.notify()
        return future

    def _answer(self) -> None:
        with self._cv:
            while not self._closed:
                if not self._due:
                    self._cv.wait()
                    continue
                due, _, future, size = self._due[0]
                if due > time.monotonic():
                    self._cv.wait(due - time.monotonic())
                    continue
                heapq.heappop(self._due)
                future.set_result([Outcome("ok") for _ in range(size)])

    def shutdown(self) -> None:
        with self._cv:
            self._closed = True
            self._cv.notify()


@dataclass(frozen=True)
class FakePlacement:
    rate: float
    name: str = "fake"

    def executor(self, *, needs_device: bool, side: bool, nice: int = 0):
        rate = self.rate
        return lambda factory, options, *, workers, root: FakeWorkers(workers, rate)


def driver_ceiling(workers: int, rate: float, budget: float) -> dict:
    from kernel_synth.synth.campaign import Campaign, CampaignConfig

    corpus = Path(tempfile.mkdtemp(prefix="sim-cluster-"))
    try:
        config = CampaignConfig(budget=budget, backends=("warp-cpu",), workers=workers, corpus=corpus, oracles=FORWARD, placement=FakePlacement(rate))
        cpu, wall = time.process_time(), time.perf_counter()
        summary = Campaign(config).run()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        shutil.rmtree(corpus, ignore_errors=True)
    programs = summary["programs"]
    return {
        "workers": workers, "programs": programs, "rate": programs / wall, "ideal": workers * rate,
        "driver_cpu_per_program_ms": 1000 * cpu / max(programs, 1), "driver_cpu_share": cpu / wall, "batch_size": summary["batch_size"],
    }


def driver_steps(n: int) -> dict:
    """Milliseconds per program of each step the driver takes, on n programs."""
    from kernel_synth.backends.reference_backend import ReferenceBackend
    from kernel_synth.grammar import print_program
    from kernel_synth.grammar.sampling import draw_program
    from kernel_synth.synth.campaign import Bucket, State
    from kernel_synth.synth.corpus import library_versions, store_finding
    from kernel_synth.synth.files import write_atomic
    from kernel_synth.synth.oracles import Finding, judge

    steps = {}
    began = time.perf_counter()
    programs = [draw_program(0, i) for i in range(n)]
    steps["draw"] = (time.perf_counter() - began) / n
    began = time.perf_counter()
    for program in programs:
        print_program(program)
    steps["print"] = (time.perf_counter() - began) / n
    began = time.perf_counter()
    references = ReferenceBackend().compile(programs, launch=16, seed=0)
    steps["reference"] = (time.perf_counter() - began) / n
    began = time.perf_counter()
    for reference in references:
        judge("warp-cpu", reference, reference, FORWARD)
    steps["judge"] = (time.perf_counter() - began) / n
    root = Path(tempfile.mkdtemp(prefix="sim-cluster-io-"))
    try:
        # a state as a long campaign leaves it: history full, forty buckets
        state = State(seed=0, programs=10**7)
        state.history = [[float(i), i * 100, i, 40] for i in range(2000)]
        state.buckets = {f"sig{i}": Bucket(f"sig{i}", "warp-cpu", "compile", hits=i, cases=[f"/c/{i}.kernel"]) for i in range(40)}
        text = json.dumps(state.to_json(), indent=1)
        began = time.perf_counter()
        for _ in range(20):
            write_atomic(root / "state.json", text)
        steps["state_write_per_batch"] = (time.perf_counter() - began) / 20
        steps["state_bytes"] = len(text)
        finding = Finding("warp-cpu", "compile", "codegen", "warp-cpu:codegen:sim", "a simulated error")
        versions = library_versions()
        began = time.perf_counter()
        for i, program in enumerate(programs[:20]):
            store_finding(root, finding, program, versions=versions, seed=0, launch=16, weights="default", index=i, size_before=1, size_after=None)
        steps["corpus_write_per_finding"] = (time.perf_counter() - began) / 20
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return steps


def ray_dispatch(actors: int, batches: int) -> dict:
    """The driver's CPU per batch through RayExecutor, echo backend, and the
    warm-up of a warp-cpu actor against its warm batch."""
    import ray

    from kernel_synth.backends.executor import ProcessExecutor
    from kernel_synth.backends.pool import BatchPool
    from kernel_synth.backends.ray_executor import ActorResources, RayExecutor
    from kernel_synth.backends.registry import BACKENDS
    from kernel_synth.grammar import print_program
    from kernel_synth.grammar.sampling import draw_program

    tests = Path(__file__).resolve().parent.parent / "tests"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    try:
        programs = [draw_program(0, i) for i in range(32 * batches)]

        def echo(factory, options, *, workers, root):
            # no CPU held: more actors than this machine's cores, as many nodes would have
            return RayExecutor(factory, options, workers=workers, resources=ActorResources(num_cpus=0), env={"PYTHONPATH": str(tests)})

        def driver_cost(executor) -> tuple[float, float]:
            """The driver's CPU ms per batch of 32, and batches/s, once every worker is warm."""
            with BatchPool("pool_fakes:EchoBackend", workers=actors, executor=executor) as pool:
                pool.run(programs[: 32 * actors], batch_size=32)
                cpu, wall = time.process_time(), time.perf_counter()
                pool.run(programs, batch_size=32)
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            return 1000 * cpu / batches, batches / wall

        sys.path.insert(0, str(tests))  # the local workers inherit it
        local_ms, local_rate = driver_cost(ProcessExecutor)
        ray_ms, ray_rate = driver_cost(echo)
        result = {
            "actors": actors, "batches": batches, "driver_cpu_per_batch_ms": ray_ms, "batches_per_s": ray_rate,
            "local_driver_cpu_per_batch_ms": local_ms, "local_batches_per_s": local_rate,
        }

        executor = RayExecutor(BACKENDS["warp-cpu"].factory, {}, workers=1)
        try:
            batch = Batch(tuple(print_program(p) for p in programs[:32]), 16, 0)
            began = time.perf_counter()
            executor.submit(batch, 300).result()
            cold = time.perf_counter() - began
            began = time.perf_counter()
            executor.submit(batch, 300).result()
            warm = time.perf_counter() - began
        finally:
            executor.shutdown()
        result.update({"warp_actor_first_batch_s": cold, "warp_actor_warm_batch_s": warm, "warm_up_s": cold - warm})
        return result
    finally:
        ray.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=20.0, help="programs/s one core compiles (bench_executors.py's local figure / workers)")
    parser.add_argument("--workers", default="2,8,32,128", help="simulated worker counts")
    parser.add_argument("--budget", default="30s", help="each simulated campaign")
    parser.add_argument("--steps", type=int, default=300, help="programs for the step-by-step costs")
    parser.add_argument("--actors", type=int, default=16, help="Ray actors for the dispatch measurement (0: skip it)")
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--cores", type=int, default=16)
    args = parser.parse_args()

    print("1. the campaign driver fed by simulated workers")
    ceilings = []
    for workers in [int(w) for w in args.workers.split(",")]:
        c = driver_ceiling(workers, args.rate, parse_duration(args.budget))
        ceilings.append(c)
        print(
            f"  {workers:5} workers (batches of {c['batch_size']}): {c['rate']:8.1f} programs/s of {c['ideal']:8.1f} ideal ({c['rate'] / c['ideal']:.2f}); "
            f"driver CPU {c['driver_cpu_per_program_ms']:.2f} ms/program, {c['driver_cpu_share']:.0%} of a core",
            flush=True,
        )
    print("2. the driver's steps, per program")
    steps = driver_steps(args.steps)
    for name in ("draw", "print", "reference", "judge"):
        print(f"  {name:10} {1000 * steps[name]:7.2f} ms")
    print(f"  state.json {steps['state_bytes'] / 1024:.0f} KiB written atomically: {1000 * steps['state_write_per_batch']:.2f} ms per batch")
    print(f"  a corpus case: {1000 * steps['corpus_write_per_finding']:.2f} ms per new bucket")
    per_program = steps["draw"] + steps["print"] + steps["reference"] + steps["judge"]
    ray_figures = None
    if args.actors:
        print("3. Ray's share")
        ray_figures = ray_dispatch(args.actors, args.batches)
        print(
            f"  {ray_figures['actors']} echo actors: driver CPU {ray_figures['driver_cpu_per_batch_ms']:.2f} ms per batch of 32, "
            f"{ray_figures['batches_per_s']:.0f} batches/s through the pool; {ray_figures['actors']} local echo workers: "
            f"{ray_figures['local_driver_cpu_per_batch_ms']:.2f} ms, {ray_figures['local_batches_per_s']:.0f} batches/s"
        )
        print(
            f"  a warp-cpu actor: first batch {ray_figures['warp_actor_first_batch_s']:.1f} s, warm {ray_figures['warp_actor_warm_batch_s']:.2f} s: "
            f"warm-up {ray_figures['warm_up_s']:.1f} s per actor"
        )

    cores = args.nodes * args.cores
    needed = cores * args.rate
    ceiling = 1 / per_program
    print(f"\n{args.nodes} nodes x {args.cores} cores at {args.rate:g} programs/s per core: the driver must take {needed:,.0f} programs/s")
    print(f"  its serial steps (draw, print, reference, judge) cost {1000 * per_program:.2f} ms a program: at most {ceiling:,.0f} programs/s on one core")
    print(f"  first bottleneck: the driver's drawing and reference, {needed / ceiling:,.0f}x short; every other step is far behind:")
    batch = cores * 32
    print(
        f"    state: one {steps['state_bytes'] / 1024:.0f} KiB write per batch of {batch:,} programs ({1000 * steps['state_write_per_batch']:.1f} ms, "
        f"{needed / batch * steps['state_write_per_batch']:.2%} of a core at {needed / batch:.2f} batches/s)"
    )
    print(f"    corpus: {1000 * steps['corpus_write_per_finding']:.1f} ms per new bucket (buckets come at most a few a minute)")
    if ray_figures:
        print(
            f"    Ray: {needed / 32:,.0f} batches of 32 a second x {ray_figures['driver_cpu_per_batch_ms']:.2f} ms = "
            f"{needed / 32 * ray_figures['driver_cpu_per_batch_ms'] / 1000:.1f} cores of driver CPU"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
