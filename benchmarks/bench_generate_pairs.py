"""Dataset pairs per second: `synth generate` against one module per kernel.

For each target, in one run:
  - the product: `synth generate --count N --backend B` (DatasetRun, the
    worker pool, one worker per core), rows with forward and backward IR;
    its rate is taken between the first chunk's commit and the last, so
    that starting the workers is left out, as it is from the baseline;
  - the baseline: the same programs (parsed back from the rows written),
    each compiled as its own module, forward and backward, its IR
    extracted, one after another in one warm process: what the template
    generators of ../shared/seeds/ did;
and the ratio of the two rates against its target (warp-cpu >= 5x,
warp-cuda >= 3x), split into what the product's compile options give
(warp-cpu builds at optimisation level 0, which leaves the generated C++,
the rows' IR, unchanged: the baseline again at that level) and what
batching and the pool give; printed beside the seeds' own figures (about 0.7-0.8
pairs/s on Warp's CPU path, 20-30 pairs/s for CUDA code generation alone).
jax-cpu is measured as the product alone (the seeds' 239/s were for
one-line functions).

    python benchmarks/bench_generate_pairs.py [--n 160] [--seed 0] [--targets warp-cpu,warp-cuda,jax-cpu]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import tempfile
import time
from pathlib import Path

SEEDS = {"warp-cpu": "0.7-0.8 pairs/s", "warp-cuda": "20-30 pairs/s (code generation only, no NVRTC compile)", "jax-cpu": "239/s (one-line functions)"}
TARGETS = {"warp-cpu": 5.0, "warp-cuda": 3.0}


def _product(backend: str, n: int, seed: int, out: Path) -> dict:
    from kernel_synth.synth.dataset import DatasetConfig, DatasetRun

    marks: list[tuple[float, int]] = []

    def on_event(kind: str, data: dict) -> None:
        if kind == "progress":
            marks.append((time.perf_counter(), data["rows"]))

    config = DatasetConfig(count=n, backends=(backend,), out=out, seed=seed, workers=os.cpu_count() or 1, corpus=out.parent / "corpus")
    start = time.perf_counter()
    summary = DatasetRun(config, on_event=on_event).run()
    wall = time.perf_counter() - start
    (t0, rows0), (t1, rows1) = marks[0], marks[-1]
    return {"rows": summary["rows"], "wall_seconds": wall, "pairs_per_second": (rows1 - rows0) / max(t1 - t0, 1e-9), "skipped": summary["skipped"]}


def _baseline(backend: str, dsl: list[str], queue, optimization_level: int | None = None) -> None:
    """In a fresh process: each program its own module, one after another
    (at Warp's default optimisation level, as the seeds compiled, unless told)."""
    from kernel_synth.backends.warp_backend import WarpCompiler
    from kernel_synth.grammar import parse

    programs = [parse(text, "<row>") for text in dsl]
    target = backend.split("-")[1]
    compiler = WarpCompiler(target, tempfile.mkdtemp(prefix=f"bench-pairs-{target}-"), backward=True, run=False, ir=True, ptx=target == "cuda", optimization_level=optimization_level)
    compiler.compile(programs[:1])  # warm: Warp's start-up is not compilation
    start = time.perf_counter()
    made = sum(bool(o.ok and o.artifacts) for p in programs for o in compiler.compile([p]))
    elapsed = time.perf_counter() - start
    queue.put({"pairs": made, "seconds": elapsed, "pairs_per_second": made / elapsed})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=160, help="rows per target (default 160)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--targets", default="warp-cpu,warp-cuda,jax-cpu")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from kernel_synth.synth.dataset import compile_options, read_rows

    ctx = mp.get_context("spawn")
    results = {}
    for backend in args.targets.split(","):
        out = Path(tempfile.mkdtemp(prefix="bench-pairs-")) / "rows.jsonl"
        product = _product(backend, args.n, args.seed, out)
        result = {"product": product}
        if backend in TARGETS:
            dsl = [row["dsl"] for row in read_rows(out)]
            level = compile_options(backend, True).get("optimization_level")
            for name, options in (("baseline", None), ("baseline_same_level", level)):
                if name == "baseline_same_level" and level is None:
                    continue
                queue = ctx.Queue()
                process = ctx.Process(target=_baseline, args=(backend, dsl, queue, options))
                process.start()
                result[name] = queue.get()
                process.join()
            result["ratio"] = product["pairs_per_second"] / result["baseline"]["pairs_per_second"]
        results[backend] = result
        workers = os.cpu_count() or 1
        print(f"{backend}: {product['rows']} rows, forward and backward IR")
        print(f"  synth generate ({workers} workers): {product['pairs_per_second']:.2f} pairs/s (wall {product['wall_seconds']:.1f} s with worker start-up)")
        if "baseline" in result:
            base = result["baseline"]
            target = TARGETS[backend]
            print(f"  one module per kernel, one process: {base['pairs_per_second']:.2f} pairs/s ({base['pairs']} pairs in {base['seconds']:.1f} s)")
            print(f"  ratio {result['ratio']:.2f}x (target >= {target}x: {'PASS' if result['ratio'] >= target else 'FAIL'})")
            same = result.get("baseline_same_level")
            if same:  # how much of the ratio is the optimisation level, how much batching and the pool
                print(
                    f"  of which the optimisation level (one module per kernel at the product's level: {same['pairs_per_second']:.2f} pairs/s): "
                    f"{same['pairs_per_second'] / base['pairs_per_second']:.2f}x; batching and the pool: {product['pairs_per_second'] / same['pairs_per_second']:.2f}x"
                )
        print(f"  the seeds' figure: {SEEDS[backend]}")
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
