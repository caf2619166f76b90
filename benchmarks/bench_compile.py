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

What batching removes is the fixed cost of a module (compiler start, headers,
loading); what it cannot remove is each kernel's own compile time. Both are
printed, fitted on modules of 1, 2, 4 and 8 copies of one program, with the
estimate they give of the equal-options ratio in one process:
(fixed + marginal) / marginal.

`--population drawn` measures the programs as drawn at the default profile
(a tail of large kernels, deep branches full of vector and matrix
expressions, weighs on the mean);
`--population mid-sized` measures the n programs of a 5n draw whose AST size
is closest to the draw's median, the kind of kernel the targets were set on.

    python benchmarks/bench_compile.py [--n 40] [--seed 0] [--targets cpu,cuda] [--population drawn|mid-sized]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import tempfile
import time


def _programs(n: int, seed: int, population: str) -> list:
    """n + 1 programs (the first warms the process) of the population."""
    from kernel_synth.grammar.sampling import draw_programs
    from kernel_synth.grammar.stats import ast_size

    if population == "drawn":
        return list(draw_programs(n + 1, seed))
    pool = list(draw_programs(5 * (n + 1), seed))
    sizes = sorted(ast_size(p) for p in pool)
    median = sizes[len(sizes) // 2]
    return sorted(pool, key=lambda p: abs(ast_size(p) - median))[: n + 1]


def _measure(target: str, mode: str, n: int, seed: int, population: str, queue) -> None:
    from kernel_synth.grammar.stats import ast_size
    from kernel_synth.backends.warp_backend import WarpCompiler

    programs = _programs(n, seed, population)
    if mode == "module-cost":
        _measure_module_cost(target, programs, queue)
        return
    if mode == "per-kernel":
        sizes = sorted(ast_size(p) for p in programs[1:])
        print(f"warp-{target}, {population} programs: AST size median {sizes[len(sizes) // 2]}, mean {sum(sizes) / len(sizes):.1f}, max {sizes[-1]}", flush=True)
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


def _measure_module_cost(target: str, programs, queue, copies=(1, 2, 4, 8), samples=3) -> None:
    """Fixed cost of a module and marginal cost of a kernel in it: a module of
    k copies of one program (k in `copies`, best of two), fitted by least
    squares as fixed + k * marginal; the medians over `samples` programs."""
    from kernel_synth.backends.warp_backend import WarpCompiler

    compiler = WarpCompiler(target, tempfile.mkdtemp(prefix=f"bench-{target}-module-cost-"), backward=True, run=False)
    compiler.compile(programs[:1])
    fixed, marginal = [], []
    for program in programs[1 : samples + 1]:
        seconds = []
        for k in copies:
            runs = []
            for _ in range(2):
                start = time.perf_counter()
                compiler.compile([program] * k)  # the copies are suffixed apart, so k kernels
                runs.append(time.perf_counter() - start)
            seconds.append(min(runs))
        mean_k, mean_s = statistics.fmean(copies), statistics.fmean(seconds)
        slope = sum((k - mean_k) * (s - mean_s) for k, s in zip(copies, seconds)) / sum((k - mean_k) ** 2 for k in copies)
        marginal.append(slope)
        fixed.append(mean_s - slope * mean_k)
    queue.put({"target": target, "mode": "module-cost", "fixed": statistics.median(fixed), "marginal": statistics.median(marginal)})


def _measure_pipeline(target: str, mode: str, n: int, programs, queue) -> None:
    from kernel_synth.backends.pool import BatchPool

    workers = os.cpu_count() or 1
    options = {"backward": mode == "pipeline", "run": False}
    with BatchPool(f"kernel_synth.backends.warp_backend:warp_{target}", options, workers=workers, timeout=600) as pool:
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
    parser.add_argument("--population", choices=("drawn", "mid-sized"), default="drawn")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    rows = []
    for target in args.targets.split(","):
        for mode in ("module-cost", "per-kernel", "batched", "batched-forward", "pipeline", "pipeline-forward"):
            queue = ctx.Queue()
            process = ctx.Process(target=_measure, args=(target, mode, args.n, args.seed, args.population, queue))
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
        cost = by_mode.pop("module-cost")
        estimate = (cost["fixed"] + cost["marginal"]) / cost["marginal"]
        summary[target] = {
            "population": args.population,
            "rows": by_mode,
            "module_fixed_seconds": cost["fixed"],
            "kernel_marginal_seconds": cost["marginal"],
            "equal_options_estimate": estimate,
            "ratio_equal_options": equal,
            "ratio_forward_only": forward,
            "ratio_pipeline_equal_options": pipeline,
            "ratio_pipeline_forward_only": pipeline_forward,
        }
        print(f"warp-{target}: {args.n} kernels ({args.population})")
        for mode, row in by_mode.items():
            print(f"  {mode:16s} {row['seconds_per_kernel'] * 1000:8.1f} ms/kernel  ({row['compiled']}/{args.n} compiled)")
        print(f"  a module costs {cost['fixed'] * 1000:.0f} ms plus {cost['marginal'] * 1000:.0f} ms per kernel in it (fitted on copies of 3 programs),")
        print(f"  so batching in one process at equal options can give about (fixed + marginal) / marginal = {estimate:.2f}x")
        print(f"  ratio, batched vs per-kernel, equal options: {equal:.2f}x (target >= {want_equal}x: {'PASS' if equal >= want_equal else 'FAIL'})")
        print(f"  ratio, batched forward-only vs per-kernel forward+backward: {forward:.2f}x (target >= {want_forward}x: {'PASS' if forward >= want_forward else 'FAIL'})")
        workers = os.cpu_count() or 1
        print(f"  ratio, pipeline ({workers} workers) vs per-kernel, equal options: {pipeline:.2f}x (target >= {want_equal}x: {'PASS' if pipeline >= want_equal else 'FAIL'})")
        print(f"  ratio, pipeline ({workers} workers) forward-only vs per-kernel forward+backward: {pipeline_forward:.2f}x (target >= {want_forward}x: {'PASS' if pipeline_forward >= want_forward else 'FAIL'})")
    if args.json:
        print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
