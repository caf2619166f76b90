"""Validity of generated programs on every backend available here.

    python benchmarks/bench_validity.py --n 1000 --seed 0 [--launch 16] [--workers 2] [--weights P.toml] [--known-bugs avoid|draw]

Draws N programs, compiles them on each backend present (warp-cpu compiled and
run; warp-cuda compiled through NVRTC, run only where a GPU exists; jax-cpu and
jax-cuda when the JAX backend is importable; the NumPy reference), and prints
the share compiled per backend and the share of programs whose forward outputs
agree across the runnable backends (warp-cpu, jax-cpu, reference) within
tolerance. Every failure and every disagreement is listed with its program:
each one is either a compiler finding or a bug of ours. As a campaign does, the
draws leave out the triggers of the known Warp bugs the installed release has
(backends.warp_release.KNOWN_BUGS); `--known-bugs draw` keeps them.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time

from kernel_synth.grammar import print_program
from kernel_synth.grammar.sampling import draw_programs
from kernel_synth.grammar.weights import load_weights
from kernel_synth.backends.compare import compare_outputs
from kernel_synth.backends.pool import BatchPool
from kernel_synth.backends.registry import BACKENDS
from kernel_synth.backends.signature import signature
from kernel_synth.synth.campaign import avoiding_known_bugs
from kernel_synth.synth.oracles import recognised


def _available() -> list[str]:
    names = ["reference"]
    if importlib.util.find_spec("warp"):
        names += ["warp-cpu", "warp-cuda"]
    if importlib.util.find_spec("jax") and importlib.util.find_spec("kernel_synth.backends.jax_backend"):
        names += ["jax-cpu", "jax-cuda"]
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--launch", type=int, default=16, help="threads per launch")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--backends", default=",".join(_available()))
    parser.add_argument("--json", metavar="FILE", help="write the figures and every failure as JSON")
    parser.add_argument("--weights", metavar="PROFILE", help="draw under this weights profile (default: the shipped one)")
    parser.add_argument("--known-bugs", choices=("avoid", "draw"), default="avoid", help="leave out the known Warp bugs' triggers (as `synth fuzz` does), or draw them")
    args = parser.parse_args()

    weights = load_weights(args.weights)
    backends = args.backends.split(",")
    if args.known_bugs == "avoid":
        weights = avoiding_known_bugs(weights, backends)
    print(f"weights: {weights.name}")
    programs = list(draw_programs(args.n, args.seed, weights))
    results = {}
    for name in backends:
        start = time.perf_counter()
        with BatchPool(BACKENDS[name].factory, {}, workers=args.workers, timeout=300) as pool:
            results[name] = pool.run(programs, batch_size=25, launch=args.launch, seed=args.seed)
        elapsed = time.perf_counter() - start
        ok = sum(o.ok for o in results[name])
        print(f"{name:10s} compiled {ok}/{args.n} = {100 * ok / args.n:.2f}%   ({elapsed:.0f} s)", flush=True)

    runnable = [b for b in ("reference", "warp-cpu", "jax-cpu") if b in results]
    agree = 0
    disagreements = []
    for index, program in enumerate(programs):
        outcomes = {b: results[b][index] for b in runnable}
        if not all(o.ok and o.outputs is not None for o in outcomes.values()):
            continue
        first = outcomes[runnable[0]]
        # the reference runs a sample of a large launch's threads (and leaves
        # its Acc arrays out): only those threads' elements are compared, as
        # the forward oracle compares them
        within = {"threads": first.threads, "scales": first.scales}
        found = {b: compare_outputs(first.outputs, o.outputs, **within) for b, o in outcomes.items() if b != runnable[0]}
        found = {b: m for b, m in found.items() if m}
        if found:
            disagreements.append((index, found))
        else:
            agree += 1
    print(f"forward agreement across {', '.join(runnable)}: {agree}/{args.n} = {100 * agree / args.n:.2f}%  (target >= 99%)")
    # programs a compiler bug already on record fails (synth.oracles.KNOWN_SIGNATURES):
    # what is left is where a new bug, or a mistake of ours, would show
    known = {i for b in backends for i, o in enumerate(results[b]) if not o.ok and recognised(signature(b, o.stage, o.message or ""))}
    rest = args.n - len(known)
    print(f"  of the {rest} programs no known compiler bug fails: {agree}/{rest} = {100 * agree / max(rest, 1):.2f}% agree")
    for name in backends:
        share = sum(o.ok for o in results[name]) / args.n
        print(f"  {name}: {'PASS' if share >= 0.995 else 'FAIL'} compile share (target >= 99.5%)")

    failures = [(b, i, o) for b in backends for i, o in enumerate(results[b]) if not o.ok]
    for backend, index, outcome in failures:
        print(f"\n=== {backend}: program {index} {outcome.status}: {outcome.message.splitlines()[0] if outcome.message else ''}")
        print(print_program(programs[index]))
    for index, found in disagreements:
        print(f"\n=== disagreement, program {index}:")
        for backend, mismatches in found.items():
            print(f"  {runnable[0]} vs {backend}: " + "; ".join(str(m) for m in mismatches[:3]))
        print(print_program(programs[index]))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(
                {
                    "n": args.n,
                    "compiled": {b: sum(o.ok for o in results[b]) for b in backends},
                    "agree": agree,
                    "known_bug_programs": sorted(known),
                    "failures": [{"backend": b, "index": i, "status": o.status, "message": o.message} for b, i, o in failures],
                    "disagreements": [{"index": i, "backends": {b: [str(x) for x in m] for b, m in f.items()}} for i, f in disagreements],
                },
                handle,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
