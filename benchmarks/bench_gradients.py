"""What the gradient oracle costs a campaign, and how much of it it judges.

    python benchmarks/bench_gradients.py [--budget 60s] [--share F ...] [--per-check N ...] [--workers N]

Runs the same campaign (warp-cpu, same seed and budget) once with the
forward oracles only, then once with the gradient oracle added for each
--share value (the share of eligible programs sent to be checked, by hash;
default 1) and each --per-check value (the most eligible programs one
gradient check takes, the newest waiting; 0: the campaign's default, a
batch's size), in this one run. Prints programs/s of each,
its ratio to the forward-only campaign (target >= 0.75), and the share of the
programs with a float input array whose gradients were compared (target >= 0.6).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from kernel_synth.synth.budget import parse_duration
from kernel_synth.synth.campaign import Campaign, CampaignConfig

FORWARD = frozenset({"compile", "crash", "timeout", "forward", "nondeterminism"})


def campaign(budget: float, seed: int, workers: int, oracles: frozenset[str], per_check: int | None, share: float = 1.0) -> dict:
    corpus = Path(tempfile.mkdtemp(prefix="bench-gradients-"))
    config = CampaignConfig(
        budget=budget, backends=("warp-cpu",), seed=seed, workers=workers, corpus=corpus, oracles=oracles,
        gradient_per_check=per_check, gradient_share=share,
    )
    return Campaign(config).run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", default="60s")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--share", type=float, nargs="+", default=[1.0], help="the share of eligible programs sent to be checked (default 1)")
    parser.add_argument("--per-check", type=int, nargs="+", default=[0], help="the most programs one gradient check takes (0: a batch's size)")
    parser.add_argument("--json", help="write the figures as JSON")
    args = parser.parse_args()
    budget = parse_duration(args.budget)

    base = campaign(budget, args.seed, args.workers, FORWARD, None)
    rows = {"forward only": {"programs/s": base["throughput"], "ratio": 1.0}}
    print(f"forward only: {base['throughput']:.2f} programs/s ({base['programs']} programs)")
    for per_check, share in [(p, s) for s in args.share for p in args.per_check]:
        summary = campaign(budget, args.seed, args.workers, FORWARD | {"gradient"}, per_check or None, share)
        gradient = summary["gradient"]
        ratio = summary["throughput"] / max(base["throughput"], 1e-9)
        label = f"gradient, share {share:g}, {'a batch' if not per_check else per_check} per check"
        rows[label] = {"programs/s": summary["throughput"], "ratio": round(ratio, 3), **gradient}
        print(
            f"{label}: {summary['throughput']:.2f} programs/s = {ratio:.2f} of forward only (target >= 0.75); "
            f"compared {gradient['checked']} of {gradient['candidates']} programs with a float input array = "
            f"{gradient['compared_share']:.0%} (target >= 60%); eligible {gradient['eligible']}; "
            f"excluded {gradient['excluded']}; findings {gradient['findings']}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
