"""What the jit-eager oracle costs a jax-cpu campaign.

    python benchmarks/bench_jit_eager.py [--budget 60s] [--share F ...] [--workers N] [--seed S]
    python benchmarks/bench_jit_eager.py --in-process N [--seed S]

Runs the same campaign (jax-cpu, same seed and budget) without the
jit-eager oracle, then with it for each --share value (the share of programs
also run op by op under jax.disable_jit), then without it again, in this one
run. Prints programs/s of each, its ratio to the mean of the two campaigns
without the oracle (their difference is the machine's noise), and how many
programs the oracle compared.

With --in-process N, instead: the first N programs of the seed through one
jax-cpu compiler in this process, every one run both ways; prints the CPU
seconds of the eager runs against those of the jitted path (render, lower,
compile, two launches), robust to other work on the machine, and how far
apart the two runs' float outputs are (bit-identical programs, the largest
relative and absolute difference).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from sampled_oracle import campaign_arguments, compare_campaigns

from kernel_synth.synth.oracles import Oracle


def in_process(count: int, seed: int) -> dict:
    from kernel_synth.backends.jax_backend import jax_cpu
    from kernel_synth.grammar.sampling import draw_program

    compiler = jax_cpu(eager=1.0)
    eager_seconds = 0.0
    run_eagerly = compiler._eager

    def timed(*args):
        nonlocal eager_seconds
        began = time.process_time()
        try:
            return run_eagerly(*args)
        finally:
            eager_seconds += time.process_time() - began

    compiler._eager = timed
    total = 0.0
    with_floats = identical = 0
    largest_relative = largest_absolute = 0.0
    for start in range(0, count, 32):
        programs = [draw_program(seed, i) for i in range(start, min(start + 32, count))]
        began = time.process_time()
        outcomes = compiler.compile(programs, launch=16)
        total += time.process_time() - began
        for outcome in outcomes:
            if not outcome.ok or outcome.eager is None or not outcome.eager.ok:
                continue
            names = [n for n, v in outcome.outputs.items() if v.dtype.kind == "f"]
            if not names:
                continue
            with_floats += 1
            identical += all(np.array_equal(outcome.outputs[n], outcome.eager.outputs[n], equal_nan=True) for n in names)
            for name in names:
                jitted, eager = outcome.outputs[name].astype(np.float64), outcome.eager.outputs[name].astype(np.float64)
                finite = np.isfinite(jitted) & np.isfinite(eager)
                if finite.any():
                    apart = np.abs(jitted - eager)[finite]
                    largest_absolute = max(largest_absolute, float(apart.max()))
                    largest_relative = max(largest_relative, float((apart / np.maximum(np.abs(eager[finite]), 1e-30)).max()))
    jitted_seconds = total - eager_seconds
    return {
        "programs": count, "with_float_outputs": with_floats, "bit_identical": identical,
        "largest_relative": largest_relative, "largest_absolute": largest_absolute,
        "jitted_cpu_seconds": round(jitted_seconds, 1), "eager_cpu_seconds": round(eager_seconds, 1),
        "eager_per_jitted": round(eager_seconds / max(jitted_seconds, 1e-9), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    campaign_arguments(parser, [1.0, 0.25])
    parser.add_argument("--in-process", type=int, metavar="N", help="N programs run both ways in this process instead of campaigns")
    args = parser.parse_args()
    if args.in_process:
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
        figures = in_process(args.in_process, args.seed)
        print(
            f"{figures['programs']} programs, {figures['with_float_outputs']} with float outputs: {figures['bit_identical']} bit-identical "
            f"jitted and eager; largest difference {figures['largest_relative']:.2g} relative, {figures['largest_absolute']:.2g} absolute; "
            f"CPU seconds: eager runs {figures['eager_cpu_seconds']}, jitted path {figures['jitted_cpu_seconds']} "
            f"(eager = {figures['eager_per_jitted']} of the jitted path)"
        )
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2))
        return
    compare_campaigns(Oracle.JIT_EAGER, args, "compared jitted against eager")


if __name__ == "__main__":
    main()
