"""Batched Warp compilation against one module per kernel, in one run.

For warp-cpu and warp-cuda (NVRTC), on the same generated programs, in one
warm process per configuration: seconds per kernel for
  - one module per kernel, forward+backward (the baseline),
  - one batched module, forward+backward (equal options),
  - one batched module, forward only (what a forward oracle needs),
  - the product's pipeline: batches in the worker pool (one worker per core,
    warmed first), forward+backward (equal options) and forward only,
and the ratios of the baseline to each. Every configuration compiles into a
fresh kernel cache, so nothing is served from a cache.

    python benchmarks/bench_compile.py [--n 40] [--seed 0] [--targets cpu,cuda]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import tempfile
import time


def _measure(target: str, mode: str, n: int, seed: int, queue) -> None:
    from grammar.sampling import draw_programs
    from backends.warp_backend import WarpCompiler

    programs = list(draw_programs(n + 1, seed))
    if mode.startswith("pipeline"):
        _measure_pipeline(target, mode, n, programs, queue)
        return
    workdir = tempfile.mkdtemp(prefix=f"bench-{target}-{mode}-")
    compiler = WarpCompiler(target, workdir, backward=(mode != "batched-forward"), run=False)
    compiler.compile(programs[:1])  # warm the process: Warp's own start-up is not compilation
    programs = programs[1:]
    start = time.perf_counter()
    if mode == "per-kernel":
        outcomes = [o for p in programs for o in compiler.compile([p])]
    else:
        outcomes = compiler.compile(programs)
    elapsed = time.perf_counter() - start
    queue.put({"target": target, "mode": mode, "seconds_per_kernel": elapsed / n, "compiled": sum(o.ok for o in outcomes)})


def _measure_pipeline(target: str, mode: str, n: int, programs, queue) -> None:
    from backends.pool import BatchPool

    workers = os.cpu_count() or 1
    options = {"backward": mode == "pipeline", "run": False}
    with BatchPool(f"backends.warp_backend:warp_{target}", options, workers=workers, timeout=600) as pool:
        pool.run(programs[:1] * workers, batch_size=1)  # start and warm every worker
        start = time.perf_counter()
        outcomes = pool.run(programs[1:], batch_size=-(-n // workers))
        elapsed = time.perf_counter() - start
    queue.put({"target": target, "mode": mode, "seconds_per_kernel": elapsed / n, "compiled": sum(o.ok for o in outcomes)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--targets", default="cpu,cuda")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    rows = []
    for target in args.targets.split(","):
        for mode in ("per-kernel", "batched", "batched-forward", "pipeline", "pipeline-forward"):
            queue = ctx.Queue()
            process = ctx.Process(target=_measure, args=(target, mode, args.n, args.seed, queue))
            process.start()
            rows.append(queue.get())
            process.join()
    targets = {"cpu": (2.5, 5.0), "cuda": (1.5, 3.0)}
    summary = {}
    for target in args.targets.split(","):
        by_mode = {r["mode"]: r for r in rows if r["target"] == target}
        base = by_mode["per-kernel"]["seconds_per_kernel"]
        equal = base / by_mode["batched"]["seconds_per_kernel"]
        forward = base / by_mode["batched-forward"]["seconds_per_kernel"]
        want_equal, want_forward = targets[target]
        pipeline = base / by_mode["pipeline"]["seconds_per_kernel"]
        pipeline_forward = base / by_mode["pipeline-forward"]["seconds_per_kernel"]
        summary[target] = {
            "rows": by_mode,
            "ratio_equal_options": equal,
            "ratio_forward_only": forward,
            "ratio_pipeline_equal_options": pipeline,
            "ratio_pipeline_forward_only": pipeline_forward,
        }
        print(f"warp-{target}: {args.n} kernels")
        for mode, row in by_mode.items():
            print(f"  {mode:16s} {row['seconds_per_kernel'] * 1000:8.1f} ms/kernel  ({row['compiled']}/{args.n} compiled)")
        print(f"  ratio, batched vs per-kernel, equal options: {equal:.2f}x (target >= {want_equal}x: {'PASS' if equal >= want_equal else 'FAIL'})")
        print(f"  ratio, batched forward-only vs per-kernel forward+backward: {forward:.2f}x (target >= {want_forward}x: {'PASS' if forward >= want_forward else 'FAIL'})")
        workers = os.cpu_count() or 1
        print(f"  ratio, pipeline ({workers} workers) vs per-kernel, equal options: {pipeline:.2f}x (target >= {want_equal}x: {'PASS' if pipeline >= want_equal else 'FAIL'})")
        print(f"  ratio, pipeline ({workers} workers) forward-only vs per-kernel forward+backward: {pipeline_forward:.2f}x (target >= {want_forward}x: {'PASS' if pipeline_forward >= want_forward else 'FAIL'})")
    if args.json:
        print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
