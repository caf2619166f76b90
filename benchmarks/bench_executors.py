"""The same campaign through the local pool and through Ray, in one run.

    python benchmarks/bench_executors.py [--budget 60s] [--workers N] [--backend warp-cpu] [--rounds 1]

Runs a campaign on `--backend` (forward oracles, the same seed) with local
worker processes, then with the same number of Ray actors on a Ray started
here with `--workers` CPUs (Ray's own start is not counted: a cluster is
started once, not per campaign; the actors' start is, as the local workers'
is). With --rounds R the two alternate R times, the first of a round
switching each round, so that a load that drifts (another user of the
cores) falls on both alike. Prints programs/s of each, the ratio Ray/local
of each round and of the totals, and Ray's overhead (target: at most 15%).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from kernel_synth.backends.executor import LOCAL
from kernel_synth.backends.ray_executor import RayPlacement, require_ray
from kernel_synth.synth.budget import parse_duration
from kernel_synth.synth.campaign import Campaign, CampaignConfig

FORWARD = frozenset({"compile", "crash", "timeout", "forward", "nondeterminism"})


def campaign(placement, args) -> tuple[float, dict]:
    corpus = Path(tempfile.mkdtemp(prefix="bench-executors-"))
    try:
        config = CampaignConfig(
            budget=parse_duration(args.budget), backends=(args.backend,), seed=args.seed, workers=args.workers,
            corpus=corpus, oracles=FORWARD, placement=placement,
        )
        summary = Campaign(config).run()
    finally:
        shutil.rmtree(corpus, ignore_errors=True)
    # programs over the campaign's own seconds (the state's elapsed), as the summary's throughput
    return summary["throughput"], summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", default="60s")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--backend", default="warp-cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()

    ray = require_ray()
    began = time.perf_counter()
    ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    print(f"ray {ray.__version__} started in {time.perf_counter() - began:.1f} s (not counted)")
    placement = RayPlacement(workers=args.workers, cluster=ray.cluster_resources())
    rates: dict[str, list[float]] = {"local": [], "ray": []}
    order = [("local", LOCAL), ("ray", placement)]
    try:
        for round_ in range(args.rounds):
            for name, where in order if round_ % 2 == 0 else order[::-1]:
                rate, summary = campaign(where, args)
                rates[name].append(rate)
                print(
                    f"round {round_ + 1} {name:5}: {summary['programs']} programs in {summary['wall_seconds']:.0f} s = {rate:.2f} programs/s "
                    f"({args.workers} workers, utilisation {summary['utilisation'].get(args.backend, 0):.2f}; load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
            print(f"round {round_ + 1} ratio ray/local: {rates['ray'][-1] / rates['local'][-1]:.3f}", flush=True)
    finally:
        ray.shutdown()
    local, on_ray = sum(rates["local"]) / args.rounds, sum(rates["ray"]) / args.rounds
    ratio = on_ray / local
    overhead = 1 - ratio
    print(f"mean programs/s: local {local:.2f}, ray {on_ray:.2f}")
    print(f"ratio ray/local: {ratio:.3f}; Ray's overhead {overhead:+.1%} (target <= 15%: {'PASS' if overhead <= 0.15 else 'FAIL'})")


if __name__ == "__main__":
    main()
