"""End-to-end fuzzing throughput on warp-cpu, against the naive pipeline.

    python benchmarks/bench_fuzz.py [--budget 60s] [--workers N]

Runs a `synth fuzz` campaign on warp-cpu with the forward oracle for the budget
(default workers: the number of cores), then compiles the same number of the
same programs the naive way in this run: one module per kernel, forward and
backward, in one process, each launched once. Prints programs/s of both and
the ratio (target >= 5x).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from kernel_synth.grammar.sampling import draw_program
from kernel_synth.synth.budget import parse_duration
from kernel_synth.synth.campaign import Campaign, CampaignConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", default="60s")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--baseline-programs", type=int, default=60, help="how many programs the slow baseline compiles")
    args = parser.parse_args()

    corpus = Path(tempfile.mkdtemp(prefix="bench-fuzz-"))
    config = CampaignConfig(budget=parse_duration(args.budget), backends=("warp-cpu",), seed=args.seed, workers=args.workers, corpus=corpus, oracles=frozenset({"compile", "crash", "timeout", "forward"}))
    start = time.perf_counter()
    summary = Campaign(config).run()
    campaign_rate = summary["programs"] / (time.perf_counter() - start)
    print(f"campaign: {summary['programs']} programs in {summary['wall_seconds']:.0f} s = {campaign_rate:.2f} programs/s ({args.workers} workers, forward oracle)")

    from kernel_synth.backends.warp_backend import WarpCompiler

    naive = WarpCompiler("cpu", tempfile.mkdtemp(prefix="bench-naive-"), backward=True, run=True)
    naive.compile([draw_program(args.seed, 10**6)])  # warm: Warp's start-up is not compilation
    count = min(args.baseline_programs, summary["programs"]) or args.baseline_programs
    start = time.perf_counter()
    for index in range(count):
        naive.compile([draw_program(args.seed, index)])
    naive_rate = count / (time.perf_counter() - start)
    print(f"baseline: {count} programs one module per kernel, forward+backward, one process = {naive_rate:.2f} programs/s")
    ratio = campaign_rate / naive_rate
    print(f"ratio: {ratio:.2f}x (target >= 5x: {'PASS' if ratio >= 5 else 'FAIL'})")


if __name__ == "__main__":
    main()
