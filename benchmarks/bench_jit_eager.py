"""What the jit-eager oracle costs a jax-cpu campaign.

    python benchmarks/bench_jit_eager.py [--budget 60s] [--share F ...] [--workers N] [--seed S]

Runs the same campaign (jax-cpu, same seed and budget) without the
jit-eager oracle, then with it for each --share value (the share of programs
also run op by op under jax.disable_jit), then without it again, in this one
run. Prints programs/s of each, its ratio to the mean of the two campaigns
without the oracle (their difference is the machine's noise), and how many
programs the oracle compared.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from kernel_synth.synth.budget import parse_duration
from kernel_synth.synth.campaign import Campaign, CampaignConfig

WITHOUT = frozenset({"compile", "crash", "timeout", "forward", "nondeterminism"})


def campaign(budget: float, seed: int, workers: int, oracles: frozenset[str], share: float) -> dict:
    corpus = Path(tempfile.mkdtemp(prefix="bench-jit-eager-"))
    config = CampaignConfig(budget=budget, backends=("jax-cpu",), seed=seed, workers=workers, corpus=corpus, oracles=oracles, eager_share=share)
    return Campaign(config).run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", default="60s")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--share", type=float, nargs="+", default=[1.0, 0.25], help="shares of programs run eagerly too")
    parser.add_argument("--json", help="write the figures as JSON")
    args = parser.parse_args()
    budget = parse_duration(args.budget)

    before = campaign(budget, args.seed, args.workers, WITHOUT, 0.0)
    print(f"without jit-eager: {before['throughput']:.2f} programs/s ({before['programs']} programs)", flush=True)
    runs = {share: campaign(budget, args.seed, args.workers, WITHOUT | {"jit-eager"}, share) for share in args.share}
    after = campaign(budget, args.seed, args.workers, WITHOUT, 0.0)
    print(f"without jit-eager, again: {after['throughput']:.2f} programs/s ({after['programs']} programs)", flush=True)
    base = (before["throughput"] + after["throughput"]) / 2
    rows = {
        "without jit-eager": {"programs/s": before["throughput"], "programs": before["programs"]},
        "without jit-eager, again": {"programs/s": after["throughput"], "programs": after["programs"]},
    }
    for share, summary in runs.items():
        eager = summary["jit_eager"]
        ratio = summary["throughput"] / max(base, 1e-9)
        compared = sum(eager["compared"].values())
        label = f"jit-eager on {share:g} of programs"
        rows[label] = {"programs/s": summary["throughput"], "ratio": round(ratio, 3), "programs": summary["programs"], "compared": compared, "findings": eager["findings"]}
        print(
            f"{label}: {summary['throughput']:.2f} programs/s = {ratio:.2f} of the campaigns without it "
            f"({summary['programs']} programs, {compared} compared jitted against eager, {eager['findings']} findings)",
            flush=True,
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
