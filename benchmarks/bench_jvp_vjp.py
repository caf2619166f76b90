"""What the jvp-vjp oracle costs a jax-cpu campaign, and how close JAX's two
modes come.

    python benchmarks/bench_jvp_vjp.py --in-process N [--seed S]
    python benchmarks/bench_jvp_vjp.py [--budget 60s] [--share F ...] [--workers N] [--seed S]

With --in-process N: the first N programs of the seed through one jax-cpu
compiler in this process (the campaign's default jit-eager and vmap-loop
shares), every one differentiated both ways; prints the CPU seconds of the
jvp-vjp step against those of the rest of the path (render, lower, compile,
two launches, the other oracles' runs), robust to other work on the
machine, what was compared and skipped, and the largest difference between
the modes in units of the tolerance's eps * magnitude (the tolerance allows
backends.jvp_vjp.JVP_VJP_ROUNDINGS).

Without it: the same campaign (jax-cpu, same seed and budget) without the
oracle, then with it for each --share value, then without it again, in
this one run; prints programs/s of each and its ratio to the mean of the
two campaigns without it (their difference is the machine's noise).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from sampled_oracle import campaign_arguments, compare_campaigns

from kernel_synth.synth.campaign import CampaignConfig
from kernel_synth.synth.oracles import Oracle


def in_process(count: int, seed: int) -> dict:
    from kernel_synth.backends import jax_backend
    from kernel_synth.backends.jax_backend import jax_cpu
    from kernel_synth.grammar.sampling import draw_program

    defaults = CampaignConfig(budget=1.0)
    compiler = jax_cpu(eager=defaults.eager_share, loop=defaults.loop_share, jvp=1.0)
    step_seconds = 0.0
    step = jax_backend.jvp_vjp

    def timed(*args):
        nonlocal step_seconds
        began = time.process_time()
        try:
            return step(*args)
        finally:
            step_seconds += time.process_time() - began

    jax_backend.jvp_vjp = timed
    total = 0.0
    compared, skipped, failed, largest = 0, {}, 0, 0.0
    for start in range(0, count, 32):
        programs = [draw_program(seed, i) for i in range(start, min(start + 32, count))]
        began = time.process_time()
        outcomes = compiler.compile(programs, launch=16)
        total += time.process_time() - began
        for outcome in outcomes:
            evidence = outcome.jvp if outcome.ok else None
            if evidence is None:
                continue
            if evidence.skipped:
                skipped[evidence.skipped] = skipped.get(evidence.skipped, 0) + 1
            elif evidence.failed:
                failed += 1
            else:
                compared += 1
                largest = max(largest, abs(evidence.jvp - evidence.vjp) / max(evidence.eps * evidence.scale, 1e-300))
    rest = total - step_seconds
    return {
        "programs": count, "compared": compared, "skipped": skipped, "failed": failed,
        "largest_in_eps_magnitudes": largest,
        "rest_cpu_seconds": round(rest, 1), "jvp_vjp_cpu_seconds": round(step_seconds, 1),
        "jvp_vjp_per_rest": round(step_seconds / max(rest, 1e-9), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    campaign_arguments(parser, [0.25])
    parser.add_argument("--in-process", type=int, metavar="N", help="N programs differentiated both ways in this process instead of campaigns")
    args = parser.parse_args()
    if args.in_process:
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
        figures = in_process(args.in_process, args.seed)
        print(
            f"{figures['programs']} programs: {figures['compared']} compared, skipped {figures['skipped']}, {figures['failed']} with one mode failing; "
            f"largest difference {figures['largest_in_eps_magnitudes']:.3g} eps * magnitude; CPU seconds: jvp-vjp {figures['jvp_vjp_cpu_seconds']}, "
            f"the rest of the path {figures['rest_cpu_seconds']} (jvp-vjp = {figures['jvp_vjp_per_rest']} of the rest)"
        )
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2))
        return
    compare_campaigns(Oracle.JVP_VJP, args, "compared in both modes")


if __name__ == "__main__":
    main()
