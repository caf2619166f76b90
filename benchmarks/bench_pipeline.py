"""The campaign's pipeline, each figure against a baseline in the same run.

    python benchmarks/bench_pipeline.py [--budget 60s] [--workers N]

1. Without findings (warp-cpu, the forward oracles: the real compiler agrees
   with the reference): the pipeline overlapped (`--pipeline-depth 2`, the
   default) against each step in turn (depth 1, the pipeline before it).
   Prints programs/s and the fuzzing workers' utilisation for each, and the
   throughput ratio (the gain the utilisation implies, on machines where the
   main process's work does not compete with the workers for cores).
   Target: utilisation at least 0.90.
2. With findings arriving (faulty-warp-cpu with injected faults, a crash on
   atan2 and a wrong floor: new buckets are shrunk beside the fuzzing)
   against the same campaign with the oracles that find them (crash,
   forward) turned off. Prints both throughputs, the ratio (target at least
   0.70) and the wall time against the budget (target: within 5%).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from kernel_synth.synth.budget import parse_duration
from kernel_synth.synth.campaign import Campaign, CampaignConfig

FORWARD = frozenset({"compile", "crash", "timeout", "forward", "nondeterminism"})
FAULTS = "crash:atan2,wrong:floor"


def campaign(budget: float, workers: int, backend: str, oracles: frozenset[str], depth: int = 2, shrink_nice: int = 0) -> dict:
    corpus = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    config = CampaignConfig(budget=budget, backends=(backend,), workers=workers, corpus=corpus, oracles=oracles, pipeline_depth=depth, shrink_nice=shrink_nice)
    return Campaign(config).run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", default="60s")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--shrink-nice", default="0", help="the shrinker's niceness in the campaign with findings; a comma list runs one campaign each")
    parser.add_argument("--skip-depth", action="store_true", help="only the part with findings")
    args = parser.parse_args()
    budget = parse_duration(args.budget)

    if not args.skip_depth:
        rows = {}
        for depth in (1, 2):
            summary = campaign(budget, args.workers, "warp-cpu", FORWARD, depth)
            rows[depth] = (summary["throughput"], summary["utilisation"]["warp-cpu"])
            print(f"depth {depth}: {summary['programs']} programs, {summary['throughput']:.2f} programs/s, worker utilisation {rows[depth][1]:.3f}", flush=True)
        gain = rows[2][0] / max(rows[1][0], 1e-9)
        verdict = "PASS" if rows[2][1] >= 0.90 else "FAIL"
        print(f"overlapped / in turn: {gain:.2f}x throughput; utilisation {rows[1][1]:.3f} -> {rows[2][1]:.3f} (target >= 0.90: {verdict})")

    os.environ["KERNEL_SYNTH_FAULTS"] = FAULTS  # the spawned workers inherit it
    quiet = campaign(budget, args.workers, "faulty-warp-cpu", FORWARD - {"crash", "forward"})
    print(f"finding oracles off: {quiet['programs']} programs, {quiet['throughput']:.2f} programs/s, wall {quiet['wall_seconds']:.1f} s", flush=True)
    for nice in (int(n) for n in args.shrink_nice.split(",")):
        finding = campaign(budget, args.workers, "faulty-warp-cpu", FORWARD, shrink_nice=nice)
        ratio = finding["throughput"] / max(quiet["throughput"], 1e-9)
        shrinks = finding["shrink"]
        print(f"with findings (shrinker at niceness {nice}): {finding['programs']} programs, {finding['throughput']:.2f} programs/s, {len(finding['buckets'])} buckets, "
              f"{shrinks['count']} shrinks (median size ratio {shrinks['median_ratio']}, {len(shrinks['cut_short'])} cut short), wall {finding['wall_seconds']:.1f} s of {budget:.0f} s")
        over = finding["wall_seconds"] / budget - 1
        print(f"  ratio: {ratio:.2f} (target >= 0.70: {'PASS' if ratio >= 0.70 else 'FAIL'}); budget overrun {over:+.1%} (target within 5%: {'PASS' if abs(over) <= 0.05 else 'FAIL'})", flush=True)


if __name__ == "__main__":
    main()
