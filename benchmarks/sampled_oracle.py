"""What a sampled oracle of the JAX backends (synth.oracles.SAMPLED_OPTIONS)
costs a jax-cpu campaign: shared by the benchmarks of those oracles.

The same campaign (jax-cpu, same seed and budget) without the oracle, then
with it on each share of the programs, then without it again, in one run;
each with it is reported as programs/s and its ratio to the mean of the two
without it (their difference is the machine's noise).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from kernel_synth.synth.budget import parse_duration
from kernel_synth.synth.campaign import Campaign, CampaignConfig
from kernel_synth.synth.oracles import SAMPLED_OPTIONS, Oracle


def campaign_arguments(parser: argparse.ArgumentParser, shares: list[float]) -> None:
    """The options of the campaign comparison (beside a benchmark's own)."""
    parser.add_argument("--budget", default="60s")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--share", type=float, nargs="+", default=shares, help="shares of the programs the oracle judges")
    parser.add_argument("--json", help="write the figures as JSON")


def campaign(budget: float, seed: int, workers: int, oracles: frozenset[str], shares: dict[str, float]) -> dict:
    corpus = Path(tempfile.mkdtemp(prefix="bench-sampled-oracle-"))
    config = CampaignConfig(budget=budget, backends=("jax-cpu",), seed=seed, workers=workers, corpus=corpus, oracles=oracles, **shares)
    return Campaign(config).run()


def compare_campaigns(oracle: Oracle, args: argparse.Namespace, what: str) -> dict:
    """Campaigns without `oracle`, with it at each --share, and without it
    again; prints each and returns the rows (written to --json if given).
    `what` says what the oracle compares, for the printed lines."""
    # the oracles every campaign runs: the cheap ones, no other sampled one
    without = frozenset({"compile", "crash", "timeout", "forward", "nondeterminism"})
    option = f"{SAMPLED_OPTIONS[oracle]}_share"
    budget = parse_duration(args.budget)
    before = campaign(budget, args.seed, args.workers, without, {})
    print(f"without {oracle}: {before['throughput']:.2f} programs/s ({before['programs']} programs)", flush=True)
    runs = {share: campaign(budget, args.seed, args.workers, without | {oracle.value}, {option: share}) for share in args.share}
    after = campaign(budget, args.seed, args.workers, without, {})
    print(f"without {oracle}, again: {after['throughput']:.2f} programs/s ({after['programs']} programs)", flush=True)
    base = (before["throughput"] + after["throughput"]) / 2
    rows = {
        f"without {oracle}": {"programs/s": before["throughput"], "programs": before["programs"]},
        f"without {oracle}, again": {"programs/s": after["throughput"], "programs": after["programs"]},
    }
    for share, summary in runs.items():
        judged = summary[oracle.value.replace("-", "_")]
        ratio = summary["throughput"] / max(base, 1e-9)
        compared = sum(judged["compared"].values())
        label = f"{oracle} on {share:g} of programs"
        rows[label] = {"programs/s": summary["throughput"], "ratio": round(ratio, 3), "programs": summary["programs"], "compared": compared, "findings": judged["findings"]}
        print(
            f"{label}: {summary['throughput']:.2f} programs/s = {ratio:.2f} of the campaigns without it "
            f"({summary['programs']} programs, {compared} {what}, {judged['findings']} findings)",
            flush=True,
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return rows
