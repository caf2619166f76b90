"""Shrinking with candidates judged in groups (one module each) against one
candidate at a time, on the same findings in the same run.

    KERNEL_SYNTH_FAULTS=wrong:floor python benchmarks/bench_shrink.py [--backend faulty-warp-cpu] [--findings 4]

Draws programs (seed 0) until `--findings` of them give a finding on the
backend, then shrinks each twice through the campaign's judge
(`synth.triage.shrink_finding`, one worker each): grouped and one at a time.
Prints per finding the wall seconds of each and whether both ended on the
same program, then the ratio of the totals (one at a time / grouped: above 1
means grouping is faster). Meant for a forward or compile finding: a crash
or a hang is shrunk one at a time either way.
"""

from __future__ import annotations

import argparse
import time

from kernel_synth.grammar import print_program
from kernel_synth.grammar.sampling import draw_program
from kernel_synth.synth.oracles import FORWARD_ORACLES
from kernel_synth.synth.triage import SHRINK_TESTS, Launch, Triage, shrink_finding


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", default="faulty-warp-cpu")
    parser.add_argument("--findings", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--search", type=int, default=2000, help="programs drawn at most while looking for findings")
    args = parser.parse_args()

    launch = Launch(threads=16, seed=args.seed)
    found = []
    with Triage(frozenset(FORWARD_ORACLES), launch, workers=2) as triage:
        for first in range(0, args.search, 64):
            programs = [draw_program(args.seed, i, None) for i in range(first, first + 64)]
            for verdict in triage.forward(args.backend, programs):
                if verdict.finding is not None and len(found) < args.findings:
                    found.append(verdict)
            if len(found) >= args.findings:
                break
    if not found:
        raise SystemExit(f"no finding on {args.backend} in {args.search} programs: set KERNEL_SYNTH_FAULTS or pick a backend with findings")

    totals = {True: 0.0, False: 0.0}
    for verdict in found:
        row = {}
        for grouped in (True, False):
            with Triage(frozenset(FORWARD_ORACLES), launch, workers=1) as triage:
                triage.forward(args.backend, [verdict.program])  # start the worker outside the timing
                began = time.monotonic()
                result = shrink_finding(triage, verdict.finding, verdict.program, began + 600, SHRINK_TESTS, grouped=grouped)
                took = time.monotonic() - began
            totals[grouped] += took
            row[grouped] = (took, result[0] if result else None)
        same = row[True][1] is not None and row[False][1] is not None and print_program(row[True][1].program) == print_program(row[False][1].program)
        tests = [row[g][1].tests if row[g][1] else 0 for g in (True, False)]
        print(f"{verdict.finding.signature}: grouped {row[True][0]:.1f} s ({tests[0]} tests), one at a time {row[False][0]:.1f} s ({tests[1]} tests), same program: {same}", flush=True)
    print(f"total: grouped {totals[True]:.1f} s, one at a time {totals[False]:.1f} s, ratio {totals[False] / max(totals[True], 1e-9):.2f}")


if __name__ == "__main__":
    main()
